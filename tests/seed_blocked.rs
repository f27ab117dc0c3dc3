//! `fleetctl seed` while RabbitMQ blocks publishers (a memory alarm: connection.blocked).
//!
//! A test binary of its own, not a test in tests/seed.rs: the alarm blocks every publishing
//! connection on the broker, and `cargo test` runs test binaries one after another, so no
//! other test of this suite publishes while it is raised (the tests of seed.rs run side by
//! side and all publish). The alarm is raised under [`SettingsLock`] for a few seconds, and
//! always cleared, however the test ends.

mod common;

use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::agent::{QueueGuard, collect_lines};
use common::settings::{MemoryAlarm, SettingsLock, alarms};
use common::*;

/// A `fleetctl seed` process whose stderr is collected line by line; killed when dropped.
struct Seeding {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Seeding {
    fn start(queue: &str, count: u64, extra: &[&str]) -> Self {
        let mut child = fleetctl()
            .args(["seed", "--amqp-url", &amqp_url(), "--queue", queue])
            .args(["--count", &count.to_string()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fleetctl seed starts");
        let stderr = Arc::new(Mutex::new(vec![]));
        collect_lines(child.stderr.take().unwrap(), stderr.clone());
        Self { child, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    fn wait_for_stderr(&self, secs: u64, needle: &str) {
        wait_until(
            secs,
            &format!("seed printing {needle:?}"),
            || self.stderr().contains(needle).then_some(()),
            || self.stderr(),
        );
    }

    fn interrupt(&self) {
        // SAFETY: kill(2) on the id of a child this test owns and has not waited for.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
    }

    /// Waits up to `secs` for the exit: its code, stdout, and stderr.
    fn finish(mut self, secs: u64) -> Run {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "seed did not exit within {secs} s\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        // The reader thread has seen the whole of stderr once the pipe is closed.
        std::thread::sleep(Duration::from_millis(200));
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr: self.stderr(),
        }
    }
}

impl Drop for Seeding {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number after `key` in `text` ("confirmed 3 of 40": key "confirmed ").
fn number_after(text: &str, key: &str) -> u64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in {text}"));
    text[at + key.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no number after {key:?} in {text}"))
}

const BLOCKED: &str = "broker is blocking publishers (resource alarm: ";

#[test]
fn seed_says_the_broker_blocks_publishers_and_ctrl_c_reports_exactly_what_was_confirmed() {
    let test =
        "seed_says_the_broker_blocks_publishers_and_ctrl_c_reports_exactly_what_was_confirmed";
    if !require_broker(test) {
        return;
    }
    if embedded() {
        eprintln!("SKIPPED {test}: the embedded broker raises no resource alarms");
        return;
    }
    let queues = [
        QueueGuard::new("blocked-text"),
        QueueGuard::new("blocked-json"),
        QueueGuard::new("blocked-resumed"),
    ];
    let [text_q, json_q, resumed_q] = [&queues[0].0, &queues[1].0, &queues[2].0];
    let count = 40u64;
    let lock = SettingsLock::take();
    let alarm = MemoryAlarm::raise();

    // Three seedings meet the alarm: two are interrupted, one waits for it to clear.
    let text = Seeding::start(text_q, count, &[]);
    let json = Seeding::start(json_q, count, &["-o", "json"]);
    let resumed = Seeding::start(resumed_q, count, &[]);
    for s in [&text, &json, &resumed] {
        s.wait_for_stderr(30, BLOCKED);
    }
    let interrupted_at = Instant::now();
    text.interrupt();
    json.interrupt();
    // The grace for confirms is 10 s; a blocked broker confirms nothing more, so much less.
    let text = text.finish(30);
    let json = json.finish(30);
    let stop_took = interrupted_at.elapsed();
    alarm.clear();
    let resumed = resumed.finish(60);
    drop(alarm);
    drop(lock);

    assert!(
        stop_took < Duration::from_secs(15),
        "Ctrl-C took {stop_took:?} to stop seeds that the broker blocked"
    );

    // Text: the exact partial report on stdout, what to do about it on stderr, exit 130.
    assert_eq!(text.code, 130, "{}", text.all());
    assert!(
        text.stderr
            .contains("broker is blocking publishers (resource alarm: low on memory); waiting"),
        "{}",
        text.stderr
    );
    let confirmed = number_after(&text.stdout, "confirmed ");
    assert!(
        text.stdout
            .contains(&format!("confirmed {confirmed} of {count} in ")),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains(", broker blocking publishers (resource alarm: low on memory)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stderr.contains(&format!(
            "only {confirmed} of {count} tasks were confirmed into '{text_q}' (interrupted while the broker was blocking publishers (resource alarm: low on memory)); the other {} may not be in the queue: seed them again with --count {}",
            count - confirmed,
            count - confirmed
        )),
        "{}",
        text.stderr
    );
    assert!(!text.all().contains("panicked"), "{}", text.all());

    // JSON: one object with the same counts and the broker's reason.
    assert_eq!(json.code, 130, "{}", json.all());
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", json.stdout));
    assert_eq!(v["interrupted"], true, "{v}");
    assert_eq!(v["blocked"], "low on memory", "{v}");
    assert_eq!(v["requested"], count, "{v}");
    let (published, confirmed) = (
        v["published"].as_u64().unwrap(),
        v["confirmed"].as_u64().unwrap(),
    );
    assert!(confirmed <= published && published <= count, "{v}");
    assert!(
        confirmed < count,
        "a blocked broker confirmed everything: {v}"
    );
    assert!(
        json.stderr
            .contains(&format!("only {confirmed} of {count} tasks were confirmed")),
        "{}",
        json.stderr
    );
    // What was confirmed is in the queue; nothing beyond what was written can be.
    for (q, confirmed, published) in [
        (
            text_q,
            number_after(&text.stdout, "confirmed "),
            number_after(&text.stdout, "published "),
        ),
        (json_q, confirmed, published),
    ] {
        let (messages, _) = list_queue(q).expect("the queue was declared");
        assert!(
            (confirmed..=published).contains(&messages),
            "{q}: {messages} messages, {confirmed} confirmed, {published} published"
        );
    }

    // Unblocked: the third seeding carried on and confirmed every task.
    assert_eq!(resumed.code, 0, "{}", resumed.all());
    assert!(resumed.stderr.contains(BLOCKED), "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains("broker unblocked publishers; publishing again"),
        "{}",
        resumed.stderr
    );
    assert!(
        resumed
            .stdout
            .contains(&format!("confirmed {count} of {count} in ")),
        "{}",
        resumed.stdout
    );
    assert!(!resumed.stdout.contains("blocking"), "{}", resumed.stdout);
    assert_eq!(list_queue(resumed_q).map(|x| x.0), Some(count));
    assert!(!alarms().contains("memory"), "the alarm is still raised");
}
