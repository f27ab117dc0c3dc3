//! Table output compared with what kube-apiserver 1.32 serves for the same objects.

use super::*;
use crate::sim::api::registry::Registry;

const KUBECTL_GET: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

fn now() -> Timestamp {
    "2025-01-10T12:00:00Z".parse().unwrap()
}

fn ago(secs: i64) -> String {
    (now() - SignedDuration::from_secs(secs)).to_string()
}

fn rt(group: &str, plural: &str) -> ResourceType {
    Registry::new(true)
        .all()
        .iter()
        .find(|t| t.group == group && t.plural == plural)
        .unwrap()
        .clone()
}

/// (uppercased headers without -o wide, all uppercased headers, first row cells)
fn render(group: &str, plural: &str, obj: Value) -> (Vec<String>, Vec<String>, Vec<Value>) {
    let t = to_table(
        &rt(group, plural),
        &[obj],
        json!({"resourceVersion": "7"}),
        now(),
        IncludeObject::Metadata,
        "meta.k8s.io/v1",
    )
    .to_value();
    let defs = t["columnDefinitions"].as_array().unwrap();
    let narrow = defs
        .iter()
        .filter(|d| d["priority"] == 0)
        .map(|d| d["name"].as_str().unwrap().to_uppercase())
        .collect();
    let wide = defs
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_uppercase())
        .collect();
    let cells = t["rows"][0]["cells"].as_array().unwrap().clone();
    assert_eq!(cells.len(), defs.len(), "{plural}: one cell per column");
    (narrow, wide, cells)
}

fn h(x: &str) -> Vec<String> {
    x.split('|').map(String::from).collect()
}

#[test]
fn accept_headers() {
    assert!(wants_table(KUBECTL_GET));
    assert_eq!(table_version(KUBECTL_GET), "meta.k8s.io/v1");
    let beta_first = "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io";
    assert_eq!(table_version(beta_first), "meta.k8s.io/v1beta1");
    assert!(!wants_table("application/json"));
    assert!(!wants_table(
        "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
    ));
    assert!(!wants_table("application/json;as=Table;v=v2;g=meta.k8s.io"));
    assert_eq!(table_version("application/json"), "meta.k8s.io/v1");
    assert_eq!(IncludeObject::from_query(None), IncludeObject::Metadata);
    assert_eq!(
        IncludeObject::from_query(Some("Object")),
        IncludeObject::Object
    );
    assert_eq!(IncludeObject::from_query(Some("None")), IncludeObject::None);
}

#[test]
fn human_durations() {
    let d = |s: i64| human_duration(SignedDuration::from_secs(s));
    assert_eq!(d(-5), "<invalid>");
    assert_eq!(d(-1), "0s");
    assert_eq!(d(0), "0s");
    assert_eq!(d(5), "5s");
    assert_eq!(d(90), "90s");
    assert_eq!(d(119), "119s");
    assert_eq!(d(120), "2m");
    assert_eq!(d(182), "3m2s");
    assert_eq!(d(599), "9m59s");
    assert_eq!(d(600), "10m");
    assert_eq!(d(45 * 60 + 30), "45m");
    assert_eq!(d(179 * 60), "179m");
    assert_eq!(d(3 * 3600), "3h");
    assert_eq!(d(3 * 3600 + 5 * 60), "3h5m");
    assert_eq!(d(8 * 3600), "8h");
    assert_eq!(d(26 * 3600), "26h");
    assert_eq!(d(48 * 3600), "2d");
    assert_eq!(d(3 * 86400 + 4 * 3600), "3d4h");
    assert_eq!(d(8 * 86400), "8d");
    assert_eq!(d(45 * 86400), "45d");
    assert_eq!(d(729 * 86400), "729d");
    assert_eq!(d(730 * 86400), "2y");
    assert_eq!(d(733 * 86400), "2y3d");
    assert_eq!(d(9 * 365 * 86400), "9y");
}

#[test]
fn pods() {
    let running = json!({
        "metadata": {"name": "agent-0", "namespace": "w", "creationTimestamp": ago(300), "resourceVersion": "5"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "agent", "image": "a:1"}]},
        "status": {
            "phase": "Running", "podIP": "10.0.0.7",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "agent", "ready": true, "restartCount": 2,
                "state": {"running": {"startedAt": ago(60)}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": ago(300)}}}]
        }
    });
    let (narrow, wide, cells) = render("", "pods", running.clone());
    assert_eq!(narrow, h("NAME|READY|STATUS|RESTARTS|AGE"));
    assert_eq!(
        wide,
        h("NAME|READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES")
    );
    assert_eq!(
        cells,
        vec![
            json!("agent-0"),
            json!("1/1"),
            json!("Running"),
            json!("2 (5m ago)"),
            json!("5m"),
            json!("10.0.0.7"),
            json!("node-1"),
            json!("<none>"),
            json!("<none>")
        ]
    );

    let status_of = |pod: Value| render("", "pods", pod).2[2].clone();
    let mut creating = running.clone();
    creating["status"] = json!({"phase": "Pending", "containerStatuses": [
        {"name": "agent", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]});
    assert_eq!(status_of(creating.clone()), "ContainerCreating");
    assert_eq!(render("", "pods", creating).2[3], "0");

    let mut oom = running.clone();
    oom["status"] = json!({"phase": "Failed", "containerStatuses": [
        {"name": "agent", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]});
    assert_eq!(status_of(oom), "OOMKilled");

    let mut done = running.clone();
    done["status"] = json!({"phase": "Succeeded", "containerStatuses": [
        {"name": "agent", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]});
    let t = to_table(
        &rt("", "pods"),
        &[done.clone()],
        json!({}),
        now(),
        IncludeObject::Metadata,
        "meta.k8s.io/v1",
    )
    .to_value();
    assert_eq!(t["rows"][0]["cells"][2], "Completed");
    assert_eq!(t["rows"][0]["cells"][1], "0/1");
    assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");

    let mut crash = running.clone();
    crash["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "CrashLoopBackOff"}});
    crash["status"]["containerStatuses"][0]["ready"] = json!(false);
    assert_eq!(status_of(crash), "CrashLoopBackOff");

    let mut terminating = running.clone();
    terminating["metadata"]["deletionTimestamp"] = json!(ago(-30));
    assert_eq!(status_of(terminating), "Terminating");

    let mut evicted = running.clone();
    evicted["status"] = json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."});
    assert_eq!(status_of(evicted), "Evicted");

    let mut pending = running.clone();
    pending["spec"].as_object_mut().unwrap().remove("nodeName");
    pending["status"] = json!({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]});
    let (_, _, c) = render("", "pods", pending);
    assert_eq!(c[2], "Pending");
    assert_eq!(c[5], "<none>");
    assert_eq!(c[6], "<none>");

    let mut init = running.clone();
    init["spec"]["initContainers"] = json!([{"name": "setup", "image": "busybox"}]);
    init["status"] = json!({"phase": "Pending", "initContainerStatuses": [
        {"name": "setup", "ready": false, "restartCount": 0, "state": {"running": {"startedAt": ago(5)}}}]});
    assert_eq!(status_of(init), "Init:0/1");
}

#[test]
fn include_object_modes() {
    let pod = json!({"kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "p", "creationTimestamp": ago(5)}, "spec": {"containers": []}});
    let t = |inc| {
        to_table(
            &rt("", "pods"),
            std::slice::from_ref(&pod),
            json!({"resourceVersion": "9", "continue": "abc"}),
            now(),
            inc,
            "meta.k8s.io/v1beta1",
        )
        .to_value()
    };
    let meta = t(IncludeObject::Metadata);
    assert_eq!(meta["kind"], "Table");
    assert_eq!(meta["apiVersion"], "meta.k8s.io/v1beta1");
    assert_eq!(
        meta["metadata"],
        json!({"resourceVersion": "9", "continue": "abc"})
    );
    assert_eq!(
        meta["rows"][0]["object"],
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1beta1",
               "metadata": {"name": "p", "creationTimestamp": ago(5)}})
    );
    assert_eq!(t(IncludeObject::Object)["rows"][0]["object"], pod);
    assert!(t(IncludeObject::None)["rows"][0].get("object").is_none());
    let empty = to_table::<Value>(
        &rt("", "pods"),
        &[],
        Value::Null,
        now(),
        IncludeObject::Metadata,
        "meta.k8s.io/v1",
    )
    .to_value();
    assert_eq!(empty["rows"], json!([]));
    assert_eq!(empty["metadata"], json!({}));
    assert_eq!(empty["columnDefinitions"][0]["format"], "name");
}

#[test]
fn jobs() {
    let job = json!({
        "metadata": {"name": "agent-run-x7k2p", "creationTimestamp": ago(200)},
        "spec": {"completions": 3, "parallelism": 1,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
            "template": {"spec": {"containers": [
                {"name": "agent", "image": "ghcr.io/x/agent:1"},
                {"name": "sidecar", "image": "envoy:1"}]}}},
        "status": {"startTime": ago(190), "succeeded": 1, "active": 1}
    });
    let (narrow, wide, cells) = render("batch", "jobs", job.clone());
    assert_eq!(narrow, h("NAME|STATUS|COMPLETIONS|DURATION|AGE"));
    assert_eq!(
        wide,
        h("NAME|STATUS|COMPLETIONS|DURATION|AGE|CONTAINERS|IMAGES|SELECTOR")
    );
    assert_eq!(
        cells,
        vec![
            json!("agent-run-x7k2p"),
            json!("Running"),
            json!("1/3"),
            json!("3m10s"),
            json!("3m20s"),
            json!("agent,sidecar"),
            json!("ghcr.io/x/agent:1,envoy:1"),
            json!("batch.kubernetes.io/controller-uid=u1")
        ]
    );
    let mut complete = job.clone();
    complete["status"] = json!({"startTime": ago(190), "completionTime": ago(100), "succeeded": 3,
        "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]});
    let c = render("batch", "jobs", complete).2;
    assert_eq!(
        (c[1].clone(), c[2].clone(), c[3].clone()),
        (json!("Complete"), json!("3/3"), json!("90s"))
    );
    let mut failed = job.clone();
    failed["status"]["conditions"] =
        json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]);
    assert_eq!(render("batch", "jobs", failed).2[1], "Failed");
    let mut suspended = job.clone();
    suspended["spec"]["suspend"] = json!(true);
    suspended["status"] = json!({"conditions": [{"type": "Suspended", "status": "True"}]});
    let c = render("batch", "jobs", suspended).2;
    assert_eq!(
        (c[1].clone(), c[3].clone()),
        (json!("Suspended"), json!(""))
    );
    let mut par = job;
    par["spec"].as_object_mut().unwrap().remove("completions");
    par["spec"]["parallelism"] = json!(4);
    assert_eq!(render("batch", "jobs", par).2[2], "1/1 of 4");
}

#[test]
fn workloads() {
    let deploy = json!({
        "metadata": {"name": "web", "creationTimestamp": ago(86400 * 3)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    });
    let (narrow, wide, cells) = render("apps", "deployments", deploy.clone());
    assert_eq!(narrow, h("NAME|READY|UP-TO-DATE|AVAILABLE|AGE"));
    assert_eq!(wide.len(), 8);
    assert_eq!(
        cells,
        vec![
            json!("web"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("3d"),
            json!("web"),
            json!("nginx:1.27"),
            json!("app=web,tier in (a,b)")
        ]
    );
    let (narrow, _, cells) = render("apps", "replicasets", deploy);
    assert_eq!(narrow, h("NAME|DESIRED|CURRENT|READY|AGE"));
    assert_eq!(cells[1..5], [json!(3), json!(3), json!(2), json!("3d")]);
}

#[test]
fn nodes_and_namespaces() {
    let node = json!({
        "metadata": {"name": "sim-node-1", "creationTimestamp": ago(3600),
            "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "true"}},
        "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "sim-node-1"}],
            "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian", "kernelVersion": "6.1", "containerRuntimeVersion": "containerd://1.7"}}
    });
    let (narrow, wide, cells) = render("", "nodes", node);
    assert_eq!(narrow, h("NAME|STATUS|ROLES|AGE|VERSION"));
    assert_eq!(
        wide,
        h(
            "NAME|STATUS|ROLES|AGE|VERSION|INTERNAL-IP|EXTERNAL-IP|OS-IMAGE|KERNEL-VERSION|CONTAINER-RUNTIME"
        )
    );
    assert_eq!(
        cells,
        vec![
            json!("sim-node-1"),
            json!("Ready,SchedulingDisabled"),
            json!("control-plane,worker"),
            json!("60m"),
            json!("v1.32.0"),
            json!("172.18.0.2"),
            json!("<none>"),
            json!("Debian"),
            json!("6.1"),
            json!("containerd://1.7")
        ]
    );
    let ns = json!({"metadata": {"name": "workers", "creationTimestamp": ago(45)}, "status": {"phase": "Active"}});
    let (narrow, _, cells) = render("", "namespaces", ns);
    assert_eq!(narrow, h("NAME|STATUS|AGE"));
    assert_eq!(cells, vec![json!("workers"), json!("Active"), json!("45s")]);
}

#[test]
fn events() {
    let ev = json!({
        "metadata": {"name": "agent-0.17f", "creationTimestamp": ago(120)},
        "involvedObject": {"kind": "Pod", "name": "agent-0", "namespace": "w", "fieldPath": "spec.containers{agent}"},
        "reason": "BackOff", "type": "Warning",
        "message": "Back-off restarting failed container agent in pod agent-0\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(120), "lastTimestamp": ago(30), "count": 4
    });
    let (narrow, wide, cells) = render("", "events", ev);
    assert_eq!(narrow, h("LAST SEEN|TYPE|REASON|OBJECT|MESSAGE"));
    assert_eq!(
        wide,
        h("LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME")
    );
    assert_eq!(
        cells,
        vec![
            json!("30s"),
            json!("Warning"),
            json!("BackOff"),
            json!("pod/agent-0"),
            json!("spec.containers{agent}"),
            json!("kubelet, node-1"),
            json!("Back-off restarting failed container agent in pod agent-0"),
            json!("2m"),
            json!(4),
            json!("agent-0.17f")
        ]
    );
    let new_ev = json!({
        "metadata": {"name": "e2", "creationTimestamp": ago(10)},
        "regarding": {"kind": "Job", "name": "j1"}, "reason": "SuccessfulCreate", "type": "Normal",
        "note": "Created pod: j1-abcde", "eventTime": ago(10), "reportingController": "job-controller"
    });
    let (narrow, _, cells) = render("events.k8s.io", "events", new_ev);
    assert_eq!(narrow, h("LAST SEEN|TYPE|REASON|OBJECT|MESSAGE"));
    assert_eq!(cells[0], "10s");
    assert_eq!(cells[3], "job/j1");
    assert_eq!(cells[5], "job-controller");
    assert_eq!(cells[6], "Created pod: j1-abcde");
    assert_eq!(cells[8], 1);
}

#[test]
fn core_config_kinds() {
    let svc = json!({"metadata": {"name": "rabbitmq", "creationTimestamp": ago(600)},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
            "selector": {"app": "rabbitmq"},
            "ports": [{"port": 5672, "protocol": "TCP"}, {"port": 15672}]}});
    let (narrow, wide, cells) = render("", "services", svc);
    assert_eq!(narrow, h("NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE"));
    assert_eq!(wide.last().unwrap(), "SELECTOR");
    assert_eq!(
        cells,
        vec![
            json!("rabbitmq"),
            json!("ClusterIP"),
            json!("10.96.0.10"),
            json!("<none>"),
            json!("5672/TCP,15672/TCP"),
            json!("10m"),
            json!("app=rabbitmq")
        ]
    );
    let lb = json!({"metadata": {"name": "lb", "creationTimestamp": ago(1)},
        "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.11"], "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}});
    let c = render("", "services", lb).2;
    assert_eq!(
        (c[3].clone(), c[4].clone()),
        (json!("<pending>"), json!("80:30080/TCP"))
    );

    let secret = json!({"metadata": {"name": "rabbitmq-auth", "creationTimestamp": ago(30)},
        "type": "Opaque", "data": {"host": "YQ==", "password": "Yg=="}});
    let (narrow, _, cells) = render("", "secrets", secret);
    assert_eq!(narrow, h("NAME|TYPE|DATA|AGE"));
    assert_eq!(
        cells,
        vec![
            json!("rabbitmq-auth"),
            json!("Opaque"),
            json!(2),
            json!("30s")
        ]
    );

    let cm = json!({"metadata": {"name": "kube-root-ca.crt", "creationTimestamp": ago(30)},
        "data": {"ca.crt": "x"}, "binaryData": {"b": "AA=="}});
    let (narrow, _, cells) = render("", "configmaps", cm);
    assert_eq!(narrow, h("NAME|DATA|AGE"));
    assert_eq!(cells[1], 2);

    let sa = json!({"metadata": {"name": "default", "creationTimestamp": ago(30)}});
    let (narrow, _, cells) = render("", "serviceaccounts", sa);
    assert_eq!(narrow, h("NAME|SECRETS|AGE"));
    assert_eq!(cells, vec![json!("default"), json!(0), json!("30s")]);

    let pvc = json!({"metadata": {"name": "data", "creationTimestamp": ago(30)},
        "spec": {"volumeName": "pv-1", "storageClassName": "standard", "volumeMode": "Filesystem",
            "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Bound", "accessModes": ["ReadWriteMany", "ReadWriteOnce"], "capacity": {"storage": "1Gi"}}});
    let (narrow, wide, cells) = render("", "persistentvolumeclaims", pvc);
    assert_eq!(
        narrow,
        h("NAME|STATUS|VOLUME|CAPACITY|ACCESS MODES|STORAGECLASS|VOLUMEATTRIBUTESCLASS|AGE")
    );
    assert_eq!(wide.last().unwrap(), "VOLUMEMODE");
    assert_eq!(
        cells,
        vec![
            json!("data"),
            json!("Bound"),
            json!("pv-1"),
            json!("1Gi"),
            json!("RWO,RWX"),
            json!("standard"),
            json!("<unset>"),
            json!("30s"),
            json!("Filesystem")
        ]
    );
    let pending = json!({"metadata": {"name": "d2", "creationTimestamp": ago(3)}, "spec": {}, "status": {"phase": "Pending"}});
    let c = render("", "persistentvolumeclaims", pending).2;
    assert_eq!(
        c[1..7],
        [
            json!("Pending"),
            json!(""),
            json!(""),
            json!(""),
            json!("<unset>"),
            json!("<unset>")
        ]
    );

    let lr = json!({"metadata": {"name": "limits", "creationTimestamp": "2025-01-10T11:00:00Z"}});
    let (narrow, _, cells) = render("", "limitranges", lr);
    assert_eq!(narrow, h("NAME|CREATED AT"));
    assert_eq!(cells, vec![json!("limits"), json!("2025-01-10T11:00:00Z")]);
}

#[test]
fn policy_network_rbac_misc() {
    let pdb = json!({"metadata": {"name": "agents", "creationTimestamp": ago(70)},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "agent"}}},
        "status": {"disruptionsAllowed": 0}});
    let (narrow, _, cells) = render("policy", "poddisruptionbudgets", pdb);
    assert_eq!(
        narrow,
        h("NAME|MIN AVAILABLE|MAX UNAVAILABLE|ALLOWED DISRUPTIONS|AGE")
    );
    assert_eq!(
        cells,
        vec![
            json!("agents"),
            json!("1"),
            json!("N/A"),
            json!(0),
            json!("70s")
        ]
    );
    let pct = json!({"metadata": {"name": "p", "creationTimestamp": ago(1)},
        "spec": {"maxUnavailable": "10%"}, "status": {"disruptionsAllowed": 1}});
    assert_eq!(
        render("policy", "poddisruptionbudgets", pct).2[1..3],
        [json!("N/A"), json!("10%")]
    );

    let np = json!({"metadata": {"name": "deny", "creationTimestamp": ago(10)}, "spec": {"podSelector": {}}});
    let (narrow, _, cells) = render("networking.k8s.io", "networkpolicies", np);
    assert_eq!(narrow, h("NAME|POD-SELECTOR|AGE"));
    assert_eq!(cells, vec![json!("deny"), json!("<none>"), json!("10s")]);

    let role = json!({"metadata": {"name": "reader", "creationTimestamp": "2025-01-01T00:00:00Z"}, "rules": []});
    let (narrow, _, cells) = render("rbac.authorization.k8s.io", "roles", role);
    assert_eq!(narrow, h("NAME|CREATED AT"));
    assert_eq!(cells[1], "2025-01-01T00:00:00Z");

    let rb = json!({"metadata": {"name": "read", "creationTimestamp": ago(10)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "agent", "namespace": "w"}, {"kind": "User", "name": "alice"}]});
    let (narrow, wide, cells) = render("rbac.authorization.k8s.io", "rolebindings", rb);
    assert_eq!(narrow, h("NAME|ROLE|AGE"));
    assert_eq!(wide, h("NAME|ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS"));
    assert_eq!(
        cells,
        vec![
            json!("read"),
            json!("Role/reader"),
            json!("10s"),
            json!("alice"),
            json!(""),
            json!("w/agent")
        ]
    );

    let crd = json!({"metadata": {"name": "scaledjobs.keda.sh", "creationTimestamp": "2025-01-02T03:04:05Z"}});
    let (narrow, _, cells) = render("apiextensions.k8s.io", "customresourcedefinitions", crd);
    assert_eq!(narrow, h("NAME|CREATED AT"));
    assert_eq!(cells[1], "2025-01-02T03:04:05Z");

    let lease = json!({"metadata": {"name": "fleet-leader", "creationTimestamp": ago(10)},
        "spec": {"holderIdentity": "pod-a"}});
    let (narrow, _, cells) = render("coordination.k8s.io", "leases", lease);
    assert_eq!(narrow, h("NAME|HOLDER|AGE"));
    assert_eq!(
        cells,
        vec![json!("fleet-leader"), json!("pod-a"), json!("10s")]
    );
}

#[test]
fn keda_kinds() {
    let sj = json!({"metadata": {"name": "agents", "creationTimestamp": "2025-01-10T11:55:00Z"},
        "spec": {"minReplicaCount": 0, "maxReplicaCount": 20,
            "triggers": [{"type": "rabbitmq", "authenticationRef": {"name": "rabbitmq-auth"}}]},
        "status": {"conditions": [
            {"type": "Ready", "status": "True"}, {"type": "Active", "status": "False"},
            {"type": "Paused", "status": "Unknown"}],
            "triggersTypes": "rabbitmq", "authenticationsTypes": "rabbitmq-auth"}});
    let (narrow, _, cells) = render("keda.sh", "scaledjobs", sj);
    assert_eq!(
        narrow,
        h("NAME|MIN|MAX|READY|ACTIVE|PAUSED|TRIGGERS|AUTHENTICATIONS|AGE")
    );
    assert_eq!(
        cells,
        vec![
            json!("agents"),
            json!(0),
            json!(20),
            json!("True"),
            json!("False"),
            json!("Unknown"),
            json!("rabbitmq"),
            json!("rabbitmq-auth"),
            json!("5m")
        ]
    );
    let fresh = json!({"metadata": {"name": "new", "creationTimestamp": ago(1)}, "spec": {}});
    let c = render("keda.sh", "scaledjobs", fresh).2;
    assert_eq!(
        c[1..8],
        [
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null
        ]
    );

    let so = json!({"metadata": {"name": "web", "creationTimestamp": ago(1)},
        "spec": {"scaleTargetRef": {"name": "web"}, "minReplicaCount": 1, "maxReplicaCount": 5},
        "status": {"scaleTargetKind": "apps/v1.Deployment"}});
    let (narrow, _, cells) = render("keda.sh", "scaledobjects", so);
    assert_eq!(
        narrow,
        h(
            "NAME|SCALETARGETKIND|SCALETARGETNAME|MIN|MAX|READY|ACTIVE|FALLBACK|PAUSED|TRIGGERS|AUTHENTICATIONS|AGE"
        )
    );
    assert_eq!(
        cells[1..5],
        [
            json!("apps/v1.Deployment"),
            json!("web"),
            json!(1),
            json!(5)
        ]
    );

    let ta = json!({"metadata": {"name": "rabbitmq-auth", "creationTimestamp": ago(1)},
        "spec": {"secretTargetRef": [{"parameter": "host", "name": "rabbitmq", "key": "uri"},
                                     {"parameter": "x", "name": "other", "key": "k"}]}});
    let (narrow, _, cells) = render("keda.sh", "triggerauthentications", ta);
    assert_eq!(narrow, h("NAME|PODIDENTITY|SECRET|ENV|VAULTADDRESS|AGE"));
    assert_eq!(
        cells[1..5],
        [Value::Null, json!("rabbitmq"), Value::Null, Value::Null]
    );
}

#[test]
fn crd_columns_and_default() {
    let mut widget = rt("", "pods");
    widget.group = "example.com".into();
    widget.plural = "widgets".into();
    widget.kind = "Widget".into();
    widget.builtin = false;
    widget.from_crd = true;
    let obj = json!({"metadata": {"name": "w1", "creationTimestamp": ago(30)},
        "spec": {"size": 3, "tags": ["a", "b"], "ok": true},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let t = to_table(
        &widget,
        std::slice::from_ref(&obj),
        json!({}),
        now(),
        IncludeObject::None,
        "meta.k8s.io/v1",
    )
    .to_value();
    let names: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Name", "Age"]);
    assert_eq!(t["columnDefinitions"][1]["type"], "date");
    assert_eq!(t["rows"][0]["cells"], json!(["w1", "30s"]));

    let cols = [
        json!({"name": "Size", "type": "integer", "jsonPath": ".spec.size"}),
        json!({"name": "Tags", "type": "string", "jsonPath": ".spec.tags", "priority": 1}),
        json!({"name": "First", "type": "string", "jsonPath": ".spec.tags[*]"}),
        json!({"name": "OK", "type": "boolean", "jsonPath": ".spec.ok"}),
        json!({"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}),
        json!({"name": "Missing", "type": "string", "jsonPath": ".spec.nothing"}),
    ];
    let t = to_table_with_columns(
        &widget,
        &cols,
        &[obj],
        json!({}),
        now(),
        IncludeObject::None,
        "meta.k8s.io/v1",
    )
    .to_value();
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["w1", 3, "[a b]", "a", true, "True", null])
    );
    assert_eq!(t["columnDefinitions"][2]["priority"], 1);
}

#[test]
fn label_selectors() {
    assert_eq!(format_label_selector(&Value::Null), "<none>");
    assert_eq!(format_label_selector(&json!({})), "<none>");
    assert_eq!(
        format_label_selector(&json!({"matchLabels": {"b": "2", "a": "1"},
            "matchExpressions": [{"key": "c", "operator": "Exists"}, {"key": "d", "operator": "DoesNotExist"},
                                 {"key": "e", "operator": "NotIn", "values": ["z", "y"]}]})),
        "a=1,b=2,c,!d,e notin (y,z)"
    );
}
