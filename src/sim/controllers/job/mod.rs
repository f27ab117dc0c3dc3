//! The batch/v1 Job controller (SPEC-k8s.md §2), an API client of the sim like the real one.
//!
//! - [`reconcile`]: the pure decision (Job + its pods + now → a [`reconcile::Plan`]).
//! - This module: a reflector of Jobs, a watcher of Pods indexed by their controlling Job's uid
//!   (so a reconcile reads only that Job's pods, never every pod), and kube-runtime's `applier`
//!   that runs one reconcile per Job at a time, triggered by the Job or any of its pods.
//!
//! Watches lag behind writes. So that a reconcile never acts on a view older than its own last
//! writes (creating a pod twice, or losing a count whose finalizer it already removed), the
//! objects the controller wrote are kept in a small overlay and preferred over the watched copy
//! until the watch has caught up: until it has delivered an event at or past the write's
//! resourceVersion (the role of kube-controller-manager's expectations). Progress, not a timer,
//! retires an entry, so a watch that lags by minutes at 10,000 pods never makes a created pod
//! look missing and created again.

pub mod reconcile;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::{StreamExt, stream};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, applier, watcher};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::Ctx;
use super::events::{EventType, Recorder, reference};
use reconcile::{Plan, PodRef, TRACKING_FINALIZER};

/// The component name on the Events it records.
pub const COMPONENT: &str = "job-controller";
/// Concurrent API writes per reconcile.
const WRITE_CONCURRENCY: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("writing the status of job {job}: {source}")]
    Status {
        job: String,
        #[source]
        source: kube::Error,
    },
    #[error("job {job} has no uid")]
    NoUid { job: String },
}

/// The uid of a pod's controlling Job, if it has one.
fn owner_job(pod: &Pod) -> Option<(&str, &str)> {
    pod.metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true) && o.kind == "Job" && o.api_version == "batch/v1")
        .map(|o| (o.uid.as_str(), o.name.as_str()))
}

fn rv(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> u64 {
    meta.resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

type ByOwner = HashMap<String, HashMap<String, Arc<Pod>>>;

/// Pods by the uid of their controlling Job, kept current by a pod watcher.
#[derive(Default)]
pub struct PodIndex {
    by_owner: ByOwner,
    owner_of: HashMap<String, String>,
    /// A relist in progress: the new contents, swapped in at its end.
    building: Option<(ByOwner, HashMap<String, String>)>,
    /// The highest resourceVersion the watch has delivered: every pod change up to it is in.
    seen: u64,
    /// The first listing has ended: until then the index may miss most pods, and a reconcile
    /// would create them again.
    synced: super::informer::Synced,
}

impl PodIndex {
    fn insert(by_owner: &mut ByOwner, owner_of: &mut HashMap<String, String>, pod: Arc<Pod>) {
        let k = key(&pod);
        let owner = owner_job(&pod).map(|(uid, _)| uid.to_string());
        if let Some(old) = owner_of.remove(&k)
            && let Some(m) = by_owner.get_mut(&old)
        {
            m.remove(&k);
            if m.is_empty() {
                by_owner.remove(&old);
            }
        }
        if let Some(uid) = owner {
            owner_of.insert(k.clone(), uid.clone());
            by_owner.entry(uid).or_default().insert(k, pod);
        }
    }

    /// Applies one watch event; returns the Job to reconcile because of it.
    fn apply(&mut self, ev: super::informer::PodEvent) -> Option<ObjectRef<Job>> {
        if let watcher::Event::Apply(p) | watcher::Event::Delete(p) | watcher::Event::InitApply(p) =
            &ev
        {
            self.seen = self.seen.max(rv(&p.metadata));
        }
        let owner_ref = |p: &Pod| {
            owner_job(p).map(|(_, name)| {
                ObjectRef::new(name).within(p.metadata.namespace.as_deref().unwrap_or_default())
            })
        };
        match ev {
            watcher::Event::Apply(p) => {
                let r = owner_ref(&p);
                Self::insert(&mut self.by_owner, &mut self.owner_of, p);
                r
            }
            watcher::Event::Delete(p) => {
                let r = owner_ref(&p);
                let k = key(&p);
                if let Some(uid) = self.owner_of.remove(&k)
                    && let Some(m) = self.by_owner.get_mut(&uid)
                {
                    m.remove(&k);
                    if m.is_empty() {
                        self.by_owner.remove(&uid);
                    }
                }
                r
            }
            watcher::Event::Init => {
                self.building = Some(Default::default());
                None
            }
            watcher::Event::InitApply(p) => {
                let r = owner_ref(&p);
                if let Some((b, o)) = self.building.as_mut() {
                    Self::insert(b, o, p);
                }
                r
            }
            watcher::Event::InitDone => {
                if let Some((b, o)) = self.building.take() {
                    self.by_owner = b;
                    self.owner_of = o;
                }
                self.synced.mark();
                None
            }
        }
    }

    /// The pods controlled by the Job with this uid.
    pub fn pods_of(&self, uid: &str) -> Vec<Arc<Pod>> {
        self.by_owner
            .get(uid)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// A pod as the controller last wrote it (None: deleted and gone).
struct Written {
    pod: Option<Arc<Pod>>,
    /// The write's resourceVersion; `u64::MAX` for a deletion that returned no object.
    rv: u64,
}

#[derive(Default)]
struct Overlay {
    /// job uid → pod name → what was written
    pods: HashMap<String, HashMap<String, Written>>,
    /// job uid → the Job as its last status write returned it
    jobs: HashMap<String, Arc<Job>>,
}

struct State {
    client: Client,
    recorder: Recorder,
    index: RwLock<PodIndex>,
    /// The index's first listing has ended (a clone of its signal, read without the lock).
    synced: super::informer::Synced,
    overlay: Mutex<Overlay>,
}

impl State {
    fn newest_job(&self, watched: Arc<Job>, uid: &str) -> Arc<Job> {
        let mut o = self.overlay.lock().unwrap_or_else(|e| e.into_inner());
        match o.jobs.get(uid) {
            Some(w) if rv(&w.metadata) > rv(&watched.metadata) => {
                // The watched spec may be newer in content only if its rv is; keep ours.
                w.clone()
            }
            Some(_) => {
                o.jobs.remove(uid);
                watched
            }
            None => watched,
        }
    }

    /// The Job's pods: the index, corrected by the controller's own recent writes.
    fn pods(&self, uid: &str) -> Vec<Arc<Pod>> {
        let (watched, seen) = {
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            (index.pods_of(uid), index.seen)
        };
        let mut o = self.overlay.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mine) = o.pods.get_mut(uid) else {
            return watched;
        };
        let out = overlay_pods(watched, seen, mine);
        if mine.is_empty() {
            o.pods.remove(uid);
        }
        out
    }

    fn wrote(&self, job_uid: &str, name: &str, pod: Option<Pod>) {
        let rv = pod.as_ref().map_or(u64::MAX, |p| rv(&p.metadata));
        let mut o = self.overlay.lock().unwrap_or_else(|e| e.into_inner());
        o.pods.entry(job_uid.to_string()).or_default().insert(
            name.to_string(),
            Written {
                pod: pod.map(Arc::new),
                rv,
            },
        );
    }
}

/// The watched pods of one Job corrected by what the controller wrote (`mine`, by pod name),
/// given that the watch has delivered every change up to resourceVersion `seen`. An entry is
/// retired once the watch has caught up with it.
fn overlay_pods(
    watched: Vec<Arc<Pod>>,
    seen: u64,
    mine: &mut HashMap<String, Written>,
) -> Vec<Arc<Pod>> {
    let mut out = Vec::with_capacity(watched.len() + mine.len());
    let mut present = std::collections::HashSet::new();
    for p in watched {
        let name = p.metadata.name.clone().unwrap_or_default();
        match mine.get(&name) {
            // Our write is newer than the watched copy: it stands in (or hides a deleted pod).
            Some(w) if w.rv > rv(&p.metadata) => {
                if let Some(wp) = &w.pod {
                    out.push(wp.clone());
                }
                present.insert(name);
            }
            Some(_) => {
                mine.remove(&name);
                out.push(p);
            }
            None => out.push(p),
        }
    }
    mine.retain(|name, w| {
        if present.contains(name) {
            return true;
        }
        match &w.pod {
            // Created (or updated) and not watched yet: it stands in until the watch reaches it;
            // past that, its absence means it is gone since.
            Some(p) if w.rv > seen => {
                out.push(p.clone());
                true
            }
            _ => false,
        }
    });
    out
}

/// Status fields the controller owns; a field absent from the new status is cleared.
const STATUS_FIELDS: &[&str] = &[
    "active",
    "ready",
    "terminating",
    "succeeded",
    "failed",
    "completedIndexes",
    "failedIndexes",
    "startTime",
    "completionTime",
    "conditions",
];

/// The merge patch that makes the status exactly `status` (and fails on a stale Job).
fn status_patch(status: &JobStatus, resource_version: Option<&str>) -> Value {
    let mut v = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
    if let Some(m) = v.as_object_mut() {
        for f in STATUS_FIELDS {
            m.entry(*f).or_insert(Value::Null);
        }
        let u = status.uncounted_terminated_pods.clone().unwrap_or_default();
        m.insert(
            "uncountedTerminatedPods".into(),
            json!({"succeeded": u.succeeded, "failed": u.failed}),
        );
    }
    json!({"metadata": {"resourceVersion": resource_version}, "status": v})
}

async fn execute(st: &State, job: &Job, uid: &str, plan: Plan) -> Result<(), JobError> {
    let name = job.name_any();
    let ns = job.namespace().unwrap_or_else(|| "default".into());
    let jobs: Api<Job> = Api::namespaced(st.client.clone(), &ns);
    let pods: Api<Pod> = Api::namespaced(st.client.clone(), &ns);
    let about = reference(job);

    // 1. The status first: it records every pod about to be unblocked.
    if let Some(status) = &plan.status {
        let patch = status_patch(status, job.metadata.resource_version.as_deref());
        let written = jobs
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|source| JobError::Status {
                job: format!("{ns}/{name}"),
                source,
            })?;
        let mut o = st.overlay.lock().unwrap_or_else(|e| e.into_inner());
        o.jobs.insert(uid.to_string(), Arc::new(written));
    }

    // 2. Finalizers.
    let unblock =
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}});
    stream::iter(plan.remove_finalizers.iter())
        .for_each_concurrent(WRITE_CONCURRENCY, |p: &PodRef| {
            let pods = pods.clone();
            let unblock = &unblock;
            async move {
                match pods
                    .patch(&p.name, &PatchParams::default(), &Patch::Strategic(unblock))
                    .await
                {
                    Ok(pod) => {
                        // Unscheduled and deleted: the pod is gone with its last finalizer.
                        let gone = pod.metadata.deletion_timestamp.is_some()
                            && pod
                                .metadata
                                .finalizers
                                .as_ref()
                                .is_none_or(|f| f.is_empty())
                            && pod
                                .spec
                                .as_ref()
                                .and_then(|s| s.node_name.as_ref())
                                .is_none();
                        st.wrote(uid, &p.name, (!gone).then_some(pod));
                    }
                    Err(kube::Error::Api(e)) if e.code == 404 => st.wrote(uid, &p.name, None),
                    Err(e) => tracing::warn!(pod = %p.name, error = %e, "finalizer_not_removed"),
                }
            }
        })
        .await;

    // 3. Deletions.
    stream::iter(plan.delete.iter())
        .for_each_concurrent(WRITE_CONCURRENCY, |p: &PodRef| {
            let pods = pods.clone();
            let about = &about;
            async move {
                let dp = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: Some(p.uid.clone()),
                        resource_version: None,
                    }),
                    ..DeleteParams::default()
                };
                match pods.delete(&p.name, &dp).await {
                    Ok(either) => {
                        st.wrote(uid, &p.name, either.left());
                        st.recorder
                            .record(
                                about,
                                EventType::Normal,
                                "SuccessfulDelete",
                                &format!("Deleted pod: {}", p.name),
                            )
                            .await;
                    }
                    Err(kube::Error::Api(e)) if e.code == 404 => st.wrote(uid, &p.name, None),
                    Err(e) => {
                        st.recorder
                            .record(
                                about,
                                EventType::Warning,
                                "FailedDelete",
                                &format!("Error deleting: {e}"),
                            )
                            .await;
                    }
                }
            }
        })
        .await;

    // 4. Creations.
    stream::iter(plan.create.iter())
        .for_each_concurrent(WRITE_CONCURRENCY, |pod: &Pod| {
            let pods = pods.clone();
            let about = &about;
            async move {
                match pods.create(&PostParams::default(), pod).await {
                    Ok(made) => {
                        let pod_name = made.name_any();
                        st.wrote(uid, &pod_name, Some(made));
                        st.recorder
                            .record(
                                about,
                                EventType::Normal,
                                "SuccessfulCreate",
                                &format!("Created pod: {pod_name}"),
                            )
                            .await;
                    }
                    Err(e) => {
                        st.recorder
                            .record(
                                about,
                                EventType::Warning,
                                "FailedCreate",
                                &format!("Error creating: {e}"),
                            )
                            .await;
                    }
                }
            }
        })
        .await;

    // 5. The Job's own events.
    for ev in &plan.events {
        st.recorder
            .record(&about, ev.kind, ev.reason, &ev.message)
            .await;
    }
    Ok(())
}

/// How long the syncs asked for by a Job's pod events are gathered (`syncJobBatchPeriod`).
const SYNC_BATCH_PERIOD: Duration = Duration::from_secs(1);

async fn reconcile_one(job: Arc<Job>, st: Arc<State>) -> Result<Action, JobError> {
    let uid = job.uid().ok_or_else(|| JobError::NoUid {
        job: job.name_any(),
    })?;
    st.synced.wait().await;
    let job = st.newest_job(job, &uid);
    let pods = st.pods(&uid);
    let refs: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();
    let plan = reconcile::reconcile(&job, &refs, Timestamp::now());
    let requeue = plan.requeue_after;
    let wrote_pods = !plan.create.is_empty() || !plan.delete.is_empty();
    execute(&st, &job, &uid, plan).await?;
    Ok(match requeue {
        // A wake-up, not a promise: a deadline years away (a client's number) is looked at
        // again within the hour, as kube-runtime's delay queue cannot hold more than ~2 years.
        Some(d) => Action::requeue(d.clamp(Duration::from_millis(100), Duration::from_secs(3600))),
        // Pods just written are seen again through the watch; look once more regardless.
        None if wrote_pods => Action::requeue(Duration::from_secs(5)),
        None => Action::await_change(),
    })
}

/// Lets go of the pods of a Job that is gone (the garbage collector deletes them).
async fn release_orphans(st: Arc<State>, uid: String) {
    let pods = st
        .index
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .pods_of(&uid);
    let unblock =
        json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}});
    for p in pods.iter().filter(|p| {
        p.metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| f.iter().any(|x| x == TRACKING_FINALIZER))
    }) {
        let api: Api<Pod> = Api::namespaced(
            st.client.clone(),
            p.metadata.namespace.as_deref().unwrap_or("default"),
        );
        if let Err(e) = api
            .patch(
                &p.name_any(),
                &PatchParams::default(),
                &Patch::Strategic(&unblock),
            )
            .await
        {
            tracing::debug!(pod = %p.name_any(), error = %e, "orphan_finalizer_not_removed");
        }
    }
    st.overlay
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pods
        .remove(&uid);
}

/// Runs the Job controller until the stream ends (the sim's shutdown ends it from outside).
pub async fn run(ctx: Ctx) {
    let index = PodIndex::default();
    let st = Arc::new(State {
        client: ctx.client.clone(),
        recorder: ctx.recorder(COMPONENT),
        synced: index.synced.clone(),
        index: RwLock::new(index),
        overlay: Mutex::default(),
    });
    let (reader, writer) = reflector::store::<Job>();
    let jobs_st = st.clone();
    let job_triggers = watcher(
        Api::<Job>::all(ctx.client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(writer)
    .filter_map(move |ev| {
        let st = jobs_st.clone();
        async move {
            match ev {
                Ok(watcher::Event::Apply(j) | watcher::Event::InitApply(j)) => {
                    Some(ObjectRef::from(&j))
                }
                Ok(watcher::Event::Delete(j)) => {
                    if let Some(uid) = j.uid() {
                        tokio::spawn(release_orphans(st, uid));
                    }
                    None
                }
                Ok(_) => None,
                Err(e) => {
                    tracing::debug!(error = %e, "job_watch_error");
                    None
                }
            }
        }
    });
    let pods_st = st.clone();
    let mut pod_events = ctx.pods.subscribe();
    let pod_triggers = stream::poll_fn(move |cx| pod_events.poll_recv(cx)).filter_map(move |ev| {
        let r = pods_st
            .index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .apply(ev);
        std::future::ready(r)
    });
    // A Job's own changes sync it at once; its pods' events are batched (1 s), as the 1.32
    // controller's `enqueueSyncJobBatched` does.
    let pod_triggers = super::batched(pod_triggers, SYNC_BATCH_PERIOD);
    let queue = stream::select(job_triggers, pod_triggers).map(Ok::<_, Infallible>);
    applier(
        |job, st| Box::pin(reconcile_one(job, st)),
        |job, err, _| {
            tracing::debug!(job = %job.name_any(), error = %err, "job_reconcile_failed");
            Action::requeue(Duration::from_millis(500))
        },
        st,
        reader,
        queue,
        Config::default(),
    )
    .for_each(|_| async {})
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, rv: u64) -> Arc<Pod> {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.resource_version = Some(rv.to_string());
        Arc::new(p)
    }

    fn names(v: &[Arc<Pod>]) -> Vec<String> {
        let mut n: Vec<String> = v.iter().map(|p| p.name_any()).collect();
        n.sort();
        n
    }

    fn created(name: &str, rv: u64) -> Written {
        Written {
            pod: Some(pod(name, rv)),
            rv,
        }
    }

    fn owned(name: &str, rv: u64) -> Arc<Pod> {
        let mut p = (*pod(name, rv)).clone();
        p.metadata.namespace = Some("agents".into());
        p.metadata.owner_references = Some(vec![
            k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name: "batch".into(),
                uid: "job-uid".into(),
                controller: Some(true),
                ..Default::default()
            },
        ]);
        Arc::new(p)
    }

    #[test]
    fn the_index_is_synced_only_once_its_first_listing_ended() {
        let mut index = PodIndex::default();
        assert!(!index.synced.is_set());
        index.apply(watcher::Event::Init);
        index.apply(watcher::Event::InitApply(owned("a", 10)));
        assert!(
            !index.synced.is_set(),
            "mid-listing, the index holds a part of the pods"
        );
        assert!(index.pods_of("job-uid").is_empty());
        index.apply(watcher::Event::InitApply(owned("b", 11)));
        index.apply(watcher::Event::InitDone);
        assert!(index.synced.is_set());
        assert_eq!(names(&index.pods_of("job-uid")), ["a", "b"]);
        // A relist later keeps the index synced, with the old contents until it ends.
        index.apply(watcher::Event::Init);
        index.apply(watcher::Event::InitApply(owned("a", 12)));
        assert!(index.synced.is_set());
        assert_eq!(names(&index.pods_of("job-uid")), ["a", "b"]);
        index.apply(watcher::Event::InitDone);
        assert_eq!(names(&index.pods_of("job-uid")), ["a"]);
    }

    #[test]
    fn a_created_pod_stands_in_for_as_long_as_the_watch_lags_behind_it() {
        let mut mine = HashMap::from([("b".to_string(), created("b", 120))]);
        // The watch has delivered up to rv 100 only, however long ago the pod was created.
        let out = overlay_pods(vec![pod("a", 90)], 100, &mut mine);
        assert_eq!(names(&out), ["a", "b"]);
        assert!(mine.contains_key("b"));
        // Caught up and still absent: the pod is gone since, so it is not counted.
        let out = overlay_pods(vec![pod("a", 90)], 130, &mut mine);
        assert_eq!(names(&out), ["a"]);
        assert!(mine.is_empty());
    }

    #[test]
    fn the_watched_copy_wins_once_it_is_as_new_as_the_write() {
        let mut mine = HashMap::from([("a".to_string(), created("a", 120))]);
        let out = overlay_pods(vec![pod("a", 100)], 110, &mut mine);
        assert_eq!(
            out[0].metadata.resource_version.as_deref(),
            Some("120"),
            "the write stands in for an older watched copy"
        );
        let out = overlay_pods(vec![pod("a", 125)], 125, &mut mine);
        assert_eq!(out[0].metadata.resource_version.as_deref(), Some("125"));
        assert!(mine.is_empty());
    }

    #[test]
    fn a_deleted_pod_stays_hidden_until_the_watch_drops_it() {
        let mut mine = HashMap::from([(
            "a".to_string(),
            Written {
                pod: None,
                rv: u64::MAX,
            },
        )]);
        let out = overlay_pods(vec![pod("a", 100), pod("b", 100)], 500, &mut mine);
        assert_eq!(names(&out), ["b"]);
        assert!(mine.contains_key("a"));
        assert_eq!(
            names(&overlay_pods(vec![pod("b", 100)], 600, &mut mine)),
            ["b"]
        );
        assert!(mine.is_empty());
    }

    #[test]
    fn the_index_tracks_the_highest_resource_version_delivered() {
        let mut index = PodIndex::default();
        index.apply(watcher::Event::Apply(pod("a", 7)));
        index.apply(watcher::Event::Delete(pod("b", 9)));
        index.apply(watcher::Event::Apply(pod("c", 8)));
        assert_eq!(index.seen, 9);
    }
}
