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

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
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

pub(super) fn api_err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> ActionError {
    let what = what.into();
    move |source| ActionError::Api { what, source }
}

pub use super::drain::{
    DrainEvent, DrainOptions, PodState, Remaining, drain, end_drain, job_active, left_line,
    remaining,
};
use crate::cluster::error::KubeFailure;
pub use crate::fleet::objects::FleetKind;
use crate::fleet::objects::ObjectKind;

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

pub(super) fn api(client: &Client, ns: &str, kind: FleetKind) -> Api<DynamicObject> {
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

pub(super) fn owned_by_scaledjob(o: &DynamicObject) -> Option<String> {
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

pub(super) fn annotations_patch(set: &[(&str, Option<String>)]) -> Value {
    let mut a = serde_json::Map::new();
    for (k, v) in set {
        a.insert(
            (*k).to_string(),
            v.clone().map(Value::String).unwrap_or(Value::Null),
        );
    }
    json!({"metadata": {"annotations": a}})
}

pub(super) fn merge(into: &mut Value, other: Value) {
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
pub(super) async fn get(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
) -> Result<DynamicObject, ActionError> {
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

pub(super) async fn patch(
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
pub(super) async fn get_for_pause(
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

/// Conflicts (409: the object changed between the read and the patch) retried before giving up.
const CONFLICT_RETRIES: u32 = 10;

/// How long pause and resume retry transient API errors.
const TRANSIENT_BUDGET: Duration = Duration::from_secs(30);

/// A failure worth trying again: the API server overloaded or restarting (429, 5xx), or the
/// connection to it lost. Anything else (403, 404, 422, a bad kubeconfig) is final.
pub fn transient(e: &ActionError) -> bool {
    let ActionError::Api { source, .. } = e else {
        return false;
    };
    match source {
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

fn conflict(e: &ActionError) -> bool {
    matches!(e, ActionError::Api { source: kube::Error::Api(s), .. } if s.code == 409)
}

/// Runs `f` until it succeeds, fails for good, or `deadline` passes; each transient failure is
/// told to `on_retry` (the reason and the wait) before a back-off of 250 ms doubling to 5 s.
pub(super) async fn retrying<T, F, Fut>(
    deadline: Instant,
    on_retry: &mut (dyn FnMut(String, Duration) + Send),
    mut f: F,
) -> Result<T, ActionError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ActionError>>,
{
    let mut backoff = Duration::from_millis(250);
    loop {
        match f().await {
            Err(e) if transient(&e) && Instant::now() + backoff < deadline => {
                on_retry(e.to_string(), backoff);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// The patch made conditional on the object being unchanged since it was read: with its
/// resourceVersion in the body, the API server answers 409 if anyone wrote it meanwhile.
fn conditional(mut body: Value, obj: &DynamicObject) -> Value {
    if let Some(rv) = obj.resource_version() {
        merge(&mut body, json!({"metadata": {"resourceVersion": rv}}));
    }
    body
}

/// Reads the fleet, plans the pause, adds `extra` (e.g. the draining mark) and patches it on
/// the condition that nothing changed since the read; on a conflict it reads and plans again.
pub(super) async fn pause_plan_and_patch(
    client: &Client,
    ns: &str,
    fleet: &FleetRef,
    extra: Option<Value>,
) -> Result<Plan, ActionError> {
    let mut conflicts = 0;
    loop {
        let obj = get_for_pause(client, ns, fleet).await?;
        let plan = plan_pause(fleet, obj.annotations(), &obj.data);
        let mut body = plan.patch.clone();
        if let Some(extra) = &extra {
            merge(body.get_or_insert_with(|| json!({})), extra.clone());
        }
        let Some(body) = body else {
            return Ok(plan);
        };
        match patch(client, ns, fleet, &conditional(body, &obj)).await {
            Err(e) if conflict(&e) && conflicts < CONFLICT_RETRIES => conflicts += 1,
            other => return other.map(|_| plan),
        }
    }
}

pub async fn pause(client: &Client, ns: &str, fleet: &FleetRef) -> Result<Report, ActionError> {
    let deadline = Instant::now() + TRANSIENT_BUDGET;
    retrying(deadline, &mut |_, _| {}, || {
        pause_plan_and_patch(client, ns, fleet, None)
    })
    .await
    .map(Report::from)
}

pub async fn resume(client: &Client, ns: &str, fleet: &FleetRef) -> Result<Report, ActionError> {
    let deadline = Instant::now() + TRANSIENT_BUDGET;
    retrying(deadline, &mut |_, _| {}, || async {
        let mut conflicts = 0;
        loop {
            let obj = get(client, ns, fleet).await?;
            let plan = plan_resume(fleet, obj.annotations(), &obj.data, ns)?;
            let Some(body) = plan.patch.clone() else {
                return Ok(plan.into());
            };
            match patch(client, ns, fleet, &conditional(body, &obj)).await {
                Err(e) if conflict(&e) && conflicts < CONFLICT_RETRIES => conflicts += 1,
                other => return other.map(|_| plan.into()),
            }
        }
    })
    .await
}

pub(super) fn live_pod(p: &Pod) -> Option<PodState> {
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

pub(super) async fn pods_with(
    client: &Client,
    ns: &str,
    selector: &str,
) -> Result<Vec<Pod>, ActionError> {
    Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(selector))
        .await
        .map(|l| l.items)
        .map_err(api_err(format!("cannot list pods in {ns}")))
}

pub(super) fn names(list: &[String]) -> String {
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

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
