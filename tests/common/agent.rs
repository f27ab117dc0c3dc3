//! Helpers of the agent tests: the broker seen from a test, the checkpoint directory, and
//! real `fleetctl agent` processes whose JSON log lines are collected.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fleetctl::queue::amqp::{Broker, QueueDepth};
use fleetctl::queue::task::Task;
use fleetctl::queue::topology::Topology;
use lapin::BasicProperties;
use lapin::options::{BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::AMQPValue;
use serde_json::Value;

use super::*;

/// How long any single wait may take before the test gives up.
pub const PATIENCE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The broker, seen from the test
// ---------------------------------------------------------------------------------------------

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    install_crypto();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Ready messages and consumers of `queue` by passive declare.
pub fn depth(queue: &str) -> QueueDepth {
    try_depth(queue).unwrap_or_else(|e| panic!("depth of '{queue}': {e}"))
}

/// [`depth`], or why the broker could not tell it (e.g. the queue does not exist yet).
pub fn try_depth(queue: &str) -> Result<QueueDepth, fleetctl::queue::QueueError> {
    block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let d = b.depth(queue).await;
        b.close().await;
        d
    })
}

/// Ready plus unacknowledged messages of `queue`, as rabbitmqctl counts them.
pub fn total_messages(queue: &str) -> u64 {
    list_queue(queue)
        .unwrap_or_else(|| panic!("rabbitmqctl does not list '{queue}'"))
        .0
}

/// Polls until `queue` has exactly `n` ready messages; panics with the last depth seen.
pub fn wait_ready(queue: &str, n: u32, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let d = depth(queue);
        if d.ready == n {
            return;
        }
        if Instant::now() > deadline {
            panic!("'{queue}' never had {n} ready messages; last seen {d:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Polls until rabbitmqctl counts exactly `n` messages (ready + unacked) in `queue`.
pub fn wait_total(queue: &str, n: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let m = total_messages(queue);
        if m == n {
            return;
        }
        if Instant::now() > deadline {
            panic!("'{queue}' never held {n} messages; last count {m}");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Takes one message off `queue` (auto-ack): its body and properties.
pub fn get_one(queue: &str) -> Option<(Vec<u8>, BasicProperties)> {
    block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let ch = b.channel().await.unwrap();
        let m = ch
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
            .map(|m| (m.delivery.data.clone(), m.delivery.properties.clone()));
        b.close().await;
        m
    })
}

/// The task ids in `queue`, read without consuming: every message is fetched unacknowledged and
/// goes back to the queue when the channel closes. Waits until all of them are ready again.
pub fn peek_ids(queue: &str, expected: usize) -> Vec<String> {
    let ids = block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let ch = b.channel().await.unwrap();
        let mut ids = vec![];
        while let Some(m) = ch
            .basic_get(queue.into(), BasicGetOptions { no_ack: false })
            .await
            .unwrap()
        {
            let task: Task = serde_json::from_slice(&m.delivery.data)
                .unwrap_or_else(|e| panic!("seeded body is not a task ({e})"));
            ids.push(task.id.to_string());
        }
        let _ = ch.close(200, "peeked".into()).await;
        b.close().await;
        ids
    });
    assert_eq!(ids.len(), expected, "seeded tasks in '{queue}'");
    wait_ready(queue, expected as u32, PATIENCE);
    ids
}

/// Publishes `body` to `queue` (declared with the agent's topology first), persistent, confirmed.
pub fn publish_raw(queue: &str, body: &[u8]) {
    declare(queue);
    publish_confirmed(
        queue,
        body,
        BasicProperties::default()
            .with_message_id(uuid::Uuid::new_v4().to_string().into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2),
    );
}

/// Declares `queue` and its DLQ as the agent does.
pub fn declare(queue: &str) {
    block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let ch = b.channel().await.unwrap();
        b.declare(&ch, &Topology::new(queue).unwrap())
            .await
            .unwrap();
        b.close().await;
    })
}

/// Publishes `body` with `props` to `queue` through the default exchange, declaring nothing
/// (a declaration would bring back a deleted DLQ), and asserts the broker confirmed it.
pub fn publish_confirmed(queue: &str, body: &[u8], props: BasicProperties) {
    block_on(async {
        let b = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
        let ch = b.channel().await.unwrap();
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                body,
                props,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack(), "the broker confirmed the message");
        b.close().await;
    })
}

/// Waits until the agent consumes `queue` (one consumer on it); a queue the agent has not
/// declared yet is not consumed yet.
pub fn wait_consuming(queue: &str, agent: &Agent) {
    let deadline = Instant::now() + PATIENCE;
    while !try_depth(queue).is_ok_and(|d| d.consumers >= 1) {
        assert!(
            Instant::now() < deadline,
            "the agent never consumed '{queue}'\n{}",
            agent.dump()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The client ports of the broker's connections named `name` (the connection name a client
/// gives, e.g. `fleetctl-agent-<index>`), as rabbitmqctl lists them.
pub fn connection_ports(name: &str) -> Vec<u16> {
    let out = rabbitmqctl(&["list_connections", "-q", "client_properties", "peer_port"]);
    assert!(
        out.status.success(),
        "rabbitmqctl list_connections: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let needle = format!("\"connection_name\",\"{name}\"}}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&needle))
        .filter_map(|l| l.rsplit('\t').next()?.trim().parse().ok())
        .collect()
}

/// A header of a message, if present.
pub fn header<'a>(props: &'a BasicProperties, name: &str) -> Option<&'a AMQPValue> {
    props
        .headers()
        .as_ref()?
        .inner()
        .iter()
        .find(|(k, _)| k.as_str() == name)
        .map(|(_, v)| v)
}

/// A header value read as an integer, whichever integer type (or string) carries it.
pub fn header_int(v: &AMQPValue) -> Option<i64> {
    match v {
        AMQPValue::ShortShortInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortShortUInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortUInt(n) => Some(i64::from(*n)),
        AMQPValue::LongInt(n) => Some(i64::from(*n)),
        AMQPValue::LongUInt(n) => Some(i64::from(*n)),
        AMQPValue::LongLongInt(n) => Some(*n),
        AMQPValue::Timestamp(n) => i64::try_from(*n).ok(),
        AMQPValue::ShortString(s) => s.as_str().trim().parse().ok(),
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).trim().parse().ok(),
        _ => None,
    }
}

/// A header value read as text.
pub fn header_text(v: &AMQPValue) -> Option<String> {
    match v {
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ByteArray(b) => Some(String::from_utf8_lossy(b.as_slice()).into_owned()),
        _ => None,
    }
}

/// Deletes a queue and its DLQ when the test ends, however it ends.
pub struct QueueGuard(pub String);

impl QueueGuard {
    pub fn new(prefix: &str) -> Self {
        Self(unique_queue(prefix))
    }
    pub fn dlq(&self) -> String {
        format!("{}.dlq", self.0)
    }
}

impl Drop for QueueGuard {
    fn drop(&mut self) {
        delete_queue(&self.0);
        delete_queue(&self.dlq());
    }
}

/// A payload file in `dir` holding `json`.
pub fn payload_file(dir: &TempDir, json: &str) -> PathBuf {
    let p = dir
        .path()
        .join(format!("payload-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&p, json).unwrap();
    p
}

// ---------------------------------------------------------------------------------------------
// Checkpoint directory
// ---------------------------------------------------------------------------------------------

pub fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn checkpoint_path(dir: &TempDir, id: &str) -> PathBuf {
    dir.path().join("tasks").join(format!("{id}.json"))
}

pub fn result_path(dir: &TempDir, id: &str) -> PathBuf {
    dir.path().join("results").join(format!("{id}.json"))
}

/// The JSON files in `sub` of the checkpoint directory (none when it does not exist).
pub fn json_files(dir: &TempDir, sub: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir.path().join(sub)) else {
        return vec![];
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// Polls the checkpoint of `id` until its `step` is at least `min`; returns that checkpoint.
pub fn wait_checkpoint_step(dir: &TempDir, id: &str, min: u64, agent: &Agent) -> Value {
    let path = checkpoint_path(dir, id);
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = read_json(&path)
            && v["step"].as_u64().is_some_and(|s| s >= min)
        {
            return v;
        }
        if Instant::now() > deadline {
            panic!(
                "checkpoint {} never reached step {min}; it holds {:?}\n{}",
                path.display(),
                std::fs::read_to_string(&path).ok(),
                agent.dump()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Agent processes
// ---------------------------------------------------------------------------------------------

/// A running agent whose output is collected line by line; killed (SIGKILL) when dropped.
pub struct Agent {
    pub name: String,
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

pub fn collect_lines(
    r: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            match line {
                Ok(l) => into.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    })
}

impl Agent {
    /// Starts an agent on `queue` with checkpoint directory `dir`, index `index` and `extra`
    /// flags, pointed at the test broker through TASK_QUEUE_URL.
    pub fn start(queue: &str, dir: &TempDir, index: &str, extra: &[&str]) -> Self {
        Self::start_via(&amqp_url(), queue, dir, index, extra)
    }

    /// [`Agent::start`] with the broker at `url` (e.g. through a proxy).
    pub fn start_via(url: &str, queue: &str, dir: &TempDir, index: &str, extra: &[&str]) -> Self {
        let mut cmd = agent_cmd();
        if !extra.contains(&"--metrics-addr") {
            // The default port is fixed; tests run side by side.
            cmd.args(["--metrics-addr", "127.0.0.1:0"]);
        }
        cmd.env("TASK_QUEUE_URL", url)
            .args([
                "--queue",
                queue,
                "--index",
                index,
                "--checkpoint-dir",
                dir.s(),
            ])
            .args(extra);
        Self::spawn(index, cmd)
    }

    pub fn spawn(name: &str, mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fleetctl agent starts");
        let stdout = Arc::new(Mutex::new(vec![]));
        let stderr = Arc::new(Mutex::new(vec![]));
        let readers = vec![
            collect_lines(child.stdout.take().unwrap(), stdout.clone()),
            collect_lines(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Self {
            name: name.to_string(),
            child,
            stdout,
            stderr,
            readers,
            status: None,
        }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Sends a signal with kill(1): "TERM", "INT" or "KILL".
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid()])
            .status()
            .expect("kill runs");
        assert!(st.success(), "kill -{sig} {} failed", self.pid());
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Every JSON object logged on stdout so far.
    pub fn events(&self) -> Vec<Value> {
        self.stdout_lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(Value::is_object)
            .collect()
    }

    /// The events whose `message` is `name`.
    pub fn events_named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["message"] == name)
            .collect()
    }

    /// Waits for the first event named `name` that satisfies `pred`.
    pub fn wait_event(&self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(e) = self.events_named(name).into_iter().find(|e| pred(e)) {
                return e;
            }
            if Instant::now() > deadline {
                panic!("agent {} never logged '{name}'\n{}", self.name, self.dump());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The address the metrics server bound, from the `metrics_listening` event.
    pub fn metrics_addr(&self) -> SocketAddr {
        let e = self.wait_event("metrics_listening", |_| true);
        let addr = e["addr"]
            .as_str()
            .unwrap_or_else(|| panic!("metrics_listening has no addr: {e}"));
        let addr: SocketAddr = addr
            .parse()
            .unwrap_or_else(|err| panic!("metrics_listening addr '{addr}': {err}"));
        assert_ne!(addr.port(), 0, "the bound port is logged, not 0");
        addr
    }

    /// Waits up to `timeout` for the process to exit; the output readers are then drained.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                panic!(
                    "agent {} did not exit within {timeout:?}\n{}",
                    self.name,
                    self.dump()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        self.status = Some(status);
        status
    }

    /// Waits for the exit and asserts it was code 0.
    pub fn expect_exit_0(&mut self, timeout: Duration) {
        let s = self.wait_exit(timeout);
        assert_eq!(
            s.code(),
            Some(0),
            "agent {} exit status {s:?}\n{}",
            self.name,
            self.dump()
        );
    }

    /// Everything the agent printed, for failure messages.
    pub fn dump(&self) -> String {
        let out = self.stdout_lines();
        let skip = out.len().saturating_sub(80);
        format!(
            "--- agent {} stdout (last {} of {} lines) ---\n{}\n--- stderr ---\n{}",
            self.name,
            out.len() - skip,
            out.len(),
            out[skip..].join("\n"),
            self.stderr_text()
        )
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if self.status.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `task_id` of an event, as a string.
pub fn task_id(e: &Value) -> String {
    e["task_id"].as_str().unwrap_or_default().to_string()
}

/// Runs an agent that is expected to end by itself, with a deadline instead of a hang.
pub fn run_bounded(mut cmd: Command) -> Run {
    cmd.args(["--metrics-addr", "127.0.0.1:0"]);
    let mut a = Agent::spawn("cli", cmd);
    let status = a.wait_exit(PATIENCE);
    Run {
        code: status.code().unwrap_or(-1),
        stdout: a.stdout_lines().join("\n"),
        stderr: a.stderr_text(),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP, by hand
// ---------------------------------------------------------------------------------------------

/// A blocking `GET path` on `addr`: status code and body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = vec![];
    s.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: no header end in {text:?}"));
    let code: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: bad status line in {head:?}"));
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    (code, body)
}

pub fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// The value of the series `series` (name plus labels exactly as exposed) in a metrics body.
pub fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let rest = l.strip_prefix(series)?;
        let mut parts = rest.split_whitespace();
        if !rest.starts_with([' ', '\t']) {
            return None;
        }
        parts.next()?.parse().ok()
    })
}

/// Polls /metrics until `series` has value `want`; returns the body that showed it.
pub fn wait_metric(addr: SocketAddr, series: &str, want: f64, agent: &Agent) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (code, body) = http_get(addr, "/metrics");
        if code == 200 && metric(&body, series) == Some(want) {
            return body;
        }
        if Instant::now() > deadline {
            panic!(
                "/metrics never showed `{series} {want}` (last status {code}):\n{body}\n{}",
                agent.dump()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Takes every message off `queue` (auto-ack), in order: body and properties.
pub async fn take_all(queue: &str) -> Vec<(Vec<u8>, BasicProperties)> {
    let broker = Broker::connect(&amqp_url(), "fleetctl-test").await.unwrap();
    let ch = broker.channel().await.unwrap();
    let mut out = vec![];
    while let Some(m) = ch
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
    {
        out.push((m.delivery.data.clone(), m.delivery.properties.clone()));
    }
    broker.close().await;
    out
}
