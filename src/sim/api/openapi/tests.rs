//! OpenAPI documents checked against what kubectl 1.32 reads from them.

use super::*;
use crate::sim::api::registry::types_of_crd;

fn docs(reg: &Registry) -> Vec<(String, Value)> {
    let mut out = vec![];
    for (g, vs) in reg.groups() {
        for v in vs {
            out.push((index_key(&g, &v), v3_group_version(reg, &g, &v).unwrap()));
        }
    }
    out
}

fn assert_refs_local(v: &Value, key: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if let (true, Some(r)) = (k == "$ref", x.as_str()) {
                    assert!(r.starts_with(REF), "{key}: {r}");
                }
                assert_refs_local(x, key);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| assert_refs_local(x, key)),
        _ => {}
    }
}

#[test]
fn every_ref_resolves() {
    let mut reg = Registry::new(true);
    reg.add_crd(types_of_crd(&json!({"spec": {
        "group": "example.com", "scope": "Cluster",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [{"name": "v1", "served": true, "subresources": {"status": {}, "scale": {}}}]
    }})));
    let all = docs(&reg);
    assert!(all.len() >= 10);
    for (key, doc) in &all {
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut refs = vec![];
        collect_refs(doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            assert!(schemas.contains_key(&r), "{key}: unresolved {r}");
        }
        // Every reference points into components/schemas.
        assert_refs_local(doc, key);
    }
    // The whole catalogue is closed too.
    for (name, s) in catalogue() {
        let mut refs = vec![];
        collect_refs(s, &mut refs);
        for r in refs {
            assert!(catalogue().contains_key(&r), "{name}: unresolved {r}");
        }
    }
}

fn patch_op<'a>(doc: &'a Value, group: &str, version: &str, kind: &str) -> Vec<&'a Value> {
    let want = gvk(group, version, kind);
    doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|p| p.get("patch"))
        .filter(|op| op["x-kubernetes-group-version-kind"] == want)
        .collect()
}

#[test]
fn patch_operations_advertise_field_validation() {
    let reg = Registry::new(true);
    for rt in reg.all() {
        let doc = v3_group_version(&reg, &rt.group, &rt.version).unwrap();
        let ops = patch_op(&doc, &rt.group, &rt.version, &rt.kind);
        if rt.read_only {
            assert!(ops.is_empty(), "{}", rt.kind);
            continue;
        }
        assert!(!ops.is_empty(), "{} has a PATCH", rt.kind);
        for op in ops {
            let names: Vec<&str> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for n in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                assert!(names.contains(&n), "{}: {n}", rt.kind);
            }
            let content = op["requestBody"]["content"].as_object().unwrap();
            assert!(content.contains_key("application/apply-patch+yaml"));
            assert!(content.contains_key("application/merge-patch+json"));
            assert_eq!(
                content.contains_key("application/strategic-merge-patch+json"),
                serves_smp(rt),
                "{}",
                rt.kind
            );
            assert_eq!(op["x-kubernetes-action"], "patch");
        }
    }
}

#[test]
fn paths_and_operations() {
    let reg = Registry::new(true);
    let core = v3_group_version(&reg, "", "v1").unwrap();
    let paths = core["paths"].as_object().unwrap();
    for p in [
        "/api/v1/namespaces/{namespace}/pods",
        "/api/v1/namespaces/{namespace}/pods/{name}",
        "/api/v1/namespaces/{namespace}/pods/{name}/status",
        "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
        "/api/v1/namespaces/{namespace}/pods/{name}/proxy",
        "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
        "/api/v1/pods",
        "/api/v1/namespaces",
        "/api/v1/namespaces/{name}",
        "/api/v1/nodes/{name}/status",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
    let item = &paths["/api/v1/namespaces/{namespace}/pods/{name}"];
    for m in ["get", "put", "patch", "delete"] {
        assert_eq!(
            item[m]["x-kubernetes-group-version-kind"],
            json!({"group": "", "version": "v1", "kind": "Pod"})
        );
    }
    assert_eq!(item["get"]["operationId"], "readCoreV1NamespacedPod");
    assert_eq!(item["patch"]["operationId"], "patchCoreV1NamespacedPod");
    assert_eq!(
        item["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Pod"
    );
    let coll = &paths["/api/v1/namespaces/{namespace}/pods"];
    assert_eq!(coll["get"]["x-kubernetes-action"], "list");
    assert_eq!(coll["post"]["x-kubernetes-action"], "post");
    assert_eq!(coll["delete"]["x-kubernetes-action"], "deletecollection");
    assert_eq!(
        coll["post"]["requestBody"]["content"]["*/*"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Pod"
    );
    let ev = &paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"];
    assert_eq!(ev["x-kubernetes-group-version-kind"]["kind"], "Eviction");
    assert_eq!(
        paths["/api/v1/namespaces"]["get"]["operationId"],
        "listCoreV1Namespace"
    );

    let apps = v3_group_version(&reg, "apps", "v1").unwrap();
    let scale = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
    assert_eq!(
        scale["patch"]["x-kubernetes-group-version-kind"],
        json!({"group": "autoscaling", "version": "v1", "kind": "Scale"})
    );
    assert!(apps["components"]["schemas"]["io.k8s.api.autoscaling.v1.Scale"].is_object());

    let ev = v3_group_version(&reg, "events.k8s.io", "v1").unwrap();
    let item = &ev["paths"]["/apis/events.k8s.io/v1/namespaces/{namespace}/events/{name}"];
    assert!(item.get("get").is_some() && item.get("patch").is_none());

    let keda = v3_group_version(&reg, "keda.sh", "v1alpha1").unwrap();
    let sj = &keda["components"]["schemas"]["sh.keda.v1alpha1.ScaledJob"];
    assert_eq!(sj["type"], "object");
    assert_eq!(
        sj["x-kubernetes-group-version-kind"],
        json!([{"group": "keda.sh", "version": "v1alpha1", "kind": "ScaledJob"}])
    );
    assert_eq!(
        sj["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"],
        true
    );
    assert!(
        keda["paths"]
            .get("/apis/keda.sh/v1alpha1/clustertriggerauthentications/{name}")
            .is_some()
    );
    assert_eq!(
        keda["paths"]["/apis/keda.sh/v1alpha1/namespaces/{namespace}/scaledjobs/{name}"]["patch"]["operationId"],
        "patchKedaShV1alpha1NamespacedScaledJob"
    );

    assert!(v3_group_version(&reg, "batch", "v2").is_none());
}

#[test]
fn component_schemas_carry_gvks() {
    let reg = Registry::new(true);
    let batch = v3_group_version(&reg, "batch", "v1").unwrap();
    let s = &batch["components"]["schemas"];
    assert_eq!(
        s["io.k8s.api.batch.v1.Job"]["x-kubernetes-group-version-kind"],
        json!([{"group": "batch", "version": "v1", "kind": "Job"}])
    );
    assert_eq!(
        s["io.k8s.api.batch.v1.JobList"]["x-kubernetes-group-version-kind"][0]["kind"],
        "JobList"
    );
    assert_eq!(s["io.k8s.api.batch.v1.Job"]["type"], "object");
    assert!(s["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].is_object());
    assert_eq!(
        s["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]["x-kubernetes-group-version-kind"],
        json!([{"group": "", "version": "v1", "kind": "DeleteOptions"},
               {"group": "batch", "version": "v1", "kind": "DeleteOptions"}])
    );
    // Only what the document needs.
    assert!(s.get("io.k8s.api.apps.v1.Deployment").is_none());
    // Exactly one component per kind GVK (kubectl uses the first match).
    let mut seen = BTreeSet::new();
    for (name, schema) in s.as_object().unwrap() {
        for g in schema["x-kubernetes-group-version-kind"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert!(seen.insert(g.to_string()), "{name}: duplicate {g}");
        }
    }
}

/// kubectl's `PatchMetaFromOpenAPIV3`: follows a field and returns (schema, mergeKey,
/// strategy), or the error kubectl reports.
fn lookup<'a>(
    doc: &'a Value,
    schema: &'a Value,
    key: &str,
    slice: bool,
) -> Result<(&'a Value, Option<String>, Option<String>), String> {
    let schemas = &doc["components"]["schemas"];
    let props = schema["properties"].as_object().filter(|p| !p.is_empty());
    let Some(sub) = props.and_then(|p| p.get(key)) else {
        return Err(format!("unable to find api field \"{key}\""));
    };
    let mk = sub["x-kubernetes-patch-merge-key"]
        .as_str()
        .map(String::from);
    let st = sub["x-kubernetes-patch-strategy"]
        .as_str()
        .map(String::from);
    let mut s = sub;
    if slice && s.get("items").is_some() {
        s = &s["items"];
    }
    if let Some(first) = s["allOf"].get(0) {
        s = first;
    }
    if let Some(r) = s["$ref"].as_str() {
        let name = r.strip_prefix(REF).unwrap();
        s = schemas
            .get(name)
            .ok_or(format!("unable to resolve {r} in OpenAPI V3"))?;
    }
    Ok((s, mk, st))
}

fn kind_schema<'a>(doc: &'a Value, group: &str, version: &str, kind: &str) -> &'a Value {
    let want = gvk(group, version, kind);
    doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .values()
        .find(|s| {
            s["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|a| a.contains(&want))
        })
        .unwrap()
}

/// Walks a manifest the way the strategic-merge differ does: every map or list field is
/// looked up in the schema.
fn walk(doc: &Value, schema: &Value, obj: &Value, at: &str) {
    let Some(m) = obj.as_object() else { return };
    for (k, v) in m {
        match v {
            Value::Object(_) => {
                let (s, _, _) =
                    lookup(doc, schema, k, false).unwrap_or_else(|e| panic!("{at}.{k}: {e}"));
                if s["properties"].is_object() {
                    walk(doc, s, v, &format!("{at}.{k}"));
                }
            }
            Value::Array(items) => {
                let (s, _, _) =
                    lookup(doc, schema, k, true).unwrap_or_else(|e| panic!("{at}.{k}: {e}"));
                for item in items {
                    if item.is_object() {
                        walk(doc, s, item, &format!("{at}.{k}[]"));
                    }
                }
            }
            _ => {}
        }
    }
}

fn pod_template() -> Value {
    json!({
        "metadata": {"labels": {"app": "agent"}, "annotations": {"a": "b"}},
        "spec": {
            "serviceAccountName": "agent",
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 120,
            "nodeSelector": {"pool": "agents"},
            "imagePullSecrets": [{"name": "regcred"}],
            "securityContext": {"runAsNonRoot": true, "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]}]}},
                "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1,
                    "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "agent"}}}}]}},
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": "agent"}}}],
            "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "true"]}],
            "containers": [{
                "name": "agent", "image": "ghcr.io/x/agent:1", "imagePullPolicy": "IfNotPresent",
                "args": ["--queue", "tasks"],
                "ports": [{"containerPort": 9090, "name": "metrics", "protocol": "TCP"}],
                "env": [{"name": "A", "value": "1"},
                        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                "envFrom": [{"secretRef": {"name": "agent-env"}}, {"configMapRef": {"name": "cm"}}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
                "volumeMounts": [{"name": "work", "mountPath": "/work"}, {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": true}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 9090}, "periodSeconds": 10},
                "readinessProbe": {"exec": {"command": ["true"]}},
                "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": true}
            }],
            "volumes": [{"name": "work", "emptyDir": {"sizeLimit": "1Gi"}},
                        {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "a"}]}},
                        {"name": "sec", "secret": {"secretName": "s"}},
                        {"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]}}]
        }
    })
}

#[test]
fn strategic_merge_metadata_for_realistic_manifests() {
    let reg = Registry::new(true);
    let meta = json!({"name": "x", "namespace": "w", "labels": {"a": "b"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        "finalizers": ["example.com/f"],
        "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]});
    let manifests = vec![
        (
            "batch",
            "Job",
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 60,
                "podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]},
                "template": pod_template()}}),
        ),
        (
            "apps",
            "Deployment",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "agent"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
                "template": pod_template()}}),
        ),
        (
            "",
            "Pod",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": pod_template()["spec"].clone()}),
        ),
        (
            "",
            "Service",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"selector": {"app": "a"}, "ports": [{"name": "amqp", "port": 5672, "targetPort": "amqp"}]}}),
        ),
        (
            "",
            "Secret",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta,
            "type": "Opaque", "stringData": {"host": "amqp://x"}, "data": {"k": "dg=="}}),
        ),
        (
            "",
            "ConfigMap",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "b"}}),
        ),
        (
            "",
            "ServiceAccount",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta,
            "imagePullSecrets": [{"name": "r"}]}),
        ),
        (
            "",
            "Namespace",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta}),
        ),
        (
            "",
            "LimitRange",
            json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": meta,
            "spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}, "defaultRequest": {"cpu": "100m"}}]}}),
        ),
        (
            "",
            "PersistentVolumeClaim",
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        ),
        (
            "policy",
            "PodDisruptionBudget",
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta,
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "agent"}}}}),
        ),
        (
            "networking.k8s.io",
            "NetworkPolicy",
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
            "spec": {"podSelector": {"matchLabels": {"app": "agent"}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"n": "q"}}}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                            "ports": [{"protocol": "TCP", "port": 5672}]}]}}),
        ),
        (
            "rbac.authorization.k8s.io",
            "Role",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ),
        (
            "rbac.authorization.k8s.io",
            "RoleBinding",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "agent", "namespace": "w"}]}),
        ),
        (
            "coordination.k8s.io",
            "Lease",
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
            "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}),
        ),
    ];
    for (group, kind, manifest) in manifests {
        let doc = v3_group_version(&reg, group, "v1").unwrap();
        let schema = kind_schema(&doc, group, "v1", kind);
        walk(&doc, schema, &manifest, kind);
    }
}

#[test]
fn patch_strategies_match_kubernetes() {
    let reg = Registry::new(true);
    let doc = v3_group_version(&reg, "batch", "v1").unwrap();
    let job = kind_schema(&doc, "batch", "v1", "Job");
    let (meta, _, _) = lookup(&doc, job, "metadata", false).unwrap();
    let (_, mk, st) = lookup(&doc, meta, "finalizers", true).unwrap();
    assert_eq!((mk, st.as_deref()), (None, Some("merge")));
    let (_, mk, st) = lookup(&doc, meta, "ownerReferences", true).unwrap();
    assert_eq!((mk.as_deref(), st.as_deref()), (Some("uid"), Some("merge")));
    let (spec, _, _) = lookup(&doc, job, "spec", false).unwrap();
    let (tmpl, _, _) = lookup(&doc, spec, "template", false).unwrap();
    let (pod, _, _) = lookup(&doc, tmpl, "spec", false).unwrap();
    let (container, mk, st) = lookup(&doc, pod, "containers", true).unwrap();
    assert_eq!(
        (mk.as_deref(), st.as_deref()),
        (Some("name"), Some("merge"))
    );
    let (_, mk, st) = lookup(&doc, pod, "volumes", true).unwrap();
    assert_eq!(
        (mk.as_deref(), st.as_deref()),
        (Some("name"), Some("merge,retainKeys"))
    );
    for (field, key) in [
        ("env", "name"),
        ("volumeMounts", "mountPath"),
        ("ports", "containerPort"),
    ] {
        let (_, mk, st) = lookup(&doc, container, field, true).unwrap();
        assert_eq!(
            (mk.as_deref(), st.as_deref()),
            (Some(key), Some("merge")),
            "{field}"
        );
    }
    let (status, _, _) = lookup(&doc, job, "status", false).unwrap();
    let (_, mk, _) = lookup(&doc, status, "conditions", true).unwrap();
    assert_eq!(mk.as_deref(), Some("type"));
    assert!(lookup(&doc, pod, "noSuchField", false).is_err());

    let apps = v3_group_version(&reg, "apps", "v1").unwrap();
    let deploy = kind_schema(&apps, "apps", "v1", "Deployment");
    let (spec, _, _) = lookup(&apps, deploy, "spec", false).unwrap();
    let (strategy, _, st) = lookup(&apps, spec, "strategy", false).unwrap();
    assert_eq!(st.as_deref(), Some("retainKeys"));
    assert!(strategy["properties"]["rollingUpdate"].is_object());
}

#[test]
fn root_index() {
    let reg = Registry::new(true);
    let root = v3_root(&reg);
    let paths = root["paths"].as_object().unwrap();
    for key in [
        "api/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/keda.sh/v1alpha1",
        "apis/events.k8s.io/v1",
    ] {
        let url = paths[key]["serverRelativeURL"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("/openapi/v3/{key}?hash=")),
            "{url}"
        );
    }
    // Stable for the same content, different for different content.
    assert_eq!(root, v3_root(&reg));
    assert_ne!(paths["api/v1"], paths["apis/batch/v1"]);
    let without_keda = v3_root(&Registry::new(false));
    assert!(without_keda["paths"].get("apis/keda.sh/v1alpha1").is_none());
    assert_eq!(
        without_keda["paths"]["apis/batch/v1"],
        paths["apis/batch/v1"]
    );
}

#[test]
fn crd_schemas_when_known() {
    let reg = Registry::new(true);
    let doc = v3_group_version_with(&reg, "keda.sh", "v1alpha1", &|rt| {
        (rt.kind == "ScaledJob").then(|| {
            json!({"type": "object", "properties": {
                "metadata": {"type": "object"},
                "spec": {"type": "object", "properties": {"maxReplicaCount": {"type": "integer"}}}}})
        })
    })
    .unwrap();
    let sj = &doc["components"]["schemas"]["sh.keda.v1alpha1.ScaledJob"];
    assert_eq!(
        sj["properties"]["spec"]["properties"]["maxReplicaCount"]["type"],
        "integer"
    );
    assert_eq!(
        sj["properties"]["metadata"]["$ref"],
        format!("{REF}{META}.ObjectMeta")
    );
    let so = &doc["components"]["schemas"]["sh.keda.v1alpha1.ScaledObject"];
    assert_eq!(
        so["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"],
        true
    );
}
