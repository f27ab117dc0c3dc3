//! HTTPS serving: accept TLS connections on loopback, check the bearer token, dispatch each
//! request to the endpoint or resource handler, and answer errors as Status objects.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use futures::FutureExt;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, error, warn};

use super::conns::{Conn, ConnLimits, HeadWatch, Refused, Tracker};
use super::request::{
    ApiState, Endpoint, MAX_BODY, Query, Req, Resp, Route, error_response, json_response, route,
};
use super::status::ApiError;
use super::{discovery, handlers, openapi, rbac};
use crate::agent::accept;

/// How long a connection told to close may finish the request it is answering.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves HTTPS on `listener` until `shutdown` turns true, within `limits` (see [`conns`]).
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<ApiState>,
    limits: ConnLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let tracker = Tracker::new(limits);
    let sweeper = tracker.clone();
    let mut stop_sweep = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let closed = sweeper.sweep(std::time::Instant::now());
                    if closed > 0 {
                        debug!(closed, "connections_timed_out");
                    }
                }
                _ = stop_sweep.wait_for(|s| *s) => return,
            }
        }
    });
    // Out of descriptors (EMFILE) the pending connection stays in the backlog and every accept
    // fails at once: the loop waits, 10 ms doubling to 1 s, and says so once per 10 s.
    let warned = accept::RateLimit::new();
    let mut wait = accept::BACKOFF_MIN;
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => {
                wait = accept::BACKOFF_MIN;
                x
            }
            Err(e) => {
                if let Some(failures) = warned.count_failure(std::time::Instant::now()) {
                    warn!(error = %e, failures, every_secs = accept::WARN_EVERY.as_secs(), "accept_failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
                wait = accept::next_backoff(wait);
                continue;
            }
        };
        let conn = match tracker.admit(std::time::Instant::now()) {
            Ok(c) => c,
            Err(Refused(due)) => {
                if let Some(refused) = due {
                    warn!(
                        refused,
                        max_connections = limits.max,
                        every_secs = accept::WARN_EVERY.as_secs(),
                        "connections_refused"
                    );
                }
                drop(tcp);
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        let stop = shutdown.clone();
        tokio::spawn(serve_connection(
            acceptor, tcp, peer, state, conn, limits, stop,
        ));
    }
}

/// One connection: the TLS handshake within the head timeout, then HTTP/1.1 or HTTP/2 until
/// the client leaves, the tracker closes it (a late request head, idle, or shed), or the
/// server stops.
async fn serve_connection(
    acceptor: TlsAcceptor,
    tcp: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    state: Arc<ApiState>,
    conn: Conn,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
) {
    let cs = conn.state.clone();
    let stream = tokio::select! {
        r = tokio::time::timeout(limits.head_timeout, acceptor.accept(tcp)) => match r {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                debug!(peer = %peer, error = %e, "tls_handshake_failed");
                return;
            }
            Err(_) => {
                debug!(peer = %peer, "tls_handshake_timed_out");
                return;
            }
        },
        _ = cs.closed() => return,
        _ = stop.wait_for(|s| *s) => return,
    };
    // HTTP/2 frames arrive between requests (pings, settings): only HTTP/1.1 heads are timed.
    let h1 = stream.get_ref().1.alpn_protocol() != Some(b"h2");
    let stream = HeadWatch::new(stream, h1.then(|| cs.clone()));
    let in_flight = cs.clone();
    let service = hyper::service::service_fn(move |req| {
        let state = state.clone();
        let guard = in_flight.begin();
        async move {
            let resp = handle_guarded(state, req).await;
            // The connection is busy until the body is sent to the end (a watch, until it
            // ends) or dropped.
            let (parts, body) = resp.into_parts();
            let body = Body::new(body.map_frame(move |f| {
                let _busy = &guard;
                f
            }));
            Ok::<_, Infallible>(Response::from_parts(parts, body))
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // A later request head has as long as a connection may stay idle.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout);
    let http = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(http);
    // A stopping server drops its connections, watches included.
    tokio::select! {
        _ = http.as_mut() => return,
        _ = stop.wait_for(|s| *s) => return,
        _ = cs.closed() => {}
    }
    // Timed out or shed while idle: a request that slipped in meanwhile is answered first.
    http.as_mut().graceful_shutdown();
    tokio::select! {
        _ = tokio::time::timeout(CLOSE_GRACE, http) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
    drop(conn);
}

/// [`handle`], with a panic answered as a 500 for this request alone: no request ends the
/// server.
async fn handle_guarded(state: Arc<ApiState>, req: Request<Incoming>) -> Resp {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    guarded(&method, &path, handle(state, req)).await
}

/// The response `fut` makes, or a 500 InternalError Status if it panics.
async fn guarded(method: &Method, path: &str, fut: impl Future<Output = Resp>) -> Resp {
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(resp) => resp,
        Err(p) => {
            let why = crate::sim::controllers::panic_message(&*p);
            error!(method = %method, path = %path, panic = %why, "request_panicked");
            error_response(&ApiError::new(
                500,
                "InternalError",
                format!("Internal error occurred: the server failed on this request ({why})"),
                None,
            ))
        }
    }
}

async fn handle(state: Arc<ApiState>, req: Request<Incoming>) -> Resp {
    let token = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    // An empty token never matches: the sim refuses to start with one.
    let identity =
        if !token.is_empty() && rbac::same_secret(token.as_bytes(), state.token.as_bytes()) {
            Some(rbac::Identity::Admin)
        } else if state.enforce_rbac && !token.is_empty() {
            rbac::identify(&state.store, &state.token, &token)
        } else {
            None
        };
    let Some(identity) = identity else {
        return error_response(&ApiError::unauthorized());
    };
    let header = |name: hyper::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let accept = header(hyper::header::ACCEPT);
    let content_type = header(CONTENT_TYPE);
    let user_agent = header(hyper::header::USER_AGENT);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    let query = Query::parse(req.uri().query());
    let body = match axum::body::to_bytes(Body::new(req.into_body()), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return error_response(&ApiError::too_large(MAX_BODY)),
    };
    let r = Req {
        who: identity.clone(),
        method,
        path,
        raw_query,
        query,
        accept,
        content_type,
        user_agent,
        body,
    };
    match dispatch(&state, &identity, r).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

async fn dispatch(state: &Arc<ApiState>, who: &rbac::Identity, r: Req) -> Result<Resp, ApiError> {
    let reg = state.store.registry();
    if r.path.trim_end_matches('/') == rbac::SSAR_PATH {
        if r.method != Method::POST {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                None,
            ));
        }
        let review =
            rbac::self_subject_access_review(&state.store, &reg, who, state.enforce_rbac, &r.body)?;
        return Ok(json_response(201, &review));
    }
    let routed = route(&r.path, &reg)?;
    if state.enforce_rbac {
        rbac::authorize(
            &state.store,
            &reg,
            who,
            &routed,
            &r.method,
            r.query.flag("watch"),
        )?;
    }
    match routed {
        Route::Endpoint(ep) => {
            if r.method != Method::GET {
                return Err(ApiError::new(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    None,
                ));
            }
            endpoint(&reg, ep, &r)
        }
        Route::Resource(t) => handlers::resource(state, *t, r).await,
    }
}

fn endpoint(reg: &super::registry::Registry, ep: Endpoint, r: &Req) -> Result<Resp, ApiError> {
    let aggregated = discovery::wants_aggregated(&r.accept);
    let with_type = |v: Value, ct: &'static str| {
        let mut resp = json_response(200, &v);
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        resp
    };
    Ok(match ep {
        Endpoint::Version => json_response(200, &discovery::version()),
        Endpoint::Health => {
            let mut resp = Response::new(Body::from("ok"));
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            resp
        }
        Endpoint::ApiVersions if aggregated => {
            with_type(discovery::aggregated(reg, true), discovery::AGGREGATED_V2)
        }
        Endpoint::ApiGroups if aggregated => {
            with_type(discovery::aggregated(reg, false), discovery::AGGREGATED_V2)
        }
        Endpoint::ApiVersions => json_response(200, &discovery::api_versions()),
        Endpoint::ApiGroups => json_response(200, &discovery::api_group_list(reg)),
        Endpoint::ResourceList { group, version } => json_response(
            200,
            &discovery::api_resource_list(reg, &group, &version)
                .ok_or_else(|| ApiError::page_not_found(&r.path))?,
        ),
        Endpoint::OpenApiRoot => json_response(200, &openapi::v3_root(reg)),
        Endpoint::OpenApiGroupVersion { group, version } => json_response(
            200,
            &openapi::v3_group_version(reg, &group, &version)
                .ok_or_else(|| ApiError::page_not_found(&r.path))?,
        ),
        Endpoint::OpenApiV2 => return Err(ApiError::page_not_found(&r.path)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_request_is_answered_500_and_the_server_goes_on() {
        let resp = guarded(&Method::GET, "/api/v1/pods", async {
            if std::hint::black_box(true) {
                panic!("boom");
            }
            json_response(200, &serde_json::json!({}))
        })
        .await;
        assert_eq!(resp.status().as_u16(), 500);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["reason"], "InternalError");
        assert!(v["message"].as_str().unwrap().contains("boom"), "{v}");
        let ok = guarded(&Method::GET, "/version", async {
            json_response(200, &serde_json::json!({}))
        })
        .await;
        assert_eq!(ok.status().as_u16(), 200);
    }
}
