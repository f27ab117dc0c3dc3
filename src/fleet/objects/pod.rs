//! Pods as the console sees them: phase, restarts, the last termination, disruption
//! conditions, resources and the agent's completion index.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;

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
    /// The containers' CPU limits summed, in millicores (None when a container has none).
    pub cpu_limit_millis: Option<u64>,
    pub memory_request_bytes: Option<u64>,
    /// The containers' CPU requests summed, in millicores (None when a container has none).
    pub cpu_request_millis: Option<u64>,
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
        let mut cpu_limit_millis = Some(0u64);
        let mut cpu_request_millis = Some(0u64);
        for c in at(v, &["spec", "containers"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match at(c, &["resources", "limits", "memory"])
                .and_then(Value::as_str)
                .and_then(parse_quantity_bytes)
            {
                Some(b) => memory_limit_bytes = Some(memory_limit_bytes.unwrap_or(0) + b),
                None => containers_without_memory_limit += 1,
            }
            let cpu = at(c, &["resources", "limits", "cpu"])
                .and_then(Value::as_str)
                .and_then(parse_cpu_millis);
            cpu_limit_millis = cpu_limit_millis.zip(cpu).map(|(a, b)| a + b);
            let cpu_request = at(c, &["resources", "requests", "cpu"])
                .and_then(Value::as_str)
                .and_then(parse_cpu_millis);
            cpu_request_millis = cpu_request_millis.zip(cpu_request).map(|(a, b)| a + b);
            if let Some(b) = at(c, &["resources", "requests", "memory"])
                .and_then(Value::as_str)
                .and_then(parse_quantity_bytes)
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
            cpu_limit_millis: cpu_limit_millis.filter(|m| *m > 0),
            cpu_request_millis: cpu_request_millis.filter(|m| *m > 0),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::model::{DisruptionKind, PodCounts, disruption_keys, disruption_message};
    use serde_json::json;

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
}
