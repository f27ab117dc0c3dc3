//! The local cluster at scale, through the interfaces a user has (`fleetctl sim` processes,
//! kube-rs, kubectl, `fleetctl status`):
//!
//! - kill -9 of the sim while 2,000 pods are being created, then a restart on the same state
//!   directory: every object returned before the kill is there (or at most the last batch is
//!   missing), and kubectl works.
//! - A sim restarted on its state directory keeps its address: `fleetctl status --watch`
//!   carries on and ends equal to a fresh `fleetctl status`.
//! - A restarted sim's Job controller acts on its Jobs only once it has seen all their pods:
//!   no pod is created again and none deleted as a surplus.
//! - With a low open-file limit, pods past the budget fail with a clear event while the API
//!   keeps answering, and the log stays small.
//! - The API server out of descriptors backs off instead of spinning, and recovers.
//! - A watcher that stops reading is closed instead of being buffered for.
//! - In-process agents: a task's log lines reach `kubectl logs`; `memory_mb` is counted
//!   against the limit without being allocated inside the sim.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Client;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::{Value, json};

use common::{TempDir, fleetctl, require, require_broker};

const NS: &str = "agents";

/// A `fleetctl sim` process on a state directory, with its stdout in a file.
struct SimProc {
    child: Child,
    kubeconfig: PathBuf,
    stdout: PathBuf,
    ready: String,
}

impl SimProc {
    /// Starts `fleetctl sim --write-kubeconfig <dir>/kubeconfig --state-dir <dir>/state
    /// <extra>`, with RLIMIT_NOFILE set to `nofile` (soft and hard) when given, and waits for
    /// its ready line.
    fn start(dir: &Path, extra: &[&str], nofile: Option<u64>) -> SimProc {
        let kubeconfig = dir.join("kubeconfig");
        let stdout = dir.join(format!("sim-{}.out", uuid::Uuid::new_v4().simple()));
        let mut cmd = fleetctl();
        cmd.arg("sim")
            .arg("--write-kubeconfig")
            .arg(&kubeconfig)
            .arg("--state-dir")
            .arg(dir.join("state"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(dir.join("sim.err")).unwrap());
        if let Some(n) = nofile {
            // SAFETY: only setrlimit, async-signal-safe, between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let rl = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().expect("fleetctl sim starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        let ready = loop {
            if let Ok(Some(st)) = child.try_wait() {
                panic!(
                    "fleetctl sim exited ({st}) before it was ready: {}",
                    std::fs::read_to_string(dir.join("sim.err")).unwrap_or_default()
                );
            }
            let out = std::fs::read_to_string(&stdout).unwrap_or_default();
            if let Some(l) = out.lines().find(|l| l.starts_with("sim ready:")) {
                break l.to_string();
            }
            assert!(Instant::now() < deadline, "no 'sim ready:' line in 60 s");
            std::thread::sleep(Duration::from_millis(50));
        };
        SimProc {
            child,
            kubeconfig,
            stdout,
            ready,
        }
    }

    fn server(&self) -> String {
        self.ready
            .split_whitespace()
            .find_map(|w| w.strip_prefix("server="))
            .unwrap()
            .to_string()
    }

    async fn client(&self) -> Client {
        common::install_crypto();
        fleetctl::cluster::client::connect(Some(&self.kubeconfig), None)
            .await
            .unwrap()
            .0
    }

    fn kubectl(&self, args: &[&str]) -> common::Run {
        let mut cmd = std::process::Command::new("kubectl");
        cmd.env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--request-timeout=30s")
            .args(args)
            .stdin(Stdio::null());
        common::run(&mut cmd)
    }

    fn signal(&mut self, sig: i32) {
        // SAFETY: kill(2) on a child this test owns and has not waited for.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// SIGTERM and the exit status (SIGKILL after 30 s).
    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        common::stop_child(&mut self.child)
    }
}

impl Drop for SimProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bulk"}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

/// kill -9 while 2,000 pods are being created; the restart on the same state directory
/// holds every object a client was given, at its resourceVersion or later, except at most
/// those of the last batch, and kubectl works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_creating_loses_at_most_the_last_batch() {
    let dir = TempDir::new("scale-kill");
    let mut sim = SimProc::start(dir.path(), &["--api-only"], None);
    let client = sim.client().await;
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let created = Arc::new(std::sync::Mutex::new(Vec::<(String, u64)>::new()));
    let mut tasks = vec![];
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    for i in 0..2_000 {
        let pods = pods.clone();
        let created = created.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let pod: Pod = serde_json::from_value(cm(&format!("p-{i}"))).unwrap();
            if let Ok(p) = pods.create(&PostParams::default(), &pod).await {
                let rv = p.metadata.resource_version.unwrap().parse().unwrap();
                created.lock().unwrap().push((p.metadata.name.unwrap(), rv));
            }
        }));
    }
    // Kill in the middle of the creates.
    let deadline = Instant::now() + Duration::from_secs(120);
    while created.lock().unwrap().len() < 800 {
        assert!(Instant::now() < deadline, "the creates did not get going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sim.signal(libc::SIGKILL);
    let _ = sim.child.wait();
    for t in tasks {
        let _ = t.await;
    }
    let created = created.lock().unwrap().clone();
    assert!(created.len() < 2_000, "the kill came after every create");
    let sim = SimProc::start(dir.path(), &["--api-only"], None);
    let client = sim.client().await;
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let list = pods.list(&ListParams::default()).await.unwrap();
    let loaded_rv: u64 = list
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    let have: std::collections::HashMap<String, u64> = list
        .items
        .iter()
        .map(|p| {
            (
                p.metadata.name.clone().unwrap(),
                p.metadata
                    .resource_version
                    .clone()
                    .unwrap()
                    .parse()
                    .unwrap(),
            )
        })
        .collect();
    let mut missing = 0;
    for (name, rv) in &created {
        match have.get(name) {
            Some(now) => assert!(now >= rv, "{name} went back from {rv} to {now}"),
            None => {
                // Only what came after the last batch on disk may be missing.
                assert!(
                    *rv > loaded_rv,
                    "{name} (resourceVersion {rv}) was written before {loaded_rv} and is lost"
                );
                missing += 1;
            }
        }
    }
    eprintln!(
        "{} pods returned before the kill, {missing} of them missing after the restart",
        created.len()
    );
    if require(common::kubectl_on_path(), "kill_9_kubectl_part", "kubectl") {
        let r = sim.kubectl(&["get", "pods", "-n", NS, "--no-headers"]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert_eq!(r.stdout.lines().count(), have.len());
    }
}

/// Fleet lines of a `status -o json` line: everything but the time.
fn fleets(line: &Value) -> Value {
    line["fleets"].clone()
}

/// A sim restarted on its state directory serves on the address it had: a running
/// `fleetctl status --watch -o json` carries on and its fleet lines end equal to a fresh
/// `fleetctl status -o json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_sim_keeps_its_address_and_status_watch_carries_on() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = TempDir::new("scale-restart");
    let mut sim = SimProc::start(dir.path(), &["--api-only"], None);
    let server = sim.server();
    let client = sim.client().await;
    common::put(&client, NS, &common::bundled_doc(NS, "Job")).await;
    let mut watch = common::cli::command(
        &sim.kubeconfig,
        &["status", "--watch", "-o", "json", "--no-queue"],
    )
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a first line")
        .unwrap()
        .unwrap();
    assert!(first.contains("ai-agent-batch"), "{first}");
    assert!(
        sim.stop().is_some_and(|s| s.success()),
        "the sim stops cleanly"
    );
    let sim = SimProc::start(dir.path(), &["--api-only"], None);
    assert_eq!(sim.server(), server, "the restarted sim moved");
    // A change after the restart: a pod of the Job's fleet.
    let client = sim.client().await;
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "after-restart", "labels": {
            "app": "ai-agent", "batch.kubernetes.io/job-name": "ai-agent-batch"}},
        "spec": {"containers": [{"name": "agent", "image": "agent:1"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let fresh = || {
        let r = common::run(
            fleetctl()
                .arg("--kubeconfig")
                .arg(&sim.kubeconfig)
                .args(["status", "-o", "json", "--no-queue"])
                .env_remove("KUBECONFIG"),
        );
        assert_eq!(r.code, 0, "{}", r.all());
        fleets(&serde_json::from_str(&r.stdout).unwrap())
    };
    let want = fresh();
    assert_eq!(want[0]["pods"]["total"], 1, "{want}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = tokio::time::timeout(left, lines.next_line())
            .await
            .expect("status --watch printed nothing matching a fresh status within 60 s")
            .unwrap()
            .expect("status --watch keeps running");
        if fleets(&serde_json::from_str(&line).unwrap()) == want {
            break;
        }
    }
    let _ = watch.start_kill();
}

/// A sim restarted on a state directory holding a Job's 600 pods: its Job controller, like
/// kube-controller-manager waiting for its informers' caches, reconciles only once it has
/// listed every pod, so it creates none again and deletes none as a surplus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_job_controller_waits_for_its_pods() {
    const N: usize = 600;
    // One node too small for any agent pod: the pods stay Pending, nothing runs.
    const UNSCHEDULABLE: &[&str] = &["--nodes", "1", "--node-cpu", "100m"];
    let dir = TempDir::new("scale-job-restart");
    let mut sim = SimProc::start(dir.path(), UNSCHEDULABLE, None);
    let client = sim.client().await;
    let mut job = common::bundled_doc(NS, "Job");
    job["spec"]["parallelism"] = json!(N);
    job["spec"]["completions"] = json!(N);
    common::put(&client, NS, &job).await;
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let names = |list: Vec<Pod>| -> std::collections::BTreeSet<String> {
        list.into_iter().filter_map(|p| p.metadata.name).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let before = loop {
        let now = names(pods.list(&ListParams::default()).await.unwrap().items);
        if now.len() >= N {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {N} pods created",
            now.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(before.len(), N);
    assert!(
        sim.stop().is_some_and(|s| s.success()),
        "the sim stops cleanly"
    );
    let mut sim = SimProc::start(dir.path(), UNSCHEDULABLE, None);
    let client = sim.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    // Long enough for a controller that acted on a partial view to have created its batch.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let after = names(pods.list(&ListParams::default()).await.unwrap().items);
    let events: Api<Event> = Api::namespaced(client, NS);
    let deletes = events
        .list(&ListParams::default().fields("reason=SuccessfulDelete"))
        .await
        .unwrap()
        .items;
    let extra: Vec<&String> = after.difference(&before).collect();
    assert!(
        extra.is_empty(),
        "pods created again after the restart: {} (e.g. {:?})",
        extra.len(),
        extra.iter().take(3).collect::<Vec<_>>()
    );
    assert_eq!(after, before, "the Job's pods after the restart");
    assert!(
        deletes.is_empty(),
        "pods deleted as a surplus: {:?}",
        deletes
            .iter()
            .take(3)
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
    );
    sim.stop();
}

/// With 1,300 open files (soft and hard), creating more in-process pods than that allows:
/// the extra pods fail to start with an event saying why, kubectl keeps working, and the
/// sim's log stays small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_past_the_open_file_budget_fail_clearly_and_the_api_keeps_answering() {
    let dir = TempDir::new("scale-fds");
    let sim = SimProc::start(
        dir.path(),
        &["--runtime", "inproc", "--nodes", "10", "--node-cpu", "100"],
        Some(1_300),
    );
    assert!(
        sim.ready.contains("open-files=1300"),
        "the ready line says the limit: {}",
        sim.ready
    );
    let allowed: usize = sim
        .ready
        .split("allows ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the ready line says how many pods: {}", sim.ready));
    assert!(allowed > 50 && allowed < 1_300, "{allowed}");
    let client = sim.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let n = allowed + 40;
    for i in 0..n {
        // Agents of a broker nobody serves: they keep trying, and hold their listener.
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": format!("a-{i}")},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "agent", "image": "agent:1", "command": ["fleetctl", "agent"],
                "args": ["--queue", "nowhere", "--checkpoint-dir", "/tmp/ck",
                         "--metrics-addr", "0.0.0.0:8080", "--connect-timeout", "600s",
                         "--task-queue-url", "amqp://127.0.0.1:1/%2f"],
                "resources": {"requests": {"cpu": "10m", "memory": "1Mi"}}}]}
        }))
        .unwrap();
        pods.create(&PostParams::default(), &pod).await.unwrap();
    }
    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    let deadline = Instant::now() + Duration::from_secs(180);
    let refused = loop {
        let evs = events.list(&ListParams::default()).await.unwrap();
        let refused: std::collections::HashSet<String> = evs
            .items
            .iter()
            .filter(|e| {
                e.reason.as_deref() == Some("Failed")
                    && e.message
                        .as_deref()
                        .is_some_and(|m| m.contains("too many open files"))
            })
            .filter_map(|e| e.involved_object.name.clone())
            .collect();
        if refused.len() >= n - allowed {
            break refused;
        }
        assert!(
            Instant::now() < deadline,
            "only {} pods got a 'too many open files' event",
            refused.len()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert!(refused.len() <= n - allowed + 5, "{}", refused.len());
    // The API answers: lists, and kubectl.
    assert_eq!(
        pods.list(&ListParams::default()).await.unwrap().items.len(),
        n
    );
    if require(
        common::kubectl_on_path(),
        "fd_budget_kubectl_part",
        "kubectl",
    ) {
        let r = sim.kubectl(&["get", "pods", "-n", NS, "--no-headers"]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert_eq!(r.stdout.lines().count(), n);
    }
    let log = std::fs::metadata(&sim.stdout).unwrap().len();
    assert!(log < 5 << 20, "the sim's log grew to {log} bytes");
}

/// CPU seconds (user + system) `pid` has used.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis: state is the 3rd field, utime the 14th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    // SAFETY: sysconf only reads a configuration value.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// The API server out of descriptors: connections past its limit wait in the backlog while
/// the accept loop backs off (little CPU, a warning line per 10 s with a count), and once the
/// connections go kubectl works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_out_of_descriptors_backs_off_and_recovers() {
    let dir = TempDir::new("scale-emfile");
    // The connection cap (an eighth of 256 by default) would refuse connections long before the
    // descriptors run out; raised past the limit, the accept loop itself meets EMFILE.
    let sim = SimProc::start(
        dir.path(),
        &["--api-only", "--max-connections", "4096"],
        Some(256),
    );
    let addr: std::net::SocketAddr = sim.server().trim_start_matches("https://").parse().unwrap();
    // Connections that never start TLS hold the sim's descriptors; the next ones wait in the
    // backlog until it is full.
    let mut held = vec![];
    while held.len() < 300 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(c) => held.push(c),
            Err(_) => break,
        }
    }
    assert!(held.len() > 256, "only {} connections", held.len());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = sim.child.id();
    let cpu0 = cpu_secs(pid);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let spent = cpu_secs(pid) - cpu0;
    assert!(
        spent < 1.0,
        "the sim used {spent:.2} s of CPU in 6 s with its descriptors gone: the accept loop spins"
    );
    let err = std::fs::read_to_string(&sim.stdout).unwrap_or_default()
        + &std::fs::read_to_string(dir.path().join("sim.err")).unwrap_or_default();
    let warnings = err.lines().filter(|l| l.contains("accept_failed")).count();
    assert!(
        (1..=2).contains(&warnings),
        "{warnings} accept_failed lines in 7 s (one per 10 s expected):\n{}",
        err.lines().rev().take(5).collect::<Vec<_>>().join("\n")
    );
    drop(held);
    let client = sim.client().await;
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let deadline = Instant::now() + Duration::from_secs(20);
    while pods.list(&ListParams::default()).await.is_err() {
        assert!(Instant::now() < deadline, "the API did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if require(common::kubectl_on_path(), "emfile_kubectl_part", "kubectl") {
        let r = sim.kubectl(&["get", "pods", "-n", NS]);
        assert_eq!(r.code, 0, "{}", r.all());
    }
}

/// A watcher that stops reading while 5,000 pods are created is closed once its buffers are
/// full, rather than having everything queued for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_stops_reading_is_closed() {
    let dir = TempDir::new("scale-watch");
    let sim = SimProc::start(dir.path(), &["--api-only"], None);
    let client = sim.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let mut stream = pods
        .watch(&WatchParams::default().timeout(600), "0")
        .await
        .unwrap()
        .boxed();
    // 5,000 pods of ~4 KB each: far more than the socket buffers hold.
    let filler = "x".repeat(4_000);
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = vec![];
    for i in 0..5_000 {
        let pods = pods.clone();
        let sem = sem.clone();
        let filler = filler.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let mut v = cm(&format!("w-{i}"));
            v["metadata"]["annotations"] = json!({ "filler": filler });
            let pod: Pod = serde_json::from_value(v).unwrap();
            pods.create(&PostParams::default(), &pod).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rss_kb = || {
        std::fs::read_to_string(format!("/proc/{}/status", sim.child.id()))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Past the time a watch waits for a client that does not read.
    tokio::time::sleep(fleetctl::sim::api::watch::STALLED_AFTER + Duration::from_secs(5)).await;
    let rss = rss_kb();
    assert!(rss < 1_500_000, "the sim holds {rss} kB");
    let mut added = 0;
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match stream.next().await {
                Some(Ok(WatchEvent::Added(_))) => added += 1,
                Some(Ok(WatchEvent::Error(e))) => {
                    assert_eq!(e.code, 410);
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stalled watch was kept open");
    assert!(
        added < 5_000,
        "the watch delivered all {added} events: it was buffered for"
    );
}

/// In-process agents: a task's lines reach `kubectl logs` (the container log), and a task
/// holding 3,000 MB under a 1 GiB limit is OOMKilled without the sim allocating it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inproc_agents_log_their_tasks_and_count_memory_without_allocating_it() {
    if !require_broker("inproc_agents_log_their_tasks_and_count_memory_without_allocating_it") {
        return;
    }
    let dir = TempDir::new("scale-inproc");
    let sim = SimProc::start(dir.path(), &["--runtime", "inproc", "--nodes", "1"], None);
    let client = sim.client().await;
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "agent-secrets", "namespace": NS},
        "stringData": {"queue-url": common::amqp_url()}});
    common::put(&client, NS, &secret).await;
    let payload = dir.path().join("payload.json");
    std::fs::write(&payload, r#"{"memory_mb": 3000}"#).unwrap();
    let (q_ok, q_big) = (
        common::unique_queue("inproc-log"),
        common::unique_queue("inproc-mem"),
    );
    common::seed(&q_ok, 1, 1, 10, None);
    common::seed(&q_big, 1, 40, 250, Some(&payload));
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let hwm_before = hwm_kb(sim.child.id());
    for (name, queue) in [("logs", &q_ok), ("hog", &q_big)] {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "agent", "image": "agent:1", "command": ["fleetctl", "agent"],
                "args": ["--queue", queue, "--checkpoint-dir", "/tmp/ck",
                         "--metrics-addr", "0.0.0.0:8080", "--idle-exit", "0s"],
                "env": [{"name": "TASK_QUEUE_URL", "valueFrom": {"secretKeyRef": {"name": "agent-secrets", "key": "queue-url"}}}],
                "resources": {"requests": {"cpu": "10m", "memory": "1Mi"}, "limits": {"memory": "1Gi"}}}]}
        }))
        .unwrap();
        pods.create(&PostParams::default(), &pod).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let p = pods.get("hog").await.unwrap();
        let reason = p
            .status
            .and_then(|s| s.container_statuses)
            .and_then(|c| c.into_iter().next())
            .and_then(|c| c.state)
            .and_then(|s| s.terminated)
            .and_then(|t| t.reason);
        if let Some(r) = reason {
            assert_eq!(r, "OOMKilled");
            break;
        }
        assert!(Instant::now() < deadline, "the hog was never killed");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let grown = hwm_kb(sim.child.id()).saturating_sub(hwm_before);
    assert!(
        grown < 1_000_000,
        "the sim's peak memory grew by {grown} kB: the task's 3,000 MB were allocated"
    );
    let logs: Api<Pod> = Api::namespaced(client, NS);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = logs
            .logs("logs", &Default::default())
            .await
            .unwrap_or_default();
        if text.contains("task_started") && text.contains("task_completed") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the task's lines are not in the container log:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    common::delete_queue(&q_ok);
    common::delete_queue(&q_big);
    for q in [&q_ok, &q_big] {
        common::delete_queue(&format!("{q}.dlq"));
    }
}

fn hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
