//! Helpers shared by the integration tests: the real broker, the real binary.
//!
//! A test that needs RabbitMQ (or rabbitmqctl, or kubectl) fails with a clear message when it is
//! missing and `CI=true`; in a local run it prints that it is skipped, and why, and passes.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;
use std::time::Duration;

pub mod agent;
pub mod cli;
pub mod settings;

pub const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// A broker user whose password is distinctive, so that tests can check it never leaks.
pub const TEST_USER: &str = "fleetctl-test";
pub const TEST_PASSWORD: &str = "Pw-9f3KqZx71";

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Either fails (CI) or reports a skip (local) for a missing prerequisite. Returns false when
/// the test should stop.
pub fn require(ok: bool, test: &str, what: &str) -> bool {
    if ok {
        return true;
    }
    if in_ci() {
        panic!("{test}: {what} is required in CI; .ci/run installs and starts it");
    }
    eprintln!("SKIPPED {test}: {what} is not available (run .ci/run to install it)");
    false
}

pub fn amqp_url() -> String {
    if embedded() {
        return format!("amqp://{TEST_USER}:{TEST_PASSWORD}@{}/%2f", broker_addr());
    }
    std::env::var("FLEETCTL_AMQP_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// `FLEETCTL_TEST_BROKER=embedded`: the tests that need a broker run against `fleetctl broker`
/// (one per test binary, on free ports, logging in as [`TEST_USER`]) instead of RabbitMQ.
pub fn embedded() -> bool {
    std::env::var("FLEETCTL_TEST_BROKER").is_ok_and(|v| v == "embedded")
}

/// A `fleetctl broker` process for the tests of one binary; it dies with the test process.
pub struct EmbeddedBroker {
    pub amqp: String,
    pub http: String,
    _child: std::sync::Mutex<std::process::Child>,
}

/// The embedded broker of this test binary, started on first use.
pub fn embedded_broker() -> &'static EmbeddedBroker {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    static BROKER: std::sync::OnceLock<EmbeddedBroker> = std::sync::OnceLock::new();
    BROKER.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetctl"));
        cmd.env_remove("RUST_LOG");
        cmd.args(["broker", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .args(["--user", TEST_USER, "--password", TEST_PASSWORD])
            .stdout(std::process::Stdio::piped());
        // FLEETCTL_TEST_BROKER_LOG=debug shows the broker's log on the tests' stderr.
        match std::env::var("FLEETCTL_TEST_BROKER_LOG") {
            Ok(level) => {
                cmd.env("RUST_LOG", format!("fleetctl={level}"));
            }
            Err(_) => {
                cmd.stderr(std::process::Stdio::null());
            }
        }
        // SAFETY: prctl is async-signal-safe; the child gets SIGKILL when the test process dies.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        // PR_SET_PDEATHSIG fires when the thread that spawned the child ends, so a thread that
        // lives as long as the test process spawns it (not the test that happened to be first).
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(cmd.spawn());
            loop {
                std::thread::park();
            }
        });
        let mut child = rx
            .recv()
            .expect("the spawning thread answers")
            .expect("fleetctl broker starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the broker prints its start line");
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .unwrap_or_else(|| panic!("no {key} in {line:?}"))
                .to_string()
        };
        EmbeddedBroker {
            amqp: field("amqp="),
            http: field("http="),
            _child: std::sync::Mutex::new(child),
        }
    })
}

/// `host:port` of the broker under test.
pub fn broker_addr() -> String {
    if embedded() {
        embedded_broker().amqp.clone()
    } else {
        "127.0.0.1:5672".to_string()
    }
}

/// True when something accepts TCP connections on the broker's port.
pub fn broker_up() -> bool {
    let addr: SocketAddr = broker_addr().parse().unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

/// The management API's address, as the plugin serves it by default.
pub const MGMT_ADDR: &str = "127.0.0.1:15672";

/// True when something accepts TCP connections on the management API's port.
pub fn mgmt_up() -> bool {
    let addr: SocketAddr = MGMT_ADDR.parse().unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

/// The broker and its management API (or the test is skipped / fails in CI).
pub fn require_mgmt(test: &str) -> bool {
    require_broker(test)
        && require(
            mgmt_up(),
            test,
            "the RabbitMQ management API on 127.0.0.1:15672 (rabbitmq-plugins enable rabbitmq_management)",
        )
}

pub fn rabbitmqctl_available() -> bool {
    embedded() || Command::new("rabbitmqctl").arg("--help").output().is_ok()
}

/// Broker and rabbitmqctl both present (or the test is skipped / fails in CI).
pub fn require_broker(test: &str) -> bool {
    require(broker_up(), test, "RabbitMQ on 127.0.0.1:5672")
        && require(rabbitmqctl_available(), test, "rabbitmqctl")
}

pub fn rabbitmqctl(args: &[&str]) -> Output {
    Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl runs")
}

/// Creates [`TEST_USER`] with full rights on the default vhost, once per test binary.
pub fn ensure_test_user() {
    if embedded() {
        return;
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rabbitmqctl(&["add_user", TEST_USER, TEST_PASSWORD]);
        let _ = rabbitmqctl(&["change_password", TEST_USER, TEST_PASSWORD]);
        let out = rabbitmqctl(&["set_permissions", "-p", "/", TEST_USER, ".*", ".*", ".*"]);
        assert!(
            out.status.success(),
            "set_permissions: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

pub fn test_user_url(vhost: &str) -> String {
    format!(
        "amqp://{TEST_USER}:{TEST_PASSWORD}@{}/{vhost}",
        broker_addr()
    )
}

/// `(messages, arguments)` of a queue as `rabbitmqctl list_queues` reports them.
pub fn list_queue(name: &str) -> Option<(u64, String)> {
    if embedded() {
        return embedded_list_queue(name);
    }
    let out = rabbitmqctl(&[
        "list_queues",
        "-q",
        "--no-table-headers",
        "name",
        "messages",
        "arguments",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines().find_map(|line| {
        let mut cols = line.split('\t');
        (cols.next()? == name).then(|| {
            let messages = cols.next().unwrap_or("").trim().parse().unwrap_or(u64::MAX);
            (messages, cols.next().unwrap_or("").to_string())
        })
    })
}

pub fn delete_queue(name: &str) {
    if embedded() {
        let (url, name) = (amqp_url(), name.to_string());
        // On a thread of its own: callers may be inside a runtime already.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(b) = fleetctl::queue::amqp::Broker::connect(&url, "fleetctl-test").await {
                    let _ = b.delete_queue(&name).await;
                    b.close().await;
                }
            })
        })
        .join();
        return;
    }
    let _ = rabbitmqctl(&["delete_queue", name]);
}

/// `(messages, arguments)` of a queue from the embedded broker's management API.
fn embedded_list_queue(name: &str) -> Option<(u64, String)> {
    use base64::Engine;
    use std::io::{Read, Write};
    let http = embedded_broker()
        .http
        .trim_start_matches("http://")
        .to_string();
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{TEST_USER}:{TEST_PASSWORD}"));
    let mut s = TcpStream::connect(&http).ok()?;
    let path: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    write!(
        s,
        "GET /api/queues/%2F/{path} HTTP/1.1\r\nHost: {http}\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    if !text.starts_with("HTTP/1.1 200") {
        return None;
    }
    let body = text.split("\r\n\r\n").nth(1)?;
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    Some((v["messages"].as_u64()?, v["arguments"].to_string()))
}

/// A queue name no other test uses.
pub fn unique_queue(prefix: &str) -> String {
    format!("test-{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The fleetctl binary built for these tests, with logging quiet and no inherited broker URL
/// (but the embedded broker's under `FLEETCTL_TEST_BROKER=embedded`).
pub fn fleetctl() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetctl"));
    cmd.env_remove("FLEETCTL_AMQP_URL").env_remove("RUST_LOG");
    if embedded() {
        // The default broker URL of every command is the embedded broker's.
        cmd.env("FLEETCTL_AMQP_URL", amqp_url());
    }
    cmd
}

/// `fleetctl agent` without the identity and broker variables of the environment running the
/// tests (each test says which it means).
pub fn agent_cmd() -> Command {
    let mut cmd = fleetctl();
    for var in [
        "TASK_QUEUE_URL",
        "AGENT_INDEX",
        "JOB_COMPLETION_INDEX",
        "POD_NAME",
    ] {
        cmd.env_remove(var);
    }
    cmd.arg("agent");
    cmd
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("fleetctl runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A temporary directory removed when the test ends.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let p = std::env::temp_dir().join(format!("fleetctl-{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn s(&self) -> &str {
        self.0.to_str().expect("temp paths are UTF-8")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Polls `check` every 100 ms until it returns Some, failing the test after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Gives ServiceAccount `sa` of `namespace` the bearer `token` (a service-account-token Secret,
/// which is how the sim knows a token's owner) and writes a kubeconfig using it next to the
/// sim's own, at `path`.
pub async fn service_account_kubeconfig(
    client: &kube::Client,
    sim: &fleetctl::sim::runtime::RunningSim,
    namespace: &str,
    sa: &str,
    token: &str,
    path: &Path,
) {
    use base64::Engine;
    let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("{sa}-token"),
            "annotations": {"kubernetes.io/service-account.name": sa}},
        "type": "kubernetes.io/service-account-token",
        "data": {"token": base64::engine::general_purpose::STANDARD.encode(token)}
    }))
    .unwrap();
    kube::Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), namespace)
        .create(&kube::api::PostParams::default(), &secret)
        .await
        .unwrap();
    let kubeconfig = std::fs::read_to_string(&sim.kubeconfig)
        .unwrap()
        .replace(&sim.token, token);
    std::fs::write(path, kubeconfig).unwrap();
}

/// The bundled manifest of `kind`, prepared for namespace `ns` as `fleetctl apply` sends it.
pub fn bundled_doc(ns: &str, kind: &str) -> serde_json::Value {
    fleetctl::cluster::apply::prepare(fleetctl::cluster::apply::load_bundled().unwrap(), ns, None)
        .unwrap()
        .into_iter()
        .find(|o| o.kind() == kind)
        .unwrap()
        .doc
}

/// Creates or updates one object in `ns` as another client would: server-side apply with
/// manager `test`, forced.
pub async fn put(client: &kube::Client, ns: &str, doc: &serde_json::Value) {
    let api_version = doc["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = kube::core::GroupVersionKind::gvk(group, version, doc["kind"].as_str().unwrap());
    let (resource, _) = kube::discovery::pinned_kind(client, &gvk).await.unwrap();
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(client.clone(), ns, &resource);
    api.patch(
        doc["metadata"]["name"].as_str().unwrap(),
        &kube::api::PatchParams::apply("test").force(),
        &kube::api::Patch::Apply(doc),
    )
    .await
    .unwrap();
}

/// Seeds `count` tasks into `queue` with the real binary (fails the test if seeding fails).
pub fn seed(queue: &str, count: u32, steps: u32, step_ms: u64, payload: Option<&Path>) {
    let mut cmd = fleetctl();
    cmd.args(["seed", "--amqp-url", &amqp_url(), "--queue", queue])
        .args(["--count", &count.to_string()])
        .args(["--steps", &steps.to_string()])
        .args(["--step-ms", &step_ms.to_string()]);
    if let Some(p) = payload {
        cmd.arg("--payload").arg(p);
    }
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "seed failed: {}", r.all());
}

/// An in-process sim (API only unless `configure` sets controllers) and the client the
/// commands build, for the sim's kubeconfig under `dir`.
pub async fn sim(
    dir: &TempDir,
    configure: impl FnOnce(&mut fleetctl::sim::runtime::SimOptions),
) -> (fleetctl::sim::runtime::RunningSim, kube::Client) {
    install_crypto();
    let mut opts = fleetctl::sim::runtime::SimOptions::new(dir.path().join("kubeconfig"));
    configure(&mut opts);
    let sim = fleetctl::sim::runtime::start(opts)
        .await
        .expect("the sim starts");
    let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
        .await
        .unwrap();
    (sim, client)
}

/// True when an installed kubectl answers `kubectl version --client`.
/// [`require`] kubectl on PATH.
pub fn require_kubectl(test: &str) -> bool {
    require(kubectl_on_path(), test, "kubectl")
}

/// Writes `doc` into the sim's directory as a file kubectl can read; its path.
pub fn doc_file(sim: &SimProcess, name: &str, doc: &serde_json::Value) -> String {
    let p = sim.dir.path().join(name);
    std::fs::write(&p, serde_json::to_string(doc).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

/// Polls the management API until `settled` holds (RabbitMQ samples every 5 s), failing the
/// test after 30 s with the last reading.
pub async fn settle(
    mgmt: &fleetctl::queue::mgmt::MgmtClient,
    queue: &str,
    settled: impl Fn(&fleetctl::queue::mgmt::MgmtQueue) -> bool,
) -> fleetctl::queue::mgmt::MgmtQueue {
    let mut last = None;
    for _ in 0..150 {
        match mgmt.queue(queue).await {
            Ok(q) if settled(&q) => return q,
            r => last = Some(r),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("queue {queue} did not settle within 30 s; last reading: {last:?}");
}

/// `kubectl --kubeconfig <kubeconfig> <args>`, its outcome logged to the test's output.
pub fn kubectl_logged(kubeconfig: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig").arg(kubeconfig).args(args);
    let run = run(&mut cmd);
    eprintln!(
        "kubectl {args:?} -> {}\n{}{}",
        run.code, run.stdout, run.stderr
    );
    run
}

pub fn kubectl_on_path() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Polls `check` every 200 ms until it returns Some, failing the test after `secs` with `what`
/// and whatever `context` says at that moment (for code that does not run on tokio).
pub fn wait_until<T>(
    secs: u64,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
    context: impl Fn() -> String,
) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        if std::time::Instant::now() >= deadline {
            panic!("{what}: not within {secs} s\n{}", context());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The bundled manifests for a test of its own, written as one file per object under
/// `dir/manifests` (for `kubectl apply -f`): Secret `agent-secrets` pointing at the broker the
/// tests use, every agent and KEDA trigger reading `queue` (the Job names it in its
/// `fleetctl.io/queue` annotation too), KEDA polling every second, agents leaving after 3 s idle.
/// `fleets` picks the fleets kept (`ScaledJob`, `Job`); `tweak` changes any object last.
pub fn fleet_manifests(
    dir: &Path,
    queue: &str,
    fleets: &[&str],
    tweak: impl Fn(&mut serde_json::Value),
) -> PathBuf {
    use serde_json::json;
    let ns = "agents";
    let out = dir.join("manifests");
    std::fs::create_dir_all(&out).unwrap();
    let url = amqp_url();
    let mut docs = vec![json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "agent-secrets", "namespace": ns},
        "stringData": {"queue-url": url, "rabbitmq-host": url}
    })];
    let objects = fleetctl::cluster::apply::prepare(
        fleetctl::cluster::apply::load_bundled().unwrap(),
        ns,
        None,
    )
    .unwrap();
    for o in objects {
        let mut doc = o.doc;
        let kind = doc["kind"].as_str().unwrap_or_default().to_string();
        if matches!(kind.as_str(), "ScaledJob" | "Job") && !fleets.contains(&kind.as_str()) {
            continue;
        }
        let template = if kind == "ScaledJob" {
            doc["spec"]["pollingInterval"] = json!(1);
            doc["spec"]["triggers"][0]["metadata"]["queueName"] = json!(queue);
            Some(&mut doc["spec"]["jobTargetRef"]["template"])
        } else if kind == "Job" {
            doc["metadata"]["annotations"]["fleetctl.io/queue"] = json!(queue);
            Some(&mut doc["spec"]["template"])
        } else {
            None
        };
        if let Some(t) = template {
            let args = t["spec"]["containers"][0]["args"].as_array_mut().unwrap();
            for i in 0..args.len() {
                if args[i] == "--queue" {
                    args[i + 1] = json!(queue);
                }
            }
            args.extend([json!("--idle-exit"), json!("3s")]);
        }
        tweak(&mut doc);
        docs.push(doc);
    }
    for (i, d) in docs.iter().enumerate() {
        std::fs::write(
            out.join(format!("{i:02}.yaml")),
            serde_json::to_string(d).unwrap(),
        )
        .unwrap();
    }
    out
}

/// Stops a child as a supervisor would: SIGTERM, then SIGKILL after 20 s. Its exit status, or
/// None when it had to be killed.
pub fn stop_child(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    if let Ok(Some(s)) = child.try_wait() {
        return Some(s);
    }
    // SAFETY: kill(2) on the id of a child the caller still owns (not yet waited for).
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A `fleetctl sim` of its own, as a separate process: nodes, controllers and the kubelet with
/// the `process` runtime (every agent is a real `fleetctl agent` child), its state and logs under
/// a temporary directory. kubectl runs against it with a HOME of its own. Stopped with SIGTERM
/// (then SIGKILL after 20 s) however the test ends; the sim stops its agents.
pub struct SimProcess {
    child: std::process::Child,
    pub kubeconfig: PathBuf,
    home: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
    pub dir: TempDir,
}

impl SimProcess {
    /// Starts `fleetctl sim --write-kubeconfig <dir>/kubeconfig --state-dir <dir>/state <extra>`
    /// and waits (up to 60 s) for its `sim ready:` line.
    pub fn start(prefix: &str, extra: &[&str]) -> Self {
        Self::start_in(TempDir::new(prefix), extra)
    }

    /// Stops the sim (SIGTERM) and starts it again on the same state directory and kubeconfig.
    pub fn restart(mut self, extra: &[&str]) -> Self {
        let status = self.stop();
        assert!(
            status.is_some(),
            "the sim did not stop on SIGTERM\n{}",
            self.logs()
        );
        let dir = std::mem::replace(&mut self.dir, TempDir::new("moved"));
        drop(self);
        Self::start_in(dir, extra)
    }

    /// [`SimProcess::start`] in a directory prepared beforehand (an existing kubeconfig),
    /// with extra environment variables.
    pub fn start_prepared(dir: TempDir, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_with(dir, extra, env)
    }

    /// The sim's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the sim's process runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn start_in(dir: TempDir, extra: &[&str]) -> Self {
        Self::start_with(dir, extra, &[])
    }

    fn start_with(dir: TempDir, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let kubeconfig = dir.path().join("kubeconfig");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let stdout = dir.path().join("sim.out");
        let stderr = dir.path().join("sim.err");
        let child = fleetctl()
            .arg("sim")
            .arg("--write-kubeconfig")
            .arg(&kubeconfig)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .args(extra)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("fleetctl sim starts");
        let mut sim = SimProcess {
            child,
            kubeconfig,
            home,
            stdout,
            stderr,
            dir,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = sim.child.try_wait() {
                panic!(
                    "fleetctl sim exited ({status}) before it was ready\n{}",
                    sim.logs()
                );
            }
            let out = std::fs::read_to_string(&sim.stdout).unwrap_or_default();
            if out.lines().any(|l| l.starts_with("sim ready:")) {
                break;
            }
            if std::time::Instant::now() >= deadline {
                panic!("no 'sim ready:' line within 60 s\n{}", sim.logs());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        sim
    }

    /// The end of what the sim printed, for failure messages.
    pub fn logs(&self) -> String {
        let tail = |p: &Path| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        format!(
            "--- sim stdout (end) ---\n{}\n--- sim stderr (end) ---\n{}",
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }

    /// `kubectl --kubeconfig <the sim's> --request-timeout=30s <args>`.
    pub fn kubectl(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("kubectl");
        cmd.env("HOME", &self.home)
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--request-timeout=30s")
            .args(args)
            .stdin(std::process::Stdio::null());
        run(&mut cmd)
    }

    /// [`SimProcess::kubectl`] that must succeed; its stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let r = self.kubectl(args);
        assert_eq!(r.code, 0, "kubectl {} failed:\n{}", args.join(" "), r.all());
        r.stdout
    }

    /// `kubectl get <args> -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let out = self.kubectl_ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl {all:?}: not JSON ({e})"))
    }

    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        stop_child(&mut self.child)
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let status = self.stop();
        if std::thread::panicking() {
            eprintln!("sim exit status after SIGTERM: {status:?}\n{}", self.logs());
        }
    }
}

/// True when tmux runs here.
pub fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// tmux present (or the test is skipped / fails in CI).
pub fn require_tmux(test: &str) -> bool {
    require(tmux_available(), test, "tmux")
}

/// A detached tmux session on a server (socket) of its own, running one shell command in a pane
/// of a fixed size, driven with `send-keys` and read with `capture-pane`. The server is killed
/// when this is dropped, and with it whatever runs in the pane.
pub struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// `tmux -L <unique> new-session -d -x <width> -y <height> <command>`, without any user
    /// configuration.
    pub fn start(width: u16, height: u16, command: &str) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let t = Tmux {
            socket: format!("fleetctl-test-{id}"),
            session: format!("s{}", &id[..8]),
        };
        let r = run(t
            .cmd()
            .args(["new-session", "-d", "-s", &t.session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(command));
        assert_eq!(r.code, 0, "tmux new-session: {}", r.all());
        t
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-f", "/dev/null", "-L", &self.socket])
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Types `keys` into the pane (tmux key names: `Enter`, `Escape`, `j`, ...), one at a time.
    pub fn send(&self, keys: &[&str]) {
        for k in keys {
            let r = run(self.cmd().args(["send-keys", "-t", &self.session, k]));
            assert_eq!(r.code, 0, "tmux send-keys {k}: {}", r.all());
        }
    }

    /// The pane as text.
    pub fn screen(&self) -> String {
        run(self.cmd().args(["capture-pane", "-p", "-t", &self.session])).stdout
    }

    /// The pane with its attributes as SGR escape sequences.
    pub fn styled_screen(&self) -> String {
        run(self
            .cmd()
            .args(["capture-pane", "-p", "-e", "-t", &self.session]))
        .stdout
    }

    /// A tmux format evaluated for the pane, e.g. `#{alternate_on}`.
    pub fn format(&self, fmt: &str) -> String {
        run(self
            .cmd()
            .args(["display-message", "-p", "-t", &self.session, fmt]))
        .stdout
        .trim()
        .to_string()
    }

    /// Waits until the pane satisfies `pred`, failing with the last screen after `secs`.
    pub fn wait(&self, secs: u64, what: &str, pred: impl Fn(&str) -> bool) -> String {
        wait_until(
            secs,
            what,
            || {
                let s = self.screen();
                pred(&s).then_some(s)
            },
            || format!("--- screen ---\n{}", self.screen()),
        )
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// The text of the lines of a `capture-pane -e` screen that show reverse video (a selected
/// table row), escape sequences removed.
pub fn reversed_lines(styled: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut reverse = false;
    for line in styled.lines() {
        let mut text = String::new();
        let mut shown_reversed = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' && chars.peek() == Some(&'[') {
                chars.next();
                let mut seq = String::new();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        if c == 'm' {
                            reverse = sgr_reverse(&seq, reverse);
                        }
                        break;
                    }
                    seq.push(c);
                }
                continue;
            }
            if reverse && !c.is_whitespace() {
                shown_reversed = true;
            }
            text.push(c);
        }
        if shown_reversed {
            out.push(text);
        }
    }
    out
}

/// Reverse video after the SGR parameters `params`, given it was `reverse` before.
fn sgr_reverse(params: &str, mut reverse: bool) -> bool {
    let ps: Vec<&str> = params.split(';').collect();
    let mut i = 0;
    while i < ps.len() {
        match ps[i] {
            "" | "0" => reverse = false,
            "7" => reverse = true,
            "27" => reverse = false,
            // Extended colours: 38;5;N or 38;2;R;G;B (and 48, 58), whose numbers are not
            // attributes.
            "38" | "48" | "58" => {
                i += if ps.get(i + 1) == Some(&"5") { 2 } else { 4 };
            }
            _ => {}
        }
        i += 1;
    }
    reverse
}
