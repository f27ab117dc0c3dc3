//! `fleetctl broker`: run the embedded AMQP broker in the foreground until SIGINT or SIGTERM.

use tokio::signal::unix::{SignalKind, signal};

use super::{Failure, Outcome};
use crate::broker::{Broker, BrokerConfig};
use crate::cli::BrokerArgs;
use crate::redact::mask_url;

pub async fn run(args: BrokerArgs) -> Outcome {
    if args.user.is_empty() {
        return Err(Failure::usage(
            "--user is empty; pass the user clients log in as",
        ));
    }
    let config = BrokerConfig {
        listen: args.listen,
        http: (!args.no_http).then_some(args.http),
        state_dir: args.state_dir.clone(),
        user: args.user.clone(),
        password: args.password.clone(),
    };
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let broker = Broker::start(config)
        .await
        .map_err(|e| Failure::usage(e.to_string()))?;
    let state = match &args.state_dir {
        Some(d) => format!("state-dir={}", d.display()),
        None => "in memory".to_string(),
    };
    println!(
        "broker ready: amqp={} url={} http={} ({state})",
        broker.amqp_addr(),
        mask_url(&broker.amqp_url()),
        broker.http_url().unwrap_or_else(|| "off".into()),
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    broker
        .shutdown()
        .await
        .map_err(|e| Failure::from(e.to_string()))?;
    Ok(())
}
