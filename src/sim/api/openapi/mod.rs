//! OpenAPI v3: the `/openapi/v3` index and one document per group/version.
//!
//! kubectl 1.32 reads these for `apply`:
//! - the query-parameter verifier looks for the PATCH operation tagged with the object's
//!   `x-kubernetes-group-version-kind`; when it lists `fieldValidation`, kubectl sends
//!   `fieldValidation=Strict` and skips client-side validation;
//! - client-side apply of a built-in kind computes a strategic merge patch from the component
//!   schema carrying the kind's GVK (an array, as in Kubernetes), following `$ref`s and reading
//!   `x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy` on list and struct fields.
//!   That lookup fails on any map or list field the schema does not declare, so the built-in
//!   schemas below declare the fields of the kinds served, nested types included.
//!
//! Custom resources get permissive schemas (`x-kubernetes-preserve-unknown-fields`) and PATCH
//! operations without the strategic merge content type, so kubectl sends merge patches.

mod paths;
mod ranges;
mod schemas;
#[cfg(test)]
mod tests;

use self::paths::*;
pub use self::ranges::{OutOfRange, integer_ranges};
use self::schemas::*;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::registry::{Registry, ResourceType};

/// Adds `x-kubernetes-group-version-kind` (an array, as Kubernetes writes it on schemas).
fn with_gvks(mut schema: Value, gvks: Vec<Value>) -> Value {
    if let Some(o) = schema.as_object_mut() {
        o.insert("x-kubernetes-group-version-kind".into(), Value::Array(gvks));
    }
    schema
}

/// The object schema of a custom resource: the CRD's `openAPIV3Schema` when known, otherwise
/// any object, with `metadata` as ObjectMeta either way.
fn custom_schema(rt: &ResourceType, crd_schema: Option<Value>) -> Value {
    let mut schema = crd_schema
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"type": "object"}));
    let o = schema.as_object_mut().expect("object");
    o.entry("type").or_insert(json!("object"));
    o.entry("description").or_insert(json!(format!(
        "{} is a custom resource of {}.",
        rt.kind, rt.group
    )));
    let props = o
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("properties");
    props.insert("apiVersion".into(), json!({"type": "string"}));
    props.insert("kind".into(), json!({"type": "string"}));
    props.insert("metadata".into(), schema_ref(&expand("meta.ObjectMeta")));
    for field in ["spec", "status"] {
        props
            .entry(field)
            .or_insert(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    }
    schema
}

fn list_schema(item_schema: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": schema_ref(&expand("meta.ListMeta")),
            "items": {"type": "array", "items": schema_ref(item_schema)},
        },
    })
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(name) = x.as_str().and_then(|r| r.strip_prefix(REF)) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// The OpenAPI 3.0 document of one group/version, None when nothing is served there.
pub fn v3_group_version(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    v3_group_version_with(reg, group, version, &|_| None)
}

/// As [`v3_group_version`], taking a custom resource type's `openAPIV3Schema` (from its
/// CustomResourceDefinition) when the caller has it.
pub fn v3_group_version_with(
    reg: &Registry,
    group: &str,
    version: &str,
    crd_schema: &dyn Fn(&ResourceType) -> Option<Value>,
) -> Option<Value> {
    let types = reg.types_in(group, version);
    if types.is_empty() {
        return None;
    }
    let mut paths = BTreeMap::new();
    let mut schemas: BTreeMap<String, Value> = BTreeMap::new();
    for rt in &types {
        type_paths(rt, &mut paths);
        let name = schema_name(rt);
        let own = vec![gvk(&rt.group, &rt.version, &rt.kind)];
        let schema = match catalogue().get(&name) {
            Some(s) if rt.builtin => s.clone(),
            _ => custom_schema(rt, crd_schema(rt)),
        };
        schemas.insert(name.clone(), with_gvks(schema, own));
        schemas.insert(
            format!("{name}List"),
            with_gvks(
                list_schema(&name),
                vec![gvk(&rt.group, &rt.version, &format!("{}List", rt.kind))],
            ),
        );
    }
    // Pull in every schema the paths and kinds refer to.
    let mut pending = Vec::new();
    for p in paths.values() {
        collect_refs(p, &mut pending);
    }
    for s in schemas.values() {
        collect_refs(s, &mut pending);
    }
    let mut seen: BTreeSet<String> = schemas.keys().cloned().collect();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(s) = catalogue().get(&name) else {
            continue;
        };
        collect_refs(s, &mut pending);
        let s = match name.as_str() {
            n if n == expand("meta.Status") => with_gvks(s.clone(), vec![gvk("", "v1", "Status")]),
            n if n == expand("meta.DeleteOptions") => {
                let mut gvks = vec![gvk("", "v1", "DeleteOptions")];
                if !group.is_empty() {
                    gvks.push(gvk(group, version, "DeleteOptions"));
                }
                with_gvks(s.clone(), gvks)
            }
            n if n == expand("policy.Eviction") => {
                with_gvks(s.clone(), vec![gvk("policy", "v1", "Eviction")])
            }
            n if n == expand("core.Binding") => {
                with_gvks(s.clone(), vec![gvk("", "v1", "Binding")])
            }
            n if n == expand("as.Scale") => {
                with_gvks(s.clone(), vec![gvk("autoscaling", "v1", "Scale")])
            }
            _ => s.clone(),
        };
        schemas.insert(name, s);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {"type": "apiKey", "description": "Bearer Token authentication",
                                "name": "authorization", "in": "header"}
            }
        },
        "security": [{"BearerToken": []}],
    }))
}

/// FNV-1a, 64 bits: a stable content hash for the `?hash=` of each document's URL.
fn content_hash(doc: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in doc.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `GET /openapi/v3`: every served group/version with the URL of its document.
pub fn v3_root(reg: &Registry) -> Value {
    v3_root_with(reg, &|_| None)
}

/// As [`v3_root`], hashing the documents [`v3_group_version_with`] gives.
pub fn v3_root_with(reg: &Registry, crd_schema: &dyn Fn(&ResourceType) -> Option<Value>) -> Value {
    let mut paths = Map::new();
    for (group, versions) in reg.groups() {
        for version in versions {
            let Some(doc) = v3_group_version_with(reg, &group, &version, crd_schema) else {
                continue;
            };
            let key = index_key(&group, &version);
            paths.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={}", content_hash(&doc))}),
            );
        }
    }
    json!({"paths": paths})
}
