//! Deployments and ReplicaSets, enough for Deployment fleets: replicas, the scale subresource
//! (the API serves it; this controller follows `spec.replicas`), status and conditions.
//!
//! - A Deployment owns one ReplicaSet per pod template, named `<deployment>-<pod-template-hash>`;
//!   the current one gets `spec.replicas`, older ones are scaled to 0 (the Recreate shape; no
//!   surge arithmetic).
//! - A ReplicaSet keeps `spec.replicas` active pods (not terminating, not Succeeded or Failed),
//!   creating `<rs>-<5 chars>` pods or deleting the least useful ones first (unscheduled, then
//!   pending, then not ready).
//! - Creations and deletions the cache has not shown yet are remembered (client-go's
//!   "expectations"), so a slow watch never doubles them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{Ctx, cache, condition, deleting, resource_of, same_status};
use crate::sim::api::store::random_suffix;

/// Pending creations/deletions are forgotten after this long (the watch must have shown them).
const EXPECTATION_TTL: Duration = Duration::from_secs(30);

/// The `pod-template-hash` of a template: 10 characters of Kubernetes' safe alphabet from an
/// FNV-1a hash of its canonical JSON.
pub fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in serde_json::to_string(template).unwrap_or_default().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    (0..10)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
            h /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// A pod as the ReplicaSet sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodState {
    pub name: String,
    pub scheduled: bool,
    pub running: bool,
    pub ready: bool,
    pub created: String,
}

impl PodState {
    pub fn of(pod: &Value) -> Option<Self> {
        let phase = pod["status"]["phase"].as_str().unwrap_or("Pending");
        if deleting(pod) || matches!(phase, "Succeeded" | "Failed") {
            return None;
        }
        Some(PodState {
            name: pod["metadata"]["name"].as_str()?.to_string(),
            scheduled: pod["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty()),
            running: phase == "Running",
            ready: pod["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True"),
            created: pod["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    }
}

/// Which of `active` pods to delete to get down to `want`: the least useful first (unscheduled,
/// pending, not ready, then the newest).
pub fn victims(active: &[PodState], want: usize) -> Vec<String> {
    if active.len() <= want {
        return vec![];
    }
    let mut v: Vec<&PodState> = active.iter().collect();
    v.sort_by(|a, b| {
        (a.scheduled, a.running, a.ready)
            .cmp(&(b.scheduled, b.running, b.ready))
            .then_with(|| b.created.cmp(&a.created))
    });
    v.into_iter()
        .take(active.len() - want)
        .map(|p| p.name.clone())
        .collect()
}

#[derive(Default)]
struct Expectations {
    /// Per ReplicaSet uid: pods created or deleted that the cache may not show yet.
    created: HashMap<String, HashMap<String, Instant>>,
    deleted: HashMap<String, HashMap<String, Instant>>,
}

impl Expectations {
    /// The active pod names, corrected by what was just done.
    fn correct(
        &mut self,
        rs: &str,
        observed: &HashSet<String>,
        all_seen: &HashSet<String>,
    ) -> HashSet<String> {
        let now = Instant::now();
        let created = self.created.entry(rs.to_string()).or_default();
        created.retain(|n, at| !all_seen.contains(n) && now.duration_since(*at) < EXPECTATION_TTL);
        let deleted = self.deleted.entry(rs.to_string()).or_default();
        deleted.retain(|n, at| observed.contains(n) && now.duration_since(*at) < EXPECTATION_TTL);
        observed
            .iter()
            .filter(|n| !deleted.contains_key(*n))
            .chain(created.keys())
            .cloned()
            .collect()
    }
}

/// Whether an object's controller owner is a ReplicaSet.
fn controlled_by_replicaset(
    m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> bool {
    m.owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.kind == "ReplicaSet")
}

fn controller_uid(o: &Value) -> Option<&str> {
    o["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)?["uid"]
        .as_str()
}

fn owner_ref(o: &Value, api_version: &str, kind: &str) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "name": o["metadata"]["name"],
           "uid": o["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true})
}

pub fn spawn(ctx: &Ctx) -> Vec<JoinHandle<()>> {
    let changed = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    let (Some(dep_ar), Some(rs_ar), Some(pod_ar)) = (
        resource_of("apps/v1", "Deployment"),
        resource_of("apps/v1", "ReplicaSet"),
        resource_of("v1", "Pod"),
    ) else {
        return tasks;
    };
    let (deps, t1) = cache(ctx, &dep_ar, changed.clone());
    let (rss, t2) = cache(ctx, &rs_ar, changed.clone());
    ctx.pods.notify_on_change(changed.clone());
    tasks.extend([t1, t2]);
    let c = ctx.clone();
    tasks.push(ctx.spawn(async move {
        let mut exp = Expectations::default();
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(5), changed.notified()).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let values = |s: &kube::runtime::reflector::Store<DynamicObject>| -> Vec<Value> {
                s.state()
                    .iter()
                    .filter_map(|o| serde_json::to_value(o.as_ref()).ok())
                    .collect()
            };
            // Only pods a ReplicaSet controls matter here: converting every other pod of a big
            // cluster on every change would cost O(pods) per event.
            let (deps, rss) = (values(&deps), values(&rss));
            let pods: Vec<Value> = if rss.is_empty() {
                vec![]
            } else {
                c.pods
                    .state()
                    .iter()
                    .filter(|p| controlled_by_replicaset(&p.metadata))
                    .filter_map(|p| serde_json::to_value(p.as_ref()).ok())
                    .collect()
            };
            sync_deployments(&c, &dep_ar, &rs_ar, &deps, &rss).await;
            sync_replicasets(&c, &rs_ar, &pod_ar, &rss, &pods, &mut exp).await;
        }
    }));
    tasks
}

async fn sync_deployments(
    ctx: &Ctx,
    dep_ar: &ApiResource,
    rs_ar: &ApiResource,
    deps: &[Value],
    rss: &[Value],
) {
    for d in deps {
        if deleting(d) {
            continue;
        }
        let ns = d["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        let uid = d["metadata"]["uid"].as_str().unwrap_or_default();
        let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let hash = template_hash(&d["spec"]["template"]);
        let current = format!("{name}-{hash}");
        let owned: Vec<&Value> = rss
            .iter()
            .filter(|r| controller_uid(r) == Some(uid))
            .collect();
        let rs_api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, rs_ar);
        if !owned
            .iter()
            .any(|r| r["metadata"]["name"] == current.as_str())
        {
            let mut template = d["spec"]["template"].clone();
            template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut selector = d["spec"]["selector"].clone();
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": current, "namespace": ns,
                    "labels": template["metadata"]["labels"],
                    "annotations": {"deployment.kubernetes.io/desired-replicas": want.to_string()},
                    "ownerReferences": [owner_ref(d, "apps/v1", "Deployment")]},
                "spec": {"replicas": want, "selector": selector, "template": template}});
            if let Ok(rs) = serde_json::from_value::<DynamicObject>(rs)
                && let Err(e) = rs_api.create(&PostParams::default(), &rs).await
            {
                tracing::debug!(error = %e, rs = %current, "replicaset_not_created");
            }
        }
        // The current ReplicaSet follows the Deployment; older ones go to 0.
        for r in &owned {
            let rname = r["metadata"]["name"].as_str().unwrap_or_default();
            let target = if rname == current { want } else { 0 };
            if r["spec"]["replicas"].as_i64().unwrap_or(1) != target {
                let p = json!({"spec": {"replicas": target}});
                let _ = rs_api
                    .patch(rname, &PatchParams::default(), &Patch::Merge(&p))
                    .await;
            }
        }
        let sum = |f: &str| -> i64 {
            owned
                .iter()
                .map(|r| r["status"][f].as_i64().unwrap_or(0))
                .sum()
        };
        let updated = owned
            .iter()
            .find(|r| r["metadata"]["name"] == current.as_str())
            .map_or(0, |r| r["status"]["replicas"].as_i64().unwrap_or(0));
        let (replicas, ready, available) = (
            sum("replicas"),
            sum("readyReplicas"),
            sum("availableReplicas"),
        );
        let max_unavailable = want / 4; // the default maxUnavailable 25%, rounded down
        let (av, av_reason) = if available >= want - max_unavailable {
            ("True", "MinimumReplicasAvailable")
        } else {
            ("False", "MinimumReplicasUnavailable")
        };
        let progressing = if updated == want && available >= want {
            "NewReplicaSetAvailable"
        } else {
            "ReplicaSetUpdated"
        };
        let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
        let now = jiff::Timestamp::now();
        let cond = |t: &str, st: &str, reason: &str, message: String| {
            let mut c = condition(&d["status"]["conditions"], t, st, reason, &message, now);
            c["lastUpdateTime"] = c["lastTransitionTime"].clone();
            c
        };
        let status = json!({
        "observedGeneration": generation, "replicas": replicas, "updatedReplicas": updated,
        "readyReplicas": ready, "availableReplicas": available,
        "unavailableReplicas": (replicas - available).max(0),
        "conditions": [
            cond("Available", av, av_reason, if av == "True" { "Deployment has minimum availability.".into() } else { "Deployment does not have minimum availability.".into() }),
            cond("Progressing", "True", progressing, format!("ReplicaSet \"{current}\" {}.", if progressing == "NewReplicaSetAvailable" { "has successfully progressed" } else { "is progressing" })),
        ]});
        if !same_status(&d["status"], &status) {
            let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, dep_ar);
            let _ = api
                .patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(&json!({"status": status})),
                )
                .await;
        }
    }
}

async fn sync_replicasets(
    ctx: &Ctx,
    rs_ar: &ApiResource,
    pod_ar: &ApiResource,
    rss: &[Value],
    pods: &[Value],
    exp: &mut Expectations,
) {
    let mut by_owner: HashMap<&str, Vec<&Value>> = HashMap::new();
    for p in pods {
        if let Some(uid) = controller_uid(p) {
            by_owner.entry(uid).or_default().push(p);
        }
    }
    for r in rss {
        if deleting(r) {
            continue;
        }
        let ns = r["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = r["metadata"]["name"].as_str().unwrap_or_default();
        let uid = r["metadata"]["uid"].as_str().unwrap_or_default();
        let want = r["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
        let owned = by_owner.get(uid).cloned().unwrap_or_default();
        let all_seen: HashSet<String> = owned
            .iter()
            .filter_map(|p| p["metadata"]["name"].as_str().map(String::from))
            .collect();
        let active: Vec<PodState> = owned.iter().filter_map(|p| PodState::of(p)).collect();
        let observed: HashSet<String> = active.iter().map(|p| p.name.clone()).collect();
        let counted = exp.correct(uid, &observed, &all_seen);
        let pod_api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, pod_ar);
        if counted.len() < want {
            let n = want - counted.len();
            let template = &r["spec"]["template"];
            let made: Vec<String> = (0..n)
                .map(|_| format!("{name}-{}", random_suffix()))
                .collect();
            let created = exp.created.entry(uid.to_string()).or_default();
            for m in &made {
                created.insert(m.clone(), Instant::now());
            }
            futures::stream::iter(made)
                .for_each_concurrent(16, |pod_name| {
                    let pod_api = pod_api.clone();
                    let mut meta = template["metadata"].clone();
                    if !meta.is_object() {
                        meta = json!({});
                    }
                    meta["name"] = json!(pod_name);
                    meta["namespace"] = json!(ns);
                    meta["ownerReferences"] = json!([owner_ref(r, "apps/v1", "ReplicaSet")]);
                    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                                     "spec": template["spec"]});
                    async move {
                        if let Ok(pod) = serde_json::from_value::<DynamicObject>(pod)
                            && let Err(e) = pod_api.create(&PostParams::default(), &pod).await
                        {
                            tracing::debug!(error = %e, "pod_not_created");
                        }
                    }
                })
                .await;
        } else if counted.len() > want {
            let candidates: Vec<PodState> = active
                .iter()
                .filter(|p| counted.contains(&p.name))
                .cloned()
                .collect();
            let extra = victims(&candidates, want);
            let deleted = exp.deleted.entry(uid.to_string()).or_default();
            for v in &extra {
                deleted.insert(v.clone(), Instant::now());
            }
            for v in extra {
                let _ = pod_api.delete(&v, &DeleteParams::default()).await;
            }
        }
        let ready = active.iter().filter(|p| p.ready).count();
        let generation = r["metadata"]["generation"].as_i64().unwrap_or(1);
        let status = json!({"replicas": active.len(), "fullyLabeledReplicas": active.len(),
            "readyReplicas": ready, "availableReplicas": ready, "observedGeneration": generation});
        if r["status"] != status {
            let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, rs_ar);
            let _ = api
                .patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(&json!({"status": status})),
                )
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_hash_is_stable_and_follows_the_template() {
        let a =
            json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c"}]}});
        let b =
            json!({"metadata": {"labels": {"app": "y"}}, "spec": {"containers": [{"name": "c"}]}});
        assert_eq!(template_hash(&a), template_hash(&a.clone()));
        assert_ne!(template_hash(&a), template_hash(&b));
        assert_eq!(template_hash(&a).len(), 10);
    }

    fn p(name: &str, scheduled: bool, running: bool, ready: bool, created: &str) -> PodState {
        PodState {
            name: name.into(),
            scheduled,
            running,
            ready,
            created: created.into(),
        }
    }

    #[test]
    fn the_least_useful_pods_go_first() {
        let pods = [
            p("ready-old", true, true, true, "2026-01-01T00:00:00Z"),
            p("ready-new", true, true, true, "2026-01-01T00:01:00Z"),
            p("unscheduled", false, false, false, "2026-01-01T00:00:00Z"),
            p("pending", true, false, false, "2026-01-01T00:00:00Z"),
        ];
        assert_eq!(victims(&pods, 4), Vec::<String>::new());
        assert_eq!(victims(&pods, 2), ["unscheduled", "pending"]);
        assert_eq!(victims(&pods, 1), ["unscheduled", "pending", "ready-new"]);
    }

    #[test]
    fn terminal_and_terminating_pods_are_not_active() {
        let pod = |phase: &str, deleting: bool| {
            let mut v = json!({"metadata": {"name": "x"}, "spec": {}, "status": {"phase": phase}});
            if deleting {
                v["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
            }
            v
        };
        assert!(PodState::of(&pod("Running", false)).is_some());
        assert!(PodState::of(&pod("Pending", false)).is_some());
        assert!(PodState::of(&pod("Running", true)).is_none());
        assert!(PodState::of(&pod("Failed", false)).is_none());
        assert!(PodState::of(&pod("Succeeded", false)).is_none());
    }

    #[test]
    fn expectations_cover_what_the_cache_has_not_shown() {
        let mut e = Expectations::default();
        e.created
            .entry("rs".into())
            .or_default()
            .insert("new".into(), Instant::now());
        let observed: HashSet<String> = ["a".to_string()].into();
        let counted = e.correct("rs", &observed, &observed);
        assert_eq!(
            counted.len(),
            2,
            "the created pod counts before the cache shows it"
        );
        let seen: HashSet<String> = ["a".to_string(), "new".to_string()].into();
        let counted = e.correct("rs", &seen, &seen);
        assert_eq!(counted.len(), 2);
        assert!(
            e.created["rs"].is_empty(),
            "observed creations are forgotten"
        );
    }
}
