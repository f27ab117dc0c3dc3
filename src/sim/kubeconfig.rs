//! The kubeconfig the sim writes: one cluster, one user with a bearer token, context
//! `fleetctl-sim` with namespace `agents`. kubectl and kube-rs read it unchanged. Written into
//! an existing kubeconfig (`~/.kube/config`), the sim's entries are merged in, as kind and k3d
//! do: other clusters, users and contexts stay.

use base64::Engine;
use serde_json::json;

use super::error::KubeconfigError;

pub const CONTEXT: &str = "fleetctl-sim";

/// The kubeconfig document (YAML is a superset of JSON, so JSON is written).
pub fn render(server: &str, ca_pem: &str, token: &str, namespace: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}],
        "current-context": CONTEXT,
        "preferences": {},
    });
    serde_json::to_string_pretty(&doc).expect("a kubeconfig serialises")
}

/// `existing` (a kubeconfig, YAML or JSON) with the sim's cluster, user and context of
/// [`render`] in place of any of the same name, and the sim's context current. Every other
/// entry and field is kept (comments and key order are not: the result is JSON).
pub fn merge(
    existing: &str,
    server: &str,
    ca_pem: &str,
    token: &str,
    namespace: &str,
) -> Result<String, KubeconfigError> {
    let ours: serde_json::Value = serde_json::from_str(&render(server, ca_pem, token, namespace))
        .map_err(KubeconfigError::Serialize)?;
    if existing.trim().is_empty() {
        return serde_json::to_string_pretty(&ours).map_err(KubeconfigError::Serialize);
    }
    let mut doc: serde_json::Value =
        serde_saphyr::from_str(existing).map_err(|e| KubeconfigError::NotYaml(Box::new(e)))?;
    let Some(map) = doc.as_object_mut() else {
        return Err(KubeconfigError::NotMapping);
    };
    for list in ["clusters", "users", "contexts"] {
        let entry = ours[list][0].clone();
        let items = map.entry(list).or_insert_with(|| json!([]));
        if items.is_null() {
            *items = json!([]);
        }
        let Some(items) = items.as_array_mut() else {
            return Err(KubeconfigError::NotList(list));
        };
        match items.iter_mut().find(|i| i["name"] == CONTEXT) {
            Some(slot) => *slot = entry,
            None => items.push(entry),
        }
    }
    map.insert("current-context".into(), json!(CONTEXT));
    map.entry("apiVersion").or_insert_with(|| json!("v1"));
    map.entry("kind").or_insert_with(|| json!("Config"));
    serde_json::to_string_pretty(&doc).map_err(KubeconfigError::Serialize)
}

/// A random bearer token.
pub fn new_token() -> String {
    format!("fleetctl-sim-{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_other_contexts_and_replaces_ours() {
        let existing = "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: prod\n  cluster: {server: https://prod:6443}\n- name: fleetctl-sim\n  cluster: {server: https://old:1}\nusers:\n- name: prod\n  user: {token: p}\ncontexts:\n- name: prod\n  context: {cluster: prod, user: prod}\npreferences: {colors: true}\n";
        let out = merge(existing, "https://127.0.0.1:7", "CA", "t", "agents").unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let names = |l: &str| -> Vec<String> {
            v[l].as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names("clusters"), ["prod", "fleetctl-sim"]);
        assert_eq!(names("users"), ["prod", "fleetctl-sim"]);
        assert_eq!(names("contexts"), ["prod", "fleetctl-sim"]);
        assert_eq!(v["clusters"][1]["cluster"]["server"], "https://127.0.0.1:7");
        assert_eq!(v["current-context"], CONTEXT);
        assert_eq!(v["preferences"]["colors"], true);
        assert!(matches!(
            merge("- a\n- b\n", "s", "c", "t", "n"),
            Err(KubeconfigError::NotMapping)
        ));
        assert!(matches!(
            merge(": : :\n\t", "s", "c", "t", "n"),
            Err(KubeconfigError::NotYaml(_))
        ));
        let fresh: serde_json::Value =
            serde_json::from_str(&merge("", "s", "c", "t", "n").unwrap()).unwrap();
        assert_eq!(fresh["contexts"][0]["name"], CONTEXT);
    }
}
