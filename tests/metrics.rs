//! `metrics::scrape`, `parse` and `series` over real sockets: hostile endpoints on loopback
//! addresses, real `fleetctl agent` processes with RabbitMQ, and the pod-proxy route through the
//! local cluster with the real kube-rs client.
//!
//! Every endpoint gets a loopback address of its own (127.1.x.y, as the sim gives its pods), so
//! agents can all listen on the default port 8080. Tests wait with generous deadlines and
//! assert behaviour, never speed.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use common::*;
use fleetctl::agent::telemetry::{self, Metrics, Status};
use fleetctl::fleet::objects::AgentPod;
use fleetctl::metrics::parse::Scrape;
use fleetctl::metrics::scrape::{Route, ScrapeConfig, ScrapeError, Scraper, Skip, Target};
use fleetctl::metrics::series::{
    MetricsStore, SeriesConfig, TASK_SECONDS, TASKS, TOKENS, histogram_quantile,
};

/// How long any single wait may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(60);
const TEN_MB: usize = 10_000_000;

// ---------------------------------------------------------------------------------------------
// Loopback addresses and endpoints
// ---------------------------------------------------------------------------------------------

/// A loopback address no other endpoint of this run uses: 127.1.x.y from a random block.
fn next_ip() -> IpAddr {
    static BASE: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = *BASE.get_or_init(|| fastrand::u32(40..200) * 250);
    let n = base + NEXT.fetch_add(1, Ordering::Relaxed);
    IpAddr::V4(Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8))
}

fn direct() -> ScrapeConfig {
    ScrapeConfig {
        route: Route::Direct,
        ..Default::default()
    }
}

/// A direct scraper that starts every pod at once and waits up to 10 s for each.
fn patient_scraper() -> Scraper {
    Scraper::new(
        ScrapeConfig {
            jitter: Duration::ZERO,
            timeout: Duration::from_secs(10),
            ..direct()
        },
        None,
    )
    .unwrap()
}

fn target(pod: &str, addr: SocketAddr) -> Target {
    Target {
        namespace: "agents".into(),
        pod: pod.into(),
        ip: Some(addr.ip().to_string()),
        port: addr.port(),
        path: "/metrics".into(),
    }
}

/// Misbehaviours of a metrics endpoint.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    /// Headers, then one body byte every 200 ms, forever.
    SlowLoris,
    /// Reads the request and never answers.
    Silent,
    /// 10 MB of valid-looking metrics, chunked (no length to refuse it by).
    HugeChunked,
    /// 10 MB with a Content-Length.
    HugeDeclared,
    /// 200 OK with 64 KiB of random bytes.
    Garbage,
    Error500,
    /// A TLS server (the sim's certificate).
    Tls,
    /// An SSH server's greeting instead of HTTP.
    NotHttp,
    /// The agent's exposition after a delay.
    Delayed(Duration),
}

/// Reads a request head (bounded); false when the peer went away.
async fn read_head(s: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

/// A line of metrics repeated to fill big bodies without holding them in memory.
fn filler() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| {
        (0..1000)
            .map(|i| format!("agent_filler_total{{n=\"{i:06}\"}} {i}\n"))
            .collect::<String>()
            .into_bytes()
    })
}

async fn write_big(s: &mut TcpStream, chunked: bool) -> std::io::Result<()> {
    let f = filler();
    if chunked {
        s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await?;
    } else {
        s.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {TEN_MB}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
    }
    let mut left = TEN_MB;
    while left > 0 {
        let n = left.min(f.len());
        if chunked {
            s.write_all(format!("{n:x}\r\n").as_bytes()).await?;
            s.write_all(&f[..n]).await?;
            s.write_all(b"\r\n").await?;
        } else {
            s.write_all(&f[..n]).await?;
        }
        left -= n;
    }
    if chunked {
        s.write_all(b"0\r\n\r\n").await?;
    }
    Ok(())
}

fn agent_body() -> String {
    let m = Metrics::new("hostile-test");
    m.task_done(Status::Success);
    m.observe_duration(0.2);
    m.encode()
}

async fn respond(mut s: TcpStream, how: Hostile) {
    if !read_head(&mut s).await {
        return;
    }
    let _ = match how {
        Hostile::SlowLoris => {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
                .await;
            loop {
                if s.write_all(b"a").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Hostile::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
        Hostile::HugeChunked => write_big(&mut s, true).await,
        Hostile::HugeDeclared => write_big(&mut s, false).await,
        Hostile::Garbage => {
            let mut rng = fastrand::Rng::with_seed(7);
            let body: Vec<u8> = (0..64 * 1024).map(|_| rng.u8(..)).collect();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            s.write_all(&body).await
        }
        Hostile::Error500 => {
            s.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops\n")
                .await
        }
        Hostile::NotHttp => s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").await,
        Hostile::Tls => unreachable!("served by serve_tls"),
        Hostile::Delayed(d) => {
            tokio::time::sleep(d).await;
            let body = agent_body();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            s.write_all(body.as_bytes()).await
        }
    };
    let _ = s.shutdown().await;
}

/// A hostile endpoint on a loopback address of its own. Aborting the returned task closes the
/// listener and every connection it holds.
async fn hostile(how: Hostile) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind((next_ip(), 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        let tls = matches!(how, Hostile::Tls).then(|| {
            let tls = fleetctl::sim::tls::load_or_generate(None).unwrap();
            tokio_rustls::TlsAcceptor::from(tls.server_config.clone())
        });
        while let Ok((s, _)) = listener.accept().await {
            match &tls {
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    conns.spawn(async move {
                        // A plain HTTP request fails the handshake; rustls answers with an alert.
                        let _ = acceptor.accept(s).await;
                    });
                }
                None => {
                    conns.spawn(respond(s, how));
                }
            }
        }
    });
    (addr, task)
}

/// The agent's own metrics server on a loopback address of its own.
/// The server runs until the returned handle is dropped.
async fn agent_endpoint(index: &str) -> (SocketAddr, Arc<Metrics>, telemetry::Server) {
    let m = Arc::new(Metrics::new(index));
    let server = telemetry::serve(SocketAddr::new(next_ip(), 0), m.clone())
        .await
        .unwrap();
    (server.addr, m, server)
}

// ---------------------------------------------------------------------------------------------
// Hostile endpoints
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endpoints_each_get_their_reason_and_spare_the_others() {
    let mut targets = vec![];
    let mut good = vec![];
    let mut agents = vec![];
    for i in 0..4 {
        let (addr, m, server) = agent_endpoint(&i.to_string()).await;
        agents.push(server);
        for _ in 0..=i {
            m.task_done(Status::Success);
        }
        targets.push(target(&format!("good-{i}"), addr));
        good.push(i);
    }
    let mut servers = vec![];
    let mut expect: BTreeMap<String, &str> = BTreeMap::new();
    for (name, how, reason) in [
        ("slow-loris", Hostile::SlowLoris, "timeout after 2s"),
        ("silent", Hostile::Silent, "timeout after 2s"),
        ("huge-chunked", Hostile::HugeChunked, "body over 4 MiB"),
        ("huge-declared", Hostile::HugeDeclared, "body over 4 MiB"),
        ("garbage", Hostile::Garbage, "no metrics: "),
        ("http-500", Hostile::Error500, "HTTP 500"),
        ("tls", Hostile::Tls, "TLS on the port"),
        ("not-http", Hostile::NotHttp, "the answer is not HTTP"),
    ] {
        let (addr, task) = hostile(how).await;
        servers.push(task);
        targets.push(target(name, addr));
        expect.insert(name.into(), reason);
    }
    // Nothing listens there.
    let refused = SocketAddr::new(next_ip(), 9);
    targets.push(target("refused", refused));
    expect.insert("refused".into(), "connection refused");
    let mut no_ip = target("no-ip", refused);
    no_ip.ip = None;
    targets.push(no_ip);
    expect.insert("no-ip".into(), "pod has no IP yet");

    let scraper = Scraper::new(direct(), None).unwrap();
    let rss_before = telemetry::resident_memory_bytes().unwrap_or(0);
    let started = Instant::now();
    let results = scraper.round(&targets).await;
    let took = started.elapsed();
    let rss_after = telemetry::resident_memory_bytes().unwrap_or(0);

    assert_eq!(results.len(), targets.len());
    let mut store = MetricsStore::default();
    let now = Timestamp::now();
    for (t, r) in &results {
        store.ingest(&t.key(), "Job/hostile", now, r, None);
        if let Some(i) = t.pod.strip_prefix("good-") {
            let s = r.as_ref().unwrap_or_else(|e| panic!("{}: {e}", t.pod));
            let i: f64 = i.parse().unwrap();
            assert_eq!(s.value(TASKS, &[("status", "success")]), Some(i + 1.0));
            assert_eq!(s.unreadable_lines, 0);
            continue;
        }
        let e = r
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("{} scraped", t.pod));
        let want = expect[&t.pod];
        assert!(
            e.to_string().starts_with(want),
            "{}: '{e}' ({e:?}), want '{want}'",
            t.pod
        );
        // Memory stays bounded: the 10 MB bodies are cut at the cap while they stream in.
        if let ScrapeError::TooLarge { limit, read } = e {
            assert_eq!(*limit, 4 << 20);
            assert!(*read <= limit + (1 << 20), "{}: read {read}", t.pod);
        }
    }
    assert!(matches!(
        results.iter().find(|(t, _)| t.pod == "huge-chunked").unwrap().1,
        Err(ScrapeError::TooLarge { read, .. }) if read > 0
    ));
    assert!(
        rss_after.saturating_sub(rss_before) < 64 << 20,
        "RSS grew from {rss_before} to {rss_after}"
    );
    // The round ends: the slow ones are cut at their timeout.
    assert!(took < PATIENCE, "the round took {took:?}");

    let m = store.fleet("Job/hostile", now);
    assert_eq!(m.pods_scraped, 4);
    assert_eq!(m.not_scraped.len(), expect.len());
    for (pod, reason) in &m.not_scraped {
        let name = pod.strip_prefix("agents/").unwrap();
        assert!(reason.starts_with(expect[name]), "{pod}: {reason}");
    }
    for s in servers {
        s.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_the_pods_gone_mid_scrape_fail_alone() {
    let mut targets = vec![];
    let mut servers = vec![];
    for i in 0..20 {
        let (addr, task) = hostile(Hostile::Delayed(Duration::from_millis(800))).await;
        targets.push(target(&format!("pod-{i:02}"), addr));
        servers.push(task);
    }
    let scraper = patient_scraper();
    let round = {
        let (s, t) = (scraper.clone(), targets.clone());
        tokio::spawn(async move { s.round(&t).await })
    };
    // Every request is in, waiting for its answer: the odd pods go away.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for s in servers.iter().skip(1).step_by(2) {
        s.abort();
    }
    let mut store = MetricsStore::default();
    let t0 = Timestamp::now();
    let results = round.await.unwrap();
    for (i, (t, r)) in results.iter().enumerate() {
        store.ingest(&t.key(), "Job/half", t0, r, None);
        if i % 2 == 0 {
            assert!(r.is_ok(), "{}: {:?}", t.pod, r.as_ref().err());
        } else {
            let e = r
                .as_ref()
                .err()
                .unwrap_or_else(|| panic!("{} scraped", t.pod));
            assert!(
                matches!(e, ScrapeError::Connect(_) | ScrapeError::Interrupted(_)),
                "{}: {e:?}",
                t.pod
            );
        }
    }
    // The next round finds nothing listening for them, and the rest answer again.
    let t1 = t0 + jiff::SignedDuration::from_secs(2);
    for (i, (t, r)) in scraper.round(&targets).await.iter().enumerate() {
        store.ingest(&t.key(), "Job/half", t1, r, None);
        if i % 2 == 1 {
            assert_eq!(
                r.as_ref().err().map(ToString::to_string).as_deref(),
                Some("connection refused"),
                "{}",
                t.pod
            );
        }
    }
    let m = store.fleet("Job/half", t1);
    assert_eq!((m.pods_scraped, m.not_scraped.len()), (10, 10));
    // The answering half has a rate (nothing happened: 0), the gone half is not zeroed into it.
    assert_eq!(m.tasks_per_s, Some(0.0));
    for s in servers {
        s.abort();
    }
}

/// Counts connections at once and when each request arrived; answers after `delay`.
async fn counting_endpoint(
    delay: Duration,
) -> (SocketAddr, Arc<AtomicUsize>, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind((next_ip(), 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let max = Arc::new(AtomicUsize::new(0));
    let arrivals = Arc::new(Mutex::new(vec![]));
    let (max2, arrivals2) = (max.clone(), arrivals.clone());
    let active = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (max, arrivals, active) = (max2.clone(), arrivals2.clone(), active.clone());
            tokio::spawn(async move {
                if !read_head(&mut s).await {
                    return;
                }
                arrivals.lock().unwrap().push(Instant::now());
                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                active.fetch_sub(1, Ordering::SeqCst);
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nx 1\n",
                    )
                    .await;
            });
        }
    });
    (addr, max, arrivals)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded_starts_are_spread_and_one_scrape_per_pod_is_in_flight() {
    // 12 pods behind one address, 3 at a time.
    let (addr, max, _) = counting_endpoint(Duration::from_millis(150)).await;
    let targets: Vec<Target> = (0..12).map(|i| target(&format!("p{i}"), addr)).collect();
    let scraper = Scraper::new(
        ScrapeConfig {
            concurrency: 3,
            jitter: Duration::ZERO,
            ..direct()
        },
        None,
    )
    .unwrap();
    let results = scraper.round(&targets).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    assert_eq!(max.load(Ordering::SeqCst), 3);

    // Starts spread over the jitter window, each pod at its own offset.
    let (addr, _, arrivals) = counting_endpoint(Duration::ZERO).await;
    let targets: Vec<Target> = (0..30).map(|i| target(&format!("q{i}"), addr)).collect();
    let scraper = Scraper::new(
        ScrapeConfig {
            jitter: Duration::from_millis(800),
            ..direct()
        },
        None,
    )
    .unwrap();
    let results = scraper.round(&targets).await;
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let a = arrivals.lock().unwrap().clone();
    let spread = *a.iter().max().unwrap() - *a.iter().min().unwrap();
    assert!(spread >= Duration::from_millis(300), "spread {spread:?}");

    // A second round while the first still waits on a pod: that pod is not scraped twice.
    let (addr, _, arrivals) = counting_endpoint(Duration::from_millis(1500)).await;
    let slow = vec![target("slow", addr)];
    let scraper = patient_scraper();
    let first = {
        let (s, t) = (scraper.clone(), slow.clone());
        tokio::spawn(async move { s.round(&t).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = scraper.round(&slow).await;
    assert_eq!(second[0].1, Err(ScrapeError::InFlight));
    assert!(first.await.unwrap()[0].1.is_ok());
    assert_eq!(arrivals.lock().unwrap().len(), 1);
    // Once it is done, the pod can be scraped again.
    assert!(scraper.scrape(&slow[0]).await.is_ok());

    // Rounds for a one-shot caller: each with its start time, `gap` apart.
    let (addr, _, arrivals) = counting_endpoint(Duration::ZERO).await;
    let two = scraper
        .rounds(&[target("twice", addr)], 2, Duration::from_millis(400))
        .await;
    assert_eq!(two.len(), 2);
    assert!(two.iter().all(|(_, r)| r[0].1.is_ok()));
    assert!(two[1].0.duration_since(two[0].0) >= jiff::SignedDuration::from_millis(400));
    assert_eq!(arrivals.lock().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// The pod-proxy route through the local cluster
// ---------------------------------------------------------------------------------------------

fn pod_json(name: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "ai-agent"}, "annotations": annotations},
        "spec": {"containers": [{"name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0",
                                  "resources": {"limits": {"memory": "512Mi"}}}]}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_api_servers_pod_proxy() {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};

    install_crypto();
    let dir = TempDir::new("metrics-proxy");
    let sim = fleetctl::sim::runtime::start(fleetctl::sim::runtime::SimOptions::new(
        dir.path().join("kubeconfig"),
    ))
    .await
    .expect("the sim starts");
    let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
        .await
        .unwrap();

    let (agent_addr, m, _agent) = agent_endpoint("proxied").await;
    for _ in 0..3 {
        m.task_done(Status::Success);
    }
    m.tokens("sim", 42);
    let (err_addr, err_task) = hostile(Hostile::Error500).await;
    let (huge_addr, huge_task) = hostile(Hostile::HugeDeclared).await;
    let gone = SocketAddr::new(next_ip(), 9);

    let pods: Api<Pod> = Api::namespaced(client.clone(), "agents");
    let port = |a: SocketAddr| a.port().to_string();
    for (name, ip, annotations, phase) in [
        // No `prometheus.io/scrape`: scraped by default.
        (
            "agent-ok",
            agent_addr.ip(),
            json!({"prometheus.io/port": port(agent_addr)}),
            "Running",
        ),
        (
            "agent-500",
            err_addr.ip(),
            json!({"prometheus.io/port": port(err_addr), "prometheus.io/path": "/metrics"}),
            "Running",
        ),
        (
            "agent-huge",
            huge_addr.ip(),
            json!({"prometheus.io/port": port(huge_addr)}),
            "Running",
        ),
        (
            "agent-gone",
            gone.ip(),
            json!({"prometheus.io/port": "9"}),
            "Running",
        ),
        (
            "agent-off",
            agent_addr.ip(),
            json!({"prometheus.io/scrape": "false"}),
            "Running",
        ),
        ("agent-pending", agent_addr.ip(), json!({}), "Pending"),
    ] {
        let p: Pod = serde_json::from_value(pod_json(name, annotations)).unwrap();
        pods.create(&PostParams::default(), &p).await.unwrap();
        pods.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": phase, "podIP": ip.to_string()}})),
        )
        .await
        .unwrap();
    }

    // From the cluster's objects to targets, as the status command does it.
    let mut targets = vec![];
    let mut limits = BTreeMap::new();
    let mut skipped = BTreeMap::new();
    for p in pods.list(&ListParams::default()).await.unwrap() {
        let pod = AgentPod::from_json(&serde_json::to_value(&p).unwrap()).unwrap();
        match Target::try_from_pod(&pod) {
            Ok(t) => {
                limits.insert(t.key(), pod.memory_limit_bytes);
                targets.push(t);
            }
            Err(why) => {
                skipped.insert(pod.name.clone(), why);
            }
        }
    }
    assert_eq!(skipped["agent-off"], Skip::Disabled);
    assert!(matches!(skipped["agent-pending"], Skip::NotRunning(_)));
    assert_eq!(targets.len(), 4);

    let scraper = Scraper::new(ScrapeConfig::default(), Some(client.clone())).unwrap();
    assert_eq!(scraper.config().route, Route::Proxy);
    let mut store = MetricsStore::default();
    let at = Timestamp::now();
    let results = scraper.round(&targets).await;
    let mut reasons = BTreeMap::new();
    for (t, r) in &results {
        store.ingest(&t.key(), "ScaledJob/ai-agent", at, r, limits[&t.key()]);
        reasons.insert(
            t.pod.clone(),
            r.as_ref()
                .map(|_| "ok".to_string())
                .unwrap_or_else(|e| e.to_string()),
        );
    }
    let ok = &results.iter().find(|(t, _)| t.pod == "agent-ok").unwrap().1;
    let ok = ok.as_ref().unwrap();
    assert_eq!(ok.value(TASKS, &[("status", "success")]), Some(3.0));
    assert_eq!(ok.value(TOKENS, &[("model", "sim")]), Some(42.0));
    assert_eq!(reasons["agent-500"], "HTTP 500");
    assert_eq!(reasons["agent-huge"], "body over 4 MiB");
    assert!(
        reasons["agent-gone"].starts_with("API server 503: "),
        "{reasons:?}"
    );
    let m = store.fleet("ScaledJob/ai-agent", at);
    assert_eq!((m.pods_scraped, m.not_scraped.len()), (1, 3));
    let h = m.worst_memory_headroom.unwrap();
    assert_eq!(
        (h.pod.as_str(), h.limit_bytes),
        ("agents/agent-ok", 512 << 20)
    );
    // No token of the kubeconfig in anything shown.
    let shown = format!(
        "{reasons:?}{}",
        serde_json::to_string(&store.fleet("ScaledJob/ai-agent", at)).unwrap()
    );
    assert!(!shown.contains(&sim.token), "{shown}");

    err_task.abort();
    huge_task.abort();
    sim.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Real agents
// ---------------------------------------------------------------------------------------------

/// A `fleetctl agent` process whose stdout events are collected; killed when dropped.
struct AgentProc {
    name: String,
    addr: SocketAddr,
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
}

impl AgentProc {
    /// An agent on `queue` serving metrics at `addr` (on the default port 8080 of its own IP).
    fn start(name: &str, queue: &str, dir: &TempDir, addr: SocketAddr) -> Self {
        let mut child = agent_cmd()
            .env("TASK_QUEUE_URL", amqp_url())
            .args(["--queue", queue, "--index", name])
            .args(["--checkpoint-dir", dir.s(), "--idle-exit", "0"])
            .args(["--metrics-addr", &addr.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("fleetctl agent starts");
        let events = Arc::new(Mutex::new(vec![]));
        let (out, ev) = (child.stdout.take().unwrap(), events.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    ev.lock().unwrap().push(v);
                }
            }
        });
        let mut a = AgentProc {
            name: name.into(),
            addr,
            child,
            events,
        };
        a.wait_for(|e| e["message"] == "metrics_listening", 1);
        a
    }

    fn named(&self, message: &str) -> Vec<Value> {
        let ev = self.events.lock().unwrap();
        ev.iter()
            .filter(|e| e["message"] == message)
            .cloned()
            .collect()
    }

    fn wait_for(&mut self, pred: impl Fn(&Value) -> bool, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let seen = self
                .events
                .lock()
                .unwrap()
                .iter()
                .filter(|e| pred(e))
                .count();
            if seen >= n {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("agent {} exited ({st}) before the event", self.name);
            }
            assert!(
                Instant::now() < deadline,
                "agent {} never logged it",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `(duration_seconds, tokens)` of each task this agent completed.
    fn completed(&self) -> Vec<(f64, f64)> {
        self.named("task_completed")
            .iter()
            .map(|e| {
                (
                    e["duration_seconds"].as_f64().expect("duration_seconds"),
                    e["tokens"].as_f64().expect("tokens"),
                )
            })
            .collect()
    }

    fn target(&self) -> Target {
        target(&self.name, self.addr)
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn seed(queue: &str, count: u32, steps: u32, step_ms: u64) {
    let r = run(fleetctl()
        .args(["seed", "--amqp-url", &amqp_url(), "--queue", queue])
        .args(["--count", &count.to_string(), "--steps", &steps.to_string()])
        .args(["--step-ms", &step_ms.to_string()]));
    assert_eq!(r.code, 0, "seed failed: {}", r.all());
}

/// Waits until the agents have completed `n` tasks between them.
fn wait_completed(agents: &[&AgentProc], n: usize) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let done: usize = agents.iter().map(|a| a.completed().len()).sum();
        if done >= n {
            assert_eq!(done, n, "more tasks completed than were seeded");
            return;
        }
        assert!(Instant::now() < deadline, "{done} of {n} tasks completed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct QueueGuard(String);

impl Drop for QueueGuard {
    fn drop(&mut self) {
        delete_queue(&self.0);
        delete_queue(&format!("{}.dlq", self.0));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    install_crypto();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn round(rt: &tokio::runtime::Runtime, s: &Scraper, targets: &[Target]) -> Vec<Scrape> {
    rt.block_on(s.round(targets))
        .into_iter()
        .map(|(t, r)| r.unwrap_or_else(|e| panic!("{}: {e}", t.pod)))
        .collect()
}

/// The agent's histogram bounds, from a scrape.
fn bounds(s: &Scrape) -> Vec<f64> {
    s.histograms(TASK_SECONDS)[0]
        .buckets
        .iter()
        .map(|b| b.le)
        .collect()
}

#[test]
fn real_agents_counters_and_quantiles_match_what_they_did() {
    let test = "real_agents_counters_and_quantiles_match_what_they_did";
    if !require_broker(test) {
        return;
    }
    let q = QueueGuard(unique_queue("metrics"));
    let dir = TempDir::new("metrics-agents");
    let agents: Vec<AgentProc> = (0..3)
        .map(|i| {
            AgentProc::start(
                &format!("agent-{i}"),
                &q.0,
                &dir,
                SocketAddr::new(next_ip(), 8080),
            )
        })
        .collect();
    let targets: Vec<Target> = agents.iter().map(AgentProc::target).collect();
    let rt = runtime();
    let scraper = Scraper::new(direct(), None).unwrap();
    let mut store = MetricsStore::new(SeriesConfig {
        window: Duration::from_secs(600),
        ..Default::default()
    });
    let fleet = "Job/metrics-test";
    let ingest = |store: &mut MetricsStore, at: Timestamp, scrapes: &[Scrape]| {
        for (t, s) in targets.iter().zip(scrapes) {
            store.ingest(&t.key(), fleet, at, &Ok(s.clone()), Some(1 << 30));
        }
    };

    let t0 = Timestamp::now();
    let first = round(&rt, &scraper, &targets);
    ingest(&mut store, t0, &first);
    assert_eq!(
        store.fleet(fleet, t0).tasks_per_s,
        None,
        "one scrape: no rate yet"
    );

    // Two kinds of task, so the durations fall in different buckets.
    seed(&q.0, 12, 1, 10);
    seed(&q.0, 12, 3, 120);
    let refs: Vec<&AgentProc> = agents.iter().collect();
    // The agent counts a task before it logs `task_completed`.
    wait_completed(&refs, 24);
    let t1 = Timestamp::now();
    let second = round(&rt, &scraper, &targets);
    ingest(&mut store, t1, &second);

    // Per pod: the counters are what each agent logged.
    let window = Duration::from_secs(600);
    let mut all_durations = vec![];
    for (a, s) in agents.iter().zip(&second) {
        let done = a.completed();
        let tokens: f64 = done.iter().map(|d| d.1).sum();
        assert_eq!(
            s.value(TASKS, &[("status", "success")]),
            Some(done.len() as f64),
            "{}",
            a.name
        );
        assert_eq!(
            s.value(TOKENS, &[("model", "sim")]),
            Some(tokens),
            "{}",
            a.name
        );
        let p = store.pod(&a.target().key()).unwrap();
        assert_eq!(
            p.increase(TASKS, &[("status", "success")], t1, window),
            Some(done.len() as f64)
        );
        let h = &s.histograms(TASK_SECONDS)[0];
        assert_eq!(h.count, Some(done.len() as f64));
        let sum: f64 = done.iter().map(|d| d.0).sum();
        assert!(
            (h.sum.unwrap() - sum).abs() < 1e-6,
            "{} vs {sum}",
            h.sum.unwrap()
        );
        all_durations.extend(done.iter().map(|d| d.0));
    }

    // Per fleet: rates over the two scrapes, quantiles of what the agents observed.
    let m = store.fleet(fleet, t1);
    // The store keeps times to the millisecond.
    let secs = (t1.as_millisecond() - t0.as_millisecond()) as f64 / 1000.0;
    assert!((m.tasks_per_s.unwrap() - 24.0 / secs).abs() < 1e-9, "{m:?}");
    assert_eq!(m.success_ratio, Some(1.0));
    let tokens: f64 = agents.iter().flat_map(|a| a.completed()).map(|d| d.1).sum();
    assert!((m.tokens_per_s["sim"] - tokens / secs).abs() < 1e-9);
    let expected: Vec<(f64, f64)> = bounds(&second[0])
        .into_iter()
        .map(|le| {
            (
                le,
                all_durations.iter().filter(|d| **d <= le).count() as f64,
            )
        })
        .collect();
    for (q, got) in [
        (0.5, m.p50_task_seconds),
        (0.9, m.p90_task_seconds),
        (0.99, m.p99_task_seconds),
    ] {
        let want = histogram_quantile(q, &expected).unwrap();
        assert!(
            got.is_some_and(|g| (g - want).abs() < 1e-9),
            "p{}: {got:?}, want {want} from {expected:?}",
            q * 100.0
        );
    }
    // The slow half took over 0.25 s: p90 is beyond the fast tasks' bucket.
    assert!(m.p90_task_seconds.unwrap() > 0.25, "{m:?}");
    let w = m.worst_memory_headroom.unwrap();
    assert!(w.rss_bytes > 0 && w.limit_bytes == 1 << 30, "{w:?}");
    assert_eq!((m.pods_scraped, m.unreadable_lines), (3, 0));
}

#[test]
fn an_agent_restart_resets_its_counters_and_no_rate_goes_negative() {
    let test = "an_agent_restart_resets_its_counters_and_no_rate_goes_negative";
    if !require_broker(test) {
        return;
    }
    let q = QueueGuard(unique_queue("metrics-restart"));
    let dir = TempDir::new("metrics-restart");
    let addr = SocketAddr::new(next_ip(), 8080);
    let rt = runtime();
    let scraper = Scraper::new(direct(), None).unwrap();
    let mut store = MetricsStore::new(SeriesConfig {
        window: Duration::from_secs(600),
        ..Default::default()
    });
    let key = target("agent-r", addr).key();
    let scrape_at = |store: &mut MetricsStore, a: &AgentProc| {
        let at = Timestamp::now();
        let r = rt.block_on(scraper.scrape(&a.target()));
        assert!(r.is_ok(), "{:?}", r.as_ref().err());
        store.ingest(&key, "Job/restart", at, &r, None);
        at
    };

    let a = AgentProc::start("agent-r", &q.0, &dir, addr);
    scrape_at(&mut store, &a);
    seed(&q.0, 6, 1, 0);
    wait_completed(&[&a], 6);
    scrape_at(&mut store, &a);
    a.kill();

    // The same pod comes back (same address), its counters from zero.
    let b = AgentProc::start("agent-r", &q.0, &dir, addr);
    scrape_at(&mut store, &b);
    seed(&q.0, 4, 1, 0);
    wait_completed(&[&b], 4);
    let end = scrape_at(&mut store, &b);

    let p = store.pod(&key).unwrap();
    let window = Duration::from_secs(600);
    assert_eq!(
        p.increase(TASKS, &[("status", "success")], end, window),
        Some(10.0)
    );
    assert!(p.counter_resets >= 1);
    let points = p.rate_points(TASKS, &[]);
    assert_eq!(points.len(), 3);
    assert!(points.iter().all(|(_, r)| *r >= 0.0), "{points:?}");
    let m = store.fleet("Job/restart", end);
    assert!(m.tasks_per_s.is_some_and(|r| r > 0.0), "{m:?}");
    assert!(m.p99_task_seconds.is_some_and(|v| v >= 0.0), "{m:?}");
    assert_eq!(m.counter_resets, p.counter_resets);
}
