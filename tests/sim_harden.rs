//! The local cluster against hostile or careless clients: values that meet a clock, integers
//! out of range, patches that grow without bound, objects nested too deep, agents that must not
//! outlive a killed sim. Every test runs a `fleetctl sim` process of its own and talks to it as
//! a user does: kubectl, the kube-rs client, raw HTTPS.
//!
//! Waits poll with generous deadlines and never assert speed.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

fn assert_serving(sim: &mut SimProcess) {
    assert!(sim.running(), "the sim exited\n{}", sim.logs());
    sim.kubectl_ok(&["get", "namespaces"]);
}

fn pod_doc(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "x"}]}})
}

#[test]
fn a_grace_period_past_any_clock_does_not_stop_the_sim() {
    if !require_kubectl("a_grace_period_past_any_clock_does_not_stop_the_sim") {
        return;
    }
    let mut sim = SimProcess::start("harden-grace", &["--runtime", "inproc"]);
    let f = doc_file(&sim, "p.json", &pod_doc("p"));
    sim.kubectl_ok(&["create", "-f", &f]);
    wait_until(
        60,
        "pod p is bound to a node",
        || {
            let p = sim.get_json(&["get", "pod", "p", "-n", "default"]);
            p["spec"]["nodeName"].as_str().map(|_| ())
        },
        || sim.logs(),
    );
    // Eviction, dry run, with the same grace: through the kube-rs client.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        install_crypto();
        let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
            .await
            .unwrap();
        let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(client, "default");
        let ep = kube::api::EvictParams {
            delete_options: Some(kube::api::DeleteParams {
                grace_period_seconds: Some(u32::MAX),
                dry_run: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        pods.evict("p", &ep).await.expect("a dry-run eviction");
    });
    assert_serving(&mut sim);
    let r = sim.kubectl(&[
        "delete",
        "pod",
        "p",
        "-n",
        "default",
        "--grace-period=999999999999",
        "--wait=false",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_serving(&mut sim);
    // Marked for deletion at a time that still renders, or already gone.
    let r = sim.kubectl(&["get", "pod", "p", "-n", "default", "-o", "json"]);
    if r.code == 0 {
        let p: Value = serde_json::from_str(&r.stdout).unwrap();
        assert!(
            p["metadata"]["deletionTimestamp"].is_string(),
            "{}",
            r.stdout
        );
    }
    assert!(!sim.logs().contains("internal error"), "{}", sim.logs());
}

#[test]
fn integers_out_of_range_are_refused_and_jobs_still_list() {
    if !require_kubectl("integers_out_of_range_are_refused_and_jobs_still_list") {
        return;
    }
    let mut sim = SimProcess::start("harden-int32", &["--api-only"]);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "big", "namespace": "default"},
        "spec": {"parallelism": 4294967296u64, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "x"}]}}}});
    let f = doc_file(&sim, "job.json", &job);
    let r = sim.kubectl(&["create", "-f", &f]);
    assert_ne!(r.code, 0, "an int32 of 2^32 was accepted: {}", r.all());
    assert!(
        r.stderr.contains("spec.parallelism") && r.stderr.contains("4294967296"),
        "{}",
        r.stderr
    );
    // The same through a patch of a Job that exists.
    let mut ok = job.clone();
    ok["spec"]["parallelism"] = json!(1);
    let f = doc_file(&sim, "job-ok.json", &ok);
    sim.kubectl_ok(&["create", "-f", &f]);
    let r = sim.kubectl(&[
        "patch",
        "job",
        "big",
        "-n",
        "default",
        "--type=merge",
        "-p",
        r#"{"spec":{"activeDeadlineSeconds":18446744073709551615}}"#,
    ]);
    assert_ne!(r.code, 0, "a uint64 in an int64 was accepted: {}", r.all());
    assert!(
        r.stderr.contains("spec.activeDeadlineSeconds"),
        "{}",
        r.stderr
    );
    // A ScaledJob's pollingInterval is an int32 in KEDA's schema.
    let mut sj = bundled_doc("default", "ScaledJob");
    sj["spec"]["pollingInterval"] = json!(2147483648u64);
    let f = doc_file(&sim, "sj.json", &sj);
    let r = sim.kubectl(&["apply", "--server-side", "-f", &f]);
    assert_ne!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("spec.pollingInterval"), "{}", r.stderr);
    // Every typed client still lists Jobs.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        install_crypto();
        let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
            .await
            .unwrap();
        let jobs: kube::Api<k8s_openapi::api::batch::v1::Job> = kube::Api::all(client);
        let list = jobs.list(&Default::default()).await.expect("a typed list");
        assert_eq!(list.items.len(), 1);
    });
    assert_serving(&mut sim);
}

/// A sim serving the Blob kind of [`free_crd`].
fn sim_with_blobs(prefix: &str) -> SimProcess {
    let sim = SimProcess::start(prefix, &["--api-only"]);
    let f = doc_file(&sim, "crd.json", &free_crd());
    sim.kubectl_ok(&["create", "-f", &f]);
    wait_until(
        30,
        "the Blob kind is served",
        || (sim.kubectl(&["get", "blobs", "-A"]).code == 0).then_some(()),
        || sim.logs(),
    );
    sim
}

#[test]
fn a_json_patch_cannot_grow_an_object_without_bound() {
    if !require_kubectl("a_json_patch_cannot_grow_an_object_without_bound") {
        return;
    }
    let mut sim = sim_with_blobs("harden-patch");
    let mut b = blob("b", 0);
    b["spec"] = json!({"a": {"s": "0123456789abcdef"}, "b": {}});
    let f = doc_file(&sim, "b.json", &b);
    sim.kubectl_ok(&["create", "-f", &f, "--validate=false"]);
    // Copies back and forth grow the object like Fibonacci: 30 of them would be ~50 MB.
    let fib: Vec<Value> = (0..15)
        .flat_map(|i| {
            [
                json!({"op": "copy", "from": "/spec/a", "path": format!("/spec/b/k{i}")}),
                json!({"op": "copy", "from": "/spec/b", "path": format!("/spec/a/k{i}")}),
            ]
        })
        .collect();
    // Copying an object into itself doubles it and nests it one level deeper each time.
    let selfcopy: Vec<Value> = (0..120)
        .map(|_| json!({"op": "copy", "from": "/spec", "path": "/spec/x"}))
        .collect();
    // A value that parses but would nest the object too deep to keep.
    let mut deep = json!(1);
    for _ in 0..110 {
        deep = json!({ "n": deep });
    }
    let nest = vec![json!({"op": "add", "path": "/spec/deep", "value": deep})];
    for (what, patch) in [
        ("copies", fib),
        ("self-copies", selfcopy),
        ("nesting", nest),
    ] {
        let r = sim.kubectl(&[
            "patch",
            "blob",
            "b",
            "-n",
            "default",
            "--type=json",
            "-p",
            &serde_json::to_string(&patch).unwrap(),
        ]);
        assert_ne!(r.code, 0, "{what}: {}", r.all());
        assert!(
            r.stderr.contains("bytes") || r.stderr.contains("levels deep"),
            "{what}: {}",
            r.stderr
        );
        assert_serving(&mut sim);
    }
    let b = sim.get_json(&["get", "blob", "b", "-n", "default"]);
    assert_eq!(b["spec"], json!({"a": {"s": "0123456789abcdef"}, "b": {}}));
}

/// A CRD whose objects may hold anything under `spec`.
fn free_crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "blobs.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "blobs", "singular": "blob", "kind": "Blob", "listKind": "BlobList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}})
}

fn blob(name: &str, levels: usize) -> Value {
    let mut v = json!("leaf");
    for _ in 0..levels {
        v = json!({ "n": v });
    }
    json!({"apiVersion": "example.com/v1", "kind": "Blob",
        "metadata": {"name": name, "namespace": "default"}, "spec": v})
}

#[test]
fn objects_nested_too_deep_are_refused_and_the_state_always_loads() {
    if !require_kubectl("objects_nested_too_deep_are_refused_and_the_state_always_loads") {
        return;
    }
    let sim = sim_with_blobs("harden-depth");
    // 120 levels parse as JSON (the parser stops at 128) but cannot come back from the
    // state file inside its envelope.
    let f = doc_file(&sim, "deep.json", &blob("deep", 120));
    let r = sim.kubectl(&["create", "-f", &f, "--validate=false"]);
    assert_ne!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("levels deep"), "{}", r.stderr);
    let f = doc_file(&sim, "ok.json", &blob("ok", 90));
    sim.kubectl_ok(&["create", "-f", &f, "--validate=false"]);
    // Give the periodic save a moment, then start again on the same state directory.
    std::thread::sleep(Duration::from_secs(2));
    let mut sim = sim.restart(&["--api-only"]);
    let b = sim.get_json(&["get", "blob", "ok", "-n", "default"]);
    assert!(b["spec"]["n"]["n"].is_object(), "{b}");
    assert_serving(&mut sim);
}

#[test]
fn agents_die_with_a_sim_killed_by_sigkill() {
    let test = "agents_die_with_a_sim_killed_by_sigkill";
    if !require_kubectl(test) || !require_broker(test) {
        return;
    }
    let queue = unique_queue("harden-pdeath");
    let sim = SimProcess::start("harden-pdeath", &[]);
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "agent-secrets", "namespace": "agents"},
        "stringData": {"queue-url": amqp_url()}});
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "a", "namespace": "agents"},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0",
            "command": ["fleetctl", "agent"],
            "args": ["--queue", queue, "--checkpoint-dir", "/checkpoints", "--metrics-addr", "0.0.0.0:8080"],
            "env": [{"name": "TASK_QUEUE_URL", "valueFrom": {"secretKeyRef": {"name": "agent-secrets", "key": "queue-url"}}}],
            "volumeMounts": [{"name": "checkpoints", "mountPath": "/checkpoints"}]}],
            "volumes": [{"name": "checkpoints", "emptyDir": {}}]}});
    for (n, d) in [("secret.json", secret), ("pod.json", pod)] {
        let f = doc_file(&sim, n, &d);
        sim.kubectl_ok(&["create", "-f", &f]);
    }
    let marker = sim.dir.s().to_string();
    let agents = || {
        let out = Command::new("pgrep")
            .args(["-f", &format!("agent.*{marker}")])
            .output()
            .expect("pgrep runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    wait_until(
        60,
        "the agent process runs",
        || (!agents().is_empty()).then_some(()),
        || sim.logs(),
    );
    // SAFETY: kill(2) on the sim's process id, a child this test owns.
    unsafe {
        libc::kill(sim.pid() as libc::pid_t, libc::SIGKILL);
    }
    wait_until(
        30,
        "the agents of a SIGKILLed sim are gone",
        || agents().is_empty().then_some(()),
        agents,
    );
    delete_queue(&queue);
}
