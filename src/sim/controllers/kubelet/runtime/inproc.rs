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

use clap::{Parser, Subcommand};
use tokio::sync::{oneshot, watch};

use super::{Exit, Launch, StartError, Started};
use crate::agent::launch::Agent;
use crate::agent::telemetry::Metrics;
use crate::agent::worker::AgentError;
use crate::cli::{AgentArgs, Cli, Command, DEFAULT_AMQP_URL, GlobalArgs};

/// `fleetctl [global flags] agent [flags]`, parsed with only the agent's subcommand built:
/// building the whole command line costs every pod start the definitions of every other
/// subcommand (a percent of the sim's CPU while 10,000 pods start).
#[derive(Parser)]
#[command(name = "fleetctl")]
struct AgentCommandLine {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: AgentOnly,
}

#[derive(Subcommand)]
enum AgentOnly {
    Agent(AgentArgs),
}

/// The agent's arguments and the global ones from a container's command line, or the line to
/// log when it is not an agent's. An error is told as the whole command line would tell it.
fn parse_agent(argv: &[String]) -> Result<(GlobalArgs, AgentArgs), String> {
    let full = || std::iter::once("fleetctl".to_string()).chain(argv.iter().cloned());
    match AgentCommandLine::try_parse_from(full()) {
        Ok(AgentCommandLine {
            global,
            command: AgentOnly::Agent(args),
        }) => Ok((global, args)),
        Err(narrow) => match Cli::try_parse_from(full()) {
            Ok(cli) if !matches!(cli.command, Command::Agent(_)) => {
                Err("fleetctl: the in-process runtime runs `agent` only".to_string())
            }
            _ => Err(narrow.to_string().trim_end().to_string()),
        },
    }
}

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
            let (global, mut args) = match parse_agent(&argv) {
                Ok(parsed) => parsed,
                Err(line) => {
                    log_line(&log, &line);
                    return 2;
                }
            };
            // The pod's environment, not the sim's, fills what flags leave out.
            if !given(&argv, "--task-queue-url") {
                args.task_queue_url = env.get("TASK_QUEUE_URL").cloned();
            }
            let amqp = if given(&argv, "--amqp-url") {
                global.amqp_url.clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    /// The bundled Indexed Job's container command line, without its program name, with a
    /// global flag and a flag the manifest leaves out added.
    fn bundled_agent_line() -> Vec<String> {
        let m = crate::manifests::get("agent-job.yaml").expect("the bundled Job");
        let job = crate::manifests::documents(m)
            .expect("it parses")
            .into_iter()
            .find(|d| d["kind"] == "Job")
            .expect("a Job document");
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        let words = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w.as_str().map(String::from))
                .collect()
        };
        let mut line = argv(&["--amqp-url", "amqp://guest:guest@127.0.0.1:5672/%2f"]);
        line.extend(words(&c["command"]).into_iter().skip(1));
        line.extend(words(&c["args"]));
        line.extend(argv(&["--idle-exit", "30s"]));
        line
    }

    #[test]
    fn an_agent_line_parses_as_the_whole_command_line_parses_it() {
        let line = bundled_agent_line();
        assert!(line.contains(&"agent".to_string()), "{line:?}");
        let (global, args) = parse_agent(&line).expect("an agent's line");
        let cli = Cli::try_parse_from(std::iter::once("fleetctl".to_string()).chain(line))
            .expect("the whole command line accepts it");
        let Command::Agent(whole) = cli.command else {
            panic!("an agent command")
        };
        assert_eq!(format!("{args:?}"), format!("{whole:?}"));
        assert_eq!(format!("{global:?}"), format!("{:?}", cli.global));
    }

    #[test]
    fn another_subcommand_or_a_bad_flag_is_told_plainly() {
        assert_eq!(
            parse_agent(&argv(&["seed", "--count", "3"])).unwrap_err(),
            "fleetctl: the in-process runtime runs `agent` only"
        );
        let bad = parse_agent(&argv(&["agent", "--no-such-flag"])).unwrap_err();
        assert!(bad.contains("--no-such-flag"), "{bad}");
        assert!(!bad.ends_with('\n'), "{bad:?}");
    }
}
