//! The agent's Prometheus metrics (text format 0.0.4) and its HTTP endpoints:
//! `/metrics`, `/healthz` (the process is alive) and `/readyz` (it is consuming).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Success,
    Failure,
    Requeued,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ModelLabel {
    model: String,
}

/// Task durations span sub-second sims to hour-long agent runs.
const DURATION_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];

/// Every metric of the agent. Names are registered without `_total`: the library appends it to
/// counters (and panics in debug builds if a name already ends in it).
pub struct Metrics {
    registry: Registry,
    tasks: Family<StatusLabel, Counter>,
    duration: Histogram,
    tokens: Family<ModelLabel, Counter>,
    steps: Counter,
    checkpoints: Counter,
    inflight: Gauge,
    circuit_open: Gauge,
    rss: Gauge,
    ready: AtomicBool,
    /// Bytes that tasks hold on purpose (`memory_mb`): what an in-process agent reports as its
    /// memory use, since it has no RSS of its own.
    held: AtomicU64,
}

impl Metrics {
    pub fn new(index: &str) -> Self {
        let mut registry = Registry::default();
        let tasks = Family::<StatusLabel, Counter>::default();
        registry.register(
            "agent_tasks_completed",
            "Tasks finished by this agent, by outcome: success, failure (dead-lettered) or requeued (given back to the queue)",
            tasks.clone(),
        );
        let duration = Histogram::new(DURATION_BUCKETS);
        registry.register(
            "agent_task_duration_seconds",
            "Run time of successful tasks on this agent",
            duration.clone(),
        );
        let tokens = Family::<ModelLabel, Counter>::default();
        registry.register(
            "agent_llm_tokens",
            "LLM tokens used, by model",
            tokens.clone(),
        );
        let steps = Counter::default();
        registry.register("agent_task_steps", "Task steps executed", steps.clone());
        let checkpoints = Counter::default();
        registry.register(
            "agent_checkpoints",
            "Checkpoints written",
            checkpoints.clone(),
        );
        let inflight = Gauge::default();
        registry.register(
            "agent_inflight_tasks",
            "Tasks being worked on now",
            inflight.clone(),
        );
        let circuit_open = Gauge::default();
        registry.register(
            "agent_circuit_open",
            "1 while the circuit breaker has stopped consumption after repeated executor failures",
            circuit_open.clone(),
        );
        let rss = Gauge::default();
        registry.register(
            "agent_resident_memory_bytes",
            "Resident memory of the agent process",
            rss.clone(),
        );
        registry.register(
            "agent",
            "Agent identity",
            Info::new(vec![
                ("index".to_string(), index.to_string()),
                ("version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
            ]),
        );
        // Every status is present from the start, so rates work before the first failure.
        let m = Self {
            registry,
            tasks,
            duration,
            tokens,
            steps,
            checkpoints,
            inflight,
            circuit_open,
            rss,
            ready: AtomicBool::new(false),
            held: AtomicU64::new(0),
        };
        for s in [Status::Success, Status::Failure, Status::Requeued] {
            let _ = m.tasks.get_or_create(&label(s));
        }
        m
    }

    pub fn task_done(&self, status: Status) {
        self.tasks.get_or_create(&label(status)).inc();
    }

    pub fn observe_duration(&self, seconds: f64) {
        self.duration.observe(seconds);
    }

    pub fn tokens(&self, model: &str, n: u64) {
        self.tokens
            .get_or_create(&ModelLabel {
                model: model.to_string(),
            })
            .inc_by(n);
    }

    pub fn step(&self) {
        self.steps.inc();
    }

    pub fn checkpoint(&self) {
        self.checkpoints.inc();
    }

    pub fn inflight(&self) -> &Gauge {
        &self.inflight
    }

    pub fn set_circuit_open(&self, open: bool) {
        self.circuit_open.set(open as i64);
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Counts `bytes` as held by a task until the guard is dropped.
    pub fn hold(&self, bytes: u64) -> HeldGuard<'_> {
        self.held.fetch_add(bytes, Ordering::Relaxed);
        HeldGuard(&self.held, bytes)
    }

    /// Bytes tasks hold now.
    pub fn held_bytes(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// The exposition, with the memory gauge read fresh.
    pub fn encode(&self) -> String {
        if let Some(rss) = resident_memory_bytes() {
            self.rss.set(rss);
        }
        let mut out = String::with_capacity(4096);
        prometheus_text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

fn label(s: Status) -> StatusLabel {
    StatusLabel {
        status: match s {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Requeued => "requeued",
        },
    }
}

/// VmRSS of this process from /proc, in bytes.
pub fn resident_memory_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Memory a task holds, counted in [`Metrics::held_bytes`] while this lives.
pub struct HeldGuard<'a>(&'a AtomicU64, u64);

impl Drop for HeldGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(self.1, Ordering::Relaxed);
    }
}

/// The metrics server; dropping it (or [`Server::stop`]) closes the listener.
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds the metrics server and serves it in the background until the returned [`Server`] is
/// dropped.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<Server> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    // One handler that matches the path itself: a router of three routes costs a few KB per
    // agent, which adds up with thousands of in-process agents.
    let app = Router::new().fallback(endpoint).with_state(metrics);
    let task = tokio::spawn(async move {
        loop {
            let stream = super::accept::accept(&listener).await;
            let service = hyper_util::service::TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok(Server { addr: bound, task })
}

/// `GET /metrics`, `/healthz` and `/readyz` (and HEAD); 405 for other methods, 404 elsewhere.
async fn endpoint(State(m): State<Arc<Metrics>>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return StatusCode::NOT_FOUND.into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET,HEAD")],
        )
            .into_response();
    }
    match path {
        "/metrics" => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            m.encode(),
        )
            .into_response(),
        _ => match health(&m, path) {
            Some((code, body)) => (code, body).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
    }
}

/// The answer to `/healthz` (the process is alive) or `/readyz` (it is consuming), None for any
/// other path: what the server sends, and what the local cluster's kubelet reads directly from an
/// in-process agent instead of opening a connection per probe.
pub fn health(m: &Metrics, path: &str) -> Option<(StatusCode, &'static str)> {
    match path {
        "/healthz" => Some((StatusCode::OK, "ok")),
        "/readyz" if m.is_ready() => Some((StatusCode::OK, "ready")),
        "/readyz" => Some((StatusCode::SERVICE_UNAVAILABLE, "not consuming")),
        _ => None,
    }
}

/// A gauge that counts itself down when dropped: in-flight tasks stay exact on every path out
/// of a task, panics and cancellations included.
pub struct InflightGuard<'a>(&'a Gauge<i64, AtomicI64>);

impl<'a> InflightGuard<'a> {
    pub fn new(g: &'a Gauge<i64, AtomicI64>) -> Self {
        g.inc();
        Self(g)
    }
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_answers_liveness_and_readiness_only() {
        let m = Metrics::new("agent-0");
        assert_eq!(health(&m, "/healthz"), Some((StatusCode::OK, "ok")));
        assert_eq!(
            health(&m, "/readyz"),
            Some((StatusCode::SERVICE_UNAVAILABLE, "not consuming"))
        );
        m.set_ready(true);
        assert_eq!(health(&m, "/readyz"), Some((StatusCode::OK, "ready")));
        assert_eq!(health(&m, "/metrics"), None);
        assert_eq!(health(&m, "/"), None);
    }

    #[tokio::test]
    async fn endpoints_paths_and_methods() {
        let m = Arc::new(Metrics::new("0"));
        let server = serve("127.0.0.1:0".parse().unwrap(), m.clone())
            .await
            .unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = |p: &str| format!("http://{}{p}", server.addr);
        let r = http.get(url("/metrics")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()[reqwest::header::CONTENT_TYPE],
            prometheus_text::CONTENT_TYPE
        );
        assert!(r.text().await.unwrap().contains("agent_inflight_tasks"));
        let status = |r: reqwest::Response| r.status().as_u16();
        assert_eq!(status(http.get(url("/healthz")).send().await.unwrap()), 200);
        assert_eq!(status(http.get(url("/readyz")).send().await.unwrap()), 503);
        m.set_ready(true);
        assert_eq!(status(http.get(url("/readyz")).send().await.unwrap()), 200);
        assert_eq!(
            status(http.head(url("/metrics")).send().await.unwrap()),
            200
        );
        assert_eq!(status(http.get(url("/other")).send().await.unwrap()), 404);
        let post = http.post(url("/metrics")).send().await.unwrap();
        assert_eq!(post.status(), 405);
        assert_eq!(post.headers()[reqwest::header::ALLOW], "GET,HEAD");
        server.stop();
    }

    #[test]
    fn exposition_names_and_values() {
        let m = Metrics::new("7");
        m.task_done(Status::Success);
        m.task_done(Status::Success);
        m.task_done(Status::Requeued);
        m.tokens("sim", 330);
        m.step();
        m.observe_duration(0.3);
        {
            let _g = InflightGuard::new(m.inflight());
            assert!(m.encode().contains("agent_inflight_tasks 1\n"));
        }
        let text = m.encode();
        for line in [
            "agent_tasks_completed_total{status=\"success\"} 2\n",
            "agent_tasks_completed_total{status=\"failure\"} 0\n",
            "agent_tasks_completed_total{status=\"requeued\"} 1\n",
            "agent_llm_tokens_total{model=\"sim\"} 330\n",
            "agent_task_steps_total 1\n",
            "agent_checkpoints_total 0\n",
            "agent_inflight_tasks 0\n",
            "agent_circuit_open 0\n",
            "agent_task_duration_seconds_count 1\n",
            "agent_task_duration_seconds_bucket{le=\"0.5\"} 1\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(text.contains("agent_info{index=\"7\",version=\""), "{text}");
        assert!(text.contains("# TYPE agent_resident_memory_bytes gauge"));
        assert!(!text.contains("# EOF"), "0.0.4 has no EOF marker");
    }
}
