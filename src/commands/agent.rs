//! `fleetctl agent`: wires flags and env to the agent, owns signals and exit codes.

use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::info;

use super::{EXIT_FAILURE, EXIT_USAGE, Failure, Outcome};
use crate::agent::checkpoint::Store;
use crate::agent::executor::{HttpExecutor, SimExecutor};
use crate::agent::telemetry::{self, Metrics};
use crate::agent::worker::{self, AgentError, Config};
use crate::cli::{AgentArgs, ExecutorKind, GlobalArgs};
use crate::queue::topology::Topology;

/// The agent's identity: the flag, else the first of these variables that is set.
pub fn resolve_index(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> String {
    flag.map(str::to_string)
        .or_else(|| {
            [
                "AGENT_INDEX",
                "JOB_COMPLETION_INDEX",
                "POD_NAME",
                "HOSTNAME",
            ]
            .iter()
            .find_map(|k| env(k).filter(|v| !v.trim().is_empty()))
        })
        .unwrap_or_else(|| "0".to_string())
}

pub async fn run(global: &GlobalArgs, args: AgentArgs) -> Outcome {
    let index = resolve_index(args.index.as_deref(), |k| std::env::var(k).ok());
    let topology =
        Topology::new(&args.queue).map_err(|e| Failure::usage(format!("--queue: {e}")))?;
    let url = args
        .task_queue_url
        .clone()
        .unwrap_or_else(|| global.amqp_url.clone());
    // Validate the URL now: a typo is configuration, not an outage to wait out.
    crate::queue::amqp::parse_url(&url).map_err(|e| Failure::usage(e.to_string()))?;
    let dir = args.checkpoint_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .map_err(|e| e.to_string())?
        .map_err(Failure::usage)?;

    let metrics = Arc::new(Metrics::new(&index));
    let bound = telemetry::serve(args.metrics_addr, metrics.clone())
        .await
        .map_err(|e| {
            Failure::usage(format!(
                "cannot listen on --metrics-addr {}: {e}; pass a free address, e.g. 0.0.0.0:8080 or 127.0.0.1:0",
                args.metrics_addr
            ))
        })?;
    info!(agent_index = %index, addr = %bound, "metrics_listening");

    let (tx, rx) = watch::channel(false);
    install_signal_handlers(tx, index.clone())?;

    let cfg = Config {
        url,
        topology,
        index,
        prefetch: args.prefetch,
        max_tasks: args.max_tasks,
        idle_exit: args.idle_exit,
        max_attempts: args.max_attempts,
        retry_base: args.retry_base,
        retry_max: args.retry_max,
        breaker_threshold: args.breaker_threshold,
        breaker_cooldown: args.breaker_cooldown,
        connect_timeout: args.connect_timeout,
    };
    let result = match args.executor {
        ExecutorKind::Sim => {
            worker::run(
                cfg,
                SimExecutor::new(args.model.clone()),
                store,
                metrics,
                rx,
            )
            .await
        }
        ExecutorKind::Http => {
            let Some(base) = args.llm_url.as_deref() else {
                return Err(Failure::usage(
                    "--executor http needs --llm-url (e.g. http://llm:8000/v1)",
                ));
            };
            let model = args
                .model
                .clone()
                .unwrap_or_else(|| "gpt-4o-mini".to_string());
            let key = std::env::var("LLM_API_KEY")
                .or_else(|_| std::env::var("OPENAI_API_KEY"))
                .ok();
            let exec = HttpExecutor::new(base, model, key).map_err(Failure::usage)?;
            worker::run(cfg, exec, store, metrics, rx).await
        }
    };
    match result {
        Ok(_) => Ok(()),
        Err(AgentError::Config(m)) => Err(Failure {
            code: EXIT_USAGE,
            message: m,
        }),
        Err(AgentError::Fatal(m)) => Err(Failure {
            code: EXIT_FAILURE,
            message: m,
        }),
    }
}

/// First SIGTERM or SIGINT: drain (checkpoint, requeue, exit 0). A second one: exit at once.
fn install_signal_handlers(tx: watch::Sender<bool>, index: String) -> Outcome {
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        info!(agent_index = %index, signal = name, "sigterm_received");
        let _ = tx.send(true);
        let code = tokio::select! {
            _ = term.recv() => 143,
            _ = int.recv() => 130,
        };
        info!(agent_index = %index, "second_signal_exit");
        std::process::exit(code);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(resolve_index(Some("x"), env(&[("AGENT_INDEX", "1")])), "x");
        assert_eq!(
            resolve_index(
                None,
                env(&[("AGENT_INDEX", "1"), ("JOB_COMPLETION_INDEX", "2")])
            ),
            "1"
        );
        assert_eq!(
            resolve_index(
                None,
                env(&[("JOB_COMPLETION_INDEX", "2"), ("POD_NAME", "p")])
            ),
            "2"
        );
        assert_eq!(
            resolve_index(None, env(&[("AGENT_INDEX", " "), ("POD_NAME", "p")])),
            "p"
        );
        assert_eq!(resolve_index(None, env(&[("HOSTNAME", "h")])), "h");
        assert_eq!(resolve_index(None, env(&[])), "0");
    }
}
