//! Integer ranges on write: every field a schema declares `int32` (or int-or-string, whose
//! number is an int32) or `int64` must hold a whole number that fits, as the typed decoding of
//! the real API server requires. An out-of-range value stored once would make every typed list
//! of its kind fail afterwards (a Job's `parallelism: 4294967296` stalls the Job controller).

use super::*;

/// One field whose number does not fit: its path, the value as sent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfRange {
    pub field: String,
    pub value: String,
    pub detail: &'static str,
}

/// The integer fields of `obj` that do not fit their declared type. `crd_schema` is the
/// `openAPIV3Schema` of a custom resource's version; built-in kinds use the served schemas.
pub fn integer_ranges(
    rt: &ResourceType,
    crd_schema: Option<&Value>,
    obj: &Value,
) -> Vec<OutOfRange> {
    // Only a number can be out of range, and a whole one that fits int32 fits every integer
    // type: most objects need no walk of their schema (which costs every write a few percent).
    if small_integers_only(obj) {
        return vec![];
    }
    schema_walk(rt, crd_schema, obj)
}

/// [`integer_ranges`] by walking the object along its schema.
fn schema_walk(rt: &ResourceType, crd_schema: Option<&Value>, obj: &Value) -> Vec<OutOfRange> {
    let mut out = vec![];
    let root = catalogue()
        .get(&schema_name(rt))
        .filter(|_| rt.builtin && !rt.from_crd);
    // The built-in KEDA kinds come with permissive CRDs; KEDA's own CRDs declare the types.
    let permissive = crd_schema.is_none_or(|s| s.get("properties").is_none());
    let keda = (rt.group == "keda.sh" && permissive)
        .then(|| keda_schema(&rt.kind))
        .flatten();
    if let Some(schema) = root.or(keda.as_ref()).or(crd_schema) {
        walk(schema, obj, &mut String::new(), &mut out, 0);
    }
    // Object metadata is ObjectMeta whatever the kind's schema says.
    if root.is_none()
        && let Some(meta) = catalogue().get(&expand("meta.ObjectMeta"))
    {
        walk(
            meta,
            &obj["metadata"],
            &mut "metadata".to_string(),
            &mut out,
            0,
        );
    }
    out
}

/// The integer fields of the built-in KEDA kinds (KEDA 2.16's CRDs declare them int32; the
/// built-in kinds are served with permissive schemas, so they are listed here).
fn keda_schema(kind: &str) -> Option<Value> {
    let i32s = |names: &[&str]| -> Value {
        Value::Object(
            names
                .iter()
                .map(|n| (n.to_string(), json!({"type": "integer", "format": "int32"})))
                .collect(),
        )
    };
    let mut spec = match kind {
        "ScaledJob" => i32s(&[
            "pollingInterval",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit",
            "maxReplicaCount",
            "minReplicaCount",
        ]),
        "ScaledObject" => i32s(&[
            "pollingInterval",
            "cooldownPeriod",
            "initialCooldownPeriod",
            "minReplicaCount",
            "maxReplicaCount",
            "idleReplicaCount",
        ]),
        _ => return None,
    };
    if kind == "ScaledJob" {
        let mut job = i32s(&["parallelism", "completions", "backoffLimit"]);
        job["activeDeadlineSeconds"] = json!({"type": "integer", "format": "int64"});
        job["template"] = schema_ref(&expand("core.PodTemplateSpec"));
        spec["jobTargetRef"] = json!({"type": "object", "properties": job});
        spec["scalingStrategy"] =
            json!({"type": "object", "properties": i32s(&["customScalingQueueLengthDeduction"])});
    }
    Some(json!({"type": "object", "properties": {"spec": {"type": "object", "properties": spec}}}))
}

/// Every number in `v` is a whole number that fits int32.
fn small_integers_only(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        Value::Object(m) => m.values().all(small_integers_only),
        Value::Array(a) => a.iter().all(small_integers_only),
        _ => true,
    }
}

/// Guards the walk against schemas that refer to themselves (JSONSchemaProps does).
const MAX_WALK: usize = 200;

fn resolve(schema: &Value) -> Option<&Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => catalogue().get(r.strip_prefix(REF)?),
        None => Some(schema),
    }
}

fn walk(schema: &Value, v: &Value, path: &mut String, out: &mut Vec<OutOfRange>, depth: usize) {
    if depth > MAX_WALK || v.is_null() {
        return;
    }
    let Some(schema) = resolve(schema) else {
        return;
    };
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        walk(sub, v, path, out, depth + 1);
    }
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    let int_or_string = format == "int-or-string"
        || schema
            .get("x-kubernetes-int-or-string")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    if let Value::Number(n) = v {
        let int32 = format == "int32" || int_or_string;
        if (ty == "integer" || int32)
            && let Some(detail) = check_number(n, int32)
        {
            out.push(OutOfRange {
                field: path.clone(),
                value: n.to_string(),
                detail,
            });
        }
        return;
    }
    let len = path.len();
    match v {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, x) in m {
                if let Some(p) = props.and_then(|p| p.get(k)) {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    walk(p, x, path, out, depth + 1);
                } else if let Some(a) = extra {
                    path.push('[');
                    path.push_str(k);
                    path.push(']');
                    walk(a, x, path, out, depth + 1);
                }
                path.truncate(len);
            }
        }
        Value::Array(a) => {
            if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
                for (i, x) in a.iter().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    walk(items, x, path, out, depth + 1);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

/// Why `n` is not a valid int32 (`int32`) or int64, or None when it fits.
fn check_number(n: &serde_json::Number, int32: bool) -> Option<&'static str> {
    let whole = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        (None, Some(f)) if f.fract() == 0.0 && (-9.2e18..=9.2e18).contains(&f) => Some(f as i64),
        _ => None,
    };
    match whole {
        None if int32 => Some("must be a whole number from -2147483648 to 2147483647 (int32)"),
        None => {
            Some("must be a whole number from -9223372036854775808 to 9223372036854775807 (int64)")
        }
        Some(i) if int32 && i32::try_from(i).is_err() => {
            Some("must be a whole number from -2147483648 to 2147483647 (int32)")
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::api::registry::Registry;
    use serde_json::json;

    fn rt(group: &str, version: &str, plural: &str) -> ResourceType {
        Registry::new(false)
            .find(group, version, plural)
            .cloned()
            .unwrap_or_else(|| panic!("{group}/{version} {plural}"))
    }

    #[test]
    fn int32_fields_out_of_range_are_named() {
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "generation": 3},
            "spec": {"parallelism": 4294967296u64, "completions": 2, "activeDeadlineSeconds": 9_000_000_000i64,
                "template": {"spec": {"containers": [{"name": "a", "image": "i",
                    "ports": [{"containerPort": 2147483648u64}]}]}}}});
        let bad = integer_ranges(&rt("batch", "v1", "jobs"), None, &job);
        let fields: Vec<&str> = bad.iter().map(|b| b.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.parallelism",
                "spec.template.spec.containers[0].ports[0].containerPort"
            ]
        );
        assert_eq!(bad[0].value, "4294967296");
    }

    #[test]
    fn int64_fields_refuse_what_does_not_fit() {
        let pod = json!({"metadata": {"name": "p", "deletionGracePeriodSeconds": 18446744073709551615u64},
            "spec": {"terminationGracePeriodSeconds": 1.5, "containers": []}});
        let bad = integer_ranges(&rt("", "v1", "pods"), None, &pod);
        let fields: Vec<&str> = bad.iter().map(|b| b.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "metadata.deletionGracePeriodSeconds",
                "spec.terminationGracePeriodSeconds"
            ]
        );
    }

    #[test]
    fn custom_resources_follow_their_crd_schema() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "pollingInterval": {"type": "integer", "format": "int32"},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}});
        let mut crt = rt("batch", "v1", "jobs");
        crt.builtin = false;
        crt.from_crd = true;
        let ok = json!({"metadata": {}, "spec": {"pollingInterval": 30, "free": {"x": 1e300}}});
        assert!(integer_ranges(&crt, Some(&schema), &ok).is_empty());
        let bad = json!({"metadata": {}, "spec": {"pollingInterval": 2147483648u64}});
        assert_eq!(
            integer_ranges(&crt, Some(&schema), &bad)[0].field,
            "spec.pollingInterval"
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use crate::sim::api::registry::Registry;
    use proptest::prelude::*;

    fn small_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z0-9]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("containers".to_string()),
                        Just("ports".to_string()),
                        Just("containerPort".to_string()),
                        Just("parallelism".to_string()),
                        Just("pollingInterval".to_string()),
                        Just("template".to_string()),
                        Just("spec".to_string()),
                        "[a-z]{1,6}",
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The shortcut never hides what the walk along the schema would find.
        #[test]
        fn objects_of_small_whole_numbers_have_nothing_out_of_range(
            spec in small_json(),
            metadata in small_json(),
        ) {
            let obj = json!({"metadata": metadata, "spec": spec});
            prop_assume!(small_integers_only(&obj));
            let registry = Registry::new(true);
            for (group, version, plural) in [
                ("", "v1", "pods"),
                ("batch", "v1", "jobs"),
                ("keda.sh", "v1alpha1", "scaledjobs"),
            ] {
                let rt = registry.find(group, version, plural).expect("a served kind");
                prop_assert!(schema_walk(rt, None, &obj).is_empty());
                prop_assert!(integer_ranges(rt, None, &obj).is_empty());
            }
        }
    }

    #[test]
    fn a_large_or_fractional_number_still_takes_the_walk() {
        assert!(!small_integers_only(
            &json!({"a": [1, {"b": 2147483648u64}]})
        ));
        assert!(!small_integers_only(&json!({"a": 1.5})));
        assert!(small_integers_only(
            &json!({"a": [1, {"b": -2147483648i64}], "c": "x"})
        ));
    }
}
