//! `fleetctl sim` judged by the real kubectl 1.32: `get` (tables, `-o json`, `-o yaml`, `-w`),
//! server-side apply of the agent manifests (twice), conflicting field managers, client-side
//! apply with strict validation, delete/describe/label/annotate/create job, and the Status
//! errors kubectl shows for bad input.
//!
//! Every test starts a sim of its own and gives kubectl a HOME of its own, so the discovery
//! cache under ~/.kube/cache is fresh. Waits poll with generous deadlines and never assert speed.
//! The sim is stopped with SIGTERM (then SIGKILL) and its directory removed however a test ends.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// How long the sim may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one kubectl invocation may take before the test gives up on it.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a watch may take to show an event.
const WATCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Every kind the sim serves, as a kubectl user names it.
const KINDS: &[&str] = &[
    "namespaces",
    "nodes",
    "pods",
    "events",
    "secrets",
    "configmaps",
    "services",
    "pvc",
    "limitranges",
    "serviceaccounts",
    "deployments",
    "replicasets",
    "jobs",
    "pdb",
    "networkpolicies",
    "roles",
    "rolebindings",
    "crd",
    "leases",
    "sj",
    "so",
    "ta",
];

/// The namespaces that exist when the sim starts.
const START_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "agents"];

// ---------------------------------------------------------------------------------------------
// kubectl and the sim
// ---------------------------------------------------------------------------------------------

/// Reads `r` line by line into `into`, and forwards each line to `tx` while anyone listens.
fn collect_lines(
    r: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
    tx: Option<mpsc::Sender<String>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(l) = line else { break };
            into.lock().unwrap().push(l.clone());
            if let Some(tx) = &tx {
                let _ = tx.send(l);
            }
        }
    })
}

/// Reads all of `r` on a thread of its own.
fn read_all(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = vec![];
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// Runs `cmd` with `stdin` (if any) and a deadline: a hang becomes a panic that names `what`.
fn run_with_deadline(mut cmd: Command, stdin: Option<&[u8]>, what: &str) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let writer = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let out = read_all(child.stdout.take().unwrap());
    let err = read_all(child.stderr.take().unwrap());
    let deadline = Instant::now() + KUBECTL_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let text = |h: JoinHandle<Vec<u8>>| String::from_utf8_lossy(&h.join().unwrap()).into_owned();
    let (stdout, stderr) = (text(out), text(err));
    let Some(status) = status else {
        panic!(
            "{what}: still running after {KUBECTL_TIMEOUT:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// A running `fleetctl sim`, its kubeconfig, and a HOME for the kubectl runs against it.
/// SIGTERM (then SIGKILL) when dropped.
struct Sim {
    child: Child,
    dir: TempDir,
    kubeconfig: PathBuf,
    home: PathBuf,
    server: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Sim {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts `fleetctl sim --api-only --write-kubeconfig <dir>/kubeconfig <extra>` and waits
    /// for `sim ready: kubeconfig=PATH server=URL` on stdout. API only: these tests set pod and
    /// Job statuses themselves, as the client side sees them, with no controller moving them.
    fn start_with(extra: &[&str]) -> Self {
        let dir = TempDir::new("sim");
        let kubeconfig = dir.path().join("kubeconfig");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut child = fleetctl()
            .arg("sim")
            .arg("--api-only")
            .arg("--write-kubeconfig")
            .arg(&kubeconfig)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fleetctl sim starts");
        let stdout = Arc::new(Mutex::new(vec![]));
        let stderr = Arc::new(Mutex::new(vec![]));
        let (tx, rx) = mpsc::channel();
        // The readers run until the sim exits, so its logs never fill a pipe.
        collect_lines(child.stdout.take().unwrap(), stdout.clone(), Some(tx));
        collect_lines(child.stderr.take().unwrap(), stderr.clone(), None);
        let mut sim = Self {
            child,
            dir,
            kubeconfig,
            home,
            server: String::new(),
            stdout,
            stderr,
        };

        let deadline = Instant::now() + READY_TIMEOUT;
        let ready = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with("sim ready:") => break line,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!(
                        "no 'sim ready:' line within {READY_TIMEOUT:?}\n{}",
                        sim.dump()
                    )
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = sim.child.wait().ok();
                    panic!(
                        "fleetctl sim exited ({status:?}) before 'sim ready:'\n{}",
                        sim.dump()
                    )
                }
            }
        };
        let field = |key: &str| {
            ready
                .split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .unwrap_or_else(|| panic!("ready line has no {key}: {ready}"))
                .to_string()
        };
        assert_eq!(
            Path::new(&field("kubeconfig=")),
            sim.kubeconfig.as_path(),
            "{ready}"
        );
        sim.server = field("server=");
        assert!(
            sim.server.starts_with("https://127.0.0.1:"),
            "HTTPS on loopback: {ready}"
        );
        assert!(
            sim.kubeconfig.is_file(),
            "the kubeconfig is written before the ready line: {ready}"
        );
        sim
    }

    /// kubectl against this sim, without the request timeout (for watches).
    fn kubectl_cmd(&self) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.env("HOME", &self.home)
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig);
        cmd
    }

    /// Runs `kubectl --kubeconfig <ours> --request-timeout=20s <args>`.
    fn kubectl(&self, args: &[&str]) -> Run {
        self.kubectl_in(args, None)
    }

    /// [`Sim::kubectl`] with `stdin` piped in (for `-f -`).
    fn kubectl_in(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = self.kubectl_cmd();
        cmd.arg("--request-timeout=20s").args(args);
        run_with_deadline(
            cmd,
            stdin.map(str::as_bytes),
            &format!("kubectl {}", args.join(" ")),
        )
    }

    /// Runs kubectl and asserts exit 0; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let r = self.kubectl(args);
        assert_eq!(r.code, 0, "kubectl {} failed:\n{}", args.join(" "), r.all());
        r.stdout
    }

    /// [`Sim::ok`] with `stdin` piped in.
    fn ok_in(&self, args: &[&str], stdin: &str) -> String {
        let r = self.kubectl_in(args, Some(stdin));
        assert_eq!(
            r.code,
            0,
            "kubectl {} failed:\n{}\nstdin:\n{stdin}",
            args.join(" "),
            r.all()
        );
        r.stdout
    }

    /// Runs kubectl, asserts a nonzero exit, and returns the result.
    fn fails(&self, args: &[&str]) -> Run {
        self.fails_in(args, None)
    }

    fn fails_in(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let r = self.kubectl_in(args, stdin);
        assert_ne!(
            r.code,
            0,
            "kubectl {} should fail:\n{}",
            args.join(" "),
            r.all()
        );
        r
    }

    /// `kubectl get <args> -o json`, parsed.
    fn get_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let out = self.ok(&all);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("kubectl {}: not JSON ({e}):\n{out}", all.join(" ")))
    }

    /// Writes `text` to a file in the sim's directory and returns its path.
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }

    /// Asserts the process still runs and has not panicked.
    fn assert_alive(&mut self) {
        let status = self.child.try_wait().unwrap();
        assert!(
            status.is_none(),
            "the sim exited: {status:?}\n{}",
            self.dump()
        );
        let logs = format!(
            "{}\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap().join("\n")
        );
        assert!(!logs.contains("panicked"), "the sim panicked:\n{logs}");
    }

    /// What the sim printed, for failure messages.
    fn dump(&self) -> String {
        let out = self.stdout.lock().unwrap();
        let skip = out.len().saturating_sub(60);
        format!(
            "--- sim stdout (last {} of {} lines) ---\n{}\n--- sim stderr ---\n{}",
            out.len() - skip,
            out.len(),
            out[skip..].join("\n"),
            self.stderr.lock().unwrap().join("\n")
        )
    }

    fn stop(&mut self) -> Option<ExitStatus> {
        common::stop_child(&mut self.child)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let status = self.stop();
        if std::thread::panicking() {
            eprintln!("sim exit status after SIGTERM: {status:?}\n{}", self.dump());
        }
    }
}

/// The rows of a kubectl table, split on whitespace (header first).
fn table(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The row of a kubectl table whose first column is `name`.
fn row<'a>(rows: &'a [Vec<String>], name: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r.first().is_some_and(|c| c == name))
        .unwrap_or_else(|| panic!("no row named {name} in {rows:?}"))
}

/// The value of the first `Key:   value` line of `kubectl describe` output.
fn described<'a>(out: &'a str, key: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(str::trim)
}

/// The manifests directory of this crate, rendered by `kubectl kustomize`.
fn kustomize(sim: &Sim) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
    sim.ok(&["kustomize", dir.to_str().unwrap()])
}

/// `(kind, name, namespace)` of every object in a multi-document YAML stream.
fn objects(yaml: &str) -> Vec<(String, String, Option<String>)> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).expect("kustomize output is YAML");
    docs.iter()
        .filter(|d| d.is_object())
        .map(|d| {
            let s = |v: &Value| v.as_str().map(str::to_string);
            (
                s(&d["kind"]).expect("every object has a kind"),
                s(&d["metadata"]["name"]).expect("every object has a name"),
                s(&d["metadata"]["namespace"]),
            )
        })
        .collect()
}

/// The resourceVersion of every object in `objs`, read back with `kubectl get`.
fn resource_versions(
    sim: &Sim,
    objs: &[(String, String, Option<String>)],
) -> BTreeMap<String, String> {
    objs.iter()
        .map(|(kind, name, ns)| {
            let kind = kind.to_lowercase();
            let mut args = vec![
                "get",
                &kind,
                name,
                "-o",
                "jsonpath={.metadata.resourceVersion}",
            ];
            if let Some(ns) = ns {
                args.extend(["-n", ns]);
            }
            let rv = sim.ok(&args).trim().to_string();
            assert!(!rv.is_empty(), "{kind}/{name} has no resourceVersion");
            (format!("{kind}/{name}"), rv)
        })
        .collect()
}

impl Sim {
    /// `kubectl create -f -` of `manifest`: kubectl sends it as JSON. Setup steps use this, so
    /// that each test depends only on what it is about; the `kubectl create <kind>` generators,
    /// which send protobuf, are tested on their own.
    fn create(&self, manifest: &str) {
        self.ok_in(&["create", "-f", "-"], manifest);
    }
}

fn configmap(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: agents\n\
         data:\n  {key}: \"{value}\"\n"
    )
}

/// A Job manifest; `container_extra` is added to the container, indented as a field of it.
fn job(name: &str, restart_policy: &str, container_extra: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: agents
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: {restart_policy}
      containers:
        - name: agent
          image: busybox
          command: [\"sh\", \"-c\", \"echo hi\"]
{container_extra}"
    )
}

// ---------------------------------------------------------------------------------------------
// get
// ---------------------------------------------------------------------------------------------

#[test]
fn get_works_for_every_kind_in_table_json_and_yaml() {
    if !require(
        common::kubectl_on_path(),
        "get_works_for_every_kind_in_table_json_and_yaml",
        "kubectl 1.32",
    ) {
        return;
    }
    let mut sim = Sim::start();
    for kind in KINDS {
        let r = sim.kubectl(&["get", kind]);
        assert_eq!(r.code, 0, "kubectl get {kind}:\n{}", r.all());

        let v = sim.get_json(&["get", kind]);
        let list_kind = v["kind"].as_str().unwrap_or_default();
        assert!(list_kind.ends_with("List"), "get {kind} -o json: kind {v}");
        assert!(v["items"].is_array(), "get {kind} -o json: items {v}");

        let yaml = sim.ok(&["get", kind, "-o", "yaml"]);
        let y: Value = serde_saphyr::from_str(&yaml)
            .unwrap_or_else(|e| panic!("get {kind} -o yaml is not YAML ({e}):\n{yaml}"));
        assert!(
            y["kind"].as_str().unwrap_or_default().ends_with("List"),
            "get {kind} -o yaml:\n{yaml}"
        );
        assert!(y["items"].is_array(), "get {kind} -o yaml:\n{yaml}");
    }

    let rows = table(&sim.ok(&["get", "ns"]));
    assert_eq!(rows[0], ["NAME", "STATUS", "AGE"], "{rows:?}");
    for ns in START_NAMESPACES {
        assert_eq!(row(&rows, ns)[1], "Active", "{ns}: {rows:?}");
    }

    let r = sim.kubectl(&["get", "pods"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "", "nothing on stdout for an empty list");
    assert!(
        r.stderr.contains("No resources found in agents namespace."),
        "{}",
        r.all()
    );
    sim.assert_alive();
}

#[test]
fn without_keda_the_keda_kinds_are_unknown() {
    if !require(
        common::kubectl_on_path(),
        "without_keda_the_keda_kinds_are_unknown",
        "kubectl 1.32",
    ) {
        return;
    }
    let sim = Sim::start_with(&["--without-keda"]);
    for kind in ["sj", "so", "ta", "scaledjobs"] {
        let r = sim.fails(&["get", kind]);
        assert!(
            r.stderr.contains(&format!(
                "the server doesn't have a resource type \"{kind}\""
            )),
            "get {kind} with --without-keda:\n{}",
            r.all()
        );
    }
    sim.ok(&["get", "jobs"]);
}

#[test]
fn get_pods_and_jobs_print_the_kubectl_columns() {
    if !require(
        common::kubectl_on_path(),
        "get_pods_and_jobs_print_the_kubectl_columns",
        "kubectl 1.32",
    ) {
        return;
    }
    let sim = Sim::start();
    let out = sim.ok(&["run", "p1", "--image=busybox", "--restart=Never"]);
    assert!(out.contains("pod/p1 created"), "{out}");

    let rows = table(&sim.ok(&["get", "pods"]));
    assert_eq!(
        rows[0],
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{rows:?}"
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(row(&rows, "p1")[1..4], ["0/1", "Pending", "0"], "{rows:?}");

    sim.create(&job("j1", "Never", ""));
    let rows = table(&sim.ok(&["get", "jobs"]));
    assert_eq!(
        rows[0],
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
        "{rows:?}"
    );
    let j1 = row(&rows, "j1");
    assert_eq!(j1[1..3], ["Running", "0/1"], "{rows:?}");
}

#[test]
fn get_watch_shows_an_added_configmap() {
    if !require(
        common::kubectl_on_path(),
        "get_watch_shows_an_added_configmap",
        "kubectl 1.32",
    ) {
        return;
    }
    let sim = Sim::start();
    // One object before the watch: its ADDED line shows that the list has been read, so the
    // watch starts from a resourceVersion older than the next create.
    sim.create(&configmap("before", "a", "1"));

    let mut child = sim
        .kubectl_cmd()
        .args([
            "--request-timeout=120s",
            "get",
            "configmaps",
            "-w",
            "--output-watch-events",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl get -w starts");
    let lines = Arc::new(Mutex::new(vec![]));
    let errs = Arc::new(Mutex::new(vec![]));
    let (tx, rx) = mpsc::channel();
    collect_lines(child.stdout.take().unwrap(), lines.clone(), Some(tx));
    collect_lines(child.stderr.take().unwrap(), errs.clone(), None);
    struct KillOnDrop(Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _watch = KillOnDrop(child);

    let wait_for = |pred: &dyn Fn(&str) -> bool, what: &str| {
        let deadline = Instant::now() + WATCH_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if pred(&l) => return l,
                Ok(_) => {}
                Err(e) => panic!(
                    "kubectl get -w: no {what} ({e:?})\nstdout:\n{}\nstderr:\n{}",
                    lines.lock().unwrap().join("\n"),
                    errs.lock().unwrap().join("\n")
                ),
            }
        }
    };
    let is_added = |name: &'static str| {
        move |l: &str| {
            let cols: Vec<_> = l.split_whitespace().collect();
            cols.first() == Some(&"ADDED") && cols.get(1) == Some(&name)
        }
    };
    wait_for(&is_added("before"), "ADDED line for the existing configmap");
    sim.create(&configmap("after", "b", "2"));
    let line = wait_for(&is_added("after"), "ADDED line for the new configmap");
    assert!(line.contains("after"), "{line}");
    let header = lines.lock().unwrap()[0].clone();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["EVENT", "NAME", "DATA", "AGE"],
        "{header}"
    );
}

// ---------------------------------------------------------------------------------------------
// apply
// ---------------------------------------------------------------------------------------------

#[test]
fn server_side_apply_of_the_manifests_twice_changes_nothing_the_second_time() {
    if !require(
        common::kubectl_on_path(),
        "server_side_apply_of_the_manifests_twice_changes_nothing_the_second_time",
        "kubectl 1.32",
    ) {
        return;
    }
    let mut sim = Sim::start();
    // The Secret the manifests reference, rendered by `kubectl create secret generic` and sent as
    // JSON (the generator's own protobuf POST is tested in create_generators_*).
    let secret = sim.ok(&[
        "create",
        "secret",
        "generic",
        "agent-secrets",
        "-n",
        "agents",
        "--from-literal=queue-url=amqp://x",
        "--from-literal=rabbitmq-host=amqp://x",
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    sim.create(&secret);
    let rendered = kustomize(&sim);
    let objs = objects(&rendered);
    for expected in [
        ("ScaledJob", "ai-agent"),
        ("Job", "ai-agent-batch"),
        ("PodDisruptionBudget", "agent-pdb"),
        ("NetworkPolicy", "agent-netpol"),
        ("Service", "agent-metrics"),
        ("Role", "fleetctl"),
        ("RoleBinding", "fleetctl"),
        ("ServiceAccount", "fleetctl"),
        ("TriggerAuthentication", "rabbitmq-auth"),
        ("PersistentVolumeClaim", "agent-checkpoints"),
        ("LimitRange", "agent-limits"),
        ("Namespace", "agents"),
    ] {
        assert!(
            objs.iter()
                .any(|(k, n, _)| (k.as_str(), n.as_str()) == expected),
            "kustomize renders {expected:?}: {objs:?}"
        );
    }

    let out = sim.ok_in(&["apply", "--server-side", "-f", "-"], &rendered);
    assert_eq!(
        out.lines().count(),
        objs.len(),
        "one line per object:\n{out}"
    );
    assert!(
        out.lines().all(|l| l.ends_with(" serverside-applied")),
        "{out}"
    );
    let first = resource_versions(&sim, &objs);
    assert_eq!(first.len(), objs.len(), "{first:?}");

    let sj = sim.get_json(&[
        "get",
        "scaledjob",
        "ai-agent",
        "-n",
        "agents",
        "--show-managed-fields",
    ]);
    assert_eq!(sj["apiVersion"], "keda.sh/v1alpha1", "{sj}");
    let managers: Vec<_> = sj["metadata"]["managedFields"]
        .as_array()
        .unwrap_or_else(|| panic!("managedFields recorded: {sj}"))
        .iter()
        .map(|m| (m["manager"].clone(), m["operation"].clone()))
        .collect();
    assert!(
        managers.contains(&(Value::from("kubectl"), Value::from("Apply"))),
        "{managers:?}"
    );

    let out = sim.ok_in(&["apply", "--server-side", "-f", "-"], &rendered);
    assert_eq!(out.lines().count(), objs.len(), "{out}");
    let second = resource_versions(&sim, &objs);
    let changed: Vec<_> = first
        .iter()
        .filter(|(k, rv)| second.get(*k) != Some(rv))
        .map(|(k, rv)| format!("{k}: {rv} -> {:?}", second.get(k)))
        .collect();
    assert!(
        changed.is_empty(),
        "the second apply changed objects: {changed:?}"
    );
    sim.assert_alive();
}

#[test]
fn server_side_apply_conflicts_between_managers_unless_forced() {
    if !require(
        common::kubectl_on_path(),
        "server_side_apply_conflicts_between_managers_unless_forced",
        "kubectl 1.32",
    ) {
        return;
    }
    let sim = Sim::start();
    let ssa = |manager: &str, extra: &[&str], x: &str| {
        let flag = format!("--field-manager={manager}");
        let mut args = vec!["apply", "--server-side", flag.as_str()];
        args.extend(extra);
        args.extend(["-f", "-"]);
        sim.kubectl_in(&args, Some(&configmap("shared", "x", x)))
    };

    let r = ssa("alice", &[], "1");
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("configmap/shared serverside-applied"),
        "{}",
        r.all()
    );

    let r = ssa("bob", &[], "2");
    assert_ne!(r.code, 0, "bob must conflict with alice:\n{}", r.all());
    assert!(
        r.stderr.to_lowercase().contains("conflict") && r.stderr.contains("alice"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains(".data.x"), "names the field: {}", r.all());
    assert_eq!(
        sim.ok(&["get", "configmap", "shared", "-o", "jsonpath={.data.x}"]),
        "1",
        "a refused apply changes nothing"
    );

    let r = ssa("bob", &["--force-conflicts"], "2");
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        sim.ok(&["get", "configmap", "shared", "-o", "jsonpath={.data.x}"]),
        "2"
    );
    let cm = sim.get_json(&["get", "configmap", "shared", "--show-managed-fields"]);
    let bob_applies = cm["metadata"]["managedFields"].as_array().is_some_and(|a| {
        a.iter()
            .any(|m| m["manager"] == "bob" && m["operation"] == "Apply")
    });
    assert!(bob_applies, "bob now manages data.x: {cm}");
}

#[test]
fn client_side_apply_validates_strictly() {
    if !require(
        common::kubectl_on_path(),
        "client_side_apply_validates_strictly",
        "kubectl 1.32",
    ) {
        return;
    }
    let mut sim = Sim::start();
    let out = sim.ok_in(&["apply", "-f", "-"], &job("ok-job", "Never", ""));
    assert!(out.contains("job.batch/ok-job created"), "{out}");
    let j = sim.get_json(&["get", "job", "ok-job"]);
    assert_eq!(
        j["spec"]["template"]["spec"]["restartPolicy"], "Never",
        "{j}"
    );
    assert!(
        j["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string(),
        "client-side apply records the last applied configuration: {j}"
    );

    // Unchanged, a second apply is a no-op.
    let out = sim.ok_in(&["apply", "-f", "-"], &job("ok-job", "Never", ""));
    assert!(out.contains("job.batch/ok-job unchanged"), "{out}");

    let typo = job(
        "typo-job",
        "Never",
        "          imagePullPolicyy: IfNotPresent\n",
    );
    let r = sim.fails_in(&["apply", "-f", "-"], Some(&typo));
    assert!(r.stderr.contains("unknown field"), "{}", r.all());
    assert!(r.stderr.contains("imagePullPolicyy"), "{}", r.all());
    let r = sim.fails(&["get", "job", "typo-job"]);
    assert!(r.stderr.contains("NotFound"), "{}", r.all());

    let r = sim.fails_in(
        &["apply", "-f", "-"],
        Some(&job("always-job", "Always", "")),
    );
    // What kube-apiserver 1.32 answers (pkg/apis/batch/validation validateJobSpec): `Always`
    // is treated like the defaulted empty value, so the error is Required, not NotSupported.
    assert!(
        r.stderr.contains(
            "The Job \"always-job\" is invalid: spec.template.spec.restartPolicy: \
             Required value: valid values: \"OnFailure\", \"Never\""
        ),
        "{}",
        r.all()
    );
    let r = sim.fails(&["get", "job", "always-job"]);
    assert!(r.stderr.contains("NotFound"), "{}", r.all());
    sim.assert_alive();
}

// ---------------------------------------------------------------------------------------------
// delete, describe, label, annotate, create job, events
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_describe_label_annotate_create_job_and_events() {
    if !require(
        common::kubectl_on_path(),
        "delete_describe_label_annotate_create_job_and_events",
        "kubectl 1.32",
    ) {
        return;
    }
    let mut sim = Sim::start();

    sim.create(&configmap("x", "a", "b"));
    let out = sim.ok(&["delete", "configmap", "x", "--wait"]);
    assert!(out.contains("configmap \"x\" deleted"), "{out}");
    let r = sim.kubectl(&["get", "configmap", "x"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("NotFound") && r.stderr.contains("configmaps \"x\" not found"),
        "{}",
        r.all()
    );

    sim.ok(&["run", "p", "--image=busybox", "--restart=Never"]);
    sim.create(&job("j", "Never", ""));

    let out = sim.ok(&["describe", "job", "j"]);
    assert_eq!(described(&out, "Name"), Some("j"), "{out}");
    assert_eq!(described(&out, "Namespace"), Some("agents"), "{out}");
    let out = sim.ok(&["describe", "pod", "p"]);
    assert_eq!(described(&out, "Name"), Some("p"), "{out}");
    assert_eq!(described(&out, "Namespace"), Some("agents"), "{out}");
    assert_eq!(described(&out, "Status"), Some("Pending"), "{out}");

    let out = sim.ok(&["label", "pod", "p", "tier=x"]);
    assert!(out.contains("pod/p labeled"), "{out}");
    let out = sim.ok(&["annotate", "pod", "p", "note=y"]);
    assert!(out.contains("pod/p annotated"), "{out}");
    let pod = sim.get_json(&["get", "pod", "p"]);
    assert_eq!(pod["metadata"]["labels"]["tier"], "x", "{pod}");
    assert_eq!(pod["metadata"]["annotations"]["note"], "y", "{pod}");
    let rows = table(&sim.ok(&["get", "pods", "-l", "tier=x"]));
    assert_eq!(rows.len(), 2, "the label selects the pod: {rows:?}");
    row(&rows, "p");

    let r = sim.kubectl(&["get", "events"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = sim.get_json(&["get", "events"]);
    assert!(v["items"].is_array(), "{v}");

    // `kubectl create job` sends the Job as protobuf (Content-Type
    // application/vnd.kubernetes.protobuf), as every `kubectl create <kind>` generator does.
    let out = sim.ok(&["create", "job", "j2", "--image=busybox"]);
    assert!(out.contains("job.batch/j2 created"), "{out}");
    let j2 = sim.get_json(&["get", "job", "j2"]);
    assert_eq!(
        j2["spec"]["template"]["spec"]["containers"][0]["image"], "busybox",
        "{j2}"
    );
    sim.assert_alive();
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_input_gets_the_status_error_kubectl_shows_and_the_server_keeps_serving() {
    if !require(
        common::kubectl_on_path(),
        "bad_input_gets_the_status_error_kubectl_shows_and_the_server_keeps_serving",
        "kubectl 1.32",
    ) {
        return;
    }
    let mut sim = Sim::start();
    // Every case is checked, and all that went wrong is reported at the end.
    let mut problems: Vec<String> = vec![];
    let mut expect = |case: &str, r: &Run, ok: bool| {
        if r.code == 0 || !ok {
            problems.push(format!("{case}: exit {}\n{}", r.code, r.all()));
        }
    };

    let r = sim.kubectl(&["get", "widgets"]);
    let ok = r
        .stderr
        .contains("the server doesn't have a resource type \"widgets\"");
    expect("get widgets", &r, ok);

    let r = sim.kubectl(&["create", "configmap", "Bad_Name"]);
    let ok = r.stderr.contains("Invalid value: \"Bad_Name\"");
    expect("create configmap Bad_Name", &r, ok);

    let r = sim.kubectl_in(
        &["create", "-f", "-"],
        Some(&configmap("Bad_Name", "a", "b")),
    );
    let ok = r.stderr.contains("The ConfigMap \"Bad_Name\" is invalid")
        && r.stderr
            .contains("metadata.name: Invalid value: \"Bad_Name\"");
    expect("create -f (ConfigMap named Bad_Name)", &r, ok);

    let r = sim.kubectl(&["get", "--raw", "/api/v1/namespaces/agents/widgets"]);
    let ok = r.stderr.contains("NotFound");
    expect("get --raw .../widgets", &r, ok);

    let body = sim.file("malformed.json", "{not json");
    let r = sim.kubectl(&[
        "create",
        "--raw",
        "/api/v1/namespaces/agents/configmaps",
        "-f",
        &body,
    ]);
    let ok = r.stderr.contains("BadRequest") || r.stderr.to_lowercase().contains("json");
    expect("create --raw with a malformed JSON body", &r, ok);

    let big = sim.file(
        "big.yaml",
        &configmap("big", "blob", &"a".repeat(4 * 1024 * 1024)),
    );
    let r = sim.kubectl(&["create", "-f", &big]);
    let ok = r.stderr.contains("413") || r.stderr.to_lowercase().contains("too large");
    expect("create -f with a 4 MiB ConfigMap", &r, ok);
    let r = sim.kubectl(&["get", "configmap", "big"]);
    let ok = r.stderr.contains("NotFound");
    expect("get configmap big (after the oversized create)", &r, ok);

    // A strategic merge patch is for built-in kinds only: a custom resource answers 415.
    sim.create(
        "apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: ta1
  namespace: agents
spec:
  secretTargetRef:
    - parameter: host
      name: agent-secrets
      key: rabbitmq-host
",
    );
    let labels = r#"{"metadata":{"labels":{"a":"b"}}}"#;
    let r = sim.kubectl(&["patch", "ta", "ta1", "--type=strategic", "-p", labels]);
    // kubectl words a 415 UnsupportedMediaType reply to a patch this way (kubectl patch.go).
    let ok = r.stderr.contains(
        "application/strategic-merge-patch+json is not supported by keda.sh/v1alpha1, \
         Kind=TriggerAuthentication",
    );
    expect("patch --type=strategic of a TriggerAuthentication", &r, ok);
    let out = sim.ok(&["patch", "ta", "ta1", "--type=merge", "-p", labels]);
    assert!(
        out.contains("triggerauthentication.keda.sh/ta1 patched"),
        "{out}"
    );

    let r = sim.kubectl(&["--token=wrong", "get", "ns"]);
    let ok = r.stderr.contains("Unauthorized");
    expect("--token=wrong get ns", &r, ok);

    let rows = table(&sim.ok(&["get", "ns"]));
    for ns in START_NAMESPACES {
        row(&rows, ns);
    }
    sim.assert_alive();
    assert!(
        problems.is_empty(),
        "{} case(s) went wrong:\n\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn create_generators_send_protobuf_and_the_objects_are_created() {
    if !require(
        common::kubectl_on_path(),
        "create_generators_send_protobuf_and_the_objects_are_created",
        "kubectl 1.32",
    ) {
        return;
    }
    // kubectl 1.32 `create configmap|secret|job` POST the object with
    // `Content-Type: application/vnd.kubernetes.protobuf` and
    // `Accept: application/vnd.kubernetes.protobuf,application/json`.
    let mut sim = Sim::start();
    let out = sim.ok(&["create", "configmap", "gen-cm", "--from-literal=a=b"]);
    assert!(out.contains("configmap/gen-cm created"), "{out}");
    let cm = sim.get_json(&["get", "configmap", "gen-cm"]);
    assert_eq!(cm["data"]["a"], "b", "{cm}");

    let out = sim.ok(&[
        "create",
        "secret",
        "generic",
        "gen-secret",
        "-n",
        "agents",
        "--from-literal=queue-url=amqp://x",
    ]);
    assert!(out.contains("secret/gen-secret created"), "{out}");
    let secret = sim.get_json(&["get", "secret", "gen-secret"]);
    assert_eq!(secret["data"]["queue-url"], "YW1xcDovL3g=", "{secret}");
    assert_eq!(secret["type"], "Opaque", "{secret}");

    let out = sim.ok(&["create", "job", "gen-job", "--image=busybox"]);
    assert!(out.contains("job.batch/gen-job created"), "{out}");
    let job = sim.get_json(&["get", "job", "gen-job"]);
    assert_eq!(
        job["spec"]["template"]["spec"]["restartPolicy"], "Never",
        "{job}"
    );
    sim.assert_alive();
}

// ---------------------------------------------------------------------------------------------
// version and health
// ---------------------------------------------------------------------------------------------

#[test]
fn version_reports_a_1_32_server() {
    if !require(
        common::kubectl_on_path(),
        "version_reports_a_1_32_server",
        "kubectl 1.32",
    ) {
        return;
    }
    let sim = Sim::start();
    let out = sim.ok(&["version"]);
    assert!(
        out.lines().any(|l| l.starts_with("Server Version: v1.32")),
        "{out}"
    );
    let v = sim.get_json(&["version"]);
    assert_eq!(v["serverVersion"]["major"], "1", "{v}");
    assert_eq!(v["serverVersion"]["minor"], "32", "{v}");
    for path in ["/healthz", "/readyz", "/livez"] {
        assert_eq!(sim.ok(&["get", "--raw", path]).trim(), "ok", "{path}");
    }
}
