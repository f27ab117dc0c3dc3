//! `pods/log`: what `kubectl logs` reads. The kubelet writes each container instance's output
//! to `<logs>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log` ([`path`]); this serves
//! the current instance, or the one before it with `previous=true`, as plain text.
//!
//! Query parameters as kube-apiserver takes them: `container` (needed when the pod has more
//! than one), `previous`, `tailLines`, `limitBytes`, `follow` (the response stays open and
//! streams what the container writes until it ends or the pod goes).
//! Errors are the kubelet's, e.g. `a container name must be specified for pod p, choose one of:
//! [a b]` and `container "a" in pod "p" is waiting to start: ContainerCreating`.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use hyper::Response;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::registry::ResourceType;
use super::request::{ApiState, Req, Resp};
use super::status::ApiError;

/// Where the kubelet writes the output of one container instance.
pub fn path(
    logs: &Path,
    namespace: &str,
    pod: &str,
    uid: &str,
    container: &str,
    restart: i64,
) -> PathBuf {
    logs.join(format!("{namespace}_{pod}_{uid}"))
        .join(container)
        .join(format!("{restart}.log"))
}

/// How often a followed log is read again.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// The last `n` lines of `text` (all of it when it has fewer).
pub fn tail(text: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    // A final newline ends the last line rather than starting an empty one.
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return &text[i + 1..];
            }
        }
    }
    text
}

fn container_names(pod: &Value) -> Vec<String> {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect()
}

/// The container's status entry, if the kubelet reported one.
fn container_status<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    pod["status"]["containerStatuses"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
}

fn positive(r: &Req, key: &str) -> Result<Option<u64>, ApiError> {
    match r.query.get(key) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "{key}: invalid value '{v}': a whole number is needed"
            ))
        }),
    }
}

pub async fn logs(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    r: &Req,
) -> Result<Resp, ApiError> {
    let pod = state.store.get(rt, ns, name)?;
    let names = container_names(&pod);
    let container = match r.query.get("container").filter(|c| !c.is_empty()) {
        Some(c) if names.iter().any(|n| n == c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let previous = r.query.flag("previous");
    let follow = r.query.flag("follow") && !previous;
    let tail_lines = positive(r, "tailLines")?;
    let limit = positive(r, "limitBytes")?;
    let status = container_status(&pod, &container);
    let restarts = status.and_then(|s| s["restartCount"].as_i64()).unwrap_or(0);
    let uid = pod["metadata"]["uid"].as_str().unwrap_or_default();
    let instance = if previous { restarts - 1 } else { restarts };
    let file = state
        .logs
        .as_deref()
        .filter(|_| instance >= 0)
        .map(|d| path(d, ns, name, uid, &container, instance));
    let text = match &file {
        Some(f) => tokio::fs::read(f).await.ok(),
        None => None,
    };
    let Some(text) = text else {
        return Err(ApiError::bad_request(if previous {
            format!("previous terminated container \"{container}\" in pod \"{name}\" not found")
        } else {
            let waiting = status
                .and_then(|s| s["state"]["waiting"]["reason"].as_str())
                .unwrap_or("ContainerCreating");
            format!("container \"{container}\" in pod \"{name}\" is waiting to start: {waiting}")
        }));
    };
    let mut start = text.len() - tail_lines.map_or(text.len(), |n| tail(&text, n as usize).len());
    if let Some(limit) = limit {
        // limitBytes counts from where the output starts.
        let end = (start as u64 + limit).min(text.len() as u64) as usize;
        let body = text[start..end].to_vec();
        return Ok(plain(Body::from(body)));
    }
    if !follow {
        return Ok(plain(Body::from(text[start..].to_vec())));
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(16);
    let first = Bytes::copy_from_slice(&text[start..]);
    start = text.len();
    let (store, rt, ns, name, file) = (
        state.store.clone(),
        rt.clone(),
        ns.to_string(),
        name.to_string(),
        file.unwrap_or_default(),
    );
    let uid = uid.to_string();
    tokio::spawn(async move {
        if !first.is_empty() && tx.send(Ok(first)).await.is_err() {
            return;
        }
        let mut offset = start as u64;
        loop {
            tokio::time::sleep(FOLLOW_POLL).await;
            if tx.is_closed() {
                return;
            }
            let Ok(mut f) = tokio::fs::File::open(&file).await else {
                return;
            };
            let mut more = Vec::new();
            if f.seek(std::io::SeekFrom::Start(offset)).await.is_ok() {
                let _ = f.read_to_end(&mut more).await;
            }
            if !more.is_empty() {
                offset += more.len() as u64;
                if tx.send(Ok(Bytes::from(more))).await.is_err() {
                    return;
                }
                continue;
            }
            // Nothing new: the stream ends with the container instance (it finished or
            // restarted) or with the pod.
            let pod = match store.get(&rt, &ns, &name) {
                Ok(p) if p["metadata"]["uid"] == uid.as_str() => p,
                _ => return,
            };
            let st = container_status(&pod, &container);
            let now_restarts = st.and_then(|s| s["restartCount"].as_i64()).unwrap_or(0);
            let terminated = st.is_some_and(|s| s["state"].get("terminated").is_some());
            if now_restarts != instance || terminated {
                return;
            }
        }
    });
    Ok(plain(Body::from_stream(ReceiverStream::new(rx))))
}

fn plain(body: Body) -> Resp {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_counts_lines_from_the_end() {
        let t = b"a\nb\nc\n";
        assert_eq!(tail(t, 1), b"c\n");
        assert_eq!(tail(t, 2), b"b\nc\n");
        assert_eq!(tail(t, 3), t);
        assert_eq!(tail(t, 10), t);
        assert_eq!(tail(t, 0), b"");
        assert_eq!(tail(b"a\nb", 1), b"b", "a last line without its newline");
        assert_eq!(tail(b"", 2), b"");
    }

    #[test]
    fn paths_name_pod_uid_container_and_instance() {
        assert_eq!(
            path(Path::new("/s/logs"), "agents", "p", "u-1", "agent", 2),
            PathBuf::from("/s/logs/agents_p_u-1/agent/2.log")
        );
    }
}
