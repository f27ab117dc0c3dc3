//! The fleet model: slim copies of the cluster objects the console shows, and the fleets they
//! make up (DESIGN.md "Fleets").
//!
//! The edge (`cluster::watch`) turns wire objects into the slim types of [`super::objects`]
//! through their `from_json` constructors, which read only what the console
//! shows (never `managedFields`). [`Model`] holds one namespace: the slim objects keyed by name, the queue
//! readings, the kinds RBAC refused, the [`Fleet`]s derived from all of that, and a per-fleet
//! [`FleetHistory`] (disruption timeline, sparkline series, restart counter).
//!
//! Two kinds of data live in the model:
//! - **state**: everything a fresh list of the cluster determines. Two models built from the same
//!   objects compare equal ([`PartialEq`]), however the objects arrived.
//! - **history**: what was seen happening over time. It cannot be rebuilt from a list, survives
//!   re-lists, is bounded, and is left out of the comparison.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::objects::*;
use super::scaling::{self, TriggerReading};
use super::selector::Selector;

/// Disruptions kept per fleet.
pub const DISRUPTION_HISTORY: usize = 500;
/// One sparkline point per this much time.
pub const SERIES_STEP: SignedDuration = SignedDuration::from_secs(5);
/// Points per ring buffer: one hour at [`SERIES_STEP`].
pub const SERIES_LEN: usize = 720;

// ---------------------------------------------------------------------------------------------
// Disruptions and history

/// Why an agent was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DisruptionKind {
    /// A container was OOMKilled.
    OomKilled,
    /// Kubelet node-pressure eviction, or another `DisruptionTarget` reason (taint manager, pod
    /// GC).
    Evicted,
    /// `PreemptionByScheduler`.
    Preempted,
    /// `EvictionByEvictionAPI` (a drain).
    ApiEviction,
}

/// One disruption on a fleet's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disruption {
    pub kind: DisruptionKind,
    pub pod: String,
    pub node: Option<String>,
    pub at: Timestamp,
    pub message: String,
}

impl DisruptionKind {
    pub const ALL: [DisruptionKind; 4] = [
        DisruptionKind::OomKilled,
        DisruptionKind::Evicted,
        DisruptionKind::Preempted,
        DisruptionKind::ApiEviction,
    ];
}

/// The disruptions a pod shows now, as (kind, time the pod reports): its last OOMKill, and its
/// eviction or preemption (`status.reason: Evicted` or a `DisruptionTarget` condition).
/// Re-reading the same pod gives the same keys, which is what de-duplication relies on.
pub fn disruption_keys(pod: &AgentPod) -> [Option<(DisruptionKind, Option<Timestamp>)>; 2] {
    let oom = pod
        .last_oom
        .as_ref()
        .map(|o| (DisruptionKind::OomKilled, o.at));
    let target = pod.disruption_target.as_ref();
    let kind = match target.map(|t| t.reason.as_str()) {
        Some("EvictionByEvictionAPI") => Some(DisruptionKind::ApiEviction),
        Some("PreemptionByScheduler") => Some(DisruptionKind::Preempted),
        Some(_) => Some(DisruptionKind::Evicted),
        None if pod.status_reason.as_deref() == Some("Evicted") => Some(DisruptionKind::Evicted),
        None => None,
    };
    [oom, kind.map(|k| (k, target.and_then(|t| t.at)))]
}

/// What the timeline says about a disruption of `kind` that `pod` shows.
pub fn disruption_message(pod: &AgentPod, kind: DisruptionKind) -> String {
    match (kind, &pod.last_oom) {
        (DisruptionKind::OomKilled, Some(oom)) => {
            let limit = pod
                .memory_limit_bytes
                .map(|b| format!(", pod memory limit {} MiB", b / (1024 * 1024)))
                .unwrap_or_default();
            format!(
                "container {} OOMKilled (exit {}){limit}",
                oom.container, oom.exit_code
            )
        }
        _ => {
            let target = pod.disruption_target.as_ref();
            pod.status_message
                .clone()
                .or_else(|| target.and_then(|t| t.message.clone()))
                .or_else(|| target.map(|t| t.reason.clone()))
                .unwrap_or_else(|| "Evicted".into())
        }
    }
}

/// A bounded buffer of samples, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ring<T> {
    cap: usize,
    items: VecDeque<T>,
}

impl<T> Ring<T> {
    pub fn new(cap: usize) -> Self {
        Ring {
            cap,
            items: VecDeque::new(),
        }
    }
    pub fn push(&mut self, item: T) {
        if self.items.len() == self.cap {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }
    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }
    pub fn last_mut(&mut self) -> Option<&mut T> {
        self.items.back_mut()
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items.iter()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// One sparkline point: queue depth against pod count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub at: Timestamp,
    pub queue_ready: Option<u64>,
    /// Pods Pending or Running.
    pub pods: i64,
    pub active_jobs: i64,
}

/// A monotonic counter's value at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterPoint {
    pub at: Timestamp,
    pub total: u64,
}

/// What was seen happening to a fleet: not rebuilt by a re-list, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetHistory {
    /// Sorted by time, at most [`DISRUPTION_HISTORY`].
    pub disruptions: VecDeque<Disruption>,
    /// One point per [`SERIES_STEP`].
    pub series: Ring<SeriesPoint>,
    /// Container restarts plus Job retries (`status.failed` increases) seen since the model
    /// started, one point per [`SERIES_STEP`], starting at 0.
    pub restarts: Ring<CounterPoint>,
    pub last_activity: Timestamp,
}

impl FleetHistory {
    pub fn new(now: Timestamp) -> Self {
        let mut restarts = Ring::new(SERIES_LEN);
        restarts.push(CounterPoint { at: now, total: 0 });
        FleetHistory {
            disruptions: VecDeque::new(),
            series: Ring::new(SERIES_LEN),
            restarts,
            last_activity: now,
        }
    }

    /// Adds a disruption in time order, dropping the oldest beyond the bound.
    pub fn record(&mut self, d: Disruption) {
        self.last_activity = self.last_activity.max(d.at);
        let pos = self.disruptions.partition_point(|x| x.at <= d.at);
        self.disruptions.insert(pos, d);
        if self.disruptions.len() > DISRUPTION_HISTORY {
            self.disruptions.pop_front();
        }
    }

    /// Disruptions of `kind` at or after `since`.
    pub fn count_since(&self, kind: DisruptionKind, since: Timestamp) -> usize {
        self.disruptions
            .iter()
            .rev()
            .take_while(|d| d.at >= since)
            .filter(|d| d.kind == kind)
            .count()
    }

    /// Adds `n` restarts or retries seen at `now`.
    pub fn add_restarts(&mut self, now: Timestamp, n: u64) {
        let total = self.restarts.last().map_or(0, |p| p.total) + n;
        sample(
            &mut self.restarts,
            CounterPoint { at: now, total },
            |p, t| p.at = t,
        );
        self.last_activity = self.last_activity.max(now);
    }

    /// Restarts plus retries per minute over the last `window`. The counter only changes at
    /// its points, so its value at the window's start is the last point before it; when the
    /// history is shorter than the window, the rate is over the history, but over at least a
    /// minute (one burst right after the model started is not a storm).
    pub fn restarts_per_minute(&self, now: Timestamp, window: SignedDuration) -> f64 {
        let (Some(first), Some(last)) = (self.restarts.iter().next(), self.restarts.last()) else {
            return 0.0;
        };
        let since = now - window;
        let (base, from) = match self.restarts.iter().rev().find(|p| p.at <= since) {
            Some(p) => (p.total, since),
            None => (first.total, first.at),
        };
        let minutes = now
            .duration_since(from)
            .max(SignedDuration::from_mins(1))
            .as_secs_f64()
            / 60.0;
        last.total.saturating_sub(base) as f64 / minutes
    }

    pub fn sample_series(&mut self, point: SeriesPoint) {
        sample(&mut self.series, point, |p, t| p.at = t);
    }
}

/// A sample with a time.
pub trait Timed {
    fn at(&self) -> Timestamp;
}

impl Timed for SeriesPoint {
    fn at(&self) -> Timestamp {
        self.at
    }
}

impl Timed for CounterPoint {
    fn at(&self) -> Timestamp {
        self.at
    }
}

/// Appends `point`, or, while the last point is less than a step old, overwrites that point's
/// values and keeps its time (so a step's point is the latest value seen in that step).
fn sample<T: Timed>(ring: &mut Ring<T>, mut point: T, set_at: impl Fn(&mut T, Timestamp)) {
    if let Some(last) = ring.last_mut() {
        let start = last.at();
        if point.at() < start + SERIES_STEP {
            set_at(&mut point, start);
            *last = point;
            return;
        }
    }
    ring.push(point);
}

// ---------------------------------------------------------------------------------------------
// Fleets

/// Pods of a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PodCounts {
    pub total: i64,
    pub pending: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub unknown: i64,
    pub ready: i64,
    pub restarts: i64,
    pub unschedulable: i64,
    pub terminating: i64,
    /// Pods with a container that has no memory limit.
    pub without_memory_limit: i64,
}

impl PodCounts {
    pub fn of(pod: &AgentPod) -> Self {
        let phase = |p| i64::from(pod.phase == p);
        PodCounts {
            total: 1,
            pending: phase(PodPhase::Pending),
            running: phase(PodPhase::Running),
            succeeded: phase(PodPhase::Succeeded),
            failed: phase(PodPhase::Failed),
            unknown: phase(PodPhase::Unknown),
            ready: i64::from(pod.ready),
            restarts: i64::from(pod.restarts),
            unschedulable: i64::from(pod.unschedulable && pod.phase == PodPhase::Pending),
            terminating: i64::from(pod.deletion),
            without_memory_limit: i64::from(pod.containers_without_memory_limit > 0),
        }
    }

    /// `self += sign · other`.
    pub fn add(&mut self, o: &Self, sign: i64) {
        self.total += sign * o.total;
        self.pending += sign * o.pending;
        self.running += sign * o.running;
        self.succeeded += sign * o.succeeded;
        self.failed += sign * o.failed;
        self.unknown += sign * o.unknown;
        self.ready += sign * o.ready;
        self.restarts += sign * o.restarts;
        self.unschedulable += sign * o.unschedulable;
        self.terminating += sign * o.terminating;
        self.without_memory_limit += sign * o.without_memory_limit;
    }
}

/// Jobs of a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobTotals {
    /// ScaledJob: unfinished Jobs plus the predicted next scale; Job: completions (else
    /// parallelism); Deployment: replicas.
    pub desired: i64,
    /// Job objects.
    pub jobs: i64,
    /// Neither Complete nor Failed (KEDA's R).
    pub unfinished: i64,
    /// Unfinished with no pod Running or Succeeded (KEDA's P).
    pub pending: i64,
    /// `status.active`, summed.
    pub active: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Jobs with `Complete=True`.
    pub complete: i64,
    /// Jobs with `Failed=True`.
    pub failed_jobs: i64,
    /// Jobs with `spec.suspend`.
    pub suspended: i64,
}

impl JobTotals {
    /// One Job's share, given how many of its pods are Running or Succeeded.
    pub fn of(job: &JobSummary, started_pods: u32) -> Self {
        let unfinished = job.unfinished();
        JobTotals {
            desired: 0,
            jobs: 1,
            unfinished: i64::from(unfinished),
            pending: i64::from(unfinished && started_pods == 0),
            active: i64::from(job.active),
            succeeded: i64::from(job.succeeded),
            failed: i64::from(job.failed),
            complete: i64::from(job.conditions.complete),
            failed_jobs: i64::from(job.conditions.failed),
            suspended: i64::from(job.suspended),
        }
    }

    pub fn add(&mut self, o: &Self, sign: i64) {
        self.desired += sign * o.desired;
        self.jobs += sign * o.jobs;
        self.unfinished += sign * o.unfinished;
        self.pending += sign * o.pending;
        self.active += sign * o.active;
        self.succeeded += sign * o.succeeded;
        self.failed += sign * o.failed;
        self.complete += sign * o.complete;
        self.failed_jobs += sign * o.failed_jobs;
        self.suspended += sign * o.suspended;
    }
}

/// A fleet's pod and Job sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Tally {
    pub pods: PodCounts,
    pub jobs: JobTotals,
}

/// One fleet, as the fleets screen and `fleetctl status` show it. Only state: the history is in
/// [`Model::history`], the findings come from [`super::health::findings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    pub name: String,
    pub kind: FleetKind,
    pub state: FleetState,
    pub queue: Option<String>,
    pub queue_stats: Option<QueueStats>,
    /// The pod template's labels (what PDBs and NetworkPolicies select).
    pub pod_labels: Labels,
    /// The selector that picks exactly this fleet's pods.
    pub pod_selector: Selector,
    pub metrics_port: Option<u16>,
    pub metrics_port_name: Option<String>,
    /// Containers of the pod template without a memory limit.
    pub template_without_memory_limit: u32,
    pub jobs: JobTotals,
    pub pods: PodCounts,
    /// The first PDB (by name) selecting the pod template.
    pub pdb: Option<PdbStatus>,
    /// Further PDBs selecting it (the Eviction API refuses such pods with 500).
    pub other_pdbs: Vec<String>,
    /// Jobs KEDA creates at its next poll, from the last queue reading (ScaledJob only).
    pub predicted_next_scale: Option<i64>,
    pub created: Option<Timestamp>,
}

impl Fleet {
    pub fn id(&self) -> FleetId {
        FleetId::new(self.kind, self.name.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// The model

/// Derived indexes: a pure function of the objects, kept incrementally by `apply`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Index {
    /// Per fleet id (whether or not that fleet exists yet).
    pub tallies: HashMap<FleetId, Tally>,
    /// Pod names per job name.
    pub job_pods: HashMap<String, HashSet<String>>,
    /// Pods Running or Succeeded per job name.
    pub job_started: HashMap<String, u32>,
}

impl Index {
    /// The same index without the zero entries an incremental one leaves behind.
    #[cfg(test)]
    pub fn normalized(&self) -> Index {
        Index {
            tallies: self
                .tallies
                .iter()
                .filter(|(_, t)| **t != Tally::default())
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            job_pods: self
                .job_pods
                .iter()
                .filter(|(_, s)| !s.is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            job_started: self
                .job_started
                .iter()
                .filter(|(_, n)| **n != 0)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        }
    }
}

/// A whole namespace as a fresh list shows it: the input of [`Model::from_state`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterState {
    pub namespace: String,
    pub selector: Selector,
    pub objects: Vec<Object>,
    pub queues: BTreeMap<String, QueueStats>,
}

/// All fleets of one namespace, the slim objects they are made of, and their history.
///
/// Equality compares the state (objects, queues, unavailable kinds, fleets) and ignores the
/// history, which no list can rebuild.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub(super) namespace: String,
    pub(super) selector: Selector,
    pub(super) scaled_jobs: BTreeMap<String, ScaledJobSummary>,
    pub(super) jobs: BTreeMap<String, JobSummary>,
    pub(super) deployments: BTreeMap<String, DeploymentSummary>,
    pub(super) pods: BTreeMap<String, AgentPod>,
    pub(super) pdbs: BTreeMap<String, PdbStatus>,
    pub(super) network_policies: BTreeMap<String, NetworkPolicySummary>,
    pub(super) events: BTreeMap<String, EventSummary>,
    pub(super) queues: BTreeMap<String, QueueStats>,
    /// Kinds the API refused (RBAC), with the reason: their panels degrade.
    pub(super) unavailable: BTreeMap<ObjectKind, String>,
    pub(super) fleets: BTreeMap<FleetId, Fleet>,
    pub(super) history: BTreeMap<FleetId, FleetHistory>,
    #[serde(skip)]
    pub(super) index: Index,
    /// Disruptions already recorded, per pod uid: (kind, time the pod reports).
    #[serde(skip)]
    pub(super) seen: HashMap<String, Vec<(DisruptionKind, Option<Timestamp>)>>,
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        // Exhaustive on purpose: a new field has to be placed on one side or the other.
        let Model {
            namespace,
            selector,
            scaled_jobs,
            jobs,
            deployments,
            pods,
            pdbs,
            network_policies,
            events,
            queues,
            unavailable,
            fleets,
            history: _,
            index: _,
            seen: _,
        } = self;
        *namespace == other.namespace
            && *selector == other.selector
            && *scaled_jobs == other.scaled_jobs
            && *jobs == other.jobs
            && *deployments == other.deployments
            && *pods == other.pods
            && *pdbs == other.pdbs
            && *network_policies == other.network_policies
            && *events == other.events
            && *queues == other.queues
            && *unavailable == other.unavailable
            && *fleets == other.fleets
    }
}

/// The fleet of a Job's pods: its ScaledJob, or the Job itself.
pub(super) fn job_fleet(job: &JobSummary) -> FleetId {
    match &job.scaled_job {
        Some(sj) => FleetId::new(FleetKind::ScaledJob, sj.clone()),
        None => FleetId::new(FleetKind::Job, job.name.clone()),
    }
}

/// The fleet a pod counts toward, given the Jobs: Pod → Job → ScaledJob through the Job object
/// when it is known, else through the pod's own labels.
pub(super) fn pod_fleet(pod: &AgentPod, jobs: &BTreeMap<String, JobSummary>) -> Option<FleetId> {
    if let Some(job) = &pod.job_name {
        if let Some(j) = jobs.get(job) {
            return Some(job_fleet(j));
        }
        return Some(match &pod.scaled_job {
            Some(sj) => FleetId::new(FleetKind::ScaledJob, sj.clone()),
            None => FleetId::new(FleetKind::Job, job.clone()),
        });
    }
    if let Some(sj) = &pod.scaled_job {
        return Some(FleetId::new(FleetKind::ScaledJob, sj.clone()));
    }
    pod.deployment
        .as_ref()
        .map(|d| FleetId::new(FleetKind::Deployment, d.clone()))
}

impl Model {
    /// An empty model of `namespace` with the default selector `app=ai-agent`.
    pub fn new(namespace: impl Into<String>) -> Self {
        let selector = Selector::from_labels(Labels::from([(
            DEFAULT_SELECTOR.0.into(),
            DEFAULT_SELECTOR.1.into(),
        )]));
        Model::with_selector(namespace, selector)
    }

    /// An empty model of `namespace` whose fleets are the workloads carrying `selector`.
    pub fn with_selector(namespace: impl Into<String>, selector: Selector) -> Self {
        Model {
            namespace: namespace.into(),
            selector,
            scaled_jobs: BTreeMap::new(),
            jobs: BTreeMap::new(),
            deployments: BTreeMap::new(),
            pods: BTreeMap::new(),
            pdbs: BTreeMap::new(),
            network_policies: BTreeMap::new(),
            events: BTreeMap::new(),
            queues: BTreeMap::new(),
            unavailable: BTreeMap::new(),
            fleets: BTreeMap::new(),
            history: BTreeMap::new(),
            index: Index::default(),
            seen: HashMap::new(),
        }
    }

    /// The model of a fresh list, computed from scratch (no deltas involved).
    pub fn from_state(state: &ClusterState, now: Timestamp) -> Self {
        let mut m = Model::with_selector(state.namespace.clone(), state.selector.clone());
        for obj in state
            .objects
            .iter()
            .filter(|o| o.namespace() == m.namespace)
        {
            match obj.clone() {
                Object::ScaledJob(x) => drop(m.scaled_jobs.insert(x.name.clone(), x)),
                Object::Job(x) => drop(m.jobs.insert(x.name.clone(), x)),
                Object::Deployment(x) => drop(m.deployments.insert(x.name.clone(), x)),
                Object::Pod(x) => drop(m.pods.insert(x.name.clone(), x)),
                Object::Pdb(x) => drop(m.pdbs.insert(x.name.clone(), x)),
                Object::NetworkPolicy(x) => drop(m.network_policies.insert(x.name.clone(), x)),
                Object::Event(x) => drop(m.events.insert(x.name.clone(), x)),
            }
        }
        m.queues = state.queues.clone();
        m.index = m.computed_index();
        m.fleets = m.computed_fleets();
        let pods: Vec<AgentPod> = m.pods.values().cloned().collect();
        for pod in &pods {
            if let Some(f) = pod_fleet(pod, &m.jobs) {
                m.note_disruptions(&f, pod, now);
            }
        }
        let ids: Vec<FleetId> = m.fleets.keys().cloned().collect();
        for id in &ids {
            m.sample(id, now);
        }
        m
    }

    /// The index, computed from the objects alone.
    pub(super) fn computed_index(&self) -> Index {
        let mut ix = Index::default();
        for pod in self.pods.values() {
            if let Some(f) = pod_fleet(pod, &self.jobs) {
                ix.tallies
                    .entry(f)
                    .or_default()
                    .pods
                    .add(&PodCounts::of(pod), 1);
            }
            if let Some(j) = &pod.job_name {
                ix.job_pods
                    .entry(j.clone())
                    .or_default()
                    .insert(pod.name.clone());
                if pod.started() {
                    *ix.job_started.entry(j.clone()).or_default() += 1;
                }
            }
        }
        for job in self.jobs.values() {
            let started = ix.job_started.get(&job.name).copied().unwrap_or(0);
            ix.tallies
                .entry(job_fleet(job))
                .or_default()
                .jobs
                .add(&JobTotals::of(job, started), 1);
        }
        ix
    }

    /// Every fleet, computed from the objects and the index.
    pub(super) fn computed_fleets(&self) -> BTreeMap<FleetId, Fleet> {
        let ids = self
            .scaled_jobs
            .keys()
            .map(|n| FleetId::new(FleetKind::ScaledJob, n.clone()))
            .chain(
                self.jobs
                    .keys()
                    .map(|n| FleetId::new(FleetKind::Job, n.clone())),
            )
            .chain(
                self.deployments
                    .keys()
                    .map(|n| FleetId::new(FleetKind::Deployment, n.clone())),
            );
        ids.filter_map(|id| self.build_fleet(&id).map(|f| (id, f)))
            .collect()
    }

    /// The fleet `id` from its workload, or None when that is not a fleet.
    pub(super) fn build_fleet(&self, id: &FleetId) -> Option<Fleet> {
        let name = &id.name;
        let (state, queue, template, pod_selector, created) = match id.kind {
            FleetKind::ScaledJob => {
                let sj = self.scaled_jobs.get(name)?;
                if !self.selector.matches(&sj.labels) {
                    return None;
                }
                let state = if sj.draining {
                    FleetState::Draining
                } else if sj.paused() {
                    FleetState::Paused
                } else {
                    FleetState::Running
                };
                let sel = Selector::from_labels(Labels::from([(
                    LABEL_SCALED_JOB.to_owned(),
                    name.clone(),
                )]));
                (state, sj.queue(), &sj.template, sel, sj.created)
            }
            FleetKind::Job => {
                let job = self.jobs.get(name)?;
                if job.scaled_job.is_some() || !self.selector.matches(&job.labels) {
                    return None;
                }
                let state = if job.draining {
                    FleetState::Draining
                } else if job.suspended {
                    FleetState::Paused
                } else {
                    FleetState::Running
                };
                let sel = Selector::from_labels(Labels::from([(
                    LABEL_JOB_NAME.to_owned(),
                    name.clone(),
                )]));
                (state, job.queue.as_deref(), &job.template, sel, job.created)
            }
            FleetKind::Deployment => {
                let d = self.deployments.get(name)?;
                if !self.selector.matches(&d.labels) {
                    return None;
                }
                let state = if d.draining {
                    FleetState::Draining
                } else if d.paused_replicas.is_some() && d.replicas == 0 {
                    FleetState::Paused
                } else {
                    FleetState::Running
                };
                let sel = d.selector.clone();
                (state, d.queue.as_deref(), &d.template, sel, d.created)
            }
        };
        let mut fleet = Fleet {
            name: name.clone(),
            kind: id.kind,
            state,
            queue: queue.map(str::to_owned),
            queue_stats: None,
            pod_labels: template.labels.clone(),
            pod_selector,
            metrics_port: template.metrics_port,
            metrics_port_name: template.metrics_port_name.clone(),
            template_without_memory_limit: template.containers_without_memory_limit,
            jobs: JobTotals::default(),
            pods: PodCounts::default(),
            pdb: None,
            other_pdbs: Vec::new(),
            predicted_next_scale: None,
            created,
        };
        set_pdbs(&mut fleet, &self.pdbs);
        fleet.queue_stats = fleet
            .queue
            .as_ref()
            .and_then(|q| self.queues.get(q))
            .cloned();
        let tally = self.index.tallies.get(id).copied().unwrap_or_default();
        set_counts(
            &mut fleet,
            &tally,
            &self.scaled_jobs,
            &self.jobs,
            &self.deployments,
            &self.queues,
        );
        Some(fleet)
    }

    /// Records the disruptions `pod` shows that were not recorded yet.
    pub(super) fn note_disruptions(&mut self, fleet: &FleetId, pod: &AgentPod, now: Timestamp) {
        for (kind, at) in disruption_keys(pod).into_iter().flatten() {
            // An OOMKill is keyed by its time too: a restarting container can be OOMKilled
            // again; an eviction or preemption happens to a pod once.
            let key = (
                kind,
                if kind == DisruptionKind::OomKilled {
                    at
                } else {
                    None
                },
            );
            match self.seen.get_mut(&pod.uid) {
                Some(seen) if seen.contains(&key) => continue,
                Some(seen) => seen.push(key),
                None => drop(self.seen.insert(pod.uid.clone(), vec![key])),
            }
            let message = disruption_message(pod, kind);
            self.history_mut(fleet, now).record(Disruption {
                kind,
                pod: pod.name.clone(),
                node: pod.node.clone(),
                at: at.unwrap_or(now),
                message,
            });
        }
    }

    pub(super) fn history_mut(&mut self, id: &FleetId, now: Timestamp) -> &mut FleetHistory {
        if !self.history.contains_key(id) {
            self.history.insert(id.clone(), FleetHistory::new(now));
        }
        self.history.get_mut(id).expect("just inserted")
    }

    /// Adds a sparkline point for fleet `id` (if it exists) at `now`.
    pub(super) fn sample(&mut self, id: &FleetId, now: Timestamp) {
        let Some(f) = self.fleets.get(id) else {
            return;
        };
        let point = SeriesPoint {
            at: now,
            queue_ready: f.queue_stats.as_ref().map(|q| q.ready),
            pods: f.pods.pending + f.pods.running,
            active_jobs: f.jobs.active,
        };
        let h = self.history_mut(id, now);
        h.sample_series(point);
        h.last_activity = h.last_activity.max(now);
    }

    // Accessors ---------------------------------------------------------------------------

    pub fn namespace(&self) -> &str {
        &self.namespace
    }
    pub fn selector(&self) -> &Selector {
        &self.selector
    }
    pub fn fleets(&self) -> impl Iterator<Item = &Fleet> {
        self.fleets.values()
    }
    pub fn fleet(&self, id: &FleetId) -> Option<&Fleet> {
        self.fleets.get(id)
    }
    /// The fleet called `name` (ScaledJob first, then Job, then Deployment).
    pub fn fleet_named(&self, name: &str) -> Option<&Fleet> {
        [FleetKind::ScaledJob, FleetKind::Job, FleetKind::Deployment]
            .into_iter()
            .find_map(|k| self.fleets.get(&FleetId::new(k, name)))
    }
    pub fn history(&self, id: &FleetId) -> Option<&FleetHistory> {
        self.history.get(id)
    }
    pub fn scaled_jobs(&self) -> &BTreeMap<String, ScaledJobSummary> {
        &self.scaled_jobs
    }
    pub fn jobs(&self) -> &BTreeMap<String, JobSummary> {
        &self.jobs
    }
    pub fn deployments(&self) -> &BTreeMap<String, DeploymentSummary> {
        &self.deployments
    }
    pub fn pods(&self) -> &BTreeMap<String, AgentPod> {
        &self.pods
    }
    pub fn pdbs(&self) -> &BTreeMap<String, PdbStatus> {
        &self.pdbs
    }
    pub fn network_policies(&self) -> &BTreeMap<String, NetworkPolicySummary> {
        &self.network_policies
    }
    pub fn events(&self) -> &BTreeMap<String, EventSummary> {
        &self.events
    }
    pub fn queues(&self) -> &BTreeMap<String, QueueStats> {
        &self.queues
    }
    /// The queues the fleets consume, sorted, each once: what queue readers read.
    pub fn fleet_queues(&self) -> Vec<String> {
        let names: std::collections::BTreeSet<&String> =
            self.fleets().filter_map(|f| f.queue.as_ref()).collect();
        names.into_iter().cloned().collect()
    }
    /// Kinds the API refused, with the reason.
    pub fn unavailable(&self) -> &BTreeMap<ObjectKind, String> {
        &self.unavailable
    }

    /// The fleet's pods, by name. Walks all pods: for detail views, not per delta.
    pub fn pods_of<'a>(&'a self, id: &'a FleetId) -> impl Iterator<Item = &'a AgentPod> + 'a {
        self.pods
            .values()
            .filter(move |p| pod_fleet(p, &self.jobs).as_ref() == Some(id))
    }

    /// The fleet's Jobs, by name.
    pub fn jobs_of<'a>(&'a self, id: &'a FleetId) -> impl Iterator<Item = &'a JobSummary> + 'a {
        self.jobs.values().filter(move |j| job_fleet(j) == *id)
    }

    /// Checks the incrementally kept index and fleets against a recomputation.
    #[cfg(test)]
    pub(super) fn verify(&self) {
        assert_eq!(
            self.index.normalized(),
            self.computed_index().normalized(),
            "index"
        );
        let mut fresh = self.clone();
        fresh.index = self.computed_index();
        assert_eq!(self.fleets, fresh.computed_fleets(), "fleets");
    }
}

/// Picks the fleet's PDBs: those selecting its pod template, by name.
pub(super) fn set_pdbs(fleet: &mut Fleet, pdbs: &BTreeMap<String, PdbStatus>) {
    let mut matching = pdbs
        .values()
        .filter(|p| p.selector.matches(&fleet.pod_labels));
    fleet.pdb = matching.next().cloned();
    fleet.other_pdbs = matching.map(|p| p.name.clone()).collect();
}

/// Fills in the counts, the desired Jobs and the prediction from `tally`.
pub(super) fn set_counts(
    fleet: &mut Fleet,
    tally: &Tally,
    scaled_jobs: &BTreeMap<String, ScaledJobSummary>,
    jobs: &BTreeMap<String, JobSummary>,
    deployments: &BTreeMap<String, DeploymentSummary>,
    queues: &BTreeMap<String, QueueStats>,
) {
    fleet.pods = tally.pods;
    fleet.jobs = tally.jobs;
    fleet.predicted_next_scale = None;
    fleet.jobs.desired = match fleet.kind {
        FleetKind::ScaledJob => {
            fleet.predicted_next_scale = scaled_jobs
                .get(&fleet.name)
                .and_then(|sj| predict(sj, &tally.jobs, queues));
            tally.jobs.unfinished + fleet.predicted_next_scale.unwrap_or(0)
        }
        FleetKind::Job => jobs
            .get(&fleet.name)
            .map_or(0, |j| i64::from(j.completions.unwrap_or(j.parallelism))),
        FleetKind::Deployment => deployments
            .get(&fleet.name)
            .map_or(0, |d| i64::from(d.replicas)),
    };
}

/// Jobs KEDA creates at the next poll (SPEC-k8s.md §1.2): from the last reading of each
/// rabbitmq trigger's queue and the unfinished (R) and pending (P) Jobs. 0 while paused or
/// draining; None without any reading.
pub fn predict(
    sj: &ScaledJobSummary,
    jobs: &JobTotals,
    queues: &BTreeMap<String, QueueStats>,
) -> Option<i64> {
    if sj.paused() || sj.draining {
        return Some(0);
    }
    let readings: Vec<TriggerReading> = sj
        .triggers
        .iter()
        .filter_map(|t| t.reading(queues.get(t.queue_name.as_deref()?)?))
        .collect();
    if readings.is_empty() {
        return None;
    }
    let counts = scaling::JobCounts {
        running: jobs.unfinished,
        pending: jobs.pending,
    };
    Some(scaling::decide(&sj.scaling_spec(), &readings, counts).create)
}
