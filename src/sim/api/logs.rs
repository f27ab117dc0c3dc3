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
    // With limitBytes the output ends at the limit, following or not.
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
    let opened = match &file {
        Some(f) => tokio::fs::File::open(f).await.ok(),
        None => None,
    };
    let len = match &opened {
        Some(f) => f.metadata().await.ok().map(|m| m.len()),
        None => None,
    };
    let (Some(mut f), Some(len)) = (opened, len) else {
        return Err(ApiError::bad_request(if previous {
            format!("previous terminated container \"{container}\" in pod \"{name}\" not found")
        } else {
            let waiting = status
                .and_then(|s| s["state"]["waiting"]["reason"].as_str())
                .unwrap_or("ContainerCreating");
            format!("container \"{container}\" in pod \"{name}\" is waiting to start: {waiting}")
        }));
    };
    let cannot_read =
        |e: std::io::Error| ApiError::internal(format!("cannot read the log of pod {name}: {e}"));
    let start = match tail_lines {
        Some(n) => tail_start(&mut f, len, n, BLOCK)
            .await
            .map_err(cannot_read)?,
        None => 0,
    };
    // limitBytes counts from where the output starts.
    let end = limit.map(|l| start.saturating_add(l).min(len));
    f.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(cannot_read)?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(4);
    if !follow || end.is_some() {
        // What the file holds now, up to the limit, a block at a time.
        let end = end.unwrap_or(len);
        tokio::spawn(async move {
            let _ = copy_blocks(&mut f, end - start, &tx).await;
        });
        return Ok(plain(Body::from_stream(ReceiverStream::new(rx))));
    }
    let (store, rt, ns, name) = (
        state.store.clone(),
        rt.clone(),
        ns.to_string(),
        name.to_string(),
    );
    let uid = uid.to_string();
    tokio::spawn(async move {
        loop {
            // Everything written so far, then a look again after a pause.
            match copy_blocks(&mut f, u64::MAX, &tx).await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(()) => return,
            }
            tokio::time::sleep(FOLLOW_POLL).await;
            if tx.is_closed() {
                return;
            }
            // Read once more before ending, so that the last lines written are sent.
            let pod = match store.get(&rt, &ns, &name) {
                Ok(p) if p["metadata"]["uid"] == uid.as_str() => Some(p),
                _ => None,
            };
            let ended = pod.as_ref().is_none_or(|pod| {
                let st = container_status(pod, &container);
                let now_restarts = st.and_then(|s| s["restartCount"].as_i64()).unwrap_or(0);
                let terminated = st.is_some_and(|s| s["state"].get("terminated").is_some());
                now_restarts != instance || terminated
            });
            if ended {
                let _ = copy_blocks(&mut f, u64::MAX, &tx).await;
                return;
            }
        }
    });
    Ok(plain(Body::from_stream(ReceiverStream::new(rx))))
}

/// The size of one read: a log is never held whole.
const BLOCK: usize = 64 * 1024;

/// Sends up to `max` bytes of `f`, from where it stands, to `tx` a block at a time; how many
/// it sent, or Err when the reader has gone or the file cannot be read.
async fn copy_blocks(
    f: &mut tokio::fs::File,
    max: u64,
    tx: &mpsc::Sender<Result<Bytes, Infallible>>,
) -> Result<u64, ()> {
    let mut sent = 0u64;
    while sent < max {
        let want = usize::try_from(max - sent).unwrap_or(usize::MAX).min(BLOCK);
        let mut buf = vec![0u8; want];
        let n = f.read(&mut buf).await.map_err(|_| ())?;
        if n == 0 {
            break;
        }
        buf.truncate(n);
        sent += n as u64;
        tx.send(Ok(Bytes::from(buf))).await.map_err(|_| ())?;
    }
    Ok(sent)
}

/// Where the last `n` lines of the first `len` bytes of `f` start, read backwards `block`
/// bytes at a time: the offset [`tail`] would give, without reading the rest.
async fn tail_start<F>(f: &mut F, len: u64, n: u64, block: usize) -> std::io::Result<u64>
where
    F: tokio::io::AsyncRead + tokio::io::AsyncSeek + Unpin,
{
    if n == 0 {
        return Ok(len);
    }
    let mut end = len;
    // A final newline ends the last line rather than starting an empty one.
    if len > 0 {
        let mut last = [0u8; 1];
        f.seek(std::io::SeekFrom::Start(len - 1)).await?;
        f.read_exact(&mut last).await?;
        if last[0] == b'\n' {
            end = len - 1;
        }
    }
    let mut seen = 0u64;
    let mut buf = vec![0u8; block.max(1)];
    while end > 0 {
        let size = (end.min(buf.len() as u64)) as usize;
        let at = end - size as u64;
        f.seek(std::io::SeekFrom::Start(at)).await?;
        f.read_exact(&mut buf[..size]).await?;
        for (i, b) in buf[..size].iter().enumerate().rev() {
            if *b == b'\n' {
                seen += 1;
                if seen == n {
                    return Ok(at + i as u64 + 1);
                }
            }
        }
        end = at;
    }
    Ok(0)
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

    #[tokio::test]
    async fn tail_start_reads_backwards_in_blocks_to_where_tail_starts() {
        let texts: [&[u8]; 7] = [
            b"",
            b"\n",
            b"a",
            b"a\nb\nc\n",
            b"a\nb",
            b"\n\n\nx\n\n",
            b"one line\ntwo lines here\nthree\nfour\nfive without end",
        ];
        for text in texts {
            for block in [1, 2, 3, 7, 64] {
                for n in 0..8u64 {
                    let mut f = std::io::Cursor::new(text.to_vec());
                    let got = tail_start(&mut f, text.len() as u64, n, block)
                        .await
                        .unwrap();
                    let want = text.len() - tail(text, n as usize).len();
                    assert_eq!(got as usize, want, "{text:?} n={n} block={block}");
                }
            }
        }
    }

    #[test]
    fn paths_name_pod_uid_container_and_instance() {
        assert_eq!(
            path(Path::new("/s/logs"), "agents", "p", "u-1", "agent", 2),
            PathBuf::from("/s/logs/agents_p_u-1/agent/2.log")
        );
    }
}
