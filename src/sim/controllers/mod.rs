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
//! - [`job`]: the batch/v1 Job controller (SPEC-k8s.md §2).
//! - [`scaledjob`]: KEDA's ScaledJob scaler (SPEC-k8s.md §1), reading queue depth over AMQP.
//! - [`deployment`]: Deployments and their ReplicaSets (replicas, scale, status).
//! - [`disruption`]: PodDisruptionBudget status (SPEC-k8s.md §4).
//! - [`gc`]: the garbage collector (ownerReferences; Background, Foreground, Orphan).
//! - [`ttl`]: deletes finished Jobs after `ttlSecondsAfterFinished`.
//!
//! - [`informer`]: the one watch of all pods the controllers share.
//!
//! Every controller is started by [`start`] and stops when the sim's shutdown signal fires.

pub mod deployment;
pub mod disruption;
pub mod events;
pub mod gc;
pub mod informer;
pub mod job;
pub mod kubelet;
pub mod node;
pub mod scaledjob;
pub mod scheduler;
pub mod ttl;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Rests after a controller's pass over every object of a kind so that such passes take at most
/// a tenth of the controller's time: a pass that took 20 ms waits 180 ms more (at most 5 s).
/// At 10,000 pods a pass costs tens of milliseconds, and with pods changing all the time,
/// passes back to back would take the share of a core the pods' own work needs.
pub async fn rest_after(pass: Duration) {
    tokio::time::sleep((pass * 9).min(Duration::from_secs(5))).await;
}

/// Holds each key for `period` after its first trigger; triggers of a held key join it. A key
/// comes out at most once per `period` however often it is triggered, and never later than
/// `period` after its first trigger: client-go's `AddAfter`, with which the Job controller
/// batches the syncs its pods' events ask for (`syncJobBatchPeriod`, 1 s). At 10,000 pods a
/// sync reads every pod, and one per pod event would take all the CPU there is.
pub fn batched<K>(
    triggers: impl futures::Stream<Item = K> + Send + 'static,
    period: Duration,
) -> Batched<K>
where
    K: std::hash::Hash + Eq + Clone + Send + 'static,
{
    Batched {
        triggers: Some(Box::pin(triggers)),
        held: std::collections::HashSet::new(),
        due: futures::stream::FuturesUnordered::new(),
        period,
    }
}

type Boxed<T> = std::pin::Pin<Box<T>>;

/// The stream [`batched`] returns.
pub struct Batched<K> {
    /// None once the triggers have ended.
    triggers: Option<Boxed<dyn futures::Stream<Item = K> + Send>>,
    held: std::collections::HashSet<K>,
    due: futures::stream::FuturesUnordered<Boxed<dyn std::future::Future<Output = K> + Send>>,
    period: Duration,
}

impl<K> futures::Stream for Batched<K>
where
    K: std::hash::Hash + Eq + Clone + Send + Unpin + 'static,
{
    type Item = K;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<K>> {
        use std::task::Poll;
        let this = self.get_mut();
        while let Some(triggers) = this.triggers.as_mut() {
            match triggers.as_mut().poll_next(cx) {
                Poll::Ready(Some(k)) => {
                    if this.held.insert(k.clone()) {
                        let period = this.period;
                        this.due.push(Box::pin(async move {
                            tokio::time::sleep(period).await;
                            k
                        }));
                    }
                }
                Poll::Ready(None) => this.triggers = None,
                Poll::Pending => break,
            }
        }
        match this.due.poll_next_unpin(cx) {
            Poll::Ready(Some(k)) => {
                this.held.remove(&k);
                Poll::Ready(Some(k))
            }
            _ if this.triggers.is_none() && this.due.is_empty() => Poll::Ready(None),
            _ => Poll::Pending,
        }
    }
}

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
    /// Simulated nodes `sim-node-1` … `sim-node-N` (0: nothing is scheduled, no pod runs).
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
    /// Mount `hostPath` volumes (`--allow-host-path`); refused otherwise, so that no pod
    /// reaches beyond the state directory.
    pub allow_host_path: bool,
    /// CrashLoopBackOff: the first restart delay, doubled per failure (Kubernetes: 10 s).
    pub backoff_initial: Duration,
    /// CrashLoopBackOff cap (Kubernetes: 5 min).
    pub backoff_max: Duration,
    /// In-process containers running at once at most (the open-file budget, see
    /// [`crate::sim::limits`]); one more fails to start with a `Failed` event.
    pub max_inproc_pods: usize,
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
            allow_host_path: false,
            backoff_initial: Duration::from_secs(10),
            backoff_max: Duration::from_secs(300),
            max_inproc_pods: usize::MAX,
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
    /// The pods, from the one watch every controller shares ([`start`] runs it).
    pub pods: Arc<informer::Pods>,
    /// Where the kubelet publishes usage samples (`metrics.k8s.io`); None without
    /// metrics-server, and then nothing is sampled.
    pub usage: Option<Arc<crate::sim::api::metrics_api::MetricsTable>>,
}

impl Ctx {
    /// An event recorder reporting as `component` (e.g. `job-controller`, `kubelet`).
    pub fn recorder(&self, component: &'static str) -> events::Recorder {
        events::Recorder::new(self.client.clone(), component)
    }

    /// Runs `fut` until it ends or the sim shuts down. A panic in it is reported (an error
    /// line) and ends this task only, never the sim.
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                r = std::panic::AssertUnwindSafe(fut).catch_unwind() => {
                    if let Err(p) = r {
                        tracing::error!(panic = %panic_message(&*p), "controller_task_panicked");
                    }
                }
                _ = shutdown.wait_for(|s| *s) => {}
            }
        })
    }

    /// Runs the controller loop `make()` makes until the sim shuts down. A loop that panics is
    /// reported (an error line and a Warning Event `ControllerPanicked` in kube-system) and
    /// started again after a pause, as a crashed controller-manager is restarted: one bad
    /// object never takes the cluster down.
    pub fn supervise<F, M>(&self, name: &'static str, make: M) -> JoinHandle<()>
    where
        M: Fn() -> F + Send + 'static,
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut shutdown = self.shutdown.clone();
        let recorder = self.recorder("controller-manager");
        tokio::spawn(async move {
            let mut pause = Duration::from_secs(1);
            loop {
                let r = tokio::select! {
                    r = std::panic::AssertUnwindSafe(make()).catch_unwind() => r,
                    _ = shutdown.wait_for(|s| *s) => return,
                };
                let Err(p) = r else { return };
                let why = panic_message(&*p);
                tracing::error!(controller = name, panic = %why, "controller_restarted");
                let about = k8s_openapi::api::core::v1::ObjectReference {
                    kind: Some("Namespace".into()),
                    name: Some("kube-system".into()),
                    namespace: Some("kube-system".into()),
                    api_version: Some("v1".into()),
                    ..Default::default()
                };
                recorder
                    .record(
                        &about,
                        events::EventType::Warning,
                        "ControllerPanicked",
                        &format!("the {name} controller failed ({why}) and was restarted"),
                    )
                    .await;
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        })
    }
}

/// The message a panic carried.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A cache of one kind in every namespace, kept current by a watcher (re-listing after errors,
/// with back-off), without `managedFields`; `changed` is notified after each event. The task
/// ends with the sim. (Pods come from [`Ctx::pods`] instead.)
pub fn cache(
    ctx: &Ctx,
    resource: &ApiResource,
    changed: Arc<Notify>,
) -> (reflector::Store<DynamicObject>, JoinHandle<()>) {
    let writer = reflector::store::Writer::new(resource.clone());
    let reader = writer.as_reader();
    let api: Api<DynamicObject> = Api::all_with(ctx.client.clone(), resource);
    let stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|o: &mut DynamicObject| o.metadata.managed_fields = None)
        .reflect(writer);
    let task = ctx.spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while stream.next().await.is_some() {
            changed.notify_one();
        }
    });
    (reader, task)
}

/// The API resource of a built-in or KEDA kind, from `apiVersion` and `kind`.
pub fn resource_of(api_version: &str, kind: &str) -> Option<ApiResource> {
    let plural = match (api_version, kind) {
        ("v1", "Pod") => "pods",
        ("v1", "Node") => "nodes",
        ("v1", "Event") => "events",
        ("batch/v1", "Job") => "jobs",
        ("apps/v1", "ReplicaSet") => "replicasets",
        ("apps/v1", "Deployment") => "deployments",
        ("policy/v1", "PodDisruptionBudget") => "poddisruptionbudgets",
        ("keda.sh/v1alpha1", "ScaledJob") => "scaledjobs",
        ("keda.sh/v1alpha1", "TriggerAuthentication") => "triggerauthentications",
        _ => return None,
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Some(ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind),
        plural,
    ))
}

/// Whether an object (as JSON) has a deletionTimestamp.
pub fn deleting(obj: &serde_json::Value) -> bool {
    obj["metadata"]
        .get("deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

/// A status condition, keeping the `lastTransitionTime` of the previous condition of that type in
/// `old_conditions` while its status holds (as `meta.SetStatusCondition` does).
pub fn condition(
    old_conditions: &serde_json::Value,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: jiff::Timestamp,
) -> serde_json::Value {
    let since = old_conditions
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == type_ && c["status"] == status)
        .and_then(|c| c["lastTransitionTime"].as_str().map(String::from))
        .unwrap_or_else(|| crate::sim::api::store::timestamp(now));
    serde_json::json!({"type": type_, "status": status, "reason": reason, "message": message,
                       "lastTransitionTime": since})
}

/// Two statuses are equal but for their conditions' times: no write is needed.
pub fn same_status(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(cs) = v["conditions"].as_array_mut() {
            for c in cs.iter_mut().filter_map(|c| c.as_object_mut()) {
                for k in ["lastTransitionTime", "lastUpdateTime", "lastProbeTime"] {
                    c.remove(k);
                }
            }
        }
        v
    };
    strip(a) == strip(b)
}

fn supervised<R, F>(ctx: &Ctx, name: &'static str, run: R) -> JoinHandle<()>
where
    R: Fn(Ctx) -> F + Send + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let c = ctx.clone();
    ctx.supervise(name, move || run(c.clone()))
}

/// Starts every controller.
pub fn start(ctx: Ctx) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![
        supervised(&ctx, "pod-informer", informer::run),
        supervised(&ctx, "node", node::run),
        supervised(&ctx, "scheduler", scheduler::run),
        // The kubelet handles the shutdown itself: it stops every container first.
        kubelet::spawn(ctx.clone()),
        supervised(&ctx, "job", job::run),
    ];
    if ctx.opts.keda {
        tasks.push(supervised(&ctx, "scaledjob", scaledjob::run));
    }
    tasks.extend(deployment::spawn(&ctx));
    tasks.extend(disruption::spawn(&ctx));
    tasks.extend(gc::spawn(&ctx));
    tasks.extend(ttl::spawn(&ctx));
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::time::Instant;

    const PERIOD: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn a_burst_of_triggers_for_one_key_comes_out_once_after_the_period() {
        let t0 = Instant::now();
        let burst = futures::stream::iter(std::iter::repeat_n("job-a", 1_000));
        let out: Vec<&str> = batched(burst, PERIOD).collect().await;
        assert_eq!(out, vec!["job-a"]);
        assert!(t0.elapsed() >= PERIOD, "came out before the period");
    }

    #[tokio::test]
    async fn each_key_is_held_on_its_own() {
        let burst = futures::stream::iter(["a", "b", "a", "c", "b"]);
        let mut out: Vec<&str> = batched(burst, PERIOD).collect().await;
        out.sort();
        assert_eq!(out, vec!["a", "b", "c"]);
    }

    #[tokio::test]
    async fn a_trigger_after_the_key_came_out_holds_it_again() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut s = batched(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
            PERIOD,
        );
        tx.send("a").unwrap();
        tx.send("a").unwrap();
        assert_eq!(s.next().await, Some("a"));
        // Triggers keep coming while the key is out: it is held once more, not lost.
        tx.send("a").unwrap();
        let t1 = Instant::now();
        assert_eq!(s.next().await, Some("a"));
        assert!(t1.elapsed() >= PERIOD - Duration::from_millis(5));
        drop(tx);
        assert_eq!(
            s.next().await,
            None,
            "ends once the triggers end and nothing is held"
        );
    }

    #[tokio::test]
    async fn steady_triggers_never_starve_a_key() {
        // Unlike a debounce, a key triggered every 10 ms still comes out every period.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let feeder = tokio::spawn(async move {
            for _ in 0..30 {
                if tx.send("a").is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let out: Vec<&str> = batched(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
            PERIOD,
        )
        .collect()
        .await;
        feeder.await.unwrap();
        // 300 ms of triggers: at most one per period, and at least two in all.
        assert!(
            (2..=7).contains(&out.len()),
            "{} batches out of 30 triggers over 300 ms",
            out.len()
        );
    }
}
