//! The executor: runs the commands `update` returns, each in a task of its own that answers
//! the loop with messages (queue and management reads, scrapes, plans, actions, log tails), and
//! the watchers whose deltas reach the loop in bursts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use kube::Client;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::app::Options;
use super::cmd::{Action, Cmd};
use super::msg::{LogLine, Msg, Proposal};
use crate::cluster::actions::{self, DrainEvent, DrainOptions};
use crate::cluster::apply::{self, ApplyOptions, Change};
use crate::cluster::error::KubeFailure;
use crate::cluster::watch::{self, WatchSpec};
use crate::fleet::selector::Selector;
use crate::metrics::scrape::Scraper;
use crate::queue::amqp::{Broker, SeedEvent, SeedPlan};
use crate::queue::depth::QueueReader;
use crate::queue::mgmt::{MgmtClient, MgmtError, MgmtQueue};
use crate::queue::task::{DEFAULT_STEP_MS, DEFAULT_STEPS, Template};
use crate::queue::topology::Topology;

/// Log lines are sent to the loop in batches at most this often.
const LOG_BATCH: Duration = Duration::from_millis(100);

/// Runs commands: each in a task of its own that answers with messages.
pub struct Executor {
    client: Client,
    namespace: String,
    selector: Selector,
    amqp_url: String,
    scraper: Option<Arc<Scraper>>,
    mgmt: Arc<MgmtClient>,
    /// The API server, for the smoke test's report.
    server: String,
    drain_timeout: Duration,
    tx: mpsc::Sender<Msg>,
    watchers: Option<(watch::Watchers, JoinHandle<()>)>,
    /// The `metrics.k8s.io` reader of the namespace and the task that forwards its readings.
    usage: Option<(JoinHandle<()>, JoinHandle<()>)>,
    /// The queue reader keeps its broker connection between reads.
    queues: Arc<tokio::sync::Mutex<QueueReader>>,
    running: HashMap<u64, Running>,
    logs: Option<JoinHandle<()>>,
}

struct Running {
    task: JoinHandle<()>,
    stop: Option<oneshot::Sender<()>>,
    action: Action,
}

impl Executor {
    pub fn new(opts: &Options, tx: mpsc::Sender<Msg>) -> Self {
        Executor {
            client: opts.client.clone(),
            namespace: opts.info.namespace.clone(),
            selector: opts.selector.clone(),
            amqp_url: opts.amqp_url.clone(),
            scraper: opts.scraper.clone(),
            mgmt: Arc::new(opts.mgmt.clone()),
            server: opts.info.server.clone(),
            drain_timeout: opts.drain_timeout,
            tx,
            watchers: None,
            usage: None,
            queues: Arc::new(tokio::sync::Mutex::new(
                QueueReader::new(&opts.amqp_url, true).named("fleetctl-console"),
            )),
            running: HashMap::new(),
            logs: None,
        }
    }

    /// (Re)starts the watchers of `namespace`; their deltas reach the loop in bursts.
    pub fn watch(&mut self, namespace: &str) {
        if let Some((w, fwd)) = self.watchers.take() {
            drop(w);
            fwd.abort();
        }
        self.namespace = namespace.to_string();
        let spec = WatchSpec::all(namespace.to_string(), self.selector.clone());
        let (dtx, mut drx) = mpsc::channel(4096);
        let watchers = watch::spawn(self.client.clone(), &spec, dtx);
        let tx = self.tx.clone();
        let forward = tokio::spawn(async move {
            while let Some(first) = drx.recv().await {
                let mut deltas = vec![first];
                while deltas.len() < 4096 {
                    match drx.try_recv() {
                        Ok(d) => deltas.push(d),
                        Err(_) => break,
                    }
                }
                let msg = Msg::Deltas {
                    deltas,
                    at: Timestamp::now(),
                };
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
        });
        self.watchers = Some((watchers, forward));
        self.read_usage(namespace);
    }

    /// (Re)starts the reader of `namespace`'s pod usage (`metrics.k8s.io`, every
    /// [`crate::cluster::usage::EVERY`]); each reading reaches the loop as [`Msg::Usage`].
    fn read_usage(&mut self, namespace: &str) {
        if let Some((reader, fwd)) = self.usage.take() {
            reader.abort();
            fwd.abort();
        }
        let (utx, mut urx) = mpsc::channel(2);
        let reader =
            crate::cluster::usage::spawn(self.client.clone(), Some(namespace.to_string()), utx);
        let tx = self.tx.clone();
        let forward = tokio::spawn(async move {
            while let Some(reading) = urx.recv().await {
                let msg = Msg::Usage {
                    reading,
                    at: Timestamp::now(),
                };
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
        });
        self.usage = Some((reader, forward));
    }

    pub fn run(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::ReadQueues(names) => {
                let (tx, reader) = (self.tx.clone(), self.queues.clone());
                tokio::spawn(async move {
                    let r = reader.lock().await.read(&names).await;
                    let _ = tx.send(Msg::Queues(r)).await;
                });
            }
            Cmd::ReadMgmt(names) => {
                let (tx, mgmt) = (self.tx.clone(), self.mgmt.clone());
                tokio::spawn(async move {
                    let answers = mgmt.queues(&names).await;
                    let _ = tx
                        .send(Msg::Mgmt {
                            at: Timestamp::now(),
                            queues: mgmt_readings(answers),
                        })
                        .await;
                });
            }
            Cmd::Scrape(targets) => {
                let Some(scraper) = self.scraper.clone() else {
                    return;
                };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let at = Timestamp::now();
                    let results = scraper.round(&targets).await;
                    let _ = tx.send(Msg::Scraped((at, results))).await;
                });
            }
            Cmd::Plan { id, action } => {
                let (tx, client, ns, url) = (
                    self.tx.clone(),
                    self.client.clone(),
                    self.namespace.clone(),
                    self.amqp_url.clone(),
                );
                tokio::spawn(async move {
                    let result = plan(&client, &ns, &url, &action).await;
                    let _ = tx.send(Msg::Planned { id, result }).await;
                });
            }
            Cmd::Run { id, action } => self.start(id, action),
            Cmd::Cancel { id } => {
                if let Some(r) = self.running.get_mut(&id) {
                    match r.stop.take() {
                        Some(stop) => {
                            let _ = stop.send(());
                        }
                        None => r.task.abort(),
                    }
                }
            }
            Cmd::TailLogs { pod } => {
                if let Some(t) = self.logs.take() {
                    t.abort();
                }
                self.logs = Some(tail_logs(
                    self.client.clone(),
                    self.namespace.clone(),
                    pod,
                    self.tx.clone(),
                ));
            }
            Cmd::StopLogs => {
                if let Some(t) = self.logs.take() {
                    t.abort();
                }
            }
            Cmd::SwitchNamespace(ns) => self.watch(&ns),
            Cmd::Quit => {}
        }
    }

    fn start(&mut self, id: u64, action: Action) {
        self.running.retain(|_, r| !r.task.is_finished());
        let (stop_tx, stop_rx) = oneshot::channel();
        let (tx, client, ns, url) = (
            self.tx.clone(),
            self.client.clone(),
            self.namespace.clone(),
            self.amqp_url.clone(),
        );
        let drain_timeout = self.drain_timeout;
        let server = self.server.clone();
        let act = action.clone();
        let task = tokio::spawn(async move {
            let result = execute(
                &client,
                &ns,
                &url,
                &server,
                &act,
                id,
                &tx,
                stop_rx,
                drain_timeout,
            )
            .await;
            let _ = tx.send(Msg::Done { id, result }).await;
        });
        self.running.insert(
            id,
            Running {
                task,
                stop: Some(stop_tx),
                action,
            },
        );
    }

    /// Stops what is still running: a seeding waits for its confirms, a drain loses its mark.
    pub async fn shutdown(&mut self) {
        for (_, mut r) in self.running.drain() {
            if r.task.is_finished() {
                continue;
            }
            if let Some(stop) = r.stop.take() {
                let _ = stop.send(());
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), &mut r.task).await;
            r.task.abort();
            if let Action::Drain { fleet, .. } = &r.action {
                let _ = actions::end_drain(&self.client, &self.namespace, fleet).await;
            }
        }
        if let Some(t) = self.logs.take() {
            t.abort();
        }
        if let Some((reader, fwd)) = self.usage.take() {
            reader.abort();
            fwd.abort();
        }
    }
}

/// The management API's answers as the console keeps them: per queue, or one reason for all
/// when the API itself does not answer (unreachable, refused login).
fn mgmt_readings(
    answers: std::collections::BTreeMap<String, Result<MgmtQueue, MgmtError>>,
) -> Result<std::collections::BTreeMap<String, Result<MgmtQueue, String>>, String> {
    let api_down = answers.values().find_map(|r| match r {
        Err(e @ (MgmtError::Unreachable { .. } | MgmtError::Unauthorized { .. })) => {
            Some(e.to_string())
        }
        _ => None,
    });
    if let Some(why) = api_down {
        return Err(why);
    }
    Ok(answers
        .into_iter()
        .map(|(q, r)| (q, r.map_err(|e| e.to_string())))
        .collect())
}

/// The bundled manifests, ready for `ns`.
fn bundled(ns: &str) -> Result<Vec<apply::Object>, String> {
    apply::load_bundled()
        .and_then(|o| apply::prepare(o, ns, None))
        .map_err(|e| e.to_string())
}

/// The confirm dialog's content for `action`.
async fn plan(client: &Client, ns: &str, url: &str, action: &Action) -> Result<Proposal, String> {
    match action {
        Action::Apply => {
            let objects = bundled(ns)?;
            let opts = ApplyOptions {
                namespace: ns.to_string(),
                dry_run: true,
            };
            let mut lines = Vec::new();
            let mut changes = false;
            apply::apply(client, &objects, &opts, &mut |a| match &a.result {
                Ok(c) => {
                    changes |= *c != Change::Unchanged;
                    lines.push(format!("{} {}", a.object, c.as_str()));
                }
                Err(e) => {
                    changes = true;
                    lines.push(format!("{} would fail: {e}", a.object));
                }
            })
            .await
            .map_err(|e| e.to_string())?;
            lines.insert(
                0,
                format!("Server-side apply into {ns} (dry run of each object):"),
            );
            if !changes {
                lines.push("Everything is already applied: nothing to do.".into());
            }
            Ok(Proposal {
                lines,
                warning: None,
                changes,
            })
        }
        Action::Pause(f) | Action::Resume(f) | Action::Drain { fleet: f, .. } => {
            let pause = !matches!(action, Action::Resume(_));
            let p = actions::plan_for(client, ns, f, pause)
                .await
                .map_err(|e| e.to_string())?;
            let mut lines = vec![format!("On Enter: {}", p.message)];
            if let Action::Drain { .. } = action {
                lines.push(format!(
                    "Then wait until nothing of {} runs (up to the drain timeout); x cancels.",
                    f.display()
                ));
                return Ok(Proposal {
                    lines,
                    warning: p.warning,
                    changes: true,
                });
            }
            Ok(Proposal {
                changes: p.patch.is_some(),
                lines,
                warning: p.warning,
            })
        }
        Action::Redrive { from, to } => {
            let broker = Broker::connect(url, "fleetctl-console")
                .await
                .map_err(|e| e.to_string())?;
            let depth = broker.depth(from).await;
            broker.close().await;
            let n = depth.map_err(|e| e.to_string())?.ready;
            Ok(Proposal {
                lines: vec![format!(
                    "Move the {n} dead-lettered messages of {from} back into {to}, each confirmed before it leaves {from}."
                )],
                warning: None,
                changes: n > 0,
            })
        }
        Action::SmokeTest => Ok(Proposal {
            lines: vec![
                format!("Run fleetctl smoke-test against {ns}: preflight (API, KEDA, Secret, broker, RBAC), server-side apply of the bundled manifests,"),
                "10 tasks into a fresh smoke-<id> queue with the ScaledJob pointed at it and polling every 2s, the Jobs KEDA's arithmetic gives,".into(),
                "their pods Running and scraped, every task completed, then clean-up: the Jobs and the queue deleted, the ScaledJob restored.".into(),
                "The checklist fills in on the action log (L).".into(),
            ],
            warning: Some("the ScaledJob's pod template changes for the run, so KEDA replaces its running Jobs: run it before real traffic".into()),
            changes: true,
        }),
        Action::Evict { .. } | Action::Seed { .. } => Ok(Proposal {
            lines: vec![action.title()],
            warning: None,
            changes: true,
        }),
    }
}

/// Does `action`, reporting progress as `Msg::Progress`.
#[allow(clippy::too_many_arguments)]
async fn execute(
    client: &Client,
    ns: &str,
    url: &str,
    server: &str,
    action: &Action,
    id: u64,
    tx: &mpsc::Sender<Msg>,
    stop: oneshot::Receiver<()>,
    drain_timeout: Duration,
) -> Result<String, String> {
    let progress = |line: String| {
        let _ = tx.try_send(Msg::Progress { id, line });
    };
    match action {
        Action::Apply => {
            let objects = bundled(ns)?;
            let opts = ApplyOptions {
                namespace: ns.to_string(),
                dry_run: false,
            };
            let mut done = Vec::new();
            let mut errors = Vec::new();
            let failures = apply::apply(client, &objects, &opts, &mut |a| match &a.result {
                Ok(c) => {
                    progress(format!("{} {}", a.object, c.as_str()));
                    done.push(*c);
                }
                Err(e) => errors.push(e.to_string()),
            })
            .await
            .map_err(|e| e.to_string())?;
            if failures > 0 {
                return Err(format!(
                    "{failures} of {} objects not applied: {}",
                    objects.len(),
                    errors.join("; ")
                ));
            }
            let count = |c: Change| done.iter().filter(|x| **x == c).count();
            Ok(format!(
                "{} objects: {} created, {} configured, {} unchanged",
                done.len(),
                count(Change::Created),
                count(Change::Configured),
                count(Change::Unchanged)
            ))
        }
        Action::Pause(f) => actions::pause(client, ns, f)
            .await
            .map(|r| with_warning(r.message, r.warning))
            .map_err(|e| e.to_string()),
        Action::Resume(f) => actions::resume(client, ns, f)
            .await
            .map(|r| with_warning(r.message, r.warning))
            .map_err(|e| e.to_string()),
        Action::Drain { fleet, evict } => {
            let opts = DrainOptions {
                evict: *evict,
                timeout: drain_timeout,
                poll: Duration::from_millis(500),
            };
            let who = fleet.display();
            let mut on_event = |e: DrainEvent| progress(e.line(&who));
            tokio::select! {
                r = actions::drain(client, ns, fleet, &opts, &mut on_event) => {
                    r.map(|()| format!("{} drained; it stays paused (r resumes)", fleet.display())).map_err(|e| e.to_string())
                }
                _ = stop => {
                    let _ = actions::end_drain(client, ns, fleet).await;
                    Err(format!("cancelled; {} stays paused (r resumes)", fleet.display()))
                }
            }
        }
        Action::SmokeTest => {
            // The action's stop (x) stops the run; its clean-up still runs.
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                if stop.await.is_ok() {
                    let _ = stop_tx.send(true);
                }
            });
            let opts = crate::smoke::Options {
                stop: Some(stop_rx),
                namespace: ns.to_string(),
                amqp_url: url.to_string(),
                count: 10,
                timeout: Duration::from_secs(300),
                keep: false,
                queue: None,
                poll: Some(Duration::from_secs(2)),
                disruption: false,
            };
            let mut on_event = |e: crate::smoke::Event<'_>| {
                if let crate::smoke::Event::Done(step) = e {
                    progress(step.line());
                }
            };
            let report =
                crate::smoke::run(client.clone(), server.to_string(), &opts, &mut on_event).await;
            if report.passed() {
                Ok(report.summary())
            } else {
                Err(report.summary())
            }
        }
        Action::Evict { pod } => actions::evict_pod(client, ns, pod)
            .await
            .map_err(|e| e.to_string()),
        Action::Seed { queue, count } => {
            let topology = Topology::new(queue).map_err(|e| e.to_string())?;
            let plan = SeedPlan {
                topology,
                templates: vec![Template::new("demo", DEFAULT_STEPS, DEFAULT_STEP_MS)],
                count: *count,
                window: 4096,
            };
            let broker = Broker::connect(url, "fleetctl-console-seed")
                .await
                .map_err(|e| e.to_string())?;
            let step = (*count / 20).max(1);
            let stop = async {
                let _ = stop.await;
            };
            let r = crate::queue::amqp::seed(
                &broker,
                &plan,
                |e| match e {
                    SeedEvent::Confirmed(n) => {
                        if n % step == 0 {
                            progress(format!("{n}/{count} confirmed"));
                        }
                    }
                    SeedEvent::Blocked(reason) => progress(format!(
                        "broker is blocking publishers (resource alarm: {reason}); waiting, cancel stops with a report"
                    )),
                    SeedEvent::Unblocked => {
                        progress("broker unblocked publishers; publishing again".to_string())
                    }
                },
                stop,
            )
            .await;
            broker.close().await;
            let r = r.map_err(|e| e.to_string())?;
            let line = format!(
                "{} of {} confirmed into {} in {:.1}s",
                r.confirmed, r.requested, r.queue, r.seconds
            );
            if r.ok() {
                Ok(line)
            } else if r.interrupted {
                Err(match &r.blocked {
                    Some(reason) => format!(
                        "cancelled while the broker was blocking publishers (resource alarm: {reason}): {line}"
                    ),
                    None => format!("cancelled: {line}"),
                })
            } else {
                Err(r.error.map_or(line.clone(), |e| format!("{line}: {e}")))
            }
        }
        Action::Redrive { from, to } => {
            let broker = Broker::connect(url, "fleetctl-console-redrive")
                .await
                .map_err(|e| e.to_string())?;
            let stop = async {
                let _ = stop.await;
            };
            let r = crate::queue::redrive::redrive_until(&broker, from, to, None, stop).await;
            broker.close().await;
            let r = r.map_err(|e| e.to_string())?;
            let line = format!(
                "{} moved from {} into {}, {} left",
                r.moved, r.from, r.to, r.left
            );
            if r.interrupted {
                Err(format!("cancelled: {line}"))
            } else {
                Ok(line)
            }
        }
    }
}

fn with_warning(message: String, warning: Option<String>) -> String {
    match warning {
        Some(w) => format!("{message} ({w})"),
        None => message,
    }
}

/// Follows `pod`'s log from its last 200 lines; the lines reach the loop in batches.
fn tail_logs(client: Client, ns: String, pod: String, tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        use futures::AsyncBufReadExt;
        use k8s_openapi::api::core::v1::Pod;
        use kube::api::{Api, LogParams};
        let api = Api::<Pod>::namespaced(client, &ns);
        let params = LogParams {
            follow: true,
            tail_lines: Some(200),
            ..Default::default()
        };
        let reader = match api.log_stream(&pod, &params).await {
            Ok(r) => r,
            Err(e) => {
                let _ = tx
                    .send(Msg::LogEnded {
                        pod,
                        reason: Some(KubeFailure::classify(&e).to_string()),
                    })
                    .await;
                return;
            }
        };
        let mut lines = reader.lines();
        let mut batch = Vec::new();
        let mut flush_at = Instant::now() + LOG_BATCH;
        loop {
            tokio::select! {
                line = lines.next() => match line {
                    Some(Ok(text)) => batch.push(LogLine { text }),
                    Some(Err(e)) => {
                        let _ = tx.send(Msg::LogLines { pod: pod.clone(), lines: std::mem::take(&mut batch) }).await;
                        let _ = tx.send(Msg::LogEnded { pod, reason: Some(e.to_string()) }).await;
                        return;
                    }
                    None => {
                        let _ = tx.send(Msg::LogLines { pod: pod.clone(), lines: std::mem::take(&mut batch) }).await;
                        let _ = tx.send(Msg::LogEnded { pod, reason: None }).await;
                        return;
                    }
                },
                _ = tokio::time::sleep_until(flush_at) => {
                    flush_at = Instant::now() + LOG_BATCH;
                    if !batch.is_empty()
                        && tx.send(Msg::LogLines { pod: pod.clone(), lines: std::mem::take(&mut batch) }).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
    })
}
