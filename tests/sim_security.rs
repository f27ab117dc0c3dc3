//! Who gets into the local cluster and how far: the token, pods/proxy, pod volumes, RBAC
//! escalation, the kubeconfig the sim writes, and the PDB under parallel evictions. Every test
//! runs a `fleetctl sim` process of its own and talks to it as a user does: kubectl, curl, the
//! kube-rs client.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

fn create(sim: &SimProcess, name: &str, doc: &Value) -> Run {
    let f = doc_file(sim, name, doc);
    sim.kubectl(&["create", "-f", &f])
}

#[test]
fn an_empty_or_short_token_is_refused_at_start() {
    for (token, says) in [
        ("", "--token is empty"),
        ("short", "at least 16"),
        ("has space in it 0123", "whitespace"),
    ] {
        let dir = TempDir::new("sec-token");
        let mut child = fleetctl()
            .args(["sim", "--api-only", "--token", token, "--state-dir"])
            .arg(dir.path().join("state"))
            .arg("--write-kubeconfig")
            .arg(dir.path().join("kubeconfig"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("the sim served with --token {token:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(2), "--token {token:?}: {err}");
        assert!(err.contains(says), "--token {token:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(!dir.path().join("kubeconfig").exists());
    }
}

#[test]
fn a_state_directory_others_may_write_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("sec-statedir");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = fleetctl()
        .args(["sim", "--api-only", "--state-dir"])
        .arg(&state)
        .arg("--write-kubeconfig")
        .arg(dir.path().join("kubeconfig"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refusing --state-dir") && err.contains("chmod 700"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!dir.path().join("kubeconfig").exists());
    assert_eq!(
        std::fs::read_dir(&state).unwrap().count(),
        0,
        "nothing written"
    );
}

/// Without `--state-dir` and `--write-kubeconfig`, the sim's files go to the user's own cache
/// directory (0700/0600), not to a fixed name under the shared /tmp, and the run's volumes and
/// logs are removed when it stops.
#[test]
fn default_files_are_private_to_the_user_and_the_run_directory_goes_at_stop() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = TempDir::new("sec-defaults");
    let cache = dir.path().join("cache");
    let out_path = dir.path().join("sim.out");
    /// Kills the sim if the test fails before stopping it.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sim = KillOnDrop(
        fleetctl()
            .args(["sim", "--nodes", "1"])
            .env("XDG_CACHE_HOME", &cache)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut sim.0;
    let pid = child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let line = loop {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.starts_with("sim ready:")) {
            break l.to_string();
        }
        if std::time::Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            panic!("no 'sim ready:' line: {text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let sim_dir = cache.join("fleetctl").join("sim");
    let kubeconfig = sim_dir.join("kubeconfig");
    assert!(
        line.contains(&format!("kubeconfig={}", kubeconfig.display())),
        "{line}"
    );
    assert_eq!(mode(&kubeconfig), 0o600);
    assert_eq!(mode(&sim_dir), 0o700);
    let run = sim_dir.join(format!("run-{pid}"));
    assert!(run.is_dir(), "the run's volumes live in {}", run.display());
    // SAFETY: kill(2) on a child this test started and has not waited for.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "sim did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!run.exists(), "{} is removed at stop", run.display());
}

/// A plain HTTP server on 127.0.0.1 that records each request line and answers with
/// `respond(request_line)` (a whole HTTP response).
struct Echo {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Echo {
    fn start(respond: impl Fn(&str) -> String + Send + 'static) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(vec![]));
        let s = seen.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                let mut r = BufReader::new(c.try_clone().unwrap());
                let mut line = String::new();
                let _ = r.read_line(&mut line);
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let line = line.trim().to_string();
                s.lock().unwrap().push(line.clone());
                let _ = c.write_all(respond(&line).as_bytes());
            }
        });
        Echo { port, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn ok_body(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// `curl` of a path of the sim's API with its admin token: (HTTP code, body).
fn curl(sim: &SimProcess, path: &str) -> (u16, String) {
    let kc: Value = serde_json::from_str(&std::fs::read_to_string(&sim.kubeconfig).unwrap())
        .expect("the sim writes its kubeconfig as JSON");
    let token = kc["users"][0]["user"]["token"].as_str().unwrap();
    let server = kc["clusters"][0]["cluster"]["server"].as_str().unwrap();
    let out = Command::new("curl")
        .args(["-sk", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}"])
        .arg("-H")
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("{server}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "c", "image": "x"}]}})
}

#[test]
fn pods_proxy_reaches_only_the_sims_own_pods() {
    if !require_kubectl("pods_proxy_reaches_only_the_sims_own_pods") {
        return;
    }
    let secret = Echo::start(|_| ok_body("the host's secret"));
    let sim = SimProcess::start("sec-proxy", &["--runtime", "inproc", "--nodes", "1"]);
    // A pod that brings its own status, on a node the sim does not run.
    let mut p = pod("stray");
    p["spec"]["nodeName"] = json!("elsewhere");
    p["status"] = json!({"phase": "Running", "podIP": "127.0.0.1"});
    let r = create(&sim, "stray.json", &p);
    assert_eq!(r.code, 0, "{}", r.all());
    let got = sim.get_json(&["get", "pod", "stray", "-n", "default"]);
    assert!(
        got["status"]["podIP"].is_null(),
        "client status kept: {got}"
    );
    assert_eq!(got["status"]["phase"], "Pending", "{got}");
    // Whoever may write pods/status can still set an address: the proxy does not go there.
    for ip in ["127.0.0.1", "169.254.169.254", "metadata.google.internal"] {
        sim.kubectl_ok(&[
            "patch",
            "pod",
            "stray",
            "-n",
            "default",
            "--subresource=status",
            "--type=merge",
            "-p",
            &json!({"status": {"podIP": ip}}).to_string(),
        ]);
        let (code, body) = curl(
            &sim,
            &format!(
                "/api/v1/namespaces/default/pods/stray:{}/proxy/x",
                secret.port
            ),
        );
        assert_eq!(code, 503, "{ip}: {body}");
        assert!(
            body.contains("only reaches the sim's own pods"),
            "{ip}: {body}"
        );
    }
    assert!(
        secret.seen().is_empty(),
        "the proxy reached {:?}",
        secret.seen()
    );
}

#[test]
fn pods_proxy_forwards_the_query_and_follows_no_redirect_nor_proxy() {
    if !require_kubectl("pods_proxy_forwards_the_query_and_follows_no_redirect_nor_proxy") {
        return;
    }
    let secret = Echo::start(|_| ok_body("the host's secret"));
    let proxy = Echo::start(|_| ok_body("a proxy"));
    let target = format!("http://127.0.0.1:{}/stolen", secret.port);
    let pod_server = Echo::start(move |line| {
        if line.contains("/jump") {
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        } else {
            ok_body(line)
        }
    });
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    // A sim without a kubelet: its clients write pod status, and the proxy keeps to loopback.
    let dir = TempDir::new("sec-proxy2");
    let sim = SimProcess::start_prepared(
        dir,
        &["--api-only"],
        &[
            ("HTTP_PROXY", &proxy_url),
            ("http_proxy", &proxy_url),
            ("ALL_PROXY", &proxy_url),
        ],
    );
    assert_eq!(create(&sim, "p.json", &pod("p")).code, 0);
    sim.kubectl_ok(&[
        "patch",
        "pod",
        "p",
        "-n",
        "default",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"podIP":"127.0.0.1"}}"#,
    ]);
    let base = format!(
        "/api/v1/namespaces/default/pods/p:{}/proxy",
        pod_server.port
    );
    let (code, body) = curl(&sim, &format!("{base}/echo?a=1&b=two"));
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body, "GET /echo?a=1&b=two HTTP/1.1",
        "the query string is forwarded"
    );
    let (code, body) = curl(&sim, &format!("{base}/jump"));
    assert_eq!(code, 302, "the redirect is answered, not followed: {body}");
    assert!(secret.seen().is_empty(), "followed to {:?}", secret.seen());
    assert!(proxy.seen().is_empty(), "went through {:?}", proxy.seen());
    // An address that is not loopback is refused outright.
    sim.kubectl_ok(&[
        "patch",
        "pod",
        "p",
        "-n",
        "default",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"podIP":"169.254.169.254"}}"#,
    ]);
    let (code, body) = curl(&sim, &format!("{base}/latest/meta-data/"));
    assert_eq!(code, 503, "{body}");
    assert!(proxy.seen().is_empty(), "went through {:?}", proxy.seen());
}

#[test]
fn pod_volumes_stay_inside_the_state_directory() {
    if !require_kubectl("pod_volumes_stay_inside_the_state_directory") {
        return;
    }
    let sim = SimProcess::start("sec-volumes", &["--runtime", "inproc", "--nodes", "1"]);
    let with = |name: &str, volume: Value, sub: &str| {
        let mut p = pod(name);
        p["spec"]["volumes"] = json!([volume]);
        p["spec"]["containers"][0]["volumeMounts"] =
            json!([{"name": "v", "mountPath": "/v", "subPath": sub}]);
        p
    };
    let claim = |n: &str| json!({"name": "v", "persistentVolumeClaim": {"claimName": n}});
    let cases = [
        (
            "host",
            with(
                "host",
                json!({"name": "v", "hostPath": {"path": "/etc"}}),
                "",
            ),
            "--allow-host-path",
        ),
        (
            "claim",
            with("claim", claim("../../../../etc"), ""),
            "spec.volumes[0].persistentVolumeClaim.claimName",
        ),
        (
            "up",
            with("up", claim("ok"), "../../../../etc"),
            "spec.containers[0].volumeMounts[0].subPath",
        ),
        (
            "abs",
            with("abs", claim("ok"), "/etc"),
            "spec.containers[0].volumeMounts[0].subPath",
        ),
    ];
    for (name, p, says) in cases {
        let r = create(&sim, &format!("{name}.json"), &p);
        assert_ne!(r.code, 0, "{name} was accepted: {}", r.all());
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
    }
    let r = create(&sim, "fine.json", &with("fine", claim("ok"), "a/b"));
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn host_path_volumes_need_the_flag() {
    if !require_kubectl("host_path_volumes_need_the_flag") {
        return;
    }
    let sim = SimProcess::start(
        "sec-hostpath",
        &["--runtime", "inproc", "--nodes", "1", "--allow-host-path"],
    );
    let mut p = pod("host");
    p["spec"]["volumes"] = json!([{"name": "v", "hostPath": {"path": "/tmp"}}]);
    p["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "v", "mountPath": "/v"}]);
    let r = create(&sim, "host.json", &p);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// A kubeconfig for the sim that uses `token`.
fn kubeconfig_with_token(sim: &SimProcess, token: &str, name: &str) -> String {
    let mut kc: Value =
        serde_json::from_str(&std::fs::read_to_string(&sim.kubeconfig).unwrap()).unwrap();
    kc["users"][0]["user"]["token"] = json!(token);
    doc_file(sim, name, &kc)
}

fn kubectl_as(sim: &SimProcess, kubeconfig: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new("kubectl");
    cmd.env_remove("KUBECONFIG")
        .env("HOME", sim.dir.path())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--request-timeout=30s")
        .args(args)
        .stdin(Stdio::null());
    run(&mut cmd)
}

#[test]
fn a_service_account_cannot_grant_itself_more_than_it_holds() {
    if !require_kubectl("a_service_account_cannot_grant_itself_more_than_it_holds") {
        return;
    }
    let sim = SimProcess::start("sec-rbac", &["--api-only", "--enforce-rbac"]);
    let rbac = |kind: &str, doc: Value| {
        let mut d = doc;
        d["apiVersion"] = json!("rbac.authorization.k8s.io/v1");
        d["kind"] = json!(kind);
        d
    };
    let low_token = "low-token-0123456789abcdef";
    let admin_docs = [
        rbac(
            "Role",
            json!({"metadata": {"name": "limited", "namespace": "agents"}, "rules": [
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "get"]},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
        ),
        rbac(
            "Role",
            json!({"metadata": {"name": "powerful", "namespace": "agents"}, "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
        ),
        rbac(
            "RoleBinding",
            json!({"metadata": {"name": "low", "namespace": "agents"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "limited"},
                "subjects": [{"kind": "ServiceAccount", "name": "low", "namespace": "agents"}]}),
        ),
        rbac(
            "RoleBinding",
            json!({"metadata": {"name": "boss", "namespace": "agents"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "powerful"},
                "subjects": [{"kind": "ServiceAccount", "name": "boss", "namespace": "agents"}]}),
        ),
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "low-token", "namespace": "agents",
                "annotations": {"kubernetes.io/service-account.name": "low"}},
            "stringData": {"token": low_token}}),
    ];
    for (i, d) in admin_docs.iter().enumerate() {
        let r = create(&sim, &format!("admin{i}.json"), d);
        assert_eq!(r.code, 0, "{}", r.all());
    }
    let low = kubeconfig_with_token(&sim, low_token, "low.kubeconfig");
    let as_low = |name: &str, d: &Value| {
        let f = doc_file(&sim, name, d);
        kubectl_as(&sim, &low, &["create", "-f", &f])
    };
    kubectl_as(&sim, &low, &["get", "pods", "-n", "agents"]);
    // Within what it holds: allowed.
    let narrow = rbac(
        "Role",
        json!({"metadata": {"name": "narrow", "namespace": "agents"}, "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    );
    let r = as_low("narrow.json", &narrow);
    assert_eq!(r.code, 0, "{}", r.all());
    // More than it holds: a Role, a binding to the powerful Role.
    let wide = rbac(
        "Role",
        json!({"metadata": {"name": "wide", "namespace": "agents"}, "rules": [
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}),
    );
    let r = as_low("wide.json", &wide);
    assert_ne!(r.code, 0, "a wider Role was written: {}", r.all());
    assert!(
        r.stderr.contains("Forbidden") || r.stderr.contains("forbidden"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("not currently held"), "{}", r.stderr);
    let bind = rbac(
        "RoleBinding",
        json!({"metadata": {"name": "up", "namespace": "agents"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "powerful"},
            "subjects": [{"kind": "ServiceAccount", "name": "low", "namespace": "agents"}]}),
    );
    let r = as_low("bind.json", &bind);
    assert_ne!(r.code, 0, "bound to a wider Role: {}", r.all());
    assert!(r.stderr.contains("cannot bind"), "{}", r.stderr);
    // A token for the powerful account, with a value of its choosing: not that value.
    let chosen = "chosen-token-0123456789abcdef";
    let mint = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "boss-token", "namespace": "agents",
            "annotations": {"kubernetes.io/service-account.name": "boss"}},
        "stringData": {"token": chosen}});
    let f = doc_file(&sim, "mint.json", &mint);
    let r = kubectl_as(&sim, &low, &["create", "-f", &f, "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let made: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        made["data"]["token"].is_null(),
        "the answer told the token: {made}"
    );
    let boss = kubeconfig_with_token(&sim, chosen, "boss.kubeconfig");
    let r = kubectl_as(&sim, &boss, &["get", "secrets", "-n", "agents"]);
    assert_ne!(r.code, 0, "the chosen token works: {}", r.all());
    assert!(r.stderr.contains("Unauthorized"), "{}", r.stderr);
}

#[test]
fn write_kubeconfig_merges_into_an_existing_file() {
    if !require_kubectl("write_kubeconfig_merges_into_an_existing_file") {
        return;
    }
    let dir = TempDir::new("sec-kubeconfig");
    let existing = "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: prod\n  cluster:\n    server: https://prod.example:6443\nusers:\n- name: prod\n  user:\n    token: prod-token\ncontexts:\n- name: prod\n  context:\n    cluster: prod\n    user: prod\n    namespace: web\n";
    std::fs::write(dir.path().join("kubeconfig"), existing).unwrap();
    let sim = SimProcess::start_prepared(dir, &["--api-only"], &[]);
    let names = sim.kubectl_ok(&["config", "get-contexts", "-o", "name"]);
    let mut names: Vec<&str> = names.lines().collect();
    names.sort();
    assert_eq!(names, ["fleetctl-sim", "prod"]);
    assert_eq!(
        sim.kubectl_ok(&["config", "current-context"]).trim(),
        "fleetctl-sim"
    );
    let prod = sim.kubectl_ok(&[
        "config",
        "view",
        "--raw",
        "-o",
        "jsonpath={.users[?(@.name==\"prod\")].user.token}",
    ]);
    assert_eq!(prod, "prod-token");
    sim.kubectl_ok(&["get", "ns"]);
    // Started again on the same file: still one entry of the sim's.
    let sim = sim.restart(&["--api-only"]);
    let names = sim.kubectl_ok(&["config", "get-contexts", "-o", "name"]);
    assert_eq!(names.lines().count(), 2, "{names}");
}

#[test]
fn parallel_evictions_never_spend_more_than_the_budget() {
    if !require_kubectl("parallel_evictions_never_spend_more_than_the_budget") {
        return;
    }
    // Without controllers the test plays them: pods Running and Ready, the PDB's status.
    let sim = SimProcess::start("sec-pdb", &["--api-only"]);
    const PODS: usize = 24;
    let rounds = 3;
    for round in 0..rounds {
        let app = format!("r{round}");
        for i in 0..PODS {
            let mut p = pod(&format!("{app}-{i}"));
            p["metadata"]["labels"] = json!({"app": app});
            assert_eq!(create(&sim, &format!("{app}-{i}.json"), &p).code, 0);
            sim.kubectl_ok(&[
                "patch",
                "pod",
                &format!("{app}-{i}"),
                "-n",
                "default",
                "--subresource=status",
                "--type=merge",
                "-p",
                r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
            ]);
        }
        let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": app, "namespace": "default"},
            "spec": {"minAvailable": PODS - 1, "selector": {"matchLabels": {"app": app}}}});
        assert_eq!(create(&sim, &format!("{app}-pdb.json"), &pdb).code, 0);
        let generation =
            sim.get_json(&["get", "pdb", &app, "-n", "default"])["metadata"]["generation"]
                .as_i64()
                .unwrap_or(1);
        sim.kubectl_ok(&[
            "patch",
            "pdb",
            &app,
            "-n",
            "default",
            "--subresource=status",
            "--type=merge",
            "-p",
            &json!({"status": {"observedGeneration": generation, "currentHealthy": PODS,
                "desiredHealthy": PODS - 1, "expectedPods": PODS, "disruptionsAllowed": 1}})
            .to_string(),
        ]);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let codes: Vec<u16> = rt.block_on(async {
            install_crypto();
            let (client, _) = fleetctl::cluster::client::connect(Some(&sim.kubeconfig), None)
                .await
                .unwrap();
            let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
                kube::Api::namespaced(client, "default");
            let all = (0..PODS).map(|i| {
                let pods = pods.clone();
                let name = format!("{app}-{i}");
                tokio::spawn(async move {
                    match pods.evict(&name, &Default::default()).await {
                        Ok(_) => 201,
                        Err(kube::Error::Api(s)) => s.code,
                        Err(e) => panic!("{e}"),
                    }
                })
            });
            futures::future::join_all(all)
                .await
                .into_iter()
                .map(|r| r.unwrap())
                .collect()
        });
        let evicted = codes.iter().filter(|c| **c == 201).count();
        let refused = codes.iter().filter(|c| **c == 429).count();
        assert_eq!(
            (evicted, refused),
            (1, PODS - 1),
            "round {round}: {codes:?}"
        );
        let left = sim.get_json(&["get", "pdb", &app, "-n", "default"]);
        assert_eq!(left["status"]["disruptionsAllowed"], 0, "{left}");
    }
}
