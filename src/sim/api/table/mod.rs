//! Server-side printing: the `meta.k8s.io` `Table` kubectl asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`.
//!
//! Columns and cells follow kubectl 1.32's printers (`pkg/printers/internalversion`) for the
//! built-in kinds, KEDA's printer columns for its kinds, a CRD's `additionalPrinterColumns` when
//! given, and `NAME AGE` otherwise. Priority-1 columns are the `-o wide` ones; the server always
//! fills them and kubectl hides them.

mod columns;
mod rows;
#[cfg(test)]
mod tests;

use self::columns::*;
use self::rows::*;
use super::jsonpath::{go_text, jsonpath_first};

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::registry::ResourceType;
use crate::fleet::selector::Selector;

/// What `rows[].object` carries (the `includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// From the `includeObject` query parameter (`None`, `Metadata`, `Object`); absent or
    /// unknown values give the default, `Metadata`.
    pub fn from_query(v: Option<&str>) -> Self {
        match v {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// The Table versions an Accept header asks for, in the order it lists them.
fn table_versions(accept: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if media != "application/json" && media != "*/*" && media != "application/*" {
            continue;
        }
        let (mut is_table, mut group_ok, mut version, mut q_ok) = (false, false, None, true);
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "as" => is_table = v == "Table",
                "g" => group_ok = v == "meta.k8s.io",
                "v" => version = Some(v.to_string()),
                "q" => q_ok = v.parse::<f32>().map(|q| q > 0.0).unwrap_or(true),
                _ => {}
            }
        }
        if is_table && group_ok && q_ok {
            match version.as_deref() {
                Some("v1") => out.push("meta.k8s.io/v1"),
                Some("v1beta1") => out.push("meta.k8s.io/v1beta1"),
                _ => {}
            }
        }
    }
    out
}

/// True when the Accept header asks for a `Table` (meta.k8s.io v1 or v1beta1).
pub fn wants_table(accept: &str) -> bool {
    !table_versions(accept).is_empty()
}

/// The Table apiVersion to answer with: the first acceptable one the header lists
/// (`meta.k8s.io/v1` when none).
pub fn table_version(accept: &str) -> &'static str {
    table_versions(accept)
        .first()
        .copied()
        .unwrap_or("meta.k8s.io/v1")
}

/// kubectl's `duration.HumanDuration` of a signed span: more than a second in the future is
/// `<invalid>`, a little is `0s` (clock skew).
pub fn human_duration(d: SignedDuration) -> String {
    if d.as_secs() < -1 {
        "<invalid>".into()
    } else if d.is_negative() {
        "0s".into()
    } else {
        crate::fleet::duration::human_duration(d.unsigned_abs())
    }
}

fn parse_time(v: &Value) -> Option<Timestamp> {
    v.as_str()?.parse::<Timestamp>().ok()
}

/// kubectl's `translateTimestampSince`: `<unknown>` for a missing time.
fn since(v: &Value, now: Timestamp) -> String {
    match parse_time(v) {
        Some(t) => human_duration(now.duration_since(t)),
        None => "<unknown>".into(),
    }
}

/// `CreationTimestamp.UTC().Format(time.RFC3339)`, the "Created At" cells.
fn created_at(obj: &Value) -> String {
    parse_time(&obj["metadata"]["creationTimestamp"])
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into())
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .unwrap_or(0)
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn or_none(x: String) -> String {
    if x.is_empty() { "<none>".into() } else { x }
}

/// A Table as it is written out. Rows borrow their objects, so that a page of 500 pods is
/// written without a copy of any of them (at 10,000 pods the copies were most of the cost of
/// `kubectl get pods`).
#[derive(Debug, serde::Serialize)]
pub struct Table<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    metadata: Value,
    #[serde(rename = "columnDefinitions")]
    column_definitions: Vec<Value>,
    rows: Vec<Row<'a>>,
}

#[cfg(test)]
impl Table<'_> {
    /// The Table as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a Table is JSON")
    }
}

#[derive(Debug, serde::Serialize)]
struct Row<'a> {
    cells: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conditions: Option<Value>,
    #[serde(skip_serializing_if = "RowObject::is_none")]
    object: RowObject<'a>,
}

/// `rows[].object`: nothing, the object, or its `PartialObjectMetadata`.
#[derive(Debug)]
enum RowObject<'a> {
    None,
    Object(&'a Value),
    Metadata {
        api_version: &'a str,
        metadata: Option<&'a Value>,
    },
}

impl RowObject<'_> {
    fn is_none(&self) -> bool {
        matches!(self, RowObject::None)
    }
}

impl serde::Serialize for RowObject<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            RowObject::None => ser.serialize_none(),
            RowObject::Object(v) => v.serialize(ser),
            RowObject::Metadata {
                api_version,
                metadata,
            } => {
                let mut m = ser.serialize_map(Some(3))?;
                m.serialize_entry("kind", "PartialObjectMetadata")?;
                m.serialize_entry("apiVersion", api_version)?;
                match metadata {
                    Some(meta) => m.serialize_entry("metadata", meta)?,
                    None => m.serialize_entry("metadata", &serde_json::Map::new())?,
                }
                m.end()
            }
        }
    }
}

fn row_object<'a>(obj: &'a Value, include: IncludeObject, api_version: &'a str) -> RowObject<'a> {
    match include {
        IncludeObject::None => RowObject::None,
        IncludeObject::Object => RowObject::Object(obj),
        IncludeObject::Metadata => RowObject::Metadata {
            api_version,
            metadata: obj.get("metadata"),
        },
    }
}

fn table<'a>(
    column_definitions: Vec<Value>,
    rows: Vec<(Vec<Value>, Option<Value>, &'a Value)>,
    list_meta: Value,
    include: IncludeObject,
    api_version: &'a str,
) -> Table<'a> {
    let rows = rows
        .into_iter()
        .map(|(cells, conditions, obj)| Row {
            cells,
            conditions,
            object: row_object(obj, include, api_version),
        })
        .collect();
    Table {
        kind: "Table",
        api_version,
        metadata: if list_meta.is_object() {
            list_meta
        } else {
            json!({})
        },
        column_definitions,
        rows,
    }
}

/// KEDA 2.16's printer columns for its kinds, as the CRDs declare them.
fn keda_columns(rt: &ResourceType) -> Option<Vec<Value>> {
    if rt.group != "keda.sh" {
        return None;
    }
    let c = |name: &str, ty: &str, path: &str| json!({"name": name, "type": ty, "jsonPath": path});
    let cond = |ty: &str| format!(".status.conditions[?(@.type==\"{ty}\")].status");
    let age = c("Age", "date", ".metadata.creationTimestamp");
    let triggers = c("Triggers", "string", ".status.triggersTypes");
    let auths = c("Authentications", "string", ".status.authenticationsTypes");
    Some(match rt.kind.as_str() {
        "ScaledJob" => vec![
            c("Min", "integer", ".spec.minReplicaCount"),
            c("Max", "integer", ".spec.maxReplicaCount"),
            c("Ready", "string", &cond("Ready")),
            c("Active", "string", &cond("Active")),
            c("Paused", "string", &cond("Paused")),
            triggers,
            auths,
            age,
        ],
        "ScaledObject" => vec![
            c("ScaleTargetKind", "string", ".status.scaleTargetKind"),
            c("ScaleTargetName", "string", ".spec.scaleTargetRef.name"),
            c("Min", "integer", ".spec.minReplicaCount"),
            c("Max", "integer", ".spec.maxReplicaCount"),
            c("Ready", "string", &cond("Ready")),
            c("Active", "string", &cond("Active")),
            c("Fallback", "string", &cond("Fallback")),
            c("Paused", "string", &cond("Paused")),
            triggers,
            auths,
            age,
        ],
        "TriggerAuthentication" | "ClusterTriggerAuthentication" => vec![
            c("PodIdentity", "string", ".spec.podIdentity.provider"),
            c("Secret", "string", ".spec.secretTargetRef[*].name"),
            c("Env", "string", ".spec.env[*].name"),
            c("VaultAddress", "string", ".spec.hashiCorpVault.address"),
            age,
        ],
        _ => return None,
    })
}

/// Converts objects of one type to a Table. `list_meta` becomes the Table's metadata
/// (`resourceVersion`, `continue`, `remainingItemCount`); `api_version` is what
/// [`table_version`] chose.
pub fn to_table<'a, I: std::borrow::Borrow<Value>>(
    rt: &ResourceType,
    items: &'a [I],
    list_meta: Value,
    now: Timestamp,
    include_object: IncludeObject,
    api_version: &'a str,
) -> Table<'a> {
    if let Some(cols) = keda_columns(rt) {
        return to_table_with_columns(
            rt,
            &cols,
            items,
            list_meta,
            now,
            include_object,
            api_version,
        );
    }
    if !rt.builtin {
        return to_table_with_columns(rt, &[], items, list_meta, now, include_object, api_version);
    }
    let p = printer(rt);
    let defs: Vec<Value> = columns(p).iter().map(col_def).collect();
    let events_k8s = rt.group == "events.k8s.io";
    let rows = items
        .iter()
        .map(|obj| {
            let obj = obj.borrow();
            let (c, conds) = cells(p, obj, now, events_k8s);
            (c, conds, obj)
        })
        .collect();
    table(defs, rows, list_meta, include_object, api_version)
}

/// Converts custom resources to a Table using a CRD version's `additionalPrinterColumns`
/// (`[{name, type, jsonPath, description?, priority?, format?}]`), as the CRD table convertor
/// does: `Name`, then the columns (first JSONPath match only); with no columns, `Age`. `date`
/// cells are ages (`ConvertToHumanReadableDateType`), `<invalid>` for an unparsable time.
pub fn to_table_with_columns<'a, I: std::borrow::Borrow<Value>>(
    _rt: &ResourceType,
    printer_columns: &[Value],
    items: &'a [I],
    list_meta: Value,
    now: Timestamp,
    include_object: IncludeObject,
    api_version: &'a str,
) -> Table<'a> {
    if printer_columns.is_empty() {
        let cols =
            [json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"})];
        return to_table_with_columns(
            _rt,
            &cols,
            items,
            list_meta,
            now,
            include_object,
            api_version,
        );
    }
    let mut defs = vec![col_def(&col("Name", "string", 0))];
    for c in printer_columns {
        let name = s(&c["name"]);
        let description = c["description"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| {
                if name == "Age" {
                    AGE_DESC.to_string()
                } else {
                    "Custom resource definition column (in JSONPath format): ".to_string()
                        + c["jsonPath"].as_str().unwrap_or_default()
                }
            });
        defs.push(json!({
            "name": name,
            "type": c["type"].as_str().unwrap_or("string"),
            "format": c["format"].as_str().unwrap_or(""),
            "description": description,
            "priority": int(&c["priority"]),
        }));
    }
    let rows = items
        .iter()
        .map(|obj| {
            let obj = obj.borrow();
            let mut cells = vec![json!(s(&obj["metadata"]["name"]))];
            for c in printer_columns {
                let path = c["jsonPath"].as_str().unwrap_or_default();
                let ty = c["type"].as_str().unwrap_or("string");
                let cell = jsonpath_first(obj, path)
                    .map(|v| json_cell(ty, &v, now))
                    .unwrap_or(Value::Null);
                cells.push(cell);
            }
            (cells, None, obj)
        })
        .collect();
    table(defs, rows, list_meta, include_object, api_version)
}

/// `cellForJSONValue` plus the string printing of the CRD table convertor.
fn json_cell(ty: &str, v: &Value, now: Timestamp) -> Value {
    match ty {
        "string" => match v {
            Value::Null => Value::Null,
            other => json!(go_text(other)),
        },
        "integer" => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Value::from)
            .unwrap_or(Value::Null),
        "number" => v.as_f64().map(Value::from).unwrap_or(Value::Null),
        "boolean" => v.as_bool().map(Value::from).unwrap_or(Value::Null),
        "date" => match v.as_str() {
            Some(t) => match t.parse::<Timestamp>() {
                Ok(ts) => json!(human_duration(now.duration_since(ts))),
                Err(_) => json!("<invalid>"),
            },
            None => Value::Null,
        },
        _ => Value::Null,
    }
}
