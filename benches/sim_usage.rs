//! The cost of the local cluster's resource-usage sampler (`kubelet::usage::Meter`, what
//! `metrics.k8s.io` serves): the time of one sampling round, and so the share of a core it
//! takes at one round per [`SAMPLE_EVERY`] (10 s).
//!
//! - `inproc_10000`: 10,000 in-process containers on 100 nodes (each probe reads two atomics).
//! - `process_1000`: 1,000 process-runtime probes over `SIM_USAGE_CHILDREN` (default 50) real
//!   child processes, each with `SIM_USAGE_THREADS` (default 4) threads, as a tokio agent has;
//!   each probe reads `/proc/<pid>/stat`, lists `/proc/<pid>/task` and reads every thread's
//!   `schedstat`, exactly as for a `fleetctl agent` child. The children are this bench binary
//!   re-run in a mode that starts the threads and sleeps.
//!
//! Every round advances the sampler's clock by [`SAMPLE_EVERY`], so every container is read,
//! rated and published each round (none is skipped as too fresh).
//!
//! `cargo bench --bench sim_usage`; besides criterion's figures it prints the median of
//! `SIM_USAGE_ROUNDS` (default 31) timed rounds and that median as a share of one core.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::Criterion;
use tokio::time::Instant;

use fleetctl::sim::api::metrics_api::MetricsTable;
use fleetctl::sim::controllers::kubelet::usage::{
    ContainerRef, Meter, Probe, SAMPLE_EVERY, Threads,
};

const CHILD_ENV: &str = "SIM_USAGE_CHILD_THREADS";

fn env_n(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn nodes() -> Vec<String> {
    (1..=100).map(|i| format!("sim-node-{i}")).collect()
}

/// A sampler over `n` containers made by `probe(i)`.
fn meter(n: usize, mut probe: impl FnMut(usize) -> Probe) -> Arc<Meter> {
    let nodes = nodes();
    let meter = Meter::new(MetricsTable::new(), nodes.clone());
    for i in 0..n {
        let (uid, pod) = (format!("uid-{i}"), format!("ai-agent-batch-{i}-x{i:05}"));
        meter.add(
            ContainerRef {
                uid: &uid,
                index: 0,
                namespace: "agents",
                pod: &pod,
                node: &nodes[i % nodes.len()],
                container: "agent",
            },
            probe(i),
        );
    }
    meter
}

/// Times `rounds` rounds one by one (after one warm-up round); the median, in seconds.
fn median_round(meter: &Meter, at: &mut Instant, rounds: usize) -> f64 {
    *at += SAMPLE_EVERY;
    meter.sample_at(*at);
    let mut times: Vec<f64> = (0..rounds.max(1))
        .map(|_| {
            *at += SAMPLE_EVERY;
            let t = std::time::Instant::now();
            meter.sample_at(*at);
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn report(name: &str, containers: usize, median: f64) {
    let share = median / SAMPLE_EVERY.as_secs_f64() * 100.0;
    println!(
        "sim_usage {name}: {containers} containers, median round {:.3} ms = {share:.3}% of one core at one round per {} s",
        median * 1e3,
        SAMPLE_EVERY.as_secs()
    );
}

fn inproc(c: &mut Criterion) {
    let n = 10_000;
    let meter = meter(n, |i| Probe::Inproc {
        cpu: Arc::new(AtomicU64::new(i as u64 * 1_000)),
        metrics: Arc::default(),
    });
    let mut at = Instant::now();
    c.bench_function("sample_round/inproc_10000", |b| {
        b.iter(|| {
            at += SAMPLE_EVERY;
            meter.sample_at(at);
        })
    });
    let median = median_round(&meter, &mut at, env_n("SIM_USAGE_ROUNDS", 31));
    report("inproc", n, median);
}

/// Children that each run `threads` threads and sleep; killed on drop.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn children(n: usize, threads: usize) -> Children {
    let exe = std::env::current_exe().expect("the bench knows its own path");
    let kids = (0..n)
        .map(|_| {
            Command::new(&exe)
                .env(CHILD_ENV, threads.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("a child process starts")
        })
        .collect();
    let kids = Children(kids);
    // Until every child has its threads.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for c in &kids.0 {
        while std::fs::read_dir(format!("/proc/{}/task", c.id())).map_or(0, |d| d.count())
            < threads + 1
        {
            assert!(
                std::time::Instant::now() < deadline,
                "child {} did not start its threads",
                c.id()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    kids
}

fn process(c: &mut Criterion) {
    let n = 1_000;
    let threads = env_n("SIM_USAGE_THREADS", 4);
    let kids = children(env_n("SIM_USAGE_CHILDREN", 50).max(1), threads);
    let pids: Vec<i32> = kids.0.iter().map(|c| c.id() as i32).collect();
    let meter = meter(n, |i| Probe::Process {
        pid: pids[i % pids.len()],
        alive: Arc::new(AtomicBool::new(true)),
        threads: Arc::new(Mutex::new(Threads::default())),
    });
    let mut at = Instant::now();
    c.bench_function("sample_round/process_1000", |b| {
        b.iter(|| {
            at += SAMPLE_EVERY;
            meter.sample_at(at);
        })
    });
    let median = median_round(&meter, &mut at, env_n("SIM_USAGE_ROUNDS", 31));
    report(
        &format!(
            "process ({} children x {} threads)",
            pids.len(),
            threads + 1
        ),
        n,
        median,
    );
    drop(kids);
}

fn main() {
    if let Ok(t) = std::env::var(CHILD_ENV) {
        // A stand-in agent process: its threads sleep until the bench kills it.
        for _ in 0..t.parse::<usize>().unwrap_or(0) {
            std::thread::spawn(|| std::thread::sleep(Duration::from_secs(3600)));
        }
        std::thread::sleep(Duration::from_secs(3600));
        return;
    }
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    let only = std::env::var("SIM_USAGE_SCENARIO").unwrap_or_default();
    if only.is_empty() || only == "inproc" {
        inproc(&mut c);
    }
    if only.is_empty() || only == "process" {
        process(&mut c);
    }
    c.final_summary();
}
