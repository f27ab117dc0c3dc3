//! The resource types the local cluster serves: built-in kinds, the KEDA kinds (unless
//! `--without-keda`), and any CustomResourceDefinition applied at run time.
//!
//! Everything that depends on a type (routing, discovery, OpenAPI, Table output, validation,
//! which patch types apply) reads it from here.

use std::collections::BTreeMap;

/// Subresources a type serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Subresources {
    pub status: bool,
    pub scale: bool,
    pub eviction: bool,
    pub proxy: bool,
    /// `pods/binding`: the scheduler's write of `spec.nodeName`.
    pub binding: bool,
    /// `pods/log`: what the kubelet wrote of a container's output.
    pub log: bool,
}

/// One served resource type, e.g. `batch/v1 jobs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// "" for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The URL segment: `jobs`.
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Subresources,
    /// Read-only types (events.k8s.io/v1 mirrors core events) accept no writes.
    pub read_only: bool,
    /// Built-in kinds take strategic merge patches; custom resources answer 415.
    pub builtin: bool,
    /// Defined by a CustomResourceDefinition object in the store (not built in).
    pub from_crd: bool,
}

impl ResourceType {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `jobs.batch`, or `pods` for the core group: how Status messages name the type.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Job.batch`, or `Pod`: how Invalid messages name the kind.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// The verbs discovery lists for the type.
    pub fn verbs(&self) -> Vec<&'static str> {
        if self.read_only && self.group == super::metrics_api::GROUP {
            // metrics-server serves no watch.
            vec!["get", "list"]
        } else if self.read_only {
            vec!["get", "list", "watch"]
        } else {
            vec![
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        }
    }
}

/// The key of a type in the store: group and plural (the version is not part of identity).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeKey {
    pub group: String,
    pub plural: String,
}

impl ResourceType {
    pub fn key(&self) -> TypeKey {
        TypeKey {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn t(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
    categories: &[&str],
    subresources: Subresources,
) -> ResourceType {
    ResourceType {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: categories.iter().map(|s| s.to_string()).collect(),
        subresources,
        read_only: false,
        builtin: true,
        from_crd: false,
    }
}

const NONE: Subresources = Subresources {
    status: false,
    scale: false,
    eviction: false,
    proxy: false,
    binding: false,
    log: false,
};
const STATUS: Subresources = Subresources {
    status: true,
    ..NONE
};
const STATUS_SCALE: Subresources = Subresources {
    status: true,
    scale: true,
    ..NONE
};

/// The built-in kinds, in discovery order.
pub fn builtin_types() -> Vec<ResourceType> {
    let all = &["all"];
    let mut events_k8s = t(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        true,
        &["ev"],
        &[],
        NONE,
    );
    events_k8s.read_only = true;
    vec![
        t(
            "",
            "v1",
            "Namespace",
            "namespaces",
            false,
            &["ns"],
            &[],
            STATUS,
        ),
        t("", "v1", "Node", "nodes", false, &["no"], &[], STATUS),
        t(
            "",
            "v1",
            "Pod",
            "pods",
            true,
            &["po"],
            all,
            Subresources {
                status: true,
                eviction: true,
                proxy: true,
                binding: true,
                log: true,
                ..NONE
            },
        ),
        t("", "v1", "Event", "events", true, &["ev"], &[], NONE),
        t("", "v1", "Secret", "secrets", true, &[], &[], NONE),
        t(
            "",
            "v1",
            "ConfigMap",
            "configmaps",
            true,
            &["cm"],
            &[],
            NONE,
        ),
        t("", "v1", "Service", "services", true, &["svc"], all, STATUS),
        t(
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
            &["pvc"],
            &[],
            STATUS,
        ),
        t(
            "",
            "v1",
            "LimitRange",
            "limitranges",
            true,
            &["limits"],
            &[],
            NONE,
        ),
        t(
            "",
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            true,
            &["sa"],
            &[],
            NONE,
        ),
        t(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            true,
            &["deploy"],
            all,
            STATUS_SCALE,
        ),
        t(
            "apps",
            "v1",
            "ReplicaSet",
            "replicasets",
            true,
            &["rs"],
            all,
            STATUS_SCALE,
        ),
        t("batch", "v1", "Job", "jobs", true, &[], all, STATUS),
        t(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
            &["pdb"],
            &[],
            STATUS,
        ),
        t(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
            &["netpol"],
            &[],
            NONE,
        ),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "Role",
            "roles",
            true,
            &[],
            &[],
            NONE,
        ),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
            &[],
            &[],
            NONE,
        ),
        t(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["crd", "crds"],
            &["api-extensions"],
            STATUS,
        ),
        t(
            "coordination.k8s.io",
            "v1",
            "Lease",
            "leases",
            true,
            &[],
            &[],
            NONE,
        ),
        events_k8s,
    ]
}

/// The KEDA kinds fleetctl works with, as KEDA 2.16's CRDs define them.
pub fn keda_types() -> Vec<ResourceType> {
    let mut v = vec![
        t(
            "keda.sh",
            "v1alpha1",
            "ScaledJob",
            "scaledjobs",
            true,
            &["sj"],
            &[],
            STATUS,
        ),
        t(
            "keda.sh",
            "v1alpha1",
            "ScaledObject",
            "scaledobjects",
            true,
            &["so"],
            &[],
            STATUS,
        ),
        t(
            "keda.sh",
            "v1alpha1",
            "TriggerAuthentication",
            "triggerauthentications",
            true,
            &["ta", "triggerauth"],
            &[],
            NONE,
        ),
        t(
            "keda.sh",
            "v1alpha1",
            "ClusterTriggerAuthentication",
            "clustertriggerauthentications",
            false,
            &["cta", "clustertriggerauth"],
            &[],
            NONE,
        ),
    ];
    for r in &mut v {
        // Custom resources: no strategic merge patch, exactly as with KEDA's real CRDs.
        r.builtin = false;
    }
    v
}

/// KEDA's CustomResourceDefinitions as a cluster with KEDA 2.16 has them installed: the sim
/// creates these objects at start (unless `--without-keda`), so `kubectl get crd` lists them and
/// the kinds behave exactly as when KEDA's own CRD files are applied.
pub fn keda_crd_objects() -> Vec<serde_json::Value> {
    keda_types()
        .into_iter()
        .map(|t| {
            serde_json::json!({
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {
                    "name": format!("{}.{}", t.plural, t.group),
                    "labels": {"app.kubernetes.io/part-of": "keda-operator", "app.kubernetes.io/version": "2.16.1"},
                },
                "spec": {
                    "group": t.group,
                    "names": {"kind": t.kind, "listKind": t.list_kind(), "plural": t.plural,
                              "singular": t.singular, "shortNames": t.short_names},
                    "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                    "versions": [{
                        "name": t.version, "served": true, "storage": true,
                        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                        "subresources": if t.subresources.status { serde_json::json!({"status": {}}) } else { serde_json::json!({}) },
                    }],
                },
            })
        })
        .collect()
}

/// The set of types served now. CRDs add and remove entries at run time.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    types: Vec<ResourceType>,
}

impl Registry {
    pub fn new(with_keda: bool) -> Self {
        let mut types = builtin_types();
        if with_keda {
            types.extend(keda_types());
        }
        Self { types }
    }

    pub fn all(&self) -> &[ResourceType] {
        &self.types
    }

    /// The types served under one group/version.
    pub fn types_in(&self, group: &str, version: &str) -> Vec<&ResourceType> {
        self.types
            .iter()
            .filter(|t| t.group == group && t.version == version)
            .collect()
    }

    /// The type served at `group/version` under `plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// The type of `apiVersion` + `kind`, as an object in a request body names it.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.api_version() == api_version && t.kind == kind)
    }

    /// Group → versions, in the order types were added: what discovery lists.
    pub fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in &self.types {
            let vs = m.entry(t.group.clone()).or_default();
            if !vs.contains(&t.version) {
                vs.push(t.version.clone());
            }
        }
        m
    }

    /// Adds the types a CRD defines (one per served version), replacing earlier ones of the
    /// same group and plural. A CRD cannot shadow a built-in type.
    pub fn add_crd(&mut self, defined: Vec<ResourceType>) {
        for d in defined {
            if self
                .types
                .iter()
                .any(|t| t.key() == d.key() && !t.from_crd && t.builtin)
            {
                continue;
            }
            self.types
                .retain(|t| !(t.key() == d.key() && t.version == d.version));
            self.types.push(d);
        }
    }

    /// Removes the types of a deleted CRD.
    pub fn remove_crd(&mut self, group: &str, plural: &str) {
        self.types
            .retain(|t| !(t.from_crd && t.group == group && t.plural == plural));
    }
}

/// The resource types a CustomResourceDefinition object defines: one per served version.
pub fn types_of_crd(crd: &serde_json::Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let names = &spec["names"];
    let kind = names["kind"].as_str().unwrap_or_default();
    let plural = names["plural"].as_str().unwrap_or_default();
    if group.is_empty() || kind.is_empty() || plural.is_empty() {
        return vec![];
    }
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .filter_map(|v| {
            let version = v["name"].as_str()?;
            let sub = &v["subresources"];
            Some(ResourceType {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: plural.into(),
                singular: names["singular"]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| kind.to_lowercase()),
                namespaced: spec["scope"].as_str() != Some("Cluster"),
                short_names: strings(&names["shortNames"]),
                categories: strings(&names["categories"]),
                subresources: Subresources {
                    status: sub.get("status").is_some(),
                    scale: sub.get("scale").is_some(),
                    ..NONE
                },
                read_only: false,
                builtin: false,
                from_crd: true,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lookup() {
        let r = Registry::new(true);
        let jobs = r.find("batch", "v1", "jobs").unwrap();
        assert_eq!(jobs.qualified(), "jobs.batch");
        assert_eq!(jobs.qualified_kind(), "Job.batch");
        assert_eq!(jobs.api_version(), "batch/v1");
        let pods = r.find("", "v1", "pods").unwrap();
        assert_eq!(pods.qualified(), "pods");
        assert!(pods.subresources.eviction && pods.subresources.proxy);
        let sj = r.find_kind("keda.sh/v1alpha1", "ScaledJob").unwrap();
        assert_eq!(sj.short_names, vec!["sj"]);
        assert!(!sj.builtin);
        assert!(
            Registry::new(false)
                .find("keda.sh", "v1alpha1", "scaledjobs")
                .is_none()
        );
    }

    #[test]
    fn crds_define_types_and_go_away() {
        let crd = serde_json::json!({"spec": {
            "group": "keda.sh", "scope": "Namespaced",
            "names": {"kind": "ScaledJob", "plural": "scaledjobs", "singular": "scaledjob", "shortNames": ["sj"]},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true, "subresources": {"status": {}}}]
        }});
        let defined = types_of_crd(&crd);
        assert_eq!(defined.len(), 1);
        assert!(defined[0].subresources.status && defined[0].from_crd && !defined[0].builtin);
        let mut r = Registry::new(false);
        r.add_crd(defined);
        assert!(r.find("keda.sh", "v1alpha1", "scaledjobs").is_some());
        assert_eq!(r.groups()["keda.sh"], vec!["v1alpha1"]);
        r.remove_crd("keda.sh", "scaledjobs");
        assert!(r.find("keda.sh", "v1alpha1", "scaledjobs").is_none());
    }
}
