//! Building a kube-rs client from a kubeconfig the way kubectl finds one (`--kubeconfig`,
//! `KUBECONFIG`, `~/.kube/config`, `--context`) or from the in-cluster service account. Shared
//! by the Kubernetes layer (`cluster`) and the local cluster's controllers (`sim`), which are
//! API clients too; neither depends on the other for it.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Where the cluster came from, for messages.
#[derive(Debug, Clone)]
pub struct Source {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub server: String,
}

impl Source {
    pub fn describe(&self) -> String {
        let kc = self
            .kubeconfig
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "in-cluster service account".into());
        match &self.context {
            Some(c) => format!("kubeconfig {kc}, context {c}"),
            None => format!("kubeconfig {kc}"),
        }
    }
}

/// The kubeconfig path kubectl would read: the flag, else the first of `KUBECONFIG`, else
/// `~/.kube/config` if it exists.
pub fn kubeconfig_path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Ok(v) = std::env::var("KUBECONFIG")
        && let Some(first) = std::env::split_paths(&v).find(|p| !p.as_os_str().is_empty())
    {
        return Some(first);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let p = home.join(".kube").join("config");
    p.exists().then_some(p)
}

/// Why no client could be built. Each message names the kubeconfig (and context) tried and
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read kubeconfig '{}': {source}; pass --kubeconfig PATH or set KUBECONFIG", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("kubeconfig '{}'{}: {source}; check --context (kubectl config get-contexts)", .path.display(), .context.as_ref().map(|c| format!(", context '{c}'")).unwrap_or_default())]
    Context {
        path: PathBuf,
        context: Option<String>,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error(
        "no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) and not running in a cluster; start one with `fleetctl sim` or pass --kubeconfig"
    )]
    NoConfig,
    #[error("cannot build a client for {describe}: {source}")]
    Client {
        describe: String,
        #[source]
        source: kube::Error,
    },
}

/// Builds a client. `default_retry` is off: callers see 429 and 503 answers themselves (kube
/// would otherwise retry them up to 15 times with growing back-off, hiding a PDB's refusal).
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<(Client, Source), ConnectError> {
    let path = kubeconfig_path(kubeconfig);
    let mut config = match &path {
        Some(p) => {
            let kc = Kubeconfig::read_from(p).map_err(|source| ConnectError::Read {
                path: p.clone(),
                source,
            })?;
            let opts = KubeConfigOptions {
                context: context.map(String::from),
                ..Default::default()
            };
            Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|source| ConnectError::Context {
                    path: p.clone(),
                    context: context.map(String::from),
                    source,
                })?
        }
        None => Config::incluster().map_err(|_| ConnectError::NoConfig)?,
    };
    config.default_retry = false;
    let source = Source {
        kubeconfig: path,
        context: context.map(String::from),
        server: config.cluster_url.to_string(),
    };
    let client = Client::try_from(config).map_err(|source_err| ConnectError::Client {
        describe: source.describe(),
        source: source_err,
    })?;
    Ok((client, source))
}
