//! The slim cluster objects the fleet model is made of, read from wire JSON: kinds and
//! identities, label selectors, quantities, pods, pod templates and workloads (ScaledJobs,
//! Jobs, Deployments), PDBs, NetworkPolicies, Events and queue readings. Pure: no I/O.

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
// Label selectors

/// One `matchExpressions` requirement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LabelRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`; anything else matches nothing.
    pub operator: String,
    pub values: Vec<String>,
}

/// A `metav1.LabelSelector`. Empty selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<LabelRequirement>,
}

impl LabelSelector {
    pub fn from_labels(labels: Labels) -> Self {
        LabelSelector {
            match_labels: labels,
            match_expressions: Vec::new(),
        }
    }

    pub fn from_json(v: &Value) -> Self {
        let match_expressions = v
            .get("matchExpressions")
            .and_then(Value::as_array)
            .map(|xs| {
                xs.iter()
                    .map(|x| LabelRequirement {
                        key: str_at(x, &["key"]).unwrap_or_default(),
                        operator: str_at(x, &["operator"]).unwrap_or_default(),
                        values: x
                            .get("values")
                            .and_then(Value::as_array)
                            .map(|vs| {
                                vs.iter()
                                    .filter_map(|v| v.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        LabelSelector {
            match_labels: labels_at(v, &["matchLabels"]),
            match_expressions,
        }
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        labels_match(&self.match_labels, labels)
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator.as_str() {
                    "In" => value.is_some_and(|v| r.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

/// `key=value,...`: a selector as the API's `labelSelector` and kubectl's `-l` write it.
pub fn selector_string(selector: &Labels) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every label of `selector` is in `labels` with the same value.
pub fn labels_match(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
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

// ---------------------------------------------------------------------------------------------
// Pods

/// `status.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PodPhase {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl PodPhase {
    pub fn parse(s: &str) -> Self {
        match s {
            "Pending" => PodPhase::Pending,
            "Running" => PodPhase::Running,
            "Succeeded" => PodPhase::Succeeded,
            "Failed" => PodPhase::Failed,
            _ => PodPhase::Unknown,
        }
    }
}

/// A container's termination: `state.terminated` or `lastState.terminated`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Termination {
    pub container: String,
    pub reason: String,
    pub exit_code: i32,
    pub at: Option<Timestamp>,
}

/// A `DisruptionTarget=True` condition (SPEC-k8s.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DisruptionTarget {
    /// `TerminationByKubelet`, `EvictionByEvictionAPI`, `PreemptionByScheduler`, ...
    pub reason: String,
    pub message: Option<String>,
    pub at: Option<Timestamp>,
}

/// An agent pod, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentPod {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub phase: PodPhase,
    /// `Ready=True`.
    pub ready: bool,
    /// Sum of the containers' `restartCount`.
    pub restarts: u32,
    pub node: Option<String>,
    pub ip: Option<String>,
    /// Label `batch.kubernetes.io/job-name` (or `job-name`, or the controller Job).
    pub job_name: Option<String>,
    /// Label `scaledjob.keda.sh/name`.
    pub scaled_job: Option<String>,
    /// The Deployment of the controlling ReplicaSet `<deployment>-<pod-template-hash>`.
    pub deployment: Option<String>,
    pub completion_index: Option<u32>,
    /// The most recent container termination.
    pub last_termination: Option<Termination>,
    /// The most recent termination with reason `OOMKilled`.
    pub last_oom: Option<Termination>,
    /// Sum of the containers' memory limits (None when no container has one).
    pub memory_limit_bytes: Option<u64>,
    pub memory_request_bytes: Option<u64>,
    pub containers_without_memory_limit: u32,
    /// Pending with `PodScheduled=False`, reason `Unschedulable`.
    pub unschedulable: bool,
    pub scheduling_message: Option<String>,
    /// Has a `deletionTimestamp`: terminating.
    pub deletion: bool,
    pub created: Option<Timestamp>,
    pub disruption_target: Option<DisruptionTarget>,
    /// `status.reason`, e.g. `Evicted`.
    pub status_reason: Option<String>,
    pub status_message: Option<String>,
    /// Annotation `prometheus.io/port`, else 8080; None when `prometheus.io/scrape` is false.
    pub metrics_port: Option<u16>,
    /// Annotation `prometheus.io/path` (None means `/metrics`).
    pub metrics_path: Option<String>,
}

impl AgentPod {
    pub fn from_json(v: &Value) -> Option<Self> {
        let meta = Meta::read(v)?;
        let m = &v["metadata"];
        let label = |k: &str| meta.labels.get(k).cloned();
        let owner = controller_owner(m);
        let job_name = label(LABEL_JOB_NAME)
            .or_else(|| label(LABEL_JOB_NAME_LEGACY))
            .or_else(|| match &owner {
                Some((kind, name)) if kind == "Job" => Some(name.clone()),
                _ => None,
            });
        let deployment = match (&owner, meta.labels.get(LABEL_POD_TEMPLATE_HASH)) {
            (Some((kind, rs)), Some(hash)) if kind == "ReplicaSet" => rs
                .strip_suffix(hash.as_str())
                .and_then(|d| d.strip_suffix('-'))
                .map(str::to_owned),
            _ => None,
        };
        let completion_index = label(LABEL_COMPLETION_INDEX)
            .or_else(|| meta.annotations.get(LABEL_COMPLETION_INDEX).cloned())
            .and_then(|s| s.parse().ok());
        // Scraped unless `prometheus.io/scrape` says false; port 8080 unless annotated.
        let scrape = meta
            .annotations
            .get("prometheus.io/scrape")
            .is_none_or(|s| parse_go_bool(s) != Some(false));
        let metrics_port = scrape.then(|| {
            meta.annotations
                .get("prometheus.io/port")
                .and_then(|p| p.parse().ok())
                .unwrap_or(8080)
        });
        let metrics_path = meta
            .annotations
            .get("prometheus.io/path")
            .filter(|p| scrape && p.as_str() != "/metrics")
            .cloned();

        let status = v.get("status").unwrap_or(&Value::Null);
        let mut ready = false;
        let mut unschedulable = false;
        let mut scheduling_message = None;
        let mut disruption_target = None;
        for c in status
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let is_true = c.get("status").and_then(Value::as_str) == Some("True");
            match c.get("type").and_then(Value::as_str) {
                Some("Ready") => ready = is_true,
                Some("PodScheduled")
                    if !is_true && str_at(c, &["reason"]).as_deref() == Some("Unschedulable") =>
                {
                    unschedulable = true;
                    scheduling_message = str_at(c, &["message"]);
                }
                Some("DisruptionTarget") if is_true => {
                    disruption_target = Some(DisruptionTarget {
                        reason: str_at(c, &["reason"]).unwrap_or_default(),
                        message: str_at(c, &["message"]),
                        at: ts_at(c, &["lastTransitionTime"]),
                    })
                }
                _ => {}
            }
        }
        let mut restarts = 0u32;
        let mut last_termination: Option<Termination> = None;
        let mut last_oom: Option<Termination> = None;
        for cs in status
            .get("containerStatuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            restarts = restarts.saturating_add(i64_at(cs, &["restartCount"]).unwrap_or(0) as u32);
            let container = str_at(cs, &["name"]).unwrap_or_default();
            for which in ["state", "lastState"] {
                let Some(t) = at(cs, &[which, "terminated"]) else {
                    continue;
                };
                let term = Termination {
                    container: container.clone(),
                    reason: str_at(t, &["reason"]).unwrap_or_default(),
                    exit_code: i32_at(t, &["exitCode"]).unwrap_or(0),
                    at: ts_at(t, &["finishedAt"]),
                };
                if term.reason == "OOMKilled" && later(&term, last_oom.as_ref()) {
                    last_oom = Some(term.clone());
                }
                if later(&term, last_termination.as_ref()) {
                    last_termination = Some(term);
                }
            }
        }
        let mut memory_limit_bytes = None::<u64>;
        let mut memory_request_bytes = None::<u64>;
        let mut containers_without_memory_limit = 0;
        for c in at(v, &["spec", "containers"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match str_at(c, &["resources", "limits", "memory"])
                .and_then(|q| parse_quantity_bytes(&q))
            {
                Some(b) => memory_limit_bytes = Some(memory_limit_bytes.unwrap_or(0) + b),
                None => containers_without_memory_limit += 1,
            }
            if let Some(b) = str_at(c, &["resources", "requests", "memory"])
                .and_then(|q| parse_quantity_bytes(&q))
            {
                memory_request_bytes = Some(memory_request_bytes.unwrap_or(0) + b);
            }
        }
        Some(AgentPod {
            phase: status
                .get("phase")
                .and_then(Value::as_str)
                .map(PodPhase::parse)
                .unwrap_or_default(),
            ready,
            restarts,
            node: str_at(v, &["spec", "nodeName"]),
            ip: str_at(status, &["podIP"]),
            job_name,
            scaled_job: label(LABEL_SCALED_JOB),
            deployment,
            completion_index,
            last_termination,
            last_oom,
            memory_limit_bytes,
            memory_request_bytes,
            containers_without_memory_limit,
            unschedulable,
            scheduling_message,
            deletion: m.get("deletionTimestamp").is_some_and(|t| !t.is_null()),
            created: meta.created,
            disruption_target,
            status_reason: str_at(status, &["reason"]),
            status_message: str_at(status, &["message"]),
            metrics_port,
            metrics_path,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
        })
    }

    /// In `Running` or `Succeeded`: a Job with such a pod is not pending for KEDA (SPEC §1.2).
    pub fn started(&self) -> bool {
        matches!(self.phase, PodPhase::Running | PodPhase::Succeeded)
    }
}

/// `a` is more recent than `b` (a termination without a time ranks oldest).
fn later(a: &Termination, b: Option<&Termination>) -> bool {
    b.is_none_or(|b| a.at > b.at)
}

// ---------------------------------------------------------------------------------------------
// Pod templates and workloads

/// What the model reads of a workload's pod template.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PodTemplate {
    pub labels: Labels,
    /// `prometheus.io/port`, else the containerPort named `metrics`.
    pub metrics_port: Option<u16>,
    /// The name of the containerPort with that number, if any.
    pub metrics_port_name: Option<String>,
    pub containers_without_memory_limit: u32,
}

impl PodTemplate {
    pub fn from_json(t: &Value) -> Self {
        let containers: &[Value] = at(t, &["spec", "containers"])
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let ports: Vec<(Option<String>, Option<u16>)> = containers
            .iter()
            .flat_map(|c| {
                c.get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .map(|p| {
                (
                    str_at(p, &["name"]),
                    i64_at(p, &["containerPort"]).and_then(|n| u16::try_from(n).ok()),
                )
            })
            .collect();
        let metrics_port = str_at(t, &["metadata", "annotations", "prometheus.io/port"])
            .and_then(|p| p.parse().ok())
            .or_else(|| {
                ports
                    .iter()
                    .find(|(n, _)| n.as_deref() == Some("metrics"))
                    .and_then(|p| p.1)
            });
        let metrics_port_name = metrics_port.and_then(|port| {
            ports
                .iter()
                .find(|(_, n)| *n == Some(port))
                .and_then(|p| p.0.clone())
        });
        PodTemplate {
            labels: labels_at(t, &["metadata", "labels"]),
            metrics_port,
            metrics_port_name,
            containers_without_memory_limit: containers
                .iter()
                .filter(|c| at(c, &["resources", "limits", "memory"]).is_none())
                .count() as u32,
        }
    }
}

/// A rabbitmq (or other) trigger of a ScaledJob.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Trigger {
    #[serde(rename = "type")]
    pub kind: String,
    pub queue_name: Option<String>,
    /// `QueueLength` or `MessageRate`.
    pub mode: Option<String>,
    pub value: Option<String>,
    /// Deprecated `queueLength`.
    pub queue_length: Option<String>,
    pub activation_value: Option<String>,
}

impl Trigger {
    /// The reading KEDA's rabbitmq scaler would make with `stats` (SPEC-k8s.md §1.6): AMQP reads
    /// ready messages. None for other scalers, `MessageRate`, or an unreadable target.
    pub fn reading(&self, stats: &QueueStats) -> Option<TriggerReading> {
        if self.kind != "rabbitmq" || self.mode.as_deref().is_some_and(|m| m != "QueueLength") {
            return None;
        }
        let target = match (&self.value, &self.queue_length, &self.mode) {
            (Some(v), _, _) => v.parse().ok()?,
            (None, Some(q), _) => q.parse().ok()?,
            (None, None, None) => 20.0,
            (None, None, Some(_)) => return None,
        };
        let activation = match &self.activation_value {
            Some(a) => a.parse().ok()?,
            None => 0.0,
        };
        Some(TriggerReading {
            queue_length: stats.ready as f64,
            target,
            activation,
        })
    }
}

/// A KEDA ScaledJob.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScaledJobSummary {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: Labels,
    /// Annotation `autoscaling.keda.sh/paused`, verbatim.
    pub paused_annotation: Option<String>,
    pub draining: bool,
    /// Annotation `fleetctl.io/queue`.
    pub queue_annotation: Option<String>,
    pub min_replica_count: Option<i64>,
    pub max_replica_count: Option<i64>,
    pub polling_interval: Option<i64>,
    pub strategy: Option<String>,
    pub custom_deduction: Option<i64>,
    pub custom_running_job_percentage: Option<String>,
    pub multiple_scalers_calculation: Option<String>,
    pub triggers: Vec<Trigger>,
    pub template: PodTemplate,
    pub created: Option<Timestamp>,
}

impl ScaledJobSummary {
    pub fn from_json(v: &Value) -> Option<Self> {
        let meta = Meta::read(v)?;
        let spec = v.get("spec").unwrap_or(&Value::Null);
        let strategy = spec.get("scalingStrategy").unwrap_or(&Value::Null);
        let triggers = spec
            .get("triggers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| {
                let md = |k: &str| str_at(t, &["metadata", k]);
                Trigger {
                    kind: str_at(t, &["type"]).unwrap_or_default(),
                    queue_name: md("queueName"),
                    mode: md("mode"),
                    value: md("value"),
                    queue_length: md("queueLength"),
                    activation_value: md("activationValue"),
                }
            })
            .collect();
        Some(ScaledJobSummary {
            paused_annotation: meta.annotations.get(ANN_KEDA_PAUSED).cloned(),
            draining: meta.annotations.contains_key(ANN_DRAINING),
            queue_annotation: meta.annotations.get(ANN_QUEUE).cloned(),
            min_replica_count: i64_at(spec, &["minReplicaCount"]),
            max_replica_count: i64_at(spec, &["maxReplicaCount"]),
            polling_interval: i64_at(spec, &["pollingInterval"]),
            strategy: str_at(strategy, &["strategy"]),
            custom_deduction: i64_at(strategy, &["customScalingQueueLengthDeduction"]),
            custom_running_job_percentage: str_at(strategy, &["customScalingRunningJobPercentage"]),
            multiple_scalers_calculation: str_at(strategy, &["multipleScalersCalculation"]),
            triggers,
            template: PodTemplate::from_json(
                at(spec, &["jobTargetRef", "template"]).unwrap_or(&Value::Null),
            ),
            created: meta.created,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            labels: meta.labels,
        })
    }

    pub fn paused(&self) -> bool {
        keda_paused(self.paused_annotation.as_deref())
    }

    /// The first rabbitmq trigger's `queueName`, else annotation `fleetctl.io/queue`.
    pub fn queue(&self) -> Option<&str> {
        self.triggers
            .iter()
            .filter(|t| t.kind == "rabbitmq")
            .find_map(|t| t.queue_name.as_deref())
            .or(self.queue_annotation.as_deref())
    }

    /// The spec as [`scaling::decide`] reads it.
    pub fn scaling_spec(&self) -> ScaledJobSpec {
        ScaledJobSpec {
            min_replica_count: self.min_replica_count,
            max_replica_count: self.max_replica_count,
            strategy: Strategy::parse(
                self.strategy.as_deref(),
                self.custom_deduction,
                self.custom_running_job_percentage.as_deref(),
            ),
            combine: Combine::parse(self.multiple_scalers_calculation.as_deref()),
        }
    }
}

/// Job conditions that are True.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobConditions {
    pub complete: bool,
    pub failed: bool,
    pub suspended: bool,
    pub failure_target: bool,
    /// The reason of `Failed` or `FailureTarget`.
    pub failure_reason: Option<String>,
}

/// A batch/v1 Job.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobSummary {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: Labels,
    /// The owning ScaledJob: label `scaledjob.keda.sh/name`, else the controller ownerRef.
    pub scaled_job: Option<String>,
    /// Annotation `fleetctl.io/queue`.
    pub queue: Option<String>,
    pub draining: bool,
    pub active: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub terminating: i32,
    pub completions: Option<i32>,
    pub parallelism: i32,
    /// `spec.suspend`.
    pub suspended: bool,
    pub indexed: bool,
    pub conditions: JobConditions,
    /// `status.completedIndexes`, e.g. `"1,3-5,7"`.
    pub completed_indexes: Option<String>,
    pub created: Option<Timestamp>,
    pub completion_time: Option<Timestamp>,
    pub template: PodTemplate,
}

impl JobSummary {
    pub fn from_json(v: &Value) -> Option<Self> {
        let meta = Meta::read(v)?;
        let spec = v.get("spec").unwrap_or(&Value::Null);
        let status = v.get("status").unwrap_or(&Value::Null);
        let mut conditions = JobConditions::default();
        for c in status
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if c.get("status").and_then(Value::as_str) != Some("True") {
                continue;
            }
            match c.get("type").and_then(Value::as_str) {
                Some("Complete") => conditions.complete = true,
                Some("Suspended") => conditions.suspended = true,
                Some(t @ ("Failed" | "FailureTarget")) => {
                    if t == "Failed" {
                        conditions.failed = true;
                    } else {
                        conditions.failure_target = true;
                    }
                    conditions.failure_reason = str_at(c, &["reason"]);
                }
                _ => {}
            }
        }
        let owner = controller_owner(&v["metadata"]);
        Some(JobSummary {
            scaled_job: meta.labels.get(LABEL_SCALED_JOB).cloned().or(match owner {
                Some((kind, name)) if kind == "ScaledJob" => Some(name),
                _ => None,
            }),
            queue: meta.annotations.get(ANN_QUEUE).cloned(),
            draining: meta.annotations.contains_key(ANN_DRAINING),
            active: i32_at(status, &["active"]).unwrap_or(0),
            succeeded: i32_at(status, &["succeeded"]).unwrap_or(0),
            failed: i32_at(status, &["failed"]).unwrap_or(0),
            terminating: i32_at(status, &["terminating"]).unwrap_or(0),
            completions: i32_at(spec, &["completions"]),
            parallelism: i32_at(spec, &["parallelism"]).unwrap_or(1),
            suspended: bool_at(spec, &["suspend"]).unwrap_or(false),
            indexed: str_at(spec, &["completionMode"]).as_deref() == Some("Indexed"),
            conditions,
            completed_indexes: str_at(status, &["completedIndexes"]).filter(|s| !s.is_empty()),
            created: meta.created,
            completion_time: ts_at(status, &["completionTime"]),
            template: PodTemplate::from_json(spec.get("template").unwrap_or(&Value::Null)),
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            labels: meta.labels,
        })
    }

    /// Neither `Complete` nor `Failed` is True (KEDA's R, SPEC-k8s.md §1.2).
    pub fn unfinished(&self) -> bool {
        !self.conditions.complete && !self.conditions.failed
    }
}

/// An apps/v1 Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeploymentSummary {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: Labels,
    /// Annotation `fleetctl.io/paused-replicas`.
    pub paused_replicas: Option<String>,
    pub draining: bool,
    pub queue: Option<String>,
    /// `spec.replicas` (default 1).
    pub replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub updated_replicas: i32,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    pub created: Option<Timestamp>,
}

impl DeploymentSummary {
    pub fn from_json(v: &Value) -> Option<Self> {
        let meta = Meta::read(v)?;
        let spec = v.get("spec").unwrap_or(&Value::Null);
        let status = v.get("status").unwrap_or(&Value::Null);
        Some(DeploymentSummary {
            paused_replicas: meta.annotations.get(ANN_PAUSED_REPLICAS).cloned(),
            draining: meta.annotations.contains_key(ANN_DRAINING),
            queue: meta.annotations.get(ANN_QUEUE).cloned(),
            replicas: i32_at(spec, &["replicas"]).unwrap_or(1),
            ready_replicas: i32_at(status, &["readyReplicas"]).unwrap_or(0),
            available_replicas: i32_at(status, &["availableReplicas"]).unwrap_or(0),
            updated_replicas: i32_at(status, &["updatedReplicas"]).unwrap_or(0),
            selector: LabelSelector::from_json(spec.get("selector").unwrap_or(&Value::Null)),
            template: PodTemplate::from_json(spec.get("template").unwrap_or(&Value::Null)),
            created: meta.created,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            labels: meta.labels,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// PDBs, NetworkPolicies, Events, queues

/// A policy/v1 PodDisruptionBudget and its status (SPEC-k8s.md §4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PdbStatus {
    pub name: String,
    pub namespace: String,
    pub selector: LabelSelector,
    pub min_available: Option<String>,
    pub max_unavailable: Option<String>,
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub disruptions_allowed: i32,
    pub expected_pods: i32,
    /// `DisruptionAllowed=False` with reason `SyncFailed`: every eviction is refused.
    pub sync_failed: bool,
    /// The `DisruptionAllowed` condition's message.
    pub message: Option<String>,
}

impl PdbStatus {
    pub fn from_json(v: &Value) -> Option<Self> {
        let meta = Meta::read(v)?;
        let spec = v.get("spec").unwrap_or(&Value::Null);
        let status = v.get("status").unwrap_or(&Value::Null);
        let allowed = status
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| c.get("type").and_then(Value::as_str) == Some("DisruptionAllowed"));
        Some(PdbStatus {
            name: meta.name,
            namespace: meta.namespace,
            selector: LabelSelector::from_json(spec.get("selector").unwrap_or(&Value::Null)),
            min_available: int_or_string(spec.get("minAvailable")),
            max_unavailable: int_or_string(spec.get("maxUnavailable")),
            current_healthy: i32_at(status, &["currentHealthy"]).unwrap_or(0),
            desired_healthy: i32_at(status, &["desiredHealthy"]).unwrap_or(0),
            disruptions_allowed: i32_at(status, &["disruptionsAllowed"]).unwrap_or(0),
            expected_pods: i32_at(status, &["expectedPods"]).unwrap_or(0),
            sync_failed: allowed.is_some_and(|c| {
                c.get("status").and_then(Value::as_str) == Some("False")
                    && str_at(c, &["reason"]).as_deref() == Some("SyncFailed")
            }),
            message: allowed.and_then(|c| str_at(c, &["message"])),
        })
    }

    /// No eviction can succeed: SyncFailed, or nothing allowed while pods are expected.
    pub fn blocks_every_eviction(&self) -> bool {
        self.sync_failed || (self.disruptions_allowed == 0 && self.expected_pods > 0)
    }
}

/// A port of a NetworkPolicy rule: a number or a named port, and an optional range end.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PolicyPort {
    /// `TCP` when unset.
    pub protocol: String,
    /// None means every port.
    pub port: Option<String>,
    pub end_port: Option<u16>,
}

/// One `ingress` rule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IngressRule {
    /// Empty means every port.
    pub ports: Vec<PolicyPort>,
    /// Number of `from` peers (0 means from anywhere).
    pub peers: usize,
}

/// A networking.k8s.io/v1 NetworkPolicy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NetworkPolicySummary {
    pub name: String,
    pub namespace: String,
    pub pod_selector: LabelSelector,
    /// Restricts ingress (`Ingress` in policyTypes, or policyTypes unset).
    pub ingress_policy: bool,
    pub egress_policy: bool,
    pub ingress: Vec<IngressRule>,
}

impl NetworkPolicySummary {
    pub fn from_json(v: &Value) -> Option<Self> {
        let meta = Meta::read(v)?;
        let spec = v.get("spec").unwrap_or(&Value::Null);
        let types: Option<Vec<&str>> = spec
            .get("policyTypes")
            .and_then(Value::as_array)
            .map(|ts| ts.iter().filter_map(Value::as_str).collect());
        let has_egress_rules = spec.get("egress").is_some_and(|e| !e.is_null());
        let ingress = spec
            .get("ingress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| IngressRule {
                ports: r
                    .get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| PolicyPort {
                        protocol: str_at(p, &["protocol"]).unwrap_or_else(|| "TCP".into()),
                        port: int_or_string(p.get("port")),
                        end_port: i64_at(p, &["endPort"]).and_then(|n| u16::try_from(n).ok()),
                    })
                    .collect(),
                peers: r.get("from").and_then(Value::as_array).map_or(0, Vec::len),
            })
            .collect();
        Some(NetworkPolicySummary {
            name: meta.name,
            namespace: meta.namespace,
            pod_selector: LabelSelector::from_json(spec.get("podSelector").unwrap_or(&Value::Null)),
            ingress_policy: types.as_ref().is_none_or(|t| t.contains(&"Ingress")),
            egress_policy: match &types {
                Some(t) => t.contains(&"Egress"),
                None => has_egress_rules,
            },
            ingress,
        })
    }

    /// Some ingress rule admits TCP traffic to this port (by number or container port name).
    pub fn admits(&self, port: u16, port_name: Option<&str>) -> bool {
        self.ingress.iter().any(|rule| {
            rule.ports.is_empty()
                || rule.ports.iter().any(|p| {
                    p.protocol == "TCP"
                        && match p.port.as_deref() {
                            None => true,
                            Some(s) => match s.parse::<u16>() {
                                Ok(n) => (n..=p.end_port.unwrap_or(n)).contains(&port),
                                Err(_) => Some(s) == port_name,
                            },
                        }
                })
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

/// The intervals of a Job's `status.completedIndexes` / `failedIndexes` (`"1,3-5,7"`), as
/// `(first, last)` pairs; malformed parts are skipped. Kept as intervals, so a huge range costs
/// nothing.
pub fn index_intervals(s: &str) -> Vec<(i64, i64)> {
    s.split(',')
        .map(str::trim)
        .filter_map(|part| match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.trim().parse::<i64>().ok()?, b.trim().parse::<i64>().ok()?);
                (a <= b).then_some((a, b))
            }
            None => part.parse::<i64>().ok().map(|i| (i, i)),
        })
        .collect()
}

/// Whether index `i` lies in one of `intervals`.
pub fn in_intervals(intervals: &[(i64, i64)], i: i64) -> bool {
    intervals.iter().any(|&(a, b)| a <= i && i <= b)
}

#[cfg(test)]
mod index_interval_tests {
    use super::*;

    #[test]
    fn intervals_read_the_api_format_and_skip_junk() {
        assert_eq!(index_intervals("1,3-5,7"), vec![(1, 1), (3, 5), (7, 7)]);
        assert_eq!(index_intervals(""), vec![]);
        assert_eq!(index_intervals("x,2-1,4"), vec![(4, 4)]);
        let huge = index_intervals("0-2147483647");
        assert!(in_intervals(&huge, 2_000_000_000));
        assert!(!in_intervals(&index_intervals("1,3-5"), 2));
    }
}
