//! The console's loop and its I/O: the sources that feed it (watchers, keys, ticks, the API
//! ping, signals) and the executor that runs the commands `update` returns. Only this file and
//! `terminal` touch the network or the terminal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use kube::Client;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::cmd::{Action, Cmd};
use super::model::{Info, Model};
use super::msg::{LinkKind, LogLine, Msg, Proposal};
use super::terminal;
use super::update::update;
use super::view::view;
use crate::cluster::actions::{self, DrainEvent, DrainOptions};
use crate::cluster::apply::{self, ApplyOptions, Change};
use crate::cluster::error::KubeFailure;
use crate::cluster::watch::{self, WatchSpec};
use crate::fleet::selector::Selector;
use crate::metrics::scrape::Scraper;
use crate::queue::amqp::{Broker, SeedPlan};
use crate::queue::depth::QueueReader;
use crate::queue::mgmt::{MgmtClient, MgmtError, MgmtQueue};
use crate::queue::task::{DEFAULT_STEP_MS, DEFAULT_STEPS, Template};
use crate::queue::topology::Topology;

/// At most this many frames a second.
const FRAME: Duration = Duration::from_millis(33);
/// The loop's inbox; producers wait when it is full.
const INBOX: usize = 1024;
const TICK: Duration = Duration::from_secs(1);
const PING: Duration = Duration::from_secs(5);
/// Log lines are sent to the loop in batches at most this often.
const LOG_BATCH: Duration = Duration::from_millis(100);

/// What the console runs against.
pub struct Options {
    pub client: Client,
    pub info: Info,
    pub selector: Selector,
    pub amqp_url: String,
    pub scraper: Option<Arc<Scraper>>,
    /// RabbitMQ's management API.
    pub mgmt: MgmtClient,
    pub color: bool,
    /// How long a drain started from the console may take.
    pub drain_timeout: Duration,
}

/// Runs the console until the operator quits.
pub async fn run(opts: Options) -> Result<(), String> {
    let (tx, rx) = mpsc::channel::<Msg>(INBOX);
    let mut guard = terminal::enter().map_err(|e| {
        format!("cannot take over the terminal ({e}); run fleetctl tui in an interactive terminal, or use fleetctl status")
    })?;
    let _input = spawn_input(tx.clone());
    let _signals = spawn_signals(tx.clone());
    let result = drive(&mut guard.term, &opts, tx, rx, |_| {}).await;
    drop(guard);
    result
}

/// The loop itself, on any terminal backend: the sources start, messages are folded in bursts,
/// commands run, and a frame is drawn when something changed (at most every [`FRAME`]).
/// `on_frame` sees the model after each frame (benchmarks time the screen with it). Ends when
/// the model quits or every sender is gone.
pub async fn drive<B: Backend>(
    term: &mut Terminal<B>,
    opts: &Options,
    tx: mpsc::Sender<Msg>,
    mut rx: mpsc::Receiver<Msg>,
    mut on_frame: impl FnMut(&Model),
) -> Result<(), String> {
    let size = term
        .size()
        .map_err(|e| format!("cannot read the terminal size: {e}"))?;
    let mut model = Model::new(opts.info.clone(), Timestamp::now(), size.width, size.height);
    model.color = opts.color;
    model.fleet = crate::fleet::model::Model::with_selector(
        opts.info.namespace.clone(),
        opts.selector.clone(),
    );
    let _ticks = spawn_ticks(tx.clone());
    let _ping = spawn_ping(opts.client.clone(), tx.clone());
    let mut exec = Executor::new(opts, tx.clone());
    drop(tx);
    exec.watch(&opts.info.namespace);

    let mut last_draw: Option<Instant> = None;
    loop {
        let next_frame = last_draw.map_or_else(Instant::now, |t| t + FRAME);
        tokio::select! {
            first = rx.recv() => {
                let Some(first) = first else { break };
                let mut cmds = update(&mut model, first);
                // Drain the burst before drawing.
                for _ in 0..INBOX * 4 {
                    match rx.try_recv() {
                        Ok(msg) => cmds.extend(update(&mut model, msg)),
                        Err(_) => break,
                    }
                }
                for c in cmds {
                    exec.run(c);
                }
                if model.quit {
                    break;
                }
            }
            _ = tokio::time::sleep_until(next_frame), if model.dirty => {}
        }
        if model.dirty && last_draw.is_none_or(|t| t.elapsed() >= FRAME) {
            model.refresh();
            term.draw(|f| view(&model, f))
                .map_err(|e| format!("cannot draw: {e}"))?;
            model.dirty = false;
            last_draw = Some(Instant::now());
            on_frame(&model);
        }
    }
    exec.shutdown().await;
    Ok(())
}

fn spawn_input(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = crossterm::event::EventStream::new();
        while let Some(ev) = events.next().await {
            let msg = match ev {
                Ok(crossterm::event::Event::Key(k)) => Msg::Key(k),
                Ok(crossterm::event::Event::Resize(width, height)) => Msg::Resize { width, height },
                Ok(_) => continue,
                Err(_) => Msg::Terminate,
            };
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    })
}

fn spawn_ticks(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if tx.send(Msg::Tick(Timestamp::now())).await.is_err() {
                break;
            }
        }
    })
}

fn spawn_signals(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        let _ = tx.send(Msg::Terminate).await;
    })
}

/// Asks the API server for its version now and then: the header's API state.
fn spawn_ping(client: Client, tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let up = match tokio::time::timeout(Duration::from_secs(3), client.apiserver_version())
                .await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(KubeFailure::classify(&e).to_string()),
                Err(_) => Err("no answer within 3s".to_string()),
            };
            let msg = Msg::Link {
                kind: LinkKind::Api,
                up,
                at: Timestamp::now(),
            };
            if tx.send(msg).await.is_err() {
                break;
            }
            tokio::time::sleep(PING).await;
        }
    })
}

/// Runs commands: each in a task of its own that answers with messages.
struct Executor {
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
    fn new(opts: &Options, tx: mpsc::Sender<Msg>) -> Self {
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
            queues: Arc::new(tokio::sync::Mutex::new(
                QueueReader::new(&opts.amqp_url, true).named("fleetctl-console"),
            )),
            running: HashMap::new(),
            logs: None,
        }
    }

    /// (Re)starts the watchers of `namespace`; their deltas reach the loop in bursts.
    fn watch(&mut self, namespace: &str) {
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
    }

    fn run(&mut self, cmd: Cmd) {
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
    async fn shutdown(&mut self) {
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
                |n| {
                    if n % step == 0 {
                        progress(format!("{n}/{count} confirmed"));
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
                Err(format!("cancelled: {line}"))
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
