//! The consume loop: connect, consume with bounded prefetch, run each delivery as a task,
//! retry, dead-letter, trip the breaker, reconnect, and stop cleanly on a signal.
//!
//! Delivery is at least once. A delivery is acked only after its outcome is durable: the result
//! file for a finished task, the broker's confirm for a retry or a dead letter. Anything else
//! goes back to the queue (nack with requeue, or the broker's own requeue when the channel
//! closes), with the task's checkpoint on the shared volume so that whoever gets it resumes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::Channel;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
    ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};
use uuid::Uuid;

use super::checkpoint::{AgentRecord, AgentState, Checkpoint, ResultStatus, Store, TaskResult};
use super::executor::{Executor, hold_memory};
use super::telemetry::{InflightGuard, Metrics, Status};
use crate::queue::QueueError;
use crate::queue::amqp::{Broker, BrokerPool, publish_durably};
use crate::queue::task::Task;
use crate::queue::topology::{Topology, attempts, with_attempts, with_reason};

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
enum Outcome {
    Succeeded,
    Failed,
    Requeued,
    Duplicate,
    BreakerOpen,
}

/// Why a consumption session ended.
#[derive(Debug)]
enum SessionEnd {
    Exit(Exit),
    Breaker,
    Lost(String),
}

struct Ctx<E> {
    cfg: Config,
    exec: E,
    store: Store,
    metrics: Arc<Metrics>,
    breaker: Mutex<Breaker>,
    record: Mutex<AgentRecord>,
    /// A connection shared with other agents of this process, instead of one of its own.
    pool: Option<Arc<BrokerPool>>,
    /// Wakes the state writer when the record changed.
    record_changed: tokio::sync::Notify,
    /// The `updated_at` of the record last saved.
    written: Mutex<Option<jiff::Timestamp>>,
}

impl<E> Ctx<E> {
    fn idx(&self) -> &str {
        &self.cfg.index
    }

    async fn connect(&self) -> Result<Broker, QueueError> {
        match &self.pool {
            Some(pool) => pool.get(&self.cfg.url).await,
            None => Broker::connect(&self.cfg.url, &format!("fleetctl-agent-{}", self.idx())).await,
        }
    }

    fn update_record(&self, f: impl FnOnce(&mut AgentRecord)) {
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
    });
    // "starting" is written by the state writer a second from now, unless the agent is
    // running by then (that state is written at once): one file write for an agent that
    // connects at once, which matters with thousands starting on one volume.
    let writer = tokio::spawn(record_writer(ctx.clone()));
    ctx.record_changed.notify_one();

    let result = run_loop(&ctx, &mut shutdown).await;
    writer.abort();
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
                    Outcome::Succeeded | Outcome::Failed | Outcome::Duplicate => *done += 1,
                    Outcome::Requeued => {}
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
                Some(Err(e)) => break SessionEnd::Lost(broker.target().scrub(&e.to_string())),
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

/// Runs one delivery to its outcome.
async fn process<E: Executor>(
    ctx: Arc<Ctx<E>>,
    channel: Channel,
    d: Delivery,
    mut stop: watch::Receiver<bool>,
) -> Outcome {
    let attempt = attempts(&d.properties);
    let idx = ctx.idx().to_string();
    let task: Task = match serde_json::from_slice(&d.data) {
        Ok(t) => t,
        Err(e) => {
            let message_id = d
                .properties
                .message_id()
                .as_ref()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default();
            let reason = format!("malformed task: {e}");
            warn!(agent_index = %idx, message_id = %message_id, reason = %reason, "task_failed");
            return dead_letter(&ctx, &channel, &d, None, &reason, attempt + 1).await;
        }
    };
    let id = task.id;

    // At least once: a task whose success is already recorded is only acked. Otherwise resume
    // from its checkpoint, if an earlier delivery left one. One trip to the blocking pool.
    let (done, checkpoint) = blocking(&ctx, move |s| {
        let done = s
            .load_result(id)?
            .is_some_and(|r| r.status == ResultStatus::Success);
        let checkpoint = if done { None } else { s.load_checkpoint(id)? };
        Ok((done, checkpoint))
    })
    .await
    .unwrap_or_else(|e| {
        warn!(task_id = %id, agent_index = %idx, error = %e, "checkpoint_unreadable");
        (false, None)
    });
    if done {
        info!(task_id = %id, agent_index = %idx, "task_duplicate");
        let _ = d.acker.ack(BasicAckOptions::default()).await;
        return Outcome::Duplicate;
    }
    let resumed = checkpoint.is_some();
    let (mut step, mut tokens) = checkpoint
        .map(|c| (c.step.min(task.steps), c.tokens))
        .unwrap_or((0, 0));
    info!(task_id = %id, agent_index = %idx, kind = %task.kind, steps = task.steps, resumed_from = step, attempt, "task_started");
    let _inflight = InflightGuard::new(ctx.metrics.inflight());
    ctx.update_record(|r| r.current_tasks.push(id));
    let _current = CurrentTask { ctx: &ctx, id };
    let _memory = hold_memory(&task);
    let _held = ctx.metrics.hold(_memory.len() as u64);
    let started = Instant::now();
    let mut wrote_checkpoint = false;

    while step < task.steps {
        let result = tokio::select! {
            biased;
            _ = stopped(&mut stop) => {
                save_checkpoint(&ctx, &task, step, tokens, attempt).await;
                return requeue(&ctx, &d, id).await;
            }
            r = ctx.exec.step(&task, step, attempt) => r,
        };
        match result {
            Ok(t) => {
                tokens += t;
                step += 1;
                ctx.metrics.step();
                ctx.metrics.tokens(ctx.exec.model(), t);
                ctx.breaker
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .success();
                info!(task_id = %id, agent_index = %idx, step, tokens = t, "task_step");
                // After the last step the result file, written next, is the record; a
                // checkpoint of "all steps done" would only be written to be removed.
                if step < task.steps {
                    save_checkpoint(&ctx, &task, step, tokens, attempt).await;
                    wrote_checkpoint = true;
                }
            }
            Err(e) => {
                return failed(&ctx, &channel, &d, &task, attempt, &e.0, &mut stop).await;
            }
        }
    }

    let seconds = started.elapsed().as_secs_f64();
    let result = TaskResult {
        task_id: id,
        status: ResultStatus::Success,
        steps: task.steps,
        tokens,
        attempts: attempt + 1,
        agent: idx.clone(),
        completed_at: jiff::Timestamp::now(),
        duration_seconds: seconds,
        reason: None,
    };
    if let Err(e) = blocking(&ctx, move |s| s.save_result(&result)).await {
        // Without a durable result the ack would lose the outcome: give the task back instead.
        warn!(task_id = %id, agent_index = %idx, error = %e, "result_not_saved");
        return requeue(&ctx, &d, id).await;
    }
    if let Err(e) = d.acker.ack(BasicAckOptions::default()).await {
        // The result is durable; the redelivery will find it and only ack.
        warn!(task_id = %id, agent_index = %idx, error = %e, "ack_failed");
    }
    if resumed || wrote_checkpoint {
        let _ = blocking(&ctx, move |s| s.remove_checkpoint(id)).await;
    }
    ctx.metrics.task_done(Status::Success);
    ctx.metrics.observe_duration(seconds);
    ctx.update_record(|r| r.tasks_succeeded += 1);
    info!(task_id = %id, agent_index = %idx, tokens, duration_seconds = seconds, "task_completed");
    Outcome::Succeeded
}

/// Removes a task from the agent's current list on every way out of [`process`].
struct CurrentTask<'a, E> {
    ctx: &'a Ctx<E>,
    id: Uuid,
}

impl<E> Drop for CurrentTask<'_, E> {
    fn drop(&mut self) {
        let id = self.id;
        self.ctx
            .update_record(|r| r.current_tasks.retain(|t| *t != id));
    }
}

/// An executor failure: open the breaker, retry with back-off, or dead-letter.
async fn failed<E: Executor>(
    ctx: &Arc<Ctx<E>>,
    channel: &Channel,
    d: &Delivery,
    task: &Task,
    attempt: u32,
    reason: &str,
    stop: &mut watch::Receiver<bool>,
) -> Outcome {
    let id = task.id;
    let idx = ctx.idx();
    let made = attempt + 1;
    warn!(task_id = %id, agent_index = %idx, attempt = made, reason = %reason, "task_failed");
    let open = ctx
        .breaker
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .failure(ctx.cfg.breaker_threshold);
    if open {
        // The executor, not the task, is likely at fault: give the task back uncounted.
        requeue(ctx, d, id).await;
        return Outcome::BreakerOpen;
    }
    if made < ctx.cfg.max_attempts {
        let backoff = full_jitter(
            ctx.cfg.retry_base,
            ctx.cfg.retry_max,
            attempt,
            fastrand::f64(),
        );
        info!(task_id = %id, agent_index = %idx, attempt = made, backoff_ms = backoff.as_millis() as u64, "task_retry");
        tokio::select! {
            biased;
            _ = stopped(stop) => return requeue(ctx, d, id).await,
            _ = tokio::time::sleep(backoff) => {}
        }
        let props = with_attempts(d.properties.clone(), made);
        return match publish_durably(channel, &ctx.cfg.topology.queue, &d.data, props).await {
            Ok(()) => {
                let _ = d.acker.ack(BasicAckOptions::default()).await;
                ctx.metrics.task_done(Status::Requeued);
                ctx.update_record(|r| r.tasks_requeued += 1);
                Outcome::Requeued
            }
            Err(e) => {
                warn!(task_id = %id, agent_index = %idx, error = %e, "retry_publish_failed");
                requeue(ctx, d, id).await
            }
        };
    }
    dead_letter(ctx, channel, d, Some(task), reason, made).await
}

/// Publishes the delivery to the DLQ with its reason, then acks it; records the failure.
async fn dead_letter<E>(
    ctx: &Arc<Ctx<E>>,
    channel: &Channel,
    d: &Delivery,
    task: Option<&Task>,
    reason: &str,
    attempts_made: u32,
) -> Outcome {
    let idx = ctx.idx().to_string();
    let props = with_reason(with_attempts(d.properties.clone(), attempts_made), reason);
    if let Err(e) = publish_durably(channel, &ctx.cfg.topology.dlq, &d.data, props).await {
        warn!(agent_index = %idx, error = %e, "dead_letter_failed");
        return requeue(ctx, d, task.map(|t| t.id)).await;
    }
    let _ = d.acker.ack(BasicAckOptions::default()).await;
    ctx.metrics.task_done(Status::Failure);
    ctx.update_record(|r| r.tasks_failed += 1);
    let task_id = task.map(|t| t.id.to_string()).unwrap_or_default();
    info!(task_id = %task_id, agent_index = %idx, reason = %reason, attempts = attempts_made, dlq = %ctx.cfg.topology.dlq, "task_dead_lettered");
    if let Some(task) = task {
        let id = task.id;
        let result = TaskResult {
            task_id: id,
            status: ResultStatus::Failure,
            steps: task.steps,
            tokens: 0,
            attempts: attempts_made,
            agent: idx.clone(),
            completed_at: jiff::Timestamp::now(),
            duration_seconds: 0.0,
            reason: Some(reason.to_string()),
        };
        let _ = blocking(ctx, move |s| s.save_result(&result)).await;
        let _ = blocking(ctx, move |s| s.remove_checkpoint(id)).await;
    }
    Outcome::Failed
}

/// Gives a delivery back to the queue (`id` is absent for a body that is not a task).
async fn requeue<E>(ctx: &Arc<Ctx<E>>, d: &Delivery, id: impl Into<Option<Uuid>>) -> Outcome {
    let id = id.into().map(|i| i.to_string()).unwrap_or_default();
    let _ = d
        .acker
        .nack(BasicNackOptions {
            requeue: true,
            multiple: false,
        })
        .await;
    ctx.metrics.task_done(Status::Requeued);
    ctx.update_record(|r| r.tasks_requeued += 1);
    info!(task_id = %id, agent_index = %ctx.idx(), "task_requeued");
    Outcome::Requeued
}

async fn save_checkpoint<E>(ctx: &Arc<Ctx<E>>, task: &Task, step: u32, tokens: u64, attempt: u32) {
    let c = Checkpoint {
        task_id: task.id,
        step,
        tokens,
        attempt,
        agent: ctx.idx().to_string(),
        updated_at: jiff::Timestamp::now(),
    };
    match blocking(ctx, move |s| s.save_checkpoint(&c)).await {
        Ok(()) => {
            ctx.metrics.checkpoint();
            info!(task_id = %task.id, agent_index = %ctx.idx(), step, "checkpoint_saved");
        }
        Err(e) => {
            warn!(task_id = %task.id, agent_index = %ctx.idx(), error = %e, "checkpoint_failed")
        }
    }
}

/// Resolves once the flag turns true (at once if it already is). The borrow of the flag ends
/// here, so callers may await anything afterwards.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// Runs a store operation on the blocking pool: fsyncs must not stall the consumers.
async fn blocking<E, T: Send + 'static>(
    ctx: &Arc<Ctx<E>>,
    f: impl FnOnce(&Store) -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let store = ctx.store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
