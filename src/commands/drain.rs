//! `fleetctl drain FLEET [--evict] [--timeout D]`: pause, then wait until nothing of the fleet
//! runs, printing what is left; with `--evict`, evict the rest through the Eviction API.

use std::time::Duration;

use super::Outcome;
use super::pause::print_report;
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
    actions::drain(&client, ns, &fleet, &opts, &mut on_event).await?;
    Ok(())
}
