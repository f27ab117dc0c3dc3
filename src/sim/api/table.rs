//! Server-side printing: the `meta.k8s.io` `Table` kubectl asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`.
//!
//! Columns and cells follow kubectl 1.32's printers (`pkg/printers/internalversion`) for the
//! built-in kinds, KEDA's printer columns for its kinds, a CRD's `additionalPrinterColumns` when
//! given, and `NAME AGE` otherwise. Priority-1 columns are the `-o wide` ones; the server always
//! fills them and kubectl hides them.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::registry::ResourceType;
use crate::fleet::selector::Selector;

/// What `rows[].object` carries (the `includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// From the `includeObject` query parameter (`None`, `Metadata`, `Object`); absent or
    /// unknown values give the default, `Metadata`.
    pub fn from_query(v: Option<&str>) -> Self {
        match v {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// The Table versions an Accept header asks for, in the order it lists them.
fn table_versions(accept: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if media != "application/json" && media != "*/*" && media != "application/*" {
            continue;
        }
        let (mut is_table, mut group_ok, mut version, mut q_ok) = (false, false, None, true);
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "as" => is_table = v == "Table",
                "g" => group_ok = v == "meta.k8s.io",
                "v" => version = Some(v.to_string()),
                "q" => q_ok = v.parse::<f32>().map(|q| q > 0.0).unwrap_or(true),
                _ => {}
            }
        }
        if is_table && group_ok && q_ok {
            match version.as_deref() {
                Some("v1") => out.push("meta.k8s.io/v1"),
                Some("v1beta1") => out.push("meta.k8s.io/v1beta1"),
                _ => {}
            }
        }
    }
    out
}

/// True when the Accept header asks for a `Table` (meta.k8s.io v1 or v1beta1).
pub fn wants_table(accept: &str) -> bool {
    !table_versions(accept).is_empty()
}

/// The Table apiVersion to answer with: the first acceptable one the header lists
/// (`meta.k8s.io/v1` when none).
pub fn table_version(accept: &str) -> &'static str {
    table_versions(accept)
        .first()
        .copied()
        .unwrap_or("meta.k8s.io/v1")
}

/// kubectl's `duration.HumanDuration` of a signed span: more than a second in the future is
/// `<invalid>`, a little is `0s` (clock skew).
pub fn human_duration(d: SignedDuration) -> String {
    if d.as_secs() < -1 {
        "<invalid>".into()
    } else if d.is_negative() {
        "0s".into()
    } else {
        crate::fleet::duration::human_duration(d.unsigned_abs())
    }
}

fn parse_time(v: &Value) -> Option<Timestamp> {
    v.as_str()?.parse::<Timestamp>().ok()
}

/// kubectl's `translateTimestampSince`: `<unknown>` for a missing time.
fn since(v: &Value, now: Timestamp) -> String {
    match parse_time(v) {
        Some(t) => human_duration(now.duration_since(t)),
        None => "<unknown>".into(),
    }
}

/// `CreationTimestamp.UTC().Format(time.RFC3339)`, the "Created At" cells.
fn created_at(obj: &Value) -> String {
    parse_time(&obj["metadata"]["creationTimestamp"])
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into())
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .unwrap_or(0)
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn or_none(x: String) -> String {
    if x.is_empty() { "<none>".into() } else { x }
}

struct Col {
    name: &'static str,
    ty: &'static str,
    priority: u8,
    description: &'static str,
}

const fn col(name: &'static str, ty: &'static str, priority: u8) -> Col {
    Col {
        name,
        ty,
        priority,
        description: "",
    }
}

const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

fn col_def(c: &Col) -> Value {
    let description = match (c.name, c.description) {
        ("Name", "") => NAME_DESC,
        ("Age", "") | ("Created At", "") => AGE_DESC,
        (_, d) => d,
    };
    json!({
        "name": c.name,
        "type": c.ty,
        "format": if c.name == "Name" { "name" } else { "" },
        "description": description,
        "priority": c.priority,
    })
}

/// Which printer a type uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Printer {
    Pod,
    Job,
    Deployment,
    ReplicaSet,
    Node,
    Namespace,
    Event,
    Service,
    Secret,
    ConfigMap,
    ServiceAccount,
    Pvc,
    CreatedAt,
    Pdb,
    NetworkPolicy,
    RoleBinding,
    Lease,
    Default,
}

fn printer(rt: &ResourceType) -> Printer {
    if !rt.builtin {
        return Printer::Default;
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "pods") => Printer::Pod,
        ("batch", "jobs") => Printer::Job,
        ("apps", "deployments") => Printer::Deployment,
        ("apps", "replicasets") => Printer::ReplicaSet,
        ("", "nodes") => Printer::Node,
        ("", "namespaces") => Printer::Namespace,
        ("", "events") | ("events.k8s.io", "events") => Printer::Event,
        ("", "services") => Printer::Service,
        ("", "secrets") => Printer::Secret,
        ("", "configmaps") => Printer::ConfigMap,
        ("", "serviceaccounts") => Printer::ServiceAccount,
        ("", "persistentvolumeclaims") => Printer::Pvc,
        ("", "limitranges")
        | ("rbac.authorization.k8s.io", "roles")
        | ("rbac.authorization.k8s.io", "clusterroles")
        | ("apiextensions.k8s.io", "customresourcedefinitions") => Printer::CreatedAt,
        ("policy", "poddisruptionbudgets") => Printer::Pdb,
        ("networking.k8s.io", "networkpolicies") => Printer::NetworkPolicy,
        ("rbac.authorization.k8s.io", "rolebindings")
        | ("rbac.authorization.k8s.io", "clusterrolebindings") => Printer::RoleBinding,
        ("coordination.k8s.io", "leases") => Printer::Lease,
        _ => Printer::Default,
    }
}

fn columns(p: Printer) -> Vec<Col> {
    let name = col("Name", "string", 0);
    let age = col("Age", "string", 0);
    let selector = || col("Selector", "string", 1);
    match p {
        Printer::Pod => vec![
            name,
            col("Ready", "string", 0),
            col("Status", "string", 0),
            col("Restarts", "string", 0),
            age,
            col("IP", "string", 1),
            col("Node", "string", 1),
            col("Nominated Node", "string", 1),
            col("Readiness Gates", "string", 1),
        ],
        Printer::Job => vec![
            name,
            col("Status", "string", 0),
            col("Completions", "string", 0),
            col("Duration", "string", 0),
            age,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            selector(),
        ],
        Printer::Deployment => vec![
            name,
            col("Ready", "string", 0),
            col("Up-to-date", "integer", 0),
            col("Available", "integer", 0),
            age,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            selector(),
        ],
        Printer::ReplicaSet => vec![
            name,
            col("Desired", "integer", 0),
            col("Current", "integer", 0),
            col("Ready", "integer", 0),
            age,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            selector(),
        ],
        Printer::Node => vec![
            name,
            col("Status", "string", 0),
            col("Roles", "string", 0),
            age,
            col("Version", "string", 0),
            col("Internal-IP", "string", 1),
            col("External-IP", "string", 1),
            col("OS-Image", "string", 1),
            col("Kernel-Version", "string", 1),
            col("Container-Runtime", "string", 1),
        ],
        Printer::Namespace => vec![name, col("Status", "string", 0), age],
        Printer::Event => vec![
            col("Last Seen", "string", 0),
            col("Type", "string", 0),
            col("Reason", "string", 0),
            col("Object", "string", 0),
            col("Subobject", "string", 1),
            col("Source", "string", 1),
            col("Message", "string", 0),
            col("First Seen", "string", 1),
            col("Count", "string", 1),
            col("Name", "string", 1),
        ],
        Printer::Service => vec![
            name,
            col("Type", "string", 0),
            col("Cluster-IP", "string", 0),
            col("External-IP", "string", 0),
            col("Port(s)", "string", 0),
            age,
            selector(),
        ],
        Printer::Secret => vec![
            name,
            col("Type", "string", 0),
            col("Data", "string", 0),
            age,
        ],
        Printer::ConfigMap => vec![name, col("Data", "string", 0), age],
        Printer::ServiceAccount => vec![name, col("Secrets", "string", 0), age],
        Printer::Pvc => vec![
            name,
            col("Status", "string", 0),
            col("Volume", "string", 0),
            col("Capacity", "string", 0),
            col("Access Modes", "string", 0),
            col("StorageClass", "string", 0),
            col("VolumeAttributesClass", "string", 0),
            age,
            col("VolumeMode", "string", 1),
        ],
        Printer::CreatedAt => vec![name, col("Created At", "date", 0)],
        Printer::Pdb => vec![
            name,
            col("Min Available", "string", 0),
            col("Max Unavailable", "string", 0),
            col("Allowed Disruptions", "integer", 0),
            age,
        ],
        Printer::NetworkPolicy => vec![name, col("Pod-Selector", "string", 0), age],
        Printer::RoleBinding => vec![
            name,
            col("Role", "string", 0),
            age,
            col("Users", "string", 1),
            col("Groups", "string", 1),
            col("ServiceAccounts", "string", 1),
        ],
        Printer::Lease => vec![name, col("Holder", "string", 0), age],
        Printer::Default => vec![name, age],
    }
}

/// `metav1.FormatLabelSelector`: requirements sorted by key, `<none>` when empty or absent,
/// `<error>` when Kubernetes could not read it.
pub fn format_label_selector(sel: &Value) -> String {
    if !sel.is_object() {
        return "<none>".into();
    }
    match Selector::from_json(sel) {
        Ok(s) => or_none(s.to_string()),
        Err(_) => "<error>".into(),
    }
}

/// `labels.FormatLabels` of a plain map: `k=v` sorted, `<none>` when empty.
fn format_labels(m: &Value) -> String {
    let mut parts: Vec<String> = m
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect())
        .unwrap_or_default();
    parts.sort();
    or_none(parts.join(","))
}

/// Container names and images of a pod template, comma-joined.
fn container_cells(pod_spec: &Value) -> (String, String) {
    let cs = arr(&pod_spec["containers"]);
    let names: Vec<String> = cs.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<String> = cs.iter().map(|c| s(&c["image"])).collect();
    (names.join(","), images.join(","))
}

fn has_condition(conds: &Value, ty: &str) -> bool {
    arr(conds)
        .iter()
        .any(|c| c["type"] == ty && c["status"] == "True")
}

fn pod_row(pod: &Value, now: Timestamp) -> (Vec<Value>, Option<Value>) {
    let spec = &pod["spec"];
    let status = &pod["status"];
    let conds = &status["conditions"];
    let init_specs = arr(&spec["initContainers"]);
    let restartable = |name: &Value| {
        init_specs
            .iter()
            .any(|c| &c["name"] == name && c["restartPolicy"] == "Always")
    };
    let total = arr(&spec["containers"]).len()
        + init_specs
            .iter()
            .filter(|c| c["restartPolicy"] == "Always")
            .count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;
    let later = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };

    let phase = s(&status["phase"]);
    let mut reason = phase.clone();
    if let Some(r) = status["reason"].as_str().filter(|r| !r.is_empty()) {
        reason = r.to_string();
    }
    if arr(conds)
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["reason"] == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let row_conditions = match phase.as_str() {
        "Succeeded" => Some(json!([{"type": "Completed", "status": "True",
            "reason": "Succeeded", "message": "The pod has completed successfully."}])),
        "Failed" => Some(json!([{"type": "Completed", "status": "True",
            "reason": "Failed", "message": "The pod failed."}])),
        _ => None,
    };

    let init_statuses = arr(&status["initContainerStatuses"]);
    let mut initializing = false;
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += int(&c["restartCount"]);
        let finished = parse_time(&c["lastState"]["terminated"]["finishedAt"]);
        last_restart = later(last_restart, finished);
        let is_sidecar = restartable(&c["name"]);
        if is_sidecar {
            sidecar_restarts += int(&c["restartCount"]);
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let term = &c["state"]["terminated"];
        let waiting_reason = c["state"]["waiting"]["reason"].as_str().unwrap_or("");
        if term.is_object() && int(&term["exitCode"]) == 0 {
            continue;
        } else if is_sidecar && c["started"] == true {
            if c["ready"] == true {
                ready += 1;
            }
            continue;
        } else if term.is_object() {
            reason = match term["reason"].as_str().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None if int(&term["signal"]) != 0 => {
                    format!("Init:Signal:{}", int(&term["signal"]))
                }
                None => format!("Init:ExitCode:{}", int(&term["exitCode"])),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || has_condition(conds, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in arr(&status["containerStatuses"]).iter().rev() {
            restarts += int(&c["restartCount"]);
            last_restart = later(
                last_restart,
                parse_time(&c["lastState"]["terminated"]["finishedAt"]),
            );
            let st = &c["state"];
            let waiting = st["waiting"]["reason"].as_str().unwrap_or("");
            let term = &st["terminated"];
            let term_reason = term["reason"].as_str().unwrap_or("");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if term.is_object() && !term_reason.is_empty() {
                reason = term_reason.to_string();
            } else if term.is_object() {
                reason = if int(&term["signal"]) != 0 {
                    format!("Signal:{}", int(&term["signal"]))
                } else {
                    format!("ExitCode:{}", int(&term["exitCode"]))
                };
            } else if c["ready"] == true && st["running"].is_object() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_condition(conds, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    let deleting = pod["metadata"]["deletionTimestamp"].is_string();
    if deleting && status["reason"] == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Failed" && phase != "Succeeded" {
        reason = "Terminating".into();
    }

    let restarts_str = match last_restart {
        Some(t) if restarts != 0 => {
            format!("{restarts} ({} ago)", human_duration(now.duration_since(t)))
        }
        _ => restarts.to_string(),
    };

    let ip = arr(&status["podIPs"])
        .first()
        .map(|p| s(&p["ip"]))
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| s(&status["podIP"]));
    let gates = arr(&spec["readinessGates"]);
    let readiness = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_count = gates
            .iter()
            .filter(|g| {
                arr(conds)
                    .iter()
                    .find(|c| c["type"] == g["conditionType"])
                    .is_some_and(|c| c["status"] == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    (
        vec![
            json!(s(&pod["metadata"]["name"])),
            json!(format!("{ready}/{total}")),
            json!(reason),
            json!(restarts_str),
            json!(since(&pod["metadata"]["creationTimestamp"], now)),
            json!(or_none(ip)),
            json!(or_none(s(&spec["nodeName"]))),
            json!(or_none(s(&status["nominatedNodeName"]))),
            json!(readiness),
        ],
        row_conditions,
    )
}

fn job_row(job: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &job["spec"];
    let status = &job["status"];
    let succeeded = int(&status["succeeded"]);
    let completions = if spec["completions"].is_number() {
        format!("{succeeded}/{}", int(&spec["completions"]))
    } else {
        let parallelism = int(&spec["parallelism"]);
        if parallelism > 1 {
            format!("{succeeded}/1 of {parallelism}")
        } else {
            format!("{succeeded}/1")
        }
    };
    let duration = match (
        parse_time(&status["startTime"]),
        parse_time(&status["completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start)),
        (Some(start), Some(done)) => human_duration(done.duration_since(start)),
    };
    let conds = &status["conditions"];
    let state = if has_condition(conds, "Complete") {
        "Complete"
    } else if has_condition(conds, "Failed") {
        "Failed"
    } else if job["metadata"]["deletionTimestamp"].is_string() {
        "Terminating"
    } else if has_condition(conds, "Suspended") {
        "Suspended"
    } else if has_condition(conds, "FailureTarget") {
        "FailureTarget"
    } else if has_condition(conds, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (names, images) = container_cells(&spec["template"]["spec"]);
    vec![
        json!(s(&job["metadata"]["name"])),
        json!(state),
        json!(completions),
        json!(duration),
        json!(since(&job["metadata"]["creationTimestamp"], now)),
        json!(names),
        json!(images),
        json!(format_label_selector(&spec["selector"])),
    ]
}

fn node_row(node: &Value, now: Timestamp) -> Vec<Value> {
    let status = &node["status"];
    // The last Ready condition wins, as with kubectl's map of conditions.
    let mut states: Vec<String> = arr(&status["conditions"])
        .iter()
        .rev()
        .find(|c| c["type"] == "Ready")
        .map(|c| {
            if c["status"] == "True" {
                "Ready".to_string()
            } else {
                "NotReady".to_string()
            }
        })
        .into_iter()
        .collect();
    if states.is_empty() {
        states.push("Unknown".into());
    }
    if node["spec"]["unschedulable"] == true {
        states.push("SchedulingDisabled".into());
    }
    let mut roles = BTreeSet::new();
    if let Some(labels) = node["metadata"]["labels"].as_object() {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role" {
                let v = s(v);
                if !v.is_empty() {
                    roles.insert(v);
                }
            }
        }
    }
    let roles: Vec<String> = roles.into_iter().collect();
    let address = |ty: &str| {
        arr(&status["addresses"])
            .iter()
            .find(|a| a["type"] == ty)
            .map(|a| s(&a["address"]))
            .unwrap_or_else(|| "<none>".into())
    };
    let info = &status["nodeInfo"];
    let unknown = |v: &Value| {
        let v = s(v);
        if v.is_empty() { "<unknown>".into() } else { v }
    };
    vec![
        json!(s(&node["metadata"]["name"])),
        json!(states.join(",")),
        json!(or_none(roles.join(","))),
        json!(since(&node["metadata"]["creationTimestamp"], now)),
        json!(s(&info["kubeletVersion"])),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(unknown(&info["osImage"])),
        json!(unknown(&info["kernelVersion"])),
        json!(unknown(&info["containerRuntimeVersion"])),
    ]
}

fn event_row(ev: &Value, now: Timestamp, events_k8s: bool) -> Vec<Value> {
    // events.k8s.io/v1 names the core fields differently; read either shape.
    let pick = |core: &str, new: &str| -> Value {
        let v = &ev[core];
        if !v.is_null() || !events_k8s {
            v.clone()
        } else {
            ev[new].clone()
        }
    };
    let first_ts = pick("firstTimestamp", "deprecatedFirstTimestamp");
    let last_ts = pick("lastTimestamp", "deprecatedLastTimestamp");
    let first = if parse_time(&first_ts).is_some() {
        since(&first_ts, now)
    } else {
        since(&ev["eventTime"], now)
    };
    let mut last = if parse_time(&last_ts).is_some() {
        since(&last_ts, now)
    } else {
        first.clone()
    };
    let mut count = int(&pick("count", "deprecatedCount"));
    if ev["series"].is_object() {
        last = since(&ev["series"]["lastObservedTime"], now);
        count = int(&ev["series"]["count"]);
    } else if count == 0 {
        count = 1;
    }
    let involved = if ev["involvedObject"].is_object() || !events_k8s {
        &ev["involvedObject"]
    } else {
        &ev["regarding"]
    };
    let kind = s(&involved["kind"]).to_lowercase();
    let target = match involved["name"].as_str().filter(|n| !n.is_empty()) {
        Some(n) => format!("{kind}/{n}"),
        None => kind,
    };
    let source = pick("source", "deprecatedSource");
    let first_non_empty = |a: String, b: String| if a.is_empty() { b } else { a };
    let component = first_non_empty(s(&source["component"]), s(&ev["reportingController"]));
    let instance = first_non_empty(s(&source["host"]), s(&ev["reportingInstance"]));
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    let message = s(&pick("message", "note")).trim().to_string();
    vec![
        json!(last),
        json!(s(&ev["type"])),
        json!(s(&ev["reason"])),
        json!(target),
        json!(s(&involved["fieldPath"])),
        json!(source),
        json!(message),
        json!(first),
        json!(count),
        json!(s(&ev["metadata"]["name"])),
    ]
}

fn service_row(svc: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &svc["spec"];
    let ty = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
    let cluster_ip = arr(&spec["clusterIPs"])
        .first()
        .map(s)
        .or_else(|| spec["clusterIP"].as_str().map(String::from))
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| "<none>".into());
    let external_ips: Vec<String> = arr(&spec["externalIPs"]).iter().map(s).collect();
    let external = match ty.as_str() {
        "ClusterIP" | "NodePort" => or_none(external_ips.join(",")),
        "LoadBalancer" => {
            let lb: Vec<String> = arr(&svc["status"]["loadBalancer"]["ingress"])
                .iter()
                .map(|i| {
                    let ip = s(&i["ip"]);
                    if ip.is_empty() { s(&i["hostname"]) } else { ip }
                })
                .filter(|x| !x.is_empty())
                .collect();
            let mut all = lb;
            all.extend(external_ips);
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => s(&spec["externalName"]),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(&spec["ports"])
        .iter()
        .map(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            let node_port = int(&p["nodePort"]);
            if node_port > 0 {
                format!("{}:{node_port}/{proto}", int(&p["port"]))
            } else {
                format!("{}/{proto}", int(&p["port"]))
            }
        })
        .collect();
    vec![
        json!(s(&svc["metadata"]["name"])),
        json!(ty),
        json!(cluster_ip),
        json!(external),
        json!(or_none(ports.join(","))),
        json!(since(&svc["metadata"]["creationTimestamp"], now)),
        json!(format_labels(&spec["selector"])),
    ]
}

fn pvc_row(pvc: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &pvc["spec"];
    let status = &pvc["status"];
    let mut phase = s(&status["phase"]);
    if pvc["metadata"]["deletionTimestamp"].is_string() {
        phase = "Terminating".into();
    }
    let volume = s(&spec["volumeName"]);
    let (mut capacity, mut modes) = (String::new(), String::new());
    if !volume.is_empty() {
        let have: Vec<String> = arr(&status["accessModes"]).iter().map(s).collect();
        modes = [
            ("ReadWriteOnce", "RWO"),
            ("ReadOnlyMany", "ROX"),
            ("ReadWriteMany", "RWX"),
            ("ReadWriteOncePod", "RWOP"),
        ]
        .iter()
        .filter(|(m, _)| have.iter().any(|h| h == m))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",");
        capacity = match &status["capacity"]["storage"] {
            Value::String(q) => q.clone(),
            Value::Number(n) => n.to_string(),
            _ => "0".into(),
        };
    }
    let class = pvc["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| s(&spec["storageClassName"]));
    let unset = |x: String| if x.is_empty() { "<unset>".into() } else { x };
    vec![
        json!(s(&pvc["metadata"]["name"])),
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(unset(class)),
        json!(unset(s(&spec["volumeAttributesClassName"]))),
        json!(since(&pvc["metadata"]["creationTimestamp"], now)),
        json!(unset(s(&spec["volumeMode"]))),
    ]
}

fn int_or_string(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(x) => x.clone(),
        _ => "N/A".into(),
    }
}

fn role_binding_row(rb: &Value, now: Timestamp) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        s(&rb["roleRef"]["kind"]),
        s(&rb["roleRef"]["name"])
    );
    let (mut users, mut groups, mut sas) = (vec![], vec![], vec![]);
    for subj in arr(&rb["subjects"]) {
        match subj["kind"].as_str().unwrap_or_default() {
            "User" => users.push(s(&subj["name"])),
            "Group" => groups.push(s(&subj["name"])),
            "ServiceAccount" => sas.push(format!("{}/{}", s(&subj["namespace"]), s(&subj["name"]))),
            _ => {}
        }
    }
    vec![
        json!(s(&rb["metadata"]["name"])),
        json!(role),
        json!(since(&rb["metadata"]["creationTimestamp"], now)),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ]
}

fn len_of(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    }
}

fn cells(p: Printer, obj: &Value, now: Timestamp, events_k8s: bool) -> (Vec<Value>, Option<Value>) {
    let name = json!(s(&obj["metadata"]["name"]));
    let age = json!(since(&obj["metadata"]["creationTimestamp"], now));
    let spec = &obj["spec"];
    let status = &obj["status"];
    let cells = match p {
        Printer::Pod => return pod_row(obj, now),
        Printer::Job => job_row(obj, now),
        Printer::Deployment | Printer::ReplicaSet => {
            let desired = if spec["replicas"].is_number() {
                int(&spec["replicas"])
            } else {
                1
            };
            let (names, images) = container_cells(&spec["template"]["spec"]);
            let mut c = vec![name];
            if p == Printer::Deployment {
                c.push(json!(format!(
                    "{}/{desired}",
                    int(&status["readyReplicas"])
                )));
                c.push(json!(int(&status["updatedReplicas"])));
                c.push(json!(int(&status["availableReplicas"])));
            } else {
                c.push(json!(desired));
                c.push(json!(int(&status["replicas"])));
                c.push(json!(int(&status["readyReplicas"])));
            }
            c.extend([
                age,
                json!(names),
                json!(images),
                json!(format_label_selector(&spec["selector"])),
            ]);
            c
        }
        Printer::Node => node_row(obj, now),
        Printer::Namespace => vec![name, json!(s(&status["phase"])), age],
        Printer::Event => event_row(obj, now, events_k8s),
        Printer::Service => service_row(obj, now),
        Printer::Secret => vec![
            name,
            json!(s(&obj["type"])),
            json!(len_of(&obj["data"])),
            age,
        ],
        Printer::ConfigMap => vec![
            name,
            json!(len_of(&obj["data"]) + len_of(&obj["binaryData"])),
            age,
        ],
        Printer::ServiceAccount => vec![name, json!(len_of(&obj["secrets"])), age],
        Printer::Pvc => pvc_row(obj, now),
        Printer::CreatedAt => vec![name, json!(created_at(obj))],
        Printer::Pdb => vec![
            name,
            json!(int_or_string(&spec["minAvailable"])),
            json!(int_or_string(&spec["maxUnavailable"])),
            json!(int(&status["disruptionsAllowed"])),
            age,
        ],
        Printer::NetworkPolicy => vec![
            name,
            json!(format_label_selector(&spec["podSelector"])),
            age,
        ],
        Printer::RoleBinding => role_binding_row(obj, now),
        Printer::Lease => vec![name, json!(s(&spec["holderIdentity"])), age],
        Printer::Default => vec![name, age],
    };
    (cells, None)
}

fn row_object(obj: &Value, include: IncludeObject, api_version: &str) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Object => Some(obj.clone()),
        IncludeObject::Metadata => Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": api_version,
            "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
        })),
    }
}

fn table(
    column_definitions: Vec<Value>,
    rows: Vec<(Vec<Value>, Option<Value>, &Value)>,
    list_meta: Value,
    include: IncludeObject,
    api_version: &str,
) -> Value {
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|(cells, conditions, obj)| {
            let mut row = serde_json::Map::new();
            row.insert("cells".into(), Value::Array(cells));
            if let Some(c) = conditions {
                row.insert("conditions".into(), c);
            }
            if let Some(o) = row_object(obj, include, api_version) {
                row.insert("object".into(), o);
            }
            Value::Object(row)
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": if list_meta.is_object() { list_meta } else { json!({}) },
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

/// KEDA 2.16's printer columns for its kinds, as the CRDs declare them.
fn keda_columns(rt: &ResourceType) -> Option<Vec<Value>> {
    if rt.group != "keda.sh" {
        return None;
    }
    let c = |name: &str, ty: &str, path: &str| json!({"name": name, "type": ty, "jsonPath": path});
    let cond = |ty: &str| format!(".status.conditions[?(@.type==\"{ty}\")].status");
    let age = c("Age", "date", ".metadata.creationTimestamp");
    let triggers = c("Triggers", "string", ".status.triggersTypes");
    let auths = c("Authentications", "string", ".status.authenticationsTypes");
    Some(match rt.kind.as_str() {
        "ScaledJob" => vec![
            c("Min", "integer", ".spec.minReplicaCount"),
            c("Max", "integer", ".spec.maxReplicaCount"),
            c("Ready", "string", &cond("Ready")),
            c("Active", "string", &cond("Active")),
            c("Paused", "string", &cond("Paused")),
            triggers,
            auths,
            age,
        ],
        "ScaledObject" => vec![
            c("ScaleTargetKind", "string", ".status.scaleTargetKind"),
            c("ScaleTargetName", "string", ".spec.scaleTargetRef.name"),
            c("Min", "integer", ".spec.minReplicaCount"),
            c("Max", "integer", ".spec.maxReplicaCount"),
            c("Ready", "string", &cond("Ready")),
            c("Active", "string", &cond("Active")),
            c("Fallback", "string", &cond("Fallback")),
            c("Paused", "string", &cond("Paused")),
            triggers,
            auths,
            age,
        ],
        "TriggerAuthentication" | "ClusterTriggerAuthentication" => vec![
            c("PodIdentity", "string", ".spec.podIdentity.provider"),
            c("Secret", "string", ".spec.secretTargetRef[*].name"),
            c("Env", "string", ".spec.env[*].name"),
            c("VaultAddress", "string", ".spec.hashiCorpVault.address"),
            age,
        ],
        _ => return None,
    })
}

/// Converts objects of one type to a Table. `list_meta` becomes the Table's metadata
/// (`resourceVersion`, `continue`, `remainingItemCount`); `api_version` is what
/// [`table_version`] chose.
pub fn to_table(
    rt: &ResourceType,
    items: &[Value],
    list_meta: Value,
    now: Timestamp,
    include_object: IncludeObject,
    api_version: &str,
) -> Value {
    if let Some(cols) = keda_columns(rt) {
        return to_table_with_columns(
            rt,
            &cols,
            items,
            list_meta,
            now,
            include_object,
            api_version,
        );
    }
    if !rt.builtin {
        return to_table_with_columns(rt, &[], items, list_meta, now, include_object, api_version);
    }
    let p = printer(rt);
    let defs: Vec<Value> = columns(p).iter().map(col_def).collect();
    let events_k8s = rt.group == "events.k8s.io";
    let rows = items
        .iter()
        .map(|obj| {
            let (c, conds) = cells(p, obj, now, events_k8s);
            (c, conds, obj)
        })
        .collect();
    table(defs, rows, list_meta, include_object, api_version)
}

/// Converts custom resources to a Table using a CRD version's `additionalPrinterColumns`
/// (`[{name, type, jsonPath, description?, priority?, format?}]`), as the CRD table convertor
/// does: `Name`, then the columns (first JSONPath match only); with no columns, `Age`. `date`
/// cells are ages (`ConvertToHumanReadableDateType`), `<invalid>` for an unparsable time.
pub fn to_table_with_columns(
    _rt: &ResourceType,
    printer_columns: &[Value],
    items: &[Value],
    list_meta: Value,
    now: Timestamp,
    include_object: IncludeObject,
    api_version: &str,
) -> Value {
    if printer_columns.is_empty() {
        let cols =
            [json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"})];
        return to_table_with_columns(
            _rt,
            &cols,
            items,
            list_meta,
            now,
            include_object,
            api_version,
        );
    }
    let mut defs = vec![col_def(&col("Name", "string", 0))];
    for c in printer_columns {
        let name = s(&c["name"]);
        let description = c["description"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| {
                if name == "Age" {
                    AGE_DESC.to_string()
                } else {
                    "Custom resource definition column (in JSONPath format): ".to_string()
                        + c["jsonPath"].as_str().unwrap_or_default()
                }
            });
        defs.push(json!({
            "name": name,
            "type": c["type"].as_str().unwrap_or("string"),
            "format": c["format"].as_str().unwrap_or(""),
            "description": description,
            "priority": int(&c["priority"]),
        }));
    }
    let rows = items
        .iter()
        .map(|obj| {
            let mut cells = vec![json!(s(&obj["metadata"]["name"]))];
            for c in printer_columns {
                let path = c["jsonPath"].as_str().unwrap_or_default();
                let ty = c["type"].as_str().unwrap_or("string");
                let cell = jsonpath_first(obj, path)
                    .map(|v| json_cell(ty, &v, now))
                    .unwrap_or(Value::Null);
                cells.push(cell);
            }
            (cells, None, obj)
        })
        .collect();
    table(defs, rows, list_meta, include_object, api_version)
}

/// `cellForJSONValue` plus the string printing of the CRD table convertor.
fn json_cell(ty: &str, v: &Value, now: Timestamp) -> Value {
    match ty {
        "string" => match v {
            Value::Null => Value::Null,
            other => json!(go_text(other)),
        },
        "integer" => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Value::from)
            .unwrap_or(Value::Null),
        "number" => v.as_f64().map(Value::from).unwrap_or(Value::Null),
        "boolean" => v.as_bool().map(Value::from).unwrap_or(Value::Null),
        "date" => match v.as_str() {
            Some(t) => match t.parse::<Timestamp>() {
                Ok(ts) => json!(human_duration(now.duration_since(ts))),
                Err(_) => json!("<invalid>"),
            },
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

/// How Go's `fmt.Fprint` renders a decoded JSON value (what kubectl's JSONPath printer shows).
fn go_text(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(x) => x.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_text).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_text(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// One step of a simple JSONPath.
#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
    /// `[?(@.a.b=="x")]`: keep array elements whose field path equals the literal.
    Filter(Vec<String>, Value),
}

fn parse_jsonpath(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    let p = p.strip_prefix('$').unwrap_or(p);
    let mut steps = Vec::new();
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j > start {
                    steps.push(Step::Field(p[start..j].to_string()));
                }
                i = j;
            }
            b'[' => {
                let end = p[i..].find(']').map(|e| e + i)?;
                // A filter can contain ']' only inside quotes; find the closing ")]".
                let end = if p[i + 1..].starts_with("?(") {
                    p[i..].find(")]").map(|e| e + i + 1)?
                } else {
                    end
                };
                let inner = p[i + 1..end].trim();
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
                    let (lhs, rhs) = f.split_once("==")?;
                    let fields = lhs
                        .trim()
                        .strip_prefix('@')?
                        .split('.')
                        .filter(|x| !x.is_empty())
                        .map(String::from)
                        .collect();
                    let rhs = rhs.trim();
                    let lit = if let Some(q) = rhs
                        .strip_prefix('"')
                        .and_then(|r| r.strip_suffix('"'))
                        .or_else(|| rhs.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
                    {
                        Value::String(q.to_string())
                    } else {
                        serde_json::from_str(rhs).ok()?
                    };
                    steps.push(Step::Filter(fields, lit));
                } else if let Some(q) = inner
                    .strip_prefix('\'')
                    .and_then(|x| x.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
                {
                    steps.push(Step::Field(q.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().ok()?));
                }
                i = end + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// Every value a simple JSONPath (`.a.b`, `[n]`, `[*]`, `[?(@.k=="v")]`) selects.
pub fn jsonpath(obj: &Value, path: &str) -> Vec<Value> {
    let Some(steps) = parse_jsonpath(path) else {
        return vec![];
    };
    let mut cur = vec![obj.clone()];
    for step in &steps {
        let mut next = Vec::new();
        for v in &cur {
            match step {
                Step::Field(f) => {
                    if let Some(x) = v.get(f.as_str()) {
                        next.push(x.clone());
                    }
                }
                Step::Index(n) => {
                    if let Some(x) = v.get(*n) {
                        next.push(x.clone());
                    }
                }
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter().cloned()),
                    Value::Object(m) => next.extend(m.values().cloned()),
                    _ => {}
                },
                Step::Filter(fields, lit) => {
                    for e in arr(v) {
                        let mut x = e;
                        for f in fields {
                            x = &x[f.as_str()];
                        }
                        if x == lit {
                            next.push(e.clone());
                        }
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

fn jsonpath_first(obj: &Value, path: &str) -> Option<Value> {
    jsonpath(obj, path).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::api::registry::Registry;

    const KUBECTL_GET: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    fn now() -> Timestamp {
        "2025-01-10T12:00:00Z".parse().unwrap()
    }

    fn ago(secs: i64) -> String {
        (now() - SignedDuration::from_secs(secs)).to_string()
    }

    fn rt(group: &str, plural: &str) -> ResourceType {
        Registry::new(true)
            .all()
            .iter()
            .find(|t| t.group == group && t.plural == plural)
            .unwrap()
            .clone()
    }

    /// (uppercased headers without -o wide, all uppercased headers, first row cells)
    fn render(group: &str, plural: &str, obj: Value) -> (Vec<String>, Vec<String>, Vec<Value>) {
        let t = to_table(
            &rt(group, plural),
            &[obj],
            json!({"resourceVersion": "7"}),
            now(),
            IncludeObject::Metadata,
            "meta.k8s.io/v1",
        );
        let defs = t["columnDefinitions"].as_array().unwrap();
        let narrow = defs
            .iter()
            .filter(|d| d["priority"] == 0)
            .map(|d| d["name"].as_str().unwrap().to_uppercase())
            .collect();
        let wide = defs
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_uppercase())
            .collect();
        let cells = t["rows"][0]["cells"].as_array().unwrap().clone();
        assert_eq!(cells.len(), defs.len(), "{plural}: one cell per column");
        (narrow, wide, cells)
    }

    fn h(x: &str) -> Vec<String> {
        x.split('|').map(String::from).collect()
    }

    #[test]
    fn accept_headers() {
        assert!(wants_table(KUBECTL_GET));
        assert_eq!(table_version(KUBECTL_GET), "meta.k8s.io/v1");
        let beta_first = "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io";
        assert_eq!(table_version(beta_first), "meta.k8s.io/v1beta1");
        assert!(!wants_table("application/json"));
        assert!(!wants_table(
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
        ));
        assert!(!wants_table("application/json;as=Table;v=v2;g=meta.k8s.io"));
        assert_eq!(table_version("application/json"), "meta.k8s.io/v1");
        assert_eq!(IncludeObject::from_query(None), IncludeObject::Metadata);
        assert_eq!(
            IncludeObject::from_query(Some("Object")),
            IncludeObject::Object
        );
        assert_eq!(IncludeObject::from_query(Some("None")), IncludeObject::None);
    }

    #[test]
    fn human_durations() {
        let d = |s: i64| human_duration(SignedDuration::from_secs(s));
        assert_eq!(d(-5), "<invalid>");
        assert_eq!(d(-1), "0s");
        assert_eq!(d(0), "0s");
        assert_eq!(d(5), "5s");
        assert_eq!(d(90), "90s");
        assert_eq!(d(119), "119s");
        assert_eq!(d(120), "2m");
        assert_eq!(d(182), "3m2s");
        assert_eq!(d(599), "9m59s");
        assert_eq!(d(600), "10m");
        assert_eq!(d(45 * 60 + 30), "45m");
        assert_eq!(d(179 * 60), "179m");
        assert_eq!(d(3 * 3600), "3h");
        assert_eq!(d(3 * 3600 + 5 * 60), "3h5m");
        assert_eq!(d(8 * 3600), "8h");
        assert_eq!(d(26 * 3600), "26h");
        assert_eq!(d(48 * 3600), "2d");
        assert_eq!(d(3 * 86400 + 4 * 3600), "3d4h");
        assert_eq!(d(8 * 86400), "8d");
        assert_eq!(d(45 * 86400), "45d");
        assert_eq!(d(729 * 86400), "729d");
        assert_eq!(d(730 * 86400), "2y");
        assert_eq!(d(733 * 86400), "2y3d");
        assert_eq!(d(9 * 365 * 86400), "9y");
    }

    #[test]
    fn pods() {
        let running = json!({
            "metadata": {"name": "agent-0", "namespace": "w", "creationTimestamp": ago(300), "resourceVersion": "5"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "agent", "image": "a:1"}]},
            "status": {
                "phase": "Running", "podIP": "10.0.0.7",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "agent", "ready": true, "restartCount": 2,
                    "state": {"running": {"startedAt": ago(60)}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": ago(300)}}}]
            }
        });
        let (narrow, wide, cells) = render("", "pods", running.clone());
        assert_eq!(narrow, h("NAME|READY|STATUS|RESTARTS|AGE"));
        assert_eq!(
            wide,
            h("NAME|READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES")
        );
        assert_eq!(
            cells,
            vec![
                json!("agent-0"),
                json!("1/1"),
                json!("Running"),
                json!("2 (5m ago)"),
                json!("5m"),
                json!("10.0.0.7"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>")
            ]
        );

        let status_of = |pod: Value| render("", "pods", pod).2[2].clone();
        let mut creating = running.clone();
        creating["status"] = json!({"phase": "Pending", "containerStatuses": [
            {"name": "agent", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]});
        assert_eq!(status_of(creating.clone()), "ContainerCreating");
        assert_eq!(render("", "pods", creating).2[3], "0");

        let mut oom = running.clone();
        oom["status"] = json!({"phase": "Failed", "containerStatuses": [
            {"name": "agent", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]});
        assert_eq!(status_of(oom), "OOMKilled");

        let mut done = running.clone();
        done["status"] = json!({"phase": "Succeeded", "containerStatuses": [
            {"name": "agent", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]});
        let t = to_table(
            &rt("", "pods"),
            &[done.clone()],
            json!({}),
            now(),
            IncludeObject::Metadata,
            "meta.k8s.io/v1",
        );
        assert_eq!(t["rows"][0]["cells"][2], "Completed");
        assert_eq!(t["rows"][0]["cells"][1], "0/1");
        assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");

        let mut crash = running.clone();
        crash["status"]["containerStatuses"][0]["state"] =
            json!({"waiting": {"reason": "CrashLoopBackOff"}});
        crash["status"]["containerStatuses"][0]["ready"] = json!(false);
        assert_eq!(status_of(crash), "CrashLoopBackOff");

        let mut terminating = running.clone();
        terminating["metadata"]["deletionTimestamp"] = json!(ago(-30));
        assert_eq!(status_of(terminating), "Terminating");

        let mut evicted = running.clone();
        evicted["status"] = json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."});
        assert_eq!(status_of(evicted), "Evicted");

        let mut pending = running.clone();
        pending["spec"].as_object_mut().unwrap().remove("nodeName");
        pending["status"] = json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]});
        let (_, _, c) = render("", "pods", pending);
        assert_eq!(c[2], "Pending");
        assert_eq!(c[5], "<none>");
        assert_eq!(c[6], "<none>");

        let mut init = running.clone();
        init["spec"]["initContainers"] = json!([{"name": "setup", "image": "busybox"}]);
        init["status"] = json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "setup", "ready": false, "restartCount": 0, "state": {"running": {"startedAt": ago(5)}}}]});
        assert_eq!(status_of(init), "Init:0/1");
    }

    #[test]
    fn include_object_modes() {
        let pod = json!({"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "creationTimestamp": ago(5)}, "spec": {"containers": []}});
        let t = |inc| {
            to_table(
                &rt("", "pods"),
                std::slice::from_ref(&pod),
                json!({"resourceVersion": "9", "continue": "abc"}),
                now(),
                inc,
                "meta.k8s.io/v1beta1",
            )
        };
        let meta = t(IncludeObject::Metadata);
        assert_eq!(meta["kind"], "Table");
        assert_eq!(meta["apiVersion"], "meta.k8s.io/v1beta1");
        assert_eq!(
            meta["metadata"],
            json!({"resourceVersion": "9", "continue": "abc"})
        );
        assert_eq!(
            meta["rows"][0]["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1beta1",
                   "metadata": {"name": "p", "creationTimestamp": ago(5)}})
        );
        assert_eq!(t(IncludeObject::Object)["rows"][0]["object"], pod);
        assert!(t(IncludeObject::None)["rows"][0].get("object").is_none());
        let empty = to_table(
            &rt("", "pods"),
            &[],
            Value::Null,
            now(),
            IncludeObject::Metadata,
            "meta.k8s.io/v1",
        );
        assert_eq!(empty["rows"], json!([]));
        assert_eq!(empty["metadata"], json!({}));
        assert_eq!(empty["columnDefinitions"][0]["format"], "name");
    }

    #[test]
    fn jobs() {
        let job = json!({
            "metadata": {"name": "agent-run-x7k2p", "creationTimestamp": ago(200)},
            "spec": {"completions": 3, "parallelism": 1,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
                "template": {"spec": {"containers": [
                    {"name": "agent", "image": "ghcr.io/x/agent:1"},
                    {"name": "sidecar", "image": "envoy:1"}]}}},
            "status": {"startTime": ago(190), "succeeded": 1, "active": 1}
        });
        let (narrow, wide, cells) = render("batch", "jobs", job.clone());
        assert_eq!(narrow, h("NAME|STATUS|COMPLETIONS|DURATION|AGE"));
        assert_eq!(
            wide,
            h("NAME|STATUS|COMPLETIONS|DURATION|AGE|CONTAINERS|IMAGES|SELECTOR")
        );
        assert_eq!(
            cells,
            vec![
                json!("agent-run-x7k2p"),
                json!("Running"),
                json!("1/3"),
                json!("3m10s"),
                json!("3m20s"),
                json!("agent,sidecar"),
                json!("ghcr.io/x/agent:1,envoy:1"),
                json!("batch.kubernetes.io/controller-uid=u1")
            ]
        );
        let mut complete = job.clone();
        complete["status"] = json!({"startTime": ago(190), "completionTime": ago(100), "succeeded": 3,
            "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]});
        let c = render("batch", "jobs", complete).2;
        assert_eq!(
            (c[1].clone(), c[2].clone(), c[3].clone()),
            (json!("Complete"), json!("3/3"), json!("90s"))
        );
        let mut failed = job.clone();
        failed["status"]["conditions"] =
            json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]);
        assert_eq!(render("batch", "jobs", failed).2[1], "Failed");
        let mut suspended = job.clone();
        suspended["spec"]["suspend"] = json!(true);
        suspended["status"] = json!({"conditions": [{"type": "Suspended", "status": "True"}]});
        let c = render("batch", "jobs", suspended).2;
        assert_eq!(
            (c[1].clone(), c[3].clone()),
            (json!("Suspended"), json!(""))
        );
        let mut par = job;
        par["spec"].as_object_mut().unwrap().remove("completions");
        par["spec"]["parallelism"] = json!(4);
        assert_eq!(render("batch", "jobs", par).2[2], "1/1 of 4");
    }

    #[test]
    fn workloads() {
        let deploy = json!({
            "metadata": {"name": "web", "creationTimestamp": ago(86400 * 3)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        let (narrow, wide, cells) = render("apps", "deployments", deploy.clone());
        assert_eq!(narrow, h("NAME|READY|UP-TO-DATE|AVAILABLE|AGE"));
        assert_eq!(wide.len(), 8);
        assert_eq!(
            cells,
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("3d"),
                json!("web"),
                json!("nginx:1.27"),
                json!("app=web,tier in (a,b)")
            ]
        );
        let (narrow, _, cells) = render("apps", "replicasets", deploy);
        assert_eq!(narrow, h("NAME|DESIRED|CURRENT|READY|AGE"));
        assert_eq!(cells[1..5], [json!(3), json!(3), json!(2), json!("3d")]);
    }

    #[test]
    fn nodes_and_namespaces() {
        let node = json!({
            "metadata": {"name": "sim-node-1", "creationTimestamp": ago(3600),
                "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "true"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "sim-node-1"}],
                "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian", "kernelVersion": "6.1", "containerRuntimeVersion": "containerd://1.7"}}
        });
        let (narrow, wide, cells) = render("", "nodes", node);
        assert_eq!(narrow, h("NAME|STATUS|ROLES|AGE|VERSION"));
        assert_eq!(
            wide,
            h(
                "NAME|STATUS|ROLES|AGE|VERSION|INTERNAL-IP|EXTERNAL-IP|OS-IMAGE|KERNEL-VERSION|CONTAINER-RUNTIME"
            )
        );
        assert_eq!(
            cells,
            vec![
                json!("sim-node-1"),
                json!("Ready,SchedulingDisabled"),
                json!("control-plane,worker"),
                json!("60m"),
                json!("v1.32.0"),
                json!("172.18.0.2"),
                json!("<none>"),
                json!("Debian"),
                json!("6.1"),
                json!("containerd://1.7")
            ]
        );
        let ns = json!({"metadata": {"name": "workers", "creationTimestamp": ago(45)}, "status": {"phase": "Active"}});
        let (narrow, _, cells) = render("", "namespaces", ns);
        assert_eq!(narrow, h("NAME|STATUS|AGE"));
        assert_eq!(cells, vec![json!("workers"), json!("Active"), json!("45s")]);
    }

    #[test]
    fn events() {
        let ev = json!({
            "metadata": {"name": "agent-0.17f", "creationTimestamp": ago(120)},
            "involvedObject": {"kind": "Pod", "name": "agent-0", "namespace": "w", "fieldPath": "spec.containers{agent}"},
            "reason": "BackOff", "type": "Warning",
            "message": "Back-off restarting failed container agent in pod agent-0\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": ago(120), "lastTimestamp": ago(30), "count": 4
        });
        let (narrow, wide, cells) = render("", "events", ev);
        assert_eq!(narrow, h("LAST SEEN|TYPE|REASON|OBJECT|MESSAGE"));
        assert_eq!(
            wide,
            h("LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME")
        );
        assert_eq!(
            cells,
            vec![
                json!("30s"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/agent-0"),
                json!("spec.containers{agent}"),
                json!("kubelet, node-1"),
                json!("Back-off restarting failed container agent in pod agent-0"),
                json!("2m"),
                json!(4),
                json!("agent-0.17f")
            ]
        );
        let new_ev = json!({
            "metadata": {"name": "e2", "creationTimestamp": ago(10)},
            "regarding": {"kind": "Job", "name": "j1"}, "reason": "SuccessfulCreate", "type": "Normal",
            "note": "Created pod: j1-abcde", "eventTime": ago(10), "reportingController": "job-controller"
        });
        let (narrow, _, cells) = render("events.k8s.io", "events", new_ev);
        assert_eq!(narrow, h("LAST SEEN|TYPE|REASON|OBJECT|MESSAGE"));
        assert_eq!(cells[0], "10s");
        assert_eq!(cells[3], "job/j1");
        assert_eq!(cells[5], "job-controller");
        assert_eq!(cells[6], "Created pod: j1-abcde");
        assert_eq!(cells[8], 1);
    }

    #[test]
    fn core_config_kinds() {
        let svc = json!({"metadata": {"name": "rabbitmq", "creationTimestamp": ago(600)},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                "selector": {"app": "rabbitmq"},
                "ports": [{"port": 5672, "protocol": "TCP"}, {"port": 15672}]}});
        let (narrow, wide, cells) = render("", "services", svc);
        assert_eq!(narrow, h("NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE"));
        assert_eq!(wide.last().unwrap(), "SELECTOR");
        assert_eq!(
            cells,
            vec![
                json!("rabbitmq"),
                json!("ClusterIP"),
                json!("10.96.0.10"),
                json!("<none>"),
                json!("5672/TCP,15672/TCP"),
                json!("10m"),
                json!("app=rabbitmq")
            ]
        );
        let lb = json!({"metadata": {"name": "lb", "creationTimestamp": ago(1)},
            "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.11"], "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}});
        let c = render("", "services", lb).2;
        assert_eq!(
            (c[3].clone(), c[4].clone()),
            (json!("<pending>"), json!("80:30080/TCP"))
        );

        let secret = json!({"metadata": {"name": "rabbitmq-auth", "creationTimestamp": ago(30)},
            "type": "Opaque", "data": {"host": "YQ==", "password": "Yg=="}});
        let (narrow, _, cells) = render("", "secrets", secret);
        assert_eq!(narrow, h("NAME|TYPE|DATA|AGE"));
        assert_eq!(
            cells,
            vec![
                json!("rabbitmq-auth"),
                json!("Opaque"),
                json!(2),
                json!("30s")
            ]
        );

        let cm = json!({"metadata": {"name": "kube-root-ca.crt", "creationTimestamp": ago(30)},
            "data": {"ca.crt": "x"}, "binaryData": {"b": "AA=="}});
        let (narrow, _, cells) = render("", "configmaps", cm);
        assert_eq!(narrow, h("NAME|DATA|AGE"));
        assert_eq!(cells[1], 2);

        let sa = json!({"metadata": {"name": "default", "creationTimestamp": ago(30)}});
        let (narrow, _, cells) = render("", "serviceaccounts", sa);
        assert_eq!(narrow, h("NAME|SECRETS|AGE"));
        assert_eq!(cells, vec![json!("default"), json!(0), json!("30s")]);

        let pvc = json!({"metadata": {"name": "data", "creationTimestamp": ago(30)},
            "spec": {"volumeName": "pv-1", "storageClassName": "standard", "volumeMode": "Filesystem",
                "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Bound", "accessModes": ["ReadWriteMany", "ReadWriteOnce"], "capacity": {"storage": "1Gi"}}});
        let (narrow, wide, cells) = render("", "persistentvolumeclaims", pvc);
        assert_eq!(
            narrow,
            h("NAME|STATUS|VOLUME|CAPACITY|ACCESS MODES|STORAGECLASS|VOLUMEATTRIBUTESCLASS|AGE")
        );
        assert_eq!(wide.last().unwrap(), "VOLUMEMODE");
        assert_eq!(
            cells,
            vec![
                json!("data"),
                json!("Bound"),
                json!("pv-1"),
                json!("1Gi"),
                json!("RWO,RWX"),
                json!("standard"),
                json!("<unset>"),
                json!("30s"),
                json!("Filesystem")
            ]
        );
        let pending = json!({"metadata": {"name": "d2", "creationTimestamp": ago(3)}, "spec": {}, "status": {"phase": "Pending"}});
        let c = render("", "persistentvolumeclaims", pending).2;
        assert_eq!(
            c[1..7],
            [
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!("<unset>"),
                json!("<unset>")
            ]
        );

        let lr =
            json!({"metadata": {"name": "limits", "creationTimestamp": "2025-01-10T11:00:00Z"}});
        let (narrow, _, cells) = render("", "limitranges", lr);
        assert_eq!(narrow, h("NAME|CREATED AT"));
        assert_eq!(cells, vec![json!("limits"), json!("2025-01-10T11:00:00Z")]);
    }

    #[test]
    fn policy_network_rbac_misc() {
        let pdb = json!({"metadata": {"name": "agents", "creationTimestamp": ago(70)},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "agent"}}},
            "status": {"disruptionsAllowed": 0}});
        let (narrow, _, cells) = render("policy", "poddisruptionbudgets", pdb);
        assert_eq!(
            narrow,
            h("NAME|MIN AVAILABLE|MAX UNAVAILABLE|ALLOWED DISRUPTIONS|AGE")
        );
        assert_eq!(
            cells,
            vec![
                json!("agents"),
                json!("1"),
                json!("N/A"),
                json!(0),
                json!("70s")
            ]
        );
        let pct = json!({"metadata": {"name": "p", "creationTimestamp": ago(1)},
            "spec": {"maxUnavailable": "10%"}, "status": {"disruptionsAllowed": 1}});
        assert_eq!(
            render("policy", "poddisruptionbudgets", pct).2[1..3],
            [json!("N/A"), json!("10%")]
        );

        let np = json!({"metadata": {"name": "deny", "creationTimestamp": ago(10)}, "spec": {"podSelector": {}}});
        let (narrow, _, cells) = render("networking.k8s.io", "networkpolicies", np);
        assert_eq!(narrow, h("NAME|POD-SELECTOR|AGE"));
        assert_eq!(cells, vec![json!("deny"), json!("<none>"), json!("10s")]);

        let role = json!({"metadata": {"name": "reader", "creationTimestamp": "2025-01-01T00:00:00Z"}, "rules": []});
        let (narrow, _, cells) = render("rbac.authorization.k8s.io", "roles", role);
        assert_eq!(narrow, h("NAME|CREATED AT"));
        assert_eq!(cells[1], "2025-01-01T00:00:00Z");

        let rb = json!({"metadata": {"name": "read", "creationTimestamp": ago(10)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "agent", "namespace": "w"}, {"kind": "User", "name": "alice"}]});
        let (narrow, wide, cells) = render("rbac.authorization.k8s.io", "rolebindings", rb);
        assert_eq!(narrow, h("NAME|ROLE|AGE"));
        assert_eq!(wide, h("NAME|ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS"));
        assert_eq!(
            cells,
            vec![
                json!("read"),
                json!("Role/reader"),
                json!("10s"),
                json!("alice"),
                json!(""),
                json!("w/agent")
            ]
        );

        let crd = json!({"metadata": {"name": "scaledjobs.keda.sh", "creationTimestamp": "2025-01-02T03:04:05Z"}});
        let (narrow, _, cells) = render("apiextensions.k8s.io", "customresourcedefinitions", crd);
        assert_eq!(narrow, h("NAME|CREATED AT"));
        assert_eq!(cells[1], "2025-01-02T03:04:05Z");

        let lease = json!({"metadata": {"name": "fleet-leader", "creationTimestamp": ago(10)},
            "spec": {"holderIdentity": "pod-a"}});
        let (narrow, _, cells) = render("coordination.k8s.io", "leases", lease);
        assert_eq!(narrow, h("NAME|HOLDER|AGE"));
        assert_eq!(
            cells,
            vec![json!("fleet-leader"), json!("pod-a"), json!("10s")]
        );
    }

    #[test]
    fn keda_kinds() {
        let sj = json!({"metadata": {"name": "agents", "creationTimestamp": "2025-01-10T11:55:00Z"},
            "spec": {"minReplicaCount": 0, "maxReplicaCount": 20,
                "triggers": [{"type": "rabbitmq", "authenticationRef": {"name": "rabbitmq-auth"}}]},
            "status": {"conditions": [
                {"type": "Ready", "status": "True"}, {"type": "Active", "status": "False"},
                {"type": "Paused", "status": "Unknown"}],
                "triggersTypes": "rabbitmq", "authenticationsTypes": "rabbitmq-auth"}});
        let (narrow, _, cells) = render("keda.sh", "scaledjobs", sj);
        assert_eq!(
            narrow,
            h("NAME|MIN|MAX|READY|ACTIVE|PAUSED|TRIGGERS|AUTHENTICATIONS|AGE")
        );
        assert_eq!(
            cells,
            vec![
                json!("agents"),
                json!(0),
                json!(20),
                json!("True"),
                json!("False"),
                json!("Unknown"),
                json!("rabbitmq"),
                json!("rabbitmq-auth"),
                json!("5m")
            ]
        );
        let fresh = json!({"metadata": {"name": "new", "creationTimestamp": ago(1)}, "spec": {}});
        let c = render("keda.sh", "scaledjobs", fresh).2;
        assert_eq!(
            c[1..8],
            [
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ]
        );

        let so = json!({"metadata": {"name": "web", "creationTimestamp": ago(1)},
            "spec": {"scaleTargetRef": {"name": "web"}, "minReplicaCount": 1, "maxReplicaCount": 5},
            "status": {"scaleTargetKind": "apps/v1.Deployment"}});
        let (narrow, _, cells) = render("keda.sh", "scaledobjects", so);
        assert_eq!(
            narrow,
            h(
                "NAME|SCALETARGETKIND|SCALETARGETNAME|MIN|MAX|READY|ACTIVE|FALLBACK|PAUSED|TRIGGERS|AUTHENTICATIONS|AGE"
            )
        );
        assert_eq!(
            cells[1..5],
            [
                json!("apps/v1.Deployment"),
                json!("web"),
                json!(1),
                json!(5)
            ]
        );

        let ta = json!({"metadata": {"name": "rabbitmq-auth", "creationTimestamp": ago(1)},
            "spec": {"secretTargetRef": [{"parameter": "host", "name": "rabbitmq", "key": "uri"},
                                         {"parameter": "x", "name": "other", "key": "k"}]}});
        let (narrow, _, cells) = render("keda.sh", "triggerauthentications", ta);
        assert_eq!(narrow, h("NAME|PODIDENTITY|SECRET|ENV|VAULTADDRESS|AGE"));
        assert_eq!(
            cells[1..5],
            [Value::Null, json!("rabbitmq"), Value::Null, Value::Null]
        );
    }

    #[test]
    fn crd_columns_and_default() {
        let mut widget = rt("", "pods");
        widget.group = "example.com".into();
        widget.plural = "widgets".into();
        widget.kind = "Widget".into();
        widget.builtin = false;
        widget.from_crd = true;
        let obj = json!({"metadata": {"name": "w1", "creationTimestamp": ago(30)},
            "spec": {"size": 3, "tags": ["a", "b"], "ok": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let t = to_table(
            &widget,
            std::slice::from_ref(&obj),
            json!({}),
            now(),
            IncludeObject::None,
            "meta.k8s.io/v1",
        );
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["Name", "Age"]);
        assert_eq!(t["columnDefinitions"][1]["type"], "date");
        assert_eq!(t["rows"][0]["cells"], json!(["w1", "30s"]));

        let cols = [
            json!({"name": "Size", "type": "integer", "jsonPath": ".spec.size"}),
            json!({"name": "Tags", "type": "string", "jsonPath": ".spec.tags", "priority": 1}),
            json!({"name": "First", "type": "string", "jsonPath": ".spec.tags[*]"}),
            json!({"name": "OK", "type": "boolean", "jsonPath": ".spec.ok"}),
            json!({"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}),
            json!({"name": "Missing", "type": "string", "jsonPath": ".spec.nothing"}),
        ];
        let t = to_table_with_columns(
            &widget,
            &cols,
            &[obj],
            json!({}),
            now(),
            IncludeObject::None,
            "meta.k8s.io/v1",
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["w1", 3, "[a b]", "a", true, "True", null])
        );
        assert_eq!(t["columnDefinitions"][2]["priority"], 1);
    }

    #[test]
    fn jsonpath_subset() {
        let v = json!({"a": {"b": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]}, "m": {"dot.key": 5}});
        assert_eq!(jsonpath(&v, ".a.b[1].v"), vec![json!(2)]);
        assert_eq!(jsonpath(&v, "{.a.b[*].k}"), vec![json!("x"), json!("y")]);
        assert_eq!(jsonpath(&v, ".a.b[?(@.k=='y')].v"), vec![json!(2)]);
        assert_eq!(jsonpath(&v, ".a.b[?(@.v==1)].k"), vec![json!("x")]);
        assert_eq!(jsonpath(&v, ".m['dot.key']"), vec![json!(5)]);
        assert!(jsonpath(&v, ".a.c").is_empty());
        assert!(jsonpath(&v, "a b").is_empty());
    }

    #[test]
    fn label_selectors() {
        assert_eq!(format_label_selector(&Value::Null), "<none>");
        assert_eq!(format_label_selector(&json!({})), "<none>");
        assert_eq!(
            format_label_selector(&json!({"matchLabels": {"b": "2", "a": "1"},
                "matchExpressions": [{"key": "c", "operator": "Exists"}, {"key": "d", "operator": "DoesNotExist"},
                                     {"key": "e", "operator": "NotIn", "values": ["z", "y"]}]})),
            "a=1,b=2,c,!d,e notin (y,z)"
        );
    }
}
