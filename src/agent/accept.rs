//! Accept loops that back off. When `accept` fails (EMFILE, ENFILE, or anything else) the
//! loop waits before trying again, 10 ms doubling to 1 s, and keeps serving the connections it
//! has; the warning is rate-limited (one line per interval with the count), so that thousands
//! of in-process agents, or an API server, out of descriptors cannot fill a log. The agents'
//! metrics servers share one limit for the whole process; the sim's API server has its own.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

/// The first wait after a failed accept.
pub const BACKOFF_MIN: Duration = Duration::from_millis(10);
/// The longest wait between two tries.
pub const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one warning line per this interval, for one [`RateLimit`].
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// Failed accepts since the last warning line, and when that line was written.
pub struct RateLimit(Mutex<(Option<Instant>, u64)>);

impl RateLimit {
    pub const fn new() -> Self {
        RateLimit(Mutex::new((None, 0)))
    }

    /// Counts a failed accept; Some(failures since the last line) when a line is due now.
    pub fn count_failure(&self, now: Instant) -> Option<u64> {
        let mut w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        w.1 += 1;
        if w.0.is_none_or(|t| now.duration_since(t) >= WARN_EVERY) {
            let n = w.1;
            *w = (Some(now), 0);
            Some(n)
        } else {
            None
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::new()
    }
}

/// The wait after `wait`: doubled, at most [`BACKOFF_MAX`].
pub fn next_backoff(wait: Duration) -> Duration {
    (wait * 2).min(BACKOFF_MAX)
}

/// The metrics servers' warnings, one limit for every agent of the process.
static WARNED: RateLimit = RateLimit::new();

fn count_failure(now: Instant) -> Option<u64> {
    WARNED.count_failure(now)
}

/// The next connection of `listener`; failed accepts are waited out with back-off.
pub async fn accept(listener: &TcpListener) -> TcpStream {
    let mut wait = BACKOFF_MIN;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return stream,
            Err(e) => {
                if let Some(failures) = count_failure(Instant::now()) {
                    tracing::warn!(error = %e, failures, every_secs = WARN_EVERY.as_secs(), "metrics_accept_failed");
                }
                tokio::time::sleep(wait).await;
                wait = next_backoff(wait);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_10_ms_to_1_s() {
        let mut w = BACKOFF_MIN;
        let mut seen = vec![];
        for _ in 0..9 {
            seen.push(w.as_millis());
            w = next_backoff(w);
        }
        assert_eq!(seen, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    }

    #[test]
    fn one_warning_per_interval_with_the_count() {
        let t0 = Instant::now();
        // The first failure since start (or since a previous test's line) may warn; after
        // that, failures within the interval are only counted.
        let _ = count_failure(t0);
        for _ in 0..999 {
            assert_eq!(count_failure(t0 + Duration::from_secs(1)), None);
        }
        assert_eq!(
            count_failure(t0 + WARN_EVERY + Duration::from_secs(1)),
            Some(1_000)
        );
    }
}
