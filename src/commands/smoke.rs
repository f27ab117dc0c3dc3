//! `fleetctl smoke-test`: runs [`crate::smoke`] against the current context and prints its
//! checklist as it goes (a spinner on the step in progress when stdout is a terminal), or one
//! JSON object with `-o json`. Exit 0 only when every step passed.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{Failure, Outcome};
use crate::cli::{GlobalArgs, OutputFormat, SmokeTestArgs};
use crate::cluster::client::connect;
use crate::queue::topology::Topology;
use crate::smoke::report::{Report, StepName};
use crate::smoke::{self, Event, Options};

pub async fn run(global: &GlobalArgs, args: SmokeTestArgs) -> Outcome {
    if let Some(q) = &args.queue {
        Topology::new(q).map_err(|e| Failure::usage(format!("--queue: {e}")))?;
    }
    crate::queue::amqp::parse_url(&global.amqp_url).map_err(|e| Failure::usage(e.to_string()))?;
    // Ctrl-C stops the run but not its clean-up; a second Ctrl-C leaves at once.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let interrupted = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(super::EXIT_INTERRUPTED));
            }
        }
    });
    let opts = Options {
        stop: Some(stop),
        namespace: global.namespace.clone(),
        amqp_url: global.amqp_url.clone(),
        count: args.count,
        timeout: args.timeout,
        keep: args.keep,
        queue: args.queue.clone(),
        poll: args.poll,
        disruption: args.disruption,
    };
    let text = args.output == OutputFormat::Text;
    let spinner = if text && std::io::stdout().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .expect("a valid spinner template"),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        Some(bar)
    } else {
        None
    };
    let mut current = StepName::Preflight;
    let mut progress = |e: Event<'_>| {
        if !text {
            return;
        }
        match e {
            Event::Started(step) => {
                current = step;
                if let Some(b) = &spinner {
                    b.reset_elapsed();
                    b.set_message(format!("{:<10} {}", step.as_str(), step.title()));
                }
            }
            Event::Waiting(what) => {
                if let Some(b) = &spinner {
                    b.set_message(format!("{:<10} {what}", current.as_str()));
                }
            }
            Event::Done(step) => match &spinner {
                Some(b) => b.println(step.line()),
                None => println!("{}", step.line()),
            },
        }
    };
    let report = match connect(global.kubeconfig.as_deref(), global.context.as_deref()).await {
        Ok((client, source)) => smoke::run(client, source.server, &opts, &mut progress).await,
        Err(message) => {
            let r = smoke::not_connected(&opts, message.to_string());
            if let Some(s) = r.steps.first() {
                progress(Event::Done(s));
            }
            r
        }
    };
    if let Some(b) = &spinner {
        b.finish_and_clear();
    }
    print(&report, args.output);
    if report.passed() {
        return Ok(());
    }
    let step = report.failed_step.map_or("?", StepName::as_str);
    if *interrupted.borrow() {
        return Err(Failure {
            code: super::EXIT_INTERRUPTED,
            message: format!("smoke test interrupted at step {step}; its clean-up ran"),
        });
    }
    Err(Failure::from(match args.output {
        OutputFormat::Text => format!("smoke test failed at step {step} (see above)"),
        OutputFormat::Json => format!(
            "smoke test failed at step {step}: {}",
            report.reason.as_deref().unwrap_or("")
        ),
    }))
}

fn print(report: &Report, format: OutputFormat) {
    match format {
        OutputFormat::Text => println!("{}", report.summary()),
        OutputFormat::Json => match serde_json::to_string(report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("fleetctl: cannot encode the report: {e}"),
        },
    }
}
