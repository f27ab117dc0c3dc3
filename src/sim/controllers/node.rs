//! The simulated nodes: `sim-node-1` … `sim-node-N`, each with the configured allocatable CPU
//! and memory, 110 pods, and a Ready condition, created at start (and recreated if deleted) as
//! a kubelet registers its node. The capacity adds the kubelet's eviction threshold to the
//! allocatable memory, as on a real node.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tracing::warn;

use super::Ctx;
use super::kubelet::{EVICTION_THRESHOLD, node_names, status::ts};

/// Pods per node (the kubelet's `--max-pods` default).
pub const MAX_PODS: u32 = 110;

/// A CPU quantity from millicores: `8`, `500m`.
pub fn cpu_quantity(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// A memory quantity in Ki, as the kubelet reports it.
pub fn memory_quantity(bytes: u64) -> String {
    format!("{}Ki", bytes / 1024)
}

/// The Node object of `name`.
pub fn node_object(name: &str, cpu_millis: u64, memory: u64, now: Timestamp) -> Value {
    let t = ts(now);
    let cond = |ty: &str, status: &str, reason: &str, message: &str| {
        json!({"type": ty, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": t, "lastTransitionTime": t})
    };
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": std::env::consts::ARCH.replace("x86_64", "amd64").replace("aarch64", "arm64"),
            "node.kubernetes.io/instance-type": "fleetctl-sim",
        }},
        "spec": {},
        "status": {
            "capacity": {"cpu": cpu_quantity(cpu_millis), "memory": memory_quantity(memory + EVICTION_THRESHOLD), "pods": MAX_PODS.to_string()},
            "allocatable": {"cpu": cpu_quantity(cpu_millis), "memory": memory_quantity(memory), "pods": MAX_PODS.to_string()},
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "", "systemUUID": "", "bootID": "",
                "kernelVersion": "", "osImage": "fleetctl sim",
                "containerRuntimeVersion": format!("fleetctl://{}", env!("CARGO_PKG_VERSION")),
                "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0",
                "operatingSystem": "linux", "architecture": std::env::consts::ARCH.replace("x86_64", "amd64").replace("aarch64", "arm64"),
            },
        },
    })
}

/// Registers the nodes, then checks every 10 s that they are still there.
pub async fn run(ctx: Ctx) {
    let api: Api<Node> = Api::all(ctx.client.clone());
    let names = node_names(ctx.opts.nodes);
    loop {
        for name in &names {
            if let Err(e) = ensure(&api, name, &ctx).await {
                warn!(node = %name, error = %e, "node_not_registered");
            }
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

async fn ensure(api: &Api<Node>, name: &str, ctx: &Ctx) -> Result<(), kube::Error> {
    if api.get_opt(name).await?.is_some() {
        return Ok(());
    }
    let obj = node_object(
        name,
        ctx.opts.node_cpu_millis,
        ctx.opts.node_memory_bytes,
        Timestamp::now(),
    );
    let node: Node = serde_json::from_value(obj.clone()).map_err(kube::Error::SerdeError)?;
    match api.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => return Ok(()),
        Err(e) => return Err(e),
    }
    let status = json!({"status": obj["status"]});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_shape() {
        assert_eq!(cpu_quantity(8000), "8");
        assert_eq!(cpu_quantity(1500), "1500m");
        assert_eq!(memory_quantity(32 << 30), "33554432Ki");
        let n = node_object("sim-node-1", 8000, 32 << 30, Timestamp::UNIX_EPOCH);
        assert_eq!(n["status"]["allocatable"]["memory"], "33554432Ki");
        assert_eq!(n["status"]["capacity"]["memory"], "33656832Ki");
        assert_eq!(n["status"]["allocatable"]["pods"], "110");
        let ready = n["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "True");
        assert_eq!(ready["reason"], "KubeletReady");
        let _: Node = serde_json::from_value(n).unwrap();
    }
}
