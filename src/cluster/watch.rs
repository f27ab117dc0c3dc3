//! Watchers that keep the fleet model current: one kube-runtime watcher per kind, each turning
//! what the API server says into [`FleetDelta`]s.
//!
//! - Fleet kinds, pods, PDBs and NetworkPolicies are label-selected; Events carry no labels and
//!   are watched whole (the model keeps only their slim form).
//! - `managedFields` are stripped and every object is made slim ([`Object::from_json`]) before it
//!   leaves this module.
//! - A watcher that restarts (410 Gone, a dropped connection) lists again: the buffered list is
//!   sent as one [`FleetDelta::Resync`], so the model ends equal to a fresh list. Errors back off
//!   (kube-runtime's default: 0.8 s growing to 30 s, with jitter).
//! - A kind the API refuses (403, or 404 when its CRD is missing) becomes
//!   [`FleetDelta::KindUnavailable`] once, and only that kind degrades; the watcher keeps
//!   retrying and its next successful list clears the state.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Error as KubeError};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::fleet::delta::FleetDelta;
use crate::fleet::duration::human_duration;
use crate::fleet::model::{ClusterState, Model};
use crate::fleet::objects::{Object, ObjectKind};
use crate::fleet::selector::Selector;

/// The API resource of each kind the model watches.
pub fn object_resource(kind: ObjectKind) -> ApiResource {
    let (g, v, k, plural) = match kind {
        ObjectKind::ScaledJob => ("keda.sh", "v1alpha1", "ScaledJob", "scaledjobs"),
        ObjectKind::Job => ("batch", "v1", "Job", "jobs"),
        ObjectKind::Deployment => ("apps", "v1", "Deployment", "deployments"),
        ObjectKind::Pod => ("", "v1", "Pod", "pods"),
        ObjectKind::PodDisruptionBudget => (
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
        ),
        ObjectKind::NetworkPolicy => (
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
        ),
        ObjectKind::Event => ("", "v1", "Event", "events"),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(g, v, k), plural)
}

/// Whether the watcher of `kind` uses the fleet label selector.
fn label_selected(kind: ObjectKind) -> bool {
    kind != ObjectKind::Event
}

/// Parses a `-l` selector (kubectl's syntax: `k=v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`,
/// `!k`). An empty one is refused: every workload in the namespace would be a fleet.
pub fn parse_selector(s: &str) -> Result<Selector, String> {
    let selector =
        Selector::parse(s).map_err(|e| format!("selector '{s}': {e}; use e.g. -l app=ai-agent"))?;
    if selector.is_empty() {
        return Err(format!("selector '{s}' is empty; use e.g. -l app=ai-agent"));
    }
    Ok(selector)
}

/// A wire object made slim: `kind` set from the resource (list items carry none), managedFields
/// dropped.
fn slim(kind: ObjectKind, mut obj: DynamicObject) -> Option<Object> {
    obj.metadata.managed_fields = None;
    let mut v = obj.data;
    if !v.is_object() {
        v = Value::Object(Default::default());
    }
    let meta = serde_json::to_value(&obj.metadata).ok()?;
    let map = v.as_object_mut()?;
    map.insert("metadata".into(), meta);
    map.insert("kind".into(), Value::String(object_resource(kind).kind));
    Object::from_json(&v)
}

/// Why a kind is unavailable, when `err` says the API refuses it rather than failing for a while.
fn refusal(kind: ObjectKind, err: &watcher::Error) -> Option<String> {
    let status = match err {
        watcher::Error::InitialListFailed(KubeError::Api(s))
        | watcher::Error::WatchStartFailed(KubeError::Api(s))
        | watcher::Error::WatchFailed(KubeError::Api(s)) => s,
        watcher::Error::WatchError(s) => s,
        _ => return None,
    };
    refused_status(kind, status)
}

fn refused_status(kind: ObjectKind, status: &kube::core::Status) -> Option<String> {
    let what = object_resource(kind);
    match status.code {
        403 => Some(format!(
            "forbidden: cannot list/watch {} ({})",
            what.plural,
            first_line(&status.message)
        )),
        404 if kind == ObjectKind::ScaledJob => {
            Some("KEDA is not installed: the API has no keda.sh/v1alpha1 ScaledJob".to_string())
        }
        404 => Some(format!(
            "the API has no {} ({})",
            what.plural, what.api_version
        )),
        _ => None,
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// The running watchers; dropping this stops them.
pub struct Watchers {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// What the watchers of one namespace watch.
#[derive(Debug, Clone)]
pub struct WatchSpec {
    pub namespace: String,
    pub selector: Selector,
    pub kinds: Vec<ObjectKind>,
}

impl WatchSpec {
    /// Every kind the model knows.
    pub fn all(namespace: impl Into<String>, selector: Selector) -> Self {
        WatchSpec {
            namespace: namespace.into(),
            selector,
            kinds: ObjectKind::ALL.to_vec(),
        }
    }
}

/// Starts one watcher per kind; their deltas go to `tx`. Each kind first sends a
/// [`FleetDelta::Resync`] (or [`FleetDelta::KindUnavailable`]), then changes.
pub fn spawn(client: Client, spec: &WatchSpec, tx: mpsc::Sender<FleetDelta>) -> Watchers {
    let selector = spec.selector.to_string();
    let tasks = spec
        .kinds
        .iter()
        .map(|&kind| {
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), &spec.namespace, &object_resource(kind));
            let mut cfg = watcher::Config::default();
            if label_selected(kind) {
                cfg = cfg.labels(&selector);
            }
            tokio::spawn(run(kind, api, cfg, tx.clone()))
        })
        .collect();
    Watchers { tasks }
}

async fn run(
    kind: ObjectKind,
    api: Api<DynamicObject>,
    cfg: watcher::Config,
    tx: mpsc::Sender<FleetDelta>,
) {
    let mut stream = std::pin::pin!(watcher::watcher(api, cfg).default_backoff());
    let mut buffer: Vec<Object> = Vec::new();
    // The reason last reported, so a refusal is sent once rather than at every retry.
    let mut refused: Option<String> = None;
    while let Some(item) = stream.next().await {
        let delta = match item {
            Ok(Event::Init) => {
                buffer.clear();
                None
            }
            Ok(Event::InitApply(o)) => {
                buffer.extend(slim(kind, o));
                None
            }
            Ok(Event::InitDone) => {
                refused = None;
                Some(FleetDelta::Resync {
                    kind,
                    objects: std::mem::take(&mut buffer),
                })
            }
            Ok(Event::Apply(o)) => slim(kind, o).map(FleetDelta::Upsert),
            Ok(Event::Delete(o)) => {
                let name = o.metadata.name.clone().unwrap_or_default();
                let namespace = o.metadata.namespace.clone().unwrap_or_default();
                Some(FleetDelta::Delete {
                    kind,
                    namespace,
                    name,
                })
            }
            Err(e) => match refusal(kind, &e) {
                Some(reason) if refused.as_ref() != Some(&reason) => {
                    tracing::info!(?kind, %reason, "kind unavailable");
                    refused = Some(reason.clone());
                    Some(FleetDelta::KindUnavailable { kind, reason })
                }
                Some(_) => None,
                None => {
                    tracing::debug!(?kind, error = %e, "watch restarts");
                    None
                }
            },
        };
        if let Some(d) = delta
            && tx.send(d).await.is_err()
        {
            return;
        }
    }
}

/// Tracks which kinds have reported their first list (or their refusal).
#[derive(Debug, Clone, Default)]
pub struct SyncTracker {
    pending: Vec<ObjectKind>,
}

impl SyncTracker {
    pub fn new(kinds: &[ObjectKind]) -> Self {
        SyncTracker {
            pending: kinds.to_vec(),
        }
    }

    /// Notes a delta; true once every kind has been heard from.
    pub fn observe(&mut self, delta: &FleetDelta) -> bool {
        match delta {
            FleetDelta::Resync { kind, .. } | FleetDelta::KindUnavailable { kind, .. } => {
                self.pending.retain(|k| k != kind)
            }
            _ => {}
        }
        self.pending.is_empty()
    }

    pub fn pending(&self) -> &[ObjectKind] {
        &self.pending
    }
}

/// Why [`first_sync`] gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FirstSyncError {
    /// Every sender of the channel is gone: the watchers stopped.
    #[error("the watchers stopped before the first list")]
    Stopped,
    /// `pending` kinds had neither listed nor been refused when the wait ended.
    #[error("no first list of {} within {}", kind_list(.pending), human_duration(*.waited))]
    TimedOut {
        pending: Vec<ObjectKind>,
        waited: Duration,
    },
}

fn kind_list(kinds: &[ObjectKind]) -> String {
    kinds
        .iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies the deltas of `rx` to `model` until every kind of `spec` has sent its first list
/// (or its refusal), waiting at most `timeout`. Deltas that arrive meanwhile are applied too;
/// what comes after is left in the channel.
pub async fn first_sync(
    rx: &mut mpsc::Receiver<FleetDelta>,
    spec: &WatchSpec,
    model: &mut Model,
    timeout: Duration,
) -> Result<(), FirstSyncError> {
    let mut sync = SyncTracker::new(&spec.kinds);
    if sync.pending().is_empty() {
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(d)) => {
                let done = sync.observe(&d);
                model.apply(d, Timestamp::now());
                if done {
                    return Ok(());
                }
            }
            Ok(None) => return Err(FirstSyncError::Stopped),
            Err(_) => {
                return Err(FirstSyncError::TimedOut {
                    pending: sync.pending().to_vec(),
                    waited: timeout,
                });
            }
        }
    }
}

/// The namespace as one fresh list shows it, with the watchers' selection: what the model must
/// equal once the watchers have caught up. Refused kinds are reported, as the watchers do.
pub async fn list_state(
    client: &Client,
    spec: &WatchSpec,
) -> Result<(ClusterState, BTreeMap<ObjectKind, String>), KubeError> {
    let selector = spec.selector.to_string();
    let mut objects = Vec::new();
    let mut refused = BTreeMap::new();
    for &kind in &spec.kinds {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &spec.namespace, &object_resource(kind));
        let mut lp = ListParams::default();
        if label_selected(kind) {
            lp = lp.labels(&selector);
        }
        match api.list(&lp).await {
            Ok(list) => objects.extend(list.items.into_iter().filter_map(|o| slim(kind, o))),
            Err(KubeError::Api(s)) if refused_status(kind, &s).is_some() => {
                refused.insert(kind, refused_status(kind, &s).unwrap_or_default());
            }
            Err(e) => return Err(e),
        }
    }
    Ok((
        ClusterState {
            namespace: spec.namespace.clone(),
            selector: spec.selector.clone(),
            objects,
            queues: BTreeMap::new(),
        },
        refused,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_round_trip() {
        let l = parse_selector("app=ai-agent, tier = gpu").unwrap();
        assert_eq!(l.to_string(), "app=ai-agent,tier=gpu");
        assert_eq!(parse_selector("app==x").unwrap().to_string(), "app=x");
        assert_eq!(
            parse_selector("app!=x,tier in (a, b),!gone")
                .unwrap()
                .to_string(),
            "app!=x,!gone,tier in (a,b)"
        );
        for bad in ["", ",", "app in x", "a b"] {
            let e = parse_selector(bad).unwrap_err();
            assert!(e.contains("-l app=ai-agent"), "{e}");
        }
    }

    #[test]
    fn list_items_without_kind_become_slim_objects() {
        let o: DynamicObject = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "agents", "uid": "u",
                         "managedFields": [{"manager": "kubectl"}],
                         "labels": {"app": "ai-agent"}},
            "spec": {"containers": [{"name": "agent"}]},
            "status": {"phase": "Running"}
        }))
        .unwrap();
        let Some(Object::Pod(p)) = slim(ObjectKind::Pod, o) else {
            panic!("not a pod")
        };
        assert_eq!(p.name, "p");
        assert_eq!(p.phase, crate::fleet::objects::PodPhase::Running);
    }

    fn api_error(code: u16) -> watcher::Error {
        watcher::Error::InitialListFailed(KubeError::Api(Box::new(kube::core::Status {
            code,
            message: "events is forbidden: User \"x\" cannot list resource \"events\"\nmore".into(),
            ..Default::default()
        })))
    }

    #[test]
    fn refusals_are_told_apart_from_outages() {
        let r = refusal(ObjectKind::Event, &api_error(403)).unwrap();
        assert!(r.starts_with("forbidden: cannot list/watch events"), "{r}");
        assert!(!r.contains("more"));
        let r = refusal(ObjectKind::ScaledJob, &api_error(404)).unwrap();
        assert!(r.contains("KEDA is not installed"), "{r}");
        assert_eq!(refusal(ObjectKind::Pod, &api_error(500)), None);
        assert_eq!(refusal(ObjectKind::Pod, &api_error(410)), None);
    }

    #[test]
    fn sync_tracker_waits_for_every_kind() {
        let mut t = SyncTracker::new(&[ObjectKind::Pod, ObjectKind::Event]);
        assert!(!t.observe(&FleetDelta::Resync {
            kind: ObjectKind::Pod,
            objects: vec![]
        }));
        assert_eq!(t.pending(), &[ObjectKind::Event]);
        assert!(t.observe(&FleetDelta::KindUnavailable {
            kind: ObjectKind::Event,
            reason: "forbidden".into()
        }));
    }

    fn spec(kinds: &[ObjectKind]) -> WatchSpec {
        WatchSpec {
            kinds: kinds.to_vec(),
            ..WatchSpec::all("agents", Selector::everything())
        }
    }

    #[tokio::test]
    async fn first_sync_applies_deltas_until_every_kind_listed() {
        let (tx, mut rx) = mpsc::channel(8);
        let spec = spec(&[ObjectKind::Job, ObjectKind::Event]);
        let job = Object::Job(crate::fleet::objects::JobSummary {
            name: "batch".into(),
            namespace: "agents".into(),
            labels: crate::fleet::objects::Labels::from([("app".into(), "ai-agent".into())]),
            ..Default::default()
        });
        tx.send(FleetDelta::Resync {
            kind: ObjectKind::Job,
            objects: vec![job],
        })
        .await
        .unwrap();
        tx.send(FleetDelta::KindUnavailable {
            kind: ObjectKind::Event,
            reason: "forbidden".into(),
        })
        .await
        .unwrap();
        tx.send(FleetDelta::Resync {
            kind: ObjectKind::Pod,
            objects: vec![],
        })
        .await
        .unwrap();
        let mut model = Model::new("agents");
        first_sync(&mut rx, &spec, &mut model, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(model.fleets().count(), 1);
        // What came after the first complete list stays in the channel.
        assert!(matches!(
            rx.try_recv(),
            Ok(FleetDelta::Resync {
                kind: ObjectKind::Pod,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn first_sync_names_the_kinds_still_pending_or_says_the_watchers_stopped() {
        let (tx, mut rx) = mpsc::channel(8);
        let spec = spec(&[ObjectKind::Job, ObjectKind::Pod, ObjectKind::Event]);
        tx.send(FleetDelta::Resync {
            kind: ObjectKind::Pod,
            objects: vec![],
        })
        .await
        .unwrap();
        let mut model = Model::new("agents");
        let err = first_sync(&mut rx, &spec, &mut model, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            FirstSyncError::TimedOut {
                pending: vec![ObjectKind::Job, ObjectKind::Event],
                waited: Duration::from_millis(50)
            }
        );
        // The wait is written as kubectl writes ages.
        let waited_long = FirstSyncError::TimedOut {
            pending: vec![ObjectKind::Job, ObjectKind::Event],
            waited: Duration::from_secs(150),
        };
        assert_eq!(
            waited_long.to_string(),
            "no first list of Job, Event within 2m30s"
        );
        drop(tx);
        let err = first_sync(&mut rx, &spec, &mut model, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err, FirstSyncError::Stopped);
    }
}
