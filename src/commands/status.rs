//! `fleetctl status [-o table|json] [--watch]`: the fleets of the namespace, built by the same
//! watchers the console uses, with queue depths from RabbitMQ.
//!
//! The first output waits until every kind has been listed once (or refused: that kind is shown
//! as degraded, the rest still prints). With `--watch`, output repeats whenever something
//! changed, at most once a second; queue depths are read every 5 s.
//!
//! The sources are the library's: [`watch::first_sync`], [`QueueReader`], [`AgentSeries`] and
//! the scraper of [`crate::metrics::scrape::ScrapeSettings`]; this file only wires and prints.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::Outcome;
use crate::cli::{GlobalArgs, StatusArgs, StatusFormat};
use crate::cluster::client::{connect, reachable};
use crate::cluster::watch::{self, FirstSyncError, WatchSpec};
use crate::fleet::health::Severity;
use crate::fleet::model::Model;
use crate::fleet::status::Snapshot;
use crate::fleet::usage::{UsageReading, fleet_cpu_cell, fleet_memory_cell};
use crate::metrics::agents::AgentSeries;
use crate::metrics::scrape::Round;
use crate::queue::depth::{QueueReader, QueueReport};

const QUEUE_EVERY: Duration = Duration::from_secs(5);
/// A one-shot status scrapes each agent twice, this far apart.
const ONE_SHOT_GAP: Duration = Duration::from_millis(1500);
const REDRAW_EVERY: Duration = Duration::from_secs(1);

pub async fn run(global: &GlobalArgs, args: StatusArgs) -> Outcome {
    let selector = watch::parse_selector(&args.fleets.selector).map_err(super::Failure::usage)?;
    let (client, source) = connect(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    reachable(&client, &source).await?;
    let spec = WatchSpec::all(global.namespace.clone(), selector.clone());
    let (tx, mut rx) = mpsc::channel(4096);
    let _watchers = watch::spawn(client.clone(), &spec, tx);
    let usage_client = client.clone();
    let scraper = args
        .scrape
        .scrape_settings()
        .scraper(Some(client))
        .map_err(|e| e.to_string())?;
    let mut agents = AgentSeries::default();
    let mut model = Model::with_selector(global.namespace.clone(), selector);

    // The first complete picture.
    match watch::first_sync(&mut rx, &spec, &mut model, args.timeout).await {
        Ok(()) => {}
        Err(FirstSyncError::Stopped) => {
            return Err("the watchers stopped before the first list".into());
        }
        Err(FirstSyncError::TimedOut { pending, .. }) => {
            let kinds: Vec<String> = pending.iter().map(|k| format!("{k:?}")).collect();
            return Err(format!(
                "the API at {} did not list {} within {}; is it overloaded? (--timeout raises the wait)",
                source.server,
                kinds.join(", "),
                crate::fleet::duration::human_duration(args.timeout)
            )
            .into());
        }
    }

    let mut queues = QueueReader::new(&global.amqp_url, !args.no_queue).named("fleetctl-status");
    // Queue depths and two scrapes of every agent (rates need two readings), side by side.
    let targets = match &scraper {
        Some(_) => agents.targets(&model),
        None => vec![],
    };
    let scrape_twice = async {
        match &scraper {
            Some(s) if !targets.is_empty() => s.rounds(&targets, 2, ONE_SHOT_GAP).await,
            _ => vec![],
        }
    };
    let names = model.fleet_queues();
    let usage_read =
        async { Some(crate::cluster::usage::read(&usage_client, Some(&global.namespace)).await) };
    let (report, rounds, mut usage) = tokio::join!(queues.read(&names), scrape_twice, usage_read);
    let mut queue_errors = apply_queues(&mut model, report);
    for round in rounds {
        agents.ingest(round);
    }
    let tty = std::io::stdout().is_terminal();
    let now = Timestamp::now();
    print(
        &Snapshot::build(&model, now, queue_errors.clone(), &agents.summary(now))
            .with_usage(&model, usage.as_ref()),
        args.output,
        args.watch && tty,
    );
    if !args.watch {
        return Ok(());
    }
    let (round_tx, mut round_rx) = mpsc::channel::<Round>(4);
    let (usage_tx, mut usage_rx) = mpsc::channel::<UsageReading>(2);
    let _usage_reader =
        crate::cluster::usage::spawn(usage_client, Some(global.namespace.clone()), usage_tx);
    let mut scrape_tick =
        tokio::time::interval(args.scrape.scrape_interval.max(Duration::from_millis(500)));
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
                let report = queues.read(&model.fleet_queues()).await;
                queue_errors = apply_queues(&mut model, report);
                model.tick(Timestamp::now());
                dirty = true;
            }
            _ = scrape_tick.tick() => {
                if let Some(s) = &scraper {
                    s.spawn_round(agents.targets(&model), &round_tx);
                }
            }
            Some(round) = round_rx.recv() => {
                agents.ingest(round);
                dirty = true;
            }
            Some(reading) = usage_rx.recv() => {
                usage = Some(reading);
                dirty = true;
            }
            _ = redraw.tick(), if dirty => {
                dirty = false;
                let now = Timestamp::now();
                let snap = Snapshot::build(&model, now, queue_errors.clone(), &agents.summary(now))
                    .with_usage(&model, usage.as_ref());
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

/// Folds a queue reading into the model; returns the queues that could not be read.
fn apply_queues(model: &mut Model, report: QueueReport) -> BTreeMap<String, String> {
    for d in report.deltas() {
        model.apply(d, report.at);
    }
    report.errors
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
            "CPU",
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
            fleet_cpu_cell(f.usage.as_ref()),
            // Without metrics-server, the agents' own RSS against the limit.
            fleet_memory_cell(
                f.usage.as_ref(),
                m.and_then(|m| m.worst_memory_headroom.as_ref()),
            ),
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
    if let Some(why) = &snap.usage_degraded {
        let _ = writeln!(out, "degraded: usage: {why}");
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
    use crate::fleet::delta::FleetDelta;
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
