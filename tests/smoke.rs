//! `fleetctl smoke-test` end to end: the real binary against a `fleetctl sim` over HTTPS (a
//! process of its own with real agent processes, or the in-process API), real RabbitMQ, and the
//! JSON report checked against `assets/smoke-test.schema.json` field by field.
//!
//! Each run uses a fresh `smoke-<id>` queue, KEDA polling every second, and the short tasks the
//! smoke test seeds, so that the whole binary stays well under three minutes.

mod common;

use std::path::Path;

use serde_json::{Value, json};

use common::{SimProcess, TempDir};

const NS: &str = "agents";

fn ready(test: &str) -> bool {
    common::require_broker(test) && common::require(common::kubectl_on_path(), test, "kubectl")
}

/// `fleetctl smoke-test -o json --poll 1s <extra>` against `kubeconfig`.
fn smoke(kubeconfig: &Path, amqp_url: &str, extra: &[&str]) -> common::Run {
    let mut cmd = common::fleetctl();
    cmd.arg("smoke-test")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--amqp-url", amqp_url, "-o", "json", "--poll", "1s"])
        .args(extra);
    common::run(&mut cmd)
}

/// The schema the README documents.
fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/smoke-test.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn type_matches(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("the schema uses type {other}, which this check does not know"),
    }
}

/// Checks `v` against the subset of JSON Schema the documented schema uses (type, enum,
/// required, properties, items, minimum), naming the field that does not fit.
fn validate(v: &Value, s: &Value, at: &str) {
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
            _ => panic!("bad type in schema at {at}"),
        };
        assert!(
            types.iter().any(|t| type_matches(v, t)),
            "{at}: {v} is not of type {types:?}"
        );
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        assert!(values.contains(v), "{at}: {v} is not one of {values:?}");
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        assert!(n >= min, "{at}: {n} < {min}");
    }
    if let Some(obj) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            assert!(obj.contains_key(r), "{at}: field {r} is missing");
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                if let Some(x) = obj.get(k) {
                    validate(x, sub, &format!("{at}.{k}"));
                }
            }
            for k in obj.keys() {
                assert!(
                    props.contains_key(k),
                    "{at}: field {k} is not in the schema"
                );
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(x, items, &format!("{at}[{i}]"));
        }
    }
}

/// The report on stdout, validated against the schema; every step is listed once, in order.
fn report(run: &common::Run) -> Value {
    let v: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{}", run.all()));
    validate(&v, &schema(), "$");
    let names: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "preflight",
            "manifests",
            "seed",
            "scale",
            "pods",
            "metrics",
            "disruption",
            "completion",
            "cleanup"
        ],
        "{v}"
    );
    v
}

fn step<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {r}"))
}

/// Asserts the run failed (exit 1) at `name` with a reason containing every one of `words`,
/// and that the steps after it were skipped (clean-up aside).
fn failed_at(run: &common::Run, name: &str, words: &[&str]) -> Value {
    assert_eq!(run.code, 1, "exit code; {}", run.all());
    let r = report(run);
    assert_eq!(r["result"], "FAIL", "{r}");
    assert_eq!(r["failed_step"], name, "{r}");
    let reason = r["reason"].as_str().unwrap();
    for w in words {
        assert!(reason.contains(w), "{w:?} not in the reason: {reason}");
    }
    assert_eq!(step(&r, name)["status"], "failed");
    assert_eq!(step(&r, name)["message"], reason);
    let steps = r["steps"].as_array().unwrap();
    let at = steps.iter().position(|s| s["name"] == name).unwrap();
    for s in &steps[at + 1..steps.len() - 1] {
        assert_eq!(s["status"], "skipped", "{s}");
    }
    r
}

/// The namespace and Secret `agent-secrets` with `url` for the agents and KEDA, by kubectl.
fn secret(sim: &SimProcess, url: &str) {
    let _ = sim.kubectl(&["create", "namespace", NS]);
    sim.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "agent-secrets",
        "-n",
        NS,
        &format!("--from-literal=queue-url={url}"),
        &format!("--from-literal=rabbitmq-host={url}"),
    ]);
}

fn queue_of(r: &Value) -> String {
    r["queue"].as_str().unwrap().to_string()
}

#[test]
fn passes_through_the_whole_chain_and_reports_2_jobs_for_10_messages() {
    let test = "passes_through_the_whole_chain_and_reports_2_jobs_for_10_messages";
    if !ready(test) {
        return;
    }
    let sim = SimProcess::start("smoke-pass", &[]);
    let url = common::amqp_url();
    secret(&sim, &url);
    let run = smoke(&sim.kubeconfig, &url, &["--count", "10"]);
    assert_eq!(run.code, 0, "{}\n{}", run.all(), sim.logs());
    let r = report(&run);
    assert_eq!(r["result"], "PASS", "{r}");
    assert_eq!(r["failed_step"], Value::Null);
    assert_eq!(
        (r["count"].as_u64(), r["scaled_job"].as_str()),
        (Some(10), Some("ai-agent"))
    );
    let queue = queue_of(&r);
    assert!(queue.starts_with("smoke-"), "{queue}");
    for name in [
        "preflight",
        "manifests",
        "seed",
        "scale",
        "pods",
        "metrics",
        "completion",
        "cleanup",
    ] {
        let s = step(&r, name);
        assert_eq!(s["status"], "passed", "{s}");
        assert_eq!(s["expected"], s["seen"], "{s}");
    }
    assert_eq!(step(&r, "disruption")["status"], "skipped");
    let scale = step(&r, "scale");
    assert_eq!(
        (scale["expected"].as_u64(), scale["seen"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(scale["message"], "2 Jobs (10 messages / 5 per Job)");
    assert_eq!(step(&r, "seed")["seen"], 10);
    assert_eq!(step(&r, "completion")["seen"], 10);
    assert_eq!(step(&r, "metrics")["seen"], 2);
    // Clean-up: the queue is gone, the ScaledJob reads the fleet's queue again and polls as
    // the bundle says, and the run's Jobs are deleted.
    assert_eq!(
        common::list_queue(&queue),
        None,
        "queue {queue} left behind"
    );
    let sj = sim.get_json(&["get", "scaledjob", "ai-agent", "-n", NS]);
    assert_eq!(
        sj["spec"]["triggers"][0]["metadata"]["queueName"],
        "agent-tasks"
    );
    assert_eq!(sj["spec"]["pollingInterval"], 15);
    let args = sj["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(
        args.contains("agent-tasks") && !args.contains(&queue),
        "{args}"
    );
    let jobs = sim.get_json(&[
        "get",
        "jobs",
        "-n",
        NS,
        "-l",
        "scaledjob.keda.sh/name=ai-agent",
    ]);
    assert_eq!(jobs["items"].as_array().unwrap().len(), 0, "{jobs}");

    // The text form: a checklist and PASS, exit 0, no password anywhere.
    let mut cmd = common::fleetctl();
    cmd.arg("smoke-test")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["--amqp-url", &url, "--poll", "1s", "--count", "5"]);
    let text = common::run(&mut cmd);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(text.stdout.contains("[ok]   scale"), "{}", text.stdout);
    assert!(
        text.stdout.contains("1 Job (5 messages / 5 per Job)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("PASS: 5 tasks"),
        "{}",
        text.stdout
    );
    // The second run applied nothing new.
    assert!(text.stdout.contains("11 unchanged"), "{}", text.stdout);
    if let Some(pw) = fleetctl::redact::url_password(&url) {
        assert!(!text.all().contains(&format!(":{pw}@")), "{}", text.all());
    }
}

#[test]
fn fails_at_preflight_when_keda_is_not_installed() {
    let test = "fails_at_preflight_when_keda_is_not_installed";
    if !ready(test) {
        return;
    }
    let sim = SimProcess::start("smoke-nokeda", &["--api-only", "--without-keda"]);
    let url = common::amqp_url();
    secret(&sim, &url);
    let run = smoke(&sim.kubeconfig, &url, &[]);
    let r = failed_at(
        &run,
        "preflight",
        &[
            "KEDA is not installed",
            "scaledjobs",
            "helm install keda",
            "fleetctl sim",
        ],
    );
    assert_eq!(step(&r, "preflight")["seen"], 1);
    assert_eq!(step(&r, "cleanup")["message"], "nothing to clean up");
    assert!(
        run.stderr.contains("smoke test failed at step preflight"),
        "{}",
        run.stderr
    );
}

#[test]
fn fails_at_preflight_when_the_broker_is_down_or_refuses_the_password() {
    let test = "fails_at_preflight_when_the_broker_is_down_or_refuses_the_password";
    if !ready(test) {
        return;
    }
    common::ensure_test_user();
    let sim = SimProcess::start("smoke-broker", &["--api-only"]);
    let url = common::amqp_url();
    // The Secret points at a port nothing listens on.
    secret(&sim, "amqp://guest:Secret-pw-1@127.0.0.1:1/%2f");
    let run = smoke(&sim.kubeconfig, &url, &[]);
    failed_at(
        &run,
        "preflight",
        &[
            "cannot reach RabbitMQ",
            "127.0.0.1:1",
            "key queue-url of Secret agent-secrets",
        ],
    );
    assert!(!run.all().contains("Secret-pw-1"), "{}", run.all());

    // The Secret is right but --amqp-url is down.
    sim.kubectl_ok(&["delete", "secret", "agent-secrets", "-n", NS]);
    secret(&sim, &url);
    let run = smoke(
        &sim.kubeconfig,
        "amqp://guest:Other-pw-2@127.0.0.1:1/%2f",
        &[],
    );
    failed_at(&run, "preflight", &["cannot reach RabbitMQ", "--amqp-url"]);
    assert!(!run.all().contains("Other-pw-2"), "{}", run.all());

    // The Secret holds a wrong password.
    let wrong = format!("amqp://{}:Wrong-pw-3@127.0.0.1:5672/%2f", common::TEST_USER);
    sim.kubectl_ok(&["delete", "secret", "agent-secrets", "-n", NS]);
    secret(&sim, &wrong);
    let run = smoke(&sim.kubeconfig, &url, &[]);
    failed_at(
        &run,
        "preflight",
        &[
            &format!("refused the login of user '{}'", common::TEST_USER),
            "key queue-url of Secret agent-secrets",
            "right password",
        ],
    );
    assert!(!run.all().contains("Wrong-pw-3"), "{}", run.all());
    assert!(run.all().contains("***"), "{}", run.all());
}

#[test]
fn fails_at_preflight_listing_the_verb_rbac_forbids() {
    let test = "fails_at_preflight_listing_the_verb_rbac_forbids";
    if !ready(test) {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = TempDir::new("smoke-rbac");
        let (sim, client) = common::sim(&dir, |o| o.enforce_rbac = true).await;
        let url = common::amqp_url();
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "agent-secrets", "namespace": NS},
            "stringData": {"queue-url": url, "rabbitmq-host": url}});
        // Everything in the namespace, but Jobs without `create`.
        let everything = json!(["*"]);
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "smoke", "namespace": NS},
            "rules": [
                {"apiGroups": ["", "apps", "policy", "networking.k8s.io",
                               "rbac.authorization.k8s.io", "keda.sh"],
                 "resources": everything, "verbs": everything},
                {"apiGroups": ["batch"], "resources": ["jobs"],
                 "verbs": ["get", "list", "watch", "patch", "update", "delete"]}]});
        let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "smoke", "namespace": NS},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "smoke"},
            "subjects": [{"kind": "ServiceAccount", "name": "smoke", "namespace": NS}]});
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "smoke", "namespace": NS}});
        for doc in [&secret, &sa, &role, &binding] {
            common::put(&client, NS, doc).await;
        }
        let token = "smoke-token-without-create-jobs";
        let kubeconfig = dir.path().join("sa-kubeconfig");
        common::service_account_kubeconfig(&client, &sim, NS, "smoke", token, &kubeconfig).await;
        let run = tokio::task::spawn_blocking(move || smoke(&kubeconfig, &url, &[]))
            .await
            .unwrap();
        let r = failed_at(
            &run,
            "preflight",
            &[
                "RBAC forbids 1 of the",
                "create jobs.batch",
                "in namespace agents",
            ],
        );
        assert_eq!(step(&r, "preflight")["seen"], 4);
        assert!(!run.all().contains(token));
        // The admin token may do it all: the review itself answers per identity.
        let admin_kubeconfig = sim.kubeconfig.clone();
        let admin = tokio::task::spawn_blocking(move || {
            smoke(&admin_kubeconfig, &common::amqp_url(), &["--timeout", "1s"])
        })
        .await
        .unwrap();
        let r = report(&admin);
        assert_eq!(step(&r, "preflight")["status"], "passed", "{r}");
        sim.stop().await;
        common::delete_queue(&queue_of(&r));
        common::delete_queue(&format!("{}.dlq", queue_of(&r)));
    });
}

#[test]
fn fails_at_scale_when_the_timeout_expires_and_still_cleans_up() {
    let test = "fails_at_scale_when_the_timeout_expires_and_still_cleans_up";
    if !ready(test) {
        return;
    }
    // The API alone: nothing makes Jobs, so the scale step waits until --timeout.
    let sim = SimProcess::start("smoke-timeout", &["--api-only"]);
    let url = common::amqp_url();
    secret(&sim, &url);
    let run = smoke(&sim.kubeconfig, &url, &["--timeout", "4s"]);
    let r = failed_at(
        &run,
        "scale",
        &[
            "KEDA created 0 of 2 Jobs",
            "--timeout 4s expired",
            "kubectl describe scaledjob ai-agent",
        ],
    );
    let scale = step(&r, "scale");
    assert_eq!(
        (scale["expected"].as_u64(), scale["seen"].as_u64()),
        (Some(2), Some(0))
    );
    let cleanup = step(&r, "cleanup");
    assert_eq!(cleanup["status"], "passed", "{cleanup}");
    assert_eq!(common::list_queue(&queue_of(&r)), None);
    let sj = sim.get_json(&["get", "scaledjob", "ai-agent", "-n", NS]);
    assert_eq!(
        sj["spec"]["triggers"][0]["metadata"]["queueName"],
        "agent-tasks"
    );
    assert_eq!(sj["spec"]["pollingInterval"], 15);
}

#[test]
fn fails_at_pods_when_no_node_has_the_memory() {
    let test = "fails_at_pods_when_no_node_has_the_memory";
    if !ready(test) {
        return;
    }
    // The agents request 1Gi; the nodes have 512Mi.
    let sim = SimProcess::start("smoke-unsched", &["--node-memory", "512Mi"]);
    let url = common::amqp_url();
    secret(&sim, &url);
    let run = smoke(&sim.kubeconfig, &url, &["--timeout", "60s"]);
    let r = failed_at(
        &run,
        "pods",
        &["cannot be scheduled", "Insufficient memory"],
    );
    assert_eq!(step(&r, "pods")["seen"], 0);
    assert_eq!(step(&r, "cleanup")["status"], "passed", "{r}");
    let jobs = sim.get_json(&[
        "get",
        "jobs",
        "-n",
        NS,
        "-l",
        "scaledjob.keda.sh/name=ai-agent",
    ]);
    assert_eq!(jobs["items"].as_array().unwrap().len(), 0, "{jobs}");
}

#[test]
fn fails_with_the_exit_code_when_the_agents_crash() {
    let test = "fails_with_the_exit_code_when_the_agents_crash";
    if !ready(test) {
        return;
    }
    let sim = SimProcess::start("smoke-crash", &[]);
    let url = common::amqp_url();
    secret(&sim, &url);
    // The ScaledJob as an operator changed it with kubectl: its agents talk to a broker that
    // is not there and give up after a second (exit 1). The smoke test's apply keeps what
    // the other manager set.
    let mut sj = common::bundled_doc(NS, "ScaledJob");
    let args = sj["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]["args"]
        .as_array_mut()
        .unwrap();
    args.extend(
        [
            "--task-queue-url",
            "amqp://guest:guest@127.0.0.1:1/%2f",
            "--connect-timeout",
            "1s",
        ]
        .map(|a| json!(a)),
    );
    let file = sim.dir.path().join("sj.json");
    std::fs::write(&file, sj.to_string()).unwrap();
    // The TriggerAuthentication the ScaledJob refers to comes with the smoke test's apply.
    sim.kubectl_ok(&["apply", "--server-side", "-f", file.to_str().unwrap()]);
    let run = smoke(&sim.kubeconfig, &url, &["--timeout", "90s"]);
    assert_eq!(run.code, 1, "{}\n{}", run.all(), sim.logs());
    let r = report(&run);
    assert_eq!(r["result"], "FAIL");
    let manifests = step(&r, "manifests");
    assert_eq!(manifests["status"], "passed", "{manifests}");
    assert!(
        manifests["message"]
            .as_str()
            .unwrap()
            .contains("kept as another field manager set them (scaledjob/ai-agent)"),
        "{manifests}"
    );
    let failed = r["failed_step"].as_str().unwrap();
    assert!(["pods", "metrics", "completion"].contains(&failed), "{r}");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("crashed: container agent exited 1"),
        "{reason}"
    );
    assert!(reason.contains("kubectl logs -n agents"), "{reason}");
    // Clean-up restores what the operator had, not the bundle.
    assert_eq!(step(&r, "cleanup")["status"], "passed", "{r}");
    let live = sim.get_json(&["get", "scaledjob", "ai-agent", "-n", NS]);
    let args =
        live["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(
        args.contains("127.0.0.1:1") && args.contains("agent-tasks"),
        "{args}"
    );
}

#[test]
fn real_cluster_tier() {
    let test = "real_cluster_tier";
    let Ok(kubeconfig) = std::env::var("FLEETCTL_TEST_KUBECONFIG") else {
        if std::env::var("FLEETCTL_REQUIRE_CLUSTER").is_ok_and(|v| v == "1") {
            panic!("{test}: FLEETCTL_REQUIRE_CLUSTER=1 but FLEETCTL_TEST_KUBECONFIG is not set");
        }
        eprintln!("SKIPPED {test}: FLEETCTL_TEST_KUBECONFIG is not set");
        return;
    };
    let url = common::amqp_url();
    let run = smoke(Path::new(&kubeconfig), &url, &["--poll", "2s"]);
    let r = report(&run);
    assert_eq!(r["result"], "PASS", "{}", run.all());
    assert_eq!(run.code, 0);
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        vec!["smoke-test", "--count", "0"],
        vec!["smoke-test", "--poll", "100ms"],
        vec!["smoke-test", "--queue", ""],
        vec!["smoke-test", "--amqp-url", "http://nope"],
    ] {
        let run = common::run(common::fleetctl().args(&args));
        assert_eq!(run.code, 2, "{args:?}: {}", run.all());
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn the_schema_check_catches_what_does_not_fit() {
    let good = json!({"result": "FAIL", "failed_step": "scale", "reason": "x", "server": "s",
        "namespace": "agents", "scaled_job": "ai-agent", "queue": "q", "count": 1, "seconds": 0.5,
        "steps": [{"name": "scale", "status": "failed", "seconds": 1.0, "expected": 2, "seen": null,
                   "message": "x"}]});
    validate(&good, &schema(), "$");
    for (field, bad) in [
        ("result", json!("OK")),
        ("count", json!("10")),
        ("failed_step", json!("somewhere")),
        ("steps", json!([{"name": "scale"}])),
    ] {
        let mut v = good.clone();
        v[field] = bad;
        let caught = std::panic::catch_unwind(|| validate(&v, &schema(), "$"));
        assert!(caught.is_err(), "{field} was not caught");
    }
}

#[test]
fn ctrl_c_stops_the_run_and_still_cleans_up() {
    let test = "ctrl_c_stops_the_run_and_still_cleans_up";
    if !ready(test) {
        return;
    }
    // The API alone: the scale step waits, and is interrupted there.
    let sim = SimProcess::start("smoke-interrupt", &["--api-only"]);
    let url = common::amqp_url();
    secret(&sim, &url);
    let child = common::fleetctl()
        .arg("smoke-test")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args([
            "--amqp-url",
            &url,
            "-o",
            "json",
            "--poll",
            "1s",
            "--timeout",
            "120s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The seed step points the ScaledJob at the run's own queue: the run is then in scale.
    let t = std::time::Instant::now();
    loop {
        let r = sim.kubectl(&["get", "scaledjob", "ai-agent", "-n", NS, "-o", "json"]);
        let sj: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
        let q = sj["spec"]["triggers"][0]["metadata"]["queueName"]
            .as_str()
            .unwrap_or("");
        if q.starts_with("smoke-") {
            break;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "the run never seeded: {}",
            r.all()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["result"], "FAIL", "{r}");
    let scale = step(&r, "scale");
    assert_eq!(scale["status"], "failed", "{r}");
    assert!(
        scale["message"].as_str().unwrap().contains("interrupted"),
        "{scale}"
    );
    assert_eq!(step(&r, "cleanup")["status"], "passed", "{r}");
    assert_eq!(
        common::list_queue(&queue_of(&r)),
        None,
        "the run's queue is gone"
    );
    let sj = sim.get_json(&["get", "scaledjob", "ai-agent", "-n", NS]);
    assert_eq!(
        sj["spec"]["triggers"][0]["metadata"]["queueName"],
        "agent-tasks"
    );
    assert_eq!(sj["spec"]["pollingInterval"], 15);
}
