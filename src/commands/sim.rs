//! `fleetctl sim`: serve a local Kubernetes-API-compatible cluster until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::signal::unix::{SignalKind, signal};

use super::{Failure, Outcome};
use crate::cli::SimArgs;
use crate::sim::runtime::{SimOptions, start};

pub fn default_kubeconfig(state_dir: Option<&PathBuf>) -> PathBuf {
    match state_dir {
        Some(d) => d.join("kubeconfig"),
        None => std::env::temp_dir().join("fleetctl-sim").join("kubeconfig"),
    }
}

pub async fn run(args: SimArgs) -> Outcome {
    let listen: SocketAddr = args.listen;
    let kubeconfig = args
        .write_kubeconfig
        .clone()
        .unwrap_or_else(|| default_kubeconfig(args.state_dir.as_ref()));
    let opts = SimOptions {
        listen,
        kubeconfig,
        token: args.token.clone(),
        state_dir: args.state_dir.clone(),
        without_keda: args.without_keda,
        history: args.history,
        enforce_rbac: args.enforce_rbac,
    };
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let sim = start(opts).await.map_err(Failure::usage)?;
    println!(
        "sim ready: kubeconfig={} server={}",
        sim.kubeconfig.display(),
        sim.server
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.stop().await;
    Ok(())
}
