//! `fleetctl sim`: serve a local Kubernetes-API-compatible cluster until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::signal::unix::{SignalKind, signal};

use super::{Failure, Outcome};
use crate::cli::{GlobalArgs, LocalBroker, SimArgs, SimRuntime};
use crate::sim::controllers::{ControllerOptions, RuntimeKind};
use crate::sim::runtime::{SimOptions, start};

/// `<state-dir>/kubeconfig`, else `kubeconfig` in the user's own sim directory
/// ([`crate::fsutil::user_dir`]), never a path other users can read or replace.
pub fn default_kubeconfig(state_dir: Option<&PathBuf>) -> PathBuf {
    match state_dir {
        Some(d) => d.join("kubeconfig"),
        None => crate::fsutil::user_dir("sim").join("kubeconfig"),
    }
}

/// Where pods' volumes and logs live without `--state-dir`: a directory of this run in the
/// user's own sim directory, removed when the sim stops.
fn run_dir() -> PathBuf {
    crate::fsutil::user_dir("sim").join(format!("run-{}", std::process::id()))
}

pub async fn run(global: &GlobalArgs, args: SimArgs) -> Outcome {
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
        without_metrics_server: args.without_metrics_server,
        history: args.history,
        enforce_rbac: args.enforce_rbac,
        max_connections: args.max_connections.map(|n| n as usize),
        idle_timeout: args.idle_timeout,
        controllers: (!args.api_only).then(|| {
            // Volumes live in the state directory when there is one, so checkpoints on a PVC
            // survive a restart of the sim as they survive pods.
            let dir = args.state_dir.clone().unwrap_or_else(run_dir);
            ControllerOptions {
                nodes: usize::from(args.nodes),
                node_cpu_millis: args.node_cpu,
                node_memory_bytes: args.node_memory,
                runtime: match args.runtime {
                    SimRuntime::Process => RuntimeKind::Process,
                    SimRuntime::Inproc => RuntimeKind::Inproc,
                },
                evict_on_pressure: args.evict_on_pressure,
                allow_host_path: args.allow_host_path,
                ..ControllerOptions::new(dir)
            }
        }),
    };
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    if args.state_dir.is_none() && !args.api_only && args.broker.is_none() {
        let dir = run_dir();
        crate::fsutil::create_dir_private(&dir).map_err(|e| {
            Failure::usage(format!(
                "cannot create '{}' for the pods' volumes and logs: {e}; set XDG_CACHE_HOME to a writable directory, or pass --state-dir",
                dir.display()
            ))
        })?;
    }
    if let Some(broker) = args.broker {
        return run_stack(global, &args, broker, opts, &mut term).await;
    }
    let sim = start(opts)
        .await
        .map_err(|e| Failure::usage(e.to_string()))?;
    if let Some(notice) = &sim.address_notice {
        eprintln!("fleetctl sim: {notice}");
    }
    println!(
        "sim ready: kubeconfig={} server={} open-files={} (allows {} in-process pods) max-connections={}",
        sim.kubeconfig.display(),
        sim.server,
        sim.open_files,
        sim.inproc_pods,
        sim.max_connections
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.shutdown().await?;
    if args.state_dir.is_none() && !args.api_only {
        // In-process agents have stopped with the sim: nothing writes here any more.
        let _ = std::fs::remove_dir_all(run_dir());
    }
    Ok(())
}

/// `sim --broker`: the whole local stack (broker, cluster, Secret, manifests) in the
/// foreground, until SIGINT or SIGTERM; `--local` commands on the same state directory use it.
async fn run_stack(
    global: &GlobalArgs,
    args: &SimArgs,
    broker: LocalBroker,
    sim: SimOptions,
    term: &mut tokio::signal::unix::Signal,
) -> Outcome {
    let mut opts = super::local::options(global, args.state_dir.clone(), broker);
    let kubeconfig = args
        .write_kubeconfig
        .clone()
        .unwrap_or_else(|| opts.state_dir.join("kubeconfig"));
    let controllers = sim.controllers.map(|mut c| {
        c.state_dir = opts.state_dir.join("cluster");
        c
    });
    opts.sim = SimOptions {
        kubeconfig,
        controllers,
        ..sim
    };
    let stack = super::local::start(&opts).await?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    stack.stop().await;
    Ok(())
}
