//! `fleetctl seed`: publish N test tasks with publisher confirms and report exactly how many the
//! broker confirmed.

use std::io::{IsTerminal, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use super::{EXIT_FAILURE, EXIT_INTERRUPTED, Failure, Outcome};
use crate::cli::{GlobalArgs, OutputFormat, SeedArgs};
use crate::queue::amqp::{Broker, SeedEvent, SeedPlan, SeedReport, seed};
use crate::queue::task::{Template, templates_from_payload};
use crate::queue::topology::Topology;

/// Counts from which a progress bar is worth drawing.
const PROGRESS_FROM: u64 = 10_000;

pub async fn run(global: &GlobalArgs, args: SeedArgs) -> Outcome {
    let topology =
        Topology::new(&args.queue).map_err(|e| Failure::usage(format!("--queue: {e}")))?;
    let base = Template::new(&args.kind, args.steps, args.step_ms);
    let templates = match &args.payload {
        None => vec![base],
        Some(path) => load_payload(path, &base)?,
    };
    let plan = SeedPlan {
        topology,
        templates,
        count: args.count,
        window: args.window as usize,
    };

    let broker = Broker::connect(&global.amqp_url, "fleetctl-seed").await?;
    let bar = progress_bar(args.count);
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let on_event = |e: SeedEvent<'_>| match e {
        SeedEvent::Confirmed(n) => bar.set_position(n),
        SeedEvent::Blocked(reason) => bar.suspend(|| eprintln!("{}", blocked_line(reason))),
        SeedEvent::Unblocked => {
            bar.suspend(|| eprintln!("broker unblocked publishers; publishing again"))
        }
    };
    let result = seed(&broker, &plan, on_event, stop).await;
    bar.finish_and_clear();
    broker.close().await;
    let report = result?;
    print_report(&report, args.output);
    if report.ok() {
        return Ok(());
    }
    let missing = report.requested - report.confirmed;
    let why = match (&report.error, report.interrupted) {
        (Some(e), _) => e.clone(),
        (None, true) => match &report.blocked {
            Some(reason) => format!(
                "interrupted while the broker was blocking publishers (resource alarm: {reason})"
            ),
            None => "interrupted".to_string(),
        },
        (None, false) => format!("{} nacked by the broker", report.nacked),
    };
    Err(Failure {
        code: if report.interrupted {
            EXIT_INTERRUPTED
        } else {
            EXIT_FAILURE
        },
        message: format!(
            "only {} of {} tasks were confirmed into '{}' ({why}); the other {missing} may not be in the queue: seed them again with --count {missing}",
            report.confirmed, report.requested, report.queue
        ),
    })
}

/// What seed says while the broker blocks publishers (connection.blocked).
fn blocked_line(reason: &str) -> String {
    format!(
        "broker is blocking publishers (resource alarm: {reason}); waiting — Ctrl-C stops with a report of what was confirmed"
    )
}

/// Reads the payload document from a file or stdin and turns it into templates.
fn load_payload(path: &Path, base: &Template) -> Result<Vec<Template>, Failure> {
    let shown = path.display();
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read the payload from standard input: {e}"))?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            format!("cannot read payload file '{shown}': {e}; pass a readable JSON file, or - for standard input")
        })?
    };
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "payload '{shown}' is not valid JSON ({e}); give a JSON object or an array of objects"
        )
    })?;
    templates_from_payload(base, &doc).map_err(|e| Failure::from(format!("payload '{shown}': {e}")))
}

fn progress_bar(count: u64) -> ProgressBar {
    if count < PROGRESS_FROM || !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(count);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} confirmed  {per_sec}  eta {eta}")
            .expect("a valid progress template"),
    );
    bar
}

fn print_report(r: &SeedReport, format: OutputFormat) {
    match format {
        OutputFormat::Json => {
            println!(
                "{}",
                serde_json::to_string(r).expect("a report always serialises")
            )
        }
        OutputFormat::Text => println!(
            "seeded '{}' on {}: published {}, confirmed {} of {} in {:.2}s ({:.0} msgs/s){}{}",
            r.queue,
            r.broker,
            r.published,
            r.confirmed,
            r.requested,
            r.seconds,
            r.msgs_per_sec,
            if r.nacked > 0 {
                format!(", {} nacked", r.nacked)
            } else {
                String::new()
            },
            match &r.blocked {
                Some(reason) => format!(", broker blocking publishers (resource alarm: {reason})"),
                None => String::new(),
            }
        ),
    }
}
