//! `fleetctl pause FLEET` and `fleetctl resume FLEET`: the per-kind pause of DESIGN.md's table,
//! idempotent, saying what changed.

use super::Outcome;
use crate::cli::{FleetArgs, GlobalArgs};
use crate::cluster::actions::{self, Report};
use crate::cluster::client::{connect, reachable};

pub async fn pause(global: &GlobalArgs, args: FleetArgs) -> Outcome {
    run(global, args, true).await
}

pub async fn resume(global: &GlobalArgs, args: FleetArgs) -> Outcome {
    run(global, args, false).await
}

async fn run(global: &GlobalArgs, args: FleetArgs, pause: bool) -> Outcome {
    let (client, source) = connect(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    reachable(&client, &source).await?;
    let ns = &global.namespace;
    let fleet = actions::find_fleet(&client, ns, &args.fleet).await?;
    let report = if pause {
        actions::pause(&client, ns, &fleet).await?
    } else {
        actions::resume(&client, ns, &fleet).await?
    };
    print_report(&report);
    Ok(())
}

pub(super) fn print_report(report: &Report) {
    if let Some(w) = &report.warning {
        eprintln!("fleetctl: warning: {w}");
    }
    println!("{}", report.message);
}
