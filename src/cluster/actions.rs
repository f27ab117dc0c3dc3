//! The fleet actions: pause, resume, drain and evict, per kind of fleet (DESIGN.md, "Fleets").
//!
//! | action | ScaledJob | Job | Deployment |
//! |---|---|---|---|
//! | pause | `autoscaling.keda.sh/paused: "true"` | `spec.suspend: true` | replicas 0 |
//! | resume | prior annotation value back | prior `spec.suspend` back | prior replicas back |
//!
//! Every change records what it replaced in `fleetctl.io/*` annotations, in the same merge patch,
//! so that resume restores exactly the state before the pause, including a fleet that was already
//! paused by someone else (it stays paused). The decisions are pure ([`plan_pause`],
//! [`plan_resume`]) and unit-tested; the functions below them only read and patch.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DynamicObject, EvictParams, ListParams, Patch, PatchParams};
use kube::core::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use tokio::time::Instant;

/// The label every fleet carries.
pub const FLEET_SELECTOR: &str = "app=ai-agent";
/// KEDA's pause annotation on a ScaledJob (SPEC-k8s.md §1.3).
pub const KEDA_PAUSED: &str = "autoscaling.keda.sh/paused";
/// Set to `fleetctl` while a pause made (or recorded) by fleetctl is in force.
pub const PAUSED_BY: &str = "fleetctl.io/paused-by";
/// A ScaledJob's value of [`KEDA_PAUSED`] before the pause (absent: it had none).
pub const PRIOR_PAUSED: &str = "fleetctl.io/prior-paused";
/// A Job's `spec.suspend` before the pause (`"true"` or `"false"`).
pub const PRIOR_SUSPEND: &str = "fleetctl.io/prior-suspend";
/// A Deployment's replicas before the pause.
pub const PAUSED_REPLICAS: &str = "fleetctl.io/paused-replicas";
/// Present (with the start time) while a drain runs.
pub const DRAINING: &str = "fleetctl.io/draining";
const ME: &str = "fleetctl";

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("unknown fleet '{name}'; {}", known_fleets(.namespace, .known))]
    UnknownFleet {
        name: String,
        namespace: String,
        known: Vec<FleetRef>,
    },
    #[error("'{name}' names more than one fleet ({}); say which with KIND/NAME, e.g. {}", .kinds.join(", "), .example)]
    Ambiguous {
        name: String,
        kinds: Vec<String>,
        example: String,
    },
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {}", KubeFailure::classify(.source))]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("{0}")]
    TimedOut(String),
}

fn known_fleets(namespace: &str, known: &[FleetRef]) -> String {
    if known.is_empty() {
        return format!("there are no fleets ({FLEET_SELECTOR}) in {namespace}");
    }
    let list: Vec<String> = known
        .iter()
        .map(|f| format!("{} ({})", f.name, f.kind.as_str()))
        .collect();
    format!("fleets in {namespace}: {}", list.join(", "))
}

fn api_err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> ActionError {
    let what = what.into();
    move |source| ActionError::Api { what, source }
}

use crate::cluster::error::KubeFailure;
use crate::fleet::duration::human_duration;
pub use crate::fleet::objects::FleetKind;
use crate::fleet::objects::ObjectKind;
use crate::fleet::selector::Selector;

/// The API resource a fleet kind lives at.
pub fn resource(kind: FleetKind) -> ApiResource {
    super::watch::object_resource(match kind {
        FleetKind::ScaledJob => ObjectKind::ScaledJob,
        FleetKind::Job => ObjectKind::Job,
        FleetKind::Deployment => ObjectKind::Deployment,
    })
}

/// One fleet: its kind and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRef {
    pub kind: FleetKind,
    pub name: String,
}

impl FleetRef {
    /// `job/ai-agent-batch`, as kubectl writes it.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.lower(), self.name)
    }
}

fn api(client: &Client, ns: &str, kind: FleetKind) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &resource(kind))
}

/// The fleets of the namespace: ScaledJobs, Jobs not owned by a ScaledJob, and Deployments,
/// labelled [`FLEET_SELECTOR`]. A cluster without KEDA simply has no ScaledJob fleets.
pub async fn list_fleets(client: &Client, ns: &str) -> Result<Vec<FleetRef>, ActionError> {
    let lp = ListParams::default().labels(FLEET_SELECTOR);
    let mut out = Vec::new();
    for kind in [FleetKind::ScaledJob, FleetKind::Job, FleetKind::Deployment] {
        let items = match api(client, ns, kind).list(&lp).await {
            Ok(list) => list.items,
            Err(kube::Error::Api(s)) if kind == FleetKind::ScaledJob && s.code == 404 => vec![],
            Err(e) => return Err(api_err(format!("cannot list {}s in {ns}", kind.lower()))(e)),
        };
        for o in items {
            if kind == FleetKind::Job && owned_by_scaledjob(&o).is_some() {
                continue;
            }
            out.push(FleetRef {
                kind,
                name: o.name_any(),
            });
        }
    }
    Ok(out)
}

fn owned_by_scaledjob(o: &DynamicObject) -> Option<String> {
    o.owner_references()
        .iter()
        .find(|r| r.kind == "ScaledJob" && r.api_version.starts_with("keda.sh/"))
        .map(|r| r.name.clone())
}

/// Finds `wanted` (a name, or `KIND/NAME`) among the namespace's fleets.
pub async fn find_fleet(client: &Client, ns: &str, wanted: &str) -> Result<FleetRef, ActionError> {
    let fleets = list_fleets(client, ns).await?;
    let (kind, name) = match wanted.split_once('/') {
        Some((k, n)) if FleetKind::parse(k).is_some() => (FleetKind::parse(k), n),
        _ => (None, wanted),
    };
    let found: Vec<&FleetRef> = fleets
        .iter()
        .filter(|f| f.name == name && kind.is_none_or(|k| k == f.kind))
        .collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ActionError::UnknownFleet {
            name: wanted.to_string(),
            namespace: ns.to_string(),
            known: fleets,
        }),
        many => Err(ActionError::Ambiguous {
            name: name.to_string(),
            kinds: many.iter().map(|f| f.kind.as_str().to_string()).collect(),
            example: many[0].display(),
        }),
    }
}

/// What an action would do to one object: the merge patch (None: nothing to change) and the
/// lines that say what it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub patch: Option<Value>,
    pub message: String,
    pub warning: Option<String>,
}

impl Plan {
    fn none(message: String) -> Self {
        Self {
            patch: None,
            message,
            warning: None,
        }
    }
}

/// KEDA reads the pause annotation with Go's `strconv.ParseBool`; an unparseable value pauses.
pub fn keda_value_pauses(v: &str) -> bool {
    !matches!(v, "0" | "f" | "F" | "false" | "FALSE" | "False")
}

fn annotations_patch(set: &[(&str, Option<String>)]) -> Value {
    let mut a = serde_json::Map::new();
    for (k, v) in set {
        a.insert(
            (*k).to_string(),
            v.clone().map(Value::String).unwrap_or(Value::Null),
        );
    }
    json!({"metadata": {"annotations": a}})
}

fn merge(into: &mut Value, other: Value) {
    match (into, other) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

fn quoted(v: Option<&String>) -> String {
    v.map(|s| format!("\"{s}\""))
        .unwrap_or_else(|| "absent".into())
}

/// The pause of one fleet object: its annotations and the rest of it (spec, status).
pub fn plan_pause(fleet: &FleetRef, ann: &BTreeMap<String, String>, data: &Value) -> Plan {
    let who = fleet.display();
    let recorded = ann.get(PAUSED_BY).is_some_and(|v| v == ME);
    match fleet.kind {
        FleetKind::ScaledJob => {
            let current = ann.get(KEDA_PAUSED);
            let paused = current.is_some_and(|v| keda_value_pauses(v));
            match (paused, recorded) {
                (true, true) => Plan::none(format!("{who} already paused")),
                (true, false) => Plan {
                    patch: Some(annotations_patch(&[
                        (PAUSED_BY, Some(ME.into())),
                        (PRIOR_PAUSED, current.cloned()),
                    ])),
                    message: format!(
                        "{who} already paused ({KEDA_PAUSED}={}); recorded it so that resume leaves it paused",
                        quoted(current)
                    ),
                    warning: None,
                },
                (false, true) => Plan {
                    patch: Some(annotations_patch(&[(KEDA_PAUSED, Some("true".into()))])),
                    message: format!(
                        "{who} paused: set {KEDA_PAUSED}=\"true\" (was {}); running Jobs finish, no new Jobs start",
                        quoted(current)
                    ),
                    warning: None,
                },
                (false, false) => Plan {
                    patch: Some(annotations_patch(&[
                        (KEDA_PAUSED, Some("true".into())),
                        (PAUSED_BY, Some(ME.into())),
                        (PRIOR_PAUSED, current.cloned()),
                    ])),
                    message: format!(
                        "{who} paused: set {KEDA_PAUSED}=\"true\" (was {}); running Jobs finish, no new Jobs start",
                        quoted(current)
                    ),
                    warning: None,
                },
            }
        }
        FleetKind::Job => {
            let suspended = data["spec"]["suspend"].as_bool().unwrap_or(false);
            let active = data["status"]["active"].as_i64().unwrap_or(0);
            match (suspended, recorded) {
                (true, true) => Plan::none(format!("{who} already paused (spec.suspend is true)")),
                (true, false) => Plan {
                    patch: Some(annotations_patch(&[
                        (PAUSED_BY, Some(ME.into())),
                        (PRIOR_SUSPEND, Some("true".into())),
                    ])),
                    message: format!(
                        "{who} already paused (spec.suspend was already true); recorded it so that resume leaves it suspended"
                    ),
                    warning: None,
                },
                (false, _) => {
                    let mut patch = json!({"spec": {"suspend": true}});
                    if !recorded {
                        merge(
                            &mut patch,
                            annotations_patch(&[
                                (PAUSED_BY, Some(ME.into())),
                                (PRIOR_SUSPEND, Some("false".into())),
                            ]),
                        );
                    }
                    Plan {
                        patch: Some(patch),
                        message: format!("{who} paused: set spec.suspend=true (was false)"),
                        warning: Some(if active > 0 {
                            format!(
                                "{who}: its {} deleted: each agent gets SIGTERM and checkpoints its task",
                                plural(active as usize, "active pod is", "active pods are")
                            )
                        } else {
                            format!(
                                "{who}: active pods, if any, are deleted: each agent gets SIGTERM and checkpoints its task"
                            )
                        }),
                    }
                }
            }
        }
        FleetKind::Deployment => {
            let replicas = data["spec"]["replicas"].as_i64().unwrap_or(1);
            let remembered = ann.get(PAUSED_REPLICAS);
            if replicas == 0 && remembered.is_some() {
                return Plan::none(format!(
                    "{who} already paused (0 replicas; resume restores {})",
                    remembered.map(String::as_str).unwrap_or("?")
                ));
            }
            let mut patch = annotations_patch(&[
                (PAUSED_BY, Some(ME.into())),
                (PAUSED_REPLICAS, Some(replicas.to_string())),
            ]);
            if replicas == 0 {
                return Plan {
                    patch: Some(patch),
                    message: format!(
                        "{who} already paused (0 replicas); recorded it so that resume leaves it at 0"
                    ),
                    warning: None,
                };
            }
            merge(&mut patch, json!({"spec": {"replicas": 0}}));
            Plan {
                patch: Some(patch),
                message: format!(
                    "{who} paused: scaled from {replicas} to 0 replicas (remembered in {PAUSED_REPLICAS})"
                ),
                warning: None,
            }
        }
    }
}

/// The resume of one fleet object: back to exactly what the pause recorded.
pub fn plan_resume(
    fleet: &FleetRef,
    ann: &BTreeMap<String, String>,
    data: &Value,
    namespace: &str,
) -> Result<Plan, ActionError> {
    let who = fleet.display();
    let recorded = ann.get(PAUSED_BY).is_some_and(|v| v == ME);
    let plan = match fleet.kind {
        FleetKind::ScaledJob => {
            let current = ann.get(KEDA_PAUSED);
            let paused = current.is_some_and(|v| keda_value_pauses(v));
            if recorded {
                let prior = ann.get(PRIOR_PAUSED).cloned();
                let still = prior.as_deref().is_some_and(keda_value_pauses);
                let message = match (&prior, still) {
                    (Some(v), true) => format!(
                        "{who} left paused: it was paused before fleetctl paused it ({KEDA_PAUSED}=\"{v}\")"
                    ),
                    (Some(v), false) => {
                        format!("{who} resumed: restored {KEDA_PAUSED}=\"{v}\"")
                    }
                    (None, _) => format!("{who} resumed: removed {KEDA_PAUSED}"),
                };
                Plan {
                    patch: Some(annotations_patch(&[
                        (KEDA_PAUSED, prior),
                        (PAUSED_BY, None),
                        (PRIOR_PAUSED, None),
                    ])),
                    message,
                    warning: None,
                }
            } else if paused {
                Plan {
                    patch: Some(annotations_patch(&[(KEDA_PAUSED, None)])),
                    message: format!(
                        "{who} resumed: removed {KEDA_PAUSED} (was {})",
                        quoted(current)
                    ),
                    warning: None,
                }
            } else {
                Plan::none(format!("{who} is not paused; nothing to resume"))
            }
        }
        FleetKind::Job => {
            let suspended = data["spec"]["suspend"].as_bool().unwrap_or(false);
            if recorded {
                let prior = ann.get(PRIOR_SUSPEND).is_some_and(|v| v == "true");
                let mut patch = annotations_patch(&[(PAUSED_BY, None), (PRIOR_SUSPEND, None)]);
                merge(&mut patch, json!({"spec": {"suspend": prior}}));
                let message = if prior {
                    format!("{who} left suspended: it was suspended before fleetctl paused it")
                } else {
                    format!("{who} resumed: set spec.suspend=false")
                };
                Plan {
                    patch: Some(patch),
                    message,
                    warning: None,
                }
            } else if suspended {
                Plan {
                    patch: Some(json!({"spec": {"suspend": false}})),
                    message: format!("{who} resumed: set spec.suspend=false"),
                    warning: None,
                }
            } else {
                Plan::none(format!("{who} is not paused; nothing to resume"))
            }
        }
        FleetKind::Deployment => {
            let replicas = data["spec"]["replicas"].as_i64().unwrap_or(1);
            match ann.get(PAUSED_REPLICAS) {
                Some(v) => {
                    let n: i64 = v.trim().parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        ActionError::Refused(format!(
                            "{who}: annotation {PAUSED_REPLICAS}=\"{v}\" is not a replica count; fix it or scale by hand: kubectl scale {who} -n {namespace} --replicas=N"
                        ))
                    })?;
                    let mut patch =
                        annotations_patch(&[(PAUSED_BY, None), (PAUSED_REPLICAS, None)]);
                    merge(&mut patch, json!({"spec": {"replicas": n}}));
                    Plan {
                        patch: Some(patch),
                        message: format!("{who} resumed: scaled from {replicas} to {n} replicas"),
                        warning: None,
                    }
                }
                None if replicas == 0 => {
                    return Err(ActionError::Refused(format!(
                        "{who} has 0 replicas but no {PAUSED_REPLICAS} annotation, so the count to restore is unknown; scale it: kubectl scale {who} -n {namespace} --replicas=N"
                    )));
                }
                None => Plan::none(format!("{who} is not paused; nothing to resume")),
            }
        }
    };
    Ok(plan)
}

/// Reads the fleet object with a list by name: the bundled Role (manifests/rbac.yaml) grants
/// list, watch and patch on fleets, not get.
async fn get(client: &Client, ns: &str, fleet: &FleetRef) -> Result<DynamicObject, ActionError> {
    let lp = ListParams::default().fields(&format!("metadata.name={}", fleet.name));
    api(client, ns, fleet.kind)
        .list(&lp)
        .await
        .map_err(api_err(format!("cannot read {}", fleet.display())))?
        .items
        .into_iter()
        .find(|o| o.name_any() == fleet.name)
        .ok_or_else(|| ActionError::Refused(format!("{} is gone from {ns}", fleet.display())))
}

async fn patch(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
    body: &Value,
) -> Result<DynamicObject, ActionError> {
    api(client, ns, fleet.kind)
        .patch(&fleet.name, &PatchParams::default(), &Patch::Merge(body))
        .await
        .map_err(api_err(format!("cannot patch {}", fleet.display())))
}

/// What an action did: `changed` is false when nothing needed changing.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub changed: bool,
    pub message: String,
    pub warning: Option<String>,
}

impl From<Plan> for Report {
    fn from(p: Plan) -> Self {
        Report {
            changed: p.patch.is_some(),
            message: p.message,
            warning: p.warning,
        }
    }
}

/// The fleet object, with a Job's `status.active` raised to the pods actually running (so the
/// warning of a suspend counts what it stops even before the Job controller has counted them).
async fn get_for_pause(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
) -> Result<DynamicObject, ActionError> {
    let mut obj = get(client, ns, fleet).await?;
    if fleet.kind == FleetKind::Job {
        let selector = format!("batch.kubernetes.io/job-name={}", fleet.name);
        let live = pods_with(client, ns, &selector)
            .await?
            .iter()
            .filter_map(live_pod)
            .filter(|p| !p.terminating)
            .count() as i64;
        let counted = obj.data["status"]["active"].as_i64().unwrap_or(0);
        if live > counted {
            obj.data["status"]["active"] = json!(live);
        }
    }
    Ok(obj)
}

pub async fn pause(client: &Client, ns: &str, fleet: &FleetRef) -> Result<Report, ActionError> {
    let obj = get_for_pause(client, ns, fleet).await?;
    let plan = plan_pause(fleet, obj.annotations(), &obj.data);
    if let Some(body) = &plan.patch {
        patch(client, ns, fleet, body).await?;
    }
    Ok(plan.into())
}

pub async fn resume(client: &Client, ns: &str, fleet: &FleetRef) -> Result<Report, ActionError> {
    let obj = get(client, ns, fleet).await?;
    let plan = plan_resume(fleet, obj.annotations(), &obj.data, ns)?;
    if let Some(body) = &plan.patch {
        patch(client, ns, fleet, body).await?;
    }
    Ok(plan.into())
}

/// How a drain runs.
#[derive(Debug, Clone)]
pub struct DrainOptions {
    pub evict: bool,
    pub timeout: Duration,
    /// How often the fleet is looked at again.
    pub poll: Duration,
}

/// What a drain reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum DrainEvent {
    /// The pause (or the note that it was already paused).
    Paused(Report),
    /// What is left, whenever it changes.
    Left {
        pods: Vec<String>,
        active_jobs: Vec<String>,
    },
    Evicted {
        pod: String,
    },
    /// The eviction was refused (429 from the PDB, or another error); it is retried.
    Refused {
        pod: String,
        reason: String,
        retry_in: Duration,
        /// 1 for the first refusal of this pod.
        attempt: u32,
    },
    Drained,
}

impl DrainEvent {
    /// The event as one line for a person, `who` being the fleet (`job/x`). A pause is its
    /// report's message (its warning is the caller's to show).
    pub fn line(&self, who: &str) -> String {
        match self {
            DrainEvent::Paused(report) => report.message.clone(),
            DrainEvent::Left { pods, active_jobs } => {
                let mut line = format!("{who}: {} pods left", pods.len());
                if !pods.is_empty() {
                    line.push_str(&format!(" ({})", names(pods)));
                }
                if !active_jobs.is_empty() {
                    line.push_str(&format!(
                        ", {} Jobs active ({})",
                        active_jobs.len(),
                        names(active_jobs)
                    ));
                }
                line
            }
            DrainEvent::Evicted { pod } => format!("{who}: evicted pod {pod}"),
            DrainEvent::Refused {
                pod,
                reason,
                retry_in,
                attempt: 1,
            } => format!(
                "{who}: eviction of pod {pod} refused: {reason}; retrying in {}",
                human_duration(*retry_in)
            ),
            DrainEvent::Refused {
                pod,
                retry_in,
                attempt,
                ..
            } => format!(
                "{who}: eviction of pod {pod} refused again ({attempt} attempts); retrying in {}",
                human_duration(*retry_in)
            ),
            DrainEvent::Drained => format!("{who} drained"),
        }
    }
}

/// What is still running in a fleet.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Remaining {
    /// Pods that are Pending or Running, or terminating.
    pub pods: Vec<PodState>,
    /// ScaledJob fleets: its Jobs that are still active.
    pub active_jobs: Vec<String>,
    /// Job fleets: whether `spec.suspend` is true.
    pub suspended: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodState {
    pub name: String,
    pub terminating: bool,
    pub labels: BTreeMap<String, String>,
}

impl Remaining {
    /// Drained: ScaledJob, no active Job (with `--evict`, or none of them has a pod left);
    /// Job, suspended and no pod running or terminating; Deployment, no pod.
    pub fn drained(&self, kind: FleetKind, evict: bool) -> bool {
        match kind {
            FleetKind::ScaledJob => self.active_jobs.is_empty() || (evict && self.pods.is_empty()),
            FleetKind::Job => self.suspended && self.pods.is_empty(),
            FleetKind::Deployment => self.pods.is_empty(),
        }
    }
}

/// A Job counts as active until a Complete or Failed condition is True, or while `status.active`
/// is above zero (KEDA counts a FailureTarget-only Job as running too).
pub fn job_active(data: &Value) -> bool {
    if data["status"]["active"].as_i64().unwrap_or(0) > 0 {
        return true;
    }
    let finished = data["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter().any(|c| {
            matches!(c["type"].as_str(), Some("Complete" | "Failed"))
                && c["status"].as_str() == Some("True")
        })
    });
    !finished
}

fn live_pod(p: &Pod) -> Option<PodState> {
    let terminating = p.metadata.deletion_timestamp.is_some();
    let phase = p
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending");
    if !terminating && matches!(phase, "Succeeded" | "Failed") {
        return None;
    }
    Some(PodState {
        name: p.name_any(),
        terminating,
        labels: p.labels().clone(),
    })
}

async fn pods_with(client: &Client, ns: &str, selector: &str) -> Result<Vec<Pod>, ActionError> {
    Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(selector))
        .await
        .map(|l| l.items)
        .map_err(api_err(format!("cannot list pods in {ns}")))
}

/// Looks at what is left of a fleet.
pub async fn remaining(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
) -> Result<Remaining, ActionError> {
    let mut out = Remaining::default();
    match fleet.kind {
        FleetKind::ScaledJob => {
            let jobs = api(client, ns, FleetKind::Job)
                .list(&ListParams::default())
                .await
                .map_err(api_err(format!("cannot list jobs in {ns}")))?;
            let active: BTreeSet<String> = jobs
                .items
                .iter()
                .filter(|j| owned_by_scaledjob(j).as_deref() == Some(fleet.name.as_str()))
                .filter(|j| job_active(&j.data))
                .map(|j| j.name_any())
                .collect();
            let pods = pods_with(client, ns, "batch.kubernetes.io/job-name").await?;
            out.pods = pods
                .iter()
                .filter(|p| {
                    p.labels()
                        .get("batch.kubernetes.io/job-name")
                        .is_some_and(|j| active.contains(j))
                })
                .filter_map(live_pod)
                .collect();
            out.active_jobs = active.into_iter().collect();
        }
        FleetKind::Job => {
            let job = get(client, ns, fleet).await?;
            out.suspended = job.data["spec"]["suspend"].as_bool().unwrap_or(false);
            let pods = pods_with(
                client,
                ns,
                &format!("batch.kubernetes.io/job-name={}", fleet.name),
            )
            .await?;
            out.pods = pods.iter().filter_map(live_pod).collect();
        }
        FleetKind::Deployment => {
            let dep = get(client, ns, fleet).await?;
            let labels = Selector::from_json(&dep.data["spec"]["selector"])
                .map(|s| s.to_string())
                .unwrap_or_default();
            if labels.is_empty() {
                return Err(ActionError::Refused(format!(
                    "{} has no spec.selector to find its pods by",
                    fleet.display()
                )));
            }
            let pods = pods_with(client, ns, &labels).await?;
            out.pods = pods
                .iter()
                .map(|p| PodState {
                    name: p.name_any(),
                    terminating: p.metadata.deletion_timestamp.is_some(),
                    labels: p.labels().clone(),
                })
                .collect();
        }
    }
    out.pods.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The PDBs covering these pods, as `the PDB x allows N disruptions`.
async fn pdb_clause(client: &Client, ns: &str, pods: &[PodState]) -> Option<String> {
    let pdbs = Api::<PodDisruptionBudget>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .ok()?;
    let mut parts = Vec::new();
    for pdb in pdbs.items {
        let sel = serde_json::to_value(pdb.spec.as_ref().and_then(|s| s.selector.clone()))
            .unwrap_or(Value::Null);
        let Ok(sel) = Selector::from_json(&sel) else {
            continue;
        };
        if !pods.iter().any(|p| sel.matches(&p.labels)) {
            continue;
        }
        let allowed = pdb
            .status
            .as_ref()
            .map(|s| s.disruptions_allowed)
            .unwrap_or(0);
        let noun = if allowed == 1 {
            "disruption"
        } else {
            "disruptions"
        };
        parts.push(format!(
            "the PDB {} allows {allowed} {noun}",
            pdb.name_any()
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn names(list: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = list
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        s.push_str(&format!(", and {} more", list.len() - SHOWN));
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line for what is left: `2 pods left (a, b)`.
pub fn left_line(r: &Remaining, kind: FleetKind) -> String {
    let pods: Vec<String> = r.pods.iter().map(|p| p.name.clone()).collect();
    let terminating = r.pods.iter().filter(|p| p.terminating).count();
    let mut s = format!("{} left", plural(pods.len(), "pod", "pods"));
    if !pods.is_empty() {
        s.push_str(&format!(" ({})", names(&pods)));
    }
    if terminating > 0 {
        s.push_str(&format!(", {terminating} terminating"));
    }
    if kind == FleetKind::ScaledJob && !r.active_jobs.is_empty() {
        s.push_str(&format!(
            ", {} active ({})",
            plural(r.active_jobs.len(), "Job", "Jobs"),
            names(&r.active_jobs)
        ));
    }
    s
}

/// Back-off of a refused eviction: the server's `retryAfterSeconds` when it gives one, else 1 s
/// doubling up to 5 s.
fn next_backoff(previous: Option<Duration>, retry_after: u32) -> Duration {
    if retry_after > 0 {
        return Duration::from_secs(u64::from(retry_after));
    }
    match previous {
        None => Duration::from_secs(1),
        Some(d) => (d * 2).min(Duration::from_secs(5)),
    }
}

fn refusal(e: &kube::Error) -> (String, u32) {
    match e {
        kube::Error::Api(s) => {
            let detail = s
                .details
                .as_ref()
                .and_then(|d| d.causes.first())
                .map(|c| format!(" ({})", c.message))
                .unwrap_or_default();
            let retry = s
                .details
                .as_ref()
                .map(|d| d.retry_after_seconds)
                .unwrap_or(0);
            (format!("{}{detail}", s.message), retry)
        }
        other => (other.to_string(), 0),
    }
}

/// Pauses the fleet, marks it draining, and waits until it is drained (see
/// [`Remaining::drained`]); with `evict`, evicts what is left through the Eviction API, retrying
/// refusals with back-off. The draining mark is removed at the end, drained or not; the fleet
/// stays paused.
pub async fn drain(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
    opts: &DrainOptions,
    on_event: &mut (dyn FnMut(DrainEvent) + Send),
) -> Result<(), ActionError> {
    let deadline = Instant::now() + opts.timeout;
    let obj = get_for_pause(client, ns, fleet).await?;
    let plan = plan_pause(fleet, obj.annotations(), &obj.data);
    let mut body = plan.patch.clone().unwrap_or_else(|| json!({}));
    merge(
        &mut body,
        annotations_patch(&[(DRAINING, Some(jiff::Timestamp::now().to_string()))]),
    );
    patch(client, ns, fleet, &body).await?;
    on_event(DrainEvent::Paused(plan.into()));

    let result = wait_drained(client, ns, fleet, opts, deadline, on_event).await;
    let unmark = patch(client, ns, fleet, &annotations_patch(&[(DRAINING, None)])).await;
    result?;
    unmark?;
    on_event(DrainEvent::Drained);
    Ok(())
}

async fn wait_drained(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
    opts: &DrainOptions,
    deadline: Instant,
    on_event: &mut (dyn FnMut(DrainEvent) + Send),
) -> Result<(), ActionError> {
    let pods_api = Api::<Pod>::namespaced(client.clone(), ns);
    // Per pod: when to try again, and the last back-off.
    let mut retry: BTreeMap<String, (Instant, Duration, u32)> = BTreeMap::new();
    let mut last_left: Option<(Vec<String>, Vec<String>, usize)> = None;
    loop {
        let left = remaining(client, ns, fleet).await?;
        if left.drained(fleet.kind, opts.evict) {
            return Ok(());
        }
        let pods: Vec<String> = left.pods.iter().map(|p| p.name.clone()).collect();
        let terminating = left.pods.iter().filter(|p| p.terminating).count();
        let key = (pods.clone(), left.active_jobs.clone(), terminating);
        if last_left.as_ref() != Some(&key) {
            on_event(DrainEvent::Left {
                pods,
                active_jobs: left.active_jobs.clone(),
            });
            last_left = Some(key);
        }
        let now = Instant::now();
        if now >= deadline {
            let mut reason = format!(
                "drain of {} timed out after {}: {}",
                fleet.name,
                human_duration(opts.timeout),
                left_line(&left, fleet.kind)
            );
            if opts.evict
                && let Some(pdb) = pdb_clause(client, ns, &left.pods).await
            {
                reason.push_str(&format!("; {pdb}"));
            } else if !opts.evict && left.pods.iter().any(|p| !p.terminating) {
                reason.push_str("; pass --evict to evict them");
            }
            reason.push_str(&format!("; {} stays paused", fleet.display()));
            return Err(ActionError::TimedOut(reason));
        }
        if opts.evict {
            for p in left.pods.iter().filter(|p| !p.terminating) {
                let previous = retry.get(&p.name).copied();
                if previous.is_some_and(|(at, _, _)| at > now) {
                    continue;
                }
                match pods_api.evict(&p.name, &EvictParams::default()).await {
                    Ok(_) => {
                        retry.remove(&p.name);
                        on_event(DrainEvent::Evicted {
                            pod: p.name.clone(),
                        });
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        retry.remove(&p.name);
                    }
                    Err(e) => {
                        let (reason, after) = refusal(&e);
                        let backoff = next_backoff(previous.map(|(_, d, _)| d), after);
                        let attempt = previous.map(|(_, _, n)| n + 1).unwrap_or(1);
                        retry.insert(p.name.clone(), (now + backoff, backoff, attempt));
                        on_event(DrainEvent::Refused {
                            pod: p.name.clone(),
                            reason,
                            retry_in: backoff,
                            attempt,
                        });
                    }
                }
            }
        }
        let wait = opts
            .poll
            .min(deadline.saturating_duration_since(Instant::now()));
        tokio::time::sleep(wait).await;
    }
}

/// What pausing (`pause`) or resuming the fleet would do now, without doing it: the console's
/// confirm dialog shows this before the operator commits.
pub async fn plan_for(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
    pause: bool,
) -> Result<Plan, ActionError> {
    if pause {
        let obj = get_for_pause(client, ns, fleet).await?;
        Ok(plan_pause(fleet, obj.annotations(), &obj.data))
    } else {
        let obj = get(client, ns, fleet).await?;
        plan_resume(fleet, obj.annotations(), &obj.data, ns)
    }
}

/// Removes the draining mark of a drain that was stopped before it ended; the fleet stays
/// paused, as after a drain that timed out.
pub async fn end_drain(client: &Client, ns: &str, fleet: &FleetRef) -> Result<(), ActionError> {
    patch(client, ns, fleet, &annotations_patch(&[(DRAINING, None)]))
        .await
        .map(|_| ())
}

/// Evicts one pod through the Eviction API. A refusal (429 from a PodDisruptionBudget) says
/// which budget and why.
pub async fn evict_pod(client: &Client, ns: &str, pod: &str) -> Result<String, ActionError> {
    let pods = Api::<Pod>::namespaced(client.clone(), ns);
    match pods.evict(pod, &EvictParams::default()).await {
        Ok(_) => Ok(format!(
            "pod {pod} evicted: its agent gets SIGTERM and checkpoints its task"
        )),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Err(ActionError::Refused(format!("pod {pod} is gone from {ns}")))
        }
        Err(kube::Error::Api(s)) => {
            // The budget's own words first: they name it and say what it needs.
            let why = s
                .details
                .as_ref()
                .and_then(|d| d.causes.first())
                .map(|c| c.message.clone())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| s.message.clone());
            // The caller names the pod; the reason comes first so a short line still shows it.
            Err(ActionError::Refused(format!("refused ({}): {why}", s.code)))
        }
        Err(source) => Err(ActionError::Api {
            what: format!("cannot evict pod {pod}"),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(kind: FleetKind) -> FleetRef {
        FleetRef {
            kind,
            name: "f".into(),
        }
    }

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Applies a merge patch's annotations and spec to (annotations, data), as the server would.
    fn apply(plan: &Plan, a: &mut BTreeMap<String, String>, data: &mut Value) {
        let Some(p) = &plan.patch else { return };
        if let Some(m) = p["metadata"]["annotations"].as_object() {
            for (k, v) in m {
                match v.as_str() {
                    Some(s) => {
                        a.insert(k.clone(), s.to_string());
                    }
                    None => {
                        a.remove(k);
                    }
                }
            }
        }
        if let Some(spec) = p.get("spec") {
            merge(&mut data["spec"], spec.clone());
        }
    }

    fn round_trip(kind: FleetKind, a0: BTreeMap<String, String>, d0: Value) {
        let f = fleet(kind);
        let (mut a, mut d) = (a0.clone(), d0.clone());
        let p = plan_pause(&f, &a, &d);
        apply(&p, &mut a, &mut d);
        let again = plan_pause(&f, &a, &d);
        assert!(
            again.patch.is_none(),
            "second pause changes nothing: {again:?}"
        );
        assert!(again.message.contains("already paused"));
        let r = plan_resume(&f, &a, &d, "agents").unwrap();
        apply(&r, &mut a, &mut d);
        assert_eq!((a, d), (a0, d0), "{kind:?}: resume restores exactly");
    }

    #[test]
    fn pause_then_resume_restores_every_prior_state() {
        round_trip(FleetKind::ScaledJob, ann(&[]), json!({"spec": {}}));
        round_trip(
            FleetKind::ScaledJob,
            ann(&[(KEDA_PAUSED, "false")]),
            json!({}),
        );
        round_trip(
            FleetKind::ScaledJob,
            ann(&[(KEDA_PAUSED, "true")]),
            json!({}),
        );
        round_trip(
            FleetKind::Job,
            ann(&[]),
            json!({"spec": {"suspend": false}}),
        );
        round_trip(FleetKind::Job, ann(&[]), json!({"spec": {"suspend": true}}));
        round_trip(
            FleetKind::Deployment,
            ann(&[("x", "y")]),
            json!({"spec": {"replicas": 7}}),
        );
        round_trip(
            FleetKind::Deployment,
            ann(&[]),
            json!({"spec": {"replicas": 0}}),
        );
    }

    #[test]
    fn keda_reads_the_annotation_like_parse_bool() {
        for v in ["true", "1", "t", "TRUE", "yes"] {
            assert!(keda_value_pauses(v), "{v}");
        }
        for v in ["false", "0", "f", "False"] {
            assert!(!keda_value_pauses(v), "{v}");
        }
    }

    #[test]
    fn resume_of_an_unrecorded_zero_deployment_is_refused() {
        let err = plan_resume(
            &fleet(FleetKind::Deployment),
            &ann(&[]),
            &json!({"spec": {"replicas": 0}}),
            "agents",
        )
        .unwrap_err();
        assert!(err.to_string().contains("kubectl scale"), "{err}");
    }

    #[test]
    fn job_activity() {
        assert!(job_active(&json!({"status": {}})));
        assert!(job_active(
            &json!({"status": {"active": 1, "conditions": [{"type": "Complete", "status": "True"}]}})
        ));
        assert!(!job_active(
            &json!({"status": {"conditions": [{"type": "Failed", "status": "True"}]}})
        ));
        assert!(job_active(
            &json!({"status": {"conditions": [{"type": "FailureTarget", "status": "True"}]}})
        ));
    }

    #[test]
    fn backoff_honours_retry_after() {
        assert_eq!(next_backoff(None, 0), Duration::from_secs(1));
        assert_eq!(
            next_backoff(Some(Duration::from_secs(4)), 0),
            Duration::from_secs(5)
        );
        assert_eq!(
            next_backoff(Some(Duration::from_secs(1)), 10),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn unknown_fleet_lists_the_known_ones() {
        let e = ActionError::UnknownFleet {
            name: "x".into(),
            namespace: "agents".into(),
            known: vec![
                FleetRef {
                    kind: FleetKind::ScaledJob,
                    name: "ai-agent".into(),
                },
                FleetRef {
                    kind: FleetKind::Job,
                    name: "ai-agent-batch".into(),
                },
            ],
        };
        assert_eq!(
            e.to_string(),
            "unknown fleet 'x'; fleets in agents: ai-agent (ScaledJob), ai-agent-batch (Job)"
        );
    }
}
