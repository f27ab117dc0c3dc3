//! Admission validation for the local API server: the part of kube-apiserver 1.32's validation
//! that the served kinds need, with kube-apiserver's field paths, cause types and messages, plus
//! the unknown-field check behind `fieldValidation=Strict`.
//!
//! Objects are plain JSON values. Validation sees them as the real apiserver does after
//! defaulting: a missing `restartPolicy` counts as `Always`, a missing `imagePullPolicy` or port
//! `protocol` as set. Values inside messages are printed the way Go's validation errors print
//! them (`%q` for strings, `v1.LabelSelector{…}` for selectors); structs whose Go rendering
//! would contain pointer addresses are printed as their Go type name followed by their JSON.

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
fn norm(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter_map(|(k, v)| {
                    let n = norm(v);
                    let empty = match &n {
                        Value::Null => true,
                        Value::Array(a) => a.is_empty(),
                        Value::Object(o) => o.is_empty(),
                        _ => false,
                    };
                    (!empty).then(|| (k.clone(), n))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        other => other.clone(),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    norm(a) == norm(b)
}

fn immutable(errs: &mut Errs, field: &str, new: &Value, old: &Value, render: fn(&Value) -> String) {
    if !same(new, old) {
        errs.push(invalid(field, render(new), IMMUTABLE));
    }
}

// ---------------------------------------------------------------------------------------------
// Name and value syntax (k8s.io/apimachinery/pkg/util/validation)

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push_str(&format!("'{e}', "));
    }
    s.push_str(&format!("regex used for validation is '{fmt}')"));
    s
}

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_KEY_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn dns1123_label_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(|&c| lower_alnum(c) || c == b'-')
        && lower_alnum(b[0])
        && lower_alnum(b[b.len() - 1])
}

fn dns1123_subdomain_ok(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(dns1123_label_ok)
}

fn qualified_part_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn is_dns1123_label(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !dns1123_label_ok(s) {
        if dns1123_subdomain_ok(s) {
            errs.push("must not contain dots".into());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_MSG,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

fn is_dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 253 {
        errs.push(max_len_error(253));
    }
    if !dns1123_subdomain_ok(s) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

fn is_dns1035_label(s: &str) -> Vec<String> {
    let mut errs = vec![];
    if s.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !(dns1123_label_ok(s) && s.as_bytes()[0].is_ascii_lowercase()) {
        errs.push(regex_error(
            DNS1035_LABEL_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = vec![];
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".into());
            } else {
                for m in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_MSG,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !qualified_part_ok(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = vec![];
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !(value.is_empty() || qualified_part_ok(value)) {
        errs.push(regex_error(
            LABEL_VALUE_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = vec![];
    if value.len() > 253 {
        errs.push(max_len_error(253));
    }
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.');
    if !ok {
        errs.push(regex_error(
            CONFIG_KEY_MSG,
            CONFIG_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if value == "." {
        errs.push("must not be '.'".into());
    } else if value == ".." {
        errs.push("must not be '..'".into());
    } else if value.starts_with("..") {
        errs.push("must not start with '..'".into());
    }
    errs
}

fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        vec![]
    } else {
        vec!["must be between 1 and 65535, inclusive".into()]
    }
}

fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = vec![];
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    if port.is_empty()
        || !port
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    for bad in [".", ".."] {
        if name == bad {
            return vec![format!("may not be '{bad}'")];
        }
    }
    ["/", "%"]
        .iter()
        .filter(|bad| name.contains(*bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

fn is_valid_cidr(s: &str) -> bool {
    let Some((ip, len)) = s.split_once('/') else {
        return false;
    };
    let Ok(ip) = ip.parse::<std::net::IpAddr>() else {
        return false;
    };
    let Ok(len) = len.parse::<u8>() else {
        return false;
    };
    len <= if ip.is_ipv4() { 32 } else { 128 }
}

/// Which rule a kind's `metadata.name` follows.
#[derive(Clone, Copy)]
enum NameRule {
    Subdomain,
    Label,
    Dns1035,
    PathSegment,
}

fn name_rule(rt: &ResourceType) -> NameRule {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => NameRule::Label,
        ("", "Service") => NameRule::Dns1035,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

fn name_msgs(rule: NameRule, name: &str, prefix: bool) -> Vec<String> {
    // A generateName prefix may end in '-': mask it as the real NameIsDNS* functions do.
    let masked;
    let name = if prefix && name.len() > 1 && name.ends_with('-') {
        masked = format!("{}a", &name[..name.len() - 1]);
        masked.as_str()
    } else {
        name
    };
    match rule {
        NameRule::Subdomain => is_dns1123_subdomain(name),
        NameRule::Label => is_dns1123_label(name),
        NameRule::Dns1035 => is_dns1035_label(name),
        NameRule::PathSegment => is_valid_path_segment_name(name),
    }
}

// ---------------------------------------------------------------------------------------------
// Object metadata (apimachinery/pkg/api/validation/objectmeta.go)

fn validate_labels(labels: &Value, path: &str, errs: &mut Errs) {
    let Some(m) = labels.as_object() else { return };
    for (k, v) in m {
        for msg in is_qualified_name(k) {
            errs.push(invalid(path, go_quote(k), &msg));
        }
        let v = v.as_str().unwrap_or_default();
        for msg in is_valid_label_value(v) {
            errs.push(invalid(path, go_quote(v), &msg));
        }
    }
}

fn validate_annotations(annotations: &Value, path: &str, errs: &mut Errs) {
    let Some(m) = annotations.as_object() else {
        return;
    };
    let mut total = 0;
    for (k, v) in m {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(invalid(path, go_quote(k), &msg));
        }
        total += k.len() + v.as_str().map(str::len).unwrap_or_default();
    }
    if total > TOTAL_ANNOTATION_SIZE {
        errs.push(too_long(path, TOTAL_ANNOTATION_SIZE));
    }
}

fn validate_object_meta(rt: &ResourceType, obj: &Value, errs: &mut Errs) {
    let meta = &obj["metadata"];
    let rule = name_rule(rt);
    let generate_name = str_at(meta, "generateName");
    if !generate_name.is_empty() {
        for msg in name_msgs(rule, generate_name, true) {
            errs.push(invalid(
                "metadata.generateName",
                go_quote(generate_name),
                &msg,
            ));
        }
    }
    let name = str_at(meta, "name");
    if name.is_empty() {
        errs.push(required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        for msg in name_msgs(rule, name, false) {
            errs.push(invalid("metadata.name", go_quote(name), &msg));
        }
    }
    validate_namespace_field(rt, meta, errs);
    validate_labels(&meta["labels"], "metadata.labels", errs);
    validate_annotations(&meta["annotations"], "metadata.annotations", errs);
}

fn validate_namespace_field(rt: &ResourceType, meta: &Value, errs: &mut Errs) {
    if !rt.namespaced {
        return;
    }
    let ns = str_at(meta, "namespace");
    if ns.is_empty() {
        errs.push(required("metadata.namespace", ""));
    } else {
        for msg in is_dns1123_label(ns) {
            errs.push(invalid("metadata.namespace", go_quote(ns), &msg));
        }
    }
}

fn validate_object_meta_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (nm, om) = (&new["metadata"], &old["metadata"]);
    for key in ["name", "namespace"] {
        if str_at(nm, key) != str_at(om, key) {
            errs.push(invalid(
                &format!("metadata.{key}"),
                go_quote(str_at(nm, key)),
                IMMUTABLE,
            ));
        }
    }
    // An update without a uid keeps the stored one (rest.BeforeUpdate).
    let uid = str_at(nm, "uid");
    if !uid.is_empty() && uid != str_at(om, "uid") {
        errs.push(invalid("metadata.uid", go_quote(uid), IMMUTABLE));
    }
    validate_labels(&nm["labels"], "metadata.labels", errs);
    validate_annotations(&nm["annotations"], "metadata.annotations", errs);
}

// ---------------------------------------------------------------------------------------------
// Label selectors (apimachinery/pkg/apis/meta/v1/validation)

fn validate_label_selector(sel: &Value, path: &str, errs: &mut Errs) {
    if sel.is_null() {
        return;
    }
    validate_labels(&sel["matchLabels"], &format!("{path}.matchLabels"), errs);
    for (i, r) in arr(sel, "matchExpressions").iter().enumerate() {
        let rp = format!("{path}.matchExpressions[{i}]");
        let values = arr(r, "values");
        match str_at(r, "operator") {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errs.push(required(
                        &format!("{rp}.values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errs.push(forbidden(
                        &format!("{rp}.values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            op => errs.push(invalid(
                &format!("{rp}.operator"),
                go_quote(op),
                "not a valid selector operator",
            )),
        }
        let key = str_at(r, "key");
        for msg in is_qualified_name(key) {
            errs.push(invalid(&format!("{rp}.key"), go_quote(key), &msg));
        }
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or_default();
            for msg in is_valid_label_value(v) {
                errs.push(invalid(&format!("{rp}.values[{j}]"), go_quote(v), &msg));
            }
        }
    }
}

/// Whether a selector is one `LabelSelectorAsSelector` accepts.
fn selector_parses(sel: &Value) -> bool {
    Selector::from_json(sel).is_ok()
}

/// `{}` selects everything; a null selector selects nothing.
fn selector_is_empty(sel: &Value) -> bool {
    Selector::from_json(sel).is_ok_and(|s| s.is_empty())
}

fn selector_matches(sel: &Value, labels: &BTreeMap<String, String>) -> bool {
    Selector::from_json(sel).is_ok_and(|s| s.matches(labels))
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn go_btree_map(m: &BTreeMap<String, String>, nil_if_empty: bool) -> String {
    if m.is_empty() && nil_if_empty {
        return go_string_map(None);
    }
    let obj: Map<String, Value> = m
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    go_string_map(Some(&obj))
}

// ---------------------------------------------------------------------------------------------
// Pods (pkg/apis/core/validation)

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// The pod spec's `restartPolicy` after defaulting.
fn restart_policy(spec: &Value) -> &str {
    match spec.get("restartPolicy").and_then(Value::as_str) {
        Some(p) => p,
        None => "Always",
    }
}

fn validate_pod_template(template: &Value, labels: &Value, path: &str, errs: &mut Errs) {
    let meta = &template["metadata"];
    validate_labels(labels, &format!("{path}.labels"), errs);
    validate_annotations(&meta["annotations"], &format!("{path}.annotations"), errs);
    validate_pod_spec(&template["spec"], &format!("{path}.spec"), errs);
}

fn validate_pod_spec(spec: &Value, path: &str, errs: &mut Errs) {
    // Volumes.
    let mut volumes = BTreeSet::new();
    for (i, v) in arr(spec, "volumes").iter().enumerate() {
        let vp = format!("{path}.volumes[{i}]");
        let name = str_at(v, "name");
        if name.is_empty() {
            errs.push(required(&format!("{vp}.name"), ""));
        } else {
            for msg in is_dns1123_label(name) {
                errs.push(invalid(&format!("{vp}.name"), go_quote(name), &msg));
            }
            if !volumes.insert(name.to_string()) {
                errs.push(duplicate(&format!("{vp}.name"), go_quote(name)));
            }
        }
        let sources = v
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, v)| *k != "name" && !v.is_null())
                    .count()
            })
            .unwrap_or_default();
        if sources == 0 {
            errs.push(required(&vp, "must specify a volume type"));
        }
    }

    // Containers, then init containers (names unique across both).
    let containers = arr(spec, "containers");
    let mut names = BTreeSet::new();
    if containers.is_empty() {
        errs.push(required(&format!("{path}.containers"), ""));
    }
    for (i, c) in containers.iter().enumerate() {
        validate_container(
            c,
            &format!("{path}.containers[{i}]"),
            &volumes,
            &mut names,
            errs,
        );
    }
    for (i, c) in arr(spec, "initContainers").iter().enumerate() {
        validate_container(
            c,
            &format!("{path}.initContainers[{i}]"),
            &volumes,
            &mut names,
            errs,
        );
    }

    let rp = restart_policy(spec);
    if rp.is_empty() {
        errs.push(required(&format!("{path}.restartPolicy"), ""));
    } else if !RESTART_POLICIES.contains(&rp) {
        errs.push(not_supported(
            &format!("{path}.restartPolicy"),
            go_quote(rp),
            RESTART_POLICIES,
        ));
    }
    if let Some(ads) = spec.get("activeDeadlineSeconds").and_then(Value::as_i64)
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        errs.push(invalid(
            &format!("{path}.activeDeadlineSeconds"),
            ads.to_string(),
            "must be between 1 and 2147483647, inclusive",
        ));
    }
}

fn validate_container(
    c: &Value,
    path: &str,
    volumes: &BTreeSet<String>,
    names: &mut BTreeSet<String>,
    errs: &mut Errs,
) {
    let name = str_at(c, "name");
    let np = format!("{path}.name");
    if name.is_empty() {
        errs.push(required(&np, ""));
    } else {
        for msg in is_dns1123_label(name) {
            errs.push(invalid(&np, go_quote(name), &msg));
        }
    }
    if !names.insert(name.to_string()) {
        errs.push(duplicate(&np, go_quote(name)));
    }
    let image = str_at(c, "image");
    if image.is_empty() {
        errs.push(required(&format!("{path}.image"), ""));
    } else if image.trim() != image {
        errs.push(invalid(
            &format!("{path}.image"),
            go_quote(image),
            "must not have leading or trailing whitespace",
        ));
    }
    if let Some(p) = c.get("imagePullPolicy").and_then(Value::as_str) {
        if p.is_empty() {
            errs.push(required(&format!("{path}.imagePullPolicy"), ""));
        } else if !PULL_POLICIES.contains(&p) {
            errs.push(not_supported(
                &format!("{path}.imagePullPolicy"),
                go_quote(p),
                PULL_POLICIES,
            ));
        }
    }
    validate_container_ports(arr(c, "ports"), &format!("{path}.ports"), errs);
    for (i, e) in arr(c, "env").iter().enumerate() {
        if str_at(e, "name").is_empty() {
            errs.push(required(&format!("{path}.env[{i}].name"), ""));
        }
    }
    for (i, m) in arr(c, "volumeMounts").iter().enumerate() {
        let mp = format!("{path}.volumeMounts[{i}]");
        let mname = str_at(m, "name");
        if mname.is_empty() {
            errs.push(required(&format!("{mp}.name"), ""));
        } else if !volumes.contains(mname) {
            errs.push(not_found(&format!("{mp}.name"), go_quote(mname)));
        }
        if str_at(m, "mountPath").is_empty() {
            errs.push(required(&format!("{mp}.mountPath"), ""));
        }
    }
}

fn validate_container_ports(ports: &[Value], path: &str, errs: &mut Errs) {
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = format!("{path}[{i}]");
        let name = str_at(p, "name");
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(invalid(&format!("{pp}.name"), go_quote(name), &msg));
                }
            } else if !names.insert(name.to_string()) {
                errs.push(duplicate(&format!("{pp}.name"), go_quote(name)));
            }
        }
        let cp = p.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
        if cp == 0 {
            errs.push(required(&format!("{pp}.containerPort"), ""));
        } else {
            for msg in is_valid_port_num(cp) {
                errs.push(invalid(
                    &format!("{pp}.containerPort"),
                    cp.to_string(),
                    &msg,
                ));
            }
        }
        if let Some(hp) = p.get("hostPort").and_then(Value::as_i64)
            && hp != 0
        {
            for msg in is_valid_port_num(hp) {
                errs.push(invalid(&format!("{pp}.hostPort"), hp.to_string(), &msg));
            }
        }
        validate_protocol(p, &pp, errs);
    }
}

fn validate_protocol(p: &Value, path: &str, errs: &mut Errs) {
    if let Some(proto) = p.get("protocol").and_then(Value::as_str) {
        if proto.is_empty() {
            errs.push(required(&format!("{path}.protocol"), ""));
        } else if !PROTOCOLS.contains(&proto) {
            errs.push(not_supported(
                &format!("{path}.protocol"),
                go_quote(proto),
                PROTOCOLS,
            ));
        }
    }
}

fn validate_pod(obj: &Value, errs: &mut Errs) {
    validate_pod_spec(&obj["spec"], "spec", errs);
}

const POD_UPDATE_MSG: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

fn validate_pod_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    let mut munged = ns.clone();
    if !munged.is_object() {
        munged = json!({});
    }
    // Images may change.
    for key in ["containers", "initContainers"] {
        let old_list = arr(os, key);
        if let Some(list) = munged.get_mut(key).and_then(Value::as_array_mut)
            && list.len() == old_list.len()
        {
            for (c, o) in list.iter_mut().zip(old_list) {
                if let Some(c) = c.as_object_mut() {
                    match o.get("image") {
                        Some(img) => c.insert("image".into(), img.clone()),
                        None => c.remove("image"),
                    };
                }
            }
        }
    }
    // activeDeadlineSeconds may be set, or lowered.
    let new_ads = ns.get("activeDeadlineSeconds").and_then(Value::as_i64);
    let old_ads = os.get("activeDeadlineSeconds").and_then(Value::as_i64);
    match (new_ads, old_ads) {
        (Some(n), Some(o)) if n > o => errs.push(invalid(
            "spec.activeDeadlineSeconds",
            n.to_string(),
            "must be less than or equal to previous value",
        )),
        (None, Some(_)) => errs.push(invalid(
            "spec.activeDeadlineSeconds",
            go_quote("null"),
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    set_or_remove(
        &mut munged,
        "activeDeadlineSeconds",
        os.get("activeDeadlineSeconds"),
    );
    // Tolerations may only be added.
    let old_tol: Vec<Value> = arr(os, "tolerations").iter().map(norm).collect();
    let new_tol: Vec<Value> = arr(ns, "tolerations").iter().map(norm).collect();
    if old_tol.iter().all(|t| new_tol.contains(t)) {
        set_or_remove(&mut munged, "tolerations", os.get("tolerations"));
    }
    // terminationGracePeriodSeconds: negative may become 1.
    let new_grace = ns
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    let old_grace = os
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    if new_grace == Some(1) && old_grace.is_some_and(|g| g < 0) {
        set_or_remove(
            &mut munged,
            "terminationGracePeriodSeconds",
            os.get("terminationGracePeriodSeconds"),
        );
    }
    // Scheduling gates may only be removed.
    let old_gates = arr(os, "schedulingGates");
    if arr(ns, "schedulingGates")
        .iter()
        .all(|g| old_gates.contains(g))
    {
        set_or_remove(&mut munged, "schedulingGates", os.get("schedulingGates"));
    }
    let (m, o) = (norm(&munged), norm(os));
    if m != o {
        errs.push(forbidden(
            "spec",
            &format!("{POD_UPDATE_MSG}\n{}", spec_diff(&o, &m)),
        ));
    }
}

fn set_or_remove(target: &mut Value, key: &str, value: Option<&Value>) {
    if let Some(t) = target.as_object_mut() {
        match value {
            Some(v) => t.insert(key.into(), v.clone()),
            None => t.remove(key),
        };
    }
}

/// A short stand-in for the `cmp.Diff` kube-apiserver appends: the top-level spec fields that
/// differ, old (`-`) then new (`+`).
fn spec_diff(old: &Value, new: &Value) -> String {
    let empty = Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    let mut out = String::from("  core.PodSpec{\n");
    for k in keys {
        let (a, b) = (o.get(k), n.get(k));
        if a != b {
            if let Some(a) = a {
                out.push_str(&format!("- \t{k}: {a},\n"));
            }
            if let Some(b) = b {
                out.push_str(&format!("+ \t{k}: {b},\n"));
            }
        }
    }
    out.push_str("  }\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Jobs (pkg/apis/batch/validation)

const JOB_NAME_LABELS: [&str; 2] = ["job-name", "batch.kubernetes.io/job-name"];
const JOB_UID_LABELS: [&str; 2] = ["controller-uid", "batch.kubernetes.io/controller-uid"];

/// Template labels and selector as the Job strategy leaves them before validation: unless
/// `manualSelector`, the job-name and controller-uid labels are added to the template and the
/// controller-uid label to the selector.
fn job_effective(obj: &Value) -> (BTreeMap<String, String>, Value, bool) {
    let meta = &obj["metadata"];
    let (name, uid) = (str_at(meta, "name"), str_at(meta, "uid"));
    let spec = &obj["spec"];
    let manual = spec["manualSelector"].as_bool() == Some(true);
    let mut labels = string_map(&spec["template"]["metadata"]["labels"]);
    let mut selector = spec.get("selector").cloned().unwrap_or(Value::Null);
    if !manual {
        for k in JOB_NAME_LABELS {
            labels.entry(k.into()).or_insert_with(|| name.into());
        }
        for k in JOB_UID_LABELS {
            labels.entry(k.into()).or_insert_with(|| uid.into());
        }
        if !selector.is_object() {
            selector = json!({});
        }
        let ml = selector
            .as_object_mut()
            .map(|s| s.entry("matchLabels").or_insert_with(|| json!({})));
        if let Some(Value::Object(ml)) = ml {
            ml.entry(JOB_UID_LABELS[1])
                .or_insert_with(|| Value::String(uid.into()));
        }
    }
    (labels, selector, manual)
}

fn validate_job(obj: &Value, errs: &mut Errs, create: bool) {
    let (labels, selector, manual) = job_effective(obj);
    let meta = &obj["metadata"];
    let (name, uid) = (str_at(meta, "name"), str_at(meta, "uid"));
    if create && !manual {
        // validateGeneratedSelector
        let mut expected = BTreeMap::new();
        for (key, want) in [
            (JOB_UID_LABELS[0], uid),
            (JOB_NAME_LABELS[0], name),
            (JOB_UID_LABELS[1], uid),
            (JOB_NAME_LABELS[1], name),
        ] {
            let got = labels.get(key).map(String::as_str).unwrap_or_default();
            if got != want && !(want == uid && uid.is_empty()) {
                errs.push(invalid(
                    &format!("spec.template.metadata.labels[{key}]"),
                    go_btree_map(&labels, false),
                    &format!("must be '{want}'"),
                ));
            }
            expected.insert(key.to_string(), want.to_string());
        }
        if selector_parses(&selector) && !selector_matches(&selector, &expected) {
            errs.push(invalid(
                "spec.selector",
                go_label_selector(&selector),
                "`selector` not auto-generated",
            ));
        }
    }
    validate_job_spec(obj, &labels, &selector, errs);
    let spec = &obj["spec"];
    if create
        && str_at(spec, "completionMode") == "Indexed"
        && let Some(c) = spec.get("completions").and_then(Value::as_i64)
        && c > 0
    {
        let host = format!("{name}-{}", c - 1);
        if !is_dns1123_label(&host).is_empty() {
            errs.push(invalid(
                "metadata.name",
                go_quote(name),
                &format!("will not able to create pod with invalid DNS label: {host}"),
            ));
        }
    }
}

fn validate_job_spec(
    obj: &Value,
    labels: &BTreeMap<String, String>,
    selector: &Value,
    errs: &mut Errs,
) {
    let spec = &obj["spec"];
    let int = |k: &str| spec.get(k).and_then(Value::as_i64);
    for k in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ] {
        if let Some(v) = int(k)
            && v < 0
        {
            errs.push(invalid(
                &format!("spec.{k}"),
                v.to_string(),
                "must be greater than or equal to 0",
            ));
        }
        if k == "maxFailedIndexes" && int(k).is_some() && int("backoffLimitPerIndex").is_none() {
            errs.push(required(
                "spec.backoffLimitPerIndex",
                "when maxFailedIndexes is specified",
            ));
        }
    }
    let mode = spec.get("completionMode").and_then(Value::as_str);
    if let Some(m) = mode {
        if m != "NonIndexed" && m != "Indexed" {
            errs.push(not_supported(
                "spec.completionMode",
                go_quote(m),
                &["NonIndexed", "Indexed"],
            ));
        }
        if m == "Indexed" {
            if int("completions").is_none() {
                errs.push(required(
                    "spec.completions",
                    "when completion mode is Indexed",
                ));
            }
            if let Some(p) = int("parallelism")
                && p > 100_000
            {
                errs.push(invalid(
                    "spec.parallelism",
                    p.to_string(),
                    "must be less than or equal to 100000 when completion mode is Indexed",
                ));
            }
            if let (Some(c), Some(mfi)) = (int("completions"), int("maxFailedIndexes"))
                && mfi > c
            {
                errs.push(invalid(
                    "spec.maxFailedIndexes",
                    mfi.to_string(),
                    "must be less than or equal to completions",
                ));
            }
        }
    }
    if mode.is_none_or(|m| m == "NonIndexed") {
        for k in ["backoffLimitPerIndex", "maxFailedIndexes"] {
            if let Some(v) = int(k) {
                errs.push(invalid(
                    &format!("spec.{k}"),
                    v.to_string(),
                    "requires indexed completion mode",
                ));
            }
        }
    }
    let template = &spec["template"];
    let pfp = &spec["podFailurePolicy"];
    if !pfp.is_null() {
        validate_pod_failure_policy(spec, template, errs);
    }
    if present(spec, "successPolicy") && mode != Some("Indexed") {
        errs.push(invalid(
            "spec.successPolicy",
            go_struct("batch.SuccessPolicy", &spec["successPolicy"]),
            "requires indexed completion mode",
        ));
    }
    if let Some(prp) = spec.get("podReplacementPolicy").and_then(Value::as_str) {
        if !pfp.is_null() {
            if prp != "Failed" {
                errs.push(not_supported(
                    "spec.podReplacementPolicy",
                    go_quote(prp),
                    &["Failed"],
                ));
            }
        } else if prp != "Failed" && prp != "TerminatingOrFailed" {
            errs.push(not_supported(
                "spec.podReplacementPolicy",
                go_quote(prp),
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }
    let labels_value: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    validate_pod_template(
        template,
        &Value::Object(labels_value),
        "spec.template",
        errs,
    );
    let rp_path = "spec.template.spec.restartPolicy";
    let rp = restart_policy(&template["spec"]);
    if rp == "Always" || rp.is_empty() {
        errs.push(required(rp_path, "valid values: \"OnFailure\", \"Never\""));
    } else if rp != "OnFailure" && rp != "Never" {
        errs.push(not_supported(
            rp_path,
            go_quote(rp),
            &["OnFailure", "Never"],
        ));
    } else if !pfp.is_null() && rp != "Never" {
        errs.push(invalid(
            rp_path,
            go_quote(rp),
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }

    // ValidateJobSpec: the selector, and that it selects the template.
    if selector.is_null() {
        errs.push(required("spec.selector", ""));
    } else {
        validate_label_selector(selector, "spec.selector", errs);
    }
    if selector_parses(selector) && !selector_matches(selector, labels) {
        errs.push(invalid(
            "spec.template.metadata.labels",
            go_btree_map(labels, true),
            "`selector` does not match template `labels`",
        ));
    }
}

fn validate_pod_failure_policy(spec: &Value, template: &Value, errs: &mut Errs) {
    let rules = arr(&spec["podFailurePolicy"], "rules");
    let path = "spec.podFailurePolicy.rules";
    if rules.len() > 20 {
        errs.push(Cause::new(
            "FieldValueTooMany",
            path,
            format!("Too many: {}: must have at most 20 items", rules.len()),
        ));
    }
    let tspec = &template["spec"];
    let containers: BTreeSet<&str> = arr(tspec, "containers")
        .iter()
        .chain(arr(tspec, "initContainers"))
        .map(|c| str_at(c, "name"))
        .collect();
    const ACTIONS: &[&str] = &["Count", "FailIndex", "FailJob", "Ignore"];
    for (i, rule) in rules.iter().enumerate() {
        let rp = format!("{path}[{i}]");
        let action = str_at(rule, "action");
        if action.is_empty() {
            errs.push(required(
                &format!("{rp}.action"),
                "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]",
            ));
        } else if action == "FailIndex" {
            if !present(spec, "backoffLimitPerIndex") {
                errs.push(invalid(
                    &format!("{rp}.action"),
                    go_quote(action),
                    "requires the backoffLimitPerIndex to be set",
                ));
            }
        } else if !ACTIONS.contains(&action) {
            errs.push(not_supported(
                &format!("{rp}.action"),
                go_quote(action),
                ACTIONS,
            ));
        }
        let exit = &rule["onExitCodes"];
        let conds = arr(rule, "onPodConditions");
        if !exit.is_null() {
            let ep = format!("{rp}.onExitCodes");
            let op = str_at(exit, "operator");
            if op.is_empty() {
                errs.push(required(
                    &format!("{ep}.operator"),
                    "valid values: [\"In\" \"NotIn\"]",
                ));
            } else if op != "In" && op != "NotIn" {
                errs.push(not_supported(
                    &format!("{ep}.operator"),
                    go_quote(op),
                    &["In", "NotIn"],
                ));
            }
            if let Some(cn) = exit.get("containerName").and_then(Value::as_str)
                && !containers.contains(cn)
            {
                errs.push(invalid(
                    &format!("{ep}.containerName"),
                    go_quote(cn),
                    "must be one of the container or initContainer names in the pod template",
                ));
            }
            let values: Vec<i64> = arr(exit, "values")
                .iter()
                .filter_map(Value::as_i64)
                .collect();
            let render = || {
                let items: Vec<String> = values.iter().map(i64::to_string).collect();
                format!("[]int32{{{}}}", items.join(", "))
            };
            if values.is_empty() {
                errs.push(invalid(
                    &format!("{ep}.values"),
                    "[]int32(nil)".into(),
                    "at least one value is required",
                ));
            }
            let mut seen = BTreeSet::new();
            for (j, v) in values.iter().enumerate() {
                let vp = format!("{ep}.values[{j}]");
                if op == "In" && *v == 0 {
                    errs.push(invalid(
                        &vp,
                        "0".into(),
                        "must not be 0 for the In operator",
                    ));
                }
                if !seen.insert(*v) {
                    errs.push(duplicate(&vp, v.to_string()));
                }
            }
            if values.windows(2).any(|w| w[0] > w[1]) {
                errs.push(invalid(
                    &format!("{ep}.values"),
                    render(),
                    "must be ordered",
                ));
            }
        }
        for (j, c) in conds.iter().enumerate() {
            let cp = format!("{rp}.onPodConditions[{j}]");
            let t = str_at(c, "type");
            for msg in is_qualified_name(t) {
                errs.push(invalid(&format!("{cp}.type"), go_quote(t), &msg));
            }
            // status defaults to True.
            if let Some(s) = c.get("status").and_then(Value::as_str) {
                const STATUSES: &[&str] = &["False", "True", "Unknown"];
                if s.is_empty() {
                    errs.push(required(
                        &format!("{cp}.status"),
                        "valid values: [\"False\" \"True\" \"Unknown\"]",
                    ));
                } else if !STATUSES.contains(&s) {
                    errs.push(not_supported(
                        &format!("{cp}.status"),
                        go_quote(s),
                        STATUSES,
                    ));
                }
            }
        }
        if !exit.is_null() && !conds.is_empty() {
            errs.push(invalid_omit(
                &rp,
                "specifying both OnExitCodes and OnPodConditions is not supported",
            ));
        }
        if exit.is_null() && conds.is_empty() {
            errs.push(invalid_omit(
                &rp,
                "specifying one of OnExitCodes and OnPodConditions is required",
            ));
        }
    }
}

fn validate_job_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    // Completions: immutable, except that an Indexed Job may scale it together with
    // parallelism (elastic Indexed Jobs, GA in 1.31).
    let (nc, oc) = (&ns["completions"], &os["completions"]);
    if str_at(ns, "completionMode") == "Indexed" {
        if !same(nc, oc)
            && let Some(c) = nc.as_i64()
            && Some(c) != ns["parallelism"].as_i64()
        {
            errs.push(invalid(
                "spec.completions",
                c.to_string(),
                "can only be modified in tandem with spec.parallelism",
            ));
        }
    } else {
        immutable(errs, "spec.completions", nc, oc, go_scalar);
    }
    immutable(
        errs,
        "spec.selector",
        &ns["selector"],
        &os["selector"],
        go_label_selector,
    );
    // The template; while the Job is suspended and has never started, scheduling directives
    // (node selector, tolerations, node affinity, scheduling gates, labels, annotations) may
    // change.
    let (mut nt, mut ot) = (norm(&ns["template"]), norm(&os["template"]));
    let suspended = os["suspend"].as_bool() == Some(true);
    let never_started = !present(&old["status"], "startTime");
    if suspended && never_started {
        for t in [&mut nt, &mut ot] {
            if let Some(meta) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("labels");
                meta.remove("annotations");
            }
            if let Some(spec) = t.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("nodeSelector");
                spec.remove("tolerations");
                spec.remove("schedulingGates");
                if let Some(aff) = spec.get_mut("affinity").and_then(Value::as_object_mut) {
                    aff.remove("nodeAffinity");
                }
            }
            *t = norm(t);
        }
    }
    if nt != ot {
        errs.push(invalid(
            "spec.template",
            go_struct("core.PodTemplateSpec", &ns["template"]),
            IMMUTABLE,
        ));
    }
    immutable(
        errs,
        "spec.completionMode",
        &ns["completionMode"],
        &os["completionMode"],
        go_scalar,
    );
    immutable(
        errs,
        "spec.podFailurePolicy",
        &ns["podFailurePolicy"],
        &os["podFailurePolicy"],
        |v| go_struct("batch.PodFailurePolicy", v),
    );
    for k in ["backoffLimitPerIndex", "managedBy"] {
        immutable(errs, &format!("spec.{k}"), &ns[k], &os[k], go_scalar);
    }
    immutable(
        errs,
        "spec.successPolicy",
        &ns["successPolicy"],
        &os["successPolicy"],
        |v| go_struct("batch.SuccessPolicy", v),
    );
}

// ---------------------------------------------------------------------------------------------
// Deployments and ReplicaSets (pkg/apis/apps/validation)

fn nonnegative(spec: &Value, key: &str, path: &str, errs: &mut Errs) {
    if let Some(v) = spec.get(key).and_then(Value::as_i64)
        && v < 0
    {
        errs.push(invalid(
            &format!("{path}.{key}"),
            v.to_string(),
            "must be greater than or equal to 0",
        ));
    }
}

fn validate_replicated(obj: &Value, deployment: bool, errs: &mut Errs) {
    let spec = &obj["spec"];
    nonnegative(spec, "replicas", "spec", errs);
    let selector = spec.get("selector").cloned().unwrap_or(Value::Null);
    if selector.is_null() {
        errs.push(required("spec.selector", ""));
    } else {
        validate_label_selector(&selector, "spec.selector", errs);
        if selector_is_empty(&selector) {
            errs.push(invalid(
                "spec.selector",
                go_label_selector(&selector),
                "empty selector is invalid for deployment",
            ));
        }
    }
    let template = &spec["template"];
    let labels = string_map(&template["metadata"]["labels"]);
    if !selector_parses(&selector) {
        errs.push(invalid(
            "spec.selector",
            go_label_selector(&selector),
            "invalid label selector",
        ));
    } else {
        if !selector_is_empty(&selector) && !selector_matches(&selector, &labels) {
            errs.push(invalid(
                "spec.template.metadata.labels",
                go_btree_map(&labels, true),
                "`selector` does not match template `labels`",
            ));
        }
        validate_pod_template(
            template,
            &template["metadata"]["labels"],
            "spec.template",
            errs,
        );
        let rp = restart_policy(&template["spec"]);
        if rp != "Always" {
            errs.push(not_supported(
                "spec.template.spec.restartPolicy",
                go_quote(rp),
                &["Always"],
            ));
        }
        if present(&template["spec"], "activeDeadlineSeconds") {
            errs.push(forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in ReplicaSet is not Supported",
            ));
        }
    }
    if deployment {
        let strategy = &spec["strategy"];
        if let Some(t) = strategy.get("type").and_then(Value::as_str) {
            match t {
                "RollingUpdate" => {}
                "Recreate" => {
                    if present(strategy, "rollingUpdate") {
                        errs.push(forbidden(
                            "spec.strategy.rollingUpdate",
                            "may not be specified when strategy `type` is 'Recreate'",
                        ));
                    }
                }
                "" => errs.push(required("spec.strategy.type", "")),
                other => errs.push(not_supported(
                    "spec.strategy.type",
                    go_quote(other),
                    &["Recreate", "RollingUpdate"],
                )),
            }
        }
        nonnegative(spec, "revisionHistoryLimit", "spec", errs);
        if let Some(pds) = spec.get("progressDeadlineSeconds").and_then(Value::as_i64) {
            nonnegative(spec, "progressDeadlineSeconds", "spec", errs);
            let mrs = spec["minReadySeconds"].as_i64().unwrap_or(0);
            if pds <= mrs {
                errs.push(invalid(
                    "spec.progressDeadlineSeconds",
                    pds.to_string(),
                    "must be greater than minReadySeconds",
                ));
            }
        }
    }
    nonnegative(spec, "minReadySeconds", "spec", errs);
}

// ---------------------------------------------------------------------------------------------
// PodDisruptionBudgets (pkg/apis/policy/validation)

fn validate_int_or_percent(v: &Value, path: &str, errs: &mut Errs) {
    match v {
        Value::String(s) => {
            let digits = s.strip_suffix('%').unwrap_or_default();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                errs.push(invalid(
                    path,
                    go_int_or_string(v),
                    &regex_error(
                        "a valid percent string must be a numeric string followed by an ending '%'",
                        "[0-9]+%",
                        &["1%", "93%"],
                    ),
                ));
            } else if digits.parse::<u64>().is_ok_and(|p| p > 100) {
                errs.push(invalid(
                    path,
                    go_int_or_string(v),
                    "must not be greater than 100%",
                ));
            }
        }
        Value::Number(n) => {
            if n.as_i64().is_some_and(|i| i < 0) {
                errs.push(invalid(
                    path,
                    n.to_string(),
                    "must be greater than or equal to 0",
                ));
            }
        }
        other => errs.push(invalid(
            path,
            other.to_string(),
            "must be an integer or percentage (e.g '5%')",
        )),
    }
}

fn go_pdb_spec(spec: &Value) -> String {
    let ptr = |key: &str, ty: &str, addr: &str| {
        if present(spec, key) {
            format!("(*{ty})(0xc000{addr})")
        } else {
            format!("(*{ty})(nil)")
        }
    };
    format!(
        "policy.PodDisruptionBudgetSpec{{MinAvailable:{}, Selector:{}, MaxUnavailable:{}, UnhealthyPodEvictionPolicy:{}}}",
        ptr("minAvailable", "intstr.IntOrString", "1a2b40"),
        ptr("selector", "v1.LabelSelector", "1a2b60"),
        ptr("maxUnavailable", "intstr.IntOrString", "1a2b80"),
        ptr(
            "unhealthyPodEvictionPolicy",
            "policy.UnhealthyPodEvictionPolicyType",
            "1a2ba0"
        ),
    )
}

fn validate_pdb(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    let (min, max) = (&spec["minAvailable"], &spec["maxUnavailable"]);
    if !min.is_null() && !max.is_null() {
        errs.push(invalid(
            "spec",
            go_pdb_spec(spec),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    if !min.is_null() {
        validate_int_or_percent(min, "spec.minAvailable", errs);
    }
    if !max.is_null() {
        validate_int_or_percent(max, "spec.maxUnavailable", errs);
    }
    validate_label_selector(&spec["selector"], "spec.selector", errs);
    if let Some(p) = spec
        .get("unhealthyPodEvictionPolicy")
        .and_then(Value::as_str)
        && p != "AlwaysAllow"
        && p != "IfHealthyBudget"
    {
        errs.push(not_supported(
            "spec.unhealthyPodEvictionPolicy",
            go_quote(p),
            &["AlwaysAllow", "IfHealthyBudget"],
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Other core and built-in kinds

fn validate_service(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    let stype = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !TYPES.contains(&stype) {
        errs.push(not_supported("spec.type", go_quote(stype), TYPES));
    }
    let ports = arr(spec, "ports");
    let headless = str_at(spec, "clusterIP") == "None";
    if ports.is_empty() && !headless && stype != "ExternalName" {
        errs.push(required("spec.ports", ""));
    }
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = format!("spec.ports[{i}]");
        let name = str_at(p, "name");
        if ports.len() > 1 && name.is_empty() {
            errs.push(required(&format!("{pp}.name"), ""));
        } else if !name.is_empty() {
            for msg in is_dns1123_label(name) {
                errs.push(invalid(&format!("{pp}.name"), go_quote(name), &msg));
            }
            if !names.insert(name.to_string()) {
                errs.push(duplicate(&format!("{pp}.name"), go_quote(name)));
            }
        }
        let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
        for msg in is_valid_port_num(port) {
            errs.push(invalid(&format!("{pp}.port"), port.to_string(), &msg));
        }
        validate_protocol(p, &pp, errs);
        match p.get("targetPort") {
            Some(Value::Number(n)) => {
                let t = n.as_i64().unwrap_or(0);
                for msg in is_valid_port_num(t) {
                    errs.push(invalid(&format!("{pp}.targetPort"), t.to_string(), &msg));
                }
            }
            Some(Value::String(s)) => {
                for msg in is_valid_port_name(s) {
                    errs.push(invalid(&format!("{pp}.targetPort"), go_quote(s), &msg));
                }
            }
            _ => {}
        }
    }
}

fn validate_data_keys(obj: &Value, fields: &[&str], errs: &mut Errs) {
    for f in fields {
        if let Some(m) = obj[*f].as_object() {
            for k in m.keys() {
                // Secret stringData is merged into data before validation.
                let shown = if *f == "stringData" { "data" } else { f };
                for msg in is_config_map_key(k) {
                    errs.push(invalid(&format!("{shown}[{k}]"), go_quote(k), &msg));
                }
            }
        }
    }
}

fn validate_immutable_data(new: &Value, old: &Value, fields: &[&str], errs: &mut Errs) {
    if old["immutable"].as_bool() != Some(true) {
        return;
    }
    const MSG: &str = "field is immutable when `immutable` is set";
    for f in fields {
        if !same(&new[*f], &old[*f]) {
            errs.push(forbidden(f, MSG));
        }
    }
    if new["immutable"].as_bool() != Some(true) {
        errs.push(forbidden("immutable", MSG));
    }
}

fn validate_pvc(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    let modes = arr(spec, "accessModes");
    const MODES: &[&str] = &[
        "ReadOnlyMany",
        "ReadWriteMany",
        "ReadWriteOnce",
        "ReadWriteOncePod",
    ];
    if modes.is_empty() {
        errs.push(required(
            "spec.accessModes",
            "at least 1 access mode is required",
        ));
    }
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !MODES.contains(&m) {
            errs.push(not_supported("spec.accessModes", go_quote(m), MODES));
        }
    }
    if spec["resources"]["requests"].get("storage").is_none() {
        errs.push(required("spec.resources[storage]", ""));
    }
}

fn validate_network_policy(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    validate_label_selector(&spec["podSelector"], "spec.podSelector", errs);
    let types = arr(spec, "policyTypes");
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or_default();
        if t != "Ingress" && t != "Egress" {
            errs.push(not_supported(
                &format!("spec.policyTypes[{i}]"),
                go_quote(t),
                &["Ingress", "Egress"],
            ));
        }
    }
    if types.len() > 2 {
        errs.push(invalid(
            "spec.policyTypes",
            go_string_slice(&spec["policyTypes"]),
            "may not specify more than two policyTypes",
        ));
    }
    for (dir, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr(spec, dir).iter().enumerate() {
            let rp = format!("spec.{dir}[{i}]");
            for (j, port) in arr(rule, "ports").iter().enumerate() {
                let pp = format!("{rp}.ports[{j}]");
                validate_protocol(port, &pp, errs);
                match port.get("port") {
                    Some(Value::Number(n)) => {
                        let p = n.as_i64().unwrap_or(0);
                        for msg in is_valid_port_num(p) {
                            errs.push(invalid(&format!("{pp}.port"), p.to_string(), &msg));
                        }
                    }
                    Some(Value::String(s)) => {
                        for msg in is_valid_port_name(s) {
                            errs.push(invalid(&format!("{pp}.port"), go_quote(s), &msg));
                        }
                    }
                    _ => {}
                }
            }
            for (j, peer) in arr(rule, peers).iter().enumerate() {
                let pp = format!("{rp}.{peers}[{j}]");
                if let Some(ip) = peer.get("ipBlock").filter(|v| !v.is_null()) {
                    let cidr = str_at(ip, "cidr");
                    if cidr.is_empty() {
                        errs.push(required(&format!("{pp}.ipBlock.cidr"), ""));
                    } else if !is_valid_cidr(cidr) {
                        errs.push(invalid(
                            &format!("{pp}.ipBlock.cidr"),
                            go_quote(cidr),
                            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                        ));
                    }
                }
                for key in ["podSelector", "namespaceSelector"] {
                    validate_label_selector(&peer[key], &format!("{pp}.{key}"), errs);
                }
            }
        }
    }
}

fn validate_role(obj: &Value, errs: &mut Errs) {
    for (i, rule) in arr(obj, "rules").iter().enumerate() {
        let rp = format!("rules[{i}]");
        if arr(rule, "verbs").is_empty() {
            errs.push(required(
                &format!("{rp}.verbs"),
                "verbs must contain at least one value",
            ));
        }
        if !arr(rule, "nonResourceURLs").is_empty() {
            errs.push(invalid(
                &format!("{rp}.nonResourceURLs"),
                go_string_slice(&rule["nonResourceURLs"]),
                "namespaced rules cannot apply to non-resource URLs",
            ));
            continue;
        }
        if arr(rule, "apiGroups").is_empty() {
            errs.push(required(
                &format!("{rp}.apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if arr(rule, "resources").is_empty() {
            errs.push(required(
                &format!("{rp}.resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
}

fn validate_role_binding(obj: &Value, errs: &mut Errs) {
    let rr = &obj["roleRef"];
    let group = str_at(rr, "apiGroup");
    if group != "rbac.authorization.k8s.io" {
        errs.push(not_supported(
            "roleRef.apiGroup",
            go_quote(group),
            &["rbac.authorization.k8s.io"],
        ));
    }
    let kind = str_at(rr, "kind");
    if kind != "Role" && kind != "ClusterRole" {
        errs.push(not_supported(
            "roleRef.kind",
            go_quote(kind),
            &["Role", "ClusterRole"],
        ));
    }
    let name = str_at(rr, "name");
    if name.is_empty() {
        errs.push(required("roleRef.name", ""));
    } else {
        for msg in is_valid_path_segment_name(name) {
            errs.push(invalid("roleRef.name", go_quote(name), &msg));
        }
    }
    for (i, s) in arr(obj, "subjects").iter().enumerate() {
        let sp = format!("subjects[{i}]");
        let sname = str_at(s, "name");
        if sname.is_empty() {
            errs.push(required(&format!("{sp}.name"), ""));
        }
        let sgroup = str_at(s, "apiGroup");
        match str_at(s, "kind") {
            "ServiceAccount" => {
                if !sname.is_empty() {
                    for msg in is_dns1123_subdomain(sname) {
                        errs.push(invalid(&format!("{sp}.name"), go_quote(sname), &msg));
                    }
                }
                if !sgroup.is_empty() {
                    errs.push(not_supported(
                        &format!("{sp}.apiGroup"),
                        go_quote(sgroup),
                        &[""],
                    ));
                }
            }
            "User" | "Group" => {
                if sgroup != "rbac.authorization.k8s.io" {
                    errs.push(not_supported(
                        &format!("{sp}.apiGroup"),
                        go_quote(sgroup),
                        &["rbac.authorization.k8s.io"],
                    ));
                }
            }
            other => errs.push(not_supported(
                &format!("{sp}.kind"),
                go_quote(other),
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
}

fn go_role_ref(v: &Value) -> String {
    format!(
        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
        go_quote(str_at(v, "apiGroup")),
        go_quote(str_at(v, "kind")),
        go_quote(str_at(v, "name"))
    )
}

fn validate_crd(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    let group = str_at(spec, "group");
    let names = &spec["names"];
    let plural = str_at(names, "plural");
    let name = str_at(&obj["metadata"], "name");
    if !name.is_empty() && name != format!("{plural}.{group}") {
        errs.push(invalid(
            "metadata.name",
            go_quote(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        errs.push(required("spec.group", ""));
    } else if !group.contains('.') {
        errs.push(invalid(
            "spec.group",
            go_quote(group),
            "should be a domain with at least one dot",
        ));
    }
    for key in ["plural", "kind"] {
        if str_at(names, key).is_empty() {
            errs.push(required(&format!("spec.names.{key}"), ""));
        }
    }
    let scope = str_at(spec, "scope");
    if scope.is_empty() {
        errs.push(required("spec.scope", ""));
    } else if scope != "Cluster" && scope != "Namespaced" {
        errs.push(not_supported(
            "spec.scope",
            go_quote(scope),
            &["Cluster", "Namespaced"],
        ));
    }
    let versions = arr(spec, "versions");
    if versions.is_empty() {
        errs.push(invalid(
            "spec.versions",
            "[]apiextensions.CustomResourceDefinitionVersion(nil)".into(),
            "must have exactly one version marked as storage version",
        ));
    } else if versions
        .iter()
        .filter(|v| v["storage"].as_bool() == Some(true))
        .count()
        != 1
    {
        errs.push(invalid(
            "spec.versions",
            go_struct(
                "[]apiextensions.CustomResourceDefinitionVersion",
                &spec["versions"],
            ),
            "must have exactly one version marked as storage version",
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// KEDA custom resources: what their CRDs' structural schemas enforce

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Required and typed: `Required value` when missing, a schema type error when of another type.
fn schema_field(parent: &Value, key: &str, path: &str, want: &str, errs: &mut Errs) -> bool {
    let field = if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    };
    match parent.get(key) {
        None | Some(Value::Null) => {
            errs.push(required(&field, ""));
            false
        }
        Some(v) => {
            let got = json_type(v);
            let ok = got == want || (want == "number" && got == "integer");
            if !ok {
                errs.push(invalid(
                    &field,
                    go_quote(got),
                    &format!("{field} in body must be of type {want}: {}", go_quote(got)),
                ));
            }
            ok
        }
    }
}

fn validate_triggers(spec: &Value, errs: &mut Errs) {
    if schema_field(spec, "triggers", "spec", "array", errs) {
        for (i, t) in arr(spec, "triggers").iter().enumerate() {
            let tp = format!("spec.triggers[{i}]");
            schema_field(t, "type", &tp, "string", errs);
            schema_field(t, "metadata", &tp, "object", errs);
        }
    }
}

fn validate_keda(rt: &ResourceType, obj: &Value, errs: &mut Errs) {
    if !schema_field(obj, "spec", "", "object", errs) {
        return;
    }
    let spec = &obj["spec"];
    match rt.kind.as_str() {
        "ScaledJob" => {
            if schema_field(spec, "jobTargetRef", "spec", "object", errs) {
                schema_field(
                    &spec["jobTargetRef"],
                    "template",
                    "spec.jobTargetRef",
                    "object",
                    errs,
                );
            }
            validate_triggers(spec, errs);
        }
        "ScaledObject" => {
            if schema_field(spec, "scaleTargetRef", "spec", "object", errs) {
                schema_field(
                    &spec["scaleTargetRef"],
                    "name",
                    "spec.scaleTargetRef",
                    "string",
                    errs,
                );
            }
            validate_triggers(spec, errs);
        }
        "TriggerAuthentication" | "ClusterTriggerAuthentication"
            if present(spec, "secretTargetRef")
                && schema_field(spec, "secretTargetRef", "spec", "array", errs) =>
        {
            for (i, r) in arr(spec, "secretTargetRef").iter().enumerate() {
                let rp = format!("spec.secretTargetRef[{i}]");
                for key in ["parameter", "name", "key"] {
                    schema_field(r, key, &rp, "string", errs);
                }
            }
        }
        _ => {}
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

// ---------------------------------------------------------------------------------------------
// Unknown fields (fieldValidation=Strict)

type RoundTrip = fn(&Value) -> Option<Value>;

fn round_trip<K: DeserializeOwned + Serialize>(v: &Value) -> Option<Value> {
    let typed: K = serde_json::from_value(v.clone()).ok()?;
    serde_json::to_value(&typed).ok()
}

fn typed_round_trip(rt: &ResourceType) -> Option<RoundTrip> {
    use k8s_openapi::api::{
        apps::v1 as apps, batch::v1 as batch, coordination::v1 as coordination, core::v1 as core,
        events::v1 as events, networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    if !rt.builtin || rt.from_crd {
        return None;
    }
    let f: RoundTrip = match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => round_trip::<core::Namespace>,
        ("", "Node") => round_trip::<core::Node>,
        ("", "Pod") => round_trip::<core::Pod>,
        ("", "Event") => round_trip::<core::Event>,
        ("", "Secret") => round_trip::<core::Secret>,
        ("", "ConfigMap") => round_trip::<core::ConfigMap>,
        ("", "Service") => round_trip::<core::Service>,
        ("", "PersistentVolumeClaim") => round_trip::<core::PersistentVolumeClaim>,
        ("", "LimitRange") => round_trip::<core::LimitRange>,
        ("", "ServiceAccount") => round_trip::<core::ServiceAccount>,
        ("apps", "Deployment") => round_trip::<apps::Deployment>,
        ("apps", "ReplicaSet") => round_trip::<apps::ReplicaSet>,
        ("batch", "Job") => round_trip::<batch::Job>,
        ("policy", "PodDisruptionBudget") => round_trip::<policy::PodDisruptionBudget>,
        ("networking.k8s.io", "NetworkPolicy") => round_trip::<networking::NetworkPolicy>,
        ("rbac.authorization.k8s.io", "Role") => round_trip::<rbac::Role>,
        ("rbac.authorization.k8s.io", "RoleBinding") => round_trip::<rbac::RoleBinding>,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            round_trip::<apiextensions::CustomResourceDefinition>
        }
        ("coordination.k8s.io", "Lease") => round_trip::<coordination::Lease>,
        ("events.k8s.io", "Event") => round_trip::<events::Event>,
        _ => return None,
    };
    Some(f)
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn get_path<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match seg {
        Seg::Key(k) => cur.get(k.as_str()),
        Seg::Index(i) => cur.get(*i),
    })
}

fn set_path(v: &mut Value, path: &[Seg], value: Value) {
    let mut cur = v;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => cur.get_mut(k.as_str()),
            Seg::Index(i) => cur.get_mut(*i),
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    *cur = value;
}

/// Paths in `obj` that the kind's typed struct does not declare, in the object's key order:
/// `spec.template.spec.containers[0].imagePullPolicyy`. Empty for custom resources, for kinds
/// without a typed struct, and for bodies that do not decode into the struct at all.
///
/// The object is decoded into its k8s-openapi struct (which ignores unknown keys) and encoded
/// again; a key that is in `obj` but not in the round trip is unknown. A key whose value is
/// null disappears from the round trip even when declared, so it is probed: it is unknown only
/// if, with a sample value of some type in its place, the object still decodes and the key
/// is still dropped, and no sample keeps it.
pub fn unknown_fields(rt: &ResourceType, obj: &Value) -> Vec<String> {
    let Some(rtrip) = typed_round_trip(rt) else {
        return vec![];
    };
    let mut base = obj.clone();
    if let Some(m) = base.as_object_mut() {
        m.insert("apiVersion".into(), Value::String(rt.api_version()));
        m.insert("kind".into(), Value::String(rt.kind.clone()));
    } else {
        return vec![];
    }
    let Some(back) = rtrip(&base) else {
        return vec![];
    };
    let mut out = vec![];
    let mut path = vec![];
    walk_unknown(&base, &base, &back, &mut path, rtrip, &mut out);
    out
}

fn walk_unknown(
    root: &Value,
    v: &Value,
    back: &Value,
    path: &mut Vec<Seg>,
    rtrip: RoundTrip,
    out: &mut Vec<String>,
) {
    match (v, back) {
        (Value::Object(m), Value::Object(b)) => {
            for (k, child) in m {
                path.push(Seg::Key(k.clone()));
                match b.get(k) {
                    Some(bchild) => walk_unknown(root, child, bchild, path, rtrip, out),
                    None => {
                        if !child.is_null() || null_key_is_unknown(root, path, rtrip) {
                            out.push(path_string(path));
                        }
                    }
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (child, bchild)) in a.iter().zip(b).enumerate() {
                path.push(Seg::Index(i));
                walk_unknown(root, child, bchild, path, rtrip, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn null_key_is_unknown(root: &Value, path: &[Seg], rtrip: RoundTrip) -> bool {
    let samples = [
        json!("eA=="),
        json!("2000-01-01T00:00:00Z"),
        json!(1),
        json!(true),
        json!({}),
        json!([]),
    ];
    let mut decoded = false;
    for s in samples {
        let mut probe = root.clone();
        set_path(&mut probe, path, s);
        if let Some(back) = rtrip(&probe) {
            decoded = true;
            if get_path(&back, path).is_some() {
                return false;
            }
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::api::registry::Registry;

    fn rt(api_version: &str, kind: &str) -> ResourceType {
        Registry::new(true)
            .find_kind(api_version, kind)
            .unwrap_or_else(|| panic!("no type {api_version} {kind}"))
            .clone()
    }

    fn job() -> Value {
        json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "x", "namespace": "agents", "uid": "u1"},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "a"}},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "agent", "image": "busybox"}]
                    }
                }
            }
        })
    }

    fn pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "agents"},
            "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}
        })
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "agents"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "a"}},
                "template": {
                    "metadata": {"labels": {"app": "a"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}
                }
            }
        })
    }

    fn msg(rtype: &ResourceType, obj: &Value, causes: &[Cause]) -> String {
        invalid_message(rtype, str_at(&obj["metadata"], "name"), causes)
    }

    fn fields(causes: &[Cause]) -> Vec<&str> {
        causes.iter().map(|c| c.field.as_str()).collect()
    }

    #[test]
    fn valid_objects_pass() {
        assert_eq!(validate_create(&rt("batch/v1", "Job"), &job()), vec![]);
        assert_eq!(validate_create(&rt("v1", "Pod"), &pod()), vec![]);
        assert_eq!(
            validate_create(&rt("apps/v1", "Deployment"), &deployment()),
            vec![]
        );
    }

    #[test]
    fn job_restart_policy_always_and_missing() {
        let t = rt("batch/v1", "Job");
        let mut j = job();
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        let c = validate_create(&t, &j);
        assert_eq!(
            c,
            vec![Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value: valid values: \"OnFailure\", \"Never\"".into(),
                field: "spec.template.spec.restartPolicy".into(),
            }]
        );
        assert_eq!(
            msg(&t, &j, &c),
            "Job.batch \"x\" is invalid: spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
        );
        j["spec"]["template"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("restartPolicy");
        assert_eq!(validate_create(&t, &j), c);
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("Sometimes");
        let c = validate_create(&t, &j);
        assert_eq!(
            msg(&t, &j, &c),
            "Job.batch \"x\" is invalid: [spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\", spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"OnFailure\", \"Never\"]"
        );
        assert_eq!(c[0].reason, "FieldValueNotSupported");
        assert_eq!(c[1].reason, "FieldValueNotSupported");
    }

    #[test]
    fn job_missing_containers_and_template() {
        let t = rt("batch/v1", "Job");
        let mut j = job();
        j["spec"]["template"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("containers");
        let c = validate_create(&t, &j);
        assert_eq!(
            msg(&t, &j, &c),
            "Job.batch \"x\" is invalid: spec.template.spec.containers: Required value"
        );
        j["spec"].as_object_mut().unwrap().remove("template");
        let c = validate_create(&t, &j);
        assert_eq!(
            fields(&c),
            vec![
                "spec.template.spec.containers",
                "spec.template.spec.restartPolicy"
            ]
        );
    }

    #[test]
    fn pod_containers_rules() {
        let t = rt("v1", "Pod");
        let mut p = pod();
        p["spec"]["containers"] = json!([]);
        let c = validate_create(&t, &p);
        assert_eq!(
            msg(&t, &p, &c),
            "Pod \"p\" is invalid: spec.containers: Required value"
        );
        p["spec"]["containers"] = json!([
            {"name": "c", "image": "x", "ports": [{"containerPort": 70000}, {"containerPort": 80, "protocol": "HTTP"}]},
            {"name": "c", "image": ""},
            {"name": "Bad_C", "image": "y"}
        ]);
        p["spec"]["restartPolicy"] = json!("Sometimes");
        let c = validate_create(&t, &p);
        assert_eq!(
            fields(&c),
            vec![
                "spec.containers[0].ports[0].containerPort",
                "spec.containers[0].ports[1].protocol",
                "spec.containers[1].name",
                "spec.containers[1].image",
                "spec.containers[2].name",
                "spec.restartPolicy",
            ]
        );
        assert_eq!(
            c[0].message,
            "Invalid value: 70000: must be between 1 and 65535, inclusive"
        );
        assert_eq!(
            c[1].message,
            "Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""
        );
        assert_eq!(c[2].message, "Duplicate value: \"c\"");
        assert_eq!(c[2].reason, "FieldValueDuplicate");
        assert_eq!(c[3].message, "Required value");
        assert!(
            c[4].message.starts_with(
                "Invalid value: \"Bad_C\": a lowercase RFC 1123 label must consist of"
            )
        );
        assert_eq!(
            c[5].message,
            "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
        );
    }

    #[test]
    fn pod_volume_mounts_must_name_volumes() {
        let t = rt("v1", "Pod");
        let mut p = pod();
        p["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "data", "mountPath": "/d"}]);
        let c = validate_create(&t, &p);
        assert_eq!(c[0].field, "spec.containers[0].volumeMounts[0].name");
        assert_eq!(c[0].message, "Not found: \"data\"");
        p["spec"]["volumes"] = json!([{"name": "data", "emptyDir": {}}]);
        assert_eq!(validate_create(&t, &p), vec![]);
    }

    #[test]
    fn bad_names() {
        let t = rt("v1", "Pod");
        let mut p = pod();
        p["metadata"]["name"] = json!("Bad_Name");
        let c = validate_create(&t, &p);
        assert_eq!(
            msg(&t, &p, &c),
            "Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
        p["metadata"]["name"] = json!("a".repeat(254));
        let c = validate_create(&t, &p);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].message
                .ends_with(": must be no more than 253 characters")
        );

        // Missing name.
        p["metadata"].as_object_mut().unwrap().remove("name");
        let c = validate_create(&t, &p);
        assert_eq!(
            msg(&t, &p, &c),
            "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required"
        );

        // Namespaces are labels: no dots.
        let ns = rt("v1", "Namespace");
        let n = json!({"metadata": {"name": "a.b"}});
        let c = validate_create(&ns, &n);
        assert_eq!(
            msg(&ns, &n, &c),
            "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots"
        );
        let n = json!({"metadata": {"name": "Agents"}});
        let c = validate_create(&ns, &n);
        assert_eq!(
            c[0].message,
            "Invalid value: \"Agents\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        );

        // Services are DNS-1035 labels.
        let svc = rt("v1", "Service");
        let s = json!({"metadata": {"name": "1svc", "namespace": "agents"},
                       "spec": {"ports": [{"port": 80}]}});
        let c = validate_create(&svc, &s);
        assert_eq!(fields(&c), vec!["metadata.name"]);
        assert!(c[0].message.contains("a DNS-1035 label must consist of"));

        // A namespaced object in a bad namespace.
        let mut p = pod();
        p["metadata"]["namespace"] = json!("Bad");
        assert_eq!(fields(&validate_create(&t, &p)), vec!["metadata.namespace"]);

        // generateName prefixes may end in '-'.
        let mut p = pod();
        p["metadata"]["generateName"] = json!("agent-");
        assert_eq!(validate_create(&t, &p), vec![]);
    }

    #[test]
    fn job_names_must_fit_a_label_value() {
        let t = rt("batch/v1", "Job");
        let mut j = job();
        let long = "a".repeat(64);
        j["metadata"]["name"] = json!(long);
        let c = validate_create(&t, &j);
        assert_eq!(
            fields(&c),
            vec!["spec.template.labels", "spec.template.labels"]
        );
        assert_eq!(
            msg(&t, &j, &c),
            format!(
                "Job.batch \"{long}\" is invalid: spec.template.labels: Invalid value: \"{long}\": must be no more than 63 characters"
            )
        );
        // 63 is fine.
        j["metadata"]["name"] = json!("a".repeat(63));
        assert_eq!(validate_create(&t, &j), vec![]);
    }

    #[test]
    fn job_numbers_and_modes() {
        let t = rt("batch/v1", "Job");
        let mut j = job();
        j["spec"]["parallelism"] = json!(-1);
        j["spec"]["backoffLimit"] = json!(-2);
        j["spec"]["completionMode"] = json!("Indexed");
        let c = validate_create(&t, &j);
        assert_eq!(
            msg(&t, &j, &c),
            "Job.batch \"x\" is invalid: [spec.parallelism: Invalid value: -1: must be greater than or equal to 0, spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0, spec.completions: Required value: when completion mode is Indexed]"
        );
        let mut j = job();
        j["spec"]["completionMode"] = json!("Sometimes");
        j["spec"]["backoffLimitPerIndex"] = json!(1);
        let c = validate_create(&t, &j);
        assert_eq!(
            c[0].message,
            "Unsupported value: \"Sometimes\": supported values: \"NonIndexed\", \"Indexed\""
        );
        let mut j = job();
        j["spec"]["backoffLimitPerIndex"] = json!(1);
        let c = validate_create(&t, &j);
        assert_eq!(
            msg(&t, &j, &c),
            "Job.batch \"x\" is invalid: spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"
        );
        j["spec"]["completionMode"] = json!("Indexed");
        j["spec"]["completions"] = json!(3);
        assert_eq!(validate_create(&t, &j), vec![]);
    }

    #[test]
    fn job_pod_failure_policy_needs_never() {
        let t = rt("batch/v1", "Job");
        let mut j = job();
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
        j["spec"]["podFailurePolicy"] = json!({"rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "agent", "operator": "In", "values": [2]}}
        ]});
        let c = validate_create(&t, &j);
        assert_eq!(
            msg(&t, &j, &c),
            "Job.batch \"x\" is invalid: spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified"
        );
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(validate_create(&t, &j), vec![]);
        j["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["containerName"] = json!("nope");
        j["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] = json!([3, 0, 3]);
        let c = validate_create(&t, &j);
        assert_eq!(
            fields(&c),
            vec![
                "spec.podFailurePolicy.rules[0].onExitCodes.containerName",
                "spec.podFailurePolicy.rules[0].onExitCodes.values[1]",
                "spec.podFailurePolicy.rules[0].onExitCodes.values[2]",
                "spec.podFailurePolicy.rules[0].onExitCodes.values",
            ]
        );
    }

    #[test]
    fn job_manual_selector_must_match_template() {
        let t = rt("batch/v1", "Job");
        let mut j = job();
        j["spec"]["manualSelector"] = json!(true);
        let c = validate_create(&t, &j);
        assert_eq!(
            msg(&t, &j, &c),
            "Job.batch \"x\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"a\"}: `selector` does not match template `labels`]"
        );
        j["spec"]["selector"] = json!({"matchLabels": {"app": "a"}});
        assert_eq!(validate_create(&t, &j), vec![]);
        // Without manualSelector, a user selector must select the generated labels only.
        let mut j = job();
        j["spec"]["selector"] = json!({"matchLabels": {"app": "a"}});
        let c = validate_create(&t, &j);
        assert_eq!(
            msg(&t, &j, &c),
            "Job.batch \"x\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"a\", \"batch.kubernetes.io/controller-uid\":\"u1\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated"
        );
    }

    #[test]
    fn job_immutable_fields() {
        let t = rt("batch/v1", "Job");
        let mut old = job();
        old["spec"]["manualSelector"] = json!(true);
        old["spec"]["selector"] = json!({"matchLabels": {"app": "a"}});
        let mut new = old.clone();
        new["spec"]["selector"] =
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]});
        let c = validate_update(&t, &old, &new);
        assert_eq!(
            msg(&t, &new, &c),
            "Job.batch \"x\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", Operator:\"In\", Values:[]string{\"a\"}}}}: field is immutable"
        );
        assert_eq!(c[0].reason, "FieldValueInvalid");

        // Completions, completionMode, the template.
        let old = job();
        let mut new = old.clone();
        new["spec"]["completions"] = json!(5);
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
        new["spec"]["completionMode"] = json!("NonIndexed");
        let c = validate_update(&t, &old, &new);
        assert_eq!(
            fields(&c),
            vec!["spec.completions", "spec.template", "spec.completionMode"]
        );
        assert_eq!(c[0].message, "Invalid value: 5: field is immutable");
        assert!(
            c[1].message
                .starts_with("Invalid value: core.PodTemplateSpec{")
        );
        assert!(c[1].message.ends_with(": field is immutable"));
        assert_eq!(
            c[2].message,
            "Invalid value: \"NonIndexed\": field is immutable"
        );

        // Changing only parallelism, suspend, or metadata is fine.
        let mut new = old.clone();
        new["spec"]["parallelism"] = json!(3);
        new["spec"]["suspend"] = json!(true);
        new["metadata"]["labels"] = json!({"x": "y"});
        assert_eq!(validate_update(&t, &old, &new), vec![]);

        // Indexed Jobs may scale completions together with parallelism.
        let mut old = job();
        old["spec"]["completionMode"] = json!("Indexed");
        old["spec"]["completions"] = json!(3);
        old["spec"]["parallelism"] = json!(3);
        let mut new = old.clone();
        new["spec"]["completions"] = json!(5);
        new["spec"]["parallelism"] = json!(5);
        assert_eq!(validate_update(&t, &old, &new), vec![]);
        new["spec"]["parallelism"] = json!(4);
        let c = validate_update(&t, &old, &new);
        assert_eq!(
            c[0].message,
            "Invalid value: 5: can only be modified in tandem with spec.parallelism"
        );

        // podFailurePolicy and backoffLimitPerIndex.
        let mut new = old.clone();
        new["spec"]["backoffLimitPerIndex"] = json!(1);
        new["spec"]["podFailurePolicy"] = json!({"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]});
        let c = validate_update(&t, &old, &new);
        assert_eq!(
            fields(&c),
            vec!["spec.podFailurePolicy", "spec.backoffLimitPerIndex"]
        );

        // A suspended Job that never started may change its template's scheduling directives.
        let mut old = job();
        old["spec"]["suspend"] = json!(true);
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["nodeSelector"] = json!({"pool": "gpu"});
        new["spec"]["template"]["metadata"]["labels"]["extra"] = json!("1");
        assert_eq!(validate_update(&t, &old, &new), vec![]);
        old["status"] = json!({"startTime": "2025-01-01T00:00:00Z"});
        assert_eq!(
            fields(&validate_update(&t, &old, &new)),
            vec!["spec.template"]
        );
    }

    #[test]
    fn metadata_immutable_on_update() {
        let t = rt("v1", "Pod");
        let mut old = pod();
        old["metadata"]["uid"] = json!("u1");
        let mut new = old.clone();
        new["metadata"]["name"] = json!("q");
        new["metadata"]["namespace"] = json!("other");
        new["metadata"]["uid"] = json!("u2");
        let c = validate_update(&t, &old, &new);
        assert_eq!(
            msg(&t, &new, &c),
            "Pod \"q\" is invalid: [metadata.name: Invalid value: \"q\": field is immutable, metadata.namespace: Invalid value: \"other\": field is immutable, metadata.uid: Invalid value: \"u2\": field is immutable]"
        );
        // A missing uid keeps the stored one.
        let mut new = old.clone();
        new["metadata"].as_object_mut().unwrap().remove("uid");
        assert_eq!(validate_update(&t, &old, &new), vec![]);
    }

    #[test]
    fn pod_spec_update_rules() {
        let t = rt("v1", "Pod");
        let mut old = pod();
        old["spec"]["tolerations"] = json!([{"key": "a", "operator": "Exists"}]);
        old["spec"]["activeDeadlineSeconds"] = json!(100);
        // Image, lower deadline, added toleration: allowed.
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("busybox:2");
        new["spec"]["activeDeadlineSeconds"] = json!(50);
        new["spec"]["tolerations"] =
            json!([{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]);
        new["status"] = json!({"phase": "Running"});
        assert_eq!(validate_update(&t, &old, &new), vec![]);
        // Raised deadline.
        let mut new = old.clone();
        new["spec"]["activeDeadlineSeconds"] = json!(200);
        let c = validate_update(&t, &old, &new);
        assert_eq!(
            c[0].message,
            "Invalid value: 200: must be less than or equal to previous value"
        );
        // Anything else.
        let mut new = old.clone();
        new["spec"]["nodeName"] = json!("node-1");
        let c = validate_update(&t, &old, &new);
        assert_eq!(fields(&c), vec!["spec"]);
        assert_eq!(c[0].reason, "FieldValueForbidden");
        assert!(
            msg(&t, &new, &c).starts_with(
                "Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n  core.PodSpec{\n+ \tnodeName: \"node-1\",\n"
            ),
            "{}",
            msg(&t, &new, &c)
        );
        // Removing a toleration is a spec change.
        let mut new = old.clone();
        new["spec"]["tolerations"] = json!([]);
        assert_eq!(fields(&validate_update(&t, &old, &new)), vec!["spec"]);
    }

    #[test]
    fn deployment_rules() {
        let t = rt("apps/v1", "Deployment");
        let mut d = deployment();
        d["spec"]["replicas"] = json!(-1);
        d["spec"]["selector"] = json!({"matchLabels": {"app": "b"}});
        let c = validate_create(&t, &d);
        assert_eq!(
            msg(&t, &d, &c),
            "Deployment.apps \"d\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"a\"}: `selector` does not match template `labels`]"
        );
        let mut d = deployment();
        d["spec"].as_object_mut().unwrap().remove("selector");
        let c = validate_create(&t, &d);
        assert_eq!(
            fields(&c),
            vec!["spec.selector", "spec.template.metadata.labels"]
        );
        let mut d = deployment();
        d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        let c = validate_create(&t, &d);
        assert_eq!(
            c[0].message,
            "Unsupported value: \"Never\": supported values: \"Always\""
        );
        // Selector immutable; replicas and image are not.
        let old = deployment();
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(5);
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
        assert_eq!(validate_update(&t, &old, &new), vec![]);
        new["spec"]["selector"] = json!({"matchLabels": {"app": "a", "tier": "x"}});
        new["spec"]["template"]["metadata"]["labels"]["tier"] = json!("x");
        let c = validate_update(&t, &old, &new);
        assert_eq!(
            msg(&t, &new, &c),
            "Deployment.apps \"d\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"a\", \"tier\":\"x\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        );
    }

    #[test]
    fn pdb_rules() {
        let t = rt("policy/v1", "PodDisruptionBudget");
        let mut p = json!({
            "metadata": {"name": "pdb", "namespace": "agents"},
            "spec": {"minAvailable": 1, "maxUnavailable": "10%", "selector": {"matchLabels": {"app": "a"}}}
        });
        let c = validate_create(&t, &p);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "spec");
        assert_eq!(c[0].reason, "FieldValueInvalid");
        let m = msg(&t, &p, &c);
        assert!(
            m.starts_with(
                "PodDisruptionBudget.policy \"pdb\" is invalid: spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)(0xc"
            ),
            "{m}"
        );
        assert!(
            m.ends_with(": minAvailable and maxUnavailable cannot be both set"),
            "{m}"
        );
        p["spec"].as_object_mut().unwrap().remove("maxUnavailable");
        assert_eq!(validate_create(&t, &p), vec![]);
        p["spec"]["minAvailable"] = json!("150%");
        let c = validate_create(&t, &p);
        assert_eq!(
            c[0].message,
            "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"
        );
        p["spec"]["minAvailable"] = json!("half");
        let c = validate_create(&t, &p);
        assert!(
            c[0].message.contains(
                "a valid percent string must be a numeric string followed by an ending '%'"
            )
        );
        p["spec"]["minAvailable"] = json!(-1);
        p["spec"]["unhealthyPodEvictionPolicy"] = json!("Never");
        let c = validate_create(&t, &p);
        assert_eq!(
            fields(&c),
            vec!["spec.minAvailable", "spec.unhealthyPodEvictionPolicy"]
        );
    }

    #[test]
    fn labels_and_annotations() {
        let t = rt("v1", "ConfigMap");
        let mut cm = json!({"metadata": {"name": "c", "namespace": "agents",
            "labels": {"-bad": "ok", "good": "bad value"}}});
        let c = validate_create(&t, &cm);
        assert_eq!(fields(&c), vec!["metadata.labels", "metadata.labels"]);
        assert_eq!(
            c[0].message,
            "Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        );
        assert!(
            c[1].message
                .starts_with("Invalid value: \"bad value\": a valid label must be an empty string")
        );
        cm["metadata"]["labels"] = json!({"example.com/x": "a".repeat(64)});
        let c = validate_create(&t, &cm);
        assert_eq!(
            c[0].message,
            format!(
                "Invalid value: \"{}\": must be no more than 63 characters",
                "a".repeat(64)
            )
        );
        cm["metadata"]["labels"] = json!({"Bad_Prefix/x": "v"});
        let c = validate_create(&t, &cm);
        assert!(
            c[0].message
                .contains("prefix part a lowercase RFC 1123 subdomain")
        );
        cm["metadata"]["labels"] = json!({});
        cm["metadata"]["annotations"] = json!({"big": "x".repeat(256 * 1024)});
        let c = validate_create(&t, &cm);
        assert_eq!(
            c,
            vec![Cause {
                reason: "FieldValueTooLong".into(),
                message: "Too long: must have at most 262144 bytes".into(),
                field: "metadata.annotations".into(),
            }]
        );
        cm["metadata"]["annotations"] = json!({"Example.COM/Mixed_Case": "x"});
        assert_eq!(validate_create(&t, &cm), vec![]);
        // ConfigMap keys.
        cm["metadata"]["annotations"] = json!({});
        cm["data"] = json!({"bad key": "v", "..x": "v"});
        let c = validate_create(&t, &cm);
        assert_eq!(fields(&c), vec!["data[..x]", "data[bad key]"]);
    }

    #[test]
    fn immutable_configmaps_and_secrets() {
        let t = rt("v1", "Secret");
        let old = json!({"metadata": {"name": "s", "namespace": "agents"}, "immutable": true, "data": {"a": "eA=="}});
        let mut new = old.clone();
        new["data"]["a"] = json!("eQ==");
        let c = validate_update(&t, &old, &new);
        assert_eq!(
            c[0].message,
            "Forbidden: field is immutable when `immutable` is set"
        );
        assert_eq!(c[0].field, "data");
    }

    #[test]
    fn service_pvc_netpol_rbac_crd() {
        let svc = rt("v1", "Service");
        let s = json!({"metadata": {"name": "s", "namespace": "agents"},
            "spec": {"ports": [{"port": 0}, {"name": "b", "port": 80, "targetPort": "Bad_Port"}]}});
        let c = validate_create(&svc, &s);
        assert_eq!(
            fields(&c),
            vec![
                "spec.ports[0].name",
                "spec.ports[0].port",
                "spec.ports[1].targetPort"
            ]
        );
        let s = json!({"metadata": {"name": "s", "namespace": "agents"}, "spec": {}});
        assert_eq!(fields(&validate_create(&svc, &s)), vec!["spec.ports"]);

        let pvc = rt("v1", "PersistentVolumeClaim");
        let p = json!({"metadata": {"name": "p", "namespace": "agents"}, "spec": {}});
        let c = validate_create(&pvc, &p);
        assert_eq!(
            msg(&pvc, &p, &c),
            "PersistentVolumeClaim \"p\" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value]"
        );

        let np = rt("networking.k8s.io/v1", "NetworkPolicy");
        let n = json!({"metadata": {"name": "n", "namespace": "agents"},
            "spec": {"podSelector": {}, "policyTypes": ["Inbound"],
                     "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}], "ports": [{"port": 0}]}]}});
        let c = validate_create(&np, &n);
        assert_eq!(
            fields(&c),
            vec![
                "spec.policyTypes[0]",
                "spec.ingress[0].ports[0].port",
                "spec.ingress[0].from[0].ipBlock.cidr"
            ]
        );

        let role = rt("rbac.authorization.k8s.io/v1", "Role");
        let r = json!({"metadata": {"name": "r", "namespace": "agents"},
            "rules": [{"resources": ["pods"]}]});
        let c = validate_create(&role, &r);
        assert_eq!(
            msg(&role, &r, &c),
            "Role.rbac.authorization.k8s.io \"r\" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[0].apiGroups: Required value: resource rules must supply at least one api group]"
        );
        let rb = rt("rbac.authorization.k8s.io/v1", "RoleBinding");
        let old = json!({"metadata": {"name": "r", "namespace": "agents"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "a"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa"}]});
        assert_eq!(validate_create(&rb, &old), vec![]);
        let mut new = old.clone();
        new["roleRef"]["name"] = json!("b");
        let c = validate_update(&rb, &old, &new);
        assert_eq!(
            c[0].message,
            "Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"b\"}: cannot change roleRef"
        );

        let crd = rt("apiextensions.k8s.io/v1", "CustomResourceDefinition");
        let d = json!({"metadata": {"name": "things.example.com"}, "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
        let c = validate_create(&crd, &d);
        assert_eq!(
            c[0].message,
            "Invalid value: \"things.example.com\": must be spec.names.plural+\".\"+spec.group"
        );
    }

    #[test]
    fn keda_structural_checks() {
        let sj = rt("keda.sh/v1alpha1", "ScaledJob");
        let o = json!({"metadata": {"name": "s", "namespace": "agents"}, "spec": {"triggers": {}}});
        let c = validate_create(&sj, &o);
        assert_eq!(
            msg(&sj, &o, &c),
            "ScaledJob.keda.sh \"s\" is invalid: [spec.jobTargetRef: Required value, spec.triggers: Invalid value: \"object\": spec.triggers in body must be of type array: \"object\"]"
        );
        let o = json!({"metadata": {"name": "s", "namespace": "agents"}});
        assert_eq!(
            msg(&sj, &o, &validate_create(&sj, &o)),
            "ScaledJob.keda.sh \"s\" is invalid: spec: Required value"
        );
        let ta = rt("keda.sh/v1alpha1", "TriggerAuthentication");
        let o = json!({"metadata": {"name": "t", "namespace": "agents"},
            "spec": {"secretTargetRef": [{"parameter": "host", "name": "s"}]}});
        let c = validate_create(&ta, &o);
        assert_eq!(fields(&c), vec!["spec.secretTargetRef[0].key"]);
        // Custom resources have no strict check.
        assert!(unknown_fields(&sj, &json!({"spec": {"bogus": 1}})).is_empty());
    }

    #[test]
    fn invalid_message_formats() {
        let t = rt("batch/v1", "Job");
        assert_eq!(invalid_message(&t, "x", &[]), "Job.batch \"x\" is invalid");
        let c = required("spec.a", "");
        assert_eq!(
            invalid_message(&t, "x", &[c.clone(), c.clone()]),
            "Job.batch \"x\" is invalid: spec.a: Required value"
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"reason": "FieldValueRequired", "message": "Required value", "field": "spec.a"})
        );
    }

    #[test]
    fn strict_unknown_fields() {
        let t = rt("batch/v1", "Job");
        let mut j = job();
        j["spec"]["foo"] = json!("bar");
        j["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
        j["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({"limitz": {}});
        j["spec"]["nothing"] = Value::Null;
        j["metadata"]["creationTimestamp"] = Value::Null;
        j["status"] = json!({});
        let u = unknown_fields(&t, &j);
        assert_eq!(
            u,
            vec![
                "spec.foo",
                "spec.nothing",
                "spec.template.spec.containers[0].imagePullPolicyy",
                "spec.template.spec.containers[0].resources.limitz",
            ]
        );
        assert_eq!(
            strict_message(&t, &u[..1]),
            "Job in version \"v1\" cannot be handled as a Job: strict decoding error: unknown field \"spec.foo\""
        );
        assert_eq!(
            strict_message(&t, &u[..2]),
            "Job in version \"v1\" cannot be handled as a Job: strict decoding error: unknown field \"spec.foo\", unknown field \"spec.nothing\""
        );
        // Declared fields with null or empty values are not unknown.
        let j = json!({"metadata": {"name": "x", "creationTimestamp": null, "labels": {}},
            "spec": {"completions": null, "selector": null, "template": {"metadata": {},
            "spec": {"containers": [], "activeDeadlineSeconds": null, "nodeSelector": null}}},
            "status": {"startTime": null, "active": null}});
        assert_eq!(unknown_fields(&t, &j), Vec::<String>::new());
        // A body that does not decode is not judged here.
        let j = json!({"spec": {"completions": "many", "foo": 1}});
        assert!(unknown_fields(&t, &j).is_empty());
        // Top-level keys.
        let p = rt("v1", "Pod");
        let mut o = pod();
        o["extra"] = json!(1);
        assert_eq!(unknown_fields(&p, &o), vec!["extra"]);
    }

    #[test]
    fn bundled_manifests_have_no_unknown_fields_and_are_valid() {
        let reg = Registry::new(true);
        let mut checked = 0;
        for m in crate::manifests::BUNDLED {
            if m.file == crate::manifests::KUSTOMIZATION {
                continue;
            }
            for doc in crate::manifests::documents(m).unwrap() {
                let t = reg
                    .find_kind(str_at(&doc, "apiVersion"), str_at(&doc, "kind"))
                    .unwrap_or_else(|| panic!("{}: no type", m.file));
                assert_eq!(
                    unknown_fields(t, &doc),
                    Vec::<String>::new(),
                    "{} {}",
                    m.file,
                    t.kind
                );
                assert_eq!(validate_create(t, &doc), vec![], "{} {}", m.file, t.kind);
                assert_eq!(
                    validate_update(t, &doc, &doc),
                    vec![],
                    "{} {}",
                    m.file,
                    t.kind
                );
                checked += 1;
            }
        }
        assert!(checked >= 12, "{checked}");
    }

    #[test]
    fn strict_check_sees_every_builtin_kind() {
        let reg = Registry::new(false);
        for t in reg.all() {
            let obj = json!({"metadata": {"name": "x"}, "bogusField": 1});
            assert_eq!(unknown_fields(t, &obj), vec!["bogusField"], "{}", t.kind);
        }
    }
}
