//! The RabbitMQ client: connect with errors an operator can act on, declare the topology,
//! read a queue's depth, and seed tasks with publisher confirms.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use serde::Serialize;
use uuid::Uuid;

use super::error::{QueueError, Stage, Target, classify};
use super::task::{CONTENT_TYPE, Template};
use super::topology::Topology;
use crate::redact::mask_url;

/// How long a connection attempt may take before the broker counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// AMQP delivery mode 2: the broker writes the message to disk (with a durable queue).
const PERSISTENT: u8 = 2;

/// An open connection to one broker, with the identity used in its error messages. The
/// connection is either its own (closed by [`Broker::close`]) or leased from a [`BrokerPool`]
/// (closing gives the lease back and leaves the connection to the others).
pub struct Broker {
    conn: Arc<Connection>,
    target: Target,
    lease: Option<Lease>,
}

/// One user of a pooled connection; counted down when dropped.
struct Lease(Arc<AtomicUsize>);

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A queue's depth as a passive declare reports it: ready messages only (unacked ones are not
/// counted, SPEC-k8s.md §6), and the number of consumers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    pub ready: u32,
    pub consumers: u32,
}

/// Parses `url` into what a connection needs, or says what is wrong with it (password masked).
pub fn parse_url(url: &str) -> Result<(AMQPUri, Target), QueueError> {
    let masked = mask_url(url);
    let uri: AMQPUri = url
        .parse()
        .map_err(|reason: String| QueueError::InvalidUrl {
            url: masked.clone(),
            reason: format!(
                "{}{}",
                crate::redact::scrub(&reason, url).replace(url, &masked),
                if crate::redact::url_password(url).is_some_and(|p| p.contains(['/', '?', '#', '@'])) {
                    " (a password holding '/', '?', '#' or '@' must be percent-encoded: %2F, %3F, %23, %40)"
                } else {
                    ""
                }
            ),
        })?;
    let target = Target {
        masked_url: masked,
        user: uri.authority.userinfo.username.clone(),
        vhost: uri.vhost.clone(),
        password: uri.authority.userinfo.password.clone(),
    };
    Ok((uri, target))
}

impl Broker {
    /// Connects to `url`, naming the connection `name` in the broker's management views.
    pub async fn connect(url: &str, name: &str) -> Result<Self, QueueError> {
        let (uri, target) = parse_url(url)?;
        Self::connect_uri(uri, target, name).await
    }

    async fn connect_uri(uri: AMQPUri, target: Target, name: &str) -> Result<Self, QueueError> {
        let props = ConnectionProperties::default().with_connection_name(name.into());
        let conn = match tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect_uri(uri, props))
            .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(classify(&e, &target, Stage::Connect)),
            Err(_) => {
                return Err(QueueError::Unreachable {
                    url: target.masked_url.clone(),
                    reason: format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
                });
            }
        };
        Ok(Self {
            conn: Arc::new(conn),
            target,
            lease: None,
        })
    }

    /// Whether the connection is shared with other users of a [`BrokerPool`].
    pub fn is_shared(&self) -> bool {
        self.lease.is_some()
    }

    /// The broker's URL with its password masked.
    pub fn masked_url(&self) -> &str {
        &self.target.masked_url
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub async fn channel(&self) -> Result<Channel, QueueError> {
        self.conn
            .create_channel()
            .await
            .map_err(|e| classify(&e, &self.target, Stage::Other("opening a channel")))
    }

    /// Declares the task queue and then its DLQ (a refused task queue leaves no stray DLQ), durable, with the arguments of [`Topology`].
    /// Idempotent: declaring an existing queue with the same arguments changes nothing.
    pub async fn declare(&self, channel: &Channel, topo: &Topology) -> Result<(), QueueError> {
        let durable = QueueDeclareOptions::durable();
        channel
            .queue_declare(topo.queue.as_str().into(), durable, topo.queue_table())
            .await
            .map_err(|e| classify(&e, &self.target, Stage::Declare(&topo.queue)))?;
        channel
            .queue_declare(topo.dlq.as_str().into(), durable, topo.dlq_table())
            .await
            .map_err(|e| classify(&e, &self.target, Stage::Declare(&topo.dlq)))?;
        Ok(())
    }

    /// The depth of `queue` by passive declare, on a channel of its own (a missing queue closes
    /// the channel it was asked on).
    pub async fn depth(&self, queue: &str) -> Result<QueueDepth, QueueError> {
        let channel = self.channel().await?;
        let opts = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let q = channel
            .queue_declare(queue.into(), opts, FieldTable::default())
            .await
            .map_err(|e| classify(&e, &self.target, Stage::Passive(queue)))?;
        let _ = channel.close(200, "done".into()).await;
        Ok(QueueDepth {
            ready: q.message_count(),
            consumers: q.consumer_count(),
        })
    }

    /// Deletes `queue` and the messages in it, on a channel of its own; a queue that is
    /// already gone is no error. Returns the messages it held.
    pub async fn delete_queue(&self, queue: &str) -> Result<u32, QueueError> {
        let channel = self.channel().await?;
        let result = channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
        let _ = channel.close(200, "done".into()).await;
        match result {
            Ok(n) => Ok(n),
            Err(e) => match classify(&e, &self.target, Stage::Passive(queue)) {
                QueueError::QueueNotFound { .. } => Ok(0),
                other => Err(other),
            },
        }
    }

    /// Whether the connection is open (not closed by either side, not lost).
    pub fn is_connected(&self) -> bool {
        self.conn.status().connected()
    }

    /// Whether the broker blocks this connection (connection.blocked, a resource alarm): it
    /// reads nothing from it, and lapin sends nothing until it is unblocked.
    pub fn is_blocked(&self) -> bool {
        self.conn.status().blocked()
    }

    /// Closes the connection politely; errors on the way out change nothing, and a broker that
    /// no longer answers gets 5 seconds. A connection the broker blocks is dropped instead:
    /// nothing could be sent on it, the close included. A pooled connection stays open for its other users:
    /// only the lease is given back.
    pub async fn close(self) {
        if self.lease.is_some() || self.is_blocked() {
            return;
        }
        let _ =
            tokio::time::timeout(Duration::from_secs(5), self.conn.close(200, "bye".into())).await;
    }
}

/// Users a pooled connection takes before the pool opens another one: well under RabbitMQ's
/// default `channel_max` of 2047, since each user holds a channel.
/// lapin looks at every channel of a connection for each frame it sends, so that a connection
/// with many more users spends its I/O thread on bookkeeping.
pub const POOL_USERS_PER_CONNECTION: usize = 250;

/// The largest frame a pooled connection asks for (unless the URL asks for less). lapin keeps
/// 32 frames of buffer each way per connection: 512 KiB at this size instead of 8 MiB at
/// RabbitMQ's 128 KiB (tasks are a few hundred bytes; larger messages are split into more
/// frames).
pub const POOL_FRAME_MAX: u32 = 8 * 1024;

/// After a failed connection attempt, callers within this window get the same error without a
/// new attempt, so that thousands of users of a down broker do not each dial it.
const POOL_FAILURE_MEMO: Duration = Duration::from_millis(200);

/// Connections shared by many users of the same broker URL (the sim's in-process agents): a
/// channel each instead of a connection, its I/O thread and its buffers each. A connection
/// that is no longer connected is replaced by the next [`BrokerPool::get`].
pub struct BrokerPool {
    name: String,
    per_connection: usize,
    urls: tokio::sync::Mutex<HashMap<String, PoolEntry>>,
}

impl std::fmt::Debug for BrokerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerPool")
            .field("name", &self.name)
            .field("per_connection", &self.per_connection)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct PoolEntry {
    conns: Vec<(Arc<Connection>, Target, Arc<AtomicUsize>)>,
    failed: Option<(Instant, MaskedFailure)>,
    /// Connection attempts to this URL that have ended.
    dialled: u64,
    /// Held while a connection to this URL is being opened: one attempt at a time per URL,
    /// and never the pool's lock, so other URLs and pooled users do not wait for it.
    dial: Arc<tokio::sync::Mutex<()>>,
}

impl PoolEntry {
    /// A lease on a pooled connection with room, if one has.
    fn lease(&mut self, per_connection: usize) -> Option<Broker> {
        self.conns.retain(|(c, _, _)| c.status().connected());
        let users: Vec<usize> = self
            .conns
            .iter()
            .map(|(_, _, n)| n.load(Ordering::Relaxed))
            .collect();
        let (conn, target, n) = &self.conns[pick_slot(&users, per_connection)?];
        n.fetch_add(1, Ordering::Relaxed);
        Some(Broker {
            conn: conn.clone(),
            target: target.clone(),
            lease: Some(Lease(n.clone())),
        })
    }

    /// The last attempt's failure, when it is recent or ended after `since` attempts (the
    /// caller waited for it).
    fn failure(&self, since: Option<u64>) -> Option<QueueError> {
        let (at, f) = self.failed.as_ref()?;
        let waited_for_it = since.is_some_and(|n| self.dialled > n);
        (waited_for_it || at.elapsed() < POOL_FAILURE_MEMO).then(|| QueueError::Unreachable {
            url: f.url.clone(),
            reason: f.reason.clone(),
        })
    }
}

#[derive(Clone)]
struct MaskedFailure {
    url: String,
    reason: String,
}

/// Which pooled connection takes the next user: the first with room, if any.
fn pick_slot(users: &[usize], per_connection: usize) -> Option<usize> {
    users.iter().position(|&n| n < per_connection)
}

impl BrokerPool {
    /// A pool whose connections are named `name` in the broker's management views.
    pub fn new(name: &str) -> Self {
        Self::with_capacity(name, POOL_USERS_PER_CONNECTION)
    }

    /// As [`BrokerPool::new`], with at most `per_connection` users on one connection.
    pub fn with_capacity(name: &str, per_connection: usize) -> Self {
        Self {
            name: name.to_string(),
            per_connection: per_connection.max(1),
            urls: tokio::sync::Mutex::default(),
        }
    }

    /// A connection to `url`: a pooled one with room, else a new one. Errors are those of
    /// [`Broker::connect`]. A connection is opened outside the pool's lock, one attempt at a
    /// time per URL; users that waited for an attempt share its connection or its failure.
    pub async fn get(&self, url: &str) -> Result<Broker, QueueError> {
        let (dial, dialled) = {
            let mut urls = self.urls.lock().await;
            let entry = urls.entry(url.to_string()).or_default();
            if let Some(b) = entry.lease(self.per_connection) {
                return Ok(b);
            }
            if let Some(e) = entry.failure(None) {
                return Err(e);
            }
            (entry.dial.clone(), entry.dialled)
        };
        let _dialling = dial.lock().await;
        {
            let mut urls = self.urls.lock().await;
            let entry = urls.entry(url.to_string()).or_default();
            if let Some(b) = entry.lease(self.per_connection) {
                return Ok(b);
            }
            if let Some(e) = entry.failure(Some(dialled)) {
                return Err(e);
            }
        }
        let (mut uri, target) = parse_url(url)?;
        let frame_max = uri
            .query
            .frame_max
            .filter(|f| *f != 0)
            .unwrap_or(POOL_FRAME_MAX);
        uri.query.frame_max = Some(frame_max.min(POOL_FRAME_MAX));
        let connected = Broker::connect_uri(uri, target, &self.name).await;
        let mut urls = self.urls.lock().await;
        let entry = urls.entry(url.to_string()).or_default();
        entry.dialled += 1;
        match connected {
            Ok(b) => {
                entry.failed = None;
                let n = Arc::new(AtomicUsize::new(1));
                entry
                    .conns
                    .push((b.conn.clone(), b.target.clone(), n.clone()));
                Ok(Broker {
                    lease: Some(Lease(n)),
                    ..b
                })
            }
            Err(QueueError::Unreachable { url, reason }) => {
                let f = MaskedFailure { url, reason };
                entry.failed = Some((Instant::now(), f.clone()));
                Err(QueueError::Unreachable {
                    url: f.url,
                    reason: f.reason,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Open connections and their users, over every URL.
    pub async fn connections(&self) -> Vec<usize> {
        let urls = self.urls.lock().await;
        urls.values()
            .flat_map(|e| e.conns.iter())
            .filter(|(c, _, _)| c.status().connected())
            .map(|(_, _, n)| n.load(Ordering::Relaxed))
            .collect()
    }

    /// Closes every pooled connection (their users' channels go with them).
    pub async fn close_all(&self) {
        let conns: Vec<Arc<Connection>> = {
            let mut urls = self.urls.lock().await;
            urls.drain()
                .flat_map(|(_, e)| e.conns.into_iter().map(|(c, _, _)| c))
                .collect()
        };
        for c in conns {
            let _ = tokio::time::timeout(Duration::from_secs(5), c.close(200, "bye".into())).await;
        }
    }
}

/// How one publish ended.
enum Published {
    Acked,
    Nacked,
    /// Sent, but the confirm never came (the channel or connection closed).
    Unconfirmed(lapin::Error),
    /// Not sent at all.
    NotSent(lapin::Error),
}

/// Publishes one message and awaits its confirm, counting it in `sent` once lapin has written
/// it to the socket.
async fn publish_one(
    channel: Channel,
    routing_key: ShortString,
    body: Vec<u8>,
    props: BasicProperties,
    sent: &AtomicU64,
) -> Published {
    let confirm = match channel
        .basic_publish(
            "".into(),
            routing_key,
            BasicPublishOptions::default(),
            &body,
            props,
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return Published::NotSent(e),
    };
    sent.fetch_add(1, Ordering::Relaxed);
    match confirm.await {
        Ok(c) if c.is_ack() => Published::Acked,
        Ok(_) => Published::Nacked,
        Err(e) => Published::Unconfirmed(e),
    }
}

/// Publishes to `queue` with `mandatory` set and succeeds only once the broker has confirmed
/// the message as routed: what a consumer needs before it acks the delivery the message
/// replaces. A publish to a queue that does not exist is confirmed too, after the broker
/// returned it (basic.return): that is [`PublishError::Unroutable`], never a success.
pub async fn publish_durably(
    channel: &Channel,
    queue: &str,
    body: &[u8],
    props: BasicProperties,
) -> Result<(), PublishError> {
    let confirm = match channel
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions {
                mandatory: true,
                immediate: false,
            },
            body,
            props,
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return Err(PublishError::Failed(queue.to_string(), e.to_string())),
    };
    match confirm.await {
        Ok(Confirmation::Ack(None)) => Ok(()),
        Ok(Confirmation::Ack(Some(_)) | Confirmation::Nack(Some(_))) => {
            Err(PublishError::Unroutable(queue.to_string()))
        }
        Ok(Confirmation::Nack(None)) => Err(PublishError::Nacked(queue.to_string())),
        Ok(Confirmation::NotRequested) => Err(PublishError::Failed(
            queue.to_string(),
            "the channel is not in confirm mode".into(),
        )),
        Err(e) => Err(PublishError::Failed(queue.to_string(), e.to_string())),
    }
}

/// Why a durable publish did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("the broker nacked the publish to '{0}'")]
    Nacked(String),
    #[error("the broker returned the publish to '{0}' as unroutable: does that queue exist?")]
    Unroutable(String),
    #[error("publishing to '{0}' failed: {1}")]
    Failed(String, String),
}

/// What a seeding is asked to do.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub topology: Topology,
    /// Used in turn: task n takes template n mod len.
    pub templates: Vec<Template>,
    pub count: u64,
    /// Publishes awaiting a confirm at once.
    pub window: usize,
}

/// What a seeding did. `confirmed` messages are safely in the queue; the rest may not be.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedReport {
    pub queue: String,
    pub broker: String,
    pub requested: u64,
    /// Messages written to the broker (confirmed or not).
    pub published: u64,
    pub confirmed: u64,
    pub nacked: u64,
    pub seconds: f64,
    pub msgs_per_sec: f64,
    pub interrupted: bool,
    /// The broker's reason when it was blocking publishers (a resource alarm) as the seeding
    /// ended, e.g. "low on memory".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SeedReport {
    pub fn ok(&self) -> bool {
        self.confirmed == self.requested && self.error.is_none() && !self.interrupted
    }
}

/// What [`seed`] tells its caller while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedEvent<'a> {
    /// The running count of confirms.
    Confirmed(u64),
    /// The broker blocks publishers (connection.blocked: a memory or disk alarm) and no longer
    /// reads what this connection sends; with the broker's reason, e.g. "low on memory".
    Blocked(&'a str),
    /// The broker reads publishes again (connection.unblocked).
    Unblocked,
}

/// How long confirms still in flight are awaited once a seeding is told to stop.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// While the broker blocks publishers, how long after the last confirm a stopped seeding
/// waits for more: the broker confirms what it already read at once, and reads nothing else.
const BLOCKED_STOP_QUIET: Duration = Duration::from_secs(2);

/// Publishes `plan.count` tasks with publisher confirms, keeping up to `plan.window` in flight.
/// Declares the topology first (an error there is returned before anything is published).
/// `on_event` hears the running count of confirms and the broker blocking and unblocking
/// publishers. Once `stop` resolves no more messages are published and the ones in flight are
/// awaited for up to [`STOP_GRACE`] (less while the broker blocks publishers), so the report
/// says exactly how many were confirmed.
pub async fn seed(
    broker: &Broker,
    plan: &SeedPlan,
    mut on_event: impl FnMut(SeedEvent<'_>),
    stop: impl Future<Output = ()>,
) -> Result<SeedReport, QueueError> {
    assert!(
        !plan.templates.is_empty(),
        "a seed plan has at least one template"
    );
    // Listening before anything is published: lapin reports connection.blocked only to
    // listeners that exist when it arrives.
    let mut events = broker.conn.events_listener();
    let channel = broker.channel().await?;
    broker.declare(&channel, &plan.topology).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| {
            classify(
                &e,
                broker.target(),
                Stage::Other("enabling publisher confirms"),
            )
        })?;

    let routing_key: ShortString = plan.topology.queue.as_str().into();
    let started = Instant::now();
    let now = jiff::Timestamp::now();
    let sent = AtomicU64::new(0);
    // Each in-flight entry publishes one message and then awaits its confirm. Keeping many of
    // them in flight lets lapin's I/O loop write frames in batches instead of one hand-off per
    // message, and overlaps the broker's confirms with further publishing.
    let mut in_flight = FuturesUnordered::new();
    let (mut confirmed, mut nacked) = (0u64, 0u64);
    let mut error = None;
    let mut blocked: Option<String> = None;
    // When the stop came, and when the last confirm came after it.
    let mut stopped_at: Option<Instant> = None;
    let mut last_confirm = Instant::now();
    tokio::pin!(stop);

    let mut next = 1u64;
    loop {
        while stopped_at.is_none()
            && error.is_none()
            && next <= plan.count
            && in_flight.len() < plan.window
        {
            // A stop request ends publishing; what is in flight is still awaited below.
            if futures::poll!(&mut stop).is_ready() {
                stopped_at = Some(Instant::now());
                break;
            }
            let template = &plan.templates[((next - 1) % plan.templates.len() as u64) as usize];
            let task = template.task(Uuid::new_v4(), next, now);
            let body = serde_json::to_vec(&task).expect("a task always serialises");
            let props = BasicProperties::default()
                .with_message_id(task.id.to_string().into())
                .with_content_type(CONTENT_TYPE.into())
                .with_delivery_mode(PERSISTENT)
                .with_timestamp(now.as_second().max(0) as u64)
                .with_type(task.kind.as_str().into());
            in_flight.push(publish_one(
                channel.clone(),
                routing_key.clone(),
                body,
                props,
                &sent,
            ));
            next += 1;
        }
        if in_flight.is_empty() {
            break;
        }
        // After a stop, confirms are awaited for a bounded time: a broker that blocks
        // publishers reads nothing more, so what it has not confirmed soon never will be.
        let give_up = stopped_at.map(|at| {
            let grace = at + STOP_GRACE;
            if blocked.is_some() {
                grace.min(last_confirm.max(at) + BLOCKED_STOP_QUIET)
            } else {
                grace
            }
        });
        tokio::select! {
            biased;
            _ = &mut stop, if stopped_at.is_none() => stopped_at = Some(Instant::now()),
            Some(event) = events.next() => match event {
                lapin::Event::ConnectionBlocked(reason) => {
                    let reason = broker.target().scrub(&reason);
                    on_event(SeedEvent::Blocked(&reason));
                    blocked = Some(reason);
                }
                lapin::Event::ConnectionUnblocked => {
                    blocked = None;
                    on_event(SeedEvent::Unblocked);
                }
                _ => {}
            },
            Some(r) = in_flight.next() => {
                match r {
                    Published::Acked => confirmed += 1,
                    Published::Nacked => nacked += 1,
                    Published::Unconfirmed(e) | Published::NotSent(e) => {
                        error.get_or_insert_with(|| broker.target().scrub(&e.to_string()));
                    }
                }
                last_confirm = Instant::now();
                on_event(SeedEvent::Confirmed(confirmed));
            }
            // Built lazily: no timer for every confirm of a seeding that was not stopped.
            _ = async {
                match give_up {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            } => break,
        }
    }
    drop(in_flight);
    let seconds = started.elapsed().as_secs_f64();
    close_channel(broker, &channel).await;
    Ok(SeedReport {
        queue: plan.topology.queue.clone(),
        broker: broker.masked_url().to_string(),
        requested: plan.count,
        published: sent.load(Ordering::Relaxed),
        confirmed,
        nacked,
        seconds,
        msgs_per_sec: if seconds > 0.0 {
            confirmed as f64 / seconds
        } else {
            0.0
        },
        interrupted: stopped_at.is_some(),
        blocked,
        error,
    })
}

/// Closes `channel` politely unless the broker blocks the connection: lapin then writes
/// nothing, so the close could never be sent (dropping the connection closes the channel).
async fn close_channel(broker: &Broker, channel: &Channel) {
    if broker.is_blocked() {
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), channel.close(200, "done".into())).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_connection_with_room_takes_the_user() {
        assert_eq!(pick_slot(&[], 2), None);
        assert_eq!(pick_slot(&[2, 1], 2), Some(1));
        assert_eq!(pick_slot(&[0, 1], 2), Some(0));
        assert_eq!(pick_slot(&[2, 2], 2), None);
    }

    #[tokio::test]
    async fn an_unreachable_broker_is_dialled_once_per_window() {
        // Nothing listens on port 1: connection refused at once.
        let pool = BrokerPool::new("test");
        let url = "amqp://guest:secret@127.0.0.1:1/%2f";
        let first = pool.get(url).await.err().expect("port 1 refuses");
        let second = pool.get(url).await.err().expect("still down");
        assert!(matches!(first, QueueError::Unreachable { .. }), "{first}");
        assert_eq!(first.to_string(), second.to_string());
        assert!(!first.to_string().contains("secret"), "{first}");
        assert!(pool.connections().await.is_empty());
    }

    /// A listener that accepts and never answers (an AMQP connect to it hangs until
    /// [`CONNECT_TIMEOUT`]), and how many connections it accepted.
    async fn silent_broker() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(s);
            }
        });
        (format!("amqp://guest:guest@{addr}/%2f"), accepted, task)
    }

    #[tokio::test]
    async fn a_slow_connect_does_not_hold_up_other_urls_and_its_waiters_share_its_end() {
        let pool = Arc::new(BrokerPool::new("test"));
        let (slow, accepted, listener) = silent_broker().await;
        let first = tokio::spawn({
            let (pool, slow) = (pool.clone(), slow.clone());
            async move { pool.get(&slow).await.err() }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Another URL is answered while the first connect hangs.
        let other = tokio::time::timeout(
            Duration::from_secs(3),
            pool.get("amqp://guest:guest@127.0.0.1:1/%2f"),
        )
        .await
        .expect("a connect to another URL waited for the slow one");
        assert!(matches!(other, Err(QueueError::Unreachable { .. })));
        assert!(
            tokio::time::timeout(Duration::from_secs(1), pool.connections())
                .await
                .expect("the pool's view waited for the slow connect")
                .is_empty()
        );
        // A second user of the slow URL waits for that attempt and gets its failure, without
        // dialling again.
        let second = pool
            .get(&slow)
            .await
            .err()
            .expect("the silent broker never answers");
        let first = first
            .await
            .unwrap()
            .expect("the silent broker never answers");
        assert_eq!(first.to_string(), second.to_string());
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "the second user dialled again after the attempt it waited for failed"
        );
        listener.abort();
    }
}
