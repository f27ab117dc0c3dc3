//! Durations as people read them: kubectl's AGE column format, shared by Table output, the CLI
//! and the console.

use std::time::Duration;

/// `duration.HumanDuration` of k8s.io/apimachinery: two significant units at most, precision
/// falling as the duration grows.
///
/// | below | format | example |
/// |---|---|---|
/// | 2 minutes | seconds | `45s` |
/// | 10 minutes | minutes and seconds | `3m20s` |
/// | 3 hours | minutes | `75m` |
/// | 8 hours | hours and minutes | `5h10m` |
/// | 48 hours | hours | `30h` |
/// | 8 days | days and hours | `3d4h` |
/// | 2 years | days | `400d` |
/// | 8 years | years and days | `3y20d` |
/// | — | years | `10y` |
///
/// A zero second or minute part is left out (`2m`, `3h`, `2d`, `2y`); sub-second parts are
/// dropped, as in kubectl.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return pair(minutes, "m", seconds % 60, "s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return pair(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return pair(days, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        return pair(years, "y", days % 365, "d");
    }
    format!("{years}y")
}

/// `3m20s`, or `3m` when the smaller part is zero.
fn pair(big: u64, big_unit: &str, small: u64, small_unit: &str) -> String {
    if small == 0 {
        format!("{big}{big_unit}")
    } else {
        format!("{big}{big_unit}{small}{small_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: u64) -> String {
        human_duration(Duration::from_secs(s))
    }

    const MIN: u64 = 60;
    const HOUR: u64 = 3600;
    const DAY: u64 = 24 * HOUR;
    const YEAR: u64 = 365 * DAY;

    #[test]
    fn seconds_below_two_minutes() {
        assert_eq!(human_duration(Duration::from_millis(250)), "0s");
        assert_eq!(d(0), "0s");
        assert_eq!(d(45), "45s");
        assert_eq!(d(90), "90s");
        assert_eq!(d(2 * MIN - 1), "119s");
    }

    #[test]
    fn minutes_and_seconds_below_ten_minutes() {
        assert_eq!(d(2 * MIN), "2m");
        assert_eq!(d(3 * MIN + 20), "3m20s");
        assert_eq!(d(10 * MIN - 1), "9m59s");
    }

    #[test]
    fn minutes_below_three_hours() {
        assert_eq!(d(10 * MIN), "10m");
        assert_eq!(d(75 * MIN + 30), "75m");
        assert_eq!(d(3 * HOUR - 1), "179m");
    }

    #[test]
    fn hours_and_minutes_below_eight_hours() {
        assert_eq!(d(3 * HOUR), "3h");
        assert_eq!(d(5 * HOUR + 10 * MIN), "5h10m");
        assert_eq!(d(8 * HOUR - 1), "7h59m");
    }

    #[test]
    fn hours_below_two_days() {
        assert_eq!(d(8 * HOUR), "8h");
        assert_eq!(d(30 * HOUR), "30h");
        assert_eq!(d(48 * HOUR - 1), "47h");
    }

    #[test]
    fn days_and_hours_below_eight_days() {
        assert_eq!(d(48 * HOUR), "2d");
        assert_eq!(d(3 * DAY + 4 * HOUR), "3d4h");
        assert_eq!(d(8 * DAY - 1), "7d23h");
    }

    #[test]
    fn days_below_two_years() {
        assert_eq!(d(8 * DAY), "8d");
        assert_eq!(d(400 * DAY), "400d");
        assert_eq!(d(2 * YEAR - 1), "729d");
    }

    #[test]
    fn years_and_days_below_eight_years() {
        assert_eq!(d(2 * YEAR), "2y");
        assert_eq!(d(3 * YEAR + 20 * DAY), "3y20d");
        assert_eq!(d(8 * YEAR - 1), "7y364d");
    }

    #[test]
    fn years_beyond() {
        assert_eq!(d(8 * YEAR), "8y");
        assert_eq!(d(10 * YEAR + 100 * DAY), "10y");
    }
}
