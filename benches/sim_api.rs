//! The local cluster's API under load: 10,000 pod creates through kube-rs (64 in flight) while
//! 4 watchers stream the pods over HTTPS; creates/s, event delivery lag (the store commits the
//! pod → a watcher has the ADDED event decoded; p50/p99 over every watcher and pod), and the
//! process RSS afterwards (server and clients share the process, so the RSS is an upper bound
//! for the server).
//!
//! `cargo bench --bench sim_api` (`SIM_BENCH_PODS` changes the count).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use serde_json::json;

use fleetctl::sim::runtime::{SimOptions, start};

fn rss_mb() -> f64 {
    fleetctl::agent::telemetry::resident_memory_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n: usize = std::env::var("SIM_BENCH_PODS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("fleetctl-bench-sim-{}", std::process::id()));
        let sim = start(SimOptions::new(dir.join("kubeconfig"))).await.unwrap();
        let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
            .await
            .unwrap();
        let pods: Api<Pod> = Api::namespaced(client.clone(), "agents");
        let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let rv = sim.store.current_rv().to_string();
        let mut watchers = vec![];
        for _ in 0..4 {
            let pods = pods.clone();
            let rv = rv.clone();
            watchers.push(tokio::spawn(async move {
                let mut got = Vec::with_capacity(n);
                let mut s = pods.watch(&WatchParams::default().timeout(290), &rv).await.unwrap().boxed();
                while got.len() < n {
                    match s.try_next().await {
                        Ok(Some(WatchEvent::Added(p))) => got.push((p.metadata.name.unwrap(), Instant::now())),
                        Ok(Some(_)) => {}
                        _ => break,
                    }
                }
                got
            }));
        }
        // The commit time of each pod, as the store announces it.
        let (_, mut commits) = sim.store.changes_since(sim.store.current_rv()).unwrap();
        let committed = sent.clone();
        let recorder = tokio::spawn(async move {
            let mut seen = 0;
            while seen < n {
                let Ok(c) = commits.recv().await else { break };
                if !c.name.is_empty() {
                    committed.lock().unwrap().insert(c.name.clone(), c.at);
                    seen += 1;
                }
            }
        });
        let started = Instant::now();
        futures::stream::iter(0..n)
            .map(|i| {
                let pods = pods.clone();
                async move {
                    let name = format!("bench-{i}");
                    let p: Pod = serde_json::from_value(json!({
                        "metadata": {"name": name, "labels": {"app": "ai-agent"}},
                        "spec": {"containers": [{"name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0",
                                 "resources": {"limits": {"memory": "2Gi"}, "requests": {"memory": "1Gi", "cpu": "250m"}}}]}
                    }))
                    .unwrap();
                    pods.create(&PostParams::default(), &p).await.unwrap();
                }
            })
            .buffer_unordered(64)
            .collect::<Vec<_>>()
            .await;
        let secs = started.elapsed().as_secs_f64();
        let _ = recorder.await;
        let mut lags = vec![];
        for w in watchers {
            let got = tokio::time::timeout(Duration::from_secs(120), w).await.unwrap().unwrap();
            let committed = sent.lock().unwrap();
            for (name, at) in got {
                if let Some(t) = committed.get(&name) {
                    lags.push(at.saturating_duration_since(*t).as_secs_f64() * 1000.0);
                }
            }
        }
        println!(
            "{n} pods in {secs:.2}s: {:.0} creates/s; watch lag over {} events: p50 {:.1} ms, p99 {:.1} ms; RSS {:.0} MB",
            n as f64 / secs,
            lags.len(),
            pct(&mut lags, 0.5),
            pct(&mut lags, 0.99),
            rss_mb()
        );
        sim.stop().await;
    });
}
