//! Where a client's number meets a clock: durations and deadlines that saturate instead of
//! overflowing, so that no value a client stored (a grace period, a deadline, a TTL, a polling
//! interval) can make the arithmetic panic.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// A deadline far enough away to mean "never" (100 years), and still an `Instant`.
pub const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Whole seconds from a client's integer: negative counts as 0, anything past [`FAR`] as FAR.
pub fn secs(v: i64) -> Duration {
    Duration::from_secs(v.max(0) as u64).min(FAR)
}

/// `base + d`, or as far as an `Instant` can go when that overflows.
pub fn after(base: tokio::time::Instant, d: Duration) -> tokio::time::Instant {
    base.checked_add(d.min(FAR))
        .or_else(|| base.checked_add(Duration::from_secs(3600)))
        .unwrap_or(base)
}

/// `ts + secs` seconds, saturating at the last timestamp there is (and at the first, going
/// back), so a timestamp made from a client's number always renders and always parses.
pub fn ts_after(ts: Timestamp, secs: i64) -> Timestamp {
    ts.checked_add(SignedDuration::from_secs(secs))
        .unwrap_or(if secs >= 0 {
            Timestamp::MAX
        } else {
            Timestamp::MIN
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_values_saturate() {
        let now = Timestamp::now();
        assert_eq!(ts_after(now, i64::MAX), Timestamp::MAX);
        assert_eq!(ts_after(now, i64::MIN), Timestamp::MIN);
        assert_eq!(ts_after(now, 30), now + SignedDuration::from_secs(30));
        assert_eq!(secs(-5), Duration::ZERO);
        assert_eq!(secs(i64::MAX), FAR);
        let i = tokio::time::Instant::now();
        assert!(after(i, Duration::MAX) > i);
    }
}
