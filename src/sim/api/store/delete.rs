//! Deletion: options, propagation to dependents, graceful periods, finalizers.

use serde_json::{Value, json};

use super::*;

/// The outcome of a delete.
#[derive(Debug, Clone)]
pub enum Deleted {
    /// The object is gone; this was its last state.
    Gone(Value),
    /// Graceful deletion or finalizers: the object stays, marked for deletion.
    Pending(Value),
}

/// Options of a DELETE.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub grace_period: Option<i64>,
    /// `propagationPolicy` (or `orphanDependents`); None takes the type's default.
    pub propagation: Option<Propagation>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub dry_run: bool,
}

/// What happens to an object's dependents when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// The object goes at once; the garbage collector deletes the dependents afterwards.
    Background,
    /// The object stays (finalizer `foregroundDeletion`) until its dependents are gone.
    Foreground,
    /// The dependents lose their ownerReference (finalizer `orphan`) and stay.
    Orphan,
}

impl Propagation {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Background" => Some(Propagation::Background),
            "Foreground" => Some(Propagation::Foreground),
            "Orphan" => Some(Propagation::Orphan),
            _ => None,
        }
    }

    /// The type's default: batch/v1 Jobs orphan their pods (kept for compatibility by the
    /// real API server; kubectl asks for Background explicitly), everything else is Background.
    pub fn default_for(rt: &ResourceType) -> Self {
        if rt.group == "batch" && rt.plural == "jobs" {
            Propagation::Orphan
        } else {
            Propagation::Background
        }
    }

    /// The finalizer that carries the policy out, if any.
    pub fn finalizer(self) -> Option<&'static str> {
        match self {
            Propagation::Background => None,
            Propagation::Foreground => Some("foregroundDeletion"),
            Propagation::Orphan => Some("orphan"),
        }
    }
}

impl Store {
    /// Deletes an object: at once, or gracefully (pods on a node), or once its finalizers are
    /// gone.
    pub fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let mut inner = self.lock();
        let old = inner.existing(rt, ns, name)?;
        if let Some(uid) = &opts.uid
            && meta_str(&old, "uid") != uid
        {
            return Err(ApiError::conflict(rt, name).with_message(format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta_str(&old, "uid")
            )));
        }
        if let Some(rv) = &opts.resource_version
            && meta_str(&old, "resourceVersion") != rv
        {
            return Err(ApiError::conflict(rt, name));
        }
        let mut obj = (*old).clone();
        let now = jiff::Timestamp::now();
        if self
            .garbage_collection
            .load(std::sync::atomic::Ordering::Relaxed)
            && obj["metadata"].get("deletionTimestamp").is_none()
            && let Some(f) = opts
                .propagation
                .unwrap_or_else(|| Propagation::default_for(rt))
                .finalizer()
        {
            let list = obj["metadata"]
                .as_object_mut()
                .map(|m| m.entry("finalizers").or_insert_with(|| json!([])));
            if let Some(Value::Array(a)) = list
                && !a.iter().any(|x| x == f)
            {
                a.push(json!(f));
            }
        }
        let has_finalizers = obj["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        let grace = graceful_period(rt, &obj, opts.grace_period);
        if grace > 0 || has_finalizers {
            let already = obj["metadata"].get("deletionTimestamp").is_some();
            let current_grace = obj["metadata"]["deletionGracePeriodSeconds"].as_i64();
            // A second delete may shorten the grace period, never lengthen it.
            if !already || current_grace.is_some_and(|g| grace < g) {
                let at = crate::sim::clock::ts_after(now, grace.max(0));
                obj["metadata"]["deletionTimestamp"] = Value::String(timestamp(at));
                obj["metadata"]["deletionGracePeriodSeconds"] = json!(grace.max(0));
                if grace == 0 && !has_finalizers {
                    return self.finish_delete(&mut inner, rt, obj, opts.dry_run);
                }
                if opts.dry_run {
                    return Ok(Deleted::Pending(obj));
                }
                let obj = self.commit(&mut inner, rt, EventType::Modified, obj);
                return Ok(Deleted::Pending((*obj).clone()));
            }
            return Ok(Deleted::Pending(obj));
        }
        self.finish_delete(&mut inner, rt, obj, opts.dry_run)
    }

    fn finish_delete(
        &self,
        inner: &mut Inner,
        rt: &ResourceType,
        obj: Value,
        dry_run: bool,
    ) -> Result<Deleted, ApiError> {
        if dry_run {
            return Ok(Deleted::Gone(obj));
        }
        // A namespace takes everything in it along.
        if rt.group.is_empty() && rt.plural == "namespaces" {
            let ns = meta_str(&obj, "name").to_string();
            let types: Vec<ResourceType> = inner
                .registry
                .all()
                .iter()
                .filter(|t| t.namespaced)
                .cloned()
                .collect();
            let mut seen = std::collections::HashSet::new();
            for t in types {
                if !seen.insert(t.key()) {
                    continue;
                }
                let victims: Vec<Value> = inner
                    .objects
                    .get(&t.key())
                    .map(|m| {
                        m.iter()
                            .filter(|((n, _), _)| *n == ns)
                            .map(|(_, o)| (**o).clone())
                            .collect()
                    })
                    .unwrap_or_default();
                for v in victims {
                    self.commit(inner, &t, EventType::Deleted, v);
                }
            }
        }
        let obj = self.commit(inner, rt, EventType::Deleted, obj);
        Ok(Deleted::Gone((*obj).clone()))
    }
}

/// Pods bound to a node are deleted gracefully (the kubelet finishes the job); everything else
/// at once. The grace period is the request's, else the pod's, else 30 s.
fn graceful_period(rt: &ResourceType, obj: &Value, requested: Option<i64>) -> i64 {
    if !(rt.group.is_empty() && rt.plural == "pods") {
        return 0;
    }
    let phase = obj["status"]["phase"].as_str().unwrap_or_default();
    if obj["spec"]["nodeName"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
        || matches!(phase, "Succeeded" | "Failed")
    {
        return 0;
    }
    requested
        .or_else(|| obj["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30)
        .max(0)
}

pub(super) fn is_graceful_pod(rt: &ResourceType, obj: &Value) -> bool {
    rt.group.is_empty()
        && rt.plural == "pods"
        && obj["metadata"]["deletionGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(0)
            > 0
}
