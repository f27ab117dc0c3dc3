//! Tasks per second through one `fleetctl agent` process with a zero-latency sim executor
//! (1 step, 0 ms), at prefetch 1 and prefetch 32, with the checkpoint directory on disk and on
//! tmpfs. Each run seeds N tasks, starts the release binary with `--max-tasks N`, and times it
//! from start to exit; every task is checkpointed, recorded and acked as in production.
//!
//! `cargo bench --bench agent_throughput` (needs RabbitMQ on 127.0.0.1:5672, or the broker at
//! `AGENT_BENCH_AMQP_URL`, e.g. a `fleetctl broker`); `AGENT_BENCH_TASKS` and
//! `AGENT_BENCH_ROUNDS` change the size; `AGENT_BENCH_BIN` runs another build of fleetctl (an
//! older commit's, for a comparison in one session).

use std::process::{Command, Stdio};
use std::time::Instant;

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn fleetctl() -> Command {
    let bin = std::env::var("AGENT_BENCH_BIN").unwrap_or(env!("CARGO_BIN_EXE_fleetctl").into());
    let mut c = Command::new(bin);
    c.env_remove("RUST_LOG").env_remove("FLEETCTL_AMQP_URL");
    if let Ok(url) = std::env::var("AGENT_BENCH_AMQP_URL") {
        c.env("FLEETCTL_AMQP_URL", url);
    }
    c
}

fn run_once(tasks: u64, prefetch: u32, dir: &std::path::Path) -> Option<f64> {
    let queue = format!("fleetctl-bench-agent-{}", uuid::Uuid::new_v4().simple());
    let seeded = fleetctl()
        .args(["seed", "-q", &queue, "--steps", "1", "--step-ms", "0", "-c"])
        .arg(tasks.to_string())
        .stdout(Stdio::null())
        .status()
        .ok()?;
    if !seeded.success() {
        return None;
    }
    let _ = std::fs::remove_dir_all(dir);
    let started = Instant::now();
    let status = fleetctl()
        .args([
            "agent",
            "-q",
            &queue,
            "--idle-exit",
            "0",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .args([
            "--max-tasks",
            &tasks.to_string(),
            "--prefetch",
            &prefetch.to_string(),
        ])
        .arg("--checkpoint-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .status()
        .ok()?;
    let secs = started.elapsed().as_secs_f64();
    let _ = Command::new("rabbitmqctl")
        .args(["delete_queue", &queue])
        .output();
    let _ = Command::new("rabbitmqctl")
        .args(["delete_queue", &format!("{queue}.dlq")])
        .output();
    let _ = std::fs::remove_dir_all(dir);
    status.success().then_some(tasks as f64 / secs)
}

fn main() {
    let tasks = env_or("AGENT_BENCH_TASKS", 20_000);
    let rounds = env_or("AGENT_BENCH_ROUNDS", 5) as usize;
    // The broker's host:port: AGENT_BENCH_AMQP_URL's, else RabbitMQ's default.
    let addr = std::env::var("AGENT_BENCH_AMQP_URL")
        .ok()
        .and_then(|u| {
            let rest = u.split("://").nth(1)?.to_string();
            let authority = rest.split('/').next()?.to_string();
            Some(authority.rsplit('@').next()?.to_string())
        })
        .unwrap_or_else(|| "127.0.0.1:5672".to_string());
    if std::net::TcpStream::connect(&addr).is_err() {
        eprintln!("agent_throughput: skipped: no broker on {addr}");
        return;
    }
    let disk = std::env::temp_dir().join("fleetctl-bench-agent");
    let shm = std::path::PathBuf::from("/dev/shm/fleetctl-bench-agent");
    let cases: Vec<(&str, u32, &std::path::Path)> = vec![
        ("prefetch 1, disk", 1, &disk),
        ("prefetch 32, disk", 32, &disk),
        ("prefetch 1, tmpfs", 1, &shm),
        ("prefetch 32, tmpfs", 32, &shm),
    ];
    let mut results: Vec<Vec<f64>> = vec![vec![]; cases.len()];
    for round in 0..rounds {
        for (i, (name, prefetch, dir)) in cases.iter().enumerate() {
            // Prefetch 1 is slow on disk: fewer tasks keep the round short; rates compare.
            let n = if *prefetch == 1 { tasks / 4 } else { tasks };
            match run_once(n, *prefetch, dir) {
                Some(r) => {
                    println!("round {round}: {name}: {r:.0} tasks/s ({n} tasks)");
                    results[i].push(r);
                }
                None => println!("round {round}: {name}: failed"),
            }
        }
    }
    for (i, (name, _, _)) in cases.iter().enumerate() {
        if !results[i].is_empty() {
            println!(
                "median of {}: {name}: {:.0} tasks/s",
                results[i].len(),
                median(&mut results[i])
            );
        }
    }
}
