//! core/v1 Events, recorded the way client-go's recorder does: one Event object per (object,
//! type, reason, message), named `<object>.<hex nanos>`, whose `count` and `lastTimestamp` grow
//! when the same thing happens again within ten minutes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

/// Repeats within this window bump the existing Event.
const AGGREGATE_WINDOW: SignedDuration = SignedDuration::from_mins(10);
/// The recorder forgets older keys beyond this many.
const CACHE_MAX: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// The object an Event is about.
pub fn reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        name: Some(obj.name_any()),
        namespace: obj.namespace(),
        uid: obj.uid(),
        resource_version: obj.resource_version(),
        ..Default::default()
    }
}

#[derive(Debug, Clone)]
struct Seen {
    name: String,
    namespace: String,
    count: i32,
    last: Timestamp,
}

type Key = (String, EventType, String, String);

/// Records Events as one component (`job-controller`, `kubelet`, `default-scheduler`,
/// `keda-operator`, ...). Cheap to clone; clones share the aggregation cache.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    component: &'static str,
    seen: Arc<Mutex<HashMap<Key, Seen>>>,
}

impl Recorder {
    pub fn new(client: Client, component: &'static str) -> Self {
        Recorder {
            client,
            component,
            seen: Arc::default(),
        }
    }

    /// Records that `reason` happened to `about`. Failures are logged, never returned: an
    /// Event is best-effort, as in Kubernetes.
    pub async fn record(
        &self,
        about: &ObjectReference,
        kind: EventType,
        reason: &str,
        message: &str,
    ) {
        self.record_on(about, kind, reason, message, None).await
    }

    /// As [`Recorder::record`], naming the node the component runs on (`source.host`), as the
    /// kubelet does.
    pub async fn record_on(
        &self,
        about: &ObjectReference,
        kind: EventType,
        reason: &str,
        message: &str,
        host: Option<&str>,
    ) {
        let now = Timestamp::now();
        let involved = about.name.clone().unwrap_or_default();
        let namespace = about
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into());
        let key: Key = (
            about
                .uid
                .clone()
                .unwrap_or_else(|| format!("{namespace}/{involved}")),
            kind,
            reason.to_string(),
            message.to_string(),
        );
        let repeat = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.len() > CACHE_MAX {
                seen.retain(|_, s| s.last + AGGREGATE_WINDOW > now);
                if seen.len() > CACHE_MAX {
                    seen.clear();
                }
            }
            match seen.get_mut(&key) {
                Some(s) if s.last + AGGREGATE_WINDOW > now => {
                    s.count += 1;
                    s.last = now;
                    Some(s.clone())
                }
                _ => None,
            }
        };
        if let Some(s) = repeat {
            let api: Api<Event> = Api::namespaced(self.client.clone(), &s.namespace);
            let patch = json!({"count": s.count, "lastTimestamp": s.last.to_string()});
            match api
                .patch(&s.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => return,
                // Gone (expired or deleted): record it afresh below.
                Err(e) => tracing::debug!(error = %e, event = %s.name, "event_not_updated"),
            }
        }
        let name = format!("{involved}.{:x}", now.as_nanosecond());
        let mut source = json!({"component": self.component});
        if let Some(h) = host {
            source["host"] = json!(h);
        }
        let ev: Event = match serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": about,
            "reason": reason,
            "message": message,
            "type": kind.as_str(),
            "count": 1,
            "firstTimestamp": now.to_string(),
            "lastTimestamp": now.to_string(),
            "source": source,
            "reportingComponent": self.component,
            "reportingInstance": host.unwrap_or(self.component),
        })) {
            Ok(ev) => ev,
            Err(e) => {
                tracing::warn!(error = %e, "event_not_built");
                return;
            }
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        match api.create(&PostParams::default(), &ev).await {
            Ok(_) => {
                let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                seen.insert(
                    key,
                    Seen {
                        name,
                        namespace,
                        count: 1,
                        last: now,
                    },
                );
            }
            Err(e) => tracing::debug!(error = %e, %reason, "event_not_recorded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::Job;

    #[test]
    fn references_name_the_kind_and_uid() {
        let job: Job = serde_json::from_value(json!({
            "metadata": {"name": "j", "namespace": "agents", "uid": "u-1", "resourceVersion": "7"}
        }))
        .unwrap();
        let r = reference(&job);
        assert_eq!(r.kind.as_deref(), Some("Job"));
        assert_eq!(r.api_version.as_deref(), Some("batch/v1"));
        assert_eq!(r.uid.as_deref(), Some("u-1"));
        assert_eq!(r.namespace.as_deref(), Some("agents"));
    }
}
