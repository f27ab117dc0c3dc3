//! Pod templates and the workloads a fleet is made of: KEDA ScaledJobs (with their triggers),
//! Jobs and Deployments.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;
use crate::fleet::selector::Selector;

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
    pub selector: Selector,
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
            selector: Selector::from_json_field(spec.get("selector")),
            template: PodTemplate::from_json(spec.get("template").unwrap_or(&Value::Null)),
            created: meta.created,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            labels: meta.labels,
        })
    }
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
