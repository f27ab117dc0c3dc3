//! `fleetctl drain FLEET [--evict] [--timeout D]`: pause, then wait until nothing of the fleet
//! runs, printing what is left; with `--evict`, evict the rest through the Eviction API.

use std::time::Duration;

use super::pause::print_report;
use super::{EXIT_INTERRUPTED, Failure, Outcome};
use crate::cli::{DrainArgs, GlobalArgs};
use crate::cluster::actions::{self, DrainEvent, DrainOptions};
use crate::cluster::client::{connect, reachable};

pub async fn run(global: &GlobalArgs, args: DrainArgs) -> Outcome {
    let (client, source) = connect(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    reachable(&client, &source).await?;
    let ns = &global.namespace;
    let fleet = actions::find_fleet(&client, ns, &args.fleet).await?;
    let opts = DrainOptions {
        evict: args.evict,
        timeout: args.timeout,
        poll: Duration::from_millis(500),
    };
    let who = fleet.display();
    let mut on_event = |e: DrainEvent| match &e {
        DrainEvent::Paused(report) => print_report(report),
        other => println!("{}", other.line(&who)),
    };
    let interrupted = {
        let drain = actions::drain(&client, ns, &fleet, &opts, &mut on_event);
        tokio::select! {
            r = drain => {
                r?;
                false
            }
            _ = tokio::signal::ctrl_c() => true,
        }
    };
    if !interrupted {
        return Ok(());
    }
    // The drain is dropped mid-way: take its mark off, so that nothing reads the fleet as
    // still draining. The pause stays, as after a drain that timed out.
    let cleaned = match actions::end_drain(&client, ns, &fleet).await {
        Ok(()) => format!("removed {}", actions::DRAINING),
        Err(e) => format!(
            "could not remove {} ({e}); remove it with kubectl annotate {who} -n {ns} {}-",
            actions::DRAINING,
            actions::DRAINING
        ),
    };
    Err(Failure {
        code: EXIT_INTERRUPTED,
        message: format!(
            "drain of {who} interrupted: {cleaned}; {who} stays paused (fleetctl resume {} to undo)",
            fleet.name
        ),
    })
}
