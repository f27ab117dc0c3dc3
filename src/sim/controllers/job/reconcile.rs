//! The Job controller's decision, as a pure function (SPEC-k8s.md §2): given a Job, the pods it
//! owns and the time, what to write. [`reconcile`] does no I/O; the runner in [`super`] executes
//! its [`Plan`] against the API.
//!
//! Pod accounting follows the 1.32 controller: a finished pod still holding the
//! `batch.kubernetes.io/job-tracking` finalizer is first recorded in
//! `status.uncountedTerminatedPods` (or, for a succeeded Indexed pod, in `completedIndexes`),
//! then its finalizer is removed, and only once the finalizer is gone does it move into
//! `succeeded`/`failed`. A pod is therefore counted exactly once even if a write fails halfway.

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
// Interval strings ("1,3-5,7")

/// Parses `status.completedIndexes` / `failedIndexes`; malformed parts are skipped.
pub fn parse_indexes(s: Option<&str>) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in s.unwrap_or_default().split(',').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(i) = part.parse() {
                    out.insert(i);
                }
            }
        }
    }
    out
}

/// Formats a set of indexes as the API writes it (`orderedIntervals.String()`): ascending, a run
/// of three or more as `a-b`, a run of two as `a,b` (`"0-9"`, `"1,3-5,7"`).
pub fn format_indexes(set: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else if end == start + 1 {
            format!("{start},{end}")
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

// ---------------------------------------------------------------------------------------------
// podFailurePolicy

fn exit_codes_match(rule: &PodFailurePolicyRule, pod: &Pod) -> Option<(String, i32)> {
    let req = rule.on_exit_codes.as_ref()?;
    let status = pod.status.as_ref()?;
    let all = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for cs in all {
        if req.container_name.as_ref().is_some_and(|n| *n != cs.name) {
            continue;
        }
        let Some(code) = cs
            .state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| t.exit_code)
        else {
            continue;
        };
        if code == 0 {
            continue;
        }
        let hit = match req.operator.as_str() {
            "In" => req.values.contains(&code),
            "NotIn" => !req.values.contains(&code),
            _ => false,
        };
        if hit {
            return Some((cs.name.clone(), code));
        }
    }
    None
}

fn conditions_match(rule: &PodFailurePolicyRule, pod: &Pod) -> Option<String> {
    for pattern in rule.on_pod_conditions.iter().flatten() {
        if let Some(c) = pod_condition(pod, &pattern.type_) {
            let want = if pattern.status.is_empty() {
                "True"
            } else {
                pattern.status.as_str()
            };
            if c.status == want {
                return Some(pattern.type_.clone());
            }
        }
    }
    None
}

/// `matchPodFailurePolicy`: first matching rule wins; only pods in phase Failed match.
fn match_policy(spec: &JobSpec, pod: &Pod, ns: &str) -> PolicyVerdict {
    let counted = PolicyVerdict {
        counts: true,
        action: None,
        message: None,
    };
    let Some(policy) = &spec.pod_failure_policy else {
        return counted;
    };
    let failed_phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed");
    if !failed_phase {
        return counted;
    }
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    for (i, rule) in policy.rules.iter().enumerate() {
        let action = match rule.action.as_str() {
            "FailJob" => PolicyAction::FailJob,
            "FailIndex" => PolicyAction::FailIndex,
            "Ignore" => PolicyAction::Ignore,
            "Count" => PolicyAction::Count,
            _ => continue,
        };
        let message = if let Some((container, code)) = exit_codes_match(rule, pod) {
            format!(
                "Container {container} for pod {ns}/{pod_name} failed with exit code {code} matching {} rule at index {i}",
                rule.action
            )
        } else if let Some(cond) = conditions_match(rule, pod) {
            format!(
                "Pod {ns}/{pod_name} has condition {cond} matching {} rule at index {i}",
                rule.action
            )
        } else {
            continue;
        };
        return PolicyVerdict {
            counts: action != PolicyAction::Ignore,
            action: Some(action),
            message: (action == PolicyAction::FailJob).then_some(message),
        };
    }
    counted
}

// ---------------------------------------------------------------------------------------------
// Time helpers

fn ts(t: &Option<Time>) -> Option<Timestamp> {
    t.as_ref().map(|t| t.0)
}

/// When a pod finished: its last container termination, else its deletion, else the Ready
/// condition's transition, else its creation.
fn finish_time(pod: &Pod) -> Option<Timestamp> {
    let status = pod.status.as_ref();
    let terminated = status
        .into_iter()
        .flat_map(|s| s.container_statuses.iter().flatten())
        .filter_map(|cs| cs.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .map(|t| t.0)
        .max();
    terminated
        .or_else(|| ts(&pod.metadata.deletion_timestamp))
        .or_else(|| pod_condition(pod, "Ready").and_then(|c| ts(&c.last_transition_time)))
        .or_else(|| ts(&pod.metadata.creation_timestamp))
}

/// The recreate back-off still to wait, given the finish times of failures since the last
/// success (10 s · 2^(n−1), capped).
fn backoff_remaining(failures: usize, last_failure: Option<Timestamp>, now: Timestamp) -> Duration {
    let Some(last) = last_failure.filter(|_| failures > 0) else {
        return Duration::ZERO;
    };
    let shift = (failures - 1).min(16) as u32;
    let backoff = POD_FAILURE_BACKOFF
        .saturating_mul(1u32 << shift)
        .min(MAX_POD_FAILURE_BACKOFF);
    let elapsed = now.duration_since(last);
    let backoff = SignedDuration::try_from(backoff).unwrap_or(SignedDuration::MAX);
    if elapsed >= backoff {
        Duration::ZERO
    } else {
        Duration::try_from(backoff - elapsed).unwrap_or(Duration::ZERO)
    }
}

fn condition(status: &JobStatus, kind: &str) -> Option<JobCondition> {
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
        .cloned()
}

fn is_true(status: &JobStatus, kind: &str) -> bool {
    condition(status, kind).is_some_and(|c| c.status == "True")
}

/// `ensureJobConditionStatus`: sets the condition; a False one is only added if it exists.
/// Returns whether anything changed.
fn ensure_condition(
    status: &mut JobStatus,
    kind: &str,
    value: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    let list = status.conditions.get_or_insert_with(Vec::new);
    let fresh = JobCondition {
        type_: kind.to_string(),
        status: value.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    };
    match list.iter_mut().find(|c| c.type_ == kind) {
        Some(c)
            if c.status != value
                || c.reason.as_deref() != Some(reason)
                || c.message.as_deref() != Some(message) =>
        {
            *c = fresh;
            true
        }
        Some(_) => false,
        None if value != "False" => {
            list.push(fresh);
            true
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Pods

/// The pod the Job creates (for `index` when Indexed), as the 1.32 controller builds it.
pub fn new_pod(job: &Job, index: Option<i32>, index_failures: Option<i32>) -> Pod {
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    let mut labels = tmeta.labels.unwrap_or_default();
    labels.insert(LABEL_CONTROLLER_UID.into(), uid.clone());
    labels.insert(LABEL_CONTROLLER_UID_LEGACY.into(), uid.clone());
    labels.insert(LABEL_JOB_NAME.into(), name.clone());
    labels.insert(LABEL_JOB_NAME_LEGACY.into(), name.clone());
    let mut annotations = tmeta.annotations.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    let generate_name = match index {
        Some(i) => {
            labels.insert(COMPLETION_INDEX.into(), i.to_string());
            annotations.insert(COMPLETION_INDEX.into(), i.to_string());
            if let Some(n) = index_failures {
                annotations.insert(INDEX_FAILURE_COUNT.into(), n.to_string());
            }
            if spec.hostname.is_none() {
                spec.hostname = Some(format!("{name}-{i}"));
            }
            let env = EnvVar {
                name: "JOB_COMPLETION_INDEX".into(),
                value: Some(i.to_string()),
                value_from: None,
            };
            for c in spec
                .containers
                .iter_mut()
                .chain(spec.init_containers.iter_mut().flatten())
            {
                let list = c.env.get_or_insert_with(Vec::new);
                if !list.iter().any(|e| e.name == env.name) {
                    list.push(env.clone());
                }
            }
            format!("{name}-{i}-")
        }
        None => format!("{name}-"),
    };
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: job.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            finalizers: Some(vec![TRACKING_FINALIZER.into()]),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name,
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// Order in which surplus active pods go (`ActivePods` sort): unscheduled before scheduled,
/// Pending before Running, not ready before ready, newest first.
fn removal_order(a: &PodView, b: &PodView) -> std::cmp::Ordering {
    let scheduled = |p: &PodView| {
        p.pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_ref())
            .is_some()
    };
    let running = |p: &PodView| p.phase == "Running";
    let created = |p: &PodView| ts(&p.pod.metadata.creation_timestamp);
    scheduled(a)
        .cmp(&scheduled(b))
        .then(running(a).cmp(&running(b)))
        .then(a.ready().cmp(&b.ready()))
        .then(created(b).cmp(&created(a)))
}

fn pod_ref(p: &PodView) -> PodRef {
    PodRef {
        name: p.name.to_string(),
        uid: p.uid.to_string(),
    }
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
            let before: i32 = p
                .pod
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(INDEX_FAILURE_COUNT))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
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
            .map(|(s, start)| start + SignedDuration::from_secs(s));
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
            sorted.sort_by(|a, b| removal_order(b, a));
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
            surplus.sort_by(|a, b| removal_order(a, b));
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
                    let before: i32 = p
                        .pod
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(INDEX_FAILURE_COUNT))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn now() -> Timestamp {
        "2026-01-01T12:00:00Z".parse().unwrap()
    }

    fn job(spec: Value) -> Job {
        let mut s = json!({
            "parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
            "suspend": false, "podReplacementPolicy": "TerminatingOrFailed",
            "template": {
                "metadata": {"labels": {"app": "ai-agent"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "agent", "image": "x"}]}
            }
        });
        for (k, v) in spec.as_object().unwrap() {
            s[k] = v.clone();
        }
        serde_json::from_value(json!({
            "metadata": {"name": "j", "namespace": "agents", "uid": "job-uid", "resourceVersion": "5"},
            "spec": s,
            "status": {}
        }))
        .unwrap()
    }

    fn with_status(mut j: Job, status: Option<JobStatus>) -> Job {
        j.status = status;
        j
    }

    struct P {
        v: Value,
    }

    impl P {
        fn new(name: &str, phase: &str) -> Self {
            P {
                v: json!({
                    "metadata": {"name": name, "uid": format!("uid-{name}"), "namespace": "agents",
                        "creationTimestamp": "2026-01-01T11:00:00Z",
                        "finalizers": [TRACKING_FINALIZER]},
                    "spec": {"containers": [{"name": "agent", "image": "x"}]},
                    "status": {"phase": phase}
                }),
            }
        }
        fn index(mut self, i: i32) -> Self {
            self.v["metadata"]["annotations"] = json!({COMPLETION_INDEX: i.to_string()});
            self
        }
        fn untracked(mut self) -> Self {
            self.v["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("finalizers");
            self
        }
        fn deleting(mut self) -> Self {
            self.v["metadata"]["deletionTimestamp"] = json!("2026-01-01T11:59:00Z");
            self
        }
        fn exit(mut self, code: i32, finished: &str) -> Self {
            self.v["status"]["containerStatuses"] = json!([{
                "name": "agent", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
                "state": {"terminated": {"exitCode": code, "finishedAt": finished}}
            }]);
            self
        }
        fn condition(mut self, kind: &str) -> Self {
            self.v["status"]["conditions"] = json!([{"type": kind, "status": "True"}]);
            self
        }
        fn pod(self) -> Pod {
            serde_json::from_value(self.v).unwrap()
        }
    }

    fn run(j: &Job, pods: &[Pod]) -> Plan {
        let refs: Vec<&Pod> = pods.iter().collect();
        reconcile(j, &refs, now())
    }

    fn cond<'a>(s: &'a JobStatus, kind: &str) -> Option<&'a JobCondition> {
        s.conditions.as_ref()?.iter().find(|c| c.type_ == kind)
    }

    #[test]
    fn index_strings_round_trip() {
        let set: BTreeSet<i32> = [0, 1, 2, 3, 5, 7, 8, 10, 11, 12].into_iter().collect();
        assert_eq!(format_indexes(&set), "0-3,5,7,8,10-12");
        assert_eq!(parse_indexes(Some("0-3,5,7,8,10-12")), set);
        assert_eq!(format_indexes(&(0..10).collect()), "0-9");
        assert_eq!(format_indexes(&BTreeSet::new()), "");
        assert!(parse_indexes(None).is_empty());
    }

    #[test]
    fn indexed_job_starts_parallelism_pods_with_their_index() {
        let j = job(json!({"completionMode": "Indexed", "completions": 10, "parallelism": 3}));
        let plan = run(&j, &[]);
        assert_eq!(plan.create.len(), 3);
        for (i, p) in plan.create.iter().enumerate() {
            let m = &p.metadata;
            assert_eq!(m.generate_name.as_deref(), Some(format!("j-{i}-").as_str()));
            let labels = m.labels.as_ref().unwrap();
            assert_eq!(labels[COMPLETION_INDEX], i.to_string());
            assert_eq!(labels[LABEL_CONTROLLER_UID], "job-uid");
            assert_eq!(labels[LABEL_CONTROLLER_UID_LEGACY], "job-uid");
            assert_eq!(labels[LABEL_JOB_NAME], "j");
            assert_eq!(labels[LABEL_JOB_NAME_LEGACY], "j");
            assert_eq!(labels["app"], "ai-agent");
            assert_eq!(
                m.annotations.as_ref().unwrap()[COMPLETION_INDEX],
                i.to_string()
            );
            assert_eq!(
                m.finalizers.as_deref(),
                Some(&[TRACKING_FINALIZER.to_string()][..])
            );
            let owner = &m.owner_references.as_ref().unwrap()[0];
            assert_eq!(
                (owner.kind.as_str(), owner.uid.as_str()),
                ("Job", "job-uid")
            );
            assert_eq!(owner.controller, Some(true));
            let spec = p.spec.as_ref().unwrap();
            assert_eq!(spec.hostname.as_deref(), Some(format!("j-{i}").as_str()));
            let env = spec.containers[0].env.as_ref().unwrap();
            assert!(env.iter().any(|e| e.name == "JOB_COMPLETION_INDEX"
                && e.value.as_deref() == Some(i.to_string().as_str())));
        }
        let s = plan.status.unwrap();
        assert_eq!(s.active, Some(3));
        assert!(s.start_time.is_some());
    }

    #[test]
    fn indexed_job_counts_succeeded_indexes_and_finishes_in_two_steps() {
        let j = job(json!({"completionMode": "Indexed", "completions": 3, "parallelism": 3}));
        let pods: Vec<Pod> = (0..3)
            .map(|i| P::new(&format!("p{i}"), "Succeeded").index(i).pod())
            .collect();
        let plan = run(&j, &pods);
        let s = plan.status.clone().unwrap();
        assert_eq!(s.completed_indexes.as_deref(), Some("0-2"));
        assert_eq!(s.succeeded, Some(3));
        assert_eq!(plan.remove_finalizers.len(), 3);
        assert!(plan.create.is_empty());
        assert_eq!(
            cond(&s, "SuccessCriteriaMet").unwrap().reason.as_deref(),
            Some("CompletionsReached")
        );
        assert!(
            cond(&s, "Complete").is_none(),
            "Complete waits for the finalizers"
        );
        // Next round: finalizers gone.
        let j2 = with_status(j, Some(s));
        let pods: Vec<Pod> = (0..3)
            .map(|i| {
                P::new(&format!("p{i}"), "Succeeded")
                    .index(i)
                    .untracked()
                    .pod()
            })
            .collect();
        let plan = run(&j2, &pods);
        let s = plan.status.unwrap();
        assert_eq!(cond(&s, "Complete").unwrap().status, "True");
        assert!(s.completion_time.is_some());
        assert!(
            plan.events
                .iter()
                .any(|e| e.reason == "Completed" && e.message == "Job completed")
        );
    }

    #[test]
    fn backoff_limit_fails_the_job_after_the_pods_are_gone() {
        let j = job(json!({"backoffLimit": 1, "completions": 2, "parallelism": 2}));
        let pods = vec![
            P::new("a", "Failed").exit(1, "2026-01-01T11:50:00Z").pod(),
            P::new("b", "Failed").exit(1, "2026-01-01T11:51:00Z").pod(),
            P::new("c", "Running").pod(),
        ];
        let plan = run(&j, &pods);
        let s = plan.status.clone().unwrap();
        let ft = cond(&s, "FailureTarget").unwrap();
        assert_eq!(ft.reason.as_deref(), Some("BackoffLimitExceeded"));
        assert_eq!(
            ft.message.as_deref(),
            Some("Job has reached the specified backoff limit")
        );
        assert!(cond(&s, "Failed").is_none());
        assert_eq!(
            plan.delete
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["c"]
        );
        assert_eq!(s.active, Some(0));
        // All three are recorded before their finalizers come off.
        let u = s.uncounted_terminated_pods.clone().unwrap().failed.unwrap();
        assert_eq!(u.len(), 3);
        assert_eq!(plan.remove_finalizers.len(), 3);
        // c still terminating: no Failed yet.
        let j2 = with_status(j.clone(), Some(s.clone()));
        let pods2 = vec![
            P::new("a", "Failed").untracked().pod(),
            P::new("b", "Failed").untracked().pod(),
            P::new("c", "Running").untracked().deleting().pod(),
        ];
        let plan = run(&j2, &pods2);
        let s2 = plan.status.unwrap();
        assert_eq!(s2.failed, Some(3));
        assert_eq!(s2.terminating, Some(1));
        assert!(cond(&s2, "Failed").is_none(), "waits for terminating == 0");
        // c gone.
        let j3 = with_status(j, Some(s2));
        let plan = run(&j3, &pods2[..2]);
        let s3 = plan.status.unwrap();
        assert_eq!(
            cond(&s3, "Failed").unwrap().reason.as_deref(),
            Some("BackoffLimitExceeded")
        );
        assert!(
            s3.completion_time.is_none(),
            "completionTime is for success only"
        );
        assert!(
            plan.events
                .iter()
                .any(|e| e.kind == EventType::Warning && e.reason == "BackoffLimitExceeded")
        );
    }

    fn with_policy() -> Value {
        json!({
            "podReplacementPolicy": "Failed",
            "podFailurePolicy": {"rules": [
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
                {"action": "FailJob", "onExitCodes": {"containerName": "agent", "operator": "In", "values": [2]}}
            ]}
        })
    }

    #[test]
    fn ignored_disruption_is_not_counted_and_the_pod_is_replaced_after_backoff() {
        let j = job(with_policy());
        let pods = vec![
            P::new("a", "Failed")
                .exit(137, "2026-01-01T11:59:58Z")
                .condition("DisruptionTarget")
                .pod(),
        ];
        let plan = run(&j, &pods);
        let s = plan.status.clone().unwrap();
        assert!(
            s.uncounted_terminated_pods
                .as_ref()
                .unwrap()
                .failed
                .is_none()
        );
        assert_eq!(plan.remove_finalizers.len(), 1);
        assert!(cond(&s, "FailureTarget").is_none());
        // Recreate back-off: 10 s after the failure, 2 s of which have passed.
        assert!(plan.create.is_empty());
        let wait = plan.requeue_after.unwrap();
        assert!(
            wait > Duration::from_secs(7) && wait <= Duration::from_secs(8),
            "{wait:?}"
        );
        // Later the replacement comes, and failed stays 0.
        let j2 = with_status(j, Some(s));
        let pods = vec![
            P::new("a", "Failed")
                .exit(137, "2026-01-01T11:59:40Z")
                .condition("DisruptionTarget")
                .untracked()
                .pod(),
        ];
        let plan = run(&j2, &pods);
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.status.unwrap().failed, Some(0));
    }

    #[test]
    fn fail_job_on_exit_code() {
        let j = job(
            json!({"podFailurePolicy": with_policy()["podFailurePolicy"], "podReplacementPolicy": "Failed"}),
        );
        let pods = vec![P::new("a", "Failed").exit(2, "2026-01-01T11:59:00Z").pod()];
        let plan = run(&j, &pods);
        let s = plan.status.unwrap();
        let ft = cond(&s, "FailureTarget").unwrap();
        assert_eq!(ft.reason.as_deref(), Some("PodFailurePolicy"));
        assert_eq!(
            ft.message.as_deref(),
            Some(
                "Container agent for pod agents/a failed with exit code 2 matching FailJob rule at index 1"
            )
        );
        assert!(plan.create.is_empty());
    }

    #[test]
    fn suspend_deletes_active_pods_and_resume_restarts() {
        let j = job(json!({"suspend": true, "completions": 2, "parallelism": 2}));
        let status: JobStatus =
            serde_json::from_value(json!({"active": 2, "startTime": "2026-01-01T11:00:00Z"}))
                .unwrap();
        let j = with_status(j, Some(status));
        let pods = vec![
            P::new("a", "Running").pod(),
            P::new("b", "Pending").pod(),
            P::new("c", "Succeeded").untracked().pod(),
        ];
        let plan = run(&j, &pods);
        let mut deleted: Vec<&str> = plan.delete.iter().map(|p| p.name.as_str()).collect();
        deleted.sort();
        assert_eq!(deleted, ["a", "b"], "completed pods are untouched");
        let s = plan.status.unwrap();
        assert_eq!(s.active, Some(0));
        let c = cond(&s, "Suspended").unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref(), c.message.as_deref()),
            ("True", Some("JobSuspended"), Some("Job suspended"))
        );
        assert!(plan.events.iter().any(|e| e.reason == "Suspended"));
        // The deleted pods count as failed once seen terminating.
        let j2 = with_status(j.clone(), Some(s.clone()));
        let pods2 = vec![
            P::new("a", "Running").deleting().pod(),
            P::new("b", "Pending").deleting().pod(),
        ];
        let plan = run(&j2, &pods2);
        let s2 = plan.status.unwrap();
        assert_eq!(
            s2.uncounted_terminated_pods.unwrap().failed.unwrap().len(),
            2
        );
        assert_eq!(s2.terminating, Some(2));
        // Resume: Suspended=False, startTime reset, pods created.
        let mut j3 = with_status(j, Some(s));
        j3.spec.as_mut().unwrap().suspend = Some(false);
        let plan = run(&j3, &[]);
        let s3 = plan.status.unwrap();
        let c = cond(&s3, "Suspended").unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref()),
            ("False", Some("JobResumed"))
        );
        assert_eq!(s3.start_time.unwrap().0, now());
        assert_eq!(plan.create.len(), 2);
        assert!(plan.events.iter().any(|e| e.reason == "Resumed"));
    }

    #[test]
    fn created_suspended_has_no_pods_and_no_start_time() {
        let j = job(json!({"suspend": true}));
        let plan = run(&j, &[]);
        assert!(plan.create.is_empty());
        let s = plan.status.unwrap();
        assert!(s.start_time.is_none());
        assert_eq!(cond(&s, "Suspended").unwrap().status, "True");
    }

    #[test]
    fn non_indexed_completions_and_null_completions() {
        let j = job(json!({"completions": 5, "parallelism": 2}));
        let pods = vec![
            P::new("a", "Succeeded").untracked().pod(),
            P::new("b", "Succeeded").untracked().pod(),
            P::new("c", "Succeeded").untracked().pod(),
            P::new("d", "Running").pod(),
        ];
        let status: JobStatus = serde_json::from_value(json!({"succeeded": 3})).unwrap();
        let plan = run(&with_status(j, Some(status)), &pods);
        assert_eq!(
            plan.create.len(),
            1,
            "5 − 3 succeeded = 2 wanted, 1 running"
        );
        // completions null: no new pods after the first success.
        let j = job(json!({"completions": null, "parallelism": 3}));
        let pods = vec![P::new("a", "Succeeded").pod(), P::new("b", "Running").pod()];
        let plan = run(&j, &pods);
        assert!(plan.create.is_empty());
        assert!(plan.delete.is_empty());
        let s = plan.status.unwrap();
        assert!(cond(&s, "SuccessCriteriaMet").is_none(), "b still runs");
    }

    #[test]
    fn backoff_limit_per_index_fails_only_that_index() {
        let j = job(json!({
            "completionMode": "Indexed", "completions": 2, "parallelism": 2,
            "backoffLimitPerIndex": 0, "backoffLimit": 2147483647
        }));
        let pods = vec![
            P::new("a", "Failed")
                .index(0)
                .exit(1, "2026-01-01T11:00:00Z")
                .pod(),
            P::new("b", "Running").index(1).pod(),
        ];
        let plan = run(&j, &pods);
        let s = plan.status.clone().unwrap();
        assert_eq!(s.failed_indexes.as_deref(), Some("0"));
        assert!(plan.create.is_empty(), "a failed index is not retried");
        assert!(cond(&s, "FailureTarget").is_none(), "index 1 still runs");
        let j2 = with_status(j, Some(s));
        let pods = vec![
            P::new("a", "Failed").index(0).untracked().pod(),
            P::new("b", "Succeeded").index(1).pod(),
        ];
        let s = run(&j2, &pods).status.unwrap();
        assert_eq!(s.completed_indexes.as_deref(), Some("1"));
        assert_eq!(
            cond(&s, "FailureTarget").unwrap().reason.as_deref(),
            Some("FailedIndexes")
        );
    }

    #[test]
    fn replacement_index_carries_the_failure_count() {
        let j = job(json!({
            "completionMode": "Indexed", "completions": 1, "parallelism": 1,
            "backoffLimitPerIndex": 2, "backoffLimit": 2147483647
        }));
        let pods = vec![
            P::new("a", "Failed")
                .index(0)
                .exit(1, "2026-01-01T11:00:00Z")
                .untracked()
                .pod(),
        ];
        let status: JobStatus = serde_json::from_value(
            json!({"failed": 1, "completedIndexes": "", "failedIndexes": ""}),
        )
        .unwrap();
        let plan = run(&with_status(j, Some(status)), &pods);
        assert_eq!(plan.create.len(), 1);
        let ann = plan.create[0].metadata.annotations.as_ref().unwrap();
        assert_eq!(ann[INDEX_FAILURE_COUNT], "1");
    }

    #[test]
    fn surplus_pods_go_when_parallelism_drops() {
        let j = job(json!({"completions": 10, "parallelism": 1}));
        let pods = vec![
            P::new("a", "Running").condition("Ready").pod(),
            P::new("b", "Pending").pod(),
        ];
        let plan = run(&j, &pods);
        assert_eq!(
            plan.delete
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["b"],
            "not-ready Pending goes first"
        );
    }

    #[test]
    fn finished_job_only_releases_pods() {
        let status: JobStatus =
            serde_json::from_value(json!({"conditions": [{"type": "Complete", "status": "True"}]}))
                .unwrap();
        let j = with_status(job(json!({})), Some(status));
        let plan = run(&j, &[P::new("a", "Succeeded").pod()]);
        assert!(plan.status.is_none());
        assert_eq!(plan.remove_finalizers.len(), 1);
    }

    #[test]
    fn active_deadline() {
        let status: JobStatus =
            serde_json::from_value(json!({"startTime": "2026-01-01T11:59:00Z"})).unwrap();
        let j = with_status(
            job(json!({"activeDeadlineSeconds": 100})),
            Some(status.clone()),
        );
        let plan = run(&j, &[P::new("a", "Running").pod()]);
        assert_eq!(plan.requeue_after, Some(Duration::from_secs(40)));
        let j = with_status(job(json!({"activeDeadlineSeconds": 30})), Some(status));
        let plan = run(&j, &[P::new("a", "Running").pod()]);
        let s = plan.status.unwrap();
        assert_eq!(
            cond(&s, "FailureTarget").unwrap().reason.as_deref(),
            Some("DeadlineExceeded")
        );
        assert_eq!(plan.delete.len(), 1);
    }
}
