//! Server-side apply and managedFields compared with what kube-apiserver 1.32 records.

use super::*;

const T1: &str = "2025-01-01T00:00:00Z";
const T2: &str = "2025-01-01T00:01:00Z";
const T3: &str = "2025-01-01T00:02:00Z";

fn deployment(replicas: u64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "agent", "namespace": "default", "labels": {"app": "agent"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": image}]}
            }
        }
    })
}

/// What the store adds on create.
fn stored(mut obj: Value) -> Value {
    obj["metadata"]["uid"] = json!("u-1");
    obj["metadata"]["resourceVersion"] = json!("1");
    obj["metadata"]["creationTimestamp"] = json!(T1);
    obj
}

fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

#[test]
fn create_via_apply() {
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
        "data": {"key": "some value"},
        "status": {"ignored": true}
    });
    let out = apply(None, &cm, "kubectl", false, T1).unwrap();
    assert_eq!(
        out,
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "test-cm", "namespace": "default", "labels": {"test-label": "test"},
                "managedFields": [{
                    "manager": "kubectl",
                    "operation": "Apply",
                    "apiVersion": "v1",
                    "time": T1,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:data": {"f:key": {}},
                        "f:metadata": {"f:labels": {"f:test-label": {}}}
                    }
                }]
            },
            "data": {"key": "some value"}
        })
    );
}

#[test]
fn managed_fields_encoding_keyed_list_and_set() {
    let cfg = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "finalizers": ["a/b"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"spec": {"containers": [{
                "name": "agent", "image": "i:1", "args": ["--x"], "resources": {},
                "ports": [{"containerPort": 9090}]
            }]}}
        }
    });
    let out = apply(None, &cfg, "fleetctl", false, T1).unwrap();
    assert_eq!(
        out["metadata"]["managedFields"][0]["fieldsV1"],
        json!({
            "f:metadata": {"f:finalizers": {"v:\"a/b\"": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"agent\"}": {
                        ".": {},
                        "f:args": {},
                        "f:image": {},
                        "f:name": {},
                        "f:ports": {"k:{\"containerPort\":9090}": {".": {}, "f:containerPort": {}}},
                        "f:resources": {}
                    }
                }}}
            }
        })
    );
}

#[test]
fn reapply_unchanged_is_identical() {
    let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
    let again = apply(Some(&live), &deployment(1, "a:1"), "kubectl", false, T2).unwrap();
    assert_eq!(again, live);
    let third = apply(Some(&again), &deployment(1, "a:1"), "kubectl", false, T3).unwrap();
    assert_eq!(third, live);
}

#[test]
fn apply_change_updates_time() {
    let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
    let out = apply(Some(&live), &deployment(2, "a:1"), "kubectl", false, T2).unwrap();
    assert_eq!(out["spec"]["replicas"], 2);
    assert_eq!(out["metadata"]["uid"], "u-1");
    assert_eq!(out["metadata"]["resourceVersion"], "1");
    assert_eq!(entry(&out, "kubectl", "Apply").unwrap()["time"], T2);
}

#[test]
fn apply_removing_a_field_drops_it() {
    let mut cfg = deployment(1, "a:1");
    cfg["metadata"]["labels"]["tier"] = json!("x");
    cfg["spec"]["paused"] = json!(false);
    let live = stored(apply(None, &cfg, "kubectl", false, T1).unwrap());
    assert_eq!(live["spec"]["paused"], false);

    let out = apply(Some(&live), &deployment(1, "a:1"), "kubectl", false, T2).unwrap();
    assert!(out["spec"].get("paused").is_none());
    assert_eq!(out["metadata"]["labels"], json!({"app": "agent"}));
    let fields = &entry(&out, "kubectl", "Apply").unwrap()["fieldsV1"];
    assert!(fields["f:spec"].get("f:paused").is_none());
    assert!(fields["f:metadata"]["f:labels"].get("f:tier").is_none());
}

#[test]
fn dropped_field_owned_by_another_manager_stays() {
    let mut cfg = deployment(1, "a:1");
    cfg["spec"]["paused"] = json!(true);
    let live = stored(apply(None, &cfg, "kubectl", false, T1).unwrap());
    // another applier shares `paused` (same value)
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "agent"}, "spec": {"paused": true}});
    let live = apply(Some(&live), &other, "ops", false, T2).unwrap();
    let out = apply(Some(&live), &deployment(1, "a:1"), "kubectl", false, T3).unwrap();
    assert_eq!(out["spec"]["paused"], true);
    assert!(
        entry(&out, "kubectl", "Apply").unwrap()["fieldsV1"]["f:spec"]
            .get("f:paused")
            .is_none()
    );
    assert!(
        entry(&out, "ops", "Apply").unwrap()["fieldsV1"]["f:spec"]
            .get("f:paused")
            .is_some()
    );
}

#[test]
fn conflict_with_another_applier() {
    let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
    let other = deployment(5, "a:2");
    let err = apply(Some(&live), &other, "ops", false, T2).unwrap_err();
    assert_eq!(
        err,
        vec![
            Conflict {
                manager: "kubectl".into(),
                field: ".spec.replicas".into(),
                api_version: None
            },
            Conflict {
                manager: "kubectl".into(),
                field: ".spec.template.spec.containers[name=\"agent\"].image".into(),
                api_version: None
            },
        ]
    );
    assert_eq!(
        conflict_message(&err),
        "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"agent\"].image"
    );
    assert_eq!(
        conflict_message(&err[..1]),
        "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
    );
}

#[test]
fn conflict_message_several_owners() {
    let c = |m: &str, f: &str, v: Option<&str>| Conflict {
        manager: m.into(),
        field: f.into(),
        api_version: v.map(Into::into),
    };
    assert_eq!(
        conflict_message(&[
            c("a", ".spec.x", None),
            c("a", ".spec.y", None),
            c("b", ".spec.z", Some("batch/v1")),
        ]),
        "Apply failed with 3 conflicts: conflicts with \"a\":\n- .spec.x\n- .spec.y\nconflicts with \"b\" using batch/v1:\n- .spec.z"
    );
}

#[test]
fn force_takes_ownership() {
    let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "agent"}, "spec": {"replicas": 7}});
    let out = apply(Some(&live), &other, "keda", true, T2).unwrap();
    assert_eq!(out["spec"]["replicas"], 7);
    assert_eq!(
        entry(&out, "keda", "Apply").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    let kubectl = &entry(&out, "kubectl", "Apply").unwrap()["fieldsV1"];
    assert!(kubectl["f:spec"].get("f:replicas").is_none());
    assert!(kubectl["f:spec"].get("f:template").is_some());
    // kubectl re-applying its old value now conflicts with keda
    let err = apply(Some(&out), &deployment(1, "a:1"), "kubectl", false, T3).unwrap_err();
    assert_eq!(
        conflict_message(&err),
        "Apply failed with 1 conflict: conflict with \"keda\": .spec.replicas"
    );
    // Apply entries sort before Update entries; Apply entries by time.
    let managers: Vec<&str> = out["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["kubectl", "keda"]);
}

#[test]
fn shared_ownership_on_equal_value() {
    let live = stored(apply(None, &deployment(3, "a:1"), "kubectl", false, T1).unwrap());
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "agent"}, "spec": {"replicas": 3}});
    let out = apply(Some(&live), &other, "ops", false, T2).unwrap();
    assert!(
        entry(&out, "kubectl", "Apply").unwrap()["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_some()
    );
    assert!(
        entry(&out, "ops", "Apply").unwrap()["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_some()
    );
    // Either owner changing it now conflicts with the other.
    let err = apply(Some(&out), &deployment(4, "a:1"), "kubectl", false, T3).unwrap_err();
    assert_eq!(err[0].manager, "ops");
    assert_eq!(err[0].field, ".spec.replicas");
    // The object did not change, so the existing kubectl entry keeps its time.
    assert_eq!(entry(&out, "kubectl", "Apply").unwrap()["time"], T1);
}

fn client_side_created(replicas: u64) -> Value {
    let mut obj = deployment(replicas, "a:1");
    let annotation = format!("{}\n", deployment(replicas, "a:1"));
    obj["metadata"]["annotations"] = json!({ LAST_APPLIED: annotation });
    let mut obj = stored(obj);
    record_update(None, &mut obj, "kubectl-client-side-apply", T1);
    obj
}

#[test]
fn client_side_apply_then_server_side_apply_conflicts() {
    let live = client_side_created(1);
    let e = entry(&live, "kubectl-client-side-apply", "Update").unwrap();
    assert!(e["fieldsV1"]["f:spec"].get("f:replicas").is_some());

    let err = apply(Some(&live), &deployment(3, "a:1"), "fleetctl", false, T2).unwrap_err();
    assert_eq!(
        err,
        vec![Conflict {
            manager: "kubectl-client-side-apply".into(),
            field: ".spec.replicas".into(),
            api_version: Some("apps/v1".into()),
        }]
    );
    assert_eq!(
        conflict_message(&err),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    // The same value is not a conflict.
    assert!(apply(Some(&live), &deployment(1, "a:1"), "fleetctl", false, T2).is_ok());

    // Without the last-applied annotation, even the kubectl manager conflicts.
    let mut bare = live.clone();
    bare["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    let err = apply(Some(&bare), &deployment(3, "a:1"), "kubectl", false, T2).unwrap_err();
    assert_eq!(err[0].manager, "kubectl-client-side-apply");
}

#[test]
fn kubectl_server_side_apply_upgrades_from_client_side_apply() {
    let live = client_side_created(1);
    let out = apply(Some(&live), &deployment(3, "a:1"), "kubectl", false, T2).unwrap();
    assert_eq!(out["spec"]["replicas"], 3);
    let csa = entry(&out, "kubectl-client-side-apply", "Update").unwrap();
    assert!(csa["fieldsV1"]["f:spec"].get("f:replicas").is_none());
    // The annotation now records the server-side applied configuration.
    let annotation = out["metadata"]["annotations"][LAST_APPLIED]
        .as_str()
        .unwrap();
    assert_eq!(annotation, format!("{}\n", deployment(3, "a:1")));

    // A field changed since the client-side apply (e.g. by `kubectl scale`) still conflicts.
    let mut scaled = live.clone();
    scaled["spec"]["replicas"] = json!(5);
    record_update(Some(&live), &mut scaled, "kubectl-scale", T2);
    let err = apply(Some(&scaled), &deployment(3, "a:1"), "kubectl", false, T3).unwrap_err();
    assert_eq!(err[0].manager, "kubectl-scale");
}

#[test]
fn keyed_lists_merge_and_own_per_item() {
    let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
    let sidecar = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agent"},
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "s:1"}]}}}
    });
    let out = apply(Some(&live), &sidecar, "injector", false, T2).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "agent", "image": "a:1"}, {"name": "sidecar", "image": "s:1"}])
    );
    assert_eq!(
        entry(&out, "injector", "Apply").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}}
        }}}}})
    );
    // kubectl re-applies its config (without the sidecar): the sidecar stays.
    let again = apply(Some(&out), &deployment(1, "a:2"), "kubectl", false, T3).unwrap();
    assert_eq!(
        again["spec"]["template"]["spec"]["containers"],
        json!([{"name": "agent", "image": "a:2"}, {"name": "sidecar", "image": "s:1"}])
    );
    // The injector drops its container: it goes.
    let only_meta =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agent"}});
    let dropped = apply(Some(&again), &only_meta, "injector", false, T3).unwrap();
    assert_eq!(
        dropped["spec"]["template"]["spec"]["containers"],
        json!([{"name": "agent", "image": "a:2"}])
    );
    assert!(entry(&dropped, "injector", "Apply").is_none());
}

#[test]
fn keyed_list_item_fields_owned_by_others_survive_pruning() {
    let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
    let mut patched = live.clone();
    patched["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("Always");
    record_update(Some(&live), &mut patched, "editor", T2);
    // kubectl drops the container: its own fields go, the editor's field keeps the item.
    let mut cfg = deployment(1, "a:1");
    cfg["spec"]["template"]["spec"]["containers"] = json!([{"name": "other", "image": "o:1"}]);
    let out = apply(Some(&patched), &cfg, "kubectl", false, T3).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "agent", "imagePullPolicy": "Always"}, {"name": "other", "image": "o:1"}])
    );
}

#[test]
fn merge_order_follows_structured_merge_diff() {
    let kind = ListKind::Keyed("name");
    let order = |live: &[&str], config: &[&str]| -> Vec<String> {
        let items =
            |names: &[&str]| -> Vec<Value> { names.iter().map(|n| json!({"name": n})).collect() };
        merge_list_items(&items(live), &items(config), kind)
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(order(&["a", "b", "c"], &["b", "d"]), ["a", "b", "c", "d"]);
    assert_eq!(order(&["a", "b"], &["b", "a"]), ["b", "a"]);
    assert_eq!(order(&["a", "b", "c"], &["c", "a"]), ["b", "c", "a"]);
    assert_eq!(order(&[], &["x", "y"]), ["x", "y"]);
}

#[test]
fn record_update_on_create_and_patch() {
    let mut job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "j", "namespace": "default", "uid": "u", "resourceVersion": "5",
            "labels": {"app": "x"}},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}],
            "restartPolicy": "Never"}}},
        "status": {"active": 1}
    });
    record_update(None, &mut job, "keda", T1);
    assert_eq!(
        job["metadata"]["managedFields"],
        json!([{
            "manager": "keda", "operation": "Update", "apiVersion": "batch/v1", "time": T1,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {"f:template": {"f:spec": {
                    "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}},
                    "f:restartPolicy": {}
                }}}
            }
        }])
    );

    // A patch by another manager takes the changed field silently.
    let old = job.clone();
    let mut new = job.clone();
    new["metadata"]["labels"]["app"] = json!("y");
    new["metadata"]["finalizers"] = json!(["batch.kubernetes.io/job-tracking"]);
    new["status"]["active"] = json!(2);
    record_update(Some(&old), &mut new, "kube-controller-manager", T2);
    let kcm = entry(&new, "kube-controller-manager", "Update").unwrap();
    assert_eq!(
        kcm["fieldsV1"],
        json!({"f:metadata": {
            "f:finalizers": {".": {}, "v:\"batch.kubernetes.io/job-tracking\"": {}},
            "f:labels": {"f:app": {}}
        }})
    );
    let keda = entry(&new, "keda", "Update").unwrap();
    // keda keeps the labels map node itself: a member leaf encodes as `{}`.
    assert_eq!(keda["fieldsV1"]["f:metadata"], json!({"f:labels": {}}));
    assert_eq!(keda["time"], T1);

    // No change: nothing recorded, entries untouched.
    let mut same = new.clone();
    record_update(Some(&new), &mut same, "someone", T3);
    assert_eq!(same, new);

    // Removing a field removes it from its owner; an emptied entry disappears.
    let mut removed = new.clone();
    removed["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("finalizers");
    removed["metadata"]["labels"]["app"] = json!("x");
    record_update(Some(&new), &mut removed, "keda", T3);
    assert!(entry(&removed, "kube-controller-manager", "Update").is_none());
    assert_eq!(entry(&removed, "keda", "Update").unwrap()["time"], T3);
}

#[test]
fn record_update_custom_resource_marks_spec() {
    let mut sj = json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob",
        "metadata": {"name": "s"}, "spec": {"pollingInterval": 5}
    });
    record_update(None, &mut sj, "kubectl-create", T1);
    assert_eq!(
        sj["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:spec": {".": {}, "f:pollingInterval": {}}})
    );
}

#[test]
fn record_update_managed_fields_from_request() {
    let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
    // PUT without managedFields keeps the stored ones.
    let mut put = live.clone();
    put["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    record_update(Some(&live), &mut put, "editor", T2);
    assert_eq!(
        put["metadata"]["managedFields"],
        live["metadata"]["managedFields"]
    );
    // `[{}]` resets them; the writer owns only what it changed.
    let mut reset = live.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    record_update(Some(&live), &mut reset, "editor", T2);
    assert!(reset["metadata"].get("managedFields").is_none());
    let mut reset = live.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    reset["spec"]["replicas"] = json!(2);
    record_update(Some(&live), &mut reset, "editor", T2);
    assert_eq!(
        reset["metadata"]["managedFields"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        entry(&reset, "editor", "Update").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
}

#[test]
fn update_then_apply_of_different_value_conflicts() {
    let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
    let mut scaled = live.clone();
    scaled["spec"]["replicas"] = json!(4);
    record_update(Some(&live), &mut scaled, "keda-operator", T2);
    assert!(
        entry(&scaled, "kubectl", "Apply").unwrap()["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    let err = apply(Some(&scaled), &deployment(1, "a:1"), "kubectl", false, T3).unwrap_err();
    assert_eq!(
        conflict_message(&err),
        "Apply failed with 1 conflict: conflict with \"keda-operator\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn ignored_fields_in_applied_config() {
    let mut cfg = deployment(1, "a:1");
    cfg["metadata"]["resourceVersion"] = json!("999");
    cfg["metadata"]["uid"] = json!("other");
    cfg["metadata"]["managedFields"] = json!([{"manager": "x", "operation": "Update"}]);
    cfg["metadata"]["creationTimestamp"] = Value::Null;
    cfg["status"] = json!({"replicas": 9});
    let mut live = stored(deployment(1, "a:1"));
    live["status"] = json!({"replicas": 1});
    let out = apply(Some(&live), &cfg, "kubectl", false, T2).unwrap();
    assert_eq!(out["metadata"]["resourceVersion"], "1");
    assert_eq!(out["metadata"]["uid"], "u-1");
    assert_eq!(out["metadata"]["creationTimestamp"], T1);
    assert_eq!(out["status"], json!({"replicas": 1}));
    let fields = &out["metadata"]["managedFields"];
    assert_eq!(fields.as_array().unwrap().len(), 1);
    assert_eq!(fields[0]["manager"], "kubectl");
    assert!(fields[0]["fieldsV1"].get("f:status").is_none());
    assert!(fields[0]["fieldsV1"]["f:metadata"].get("f:name").is_none());
}

#[test]
fn custom_resource_lists_are_atomic() {
    let sj = |queue: &str| {
        json!({
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob",
            "metadata": {"name": "agents", "namespace": "default"},
            "spec": {"pollingInterval": 5, "triggers": [
                {"type": "rabbitmq", "metadata": {"queueName": queue}}
            ]}
        })
    };
    let live = stored(apply(None, &sj("q1"), "kubectl", false, T1).unwrap());
    assert_eq!(
        live["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:spec": {"f:pollingInterval": {}, "f:triggers": {}}})
    );
    let err = apply(Some(&live), &sj("q2"), "other", false, T2).unwrap_err();
    assert_eq!(err[0].field, ".spec.triggers");
    let out = apply(Some(&live), &sj("q2"), "kubectl", false, T2).unwrap();
    assert_eq!(out["spec"]["triggers"][0]["metadata"]["queueName"], "q2");
}

#[test]
fn display_paths() {
    assert_eq!(
        display_path(&[
            "f:spec".into(),
            "k:{\"containerPort\":80}".into(),
            "f:x".into(),
            "v:\"a\"".into()
        ]),
        ".spec[containerPort=80].x[=\"a\"]"
    );
}
