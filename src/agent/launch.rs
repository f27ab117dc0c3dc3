//! Starting an agent from its flags: what `fleetctl agent` does, and what the sim's in-process
//! runtime does for each pod container. The environment is passed in, so an agent in a tokio
//! task sees its pod's variables rather than the sim's.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

use super::checkpoint::Store;
use super::executor::{HttpExecutor, SimExecutor};
use super::telemetry::{self, Metrics, Server};
use super::worker::{self, AgentError, Config, Exit};
use crate::cli::{AgentArgs, ExecutorKind};
use crate::queue::amqp::BrokerPool;
use crate::queue::topology::Topology;

/// The agent's identity: the flag, else the first of these variables that is set.
pub fn resolve_index(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> String {
    flag.map(str::to_string)
        .or_else(|| {
            [
                "AGENT_INDEX",
                "JOB_COMPLETION_INDEX",
                "POD_NAME",
                "HOSTNAME",
            ]
            .iter()
            .find_map(|k| env(k).filter(|v| !v.trim().is_empty()))
        })
        .unwrap_or_else(|| "0".to_string())
}

enum Exec {
    Sim(SimExecutor),
    Http(HttpExecutor),
}

/// An agent whose flags are checked, whose checkpoint store is open and whose metrics server
/// listens; [`Agent::run`] consumes.
pub struct Agent {
    cfg: Config,
    exec: Exec,
    store: Store,
    metrics: Arc<Metrics>,
    server: Server,
    pool: Option<Arc<BrokerPool>>,
}

impl Agent {
    /// Checks the flags, opens the checkpoint directory and binds the metrics server.
    /// `amqp_url` is the URL used when `--task-queue-url` is not given; `env` answers the
    /// agent's variables (identity, `LLM_API_KEY`).
    pub async fn prepare(
        args: &AgentArgs,
        amqp_url: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Agent, AgentError> {
        let index = resolve_index(args.index.as_deref(), &env);
        let topology =
            Topology::new(&args.queue).map_err(|e| AgentError::Config(format!("--queue: {e}")))?;
        let url = args
            .task_queue_url
            .clone()
            .unwrap_or_else(|| amqp_url.to_string());
        // Validate the URL now: a typo is configuration, not an outage to wait out.
        crate::queue::amqp::parse_url(&url).map_err(|e| AgentError::Config(e.to_string()))?;
        let exec = match args.executor {
            ExecutorKind::Sim => Exec::Sim(SimExecutor::new(args.model.clone())),
            ExecutorKind::Http => {
                let Some(base) = args.llm_url.as_deref() else {
                    return Err(AgentError::Config(
                        "--executor http needs --llm-url (e.g. http://llm:8000/v1)".into(),
                    ));
                };
                let model = args
                    .model
                    .clone()
                    .unwrap_or_else(|| "gpt-4o-mini".to_string());
                let key = env("LLM_API_KEY").or_else(|| env("OPENAI_API_KEY"));
                Exec::Http(
                    HttpExecutor::new(base, model, key)
                        .map_err(|e| AgentError::Config(e.to_string()))?,
                )
            }
        };
        let dir = args.checkpoint_dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&dir))
            .await
            .map_err(|e| AgentError::Fatal(e.to_string()))?
            .map_err(|e| AgentError::Config(e.to_string()))?;
        let metrics = Arc::new(Metrics::new(&index));
        let server = telemetry::serve(args.metrics_addr, metrics.clone())
            .await
            .map_err(|e| {
                AgentError::Config(format!(
                    "cannot listen on --metrics-addr {}: {e}; pass a free address, e.g. 0.0.0.0:8080 or 127.0.0.1:0",
                    args.metrics_addr
                ))
            })?;
        let cfg = Config {
            url,
            topology,
            index,
            prefetch: args.prefetch,
            max_tasks: args.max_tasks,
            idle_exit: args.idle_exit,
            max_attempts: args.max_attempts,
            retry_base: args.retry_base,
            retry_max: args.retry_max,
            breaker_threshold: args.breaker_threshold,
            breaker_cooldown: args.breaker_cooldown,
            connect_timeout: args.connect_timeout,
            max_deaths: args.max_deaths,
            results_ttl: args.results_ttl,
        };
        Ok(Agent {
            cfg,
            exec,
            store,
            metrics,
            server,
            pool: None,
        })
    }

    /// Consumes on a channel of a connection from `pool` (shared with the pool's other users)
    /// instead of opening a connection of its own.
    pub fn with_broker_pool(mut self, pool: Arc<BrokerPool>) -> Self {
        self.pool = Some(pool);
        self
    }

    pub fn index(&self) -> &str {
        &self.cfg.index
    }

    /// Where /metrics, /healthz and /readyz are served.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.server.addr
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Consumes until idle, max-tasks or `shutdown` turning true; the metrics server stops
    /// with it.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<Exit, AgentError> {
        let Agent {
            cfg,
            exec,
            store,
            metrics,
            server,
            pool,
        } = self;
        let result = match exec {
            Exec::Sim(e) => worker::run(cfg, e, store, metrics, pool, shutdown).await,
            Exec::Http(e) => worker::run(cfg, e, store, metrics, pool, shutdown).await,
        };
        server.stop();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(resolve_index(Some("x"), env(&[("AGENT_INDEX", "1")])), "x");
        assert_eq!(
            resolve_index(
                None,
                env(&[("AGENT_INDEX", "1"), ("JOB_COMPLETION_INDEX", "2")])
            ),
            "1"
        );
        assert_eq!(
            resolve_index(
                None,
                env(&[("JOB_COMPLETION_INDEX", "2"), ("POD_NAME", "p")])
            ),
            "2"
        );
        assert_eq!(
            resolve_index(None, env(&[("AGENT_INDEX", " "), ("POD_NAME", "p")])),
            "p"
        );
        assert_eq!(resolve_index(None, env(&[("HOSTNAME", "h")])), "h");
        assert_eq!(resolve_index(None, env(&[])), "0");
    }
}
