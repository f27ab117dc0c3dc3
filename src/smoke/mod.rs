//! `fleetctl smoke-test`: proves that a cluster is ready for the fleet by running tasks through
//! the whole chain (API and KEDA, bundled manifests, seeding, KEDA's scaling, agent pods, their
//! metrics, completion, clean-up) and says exactly which step failed and why.
//!
//! The steps reuse the library: [`crate::cluster::apply`] for the manifests and their lints
//! ([`crate::fleet::health`]), [`crate::queue::amqp`] for the broker, [`crate::cluster::watch`]
//! for Jobs and pods, [`crate::metrics::scrape`] for the agents' counters,
//! [`crate::fleet::scaling`] (through [`report::expected_jobs`]) for the Jobs KEDA must create,
//! and [`crate::cluster::actions::evict_pod`] for the disruption. The report is plain data
//! ([`report`]); the command prints it.

mod preflight;
pub mod report;
mod steps;

pub use preflight::{Access, needed_access};

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use jiff::Timestamp;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::cluster::actions::evict_pod;
use crate::cluster::apply::{
    self, ApplyError, ApplyOptions, Change, KEDA_INSTALL, Object, SECRET, load_bundled, prepare,
};
use crate::cluster::error::KubeFailure;
use crate::cluster::watch::{self, WatchSpec};
use crate::fleet::delta::FleetDelta;
use crate::fleet::health::Severity;
use crate::fleet::model::Model;
use crate::fleet::objects::{
    AgentPod, JobSummary, LABEL_SCALED_JOB, Labels, ObjectKind, PdbStatus, PodPhase, QueueStats,
    ScaledJobSummary,
};
use crate::fleet::selector::Selector;
use crate::metrics::scrape::{ScrapeConfig, Scraper, Target};
use crate::metrics::series::TASKS;
use crate::queue::amqp::{Broker, SeedPlan, parse_url, seed};
use crate::queue::error::QueueError;
use crate::queue::task::Template;
use crate::queue::topology::{DEFAULT_QUEUE, Topology, dlq_name};
use crate::redact::mask_url;
use report::{Report, StepName, StepReport, human};

/// The connection name the run's broker connection carries.
const CONNECTION: &str = "fleetctl-smoke-test";
/// How long KEDA may take beyond its pollingInterval to create the Jobs.
const SCALE_MARGIN: Duration = Duration::from_secs(15);
/// How often running agents are scraped while the run waits.
const SCRAPE_EVERY: Duration = Duration::from_millis(500);
/// How long the Metrics step waits for every running agent to answer.
const METRICS_WAIT: Duration = Duration::from_secs(15);
/// How long clean-up may take, whatever `--timeout` is left.
const CLEANUP_WAIT: Duration = Duration::from_secs(60);
/// The agents of a smoke run leave this soon after the queue is empty.
const IDLE_EXIT: &str = "3s";

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub namespace: String,
    /// The broker the run seeds and reads (`--amqp-url`).
    pub amqp_url: String,
    pub count: u64,
    /// For the whole run but clean-up.
    pub timeout: Duration,
    pub keep: bool,
    /// The fleet's queue; None: a fresh `smoke-<id>` queue.
    pub queue: Option<String>,
    /// The ScaledJob's pollingInterval for the run.
    pub poll: Option<Duration>,
    pub disruption: bool,
    /// Becomes true to stop the run (Ctrl-C, or the console's cancel): the step in progress is
    /// abandoned, the rest are skipped, and clean-up still runs.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

/// The message of the step a stop interrupted.
pub const INTERRUPTED: &str = "interrupted: cleaning up what the run changed";

/// What the run tells its caller as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    Started(StepName),
    /// What the step in progress waits for.
    Waiting(&'a str),
    Done(&'a StepReport),
}

/// The callback that receives [`Event`]s.
pub type Progress<'a> = &'a mut (dyn FnMut(Event<'_>) + Send + Sync);

/// What the run changed on the ScaledJob, to put back.
#[derive(Debug, Clone)]
struct Prior {
    triggers: Value,
    containers: Value,
    polling_interval: Value,
}

/// One agent pod as the scrapes saw it.
#[derive(Debug, Clone, Default)]
struct Scraped {
    /// Its last `agent_tasks_completed_total{status="success"}`.
    completed: Option<f64>,
    /// Scraped well at least once, serving the tasks counter.
    served: bool,
    /// Why the last scrape failed.
    error: Option<String>,
    /// `agent_inflight_tasks` at the last scrape.
    inflight: f64,
}

/// Why the ScaledJob could not be pointed at the run's queue.
#[derive(Debug, thiserror::Error)]
enum PointError {
    #[error("ScaledJob {scaled_job} has no rabbitmq trigger; it cannot scale on the queue")]
    NoRabbitmqTrigger { scaled_job: String },
    #[error("cannot point ScaledJob {scaled_job} at queue {queue}: {source}")]
    Patch {
        scaled_job: String,
        queue: String,
        source: KubeFailure,
    },
}

struct Run<'a, 'p> {
    client: Client,
    opts: &'a Options,
    progress: Progress<'p>,
    deadline: Instant,
    steps: Vec<StepReport>,
    sj_name: String,
    queue: String,
    fresh_queue: bool,
    broker: Option<Broker>,
    prior: Option<Prior>,
    dlq_before: u32,
    /// Jobs of the ScaledJob that existed before the run.
    jobs_before: BTreeSet<String>,
    /// Of those, the unfinished ones (KEDA's R).
    running_before: i64,
    expected_jobs: u64,
    model: Model,
    rx: Option<mpsc::Receiver<FleetDelta>>,
    watchers: Option<watch::Watchers>,
    scraper: Option<Scraper>,
    last_scrape: Option<Instant>,
    scraped: BTreeMap<String, Scraped>,
    /// Pods seen Running at some point.
    ran: BTreeSet<String>,
    evicted: Option<String>,
}

/// Runs the smoke test against `client` (whose API server is `server`) and returns the report.
/// Clean-up runs whatever failed before it, unless `--keep`.
pub async fn run(client: Client, server: String, opts: &Options, progress: Progress<'_>) -> Report {
    let started = std::time::Instant::now();
    let mut r = Run {
        client,
        opts,
        progress,
        deadline: Instant::now() + opts.timeout,
        steps: Vec::new(),
        sj_name: String::new(),
        queue: opts.queue.clone().unwrap_or_default(),
        fresh_queue: opts.queue.is_none(),
        broker: None,
        prior: None,
        dlq_before: 0,
        jobs_before: BTreeSet::new(),
        running_before: 0,
        expected_jobs: 0,
        model: Model::new(opts.namespace.clone()),
        rx: None,
        watchers: None,
        scraper: None,
        last_scrape: None,
        scraped: BTreeMap::new(),
        ran: BTreeSet::new(),
        evicted: None,
    };
    if r.fresh_queue {
        let id = uuid::Uuid::new_v4().simple().to_string();
        r.queue = format!("smoke-{}", &id[..8]);
    }
    for name in StepName::ALL {
        if name == StepName::Cleanup {
            break;
        }
        let skip = if r.steps.iter().any(|s| s.status == report::Status::Failed) {
            Some("not run: an earlier step failed")
        } else if name == StepName::Disruption && !opts.disruption {
            Some("not asked for (--disruption)")
        } else {
            None
        };
        match skip {
            Some(why) => {
                let s = StepReport::skipped(name, why);
                (r.progress)(Event::Done(&s));
                r.steps.push(s);
            }
            None => {
                let interrupted = match opts.stop.clone() {
                    Some(mut stop) => tokio::select! {
                        () = r.step(name) => false,
                        _ = stop.wait_for(|s| *s) => true,
                    },
                    None => {
                        r.step(name).await;
                        false
                    }
                };
                if interrupted {
                    let s = StepReport::failed(name, None, None, INTERRUPTED);
                    (r.progress)(Event::Done(&s));
                    r.steps.push(s);
                }
            }
        }
    }
    r.step(StepName::Cleanup).await;
    if let Some(b) = r.broker.take() {
        b.close().await;
    }
    let (result, failed_step, reason) = Report::verdict(&r.steps);
    Report {
        result,
        failed_step,
        reason,
        server,
        namespace: opts.namespace.clone(),
        scaled_job: r.sj_name.clone(),
        queue: r.queue.clone(),
        count: opts.count,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        steps: r.steps,
    }
}

/// The report of a run that could not build a client (a kubeconfig or context problem): the
/// preflight fails with `message`, nothing else runs.
pub fn not_connected(opts: &Options, message: String) -> Report {
    let mut steps = vec![StepReport::failed(
        StepName::Preflight,
        Some(5),
        Some(0),
        message,
    )];
    steps.extend(
        StepName::ALL[1..]
            .iter()
            .map(|&n| StepReport::skipped(n, "not run: an earlier step failed")),
    );
    let (result, failed_step, reason) = Report::verdict(&steps);
    Report {
        result,
        failed_step,
        reason,
        server: String::new(),
        namespace: opts.namespace.clone(),
        scaled_job: String::new(),
        queue: opts.queue.clone().unwrap_or_default(),
        count: opts.count,
        seconds: 0.0,
        steps,
    }
}

impl Run<'_, '_> {
    fn ns(&self) -> &str {
        &self.opts.namespace
    }

    async fn step(&mut self, name: StepName) {
        (self.progress)(Event::Started(name));
        let t = std::time::Instant::now();
        let report = match name {
            StepName::Preflight => self.preflight().await,
            StepName::Manifests => self.manifests().await,
            StepName::Seed => self.seed().await,
            StepName::Scale => self.scale().await,
            StepName::Pods => self.pods().await,
            StepName::Metrics => self.metrics().await,
            StepName::Disruption => self.disruption().await,
            StepName::Completion => self.completion().await,
            StepName::Cleanup => self.cleanup().await,
        };
        let report = report.timed(t.elapsed().as_secs_f64());
        (self.progress)(Event::Done(&report));
        self.steps.push(report);
    }

    fn waiting(&mut self, what: &str) {
        (self.progress)(Event::Waiting(what));
    }

    fn timed_out(&self) -> String {
        format!("--timeout {} expired", human(self.opts.timeout))
    }

    // ---- 2. Manifests -------------------------------------------------------------------

    async fn manifests(&mut self) -> StepReport {
        let name = StepName::Manifests;
        let objects = match load_bundled().and_then(|b| prepare(b, &self.opts.namespace, None)) {
            Ok(b) => b,
            Err(e) => return StepReport::failed(name, None, None, e.to_string()),
        };
        // The Indexed Job fleet would start its agents on the fleet's queue: not part of a
        // smoke run (`fleetctl apply` installs it).
        let (left_out, objects): (Vec<Object>, Vec<Object>) =
            objects.into_iter().partition(|o| o.kind() == "Job");
        let Some(sj) = objects.iter().find(|o| o.kind() == "ScaledJob") else {
            return StepReport::failed(name, None, None, "the bundle has no ScaledJob");
        };
        self.sj_name = sj.name().to_string();
        let opts = ApplyOptions {
            namespace: self.opts.namespace.clone(),
            dry_run: false,
        };
        let mut results: Vec<(String, Result<Change, String>, bool)> = Vec::new();
        let applied = apply::apply(&self.client, &objects, &opts, &mut |a| {
            let result = a.result.as_ref().map(|c| *c).map_err(|e| e.to_string());
            results.push((a.object.clone(), result, a.conflict()))
        })
        .await;
        if let Err(e) = applied {
            return StepReport::failed(name, Some(objects.len() as u64), Some(0), e.to_string());
        }
        let total = objects.len() as u64;
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        let mut kept = Vec::new();
        let mut errors = Vec::new();
        for (object, result, conflict) in &results {
            match result {
                Ok(c) => *counts.entry(c.as_str()).or_default() += 1,
                Err(_) if *conflict => kept.push(object.clone()),
                Err(e) => errors.push(e.clone()),
            }
        }
        let ok = total - errors.len() as u64;
        if !errors.is_empty() {
            return StepReport::failed(name, Some(total), Some(ok), errors.join("; "));
        }
        let mut message: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        if !kept.is_empty() {
            message.push(format!(
                "{} kept as another field manager set them ({})",
                kept.len(),
                kept.join(", ")
            ));
        }
        for o in &left_out {
            message.push(format!(
                "{} left out (its agents would work the fleet's queue)",
                o.display()
            ));
        }

        // The lints of `fleetctl status` on what is now there.
        let selector =
            Selector::from_labels(Labels::from([("app".to_string(), "ai-agent".to_string())]));
        let spec = WatchSpec::all(self.opts.namespace.clone(), selector);
        let (state, _) = match watch::list_state(&self.client, &spec).await {
            Ok(s) => s,
            Err(e) => {
                return StepReport::failed(
                    name,
                    Some(total),
                    Some(ok),
                    format!(
                        "cannot list the fleet's objects to lint them: {}",
                        KubeFailure::classify(&e)
                    ),
                );
            }
        };
        let now = Timestamp::now();
        let model = Model::from_state(&state, now);
        let mut critical = Vec::new();
        let mut warnings = Vec::new();
        for f in model.report(now) {
            for finding in &f.findings {
                let line = format!(
                    "{}/{}: {}",
                    f.fleet.kind.lower(),
                    f.fleet.name,
                    finding.message
                );
                match finding.severity {
                    Severity::Critical => critical.push(line),
                    Severity::Warning => warnings.push(line),
                }
            }
        }
        if !critical.is_empty() {
            return StepReport::failed(
                name,
                Some(total),
                Some(ok),
                format!(
                    "critical finding{}: {}",
                    if critical.len() == 1 { "" } else { "s" },
                    critical.join("; ")
                ),
            );
        }
        if !warnings.is_empty() {
            message.push(format!("warnings: {}", warnings.join("; ")));
        }
        StepReport::passed(name, total, ok, message.join("; "))
    }

    // ---- 3. Seed ------------------------------------------------------------------------

    async fn sj_api(&self) -> Api<DynamicObject> {
        Api::namespaced_with(
            self.client.clone(),
            self.ns(),
            &watch::object_resource(ObjectKind::ScaledJob),
        )
    }

    fn task_shape(&self) -> (u32, u64) {
        // Long enough with --disruption that an agent is evicted mid-task.
        if self.opts.disruption {
            (6, 500)
        } else {
            (2, 150)
        }
    }

    async fn seed(&mut self) -> StepReport {
        let name = StepName::Seed;
        let count = self.opts.count;
        let fail = |seen: Option<u64>, m: String| StepReport::failed(name, Some(count), seen, m);
        let topology = match Topology::new(&self.queue) {
            Ok(t) => t,
            Err(e) => return fail(None, format!("queue {}: {e}", self.queue)),
        };
        let Some(broker) = &self.broker else {
            return fail(None, "no broker connection".into());
        };
        let (steps, step_ms) = self.task_shape();
        let plan = SeedPlan {
            topology: topology.clone(),
            templates: vec![Template::new("smoke", steps, step_ms)],
            count,
            window: 512,
        };
        // The ScaledJob and its Jobs before the run.
        let api = self.sj_api().await;
        let sj = match api.get_opt(&self.sj_name).await {
            Ok(Some(o)) => serde_json::to_value(&o).unwrap_or_default(),
            Ok(None) => return fail(None, format!("ScaledJob {} is gone", self.sj_name)),
            Err(e) => {
                return fail(
                    None,
                    format!(
                        "cannot read ScaledJob {}: {}",
                        self.sj_name,
                        KubeFailure::classify(&e)
                    ),
                );
            }
        };
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), self.ns());
        let lp = ListParams::default().labels(&format!("{LABEL_SCALED_JOB}={}", self.sj_name));
        match jobs.list(&lp).await {
            Ok(list) => {
                self.jobs_before = list
                    .items
                    .iter()
                    .filter_map(|j| j.metadata.name.clone())
                    .collect();
                self.running_before = list
                    .items
                    .iter()
                    .filter_map(|j| serde_json::to_value(j).ok())
                    .filter_map(|v| JobSummary::from_json(&v))
                    .filter(JobSummary::unfinished)
                    .count() as i64;
            }
            Err(e) => {
                return fail(
                    None,
                    format!(
                        "cannot list the Jobs of {}: {}",
                        self.sj_name,
                        KubeFailure::classify(&e)
                    ),
                );
            }
        }

        let seeded = seed(broker, &plan, |_| {}, std::future::pending::<()>()).await;
        let report = match seeded {
            Ok(r) => r,
            Err(e) => return fail(None, e.to_string()),
        };
        if !report.ok() {
            return fail(
                Some(report.confirmed),
                format!(
                    "only {} of {count} tasks were confirmed into {}{}",
                    report.confirmed,
                    self.queue,
                    report.error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
            );
        }
        self.dlq_before = broker
            .depth(&dlq_name(&self.queue))
            .await
            .map(|d| d.ready)
            .unwrap_or(0);

        // Point the ScaledJob at the queue, and its pollingInterval, for the run.
        match self.point_scaled_job(&sj).await {
            Ok(()) => {}
            Err(m) => return fail(Some(report.confirmed), m.to_string()),
        }
        let poll = self
            .opts
            .poll
            .map(|p| format!(", pollingInterval {}s for the run", p.as_secs().max(1)))
            .unwrap_or_default();
        StepReport::passed(
            name,
            count,
            report.confirmed,
            format!(
                "{} tasks confirmed into {} ({steps} steps of {step_ms}ms); ScaledJob {} reads it{poll}",
                report.confirmed, self.queue, self.sj_name
            ),
        )
    }

    /// Sets the trigger's queue, the agent's `--queue` (and, on a fresh queue, a short
    /// `--idle-exit`), and the pollingInterval; remembers what was there.
    async fn point_scaled_job(&mut self, sj: &Value) -> Result<(), PointError> {
        let spec = &sj["spec"];
        let mut triggers = spec["triggers"].clone();
        let mut containers = spec["jobTargetRef"]["template"]["spec"]["containers"].clone();
        let prior = Prior {
            triggers: triggers.clone(),
            containers: containers.clone(),
            polling_interval: spec["pollingInterval"].clone(),
        };
        let mut changed = false;
        if let Some(t) = triggers
            .as_array_mut()
            .and_then(|ts| ts.iter_mut().find(|t| t["type"] == "rabbitmq"))
        {
            if t["metadata"]["queueName"] != self.queue.as_str() {
                t["metadata"]["queueName"] = json!(self.queue);
                changed = true;
            }
        } else {
            return Err(PointError::NoRabbitmqTrigger {
                scaled_job: self.sj_name.clone(),
            });
        }
        if let Some(cs) = containers.as_array_mut() {
            let i = cs.iter().position(|c| c["name"] == "agent").unwrap_or(0);
            if let Some(args) = cs.get_mut(i).and_then(|c| c["args"].as_array_mut()) {
                let mut set = |flag: &str, value: &str| match args.iter().position(|a| a == flag) {
                    Some(p) if p + 1 < args.len() => {
                        if args[p + 1] != value {
                            args[p + 1] = json!(value);
                            return true;
                        }
                        false
                    }
                    _ => {
                        args.extend([json!(flag), json!(value)]);
                        true
                    }
                };
                changed |= set("--queue", &self.queue);
                if self.fresh_queue {
                    changed |= set("--idle-exit", IDLE_EXIT);
                }
            }
        }
        let mut patch = json!({"spec": {"triggers": triggers,
            "jobTargetRef": {"template": {"spec": {"containers": containers}}}}});
        if let Some(p) = self.opts.poll {
            let secs = p.as_secs().max(1);
            if spec["pollingInterval"].as_u64() != Some(secs) {
                patch["spec"]["pollingInterval"] = json!(secs);
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
        let api = self.sj_api().await;
        api.patch(
            &self.sj_name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .map_err(|e| PointError::Patch {
            scaled_job: self.sj_name.clone(),
            queue: self.queue.clone(),
            source: KubeFailure::classify(&e),
        })?;
        self.prior = Some(prior);
        Ok(())
    }

    // ---- the watch and the scrapes that the waiting steps share ---------------------------

    fn start_watching(&mut self) {
        if self.watchers.is_some() {
            return;
        }
        let selector = Selector::from_labels(Labels::from([(
            LABEL_SCALED_JOB.to_string(),
            self.sj_name.clone(),
        )]));
        let spec = WatchSpec {
            namespace: self.opts.namespace.clone(),
            selector: selector.clone(),
            kinds: vec![
                ObjectKind::Job,
                ObjectKind::Pod,
                ObjectKind::PodDisruptionBudget,
            ],
        };
        let (tx, rx) = mpsc::channel(4096);
        self.watchers = Some(watch::spawn(self.client.clone(), &spec, tx));
        self.rx = Some(rx);
        self.model = Model::with_selector(self.opts.namespace.clone(), selector);
        let cfg = ScrapeConfig {
            jitter: Duration::ZERO,
            ..ScrapeConfig::default()
        };
        self.scraper = Scraper::new(cfg, Some(self.client.clone())).ok();
    }

    /// The run's Jobs: the ScaledJob's, made after the run began.
    fn run_jobs(&self) -> Vec<&JobSummary> {
        self.model
            .jobs()
            .values()
            .filter(|j| j.scaled_job.as_deref() == Some(self.sj_name.as_str()))
            .filter(|j| !self.jobs_before.contains(&j.name))
            .collect()
    }

    /// The run's pods: those of the run's Jobs.
    fn run_pods(&self) -> Vec<&AgentPod> {
        let jobs: BTreeSet<&str> = self.run_jobs().iter().map(|j| j.name.as_str()).collect();
        self.model
            .pods()
            .values()
            .filter(|p| p.job_name.as_deref().is_some_and(|j| jobs.contains(j)))
            .collect()
    }

    /// Applies what the watchers sent, and scrapes the running agents when it is time; waits
    /// at most until `until` (and at most one scrape interval).
    async fn pump(&mut self, until: Instant) {
        let due = self
            .last_scrape
            .map_or(Instant::now(), |t| t + SCRAPE_EVERY);
        if Instant::now() >= due {
            self.scrape().await;
        }
        let wake = due
            .max(Instant::now() + Duration::from_millis(50))
            .min(until);
        let Some(rx) = self.rx.as_mut() else {
            tokio::time::sleep_until(wake).await;
            return;
        };
        if let Ok(Some(d)) = tokio::time::timeout_at(wake, rx.recv()).await {
            self.model.apply(d, Timestamp::now());
            while let Ok(d) = rx.try_recv() {
                self.model.apply(d, Timestamp::now());
            }
        }
        let running: Vec<String> = self
            .run_pods()
            .into_iter()
            .filter(|p| p.phase == PodPhase::Running)
            .map(|p| p.name.clone())
            .collect();
        self.ran.extend(running);
    }

    async fn scrape(&mut self) {
        self.last_scrape = Some(Instant::now());
        let Some(scraper) = &self.scraper else { return };
        let targets: Vec<Target> = self
            .run_pods()
            .into_iter()
            .filter_map(Target::from_pod)
            .collect();
        if targets.is_empty() {
            return;
        }
        for (t, result) in scraper.round(&targets).await {
            let entry = self.scraped.entry(t.pod.clone()).or_default();
            match result {
                Ok(s) if s.family(TASKS).is_some() => {
                    entry.served = true;
                    entry.error = None;
                    entry.completed = s.value(TASKS, &[("status", "success")]).or(Some(0.0));
                    entry.inflight = s.value("agent_inflight_tasks", &[]).unwrap_or(0.0);
                }
                Ok(_) => entry.error = Some(format!("no {TASKS} in its /metrics")),
                Err(e) => entry.error = Some(e.to_string()),
            }
        }
    }

    /// Waits until `check` gives an answer or `until` passes (None then).
    async fn wait_for<T>(
        &mut self,
        until: Instant,
        check: impl Fn(&Self) -> Option<T>,
    ) -> Option<T> {
        loop {
            if let Some(x) = check(self) {
                return Some(x);
            }
            if Instant::now() >= until {
                return None;
            }
            self.pump(until).await;
        }
    }

    /// An agent that crashed: a run pod that Failed, other than the one evicted on purpose.
    fn crashed(&self) -> Option<String> {
        self.run_pods()
            .into_iter()
            .filter(|p| p.phase == PodPhase::Failed && Some(&p.name) != self.evicted.as_ref())
            .find(|p| p.disruption_target.is_none())
            .map(|p| {
                let how = match &p.last_termination {
                    Some(t) => format!(
                        "container {} exited {} ({})",
                        t.container, t.exit_code, t.reason
                    ),
                    None => "it failed".to_string(),
                };
                format!(
                    "agent pod {} crashed: {how}; see `kubectl logs -n {} {}`",
                    p.name,
                    self.ns(),
                    p.name
                )
            })
    }
}
