//! `--evict-on-pressure`: a node whose pods use more memory than it has evicts the pod using
//! the most above its request, and reports MemoryPressure.

use super::*;

/// Bytes of a memory quantity in a resource map.
pub(super) fn quantity_bytes(
    m: Option<
        &std::collections::BTreeMap<
            String,
            k8s_openapi::apimachinery::pkg::api::resource::Quantity,
        >,
    >,
    key: &str,
) -> Option<u64> {
    m.and_then(|m| m.get(key))
        .and_then(|q| crate::fleet::objects::parse_quantity_bytes(&q.0))
}

/// Evicts the pod using most memory above its request on each node whose pods use more than
/// the node has.
pub(super) async fn check_pressure(
    kl: &Arc<Kubelet>,
    workers: &HashMap<String, Handle>,
    pressured: &mut HashSet<String>,
) {
    let usage = kl.usage.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut by_node: HashMap<&str, Vec<(&String, &Usage)>> = HashMap::new();
    for (uid, u) in &usage {
        by_node.entry(u.node.as_str()).or_default().push((uid, u));
    }
    let capacity = kl.opts.node_memory_bytes + EVICTION_THRESHOLD;
    let mut now_pressured = HashSet::new();
    for (node, pods) in by_node {
        let used: u64 = pods.iter().map(|(_, u)| u.bytes).sum();
        if used <= kl.opts.node_memory_bytes {
            continue;
        }
        now_pressured.insert(node.to_string());
        let Some((uid, victim)) = pods
            .iter()
            .max_by_key(|(_, u)| u.bytes as i128 - u.request as i128)
        else {
            continue;
        };
        let available = capacity.saturating_sub(used);
        let message = format!(
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: {}Ki. Container {} was using {}Ki, request is {}, has larger consumption of memory. ",
            available / 1024,
            victim.container,
            victim.bytes / 1024,
            if victim.request == 0 {
                "0".to_string()
            } else {
                format!("{}Ki", victim.request / 1024)
            },
        );
        if let Some(h) = workers.get(*uid) {
            let _ = h.ctl.send(Control::Evict(message));
        }
        kl.usage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(*uid);
    }
    for node in kl.nodes.iter() {
        let was = pressured.contains(node);
        let is = now_pressured.contains(node);
        if was != is {
            set_memory_pressure(kl, node, is).await;
        }
    }
    *pressured = now_pressured;
}

async fn set_memory_pressure(kl: &Kubelet, node: &str, on: bool) {
    let api: Api<Node> = Api::all(kl.client.clone());
    let (status, reason, message) = if on {
        (
            "True",
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
        )
    } else {
        (
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        )
    };
    let now = status::ts(Timestamp::now());
    let patch = json!({"status": {"conditions": [{"type": "MemoryPressure", "status": status,
        "reason": reason, "message": message, "lastHeartbeatTime": now, "lastTransitionTime": now}]}});
    if let Err(e) = api
        .patch_status(node, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
    {
        warn!(node, error = %e, "node_status_not_updated");
    }
}
