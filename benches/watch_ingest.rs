//! Model ingest against the local cluster: the same path `fleetctl status --watch` and the
//! console take. 10,000 agent pods exist; the watchers (kube-runtime, all seven kinds, over
//! HTTPS) list them, then 100,000 pod status updates stream through watch → slim object →
//! `FleetDelta` → `Model::apply`.
//!
//! Prints the initial list time, end-to-end deltas/s over the updates (the writer commits
//! straight into the store and keeps at most 20,000 updates ahead of the model, so the watch
//! never lags out), and the process RSS before the watchers start, once they have listed (the
//! difference is the watchers' and the model's share) and at the end (which adds the sim's
//! change history of full objects).
//!
//! `cargo bench --bench watch_ingest` (`INGEST_PODS`, `INGEST_UPDATES` change the sizes).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::json;
use tokio::sync::mpsc;

use fleetctl::cluster::watch::{self, WatchSpec};
use fleetctl::fleet::delta::FleetDelta;
use fleetctl::fleet::model::Model;
use fleetctl::fleet::objects::{Labels, ObjectKind};
use fleetctl::fleet::selector::Selector;
use fleetctl::sim::api::store::Part;
use fleetctl::sim::runtime::{SimOptions, start};

const NS: &str = "agents";

fn rss_mb() -> f64 {
    fleetctl::agent::telemetry::resident_memory_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pod(i: usize, restarts: usize) -> serde_json::Value {
    let job = format!("ai-agent-{}", i / 10);
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{job}-{i}"), "namespace": NS,
            "labels": {"app": "ai-agent", "scaledjob.keda.sh/name": "ai-agent",
                       "batch.kubernetes.io/job-name": job, "job-name": job},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}},
        "spec": {"nodeName": format!("sim-node-{}", i % 3),
            "containers": [{"name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0",
                "resources": {"limits": {"memory": "2Gi"}, "requests": {"memory": "1Gi", "cpu": "250m"}}}]},
        "status": {"phase": "Running", "podIP": format!("127.1.{}.{}", i / 250, i % 250 + 1),
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "agent", "ready": true, "restartCount": restarts,
                "image": "ghcr.io/fleetctl/agent:0.1.0", "imageID": "", "state": {"running": {}}}]}
    })
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pods = env("INGEST_PODS", 10_000);
    let updates = env("INGEST_UPDATES", 100_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("fleetctl-bench-ingest-{}", std::process::id()));
        let sim = start(SimOptions::new(dir.join("kubeconfig"))).await.unwrap();
        let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
            .await
            .unwrap();
        let store = sim.store.clone();
        let reg = store.registry();
        let rt_pods = reg.find("", "v1", "pods").unwrap().clone();
        for i in 0..pods {
            store.create(&rt_pods, NS, pod(i, 0), false, |v| Ok(v.clone())).unwrap();
        }
        let rss_before = rss_mb();

        let spec = WatchSpec::all(
        NS,
        Selector::from_labels(Labels::from([("app".into(), "ai-agent".into())])),
    );
        let (tx, mut rx) = mpsc::channel(8192);
        let started = Instant::now();
        let _watchers = watch::spawn(client.clone(), &spec, tx);
        let applied = Arc::new(AtomicUsize::new(0));
        let seen = applied.clone();
        let (listed_tx, listed_rx) = tokio::sync::oneshot::channel();
        let consumer = tokio::spawn(async move {
            let mut model = Model::with_selector(NS, spec.selector.clone());
            let mut listed = Some(listed_tx);
            let mut relists = 0usize;
            while let Some(d) = rx.recv().await {
                let pod_list = matches!(&d, FleetDelta::Resync { kind: ObjectKind::Pod, .. });
                let upsert = matches!(d, FleetDelta::Upsert(_));
                model.apply(d, Timestamp::now());
                if pod_list {
                    match listed.take() {
                        Some(l) => drop(l.send(model.pods().len())),
                        None => relists += 1,
                    }
                }
                if upsert && seen.fetch_add(1, Ordering::Relaxed) + 1 == updates {
                    break;
                }
            }
            (model, relists)
        });
        let listed = listed_rx.await.unwrap();
        let list_secs = started.elapsed().as_secs_f64();
        assert_eq!(listed, pods);
        let rss_listed = rss_mb();

        let t = Instant::now();
        for u in 0..updates {
            while u - applied.load(Ordering::Relaxed) > 20_000 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let i = u % pods;
            let name = format!("ai-agent-{}-{i}", i / 10);
            let restarts = u / pods + 1;
            store
                .update(&rt_pods, NS, &name, Part::Status, false, |_| Ok(pod(i, restarts)))
                .unwrap();
        }
        let (model, relists) = tokio::time::timeout(Duration::from_secs(600), consumer)
            .await
            .expect("the model saw every update")
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        let restarts: u64 = model.pods().values().map(|p| u64::from(p.restarts)).sum();
        assert_eq!(model.pods().len(), pods);
        let expected: u64 = (0..pods)
            .filter(|&i| i < updates)
            .map(|i| ((updates - 1 - i) / pods + 1) as u64)
            .sum();
        assert_eq!(restarts, expected, "the model holds every pod's last update");
        println!(
            "{pods} pods listed in {list_secs:.2}s; {updates} watch updates in {secs:.2}s: {:.0} deltas/s end to end \
             ({relists} re-lists); restarts summed {restarts}; RSS {rss_before:.0} MB before the watchers, {rss_listed:.0} MB once listed, {:.0} MB at the end",
            updates as f64 / secs,
            rss_mb()
        );
        sim.stop().await;
        let _ = std::fs::remove_dir_all(dir);
    });
}
