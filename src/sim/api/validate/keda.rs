//! Custom resources: CustomResourceDefinitions themselves, and the KEDA kinds, checked as
//! their CRDs' structural schemas would check them.

use super::*;

pub(super) fn validate_crd(obj: &Value, errs: &mut Errs) {
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

pub(super) fn json_type(v: &Value) -> &'static str {
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
pub(super) fn schema_field(
    parent: &Value,
    key: &str,
    path: &str,
    want: &str,
    errs: &mut Errs,
) -> bool {
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

pub(super) fn validate_triggers(spec: &Value, errs: &mut Errs) {
    if schema_field(spec, "triggers", "spec", "array", errs) {
        for (i, t) in arr(spec, "triggers").iter().enumerate() {
            let tp = format!("spec.triggers[{i}]");
            schema_field(t, "type", &tp, "string", errs);
            schema_field(t, "metadata", &tp, "object", errs);
        }
    }
}

pub(super) fn validate_keda(rt: &ResourceType, obj: &Value, errs: &mut Errs) {
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
