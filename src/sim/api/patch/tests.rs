use super::*;
use serde_json::json;

// ---- merge patch ----

#[test]
fn merge_patch_rfc7386_examples() {
    let cases = [
        (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
        (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
        (json!({"a":"b"}), json!({"a":null}), json!({})),
        (
            json!({"a":"b","b":"c"}),
            json!({"a":null}),
            json!({"b":"c"}),
        ),
        (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
        (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
        (
            json!({"a":{"b":"c"}}),
            json!({"a":{"b":"d","c":null}}),
            json!({"a":{"b":"d"}}),
        ),
        (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
        (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
        (json!({"a":"b"}), json!(["c"]), json!(["c"])),
        (json!({"a":"foo"}), json!(null), json!(null)),
        (json!({"a":"foo"}), json!("bar"), json!("bar")),
        (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
        (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
        (
            json!({}),
            json!({"a":{"bb":{"ccc":null}}}),
            json!({"a":{"bb":{}}}),
        ),
    ];
    for (target, patch, want) in cases {
        assert_eq!(merge_patch(&target, &patch), want, "{target} + {patch}");
    }
}

// ---- JSON patch ----

#[test]
fn json_patch_operations() {
    let doc =
        json!({"spec":{"replicas":1,"list":["a","b"]},"metadata":{"labels":{"a/b":"x","m~n":"y"}}});
    let ops = json!([
        {"op":"test","path":"/spec/replicas","value":1.0},
        {"op":"replace","path":"/spec/replicas","value":3},
        {"op":"add","path":"/spec/list/-","value":"c"},
        {"op":"add","path":"/spec/list/0","value":"z"},
        {"op":"remove","path":"/spec/list/1"},
        {"op":"copy","from":"/metadata/labels/a~1b","path":"/spec/copied"},
        {"op":"move","from":"/metadata/labels/m~0n","path":"/spec/moved"},
        {"op":"add","path":"/metadata/annotations","value":{"k":"v"}},
    ]);
    let out = json_patch(&doc, &ops).unwrap();
    assert_eq!(
        out,
        json!({
            "spec":{"replicas":3,"list":["z","b","c"],"copied":"x","moved":"y"},
            "metadata":{"labels":{"a/b":"x"},"annotations":{"k":"v"}}
        })
    );
    // add at "" replaces the whole document
    assert_eq!(
        json_patch(&doc, &json!([{"op":"add","path":"","value":{"x":1}}])).unwrap(),
        json!({"x":1})
    );
}

#[test]
fn json_patch_errors() {
    let doc = json!({"spec":{"replicas":1,"list":["a"]}});
    let unprocessable = |ops: Value| {
        assert!(
            matches!(json_patch(&doc, &ops), Err(PatchError::Unprocessable(_))),
            "{ops}"
        )
    };
    let bad = |ops: Value| {
        assert!(
            matches!(json_patch(&doc, &ops), Err(PatchError::BadRequest(_))),
            "{ops}"
        )
    };
    unprocessable(json!([{"op":"test","path":"/spec/replicas","value":2}]));
    unprocessable(json!([{"op":"remove","path":"/spec/missing"}]));
    unprocessable(json!([{"op":"replace","path":"/spec/missing","value":1}]));
    unprocessable(json!([{"op":"add","path":"/nope/x","value":1}]));
    unprocessable(json!([{"op":"add","path":"/spec/list/5","value":1}]));
    unprocessable(json!([{"op":"add","path":"/spec/list/01","value":1}]));
    unprocessable(json!([{"op":"move","from":"/spec","path":"/spec/inner"}]));
    bad(json!({"op":"add"}));
    bad(json!([{"op":"frobnicate","path":"/x"}]));
    bad(json!([{"path":"/x"}]));
    bad(json!([{"op":"add","path":"x","value":1}]));
    bad(json!([{"op":"add","path":"/x"}]));
    bad(json!([{"op":"add","path":"/a~2b","value":1}]));
    // A failed op leaves no partial result: the input is untouched.
    assert_eq!(doc, json!({"spec":{"replicas":1,"list":["a"]}}));
}

// ---- strategic merge patch ----

fn smp(target: Value, patch: Value) -> Value {
    strategic_merge_patch(&target, &patch).unwrap()
}

#[test]
fn smp_maps_and_null() {
    assert_eq!(
        smp(
            json!({"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"replicas":1}}),
            json!({"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"replicas":2}})
        ),
        json!({"metadata":{"labels":{"b":"2","c":"3"}},"spec":{"replicas":2}})
    );
    assert!(matches!(
        strategic_merge_patch(&json!({}), &json!([1])),
        Err(PatchError::BadRequest(_))
    ));
}

#[test]
fn smp_containers_merge_by_name() {
    let target = json!({"spec":{"containers":[
        {"name":"agent","image":"a:1","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]},
        {"name":"sidecar","image":"s:1"}
    ]}});
    let patch = json!({"spec":{"containers":[
        {"name":"agent","image":"a:2","env":[{"name":"Y","value":"3"},{"name":"Z","value":"4"}]},
        {"name":"new","image":"n:1","args":null}
    ]}});
    assert_eq!(
        smp(target, patch),
        json!({"spec":{"containers":[
            {"name":"agent","image":"a:2","env":[
                {"name":"X","value":"1"},{"name":"Y","value":"3"},{"name":"Z","value":"4"}]},
            {"name":"sidecar","image":"s:1"},
            {"name":"new","image":"n:1"}
        ]}})
    );
}

#[test]
fn smp_list_without_merge_key_is_replaced() {
    assert_eq!(
        smp(
            json!({"spec":{"containers":[{"name":"a","args":["x","y"]}],"tolerations":[{"key":"k"}]}}),
            json!({"spec":{"containers":[{"name":"a","args":["z"]}],"tolerations":[]}})
        ),
        json!({"spec":{"containers":[{"name":"a","args":["z"]}],"tolerations":[]}})
    );
}

#[test]
fn smp_patch_directives_in_lists_and_maps() {
    let target = json!({"spec":{
        "containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}],
        "volumes":[{"name":"v1"},{"name":"v2"}],
        "nodeSelector":{"x":"1","y":"2"},
        "affinity":{"nodeAffinity":{"k":"v"}}
    }});
    let patch = json!({"spec":{
        "containers":[{"$patch":"delete","name":"a"}],
        "volumes":[{"name":"v3"},{"$patch":"replace"}],
        "nodeSelector":{"$patch":"replace","z":"3"},
        "affinity":{"$patch":"delete"}
    }});
    assert_eq!(
        smp(target, patch),
        json!({"spec":{
            "containers":[{"name":"b","image":"2"}],
            "volumes":[{"name":"v3"}],
            "nodeSelector":{"z":"3"},
            "affinity":{}
        }})
    );
    // `$patch: merge` is the default and is dropped.
    assert_eq!(
        smp(
            json!({"spec":{"containers":[{"name":"a","image":"1"}]}}),
            json!({"spec":{"containers":[{"$patch":"merge","name":"a","image":"2"}]}})
        ),
        json!({"spec":{"containers":[{"name":"a","image":"2"}]}})
    );
    assert!(matches!(
        strategic_merge_patch(
            &json!({}),
            &json!({"spec":{"containers":[{"$patch":"delete","image":"x"}]}})
        ),
        Err(PatchError::Unprocessable(_))
    ));
    assert!(matches!(
        strategic_merge_patch(&json!({}), &json!({"spec":{"$patch":"explode"}})),
        Err(PatchError::BadRequest(_))
    ));
    assert!(matches!(
        strategic_merge_patch(&json!({}), &json!({"spec":{"containers":[{"image":"x"}]}})),
        Err(PatchError::Unprocessable(_))
    ));
}

#[test]
fn smp_directives_in_new_values_are_dropped() {
    assert_eq!(
        smp(
            json!({}),
            json!({"spec":{"template":{"$patch":"replace","spec":{
                "containers":[{"name":"a","$patch":"merge","env":[{"$patch":"delete","name":"X"}]}],
                "$setElementOrder/containers":[{"name":"a"}],
                "gone":null
            }}}})
        ),
        json!({"spec":{"template":{"spec":{"containers":[{"name":"a","env":[]}]}}}})
    );
}

#[test]
fn smp_job_controller_removes_finalizer() {
    let job =
        json!({"metadata":{"name":"j","finalizers":["batch.kubernetes.io/job-tracking","other"]}});
    let patch = json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["batch.kubernetes.io/job-tracking"]}});
    assert_eq!(
        smp(job, patch.clone()),
        json!({"metadata":{"name":"j","finalizers":["other"]}})
    );
    // Removing the last finalizer drops the (omitempty) field.
    let pod = json!({"metadata":{"name":"p","finalizers":["batch.kubernetes.io/job-tracking"]}});
    assert_eq!(smp(pod, patch.clone()), json!({"metadata":{"name":"p"}}));
    // Nothing to delete from: no-op, and the directive never appears.
    assert_eq!(
        smp(json!({"metadata":{"name":"p"}}), patch),
        json!({"metadata":{"name":"p"}})
    );
}

#[test]
fn smp_finalizers_merge_as_set() {
    assert_eq!(
        smp(
            json!({"metadata":{"finalizers":["a","b"]}}),
            json!({"metadata":{"finalizers":["c","a","c"]}})
        ),
        json!({"metadata":{"finalizers":["a","b","c"]}})
    );
}

#[test]
fn smp_retain_keys() {
    assert_eq!(
        smp(
            json!({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}),
            json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})
        ),
        json!({"spec":{"strategy":{"type":"Recreate"}}})
    );
    assert!(matches!(
        strategic_merge_patch(&json!({}), &json!({"spec":{"$retainKeys":["a"],"b":1}})),
        Err(PatchError::Unprocessable(_))
    ));
}

#[test]
fn smp_set_element_order() {
    let target = json!({"spec":{"containers":[
        {"name":"a","image":"1"},{"name":"b","image":"2"},{"name":"c","image":"3"}
    ]}});
    let patch = json!({"spec":{
        "$setElementOrder/containers":[{"name":"c"},{"name":"d"},{"name":"a"},{"name":"b"}],
        "containers":[{"name":"d","image":"4"}]
    }});
    let out = smp(target.clone(), patch);
    let names: Vec<&str> = out["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c", "d", "a", "b"]);
    assert!(out["spec"].get("$setElementOrder/containers").is_none());

    // Without it: target order kept, new items appended.
    let out = smp(
        target.clone(),
        json!({"spec":{"containers":[{"name":"d"},{"name":"a","image":"9"}]}}),
    );
    let names: Vec<&str> = out["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    assert_eq!(out["spec"]["containers"][0]["image"], "9");

    // Order only, partial: server-only items keep their relative position.
    let out = smp(
        target,
        json!({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"}]}}),
    );
    let names: Vec<&str> = out["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b", "c", "a"]);

    // Primitive lists.
    assert_eq!(
        smp(
            json!({"metadata":{"finalizers":["x","y"]}}),
            json!({"metadata":{"$setElementOrder/finalizers":["z","y","x"],"finalizers":["z"]}})
        ),
        json!({"metadata":{"finalizers":["z","y","x"]}})
    );
}

#[test]
fn smp_conditions_by_type_and_ports() {
    assert_eq!(
        smp(
            json!({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Other","status":"True"}]}}),
            json!({"status":{"conditions":[{"type":"Ready","status":"True"}]}})
        ),
        json!({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Other","status":"True"}]}})
    );
    assert_eq!(
        smp(
            json!({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}}),
            json!({"spec":{"ports":[{"port":80,"targetPort":9090}]}})
        ),
        json!({"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}})
    );
    assert_eq!(
        merge_key("ports", &json!({"containerPort":80})),
        Some(MergeKey::Field("containerPort"))
    );
    assert_eq!(
        merge_key("ports", &json!({"port":80})),
        Some(MergeKey::Field("port"))
    );
    assert_eq!(
        merge_key("volumeMounts", &Value::Null),
        Some(MergeKey::Field("mountPath"))
    );
    assert_eq!(
        merge_key("finalizers", &Value::Null),
        Some(MergeKey::PrimitiveSet)
    );
    assert_eq!(merge_key("args", &Value::Null), None);
}

#[test]
fn smp_type_mismatch_takes_patch() {
    assert_eq!(
        smp(
            json!({"a":"x","b":{"c":1}}),
            json!({"a":{"k":null,"j":1},"b":"s"})
        ),
        json!({"a":{"j":1},"b":"s"})
    );
}

#[test]
fn bounded_json_patch_stops_doubling_and_deep_nesting() {
    let limits = PatchLimits {
        max_depth: 20,
        max_added_bytes: 10_000,
    };
    let doc = json!({"a": "x".repeat(100)});
    // Each copy doubles the object: the budget stops it long before memory does.
    let doubling: Vec<Value> = (0..40)
        .map(|i| json!({"op": "copy", "from": "", "path": format!("/c{i}")}))
        .collect();
    assert!(matches!(
        json_patch_bounded(&doc, &Value::Array(doubling), &limits),
        Err(PatchError::TooLarge(_))
    ));
    // Copying an object into its own child nests it one level deeper each time.
    let deeper: Vec<Value> = (0..40)
        .map(|_| json!({"op": "copy", "from": "", "path": "/a"}))
        .collect();
    assert!(matches!(
        json_patch_bounded(&doc, &Value::Array(deeper), &limits),
        Err(PatchError::Unprocessable(_))
    ));
    let too_many = Value::Array(vec![
        json!({"op": "test", "path": "", "value": doc});
        MAX_JSON_PATCH_OPS + 1
    ]);
    assert!(matches!(
        json_patch_bounded(&doc, &too_many, &limits),
        Err(PatchError::TooLarge(_))
    ));
    let fine = json!([{"op": "copy", "from": "/a", "path": "/b"}]);
    assert_eq!(
        json_patch_bounded(&doc, &fine, &limits).unwrap()["b"],
        doc["a"]
    );
}
