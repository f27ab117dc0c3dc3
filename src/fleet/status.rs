//! The fleet summary `fleetctl status` prints: a stable, documented shape built from the model at
//! a given time. Field names here are an interface (`status -o json`); add fields, never rename.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::health::{DISRUPTION_WINDOW, DisruptionCounts, Finding, Severity};
use super::model::{Disruption, JobTotals, Model, PodCounts};
use super::objects::{FleetId, FleetKind, FleetState, ObjectKind, PdbStatus};
use super::usage::{FleetUsage, UsageReading, fleet_usage};

/// At most this many disruptions of the last hour are listed per fleet (newest first).
pub const DISRUPTIONS_LISTED: usize = 20;

/// The whole namespace at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub namespace: String,
    /// `key=value,...`
    pub selector: String,
    pub at: Timestamp,
    /// Kinds the API refused (RBAC, or a missing CRD): their part of the picture is missing.
    pub degraded: Vec<Degraded>,
    /// Queues whose depth could not be read, with the reason.
    pub queue_errors: BTreeMap<String, String>,
    /// Why the fleets' `usage` is null, when it is (e.g. no metrics-server).
    pub usage_degraded: Option<String>,
    pub fleets: Vec<FleetStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Degraded {
    pub kind: ObjectKind,
    pub reason: String,
}

/// A pod's RSS against its memory limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryHeadroom {
    pub pod: String,
    pub rss_bytes: u64,
    pub limit_bytes: u64,
    /// Limit minus RSS: negative when over.
    pub headroom_bytes: i64,
    /// RSS / limit.
    pub used_ratio: f64,
    /// The reading is from a pod that is not answering now.
    pub stale: bool,
}

/// What the fleet's agents report in their `/metrics`, over a window (built by
/// `metrics::series`; plain data here so that the summary stays pure).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetMetrics {
    /// Tasks finished for good per second: succeeded or dead-lettered. None until a pod was
    /// scraped twice.
    pub tasks_per_s: Option<f64>,
    /// Successes over tasks finished in the window; None when none finished.
    pub success_ratio: Option<f64>,
    /// Attempts given back to the queue per second (retries, shutdowns).
    pub requeued_per_s: Option<f64>,
    pub p50_task_seconds: Option<f64>,
    pub p90_task_seconds: Option<f64>,
    pub p99_task_seconds: Option<f64>,
    /// Per `model` label.
    pub tokens_per_s: BTreeMap<String, f64>,
    /// The pod with the least memory left relative to its limit.
    pub worst_memory_headroom: Option<MemoryHeadroom>,
    /// Pods reporting RSS without a memory limit.
    pub pods_without_memory_limit: usize,
    /// Pods whose latest scrape is good and recent.
    pub pods_scraped: usize,
    /// `(namespace/pod, reason)` for each pod that is not.
    pub not_scraped: Vec<(String, String)>,
    /// Unreadable lines in the latest scrapes of the fleet's pods.
    pub unreadable_lines: usize,
    /// Counter resets seen in the fleet's pods (agent restarts).
    pub counter_resets: u64,
    /// The window rates and quantiles are over.
    pub window_seconds: f64,
}

/// One fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetStatus {
    pub kind: FleetKind,
    pub name: String,
    pub state: FleetState,
    pub queue: Option<String>,
    /// Ready messages at the last reading (None: no reading).
    pub queue_ready: Option<u64>,
    pub queue_consumers: Option<u64>,
    /// Jobs KEDA creates at its next poll (ScaledJob fleets with a queue reading).
    pub predicted_next_scale: Option<i64>,
    pub jobs: JobTotals,
    pub pods: PodCounts,
    pub pdb: Option<PdbSummary>,
    pub disruptions_last_hour: DisruptionCounts,
    /// The last hour's disruptions, newest first, at most [`DISRUPTIONS_LISTED`].
    pub disruptions: Vec<Disruption>,
    /// Most severe first.
    pub findings: Vec<Finding>,
    /// From the agents' `/metrics` (None when not scraped: `--scrape off`).
    pub metrics: Option<FleetMetrics>,
    /// CPU and memory from `metrics.k8s.io` (None when the API was not read or is absent:
    /// `usage_degraded` says why).
    pub usage: Option<FleetUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdbSummary {
    pub name: String,
    pub min_available: Option<String>,
    pub max_unavailable: Option<String>,
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub disruptions_allowed: i32,
    pub expected_pods: i32,
    pub sync_failed: bool,
}

impl From<&PdbStatus> for PdbSummary {
    fn from(p: &PdbStatus) -> Self {
        PdbSummary {
            name: p.name.clone(),
            min_available: p.min_available.clone(),
            max_unavailable: p.max_unavailable.clone(),
            current_healthy: p.current_healthy,
            desired_healthy: p.desired_healthy,
            disruptions_allowed: p.disruptions_allowed,
            expected_pods: p.expected_pods,
            sync_failed: p.sync_failed,
        }
    }
}

impl FleetStatus {
    /// `kind/name`, as kubectl writes it.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.lower(), self.name)
    }

    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

impl Snapshot {
    /// The summary of `model` at `now`, with the agents' metrics per fleet (keyed by
    /// [`super::model::FleetId`]'s `Kind/name`).
    pub fn build(
        model: &Model,
        now: Timestamp,
        queue_errors: BTreeMap<String, String>,
        metrics: &BTreeMap<String, FleetMetrics>,
    ) -> Self {
        let since = now - DISRUPTION_WINDOW;
        let fleets = model
            .report(now)
            .into_iter()
            .map(|r| {
                let f = r.fleet;
                let key = f.id().to_string();
                let disruptions = model
                    .history(&f.id())
                    .map(|h| {
                        h.disruptions
                            .iter()
                            .rev()
                            .take_while(|d| d.at >= since)
                            .take(DISRUPTIONS_LISTED)
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                FleetStatus {
                    kind: f.kind,
                    name: f.name,
                    state: f.state,
                    queue_ready: f.queue_stats.as_ref().map(|q| q.ready),
                    queue_consumers: f.queue_stats.as_ref().map(|q| q.consumers),
                    queue: f.queue,
                    predicted_next_scale: f.predicted_next_scale,
                    jobs: f.jobs,
                    pods: f.pods,
                    pdb: f.pdb.as_ref().map(PdbSummary::from),
                    disruptions_last_hour: r.disruptions_last_hour,
                    disruptions,
                    findings: r.findings,
                    metrics: metrics.get(&key).cloned(),
                    usage: None,
                }
            })
            .collect();
        Snapshot {
            namespace: model.namespace().to_string(),
            selector: model.selector().to_string(),
            at: now,
            degraded: model
                .unavailable()
                .iter()
                .map(|(kind, reason)| Degraded {
                    kind: *kind,
                    reason: reason.clone(),
                })
                .collect(),
            queue_errors,
            usage_degraded: None,
            fleets,
        }
    }

    /// Adds each fleet's usage from a reading of `metrics.k8s.io` (None: not read).
    pub fn with_usage(mut self, model: &Model, reading: Option<&UsageReading>) -> Self {
        let Some(reading) = reading else {
            return self;
        };
        self.usage_degraded = reading.note();
        if let Some(pods) = reading.pods() {
            for f in &mut self.fleets {
                let id = FleetId::new(f.kind, f.name.clone());
                f.usage = Some(fleet_usage(model.pods_of(&id), pods));
            }
        }
        self
    }

    /// Findings of every fleet, most severe first.
    pub fn findings(&self) -> impl Iterator<Item = (&FleetStatus, &Finding)> {
        let mut all: Vec<_> = self
            .fleets
            .iter()
            .flat_map(|f| f.findings.iter().map(move |x| (f, x)))
            .collect();
        all.sort_by_key(|(_, x)| std::cmp::Reverse(x.severity));
        all.into_iter()
    }
}
