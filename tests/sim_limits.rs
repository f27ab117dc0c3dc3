//! The local cluster's API server against clients that hold connections: ones that connect and
//! send nothing, stop mid-handshake or mid-request, stay idle, or hold more connections than
//! the server takes. Every test runs a `fleetctl sim` process of its own and talks to it over
//! raw TCP, raw TLS and kubectl.
//!
//! Waits poll with generous deadlines and never assert speed.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A new connection's time for its handshake and first request head (the sim's HEAD_TIMEOUT),
/// and how much later than that a test still accepts the close.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const SLACK: Duration = Duration::from_secs(15);

/// The start of a TLS ClientHello record that announces 512 bytes and sends none of them.
const PARTIAL_HELLO: &[u8] = &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc];

/// The sim's address and bearer token, from its kubeconfig.
fn endpoint(sim: &SimProcess) -> (SocketAddr, String, String) {
    let kc: Value =
        serde_json::from_str(&std::fs::read_to_string(&sim.kubeconfig).unwrap()).unwrap();
    let cluster = &kc["clusters"][0]["cluster"];
    let server = cluster["server"].as_str().unwrap();
    let addr = server.strip_prefix("https://").unwrap().parse().unwrap();
    let ca = base64::engine::general_purpose::STANDARD
        .decode(cluster["certificate-authority-data"].as_str().unwrap())
        .unwrap();
    let token = kc["users"][0]["user"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    (addr, String::from_utf8(ca).unwrap(), token)
}

type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// A TLS connection to the sim that speaks HTTP/1.1.
async fn tls_connect(addr: SocketAddr, ca_pem: &str) -> std::io::Result<Tls> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
}

/// Reads `s` until the server closes it or `deadline`; when it closed, and what was read.
async fn read_until_closed<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
    deadline: Instant,
) -> (Option<Instant>, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return (None, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    Some(Instant::now()),
                    String::from_utf8_lossy(&got).into_owned(),
                );
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server closed a plain TCP connection before `deadline`.
fn tcp_closed_by(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
}

#[test]
fn silent_connections_are_closed_and_kubectl_is_answered_at_the_cap() {
    if !require_kubectl("silent_connections_are_closed_and_kubectl_is_answered_at_the_cap") {
        return;
    }
    let mut sim = SimProcess::start("limits-cap", &["--api-only", "--max-connections", "16"]);
    let (addr, _, _) = endpoint(&sim);
    let opened = Instant::now();
    // 40 connections that send nothing, or stop in the middle of a ClientHello.
    let mut silent: Vec<TcpStream> = (0..40)
        .map(|i| {
            let mut s = TcpStream::connect(addr).unwrap();
            if i % 2 == 1 {
                s.write_all(PARTIAL_HELLO).unwrap();
            }
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // kubectl gets its answers all the same: each of its connections takes a silent one's place.
    let out = sim.kubectl_ok(&["get", "namespaces", "-o", "name"]);
    assert!(out.contains("namespace/default"), "{out}");
    sim.kubectl_ok(&["get", "--raw", "/version"]);
    // And every silent connection is closed, at the latest when its head timeout is up.
    let deadline = opened + HEAD_TIMEOUT + SLACK;
    let open: Vec<usize> = silent
        .iter_mut()
        .enumerate()
        .filter_map(|(i, s)| (!tcp_closed_by(s, deadline)).then_some(i))
        .collect();
    assert!(
        open.is_empty(),
        "connections {open:?} of 40 silent ones are still open {:?} after they were opened\n{}",
        opened.elapsed(),
        sim.logs()
    );
    assert!(sim.running(), "the sim exited\n{}", sim.logs());
    sim.kubectl_ok(&["get", "namespaces"]);
}

#[test]
fn busy_connections_are_kept_and_new_ones_refused_at_the_cap() {
    let mut sim = SimProcess::start("limits-busy", &["--api-only", "--max-connections", "4"]);
    let (addr, ca, token) = endpoint(&sim);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // Four watches: busy connections, never shed.
        let mut watches = Vec::new();
        for _ in 0..4 {
            let mut s = tls_connect(addr, &ca).await.expect("a connection under the cap");
            let req = format!(
                "GET /api/v1/namespaces/default/pods?watch=true HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer {token}\r\n\r\n"
            );
            s.write_all(req.as_bytes()).await.unwrap();
            let mut buf = [0u8; 512];
            let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf))
                .await
                .expect("the watch answers")
                .unwrap();
            let head = String::from_utf8_lossy(&buf[..n]);
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            watches.push(s);
        }
        // A fifth connection is refused: the server closes it before the handshake ends.
        let refused = tls_connect(addr, &ca).await;
        assert!(refused.is_err(), "a fifth connection was served with 4 watches at a cap of 4");
        // The watches are still served.
        for s in &mut watches {
            let (closed, _) = read_until_closed(s, Instant::now() + Duration::from_millis(200)).await;
            assert!(closed.is_none(), "a watch was closed to make room");
        }
        // With the watches gone, connections are served again.
        drop(watches);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if tls_connect(addr, &ca).await.is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no connection is served 60 s after the watches ended\n{}",
                sim.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    assert!(sim.running(), "the sim exited\n{}", sim.logs());
    let logs = std::fs::read_to_string(sim.dir.path().join("sim.out")).unwrap_or_default();
    let warning = logs
        .lines()
        .find(|l| l.contains("connections_refused"))
        .unwrap_or_else(|| panic!("no connections_refused warning\n{}", sim.logs()));
    assert!(
        warning.contains("\"refused\":") && warning.contains("\"max_connections\":4"),
        "{warning}"
    );
}

#[test]
fn idle_and_half_sent_connections_are_closed_and_watches_are_not() {
    let sim = SimProcess::start("limits-idle", &["--api-only", "--idle-timeout", "2s"]);
    let (addr, ca, token) = endpoint(&sim);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let opened = Instant::now();
        let head_deadline = opened + HEAD_TIMEOUT + SLACK;
        // A handshake and no request at all.
        let mut quiet = tls_connect(addr, &ca).await.unwrap();
        // Half a request head.
        let mut half = tls_connect(addr, &ca).await.unwrap();
        half.write_all(b"GET /version HTTP/1.1\r\nHost: sim\r\n")
            .await
            .unwrap();
        // One request, then nothing: idle after the answer.
        let mut idle = tls_connect(addr, &ca).await.unwrap();
        idle.write_all(
            format!("GET /version HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer {token}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        // A watch, quiet for longer than the idle timeout.
        let mut watch = tls_connect(addr, &ca).await.unwrap();
        watch
            .write_all(
                format!("GET /api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=false HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer {token}\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();

        let (idle_closed, answer) = read_until_closed(&mut idle, head_deadline).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            idle_closed.is_some(),
            "an idle connection is open {:?} after its answer (--idle-timeout 2s)",
            opened.elapsed()
        );
        let (watch_closed, _) =
            read_until_closed(&mut watch, opened + Duration::from_secs(6)).await;
        assert!(
            watch_closed.is_none(),
            "a watch was closed as idle after {:?}",
            opened.elapsed()
        );
        let (quiet_closed, _) = read_until_closed(&mut quiet, head_deadline).await;
        assert!(quiet_closed.is_some(), "a connection that sent nothing after its handshake is still open");
        let (half_closed, _) = read_until_closed(&mut half, head_deadline).await;
        assert!(half_closed.is_some(), "a connection that sent half a request head is still open");
    });
    drop(sim);
}

/// The sim's peak resident memory so far (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status"))
}

/// `kubectl logs` of a 64 MiB container log: `--tail`, `--limit-bytes` and the whole file give
/// exactly the right bytes, and eight readers at once do not make the sim hold the file.
#[test]
fn logs_of_a_big_file_are_exact_and_never_held_whole() {
    if !require_kubectl("logs_of_a_big_file_are_exact_and_never_held_whole") {
        return;
    }
    let mut sim = SimProcess::start("limits-logs", &["--runtime", "inproc", "--nodes", "1"]);
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "big", "namespace": "default"},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}});
    let f = sim.dir.path().join("pod.json");
    std::fs::write(&f, pod.to_string()).unwrap();
    sim.kubectl_ok(&["create", "-f", f.to_str().unwrap()]);
    // The container ends (an agent with no queue to read stops), so its log file stays as
    // the test writes it.
    let uid = wait_until(
        90,
        "the container of pod big has ended",
        || {
            let p = sim.get_json(&["get", "pod", "big", "-n", "default"]);
            p["status"]["containerStatuses"][0]["state"]["terminated"]
                .is_object()
                .then(|| p["metadata"]["uid"].as_str().unwrap().to_string())
        },
        || sim.logs(),
    );
    let file = sim
        .dir
        .path()
        .join("state/logs")
        .join(format!("default_big_{uid}"))
        .join("c/0.log");
    assert!(file.exists(), "no log file at {}", file.display());
    let mut text = String::with_capacity(64 << 20);
    let mut i = 0usize;
    while text.len() < 64 << 20 {
        text.push_str(&format!("line {i:08} {}\n", "x".repeat(i % 97)));
        i += 1;
    }
    text.push_str("the last line has no newline");
    std::fs::write(&file, &text).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();

    let before = peak_rss_kib(sim.pid());
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..8)
            .map(|_| s.spawn(|| sim.kubectl_ok(&["logs", "big", "-n", "default", "--tail", "3"])))
            .collect();
        for r in readers {
            assert_eq!(r.join().unwrap(), lines[lines.len() - 3..].concat());
        }
    });
    let limited = sim.kubectl_ok(&["logs", "big", "-n", "default", "--limit-bytes", "1000"]);
    assert_eq!(limited, text[..1000]);
    let tail_limited = sim.kubectl_ok(&[
        "logs",
        "big",
        "-n",
        "default",
        "--tail",
        "2",
        "--limit-bytes",
        "10",
    ]);
    assert_eq!(tail_limited, lines[lines.len() - 2][..10]);
    let whole = sim.kubectl_ok(&["logs", "big", "-n", "default"]);
    assert!(
        whole.len() == text.len() && whole == text,
        "the whole log differs: {} bytes of {}",
        whole.len(),
        text.len()
    );
    let grown = peak_rss_kib(sim.pid()).saturating_sub(before);
    // Holding the file once would take 64 MiB; streaming it takes a few blocks per reader.
    assert!(
        grown < 32 * 1024,
        "the sim's peak memory grew by {grown} KiB serving a 64 MiB log"
    );
    assert!(sim.running(), "the sim exited\n{}", sim.logs());
}
