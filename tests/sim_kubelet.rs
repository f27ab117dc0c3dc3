//! The sim's nodes, scheduler and kubelet with real parts: the in-process sim over HTTPS, the
//! real kube client, real kubectl for cordon and drain, real RabbitMQ, and real `fleetctl
//! agent` processes receiving real signals.
//!
//! Each test starts a sim of its own with its own state directory and queue. Waits poll with
//! generous deadlines and never assert speed. After each test no agent process of the test's
//! sim is left (checked by its state directory on the command line).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use common::*;
use fleetctl::sim::controllers::{ControllerOptions, RuntimeKind};
use fleetctl::sim::runtime::{RunningSim, SimOptions, start};

const NS: &str = "agents";
const WAIT: Duration = Duration::from_secs(60);

struct Sim {
    sim: Option<RunningSim>,
    client: Client,
    dir: TempDir,
}

impl Sim {
    fn pvc_dir(&self, claim: &str) -> PathBuf {
        self.dir
            .path()
            .join("state")
            .join("volumes")
            .join("pvc")
            .join(NS)
            .join(claim)
    }

    async fn stop(mut self) {
        if let Some(s) = self.sim.take() {
            s.stop().await;
        }
        // No agent of this sim outlives it.
        let marker = self.dir.s().to_string();
        let out = Command::new("pgrep")
            .args(["-f", &marker])
            .output()
            .expect("pgrep runs");
        let left = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(left.is_empty(), "agent processes left behind: {left}");
    }
}

async fn sim_with(f: impl FnOnce(&mut ControllerOptions)) -> Sim {
    install_crypto();
    let dir = TempDir::new("kubelet");
    let mut copts = ControllerOptions::new(dir.path().join("state"));
    copts.agent_exe = PathBuf::from(env!("CARGO_BIN_EXE_fleetctl"));
    copts.backoff_initial = Duration::from_secs(3);
    copts.backoff_max = Duration::from_secs(30);
    f(&mut copts);
    let mut opts = SimOptions::new(dir.path().join("kubeconfig"));
    opts.controllers = Some(copts);
    let sim = start(opts).await.expect("the sim starts");
    let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
        .await
        .unwrap();
    // The nodes register first.
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let deadline = Instant::now() + WAIT;
    while nodes
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .is_empty()
    {
        assert!(Instant::now() < deadline, "no node registered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Sim {
        sim: Some(sim),
        client,
        dir,
    }
}

async fn broker_secret(client: &Client) {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), NS);
    let s = serde_json::from_value(json!({
        "metadata": {"name": "agent-secrets"},
        "stringData": {"queue-url": amqp_url()}
    }))
    .unwrap();
    let _ = secrets.create(&PostParams::default(), &s).await;
}

/// An agent pod as the manifests define it: the queue URL from a Secret, identity from the
/// pod name, the checkpoint PVC and an emptyDir, a metrics port with a readiness probe.
fn agent_pod(name: &str, queue: &str, extra_args: &[&str], policy: &str) -> Value {
    let mut args: Vec<String> = [
        "--queue",
        queue,
        "--checkpoint-dir",
        "/checkpoints",
        "--metrics-addr",
        "0.0.0.0:8080",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra_args.iter().map(|s| s.to_string()));
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "ai-agent", "test": name}},
        "spec": {
            "restartPolicy": policy,
            "terminationGracePeriodSeconds": 30,
            "containers": [{
                "name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0",
                "command": ["fleetctl", "agent"], "args": args,
                "ports": [{"name": "metrics", "containerPort": 8080}],
                "env": [
                    {"name": "TASK_QUEUE_URL", "valueFrom": {"secretKeyRef": {"name": "agent-secrets", "key": "queue-url"}}},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                ],
                "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}},
                "readinessProbe": {"httpGet": {"path": "/readyz", "port": "metrics"}, "periodSeconds": 1},
                "volumeMounts": [{"name": "checkpoints", "mountPath": "/checkpoints"}, {"name": "tmp", "mountPath": "/tmp"}],
            }],
            "volumes": [
                {"name": "checkpoints", "persistentVolumeClaim": {"claimName": "agent-checkpoints"}},
                {"name": "tmp", "emptyDir": {}},
            ],
        }
    })
}

async fn create(client: &Client, v: Value) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    pods.create(&PostParams::default(), &serde_json::from_value(v).unwrap())
        .await
        .expect("the pod is created")
}

/// Polls the pod until `f` holds; returns it.
async fn wait_pod(client: &Client, name: &str, what: &str, f: impl Fn(&Pod) -> bool) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let deadline = Instant::now() + WAIT;
    loop {
        let p = pods.get_opt(name).await.unwrap();
        if let Some(p) = p {
            if f(&p) {
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "pod {name}: timed out waiting for {what}; status: {}",
                serde_json::to_string(&p.status).unwrap()
            );
        } else {
            assert!(
                Instant::now() < deadline,
                "pod {name} is gone, waiting for {what}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every state the pod passes through, from a watch started now, until it is deleted.
struct History(
    std::sync::Arc<std::sync::Mutex<Vec<Pod>>>,
    tokio::task::JoinHandle<()>,
);

impl History {
    async fn start(client: &Client, name: &str) -> History {
        let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
        let mut w = pods
            .watch(
                &WatchParams::default().fields(&format!("metadata.name={name}")),
                "0",
            )
            .await
            .unwrap()
            .boxed();
        let seen: std::sync::Arc<std::sync::Mutex<Vec<Pod>>> = Default::default();
        let into = seen.clone();
        let task = tokio::spawn(async move {
            while let Some(Ok(ev)) = w.next().await {
                match ev {
                    kube::api::WatchEvent::Added(p) | kube::api::WatchEvent::Modified(p) => {
                        into.lock().unwrap().push(p)
                    }
                    kube::api::WatchEvent::Deleted(_) => return,
                    _ => {}
                }
            }
        });
        History(seen, task)
    }

    /// The last state seen before the pod went.
    async fn last(self) -> Pod {
        let _ = tokio::time::timeout(WAIT, self.1).await;
        self.0
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("the pod was seen")
    }
}

async fn wait_gone(client: &Client, name: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let deadline = Instant::now() + WAIT;
    while pods.get_opt(name).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "pod {name} was never removed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn status(p: &Pod) -> Value {
    serde_json::to_value(p.status.clone().unwrap_or_default()).unwrap()
}

fn phase(p: &Pod) -> String {
    status(p)["phase"].as_str().unwrap_or_default().to_string()
}

fn cond(s: &Value, ty: &str) -> Value {
    s["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == ty)
        .cloned()
        .unwrap_or(Value::Null)
}

fn container(p: &Pod) -> Value {
    status(p)["containerStatuses"][0].clone()
}

async fn events_for(client: &Client, pod: &str) -> Vec<Event> {
    let api: Api<Event> = Api::namespaced(client.clone(), NS);
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(pod))
        .collect()
}

async fn wait_event(client: &Client, pod: &str, reason: &str) -> Event {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(e) = events_for(client, pod)
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some(reason))
        {
            return e;
        }
        assert!(Instant::now() < deadline, "no {reason} event for {pod}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the agent `index` reports a task in hand in its state file.
async fn wait_busy(pvc: &Path, index: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let state: Value = std::fs::read_to_string(pvc.join(format!("agent-{index}.json")))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        if state["current_tasks"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "agent {index} never took a task: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn kubectl(sim: &Sim) -> Command {
    let mut c = Command::new("kubectl");
    c.env("KUBECONFIG", sim.dir.path().join("kubeconfig"))
        .env("HOME", sim.dir.path())
        .stdin(Stdio::null());
    c
}

fn kubectl_ok(sim: &Sim, args: &[&str]) -> String {
    let out = kubectl(sim).args(args).output().expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------------

/// Pending (no node) → ContainerCreating → Running (IP, Ready, /metrics on podIP:8080) →
/// Succeeded (the agent exits 0 when idle), with the exact SPEC §3 shapes seen on a watch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_lifecycle_from_pending_to_succeeded() {
    if !require_broker("pod_lifecycle_from_pending_to_succeeded") {
        return;
    }
    let sim = sim_with(|_| {}).await;
    broker_secret(&sim.client).await;
    let queue = unique_queue("kubelet-life");
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), NS);
    let mut watch = pods
        .watch(&WatchParams::default().fields("metadata.name=life"), "0")
        .await
        .unwrap()
        .boxed();
    let created = create(
        &sim.client,
        agent_pod("life", &queue, &["--idle-exit", "3s"], "Never"),
    )
    .await;
    assert_eq!(phase(&created), "Pending");

    let mut seen: Vec<Pod> = vec![];
    let deadline = Instant::now() + WAIT;
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline.into(), watch.next()).await {
        if let Ok(kube::api::WatchEvent::Added(p) | kube::api::WatchEvent::Modified(p)) = ev {
            let done = phase(&p) == "Succeeded" || phase(&p) == "Failed";
            seen.push(p);
            if done {
                break;
            }
        }
    }
    let creating = seen
        .iter()
        .find(|p| container(p)["state"]["waiting"]["reason"] == "ContainerCreating")
        .expect("a ContainerCreating status");
    assert_eq!(phase(creating), "Pending");
    assert_eq!(
        creating
            .spec
            .as_ref()
            .unwrap()
            .node_name
            .as_deref()
            .map(|n| n.starts_with("sim-node-")),
        Some(true)
    );
    let s = status(creating);
    assert_eq!(cond(&s, "PodScheduled")["status"], "True");
    assert_eq!(cond(&s, "Ready")["reason"], "ContainersNotReady");
    assert!(s.get("startTime").is_some());

    let running = seen
        .iter()
        .find(|p| phase(p) == "Running" && cond(&status(p), "Ready")["status"] == "True")
        .expect("a Running and Ready status");
    let s = status(running);
    for ty in [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ] {
        assert_eq!(cond(&s, ty)["status"], "True", "{ty} in {s}");
    }
    let ip = s["podIP"].as_str().unwrap().to_string();
    assert!(ip.starts_with("127.1."), "{ip}");
    let c = &s["containerStatuses"][0];
    assert_eq!(c["ready"], true);
    assert_eq!(c["started"], true);
    assert_eq!(c["restartCount"], 0);
    assert!(c["state"]["running"]["startedAt"].is_string());

    let done = seen.last().unwrap();
    assert_eq!(phase(done), "Succeeded", "{}", status(done));
    let s = status(done);
    let t = &s["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["exitCode"], 0);
    assert_eq!(t["reason"], "Completed");
    assert_eq!(cond(&s, "Ready")["status"], "False");
    assert_eq!(cond(&s, "Ready")["reason"], "PodCompleted");
    // The agent's state file landed on the claim's directory.
    assert!(
        sim.pvc_dir("agent-checkpoints")
            .join("agent-life.json")
            .exists(),
        "{:?}",
        files_in(&sim.pvc_dir("agent-checkpoints"))
    );
    wait_event(&sim.client, "life", "Scheduled").await;
    wait_event(&sim.client, "life", "Started").await;
    delete_queue(&queue);
    sim.stop().await;
}

/// Nothing fits: PodScheduled=False/Unschedulable with the SPEC message, a FailedScheduling
/// event; and a cordoned node (real kubectl) takes no pods.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_and_cordon() {
    let sim = sim_with(|o| o.nodes = 2).await;
    let mut big = agent_pod("big", "q", &[], "Never");
    big["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("100");
    create(&sim.client, big).await;
    let p = wait_pod(&sim.client, "big", "Unschedulable", |p| {
        cond(&status(p), "PodScheduled")["reason"] == "Unschedulable"
    })
    .await;
    let c = cond(&status(&p), "PodScheduled");
    assert_eq!(c["status"], "False");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .starts_with("0/2 nodes are available: 2 Insufficient cpu."),
        "{c}"
    );
    assert_eq!(phase(&p), "Pending");
    assert!(p.spec.as_ref().unwrap().node_name.is_none());
    let ev = wait_event(&sim.client, "big", "FailedScheduling").await;
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    assert_eq!(
        ev.source.as_ref().and_then(|s| s.component.as_deref()),
        Some("default-scheduler")
    );

    if !require(
        common::kubectl_on_path(),
        "unschedulable_and_cordon",
        "kubectl",
    ) {
        sim.stop().await;
        return;
    }
    kubectl_ok(&sim, &["cordon", "sim-node-1"]);
    let out = kubectl_ok(&sim, &["get", "node", "sim-node-1"]);
    assert!(out.contains("SchedulingDisabled"), "{out}");
    for i in 0..3 {
        create(
            &sim.client,
            agent_pod(
                &format!("c{i}"),
                "q",
                &["--connect-timeout", "60s"],
                "Never",
            ),
        )
        .await;
    }
    for i in 0..3 {
        let p = wait_pod(&sim.client, &format!("c{i}"), "bound", |p| {
            p.spec.as_ref().unwrap().node_name.is_some()
        })
        .await;
        assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("sim-node-2"));
    }
    kubectl_ok(&sim, &["uncordon", "sim-node-1"]);
    sim.stop().await;
}

/// Graceful delete: the real agent gets SIGTERM in the middle of a task, checkpoints it on the
/// claim's directory and gives it back, exits 143 (interrupted work); the phase follows
/// (Failed, reason Error), then the pod object goes. The task is still in the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_delete_checkpoints_and_removes_the_pod() {
    if !require_broker("graceful_delete_checkpoints_and_removes_the_pod") {
        return;
    }
    let sim = sim_with(|_| {}).await;
    broker_secret(&sim.client).await;
    let queue = unique_queue("kubelet-term");
    seed(&queue, 1, 200, 200, None);
    create(
        &sim.client,
        agent_pod("term", &queue, &["--idle-exit", "0s"], "Never"),
    )
    .await;
    wait_pod(&sim.client, "term", "Running", |p| phase(p) == "Running").await;
    // The agent holds the task once its state file says so.
    let pvc = sim.pvc_dir("agent-checkpoints");
    wait_busy(&pvc, "term").await;
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), NS);
    let history = History::start(&sim.client, "term").await;
    let deleted = Instant::now();
    pods.delete("term", &DeleteParams::default()).await.unwrap();
    wait_gone(&sim.client, "term").await;
    let p = history.last().await;
    assert!(p.metadata.deletion_timestamp.is_some());
    assert_eq!(phase(&p), "Failed", "{}", status(&p));
    assert_eq!(container(&p)["state"]["terminated"]["exitCode"], 143);
    assert_eq!(container(&p)["state"]["terminated"]["reason"], "Error");
    assert!(
        deleted.elapsed() < Duration::from_secs(25),
        "SIGTERM, not SIGKILL after 30 s"
    );
    let checkpoints = files_in(&pvc.join("tasks"));
    assert_eq!(checkpoints.len(), 1, "one checkpoint: {checkpoints:?}");
    let ev = wait_event(&sim.client, "term", "Killing").await;
    assert_eq!(ev.message.as_deref(), Some("Stopping container agent"));
    let deadline = Instant::now() + WAIT;
    while list_queue(&queue).map(|q| q.0) != Some(1) {
        assert!(
            Instant::now() < deadline,
            "the task is not back in the queue"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    delete_queue(&queue);
    sim.stop().await;
}

/// A container that ignores SIGTERM is SIGKILLed when the grace period ends: exit 137,
/// signal 9, Failed, then removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_the_grace_period() {
    let stubborn = TempDir::new("stubborn");
    let script = stubborn.path().join("stubborn.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ntrap '' TERM\nsleep 120 &\nwait\nwait\n",
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let sim = sim_with(|o| o.agent_exe = script.clone()).await;
    let mut pod = agent_pod("stubborn", "q", &[], "Never");
    pod["spec"]["terminationGracePeriodSeconds"] = json!(3);
    pod["spec"]["containers"][0]["env"] = json!([]);
    pod["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("readinessProbe");
    create(&sim.client, pod).await;
    wait_pod(&sim.client, "stubborn", "Running", |p| {
        phase(p) == "Running"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), NS);
    let history = History::start(&sim.client, "stubborn").await;
    let t0 = Instant::now();
    pods.delete("stubborn", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&sim.client, "stubborn").await;
    let waited = t0.elapsed();
    let p = history.last().await;
    assert_eq!(phase(&p), "Failed", "{}", status(&p));
    let t = &container(&p)["state"]["terminated"];
    assert_eq!(t["exitCode"], 137, "{t}");
    assert_eq!(t["signal"], 9, "{t}");
    assert_eq!(t["reason"], "Error");
    assert!(
        waited >= Duration::from_millis(2500),
        "killed after {waited:?}, before the grace period"
    );
    sim.stop().await;
}

/// A task holding more memory than `limits.memory`: Never → Failed, 137, OOMKilled; OnFailure
/// → restartCount 1, lastState OOMKilled, CrashLoopBackOff, a BackOff event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oom_killed_with_and_without_restarts() {
    if !require_broker("oom_killed_with_and_without_restarts") {
        return;
    }
    let sim = sim_with(|_| {}).await;
    broker_secret(&sim.client).await;
    let payload = sim.dir.path().join("payload.json");
    std::fs::write(&payload, r#"{"memory_mb": 300}"#).unwrap();
    for (name, policy) in [("oom-never", "Never"), ("oom-retry", "OnFailure")] {
        let queue = unique_queue(name);
        seed(&queue, 1, 40, 250, Some(&payload));
        let mut pod = agent_pod(name, &queue, &["--idle-exit", "0s"], policy);
        pod["spec"]["containers"][0]["resources"]["limits"] = json!({"memory": "200Mi"});
        create(&sim.client, pod).await;
        if policy == "Never" {
            let p = wait_pod(&sim.client, name, "Failed", |p| phase(p) == "Failed").await;
            let t = &container(&p)["state"]["terminated"];
            assert_eq!(t["exitCode"], 137, "{t}");
            assert_eq!(t["reason"], "OOMKilled");
            assert_eq!(cond(&status(&p), "Ready")["reason"], "PodFailed");
        } else {
            let p = wait_pod(&sim.client, name, "CrashLoopBackOff", |p| {
                container(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
            })
            .await;
            assert_eq!(phase(&p), "Running");
            let c = container(&p);
            assert_eq!(c["restartCount"], 1, "{c}");
            assert_eq!(c["lastState"]["terminated"]["reason"], "OOMKilled");
            assert_eq!(c["lastState"]["terminated"]["exitCode"], 137);
            let ev = wait_event(&sim.client, name, "BackOff").await;
            assert_eq!(ev.type_.as_deref(), Some("Warning"));
            assert!(
                ev.message.as_deref().unwrap().starts_with(&format!(
                    "Back-off restarting failed container agent in pod {name}_agents("
                )),
                "{:?}",
                ev.message
            );
            // Restarted after the back-off.
            wait_pod(&sim.client, name, "restarted", |p| {
                container(p)["state"]["running"].is_object() && container(p)["restartCount"] == 1
            })
            .await;
        }
        delete_queue(&queue);
    }
    sim.stop().await;
}

/// An in-process agent's log lines go to its container's log, as a process's stdout does: the
/// real `fleetctl sim --runtime inproc` (with its JSON logging), then `kubectl logs`. They are
/// not mixed into the sim's own output.
#[test]
fn inproc_agents_log_to_their_container_log() {
    if !require_broker("inproc_agents_log_to_their_container_log")
        || !require(
            common::kubectl_on_path(),
            "inproc_agents_log_to_their_container_log",
            "kubectl",
        )
    {
        return;
    }
    let dir = TempDir::new("inproc-logs");
    let kubeconfig = dir.path().join("kubeconfig");
    let sim_log = dir.path().join("sim.log");
    let mut child = fleetctl()
        .args([
            "sim",
            "--runtime",
            "inproc",
            "--nodes",
            "1",
            "--write-kubeconfig",
        ])
        .arg(&kubeconfig)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&sim_log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("fleetctl sim starts");
    let deadline = Instant::now() + WAIT;
    while !std::fs::read_to_string(&sim_log)
        .unwrap_or_default()
        .contains("sim ready:")
    {
        assert!(Instant::now() < deadline, "the sim never got ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let kubectl = |args: &[&str]| {
        let out = Command::new("kubectl")
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .args(args)
            .output()
            .expect("kubectl runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let url = amqp_url();
    let (ok, out) = kubectl(&[
        "create",
        "secret",
        "generic",
        "agent-secrets",
        "-n",
        "agents",
        &format!("--from-literal=queue-url={url}"),
    ]);
    assert!(ok, "{out}");
    let queue = unique_queue("inproc-logs");
    let manifest = dir.path().join("pod.json");
    let mut pod = agent_pod("inproc-talker", &queue, &["--idle-exit", "0s"], "Never");
    pod["metadata"]["namespace"] = json!("agents");
    std::fs::write(&manifest, pod.to_string()).unwrap();
    let (ok, out) = kubectl(&["apply", "-f", manifest.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out) = kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod/inproc-talker",
        "-n",
        "agents",
        "--timeout=60s",
    ]);
    assert!(ok, "{out}");
    let (ok, logs) = kubectl(&["logs", "inproc-talker", "-n", "agents"]);
    assert!(ok, "{logs}");
    let connected = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "broker_connected")
        .unwrap_or_else(|| panic!("no broker_connected line in the container log:\n{logs}"));
    assert_eq!(connected["agent_index"], "inproc-talker", "{connected}");
    let own = std::fs::read_to_string(&sim_log).unwrap();
    assert!(
        !own.contains("\"agent_index\":\"inproc-talker\""),
        "the agent's lines are not in the sim's output:\n{own}"
    );
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
    delete_queue(&queue);
}

/// A livenessProbe that keeps failing: `Unhealthy` events with the kubelet's reason, then
/// `Killing` ("failed liveness probe, will be restarted"), SIGTERM, and a restart with
/// `restartCount` and `lastState`; a pod whose probe passes is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_liveness_probe_restarts_the_container() {
    if !require_broker("failing_liveness_probe_restarts_the_container") {
        return;
    }
    liveness_case(RuntimeKind::Process).await;
}

/// The same with in-process agents, whose /healthz and /readyz the kubelet reads without a
/// connection: the passing probe and readiness come from that answer, and a probe of a path
/// the agent does not serve still goes over HTTP and fails with the server's 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_liveness_probe_restarts_an_inproc_container() {
    if !require_broker("failing_liveness_probe_restarts_an_inproc_container") {
        return;
    }
    liveness_case(RuntimeKind::Inproc).await;
}

async fn liveness_case(runtime: RuntimeKind) {
    let sim = sim_with(|o| o.runtime = runtime).await;
    broker_secret(&sim.client).await;
    let queue = unique_queue("liveness");
    for (name, path) in [("sick", "/nope"), ("well", "/healthz")] {
        let mut pod = agent_pod(name, &queue, &["--idle-exit", "0s"], "Always");
        pod["spec"]["terminationGracePeriodSeconds"] = json!(5);
        pod["spec"]["containers"][0]["livenessProbe"] = json!({
            "httpGet": {"path": path, "port": "metrics"},
            "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 2});
        create(&sim.client, pod).await;
    }
    let unhealthy = wait_event(&sim.client, "sick", "Unhealthy").await;
    assert_eq!(unhealthy.type_.as_deref(), Some("Warning"));
    assert_eq!(
        unhealthy.message.as_deref(),
        Some("Liveness probe failed: HTTP probe failed with statuscode: 404")
    );
    let killing = wait_event(&sim.client, "sick", "Killing").await;
    assert_eq!(
        killing.message.as_deref(),
        Some("Container agent failed liveness probe, will be restarted")
    );
    let p = wait_pod(
        &sim.client,
        "sick",
        "restarted after the liveness kill",
        |p| container(p)["restartCount"].as_i64() >= Some(1),
    )
    .await;
    let last = &container(&p)["lastState"]["terminated"];
    // SIGTERM: the idle agent stops cleanly; restarted anyway (policy Always).
    assert!(
        last["reason"] == "Completed" || last["reason"] == "Error",
        "{last}"
    );
    let well = wait_pod(&sim.client, "well", "Running", |p| phase(p) == "Running").await;
    assert_eq!(
        container(&well)["restartCount"],
        0,
        "a passing probe kills nothing"
    );
    assert!(
        events_for(&sim.client, "well")
            .await
            .iter()
            .all(|e| e.reason.as_deref() != Some("Unhealthy")),
        "no Unhealthy event for the healthy pod"
    );
    delete_queue(&queue);
    sim.stop().await;
}

/// `kubectl logs` reads what the kubelet wrote of the container's output: the current instance,
/// `--previous`, `--tail`, `-f` (which ends with the instance), and the kubelet's errors for
/// an unknown container or a container that has not started. kube-rs reads the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_logs_reads_the_current_and_previous_container() {
    if !require_broker("kubectl_logs_reads_the_current_and_previous_container")
        || !require(
            common::kubectl_on_path(),
            "kubectl_logs_reads_the_current_and_previous_container",
            "kubectl",
        )
    {
        return;
    }
    let sim = sim_with(|_| {}).await;
    broker_secret(&sim.client).await;
    let queue = unique_queue("logs");
    // Idle for 2 s, the agent exits 0; restartPolicy Always starts it again.
    create(
        &sim.client,
        agent_pod("talker", &queue, &["--idle-exit", "2s"], "Always"),
    )
    .await;
    wait_pod(&sim.client, "talker", "Running", |p| {
        container(p)["state"]["running"].is_object()
    })
    .await;
    // Followed from now on, the log ends when this instance exits.
    let follow = kubectl(&sim)
        .args(["logs", "-f", "talker", "-n", "agents"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let followed = tokio::task::spawn_blocking(move || follow.wait_with_output().unwrap());
    let followed = tokio::time::timeout(WAIT, followed)
        .await
        .expect("kubectl logs -f ends when the container does")
        .unwrap();
    let text = String::from_utf8_lossy(&followed.stdout);
    assert!(
        followed.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&followed.stderr)
    );
    assert!(text.contains("broker_connected"), "{text}");
    assert!(
        text.contains("idle_exit") && text.contains("agent_stopped"),
        "{text}"
    );
    wait_pod(&sim.client, "talker", "restarted", |p| {
        container(p)["restartCount"].as_i64() >= Some(1)
    })
    .await;
    let previous = kubectl_ok(&sim, &["logs", "talker", "-n", "agents", "--previous"]);
    assert!(previous.contains("agent_stopped"), "{previous}");
    let last = kubectl_ok(
        &sim,
        &["logs", "talker", "-n", "agents", "--previous", "--tail=1"],
    );
    assert_eq!(last.lines().count(), 1, "{last}");
    assert!(
        previous.ends_with(&last),
        "the last line of the previous instance"
    );
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), "agents");
    let lp = kube::api::LogParams {
        previous: true,
        tail_lines: Some(2),
        ..Default::default()
    };
    let two = pods.logs("talker", &lp).await.unwrap();
    assert_eq!(two.lines().count(), 2, "{two}");
    let out = kubectl(&sim)
        .args(["logs", "talker", "-n", "agents", "-c", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("container nope is not valid for pod talker"),
        "{err}"
    );
    // A pod that cannot start: the kubelet's "waiting to start".
    let mut big = agent_pod("waiting", &queue, &[], "Never");
    big["spec"]["nodeName"] = json!("sim-node-1");
    big["spec"]["containers"][0]["env"] = json!([{"name": "TASK_QUEUE_URL",
        "valueFrom": {"secretKeyRef": {"name": "no-such-secret", "key": "queue-url"}}}]);
    create(&sim.client, big).await;
    wait_pod(&sim.client, "waiting", "CreateContainerConfigError", |p| {
        container(p)["state"]["waiting"]["reason"] == "CreateContainerConfigError"
    })
    .await;
    let out = kubectl(&sim)
        .args(["logs", "waiting", "-n", "agents"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "container \"agent\" in pod \"waiting\" is waiting to start: CreateContainerConfigError"
        ),
        "{err}"
    );
    delete_queue(&queue);
    sim.stop().await;
}

/// `--evict-on-pressure`: a pod using more memory than its node has is evicted: Failed, reason
/// Evicted, DisruptionTarget/TerminationByKubelet, an Evicted event, and the object stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pressure_eviction_shape() {
    if !require_broker("pressure_eviction_shape") {
        return;
    }
    let sim = sim_with(|o| {
        o.nodes = 1;
        o.node_memory_bytes = 256 << 20;
        o.evict_on_pressure = true;
    })
    .await;
    broker_secret(&sim.client).await;
    let payload = sim.dir.path().join("payload.json");
    std::fs::write(&payload, r#"{"memory_mb": 400}"#).unwrap();
    let queue = unique_queue("pressure");
    seed(&queue, 1, 40, 250, Some(&payload));
    create(
        &sim.client,
        agent_pod("hog", &queue, &["--idle-exit", "0s"], "Never"),
    )
    .await;
    let p = wait_pod(&sim.client, "hog", "Evicted", |p| {
        status(p)["reason"] == "Evicted"
    })
    .await;
    let p = wait_pod(&sim.client, "hog", "Failed", |q| {
        phase(q) == "Failed" && q.uid() == p.uid()
    })
    .await;
    let s = status(&p);
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .starts_with("The node was low on resource: memory. "),
        "{s}"
    );
    let dt = cond(&s, "DisruptionTarget");
    assert_eq!(dt["status"], "True");
    assert_eq!(dt["reason"], "TerminationByKubelet");
    assert!(p.metadata.deletion_timestamp.is_none());
    let ev = wait_event(&sim.client, "hog", "Evicted").await;
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), NS);
    assert!(
        pods.get_opt("hog").await.unwrap().is_some(),
        "an evicted pod is not deleted"
    );
    delete_queue(&queue);
    sim.stop().await;
}

/// `kubectl drain` of a node running an agent with a PDB (minAvailable 1): the eviction gets
/// 429 while the budget allows nothing, then succeeds once it allows one; the agent gets
/// SIGTERM, checkpoints and requeues; the task resumes on an agent on the other node and
/// completes. No task is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drain_respects_the_pdb_and_loses_no_task() {
    if !require_broker("kubectl_drain_respects_the_pdb_and_loses_no_task")
        || !require(
            common::kubectl_on_path(),
            "kubectl_drain_respects_the_pdb_and_loses_no_task",
            "kubectl",
        )
    {
        return;
    }
    let sim = sim_with(|o| o.nodes = 2).await;
    broker_secret(&sim.client).await;
    let queue = unique_queue("drain");
    seed(&queue, 1, 60, 250, None);
    // The agent lands on sim-node-1.
    kubectl_ok(&sim, &["cordon", "sim-node-2"]);
    create(
        &sim.client,
        agent_pod("drained", &queue, &["--idle-exit", "0s"], "Never"),
    )
    .await;
    let p = wait_pod(&sim.client, "drained", "Ready", |p| {
        cond(&status(p), "Ready")["status"] == "True"
    })
    .await;
    assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("sim-node-1"));
    kubectl_ok(&sim, &["uncordon", "sim-node-2"]);
    let pvc = sim.pvc_dir("agent-checkpoints");
    wait_busy(&pvc, "drained").await;

    // The budget, kept by the sim's disruption controller: one agent, minAvailable 1, nothing
    // may go.
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(sim.client.clone(), NS);
    let pdb: PodDisruptionBudget = serde_json::from_value(json!({
        "metadata": {"name": "agent-pdb"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ai-agent"}}}
    }))
    .unwrap();
    pdbs.create(&PostParams::default(), &pdb).await.unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let s = pdbs
            .get("agent-pdb")
            .await
            .unwrap()
            .status
            .unwrap_or_default();
        if s.observed_generation == Some(1) && s.expected_pods == 1 && s.current_healthy == 1 {
            assert_eq!(s.disruptions_allowed, 0);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the budget was never computed: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let mut drain = kubectl(&sim)
        .args([
            "drain",
            "sim-node-1",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            "--timeout=120s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl drain starts");
    // 429s keep the pod running while the budget allows nothing.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), NS);
    let still = pods.get("drained").await.unwrap();
    assert!(
        still.metadata.deletion_timestamp.is_none(),
        "evicted despite the budget"
    );
    assert!(drain.try_wait().unwrap().is_none(), "drain ended early");
    // A second agent becomes healthy on the other node: the controller allows one disruption,
    // the eviction goes through, and this agent takes over the requeued task. It waits 15 s
    // idle before leaving: kubectl drain retries an eviction only every 5 s.
    create(
        &sim.client,
        agent_pod("resumer", &queue, &["--idle-exit", "15s"], "Never"),
    )
    .await;
    let out = tokio::task::spawn_blocking(move || drain.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "drain failed: {stdout}{stderr}");
    assert!(
        stderr.contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "no 429 seen: {stderr}"
    );
    assert!(
        stdout.contains("evicted") && stdout.contains("drained"),
        "{stdout}"
    );
    wait_gone(&sim.client, "drained").await;

    // The task resumes on the other node and completes.
    let p = wait_pod(&sim.client, "resumer", "Succeeded", |p| {
        phase(p) == "Succeeded"
    })
    .await;
    assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("sim-node-2"));
    let results = files_in(&pvc.join("results"));
    assert_eq!(results.len(), 1, "one result: {results:?}");
    assert!(
        files_in(&pvc.join("tasks")).is_empty(),
        "the checkpoint became the result"
    );
    let result: Value = serde_json::from_str(
        &std::fs::read_to_string(pvc.join("results").join(&results[0])).unwrap(),
    )
    .unwrap();
    assert_eq!(result["status"], "success", "{result}");
    assert_eq!(list_queue(&queue).map(|q| q.0), Some(0));
    delete_queue(&queue);
    sim.stop().await;
}

/// `--runtime inproc`: the agent runs as a task of the sim with the same wiring: the pod's
/// env, its own IP with /metrics on the containerPort, Ready from /readyz, and a graceful
/// delete that ends Succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inproc_runtime_serves_metrics_on_the_pod_ip() {
    if !require_broker("inproc_runtime_serves_metrics_on_the_pod_ip") {
        return;
    }
    let sim = sim_with(|o| o.runtime = RuntimeKind::Inproc).await;
    broker_secret(&sim.client).await;
    let queue = unique_queue("inproc");
    create(
        &sim.client,
        agent_pod("inproc", &queue, &["--idle-exit", "0s"], "Never"),
    )
    .await;
    let p = wait_pod(&sim.client, "inproc", "Ready", |p| {
        cond(&status(p), "Ready")["status"] == "True"
    })
    .await;
    let ip = status(&p)["podIP"].as_str().unwrap().to_string();
    let body = reqwest::get(format!("http://{ip}:8080/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("agent_info{index=\"inproc\""), "{body}");
    let history = History::start(&sim.client, "inproc").await;
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), NS);
    pods.delete("inproc", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&sim.client, "inproc").await;
    let last = history.last().await;
    assert_eq!(phase(&last), "Succeeded", "{}", status(&last));
    // The address is free again.
    assert!(std::net::TcpListener::bind(format!("{ip}:8080")).is_ok());
    delete_queue(&queue);
    sim.stop().await;
}

/// The broker connections behind the consumers of `queue`: one per distinct connection, as
/// `rabbitmqctl` maps each consumer's channel to its connection.
fn consumer_connections(queue: &str) -> (usize, std::collections::HashSet<String>) {
    let consumers = rabbitmqctl(&[
        "list_consumers",
        "-q",
        "--no-table-headers",
        "queue_name",
        "channel_pid",
    ]);
    let channels: Vec<String> = String::from_utf8_lossy(&consumers.stdout)
        .lines()
        .filter_map(|l| {
            let mut cols = l.split('\t');
            (cols.next()? == queue).then(|| cols.next().unwrap_or("").trim().to_string())
        })
        .collect();
    let listed = rabbitmqctl(&[
        "list_channels",
        "-q",
        "--no-table-headers",
        "pid",
        "connection",
    ]);
    let text = String::from_utf8_lossy(&listed.stdout).to_string();
    let conns = text
        .lines()
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let ch = cols.next()?.trim();
            channels
                .iter()
                .any(|c| c == ch)
                .then(|| cols.next().unwrap_or("").trim().to_string())
        })
        .collect();
    (channels.len(), conns)
}

/// `--runtime inproc` agents share one broker connection (a channel each), and an agent that
/// leaves closes only its channel: its task goes back to the queue with its checkpoint and
/// another agent, on the same connection, takes it up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inproc_agents_share_one_connection_and_requeue_on_delete() {
    if !require_broker("inproc_agents_share_one_connection_and_requeue_on_delete") {
        return;
    }
    let sim = sim_with(|o| o.runtime = RuntimeKind::Inproc).await;
    broker_secret(&sim.client).await;
    let queue = unique_queue("inproc-shared");
    seed(&queue, 1, 200, 200, None);
    let names = ["shared-a", "shared-b", "shared-c"];
    for n in names {
        create(
            &sim.client,
            agent_pod(n, &queue, &["--idle-exit", "0s"], "Never"),
        )
        .await;
    }
    for n in names {
        wait_pod(&sim.client, n, "Ready", |p| {
            cond(&status(p), "Ready")["status"] == "True"
        })
        .await;
    }
    let deadline = Instant::now() + WAIT;
    let (consumers, conns) = loop {
        let (consumers, conns) = consumer_connections(&queue);
        if consumers == names.len() || Instant::now() > deadline {
            break (consumers, conns);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(consumers, names.len(), "one consumer per agent");
    assert_eq!(conns.len(), 1, "one shared connection: {conns:?}");

    // Whoever holds the task is deleted: it checkpoints, gives the task back and exits 143.
    let pvc = sim.pvc_dir("agent-checkpoints");
    let busy = |name: &str| {
        std::fs::read_to_string(pvc.join(format!("agent-{name}.json")))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|s| s["current_tasks"].as_array().cloned())
            .unwrap_or_default()
    };
    let deadline = Instant::now() + WAIT;
    let (holder, task) = loop {
        if let Some((n, t)) = names
            .iter()
            .find_map(|n| busy(n).first().map(|t| (*n, t.clone())))
        {
            break (n, t);
        }
        assert!(Instant::now() < deadline, "no agent took the task");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let history = History::start(&sim.client, holder).await;
    let pods: Api<Pod> = Api::namespaced(sim.client.clone(), NS);
    pods.delete(holder, &DeleteParams::default()).await.unwrap();
    wait_gone(&sim.client, holder).await;
    let p = history.last().await;
    assert_eq!(container(&p)["state"]["terminated"]["exitCode"], 143);
    assert_eq!(
        files_in(&pvc.join("tasks")).len(),
        1,
        "the task's checkpoint"
    );

    // The same task resumes on one of the others, over the connection that is still open.
    let deadline = Instant::now() + WAIT;
    while !names
        .iter()
        .filter(|n| **n != holder)
        .any(|n| busy(n).contains(&task))
    {
        assert!(
            Instant::now() < deadline,
            "the requeued task was not taken up again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (consumers, conns) = consumer_connections(&queue);
    assert_eq!(consumers, names.len() - 1);
    assert_eq!(conns.len(), 1, "{conns:?}");
    for n in names.iter().filter(|n| **n != holder) {
        pods.delete(n, &DeleteParams::default()).await.unwrap();
        wait_gone(&sim.client, n).await;
    }
    delete_queue(&queue);
    sim.stop().await;
}
