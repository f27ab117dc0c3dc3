//! `--local` as a newcomer uses it: the real binary starts the whole stack (broker, local
//! cluster, Secret, bundled manifests) in one process, commands find a stack already running on
//! the same state directory, and a second start finds the same objects and queued messages.
//! kubectl checks the cluster as an independent client; a lapin client checks the broker.
//!
//! Every test points the AMQP URL at a port where nothing listens, as on a machine without
//! RabbitMQ, so the stack runs the embedded broker and never touches the shared RabbitMQ.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{TempDir, Tmux, run, wait_until};

/// How long the stack may take to start (the target is 5 s; tests never time it).
const START: u64 = 60;

fn ready(test: &str) -> bool {
    common::require(common::kubectl_on_path(), test, "kubectl")
}

/// A loopback port nothing listens on (bound and released).
fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An AMQP URL where no broker answers, as on a fresh machine.
fn nowhere() -> String {
    format!("amqp://guest:guest@127.0.0.1:{}/%2f", unused_port())
}

/// `fleetctl <args>` with the given AMQP URL and a HOME of its own.
fn fleetctl(home: &Path, url: &str) -> Command {
    let mut cmd = common::fleetctl();
    cmd.env("FLEETCTL_AMQP_URL", url)
        .env("HOME", home)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null());
    cmd
}

/// `fleetctl sim --broker ...` in the background, stopped with SIGTERM when dropped.
struct Stack {
    child: Child,
    state: PathBuf,
    stderr: PathBuf,
}

impl Stack {
    fn start(dir: &TempDir, url: &str, extra: &[&str]) -> Stack {
        let state = dir.path().join("state");
        let stderr = dir
            .path()
            .join(format!("stack-{}.err", uuid::Uuid::new_v4().simple()));
        let child = fleetctl(dir.path(), url)
            .args([
                "sim",
                "--broker",
                "auto",
                "--runtime",
                "inproc",
                "--state-dir",
            ])
            .arg(&state)
            .args(extra)
            .stdout(std::fs::File::create(dir.path().join("stack.out")).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("fleetctl sim starts");
        let s = Stack {
            child,
            state,
            stderr,
        };
        wait_until(
            START,
            "the stack records itself in local.json",
            || s.state.join("local.json").exists().then_some(()),
            || s.stderr(),
        );
        s
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn recorded(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.state.join("local.json")).unwrap()).unwrap()
    }

    fn kubectl(&self, args: &[&str]) -> String {
        let r = run(Command::new("kubectl")
            .env("KUBECONFIG", self.state.join("kubeconfig"))
            .env("HOME", self.state.parent().unwrap())
            .args(args));
        assert_eq!(r.code, 0, "kubectl {args:?}: {}", r.all());
        r.stdout
    }

    fn stop(mut self) -> Option<std::process::ExitStatus> {
        common::stop_child(&mut self.child)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        common::stop_child(&mut self.child);
    }
}

/// Ready messages of `queue` on the broker at `url`, by passive declare.
fn ready_messages(url: &str, queue: &str) -> u32 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = lapin::Connection::connect(url, lapin::ConnectionProperties::default())
            .await
            .expect("the stack's broker answers");
        let ch = conn.create_channel().await.unwrap();
        let q = ch
            .queue_declare(
                queue.into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .expect("the queue exists");
        let _ = conn.close(200, "done".into()).await;
        q.message_count()
    })
}

#[test]
fn smoke_test_passes_on_a_fresh_local_stack_without_rabbitmq() {
    let test = "smoke_test_passes_on_a_fresh_local_stack_without_rabbitmq";
    if !ready(test) {
        return;
    }
    let dir = TempDir::new("local-smoke");
    let state = dir.path().join("state");
    let r = run(fleetctl(dir.path(), &nowhere())
        .args([
            "smoke-test",
            "--local",
            "--count",
            "5",
            "--timeout",
            "4m",
            "--state-dir",
        ])
        .arg(&state));
    assert_eq!(r.code, 0, "smoke-test --local: {}", r.all());
    assert!(r.stdout.contains("PASS"), "{}", r.all());
    assert!(
        r.stderr
            .contains("embedded broker listening at amqp://guest:***@127.0.0.1:"),
        "the stack says it started the embedded broker: {}",
        r.stderr
    );
    assert!(
        !r.all().contains("guest:guest"),
        "no password in the output: {}",
        r.all()
    );
    // The stack stopped with the command: its record became the last run's.
    assert!(!state.join("local.json").exists());
    assert!(state.join("last-run.json").exists());
}

#[test]
fn commands_use_the_running_stack_and_a_restart_keeps_objects_and_messages() {
    let test = "commands_use_the_running_stack_and_a_restart_keeps_objects_and_messages";
    if !ready(test) {
        return;
    }
    let dir = TempDir::new("local-restart");
    let url = nowhere();
    let stack = Stack::start(&dir, &url, &[]);
    assert!(
        stack.stderr().contains("embedded broker"),
        "{}",
        stack.stderr()
    );
    let recorded = stack.recorded();
    let amqp = recorded["amqp_url"].as_str().unwrap().to_string();
    assert_eq!(recorded["broker"], "embedded");
    let uid = stack.kubectl(&[
        "get",
        "scaledjob",
        "ai-agent",
        "-n",
        "agents",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    assert!(!uid.is_empty());
    let secret = stack.kubectl(&[
        "get",
        "secret",
        "agent-secrets",
        "-n",
        "agents",
        "-o",
        "jsonpath={.data.queue-url}",
    ]);
    assert!(
        !secret.is_empty(),
        "the Secret points the agents at the broker"
    );

    // A --local command finds the running stack (it does not start a second one) and seeds
    // into its broker: a queue no agent reads, so the messages stay.
    let queue = common::unique_queue("local-keep");
    let r = run(fleetctl(dir.path(), &url)
        .args(["seed", "--local", "-c", "7", "-q", &queue, "--state-dir"])
        .arg(&stack.state));
    assert_eq!(r.code, 0, "seed --local: {}", r.all());
    assert!(r.stderr.contains("(already running)"), "{}", r.stderr);
    assert_eq!(ready_messages(&amqp, &queue), 7);
    let s = run(fleetctl(dir.path(), &url)
        .args(["status", "--local", "-o", "json", "--state-dir"])
        .arg(&stack.state));
    assert_eq!(s.code, 0, "status --local: {}", s.all());
    assert!(s.stdout.contains("\"name\":\"ai-agent\""), "{}", s.stdout);

    let server = recorded["server"].as_str().unwrap().to_string();
    let status = stack.stop().expect("the stack stops on SIGTERM");
    assert!(status.success(), "the stack exits 0 on SIGTERM: {status:?}");

    // The second start: same objects, same queued messages, same addresses.
    let again = Stack::start(&dir, &url, &[]);
    let recorded = again.recorded();
    assert_eq!(
        recorded["server"].as_str().unwrap(),
        server,
        "same API address"
    );
    assert_eq!(
        recorded["amqp_url"].as_str().unwrap(),
        amqp,
        "same broker address"
    );
    let uid_again = again.kubectl(&[
        "get",
        "scaledjob",
        "ai-agent",
        "-n",
        "agents",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    assert_eq!(uid_again, uid, "the same ScaledJob, not a new one");
    assert_eq!(
        ready_messages(&amqp, &queue),
        7,
        "the queued messages survived"
    );
}

#[test]
fn the_console_runs_on_the_local_stack_and_q_stops_it() {
    let test = "the_console_runs_on_the_local_stack_and_q_stops_it";
    if !(ready(test) && common::require_tmux(test)) {
        return;
    }
    let dir = TempDir::new("local-tui");
    let state = dir.path().join("state");
    let command = format!(
        "cd '{d}'; env -u XDG_CACHE_HOME -u KUBECONFIG -u RUST_LOG HOME='{d}' \
         FLEETCTL_AMQP_URL='{url}' '{exe}' tui --local --state-dir '{s}' 2> tui.stderr; \
         echo EXITED:$?; sleep 86400",
        d = dir.s(),
        url = nowhere(),
        exe = env!("CARGO_BIN_EXE_fleetctl"),
        s = state.display(),
    );
    let tmux = Tmux::start(120, 40, &command);
    tmux.wait(START, "the header names the local stack", |s| {
        s.contains("local cluster, embedded broker")
    });
    tmux.wait(START, "the bundled fleets are listed", |s| {
        s.contains("scaledjob/ai-agent") && s.contains("job/ai-agent-batch")
    });
    assert!(
        state.join("local.json").exists(),
        "the stack is recorded while it runs"
    );
    tmux.send(&["q"]);
    tmux.wait(START, "the console exits 0", |s| s.contains("EXITED:0"));
    assert!(
        !state.join("local.json").exists(),
        "q stopped the stack it started"
    );
    // Nothing it started is left: the lock is free again.
    let r = run(Command::new("flock")
        .args(["-n", "-x"])
        .arg(state.join("lock"))
        .arg("true"));
    assert_eq!(
        r.code,
        0,
        "the state directory's lock is released: {}",
        r.all()
    );
}

#[test]
fn rabbitmq_that_does_not_answer_is_a_clear_error() {
    let dir = TempDir::new("local-norabbit");
    let url = nowhere();
    let r = run(fleetctl(dir.path(), &url)
        .args(["status", "--local", "--broker", "rabbitmq", "--state-dir"])
        .arg(dir.path().join("state")));
    assert_eq!(r.code, 1, "{}", r.all());
    let line = r.stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("fleetctl: error: no broker answers at amqp://guest:***@127.0.0.1:"),
        "{}",
        r.stderr
    );
    assert!(line.contains("--broker auto"), "the fix is named: {line}");
    assert!(!r.all().contains("guest:guest"), "{}", r.all());
}

#[test]
fn a_state_directory_others_may_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("local-perm");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let r = run(fleetctl(dir.path(), &nowhere())
        .args(["status", "--local", "--state-dir"])
        .arg(&state));
    assert_eq!(r.code, 2, "{}", r.all());
    let line = r.stderr.lines().last().unwrap_or_default();
    assert!(line.contains("cannot use --state-dir"), "{line}");
    assert!(line.contains("chmod 700"), "{line}");
    assert!(!state.join("kubeconfig").exists(), "nothing was started");
}

#[test]
fn state_dir_without_local_is_a_usage_error() {
    let dir = TempDir::new("local-usage");
    let r = run(fleetctl(dir.path(), &nowhere()).args(["status", "--state-dir", "/tmp/x"]));
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--local"), "{}", r.stderr);
}
