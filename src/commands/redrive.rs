//! `fleetctl redrive [--queue NAME] [--max N] [-o text|json]`: move dead-lettered tasks from
//! `<queue>.dlq` back to `<queue>` with fresh retries, and say how many moved and how many are
//! left. The moving itself is [`crate::queue::redrive`].

use super::{EXIT_INTERRUPTED, Failure, Outcome};
use crate::cli::{GlobalArgs, OutputFormat, RedriveArgs};
use crate::queue::amqp::Broker;
use crate::queue::redrive::{RedriveReport, redrive_until};
use crate::queue::topology::Topology;

pub async fn run(global: &GlobalArgs, args: RedriveArgs) -> Outcome {
    let topology =
        Topology::new(&args.queue).map_err(|e| Failure::usage(format!("--queue: {e}")))?;
    let broker = Broker::connect(&global.amqp_url, "fleetctl-redrive").await?;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let result = redrive_until(&broker, &topology.dlq, &topology.queue, args.max, stop).await;
    broker.close().await;
    let report = result?;
    print_report(&report, args.output);
    if report.interrupted {
        return Err(Failure {
            code: EXIT_INTERRUPTED,
            message: format!(
                "interrupted after moving {} message(s); {} left in '{}': run fleetctl redrive --queue {} again to move them",
                report.moved, report.left, report.from, report.to
            ),
        });
    }
    Ok(())
}

fn print_report(r: &RedriveReport, format: OutputFormat) {
    match format {
        OutputFormat::Json => match serde_json::to_string(r) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("fleetctl: cannot encode the report: {e}"),
        },
        OutputFormat::Text => println!(
            "moved {} from '{}' to '{}' on {}; {} left in '{}'",
            r.moved, r.from, r.to, r.broker, r.left, r.from
        ),
    }
}
