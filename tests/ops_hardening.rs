//! `drain`, `pause` and `resume` under trouble, as users run them: the real binary against the
//! sim over HTTPS, or through a pass-through proxy in front of it that plays an API server in
//! trouble (a 503 on a list, as while the API server restarts) or a concurrent writer (another
//! client scaling the fleet between fleetctl's read and its patch).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use http_body_util::BodyExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use common::TempDir;
use common::cli::{self, command, deployment};
use fleetctl::sim::runtime::RunningSim;

const NS: &str = "agents";
const DRAINING: &str = "fleetctl.io/draining";

/// What the proxy does with a request before (or instead of) forwarding it: `Some(code)`
/// answers with that status and forwards nothing.
type Hook =
    Arc<dyn Fn(axum::http::Method, String) -> BoxFuture<'static, Option<u16>> + Send + Sync>;

/// A plain-HTTP proxy in front of the sim, forwarding with the sim's own client (its CA and
/// token), and the kubeconfig that points at it.
struct Proxy {
    kubeconfig: std::path::PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy(client: Client, dir: &TempDir, hook: Hook) -> Proxy {
    async fn handle(
        client: Client,
        hook: Hook,
        req: axum::extract::Request,
    ) -> axum::response::Response {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        if let Some(code) = hook(parts.method.clone(), path).await {
            let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": "the server is currently unable to handle the request",
                "reason": "ServiceUnavailable", "code": code});
            return axum::response::Response::builder()
                .status(code)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(status.to_string()))
                .unwrap();
        }
        let bytes = body.collect().await.unwrap().to_bytes();
        let mut up = axum::http::Request::builder()
            .method(parts.method)
            .uri(parts.uri.path_and_query().unwrap().as_str());
        for h in ["content-type", "accept"] {
            if let Some(v) = parts.headers.get(h) {
                up = up.header(h, v);
            }
        }
        let resp = client
            .send(up.body(kube::client::Body::from(bytes.to_vec())).unwrap())
            .await
            .unwrap();
        let (rparts, rbody) = resp.into_parts();
        let rbytes = rbody.collect().await.unwrap().to_bytes();
        let mut out = axum::response::Response::builder().status(rparts.status);
        if let Some(v) = rparts.headers.get("content-type") {
            out = out.header("content-type", v);
        }
        out.body(axum::body::Body::from(rbytes)).unwrap()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(move |req: axum::extract::Request| handle(client.clone(), hook.clone(), req));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let kubeconfig = dir.path().join("proxy-kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: proxy\n  cluster:\n    server: http://{addr}\nusers:\n- name: proxy\n  user:\n    token: unused\ncontexts:\n- name: proxy\n  context:\n    cluster: proxy\n    user: proxy\n    namespace: {NS}\ncurrent-context: proxy\n"
        ),
    )
    .unwrap();
    Proxy { kubeconfig, task }
}

/// Runs fleetctl to its end: (exit code, stdout, stderr).
async fn fleetctl(kubeconfig: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let run = cli::fleetctl(kubeconfig, args).await;
    (run.code, run.stdout, run.stderr)
}

async fn sim() -> (RunningSim, Client, TempDir) {
    let dir = TempDir::new("opsh");
    let (sim, client) = common::sim(&dir, |_| {}).await;
    (sim, client, dir)
}

fn annotation(d: &Deployment, key: &str) -> Option<String> {
    d.annotations().get(key).cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn drain_rides_out_transient_list_errors() {
    let (sim, client, dir) = sim().await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), NS);
    deps.create(&PostParams::default(), &deployment(3))
        .await
        .unwrap();
    // The first two lists of pods fail as while the API server restarts.
    let failed = Arc::new(AtomicU32::new(0));
    let hook: Hook = {
        let failed = failed.clone();
        Arc::new(move |method, path| {
            let failed = failed.clone();
            Box::pin(async move {
                let list = method == axum::http::Method::GET
                    && path == format!("/api/v1/namespaces/{NS}/pods");
                (list && failed.fetch_add(1, Ordering::SeqCst) < 2).then_some(503)
            })
        })
    };
    let p = proxy(client.clone(), &dir, hook).await;
    let (code, stdout, _) =
        fleetctl(&p.kubeconfig, &["drain", "agent-pool", "--timeout", "30s"]).await;
    assert_eq!(code, 0, "a transient error does not abort the drain");
    assert!(
        failed.load(Ordering::SeqCst) >= 3,
        "the list was tried again"
    );
    assert_eq!(
        stdout.matches("retrying in").count(),
        2,
        "each retry is said: {stdout}"
    );
    assert!(stdout.contains("deployment/agent-pool drained"), "{stdout}");
    let d = deps.get("agent-pool").await.unwrap();
    assert_eq!(annotation(&d, DRAINING), None);
    assert_eq!(d.spec.unwrap().replicas, Some(0));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_drain_removes_the_draining_mark_and_leaves_the_fleet_paused() {
    let (sim, client, _dir) = sim().await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), NS);
    deps.create(&PostParams::default(), &deployment(2))
        .await
        .unwrap();
    // A pod of the fleet that nothing removes (the sim runs no controllers here).
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "agent-pool-x", "labels": {"app": "ai-agent", "pool": "agent-pool"}},
        "spec": {"containers": [{"name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0"}]}
    }))
    .unwrap();
    Api::<Pod>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &pod)
        .await
        .unwrap();

    let mut child = command(&sim.kubeconfig, &["drain", "agent-pool", "--timeout", "5m"])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let waiting = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("1 pods left") {
                return;
            }
        }
        panic!("drain ended before it reported the pod left");
    })
    .await;
    assert!(waiting.is_ok(), "drain never reported what is left");
    assert!(
        annotation(&deps.get("agent-pool").await.unwrap(), DRAINING).is_some(),
        "draining while it runs"
    );
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGINT) };
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("drain stops on Ctrl-C")
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: removed fleetctl.io/draining")
            && stderr.contains("stays paused"),
        "{stderr}"
    );
    let d = deps.get("agent-pool").await.unwrap();
    assert_eq!(annotation(&d, DRAINING), None, "no draining mark is left");
    assert_eq!(
        annotation(&d, "fleetctl.io/paused-replicas").as_deref(),
        Some("2")
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scale_between_pause_read_and_patch_is_not_lost() {
    let (sim, client, dir) = sim().await;
    let deps: Api<Deployment> = Api::namespaced(client.clone(), NS);
    deps.create(&PostParams::default(), &deployment(3))
        .await
        .unwrap();
    // Another client scales the fleet to 5 just before fleetctl's first patch arrives.
    let scaled = Arc::new(AtomicU32::new(0));
    let hook: Hook = {
        let (scaled, deps) = (scaled.clone(), deps.clone());
        Arc::new(move |method, path| {
            let (scaled, deps) = (scaled.clone(), deps.clone());
            Box::pin(async move {
                if method == axum::http::Method::PATCH
                    && path.ends_with("/deployments/agent-pool")
                    && scaled.fetch_add(1, Ordering::SeqCst) == 0
                {
                    deps.patch(
                        "agent-pool",
                        &PatchParams::default(),
                        &Patch::Merge(json!({"spec": {"replicas": 5}})),
                    )
                    .await
                    .unwrap();
                }
                None
            })
        })
    };
    let p = proxy(client.clone(), &dir, hook).await;
    let (code, stdout, _) = fleetctl(&p.kubeconfig, &["pause", "agent-pool"]).await;
    assert_eq!(code, 0);
    assert!(stdout.contains("from 5 to 0"), "{stdout}");
    let d = deps.get("agent-pool").await.unwrap();
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(0));
    assert_eq!(
        annotation(&d, "fleetctl.io/paused-replicas").as_deref(),
        Some("5"),
        "the replicas recorded are those the pause replaced"
    );
    let (code, _, _) = fleetctl(&sim.kubeconfig, &["resume", "agent-pool"]).await;
    assert_eq!(code, 0);
    assert_eq!(
        deps.get("agent-pool").await.unwrap().spec.unwrap().replicas,
        Some(5)
    );
    sim.stop().await;
}
