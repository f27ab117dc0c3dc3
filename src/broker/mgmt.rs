//! The read-only subset of RabbitMQ's management HTTP API that fleetctl reads, with the same
//! JSON fields: `GET /api/overview`, `/api/queues`, `/api/queues/{vhost}/{name}`, behind basic
//! auth with the broker's user. Rates are sampled every 5 seconds, as RabbitMQ does by default.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amq_protocol::types::{AMQPValue, FieldTable};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::Shared;
use super::core::{QueueInfo, Totals};

const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Counters at one sample, and the rates since the one before.
#[derive(Debug, Default, Clone)]
struct Rates {
    at: Option<Instant>,
    counts: HashMap<String, (u64, u64)>,
    totals: Totals,
    queue_rates: HashMap<String, (f64, f64)>,
    total_rates: (f64, f64),
}

#[derive(Clone)]
struct Api {
    shared: Arc<Shared>,
    rates: Arc<Mutex<Rates>>,
}

fn rate(now: u64, before: u64, secs: f64) -> f64 {
    if secs <= 0.0 {
        0.0
    } else {
        ((now.saturating_sub(before)) as f64 / secs * 10.0).round() / 10.0
    }
}

impl Rates {
    fn sample(&mut self, queues: &[QueueInfo], totals: Totals, now: Instant) {
        let secs = self.at.map(|t| (now - t).as_secs_f64()).unwrap_or(0.0);
        let mut counts = HashMap::new();
        let mut queue_rates = HashMap::new();
        for q in queues {
            let (p0, d0) = self
                .counts
                .get(&q.name)
                .copied()
                .unwrap_or((q.published, q.delivered));
            queue_rates.insert(
                q.name.clone(),
                (rate(q.published, p0, secs), rate(q.delivered, d0, secs)),
            );
            counts.insert(q.name.clone(), (q.published, q.delivered));
        }
        self.total_rates = (
            rate(totals.published, self.totals.published, secs),
            rate(totals.delivered, self.totals.delivered, secs),
        );
        self.at = Some(now);
        self.counts = counts;
        self.queue_rates = queue_rates;
        self.totals = totals;
    }
}

pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let api = Api {
        shared,
        rates: Arc::new(Mutex::new(Rates::default())),
    };
    let sampler = {
        let api = api.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let (queues, totals) = api.shared.read(|c| (c.queue_infos(), c.totals()));
                        if let Ok(mut r) = api.rates.lock() {
                            r.sample(&queues, totals, Instant::now());
                        }
                    }
                    _ = stop.changed() => return,
                }
            }
        })
    };
    let app = Router::new()
        .route("/api/overview", get(overview))
        .route("/api/queues", get(queues))
        .route("/api/queues/{vhost}", get(queues_in_vhost))
        .route("/api/queues/{vhost}/{name}", get(one_queue))
        .fallback(not_found)
        .with_state(api);
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        })
        .await;
    sampler.abort();
}

fn authorised(api: &Api, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:{}", api.shared.user, api.shared.password);
    decoded == expected.as_bytes()
}

fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            "Basic realm=\"RabbitMQ Management\"",
        )],
        axum::Json(json!({"error": "not_authorized", "reason": "Login failed"})),
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "Object Not Found", "reason": "Not Found"})),
    )
        .into_response()
}

fn value_json(v: &AMQPValue) -> Value {
    match v {
        AMQPValue::Boolean(b) => json!(b),
        AMQPValue::ShortShortInt(n) => json!(n),
        AMQPValue::ShortShortUInt(n) => json!(n),
        AMQPValue::ShortInt(n) => json!(n),
        AMQPValue::ShortUInt(n) => json!(n),
        AMQPValue::LongInt(n) => json!(n),
        AMQPValue::LongUInt(n) => json!(n),
        AMQPValue::LongLongInt(n) => json!(n),
        AMQPValue::Float(f) => json!(f),
        AMQPValue::Double(f) => json!(f),
        AMQPValue::Timestamp(t) => json!(t),
        AMQPValue::ShortString(s) => json!(s.as_str()),
        AMQPValue::LongString(s) => json!(String::from_utf8_lossy(s.as_bytes())),
        AMQPValue::FieldTable(t) => table_json(t),
        AMQPValue::FieldArray(a) => Value::Array(a.as_slice().iter().map(value_json).collect()),
        other => json!(format!("{other:?}")),
    }
}

fn table_json(t: &FieldTable) -> Value {
    Value::Object(
        t.inner()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), value_json(v)))
            .collect(),
    )
}

fn stats(published: u64, delivered: u64, rates: (f64, f64)) -> Value {
    json!({
        "publish": published,
        "publish_details": {"rate": rates.0},
        "deliver_get": delivered,
        "deliver_get_details": {"rate": rates.1},
    })
}

fn queue_json(q: &QueueInfo, rates: &Rates) -> Value {
    let r = rates
        .queue_rates
        .get(&q.name)
        .copied()
        .unwrap_or((0.0, 0.0));
    json!({
        "name": q.name,
        "vhost": "/",
        "durable": q.durable,
        "auto_delete": q.auto_delete,
        "exclusive": q.exclusive,
        "arguments": table_json(&q.arguments),
        "type": "classic",
        "state": "running",
        "node": "fleetctl@localhost",
        "messages": q.ready + q.unacked,
        "messages_ready": q.ready,
        "messages_unacknowledged": q.unacked,
        "consumers": q.consumers,
        "message_stats": stats(q.published, q.delivered, r),
    })
}

async fn overview(State(api): State<Api>, headers: HeaderMap) -> Response {
    if !authorised(&api, &headers) {
        return refused();
    }
    let (queues, totals, exchanges, channels) = api.shared.read(|c| {
        (
            c.queue_infos(),
            c.totals(),
            c.exchange_count(),
            c.channel_count(),
        )
    });
    let connections = api.shared.connection_count();
    let rates = api.rates.lock().map(|r| r.total_rates).unwrap_or_default();
    let ready: u64 = queues.iter().map(|q| q.ready).sum();
    let unacked: u64 = queues.iter().map(|q| q.unacked).sum();
    let consumers: u64 = queues.iter().map(|q| q.consumers).sum();
    axum::Json(json!({
        "management_version": env!("CARGO_PKG_VERSION"),
        "product_name": "fleetctl broker",
        "product_version": env!("CARGO_PKG_VERSION"),
        "node": "fleetctl@localhost",
        "object_totals": {
            "connections": connections,
            "channels": channels,
            "exchanges": exchanges,
            "queues": queues.len(),
            "consumers": consumers,
        },
        "queue_totals": {
            "messages": ready + unacked,
            "messages_ready": ready,
            "messages_unacknowledged": unacked,
        },
        "message_stats": stats(totals.published, totals.delivered, rates),
    }))
    .into_response()
}

async fn queues(State(api): State<Api>, headers: HeaderMap) -> Response {
    list(&api, &headers, None)
}

async fn queues_in_vhost(
    State(api): State<Api>,
    Path(vhost): Path<String>,
    headers: HeaderMap,
) -> Response {
    list(&api, &headers, Some(vhost))
}

fn list(api: &Api, headers: &HeaderMap, vhost: Option<String>) -> Response {
    if !authorised(api, headers) {
        return refused();
    }
    if vhost.is_some_and(|v| v != "/") {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "Object Not Found", "reason": "Not Found"})),
        )
            .into_response();
    }
    let queues = api.shared.read(|c| c.queue_infos());
    let rates = api.rates.lock().map(|r| r.clone()).unwrap_or_default();
    let body: Vec<Value> = queues.iter().map(|q| queue_json(q, &rates)).collect();
    axum::Json(Value::Array(body)).into_response()
}

async fn one_queue(
    State(api): State<Api>,
    Path((vhost, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&api, &headers) {
        return refused();
    }
    let q = if vhost == "/" {
        api.shared.read(|c| c.queue_info(&name))
    } else {
        None
    };
    match q {
        Some(q) => {
            let rates = api.rates.lock().map(|r| r.clone()).unwrap_or_default();
            axum::Json(queue_json(&q, &rates)).into_response()
        }
        None => not_found().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_between_samples() {
        let t0 = Instant::now();
        let q = |p, d| QueueInfo {
            name: "q".into(),
            durable: true,
            auto_delete: false,
            exclusive: false,
            arguments: FieldTable::default(),
            ready: 0,
            unacked: 0,
            consumers: 0,
            published: p,
            delivered: d,
        };
        let mut r = Rates::default();
        r.sample(&[q(10, 0)], Totals::default(), t0);
        assert_eq!(r.queue_rates["q"], (0.0, 0.0));
        r.sample(&[q(60, 25)], Totals::default(), t0 + Duration::from_secs(5));
        assert_eq!(r.queue_rates["q"], (10.0, 5.0));
    }
}
