//! `--local` for the commands that talk to a cluster: find or start the local stack, then point
//! the command's kubeconfig, broker URL and management API at it.

use std::path::PathBuf;

use super::Failure;
use crate::cli::{Command, GlobalArgs, LocalBroker, SimRuntime};
use crate::local::{self, BrokerChoice, LocalError, LocalOptions, LocalStack};
use crate::sim::controllers::RuntimeKind;

/// The stack for `command`'s `--local`, with `global` (and the console's management API)
/// pointed at it; None when the command was not given `--local`.
pub async fn open(
    global: &mut GlobalArgs,
    command: &mut Command,
) -> Result<Option<LocalStack>, Failure> {
    let Some(args) = command.local_args().filter(|a| a.local).cloned() else {
        return Ok(None);
    };
    let mut opts = options(global, args.state_dir.clone(), args.broker);
    if let Some(c) = opts.sim.controllers.as_mut() {
        c.runtime = runtime(args.runtime);
    }
    let stack = start(&opts).await?;
    point_at(global, &stack);
    if let Command::Tui(t) = command
        && t.mgmt.rabbitmq_api.is_none()
    {
        t.mgmt.rabbitmq_api = stack.mgmt_url().map(String::from);
    }
    Ok(Some(stack))
}

/// The stack's options from the common flags: state under `state_dir` (default: the user's
/// cache), RabbitMQ looked for at `--amqp-url`.
pub fn options(
    global: &GlobalArgs,
    state_dir: Option<PathBuf>,
    broker: LocalBroker,
) -> LocalOptions {
    let mut opts = LocalOptions::new(
        state_dir.unwrap_or_else(local::default_state_dir),
        global.amqp_url.clone(),
        global.namespace.clone(),
    );
    opts.broker = match broker {
        LocalBroker::Auto => BrokerChoice::Auto,
        LocalBroker::Embedded => BrokerChoice::Embedded,
        LocalBroker::Rabbitmq => BrokerChoice::RabbitMq,
    };
    opts
}

pub fn runtime(r: SimRuntime) -> RuntimeKind {
    match r {
        SimRuntime::Process => RuntimeKind::Process,
        SimRuntime::Inproc => RuntimeKind::Inproc,
    }
}

/// Starts (or finds) the stack, with each step on stderr.
pub async fn start(opts: &LocalOptions) -> Result<LocalStack, Failure> {
    let stack = local::open(opts, &mut |line| eprintln!("local: {line}"))
        .await
        .map_err(|e| match e {
            LocalError::StateDir { .. } | LocalError::Url { .. } => Failure::usage(e.to_string()),
            other => Failure::from(other),
        })?;
    eprintln!("local: {}", stack.describe());
    Ok(stack)
}

fn point_at(global: &mut GlobalArgs, stack: &LocalStack) {
    global.kubeconfig = Some(stack.kubeconfig().to_path_buf());
    global.context = None;
    global.amqp_url = stack.amqp_url().to_string();
    global.local = Some(stack.label());
}
