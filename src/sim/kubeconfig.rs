//! The kubeconfig the sim writes: one cluster, one user with a bearer token, context
//! `fleetctl-sim` with namespace `agents`. kubectl and kube-rs read it unchanged.

use base64::Engine;
use serde_json::json;

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

/// A random bearer token.
pub fn new_token() -> String {
    format!("fleetctl-sim-{}", uuid::Uuid::new_v4().simple())
}
