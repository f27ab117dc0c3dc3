//! The sim's Job controller (SPEC-k8s.md §2) driven through the real API: the in-process sim over
//! HTTPS with its controllers, the real kube client, and this test playing the kubelet of a node
//! `test-node` (the pods name it in their template, so deletions are graceful as on a real node):
//! it sets pod phases, exit codes and DisruptionTarget conditions, and finishes terminating pods.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use fleetctl::sim::controllers::ControllerOptions;
use fleetctl::sim::runtime::{RunningSim, SimOptions, start};

const NS: &str = "agents";

async fn sim() -> (RunningSim, Client, common::TempDir) {
    common::install_crypto();
    let dir = common::TempDir::new("sim-jobs");
    let mut opts = SimOptions::new(dir.path().join("kubeconfig"));
    let mut c = ControllerOptions::new(dir.path().join("state"));
    c.keda = false;
    opts.controllers = Some(c);
    let sim = start(opts).await.expect("the sim starts");
    let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
        .await
        .unwrap();
    (sim, client, dir)
}

/// A Job whose pods run on `test-node`, with `spec` merged over the defaults.
fn job_doc(name: &str, spec: Value) -> Job {
    let mut s = json!({
        "template": {
            "metadata": {"labels": {"app": "ai-agent"}},
            "spec": {
                "nodeName": "test-node",
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 30,
                "containers": [{"name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0"}]
            }
        }
    });
    for (k, v) in spec.as_object().unwrap() {
        s[k] = v.clone();
    }
    serde_json::from_value(json!({"metadata": {"name": name, "namespace": NS}, "spec": s})).unwrap()
}

async fn create_job(client: &Client, name: &str, spec: Value) -> Job {
    Api::<Job>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &job_doc(name, spec))
        .await
        .unwrap()
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// What the test kubelet does with a new pod.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Run,
    Succeed,
    Fail(i32),
}

async fn set_status(client: &Client, name: &str, status: Value) {
    let _ = Api::<Pod>::namespaced(client.clone(), NS)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await;
}

fn running() -> Value {
    json!({
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "agent", "ready": true, "restartCount": 0, "image": "x",
            "imageID": "", "started": true, "state": {"running": {"startedAt": now()}}}]
    })
}

fn terminated(code: i32, disrupted: bool) -> Value {
    let mut conditions = vec![json!({"type": "Ready", "status": "False",
        "reason": if code == 0 { "PodCompleted" } else { "PodFailed" }})];
    if disrupted {
        conditions.push(json!({"type": "DisruptionTarget", "status": "True",
            "reason": "EvictionByEvictionAPI", "message": "Eviction API: evicting"}));
    }
    json!({
        "phase": if code == 0 { "Succeeded" } else { "Failed" },
        "conditions": conditions,
        "containerStatuses": [{"name": "agent", "ready": false, "restartCount": 0, "image": "x",
            "imageID": "", "state": {"terminated": {"exitCode": code,
                "reason": if code == 0 { "Completed" } else { "Error" }, "finishedAt": now()}}}]
    })
}

/// The kubelet of `test-node`: starts each new pod as `decide` says, and finishes terminating
/// pods (SIGTERM → exit 143, then a delete with grace 0).
fn kubelet(
    client: &Client,
    decide: impl Fn(&Pod) -> Outcome + Send + Sync + 'static,
) -> tokio::task::JoinHandle<()> {
    let client = client.clone();
    tokio::spawn(async move {
        let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
        loop {
            if let Ok(list) = pods.list(&ListParams::default()).await {
                for p in list.items {
                    let name = p.name_any();
                    if p.metadata.deletion_timestamp.is_some() {
                        if !matches!(phase(&p), "Succeeded" | "Failed") {
                            set_status(&client, &name, terminated(143, false)).await;
                        }
                        let _ = pods
                            .delete(&name, &DeleteParams::default().grace_period(0))
                            .await;
                    } else if phase(&p) == "Pending" {
                        let st = match decide(&p) {
                            Outcome::Run => running(),
                            Outcome::Succeed => terminated(0, false),
                            Outcome::Fail(c) => terminated(c, false),
                        };
                        set_status(&client, &name, st).await;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

async fn get_job(client: &Client, name: &str) -> Job {
    Api::<Job>::namespaced(client.clone(), NS)
        .get(name)
        .await
        .unwrap()
}

fn cond(j: &Job, kind: &str) -> Option<(String, String, String)> {
    j.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
        .map(|c| {
            (
                c.status.clone(),
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default(),
            )
        })
}

fn is_true(j: &Job, kind: &str) -> bool {
    cond(j, kind).is_some_and(|c| c.0 == "True")
}

async fn job_pods(client: &Client, job: &str) -> Vec<Pod> {
    Api::<Pod>::namespaced(client.clone(), NS)
        .list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}")))
        .await
        .unwrap()
        .items
}

async fn events(client: &Client, job: &str) -> Vec<Event> {
    Api::<Event>::namespaced(client.clone(), NS)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(job))
        .collect()
}

fn has_event(evs: &[Event], kind: &str, reason: &str, message: &str) -> bool {
    evs.iter().any(|e| {
        e.type_.as_deref() == Some(kind)
            && e.reason.as_deref() == Some(reason)
            && e.message.as_deref().is_some_and(|m| m.contains(message))
            && e.source.as_ref().and_then(|s| s.component.as_deref()) == Some("job-controller")
    })
}

async fn finish_pod(client: &Client, name: &str, code: i32, disrupted: bool) {
    set_status(client, name, terminated(code, disrupted)).await;
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn indexed_job_completes_every_index_three_at_a_time() {
    let (sim, client, _dir) = sim().await;
    // Each pod runs, and the test finishes the running ones one round at a time.
    let kubelet = kubelet(&client, |_| Outcome::Run);
    create_job(
        &client,
        "batch",
        json!({"completionMode": "Indexed", "completions": 10, "parallelism": 3}),
    )
    .await;
    let max_active = Arc::new(Mutex::new(0usize));
    let job = common::eventually(90, "the Indexed Job to complete", || {
        let client = client.clone();
        let max_active = max_active.clone();
        async move {
            let pods = job_pods(&client, "batch").await;
            let active: Vec<&Pod> = pods
                .iter()
                .filter(|p| !matches!(phase(p), "Succeeded" | "Failed"))
                .collect();
            {
                let mut m = max_active.lock().unwrap();
                *m = (*m).max(active.len());
            }
            for p in active.iter().filter(|p| phase(p) == "Running") {
                finish_pod(&client, &p.name_any(), 0, false).await;
            }
            let j = get_job(&client, "batch").await;
            is_true(&j, "Complete").then_some(j)
        }
    })
    .await;
    kubelet.abort();
    let st = job.status.clone().unwrap();
    assert_eq!(st.completed_indexes.as_deref(), Some("0-9"));
    assert_eq!(st.succeeded, Some(10));
    assert_eq!(st.failed.unwrap_or(0), 0);
    assert_eq!(st.active.unwrap_or(0), 0);
    assert!(st.completion_time.is_some());
    let max_active = *max_active.lock().unwrap();
    assert!(
        max_active <= 3,
        "parallelism 3, saw {max_active} active pods"
    );
    // SuccessCriteriaMet first, then Complete, both CompletionsReached.
    let types: Vec<&str> = st
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.type_.as_str())
        .collect();
    assert_eq!(types, ["SuccessCriteriaMet", "Complete"]);
    assert_eq!(cond(&job, "Complete").unwrap().1, "CompletionsReached");
    // Every pod: its index in the name, label, annotation, env and hostname; owned by the Job;
    // released (no tracking finalizer left).
    let pods = job_pods(&client, "batch").await;
    assert_eq!(pods.len(), 10, "one pod per index, none extra");
    let uid = job.uid().unwrap();
    let mut indexes = BTreeSet::new();
    for p in &pods {
        let i = p.labels()["batch.kubernetes.io/job-completion-index"].clone();
        assert_eq!(
            p.annotations()["batch.kubernetes.io/job-completion-index"],
            i
        );
        let name = p.name_any();
        let prefix = format!("batch-{i}-");
        assert!(
            name.starts_with(&prefix) && name.len() == prefix.len() + 5,
            "{name}"
        );
        assert_eq!(p.labels()["batch.kubernetes.io/controller-uid"], uid);
        assert_eq!(p.labels()["controller-uid"], uid);
        assert_eq!(p.labels()["job-name"], "batch");
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(
            spec.hostname.as_deref(),
            Some(format!("batch-{i}").as_str())
        );
        let env = spec.containers[0].env.as_ref().unwrap();
        assert!(env.iter().any(|e| e.name == "JOB_COMPLETION_INDEX" && e.value.as_deref() == Some(i.as_str())));
        let owner = &p.owner_references()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
            ("Job", uid.as_str(), Some(true))
        );
        assert!(p.finalizers().is_empty(), "{name} still tracked");
        indexes.insert(i.parse::<i32>().unwrap());
    }
    assert_eq!(indexes, (0..10).collect());
    let evs = events(&client, "batch").await;
    assert!(has_event(
        &evs,
        "Normal",
        "SuccessfulCreate",
        "Created pod: batch-"
    ));
    assert!(has_event(&evs, "Normal", "Completed", "Job completed"));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn non_indexed_job_runs_exactly_its_completions() {
    let (sim, client, _dir) = sim().await;
    let kubelet = kubelet(&client, |_| Outcome::Succeed);
    create_job(
        &client,
        "three",
        json!({"completions": 3, "parallelism": 2}),
    )
    .await;
    let job = common::eventually(60, "Complete", || {
        let client = client.clone();
        async move {
            let j = get_job(&client, "three").await;
            is_true(&j, "Complete").then_some(j)
        }
    })
    .await;
    kubelet.abort();
    let st = job.status.unwrap();
    assert_eq!(st.succeeded, Some(3));
    assert_eq!(st.completed_indexes, None);
    let pods = job_pods(&client, "three").await;
    assert_eq!(pods.len(), 3, "no pod beyond the completions");
    for p in &pods {
        let name = p.name_any();
        assert!(
            name.starts_with("three-") && name.len() == "three-".len() + 5,
            "{name}"
        );
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn backoff_limit_sets_failure_target_then_failed_once_nothing_terminates() {
    let (sim, client, _dir) = sim().await;
    let first_run = kubelet(&client, |_| Outcome::Run);
    create_job(
        &client,
        "doomed",
        json!({"completions": 2, "parallelism": 2, "backoffLimit": 0,
            "podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]}}),
    )
    .await;
    let pods = common::eventually(30, "two running pods", || {
        let client = client.clone();
        async move {
            let pods = job_pods(&client, "doomed").await;
            (pods.iter().filter(|p| phase(p) == "Running").count() == 2).then_some(pods)
        }
    })
    .await;
    // The kubelet stops finishing terminating pods for a while.
    first_run.abort();
    let victim = pods[0].name_any();
    let other = pods[1].name_any();
    finish_pod(&client, &victim, 1, false).await;
    let job = common::eventually(30, "FailureTarget with the other pod terminating", || {
        let client = client.clone();
        async move {
            let j = get_job(&client, "doomed").await;
            (is_true(&j, "FailureTarget") && j.status.as_ref()?.terminating == Some(1)).then_some(j)
        }
    })
    .await;
    assert_eq!(
        cond(&job, "FailureTarget").unwrap(),
        (
            "True".to_string(),
            "BackoffLimitExceeded".to_string(),
            "Job has reached the specified backoff limit".to_string()
        )
    );
    assert!(
        cond(&job, "Failed").is_none(),
        "Failed waits for terminating == 0"
    );
    let other_pod = Api::<Pod>::namespaced(client.clone(), NS)
        .get(&other)
        .await
        .unwrap();
    assert!(
        other_pod.metadata.deletion_timestamp.is_some(),
        "the active pod was deleted"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(cond(&get_job(&client, "doomed").await, "Failed").is_none());
    // Now the kubelet kills it.
    let kubelet = kubelet(&client, |_| Outcome::Run);
    let job = common::eventually(30, "Failed", || {
        let client = client.clone();
        async move {
            let j = get_job(&client, "doomed").await;
            is_true(&j, "Failed").then_some(j)
        }
    })
    .await;
    kubelet.abort();
    assert_eq!(cond(&job, "Failed").unwrap().1, "BackoffLimitExceeded");
    let st = job.status.clone().unwrap();
    assert_eq!(st.failed, Some(2));
    assert_eq!(st.terminating, Some(0));
    assert!(st.completion_time.is_none());
    let evs = events(&client, "doomed").await;
    assert!(has_event(
        &evs,
        "Warning",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit"
    ));
    assert!(has_event(
        &evs,
        "Normal",
        "SuccessfulDelete",
        &format!("Deleted pod: {other}")
    ));
    sim.stop().await;
}

fn agent_policy() -> Value {
    json!({"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {"action": "FailJob", "onExitCodes": {"containerName": "agent", "operator": "In", "values": [2]}}
    ]})
}

#[tokio::test(flavor = "multi_thread")]
async fn disruption_is_ignored_and_replaced_but_exit_2_fails_the_job() {
    let (sim, client, _dir) = sim().await;
    let kubelet = kubelet(&client, |_| Outcome::Run);
    create_job(
        &client,
        "pfp",
        json!({"backoffLimit": 0, "podFailurePolicy": agent_policy()}),
    )
    .await;
    let first = common::eventually(30, "a running pod", || {
        let client = client.clone();
        async move {
            job_pods(&client, "pfp")
                .await
                .into_iter()
                .find(|p| phase(p) == "Running")
        }
    })
    .await;
    // Evicted: DisruptionTarget, killed.
    finish_pod(&client, &first.name_any(), 137, true).await;
    // backoffLimit 0 would fail the Job on any counted failure: this one is not counted, and a
    // replacement comes after the 10 s recreate back-off.
    let second = common::eventually(40, "the replacement pod", || {
        let client = client.clone();
        let first = first.name_any();
        async move {
            job_pods(&client, "pfp")
                .await
                .into_iter()
                .find(|p| p.name_any() != first && phase(p) == "Running")
        }
    })
    .await;
    let j = get_job(&client, "pfp").await;
    assert_eq!(j.status.as_ref().unwrap().failed.unwrap_or(0), 0);
    assert!(!is_true(&j, "FailureTarget"));
    // Exit code 2: FailJob.
    finish_pod(&client, &second.name_any(), 2, false).await;
    let j = common::eventually(30, "Failed", || {
        let client = client.clone();
        async move {
            let j = get_job(&client, "pfp").await;
            is_true(&j, "Failed").then_some(j)
        }
    })
    .await;
    kubelet.abort();
    let (_, reason, message) = cond(&j, "Failed").unwrap();
    assert_eq!(reason, "PodFailurePolicy");
    assert_eq!(
        message,
        format!(
            "Container agent for pod agents/{} failed with exit code 2 matching FailJob rule at index 1",
            second.name_any()
        )
    );
    assert_eq!(cond(&j, "FailureTarget").unwrap().1, "PodFailurePolicy");
    assert_eq!(j.status.unwrap().failed, Some(1));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn suspend_deletes_active_pods_and_resume_recreates_them() {
    let (sim, client, _dir) = sim().await;
    let kubelet = kubelet(&client, |_| Outcome::Run);
    create_job(
        &client,
        "pausable",
        json!({"completions": 4, "parallelism": 2}),
    )
    .await;
    let before = common::eventually(30, "two active pods", || {
        let client = client.clone();
        async move {
            let j = get_job(&client, "pausable").await;
            let st = j.status.clone()?;
            (st.active == Some(2) && st.ready == Some(2)).then_some(j)
        }
    })
    .await;
    let started = before.status.unwrap().start_time.unwrap().0;
    let old: BTreeSet<String> = job_pods(&client, "pausable")
        .await
        .iter()
        .map(|p| p.name_any())
        .collect();
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    jobs.patch(
        "pausable",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": true}})),
    )
    .await
    .unwrap();
    let j = common::eventually(30, "suspended, pods gone and counted failed", || {
        let client = client.clone();
        async move {
            let j = get_job(&client, "pausable").await;
            let st = j.status.clone()?;
            (is_true(&j, "Suspended")
                && st.active == Some(0)
                && st.failed == Some(2)
                && st.terminating == Some(0))
            .then_some(j)
        }
    })
    .await;
    assert_eq!(
        cond(&j, "Suspended").unwrap(),
        ("True".into(), "JobSuspended".into(), "Job suspended".into())
    );
    let evs = events(&client, "pausable").await;
    assert!(has_event(&evs, "Normal", "Suspended", "Job suspended"));
    for name in &old {
        assert!(has_event(
            &evs,
            "Normal",
            "SuccessfulDelete",
            &format!("Deleted pod: {name}")
        ));
    }
    assert!(
        job_pods(&client, "pausable").await.is_empty(),
        "the kubelet finished the deleted pods"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        job_pods(&client, "pausable").await.is_empty(),
        "no pods while suspended"
    );

    jobs.patch(
        "pausable",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": false}})),
    )
    .await
    .unwrap();
    let j = common::eventually(40, "resumed with two new pods", || {
        let client = client.clone();
        async move {
            let j = get_job(&client, "pausable").await;
            (cond(&j, "Suspended")?.0 == "False" && j.status.as_ref()?.active == Some(2))
                .then_some(j)
        }
    })
    .await;
    kubelet.abort();
    assert_eq!(cond(&j, "Suspended").unwrap().1, "JobResumed");
    assert!(
        j.status.unwrap().start_time.unwrap().0 > started,
        "startTime reset on resume"
    );
    let now: BTreeSet<String> = job_pods(&client, "pausable")
        .await
        .iter()
        .map(|p| p.name_any())
        .collect();
    assert!(now.is_disjoint(&old));
    assert!(has_event(
        &events(&client, "pausable").await,
        "Normal",
        "Resumed",
        "Job resumed"
    ));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn backoff_limit_per_index_fails_only_the_failing_index() {
    let (sim, client, _dir) = sim().await;
    let kubelet = kubelet(&client, |p| {
        if p.labels()["batch.kubernetes.io/job-completion-index"] == "1" {
            Outcome::Fail(1)
        } else {
            Outcome::Succeed
        }
    });
    create_job(
        &client,
        "perindex",
        json!({"completionMode": "Indexed", "completions": 3, "parallelism": 3, "backoffLimitPerIndex": 0}),
    )
    .await;
    let j = common::eventually(60, "Failed", || {
        let client = client.clone();
        async move {
            let j = get_job(&client, "perindex").await;
            is_true(&j, "Failed").then_some(j)
        }
    })
    .await;
    kubelet.abort();
    let st = j.status.clone().unwrap();
    assert_eq!(st.failed_indexes.as_deref(), Some("1"));
    assert_eq!(st.completed_indexes.as_deref(), Some("0,2"));
    assert_eq!(st.failed, Some(1));
    assert_eq!(cond(&j, "Failed").unwrap().1, "FailedIndexes");
    assert_eq!(cond(&j, "FailureTarget").unwrap().1, "FailedIndexes");
    let pods = job_pods(&client, "perindex").await;
    assert_eq!(pods.len(), 3, "index 1 is not retried");
    sim.stop().await;
}
