//! Time and conditions: when a pod finished, the failure back-off still to wait, and the Job's
//! status conditions.

use super::*;

// ---------------------------------------------------------------------------------------------
// Time helpers

pub(super) fn ts(t: &Option<Time>) -> Option<Timestamp> {
    t.as_ref().map(|t| t.0)
}

/// When a pod finished: its last container termination, else its deletion, else the Ready
/// condition's transition, else its creation.
pub(super) fn finish_time(pod: &Pod) -> Option<Timestamp> {
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
pub(super) fn backoff_remaining(
    failures: usize,
    last_failure: Option<Timestamp>,
    now: Timestamp,
) -> Duration {
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

pub(super) fn condition(status: &JobStatus, kind: &str) -> Option<JobCondition> {
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
        .cloned()
}

pub(super) fn is_true(status: &JobStatus, kind: &str) -> bool {
    condition(status, kind).is_some_and(|c| c.status == "True")
}

/// `ensureJobConditionStatus`: sets the condition; a False one is only added if it exists.
/// Returns whether anything changed.
pub(super) fn ensure_condition(
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
