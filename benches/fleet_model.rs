//! Fleet model ingest, pure (no cluster): an initial Resync of 10,000 slim pods (100 Jobs of one
//! ScaledJob, so one fleet of 10,000 pods), then 100,000 pod updates (phase, readiness and
//! restart changes, as a busy fleet's watch stream delivers them). Criterion reports elements
//! per second: pods per second for the Resync, deltas per second for the updates.
//!
//! Before the runs it prints the heap the model holds for the 10,000 pods, measured with a
//! counting allocator, beside an estimate from `size_of` and string lengths.
//!
//! `cargo bench --bench fleet_model -- --warm-up-time 1 --measurement-time 3`
//! Targets (issue 6): ≥ 200,000 deltas/s, < 50 MB for 10,000 slim pods.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};

use fleetctl::fleet::delta::FleetDelta;
use fleetctl::fleet::model::Model;
use fleetctl::fleet::objects::{
    AgentPod, JobSummary, Labels, Object, ObjectKind, PodPhase, PodTemplate, QueueStats,
    ScaledJobSummary, Trigger,
};

/// Counts live heap bytes, to measure the model's footprint.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const NS: &str = "agents";
const PODS: usize = 10_000;
const JOBS: usize = 100;
const UPDATES: usize = 100_000;

fn t0() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap()
}

fn app() -> Labels {
    Labels::from([("app".into(), "ai-agent".into())])
}

fn scaled_job() -> ScaledJobSummary {
    ScaledJobSummary {
        name: "ai-agent".into(),
        namespace: NS.into(),
        uid: "0b6c7f52-8a4e-4c59-9f0e-3d1c2b7a9e10".into(),
        labels: app(),
        max_replica_count: Some(500),
        triggers: vec![Trigger {
            kind: "rabbitmq".into(),
            queue_name: Some("agent-tasks".into()),
            mode: Some("QueueLength".into()),
            value: Some("5".into()),
            ..Default::default()
        }],
        template: PodTemplate {
            labels: app(),
            metrics_port: Some(8080),
            metrics_port_name: Some("metrics".into()),
            containers_without_memory_limit: 0,
        },
        created: Some(t0()),
        ..Default::default()
    }
}

fn job_name(j: usize) -> String {
    format!("ai-agent-{j:05x}")
}

fn job(j: usize) -> JobSummary {
    JobSummary {
        name: job_name(j),
        namespace: NS.into(),
        uid: format!("7d3f0a5e-1c2b-4e8f-9a6d-{j:012x}"),
        labels: app(),
        scaled_job: Some("ai-agent".into()),
        active: (PODS / JOBS) as i32,
        parallelism: (PODS / JOBS) as i32,
        completions: Some((PODS / JOBS) as i32),
        template: PodTemplate {
            labels: app(),
            metrics_port: Some(8080),
            ..Default::default()
        },
        created: Some(t0()),
        ..Default::default()
    }
}

/// A pod as a busy fleet has them: names, uid, node, IP and limits all filled in.
fn pod(i: usize) -> AgentPod {
    let j = i % JOBS;
    AgentPod {
        name: format!("{}-{i}-x7k2q", job_name(j)),
        namespace: NS.into(),
        uid: format!("5f1e2d3c-4b5a-4968-8776-{i:012x}"),
        phase: if i.is_multiple_of(10) {
            PodPhase::Pending
        } else {
            PodPhase::Running
        },
        ready: !i.is_multiple_of(10),
        restarts: 0,
        node: Some(format!("node-{:03}", i % 200)),
        ip: Some(format!(
            "10.{}.{}.{}",
            1 + i / 65536,
            (i / 256) % 256,
            i % 256
        )),
        job_name: Some(job_name(j)),
        scaled_job: Some("ai-agent".into()),
        memory_limit_bytes: Some(2 << 30),
        memory_request_bytes: Some(1 << 30),
        created: Some(t0()),
        metrics_port: Some(8080),
        ..Default::default()
    }
}

/// The model after the initial lists.
fn initial() -> Model {
    let mut m = Model::new(NS);
    m.apply(
        FleetDelta::Resync {
            kind: ObjectKind::ScaledJob,
            objects: vec![Object::ScaledJob(scaled_job())],
        },
        t0(),
    );
    m.apply(
        FleetDelta::Resync {
            kind: ObjectKind::Job,
            objects: (0..JOBS).map(|j| Object::Job(job(j))).collect(),
        },
        t0(),
    );
    m.apply(pod_resync(), t0());
    m.apply(
        FleetDelta::Queue {
            queue: "agent-tasks".into(),
            stats: QueueStats {
                ready: 120,
                consumers: 9_000,
                at: t0(),
            },
        },
        t0(),
    );
    m
}

fn pod_resync() -> FleetDelta {
    FleetDelta::Resync {
        kind: ObjectKind::Pod,
        objects: (0..PODS).map(|i| Object::Pod(pod(i))).collect(),
    }
}

/// 100,000 updates of random pods: phase moves on, readiness flips, restarts go up.
fn updates() -> Vec<FleetDelta> {
    let mut rng = fastrand::Rng::with_seed(6);
    let mut pods: Vec<AgentPod> = (0..PODS).map(pod).collect();
    (0..UPDATES)
        .map(|_| {
            let p = &mut pods[rng.usize(..PODS)];
            match rng.u8(..10) {
                0..4 => p.ready = !p.ready,
                4..7 => p.restarts += 1,
                7 => {
                    p.phase = match p.phase {
                        PodPhase::Pending => PodPhase::Running,
                        PodPhase::Running => PodPhase::Succeeded,
                        _ => PodPhase::Pending,
                    }
                }
                _ => p.deletion = !p.deletion,
            }
            FleetDelta::Upsert(Object::Pod(p.clone()))
        })
        .collect()
}

/// Heap bytes of `pod`'s strings (allocation sizes as requested).
fn string_heap(p: &AgentPod) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
    p.name.capacity()
        + p.namespace.capacity()
        + p.uid.capacity()
        + opt(&p.node)
        + opt(&p.ip)
        + opt(&p.job_name)
        + opt(&p.scaled_job)
        + opt(&p.deployment)
        + opt(&p.scheduling_message)
        + opt(&p.status_reason)
        + opt(&p.status_message)
        + opt(&p.metrics_path)
}

fn report_memory() {
    let before = LIVE.load(Ordering::Relaxed);
    let model = initial();
    let measured = LIVE.load(Ordering::Relaxed) - before;
    let sample = pod(12_345 % PODS);
    // Per pod: the struct in a B-tree node, its key (a copy of the name), its strings, and
    // the name in the job → pods index.
    let estimate = PODS
        * (size_of::<AgentPod>()
            + size_of::<String>() * 2
            + string_heap(&sample)
            + sample.name.len() * 2);
    println!(
        "fleet model heap, {PODS} slim pods + {JOBS} jobs + 1 scaledjob: measured {:.1} MB \
         (size_of::<AgentPod>() = {} B; estimate from sizes and string lengths {:.1} MB)",
        measured as f64 / 1e6,
        size_of::<AgentPod>(),
        estimate as f64 / 1e6,
    );
    black_box(model);
}

fn bench(c: &mut Criterion) {
    report_memory();
    let base = initial();
    let deltas = updates();
    let start = t0() + SignedDuration::from_secs(60);

    let mut g = c.benchmark_group("fleet_model");
    g.sample_size(10);

    g.throughput(Throughput::Elements(PODS as u64));
    g.bench_function("resync_10k_pods", |b| {
        b.iter_batched(
            || {
                let mut m = Model::new(NS);
                m.apply(
                    FleetDelta::Resync {
                        kind: ObjectKind::ScaledJob,
                        objects: vec![Object::ScaledJob(scaled_job())],
                    },
                    t0(),
                );
                m.apply(
                    FleetDelta::Resync {
                        kind: ObjectKind::Job,
                        objects: (0..JOBS).map(|j| Object::Job(job(j))).collect(),
                    },
                    t0(),
                );
                (m, pod_resync())
            },
            |(mut m, resync)| {
                m.apply(resync, t0());
                m
            },
            BatchSize::PerIteration,
        )
    });

    g.throughput(Throughput::Elements(UPDATES as u64));
    g.bench_function("pod_updates_100k", |b| {
        b.iter_batched(
            || (base.clone(), deltas.clone()),
            |(mut m, ds)| {
                for (i, d) in ds.into_iter().enumerate() {
                    m.apply(d, start + SignedDuration::from_millis(i as i64));
                }
                m
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
