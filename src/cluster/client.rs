//! The Kubernetes side's connection: the client constructor ([`connect`], shared with the local
//! cluster from [`crate::kubeclient`]) and a first request that tells an unreachable API from
//! a working one ([`reachable`]).

use kube::Client;

pub use crate::kubeclient::{Source, connect, kubeconfig_path};

/// Checks that the API server answers; the error names the kubeconfig and context tried.
pub async fn reachable(client: &Client, source: &Source) -> Result<(), String> {
    client.apiserver_version().await.map(|_| ()).map_err(|e| {
        format!(
            "cannot reach the Kubernetes API at {} ({}): {e}; is the cluster up? (`fleetctl sim` starts a local one)",
            source.server,
            source.describe()
        )
    })
}
