//! Scraping and reading agent metrics.
//!
//! - Parse throughput (criterion, bytes/s): one agent's exposition, and a 1 MiB body of many
//!   series; prometheus-parse alone on the same bodies for scale.
//! - One scrape round over 1,000 agent endpoints: a child process (this binary, re-run with
//!   `FLEETCTL_BENCH_SERVE=1000`) serves the reference agent's real `/metrics` on 1,000 loopback
//!   addresses (127.2.x.y); this process scrapes them all, direct route, concurrency 64, and
//!   prints the median wall time per round, CPU seconds per round and RSS of the scraping
//!   process, with the default jitter and with none.
//!
//! `cargo bench --bench metrics_scrape` (add `-- --quick` for fewer criterion samples;
//! `FLEETCTL_BENCH_ROUNDS` sets the measured rounds, default 10).

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use fleetctl::agent::telemetry::{self, Metrics, Status};
use fleetctl::metrics::parse::parse;
use fleetctl::metrics::scrape::{Route, ScrapeConfig, Scraper, Target};
use fleetctl::metrics::series::MetricsStore;

const SERVE_ENV: &str = "FLEETCTL_BENCH_SERVE";

/// An agent's registry after some work: every family present, a few models.
fn busy_agent(index: usize) -> Metrics {
    let m = Metrics::new(&index.to_string());
    for i in 0..(50 + index % 50) {
        m.task_done(if i % 10 == 0 {
            Status::Failure
        } else {
            Status::Success
        });
        m.observe_duration((i % 40) as f64 * 0.37);
        m.step();
    }
    for model in ["gpt-4o", "claude-sonnet", "llama-3-70b"] {
        m.tokens(model, 1000 + index as u64);
    }
    m
}

fn parse_benches(c: &mut Criterion) {
    let one = busy_agent(7).encode();
    // Many agents' families renamed apart: a big exporter's body.
    let mut big = String::new();
    let mut i = 0;
    while big.len() < 1 << 20 {
        big.push_str(&one.replace("agent_", &format!("exporter{i}_")));
        i += 1;
    }
    assert_eq!(parse(&one).unreadable_lines, 0);
    assert_eq!(parse(&big).unreadable_lines, 0);
    let mut g = c.benchmark_group("metrics_parse");
    for (name, body) in [("agent_exposition", &one), ("1MiB_many_series", &big)] {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(format!("{name}_{}B", body.len()), |b| {
            b.iter(|| black_box(parse(black_box(body))))
        });
        // For scale: prometheus-parse alone, with what it gets wrong.
        g.bench_function(format!("{name}_prometheus_parse_alone"), |b| {
            b.iter(|| {
                let lines = black_box(body).lines().map(|l| Ok(l.to_string()));
                black_box(prometheus_parse::Scrape::parse(lines))
            })
        });
    }
    g.finish();
}

/// The child: 1,000 agents' metrics servers, one per loopback address; prints their addresses.
fn serve(n: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut servers = Vec::with_capacity(n);
        for i in 0..n {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 2, (i / 250) as u8, (i % 250 + 1) as u8));
            let server = telemetry::serve(SocketAddr::new(ip, 0), Arc::new(busy_agent(i)))
                .await
                .unwrap_or_else(|e| panic!("cannot listen on {ip}: {e}"));
            println!("{}", server.addr);
            servers.push(server);
        }
        println!("ready");
        // Serve until the parent closes stdin.
        let mut line = String::new();
        let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
    });
}

/// utime + stime of this process, from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn scrape_rounds(n: usize, rounds: usize) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .env(SERVE_ENV, n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the endpoint server starts");
    let mut addrs = vec![];
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        addrs.push(line.parse::<SocketAddr>().unwrap());
    }
    assert_eq!(addrs.len(), n);
    let targets: Vec<Target> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| Target {
            namespace: "agents".into(),
            pod: format!("ai-agent-{i:04}"),
            ip: Some(a.ip().to_string()),
            port: a.port(),
            path: "/metrics".into(),
        })
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!();
    println!(
        "scrape round: {n} endpoints, direct route, concurrency 64, {rounds} rounds each; \
         RSS before {} MiB",
        status_kb("VmRSS:") / 1024
    );
    for (label, jitter) in [
        ("default jitter 500 ms", ScrapeConfig::default().jitter),
        ("no jitter", Duration::ZERO),
    ] {
        let scraper = Scraper::new(
            ScrapeConfig {
                route: Route::Direct,
                jitter,
                ..Default::default()
            },
            None,
        )
        .unwrap();
        let mut store = MetricsStore::default();
        // Warm-up: connections made, pages touched.
        let warm = rt.block_on(scraper.round(&targets));
        let failed = warm.iter().filter(|(_, r)| r.is_err()).count();
        assert_eq!(failed, 0, "{:?}", warm.iter().find(|(_, r)| r.is_err()));
        let (mut walls, mut cpus, mut ingests) = (vec![], vec![], vec![]);
        let mut bytes = 0usize;
        for _ in 0..rounds {
            let (t, c) = (Instant::now(), cpu_seconds());
            let results = rt.block_on(scraper.round(&targets));
            walls.push(t.elapsed().as_secs_f64());
            cpus.push(cpu_seconds() - c);
            assert!(results.iter().all(|(_, r)| r.is_ok()));
            bytes = results
                .iter()
                .map(|(_, r)| r.as_ref().map_or(0, |s| s.bytes))
                .sum();
            let t = Instant::now();
            let now = jiff::Timestamp::now();
            for (target, r) in &results {
                store.ingest(&target.key(), "ScaledJob/ai-agent", now, r, Some(2 << 30));
            }
            black_box(store.fleet("ScaledJob/ai-agent", now));
            ingests.push(t.elapsed().as_secs_f64());
        }
        println!(
            "  {label}: wall {:.3} s/round (min {:.3}, max {:.3}), CPU {:.3} s/round, \
             store ingest + fleet summary {:.1} ms, {:.2} MB per round, RSS after {} MiB \
             (peak {} MiB)",
            median(&mut walls.clone()),
            walls.iter().cloned().fold(f64::INFINITY, f64::min),
            walls.iter().cloned().fold(0.0, f64::max),
            median(&mut cpus),
            median(&mut ingests) * 1e3,
            bytes as f64 / 1e6,
            status_kb("VmRSS:") / 1024,
            status_kb("VmHWM:") / 1024,
        );
    }
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    if let Ok(n) = std::env::var(SERVE_ENV) {
        serve(n.parse().expect("a number of endpoints"));
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    parse_benches(&mut c);
    c.final_summary();
    let rounds = std::env::var("FLEETCTL_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    scrape_rounds(1000, rounds);
}
