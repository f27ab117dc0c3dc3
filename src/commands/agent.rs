//! `fleetctl agent`: wires flags and env to the agent, owns signals and exit codes.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::info;

use super::{EXIT_FAILURE, EXIT_USAGE, Failure, Outcome};
use crate::agent::launch::Agent;
use crate::agent::worker::{AgentError, Exit};
use crate::cli::{AgentArgs, GlobalArgs};

pub use crate::agent::launch::resolve_index;

pub async fn run(global: &GlobalArgs, args: AgentArgs) -> Outcome {
    let agent = Agent::prepare(&args, &global.amqp_url, |k| std::env::var(k).ok())
        .await
        .map_err(failure)?;
    info!(agent_index = %agent.index(), addr = %agent.metrics_addr(), "metrics_listening");
    let (tx, rx) = watch::channel(false);
    install_signal_handlers(tx, agent.index().to_string())?;
    match agent.run(rx).await.map_err(failure)? {
        Exit::Interrupted => Err(Failure {
            code: Exit::Interrupted.code(),
            message:
                "stopped by a signal with tasks in flight: they were checkpointed and requeued"
                    .into(),
        }),
        _ => Ok(()),
    }
}

fn failure(e: AgentError) -> Failure {
    match e {
        AgentError::Config(m) => Failure {
            code: EXIT_USAGE,
            message: m,
        },
        AgentError::Fatal(m) => Failure {
            code: EXIT_FAILURE,
            message: m,
        },
    }
}

/// First SIGTERM or SIGINT: drain (checkpoint, requeue; exit 0 when idle, 143 when work was
/// interrupted). A second one: exit at once.
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
