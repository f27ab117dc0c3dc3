//! One delivery run to its outcome: resume from the checkpoint, run the steps, record the
//! result, retry or dead-letter, and give the delivery back when no outcome can be recorded.
//!
//! A delivery is acked only once its outcome is durable: the result file for a finished task,
//! the broker's confirm of a routed (`mandatory`) publish for a retry or a dead letter. When the
//! outcome cannot be recorded (the volume refuses the result, the DLQ is missing) the delivery
//! is held for a back-off that grows with each such failure in a row and then given back, so
//! that nothing re-runs in a hot loop; the session stops consuming after
//! [`VOLUME_FAILURE_LIMIT`] failures of the volume in a row.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use lapin::Channel;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use tokio::sync::watch;
use tracing::{debug, info, warn};
use uuid::Uuid;

use super::checkpoint::{Checkpoint, ResultStatus, Store, TaskResult};
use super::executor::{Executor, hold_memory, memory_bytes};
use super::telemetry::{InflightGuard, Status};
use super::worker::{Ctx, Outcome, full_jitter, stopped};
use crate::queue::amqp::publish_durably;
use crate::queue::task::Task;
use crate::queue::topology::{attempts, with_attempts, with_reason};

/// Failures of the checkpoint volume in a row after which the agent stops consuming.
pub const VOLUME_FAILURE_LIMIT: u32 = 3;

/// Where a task stands, as its checkpoint records it.
#[derive(Debug, Clone, Copy)]
struct Progress {
    step: u32,
    tokens: u64,
    deaths: u32,
}

impl Progress {
    /// Where a delivery of a task of `steps` steps starts, from the checkpoint an earlier one
    /// left: a checkpoint still marked running is a start that ended with no outcome, a death.
    fn of(checkpoint: Option<&Checkpoint>, steps: u32) -> Self {
        Progress {
            step: checkpoint.map_or(0, |c| c.step.min(steps)),
            tokens: checkpoint.map_or(0, |c| c.tokens),
            deaths: checkpoint.map_or(0, |c| c.deaths.saturating_add(u32::from(c.running))),
        }
    }
}

/// What the look-up at the start of a delivery found.
enum Start {
    /// The task's success is recorded: only ack.
    Done,
    /// Its agents died too often while running it: dead-letter.
    Died(Progress),
    /// Marked started: run it from here.
    Run(Progress),
    /// The start could not be marked.
    Unmarked(std::io::Error),
}

/// What kept an outcome from being recorded.
enum Trouble {
    /// The checkpoint volume: counts towards stopping consumption.
    Volume(String),
    /// The broker refused or lost a publish.
    Broker,
}

/// Runs one delivery to its outcome.
pub(super) async fn process<E: Executor>(
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
            return dead_letter(&ctx, &channel, &d, None, &reason, attempt + 1, &mut stop).await;
        }
    };
    let id = task.id;

    // At least once: a task whose success is already recorded is only acked (and a checkpoint
    // that a crash left beside its result is removed). Otherwise resume from its checkpoint,
    // if an earlier delivery left one, and mark the start on the volume before any work: if
    // this agent dies, the next start counts it. One trip to the blocking pool for both. A first
    // start needs no fsync (see `Store::mark_running`); a resumed task's checkpoint holds
    // progress, which a power failure must not take, so it is replaced durably.
    // A file that does not parse is ignored (logged); a volume that cannot be read counts as
    // unusable, since whatever ran now could not be recorded either.
    let (steps, max_deaths, agent) = (task.steps, ctx.cfg.max_deaths, idx.clone());
    let looked_up = blocking(&ctx, move |s| {
        let done = readable(s.load_result(id))?.is_some_and(|r| r.status == ResultStatus::Success);
        if done {
            s.remove_checkpoint(id)?;
            return Ok(Start::Done);
        }
        let checkpoint = readable(s.load_checkpoint(id))?;
        let at = Progress::of(checkpoint.as_ref(), steps);
        if at.deaths >= max_deaths {
            return Ok(Start::Died(at));
        }
        let mark = checkpoint_at(id, agent, at, attempt, true);
        let marked = match checkpoint {
            Some(_) => s.save_checkpoint(&mark),
            None => s.mark_running(&mark),
        };
        Ok(match marked {
            Ok(()) => Start::Run(at),
            Err(e) => Start::Unmarked(e),
        })
    })
    .await;
    let mut at = match looked_up {
        Ok(Start::Run(at)) => at,
        Ok(Start::Done) => {
            info!(task_id = %id, agent_index = %idx, "task_duplicate");
            let _ = d.acker.ack(BasicAckOptions::default()).await;
            return Outcome::Duplicate;
        }
        Ok(Start::Died(at)) => {
            let reason = format!("agent died {} times while running it", at.deaths);
            warn!(task_id = %id, agent_index = %idx, deaths = at.deaths, reason = %reason, "task_failed");
            return dead_letter(
                &ctx,
                &channel,
                &d,
                Some(&task),
                &reason,
                attempt + 1,
                &mut stop,
            )
            .await;
        }
        Ok(Start::Unmarked(e)) => {
            warn!(task_id = %id, agent_index = %idx, error = %e, "checkpoint_failed");
            return volume_trouble(&ctx, &d, id, &e, &mut stop).await;
        }
        Err(e) => {
            warn!(task_id = %id, agent_index = %idx, error = %e, "checkpoint_unreadable");
            return volume_trouble(&ctx, &d, id, &e, &mut stop).await;
        }
    };
    let resumed_from = at.step;
    info!(task_id = %id, agent_index = %idx, kind = %task.kind, steps = task.steps, resumed_from, attempt, deaths = at.deaths, "task_started");
    let _inflight = InflightGuard::new(ctx.metrics.inflight());
    ctx.update_record(|r| r.current_tasks.push(id));
    let _current = CurrentTask { ctx: &ctx, id };
    // An agent of the sim's in-process runtime (it shares the sim's broker pool) counts what
    // the task asks to hold against its limit without allocating it inside the sim.
    let _memory = if ctx.pool.is_some() {
        Vec::new()
    } else {
        hold_memory(&task)
    };
    let _held = ctx.metrics.hold(memory_bytes(&task));
    let started = Instant::now();

    while at.step < task.steps {
        let result = tokio::select! {
            biased;
            _ = stopped(&mut stop) => {
                save_checkpoint(&ctx, &task, at, attempt, false).await;
                return requeue(&ctx, &d, id).await;
            }
            r = ctx.exec.step(&task, at.step, attempt) => r,
        };
        match result {
            Ok(t) => {
                at.tokens += t;
                at.step += 1;
                ctx.metrics.step();
                ctx.metrics.tokens(ctx.exec.model(), t);
                ctx.breaker
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .success();
                info!(task_id = %id, agent_index = %idx, step = at.step, tokens = t, "task_step");
                // After the last step the result file, written next, is the record.
                if at.step < task.steps {
                    save_checkpoint(&ctx, &task, at, attempt, true).await;
                }
            }
            Err(e) => {
                save_checkpoint(&ctx, &task, at, attempt, false).await;
                return failed(&ctx, &channel, &d, &task, attempt, &e.0, &mut stop).await;
            }
        }
    }

    let seconds = started.elapsed().as_secs_f64();
    let result = TaskResult {
        task_id: id,
        status: ResultStatus::Success,
        steps: task.steps,
        tokens: at.tokens,
        attempts: attempt + 1,
        agent: idx.clone(),
        completed_at: jiff::Timestamp::now(),
        duration_seconds: seconds,
        reason: None,
    };
    // The result and, once it is durable, the removal of the checkpoint: one trip to the
    // blocking pool.
    let saved = blocking(&ctx, move |s| {
        s.save_result(&result)?;
        Ok(s.remove_checkpoint(id))
    })
    .await;
    let removed = match saved {
        Ok(removed) => removed,
        Err(e) => {
            // Without a durable result the ack would lose the outcome: give the task back, with a
            // checkpoint of every step done so that the next delivery only writes the result.
            warn!(task_id = %id, agent_index = %idx, error = %e, "result_not_saved");
            save_checkpoint(&ctx, &task, at, attempt, false).await;
            return volume_trouble(&ctx, &d, id, &e, &mut stop).await;
        }
    };
    // The checkpoint goes before the ack: a crash in between leaves a delivery that finds the
    // result and is only acked, never a checkpoint nobody removes.
    if let Err(e) = removed {
        warn!(task_id = %id, agent_index = %idx, error = %e, "checkpoint_not_removed");
    }
    if let Err(e) = d.acker.ack(BasicAckOptions::default()).await {
        // The result is durable; the redelivery will find it and only ack.
        warn!(task_id = %id, agent_index = %idx, error = %e, "ack_failed");
    }
    ctx.recorded();
    ctx.metrics.task_done(Status::Success);
    ctx.metrics.observe_duration(seconds);
    ctx.update_record(|r| r.tasks_succeeded += 1);
    info!(task_id = %id, agent_index = %idx, tokens = at.tokens, duration_seconds = seconds, "task_completed");
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
                ctx.recorded();
                ctx.metrics.task_done(Status::Requeued);
                ctx.update_record(|r| r.tasks_requeued += 1);
                Outcome::Requeued
            }
            Err(e) => {
                warn!(task_id = %id, agent_index = %idx, error = %e, "retry_publish_failed");
                give_back_later(ctx, d, Some(id), Trouble::Broker, stop).await
            }
        };
    }
    dead_letter(ctx, channel, d, Some(task), reason, made, stop).await
}

/// Publishes the delivery to the DLQ with its reason (routed and confirmed), records the
/// failure, then acks it.
async fn dead_letter<E>(
    ctx: &Arc<Ctx<E>>,
    channel: &Channel,
    d: &Delivery,
    task: Option<&Task>,
    reason: &str,
    attempts_made: u32,
    stop: &mut watch::Receiver<bool>,
) -> Outcome {
    let idx = ctx.idx().to_string();
    let id = task.map(|t| t.id);
    let props = with_reason(with_attempts(d.properties.clone(), attempts_made), reason);
    if let Err(e) = publish_durably(channel, &ctx.cfg.topology.dlq, &d.data, props).await {
        warn!(task_id = %id.map(|i| i.to_string()).unwrap_or_default(), agent_index = %idx, error = %e, "dead_letter_failed");
        return give_back_later(ctx, d, id, Trouble::Broker, stop).await;
    }
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
    let _ = d.acker.ack(BasicAckOptions::default()).await;
    ctx.recorded();
    ctx.metrics.task_done(Status::Failure);
    ctx.update_record(|r| r.tasks_failed += 1);
    info!(task_id = %id.map(|i| i.to_string()).unwrap_or_default(), agent_index = %idx, reason = %reason, attempts = attempts_made, dlq = %ctx.cfg.topology.dlq, "task_dead_lettered");
    Outcome::Failed
}

/// Gives a delivery back to the queue (`id` is absent for a body that is not a task). After
/// RabbitMQ's consumer_timeout closed the channel the broker has requeued it already: nothing
/// is sent (the channel is gone) and nothing is counted.
async fn requeue<E>(ctx: &Arc<Ctx<E>>, d: &Delivery, id: impl Into<Option<Uuid>>) -> Outcome {
    let id = id.into().map(|i| i.to_string()).unwrap_or_default();
    if ctx.consumer_timed_out.load(Ordering::Relaxed) {
        debug!(task_id = %id, agent_index = %ctx.idx(), "task_interrupted_by_consumer_timeout");
        return Outcome::Interrupted;
    }
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

/// An outcome that could not be recorded: hold the delivery for a back-off that grows with
/// each such failure in a row (a stop signal cuts it short), then give it back. After
/// [`VOLUME_FAILURE_LIMIT`] failures of the volume in a row the session stops consuming.
/// [`give_back_later`] for a volume that failed with `e`.
async fn volume_trouble<E>(
    ctx: &Arc<Ctx<E>>,
    d: &Delivery,
    id: Uuid,
    e: &std::io::Error,
    stop: &mut watch::Receiver<bool>,
) -> Outcome {
    give_back_later(ctx, d, Some(id), Trouble::Volume(e.to_string()), stop).await
}

async fn give_back_later<E>(
    ctx: &Arc<Ctx<E>>,
    d: &Delivery,
    id: Option<Uuid>,
    trouble: Trouble,
    stop: &mut watch::Receiver<bool>,
) -> Outcome {
    let n = ctx.unrecorded();
    let cap = full_jitter(ctx.cfg.retry_base, ctx.cfg.retry_max, n - 1, 1.0);
    let backoff = cap.mul_f64(0.5 + fastrand::f64() / 2.0);
    info!(task_id = %id.map(|i| i.to_string()).unwrap_or_default(), agent_index = %ctx.idx(), failures_in_a_row = n, backoff_ms = backoff.as_millis() as u64, "outcome_not_recorded");
    tokio::select! {
        biased;
        _ = stopped(stop) => {}
        _ = tokio::time::sleep(backoff) => {}
    }
    requeue(ctx, d, id).await;
    match trouble {
        Trouble::Volume(e) if n >= VOLUME_FAILURE_LIMIT => {
            ctx.volume_failed(e);
            Outcome::VolumeUnusable
        }
        _ => Outcome::Requeued,
    }
}

/// The checkpoint of task `id` at `at`, written by `agent`.
fn checkpoint_at(id: Uuid, agent: String, at: Progress, attempt: u32, running: bool) -> Checkpoint {
    Checkpoint {
        task_id: id,
        step: at.step,
        tokens: at.tokens,
        attempt,
        deaths: at.deaths,
        running,
        agent,
        updated_at: jiff::Timestamp::now(),
    }
}

async fn write_checkpoint<E>(
    ctx: &Arc<Ctx<E>>,
    task: &Task,
    at: Progress,
    attempt: u32,
    running: bool,
) -> std::io::Result<()> {
    let c = checkpoint_at(task.id, ctx.idx().to_string(), at, attempt, running);
    blocking(ctx, move |s| s.save_checkpoint(&c)).await
}

/// Writes the checkpoint; a failure is logged (the step is done again by whoever resumes).
async fn save_checkpoint<E>(
    ctx: &Arc<Ctx<E>>,
    task: &Task,
    at: Progress,
    attempt: u32,
    running: bool,
) {
    match write_checkpoint(ctx, task, at, attempt, running).await {
        Ok(()) => {
            ctx.metrics.checkpoint();
            info!(task_id = %task.id, agent_index = %ctx.idx(), step = at.step, "checkpoint_saved");
        }
        Err(e) => {
            warn!(task_id = %task.id, agent_index = %ctx.idx(), error = %e, "checkpoint_failed")
        }
    }
}

/// A file's content, or None when it does not parse (a torn write from an older agent, a
/// hand edit): the task then runs as if the file were absent. Other errors are the volume's.
fn readable<T>(r: std::io::Result<Option<T>>) -> std::io::Result<Option<T>> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            warn!(error = %e, "checkpoint_file_ignored");
            Ok(None)
        }
        other => other,
    }
}

/// Runs a store operation on the blocking pool: fsyncs must not stall the consumers.
pub(super) async fn blocking<E, T: Send + 'static>(
    ctx: &Arc<Ctx<E>>,
    f: impl FnOnce(&Store) -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let store = ctx.store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}
