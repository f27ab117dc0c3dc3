//! What running one step of a task means. Both executors sit behind [`Executor`]; the worker
//! is generic over it.
//!
//! - [`SimExecutor`] sleeps `step_ms` per step and reports a deterministic token count
//!   (100 + 10·step), so tests and demos know exactly what the metrics must say. A task can ask
//!   to fail (`fail_times`: attempts below it fail at their first step) or to hold memory
//!   (`memory_mb`, see [`hold_memory`]).
//! - [`HttpExecutor`] calls an OpenAI-compatible `chat/completions` endpoint once per step and
//!   counts the tokens it reports.

use std::future::Future;
use std::time::Duration;

use serde_json::json;

use crate::queue::task::Task;

/// Why a step failed, as it goes into logs, the DLQ reason header and the result file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError(pub String);

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an [`HttpExecutor`] cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpExecutorError {
    /// The URL is not http(s); it holds the URL with its password masked.
    #[error("--llm-url '{0}' is not an http(s) URL; pass e.g. http://llm:8000/v1")]
    NotHttp(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
}

/// Runs the steps of tasks.
pub trait Executor: Send + Sync + 'static {
    /// The `model` label of the token metrics.
    fn model(&self) -> &str;

    /// Runs step `step` (0-based) of `task` in delivery attempt `attempt` (0 for the first
    /// delivery) and returns the tokens it used.
    fn step(
        &self,
        task: &Task,
        step: u32,
        attempt: u32,
    ) -> impl Future<Output = Result<u64, StepError>> + Send;
}

/// Tokens the sim executor reports for step `step`.
pub fn sim_tokens(step: u32) -> u64 {
    100 + 10 * step as u64
}

#[derive(Debug, Clone)]
pub struct SimExecutor {
    model: String,
}

impl SimExecutor {
    pub fn new(model: Option<String>) -> Self {
        Self {
            model: model.unwrap_or_else(|| "sim".to_string()),
        }
    }
}

/// `fail_times` of a task: how many attempts fail before one succeeds.
pub fn fail_times(task: &Task) -> u64 {
    task.extra
        .get("fail_times")
        .and_then(|v| v.as_u64())
        .unwrap_or(0)
}

impl Executor for SimExecutor {
    fn model(&self) -> &str {
        &self.model
    }

    async fn step(&self, task: &Task, step: u32, attempt: u32) -> Result<u64, StepError> {
        if (attempt as u64) < fail_times(task) {
            return Err(StepError(format!(
                "simulated failure (attempt {} of the {} the task asks to fail)",
                attempt + 1,
                fail_times(task)
            )));
        }
        if task.step_ms > 0 {
            tokio::time::sleep(Duration::from_millis(task.step_ms)).await;
        }
        Ok(sim_tokens(step))
    }
}

/// The bytes a task asks to hold (`memory_mb`), capped at 64 GiB so that a typo cannot abort
/// the agent.
pub fn memory_bytes(task: &Task) -> u64 {
    task.extra
        .get("memory_mb")
        .and_then(|v| v.as_u64())
        .unwrap_or(0)
        .min(64 * 1024)
        * 1024
        * 1024
}

/// Memory a task asks to hold (`memory_mb`), allocated and touched so that it is resident, for
/// as long as the returned buffer lives. An agent inside the sim only counts it (see
/// [`memory_bytes`]): thousands of them share the sim's memory.
pub fn hold_memory(task: &Task) -> Vec<u8> {
    let len = usize::try_from(memory_bytes(task)).unwrap_or(usize::MAX);
    let mut buf = Vec::new();
    if buf.try_reserve_exact(len).is_ok() {
        // One write per page makes every page resident.
        buf.resize(len, 0);
        for i in (0..len).step_by(4096) {
            buf[i] = 1;
        }
    }
    buf
}

/// Calls `<base>/chat/completions` once per step.
#[derive(Debug, Clone)]
pub struct HttpExecutor {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
}

impl HttpExecutor {
    /// `base` is the API root (`http://llm:8000/v1`); a URL that already ends in
    /// `/chat/completions` is used as it is.
    pub fn new(
        base: &str,
        model: String,
        api_key: Option<String>,
    ) -> Result<Self, HttpExecutorError> {
        let base = base.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(HttpExecutorError::NotHttp(crate::redact::mask_url(base)));
        }
        let url = if base.ends_with("/chat/completions") {
            base.to_string()
        } else {
            format!("{base}/chat/completions")
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(HttpExecutorError::Client)?;
        Ok(Self {
            client,
            url,
            model,
            api_key,
        })
    }
}

impl Executor for HttpExecutor {
    fn model(&self) -> &str {
        &self.model
    }

    async fn step(&self, task: &Task, step: u32, _attempt: u32) -> Result<u64, StepError> {
        let body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": format!("You are an agent working on a '{}' task.", task.kind)},
                {"role": "user", "content": format!("{} (step {} of {})", task.prompt, step + 1, task.steps)},
            ],
        });
        let mut req = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        let masked = crate::redact::mask_url(&self.url);
        let resp = req.send().await.map_err(|e| {
            StepError(format!(
                "LLM endpoint {masked} unreachable: {}",
                without_url(&e)
            ))
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(StepError(format!(
                "LLM endpoint {masked} answered {status}"
            )));
        }
        let body = read_capped(resp, MAX_LLM_BODY).await.map_err(|e| match e {
            BodyError::TooLarge => StepError(format!(
                "LLM endpoint {masked} sent a response body over the {} MiB limit",
                MAX_LLM_BODY >> 20
            )),
            BodyError::Read(e) => StepError(format!(
                "LLM endpoint {masked} broke off its response: {}",
                without_url(&e)
            )),
        })?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            StepError(format!(
                "LLM endpoint {masked} sent a body that is not JSON: {e}"
            ))
        })?;
        let usage = &v["usage"];
        usage["total_tokens"]
            .as_u64()
            .or_else(|| {
                Some(usage["prompt_tokens"].as_u64()? + usage["completion_tokens"].as_u64()?)
            })
            .ok_or_else(|| StepError(format!("LLM endpoint {masked} reported no token usage")))
    }
}

/// The most of an LLM response body a step reads: a chat completion is a few KiB, and an
/// endpoint that sends more must not grow the agent without bound.
pub const MAX_LLM_BODY: usize = 8 << 20;

enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

/// The body of `resp`, read chunk by chunk, or [`BodyError::TooLarge`] as soon as it passes
/// `max` bytes (at once when the declared length does).
async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), &crate::redact::mask_url(u.as_str()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::task::Template;
    use axum::routing::post;

    fn task(extra: serde_json::Value) -> Task {
        let mut t =
            Template::new("demo", 3, 0).task(uuid::Uuid::nil(), 1, jiff::Timestamp::UNIX_EPOCH);
        if let serde_json::Value::Object(m) = extra {
            t.extra = m;
        }
        t
    }

    #[tokio::test]
    async fn sim_tokens_are_deterministic_and_failures_follow_attempts() {
        let sim = SimExecutor::new(None);
        assert_eq!(sim.model(), "sim");
        let t = task(json!({"fail_times": 2}));
        assert!(sim.step(&t, 0, 0).await.is_err());
        assert!(sim.step(&t, 0, 1).await.is_err());
        assert_eq!(sim.step(&t, 0, 2).await, Ok(100));
        assert_eq!(sim.step(&t, 2, 2).await, Ok(120));
    }

    #[test]
    fn memory_is_held() {
        assert_eq!(
            hold_memory(&task(json!({"memory_mb": 3}))).len(),
            3 * 1024 * 1024
        );
        assert!(hold_memory(&task(json!({}))).is_empty());
    }

    async fn serve(router: axum::Router) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, router).await.unwrap() });
        format!("http://{addr}/v1")
    }

    #[tokio::test]
    async fn http_executor_counts_reported_tokens_and_names_failures() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ok = serve(axum::Router::new().route(
            "/v1/chat/completions",
            post(|axum::Json(v): axum::Json<serde_json::Value>| async move {
                assert_eq!(v["model"], "m1");
                axum::Json(json!({"usage": {"prompt_tokens": 7, "completion_tokens": 35}}))
            }),
        ))
        .await;
        let ex = HttpExecutor::new(&ok, "m1".into(), Some("k".into())).unwrap();
        assert_eq!(ex.step(&task(json!({})), 0, 0).await, Ok(42));

        let bad = serve(axum::Router::new().route(
            "/v1/chat/completions",
            post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        ))
        .await;
        let ex = HttpExecutor::new(&bad, "m1".into(), None).unwrap();
        let err = ex.step(&task(json!({})), 0, 0).await.unwrap_err();
        assert!(err.0.contains("500"), "{err}");

        let down = HttpExecutor::new("http://u:secretpw@127.0.0.1:1/v1", "m".into(), None).unwrap();
        let err = down.step(&task(json!({})), 0, 0).await.unwrap_err();
        assert!(
            err.0.contains("unreachable") && !err.0.contains("secretpw"),
            "{err}"
        );
        assert!(matches!(
            HttpExecutor::new("llm:8000", "m".into(), None),
            Err(HttpExecutorError::NotHttp(_))
        ));
    }

    #[tokio::test]
    async fn an_llm_body_over_the_limit_fails_the_step_naming_the_limit() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Declared length over the limit, and a chunked body with no length that passes it.
        let sized = serve(axum::Router::new().route(
            "/v1/chat/completions",
            post(|| async { vec![b' '; MAX_LLM_BODY + 1] }),
        ))
        .await;
        let chunked = serve(axum::Router::new().route(
            "/v1/chat/completions",
            post(|| async {
                let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1 << 20]));
                axum::body::Body::from_stream(futures::stream::iter(chunks))
            }),
        ))
        .await;
        for url in [sized, chunked] {
            let ex = HttpExecutor::new(&url, "m".into(), None).unwrap();
            let err = ex.step(&task(json!({})), 0, 0).await.unwrap_err();
            assert!(err.0.contains("over the 8 MiB limit"), "{err}");
        }
        // A body just under the limit is still read.
        let padded = serve(axum::Router::new().route(
            "/v1/chat/completions",
            post(|| async {
                let mut b = br#"{"usage":{"total_tokens":5}}"#.to_vec();
                b.resize(MAX_LLM_BODY, b' ');
                b
            }),
        ))
        .await;
        let ex = HttpExecutor::new(&padded, "m".into(), None).unwrap();
        assert_eq!(ex.step(&task(json!({})), 0, 0).await, Ok(5));
    }
}
