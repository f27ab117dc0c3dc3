//! Tests of `metrics::series`.

use super::*;
use crate::metrics::parse::parse;

const INF: f64 = f64::INFINITY;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

/// An agent's exposition: tasks by status, tokens of model `sim`, a duration histogram
/// given as cumulative counts for le 1, 5 and +Inf, and RSS.
fn agent(success: u64, failure: u64, tokens: u64, hist: [u64; 3], rss: u64) -> Scrape {
    let text = format!(
        "# TYPE agent_tasks_completed_total counter\n\
         agent_tasks_completed_total{{status=\"success\"}} {success}\n\
         agent_tasks_completed_total{{status=\"failure\"}} {failure}\n\
         agent_tasks_completed_total{{status=\"requeued\"}} 0\n\
         # TYPE agent_llm_tokens_total counter\n\
         agent_llm_tokens_total{{model=\"sim\"}} {tokens}\n\
         # TYPE agent_task_duration_seconds histogram\n\
         agent_task_duration_seconds_bucket{{le=\"1\"}} {}\n\
         agent_task_duration_seconds_bucket{{le=\"5\"}} {}\n\
         agent_task_duration_seconds_bucket{{le=\"+Inf\"}} {}\n\
         agent_task_duration_seconds_sum 0\n\
         agent_task_duration_seconds_count {}\n\
         # TYPE agent_resident_memory_bytes gauge\n\
         agent_resident_memory_bytes {rss}\n",
        hist[0], hist[1], hist[2], hist[2]
    );
    let s = parse(&text);
    assert_eq!(s.unreadable_lines, 0);
    s
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn histogram_quantile_interpolates_within_the_bucket() {
    let b = [(0.5, 1.0), (1.0, 4.0), (2.5, 9.0), (INF, 10.0)];
    // Rank 5 falls in (1, 2.5]: 4 below it, 5 inside.
    assert!(close(histogram_quantile(0.5, &b), 1.0 + 1.5 * (1.0 / 5.0)));
    // Rank 9 is the top of (1, 2.5].
    assert!(close(histogram_quantile(0.9, &b), 2.5));
    // Order does not matter.
    let shuffled = [(2.5, 9.0), (INF, 10.0), (0.5, 1.0), (1.0, 4.0)];
    assert_eq!(
        histogram_quantile(0.5, &shuffled),
        histogram_quantile(0.5, &b)
    );
}

#[test]
fn histogram_quantile_in_the_inf_bucket_is_the_highest_finite_bound() {
    let b = [(0.5, 1.0), (1.0, 4.0), (2.5, 9.0), (INF, 10.0)];
    assert_eq!(histogram_quantile(0.99, &b), Some(2.5));
    assert_eq!(histogram_quantile(1.0, &b), Some(2.5));
}

#[test]
fn histogram_quantile_in_the_lowest_bucket_starts_at_zero() {
    let b = [(0.5, 2.0), (1.0, 4.0), (INF, 4.0)];
    assert!(close(histogram_quantile(0.25, &b), 0.25));
    // Unless its bound is at or below zero: then that bound.
    let neg = [(-1.0, 5.0), (1.0, 10.0), (INF, 10.0)];
    assert_eq!(histogram_quantile(0.2, &neg), Some(-1.0));
    let zero = [(0.0, 5.0), (1.0, 10.0), (INF, 10.0)];
    assert_eq!(histogram_quantile(0.2, &zero), Some(0.0));
}

#[test]
fn histogram_quantile_answers_none_where_prometheus_answers_nan() {
    // An empty window.
    assert_eq!(histogram_quantile(0.99, &[]), None);
    // No observations.
    assert_eq!(histogram_quantile(0.99, &[(1.0, 0.0), (INF, 0.0)]), None);
    // No +Inf bucket.
    assert_eq!(histogram_quantile(0.5, &[(1.0, 1.0), (2.0, 2.0)]), None);
    // Only the +Inf bucket.
    assert_eq!(histogram_quantile(0.5, &[(INF, 3.0)]), None);
    assert_eq!(
        histogram_quantile(f64::NAN, &[(1.0, 1.0), (INF, 1.0)]),
        None
    );
    // Out of range.
    let b = [(1.0, 1.0), (INF, 1.0)];
    assert_eq!(histogram_quantile(-0.1, &b), Some(f64::NEG_INFINITY));
    assert_eq!(histogram_quantile(1.1, &b), Some(INF));
}

#[test]
fn histogram_quantile_sums_equal_bounds_and_forces_monotonic_counts() {
    // Two pods' buckets: `sum by (le)`.
    let b = [(1.0, 2.0), (INF, 2.0), (1.0, 0.0), (INF, 2.0)];
    assert!(close(histogram_quantile(0.5, &b), 1.0));
    // 3 below 5 at a higher bound is raised to 5.
    let b = [(1.0, 5.0), (2.0, 3.0), (INF, 6.0)];
    assert!(close(histogram_quantile(0.5, &b), 0.6));
}

#[test]
fn rates_need_two_scrapes() {
    let mut st = MetricsStore::default();
    st.ingest(
        "agents/a",
        "F",
        t(0),
        &Ok(agent(10, 0, 100, [1, 2, 2], 1)),
        None,
    );
    let m = st.fleet("F", t(0));
    assert_eq!(m.pods_scraped, 1);
    assert_eq!(
        (m.tasks_per_s, m.success_ratio, m.p99_task_seconds),
        (None, None, None)
    );
    assert!(m.tokens_per_s.is_empty());
    st.ingest(
        "agents/a",
        "F",
        t(2),
        &Ok(agent(14, 0, 140, [2, 4, 4], 1)),
        None,
    );
    let m = st.fleet("F", t(2));
    assert!(close(m.tasks_per_s, 2.0));
    assert!(close(m.success_ratio, 1.0));
    assert!(close(m.tokens_per_s.get("sim").copied(), 20.0));
    // Two new observations at or below 1 s and two in (1, 5]: p50 is 1.
    assert!(close(m.p50_task_seconds, 1.0));
    assert!(close(m.p99_task_seconds, 1.0 + 4.0 * (1.96 / 2.0)));
}

#[test]
fn a_counter_reset_gives_no_negative_rate() {
    let mut st = MetricsStore::default();
    let mut ingest = |s: i64, success: u64, hist: [u64; 3]| {
        st.ingest(
            "agents/a",
            "F",
            t(s),
            &Ok(agent(success, 0, 0, hist, 1)),
            None,
        );
    };
    ingest(0, 10, [10, 10, 10]);
    ingest(5, 20, [15, 20, 20]);
    // The agent restarted: its counters start again from zero.
    ingest(10, 3, [3, 3, 3]);
    ingest(15, 8, [3, 8, 8]);
    let p = st.pod("agents/a").unwrap();
    // 10, then 3 (from zero to 3), then 5: 18 tasks over 15 s.
    assert!(close(
        p.increase(TASKS, &[], t(15), Duration::from_secs(60)),
        18.0
    ));
    assert!(close(
        p.rate(TASKS, &[], t(15), Duration::from_secs(60)),
        1.2
    ));
    assert!(p.rate_points(TASKS, &[]).iter().all(|(_, r)| *r >= 0.0));
    // One reset for the counter, one for the histogram.
    assert_eq!(p.counter_resets, 2);
    // The histogram's increase over the reset is the new histogram itself: 5+3+... all
    // observations are counted once, none negative.
    let m = st.fleet("F", t(15));
    assert_eq!(m.counter_resets, 2);
    assert!(m.p50_task_seconds.is_some_and(|v| v > 0.0));
    let mut acc = Vec::new();
    p.histogram_window(TASK_SECONDS, &[], 0, i64::MAX, &mut acc);
    assert!(acc.iter().all(|(_, c)| *c >= 0.0), "{acc:?}");
    // 10 + 10 (5 under 1 s) + 3 + 5: the +Inf sums are 10 + 3 + 5.
    let inf: f64 = acc
        .iter()
        .filter(|(le, _)| *le == INF)
        .map(|(_, c)| c)
        .sum();
    assert_eq!(inf, 18.0);
}

#[test]
fn a_series_that_appears_later_counts_from_zero() {
    let mut st = MetricsStore::default();
    st.ingest("agents/a", "F", t(0), &Ok(parse("up 1\n")), None);
    let later = parse(
        "agent_llm_tokens_total{model=\"m\"} 30\n\
         # TYPE h histogram\n\
         h_bucket{le=\"1\"} 2\n\
         h_bucket{le=\"+Inf\"} 2\n",
    );
    st.ingest("agents/a", "F", t(3), &Ok(later), None);
    let p = st.pod("agents/a").unwrap();
    assert!(close(
        p.rate(TOKENS, &[], t(3), Duration::from_secs(60)),
        10.0
    ));
    assert!(close(
        p.quantile("h", 0.5, t(3), Duration::from_secs(60)),
        0.5
    ));
    // Not on a pod's first scrape: nothing is known of before.
    st.ingest("agents/b", "F", t(3), &Ok(parse("x_total 5\n")), None);
    let b = st.pod("agents/b").unwrap();
    assert_eq!(b.rate("x_total", &[], t(3), Duration::from_secs(60)), None);
}

#[test]
fn a_pod_that_stops_answering_is_stale_not_zeroed() {
    let mut st = MetricsStore::default();
    for (s, n) in [(0, 0), (5, 10)] {
        st.ingest(
            "agents/a",
            "F",
            t(s),
            &Ok(agent(n, 0, 0, [0, 0, 0], 100)),
            Some(1000),
        );
        st.ingest(
            "agents/b",
            "F",
            t(s),
            &Ok(agent(n, 0, 0, [0, 0, 0], 100)),
            Some(1000),
        );
    }
    let timeout = ScrapeError::Timeout {
        after: Duration::from_secs(2),
    };
    st.ingest(
        "agents/a",
        "F",
        t(10),
        &Ok(agent(20, 0, 0, [0, 0, 0], 100)),
        Some(1000),
    );
    st.ingest("agents/b", "F", t(10), &Err(timeout.clone()), Some(1000));
    let m = st.fleet("F", t(10));
    assert_eq!(m.pods_scraped, 1);
    assert_eq!(
        m.not_scraped,
        [("agents/b".to_string(), "timeout after 2s".to_string())]
    );
    // b's last values stay; its rate over the window is what it did while answering.
    let b = st.pod("agents/b").unwrap();
    assert_eq!(b.gauge(RSS, &[]), Some(100.0));
    assert_eq!(b.last_error, Some(timeout));
    assert!(close(m.tasks_per_s, 2.0 + 2.0));
    // b answers again: the increase over the gap is counted, once, with no reset.
    st.ingest(
        "agents/b",
        "F",
        t(15),
        &Ok(agent(30, 0, 0, [0, 0, 0], 100)),
        Some(1000),
    );
    let b = st.pod("agents/b").unwrap();
    assert_eq!((b.counter_resets, b.failures), (0, 0));
    assert!(close(
        b.increase(TASKS, &[], t(15), Duration::from_secs(60)),
        30.0
    ));
    // Nobody scraped for a while: stale by age, with the age as the reason.
    let m = st.fleet("F", t(40));
    assert_eq!(m.pods_scraped, 0);
    assert_eq!(
        m.not_scraped,
        [
            ("agents/a".to_string(), "no scrape for 30s".to_string()),
            ("agents/b".to_string(), "no scrape for 25s".to_string())
        ]
    );
    assert_eq!(
        m.worst_memory_headroom.map(|h| h.stale),
        Some(true),
        "the last reading is still shown, marked"
    );
}

#[test]
fn quantiles_are_over_the_window() {
    let mut st = MetricsStore::new(SeriesConfig {
        window: Duration::from_secs(10),
        ..Default::default()
    });
    st.ingest(
        "agents/a",
        "F",
        t(0),
        &Ok(agent(0, 0, 0, [0, 0, 0], 1)),
        None,
    );
    // Ten slow tasks early on.
    st.ingest(
        "agents/a",
        "F",
        t(5),
        &Ok(agent(10, 0, 0, [0, 0, 10], 1)),
        None,
    );
    // Then ten fast ones.
    st.ingest(
        "agents/a",
        "F",
        t(30),
        &Ok(agent(20, 0, 0, [10, 10, 20], 1)),
        None,
    );
    st.ingest(
        "agents/a",
        "F",
        t(35),
        &Ok(agent(20, 0, 0, [10, 10, 20], 1)),
        None,
    );
    assert_eq!(st.fleet("F", t(5)).p99_task_seconds, Some(5.0));
    // The window of t(35) holds only the step 30..35: no task finished in it.
    let m = st.fleet("F", t(35));
    assert_eq!(m.p99_task_seconds, None);
    assert_eq!(m.success_ratio, None);
    assert!(close(m.tasks_per_s, 0.0));
    // The window of t(30) holds no whole step (5..30 starts before it).
    assert_eq!(st.fleet("F", t(30)).p99_task_seconds, None);
    // Over a minute: ten fast and ten slow; the median is the top of the fast bucket.
    let p = st.pod("agents/a").unwrap();
    assert!(close(
        p.quantile(TASK_SECONDS, 0.5, t(35), Duration::from_secs(60)),
        1.0
    ));
    assert_eq!(
        p.quantile(TASK_SECONDS, 0.99, t(35), Duration::from_secs(60)),
        Some(5.0)
    );
}

#[test]
fn fleet_aggregates_over_pods() {
    let mut st = MetricsStore::default();
    let gi = 1u64 << 30;
    for (pod, limit, rss, fail) in [
        ("agents/a", Some(2 * gi), gi, 0),
        ("agents/b", Some(2 * gi), 3 * gi / 2, 2),
        ("agents/c", None, gi, 0),
    ] {
        st.ingest(pod, "F", t(0), &Ok(agent(0, 0, 0, [0, 0, 0], rss)), limit);
        st.ingest(
            pod,
            "F",
            t(4),
            &Ok(agent(8, fail, 40, [4, 8, 8], rss)),
            limit,
        );
    }
    st.ingest(
        "agents/x",
        "G",
        t(4),
        &Ok(agent(1, 0, 1, [1, 1, 1], 1)),
        None,
    );
    let m = st.fleet("F", t(4));
    assert_eq!(m.pods_scraped, 3);
    // 26 tasks in 4 s, 24 of them successes.
    assert!(close(m.tasks_per_s, 6.5));
    assert!(close(m.success_ratio, 24.0 / 26.0));
    assert_eq!(m.requeued_per_s, Some(0.0));
    assert!(close(m.tokens_per_s.get("sim").copied(), 30.0));
    let w = m.worst_memory_headroom.clone().unwrap();
    assert_eq!(
        (w.pod.as_str(), w.rss_bytes, w.limit_bytes),
        ("agents/b", 3 * gi / 2, 2 * gi)
    );
    assert_eq!(w.headroom_bytes, (gi / 2) as i64);
    assert!((w.used_ratio - 0.75).abs() < 1e-12);
    assert_eq!(m.pods_without_memory_limit, 1);
    assert_eq!(st.fleets(), ["F", "G"]);
    assert_eq!(st.summary(t(4)).len(), 2);
    // The JSON field names are the contract of `status -o json`.
    let v = serde_json::to_value(&m).unwrap();
    for k in [
        "tasks_per_s",
        "success_ratio",
        "p99_task_seconds",
        "tokens_per_s",
        "worst_memory_headroom",
        "pods_scraped",
        "not_scraped",
        "unreadable_lines",
    ] {
        assert!(v.get(k).is_some(), "{k} in {v}");
    }
}

#[test]
fn sparklines_are_bounded_rings() {
    let mut st = MetricsStore::new(SeriesConfig {
        points: 4,
        ..Default::default()
    });
    for i in 0..10u64 {
        let at = t(i as i64 * 5);
        st.ingest(
            "agents/a",
            "F",
            at,
            &Ok(agent(i * 5, 0, 0, [0, 0, 0], i)),
            None,
        );
        st.record_round(at);
    }
    let p = st.pod("agents/a").unwrap();
    let rates = p.rate_points(TASKS, &[]);
    assert_eq!(rates.len(), 4);
    assert!(rates.iter().all(|(_, r)| (*r - 1.0).abs() < 1e-9));
    let rss = p.gauge_points(RSS, &[]);
    assert_eq!(rss.last(), Some(&(t(45), 9.0)));
    assert_eq!(rss.len(), 4);
    let f = st.fleet_series("F").unwrap();
    assert_eq!(f.points.len(), 4);
    assert_eq!(f.points.last().unwrap().tasks_per_s, Some(1.0));
    st.retain_pods(|k| k != "agents/a");
    assert!(st.pod("agents/a").is_none() && st.fleet_series("F").is_none());
}

#[test]
fn series_per_pod_are_capped_and_in_flight_is_no_news() {
    let mut st = MetricsStore::new(SeriesConfig {
        max_series_per_pod: 5,
        ..Default::default()
    });
    let text: String = (0..20).map(|i| format!("g{i} {i}\n")).collect();
    st.ingest("agents/a", "F", t(0), &Ok(parse(&text)), None);
    let p = st.pod("agents/a").unwrap();
    assert_eq!((p.gauges().count(), p.series_dropped), (5, 15));
    st.ingest("agents/a", "F", t(5), &Err(ScrapeError::InFlight), None);
    st.ingest("agents/z", "F", t(5), &Err(ScrapeError::InFlight), None);
    assert_eq!(st.pod("agents/a").unwrap().last_error, None);
    assert!(st.pod("agents/z").is_none());
}
