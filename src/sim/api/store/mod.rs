//! The in-memory object store: one global resourceVersion, every object as JSON, a bounded
//! history of changes for watches, and a broadcast of new changes.
//!
//! Writes go through closures run under the store's lock, so a patch or an apply is computed
//! from the object it replaces and cannot lose a concurrent update. [`change`] is what a commit
//! hands to watches and the state log; [`delete`] is deletion (grace, finalizers, propagation);
//! [`persist`] the state log.

mod change;
mod delete;
pub mod persist;
#[cfg(test)]
mod persist_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::registry::{Registry, ResourceType, TypeKey, types_of_crd};
use super::selector::FieldSelector;
use super::status::ApiError;
use crate::fleet::selector::Selector;

pub use change::{Change, EventType};
use delete::is_graceful_pod;
pub use delete::{DeleteOptions, Deleted, Propagation};

/// How many past changes a watch can resume from before it gets 410 Expired.
pub const DEFAULT_HISTORY: usize = 20_000;

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object; its status is kept when the type has a status subresource.
    Main,
    /// Only `status` (the `/status` subresource).
    Status,
    /// Spec and status in one write: what the server itself does for `pods/binding`.
    All,
}

/// Changes a watch missed, and the receiver of the ones to come.
pub type Backlog = (Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>);

/// A page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Arc<Value>>,
    pub rv: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<u64>,
}

type ObjKey = (String, String);

struct Inner {
    rv: u64,
    objects: BTreeMap<TypeKey, BTreeMap<ObjKey, Arc<Value>>>,
    history: VecDeque<Arc<Change>>,
    history_cap: usize,
    /// The highest resourceVersion dropped from the history: a watch from before it expired.
    compacted: u64,
    registry: Arc<Registry>,
}

impl Inner {
    /// The stored object `name` of `rt` in `ns` (ignored for cluster-scoped types), or 404.
    fn existing(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Arc<Value>, ApiError> {
        self.objects
            .get(&rt.key())
            .and_then(|m| m.get(&(ns_of(rt, ns), name.to_string())))
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))
    }
}

/// What the store tells open watches to do (an operator's or a test's lever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchControl {
    None,
    /// End every watch with an ERROR 410 Expired event: clients must re-list.
    Expire,
    /// Close every watch without a word, as a dropped connection does.
    Drop,
}

pub struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Change>>,
    state_dir: Option<PathBuf>,
    /// The writer of the state directory, once started.
    persist: std::sync::OnceLock<persist::Persist>,
    control: tokio::sync::watch::Sender<(u64, WatchControl)>,
    /// A garbage collector runs: deletions add the `orphan` and `foregroundDeletion`
    /// finalizers it removes. Off when the API is served alone (nobody would remove them).
    garbage_collection: std::sync::atomic::AtomicBool,
}

/// `now` as Kubernetes writes timestamps: RFC 3339, whole seconds, UTC.
pub fn timestamp(now: jiff::Timestamp) -> String {
    let secs = now.as_second();
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now.to_string())
}

/// 5 characters of Kubernetes' name-suffix alphabet.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj["metadata"][field].as_str().unwrap_or_default()
}

/// Everything but metadata and status: what a change of bumps `generation`.
fn spec_part(obj: &Value) -> Value {
    match obj {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "metadata" | "status"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An object without the fields that change on every write, for no-op detection.
#[cfg(test)]
pub(in crate::sim::api) fn comparable(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    o
}

/// `comparable(a) == comparable(b)` without the two copies: equal apart from
/// `metadata.resourceVersion` and `metadata.managedFields`.
pub(in crate::sim::api) fn unchanged(a: &Value, b: &Value) -> bool {
    let (Some(x), Some(y)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    x.len() == y.len()
        && x.iter().zip(y).all(|((kx, vx), (ky, vy))| {
            kx == ky
                && if kx == "metadata" {
                    same_metadata(vx, vy)
                } else {
                    vx == vy
                }
        })
}

fn same_metadata(a: &Value, b: &Value) -> bool {
    let (Some(x), Some(y)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    let kept = |(k, _): &(&String, &Value)| *k != "resourceVersion" && *k != "managedFields";
    x.iter().filter(kept).eq(y.iter().filter(kept))
}

impl Store {
    /// A store; with `state_dir`, [`Store::load`] reads it and [`Store::persist`] keeps it.
    pub fn new(registry: Registry, history_cap: usize, state_dir: Option<PathBuf>) -> Arc<Self> {
        let (tx, _) = broadcast::channel(65_536);
        let (control, _) = tokio::sync::watch::channel((0, WatchControl::None));
        Arc::new(Self {
            control,
            inner: Mutex::new(Inner {
                rv: 1,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                history_cap: history_cap.max(1),
                compacted: 0,
                registry: Arc::new(registry),
            }),
            tx,
            state_dir,
            persist: std::sync::OnceLock::new(),
            garbage_collection: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Deletions from now on honour `propagationPolicy` with finalizers, as with a garbage
    /// collector running.
    pub fn enable_garbage_collection(&self) {
        self.garbage_collection
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every open watch ends: with a 410 (`Expire`) or silently (`Drop`).
    pub fn end_watches(&self, how: WatchControl) {
        self.control.send_modify(|(n, h)| {
            *n += 1;
            *h = how;
        });
    }

    /// A receiver of [`Store::end_watches`] requests, for a watch to select on.
    pub fn watch_control(&self) -> tokio::sync::watch::Receiver<(u64, WatchControl)> {
        self.control.subscribe()
    }

    /// The types served now (a snapshot: CRDs applied later replace it, not change it).
    pub fn registry(&self) -> Arc<Registry> {
        self.lock().registry.clone()
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// Reads the state directory (snapshot, or an older sim's `state.json`, then the log of
    /// changes); CRDs in it define their types again. False when there was nothing to read.
    pub fn load(&self) -> Result<bool, persist::PersistError> {
        let Some(dir) = &self.state_dir else {
            return Ok(false);
        };
        let Some(loaded) = persist::load(dir)? else {
            return Ok(false);
        };
        let mut inner = self.lock();
        let mut rv = loaded.rv.max(1);
        for (key, obj) in loaded.objects {
            Self::put_loaded(&mut inner, key, obj);
        }
        for (at, rec) in loaded.records {
            rv = rv.max(at);
            match rec {
                persist::Record::Put { key, object } => Self::put_loaded(&mut inner, key, object),
                persist::Record::Delete { key, ns, name } => {
                    if key.group == "apiextensions.k8s.io"
                        && key.plural == "customresourcedefinitions"
                        && let Some(crd) = inner
                            .objects
                            .get(&key)
                            .and_then(|m| m.get(&(ns.clone(), name.clone())))
                            .cloned()
                    {
                        let group = crd["spec"]["group"].as_str().unwrap_or_default();
                        let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
                        Arc::make_mut(&mut inner.registry).remove_crd(group, plural);
                    }
                    if let Some(m) = inner.objects.get_mut(&key) {
                        m.remove(&(ns, name));
                    }
                }
            }
        }
        inner.rv = rv;
        inner.compacted = rv;
        Ok(true)
    }

    fn put_loaded(inner: &mut Inner, key: TypeKey, obj: Value) {
        if key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions" {
            let reg = Arc::make_mut(&mut inner.registry);
            let group = obj["spec"]["group"].as_str().unwrap_or_default();
            let plural = obj["spec"]["names"]["plural"].as_str().unwrap_or_default();
            reg.remove_crd(group, plural);
            reg.add_crd(types_of_crd(&obj));
        }
        let k = (
            meta_str(&obj, "namespace").to_string(),
            meta_str(&obj, "name").to_string(),
        );
        inner
            .objects
            .entry(key)
            .or_default()
            .insert(k, Arc::new(obj));
    }

    /// Starts writing every change to the state directory (a log, compacted into snapshots
    /// now and then; see [`persist`]). Call once, after [`Store::load`].
    pub fn persist(self: &Arc<Self>) -> std::io::Result<()> {
        let Some(dir) = &self.state_dir else {
            return Ok(());
        };
        let rv = self.current_rv();
        let p = persist::Persist::start(Arc::downgrade(self), dir.clone(), rv)?;
        let _ = self.persist.set(p);
        Ok(())
    }

    /// Every object now (shared, not copied) and the resourceVersion they are at: what a
    /// snapshot writes, taken in one short hold of the lock.
    pub fn objects_at(&self) -> (u64, Vec<(TypeKey, Arc<Value>)>) {
        let inner = self.lock();
        let objects = inner
            .objects
            .iter()
            .flat_map(|(k, m)| m.values().map(move |o| (k.clone(), o.clone())))
            .collect();
        (inner.rv, objects)
    }

    /// Waits (up to `within`) until every change so far is on disk, writing a snapshot first
    /// when `compact`; the failure when the state could not be written.
    pub fn flush(
        &self,
        compact: bool,
        within: std::time::Duration,
    ) -> Result<(), persist::PersistError> {
        match self.persist.get() {
            Some(p) => p.flush(self.current_rv(), compact, within),
            None => Ok(()),
        }
    }

    /// Stops the state writer (after what it holds is written).
    pub fn close(&self) {
        if let Some(p) = self.persist.get() {
            p.close();
        }
    }

    fn commit(
        &self,
        inner: &mut Inner,
        rt: &ResourceType,
        kind: EventType,
        obj: Value,
    ) -> Arc<Value> {
        let ns = meta_str(&obj, "namespace").to_string();
        let name = meta_str(&obj, "name").to_string();
        let key = rt.key();
        let mut obj = obj;
        let rv = if kind == EventType::Deleted {
            // A deletion is a change of its own: it gets the next version.
            inner.rv += 1;
            inner.rv
        } else {
            inner.rv += 1;
            inner.rv
        };
        obj["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let obj = Arc::new(obj);
        let map = inner.objects.entry(key.clone()).or_default();
        let previous = if kind == EventType::Deleted {
            map.remove(&(ns.clone(), name.clone()))
        } else {
            map.insert((ns.clone(), name.clone()), obj.clone())
        };
        // The version this change replaces stays in the history only as JSON.
        if let Some(prev_rv) = previous.and_then(|p| meta_str(&p, "resourceVersion").parse().ok())
            && let Ok(i) = inner.history.binary_search_by_key(&prev_rv, |c| c.rv)
        {
            inner.history[i].compact();
        }
        // CRDs define and remove types as they come and go.
        if key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions" {
            self.crd_changed(inner, kind, &obj);
        }
        let change = Arc::new(Change::new(rv, kind, key, ns, name, obj.clone()));
        inner.history.push_back(change.clone());
        while inner.history.len() > inner.history_cap {
            if let Some(old) = inner.history.pop_front() {
                inner.compacted = old.rv;
            }
        }
        if let Some(p) = self.persist.get() {
            p.record(change.clone());
        }
        let _ = self.tx.send(change);
        obj
    }

    fn crd_changed(&self, inner: &mut Inner, kind: EventType, crd: &Value) {
        let group = crd["spec"]["group"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let plural = crd["spec"]["names"]["plural"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Arc::make_mut(&mut inner.registry).remove_crd(&group, &plural);
        if kind != EventType::Deleted {
            Arc::make_mut(&mut inner.registry).add_crd(types_of_crd(crd));
        } else {
            // The custom resources go with their definition.
            let key = TypeKey { group, plural };
            if let Some(rt) = inner
                .registry
                .all()
                .iter()
                .find(|t| t.key() == key)
                .cloned()
            {
                let objs: Vec<Value> = inner
                    .objects
                    .get(&key)
                    .map(|m| m.values().map(|o| (**o).clone()).collect())
                    .unwrap_or_default();
                for o in objs {
                    self.commit(inner, &rt, EventType::Deleted, o);
                }
            } else {
                inner.objects.remove(&key);
            }
        }
    }

    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Arc<Value>, ApiError> {
        let inner = self.lock();
        inner
            .objects
            .get(&rt.key())
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    fn namespace_exists(inner: &Inner, ns: &str) -> bool {
        inner
            .objects
            .get(&TypeKey {
                group: String::new(),
                plural: "namespaces".into(),
            })
            .is_some_and(|m| m.contains_key(&(String::new(), ns.to_string())))
    }

    /// Lists objects of `rt` (in `ns`, or everywhere), matching the selectors, a page at a
    /// time. The continue token names the last key returned.
    pub fn list(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        labels: &Selector,
        fields: &FieldSelector,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> Result<Page, ApiError> {
        let inner = self.lock();
        let after = match continue_token {
            Some(t) if !t.is_empty() => Some(decode_continue(t, inner.compacted)?),
            _ => None,
        };
        let empty = BTreeMap::new();
        let all = inner.objects.get(&rt.key()).unwrap_or(&empty);
        let mut items = vec![];
        let mut next = None;
        let mut remaining = 0u64;
        let iter = all
            .iter()
            .filter(|((n, _), _)| ns.is_none_or(|want| n == want));
        for (k, obj) in iter {
            if let Some(a) = &after
                && k <= a
            {
                continue;
            }
            if !labels.matches_object(obj) || !fields.matches(obj) {
                continue;
            }
            if let Some(l) = limit
                && l > 0
                && items.len() >= l
            {
                if next.is_none() {
                    let last: &Arc<Value> = items.last().expect("limit > 0");
                    next = Some((
                        meta_str(last, "namespace").to_string(),
                        meta_str(last, "name").to_string(),
                    ));
                }
                remaining += 1;
                continue;
            }
            items.push(obj.clone());
        }
        Ok(Page {
            items,
            rv: inner.rv,
            continue_token: next.map(|(n, m)| encode_continue(inner.rv, &n, &m)),
            remaining: (remaining > 0).then_some(remaining),
        })
    }

    /// Creates `obj` (name from `generateName` if needed), setting the server-owned metadata.
    pub fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        mut obj: Value,
        dry_run: bool,
        check: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        if rt.namespaced && !Self::namespace_exists(&inner, ns) {
            return Err(ApiError::namespace_not_found(ns));
        }
        let now = timestamp(jiff::Timestamp::now());
        let meta = obj
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| ApiError::bad_request("metadata is required"))?;
        if meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
            && let Some(prefix) = meta.get("generateName").and_then(Value::as_str)
            && !prefix.is_empty()
        {
            let taken = |n: &str| {
                inner
                    .objects
                    .get(&rt.key())
                    .is_some_and(|m| m.contains_key(&(ns.to_string(), n.to_string())))
            };
            let mut name = format!("{prefix}{}", random_suffix());
            while taken(&name) {
                name = format!("{prefix}{}", random_suffix());
            }
            meta.insert("name".into(), Value::String(name));
        }
        if rt.namespaced {
            meta.insert("namespace".into(), Value::String(ns.to_string()));
        } else {
            meta.remove("namespace");
        }
        meta.insert(
            "uid".into(),
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        meta.insert("creationTimestamp".into(), Value::String(now));
        if has_generation(rt) {
            meta.insert("generation".into(), json!(1));
        } else {
            meta.remove("generation");
        }
        meta.remove("resourceVersion");
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        let obj = check(&obj)?;
        let name = meta_str(&obj, "name").to_string();
        if inner
            .objects
            .get(&rt.key())
            .is_some_and(|m| m.contains_key(&(ns_of(rt, ns), name.clone())))
        {
            return Err(ApiError::already_exists(rt, &name));
        }
        if dry_run {
            return Ok(obj);
        }
        let obj = self.commit(&mut inner, rt, EventType::Added, obj);
        Ok((*obj).clone())
    }

    /// Replaces the object at (`ns`, `name`) with what `f` makes of it. `f` receives the
    /// current object and returns the new one; a resourceVersion in the new object is a
    /// precondition. Server-owned metadata is kept, `generation` follows spec changes, and a
    /// write that changes nothing changes nothing (no new resourceVersion, no event).
    pub fn update(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        part: Part,
        dry_run: bool,
        f: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let old = inner.existing(rt, ns, name)?;
        let proposed = f(&old)?;
        let new = merge_update(rt, &old, proposed, part)?;
        if unchanged(&new, &old) {
            return Ok((*old).clone());
        }
        if dry_run {
            return Ok(new);
        }
        // Marked for deletion and no finalizer left: the object goes.
        let finalizers_left = new["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        if new["metadata"].get("deletionTimestamp").is_some()
            && !finalizers_left
            && !is_graceful_pod(rt, &new)
        {
            let obj = self.commit(&mut inner, rt, EventType::Deleted, new);
            return Ok((*obj).clone());
        }
        let obj = self.commit(&mut inner, rt, EventType::Modified, new);
        Ok((*obj).clone())
    }

    /// Creates the object if it does not exist, else updates it: server-side apply's write.
    /// Returns the object and whether it was created.
    #[allow(clippy::too_many_arguments)]
    pub fn upsert(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        dry_run: bool,
        f: impl FnOnce(Option<&Value>) -> Result<Value, ApiError>,
        on_create: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<(Value, bool), ApiError> {
        let exists = self.get(rt, ns, name).is_ok();
        if exists {
            let mut f = Some(f);
            let v = self.update(rt, ns, name, Part::Main, dry_run, |old| {
                (f.take().expect("called once"))(Some(old))
            })?;
            Ok((v, false))
        } else {
            let obj = f(None)?;
            let v = self.create(rt, ns, obj, dry_run, on_create)?;
            Ok((v, true))
        }
    }

    /// The objects of `rt` now, the resourceVersion they are at, and a receiver of every later
    /// change: a watch's starting point, taken atomically.
    pub fn snapshot_and_subscribe(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
    ) -> (Vec<Arc<Value>>, u64, broadcast::Receiver<Arc<Change>>) {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        let items = inner
            .objects
            .get(&rt.key())
            .map(|m| {
                m.iter()
                    .filter(|((n, _), _)| ns.is_none_or(|want| n == want))
                    .map(|(_, o)| o.clone())
                    .collect()
            })
            .unwrap_or_default();
        (items, inner.rv, rx)
    }

    /// The changes after `rv` still in the history, and a receiver of every later one; Err when
    /// changes after `rv` were already dropped (the watch must re-list).
    pub fn changes_since(&self, rv: u64) -> Result<Backlog, u64> {
        let inner = self.lock();
        if rv < inner.compacted {
            return Err(inner.compacted);
        }
        let rx = self.tx.subscribe();
        let backlog = inner
            .history
            .iter()
            .filter(|c| c.rv > rv)
            .cloned()
            .collect();
        Ok((backlog, rx))
    }

    /// Creates cluster-scoped objects of `group/plural` that do not exist yet (e.g. CRDs).
    pub fn bootstrap_objects(&self, group: &str, plural: &str, objects: Vec<Value>) {
        let reg = self.registry();
        let Some(rt) = reg
            .all()
            .iter()
            .find(|t| t.group == group && t.plural == plural)
            .cloned()
        else {
            return;
        };
        for mut obj in objects {
            let name = meta_str(&obj, "name").to_string();
            if self.get(&rt, "", &name).is_ok() {
                continue;
            }
            super::defaults::on_create(&rt, &mut obj);
            let _ = self.create(&rt, "", obj, false, |o| Ok(o.clone()));
        }
    }

    /// Creates the namespaces every cluster starts with.
    pub fn bootstrap(&self, namespaces: &[&str]) {
        let reg = self.registry();
        let rt = reg
            .find("", "v1", "namespaces")
            .expect("namespaces are built in")
            .clone();
        for ns in namespaces {
            if self.get(&rt, "", ns).is_ok() {
                continue;
            }
            let obj = json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            });
            let _ = self.create(&rt, "", obj, false, |o| Ok(o.clone()));
        }
    }
}

/// Kinds whose `metadata.generation` the server maintains: workloads, policies and custom
/// resources; not ConfigMaps, Secrets, Pods and the like.
pub fn has_generation(rt: &ResourceType) -> bool {
    !rt.builtin
        || matches!(
            (rt.group.as_str(), rt.plural.as_str()),
            ("apps", _)
                | ("batch", _)
                | ("policy", "poddisruptionbudgets")
                | ("networking.k8s.io", "networkpolicies")
                | ("apiextensions.k8s.io", "customresourcedefinitions")
        )
}

fn ns_of(rt: &ResourceType, ns: &str) -> String {
    if rt.namespaced {
        ns.to_string()
    } else {
        String::new()
    }
}

/// The object an update produces from `old` and the client's `proposed` one.
fn merge_update(
    rt: &ResourceType,
    old: &Value,
    mut proposed: Value,
    part: Part,
) -> Result<Value, ApiError> {
    let name = meta_str(old, "name").to_string();
    if !proposed.is_object() {
        return Err(ApiError::bad_request("the object must be a JSON object"));
    }
    let want_rv = meta_str(&proposed, "resourceVersion").to_string();
    if !want_rv.is_empty() && want_rv != meta_str(old, "resourceVersion") {
        return Err(ApiError::conflict(rt, &name));
    }
    if part == Part::Status {
        let mut new = old.clone();
        new["status"] = proposed.get("status").cloned().unwrap_or(Value::Null);
        if new["status"].is_null() {
            new.as_object_mut().expect("object").remove("status");
        }
        return Ok(new);
    }
    if rt.subresources.status && part == Part::Main {
        match old.get("status") {
            Some(s) => proposed["status"] = s.clone(),
            None => {
                proposed.as_object_mut().expect("object").remove("status");
            }
        }
    }
    let pm = proposed
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ApiError::bad_request("metadata is required"))?;
    for key in [
        "uid",
        "creationTimestamp",
        "namespace",
        "name",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old["metadata"].get(key) {
            Some(v) => {
                pm.insert(key.into(), v.clone());
            }
            None => {
                pm.remove(key);
            }
        }
    }
    pm.insert(
        "resourceVersion".into(),
        old["metadata"]["resourceVersion"].clone(),
    );
    if has_generation(rt) && spec_part(&proposed) != spec_part(old) {
        let g = old["metadata"]["generation"].as_i64().unwrap_or(1);
        proposed["metadata"]["generation"] = json!(g + 1);
    }
    Ok(proposed)
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    use base64::Engine;
    let raw = json!({"rv": rv, "start": format!("{ns}/{name}")}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str, compacted: u64) -> Result<ObjKey, ApiError> {
    use base64::Engine;
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v["rv"].as_u64().ok_or_else(bad)?;
    if rv < compacted {
        return Err(ApiError::expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        ));
    }
    let start = v["start"].as_str().ok_or_else(bad)?;
    let (ns, name) = start.split_once('/').ok_or_else(bad)?;
    Ok((ns.to_string(), name.to_string()))
}

impl ApiError {
    pub fn with_message(mut self, message: String) -> Self {
        self.body["message"] = Value::String(message);
        self
    }
}
