//! Container runtimes: how one pod container runs.
//!
//! - [`process`]: a `fleetctl agent` child process in a process group of its own, with the
//!   pod's environment only, output to a per-container log file; real SIGTERM/SIGKILL; memory
//!   is the process's RSS.
//! - [`inproc`]: the agent as a tokio task of the sim (for thousands of pods); SIGTERM is the
//!   agent's shutdown signal, SIGKILL aborts the task; memory is what its tasks hold.

pub mod inproc;
pub mod process;

use std::path::PathBuf;

use tokio::sync::oneshot;

use super::super::RuntimeKind;

/// What to run.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The arguments after the executable, starting with `agent`.
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Where stdout and stderr go.
    pub log: PathBuf,
    /// The broker connections in-process agents share (the process runtime ignores it).
    pub brokers: std::sync::Arc<crate::queue::amqp::BrokerPool>,
}

/// How a container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// The exit code, or 128 + the signal.
    pub code: i32,
    pub signal: Option<i32>,
}

/// Why a container could not be started (`RunContainerError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

/// A running container: its end arrives on `exit`.
pub struct Started {
    pub exit: oneshot::Receiver<Exit>,
    pub ctl: Ctl,
    /// `<runtime>://<id>`.
    pub container_id: String,
}

/// Signals and memory of a running container.
pub enum Ctl {
    Process(process::Ctl),
    Inproc(inproc::Ctl),
}

impl Ctl {
    /// SIGTERM.
    pub fn term(&self) {
        match self {
            Ctl::Process(c) => c.signal(libc::SIGTERM),
            Ctl::Inproc(c) => c.term(),
        }
    }

    /// SIGKILL.
    pub fn kill(&self) {
        match self {
            Ctl::Process(c) => c.signal(libc::SIGKILL),
            Ctl::Inproc(c) => c.kill(),
        }
    }

    /// The container's answer to an httpGet probe of `path` on `port` without a connection, when
    /// the runtime can give it (an in-process agent's own health endpoints); None: probe over HTTP.
    pub fn probe(&self, port: i32, path: &str) -> Option<axum::http::StatusCode> {
        match self {
            Ctl::Process(_) => None,
            Ctl::Inproc(c) => c.probe(port, path),
        }
    }

    /// Memory in use, in bytes, when known.
    pub fn memory_bytes(&self) -> Option<u64> {
        match self {
            Ctl::Process(c) => c.rss_bytes(),
            Ctl::Inproc(c) => c.held_bytes(),
        }
    }
}

/// Starts a container with the runtime `kind`; `exe` is the `fleetctl` executable the process
/// runtime starts.
pub fn start(
    kind: RuntimeKind,
    exe: &std::path::Path,
    launch: Launch,
) -> Result<Started, StartError> {
    match kind {
        RuntimeKind::Process => process::start(exe, launch),
        RuntimeKind::Inproc => inproc::start(launch),
    }
}
