//! The resource metrics API, `metrics.k8s.io/v1beta1`, as metrics-server serves it:
//! `PodMetrics` (namespaced, `pods`) and `NodeMetrics` (cluster-wide, `nodes`), get and list,
//! with label and field selectors. `kubectl top`, consoles, the HPA and the VPA read it.
//!
//! The numbers are the kubelet's samples ([`crate::sim::controllers::kubelet::usage`]), which
//! it publishes to a [`MetricsTable`] every 10 s; this module joins them with the Pod and Node
//! objects of the store (for labels and to drop pods that are gone). As with metrics-server, a
//! pod not sampled yet is absent from lists and answers NotFound on get. CPU is in nanocores
//! (`123456n`), memory in `Ki`; `timestamp` is the end of the sampling window, `window` its
//! length.
//!
//! `fleetctl sim --without-metrics-server` leaves the group out of the registry (and so out of
//! discovery and OpenAPI), like a cluster without metrics-server.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hyper::Method;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::registry::{ResourceType, Subresources};
use super::request::{ApiState, Req, Resp, Target, json_response, selectors};
use super::selector::FieldSelector;
use super::status::ApiError;
use super::store::timestamp;
use super::table;

pub const GROUP: &str = "metrics.k8s.io";
pub const VERSION: &str = "v1beta1";

/// The two kinds metrics-server serves.
pub fn types() -> Vec<ResourceType> {
    let t = |kind: &str, plural: &str, namespaced: bool| ResourceType {
        group: GROUP.into(),
        version: VERSION.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: String::new(),
        namespaced,
        short_names: vec![],
        categories: vec![],
        subresources: Subresources::default(),
        read_only: true,
        builtin: false,
        from_crd: false,
    };
    vec![
        t("NodeMetrics", "nodes", false),
        t("PodMetrics", "pods", true),
    ]
}

/// One container's usage over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerUsage {
    pub name: String,
    /// CPU as a rate, in nanocores (1e9 = one core).
    pub cpu_nanocores: u64,
    pub memory_bytes: u64,
}

/// One pod's sample.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSample {
    /// The pod the sample belongs to: a pod recreated under the same name is another pod.
    pub uid: String,
    pub timestamp: Timestamp,
    pub window: Duration,
    pub containers: Vec<ContainerUsage>,
}

/// One node's sample: the sum of its pods plus the node's own overhead.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSample {
    pub timestamp: Timestamp,
    pub window: Duration,
    pub cpu_nanocores: u64,
    pub memory_bytes: u64,
}

/// Everything sampled in one round.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// By (namespace, name).
    pub pods: HashMap<(String, String), PodSample>,
    pub nodes: HashMap<String, NodeSample>,
}

/// Where the kubelet publishes its samples and the API server reads them.
#[derive(Debug, Default)]
pub struct MetricsTable {
    now: RwLock<Arc<Snapshot>>,
}

impl MetricsTable {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    pub fn publish(&self, s: Snapshot) {
        *self.now.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(s);
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.now.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// CPU as metrics-server writes it.
pub fn cpu_quantity(nanocores: u64) -> String {
    format!("{nanocores}n")
}

/// Memory as metrics-server writes it, in Ki.
pub fn memory_quantity(bytes: u64) -> String {
    format!("{}Ki", bytes / 1024)
}

/// A window as Go's `time.Duration` prints it, to the millisecond: `10s`, `10.25s`.
pub fn window_string(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        let frac = format!("{:03}", ms % 1000);
        format!("{}.{}s", ms / 1000, frac.trim_end_matches('0'))
    }
}

/// The PodMetrics object of `pod` (a Pod from the store) and its sample.
pub fn pod_metrics(pod: &Value, s: &PodSample) -> Value {
    let m = &pod["metadata"];
    let containers: Vec<Value> = s
        .containers
        .iter()
        .map(|c| {
            json!({"name": c.name, "usage": {
                "cpu": cpu_quantity(c.cpu_nanocores),
                "memory": memory_quantity(c.memory_bytes),
            }})
        })
        .collect();
    json!({
        "kind": "PodMetrics",
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": {
            "name": m["name"],
            "namespace": m["namespace"],
            "creationTimestamp": timestamp(Timestamp::now()),
            "labels": m.get("labels").cloned().unwrap_or(json!({})),
        },
        "timestamp": timestamp(s.timestamp),
        "window": window_string(s.window),
        "containers": containers,
    })
}

/// The NodeMetrics object of `node` (a Node from the store) and its sample.
pub fn node_metrics(node: &Value, s: &NodeSample) -> Value {
    let m = &node["metadata"];
    json!({
        "kind": "NodeMetrics",
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": {
            "name": m["name"],
            "creationTimestamp": timestamp(Timestamp::now()),
            "labels": m.get("labels").cloned().unwrap_or(json!({})),
        },
        "timestamp": timestamp(s.timestamp),
        "window": window_string(s.window),
        "usage": {
            "cpu": cpu_quantity(s.cpu_nanocores),
            "memory": memory_quantity(s.memory_bytes),
        },
    })
}

fn not_found(rt: &ResourceType, name: &str) -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        format!("{}.{} \"{name}\" not found", rt.plural, rt.group),
        Some(json!({"name": name, "group": rt.group, "kind": rt.plural})),
    )
}

/// A request to `metrics.k8s.io`: get and list only (metrics-server serves no watch).
pub fn resource(state: &Arc<ApiState>, t: &Target, r: &Req) -> Result<Resp, ApiError> {
    let rt = &t.rt;
    if t.subresource.is_some() {
        return Err(ApiError::page_not_found(&r.path));
    }
    if r.method != Method::GET || r.query.flag("watch") {
        let verb = if r.query.flag("watch") {
            "watch"
        } else {
            r.method.as_str()
        };
        return Err(ApiError::method_not_supported(rt, verb));
    }
    let Some(metrics) = state.metrics.as_ref() else {
        return Err(ApiError::page_not_found(&r.path));
    };
    let snap = metrics.snapshot();
    let reg = state.store.registry();
    let pods = rt.plural == "pods";
    let source = if pods {
        reg.find("", "v1", "pods")
    } else {
        reg.find("", "v1", "nodes")
    }
    .cloned()
    .ok_or_else(|| ApiError::internal("the core types are not registered"))?;
    let to_metrics = |obj: &Value| -> Option<Value> {
        let m = &obj["metadata"];
        let name = m["name"].as_str().unwrap_or_default();
        if pods {
            let key = (
                m["namespace"].as_str().unwrap_or_default().to_string(),
                name.to_string(),
            );
            snap.pods
                .get(&key)
                .filter(|s| m["uid"].as_str() == Some(s.uid.as_str()))
                .map(|s| pod_metrics(obj, s))
        } else {
            snap.nodes.get(name).map(|s| node_metrics(obj, s))
        }
    };
    if let Some(name) = t.name.as_deref() {
        let ns = t.namespace.as_deref().unwrap_or_default();
        let obj = state
            .store
            .get(&source, ns, name)
            .map_err(|_| not_found(rt, name))?;
        let item = to_metrics(&obj).ok_or_else(|| not_found(rt, name))?;
        if table::wants_table(&r.accept) {
            return Ok(table_response(rt, &[item], r));
        }
        return Ok(json_response(200, &item));
    }
    let (labels, fields) = selectors(r)?;
    let page = state.store.list(
        &source,
        t.namespace.as_deref(),
        &labels,
        &FieldSelector::default(),
        None,
        None,
    )?;
    let items: Vec<Value> = page
        .items
        .iter()
        .filter_map(|o| to_metrics(o))
        .filter(|m| fields.matches(m))
        .collect();
    if table::wants_table(&r.accept) {
        return Ok(table_response(rt, &items, r));
    }
    Ok(json_response(
        200,
        &json!({
            "kind": rt.list_kind(),
            "apiVersion": rt.api_version(),
            "metadata": {},
            "items": items,
        }),
    ))
}

/// The Table metrics-server prints: Name, CPU, Memory, Window (a pod's containers summed).
fn table_response(rt: &ResourceType, items: &[Value], r: &Req) -> Resp {
    let rows: Vec<Value> = items
        .iter()
        .map(|m| {
            let (cpu, mem) = if rt.plural == "pods" {
                m["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .fold((0u64, 0u64), |(c, b), x| {
                        (
                            c + parse_suffixed(&x["usage"]["cpu"], "n"),
                            b + parse_suffixed(&x["usage"]["memory"], "Ki"),
                        )
                    })
            } else {
                (
                    parse_suffixed(&m["usage"]["cpu"], "n"),
                    parse_suffixed(&m["usage"]["memory"], "Ki"),
                )
            };
            let mut row = m.clone();
            row["cpu"] = json!(cpu_quantity(cpu));
            row["memory"] = json!(format!("{mem}Ki"));
            row
        })
        .collect();
    let cols = [
        json!({"name": "CPU", "type": "string", "jsonPath": ".cpu"}),
        json!({"name": "Memory", "type": "string", "jsonPath": ".memory"}),
        json!({"name": "Window", "type": "string", "jsonPath": ".window"}),
    ];
    let table = table::to_table_with_columns(
        rt,
        &cols,
        &rows,
        json!({}),
        Timestamp::now(),
        table::IncludeObject::from_query(r.query.get("includeObject")),
        table::table_version(&r.accept),
    );
    json_response(200, &table)
}

fn parse_suffixed(v: &Value, suffix: &str) -> u64 {
    v.as_str()
        .and_then(|s| s.strip_suffix(suffix))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_windows() {
        assert_eq!(cpu_quantity(1_500_000), "1500000n");
        assert_eq!(memory_quantity(200 << 20), "204800Ki");
        assert_eq!(window_string(Duration::from_secs(10)), "10s");
        assert_eq!(window_string(Duration::from_millis(10_250)), "10.25s");
        assert_eq!(window_string(Duration::from_millis(9_007)), "9.007s");
    }

    #[test]
    fn objects_carry_labels_and_usage() {
        let pod = json!({"metadata": {"name": "p", "namespace": "agents", "uid": "u",
                                      "labels": {"app": "ai-agent"}}});
        let s = PodSample {
            uid: "u".into(),
            timestamp: Timestamp::UNIX_EPOCH,
            window: Duration::from_secs(10),
            containers: vec![ContainerUsage {
                name: "agent".into(),
                cpu_nanocores: 2_000_000,
                memory_bytes: 10 << 20,
            }],
        };
        let m = pod_metrics(&pod, &s);
        assert_eq!(m["metadata"]["labels"]["app"], "ai-agent");
        assert_eq!(m["containers"][0]["usage"]["cpu"], "2000000n");
        assert_eq!(m["containers"][0]["usage"]["memory"], "10240Ki");
        assert_eq!(m["window"], "10s");
        assert_eq!(m["timestamp"], "1970-01-01T00:00:00Z");
    }
}
