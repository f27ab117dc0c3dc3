//! The disruption controller: every PodDisruptionBudget's status, as SPEC-k8s.md §4 gives it.
//!
//! - `expectedPods` / `desiredHealthy`: an integer `minAvailable` counts the matching pods;
//!   `maxUnavailable` and a percentage `minAvailable` sum the scale of the pods' controllers
//!   (ReplicaSet, or its Deployment). A Job has no scale subresource: such a PDB fails safe
//!   (`SyncFailed`, `disruptionsAllowed: 0`, a `CalculateExpectedPodCountFailed` event).
//! - `currentHealthy`: Ready pods with no deletionTimestamp that are not in `disruptedPods`
//!   (entries the Eviction API wrote, dropped after two minutes).
//! - `disruptionsAllowed = max(0, currentHealthy − desiredHealthy)`, 0 with no expected pods.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::events::{EventType, reference};
use super::{Ctx, cache, condition, resource_of, same_status};
use crate::fleet::objects::Labels;
use crate::fleet::selector::Selector;

/// How long an eviction's entry in `disruptedPods` keeps the pod out of `currentHealthy`.
pub const DELETION_TIMEOUT: SignedDuration = SignedDuration::from_mins(2);

/// A pod as the budget sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodView {
    pub name: String,
    pub labels: Labels,
    pub ready: bool,
    pub deleting: bool,
    /// The controller ownerReference: (apiVersion, kind, name, uid).
    pub controller: Option<(String, String, String, String)>,
}

impl PodView {
    /// The view of a pod (from the shared pod watch, typed: no conversion to JSON).
    pub fn of_pod(pod: &k8s_openapi::api::core::v1::Pod) -> Self {
        let m = &pod.metadata;
        PodView {
            name: m.name.clone().unwrap_or_default(),
            labels: m
                .labels
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ready: pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True"),
            deleting: m.deletion_timestamp.is_some(),
            controller: m
                .owner_references
                .iter()
                .flatten()
                .find(|r| r.controller == Some(true))
                .map(|r| {
                    (
                        r.api_version.clone(),
                        r.kind.clone(),
                        r.name.clone(),
                        r.uid.clone(),
                    )
                }),
        }
    }
}

/// The scale of a pod's controller, or why there is none.
pub type ScaleOf<'a> = dyn Fn(&(String, String, String, String)) -> Result<i64, String> + 'a;

/// An intstr value: a number, or a percentage of `total` rounded up.
fn scaled(v: &Value, total: i64) -> Result<i64, String> {
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(|| format!("invalid value {n}")),
        Value::String(s) => {
            let p: f64 = s
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("invalid value for IntOrString: invalid type: string is not a percentage: {s}"))?;
            Ok((p * total as f64 / 100.0).ceil() as i64)
        }
        _ => Err("invalid value for IntOrString".into()),
    }
}

fn expected_scale(pods: &[&PodView], scale_of: &ScaleOf<'_>) -> Result<i64, String> {
    let mut controllers: BTreeMap<String, i64> = BTreeMap::new();
    for p in pods {
        // Unmanaged pods (no controller) are left out, as the real controller does.
        let Some(c) = &p.controller else { continue };
        if controllers.contains_key(&c.3) {
            continue;
        }
        controllers.insert(c.3.clone(), scale_of(c)?);
    }
    Ok(controllers.values().sum())
}

/// The status fields the controller computes (the rest of the status is kept).
#[derive(Debug, Clone, PartialEq)]
pub enum Computed {
    Ok {
        expected: i64,
        desired: i64,
        healthy: i64,
        allowed: i64,
        disrupted: BTreeMap<String, String>,
    },
    /// `failSafe`: nothing may be disrupted.
    SyncFailed(String),
}

/// The budget's status from its spec, the pods of its namespace and the time.
pub fn compute<P: std::borrow::Borrow<PodView>>(
    pdb: &Value,
    pods: &[P],
    scale_of: &ScaleOf<'_>,
    now: Timestamp,
) -> Computed {
    // An empty selector matches every pod in policy/v1 (and, here, an absent one too); one
    // Kubernetes cannot read matches none.
    let selector = Selector::from_json_field(pdb["spec"].get("selector"));
    let matching: Vec<&PodView> = pods
        .iter()
        .map(|p| p.borrow())
        .filter(|p| selector.matches(&p.labels))
        .collect();
    let spec = &pdb["spec"];
    let (expected, desired) = if let Some(mu) = spec.get("maxUnavailable").filter(|v| !v.is_null())
    {
        let expected = match expected_scale(&matching, scale_of) {
            Ok(e) => e,
            Err(e) => return Computed::SyncFailed(e),
        };
        match scaled(mu, expected) {
            Ok(mu) => (expected, (expected - mu).max(0)),
            Err(e) => return Computed::SyncFailed(e),
        }
    } else if let Some(ma) = spec.get("minAvailable").filter(|v| !v.is_null()) {
        if let Some(n) = ma.as_i64() {
            (matching.len() as i64, n)
        } else {
            let expected = match expected_scale(&matching, scale_of) {
                Ok(e) => e,
                Err(e) => return Computed::SyncFailed(e),
            };
            match scaled(ma, expected) {
                Ok(d) => (expected, d),
                Err(e) => return Computed::SyncFailed(e),
            }
        }
    } else {
        (matching.len() as i64, 0)
    };
    // Evictions recorded in the last two minutes, for pods still here and not yet terminating.
    let disrupted: BTreeMap<String, String> = pdb["status"]["disruptedPods"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, at)| {
            let fresh = at
                .as_str()
                .and_then(|t| t.parse::<Timestamp>().ok())
                .is_some_and(|t| t + DELETION_TIMEOUT > now);
            fresh && matching.iter().any(|p| &p.name == *name && !p.deleting)
        })
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let healthy = matching
        .iter()
        .filter(|p| p.ready && !p.deleting && !disrupted.contains_key(&p.name))
        .count() as i64;
    let allowed = if expected <= 0 {
        0
    } else {
        (healthy - desired).max(0)
    };
    Computed::Ok {
        expected,
        desired,
        healthy,
        allowed,
        disrupted,
    }
}

/// The `DisruptionAllowed` condition, keeping its transition time while its status holds.
fn allowed_condition(
    old: &Value,
    status: &str,
    reason: &str,
    message: &str,
    generation: i64,
    now: Timestamp,
) -> Value {
    let mut c = condition(
        &old["conditions"],
        "DisruptionAllowed",
        status,
        reason,
        message,
        now,
    );
    c["observedGeneration"] = json!(generation);
    c
}

/// The new status of `pdb` (None when it would not change).
pub fn new_status(pdb: &Value, computed: &Computed, now: Timestamp) -> Option<Value> {
    let old = &pdb["status"];
    let generation = pdb["metadata"]["generation"].as_i64().unwrap_or(1);
    let status = match computed {
        Computed::Ok {
            expected,
            desired,
            healthy,
            allowed,
            disrupted,
        } => {
            let (s, reason) = if *allowed > 0 {
                ("True", "SufficientPods")
            } else {
                ("False", "InsufficientPods")
            };
            json!({
                "observedGeneration": generation,
                "disruptedPods": disrupted,
                "disruptionsAllowed": allowed,
                "currentHealthy": healthy,
                "desiredHealthy": desired,
                "expectedPods": expected,
                "conditions": [allowed_condition(old, s, reason, "", generation, now)],
            })
        }
        Computed::SyncFailed(message) => {
            let observed = old["observedGeneration"].as_i64().unwrap_or(0);
            let mut s = if old.is_object() {
                old.clone()
            } else {
                json!({})
            };
            s["disruptionsAllowed"] = json!(0);
            for k in ["currentHealthy", "desiredHealthy", "expectedPods"] {
                if s.get(k).is_none() {
                    s[k] = json!(0);
                }
            }
            s["conditions"] = json!([allowed_condition(
                old,
                "False",
                "SyncFailed",
                message,
                observed,
                now
            )]);
            s
        }
    };
    // An empty `disruptedPods` reads like an absent one.
    let normal = |v: &Value| {
        let mut v = v.clone();
        if v["disruptedPods"].as_object().is_some_and(|m| m.is_empty()) {
            v.as_object_mut().map(|m| m.remove("disruptedPods"));
        }
        v
    };
    (!same_status(&normal(old), &normal(&status))).then_some(status)
}

pub fn spawn(ctx: &Ctx) -> Vec<JoinHandle<()>> {
    let changed = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    let mut store = |v: &str, k: &str| {
        let ar = resource_of(v, k)?;
        let (s, t) = cache(ctx, &ar, changed.clone());
        tasks.push(t);
        Some(s)
    };
    let (Some(pdbs), Some(rss), Some(deps)) = (
        store("policy/v1", "PodDisruptionBudget"),
        store("apps/v1", "ReplicaSet"),
        store("apps/v1", "Deployment"),
    ) else {
        return tasks;
    };
    ctx.pods.notify_on_change(changed.clone());
    let c = ctx.clone();
    let events = ctx.recorder("controllermanager");
    tasks.push(ctx.spawn(async move {
        let mut reported: HashMap<String, String> = HashMap::new();
        // uid → (resourceVersion, namespace, view)
        let mut views: HashMap<String, (String, String, PodView)> = HashMap::new();
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(5), changed.notified()).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let started = std::time::Instant::now();
            let now = Timestamp::now();
            let budgets = pdbs.state();
            if budgets.is_empty() {
                continue;
            }
            // Only pods in a namespace with a budget are looked at.
            let namespaces: std::collections::HashSet<String> = budgets
                .iter()
                .map(|b| b.metadata.namespace.clone().unwrap_or_default())
                .collect();
            let by_uid =
                |s: &kube::runtime::reflector::Store<DynamicObject>| -> HashMap<String, Value> {
                    s.state()
                        .iter()
                        .filter_map(|o| {
                            Some((
                                o.metadata.uid.clone()?,
                                serde_json::to_value(o.as_ref()).ok()?,
                            ))
                        })
                        .collect()
                };
            let (rs_map, dep_map) = (by_uid(&rss), by_uid(&deps));
            let scale_of = |c: &(String, String, String, String)| -> Result<i64, String> {
                match (c.0.as_str(), c.1.as_str()) {
                    ("apps/v1", "ReplicaSet") => {
                        let rs = rs_map
                            .get(&c.3)
                            .ok_or_else(|| format!("replicasets.apps \"{}\" not found", c.2))?;
                        let owner = rs["metadata"]["ownerReferences"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|r| r["controller"] == true && r["kind"] == "Deployment");
                        match owner.and_then(|o| dep_map.get(o["uid"].as_str()?)) {
                            Some(d) => Ok(d["spec"]["replicas"].as_i64().unwrap_or(1)),
                            None => Ok(rs["spec"]["replicas"].as_i64().unwrap_or(1)),
                        }
                    }
                    ("apps/v1", "Deployment") => dep_map
                        .get(&c.3)
                        .map(|d| d["spec"]["replicas"].as_i64().unwrap_or(1))
                        .ok_or_else(|| format!("deployments.apps \"{}\" not found", c.2)),
                    (api_version, kind) => {
                        let group = api_version.split_once('/').map_or("", |(g, _)| g);
                        let plural = resource_of(api_version, kind)
                            .map(|r| r.plural)
                            .unwrap_or_else(|| format!("{}s", kind.to_lowercase()));
                        Err(if group.is_empty() {
                            format!("{plural} does not implement the scale subresource")
                        } else {
                            format!("{plural}.{group} does not implement the scale subresource")
                        })
                    }
                }
            };
            // Views of the pods in namespaces with a budget, made again only for pods that
            // changed since the last pass (by resourceVersion).
            let pods = c.pods.state();
            let mut seen: HashSet<&str> = HashSet::with_capacity(pods.len());
            for p in pods
                .iter()
                .filter(|p| namespaces.contains(p.metadata.namespace.as_deref().unwrap_or("")))
            {
                let uid = p.metadata.uid.as_deref().unwrap_or_default();
                let rv = p.metadata.resource_version.as_deref().unwrap_or_default();
                seen.insert(uid);
                if views.get(uid).is_none_or(|(r, _, _)| r != rv) {
                    views.insert(
                        uid.to_string(),
                        (
                            rv.to_string(),
                            p.metadata.namespace.clone().unwrap_or_default(),
                            PodView::of_pod(p),
                        ),
                    );
                }
            }
            views.retain(|uid, _| seen.contains(uid.as_str()));
            drop(seen);
            for pdb in budgets {
                let Ok(v) = serde_json::to_value(pdb.as_ref()) else {
                    continue;
                };
                let ns = pdb.metadata.namespace.clone().unwrap_or_default();
                let name = pdb.metadata.name.clone().unwrap_or_default();
                let in_ns: Vec<&PodView> = views
                    .values()
                    .filter(|(_, n, _)| *n == ns)
                    .map(|(_, _, p)| p)
                    .collect();
                let computed = compute(&v, &in_ns, &scale_of, now);
                let key = format!("{ns}/{name}");
                if let Computed::SyncFailed(msg) = &computed {
                    if reported.get(&key) != Some(msg) {
                        reported.insert(key.clone(), msg.clone());
                        if let Ok(typed) = serde_json::from_value::<PodDisruptionBudget>(v.clone())
                        {
                            events
                                .record(
                                    &reference(&typed),
                                    EventType::Warning,
                                    "CalculateExpectedPodCountFailed",
                                    &format!(
                                        "Failed to calculate the number of expected pods: {msg}"
                                    ),
                                )
                                .await;
                        }
                    }
                } else {
                    reported.remove(&key);
                }
                let Some(status) = new_status(&v, &computed, now) else {
                    continue;
                };
                let api: Api<PodDisruptionBudget> = Api::namespaced(c.client.clone(), &ns);
                let patch = json!({"metadata": {"resourceVersion": pdb.metadata.resource_version},
                                   "status": status});
                if let Err(e) = api
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    // A conflict (the Eviction API wrote meanwhile) is retried next round.
                    tracing::debug!(error = %e, pdb = %name, "pdb_status_retry");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            super::rest_after(started.elapsed()).await;
        }
    }));
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn pod(name: &str, ready: bool, owner: Option<(&str, &str)>) -> PodView {
        PodView {
            name: name.into(),
            labels: Labels::from([("app".into(), "ai-agent".into())]),
            ready,
            deleting: false,
            controller: owner.map(|(k, uid)| {
                let v = if k == "Job" { "batch/v1" } else { "apps/v1" };
                (v.into(), k.into(), format!("{k}-x"), uid.into())
            }),
        }
    }

    fn pdb(spec: Value) -> Value {
        let mut spec = spec;
        spec["selector"] = json!({"matchLabels": {"app": "ai-agent"}});
        json!({"metadata": {"name": "agent-pdb", "generation": 2}, "spec": spec, "status": {}})
    }

    fn no_scale(c: &(String, String, String, String)) -> Result<i64, String> {
        match c.1.as_str() {
            "Job" => Err("jobs.batch does not implement the scale subresource".into()),
            _ => Ok(10),
        }
    }

    #[test]
    fn integer_min_available_counts_matching_pods() {
        let pods = [
            pod("a", true, Some(("Job", "j"))),
            pod("b", true, Some(("Job", "j"))),
            pod("c", false, None),
        ];
        let c = compute(&pdb(json!({"minAvailable": 1})), &pods, &no_scale, t(0));
        assert_eq!(
            c,
            Computed::Ok {
                expected: 3,
                desired: 1,
                healthy: 2,
                allowed: 1,
                disrupted: BTreeMap::new()
            }
        );
        let s = new_status(&pdb(json!({"minAvailable": 1})), &c, t(0)).unwrap();
        assert_eq!(s["conditions"][0]["reason"], "SufficientPods");
        assert_eq!(s["observedGeneration"], 2);
    }

    #[test]
    fn job_pods_under_max_unavailable_fail_safe() {
        let pods = [pod("a", true, Some(("Job", "j")))];
        for spec in [
            json!({"maxUnavailable": 1}),
            json!({"maxUnavailable": "10%"}),
            json!({"minAvailable": "50%"}),
        ] {
            let c = compute(&pdb(spec.clone()), &pods, &no_scale, t(0));
            assert_eq!(
                c,
                Computed::SyncFailed("jobs.batch does not implement the scale subresource".into()),
                "{spec}"
            );
            let s = new_status(&pdb(spec), &c, t(0)).unwrap();
            assert_eq!(s["disruptionsAllowed"], 0);
            assert_eq!(s["conditions"][0]["status"], "False");
            assert_eq!(s["conditions"][0]["reason"], "SyncFailed");
        }
    }

    #[test]
    fn max_unavailable_percent_rounds_up_over_the_controller_scale() {
        // SPEC §4's table: 10% of 1..10 is 1, of 11..20 is 2, of 25 is 3.
        for (scale, mu) in [(1, 1), (10, 1), (11, 2), (20, 2), (25, 3)] {
            let pods: Vec<PodView> = (0..scale)
                .map(|i| pod(&format!("p{i}"), true, Some(("ReplicaSet", "rs"))))
                .collect();
            let c = compute(
                &pdb(json!({"maxUnavailable": "10%"})),
                &pods,
                &|_| Ok(scale),
                t(0),
            );
            let Computed::Ok {
                expected,
                desired,
                allowed,
                ..
            } = c
            else {
                panic!()
            };
            assert_eq!(
                (expected, desired, allowed),
                (scale, scale - mu, mu),
                "scale {scale}"
            );
        }
    }

    #[test]
    fn disrupted_pods_are_not_healthy_for_two_minutes() {
        let mut p = pdb(json!({"minAvailable": 1}));
        p["status"]["disruptedPods"] = json!({"a": t(0).to_string(), "gone": t(0).to_string()});
        let pods = [pod("a", true, None), pod("b", true, None)];
        let Computed::Ok {
            healthy,
            allowed,
            disrupted,
            ..
        } = compute(&p, &pods, &no_scale, t(60))
        else {
            panic!()
        };
        assert_eq!((healthy, allowed), (1, 0));
        assert_eq!(
            disrupted.keys().collect::<Vec<_>>(),
            ["a"],
            "entries of pods gone are dropped"
        );
        let Computed::Ok {
            healthy, disrupted, ..
        } = compute(&p, &pods, &no_scale, t(121))
        else {
            panic!()
        };
        assert_eq!(healthy, 2);
        assert!(disrupted.is_empty());
    }

    #[test]
    fn no_expected_pods_allow_nothing_and_an_unchanged_status_is_not_written() {
        let c = compute(
            &pdb(json!({"minAvailable": 0})),
            &[] as &[PodView],
            &no_scale,
            t(0),
        );
        let Computed::Ok { allowed, .. } = c.clone() else {
            panic!()
        };
        assert_eq!(allowed, 0);
        let mut p = pdb(json!({"minAvailable": 0}));
        p["status"] = new_status(&p, &c, t(0)).unwrap();
        assert_eq!(new_status(&p, &c, t(30)), None);
    }
}
