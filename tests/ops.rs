//! `fleetctl apply`, `pause`, `resume` and `drain` as users run them: the real binary against the
//! in-process sim over HTTPS, with the real kube client checking what they left behind.
//!
//! The sim has no controllers, so these tests play them where needed: they create a Job's pods
//! themselves (labels, a node, Running and Ready), set the PDB status, and act as the kubelet of
//! drained pods: a pod that is terminating (deletionTimestamp set by a graceful delete, which is
//! what an eviction does) is deleted with grace 0 by [`kubelet`]. `drain` itself waits until the
//! pods are gone, as it must on a real cluster, where terminating agents are still checkpointing.

mod common;

use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Secret};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, ResourceExt};
use serde_json::json;

use common::cli::{self, deployment, finish};
use common::{Run, TempDir};
use fleetctl::cluster::apply::{Object, load_bundled, prepare};
use fleetctl::sim::runtime::RunningSim;

const NS: &str = "agents";

/// A sim with the API only, the client the commands build, and its directory (removed when
/// the test ends).
async fn sim() -> (RunningSim, Client, TempDir) {
    let dir = TempDir::new("ops");
    let (sim, client) = common::sim(&dir, |_| {}).await;
    (sim, client, dir)
}

fn command(sim: &RunningSim, args: &[&str]) -> tokio::process::Command {
    cli::command(&sim.kubeconfig, args)
}

async fn fleetctl(sim: &RunningSim, args: &[&str]) -> Run {
    cli::fleetctl(&sim.kubeconfig, args).await
}

fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

fn scaledjobs(client: &Client) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        NS,
        &ar("keda.sh", "v1alpha1", "ScaledJob", "scaledjobs"),
    )
}

async fn create_secret(client: &Client) {
    let s: Secret = serde_json::from_value(json!({
        "metadata": {"name": "agent-secrets"},
        "stringData": {"queue-url": "amqp://u:p@rabbit:5672/%2f", "rabbitmq-host": "amqp://u:p@rabbit:5672/%2f"}
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &s)
        .await
        .unwrap();
}

fn bundled() -> Vec<Object> {
    prepare(load_bundled().unwrap(), NS, None).unwrap()
}

fn annotations(o: &impl ResourceExt) -> Vec<(String, String)> {
    o.annotations()
        .iter()
        .filter(|(k, _)| !k.starts_with("kubectl.kubernetes.io/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// apply

#[tokio::test(flavor = "multi_thread")]
async fn apply_creates_everything_then_reports_unchanged() {
    let (sim, client, _dir) = sim().await;
    create_secret(&client).await;
    let first = fleetctl(&sim, &["apply"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let lines: Vec<&str> = first.stdout.lines().collect();
    let objects = bundled();
    assert_eq!(lines.len(), objects.len(), "{lines:?}");
    assert_eq!(
        lines[0], "namespace/agents configured",
        "the sim starts with it"
    );
    for (line, o) in lines.iter().zip(&objects).skip(1) {
        assert_eq!(*line, format!("{} created", o.display()));
    }
    // Every bundled object is there now.
    for o in &objects {
        let api_version = o.api_version();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, o.kind());
        let (resource, caps) = kube::discovery::pinned_kind(&client, &gvk).await.unwrap();
        let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced {
            Api::namespaced_with(client.clone(), NS, &resource)
        } else {
            Api::all_with(client.clone(), &resource)
        };
        let got = api.get(o.name()).await.unwrap();
        let managers: Vec<String> = got
            .managed_fields()
            .iter()
            .filter_map(|m| m.manager.clone())
            .collect();
        assert!(managers.contains(&"fleetctl".to_string()), "{managers:?}");
    }

    let second = fleetctl(&sim, &["apply"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.stdout.lines().count(), objects.len());
    for line in second.stdout.lines() {
        assert!(line.ends_with(" unchanged"), "{line}");
    }

    // A dry run of the same shows nothing to change; of a new image, what would change.
    let dry = fleetctl(&sim, &["apply", "--dry-run"]).await;
    assert_eq!(dry.code, 0, "{dry:?}");
    for line in dry.stdout.lines() {
        assert!(line.ends_with(" unchanged (dry run)"), "{line}");
    }
    let dry = fleetctl(
        &sim,
        &["apply", "--dry-run", "--image", "reg.example/agent:9"],
    )
    .await;
    assert!(
        dry.stdout
            .contains("scaledjob/ai-agent configured (dry run)"),
        "{dry:?}"
    );
    assert!(
        dry.stdout
            .contains("networkpolicy/agent-netpol unchanged (dry run)"),
        "{dry:?}"
    );

    // A new image changes the ScaledJob (a Job's template is immutable, which is reported).
    let third = fleetctl(&sim, &["apply", "--image", "reg.example/agent:9"]).await;
    assert!(
        third.stdout.contains("scaledjob/ai-agent configured"),
        "{third:?}"
    );
    assert_eq!(third.code, 1, "{third:?}");
    assert!(
        third.stderr.contains(
            "job/ai-agent-batch: the pod template of an existing Job cannot change (field is immutable); delete the Job (kubectl delete job ai-agent-batch -n agents)"
        ),
        "{third:?}"
    );
    let sj = scaledjobs(&client).get("ai-agent").await.unwrap();
    assert_eq!(
        sj.data
            .pointer("/spec/jobTargetRef/template/spec/containers/0/image")
            .unwrap(),
        "reg.example/agent:9"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_dry_run_changes_nothing() {
    let (sim, client, _dir) = sim().await;
    create_secret(&client).await;
    let run = fleetctl(&sim, &["apply", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("job/ai-agent-batch created (dry run)"),
        "{run:?}"
    );
    for line in run.stdout.lines() {
        assert!(line.ends_with(" (dry run)"), "{line}");
    }
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    assert!(jobs.get_opt("ai-agent-batch").await.unwrap().is_none());
    assert!(
        scaledjobs(&client)
            .get_opt("ai-agent")
            .await
            .unwrap()
            .is_none()
    );
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), NS);
    assert!(
        pdbs.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let labels = ns
        .get(NS)
        .await
        .unwrap()
        .metadata
        .labels
        .unwrap_or_default();
    assert!(
        !labels.contains_key("app.kubernetes.io/part-of"),
        "{labels:?}"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_without_keda_names_the_problem() {
    let dir = TempDir::new("ops");
    let (sim, client) = common::sim(&dir, |o| o.without_keda = true).await;
    create_secret(&client).await;
    let run = fleetctl(&sim, &["apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("KEDA is not installed"), "{run:?}");
    assert!(run.stderr.contains("helm install keda"), "{run:?}");
    assert_eq!(run.stderr.trim().lines().count(), 1, "one line: {run:?}");
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    assert!(jobs.get_opt("ai-agent-batch").await.unwrap().is_none());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_without_the_secret_names_it() {
    let (sim, client, _dir) = sim().await;
    let run = fleetctl(&sim, &["apply"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Secret agent-secrets is missing in namespace agents"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("kubectl create secret generic agent-secrets -n agents"),
        "{run:?}"
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    assert!(jobs.get_opt("ai-agent-batch").await.unwrap().is_none());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_the_example_secret() {
    let (sim, client, _dir) = sim().await;
    let dir = TempDir::new("from");
    let example = fleetctl::manifests::get(fleetctl::manifests::EXAMPLE_SECRET).unwrap();
    std::fs::write(dir.path().join(example.file), example.yaml).unwrap();
    let run = fleetctl(&sim, &["apply", "--from", dir.s()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("refusing to apply the example secret"),
        "{run:?}"
    );
    let file = dir.path().join(example.file);
    let run = fleetctl(&sim, &["apply", "--from", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NS);
    assert!(secrets.get_opt("agent-secrets").await.unwrap().is_none());
    sim.stop().await;
}

// ---------------------------------------------------------------------------------------------
// pause / resume

#[tokio::test(flavor = "multi_thread")]
async fn pause_and_resume_a_scaledjob() {
    let (sim, client, _dir) = sim().await;
    common::put(&client, NS, &common::bundled_doc(NS, "ScaledJob")).await;
    let sjs = scaledjobs(&client);

    let run = fleetctl(&sim, &["pause", "ai-agent"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("paused"), "{run:?}");
    let paused = sjs.get("ai-agent").await.unwrap();
    assert_eq!(
        annotations(&paused),
        pairs(&[
            ("autoscaling.keda.sh/paused", "true"),
            ("fleetctl.io/paused-by", "fleetctl"),
        ])
    );
    let again = fleetctl(&sim, &["pause", "ai-agent"]).await;
    assert_eq!(again.code, 0);
    assert!(again.stdout.contains("already paused"), "{again:?}");
    assert_eq!(
        sjs.get("ai-agent").await.unwrap().resource_version(),
        paused.resource_version(),
        "a second pause changes nothing"
    );

    let run = fleetctl(&sim, &["resume", "ai-agent"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(annotations(&sjs.get("ai-agent").await.unwrap()).is_empty());
    let again = fleetctl(&sim, &["resume", "ai-agent"]).await;
    assert_eq!(again.code, 0);
    assert!(again.stdout.contains("not paused"), "{again:?}");

    // An explicit "false" before the pause is back after the resume.
    sjs.patch(
        "ai-agent",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused": "false"}}}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(fleetctl(&sim, &["pause", "ai-agent"]).await.code, 0);
    assert_eq!(
        annotations(&sjs.get("ai-agent").await.unwrap()),
        pairs(&[
            ("autoscaling.keda.sh/paused", "true"),
            ("fleetctl.io/paused-by", "fleetctl"),
            ("fleetctl.io/prior-paused", "false"),
        ])
    );
    assert_eq!(fleetctl(&sim, &["resume", "ai-agent"]).await.code, 0);
    assert_eq!(
        annotations(&sjs.get("ai-agent").await.unwrap()),
        pairs(&[("autoscaling.keda.sh/paused", "false")])
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_and_resume_a_job() {
    let (sim, client, _dir) = sim().await;
    common::put(&client, NS, &common::bundled_doc(NS, "Job")).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let before = annotations(&jobs.get("ai-agent-batch").await.unwrap());

    let run = fleetctl(&sim, &["pause", "ai-agent-batch"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("SIGTERM"), "it warns: {run:?}");
    let paused = jobs.get("ai-agent-batch").await.unwrap();
    assert_eq!(paused.spec.as_ref().unwrap().suspend, Some(true));
    let mut want = before.clone();
    want.extend(pairs(&[
        ("fleetctl.io/paused-by", "fleetctl"),
        ("fleetctl.io/prior-suspend", "false"),
    ]));
    want.sort();
    assert_eq!(annotations(&paused), want);
    let again = fleetctl(&sim, &["pause", "job/ai-agent-batch"]).await;
    assert!(again.stdout.contains("already paused"), "{again:?}");
    assert_eq!(
        jobs.get("ai-agent-batch").await.unwrap().resource_version(),
        paused.resource_version()
    );

    assert_eq!(fleetctl(&sim, &["resume", "ai-agent-batch"]).await.code, 0);
    let resumed = jobs.get("ai-agent-batch").await.unwrap();
    assert_eq!(resumed.spec.as_ref().unwrap().suspend, Some(false));
    assert_eq!(annotations(&resumed), before);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_suspended_before_the_pause_stays_suspended_after_the_resume() {
    let (sim, client, _dir) = sim().await;
    let mut doc = common::bundled_doc(NS, "Job");
    doc["spec"]["suspend"] = json!(true);
    common::put(&client, NS, &doc).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let before = annotations(&jobs.get("ai-agent-batch").await.unwrap());

    let run = fleetctl(&sim, &["pause", "ai-agent-batch"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("already paused"), "{run:?}");
    let run = fleetctl(&sim, &["resume", "ai-agent-batch"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("left suspended"), "{run:?}");
    let after = jobs.get("ai-agent-batch").await.unwrap();
    assert_eq!(after.spec.as_ref().unwrap().suspend, Some(true));
    assert_eq!(annotations(&after), before);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_and_resume_a_deployment_restores_its_replicas() {
    let (sim, client, _dir) = sim().await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), NS);
    deps.create(&PostParams::default(), &deployment(7))
        .await
        .unwrap();
    let replicas = |d: &Deployment| d.spec.as_ref().unwrap().replicas;

    let run = fleetctl(&sim, &["pause", "agent-pool"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("from 7 to 0"), "{run:?}");
    let paused = deps.get("agent-pool").await.unwrap();
    assert_eq!(replicas(&paused), Some(0));
    assert_eq!(
        annotations(&paused),
        pairs(&[
            ("fleetctl.io/paused-by", "fleetctl"),
            ("fleetctl.io/paused-replicas", "7"),
        ])
    );
    let again = fleetctl(&sim, &["pause", "agent-pool"]).await;
    assert!(again.stdout.contains("already paused"), "{again:?}");
    assert_eq!(
        deps.get("agent-pool").await.unwrap().resource_version(),
        paused.resource_version()
    );

    let run = fleetctl(&sim, &["resume", "agent-pool"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let resumed = deps.get("agent-pool").await.unwrap();
    assert_eq!(replicas(&resumed), Some(7));
    assert!(annotations(&resumed).is_empty());
    let again = fleetctl(&sim, &["resume", "agent-pool"]).await;
    assert!(again.stdout.contains("not paused"), "{again:?}");
    assert_eq!(replicas(&deps.get("agent-pool").await.unwrap()), Some(7));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_fleet_lists_the_known_ones() {
    let (sim, client, _dir) = sim().await;
    common::put(&client, NS, &common::bundled_doc(NS, "ScaledJob")).await;
    common::put(&client, NS, &common::bundled_doc(NS, "Job")).await;
    for cmd in ["pause", "resume", "drain"] {
        let run = fleetctl(&sim, &[cmd, "nope"]).await;
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(
            run.stderr.trim(),
            "fleetctl: error: unknown fleet 'nope'; fleets in agents: ai-agent (ScaledJob), ai-agent-batch (Job)"
        );
    }
    sim.stop().await;
}

// ---------------------------------------------------------------------------------------------
// drain

#[tokio::test(flavor = "multi_thread")]
async fn drain_of_a_deployment_without_pods_finishes() {
    let (sim, client, _dir) = sim().await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), NS);
    deps.create(&PostParams::default(), &deployment(3))
        .await
        .unwrap();
    let run = fleetctl(&sim, &["drain", "agent-pool", "--timeout", "20s"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("deployment/agent-pool drained"),
        "{run:?}"
    );
    let d = deps.get("agent-pool").await.unwrap();
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(0));
    assert_eq!(
        annotations(&d),
        pairs(&[
            ("fleetctl.io/paused-by", "fleetctl"),
            ("fleetctl.io/paused-replicas", "3"),
        ]),
        "paused, and no longer draining"
    );
    sim.stop().await;
}

/// The Job fleet `ai-agent-batch` with two running, ready pods on a node, and `agent-pdb`
/// covering them with the given disruptions allowed.
async fn job_with_two_pods_under_a_pdb(client: &Client, allowed: i32) {
    common::put(client, NS, &common::bundled_doc(NS, "Job")).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    for name in ["agent-x", "agent-y"] {
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {
                "app": "ai-agent", "batch.kubernetes.io/job-name": "ai-agent-batch"}},
            "spec": {"nodeName": "sim-node-1",
                     "containers": [{"name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0"}]}
        }))
        .unwrap();
        pods.create(&PostParams::default(), &p).await.unwrap();
        pods.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}]}})),
        )
        .await
        .unwrap();
    }
    common::put(client, NS, &common::bundled_doc(NS, "PodDisruptionBudget")).await;
    set_pdb(client, allowed).await;
}

async fn set_pdb(client: &Client, allowed: i32) {
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), NS);
    pdbs.patch_status(
        "agent-pdb",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"status": {"observedGeneration": 1, "currentHealthy": 2,
            "desiredHealthy": 1, "disruptionsAllowed": allowed, "expectedPods": 2}}),
        ),
    )
    .await
    .unwrap();
}

/// Plays the kubelet: a pod that is terminating is gone at once (its agent has checkpointed).
fn kubelet(client: &Client) -> tokio::task::JoinHandle<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    tokio::spawn(async move {
        loop {
            if let Ok(list) = pods.list(&ListParams::default()).await {
                for p in list.items {
                    if p.metadata.deletion_timestamp.is_some() {
                        let _ = pods
                            .delete(&p.name_any(), &DeleteParams::default().grace_period(0))
                            .await;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn drain_evict_retries_while_the_pdb_refuses_then_finishes() {
    let (sim, client, _dir) = sim().await;
    job_with_two_pods_under_a_pdb(&client, 0).await;
    let kubelet = kubelet(&client);
    let args = ["drain", "ai-agent-batch", "--evict", "--timeout", "60s"];
    let child = command(&sim, &args).spawn().unwrap();

    // While the budget allows nothing, the pods stay.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    assert_eq!(
        pods.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let job = jobs.get("ai-agent-batch").await.unwrap();
    assert_eq!(job.spec.as_ref().unwrap().suspend, Some(true));
    assert!(job.annotations().contains_key("fleetctl.io/draining"));

    set_pdb(&client, 2).await;
    let run = finish(child, &args).await;
    kubelet.abort();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("eviction of pod agent-x refused: Cannot evict pod as it would violate the pod's disruption budget."),
        "{run:?}"
    );
    assert!(run.stdout.contains("refused again (2 attempts)"), "{run:?}");
    assert!(
        run.stdout.contains("2 pods left (agent-x, agent-y)"),
        "{run:?}"
    );
    assert!(run.stdout.contains("evicted pod agent-y"), "{run:?}");
    assert!(
        run.stdout
            .trim_end()
            .ends_with("job/ai-agent-batch drained"),
        "{run:?}"
    );
    assert!(
        pods.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let job = jobs.get("ai-agent-batch").await.unwrap();
    assert!(!job.annotations().contains_key("fleetctl.io/draining"));
    assert_eq!(job.spec.as_ref().unwrap().suspend, Some(true));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn drain_times_out_with_the_reason_while_the_pdb_refuses() {
    let (sim, client, _dir) = sim().await;
    job_with_two_pods_under_a_pdb(&client, 0).await;
    let run = fleetctl(
        &sim,
        &["drain", "ai-agent-batch", "--evict", "--timeout", "2s"],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "drain of ai-agent-batch timed out after 2s: 2 pods left (agent-x, agent-y); the PDB agent-pdb allows 0 disruptions"
        ),
        "{run:?}"
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let job = jobs.get("ai-agent-batch").await.unwrap();
    assert!(!job.annotations().contains_key("fleetctl.io/draining"));
    assert_eq!(job.spec.as_ref().unwrap().suspend, Some(true));
    sim.stop().await;
}

/// A Job of the ScaledJob `ai-agent`, as KEDA would create it.
async fn scaledjob_job(client: &Client, name: &str, uid: &str) {
    let mut doc = common::bundled_doc(NS, "Job");
    doc["metadata"]["name"] = json!(name);
    doc["metadata"]["ownerReferences"] = json!([{"apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledJob", "name": "ai-agent", "uid": uid, "controller": true}]);
    common::put(client, NS, &doc).await;
}

async fn complete(client: &Client, job: &str) {
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    jobs.patch_status(
        job,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"succeeded": 1, "conditions": [
            {"type": "Complete", "status": "True"}]}})),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn drain_of_a_scaledjob_waits_for_its_active_jobs() {
    let (sim, client, _dir) = sim().await;
    common::put(&client, NS, &common::bundled_doc(NS, "ScaledJob")).await;
    let uid = scaledjobs(&client)
        .get("ai-agent")
        .await
        .unwrap()
        .uid()
        .unwrap();
    scaledjob_job(&client, "ai-agent-done", &uid).await;
    complete(&client, "ai-agent-done").await;
    scaledjob_job(&client, "ai-agent-busy", &uid).await;

    // Jobs of a ScaledJob are not fleets of their own.
    let run = fleetctl(&sim, &["pause", "ai-agent-busy"]).await;
    assert!(
        run.stderr
            .contains("fleets in agents: ai-agent (ScaledJob)\n"),
        "{run:?}"
    );

    let run = fleetctl(&sim, &["drain", "ai-agent", "--timeout", "1s"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "drain of ai-agent timed out after 1s: 0 pods left, 1 Job active (ai-agent-busy)"
        ),
        "{run:?}"
    );
    let sj = scaledjobs(&client).get("ai-agent").await.unwrap();
    assert_eq!(
        annotations(&sj),
        pairs(&[
            ("autoscaling.keda.sh/paused", "true"),
            ("fleetctl.io/paused-by", "fleetctl"),
        ])
    );

    complete(&client, "ai-agent-busy").await;
    let run = fleetctl(&sim, &["drain", "ai-agent", "--timeout", "20s"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("already paused"), "{run:?}");
    assert!(run.stdout.contains("scaledjob/ai-agent drained"), "{run:?}");
    let sj = scaledjobs(&client).get("ai-agent").await.unwrap();
    assert!(!sj.annotations().contains_key("fleetctl.io/draining"));
    assert_eq!(fleetctl(&sim, &["resume", "ai-agent"]).await.code, 0);
    assert!(annotations(&scaledjobs(&client).get("ai-agent").await.unwrap()).is_empty());
    sim.stop().await;
}

/// The bundled Role (manifests/rbac.yaml) is enough for every action: run them with a token of
/// the `fleetctl` ServiceAccount on a sim that enforces RBAC.
#[tokio::test(flavor = "multi_thread")]
async fn the_bundled_role_is_enough_for_pause_resume_and_drain() {
    let dir = TempDir::new("ops");
    let (sim, client) = common::sim(&dir, |o| o.enforce_rbac = true).await;
    create_secret(&client).await;
    assert_eq!(fleetctl(&sim, &["apply"]).await.code, 0);
    let token = "fleetctl-sa-token-for-tests";
    let sa_dir = TempDir::new("sa");
    let path = sa_dir.path().join("kubeconfig");
    common::service_account_kubeconfig(&client, &sim, NS, "fleetctl", token, &path).await;
    let as_sa = |args: &'static [&'static str]| {
        let path = path.clone();
        async move {
            let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fleetctl"))
                .arg("--kubeconfig")
                .arg(&path)
                .args(args)
                .env_remove("KUBECONFIG")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            finish(child, args).await
        }
    };
    // The token is not the admin's: it may not read Secrets.
    let run = as_sa(&["apply", "--dry-run"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    for args in [
        &["pause", "ai-agent"][..],
        &["pause", "ai-agent-batch"],
        &["resume", "ai-agent"],
        &["resume", "ai-agent-batch"],
        &["drain", "ai-agent-batch", "--evict", "--timeout", "10s"],
    ] {
        let run = as_sa(args).await;
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
    }
    sim.stop().await;
}
