//! What can stop the sim from starting or stopping: each variant names what failed and, where
//! there is one, the flag to change. `Display` is the one line a user reads.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::fsutil::PrivateDirError;
use crate::kubeclient::ConnectError;
use crate::sim::api::store::persist::PersistError;

/// Starting or stopping the sim ([`super::runtime`]).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(
        "--listen {0} is not a loopback address; the sim serves on 127.0.0.1 only (e.g. --listen 127.0.0.1:6443)"
    )]
    NotLoopback(SocketAddr),
    #[error(
        "--token is empty, which would let any client in; pass a token of at least 16 characters, or leave --token out for a random one"
    )]
    EmptyToken,
    #[error(
        "--token holds whitespace or control characters; pass a token of printable characters, or leave --token out for a random one"
    )]
    TokenCharacters,
    #[error(
        "--token is {len} characters long; pass at least {min}, or leave --token out for a random one"
    )]
    ShortToken { len: usize, min: usize },
    #[error("--max-connections must be at least 1")]
    NoConnections,
    #[error("--idle-timeout must be longer than 0 (e.g. 60s)")]
    NoIdleTimeout,
    #[error("cannot create --state-dir '{}': {source}; pass a writable directory", .dir.display())]
    CreateStateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "refusing --state-dir '{}': {source} (it holds the cluster's token, key and Secrets)",
        .dir.display()
    )]
    UnsafeStateDir {
        dir: PathBuf,
        source: PrivateDirError,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("{0}; move the state directory away to start empty")]
    LoadState(PersistError),
    #[error("cannot write the state in '{}': {source}; pass a writable --state-dir", .dir.display())]
    WriteState {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {listen}: {source}; pass a free --listen address")]
    Bind {
        listen: SocketAddr,
        source: std::io::Error,
    },
    /// The listener's own address could not be read.
    #[error("{0}")]
    LocalAddr(std::io::Error),
    #[error("cannot write '{}': {source}", .path.display())]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot build the proxy client: {0}")]
    ProxyClient(reqwest::Error),
    #[error(
        "cannot read the kubeconfig '{}' to merge into it: {source}; pass another --write-kubeconfig path",
        .path.display()
    )]
    ReadKubeconfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot merge the sim's context into the kubeconfig '{}': {source}; pass another --write-kubeconfig path",
        .path.display()
    )]
    MergeKubeconfig {
        path: PathBuf,
        source: KubeconfigError,
    },
    #[error("cannot create the directory of --write-kubeconfig '{}': {source}", .path.display())]
    KubeconfigDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot write the kubeconfig '{}': {source}; pass a writable --write-kubeconfig path",
        .path.display()
    )]
    WriteKubeconfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the controllers cannot reach the sim's API: {0}")]
    ControllersUnreachable(ConnectError),
    /// The task that writes the state at shutdown did not finish.
    #[error("{0}")]
    Shutdown(tokio::task::JoinError),
    /// The state could not be written at shutdown (it is logged too).
    #[error("{0}")]
    NotSaved(PersistError),
}

/// The sim's certificates ([`super::tls`]).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("'{}' is not valid: {source}; remove it to make new certificates", .path.display())]
    InvalidFile {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// A certificate or key in the state directory's file is not base64.
    #[error("{0}")]
    Base64(base64::DecodeError),
    #[error("cannot write '{}': {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make the sim's certificates: {0}")]
    Generate(rcgen::Error),
    /// rustls has no protocol version to offer.
    #[error("{0}")]
    Protocols(rustls::Error),
    #[error("cannot use the sim's certificate: {0}")]
    Certificate(rustls::Error),
}

/// Why an existing kubeconfig cannot take the sim's entries ([`super::kubeconfig::merge`]).
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("it is not a kubeconfig (not YAML: {0})")]
    NotYaml(Box<serde_saphyr::Error>),
    #[error("it is not a kubeconfig (not a YAML mapping)")]
    NotMapping,
    #[error("it is not a kubeconfig ('{0}' is not a list)")]
    NotList(&'static str),
    #[error("{0}")]
    Serialize(serde_json::Error),
}
