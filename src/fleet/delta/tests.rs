//! The model under deltas: attribution of pods to fleets, fleet states, disruptions, predictions, and randomised histories that must end equal to a fresh list.

use super::*;
use crate::fleet::model::{ClusterState, DisruptionKind};
use crate::fleet::objects::{
    DeploymentSummary, DisruptionTarget, EventSummary, FleetState, JobConditions, Labels,
    NetworkPolicySummary, PdbStatus, PodPhase, PodTemplate, ScaledJobSummary, Termination, Trigger,
};
use crate::fleet::selector::Selector;

const NS: &str = "agents";

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

fn app() -> Labels {
    Labels::from([("app".into(), "ai-agent".into())])
}

fn sj(name: &str, queue: &str) -> ScaledJobSummary {
    ScaledJobSummary {
        name: name.into(),
        namespace: NS.into(),
        uid: format!("uid-{name}"),
        labels: app(),
        max_replica_count: Some(10),
        triggers: vec![Trigger {
            kind: "rabbitmq".into(),
            queue_name: Some(queue.into()),
            value: Some("5".into()),
            ..Default::default()
        }],
        template: PodTemplate {
            labels: app(),
            metrics_port: Some(8080),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn job(name: &str, owner: Option<&str>) -> JobSummary {
    JobSummary {
        name: name.into(),
        namespace: NS.into(),
        uid: format!("uid-{name}"),
        labels: app(),
        scaled_job: owner.map(Into::into),
        parallelism: 1,
        completions: Some(1),
        active: 1,
        template: PodTemplate {
            labels: app(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn pod(name: &str, job: Option<&str>, phase: PodPhase) -> AgentPod {
    AgentPod {
        name: name.into(),
        namespace: NS.into(),
        uid: format!("uid-{name}"),
        phase,
        job_name: job.map(Into::into),
        memory_limit_bytes: Some(1 << 31),
        ..Default::default()
    }
}

fn up(o: Object) -> FleetDelta {
    FleetDelta::Upsert(o)
}

#[test]
fn pods_are_attributed_through_jobs_and_labels() {
    let mut m = Model::new(NS);
    m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
    // A pod arriving before its Job, with no ScaledJob label, counts toward Job "j1" (not
    // a fleet); once the Job arrives, it moves to the ScaledJob.
    m.apply(
        up(Object::Pod(pod("p1", Some("j1"), PodPhase::Running))),
        t(1),
    );
    let id = FleetId::new(FleetKind::ScaledJob, "sj");
    assert_eq!(m.fleet(&id).unwrap().pods.total, 0);
    m.apply(up(Object::Job(job("j1", Some("sj")))), t(2));
    assert_eq!(m.fleet(&id).unwrap().pods.running, 1);
    assert_eq!(m.fleet(&id).unwrap().jobs.jobs, 1);
    // A pod with only the ScaledJob label.
    let mut p2 = pod("p2", None, PodPhase::Pending);
    p2.scaled_job = Some("sj".into());
    m.apply(up(Object::Pod(p2)), t(3));
    assert_eq!(m.fleet(&id).unwrap().pods.pending, 1);
    // A standalone Job is its own fleet; a ScaledJob's Job is not.
    m.apply(up(Object::Job(job("batch", None))), t(4));
    m.apply(
        up(Object::Pod(pod("b-0", Some("batch"), PodPhase::Running))),
        t(5),
    );
    let batch = m.fleet_named("batch").unwrap();
    assert_eq!((batch.kind, batch.pods.running), (FleetKind::Job, 1));
    assert!(m.fleet_named("j1").is_none());
    // A Deployment's pods, through the ReplicaSet name.
    m.apply(
        up(Object::Deployment(DeploymentSummary {
            name: "web".into(),
            namespace: NS.into(),
            labels: app(),
            replicas: 2,
            ..Default::default()
        })),
        t(6),
    );
    let mut w = pod("web-abc-xyz", None, PodPhase::Running);
    w.deployment = Some("web".into());
    m.apply(up(Object::Pod(w)), t(7));
    assert_eq!(m.fleet_named("web").unwrap().pods.running, 1);
    assert_eq!(m.fleet_named("web").unwrap().jobs.desired, 2);
    // Workloads without the selector's label are not fleets.
    let mut other = job("other", None);
    other.labels.clear();
    m.apply(up(Object::Job(other)), t(8));
    assert!(m.fleet_named("other").is_none());
    // Deleting the Job moves its pod back to the label-only attribution.
    m.apply(
        FleetDelta::Delete {
            kind: ObjectKind::Job,
            namespace: NS.into(),
            name: "j1".into(),
        },
        t(9),
    );
    assert_eq!(m.fleet(&id).unwrap().pods.running, 0);
    assert_eq!(m.fleet(&id).unwrap().jobs.jobs, 0);
    // Other namespaces are ignored.
    let mut foreign = pod("x", Some("batch"), PodPhase::Running);
    foreign.namespace = "elsewhere".into();
    m.apply(up(Object::Pod(foreign)), t(10));
    assert!(!m.pods().contains_key("x"));
    m.verify();
}

#[test]
fn fleet_states() {
    let mut m = Model::new(NS);
    let mut s = sj("sj", "q");
    m.apply(up(Object::ScaledJob(s.clone())), t(0));
    assert_eq!(m.fleet_named("sj").unwrap().state, FleetState::Running);
    for (value, paused) in [
        ("true", true),
        ("True", true),
        ("1", true),
        ("false", false),
        ("0", false),
        ("F", false),
        ("yes", true),
        ("", true),
    ] {
        s.paused_annotation = Some(value.into());
        m.apply(up(Object::ScaledJob(s.clone())), t(1));
        let want = if paused {
            FleetState::Paused
        } else {
            FleetState::Running
        };
        assert_eq!(m.fleet_named("sj").unwrap().state, want, "{value:?}");
    }
    s.draining = true;
    m.apply(up(Object::ScaledJob(s)), t(2));
    assert_eq!(m.fleet_named("sj").unwrap().state, FleetState::Draining);

    let mut j = job("batch", None);
    j.suspended = true;
    j.queue = Some("q2".into());
    m.apply(up(Object::Job(j)), t(3));
    let f = m.fleet_named("batch").unwrap();
    assert_eq!(
        (f.state, f.queue.as_deref()),
        (FleetState::Paused, Some("q2"))
    );

    let mut d = DeploymentSummary {
        name: "web".into(),
        namespace: NS.into(),
        labels: app(),
        replicas: 0,
        ..Default::default()
    };
    m.apply(up(Object::Deployment(d.clone())), t(4));
    assert_eq!(m.fleet_named("web").unwrap().state, FleetState::Running);
    d.paused_replicas = Some("3".into());
    m.apply(up(Object::Deployment(d.clone())), t(5));
    assert_eq!(m.fleet_named("web").unwrap().state, FleetState::Paused);
    d.replicas = 3;
    m.apply(up(Object::Deployment(d)), t(6));
    assert_eq!(m.fleet_named("web").unwrap().state, FleetState::Running);
}

#[test]
fn disruptions_are_recorded_once() {
    let mut m = Model::new(NS);
    m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
    m.apply(up(Object::Job(job("j1", Some("sj")))), t(0));
    let id = FleetId::new(FleetKind::ScaledJob, "sj");
    let mut p = pod("p1", Some("j1"), PodPhase::Running);
    m.apply(up(Object::Pod(p.clone())), t(1));
    // OOMKilled, restarted in place (OnFailure).
    p.restarts = 1;
    p.last_oom = Some(Termination {
        container: "agent".into(),
        reason: "OOMKilled".into(),
        exit_code: 137,
        at: Some(t(2)),
    });
    for s in 3..6 {
        m.apply(up(Object::Pod(p.clone())), t(s));
    }
    let oom = |m: &Model| {
        m.history(&id)
            .unwrap()
            .count_since(DisruptionKind::OomKilled, t(0))
    };
    assert_eq!(
        oom(&m),
        1,
        "re-applying the same state does not count again"
    );
    // A second OOMKill of the same container is a new disruption.
    p.restarts = 2;
    p.last_oom.as_mut().unwrap().at = Some(t(7));
    m.apply(up(Object::Pod(p.clone())), t(8));
    assert_eq!(oom(&m), 2);
    // A resync with the same pods does not count again.
    m.apply(
        FleetDelta::Resync {
            kind: ObjectKind::Pod,
            objects: vec![Object::Pod(p.clone())],
        },
        t(9),
    );
    assert_eq!(oom(&m), 2);
    // Kubelet eviction: status.reason Evicted and DisruptionTarget TerminationByKubelet
    // are one disruption.
    p.phase = PodPhase::Failed;
    p.status_reason = Some("Evicted".into());
    p.status_message = Some("The node was low on resource: memory.".into());
    m.apply(up(Object::Pod(p.clone())), t(10));
    p.disruption_target = Some(DisruptionTarget {
        reason: "TerminationByKubelet".into(),
        message: None,
        at: Some(t(10)),
    });
    m.apply(up(Object::Pod(p.clone())), t(11));
    let h = m.history(&id).unwrap();
    assert_eq!(h.count_since(DisruptionKind::Evicted, t(0)), 1);
    let evicted = h
        .disruptions
        .iter()
        .find(|d| d.kind == DisruptionKind::Evicted)
        .unwrap();
    assert_eq!(evicted.message, "The node was low on resource: memory.");
    // API eviction and preemption of other pods.
    for (name, reason, kind) in [
        ("p2", "EvictionByEvictionAPI", DisruptionKind::ApiEviction),
        ("p3", "PreemptionByScheduler", DisruptionKind::Preempted),
    ] {
        let mut q = pod(name, Some("j1"), PodPhase::Running);
        q.node = Some("node-1".into());
        q.disruption_target = Some(DisruptionTarget {
            reason: reason.into(),
            message: Some("Eviction API: evicting".into()),
            at: Some(t(12)),
        });
        m.apply(up(Object::Pod(q.clone())), t(12));
        m.apply(up(Object::Pod(q)), t(13));
        let h = m.history(&id).unwrap();
        assert_eq!(h.count_since(kind, t(0)), 1, "{reason}");
        assert_eq!(
            h.disruptions.back().unwrap().node.as_deref(),
            Some("node-1")
        );
    }
    // Restarts feed the restart counter.
    assert_eq!(m.history(&id).unwrap().restarts.last().unwrap().total, 2);
}

#[test]
fn prediction_follows_the_queue_and_the_jobs() {
    let mut m = Model::new(NS);
    m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
    let f = |m: &Model| m.fleet_named("sj").unwrap().predicted_next_scale;
    assert_eq!(f(&m), None, "no reading yet");
    let stats = |ready| QueueStats {
        ready,
        consumers: 0,
        at: t(1),
    };
    m.apply(
        FleetDelta::Queue {
            queue: "q".into(),
            stats: stats(23),
        },
        t(1),
    );
    // ceil(23/5) = 5 Jobs, none running.
    assert_eq!(f(&m), Some(5));
    assert_eq!(
        m.fleet_named("sj")
            .unwrap()
            .queue_stats
            .as_ref()
            .unwrap()
            .ready,
        23
    );
    // Two unfinished Jobs: default strategy creates maxScale − R = 3.
    m.apply(up(Object::Job(job("j1", Some("sj")))), t(2));
    m.apply(up(Object::Job(job("j2", Some("sj")))), t(2));
    assert_eq!(f(&m), Some(3));
    assert_eq!(m.fleet_named("sj").unwrap().jobs.desired, 5);
    // A finished Job no longer counts.
    let mut done = job("j2", Some("sj"));
    done.conditions = JobConditions {
        complete: true,
        ..Default::default()
    };
    m.apply(up(Object::Job(done)), t(3));
    assert_eq!(f(&m), Some(4));
    // Pending (P) counts for the accurate strategy: j1 has no started pod.
    let mut acc = sj("sj", "q");
    acc.strategy = Some("accurate".into());
    m.apply(up(Object::ScaledJob(acc)), t(4));
    assert_eq!(m.fleet_named("sj").unwrap().jobs.pending, 1);
    assert_eq!(f(&m), Some(4), "maxScale 5 − P 1");
    m.apply(
        up(Object::Pod(pod("j1-x", Some("j1"), PodPhase::Running))),
        t(5),
    );
    assert_eq!(m.fleet_named("sj").unwrap().jobs.pending, 0);
    assert_eq!(f(&m), Some(5));
    // Paused: nothing.
    let mut paused = sj("sj", "q");
    paused.paused_annotation = Some("true".into());
    m.apply(up(Object::ScaledJob(paused)), t(6));
    assert_eq!(f(&m), Some(0));
    m.verify();
}

#[test]
fn kind_unavailable_degrades_only_that_kind() {
    let mut m = Model::new(NS);
    m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
    m.apply(
        up(Object::Event(EventSummary {
            name: "e1".into(),
            namespace: NS.into(),
            ..Default::default()
        })),
        t(0),
    );
    m.apply(
        FleetDelta::KindUnavailable {
            kind: ObjectKind::Event,
            reason: "events is forbidden".into(),
        },
        t(1),
    );
    assert!(m.events().is_empty());
    assert_eq!(m.unavailable()[&ObjectKind::Event], "events is forbidden");
    assert!(m.fleet_named("sj").is_some());
    m.apply(
        FleetDelta::Resync {
            kind: ObjectKind::Event,
            objects: vec![],
        },
        t(2),
    );
    assert!(m.unavailable().is_empty());
}

#[test]
fn json_round_trip_of_the_model() {
    let mut m = Model::new(NS);
    m.apply(up(Object::ScaledJob(sj("sj", "q"))), t(0));
    let v = serde_json::to_value(&m).unwrap();
    assert!(v["fleets"]["ScaledJob/sj"]["name"] == "sj");
    let d = up(Object::Pod(pod("p", Some("j"), PodPhase::Running)));
    let back: FleetDelta = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
    assert_eq!(back, d);
}

// Randomised: many orders of many histories end in the model of the final state. --------

const SJS: [&str; 2] = ["sj-a", "sj-b"];
const JOBS: [&str; 6] = ["job-0", "job-1", "job-2", "job-3", "job-4", "job-5"];
const DEPS: [&str; 1] = ["dep-a"];
const PODS: usize = 24;
const PDBS: [&str; 2] = ["pdb-a", "pdb-b"];
const NETPOLS: [&str; 1] = ["np-a"];
const EVENTS: [&str; 3] = ["ev-0", "ev-1", "ev-2"];
const QUEUES: [&str; 2] = ["q-a", "q-b"];

fn pick<'a>(rng: &mut fastrand::Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.usize(..xs.len())]
}

fn maybe_app(rng: &mut fastrand::Rng) -> Labels {
    if rng.u8(..10) < 8 {
        app()
    } else {
        Labels::new()
    }
}

fn rand_sj(rng: &mut fastrand::Rng, name: &str) -> ScaledJobSummary {
    let mut s = sj(name, pick(rng, &QUEUES));
    s.labels = maybe_app(rng);
    s.paused_annotation =
        [None, Some("true"), Some("false"), Some("maybe")][rng.usize(..4)].map(Into::into);
    s.draining = rng.u8(..5) == 0;
    s.strategy = [None, Some("accurate"), Some("eager")][rng.usize(..3)].map(Into::into);
    s.min_replica_count = rng.bool().then(|| rng.i64(0..3));
    s
}

fn rand_job(rng: &mut fastrand::Rng, name: &str) -> JobSummary {
    let mut j = job(name, rng.bool().then(|| pick(rng, &SJS)));
    j.uid = format!("uid-{name}-{}", rng.u8(..2));
    j.labels = maybe_app(rng);
    j.suspended = rng.u8(..4) == 0;
    j.active = rng.i32(0..3);
    j.succeeded = rng.i32(0..3);
    j.failed = rng.i32(0..3);
    j.conditions.complete = rng.u8(..4) == 0;
    j.conditions.failed = rng.u8(..6) == 0;
    j.queue = rng.bool().then(|| pick(rng, &QUEUES).into());
    j.draining = rng.u8(..6) == 0;
    j
}

fn rand_dep(rng: &mut fastrand::Rng, name: &str) -> DeploymentSummary {
    DeploymentSummary {
        name: name.into(),
        namespace: NS.into(),
        labels: maybe_app(rng),
        replicas: rng.i32(0..3),
        paused_replicas: rng.bool().then(|| "2".into()),
        queue: rng.bool().then(|| pick(rng, &QUEUES).into()),
        template: PodTemplate {
            labels: app(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn rand_pod(rng: &mut fastrand::Rng, name: &str) -> AgentPod {
    let phases = [
        PodPhase::Pending,
        PodPhase::Running,
        PodPhase::Succeeded,
        PodPhase::Failed,
        PodPhase::Unknown,
    ];
    let mut p = pod(name, None, phases[rng.usize(..5)]);
    p.uid = format!("uid-{name}-{}", rng.u8(..2));
    match rng.u8(..10) {
        0..6 => p.job_name = Some(pick(rng, &JOBS).into()),
        6..8 => p.deployment = Some(pick(rng, &DEPS).into()),
        _ => {}
    }
    if rng.u8(..3) == 0 {
        p.scaled_job = Some(pick(rng, &SJS).into());
    }
    p.ready = rng.bool();
    p.restarts = rng.u32(0..4);
    p.unschedulable = rng.u8(..5) == 0;
    p.deletion = rng.u8(..6) == 0;
    p.containers_without_memory_limit = u32::from(rng.u8(..5) == 0);
    if rng.u8(..5) == 0 {
        p.last_oom = Some(Termination {
            container: "agent".into(),
            reason: "OOMKilled".into(),
            exit_code: 137,
            at: Some(t(i64::from(rng.u8(..3)))),
        });
    }
    if rng.u8(..5) == 0 {
        p.disruption_target = Some(DisruptionTarget {
            reason: pick(rng, &["TerminationByKubelet", "EvictionByEvictionAPI"]).into(),
            message: None,
            at: None,
        });
    }
    p
}

fn rand_pdb(rng: &mut fastrand::Rng, name: &str) -> PdbStatus {
    PdbStatus {
        name: name.into(),
        namespace: NS.into(),
        selector: Selector::from_labels(maybe_app(rng)),
        min_available: Some("1".into()),
        disruptions_allowed: rng.i32(0..2),
        expected_pods: rng.i32(0..3),
        sync_failed: rng.u8(..4) == 0,
        ..Default::default()
    }
}

fn rand_object(rng: &mut fastrand::Rng, kind: ObjectKind, name: &str) -> Object {
    match kind {
        ObjectKind::ScaledJob => Object::ScaledJob(rand_sj(rng, name)),
        ObjectKind::Job => Object::Job(rand_job(rng, name)),
        ObjectKind::Deployment => Object::Deployment(rand_dep(rng, name)),
        ObjectKind::Pod => Object::Pod(rand_pod(rng, name)),
        ObjectKind::PodDisruptionBudget => Object::Pdb(rand_pdb(rng, name)),
        ObjectKind::NetworkPolicy => Object::NetworkPolicy(NetworkPolicySummary {
            name: name.into(),
            namespace: NS.into(),
            ingress_policy: rng.bool(),
            ..Default::default()
        }),
        ObjectKind::Event => Object::Event(EventSummary {
            name: name.into(),
            namespace: NS.into(),
            reason: pick(rng, &["BackOff", "Evicted"]).into(),
            count: rng.i32(1..5),
            ..Default::default()
        }),
    }
}

fn all_names() -> Vec<(ObjectKind, String)> {
    let mut out = Vec::new();
    let mut add = |kind, names: &[&str]| {
        out.extend(names.iter().map(|n| (kind, n.to_string())));
    };
    add(ObjectKind::ScaledJob, &SJS);
    add(ObjectKind::Job, &JOBS);
    add(ObjectKind::Deployment, &DEPS);
    add(ObjectKind::PodDisruptionBudget, &PDBS);
    add(ObjectKind::NetworkPolicy, &NETPOLS);
    add(ObjectKind::Event, &EVENTS);
    out.extend((0..PODS).map(|i| (ObjectKind::Pod, format!("pod-{i}"))));
    out
}

fn random_state(rng: &mut fastrand::Rng) -> ClusterState {
    let objects = all_names()
        .into_iter()
        .filter_map(|(kind, name)| (rng.u8(..10) < 7).then(|| rand_object(rng, kind, &name)))
        .collect();
    let queues = QUEUES
        .iter()
        .map(|q| {
            (
                q.to_string(),
                QueueStats {
                    ready: rng.u64(0..40),
                    consumers: rng.u64(0..3),
                    at: t(100),
                },
            )
        })
        .collect();
    ClusterState {
        namespace: NS.into(),
        selector: Selector::from_labels(app()),
        objects,
        queues,
    }
}

/// Random upserts, deletes, queue readings and (optionally) refused kinds.
fn noise(rng: &mut fastrand::Rng, n: usize, refusals: bool) -> Vec<FleetDelta> {
    let names = all_names();
    (0..n)
        .map(|_| {
            let (kind, name) = &names[rng.usize(..names.len())];
            match rng.u8(..20) {
                0..12 => up(rand_object(rng, *kind, name)),
                12..17 => FleetDelta::Delete {
                    kind: *kind,
                    namespace: NS.into(),
                    name: name.clone(),
                },
                17 | 18 => FleetDelta::Queue {
                    queue: pick(rng, &QUEUES).into(),
                    stats: QueueStats {
                        ready: rng.u64(0..40),
                        consumers: 1,
                        at: t(50),
                    },
                },
                _ if refusals => FleetDelta::KindUnavailable {
                    kind: *kind,
                    reason: "forbidden".into(),
                },
                _ => up(rand_object(rng, *kind, name)),
            }
        })
        .collect()
}

fn queue_deltas(state: &ClusterState) -> Vec<FleetDelta> {
    state
        .queues
        .iter()
        .map(|(q, s)| FleetDelta::Queue {
            queue: q.clone(),
            stats: s.clone(),
        })
        .collect()
}

#[test]
fn randomised_histories_end_in_the_listed_model() {
    for seed in 0..200u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let state = random_state(&mut rng);
        let now = t(1000);
        let expected = Model::from_state(&state, now);
        expected.verify();

        // 1. Noise, then a Resync of every kind in a random order.
        let mut m = Model::new(NS);
        for (i, d) in noise(&mut rng, 80, true).into_iter().enumerate() {
            m.apply(d, t(i as i64));
            if seed < 20 {
                m.verify();
            }
        }
        let mut kinds = ObjectKind::ALL.to_vec();
        rng.shuffle(&mut kinds);
        for kind in kinds {
            let mut objects: Vec<Object> = state
                .objects
                .iter()
                .filter(|o| o.kind() == kind)
                .cloned()
                .collect();
            rng.shuffle(&mut objects);
            m.apply(FleetDelta::Resync { kind, objects }, now);
        }
        for d in queue_deltas(&state) {
            m.apply(d, now);
        }
        m.verify();
        assert_eq!(m, expected, "seed {seed}: resync");

        // 2. The final objects alone, in any order.
        let mut finals: Vec<FleetDelta> = state
            .objects
            .iter()
            .cloned()
            .map(FleetDelta::Upsert)
            .chain(queue_deltas(&state))
            .collect();
        rng.shuffle(&mut finals);
        let mut m = Model::new(NS);
        for d in finals.clone() {
            m.apply(d, now);
        }
        m.verify();
        assert_eq!(m, expected, "seed {seed}: upserts in any order");

        // 3. Noise, then upserts of the final objects and deletes of everything else, in
        // any order (no Resync).
        let mut m = Model::new(NS);
        for (i, d) in noise(&mut rng, 80, false).into_iter().enumerate() {
            m.apply(d, t(i as i64));
        }
        let present: HashSet<(ObjectKind, &str)> =
            state.objects.iter().map(|o| (o.kind(), o.name())).collect();
        let mut ops = finals;
        ops.extend(
            all_names()
                .into_iter()
                .filter(|(k, n)| !present.contains(&(*k, n.as_str())))
                .map(|(kind, name)| FleetDelta::Delete {
                    kind,
                    namespace: NS.into(),
                    name,
                }),
        );
        rng.shuffle(&mut ops);
        for d in ops {
            m.apply(d, now);
        }
        m.verify();
        assert_eq!(m, expected, "seed {seed}: noise then final objects");
    }
}
