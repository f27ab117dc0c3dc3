//! clap definitions shared by every command. Global flags follow kubectl and may stand before or
//! after the subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Publish test tasks to the queue, with publisher confirms
    Seed(SeedArgs),
    /// Print shell completions
    Completions(CompletionsArgs),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
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
    fn negative_count_reaches_the_range_check() {
        let err = Cli::try_parse_from(["fleetctl", "seed", "--count", "-5"]).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }
}
