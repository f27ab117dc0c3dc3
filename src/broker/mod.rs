//! An embedded AMQP 0-9-1 broker for one machine: what fleetctl, its agents and the KEDA scaler
//! use, with RabbitMQ's behaviour for each, on amq-protocol's codec (the one lapin uses).
//!
//! Seams: [`frame`] (frame I/O, pure), [`connection`] (handshake and the per-connection state
//! machine), [`core`] (exchanges, queues, channels and what each method does; pure, with
//! [`queue`], [`exchange`] and [`message`]), [`store`] (the optional state directory with group
//! commit), [`mgmt`] (the read-only management API subset). Real fleets use RabbitMQ.

pub mod connection;
pub mod core;
pub mod error;
pub mod exchange;
pub mod frame;
pub mod message;
pub mod mgmt;
pub mod queue;
pub mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amq_protocol::protocol::basic;
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use self::core::{AmqpError, Core, Out};
pub use error::{BrokerError, StoreError};

use frame::ContentHeader;
use queue::{ChanKey, ConnId};
use store::{Batch, PendingConfirm, Store};

/// How the broker is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// The AMQP listener; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The management API listener, if any; port 0 picks a free port.
    pub http: Option<SocketAddr>,
    /// Where durable queues and persistent messages are kept; in memory only when None.
    pub state_dir: Option<PathBuf>,
    pub user: String,
    pub password: String,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5672)),
            http: Some(SocketAddr::from(([127, 0, 0, 1], 15672))),
            state_dir: None,
            user: "guest".into(),
            password: "guest".into(),
        }
    }
}

/// The state every connection shares: the core and the way to each connection's writer.
pub(crate) struct State {
    core: Core,
    senders: HashMap<ConnId, mpsc::UnboundedSender<Out>>,
    store: Option<Store>,
}

impl State {
    /// Sends what the core produced: frames to connections, changes to the store.
    fn flush(&mut self, confirm: Option<PendingConfirm>) {
        for (conn, out) in self.core.take_outbox() {
            if let Some(tx) = self.senders.get(&conn) {
                let _ = tx.send(out);
            }
        }
        let ops = self.core.take_store_ops();
        match &self.store {
            Some(store) if !ops.is_empty() || confirm.is_some() => {
                store.send(Batch { ops, confirm });
            }
            Some(_) => {}
            None => {
                if let Some(c) = confirm {
                    let _ = c.tx.send(Out::Confirm {
                        channel: c.channel,
                        tag: c.tag,
                        ack: true,
                    });
                }
            }
        }
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    user: String,
    password: String,
    next_conn: AtomicU64,
    connections: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as it was between two methods at
        // worst; keep serving rather than take every connection down.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn next_conn(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn register(&self, id: ConnId, tx: mpsc::UnboundedSender<Out>) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.lock().senders.insert(id, tx);
    }

    pub(crate) fn unregister(&self, id: ConnId) {
        if self.lock().senders.remove(&id).is_some() {
            self.connections.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Runs `f` on the core and sends what it produced.
    pub(crate) fn with_core<R>(&self, f: impl FnOnce(&mut Core) -> R) -> R {
        let mut st = self.lock();
        st.core.set_now(now_ms());
        let r = f(&mut st.core);
        st.flush(None);
        r
    }

    pub(crate) fn close_connection(&self, id: ConnId) {
        self.with_core(|core| core.close_connection(id));
    }

    /// Publishes, and sends the publisher confirm (through the store when there is one).
    pub(crate) fn publish(
        &self,
        key: ChanKey,
        p: &basic::Publish,
        header: ContentHeader,
        body: Bytes,
        tx: &mpsc::UnboundedSender<Out>,
    ) -> Result<(), AmqpError> {
        let mut st = self.lock();
        st.core.set_now(now_ms());
        let r = st.core.publish(key, p, header, body);
        let confirm = match &r {
            Ok(Some(tag)) => Some(PendingConfirm {
                tx: tx.clone(),
                channel: key.1,
                tag: *tag,
            }),
            _ => None,
        };
        st.flush(confirm);
        r.map(|_| ())
    }

    /// A read of the core for the management API.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Core) -> R) -> R {
        let mut st = self.lock();
        st.core.set_now(now_ms());
        st.core.expire_all();
        st.flush(None);
        f(&st.core)
    }

    pub(crate) fn connection_count(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// A running broker; [`Broker::shutdown`] stops it.
pub struct Broker {
    config: BrokerConfig,
    amqp: SocketAddr,
    http: Option<SocketAddr>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    live: Arc<()>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("amqp", &self.amqp)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

/// How long the accept loop waits after a failed accept: doubling from the first to the last.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));
/// At most one warning about failing accepts per this interval.
const ACCEPT_WARN_EVERY: Duration = Duration::from_secs(10);
/// How often expired messages are taken off the head of their queues.
const EXPIRY_TICK: Duration = Duration::from_millis(100);

impl Broker {
    /// Binds the listeners, reads the state directory and serves in background tasks.
    pub async fn start(config: BrokerConfig) -> Result<Broker, BrokerError> {
        let (mut core, store) = match &config.state_dir {
            Some(dir) => {
                let dir = dir.clone();
                let (store, recovered) = tokio::task::spawn_blocking(move || Store::open(&dir))
                    .await
                    .map_err(|e| BrokerError::Store(StoreError::Task(e)))??;
                let mut core = Core::new(true);
                core.set_now(now_ms());
                recovered.apply(&mut core);
                (core, Some(store))
            }
            None => (Core::new(false), None),
        };
        core.set_now(now_ms());
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| BrokerError::Bind {
                    what: "AMQP",
                    addr: config.listen,
                    source,
                })?;
        let amqp = listener.local_addr().map_err(|source| BrokerError::Bind {
            what: "AMQP",
            addr: config.listen,
            source,
        })?;
        let http_listener = match config.http {
            Some(addr) => {
                Some(
                    TcpListener::bind(addr)
                        .await
                        .map_err(|source| BrokerError::Bind {
                            what: "the management API",
                            addr,
                            source,
                        })?,
                )
            }
            None => None,
        };
        let http = http_listener.as_ref().and_then(|l| l.local_addr().ok());
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                core,
                senders: HashMap::new(),
                store,
            }),
            user: config.user.clone(),
            password: config.password.clone(),
            next_conn: AtomicU64::new(0),
            connections: AtomicU64::new(0),
        });
        let (stop, stop_rx) = watch::channel(false);
        let live = Arc::new(());
        let mut tasks = vec![tokio::spawn(accept_loop(
            listener,
            shared.clone(),
            stop_rx.clone(),
            live.clone(),
        ))];
        tasks.push(tokio::spawn(expiry_loop(shared.clone(), stop_rx.clone())));
        if let Some(l) = http_listener {
            tasks.push(tokio::spawn(mgmt::serve(
                l,
                shared.clone(),
                stop_rx.clone(),
            )));
        }
        Ok(Broker {
            config,
            amqp,
            http,
            shared,
            stop,
            tasks,
            live,
        })
    }

    pub fn amqp_addr(&self) -> SocketAddr {
        self.amqp
    }

    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http
    }

    /// `amqp://user:password@HOST:PORT/%2f` (mask it before printing).
    pub fn amqp_url(&self) -> String {
        format!(
            "amqp://{}:{}@{}/%2f",
            encode_userinfo(&self.config.user),
            encode_userinfo(&self.config.password),
            self.amqp
        )
    }

    /// The management API's base URL, `http://HOST:PORT`.
    pub fn http_url(&self) -> Option<String> {
        self.http.map(|a| format!("http://{a}"))
    }

    /// Open AMQP connections.
    pub fn connections(&self) -> u64 {
        self.shared.connection_count()
    }

    /// Stops the listeners, closes connections (320 CONNECTION_FORCED) and flushes the state
    /// directory.
    pub async fn shutdown(self) -> Result<(), BrokerError> {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        // Connections notice the stop and close; give them a moment.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while Arc::strong_count(&self.live) > 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let store = self.shared.lock().store.take();
        match store {
            Some(s) => tokio::task::spawn_blocking(move || s.close())
                .await
                .map_err(|e| BrokerError::Store(StoreError::Task(e)))?,
            None => Ok(()),
        }
    }
}

/// Percent-encodes a URL's user or password.
fn encode_userinfo(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The wait after another failed accept: double, up to the cap.
fn next_backoff(current: Duration) -> Duration {
    (current * 2).clamp(ACCEPT_BACKOFF.0, ACCEPT_BACKOFF.1)
}

/// Whether a failed accept should be logged now: the first one, then one per
/// [`ACCEPT_WARN_EVERY`] (the others are counted and reported with the next warning).
fn should_warn(last: Option<tokio::time::Instant>, now: tokio::time::Instant) -> bool {
    last.is_none_or(|t| now - t >= ACCEPT_WARN_EVERY)
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    live: Arc<()>,
) {
    let mut backoff = ACCEPT_BACKOFF.0;
    let mut last_warn: Option<tokio::time::Instant> = None;
    let mut suppressed = 0u64;
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    backoff = ACCEPT_BACKOFF.0;
                    let (shared, stop, live) = (shared.clone(), stop.clone(), live.clone());
                    tokio::spawn(async move {
                        connection::serve(stream, shared, stop).await;
                        drop(live);
                    });
                }
                Err(e) => {
                    // EMFILE and friends: wait instead of spinning, and say so now and then.
                    let now = tokio::time::Instant::now();
                    if should_warn(last_warn, now) {
                        warn!(error = %e, suppressed, backoff_ms = backoff.as_millis() as u64, "accept_failed");
                        last_warn = Some(now);
                        suppressed = 0;
                    } else {
                        suppressed += 1;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = next_backoff(backoff);
                }
            },
            _ = stop.changed() => return,
        }
    }
}

async fn expiry_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EXPIRY_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => shared.with_core(|core| core.expire_all()),
            _ = stop.changed() => return,
        }
    }
}

/// Logs the start line's facts (used by `fleetctl broker`).
pub fn log_started(b: &Broker) {
    info!(amqp = %b.amqp_addr(), http = ?b.http_addr(), "broker_started");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_accepts_back_off_from_10ms_to_1s_and_warn_rarely() {
        let mut d = ACCEPT_BACKOFF.0;
        let mut waits = vec![d];
        for _ in 0..10 {
            d = next_backoff(d);
            waits.push(d);
        }
        assert_eq!(waits[..4], [10, 20, 40, 80].map(Duration::from_millis));
        assert_eq!(*waits.last().unwrap(), Duration::from_secs(1));
        let t0 = tokio::time::Instant::now();
        assert!(should_warn(None, t0));
        assert!(!should_warn(Some(t0), t0 + Duration::from_secs(9)));
        assert!(should_warn(Some(t0), t0 + ACCEPT_WARN_EVERY));
    }

    #[test]
    fn the_url_carries_encoded_credentials() {
        assert_eq!(encode_userinfo("a b@c"), "a%20b%40c");
    }
}
