//! RabbitMQ's consumer_timeout closing a real `fleetctl agent`'s channel in the middle of a
//! task: the agent says so, consumes again on a new channel of the same connection, and the
//! task resumes from its checkpoint and ends with exactly one result.
//!
//! A test binary of its own: it lowers the broker-wide consumer_timeout (2 s), which every
//! channel opened meanwhile reads, so no other test of this suite may open a channel then
//! (`cargo test` runs binaries one after another). That window lasts from just before the
//! agent starts until its consumer is up; the shorter channel tick (1 s) stays until the
//! timeout has struck. Both under [`SettingsLock`], and the settings found are always put
//! back, however the test ends.

mod common;

use std::time::{Duration, Instant};

use common::agent::*;
use common::settings::{RabbitEnv, SettingsLock};
use common::*;

#[test]
fn a_consumer_timeout_reopens_the_channel_on_the_same_connection_and_the_task_ends_once() {
    let test =
        "a_consumer_timeout_reopens_the_channel_on_the_same_connection_and_the_task_ends_once";
    if !require_broker(test) {
        return;
    }
    if embedded() {
        eprintln!("SKIPPED {test}: the embedded broker has no consumer_timeout");
        return;
    }
    let q = QueueGuard::new("ctimeout");
    let dir = TempDir::new("ctimeout");
    // 6 steps of 1 s: each step fits in the lowered 2 s timeout, the delivery does not.
    seed(&q.0, 1, 6, 1000, None);
    let index = format!(
        "ctimeout-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let connection = format!("fleetctl-agent-{index}");

    let lock = SettingsLock::take();
    // A value this low was left behind by a run that was killed before it could restore it.
    let timeout = RabbitEnv::set(
        "consumer_timeout",
        "2000",
        |v| v.parse::<u64>().is_ok_and(|ms| ms < 60_000),
        Some("1800000"),
    );
    let tick = RabbitEnv::set("channel_tick_interval", "1000", |v| v == "1000", None);
    let mut a = Agent::start(&q.0, &dir, &index, &["--max-tasks", "1"]);
    wait_consuming(&q.0, &a);
    // The agent's channel read the lowered timeout when it opened; channels opened from now on
    // get the usual one. The tick stays short until the timeout has struck: a channel reads
    // it each time it re-arms its tick timer, and it only sets how often channels look.
    drop(timeout);
    let ports_before = connection_ports(&connection);
    assert_eq!(ports_before.len(), 1, "one connection named {connection}");

    let started = a.wait_event("task_started", |_| true);
    let id = task_id(&started);
    let timed_out = a.wait_event("consumer_timeout", |_| true);
    drop(tick);
    drop(lock);
    assert!(
        timed_out["tasks"].as_str().unwrap_or("").contains(&id),
        "the consumer_timeout line names the task: {timed_out}"
    );
    // Redelivered on the new channel, it resumes where its checkpoint left it.
    let resumed = a.wait_event("task_started", |e| e["resumed_from"].as_u64() > Some(0));
    assert_eq!(task_id(&resumed), id, "{}", a.dump());
    let ports_after = connection_ports(&connection);
    assert_eq!(
        ports_after,
        ports_before,
        "the agent kept its connection\n{}",
        a.dump()
    );
    a.expect_exit_0(PATIENCE);

    assert!(a.events_named("broker_lost").is_empty(), "{}", a.dump());
    assert_eq!(a.events_named("broker_connected").len(), 1, "{}", a.dump());
    for not in [
        "task_requeued",
        "task_failed",
        "task_retry",
        "task_dead_lettered",
    ] {
        assert!(a.events_named(not).is_empty(), "{not}\n{}", a.dump());
    }
    let completed = a.events_named("task_completed");
    assert_eq!(completed.len(), 1, "{}", a.dump());
    assert_eq!(task_id(&completed[0]), id);
    let stopped = a.wait_event("agent_stopped", |_| true);
    assert_eq!(stopped["succeeded"], 1, "{stopped}");
    assert_eq!(stopped["failed"], 0, "{stopped}");
    assert_eq!(stopped["requeued"], 0, "{stopped}");

    // Exactly one result, a success after all six steps, and nothing left behind.
    let results = json_files(&dir, "results");
    assert_eq!(results.len(), 1, "{results:?}");
    let result = read_json(&result_path(&dir, &id)).expect("the task's result");
    assert_eq!(result["status"], "success", "{result}");
    assert_eq!(result["steps"], 6, "{result}");
    assert_eq!(result["attempts"], 1, "no attempt was used up: {result}");
    assert!(
        !checkpoint_path(&dir, &id).exists(),
        "the checkpoint is gone"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while total_messages(&q.0) != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(total_messages(&q.0), 0, "the task left the queue");
    assert_eq!(
        list_queue(&q.dlq()).map(|x| x.0),
        Some(0),
        "nothing dead-lettered"
    );
}
