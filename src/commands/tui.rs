//! `fleetctl tui`: checks what it needs (a terminal, a kubeconfig, an API server that answers),
//! then hands over to the console loop in `tui::app`.

use std::io::IsTerminal;

use super::{Failure, Outcome};
use crate::cli::{GlobalArgs, TuiArgs};
use crate::cluster::client::{connect, kubeconfig_path, reachable};
use crate::cluster::watch;
use crate::redact::mask_url;
use crate::tui::app::{self, Options};
use crate::tui::model::Info;

pub async fn run(global: &GlobalArgs, args: TuiArgs) -> Outcome {
    let selector = watch::parse_selector(&args.fleets.selector).map_err(Failure::usage)?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "fleetctl tui needs an interactive terminal; for scripts use fleetctl status (-o json)",
        ));
    }
    let (client, source) = connect(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    reachable(&client, &source).await?;
    let context = global
        .context
        .clone()
        .or_else(|| current_context(global))
        .unwrap_or_else(|| "in-cluster".into());
    let scraper = args
        .scrape
        .scrape_settings()
        .scraper(Some(client.clone()))
        .map_err(|e| e.to_string())?;
    let mgmt = args
        .mgmt
        .client(&global.amqp_url)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let info = Info {
        context,
        server: source.server.trim_end_matches('/').to_string(),
        namespace: global.namespace.clone(),
        selector: args.fleets.selector.clone(),
        local: global.local.clone(),
        broker: mask_url(&global.amqp_url),
        scrape: scraper.is_some(),
    };
    let opts = Options {
        client,
        info,
        selector,
        amqp_url: global.amqp_url.clone(),
        scraper,
        mgmt,
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        drain_timeout: args.drain_timeout,
    };
    app::run(opts).await.map_err(Failure::from)
}

/// The kubeconfig's current context, for the header.
fn current_context(global: &GlobalArgs) -> Option<String> {
    let path = kubeconfig_path(global.kubeconfig.as_deref())?;
    kube::config::Kubeconfig::read_from(path)
        .ok()?
        .current_context
}
