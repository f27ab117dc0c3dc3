//! The fleet model fed by live watches, and `fleetctl status`, against the in-process sim over
//! HTTPS with the real kube client.
//!
//! - The watchers' model equals the model of a fresh list, also after every watch ended with a
//!   410 and after dropped connections.
//! - `status -o json` counts OOMKilled, evicted and unschedulable pods and names the findings.
//! - A token whose Role lacks events degrades the events, not the status.
//! - `status --watch -o json` prints again when the cluster changes.

mod common;

use std::process::Stdio;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use common::TempDir;
use fleetctl::cluster::watch::{self, WatchSpec};
use fleetctl::fleet::delta::FleetDelta;
use fleetctl::fleet::model::Model;
use fleetctl::fleet::objects::{Labels, ObjectKind};
use fleetctl::fleet::selector::Selector;
use fleetctl::sim::api::store::WatchControl;

const NS: &str = "agents";

/// A pod of the Job fleet `ai-agent-batch` with the given status.
async fn pod(client: &Client, name: &str, status: Value) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let p: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {
            "app": "ai-agent", "batch.kubernetes.io/job-name": "ai-agent-batch"}},
        "spec": {"nodeName": "sim-node-1", "containers": [{"name": "agent", "image": "agent:1",
            "resources": {"limits": {"memory": "512Mi"}}}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &p).await.unwrap();
    pods.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .unwrap();
}

fn running() -> Value {
    json!({"phase": "Running", "podIP": "127.1.0.9",
           "conditions": [{"type": "Ready", "status": "True"}],
           "containerStatuses": [{"name": "agent", "ready": true, "restartCount": 0,
                                  "image": "agent:1", "imageID": "", "state": {"running": {}}}]})
}

fn oom_killed(at: Timestamp) -> Value {
    json!({"phase": "Running",
           "conditions": [{"type": "Ready", "status": "True"}],
           "containerStatuses": [{"name": "agent", "ready": true, "restartCount": 2,
               "image": "agent:1", "imageID": "", "state": {"running": {}},
               "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                   "finishedAt": at.to_string()}}}]})
}

fn evicted(at: Timestamp) -> Value {
    json!({"phase": "Failed", "reason": "Evicted",
           "message": "The node was low on resource: memory.",
           "conditions": [{"type": "DisruptionTarget", "status": "True",
               "reason": "TerminationByKubelet", "lastTransitionTime": at.to_string(),
               "message": "The node was low on resource: memory."}]})
}

fn unschedulable() -> Value {
    json!({"phase": "Pending",
           "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
               "message": "0/3 nodes are available: 3 Insufficient memory."}]})
}

async fn fleetctl(kubeconfig: &std::path::Path, args: &[&str]) -> common::Run {
    let mut cmd = common::fleetctl();
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG");
    let args = args.join(" ");
    let run = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::task::spawn_blocking(move || common::run(&mut cmd)),
    )
    .await
    .unwrap_or_else(|_| panic!("fleetctl {args} did not finish"))
    .unwrap();
    eprintln!(
        "fleetctl {args} -> {}\n{}{}",
        run.code, run.stdout, run.stderr
    );
    run
}

fn fleet<'a>(status: &'a Value, kind: &str, name: &str) -> &'a Value {
    status["fleets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind && f["name"] == name)
        .unwrap_or_else(|| panic!("no fleet {kind}/{name} in {status}"))
}

fn codes(fleet: &Value) -> Vec<String> {
    fleet["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn status_json_counts_oomkilled_evicted_and_pending_pods() {
    let dir = TempDir::new("status");
    let (sim, client) = common::sim(&dir, |_| {}).await;
    common::put(&client, NS, &common::bundled_doc(NS, "Job")).await;
    common::put(&client, NS, &common::bundled_doc(NS, "PodDisruptionBudget")).await;
    let now = Timestamp::now();
    pod(&client, "batch-a", running()).await;
    pod(
        &client,
        "batch-b",
        oom_killed(now - jiff::SignedDuration::from_mins(2)),
    )
    .await;
    pod(
        &client,
        "batch-c",
        evicted(now - jiff::SignedDuration::from_mins(1)),
    )
    .await;
    pod(&client, "batch-d", unschedulable()).await;

    let run = fleetctl(&sim.kubeconfig, &["status", "-o", "json", "--no-queue"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let status: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    assert_eq!(status["namespace"], NS);
    assert_eq!(status["selector"], "app=ai-agent");
    assert_eq!(status["degraded"], json!([]));
    let f = fleet(&status, "Job", "ai-agent-batch");
    assert_eq!(f["state"], "running");
    assert_eq!(f["queue"], "agent-tasks");
    assert_eq!(f["queue_ready"], Value::Null, "--no-queue reads no depth");
    let pods = &f["pods"];
    assert_eq!(
        (
            &pods["total"],
            &pods["running"],
            &pods["pending"],
            &pods["failed"],
            &pods["ready"],
            &pods["unschedulable"],
            &pods["restarts"]
        ),
        (
            &json!(4),
            &json!(2),
            &json!(1),
            &json!(1),
            &json!(2),
            &json!(1),
            &json!(2)
        ),
        "{f}"
    );
    let d = &f["disruptions_last_hour"];
    assert_eq!(
        (&d["oom_killed"], &d["evicted"]),
        (&json!(1), &json!(1)),
        "{f}"
    );
    let listed: Vec<(&str, &str)> = f["disruptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["pod"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [("Evicted", "batch-c"), ("OomKilled", "batch-b")],
        "newest first"
    );
    let codes = codes(f);
    for c in ["oom-kills", "unschedulable"] {
        assert!(codes.contains(&c.to_string()), "{c} missing from {codes:?}");
    }
    assert_eq!(f["pdb"]["name"], "agent-pdb");

    // The table says the same in one line per fleet.
    let run = fleetctl(&sim.kubeconfig, &["status", "--no-queue"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("job/ai-agent-batch "))
        .expect("a line for the Job fleet");
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cells[1], "running", "{line}");
    assert_eq!(
        cells[6], "2/1/0",
        "pods running/pending/terminating: {line}"
    );
    assert!(
        run.stdout
            .contains("job/ai-agent-batch warning unschedulable:"),
        "{}",
        run.stdout
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_errors_are_one_line() {
    let dir = TempDir::new("status-err");
    let (sim, _client) = common::sim(&dir, |_| {}).await;
    let run = fleetctl(&sim.kubeconfig, &["status", "-l", "app in x"]).await;
    assert_eq!(run.code, 2, "{}", run.all());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("-l app=ai-agent"), "{}", run.stderr);
    let kubeconfig = sim.kubeconfig.clone();
    sim.stop().await;

    // The cluster is gone: the error names the kubeconfig.
    let sim = kubeconfig;
    let run = fleetctl(&sim, &["status"]).await;
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&sim.display().to_string()),
        "{}",
        run.stderr
    );
}

/// The watchers' model, fed until it equals the model of a fresh list (or the time is up).
async fn converge(
    client: &Client,
    spec: &WatchSpec,
    model: &mut Model,
    rx: &mut mpsc::Receiver<FleetDelta>,
    resyncs: &mut usize,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        while let Ok(Some(d)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
            if matches!(d, FleetDelta::Resync { .. }) {
                *resyncs += 1;
            }
            model.apply(d, Timestamp::now());
        }
        let (state, refused) = watch::list_state(client, spec).await.unwrap();
        assert!(refused.is_empty(), "{refused:?}");
        let fresh = Model::from_state(&state, Timestamp::now());
        if *model == fresh {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            assert_eq!(model.pods(), fresh.pods());
            assert_eq!(model.jobs(), fresh.jobs());
            assert_eq!(model.events(), fresh.events());
            panic!("the watched model never equalled a fresh list");
        }
    }
}

/// Creates, changes and deletes objects of every watched kind.
async fn churn(client: &Client, round: usize) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    for i in 0..6 {
        let name = format!("w{round}-{i}");
        let status = match i % 3 {
            0 => running(),
            1 => oom_killed(Timestamp::now()),
            _ => unschedulable(),
        };
        pod(client, &name, status).await;
    }
    pods.delete(
        &format!("w{round}-0"),
        &DeleteParams::default().grace_period(0),
    )
    .await
    .unwrap();
    let mut job = common::bundled_doc(NS, "Job");
    job["metadata"]["name"] = json!(format!("job-{round}"));
    common::put(client, NS, &job).await;
    let mut sj = common::bundled_doc(NS, "ScaledJob");
    sj["metadata"]["annotations"] =
        json!({"autoscaling.keda.sh/paused": round.is_multiple_of(2).to_string()});
    common::put(client, NS, &sj).await;
    let events: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        NS,
        &watch::object_resource(ObjectKind::Event),
    );
    let ev: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("ev-{round}"), "namespace": NS},
        "involvedObject": {"kind": "Pod", "name": format!("w{round}-1"), "namespace": NS},
        "reason": "OOMKilling", "message": "Memory cgroup out of memory", "type": "Warning",
        "count": 1, "source": {"component": "kubelet"}
    }))
    .unwrap();
    events.create(&PostParams::default(), &ev).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn watched_model_equals_a_fresh_list_after_410s_and_dropped_connections() {
    let dir = TempDir::new("watch");
    // A short change history: a watch that resumes late after a drop finds its version expired
    // and must list again.
    let (sim, client) = common::sim(&dir, |o| o.history = 50).await;
    common::put(&client, NS, &common::bundled_doc(NS, "PodDisruptionBudget")).await;
    common::put(&client, NS, &common::bundled_doc(NS, "NetworkPolicy")).await;
    churn(&client, 0).await;

    let spec = WatchSpec::all(
        NS,
        Selector::from_labels(Labels::from([("app".into(), "ai-agent".into())])),
    );
    let (tx, mut rx) = mpsc::channel(1024);
    let watchers = watch::spawn(client.clone(), &spec, tx);
    let mut model = Model::with_selector(NS, spec.selector.clone());
    let mut resyncs = 0;
    converge(&client, &spec, &mut model, &mut rx, &mut resyncs).await;
    assert_eq!(resyncs, ObjectKind::ALL.len(), "one initial list per kind");
    assert!(model.pods().len() >= 5);

    // Changes while watching.
    churn(&client, 1).await;
    converge(&client, &spec, &mut model, &mut rx, &mut resyncs).await;
    assert_eq!(
        resyncs,
        ObjectKind::ALL.len(),
        "no re-list without a reason"
    );

    // Every watch ends with 410 Gone: every kind lists again.
    sim.store.end_watches(WatchControl::Expire);
    churn(&client, 2).await;
    converge(&client, &spec, &mut model, &mut rx, &mut resyncs).await;
    assert!(
        resyncs >= 2 * ObjectKind::ALL.len(),
        "every kind re-listed after the 410: {resyncs}"
    );

    // Connections drop while many changes keep coming: each watcher resumes from its version,
    // or lists again if that version aged out of the history meanwhile.
    sim.store.end_watches(WatchControl::Drop);
    for round in 3..8 {
        churn(&client, round).await;
    }
    converge(&client, &spec, &mut model, &mut rx, &mut resyncs).await;

    // A plain drop with the versions still known resumes without a list.
    sim.store.end_watches(WatchControl::Drop);
    churn(&client, 8).await;
    converge(&client, &spec, &mut model, &mut rx, &mut resyncs).await;
    let fleets: Vec<String> = model.fleets().map(|f| f.id().to_string()).collect();
    assert!(
        fleets.contains(&"ScaledJob/ai-agent".to_string()),
        "{fleets:?}"
    );
    assert!(fleets.contains(&"Job/job-8".to_string()), "{fleets:?}");
    drop(watchers);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_without_events_degrades_only_the_events() {
    let dir = TempDir::new("status-rbac");
    let (sim, client) = common::sim(&dir, |o| o.enforce_rbac = true).await;
    common::put(&client, NS, &common::bundled_doc(NS, "Job")).await;
    pod(&client, "batch-a", running()).await;
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "no-events", "namespace": NS},
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
            {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list", "watch"]},
            {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["list", "watch"]},
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["list", "watch"]},
            {"apiGroups": ["keda.sh"], "resources": ["scaledjobs"], "verbs": ["list", "watch"]}]});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "viewer", "namespace": NS},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "no-events"},
        "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": NS}]});
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "viewer", "namespace": NS}});
    for doc in [&sa, &role, &binding] {
        common::put(&client, NS, doc).await;
    }
    let token = "viewer-token-for-status-tests";
    let kubeconfig = dir.path().join("viewer-kubeconfig");
    common::service_account_kubeconfig(&client, &sim, NS, "viewer", token, &kubeconfig).await;

    let run = fleetctl(&kubeconfig, &["status", "-o", "json", "--no-queue"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    let status: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let degraded = status["degraded"].as_array().unwrap();
    assert_eq!(degraded.len(), 1, "{status}");
    assert_eq!(degraded[0]["kind"], "Event");
    let reason = degraded[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("forbidden: cannot list/watch events"),
        "{reason}"
    );
    assert!(!reason.contains(token));
    assert_eq!(
        fleet(&status, "Job", "ai-agent-batch")["pods"]["running"],
        1
    );

    let run = fleetctl(&kubeconfig, &["status", "--no-queue"]).await;
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("degraded: Event: forbidden"),
        "{}",
        run.stdout
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_watch_prints_again_when_the_cluster_changes() {
    let dir = TempDir::new("status-watch");
    let (sim, client) = common::sim(&dir, |_| {}).await;
    common::put(&client, NS, &common::bundled_doc(NS, "Job")).await;
    let mut child = common::cli::command(
        &sim.kubeconfig,
        &["status", "--watch", "-o", "json", "--no-queue"],
    )
    .stderr(Stdio::inherit())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("a line within 30 s")
            .unwrap()
            .expect("status --watch keeps printing");
        serde_json::from_str(&line).unwrap()
    };
    let first = next().await;
    assert_eq!(fleet(&first, "Job", "ai-agent-batch")["pods"]["total"], 0);
    pod(&client, "batch-a", running()).await;
    // The pod shows up within a line or two (its creation and its status are two changes).
    let mut seen = None;
    for _ in 0..3 {
        let s = next().await;
        if fleet(&s, "Job", "ai-agent-batch")["pods"]["running"] == 1 {
            seen = Some(s);
            break;
        }
    }
    assert!(seen.is_some(), "the running pod never showed");
    child.start_kill().unwrap();
    sim.stop().await;
}

/// The agents' own numbers in `status`: a pod's /metrics, read through the API server's pod
/// proxy twice (rates need two readings), while the "agent" finishes tasks.
#[tokio::test(flavor = "multi_thread")]
async fn status_shows_the_agents_metrics_through_the_pod_proxy() {
    use fleetctl::agent::telemetry::{self, Metrics, Status};
    let dir = TempDir::new("status-metrics");
    let (sim, client) = common::sim(&dir, |_| {}).await;
    common::put(&client, NS, &common::bundled_doc(NS, "Job")).await;
    // The agent's metrics server on an address of its own; the pod points at it.
    let ip = format!("127.1.{}.{}", fastrand::u8(100..200), fastrand::u8(1..250));
    let metrics = std::sync::Arc::new(Metrics::new("0"));
    let server = telemetry::serve(format!("{ip}:8080").parse().unwrap(), metrics.clone())
        .await
        .unwrap();
    let mut status = running();
    status["podIP"] = json!(ip);
    pod(&client, "batch-a", status).await;
    // A second pod whose agent does not answer: it is listed as not scraped, with the reason.
    let mut silent = running();
    silent["podIP"] = json!(format!(
        "127.1.{}.{}",
        fastrand::u8(200..250),
        fastrand::u8(1..250)
    ));
    pod(&client, "batch-b", silent).await;
    // Work goes on while status reads: 20 tasks a second, 2 s each, 100 tokens each.
    let busy = metrics.clone();
    let worker = tokio::spawn(async move {
        loop {
            busy.task_done(Status::Success);
            busy.observe_duration(2.0);
            busy.tokens("sim", 100);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let run = fleetctl(&sim.kubeconfig, &["status", "-o", "json", "--no-queue"]).await;
    worker.abort();
    assert_eq!(run.code, 0, "{}", run.all());
    let status: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let m = &fleet(&status, "Job", "ai-agent-batch")["metrics"];
    let rate = m["tasks_per_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("no rate: {m}"));
    assert!((5.0..=25.0).contains(&rate), "about 20 tasks/s: {m}");
    assert_eq!(m["success_ratio"], 1.0, "{m}");
    let p99 = m["p99_task_seconds"].as_f64().unwrap();
    assert!((1.0..=2.5).contains(&p99), "every task took 2 s: {m}");
    let tokens = m["tokens_per_s"]["sim"].as_f64().unwrap();
    assert!(
        (tokens / rate - 100.0).abs() < 1.0,
        "100 tokens a task: {m}"
    );
    assert_eq!(m["pods_scraped"], 1, "{m}");
    let not = m["not_scraped"].as_array().unwrap();
    assert_eq!(not.len(), 1, "{m}");
    assert_eq!(not[0][0], "agents/batch-b");
    assert!(!not[0][1].as_str().unwrap().is_empty());

    // The table has the same numbers, and says which pod was not scraped and why.
    let run = fleetctl(&sim.kubeconfig, &["status", "--no-queue"]).await;
    assert!(
        run.stdout
            .contains("job/ai-agent-batch: 1 of 2 pods not scraped: batch-b ("),
        "{}",
        run.stdout
    );
    // --scrape off reads no metrics.
    let run = fleetctl(
        &sim.kubeconfig,
        &["status", "-o", "json", "--no-queue", "--scrape", "off"],
    )
    .await;
    let status: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        fleet(&status, "Job", "ai-agent-batch")["metrics"],
        Value::Null
    );
    drop(server);
    sim.stop().await;
}
