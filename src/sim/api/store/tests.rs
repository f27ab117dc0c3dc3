//! The store: resourceVersions, lists and pages, watches from the history, writes under the lock, persistence.

use super::*;

fn setup() -> (Arc<Store>, ResourceType, ResourceType) {
    let s = Store::new(Registry::new(true), 100, None);
    s.bootstrap(&["default", "agents"]);
    let reg = s.registry();
    (
        s,
        reg.find("", "v1", "pods").unwrap().clone(),
        reg.find("", "v1", "configmaps").unwrap().clone(),
    )
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "a"}},
           "spec": {"containers": [{"name": "c", "image": "i"}]}})
}

#[test]
fn create_get_list_page() {
    let (s, pods, _) = setup();
    for i in 0..5 {
        s.create(&pods, "agents", pod(&format!("p{i}")), false, |o| {
            Ok(o.clone())
        })
        .unwrap();
    }
    let p = s.get(&pods, "agents", "p3").unwrap();
    assert_eq!(p["metadata"]["namespace"], "agents");
    assert!(
        p["metadata"].get("generation").is_none(),
        "pods carry no generation"
    );
    assert!(p["metadata"]["uid"].as_str().unwrap().len() == 36);
    let err = s
        .create(&pods, "agents", pod("p3"), false, |o| Ok(o.clone()))
        .unwrap_err();
    assert_eq!(err.code, 409);
    let err = s
        .create(&pods, "nope", pod("x"), false, |o| Ok(o.clone()))
        .unwrap_err();
    assert_eq!(err.message(), "namespaces \"nope\" not found");
    let ls = Selector::default();
    let fs = FieldSelector::default();
    let page = s
        .list(&pods, Some("agents"), &ls, &fs, Some(2), None)
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.remaining, Some(3));
    let page2 = s
        .list(
            &pods,
            Some("agents"),
            &ls,
            &fs,
            Some(2),
            page.continue_token.as_deref(),
        )
        .unwrap();
    assert_eq!(page2.items[0]["metadata"]["name"], "p2");
    let page3 = s
        .list(
            &pods,
            Some("agents"),
            &ls,
            &fs,
            Some(2),
            page2.continue_token.as_deref(),
        )
        .unwrap();
    assert_eq!(page3.items.len(), 1);
    assert!(page3.continue_token.is_none());
}

#[test]
fn generate_name_and_generation() {
    let (s, _, cms) = setup();
    let o = s
        .create(
            &cms,
            "agents",
            json!({"metadata": {"generateName": "x-"}, "data": {"a": "1"}}),
            false,
            |o| Ok(o.clone()),
        )
        .unwrap();
    let name = o["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("x-") && name.len() == 7, "{name}");
    let rv = o["metadata"]["resourceVersion"].clone();
    // No-op update: same object, same version.
    let same = s
        .update(&cms, "agents", &name, Part::Main, false, |old| {
            Ok(old.clone())
        })
        .unwrap();
    assert_eq!(same["metadata"]["resourceVersion"], rv);
    let changed = s
        .update(&cms, "agents", &name, Part::Main, false, |old| {
            let mut n = old.clone();
            n["data"]["a"] = json!("2");
            Ok(n)
        })
        .unwrap();
    assert!(
        changed["metadata"].get("generation").is_none(),
        "config maps carry no generation"
    );
    assert_ne!(changed["metadata"]["resourceVersion"], rv);
    // Kinds with a spec count its changes in generation; status and metadata don't count.
    let reg = s.registry();
    let pdbs = reg
        .find("policy", "v1", "poddisruptionbudgets")
        .unwrap()
        .clone();
    let pdb = s
        .create(
            &pdbs,
            "agents",
            json!({"metadata": {"name": "b"}, "spec": {"minAvailable": 1}}),
            false,
            |o| Ok(o.clone()),
        )
        .unwrap();
    assert_eq!(pdb["metadata"]["generation"], 1);
    let relabelled = s
        .update(&pdbs, "agents", "b", Part::Main, false, |o| {
            let mut n = o.clone();
            n["metadata"]["labels"] = json!({"a": "b"});
            Ok(n)
        })
        .unwrap();
    assert_eq!(relabelled["metadata"]["generation"], 1);
    let respecced = s
        .update(&pdbs, "agents", "b", Part::Main, false, |o| {
            let mut n = o.clone();
            n["spec"]["minAvailable"] = json!(2);
            Ok(n)
        })
        .unwrap();
    assert_eq!(respecced["metadata"]["generation"], 2);
    // Stale resourceVersion: conflict.
    let err = s
        .update(&cms, "agents", &name, Part::Main, false, |old| {
            let mut n = old.clone();
            n["metadata"]["resourceVersion"] = rv.clone();
            n["data"]["a"] = json!("3");
            Ok(n)
        })
        .unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(err.reason(), "Conflict");
}

#[test]
fn finalizers_and_graceful_pods() {
    let (s, pods, cms) = setup();
    s.create(
        &cms,
        "agents",
        json!({"metadata": {"name": "f", "finalizers": ["x/y"]}}),
        false,
        |o| Ok(o.clone()),
    )
    .unwrap();
    let d = s
        .delete(&cms, "agents", "f", &DeleteOptions::default())
        .unwrap();
    assert!(matches!(d, Deleted::Pending(ref o) if o["metadata"]["deletionTimestamp"].is_string()));
    s.update(&cms, "agents", "f", Part::Main, false, |o| {
        let mut n = o.clone();
        n["metadata"]["finalizers"] = json!([]);
        Ok(n)
    })
    .unwrap();
    assert_eq!(s.get(&cms, "agents", "f").unwrap_err().code, 404);

    let mut p = pod("bound");
    p["spec"]["nodeName"] = json!("node-1");
    s.create(&pods, "agents", p, false, |o| Ok(o.clone()))
        .unwrap();
    let d = s
        .delete(&pods, "agents", "bound", &DeleteOptions::default())
        .unwrap();
    let Deleted::Pending(o) = d else {
        panic!("graceful")
    };
    assert_eq!(o["metadata"]["deletionGracePeriodSeconds"], 30);
    let d = s
        .delete(
            &pods,
            "agents",
            "bound",
            &DeleteOptions {
                grace_period: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(matches!(d, Deleted::Gone(_)));
    s.create(&pods, "agents", pod("unbound"), false, |o| Ok(o.clone()))
        .unwrap();
    assert!(matches!(
        s.delete(&pods, "agents", "unbound", &DeleteOptions::default())
            .unwrap(),
        Deleted::Gone(_)
    ));
}

#[test]
fn history_expires() {
    let (s, _, cms) = setup();
    let start = s.current_rv();
    assert!(s.changes_since(start).is_ok());
    for i in 0..150 {
        s.create(
            &cms,
            "agents",
            json!({"metadata": {"name": format!("c{i}")}}),
            false,
            |o| Ok(o.clone()),
        )
        .unwrap();
    }
    assert!(s.changes_since(start).is_err(), "older than the history");
    let (backlog, _) = s.changes_since(s.current_rv() - 5).unwrap();
    assert_eq!(backlog.len(), 5);
}

#[test]
fn replaced_versions_stay_in_the_history_as_json_only() {
    let (s, pods, _) = setup();
    let start = s.current_rv();
    s.create(&pods, "agents", pod("p"), false, |o| Ok(o.clone()))
        .unwrap();
    for phase in ["Pending", "Running"] {
        s.update(&pods, "agents", "p", Part::Status, false, |o| {
            let mut n = o.clone();
            n["status"] = json!({"phase": phase});
            Ok(n)
        })
        .unwrap();
    }
    let (backlog, _) = s.changes_since(start).unwrap();
    assert_eq!(backlog.len(), 3);
    let kept: Vec<bool> = backlog.iter().map(|c| !c.is_compact()).collect();
    assert_eq!(
        kept,
        [false, false, true],
        "only the current version keeps its tree"
    );
    // A compacted version reads back as it was.
    assert!(backlog[0].object()["status"].is_null());
    assert_eq!(backlog[1].object()["status"]["phase"], "Pending");
    assert_eq!(backlog[2].object()["status"]["phase"], "Running");
    assert_eq!(
        backlog[1].object()["metadata"]["resourceVersion"],
        backlog[1].rv.to_string()
    );
    assert_eq!(
        (backlog[1].namespace.as_str(), backlog[1].name.as_str()),
        ("agents", "p")
    );
    s.delete(&pods, "agents", "p", &DeleteOptions::default())
        .unwrap();
    let (backlog, _) = s.changes_since(start).unwrap();
    assert!(
        backlog[2].is_compact(),
        "deleted: the last version is history too"
    );
    assert_eq!(backlog[3].kind, EventType::Deleted);
}

#[test]
fn status_subresource_separates_writes() {
    let (s, pods, _) = setup();
    s.create(&pods, "agents", pod("p"), false, |o| Ok(o.clone()))
        .unwrap();
    let o = s
        .update(&pods, "agents", "p", Part::Status, false, |o| {
            let mut n = o.clone();
            n["status"] = json!({"phase": "Running"});
            n["spec"]["containers"][0]["image"] = json!("ignored");
            Ok(n)
        })
        .unwrap();
    assert_eq!(o["status"]["phase"], "Running");
    assert_eq!(o["spec"]["containers"][0]["image"], "i");
    let o = s
        .update(&pods, "agents", "p", Part::Main, false, |o| {
            let mut n = o.clone();
            n["status"] = json!({"phase": "Failed"});
            Ok(n)
        })
        .unwrap();
    assert_eq!(o["status"]["phase"], "Running", "main writes keep status");
}
