//! The sim's cluster-level controllers, through the real API: the garbage collector (all three
//! propagation policies), the TTL-after-finished controller, the disruption controller (PDB
//! status, fail-safe for Job pods) and the Deployment/ReplicaSet controller (checked with real
//! kubectl as well as kube-rs).
//!
//! These sims run with zero nodes: pods stay unscheduled, so no agent runs and each test sees
//! only the controller it is about. Pod readiness is set by the test where a PDB needs it.

mod common;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DeleteParams, EvictParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use common::TempDir;
use fleetctl::sim::controllers::ControllerOptions;
use fleetctl::sim::runtime::RunningSim;

const NS: &str = "agents";

/// Jobs of these tests are managed by "another controller" (`spec.managedBy`), so the sim's
/// Job controller leaves them, and their hand-made pods, alone.
const MANAGED_BY: &str = "example.com/test";

async fn sim(dir: &TempDir) -> (RunningSim, Client) {
    let state = dir.path().join("state");
    common::sim(dir, |o| {
        o.controllers = Some(ControllerOptions {
            nodes: 0,
            ..ControllerOptions::new(state)
        })
    })
    .await
}

fn kubectl(sim: &RunningSim, args: &[&str]) -> common::Run {
    common::kubectl_logged(&sim.kubeconfig, args)
}

async fn pods(client: &Client) -> Vec<Pod> {
    Api::<Pod>::namespaced(client.clone(), NS)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

fn deployment(replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "labels": {"app": "ai-agent"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "ai-agent"}},
                 "template": {"metadata": {"labels": {"app": "ai-agent"}},
                              "spec": {"containers": [{"name": "agent", "image": "agent:1"}]}}}
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn deployments_keep_replicas_through_scale_and_are_collected() {
    if !common::require(
        common::kubectl_on_path(),
        "deployments_keep_replicas",
        "kubectl",
    ) {
        return;
    }
    let dir = TempDir::new("ctl-deploy");
    let (sim, client) = sim(&dir).await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), NS);
    deps.create(&PostParams::default(), &deployment(3))
        .await
        .unwrap();
    let rs: Api<ReplicaSet> = Api::namespaced(client.clone(), NS);
    let set = common::eventually(20, "a ReplicaSet with 3 pods", || async {
        let list = rs.list(&ListParams::default()).await.ok()?;
        let r = list.items.into_iter().next()?;
        (pods(&client).await.len() == 3).then_some(r)
    })
    .await;
    let hash = set.labels()["pod-template-hash"].clone();
    assert_eq!(set.name_any(), format!("web-{hash}"));
    for p in pods(&client).await {
        let owner = &p.owner_references()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.controller),
            ("ReplicaSet", Some(true))
        );
        assert_eq!(p.labels()["pod-template-hash"], hash);
        assert!(p.name_any().starts_with(&format!("web-{hash}-")));
    }
    let status = common::eventually(20, "the Deployment's status", || async {
        let d = deps.get("web").await.ok()?;
        let s = d.status?;
        (s.replicas == Some(3)).then_some(s)
    })
    .await;
    assert_eq!(status.observed_generation, Some(1));

    // kubectl scale goes through the scale subresource; the pods follow.
    let run = kubectl(&sim, &["-n", NS, "scale", "deployment/web", "--replicas=1"]);
    assert_eq!(run.code, 0, "{}", run.all());
    common::eventually(20, "one pod left", || async {
        (pods(&client).await.len() == 1).then_some(())
    })
    .await;
    let run = kubectl(
        &sim,
        &[
            "-n",
            NS,
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.status.replicas}",
        ],
    );
    let replicas = common::eventually(20, "status.replicas 1", || async {
        let d = deps.get("web").await.ok()?;
        (d.status?.replicas == Some(1)).then_some(1)
    })
    .await;
    assert_eq!(replicas, 1, "{}", run.stdout);

    // kubectl delete (Background): the ReplicaSet and its pod are collected.
    let run = kubectl(&sim, &["-n", NS, "delete", "deployment", "web"]);
    assert_eq!(run.code, 0, "{}", run.all());
    common::eventually(20, "ReplicaSet and pods collected", || async {
        let left =
            rs.list(&ListParams::default()).await.ok()?.items.len() + pods(&client).await.len();
        (left == 0).then_some(())
    })
    .await;
    sim.stop().await;
}

async fn job_with_pod(client: &Client, name: &str, status: Option<Value>) -> Job {
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"suspend": true, "ttlSecondsAfterFinished": 1, "managedBy": MANAGED_BY,
                 "template": {"spec": {"restartPolicy": "Never",
                     "containers": [{"name": "agent", "image": "agent:1"}]}}}
    }))
    .unwrap();
    let job = jobs.create(&PostParams::default(), &job).await.unwrap();
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": format!("{name}-pod"), "ownerReferences": [{
            "apiVersion": "batch/v1", "kind": "Job", "name": name,
            "uid": job.uid().unwrap(), "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"containers": [{"name": "agent", "image": "agent:1"}]}
    }))
    .unwrap();
    Api::<Pod>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &pod)
        .await
        .unwrap();
    if let Some(s) = status {
        jobs.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": s})),
        )
        .await
        .unwrap();
    }
    job
}

#[tokio::test(flavor = "multi_thread")]
async fn propagation_policies_orphan_foreground_and_background() {
    let dir = TempDir::new("ctl-gc");
    let (sim, client) = sim(&dir).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), NS);

    // A batch/v1 Job deleted without a policy orphans its pods (the API's default for Jobs).
    job_with_pod(&client, "orphaning", None).await;
    jobs.delete("orphaning", &DeleteParams::default())
        .await
        .unwrap();
    common::eventually(20, "the Job gone, its pod unlinked", || async {
        let gone = jobs.get_opt("orphaning").await.ok()?.is_none();
        let pod = pod_api.get("orphaning-pod").await.ok()?;
        (gone && pod.owner_references().is_empty()).then_some(())
    })
    .await;

    // Foreground: the Job waits (finalizer foregroundDeletion) until its pod is gone.
    job_with_pod(&client, "fore", None).await;
    jobs.delete("fore", &DeleteParams::foreground())
        .await
        .unwrap();
    common::eventually(20, "the pod first, then the Job", || async {
        let job = jobs.get_opt("fore").await.ok()?;
        let pod = pod_api.get_opt("fore-pod").await.ok()?;
        match (job, pod) {
            (Some(j), Some(_)) => {
                assert!(j.finalizers().iter().any(|f| f == "foregroundDeletion"));
                None
            }
            (Some(j), None) => {
                assert!(j.metadata.deletion_timestamp.is_some());
                None
            }
            (None, Some(_)) => panic!("the Job went before its pod"),
            (None, None) => Some(()),
        }
    })
    .await;

    // Background: the Job goes at once, the collector takes the pod.
    job_with_pod(&client, "back", None).await;
    jobs.delete("back", &DeleteParams::background())
        .await
        .unwrap();
    assert!(jobs.get_opt("back").await.unwrap().is_none());
    common::eventually(20, "the pod collected", || async {
        pod_api
            .get_opt("back-pod")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    // The orphan stays.
    assert!(pod_api.get_opt("orphaning-pod").await.unwrap().is_some());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_jobs_are_deleted_after_their_ttl_with_their_pods() {
    let dir = TempDir::new("ctl-ttl");
    let (sim, client) = sim(&dir).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let now = fleetctl::sim::api::store::timestamp(jiff::Timestamp::now());
    job_with_pod(
        &client,
        "running",
        Some(json!({"conditions": [
        {"type": "FailureTarget", "status": "True", "lastTransitionTime": now}]})),
    )
    .await;
    job_with_pod(
        &client,
        "done",
        Some(json!({"conditions": [
        {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
        {"type": "Complete", "status": "True", "lastTransitionTime": now}]})),
    )
    .await;
    common::eventually(20, "the finished Job and its pod deleted", || async {
        let job = jobs.get_opt("done").await.ok()?;
        let pod = Api::<Pod>::namespaced(client.clone(), NS)
            .get_opt("done-pod")
            .await
            .ok()?;
        (job.is_none() && pod.is_none()).then_some(())
    })
    .await;
    assert!(
        jobs.get_opt("running").await.unwrap().is_some(),
        "FailureTarget alone is not finished"
    );
    sim.stop().await;
}

async fn ready_pod(client: &Client, name: &str, owner: &Job) {
    let api: Api<Pod> = Api::namespaced(client.clone(), NS);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "ai-agent"}, "ownerReferences": [{
            "apiVersion": "batch/v1", "kind": "Job", "name": owner.name_any(),
            "uid": owner.uid().unwrap(), "controller": true}]},
        "spec": {"containers": [{"name": "agent", "image": "agent:1"}]}
    }))
    .unwrap();
    api.create(&PostParams::default(), &pod).await.unwrap();
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {
        "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn pdb_status_follows_pods_and_fails_safe_for_job_pods_under_max_unavailable() {
    let dir = TempDir::new("ctl-pdb");
    let (sim, client) = sim(&dir).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": "batch"},
        "spec": {"suspend": true, "managedBy": MANAGED_BY, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "agent", "image": "agent:1"}]}}}
    }))
    .unwrap();
    let job = jobs.create(&PostParams::default(), &job).await.unwrap();
    ready_pod(&client, "a", &job).await;
    ready_pod(&client, "b", &job).await;
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), NS);
    let pdb = |name: &str, spec: Value| -> PodDisruptionBudget {
        let mut spec = spec;
        spec["selector"] = json!({"matchLabels": {"app": "ai-agent"}});
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
    };
    pdbs.create(
        &PostParams::default(),
        &pdb("min", json!({"minAvailable": 1})),
    )
    .await
    .unwrap();
    let status = common::eventually(20, "the integer minAvailable budget", || async {
        let s = pdbs.get("min").await.ok()?.status?;
        (s.observed_generation == Some(1)).then_some(s)
    })
    .await;
    assert_eq!(
        (
            status.expected_pods,
            status.desired_healthy,
            status.current_healthy,
            status.disruptions_allowed
        ),
        (2, 1, 2, 1)
    );
    let cond = &status.conditions.unwrap()[0];
    assert_eq!(
        (
            cond.type_.as_str(),
            cond.status.as_str(),
            cond.reason.as_str()
        ),
        ("DisruptionAllowed", "True", "SufficientPods")
    );

    // One eviction uses the budget up: the pod is gone and the one left is all minAvailable asks.
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    pods.evict("a", &EvictParams::default()).await.unwrap();
    let status = common::eventually(20, "the budget spent", || async {
        let s = pdbs.get("min").await.ok()?.status?;
        (s.disruptions_allowed == 0 && s.current_healthy == 1).then_some(s)
    })
    .await;
    assert_eq!(status.conditions.unwrap()[0].reason, "InsufficientPods");
    let err = pods.evict("b", &EvictParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 429),
        "{err:?}"
    );
    pdbs.delete("min", &DeleteParams::default()).await.unwrap();

    // maxUnavailable over Job pods: Jobs have no scale subresource, so the budget fails safe.
    pdbs.create(
        &PostParams::default(),
        &pdb("max", json!({"maxUnavailable": 1})),
    )
    .await
    .unwrap();
    let status = common::eventually(20, "the fail-safe", || async {
        let s = pdbs.get("max").await.ok()?.status?;
        let c = s.conditions.clone()?.into_iter().next()?;
        (c.reason == "SyncFailed").then_some((s, c))
    })
    .await;
    assert_eq!(status.0.disruptions_allowed, 0);
    assert_eq!(status.1.status, "False");
    assert_eq!(
        status.1.message,
        "jobs.batch does not implement the scale subresource"
    );
    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    common::eventually(20, "a CalculateExpectedPodCountFailed event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("CalculateExpectedPodCountFailed"))
            .filter(|e| {
                e.type_.as_deref() == Some("Warning")
                    && e.involved_object.name.as_deref() == Some("max")
                    && e.message.as_deref()
                        == Some("Failed to calculate the number of expected pods: jobs.batch does not implement the scale subresource")
            })
    })
    .await;
    let err = pods.evict("b", &EvictParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 429),
        "{err:?}"
    );
    sim.stop().await;
}

/// A pod deleted before any node ran it ends Failed, as the pod garbage collector leaves it, so
/// a Job under `podReplacementPolicy: Failed` can count it.
#[tokio::test(flavor = "multi_thread")]
async fn unscheduled_terminating_pods_are_marked_failed() {
    let dir = TempDir::new("ctl-podgc");
    let (sim, client) = sim(&dir).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]},
        "spec": {"containers": [{"name": "agent", "image": "agent:1"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    pods.delete("held", &DeleteParams::default()).await.unwrap();
    common::eventually(20, "the pod Failed", || async {
        let p = pods.get("held").await.ok()?;
        (p.status?.phase.as_deref() == Some("Failed")).then_some(())
    })
    .await;
    sim.stop().await;
}
