//! The garbage collector: ownerReferences, and the three propagation policies.
//!
//! - Background: an object whose every owner is gone is deleted. "Gone" is confirmed with a live
//!   GET of the owner (404, or another uid), never judged from the cache alone, so an object
//!   created a moment after its owner is never collected by mistake.
//! - Foreground: an owner being deleted with the `foregroundDeletion` finalizer has its
//!   dependents deleted; the finalizer goes once none is left, and the owner with it.
//! - Orphan: an owner being deleted with the `orphan` finalizer has its ownerReference removed
//!   from every dependent, then the finalizer goes.
//!
//! - Pods: a terminating pod that was never scheduled is marked Failed and removed, as the pod
//!   garbage collector does (no kubelet will ever stop it).
//!
//! The pure part, [`plan`], turns the cached objects into [`Action`]s.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use kube::runtime::reflector;
use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{Ctx, cache, resource_of};

/// The kinds collected and looked at as owners.
const KINDS: [(&str, &str); 5] = [
    ("v1", "Pod"),
    ("batch/v1", "Job"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "Deployment"),
    ("keda.sh/v1alpha1", "ScaledJob"),
];

/// One object as the collector needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub resource: (String, String),
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub deleting: bool,
    pub finalizers: Vec<String>,
    /// (apiVersion, kind, name, uid)
    pub owners: Vec<(String, String, String, String)>,
}

impl Node {
    fn of(resource: &ApiResource, m: &ObjectMeta) -> Self {
        Node {
            resource: (resource.api_version.clone(), resource.kind.clone()),
            namespace: m.namespace.clone().unwrap_or_default(),
            name: m.name.clone().unwrap_or_default(),
            uid: m.uid.clone().unwrap_or_default(),
            resource_version: m.resource_version.clone().unwrap_or_default(),
            deleting: m.deletion_timestamp.is_some(),
            finalizers: m.finalizers.clone().unwrap_or_default(),
            owners: m
                .owner_references
                .iter()
                .flatten()
                .map(|r| {
                    (
                        r.api_version.clone(),
                        r.kind.clone(),
                        r.name.clone(),
                        r.uid.clone(),
                    )
                })
                .collect(),
        }
    }
}

/// What the collector does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Every owner of this object seems gone: confirm with a GET of each, then delete it.
    CollectIfOrphaned(Node),
    /// Delete a dependent of an owner being deleted in the foreground.
    DeleteDependent(Node),
    /// Remove the ownerReference to `owner_uid` from this dependent.
    Unlink { dependent: Node, owner_uid: String },
    /// Remove `finalizer` from this owner: its part is done.
    Finish {
        owner: Node,
        finalizer: &'static str,
    },
}

/// The actions for a set of cached objects.
pub fn plan(nodes: &[Node]) -> Vec<Action> {
    let uids: HashSet<&str> = nodes.iter().map(|n| n.uid.as_str()).collect();
    plan_with(nodes, |uid| uids.contains(uid))
}

/// The actions for `nodes`, where `exists` tells whether an object with that uid is cached
/// (the nodes may be only the objects that can need an action: see [`needs_a_look`]).
pub fn plan_with(nodes: &[Node], exists: impl Fn(&str) -> bool) -> Vec<Action> {
    let mut dependents: HashMap<&str, Vec<&Node>> = HashMap::new();
    for n in nodes {
        for (_, _, _, uid) in &n.owners {
            dependents.entry(uid.as_str()).or_default().push(n);
        }
    }
    let mut out = Vec::new();
    for n in nodes {
        if n.deleting {
            let deps = dependents.get(n.uid.as_str());
            if n.finalizers.iter().any(|f| f == "orphan") {
                match deps {
                    Some(d) if !d.is_empty() => out.extend(d.iter().map(|d| Action::Unlink {
                        dependent: (*d).clone(),
                        owner_uid: n.uid.clone(),
                    })),
                    _ => out.push(Action::Finish {
                        owner: n.clone(),
                        finalizer: "orphan",
                    }),
                }
            } else if n.finalizers.iter().any(|f| f == "foregroundDeletion") {
                match deps {
                    Some(d) if !d.is_empty() => out.extend(
                        d.iter()
                            .filter(|d| !d.deleting)
                            .map(|d| Action::DeleteDependent((*d).clone())),
                    ),
                    _ => out.push(Action::Finish {
                        owner: n.clone(),
                        finalizer: "foregroundDeletion",
                    }),
                }
            }
        }
        if !n.deleting
            && !n.owners.is_empty()
            && n.owners.iter().all(|(_, _, _, uid)| !exists(uid.as_str()))
        {
            out.push(Action::CollectIfOrphaned(n.clone()));
        }
    }
    out
}

/// Whether an object can need an action: it is being deleted, or it has owners and either
/// none of them is cached or one of them is being deleted. Everything else (most objects) is
/// left out of [`plan_with`], so a pass over 10,000 pods allocates for the few that matter.
pub fn needs_a_look(
    m: &ObjectMeta,
    exists: impl Fn(&str) -> bool,
    deleting: impl Fn(&str) -> bool,
) -> bool {
    let owners = m.owner_references.as_deref().unwrap_or_default();
    m.deletion_timestamp.is_some()
        || (!owners.is_empty()
            && (owners.iter().all(|o| !exists(&o.uid)) || owners.iter().any(|o| deleting(&o.uid))))
}

pub fn spawn(ctx: &Ctx) -> Vec<JoinHandle<()>> {
    let changed = Arc::new(Notify::new());
    ctx.pods.notify_on_change(changed.clone());
    let mut tasks = Vec::new();
    let mut caches: Vec<(ApiResource, reflector::Store<DynamicObject>)> = Vec::new();
    for (v, k) in KINDS {
        let Some(ar) = resource_of(v, k) else {
            continue;
        };
        if k == "Pod" {
            // From the shared pod watch.
            continue;
        }
        let (store, task) = cache(ctx, &ar, changed.clone());
        tasks.push(task);
        caches.push((ar, store));
    }
    let Some(pod_ar) = resource_of("v1", "Pod") else {
        return tasks;
    };
    let c = ctx.clone();
    tasks.push(ctx.spawn(async move {
        loop {
            // Changes come in bursts: collect them, then act once (a pass looks at every
            // object, so with thousands of pods changing it runs at most five times a second).
            let _ = tokio::time::timeout(Duration::from_secs(2), changed.notified()).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let started = std::time::Instant::now();
            let pods = c.pods.state();
            let others: Vec<(&ApiResource, Vec<Arc<DynamicObject>>)> =
                caches.iter().map(|(ar, s)| (ar, s.state())).collect();
            let metas: Vec<(&ApiResource, &ObjectMeta)> = pods
                .iter()
                .map(|p| (&pod_ar, &p.metadata))
                .chain(
                    others
                        .iter()
                        .flat_map(|(ar, objs)| objs.iter().map(move |o| (*ar, &o.metadata))),
                )
                .collect();
            let mut uids: HashSet<&str> = HashSet::with_capacity(metas.len());
            let mut deleting: HashSet<&str> = HashSet::new();
            for (_, m) in &metas {
                let uid = m.uid.as_deref().unwrap_or_default();
                uids.insert(uid);
                if m.deletion_timestamp.is_some() {
                    deleting.insert(uid);
                }
            }
            let nodes: Vec<Node> = metas
                .iter()
                .filter(|(_, m)| needs_a_look(m, |u| uids.contains(u), |u| deleting.contains(u)))
                .map(|(ar, m)| Node::of(ar, m))
                .collect();
            let actions = plan_with(&nodes, |u| uids.contains(u));
            let orphans: Vec<Arc<Pod>> = pods
                .iter()
                .filter(|p| unscheduled_terminating(p))
                .cloned()
                .collect();
            drop(metas);
            for a in actions {
                act(&c, a).await;
            }
            for pod in &orphans {
                fail_and_remove(&c, pod).await;
            }
            super::rest_after(started.elapsed()).await;
        }
    }));
    tasks
}

/// A terminating pod no node will ever stop: the pod garbage collector's case
/// (`gcUnscheduledTerminating`).
fn unscheduled_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
        && pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_none_or(str::is_empty)
}

/// Marks the pod Failed (unless it already ended), so its Job counts it, then deletes it at
/// once; a finalizer (the Job's tracking one) keeps it until its owner lets go.
async fn fail_and_remove(ctx: &Ctx, pod: &Pod) {
    let (Some(ns), Some(name)) = (&pod.metadata.namespace, &pod.metadata.name) else {
        return;
    };
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending");
    if !matches!(phase, "Failed" | "Succeeded") {
        let patch = json!({"status": {"phase": "Failed"}});
        if let Err(e) = api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::debug!(error = %e, pod = %name, "pod_gc_retry");
            return;
        }
    }
    let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
    if grace > 0 {
        let _ = api
            .delete(name, &DeleteParams::default().grace_period(0))
            .await;
    }
}

fn api(ctx: &Ctx, n: &Node) -> Option<Api<DynamicObject>> {
    let ar = resource_of(&n.resource.0, &n.resource.1)?;
    Some(Api::namespaced_with(ctx.client.clone(), &n.namespace, &ar))
}

/// Whether the owner (apiVersion, kind, name, uid) no longer exists, as the API says now.
async fn owner_gone(ctx: &Ctx, ns: &str, owner: &(String, String, String, String)) -> bool {
    let Some(ar) = resource_of(&owner.0, &owner.1) else {
        // An owner of a kind not watched here is not judged.
        return false;
    };
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &ar);
    match api.get_opt(&owner.2).await {
        Ok(None) => true,
        Ok(Some(o)) => o.metadata.uid.as_deref() != Some(owner.3.as_str()),
        Err(_) => false,
    }
}

async fn act(ctx: &Ctx, action: Action) {
    let result = match &action {
        Action::CollectIfOrphaned(n) => {
            for o in &n.owners {
                if !owner_gone(ctx, &n.namespace, o).await {
                    return;
                }
            }
            match api(ctx, n) {
                Some(api) => api
                    .delete(&n.name, &DeleteParams::background())
                    .await
                    .map(|_| ()),
                None => return,
            }
        }
        Action::DeleteDependent(n) => match api(ctx, n) {
            Some(api) => api
                .delete(&n.name, &DeleteParams::foreground())
                .await
                .map(|_| ()),
            None => return,
        },
        Action::Unlink {
            dependent,
            owner_uid,
        } => {
            let Some(api) = api(ctx, dependent) else {
                return;
            };
            let refs: Vec<serde_json::Value> = match api.get_opt(&dependent.name).await {
                Ok(Some(o)) => o
                    .metadata
                    .owner_references
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|r| &r.uid != owner_uid)
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect(),
                _ => return,
            };
            let patch = json!({"metadata": {"ownerReferences": refs}});
            api.patch(
                &dependent.name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .map(|_| ())
        }
        Action::Finish { owner, finalizer } => {
            let Some(api) = api(ctx, owner) else { return };
            let rest: Vec<&String> = owner
                .finalizers
                .iter()
                .filter(|f| f.as_str() != *finalizer)
                .collect();
            let patch = json!({"metadata": {"finalizers": rest,
                                            "resourceVersion": owner.resource_version}});
            api.patch(&owner.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ())
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, ?action, "garbage_collection_retry");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(kind: &str, name: &str, uid: &str, owners: &[(&str, &str)]) -> Node {
        Node {
            resource: ("v1".into(), kind.into()),
            namespace: "agents".into(),
            name: name.into(),
            uid: uid.into(),
            resource_version: "1".into(),
            deleting: false,
            finalizers: vec![],
            owners: owners
                .iter()
                .map(|(n, u)| {
                    (
                        "batch/v1".into(),
                        "Job".into(),
                        n.to_string(),
                        u.to_string(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn dependents_of_a_missing_owner_are_collected() {
        let nodes = vec![
            node("Job", "j", "job-1", &[]),
            node("Pod", "a", "p-1", &[("j", "job-1")]),
            node("Pod", "b", "p-2", &[("gone", "job-0")]),
        ];
        assert_eq!(
            plan(&nodes),
            vec![Action::CollectIfOrphaned(nodes[2].clone())]
        );
    }

    #[test]
    fn one_live_owner_is_enough() {
        let nodes = vec![
            node("Job", "j", "job-1", &[]),
            node("Pod", "a", "p-1", &[("gone", "job-0"), ("j", "job-1")]),
        ];
        assert_eq!(plan(&nodes), vec![]);
    }

    #[test]
    fn foreground_deletes_dependents_then_finishes() {
        let mut owner = node("Job", "j", "job-1", &[]);
        owner.deleting = true;
        owner.finalizers = vec!["foregroundDeletion".into(), "other".into()];
        let pod = node("Pod", "a", "p-1", &[("j", "job-1")]);
        let mut terminating = node("Pod", "b", "p-2", &[("j", "job-1")]);
        terminating.deleting = true;
        assert_eq!(
            plan(&[owner.clone(), pod.clone(), terminating.clone()]),
            vec![Action::DeleteDependent(pod)],
            "a dependent already terminating is waited for, not deleted again"
        );
        assert_eq!(plan(&[owner.clone(), terminating]), vec![]);
        assert_eq!(
            plan(std::slice::from_ref(&owner)),
            vec![Action::Finish {
                owner,
                finalizer: "foregroundDeletion"
            }]
        );
    }

    #[test]
    fn orphaning_unlinks_then_finishes() {
        let mut owner = node("Job", "j", "job-1", &[]);
        owner.deleting = true;
        owner.finalizers = vec!["orphan".into()];
        let pod = node("Pod", "a", "p-1", &[("j", "job-1")]);
        assert_eq!(
            plan(&[owner.clone(), pod.clone()]),
            vec![Action::Unlink {
                dependent: pod,
                owner_uid: "job-1".into()
            }]
        );
        let mut unlinked = node("Pod", "a", "p-1", &[]);
        unlinked.owners.clear();
        assert_eq!(
            plan(&[owner.clone(), unlinked]),
            vec![Action::Finish {
                owner,
                finalizer: "orphan"
            }]
        );
    }
}
