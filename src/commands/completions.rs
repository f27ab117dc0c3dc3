//! `fleetctl completions bash|zsh|fish`: shell completions on stdout.

use clap::CommandFactory;

use super::Outcome;
use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: CompletionsArgs) -> Outcome {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "fleetctl", &mut std::io::stdout());
    Ok(())
}
