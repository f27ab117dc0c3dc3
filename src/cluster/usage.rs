//! Resource usage from the resource metrics API (`metrics.k8s.io/v1beta1`, served by
//! metrics-server, and by the local cluster): one `PodMetrics` list of the namespace per
//! reading, never a request per pod. [`spawn`] reads every [`EVERY`] (metrics-server itself
//! samples every 10-15 s) and sends each [`UsageReading`] on a channel.
//!
//! A cluster without metrics-server answers 404 for the group: that is
//! [`UsageReading::NotServed`], shown once as a degraded note, never as made-up zeros.

use std::time::Duration;

use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::fleet::objects::parse_quantity;
use crate::fleet::usage::{PodUsage, UsageReading};

/// How often [`spawn`] lists PodMetrics.
pub const EVERY: Duration = crate::fleet::usage::READ_EVERY;

fn pod_metrics() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("metrics.k8s.io", "v1beta1", "PodMetrics"),
        "pods",
    )
}

/// One PodMetrics object as fleetctl uses it; None when it has no name.
pub fn parse_pod_metrics(v: &Value) -> Option<PodUsage> {
    let m = &v["metadata"];
    let name = m["name"].as_str()?.to_string();
    let mut cpu = 0.0;
    let mut mem = 0.0;
    for c in v["containers"].as_array().into_iter().flatten() {
        cpu += c["usage"]["cpu"]
            .as_str()
            .and_then(parse_quantity)
            .unwrap_or(0.0);
        mem += c["usage"]["memory"]
            .as_str()
            .and_then(parse_quantity)
            .unwrap_or(0.0);
    }
    let window = v["window"]
        .as_str()
        .and_then(|w| w.strip_suffix('s'))
        .and_then(|w| w.parse::<f64>().ok());
    Some(PodUsage::new(
        m["namespace"].as_str().unwrap_or_default(),
        &name,
        cpu * 1000.0,
        mem.max(0.0) as u64,
        window,
    ))
}

/// One list of the PodMetrics of `namespace` (all namespaces when None).
pub async fn read(client: &kube::Client, namespace: Option<&str>) -> UsageReading {
    let ar = pod_metrics();
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    match api.list(&ListParams::default()).await {
        Ok(list) => UsageReading::served(
            list.items
                .iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .filter_map(|v| parse_pod_metrics(&v)),
        ),
        Err(kube::Error::Api(e)) if e.code == 404 => UsageReading::NotServed,
        Err(kube::Error::Api(e)) if e.code == 403 => UsageReading::Failed(format!(
            "forbidden to list pods.metrics.k8s.io: {}",
            e.message
        )),
        Err(e) => UsageReading::Failed(e.to_string()),
    }
}

/// Reads now and every [`EVERY`] until the receiver is dropped.
pub fn spawn(
    client: kube::Client,
    namespace: Option<String>,
    tx: mpsc::Sender<UsageReading>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let r = read(&client, namespace.as_deref()).await;
            if tx.send(r).await.is_err() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sums_containers() {
        let v = json!({"metadata": {"name": "p", "namespace": "agents"}, "window": "10.5s",
        "containers": [
            {"name": "a", "usage": {"cpu": "1500000n", "memory": "1024Ki"}},
            {"name": "b", "usage": {"cpu": "2m", "memory": "1Mi"}},
        ]});
        let p = parse_pod_metrics(&v).unwrap();
        assert!(
            (p.cpu_millicores - 3.5).abs() < 1e-9,
            "{}",
            p.cpu_millicores
        );
        assert_eq!(p.memory_bytes, 2 << 20);
        assert_eq!(p.window_seconds, Some(10.5));
        assert!(parse_pod_metrics(&json!({})).is_none());
    }
}
