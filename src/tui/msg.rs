//! What reaches the console: data from the I/O tasks, keys and ticks. Every message is plain
//! data; [`super::update::update`] folds it into the model.
//!
//! Failures travel as `String`: the I/O task has already turned the typed error into the line
//! the console shows, and the model only stores and draws it.

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use crate::fleet::delta::FleetDelta;
use crate::fleet::usage::UsageReading;
use crate::metrics::scrape::Round;
use crate::queue::depth::QueueReport;
use crate::queue::mgmt::MgmtQueue;

/// Which outside party a [`Msg::Link`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkKind {
    /// The Kubernetes API server.
    Api,
    /// The broker, over AMQP.
    Broker,
    /// RabbitMQ's management HTTP API.
    Mgmt,
}

/// What a finished plan proposes: shown in a confirm dialog before anything changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// Lines that say exactly what will happen.
    pub lines: Vec<String>,
    pub warning: Option<String>,
    /// False when there is nothing to do (the dialog then only informs).
    pub changes: bool,
}

/// One line of a pod's log, as the log view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub text: String,
}

#[derive(Debug)]
pub enum Msg {
    /// A burst of watch deltas, coalesced by the forwarding task.
    Deltas {
        deltas: Vec<FleetDelta>,
        at: Timestamp,
    },
    /// Queue depths by passive declare.
    Queues(QueueReport),
    /// The management API's view of queues (and their dead-letter queues); `Err` for the whole
    /// read when the API did not answer.
    Mgmt {
        at: Timestamp,
        queues: Result<BTreeMap<String, Result<MgmtQueue, String>>, String>,
    },
    /// A scrape round of the agents' `/metrics`.
    Scraped(Round),
    /// A reading of `metrics.k8s.io` (pods' CPU and memory), taken at `at`.
    Usage {
        reading: UsageReading,
        at: Timestamp,
    },
    /// Whether an outside party answers, and why not.
    Link {
        kind: LinkKind,
        up: Result<(), String>,
        at: Timestamp,
    },
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// Time passes: rates, ages and polling are driven from here.
    Tick(Timestamp),
    /// A plan for the confirm dialog of action `id`.
    Planned {
        id: u64,
        result: Result<Proposal, String>,
    },
    /// A running action says how it is going.
    Progress {
        id: u64,
        line: String,
    },
    /// An action finished: its one-line outcome.
    Done {
        id: u64,
        result: Result<String, String>,
    },
    /// New lines of the followed pod's log.
    LogLines {
        pod: String,
        lines: Vec<LogLine>,
    },
    /// The log stream ended (the container stopped, or an error).
    LogEnded {
        pod: String,
        reason: Option<String>,
    },
    /// SIGTERM or SIGHUP: leave now, restoring the terminal.
    Terminate,
}
