//! Watch: newline-delimited JSON events over one long response, from a resourceVersion or from
//! a snapshot, with bookmarks and the ERROR 410 that sends a client back to list
//! (SPEC-k8s.md §5).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use hyper::Response;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::registry::ResourceType;
use super::request::{ApiState, Req, Resp, selectors};
use super::selector::FieldSelector;
use super::status::ApiError;
use super::store::{Change, EventType, WatchControl};
use super::table;
use crate::fleet::selector::Selector;

/// How often an idle watch that allows bookmarks gets one.
pub const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// Events a watch holds for a client that does not read.
const BUFFERED: usize = 256;

/// How long a watch waits for a client that stopped reading (its buffer full) before it
/// closes the connection, as the real API server closes an unresponsive watcher: the client
/// re-lists, and nothing queues up for it meanwhile.
pub const STALLED_AFTER: Duration = Duration::from_secs(10);

type Tx = mpsc::Sender<Result<Bytes, Infallible>>;

/// Sends `line`; false when the client is gone or has not read for [`STALLED_AFTER`].
async fn send(tx: &Tx, line: Bytes) -> bool {
    match tokio::time::timeout(STALLED_AFTER, tx.send(Ok(line))).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            tracing::info!("watch_closed_client_not_reading");
            false
        }
    }
}

struct Filter {
    rt: ResourceType,
    ns: Option<String>,
    labels: Selector,
    fields: FieldSelector,
    table: Option<(&'static str, table::IncludeObject)>,
}

impl Filter {
    fn matches(&self, obj: &Value) -> bool {
        self.labels.matches_object(obj) && self.fields.matches(obj)
    }

    fn selects_all(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    fn in_scope(&self, c: &Change) -> bool {
        c.key == self.rt.key() && self.ns.as_ref().is_none_or(|n| *n == c.namespace)
    }

    /// The event line of a change, reusing the change's serialised object when no Table is
    /// asked for.
    fn change_line(&self, kind: &str, c: &Change) -> Bytes {
        if self.table.is_some() {
            return self.line(kind, &c.object());
        }
        let obj = c.object_json();
        let mut s = Vec::with_capacity(obj.len() + 32);
        s.extend_from_slice(b"{\"type\":\"");
        s.extend_from_slice(kind.as_bytes());
        s.extend_from_slice(b"\",\"object\":");
        s.extend_from_slice(obj);
        s.extend_from_slice(b"}\n");
        Bytes::from(s)
    }

    fn line(&self, kind: &str, obj: &Value) -> Bytes {
        #[derive(serde::Serialize)]
        struct Line<'a, T: serde::Serialize> {
            #[serde(rename = "type")]
            kind: &'a str,
            object: T,
        }
        let mut s = match &self.table {
            Some((version, include)) => {
                let meta = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
                let object = table::to_table(
                    &self.rt,
                    std::slice::from_ref(obj),
                    meta,
                    jiff::Timestamp::now(),
                    *include,
                    version,
                );
                serde_json::to_vec(&Line { kind, object })
            }
            None => serde_json::to_vec(&Line { kind, object: obj }),
        }
        .expect("JSON");
        s.push(b'\n');
        Bytes::from(s)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let mut s = serde_json::to_vec(&json!({"type": "BOOKMARK", "object": {
            "kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": meta
        }}))
        .expect("JSON");
        s.push(b'\n');
        Bytes::from(s)
    }
}

fn key_of(obj: &Value) -> (String, String) {
    (
        obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn expired_line(rv: u64, oldest: u64) -> Bytes {
    let e = ApiError::expired(format!("too old resource version: {rv} ({oldest})"));
    let mut s = serde_json::to_vec(&json!({"type": "ERROR", "object": e.body})).expect("JSON");
    s.push(b'\n');
    Bytes::from(s)
}

pub fn watch(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: Option<&str>,
    r: &Req,
) -> Result<Resp, ApiError> {
    let (labels, fields) = selectors(r)?;
    let rv_param = r.query.get("resourceVersion").unwrap_or("").to_string();
    let send_initial = r.query.flag("sendInitialEvents");
    let bookmarks = r.query.flag("allowWatchBookmarks");
    let timeout = match r.query.u64("timeoutSeconds") {
        Some(0) | None => 1800,
        Some(t) => t.min(3600),
    };
    let from_rv: Option<u64> = match rv_param.as_str() {
        "" | "0" => None,
        v => Some(
            v.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion '{v}'")))?,
        ),
    };
    let filter = Filter {
        rt: rt.clone(),
        ns: ns.map(String::from),
        labels,
        fields,
        table: table::wants_table(&r.accept).then(|| {
            (
                table::table_version(&r.accept),
                table::IncludeObject::from_query(r.query.get("includeObject")),
            )
        }),
    };
    let store = state.store.clone();
    let mut control = store.watch_control();
    control.mark_unchanged();
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(BUFFERED);

    // Everything the stream starts with is decided now, under the store's lock.
    let mut first: Vec<Bytes> = vec![];
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let (mut last_rv, sub) = if let (Some(rv), false) = (from_rv, send_initial) {
        match store.changes_since(rv) {
            Ok((backlog, sub)) => {
                let (items, _, _) = store.snapshot_and_subscribe(rt, ns);
                let backlog_keys: HashSet<_> = backlog
                    .iter()
                    .map(|c| (c.namespace.clone(), c.name.clone()))
                    .collect();
                // What matched at `rv`: what matches now and was not touched since.
                for o in items.iter().filter(|o| filter.matches(o)) {
                    if !backlog_keys.contains(&key_of(o)) {
                        seen.insert(key_of(o));
                    }
                }
                let mut last = rv;
                for c in &backlog {
                    last = c.rv;
                    if let Some(line) = event_line(&filter, &mut seen, c) {
                        first.push(line);
                    }
                }
                (last, Some(sub))
            }
            Err(oldest) => {
                first.push(expired_line(rv, oldest));
                (rv, None)
            }
        }
    } else {
        let (items, rv, sub) = store.snapshot_and_subscribe(rt, ns);
        for o in items.iter().filter(|o| filter.matches(o)) {
            seen.insert(key_of(o));
            first.push(filter.line("ADDED", o));
        }
        if send_initial && bookmarks {
            first.push(filter.bookmark(rv, true));
        }
        (rv, Some(sub))
    };

    tokio::spawn(async move {
        for line in first {
            if !send(&tx, line).await {
                return;
            }
        }
        let Some(mut sub) = sub else { return };
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(BOOKMARK_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = tick.tick(), if bookmarks => {
                    if !send(&tx, filter.bookmark(last_rv, false)).await {
                        return;
                    }
                }
                c = sub.recv() => match c {
                    Ok(c) => {
                        if c.rv <= last_rv {
                            continue;
                        }
                        last_rv = c.rv;
                        if let Some(line) = event_line(&filter, &mut seen, &c)
                            && !send(&tx, line).await
                        {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // This watcher fell behind the history: it must re-list.
                        let _ = send(&tx, expired_line(last_rv, store.current_rv())).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tx.closed() => return,
                Ok(()) = control.changed() => {
                    let how = control.borrow_and_update().1;
                    if how == WatchControl::Expire {
                        let _ = send(&tx, expired_line(last_rv, store.current_rv())).await;
                    }
                    return;
                }
            }
        }
    });

    let mut resp = Response::new(Body::from_stream(ReceiverStream::new(rx)));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}

/// The event a change produces for this watch: ADDED when an object starts to match,
/// MODIFIED while it matches, DELETED when it is deleted or stops matching.
fn event_line(f: &Filter, seen: &mut HashSet<(String, String)>, c: &Change) -> Option<Bytes> {
    if !f.in_scope(c) {
        return None;
    }
    let key = (c.namespace.clone(), c.name.clone());
    // Without selectors every change in scope matches: no need for the object's tree (a
    // compacted change would have to parse its JSON for it).
    let matches = f.selects_all() || f.matches(&c.object());
    match c.kind {
        EventType::Deleted => (seen.remove(&key) || matches).then(|| f.change_line("DELETED", c)),
        _ if matches => {
            let kind = if seen.insert(key) {
                "ADDED"
            } else {
                "MODIFIED"
            };
            Some(f.change_line(kind, c))
        }
        _ => seen.remove(&key).then(|| f.change_line("DELETED", c)),
    }
}
