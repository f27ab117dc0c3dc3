//! Fetching each agent pod's `/metrics`: through the API server's pod proxy (the default; works
//! from a laptop with a kubeconfig) or straight to the pod IP (`--scrape direct`, in-cluster).
//!
//! A [`Scraper`] bounds the work: at most `concurrency` requests at once (shared by overlapping
//! rounds), at most one scrape in flight per pod, each start delayed by a per-pod offset within
//! `jitter` (so a thousand pods do not reach the API server in one burst, and each pod keeps a
//! steady interval), a timeout per target covering connect, headers and body, and a size cap
//! enforced while the body streams in. Every failure is a [`ScrapeError`] whose `Display` is a
//! short reason for the operator.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::header::{ACCEPT, CONTENT_TYPE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};

use super::parse::{self, Scrape};
use crate::fleet::objects::{AgentPod, PodPhase};

/// What scrapers send: the 0.0.4 text format first, as Prometheus does.
const ACCEPT_TEXT: &str = "text/plain;version=0.0.4;q=1,*/*;q=0.1";
/// Bodies at least this large are parsed on the blocking pool.
const PARSE_INLINE_MAX: usize = 1 << 20;
/// How much of an error answer is read to find the API server's reason.
const ERROR_BODY_MAX: usize = 64 * 1024;
/// How much of an API server message a reason keeps.
const REASON_CHARS: usize = 160;

/// How a scrape reaches the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Route {
    /// `/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy{path}` through the API server.
    #[default]
    Proxy,
    /// `http://{podIP}:{port}{path}`.
    Direct,
}

impl FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "proxy" => Ok(Route::Proxy),
            "direct" => Ok(Route::Direct),
            other => Err(format!(
                "unknown scrape route '{other}'; use proxy (through the API server) or direct (pod IPs, in-cluster)"
            )),
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Route::Proxy => "proxy",
            Route::Direct => "direct",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeConfig {
    /// Time between rounds (the caller's loop; also how long idle connections are kept).
    pub interval: Duration,
    /// Requests in flight at once, over all rounds of this scraper.
    pub concurrency: usize,
    /// Per target: connect, headers and the whole body.
    pub timeout: Duration,
    /// A body larger than this is cut off and the scrape fails.
    pub max_bytes: usize,
    pub route: Route,
    /// Starts are spread over this window: each pod at its own fixed offset within it.
    pub jitter: Duration,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        ScrapeConfig {
            interval: Duration::from_secs(5),
            concurrency: 64,
            timeout: Duration::from_secs(2),
            max_bytes: 4 << 20,
            route: Route::Proxy,
            jitter: Duration::from_millis(500),
        }
    }
}

/// What a command asks of scraping, as plain settings: the route (`None`: no scraping), the
/// interval between rounds, the per-pod timeout and the requests in flight at once. The rest of
/// [`ScrapeConfig`] keeps its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeSettings {
    pub route: Option<Route>,
    pub interval: Duration,
    pub timeout: Duration,
    pub concurrency: usize,
}

impl ScrapeSettings {
    /// The scraper these settings ask for, or `None` when scraping is off. `client` is needed
    /// for [`Route::Proxy`] only.
    pub fn scraper(
        &self,
        client: Option<kube::Client>,
    ) -> Result<Option<Arc<Scraper>>, SetupError> {
        let Some(route) = self.route else {
            return Ok(None);
        };
        let cfg = ScrapeConfig {
            interval: self.interval,
            timeout: self.timeout,
            concurrency: self.concurrency,
            route,
            ..ScrapeConfig::default()
        };
        Ok(Some(Arc::new(Scraper::new(cfg, client)?)))
    }
}

/// One pod's metrics endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub namespace: String,
    pub pod: String,
    /// `status.podIP`: needed by the direct route only.
    pub ip: Option<String>,
    pub port: u16,
    /// Starts with `/`.
    pub path: String,
}

/// Why a pod is not a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    NotRunning(PodPhase),
    /// `prometheus.io/scrape: "false"`.
    Disabled,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::NotRunning(p) => write!(f, "not running ({p:?})"),
            Skip::Disabled => f.write_str("scraping off (prometheus.io/scrape: false)"),
        }
    }
}

impl Target {
    /// The pod's endpoint from its `prometheus.io/*` annotations (port 8080 and `/metrics`
    /// unless annotated); None when it is not running or scraping is off.
    pub fn from_pod(pod: &AgentPod) -> Option<Target> {
        Self::try_from_pod(pod).ok()
    }

    /// [`Target::from_pod`], saying why not.
    pub fn try_from_pod(pod: &AgentPod) -> Result<Target, Skip> {
        if pod.phase != PodPhase::Running {
            return Err(Skip::NotRunning(pod.phase));
        }
        let port = pod.metrics_port.ok_or(Skip::Disabled)?;
        let path = pod.metrics_path.as_deref().unwrap_or("/metrics");
        Ok(Target {
            namespace: pod.namespace.clone(),
            pod: pod.name.clone(),
            ip: pod.ip.clone(),
            port,
            path: if path.starts_with('/') {
                path.to_string()
            } else {
                format!("/{path}")
            },
        })
    }

    /// `namespace/pod`: the key of the pod in a [`super::series::MetricsStore`].
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.pod)
    }

    /// This pod's start offset within `jitter`: stable, spread evenly by a hash of its key.
    fn offset(&self, jitter: Duration) -> Duration {
        // FNV-1a, then murmur3's finaliser to spread similar names: stable across runs.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.namespace.bytes().chain([b'/']).chain(self.pod.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        jitter.mul_f64((h >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Why a pod's scrape failed. `Display` is the short reason shown next to the pod.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrapeError {
    #[error("timeout after {}", secs(*after))]
    Timeout { after: Duration },
    #[error("body over {}", size(*limit))]
    TooLarge {
        limit: usize,
        /// Bytes read before giving up (0 when the declared length was already too large).
        read: usize,
    },
    #[error("HTTP {status}")]
    Http { status: u16 },
    /// The API server answered for the pod (pod proxy route): its status and message.
    #[error("API server {status}: {}", short_reason(message))]
    Proxy { status: u16, message: String },
    #[error("{0}")]
    Connect(String),
    /// The connection broke after the answer had started.
    #[error("{0}")]
    Interrupted(String),
    #[error("TLS on the port; metrics are scraped over plain HTTP")]
    Tls,
    #[error("the answer is not HTTP")]
    NotHttp,
    /// Nothing in the body could be read as metrics.
    #[error("no metrics: {unreadable_lines} unreadable lines")]
    Parse { unreadable_lines: usize },
    #[error("pod has no IP yet")]
    NoAddress,
    #[error("bad target: {0}")]
    BadTarget(String),
    /// An earlier round's scrape of this pod is still running.
    #[error("previous scrape still running")]
    InFlight,
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn size(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// The gist of an API server message: "error trying to reach service: dial tcp ...: connect:
/// connection refused" becomes "connection refused".
fn short_reason(message: &str) -> String {
    let gist = if message.starts_with("error trying to reach service") {
        message.rsplit(": ").next().unwrap_or(message)
    } else {
        message
    };
    gist.chars().take(REASON_CHARS).collect()
}

/// Why a [`Scraper`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the pod-proxy route needs a cluster client; pass a kubeconfig or use --scrape direct")]
    NoClient,
    #[error("scrape concurrency must be at least 1")]
    NoConcurrency,
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// A round's start time and its results, in target order.
pub type Round = (jiff::Timestamp, Vec<(Target, Result<Scrape, ScrapeError>)>);

/// Scrapes targets; clone-cheap, shareable between tasks.
#[derive(Clone)]
pub struct Scraper {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ScrapeConfig,
    http: reqwest::Client,
    kube: Option<kube::Client>,
    permits: Semaphore,
    in_flight: Mutex<HashSet<String>>,
}

/// A pod's slot in the in-flight set, freed when dropped (on every path, cancellation too).
struct Claim<'a> {
    inner: &'a Inner,
    key: String,
}

impl<'a> Claim<'a> {
    fn take(inner: &'a Inner, key: String) -> Option<Self> {
        let fresh = inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone());
        // Built only when the slot was free: dropping a Claim frees its slot.
        fresh.then(|| Claim { inner, key })
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut set = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.remove(&self.key);
    }
}

impl Scraper {
    /// `kube` is needed for [`Route::Proxy`] only.
    pub fn new(cfg: ScrapeConfig, kube: Option<kube::Client>) -> Result<Self, SetupError> {
        if cfg.route == Route::Proxy && kube.is_none() {
            return Err(SetupError::NoClient);
        }
        if cfg.concurrency == 0 {
            return Err(SetupError::NoConcurrency);
        }
        // Plain HTTP only; the TLS configuration is given so that building the client never
        // depends on a process-wide crypto provider.
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::Http(e.to_string()))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .connect_timeout(cfg.timeout)
            .pool_max_idle_per_host(1)
            .pool_idle_timeout(cfg.interval.saturating_mul(3))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        Ok(Scraper {
            inner: Arc::new(Inner {
                permits: Semaphore::new(cfg.concurrency),
                cfg,
                http,
                kube,
                in_flight: Mutex::new(HashSet::new()),
            }),
        })
    }

    pub fn config(&self) -> &ScrapeConfig {
        &self.inner.cfg
    }

    /// Scrapes every target once, starts jittered, and returns the results in target order.
    /// Dropping the future cancels the round's scrapes.
    pub async fn round(&self, targets: &[Target]) -> Vec<(Target, Result<Scrape, ScrapeError>)> {
        let mut set = tokio::task::JoinSet::new();
        let mut index = HashMap::with_capacity(targets.len());
        for (i, t) in targets.iter().enumerate() {
            let inner = self.inner.clone();
            let t = t.clone();
            let delay = t.offset(inner.cfg.jitter);
            let task = set.spawn(async move { scrape_target(&inner, &t, delay).await });
            index.insert(task.id(), i);
        }
        let mut results: Vec<Option<Result<Scrape, ScrapeError>>> = vec![None; targets.len()];
        while let Some(done) = set.join_next_with_id().await {
            match done {
                Ok((id, r)) => results[index[&id]] = Some(r),
                // Only a bug panics here: that target says so, the others are unaffected.
                Err(e) => {
                    tracing::error!(error = %e, "scrape_task_failed");
                    results[index[&e.id()]] =
                        Some(Err(ScrapeError::Interrupted("scrape task failed".into())));
                }
            }
        }
        targets
            .iter()
            .cloned()
            .zip(results)
            .map(|(t, r)| {
                let r =
                    r.unwrap_or_else(|| Err(ScrapeError::Interrupted("scrape task failed".into())));
                (t, r)
            })
            .collect()
    }

    /// `n` rounds, `gap` apart from start to start, each with the time it started: what a
    /// one-shot command ingests so that rates exist (two rounds, a second or two apart).
    pub async fn rounds(&self, targets: &[Target], n: usize, gap: Duration) -> Vec<Round> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let started = tokio::time::Instant::now();
            let at = jiff::Timestamp::now();
            out.push((at, self.round(targets).await));
            if i + 1 < n {
                tokio::time::sleep_until(started + gap).await;
            }
        }
        out
    }

    /// Starts a round of `targets` in the background; its start time and results are sent on
    /// `tx` (and dropped if the receiver is gone). No targets, no round.
    pub fn spawn_round(&self, targets: Vec<Target>, tx: &mpsc::Sender<Round>) {
        if targets.is_empty() {
            return;
        }
        let scraper = self.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let at = jiff::Timestamp::now();
            let results = scraper.round(&targets).await;
            let _ = tx.send((at, results)).await;
        });
    }

    /// Scrapes one target now (no jitter), within the same limits as a round.
    pub async fn scrape(&self, target: &Target) -> Result<Scrape, ScrapeError> {
        scrape_target(&self.inner, target, Duration::ZERO).await
    }
}

async fn scrape_target(inner: &Inner, t: &Target, delay: Duration) -> Result<Scrape, ScrapeError> {
    let Some(_claim) = Claim::take(inner, t.key()) else {
        return Err(ScrapeError::InFlight);
    };
    tokio::time::sleep(delay).await;
    let _permit = inner
        .permits
        .acquire()
        .await
        .map_err(|_| ScrapeError::Interrupted("scraper closed".into()))?;
    let after = inner.cfg.timeout;
    let body = match tokio::time::timeout(after, fetch(inner, t)).await {
        Ok(r) => r?,
        Err(_) => return Err(ScrapeError::Timeout { after }),
    };
    let scrape = if body.len() < PARSE_INLINE_MAX {
        parse::parse_bytes(&body)
    } else {
        tokio::task::spawn_blocking(move || parse::parse_bytes(&body))
            .await
            .map_err(|_| ScrapeError::Interrupted("parse aborted".into()))?
    };
    if scrape.families.is_empty() && scrape.unreadable_lines > 0 {
        return Err(ScrapeError::Parse {
            unreadable_lines: scrape.unreadable_lines,
        });
    }
    Ok(scrape)
}

async fn fetch(inner: &Inner, t: &Target) -> Result<Vec<u8>, ScrapeError> {
    match inner.cfg.route {
        Route::Direct => fetch_direct(inner, t).await,
        Route::Proxy => match &inner.kube {
            Some(client) => fetch_proxy(client, inner.cfg.max_bytes, t).await,
            None => Err(ScrapeError::BadTarget("no cluster client".into())),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Direct: http://podIP:port/path

async fn fetch_direct(inner: &Inner, t: &Target) -> Result<Vec<u8>, ScrapeError> {
    let ip = t.ip.as_deref().ok_or(ScrapeError::NoAddress)?;
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| ScrapeError::BadTarget(format!("pod IP '{ip}' is not an address")))?;
    let addr = SocketAddr::new(ip, t.port);
    let url = format!("http://{addr}{}", t.path);
    let req = inner
        .http
        .get(&url)
        .header(ACCEPT, ACCEPT_TEXT)
        .build()
        .map_err(|_| ScrapeError::BadTarget(format!("path '{}' is not a URL path", t.path)))?;
    let mut resp = match inner.http.execute(req).await {
        Ok(r) => r,
        Err(e) => return Err(request_error(&e, addr).await),
    };
    let status = resp.status().as_u16();
    let limit = inner.cfg.max_bytes;
    if !resp.status().is_success() {
        // Go's HTTPS servers answer a plain request with this 400.
        if status == 400 {
            let mut body = Vec::new();
            while body.len() < ERROR_BODY_MAX {
                match resp.chunk().await {
                    Ok(Some(c)) => body.extend_from_slice(&c),
                    _ => break,
                }
            }
            if String::from_utf8_lossy(&body).contains("HTTP request to an HTTPS server") {
                return Err(ScrapeError::Tls);
            }
        }
        return Err(ScrapeError::Http { status });
    }
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ScrapeError::TooLarge { limit, read: 0 });
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if body.len() + c.len() > limit {
                    return Err(ScrapeError::TooLarge {
                        limit,
                        read: body.len() + c.len(),
                    });
                }
                body.extend_from_slice(&c);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(ScrapeError::Interrupted(mid_body(&e))),
        }
    }
}

/// The short reason for a request that got no answer; a malformed answer is checked for TLS.
async fn request_error(e: &reqwest::Error, addr: SocketAddr) -> ScrapeError {
    if let Some(h) = find::<hyper::Error>(e) {
        if h.is_parse() || h.is_parse_status() {
            return if speaks_tls(addr).await {
                ScrapeError::Tls
            } else {
                ScrapeError::NotHttp
            };
        }
        if h.is_incomplete_message() {
            return if speaks_tls(addr).await {
                ScrapeError::Tls
            } else {
                ScrapeError::Connect("closed without an answer".into())
            };
        }
    }
    if let Some(io) = find::<std::io::Error>(e) {
        return ScrapeError::Connect(io_reason(io));
    }
    ScrapeError::Connect(chain(e))
}

/// Whether the endpoint answers a plain HTTP request with a TLS record (an alert, typically).
async fn speaks_tls(addr: SocketAddr) -> bool {
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut head = [0u8; 2];
        s.read_exact(&mut head).await.ok()?;
        // Record types 20-23 (change_cipher_spec, alert, handshake, data), version 3.x.
        Some((20..=23).contains(&head[0]) && head[1] == 3)
    };
    probe.await.unwrap_or(false)
}

fn mid_body(e: &reqwest::Error) -> String {
    match find::<std::io::Error>(e) {
        Some(io) => format!("{} mid-body", io_reason(io)),
        None => "connection closed mid-body".into(),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset".into(),
        ConnectionAborted => "connection aborted".into(),
        TimedOut => "connect timed out".into(),
        HostUnreachable => "host unreachable".into(),
        NetworkUnreachable => "network unreachable".into(),
        AddrNotAvailable => "address not available".into(),
        UnexpectedEof => "connection closed".into(),
        _ => e.to_string(),
    }
}

/// The first error of type `T` in `e`'s source chain.
fn find<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(t) = c.downcast_ref::<T>() {
            return Some(t);
        }
        cur = c.source();
    }
    None
}

/// The innermost message of an error chain.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(s) = cur.source() {
        cur = s;
    }
    cur.to_string()
}

// ---------------------------------------------------------------------------------------------
// Proxy: the API server's pods/proxy

async fn fetch_proxy(
    client: &kube::Client,
    limit: usize,
    t: &Target,
) -> Result<Vec<u8>, ScrapeError> {
    let uri = format!(
        "/api/v1/namespaces/{}/pods/{}:{}/proxy{}",
        t.namespace, t.pod, t.port, t.path
    );
    let req = hyper::Request::get(uri)
        .header(ACCEPT, ACCEPT_TEXT)
        .body(kube::client::Body::empty())
        .map_err(|_| ScrapeError::BadTarget(format!("path '{}' is not a URL path", t.path)))?;
    let resp = client.send(req).await.map_err(|e| {
        let reason = match &e {
            kube::Error::HyperError(h) => match find::<std::io::Error>(h) {
                Some(io) => io_reason(io),
                None => chain(h),
            },
            other => chain(other),
        };
        ScrapeError::Connect(format!("API server: {reason}"))
    })?;
    let status = resp.status().as_u16();
    let json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let success = resp.status().is_success();
    if !success && !json {
        return Err(ScrapeError::Http { status });
    }
    if resp
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| success && n > limit as u64)
    {
        return Err(ScrapeError::TooLarge { limit, read: 0 });
    }
    let cap = if success { limit } else { ERROR_BODY_MAX };
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    loop {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > cap {
                        if success {
                            return Err(ScrapeError::TooLarge {
                                limit,
                                read: buf.len() + data.len(),
                            });
                        }
                        break;
                    }
                    buf.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => {
                let reason = match find::<std::io::Error>(&e) {
                    Some(io) => format!("{} mid-body", io_reason(io)),
                    None => "connection closed mid-body".into(),
                };
                return Err(ScrapeError::Interrupted(reason));
            }
            None => break,
        }
    }
    if success {
        return Ok(buf);
    }
    // The API server's own refusal (a `Status`), or a JSON error from the pod itself.
    let message = serde_json::from_slice::<serde_json::Value>(&buf)
        .ok()
        .filter(|v| v["kind"] == "Status")
        .and_then(|v| v["message"].as_str().map(str::to_string));
    Err(match message {
        Some(message) => ScrapeError::Proxy { status, message },
        None => ScrapeError::Http { status },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_build_the_scraper_they_ask_for() {
        let mut s = ScrapeSettings {
            route: None,
            interval: Duration::from_secs(7),
            timeout: Duration::from_millis(1500),
            concurrency: 3,
        };
        assert!(s.scraper(None).unwrap().is_none(), "no route: no scraper");
        s.route = Some(Route::Proxy);
        assert!(matches!(s.scraper(None), Err(SetupError::NoClient)));
        s.route = Some(Route::Direct);
        let scraper = s.scraper(None).unwrap().expect("direct needs no client");
        let cfg = scraper.config();
        assert_eq!(cfg.route, Route::Direct);
        assert_eq!(cfg.interval, Duration::from_secs(7));
        assert_eq!(cfg.timeout, Duration::from_millis(1500));
        assert_eq!(cfg.concurrency, 3);
        assert_eq!(cfg.max_bytes, ScrapeConfig::default().max_bytes);
        s.concurrency = 0;
        assert!(matches!(s.scraper(None), Err(SetupError::NoConcurrency)));
    }

    #[test]
    fn reasons_are_short() {
        let cases = [
            (
                ScrapeError::Timeout {
                    after: Duration::from_secs(2),
                },
                "timeout after 2s",
            ),
            (
                ScrapeError::Timeout {
                    after: Duration::from_millis(1500),
                },
                "timeout after 1.5s",
            ),
            (
                ScrapeError::TooLarge {
                    limit: 4 << 20,
                    read: 5 << 20,
                },
                "body over 4 MiB",
            ),
            (ScrapeError::Http { status: 500 }, "HTTP 500"),
            (
                ScrapeError::Proxy {
                    status: 503,
                    message: "error trying to reach service: dial tcp 10.0.0.7:8080: connect: connection refused".into(),
                },
                "API server 503: connection refused",
            ),
            (
                ScrapeError::Proxy {
                    status: 403,
                    message: "pods \"p\" is forbidden: User \"u\" cannot get resource \"pods/proxy\"".into(),
                },
                "API server 403: pods \"p\" is forbidden: User \"u\" cannot get resource \"pods/proxy\"",
            ),
            (
                ScrapeError::Parse {
                    unreadable_lines: 7,
                },
                "no metrics: 7 unreadable lines",
            ),
            (ScrapeError::NoAddress, "pod has no IP yet"),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
    }

    fn pod(phase: PodPhase, port: Option<u16>, path: Option<&str>) -> AgentPod {
        AgentPod {
            name: "a-1".into(),
            namespace: "agents".into(),
            phase,
            ip: Some("10.0.0.7".into()),
            metrics_port: port,
            metrics_path: path.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn targets_from_pods() {
        let t = Target::from_pod(&pod(PodPhase::Running, Some(8080), None)).unwrap();
        assert_eq!(
            t,
            Target {
                namespace: "agents".into(),
                pod: "a-1".into(),
                ip: Some("10.0.0.7".into()),
                port: 8080,
                path: "/metrics".into(),
            }
        );
        assert_eq!(t.key(), "agents/a-1");
        let t = Target::from_pod(&pod(PodPhase::Running, Some(9000), Some("stats"))).unwrap();
        assert_eq!((t.port, t.path.as_str()), (9000, "/stats"));
        assert_eq!(
            Target::try_from_pod(&pod(PodPhase::Pending, Some(8080), None)),
            Err(Skip::NotRunning(PodPhase::Pending))
        );
        assert_eq!(
            Target::try_from_pod(&pod(PodPhase::Running, None, None)),
            Err(Skip::Disabled)
        );
    }

    #[test]
    fn offsets_are_stable_and_spread() {
        let jitter = Duration::from_millis(1000);
        let offsets: Vec<Duration> = (0..1000)
            .map(|i| {
                let mut t = Target::from_pod(&pod(PodPhase::Running, Some(8080), None)).unwrap();
                t.pod = format!("agent-{i}");
                t.offset(jitter)
            })
            .collect();
        assert!(offsets.iter().all(|o| *o < jitter));
        // Each tenth of the window holds roughly a tenth of the pods.
        for decile in 0..10 {
            let n = offsets
                .iter()
                .filter(|o| o.as_millis() / 100 == decile)
                .count();
            assert!((50..=150).contains(&n), "decile {decile}: {n}");
        }
        let mut t = Target::from_pod(&pod(PodPhase::Running, Some(8080), None)).unwrap();
        t.pod = "agent-3".into();
        assert_eq!(t.offset(jitter), offsets[3]);
    }

    #[test]
    fn routes_parse() {
        assert_eq!("proxy".parse::<Route>(), Ok(Route::Proxy));
        assert_eq!("direct".parse::<Route>(), Ok(Route::Direct));
        assert!("pod".parse::<Route>().unwrap_err().contains("proxy"));
        assert_eq!(Route::default(), Route::Proxy);
    }

    #[test]
    fn a_proxy_scraper_needs_a_client() {
        assert!(matches!(
            Scraper::new(ScrapeConfig::default(), None),
            Err(SetupError::NoClient)
        ));
        let direct = ScrapeConfig {
            route: Route::Direct,
            ..Default::default()
        };
        assert!(Scraper::new(direct.clone(), None).is_ok());
        assert!(matches!(
            Scraper::new(
                ScrapeConfig {
                    concurrency: 0,
                    ..direct
                },
                None
            ),
            Err(SetupError::NoConcurrency)
        ));
    }
}
