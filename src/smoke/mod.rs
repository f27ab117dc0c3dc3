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

pub mod report;

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

use crate::cluster::actions::{brief, evict_pod};
use crate::cluster::apply::{
    self, ApplyError, ApplyOptions, Change, KEDA_INSTALL, Object, SECRET, load_bundled, prepare,
};
use crate::cluster::watch::{self, WatchSpec};
use crate::fleet::delta::FleetDelta;
use crate::fleet::health::Severity;
use crate::fleet::model::{
    AgentPod, JobSummary, LABEL_SCALED_JOB, Labels, Model, ObjectKind, PdbStatus, PodPhase,
    QueueStats, ScaledJobSummary,
};
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
}

/// What the run tells its caller as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    Started(StepName),
    /// What the step in progress waits for.
    Waiting(&'a str),
    Done(&'a StepReport),
}

/// The callback that receives [`Event`]s.
pub type Progress<'a> = &'a mut (dyn FnMut(Event<'_>) + Send);

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
            None => r.step(name).await,
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

/// A host name only the cluster's DNS resolves (`rabbitmq.rabbitmq.svc`, `rabbitmq`).
fn cluster_internal(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    h.ends_with(".svc") || h.ends_with(".cluster.local") || (!h.contains('.') && h != "localhost")
}

/// The plural of a bundled kind, as RBAC names resources.
fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    match lower.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None if lower.ends_with('s') => format!("{lower}es"),
        None => format!("{lower}s"),
    }
}

/// One permission the run needs: `verb group/resource[/subresource]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    pub verb: &'static str,
    pub group: String,
    pub resource: String,
    pub subresource: Option<&'static str>,
}

impl Access {
    fn new(verb: &'static str, group: &str, resource: &str) -> Self {
        Access {
            verb,
            group: group.to_string(),
            resource: resource.to_string(),
            subresource: None,
        }
    }

    /// `create jobs.batch`, `get pods/proxy`.
    pub fn display(&self) -> String {
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.group)
        };
        match self.subresource {
            Some(sub) => format!("{} {}{group}/{sub}", self.verb, self.resource),
            None => format!("{} {}{group}", self.verb, self.resource),
        }
    }
}

/// Every namespaced permission the run needs: get, create and patch on each kind of the
/// bundle (server-side apply creates what is missing), the ScaledJob's patch, watching and
/// deleting Jobs and pods, the pod proxy, and the Eviction API with `--disruption`.
pub fn needed_access(bundle: &[Object], disruption: bool) -> Vec<Access> {
    let mut out = BTreeSet::new();
    for o in bundle.iter().filter(|o| o.kind() != "Namespace") {
        let group = o.api_version().split_once('/').map_or("", |(g, _)| g);
        for verb in ["get", "create", "patch"] {
            out.insert(Access::new(verb, group, &plural(o.kind())));
        }
    }
    out.insert(Access::new("get", "", "secrets"));
    for verb in ["list", "watch"] {
        out.insert(Access::new(verb, "keda.sh", "scaledjobs"));
    }
    for (group, resource) in [("batch", "jobs"), ("", "pods")] {
        for verb in ["list", "watch", "delete"] {
            out.insert(Access::new(verb, group, resource));
        }
    }
    let mut proxy = Access::new("get", "", "pods");
    proxy.subresource = Some("proxy");
    out.insert(proxy);
    if disruption {
        let mut evict = Access::new("create", "", "pods");
        evict.subresource = Some("eviction");
        out.insert(evict);
    }
    out.into_iter().collect()
}

fn secret_value(secret: &Secret, key: &str) -> Option<String> {
    let from_data = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|b| String::from_utf8(b.0.clone()).ok());
    from_data
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .cloned()
        })
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A broker error in one line naming where the URL came from and what to change.
fn broker_problem(e: &QueueError, origin: &str, fix: &str) -> String {
    match e {
        QueueError::LoginRefused { url, user } => format!(
            "RabbitMQ at {url} ({origin}) refused the login of user '{user}'; {fix} with the right password"
        ),
        QueueError::Unreachable { url, reason } => format!(
            "cannot reach RabbitMQ at {url} ({origin}): {reason}; start the broker, or {fix} with a running one"
        ),
        other => format!("{origin}: {other}"),
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

    // ---- 1. Preflight -------------------------------------------------------------------

    async fn preflight(&mut self) -> StepReport {
        let name = StepName::Preflight;
        let fail = |passed: u64, total: u64, m: String| {
            StepReport::failed(name, Some(total), Some(passed), m)
        };
        let bundle = match load_bundled().and_then(|b| prepare(b, &self.opts.namespace, None)) {
            Ok(b) => b,
            Err(e) => return fail(0, 1, e.to_string()),
        };
        let access = needed_access(&bundle, self.opts.disruption);
        // API, KEDA, Secret, brokers, RBAC.
        let total = 5;
        let mut notes = Vec::new();

        // The API answers, and which version.
        match self.client.apiserver_version().await {
            Ok(v) => notes.push(format!("Kubernetes {}", v.git_version)),
            Err(e) => {
                return fail(
                    0,
                    total,
                    format!(
                        "the Kubernetes API does not answer: {}; is the cluster up? (`fleetctl sim` starts a local one)",
                        brief(&e)
                    ),
                );
            }
        }

        // KEDA's kinds are served.
        let wanted = ["scaledjobs", "triggerauthentications"];
        let missing: Vec<&str> = match self
            .client
            .list_api_group_resources("keda.sh/v1alpha1")
            .await
        {
            Ok(list) => wanted
                .iter()
                .copied()
                .filter(|w| !list.resources.iter().any(|r| r.name == *w))
                .collect(),
            Err(kube::Error::Api(s)) if s.code == 404 => wanted.to_vec(),
            Err(e) => {
                return fail(
                    1,
                    total,
                    format!("cannot discover the keda.sh API: {}", brief(&e)),
                );
            }
        };
        if !missing.is_empty() {
            return fail(
                1,
                total,
                format!(
                    "KEDA is not installed: the cluster does not serve keda.sh/v1alpha1 {}; install KEDA 2.11+ (`{KEDA_INSTALL}`) or use a local cluster (`fleetctl sim`)",
                    missing.join(", ")
                ),
            );
        }
        notes.push("KEDA served".into());

        // The namespace and Secret agent-secrets.
        let ns = self.opts.namespace.clone();
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &ns);
        let secret = match secrets.get_opt(SECRET).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                let namespaces: Api<Namespace> = Api::all(self.client.clone());
                let message = match namespaces.get_opt(&ns).await {
                    Ok(None) => format!(
                        "namespace {ns} does not exist; create it (`kubectl create namespace {ns}`), then {}",
                        ApplyError::SecretMissing(ns.clone())
                    ),
                    _ => ApplyError::SecretMissing(ns.clone()).to_string(),
                };
                return fail(2, total, message);
            }
            Err(e) => {
                return fail(
                    2,
                    total,
                    format!("cannot read Secret {SECRET} in {ns}: {}", brief(&e)),
                );
            }
        };
        let Some(queue_url) = secret_value(&secret, "queue-url") else {
            return fail(
                2,
                total,
                format!(
                    "Secret {SECRET} in {ns} has no key queue-url, the URL the agents use; add it (see manifests/agent-secrets.example.yaml)"
                ),
            );
        };
        notes.push(format!("Secret {SECRET}"));

        // The brokers: the Secret's URLs (agents, KEDA) and --amqp-url (this run).
        let fix_secret = |key: &str| {
            format!(
                "fix key {key} of Secret {SECRET} (`kubectl create secret generic {SECRET} -n {ns} --from-literal={key}='amqp://USER:PASSWORD@HOST:5672/%2f' ... --dry-run=client -o yaml | kubectl apply -f -`)"
            )
        };
        let probe_queue = self
            .opts
            .queue
            .clone()
            .unwrap_or_else(|| DEFAULT_QUEUE.into());
        let mut urls: Vec<(String, String, String)> = vec![(
            queue_url.clone(),
            format!("key queue-url of Secret {SECRET}"),
            fix_secret("queue-url"),
        )];
        if let Some(host) = secret_value(&secret, "rabbitmq-host")
            && host != queue_url
        {
            urls.push((
                host,
                format!("key rabbitmq-host of Secret {SECRET}"),
                fix_secret("rabbitmq-host"),
            ));
        }
        let mut skipped_hosts = Vec::new();
        for (url, origin, fix) in &urls {
            let internal = parse_url(url)
                .map(|(u, _)| cluster_internal(&u.authority.host))
                .unwrap_or(false);
            if internal && *url != self.opts.amqp_url {
                skipped_hosts.push(format!(
                    "{} (cluster DNS, not checked from here)",
                    mask_url(url)
                ));
                continue;
            }
            if let Err(m) = self.check_broker(url, origin, fix, &probe_queue).await {
                return fail(3, total, m);
            }
        }
        match Broker::connect(&self.opts.amqp_url, CONNECTION).await {
            Ok(b) => self.broker = Some(b),
            Err(e) => {
                return fail(
                    3,
                    total,
                    broker_problem(
                        &e,
                        "--amqp-url, the broker this run seeds",
                        "pass --amqp-url (or FLEETCTL_AMQP_URL)",
                    ),
                );
            }
        }
        notes.push(format!(
            "broker {}{}",
            mask_url(&self.opts.amqp_url),
            if skipped_hosts.is_empty() {
                String::new()
            } else {
                format!("; {}", skipped_hosts.join(", "))
            }
        ));

        // RBAC: one SelfSubjectAccessReview per permission.
        let reviews: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let asks = access.iter().map(|a| {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        namespace: Some(ns.clone()),
                        verb: Some(a.verb.to_string()),
                        group: Some(a.group.clone()),
                        resource: Some(a.resource.clone()),
                        subresource: a.subresource.map(String::from),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            };
            let reviews = reviews.clone();
            async move { reviews.create(&PostParams::default(), &review).await }
        });
        let answers = join_all(asks).await;
        let mut denied = Vec::new();
        for (a, answer) in access.iter().zip(answers) {
            match answer {
                Ok(r) if r.status.as_ref().is_some_and(|s| s.allowed) => {}
                Ok(_) => denied.push(a.display()),
                Err(e) => {
                    return fail(
                        4,
                        total,
                        format!(
                            "cannot ask the API what this identity may do (SelfSubjectAccessReview): {}",
                            brief(&e)
                        ),
                    );
                }
            }
        }
        if !denied.is_empty() {
            return fail(
                4,
                total,
                format!(
                    "RBAC forbids {} of the {} permissions the test needs in namespace {ns}: {}; grant them (manifests/rbac.yaml lists what fleetctl uses) or use an identity that has them",
                    denied.len(),
                    access.len(),
                    denied.join(", ")
                ),
            );
        }
        notes.push(format!("RBAC allows all {} verbs", access.len()));
        StepReport::passed(name, total, total, notes.join("; "))
    }

    /// Connects to `url` and asks for `queue` by passive declare (a missing queue still proves
    /// the broker answers).
    async fn check_broker(
        &self,
        url: &str,
        origin: &str,
        fix: &str,
        queue: &str,
    ) -> Result<(), String> {
        let broker = Broker::connect(url, CONNECTION)
            .await
            .map_err(|e| broker_problem(&e, origin, fix))?;
        let depth = broker.depth(queue).await;
        broker.close().await;
        match depth {
            Ok(_) | Err(QueueError::QueueNotFound { .. }) => Ok(()),
            Err(e) => Err(broker_problem(&e, origin, fix)),
        }
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
            results.push((a.object.clone(), a.result.clone(), a.conflict))
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
        let selector = Labels::from([("app".to_string(), "ai-agent".to_string())]);
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
                        brief(&e)
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
                    format!("cannot read ScaledJob {}: {}", self.sj_name, brief(&e)),
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
                    format!("cannot list the Jobs of {}: {}", self.sj_name, brief(&e)),
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
            Err(m) => return fail(Some(report.confirmed), m),
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
    async fn point_scaled_job(&mut self, sj: &Value) -> Result<(), String> {
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
            return Err(format!(
                "ScaledJob {} has no rabbitmq trigger; it cannot scale on the queue",
                self.sj_name
            ));
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
        .map_err(|e| {
            format!(
                "cannot point ScaledJob {} at queue {}: {}",
                self.sj_name,
                self.queue,
                brief(&e)
            )
        })?;
        self.prior = Some(prior);
        Ok(())
    }

    // ---- the watch and the scrapes that the waiting steps share ---------------------------

    fn start_watching(&mut self) {
        if self.watchers.is_some() {
            return;
        }
        let selector = Labels::from([(LABEL_SCALED_JOB.to_string(), self.sj_name.clone())]);
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

    // ---- 4. Scale -----------------------------------------------------------------------

    async fn scale(&mut self) -> StepReport {
        let name = StepName::Scale;
        self.start_watching();
        let api = self.sj_api().await;
        let sj = match api.get_opt(&self.sj_name).await {
            Ok(Some(o)) => serde_json::to_value(&o).unwrap_or_default(),
            Ok(None) => {
                return StepReport::failed(
                    name,
                    None,
                    None,
                    format!("ScaledJob {} is gone", self.sj_name),
                );
            }
            Err(e) => return StepReport::failed(name, None, None, brief(&e)),
        };
        let Some(summary) = ScaledJobSummary::from_json(&sj) else {
            return StepReport::failed(name, None, None, "the ScaledJob cannot be read");
        };
        let ready = match &self.broker {
            Some(b) => b.depth(&self.queue).await.map(|d| d.ready).unwrap_or(0),
            None => 0,
        };
        let stats = QueueStats {
            ready: u64::from(ready),
            ..Default::default()
        };
        let Some(reading) = summary
            .triggers
            .iter()
            .filter(|t| t.queue_name.as_deref() == Some(self.queue.as_str()))
            .find_map(|t| t.reading(&stats))
        else {
            return StepReport::failed(
                name,
                None,
                None,
                format!(
                    "ScaledJob {}'s trigger on {} is not a rabbitmq QueueLength trigger; the smoke test cannot predict its Jobs",
                    self.sj_name, self.queue
                ),
            );
        };
        // Jobs from before the run that are still unfinished count as KEDA's running ones.
        let before = self.running_before;
        let (expected, why) = report::expected_jobs(&summary.scaling_spec(), reading, before, 0);
        self.expected_jobs = expected;
        let poll = summary.polling_interval.unwrap_or(30).max(1) as u64;
        let limit = Duration::from_secs(poll) + SCALE_MARGIN;
        let until = (Instant::now() + limit).min(self.deadline);
        self.waiting(&format!("KEDA: {why}"));
        let got = self
            .wait_for(until, |r| {
                let n = r.run_jobs().len() as u64;
                (n >= expected && expected > 0).then_some(n)
            })
            .await;
        match got {
            Some(n) if n == expected => StepReport::passed(name, expected, n, why),
            Some(n) => StepReport::failed(
                name,
                Some(expected),
                Some(n),
                format!("KEDA created {n} Jobs where its arithmetic gives {why}"),
            ),
            None => {
                let n = self.run_jobs().len() as u64;
                let condition = sj_condition(&api, &self.sj_name).await;
                let when = if Instant::now() >= self.deadline {
                    self.timed_out()
                } else {
                    format!(
                        "within {} (pollingInterval {poll}s + {})",
                        human(limit),
                        human(SCALE_MARGIN)
                    )
                };
                StepReport::failed(
                    name,
                    Some(expected),
                    Some(n),
                    format!(
                        "KEDA created {n} of {why} {when}{condition}; see `kubectl describe scaledjob {} -n {}`",
                        self.sj_name,
                        self.ns()
                    ),
                )
            }
        }
    }

    // ---- 5. Pods ------------------------------------------------------------------------

    async fn pods(&mut self) -> StepReport {
        let name = StepName::Pods;
        let expected = self.expected_jobs;
        self.waiting("agent pods scheduled and Running");
        let deadline = self.deadline;
        let outcome = self
            .wait_for(deadline, |r| {
                if let Some(p) = r.run_pods().into_iter().find(|p| p.unschedulable) {
                    return Some(Err(format!(
                        "pod {} cannot be scheduled: {}",
                        p.name,
                        p.scheduling_message.as_deref().unwrap_or("Unschedulable")
                    )));
                }
                if let Some(c) = r.crashed() {
                    return Some(Err(c));
                }
                let started = r
                    .run_jobs()
                    .iter()
                    .filter(|j| {
                        r.ran.iter().any(|p| {
                            r.model.pods().values().any(|x| {
                                &x.name == p && x.job_name.as_deref() == Some(j.name.as_str())
                            })
                        }) || j.conditions.complete
                    })
                    .count() as u64;
                (started >= expected).then_some(Ok(started))
            })
            .await;
        let started = self.ran.len() as u64;
        match outcome {
            Some(Ok(n)) => StepReport::passed(
                name,
                expected,
                n,
                format!(
                    "{} pod{} Running on {}",
                    started,
                    if started == 1 { "" } else { "s" },
                    self.nodes()
                ),
            ),
            Some(Err(m)) => StepReport::failed(name, Some(expected), Some(started), m),
            None => StepReport::failed(
                name,
                Some(expected),
                Some(started),
                format!(
                    "{}: {started} of {expected} agent pods started; {}",
                    self.timed_out(),
                    self.pod_states()
                ),
            ),
        }
    }

    fn nodes(&self) -> String {
        let nodes: BTreeSet<&str> = self
            .run_pods()
            .into_iter()
            .filter_map(|p| p.node.as_deref())
            .collect();
        if nodes.is_empty() {
            "their nodes".into()
        } else {
            nodes.into_iter().collect::<Vec<_>>().join(", ")
        }
    }

    fn pod_states(&self) -> String {
        let pods = self.run_pods();
        if pods.is_empty() {
            return "no pod was created (see `kubectl describe job`)".into();
        }
        pods.iter()
            .map(|p| format!("{} {:?}", p.name, p.phase))
            .collect::<Vec<_>>()
            .join(", ")
    }

    // ---- 6. Metrics ---------------------------------------------------------------------

    async fn metrics(&mut self) -> StepReport {
        let name = StepName::Metrics;
        self.waiting("scraping every running agent through the pod proxy");
        let until = (Instant::now() + METRICS_WAIT).min(self.deadline);
        let done = self
            .wait_for(until, |r| {
                if let Some(c) = r.crashed() {
                    return Some(Err(c));
                }
                let all = r
                    .ran
                    .iter()
                    .all(|p| r.scraped.get(p).is_some_and(|s| s.served));
                (all && !r.ran.is_empty()).then_some(Ok(()))
            })
            .await;
        let expected = self.ran.len() as u64;
        let served = self
            .ran
            .iter()
            .filter(|p| self.scraped.get(*p).is_some_and(|s| s.served))
            .count() as u64;
        match done {
            Some(Ok(())) => StepReport::passed(
                name,
                expected,
                served,
                format!(
                    "{served} agent{} serve {TASKS} through the pod proxy",
                    if served == 1 { "" } else { "s" }
                ),
            ),
            Some(Err(m)) => StepReport::failed(name, Some(expected), Some(served), m),
            None => {
                let reasons: Vec<String> = self
                    .ran
                    .iter()
                    .filter(|p| !self.scraped.get(*p).is_some_and(|s| s.served))
                    .map(|p| {
                        let why = self
                            .scraped
                            .get(p)
                            .and_then(|s| s.error.clone())
                            .unwrap_or_else(|| "not scraped before it stopped".into());
                        format!("{p} ({why})")
                    })
                    .collect();
                StepReport::failed(
                    name,
                    Some(expected),
                    Some(served),
                    format!(
                        "{} of {expected} agents not scraped: {}",
                        reasons.len(),
                        reasons.join(", ")
                    ),
                )
            }
        }
    }

    // ---- 8. Disruption (runs while agents work) -----------------------------------------

    async fn disruption(&mut self) -> StepReport {
        let name = StepName::Disruption;
        self.waiting("an agent busy with a task, to evict");
        let deadline = self.deadline;
        let victim = self
            .wait_for(deadline, |r| {
                r.run_pods()
                    .into_iter()
                    .filter(|p| p.phase == PodPhase::Running && !p.deletion)
                    .find(|p| r.scraped.get(&p.name).is_some_and(|s| s.inflight > 0.0))
                    .map(|p| p.name.clone())
            })
            .await;
        let Some(victim) = victim else {
            return StepReport::failed(
                name,
                Some(1),
                Some(0),
                format!(
                    "{}: no agent was busy with a task to evict",
                    self.timed_out()
                ),
            );
        };
        let allowed = self.pdb_allowance(&victim).await;
        let expect_allowed = allowed.is_none_or(|a| a > 0);
        let pdb_note = match allowed {
            Some(a) => format!("the PDB allowed {a}"),
            None => "no PDB selects the pod".into(),
        };
        match evict_pod(&self.client, self.ns(), &victim).await {
            Ok(_) if expect_allowed => {}
            Ok(_) => {
                return StepReport::failed(
                    name,
                    Some(0),
                    Some(1),
                    format!("pod {victim} was evicted although {pdb_note}"),
                );
            }
            Err(e) if !expect_allowed => {
                return StepReport::passed(name, 0, 0, format!("the PDB refused as expected: {e}"));
            }
            Err(e) => {
                return StepReport::failed(name, Some(1), Some(0), format!("{e} ({pdb_note})"));
            }
        }
        self.evicted = Some(victim.clone());
        self.waiting("the evicted agent checkpoints and exits 143");
        let exit = self
            .wait_for(deadline, |r| match r.model.pods().get(&victim) {
                None => Some(None),
                Some(p) if matches!(p.phase, PodPhase::Failed | PodPhase::Succeeded) => {
                    Some(p.last_termination.as_ref().map(|t| t.exit_code))
                }
                Some(_) => None,
            })
            .await;
        match exit {
            Some(Some(143)) => StepReport::passed(
                name,
                1,
                1,
                format!("pod {victim} evicted ({pdb_note}); its agent checkpointed and exited 143"),
            ),
            Some(Some(code)) => StepReport::failed(
                name,
                Some(1),
                Some(0),
                format!(
                    "pod {victim} evicted, but its agent exited {code}, not 143 (checkpointed and requeued)"
                ),
            ),
            Some(None) => StepReport::failed(
                name,
                Some(1),
                Some(0),
                format!("pod {victim} was evicted and is gone before its exit code was seen"),
            ),
            None => StepReport::failed(
                name,
                Some(1),
                Some(0),
                format!(
                    "{}: pod {victim} was evicted but did not stop",
                    self.timed_out()
                ),
            ),
        }
    }

    /// What the PDBs selecting `pod` allow now (the least of them); None when none does.
    async fn pdb_allowance(&self, pod: &str) -> Option<i32> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), self.ns());
        let labels: Labels = pods.get_opt(pod).await.ok()??.metadata.labels?;
        let pdbs: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            self.ns(),
            &watch::object_resource(ObjectKind::PodDisruptionBudget),
        );
        let list = pdbs.list(&ListParams::default()).await.ok()?;
        list.items
            .iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .filter_map(|v| PdbStatus::from_json(&v))
            .filter(|p| p.selector.matches(&labels))
            .map(|p| p.disruptions_allowed)
            .min()
    }

    // ---- 7. Completion ------------------------------------------------------------------

    async fn completion(&mut self) -> StepReport {
        let name = StepName::Completion;
        let count = self.opts.count;
        self.waiting("every Job Complete");
        let deadline = self.deadline;
        let outcome = self
            .wait_for(deadline, |r| {
                if let Some(c) = r.crashed() {
                    return Some(Err(c));
                }
                let jobs = r.run_jobs();
                if let Some(j) = jobs.iter().find(|j| j.conditions.failed) {
                    return Some(Err(format!(
                        "Job {} failed ({})",
                        j.name,
                        j.conditions.failure_reason.as_deref().unwrap_or("Failed")
                    )));
                }
                (!jobs.is_empty() && jobs.iter().all(|j| j.conditions.complete)).then_some(Ok(()))
            })
            .await;
        let completed = report::completed_tasks(self.scraped.values().filter_map(|s| s.completed));
        match outcome {
            Some(Ok(())) => {}
            Some(Err(m)) => return StepReport::failed(name, Some(count), Some(completed), m),
            None => {
                let open: Vec<String> = self
                    .run_jobs()
                    .iter()
                    .filter(|j| !j.conditions.complete)
                    .map(|j| format!("{} (active {})", j.name, j.active))
                    .collect();
                return StepReport::failed(
                    name,
                    Some(count),
                    Some(completed),
                    format!(
                        "{}: Jobs not Complete: {}; agents report {completed} of {count} tasks done",
                        self.timed_out(),
                        open.join(", ")
                    ),
                );
            }
        }
        let mut problems = Vec::new();
        if completed != count {
            problems.push(format!(
                "the agents report {completed} of {count} tasks completed"
            ));
        }
        if let Some(b) = &self.broker {
            match b.depth(&self.queue).await {
                Ok(d) if d.ready > 0 => {
                    problems.push(format!("{} tasks left in {}", d.ready, self.queue))
                }
                Ok(_) => {}
                Err(e) => problems.push(e.to_string()),
            }
            match b.depth(&dlq_name(&self.queue)).await {
                Ok(d) if d.ready != self.dlq_before => problems.push(format!(
                    "{} tasks dead-lettered into {}",
                    d.ready.saturating_sub(self.dlq_before),
                    dlq_name(&self.queue)
                )),
                _ => {}
            }
        }
        for p in self.run_pods() {
            if let Some(t) = &p.last_oom {
                problems.push(format!(
                    "pod {} was OOMKilled (container {}, exit {})",
                    p.name, t.container, t.exit_code
                ));
            } else if Some(&p.name) != self.evicted.as_ref()
                && (p.status_reason.as_deref() == Some("Evicted") || p.disruption_target.is_some())
            {
                problems.push(format!(
                    "pod {} was disrupted ({})",
                    p.name,
                    p.disruption_target
                        .as_ref()
                        .map_or("Evicted", |d| d.reason.as_str())
                ));
            }
        }
        let jobs = self.run_jobs().len();
        if problems.is_empty() {
            StepReport::passed(
                name,
                count,
                completed,
                format!(
                    "{completed} tasks done by the agents, {} drained, DLQ unchanged, {jobs} Job{} Complete",
                    self.queue,
                    if jobs == 1 { "" } else { "s" }
                ),
            )
        } else {
            StepReport::failed(name, Some(count), Some(completed), problems.join("; "))
        }
    }

    // ---- 9. Clean-up --------------------------------------------------------------------

    async fn cleanup(&mut self) -> StepReport {
        let name = StepName::Cleanup;
        if self.opts.keep {
            return StepReport::skipped(
                name,
                format!(
                    "kept (--keep): the run's Jobs and queue {}; ScaledJob {} still reads it",
                    self.queue, self.sj_name
                ),
            );
        }
        let until = Instant::now() + CLEANUP_WAIT;
        let mut expected = 0u64;
        let mut done = 0u64;
        let mut problems = Vec::new();
        // The ScaledJob first, so that KEDA stops making Jobs for the run's queue.
        if let Some(prior) = self.prior.take() {
            expected += 1;
            let patch = json!({"spec": {"triggers": prior.triggers,
                "pollingInterval": prior.polling_interval,
                "jobTargetRef": {"template": {"spec": {"containers": prior.containers}}}}});
            match self
                .sj_api()
                .await
                .patch(
                    &self.sj_name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) => done += 1,
                Err(e) => problems.push(format!(
                    "cannot restore ScaledJob {}: {}; put its trigger back with `fleetctl apply`",
                    self.sj_name,
                    brief(&e)
                )),
            }
        }
        // The run's Jobs (and with them their pods), foreground.
        let names: Vec<String> = self.run_jobs().iter().map(|j| j.name.clone()).collect();
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), self.ns());
        for j in &names {
            expected += 1;
            match jobs.delete(j, &DeleteParams::foreground()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => problems.push(format!("cannot delete Job {j}: {}", brief(&e))),
            }
        }
        if !names.is_empty() {
            self.waiting("the run's Jobs and pods gone");
            let gone = self
                .wait_for(until, |r| {
                    let left = names
                        .iter()
                        .filter(|n| r.model.jobs().contains_key(*n))
                        .count();
                    (left == 0).then_some(())
                })
                .await;
            let left: Vec<&String> = names
                .iter()
                .filter(|n| self.model.jobs().contains_key(*n))
                .collect();
            done += (names.len() - left.len()) as u64;
            if gone.is_none() && !left.is_empty() {
                problems.push(format!(
                    "Jobs still there after {}: {}",
                    human(CLEANUP_WAIT),
                    left.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        // The queue, when the run made it.
        if self.fresh_queue
            && let Some(b) = &self.broker
            && self.steps.iter().any(|s| s.name == StepName::Seed)
        {
            for q in [self.queue.clone(), dlq_name(&self.queue)] {
                expected += 1;
                match b.delete_queue(&q).await {
                    Ok(_) => done += 1,
                    Err(e) => problems.push(e.to_string()),
                }
            }
        }
        self.watchers = None;
        if problems.is_empty() {
            let what = if expected == 0 {
                "nothing to clean up".to_string()
            } else {
                format!(
                    "{} Job{} deleted{}{}",
                    names.len(),
                    if names.len() == 1 { "" } else { "s" },
                    if self.fresh_queue && expected > names.len() as u64 {
                        format!(", queue {} deleted", self.queue)
                    } else {
                        String::new()
                    },
                    if done > names.len() as u64
                        && self.steps.iter().any(|s| s.name == StepName::Seed)
                    {
                        format!(", ScaledJob {} restored", self.sj_name)
                    } else {
                        String::new()
                    }
                )
            };
            StepReport::passed(name, expected, done, what)
        } else {
            StepReport::failed(name, Some(expected), Some(done), problems.join("; "))
        }
    }
}

/// The ScaledJob's Ready condition when it is not True: `; Ready=False: <message>`.
async fn sj_condition(api: &Api<DynamicObject>, name: &str) -> String {
    let Ok(Some(sj)) = api.get_opt(name).await else {
        return String::new();
    };
    let v = serde_json::to_value(&sj).unwrap_or_default();
    v["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready" && c["status"] != "True")
        .map(|c| {
            format!(
                "; ScaledJob Ready={}: {}",
                c["status"].as_str().unwrap_or("?"),
                c["message"].as_str().or(c["reason"].as_str()).unwrap_or("")
            )
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_of_the_bundled_kinds() {
        assert_eq!(plural("PodDisruptionBudget"), "poddisruptionbudgets");
        assert_eq!(plural("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural("LimitRange"), "limitranges");
        assert_eq!(plural("ScaledJob"), "scaledjobs");
    }

    #[test]
    fn the_permissions_cover_applying_the_bundle_and_the_run() {
        let bundle = prepare(load_bundled().unwrap(), "agents", None).unwrap();
        let all: Vec<String> = needed_access(&bundle, true)
            .iter()
            .map(Access::display)
            .collect();
        for want in [
            "create jobs.batch",
            "patch scaledjobs.keda.sh",
            "get secrets",
            "get pods/proxy",
            "create pods/eviction",
            "delete jobs.batch",
            "watch pods",
        ] {
            assert!(all.iter().any(|a| a == want), "{want} missing from {all:?}");
        }
        // Cluster-scoped objects are not asked about in the namespace.
        assert!(!all.iter().any(|a| a.contains("namespaces")), "{all:?}");
        let without: Vec<String> = needed_access(&bundle, false)
            .iter()
            .map(Access::display)
            .collect();
        assert!(!without.iter().any(|a| a.contains("eviction")));
    }

    #[test]
    fn hosts_only_the_cluster_resolves() {
        assert!(cluster_internal("rabbitmq.rabbitmq.svc"));
        assert!(cluster_internal("rabbitmq.rabbitmq.svc.cluster.local"));
        assert!(cluster_internal("rabbitmq"));
        assert!(!cluster_internal("127.0.0.1"));
        assert!(!cluster_internal("localhost"));
        assert!(!cluster_internal("mq.example.com"));
    }

    #[test]
    fn broker_problems_name_the_origin_and_the_fix() {
        let e = QueueError::LoginRefused {
            url: "amqp://guest:***@127.0.0.1:5672/%2f".into(),
            user: "guest".into(),
        };
        let m = broker_problem(
            &e,
            "key queue-url of Secret agent-secrets",
            "fix key queue-url",
        );
        assert!(m.contains("refused the login of user 'guest'"), "{m}");
        assert!(m.contains("key queue-url of Secret agent-secrets"), "{m}");
        assert!(m.contains("***"), "{m}");
    }
}
