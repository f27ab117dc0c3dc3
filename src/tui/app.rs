//! The console's loop and the sources that feed it (keys, ticks, the API ping, signals); the
//! watchers and the commands `update` returns are run by [`super::exec`]. With `exec` and
//! `terminal`, the only files of the console that touch the network or the terminal.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use kube::Client;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::exec::Executor;
use super::model::{Info, Model};
use super::msg::{LinkKind, Msg};
use super::terminal;
use super::update::update;
use super::view::view;
use crate::cluster::error::KubeFailure;
use crate::fleet::selector::Selector;
use crate::metrics::scrape::Scraper;
use crate::queue::mgmt::MgmtClient;

/// At most this many frames a second.
const FRAME: Duration = Duration::from_millis(33);
/// The loop's inbox; producers wait when it is full.
const INBOX: usize = 1024;
const TICK: Duration = Duration::from_secs(1);
const PING: Duration = Duration::from_secs(5);

/// What the console runs against.
pub struct Options {
    pub client: Client,
    pub info: Info,
    pub selector: Selector,
    pub amqp_url: String,
    pub scraper: Option<Arc<Scraper>>,
    /// RabbitMQ's management API.
    pub mgmt: MgmtClient,
    pub color: bool,
    /// How long a drain started from the console may take.
    pub drain_timeout: Duration,
}

/// Runs the console until the operator quits.
pub async fn run(opts: Options) -> Result<(), String> {
    let (tx, rx) = mpsc::channel::<Msg>(INBOX);
    let mut guard = terminal::enter().map_err(|e| {
        format!("cannot take over the terminal ({e}); run fleetctl tui in an interactive terminal, or use fleetctl status")
    })?;
    let _input = spawn_input(tx.clone());
    let _signals = spawn_signals(tx.clone());
    let result = drive(&mut guard.term, &opts, tx, rx, |_| {}).await;
    drop(guard);
    result
}

/// The loop itself, on any terminal backend: the sources start, messages are folded in bursts,
/// commands run, and a frame is drawn when something changed (at most every [`FRAME`]).
/// `on_frame` sees the model after each frame (benchmarks time the screen with it). Ends when
/// the model quits or every sender is gone.
pub async fn drive<B: Backend>(
    term: &mut Terminal<B>,
    opts: &Options,
    tx: mpsc::Sender<Msg>,
    mut rx: mpsc::Receiver<Msg>,
    mut on_frame: impl FnMut(&Model),
) -> Result<(), String> {
    let size = term
        .size()
        .map_err(|e| format!("cannot read the terminal size: {e}"))?;
    let mut model = Model::new(opts.info.clone(), Timestamp::now(), size.width, size.height);
    model.color = opts.color;
    model.fleet = crate::fleet::model::Model::with_selector(
        opts.info.namespace.clone(),
        opts.selector.clone(),
    );
    let _ticks = spawn_ticks(tx.clone());
    let _ping = spawn_ping(opts.client.clone(), tx.clone());
    let mut exec = Executor::new(opts, tx.clone());
    drop(tx);
    exec.watch(&opts.info.namespace);

    let mut last_draw: Option<Instant> = None;
    loop {
        let next_frame = last_draw.map_or_else(Instant::now, |t| t + FRAME);
        tokio::select! {
            first = rx.recv() => {
                let Some(first) = first else { break };
                let mut cmds = update(&mut model, first);
                // Drain the burst before drawing.
                for _ in 0..INBOX * 4 {
                    match rx.try_recv() {
                        Ok(msg) => cmds.extend(update(&mut model, msg)),
                        Err(_) => break,
                    }
                }
                for c in cmds {
                    exec.run(c);
                }
                if model.quit {
                    break;
                }
            }
            _ = tokio::time::sleep_until(next_frame), if model.dirty => {}
        }
        if model.dirty && last_draw.is_none_or(|t| t.elapsed() >= FRAME) {
            model.refresh();
            term.draw(|f| view(&model, f))
                .map_err(|e| format!("cannot draw: {e}"))?;
            model.dirty = false;
            last_draw = Some(Instant::now());
            on_frame(&model);
        }
    }
    exec.shutdown().await;
    Ok(())
}

fn spawn_input(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = crossterm::event::EventStream::new();
        while let Some(ev) = events.next().await {
            let msg = match ev {
                Ok(crossterm::event::Event::Key(k)) => Msg::Key(k),
                Ok(crossterm::event::Event::Resize(width, height)) => Msg::Resize { width, height },
                Ok(_) => continue,
                Err(_) => Msg::Terminate,
            };
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    })
}

fn spawn_ticks(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if tx.send(Msg::Tick(Timestamp::now())).await.is_err() {
                break;
            }
        }
    })
}

fn spawn_signals(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        let _ = tx.send(Msg::Terminate).await;
    })
}

/// Asks the API server for its version now and then: the header's API state.
fn spawn_ping(client: Client, tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let up = match tokio::time::timeout(Duration::from_secs(3), client.apiserver_version())
                .await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(KubeFailure::classify(&e).to_string()),
                Err(_) => Err("no answer within 3s".to_string()),
            };
            let msg = Msg::Link {
                kind: LinkKind::Api,
                up,
                at: Timestamp::now(),
            };
            if tx.send(msg).await.is_err() {
                break;
            }
            tokio::time::sleep(PING).await;
        }
    })
}
