//! `fleetctl seed` against the real broker: what lands in the queue, and every bad input.

mod common;

use std::collections::HashSet;

use common::*;
use fleetctl::queue::amqp::Broker;
use fleetctl::queue::task::Task;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;

fn rt() -> tokio::runtime::Runtime {
    install_crypto();
    tokio::runtime::Runtime::new().unwrap()
}

/// Takes every message off `queue` (auto-ack) and returns them with their properties.
async fn drain(queue: &str) -> Vec<(Task, lapin::BasicProperties)> {
    common::agent::take_all(queue)
        .await
        .into_iter()
        .map(|(body, props)| {
            let task: Task = serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("body is not a task ({e}): {body:?}"));
            (task, props)
        })
        .collect()
}

#[test]
fn seeding_n_tasks_leaves_exactly_n_well_formed_messages() {
    if !require_broker("seeding_n_tasks_leaves_exactly_n_well_formed_messages") {
        return;
    }
    let q = unique_queue("seed");
    let r = run(fleetctl().args([
        "seed",
        "--count",
        "250",
        "--queue",
        &q,
        "--steps",
        "3",
        "--step-ms",
        "20",
    ]));
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("confirmed 250 of 250"), "{}", r.stdout);

    // Passive declare (what KEDA reads) and rabbitmqctl agree.
    let depth = rt().block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let d = b.depth(&q).await.unwrap();
        b.close().await;
        d
    });
    assert_eq!(depth.ready, 250);
    assert_eq!(depth.consumers, 0);
    let (messages, args) = list_queue(&q).expect("rabbitmqctl lists the queue");
    assert_eq!(messages, 250);
    assert!(
        args.contains("x-dead-letter-routing-key") && args.contains(&format!("{q}.dlq")),
        "{args}"
    );
    assert_eq!(
        list_queue(&format!("{q}.dlq")).map(|x| x.0),
        Some(0),
        "the DLQ exists and is empty"
    );

    let msgs = rt().block_on(drain(&q));
    assert_eq!(msgs.len(), 250);
    let mut ids = HashSet::new();
    for (task, props) in &msgs {
        assert!(ids.insert(task.id), "duplicate id {}", task.id);
        assert_eq!(
            props.message_id().as_ref().map(|s| s.as_str().to_string()),
            Some(task.id.to_string())
        );
        assert_eq!(
            props.content_type().as_ref().map(|s| s.as_str()),
            Some("application/json")
        );
        assert_eq!(*props.delivery_mode(), Some(2), "persistent");
        assert_eq!(task.kind, "demo");
        assert_eq!(task.steps, 3);
        assert_eq!(task.step_ms, 20);
        assert!(task.prompt.starts_with("demo task "), "{}", task.prompt);
        assert!(task.extra.is_empty());
    }
    delete_queue(&q);
    delete_queue(&format!("{q}.dlq"));
}

#[test]
fn seeding_twice_is_idempotent_on_the_topology_and_json_summary_is_exact() {
    if !require_broker("seeding_twice_is_idempotent_on_the_topology_and_json_summary_is_exact") {
        return;
    }
    let q = unique_queue("json");
    for _ in 0..2 {
        let r = run(fleetctl().args(["seed", "-c", "7", "-q", &q, "-o", "json"]));
        assert_eq!(r.code, 0, "{}", r.all());
        let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
        assert_eq!(v["queue"], q.as_str());
        assert_eq!(v["requested"], 7);
        assert_eq!(v["published"], 7);
        assert_eq!(v["confirmed"], 7);
        assert_eq!(v["nacked"], 0);
        assert_eq!(v["interrupted"], false);
        assert!(v.get("blocked").is_none(), "no resource alarm: {v}");
        assert_eq!(v["broker"], fleetctl::redact::mask_url(&amqp_url()));
        assert!(v["msgs_per_sec"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(list_queue(&q).map(|x| x.0), Some(14));
    delete_queue(&q);
    delete_queue(&format!("{q}.dlq"));
}

#[test]
fn payload_file_fields_go_into_every_task_in_turn() {
    if !require_broker("payload_file_fields_go_into_every_task_in_turn") {
        return;
    }
    let q = unique_queue("payload");
    let dir = std::env::temp_dir().join(format!("fleetctl-payload-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tasks.json");
    std::fs::write(
        &file,
        r#"[{"kind": "summarise", "prompt": "doc {n}", "fail_times": 2},
            {"kind": "oom", "steps": 1, "memory_mb": 64}]"#,
    )
    .unwrap();
    let r = run(fleetctl()
        .args(["seed", "-c", "4", "-q", &q, "--payload"])
        .arg(&file));
    assert_eq!(r.code, 0, "{}", r.all());
    let mut msgs = rt().block_on(drain(&q));
    msgs.sort_by_key(|(t, _)| t.prompt.clone());
    let kinds: Vec<_> = msgs.iter().map(|(t, _)| t.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "summarise").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "oom").count(), 2);
    for (t, _) in &msgs {
        match t.kind.as_str() {
            "summarise" => {
                assert_eq!(t.extra["fail_times"], 2);
                assert!(t.prompt == "doc 1" || t.prompt == "doc 3", "{}", t.prompt);
            }
            _ => {
                assert_eq!(t.extra["memory_mb"], 64);
                assert_eq!(t.steps, 1);
            }
        }
    }
    delete_queue(&q);
    delete_queue(&format!("{q}.dlq"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs a seed that must fail: nonzero exit, one `error:` line that contains `needle`, and no
/// password anywhere in the output.
fn assert_fails(args: &[&str], code: i32, needle: &str, secret: &str) {
    let r = run(fleetctl().args(args));
    assert_eq!(r.code, code, "exit code for {args:?}: {}", r.all());
    assert!(
        r.stderr.contains(needle),
        "{args:?}: expected '{needle}' in: {}",
        r.stderr
    );
    assert!(
        !r.all().contains(secret),
        "{args:?} leaked the password: {}",
        r.all()
    );
    assert!(
        !r.all().contains("panicked"),
        "{args:?} panicked: {}",
        r.all()
    );
    assert!(!r.all().contains("RUST_BACKTRACE"), "{}", r.all());
    let error_lines = r.stderr.lines().filter(|l| l.contains("error")).count();
    assert_eq!(error_lines, 1, "one error line for {args:?}: {}", r.stderr);
}

#[test]
fn bad_counts_are_usage_errors() {
    for count in ["0", "-5", "10000001", "many"] {
        assert_fails(
            &["seed", "--count", count],
            2,
            "pass a count from 1 to 10000000",
            "\u{0}",
        );
    }
}

#[test]
fn unreachable_broker_is_named_with_its_password_masked() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let url = format!("amqp://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:1/%2f");
    assert_fails(
        &["seed", "--amqp-url", &url],
        1,
        &format!("cannot reach RabbitMQ at amqp://{TEST_USER}:***@127.0.0.1:1/%2f"),
        TEST_PASSWORD,
    );
}

#[test]
fn broken_urls_are_refused_without_echoing_the_password() {
    assert_fails(
        &[
            "seed",
            "--amqp-url",
            &format!("amqp://u:{TEST_PASSWORD}@[::bad"),
        ],
        1,
        "invalid AMQP URL",
        TEST_PASSWORD,
    );
    assert_fails(
        &["seed", "--amqp-url", "localhost"],
        1,
        "invalid AMQP URL",
        TEST_PASSWORD,
    );
}

#[test]
fn passwords_holding_url_delimiters_are_masked_in_the_invalid_url_error() {
    // An unescaped '/', '?' or '#' ends the authority for a URL parser, so the password is
    // read as a port: the URL is invalid, and its error must still not print the password.
    for (left, right) in [
        ("Pw/9f3", "Kq"),
        ("Pw?9f3", "Kq"),
        ("Pw#9f3", "Kq"),
        ("Pw/9?f#3", "Kq"),
    ] {
        let secret = format!("{left}{right}");
        let url = format!("amqp://u:{secret}@127.0.0.1:5672/%2f");
        assert_fails(
            &["seed", "--amqp-url", &url],
            1,
            "invalid AMQP URL 'amqp://u:***@127.0.0.1:5672/%2f'",
            &secret,
        );
        assert_fails(&["seed", "--amqp-url", &url], 1, "percent-encoded", left);
        let r = run(agent_cmd().env("TASK_QUEUE_URL", &url).args([
            "--checkpoint-dir",
            "/nonexistent-fleetctl",
            "--metrics-addr",
            "127.0.0.1:0",
        ]));
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(r.stderr.contains("invalid AMQP URL"), "{}", r.all());
        assert!(
            !r.all().contains(left),
            "the agent leaked the password: {}",
            r.all()
        );
    }
}

#[test]
fn wrong_credentials_are_reported_as_a_refused_login() {
    if !require_broker("wrong_credentials_are_reported_as_a_refused_login") {
        return;
    }
    let url = format!(
        "amqp://{TEST_USER}:not-{TEST_PASSWORD}@{}/%2f",
        common::broker_addr()
    );
    assert_fails(
        &["seed", "--amqp-url", &url],
        1,
        "refused the login of user 'fleetctl-test'",
        TEST_PASSWORD,
    );
}

#[test]
fn a_missing_vhost_is_named() {
    if !require_broker("a_missing_vhost_is_named") {
        return;
    }
    ensure_test_user();
    let url = test_user_url("no-such-vhost");
    assert_fails(
        &["seed", "--amqp-url", &url],
        1,
        "refused vhost 'no-such-vhost'",
        TEST_PASSWORD,
    );
}

#[test]
fn a_queue_with_other_arguments_is_not_touched() {
    if !require_broker("a_queue_with_other_arguments_is_not_touched") {
        return;
    }
    ensure_test_user();
    let q = unique_queue("mismatch");
    // Someone declared the queue without the dead-letter arguments.
    rt().block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let ch = b.channel().await.unwrap();
        ch.queue_declare(
            q.as_str().into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        b.close().await;
    });
    let url = test_user_url("%2f");
    assert_fails(
        &["seed", "--amqp-url", &url, "--queue", &q],
        1,
        &format!("queue '{q}' already exists"),
        TEST_PASSWORD,
    );
    assert_eq!(
        list_queue(&q).map(|x| x.0),
        Some(0),
        "nothing was published"
    );
    assert!(
        list_queue(&format!("{q}.dlq")).is_none(),
        "no stray DLQ was declared"
    );
    delete_queue(&q);
}

#[test]
fn unreadable_or_invalid_payloads_are_named() {
    let dir = std::env::temp_dir().join(format!("fleetctl-badpayload-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.json");
    let missing = missing.to_str().unwrap();
    assert_fails(
        &["seed", "--payload", missing],
        1,
        &format!("cannot read payload file '{missing}'"),
        "\u{0}",
    );
    let d = dir.to_str().unwrap();
    assert_fails(
        &["seed", "--payload", d],
        1,
        "cannot read payload file",
        "\u{0}",
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    assert_fails(
        &["seed", "--payload", bad.to_str().unwrap()],
        1,
        "is not valid JSON",
        "\u{0}",
    );
    let wrong = dir.join("wrong.json");
    std::fs::write(&wrong, r#"{"steps": "three"}"#).unwrap();
    assert_fails(
        &["seed", "--payload", wrong.to_str().unwrap()],
        1,
        "\"steps\" must be a whole number",
        "\u{0}",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_lists_the_commands_that_exist_and_completions_print() {
    let r = run(fleetctl().arg("--help"));
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("seed") && r.stdout.contains("completions"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("guest:guest"),
        "the default password is masked in help"
    );
    for shell in ["bash", "zsh", "fish"] {
        let r = run(fleetctl().args(["completions", shell]));
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(
            r.stdout.contains("seed") && r.stdout.len() > 200,
            "{shell}: {}",
            r.stdout
        );
    }
    let r = run(fleetctl().arg("no-such-command"));
    assert_eq!(r.code, 2);
}
