//! The control plane behind the sim's API: controllers that are API clients of the sim itself
//! (kube-rs over HTTPS, with the admin token), exactly as the real ones are clients of a real API
//! server. They see the cluster only through list/watch and change it only through writes, so
//! kubectl and fleetctl observe the same objects and events a real cluster would produce.
//!
//! - [`events`]: core/v1 Events with the reasons SPEC-k8s.md lists, aggregated like client-go's
//!   recorder (a repeat bumps `count`).
//!
//! - [`node`]: the Node objects `sim-node-1` … `sim-node-N` (capacity, Ready).
//! - [`scheduler`]: binds pending pods to nodes by their requests (`pods/binding`), or marks them
//!   Unschedulable with a FailedScheduling event.
//! - [`kubelet`]: runs the containers of bound pods through a runtime and reports their status.
//!
//! Every controller is started by [`start`] and stops when the sim's shutdown signal fires.

pub mod events;
pub mod kubelet;
pub mod node;
pub mod scheduler;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How pod containers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuntimeKind {
    /// Each container is a `fleetctl agent` child process (real signals, real RSS).
    #[default]
    Process,
    /// Each container is an agent running as a tokio task in the sim's process (for thousands
    /// of pods).
    Inproc,
}

/// What the controllers simulate.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// Simulated nodes `sim-node-1` … `sim-node-N`.
    pub nodes: usize,
    /// Allocatable CPU per node, in millicores.
    pub node_cpu_millis: u64,
    /// Allocatable memory per node, in bytes.
    pub node_memory_bytes: u64,
    pub runtime: RuntimeKind,
    /// Evict pods as a kubelet under memory pressure would (`status.reason: Evicted`).
    pub evict_on_pressure: bool,
    /// Where volumes live: `<state_dir>/volumes/pvc/<namespace>/<claim>/` (shared by every pod
    /// mounting the claim, so checkpoints outlive pods) and `<state_dir>/volumes/pods/<uid>/`.
    pub state_dir: PathBuf,
    /// The executable the process runtime starts as `<exe> agent ...` (the running fleetctl).
    pub agent_exe: PathBuf,
    /// Run the KEDA ScaledJob scaler.
    pub keda: bool,
    /// CrashLoopBackOff: the first restart delay, doubled per failure (Kubernetes: 10 s).
    pub backoff_initial: Duration,
    /// CrashLoopBackOff cap (Kubernetes: 5 min).
    pub backoff_max: Duration,
}

impl ControllerOptions {
    /// Three nodes of 8 CPUs and 32 GiB, the process runtime, volumes under `state_dir`.
    pub fn new(state_dir: PathBuf) -> Self {
        ControllerOptions {
            nodes: 3,
            node_cpu_millis: 8_000,
            node_memory_bytes: 32 << 30,
            runtime: RuntimeKind::Process,
            evict_on_pressure: false,
            state_dir,
            agent_exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("fleetctl")),
            keda: true,
            backoff_initial: Duration::from_secs(10),
            backoff_max: Duration::from_secs(300),
        }
    }
}

/// What every controller gets.
#[derive(Clone)]
pub struct Ctx {
    /// A client of the sim's own API with the admin token.
    pub client: Client,
    pub opts: Arc<ControllerOptions>,
    /// Becomes true when the sim stops.
    pub shutdown: watch::Receiver<bool>,
}

impl Ctx {
    /// An event recorder reporting as `component` (e.g. `job-controller`, `kubelet`).
    pub fn recorder(&self, component: &'static str) -> events::Recorder {
        events::Recorder::new(self.client.clone(), component)
    }

    /// Runs `fut` until it ends or the sim shuts down.
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = fut => {}
                _ = shutdown.wait_for(|s| *s) => {}
            }
        })
    }
}

/// Starts every controller.
pub fn start(ctx: Ctx) -> Vec<JoinHandle<()>> {
    vec![
        ctx.spawn(node::run(ctx.clone())),
        ctx.spawn(scheduler::run(ctx.clone())),
        // The kubelet handles the shutdown itself: it stops every container first.
        kubelet::spawn(ctx.clone()),
    ]
}
