//! The Kubernetes side's connection: the client constructor ([`connect`], shared with the local
//! cluster from [`crate::kubeclient`]) and a first request that tells an unreachable API from
//! a working one ([`reachable`]).

use kube::Client;

pub use crate::kubeclient::{ConnectError, Source, connect, kubeconfig_path};

use super::error::KubeFailure;

/// The API server did not answer as it should; names the server and the kubeconfig tried.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot reach the Kubernetes API at {server} ({describe}): {detail}; is the cluster up? (`fleetctl sim` starts a local one)"
)]
pub struct Unreachable {
    pub server: String,
    pub describe: String,
    /// The underlying error as kube-rs words it.
    pub detail: String,
    pub failure: KubeFailure,
}

/// Checks that the API server answers; the error names the kubeconfig and context tried.
pub async fn reachable(client: &Client, source: &Source) -> Result<(), Unreachable> {
    client
        .apiserver_version()
        .await
        .map(|_| ())
        .map_err(|e| Unreachable {
            server: source.server.clone(),
            describe: source.describe(),
            detail: e.to_string(),
            failure: KubeFailure::classify(&e),
        })
}
