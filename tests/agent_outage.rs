//! The agent across a broker outage: its connection goes through a TCP proxy that the test
//! cuts and restores. The agent must keep serving /metrics, reconnect with back-off, resume the
//! interrupted task from its checkpoint, and lose or repeat no task.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// A TCP proxy to the broker on a fixed loopback port, which can be cut (every connection
/// closed, nothing accepted) and started again on the same port.
struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Proxy {
    fn start(port: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind proxy");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (s, c) = (stop.clone(), conns.clone());
        let accept = thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(upstream) = TcpStream::connect("127.0.0.1:5672") else {
                            continue;
                        };
                        let mut list = c.lock().unwrap();
                        list.push(client.try_clone().unwrap());
                        list.push(upstream.try_clone().unwrap());
                        pipe(client.try_clone().unwrap(), upstream.try_clone().unwrap());
                        pipe(upstream, client);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Proxy {
            port,
            stop,
            conns,
            accept: Some(accept),
        }
    }

    fn cut(mut self) -> u16 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            t.join().unwrap();
        }
        for s in self.conns.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.port
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

struct Agent {
    child: Child,
    lines: mpsc::Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    /// Collects log events until one satisfies `f` or the timeout passes.
    fn wait_for(&mut self, timeout: Duration, f: impl Fn(&[serde_json::Value]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if f(&self.seen) {
                return true;
            }
            if let Ok(v) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(v);
            }
        }
        f(&self.seen)
    }

    fn events(&self, name: &str) -> Vec<&serde_json::Value> {
        self.seen.iter().filter(|v| v["message"] == name).collect()
    }
}

fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let code = out.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, out))
}

#[test]
fn a_broker_outage_mid_run_loses_and_repeats_no_task() {
    if !require_broker("a_broker_outage_mid_run_loses_and_repeats_no_task") {
        return;
    }
    let q = unique_queue("outage");
    let dir = std::env::temp_dir().join(format!("fleetctl-outage-{}", uuid::Uuid::new_v4()));
    let seeded = run(fleetctl().args([
        "seed",
        "-c",
        "12",
        "-q",
        &q,
        "--steps",
        "4",
        "--step-ms",
        "150",
    ]));
    assert_eq!(seeded.code, 0, "{}", seeded.all());

    let proxy = Proxy::start(0);
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port);
    let mut child = fleetctl()
        .args([
            "agent",
            "-q",
            &q,
            "--idle-exit",
            "4s",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .args(["--index", "outage", "--amqp-url", &url])
        .arg("--checkpoint-dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let mut agent = Agent {
        child,
        lines: rx,
        seen: vec![],
    };

    assert!(
        agent.wait_for(Duration::from_secs(60), |s| s
            .iter()
            .filter(|v| v["message"] == "task_completed")
            .count()
            >= 3),
        "three tasks complete before the outage: {:?}",
        agent.seen
    );
    let addr = agent.events("metrics_listening")[0]["addr"]
        .as_str()
        .unwrap()
        .to_string();
    let port = proxy.cut();

    // The agent notices, keeps serving metrics and stops reporting ready.
    assert!(
        agent.wait_for(Duration::from_secs(30), |s| s
            .iter()
            .any(|v| v["message"] == "broker_lost")),
        "the lost connection is logged: {:?}",
        agent.seen
    );
    let (code, body) = http_get(&addr, "/metrics").expect("metrics answer during the outage");
    assert_eq!(code, 200);
    assert!(
        body.contains("agent_tasks_completed_total{status=\"success\"}"),
        "{body}"
    );
    let (code, _) = http_get(&addr, "/readyz").unwrap();
    assert_eq!(code, 503, "not ready while disconnected");
    thread::sleep(Duration::from_millis(1500));

    let _proxy = Proxy::start(port);
    let status = {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(st) = agent.child.try_wait().unwrap() {
                break st;
            }
            assert!(
                Instant::now() < deadline,
                "agent did not exit by idle: {:?}",
                agent.seen
            );
            if let Ok(v) = agent.lines.recv_timeout(Duration::from_millis(100)) {
                agent.seen.push(v);
            }
        }
    };
    while let Ok(v) = agent.lines.recv_timeout(Duration::from_millis(300)) {
        agent.seen.push(v);
    }
    assert!(status.success(), "agent exit: {status:?}");
    assert!(
        agent.events("broker_connected").len() >= 2,
        "it reconnected"
    );

    let completed: Vec<String> = agent
        .events("task_completed")
        .iter()
        .map(|v| v["task_id"].as_str().unwrap().to_string())
        .collect();
    let unique: HashSet<_> = completed.iter().collect();
    assert_eq!(
        unique.len(),
        completed.len(),
        "no task completed twice: {completed:?}"
    );
    assert_eq!(
        completed.len(),
        12,
        "every task completed: {:?}",
        agent.seen
    );
    let results = std::fs::read_dir(dir.join("results")).unwrap().count();
    assert_eq!(results, 12);
    assert_eq!(list_queue(&q).map(|x| x.0), Some(0), "the queue is empty");
    assert_eq!(
        list_queue(&format!("{q}.dlq")).map(|x| x.0),
        Some(0),
        "nothing dead-lettered"
    );
    delete_queue(&q);
    delete_queue(&format!("{q}.dlq"));
    let _ = std::fs::remove_dir_all(dir);
}
