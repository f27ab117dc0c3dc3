//! Properties of the request path for any input: bodies (JSON, YAML, protobuf), JSON patch,
//! merge patch, strategic merge patch and server-side apply never panic, never build an object
//! past the bounds, and whatever passes the bounds survives the state file's envelope.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::bounds::{self, MAX_DEPTH};
use super::patch::{self, PatchLimits};
use super::rbac::Identity;
use super::request::{Query, Req, body_value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        "[a-z/~0-9.]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z$/~0-9]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `v` with entries that mean nothing to semantic equality added to each of its maps: null,
/// an empty list, an empty map or a map of those (`seed` picks which).
fn padded(v: &Value, seed: u64) -> Value {
    match v {
        Value::Object(m) => {
            let mut out: serde_json::Map<String, Value> = m
                .iter()
                .map(|(k, x)| (k.clone(), padded(x, seed / 3)))
                .collect();
            let pad = match seed % 5 {
                0 => Value::Null,
                1 => json!([]),
                2 => json!({}),
                3 => json!({"n": null, "e": {}}),
                _ => return Value::Object(out),
            };
            out.entry(format!("pad{}", seed % 7)).or_insert(pad);
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| padded(x, seed / 2)).collect()),
        other => other.clone(),
    }
}

/// A JSON pointer into documents like those of [`arb_json`].
fn arb_pointer() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "[a-z0-9]{1,3}",
            Just("-".to_string()),
            Just("0".to_string())
        ],
        0..4,
    )
    .prop_map(|parts| parts.iter().map(|p| format!("/{p}")).collect())
}

fn arb_op() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("add"),
            Just("remove"),
            Just("replace"),
            Just("move"),
            Just("copy"),
            Just("test"),
            Just("bogus")
        ],
        arb_pointer(),
        arb_pointer(),
        arb_json(),
    )
        .prop_map(
            |(op, path, from, value)| json!({"op": op, "path": path, "from": from, "value": value}),
        )
}

fn limits() -> PatchLimits {
    PatchLimits {
        max_depth: MAX_DEPTH,
        max_added_bytes: 64 * 1024,
    }
}

/// What the store keeps must come back from its state file: the object inside its entry.
fn round_trips(obj: &Value) {
    let entry = json!({"rv": 7, "objects": [{"group": "g", "plural": "p", "object": obj}]});
    let text = serde_json::to_string(&entry).expect("serialises");
    let back: Value = serde_json::from_str(&text).expect("parses back");
    assert_eq!(back, entry);
}

fn req(content_type: &str, body: Vec<u8>) -> Req {
    Req {
        who: Identity::Admin,
        method: hyper::Method::POST,
        path: "/api/v1/namespaces/default/pods".into(),
        raw_query: String::new(),
        query: Query::parse(None),
        accept: String::new(),
        content_type: content_type.into(),
        user_agent: String::new(),
        body: body.into(),
    }
}

/// `levels` nested objects around a scalar, as text.
fn nested_text(levels: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(levels), "}".repeat(levels))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn json_patches_stay_bounded(doc in arb_json(), ops in proptest::collection::vec(arb_op(), 0..24)) {
        if let Ok(v) = patch::json_patch_bounded(&doc, &Value::Array(ops), &limits()) {
            prop_assert!(bounds::depth_within(&v, MAX_DEPTH) <= MAX_DEPTH.max(bounds::depth_within(&doc, 1000)));
            if bounds::check(&v).is_ok() {
                round_trips(&v);
            }
        }
    }

    #[test]
    fn self_copies_are_cut_off(n in 1usize..200) {
        let doc = json!({"spec": {"s": "0123456789abcdef0123456789abcdef"}});
        let ops: Vec<Value> = (0..n).map(|_| json!({"op": "copy", "from": "/spec", "path": "/spec/x"})).collect();
        if let Ok(v) = patch::json_patch_bounded(&doc, &Value::Array(ops), &limits()) {
            prop_assert!(bounds::json_len_within(&v, 2 * 64 * 1024).is_some());
            prop_assert!(bounds::depth_within(&v, MAX_DEPTH) <= MAX_DEPTH);
        }
    }

    #[test]
    fn merge_and_strategic_patches_never_panic(doc in arb_json(), p in arb_json()) {
        let merged = patch::merge_patch(&doc, &p);
        if bounds::check(&merged).is_ok() {
            round_trips(&merged);
        }
        if let Ok(v) = patch::strategic_merge_patch(&doc, &p)
            && bounds::check(&v).is_ok()
        {
            round_trips(&v);
        }
    }

    #[test]
    fn apply_never_panics(live in arb_json(), applied in arb_json(), force in any::<bool>()) {
        let wrap = |spec: Value| json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "default"}, "data": spec});
        let live = wrap(live);
        if let Ok(v) = super::apply::apply(Some(&live), &wrap(applied.clone()), "m", force, "2026-12-06T00:00:00Z")
            && bounds::check(&v).is_ok()
        {
            round_trips(&v);
        }
        let _ = super::apply::apply(None, &wrap(applied), "m", force, "2026-12-06T00:00:00Z");
    }

    #[test]
    fn bodies_of_any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512),
                                       ct in prop_oneof![Just("application/json"), Just("application/yaml"),
                                                         Just("application/vnd.kubernetes.protobuf"), Just("")]) {
        if let Ok(v) = body_value(&req(ct, bytes)) {
            prop_assert!(bounds::check(&v).is_ok());
            round_trips(&v);
        }
    }

    #[test]
    fn protobuf_bodies_with_the_magic_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut b = b"k8s\0".to_vec();
        b.extend(tail);
        if let Ok(v) = body_value(&req("application/vnd.kubernetes.protobuf", b)) {
            round_trips(&v);
        }
    }

    #[test]
    fn parsed_bodies_are_within_the_bounds(levels in 1usize..400, yaml in any::<bool>()) {
        let text = if yaml {
            // Flow-style YAML nests the same way.
            nested_text(levels).replace('"', "")
        } else {
            nested_text(levels)
        };
        let ct = if yaml { "application/yaml" } else { "application/json" };
        match body_value(&req(ct, text.into_bytes())) {
            Ok(v) => {
                prop_assert!(levels <= MAX_DEPTH, "{levels} levels accepted");
                round_trips(&v);
            }
            Err(e) => prop_assert!(levels > MAX_DEPTH || e.code == 400, "{levels}: {}", e.message()),
        }
    }

    /// The in-place semantic equality agrees with comparing normal forms, for unrelated
    /// documents, for a document and itself padded with empty entries, and after a change.
    #[test]
    fn semantic_equality_agrees_with_normal_forms(a in arb_json(), b in arb_json(), seed in any::<u64>()) {
        use super::validate::{norm, same};
        prop_assert_eq!(same(&a, &b), norm(&a) == norm(&b));
        let p = padded(&a, seed);
        prop_assert!(same(&a, &p) && same(&p, &a));
        prop_assert_eq!(same(&a, &p), norm(&a) == norm(&p));
        let changed = padded(&json!({"x": a.clone(), "y": seed}), seed);
        prop_assert_eq!(same(&json!({"x": a, "y": 0}), &changed), seed == 0);
    }

    /// No-op detection ignores exactly resourceVersion and managedFields.
    #[test]
    fn no_op_detection_agrees_with_copies(a in arb_json(), b in arb_json(), rv in any::<u32>(), meta in arb_json()) {
        use super::store::{comparable, unchanged};
        prop_assert_eq!(unchanged(&a, &b), comparable(&a) == comparable(&b));
        let mut o = json!({"spec": a.clone(), "metadata": {"name": "p", "labels": meta}});
        let mut bumped = o.clone();
        bumped["metadata"]["resourceVersion"] = json!(rv.to_string());
        bumped["metadata"]["managedFields"] = json!([{"manager": "m"}]);
        prop_assert!(unchanged(&o, &bumped));
        prop_assert_eq!(unchanged(&o, &bumped), comparable(&o) == comparable(&bumped));
        o["metadata"]["uid"] = json!("u");
        prop_assert!(!unchanged(&o, &bumped));
        prop_assert_eq!(unchanged(&o, &bumped), comparable(&o) == comparable(&bumped));
    }
}
