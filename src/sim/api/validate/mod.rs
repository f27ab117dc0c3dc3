//! Admission validation for the local API server: the part of kube-apiserver 1.32's validation
//! that the served kinds need, with kube-apiserver's field paths, cause types and messages, plus
//! the unknown-field check behind `fieldValidation=Strict`.
//!
//! Objects are plain JSON values. Validation sees them as the real apiserver does after
//! defaulting: a missing `restartPolicy` counts as `Always`, a missing `imagePullPolicy` or port
//! `protocol` as set. Values inside messages are printed the way Go's validation errors print
//! them (`%q` for strings, `v1.LabelSelector{…}` for selectors); structs whose Go rendering
//! would contain pointer addresses are printed as their Go type name followed by their JSON.

mod apps;
mod batch;
mod core;
mod keda;
mod meta;
mod policy;
mod rbac;
mod strict;
#[cfg(test)]
mod tests;

use self::apps::*;
use self::batch::*;
use self::core::*;
use self::keda::*;
use self::meta::*;
use self::policy::*;
use self::rbac::*;
pub use self::strict::unknown_fields;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value, json};

use super::registry::ResourceType;
use crate::fleet::selector::Selector;

/// One reason an object is invalid, as it appears in a Status's `details.causes`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, ...
    pub reason: String,
    /// The text after the field: `Required value`, `Invalid value: "x": ...`.
    pub message: String,
    /// The dotted path: `spec.template.spec.restartPolicy`.
    pub field: String,
}

impl Cause {
    fn new(reason: &str, field: &str, message: String) -> Self {
        Self {
            reason: reason.into(),
            message,
            field: field.into(),
        }
    }
}

type Errs = Vec<Cause>;

// ---------------------------------------------------------------------------------------------
// Error constructors (k8s.io/apimachinery/pkg/util/validation/field)

fn with_detail(head: String, detail: &str) -> String {
    if detail.is_empty() {
        head
    } else {
        format!("{head}: {detail}")
    }
}

fn required(field: &str, detail: &str) -> Cause {
    Cause::new(
        "FieldValueRequired",
        field,
        with_detail("Required value".into(), detail),
    )
}

fn invalid(field: &str, bad: String, detail: &str) -> Cause {
    Cause::new(
        "FieldValueInvalid",
        field,
        with_detail(format!("Invalid value: {bad}"), detail),
    )
}

/// `field.Invalid` with `field.OmitValueType{}`: no value in the message.
fn invalid_omit(field: &str, detail: &str) -> Cause {
    Cause::new(
        "FieldValueInvalid",
        field,
        with_detail("Invalid value".into(), detail),
    )
}

fn not_supported(field: &str, bad: String, valid: &[&str]) -> Cause {
    let list: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
    let detail = if list.is_empty() {
        String::new()
    } else {
        format!("supported values: {}", list.join(", "))
    };
    Cause::new(
        "FieldValueNotSupported",
        field,
        with_detail(format!("Unsupported value: {bad}"), &detail),
    )
}

fn forbidden(field: &str, detail: &str) -> Cause {
    Cause::new(
        "FieldValueForbidden",
        field,
        with_detail("Forbidden".into(), detail),
    )
}

fn duplicate(field: &str, bad: String) -> Cause {
    Cause::new(
        "FieldValueDuplicate",
        field,
        format!("Duplicate value: {bad}"),
    )
}

fn not_found(field: &str, bad: String) -> Cause {
    Cause::new("FieldValueNotFound", field, format!("Not found: {bad}"))
}

fn too_long(field: &str, max: usize) -> Cause {
    Cause::new(
        "FieldValueTooLong",
        field,
        format!("Too long: must have at most {max} bytes"),
    )
}

const IMMUTABLE: &str = "field is immutable";

// ---------------------------------------------------------------------------------------------
// Go-style rendering of bad values

/// Go's `strconv.Quote` (`%q`).
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar as Go prints a validation error's bad value: strings quoted, numbers and booleans
/// bare, nil pointers as `"null"`. Non-scalars fall back to compact JSON.
fn go_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Null => go_quote("null"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A struct whose Go `%#v` would contain pointer addresses: its Go type, then its JSON.
fn go_struct(go_type: &str, v: &Value) -> String {
    if v.is_null() {
        return go_quote("null");
    }
    format!("{go_type}{v}")
}

fn go_string_map(m: Option<&Map<String, Value>>) -> String {
    match m {
        None => "map[string]string(nil)".into(),
        Some(m) => {
            let sorted: BTreeMap<&String, String> = m
                .iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect();
            let items: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
                .collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
    }
}

fn go_string_slice(v: &Value) -> String {
    match v.as_array() {
        None => "[]string(nil)".into(),
        Some(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|s| go_quote(s.as_str().unwrap_or_default()))
                .collect();
            format!("[]string{{{}}}", items.join(", "))
        }
    }
}

/// `*metav1.LabelSelector` as `%#v` prints it once dereferenced.
fn go_label_selector(sel: &Value) -> String {
    if sel.is_null() {
        return go_quote("null");
    }
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => {
            let items: Vec<String> = a
                .iter()
                .map(|r| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(str_at(r, "key")),
                        go_quote(str_at(r, "operator")),
                        go_string_slice(&r["values"])
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(sel.get("matchLabels").and_then(Value::as_object)),
        exprs
    )
}

fn go_int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => format!(
            "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
            go_quote(s)
        ),
        other => format!(
            "intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}",
            other.as_i64().unwrap_or_default()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn present(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

/// Drops nulls, empty lists and empty maps, recursively: apimachinery's semantic equality
/// treats unset and empty alike.
pub(in crate::sim::api) fn norm(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !vanishes(v))
                .map(|(k, v)| (k.clone(), norm(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        other => other.clone(),
    }
}

/// True when [`norm`] drops `v` from the map holding it.
fn vanishes(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(vanishes),
        _ => false,
    }
}

/// `norm(a) == norm(b)`, read in place: a pod status write compares its whole spec with the
/// stored one, and building the two normal forms was most of its validation.
pub(in crate::sim::api) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut xs = x.iter().filter(|(_, v)| !vanishes(v));
            let mut ys = y.iter().filter(|(_, v)| !vanishes(v));
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return true,
                    (Some((kx, vx)), Some((ky, vy))) if kx == ky && same(vx, vy) => {}
                    _ => return false,
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

fn immutable(errs: &mut Errs, field: &str, new: &Value, old: &Value, render: fn(&Value) -> String) {
    if !same(new, old) {
        errs.push(invalid(field, render(new), IMMUTABLE));
    }
}

// ---------------------------------------------------------------------------------------------
// Public API

/// The causes kube-apiserver 1.32 would give for refusing to create `obj` (empty: accepted).
/// The caller has already filled `metadata.name` from `generateName` and `metadata.namespace`
/// from the URL.
pub fn validate_create(rt: &ResourceType, obj: &Value) -> Vec<Cause> {
    let mut errs = vec![];
    validate_object_meta(rt, obj, &mut errs);
    validate_kind(rt, obj, &mut errs, true);
    errs
}

/// The causes for refusing to replace `old` with `new`: the create rules on `new` (but for the
/// name's syntax, fixed at creation) plus the fields that may not change.
pub fn validate_update(rt: &ResourceType, old: &Value, new: &Value) -> Vec<Cause> {
    let mut errs = vec![];
    validate_object_meta_update(new, old, &mut errs);
    if str_at(&new["metadata"], "name").is_empty() {
        errs.push(required(
            "metadata.name",
            "name or generateName is required",
        ));
    }
    validate_namespace_field(rt, &new["metadata"], &mut errs);
    if rt.group.is_empty() && rt.kind == "Pod" {
        validate_pod_update(new, old, &mut errs);
    }
    validate_kind(rt, new, &mut errs, false);
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("batch", "Job") => validate_job_update(new, old, &mut errs),
        ("apps", "Deployment" | "ReplicaSet") => immutable(
            &mut errs,
            "spec.selector",
            &new["spec"]["selector"],
            &old["spec"]["selector"],
            go_label_selector,
        ),
        ("", "ConfigMap") => validate_immutable_data(new, old, &["data", "binaryData"], &mut errs),
        ("", "Secret") => validate_immutable_data(new, old, &["data"], &mut errs),
        ("rbac.authorization.k8s.io", "RoleBinding") if !same(&new["roleRef"], &old["roleRef"]) => {
            errs.push(invalid(
                "roleRef",
                go_role_ref(&new["roleRef"]),
                "cannot change roleRef",
            ));
        }
        _ => {}
    }
    errs
}

fn validate_kind(rt: &ResourceType, obj: &Value, errs: &mut Errs, create: bool) {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => validate_pod(obj, errs),
        ("", "Service") => validate_service(obj, errs),
        ("", "ConfigMap") => validate_data_keys(obj, &["data", "binaryData"], errs),
        ("", "Secret") => validate_data_keys(obj, &["data", "stringData"], errs),
        ("", "PersistentVolumeClaim") if create => validate_pvc(obj, errs),
        ("batch", "Job") => validate_job(obj, errs, create),
        ("apps", "Deployment") => validate_replicated(obj, true, errs),
        ("apps", "ReplicaSet") => validate_replicated(obj, false, errs),
        ("policy", "PodDisruptionBudget") => validate_pdb(obj, errs),
        ("networking.k8s.io", "NetworkPolicy") => validate_network_policy(obj, errs),
        ("rbac.authorization.k8s.io", "Role") => validate_role(obj, errs),
        ("rbac.authorization.k8s.io", "RoleBinding") => validate_role_binding(obj, errs),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => validate_crd(obj, errs),
        ("keda.sh", _) if !rt.from_crd => validate_keda(rt, obj, errs),
        _ => {}
    }
}

/// The Invalid (422) Status message: `Job.batch "x" is invalid: <field>: <message>`, or with
/// several causes `... is invalid: [f1: m1, f2: m2]` (identical entries shown once).
pub fn invalid_message(rt: &ResourceType, name: &str, causes: &[Cause]) -> String {
    let head = format!("{} {} is invalid", rt.qualified_kind(), go_quote(name));
    let mut seen = BTreeSet::new();
    let msgs: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .filter(|m| seen.insert(m.clone()))
        .collect();
    match msgs.len() {
        0 => head,
        1 => format!("{head}: {}", msgs[0]),
        _ => format!("{head}: [{}]", msgs.join(", ")),
    }
}

/// The BadRequest (400) Status message kube-apiserver gives a create or update body with
/// unknown fields under `fieldValidation=Strict`:
/// `Job in version "v1" cannot be handled as a Job: strict decoding error: unknown field "spec.foo"`.
pub fn strict_message(rt: &ResourceType, unknown: &[String]) -> String {
    let list: Vec<String> = unknown
        .iter()
        .map(|u| format!("unknown field {}", go_quote(u)))
        .collect();
    format!(
        "{kind} in version {version} cannot be handled as a {kind}: strict decoding error: {}",
        list.join(", "),
        kind = rt.kind,
        version = go_quote(&rt.version),
    )
}
