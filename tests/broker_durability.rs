//! `fleetctl broker --state-dir`: confirmed persistent messages on durable queues survive kill -9
//! and a clean restart; what was acked stays gone; the files are the owner's only.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::*;
use fleetctl::queue::amqp::Broker;
use lapin::options::{BasicAckOptions, BasicGetOptions};

struct Proc {
    child: Child,
    url: String,
}

/// `fleetctl broker` on a free port keeping its state in `state_dir`.
fn start(state_dir: &str) -> Proc {
    let mut child = fleetctl()
        .args([
            "broker",
            "--listen",
            "127.0.0.1:0",
            "--no-http",
            "--state-dir",
            state_dir,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fleetctl broker starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("a start line");
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("amqp="))
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    assert!(
        !line.contains("guest:guest"),
        "the password is masked: {line}"
    );
    Proc {
        child,
        url: format!("amqp://guest:guest@{addr}/%2f"),
    }
}

fn signal(p: &Proc, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &p.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn wait(mut p: Proc) -> std::process::ExitStatus {
    for _ in 0..300 {
        if let Some(s) = p.child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = p.child.kill();
    panic!("the broker did not exit within 15 s");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn ready(url: &str, queue: &str) -> u32 {
    rt().block_on(async {
        let b = Broker::connect(url, "fleetctl-test").await.unwrap();
        let d = b.depth(queue).await.unwrap();
        b.close().await;
        d.ready
    })
}

#[test]
fn confirmed_messages_survive_kill_9_and_acked_ones_stay_gone() {
    let dir = TempDir::new("broker-state");
    let state = dir.path().join("state");
    // A directory the broker creates itself, so that its mode is the broker's.
    let state_s = state.to_str().unwrap().to_string();
    let p = start(&state_s);
    let r = run(fleetctl().args([
        "seed",
        "--count",
        "10000",
        "--queue",
        "durable",
        "--amqp-url",
        &p.url,
    ]));
    assert_eq!(r.code, 0, "{}", r.all());
    signal(&p, "-KILL");
    wait(p);

    let meta = std::fs::metadata(&state).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);
    for entry in std::fs::read_dir(&state).unwrap() {
        let m = entry.unwrap().metadata().unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }

    let p = start(&state_s);
    assert_eq!(
        ready(&p.url, "durable"),
        10_000,
        "no confirmed message is lost"
    );
    assert_eq!(ready(&p.url, "durable.dlq"), 0, "the DLQ is back too");
    // Take 100 and ack them, then stop cleanly: they stay gone.
    rt().block_on(async {
        let b = Broker::connect(&p.url, "fleetctl-test").await.unwrap();
        let ch = b.channel().await.unwrap();
        for _ in 0..100 {
            let m = ch
                .basic_get("durable".into(), BasicGetOptions { no_ack: false })
                .await
                .unwrap()
                .expect("a message");
            m.delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .unwrap();
        }
        b.close().await;
    });
    signal(&p, "-TERM");
    assert!(wait(p).success(), "SIGTERM is a clean stop");
    let p = start(&state_s);
    assert_eq!(ready(&p.url, "durable"), 9_900);
    signal(&p, "-KILL");
    wait(p);
}

#[test]
fn a_port_in_use_is_one_line_naming_the_address() {
    let dir = TempDir::new("broker-busy");
    let p = start(dir.s());
    let addr = p
        .url
        .split('@')
        .nth(1)
        .unwrap()
        .trim_end_matches("/%2f")
        .to_string();
    let r = run(fleetctl().args(["broker", "--listen", &addr, "--no-http"]));
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains(&addr), "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    assert!(!r.all().contains("panicked"), "{}", r.all());
    signal(&p, "-KILL");
    wait(p);
}

#[test]
fn a_kill_9_mid_publish_loses_no_confirmed_message() {
    let dir = TempDir::new("broker-crash");
    let state = dir.path().join("state");
    let state_s = state.to_str().unwrap().to_string();
    let log = state.join("broker.log");
    // The window between a confirm and its write is short: crash several times.
    for round in 0..4 {
        let queue = format!("crash-{round}");
        let p = start(&state_s);
        let base = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let seed = fleetctl()
            .args(["seed", "--count", "200000", "--queue", &queue, "-o", "json"])
            .args(["--amqp-url", &p.url])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill the broker once publishing is well under way (its log has grown by 2 MB).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) < base + (2 << 20) {
            assert!(std::time::Instant::now() < deadline, "the log never grew");
            std::thread::sleep(Duration::from_millis(5));
        }
        signal(&p, "-KILL");
        wait(p);
        let out = seed.wait_with_output().unwrap();
        assert!(!out.status.success(), "seed noticed the broker dying");
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("seed prints its report");
        let confirmed = report["confirmed"].as_u64().unwrap();
        let published = report["published"].as_u64().unwrap();
        assert!(confirmed > 0 && confirmed < 200_000, "{report}");

        let p = start(&state_s);
        let recovered = ready(&p.url, &queue) as u64;
        assert!(
            recovered >= confirmed && recovered <= published,
            "round {round}: recovered {recovered}, confirmed {confirmed}, published {published}"
        );
        signal(&p, "-KILL");
        wait(p);
    }
}
