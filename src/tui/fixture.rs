//! A console model built from fixed wire objects at a fixed time: what the screen snapshots, the
//! `update` tests and the console benchmark draw. Nothing here is shown to users.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::model::{Info, Model};
use super::msg::{LinkKind, Msg};
use super::update::update;
use crate::fleet::delta::FleetDelta;
use crate::fleet::objects::{Object, QueueStats};
use crate::fleet::usage::{PodUsage, UsageReading};
use crate::metrics::parse::parse;
use crate::metrics::scrape::Target;
use crate::queue::depth::QueueReport;
use crate::queue::mgmt::MgmtQueue;

/// The fixed "now" of every fixture: 2026-12-01T12:00:00Z.
pub fn now() -> Timestamp {
    Timestamp::from_second(1_796_126_400).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn at(offset_s: i64) -> Timestamp {
    Timestamp::from_second(now().as_second() + offset_s).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn ts(offset_s: i64) -> String {
    at(offset_s).to_string()
}

pub fn info() -> Info {
    Info {
        context: "fleetctl-sim".into(),
        server: "https://127.0.0.1:6443".into(),
        namespace: "agents".into(),
        selector: "app=ai-agent".into(),
        local: None,
        broker: "amqp://guest:***@127.0.0.1:5672/%2f".into(),
        scrape: true,
    }
}

/// An empty console: nothing listed yet.
pub fn empty(width: u16, height: u16) -> Model {
    let mut m = Model::new(info(), now(), width, height);
    m.color = false;
    m
}

/// Every kind listed, empty: the model after the watchers' first lists found nothing.
pub fn listed(m: &mut Model) {
    let deltas = crate::fleet::objects::ObjectKind::ALL
        .into_iter()
        .map(|kind| FleetDelta::Resync {
            kind,
            objects: vec![],
        })
        .collect();
    update(
        m,
        Msg::Deltas {
            deltas,
            at: at(-61),
        },
    );
}

fn obj(v: Value) -> FleetDelta {
    FleetDelta::Upsert(Object::from_json(&v).unwrap_or_else(|| panic!("fixture object: {v}")))
}

pub fn scaled_job() -> Value {
    json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob",
        "metadata": {"name": "ai-agent", "namespace": "agents", "labels": {"app": "ai-agent"},
                     "creationTimestamp": ts(-7200), "uid": "sj-1"},
        "spec": {
            "pollingInterval": 10, "maxReplicaCount": 10,
            "jobTargetRef": {"template": {"metadata": {"labels": {"app": "ai-agent"}},
                "spec": {"containers": [{"name": "agent", "resources": {"limits": {"memory": "512Mi"}}}]}}},
            "triggers": [{"type": "rabbitmq", "metadata": {"queueName": "agent-tasks", "value": "5", "mode": "QueueLength"}}]
        }
    })
}

pub fn indexed_job(name: &str, completions: i32, completed: &str, sj: Option<&str>) -> Value {
    let mut labels = json!({"app": "ai-agent"});
    if let Some(sj) = sj {
        labels["scaledjob.keda.sh/name"] = json!(sj);
    }
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "agents", "labels": labels, "uid": format!("job-{name}"),
                     "creationTimestamp": ts(-600),
                     "annotations": {"fleetctl.io/queue": "agent-tasks"}},
        "spec": {"completions": completions, "parallelism": completions, "completionMode": "Indexed",
                 "template": {"metadata": {"labels": {"app": "ai-agent"}},
                   "spec": {"containers": [{"name": "agent", "resources": {"limits": {"memory": "512Mi"}}}]}}},
        "status": {"active": 2, "succeeded": 1, "failed": 1, "completedIndexes": completed}
    })
}

/// A pod of `job` in one of a few shapes: `running`, `pending`, `unschedulable`, `oom`,
/// `evicted`, `succeeded`.
pub fn pod(name: &str, job: &str, index: u32, shape: &str, age_s: i64) -> Value {
    let mut v = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "agents", "uid": format!("uid-{name}"),
                     "creationTimestamp": ts(-age_s),
                     "labels": {"app": "ai-agent", "batch.kubernetes.io/job-name": job,
                                "batch.kubernetes.io/job-completion-index": index.to_string()},
                     "annotations": {"prometheus.io/port": "8080"}},
        "spec": {"nodeName": "sim-node-1", "containers": [{"name": "agent",
                 "resources": {"limits": {"memory": "512Mi", "cpu": "500m"},
                               "requests": {"memory": "256Mi", "cpu": "250m"}}}]},
        "status": {"phase": "Running", "podIP": format!("127.1.0.{}", index + 10),
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "agent", "ready": true, "restartCount": 0,
                                          "state": {"running": {"startedAt": ts(-age_s)}}}]}
    });
    match shape {
        "pending" => {
            v["status"] = json!({"phase": "Pending", "containerStatuses": [{"name": "agent", "ready": false,
                "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]});
        }
        "unschedulable" => {
            v["spec"]["nodeName"] = Value::Null;
            v["status"] = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient memory."}]});
        }
        "oom" => {
            v["status"]["containerStatuses"][0]["restartCount"] = json!(2);
            v["status"]["containerStatuses"][0]["lastState"] = json!({"terminated": {"exitCode": 137,
                "reason": "OOMKilled", "finishedAt": ts(-120)}});
        }
        "evicted" => {
            v["status"] = json!({"phase": "Failed", "reason": "Evicted",
                "message": "The node was low on resource: memory.",
                "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
                                "lastTransitionTime": ts(-300)}]});
        }
        "succeeded" => {
            v["status"] = json!({"phase": "Succeeded", "containerStatuses": [{"name": "agent", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": ts(-30)}}}]});
        }
        _ => {}
    }
    v
}

pub fn pdb(allowed: i32) -> Value {
    json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "agent-pdb", "namespace": "agents", "labels": {"app": "ai-agent"}, "uid": "pdb-1"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ai-agent"}}},
        "status": {"currentHealthy": 1 + allowed, "desiredHealthy": 1, "disruptionsAllowed": allowed,
                   "expectedPods": 2, "observedGeneration": 1,
                   "conditions": [{"type": "DisruptionAllowed", "status": if allowed > 0 {"True"} else {"False"},
                                   "reason": if allowed > 0 {"SufficientPods"} else {"InsufficientPods"}}]}
    })
}

pub fn event(
    name: &str,
    pod: &str,
    reason: &str,
    warning: bool,
    age_s: i64,
    message: &str,
) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "agents", "uid": format!("ev-{name}")},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": "agents"},
        "reason": reason, "message": message, "type": if warning {"Warning"} else {"Normal"},
        "count": 1, "lastTimestamp": ts(-age_s), "source": {"component": "kubelet"}
    })
}

/// An agent's `/metrics` after `tasks` tasks.
pub fn exposition(tasks: u64, inflight: u64, rss_mb: u64) -> String {
    format!(
        "# TYPE agent_tasks_completed_total counter\n\
         agent_tasks_completed_total{{status=\"success\"}} {tasks}\n\
         agent_tasks_completed_total{{status=\"failure\"}} 0\n\
         # TYPE agent_llm_tokens_total counter\n\
         agent_llm_tokens_total{{model=\"sim\"}} {}\n\
         # TYPE agent_inflight_tasks gauge\n\
         agent_inflight_tasks {inflight}\n\
         # TYPE agent_resident_memory_bytes gauge\n\
         agent_resident_memory_bytes {}\n\
         # TYPE agent_task_duration_seconds histogram\n\
         agent_task_duration_seconds_bucket{{le=\"1\"}} {}\n\
         agent_task_duration_seconds_bucket{{le=\"5\"}} {tasks}\n\
         agent_task_duration_seconds_bucket{{le=\"+Inf\"}} {tasks}\n\
         agent_task_duration_seconds_sum {}\n\
         agent_task_duration_seconds_count {tasks}\n",
        tasks * 130,
        rss_mb * 1024 * 1024,
        tasks / 2,
        tasks * 2,
    )
}

/// A namespace with a ScaledJob fleet and an Indexed Job fleet, pods in every shape, a PDB,
/// events, queue readings, the management API's figures and two scrape rounds.
pub fn fleet(width: u16, height: u16) -> Model {
    let mut m = empty(width, height);
    listed(&mut m);
    let deltas = vec![
        obj(scaled_job()),
        obj(indexed_job("ai-agent-7xkq2", 1, "", Some("ai-agent"))),
        obj(indexed_job("ai-agent-batch", 8, "0,2-3", None)),
        obj(pdb(1)),
        obj(pod(
            "ai-agent-7xkq2-0-abcde",
            "ai-agent-7xkq2",
            0,
            "running",
            420,
        )),
        obj(pod(
            "ai-agent-batch-1-fghjk",
            "ai-agent-batch",
            1,
            "running",
            500,
        )),
        obj(pod(
            "ai-agent-batch-4-lmnpq",
            "ai-agent-batch",
            4,
            "oom",
            480,
        )),
        obj(pod(
            "ai-agent-batch-5-rstvw",
            "ai-agent-batch",
            5,
            "unschedulable",
            60,
        )),
        obj(pod(
            "ai-agent-batch-6-xz245",
            "ai-agent-batch",
            6,
            "evicted",
            900,
        )),
        obj(pod(
            "ai-agent-batch-0-b6789",
            "ai-agent-batch",
            0,
            "succeeded",
            590,
        )),
        obj(event(
            "e1",
            "ai-agent-batch-4-lmnpq",
            "BackOff",
            true,
            100,
            "Back-off restarting failed container agent in pod ai-agent-batch-4-lmnpq",
        )),
        obj(event(
            "e2",
            "ai-agent-batch-5-rstvw",
            "FailedScheduling",
            true,
            50,
            "0/3 nodes are available: 3 Insufficient memory.",
        )),
        obj(event(
            "e3",
            "ai-agent-batch-1-fghjk",
            "Started",
            false,
            490,
            "Started container agent",
        )),
        obj(event(
            "e4",
            "ai-agent-batch-6-xz245",
            "Evicted",
            true,
            300,
            "The node was low on resource: memory.",
        )),
    ];
    update(
        &mut m,
        Msg::Deltas {
            deltas,
            at: at(-60),
        },
    );
    feed(&mut m);
    m
}

/// Queue readings, the management API, links and two scrape rounds, 15 s apart.
pub fn feed(m: &mut Model) {
    let mut r = QueueReport {
        at: at(-20),
        ..Default::default()
    };
    r.stats.insert(
        "agent-tasks".into(),
        QueueStats {
            ready: 12,
            consumers: 2,
            at: at(-20),
        },
    );
    update(m, Msg::Queues(r));
    let mut mg = std::collections::BTreeMap::new();
    mg.insert(
        "agent-tasks".to_string(),
        Ok(MgmtQueue {
            ready: 12,
            unacked: 2,
            consumers: 2,
            publish_rate: Some(3.5),
            deliver_rate: Some(1.2),
        }),
    );
    mg.insert(
        "agent-tasks.dlq".to_string(),
        Ok(MgmtQueue {
            ready: 3,
            ..Default::default()
        }),
    );
    update(
        m,
        Msg::Mgmt {
            at: at(-20),
            queues: Ok(mg),
        },
    );
    update(
        m,
        Msg::Link {
            kind: LinkKind::Api,
            up: Ok(()),
            at: at(-5),
        },
    );
    let targets = m.agents.targets(&m.fleet);
    for (i, t_at) in [at(-30), at(-15)].into_iter().enumerate() {
        let results = targets
            .iter()
            .map(|t: &Target| {
                (
                    t.clone(),
                    Ok(parse(&exposition(
                        10 + 5 * i as u64,
                        1,
                        180 + 20 * i as u64,
                    ))),
                )
            })
            .collect();
        update(m, Msg::Scraped((t_at, results)));
    }
    update(m, usage_reading(at(-10)));
    update(m, Msg::Tick(now()));
    m.refresh();
}

/// A reading of `metrics.k8s.io` for the running pods of [`fleet`], taken at `at`.
pub fn usage_reading(at: Timestamp) -> Msg {
    let pods = [
        ("ai-agent-7xkq2-0-abcde", 120.0, 150u64 << 20),
        ("ai-agent-batch-1-fghjk", 480.0, 200 << 20),
        ("ai-agent-batch-4-lmnpq", 35.0, 470 << 20),
    ]
    .into_iter()
    .map(|(name, cpu, mem)| PodUsage::new("agents", name, cpu, mem, Some(10.0)));
    Msg::Usage {
        reading: UsageReading::served(pods),
        at,
    }
}

/// A Job fleet of `pods` running agent pods (for the 10,000-pod screens and benchmark).
pub fn large(width: u16, height: u16, pods: u32) -> Model {
    let mut m = empty(width, height);
    listed(&mut m);
    let mut deltas = vec![
        obj(indexed_job("ai-agent-batch", pods as i32, "", None)),
        obj(pdb(1)),
    ];
    for i in 0..pods {
        let shape = match i % 100 {
            0 => "pending",
            1 => "oom",
            _ => "running",
        };
        deltas.push(obj(pod(
            &format!("ai-agent-batch-{i}-x{i:05}"),
            "ai-agent-batch",
            i,
            shape,
            60 + i64::from(i % 600),
        )));
    }
    update(
        &mut m,
        Msg::Deltas {
            deltas,
            at: at(-60),
        },
    );
    update(&mut m, Msg::Tick(now()));
    m.refresh();
    m
}
