//! The kubelet of the simulated nodes: runs the containers of every pod bound to `sim-node-*`
//! through a runtime, and reports their status as SPEC-k8s.md §3 gives it.
//!
//! One watch of all pods feeds a dispatcher; each pod the kubelet runs has a worker task of its
//! own that owns its containers and its [`status::PodState`], and writes status with a
//! strategic merge patch (at most [`WRITES_IN_FLIGHT`] writes at once across all pods).
//!
//! - Start: `ContainerCreating` (Pending), then IP, volumes, environment and the runtime, then
//!   `Running` with `podIP`. Readiness follows an `httpGet` readinessProbe, else the start.
//! - Liveness: an `httpGet` livenessProbe failing `failureThreshold` times in a row gets an
//!   `Unhealthy` event per failure, then `Killing`, SIGTERM and SIGKILL after the grace
//!   period; the container restarts unless the policy is Never, whatever its exit code.
//! - Exit: `restartPolicy` decides: Never ends the pod; OnFailure/Always restart in place with
//!   CrashLoopBackOff (`backoff_initial` doubling to `backoff_max`), `restartCount` and
//!   `lastState`, and a `BackOff` event.
//! - Memory: sampled every 250 ms (RSS), or every second (what an in-process agent holds); above
//!   `limits.memory` the container is killed and reported `OOMKilled`, exit 137.
//! - Graceful deletion: `Killing` event, SIGTERM, SIGKILL after the grace period (2 s minimum);
//!   the phase follows the exit codes; then the kubelet deletes the pod with grace 0.
//! - `--evict-on-pressure`: when a node's pods use more memory than it has, the pod using the
//!   most above its request is killed and marked `Evicted` (not deleted).
//! - Usage: with `metrics.k8s.io` served, [`usage`] samples every container's CPU and memory
//!   every 10 s for PodMetrics and NodeMetrics.
//! - Shutdown: every container gets SIGTERM, then SIGKILL; no agent outlives the sim.
//!
//! Files: this one holds the dispatcher and the worker's loop; [`start`] a container's start and
//! exit; [`probe`] the probes; `pressure` eviction under memory pressure; [`status`] the pod's
//! status; [`usage`] the metrics.k8s.io sampler.

pub mod env;
pub mod ip;
mod pressure;
use pressure::{check_pressure, quantity_bytes};
mod probe;
pub mod runtime;
mod start;
pub mod status;
pub mod usage;
pub mod volumes;

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Container as ContainerSpec, Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::warn;

use super::events::{EventType, Recorder, reference};
use super::{ControllerOptions, Ctx};
use status::{Container, Eviction, KilledFor, PodState, RestartPolicy, State, Terminated};

/// Status writes in flight at once, across every pod.
pub const WRITES_IN_FLIGHT: usize = 32;
/// How often memory is sampled (a process's RSS).
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// How often an in-process container's memory is sampled: what its tasks hold changes only
/// when a task starts or ends, and 10,000 pods waking four times a second cost the sim
/// 40,000 wake-ups a second while idle.
const SAMPLE_INPROC_EVERY: Duration = Duration::from_secs(1);
/// The minimum time between SIGTERM and SIGKILL (kubelet `minimumGracePeriodInSeconds`).
const MIN_GRACE: Duration = Duration::from_secs(2);
/// The kubelet's hard eviction threshold, `memory.available<100Mi`.
pub const EVICTION_THRESHOLD: u64 = 100 << 20;
/// A container that ran this long without failing starts its back-off afresh.
const BACKOFF_RESET: SignedDuration = SignedDuration::from_mins(10);

/// The names of the simulated nodes.
pub fn node_names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("sim-node-{i}")).collect()
}

/// Memory use of one pod, for pressure evictions.
#[derive(Debug, Clone)]
struct Usage {
    node: String,
    container: String,
    bytes: u64,
    request: u64,
}

/// What all pod workers share.
struct Kubelet {
    client: Client,
    opts: Arc<ControllerOptions>,
    nodes: HashSet<String>,
    ips: &'static ip::IpPool,
    writes: Semaphore,
    recorder: Recorder,
    http: reqwest::Client,
    usage: Mutex<HashMap<String, Usage>>,
    /// Broker connections shared by the in-process agents.
    brokers: Arc<crate::queue::amqp::BrokerPool>,
    /// In-process containers running now, against `opts.max_inproc_pods`.
    inproc_live: Arc<std::sync::atomic::AtomicUsize>,
    /// Secrets and ConfigMaps read lately (a short TTL, as the kubelet's cache).
    refs: env::RefCache,
    /// CPU and memory sampling for `metrics.k8s.io`; None without metrics-server.
    meter: Option<Arc<usage::Meter>>,
}

enum Control {
    Evict(String),
    Shutdown,
}

struct Handle {
    pod: watch::Sender<Option<Arc<Pod>>>,
    ctl: mpsc::UnboundedSender<Control>,
}

/// Starts the kubelet of every simulated node.
pub fn spawn(ctx: Ctx) -> tokio::task::JoinHandle<()> {
    let kl = Arc::new(Kubelet {
        client: ctx.client.clone(),
        opts: ctx.opts.clone(),
        nodes: node_names(ctx.opts.nodes).into_iter().collect(),
        ips: ip::IpPool::global(),
        writes: Semaphore::new(WRITES_IN_FLIGHT),
        recorder: ctx.recorder("kubelet"),
        // No idle connections kept: with one per pod IP, 10,000 pods would hold 20,000
        // descriptors (both ends) between probes.
        http: reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap_or_default(),
        usage: Mutex::default(),
        brokers: Arc::new(crate::queue::amqp::BrokerPool::new("fleetctl-sim-inproc")),
        inproc_live: Arc::default(),
        refs: env::RefCache::default(),
        meter: ctx
            .usage
            .clone()
            .map(|t| usage::Meter::new(t, node_names(ctx.opts.nodes))),
    });
    if let Some(m) = &kl.meter {
        tokio::spawn(m.clone().run(ctx.shutdown.clone()));
    }
    tokio::spawn(run(kl, ctx.pods.clone(), ctx.shutdown.clone()))
}

async fn run(
    kl: Arc<Kubelet>,
    pods: Arc<super::informer::Pods>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut stream = pods.subscribe();
    let mut workers: HashMap<String, Handle> = HashMap::new();
    // Pods this kubelet ran to the end: never started again.
    let mut finished: HashSet<String> = HashSet::new();
    let mut listing: Option<HashSet<String>> = None;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, bool)>();
    let mut tasks = JoinSet::new();
    let mut pressure = tokio::time::interval(Duration::from_secs(1));
    let mut pressured: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            _ = async { let _ = shutdown.wait_for(|s| *s).await; } => break,
            // Finished pod workers are reaped as they end, not kept until shutdown.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            Some((uid, terminal)) = done_rx.recv() => {
                workers.remove(&uid);
                if terminal {
                    finished.insert(uid);
                }
            }
            _ = pressure.tick(), if kl.opts.evict_on_pressure => {
                check_pressure(&kl, &workers, &mut pressured).await;
            }
            ev = stream.recv() => match ev {
                None => break,
                Some(ev) => match ev {
                    watcher::Event::Init => listing = Some(HashSet::new()),
                    watcher::Event::InitApply(p) => {
                        if let Some(l) = listing.as_mut() {
                            l.insert(p.uid().unwrap_or_default());
                        }
                        on_pod(&kl, p, &mut workers, &mut finished, &done_tx, &mut tasks);
                    }
                    watcher::Event::InitDone => {
                        if let Some(seen) = listing.take() {
                            for (uid, h) in &workers {
                                if !seen.contains(uid) {
                                    let _ = h.pod.send(None);
                                }
                            }
                            finished.retain(|u| seen.contains(u));
                        }
                    }
                    watcher::Event::Apply(p) => {
                        on_pod(&kl, p, &mut workers, &mut finished, &done_tx, &mut tasks);
                    }
                    watcher::Event::Delete(p) => {
                        let uid = p.uid().unwrap_or_default();
                        finished.remove(&uid);
                        if let Some(h) = workers.get(&uid) {
                            let _ = h.pod.send(None);
                        }
                    }
                },
            },
        }
    }
    // Stop every container: SIGTERM, a short wait, SIGKILL.
    for h in workers.values() {
        let _ = h.ctl.send(Control::Shutdown);
    }
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(4), all)
        .await
        .is_err()
    {
        warn!("kubelet_shutdown_timeout");
        tasks.abort_all();
    }
    // The agents that shared them are gone; a process runtime never opened any.
    kl.brokers.close_all().await;
}

fn on_pod(
    kl: &Arc<Kubelet>,
    pod: Arc<Pod>,
    workers: &mut HashMap<String, Handle>,
    finished: &mut HashSet<String>,
    done: &mpsc::UnboundedSender<(String, bool)>,
    tasks: &mut JoinSet<()>,
) {
    let uid = pod.uid().unwrap_or_default();
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .unwrap_or_default();
    if uid.is_empty() || !kl.nodes.contains(&node) {
        return;
    }
    if let Some(h) = workers.get(&uid) {
        let _ = h.pod.send(Some(pod));
        return;
    }
    if finished.contains(&uid) {
        return;
    }
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    if matches!(phase.as_str(), "Succeeded" | "Failed") {
        finished.insert(uid);
        return;
    }
    if pod.metadata.deletion_timestamp.is_some() {
        // Being deleted and never run here (e.g. the sim restarted): nothing to stop.
        let kl = kl.clone();
        tasks.spawn(async move {
            final_delete(&kl, &pod).await;
        });
        finished.insert(uid);
        return;
    }
    let (ptx, prx) = watch::channel(Some(pod.clone()));
    let (ctx, crx) = mpsc::unbounded_channel();
    workers.insert(uid.clone(), Handle { pod: ptx, ctl: ctx });
    let kl = kl.clone();
    let done = done.clone();
    tasks.spawn(async move {
        let (w, exits) = Worker::new(kl, pod, node);
        let terminal = w.run(exits, prx, crx).await;
        let _ = done.send((uid, terminal));
    });
}

/// Deletes the pod for good (grace 0, this very pod).
async fn final_delete(kl: &Kubelet, pod: &Pod) {
    let api: Api<Pod> = Api::namespaced(kl.client.clone(), &pod.namespace().unwrap_or_default());
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: pod.uid(),
            resource_version: None,
        }),
        ..Default::default()
    };
    let _permit = kl.writes.acquire().await;
    if let Err(e) = api.delete(&pod.name_any(), &dp).await
        && !is_not_found(&e)
    {
        warn!(pod = %pod.name_any(), error = %e, "pod_not_deleted");
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// A place in the open-file budget, held while an in-process container runs.
struct InprocSlot(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for InprocSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A container the runtime runs now.
struct Live {
    ctl: runtime::Ctl,
    id: String,
    started_at: Timestamp,
    killed: Option<KilledFor>,
    probe_failures: i32,
    liveness_failures: i32,
}

/// The kubelet's side of one pod.
struct Worker {
    kl: Arc<Kubelet>,
    pod: Arc<Pod>,
    api: Api<Pod>,
    uid: String,
    ns: String,
    name: String,
    node: String,
    specs: Vec<ContainerSpec>,
    state: PodState,
    live: Vec<Option<Live>>,
    /// Bumped per start, so a late exit of an earlier instance is ignored.
    generation: Vec<u64>,
    restart_at: Vec<Option<Instant>>,
    next_probe: Vec<Option<Instant>>,
    /// The next livenessProbe, and the SIGKILL after a liveness SIGTERM, per container.
    next_liveness: Vec<Option<Instant>>,
    liveness_kill_at: Vec<Option<Instant>>,
    failures: Vec<u32>,
    ip: Option<Ipv4Addr>,
    kill_at: Option<Instant>,
    stop_started: Option<Instant>,
    /// The state whose status was last written. The worker's loop ends every turn (memory
    /// samples, probes, its own status coming back through the watch) with a write; comparing
    /// states costs a few string comparisons, where building the status to compare it cost a
    /// JSON tree and its text: at 10,000 pods that was a quarter of the sim's CPU.
    written: Option<PodState>,
    exits: mpsc::UnboundedSender<(usize, u64, runtime::Exit)>,
}

type ExitRx = mpsc::UnboundedReceiver<(usize, u64, runtime::Exit)>;

fn qos_class(specs: &[ContainerSpec]) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    for c in specs {
        let r = c.resources.as_ref();
        let req = r.and_then(|r| r.requests.as_ref());
        let lim = r.and_then(|r| r.limits.as_ref());
        for k in ["cpu", "memory"] {
            let rq = req.and_then(|m| m.get(k)).map(|q| q.0.as_str());
            let lm = lim.and_then(|m| m.get(k)).map(|q| q.0.as_str());
            any |= rq.is_some() || lm.is_some();
            if lm.is_none() || (rq.is_some() && rq != lm) {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        _ => "Burstable",
    }
}

impl Worker {
    fn new(kl: Arc<Kubelet>, pod: Arc<Pod>, node: String) -> (Self, ExitRx) {
        let now = Timestamp::now();
        let spec = pod.spec.clone().unwrap_or_default();
        let specs = spec.containers.clone();
        let containers = specs
            .iter()
            .map(|c| Container::new(&c.name, c.image.as_deref().unwrap_or_default()))
            .collect();
        let scheduled_at = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
            .and_then(|c| c.last_transition_time.as_ref())
            .map(|t| t.0)
            .unwrap_or(now);
        let state = PodState::new(
            RestartPolicy::parse(spec.restart_policy.as_deref()),
            containers,
            "127.0.0.1",
            qos_class(&specs),
            scheduled_at,
            now,
        );
        let n = specs.len();
        let (exits, exits_rx) = mpsc::unbounded_channel();
        let ns = pod.namespace().unwrap_or_default();
        let w = Worker {
            api: Api::namespaced(kl.client.clone(), &ns),
            kl,
            uid: pod.uid().unwrap_or_default(),
            name: pod.name_any(),
            ns,
            node,
            pod,
            specs,
            state,
            live: (0..n).map(|_| None).collect(),
            generation: vec![0; n],
            restart_at: vec![None; n],
            next_probe: vec![None; n],
            next_liveness: vec![None; n],
            liveness_kill_at: vec![None; n],
            failures: vec![0; n],
            ip: None,
            kill_at: None,
            stop_started: None,
            written: None,
            exits,
        };
        (w, exits_rx)
    }

    fn reference(&self) -> k8s_openapi::api::core::v1::ObjectReference {
        reference(&*self.pod)
    }

    async fn event(&self, kind: EventType, reason: &str, message: &str) {
        let r = self.reference();
        self.kl
            .recorder
            .record_on(&r, kind, reason, message, Some(&self.node))
            .await;
    }

    /// Records an event without waiting for it.
    fn event_later(&self, kind: EventType, reason: &'static str, message: String) {
        let r = self.reference();
        let rec = self.kl.recorder.clone();
        let node = self.node.clone();
        tokio::spawn(async move {
            rec.record_on(&r, kind, reason, &message, Some(&node)).await;
        });
    }

    /// Runs the pod; true when it ended terminal (not deleted) and must not run again.
    async fn run(
        mut self,
        mut exits_rx: ExitRx,
        mut pod_rx: watch::Receiver<Option<Arc<Pod>>>,
        mut ctl_rx: mpsc::UnboundedReceiver<Control>,
    ) -> bool {
        self.write_status().await;
        for i in 0..self.specs.len() {
            self.start(i).await;
        }
        self.write_status().await;
        let mut sample = tokio::time::interval(match self.kl.opts.runtime {
            super::RuntimeKind::Inproc => SAMPLE_INPROC_EVERY,
            super::RuntimeKind::Process => SAMPLE_EVERY,
        });
        sample.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let sampling = self.kl.opts.evict_on_pressure
            || self.specs.iter().any(|c| self.memory_limit(c).is_some());
        loop {
            let timer = self.next_timer();
            tokio::select! {
                changed = pod_rx.changed() => {
                    let latest = if changed.is_ok() { pod_rx.borrow_and_update().clone() } else { None };
                    match latest {
                        None => {
                            self.stop_now(&mut exits_rx).await;
                            self.cleanup();
                            return false;
                        }
                        Some(p) => {
                            self.pod = p;
                            if self.pod.metadata.deletion_timestamp.is_some() {
                                self.begin_stop().await;
                            }
                        }
                    }
                }
                msg = ctl_rx.recv() => match msg {
                    Some(Control::Evict(message)) => self.evict(message).await,
                    Some(Control::Shutdown) | None => {
                        self.stop_now(&mut exits_rx).await;
                        self.cleanup();
                        return false;
                    }
                },
                Some((i, generation, exit)) = exits_rx.recv() => {
                    if generation == self.generation[i] {
                        self.on_exit(i, exit).await;
                    }
                }
                _ = sample.tick(), if sampling => self.sample(),
                _ = tokio::time::sleep_until(timer.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))), if timer.is_some() => {
                    self.on_timers().await;
                }
            }
            if self.state.all_stopped() && (self.state.stopping || self.state.phase().is_terminal())
            {
                self.state.refresh(Timestamp::now());
                self.write_status().await;
                let deleting = self.pod.metadata.deletion_timestamp.is_some();
                if deleting {
                    final_delete(&self.kl, &self.pod).await;
                }
                self.cleanup();
                return !deleting;
            }
            self.write_status().await;
        }
    }

    /// An address whose declared ports nobody on the host holds (another sim may run beside
    /// this one); busy ones go back to the pool.
    fn allocate_ip(&mut self) -> Option<Ipv4Addr> {
        let ports: Vec<u16> = self
            .specs
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .filter(|p| p.protocol.as_deref().is_none_or(|pr| pr == "TCP"))
            .filter_map(|p| u16::try_from(p.container_port).ok())
            .chain(std::iter::once(8080))
            .collect();
        let mut busy = vec![];
        let mut found = None;
        for _ in 0..64 {
            let Some(ip) = self.kl.ips.allocate() else {
                break;
            };
            if ip::ports_free(ip, &ports) {
                found = Some(ip);
                break;
            }
            busy.push(ip);
        }
        for ip in busy {
            self.kl.ips.release(ip);
        }
        found
    }

    fn next_timer(&self) -> Option<Instant> {
        self.restart_at
            .iter()
            .chain(self.next_probe.iter())
            .chain(self.next_liveness.iter())
            .chain(self.liveness_kill_at.iter())
            .chain(std::iter::once(&self.kill_at))
            .flatten()
            .min()
            .copied()
    }

    fn memory_limit(&self, c: &ContainerSpec) -> Option<u64> {
        quantity_bytes(
            c.resources.as_ref().and_then(|r| r.limits.as_ref()),
            "memory",
        )
    }

    async fn on_timers(&mut self) {
        let now = Instant::now();
        if self.kill_at.is_some_and(|t| t <= now) {
            self.kill_at = None;
            for l in self.live.iter().flatten() {
                l.ctl.kill();
            }
        }
        for i in 0..self.specs.len() {
            if self.restart_at[i].is_some_and(|t| t <= now) && !self.state.stopping {
                self.start(i).await;
            }
            if self.next_probe[i].is_some_and(|t| t <= now) {
                self.probe(i).await;
            }
            if self.next_liveness[i].is_some_and(|t| t <= now) {
                self.liveness(i).await;
            }
            if self.liveness_kill_at[i].is_some_and(|t| t <= now) {
                self.liveness_kill_at[i] = None;
                if let Some(l) = &self.live[i] {
                    l.ctl.kill();
                }
            }
        }
    }

    fn sample(&mut self) {
        let mut total = 0;
        let mut top: Option<(String, u64)> = None;
        for i in 0..self.specs.len() {
            let limit = self.memory_limit(&self.specs[i]);
            let Some(live) = self.live[i].as_mut() else {
                continue;
            };
            let Some(bytes) = live.ctl.memory_bytes() else {
                continue;
            };
            total += bytes;
            if top.as_ref().is_none_or(|(_, b)| bytes > *b) {
                top = Some((self.specs[i].name.clone(), bytes));
            }
            if let Some(limit) = limit
                && bytes > limit
                && live.killed.is_none()
            {
                live.killed = Some(KilledFor::Oom);
                live.ctl.kill();
            }
        }
        if self.kl.opts.evict_on_pressure && self.state.evicted.is_none() {
            let request: u64 = self
                .specs
                .iter()
                .filter_map(|c| {
                    quantity_bytes(
                        c.resources.as_ref().and_then(|r| r.requests.as_ref()),
                        "memory",
                    )
                })
                .sum();
            let mut usage = self.kl.usage.lock().unwrap_or_else(|e| e.into_inner());
            usage.insert(
                self.uid.clone(),
                Usage {
                    node: self.node.clone(),
                    container: top.map(|(n, _)| n).unwrap_or_default(),
                    bytes: total,
                    request,
                },
            );
        }
    }

    /// Graceful deletion: SIGTERM now, SIGKILL after the grace period.
    async fn begin_stop(&mut self) {
        let grace = self
            .pod
            .metadata
            .deletion_grace_period_seconds
            .unwrap_or(30);
        let now = Instant::now();
        let started = *self.stop_started.get_or_insert(now);
        let deadline =
            crate::sim::clock::after(started, crate::sim::clock::secs(grace).max(MIN_GRACE));
        if self.state.stopping {
            // A second delete may only shorten the grace period.
            self.kill_at = self.kill_at.map(|k| k.min(deadline));
            return;
        }
        self.state.stopping = true;
        self.kill_at = Some(deadline);
        self.restart_at.iter_mut().for_each(|r| *r = None);
        self.next_probe.iter_mut().for_each(|p| *p = None);
        self.next_liveness.iter_mut().for_each(|p| *p = None);
        for (i, live) in self.live.iter().enumerate() {
            if let Some(l) = live {
                let name = self.specs[i].name.clone();
                self.event(
                    EventType::Normal,
                    "Killing",
                    &format!("Stopping container {name}"),
                )
                .await;
                l.ctl.term();
            }
        }
        self.state.refresh(Timestamp::now());
    }

    /// A pressure eviction: kill at once (hard threshold), Failed with reason Evicted.
    async fn evict(&mut self, message: String) {
        if self.state.evicted.is_some() {
            return;
        }
        let now = Timestamp::now();
        self.state.evicted = Some(Eviction {
            message: message.clone(),
            at: now,
        });
        self.state.stopping = true;
        self.restart_at.iter_mut().for_each(|r| *r = None);
        self.next_probe.iter_mut().for_each(|p| *p = None);
        self.next_liveness.iter_mut().for_each(|p| *p = None);
        for l in self.live.iter().flatten() {
            l.ctl.kill();
        }
        self.state.refresh(now);
        self.event(EventType::Warning, "Evicted", &message).await;
    }

    /// Stops every container now: SIGTERM, up to 2 s, then SIGKILL (the pod is gone or the
    /// sim stops).
    async fn stop_now(&mut self, exits: &mut ExitRx) {
        for l in self.live.iter().flatten() {
            l.ctl.term();
        }
        self.await_exits(exits, MIN_GRACE).await;
        for l in self.live.iter().flatten() {
            l.ctl.kill();
        }
        self.await_exits(exits, Duration::from_secs(1)).await;
    }

    async fn await_exits(&mut self, exits: &mut ExitRx, within: Duration) {
        let deadline = Instant::now() + within;
        while self.live.iter().any(Option::is_some) {
            match tokio::time::timeout_at(deadline, exits.recv()).await {
                Ok(Some((i, generation, _))) if generation == self.generation[i] => {
                    self.live[i] = None;
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }

    fn cleanup(&mut self) {
        if let Some(ip) = self.ip.take() {
            self.kl.ips.release(ip);
        }
        self.kl
            .usage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.uid);
        if let Some(m) = &self.kl.meter {
            m.remove_pod(&self.uid);
        }
        let dir = volumes::pod_dir(&self.kl.opts.state_dir, &self.uid);
        if dir.exists() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Writes the status when it changed since the last write.
    async fn write_status(&mut self) {
        if self.written.as_ref() == Some(&self.state) {
            return;
        }
        let body = status::patch(&self.state.status());
        let _permit = self.kl.writes.acquire().await;
        match self
            .api
            .patch_status(
                &self.name,
                &PatchParams::default(),
                &Patch::Strategic(&body),
            )
            .await
        {
            Ok(_) => self.written = Some(self.state.clone()),
            Err(e) if is_not_found(&e) => self.written = Some(self.state.clone()),
            Err(e) => warn!(pod = %self.name, error = %e, "pod_status_not_written"),
        }
    }
}
