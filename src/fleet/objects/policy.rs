//! The policies around a fleet: PodDisruptionBudgets and their status, NetworkPolicies and the
//! ports they admit.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;
use crate::fleet::selector::Selector;

/// A policy/v1 PodDisruptionBudget and its status (SPEC-k8s.md §4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PdbStatus {
    pub name: String,
    pub namespace: String,
    pub selector: Selector,
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
            selector: Selector::from_json_field(spec.get("selector")),
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
    pub pod_selector: Selector,
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
            pod_selector: Selector::from_json_field(spec.get("podSelector")),
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
