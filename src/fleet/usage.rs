//! CPU and memory per fleet from the resource metrics API (read by `cluster::usage`): plain
//! data and pure folding, so that `status` and the console show the same numbers.

use std::collections::BTreeMap;

use serde::Serialize;

use super::objects::AgentPod;

/// One pod's usage over the API's window, its containers summed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodUsage {
    pub namespace: String,
    pub name: String,
    pub cpu_millicores: f64,
    pub memory_bytes: u64,
    pub window_seconds: Option<f64>,
}

/// One reading of the API.
#[derive(Debug, Clone, PartialEq)]
pub enum UsageReading {
    /// By `namespace/name`; a pod not sampled yet is absent.
    Served(BTreeMap<String, PodUsage>),
    /// The cluster does not serve `metrics.k8s.io` (no metrics-server).
    NotServed,
    /// The list failed for another reason.
    Failed(String),
}

/// What is said, once, when the API is not served.
pub const NOT_SERVED: &str = "metrics.k8s.io is not served (no metrics-server in the cluster): \
     CPU and MEM are unknown; memory comes from the agents' agent_resident_memory_bytes";

impl UsageReading {
    /// The pods' usage when the API answered.
    pub fn pods(&self) -> Option<&BTreeMap<String, PodUsage>> {
        match self {
            UsageReading::Served(p) => Some(p),
            _ => None,
        }
    }

    /// Why there are no numbers, when there are none.
    pub fn note(&self) -> Option<String> {
        match self {
            UsageReading::Served(_) => None,
            UsageReading::NotServed => Some(NOT_SERVED.to_string()),
            UsageReading::Failed(e) => Some(format!("metrics.k8s.io: {e}")),
        }
    }
}

/// A pod's use of one resource against its limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgainstLimit {
    pub pod: String,
    pub used: f64,
    pub limit: f64,
    /// used / limit.
    pub used_ratio: f64,
}

/// A fleet's usage: sums over its measured pods, and the pod nearest its limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetUsage {
    pub cpu_millicores: f64,
    pub memory_bytes: u64,
    /// Pods of the fleet with a sample (the others are not sampled yet or not running).
    pub pods_measured: usize,
    /// The pod using the most CPU relative to its CPU limit (millicores).
    pub worst_cpu: Option<AgainstLimit>,
    /// The pod using the most memory relative to its memory limit (bytes).
    pub worst_memory: Option<AgainstLimit>,
}

fn worse(cur: &mut Option<AgainstLimit>, pod: &str, used: f64, limit: Option<f64>) {
    let Some(limit) = limit.filter(|l| *l > 0.0) else {
        return;
    };
    let ratio = used / limit;
    if cur.as_ref().is_none_or(|c| ratio > c.used_ratio) {
        *cur = Some(AgainstLimit {
            pod: pod.to_string(),
            used,
            limit,
            used_ratio: ratio,
        });
    }
}

/// The usage of `pods` (one fleet's) in `usage`.
pub fn fleet_usage<'a>(
    pods: impl Iterator<Item = &'a AgentPod>,
    usage: &BTreeMap<String, PodUsage>,
) -> FleetUsage {
    let mut f = FleetUsage {
        cpu_millicores: 0.0,
        memory_bytes: 0,
        pods_measured: 0,
        worst_cpu: None,
        worst_memory: None,
    };
    for p in pods {
        let Some(u) = usage.get(&format!("{}/{}", p.namespace, p.name)) else {
            continue;
        };
        f.pods_measured += 1;
        f.cpu_millicores += u.cpu_millicores;
        f.memory_bytes += u.memory_bytes;
        worse(
            &mut f.worst_cpu,
            &p.name,
            u.cpu_millicores,
            p.cpu_limit_millis.map(|l| l as f64),
        );
        worse(
            &mut f.worst_memory,
            &p.name,
            u.memory_bytes as f64,
            p.memory_limit_bytes.map(|l| l as f64),
        );
    }
    f
}

/// `12m`, `1.5` (cores) as kubectl top writes CPU.
pub fn cpu_text(millicores: f64) -> String {
    if millicores >= 1000.0 {
        format!("{:.1}", millicores / 1000.0)
    } else {
        format!("{}m", millicores.ceil() as u64)
    }
}

/// `200Mi`, `1.5Gi`.
pub fn memory_text(bytes: u64) -> String {
    let mi = bytes as f64 / (1 << 20) as f64;
    if mi >= 1024.0 {
        format!("{:.1}Gi", mi / 1024.0)
    } else {
        format!("{}Mi", mi.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, cpu_limit: Option<u64>, mem_limit: Option<u64>) -> AgentPod {
        AgentPod {
            name: name.into(),
            namespace: "agents".into(),
            cpu_limit_millis: cpu_limit,
            memory_limit_bytes: mem_limit,
            ..Default::default()
        }
    }

    fn u(name: &str, cpu: f64, mem: u64) -> (String, PodUsage) {
        (
            format!("agents/{name}"),
            PodUsage {
                namespace: "agents".into(),
                name: name.into(),
                cpu_millicores: cpu,
                memory_bytes: mem,
                window_seconds: Some(10.0),
            },
        )
    }

    #[test]
    fn sums_and_the_worst_pod_against_its_limit() {
        let pods = [
            pod("a", Some(1000), Some(1 << 30)),
            pod("b", Some(100), None),
            pod("c", None, Some(100 << 20)),
            pod("unsampled", Some(10), Some(1)),
        ];
        let usage: BTreeMap<_, _> = [
            u("a", 500.0, 512 << 20),
            u("b", 90.0, 10 << 20),
            u("c", 5.0, 90 << 20),
        ]
        .into_iter()
        .collect();
        let f = fleet_usage(pods.iter(), &usage);
        assert_eq!(f.pods_measured, 3);
        assert!((f.cpu_millicores - 595.0).abs() < 1e-9);
        assert_eq!(f.memory_bytes, (512 + 10 + 90) << 20);
        let c = f.worst_cpu.unwrap();
        assert_eq!((c.pod.as_str(), c.used_ratio), ("b", 0.9));
        let m = f.worst_memory.unwrap();
        assert_eq!(m.pod, "c");
        assert!((m.used_ratio - 0.9).abs() < 1e-9);
    }

    #[test]
    fn texts_and_notes() {
        assert_eq!(cpu_text(0.2), "1m");
        assert_eq!(cpu_text(1500.0), "1.5");
        assert_eq!(memory_text(200 << 20), "200Mi");
        assert_eq!(memory_text(3 << 29), "1.5Gi");
        assert!(
            UsageReading::NotServed
                .note()
                .unwrap()
                .contains("metrics-server")
        );
        assert!(UsageReading::Served(BTreeMap::new()).note().is_none());
    }
}
