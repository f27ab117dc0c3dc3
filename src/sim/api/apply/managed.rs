//! `metadata.managedFields`: decoding and writing the entries, the interplay with kubectl's
//! client-side apply (`last-applied-configuration`), and conflict descriptions.

use super::*;

// ---------------------------------------------------------------------------------------------
// Client-side apply interplay (kubectl manager)
// ---------------------------------------------------------------------------------------------

pub(super) fn last_applied(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Fields the client-side apply annotation describes with the value the object still has:
/// conflicts on them do not stop `kubectl apply --server-side` (kube-apiserver's
/// lastAppliedManager).
pub(super) fn allowed_by_last_applied(
    live: &Value,
    live_v: &Value,
    builtin: bool,
) -> Option<FieldSet> {
    let config: Value = serde_json::from_str(last_applied(live)?).ok()?;
    if !config.is_object() {
        return None;
    }
    let mut set = to_field_set(&config);
    strip_ignored(&mut set);
    let cmp = compare(&config, live_v, builtin);
    set.difference(&cmp.modified);
    Some(set)
}

/// The annotation kube-apiserver writes after a `kubectl` server-side apply: the applied
/// configuration without the annotation itself, JSON-encoded with a trailing newline.
pub(super) fn build_last_applied(applied: &Value) -> String {
    let mut config = applied.clone();
    if let Some(Value::Object(annotations)) = config.pointer_mut("/metadata/annotations") {
        annotations.remove(LAST_APPLIED);
    }
    format!("{config}\n")
}

// ---------------------------------------------------------------------------------------------
// managedFields entries
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) manager: String,
    pub(super) operation: String,
    pub(super) api_version: String,
    pub(super) time: Option<String>,
    pub(super) subresource: Option<String>,
    pub(super) set: FieldSet,
}

pub(super) fn decode_entries(obj: &Value) -> Vec<Entry> {
    match obj.pointer("/metadata/managedFields") {
        Some(Value::Array(list)) => decode_list(list).unwrap_or_default(),
        _ => Vec::new(),
    }
}

pub(super) fn decode_list(list: &[Value]) -> Option<Vec<Entry>> {
    list.iter()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
            let mut set = e
                .get("fieldsV1")
                .map(FieldSet::from_fields_v1)
                .unwrap_or_default();
            set.member = false;
            Some(Entry {
                manager: s("manager").unwrap_or_default(),
                operation: s("operation")?,
                api_version: s("apiVersion").unwrap_or_default(),
                time: s("time"),
                subresource: s("subresource").filter(|s| !s.is_empty()),
                set,
            })
        })
        .collect()
}

pub(super) fn encode_entry(e: &Entry) -> Value {
    let mut m = Map::new();
    m.insert("manager".into(), json!(e.manager));
    m.insert("operation".into(), json!(e.operation));
    m.insert("apiVersion".into(), json!(e.api_version));
    if let Some(t) = &e.time {
        m.insert("time".into(), json!(t));
    }
    m.insert("fieldsType".into(), json!("FieldsV1"));
    m.insert("fieldsV1".into(), e.set.to_fields_v1());
    if let Some(s) = &e.subresource {
        m.insert("subresource".into(), json!(s));
    }
    Value::Object(m)
}

/// Writes the entries in kube-apiserver's order (operation, then time to the second, then
/// manager, apiVersion, subresource); no entries removes the field.
pub(super) fn write_entries(obj: &mut Value, mut entries: Vec<Entry>) {
    let seconds = |e: &Entry| {
        e.time
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map_or(0, |t| t.as_second())
    };
    entries.sort_by(|a, b| {
        (
            &a.operation,
            seconds(a),
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                seconds(b),
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    if entries.is_empty() {
        if let Some(Value::Object(meta)) = root.get_mut("metadata") {
            meta.remove("managedFields");
        }
        return;
    }
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(encode_entry).collect()),
        );
    }
}

pub(super) fn without_managed_fields(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(Value::Object(meta)) = v.get_mut("metadata") {
        meta.remove("managedFields");
    }
    v
}

/// The applied configuration minus what an apply cannot set (status, server metadata).
pub(super) fn sanitize_config(applied: &Value) -> Value {
    let mut config = match applied {
        Value::Object(_) => applied.clone(),
        _ => json!({}),
    };
    if let Value::Object(root) = &mut config {
        root.remove("status");
        if let Some(Value::Object(meta)) = root.get_mut("metadata") {
            for f in META_NOT_APPLIED {
                meta.remove(*f);
            }
        }
    }
    config
}

/// Conflicts as reported: sorted by owner, then by field in structured-merge-diff order.
pub(super) fn describe_conflicts(
    entries: &[Entry],
    conflicts: &[(usize, FieldSet)],
) -> Vec<Conflict> {
    let mut by_owner: Vec<&(usize, FieldSet)> = conflicts.iter().collect();
    by_owner.sort_by(|(a, _), (b, _)| {
        let (a, b) = (&entries[*a], &entries[*b]);
        (&a.manager, &a.operation, &a.api_version).cmp(&(&b.manager, &b.operation, &b.api_version))
    });
    let mut out = Vec::new();
    for (i, set) in by_owner {
        let e = &entries[*i];
        for path in set.members() {
            out.push(Conflict {
                manager: e.manager.clone(),
                field: display_path(&path),
                api_version: (e.operation == "Update").then(|| e.api_version.clone()),
            });
        }
    }
    out
}
