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
    std::env::var("FLEETCTL_AMQP_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// True when something accepts TCP connections on the broker's port.
pub fn broker_up() -> bool {
    let addr: SocketAddr = "127.0.0.1:5672".parse().unwrap();
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
    Command::new("rabbitmqctl").arg("--help").output().is_ok()
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
    format!("amqp://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:5672/{vhost}")
}

/// `(messages, arguments)` of a queue as `rabbitmqctl list_queues` reports them.
pub fn list_queue(name: &str) -> Option<(u64, String)> {
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
    let _ = rabbitmqctl(&["delete_queue", name]);
}

/// A queue name no other test uses.
pub fn unique_queue(prefix: &str) -> String {
    format!("test-{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The fleetctl binary built for these tests, with logging quiet and no inherited broker URL.
pub fn fleetctl() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetctl"));
    cmd.env_remove("FLEETCTL_AMQP_URL").env_remove("RUST_LOG");
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
pub fn kubectl_on_path() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
