//! `metrics.k8s.io` in the local cluster, with real parts: a `fleetctl sim` process (each
//! runtime), real `fleetctl agent`s working real tasks from RabbitMQ (or the embedded broker),
//! and real `kubectl top`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::*;

/// An agent pod as the manifests define it, reading `queue`.
fn agent_pod(name: &str, queue: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "agents", "labels": {"app": "ai-agent", "test": name}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{
                "name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0",
                "command": ["fleetctl", "agent"],
                "args": ["--queue", queue, "--checkpoint-dir", "/tmp/checkpoints",
                         "--metrics-addr", "0.0.0.0:8080", "--idle-exit", "0s"],
                "ports": [{"name": "metrics", "containerPort": 8080}],
                "env": [
                    {"name": "TASK_QUEUE_URL", "valueFrom": {"secretKeyRef": {"name": "agent-secrets", "key": "queue-url"}}},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                ],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                              "limits": {"memory": "1Gi"}},
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            }],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        }
    })
}

/// One `kubectl top pods` row: name, millicores, MiB.
#[derive(Debug, Clone)]
struct Row {
    name: String,
    cpu_m: u64,
    mem_mi: u64,
}

/// Rows of `kubectl top` output (`NAME CPU(cores) MEMORY(bytes)`, or with `--containers`
/// `POD NAME CPU MEMORY`); `name_col` picks the name column.
fn rows(out: &str, name_col: usize) -> Vec<Row> {
    out.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let cpu = f.iter().find(|x| x.ends_with('m'))?;
            let mem = f.iter().find(|x| x.ends_with("Mi"))?;
            Some(Row {
                name: f.get(name_col)?.to_string(),
                cpu_m: cpu.trim_end_matches('m').parse().ok()?,
                mem_mi: mem.trim_end_matches("Mi").parse().ok()?,
            })
        })
        .collect()
}

fn find<'a>(rows: &'a [Row], name: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.name == name)
}

/// The raw PodMetrics of a pod: (nanocores, KiB) summed over containers.
fn raw_usage(sim: &SimProcess, pod: &str) -> Option<(u64, u64)> {
    let r = sim.kubectl(&[
        "get",
        "--raw",
        &format!("/apis/metrics.k8s.io/v1beta1/namespaces/agents/pods/{pod}"),
    ]);
    if r.code != 0 {
        return None;
    }
    let v: Value = serde_json::from_str(&r.stdout).ok()?;
    let mut cpu = 0;
    let mut mem = 0;
    for c in v["containers"].as_array()? {
        cpu += c["usage"]["cpu"]
            .as_str()?
            .strip_suffix('n')?
            .parse::<u64>()
            .ok()?;
        mem += c["usage"]["memory"]
            .as_str()?
            .strip_suffix("Ki")?
            .parse::<u64>()
            .ok()?;
    }
    Some((cpu, mem))
}

fn apply(sim: &SimProcess, dir: &Path, name: &str, doc: &Value) {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, doc.to_string()).unwrap();
    sim.kubectl_ok(&["apply", "-f", path.to_str().unwrap()]);
}

/// Three agents: `busy-agent` works through thousands of short tasks, `idle-agent` one slow
/// task (a step a second), `mem-agent` one task holding 200 MB. `kubectl top` shows every
/// pod with non-zero CPU (and memory), the 200 MB within 30 s, busy above idle, per container,
/// sorted, and the nodes.
fn top_against_running_agents(runtime: &str) {
    let test = format!("kubectl_top_{runtime}");
    if !require_broker(&test) || !require(kubectl_on_path(), &test, "kubectl") {
        return;
    }
    let sim = SimProcess::start(&format!("top-{runtime}"), &["--runtime", runtime]);
    let dir = sim.dir.path().to_path_buf();
    apply(
        &sim,
        &dir,
        "secret",
        &json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "agent-secrets", "namespace": "agents"},
                "stringData": {"queue-url": amqp_url()}}),
    );
    let busy_q = unique_queue("top-busy");
    let idle_q = unique_queue("top-idle");
    let mem_q = unique_queue("top-mem");
    seed(&busy_q, 20_000, 1, 0, None);
    seed(&idle_q, 1, 600, 1000, None);
    let payload = dir.join("payload.json");
    std::fs::write(&payload, r#"{"memory_mb": 200}"#).unwrap();
    seed(&mem_q, 1, 240, 500, Some(&payload));
    for (name, q) in [
        ("busy-agent", &busy_q),
        ("idle-agent", &idle_q),
        ("mem-agent", &mem_q),
    ] {
        apply(&sim, &dir, name, &agent_pod(name, q));
    }
    sim.kubectl_ok(&[
        "wait",
        "--for=jsonpath={.status.phase}=Running",
        "-n",
        "agents",
        "pod/busy-agent",
        "pod/idle-agent",
        "pod/mem-agent",
        "--timeout=60s",
    ]);
    let running = Instant::now();

    // The 200 MB task shows within 30 s of the pod running.
    let top = wait_until(
        30,
        "mem-agent shows 200 MB in kubectl top",
        || {
            let r = sim.kubectl(&["top", "pods", "-n", "agents"]);
            let rs = rows(&r.stdout, 0);
            (find(&rs, "mem-agent").is_some_and(|m| m.mem_mi >= 200)
                && ["busy-agent", "idle-agent"]
                    .iter()
                    .all(|n| find(&rs, n).is_some()))
            .then_some(rs)
        },
        || sim.kubectl(&["top", "pods", "-n", "agents"]).all() + &sim.logs(),
    );
    eprintln!(
        "{test}: 200 MB seen {:.1} s after Running: {top:?}",
        running.elapsed().as_secs_f64()
    );

    // A window later every pod has used CPU in it; busy above idle.
    std::thread::sleep(Duration::from_secs(11));
    let out = sim.kubectl_ok(&["top", "pods", "-n", "agents", "--sort-by=cpu"]);
    let rs = rows(&out, 0);
    assert_eq!(rs.len(), 3, "{out}");
    assert_eq!(rs[0].name, "busy-agent", "sorted by CPU:\n{out}");
    let busy = find(&rs, "busy-agent").unwrap();
    let idle = find(&rs, "idle-agent").unwrap();
    assert!(busy.cpu_m > idle.cpu_m, "busy above idle:\n{out}");
    for r in &rs {
        assert!(r.cpu_m > 0, "non-zero CPU for {}:\n{out}", r.name);
        // An in-process agent's memory is what it accounts for (~30 KiB when it holds
        // nothing), less than the 1 MiB kubectl top prints; its raw value is checked below.
        if runtime == "process" || r.name == "mem-agent" {
            assert!(r.mem_mi > 0, "non-zero memory for {}:\n{out}", r.name);
        }
    }
    for name in ["busy-agent", "idle-agent", "mem-agent"] {
        let (cpu, ki) = raw_usage(&sim, name).expect("PodMetrics get");
        assert!(cpu > 0 && ki > 0, "{name}: {cpu}n {ki}Ki");
    }
    let out = sim.kubectl_ok(&["top", "pods", "-n", "agents", "--sort-by=memory"]);
    assert_eq!(
        rows(&out, 0)[0].name,
        "mem-agent",
        "sorted by memory:\n{out}"
    );

    let out = sim.kubectl_ok(&["top", "pods", "-n", "agents", "--containers"]);
    let rs = rows(&out, 0);
    assert_eq!(rs.len(), 3, "{out}");
    assert!(
        out.lines()
            .skip(1)
            .all(|l| l.split_whitespace().nth(1) == Some("agent")),
        "{out}"
    );

    let out = sim.kubectl_ok(&["top", "pods", "-A", "-l", "test=mem-agent"]);
    assert!(
        out.contains("mem-agent") && !out.contains("busy-agent"),
        "{out}"
    );

    let out = sim.kubectl_ok(&["top", "nodes"]);
    let nodes = rows(&out, 0);
    assert!(!nodes.is_empty(), "{out}");
    assert!(nodes.iter().all(|n| n.cpu_m > 0 && n.mem_mi > 0), "{out}");
    let node_of_mem = sim.kubectl_ok(&[
        "get",
        "pod",
        "mem-agent",
        "-n",
        "agents",
        "-o",
        "jsonpath={.spec.nodeName}",
    ]);
    assert!(
        find(&nodes, node_of_mem.trim()).is_some_and(|n| n.mem_mi >= 200 + 256),
        "the node sums its pods and its overhead:\n{out}"
    );

    for q in [busy_q, idle_q, mem_q] {
        delete_queue(&q);
    }
}

#[test]
fn kubectl_top_process_runtime() {
    top_against_running_agents("process");
}

#[test]
fn kubectl_top_inproc_runtime() {
    top_against_running_agents("inproc");
}

/// Discovery lists the group (legacy and aggregated), no pod is listed before it is sampled,
/// writes and watches are refused; without metrics-server `kubectl top` says the API is absent.
#[test]
fn discovery_and_the_absent_api() {
    let test = "discovery_and_the_absent_api";
    if !require(kubectl_on_path(), test, "kubectl") {
        return;
    }
    let sim = SimProcess::start("metrics-disc", &[]);
    let out = sim.kubectl_ok(&["api-resources", "--api-group=metrics.k8s.io", "-o", "wide"]);
    assert!(
        out.contains("PodMetrics") && out.contains("NodeMetrics"),
        "{out}"
    );
    assert!(out.contains("get,list"), "{out}");
    let legacy = sim.kubectl_ok(&["get", "--raw", "/apis/metrics.k8s.io/v1beta1"]);
    let v: Value = serde_json::from_str(&legacy).unwrap();
    let names: Vec<&str> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.contains(&"pods") && names.contains(&"nodes"),
        "{legacy}"
    );
    let list = sim.kubectl_ok(&[
        "get",
        "--raw",
        "/apis/metrics.k8s.io/v1beta1/namespaces/agents/pods",
    ]);
    let v: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v["kind"], "PodMetricsList");
    assert_eq!(v["items"], json!([]));
    let r = sim.kubectl(&[
        "get",
        "--raw",
        "/apis/metrics.k8s.io/v1beta1/namespaces/agents/pods/nope",
    ]);
    assert_ne!(r.code, 0);
    assert!(r.all().contains("not found"), "{}", r.all());
    let r = sim.kubectl(&["delete", "podmetrics.metrics.k8s.io", "x", "-n", "agents"]);
    assert_ne!(r.code, 0, "{}", r.all());
    drop(sim);

    let sim = SimProcess::start("metrics-absent", &["--without-metrics-server"]);
    let r = sim.kubectl(&["top", "pods", "-n", "agents"]);
    assert_ne!(r.code, 0);
    assert!(r.all().contains("Metrics API not available"), "{}", r.all());
    let out = sim.kubectl_ok(&["api-resources"]);
    assert!(!out.contains("metrics.k8s.io"), "{out}");
}

fn status_json(sim: &SimProcess) -> Value {
    let r = run(fleetctl().arg("--kubeconfig").arg(&sim.kubeconfig).args([
        "status",
        "-o",
        "json",
        "--no-queue",
        "--scrape",
        "off",
    ]));
    assert_eq!(r.code, 0, "{}", r.all());
    serde_json::from_str(r.stdout.trim()).expect("one JSON object")
}

/// `fleetctl status -o json` carries each fleet's CPU and memory from metrics.k8s.io; without
/// metrics-server the fields are null and a note names it.
#[test]
fn status_json_usage_and_the_absent_api() {
    let test = "status_json_usage_and_the_absent_api";
    if !require_broker(test) || !require(kubectl_on_path(), test, "kubectl") {
        return;
    }
    let sim = SimProcess::start("status-usage", &["--runtime", "inproc"]);
    let queue = unique_queue("status-usage");
    let manifests = fleet_manifests(sim.dir.path(), &queue, &["Job"], |_| {});
    seed(&queue, 2_000, 2, 200, None);
    sim.kubectl_ok(&["apply", "-f", manifests.to_str().unwrap()]);
    let status = wait_until(
        60,
        "a fleet with measured pods",
        || {
            let s = status_json(&sim);
            s["fleets"]
                .as_array()?
                .iter()
                .any(|f| f["usage"]["pods_measured"].as_u64().is_some_and(|n| n > 0))
                .then_some(s)
        },
        || sim.logs(),
    );
    assert_eq!(status["usage_degraded"], Value::Null, "{status}");
    let f = status["fleets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["usage"]["pods_measured"].as_u64().is_some_and(|n| n > 0))
        .unwrap();
    let u = &f["usage"];
    assert!(u["cpu_millicores"].as_f64().unwrap() > 0.0, "{u}");
    assert!(u["memory_bytes"].as_u64().unwrap() > 0, "{u}");
    // The bundled manifests set memory limits: the worst pod is named against its limit.
    assert!(u["worst_memory"]["pod"].is_string(), "{u}");
    assert!(
        u["worst_memory"]["used_ratio"].as_f64().unwrap() > 0.0,
        "{u}"
    );
    delete_queue(&queue);
    drop(sim);

    let sim = SimProcess::start("status-absent", &["--without-metrics-server"]);
    let manifests = fleet_manifests(sim.dir.path(), "status-absent", &["Job"], |_| {});
    sim.kubectl_ok(&["apply", "-f", manifests.to_str().unwrap()]);
    let status = status_json(&sim);
    let note = status["usage_degraded"].as_str().unwrap_or_default();
    assert!(note.contains("metrics-server"), "{status}");
    for f in status["fleets"].as_array().unwrap() {
        assert_eq!(f["usage"], Value::Null, "{f}");
    }
    let r = run(fleetctl().arg("--kubeconfig").arg(&sim.kubeconfig).args([
        "status",
        "--no-queue",
        "--scrape",
        "off",
    ]));
    assert!(
        r.stdout
            .contains("degraded: usage: metrics.k8s.io is not served"),
        "{}",
        r.all()
    );
}
