//! API discovery: `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}` (legacy and aggregated
//! forms) and `/version`, built from the [`Registry`].
//!
//! kubectl asks `/api` and `/apis` for the aggregated `APIGroupDiscoveryList` (apidiscovery.k8s.io
//! v2) first; when both answer in that form it needs nothing else. kube-rs only uses the legacy
//! `APIVersions` / `APIGroupList` / `APIResourceList` documents.

use serde_json::{Map, Value, json};

use super::registry::{Registry, ResourceType};

/// The content type of an aggregated discovery answer.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Parameters of one media range of an Accept header, lower-cased keys, plus its q value.
fn media_ranges(accept: &str) -> Vec<(String, Vec<(String, String)>)> {
    accept
        .split(',')
        .map(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let params = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((
                        k.trim().to_ascii_lowercase(),
                        v.trim().trim_matches('"').to_string(),
                    ))
                })
                .collect();
            (media, params)
        })
        .collect()
}

/// Whether a media range is acceptable at all (q > 0).
fn acceptable(params: &[(String, String)]) -> bool {
    params
        .iter()
        .find(|(k, _)| k == "q")
        .and_then(|(_, v)| v.parse::<f32>().ok())
        .is_none_or(|q| q > 0.0)
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// True when the Accept header asks for the aggregated discovery document, version v2
/// (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`). A request that
/// only accepts v2beta1 gets the legacy document, which clients handle.
pub fn wants_aggregated(accept: &str) -> bool {
    media_ranges(accept).iter().any(|(media, params)| {
        (media == "application/json" || media == "*/*" || media == "application/*")
            && acceptable(params)
            && param(params, "g") == Some("apidiscovery.k8s.io")
            && param(params, "v") == Some("v2")
            && param(params, "as") == Some("APIGroupDiscoveryList")
    })
}

/// `GET /api`: the legacy core versions.
pub fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]
    })
}

fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// `GET /apis`: every non-core group; the preferred version is the first one served.
pub fn api_group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> = group_order(reg)
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(group, versions)| {
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": group_version(&group, v), "version": v}))
                .collect();
            json!({
                "name": group,
                "versions": vs,
                "preferredVersion": vs[0].clone(),
            })
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Groups with their versions, in the order the registry first lists them (what the real
/// server's priority order approximates; kubectl keeps it).
fn group_order(reg: &Registry) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for t in reg.all() {
        match out.iter_mut().find(|(g, _)| *g == t.group) {
            Some((_, vs)) => {
                if !vs.contains(&t.version) {
                    vs.push(t.version.clone());
                }
            }
            None => out.push((t.group.clone(), vec![t.version.clone()])),
        }
    }
    out
}

/// One subresource of a type as discovery describes it.
struct Sub {
    name: &'static str,
    group: String,
    version: String,
    kind: String,
    verbs: Vec<&'static str>,
}

fn subresources(t: &ResourceType) -> Vec<Sub> {
    let mut out = Vec::new();
    let s = t.subresources;
    let rw = || vec!["get", "patch", "update"];
    if s.binding {
        out.push(Sub {
            name: "binding",
            group: t.group.clone(),
            version: t.version.clone(),
            kind: "Binding".into(),
            verbs: vec!["create"],
        });
    }
    if s.eviction {
        out.push(Sub {
            name: "eviction",
            group: "policy".into(),
            version: "v1".into(),
            kind: "Eviction".into(),
            verbs: vec!["create"],
        });
    }
    if s.log {
        out.push(Sub {
            name: "log",
            group: t.group.clone(),
            version: t.version.clone(),
            kind: t.kind.clone(),
            verbs: vec!["get"],
        });
    }
    if s.proxy {
        out.push(Sub {
            name: "proxy",
            group: t.group.clone(),
            version: t.version.clone(),
            kind: format!("{}ProxyOptions", t.kind),
            verbs: vec!["create", "delete", "get", "patch", "update"],
        });
    }
    if s.scale {
        out.push(Sub {
            name: "scale",
            group: "autoscaling".into(),
            version: "v1".into(),
            kind: "Scale".into(),
            verbs: rw(),
        });
    }
    if s.status {
        out.push(Sub {
            name: "status",
            group: t.group.clone(),
            version: t.version.clone(),
            kind: t.kind.clone(),
            verbs: if t.read_only { vec!["get"] } else { rw() },
        });
    }
    out
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

/// `GET /api/v1` or `/apis/{group}/{version}`: the legacy resource list, None for an unknown
/// group/version.
pub fn api_resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let types = reg.types_in(group, version);
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in types {
        let mut r = Map::new();
        r.insert("name".into(), json!(t.plural));
        r.insert("singularName".into(), json!(t.singular));
        r.insert("namespaced".into(), json!(t.namespaced));
        r.insert("kind".into(), json!(t.kind));
        r.insert("verbs".into(), json!(t.verbs()));
        if !t.short_names.is_empty() {
            r.insert("shortNames".into(), strings(&t.short_names));
        }
        if !t.categories.is_empty() {
            r.insert("categories".into(), strings(&t.categories));
        }
        resources.push(Value::Object(r));
        for s in subresources(t) {
            let mut r = Map::new();
            r.insert("name".into(), json!(format!("{}/{}", t.plural, s.name)));
            r.insert("singularName".into(), json!(""));
            r.insert("namespaced".into(), json!(t.namespaced));
            if s.group != t.group || s.version != t.version {
                r.insert("group".into(), json!(s.group));
                r.insert("version".into(), json!(s.version));
            }
            r.insert("kind".into(), json!(s.kind));
            r.insert("verbs".into(), json!(s.verbs));
            resources.push(Value::Object(r));
        }
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version(group, version),
        "resources": resources,
    }))
}

fn aggregated_resource(t: &ResourceType) -> Value {
    let mut r = Map::new();
    r.insert("resource".into(), json!(t.plural));
    r.insert(
        "responseKind".into(),
        json!({"group": t.group, "version": t.version, "kind": t.kind}),
    );
    r.insert(
        "scope".into(),
        json!(if t.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        }),
    );
    r.insert("singularResource".into(), json!(t.singular));
    r.insert("verbs".into(), json!(t.verbs()));
    if !t.short_names.is_empty() {
        r.insert("shortNames".into(), strings(&t.short_names));
    }
    if !t.categories.is_empty() {
        r.insert("categories".into(), strings(&t.categories));
    }
    let subs: Vec<Value> = subresources(t)
        .into_iter()
        .map(|s| {
            json!({
                "subresource": s.name,
                "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                "verbs": s.verbs,
            })
        })
        .collect();
    if !subs.is_empty() {
        r.insert("subresources".into(), Value::Array(subs));
    }
    Value::Object(r)
}

/// The aggregated `APIGroupDiscoveryList` (apidiscovery.k8s.io/v2): for `/api` when `core`
/// (one item, the unnamed core group), otherwise for `/apis` (every other group).
pub fn aggregated(reg: &Registry, core: bool) -> Value {
    let items: Vec<Value> = group_order(reg)
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(group, versions)| {
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = reg
                        .all()
                        .iter()
                        .filter(|t| t.group == group && &t.version == v)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({
                "metadata": {"name": group, "creationTimestamp": null},
                "versions": vs,
            })
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

/// `GET /version`.
pub fn version() -> Value {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-fleetctl-sim",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23",
        "compiler": "gc",
        "platform": format!("{}/{}", std::env::consts::OS, arch),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::api::registry::types_of_crd;

    const KUBECTL_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

    #[test]
    fn accept_negotiation() {
        assert!(wants_aggregated(KUBECTL_ACCEPT));
        assert!(wants_aggregated(AGGREGATED_V2));
        assert!(wants_aggregated(
            "application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList"
        ));
        assert!(!wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json"));
        assert!(!wants_aggregated(""));
        assert!(!wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0"
        ));
    }

    #[test]
    fn legacy_documents() {
        let reg = Registry::new(true);
        let v = api_versions();
        assert_eq!(v["kind"], "APIVersions");
        assert_eq!(v["versions"], json!(["v1"]));

        let groups = api_group_list(&reg);
        assert_eq!(groups["kind"], "APIGroupList");
        let names: Vec<&str> = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        assert!(!names.contains(&""));
        for g in ["apps", "batch", "policy", "keda.sh", "events.k8s.io"] {
            assert!(names.contains(&g), "{g}");
        }
        let keda = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "keda.sh")
            .unwrap();
        assert_eq!(
            keda["preferredVersion"],
            json!({"groupVersion": "keda.sh/v1alpha1", "version": "v1alpha1"})
        );

        let core = api_resource_list(&reg, "", "v1").unwrap();
        assert_eq!(core["groupVersion"], "v1");
        let res = core["resources"].as_array().unwrap();
        let find = |n: &str| res.iter().find(|r| r["name"] == n).unwrap().clone();
        let pods = find("pods");
        assert_eq!(pods["singularName"], "pod");
        assert_eq!(pods["namespaced"], true);
        assert_eq!(pods["kind"], "Pod");
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        assert_eq!(
            find("pods/eviction"),
            json!({"name": "pods/eviction", "singularName": "", "namespaced": true,
                   "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]})
        );
        assert_eq!(find("pods/proxy")["kind"], "PodProxyOptions");
        assert_eq!(
            find("pods/status"),
            json!({"name": "pods/status", "singularName": "", "namespaced": true,
                   "kind": "Pod", "verbs": ["get", "patch", "update"]})
        );
        assert_eq!(find("namespaces")["namespaced"], false);
        assert!(find("secrets").get("shortNames").is_none());

        let apps = api_resource_list(&reg, "apps", "v1").unwrap();
        let scale = apps["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap()
            .clone();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");

        let batch = api_resource_list(&reg, "batch", "v1").unwrap();
        assert!(
            batch["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "jobs/status")
        );

        let keda = api_resource_list(&reg, "keda.sh", "v1alpha1").unwrap();
        let sj = &keda["resources"][0];
        assert_eq!(sj["name"], "scaledjobs");
        assert_eq!(sj["shortNames"], json!(["sj"]));
        assert!(
            keda["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "triggerauthentications")
        );

        let ev = api_resource_list(&reg, "events.k8s.io", "v1").unwrap();
        assert_eq!(ev["resources"][0]["verbs"], json!(["get", "list", "watch"]));

        assert!(api_resource_list(&reg, "batch", "v2").is_none());
        assert!(api_resource_list(&Registry::new(false), "keda.sh", "v1alpha1").is_none());
    }

    #[test]
    fn aggregated_documents() {
        let reg = Registry::new(true);
        let core = aggregated(&reg, true);
        assert_eq!(core["kind"], "APIGroupDiscoveryList");
        assert_eq!(core["apiVersion"], "apidiscovery.k8s.io/v2");
        let items = core["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["metadata"]["name"], "");
        let v1 = &items[0]["versions"][0];
        assert_eq!(v1["version"], "v1");
        assert_eq!(v1["freshness"], "Current");
        let pods = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "pods")
            .unwrap();
        assert_eq!(pods["scope"], "Namespaced");
        assert_eq!(pods["singularResource"], "pod");
        assert_eq!(
            pods["responseKind"],
            json!({"group": "", "version": "v1", "kind": "Pod"})
        );
        let subs = pods["subresources"].as_array().unwrap();
        let ev = subs
            .iter()
            .find(|s| s["subresource"] == "eviction")
            .unwrap();
        assert_eq!(
            ev["responseKind"],
            json!({"group": "policy", "version": "v1", "kind": "Eviction"})
        );
        assert_eq!(ev["verbs"], json!(["create"]));
        let ns = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "namespaces")
            .unwrap();
        assert_eq!(ns["scope"], "Cluster");

        let apis = aggregated(&reg, false);
        let items = apis["items"].as_array().unwrap();
        assert!(items.iter().all(|i| i["metadata"]["name"] != ""));
        let apps = items
            .iter()
            .find(|i| i["metadata"]["name"] == "apps")
            .unwrap();
        let deploy = &apps["versions"][0]["resources"][0];
        assert_eq!(deploy["resource"], "deployments");
        assert_eq!(deploy["shortNames"], json!(["deploy"]));
        let scale = deploy["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subresource"] == "scale")
            .unwrap();
        assert_eq!(scale["responseKind"]["group"], "autoscaling");
        let keda = items
            .iter()
            .find(|i| i["metadata"]["name"] == "keda.sh")
            .unwrap();
        assert_eq!(keda["versions"][0]["version"], "v1alpha1");
        assert_eq!(
            keda["versions"][0]["resources"][0]["resource"],
            "scaledjobs"
        );
    }

    #[test]
    fn crd_types_appear() {
        let mut reg = Registry::new(false);
        reg.add_crd(types_of_crd(&json!({"spec": {
            "group": "example.com", "scope": "Cluster",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "versions": [
                {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}, "scale": {}}},
                {"name": "v1beta1", "served": true, "storage": false}
            ]
        }})));
        let groups = api_group_list(&reg);
        let g = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "example.com")
            .unwrap()
            .clone();
        assert_eq!(g["versions"].as_array().unwrap().len(), 2);
        assert_eq!(g["preferredVersion"]["version"], "v1");
        let list = api_resource_list(&reg, "example.com", "v1").unwrap();
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["widgets", "widgets/scale", "widgets/status"]);
        let agg = aggregated(&reg, false);
        let item = agg["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["metadata"]["name"] == "example.com")
            .unwrap()
            .clone();
        assert_eq!(item["versions"][0]["resources"][0]["scope"], "Cluster");
        assert_eq!(item["versions"][1]["version"], "v1beta1");
    }

    #[test]
    fn version_document() {
        let v = version();
        assert_eq!(v["major"], "1");
        assert_eq!(v["minor"], "32");
        assert!(v["gitVersion"].as_str().unwrap().starts_with("v1.32."));
        assert!(v["platform"].as_str().unwrap().contains('/'));
    }
}
