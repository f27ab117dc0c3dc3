//! The local cluster through the real kube-rs client over HTTPS: typed CRUD, watch, server-side
//! apply, eviction against a PDB, a kube-runtime reflector that survives a forced 410 and a
//! dropped connection, discovery, and persistence across a restart.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{
    Api, DeleteParams, EvictParams, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Discovery};
use serde_json::json;

use common::TempDir;
use fleetctl::sim::api::store::WatchControl;
use fleetctl::sim::runtime::RunningSim;

/// A sim with the API only, the client the commands build, and its directory (removed when
/// the test ends).
async fn sim() -> (RunningSim, Client, TempDir) {
    let dir = TempDir::new("sim");
    let (sim, client) = common::sim(&dir, |_| {}).await;
    (sim, client, dir)
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "ai-agent"}},
        "spec": {"containers": [{"name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0"}]}
    }))
    .unwrap()
}

fn api_code(e: &kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        other => panic!("not an API error: {other:?}"),
    }
}

#[tokio::test]
async fn typed_crud_list_and_server_side_apply() {
    let (sim, client, _dir) = sim().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "agents");
    let created = pods
        .create(&PostParams::default(), &pod("p1"))
        .await
        .unwrap();
    assert_eq!(created.metadata.namespace.as_deref(), Some("agents"));
    assert!(created.metadata.uid.is_some());
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Pending"));
    let err = pods
        .create(&PostParams::default(), &pod("p1"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), 409);

    for i in 2..=4 {
        pods.create(&PostParams::default(), &pod(&format!("p{i}")))
            .await
            .unwrap();
    }
    let list = pods
        .list(&ListParams::default().labels("app=ai-agent"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 4);
    assert!(list.metadata.resource_version.is_some());
    let page = pods.list(&ListParams::default().limit(3)).await.unwrap();
    assert_eq!(page.items.len(), 3);
    let rest = pods
        .list(
            &ListParams::default()
                .limit(3)
                .continue_token(page.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);

    // Server-side apply: created (201), then unchanged (same resourceVersion).
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "agents");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}});
    let pp = PatchParams::apply("fleetctl");
    let first = cms
        .patch("settings", &pp, &Patch::Apply(&cm))
        .await
        .unwrap();
    let second = cms
        .patch("settings", &pp, &Patch::Apply(&cm))
        .await
        .unwrap();
    assert_eq!(
        first.metadata.resource_version,
        second.metadata.resource_version
    );
    let managers: Vec<_> = second
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.manager.unwrap_or_default(),
                m.operation.unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        managers.contains(&("fleetctl".to_string(), "Apply".to_string())),
        "{managers:?}"
    );
    // Another manager setting the same field differently conflicts, unless forced.
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "2"}});
    let err = cms
        .patch(
            "settings",
            &PatchParams::apply("other"),
            &Patch::Apply(&other),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), 409);
    let forced = cms
        .patch(
            "settings",
            &PatchParams::apply("other").force(),
            &Patch::Apply(&other),
        )
        .await
        .unwrap();
    assert_eq!(forced.data.unwrap()["a"], "2");

    // Delete: an unscheduled pod goes at once.
    pods.delete("p1", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_code(&pods.get("p1").await.unwrap_err()), 404);
    sim.stop().await;
}

#[tokio::test]
async fn watch_from_zero_then_live() {
    let (sim, client, _dir) = sim().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "agents");
    let mk = |n: &str| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": n}})).unwrap()
    };
    cms.create(&PostParams::default(), &mk("before"))
        .await
        .unwrap();
    let mut stream = cms
        .watch(&WatchParams::default().timeout(30), "0")
        .await
        .unwrap()
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(first, WatchEvent::Added(ref c) if c.metadata.name.as_deref() == Some("before"))
    );
    cms.create(&PostParams::default(), &mk("after"))
        .await
        .unwrap();
    cms.patch(
        "after",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"x": "y"}})),
    )
    .await
    .unwrap();
    let mut seen = vec![];
    while seen.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            WatchEvent::Added(c) => seen.push(format!("ADDED {}", c.metadata.name.unwrap())),
            WatchEvent::Modified(c) => seen.push(format!("MODIFIED {}", c.metadata.name.unwrap())),
            WatchEvent::Bookmark(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["ADDED after", "MODIFIED after"]);
    sim.stop().await;
}

#[tokio::test]
async fn eviction_honours_the_pdb() {
    let (sim, client, _dir) = sim().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "agents");
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), "agents");
    // A pending pod is evicted without a PDB check.
    pods.create(&PostParams::default(), &pod("pending"))
        .await
        .unwrap();
    pods.evict("pending", &EvictParams::default())
        .await
        .unwrap();
    assert_eq!(api_code(&pods.get("pending").await.unwrap_err()), 404);

    // A running, ready pod under a PDB that allows no disruption: 429 with the budget's words.
    pods.create(&PostParams::default(), &pod("busy"))
        .await
        .unwrap();
    let running = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
    pods.patch_status("busy", &PatchParams::default(), &Patch::Merge(&running))
        .await
        .unwrap();
    let pdb: PodDisruptionBudget = serde_json::from_value(json!({
        "metadata": {"name": "agent-pdb"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ai-agent"}}}
    }))
    .unwrap();
    pdbs.create(&PostParams::default(), &pdb).await.unwrap();
    let status = |allowed: i32| {
        json!({"status": {"observedGeneration": 1, "currentHealthy": 1, "desiredHealthy": 1,
                          "disruptionsAllowed": allowed, "expectedPods": 1}})
    };
    pdbs.patch_status(
        "agent-pdb",
        &PatchParams::default(),
        &Patch::Merge(status(0)),
    )
    .await
    .unwrap();
    let err = pods
        .evict("busy", &EvictParams::default())
        .await
        .unwrap_err();
    let kube::Error::Api(s) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(s.code, 429);
    assert_eq!(s.reason, "TooManyRequests");
    assert_eq!(
        s.message,
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert!(pods.get("busy").await.is_ok(), "still there");

    // One disruption allowed: evicted, budget spent, DisruptionTarget recorded first.
    pdbs.patch_status(
        "agent-pdb",
        &PatchParams::default(),
        &Patch::Merge(status(1)),
    )
    .await
    .unwrap();
    let mut events = pods
        .watch(
            &WatchParams::default()
                .fields("metadata.name=busy")
                .timeout(20),
            "0",
        )
        .await
        .unwrap()
        .boxed();
    pods.evict("busy", &EvictParams::default()).await.unwrap();
    let mut saw_disruption_target = false;
    while let Ok(Some(Ok(ev))) = tokio::time::timeout(Duration::from_secs(5), events.next()).await {
        if let WatchEvent::Modified(p) | WatchEvent::Deleted(p) = &ev
            && p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.type_ == "DisruptionTarget"
                            && c.reason.as_deref() == Some("EvictionByEvictionAPI")
                    })
                })
        {
            saw_disruption_target = true;
        }
        if matches!(ev, WatchEvent::Deleted(_)) {
            break;
        }
    }
    assert!(
        saw_disruption_target,
        "the pod carried DisruptionTarget before it went"
    );
    let after = pdbs.get_status("agent-pdb").await.unwrap().status.unwrap();
    assert_eq!(after.disruptions_allowed, 0);
    assert!(
        after
            .disrupted_pods
            .unwrap_or_default()
            .contains_key("busy")
    );
    sim.stop().await;
}

/// The names and resourceVersions of all config maps in `agents`, as the server lists them.
async fn listed(cms: &Api<ConfigMap>) -> BTreeMap<String, String> {
    cms.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| {
            (
                c.metadata.name.unwrap(),
                c.metadata.resource_version.unwrap(),
            )
        })
        .collect()
}

fn cached(store: &reflector::Store<ConfigMap>) -> BTreeMap<String, String> {
    store
        .state()
        .iter()
        .filter(|c| c.metadata.namespace.as_deref() == Some("agents"))
        .map(|c| {
            (
                c.metadata.name.clone().unwrap(),
                c.metadata.resource_version.clone().unwrap(),
            )
        })
        .collect()
}

async fn converge(store: &reflector::Store<ConfigMap>, cms: &Api<ConfigMap>) {
    let want = listed(cms).await;
    for _ in 0..200 {
        if cached(store) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        cached(store),
        want,
        "the reflector ends equal to the server's list"
    );
}

#[tokio::test]
async fn a_reflector_survives_a_forced_410_and_a_dropped_connection() {
    let (sim, client, _dir) = sim().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "agents");
    let mk = |n: String| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": n}})).unwrap()
    };
    for i in 0..5 {
        cms.create(&PostParams::default(), &mk(format!("cm{i}")))
            .await
            .unwrap();
    }
    let (reader, writer) = reflector::store();
    let inits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = inits.clone();
    let stream = watcher(cms.clone(), watcher::Config::default())
        .inspect(move |e| {
            if matches!(e, Ok(watcher::Event::Init)) {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
        .default_backoff()
        .reflect(writer)
        .applied_objects();
    let task = tokio::spawn(async move {
        futures::pin_mut!(stream);
        while stream.next().await.is_some() {}
    });
    converge(&reader, &cms).await;
    assert_eq!(inits.load(std::sync::atomic::Ordering::SeqCst), 1);

    // Forced 410: the watch ends with ERROR Expired; the reflector re-lists.
    sim.store.end_watches(WatchControl::Expire);
    cms.delete("cm0", &DeleteParams::default()).await.unwrap();
    cms.create(&PostParams::default(), &mk("cm5".into()))
        .await
        .unwrap();
    converge(&reader, &cms).await;
    for _ in 0..100 {
        if inits.load(std::sync::atomic::Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        inits.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "a 410 makes the watcher re-list"
    );

    // Dropped connection: the watch resumes from its resourceVersion and misses nothing.
    sim.store.end_watches(WatchControl::Drop);
    cms.delete("cm1", &DeleteParams::default()).await.unwrap();
    cms.patch(
        "cm2",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "v"}})),
    )
    .await
    .unwrap();
    cms.create(&PostParams::default(), &mk("cm6".into()))
        .await
        .unwrap();
    converge(&reader, &cms).await;
    task.abort();
    sim.stop().await;
}

#[tokio::test]
async fn discovery_lists_builtin_and_keda_kinds() {
    let (sim, client, _dir) = sim().await;
    let d = Discovery::new(client.clone()).run().await.unwrap();
    let mut found = vec![];
    for group in d.groups() {
        for (ar, _caps) in group.recommended_resources() {
            found.push(format!("{}/{}", ar.group, ar.plural));
        }
    }
    for want in [
        "/pods",
        "batch/jobs",
        "keda.sh/scaledjobs",
        "keda.sh/triggerauthentications",
        "policy/poddisruptionbudgets",
        "apps/deployments",
    ] {
        assert!(found.iter().any(|f| f == want), "{want} in {found:?}");
    }
    let v = client.apiserver_version().await.unwrap();
    assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "32"));
    sim.stop().await;
}

#[tokio::test]
async fn errors_are_status_objects() {
    let (sim, client, _dir) = sim().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "agents");
    let bad: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "Bad_Name"}})).unwrap();
    let err = cms.create(&PostParams::default(), &bad).await.unwrap_err();
    let kube::Error::Api(s) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(
        s.message.starts_with(
            "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""
        ),
        "{}",
        s.message
    );
    let err = cms.get("missing").await.unwrap_err();
    let kube::Error::Api(s) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "configmaps \"missing\" not found")
    );
    // Strategic merge patches are for built-in kinds; a custom resource answers 415.
    let sj_res = kube::discovery::ApiResource {
        group: "keda.sh".into(),
        version: "v1alpha1".into(),
        api_version: "keda.sh/v1alpha1".into(),
        kind: "ScaledJob".into(),
        plural: "scaledjobs".into(),
    };
    let sjs: Api<kube::api::DynamicObject> =
        Api::namespaced_with(client.clone(), "agents", &sj_res);
    let sj: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "metadata": {"name": "sj"},
        "spec": {"jobTargetRef": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}, "triggers": []}
    }))
    .unwrap();
    sjs.create(&PostParams::default(), &sj).await.unwrap();
    let err = sjs
        .patch(
            "sj",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), 415);
    sjs.patch(
        "sj",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
    )
    .await
    .unwrap();
    sim.stop().await;
}

#[tokio::test]
async fn state_dir_keeps_objects_token_and_certificate_across_restarts() {
    let dir = TempDir::new("state");
    let state_dir = dir.path().to_path_buf();
    let (sim, client) = common::sim(&dir, |o| o.state_dir = Some(state_dir.clone())).await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "agents");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "kept"}, "data": {"a": "1"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let port = sim
        .server
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let rv_before = sim.store.current_rv();
    sim.stop().await;

    let (sim2, client2) = common::sim(&dir, |o| {
        o.state_dir = Some(state_dir.clone());
        o.listen = format!("127.0.0.1:{port}").parse().unwrap();
    })
    .await;
    let cms2: Api<ConfigMap> = Api::namespaced(client2, "agents");
    assert_eq!(cms2.get("kept").await.unwrap().data.unwrap()["a"], "1");
    assert!(
        sim2.store.current_rv() >= rv_before,
        "resourceVersions never go back"
    );
    // The first client still works: same token, same CA.
    assert_eq!(cms.get("kept").await.unwrap().data.unwrap()["a"], "1");
    sim2.stop().await;
}

/// A kube client acting with `token` instead of the kubeconfig's admin token.
async fn client_with_token(sim: &RunningSim, token: &str) -> Client {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sim.kubeconfig).unwrap()).unwrap();
    doc["users"][0]["user"]["token"] = json!(token);
    let path = sim.kubeconfig.with_extension("sa");
    std::fs::write(&path, doc.to_string()).unwrap();
    fleetctl::cluster::client::connect(Some(&path), None)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn enforced_rbac_refuses_what_the_role_does_not_grant() {
    let dir = TempDir::new("rbac");
    let (sim, admin) = common::sim(&dir, |o| o.enforce_rbac = true).await;
    let post = |kind: &str, body: serde_json::Value| {
        let admin = admin.clone();
        let (group, version, plural) = match kind {
            "Secret" => ("", "v1", "secrets"),
            "Role" => ("rbac.authorization.k8s.io", "v1", "roles"),
            _ => ("rbac.authorization.k8s.io", "v1", "rolebindings"),
        };
        let ar = kube::discovery::ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: if group.is_empty() {
                version.into()
            } else {
                format!("{group}/{version}")
            },
            kind: kind.into(),
            plural: plural.into(),
        };
        async move {
            let api: Api<kube::api::DynamicObject> = Api::namespaced_with(admin, "agents", &ar);
            api.create(
                &PostParams::default(),
                &serde_json::from_value(body).unwrap(),
            )
            .await
            .unwrap();
        }
    };
    use base64::Engine;
    let token = "sa-token-for-tests";
    post("Secret", json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "viewer-token", "annotations": {"kubernetes.io/service-account.name": "viewer"}},
        "data": {"token": base64::engine::general_purpose::STANDARD.encode(token)}})).await;
    post("Role", json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pods-only"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]}]})).await;
    post("RoleBinding", json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "viewer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pods-only"},
        "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": "agents"}]})).await;

    let viewer = client_with_token(&sim, token).await;
    let pods: Api<Pod> = Api::namespaced(viewer.clone(), "agents");
    pods.list(&ListParams::default())
        .await
        .expect("the Role grants list on pods");
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(viewer.clone(), "agents");
    let err = events.list(&ListParams::default()).await.unwrap_err();
    let kube::Error::Api(s) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "events is forbidden: User \"system:serviceaccount:agents:viewer\" cannot list resource \"events\" in API group \"\" in the namespace \"agents\""
    );
    let err = pods
        .create(&PostParams::default(), &pod("nope"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), 403, "create is not granted");
    // The admin token is not subject to Roles; an unknown token is not anyone.
    Api::<k8s_openapi::api::core::v1::Event>::namespaced(admin.clone(), "agents")
        .list(&ListParams::default())
        .await
        .unwrap();
    let stranger = client_with_token(&sim, "who-knows").await;
    let err = Api::<Pod>::namespaced(stranger, "agents")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), 401);
    sim.stop().await;
}

#[tokio::test]
async fn pod_proxy_reaches_the_pod_ip_and_reports_unreachable_pods() {
    let (sim, client, _dir) = sim().await;
    // A pod's "metrics endpoint": a plain HTTP server on loopback.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(|| async { "agent_tasks_completed_total{status=\"success\"} 3\n" }),
        );
        axum::serve(listener, app).await.unwrap();
    });
    let pods: Api<Pod> = Api::namespaced(client.clone(), "agents");
    let mut p = pod("scraped");
    p.spec.as_mut().unwrap().containers[0].ports = Some(vec![
        serde_json::from_value(json!({"containerPort": port, "name": "metrics"})).unwrap(),
    ]);
    pods.create(&PostParams::default(), &p).await.unwrap();
    pods.patch_status(
        "scraped",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"podIP": "127.0.0.1"}})),
    )
    .await
    .unwrap();
    let get = |path: String| {
        let client = client.clone();
        async move {
            let req = axum::http::Request::get(path).body(Vec::new()).unwrap();
            client.request_text(req).await
        }
    };
    let body = get(format!(
        "/api/v1/namespaces/agents/pods/scraped:{port}/proxy/metrics"
    ))
    .await
    .unwrap();
    assert_eq!(body, "agent_tasks_completed_total{status=\"success\"} 3\n");
    // Without a port: the first containerPort.
    let body = get("/api/v1/namespaces/agents/pods/scraped/proxy/metrics".into())
        .await
        .unwrap();
    assert!(body.starts_with("agent_tasks_completed_total"));
    // Nothing listens on port 1: 503 ServiceUnavailable.
    let err = get("/api/v1/namespaces/agents/pods/scraped:1/proxy/metrics".into())
        .await
        .unwrap_err();
    let kube::Error::Api(s) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (503, "ServiceUnavailable"));
    assert!(
        s.message.starts_with("error trying to reach service"),
        "{}",
        s.message
    );
    let err = get("/api/v1/namespaces/agents/pods/missing:1/proxy/metrics".into())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), 404);
    sim.stop().await;
}

/// What the API server does to every write: a Secret's stringData becomes base64 data, and a
/// podFailurePolicy condition pattern with an empty status (as typed clients send it) is True.
#[tokio::test]
async fn writes_are_defaulted_like_the_real_api_server() {
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::Secret;
    let (sim, client, _dir) = sim().await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "agents");
    let s: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "s"}, "stringData": {"url": "amqp://u:p@h/"}, "data": {"k": "dg=="}
    }))
    .unwrap();
    let got = secrets.create(&PostParams::default(), &s).await.unwrap();
    assert!(got.string_data.is_none());
    let data = got.data.unwrap();
    assert_eq!(data["url"].0, b"amqp://u:p@h/");
    assert_eq!(data["k"].0, b"v");

    let jobs: Api<Job> = Api::namespaced(client.clone(), "agents");
    let job: Job = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "j"},
        "spec": {"suspend": true, "podFailurePolicy": {"rules": [{"action": "Ignore",
            "onPodConditions": [{"type": "DisruptionTarget", "status": ""}]}]},
            "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "c", "image": "i"}]}}}
    }))
    .unwrap();
    let got = jobs.create(&PostParams::default(), &job).await.unwrap();
    let rule = &got.spec.unwrap().pod_failure_policy.unwrap().rules[0];
    assert_eq!(rule.on_pod_conditions.as_ref().unwrap()[0].status, "True");
    sim.stop().await;
}
