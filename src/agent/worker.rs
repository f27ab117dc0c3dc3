//! The consume loop: connect, consume with bounded prefetch, run each delivery as a task,
//! retry, dead-letter, trip the breaker, reconnect, and stop cleanly on a signal.
//!
//! Delivery is at least once. A delivery is acked only after its outcome is durable: the result
//! file for a finished task, the broker's confirm for a retry or a dead letter. Anything else
//! goes back to the queue (nack with requeue, or the broker's own requeue when the channel
//! closes), with the task's checkpoint on the shared volume so that whoever gets it resumes.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::Channel;
use lapin::options::{
    BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};
use uuid::Uuid;

use super::checkpoint::{AgentRecord, AgentState, Store};
use super::executor::Executor;
use super::task::{blocking, process};
use super::telemetry::Metrics;
use crate::queue::QueueError;
use crate::queue::amqp::{Broker, BrokerPool};
use crate::queue::topology::Topology;

/// Everything the agent was configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub url: String,
    pub topology: Topology,
    pub index: String,
    pub prefetch: u16,
    pub max_tasks: Option<u64>,
    /// Zero: never.
    pub idle_exit: Duration,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
    pub connect_timeout: Duration,
    /// Starts that ended with the agent dying before a task is dead-lettered.
    pub max_deaths: u32,
    /// Results older than this are removed at start (zero: never).
    pub results_ttl: Duration,
}

/// How long tasks in flight may take to checkpoint and give their message back once told to
/// stop: well inside Kubernetes' default 30 s grace period.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Why the agent stopped, when it stopped well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Idle,
    MaxTasks,
    /// Stopped by a signal while idle.
    Signal,
    /// Stopped by a signal with tasks in flight: they were checkpointed and handed back.
    Interrupted,
}

/// The exit code of a signal (SIGTERM: 128 + 15), as shells and the kubelet report it.
pub const EXIT_INTERRUPTED: u8 = 143;

impl Exit {
    /// The process exit code: 0, or [`EXIT_INTERRUPTED`] when work was interrupted, so that a
    /// Job does not count an interrupted agent as a completion (the bundled podFailurePolicy
    /// ignores 143: the pod is replaced and nothing is charged to backoffLimit).
    pub fn code(self) -> u8 {
        match self {
            Exit::Interrupted => EXIT_INTERRUPTED,
            Exit::Idle | Exit::MaxTasks | Exit::Signal => 0,
        }
    }
}

/// Why the agent could not run.
#[derive(Debug)]
pub enum AgentError {
    /// Configuration no retry can fix (exit 2).
    Config(String),
    /// Anything else (exit 1).
    Fatal(String),
}

/// Full-jitter exponential back-off: uniform in [0, min(max, base·2^attempt)].
pub fn full_jitter(base: Duration, max: Duration, attempt: u32, unit: f64) -> Duration {
    let cap = base
        .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max);
    cap.mul_f64(unit.clamp(0.0, 1.0))
}

/// Counts consecutive executor failures; opens at the threshold.
#[derive(Debug, Default)]
pub struct Breaker {
    consecutive: u32,
    open: bool,
}

impl Breaker {
    /// Records a failure; true when the breaker is (now) open.
    pub fn failure(&mut self, threshold: u32) -> bool {
        self.consecutive += 1;
        if self.consecutive >= threshold {
            self.open = true;
        }
        self.open
    }

    pub fn success(&mut self) {
        self.consecutive = 0;
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn close(&mut self) {
        self.open = false;
        self.consecutive = 0;
    }
}

/// How one delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Succeeded,
    Failed,
    Requeued,
    Duplicate,
    /// Stopped because RabbitMQ's consumer_timeout closed the channel: the broker requeued the
    /// delivery itself, and it resumes from its checkpoint. Neither a failure nor a requeue of
    /// the agent's, and no attempt is used.
    Interrupted,
    BreakerOpen,
    /// Given back because the checkpoint volume failed too many times in a row.
    VolumeUnusable,
}

/// Why a consumption session ended.
#[derive(Debug)]
enum SessionEnd {
    Exit(Exit),
    Breaker,
    Lost(String),
    /// RabbitMQ's consumer_timeout closed the channel; the connection is still up.
    ConsumerTimeout,
    /// The checkpoint volume cannot record outcomes; consumption waits until it can.
    VolumeUnusable,
}

pub(super) struct Ctx<E> {
    pub(super) cfg: Config,
    pub(super) exec: E,
    pub(super) store: Store,
    pub(super) metrics: Arc<Metrics>,
    pub(super) breaker: Mutex<Breaker>,
    record: Mutex<AgentRecord>,
    /// A connection shared with other agents of this process, instead of one of its own.
    pub(super) pool: Option<Arc<BrokerPool>>,
    /// Wakes the state writer when the record changed.
    record_changed: tokio::sync::Notify,
    /// The `updated_at` of the record last saved.
    written: Mutex<Option<jiff::Timestamp>>,
    /// Outcomes in a row that could not be recorded (see [`super::task`]).
    unrecorded: AtomicU32,
    /// Why the checkpoint volume was last found unusable.
    volume_error: Mutex<Option<String>>,
    /// Set when RabbitMQ's consumer_timeout closed the session's channel, before its tasks
    /// are told to stop: their deliveries are back in the queue already (see
    /// [`Outcome::Interrupted`]). Cleared when a session starts.
    pub(super) consumer_timed_out: AtomicBool,
}

impl<E> Ctx<E> {
    pub(super) fn idx(&self) -> &str {
        &self.cfg.index
    }

    /// An outcome was recorded: the run of failures to record one ends.
    pub(super) fn recorded(&self) {
        self.unrecorded.store(0, Ordering::Relaxed);
    }

    /// An outcome could not be recorded; returns how many in a row (from 1).
    pub(super) fn unrecorded(&self) -> u32 {
        self.unrecorded
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1)
    }

    /// The checkpoint volume failed too often in a row; the session stops consuming.
    pub(super) fn volume_failed(&self, error: String) {
        *self.volume_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }

    async fn connect(&self) -> Result<Broker, QueueError> {
        match &self.pool {
            Some(pool) => pool.get(&self.cfg.url).await,
            None => Broker::connect(&self.cfg.url, &format!("fleetctl-agent-{}", self.idx())).await,
        }
    }

    pub(super) fn update_record(&self, f: impl FnOnce(&mut AgentRecord)) {
        let mut r = self.record.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut r);
        r.updated_at = jiff::Timestamp::now();
        drop(r);
        self.record_changed.notify_one();
    }

    async fn write_record(&self) {
        let snapshot = self
            .record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let store = self.store.clone();
        let idx = self.cfg.index.clone();
        let at = snapshot.updated_at;
        let res = tokio::task::spawn_blocking(move || store.save_agent(&snapshot)).await;
        match res {
            Ok(Ok(())) => {
                *self.written.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
            }
            Ok(Err(e)) => warn!(agent_index = %idx, error = %e, "agent_state_not_saved"),
            Err(_) => {}
        }
    }

    async fn set_state(&self, state: AgentState) {
        self.update_record(|r| r.state = state);
        self.write_record().await;
    }
}

/// Runs the agent until it exits by idle, max-tasks or a signal (`shutdown` turning true).
/// With `pool`, the agent consumes on a channel of a connection from the pool rather than on
/// a connection of its own; nothing else changes.
pub async fn run<E: Executor>(
    cfg: Config,
    exec: E,
    store: Store,
    metrics: Arc<Metrics>,
    pool: Option<Arc<BrokerPool>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Exit, AgentError> {
    let now = jiff::Timestamp::now();
    let record = AgentRecord {
        index: cfg.index.clone(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        state: AgentState::Starting,
        started_at: now,
        updated_at: now,
        tasks_succeeded: 0,
        tasks_failed: 0,
        tasks_requeued: 0,
        current_tasks: vec![],
    };
    let ctx = Arc::new(Ctx {
        cfg,
        exec,
        store,
        metrics,
        breaker: Mutex::new(Breaker::default()),
        record: Mutex::new(record),
        pool,
        record_changed: tokio::sync::Notify::new(),
        written: Mutex::new(None),
        unrecorded: AtomicU32::new(0),
        volume_error: Mutex::new(None),
        consumer_timed_out: AtomicBool::new(false),
    });
    tokio::spawn(crate::agent::output::inherit(sweep(ctx.clone())));
    // "starting" is written by the state writer a second from now, unless the agent is
    // running by then (that state is written at once): one file write for an agent that
    // connects at once, which matters with thousands starting on one volume.
    // Aborted however `run` ends: an in-process agent killed (its task aborted) must not
    // leave its writer behind, holding the agent's state.
    let writer = AbortOnDrop(tokio::spawn(crate::agent::output::inherit(record_writer(
        ctx.clone(),
    ))));
    ctx.record_changed.notify_one();

    let result = run_loop(&ctx, &mut shutdown).await;
    drop(writer);
    ctx.metrics.set_ready(false);
    ctx.set_state(AgentState::Stopped).await;
    let r = ctx.record.lock().unwrap_or_else(|e| e.into_inner()).clone();
    info!(
        agent_index = %ctx.idx(),
        succeeded = r.tasks_succeeded,
        failed = r.tasks_failed,
        requeued = r.tasks_requeued,
        exit = %match &result { Ok(e) => format!("{e:?}").to_lowercase(), Err(_) => "error".into() },
        "agent_stopped"
    );
    result
}

/// A task aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Rewrites the agent's state file when it has changed, at most once a second, so counters
/// there stay current without a write per task, and an idle agent neither writes (nor fsyncs)
/// nor wakes.
async fn record_writer<E>(ctx: Arc<Ctx<E>>) {
    loop {
        ctx.record_changed.notified().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let at = ctx
            .record
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .updated_at;
        // A state change already saved (set_state writes at once) is not written again.
        if *ctx.written.lock().unwrap_or_else(|e| e.into_inner()) != Some(at) {
            ctx.write_record().await;
        }
    }
}

async fn run_loop<E: Executor>(
    ctx: &Arc<Ctx<E>>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Exit, AgentError> {
    let Some(mut broker) = connect_initial(ctx, shutdown).await? else {
        return Ok(Exit::Signal);
    };
    let mut done: u64 = 0;
    loop {
        ctx.set_state(AgentState::Running).await;
        let end = session(ctx, &broker, shutdown, &mut done).await;
        match end {
            SessionEnd::Exit(exit) => {
                broker.close().await;
                return Ok(exit);
            }
            SessionEnd::Breaker => {
                ctx.metrics.set_circuit_open(true);
                info!(agent_index = %ctx.idx(), cooldown_ms = ctx.cfg.breaker_cooldown.as_millis() as u64, "breaker_open");
                let cooled = tokio::select! {
                    _ = tokio::time::sleep(ctx.cfg.breaker_cooldown) => true,
                    _ = stopped(shutdown) => false,
                };
                ctx.breaker
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .close();
                ctx.metrics.set_circuit_open(false);
                if !cooled {
                    broker.close().await;
                    return Ok(Exit::Signal);
                }
                info!(agent_index = %ctx.idx(), "breaker_closed");
            }
            SessionEnd::VolumeUnusable => {
                if !volume_usable_again(ctx, shutdown).await {
                    broker.close().await;
                    return Ok(Exit::Signal);
                }
            }
            // Only the channel closed: the next session opens another on the same connection
            // (the consumer_timeout line said what happened). A connection that went down
            // meanwhile is a lost broker after all.
            SessionEnd::ConsumerTimeout if broker.is_connected() => {}
            SessionEnd::ConsumerTimeout => {
                warn!(agent_index = %ctx.idx(), error = "the connection closed after the consumer timeout", "broker_lost");
                match reconnect(ctx, shutdown).await {
                    Some(b) => broker = b,
                    None => return Ok(Exit::Signal),
                }
            }
            SessionEnd::Lost(why) => {
                warn!(agent_index = %ctx.idx(), error = %why, "broker_lost");
                match reconnect(ctx, shutdown).await {
                    Some(b) => broker = b,
                    None => return Ok(Exit::Signal),
                }
            }
        }
    }
}

/// What the agent says when RabbitMQ's `consumer_timeout` closed its channel.
const CONSUMER_TIMEOUT_DETAIL: &str = "the broker closed the channel because a delivery stayed unacknowledged longer than its consumer_timeout (RabbitMQ's default: 30 min); the broker requeued every task on the channel, each resumes from its checkpoint, and the agent consumes again on a new channel of the same connection. Keep each task under that limit, or raise it: consumer_timeout in rabbitmq.conf, or per queue with the consumer-timeout policy (RabbitMQ 3.12+; README, \"Long tasks and RabbitMQ's consumer_timeout\")";

/// Whether a channel error is RabbitMQ's consumer timeout (a PRECONDITION_FAILED close whose
/// text is "delivery acknowledgement on channel N timed out").
fn is_consumer_timeout(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("delivery acknowledgement") && e.contains("timed out")
}

/// How often the shared checkpoint volume is swept, by whichever agent starts first.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Removes expired results and checkpoints whose task has a result, at start unless another
/// agent swept the volume within [`SWEEP_EVERY`], beside the consumption (a large directory on
/// a slow volume must not delay it).
async fn sweep<E>(ctx: Arc<Ctx<E>>) {
    let ttl = ctx.cfg.results_ttl;
    match blocking(&ctx, move |s| s.sweep(ttl, SWEEP_EVERY)).await {
        Ok(None) => {
            debug!(agent_index = %ctx.idx(), every_s = SWEEP_EVERY.as_secs(), "checkpoint_dir_swept_recently")
        }
        Ok(Some(swept)) => {
            info!(agent_index = %ctx.idx(), results = swept.results, checkpoints = swept.checkpoints, results_ttl_s = ttl.as_secs(), "checkpoint_dir_swept")
        }
        Err(e) => warn!(agent_index = %ctx.idx(), error = %e, "checkpoint_dir_not_swept"),
    }
}

/// How often an unusable checkpoint volume is tried again.
const VOLUME_PROBE_EVERY: Duration = Duration::from_secs(2);

/// Waits, not consuming and with /readyz failing, until the checkpoint volume takes a write
/// again; false when a signal came first.
async fn volume_usable_again<E>(ctx: &Arc<Ctx<E>>, shutdown: &mut watch::Receiver<bool>) -> bool {
    let error = ctx
        .volume_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default();
    ctx.metrics.set_ready(false);
    warn!(
        agent_index = %ctx.idx(),
        dir = %ctx.store.root().display(),
        error = %error,
        detail = "results and checkpoints cannot be written, so no task can finish: consumption stops and /readyz fails until the checkpoint volume takes writes again",
        "checkpoint_volume_unusable"
    );
    loop {
        tokio::select! {
            _ = tokio::time::sleep(VOLUME_PROBE_EVERY) => {}
            _ = stopped(shutdown) => return false,
        }
        match blocking(ctx, |s| s.probe()).await {
            Ok(()) => {
                ctx.recorded();
                info!(agent_index = %ctx.idx(), "checkpoint_volume_usable");
                return true;
            }
            Err(e) => {
                info!(agent_index = %ctx.idx(), error = %e, "checkpoint_volume_still_unusable")
            }
        }
    }
}

/// The first connection: retried while the broker is unreachable, up to --connect-timeout.
/// A refused login, a missing vhost or a bad URL is configuration and fails at once.
async fn connect_initial<E>(
    ctx: &Arc<Ctx<E>>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<Broker>, AgentError> {
    let deadline = Instant::now() + ctx.cfg.connect_timeout;
    let mut backoff = Duration::from_millis(250);
    loop {
        match ctx.connect().await {
            Ok(b) => {
                info!(agent_index = %ctx.idx(), broker = %b.masked_url(), "broker_connected");
                return Ok(Some(b));
            }
            Err(e @ QueueError::Unreachable { .. }) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(AgentError::Fatal(format!(
                        "{e} (gave up after --connect-timeout {}s)",
                        ctx.cfg.connect_timeout.as_secs_f64()
                    )));
                }
                warn!(agent_index = %ctx.idx(), error = %e, "broker_unreachable");
                tokio::select! {
                    _ = tokio::time::sleep(backoff.min(left)) => {}
                    _ = stopped(shutdown) => return Ok(None),
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(AgentError::Config(e.to_string())),
        }
    }
}

/// Reconnects after a lost connection, with back-off, until it works or a signal comes.
async fn reconnect<E>(ctx: &Arc<Ctx<E>>, shutdown: &mut watch::Receiver<bool>) -> Option<Broker> {
    let mut backoff = Duration::from_millis(250);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stopped(shutdown) => return None,
        }
        match ctx.connect().await {
            Ok(b) => {
                info!(agent_index = %ctx.idx(), broker = %b.masked_url(), "broker_connected");
                return Some(b);
            }
            Err(e) => warn!(agent_index = %ctx.idx(), error = %e, "broker_unreachable"),
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Opens a channel, consumes until something ends the session, and winds down the tasks in
/// flight as that reason requires.
async fn session<E: Executor>(
    ctx: &Arc<Ctx<E>>,
    broker: &Broker,
    shutdown: &mut watch::Receiver<bool>,
    done: &mut u64,
) -> SessionEnd {
    ctx.consumer_timed_out.store(false, Ordering::Relaxed);
    let channel = match open_channel(ctx, broker).await {
        Ok(c) => c,
        Err(QueueError::QueueMismatch { .. }) | Err(QueueError::Forbidden { .. }) => {
            // Retrying cannot fix these; surface them as a lost session with the reason, and
            // keep retrying slowly so that a fix on the broker side is picked up.
            return SessionEnd::Lost("the queue cannot be declared as configured".into());
        }
        Err(e) => return SessionEnd::Lost(e.to_string()),
    };
    let tag = format!("fleetctl-agent-{}-{}", ctx.idx(), Uuid::new_v4().simple());
    let mut consumer = match channel
        .basic_consume(
            ctx.cfg.topology.queue.as_str().into(),
            tag.as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return SessionEnd::Lost(broker.target().scrub(&e.to_string())),
    };
    ctx.metrics.set_ready(true);

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    let mut last_activity = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut consuming = true;

    let end = loop {
        tokio::select! {
            biased;
            _ = stopped(shutdown) => break SessionEnd::Exit(Exit::Signal),
            Some(joined) = tasks.join_next() => {
                last_activity = Instant::now();
                let outcome = joined.unwrap_or(Outcome::Requeued);
                match outcome {
                    Outcome::BreakerOpen => break SessionEnd::Breaker,
                    Outcome::VolumeUnusable => break SessionEnd::VolumeUnusable,
                    Outcome::Succeeded | Outcome::Failed | Outcome::Duplicate => *done += 1,
                    Outcome::Requeued | Outcome::Interrupted => {}
                }
                if let Some(max) = ctx.cfg.max_tasks
                    && *done >= max
                {
                    consuming = false;
                    if tasks.is_empty() {
                        break SessionEnd::Exit(Exit::MaxTasks);
                    }
                }
            }
            next = consumer.next(), if consuming => match next {
                Some(Ok(delivery)) => {
                    last_activity = Instant::now();
                    let work = process(ctx.clone(), channel.clone(), delivery, stop_rx.clone());
                    tasks.spawn(super::cpu::inherit(super::output::inherit(work)));
                }
                Some(Err(e)) => {
                    let why = broker.target().scrub(&e.to_string());
                    if is_consumer_timeout(&why) && broker.is_connected() {
                        // Before the tasks are told to stop: they must not give back (or
                        // count) deliveries the broker has requeued already.
                        ctx.consumer_timed_out.store(true, Ordering::Relaxed);
                        let current = ctx
                            .record
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .current_tasks
                            .iter()
                            .map(Uuid::to_string)
                            .collect::<Vec<_>>()
                            .join(",");
                        warn!(
                            agent_index = %ctx.idx(),
                            in_flight = tasks.len(),
                            tasks = %current,
                            error = %why,
                            detail = CONSUMER_TIMEOUT_DETAIL,
                            "consumer_timeout"
                        );
                        break SessionEnd::ConsumerTimeout;
                    }
                    break SessionEnd::Lost(why);
                }
                None => break SessionEnd::Lost("the broker cancelled the consumer".into()),
            },
            // Only an agent that may exit on its own needs the tick: with --idle-exit 0s and
            // consumption on, it would only wake an idle agent ten times a second.
            _ = tick.tick(), if !consuming || !ctx.cfg.idle_exit.is_zero() => {
                if !consuming && tasks.is_empty() {
                    break SessionEnd::Exit(Exit::MaxTasks);
                }
                if !ctx.cfg.idle_exit.is_zero()
                    && tasks.is_empty()
                    && last_activity.elapsed() >= ctx.cfg.idle_exit
                {
                    info!(agent_index = %ctx.idx(), idle_ms = ctx.cfg.idle_exit.as_millis() as u64, "idle_exit");
                    break SessionEnd::Exit(Exit::Idle);
                }
            }
        }
    };
    ctx.metrics.set_ready(false);
    let mut end = end;
    if matches!(end, SessionEnd::Exit(Exit::Signal)) {
        ctx.set_state(AgentState::Draining).await;
        if !tasks.is_empty() {
            end = SessionEnd::Exit(Exit::Interrupted);
        }
    }
    // Stop new deliveries, then tell the tasks in flight to checkpoint and give their message
    // back (a retry sleeping its back-off does the same), and wait for them.
    let _ = channel
        .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
        .await;
    let _ = stop_tx.send(true);
    let drain = async {
        while let Some(joined) = tasks.join_next().await {
            if let Ok(Outcome::Succeeded | Outcome::Failed | Outcome::Duplicate) = joined {
                *done += 1;
            }
        }
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
        // A task stuck on a broker that no longer answers: its checkpoint is on the volume
        // and the channel close below hands its message back.
        warn!(agent_index = %ctx.idx(), timeout_s = DRAIN_TIMEOUT.as_secs(), "drain_timeout");
        tasks.abort_all();
    }
    // Closing the channel hands every delivery still unacked (prefetched, never started) back
    // to the queue.
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        channel.close(200, "agent stopping".into()),
    )
    .await;
    end
}

async fn open_channel<E>(ctx: &Arc<Ctx<E>>, broker: &Broker) -> Result<Channel, QueueError> {
    let channel = broker.channel().await?;
    let target = broker.target();
    let other = |what: &'static str| {
        move |e: lapin::Error| {
            crate::queue::error::classify(&e, target, crate::queue::error::Stage::Other(what))
        }
    };
    channel
        .basic_qos(ctx.cfg.prefetch, BasicQosOptions::default())
        .await
        .map_err(other("setting prefetch"))?;
    broker.declare(&channel, &ctx.cfg.topology).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(other("enabling publisher confirms"))?;
    Ok(channel)
}

/// Resolves once the flag turns true (at once if it already is). The borrow of the flag ends
/// here, so callers may await anything afterwards.
pub(super) async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An agent whose task is aborted (an in-process agent killed with SIGKILL) leaves nothing
    /// running: its state writer goes with it and lets go of the agent's state.
    #[tokio::test]
    async fn an_aborted_agent_leaves_no_state_writer_behind() {
        use clap::Parser;
        let dir = std::env::temp_dir().join(format!("fleetctl-abort-{}", uuid::Uuid::new_v4()));
        let cli = crate::cli::Cli::try_parse_from([
            "fleetctl",
            "agent",
            "--queue",
            "abort-test",
            "--checkpoint-dir",
            dir.to_str().unwrap(),
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .unwrap();
        let crate::cli::Command::Agent(args) = cli.command else {
            panic!("an agent command")
        };
        // Nothing listens on port 1: the agent keeps trying to connect until it is killed.
        let agent = crate::agent::launch::Agent::prepare(&args, "amqp://127.0.0.1:1/%2f", |_| None)
            .await
            .unwrap();
        let metrics = agent.metrics();
        let (_stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let _ = agent.run(stop_rx).await;
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        task.abort();
        let _ = task.await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&metrics) > 1 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            Arc::strong_count(&metrics),
            1,
            "something of the killed agent still runs and holds its state"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn consumer_timeout_is_recognised_by_the_brokers_words() {
        assert!(is_consumer_timeout(
            "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 1800000 ms. This timeout value can be configured, see consumers doc guide to learn more"
        ));
        assert!(!is_consumer_timeout("connection reset by peer"));
    }

    #[test]
    fn full_jitter_stays_under_the_capped_exponential() {
        let base = Duration::from_millis(100);
        let max = Duration::from_millis(1000);
        assert_eq!(full_jitter(base, max, 0, 1.0), Duration::from_millis(100));
        assert_eq!(full_jitter(base, max, 2, 1.0), Duration::from_millis(400));
        assert_eq!(full_jitter(base, max, 3, 1.0), Duration::from_millis(800));
        assert_eq!(full_jitter(base, max, 4, 1.0), max);
        assert_eq!(full_jitter(base, max, 60, 1.0), max);
        assert_eq!(full_jitter(base, max, 2, 0.0), Duration::ZERO);
        assert_eq!(full_jitter(base, max, 2, 0.5), Duration::from_millis(200));
    }

    #[test]
    fn breaker_opens_at_the_threshold_and_resets_on_success() {
        let mut b = Breaker::default();
        assert!(!b.failure(3));
        assert!(!b.failure(3));
        b.success();
        assert!(!b.failure(3));
        assert!(!b.failure(3));
        assert!(b.failure(3));
        assert!(b.is_open());
        assert!(b.failure(3), "stays open until closed");
        b.close();
        assert!(!b.is_open());
        assert!(!b.failure(3));
    }
}
