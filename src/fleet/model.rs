//! The fleet model: slim copies of the cluster objects the console shows, and the fleets they
//! make up (DESIGN.md "Fleets").
//!
//! The edge (`cluster::watch`) turns wire objects into the slim types here, either itself or
//! through the `from_json` constructors, which read only what the console shows (never
//! `managedFields`). [`Model`] holds one namespace: the slim objects keyed by name, the queue
//! readings, the kinds RBAC refused, the [`Fleet`]s derived from all of that, and a per-fleet
//! [`FleetHistory`] (disruption timeline, sparkline series, restart counter).
//!
//! Two kinds of data live in the model:
//! - **state**: everything a fresh list of the cluster determines. Two models built from the same
//!   objects compare equal ([`PartialEq`]), however the objects arrived.
//! - **history**: what was seen happening over time. It cannot be rebuilt from a list, survives
//!   re-lists, is bounded, and is left out of the comparison.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::delta::Object;
use super::scaling::{self, Combine, ScaledJobSpec, Strategy, TriggerReading};

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
/// Disruptions kept per fleet.
pub const DISRUPTION_HISTORY: usize = 500;
/// One sparkline point per this much time.
pub const SERIES_STEP: SignedDuration = SignedDuration::from_secs(5);
/// Points per ring buffer: one hour at [`SERIES_STEP`].
pub const SERIES_LEN: usize = 720;

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

// ---------------------------------------------------------------------------------------------
// Disruptions and history

/// Why an agent was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DisruptionKind {
    /// A container was OOMKilled.
    OomKilled,
    /// Kubelet node-pressure eviction, or another `DisruptionTarget` reason (taint manager, pod
    /// GC).
    Evicted,
    /// `PreemptionByScheduler`.
    Preempted,
    /// `EvictionByEvictionAPI` (a drain).
    ApiEviction,
}

/// One disruption on a fleet's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disruption {
    pub kind: DisruptionKind,
    pub pod: String,
    pub node: Option<String>,
    pub at: Timestamp,
    pub message: String,
}

impl DisruptionKind {
    pub const ALL: [DisruptionKind; 4] = [
        DisruptionKind::OomKilled,
        DisruptionKind::Evicted,
        DisruptionKind::Preempted,
        DisruptionKind::ApiEviction,
    ];
}

/// The disruptions a pod shows now, as (kind, time the pod reports): its last OOMKill, and its
/// eviction or preemption (`status.reason: Evicted` or a `DisruptionTarget` condition).
/// Re-reading the same pod gives the same keys, which is what de-duplication relies on.
pub fn disruption_keys(pod: &AgentPod) -> [Option<(DisruptionKind, Option<Timestamp>)>; 2] {
    let oom = pod
        .last_oom
        .as_ref()
        .map(|o| (DisruptionKind::OomKilled, o.at));
    let target = pod.disruption_target.as_ref();
    let kind = match target.map(|t| t.reason.as_str()) {
        Some("EvictionByEvictionAPI") => Some(DisruptionKind::ApiEviction),
        Some("PreemptionByScheduler") => Some(DisruptionKind::Preempted),
        Some(_) => Some(DisruptionKind::Evicted),
        None if pod.status_reason.as_deref() == Some("Evicted") => Some(DisruptionKind::Evicted),
        None => None,
    };
    [oom, kind.map(|k| (k, target.and_then(|t| t.at)))]
}

/// What the timeline says about a disruption of `kind` that `pod` shows.
pub fn disruption_message(pod: &AgentPod, kind: DisruptionKind) -> String {
    match (kind, &pod.last_oom) {
        (DisruptionKind::OomKilled, Some(oom)) => {
            let limit = pod
                .memory_limit_bytes
                .map(|b| format!(", pod memory limit {} MiB", b / (1024 * 1024)))
                .unwrap_or_default();
            format!(
                "container {} OOMKilled (exit {}){limit}",
                oom.container, oom.exit_code
            )
        }
        _ => {
            let target = pod.disruption_target.as_ref();
            pod.status_message
                .clone()
                .or_else(|| target.and_then(|t| t.message.clone()))
                .or_else(|| target.map(|t| t.reason.clone()))
                .unwrap_or_else(|| "Evicted".into())
        }
    }
}

/// A bounded buffer of samples, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ring<T> {
    cap: usize,
    items: VecDeque<T>,
}

impl<T> Ring<T> {
    pub fn new(cap: usize) -> Self {
        Ring {
            cap,
            items: VecDeque::new(),
        }
    }
    pub fn push(&mut self, item: T) {
        if self.items.len() == self.cap {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }
    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }
    pub fn last_mut(&mut self) -> Option<&mut T> {
        self.items.back_mut()
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.items.iter()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// One sparkline point: queue depth against pod count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub at: Timestamp,
    pub queue_ready: Option<u64>,
    /// Pods Pending or Running.
    pub pods: i64,
    pub active_jobs: i64,
}

/// A monotonic counter's value at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterPoint {
    pub at: Timestamp,
    pub total: u64,
}

/// What was seen happening to a fleet: not rebuilt by a re-list, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetHistory {
    /// Sorted by time, at most [`DISRUPTION_HISTORY`].
    pub disruptions: VecDeque<Disruption>,
    /// One point per [`SERIES_STEP`].
    pub series: Ring<SeriesPoint>,
    /// Container restarts plus Job retries (`status.failed` increases) seen since the model
    /// started, one point per [`SERIES_STEP`], starting at 0.
    pub restarts: Ring<CounterPoint>,
    pub last_activity: Timestamp,
}

impl FleetHistory {
    pub fn new(now: Timestamp) -> Self {
        let mut restarts = Ring::new(SERIES_LEN);
        restarts.push(CounterPoint { at: now, total: 0 });
        FleetHistory {
            disruptions: VecDeque::new(),
            series: Ring::new(SERIES_LEN),
            restarts,
            last_activity: now,
        }
    }

    /// Adds a disruption in time order, dropping the oldest beyond the bound.
    pub fn record(&mut self, d: Disruption) {
        self.last_activity = self.last_activity.max(d.at);
        let pos = self.disruptions.partition_point(|x| x.at <= d.at);
        self.disruptions.insert(pos, d);
        if self.disruptions.len() > DISRUPTION_HISTORY {
            self.disruptions.pop_front();
        }
    }

    /// Disruptions of `kind` at or after `since`.
    pub fn count_since(&self, kind: DisruptionKind, since: Timestamp) -> usize {
        self.disruptions
            .iter()
            .rev()
            .take_while(|d| d.at >= since)
            .filter(|d| d.kind == kind)
            .count()
    }

    /// Adds `n` restarts or retries seen at `now`.
    pub fn add_restarts(&mut self, now: Timestamp, n: u64) {
        let total = self.restarts.last().map_or(0, |p| p.total) + n;
        sample(
            &mut self.restarts,
            CounterPoint { at: now, total },
            |p, t| p.at = t,
        );
        self.last_activity = self.last_activity.max(now);
    }

    /// Restarts plus retries per minute over the last `window`. The counter only changes at
    /// its points, so its value at the window's start is the last point before it; when the
    /// history is shorter than the window, the rate is over the history, but over at least a
    /// minute (one burst right after the model started is not a storm).
    pub fn restarts_per_minute(&self, now: Timestamp, window: SignedDuration) -> f64 {
        let (Some(first), Some(last)) = (self.restarts.iter().next(), self.restarts.last()) else {
            return 0.0;
        };
        let since = now - window;
        let (base, from) = match self.restarts.iter().rev().find(|p| p.at <= since) {
            Some(p) => (p.total, since),
            None => (first.total, first.at),
        };
        let minutes = now
            .duration_since(from)
            .max(SignedDuration::from_mins(1))
            .as_secs_f64()
            / 60.0;
        last.total.saturating_sub(base) as f64 / minutes
    }

    pub fn sample_series(&mut self, point: SeriesPoint) {
        sample(&mut self.series, point, |p, t| p.at = t);
    }
}

/// A sample with a time.
pub trait Timed {
    fn at(&self) -> Timestamp;
}

impl Timed for SeriesPoint {
    fn at(&self) -> Timestamp {
        self.at
    }
}

impl Timed for CounterPoint {
    fn at(&self) -> Timestamp {
        self.at
    }
}

/// Appends `point`, or, while the last point is less than a step old, overwrites that point's
/// values and keeps its time (so a step's point is the latest value seen in that step).
fn sample<T: Timed>(ring: &mut Ring<T>, mut point: T, set_at: impl Fn(&mut T, Timestamp)) {
    if let Some(last) = ring.last_mut() {
        let start = last.at();
        if point.at() < start + SERIES_STEP {
            set_at(&mut point, start);
            *last = point;
            return;
        }
    }
    ring.push(point);
}

// ---------------------------------------------------------------------------------------------
// Fleets

/// Pods of a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PodCounts {
    pub total: i64,
    pub pending: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub unknown: i64,
    pub ready: i64,
    pub restarts: i64,
    pub unschedulable: i64,
    pub terminating: i64,
    /// Pods with a container that has no memory limit.
    pub without_memory_limit: i64,
}

impl PodCounts {
    pub fn of(pod: &AgentPod) -> Self {
        let phase = |p| i64::from(pod.phase == p);
        PodCounts {
            total: 1,
            pending: phase(PodPhase::Pending),
            running: phase(PodPhase::Running),
            succeeded: phase(PodPhase::Succeeded),
            failed: phase(PodPhase::Failed),
            unknown: phase(PodPhase::Unknown),
            ready: i64::from(pod.ready),
            restarts: i64::from(pod.restarts),
            unschedulable: i64::from(pod.unschedulable && pod.phase == PodPhase::Pending),
            terminating: i64::from(pod.deletion),
            without_memory_limit: i64::from(pod.containers_without_memory_limit > 0),
        }
    }

    /// `self += sign · other`.
    pub fn add(&mut self, o: &Self, sign: i64) {
        self.total += sign * o.total;
        self.pending += sign * o.pending;
        self.running += sign * o.running;
        self.succeeded += sign * o.succeeded;
        self.failed += sign * o.failed;
        self.unknown += sign * o.unknown;
        self.ready += sign * o.ready;
        self.restarts += sign * o.restarts;
        self.unschedulable += sign * o.unschedulable;
        self.terminating += sign * o.terminating;
        self.without_memory_limit += sign * o.without_memory_limit;
    }
}

/// Jobs of a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobTotals {
    /// ScaledJob: unfinished Jobs plus the predicted next scale; Job: completions (else
    /// parallelism); Deployment: replicas.
    pub desired: i64,
    /// Job objects.
    pub jobs: i64,
    /// Neither Complete nor Failed (KEDA's R).
    pub unfinished: i64,
    /// Unfinished with no pod Running or Succeeded (KEDA's P).
    pub pending: i64,
    /// `status.active`, summed.
    pub active: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Jobs with `Complete=True`.
    pub complete: i64,
    /// Jobs with `Failed=True`.
    pub failed_jobs: i64,
    /// Jobs with `spec.suspend`.
    pub suspended: i64,
}

impl JobTotals {
    /// One Job's share, given how many of its pods are Running or Succeeded.
    pub fn of(job: &JobSummary, started_pods: u32) -> Self {
        let unfinished = job.unfinished();
        JobTotals {
            desired: 0,
            jobs: 1,
            unfinished: i64::from(unfinished),
            pending: i64::from(unfinished && started_pods == 0),
            active: i64::from(job.active),
            succeeded: i64::from(job.succeeded),
            failed: i64::from(job.failed),
            complete: i64::from(job.conditions.complete),
            failed_jobs: i64::from(job.conditions.failed),
            suspended: i64::from(job.suspended),
        }
    }

    pub fn add(&mut self, o: &Self, sign: i64) {
        self.desired += sign * o.desired;
        self.jobs += sign * o.jobs;
        self.unfinished += sign * o.unfinished;
        self.pending += sign * o.pending;
        self.active += sign * o.active;
        self.succeeded += sign * o.succeeded;
        self.failed += sign * o.failed;
        self.complete += sign * o.complete;
        self.failed_jobs += sign * o.failed_jobs;
        self.suspended += sign * o.suspended;
    }
}

/// A fleet's pod and Job sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Tally {
    pub pods: PodCounts,
    pub jobs: JobTotals,
}

/// One fleet, as the fleets screen and `fleetctl status` show it. Only state: the history is in
/// [`Model::history`], the findings come from [`super::health::findings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    pub name: String,
    pub kind: FleetKind,
    pub state: FleetState,
    pub queue: Option<String>,
    pub queue_stats: Option<QueueStats>,
    /// The pod template's labels (what PDBs and NetworkPolicies select).
    pub pod_labels: Labels,
    /// The labels that pick exactly this fleet's pods.
    pub pod_selector: Labels,
    pub metrics_port: Option<u16>,
    pub metrics_port_name: Option<String>,
    /// Containers of the pod template without a memory limit.
    pub template_without_memory_limit: u32,
    pub jobs: JobTotals,
    pub pods: PodCounts,
    /// The first PDB (by name) selecting the pod template.
    pub pdb: Option<PdbStatus>,
    /// Further PDBs selecting it (the Eviction API refuses such pods with 500).
    pub other_pdbs: Vec<String>,
    /// Jobs KEDA creates at its next poll, from the last queue reading (ScaledJob only).
    pub predicted_next_scale: Option<i64>,
    pub created: Option<Timestamp>,
}

impl Fleet {
    pub fn id(&self) -> FleetId {
        FleetId::new(self.kind, self.name.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// The model

/// Derived indexes: a pure function of the objects, kept incrementally by `apply`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Index {
    /// Per fleet id (whether or not that fleet exists yet).
    pub tallies: HashMap<FleetId, Tally>,
    /// Pod names per job name.
    pub job_pods: HashMap<String, HashSet<String>>,
    /// Pods Running or Succeeded per job name.
    pub job_started: HashMap<String, u32>,
}

impl Index {
    /// The same index without the zero entries an incremental one leaves behind.
    #[cfg(test)]
    pub fn normalized(&self) -> Index {
        Index {
            tallies: self
                .tallies
                .iter()
                .filter(|(_, t)| **t != Tally::default())
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            job_pods: self
                .job_pods
                .iter()
                .filter(|(_, s)| !s.is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            job_started: self
                .job_started
                .iter()
                .filter(|(_, n)| **n != 0)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        }
    }
}

/// A whole namespace as a fresh list shows it: the input of [`Model::from_state`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterState {
    pub namespace: String,
    pub selector: Labels,
    pub objects: Vec<Object>,
    pub queues: BTreeMap<String, QueueStats>,
}

/// All fleets of one namespace, the slim objects they are made of, and their history.
///
/// Equality compares the state (objects, queues, unavailable kinds, fleets) and ignores the
/// history, which no list can rebuild.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub(super) namespace: String,
    pub(super) selector: Labels,
    pub(super) scaled_jobs: BTreeMap<String, ScaledJobSummary>,
    pub(super) jobs: BTreeMap<String, JobSummary>,
    pub(super) deployments: BTreeMap<String, DeploymentSummary>,
    pub(super) pods: BTreeMap<String, AgentPod>,
    pub(super) pdbs: BTreeMap<String, PdbStatus>,
    pub(super) network_policies: BTreeMap<String, NetworkPolicySummary>,
    pub(super) events: BTreeMap<String, EventSummary>,
    pub(super) queues: BTreeMap<String, QueueStats>,
    /// Kinds the API refused (RBAC), with the reason: their panels degrade.
    pub(super) unavailable: BTreeMap<ObjectKind, String>,
    pub(super) fleets: BTreeMap<FleetId, Fleet>,
    pub(super) history: BTreeMap<FleetId, FleetHistory>,
    #[serde(skip)]
    pub(super) index: Index,
    /// Disruptions already recorded, per pod uid: (kind, time the pod reports).
    #[serde(skip)]
    pub(super) seen: HashMap<String, Vec<(DisruptionKind, Option<Timestamp>)>>,
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        // Exhaustive on purpose: a new field has to be placed on one side or the other.
        let Model {
            namespace,
            selector,
            scaled_jobs,
            jobs,
            deployments,
            pods,
            pdbs,
            network_policies,
            events,
            queues,
            unavailable,
            fleets,
            history: _,
            index: _,
            seen: _,
        } = self;
        *namespace == other.namespace
            && *selector == other.selector
            && *scaled_jobs == other.scaled_jobs
            && *jobs == other.jobs
            && *deployments == other.deployments
            && *pods == other.pods
            && *pdbs == other.pdbs
            && *network_policies == other.network_policies
            && *events == other.events
            && *queues == other.queues
            && *unavailable == other.unavailable
            && *fleets == other.fleets
    }
}

/// The fleet of a Job's pods: its ScaledJob, or the Job itself.
pub(super) fn job_fleet(job: &JobSummary) -> FleetId {
    match &job.scaled_job {
        Some(sj) => FleetId::new(FleetKind::ScaledJob, sj.clone()),
        None => FleetId::new(FleetKind::Job, job.name.clone()),
    }
}

/// The fleet a pod counts toward, given the Jobs: Pod → Job → ScaledJob through the Job object
/// when it is known, else through the pod's own labels.
pub(super) fn pod_fleet(pod: &AgentPod, jobs: &BTreeMap<String, JobSummary>) -> Option<FleetId> {
    if let Some(job) = &pod.job_name {
        if let Some(j) = jobs.get(job) {
            return Some(job_fleet(j));
        }
        return Some(match &pod.scaled_job {
            Some(sj) => FleetId::new(FleetKind::ScaledJob, sj.clone()),
            None => FleetId::new(FleetKind::Job, job.clone()),
        });
    }
    if let Some(sj) = &pod.scaled_job {
        return Some(FleetId::new(FleetKind::ScaledJob, sj.clone()));
    }
    pod.deployment
        .as_ref()
        .map(|d| FleetId::new(FleetKind::Deployment, d.clone()))
}

impl Model {
    /// An empty model of `namespace` with the default selector `app=ai-agent`.
    pub fn new(namespace: impl Into<String>) -> Self {
        let selector = Labels::from([(DEFAULT_SELECTOR.0.into(), DEFAULT_SELECTOR.1.into())]);
        Model::with_selector(namespace, selector)
    }

    /// An empty model of `namespace` whose fleets are the workloads carrying `selector`.
    pub fn with_selector(namespace: impl Into<String>, selector: Labels) -> Self {
        Model {
            namespace: namespace.into(),
            selector,
            scaled_jobs: BTreeMap::new(),
            jobs: BTreeMap::new(),
            deployments: BTreeMap::new(),
            pods: BTreeMap::new(),
            pdbs: BTreeMap::new(),
            network_policies: BTreeMap::new(),
            events: BTreeMap::new(),
            queues: BTreeMap::new(),
            unavailable: BTreeMap::new(),
            fleets: BTreeMap::new(),
            history: BTreeMap::new(),
            index: Index::default(),
            seen: HashMap::new(),
        }
    }

    /// The model of a fresh list, computed from scratch (no deltas involved).
    pub fn from_state(state: &ClusterState, now: Timestamp) -> Self {
        let mut m = Model::with_selector(state.namespace.clone(), state.selector.clone());
        for obj in state
            .objects
            .iter()
            .filter(|o| o.namespace() == m.namespace)
        {
            match obj.clone() {
                Object::ScaledJob(x) => drop(m.scaled_jobs.insert(x.name.clone(), x)),
                Object::Job(x) => drop(m.jobs.insert(x.name.clone(), x)),
                Object::Deployment(x) => drop(m.deployments.insert(x.name.clone(), x)),
                Object::Pod(x) => drop(m.pods.insert(x.name.clone(), x)),
                Object::Pdb(x) => drop(m.pdbs.insert(x.name.clone(), x)),
                Object::NetworkPolicy(x) => drop(m.network_policies.insert(x.name.clone(), x)),
                Object::Event(x) => drop(m.events.insert(x.name.clone(), x)),
            }
        }
        m.queues = state.queues.clone();
        m.index = m.computed_index();
        m.fleets = m.computed_fleets();
        let pods: Vec<AgentPod> = m.pods.values().cloned().collect();
        for pod in &pods {
            if let Some(f) = pod_fleet(pod, &m.jobs) {
                m.note_disruptions(&f, pod, now);
            }
        }
        let ids: Vec<FleetId> = m.fleets.keys().cloned().collect();
        for id in &ids {
            m.sample(id, now);
        }
        m
    }

    /// The index, computed from the objects alone.
    pub(super) fn computed_index(&self) -> Index {
        let mut ix = Index::default();
        for pod in self.pods.values() {
            if let Some(f) = pod_fleet(pod, &self.jobs) {
                ix.tallies
                    .entry(f)
                    .or_default()
                    .pods
                    .add(&PodCounts::of(pod), 1);
            }
            if let Some(j) = &pod.job_name {
                ix.job_pods
                    .entry(j.clone())
                    .or_default()
                    .insert(pod.name.clone());
                if pod.started() {
                    *ix.job_started.entry(j.clone()).or_default() += 1;
                }
            }
        }
        for job in self.jobs.values() {
            let started = ix.job_started.get(&job.name).copied().unwrap_or(0);
            ix.tallies
                .entry(job_fleet(job))
                .or_default()
                .jobs
                .add(&JobTotals::of(job, started), 1);
        }
        ix
    }

    /// Every fleet, computed from the objects and the index.
    pub(super) fn computed_fleets(&self) -> BTreeMap<FleetId, Fleet> {
        let ids = self
            .scaled_jobs
            .keys()
            .map(|n| FleetId::new(FleetKind::ScaledJob, n.clone()))
            .chain(
                self.jobs
                    .keys()
                    .map(|n| FleetId::new(FleetKind::Job, n.clone())),
            )
            .chain(
                self.deployments
                    .keys()
                    .map(|n| FleetId::new(FleetKind::Deployment, n.clone())),
            );
        ids.filter_map(|id| self.build_fleet(&id).map(|f| (id, f)))
            .collect()
    }

    /// The fleet `id` from its workload, or None when that is not a fleet.
    pub(super) fn build_fleet(&self, id: &FleetId) -> Option<Fleet> {
        let name = &id.name;
        let (state, queue, template, pod_selector, created) = match id.kind {
            FleetKind::ScaledJob => {
                let sj = self.scaled_jobs.get(name)?;
                if !labels_match(&self.selector, &sj.labels) {
                    return None;
                }
                let state = if sj.draining {
                    FleetState::Draining
                } else if sj.paused() {
                    FleetState::Paused
                } else {
                    FleetState::Running
                };
                let sel = Labels::from([(LABEL_SCALED_JOB.to_owned(), name.clone())]);
                (state, sj.queue(), &sj.template, sel, sj.created)
            }
            FleetKind::Job => {
                let job = self.jobs.get(name)?;
                if job.scaled_job.is_some() || !labels_match(&self.selector, &job.labels) {
                    return None;
                }
                let state = if job.draining {
                    FleetState::Draining
                } else if job.suspended {
                    FleetState::Paused
                } else {
                    FleetState::Running
                };
                let sel = Labels::from([(LABEL_JOB_NAME.to_owned(), name.clone())]);
                (state, job.queue.as_deref(), &job.template, sel, job.created)
            }
            FleetKind::Deployment => {
                let d = self.deployments.get(name)?;
                if !labels_match(&self.selector, &d.labels) {
                    return None;
                }
                let state = if d.draining {
                    FleetState::Draining
                } else if d.paused_replicas.is_some() && d.replicas == 0 {
                    FleetState::Paused
                } else {
                    FleetState::Running
                };
                let sel = d.selector.match_labels.clone();
                (state, d.queue.as_deref(), &d.template, sel, d.created)
            }
        };
        let mut fleet = Fleet {
            name: name.clone(),
            kind: id.kind,
            state,
            queue: queue.map(str::to_owned),
            queue_stats: None,
            pod_labels: template.labels.clone(),
            pod_selector,
            metrics_port: template.metrics_port,
            metrics_port_name: template.metrics_port_name.clone(),
            template_without_memory_limit: template.containers_without_memory_limit,
            jobs: JobTotals::default(),
            pods: PodCounts::default(),
            pdb: None,
            other_pdbs: Vec::new(),
            predicted_next_scale: None,
            created,
        };
        set_pdbs(&mut fleet, &self.pdbs);
        fleet.queue_stats = fleet
            .queue
            .as_ref()
            .and_then(|q| self.queues.get(q))
            .cloned();
        let tally = self.index.tallies.get(id).copied().unwrap_or_default();
        set_counts(
            &mut fleet,
            &tally,
            &self.scaled_jobs,
            &self.jobs,
            &self.deployments,
            &self.queues,
        );
        Some(fleet)
    }

    /// Records the disruptions `pod` shows that were not recorded yet.
    pub(super) fn note_disruptions(&mut self, fleet: &FleetId, pod: &AgentPod, now: Timestamp) {
        for (kind, at) in disruption_keys(pod).into_iter().flatten() {
            // An OOMKill is keyed by its time too: a restarting container can be OOMKilled
            // again; an eviction or preemption happens to a pod once.
            let key = (
                kind,
                if kind == DisruptionKind::OomKilled {
                    at
                } else {
                    None
                },
            );
            match self.seen.get_mut(&pod.uid) {
                Some(seen) if seen.contains(&key) => continue,
                Some(seen) => seen.push(key),
                None => drop(self.seen.insert(pod.uid.clone(), vec![key])),
            }
            let message = disruption_message(pod, kind);
            self.history_mut(fleet, now).record(Disruption {
                kind,
                pod: pod.name.clone(),
                node: pod.node.clone(),
                at: at.unwrap_or(now),
                message,
            });
        }
    }

    pub(super) fn history_mut(&mut self, id: &FleetId, now: Timestamp) -> &mut FleetHistory {
        if !self.history.contains_key(id) {
            self.history.insert(id.clone(), FleetHistory::new(now));
        }
        self.history.get_mut(id).expect("just inserted")
    }

    /// Adds a sparkline point for fleet `id` (if it exists) at `now`.
    pub(super) fn sample(&mut self, id: &FleetId, now: Timestamp) {
        let Some(f) = self.fleets.get(id) else {
            return;
        };
        let point = SeriesPoint {
            at: now,
            queue_ready: f.queue_stats.as_ref().map(|q| q.ready),
            pods: f.pods.pending + f.pods.running,
            active_jobs: f.jobs.active,
        };
        let h = self.history_mut(id, now);
        h.sample_series(point);
        h.last_activity = h.last_activity.max(now);
    }

    // Accessors ---------------------------------------------------------------------------

    pub fn namespace(&self) -> &str {
        &self.namespace
    }
    pub fn selector(&self) -> &Labels {
        &self.selector
    }
    pub fn fleets(&self) -> impl Iterator<Item = &Fleet> {
        self.fleets.values()
    }
    pub fn fleet(&self, id: &FleetId) -> Option<&Fleet> {
        self.fleets.get(id)
    }
    /// The fleet called `name` (ScaledJob first, then Job, then Deployment).
    pub fn fleet_named(&self, name: &str) -> Option<&Fleet> {
        [FleetKind::ScaledJob, FleetKind::Job, FleetKind::Deployment]
            .into_iter()
            .find_map(|k| self.fleets.get(&FleetId::new(k, name)))
    }
    pub fn history(&self, id: &FleetId) -> Option<&FleetHistory> {
        self.history.get(id)
    }
    pub fn scaled_jobs(&self) -> &BTreeMap<String, ScaledJobSummary> {
        &self.scaled_jobs
    }
    pub fn jobs(&self) -> &BTreeMap<String, JobSummary> {
        &self.jobs
    }
    pub fn deployments(&self) -> &BTreeMap<String, DeploymentSummary> {
        &self.deployments
    }
    pub fn pods(&self) -> &BTreeMap<String, AgentPod> {
        &self.pods
    }
    pub fn pdbs(&self) -> &BTreeMap<String, PdbStatus> {
        &self.pdbs
    }
    pub fn network_policies(&self) -> &BTreeMap<String, NetworkPolicySummary> {
        &self.network_policies
    }
    pub fn events(&self) -> &BTreeMap<String, EventSummary> {
        &self.events
    }
    pub fn queues(&self) -> &BTreeMap<String, QueueStats> {
        &self.queues
    }
    /// Kinds the API refused, with the reason.
    pub fn unavailable(&self) -> &BTreeMap<ObjectKind, String> {
        &self.unavailable
    }

    /// The fleet's pods, by name. Walks all pods: for detail views, not per delta.
    pub fn pods_of<'a>(&'a self, id: &'a FleetId) -> impl Iterator<Item = &'a AgentPod> + 'a {
        self.pods
            .values()
            .filter(move |p| pod_fleet(p, &self.jobs).as_ref() == Some(id))
    }

    /// The fleet's Jobs, by name.
    pub fn jobs_of<'a>(&'a self, id: &'a FleetId) -> impl Iterator<Item = &'a JobSummary> + 'a {
        self.jobs.values().filter(move |j| job_fleet(j) == *id)
    }

    /// Checks the incrementally kept index and fleets against a recomputation.
    #[cfg(test)]
    pub(super) fn verify(&self) {
        assert_eq!(
            self.index.normalized(),
            self.computed_index().normalized(),
            "index"
        );
        let mut fresh = self.clone();
        fresh.index = self.computed_index();
        assert_eq!(self.fleets, fresh.computed_fleets(), "fleets");
    }
}

/// Picks the fleet's PDBs: those selecting its pod template, by name.
pub(super) fn set_pdbs(fleet: &mut Fleet, pdbs: &BTreeMap<String, PdbStatus>) {
    let mut matching = pdbs
        .values()
        .filter(|p| p.selector.matches(&fleet.pod_labels));
    fleet.pdb = matching.next().cloned();
    fleet.other_pdbs = matching.map(|p| p.name.clone()).collect();
}

/// Fills in the counts, the desired Jobs and the prediction from `tally`.
pub(super) fn set_counts(
    fleet: &mut Fleet,
    tally: &Tally,
    scaled_jobs: &BTreeMap<String, ScaledJobSummary>,
    jobs: &BTreeMap<String, JobSummary>,
    deployments: &BTreeMap<String, DeploymentSummary>,
    queues: &BTreeMap<String, QueueStats>,
) {
    fleet.pods = tally.pods;
    fleet.jobs = tally.jobs;
    fleet.predicted_next_scale = None;
    fleet.jobs.desired = match fleet.kind {
        FleetKind::ScaledJob => {
            fleet.predicted_next_scale = scaled_jobs
                .get(&fleet.name)
                .and_then(|sj| predict(sj, &tally.jobs, queues));
            tally.jobs.unfinished + fleet.predicted_next_scale.unwrap_or(0)
        }
        FleetKind::Job => jobs
            .get(&fleet.name)
            .map_or(0, |j| i64::from(j.completions.unwrap_or(j.parallelism))),
        FleetKind::Deployment => deployments
            .get(&fleet.name)
            .map_or(0, |d| i64::from(d.replicas)),
    };
}

/// Jobs KEDA creates at the next poll (SPEC-k8s.md §1.2): from the last reading of each
/// rabbitmq trigger's queue and the unfinished (R) and pending (P) Jobs. 0 while paused or
/// draining; None without any reading.
pub fn predict(
    sj: &ScaledJobSummary,
    jobs: &JobTotals,
    queues: &BTreeMap<String, QueueStats>,
) -> Option<i64> {
    if sj.paused() || sj.draining {
        return Some(0);
    }
    let readings: Vec<TriggerReading> = sj
        .triggers
        .iter()
        .filter_map(|t| t.reading(queues.get(t.queue_name.as_deref()?)?))
        .collect();
    if readings.is_empty() {
        return None;
    }
    let counts = scaling::JobCounts {
        running: jobs.unfinished,
        pending: jobs.pending,
    };
    Some(scaling::decide(&sj.scaling_spec(), &readings, counts).create)
}

#[cfg(test)]
mod tests {
    use super::*;
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
            "../../manifests/agent-scaledjob.yaml"
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

        let job = JobSummary::from_json(&manifest(include_str!("../../manifests/agent-job.yaml")))
            .unwrap();
        assert_eq!(job.queue.as_deref(), Some("agent-tasks"));
        assert_eq!(
            (job.completions, job.parallelism, job.indexed),
            (Some(100), 20, true)
        );
        assert_eq!(job.scaled_job, None);

        let pdb = PdbStatus::from_json(&manifest(include_str!("../../manifests/agent-pdb.yaml")))
            .unwrap();
        assert_eq!(pdb.min_available.as_deref(), Some("1"));
        assert!(pdb.selector.matches(&sj.template.labels));

        let np = NetworkPolicySummary::from_json(&manifest(include_str!(
            "../../manifests/agent-netpol.yaml"
        )))
        .unwrap();
        assert!(np.ingress_policy && np.egress_policy);
        assert!(np.pod_selector.matches(&sj.template.labels));
        assert!(np.admits(8080, Some("metrics")));
        assert!(!np.admits(9090, None));
    }

    #[test]
    fn pod_status_shapes() {
        // OOMKilled under OnFailure: Running, restarted, lastState terminated (SPEC §3).
        let oom = AgentPod::from_json(&json!({
            "kind": "Pod",
            "metadata": {
                "name": "ai-agent-abcde-x2k4p", "namespace": "agents", "uid": "u1",
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "labels": {"app": "ai-agent", "batch.kubernetes.io/job-name": "ai-agent-abcde",
                           "job-name": "ai-agent-abcde", "scaledjob.keda.sh/name": "ai-agent"},
                "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
                "ownerReferences": [{"kind": "Job", "name": "ai-agent-abcde", "controller": true}],
                "managedFields": [{"manager": "kubelet"}]
            },
            "spec": {"nodeName": "node-1", "containers": [
                {"name": "agent", "resources": {"limits": {"memory": "2Gi"}, "requests": {"memory": "1Gi"}}},
                {"name": "sidecar"}
            ]},
            "status": {
                "phase": "Running", "podIP": "10.0.0.7",
                "conditions": [{"type": "Ready", "status": "False"},
                               {"type": "PodScheduled", "status": "True"}],
                "containerStatuses": [{
                    "name": "agent", "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                                 "finishedAt": "2025-01-01T00:05:00Z"}}
                }]
            }
        }))
        .unwrap();
        assert_eq!(oom.phase, PodPhase::Running);
        assert_eq!((oom.restarts, oom.ready), (3, false));
        assert_eq!(oom.job_name.as_deref(), Some("ai-agent-abcde"));
        assert_eq!(oom.scaled_job.as_deref(), Some("ai-agent"));
        assert_eq!(oom.last_oom.as_ref().unwrap().exit_code, 137);
        assert_eq!(oom.last_termination, oom.last_oom);
        assert_eq!(oom.memory_limit_bytes, Some(2 << 30));
        assert_eq!(oom.containers_without_memory_limit, 1);
        assert_eq!(oom.metrics_port, Some(8080));
        assert_eq!(
            disruption_keys(&oom),
            [
                Some((
                    DisruptionKind::OomKilled,
                    Some("2025-01-01T00:05:00Z".parse().unwrap())
                )),
                None
            ]
        );

        // Kubelet pressure eviction.
        let evicted = AgentPod::from_json(&json!({
            "metadata": {"name": "p2", "namespace": "agents",
                         "labels": {"pod-template-hash": "5d9c"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d9c", "controller": true}]},
            "status": {"phase": "Failed", "reason": "Evicted",
                       "message": "The node was low on resource: memory.",
                       "conditions": [{"type": "DisruptionTarget", "status": "True",
                                       "reason": "TerminationByKubelet",
                                       "lastTransitionTime": "2025-01-01T01:00:00Z"}]}
        }))
        .unwrap();
        assert_eq!(evicted.deployment.as_deref(), Some("web"));
        // No prometheus.io annotations: scraped at the defaults, port 8080 and /metrics.
        assert_eq!(
            (evicted.metrics_port, evicted.metrics_path.as_deref()),
            (Some(8080), None)
        );
        assert_eq!(evicted.status_reason.as_deref(), Some("Evicted"));
        assert_eq!(
            disruption_keys(&evicted)[1].unwrap().0,
            DisruptionKind::Evicted
        );
        assert_eq!(
            disruption_message(&evicted, DisruptionKind::Evicted),
            "The node was low on resource: memory."
        );

        // Unschedulable, terminating.
        let pending = AgentPod::from_json(&json!({
            "metadata": {"name": "p3", "namespace": "agents",
                         "deletionTimestamp": "2025-01-01T02:00:00Z"},
            "status": {"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient memory."}]}
        }))
        .unwrap();
        assert!(pending.unschedulable && pending.deletion);
        assert_eq!(PodCounts::of(&pending).unschedulable, 1);

        // `prometheus.io/scrape: "false"` turns scraping off; port and path are annotations.
        let annotated = |ann: Value| {
            AgentPod::from_json(&json!({"metadata": {"name": "p5", "annotations": ann}})).unwrap()
        };
        let off = annotated(json!({"prometheus.io/scrape": "false", "prometheus.io/port": "9090"}));
        assert_eq!((off.metrics_port, off.metrics_path), (None, None));
        let on = annotated(json!({"prometheus.io/port": "9090", "prometheus.io/path": "/m"}));
        assert_eq!(
            (on.metrics_port, on.metrics_path.as_deref()),
            (Some(9090), Some("/m"))
        );

        for (reason, kind) in [
            ("EvictionByEvictionAPI", DisruptionKind::ApiEviction),
            ("PreemptionByScheduler", DisruptionKind::Preempted),
        ] {
            let p = AgentPod::from_json(&json!({
                "metadata": {"name": "p4", "namespace": "agents"},
                "status": {"phase": "Running", "conditions": [
                    {"type": "DisruptionTarget", "status": "True", "reason": reason}]}
            }))
            .unwrap();
            assert_eq!(disruption_keys(&p)[1], Some((kind, None)));
        }
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
        let obj = crate::fleet::delta::Object::from_json(&json!({
            "kind": "Event", "metadata": {"name": "e", "namespace": "agents"}
        }));
        assert_eq!(obj.map(|o| o.kind()), Some(ObjectKind::Event));
    }

    #[test]
    fn selectors() {
        let labels = Labels::from([
            ("app".into(), "ai-agent".into()),
            ("tier".into(), "a".into()),
        ]);
        let sel = |op: &str, values: &[&str]| LabelSelector {
            match_labels: Labels::new(),
            match_expressions: vec![LabelRequirement {
                key: "tier".into(),
                operator: op.into(),
                values: values.iter().map(|v| v.to_string()).collect(),
            }],
        };
        assert!(sel("In", &["a", "b"]).matches(&labels));
        assert!(!sel("NotIn", &["a"]).matches(&labels));
        assert!(sel("Exists", &[]).matches(&labels));
        assert!(!sel("DoesNotExist", &[]).matches(&labels));
        assert!(LabelSelector::default().matches(&labels));
        let id: FleetId = "ScaledJob/ai-agent".parse().unwrap();
        assert_eq!(id, FleetId::new(FleetKind::ScaledJob, "ai-agent"));
        assert_eq!(id.to_string(), "ScaledJob/ai-agent");
    }
}
