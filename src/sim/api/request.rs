//! What a request asks for: the path resolved against the registry, and the query parameters
//! kubectl and kube-rs send (empty pairs such as kube-rs' `?&watch=true` tolerated).

use std::collections::HashMap;

use super::registry::{Registry, ResourceType};
use super::status::ApiError;

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
