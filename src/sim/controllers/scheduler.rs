//! The scheduler (`default-scheduler`): binds each pending pod to a node that fits its requests
//! through `pods/binding`, or, when none fits, sets `PodScheduled=False` with reason
//! `Unschedulable` and records a `FailedScheduling` event (SPEC-k8s.md §3).
//!
//! Nodes that are cordoned (`spec.unschedulable`) or not Ready take no pods. Among the nodes
//! that fit, the least allocated wins (the default `NodeResourcesFit` scoring), so pods spread.
//! Pods come from the shared pod watch into an index kept current per event (each pod's
//! requests parsed once, each node's allocated total, the pending pods in order), nodes from a
//! reflector; a pass runs after changes settle (not once per event) and costs what is pending,
//! and pods bound but not yet seen bound are "assumed" on their node, as in kube-scheduler.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, warn};

use super::Ctx;
use super::events::{EventType, Recorder, reference};

pub const SCHEDULER_NAME: &str = "default-scheduler";
/// Bindings in flight at once.
const BINDS_IN_FLIGHT: usize = 32;

/// What the scheduler needs of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub cpu_millis: u64,
    pub memory: u64,
    pub pods: u64,
    pub unschedulable: bool,
    pub ready: bool,
}

/// Requests of a pod, or what a node has handed out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    pub cpu_millis: u64,
    pub memory: u64,
    pub pods: u64,
}

impl Resources {
    fn add(&mut self, o: Resources) {
        self.cpu_millis += o.cpu_millis;
        self.memory += o.memory;
        self.pods += o.pods;
    }

    fn sub(&mut self, o: Resources) {
        self.cpu_millis = self.cpu_millis.saturating_sub(o.cpu_millis);
        self.memory = self.memory.saturating_sub(o.memory);
        self.pods = self.pods.saturating_sub(o.pods);
    }
}

fn q_millis(m: Option<&BTreeMap<String, Quantity>>, k: &str) -> Option<u64> {
    m.and_then(|m| m.get(k))
        .and_then(|q| crate::fleet::objects::parse_cpu_millis(&q.0))
}

fn q_bytes(m: Option<&BTreeMap<String, Quantity>>, k: &str) -> Option<u64> {
    m.and_then(|m| m.get(k))
        .and_then(|q| crate::fleet::objects::parse_quantity_bytes(&q.0))
}

/// A pod's requests: the sum over its containers (a limit stands in for a missing request),
/// or the largest init container's when that is more.
pub fn requests(pod: &Pod) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources {
            pods: 1,
            ..Default::default()
        };
    };
    let one = |c: &k8s_openapi::api::core::v1::Container| {
        let r = c.resources.as_ref();
        let req = r.and_then(|r| r.requests.as_ref());
        let lim = r.and_then(|r| r.limits.as_ref());
        (
            q_millis(req, "cpu").or(q_millis(lim, "cpu")).unwrap_or(0),
            q_bytes(req, "memory")
                .or(q_bytes(lim, "memory"))
                .unwrap_or(0),
        )
    };
    let mut cpu = 0;
    let mut mem = 0;
    for c in &spec.containers {
        let (c, m) = one(c);
        cpu += c;
        mem += m;
    }
    for c in spec.init_containers.iter().flatten() {
        let (c, m) = one(c);
        cpu = cpu.max(c);
        mem = mem.max(m);
    }
    Resources {
        cpu_millis: cpu,
        memory: mem,
        pods: 1,
    }
}

pub fn node_info(n: &Node) -> NodeInfo {
    let alloc = n.status.as_ref().and_then(|s| s.allocatable.as_ref());
    NodeInfo {
        name: n.name_any(),
        cpu_millis: q_millis(alloc, "cpu").unwrap_or(0),
        memory: q_bytes(alloc, "memory").unwrap_or(0),
        pods: alloc
            .and_then(|m| m.get("pods"))
            .and_then(|q| q.0.parse().ok())
            .unwrap_or(110),
        unschedulable: n
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false),
        ready: n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
            .is_some_and(|c| c.status == "True"),
    }
}

/// Why no node takes a pod. `Display` is the FailedScheduling message, as the real scheduler
/// words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unschedulable {
    #[error("no nodes available to schedule pods")]
    NoNodes,
    /// Every node refused: `reasons` and `preemption` are counted and sorted ("1 Too many pods").
    #[error(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {}.",
        .reasons.join(", "),
        .preemption.join(", ")
    )]
    NoFit {
        total: usize,
        reasons: Vec<String>,
        preemption: Vec<String>,
    },
}

/// The node for a pod requesting `req`, or why none fits.
pub fn place(
    req: Resources,
    nodes: &[NodeInfo],
    used: &HashMap<String, Resources>,
) -> Result<String, Unschedulable> {
    let mut reasons: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut resource_short = 0;
    let mut best: Option<(f64, &str)> = None;
    for n in nodes {
        let u = used.get(&n.name).copied().unwrap_or_default();
        let mut why: Vec<&'static str> = vec![];
        if n.unschedulable {
            why.push("node(s) were unschedulable");
        } else if !n.ready {
            why.push("node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
        } else {
            if u.pods + 1 > n.pods {
                why.push("Too many pods");
            }
            if u.cpu_millis + req.cpu_millis > n.cpu_millis {
                why.push("Insufficient cpu");
            }
            if u.memory + req.memory > n.memory {
                why.push("Insufficient memory");
            }
            if !why.is_empty() {
                resource_short += 1;
            }
        }
        if why.is_empty() {
            let frac = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
            let score = frac(u.cpu_millis + req.cpu_millis, n.cpu_millis)
                + frac(u.memory + req.memory, n.memory)
                + frac(u.pods + 1, n.pods);
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, &n.name));
            }
        }
        for w in why {
            *reasons.entry(w).or_default() += 1;
        }
    }
    if let Some((_, name)) = best {
        return Ok(name.to_string());
    }
    let total = nodes.len();
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    let mut preemption: Vec<String> = vec![];
    if resource_short > 0 {
        preemption.push(format!(
            "{resource_short} No preemption victims found for incoming pod"
        ));
    }
    if total - resource_short > 0 {
        preemption.push(format!(
            "{} Preemption is not helpful for scheduling",
            total - resource_short
        ));
    }
    preemption.sort();
    if total == 0 {
        return Err(Unschedulable::NoNodes);
    }
    Err(Unschedulable::NoFit {
        total,
        reasons: parts,
        preemption,
    })
}

fn is_terminal(p: &Pod) -> bool {
    matches!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn node_of(p: &Pod) -> Option<&str> {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

fn ours(p: &Pod) -> bool {
    p.spec
        .as_ref()
        .and_then(|s| s.scheduler_name.as_deref())
        .is_none_or(|n| n.is_empty() || n == SCHEDULER_NAME)
}

fn unschedulable_message(p: &Pod) -> Option<&str> {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
        .filter(|c| c.status == "False")
        .and_then(|c| c.message.as_deref())
}

/// Stops the watch task when the scheduler stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the scheduler keeps of one pod.
struct Entry {
    pod: Arc<Pod>,
    req: Resources,
    /// Bound and not finished: its requests count on `node`.
    node: Option<String>,
    /// Has a node (finished or not).
    bound: bool,
    /// The order pending pods are tried in: (creationTimestamp, name).
    order: (Option<jiff::Timestamp>, String),
    pending: bool,
}

/// Pods by uid, what each node has handed out, and the pods waiting for a node, kept current
/// event by event so that a pass costs what is pending, not what exists.
#[derive(Default)]
pub struct Index {
    pods: HashMap<String, Entry>,
    used: HashMap<String, Resources>,
    pending: BTreeSet<((Option<jiff::Timestamp>, String), String)>,
}

impl Index {
    fn remove(&mut self, uid: &str) {
        if let Some(e) = self.pods.remove(uid) {
            if let Some(n) = &e.node
                && let Some(u) = self.used.get_mut(n)
            {
                u.sub(e.req);
            }
            if e.pending {
                self.pending.remove(&(e.order, uid.to_string()));
            }
        }
    }

    fn upsert(&mut self, pod: Arc<Pod>) {
        let uid = pod.uid().unwrap_or_default();
        self.remove(&uid);
        let req = requests(&pod);
        let bound = node_of(&pod).map(str::to_string);
        let node = bound.clone().filter(|_| !is_terminal(&pod));
        let pending = bound.is_none()
            && pod.metadata.deletion_timestamp.is_none()
            && !is_terminal(&pod)
            && ours(&pod);
        let order = (
            pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
            pod.name_any(),
        );
        if let Some(n) = &node {
            self.used.entry(n.clone()).or_default().add(req);
        }
        if pending {
            self.pending.insert((order.clone(), uid.clone()));
        }
        self.pods.insert(
            uid,
            Entry {
                pod,
                req,
                bound: bound.is_some(),
                node,
                order,
                pending,
            },
        );
    }

    /// Applies one event of the pod watch (a re-list builds a new index, swapped in at its
    /// end by the caller).
    pub fn apply(&mut self, ev: super::informer::PodEvent) {
        match ev {
            watcher::Event::Apply(p) | watcher::Event::InitApply(p) => self.upsert(p),
            watcher::Event::Delete(p) => self.remove(&p.uid().unwrap_or_default()),
            watcher::Event::Init | watcher::Event::InitDone => {}
        }
    }

    /// Whether the pod exists and has no node yet.
    fn unbound(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|e| !e.bound)
    }

    fn is_pending(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|e| e.pending)
    }

    /// Takes a pod out of the pending queue once it is assumed on a node, so that passes while
    /// its binding is under way do not look at it again.
    fn take(&mut self, uid: &str) {
        if let Some(e) = self.pods.get_mut(uid)
            && e.pending
        {
            e.pending = false;
            self.pending.remove(&(e.order.clone(), uid.to_string()));
        }
    }

    /// Puts a pod whose binding failed back in the queue (if it still waits for a node).
    fn requeue(&mut self, uid: &str) {
        if let Some(e) = self.pods.get_mut(uid)
            && !e.bound
            && !e.pending
        {
            e.pending = true;
            self.pending.insert((e.order.clone(), uid.to_string()));
        }
    }
}

struct Scheduler {
    client: Client,
    recorder: Recorder,
    /// Pods bound by us and not yet seen bound: uid → (node, requests).
    assumed: Mutex<HashMap<String, (String, Resources)>>,
    /// The Unschedulable message last written per pod.
    marked: Mutex<HashMap<String, String>>,
    binds: Semaphore,
    wake: Notify,
    index: Mutex<Index>,
}

pub async fn run(ctx: Ctx) {
    let (nodes, nw) = reflector::store::<Node>();
    let s = Arc::new(Scheduler {
        client: ctx.client.clone(),
        recorder: ctx.recorder(SCHEDULER_NAME),
        assumed: Mutex::default(),
        marked: Mutex::default(),
        binds: Semaphore::new(BINDS_IN_FLIGHT),
        wake: Notify::new(),
        index: Mutex::default(),
    });
    let node_stream = reflector(
        nw,
        watcher(
            Api::<Node>::all(ctx.client.clone()),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .boxed();
    let mut pod_events = ctx.pods.subscribe();
    let pod_stream = futures::stream::poll_fn(move |cx| pod_events.poll_recv(cx));
    let wake = s.clone();
    let _driver = AbortOnDrop(tokio::spawn(async move {
        let mut both = futures::stream::select(
            pod_stream.map(Some),
            node_stream.map(|_| None::<super::informer::PodEvent>),
        );
        let mut listing: Option<Index> = None;
        while let Some(ev) = both.next().await {
            if let Some(ev) = ev {
                let mut index = wake.index.lock().unwrap_or_else(|e| e.into_inner());
                match ev {
                    watcher::Event::Init => listing = Some(Index::default()),
                    watcher::Event::InitDone => {
                        if let Some(l) = listing.take() {
                            *index = l;
                        }
                    }
                    watcher::Event::InitApply(p) => {
                        if let Some(l) = listing.as_mut() {
                            l.upsert(p);
                        }
                    }
                    ev => index.apply(ev),
                }
            }
            wake.wake.notify_one();
        }
    }));
    ctx.pods.wait_until_ready().await;
    if nodes.wait_until_ready().await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            _ = s.wake.notified() => {}
            // Unschedulable pods are retried now and then even when nothing changes.
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        // Let a burst of changes settle into one pass.
        tokio::time::sleep(Duration::from_millis(20)).await;
        pass(&s, &nodes.state());
    }
}

fn pass(s: &Arc<Scheduler>, nodes: &[Arc<Node>]) {
    let mut infos: Vec<NodeInfo> = nodes.iter().map(|n| node_info(n)).collect();
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    let mut index = s.index.lock().unwrap_or_else(|e| e.into_inner());
    let mut used = index.used.clone();
    let mut assumed = s.assumed.lock().unwrap_or_else(|e| e.into_inner());
    // Assumed until seen bound (or gone).
    assumed.retain(|uid, _| index.unbound(uid));
    for (node, req) in assumed.values() {
        used.entry(node.clone()).or_default().add(*req);
    }
    s.marked
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|uid, _| index.is_pending(uid));
    let pending: Vec<(String, Resources, Arc<Pod>)> = index
        .pending
        .iter()
        .filter(|(_, uid)| !assumed.contains_key(uid))
        .filter_map(|(_, uid)| {
            let e = index.pods.get(uid)?;
            Some((uid.clone(), e.req, e.pod.clone()))
        })
        .collect();
    for (uid, req, p) in pending {
        let uid = &uid;
        let p = &p;
        match place(req, &infos, &used) {
            Ok(node) => {
                used.entry(node.clone()).or_default().add(req);
                assumed.insert(uid.clone(), (node.clone(), req));
                index.take(uid);
                tokio::spawn(bind(s.clone(), p.clone(), node));
            }
            Err(why) => {
                let msg = why.to_string();
                let mut marked = s.marked.lock().unwrap_or_else(|e| e.into_inner());
                let already = marked.get(uid).map(String::as_str) == Some(msg.as_str())
                    || unschedulable_message(p) == Some(msg.as_str());
                if !already {
                    marked.insert(uid.clone(), msg.clone());
                    tokio::spawn(mark_unschedulable(s.clone(), p.clone(), msg));
                }
            }
        }
    }
}

async fn bind(s: Arc<Scheduler>, pod: Arc<Pod>, node: String) {
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let uid = pod.uid().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(s.client.clone(), &ns);
    let body = json!({"apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": name, "namespace": ns, "uid": uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node}});
    let result = {
        let _permit = s.binds.acquire().await;
        api.create_subresource::<_, serde_json::Value>(
            "binding",
            &name,
            &PostParams::default(),
            &body,
        )
        .await
    };
    match result {
        Ok(_) => {
            s.recorder
                .record(
                    &reference(&*pod),
                    EventType::Normal,
                    "Scheduled",
                    &format!("Successfully assigned {ns}/{name} to {node}"),
                )
                .await;
        }
        Err(e) => {
            debug!(pod = %name, error = %e, "bind_failed");
            s.assumed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&uid);
            s.index
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .requeue(&uid);
            s.wake.notify_one();
        }
    }
}

async fn mark_unschedulable(s: Arc<Scheduler>, pod: Arc<Pod>, msg: String) {
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let api: Api<Pod> = Api::namespaced(s.client.clone(), &ns);
    let now = super::kubelet::status::ts(jiff::Timestamp::now());
    let patch = json!({"status": {"conditions": [{"type": "PodScheduled", "status": "False",
        "reason": "Unschedulable", "message": msg, "lastProbeTime": null, "lastTransitionTime": now}]}});
    if let Err(e) = api
        .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
    {
        if !matches!(&e, kube::Error::Api(s) if s.code == 404) {
            warn!(pod = %name, error = %e, "pod_status_not_written");
        }
        return;
    }
    s.recorder
        .record(
            &reference(&*pod),
            EventType::Warning,
            "FailedScheduling",
            &msg,
        )
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cpu: u64, mem: u64) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            cpu_millis: cpu,
            memory: mem,
            pods: 110,
            unschedulable: false,
            ready: true,
        }
    }

    fn req(cpu: u64, mem: u64) -> Resources {
        Resources {
            cpu_millis: cpu,
            memory: mem,
            pods: 1,
        }
    }

    #[test]
    fn least_allocated_node_wins() {
        let nodes = vec![node("a", 1000, 1 << 30), node("b", 1000, 1 << 30)];
        let mut used = HashMap::new();
        used.insert("a".to_string(), req(500, 0));
        assert_eq!(place(req(100, 0), &nodes, &used), Ok("b".into()));
    }

    #[test]
    fn nothing_fits_names_every_reason() {
        let mut nodes = vec![
            node("a", 1000, 1 << 30),
            node("b", 100, 1 << 30),
            node("c", 8000, 1 << 20),
        ];
        nodes[0].unschedulable = true;
        let err = place(req(500, 512 << 20), &nodes, &HashMap::new()).unwrap_err();
        assert!(
            matches!(err, Unschedulable::NoFit { total: 3, .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) were unschedulable. \
             preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
        let full = vec![NodeInfo {
            pods: 1,
            ..node("a", 1000, 1 << 30)
        }];
        let mut used = HashMap::new();
        used.insert("a".to_string(), req(0, 0));
        assert!(
            place(req(0, 0), &full, &used)
                .unwrap_err()
                .to_string()
                .starts_with("0/1 nodes are available: 1 Too many pods.")
        );
    }

    fn pod_at(uid: &str, node: Option<&str>, phase: &str) -> Arc<Pod> {
        let mut spec = json!({"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Mi"}}}]});
        if let Some(n) = node {
            spec["nodeName"] = json!(n);
        }
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": uid, "namespace": "a", "uid": uid},
                "spec": spec, "status": {"phase": phase}}))
            .unwrap(),
        )
    }

    #[test]
    fn the_index_follows_each_pod_from_pending_to_bound_to_finished_to_gone() {
        let mut ix = Index::default();
        ix.apply(watcher::Event::Apply(pod_at("p1", None, "Pending")));
        ix.apply(watcher::Event::Apply(pod_at("p2", None, "Pending")));
        assert_eq!(ix.pending.len(), 2);
        assert!(ix.unbound("p1"));
        ix.apply(watcher::Event::Apply(pod_at("p1", Some("n1"), "Pending")));
        assert_eq!(ix.pending.len(), 1, "bound: no longer pending");
        assert!(!ix.unbound("p1"));
        assert_eq!(ix.used["n1"], req(100, 1 << 20));
        ix.apply(watcher::Event::Apply(pod_at("p1", Some("n1"), "Running")));
        assert_eq!(
            ix.used["n1"],
            req(100, 1 << 20),
            "an update is not counted twice"
        );
        ix.apply(watcher::Event::Apply(pod_at("p1", Some("n1"), "Succeeded")));
        assert_eq!(ix.used["n1"].pods, 0, "a finished pod frees its node");
        assert!(!ix.unbound("p1"), "finished pods stay bound");
        ix.take("p2");
        assert!(ix.pending.is_empty(), "assumed: out of the queue");
        ix.requeue("p2");
        assert_eq!(ix.pending.len(), 1, "its binding failed: back in the queue");
        ix.apply(watcher::Event::Delete(pod_at("p2", None, "Pending")));
        assert!(ix.pending.is_empty());
        assert!(!ix.unbound("p2"), "gone");
    }

    #[test]
    fn requests_fall_back_to_limits() {
        let p: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}},
            {"name": "b", "resources": {"limits": {"cpu": "1", "memory": "512Mi"}}}]}}))
            .unwrap();
        assert_eq!(
            requests(&p),
            Resources {
                cpu_millis: 1250,
                memory: (1 << 30) + (512 << 20),
                pods: 1
            }
        );
    }
}
