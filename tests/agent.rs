//! `fleetctl agent` against the real broker: real agent processes, real signals, the files they
//! share in the checkpoint directory, their logs, their metrics, and every bad input.
//!
//! Every test uses a queue and a checkpoint directory of its own, waits by polling with generous
//! deadlines (never asserting speed), and kills the agents it started and deletes its queues even
//! when an assertion fails.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::agent::*;
use common::*;
use fleetctl::queue::task::Task;
use fleetctl::queue::topology::{ATTEMPTS_HEADER, REASON_HEADER};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// 1. Many tasks, several agents
// ---------------------------------------------------------------------------------------------

#[test]
fn three_agents_complete_fifty_tasks_exactly_once_and_exit_when_idle() {
    if !require_broker("three_agents_complete_fifty_tasks_exactly_once_and_exit_when_idle") {
        return;
    }
    let q = QueueGuard::new("agent-fifty");
    let dir = TempDir::new("agent-fifty");
    seed(&q.0, 50, 2, 20, None);
    let seeded: BTreeSet<String> = peek_ids(&q.0, 50).into_iter().collect();
    assert_eq!(seeded.len(), 50, "seed made 50 distinct ids");

    let flags = ["--idle-exit", "3s", "--metrics-addr", "127.0.0.1:0"];
    let mut agents: Vec<Agent> = (0..3)
        .map(|i| Agent::start(&q.0, &dir, &format!("fifty-{i}"), &flags))
        .collect();
    for a in &mut agents {
        a.expect_exit_0(Duration::from_secs(120));
    }

    let mut completed: HashMap<String, String> = HashMap::new();
    for a in &agents {
        for line in a.stdout_lines() {
            let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!("agent {}: stdout line is not JSON ({e}): {line}", a.name)
            });
            assert!(v.is_object(), "agent {}: not an object: {line}", a.name);
        }
        a.metrics_addr();
        assert_eq!(
            a.events_named("idle_exit").len(),
            1,
            "agent {} stopped by idle-exit\n{}",
            a.name,
            a.dump()
        );
        for e in a.events_named("task_completed") {
            let id = task_id(&e);
            if let Some(other) = completed.insert(id.clone(), a.name.clone()) {
                panic!("task {id} completed twice: by {other} and by {}", a.name);
            }
        }
    }
    assert_eq!(
        completed.len(),
        50,
        "task_completed events across the agents"
    );
    let completed_ids: BTreeSet<String> = completed.keys().cloned().collect();
    assert_eq!(
        completed_ids, seeded,
        "the completed tasks are the seeded ones"
    );

    let results = json_files(&dir, "results");
    assert_eq!(results.len(), 50, "result files: {results:?}");
    let mut result_ids = BTreeSet::new();
    for p in &results {
        let v = read_json(p).unwrap_or_else(|| panic!("{} is not JSON", p.display()));
        assert_eq!(v["status"], "success", "{}: {v}", p.display());
        let id = v["task_id"].as_str().unwrap().to_string();
        assert_eq!(
            p.file_stem().unwrap().to_str().unwrap(),
            id,
            "the file is named after its task"
        );
        assert!(result_ids.insert(id), "{}", p.display());
    }
    assert_eq!(result_ids, seeded, "one result per seeded task");
    // Each agent's own state file: stopped, and their counts add up.
    let succeeded: u64 = (0..3)
        .map(|i| {
            let path = dir.path().join(format!("agent-fifty-{i}.json"));
            let v = read_json(&path).unwrap_or_else(|| panic!("{} is missing", path.display()));
            assert_eq!(v["state"], "stopped", "{v}");
            v["tasks_succeeded"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(
        succeeded, 50,
        "tasks_succeeded over the agents' state files"
    );
    assert!(
        json_files(&dir, "tasks").is_empty(),
        "checkpoints are removed after the ack: {:?}",
        json_files(&dir, "tasks")
    );

    assert_eq!(depth(&q.0).ready, 0);
    assert_eq!(total_messages(&q.0), 0, "nothing is left unacked either");
    assert_eq!(total_messages(&q.dlq()), 0, "nothing was dead-lettered");
}

// ---------------------------------------------------------------------------------------------
// 2. and 3. Interrupted agents: the next one resumes
// ---------------------------------------------------------------------------------------------

/// Seeds one long task and starts agent A on it; returns the task id once its checkpoint shows
/// at least two steps done.
fn start_long_task(q: &QueueGuard, dir: &TempDir) -> (String, Agent) {
    seed(&q.0, 1, 20, 250, None);
    let id = peek_ids(&q.0, 1).remove(0);
    let a = Agent::start(&q.0, dir, "resume-a", &["--idle-exit", "0"]);
    let cp = wait_checkpoint_step(dir, &id, 2, &a);
    assert_eq!(
        cp["task_id"],
        id.as_str(),
        "checkpoint names its task: {cp}"
    );
    (id, a)
}

/// Runs agent B on the interrupted task: it resumes from `k`, completes, and leaves nothing.
fn finish_with_agent_b(q: &QueueGuard, dir: &TempDir, id: &str, k: u64, a: &Agent) {
    let mut b = Agent::start(&q.0, dir, "resume-b", &["--idle-exit", "2s"]);
    let started = b.wait_event("task_started", |e| task_id(e) == id);
    assert_eq!(
        started["resumed_from"].as_u64(),
        Some(k),
        "B resumes from the checkpoint's step: {started}\n{}",
        b.dump()
    );
    b.expect_exit_0(PATIENCE);
    let done_b = b.events_named("task_completed");
    assert_eq!(done_b.len(), 1, "B completes the task once\n{}", b.dump());
    assert_eq!(task_id(&done_b[0]), id);
    assert!(
        a.events_named("task_completed").is_empty(),
        "A never completed it\n{}",
        a.dump()
    );
    let result = read_json(&result_path(dir, id)).expect("B wrote the result file");
    assert_eq!(result["status"], "success", "{result}");
    assert_eq!(result["task_id"], id, "{result}");
    assert!(
        !checkpoint_path(dir, id).exists(),
        "the checkpoint is removed after the ack"
    );
    assert_eq!(depth(&q.0).ready, 0);
    assert_eq!(total_messages(&q.0), 0);
    assert_eq!(total_messages(&q.dlq()), 0);
}

#[test]
fn sigterm_checkpoints_and_requeues_the_task_and_the_next_agent_resumes_it() {
    if !require_broker("sigterm_checkpoints_and_requeues_the_task_and_the_next_agent_resumes_it") {
        return;
    }
    let q = QueueGuard::new("agent-term");
    let dir = TempDir::new("agent-term");
    let (id, mut a) = start_long_task(&q, &dir);
    let first = a.wait_event("task_started", |e| task_id(e) == id);
    assert_eq!(first["resumed_from"].as_u64(), Some(0), "{first}");

    a.signal("TERM");
    let status = a.wait_exit(Duration::from_secs(10));
    assert_eq!(
        status.code(),
        Some(143),
        "interrupted work exits 143, so a Job does not count it as a completion\n{}",
        a.dump()
    );
    let cp = read_json(&checkpoint_path(&dir, &id))
        .unwrap_or_else(|| panic!("no checkpoint after SIGTERM in {}\n{}", dir.s(), a.dump()));
    let k = cp["step"]
        .as_u64()
        .unwrap_or_else(|| panic!("checkpoint without step: {cp}"));
    assert!(
        (2..20).contains(&k),
        "the checkpoint holds the steps done so far: {cp}"
    );
    assert_eq!(
        a.events_named("sigterm_received").len(),
        1,
        "sigterm_received logged\n{}",
        a.dump()
    );
    assert!(
        a.events_named("task_requeued")
            .iter()
            .any(|e| task_id(e) == id),
        "task_requeued logged for {id}\n{}",
        a.dump()
    );
    wait_ready(&q.0, 1, Duration::from_secs(10));

    finish_with_agent_b(&q, &dir, &id, k, &a);
}

#[test]
fn after_sigkill_the_message_returns_and_the_next_agent_resumes_from_the_last_step() {
    if !require_broker(
        "after_sigkill_the_message_returns_and_the_next_agent_resumes_from_the_last_step",
    ) {
        return;
    }
    let q = QueueGuard::new("agent-kill");
    let dir = TempDir::new("agent-kill");
    let (id, mut a) = start_long_task(&q, &dir);

    a.signal("KILL");
    let status = a.wait_exit(Duration::from_secs(10));
    assert_eq!(status.signal(), Some(9), "A died of SIGKILL: {status:?}");
    wait_ready(&q.0, 1, PATIENCE);

    let cp = read_json(&checkpoint_path(&dir, &id)).expect("the last checkpoint survives");
    let k = cp["step"]
        .as_u64()
        .unwrap_or_else(|| panic!("checkpoint without step: {cp}"));
    assert!(
        (2..20).contains(&k),
        "the checkpoint (seen at step 2 or later before the kill) holds a step from 2 to 19: {cp}"
    );
    finish_with_agent_b(&q, &dir, &id, k, &a);
}

// ---------------------------------------------------------------------------------------------
// 4. Retries and the dead-letter queue
// ---------------------------------------------------------------------------------------------

#[test]
fn a_task_that_always_fails_is_retried_then_dead_lettered_with_reason_and_attempts() {
    if !require_broker(
        "a_task_that_always_fails_is_retried_then_dead_lettered_with_reason_and_attempts",
    ) {
        return;
    }
    let q = QueueGuard::new("agent-dlq");
    let dir = TempDir::new("agent-dlq");
    let payload = payload_file(&dir, r#"{"fail_times": 100}"#);
    seed(&q.0, 1, 2, 10, Some(&payload));
    let id = peek_ids(&q.0, 1).remove(0);

    let mut a = Agent::start(
        &q.0,
        &dir,
        "dlq-0",
        &[
            "--max-attempts",
            "3",
            "--retry-base",
            "100ms",
            "--retry-max",
            "400ms",
            "--idle-exit",
            "3s",
        ],
    );
    a.expect_exit_0(PATIENCE);

    let retries = a.events_named("task_retry");
    assert_eq!(retries.len(), 2, "two retries before the DLQ\n{}", a.dump());
    for r in &retries {
        assert_eq!(task_id(r), id, "{r}");
        let backoff = r["backoff_ms"]
            .as_u64()
            .unwrap_or_else(|| panic!("task_retry without a whole backoff_ms: {r}"));
        assert!(backoff <= 400, "backoff within --retry-max: {r}");
    }
    let attempts: BTreeSet<u64> = a
        .events_named("task_started")
        .iter()
        .filter(|e| task_id(e) == id)
        .filter_map(|e| e["attempt"].as_u64())
        .collect();
    assert_eq!(
        attempts,
        BTreeSet::from([0, 1, 2]),
        "three deliveries, attempts 0, 1 and 2\n{}",
        a.dump()
    );
    assert!(
        !a.events_named("task_failed").is_empty(),
        "task_failed logged\n{}",
        a.dump()
    );
    assert_eq!(
        a.events_named("task_dead_lettered").len(),
        1,
        "task_dead_lettered logged once\n{}",
        a.dump()
    );
    assert!(a.events_named("task_completed").is_empty(), "{}", a.dump());

    let result = read_json(&result_path(&dir, &id)).expect("a result file for the failed task");
    assert_eq!(result["status"], "failure", "{result}");

    assert_eq!(total_messages(&q.0), 0, "the main queue is empty");
    assert_eq!(total_messages(&q.dlq()), 1, "one message in the DLQ");
    let (body, props) = get_one(&q.dlq()).expect("the dead letter");
    let task: Task = serde_json::from_slice(&body).expect("the DLQ holds the task as it was");
    assert_eq!(task.id.to_string(), id);
    assert_eq!(task.extra["fail_times"], 100);
    let reason = header(&props, REASON_HEADER)
        .unwrap_or_else(|| panic!("no {REASON_HEADER} header: {props:?}"));
    let reason = header_text(reason).unwrap_or_else(|| panic!("{REASON_HEADER} is {reason:?}"));
    assert!(!reason.trim().is_empty(), "an empty reason");
    let tries = header(&props, ATTEMPTS_HEADER)
        .unwrap_or_else(|| panic!("no {ATTEMPTS_HEADER} header: {props:?}"));
    assert_eq!(header_int(tries), Some(3), "{ATTEMPTS_HEADER} is {tries:?}");
}

// ---------------------------------------------------------------------------------------------
// 5. The circuit breaker
// ---------------------------------------------------------------------------------------------

#[test]
fn the_breaker_opens_after_consecutive_failures_and_gives_the_tasks_back_undamaged() {
    if !require_broker(
        "the_breaker_opens_after_consecutive_failures_and_gives_the_tasks_back_undamaged",
    ) {
        return;
    }
    let q = QueueGuard::new("agent-breaker");
    let dir = TempDir::new("agent-breaker");
    let payload = payload_file(&dir, r#"{"fail_times": 100}"#);
    seed(&q.0, 6, 2, 10, Some(&payload));
    let seeded: BTreeSet<String> = peek_ids(&q.0, 6).into_iter().collect();

    let mut a = Agent::start(
        &q.0,
        &dir,
        "breaker-0",
        &[
            "--max-attempts",
            "100",
            "--breaker-threshold",
            "3",
            "--breaker-cooldown",
            "60s",
            "--retry-base",
            "10ms",
            "--retry-max",
            "20ms",
            "--prefetch",
            "1",
            "--metrics-addr",
            "127.0.0.1:0",
            "--idle-exit",
            "0",
        ],
    );
    let addr = a.metrics_addr();
    wait_metric(addr, "agent_circuit_open", 1.0, &a);
    assert!(
        !a.events_named("breaker_open").is_empty(),
        "breaker_open logged\n{}",
        a.dump()
    );
    let (code, body) = http_get(addr, "/readyz");
    assert_eq!(code, 503, "/readyz while the breaker is open: {body}");

    // Every task is back in the queue, none dead-lettered, none consumed while open.
    wait_total(&q.0, 6, Duration::from_secs(15));
    wait_ready(&q.0, 6, Duration::from_secs(15));
    assert_eq!(total_messages(&q.dlq()), 0, "nothing was dead-lettered");
    assert!(
        a.events_named("task_dead_lettered").is_empty(),
        "{}",
        a.dump()
    );
    assert!(
        a.events_named("breaker_closed").is_empty(),
        "the 60 s cooldown has not passed\n{}",
        a.dump()
    );
    let left: BTreeSet<String> = peek_ids(&q.0, 6).into_iter().collect();
    assert_eq!(left, seeded, "the same six tasks are in the queue");
    assert_eq!(
        metric(&http_get(addr, "/metrics").1, "agent_circuit_open"),
        Some(1.0),
        "still open"
    );

    a.signal("KILL");
    a.wait_exit(Duration::from_secs(10));
}

// ---------------------------------------------------------------------------------------------
// 6. Metrics
// ---------------------------------------------------------------------------------------------

fn promtool_available() -> bool {
    Command::new("promtool")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[test]
fn metrics_pass_promtool_and_count_what_happened() {
    let test = "metrics_pass_promtool_and_count_what_happened";
    if !require_broker(test) || !require(promtool_available(), test, "promtool") {
        return;
    }
    let q = QueueGuard::new("agent-metrics");
    let dir = TempDir::new("agent-metrics");
    seed(&q.0, 5, 3, 0, None);
    let index = format!(
        "metrics-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut a = Agent::start(
        &q.0,
        &dir,
        &index,
        &["--idle-exit", "0", "--metrics-addr", "127.0.0.1:0"],
    );
    let addr = a.metrics_addr();

    let deadline = Instant::now() + PATIENCE;
    while a.events_named("task_completed").len() < 5 {
        assert!(
            Instant::now() < deadline,
            "five tasks never completed\n{}",
            a.dump()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let body = wait_metric(
        addr,
        "agent_tasks_completed_total{status=\"success\"}",
        5.0,
        &a,
    );

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n--- body ---\n{body}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let expect = |series: &str, want: f64| {
        assert_eq!(metric(&body, series), Some(want), "`{series}` in:\n{body}");
    };
    expect("agent_tasks_completed_total{status=\"success\"}", 5.0);
    expect("agent_task_steps_total", 15.0);
    expect("agent_llm_tokens_total{model=\"sim\"}", 1650.0);
    expect("agent_task_duration_seconds_count", 5.0);
    expect("agent_inflight_tasks", 0.0);
    expect("agent_circuit_open", 0.0);
    let info = body
        .lines()
        .find(|l| l.starts_with("agent_info{"))
        .unwrap_or_else(|| panic!("no agent_info series in:\n{body}"));
    assert!(info.contains(&format!("index=\"{index}\"")), "{info}");
    assert!(
        info.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{info}"
    );
    assert_eq!(
        info.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()),
        Some(1.0),
        "{info}"
    );
    assert!(
        metric(&body, "agent_resident_memory_bytes").is_some_and(|v| v > 0.0),
        "agent_resident_memory_bytes in:\n{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with("agent_checkpoints_total")),
        "agent_checkpoints_total in:\n{body}"
    );

    let (code, text) = http_get(addr, "/healthz");
    assert_eq!(code, 200, "/healthz: {text}");
    assert_eq!(text.trim(), "ok");
    let (code, text) = http_get(addr, "/readyz");
    assert_eq!(code, 200, "/readyz while consuming: {text}");

    a.signal("TERM");
    a.expect_exit_0(Duration::from_secs(30));
    assert_eq!(total_messages(&q.0), 0);
}

// ---------------------------------------------------------------------------------------------
// 7. Bad input
// ---------------------------------------------------------------------------------------------

/// The run failed with exit `code` and exactly one `fleetctl: error: ` line containing every
/// needle; no panic, no password.
fn assert_agent_error(r: &Run, code: i32, needles: &[&str]) {
    assert_eq!(r.code, code, "exit code: {}", r.all());
    assert!(
        !r.all().contains(TEST_PASSWORD),
        "the password leaked: {}",
        r.all()
    );
    assert!(!r.all().contains("panicked"), "panicked: {}", r.all());
    assert!(!r.all().contains("RUST_BACKTRACE"), "{}", r.all());
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("fleetctl: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line in: {}", r.stderr);
    for n in needles {
        assert!(
            errors[0].contains(n),
            "expected '{n}' in the error line: {}",
            errors[0]
        );
    }
}

fn unreachable_url() -> String {
    format!("amqp://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:1/%2f")
}

#[test]
fn an_unreachable_broker_fails_with_exit_1_and_a_masked_url() {
    let dir = TempDir::new("agent-unreachable");
    let mut cmd = agent_cmd();
    cmd.args(["--amqp-url", &unreachable_url(), "--connect-timeout", "1s"])
        .args(["--checkpoint-dir", dir.s(), "--index", "bad-0"])
        .args(["--queue", &unique_queue("agent-unreachable")]);
    let r = run_bounded(cmd);
    assert_agent_error(&r, 1, &["cannot reach RabbitMQ", "127.0.0.1:1"]);
}

/// The agent's own state file: "starting" once it has waited a second for the broker (not
/// before: an agent that connects at once writes "running" only), "stopped" at the end.
#[test]
fn the_state_file_says_starting_while_the_broker_is_unreachable_then_stopped() {
    let dir = TempDir::new("agent-state-file");
    let file = dir.path().join("agent-state-0.json");
    let mut cmd = agent_cmd();
    cmd.args(["--amqp-url", &unreachable_url(), "--connect-timeout", "4s"])
        .args(["--metrics-addr", "127.0.0.1:0"])
        .args(["--checkpoint-dir", dir.s(), "--index", "state-0"])
        .args(["--queue", &unique_queue("agent-state")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let starting = loop {
        if let Some(v) = read_json(&file) {
            break v;
        }
        assert!(Instant::now() < deadline, "no {} after 3 s", file.display());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(starting["state"], "starting", "{starting}");
    assert_eq!(starting["index"], "state-0");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the broker never answered");
    let stopped = read_json(&file).unwrap();
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    assert_eq!(stopped["started_at"], starting["started_at"]);
}

#[test]
fn an_invalid_broker_url_is_a_usage_error() {
    let dir = TempDir::new("agent-badurl");
    for url in [
        "not-a-url".to_string(),
        format!("amqp://u:{TEST_PASSWORD}@[::bad"),
    ] {
        let mut cmd = agent_cmd();
        cmd.args(["--amqp-url", &url, "--connect-timeout", "1s"])
            .args(["--checkpoint-dir", dir.s(), "--index", "bad-0"]);
        let r = run_bounded(cmd);
        assert_agent_error(&r, 2, &[]);
    }
}

#[test]
fn a_checkpoint_dir_that_cannot_be_written_is_named() {
    if !require_broker("a_checkpoint_dir_that_cannot_be_written_is_named") {
        return;
    }
    let q = QueueGuard::new("agent-baddir");
    let tmp = TempDir::new("agent-baddir");
    // A directory under a regular file cannot be created, even by root.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let bad = file.join("sub");
    let bad = bad.to_str().unwrap();
    let mut cmd = agent_cmd();
    cmd.env("TASK_QUEUE_URL", amqp_url())
        .args(["--queue", &q.0, "--index", "bad-0", "--idle-exit", "1s"])
        .args(["--checkpoint-dir", bad]);
    let r = run_bounded(cmd);
    assert_agent_error(&r, 2, &[bad]);
}

#[test]
fn task_queue_url_is_the_broker_the_agent_uses() {
    let dir = TempDir::new("agent-envurl");
    let mut cmd = agent_cmd();
    cmd.env("TASK_QUEUE_URL", unreachable_url())
        .env("FLEETCTL_AMQP_URL", amqp_url())
        .args(["--connect-timeout", "1s", "--idle-exit", "1s"])
        .args(["--checkpoint-dir", dir.s(), "--index", "bad-0"])
        .args(["--queue", &unique_queue("agent-envurl")]);
    let r = run_bounded(cmd);
    assert_agent_error(&r, 1, &["cannot reach RabbitMQ", "127.0.0.1:1"]);
}

// ---------------------------------------------------------------------------------------------
// 8. Malformed tasks
// ---------------------------------------------------------------------------------------------

#[test]
fn a_malformed_task_goes_straight_to_the_dlq_with_its_reason() {
    if !require_broker("a_malformed_task_goes_straight_to_the_dlq_with_its_reason") {
        return;
    }
    let q = QueueGuard::new("agent-malformed");
    let dir = TempDir::new("agent-malformed");
    let body = b"this is { not a task".to_vec();
    publish_raw(&q.0, &body);
    wait_ready(&q.0, 1, PATIENCE);

    let mut a = Agent::start(&q.0, &dir, "malformed-0", &["--idle-exit", "2s"]);
    a.expect_exit_0(PATIENCE);

    assert_eq!(total_messages(&q.0), 0, "the main queue is empty");
    assert_eq!(total_messages(&q.dlq()), 1, "the DLQ holds the message");
    let (got, props) = get_one(&q.dlq()).expect("the dead letter");
    assert_eq!(got, body, "the body is kept as it was");
    let reason = header(&props, REASON_HEADER)
        .and_then(header_text)
        .unwrap_or_else(|| panic!("no text {REASON_HEADER} header: {props:?}"));
    assert!(reason.starts_with("malformed task"), "reason: {reason}");
    assert!(a.events_named("task_completed").is_empty(), "{}", a.dump());
}

// ---------------------------------------------------------------------------------------------
// Broker outage, duplicates, refused login
// ---------------------------------------------------------------------------------------------

/// A TCP proxy to the broker on a loopback port, which can be cut (every connection closed,
/// nothing accepted) and started again on the same port.
struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    fn start(port: u16) -> Proxy {
        let upstream_addr = broker_addr();
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind proxy");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (s, c) = (stop.clone(), conns.clone());
        let accept = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(upstream) = TcpStream::connect(&upstream_addr) else {
                            continue;
                        };
                        let mut list = c.lock().unwrap();
                        list.push(client.try_clone().unwrap());
                        list.push(upstream.try_clone().unwrap());
                        pipe(client.try_clone().unwrap(), upstream.try_clone().unwrap());
                        pipe(upstream, client);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Proxy {
            port,
            stop,
            conns,
            accept: Some(accept),
        }
    }

    /// Closes the listener and every connection; returns the port for a restart.
    fn cut(mut self) -> u16 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            t.join().unwrap();
        }
        for s in self.conns.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.port
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

#[test]
fn a_broker_outage_mid_run_loses_and_repeats_no_task() {
    if !require_broker("a_broker_outage_mid_run_loses_and_repeats_no_task") {
        return;
    }
    let q = QueueGuard::new("outage");
    let dir = TempDir::new("outage");
    seed(&q.0, 12, 4, 150, None);

    let proxy = Proxy::start(0);
    let url = amqp_url().replace(&broker_addr(), &format!("127.0.0.1:{}", proxy.port));
    let mut a = Agent::start_via(&url, &q.0, &dir, "outage", &["--idle-exit", "4s"]);
    let deadline = Instant::now() + PATIENCE;
    while a.events_named("task_completed").len() < 3 {
        assert!(
            Instant::now() < deadline,
            "three tasks before the outage\n{}",
            a.dump()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let addr = a.metrics_addr();
    let port = proxy.cut();

    // The agent notices, keeps serving metrics and stops reporting ready.
    a.wait_event("broker_lost", |_| true);
    let (code, body) = http_get(addr, "/metrics");
    assert_eq!(code, 200, "metrics answer during the outage");
    assert!(
        body.contains("agent_tasks_completed_total{status=\"success\"}"),
        "{body}"
    );
    assert_eq!(
        http_get(addr, "/readyz").0,
        503,
        "not ready while disconnected"
    );
    std::thread::sleep(Duration::from_millis(1500));

    let _proxy = Proxy::start(port);
    a.expect_exit_0(Duration::from_secs(120));
    assert!(
        a.events_named("broker_connected").len() >= 2,
        "it reconnected\n{}",
        a.dump()
    );
    let completed: Vec<String> = a
        .events_named("task_completed")
        .iter()
        .map(task_id)
        .collect();
    let unique: BTreeSet<_> = completed.iter().collect();
    assert_eq!(
        unique.len(),
        completed.len(),
        "no task completed twice: {completed:?}"
    );
    assert_eq!(completed.len(), 12, "every task completed\n{}", a.dump());
    assert_eq!(json_files(&dir, "results").len(), 12);
    assert_eq!(total_messages(&q.0), 0, "the queue is empty");
    assert_eq!(total_messages(&q.dlq()), 0, "nothing dead-lettered");
}

#[test]
fn a_delivery_whose_result_is_recorded_is_only_acked() {
    if !require_broker("a_delivery_whose_result_is_recorded_is_only_acked") {
        return;
    }
    let q = QueueGuard::new("dup");
    let dir = TempDir::new("dup");
    seed(&q.0, 1, 3, 10, None);
    let id = peek_ids(&q.0, 1).remove(0);
    // Another agent finished this task and crashed before its ack reached the broker.
    std::fs::create_dir_all(dir.path().join("results")).unwrap();
    let done = serde_json::json!({
        "task_id": id, "status": "success", "steps": 3, "tokens": 330, "attempts": 1,
        "agent": "other", "completed_at": "2026-11-28T07:00:00Z", "duration_seconds": 0.1
    });
    std::fs::write(result_path(&dir, &id), done.to_string()).unwrap();

    let mut a = Agent::start(&q.0, &dir, "dup", &["--idle-exit", "2s"]);
    a.expect_exit_0(PATIENCE);
    assert_eq!(task_id(&a.wait_event("task_duplicate", |_| true)), id);
    assert!(
        a.events_named("task_started").is_empty(),
        "not run again\n{}",
        a.dump()
    );
    assert!(a.events_named("task_completed").is_empty());
    assert_eq!(total_messages(&q.0), 0, "acked");
    let kept = read_json(&result_path(&dir, &id)).unwrap();
    assert_eq!(kept["agent"], "other", "the recorded result is untouched");
}

#[test]
fn a_refused_login_is_configuration_and_exits_2() {
    if !require_broker("a_refused_login_is_configuration_and_exits_2") {
        return;
    }
    let dir = TempDir::new("login");
    let url = format!(
        "amqp://{TEST_USER}:wrong-{TEST_PASSWORD}@{}/%2f",
        broker_addr()
    );
    let mut cmd = agent_cmd();
    cmd.env("TASK_QUEUE_URL", &url)
        .args(["--checkpoint-dir", dir.s()]);
    let r = run_bounded(cmd);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("refused the login of user 'fleetctl-test'"),
        "{}",
        r.stderr
    );
    assert!(
        !r.all().contains(TEST_PASSWORD),
        "password leaked: {}",
        r.all()
    );
}
