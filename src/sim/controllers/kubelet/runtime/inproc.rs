//! The in-process runtime: the agent as a tokio task of the sim, parsed from the same command
//! line and given the pod's environment, listening on the pod's IP like a process would.
//! SIGTERM is the agent's own shutdown signal (it checkpoints, requeues and exits 0); SIGKILL
//! aborts the task (exit 137), which drops its broker connection as a killed process would.
//! Its log lines go to its container's log file ([`crate::agent::output`]), as a process's
//! stdout would. Its memory is what its tasks hold (`memory_mb`). In-process agents share their broker
//! connections (a channel each, see [`crate::queue::amqp::BrokerPool`]): a connection each
//! would cost an I/O thread and megabytes of buffers per pod.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use clap::Parser;
use tokio::sync::{oneshot, watch};

use super::{Exit, Launch, StartError, Started};
use crate::agent::launch::Agent;
use crate::agent::telemetry::Metrics;
use crate::agent::worker::AgentError;
use crate::cli::{Cli, Command, DEFAULT_AMQP_URL};

pub struct Ctl {
    stop: watch::Sender<bool>,
    abort: tokio::task::AbortHandle,
    metrics: Arc<OnceLock<Arc<Metrics>>>,
    /// The port the agent's /metrics, /healthz and /readyz server listens on, once it does.
    port: Arc<OnceLock<u16>>,
    /// Thread CPU time spent polling the agent's tasks, in nanoseconds ([`crate::agent::cpu`]).
    cpu: Arc<AtomicU64>,
}

impl Ctl {
    /// The agent's CPU counter and metrics, for the usage sampler.
    pub fn cpu_and_metrics(&self) -> (Arc<AtomicU64>, Arc<OnceLock<Arc<Metrics>>>) {
        (self.cpu.clone(), self.metrics.clone())
    }

    pub fn term(&self) {
        let _ = self.stop.send(true);
    }

    pub fn kill(&self) {
        self.abort.abort();
    }

    /// The agent's own answer to an httpGet probe of `path` on `port`, read without a connection,
    /// when that is its /healthz or /readyz while it runs; None means probe over HTTP (another
    /// port or path, or an agent not yet listening or already gone, which refuses as a process
    /// would). At 10,000 pods, probes over loopback cost a connection each: 1,200 a second.
    pub fn probe(&self, port: i32, path: &str) -> Option<axum::http::StatusCode> {
        if self.abort.is_finished() || i32::from(*self.port.get()?) != port {
            return None;
        }
        let path = path.split('?').next().unwrap_or(path);
        crate::agent::telemetry::health(self.metrics.get()?, path).map(|(code, _)| code)
    }

    pub fn held_bytes(&self) -> Option<u64> {
        Some(self.metrics.get().map(|m| m.held_bytes()).unwrap_or(0))
    }
}

fn given(argv: &[String], flag: &str) -> bool {
    argv.iter()
        .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
}

/// What a process would print to stderr before it exits.
fn log_line(path: &std::path::Path, line: &str) {
    if let Ok(mut f) = crate::agent::output::append_to(path) {
        let _ = writeln!(f, "{line}");
    }
}

pub fn start(l: Launch) -> Result<Started, StartError> {
    let env: HashMap<String, String> = l.env.iter().cloned().collect();
    let (tx, rx) = oneshot::channel();
    let (stop, stop_rx) = watch::channel(false);
    let metrics: Arc<OnceLock<Arc<Metrics>>> = Arc::default();
    let slot = metrics.clone();
    let port: Arc<OnceLock<u16>> = Arc::default();
    let port_slot = port.clone();
    let log = l.log.clone();
    let argv = l.argv.clone();
    let brokers = l.brokers.clone();
    let container_log = l.log.clone();
    let cpu = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn(crate::agent::cpu::metered(
        cpu.clone(),
        crate::agent::output::in_container_log(container_log, async move {
            let cli = match Cli::try_parse_from(
                std::iter::once("fleetctl".to_string()).chain(argv.iter().cloned()),
            ) {
                Ok(c) => c,
                Err(e) => {
                    log_line(&log, e.to_string().trim_end());
                    return 2;
                }
            };
            let Command::Agent(mut args) = cli.command else {
                log_line(&log, "fleetctl: the in-process runtime runs `agent` only");
                return 2;
            };
            // The pod's environment, not the sim's, fills what flags leave out.
            if !given(&argv, "--task-queue-url") {
                args.task_queue_url = env.get("TASK_QUEUE_URL").cloned();
            }
            let amqp = if given(&argv, "--amqp-url") {
                cli.global.amqp_url.clone()
            } else {
                env.get("FLEETCTL_AMQP_URL")
                    .cloned()
                    .unwrap_or_else(|| DEFAULT_AMQP_URL.to_string())
            };
            let agent = match Agent::prepare(&args, &amqp, |k| env.get(k).cloned()).await {
                Ok(a) => a,
                Err(e) => {
                    let (code, m) = match e {
                        AgentError::Config(m) => (2, m),
                        AgentError::Fatal(m) => (1, m),
                    };
                    log_line(&log, &format!("fleetctl: {m}"));
                    return code;
                }
            };
            let agent = agent.with_broker_pool(brokers);
            let _ = slot.set(agent.metrics());
            let _ = port_slot.set(agent.metrics_addr().port());
            match agent.run(stop_rx).await {
                Ok(exit) => i32::from(exit.code()),
                Err(AgentError::Config(m)) => {
                    log_line(&log, &format!("fleetctl: {m}"));
                    2
                }
                Err(AgentError::Fatal(m)) => {
                    log_line(&log, &format!("fleetctl: {m}"));
                    1
                }
            }
        }),
    ));
    let abort = task.abort_handle();
    let id = format!("fleetctl-inproc://{}", uuid::Uuid::new_v4().simple());
    tokio::spawn(async move {
        let exit = match task.await {
            Ok(code) => Exit { code, signal: None },
            Err(e) if e.is_cancelled() => Exit {
                code: 137,
                signal: Some(9),
            },
            Err(_) => Exit {
                code: 1,
                signal: None,
            },
        };
        let _ = tx.send(exit);
    });
    Ok(Started {
        exit: rx,
        ctl: super::Ctl::Inproc(Ctl {
            stop,
            abort,
            metrics,
            port,
            cpu,
        }),
        container_id: id,
    })
}
