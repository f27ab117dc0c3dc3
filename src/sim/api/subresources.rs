//! `pods/eviction` with PDB checks, `pods/proxy` to the pod's IP, and the `scale` subresource
//! (SPEC-k8s.md §3, §4, §5).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::Response;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use super::registry::ResourceType;
use super::request::{ApiState, ProxyTargets, Req, Resp, body_value, json_response};
use super::status::ApiError;
use super::store::{DeleteOptions, Part, timestamp};
use crate::fleet::selector::Selector;

/// The largest body pods/proxy passes through.
pub const MAX_PROXY_BODY: usize = 16 * 1024 * 1024;

/// A PDB's `spec.selector` as a label selector; an empty selector matches nothing in policy/v1
/// only when absent (null), everything when `{}`.
pub fn pdb_selector(sel: &Value) -> Option<Selector> {
    if sel.is_null() {
        return None;
    }
    Selector::from_json(sel).ok()
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn success_201() -> Resp {
    json_response(
        201,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    )
}

/// POST pods/{name}/eviction.
pub async fn evict(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    r: &Req,
) -> Result<Resp, ApiError> {
    // kube-rs sends {"delete_options": ..., "metadata": {"name": ...}} without apiVersion or
    // kind; kubectl sends a policy/v1 Eviction. Both are accepted.
    let body = if r.body.is_empty() {
        json!({})
    } else {
        body_value(r)?
    };
    if let Some(body_name) = body["metadata"]["name"].as_str()
        && !body_name.is_empty()
        && body_name != name
    {
        return Err(ApiError::bad_request(format!(
            "name in URL does not match name in Eviction object: {name} != {body_name}"
        )));
    }
    let opts_v = if body["deleteOptions"].is_object() {
        &body["deleteOptions"]
    } else {
        &body["delete_options"]
    };
    let opts = DeleteOptions {
        grace_period: opts_v["gracePeriodSeconds"]
            .as_i64()
            .or_else(|| opts_v["grace_period_seconds"].as_i64()),
        dry_run: r.query.dry_run()
            || opts_v["dryRun"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == "All")),
        ..Default::default()
    };
    let store = &state.store;
    let pod = store.get(rt, ns, name)?;
    let phase = pod["status"]["phase"].as_str().unwrap_or("Pending");
    let terminating = pod["metadata"].get("deletionTimestamp").is_some();
    if matches!(phase, "Pending" | "Succeeded" | "Failed") || terminating {
        store.delete(rt, ns, name, &opts)?;
        return Ok(success_201());
    }
    let reg = store.registry();
    let pdb_rt = reg
        .find("policy", "v1", "poddisruptionbudgets")
        .cloned()
        .expect("PDBs are built in");
    let page = store.list(
        &pdb_rt,
        Some(ns),
        &Selector::everything(),
        &Default::default(),
        None,
        None,
    )?;
    let matching: Vec<Value> = page
        .items
        .iter()
        .filter(|p| pdb_selector(&p["spec"]["selector"]).is_some_and(|s| s.matches_object(&pod)))
        .map(|p| (**p).clone())
        .collect();
    if matching.len() > 1 {
        return Err(ApiError::internal(
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        ));
    }
    if let Some(pdb) = matching.first() {
        let pdb_name = pdb["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let ready = is_ready(&pod);
        // The budget is checked and spent in one step under the store's lock, so evictions
        // running in parallel (`kubectl drain` evicts at once) never spend more than it allows.
        let at = timestamp(jiff::Timestamp::now());
        let pod_name = name.to_string();
        store.update(&pdb_rt, ns, &pdb_name, Part::Status, opts.dry_run, |old| {
            match pdb_verdict(&pdb_name, old, ready)? {
                // The same object: nothing is written.
                Verdict::Unhealthy => Ok(old.clone()),
                Verdict::Spend(allowed) => {
                    let mut n = old.clone();
                    n["status"]["disruptionsAllowed"] = json!(allowed - 1);
                    if !n["status"]["disruptedPods"].is_object() {
                        n["status"]["disruptedPods"] = json!({});
                    }
                    n["status"]["disruptedPods"][&pod_name] = json!(at);
                    Ok(n)
                }
            }
        })?;
    }
    if !opts.dry_run {
        let at = timestamp(jiff::Timestamp::now());
        store.update(rt, ns, name, Part::Status, false, |old| {
            let mut n = old.clone();
            let cond = json!({"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                              "message": "Eviction API: evicting", "lastProbeTime": null, "lastTransitionTime": at});
            let conds = n["status"]["conditions"].as_array().cloned().unwrap_or_default();
            let mut conds: Vec<Value> = conds.into_iter().filter(|c| c["type"] != "DisruptionTarget").collect();
            conds.push(cond);
            n["status"]["conditions"] = json!(conds);
            Ok(n)
        })?;
    }
    store.delete(rt, ns, name, &opts)?;
    Ok(success_201())
}

/// What a PDB says to evicting one of its pods.
enum Verdict {
    /// An unready pod of a budget that holds: evicted without spending the budget.
    Unhealthy,
    /// Evicted, spending one of the `allowed` disruptions.
    Spend(i64),
}

/// The PDB's answer from its status as it is now: 429 while it is unobserved or spent.
fn pdb_verdict(pdb_name: &str, pdb: &Value, pod_ready: bool) -> Result<Verdict, ApiError> {
    let st = &pdb["status"];
    let observed = st["observedGeneration"].as_i64().unwrap_or(0);
    let generation = pdb["metadata"]["generation"].as_i64().unwrap_or(1);
    if observed < generation {
        return Err(ApiError::too_many_requests(
            "Cannot evict pod as it would violate the pod's disruption budget.",
            json!({"causes": [{"reason": "DisruptionBudget", "message": format!("The disruption budget {pdb_name} is still being processed by the server.")}], "retryAfterSeconds": 10}),
        ));
    }
    let current = st["currentHealthy"].as_i64().unwrap_or(0);
    let desired = st["desiredHealthy"].as_i64().unwrap_or(0);
    let allowed = st["disruptionsAllowed"].as_i64().unwrap_or(0);
    if !pod_ready && current >= desired && desired > 0 {
        return Ok(Verdict::Unhealthy);
    }
    if allowed <= 0 {
        return Err(ApiError::too_many_requests(
            "Cannot evict pod as it would violate the pod's disruption budget.",
            json!({"causes": [{"reason": "DisruptionBudget", "message": format!("The disruption budget {pdb_name} needs {desired} healthy pods and has {current} currently")}]}),
        ));
    }
    Ok(Verdict::Spend(allowed))
}

/// POST pods/{name}/binding: the scheduler's choice of node. Sets `spec.nodeName` and
/// `PodScheduled=True` in one write, as kube-apiserver's binding storage does; a pod already
/// bound or being deleted is a 409.
pub fn bind(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    r: &Req,
) -> Result<Resp, ApiError> {
    let body = body_value(r)?;
    if let Some(body_name) = body["metadata"]["name"].as_str()
        && !body_name.is_empty()
        && body_name != name
    {
        return Err(ApiError::bad_request(format!(
            "name in URL does not match name in Binding object: {name} != {body_name}"
        )));
    }
    let node = body["target"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if node.is_empty() || body["target"]["kind"].as_str().is_some_and(|k| k != "Node") {
        return Err(ApiError::invalid(
            rt,
            name,
            format!(
                "Binding \"{name}\" is invalid: target: Invalid value: the target must name a Node"
            ),
            json!([{"reason": "FieldValueInvalid", "message": "the target must name a Node", "field": "target"}]),
        ));
    }
    let at = timestamp(jiff::Timestamp::now());
    let dry_run = r.query.dry_run();
    state
        .store
        .update(rt, ns, name, Part::All, dry_run, |old| {
            let conflict = |why: String| ApiError::conflict(rt, name).with_message(why);
            if old["metadata"].get("deletionTimestamp").is_some() {
                return Err(conflict(format!(
                    "Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is being deleted, cannot be assigned to a host"
                )));
            }
            if let Some(bound) = old["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
                return Err(conflict(format!(
                    "Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is already assigned to node \"{bound}\""
                )));
            }
            let mut n = old.clone();
            n["spec"]["nodeName"] = json!(node);
            let mut conds: Vec<Value> = n["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|c| c["type"] != "PodScheduled")
                .collect();
            conds.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": at}));
            n["status"]["conditions"] = json!(conds);
            Ok(n)
        })?;
    Ok(success_201())
}

/// Any method on pods/{name}[:port]/proxy/{path}: forwarded to the pod's IP.
pub async fn proxy(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name_port: &str,
    rest: &str,
    r: &Req,
) -> Result<Resp, ApiError> {
    let parts: Vec<&str> = name_port.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [n] => ("http", *n, None),
        [n, p] => ("http", *n, Some(*p)),
        [s, n, p] => (*s, *n, Some(*p)),
        _ => {
            return Err(ApiError::bad_request(format!(
                "invalid pod proxy name '{name_port}'"
            )));
        }
    };
    let pod = state.store.get(rt, ns, name)?;
    let ip_text = pod["status"]["podIP"].as_str().unwrap_or_default();
    if ip_text.is_empty() {
        return Err(ApiError::service_unavailable(format!(
            "error trying to reach service: pod {name} has no IP address"
        )));
    }
    let ip = proxy_target(state.proxy_to, name, ip_text)?;
    let port: String = match port.filter(|p| !p.is_empty()) {
        Some(p) if p.parse::<u16>().is_ok() => p.to_string(),
        Some(named) => pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
            .find(|p| p["name"] == named)
            .and_then(|p| p["containerPort"].as_u64())
            .map(|p| p.to_string())
            .ok_or_else(|| {
                ApiError::service_unavailable(format!(
                    "error trying to reach service: no port named {named}"
                ))
            })?,
        None => pod["spec"]["containers"][0]["ports"][0]["containerPort"]
            .as_u64()
            .unwrap_or(80)
            .to_string(),
    };
    let scheme = if scheme == "https" { "https" } else { "http" };
    let host = match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let mut url = format!("{scheme}://{host}:{port}/{rest}");
    if !r.raw_query.is_empty() {
        url.push('?');
        url.push_str(&r.raw_query);
    }
    let method =
        reqwest::Method::from_bytes(r.method.as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let resp = state
        .http
        .request(method, &url)
        .timeout(Duration::from_secs(10))
        .body(r.body.to_vec())
        .send()
        .await
        .map_err(|e| {
            ApiError::service_unavailable(format!("error trying to reach service: {}", short(&e)))
        })?;
    let code = resp.status().as_u16();
    let ct = resp.headers().get(reqwest::header::CONTENT_TYPE).cloned();
    let mut body = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        ApiError::service_unavailable(format!("error trying to reach service: {}", short(&e)))
    })? {
        if body.len() + chunk.len() > MAX_PROXY_BODY {
            return Err(ApiError::service_unavailable(format!(
                "error trying to reach service: response larger than {MAX_PROXY_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    if let Some(ct) = ct.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
        out.headers_mut().insert(CONTENT_TYPE, ct);
    }
    Ok(out)
}

/// The address pods/proxy may forward to for a pod whose `status.podIP` is `ip`: an IP
/// address (never a host name), and one of the sim's own pods (see [`ProxyTargets`]).
fn proxy_target(to: ProxyTargets, name: &str, ip: &str) -> Result<std::net::IpAddr, ApiError> {
    let refuse = |why: &str| {
        ApiError::service_unavailable(format!(
            "error trying to reach service: pod {name}'s IP {ip} {why}; pods/proxy only reaches the sim's own pods"
        ))
    };
    let addr: std::net::IpAddr = ip.parse().map_err(|_| refuse("is not an IP address"))?;
    let ok = match to {
        ProxyTargets::KubeletAssigned => {
            crate::sim::controllers::kubelet::ip::IpPool::global().is_allocated(addr)
        }
        ProxyTargets::Loopback => addr.is_loopback(),
    };
    if !ok {
        return Err(refuse(match to {
            ProxyTargets::KubeletAssigned => "was not assigned by the sim's kubelet",
            ProxyTargets::Loopback => "is not a loopback address",
        }));
    }
    Ok(addr)
}

fn short(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s = format!("{s}: {inner}");
        src = inner.source();
    }
    s
}

/// GET/PUT/PATCH {deployments,replicasets}/{name}/scale as an autoscaling/v1 Scale.
pub fn scale(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    r: &Req,
) -> Result<Resp, ApiError> {
    let to_scale = |o: &Value| {
        let sel = Selector::from_json(&o["spec"]["selector"])
            .map(|s| s.to_string())
            .unwrap_or_default();
        json!({
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": o["metadata"]["name"], "namespace": o["metadata"]["namespace"], "uid": o["metadata"]["uid"],
                         "resourceVersion": o["metadata"]["resourceVersion"], "creationTimestamp": o["metadata"]["creationTimestamp"]},
            "spec": {"replicas": o["spec"]["replicas"].as_i64().unwrap_or(0)},
            "status": {"replicas": o["status"]["replicas"].as_i64().unwrap_or(0), "selector": sel},
        })
    };
    match r.method {
        hyper::Method::GET => {
            let o = state.store.get(rt, ns, name)?;
            Ok(json_response(200, &to_scale(&o)))
        }
        hyper::Method::PUT | hyper::Method::PATCH => {
            let body = body_value(r)?;
            let replicas = body["spec"]["replicas"]
                .as_i64()
                .ok_or_else(|| ApiError::bad_request("spec.replicas is required"))?;
            if replicas < 0 {
                return Err(ApiError::invalid(
                    rt,
                    name,
                    format!(
                        "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
                    ),
                    json!([]),
                ));
            }
            let o = state
                .store
                .update(rt, ns, name, Part::Main, r.query.dry_run(), |old| {
                    let mut n = old.clone();
                    n["spec"]["replicas"] = json!(replicas);
                    Ok(n)
                })?;
            Ok(json_response(200, &to_scale(&o)))
        }
        _ => Err(ApiError::method_not_supported(rt, r.method.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdb_selectors() {
        let pod = json!({"metadata": {"labels": {"app": "ai-agent", "tier": "w"}}});
        assert!(
            pdb_selector(&json!({"matchLabels": {"app": "ai-agent"}}))
                .unwrap()
                .matches_object(&pod)
        );
        assert!(
            pdb_selector(
                &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["w"]}]})
            )
            .unwrap()
            .matches_object(&pod)
        );
        assert!(
            !pdb_selector(&json!({"matchLabels": {"app": "other"}}))
                .unwrap()
                .matches_object(&pod)
        );
        assert!(pdb_selector(&Value::Null).is_none());
        assert!(pdb_selector(&json!({})).unwrap().matches_object(&pod));
    }
}
