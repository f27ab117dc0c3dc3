//! Pods through the sim's whole node side: create (64 in flight, as `kubectl apply` of many
//! objects would) → scheduler binding → kubelet → runtime → status `Running`, timed from the
//! first create until a watch has seen every pod Running.
//!
//! - `inproc`: 10,000 agent pods (`SIM_BENCH_PODS`) on 100 nodes with `--runtime inproc`.
//! - `process`: 100 agent pods (`SIM_BENCH_PROCESS_PODS`) on 3 nodes with `--runtime process`,
//!   each a real `fleetctl agent` child.
//!
//! The agents consume a fresh, empty queue on `FLEETCTL_AMQP_URL` (default: the local broker).
//! The RSS reported is the bench process's (API server, controllers, in-process agents and the
//! client) and, for the process runtime, the sum over the agent processes.
//!
//! `cargo bench --bench sim_pods` (`SIM_BENCH_SCENARIO=inproc|process` runs one).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use tokio::sync::Semaphore;

use fleetctl::sim::controllers::{ControllerOptions, RuntimeKind};
use fleetctl::sim::runtime::{SimOptions, start};

fn rss_mb() -> f64 {
    fleetctl::agent::telemetry::resident_memory_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

/// Summed RSS of the processes whose command line mentions `marker`.
fn children_rss_mb(marker: &str) -> (usize, f64) {
    let out = std::process::Command::new("pgrep")
        .args(["-f", marker])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut n = 0;
    let mut kb = 0u64;
    for pid in out.split_whitespace() {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(v) = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
        {
            n += 1;
            kb += v;
        }
    }
    (n, kb as f64 / 1024.0)
}

async fn scenario(kind: RuntimeKind, pods_n: usize, nodes: usize) {
    let dir = std::env::temp_dir().join(format!(
        "fleetctl-bench-pods-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let state = dir.join("state");
    let mut copts = ControllerOptions::new(state.clone());
    copts.nodes = nodes;
    copts.runtime = kind;
    copts.agent_exe = PathBuf::from(env!("CARGO_BIN_EXE_fleetctl"));
    let mut opts = SimOptions::new(dir.join("kubeconfig"));
    opts.controllers = Some(copts);
    let sim = start(opts).await.expect("the sim starts");
    let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
        .await
        .unwrap();
    let url = std::env::var("FLEETCTL_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "agents");
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"metadata": {"name": "agent-secrets"}, "stringData": {"queue-url": url}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    // Wait for the nodes.
    let nodes_api: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    while nodes_api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .len()
        < nodes
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let queue = format!("bench-pods-{}", uuid::Uuid::new_v4().simple());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "agents");
    let rv = sim.store.current_rv().to_string();
    let watcher = {
        let pods = pods.clone();
        tokio::spawn(async move {
            let mut running: HashSet<String> = HashSet::new();
            let mut s = pods
                .watch(&WatchParams::default().timeout(290), &rv)
                .await
                .unwrap()
                .boxed();
            while running.len() < pods_n {
                match s.try_next().await {
                    Ok(Some(WatchEvent::Added(p) | WatchEvent::Modified(p))) => {
                        if p.status.and_then(|s| s.phase).as_deref() == Some("Running") {
                            running.insert(p.metadata.name.unwrap_or_default());
                        }
                    }
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
            (running.len(), Instant::now())
        })
    };
    let t0 = Instant::now();
    let sem = Arc::new(Semaphore::new(64));
    let mut creates = vec![];
    for i in 0..pods_n {
        let pods = pods.clone();
        let sem = sem.clone();
        let queue = queue.clone();
        creates.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let pod: Pod = serde_json::from_value(json!({
                "metadata": {"name": format!("agent-{i}"), "labels": {"app": "ai-agent"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0",
                        "command": ["fleetctl", "agent"],
                        "args": ["--queue", queue, "--checkpoint-dir", "/checkpoints", "--metrics-addr", "0.0.0.0:8080", "--idle-exit", "0s"],
                        "ports": [{"name": "metrics", "containerPort": 8080}],
                        "env": [
                            {"name": "TASK_QUEUE_URL", "valueFrom": {"secretKeyRef": {"name": "agent-secrets", "key": "queue-url"}}},
                            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        "volumeMounts": [{"name": "checkpoints", "mountPath": "/checkpoints"}],
                    }],
                    "volumes": [{"name": "checkpoints", "persistentVolumeClaim": {"claimName": "agent-checkpoints"}}],
                }
            }))
            .unwrap();
            pods.create(&PostParams::default(), &pod).await.unwrap();
        }));
    }
    for c in creates {
        c.await.unwrap();
    }
    let created = t0.elapsed();
    let (running, at) = tokio::time::timeout(Duration::from_secs(600), watcher)
        .await
        .expect("every pod runs within 10 minutes")
        .unwrap();
    let elapsed = at.duration_since(t0);
    // Let the agents settle (connected, consuming) before measuring memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (agents, agents_mb) = children_rss_mb(state.to_str().unwrap());
    println!(
        "{:?}: {pods_n} pods on {nodes} nodes: created in {:.2} s, all Running after {:.2} s ({running} seen Running); RSS of the sim process {:.0} MB; {agents} agent processes, {:.0} MB RSS in total",
        kind,
        created.as_secs_f64(),
        elapsed.as_secs_f64(),
        rss_mb(),
        agents_mb,
    );
    let stop = Instant::now();
    sim.stop().await;
    println!("  stopped in {:.2} s", stop.elapsed().as_secs_f64());
    let _ = std::process::Command::new("rabbitmqctl")
        .args(["delete_queue", &queue])
        .output();
    let _ = std::process::Command::new("rabbitmqctl")
        .args(["delete_queue", &format!("{queue}.dlq")])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let which = std::env::var("SIM_BENCH_SCENARIO").unwrap_or_default();
    let env_n = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        if which.is_empty() || which == "inproc" {
            scenario(RuntimeKind::Inproc, env_n("SIM_BENCH_PODS", 10_000), 100).await;
        }
        if which.is_empty() || which == "process" {
            scenario(
                RuntimeKind::Process,
                env_n("SIM_BENCH_PROCESS_PODS", 100),
                3,
            )
            .await;
        }
    });
}
