//! One file per subcommand; this file parses, sets up logging, runs the command and turns the
//! outcome into an exit code.

pub mod agent;
pub mod apply;
pub mod broker;
pub mod completions;
pub mod drain;
pub mod local;
pub mod pause;
pub mod redrive;
pub mod seed;
pub mod sim;
pub mod smoke;
pub mod status;
pub mod tui;

use std::process::ExitCode;

use std::os::unix::fs::OpenOptionsExt;

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::{Cli, Command};

/// Exit code of a command that failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of bad usage: flags clap or a command refused.
pub const EXIT_USAGE: u8 = 2;
/// Exit code after an interrupt (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// A failure a command reports: its one-line message and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Self {
            code: EXIT_FAILURE,
            message: e.to_string(),
        }
    }
}

pub type Outcome = Result<(), Failure>;

/// Why logging could not be set up as asked.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log file '{}': {source}; give a writable path", .path.display())]
    Open {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// A global subscriber was already installed.
    #[error("{0}")]
    Init(tracing_subscriber::util::TryInitError),
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => EXIT_USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // A `--local` stack runs inside the command: its cluster's, agents' and broker's logs go
    // to `<state-dir>/local.log`, not into the command's output.
    let stack_log = cli.command.local_args().filter(|a| a.local).map(|a| {
        a.state_dir
            .clone()
            .unwrap_or_else(crate::local::default_state_dir)
            .join("local.log")
    });
    match &cli.command {
        Command::Tui(args) => {
            let path = args.log_file.clone().or(stack_log);
            if let Err(e) = init_file_logging(path.as_deref()) {
                eprintln!("fleetctl: error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
        other => init_logging(
            matches!(other, Command::Agent(_) | Command::Sim(_)),
            stack_log.as_deref(),
        ),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleetctl: error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    // A panic of the command itself has been reported by the hook: exit 1 like any failure.
    // (A panic in a task of a server, a request or a controller, stays in that task.)
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(run(cli))));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            eprintln!("fleetctl: error: {}", f.message);
            ExitCode::from(f.code)
        }
        Err(_) => ExitCode::from(EXIT_FAILURE),
    }
}

async fn run(mut cli: Cli) -> Outcome {
    let stack = local::open(&mut cli.global, &mut cli.command).await?;
    let outcome = dispatch(cli).await;
    if let Some(s) = stack {
        s.stop().await;
    }
    outcome
}

async fn dispatch(cli: Cli) -> Outcome {
    match cli.command {
        Command::Seed(args) => seed::run(&cli.global, args).await,
        Command::Agent(args) => agent::run(&cli.global, args).await,
        Command::Sim(args) => sim::run(&cli.global, args).await,
        Command::Broker(args) => broker::run(args).await,
        Command::Completions(args) => completions::run(args),
        Command::Apply(args) => apply::run(&cli.global, args).await,
        Command::Pause(args) => pause::pause(&cli.global, args).await,
        Command::Resume(args) => pause::resume(&cli.global, args).await,
        Command::Drain(args) => drain::run(&cli.global, args).await,
        Command::Status(args) => status::run(&cli.global, args).await,
        Command::Tui(args) => tui::run(&cli.global, args).await,
        Command::Redrive(args) => redrive::run(&cli.global, args).await,
        Command::SmokeTest(args) => smoke::run(&cli.global, args).await,
    }
}

/// Logs: the agent writes JSON to stdout, one event per line with its fields at the top level,
/// at info; the scriptable commands write text to stderr, warnings only. `RUST_LOG` overrides
/// the level. lapin's and kube's own error logs are off: their errors reach the user as
/// fleetctl's message. With a `--local` stack inside the command, the stack's own events go to
/// `stack_log` instead of stderr.
fn init_logging(json_stdout: bool, stack_log: Option<&std::path::Path>) {
    if let Some(path) = stack_log
        && !json_stdout
        && init_split_logging(path).is_ok()
    {
        return;
    }
    let default = if json_stdout {
        "info,lapin=off,amq_protocol=off,kube_client=off,kube_runtime=off"
    } else {
        "warn,lapin=off,amq_protocol=off,kube_client=off,kube_runtime=off"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = if json_stdout {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .with_env_filter(filter)
            .with_writer(crate::agent::output::Stdout)
            .try_init()
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .try_init()
    };
}

/// The command's own warnings to stderr; the in-process stack's (`sim`, `agent`, `broker`
/// modules) to `path`, at info.
fn init_split_logging(path: &std::path::Path) -> Result<(), LogError> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    const STACK: [&str; 3] = ["fleetctl::sim", "fleetctl::agent", "fleetctl::broker"];
    let file = open_log(path)?;
    let quiet = "lapin=off,amq_protocol=off,kube_client=off,kube_runtime=off";
    let stack_filter = tracing_subscriber::EnvFilter::new(format!(
        "off,{},{quiet}",
        STACK.map(|t| format!("{t}=info")).join(",")
    ));
    let own_filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "warn,{},{quiet}",
            STACK.map(|t| format!("{t}=off")).join(",")
        ))
    });
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_filter(own_filter),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .with_filter(stack_filter),
        )
        .try_init()
        .map_err(LogError::Init)
}

fn open_log(path: &std::path::Path) -> Result<std::fs::File, LogError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = crate::fsutil::create_dir_private(dir);
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(crate::fsutil::FILE_MODE)
        .open(path)
        .map_err(|source| LogError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// The console draws on the terminal, so its log goes to `--log-file` or nowhere.
fn init_file_logging(path: Option<&std::path::Path>) -> Result<(), LogError> {
    let Some(path) = path else { return Ok(()) };
    let file = open_log(path)?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,lapin=off,amq_protocol=off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Ok(())
}

/// A panic prints one line, not a backtrace, from whichever thread it happens on, and nothing
/// else: it never exits the process. A panic in a request, a controller or an in-process agent
/// fails that request or task (the sim answers 500, restarts the controller); one in the
/// command itself ends [`main`] with exit code 1, after destructors ran (so the process
/// runtime's agents are stopped). The console adds its own hook that restores the terminal
/// first.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("fleetctl: internal error: {what}{at}; please report it");
    }));
}
