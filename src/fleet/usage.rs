//! CPU and memory per fleet from the resource metrics API (read by `cluster::usage`): plain
//! data and pure folding, so that `status` and the console show the same numbers.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::objects::AgentPod;
use super::status::MemoryHeadroom;

/// How often the API is read (`cluster::usage::spawn`); metrics-server itself samples every
/// 10-15 s. A reading older than [`STALE_AFTER`] is shown as stale, with its age.
pub const READ_EVERY: Duration = Duration::from_secs(15);
/// Two reading periods.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// One pod's usage over the API's window, its containers summed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodUsage {
    pub namespace: String,
    pub name: String,
    pub cpu_millicores: f64,
    pub memory_bytes: u64,
    pub window_seconds: Option<f64>,
}

impl PodUsage {
    /// A sample of `namespace/name` over `window_seconds`.
    pub fn new(
        namespace: &str,
        name: &str,
        cpu_millicores: f64,
        memory_bytes: u64,
        window_seconds: Option<f64>,
    ) -> Self {
        PodUsage {
            namespace: namespace.into(),
            name: name.into(),
            cpu_millicores,
            memory_bytes,
            window_seconds,
        }
    }

    /// Where [`UsageReading::Served`] files it: `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
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
    /// The API answered with `pods`, each filed under its [`PodUsage::key`].
    pub fn served(pods: impl IntoIterator<Item = PodUsage>) -> Self {
        UsageReading::Served(pods.into_iter().map(|p| (p.key(), p)).collect())
    }

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

/// What a pod's use of a resource is held against: its limit, else its request.
pub fn cpu_against(p: &AgentPod) -> Option<f64> {
    p.cpu_limit_millis
        .or(p.cpu_request_millis)
        .map(|m| m as f64)
}

/// See [`cpu_against`].
pub fn memory_against(p: &AgentPod) -> Option<u64> {
    p.memory_limit_bytes.or(p.memory_request_bytes)
}

/// Which resource a cell is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Cpu,
    Memory,
}

impl FleetUsage {
    /// `595m 90%`: the fleet's sum, and its worst pod's use of its limit when pods have
    /// limits; `-` when no pod of the fleet was measured.
    pub fn cell(&self, r: Resource) -> String {
        if self.pods_measured == 0 {
            return "-".into();
        }
        let (sum, worst) = match r {
            Resource::Cpu => (cpu_text(self.cpu_millicores), &self.worst_cpu),
            Resource::Memory => (memory_text(self.memory_bytes), &self.worst_memory),
        };
        match worst {
            Some(w) => format!("{sum} {}", percent(w.used_ratio)),
            None => sum,
        }
    }
}

/// A fleet's CPU cell (`status` and the console): [`FleetUsage::cell`], `-` without usage.
pub fn fleet_cpu_cell(usage: Option<&FleetUsage>) -> String {
    usage.map_or_else(|| "-".into(), |u| u.cell(Resource::Cpu))
}

/// A fleet's MEM cell (`status` and the console): [`FleetUsage::cell`] when the API was read;
/// without it, the agents' own `agent_resident_memory_bytes` of the pod nearest its limit
/// (`39%`); else `-`.
pub fn fleet_memory_cell(usage: Option<&FleetUsage>, scraped: Option<&MemoryHeadroom>) -> String {
    match (usage, scraped) {
        (Some(u), _) => u.cell(Resource::Memory),
        (None, Some(h)) => percent(h.used_ratio),
        (None, None) => "-".into(),
    }
}

/// `96%`.
pub fn percent(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{:.0}%", (ratio * 100.0).max(0.0))
    } else {
        "?".into()
    }
}

/// `used` next to its share of `against`, the percentage right-aligned: `480m  96%`,
/// `200Mi  39%`; the use alone without a limit or request; `-` when not sampled.
fn pod_cell(used: Option<(String, f64)>, against: Option<f64>, width: usize) -> String {
    match (used, against.filter(|a| *a > 0.0)) {
        (None, _) => "-".into(),
        (Some((text, _)), None) => text,
        (Some((text, v)), Some(a)) => format!("{text:<width$}{:>5}", percent(v / a)),
    }
}

/// A pod's CPU cell: `480m  96%` of its limit (or request).
pub fn pod_cpu_cell(used_millicores: Option<f64>, against: Option<f64>) -> String {
    pod_cell(used_millicores.map(|c| (cpu_text(c), c)), against, 4)
}

/// A pod's MEM cell: `200Mi  39%` of its limit (or request).
pub fn pod_memory_cell(used_bytes: Option<u64>, against: Option<u64>) -> String {
    pod_cell(
        used_bytes.map(|b| (memory_text(b), b as f64)),
        against.map(|a| a as f64),
        5,
    )
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
        let p = PodUsage::new("agents", name, cpu, mem, Some(10.0));
        (p.key(), p)
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
    fn cells_of_pods_and_fleets() {
        assert_eq!(pod_cpu_cell(Some(480.0), Some(500.0)), "480m  96%");
        assert_eq!(
            pod_memory_cell(Some(200 << 20), Some(512 << 20)),
            "200Mi  39%"
        );
        assert_eq!(
            pod_cpu_cell(Some(35.0), None),
            "35m",
            "no limit: the use alone"
        );
        assert_eq!(pod_cpu_cell(None, Some(500.0)), "-", "not sampled");
        assert_eq!(pod_memory_cell(Some(1 << 20), Some(0)), "1Mi");
        let mut p = pod("p", None, None);
        p.cpu_request_millis = Some(250);
        p.memory_request_bytes = Some(1 << 30);
        assert_eq!(
            (cpu_against(&p), memory_against(&p)),
            (Some(250.0), Some(1 << 30))
        );
        p.cpu_limit_millis = Some(500);
        assert_eq!(cpu_against(&p), Some(500.0), "the limit first");
        let usage: BTreeMap<_, _> = [u("a", 900.0, 600 << 20)].into_iter().collect();
        let f = fleet_usage([pod("a", Some(1000), Some(1 << 30))].iter(), &usage);
        assert_eq!(fleet_cpu_cell(Some(&f)), "900m 90%");
        assert_eq!(fleet_memory_cell(Some(&f), None), "600Mi 59%");
        let none = fleet_usage(std::iter::empty(), &usage);
        assert_eq!(fleet_cpu_cell(Some(&none)), "-");
        assert_eq!(fleet_cpu_cell(None), "-");
        let h = MemoryHeadroom {
            pod: "a".into(),
            rss_bytes: 400,
            limit_bytes: 1000,
            headroom_bytes: 600,
            used_ratio: 0.4,
            stale: false,
        };
        assert_eq!(fleet_memory_cell(None, Some(&h)), "40%", "the agents' RSS");
        assert_eq!(fleet_memory_cell(None, None), "-");
        assert_eq!(percent(f64::NAN), "?");
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
