//! The API server's connections, bounded in time and number. A connection must finish its TLS
//! handshake within [`HEAD_TIMEOUT`] of being accepted, and an HTTP/1.1 request head within
//! [`HEAD_TIMEOUT`] of its first byte; one with no request in flight for the idle timeout is
//! closed (one that never sends a request too: HTTP clients open connections ahead of need and
//! keep them in their pools); and at most `max` are open at once.
//! At the cap a new connection takes the place of the connection idle the longest (a request
//! in flight, a watch included, makes a connection busy, never idle); when every connection is
//! busy the new one is refused, with one warning line per interval counting the refusals.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use crate::agent::accept::RateLimit;

/// How long a new connection has for its TLS handshake, and a request head from its first byte.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay without a request in flight [the `--idle-timeout` default].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The bounds of the default `--max-connections`.
pub const MIN_CONNECTIONS: usize = 16;
pub const MAX_CONNECTIONS: usize = 4_096;

/// The default `--max-connections` for a soft open-file limit of `open_files`: an eighth of
/// it, within [`MIN_CONNECTIONS`]..=[`MAX_CONNECTIONS`] (in-process pods need the rest).
pub fn default_max_connections(open_files: u64) -> usize {
    usize::try_from(open_files / 8)
        .unwrap_or(usize::MAX)
        .clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// The bounds the server keeps.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub max: usize,
    pub head_timeout: Duration,
    pub idle_timeout: Duration,
}

/// What one connection's task shares with the [`Tracker`].
#[derive(Debug)]
pub struct ConnState {
    epoch: Instant,
    /// Requests whose response has not been sent to the end (a watch until it ends).
    in_flight: AtomicUsize,
    /// Nanoseconds after `epoch` of the last request start or end.
    last_active: AtomicU64,
    /// Nanoseconds after `epoch` (plus one; 0: none) of the first byte read while no request
    /// was in flight: a request head on its way.
    head_started: AtomicU64,
    close: Notify,
}

impl ConnState {
    fn new(epoch: Instant, now: Instant) -> Self {
        let s = ConnState {
            epoch,
            in_flight: AtomicUsize::new(0),
            last_active: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            close: Notify::new(),
        };
        s.touch(now);
        s
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    fn touch(&self, now: Instant) {
        self.last_active.store(self.nanos(now), Ordering::Relaxed);
    }

    /// Bytes arrived at `now`: with no request in flight, the head of the next one has begun.
    pub fn read_at(&self, now: Instant) {
        if self.idle() && self.head_started.load(Ordering::Relaxed) == 0 {
            self.head_started
                .store(self.nanos(now) + 1, Ordering::Relaxed);
        }
    }

    /// When the head of a request that has not arrived whole began, if one has.
    fn head_started(&self) -> Option<Instant> {
        match self.head_started.load(Ordering::Relaxed) {
            0 => None,
            n => Some(self.epoch + Duration::from_nanos(n - 1)),
        }
    }

    fn last_active(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.last_active.load(Ordering::Relaxed))
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// A request has arrived: the connection is busy until the guard (held by the response
    /// body) is dropped.
    pub fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Relaxed);
        self.touch(Instant::now());
        RequestGuard(self.clone())
    }

    /// Resolves when the tracker wants this connection closed (timed out, or shed).
    pub async fn closed(&self) {
        self.close.notified().await
    }
}

/// One request in flight on a connection.
#[derive(Debug)]
pub struct RequestGuard(Arc<ConnState>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.touch(Instant::now());
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Entry {
    state: Arc<ConnState>,
}

/// The open connections.
pub struct Tracker {
    limits: ConnLimits,
    epoch: Instant,
    conns: Mutex<(u64, HashMap<u64, Entry>)>,
    refused: RateLimit,
}

/// Why a connection was not taken: Some(refusals since the last warning) when one is due.
#[derive(Debug)]
pub struct Refused(pub Option<u64>);

/// An admitted connection; dropping it forgets the connection.
pub struct Conn {
    id: u64,
    pub state: Arc<ConnState>,
    tracker: Arc<Tracker>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.tracker.lock().1.remove(&self.id);
    }
}

impl Tracker {
    pub fn new(limits: ConnLimits) -> Arc<Self> {
        Arc::new(Tracker {
            limits: ConnLimits {
                max: limits.max.max(1),
                ..limits
            },
            epoch: Instant::now(),
            conns: Mutex::new((0, HashMap::new())),
            refused: RateLimit::new(),
        })
    }

    pub fn limits(&self) -> ConnLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<u64, Entry>)> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connections counted against the cap.
    pub fn open(&self) -> usize {
        self.lock().1.len()
    }

    /// Takes a new connection at `now`: under the cap, or in place of the connection idle the
    /// longest; refused when every connection is busy.
    pub fn admit(self: &Arc<Self>, now: Instant) -> Result<Conn, Refused> {
        let mut g = self.lock();
        if g.1.len() >= self.limits.max {
            let oldest_idle =
                g.1.iter()
                    .filter(|(_, e)| e.state.idle())
                    .min_by_key(|(_, e)| e.state.last_active())
                    .map(|(id, _)| *id);
            match oldest_idle {
                Some(id) => {
                    if let Some(e) = g.1.remove(&id) {
                        e.state.close.notify_one();
                    }
                }
                None => {
                    drop(g);
                    return Err(Refused(self.refused.count_failure(now)));
                }
            }
        }
        g.0 += 1;
        let id = g.0;
        let state = Arc::new(ConnState::new(self.epoch, now));
        g.1.insert(
            id,
            Entry {
                state: state.clone(),
            },
        );
        Ok(Conn {
            id,
            state,
            tracker: self.clone(),
        })
    }

    /// Closes, at `now`, every connection whose request head has been on its way for the head
    /// timeout and every one idle for the idle timeout; how many.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut g = self.lock();
        let due: Vec<u64> =
            g.1.iter()
                .filter(|(_, e)| {
                    if !e.state.idle() {
                        return false;
                    }
                    let head_late = e.state.head_started().is_some_and(|t| {
                        now.saturating_duration_since(t) >= self.limits.head_timeout
                    });
                    head_late
                        || now.saturating_duration_since(e.state.last_active())
                            >= self.limits.idle_timeout
                })
                .map(|(id, _)| *id)
                .collect();
        for id in &due {
            if let Some(e) = g.1.remove(id) {
                e.state.close.notify_one();
            }
        }
        due.len()
    }
}

/// A connection's stream that tells its [`ConnState`] when bytes arrive (HTTP/1.1, where
/// bytes between requests are the next request's head).
pub struct HeadWatch<S> {
    inner: S,
    state: Option<Arc<ConnState>>,
}

impl<S> HeadWatch<S> {
    /// `inner`, reporting reads to `state` when there is one.
    pub fn new(inner: S, state: Option<Arc<ConnState>>) -> Self {
        HeadWatch { inner, state }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadWatch<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(s)) = (&r, &self.state)
            && buf.filled().len() > before
        {
            s.read_at(Instant::now());
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadWatch<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(max: usize) -> Arc<Tracker> {
        Tracker::new(ConnLimits {
            max,
            head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        })
    }

    #[test]
    fn the_default_cap_is_an_eighth_of_the_open_files_within_bounds() {
        assert_eq!(default_max_connections(20_000), 2_500);
        assert_eq!(default_max_connections(1_024), 128);
        assert_eq!(default_max_connections(64), MIN_CONNECTIONS);
        assert_eq!(default_max_connections(1 << 20), MAX_CONNECTIONS);
    }

    #[test]
    fn half_sent_heads_time_out_and_idle_connections_later() {
        let t = tracker(100);
        let now = Instant::now();
        let _unused = t.admit(now).unwrap();
        let half = t.admit(now).unwrap();
        half.state.read_at(now + Duration::from_secs(1));
        let served = t.admit(now).unwrap();
        served.state.read_at(now);
        drop(served.state.begin());
        let busy = t.admit(now).unwrap();
        let _watch = busy.state.begin();
        assert_eq!(t.sweep(now + Duration::from_secs(10)), 0);
        assert_eq!(
            t.sweep(now + Duration::from_secs(11)),
            1,
            "the half-sent head"
        );
        assert_eq!(t.open(), 3);
        assert_eq!(
            t.sweep(now + Duration::from_secs(61)),
            2,
            "the unused and the served one, idle"
        );
        assert_eq!(
            t.sweep(now + Duration::from_secs(3_600)),
            0,
            "a watch is never idle"
        );
        assert_eq!(t.open(), 1);
        drop(half);
        assert_eq!(t.open(), 1);
    }

    #[tokio::test]
    async fn at_the_cap_the_longest_idle_is_shed_and_busy_ones_never() {
        let t = tracker(2);
        let now = Instant::now();
        let a = t.admit(now).unwrap();
        let b = t.admit(now + Duration::from_secs(1)).unwrap();
        let _busy = a.state.begin();
        let c = t.admit(now + Duration::from_secs(2)).unwrap();
        assert_eq!(t.open(), 2);
        // b was shed: its task hears it.
        tokio::time::timeout(Duration::from_secs(1), b.state.closed())
            .await
            .expect("the shed connection is told to close");
        let _busy_c = c.state.begin();
        let refused = t.admit(now + Duration::from_secs(3)).unwrap_err();
        assert_eq!(refused.0, Some(1), "the first refusal warns");
        let refused = t.admit(now + Duration::from_secs(4)).unwrap_err();
        assert_eq!(refused.0, None, "the next ones wait for the interval");
        let refused = t.admit(now + Duration::from_secs(20)).unwrap_err();
        assert_eq!(refused.0, Some(2), "then one line counts them");
    }
}
