//! The slim cluster objects the fleet model is made of, read from wire JSON (`from_json`
//! constructors that read only what the console shows, never `managedFields`). Pure: no I/O.
//!
//! This file holds kinds and identities, [`Object`] (one slim object of any kind),
//! quantities and the JSON readers the kinds share; the kinds themselves are in
//! [`pod`], [`workload`] (pod templates, ScaledJobs, Jobs, Deployments) and [`policy`] (PDBs,
//! NetworkPolicies), re-exported here.

mod pod;
mod policy;
mod workload;

pub use pod::*;
pub use policy::*;
pub use workload::*;

use super::scaling::{Combine, ScaledJobSpec, Strategy, TriggerReading};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Label keys and values, sorted.
pub type Labels = BTreeMap<String, String>;

/// The default fleet selector: `app=ai-agent`.
pub const DEFAULT_SELECTOR: (&str, &str) = ("app", "ai-agent");
/// Pod → Job (SPEC-k8s.md §2), and its legacy twin.
pub const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";
pub const LABEL_JOB_NAME_LEGACY: &str = "job-name";
/// Job (and, through the template, Pod) → ScaledJob (SPEC-k8s.md §1.1).
pub const LABEL_SCALED_JOB: &str = "scaledjob.keda.sh/name";
/// Indexed Job pods carry their index as a label and an annotation.
pub const LABEL_COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// ReplicaSet pods: `<deployment>-<hash>` is the owning ReplicaSet.
pub const LABEL_POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// KEDA's pause annotation (SPEC-k8s.md §1.3).
pub const ANN_KEDA_PAUSED: &str = "autoscaling.keda.sh/paused";
/// A paused Deployment's replicas before the pause.
pub const ANN_PAUSED_REPLICAS: &str = "fleetctl.io/paused-replicas";
/// Set while `fleetctl drain` runs.
pub const ANN_DRAINING: &str = "fleetctl.io/draining";
/// The queue of a Job or Deployment fleet.
pub const ANN_QUEUE: &str = "fleetctl.io/queue";
// ---------------------------------------------------------------------------------------------
// Kinds and identities

/// What a fleet is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FleetKind {
    ScaledJob,
    Job,
    Deployment,
}

impl FleetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FleetKind::ScaledJob => "ScaledJob",
            FleetKind::Job => "Job",
            FleetKind::Deployment => "Deployment",
        }
    }

    /// The lowercase name kubectl uses in `kind/name`.
    pub fn lower(self) -> &'static str {
        match self {
            FleetKind::ScaledJob => "scaledjob",
            FleetKind::Job => "job",
            FleetKind::Deployment => "deployment",
        }
    }

    /// A kind as an operator writes it: `sj`, `jobs`, `deployment.apps`, ...
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "scaledjob" | "scaledjobs" | "sj" | "scaledjob.keda.sh" => Some(FleetKind::ScaledJob),
            "job" | "jobs" | "job.batch" => Some(FleetKind::Job),
            "deployment" | "deployments" | "deploy" | "deployment.apps" => {
                Some(FleetKind::Deployment)
            }
            _ => None,
        }
    }
}

/// Running, paused (no new work starts) or draining (paused, and waiting for work to stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FleetState {
    #[default]
    Running,
    Paused,
    Draining,
}

/// A fleet's identity: its kind and name. Written `Kind/name` (also as a JSON map key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct FleetId {
    pub kind: FleetKind,
    pub name: String,
}

impl FleetId {
    pub fn new(kind: FleetKind, name: impl Into<String>) -> Self {
        FleetId {
            kind,
            name: name.into(),
        }
    }
}

impl fmt::Display for FleetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.name)
    }
}

impl FromStr for FleetId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, name) = s
            .split_once('/')
            .ok_or_else(|| format!("fleet id {s:?} is not Kind/name"))?;
        let kind = match kind {
            "ScaledJob" => FleetKind::ScaledJob,
            "Job" => FleetKind::Job,
            "Deployment" => FleetKind::Deployment,
            other => return Err(format!("unknown fleet kind {other:?}")),
        };
        Ok(FleetId::new(kind, name))
    }
}

impl From<FleetId> for String {
    fn from(id: FleetId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for FleetId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

/// The object kinds the model watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    ScaledJob,
    Job,
    Deployment,
    Pod,
    PodDisruptionBudget,
    NetworkPolicy,
    Event,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 7] = [
        ObjectKind::ScaledJob,
        ObjectKind::Job,
        ObjectKind::Deployment,
        ObjectKind::Pod,
        ObjectKind::PodDisruptionBudget,
        ObjectKind::NetworkPolicy,
        ObjectKind::Event,
    ];
}

// ---------------------------------------------------------------------------------------------
// Small parsers

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Whether KEDA treats a ScaledJob with this `autoscaling.keda.sh/paused` value as paused: an
/// absent annotation does not pause, a value `ParseBool` cannot read does (SPEC-k8s.md §1.3).
pub fn keda_paused(annotation: Option<&str>) -> bool {
    annotation.is_some_and(|v| parse_go_bool(v).unwrap_or(true))
}

/// A Kubernetes quantity (`2Gi`, `512M`, `1e9`, `1.5Gi`) in bytes, rounded up.
pub fn parse_quantity_bytes(s: &str) -> Option<u64> {
    let bytes = parse_quantity(s)?.ceil();
    (bytes.is_finite() && bytes >= 0.0).then_some(bytes as u64)
}

/// A CPU quantity (`2`, `250m`, `0.5`) in millicores, rounded up.
pub fn parse_cpu_millis(s: &str) -> Option<u64> {
    let m = (parse_quantity(s)? * 1000.0).ceil();
    (m.is_finite() && m >= 0.0).then_some(m as u64)
}

/// A Kubernetes quantity as a number (`250m` is 0.25, `1Ki` is 1024).
pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        exp if exp.len() > 1 && (exp.starts_with('e') || exp.starts_with('E')) => {
            10f64.powi(exp[1..].parse().ok()?)
        }
        _ => return None,
    };
    let q = number * factor;
    q.is_finite().then_some(q)
}

// JSON helpers: absent or mistyped fields read as None.

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn str_at(v: &Value, path: &[&str]) -> Option<String> {
    at(v, path).and_then(Value::as_str).map(str::to_owned)
}

fn i64_at(v: &Value, path: &[&str]) -> Option<i64> {
    at(v, path).and_then(Value::as_i64)
}

fn i32_at(v: &Value, path: &[&str]) -> Option<i32> {
    i64_at(v, path).and_then(|n| i32::try_from(n).ok())
}

fn bool_at(v: &Value, path: &[&str]) -> Option<bool> {
    at(v, path).and_then(Value::as_bool)
}

fn ts_at(v: &Value, path: &[&str]) -> Option<Timestamp> {
    at(v, path)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn labels_at(v: &Value, path: &[&str]) -> Labels {
    at(v, path)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// An IntOrString as a string.
fn int_or_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The controller ownerReference: (kind, name).
fn controller_owner(meta: &Value) -> Option<(String, String)> {
    meta.get("ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|r| Some((str_at(r, &["kind"])?, str_at(r, &["name"])?)))
}

/// Common metadata of every slim object.
struct Meta {
    name: String,
    namespace: String,
    uid: String,
    labels: Labels,
    annotations: Labels,
    created: Option<Timestamp>,
}

impl Meta {
    fn read(v: &Value) -> Option<Meta> {
        let m = v.get("metadata")?;
        Some(Meta {
            name: str_at(m, &["name"])?,
            namespace: str_at(m, &["namespace"]).unwrap_or_default(),
            uid: str_at(m, &["uid"]).unwrap_or_default(),
            labels: labels_at(m, &["labels"]),
            annotations: labels_at(m, &["annotations"]),
            created: ts_at(m, &["creationTimestamp"]),
        })
    }
}

/// One slim object.
// The variants are all a few hundred bytes and a delta is moved once, from the watcher into the
// model: boxing them would cost an allocation per watch event for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Object {
    ScaledJob(ScaledJobSummary),
    Job(JobSummary),
    Deployment(DeploymentSummary),
    Pod(AgentPod),
    Pdb(PdbStatus),
    NetworkPolicy(NetworkPolicySummary),
    Event(EventSummary),
}

impl Object {
    pub fn kind(&self) -> ObjectKind {
        match self {
            Object::ScaledJob(_) => ObjectKind::ScaledJob,
            Object::Job(_) => ObjectKind::Job,
            Object::Deployment(_) => ObjectKind::Deployment,
            Object::Pod(_) => ObjectKind::Pod,
            Object::Pdb(_) => ObjectKind::PodDisruptionBudget,
            Object::NetworkPolicy(_) => ObjectKind::NetworkPolicy,
            Object::Event(_) => ObjectKind::Event,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Object::ScaledJob(x) => &x.name,
            Object::Job(x) => &x.name,
            Object::Deployment(x) => &x.name,
            Object::Pod(x) => &x.name,
            Object::Pdb(x) => &x.name,
            Object::NetworkPolicy(x) => &x.name,
            Object::Event(x) => &x.name,
        }
    }

    pub fn namespace(&self) -> &str {
        match self {
            Object::ScaledJob(x) => &x.namespace,
            Object::Job(x) => &x.namespace,
            Object::Deployment(x) => &x.namespace,
            Object::Pod(x) => &x.namespace,
            Object::Pdb(x) => &x.namespace,
            Object::NetworkPolicy(x) => &x.namespace,
            Object::Event(x) => &x.namespace,
        }
    }

    /// A wire object (with `kind`), made slim. None for other kinds or without a name.
    pub fn from_json(v: &Value) -> Option<Object> {
        Some(match v.get("kind")?.as_str()? {
            "ScaledJob" => Object::ScaledJob(ScaledJobSummary::from_json(v)?),
            "Job" => Object::Job(JobSummary::from_json(v)?),
            "Deployment" => Object::Deployment(DeploymentSummary::from_json(v)?),
            "Pod" => Object::Pod(AgentPod::from_json(v)?),
            "PodDisruptionBudget" => Object::Pdb(PdbStatus::from_json(v)?),
            "NetworkPolicy" => Object::NetworkPolicy(NetworkPolicySummary::from_json(v)?),
            "Event" => Object::Event(EventSummary::from_json(v)?),
            _ => return None,
        })
    }
}

/// A core/v1 Event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventSummary {
    pub name: String,
    pub namespace: String,
    pub involved_kind: String,
    pub involved_name: String,
    pub reason: String,
    pub message: String,
    /// `type: Warning`.
    pub warning: bool,
    pub count: i32,
    pub last_seen: Option<Timestamp>,
    pub source: Option<String>,
}

impl EventSummary {
    pub fn from_json(v: &Value) -> Option<Self> {
        let meta = Meta::read(v)?;
        Some(EventSummary {
            involved_kind: str_at(v, &["involvedObject", "kind"]).unwrap_or_default(),
            involved_name: str_at(v, &["involvedObject", "name"]).unwrap_or_default(),
            reason: str_at(v, &["reason"]).unwrap_or_default(),
            message: str_at(v, &["message"]).unwrap_or_default(),
            warning: str_at(v, &["type"]).as_deref() == Some("Warning"),
            count: i32_at(v, &["count"]).unwrap_or(1),
            last_seen: ts_at(v, &["lastTimestamp"])
                .or_else(|| ts_at(v, &["series", "lastObservedTime"]))
                .or_else(|| ts_at(v, &["eventTime"]))
                .or(meta.created),
            source: str_at(v, &["source", "component"])
                .or_else(|| str_at(v, &["reportingComponent"]))
                .filter(|s| !s.is_empty()),
            name: meta.name,
            namespace: meta.namespace,
        })
    }
}

/// A queue's depth as the broker reports it (passive declare).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QueueStats {
    pub ready: u64,
    pub consumers: u64,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use serde_json::json;

    fn manifest(yaml: &str) -> Value {
        serde_saphyr::from_str(yaml).expect("manifest parses")
    }

    #[test]
    fn go_bool_and_keda_pause() {
        assert!(!keda_paused(None));
        for v in ["true", "TRUE", "t", "1", "", "yes", "paused"] {
            assert!(keda_paused(Some(v)), "{v:?} pauses");
        }
        for v in ["false", "False", "f", "0"] {
            assert!(!keda_paused(Some(v)), "{v:?} does not pause");
        }
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_cpu_millis("250m"), Some(250));
        assert_eq!(parse_cpu_millis("2"), Some(2000));
        assert_eq!(parse_cpu_millis("0.5"), Some(500));
        assert_eq!(parse_cpu_millis("x"), None);
        assert_eq!(parse_quantity_bytes("2Gi"), Some(2 << 30));
        assert_eq!(parse_quantity_bytes("512Mi"), Some(512 << 20));
        assert_eq!(parse_quantity_bytes("1G"), Some(1_000_000_000));
        assert_eq!(parse_quantity_bytes("1e3"), Some(1000));
        assert_eq!(parse_quantity_bytes("1.5Ki"), Some(1536));
        assert_eq!(parse_quantity_bytes("129M"), Some(129_000_000));
        assert_eq!(parse_quantity_bytes("12345"), Some(12345));
        assert_eq!(parse_quantity_bytes("lots"), None);
    }

    #[test]
    fn bundled_manifests_read_as_slim_objects() {
        let sj = ScaledJobSummary::from_json(&manifest(include_str!(
            "../../../manifests/agent-scaledjob.yaml"
        )))
        .unwrap();
        assert_eq!(
            (sj.name.as_str(), sj.queue()),
            ("ai-agent", Some("agent-tasks"))
        );
        assert_eq!(sj.max_replica_count, Some(500));
        assert_eq!(sj.template.metrics_port, Some(8080));
        assert_eq!(sj.template.metrics_port_name.as_deref(), Some("metrics"));
        assert_eq!(sj.template.containers_without_memory_limit, 0);
        assert!(!sj.paused());
        let reading = sj.triggers[0]
            .reading(&QueueStats {
                ready: 12,
                ..Default::default()
            })
            .unwrap();
        assert_eq!((reading.queue_length, reading.target), (12.0, 5.0));

        let job =
            JobSummary::from_json(&manifest(include_str!("../../../manifests/agent-job.yaml")))
                .unwrap();
        assert_eq!(job.queue.as_deref(), Some("agent-tasks"));
        assert_eq!(
            (job.completions, job.parallelism, job.indexed),
            (Some(100), 20, true)
        );
        assert_eq!(job.scaled_job, None);

        let pdb =
            PdbStatus::from_json(&manifest(include_str!("../../../manifests/agent-pdb.yaml")))
                .unwrap();
        assert_eq!(pdb.min_available.as_deref(), Some("1"));
        assert!(pdb.selector.matches(&sj.template.labels));

        let np = NetworkPolicySummary::from_json(&manifest(include_str!(
            "../../../manifests/agent-netpol.yaml"
        )))
        .unwrap();
        assert!(np.ingress_policy && np.egress_policy);
        assert!(np.pod_selector.matches(&sj.template.labels));
        assert!(np.admits(8080, Some("metrics")));
        assert!(!np.admits(9090, None));
    }

    #[test]
    fn job_pdb_and_event_status() {
        let job = JobSummary::from_json(&json!({
            "metadata": {"name": "ai-agent-abcde", "namespace": "agents",
                         "labels": {"app": "ai-agent"},
                         "ownerReferences": [{"kind": "ScaledJob", "name": "ai-agent", "controller": true}]},
            "spec": {"parallelism": 1, "completions": 1},
            "status": {"failed": 4, "completedIndexes": "",
                       "conditions": [{"type": "FailureTarget", "status": "True",
                                       "reason": "BackoffLimitExceeded"}]}
        }))
        .unwrap();
        assert_eq!(job.scaled_job.as_deref(), Some("ai-agent"));
        assert!(job.conditions.failure_target && job.unfinished());
        assert_eq!(
            job.conditions.failure_reason.as_deref(),
            Some("BackoffLimitExceeded")
        );
        assert_eq!(job.completed_indexes, None);

        let pdb = PdbStatus::from_json(&json!({
            "metadata": {"name": "agent-pdb", "namespace": "agents"},
            "spec": {"maxUnavailable": "10%", "selector": {"matchLabels": {"app": "ai-agent"}}},
            "status": {"currentHealthy": 3, "desiredHealthy": 0, "disruptionsAllowed": 0,
                       "expectedPods": 0, "conditions": [{"type": "DisruptionAllowed",
                       "status": "False", "reason": "SyncFailed",
                       "message": "jobs.batch does not implement the scale subresource"}]}
        }))
        .unwrap();
        assert!(pdb.sync_failed && pdb.blocks_every_eviction());
        assert_eq!(pdb.max_unavailable.as_deref(), Some("10%"));

        let ev = EventSummary::from_json(&json!({
            "metadata": {"name": "p.1", "namespace": "agents"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "reason": "BackOff", "message": "Back-off restarting failed container",
            "type": "Warning", "count": 5, "lastTimestamp": "2025-01-01T00:00:00Z",
            "source": {"component": "kubelet"}
        }))
        .unwrap();
        assert!(ev.warning);
        assert_eq!((ev.count, ev.source.as_deref()), (5, Some("kubelet")));
        let obj = Object::from_json(&json!({
            "kind": "Event", "metadata": {"name": "e", "namespace": "agents"}
        }));
        assert_eq!(obj.map(|o| o.kind()), Some(ObjectKind::Event));
    }

    #[test]
    fn fleet_ids() {
        let id: FleetId = "ScaledJob/ai-agent".parse().unwrap();
        assert_eq!(id, FleetId::new(FleetKind::ScaledJob, "ai-agent"));
        assert_eq!(id.to_string(), "ScaledJob/ai-agent");
    }
}
