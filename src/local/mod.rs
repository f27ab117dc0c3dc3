//! `--local`: the whole stack on one machine, in this process. A broker (RabbitMQ when one
//! answers at the AMQP URL, else the embedded one), the local cluster with its controllers and
//! agents, the Secret that points the agents and KEDA at that broker, and the bundled manifests.
//!
//! One stack runs per state directory. A second `--local` command on the same directory finds
//! the running one (through `local.json`, guarded by an advisory lock) and uses it instead of
//! starting another; the process that started a stack stops it when its command ends.

mod lock;
mod state;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use url::Url;

use crate::broker::{Broker, BrokerConfig};
use crate::cluster::apply::{ApplyOptions, apply, load_bundled, prepare};
use crate::queue::mgmt::percent_decode;
use crate::redact::mask_url;
use crate::sim::controllers::{ControllerOptions, RuntimeKind};
use crate::sim::runtime::{RunningSim, SimOptions, start};

pub use lock::StateLock;
pub use state::Recorded;

/// Which broker `--local` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerChoice {
    /// RabbitMQ when something accepts connections at the AMQP URL, else the embedded broker.
    Auto,
    /// Always the embedded broker.
    Embedded,
    /// The broker at the AMQP URL, which must answer.
    RabbitMq,
}

/// The broker a stack ended up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerKind {
    Embedded,
    Rabbitmq,
}

impl BrokerKind {
    pub fn label(self) -> &'static str {
        match self {
            BrokerKind::Embedded => "embedded broker",
            BrokerKind::Rabbitmq => "RabbitMQ",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Where the cluster's objects, the broker's messages, the kubeconfig and `local.json` live.
    pub state_dir: PathBuf,
    /// The AMQP URL to look for RabbitMQ at; the embedded broker listens on its port when free.
    pub amqp_url: String,
    pub broker: BrokerChoice,
    /// Where the manifests and the Secret go.
    pub namespace: String,
    /// Apply the bundled manifests (and the Secret) once the cluster answers.
    pub apply_manifests: bool,
    /// The local cluster; its state goes under `state_dir` whatever these say (the kubeconfig
    /// too, unless changed after [`LocalOptions::new`]), and
    /// a listen port of 0 means the last run's port when it is free.
    pub sim: SimOptions,
}

impl LocalOptions {
    /// In-process agents on three nodes, the bundled manifests in `namespace`, RabbitMQ when it
    /// answers at `amqp_url`, else the embedded broker.
    pub fn new(state_dir: PathBuf, amqp_url: String, namespace: String) -> Self {
        let mut controllers = ControllerOptions::new(state_dir.join("cluster"));
        controllers.runtime = RuntimeKind::Inproc;
        LocalOptions {
            sim: SimOptions {
                controllers: Some(controllers),
                ..SimOptions::new(state_dir.join("kubeconfig"))
            },
            state_dir,
            amqp_url,
            broker: BrokerChoice::Auto,
            namespace,
            apply_manifests: true,
        }
    }
}

/// Why the stack could not start. Each message names the input and what to do.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "cannot use --state-dir '{}': {reason}; pass a directory you own (e.g. --state-dir ~/.cache/fleetctl/local)",
        .dir.display()
    )]
    StateDir { dir: PathBuf, reason: String },
    #[error(
        "the AMQP URL {url} is not valid: {reason}; pass --amqp-url amqp://USER:PASSWORD@HOST:PORT/%2f"
    )]
    Url { url: String, reason: String },
    #[error(
        "no broker answers at {url} ({reason}); start RabbitMQ, or pass --broker auto to use the embedded one"
    )]
    NoRabbitMq { url: String, reason: NoAnswer },
    #[error("the embedded broker cannot start: {0}")]
    Broker(String),
    #[error("the local cluster cannot start: {0}")]
    Sim(crate::sim::error::SimError),
    #[error("the local cluster does not take the fleet's objects: {0}")]
    Setup(String),
    #[error(
        "the local stack of '{}' (process {pid}) is starting or stopping; try again in a moment",
        .dir.display()
    )]
    Busy { dir: PathBuf, pid: u32 },
}

/// A stack this process started or found running.
pub struct LocalStack {
    pub recorded: Recorded,
    /// Present when this process started the stack (and so stops it).
    owned: Option<Owned>,
}

struct Owned {
    sim: RunningSim,
    broker: Option<Broker>,
    state_dir: PathBuf,
    _lock: StateLock,
}

impl LocalStack {
    pub fn kubeconfig(&self) -> &Path {
        &self.recorded.kubeconfig
    }

    pub fn amqp_url(&self) -> &str {
        &self.recorded.amqp_url
    }

    /// The management API's base URL when the embedded broker serves it (RabbitMQ's is found
    /// the usual way, from the AMQP URL).
    pub fn mgmt_url(&self) -> Option<&str> {
        self.recorded.mgmt_url.as_deref()
    }

    /// How the console's header names this stack: `local cluster, embedded broker`.
    pub fn label(&self) -> String {
        format!("local cluster, {}", self.recorded.broker.label())
    }

    /// Whether this process started the stack (and stops it on [`LocalStack::stop`]).
    pub fn owned(&self) -> bool {
        self.owned.is_some()
    }

    /// One line for the terminal: what runs where, passwords masked.
    pub fn describe(&self) -> String {
        let r = &self.recorded;
        format!(
            "local cluster {} ({}), {} at {}; kubectl: export KUBECONFIG={}",
            r.server,
            if self.owned() {
                "started"
            } else {
                "already running"
            },
            r.broker.label(),
            mask_url(&r.amqp_url),
            r.kubeconfig.display()
        )
    }

    /// Stops what this process started (the sim writes its state, the broker flushes its
    /// messages); a stack found running is left alone.
    pub async fn stop(self) {
        let Some(owned) = self.owned else { return };
        owned.sim.stop().await;
        if let Some(b) = owned.broker
            && let Err(e) = b.shutdown().await
        {
            tracing::warn!(error = %e, "broker_not_stopped_cleanly");
        }
        state::forget(&owned.state_dir);
    }
}

/// The default state directory: `$XDG_CACHE_HOME/fleetctl/local`, else
/// `~/.cache/fleetctl/local`, else one under the temporary directory named for the user.
pub fn default_state_dir() -> PathBuf {
    crate::fsutil::user_dir("local")
}

/// Finds the stack running on `opts.state_dir`, or starts one. `progress` hears each step.
pub async fn open(
    opts: &LocalOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<LocalStack, LocalError> {
    let dir = &opts.state_dir;
    crate::fsutil::create_dir_private(dir).map_err(|e| LocalError::StateDir {
        dir: dir.clone(),
        reason: e.to_string(),
    })?;
    crate::fsutil::check_private_dir(dir).map_err(|e| LocalError::StateDir {
        dir: dir.clone(),
        reason: e.to_string(),
    })?;
    match StateLock::try_acquire(dir).map_err(|e| LocalError::StateDir {
        dir: dir.clone(),
        reason: e.to_string(),
    })? {
        Some(lock) => start_stack(opts, lock, progress).await,
        None => attach(dir).await,
    }
}

/// Another process holds the lock: use what it recorded, once it has.
async fn attach(dir: &Path) -> Result<LocalStack, LocalError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(recorded) = state::read(dir) {
            return Ok(LocalStack {
                recorded,
                owned: None,
            });
        }
        if Instant::now() >= deadline {
            return Err(LocalError::Busy {
                dir: dir.to_path_buf(),
                pid: lock::holder(dir).unwrap_or(0),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_stack(
    opts: &LocalOptions,
    lock: StateLock,
    progress: &mut dyn FnMut(&str),
) -> Result<LocalStack, LocalError> {
    let started = Instant::now();
    let dir = opts.state_dir.clone();
    let previous = state::last_run(&dir);
    let url = Url::parse(&opts.amqp_url).map_err(|e| LocalError::Url {
        url: mask_url(&opts.amqp_url),
        reason: e.to_string(),
    })?;
    let (broker, amqp_url, mgmt_url, kind) = match choose_broker(opts.broker, &url).await? {
        BrokerKind::Rabbitmq => {
            progress(&format!("using RabbitMQ at {}", mask_url(&opts.amqp_url)));
            (None, opts.amqp_url.clone(), None, BrokerKind::Rabbitmq)
        }
        BrokerKind::Embedded => {
            let b = start_embedded(&url, &dir, previous.as_ref()).await?;
            let amqp = b.amqp_url();
            progress(&format!("embedded broker listening at {}", mask_url(&amqp)));
            let mgmt = b.http_url();
            (Some(b), amqp, mgmt, BrokerKind::Embedded)
        }
    };
    let mut sim_opts = opts.sim.clone();
    if let (0, Some(p)) = (sim_opts.listen.port(), previous.as_ref())
        && port_free(p.listen()).await
    {
        sim_opts.listen = p.listen();
    }
    let kubeconfig = sim_opts.kubeconfig.clone();
    sim_opts.state_dir = Some(dir.join("cluster"));
    if let Some(c) = sim_opts.controllers.as_mut() {
        c.state_dir = dir.join("cluster");
    }
    let sim = match start(sim_opts).await {
        Ok(s) => s,
        Err(e) => {
            if let Some(b) = broker {
                let _ = b.shutdown().await;
            }
            return Err(LocalError::Sim(e));
        }
    };
    progress(&format!("local cluster serving at {}", sim.server));
    let recorded = Recorded {
        pid: std::process::id(),
        server: sim.server.clone(),
        kubeconfig,
        amqp_url,
        mgmt_url,
        broker: kind,
    };
    let stack = LocalStack {
        recorded,
        owned: Some(Owned {
            sim,
            broker,
            state_dir: dir.clone(),
            _lock: lock,
        }),
    };
    if opts.apply_manifests
        && let Err(e) = set_up(&stack, &opts.namespace, progress).await
    {
        stack.stop().await;
        return Err(e);
    }
    state::record(&dir, &stack.recorded).map_err(|e| LocalError::StateDir {
        dir: dir.clone(),
        reason: e.to_string(),
    })?;
    progress(&format!(
        "ready in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(stack)
}

/// The Secret the manifests name, pointing at this stack's broker, then the bundled manifests.
async fn set_up(
    stack: &LocalStack,
    namespace: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<(), LocalError> {
    let (client, _) = crate::kubeclient::connect(Some(stack.kubeconfig()), None)
        .await
        .map_err(|e| LocalError::Setup(e.to_string()))?;
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "agent-secrets",
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "fleetctl"}
        },
        "type": "Opaque",
        "stringData": {
            "queue-url": stack.amqp_url(),
            "rabbitmq-host": stack.amqp_url(),
        }
    }))
    .map_err(|e| LocalError::Setup(e.to_string()))?;
    let objects = prepare(
        load_bundled().map_err(|e| LocalError::Setup(e.to_string()))?,
        namespace,
        None,
    )
    .map_err(|e| LocalError::Setup(e.to_string()))?;
    // The namespace first (a renamed one does not exist yet), then the Secret, then the rest.
    let (ns, rest): (Vec<_>, Vec<_>) = objects.into_iter().partition(|o| o.kind() == "Namespace");
    let opts = ApplyOptions {
        namespace: namespace.to_string(),
        dry_run: false,
    };
    let mut failed = Vec::new();
    let mut note = |a: &crate::cluster::apply::Applied| {
        if let Err(e) = &a.result {
            failed.push(format!("{}: {e}", a.object));
        }
    };
    apply(&client, &ns, &opts, &mut note)
        .await
        .map_err(|e| LocalError::Setup(e.to_string()))?;
    Api::<Secret>::namespaced(client.clone(), namespace)
        .patch(
            "agent-secrets",
            &PatchParams::apply("fleetctl-local").force(),
            &Patch::Apply(&secret),
        )
        .await
        .map_err(|e| LocalError::Setup(format!("Secret agent-secrets: {e}")))?;
    apply(&client, &rest, &opts, &mut note)
        .await
        .map_err(|e| LocalError::Setup(e.to_string()))?;
    if !failed.is_empty() {
        return Err(LocalError::Setup(failed.join("; ")));
    }
    progress(&format!(
        "Secret agent-secrets and {} bundled objects applied in namespace {namespace}",
        ns.len() + rest.len()
    ));
    Ok(())
}

/// `Auto`: RabbitMQ when the URL's address accepts a connection, else the embedded broker.
async fn choose_broker(choice: BrokerChoice, url: &Url) -> Result<BrokerKind, LocalError> {
    match choice {
        BrokerChoice::Embedded => Ok(BrokerKind::Embedded),
        BrokerChoice::RabbitMq | BrokerChoice::Auto => {
            let answers = match amqp_addr(url) {
                Some((host, port)) => tcp_answers(&host, port).await,
                None => Err(NoAnswer::NoHost),
            };
            match (answers, choice) {
                (Ok(()), _) => Ok(BrokerKind::Rabbitmq),
                (Err(_), BrokerChoice::Auto) => Ok(BrokerKind::Embedded),
                (Err(reason), _) => Err(LocalError::NoRabbitMq {
                    url: mask_url(url.as_str()),
                    reason,
                }),
            }
        }
    }
}

fn amqp_addr(url: &Url) -> Option<(String, u16)> {
    let host = url.host_str()?.to_string();
    let port = url
        .port()
        .unwrap_or(if url.scheme() == "amqps" { 5671 } else { 5672 });
    Some((host, port))
}

/// Why no RabbitMQ answers where the AMQP URL points.
#[derive(Debug, thiserror::Error)]
pub enum NoAnswer {
    #[error("the URL names no host")]
    NoHost,
    #[error("{0}")]
    Connect(std::io::Error),
    #[error("no answer within 2 s")]
    Timeout,
}

async fn tcp_answers(host: &str, port: u16) -> Result<(), NoAnswer> {
    match tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(NoAnswer::Connect(e)),
        Err(_) => Err(NoAnswer::Timeout),
    }
}

async fn port_free(addr: SocketAddr) -> bool {
    tokio::net::TcpListener::bind(addr).await.is_ok()
}

/// The embedded broker listens where the URL points when that is a free loopback port (so
/// `fleetctl seed` and friends find it without flags), else where it listened last time, else
/// on any free port; its management API likewise on 15672.
async fn start_embedded(
    url: &Url,
    dir: &Path,
    previous: Option<&Recorded>,
) -> Result<Broker, LocalError> {
    let loopback = |a: &SocketAddr| a.ip().is_loopback();
    let wanted: Option<SocketAddr> = amqp_addr(url)
        .and_then(|(h, p)| {
            let ip = if h == "localhost" {
                "127.0.0.1".to_string()
            } else {
                h
            };
            format!("{ip}:{p}").parse().ok()
        })
        .filter(loopback);
    let mut candidates: Vec<SocketAddr> = wanted.into_iter().collect();
    if let Some(p) = previous.and_then(Recorded::amqp_addr) {
        candidates.push(p);
    }
    let mut listen: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    for c in candidates {
        if port_free(c).await {
            listen = c;
            break;
        }
    }
    let mut http: SocketAddr = "127.0.0.1:15672".parse().expect("an address");
    if !port_free(http).await {
        http.set_port(0);
    }
    let (user, password) = credentials(url);
    let config = BrokerConfig {
        listen,
        http: Some(http),
        state_dir: Some(dir.join("broker")),
        user,
        password,
    };
    Broker::start(config)
        .await
        .map_err(|e| LocalError::Broker(e.to_string()))
}

/// The user and password of the URL (guest/guest when it names none), so that clients given
/// the same URL are let in.
fn credentials(url: &Url) -> (String, String) {
    let decode = |s: &str| {
        percent_decode(s)
            .ok()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "guest".into())
    };
    (decode(url.username()), decode(url.password().unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_url_and_default_to_guest() {
        let u = Url::parse("amqp://alice:p%2Fss@127.0.0.1:5672/%2f").unwrap();
        assert_eq!(credentials(&u), ("alice".into(), "p/ss".into()));
        let u = Url::parse("amqp://127.0.0.1:5672/%2f").unwrap();
        assert_eq!(credentials(&u), ("guest".into(), "guest".into()));
    }

    #[test]
    fn the_default_state_dir_is_under_the_users_cache() {
        let d = default_state_dir();
        assert!(d.ends_with("fleetctl/local") || d.to_string_lossy().contains("fleetctl-local"));
    }
}
