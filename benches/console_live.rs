//! The console against a live local cluster, the way an operator meets 10,000 agents: a
//! `fleetctl sim --runtime inproc` process, the bundled manifests with the Indexed Job's
//! parallelism and completions raised to `CONSOLE_BENCH_PODS` (10,000), applied with
//! `fleetctl apply --from`, then the console's real loop (watchers, queue reads, scrapes through
//! the pod proxy, update, view) drawing into a 200x50 test backend inside this process.
//!
//! Reports:
//! - first full frame: from the console's start until a frame counts every pod (this includes
//!   the watchers' initial lists, so it is an upper bound of "after the lists complete");
//! - event-to-screen latency: `CONSOLE_BENCH_SAMPLES` (20) pods deleted through the API one at
//!   a time, each timed from the DELETE's answer until a frame shows it terminating or gone;
//! - the process's RSS (only the console runs in it) and its CPU over 30 s with no input.
//!
//! `cargo bench --bench console_live` (needs RabbitMQ on FLEETCTL_AMQP_URL, and kubectl).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use fleetctl::cli::{MgmtArgs, ScrapeMode};
use fleetctl::metrics::scrape::ScrapeSettings;
use fleetctl::tui::app::{Options, drive};
use fleetctl::tui::model::Info;
use fleetctl::tui::msg::Msg;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn rss_mb() -> f64 {
    fleetctl::agent::telemetry::resident_memory_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

fn peak_rss_mb() -> f64 {
    // SAFETY: as above.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u.ru_maxrss as f64 / 1024.0
}

struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: a plain signal to our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kubectl(kc: &Path, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The bundled manifests without the example Secret, the Job sized to `pods`, the ScaledJob
/// left out (this is a Job fleet).
fn manifests(dir: &Path, pods: usize, queue: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".yaml")
            || name.contains("example")
            || name == "kustomization.yaml"
            || name == "agent-scaledjob.yaml"
            || name == "rabbitmq-auth.yaml"
        {
            continue;
        }
        let mut text = std::fs::read_to_string(&p).unwrap();
        if name == "agent-job.yaml" {
            text = text
                .replace("completions: 100", &format!("completions: {pods}"))
                .replace("parallelism: 20", &format!("parallelism: {pods}"))
                .replace("agent-tasks", queue)
                // Agents stay up (the default is to exit after 10 s without a task).
                .replace(
                    "            - 0.0.0.0:8080\n",
                    "            - 0.0.0.0:8080\n            - --idle-exit\n            - 0s\n",
                );
        }
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pods = env_or("CONSOLE_BENCH_PODS", 10_000);
    let samples = env_or("CONSOLE_BENCH_SAMPLES", 20);
    let nodes = pods.div_ceil(100).max(3);
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_fleetctl"));
    let dir = std::env::temp_dir().join(format!("fleetctl-bench-console-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let kc = dir.join("kubeconfig");
    let url = std::env::var("FLEETCTL_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let log = std::fs::File::create(dir.join("sim.log")).unwrap();
    let sim = Sim(Command::new(&exe)
        .args([
            "sim",
            "--runtime",
            "inproc",
            "--nodes",
            &nodes.to_string(),
            "--node-cpu",
            "32",
            "--node-memory",
            "128Gi",
            "--write-kubeconfig",
        ])
        .arg(&kc)
        .env("FLEETCTL_AMQP_URL", &url)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the sim starts"));
    let t = Instant::now();
    while !kc.exists()
        || Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kc)
            .args(["get", "ns", "agents"])
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
    {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the sim did not come up; see {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let queue = format!("bench-console-{}", std::process::id());
    kubectl(
        &kc,
        &[
            "create",
            "secret",
            "generic",
            "agent-secrets",
            "-n",
            "agents",
            &format!("--from-literal=queue-url={url}"),
            &format!("--from-literal=rabbitmq-host={url}"),
        ],
    );
    let mdir = dir.join("manifests");
    manifests(&mdir, pods, &queue);
    let applied = Command::new(&exe)
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["apply", "--from"])
        .arg(&mdir)
        .output()
        .unwrap();
    assert!(
        applied.status.success(),
        "apply: {}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let t_apply = Instant::now();
    eprintln!("applied a Job of {pods} agents on {nodes} nodes; waiting until they run");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let (client, source) = fleetctl::cluster::client::connect(Some(&kc), None).await.unwrap();
        let pods_api: Api<Pod> = Api::namespaced(client.clone(), "agents");
        let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(client.clone(), "agents");
        // Every pod created (Pending or Running): the console then lists them all.
        loop {
            let active = jobs
                .get("ai-agent-batch")
                .await
                .ok()
                .and_then(|j| j.status.and_then(|s| s.active))
                .unwrap_or(0);
            if active as usize >= pods {
                break;
            }
            assert!(t_apply.elapsed() < Duration::from_secs(600), "only {active} of {pods} pods after 10 minutes");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        eprintln!("{pods} pods active {:.1}s after the apply", t_apply.elapsed().as_secs_f64());

        // CONSOLE_BENCH_SCRAPE=off measures the console without the agents' /metrics.
        let mode = if std::env::var("CONSOLE_BENCH_SCRAPE").is_ok_and(|v| v == "off") {
            ScrapeMode::Off
        } else {
            ScrapeMode::Proxy
        };
        let scraper = ScrapeSettings { route: mode.route(), interval: Duration::from_secs(5), timeout: Duration::from_secs(2), concurrency: 64 }
            .scraper(Some(client.clone()))
            .unwrap();
        let opts = Options {
            client: client.clone(),
            info: Info {
                context: "bench".into(),
                server: source.server.clone(),
                namespace: "agents".into(),
                selector: "app=ai-agent".into(),
                local: None,
                broker: fleetctl::redact::mask_url(&url),
                scrape: mode != ScrapeMode::Off,
            },
            selector: fleetctl::fleet::selector::Selector::parse("app=ai-agent").unwrap(),
            amqp_url: url.clone(),
            scraper,
            mgmt: MgmtArgs::default().client(&url).unwrap(),
            color: true,
            drain_timeout: Duration::from_secs(60),
        };
        let (tx, rx) = mpsc::channel(1024);
        let quit = tx.clone();
        let start = Instant::now();
        let first_full: Arc<Mutex<Option<Duration>>> = Arc::default();
        let pending: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let after_lists_at: Arc<Mutex<Option<f64>>> = Arc::default();
        let (ff, pend, lat, after_lists) = (first_full.clone(), pending.clone(), latencies.clone(), after_lists_at.clone());
        let on_frame = move |m: &fleetctl::tui::model::Model| {
            let mut ff = ff.lock().unwrap();
            if ff.is_none() && m.snapshot.fleets.iter().map(|f| f.pods.total).sum::<i64>() >= pods as i64 {
                *ff = Some(start.elapsed());
            }
            // The first frame drawn once every kind's first list is in: how long after it.
            let mut al = after_lists.lock().unwrap();
            if al.is_none()
                && let Some(t) = m.listed_at
            {
                *al = Some(jiff::Timestamp::now().duration_since(t).as_secs_f64());
            }
            let now = Instant::now();
            pend.lock().unwrap().retain(|name, at| {
                let shown = m.fleet.pods().get(name).is_none_or(|p| p.deletion);
                if shown {
                    lat.lock().unwrap().push(now - *at);
                }
                !shown
            });
        };
        let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
        let driver = async move { drive(&mut term, &opts, tx, rx, on_frame).await };
        let bench = async {
            while first_full.lock().unwrap().is_none() {
                assert!(start.elapsed() < Duration::from_secs(120), "no full frame within 120 s");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let names: Vec<String> = pods_api
                .list(&ListParams::default().fields("status.phase=Running").limit(samples as u32))
                .await
                .unwrap()
                .items
                .into_iter()
                .filter_map(|p| p.metadata.name)
                .collect();
            for name in names {
                pods_api.delete(&name, &DeleteParams::default()).await.unwrap();
                pending.lock().unwrap().insert(name, Instant::now());
                let t = Instant::now();
                while !pending.lock().unwrap().is_empty() && t.elapsed() < Duration::from_secs(10) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let rss_after = rss_mb();
            let c0 = cpu_seconds();
            tokio::time::sleep(Duration::from_secs(30)).await;
            let idle_cpu = (cpu_seconds() - c0) / 30.0 * 100.0;
            let _ = quit.send(Msg::Terminate).await;
            (rss_after, idle_cpu)
        };
        let (r, (rss, idle)) = tokio::join!(driver, bench);
        r.unwrap();
        let mut l = latencies.lock().unwrap().clone();
        l.sort();
        let pct = |q: f64| l.get(((l.len() as f64 * q).ceil() as usize).saturating_sub(1)).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
        println!(
            "console_live pods={pods} scrape={mode:?} first_full_frame_s={:.2} (frame after the lists: {:.3}s) latency_ms p50={:.0} p99={:.0} max={:.0} (n={}) rss_mb={rss:.0} peak_rss_mb={:.0} idle_cpu_pct_of_core={idle:.1}",
            first_full.lock().unwrap().map_or(f64::NAN, |d| d.as_secs_f64()),
            after_lists_at.lock().unwrap().unwrap_or(f64::NAN),
            pct(0.5),
            pct(0.99),
            pct(1.0),
            l.len(),
            peak_rss_mb(),
        );
    });
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
