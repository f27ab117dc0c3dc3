//! Resource usage of running containers, sampled every 10 s (metrics-server's resolution) and
//! published to the [`MetricsTable`] that `metrics.k8s.io` serves.
//!
//! - Process runtime: CPU is the time the agent process's threads ran, to the nanosecond, from
//!   `/proc/<pid>/task/<tid>/schedstat` (a thread that exited keeps the time last read of it),
//!   and never less than `utime + stime` of `/proc/<pid>/stat` (all threads, exited ones
//!   included, but in 10 ms clock ticks: too coarse alone for an idle agent over 10 s). Memory
//!   is its resident set (`rss` from the same stat read). A few small file reads per container
//!   per round.
//! - In-process runtime: CPU is the thread CPU time (`CLOCK_THREAD_CPUTIME_ID`) spent inside
//!   polls of the agent's task and of the tasks it spawns to work deliveries
//!   ([`crate::agent::cpu`]). That is real CPU the agent's code used on a runtime thread,
//!   measured at the only place the sim can tell agents apart; wall time per poll would also
//!   count time the thread was preempted, and a per-agent count of work done would need a cost
//!   per unit that nobody measured. Not counted: the agent's helper tasks (its `/metrics`
//!   server, the state-file writer, blocking file writes) and the shared broker connection's
//!   I/O thread; those are part of the sim process. Memory is the agent's
//!   accounted memory: what its tasks hold on purpose (`memory_mb`) plus
//!   [`INPROC_AGENT_BYTES`], the heap an idle in-process agent was measured to cost (its tokio
//!   tasks, metrics registry, HTTP server, checkpoint store and broker channel; BENCHMARKS.md).
//!
//! CPU is a rate over the window between two reads of the same container (the first window
//! starts when the container started, at zero CPU). A container started less than a second
//! before a round waits for the next one; a pod none of whose containers was sampled yet is
//! absent, as with metrics-server. A node's usage is the sum of its pods' plus a fixed system
//! overhead ([`NODE_OVERHEAD_CPU_NANOCORES`], [`NODE_OVERHEAD_MEMORY_BYTES`]), standing for the
//! kubelet and system daemons a real node runs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;
use tokio::time::Instant;

use super::runtime;
use crate::agent::telemetry::Metrics;
use crate::sim::api::metrics_api::{ContainerUsage, MetricsTable, NodeSample, PodSample, Snapshot};

/// How often containers are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// The shortest window a CPU rate is computed over.
const MIN_WINDOW: Duration = Duration::from_secs(1);
/// A node's own CPU use beside its pods: 50 millicores.
pub const NODE_OVERHEAD_CPU_NANOCORES: u64 = 50_000_000;
/// A node's own memory use beside its pods: 256 MiB.
pub const NODE_OVERHEAD_MEMORY_BYTES: u64 = 256 << 20;
/// The heap one idle in-process agent holds (~30 KB in the heap profile at 3,000 and 5,000
/// in-process pods, BENCHMARKS.md "heap profile").
pub const INPROC_AGENT_BYTES: u64 = 30 * 1024;

/// How to read one container's usage.
#[derive(Clone)]
pub enum Probe {
    Process {
        pid: i32,
        alive: Arc<AtomicBool>,
        threads: Arc<Mutex<Threads>>,
    },
    Inproc {
        cpu: Arc<AtomicU64>,
        metrics: Arc<OnceLock<Arc<Metrics>>>,
    },
}

impl Probe {
    pub fn of(ctl: &runtime::Ctl) -> Self {
        match ctl {
            runtime::Ctl::Process(c) => {
                let (pid, alive) = c.pid_and_alive();
                Probe::Process {
                    pid,
                    alive,
                    threads: Arc::default(),
                }
            }
            runtime::Ctl::Inproc(c) => {
                let (cpu, metrics) = c.cpu_and_metrics();
                Probe::Inproc { cpu, metrics }
            }
        }
    }

    /// Cumulative CPU in nanoseconds and memory in bytes now; None once the container is gone.
    fn read(&self) -> Option<(u64, u64)> {
        match self {
            Probe::Process {
                pid,
                alive,
                threads,
            } => {
                if !alive.load(Ordering::Acquire) || *pid <= 0 {
                    return None;
                }
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                let (ticks_ns, rss) = parse_stat(&stat, clock_ticks(), page_size())?;
                let mut t = threads.lock().unwrap_or_else(|e| e.into_inner());
                let precise = t.read(*pid);
                let cpu = ticks_ns.max(precise).max(t.last);
                t.last = cpu;
                Some((cpu, rss))
            }
            Probe::Inproc { cpu, metrics } => {
                let held = metrics.get().map(|m| m.held_bytes()).unwrap_or(0);
                Some((cpu.load(Ordering::Relaxed), held + INPROC_AGENT_BYTES))
            }
        }
    }
}

/// The run time of a process's threads, tid by tid, and what exited threads had run.
#[derive(Debug, Default)]
pub struct Threads {
    seen: HashMap<u32, u64>,
    exited: u64,
    /// The last total reported, so that it never goes back.
    last: u64,
}

impl Threads {
    /// The total run time of `pid`'s threads in nanoseconds, exited ones as last seen.
    fn read(&mut self, pid: i32) -> u64 {
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return 0;
        };
        let mut now: HashMap<u32, u64> = HashMap::with_capacity(self.seen.len());
        for e in dir.flatten() {
            let Some(tid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(ns) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            {
                now.insert(tid, ns);
            }
        }
        for (tid, ns) in &self.seen {
            if !now.contains_key(tid) {
                self.exited += ns;
            }
        }
        self.seen = now;
        self.exited + self.seen.values().sum::<u64>()
    }
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as u64 } else { 4096 }
}

/// CPU (`utime + stime`, in nanoseconds) and resident bytes from a `/proc/<pid>/stat` line.
/// The command name may hold spaces and parentheses, so fields count from its last `)`.
pub fn parse_stat(stat: &str, ticks_per_sec: u64, page: u64) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state): utime is field 14, stime 15, rss 24.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    let rss: u64 = f.get(21)?.parse().ok()?;
    let ns = (utime + stime).saturating_mul(1_000_000_000) / ticks_per_sec.max(1);
    Some((ns, rss.saturating_mul(page)))
}

struct Entry {
    ns: String,
    pod: String,
    uid: String,
    node: String,
    container: String,
    probe: Probe,
    /// Bumped per registration, so a round's result for an earlier instance is dropped.
    generation: u64,
    /// The start of the next window: when, and the CPU then.
    since: (Instant, u64),
}

/// The containers the kubelet runs, and their last reads.
pub struct Meter {
    table: Arc<MetricsTable>,
    nodes: Vec<String>,
    entries: Mutex<HashMap<(String, usize), Entry>>,
    generation: AtomicU64,
    last_round: Mutex<Option<Instant>>,
}

/// The identity of a container being registered.
pub struct ContainerRef<'a> {
    pub uid: &'a str,
    pub index: usize,
    pub namespace: &'a str,
    pub pod: &'a str,
    pub node: &'a str,
    pub container: &'a str,
}

impl Meter {
    pub fn new(table: Arc<MetricsTable>, nodes: Vec<String>) -> Arc<Self> {
        Arc::new(Self {
            table,
            nodes,
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
            last_round: Mutex::default(),
        })
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<(String, usize), Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A container that just started (at zero CPU).
    pub fn add(&self, c: ContainerRef<'_>, probe: Probe) {
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        self.entries().insert(
            (c.uid.to_string(), c.index),
            Entry {
                ns: c.namespace.to_string(),
                pod: c.pod.to_string(),
                uid: c.uid.to_string(),
                node: c.node.to_string(),
                container: c.container.to_string(),
                probe,
                generation,
                since: (Instant::now(), 0),
            },
        );
    }

    /// A container that ended.
    pub fn remove(&self, uid: &str, index: usize) {
        self.entries().remove(&(uid.to_string(), index));
    }

    /// Every container of a pod that is gone.
    pub fn remove_pod(&self, uid: &str) {
        self.entries().retain(|(u, _), _| u != uid);
    }

    /// Containers registered now.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One round: read every container, publish what could be sampled.
    pub fn sample(&self) {
        self.sample_at(Instant::now());
    }

    /// One round as if the time were `now`: every container's window ends at `now` (one
    /// shorter than a second is skipped). [`Meter::sample`] is this at `Instant::now()`; the
    /// cost bench (`benches/sim_usage.rs`) and tests advance `now` by [`SAMPLE_EVERY`] per
    /// round so that every container is read and published each time.
    pub fn sample_at(&self, now: Instant) {
        let at = Timestamp::now();
        // Read outside the lock: a round at a thousand processes takes milliseconds.
        type Job = ((String, usize), u64, Probe, (Instant, u64));
        let jobs: Vec<Job> = self
            .entries()
            .iter()
            .map(|(k, e)| (k.clone(), e.generation, e.probe.clone(), e.since))
            .collect();
        let reads: Vec<_> = jobs
            .into_iter()
            .map(|(k, g, p, since)| (k, g, since, p.read()))
            .collect();
        let mut snap = Snapshot::default();
        let mut nodes: HashMap<String, (u64, u64)> = HashMap::new();
        {
            let mut entries = self.entries();
            for (key, generation, since, read) in reads {
                let Some((cpu, memory)) = read else {
                    continue;
                };
                let Some(e) = entries.get_mut(&key).filter(|e| e.generation == generation) else {
                    continue;
                };
                let window = now.saturating_duration_since(since.0);
                if window < MIN_WINDOW {
                    continue;
                }
                let spent = u128::from(cpu.saturating_sub(since.1));
                let nanocores = (spent * 1_000_000_000 / window.as_nanos().max(1)) as u64;
                e.since = (now, cpu);
                let pod = snap
                    .pods
                    .entry((e.ns.clone(), e.pod.clone()))
                    .or_insert_with(|| PodSample {
                        uid: e.uid.clone(),
                        timestamp: at,
                        window,
                        containers: vec![],
                    });
                pod.window = pod.window.max(window);
                pod.containers.push(ContainerUsage {
                    name: e.container.clone(),
                    cpu_nanocores: nanocores,
                    memory_bytes: memory,
                });
                let n = nodes.entry(e.node.clone()).or_default();
                n.0 += nanocores;
                n.1 += memory;
            }
        }
        for p in snap.pods.values_mut() {
            p.containers.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let window = {
            let mut last = self.last_round.lock().unwrap_or_else(|e| e.into_inner());
            let w = last.map(|l| now.saturating_duration_since(l));
            *last = Some(now);
            w.unwrap_or(SAMPLE_EVERY)
        };
        for name in &self.nodes {
            let (cpu, mem) = nodes.get(name).copied().unwrap_or_default();
            snap.nodes.insert(
                name.clone(),
                NodeSample {
                    timestamp: at,
                    window,
                    cpu_nanocores: cpu + NODE_OVERHEAD_CPU_NANOCORES,
                    memory_bytes: mem + NODE_OVERHEAD_MEMORY_BYTES,
                },
            );
        }
        self.table.publish(snap);
    }

    /// Samples every [`SAMPLE_EVERY`] until `shutdown`.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval_at(Instant::now() + SAMPLE_EVERY, SAMPLE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        *self.last_round.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            let me = self.clone();
            let _ = tokio::task::spawn_blocking(move || me.sample()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_the_command_name() {
        // A command name with a space and a parenthesis; utime 150, stime 50 ticks, rss 2560.
        let line = "4242 (fleet ctl) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 \
                    5 0 123 104857600 2560 18446744073709551615";
        let (cpu, rss) = parse_stat(line, 100, 4096).unwrap();
        assert_eq!(cpu, 2_000_000_000);
        assert_eq!(rss, 2560 * 4096);
        assert!(parse_stat("garbage", 100, 4096).is_none());
    }

    #[test]
    fn rates_over_the_window_and_nodes_sum_their_pods() {
        let table = MetricsTable::new();
        let meter = Meter::new(
            table.clone(),
            vec!["sim-node-1".into(), "sim-node-2".into()],
        );
        let cpu = Arc::new(AtomicU64::new(0));
        let probe = Probe::Inproc {
            cpu: cpu.clone(),
            metrics: Arc::default(),
        };
        let c = |i| ContainerRef {
            uid: "u1",
            index: i,
            namespace: "agents",
            pod: "p1",
            node: "sim-node-1",
            container: "agent",
        };
        let t0 = Instant::now();
        meter.add(c(0), probe.clone());
        // Too fresh: absent.
        meter.sample();
        assert!(table.snapshot().pods.is_empty());
        let t1 = Instant::now() + Duration::from_secs(10);
        cpu.store(500_000_000, Ordering::Relaxed); // half a second of CPU in 10 s
        meter.sample_at(t1);
        let snap = table.snapshot();
        let p = &snap.pods[&("agents".to_string(), "p1".to_string())];
        assert_eq!(p.uid, "u1");
        assert!(p.window <= t1 - t0 && p.window >= Duration::from_secs(10));
        let nc = p.containers[0].cpu_nanocores;
        assert!((49_000_000..=50_000_000).contains(&nc), "{nc}");
        assert_eq!(p.containers[0].memory_bytes, INPROC_AGENT_BYTES);
        let n1 = &snap.nodes["sim-node-1"];
        assert_eq!(n1.cpu_nanocores, nc + NODE_OVERHEAD_CPU_NANOCORES);
        assert_eq!(
            n1.memory_bytes,
            INPROC_AGENT_BYTES + NODE_OVERHEAD_MEMORY_BYTES
        );
        assert_eq!(
            snap.nodes["sim-node-2"].cpu_nanocores,
            NODE_OVERHEAD_CPU_NANOCORES
        );
        // The next window starts where this one ended.
        meter.sample_at(t1 + Duration::from_secs(10));
        let snap = table.snapshot();
        assert_eq!(
            snap.pods[&("agents".to_string(), "p1".to_string())].containers[0].cpu_nanocores,
            0
        );
        meter.remove_pod("u1");
        meter.sample_at(t1 + Duration::from_secs(20));
        assert!(table.snapshot().pods.is_empty());
        assert!(meter.is_empty());
    }
}
