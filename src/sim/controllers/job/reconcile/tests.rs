//! The Job controller's decisions, checked against the 1.32 controller's for the same inputs.

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
        serde_json::from_value(json!({"active": 2, "startTime": "2026-01-01T11:00:00Z"})).unwrap();
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
    let status: JobStatus =
        serde_json::from_value(json!({"failed": 1, "completedIndexes": "", "failedIndexes": ""}))
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
