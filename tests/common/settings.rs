//! Broker-wide RabbitMQ settings changed by a test (a resource alarm, the consumer timeout),
//! always put back: every change is a guard that restores the value it found when dropped,
//! however the test ends.
//!
//! Such a change reaches every connection on the broker, so the tests making one hold
//! [`SettingsLock`] (a file lock: it also keeps apart test binaries or `cargo test` runs that
//! overlap) and live in test binaries of their own (`cargo test` runs binaries one after
//! another, so no other test of this suite is publishing or consuming meanwhile).

use std::fs::File;
use std::time::{Duration, Instant};

use super::rabbitmqctl;

/// Held while a test changes broker-wide settings; released when dropped.
pub struct SettingsLock(File);

impl SettingsLock {
    /// Waits for the lock (other holders keep it for seconds).
    pub fn take() -> Self {
        use std::os::fd::AsRawFd;
        let path = std::env::temp_dir().join("fleetctl-tests-broker-settings.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        // SAFETY: flock(2) on a descriptor this File owns; released when the File closes.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(rc, 0, "flock {}", path.display());
        Self(file)
    }
}

/// Evaluates an Erlang expression in the broker; its printed value, trimmed.
pub fn eval(expr: &str) -> String {
    let out = rabbitmqctl(&["eval", expr]);
    assert!(
        out.status.success(),
        "rabbitmqctl eval '{expr}': {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The broker's active resource alarms, as printed by rabbit_alarm.
pub fn alarms() -> String {
    eval("rabbit_alarm:get_alarms().")
}

/// Polls `check` every 100 ms for up to `secs`; whether it turned true.
fn within(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A memory alarm, raised by lowering the memory high watermark far below what the broker
/// uses; the watermark found is put back when dropped.
pub struct MemoryAlarm {
    previous: String,
}

impl MemoryAlarm {
    /// A relative watermark this low is a run killed before it could put the real one back.
    const LEFTOVER_BELOW: f64 = 0.01;

    /// Raises the alarm and waits (up to 15 s) until the broker reports it.
    pub fn raise() -> Self {
        let found = eval("vm_memory_monitor:get_vm_memory_high_watermark().");
        let previous = match found.parse::<f64>() {
            Ok(f) if f < Self::LEFTOVER_BELOW => "0.4".to_string(),
            Ok(_) => found,
            Err(_) if found.starts_with("{absolute,") => found,
            Err(_) => "0.4".to_string(),
        };
        // Armed before the change, so that a failure from here on still restores.
        let alarm = Self { previous };
        eval("vm_memory_monitor:set_vm_memory_high_watermark(0.0000001).");
        assert!(
            within(15, || alarms().contains("memory")),
            "no memory alarm 15 s after lowering the watermark: {}",
            alarms()
        );
        alarm
    }

    /// Puts the watermark back and waits (up to 15 s) until the alarm has cleared.
    fn restore(&self) -> bool {
        let out = rabbitmqctl(&[
            "eval",
            &format!(
                "vm_memory_monitor:set_vm_memory_high_watermark({}).",
                self.previous
            ),
        ]);
        out.status.success() && within(15, || !alarms().contains("memory"))
    }

    /// Clears the alarm now (the guard still restores on drop, which is then a no-op).
    pub fn clear(&self) {
        assert!(
            self.restore(),
            "the memory alarm did not clear: {}",
            alarms()
        );
    }
}

impl Drop for MemoryAlarm {
    fn drop(&mut self) {
        if !self.restore() {
            eprintln!(
                "could not restore the memory high watermark to {}: run `rabbitmqctl set_vm_memory_high_watermark 0.4`",
                self.previous
            );
        }
    }
}

/// A `rabbit` application setting changed for a while; the value found (or its absence) is put
/// back when dropped. Channels read settings such as `consumer_timeout` when they open, so only
/// channels opened meanwhile see the change.
pub struct RabbitEnv {
    key: &'static str,
    /// The Erlang term found, None when the key was unset.
    previous: Option<String>,
}

impl RabbitEnv {
    /// Sets `key` to the Erlang term `value`. `leftover`: whether a value found is one a killed
    /// run left behind, in which case `default` (an Erlang term, or None: unset) is restored.
    pub fn set(
        key: &'static str,
        value: &str,
        leftover: impl Fn(&str) -> bool,
        default: Option<&str>,
    ) -> Self {
        let found = eval(&format!("application:get_env(rabbit, {key})."));
        let previous = match found.strip_prefix("{ok,").and_then(|v| v.strip_suffix('}')) {
            Some(v) if leftover(v) => default.map(str::to_string),
            Some(v) => Some(v.to_string()),
            None => None,
        };
        let env = Self { key, previous };
        eval(&format!("application:set_env(rabbit, {key}, {value})."));
        env
    }
}

impl Drop for RabbitEnv {
    fn drop(&mut self) {
        let expr = match &self.previous {
            Some(v) => format!("application:set_env(rabbit, {}, {v}).", self.key),
            None => format!("application:unset_env(rabbit, {}).", self.key),
        };
        let out = rabbitmqctl(&["eval", &expr]);
        if !out.status.success() {
            eprintln!(
                "could not restore rabbit's {}: run `rabbitmqctl eval '{expr}'`",
                self.key
            );
        }
    }
}
