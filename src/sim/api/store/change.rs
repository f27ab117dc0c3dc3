//! One committed change of the store, as watches and the state log receive it.

use std::sync::Arc;

use serde_json::Value;

use crate::sim::api::registry::TypeKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches deliver it.
#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub kind: EventType,
    pub key: TypeKey,
    pub namespace: String,
    pub name: String,
    /// The object; `None` once the change is compacted (see [`Change::compact`]).
    object: std::sync::Mutex<Option<Arc<Value>>>,
    /// When the change was committed.
    pub at: std::time::Instant,
    /// The object as JSON, serialised once for every watch that sends it.
    json: std::sync::OnceLock<bytes::Bytes>,
}

impl Change {
    pub(super) fn new(
        rv: u64,
        kind: EventType,
        key: TypeKey,
        namespace: String,
        name: String,
        object: Arc<Value>,
    ) -> Self {
        Change {
            rv,
            kind,
            key,
            namespace,
            name,
            object: std::sync::Mutex::new(Some(object)),
            at: std::time::Instant::now(),
            json: std::sync::OnceLock::new(),
        }
    }

    pub(super) fn held(&self) -> Option<Arc<Value>> {
        self.object
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The object of the change. A compacted change keeps only its JSON and parses it again
    /// here (watches with selectors or Tables that reach an old version ask).
    pub fn object(&self) -> Arc<Value> {
        match self.held() {
            Some(o) => o,
            None => Arc::new(serde_json::from_slice(self.object_json()).unwrap_or(Value::Null)),
        }
    }

    pub fn object_json(&self) -> &bytes::Bytes {
        self.json.get_or_init(|| {
            let o = self.held().unwrap_or_default();
            bytes::Bytes::from(serde_json::to_vec(&*o).expect("JSON"))
        })
    }

    /// Keeps the object as JSON only: what the history (and a watch that lags behind) holds
    /// of a version that is no longer current, a few KB instead of its tree, ten times larger.
    pub(super) fn compact(&self) {
        self.object_json();
        *self.object.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Whether the change still holds its object's tree.
    pub fn is_compact(&self) -> bool {
        self.held().is_none()
    }
}
