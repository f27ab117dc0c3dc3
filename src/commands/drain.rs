//! `fleetctl drain FLEET [--evict] [--timeout D]`: pause, then wait until nothing of the fleet
//! runs, printing what is left; with `--evict`, evict the rest through the Eviction API.

use std::time::Duration;

use super::Outcome;
use super::pause::print_report;
use crate::cli::{DrainArgs, GlobalArgs};
use crate::cluster::actions::{self, DrainEvent, DrainOptions};
use crate::cluster::client::{connect, reachable};
use crate::fleet::duration::human_duration;

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
    let mut on_event = |e: DrainEvent| match e {
        DrainEvent::Paused(report) => print_report(&report),
        DrainEvent::Left { pods, active_jobs } => {
            let mut line = format!("{who}: {} pods left", pods.len());
            if !pods.is_empty() {
                line.push_str(&format!(" ({})", pods.join(", ")));
            }
            if !active_jobs.is_empty() {
                line.push_str(&format!(
                    ", {} Jobs active ({})",
                    active_jobs.len(),
                    active_jobs.join(", ")
                ));
            }
            println!("{line}");
        }
        DrainEvent::Evicted { pod } => println!("{who}: evicted pod {pod}"),
        DrainEvent::Refused {
            pod,
            reason,
            retry_in,
            attempt: 1,
        } => println!(
            "{who}: eviction of pod {pod} refused: {reason}; retrying in {}",
            human_duration(retry_in)
        ),
        DrainEvent::Refused {
            pod,
            retry_in,
            attempt,
            ..
        } => println!(
            "{who}: eviction of pod {pod} refused again ({attempt} attempts); retrying in {}",
            human_duration(retry_in)
        ),
        DrainEvent::Drained => println!("{who} drained"),
    };
    actions::drain(&client, ns, &fleet, &opts, &mut on_event).await?;
    Ok(())
}
