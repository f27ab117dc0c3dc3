//! The request plumbing every handler shares: the server state ([`ApiState`]), a request as the
//! handlers see it ([`Req`]) and the response type, what a request asks for (the path resolved
//! against the registry, and the query parameters kubectl and kube-rs send, empty pairs such as
//! kube-rs' `?&watch=true` tolerated), and the body and selectors it carries.

use std::collections::HashMap;

use std::sync::Arc;

use axum::body::Body;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Response, StatusCode};
use serde_json::Value;

use super::registry::{Registry, ResourceType};
use super::selector::FieldSelector;
use super::status::ApiError;
use super::store::Store;
use crate::fleet::selector::Selector;

/// The largest request body accepted (kube-apiserver's limit is 3 MiB for most writes).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// What every request handler shares.
pub struct ApiState {
    pub store: Arc<Store>,
    pub token: String,
    /// Check Roles for ServiceAccount tokens (`--enforce-rbac`).
    pub enforce_rbac: bool,
    /// For pods/proxy.
    pub http: reqwest::Client,
    /// Where the kubelet writes container logs (`pods/log`); None when no kubelet runs.
    pub logs: Option<std::path::PathBuf>,
    /// The kubelet's usage samples, served as `metrics.k8s.io`; None without metrics-server.
    pub metrics: Option<Arc<super::metrics_api::MetricsTable>>,
    /// Which pod IPs pods/proxy may reach.
    pub proxy_to: ProxyTargets,
    /// Pods may have `hostPath` volumes (`--allow-host-path`).
    pub allow_host_path: bool,
}

/// Which addresses pods/proxy forwards to. A pod's `status` is written by the kubelet, but a
/// client with the right to update `pods/status` can write any `podIP`: the proxy never goes
/// further than the sim's own pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyTargets {
    /// Only the addresses this process's kubelet handed out (and still holds).
    KubeletAssigned,
    /// A sim without a kubelet (`--api-only`: its clients play the kubelet): loopback
    /// addresses only.
    Loopback,
}

/// A request as the handlers see it.
pub struct Req {
    /// Who sent it.
    pub who: super::rbac::Identity,
    pub method: Method,
    pub path: String,
    /// The query string as sent (pods/proxy forwards it), without the `?`.
    pub raw_query: String,
    pub query: Query,
    pub accept: String,
    pub content_type: String,
    pub user_agent: String,
    pub body: bytes::Bytes,
}

pub type Resp = Response<Body>;

pub fn json_response<T: serde::Serialize + ?Sized>(code: u16, v: &T) -> Resp {
    let mut r = Response::new(Body::from(serde_json::to_vec(v).expect("JSON serialises")));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub fn error_response(e: &ApiError) -> Resp {
    let mut r = json_response(e.code, &e.body);
    if e.code == 429
        && let Some(s) = e.body["details"]["retryAfterSeconds"].as_u64()
    {
        r.headers_mut().insert("Retry-After", HeaderValue::from(s));
    }
    r
}

/// The request body as JSON; YAML is accepted where the content type says so.
pub fn body_value(r: &Req) -> Result<Value, ApiError> {
    if super::proto::is_protobuf(&r.content_type) {
        let v = super::proto::decode(&r.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding protobuf body: {e}")))?;
        super::bounds::check(&v)?;
        return Ok(v);
    }
    if r.content_type.contains("cbor") {
        return Err(ApiError::unsupported_media_type(&r.content_type));
    }
    if r.body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; send the object as JSON",
        ));
    }
    let ct = r.content_type.split(';').next().unwrap_or_default().trim();
    let v: Value = if ct.ends_with("yaml") {
        let text = std::str::from_utf8(&r.body)
            .map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
        serde_saphyr::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(&r.body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?
    };
    super::bounds::check(&v)?;
    Ok(v)
}

/// The label and field selectors of a list or watch.
pub fn selectors(r: &Req) -> Result<(Selector, FieldSelector), ApiError> {
    let labels = Selector::parse(r.query.get("labelSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(r.query.get("fieldSelector").unwrap_or_default())
        .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

/// A path that is not a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Version,
    Health,
    ApiVersions,
    ApiGroups,
    ResourceList { group: String, version: String },
    OpenApiRoot,
    OpenApiGroupVersion { group: String, version: String },
    OpenApiV2,
}

/// A resource path: type, namespace, name, subresource and the rest (for proxy).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub rt: ResourceType,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    pub rest: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Endpoint(Endpoint),
    Resource(Box<Target>),
}

pub fn route(path: &str, reg: &Registry) -> Result<Route, ApiError> {
    let trimmed = path.trim_end_matches('/');
    let segs: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    let not_found = || ApiError::page_not_found(path);
    let e = |x: Endpoint| Ok(Route::Endpoint(x));
    match segs.as_slice() {
        ["version"] => return e(Endpoint::Version),
        ["healthz"] | ["readyz"] | ["livez"] => return e(Endpoint::Health),
        ["healthz" | "readyz" | "livez", ..] => return e(Endpoint::Health),
        ["api"] => return e(Endpoint::ApiVersions),
        ["apis"] => return e(Endpoint::ApiGroups),
        ["api", "v1"] => {
            return e(Endpoint::ResourceList {
                group: String::new(),
                version: "v1".into(),
            });
        }
        ["apis", g, v] => {
            return e(Endpoint::ResourceList {
                group: g.to_string(),
                version: v.to_string(),
            });
        }
        ["openapi", "v3"] => return e(Endpoint::OpenApiRoot),
        ["openapi", "v3", "api", "v1"] => {
            return e(Endpoint::OpenApiGroupVersion {
                group: String::new(),
                version: "v1".into(),
            });
        }
        ["openapi", "v3", "apis", g, v] => {
            return e(Endpoint::OpenApiGroupVersion {
                group: g.to_string(),
                version: v.to_string(),
            });
        }
        ["openapi", "v2"] | ["swagger.json"] => return e(Endpoint::OpenApiV2),
        _ => {}
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found()),
    };
    let find = |plural: &str| reg.find(group, version, plural).cloned();
    // namespaces/{ns}/{plural}/... addresses a namespaced resource; namespaces/{name}[/status]
    // addresses the namespace itself.
    let (namespace, rest): (Option<String>, &[&str]) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if !(group.is_empty() && matches!(*plural, "status" | "finalize"))
                && find(plural).is_some_and(|t| t.namespaced) =>
        {
            (Some(ns.to_string()), &rest[2..])
        }
        _ => (None, rest),
    };
    let (plural, name, sub, tail): (&str, Option<&str>, Option<&str>, &[&str]) = match rest {
        [p] => (p, None, None, &[]),
        [p, n] => (p, Some(n), None, &[]),
        [p, n, s, tail @ ..] => (p, Some(n), Some(s), tail),
        _ => return Err(not_found()),
    };
    let rt = find(plural).ok_or_else(not_found)?;
    let served = match sub {
        None => true,
        Some("status") => rt.subresources.status,
        Some("scale") => rt.subresources.scale,
        Some("eviction") => rt.subresources.eviction,
        Some("proxy") => rt.subresources.proxy,
        Some("binding") => rt.subresources.binding,
        Some("log") => rt.subresources.log,
        Some("finalize") => rt.plural == "namespaces",
        Some(_) => false,
    };
    if !served {
        return Err(not_found());
    }
    if rt.namespaced && namespace.is_none() && name.is_some() {
        // A namespaced object must be addressed inside its namespace.
        return Err(not_found());
    }
    Ok(Route::Resource(Box::new(Target {
        rt,
        namespace,
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
        rest: tail.join("/"),
    })))
}

/// Query parameters, last one wins.
#[derive(Debug, Clone, Default)]
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(q: Option<&str>) -> Self {
        let mut m = HashMap::new();
        if let Some(q) = q {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                if !k.is_empty() {
                    m.insert(k.into_owned(), v.into_owned());
                }
            }
        }
        Self(m)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }

    pub fn dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }

    pub fn u64(&self, k: &str) -> Option<u64> {
        self.get(k).and_then(|v| v.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(path: &str) -> Route {
        route(path, &Registry::new(true)).unwrap()
    }

    fn target(path: &str) -> Target {
        match r(path) {
            Route::Resource(t) => *t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn resource_paths() {
        let t = target("/api/v1/namespaces/agents/pods/p1/proxy/metrics");
        assert_eq!(t.rt.plural, "pods");
        assert_eq!(t.namespace.as_deref(), Some("agents"));
        assert_eq!(t.name.as_deref(), Some("p1"));
        assert_eq!(t.subresource.as_deref(), Some("proxy"));
        assert_eq!(t.rest, "metrics");
        let t = target("/api/v1/namespaces/agents");
        assert_eq!(t.rt.plural, "namespaces");
        assert_eq!(t.name.as_deref(), Some("agents"));
        let t = target("/api/v1/namespaces/agents/status");
        assert_eq!(
            (t.rt.plural.as_str(), t.subresource.as_deref()),
            ("namespaces", Some("status"))
        );
        let t = target("/api/v1/pods");
        assert_eq!(t.namespace, None);
        let t = target("/apis/batch/v1/namespaces/agents/jobs/j/status");
        assert_eq!(t.subresource.as_deref(), Some("status"));
        let t = target("/apis/keda.sh/v1alpha1/namespaces/agents/scaledjobs");
        assert_eq!(t.rt.kind, "ScaledJob");
        assert_eq!(
            r("/apis/batch/v1"),
            Route::Endpoint(Endpoint::ResourceList {
                group: "batch".into(),
                version: "v1".into()
            })
        );
        assert!(route("/api/v1/namespaces/agents/widgets", &Registry::new(true)).is_err());
        assert!(route("/api/v1/pods/p1", &Registry::new(true)).is_err());
    }

    #[test]
    fn tolerant_query() {
        let q = Query::parse(Some(
            "&watch=true&&resourceVersion=5&labelSelector=app%3Dai-agent",
        ));
        assert!(q.flag("watch"));
        assert_eq!(q.u64("resourceVersion"), Some(5));
        assert_eq!(q.get("labelSelector"), Some("app=ai-agent"));
        assert!(!Query::parse(None).flag("watch"));
    }
}
