//! One polling cycle of KEDA's ScaledJob scaler, as pure functions (SPEC-k8s.md §1): which Jobs
//! count as running and pending, how many to create ([`fleet::scaling::decide`], shared with
//! the console's prediction), the Job each creation posts, and which finished or outdated Jobs
//! go.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::fleet::objects::{LABEL_SCALED_JOB, QueueStats, ScaledJobSummary};
use crate::fleet::scaling::{self, Decision, JobCounts, TriggerReading};

/// The KEDA release the sim's scaler behaves as (label `app.kubernetes.io/version`).
pub const KEDA_VERSION: &str = "2.16.1";
/// Annotation on generated Jobs: the ScaledJob generation they were made from.
pub const ANN_GENERATION: &str = "scaledjob.keda.sh/generation";
/// `pollingInterval` when unset.
pub const DEFAULT_POLLING_INTERVAL: u64 = 30;
/// History limits when unset.
pub const DEFAULT_HISTORY_LIMIT: usize = 100;

/// What the cycle needs to know about one of the ScaledJob's Jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedJob {
    pub name: String,
    /// Its `scaledjob.keda.sh/generation` annotation.
    pub generation: Option<String>,
    /// `Complete=True`
    pub complete: bool,
    /// `Failed=True`
    pub failed: bool,
    /// `status.completionTime`, else when it failed, else when it was created: the order in
    /// which history is cleaned.
    pub finished_at: Option<Timestamp>,
    /// None when the Job's pods were not looked at (strategies that ignore P).
    pub pending: Option<bool>,
}

impl OwnedJob {
    /// Reads a batch/v1 Job (JSON).
    pub fn from_json(v: &Value) -> Self {
        let cond = |kind: &str| {
            v["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == kind && c["status"] == "True")
                .cloned()
        };
        let time = |x: &Value| x.as_str().and_then(|s| s.parse::<Timestamp>().ok());
        let failed = cond("Failed");
        OwnedJob {
            name: v["metadata"]["name"].as_str().unwrap_or_default().into(),
            generation: v["metadata"]["annotations"][ANN_GENERATION]
                .as_str()
                .map(str::to_string),
            complete: cond("Complete").is_some(),
            failed: failed.is_some(),
            finished_at: time(&v["status"]["completionTime"])
                .or_else(|| failed.as_ref().and_then(|c| time(&c["lastTransitionTime"])))
                .or_else(|| time(&v["metadata"]["creationTimestamp"])),
            pending: None,
        }
    }

    /// Neither Complete nor Failed (KEDA's R counts these, FailureTarget-only included).
    pub fn unfinished(&self) -> bool {
        !self.complete && !self.failed
    }
}

/// Whether a Job is pending, from its pods (JSON): with no `pendingPodConditions`, no pod is
/// Running or Succeeded; with them, no pod has every listed condition True.
pub fn job_pending(pods: &[&Value], pending_conditions: &[String]) -> bool {
    if pending_conditions.is_empty() {
        return !pods
            .iter()
            .any(|p| matches!(p["status"]["phase"].as_str(), Some("Running" | "Succeeded")));
    }
    !pods.iter().any(|p| {
        pending_conditions.iter().all(|want| {
            p["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == want.as_str() && c["status"] == "True")
        })
    })
}

/// R and P over the ScaledJob's Jobs.
pub fn job_counts(jobs: &[OwnedJob]) -> JobCounts {
    let running: Vec<&OwnedJob> = jobs.iter().filter(|j| j.unfinished()).collect();
    JobCounts {
        running: running.len() as i64,
        pending: running.iter().filter(|j| j.pending == Some(true)).count() as i64,
    }
}

/// Whether the strategy reads P (so the Jobs' pods must be looked at).
pub fn needs_pending(spec: &Value) -> bool {
    let s = &spec["scalingStrategy"];
    matches!(s["strategy"].as_str(), Some("accurate" | "eager"))
        || s["pendingPodConditions"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
}

/// `scalingStrategy.pendingPodConditions`.
pub fn pending_conditions(spec: &Value) -> Vec<String> {
    spec["scalingStrategy"]["pendingPodConditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Why a trigger's metadata gives no reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
    #[error("trigger {0} does not exist")]
    NoTrigger(usize),
    #[error("a mode was given without a value")]
    ModeWithoutValue,
    #[error("trigger {0}: only mode QueueLength with a numeric value is supported over amqp")]
    UnsupportedMode(usize),
}

/// The trigger reading for a queue depth, as the rabbitmq scaler would make it (SPEC §1.6).
pub fn reading(
    sj: &ScaledJobSummary,
    trigger: usize,
    ready: u64,
    at: Timestamp,
) -> Result<TriggerReading, ReadingError> {
    let t = sj
        .triggers
        .get(trigger)
        .ok_or(ReadingError::NoTrigger(trigger))?;
    if t.mode.is_some() && t.value.is_none() && t.queue_length.is_none() {
        return Err(ReadingError::ModeWithoutValue);
    }
    t.reading(&QueueStats {
        ready,
        consumers: 0,
        at,
    })
    .ok_or(ReadingError::UnsupportedMode(trigger))
}

/// The cycle's decision: the readings of the triggers that answered, and the Jobs.
pub fn decide(sj: &ScaledJobSummary, readings: &[TriggerReading], jobs: &[OwnedJob]) -> Decision {
    scaling::decide(&sj.scaling_spec(), readings, job_counts(jobs))
}

/// Finished Jobs beyond the history limits, oldest first (SPEC §1.1).
pub fn history_victims(jobs: &[OwnedJob], successful: usize, failed: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (keep, pick) in [
        (
            successful,
            (|j: &OwnedJob| j.complete) as fn(&OwnedJob) -> bool,
        ),
        (failed, |j: &OwnedJob| j.failed && !j.complete),
    ] {
        let mut done: Vec<&OwnedJob> = jobs.iter().filter(|j| pick(j)).collect();
        if done.len() <= keep {
            continue;
        }
        done.sort_by(|a, b| a.finished_at.cmp(&b.finished_at).then(a.name.cmp(&b.name)));
        let extra = done.len() - keep;
        out.extend(done.into_iter().take(extra).map(|j| j.name.clone()));
    }
    out
}

/// Jobs of another generation, which a non-gradual rollout deletes (SPEC §1.4).
pub fn rollout_victims(jobs: &[OwnedJob], generation: i64, strategy: Option<&str>) -> Vec<String> {
    if strategy == Some("gradual") {
        return Vec::new();
    }
    let current = generation.to_string();
    jobs.iter()
        .filter(|j| j.generation.as_deref() != Some(current.as_str()))
        .map(|j| j.name.clone())
        .collect()
}

/// `rollout.strategy`, with the deprecated `rolloutStrategy` winning when set.
pub fn rollout_strategy(spec: &Value) -> Option<&str> {
    spec["rolloutStrategy"]
        .as_str()
        .or_else(|| spec["rollout"]["strategy"].as_str())
}

/// The Job one creation posts (K `generateJobs`), from the ScaledJob (JSON).
pub fn generated_job(sj: &Value) -> Value {
    let name = sj["metadata"]["name"].as_str().unwrap_or_default();
    let mut labels: BTreeMap<String, Value> = BTreeMap::new();
    for (k, v) in [
        ("app.kubernetes.io/name", name),
        ("app.kubernetes.io/version", KEDA_VERSION),
        ("app.kubernetes.io/part-of", name),
        ("app.kubernetes.io/managed-by", "keda-operator"),
        (LABEL_SCALED_JOB, name),
    ] {
        labels.insert(k.into(), json!(v));
    }
    if let Some(own) = sj["metadata"]["labels"].as_object() {
        labels.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let mut annotations: BTreeMap<String, Value> = BTreeMap::new();
    annotations.insert(
        ANN_GENERATION.into(),
        json!(
            sj["metadata"]["generation"]
                .as_i64()
                .unwrap_or(0)
                .to_string()
        ),
    );
    if let Some(own) = sj["metadata"]["annotations"].as_object() {
        annotations.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let mut spec = sj["spec"]["jobTargetRef"].clone();
    if !spec.is_object() {
        spec = json!({});
    }
    if !spec["template"]["metadata"]["labels"].is_object() {
        spec["template"]["metadata"]["labels"] = json!({});
    }
    spec["template"]["metadata"]["labels"][LABEL_SCALED_JOB] = json!(name);
    let restart = &mut spec["template"]["spec"]["restartPolicy"];
    if restart.as_str().is_none_or(str::is_empty) {
        *restart = json!("OnFailure");
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "generateName": format!("{name}-"),
            "namespace": sj["metadata"]["namespace"],
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "keda.sh/v1alpha1",
                "kind": "ScaledJob",
                "name": name,
                "uid": sj["metadata"]["uid"],
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sj(min: Option<i64>, max: i64, strategy: &str, value: &str) -> ScaledJobSummary {
        ScaledJobSummary::from_json(&json!({
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob",
            "metadata": {"name": "s", "namespace": "agents", "uid": "u"},
            "spec": {
                "minReplicaCount": min, "maxReplicaCount": max,
                "scalingStrategy": {"strategy": strategy},
                "triggers": [{"type": "rabbitmq", "metadata": {"queueName": "q", "mode": "QueueLength", "value": value}}],
                "jobTargetRef": {"template": {"spec": {"containers": []}}}
            }
        }))
        .unwrap()
    }

    fn running(n: usize) -> Vec<OwnedJob> {
        (0..n)
            .map(|i| OwnedJob {
                name: format!("j{i}"),
                generation: Some("1".into()),
                complete: false,
                failed: false,
                finished_at: None,
                pending: Some(false),
            })
            .collect()
    }

    /// Jobs created for (Q, max, min, T, R, strategy) through the cycle code: the reading from
    /// the queue depth, R from the Jobs, then the decision.
    fn created(q: u64, max: i64, min: Option<i64>, t: &str, r: usize, strategy: &str) -> i64 {
        let s = sj(min, max, strategy, t);
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let reading = reading(&s, 0, q, now).unwrap();
        // A finished Job is not running: it must not change the answer.
        let mut jobs = running(r);
        jobs.push(OwnedJob {
            complete: true,
            ..running(1).remove(0)
        });
        decide(&s, &[reading], &jobs).create
    }

    /// SPEC-k8s.md §1.2's check table, row by row.
    #[test]
    fn spec_table_through_the_cycle() {
        assert_eq!(created(10, 3, None, "1", 0, "default"), 3);
        assert_eq!(created(10, 3, None, "2", 0, "default"), 3);
        assert_eq!(created(10, 3, None, "1", 1, "default"), 2);
        assert_eq!(created(10, 100, None, "1", 0, "default"), 10);
        assert_eq!(created(4, 3, None, "5", 0, "default"), 1);
        assert_eq!(created(10, 100, None, "2", 0, "default"), 5);
        assert_eq!(created(6, 10, None, "1", 3, "default"), 3);
        assert_eq!(created(6, 10, None, "1", 3, "accurate"), 6);
        assert_eq!(created(6, 10, None, "1", 3, "eager"), 6);
        assert_eq!(created(3, 100, Some(2), "1", 2, "default"), 3);
        assert_eq!(created(0, 10, Some(2), "1", 0, "default"), 2);
    }

    #[test]
    fn the_bundled_shape_seed_10_and_50() {
        // value 5, maxReplicaCount 500: 10 → 2 Jobs, 50 → 10 Jobs less those running.
        assert_eq!(created(10, 500, None, "5", 0, "default"), 2);
        assert_eq!(created(50, 500, None, "5", 0, "default"), 10);
        assert_eq!(created(50, 500, None, "5", 2, "default"), 8);
    }

    #[test]
    fn pending_jobs_and_conditions() {
        let running_pod = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}});
        let pending_pod = json!({"status": {"phase": "Pending"}});
        assert!(job_pending(&[&pending_pod], &[]));
        assert!(job_pending(&[], &[]));
        assert!(!job_pending(&[&running_pod, &pending_pod], &[]));
        assert!(job_pending(&[&running_pod], &["Ready".into()]));
        let ready = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(!job_pending(&[&ready], &["Ready".into()]));
        let mut jobs = running(3);
        jobs[0].pending = Some(true);
        jobs[1].failed = true;
        assert_eq!(
            job_counts(&jobs),
            JobCounts {
                running: 2,
                pending: 1
            }
        );
    }

    #[test]
    fn history_keeps_the_newest() {
        let t = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        let mut jobs = running(1);
        for (i, at) in [
            "2026-01-01T00:00:03Z",
            "2026-01-01T00:00:01Z",
            "2026-01-01T00:00:02Z",
        ]
        .iter()
        .enumerate()
        {
            jobs.push(OwnedJob {
                name: format!("ok{i}"),
                complete: true,
                finished_at: t(at),
                ..running(1).remove(0)
            });
            jobs.push(OwnedJob {
                name: format!("bad{i}"),
                failed: true,
                finished_at: t(at),
                ..running(1).remove(0)
            });
        }
        assert_eq!(history_victims(&jobs, 1, 2), ["ok1", "ok2", "bad1"]);
        assert!(history_victims(&jobs, 100, 100).is_empty());
    }

    #[test]
    fn rollout_deletes_other_generations_unless_gradual() {
        let mut jobs = running(2);
        jobs[1].generation = Some("2".into());
        jobs.push(OwnedJob {
            generation: None,
            name: "old".into(),
            ..running(1).remove(0)
        });
        assert_eq!(rollout_victims(&jobs, 2, None), ["j0", "old"]);
        assert!(rollout_victims(&jobs, 2, Some("gradual")).is_empty());
        assert_eq!(
            rollout_strategy(
                &json!({"rolloutStrategy": "gradual", "rollout": {"strategy": "default"}})
            ),
            Some("gradual")
        );
    }

    #[test]
    fn generated_job_shape() {
        let sj = json!({
            "metadata": {"name": "ai-agent", "namespace": "agents", "uid": "sj-uid", "generation": 3,
                "labels": {"app": "ai-agent", "app.kubernetes.io/part-of": "fleetctl"},
                "annotations": {"note": "x"}},
            "spec": {"jobTargetRef": {"backoffLimit": 3, "template": {"metadata": {"labels": {"app": "ai-agent"}},
                "spec": {"containers": [{"name": "agent", "image": "i"}]}}}}
        });
        let j = generated_job(&sj);
        assert_eq!(j["metadata"]["generateName"], "ai-agent-");
        let l = &j["metadata"]["labels"];
        assert_eq!(l["app.kubernetes.io/name"], "ai-agent");
        assert_eq!(l["app.kubernetes.io/version"], KEDA_VERSION);
        assert_eq!(l["app.kubernetes.io/managed-by"], "keda-operator");
        assert_eq!(
            l["app.kubernetes.io/part-of"], "fleetctl",
            "the ScaledJob's labels win"
        );
        assert_eq!(l[LABEL_SCALED_JOB], "ai-agent");
        assert_eq!(l["app"], "ai-agent");
        assert_eq!(j["metadata"]["annotations"][ANN_GENERATION], "3");
        assert_eq!(j["metadata"]["annotations"]["note"], "x");
        let o = &j["metadata"]["ownerReferences"][0];
        assert_eq!(
            (
                o["kind"].as_str(),
                o["uid"].as_str(),
                o["controller"].as_bool()
            ),
            (Some("ScaledJob"), Some("sj-uid"), Some(true))
        );
        assert_eq!(j["spec"]["backoffLimit"], 3);
        assert_eq!(j["spec"]["template"]["spec"]["restartPolicy"], "OnFailure");
        assert_eq!(
            j["spec"]["template"]["metadata"]["labels"][LABEL_SCALED_JOB],
            "ai-agent"
        );
    }

    #[test]
    fn trigger_value_rules() {
        let s = sj(None, 10, "default", "5");
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(reading(&s, 0, 7, now).unwrap().target, 5.0);
        assert_eq!(reading(&s, 1, 7, now), Err(ReadingError::NoTrigger(1)));
        let s = ScaledJobSummary::from_json(&json!({
            "metadata": {"name": "s", "namespace": "n", "uid": "u"},
            "spec": {"triggers": [{"type": "rabbitmq", "metadata": {"queueName": "q"}}]}
        }))
        .unwrap();
        assert_eq!(
            reading(&s, 0, 7, now).unwrap().target,
            20.0,
            "no mode, no value: 20"
        );
    }
}
