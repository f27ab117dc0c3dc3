//! Short time series of scraped metrics, per pod and per fleet: counter increases that survive
//! counter resets, histogram quantiles over a window with Prometheus' `histogram_quantile`
//! semantics, gauges, ring buffers for sparklines, and staleness. Pure: no I/O, and time is
//! always an argument.
//!
//! Rates need two scrapes of a pod: after one round every rate and quantile is `None`. A
//! one-shot caller (such as `fleetctl status`) scrapes twice, a second or two apart, and
//! ingests both rounds with the times they started.
//!
//! A counter or histogram that appears in a pod scraped before was created in between, from
//! zero (labelled counters appear on first use): its whole value is the increase.
//!
//! A counter that goes down was reset (the agent restarted): the increase over that step is the
//! new value, as Prometheus' `rate()` counts it, never negative. A histogram whose count or any
//! bucket goes down, or whose buckets change, was reset as a whole. A pod whose scrape fails
//! is marked stale with the reason; its history is kept, never zeroed, so it counts again with
//! the right increase once it answers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::parse::{Kind, Labels, Scrape};
use super::scrape::ScrapeError;
use crate::fleet::model::Ring;
pub use crate::fleet::status::{FleetMetrics, MemoryHeadroom};

/// Tasks finished, label `status`: `success`, `failure`, `requeued`.
pub const TASKS: &str = "agent_tasks_completed_total";
/// Histogram of successful tasks' run time.
pub const TASK_SECONDS: &str = "agent_task_duration_seconds";
/// LLM tokens, label `model`.
pub const TOKENS: &str = "agent_llm_tokens_total";
/// The agent's resident memory.
pub const RSS: &str = "agent_resident_memory_bytes";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesConfig {
    /// Rates and quantiles are over the scrapes of this last stretch of time.
    pub window: Duration,
    /// Points each ring buffer keeps (sparklines).
    pub points: usize,
    /// A pod whose last good scrape is older than this is stale.
    pub stale_after: Duration,
    /// Series kept per pod; more are counted in [`PodSeries::series_dropped`].
    pub max_series_per_pod: usize,
}

impl Default for SeriesConfig {
    fn default() -> Self {
        SeriesConfig {
            window: Duration::from_secs(60),
            points: 60,
            stale_after: Duration::from_secs(15),
            max_series_per_pod: 1000,
        }
    }
}

type SeriesKey = (String, Labels);

/// A counter's increase between two scrapes (milliseconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Delta {
    pub from_ms: i64,
    pub to_ms: i64,
    pub increase: f64,
}

/// A gauge's value at a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GaugePoint {
    pub at_ms: i64,
    pub value: f64,
}

#[derive(Debug, Clone)]
struct CounterTrack {
    last_ms: i64,
    last: f64,
    deltas: Ring<Delta>,
}

/// A histogram's increase between two scrapes: cumulative counts per `le`.
#[derive(Debug, Clone, PartialEq)]
struct HistDelta {
    from_ms: i64,
    to_ms: i64,
    les: Arc<[f64]>,
    counts: Box<[f64]>,
}

#[derive(Debug, Clone)]
struct HistTrack {
    last_ms: i64,
    les: Arc<[f64]>,
    counts: Box<[f64]>,
    count: f64,
    deltas: Ring<HistDelta>,
}

/// One pod's scrapes.
#[derive(Debug, Clone)]
pub struct PodSeries {
    pub fleet: String,
    pub memory_limit_bytes: Option<u64>,
    pub last_attempt: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    /// Why the last scrape failed; None after a good one.
    pub last_error: Option<ScrapeError>,
    /// Failed scrapes since the last good one.
    pub failures: u32,
    /// Unreadable lines of the last good scrape.
    pub unreadable_lines: usize,
    /// Counter and histogram resets seen (agent restarts).
    pub counter_resets: u64,
    /// Series of the last good scrape not kept for lack of room.
    pub series_dropped: usize,
    counters: BTreeMap<SeriesKey, CounterTrack>,
    gauges: BTreeMap<SeriesKey, Ring<GaugePoint>>,
    histograms: BTreeMap<SeriesKey, HistTrack>,
}

/// Every key of `map` whose name is `name` and whose labels include `filter`.
fn matching<'a, V>(
    map: &'a BTreeMap<SeriesKey, V>,
    name: &'a str,
    filter: &'a [(&str, &str)],
) -> impl Iterator<Item = (&'a Labels, &'a V)> + 'a {
    map.range((name.to_string(), Labels::default())..)
        .take_while(move |((n, _), _)| n == name)
        .filter(move |((_, l), _)| l.matches(filter))
        .map(|((_, l), v)| (l, v))
}

/// Deltas inside `[start, end]`, both ends of each.
fn in_window<'a, T>(
    ring: &'a Ring<T>,
    start: i64,
    end: i64,
    span: impl Fn(&T) -> (i64, i64) + 'a,
) -> impl Iterator<Item = &'a T> + 'a {
    ring.iter().filter(move |d| {
        let (from, to) = span(d);
        from >= start && to <= end
    })
}

impl PodSeries {
    fn new(fleet: &str) -> Self {
        PodSeries {
            fleet: fleet.to_string(),
            memory_limit_bytes: None,
            last_attempt: None,
            last_success: None,
            last_error: None,
            failures: 0,
            unreadable_lines: 0,
            counter_resets: 0,
            series_dropped: 0,
            counters: BTreeMap::new(),
            gauges: BTreeMap::new(),
            histograms: BTreeMap::new(),
        }
    }

    fn series(&self) -> usize {
        self.counters.len() + self.gauges.len() + self.histograms.len()
    }

    fn record(&mut self, at_ms: i64, s: &Scrape, cfg: &SeriesConfig) {
        self.series_dropped = 0;
        for f in &s.families {
            match f.kind {
                Kind::Counter => {
                    for sm in f.samples() {
                        self.counter(f.name.as_str(), &sm.labels, at_ms, sm.value, cfg);
                    }
                }
                Kind::Gauge | Kind::Untyped => {
                    for sm in f.samples() {
                        let key = (f.name.clone(), sm.labels.clone());
                        if !self.gauges.contains_key(&key)
                            && self.series() >= cfg.max_series_per_pod
                        {
                            self.series_dropped += 1;
                            continue;
                        }
                        let ring = self
                            .gauges
                            .entry(key)
                            .or_insert_with(|| Ring::new(cfg.points));
                        if ring.last().is_none_or(|p| p.at_ms < at_ms) {
                            ring.push(GaugePoint {
                                at_ms,
                                value: sm.value,
                            });
                        }
                    }
                }
                Kind::Histogram => {
                    for h in f.histograms() {
                        let les: Vec<f64> = h.buckets.iter().map(|b| b.le).collect();
                        let counts: Vec<f64> = h.buckets.iter().map(|b| b.count).collect();
                        let count = h.count.or(counts.last().copied()).unwrap_or(0.0);
                        self.histogram(f.name.as_str(), &h.labels, at_ms, les, counts, count, cfg);
                    }
                }
                // Summaries' quantiles cannot be aggregated; not kept.
                Kind::Summary => {}
            }
        }
        // Series gone from the exposition leave once their history is out of the window.
        let horizon = at_ms.saturating_sub(window_ms(cfg));
        self.counters.retain(|_, c| c.last_ms >= horizon);
        self.gauges
            .retain(|_, g| g.last().is_some_and(|p| p.at_ms >= horizon));
        self.histograms.retain(|_, h| h.last_ms >= horizon);
    }

    fn counter(&mut self, name: &str, labels: &Labels, at_ms: i64, v: f64, cfg: &SeriesConfig) {
        if !v.is_finite() {
            return;
        }
        let key = (name.to_string(), labels.clone());
        let full = self.series() >= cfg.max_series_per_pod;
        match self.counters.get_mut(&key) {
            Some(c) if at_ms > c.last_ms => {
                // Down means reset: the counter restarted from zero and reached `v`.
                let increase = if v >= c.last {
                    v - c.last
                } else {
                    self.counter_resets += 1;
                    v
                };
                c.deltas.push(Delta {
                    from_ms: c.last_ms,
                    to_ms: at_ms,
                    increase,
                });
                c.last_ms = at_ms;
                c.last = v;
            }
            Some(_) => {}
            None if full => self.series_dropped += 1,
            None => {
                let mut deltas = Ring::new(cfg.points);
                // New in a pod scraped before: created since, from zero (labelled counters
                // appear on first use).
                if let Some(from_ms) = self.born_since(at_ms)
                    && v >= 0.0
                {
                    deltas.push(Delta {
                        from_ms,
                        to_ms: at_ms,
                        increase: v,
                    });
                }
                self.counters.insert(
                    key,
                    CounterTrack {
                        last_ms: at_ms,
                        last: v,
                        deltas,
                    },
                );
            }
        }
    }

    /// The last good scrape before `at_ms`: a series absent from it and present now was
    /// created in between.
    fn born_since(&self, at_ms: i64) -> Option<i64> {
        self.last_success
            .map(Timestamp::as_millisecond)
            .filter(|&ms| ms < at_ms)
    }

    #[allow(clippy::too_many_arguments)]
    fn histogram(
        &mut self,
        name: &str,
        labels: &Labels,
        at_ms: i64,
        les: Vec<f64>,
        counts: Vec<f64>,
        count: f64,
        cfg: &SeriesConfig,
    ) {
        if counts.iter().any(|c| !c.is_finite()) || !count.is_finite() {
            return;
        }
        let key = (name.to_string(), labels.clone());
        let full = self.series() >= cfg.max_series_per_pod;
        match self.histograms.get_mut(&key) {
            Some(h) if at_ms > h.last_ms => {
                let same_layout = *h.les == *les;
                let grew = same_layout
                    && count >= h.count
                    && counts.iter().zip(h.counts.iter()).all(|(n, o)| n >= o);
                if !same_layout {
                    h.les = les.into();
                }
                let delta: Box<[f64]> = if grew {
                    counts
                        .iter()
                        .zip(h.counts.iter())
                        .map(|(n, o)| n - o)
                        .collect()
                } else {
                    self.counter_resets += 1;
                    counts.clone().into()
                };
                h.deltas.push(HistDelta {
                    from_ms: h.last_ms,
                    to_ms: at_ms,
                    les: h.les.clone(),
                    counts: delta,
                });
                h.last_ms = at_ms;
                h.counts = counts.into();
                h.count = count;
            }
            Some(_) => {}
            None if full => self.series_dropped += 1,
            None => {
                let les: Arc<[f64]> = les.into();
                let mut deltas = Ring::new(cfg.points);
                if let Some(from_ms) = self.born_since(at_ms)
                    && counts.iter().all(|c| *c >= 0.0)
                {
                    deltas.push(HistDelta {
                        from_ms,
                        to_ms: at_ms,
                        les: les.clone(),
                        counts: counts.clone().into(),
                    });
                }
                self.histograms.insert(
                    key,
                    HistTrack {
                        last_ms: at_ms,
                        les,
                        counts: counts.into(),
                        count,
                        deltas,
                    },
                );
            }
        }
    }

    /// Summed increase of the counters `name` matching `filter` over `[now - window, now]`,
    /// and summed per-series rate; None when no series has two scrapes in the window.
    fn increase_and_rate(
        &self,
        name: &str,
        filter: &[(&str, &str)],
        start: i64,
        end: i64,
    ) -> Option<(f64, f64)> {
        let mut out: Option<(f64, f64)> = None;
        for (_, c) in matching(&self.counters, name, filter) {
            let (mut inc, mut from, mut to) = (0.0, i64::MAX, i64::MIN);
            for d in in_window(&c.deltas, start, end, |d| (d.from_ms, d.to_ms)) {
                inc += d.increase;
                from = from.min(d.from_ms);
                to = to.max(d.to_ms);
            }
            if to > from {
                let (i, r) = out.get_or_insert((0.0, 0.0));
                *i += inc;
                *r += inc * 1000.0 / (to - from) as f64;
            }
        }
        out
    }

    /// Per-second rate of the counters `name` matching `filter` over the window ending `now`.
    pub fn rate(
        &self,
        name: &str,
        filter: &[(&str, &str)],
        now: Timestamp,
        window: Duration,
    ) -> Option<f64> {
        let end = now.as_millisecond();
        let start = end.saturating_sub(window.as_millis() as i64);
        self.increase_and_rate(name, filter, start, end)
            .map(|(_, r)| r)
    }

    /// Increase of the counters `name` matching `filter` over the window ending `now`.
    pub fn increase(
        &self,
        name: &str,
        filter: &[(&str, &str)],
        now: Timestamp,
        window: Duration,
    ) -> Option<f64> {
        let end = now.as_millisecond();
        let start = end.saturating_sub(window.as_millis() as i64);
        self.increase_and_rate(name, filter, start, end)
            .map(|(i, _)| i)
    }

    /// The latest value of the gauge `name` matching `filter` (summed over matching series).
    pub fn gauge(&self, name: &str, filter: &[(&str, &str)]) -> Option<f64> {
        let mut out = None;
        for (_, g) in matching(&self.gauges, name, filter) {
            if let Some(p) = g.last() {
                *out.get_or_insert(0.0) += p.value;
            }
        }
        out
    }

    /// The latest value of every counter: name, labels, value.
    pub fn counters(&self) -> impl Iterator<Item = (&str, &Labels, f64)> {
        self.counters
            .iter()
            .map(|((n, l), c)| (n.as_str(), l, c.last))
    }

    /// The latest value of every gauge (and untyped series).
    pub fn gauges(&self) -> impl Iterator<Item = (&str, &Labels, f64)> {
        self.gauges
            .iter()
            .filter_map(|((n, l), g)| Some((n.as_str(), l, g.last()?.value)))
    }

    /// Sparkline of a counter: one per-second rate per scrape step, oldest first, summed over
    /// the series matching `filter`.
    pub fn rate_points(&self, name: &str, filter: &[(&str, &str)]) -> Vec<(Timestamp, f64)> {
        let mut by_step: BTreeMap<i64, f64> = BTreeMap::new();
        for (_, c) in matching(&self.counters, name, filter) {
            for d in c.deltas.iter() {
                if d.to_ms > d.from_ms {
                    *by_step.entry(d.to_ms).or_default() +=
                        d.increase * 1000.0 / (d.to_ms - d.from_ms) as f64;
                }
            }
        }
        points(by_step)
    }

    /// Sparkline of a gauge, summed over the series matching `filter`.
    pub fn gauge_points(&self, name: &str, filter: &[(&str, &str)]) -> Vec<(Timestamp, f64)> {
        let mut by_step: BTreeMap<i64, f64> = BTreeMap::new();
        for (_, g) in matching(&self.gauges, name, filter) {
            for p in g.iter() {
                *by_step.entry(p.at_ms).or_default() += p.value;
            }
        }
        points(by_step)
    }

    /// Adds this pod's histogram increases inside the window to `acc` as `(le, cumulative)`.
    fn histogram_window(
        &self,
        name: &str,
        filter: &[(&str, &str)],
        start: i64,
        end: i64,
        acc: &mut Vec<(f64, f64)>,
    ) -> bool {
        let mut any = false;
        for (_, h) in matching(&self.histograms, name, filter) {
            for d in in_window(&h.deltas, start, end, |d| (d.from_ms, d.to_ms)) {
                any = true;
                acc.extend(d.les.iter().copied().zip(d.counts.iter().copied()));
            }
        }
        any
    }

    /// The `q` quantile of the histogram `name` over the window ending `now`.
    pub fn quantile(&self, name: &str, q: f64, now: Timestamp, window: Duration) -> Option<f64> {
        let end = now.as_millisecond();
        let start = end.saturating_sub(window.as_millis() as i64);
        let mut acc = Vec::new();
        self.histogram_window(name, &[], start, end, &mut acc);
        histogram_quantile(q, &acc)
    }

    /// Why this pod's numbers are not current, if they are not.
    pub fn stale(&self, now: Timestamp, stale_after: Duration) -> Option<String> {
        if let Some(e) = &self.last_error {
            return Some(e.to_string());
        }
        let last = self.last_success?;
        let age = now.duration_since(last);
        (age.as_millis() > stale_after.as_millis() as i128)
            .then(|| format!("no scrape for {}s", age.as_secs()))
    }

    /// RSS against the memory limit, from the latest RSS reading.
    pub fn memory(&self) -> Option<(u64, Option<u64>)> {
        let rss = self.gauge(RSS, &[])?;
        (rss.is_finite() && rss >= 0.0).then_some((rss as u64, self.memory_limit_bytes))
    }
}

fn points(by_step: BTreeMap<i64, f64>) -> Vec<(Timestamp, f64)> {
    by_step
        .into_iter()
        .filter_map(|(ms, v)| Some((Timestamp::from_millisecond(ms).ok()?, v)))
        .collect()
}

fn window_ms(cfg: &SeriesConfig) -> i64 {
    i64::try_from(cfg.window.as_millis()).unwrap_or(i64::MAX)
}

/// Prometheus' `histogram_quantile(q, ...)` over `(le, cumulative count)` pairs in any order;
/// pairs with the same `le` are summed (`sum by (le)`). None where Prometheus answers NaN: no
/// `+Inf` bucket, fewer than two buckets, no observations.
///
/// The quantile is interpolated linearly inside its bucket; the lowest bucket starts at 0
/// (unless its upper bound is at or below 0: then that bound is the answer); a quantile that
/// falls in the `+Inf` bucket is the highest finite bound. Counts that go down with `le` are
/// raised to stay monotonic.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if q.is_nan() {
        return None;
    }
    if q < 0.0 {
        return Some(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return Some(f64::INFINITY);
    }
    let mut b: Vec<(f64, f64)> = buckets
        .iter()
        .copied()
        .filter(|(le, c)| !le.is_nan() && !c.is_nan())
        .collect();
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for (le, c) in b {
        match merged.last_mut() {
            Some(last) if last.0 == le => last.1 += c,
            _ => merged.push((le, c)),
        }
    }
    let b = merged;
    if b.last().is_none_or(|l| l.0 != f64::INFINITY) || b.len() < 2 {
        return None;
    }
    let mut b = b;
    for i in 1..b.len() {
        if b[i].1 < b[i - 1].1 {
            b[i].1 = b[i - 1].1;
        }
    }
    let n = b.len();
    let total = b[n - 1].1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let i = b[..n - 1].iter().position(|x| x.1 >= rank).unwrap_or(n - 1);
    if i == n - 1 {
        return Some(b[n - 2].0);
    }
    if i == 0 && b[0].0 <= 0.0 {
        return Some(b[0].0);
    }
    let (start, below) = if i == 0 {
        (0.0, 0.0)
    } else {
        (b[i - 1].0, b[i - 1].1)
    };
    let in_bucket = b[i].1 - below;
    let v = start + (b[i].0 - start) * ((rank - below) / in_bucket);
    (!v.is_nan()).then_some(v)
}

/// One sparkline point of a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FleetPoint {
    pub at: Timestamp,
    pub tasks_per_s: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub p99_task_seconds: Option<f64>,
    pub worst_memory_used_ratio: Option<f64>,
    pub pods_scraped: usize,
}

/// A fleet's history of [`FleetPoint`]s.
#[derive(Debug, Clone)]
pub struct FleetSeries {
    pub points: Ring<FleetPoint>,
}

/// Every pod's and fleet's series. Pods are keyed `namespace/pod` ([`super::scrape::Target::key`]),
/// fleets by whatever the caller names them (e.g. `ScaledJob/ai-agent`).
#[derive(Debug, Clone, Default)]
pub struct MetricsStore {
    cfg: SeriesConfig,
    pods: BTreeMap<String, PodSeries>,
    fleets: BTreeMap<String, FleetSeries>,
}

impl MetricsStore {
    pub fn new(cfg: SeriesConfig) -> Self {
        MetricsStore {
            cfg,
            pods: BTreeMap::new(),
            fleets: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> &SeriesConfig {
        &self.cfg
    }

    /// Records one scrape of `pod` (of `fleet`) made at `at`. `memory_limit_bytes` is the pod's
    /// limit (`AgentPod::memory_limit_bytes`). A failed scrape marks the pod stale and keeps its
    /// history; [`ScrapeError::InFlight`] is no news and changes nothing.
    pub fn ingest(
        &mut self,
        pod: &str,
        fleet: &str,
        at: Timestamp,
        result: &Result<Scrape, ScrapeError>,
        memory_limit_bytes: Option<u64>,
    ) {
        if matches!(result, Err(ScrapeError::InFlight)) {
            return;
        }
        let cfg = &self.cfg;
        let p = self
            .pods
            .entry(pod.to_string())
            .or_insert_with(|| PodSeries::new(fleet));
        if p.fleet != fleet {
            p.fleet = fleet.to_string();
        }
        p.memory_limit_bytes = memory_limit_bytes;
        p.last_attempt = Some(at);
        match result {
            Ok(s) => {
                p.record(at.as_millisecond(), s, cfg);
                p.last_success = Some(at);
                p.last_error = None;
                p.failures = 0;
                p.unreadable_lines = s.unreadable_lines;
            }
            Err(e) => {
                p.last_error = Some(e.clone());
                p.failures = p.failures.saturating_add(1);
            }
        }
    }

    pub fn pod(&self, pod: &str) -> Option<&PodSeries> {
        self.pods.get(pod)
    }

    pub fn pods(&self) -> impl Iterator<Item = (&str, &PodSeries)> {
        self.pods.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Forgets pods for which `keep` is false (pods that are gone).
    pub fn retain_pods(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.pods.retain(|k, _| keep(k));
        let live: std::collections::BTreeSet<&str> =
            self.pods.values().map(|p| p.fleet.as_str()).collect();
        self.fleets.retain(|f, _| live.contains(f.as_str()));
    }

    /// Fleets with at least one pod.
    pub fn fleets(&self) -> Vec<String> {
        let mut v: Vec<String> = self.pods.values().map(|p| p.fleet.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The numbers of `fleet` over the window ending `now`.
    pub fn fleet(&self, fleet: &str, now: Timestamp) -> FleetMetrics {
        let window = self.cfg.window;
        let end = now.as_millisecond();
        let start = end.saturating_sub(window_ms(&self.cfg));
        let mut m = FleetMetrics {
            tasks_per_s: None,
            success_ratio: None,
            requeued_per_s: None,
            p50_task_seconds: None,
            p90_task_seconds: None,
            p99_task_seconds: None,
            tokens_per_s: BTreeMap::new(),
            worst_memory_headroom: None,
            pods_without_memory_limit: 0,
            pods_scraped: 0,
            not_scraped: Vec::new(),
            unreadable_lines: 0,
            counter_resets: 0,
            window_seconds: window.as_secs_f64(),
        };
        let (mut done, mut ok) = (None::<f64>, 0.0);
        let mut durations = Vec::new();
        for (key, p) in self.pods.iter().filter(|(_, p)| p.fleet == fleet) {
            let stale = p.stale(now, self.cfg.stale_after);
            match &stale {
                Some(reason) => m.not_scraped.push((key.clone(), reason.clone())),
                None => m.pods_scraped += 1,
            }
            m.unreadable_lines += p.unreadable_lines;
            m.counter_resets += p.counter_resets;
            let status = |s: &str| p.increase_and_rate(TASKS, &[("status", s)], start, end);
            for (outcome, succeeded) in [("success", true), ("failure", false)] {
                if let Some((inc, rate)) = status(outcome) {
                    *m.tasks_per_s.get_or_insert(0.0) += rate;
                    *done.get_or_insert(0.0) += inc;
                    if succeeded {
                        ok += inc;
                    }
                }
            }
            if let Some((_, rate)) = status("requeued") {
                *m.requeued_per_s.get_or_insert(0.0) += rate;
            }
            p.histogram_window(TASK_SECONDS, &[], start, end, &mut durations);
            match p.memory() {
                Some((rss, Some(limit))) if limit > 0 => {
                    let h = MemoryHeadroom {
                        pod: key.clone(),
                        rss_bytes: rss,
                        limit_bytes: limit,
                        headroom_bytes: i64::try_from(limit)
                            .unwrap_or(i64::MAX)
                            .saturating_sub(i64::try_from(rss).unwrap_or(i64::MAX)),
                        used_ratio: rss as f64 / limit as f64,
                        stale: stale.is_some(),
                    };
                    if m.worst_memory_headroom
                        .as_ref()
                        .is_none_or(|w| h.used_ratio > w.used_ratio)
                    {
                        m.worst_memory_headroom = Some(h);
                    }
                }
                Some(_) => m.pods_without_memory_limit += 1,
                None => {}
            }
        }
        m.tokens_per_s = self.tokens_per_s(fleet, start, end);
        m.success_ratio = done.filter(|d| *d > 0.0).map(|d| ok / d);
        m.p50_task_seconds = histogram_quantile(0.5, &durations);
        m.p90_task_seconds = histogram_quantile(0.9, &durations);
        m.p99_task_seconds = histogram_quantile(0.99, &durations);
        m
    }

    fn tokens_per_s(&self, fleet: &str, start: i64, end: i64) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for p in self.pods.values().filter(|p| p.fleet == fleet) {
            let models: std::collections::BTreeSet<&str> = matching(&p.counters, TOKENS, &[])
                .map(|(l, _)| l.get("model").unwrap_or(""))
                .collect();
            for model in models {
                if let Some((_, r)) = p.increase_and_rate(TOKENS, &[("model", model)], start, end) {
                    *out.entry(model.to_string()).or_insert(0.0) += r;
                }
            }
        }
        out
    }

    /// Every fleet's numbers.
    pub fn summary(&self, now: Timestamp) -> BTreeMap<String, FleetMetrics> {
        self.fleets()
            .into_iter()
            .map(|f| {
                let m = self.fleet(&f, now);
                (f, m)
            })
            .collect()
    }

    /// Appends each fleet's current numbers to its sparkline ring; call once per round.
    pub fn record_round(&mut self, now: Timestamp) {
        for (fleet, m) in self.summary(now) {
            let point = FleetPoint {
                at: now,
                tasks_per_s: m.tasks_per_s,
                tokens_per_s: (!m.tokens_per_s.is_empty()).then(|| m.tokens_per_s.values().sum()),
                p99_task_seconds: m.p99_task_seconds,
                worst_memory_used_ratio: m.worst_memory_headroom.map(|h| h.used_ratio),
                pods_scraped: m.pods_scraped,
            };
            let points = self.cfg.points;
            self.fleets
                .entry(fleet)
                .or_insert_with(|| FleetSeries {
                    points: Ring::new(points),
                })
                .points
                .push(point);
        }
    }

    pub fn fleet_series(&self, fleet: &str) -> Option<&FleetSeries> {
        self.fleets.get(fleet)
    }
}

#[cfg(test)]
mod tests;
