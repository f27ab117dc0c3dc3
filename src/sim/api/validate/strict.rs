//! Unknown fields (`fieldValidation=Strict`): what a typed round trip through the Kubernetes
//! types drops.

use super::*;

// ---------------------------------------------------------------------------------------------
// Unknown fields (fieldValidation=Strict)

pub(super) type RoundTrip = fn(&Value) -> Option<Value>;

pub(super) fn round_trip<K: DeserializeOwned + Serialize>(v: &Value) -> Option<Value> {
    let typed: K = serde_json::from_value(v.clone()).ok()?;
    serde_json::to_value(&typed).ok()
}

pub(super) fn typed_round_trip(rt: &ResourceType) -> Option<RoundTrip> {
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
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

pub(super) fn path_string(path: &[Seg]) -> String {
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

pub(super) fn get_path<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match seg {
        Seg::Key(k) => cur.get(k.as_str()),
        Seg::Index(i) => cur.get(*i),
    })
}

pub(super) fn set_path(v: &mut Value, path: &[Seg], value: Value) {
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

pub(super) fn walk_unknown(
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

pub(super) fn null_key_is_unknown(root: &Value, path: &[Seg], rtrip: RoundTrip) -> bool {
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
