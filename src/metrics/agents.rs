//! The agents' metrics per fleet, as `status` and the console keep them: which running pods are
//! scraped and whose they are, and the series their scrapes feed.
//!
//! Pure: no I/O here. The scraping itself is [`super::scrape::Scraper`], built from plain
//! [`super::scrape::ScrapeSettings`]; its rounds come back here through [`AgentSeries::ingest`].

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;

use super::scrape::{Round, Target};
use super::series::MetricsStore;
use crate::fleet::model::Model;
use crate::fleet::status::FleetMetrics;

/// The series of every scraped agent pod, and the owner of each target.
#[derive(Debug, Clone, Default)]
pub struct AgentSeries {
    store: MetricsStore,
    /// Per target key (`namespace/pod`): its fleet's key and its memory limit.
    owners: HashMap<String, (String, Option<u64>)>,
}

impl AgentSeries {
    /// Series kept in `store` (its configuration decides windows and ring sizes).
    pub fn new(store: MetricsStore) -> Self {
        AgentSeries {
            store,
            owners: HashMap::new(),
        }
    }

    /// Every running agent pod of a fleet of `model` that may be scraped. Remembers whose each
    /// is, and forgets the series of pods that are no longer targets.
    pub fn targets(&mut self, model: &Model) -> Vec<Target> {
        self.owners.clear();
        let mut out = Vec::new();
        for f in model.fleets() {
            let id = f.id();
            for pod in model.pods_of(&id) {
                if let Some(t) = Target::from_pod(pod) {
                    self.owners
                        .insert(t.key(), (id.to_string(), pod.memory_limit_bytes));
                    out.push(t);
                }
            }
        }
        let keep: HashSet<&str> = self.owners.keys().map(String::as_str).collect();
        self.store.retain_pods(|k| keep.contains(k));
        out
    }

    /// Folds a round's results into the series. Results of pods that are not current targets
    /// (gone since the round started) are dropped.
    pub fn ingest(&mut self, (at, results): Round) {
        for (t, r) in &results {
            let key = t.key();
            if let Some((fleet, limit)) = self.owners.get(&key) {
                self.store.ingest(&key, fleet, at, r, *limit);
            }
        }
        self.store.record_round(at);
    }

    /// Per fleet key: rates, quantiles and memory headroom as of `now`.
    pub fn summary(&self, now: Timestamp) -> BTreeMap<String, FleetMetrics> {
        self.store.summary(now)
    }

    pub fn store(&self) -> &MetricsStore {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::delta::FleetDelta;
    use crate::fleet::objects::{AgentPod, JobSummary, Labels, Object, PodPhase};
    use crate::metrics::parse::parse;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn model(pods: &[(&str, PodPhase, Option<u16>)]) -> Model {
        let mut m = Model::new("agents");
        m.apply(
            FleetDelta::Upsert(Object::Job(JobSummary {
                name: "batch".into(),
                namespace: "agents".into(),
                labels: Labels::from([("app".into(), "ai-agent".into())]),
                ..Default::default()
            })),
            t(0),
        );
        for (i, (name, phase, port)) in pods.iter().enumerate() {
            m.apply(
                FleetDelta::Upsert(Object::Pod(AgentPod {
                    name: (*name).into(),
                    namespace: "agents".into(),
                    uid: format!("u{i}"),
                    phase: *phase,
                    job_name: Some("batch".into()),
                    metrics_port: *port,
                    memory_limit_bytes: Some(1000),
                    ..Default::default()
                })),
                t(0),
            );
        }
        m
    }

    fn scrape(success: u64, rss: u64) -> crate::metrics::parse::Scrape {
        parse(&format!(
            "# TYPE agent_tasks_completed_total counter\n\
             agent_tasks_completed_total{{status=\"success\"}} {success}\n\
             # TYPE agent_resident_memory_bytes gauge\n\
             agent_resident_memory_bytes {rss}\n"
        ))
    }

    #[test]
    fn only_running_pods_with_a_metrics_port_are_targets() {
        let m = model(&[
            ("a", PodPhase::Running, Some(8080)),
            ("b", PodPhase::Pending, Some(8080)),
            ("c", PodPhase::Running, None),
        ]);
        let mut s = AgentSeries::default();
        let targets = s.targets(&m);
        let keys: Vec<String> = targets.iter().map(Target::key).collect();
        assert_eq!(keys, vec!["agents/a".to_string()]);
    }

    #[test]
    fn two_rounds_give_a_fleet_rate_and_headroom() {
        let m = model(&[("a", PodPhase::Running, Some(8080))]);
        let mut s = AgentSeries::default();
        let targets = s.targets(&m);
        let round = |at, success, rss| -> Round {
            (at, vec![(targets[0].clone(), Ok(scrape(success, rss)))])
        };
        s.ingest(round(t(0), 10, 500));
        s.ingest(round(t(2), 14, 900));
        let summary = s.summary(t(2));
        let fleet = summary.get("Job/batch").expect("the Job fleet has metrics");
        assert_eq!(fleet.pods_scraped, 1);
        assert!(
            fleet.tasks_per_s.is_some_and(|r| (r - 2.0).abs() < 1e-9),
            "{fleet:?}"
        );
        let headroom = fleet.worst_memory_headroom.as_ref().expect("limit known");
        assert!((headroom.used_ratio - 0.9).abs() < 1e-9, "{headroom:?}");
        assert_eq!(s.store().fleets(), vec!["Job/batch".to_string()]);
    }

    #[test]
    fn results_of_pods_no_longer_targeted_are_dropped_and_gone_pods_forgotten() {
        let m = model(&[("a", PodPhase::Running, Some(8080))]);
        let mut s = AgentSeries::default();
        let targets = s.targets(&m);
        let stranger = Target {
            pod: "z".into(),
            ..targets[0].clone()
        };
        s.ingest((
            t(0),
            vec![
                (targets[0].clone(), Ok(scrape(1, 1))),
                (stranger, Ok(scrape(1, 1))),
            ],
        ));
        assert_eq!(s.summary(t(0))["Job/batch"].pods_scraped, 1);
        assert_eq!(s.store().fleets(), vec!["Job/batch".to_string()]);
        // The pod ends: its series go at the next targets().
        let gone = model(&[("a", PodPhase::Succeeded, Some(8080))]);
        assert!(s.targets(&gone).is_empty());
        assert!(s.summary(t(2)).is_empty());
    }
}
