//! clap definitions shared by every command. Global flags follow kubectl and may stand before or
//! after the subcommand.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::metrics::scrape::{Route, ScrapeSettings};
use crate::queue::mgmt::{MgmtClient, MgmtError};
use crate::queue::task::{DEFAULT_STEP_MS, DEFAULT_STEPS};
use crate::queue::topology::DEFAULT_QUEUE;

/// The broker used when neither `--amqp-url` nor `FLEETCTL_AMQP_URL` is given.
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The largest `seed --count` accepted: enough for any load test, small enough that a typo
/// (an extra zero or two) is caught before it floods a production queue.
pub const MAX_SEED_COUNT: u64 = 10_000_000;

#[derive(Debug, Parser)]
#[command(
    name = "fleetctl",
    version,
    about = "Operate fleets of AI-agent workers on Kubernetes",
    long_about = "Operate fleets of AI-agent workers on Kubernetes: agents that pull tasks from a \
                  RabbitMQ queue and run as Indexed Jobs or as Jobs of a KEDA ScaledJob."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: the current context)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// The namespace the fleets live in
    #[arg(
        short = 'n',
        long,
        global = true,
        default_value = "agents",
        value_name = "NS"
    )]
    pub namespace: String,

    /// RabbitMQ URL [env: FLEETCTL_AMQP_URL] [default: amqp://guest:***@127.0.0.1:5672/%2f]
    #[arg(
        long,
        global = true,
        env = "FLEETCTL_AMQP_URL",
        default_value = DEFAULT_AMQP_URL,
        hide_default_value = true,
        hide_env = true,
        value_name = "URL"
    )]
    pub amqp_url: String,

    /// Set by `--local`: how headers name the stack (`local cluster, embedded broker`).
    #[arg(skip)]
    pub local: Option<String>,
}

/// `--local` and its settings, on every command that talks to a cluster.
#[derive(Debug, Clone, Args)]
pub struct LocalArgs {
    /// Use the local stack: the local cluster with in-process agents, a broker (RabbitMQ when
    /// one answers at the AMQP URL, else the embedded one), the Secret and the bundled
    /// manifests, started in this process and stopped on exit; a stack already running on the
    /// same --state-dir is used as it is
    #[arg(long)]
    pub local: bool,

    /// With --local: where the stack keeps its cluster, queued messages and kubeconfig
    /// [default: ~/.cache/fleetctl/local]
    #[arg(long, value_name = "DIR", requires = "local")]
    pub state_dir: Option<PathBuf>,

    /// With --local: which broker the stack uses
    #[arg(long, value_enum, default_value_t = LocalBroker::Auto, value_name = "BROKER")]
    pub broker: LocalBroker,

    /// With --local: how agents run (`process` spawns a `fleetctl agent` per container)
    #[arg(long, value_enum, default_value_t = SimRuntime::Inproc, value_name = "RUNTIME")]
    pub runtime: SimRuntime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LocalBroker {
    /// RabbitMQ when something answers at the AMQP URL, else the embedded broker
    #[default]
    Auto,
    /// Always the embedded broker (listening at the AMQP URL's port when free)
    Embedded,
    /// The broker at the AMQP URL, which must answer
    Rabbitmq,
}

/// Where RabbitMQ's management HTTP API is, for commands that read it (flatten into their args).
#[derive(Debug, Clone, Default, Args)]
pub struct MgmtArgs {
    /// Base URL of RabbitMQ's management API [env: FLEETCTL_RABBITMQ_API] [default: the host
    /// and credentials of --amqp-url, http, port 15672]
    #[arg(
        long,
        env = "FLEETCTL_RABBITMQ_API",
        hide_env = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub rabbitmq_api: Option<String>,
}

impl MgmtArgs {
    /// A client of the API these flags name, for the broker at `amqp_url`.
    pub fn client(&self, amqp_url: &str) -> Result<MgmtClient, MgmtError> {
        MgmtClient::new(self.rabbitmq_api.as_deref(), amqp_url)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Publish test tasks to the queue, with publisher confirms
    Seed(SeedArgs),
    /// Run the reference agent worker: consume tasks, checkpoint, serve /metrics
    Agent(AgentArgs),
    /// Serve a local Kubernetes-API-compatible cluster and write its kubeconfig
    Sim(SimArgs),
    /// Run the embedded AMQP 0-9-1 broker (RabbitMQ's behaviour for what fleetctl uses; one machine)
    Broker(BrokerArgs),
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Server-side apply the bundled manifests (namespace, checks, then the rest)
    Apply(ApplyArgs),
    /// Pause a fleet: KEDA pause annotation, Job suspend, or Deployment scaled to 0
    Pause(FleetArgs),
    /// Resume a paused fleet, restoring exactly the state before the pause
    Resume(FleetArgs),
    /// Pause a fleet and wait until nothing of it runs
    Drain(DrainArgs),
    /// One line per fleet (state, queue, Jobs, pods, disruptions) and its findings
    Status(StatusArgs),
    /// The fleet console: live fleets, queues, pods, disruptions and metrics, with actions
    Tui(TuiArgs),
    /// Move dead-lettered tasks from `<queue>.dlq` back to the queue, with fresh retries
    Redrive(RedriveArgs),
    /// Prove the cluster is ready for the fleet: apply, seed, KEDA scale, agents, metrics,
    /// completion, clean-up; PASS or FAIL with the failed step's reason
    SmokeTest(SmokeTestArgs),
}

impl Command {
    /// The `--local` flags of a command that talks to a cluster.
    pub fn local_args(&self) -> Option<&LocalArgs> {
        match self {
            Command::Seed(a) => Some(&a.local),
            Command::Apply(a) => Some(&a.local),
            Command::Pause(a) | Command::Resume(a) => Some(&a.local),
            Command::Drain(a) => Some(&a.local),
            Command::Status(a) => Some(&a.local),
            Command::Tui(a) => Some(&a.local),
            Command::Redrive(a) => Some(&a.local),
            Command::SmokeTest(a) => Some(&a.local),
            Command::Agent(_) | Command::Sim(_) | Command::Broker(_) | Command::Completions(_) => {
                None
            }
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SmokeTestArgs {
    #[command(flatten)]
    pub local: LocalArgs,

    /// Tasks to run through the fleet
    #[arg(long, short = 'c', default_value = "10", value_name = "N",
          value_parser = parse_smoke_count, allow_hyphen_values = true)]
    pub count: u64,

    /// Give up (FAIL at the step in progress) after this long; clean-up still runs
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Leave the run's Jobs and queue, and the ScaledJob pointed at it, for inspection
    #[arg(long)]
    pub keep: bool,

    /// Use the fleet's queue (its ScaledJob's trigger) instead of a fresh `smoke-<id>` queue
    #[arg(long, short = 'q', value_name = "NAME")]
    pub queue: Option<String>,

    /// The ScaledJob's pollingInterval for the run (whole seconds; restored at clean-up)
    #[arg(long, value_name = "DURATION", value_parser = parse_poll)]
    pub poll: Option<Duration>,

    /// Also evict one busy agent through the Eviction API: the PDB answers, the agent
    /// checkpoints and exits 143, another agent finishes its task
    #[arg(long)]
    pub disruption: bool,

    /// Output format: a checklist, or one JSON object (the schema is in README.md)
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// The largest `smoke-test --count`: a smoke test checks the plumbing, not the throughput.
pub const MAX_SMOKE_COUNT: u64 = 10_000;

fn parse_smoke_count(s: &str) -> Result<u64, String> {
    let n = parse_count(s)?;
    if n > MAX_SMOKE_COUNT {
        return Err(format!(
            "{n} is out of range; pass a count from 1 to {MAX_SMOKE_COUNT} (fleetctl seed is for load)"
        ));
    }
    Ok(n)
}

/// `--poll`: at least a second, in whole seconds as KEDA's pollingInterval is.
fn parse_poll(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) {
        return Err(format!(
            "'{s}' is under a second; KEDA polls every 1s at most often"
        ));
    }
    Ok(Duration::from_secs(d.as_secs_f64().ceil() as u64))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// A table: one line per fleet, then the findings
    Table,
    /// One JSON object (with --watch, one per line)
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub local: LocalArgs,

    /// Output format
    #[arg(long, short = 'o', value_enum, default_value_t = StatusFormat::Table)]
    pub output: StatusFormat,

    /// Keep watching and print again whenever something changes (Ctrl-C ends)
    #[arg(long, short = 'w')]
    pub watch: bool,

    #[command(flatten)]
    pub fleets: FleetSelectorArgs,

    /// Do not ask RabbitMQ for the queue depths
    #[arg(long)]
    pub no_queue: bool,

    /// How long to wait for the first complete list of every kind
    #[arg(long, default_value = "20s", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Duration,

    #[command(flatten)]
    pub scrape: ScrapeArgs,
}

/// How agents' /metrics are read: the flags `status` and `tui` share.
#[derive(Debug, Clone, Args)]
pub struct ScrapeArgs {
    /// How agents' /metrics are read: through the API server's pod proxy (works from a
    /// laptop), straight at the pod IPs (in the cluster), or not at all
    #[arg(long, value_enum, default_value_t = ScrapeMode::Proxy)]
    pub scrape: ScrapeMode,

    /// Time between two scrapes of a pod (with --watch; a one-shot status scrapes twice, 1.5 s
    /// apart, since rates need two readings)
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    pub scrape_interval: Duration,

    /// Per-pod scrape timeout (connect, headers and body)
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    pub scrape_timeout: Duration,

    /// Scrapes in flight at once
    #[arg(long, default_value_t = 64, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub scrape_concurrency: u16,
}

/// `-l`: which fleets `status` and `tui` show.
#[derive(Debug, Clone, Args)]
pub struct FleetSelectorArgs {
    /// The label selector fleets carry, in kubectl's syntax (k=v, k!=v, k in (a,b), k notin (a), k, !k)
    #[arg(
        long,
        short = 'l',
        default_value = "app=ai-agent",
        value_name = "SELECTOR"
    )]
    pub selector: String,
}

#[derive(Debug, Clone, Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub local: LocalArgs,

    #[command(flatten)]
    pub fleets: FleetSelectorArgs,

    #[command(flatten)]
    pub scrape: ScrapeArgs,

    #[command(flatten)]
    pub mgmt: MgmtArgs,

    /// How long a drain started from the console may take
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_duration)]
    pub drain_timeout: Duration,

    /// Write the console's own log here (nothing is logged to the screen)
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScrapeMode {
    Proxy,
    Direct,
    Off,
}

impl ScrapeMode {
    /// The route this mode scrapes by; `None` for off.
    pub fn route(self) -> Option<Route> {
        match self {
            ScrapeMode::Off => None,
            ScrapeMode::Proxy => Some(Route::Proxy),
            ScrapeMode::Direct => Some(Route::Direct),
        }
    }
}

impl ScrapeArgs {
    /// The scrape flags as plain settings.
    pub fn scrape_settings(&self) -> ScrapeSettings {
        ScrapeSettings {
            route: self.scrape.route(),
            interval: self.scrape_interval,
            timeout: self.scrape_timeout,
            concurrency: usize::from(self.scrape_concurrency),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub local: LocalArgs,

    /// Send everything with dryRun=All: show what would change, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// The agent container image of the Job and ScaledJob pod templates
    #[arg(long, value_name = "IMG")]
    pub image: Option<String>,

    /// Apply the *.yaml of this directory instead of the bundled manifests (without
    /// kustomization.yaml and the example secret)
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    #[command(flatten)]
    pub local: LocalArgs,

    /// The fleet: a ScaledJob, Job or Deployment labelled app=ai-agent (NAME or KIND/NAME)
    #[arg(value_name = "FLEET")]
    pub fleet: String,
}

#[derive(Debug, Clone, Args)]
pub struct DrainArgs {
    #[command(flatten)]
    pub local: LocalArgs,

    /// The fleet: a ScaledJob, Job or Deployment labelled app=ai-agent (NAME or KIND/NAME)
    #[arg(value_name = "FLEET")]
    pub fleet: String,

    /// Evict the remaining pods through the Eviction API (the PDB is honoured, refusals retried)
    #[arg(long)]
    pub evict: bool,

    /// Give up (exit 1, the fleet stays paused) after this long
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One human-readable line
    Text,
    /// One JSON object
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub local: LocalArgs,

    /// How many tasks to publish (1 to 10,000,000)
    #[arg(long, short = 'c', default_value = "10", value_name = "N",
          value_parser = parse_count, allow_hyphen_values = true)]
    pub count: u64,

    /// The task queue (its dead-letter queue is `<queue>.dlq`)
    #[arg(long, short = 'q', default_value = DEFAULT_QUEUE, value_name = "NAME")]
    pub queue: String,

    /// A JSON object, or an array of objects used in turn, whose fields go into every task
    /// (`kind`, `prompt`, `steps`, `step_ms`, and extras such as `fail_times` or `memory_mb`);
    /// `-` reads standard input
    #[arg(long, value_name = "FILE|-")]
    pub payload: Option<PathBuf>,

    /// Steps per task, unless the payload sets them
    #[arg(long, default_value_t = DEFAULT_STEPS, value_name = "K")]
    pub steps: u32,

    /// Milliseconds each step takes in the sim executor, unless the payload sets them
    #[arg(long = "step-ms", default_value_t = DEFAULT_STEP_MS, value_name = "MS")]
    pub step_ms: u64,

    /// The task kind, unless the payload sets it
    #[arg(long, default_value = "demo", value_name = "KIND")]
    pub kind: String,

    /// Publishes awaiting a broker confirm at once
    #[arg(long, default_value_t = 4096, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub window: u32,

    /// Output format of the summary
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
pub struct RedriveArgs {
    #[command(flatten)]
    pub local: LocalArgs,

    /// The task queue; its dead letters are taken from `<queue>.dlq`
    #[arg(long, short = 'q', default_value = DEFAULT_QUEUE, value_name = "NAME")]
    pub queue: String,

    /// Move at most this many messages [default: all]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max: Option<u64>,

    /// Output format of the summary
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutorKind {
    /// Sleep `step_ms` per step and count deterministic tokens (no model needed)
    Sim,
    /// Call an OpenAI-compatible chat-completions endpoint once per step
    Http,
}

#[derive(Debug, Clone, Args)]
pub struct AgentArgs {
    /// The task queue to consume (declared with its DLQ exactly as `seed` declares it)
    #[arg(long, short = 'q', default_value = DEFAULT_QUEUE, value_name = "NAME")]
    pub queue: String,

    /// Broker URL for the agent; wins over --amqp-url (the manifests set it from a Secret)
    #[arg(
        long,
        env = "TASK_QUEUE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub task_queue_url: Option<String>,

    /// This agent's identity [env: AGENT_INDEX, else JOB_COMPLETION_INDEX, else POD_NAME, else HOSTNAME]
    #[arg(long, value_name = "ID")]
    pub index: Option<String>,

    /// Where checkpoints, results and the agent's state file go (a shared volume in a cluster)
    #[arg(long, default_value = "/checkpoints", value_name = "DIR")]
    pub checkpoint_dir: PathBuf,

    /// Address of the /metrics, /healthz and /readyz server (port 0 picks a free port)
    #[arg(long, default_value = "0.0.0.0:8080", value_name = "ADDR")]
    pub metrics_addr: std::net::SocketAddr,

    /// Unacknowledged deliveries held at once; tasks run concurrently up to this number
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub prefetch: u16,

    /// Exit 0 after this many tasks
    #[arg(long, value_name = "N")]
    pub max_tasks: Option<u64>,

    /// Exit 0 when no task has arrived for this long (0: never); how a Job completes once the
    /// queue is empty
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    pub idle_exit: Duration,

    /// How tasks are run
    #[arg(long, value_enum, default_value_t = ExecutorKind::Sim)]
    pub executor: ExecutorKind,

    /// Base URL of the OpenAI-compatible API for `--executor http` (e.g. http://llm:8000/v1);
    /// the key, if any, comes from LLM_API_KEY
    #[arg(long, value_name = "URL")]
    pub llm_url: Option<String>,

    /// Model name sent to the endpoint and used as the `model` label of token metrics
    /// [default: sim for the sim executor]
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,

    /// Attempts per task before it goes to the DLQ
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_attempts: u32,

    /// Base of the exponential retry back-off (full jitter)
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub retry_base: Duration,

    /// Cap of the retry back-off
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    pub retry_max: Duration,

    /// Consecutive executor failures that open the circuit breaker
    #[arg(long, default_value_t = 5, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    pub breaker_threshold: u32,

    /// How long an open breaker stops consumption
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    pub breaker_cooldown: Duration,

    /// How long to keep retrying an unreachable broker at start before giving up
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Starts of a task that ended with its agent dying (OOMKilled, a crash) before it goes to
    /// the DLQ; counted on the checkpoint volume, apart from --max-attempts, so that a drain or
    /// a node failure (a SIGTERM) uses up neither
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_deaths: u32,

    /// How long result files are kept; older ones are removed by each agent at start (0: keep
    /// them forever)
    #[arg(long, default_value = "7d", value_name = "DURATION", value_parser = parse_duration)]
    pub results_ttl: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Address to serve HTTPS on (loopback only; port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,

    /// Where to write the kubeconfig [default: <state-dir>/kubeconfig, else $TMPDIR/fleetctl-sim/kubeconfig]
    #[arg(long, value_name = "PATH")]
    pub write_kubeconfig: Option<PathBuf>,

    /// The bearer token clients must send [default: a random one]
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Keep the cluster's objects in this directory across restarts [default: in memory]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Leave out the built-in KEDA kinds, as on a cluster without KEDA (its CRDs can be applied)
    #[arg(long)]
    pub without_keda: bool,

    /// Leave out the resource metrics API (metrics.k8s.io), as on a cluster without
    /// metrics-server: `kubectl top` fails and nothing is sampled
    #[arg(long)]
    pub without_metrics_server: bool,

    /// Enforce Roles and RoleBindings for ServiceAccount tokens (the kubeconfig's token stays
    /// admin); a token is a ServiceAccount's when a `kubernetes.io/service-account-token`
    /// Secret holds it
    #[arg(long)]
    pub enforce_rbac: bool,

    /// Connections the API server serves at once; at the cap a new one replaces the connection
    /// idle the longest, and is refused when every connection is busy (watches count as busy)
    /// [default: an eighth of the open-file limit, 16 to 4096]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// Close a connection that has had no request in flight this long (a new connection has
    /// 10 s for its TLS handshake, a request head 10 s from its first byte)
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// Changes a watch can resume from before it must re-list (410 Expired)
    #[arg(long, default_value_t = 20_000, value_name = "N", hide = true)]
    pub history: usize,

    /// Serve the API alone: no scheduler, controllers or kubelet (objects do not move)
    #[arg(long)]
    pub api_only: bool,

    /// Simulated nodes (sim-node-1 ... sim-node-N)
    #[arg(long, default_value_t = 3, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub nodes: u16,

    /// Allocatable CPU per node (a quantity: 8, 500m)
    #[arg(long, default_value = "8", value_name = "CPU", value_parser = parse_cpu)]
    pub node_cpu: u64,

    /// Allocatable memory per node (a quantity: 32Gi, 512Mi)
    #[arg(long, default_value = "32Gi", value_name = "MEM", value_parser = parse_memory)]
    pub node_memory: u64,

    /// How pod containers run: `process` spawns `fleetctl agent` per container; `inproc` runs
    /// agents as tasks inside the sim (for thousands of pods)
    #[arg(long, value_enum, default_value_t = SimRuntime::Process)]
    pub runtime: SimRuntime,

    /// Act as a kubelet under memory pressure: evict pods (status.reason Evicted) when a node's
    /// pods use more memory than it has
    #[arg(long)]
    pub evict_on_pressure: bool,

    /// Let pods mount hostPath volumes (any directory of this host); refused otherwise, so that
    /// every volume stays inside the state directory
    #[arg(long, conflicts_with = "api_only")]
    pub allow_host_path: bool,

    /// Also run a broker and set the cluster up for the fleet (the Secret `agent-secrets`
    /// pointing at it, the bundled manifests): `auto` uses RabbitMQ when one answers at the AMQP
    /// URL, else the embedded broker; state is kept in --state-dir [default:
    /// ~/.cache/fleetctl/local]
    #[arg(long, value_enum, value_name = "BROKER")]
    pub broker: Option<LocalBroker>,
}

#[derive(Debug, Clone, Args)]
pub struct BrokerArgs {
    /// AMQP address to listen on (loopback by default; port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:5672", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,

    /// Management API address (the read-only subset fleetctl reads)
    #[arg(long, default_value = "127.0.0.1:15672", value_name = "ADDR")]
    pub http: std::net::SocketAddr,

    /// Serve no management API
    #[arg(long, conflicts_with = "http")]
    pub no_http: bool,

    /// Keep durable queues and persistent messages in this directory across restarts
    /// [default: in memory]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// The user clients log in as
    #[arg(long, default_value = "guest", value_name = "USER")]
    pub user: String,

    /// The user's password
    #[arg(
        long,
        default_value = "guest",
        value_name = "PASSWORD",
        env = "FLEETCTL_BROKER_PASSWORD",
        hide_env_values = true
    )]
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimRuntime {
    Process,
    Inproc,
}

fn parse_cpu(s: &str) -> Result<u64, String> {
    crate::fleet::objects::parse_cpu_millis(s)
        .filter(|m| *m > 0)
        .ok_or_else(|| format!("'{s}' is not a CPU quantity; write e.g. 8 or 500m"))
}

fn parse_memory(s: &str) -> Result<u64, String> {
    crate::fleet::objects::parse_quantity_bytes(s)
        .filter(|b| *b > 0)
        .ok_or_else(|| format!("'{s}' is not a memory quantity; write e.g. 32Gi or 512Mi"))
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `--count`: a whole number from 1 to [`MAX_SEED_COUNT`], with a message that says which.
fn parse_count(s: &str) -> Result<u64, String> {
    let n: i128 = s.trim().replace('_', "").parse().map_err(|_| {
        format!("'{s}' is not a whole number; pass a count from 1 to {MAX_SEED_COUNT}")
    })?;
    if n < 1 || n > MAX_SEED_COUNT as i128 {
        return Err(format!(
            "{n} is out of range; pass a count from 1 to {MAX_SEED_COUNT}"
        ));
    }
    Ok(n as u64)
}

/// A duration such as `250ms`, `10s`, `2m`, `1h` or `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration; write e.g. 250ms, 10s, 2m or 1h"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        _ => {
            return Err(format!(
                "'{s}' has no unit fleetctl knows; write e.g. 250ms, 10s, 2m, 1h or 7d"
            ));
        }
    };
    if !secs.is_finite() || secs > 365.0 * 86400.0 {
        return Err(format!("'{s}' is too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        for bad in ["", "10", "s", "ten s", "5w", "-1s", "400d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn count_range() {
        assert_eq!(parse_count("10"), Ok(10));
        assert_eq!(parse_count("10_000"), Ok(10_000));
        assert_eq!(parse_count("10000000"), Ok(MAX_SEED_COUNT));
        for bad in ["0", "-5", "10000001", "ten", "", "1.5"] {
            let err = parse_count(bad).unwrap_err();
            assert!(err.contains("from 1 to 10000000"), "{bad}: {err}");
        }
    }

    #[test]
    fn global_flags_go_before_or_after_the_subcommand() {
        let a = Cli::try_parse_from(["fleetctl", "-n", "x", "seed", "--count", "3"]).unwrap();
        let b = Cli::try_parse_from(["fleetctl", "seed", "--count", "3", "-n", "x"]).unwrap();
        assert_eq!(a.global.namespace, "x");
        assert_eq!(b.global.namespace, "x");
    }

    #[test]
    fn redrive_defaults_to_the_agents_queue_and_refuses_max_0() {
        let Command::Redrive(a) = Cli::try_parse_from(["fleetctl", "redrive"])
            .unwrap()
            .command
        else {
            panic!("redrive parses as Redrive");
        };
        assert_eq!((a.queue.as_str(), a.max), (DEFAULT_QUEUE, None));
        assert_eq!(a.output, OutputFormat::Text);
        let Command::Redrive(a) =
            Cli::try_parse_from(["fleetctl", "redrive", "-q", "x", "--max", "2", "-o", "json"])
                .unwrap()
                .command
        else {
            panic!("redrive parses as Redrive");
        };
        assert_eq!((a.queue.as_str(), a.max), ("x", Some(2)));
        assert_eq!(a.output, OutputFormat::Json);
        assert!(Cli::try_parse_from(["fleetctl", "redrive", "--max", "0"]).is_err());
    }

    #[test]
    fn smoke_test_flags() {
        let Command::SmokeTest(a) = Cli::try_parse_from(["fleetctl", "smoke-test"])
            .unwrap()
            .command
        else {
            panic!("smoke-test parses as SmokeTest");
        };
        assert_eq!(
            (a.count, a.timeout, a.keep),
            (10, Duration::from_secs(300), false)
        );
        assert_eq!((a.queue, a.poll, a.disruption), (None, None, false));
        let Command::SmokeTest(a) = Cli::try_parse_from([
            "fleetctl",
            "smoke-test",
            "--count",
            "4",
            "--poll",
            "1.5s",
            "-o",
            "json",
            "--keep",
        ])
        .unwrap()
        .command
        else {
            panic!("smoke-test parses as SmokeTest");
        };
        assert_eq!((a.count, a.poll), (4, Some(Duration::from_secs(2))));
        assert_eq!(a.output, OutputFormat::Json);
        for bad in [
            vec!["fleetctl", "smoke-test", "--count", "0"],
            vec!["fleetctl", "smoke-test", "--count", "20000"],
            vec!["fleetctl", "smoke-test", "--poll", "500ms"],
            vec!["fleetctl", "smoke-test", "--timeout", "soon"],
        ] {
            assert!(Cli::try_parse_from(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn negative_count_reaches_the_range_check() {
        let err = Cli::try_parse_from(["fleetctl", "seed", "--count", "-5"]).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }
}
