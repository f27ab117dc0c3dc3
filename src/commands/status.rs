//! `fleetctl status [-o table|json] [--watch]`: the fleets of the namespace, built by the same
//! watchers the console uses, with queue depths from RabbitMQ.
//!
//! The first output waits until every kind has been listed once (or refused: that kind is shown
//! as degraded, the rest still prints). With `--watch`, output repeats whenever something
//! changed, at most once a second; queue depths are read every 5 s.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::Outcome;
use crate::cli::{GlobalArgs, ScrapeMode, StatusArgs, StatusFormat};
use crate::cluster::client::{connect, reachable};
use crate::cluster::watch::{self, SyncTracker, WatchSpec};
use crate::fleet::delta::FleetDelta;
use crate::fleet::health::Severity;
use crate::fleet::model::Model;
use crate::fleet::objects::QueueStats;
use crate::fleet::status::{FleetMetrics, Snapshot};
use crate::metrics::scrape::{Round, Route, ScrapeConfig, Scraper, Target};
use crate::metrics::series::MetricsStore;
use crate::queue::amqp::Broker;
use crate::queue::error::QueueError;

const QUEUE_EVERY: Duration = Duration::from_secs(5);
/// A one-shot status scrapes each agent twice, this far apart.
const ONE_SHOT_GAP: Duration = Duration::from_millis(1500);
const REDRAW_EVERY: Duration = Duration::from_secs(1);

pub async fn run(global: &GlobalArgs, args: StatusArgs) -> Outcome {
    let selector = watch::parse_selector(&args.selector).map_err(super::Failure::usage)?;
    let (client, source) = connect(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    reachable(&client, &source).await?;
    let spec = WatchSpec::all(global.namespace.clone(), selector.clone());
    let (tx, mut rx) = mpsc::channel(4096);
    let _watchers = watch::spawn(client.clone(), &spec, tx);
    let mut agents = AgentMetrics::new(&args, client)?;
    let mut model = Model::with_selector(global.namespace.clone(), selector);

    // The first complete picture.
    let mut sync = SyncTracker::new(&spec.kinds);
    let deadline = Instant::now() + args.timeout;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(d)) => {
                let done = sync.observe(&d);
                model.apply(d, Timestamp::now());
                if done {
                    break;
                }
            }
            Ok(None) => return Err("the watchers stopped before the first list".into()),
            Err(_) => {
                let kinds: Vec<String> = sync.pending().iter().map(|k| format!("{k:?}")).collect();
                return Err(format!(
                    "the API at {} did not list {} within {}; is it overloaded? (--timeout raises the wait)",
                    source.server,
                    kinds.join(", "),
                    crate::fleet::duration::human_duration(args.timeout)
                )
                .into());
            }
        }
    }

    let mut queues = QueueReader::new(&global.amqp_url, !args.no_queue);
    // Queue depths and two scrapes of every agent (rates need two readings), side by side.
    let targets = agents.targets(&model);
    let (_, rounds) = tokio::join!(queues.read(&mut model), agents.scrape_twice(&targets));
    for round in rounds {
        agents.ingest(round);
    }
    let tty = std::io::stdout().is_terminal();
    let now = Timestamp::now();
    print(
        &Snapshot::build(&model, now, queues.errors.clone(), &agents.summary(now)),
        args.output,
        args.watch && tty,
    );
    if !args.watch {
        return Ok(());
    }
    let (round_tx, mut round_rx) = mpsc::channel::<Round>(4);
    let mut scrape_tick =
        tokio::time::interval(args.scrape_interval.max(Duration::from_millis(500)));
    scrape_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    scrape_tick.tick().await;

    let mut queue_tick = tokio::time::interval(QUEUE_EVERY);
    queue_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    queue_tick.tick().await;
    let mut redraw = tokio::time::interval(REDRAW_EVERY);
    redraw.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut dirty = false;
    let mut last: Option<Snapshot> = None;
    loop {
        tokio::select! {
            d = rx.recv() => match d {
                Some(d) => { model.apply(d, Timestamp::now()); dirty = true; }
                None => return Err("the watchers stopped".into()),
            },
            _ = queue_tick.tick() => {
                queues.read(&mut model).await;
                model.tick(Timestamp::now());
                dirty = true;
            }
            _ = scrape_tick.tick() => agents.start_round(&model, &round_tx),
            Some(round) = round_rx.recv() => {
                agents.ingest(round);
                dirty = true;
            }
            _ = redraw.tick(), if dirty => {
                dirty = false;
                let now = Timestamp::now();
                let snap = Snapshot::build(&model, now, queues.errors.clone(), &agents.summary(now));
                // Print only what changed (the time alone is no change).
                let same = last.as_ref().is_some_and(|l| Snapshot { at: snap.at, ..l.clone() } == snap);
                if !same {
                    print(&snap, args.output, tty);
                    last = Some(snap);
                }
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn print(snap: &Snapshot, format: StatusFormat, clear: bool) {
    match format {
        StatusFormat::Json => match serde_json::to_string(snap) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("fleetctl: cannot encode the status: {e}"),
        },
        StatusFormat::Table => {
            if clear {
                print!("\x1b[H\x1b[2J");
            }
            print!("{}", table(snap));
        }
    }
}

/// The agents' `/metrics`: who is scraped, through which route, and the series so far.
struct AgentMetrics {
    scraper: Option<Arc<Scraper>>,
    store: MetricsStore,
    /// Per target key (`namespace/pod`): its fleet's key and its memory limit.
    owners: HashMap<String, (String, Option<u64>)>,
}

impl AgentMetrics {
    fn new(args: &StatusArgs, client: kube::Client) -> Result<Self, super::Failure> {
        let route = match args.scrape {
            ScrapeMode::Off => None,
            ScrapeMode::Proxy => Some(Route::Proxy),
            ScrapeMode::Direct => Some(Route::Direct),
        };
        let scraper = match route {
            None => None,
            Some(route) => {
                let cfg = ScrapeConfig {
                    interval: args.scrape_interval,
                    timeout: args.scrape_timeout,
                    concurrency: usize::from(args.scrape_concurrency),
                    route,
                    ..ScrapeConfig::default()
                };
                Some(Arc::new(
                    Scraper::new(cfg, Some(client)).map_err(|e| e.to_string())?,
                ))
            }
        };
        Ok(AgentMetrics {
            scraper,
            store: MetricsStore::default(),
            owners: HashMap::new(),
        })
    }

    /// Every running agent pod of a fleet that may be scraped; remembers whose it is.
    fn targets(&mut self, model: &Model) -> Vec<Target> {
        if self.scraper.is_none() {
            return vec![];
        }
        self.owners.clear();
        let mut out = Vec::new();
        for f in model.fleets() {
            let id = f.id();
            for pod in model.pods_of(&id) {
                if let Some(t) = Target::from_pod(pod) {
                    self.owners
                        .insert(t.key(), (id.to_string(), pod.memory_limit_bytes));
                    out.push(t);
                }
            }
        }
        let keep: std::collections::HashSet<String> = self.owners.keys().cloned().collect();
        self.store.retain_pods(|k| keep.contains(k));
        out
    }

    async fn scrape_twice(&self, targets: &[Target]) -> Vec<Round> {
        match &self.scraper {
            Some(s) if !targets.is_empty() => s.rounds(targets, 2, ONE_SHOT_GAP).await,
            _ => vec![],
        }
    }

    /// Starts a round in the background; its results come back on `tx`.
    fn start_round(&mut self, model: &Model, tx: &mpsc::Sender<Round>) {
        let targets = self.targets(model);
        let Some(scraper) = self.scraper.clone() else {
            return;
        };
        if targets.is_empty() {
            return;
        }
        let tx = tx.clone();
        tokio::spawn(async move {
            let at = Timestamp::now();
            let results = scraper.round(&targets).await;
            let _ = tx.send((at, results)).await;
        });
    }

    fn ingest(&mut self, (at, results): Round) {
        for (t, r) in &results {
            let key = t.key();
            if let Some((fleet, limit)) = self.owners.get(&key) {
                self.store.ingest(&key, fleet, at, r, *limit);
            }
        }
        self.store.record_round(at);
    }

    fn summary(&self, now: Timestamp) -> BTreeMap<String, FleetMetrics> {
        if self.scraper.is_none() {
            return BTreeMap::new();
        }
        self.store.summary(now)
    }
}

/// Reads the fleets' queue depths; a broker that cannot be reached is reported per queue, not
/// as a failure of the whole status.
struct QueueReader {
    url: String,
    enabled: bool,
    broker: Option<Broker>,
    errors: BTreeMap<String, String>,
}

impl QueueReader {
    fn new(url: &str, enabled: bool) -> Self {
        QueueReader {
            url: url.to_string(),
            enabled,
            broker: None,
            errors: BTreeMap::new(),
        }
    }

    async fn read(&mut self, model: &mut Model) {
        if !self.enabled {
            return;
        }
        let mut names: Vec<String> = model.fleets().filter_map(|f| f.queue.clone()).collect();
        names.sort();
        names.dedup();
        self.errors.clear();
        if names.is_empty() {
            return;
        }
        if self.broker.is_none() {
            match Broker::connect(&self.url, "fleetctl-status").await {
                Ok(b) => self.broker = Some(b),
                Err(e) => {
                    let why = e.to_string();
                    for n in names {
                        self.errors.insert(n, why.clone());
                    }
                    return;
                }
            }
        }
        let Some(broker) = &self.broker else { return };
        let mut lost = false;
        for name in names {
            match broker.depth(&name).await {
                Ok(d) => model.apply(
                    FleetDelta::Queue {
                        queue: name,
                        stats: QueueStats {
                            ready: u64::from(d.ready),
                            consumers: u64::from(d.consumers),
                            at: Timestamp::now(),
                        },
                    },
                    Timestamp::now(),
                ),
                Err(e) => {
                    // A missing queue or permission leaves the connection usable.
                    lost |= !matches!(
                        e,
                        QueueError::QueueNotFound { .. } | QueueError::Forbidden { .. }
                    );
                    self.errors.insert(name, e.to_string());
                }
            }
        }
        if lost && let Some(b) = self.broker.take() {
            b.close().await;
        }
    }
}

/// The table: one line per fleet, then the findings and what is degraded.
pub fn table(snap: &Snapshot) -> String {
    let mut rows = vec![
        [
            "FLEET",
            "STATE",
            "QUEUE",
            "READY",
            "NEXT",
            "JOBS A/S/F",
            "PODS R/P/T",
            "RESTARTS",
            "OOM",
            "EVICTED",
            "TASKS/S",
            "P99",
            "TOKENS/S",
            "MEM",
            "FINDINGS",
        ]
        .map(String::from),
    ];
    for f in &snap.fleets {
        let d = &f.disruptions_last_hour;
        let m = f.metrics.as_ref();
        let findings = match (f.findings.len(), f.worst()) {
            (0, _) => "-".to_string(),
            (n, Some(Severity::Critical)) => format!("{n} critical"),
            (n, _) => format!("{n} warning"),
        };
        rows.push([
            f.display(),
            format!("{:?}", f.state).to_lowercase(),
            f.queue.clone().unwrap_or_else(|| "-".into()),
            match (&f.queue, f.queue_ready) {
                (_, Some(r)) => r.to_string(),
                (Some(q), None) if snap.queue_errors.contains_key(q) => "?".into(),
                _ => "-".into(),
            },
            f.predicted_next_scale
                .map_or_else(|| "-".into(), |n| n.to_string()),
            format!("{}/{}/{}", f.jobs.active, f.jobs.succeeded, f.jobs.failed),
            format!(
                "{}/{}/{}",
                f.pods.running, f.pods.pending, f.pods.terminating
            ),
            f.pods.restarts.to_string(),
            d.oom_killed.to_string(),
            (d.evicted + d.api_eviction + d.preempted).to_string(),
            m.and_then(|m| m.tasks_per_s)
                .map_or_else(|| "-".into(), |v| format!("{v:.1}")),
            m.and_then(|m| m.p99_task_seconds)
                .map_or_else(|| "-".into(), |v| format!("{v:.2}s")),
            m.filter(|m| m.tasks_per_s.is_some()).map_or_else(
                || "-".into(),
                |m| format!("{:.0}", m.tokens_per_s.values().fold(0.0, |a, b| a + b)),
            ),
            m.and_then(|m| m.worst_memory_headroom.as_ref())
                .map_or_else(|| "-".into(), |h| format!("{:.0}%", h.used_ratio * 100.0)),
            findings,
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    if snap.fleets.is_empty() {
        let _ = writeln!(
            out,
            "no fleets labelled {} in namespace {} (fleetctl apply installs the bundled ones)",
            snap.selector, snap.namespace
        );
    }
    for (f, x) in snap.findings() {
        let sev = match x.severity {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        };
        let code = serde_json::to_value(x.code)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let _ = writeln!(out, "{} {sev} {code}: {}", f.display(), x.message);
    }
    for f in &snap.fleets {
        let Some(m) = f.metrics.as_ref().filter(|m| !m.not_scraped.is_empty()) else {
            continue;
        };
        let shown: Vec<String> = m
            .not_scraped
            .iter()
            .take(3)
            .map(|(pod, why)| format!("{} ({why})", pod.rsplit('/').next().unwrap_or(pod)))
            .collect();
        let more = m.not_scraped.len().saturating_sub(shown.len());
        let _ = writeln!(
            out,
            "{}: {} of {} pods not scraped: {}{}",
            f.display(),
            m.not_scraped.len(),
            m.not_scraped.len() + m.pods_scraped,
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    for d in &snap.degraded {
        let _ = writeln!(out, "degraded: {:?}: {}", d.kind, d.reason);
    }
    for (q, e) in &snap.queue_errors {
        let _ = writeln!(out, "queue {q}: {e}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::objects::{
        AgentPod, JobSummary, Labels, Object, ObjectKind, PodPhase, Termination,
    };

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn the_table_lines_up_and_lists_findings_and_degraded_kinds() {
        let mut m = Model::new("agents");
        let labels = Labels::from([("app".into(), "ai-agent".into())]);
        m.apply(
            FleetDelta::Upsert(Object::Job(JobSummary {
                name: "batch".into(),
                namespace: "agents".into(),
                labels,
                active: 1,
                ..Default::default()
            })),
            t(0),
        );
        m.apply(
            FleetDelta::Upsert(Object::Pod(AgentPod {
                name: "batch-0-x".into(),
                namespace: "agents".into(),
                uid: "u1".into(),
                phase: PodPhase::Running,
                job_name: Some("batch".into()),
                restarts: 1,
                last_oom: Some(Termination {
                    container: "agent".into(),
                    reason: "OOMKilled".into(),
                    exit_code: 137,
                    at: Some(t(5)),
                }),
                ..Default::default()
            })),
            t(10),
        );
        m.apply(
            FleetDelta::KindUnavailable {
                kind: ObjectKind::Event,
                reason: "forbidden: cannot list/watch events".into(),
            },
            t(10),
        );
        let snap = Snapshot::build(&m, t(20), BTreeMap::new(), &BTreeMap::new());
        let out = table(&snap);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("FLEET"), "{out}");
        assert!(lines[1].starts_with("job/batch"), "{out}");
        // Columns line up: RESTARTS is at the same offset on both lines.
        let col = lines[0].find("RESTARTS").unwrap();
        assert_eq!(&lines[1][col..col + 1], "1", "{out}");
        assert!(out.contains("1/0/0"), "{out}");
        assert!(out.contains("oom-kills"), "{out}");
        assert!(out.contains("degraded: Event: forbidden"), "{out}");
        assert_eq!(snap.fleets[0].disruptions_last_hour.oom_killed, 1);
        assert_eq!(snap.fleets[0].disruptions.len(), 1);
    }

    #[test]
    fn an_empty_namespace_says_how_to_get_fleets() {
        let m = Model::new("agents");
        let out = table(&Snapshot::build(
            &m,
            t(0),
            BTreeMap::new(),
            &BTreeMap::new(),
        ));
        assert!(
            out.contains("no fleets labelled app=ai-agent in namespace agents"),
            "{out}"
        );
    }
}
