//! Names, label and annotation syntax, object metadata and label selectors
//! (k8s.io/apimachinery validation: util/validation, api/validation/objectmeta.go,
//! apis/meta/v1/validation).

use super::*;

// ---------------------------------------------------------------------------------------------
// Name and value syntax (k8s.io/apimachinery/pkg/util/validation)

pub(super) fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

pub(super) fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
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

pub(super) const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
pub(super) const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
pub(super) const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
pub(super) const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
pub(super) const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
pub(super) const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
pub(super) const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
pub(super) const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
pub(super) const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
pub(super) const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
pub(super) const CONFIG_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
pub(super) const CONFIG_KEY_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
pub(super) const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

pub(super) fn lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

pub(super) fn dns1123_label_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(|&c| lower_alnum(c) || c == b'-')
        && lower_alnum(b[0])
        && lower_alnum(b[b.len() - 1])
}

pub(super) fn dns1123_subdomain_ok(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(dns1123_label_ok)
}

pub(super) fn qualified_part_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

pub(super) fn is_dns1123_label(s: &str) -> Vec<String> {
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

pub(super) fn is_dns1123_subdomain(s: &str) -> Vec<String> {
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

pub(super) fn is_dns1035_label(s: &str) -> Vec<String> {
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

pub(super) fn is_qualified_name(value: &str) -> Vec<String> {
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

pub(super) fn is_valid_label_value(value: &str) -> Vec<String> {
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

pub(super) fn is_config_map_key(value: &str) -> Vec<String> {
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

pub(super) fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        vec![]
    } else {
        vec!["must be between 1 and 65535, inclusive".into()]
    }
}

pub(super) fn is_valid_port_name(port: &str) -> Vec<String> {
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

pub(super) fn is_valid_path_segment_name(name: &str) -> Vec<String> {
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

pub(super) fn is_valid_cidr(s: &str) -> bool {
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
pub(super) enum NameRule {
    Subdomain,
    Label,
    Dns1035,
    PathSegment,
}

pub(super) fn name_rule(rt: &ResourceType) -> NameRule {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => NameRule::Label,
        ("", "Service") => NameRule::Dns1035,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

pub(super) fn name_msgs(rule: NameRule, name: &str, prefix: bool) -> Vec<String> {
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

pub(super) fn validate_labels(labels: &Value, path: &str, errs: &mut Errs) {
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

pub(super) fn validate_annotations(annotations: &Value, path: &str, errs: &mut Errs) {
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

pub(super) fn validate_object_meta(rt: &ResourceType, obj: &Value, errs: &mut Errs) {
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

pub(super) fn validate_namespace_field(rt: &ResourceType, meta: &Value, errs: &mut Errs) {
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

pub(super) fn validate_object_meta_update(new: &Value, old: &Value, errs: &mut Errs) {
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

pub(super) fn validate_label_selector(sel: &Value, path: &str, errs: &mut Errs) {
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
pub(super) fn selector_parses(sel: &Value) -> bool {
    Selector::from_json(sel).is_ok()
}

/// `{}` selects everything; a null selector selects nothing.
pub(super) fn selector_is_empty(sel: &Value) -> bool {
    Selector::from_json(sel).is_ok_and(|s| s.is_empty())
}

pub(super) fn selector_matches(sel: &Value, labels: &BTreeMap<String, String>) -> bool {
    Selector::from_json(sel).is_ok_and(|s| s.matches(labels))
}

pub(super) fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn go_btree_map(m: &BTreeMap<String, String>, nil_if_empty: bool) -> String {
    if m.is_empty() && nil_if_empty {
        return go_string_map(None);
    }
    let obj: Map<String, Value> = m
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    go_string_map(Some(&obj))
}
