//! KEDA's ScaledJob scaler (SPEC-k8s.md §1), an API client of the sim like KEDA's operator.
//!
//! Every ScaledJob gets a loop of its own. Each `pollingInterval` it reads its rabbitmq
//! triggers' queue depth over AMQP (a passive declare: ready messages, on one connection named
//! `keda-<namespace>-<scaledjob>`, the broker found through TriggerAuthentication → Secret), counts
//! its Jobs from a watch of Jobs indexed by ScaledJob, creates Jobs as [`cycle::decide`] says,
//! deletes finished Jobs beyond the history limits and Jobs of another generation (§1.4), and
//! keeps the Ready/Active/Paused conditions. The pause annotation (§1.3) stops the loop; taking
//! it off restarts it with an immediate cycle.

pub mod cycle;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ObjectReference, Pod, Secret};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Ctx;
use super::events::{EventType, Recorder};
use crate::fleet::objects::{LABEL_SCALED_JOB, ScaledJobSummary, keda_paused};
use crate::fleet::scaling::TriggerReading;
use crate::queue::amqp::Broker;
use crate::queue::error::QueueError;
use crate::redact::mask_url;
use cycle::OwnedJob;

/// The component name on the Events it records.
pub const COMPONENT: &str = "keda-operator";
/// Jobs created at once.
const CREATE_CONCURRENCY: usize = 16;
/// How long a Job just created counts as running before the watch shows it.
const CREATED_TTL: Duration = Duration::from_secs(60);
/// The namespace whose Secrets a ClusterTriggerAuthentication reads (KEDA's own).
pub const KEDA_NAMESPACE: &str = "keda";

/// Why a trigger gave no reading this cycle. Messages never carry a password.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("trigger {index}: scaler type '{kind}' is not supported")]
    Unsupported { index: usize, kind: String },
    #[error("trigger {index}: {what}")]
    Metadata { index: usize, what: String },
    #[error("trigger {index}: {kind} {name}: {what}")]
    Auth {
        index: usize,
        kind: String,
        name: String,
        what: String,
    },
    #[error("trigger {index}: {source}")]
    Queue {
        index: usize,
        #[source]
        source: QueueError,
    },
    #[error("trigger {index}: {source}")]
    Reading {
        index: usize,
        #[source]
        source: cycle::ReadingError,
    },
}

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("keda.sh", "v1alpha1", kind), plural)
}

fn scaledjobs() -> ApiResource {
    resource("ScaledJob", "scaledjobs")
}

/// The ScaledJob an Event is about.
fn reference(sj: &Value) -> ObjectReference {
    ObjectReference {
        api_version: Some("keda.sh/v1alpha1".into()),
        kind: Some("ScaledJob".into()),
        name: sj["metadata"]["name"].as_str().map(str::to_string),
        namespace: sj["metadata"]["namespace"].as_str().map(str::to_string),
        uid: sj["metadata"]["uid"].as_str().map(str::to_string),
        resource_version: sj["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string),
        ..Default::default()
    }
}

type JobsBySj = HashMap<(String, String), HashMap<String, OwnedJob>>;

/// The Jobs labelled `scaledjob.keda.sh/name`, by (namespace, ScaledJob).
#[derive(Default)]
struct JobIndex {
    by_sj: JobsBySj,
    building: Option<JobsBySj>,
    /// The first listing has ended; before it, the running Jobs are not all known and a cycle
    /// would create Jobs that exist (KEDA's cached client waits for its cache the same way).
    synced: super::informer::Synced,
}

impl JobIndex {
    fn sj_key(j: &Job) -> Option<(String, String)> {
        let sj = j.labels().get(LABEL_SCALED_JOB)?.clone();
        Some((j.namespace().unwrap_or_default(), sj))
    }

    fn put(map: &mut JobsBySj, j: &Job) {
        if let Some(k) = Self::sj_key(j)
            && let Ok(v) = serde_json::to_value(j)
        {
            map.entry(k)
                .or_default()
                .insert(j.name_any(), OwnedJob::from_json(&v));
        }
    }

    fn apply(&mut self, ev: watcher::Event<Job>) {
        match ev {
            watcher::Event::Apply(j) => Self::put(&mut self.by_sj, &j),
            watcher::Event::Delete(j) => {
                if let Some(k) = Self::sj_key(&j)
                    && let Some(m) = self.by_sj.get_mut(&k)
                {
                    m.remove(&j.name_any());
                    if m.is_empty() {
                        self.by_sj.remove(&k);
                    }
                }
            }
            watcher::Event::Init => self.building = Some(HashMap::new()),
            watcher::Event::InitApply(j) => {
                if let Some(b) = self.building.as_mut() {
                    Self::put(b, &j);
                }
            }
            watcher::Event::InitDone => {
                if let Some(b) = self.building.take() {
                    self.by_sj = b;
                }
                self.synced.mark();
            }
        }
    }
}

struct Shared {
    client: Client,
    recorder: Recorder,
    jobs: RwLock<JobIndex>,
    /// The Job index's first listing has ended (a clone of its signal, read without the lock).
    synced: super::informer::Synced,
}

/// One ScaledJob's loop state that outlives a cycle.
struct Loop {
    broker: Option<(String, Broker)>,
    /// Jobs this loop created, until the watch shows them.
    created: Vec<(String, Instant)>,
    paused: Option<bool>,
}

impl Shared {
    fn jobs_of(&self, ns: &str, sj: &str) -> Vec<OwnedJob> {
        self.jobs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .by_sj
            .get(&(ns.to_string(), sj.to_string()))
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The params of a trigger's `authenticationRef` (SPEC §1.5).
    async fn auth_params(
        &self,
        ns: &str,
        index: usize,
        auth_ref: &Value,
    ) -> Result<BTreeMap<String, String>, TriggerError> {
        let mut out = BTreeMap::new();
        let Some(name) = auth_ref["name"].as_str() else {
            return Ok(out);
        };
        let kind = auth_ref["kind"].as_str().unwrap_or("TriggerAuthentication");
        let fail = |what: String| TriggerError::Auth {
            index,
            kind: kind.to_string(),
            name: name.to_string(),
            what,
        };
        let (api, secret_ns): (Api<DynamicObject>, &str) = match kind {
            "TriggerAuthentication" => (
                Api::namespaced_with(
                    self.client.clone(),
                    ns,
                    &resource("TriggerAuthentication", "triggerauthentications"),
                ),
                ns,
            ),
            "ClusterTriggerAuthentication" => (
                Api::all_with(
                    self.client.clone(),
                    &resource(
                        "ClusterTriggerAuthentication",
                        "clustertriggerauthentications",
                    ),
                ),
                KEDA_NAMESPACE,
            ),
            other => return Err(fail(format!("unknown kind '{other}'"))),
        };
        let ta = api.get(name).await.map_err(|e| fail(e.to_string()))?;
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), secret_ns);
        for r in ta.data["spec"]["secretTargetRef"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (Some(param), Some(sname), Some(key)) = (
                r["parameter"].as_str(),
                r["name"].as_str(),
                r["key"].as_str(),
            ) else {
                return Err(fail("secretTargetRef needs parameter, name and key".into()));
            };
            let secret = secrets
                .get(sname)
                .await
                .map_err(|e| fail(format!("Secret {secret_ns}/{sname}: {e}")))?;
            let value = secret
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .ok_or_else(|| fail(format!("Secret {secret_ns}/{sname} has no key '{key}'")))?;
            let value = String::from_utf8(value.0.clone()).map_err(|_| {
                fail(format!(
                    "Secret {secret_ns}/{sname} key '{key}' is not UTF-8"
                ))
            })?;
            out.insert(param.to_string(), value.trim().to_string());
        }
        Ok(out)
    }

    /// `hostFromEnv`: the variable in the Job template's containers (literal or from a Secret).
    async fn host_from_env(&self, ns: &str, sj: &Value, var: &str) -> Option<String> {
        let containers = sj["spec"]["jobTargetRef"]["template"]["spec"]["containers"].as_array()?;
        let env = containers
            .iter()
            .flat_map(|c| c["env"].as_array().into_iter().flatten())
            .find(|e| e["name"] == var)?;
        if let Some(v) = env["value"].as_str() {
            return Some(v.to_string());
        }
        let r = &env["valueFrom"]["secretKeyRef"];
        let secret = Api::<Secret>::namespaced(self.client.clone(), ns)
            .get(r["name"].as_str()?)
            .await
            .ok()?;
        let bytes = secret.data?.get(r["key"].as_str()?)?.0.clone();
        String::from_utf8(bytes).ok()
    }

    /// The AMQP URL of a rabbitmq trigger (SPEC §1.6: host, protocol, vhostName, credentials).
    async fn trigger_url(
        &self,
        sj: &Value,
        index: usize,
        trigger: &Value,
    ) -> Result<(String, String), TriggerError> {
        let ns = sj["metadata"]["namespace"].as_str().unwrap_or("default");
        let md = |k: &str| trigger["metadata"][k].as_str().map(str::to_string);
        let meta_err = |what: &str| TriggerError::Metadata {
            index,
            what: what.to_string(),
        };
        let params = self
            .auth_params(ns, index, &trigger["authenticationRef"])
            .await?;
        let host = match md("host").or_else(|| params.get("host").cloned()) {
            Some(h) => h,
            None => match md("hostFromEnv") {
                Some(var) => self
                    .host_from_env(ns, sj, &var)
                    .await
                    .ok_or_else(|| meta_err(&format!("hostFromEnv '{var}' is not set")))?,
                None => return Err(meta_err("no host given")),
            },
        };
        let queue = md("queueName").ok_or_else(|| meta_err("no queueName given"))?;
        let scheme = host.split("://").next().unwrap_or_default().to_lowercase();
        let protocol = md("protocol").unwrap_or_else(|| "auto".into());
        let amqp = match (protocol.as_str(), scheme.as_str()) {
            ("amqp", _) | ("auto", "amqp" | "amqps") => true,
            ("http", _) | ("auto", "http" | "https") => false,
            _ => {
                return Err(meta_err(&format!(
                    "protocol '{protocol}' does not fit host {}",
                    mask_url(&host)
                )));
            }
        };
        if !amqp {
            return Err(meta_err(
                "the http protocol (management API) is not supported; use an amqp:// host",
            ));
        }
        let mut url = url::Url::parse(&host)
            .map_err(|e| meta_err(&format!("host {} is not a URL: {e}", mask_url(&host))))?;
        if let Some(user) = params.get("username") {
            let _ = url.set_username(user);
        }
        if let Some(pass) = params.get("password") {
            let _ = url.set_password(Some(pass));
        }
        if let Some(vhost) = md("vhostName") {
            let v = if vhost.is_empty() || vhost == "/" {
                "%2F".to_string()
            } else {
                url::form_urlencoded::byte_serialize(vhost.as_bytes()).collect()
            };
            url.set_path(&format!("/{v}"));
        }
        Ok((url.to_string(), queue))
    }
}

impl Loop {
    /// The ready messages of `queue`, over this ScaledJob's connection.
    async fn depth(
        &mut self,
        conn_name: &str,
        url: &str,
        queue: &str,
        index: usize,
    ) -> Result<u64, TriggerError> {
        if self.broker.as_ref().is_some_and(|(u, _)| u != url)
            && let Some((_, b)) = self.broker.take()
        {
            b.close().await;
        }
        if self.broker.is_none() {
            let b = Broker::connect(url, conn_name)
                .await
                .map_err(|source| TriggerError::Queue { index, source })?;
            self.broker = Some((url.to_string(), b));
        }
        let Some((_, b)) = self.broker.as_ref() else {
            return Err(TriggerError::Metadata {
                index,
                what: "no connection".into(),
            });
        };
        match b.depth(queue).await {
            Ok(d) => Ok(u64::from(d.ready)),
            Err(source) => {
                // A missing queue closes only its channel; anything else may have broken the
                // connection: start afresh next cycle.
                if !matches!(source, QueueError::QueueNotFound { .. })
                    && let Some((_, b)) = self.broker.take()
                {
                    b.close().await;
                }
                Err(TriggerError::Queue { index, source })
            }
        }
    }

    async fn close(&mut self) {
        if let Some((_, b)) = self.broker.take() {
            b.close().await;
        }
    }
}

fn condition(status: &Value, kind: &str) -> Option<Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .cloned()
}

/// The status conditions with `updates` applied (type, status, reason, message).
fn with_conditions(status: &Value, updates: &[(&str, &str, &str, &str)]) -> Value {
    let mut list: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    for (kind, st, reason, message) in updates {
        let c = json!({"type": kind, "status": st, "reason": reason, "message": message});
        match list.iter_mut().find(|x| x["type"] == *kind) {
            Some(x) => *x = c,
            None => list.push(c),
        }
    }
    Value::Array(list)
}

async fn patch_status(sh: &Shared, sj: &Value, status: Value) {
    let ns = sj["metadata"]["namespace"].as_str().unwrap_or("default");
    let name = sj["metadata"]["name"].as_str().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(sh.client.clone(), ns, &scaledjobs());
    if let Err(e) = api
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
    {
        tracing::debug!(scaledjob = %name, error = %e, "scaledjob_status_not_written");
    }
}

/// Sets the Paused condition, on the API and on `sj` (which later status writes start from).
async fn set_paused(sh: &Shared, sj: &mut Value, paused: bool) {
    let (st, reason, message) = if paused {
        ("True", "ScaledJobPaused", "ScaledJob is paused")
    } else {
        (
            "False",
            "ScaledJobUnpaused",
            "pause annotation removed for ScaledJob",
        )
    };
    let conditions = with_conditions(&sj["status"], &[("Paused", st, reason, message)]);
    patch_status(sh, sj, json!({"conditions": conditions})).await;
    if !sj["status"].is_object() {
        sj["status"] = json!({});
    }
    sj["status"]["conditions"] = conditions;
}

async fn delete_jobs(sh: &Shared, ns: &str, names: &[String], foreground: bool) {
    let api: Api<Job> = Api::namespaced(sh.client.clone(), ns);
    let dp = if foreground {
        DeleteParams::foreground()
    } else {
        DeleteParams::background()
    };
    for name in names {
        match api.delete(name, &dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => tracing::debug!(job = %name, error = %e, "scaledjob_job_not_deleted"),
        }
    }
}

/// One polling cycle of one ScaledJob.
async fn run_cycle(sh: &Shared, sj: &Value, state: &mut Loop) {
    let Some(summary) = ScaledJobSummary::from_json(sj) else {
        return;
    };
    let ns = summary.namespace.clone();
    let name = summary.name.clone();
    let spec = &sj["spec"];
    let generation = sj["metadata"]["generation"].as_i64().unwrap_or(0);
    let about = reference(sj);

    // The Jobs: watched, plus the ones created lately that the watch has not shown yet.
    let mut jobs = sh.jobs_of(&ns, &name);
    let seen: HashSet<String> = jobs.iter().map(|j| j.name.clone()).collect();
    state
        .created
        .retain(|(n, at)| !seen.contains(n) && at.elapsed() < CREATED_TTL);
    for (n, _) in &state.created {
        jobs.push(OwnedJob {
            name: n.clone(),
            generation: Some(generation.to_string()),
            complete: false,
            failed: false,
            finished_at: None,
            pending: Some(true),
        });
    }

    // Rollout (§1.4): Jobs of another generation go.
    let outdated = cycle::rollout_victims(&jobs, generation, cycle::rollout_strategy(spec));
    if !outdated.is_empty() {
        let foreground = spec["rollout"]["propagationPolicy"].as_str() == Some("foreground");
        delete_jobs(sh, &ns, &outdated, foreground).await;
        jobs.retain(|j| !outdated.contains(&j.name));
    }

    // The triggers.
    let conn_name = format!("keda-{ns}-{name}");
    let mut readings: Vec<TriggerReading> = Vec::new();
    let mut errors: Vec<TriggerError> = Vec::new();
    for (i, t) in spec["triggers"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let kind = t["type"].as_str().unwrap_or_default();
        if kind != "rabbitmq" {
            errors.push(TriggerError::Unsupported {
                index: i,
                kind: kind.to_string(),
            });
            continue;
        }
        let read = async {
            let (url, queue) = sh.trigger_url(sj, i, t).await?;
            let ready = state.depth(&conn_name, &url, &queue, i).await?;
            cycle::reading(&summary, i, ready, Timestamp::now())
                .map_err(|source| TriggerError::Reading { index: i, source })
        };
        match read.await {
            Ok(r) => readings.push(r),
            Err(e) => errors.push(e),
        }
    }

    // P, when the strategy reads it.
    if cycle::needs_pending(spec) {
        let conditions = cycle::pending_conditions(spec);
        let pods: Api<Pod> = Api::namespaced(sh.client.clone(), &ns);
        let lp = ListParams::default().labels(&format!("{LABEL_SCALED_JOB}={name}"));
        if let Ok(list) = pods.list(&lp).await {
            let values: Vec<Value> = list
                .items
                .iter()
                .filter_map(|p| serde_json::to_value(p).ok())
                .collect();
            let mut by_job: HashMap<&str, Vec<&Value>> = HashMap::new();
            for v in &values {
                if let Some(j) = v["metadata"]["labels"]["job-name"].as_str() {
                    by_job.entry(j).or_default().push(v);
                }
            }
            for j in jobs.iter_mut().filter(|j| j.unfinished()) {
                let pods = by_job.get(j.name.as_str()).cloned().unwrap_or_default();
                j.pending = Some(cycle::job_pending(&pods, &conditions));
            }
        }
    }

    // Scale.
    let decision = cycle::decide(&summary, &readings, &jobs);
    let mut created = 0usize;
    if decision.create > 0 {
        // Posted as JSON: a typed round trip would add empty required fields KEDA never sends.
        let body: DynamicObject = match serde_json::from_value(cycle::generated_job(sj)) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(scaledjob = %name, error = %e, "scaledjob_job_template_invalid");
                return;
            }
        };
        let jobs_ar = ApiResource::erase::<Job>(&());
        let api: Api<DynamicObject> = Api::namespaced_with(sh.client.clone(), &ns, &jobs_ar);
        let made: Vec<Result<DynamicObject, kube::Error>> = stream::iter(0..decision.create)
            .map(|_| {
                let api = api.clone();
                let body = body.clone();
                async move { api.create(&PostParams::default(), &body).await }
            })
            .buffer_unordered(CREATE_CONCURRENCY)
            .collect()
            .await;
        for m in made {
            match m {
                Ok(j) => {
                    created += 1;
                    state.created.push((j.name_any(), Instant::now()));
                }
                Err(e) => {
                    tracing::warn!(scaledjob = %name, error = %e, "scaledjob_job_not_created")
                }
            }
        }
        if created > 0 {
            sh.recorder
                .record(
                    &about,
                    EventType::Normal,
                    "KEDAJobsCreated",
                    &format!("Created {created} jobs"),
                )
                .await;
        }
    }
    for e in &errors {
        tracing::info!(scaledjob = %name, namespace = %ns, error = %e, "scaler_failed");
        sh.recorder
            .record(
                &about,
                EventType::Warning,
                "KEDAScalerFailed",
                &e.to_string(),
            )
            .await;
    }

    // Status.
    let status = &sj["status"];
    let ready = if errors.is_empty() {
        (
            "Ready",
            "True",
            "ScaledJobReady",
            "ScaledJob is defined correctly and is ready to scaling",
        )
    } else {
        (
            "Ready",
            "Unknown",
            "PartialTriggerError",
            "Some triggers defined in ScaledJob are not working correctly",
        )
    };
    let active = if decision.active {
        (
            "Active",
            "True",
            "ScalerActive",
            "Scaling is performed because triggers are active",
        )
    } else {
        (
            "Active",
            "False",
            "ScalerNotActive",
            "Scaling is not performed because triggers are not active",
        )
    };
    let mut new_status = json!({"conditions": with_conditions(status, &[ready, active])});
    let types: Vec<&str> = spec["triggers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["type"].as_str())
        .collect();
    new_status["triggersTypes"] = json!(types.join(","));
    let auths: Vec<&str> = spec["triggers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["authenticationRef"]["name"].as_str())
        .collect();
    if !auths.is_empty() {
        new_status["authenticationsTypes"] = json!(auths.join(","));
    }
    if decision.active {
        new_status["lastActiveTime"] = json!(Timestamp::now().to_string());
    }
    let changed = new_status["conditions"] != status["conditions"]
        || new_status["triggersTypes"] != status["triggersTypes"]
        || new_status.get("lastActiveTime").is_some();
    if changed {
        patch_status(sh, sj, new_status).await;
    }
    tracing::debug!(
        scaledjob = %name, namespace = %ns, running = cycle::job_counts(&jobs).running,
        create = decision.create, created, active = decision.active, "scaledjob_cycle"
    );

    // History (every cycle, active or not).
    let limit = |k: &str| {
        spec[k]
            .as_u64()
            .map_or(cycle::DEFAULT_HISTORY_LIMIT, |n| n as usize)
    };
    let old = cycle::history_victims(
        &jobs,
        limit("successfulJobsHistoryLimit"),
        limit("failedJobsHistoryLimit"),
    );
    if !old.is_empty() {
        delete_jobs(sh, &ns, &old, false).await;
    }
}

/// What restarts the loop at once: the spec (generation) and the annotations.
fn trigger_key(sj: &Value) -> (Value, Value) {
    (
        sj["metadata"]["generation"].clone(),
        sj["metadata"]["annotations"].clone(),
    )
}

async fn run_scaledjob(sh: Arc<Shared>, mut rx: watch::Receiver<Arc<Value>>) {
    sh.synced.wait().await;
    let mut state = Loop {
        broker: None,
        created: Vec::new(),
        paused: None,
    };
    loop {
        let mut sj: Value = (*rx.borrow_and_update().clone()).clone();
        let key = trigger_key(&sj);
        let paused = keda_paused(
            sj["metadata"]["annotations"][crate::fleet::objects::ANN_KEDA_PAUSED].as_str(),
        );
        let paused_in_status =
            condition(&sj["status"], "Paused").is_some_and(|c| c["status"] == "True");
        if paused {
            if state.paused != Some(true) && !paused_in_status {
                set_paused(&sh, &mut sj, true).await;
            }
            state.paused = Some(true);
            state.close().await;
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        }
        if state.paused == Some(true) || (state.paused.is_none() && paused_in_status) {
            set_paused(&sh, &mut sj, false).await;
        }
        state.paused = Some(false);
        run_cycle(&sh, &sj, &mut state).await;
        let every = crate::sim::clock::secs(
            sj["spec"]["pollingInterval"]
                .as_i64()
                .unwrap_or(cycle::DEFAULT_POLLING_INTERVAL as i64)
                .max(1),
        );
        let deadline = crate::sim::clock::after(tokio::time::Instant::now(), every);
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => break,
                r = rx.changed() => {
                    if r.is_err() {
                        state.close().await;
                        return;
                    }
                    if trigger_key(&rx.borrow()) != key {
                        break;
                    }
                }
            }
        }
    }
}

struct Running {
    tx: watch::Sender<Arc<Value>>,
    task: JoinHandle<()>,
}

/// A ScaledJob's loop ends with its entry (ScaledJob deleted, or the scaler stopped).
impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs the scaler until the sim shuts down.
pub async fn run(ctx: Ctx) {
    let jobs = JobIndex::default();
    let sh = Arc::new(Shared {
        client: ctx.client.clone(),
        recorder: ctx.recorder(COMPONENT),
        synced: jobs.synced.clone(),
        jobs: RwLock::new(jobs),
    });
    let jobs_sh = sh.clone();
    let job_watch = watcher(
        Api::<Job>::all(ctx.client.clone()),
        watcher::Config::default().labels(LABEL_SCALED_JOB),
    )
    .default_backoff()
    .for_each(move |ev| {
        match ev {
            Ok(ev) => jobs_sh
                .jobs
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .apply(ev),
            Err(e) => tracing::debug!(error = %e, "scaledjob_job_watch_error"),
        }
        async {}
    });
    let sh2 = sh.clone();
    let mut loops: HashMap<String, Running> = HashMap::new();
    let mut relisted: Option<HashSet<String>> = None;
    let sj_watch = watcher(
        Api::<DynamicObject>::all_with(ctx.client.clone(), &scaledjobs()),
        watcher::Config::default(),
    )
    .default_backoff()
    .for_each(move |ev| {
        let upsert = |obj: DynamicObject, loops: &mut HashMap<String, Running>| {
            let Some(uid) = obj.uid() else { return };
            let Ok(v) = serde_json::to_value(&obj) else {
                return;
            };
            let v = Arc::new(v);
            match loops.get(&uid) {
                Some(r) if !r.task.is_finished() => {
                    let _ = r.tx.send(v);
                }
                _ => {
                    let (tx, rx) = watch::channel(v);
                    let task = tokio::spawn(run_scaledjob(sh2.clone(), rx));
                    loops.insert(uid, Running { tx, task });
                }
            }
        };
        match ev {
            Ok(watcher::Event::Apply(o)) => upsert(o, &mut loops),
            Ok(watcher::Event::InitApply(o)) => {
                if let (Some(s), Some(uid)) = (relisted.as_mut(), o.uid()) {
                    s.insert(uid);
                }
                upsert(o, &mut loops);
            }
            Ok(watcher::Event::Delete(o)) => {
                if let Some(r) = o.uid().and_then(|u| loops.remove(&u)) {
                    r.task.abort();
                }
            }
            Ok(watcher::Event::Init) => relisted = Some(HashSet::new()),
            Ok(watcher::Event::InitDone) => {
                if let Some(s) = relisted.take() {
                    loops.retain(|uid, r| {
                        let keep = s.contains(uid);
                        if !keep {
                            r.task.abort();
                        }
                        keep
                    });
                }
            }
            Err(e) => tracing::debug!(error = %e, "scaledjob_watch_error"),
        }
        async {}
    });
    tokio::join!(job_watch, sj_watch);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str) -> Job {
        let mut j = Job::default();
        j.metadata.name = Some(name.into());
        j.metadata.namespace = Some("agents".into());
        j.metadata.labels = Some([(LABEL_SCALED_JOB.to_string(), "sj".to_string())].into());
        j
    }

    #[test]
    fn the_job_index_is_synced_only_once_its_first_listing_ended() {
        let mut index = JobIndex::default();
        index.apply(watcher::Event::Init);
        index.apply(watcher::Event::InitApply(job("a")));
        assert!(
            !index.synced.is_set(),
            "mid-listing, the running Jobs are not all known"
        );
        index.apply(watcher::Event::InitDone);
        assert!(index.synced.is_set());
        let key = ("agents".to_string(), "sj".to_string());
        assert_eq!(index.by_sj[&key].len(), 1);
    }
}
