//! Validation tests: messages and causes compared with what kube-apiserver 1.32 answers.

use super::*;
use crate::sim::api::registry::Registry;

fn rt(api_version: &str, kind: &str) -> ResourceType {
    Registry::new(true)
        .find_kind(api_version, kind)
        .unwrap_or_else(|| panic!("no type {api_version} {kind}"))
        .clone()
}

fn job() -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "x", "namespace": "agents", "uid": "u1"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "a"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "agent", "image": "busybox"}]
                }
            }
        }
    })
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "agents"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}
    })
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "agents"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "a"}},
            "template": {
                "metadata": {"labels": {"app": "a"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }
    })
}

fn msg(rtype: &ResourceType, obj: &Value, causes: &[Cause]) -> String {
    invalid_message(rtype, str_at(&obj["metadata"], "name"), causes)
}

fn fields(causes: &[Cause]) -> Vec<&str> {
    causes.iter().map(|c| c.field.as_str()).collect()
}

#[test]
fn valid_objects_pass() {
    assert_eq!(validate_create(&rt("batch/v1", "Job"), &job()), vec![]);
    assert_eq!(validate_create(&rt("v1", "Pod"), &pod()), vec![]);
    assert_eq!(
        validate_create(&rt("apps/v1", "Deployment"), &deployment()),
        vec![]
    );
}

#[test]
fn job_restart_policy_always_and_missing() {
    let t = rt("batch/v1", "Job");
    let mut j = job();
    j["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    let c = validate_create(&t, &j);
    assert_eq!(
        c,
        vec![Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value: valid values: \"OnFailure\", \"Never\"".into(),
            field: "spec.template.spec.restartPolicy".into(),
        }]
    );
    assert_eq!(
        msg(&t, &j, &c),
        "Job.batch \"x\" is invalid: spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
    );
    j["spec"]["template"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("restartPolicy");
    assert_eq!(validate_create(&t, &j), c);
    j["spec"]["template"]["spec"]["restartPolicy"] = json!("Sometimes");
    let c = validate_create(&t, &j);
    assert_eq!(
        msg(&t, &j, &c),
        "Job.batch \"x\" is invalid: [spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\", spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"OnFailure\", \"Never\"]"
    );
    assert_eq!(c[0].reason, "FieldValueNotSupported");
    assert_eq!(c[1].reason, "FieldValueNotSupported");
}

#[test]
fn job_missing_containers_and_template() {
    let t = rt("batch/v1", "Job");
    let mut j = job();
    j["spec"]["template"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("containers");
    let c = validate_create(&t, &j);
    assert_eq!(
        msg(&t, &j, &c),
        "Job.batch \"x\" is invalid: spec.template.spec.containers: Required value"
    );
    j["spec"].as_object_mut().unwrap().remove("template");
    let c = validate_create(&t, &j);
    assert_eq!(
        fields(&c),
        vec![
            "spec.template.spec.containers",
            "spec.template.spec.restartPolicy"
        ]
    );
}

#[test]
fn pod_containers_rules() {
    let t = rt("v1", "Pod");
    let mut p = pod();
    p["spec"]["containers"] = json!([]);
    let c = validate_create(&t, &p);
    assert_eq!(
        msg(&t, &p, &c),
        "Pod \"p\" is invalid: spec.containers: Required value"
    );
    p["spec"]["containers"] = json!([
        {"name": "c", "image": "x", "ports": [{"containerPort": 70000}, {"containerPort": 80, "protocol": "HTTP"}]},
        {"name": "c", "image": ""},
        {"name": "Bad_C", "image": "y"}
    ]);
    p["spec"]["restartPolicy"] = json!("Sometimes");
    let c = validate_create(&t, &p);
    assert_eq!(
        fields(&c),
        vec![
            "spec.containers[0].ports[0].containerPort",
            "spec.containers[0].ports[1].protocol",
            "spec.containers[1].name",
            "spec.containers[1].image",
            "spec.containers[2].name",
            "spec.restartPolicy",
        ]
    );
    assert_eq!(
        c[0].message,
        "Invalid value: 70000: must be between 1 and 65535, inclusive"
    );
    assert_eq!(
        c[1].message,
        "Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""
    );
    assert_eq!(c[2].message, "Duplicate value: \"c\"");
    assert_eq!(c[2].reason, "FieldValueDuplicate");
    assert_eq!(c[3].message, "Required value");
    assert!(
        c[4].message
            .starts_with("Invalid value: \"Bad_C\": a lowercase RFC 1123 label must consist of")
    );
    assert_eq!(
        c[5].message,
        "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
    );
}

#[test]
fn pod_volume_mounts_must_name_volumes() {
    let t = rt("v1", "Pod");
    let mut p = pod();
    p["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "data", "mountPath": "/d"}]);
    let c = validate_create(&t, &p);
    assert_eq!(c[0].field, "spec.containers[0].volumeMounts[0].name");
    assert_eq!(c[0].message, "Not found: \"data\"");
    p["spec"]["volumes"] = json!([{"name": "data", "emptyDir": {}}]);
    assert_eq!(validate_create(&t, &p), vec![]);
}

#[test]
fn bad_names() {
    let t = rt("v1", "Pod");
    let mut p = pod();
    p["metadata"]["name"] = json!("Bad_Name");
    let c = validate_create(&t, &p);
    assert_eq!(
        msg(&t, &p, &c),
        "Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    );
    p["metadata"]["name"] = json!("a".repeat(254));
    let c = validate_create(&t, &p);
    assert_eq!(c.len(), 1);
    assert!(
        c[0].message
            .ends_with(": must be no more than 253 characters")
    );

    // Missing name.
    p["metadata"].as_object_mut().unwrap().remove("name");
    let c = validate_create(&t, &p);
    assert_eq!(
        msg(&t, &p, &c),
        "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required"
    );

    // Namespaces are labels: no dots.
    let ns = rt("v1", "Namespace");
    let n = json!({"metadata": {"name": "a.b"}});
    let c = validate_create(&ns, &n);
    assert_eq!(
        msg(&ns, &n, &c),
        "Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots"
    );
    let n = json!({"metadata": {"name": "Agents"}});
    let c = validate_create(&ns, &n);
    assert_eq!(
        c[0].message,
        "Invalid value: \"Agents\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    );

    // Services are DNS-1035 labels.
    let svc = rt("v1", "Service");
    let s = json!({"metadata": {"name": "1svc", "namespace": "agents"},
                   "spec": {"ports": [{"port": 80}]}});
    let c = validate_create(&svc, &s);
    assert_eq!(fields(&c), vec!["metadata.name"]);
    assert!(c[0].message.contains("a DNS-1035 label must consist of"));

    // A namespaced object in a bad namespace.
    let mut p = pod();
    p["metadata"]["namespace"] = json!("Bad");
    assert_eq!(fields(&validate_create(&t, &p)), vec!["metadata.namespace"]);

    // generateName prefixes may end in '-'.
    let mut p = pod();
    p["metadata"]["generateName"] = json!("agent-");
    assert_eq!(validate_create(&t, &p), vec![]);
}

#[test]
fn job_names_must_fit_a_label_value() {
    let t = rt("batch/v1", "Job");
    let mut j = job();
    let long = "a".repeat(64);
    j["metadata"]["name"] = json!(long);
    let c = validate_create(&t, &j);
    assert_eq!(
        fields(&c),
        vec!["spec.template.labels", "spec.template.labels"]
    );
    assert_eq!(
        msg(&t, &j, &c),
        format!(
            "Job.batch \"{long}\" is invalid: spec.template.labels: Invalid value: \"{long}\": must be no more than 63 characters"
        )
    );
    // 63 is fine.
    j["metadata"]["name"] = json!("a".repeat(63));
    assert_eq!(validate_create(&t, &j), vec![]);
}

#[test]
fn job_numbers_and_modes() {
    let t = rt("batch/v1", "Job");
    let mut j = job();
    j["spec"]["parallelism"] = json!(-1);
    j["spec"]["backoffLimit"] = json!(-2);
    j["spec"]["completionMode"] = json!("Indexed");
    let c = validate_create(&t, &j);
    assert_eq!(
        msg(&t, &j, &c),
        "Job.batch \"x\" is invalid: [spec.parallelism: Invalid value: -1: must be greater than or equal to 0, spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0, spec.completions: Required value: when completion mode is Indexed]"
    );
    let mut j = job();
    j["spec"]["completionMode"] = json!("Sometimes");
    j["spec"]["backoffLimitPerIndex"] = json!(1);
    let c = validate_create(&t, &j);
    assert_eq!(
        c[0].message,
        "Unsupported value: \"Sometimes\": supported values: \"NonIndexed\", \"Indexed\""
    );
    let mut j = job();
    j["spec"]["backoffLimitPerIndex"] = json!(1);
    let c = validate_create(&t, &j);
    assert_eq!(
        msg(&t, &j, &c),
        "Job.batch \"x\" is invalid: spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"
    );
    j["spec"]["completionMode"] = json!("Indexed");
    j["spec"]["completions"] = json!(3);
    assert_eq!(validate_create(&t, &j), vec![]);
}

#[test]
fn job_pod_failure_policy_needs_never() {
    let t = rt("batch/v1", "Job");
    let mut j = job();
    j["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
    j["spec"]["podFailurePolicy"] = json!({"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "agent", "operator": "In", "values": [2]}}
    ]});
    let c = validate_create(&t, &j);
    assert_eq!(
        msg(&t, &j, &c),
        "Job.batch \"x\" is invalid: spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified"
    );
    j["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    assert_eq!(validate_create(&t, &j), vec![]);
    j["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["containerName"] = json!("nope");
    j["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] = json!([3, 0, 3]);
    let c = validate_create(&t, &j);
    assert_eq!(
        fields(&c),
        vec![
            "spec.podFailurePolicy.rules[0].onExitCodes.containerName",
            "spec.podFailurePolicy.rules[0].onExitCodes.values[1]",
            "spec.podFailurePolicy.rules[0].onExitCodes.values[2]",
            "spec.podFailurePolicy.rules[0].onExitCodes.values",
        ]
    );
}

#[test]
fn job_manual_selector_must_match_template() {
    let t = rt("batch/v1", "Job");
    let mut j = job();
    j["spec"]["manualSelector"] = json!(true);
    let c = validate_create(&t, &j);
    assert_eq!(
        msg(&t, &j, &c),
        "Job.batch \"x\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"a\"}: `selector` does not match template `labels`]"
    );
    j["spec"]["selector"] = json!({"matchLabels": {"app": "a"}});
    assert_eq!(validate_create(&t, &j), vec![]);
    // Without manualSelector, a user selector must select the generated labels only.
    let mut j = job();
    j["spec"]["selector"] = json!({"matchLabels": {"app": "a"}});
    let c = validate_create(&t, &j);
    assert_eq!(
        msg(&t, &j, &c),
        "Job.batch \"x\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"a\", \"batch.kubernetes.io/controller-uid\":\"u1\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated"
    );
}

#[test]
fn job_immutable_fields() {
    let t = rt("batch/v1", "Job");
    let mut old = job();
    old["spec"]["manualSelector"] = json!(true);
    old["spec"]["selector"] = json!({"matchLabels": {"app": "a"}});
    let mut new = old.clone();
    new["spec"]["selector"] =
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]});
    let c = validate_update(&t, &old, &new);
    assert_eq!(
        msg(&t, &new, &c),
        "Job.batch \"x\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", Operator:\"In\", Values:[]string{\"a\"}}}}: field is immutable"
    );
    assert_eq!(c[0].reason, "FieldValueInvalid");

    // Completions, completionMode, the template.
    let old = job();
    let mut new = old.clone();
    new["spec"]["completions"] = json!(5);
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
    new["spec"]["completionMode"] = json!("NonIndexed");
    let c = validate_update(&t, &old, &new);
    assert_eq!(
        fields(&c),
        vec!["spec.completions", "spec.template", "spec.completionMode"]
    );
    assert_eq!(c[0].message, "Invalid value: 5: field is immutable");
    assert!(
        c[1].message
            .starts_with("Invalid value: core.PodTemplateSpec{")
    );
    assert!(c[1].message.ends_with(": field is immutable"));
    assert_eq!(
        c[2].message,
        "Invalid value: \"NonIndexed\": field is immutable"
    );

    // Changing only parallelism, suspend, or metadata is fine.
    let mut new = old.clone();
    new["spec"]["parallelism"] = json!(3);
    new["spec"]["suspend"] = json!(true);
    new["metadata"]["labels"] = json!({"x": "y"});
    assert_eq!(validate_update(&t, &old, &new), vec![]);

    // Indexed Jobs may scale completions together with parallelism.
    let mut old = job();
    old["spec"]["completionMode"] = json!("Indexed");
    old["spec"]["completions"] = json!(3);
    old["spec"]["parallelism"] = json!(3);
    let mut new = old.clone();
    new["spec"]["completions"] = json!(5);
    new["spec"]["parallelism"] = json!(5);
    assert_eq!(validate_update(&t, &old, &new), vec![]);
    new["spec"]["parallelism"] = json!(4);
    let c = validate_update(&t, &old, &new);
    assert_eq!(
        c[0].message,
        "Invalid value: 5: can only be modified in tandem with spec.parallelism"
    );

    // podFailurePolicy and backoffLimitPerIndex.
    let mut new = old.clone();
    new["spec"]["backoffLimitPerIndex"] = json!(1);
    new["spec"]["podFailurePolicy"] =
        json!({"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]});
    let c = validate_update(&t, &old, &new);
    assert_eq!(
        fields(&c),
        vec!["spec.podFailurePolicy", "spec.backoffLimitPerIndex"]
    );

    // A suspended Job that never started may change its template's scheduling directives.
    let mut old = job();
    old["spec"]["suspend"] = json!(true);
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["nodeSelector"] = json!({"pool": "gpu"});
    new["spec"]["template"]["metadata"]["labels"]["extra"] = json!("1");
    assert_eq!(validate_update(&t, &old, &new), vec![]);
    old["status"] = json!({"startTime": "2025-01-01T00:00:00Z"});
    assert_eq!(
        fields(&validate_update(&t, &old, &new)),
        vec!["spec.template"]
    );
}

#[test]
fn metadata_immutable_on_update() {
    let t = rt("v1", "Pod");
    let mut old = pod();
    old["metadata"]["uid"] = json!("u1");
    let mut new = old.clone();
    new["metadata"]["name"] = json!("q");
    new["metadata"]["namespace"] = json!("other");
    new["metadata"]["uid"] = json!("u2");
    let c = validate_update(&t, &old, &new);
    assert_eq!(
        msg(&t, &new, &c),
        "Pod \"q\" is invalid: [metadata.name: Invalid value: \"q\": field is immutable, metadata.namespace: Invalid value: \"other\": field is immutable, metadata.uid: Invalid value: \"u2\": field is immutable]"
    );
    // A missing uid keeps the stored one.
    let mut new = old.clone();
    new["metadata"].as_object_mut().unwrap().remove("uid");
    assert_eq!(validate_update(&t, &old, &new), vec![]);
}

#[test]
fn pod_spec_update_rules() {
    let t = rt("v1", "Pod");
    let mut old = pod();
    old["spec"]["tolerations"] = json!([{"key": "a", "operator": "Exists"}]);
    old["spec"]["activeDeadlineSeconds"] = json!(100);
    // Image, lower deadline, added toleration: allowed.
    let mut new = old.clone();
    new["spec"]["containers"][0]["image"] = json!("busybox:2");
    new["spec"]["activeDeadlineSeconds"] = json!(50);
    new["spec"]["tolerations"] =
        json!([{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]);
    new["status"] = json!({"phase": "Running"});
    assert_eq!(validate_update(&t, &old, &new), vec![]);
    // Raised deadline.
    let mut new = old.clone();
    new["spec"]["activeDeadlineSeconds"] = json!(200);
    let c = validate_update(&t, &old, &new);
    assert_eq!(
        c[0].message,
        "Invalid value: 200: must be less than or equal to previous value"
    );
    // Anything else.
    let mut new = old.clone();
    new["spec"]["nodeName"] = json!("node-1");
    let c = validate_update(&t, &old, &new);
    assert_eq!(fields(&c), vec!["spec"]);
    assert_eq!(c[0].reason, "FieldValueForbidden");
    assert!(
        msg(&t, &new, &c).starts_with(
            "Pod \"p\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n  core.PodSpec{\n+ \tnodeName: \"node-1\",\n"
        ),
        "{}",
        msg(&t, &new, &c)
    );
    // Removing a toleration is a spec change.
    let mut new = old.clone();
    new["spec"]["tolerations"] = json!([]);
    assert_eq!(fields(&validate_update(&t, &old, &new)), vec!["spec"]);
}

#[test]
fn deployment_rules() {
    let t = rt("apps/v1", "Deployment");
    let mut d = deployment();
    d["spec"]["replicas"] = json!(-1);
    d["spec"]["selector"] = json!({"matchLabels": {"app": "b"}});
    let c = validate_create(&t, &d);
    assert_eq!(
        msg(&t, &d, &c),
        "Deployment.apps \"d\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"a\"}: `selector` does not match template `labels`]"
    );
    let mut d = deployment();
    d["spec"].as_object_mut().unwrap().remove("selector");
    let c = validate_create(&t, &d);
    assert_eq!(
        fields(&c),
        vec!["spec.selector", "spec.template.metadata.labels"]
    );
    let mut d = deployment();
    d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    let c = validate_create(&t, &d);
    assert_eq!(
        c[0].message,
        "Unsupported value: \"Never\": supported values: \"Always\""
    );
    // Selector immutable; replicas and image are not.
    let old = deployment();
    let mut new = old.clone();
    new["spec"]["replicas"] = json!(5);
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    assert_eq!(validate_update(&t, &old, &new), vec![]);
    new["spec"]["selector"] = json!({"matchLabels": {"app": "a", "tier": "x"}});
    new["spec"]["template"]["metadata"]["labels"]["tier"] = json!("x");
    let c = validate_update(&t, &old, &new);
    assert_eq!(
        msg(&t, &new, &c),
        "Deployment.apps \"d\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"a\", \"tier\":\"x\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    );
}

#[test]
fn pdb_rules() {
    let t = rt("policy/v1", "PodDisruptionBudget");
    let mut p = json!({
        "metadata": {"name": "pdb", "namespace": "agents"},
        "spec": {"minAvailable": 1, "maxUnavailable": "10%", "selector": {"matchLabels": {"app": "a"}}}
    });
    let c = validate_create(&t, &p);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].field, "spec");
    assert_eq!(c[0].reason, "FieldValueInvalid");
    let m = msg(&t, &p, &c);
    assert!(
        m.starts_with(
            "PodDisruptionBudget.policy \"pdb\" is invalid: spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)(0xc"
        ),
        "{m}"
    );
    assert!(
        m.ends_with(": minAvailable and maxUnavailable cannot be both set"),
        "{m}"
    );
    p["spec"].as_object_mut().unwrap().remove("maxUnavailable");
    assert_eq!(validate_create(&t, &p), vec![]);
    p["spec"]["minAvailable"] = json!("150%");
    let c = validate_create(&t, &p);
    assert_eq!(
        c[0].message,
        "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"
    );
    p["spec"]["minAvailable"] = json!("half");
    let c = validate_create(&t, &p);
    assert!(
        c[0].message
            .contains("a valid percent string must be a numeric string followed by an ending '%'")
    );
    p["spec"]["minAvailable"] = json!(-1);
    p["spec"]["unhealthyPodEvictionPolicy"] = json!("Never");
    let c = validate_create(&t, &p);
    assert_eq!(
        fields(&c),
        vec!["spec.minAvailable", "spec.unhealthyPodEvictionPolicy"]
    );
}

#[test]
fn labels_and_annotations() {
    let t = rt("v1", "ConfigMap");
    let mut cm = json!({"metadata": {"name": "c", "namespace": "agents",
        "labels": {"-bad": "ok", "good": "bad value"}}});
    let c = validate_create(&t, &cm);
    assert_eq!(fields(&c), vec!["metadata.labels", "metadata.labels"]);
    assert_eq!(
        c[0].message,
        "Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    );
    assert!(
        c[1].message
            .starts_with("Invalid value: \"bad value\": a valid label must be an empty string")
    );
    cm["metadata"]["labels"] = json!({"example.com/x": "a".repeat(64)});
    let c = validate_create(&t, &cm);
    assert_eq!(
        c[0].message,
        format!(
            "Invalid value: \"{}\": must be no more than 63 characters",
            "a".repeat(64)
        )
    );
    cm["metadata"]["labels"] = json!({"Bad_Prefix/x": "v"});
    let c = validate_create(&t, &cm);
    assert!(
        c[0].message
            .contains("prefix part a lowercase RFC 1123 subdomain")
    );
    cm["metadata"]["labels"] = json!({});
    cm["metadata"]["annotations"] = json!({"big": "x".repeat(256 * 1024)});
    let c = validate_create(&t, &cm);
    assert_eq!(
        c,
        vec![Cause {
            reason: "FieldValueTooLong".into(),
            message: "Too long: must have at most 262144 bytes".into(),
            field: "metadata.annotations".into(),
        }]
    );
    cm["metadata"]["annotations"] = json!({"Example.COM/Mixed_Case": "x"});
    assert_eq!(validate_create(&t, &cm), vec![]);
    // ConfigMap keys.
    cm["metadata"]["annotations"] = json!({});
    cm["data"] = json!({"bad key": "v", "..x": "v"});
    let c = validate_create(&t, &cm);
    assert_eq!(fields(&c), vec!["data[..x]", "data[bad key]"]);
}

#[test]
fn immutable_configmaps_and_secrets() {
    let t = rt("v1", "Secret");
    let old = json!({"metadata": {"name": "s", "namespace": "agents"}, "immutable": true, "data": {"a": "eA=="}});
    let mut new = old.clone();
    new["data"]["a"] = json!("eQ==");
    let c = validate_update(&t, &old, &new);
    assert_eq!(
        c[0].message,
        "Forbidden: field is immutable when `immutable` is set"
    );
    assert_eq!(c[0].field, "data");
}

#[test]
fn service_pvc_netpol_rbac_crd() {
    let svc = rt("v1", "Service");
    let s = json!({"metadata": {"name": "s", "namespace": "agents"},
        "spec": {"ports": [{"port": 0}, {"name": "b", "port": 80, "targetPort": "Bad_Port"}]}});
    let c = validate_create(&svc, &s);
    assert_eq!(
        fields(&c),
        vec![
            "spec.ports[0].name",
            "spec.ports[0].port",
            "spec.ports[1].targetPort"
        ]
    );
    let s = json!({"metadata": {"name": "s", "namespace": "agents"}, "spec": {}});
    assert_eq!(fields(&validate_create(&svc, &s)), vec!["spec.ports"]);

    let pvc = rt("v1", "PersistentVolumeClaim");
    let p = json!({"metadata": {"name": "p", "namespace": "agents"}, "spec": {}});
    let c = validate_create(&pvc, &p);
    assert_eq!(
        msg(&pvc, &p, &c),
        "PersistentVolumeClaim \"p\" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value]"
    );

    let np = rt("networking.k8s.io/v1", "NetworkPolicy");
    let n = json!({"metadata": {"name": "n", "namespace": "agents"},
        "spec": {"podSelector": {}, "policyTypes": ["Inbound"],
                 "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}], "ports": [{"port": 0}]}]}});
    let c = validate_create(&np, &n);
    assert_eq!(
        fields(&c),
        vec![
            "spec.policyTypes[0]",
            "spec.ingress[0].ports[0].port",
            "spec.ingress[0].from[0].ipBlock.cidr"
        ]
    );

    let role = rt("rbac.authorization.k8s.io/v1", "Role");
    let r = json!({"metadata": {"name": "r", "namespace": "agents"},
        "rules": [{"resources": ["pods"]}]});
    let c = validate_create(&role, &r);
    assert_eq!(
        msg(&role, &r, &c),
        "Role.rbac.authorization.k8s.io \"r\" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[0].apiGroups: Required value: resource rules must supply at least one api group]"
    );
    let rb = rt("rbac.authorization.k8s.io/v1", "RoleBinding");
    let old = json!({"metadata": {"name": "r", "namespace": "agents"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "a"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa"}]});
    assert_eq!(validate_create(&rb, &old), vec![]);
    let mut new = old.clone();
    new["roleRef"]["name"] = json!("b");
    let c = validate_update(&rb, &old, &new);
    assert_eq!(
        c[0].message,
        "Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"b\"}: cannot change roleRef"
    );

    let crd = rt("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    let d = json!({"metadata": {"name": "things.example.com"}, "spec": {
        "group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [{"name": "v1", "served": true, "storage": true}]}});
    let c = validate_create(&crd, &d);
    assert_eq!(
        c[0].message,
        "Invalid value: \"things.example.com\": must be spec.names.plural+\".\"+spec.group"
    );
}

#[test]
fn keda_structural_checks() {
    let sj = rt("keda.sh/v1alpha1", "ScaledJob");
    let o = json!({"metadata": {"name": "s", "namespace": "agents"}, "spec": {"triggers": {}}});
    let c = validate_create(&sj, &o);
    assert_eq!(
        msg(&sj, &o, &c),
        "ScaledJob.keda.sh \"s\" is invalid: [spec.jobTargetRef: Required value, spec.triggers: Invalid value: \"object\": spec.triggers in body must be of type array: \"object\"]"
    );
    let o = json!({"metadata": {"name": "s", "namespace": "agents"}});
    assert_eq!(
        msg(&sj, &o, &validate_create(&sj, &o)),
        "ScaledJob.keda.sh \"s\" is invalid: spec: Required value"
    );
    let ta = rt("keda.sh/v1alpha1", "TriggerAuthentication");
    let o = json!({"metadata": {"name": "t", "namespace": "agents"},
        "spec": {"secretTargetRef": [{"parameter": "host", "name": "s"}]}});
    let c = validate_create(&ta, &o);
    assert_eq!(fields(&c), vec!["spec.secretTargetRef[0].key"]);
    // Custom resources have no strict check.
    assert!(unknown_fields(&sj, &json!({"spec": {"bogus": 1}})).is_empty());
}

#[test]
fn invalid_message_formats() {
    let t = rt("batch/v1", "Job");
    assert_eq!(invalid_message(&t, "x", &[]), "Job.batch \"x\" is invalid");
    let c = required("spec.a", "");
    assert_eq!(
        invalid_message(&t, "x", &[c.clone(), c.clone()]),
        "Job.batch \"x\" is invalid: spec.a: Required value"
    );
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"reason": "FieldValueRequired", "message": "Required value", "field": "spec.a"})
    );
}

#[test]
fn strict_unknown_fields() {
    let t = rt("batch/v1", "Job");
    let mut j = job();
    j["spec"]["foo"] = json!("bar");
    j["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    j["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({"limitz": {}});
    j["spec"]["nothing"] = Value::Null;
    j["metadata"]["creationTimestamp"] = Value::Null;
    j["status"] = json!({});
    let u = unknown_fields(&t, &j);
    assert_eq!(
        u,
        vec![
            "spec.foo",
            "spec.nothing",
            "spec.template.spec.containers[0].imagePullPolicyy",
            "spec.template.spec.containers[0].resources.limitz",
        ]
    );
    assert_eq!(
        strict_message(&t, &u[..1]),
        "Job in version \"v1\" cannot be handled as a Job: strict decoding error: unknown field \"spec.foo\""
    );
    assert_eq!(
        strict_message(&t, &u[..2]),
        "Job in version \"v1\" cannot be handled as a Job: strict decoding error: unknown field \"spec.foo\", unknown field \"spec.nothing\""
    );
    // Declared fields with null or empty values are not unknown.
    let j = json!({"metadata": {"name": "x", "creationTimestamp": null, "labels": {}},
        "spec": {"completions": null, "selector": null, "template": {"metadata": {},
        "spec": {"containers": [], "activeDeadlineSeconds": null, "nodeSelector": null}}},
        "status": {"startTime": null, "active": null}});
    assert_eq!(unknown_fields(&t, &j), Vec::<String>::new());
    // A body that does not decode is not judged here.
    let j = json!({"spec": {"completions": "many", "foo": 1}});
    assert!(unknown_fields(&t, &j).is_empty());
    // Top-level keys.
    let p = rt("v1", "Pod");
    let mut o = pod();
    o["extra"] = json!(1);
    assert_eq!(unknown_fields(&p, &o), vec!["extra"]);
}

#[test]
fn bundled_manifests_have_no_unknown_fields_and_are_valid() {
    let reg = Registry::new(true);
    let mut checked = 0;
    for m in crate::manifests::BUNDLED {
        if m.file == crate::manifests::KUSTOMIZATION {
            continue;
        }
        for doc in crate::manifests::documents(m).unwrap() {
            let t = reg
                .find_kind(str_at(&doc, "apiVersion"), str_at(&doc, "kind"))
                .unwrap_or_else(|| panic!("{}: no type", m.file));
            assert_eq!(
                unknown_fields(t, &doc),
                Vec::<String>::new(),
                "{} {}",
                m.file,
                t.kind
            );
            assert_eq!(validate_create(t, &doc), vec![], "{} {}", m.file, t.kind);
            assert_eq!(
                validate_update(t, &doc, &doc),
                vec![],
                "{} {}",
                m.file,
                t.kind
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked}");
}

#[test]
fn strict_check_sees_every_builtin_kind() {
    let reg = Registry::new(false);
    for t in reg.all() {
        let obj = json!({"metadata": {"name": "x"}, "bogusField": 1});
        assert_eq!(unknown_fields(t, &obj), vec!["bogusField"], "{}", t.kind);
    }
}
