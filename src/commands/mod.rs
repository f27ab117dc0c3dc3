//! One file per subcommand; this file parses, sets up logging, runs the command and turns the
//! outcome into an exit code.

pub mod agent;
pub mod apply;
pub mod completions;
pub mod drain;
pub mod pause;
pub mod redrive;
pub mod seed;
pub mod sim;
pub mod smoke;
pub mod status;
pub mod tui;

use std::process::ExitCode;

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
    match &cli.command {
        Command::Tui(args) => {
            if let Err(e) = init_file_logging(args.log_file.as_deref()) {
                eprintln!("fleetctl: error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
        other => init_logging(matches!(other, Command::Agent(_) | Command::Sim(_))),
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

async fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Seed(args) => seed::run(&cli.global, args).await,
        Command::Agent(args) => agent::run(&cli.global, args).await,
        Command::Sim(args) => sim::run(args).await,
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
/// fleetctl's message.
fn init_logging(json_stdout: bool) {
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

/// The console draws on the terminal, so its log goes to `--log-file` or nowhere.
fn init_file_logging(path: Option<&std::path::Path>) -> Result<(), String> {
    let Some(path) = path else { return Ok(()) };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("--log-file '{}': {e}; give a writable path", path.display()))?;
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
