//! core/v1 Events, recorded the way client-go's recorder (`tools/record/events_cache.go`) does:
//! - one Event object per (object, type, reason, message), named `<object>.<hex nanos>`, whose
//!   `count` and `lastTimestamp` grow when the same thing happens again within ten minutes;
//! - from the 10th different message of one (object, type, reason) within ten minutes, one
//!   Event "(combined from similar events): <message>" takes them all (its count grows);
//! - at most 25 writes about one object from one source, then one every 5 minutes (the spam
//!   filter): a Job creating 10,000 pods records 25 Events about itself, not 10,000.

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
/// Different messages of one (object, type, reason) before they are combined.
const AGGREGATE_MAX: usize = 10;
/// What a combined Event's message starts with.
const COMBINED: &str = "(combined from similar events): ";
/// Writes about one object from one source at once, and the refill: one per 5 minutes.
const SPAM_BURST: f64 = 25.0;
const SPAM_REFILL: SignedDuration = SignedDuration::from_mins(5);

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

/// What one Event counts: object (uid, else namespace/name), host, type, reason, and the
/// message (None for the combined Event of the (object, host, type, reason)).
type Key = (String, String, EventType, String, Option<String>);
/// Similar Events: object, host, type, reason.
type SimilarKey = (String, String, EventType, String);
/// One source about one object: object and host.
type SpamKey = (String, String);

/// The messages of similar Events seen lately.
struct Similar {
    messages: std::collections::HashSet<String>,
    last: Timestamp,
}

/// A token bucket of the spam filter.
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

/// What to do with an Event.
#[derive(Debug, PartialEq)]
enum Decision {
    /// Create it, with this message (the given one, or combined).
    Create { key: Key, message: String },
    /// Bump the count of the Event already recorded (created afresh under `key` if it is gone).
    Bump {
        key: Key,
        name: String,
        namespace: String,
        count: i32,
        message: String,
    },
    /// The source said too much about the object lately.
    Skip,
}

/// The recorder's memory: the correlator of client-go's `EventCorrelator`, without I/O.
#[derive(Default)]
struct Correlator {
    seen: HashMap<Key, Seen>,
    similar: HashMap<SimilarKey, Similar>,
    spam: HashMap<SpamKey, Bucket>,
}

impl Correlator {
    /// Aggregates, counts and filters one Event about `object` (as client-go does, in that
    /// order: a filtered repeat still counts, so the next write carries the whole count).
    fn decide(
        &mut self,
        object: &str,
        host: &str,
        kind: EventType,
        reason: &str,
        message: &str,
        now: Timestamp,
    ) -> Decision {
        self.prune(now);
        let similar_key = (
            object.to_string(),
            host.to_string(),
            kind,
            reason.to_string(),
        );
        let similar = self.similar.entry(similar_key).or_insert_with(|| Similar {
            messages: Default::default(),
            last: now,
        });
        if similar.last + AGGREGATE_WINDOW < now {
            similar.messages.clear();
        }
        similar.messages.insert(message.to_string());
        similar.last = now;
        let (key, message) = if similar.messages.len() < AGGREGATE_MAX {
            let key = (
                object.into(),
                host.into(),
                kind,
                reason.into(),
                Some(message.into()),
            );
            (key, message.to_string())
        } else {
            let any = similar.messages.iter().next().cloned();
            if let Some(m) = any {
                similar.messages.remove(&m);
            }
            let key = (object.into(), host.into(), kind, reason.into(), None);
            (key, format!("{COMBINED}{message}"))
        };
        let decision = match self.seen.get_mut(&key) {
            Some(s) if s.last + AGGREGATE_WINDOW > now => {
                s.count += 1;
                s.last = now;
                Decision::Bump {
                    key,
                    name: s.name.clone(),
                    namespace: s.namespace.clone(),
                    count: s.count,
                    message: message.clone(),
                }
            }
            _ => Decision::Create { key, message },
        };
        let bucket = self
            .spam
            .entry((object.to_string(), host.to_string()))
            .or_insert(Bucket {
                tokens: SPAM_BURST,
                at: now,
            });
        bucket.refill(now);
        if bucket.tokens < 1.0 {
            return Decision::Skip;
        }
        bucket.tokens -= 1.0;
        decision
    }

    /// An Event created: repeats count on it.
    fn created(&mut self, key: Key, name: String, namespace: String, now: Timestamp) {
        self.seen.insert(
            key,
            Seen {
                name,
                namespace,
                count: 1,
                last: now,
            },
        );
    }

    /// Forgets what no longer matters once a cache is past its bound (client-go keeps an LRU
    /// of 4096 entries per cache).
    fn prune(&mut self, now: Timestamp) {
        bound(&mut self.seen, |s| s.last + AGGREGATE_WINDOW > now);
        bound(&mut self.similar, |s| s.last + AGGREGATE_WINDOW > now);
        // A full bucket is what a new one would be.
        bound(&mut self.spam, |b| {
            b.refill(now);
            b.tokens < SPAM_BURST
        });
    }
}

/// Keeps `map` within [`CACHE_MAX`]: once past it, only what `keep` says still matters stays,
/// and if that is still too much, nothing.
fn bound<K, V>(map: &mut HashMap<K, V>, mut keep: impl FnMut(&mut V) -> bool) {
    if map.len() > CACHE_MAX {
        map.retain(|_, v| keep(v));
        if map.len() > CACHE_MAX {
            map.clear();
        }
    }
}

impl Bucket {
    fn refill(&mut self, now: Timestamp) {
        let elapsed = now.duration_since(self.at).as_secs_f64().max(0.0);
        self.tokens = (self.tokens + elapsed / SPAM_REFILL.as_secs_f64()).min(SPAM_BURST);
        self.at = now;
    }
}

/// Records Events as one component (`job-controller`, `kubelet`, `default-scheduler`,
/// `keda-operator`, ...). Cheap to clone; clones share the aggregation cache.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    component: &'static str,
    memory: Arc<Mutex<Correlator>>,
}

impl Recorder {
    pub fn new(client: Client, component: &'static str) -> Self {
        Recorder {
            client,
            component,
            memory: Arc::default(),
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
        let object = about
            .uid
            .clone()
            .unwrap_or_else(|| format!("{namespace}/{involved}"));
        let decision = self
            .memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .decide(&object, host.unwrap_or(""), kind, reason, message, now);
        let (key, message) = match decision {
            Decision::Skip => return,
            Decision::Create { key, message } => (key, message),
            Decision::Bump {
                key,
                name,
                namespace: event_ns,
                count,
                message,
            } => {
                let api: Api<Event> = Api::namespaced(self.client.clone(), &event_ns);
                let patch =
                    json!({"count": count, "lastTimestamp": now.to_string(), "message": message});
                match api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    Ok(_) => return,
                    // Gone (expired or deleted): record it afresh below.
                    Err(e) => {
                        tracing::debug!(error = %e, event = %name, "event_not_updated");
                        (key, message)
                    }
                }
            }
        };
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
                self.memory
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .created(key, name, namespace, now);
            }
            Err(e) => tracing::debug!(error = %e, %reason, "event_not_recorded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::Job;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    /// Decides about `job`'s SuccessfulCreate of `msg`, recording a created Event as the API
    /// would.
    fn created_pod(c: &mut Correlator, job: &str, msg: &str, at: Timestamp) -> Decision {
        let d = c.decide(job, "", EventType::Normal, "SuccessfulCreate", msg, at);
        if let Decision::Create { key, .. } = &d {
            c.created(
                key.clone(),
                format!("{job}.{}", at.as_second()),
                "agents".into(),
                at,
            );
        }
        d
    }

    #[test]
    fn the_tenth_different_message_is_combined_and_later_ones_count_on_it() {
        let mut c = Correlator::default();
        for i in 0..9 {
            let d = created_pod(&mut c, "job-uid", &format!("Created pod: p-{i}"), t(i));
            assert_eq!(
                d,
                Decision::Create {
                    key: (
                        "job-uid".into(),
                        "".into(),
                        EventType::Normal,
                        "SuccessfulCreate".into(),
                        Some(format!("Created pod: p-{i}"))
                    ),
                    message: format!("Created pod: p-{i}")
                }
            );
        }
        let tenth = created_pod(&mut c, "job-uid", "Created pod: p-9", t(9));
        let Decision::Create { key, message } = tenth else {
            panic!("{tenth:?}")
        };
        assert_eq!(key.4, None);
        assert_eq!(message, "(combined from similar events): Created pod: p-9");
        let eleventh = created_pod(&mut c, "job-uid", "Created pod: p-10", t(10));
        assert!(
            matches!(&eleventh, Decision::Bump { count: 2, message, .. }
                if message == "(combined from similar events): Created pod: p-10"),
            "{eleventh:?}"
        );
        // Another reason about the same object is not similar.
        let other = c.decide(
            "job-uid",
            "",
            EventType::Normal,
            "Completed",
            "Job completed",
            t(11),
        );
        assert!(
            matches!(other, Decision::Create { ref message, .. } if message == "Job completed")
        );
    }

    #[test]
    fn one_source_writes_25_times_about_an_object_then_once_per_five_minutes() {
        let mut c = Correlator::default();
        let mut writes = 0;
        for i in 0..1000 {
            if created_pod(&mut c, "job-uid", &format!("Created pod: p-{i}"), t(0))
                != Decision::Skip
            {
                writes += 1;
            }
        }
        assert_eq!(writes, 25);
        // Another object, or the same one from another host, has a bucket of its own.
        let d = c.decide(
            "pod-uid",
            "",
            EventType::Normal,
            "Started",
            "Started container agent",
            t(0),
        );
        assert!(matches!(d, Decision::Create { .. }));
        let d = c.decide("job-uid", "sim-node-1", EventType::Normal, "X", "y", t(0));
        assert!(matches!(d, Decision::Create { .. }));
        // Still nothing a minute later; one write five minutes later, and it carries the
        // count of every one filtered meanwhile.
        let d = created_pod(&mut c, "job-uid", "Created pod: late", t(60));
        assert_eq!(d, Decision::Skip);
        let d = created_pod(&mut c, "job-uid", "Created pod: later", t(301));
        let Decision::Bump { count, .. } = d else {
            panic!("{d:?}")
        };
        // 9 Events of their own; the combined one took the other 993 (991 and these two).
        assert_eq!(count, 1000 - 9 + 2);
        assert_eq!(
            created_pod(&mut c, "job-uid", "Created pod: last", t(302)),
            Decision::Skip
        );
    }

    #[test]
    fn the_memory_stays_bounded_with_many_objects() {
        let mut c = Correlator::default();
        for i in 0..3 * CACHE_MAX {
            let d = created_pod(&mut c, &format!("pod-{i}"), "Started container agent", t(0));
            assert!(matches!(d, Decision::Create { .. }), "{d:?}");
        }
        assert!(c.seen.len() <= CACHE_MAX + 1, "{}", c.seen.len());
        assert!(c.similar.len() <= CACHE_MAX + 1, "{}", c.similar.len());
        assert!(c.spam.len() <= CACHE_MAX + 1, "{}", c.spam.len());
    }

    #[test]
    fn a_repeat_counts_on_its_event_and_similar_messages_expire_after_ten_minutes() {
        let mut c = Correlator::default();
        for i in 0..3 {
            let d = created_pod(
                &mut c,
                "pod-uid",
                "Back-off restarting failed container",
                t(i),
            );
            match (i, d) {
                (0, Decision::Create { .. }) => {}
                (n, Decision::Bump { count, .. }) => assert_eq!(count, n as i32 + 1),
                (_, d) => panic!("{d:?}"),
            }
        }
        for i in 0..9 {
            created_pod(&mut c, "job-uid", &format!("Created pod: p-{i}"), t(0));
        }
        // Eleven minutes on, the nine are forgotten: the next one is an Event of its own.
        let d = created_pod(&mut c, "job-uid", "Created pod: p-9", t(660));
        assert!(
            matches!(&d, Decision::Create { message, .. } if message == "Created pod: p-9"),
            "{d:?}"
        );
    }

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
