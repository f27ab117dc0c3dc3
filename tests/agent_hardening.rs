//! No task is lost: real `fleetctl agent` processes against the real broker when the DLQ is
//! missing, when a task kills its agent again and again, when the checkpoint volume refuses
//! results, and when old results and checkpoints pile up.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::agent::*;
use common::*;
use fleetctl::queue::task::{Task, Template};
use fleetctl::queue::topology::REASON_HEADER;
use lapin::BasicProperties;

/// A task of `steps` steps of `step_ms`, with `extra` fields (e.g. `fail_times`).
fn task(steps: u32, step_ms: u64, extra: serde_json::Value) -> Task {
    let mut t =
        Template::new("demo", steps, step_ms).task(uuid::Uuid::new_v4(), 1, jiff::Timestamp::now());
    if let serde_json::Value::Object(m) = extra {
        t.extra = m;
    }
    t
}

/// Publishes `task` to `queue` without declaring anything (a declaration would bring back a
/// deleted DLQ), persistent and confirmed.
fn publish_undeclared(queue: &str, task: &Task) {
    publish_confirmed(
        queue,
        &serde_json::to_vec(task).unwrap(),
        BasicProperties::default()
            .with_message_id(task.id.to_string().into())
            .with_delivery_mode(2),
    );
}

fn count(agent: &Agent, event: &str) -> usize {
    agent.events_named(event).len()
}

// ---------------------------------------------------------------------------------------------
// 13. A dead letter that cannot be routed is not acked
// ---------------------------------------------------------------------------------------------

#[test]
fn a_task_failing_while_the_dlq_is_missing_stays_queued_until_the_dlq_exists() {
    if !require_broker("a_task_failing_while_the_dlq_is_missing_stays_queued_until_the_dlq_exists")
    {
        return;
    }
    let q = QueueGuard::new("h-nodlq");
    let dir = TempDir::new("h-nodlq");
    declare(&q.0);
    let a = Agent::start(
        &q.0,
        &dir,
        "nodlq-0",
        &[
            "--max-attempts",
            "1",
            "--retry-base",
            "100ms",
            "--retry-max",
            "300ms",
            "--breaker-threshold",
            "1000",
            "--idle-exit",
            "0",
        ],
    );
    wait_consuming(&q.0, &a);
    delete_queue(&q.dlq());
    let t = task(1, 10, serde_json::json!({"fail_times": 100}));
    publish_undeclared(&q.0, &t);

    // The dead letter comes back unroutable, again and again: the task must stay in its queue.
    let deadline = Instant::now() + PATIENCE;
    while count(&a, "dead_letter_failed") < 3 {
        assert!(
            Instant::now() < deadline,
            "no unroutable dead letter reported\n{}",
            a.dump()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        a.events_named("task_dead_lettered").is_empty(),
        "{}",
        a.dump()
    );
    assert_eq!(
        total_messages(&q.0),
        1,
        "the task is still in its queue\n{}",
        a.dump()
    );
    assert!(!result_path(&dir, &t.id.to_string()).exists());

    // Once the DLQ exists again the task lands there, once.
    declare(&q.0);
    a.wait_event("task_dead_lettered", |e| task_id(e) == t.id.to_string());
    wait_total(&q.dlq(), 1, PATIENCE);
    wait_total(&q.0, 0, PATIENCE);
}

// ---------------------------------------------------------------------------------------------
// 14. A task that kills its agent is dead-lettered after --max-deaths
// ---------------------------------------------------------------------------------------------

#[test]
fn a_task_whose_agent_is_killed_max_deaths_times_is_dead_lettered_with_the_reason() {
    if !require_broker(
        "a_task_whose_agent_is_killed_max_deaths_times_is_dead_lettered_with_the_reason",
    ) {
        return;
    }
    let q = QueueGuard::new("h-deaths");
    let dir = TempDir::new("h-deaths");
    seed(&q.0, 1, 40, 200, None);
    let id = peek_ids(&q.0, 1).remove(0);
    let flags = ["--max-deaths", "2", "--idle-exit", "0"];
    for (n, name) in ["deaths-a", "deaths-b"].into_iter().enumerate() {
        let mut a = Agent::start(&q.0, &dir, name, &flags);
        let started = a.wait_event("task_started", |e| task_id(e) == id);
        if let Some(deaths) = started.get("deaths") {
            assert_eq!(deaths.as_u64(), Some(n as u64), "{started}");
        }
        wait_checkpoint_step(&dir, &id, 1, &a);
        a.signal("KILL");
        assert_eq!(a.wait_exit(PATIENCE).signal(), Some(9));
        wait_ready(&q.0, 1, PATIENCE);
    }
    let mut c = Agent::start(
        &q.0,
        &dir,
        "deaths-c",
        &["--max-deaths", "2", "--idle-exit", "2s"],
    );
    c.expect_exit_0(PATIENCE);
    assert!(c.events_named("task_started").is_empty(), "{}", c.dump());
    c.wait_event("task_dead_lettered", |e| task_id(e) == id);
    let (_, props) = get_one(&q.dlq()).expect("the task is in the DLQ");
    let reason = header(&props, REASON_HEADER)
        .and_then(header_text)
        .unwrap_or_default();
    assert_eq!(reason, "agent died 2 times while running it");
    let result = read_json(&result_path(&dir, &id)).expect("a failure result");
    assert_eq!(result["status"], "failure", "{result}");
    assert!(!checkpoint_path(&dir, &id).exists());
    assert_eq!(total_messages(&q.0), 0);
}

#[test]
fn a_task_stopped_by_sigterm_is_not_counted_as_a_death() {
    if !require_broker("a_task_stopped_by_sigterm_is_not_counted_as_a_death") {
        return;
    }
    let q = QueueGuard::new("h-term");
    let dir = TempDir::new("h-term");
    seed(&q.0, 1, 10, 200, None);
    let id = peek_ids(&q.0, 1).remove(0);
    for name in ["term-a", "term-b"] {
        let mut a = Agent::start(&q.0, &dir, name, &["--max-deaths", "1", "--idle-exit", "0"]);
        wait_checkpoint_step(&dir, &id, 1, &a);
        a.signal("TERM");
        assert_eq!(a.wait_exit(PATIENCE).code(), Some(143), "{}", a.dump());
        let cp = read_json(&checkpoint_path(&dir, &id)).unwrap();
        assert_eq!(cp["running"], false, "{cp}");
        assert_eq!(cp["deaths"], 0, "{cp}");
        std::fs::remove_file(checkpoint_path(&dir, &id)).unwrap();
        wait_ready(&q.0, 1, PATIENCE);
    }
}

// ---------------------------------------------------------------------------------------------
// 15. A result that cannot be written: back off, stop consuming, /readyz fails
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unwritable_results_dir_stops_consumption_without_a_hot_loop_and_recovers() {
    if !require_broker(
        "an_unwritable_results_dir_stops_consumption_without_a_hot_loop_and_recovers",
    ) {
        return;
    }
    let q = QueueGuard::new("h-volume");
    let dir = TempDir::new("h-volume");
    let a = Agent::start(
        &q.0,
        &dir,
        "volume-0",
        &[
            "--retry-base",
            "200ms",
            "--retry-max",
            "1s",
            "--idle-exit",
            "0",
        ],
    );
    let addr = a.metrics_addr();
    seed(&q.0, 1, 1, 10, None);
    a.wait_event("task_completed", |_| true);
    // Results can no longer be written: `results` is a plain file now (ENOTDIR, even for root).
    let results = dir.path().join("results");
    std::fs::remove_dir_all(&results).unwrap();
    std::fs::write(&results, "not a directory").unwrap();
    seed(&q.0, 1, 1, 10, None);

    let stalled = a.wait_event("checkpoint_volume_unusable", |_| true);
    assert!(
        stalled["detail"]
            .as_str()
            .is_some_and(|d| d.contains("/readyz")),
        "{stalled}"
    );
    assert_eq!(http_get(addr, "/readyz").0, 503, "{}", a.dump());
    let starts = count(&a, "task_started");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        count(&a, "task_started"),
        starts,
        "no task starts while the volume is unusable\n{}",
        a.dump()
    );
    assert!(starts <= 5, "{starts} starts: a hot loop\n{}", a.dump());
    assert_eq!(
        count(&a, "task_step"),
        1,
        "the second task never ran on a volume that cannot record it\n{}",
        a.dump()
    );
    assert_eq!(total_messages(&q.0), 1, "the task is still queued");

    std::fs::remove_file(&results).unwrap();
    std::fs::create_dir(&results).unwrap();
    a.wait_event("checkpoint_volume_usable", |_| true);
    let deadline = Instant::now() + PATIENCE;
    while count(&a, "task_completed") < 2 {
        assert!(Instant::now() < deadline, "{}", a.dump());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(http_get(addr, "/readyz").0, 200);
    assert_eq!(
        count(&a, "task_step"),
        2,
        "each task ran once\n{}",
        a.dump()
    );
    assert_eq!(json_files(&dir, "results").len(), 1);
    assert!(json_files(&dir, "tasks").is_empty());
    wait_total(&q.0, 0, PATIENCE);
}

// ---------------------------------------------------------------------------------------------
// 19. Checkpoints go once a result exists; results expire
// ---------------------------------------------------------------------------------------------

#[test]
fn expired_results_and_leftover_checkpoints_are_swept_and_a_duplicate_removes_its_checkpoint() {
    if !require_broker(
        "expired_results_and_leftover_checkpoints_are_swept_and_a_duplicate_removes_its_checkpoint",
    ) {
        return;
    }
    let q = QueueGuard::new("h-sweep");
    let dir = TempDir::new("h-sweep");
    for sub in ["results", "tasks"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let result = |id: &str| {
        format!(
            r#"{{"task_id":"{id}","status":"success","steps":1,"tokens":1,"attempts":1,"agent":"x","completed_at":"2026-01-01T00:00:00Z","duration_seconds":0.1}}"#
        )
    };
    let checkpoint = |id: &str| {
        format!(
            r#"{{"task_id":"{id}","step":0,"tokens":0,"attempt":0,"agent":"x","updated_at":"2026-01-01T00:00:00Z"}}"#
        )
    };
    let (old, fresh, done) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    for id in [&old, &fresh, &done] {
        std::fs::write(result_path(&dir, id), result(id)).unwrap();
    }
    std::fs::write(checkpoint_path(&dir, &done), checkpoint(&done)).unwrap();
    let st = std::process::Command::new("touch")
        .args(["-d", "3 days ago"])
        .arg(result_path(&dir, &old))
        .status()
        .unwrap();
    assert!(st.success());

    let a = Agent::start(
        &q.0,
        &dir,
        "sweep-0",
        &["--results-ttl", "2d", "--idle-exit", "0"],
    );
    let swept = a.wait_event("checkpoint_dir_swept", |_| true);
    assert_eq!(swept["results"], 1, "{swept}");
    assert_eq!(swept["checkpoints"], 1, "{swept}");
    assert!(
        !result_path(&dir, &old).exists(),
        "the expired result is gone"
    );
    assert!(result_path(&dir, &fresh).exists(), "a fresh result stays");
    assert!(!checkpoint_path(&dir, &done).exists());

    // A checkpoint that a crash left beside a result is removed by the delivery that finds the
    // result.
    wait_consuming(&q.0, &a);
    let mut t = task(1, 10, serde_json::json!({}));
    t.id = fresh.parse().unwrap();
    std::fs::write(checkpoint_path(&dir, &fresh), checkpoint(&fresh)).unwrap();
    publish_undeclared(&q.0, &t);
    a.wait_event("task_duplicate", |e| task_id(e) == fresh);
    assert!(!checkpoint_path(&dir, &fresh).exists(), "{}", a.dump());
    wait_total(&q.0, 0, PATIENCE);
}
