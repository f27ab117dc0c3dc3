//! `drain`: pause the fleet, mark it draining, and wait until nothing of it runs, evicting
//! what is left with `--evict`. Transient API errors are retried with back-off within the
//! drain's timeout; the draining mark is removed however the drain ends (see [`end_drain`] for
//! an interrupted one).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, EvictParams, ListParams};
use kube::{Client, ResourceExt};
use serde_json::Value;
use tokio::time::Instant;

use super::actions::{
    ActionError, DRAINING, FleetKind, FleetRef, Report, annotations_patch, api, api_err, get,
    live_pod, names, owned_by_scaledjob, patch, pause_plan_and_patch, plural, pods_with, retrying,
};
use crate::fleet::duration::human_duration;
use crate::fleet::selector::Selector;

/// How a drain runs.
#[derive(Debug, Clone)]
pub struct DrainOptions {
    pub evict: bool,
    pub timeout: Duration,
    /// How often the fleet is looked at again.
    pub poll: Duration,
}

/// What a drain reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum DrainEvent {
    /// The pause (or the note that it was already paused).
    Paused(Report),
    /// What is left, whenever it changes.
    Left {
        pods: Vec<String>,
        active_jobs: Vec<String>,
    },
    Evicted {
        pod: String,
    },
    /// The eviction was refused (429 from the PDB, or another error); it is retried.
    Refused {
        pod: String,
        reason: String,
        retry_in: Duration,
        /// 1 for the first refusal of this pod.
        attempt: u32,
    },
    /// A transient API error (429, 5xx, a lost connection); the step is tried again.
    Retrying {
        reason: String,
        retry_in: Duration,
    },
    Drained,
}

impl DrainEvent {
    /// The event as one line for a person, `who` being the fleet (`job/x`). A pause is its
    /// report's message (its warning is the caller's to show).
    pub fn line(&self, who: &str) -> String {
        match self {
            DrainEvent::Paused(report) => report.message.clone(),
            DrainEvent::Left { pods, active_jobs } => {
                let mut line = format!("{who}: {} pods left", pods.len());
                if !pods.is_empty() {
                    line.push_str(&format!(" ({})", names(pods)));
                }
                if !active_jobs.is_empty() {
                    line.push_str(&format!(
                        ", {} Jobs active ({})",
                        active_jobs.len(),
                        names(active_jobs)
                    ));
                }
                line
            }
            DrainEvent::Evicted { pod } => format!("{who}: evicted pod {pod}"),
            DrainEvent::Refused {
                pod,
                reason,
                retry_in,
                attempt: 1,
            } => format!(
                "{who}: eviction of pod {pod} refused: {reason}; retrying in {}",
                human_duration(*retry_in)
            ),
            DrainEvent::Refused {
                pod,
                retry_in,
                attempt,
                ..
            } => format!(
                "{who}: eviction of pod {pod} refused again ({attempt} attempts); retrying in {}",
                human_duration(*retry_in)
            ),
            DrainEvent::Retrying { reason, retry_in } => {
                format!("{who}: {reason}; retrying in {}", human_duration(*retry_in))
            }
            DrainEvent::Drained => format!("{who} drained"),
        }
    }
}

/// What is still running in a fleet.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Remaining {
    /// Pods that are Pending or Running, or terminating.
    pub pods: Vec<PodState>,
    /// ScaledJob fleets: its Jobs that are still active.
    pub active_jobs: Vec<String>,
    /// Job fleets: whether `spec.suspend` is true.
    pub suspended: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodState {
    pub name: String,
    pub terminating: bool,
    pub labels: BTreeMap<String, String>,
}

impl Remaining {
    /// Drained: ScaledJob, no active Job (with `--evict`, or none of them has a pod left);
    /// Job, suspended and no pod running or terminating; Deployment, no pod.
    pub fn drained(&self, kind: FleetKind, evict: bool) -> bool {
        match kind {
            FleetKind::ScaledJob => self.active_jobs.is_empty() || (evict && self.pods.is_empty()),
            FleetKind::Job => self.suspended && self.pods.is_empty(),
            FleetKind::Deployment => self.pods.is_empty(),
        }
    }
}

/// A Job counts as active until a Complete or Failed condition is True, or while `status.active`
/// is above zero (KEDA counts a FailureTarget-only Job as running too).
pub fn job_active(data: &Value) -> bool {
    if data["status"]["active"].as_i64().unwrap_or(0) > 0 {
        return true;
    }
    let finished = data["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter().any(|c| {
            matches!(c["type"].as_str(), Some("Complete" | "Failed"))
                && c["status"].as_str() == Some("True")
        })
    });
    !finished
}

/// Looks at what is left of a fleet.
pub async fn remaining(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
) -> Result<Remaining, ActionError> {
    let mut out = Remaining::default();
    match fleet.kind {
        FleetKind::ScaledJob => {
            let jobs = api(client, ns, FleetKind::Job)
                .list(&ListParams::default())
                .await
                .map_err(api_err(format!("cannot list jobs in {ns}")))?;
            let active: BTreeSet<String> = jobs
                .items
                .iter()
                .filter(|j| owned_by_scaledjob(j).as_deref() == Some(fleet.name.as_str()))
                .filter(|j| job_active(&j.data))
                .map(|j| j.name_any())
                .collect();
            let pods = pods_with(client, ns, "batch.kubernetes.io/job-name").await?;
            out.pods = pods
                .iter()
                .filter(|p| {
                    p.labels()
                        .get("batch.kubernetes.io/job-name")
                        .is_some_and(|j| active.contains(j))
                })
                .filter_map(live_pod)
                .collect();
            out.active_jobs = active.into_iter().collect();
        }
        FleetKind::Job => {
            let job = get(client, ns, fleet).await?;
            out.suspended = job.data["spec"]["suspend"].as_bool().unwrap_or(false);
            let pods = pods_with(
                client,
                ns,
                &format!("batch.kubernetes.io/job-name={}", fleet.name),
            )
            .await?;
            out.pods = pods.iter().filter_map(live_pod).collect();
        }
        FleetKind::Deployment => {
            let dep = get(client, ns, fleet).await?;
            let labels = Selector::from_json(&dep.data["spec"]["selector"])
                .map(|s| s.to_string())
                .unwrap_or_default();
            if labels.is_empty() {
                return Err(ActionError::Refused(format!(
                    "{} has no spec.selector to find its pods by",
                    fleet.display()
                )));
            }
            let pods = pods_with(client, ns, &labels).await?;
            out.pods = pods
                .iter()
                .map(|p| PodState {
                    name: p.name_any(),
                    terminating: p.metadata.deletion_timestamp.is_some(),
                    labels: p.labels().clone(),
                })
                .collect();
        }
    }
    out.pods.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The PDBs covering these pods, as `the PDB x allows N disruptions`.
async fn pdb_clause(client: &Client, ns: &str, pods: &[PodState]) -> Option<String> {
    let pdbs = Api::<PodDisruptionBudget>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .ok()?;
    let mut parts = Vec::new();
    for pdb in pdbs.items {
        let sel = serde_json::to_value(pdb.spec.as_ref().and_then(|s| s.selector.clone()))
            .unwrap_or(Value::Null);
        let Ok(sel) = Selector::from_json(&sel) else {
            continue;
        };
        if !pods.iter().any(|p| sel.matches(&p.labels)) {
            continue;
        }
        let allowed = pdb
            .status
            .as_ref()
            .map(|s| s.disruptions_allowed)
            .unwrap_or(0);
        let noun = if allowed == 1 {
            "disruption"
        } else {
            "disruptions"
        };
        parts.push(format!(
            "the PDB {} allows {allowed} {noun}",
            pdb.name_any()
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// One line for what is left: `2 pods left (a, b)`.
pub fn left_line(r: &Remaining, kind: FleetKind) -> String {
    let pods: Vec<String> = r.pods.iter().map(|p| p.name.clone()).collect();
    let terminating = r.pods.iter().filter(|p| p.terminating).count();
    let mut s = format!("{} left", plural(pods.len(), "pod", "pods"));
    if !pods.is_empty() {
        s.push_str(&format!(" ({})", names(&pods)));
    }
    if terminating > 0 {
        s.push_str(&format!(", {terminating} terminating"));
    }
    if kind == FleetKind::ScaledJob && !r.active_jobs.is_empty() {
        s.push_str(&format!(
            ", {} active ({})",
            plural(r.active_jobs.len(), "Job", "Jobs"),
            names(&r.active_jobs)
        ));
    }
    s
}

/// Back-off of a refused eviction: the server's `retryAfterSeconds` when it gives one, else 1 s
/// doubling up to 5 s.
fn next_backoff(previous: Option<Duration>, retry_after: u32) -> Duration {
    if retry_after > 0 {
        return Duration::from_secs(u64::from(retry_after));
    }
    match previous {
        None => Duration::from_secs(1),
        Some(d) => (d * 2).min(Duration::from_secs(5)),
    }
}

fn refusal(e: &kube::Error) -> (String, u32) {
    match e {
        kube::Error::Api(s) => {
            let detail = s
                .details
                .as_ref()
                .and_then(|d| d.causes.first())
                .map(|c| format!(" ({})", c.message))
                .unwrap_or_default();
            let retry = s
                .details
                .as_ref()
                .map(|d| d.retry_after_seconds)
                .unwrap_or(0);
            (format!("{}{detail}", s.message), retry)
        }
        other => (other.to_string(), 0),
    }
}

/// Pauses the fleet, marks it draining, and waits until it is drained (see
/// [`Remaining::drained`]); with `evict`, evicts what is left through the Eviction API, retrying
/// refusals with back-off. The draining mark is removed at the end, drained or not; the fleet
/// stays paused.
pub async fn drain(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
    opts: &DrainOptions,
    on_event: &mut (dyn FnMut(DrainEvent) + Send),
) -> Result<(), ActionError> {
    let deadline = Instant::now() + opts.timeout;
    let mark = annotations_patch(&[(DRAINING, Some(jiff::Timestamp::now().to_string()))]);
    let plan = {
        let mut on_retry = |reason: String, retry_in: Duration| {
            on_event(DrainEvent::Retrying { reason, retry_in })
        };
        retrying(deadline, &mut on_retry, || {
            pause_plan_and_patch(client, ns, fleet, Some(mark.clone()))
        })
        .await?
    };
    on_event(DrainEvent::Paused(plan.into()));

    let result = wait_drained(client, ns, fleet, opts, deadline, on_event).await;
    // However the wait ended, the mark goes.
    let unmark = end_drain(client, ns, fleet).await;
    result?;
    unmark?;
    on_event(DrainEvent::Drained);
    Ok(())
}

async fn wait_drained(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
    opts: &DrainOptions,
    deadline: Instant,
    on_event: &mut (dyn FnMut(DrainEvent) + Send),
) -> Result<(), ActionError> {
    let pods_api = Api::<Pod>::namespaced(client.clone(), ns);
    // Per pod: when to try again, and the last back-off.
    let mut retry: BTreeMap<String, (Instant, Duration, u32)> = BTreeMap::new();
    let mut last_left: Option<(Vec<String>, Vec<String>, usize)> = None;
    loop {
        let left = {
            let mut on_retry = |reason: String, retry_in: Duration| {
                on_event(DrainEvent::Retrying { reason, retry_in })
            };
            retrying(deadline, &mut on_retry, || remaining(client, ns, fleet)).await?
        };
        if left.drained(fleet.kind, opts.evict) {
            return Ok(());
        }
        let pods: Vec<String> = left.pods.iter().map(|p| p.name.clone()).collect();
        let terminating = left.pods.iter().filter(|p| p.terminating).count();
        let key = (pods.clone(), left.active_jobs.clone(), terminating);
        if last_left.as_ref() != Some(&key) {
            on_event(DrainEvent::Left {
                pods,
                active_jobs: left.active_jobs.clone(),
            });
            last_left = Some(key);
        }
        let now = Instant::now();
        if now >= deadline {
            let mut reason = format!(
                "drain of {} timed out after {}: {}",
                fleet.name,
                human_duration(opts.timeout),
                left_line(&left, fleet.kind)
            );
            if opts.evict
                && let Some(pdb) = pdb_clause(client, ns, &left.pods).await
            {
                reason.push_str(&format!("; {pdb}"));
            } else if !opts.evict && left.pods.iter().any(|p| !p.terminating) {
                reason.push_str("; pass --evict to evict them");
            }
            reason.push_str(&format!("; {} stays paused", fleet.display()));
            return Err(ActionError::TimedOut(reason));
        }
        if opts.evict {
            for p in left.pods.iter().filter(|p| !p.terminating) {
                let previous = retry.get(&p.name).copied();
                if previous.is_some_and(|(at, _, _)| at > now) {
                    continue;
                }
                match pods_api.evict(&p.name, &EvictParams::default()).await {
                    Ok(_) => {
                        retry.remove(&p.name);
                        on_event(DrainEvent::Evicted {
                            pod: p.name.clone(),
                        });
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        retry.remove(&p.name);
                    }
                    Err(e) => {
                        let (reason, after) = refusal(&e);
                        let backoff = next_backoff(previous.map(|(_, d, _)| d), after);
                        let attempt = previous.map(|(_, _, n)| n + 1).unwrap_or(1);
                        retry.insert(p.name.clone(), (now + backoff, backoff, attempt));
                        on_event(DrainEvent::Refused {
                            pod: p.name.clone(),
                            reason,
                            retry_in: backoff,
                            attempt,
                        });
                    }
                }
            }
        }
        let wait = opts
            .poll
            .min(deadline.saturating_duration_since(Instant::now()));
        tokio::time::sleep(wait).await;
    }
}

/// How long [`end_drain`] retries transient errors.
const END_DRAIN_BUDGET: Duration = Duration::from_secs(30);

/// Removes the draining mark, however the drain ended (done, timed out, or stopped by Ctrl-C);
/// the fleet stays paused, as after a drain that timed out. Transient errors are retried for
/// [`END_DRAIN_BUDGET`], so one failed request does not leave the fleet marked.
pub async fn end_drain(client: &Client, ns: &str, fleet: &FleetRef) -> Result<(), ActionError> {
    let unmark = annotations_patch(&[(DRAINING, None)]);
    retrying(Instant::now() + END_DRAIN_BUDGET, &mut |_, _| {}, || {
        patch(client, ns, fleet, &unmark)
    })
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn job_activity() {
        assert!(job_active(&json!({"status": {}})));
        assert!(job_active(
            &json!({"status": {"active": 1, "conditions": [{"type": "Complete", "status": "True"}]}})
        ));
        assert!(!job_active(
            &json!({"status": {"conditions": [{"type": "Failed", "status": "True"}]}})
        ));
        assert!(job_active(
            &json!({"status": {"conditions": [{"type": "FailureTarget", "status": "True"}]}})
        ));
    }

    #[test]
    fn backoff_honours_retry_after() {
        assert_eq!(next_backoff(None, 0), Duration::from_secs(1));
        assert_eq!(
            next_backoff(Some(Duration::from_secs(4)), 0),
            Duration::from_secs(5)
        );
        assert_eq!(
            next_backoff(Some(Duration::from_secs(1)), 10),
            Duration::from_secs(10)
        );
    }
}
