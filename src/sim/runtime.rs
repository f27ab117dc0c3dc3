//! Starting and stopping the local cluster: certificates, store, listener, kubeconfig, state
//! persistence. Used by `fleetctl sim`, and by tests and the demo in-process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::warn;

use super::api::registry::{Registry, keda_crd_objects};
use super::api::request::{ApiState, ProxyTargets};
use super::api::server;
use super::api::store::{DEFAULT_HISTORY, Store};
use super::api::{conns, metrics_api};
use super::controllers::{self, ControllerOptions, Ctx};
use super::error::SimError;
use super::{kubeconfig, tls};

/// The namespaces every sim starts with.
pub const NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "agents"];

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub listen: SocketAddr,
    pub kubeconfig: PathBuf,
    pub token: Option<String>,
    pub state_dir: Option<PathBuf>,
    pub without_keda: bool,
    /// Leave `metrics.k8s.io` out, as on a cluster without metrics-server.
    pub without_metrics_server: bool,
    pub history: usize,
    pub enforce_rbac: bool,
    /// The controllers, scheduler and kubelet; None serves the API alone (tests that play the
    /// controllers themselves).
    pub controllers: Option<ControllerOptions>,
    /// Connections served at once [default: from the open-file limit, see
    /// [`conns::default_max_connections`]].
    pub max_connections: Option<usize>,
    /// How long a connection may stay without a request in flight before it is closed.
    pub idle_timeout: Duration,
}

impl SimOptions {
    pub fn new(kubeconfig: PathBuf) -> Self {
        Self {
            listen: "127.0.0.1:0".parse().expect("an address"),
            kubeconfig,
            token: None,
            state_dir: None,
            without_keda: false,
            without_metrics_server: false,
            history: DEFAULT_HISTORY,
            enforce_rbac: false,
            controllers: None,
            max_connections: None,
            idle_timeout: conns::DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// A running sim. Dropping it does not stop it; call [`RunningSim::stop`].
pub struct RunningSim {
    pub server: String,
    pub kubeconfig: PathBuf,
    pub token: String,
    pub store: Arc<Store>,
    /// The soft open-file limit after raising it, and the in-process pods it allows.
    pub open_files: u64,
    pub inproc_pods: usize,
    /// Connections the API server serves at once.
    pub max_connections: usize,
    /// Why the sim does not listen where it did before the restart, when it does not.
    pub address_notice: Option<String>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningSim {
    /// [`RunningSim::shutdown`], for callers that only log a failure to save (it is logged).
    pub async fn stop(self) {
        let _ = self.shutdown().await;
    }

    /// Stops serving, waits until every change is on disk (as a snapshot, so that the next
    /// start reads one file), and stops the state writer; the failure if the state could not
    /// be written.
    pub async fn shutdown(self) -> Result<(), SimError> {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        let store = self.store.clone();
        let saved = tokio::task::spawn_blocking(move || {
            let r = store.flush(true, Duration::from_secs(30));
            store.close();
            r
        })
        .await
        .map_err(SimError::Shutdown)?;
        saved.map_err(|e| {
            warn!(error = %e, "state_not_saved");
            SimError::NotSaved(e)
        })
    }
}

/// The file in the state directory that remembers the address served.
const ADDRESS_FILE: &str = "address";

/// Binds the address to serve on: `--listen` when it names a port; else, with a state
/// directory, the address the sim had before (as kind keeps its cluster's port), unless it is
/// taken (then a free port, and a notice saying so).
async fn bind(
    listen: SocketAddr,
    state_dir: Option<&std::path::Path>,
) -> Result<(tokio::net::TcpListener, Option<String>), SimError> {
    let cannot = |source: std::io::Error| SimError::Bind { listen, source };
    let previous = state_dir
        .filter(|_| listen.port() == 0)
        .and_then(|d| std::fs::read_to_string(d.join(ADDRESS_FILE)).ok())
        .and_then(|s| s.trim().parse::<SocketAddr>().ok())
        .filter(|a| a.ip().is_loopback() && a.port() != 0);
    let Some(previous) = previous else {
        return Ok((
            tokio::net::TcpListener::bind(listen)
                .await
                .map_err(cannot)?,
            None,
        ));
    };
    match tokio::net::TcpListener::bind(previous).await {
        Ok(l) => Ok((l, None)),
        Err(e) => {
            let l = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(cannot)?;
            let now = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
            Ok((
                l,
                Some(format!(
                    "the address this cluster had, {previous}, is taken ({e}); serving on {now}: clients need the new kubeconfig"
                )),
            ))
        }
    }
}

/// A token clients must present: not empty, no whitespace or control characters (it travels
/// in an HTTP header and a kubeconfig), and long enough not to be guessed.
pub fn check_token(t: &str) -> Result<(), SimError> {
    const MIN: usize = 16;
    if t.is_empty() {
        return Err(SimError::EmptyToken);
    }
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SimError::TokenCharacters);
    }
    if t.len() < MIN {
        return Err(SimError::ShortToken {
            len: t.len(),
            min: MIN,
        });
    }
    Ok(())
}

/// Starts the API server and writes the kubeconfig; returns once requests are accepted.
pub async fn start(opts: SimOptions) -> Result<RunningSim, SimError> {
    if !opts.listen.ip().is_loopback() {
        return Err(SimError::NotLoopback(opts.listen));
    }
    if let Some(t) = &opts.token {
        check_token(t)?;
    }
    if let Some(d) = &opts.state_dir {
        crate::fsutil::create_dir_private(d).map_err(|source| SimError::CreateStateDir {
            dir: d.clone(),
            source,
        })?;
        // It will hold the admin token, the TLS key and every Secret.
        crate::fsutil::check_private_dir(d).map_err(|source| SimError::UnsafeStateDir {
            dir: d.clone(),
            source,
        })?;
    }
    let open_files = super::limits::raise_nofile_limit();
    let inproc_pods = super::limits::inproc_pods_allowed(open_files);
    let max_connections = opts
        .max_connections
        .unwrap_or_else(|| conns::default_max_connections(open_files));
    if max_connections == 0 {
        return Err(SimError::NoConnections);
    }
    if opts.idle_timeout.is_zero() {
        return Err(SimError::NoIdleTimeout);
    }
    let tls = tls::load_or_generate(opts.state_dir.as_deref())?;
    // KEDA's kinds come as CRD objects created at start, exactly as if KEDA were installed.
    let mut registry = Registry::new(false);
    let metrics = (!opts.without_metrics_server).then(|| {
        registry.add_crd(metrics_api::types());
        metrics_api::MetricsTable::new()
    });
    let store = Store::new(registry, opts.history, opts.state_dir.clone());
    if let Err(e) = store.load() {
        return Err(SimError::LoadState(e));
    }
    store.persist().map_err(|source| SimError::WriteState {
        dir: opts.state_dir.clone().unwrap_or_default(),
        source,
    })?;
    store.bootstrap(NAMESPACES);
    if !opts.without_keda {
        store.bootstrap_objects(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            keda_crd_objects(),
        );
    }

    let (listener, address_notice) = bind(opts.listen, opts.state_dir.as_deref()).await?;
    let addr = listener.local_addr().map_err(SimError::LocalAddr)?;
    if let Some(d) = &opts.state_dir {
        let path = d.join(ADDRESS_FILE);
        crate::fsutil::write_atomic(&path, addr.to_string().as_bytes())
            .map_err(|source| SimError::WriteFile { path, source })?;
    }
    let server_url = format!("https://{addr}");
    let token = match (&opts.token, &opts.state_dir) {
        (Some(t), _) => t.clone(),
        // A state directory keeps its token, so a restarted sim accepts the old kubeconfig.
        (None, Some(d)) => {
            let path = d.join("token");
            match std::fs::read_to_string(&path) {
                Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
                _ => {
                    let t = kubeconfig::new_token();
                    crate::fsutil::write_atomic(&path, t.as_bytes())
                        .map_err(|source| SimError::WriteFile { path, source })?;
                    t
                }
            }
        }
        (None, None) => kubeconfig::new_token(),
    };

    // pods/proxy: straight to the pod, never through HTTP(S)_PROXY, never after a redirect
    // (a pod could send the sim anywhere).
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(SimError::ProxyClient)?;
    let state = Arc::new(ApiState {
        store: store.clone(),
        token: token.clone(),
        enforce_rbac: opts.enforce_rbac,
        http,
        logs: opts.controllers.as_ref().map(|c| c.state_dir.join("logs")),
        metrics: metrics.clone(),
        proxy_to: if opts.controllers.is_some() {
            ProxyTargets::KubeletAssigned
        } else {
            ProxyTargets::Loopback
        },
        allow_host_path: opts.controllers.as_ref().is_some_and(|c| c.allow_host_path),
    });
    let (tx, rx) = watch::channel(false);
    let mut tasks = vec![tokio::spawn(server::serve(
        listener,
        tls.server_config.clone(),
        state,
        conns::ConnLimits {
            max: max_connections,
            head_timeout: conns::HEAD_TIMEOUT,
            idle_timeout: opts.idle_timeout,
        },
        rx.clone(),
    ))];
    // An existing kubeconfig (`~/.kube/config`) gets the sim's entries merged in.
    let existing = match std::fs::read_to_string(&opts.kubeconfig) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(SimError::ReadKubeconfig {
                path: opts.kubeconfig,
                source,
            });
        }
    };
    let doc = kubeconfig::merge(&existing, &server_url, &tls.ca_pem, &token, "agents").map_err(
        |source| SimError::MergeKubeconfig {
            path: opts.kubeconfig.clone(),
            source,
        },
    )?;
    if let Some(parent) = opts
        .kubeconfig
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        crate::fsutil::create_dir_private(parent).map_err(|source| SimError::KubeconfigDir {
            path: opts.kubeconfig.clone(),
            source,
        })?;
    }
    crate::fsutil::write_atomic(&opts.kubeconfig, doc.as_bytes()).map_err(|source| {
        SimError::WriteKubeconfig {
            path: opts.kubeconfig.clone(),
            source,
        }
    })?;
    if let Some(mut copts) = opts.controllers {
        copts.max_inproc_pods = copts.max_inproc_pods.min(inproc_pods);
        store.enable_garbage_collection();
        // The controllers are clients of this very API, with the admin token.
        let (client, _) = crate::kubeclient::connect(Some(&opts.kubeconfig), None)
            .await
            .map_err(SimError::ControllersUnreachable)?;
        tasks.extend(controllers::start(Ctx {
            client,
            opts: Arc::new(copts),
            shutdown: rx.clone(),
            pods: controllers::informer::Pods::new(),
            usage: metrics,
        }));
    }
    Ok(RunningSim {
        server: server_url,
        kubeconfig: opts.kubeconfig,
        token,
        store,
        open_files,
        inproc_pods,
        max_connections,
        address_notice,
        shutdown: tx,
        tasks,
    })
}
