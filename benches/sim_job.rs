//! The user's path to 10,000 agents: `fleetctl sim --runtime inproc --nodes 100
//! [--state-dir DIR]` as a process of its own, then `kubectl apply --server-side` of the bundled
//! manifests (Secret `agent-secrets` pointing at the broker, the Indexed Job with `parallelism`
//! and `completions` N, its agents given `--idle-exit 0s` so that they wait on the empty queue
//! as they would work through a full one), timed from the apply until every pod is Running and until every pod is
//! Ready. The sim's peak RSS (VmHWM) and open descriptors (/proc/PID/fd) are sampled every
//! second. With a state directory, the sim is then stopped and started again on it, and the
//! time until `kubectl get pods` lists every pod is measured; `SIM_JOB_IDLE_SECS` samples the
//! idle sim's RSS for that long afterwards.
//!
//! `SIM_JOB_SCENARIO=usage` instead measures what sampling resource usage costs: the idle
//! sim's CPU (`utime + stime` of `/proc/PID/stat`) over a fixed window once all N pods run,
//! with and without `--without-metrics-server`, alternating runs in one session (see
//! [`usage_scenario`]).
//!
//! `cargo bench --bench sim_job` runs both scenarios (`SIM_JOB_SCENARIO=memory|state` runs
//! one); `SIM_JOB_PODS` (default 10,000), `SIM_JOB_TIMEOUT_SECS` (default 300),
//! `FLEETCTL_AMQP_URL` (default: the local broker), `SIM_JOB_BIN` (another build of fleetctl as
//! the sim, an older commit's, for a comparison in one session). kubectl must be on PATH.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::watcher;
use serde_json::json;

const NS: &str = "agents";

fn env_n(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

/// (VmRSS, VmHWM) of `pid`, in MB.
fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

struct Sim {
    child: Child,
    kubeconfig: PathBuf,
}

impl Sim {
    fn start(dir: &Path, state: Option<&Path>) -> Sim {
        Sim::start_with(dir, state, &[])
    }

    /// [`Sim::start`] with more flags (`--without-metrics-server`).
    fn start_with(dir: &Path, state: Option<&Path>, extra: &[&str]) -> Sim {
        let kubeconfig = dir.join("kubeconfig");
        let out = dir.join(format!("sim-{}.out", uuid::Uuid::new_v4().simple()));
        let bin = std::env::var("SIM_JOB_BIN").unwrap_or(env!("CARGO_BIN_EXE_fleetctl").into());
        let mut cmd = Command::new(bin);
        cmd.args(["sim", "--runtime", "inproc", "--nodes", "100"])
            .args(["--node-cpu", "32", "--node-memory", "128Gi"])
            .arg("--write-kubeconfig")
            .arg(&kubeconfig);
        if let Some(s) = state {
            cmd.arg("--state-dir").arg(s);
        }
        cmd.args(extra);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("fleetctl sim starts");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(l) = text.lines().find(|l| l.starts_with("sim ready:")) {
                println!("  {l}");
                break;
            }
            assert!(Instant::now() < deadline, "no 'sim ready:' line in 120 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        Sim { child, kubeconfig }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kubectl(&self, args: &[&str]) -> std::process::Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--request-timeout=60s")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("kubectl runs")
    }

    /// SIGTERM, then the time until it exited.
    fn stop(mut self) -> Duration {
        let t = Instant::now();
        // SAFETY: kill(2) on a child this bench started and has not waited for.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return t.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        t.elapsed()
    }
}

/// The bundled manifests with the Job only, its queue, and `pods` for parallelism and
/// completions, one file per object.
fn manifests(dir: &Path, queue: &str, pods: u64) -> PathBuf {
    let out = dir.join("manifests");
    std::fs::create_dir_all(&out).unwrap();
    let url = std::env::var("FLEETCTL_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let mut docs = vec![json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "agent-secrets", "namespace": NS},
        "stringData": {"queue-url": url, "rabbitmq-host": url}
    })];
    let objects = fleetctl::cluster::apply::prepare(
        fleetctl::cluster::apply::load_bundled().unwrap(),
        NS,
        None,
    )
    .unwrap();
    for o in objects {
        let mut doc = o.doc;
        match doc["kind"].as_str().unwrap_or_default() {
            "ScaledJob" => continue,
            "Job" => {
                doc["metadata"]["annotations"]["fleetctl.io/queue"] = json!(queue);
                doc["spec"]["parallelism"] = json!(pods);
                doc["spec"]["completions"] = json!(pods);
                let args = doc["spec"]["template"]["spec"]["containers"][0]["args"]
                    .as_array_mut()
                    .unwrap();
                for i in 0..args.len() {
                    if args[i] == "--queue" {
                        args[i + 1] = json!(queue);
                    }
                }
                // The queue stays empty: agents wait for work instead of leaving after 10 s
                // idle, so all N stay running as they would with a queue full of tasks.
                args.extend([json!("--idle-exit"), json!("0s")]);
            }
            _ => {}
        }
        docs.push(doc);
    }
    for (i, d) in docs.iter().enumerate() {
        std::fs::write(
            out.join(format!("{i:02}.json")),
            serde_json::to_string(d).unwrap(),
        )
        .unwrap();
    }
    out
}

#[derive(Default)]
struct Seen {
    running: usize,
    ready: usize,
    /// Seconds from a pod first seen Running to first seen Ready: median and 99th percentile.
    gap: Option<(f64, f64)>,
}

/// Counts pods Running and Ready through one watch, until both reach `n` or `timeout`.
async fn wait_running_ready(
    client: kube::Client,
    n: usize,
    t0: Instant,
    timeout: Duration,
    pid: u32,
) -> (Option<f64>, Option<f64>, f64, usize, Seen) {
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let mut stream = watcher(pods, watcher::Config::default()).boxed();
    let mut state: HashMap<String, (bool, bool)> = HashMap::new();
    // When each pod was first seen Running, and the time it then took to be seen Ready.
    let mut running_at: HashMap<String, Instant> = HashMap::new();
    let mut gaps: Vec<f64> = vec![];
    let (mut t_running, mut t_ready) = (None, None);
    let mut peak_fds = 0;
    let mut last_print = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let deadline = tokio::time::Instant::from_std(t0 + timeout);
    let seen = |state: &HashMap<String, (bool, bool)>| Seen {
        running: state.values().filter(|s| s.0).count(),
        ready: state.values().filter(|s| s.1).count(),
        gap: None,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = tick.tick() => {
                peak_fds = peak_fds.max(fds(pid));
                if last_print.elapsed() >= Duration::from_secs(10) {
                    last_print = Instant::now();
                    let s = seen(&state);
                    let (rss, hwm) = rss_mb(pid);
                    println!(
                        "  t={:>5.1}s running={} ready={} rss={rss:.0}MB peak={hwm:.0}MB fds={}",
                        t0.elapsed().as_secs_f64(), s.running, s.ready, fds(pid)
                    );
                }
            }
            ev = stream.next() => {
                let Some(ev) = ev else { break };
                let mut apply = |p: Pod| {
                    let name = p.metadata.name.clone().unwrap_or_default();
                    let st = p.status.unwrap_or_default();
                    let running = st.phase.as_deref() == Some("Running");
                    let ready = st
                        .conditions
                        .iter()
                        .flatten()
                        .any(|c| c.type_ == "Ready" && c.status == "True");
                    if running {
                        running_at.entry(name.clone()).or_insert_with(Instant::now);
                    }
                    let was_ready = state.get(&name).is_some_and(|s| s.1);
                    if ready && !was_ready && let Some(at) = running_at.get(&name) {
                        gaps.push(at.elapsed().as_secs_f64());
                    }
                    state.insert(name, (running, ready));
                };
                match ev {
                    Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) => apply(p),
                    Ok(watcher::Event::Delete(p)) => {
                        state.remove(&p.metadata.name.unwrap_or_default());
                    }
                    _ => {}
                }
                let s = seen(&state);
                if t_running.is_none() && s.running >= n {
                    t_running = Some(t0.elapsed().as_secs_f64());
                }
                if t_ready.is_none() && s.ready >= n {
                    t_ready = Some(t0.elapsed().as_secs_f64());
                }
                if t_running.is_some() && t_ready.is_some() {
                    break;
                }
            }
        }
    }
    let (_, hwm) = rss_mb(pid);
    let mut s = seen(&state);
    gaps.sort_by(f64::total_cmp);
    if !gaps.is_empty() {
        let at = |q: f64| gaps[((gaps.len() - 1) as f64 * q).round() as usize];
        s.gap = Some((at(0.5), at(0.99)));
    }
    (t_running, t_ready, hwm, peak_fds.max(fds(pid)), s)
}

fn fmt(t: Option<f64>) -> String {
    t.map(|t| format!("{t:.1} s"))
        .unwrap_or_else(|| "not reached".into())
}

/// The user's step: `kubectl apply --server-side` of the bundled Job with `n` pods on a queue of
/// its own; a client of the sim, the time of the apply, and the queue.
async fn apply_job(sim: &Sim, dir: &Path, prefix: &str, n: u64) -> (kube::Client, Instant, String) {
    let queue = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
    let files = manifests(dir, &queue, n);
    let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
        .await
        .unwrap();
    let t0 = Instant::now();
    let out = sim.kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        files.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "kubectl apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (client, t0, queue)
}

/// Removes a run's queue and its dead-letter queue from the broker, and its directory.
fn clean_up(queue: &str, dir: &Path) {
    for q in [queue.to_string(), format!("{queue}.dlq")] {
        let _ = Command::new("rabbitmqctl")
            .args(["delete_queue", &q])
            .output();
    }
    let _ = std::fs::remove_dir_all(dir);
}

async fn scenario(with_state: bool, n: u64, timeout: Duration) {
    let dir = std::env::temp_dir().join(format!(
        "fleetctl-bench-job-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let state = with_state.then(|| dir.join("state"));
    println!(
        "scenario: {n} pods of one Indexed Job, --runtime inproc --nodes 100, {}",
        if with_state {
            "--state-dir"
        } else {
            "no --state-dir"
        }
    );
    let sim = Sim::start(&dir, state.as_deref());
    let (client, t0, queue) = apply_job(&sim, &dir, "bench-job", n).await;
    let (t_running, t_ready, hwm, peak_fds, seen) =
        wait_running_ready(client, n as usize, t0, timeout, sim.pid()).await;
    let (rss, _) = rss_mb(sim.pid());
    println!(
        "  result: all Running after {}, all Ready after {} ({} running, {} ready at the end); peak RSS {hwm:.0} MB, RSS now {rss:.0} MB; peak open descriptors {peak_fds}",
        fmt(t_running),
        fmt(t_ready),
        seen.running,
        seen.ready
    );
    if let Some((p50, p99)) = seen.gap {
        println!("  Running to Ready per pod: median {p50:.1} s, p99 {p99:.1} s");
    }
    let idle = env_n("SIM_JOB_IDLE_SECS", 0);
    if idle > 0 {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(idle) {
            tokio::time::sleep(Duration::from_secs(30)).await;
            let (rss, _) = rss_mb(sim.pid());
            println!(
                "  idle t={:>4.0}s rss={rss:.0}MB fds={}",
                start.elapsed().as_secs_f64(),
                fds(sim.pid())
            );
        }
    }
    let out = sim.kubectl(&["get", "pods", "-n", NS, "--no-headers"]);
    let existing = String::from_utf8_lossy(&out.stdout).lines().count();
    let stopped = sim.stop();
    println!("  stopped in {:.2} s", stopped.as_secs_f64());
    if let Some(state) = &state {
        let size: u64 = std::fs::read_dir(state)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        println!(
            "  state directory files: {:.1} MB",
            size as f64 / (1024.0 * 1024.0)
        );
        let t = Instant::now();
        let sim = Sim::start(&dir, Some(state));
        let ready_line = t.elapsed();
        let mut listed = 0;
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            let out = sim.kubectl(&["get", "pods", "-n", NS, "--no-headers"]);
            listed = String::from_utf8_lossy(&out.stdout).lines().count();
            if out.status.success() && listed >= existing {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let (rss, _) = rss_mb(sim.pid());
        println!(
            "  restart: 'sim ready' after {:.2} s, `kubectl get pods` lists {listed} of {existing} pods after {:.2} s; RSS {rss:.0} MB",
            ready_line.as_secs_f64(),
            t.elapsed().as_secs_f64()
        );
        sim.stop();
    }
    clean_up(&queue, &dir);
}

/// CPU time (`utime + stime`) of `pid` so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| fleetctl::sim::controllers::kubelet::usage::parse_stat(&s, ticks, 4096))
        .map_or(0.0, |(ns, _)| ns as f64 / 1e9)
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| {
        let m = v.len() / 2;
        if v.len().is_multiple_of(2) {
            (v[m - 1] + v[m]) / 2.0
        } else {
            v[m]
        }
    })
}

/// One sim with `n` Running pods: its CPU (share of one core) over `window` once every pod is
/// Running and `settle` has passed. None when the pods did not all run.
async fn usage_run(
    without_metrics: bool,
    n: u64,
    timeout: Duration,
    settle: Duration,
    window: Duration,
) -> Option<f64> {
    let dir = std::env::temp_dir().join(format!(
        "fleetctl-bench-usage-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let extra: &[&str] = if without_metrics {
        &["--without-metrics-server"]
    } else {
        &[]
    };
    let label = if without_metrics {
        "without metrics-server"
    } else {
        "with metrics-server   "
    };
    let sim = Sim::start_with(&dir, None, extra);
    let (client, t0, queue) = apply_job(&sim, &dir, "bench-usage", n).await;
    let (t_running, _, _, _, seen) =
        wait_running_ready(client, n as usize, t0, timeout, sim.pid()).await;
    let share = match t_running {
        None => {
            println!(
                "  {label}: only {} of {n} pods Running within {} s; not measured",
                seen.running,
                timeout.as_secs()
            );
            None
        }
        Some(t) => {
            tokio::time::sleep(settle).await;
            let (c0, w0) = (cpu_seconds(sim.pid()), Instant::now());
            tokio::time::sleep(window).await;
            let (c1, w) = (cpu_seconds(sim.pid()), w0.elapsed().as_secs_f64());
            let share = (c1 - c0) / w;
            // Which pods the API served (the sampler's work), read after the window.
            let raw = sim.kubectl(&[
                "get",
                "--raw",
                &format!("/apis/metrics.k8s.io/v1beta1/namespaces/{NS}/pods"),
            ]);
            let served = if raw.status.success() {
                serde_json::from_slice::<serde_json::Value>(&raw.stdout)
                    .ok()
                    .and_then(|v| v["items"].as_array().map(|a| a.len().to_string()))
                    .unwrap_or_else(|| "?".into())
            } else {
                "not served".into()
            };
            println!(
                "  {label}: all {n} Running after {t:.1} s; over {w:.0} s idle the sim used {:.2} s of CPU = {:.2}% of a core; PodMetrics listed: {served}",
                c1 - c0,
                share * 100.0
            );
            Some(share)
        }
    };
    sim.stop();
    clean_up(&queue, &dir);
    share
}

/// The sampler's cost on the user's path: the idle sim's CPU with and without
/// `--without-metrics-server`, runs alternating (pair `i` starts with the other one than pair
/// `i - 1`), `SIM_JOB_USAGE_PAIRS` pairs (default 3), `SIM_JOB_USAGE_WINDOW_SECS` (default 60)
/// of measurement after `SIM_JOB_USAGE_SETTLE_SECS` (default 20).
async fn usage_scenario(n: u64, timeout: Duration) {
    let pairs = env_n("SIM_JOB_USAGE_PAIRS", 3);
    let window = Duration::from_secs(env_n("SIM_JOB_USAGE_WINDOW_SECS", 60));
    let settle = Duration::from_secs(env_n("SIM_JOB_USAGE_SETTLE_SECS", 20));
    println!(
        "scenario: usage sampling cost, {n} pods of one Indexed Job, --runtime inproc --nodes 100, {pairs} pairs of runs, {} s windows",
        window.as_secs()
    );
    let (mut with, mut without) = (vec![], vec![]);
    for i in 0..pairs {
        let order = if i.is_multiple_of(2) {
            [false, true]
        } else {
            [true, false]
        };
        for w in order {
            if let Some(s) = usage_run(w, n, timeout, settle, window).await {
                if w { &mut without } else { &mut with }.push(s);
            }
        }
    }
    match (median(&with), median(&without)) {
        (Some(a), Some(b)) => println!(
            "  result: median {:.2}% of a core with the sampler, {:.2}% without ({} and {} runs): the sampler costs {:.2}% of a core (ratio {:.3})",
            a * 100.0,
            b * 100.0,
            with.len(),
            without.len(),
            (a - b) * 100.0,
            a / b.max(f64::MIN_POSITIVE)
        ),
        _ => println!("  result: not enough runs reached {n} Running pods to compare"),
    }
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let which = std::env::var("SIM_JOB_SCENARIO").unwrap_or_default();
    let n = env_n("SIM_JOB_PODS", 10_000);
    let timeout = Duration::from_secs(env_n("SIM_JOB_TIMEOUT_SECS", 300));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        if which.is_empty() || which == "memory" {
            scenario(false, n, timeout).await;
        }
        if which.is_empty() || which == "state" {
            scenario(true, n, timeout).await;
        }
        // Minutes per pair: only when asked for.
        if which == "usage" {
            usage_scenario(n, timeout).await;
        }
    });
}
