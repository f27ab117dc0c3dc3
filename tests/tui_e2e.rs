//! The console as a person uses it: the real `fleetctl tui` in a tmux pane, driven with keys
//! and read from the screen, against a `fleetctl sim` process (real HTTPS, the bundled
//! manifests, real `fleetctl agent` processes) and the real RabbitMQ broker. kubectl checks,
//! as an independent client, that what the console says it did was done.
//!
//! Each test has a sim, a queue and a tmux server of its own; the tmux server, the sim (and its
//! agents) and the queues go away however the test ends. Waits poll the screen with generous
//! deadlines: the tests assert behaviour, never speed.

mod common;

use common::{SimProcess, TempDir, Tmux};
use serde_json::{Value, json};

const NS: &str = "agents";
/// The pane: wide enough for the long fleet names (`scaledjob/ai-agent`, not `sj/ai-agent`).
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// How long anything the console shows may take to appear.
const SCREEN: u64 = 60;
/// How long agents may take to do their work.
const WORK: u64 = 180;

fn ready(test: &str) -> bool {
    common::require_broker(test)
        && common::require(common::kubectl_on_path(), test, "kubectl")
        && common::require_tmux(test)
}

/// A single-quoted shell word.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The console in a pane, against a sim with the bundled fleets reading a queue of the test's
/// own. The pane records `stty -a` before the console starts and after it exits, then prints
/// `EXITED:<code>` and stays open, so the screen after the exit can be read.
struct Console {
    // Dropped in this order: the console's pane first, then the sim and its agents.
    tmux: Tmux,
    sim: SimProcess,
    queue: Queue,
}

/// The test's queue and its dead-letter queue, deleted last (after the agents are gone).
struct Queue(String);

impl Drop for Queue {
    fn drop(&mut self) {
        common::delete_queue(&self.0);
        common::delete_queue(&format!("{}.dlq", self.0));
    }
}

impl Console {
    /// `fleets` and `tweak` as in [`common::fleet_manifests`]; `before_start` runs once the
    /// manifests are applied and before the console starts.
    fn start(
        prefix: &str,
        fleets: &[&str],
        tweak: impl Fn(&mut Value),
        before_start: impl FnOnce(&SimProcess, &str),
    ) -> Self {
        Self::start_on(
            prefix,
            &["--runtime", "process"],
            fleets,
            tweak,
            before_start,
        )
    }

    /// [`Console::start`] against a sim started with `sim_args`.
    fn start_on(
        prefix: &str,
        sim_args: &[&str],
        fleets: &[&str],
        tweak: impl Fn(&mut Value),
        before_start: impl FnOnce(&SimProcess, &str),
    ) -> Self {
        let sim = SimProcess::start(prefix, sim_args);
        let queue = common::unique_queue(prefix);
        let manifests = common::fleet_manifests(sim.dir.path(), &queue, fleets, tweak);
        sim.kubectl_ok(&["apply", "--server-side", "-f", manifests.to_str().unwrap()]);
        before_start(&sim, &queue);
        let dir = sim.dir.path();
        let command = format!(
            "cd {dir}; stty -a > stty.before; \
             env -u FLEETCTL_AMQP_URL -u RUST_LOG {exe} tui --kubeconfig {kc} -n {NS} \
             --amqp-url {url} --log-file {dir}/tui.log 2> tui.stderr; \
             code=$?; stty -a > stty.after; echo EXITED:$code; sleep 86400",
            dir = sh(dir.to_str().unwrap()),
            exe = sh(env!("CARGO_BIN_EXE_fleetctl")),
            kc = sh(sim.kubeconfig.to_str().unwrap()),
            url = sh(&common::amqp_url()),
        );
        let tmux = Tmux::start(WIDTH, HEIGHT, &command);
        Console {
            tmux,
            sim,
            queue: Queue(queue),
        }
    }

    fn keys(&self, keys: &[&str]) {
        self.tmux.send(keys);
    }

    /// Waits until the screen contains every one of `texts`; returns the screen.
    fn shows(&self, texts: &[&str]) -> String {
        self.tmux
            .wait(SCREEN, &format!("the screen shows {texts:?}"), |s| {
                texts.iter().all(|t| s.contains(t))
            })
    }

    /// Waits until `pred` holds for the screen.
    fn until(&self, secs: u64, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.tmux.wait(secs, what, pred)
    }

    /// The selected table row (reverse video), if any.
    fn selected(&self) -> Option<String> {
        common::reversed_lines(&self.tmux.styled_screen())
            .into_iter()
            .find(|l| l.contains('│'))
    }

    /// Moves the table's selection with j/k until the selected row contains `text`.
    fn select(&self, text: &str) -> String {
        let mut down = true;
        let mut moves = 0;
        common::wait_until(
            SCREEN,
            &format!("a row with {text} selected"),
            || {
                let row = self.selected();
                if let Some(r) = row.as_ref().filter(|r| r.contains(text)) {
                    return Some(r.clone());
                }
                // Down to the end, then up again.
                if moves == 20 {
                    down = !down;
                    moves = 0;
                }
                self.keys(&[if down { "j" } else { "k" }]);
                moves += 1;
                None
            },
            || format!("--- screen ---\n{}", self.tmux.screen()),
        )
    }

    /// The line of the screen that contains `text`.
    fn line_with(screen: &str, text: &str) -> Option<String> {
        screen
            .lines()
            .find(|l| l.contains(text))
            .map(str::to_string)
    }

    /// The status line: the last but one line of the pane.
    fn status_line(screen: &str) -> String {
        let lines: Vec<&str> = screen.lines().collect();
        let at = usize::from(HEIGHT) - 2;
        lines.get(at).map_or_else(String::new, |l| l.to_string())
    }

    /// `q`, then: the console exits 0, the pane is back on its main screen with none of the
    /// console left on it, the cursor is visible, and the terminal modes are those it found.
    fn quit_and_check_the_terminal(&self) {
        self.keys(&["q"]);
        let screen = self.until(SCREEN, "EXITED:0 after q", |s| s.contains("EXITED:"));
        assert!(
            screen.contains("EXITED:0"),
            "the console exits 0 on q:\n{screen}\nstderr: {}",
            self.file("tui.stderr")
        );
        assert_eq!(
            self.tmux.format("#{alternate_on}"),
            "0",
            "the console left the alternate screen"
        );
        assert_eq!(
            self.tmux.format("#{cursor_flag}"),
            "1",
            "the cursor is visible again"
        );
        for left in ["api ●", "FLEET", "Findings", "Enter open"] {
            assert!(
                !screen.contains(left),
                "nothing of the console is left on the main screen ({left:?}):\n{screen}"
            );
        }
        let after = common::wait_until(
            10,
            "stty -a after the exit",
            || Some(self.file("stty.after")).filter(|s| !s.is_empty()),
            String::new,
        );
        let before = self.file("stty.before");
        assert!(!before.is_empty(), "stty -a before the start");
        assert_eq!(before, after, "the terminal modes are restored");
        assert_eq!(self.file("tui.stderr"), "", "nothing on stderr");
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.sim.dir.path().join(name)).unwrap_or_default()
    }

    /// The Jobs of the ScaledJob, as kubectl sees them.
    fn scaledjob_jobs(&self) -> Vec<Value> {
        self.sim.get_json(&[
            "get",
            "jobs",
            "-n",
            NS,
            "-l",
            "scaledjob.keda.sh/name=ai-agent",
        ])["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The ScaledJob's pause annotation, as kubectl sees it.
    fn paused_annotation(&self) -> Option<String> {
        self.sim.get_json(&["get", "scaledjob", "ai-agent", "-n", NS])["metadata"]["annotations"]
            ["autoscaling.keda.sh/paused"]
            .as_str()
            .map(str::to_string)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- screen ---\n{}\n--- console log (end) ---\n{}",
                self.tmux.screen(),
                self.file("tui.log")
                    .lines()
                    .rev()
                    .take(30)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}

fn complete(job: &Value) -> bool {
    job["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Complete" && c["status"] == "True")
    })
}

/// The fleets appear; pause and resume change the ScaledJob's annotation; seeding through the
/// dialog makes KEDA start two Jobs whose agents do the work; `q` gives the terminal back as it
/// was.
#[test]
fn the_console_shows_the_fleets_pauses_resumes_and_seeds_the_scaledjob() {
    if !ready("tui_scaledjob") {
        return;
    }
    // The Indexed Job is there as a second fleet, suspended so that only KEDA's Jobs work.
    let c = Console::start(
        "tui-sj",
        &["ScaledJob", "Job"],
        |d| {
            if d["kind"] == "Job" {
                d["spec"]["suspend"] = json!(true);
            }
        },
        |_, _| {},
    );

    // 1. The fleets, and the API server answering.
    c.shows(&["scaledjob/ai-agent", "job/ai-agent-batch", "api ● up"]);

    // 3. Pause: the dialog says what will happen; the row and the annotation follow.
    c.select("scaledjob/ai-agent");
    c.keys(&["p"]);
    let dialog = c.shows(&["pause scaledjob/ai-agent", "Enter run"]);
    assert!(
        dialog.contains("paused") && dialog.contains("autoscaling.keda.sh/paused"),
        "the pause dialog says what it sets:\n{dialog}"
    );
    c.keys(&["Enter"]);
    c.until(SCREEN, "the ScaledJob's row paused", |s| {
        Console::line_with(s, "scaledjob/ai-agent").is_some_and(|l| l.contains(" paused "))
    });
    assert_eq!(c.paused_annotation().as_deref(), Some("true"));

    // Resume: the annotation goes, the row runs again.
    c.select("scaledjob/ai-agent");
    c.keys(&["r"]);
    c.shows(&["resume scaledjob/ai-agent", "Enter run"]);
    c.keys(&["Enter"]);
    c.until(SCREEN, "the ScaledJob's row running", |s| {
        Console::line_with(s, "scaledjob/ai-agent").is_some_and(|l| l.contains(" running "))
    });
    let annotation = c.paused_annotation();
    assert!(
        annotation.is_none() || annotation.as_deref() == Some("false"),
        "resumed: {annotation:?}"
    );

    // 2. Seed through the dialog: 10 tasks, 5 a Job, so KEDA creates two Jobs.
    c.select("scaledjob/ai-agent");
    c.keys(&["s"]);
    let dialog = c.shows(&["count: 10"]);
    assert!(
        dialog.contains(&c.queue.0),
        "seeds the fleet's queue:\n{dialog}"
    );
    c.keys(&["Enter"]);
    common::wait_until(
        WORK,
        "two Jobs of the ScaledJob, both Complete",
        || {
            let jobs = c.scaledjob_jobs();
            (jobs.len() >= 2 && jobs.iter().all(complete)).then_some(())
        },
        || c.sim.logs(),
    );
    assert_eq!(
        c.scaledjob_jobs().len(),
        2,
        "no Job beyond the two the queue called for"
    );
    assert_eq!(
        common::list_queue(&c.queue.0).map(|(n, _)| n),
        Some(0),
        "the agents did every task"
    );

    // The action log has the seeding, done.
    c.keys(&["L"]);
    let log = c.shows(&["Action log"]);
    let row = Console::line_with(&log, &format!("seed 10 tasks into {}", &c.queue.0[..16]))
        .unwrap_or_else(|| panic!("the seeding is in the action log:\n{log}"));
    assert!(
        row.contains(" ok ") && row.contains("10 of 10 confirmed"),
        "the seeding is ok: {row}"
    );
    c.keys(&["Escape"]);
    c.shows(&["scaledjob/ai-agent", "Enter open"]);

    // The fleet's detail lists both Jobs, complete.
    c.select("scaledjob/ai-agent");
    c.keys(&["Enter"]);
    c.until(SCREEN, "the fleet's two Jobs complete", |s| {
        s.contains("Jobs (2)")
            && s.lines()
                .filter(|l| l.contains("ai-agent-") && l.contains(" complete "))
                .count()
                == 2
    });
    c.keys(&["Escape"]);
    c.shows(&["Enter open"]);

    // 6. q restores the terminal.
    c.quit_and_check_the_terminal();
}

/// A running agent's eviction goes through the PDB: refused while the budget allows none, done
/// once it allows one, and the evicted pod shows in the disruption timeline; then a drain
/// suspends the Job and waits until no agent runs.
#[test]
fn the_console_evicts_an_agent_through_the_pdb_and_drains_the_job() {
    if !ready("tui_evict_drain") {
        return;
    }
    // One agent, busy for minutes: 4 tasks of 600 steps of 100 ms.
    let c = Console::start(
        "tui-ev",
        &["Job"],
        |d| {
            if d["kind"] == "Job" {
                d["spec"]["completions"] = json!(1);
                d["spec"]["parallelism"] = json!(1);
            }
        },
        |_, queue| common::seed(queue, 4, 600, 100, None),
    );
    c.shows(&["job/ai-agent-batch", "api ● up"]);

    // The fleet's detail: its agent running and ready, the PDB (minAvailable 1) allowing none.
    c.select("job/ai-agent-batch");
    c.keys(&["Enter"]);
    c.until(
        WORK,
        "a ready agent and a PDB that allows no eviction",
        |s| {
            s.contains("agent-pdb: 1/1 healthy, 0 allowed")
                && s.lines().any(|l| {
                    l.contains("ai-agent-batch-") && l.contains("Running") && l.contains("1/1")
                })
        },
    );
    let row = c.select("Running");
    let pod = row
        .split(|c: char| c.is_whitespace() || c == '│')
        .find(|w| w.starts_with("ai-agent-batch-"))
        .unwrap_or_else(|| panic!("a pod name in {row}"))
        .to_string();

    // Evict: the dialog warns that the PDB will refuse; the API server does.
    c.keys(&["e"]);
    let dialog = c.shows(&[&format!("Evict pod {pod}"), "Enter run"]);
    assert!(
        dialog.contains("agent-pdb allows no disruption now") && dialog.contains("429"),
        "the dialog names the PDB that will refuse:\n{dialog}"
    );
    c.keys(&["Enter"]);
    let screen = c.until(SCREEN, "the refusal on the status line", |s| {
        Console::status_line(s).contains("refused")
    });
    let status = Console::status_line(&screen);
    assert!(
        status.contains(&format!("evict pod {pod} failed")) && status.contains("agent-pdb"),
        "the status line names the budget that refused: {status}"
    );
    let p = c.sim.get_json(&["get", "pod", &pod, "-n", NS]);
    assert_eq!(
        p["status"]["phase"], "Running",
        "the refused pod still runs"
    );
    assert!(
        p["metadata"]["deletionTimestamp"].is_null(),
        "and is not being deleted"
    );

    // A budget that allows the eviction: the pod goes, the timeline shows it.
    c.sim.kubectl_ok(&[
        "patch",
        "pdb",
        "agent-pdb",
        "-n",
        NS,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minAvailable":0}}"#,
    ]);
    c.shows(&["agent-pdb: 1/0 healthy, 1 allowed"]);
    c.select(&pod);
    c.keys(&["e"]);
    let dialog = c.shows(&[&format!("Evict pod {pod}"), "Enter run"]);
    assert!(
        !dialog.contains("allows no disruption"),
        "no warning once the budget allows it:\n{dialog}"
    );
    c.keys(&["Enter"]);
    c.until(SCREEN, "the eviction in the Disruptions panel", |s| {
        s.lines()
            .any(|l| l.contains("evicted (API)") && l.contains(&pod))
    });
    common::wait_until(
        SCREEN,
        "the evicted pod gone",
        || {
            let r = c.sim.kubectl(&["get", "pod", &pod, "-n", NS]);
            (r.code != 0 && r.stderr.contains("NotFound")).then_some(())
        },
        || c.sim.logs(),
    );

    // Drain: suspend the Job, wait until no agent runs.
    c.keys(&["d"]);
    let dialog = c.shows(&["drain job/ai-agent-batch", "Enter run"]);
    assert!(
        dialog.contains("spec.suspend=true"),
        "the drain dialog says what it changes:\n{dialog}"
    );
    c.keys(&["Enter"]);
    c.until(WORK, "the drain done", |s| {
        Console::status_line(s).contains("job/ai-agent-batch drained")
    });
    let job = c.sim.get_json(&["get", "job", "ai-agent-batch", "-n", NS]);
    assert_eq!(
        job["spec"]["suspend"], true,
        "the drained Job stays suspended"
    );
    let pods = c
        .sim
        .get_json(&["get", "pods", "-n", NS, "-l", "job-name=ai-agent-batch"]);
    let running: Vec<&Value> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"]["phase"] == "Running")
        .collect();
    assert!(
        running.is_empty(),
        "no agent runs after the drain: {running:?}"
    );
    c.keys(&["L"]);
    let log = c.shows(&["Action log"]);
    let row = Console::line_with(&log, "drain job/ai-agent-batch")
        .unwrap_or_else(|| panic!("the drain is in the action log:\n{log}"));
    assert!(row.contains(" ok "), "the drain is ok: {row}");

    c.quit_and_check_the_terminal();
}

/// Without a terminal the console does not start, and says what to use instead.
#[test]
fn the_console_without_a_terminal_points_at_status() {
    let dir = TempDir::new("tui-noterm");
    let r = common::run(
        common::fleetctl()
            .arg("tui")
            .env("KUBECONFIG", dir.path().join("none"))
            .stdin(std::process::Stdio::null()),
    );
    assert_eq!(r.code, 2, "usage error: {}", r.all());
    assert_eq!(r.stdout, "", "nothing on stdout");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {:?}", r.stderr);
    assert!(lines[0].contains("fleetctl status"), "{}", lines[0]);
}

/// In a terminal, a kubeconfig that does not exist: one line naming it and the fix, a nonzero
/// exit, the terminal untouched.
#[test]
fn the_console_with_a_missing_kubeconfig_says_so_in_one_line() {
    if !common::require_tmux("tui_missing_kubeconfig") {
        return;
    }
    let dir = TempDir::new("tui-nokc");
    let missing = dir.path().join("nonexistent");
    let command = format!(
        "cd {dir}; stty -a > stty.before; \
         env -u KUBECONFIG -u FLEETCTL_AMQP_URL -u RUST_LOG {exe} tui --kubeconfig {kc} 2> tui.stderr; \
         code=$?; stty -a > stty.after; echo EXITED:$code; sleep 86400",
        dir = sh(dir.s()),
        exe = sh(env!("CARGO_BIN_EXE_fleetctl")),
        kc = sh(missing.to_str().unwrap()),
    );
    let tmux = Tmux::start(WIDTH, HEIGHT, &command);
    let screen = tmux.wait(SCREEN, "the console exits", |s| s.contains("EXITED:"));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    assert!(
        !screen.contains("EXITED:0"),
        "a missing kubeconfig is a failure:\n{screen}"
    );
    let stderr = read("tui.stderr");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(
        lines[0].contains(missing.to_str().unwrap()) && lines[0].contains("--kubeconfig"),
        "names the kubeconfig and the fix: {}",
        lines[0]
    );
    let after = common::wait_until(
        10,
        "stty -a after the exit",
        || Some(read("stty.after")).filter(|s| !s.is_empty()),
        String::new,
    );
    assert_eq!(
        read("stty.before"),
        after,
        "the terminal modes are untouched"
    );
    assert_eq!(tmux.format("#{alternate_on}"), "0");
}

/// Two in-process agents that wait on the empty queue instead of leaving.
fn two_waiting_agents(d: &mut Value) {
    if d["kind"] == "Job" {
        d["spec"]["completions"] = json!(2);
        d["spec"]["parallelism"] = json!(2);
        let args = d["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array_mut()
            .unwrap();
        for i in 0..args.len().saturating_sub(1) {
            if args[i] == "--idle-exit" {
                args[i + 1] = json!("0s");
            }
        }
    }
}

/// The cells of `row` under the header's `column` (up to the next column): columns are found
/// by where their names start in `header`.
fn cell(header: &str, row: &str, column: &str, next: &str) -> String {
    let h: Vec<char> = header.chars().collect();
    let r: Vec<char> = row.chars().collect();
    let find = |name: &str| {
        let n: Vec<char> = name.chars().collect();
        h.windows(n.len())
            .position(|w| w == n.as_slice())
            .unwrap_or_else(|| panic!("no {name} column in {header}"))
    };
    let (from, to) = (find(column), find(next));
    r.get(from..to.min(r.len()))
        .map(|c| c.iter().collect::<String>().trim().to_string())
        .unwrap_or_default()
}

/// Resource usage from the sim's `metrics.k8s.io`: with in-process agents running, the pods
/// table shows CPU and MEM for every running pod (not `-`), the header counts the sampled pods,
/// and `c` / `m` sort by them.
#[test]
fn the_console_shows_cpu_and_memory_of_running_pods() {
    if !ready("tui_usage") {
        return;
    }
    let c = Console::start_on(
        "tui-usage",
        &["--runtime", "inproc"],
        &["Job"],
        two_waiting_agents,
        |_, _| {},
    );
    c.shows(&["job/ai-agent-batch", "api ● up"]);
    c.select("job/ai-agent-batch");
    c.keys(&["Enter"]);
    // The sim samples every 10 s and the console reads every 15 s.
    let screen = c.until(WORK, "CPU and MEM for both running pods", |s| {
        let Some(header) = Console::line_with(s, "CPU") else {
            return false;
        };
        let rows: Vec<&str> = s
            .lines()
            .filter(|l| l.contains("ai-agent-batch-") && l.contains(" Running "))
            .collect();
        rows.len() == 2
            && rows.iter().all(|r| {
                cell(&header, r, "CPU", "MEM") != "-" && cell(&header, r, "MEM", "NODE") != "-"
            })
    });
    let header = Console::line_with(&screen, "CPU").unwrap();
    for row in screen
        .lines()
        .filter(|l| l.contains("ai-agent-batch-") && l.contains(" Running "))
    {
        let cpu = cell(&header, row, "CPU", "MEM");
        let mem = cell(&header, row, "MEM", "NODE");
        // The bundled Job sets limits: usage against them.
        assert!(
            cpu.ends_with('%') && cpu.contains("m "),
            "CPU against the limit: {cpu:?} in {row}"
        );
        assert!(
            mem.ends_with('%') && mem.contains("i "),
            "MEM against the limit: {mem:?} in {row}"
        );
    }
    assert!(
        screen.contains("usage 2 pods") && !screen.contains("not served"),
        "the header counts the sampled pods:\n{screen}"
    );
    // c and m: sorted by CPU, then by memory.
    c.keys(&["c"]);
    c.shows(&["sorted by cpu"]);
    c.keys(&["m"]);
    c.shows(&["sorted by memory"]);
    c.keys(&["Escape"]);
    c.shows(&["Enter open"]);
    c.quit_and_check_the_terminal();
}

/// A cluster without metrics-server: the header says so once, CPU is `-`, and MEM is each
/// agent's own `agent_resident_memory_bytes` from its `/metrics`.
#[test]
fn without_metrics_server_the_console_says_so_and_shows_the_agents_memory() {
    if !ready("tui_usage_not_served") {
        return;
    }
    let c = Console::start_on(
        "tui-nousage",
        &["--runtime", "inproc", "--without-metrics-server"],
        &["Job"],
        two_waiting_agents,
        |_, _| {},
    );
    c.shows(&[
        "job/ai-agent-batch",
        "usage: metrics.k8s.io not served (no metrics-server)",
    ]);
    c.select("job/ai-agent-batch");
    c.keys(&["Enter"]);
    let screen = c.until(WORK, "MEM from the agents for both running pods", |s| {
        let Some(header) = Console::line_with(s, "CPU") else {
            return false;
        };
        let rows: Vec<&str> = s
            .lines()
            .filter(|l| l.contains("ai-agent-batch-") && l.contains(" Running "))
            .collect();
        rows.len() == 2 && rows.iter().all(|r| cell(&header, r, "MEM", "NODE") != "-")
    });
    let header = Console::line_with(&screen, "CPU").unwrap();
    for row in screen
        .lines()
        .filter(|l| l.contains("ai-agent-batch-") && l.contains(" Running "))
    {
        assert_eq!(cell(&header, row, "CPU", "MEM"), "-", "no CPU: {row}");
    }
    assert_eq!(
        screen.matches("not served (no metrics-server)").count(),
        1,
        "said once:\n{screen}"
    );
    c.keys(&["Escape"]);
    c.shows(&["Enter open"]);
    c.quit_and_check_the_terminal();
}
