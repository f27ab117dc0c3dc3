//! What can stop the broker from starting or shutting down cleanly.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("cannot listen on {addr} for {what}: {source}; pass a free address (port 0 picks one)")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the state directory {path} cannot be used: {reason}; pass another --state-dir")]
    StateDir { path: PathBuf, reason: String },
    #[error(
        "the state directory {path} holds a damaged log: {reason}; move it aside to start empty"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error("writing the state directory failed: {0}")]
    Store(StoreError),
}

/// Why the state directory's writer stopped, or could not be waited for.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the store thread panicked")]
    Panicked,
    /// The blocking task that opened or closed the store did not finish.
    #[error("{0}")]
    Task(tokio::task::JoinError),
}
