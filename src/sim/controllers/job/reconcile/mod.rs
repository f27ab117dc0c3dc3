//! The Job controller's decision, as a pure function (SPEC-k8s.md §2): given a Job, the pods it
//! owns and the time, what to write. [`reconcile`] does no I/O; the runner in [`super`] executes
//! its [`Plan`] against the API.
//!
//! Pod accounting follows the 1.32 controller: a finished pod still holding the
//! `batch.kubernetes.io/job-tracking` finalizer is first recorded in
//! `status.uncountedTerminatedPods` (or, for a succeeded Indexed pod, in `completedIndexes`),
//! then its finalizer is removed, and only once the finalizer is gone does it move into
//! `succeeded`/`failed`. A pod is therefore counted exactly once even if a write fails halfway.

mod conditions;
mod failure_policy;
mod indexes;
mod pods;
#[cfg(test)]
mod tests;

use self::conditions::*;
use self::failure_policy::*;
pub use self::indexes::{format_indexes, parse_indexes};
pub use self::pods::new_pod;
use self::pods::*;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{
    Job, JobCondition, JobSpec, JobStatus, PodFailurePolicyRule, UncountedTerminatedPods,
};
use k8s_openapi::api::core::v1::{EnvVar, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use crate::sim::controllers::events::EventType;

/// The finalizer that keeps a pod until the controller has counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
pub const LABEL_CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
pub const LABEL_CONTROLLER_UID_LEGACY: &str = "controller-uid";
pub const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";
pub const LABEL_JOB_NAME_LEGACY: &str = "job-name";
/// Label and annotation of an Indexed Job's pods.
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// Annotation: how often this index has failed before (backoffLimitPerIndex).
pub const INDEX_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-failure-count";
/// The only `spec.managedBy` this controller acts on (unset means the same).
pub const MANAGED_BY: &str = "kubernetes.io/job-controller";
/// Back-off before recreating a failed pod: 10 s, doubling per failure since the last success.
pub const POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// The back-off's cap (`MaxJobPodFailureBackOff`; SPEC-k8s.md §2 flags KW's 6 min).
pub const MAX_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(600);
/// Pods created or deleted per reconcile at most (`MaxPodCreateDeletePerSync`).
pub const MAX_PODS_PER_SYNC: usize = 500;

/// A pod the plan deletes or unblocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRef {
    pub name: String,
    pub uid: String,
}

/// An Event on the Job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    pub kind: EventType,
    pub reason: &'static str,
    pub message: String,
}

/// What one reconcile decides. The runner applies it in field order: the status first (it
/// records the pods about to be unblocked), then finalizers, deletions, creations, events.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The whole new status, when it differs from the current one.
    pub status: Option<JobStatus>,
    /// Pods whose tracking finalizer comes off (they are accounted for in `status`).
    pub remove_finalizers: Vec<PodRef>,
    pub delete: Vec<PodRef>,
    /// New pods (named by `generateName`).
    pub create: Vec<Pod>,
    /// Events to record once the status is written (pod create/delete events are the
    /// runner's, since only it knows the outcome).
    pub events: Vec<JobEvent>,
    /// Reconcile again after this long even if nothing changes (back-off, deadlines).
    pub requeue_after: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyAction {
    FailJob,
    FailIndex,
    Ignore,
    Count,
}

/// What podFailurePolicy says about a failed pod: whether it counts, the matching action, and
/// for FailJob the message.
struct PolicyVerdict {
    counts: bool,
    action: Option<PolicyAction>,
    message: Option<String>,
}

/// A finished condition in the making (`SuccessCriteriaMet` or `FailureTarget`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finish {
    success: bool,
    reason: String,
    message: String,
}

/// The view of one pod the rules need.
struct PodView<'a> {
    pod: &'a Pod,
    uid: &'a str,
    name: &'a str,
    phase: &'a str,
    deleting: bool,
    finalizer: bool,
    index: Option<i32>,
}

impl<'a> PodView<'a> {
    fn of(pod: &'a Pod) -> Self {
        let meta = &pod.metadata;
        PodView {
            pod,
            uid: meta.uid.as_deref().unwrap_or_default(),
            name: meta.name.as_deref().unwrap_or_default(),
            phase: pod
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .unwrap_or("Pending"),
            deleting: meta.deletion_timestamp.is_some(),
            finalizer: meta
                .finalizers
                .as_ref()
                .is_some_and(|f| f.iter().any(|x| x == TRACKING_FINALIZER)),
            index: completion_index(pod),
        }
    }
    fn terminal(&self) -> bool {
        matches!(self.phase, "Succeeded" | "Failed")
    }
    /// The failures of its index before it, as recorded on the pod (0 when none is).
    fn index_failures(&self) -> i32 {
        self.pod
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(INDEX_FAILURE_COUNT))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
    fn active(&self) -> bool {
        !self.terminal() && !self.deleting
    }
    fn terminating(&self) -> bool {
        !self.terminal() && self.deleting
    }
    fn ready(&self) -> bool {
        pod_condition(self.pod, "Ready").is_some_and(|c| c.status == "True")
    }
}

/// The completion index a pod carries (annotation, else label), if it parses.
pub fn completion_index(pod: &Pod) -> Option<i32> {
    let meta = &pod.metadata;
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(COMPLETION_INDEX))
        .or_else(|| meta.labels.as_ref().and_then(|l| l.get(COMPLETION_INDEX)))
        .and_then(|v| v.parse().ok())
        .filter(|i: &i32| *i >= 0)
}

fn pod_condition<'a>(
    pod: &'a Pod,
    kind: &str,
) -> Option<&'a k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
}

// ---------------------------------------------------------------------------------------------
// The reconcile

/// Decides what to do for `job`, which owns `pods`, at `now`.
pub fn reconcile(job: &Job, pods: &[&Pod], now: Timestamp) -> Plan {
    let mut plan = Plan::default();
    let Some(spec) = job.spec.as_ref() else {
        return plan;
    };
    if spec.managed_by.as_deref().is_some_and(|m| m != MANAGED_BY) {
        return plan;
    }
    let ns = job.metadata.namespace.as_deref().unwrap_or("default");
    let old = job.status.clone().unwrap_or_default();
    let views: Vec<PodView> = pods.iter().map(|p| PodView::of(p)).collect();

    // A finished (or deleted) Job only lets go of its pods.
    let finished = is_true(&old, "Complete") || is_true(&old, "Failed");
    if finished || job.metadata.deletion_timestamp.is_some() {
        plan.remove_finalizers = views.iter().filter(|p| p.finalizer).map(pod_ref).collect();
        return plan;
    }

    let indexed = spec.completion_mode.as_deref() == Some("Indexed");
    let completions = spec.completions;
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    let suspended = spec.suspend == Some(true);
    let backoff_limit = spec.backoff_limit.unwrap_or(6);
    let per_index = if indexed {
        spec.backoff_limit_per_index
    } else {
        None
    };
    let only_replace_failed = spec.pod_replacement_policy.as_deref() == Some("Failed")
        || spec.pod_failure_policy.is_some();
    let on_failure = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        == Some("OnFailure");
    let index_ok = |i: Option<i32>| match (i, completions) {
        (Some(i), Some(c)) => i < c,
        _ => false,
    };
    let is_failed = |p: &PodView| {
        if only_replace_failed {
            p.phase == "Failed"
        } else {
            p.phase == "Failed" || (p.deleting && p.phase != "Succeeded")
        }
    };

    let mut status = old.clone();
    let uncounted = old.uncounted_terminated_pods.clone().unwrap_or_default();
    let mut uncounted_ok: BTreeSet<String> = uncounted
        .succeeded
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut uncounted_failed: BTreeSet<String> =
        uncounted.failed.unwrap_or_default().into_iter().collect();
    let mut succeeded = old.succeeded.unwrap_or(0);
    let mut failed = old.failed.unwrap_or(0);
    let mut completed = parse_indexes(old.completed_indexes.as_deref());
    let mut failed_indexes = parse_indexes(old.failed_indexes.as_deref());

    // 1. Uncounted pods whose finalizer is gone are counted now.
    let holding: HashMap<&str, bool> = views.iter().map(|p| (p.uid, p.finalizer)).collect();
    uncounted_ok.retain(|uid| {
        let keep = holding.get(uid.as_str()).copied().unwrap_or(false);
        if !keep && !indexed {
            succeeded += 1;
        }
        keep
    });
    uncounted_failed.retain(|uid| {
        let keep = holding.get(uid.as_str()).copied().unwrap_or(false);
        if !keep {
            failed += 1;
        }
        keep
    });

    // 2. Pods that failed since the last reconcile, judged by podFailurePolicy.
    let mut fail_job_message = None;
    let mut new_failed_counted = 0;
    let mut new_succeeded = 0;
    let mut verdicts: HashMap<&str, bool> = HashMap::new();
    for p in views.iter().filter(|p| p.finalizer) {
        if p.phase == "Succeeded" {
            if !uncounted_failed.contains(p.uid) && !uncounted_ok.contains(p.uid) {
                if indexed {
                    if index_ok(p.index)
                        && let Some(i) = p.index
                    {
                        completed.insert(i);
                    }
                } else {
                    new_succeeded += 1;
                }
            }
            continue;
        }
        if !is_failed(p) || uncounted_failed.contains(p.uid) {
            continue;
        }
        if indexed && !index_ok(p.index) {
            continue;
        }
        let v = match_policy(spec, p.pod, ns);
        verdicts.insert(p.uid, v.counts);
        if v.counts {
            new_failed_counted += 1;
        }
        if fail_job_message.is_none() && v.action == Some(PolicyAction::FailJob) {
            fail_job_message = v.message.clone();
        }
        if let (Some(limit), Some(i)) = (per_index, p.index) {
            let before = p.index_failures();
            let fails_index =
                v.action == Some(PolicyAction::FailIndex) || (v.counts && before + 1 > limit);
            if fails_index && !completed.contains(&i) {
                failed_indexes.insert(i);
            }
        }
    }
    let failed_total = failed + uncounted_failed.len() as i32 + new_failed_counted;
    let succeeded_total = if indexed {
        completed.len() as i32
    } else {
        succeeded + uncounted_ok.len() as i32 + new_succeeded
    };

    // 3. Is the Job done for?
    let mut finish: Option<Finish> = None;
    if let Some(c) = condition(&old, "SuccessCriteriaMet").filter(|c| c.status == "True") {
        finish = Some(Finish {
            success: true,
            reason: c.reason.unwrap_or_default(),
            message: c.message.unwrap_or_default(),
        });
    } else if let Some(c) = condition(&old, "FailureTarget").filter(|c| c.status == "True") {
        finish = Some(Finish {
            success: false,
            reason: c.reason.unwrap_or_default(),
            message: c.message.unwrap_or_default(),
        });
    } else if let Some(message) = fail_job_message {
        finish = Some(Finish {
            success: false,
            reason: "PodFailurePolicy".into(),
            message,
        });
    }
    let restarts: i32 = views
        .iter()
        .filter(|p| !p.terminal())
        .flat_map(|p| {
            p.pod.status.iter().flat_map(|s| {
                s.container_statuses
                    .iter()
                    .flatten()
                    .chain(s.init_container_statuses.iter().flatten())
            })
        })
        .map(|cs| cs.restart_count)
        .sum();
    if finish.is_none() {
        // `pastBackoffLimitOnFailure`: under OnFailure, restarts of unfinished pods count.
        let on_failure_exceeded = on_failure
            && if backoff_limit == 0 {
                restarts > 0
            } else {
                restarts >= backoff_limit
            };
        let deadline = spec
            .active_deadline_seconds
            .zip(ts(&old.start_time))
            .map(|(s, start)| crate::sim::clock::ts_after(start, s));
        if failed_total > backoff_limit || on_failure_exceeded {
            finish = Some(Finish {
                success: false,
                reason: "BackoffLimitExceeded".into(),
                message: "Job has reached the specified backoff limit".into(),
            });
        } else if !suspended && deadline.is_some_and(|d| d <= now) {
            finish = Some(Finish {
                success: false,
                reason: "DeadlineExceeded".into(),
                message: "Job was active longer than specified deadline".into(),
            });
        } else if !suspended && let Some(d) = deadline {
            plan.requeue_after =
                Some(Duration::try_from(d.duration_since(now)).unwrap_or_default());
        }
    }
    if finish.is_none() && per_index.is_some() {
        let total = completions.unwrap_or(0);
        if spec
            .max_failed_indexes
            .is_some_and(|m| failed_indexes.len() as i32 > m)
        {
            finish = Some(Finish {
                success: false,
                reason: "MaxFailedIndexesExceeded".into(),
                message: "Job has exceeded the specified maximal number of failed indexes".into(),
            });
        } else if !failed_indexes.is_empty()
            && (failed_indexes.len() + completed.len()) as i32 >= total
        {
            finish = Some(Finish {
                success: false,
                reason: "FailedIndexes".into(),
                message: "Job has failed indexes".into(),
            });
        }
    }

    // 4. Pods: delete them all when done for, else manage the active set.
    let mut active: Vec<&PodView> = views.iter().filter(|p| p.active()).collect();
    let terminating = views.iter().filter(|p| p.terminating()).count() as i32;
    let mut deleted: BTreeSet<&str> = BTreeSet::new();
    let mut created = 0i32;
    let mut manage_called = false;
    if finish.is_some() {
        // Done for either way: the leftover pods go.
        for p in &active {
            deleted.insert(p.uid);
            plan.delete.push(pod_ref(p));
        }
    } else if suspended {
        manage_called = true;
        for p in &active {
            deleted.insert(p.uid);
            plan.delete.push(pod_ref(p));
        }
    } else {
        manage_called = true;
        // Indexed: pods of finished, out-of-range or duplicated indexes go first.
        if indexed {
            let mut seen: BTreeMap<i32, &PodView> = BTreeMap::new();
            let mut sorted = active.clone();
            sorted.sort_by_cached_key(|p| std::cmp::Reverse(removal_key(p)));
            for p in sorted {
                let surplus = match p.index {
                    Some(i)
                        if index_ok(Some(i))
                            && !completed.contains(&i)
                            && !failed_indexes.contains(&i) =>
                    {
                        seen.insert(i, p).is_some()
                    }
                    _ => true,
                };
                if surplus && deleted.insert(p.uid) {
                    plan.delete.push(pod_ref(p));
                }
            }
            active.retain(|p| !deleted.contains(p.uid));
        }
        let n_active = active.len() as i32;
        let want = match completions {
            None => {
                if succeeded_total > 0 {
                    n_active
                } else {
                    parallelism
                }
            }
            Some(c) if indexed => {
                (c - completed.len() as i32 - failed_indexes.len() as i32).clamp(0, parallelism)
            }
            Some(c) => (c - succeeded_total).clamp(0, parallelism),
        };
        let terminating_held = if only_replace_failed { terminating } else { 0 };
        if n_active > want {
            let mut surplus: Vec<&&PodView> = active.iter().collect();
            surplus.sort_by_cached_key(|p| removal_key(p));
            for p in surplus
                .into_iter()
                .take(((n_active - want) as usize).min(MAX_PODS_PER_SYNC))
            {
                deleted.insert(p.uid);
                plan.delete.push(pod_ref(p));
            }
        } else {
            let diff = (want - n_active - terminating_held).max(0) as usize;
            if diff > 0 {
                created = create_pods(
                    job,
                    spec,
                    &views,
                    &completed,
                    &failed_indexes,
                    only_replace_failed,
                    per_index,
                    diff,
                    now,
                    is_failed,
                    &mut plan,
                );
            }
        }
    }
    let active_after = active.iter().filter(|p| !deleted.contains(p.uid)).count() as i32 + created;

    // 5. Success: every completion done and nothing left running.
    if finish.is_none() {
        let complete = match completions {
            None => succeeded_total > 0 && active_after == 0,
            Some(c) => succeeded_total >= c && active_after == 0,
        };
        if complete {
            finish = Some(Finish {
                success: true,
                reason: "CompletionsReached".into(),
                message: "Reached expected number of succeeded pods".into(),
            });
        } else if manage_called {
            if suspended {
                if ensure_condition(
                    &mut status,
                    "Suspended",
                    "True",
                    "JobSuspended",
                    "Job suspended",
                    now,
                ) {
                    plan.events.push(JobEvent {
                        kind: EventType::Normal,
                        reason: "Suspended",
                        message: "Job suspended".into(),
                    });
                }
            } else if ensure_condition(
                &mut status,
                "Suspended",
                "False",
                "JobResumed",
                "Job resumed",
                now,
            ) {
                plan.events.push(JobEvent {
                    kind: EventType::Normal,
                    reason: "Resumed",
                    message: "Job resumed".into(),
                });
                status.start_time = Some(Time(now));
            }
        }
    }
    if !suspended && status.start_time.is_none() {
        status.start_time = Some(Time(now));
    }
    if let Some(c) = completions
        && !indexed
        && succeeded_total > c
    {
        plan.events.push(JobEvent {
            kind: EventType::Warning,
            reason: "TooManySucceededPods",
            message: "Too many succeeded pods running after completion count reached".into(),
        });
    }

    // 6. Accounting: record finished pods, then unblock them.
    let failing = finish.as_ref().is_some_and(|f| !f.success);
    for p in views.iter().filter(|p| p.finalizer) {
        let considered_failed = is_failed(p) || (failing && p.phase != "Succeeded");
        let can_remove = finish.is_some() || p.phase == "Succeeded" || considered_failed;
        if !can_remove {
            continue;
        }
        plan.remove_finalizers.push(pod_ref(p));
        if p.phase == "Succeeded" && !uncounted_failed.contains(p.uid) {
            if !indexed {
                uncounted_ok.insert(p.uid.to_string());
            }
        } else if considered_failed
            && !uncounted_failed.contains(p.uid)
            && (!indexed || index_ok(p.index))
        {
            let counts = match verdicts.get(p.uid) {
                Some(c) => *c,
                None => match_policy(spec, p.pod, ns).counts,
            };
            if counts {
                uncounted_failed.insert(p.uid.to_string());
            }
        }
    }
    // Pods deleted now but not yet seen terminating still count as terminating.
    let terminating_now = terminating + plan.delete.len() as i32;

    // 7. The status.
    status.active = Some(active_after);
    status.ready = Some(
        active
            .iter()
            .filter(|p| !deleted.contains(p.uid) && p.ready())
            .count() as i32,
    );
    status.terminating = Some(terminating);
    status.succeeded = Some(if indexed {
        completed.len() as i32
    } else {
        succeeded
    });
    status.failed = Some(failed);
    if indexed {
        status.completed_indexes = Some(format_indexes(&completed));
        if per_index.is_some() {
            status.failed_indexes = Some(format_indexes(&failed_indexes));
        }
    }
    status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
        succeeded: (!uncounted_ok.is_empty()).then(|| uncounted_ok.iter().cloned().collect()),
        failed: (!uncounted_failed.is_empty()).then(|| uncounted_failed.iter().cloned().collect()),
    });
    if let Some(f) = &finish {
        let interim = if f.success {
            "SuccessCriteriaMet"
        } else {
            "FailureTarget"
        };
        ensure_condition(&mut status, interim, "True", &f.reason, &f.message, now);
        // The terminal condition waits for every pod to be counted, released and gone.
        if uncounted_ok.is_empty()
            && uncounted_failed.is_empty()
            && terminating_now == 0
            && plan.remove_finalizers.is_empty()
        {
            if f.success {
                ensure_condition(&mut status, "Complete", "True", &f.reason, &f.message, now);
                status.completion_time = Some(Time(now));
                plan.events.push(JobEvent {
                    kind: EventType::Normal,
                    reason: "Completed",
                    message: "Job completed".into(),
                });
            } else {
                ensure_condition(&mut status, "Failed", "True", &f.reason, &f.message, now);
                plan.events.push(JobEvent {
                    kind: EventType::Warning,
                    reason: leak_reason(&f.reason),
                    message: f.message.clone(),
                });
            }
            // A finished Job is no longer suspended.
            if is_true(&status, "Suspended") {
                ensure_condition(
                    &mut status,
                    "Suspended",
                    "False",
                    "JobResumed",
                    "Job resumed",
                    now,
                );
            }
        } else {
            // Look again soon: the finalizers come off and the pods go.
            plan.requeue_after = Some(
                plan.requeue_after
                    .map_or(Duration::from_secs(1), |d| d.min(Duration::from_secs(1))),
            );
        }
    }
    if status != old {
        plan.status = Some(status);
    }
    plan
}

/// Event reasons are static strings; the failure reasons the controller uses are a fixed set.
fn leak_reason(reason: &str) -> &'static str {
    match reason {
        "BackoffLimitExceeded" => "BackoffLimitExceeded",
        "DeadlineExceeded" => "DeadlineExceeded",
        "PodFailurePolicy" => "PodFailurePolicy",
        "FailedIndexes" => "FailedIndexes",
        "MaxFailedIndexesExceeded" => "MaxFailedIndexesExceeded",
        _ => "JobFailed",
    }
}

/// Adds up to `diff` pods to the plan, honouring the recreate back-off; returns how many.
#[allow(clippy::too_many_arguments)]
fn create_pods(
    job: &Job,
    spec: &JobSpec,
    views: &[PodView],
    completed: &BTreeSet<i32>,
    failed_indexes: &BTreeSet<i32>,
    only_replace_failed: bool,
    per_index: Option<i32>,
    diff: usize,
    now: Timestamp,
    is_failed: impl Fn(&PodView) -> bool,
    plan: &mut Plan,
) -> i32 {
    let diff = diff.min(MAX_PODS_PER_SYNC);
    let mut wait = Duration::ZERO;
    // Failures since the last success, and the newest of them (over `of` pods).
    let failures_of = |of: &dyn Fn(&PodView) -> bool| {
        let last_success = views
            .iter()
            .filter(|p| of(p) && p.phase == "Succeeded")
            .filter_map(|p| finish_time(p.pod))
            .max();
        let times: Vec<Timestamp> = views
            .iter()
            .filter(|p| of(p) && is_failed(p))
            .filter_map(|p| finish_time(p.pod))
            .filter(|t| last_success.is_none_or(|s| *t > s))
            .collect();
        (times.len(), times.iter().max().copied())
    };
    if spec.completion_mode.as_deref() != Some("Indexed") {
        let (n, last) = failures_of(&|_| true);
        wait = backoff_remaining(n, last, now);
        if wait > Duration::ZERO {
            plan.requeue_after = Some(plan.requeue_after.map_or(wait, |d| d.min(wait)));
            return 0;
        }
        for _ in 0..diff {
            plan.create.push(new_pod(job, None, None));
        }
        return diff as i32;
    }
    let completions = spec.completions.unwrap_or(0);
    let busy: BTreeSet<i32> = views
        .iter()
        .filter(|p| p.active() || (only_replace_failed && p.terminating()))
        .filter_map(|p| p.index)
        .collect();
    let global = if per_index.is_none() {
        let (n, last) = failures_of(&|_| true);
        backoff_remaining(n, last, now)
    } else {
        Duration::ZERO
    };
    if global > Duration::ZERO {
        plan.requeue_after = Some(plan.requeue_after.map_or(global, |d| d.min(global)));
        return 0;
    }
    let mut made = 0;
    for i in 0..completions {
        if made >= diff {
            break;
        }
        if completed.contains(&i) || failed_indexes.contains(&i) || busy.contains(&i) {
            continue;
        }
        let mut failures = None;
        if per_index.is_some() {
            let (n, last) = failures_of(&|p: &PodView| p.index == Some(i));
            let w = backoff_remaining(n, last, now);
            if w > Duration::ZERO {
                wait = if wait == Duration::ZERO {
                    w
                } else {
                    wait.min(w)
                };
                continue;
            }
            // The replacement carries the index's failure count so far.
            let count = views
                .iter()
                .filter(|p| p.index == Some(i))
                .map(|p| {
                    let before = p.index_failures();
                    let counted = is_failed(p) && match_policy(spec, p.pod, "").counts;
                    before + i32::from(counted)
                })
                .max()
                .unwrap_or(0);
            failures = Some(count);
        }
        plan.create.push(new_pod(job, Some(i), failures));
        made += 1;
    }
    if wait > Duration::ZERO {
        plan.requeue_after = Some(plan.requeue_after.map_or(wait, |d| d.min(wait)));
    }
    made as i32
}
