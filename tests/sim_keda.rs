//! The sim's KEDA ScaledJob scaler against real RabbitMQ: the bundled ScaledJob and
//! TriggerAuthentication, a Secret naming the local broker, a queue of its own per test seeded
//! with the library's seeding, and the in-process sim's controllers over HTTPS. The scaler reads
//! the queue depth over AMQP and creates Jobs as SPEC-k8s.md §1.2 says.

mod common;

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod, Secret};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use fleetctl::cluster::apply::{load_bundled, prepare};
use fleetctl::queue::amqp::{Broker, SeedPlan, seed};
use fleetctl::queue::task::Template;
use fleetctl::queue::topology::Topology;
use fleetctl::sim::controllers::ControllerOptions;
use fleetctl::sim::runtime::{RunningSim, SimOptions, start};

const NS: &str = "agents";
const SJ: &str = "ai-agent";

async fn sim() -> (RunningSim, Client, common::TempDir) {
    common::install_crypto();
    let dir = common::TempDir::new("sim-keda");
    let mut opts = SimOptions::new(dir.path().join("kubeconfig"));
    // No nodes: the Jobs' pods stay unscheduled, and this file plays their kubelet.
    opts.controllers = Some(ControllerOptions {
        nodes: 0,
        ..ControllerOptions::new(dir.path().join("state"))
    });
    let sim = start(opts).await.expect("the sim starts");
    let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
        .await
        .unwrap();
    (sim, client, dir)
}

fn bundled(kind: &str) -> Value {
    prepare(load_bundled().unwrap(), NS, None)
        .unwrap()
        .into_iter()
        .find(|o| o.doc["kind"] == kind)
        .unwrap()
        .doc
}

fn scaledjobs(client: &Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "ScaledJob"),
        "scaledjobs",
    );
    Api::namespaced_with(client.clone(), NS, &ar)
}

/// The Secret with the broker URL, the bundled TriggerAuthentication, and the bundled ScaledJob
/// pointed at `queue`, polling every `interval` seconds, with `edit` applied.
async fn install(client: &Client, broker_url: &str, queue: &str, interval: u64, edit: Value) {
    // `stringData`, as people write it: the API folds it into `data`, which KEDA reads.
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "agent-secrets", "namespace": NS},
        "stringData": {"rabbitmq-host": broker_url, "queue-url": broker_url}
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let ta = bundled("TriggerAuthentication");
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "TriggerAuthentication"),
        "triggerauthentications",
    );
    Api::<DynamicObject>::namespaced_with(client.clone(), NS, &ar)
        .create(&PostParams::default(), &serde_json::from_value(ta).unwrap())
        .await
        .unwrap();
    let mut sj = bundled("ScaledJob");
    sj["spec"]["pollingInterval"] = json!(interval);
    sj["spec"]["triggers"][0]["metadata"]["queueName"] = json!(queue);
    merge(&mut sj, &edit);
    scaledjobs(client)
        .create(&PostParams::default(), &serde_json::from_value(sj).unwrap())
        .await
        .unwrap();
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// Publishes `n` tasks to `queue` (declaring it) with the library's seeding.
async fn publish(queue: &str, n: u64) {
    let broker = Broker::connect(&common::amqp_url(), "sim-keda-test")
        .await
        .unwrap();
    let plan = SeedPlan {
        topology: Topology::new(queue).unwrap(),
        templates: vec![Template::new("echo", 1, 10)],
        count: n,
        window: 64,
    };
    let report = seed(&broker, &plan, |_| {}, futures::future::pending())
        .await
        .unwrap();
    assert!(report.ok(), "{report:?}");
    broker.close().await;
}

fn cleanup(queue: &str) {
    common::delete_queue(queue);
    common::delete_queue(&Topology::new(queue).unwrap().dlq);
}

async fn jobs(client: &Client) -> Vec<Job> {
    Api::<Job>::namespaced(client.clone(), NS)
        .list(&ListParams::default().labels(&format!("scaledjob.keda.sh/name={SJ}")))
        .await
        .unwrap()
        .items
}

async fn sj_events(client: &Client) -> Vec<Event> {
    Api::<Event>::namespaced(client.clone(), NS)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.involved_object.kind.as_deref() == Some("ScaledJob"))
        .collect()
}

fn sj_condition(sj: &DynamicObject, kind: &str) -> Option<(String, String)> {
    sj.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
}

async fn condition(client: &Client, kind: &str) -> Option<(String, String)> {
    sj_condition(&scaledjobs(client).get(SJ).await.ok()?, kind)
}

/// Waits `secs` and checks that the number of Jobs stays `n` all along.
async fn stays(client: &Client, n: usize, secs: u64) {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < end {
        assert_eq!(jobs(client).await.len(), n);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_follow_queue_depth() {
    if !common::require_broker("jobs_follow_queue_depth") {
        return;
    }
    let queue = common::unique_queue("keda-depth");
    publish(&queue, 10).await;
    let (sim, client, _dir) = sim().await;
    install(&client, &common::amqp_url(), &queue, 1, json!({})).await;

    // Q = 10, value 5: exactly 2 Jobs, and no more while they run (R = 2).
    common::eventually(20, "2 Jobs", || {
        let client = client.clone();
        async move { (jobs(&client).await.len() >= 2).then_some(()) }
    })
    .await;
    stays(&client, 2, 4).await;

    // The generated Jobs' shape (SPEC §1.1).
    let sj = scaledjobs(&client).get(SJ).await.unwrap();
    for j in jobs(&client).await {
        let name = j.name_any();
        assert!(
            name.starts_with("ai-agent-") && name.len() == "ai-agent-".len() + 5,
            "{name}"
        );
        let l = j.labels();
        assert_eq!(l["app.kubernetes.io/name"], SJ);
        assert_eq!(l["app.kubernetes.io/managed-by"], "keda-operator");
        assert_eq!(l["app.kubernetes.io/version"], "2.16.1");
        assert_eq!(
            l["app.kubernetes.io/part-of"], "fleetctl",
            "the ScaledJob's labels win"
        );
        assert_eq!(l["scaledjob.keda.sh/name"], SJ);
        assert_eq!(l["app"], "ai-agent");
        assert_eq!(
            j.annotations()["scaledjob.keda.sh/generation"],
            sj.metadata.generation.unwrap().to_string()
        );
        let owner = &j.owner_references()[0];
        assert_eq!(owner.kind, "ScaledJob");
        assert_eq!(Some(&owner.uid), sj.metadata.uid.as_ref());
        assert_eq!(owner.controller, Some(true));
        let spec = j.spec.as_ref().unwrap();
        assert_eq!(spec.backoff_limit, Some(3));
        let tmpl = &spec.template;
        assert_eq!(
            tmpl.metadata.as_ref().unwrap().labels.as_ref().unwrap()["scaledjob.keda.sh/name"],
            SJ
        );
        assert_eq!(
            tmpl.spec.as_ref().unwrap().restart_policy.as_deref(),
            Some("Never"),
            "the bundled template says Never"
        );
    }
    // The Job controller made their pods (unscheduled: no nodes run here).
    common::eventually(20, "a pod per Job", || {
        let client = client.clone();
        async move {
            let pods = Api::<Pod>::namespaced(client.clone(), NS)
                .list(&ListParams::default().labels("scaledjob.keda.sh/name=ai-agent"))
                .await
                .ok()?;
            (pods.items.len() == 2).then_some(())
        }
    })
    .await;
    assert_eq!(
        condition(&client, "Active").await.unwrap(),
        ("True".into(), "ScalerActive".into())
    );
    assert_eq!(
        condition(&client, "Ready").await.unwrap(),
        ("True".into(), "ScaledJobReady".into())
    );

    // Q = 50: 10 Jobs in all, the 2 running ones included.
    publish(&queue, 40).await;
    common::eventually(20, "10 Jobs", || {
        let client = client.clone();
        async move { (jobs(&client).await.len() >= 10).then_some(()) }
    })
    .await;
    stays(&client, 10, 4).await;
    let evs = sj_events(&client).await;
    let created: Vec<(&str, &str)> = evs
        .iter()
        .filter(|e| e.reason.as_deref() == Some("KEDAJobsCreated"))
        .map(|e| {
            (
                e.type_.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        created.contains(&("Normal", "Created 2 jobs")),
        "{created:?}"
    );
    assert!(
        created.contains(&("Normal", "Created 8 jobs")),
        "{created:?}"
    );
    let sj = scaledjobs(&client).get(SJ).await.unwrap();
    assert!(sj.data["status"]["lastActiveTime"].is_string());
    sim.stop().await;
    cleanup(&queue);
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_stops_new_jobs_and_unpause_scales_at_once() {
    if !common::require_broker("pause_stops_new_jobs_and_unpause_scales_at_once") {
        return;
    }
    let queue = common::unique_queue("keda-pause");
    publish(&queue, 10).await;
    let (sim, client, _dir) = sim().await;
    // A long interval: only the first cycle and the unpause cycle can create Jobs in this test.
    install(
        &client,
        &common::amqp_url(),
        &queue,
        30,
        json!({"spec": {"successfulJobsHistoryLimit": 0}}),
    )
    .await;
    common::eventually(20, "2 Jobs", || {
        let client = client.clone();
        async move { (jobs(&client).await.len() == 2).then_some(()) }
    })
    .await;
    let api = scaledjobs(&client);
    api.patch(
        SJ,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused": "true"}}})),
    )
    .await
    .unwrap();
    common::eventually(10, "Paused=True", || {
        let client = client.clone();
        async move {
            (condition(&client, "Paused").await? == ("True".into(), "ScaledJobPaused".into()))
                .then_some(())
        }
    })
    .await;
    publish(&queue, 40).await;

    // Running Jobs run to completion while paused: finish one Job's pod as its kubelet would.
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let pod = common::eventually(20, "a Job pod", || {
        let pods = pods.clone();
        async move {
            pods.list(&ListParams::default().labels("scaledjob.keda.sh/name=ai-agent"))
                .await
                .ok()?
                .items
                .into_iter()
                .next()
        }
    })
    .await;
    let done_job = pod.labels()["job-name"].clone();
    pods.patch_status(
        &pod.name_any(),
        &PatchParams::default(),
        &Patch::Merge(
            json!({"status": {"phase": "Succeeded", "containerStatuses": [{
            "name": "agent", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
            "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                "finishedAt": jiff::Timestamp::now().to_string()}}}]}}),
        ),
    )
    .await
    .unwrap();
    common::eventually(30, "the Job to complete while paused", || {
        let client = client.clone();
        let done_job = done_job.clone();
        async move {
            let j = Api::<Job>::namespaced(client, NS)
                .get(&done_job)
                .await
                .ok()?;
            j.status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Complete" && c.status == "True")
                .then_some(())
        }
    })
    .await;
    // No new Jobs, and no history clean-up (limit 0) while paused.
    stays(&client, 2, 3).await;

    // Unpause: an immediate cycle (well before the 30 s interval) creates 10 − 1 running = 9,
    // and the history clean-up removes the completed Job.
    api.patch(
        SJ,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused": null}}})),
    )
    .await
    .unwrap();
    common::eventually(10, "scaling to resume at once", || {
        let client = client.clone();
        let done_job = done_job.clone();
        async move {
            let js = jobs(&client).await;
            (js.len() == 10 && js.iter().all(|j| j.name_any() != done_job)).then_some(())
        }
    })
    .await;
    assert_eq!(
        condition(&client, "Paused").await.unwrap(),
        ("False".into(), "ScaledJobUnpaused".into())
    );
    sim.stop().await;
    cleanup(&queue);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_queue_is_a_scaler_error_without_the_password() {
    if !common::require_broker("a_missing_queue_is_a_scaler_error_without_the_password") {
        return;
    }
    common::ensure_test_user();
    let queue = common::unique_queue("keda-missing");
    let (sim, client, _dir) = sim().await;
    install(&client, &common::test_user_url("%2f"), &queue, 1, json!({})).await;
    let ev = common::eventually(20, "KEDAScalerFailed", || {
        let client = client.clone();
        async move {
            sj_events(&client)
                .await
                .into_iter()
                .find(|e| e.reason.as_deref() == Some("KEDAScalerFailed"))
        }
    })
    .await;
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    let message = ev.message.unwrap_or_default();
    assert!(message.contains(&queue), "{message}");
    assert!(!message.contains(common::TEST_PASSWORD), "{message}");
    assert_eq!(
        condition(&client, "Ready").await.unwrap(),
        ("Unknown".into(), "PartialTriggerError".into())
    );
    assert_eq!(
        condition(&client, "Active").await.unwrap(),
        ("False".into(), "ScalerNotActive".into())
    );
    assert!(jobs(&client).await.is_empty());
    sim.stop().await;
}
