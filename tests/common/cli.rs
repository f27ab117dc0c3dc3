//! The fleetctl binary run against a cluster's kubeconfig from async tests: stdin closed,
//! stdout and stderr collected, killed if the test drops it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use serde_json::json;

use super::Run;

/// `fleetctl --kubeconfig <kubeconfig> <args>`, without the environment's `KUBECONFIG`; stdout
/// and stderr piped (a caller may set them otherwise before spawning).
pub fn command(kubeconfig: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_fleetctl"));
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Waits (90 s at most) for a fleetctl spawned from [`command`]; what it printed, and its exit
/// code.
pub async fn finish(child: tokio::process::Child, args: &[&str]) -> Run {
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("fleetctl {args:?} did not finish"))
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!("fleetctl {args:?} -> {run:#?}");
    run
}

/// Runs fleetctl to its end against `kubeconfig`.
pub async fn fleetctl(kubeconfig: &Path, args: &[&str]) -> Run {
    let child = command(kubeconfig, args).spawn().unwrap();
    finish(child, args).await
}

/// The Deployment fleet `agent-pool` (label `app=ai-agent`) with `replicas`.
pub fn deployment(replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "agent-pool", "labels": {"app": "ai-agent"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "ai-agent", "pool": "agent-pool"}},
            "template": {
                "metadata": {"labels": {"app": "ai-agent", "pool": "agent-pool"}},
                "spec": {"containers": [{"name": "agent", "image": "ghcr.io/fleetctl/agent:0.1.0"}]}
            }
        }
    }))
    .unwrap()
}
