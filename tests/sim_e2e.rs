//! The whole local cluster at work: the bundled manifests applied with `kubectl apply
//! --server-side`, the KEDA scaler reading the real queue, the Job controller, scheduler and
//! kubelet running real `fleetctl agent` processes against real RabbitMQ.
//!
//! Each test uses a queue of its own (the bundled objects are rewritten to it before they are
//! applied) and leaves out the `ai-agent-batch` Job fleet unless it is about it.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

use common::TempDir;
use fleetctl::sim::controllers::ControllerOptions;
use fleetctl::sim::runtime::{RunningSim, SimOptions, start};

const NS: &str = "agents";

fn ready(test: &str) -> bool {
    common::require_broker(test) && common::require(common::kubectl_on_path(), test, "kubectl")
}

struct Cluster {
    sim: RunningSim,
    client: Client,
    state: PathBuf,
    queue: String,
    _dir: TempDir,
}

impl Cluster {
    /// Stops the sim (and every agent) and deletes the test's queues.
    async fn finish(self) {
        self.sim.stop().await;
        common::delete_queue(&self.queue);
        common::delete_queue(&format!("{}.dlq", self.queue));
    }
}

async fn cluster(prefix: &str) -> Cluster {
    common::install_crypto();
    let dir = TempDir::new(prefix);
    let state = dir.path().join("state");
    let mut opts = SimOptions::new(dir.path().join("kubeconfig"));
    opts.controllers = Some(ControllerOptions {
        agent_exe: PathBuf::from(env!("CARGO_BIN_EXE_fleetctl")),
        ..ControllerOptions::new(state.clone())
    });
    let sim = start(opts).await.expect("the sim starts");
    let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
        .await
        .unwrap();
    Cluster {
        sim,
        client,
        state,
        queue: common::unique_queue(prefix),
        _dir: dir,
    }
}

fn kubectl(c: &Cluster, args: &[&str]) -> common::Run {
    common::kubectl_logged(&c.sim.kubeconfig, args)
}

fn seed(c: &Cluster, count: u32, steps: u32, step_ms: u32) {
    let run = common::run(common::fleetctl().args([
        "seed",
        "--amqp-url",
        &common::amqp_url(),
        "--queue",
        &c.queue,
        "--count",
        &count.to_string(),
        "--steps",
        &steps.to_string(),
        "--step-ms",
        &step_ms.to_string(),
    ]));
    assert_eq!(run.code, 0, "{}", run.all());
}

async fn jobs(c: &Cluster) -> Vec<Job> {
    Api::<Job>::namespaced(c.client.clone(), NS)
        .list(&ListParams::default().labels("scaledjob.keda.sh/name=ai-agent"))
        .await
        .unwrap()
        .items
}

fn complete(j: &Job) -> bool {
    j.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "Complete" && c.status == "True")
        })
}

fn results(c: &Cluster) -> usize {
    let dir = c
        .state
        .join("volumes/pvc")
        .join(NS)
        .join("agent-checkpoints/results");
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn keda_scales_on_queue_depth_and_real_agents_drain_the_queue() {
    if !ready("keda_scales_on_queue_depth") {
        return;
    }
    let c = cluster("e2e-scale").await;
    let dir = TempDir::new("e2e-scale-m");
    let m = common::fleet_manifests(dir.path(), &c.queue, &["ScaledJob"], |_| {});
    let run = kubectl(&c, &["apply", "--server-side", "-f", m.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.all());

    // 10 ready messages, value 5: exactly two Jobs.
    seed(&c, 10, 1, 50);
    common::eventually(60, "2 Jobs", || async {
        (jobs(&c).await.len() == 2).then_some(())
    })
    .await;
    common::eventually(120, "both Jobs Complete, the queue empty", || async {
        let js = jobs(&c).await;
        let q = common::list_queue(&c.queue).map(|(n, _)| n);
        (js.iter().all(complete) && q == Some(0)).then_some(())
    })
    .await;
    assert_eq!(
        jobs(&c).await.len(),
        2,
        "no Job beyond the two the depth called for"
    );
    assert_eq!(
        results(&c),
        10,
        "every task has its result on the shared volume"
    );

    // 50 more: ten Jobs more (the history limit of 10 then removes the oldest finished ones,
    // so KEDA's own account, its KEDAJobsCreated events, is what is checked).
    seed(&c, 50, 1, 50);
    let events: Api<Event> = Api::namespaced(c.client.clone(), NS);
    let created = || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        let n: u32 = list
            .items
            .iter()
            .filter(|e| e.reason.as_deref() == Some("KEDAJobsCreated"))
            .filter_map(|e| {
                let n: u32 = e
                    .message
                    .as_deref()?
                    .strip_prefix("Created ")?
                    .strip_suffix(" jobs")?
                    .parse()
                    .ok()?;
                Some(n * e.count.unwrap_or(1) as u32)
            })
            .sum();
        Some(n)
    };
    common::eventually(60, "12 Jobs created in all", || async {
        (created().await? == 12).then_some(())
    })
    .await;
    common::eventually(180, "every Job Complete, the queue empty", || async {
        let js = jobs(&c).await;
        let q = common::list_queue(&c.queue).map(|(n, _)| n);
        (js.iter().all(complete) && q == Some(0)).then_some(())
    })
    .await;
    assert_eq!(created().await, Some(12), "no Job beyond the depth's");
    assert_eq!(results(&c), 60);
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keda_pause_stops_new_jobs_and_resume_scales_again() {
    if !ready("keda_pause") {
        return;
    }
    let c = cluster("e2e-pause").await;
    let dir = TempDir::new("e2e-pause-m");
    let m = common::fleet_manifests(dir.path(), &c.queue, &["ScaledJob"], |d| {
        if d["kind"] == "ScaledJob" {
            d["metadata"]["annotations"] = json!({"autoscaling.keda.sh/paused": "true"});
        }
    });
    let run = kubectl(&c, &["apply", "--server-side", "-f", m.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.all());
    seed(&c, 10, 1, 50);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(jobs(&c).await.is_empty(), "paused: no Job");
    let run = kubectl(
        &c,
        &[
            "-n",
            NS,
            "annotate",
            "scaledjob",
            "ai-agent",
            "autoscaling.keda.sh/paused-",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    common::eventually(60, "2 Jobs after the resume", || async {
        (jobs(&c).await.len() == 2).then_some(())
    })
    .await;
    common::eventually(120, "the queue drained", || async {
        (common::list_queue(&c.queue).map(|(n, _)| n) == Some(0)
            && jobs(&c).await.iter().all(complete))
        .then_some(())
    })
    .await;
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn suspending_a_job_checkpoints_its_agents_and_resuming_finishes_the_work() {
    if !ready("suspend_checkpoints") {
        return;
    }
    let c = cluster("e2e-suspend").await;
    let dir = TempDir::new("e2e-suspend-m");
    let m = common::fleet_manifests(dir.path(), &c.queue, &["Job"], |d| {
        if d["kind"] == "Job" {
            d["spec"]["completions"] = json!(3);
            d["spec"]["parallelism"] = json!(3);
        }
    });
    // Long tasks: 40 steps of 100 ms, so a suspend lands mid-task.
    seed(&c, 6, 40, 100);
    let run = kubectl(&c, &["apply", "--server-side", "-f", m.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let pods: Api<Pod> = Api::namespaced(c.client.clone(), NS);
    let running = |p: &Pod| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    common::eventually(60, "3 agents running", || async {
        let l = pods
            .list(&ListParams::default().labels("job-name=ai-agent-batch"))
            .await
            .ok()?;
        (l.items.iter().filter(|p| running(p)).count() == 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let jobs: Api<Job> = Api::namespaced(c.client.clone(), NS);
    jobs.patch(
        "ai-agent-batch",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": true}})),
    )
    .await
    .unwrap();
    common::eventually(60, "every agent gone", || async {
        let l = pods
            .list(&ListParams::default().labels("job-name=ai-agent-batch"))
            .await
            .ok()?;
        l.items
            .iter()
            .all(|p| !running(p) && p.metadata.deletion_timestamp.is_none())
            .then_some(())
    })
    .await;
    // Each agent checkpointed its task in flight on the shared volume before it exited.
    let in_flight = |c: &Cluster| {
        let dir = c
            .state
            .join("volumes/pvc")
            .join(NS)
            .join("agent-checkpoints/tasks");
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert!(in_flight(&c) >= 1, "no checkpoint of the interrupted tasks");
    assert!(results(&c) < 6, "the suspend came before the work was done");
    let job = jobs.get("ai-agent-batch").await.unwrap();
    let status = job.status.unwrap();
    let conditions = status.conditions.clone().unwrap_or_default();
    assert!(
        conditions.iter().any(|c| c.type_ == "Suspended"
            && c.status == "True"
            && c.reason.as_deref() == Some("JobSuspended")),
        "{status:?}"
    );

    jobs.patch(
        "ai-agent-batch",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": false}})),
    )
    .await
    .unwrap();
    common::eventually(180, "all six tasks done once", || async {
        let q = common::list_queue(&c.queue).map(|(n, _)| n);
        (results(&c) == 6 && q == Some(0)).then_some(())
    })
    .await;
    assert_eq!(
        common::list_queue(&format!("{}.dlq", c.queue)).map(|(n, _)| n),
        Some(0),
        "nothing dead-lettered"
    );
    assert_eq!(in_flight(&c), 0, "every checkpoint became a result");
    let _ = kubectl(&c, &["-n", NS, "get", "pods", "-o", "wide"]);
    c.finish().await;
}
