//! Health rules: what is wrong with a fleet, judged from its state and its history at `now`.
//!
//! Findings are computed when asked for, not stored: the ones that depend on rates (restart
//! storms, recent OOMKills) change with time even when no delta arrives.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::model::{DisruptionKind, Fleet, Model};
use super::objects::NetworkPolicySummary;

/// Restarts plus Job retries per minute at which a fleet is in a restart storm.
pub const RESTART_STORM_PER_MINUTE: f64 = 3.0;
/// ... measured over this window.
pub const RESTART_STORM_WINDOW: SignedDuration = SignedDuration::from_mins(5);
/// Disruptions are counted over this window.
pub const DISRUPTION_WINDOW: SignedDuration = SignedDuration::from_hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
}

/// Which rule a finding comes from (stable codes for `status -o json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// A PDB refuses every eviction: SyncFailed, or disruptionsAllowed 0 while pods are expected.
    PdbBlocksEvictions,
    /// More than one PDB selects the pods: the Eviction API answers 500.
    MultiplePdbs,
    /// NetworkPolicies restrict ingress to the pods and none admits the metrics port.
    MetricsPortBlocked,
    /// Containers without a memory limit.
    NoMemoryLimit,
    /// Restarts or retries per minute over the threshold.
    RestartStorm,
    /// Pods Pending as unschedulable.
    Unschedulable,
    /// OOMKills in the last hour.
    OomKills,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: Check,
    pub message: String,
}

fn finding(severity: Severity, code: Check, message: String) -> Finding {
    Finding {
        severity,
        code,
        message,
    }
}

/// The findings for `fleet`, most severe first.
pub fn findings(fleet: &Fleet, model: &Model, now: Timestamp) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();

    if let Some(pdb) = &fleet.pdb {
        if pdb.sync_failed {
            let why = pdb
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            out.push(finding(
                Critical,
                Check::PdbBlocksEvictions,
                format!(
                    "PDB {} failed to sync (SyncFailed{why}); every eviction is refused and \
                     drains hang. Use an integer minAvailable for Job pods",
                    pdb.name
                ),
            ));
        } else if pdb.blocks_every_eviction() {
            out.push(finding(
                Warning,
                Check::PdbBlocksEvictions,
                format!(
                    "PDB {} allows no disruption ({} of {} required healthy, {} expected); \
                     every eviction is refused",
                    pdb.name, pdb.current_healthy, pdb.desired_healthy, pdb.expected_pods
                ),
            ));
        }
    }
    if !fleet.other_pdbs.is_empty() {
        let mut names: Vec<&str> = fleet.pdb.iter().map(|p| p.name.as_str()).collect();
        names.extend(fleet.other_pdbs.iter().map(String::as_str));
        out.push(finding(
            Critical,
            Check::MultiplePdbs,
            format!(
                "pods are selected by {} PDBs ({}); the Eviction API refuses them",
                names.len(),
                names.join(", ")
            ),
        ));
    }

    if let Some(port) = fleet.metrics_port {
        let policies: Vec<&NetworkPolicySummary> = model
            .network_policies()
            .values()
            .filter(|n| n.ingress_policy && n.pod_selector.matches(&fleet.pod_labels))
            .collect();
        let name = fleet.metrics_port_name.as_deref();
        if !policies.is_empty() && !policies.iter().any(|n| n.admits(port, name)) {
            let names: Vec<&str> = policies.iter().map(|n| n.name.as_str()).collect();
            out.push(finding(
                Warning,
                Check::MetricsPortBlocked,
                format!(
                    "NetworkPolicy {} admits no ingress to metrics port {port}; scrapes fail",
                    names.join(", ")
                ),
            ));
        }
    }

    if fleet.pods.without_memory_limit > 0 || fleet.template_without_memory_limit > 0 {
        let message = if fleet.pods.without_memory_limit > 0 {
            format!(
                "{} pod(s) have containers without a memory limit",
                fleet.pods.without_memory_limit
            )
        } else {
            format!(
                "the pod template has {} container(s) without a memory limit",
                fleet.template_without_memory_limit
            )
        };
        out.push(finding(Warning, Check::NoMemoryLimit, message));
    }

    let history = model.history(&fleet.id());
    if let Some(h) = history {
        let rate = h.restarts_per_minute(now, RESTART_STORM_WINDOW);
        if rate >= RESTART_STORM_PER_MINUTE {
            let severity = if rate >= 4.0 * RESTART_STORM_PER_MINUTE {
                Critical
            } else {
                Warning
            };
            out.push(finding(
                severity,
                Check::RestartStorm,
                format!(
                    "{rate:.1} restarts or retries per minute over the last {} min",
                    RESTART_STORM_WINDOW.as_mins()
                ),
            ));
        }
    }

    if fleet.pods.unschedulable > 0 {
        let id = fleet.id();
        let why = model
            .pods_of(&id)
            .find_map(|p| p.scheduling_message.as_deref())
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        out.push(finding(
            Warning,
            Check::Unschedulable,
            format!(
                "{} pod(s) Pending as unschedulable{why}",
                fleet.pods.unschedulable
            ),
        ));
    }

    if let Some(h) = history {
        let ooms = h.count_since(DisruptionKind::OomKilled, now - DISRUPTION_WINDOW);
        if ooms > 0 {
            out.push(finding(
                Warning,
                Check::OomKills,
                format!("{ooms} OOMKill(s) in the last hour; the memory limit may be too low"),
            ));
        }
    }

    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

/// Disruptions of one fleet over [`DISRUPTION_WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DisruptionCounts {
    pub oom_killed: usize,
    pub evicted: usize,
    pub preempted: usize,
    pub api_eviction: usize,
}

/// One fleet with its recent disruptions and findings: a line of `fleetctl status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetReport {
    #[serde(flatten)]
    pub fleet: Fleet,
    pub disruptions_last_hour: DisruptionCounts,
    pub findings: Vec<Finding>,
}

impl Model {
    /// Every fleet with its disruptions of the last hour and its findings, at `now`.
    pub fn report(&self, now: Timestamp) -> Vec<FleetReport> {
        self.fleets()
            .map(|fleet| {
                let since = now - DISRUPTION_WINDOW;
                let count = |k| {
                    self.history(&fleet.id())
                        .map_or(0, |h| h.count_since(k, since))
                };
                FleetReport {
                    fleet: fleet.clone(),
                    disruptions_last_hour: DisruptionCounts {
                        oom_killed: count(DisruptionKind::OomKilled),
                        evicted: count(DisruptionKind::Evicted),
                        preempted: count(DisruptionKind::Preempted),
                        api_eviction: count(DisruptionKind::ApiEviction),
                    },
                    findings: findings(fleet, self, now),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::delta::FleetDelta;
    use crate::fleet::objects::{
        AgentPod, IngressRule, JobSummary, Labels, NetworkPolicySummary, Object, PdbStatus,
        PodPhase, PodTemplate, PolicyPort, Termination,
    };
    use crate::fleet::selector::Selector;

    const NS: &str = "agents";

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn app() -> Labels {
        Labels::from([("app".into(), "ai-agent".into())])
    }

    /// A model with Job fleet "batch" (metrics port 8080) and one running pod.
    fn model() -> Model {
        let mut m = Model::new(NS);
        m.apply(
            FleetDelta::Upsert(Object::Job(JobSummary {
                name: "batch".into(),
                namespace: NS.into(),
                labels: app(),
                parallelism: 2,
                template: PodTemplate {
                    labels: app(),
                    metrics_port: Some(8080),
                    metrics_port_name: Some("metrics".into()),
                    ..Default::default()
                },
                ..Default::default()
            })),
            t(0),
        );
        m.apply(FleetDelta::Upsert(Object::Pod(agent("batch-0"))), t(0));
        m
    }

    fn agent(name: &str) -> AgentPod {
        AgentPod {
            name: name.into(),
            namespace: NS.into(),
            uid: format!("uid-{name}"),
            phase: PodPhase::Running,
            ready: true,
            job_name: Some("batch".into()),
            memory_limit_bytes: Some(2 << 30),
            ..Default::default()
        }
    }

    fn codes(m: &Model, now: Timestamp) -> Vec<Check> {
        findings(m.fleet_named("batch").unwrap(), m, now)
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn healthy_fleet_has_no_findings() {
        assert_eq!(codes(&model(), t(1)), vec![]);
    }

    #[test]
    fn pdb_that_blocks_every_eviction() {
        let mut m = model();
        let mut pdb = PdbStatus {
            name: "agent-pdb".into(),
            namespace: NS.into(),
            selector: Selector::from_labels(app()),
            max_unavailable: Some("10%".into()),
            sync_failed: true,
            expected_pods: 0,
            ..Default::default()
        };
        m.apply(FleetDelta::Upsert(Object::Pdb(pdb.clone())), t(1));
        let f = findings(m.fleet_named("batch").unwrap(), &m, t(1));
        assert_eq!(f[0].code, Check::PdbBlocksEvictions);
        assert_eq!(f[0].severity, Severity::Critical);
        // disruptionsAllowed 0 with pods expected.
        pdb.sync_failed = false;
        pdb.expected_pods = 1;
        pdb.current_healthy = 1;
        pdb.desired_healthy = 1;
        m.apply(FleetDelta::Upsert(Object::Pdb(pdb.clone())), t(2));
        let f = findings(m.fleet_named("batch").unwrap(), &m, t(2));
        assert_eq!(
            (f[0].code, f[0].severity),
            (Check::PdbBlocksEvictions, Severity::Warning)
        );
        // One allowed: fine.
        pdb.disruptions_allowed = 1;
        m.apply(FleetDelta::Upsert(Object::Pdb(pdb.clone())), t(3));
        assert_eq!(codes(&m, t(3)), vec![]);
        // A second PDB over the same pods.
        pdb.name = "second".into();
        m.apply(FleetDelta::Upsert(Object::Pdb(pdb)), t(4));
        assert_eq!(codes(&m, t(4)), vec![Check::MultiplePdbs]);
    }

    #[test]
    fn network_policy_without_ingress_to_the_metrics_port() {
        let mut m = model();
        let mut np = NetworkPolicySummary {
            name: "agent-netpol".into(),
            namespace: NS.into(),
            pod_selector: Selector::from_labels(app()),
            ingress_policy: true,
            egress_policy: true,
            ingress: vec![],
        };
        m.apply(FleetDelta::Upsert(Object::NetworkPolicy(np.clone())), t(1));
        assert_eq!(codes(&m, t(1)), vec![Check::MetricsPortBlocked]);
        // A rule for another port does not help; one for 8080, or for the named port, does.
        let rule = |port: &str| IngressRule {
            ports: vec![PolicyPort {
                protocol: "TCP".into(),
                port: Some(port.into()),
                end_port: None,
            }],
            peers: 1,
        };
        np.ingress = vec![rule("9090")];
        m.apply(FleetDelta::Upsert(Object::NetworkPolicy(np.clone())), t(2));
        assert_eq!(codes(&m, t(2)), vec![Check::MetricsPortBlocked]);
        for port in ["8080", "metrics"] {
            np.ingress = vec![rule(port)];
            m.apply(FleetDelta::Upsert(Object::NetworkPolicy(np.clone())), t(3));
            assert_eq!(codes(&m, t(3)), vec![], "{port}");
        }
        // Egress-only policies do not restrict ingress.
        np.ingress_policy = false;
        np.ingress = vec![];
        m.apply(FleetDelta::Upsert(Object::NetworkPolicy(np)), t(4));
        assert_eq!(codes(&m, t(4)), vec![]);
    }

    #[test]
    fn containers_without_memory_limits() {
        let mut m = model();
        let mut p = agent("batch-1");
        p.memory_limit_bytes = None;
        p.containers_without_memory_limit = 1;
        m.apply(FleetDelta::Upsert(Object::Pod(p)), t(1));
        let f = findings(m.fleet_named("batch").unwrap(), &m, t(1));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, Check::NoMemoryLimit);
        assert!(f[0].message.starts_with("1 pod(s)"), "{}", f[0].message);
    }

    #[test]
    fn restart_storm_from_the_restart_counter() {
        let mut m = model();
        let mut p = agent("batch-0");
        // One restart every 30 s: 2/min, under the threshold.
        for i in 1..=10 {
            p.restarts = i;
            m.apply(
                FleetDelta::Upsert(Object::Pod(p.clone())),
                t(i64::from(i) * 30),
            );
        }
        assert_eq!(codes(&m, t(300)), vec![]);
        // Then 4 every 30 s: 8/min.
        for i in 11..=20 {
            p.restarts += 4;
            m.apply(
                FleetDelta::Upsert(Object::Pod(p.clone())),
                t(i64::from(i) * 30),
            );
        }
        let f = findings(m.fleet_named("batch").unwrap(), &m, t(600));
        assert_eq!(f[0].code, Check::RestartStorm);
        assert_eq!(f[0].severity, Severity::Warning);
        // Ten minutes of calm later the storm is over.
        assert_eq!(codes(&m, t(1200)), vec![]);
        // Job retries count too: 75 in five minutes is 15/min.
        let mut j = m.jobs()["batch"].clone();
        for i in 1..=5 {
            j.failed = 15 * i;
            m.apply(
                FleetDelta::Upsert(Object::Job(j.clone())),
                t(1200 + i64::from(i) * 10),
            );
        }
        let f = findings(m.fleet_named("batch").unwrap(), &m, t(1260));
        assert_eq!(
            (f[0].code, f[0].severity),
            (Check::RestartStorm, Severity::Critical)
        );
    }

    #[test]
    fn unschedulable_pods() {
        let mut m = model();
        let mut p = agent("batch-1");
        p.phase = PodPhase::Pending;
        p.ready = false;
        p.unschedulable = true;
        p.scheduling_message = Some("0/3 nodes are available: 3 Insufficient memory.".into());
        m.apply(FleetDelta::Upsert(Object::Pod(p)), t(1));
        let f = findings(m.fleet_named("batch").unwrap(), &m, t(1));
        assert_eq!(f[0].code, Check::Unschedulable);
        assert!(
            f[0].message.contains("Insufficient memory"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn oom_kills_in_the_last_hour_and_the_report() {
        let mut m = model();
        let mut p = agent("batch-0");
        p.last_oom = Some(Termination {
            container: "agent".into(),
            reason: "OOMKilled".into(),
            exit_code: 137,
            at: Some(t(10)),
        });
        m.apply(FleetDelta::Upsert(Object::Pod(p)), t(11));
        assert_eq!(codes(&m, t(20)), vec![Check::OomKills]);
        let report = m.report(t(20));
        assert_eq!(report[0].disruptions_last_hour.oom_killed, 1);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json[0]["name"], "batch");
        assert_eq!(json[0]["findings"][0]["code"], "oom-kills");
        assert_eq!(json[0]["findings"][0]["severity"], "warning");
        // An hour later it is history.
        assert_eq!(codes(&m, t(4000)), vec![]);
    }
}
