//! The RabbitMQ client: connect with errors an operator can act on, declare the topology,
//! read a queue's depth, and seed tasks with publisher confirms.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
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

/// An open connection to one broker, with the identity used in its error messages.
pub struct Broker {
    conn: Connection,
    target: Target,
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
            reason: crate::redact::scrub(&reason, url).replace(url, &masked),
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
        Ok(Self { conn, target })
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

    /// Closes the connection politely; errors on the way out change nothing, and a broker that
    /// no longer answers gets 5 seconds.
    pub async fn close(self) {
        let _ =
            tokio::time::timeout(Duration::from_secs(5), self.conn.close(200, "bye".into())).await;
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

async fn publish_one(
    channel: Channel,
    routing_key: ShortString,
    body: Vec<u8>,
    props: BasicProperties,
) -> Published {
    publish_confirmed(&channel, routing_key, &body, props).await
}

/// Publishes one message through the default exchange to queue `routing_key` and waits for the
/// broker's confirm. The channel must be in confirm mode.
async fn publish_confirmed(
    channel: &Channel,
    routing_key: ShortString,
    body: &[u8],
    props: BasicProperties,
) -> Published {
    let confirm = match channel
        .basic_publish(
            "".into(),
            routing_key,
            BasicPublishOptions::default(),
            body,
            props,
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return Published::NotSent(e),
    };
    match confirm.await {
        Ok(c) if c.is_ack() => Published::Acked,
        Ok(_) => Published::Nacked,
        Err(e) => Published::Unconfirmed(e),
    }
}

/// Publishes to `queue` and succeeds only once the broker has confirmed the message: what a
/// consumer needs before it acks the delivery the message replaces.
pub async fn publish_durably(
    channel: &Channel,
    queue: &str,
    body: &[u8],
    props: BasicProperties,
) -> Result<(), String> {
    match publish_confirmed(channel, queue.into(), body, props).await {
        Published::Acked => Ok(()),
        Published::Nacked => Err(format!("the broker nacked the publish to '{queue}'")),
        Published::Unconfirmed(e) | Published::NotSent(e) => {
            Err(format!("publishing to '{queue}' failed: {e}"))
        }
    }
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
    pub published: u64,
    pub confirmed: u64,
    pub nacked: u64,
    pub seconds: f64,
    pub msgs_per_sec: f64,
    pub interrupted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SeedReport {
    pub fn ok(&self) -> bool {
        self.confirmed == self.requested && self.error.is_none() && !self.interrupted
    }
}

/// Publishes `plan.count` tasks with publisher confirms, keeping up to `plan.window` in flight.
/// Declares the topology first (an error there is returned before anything is published).
/// `progress` is called with the running count of confirms; once `stop` resolves no more
/// messages are published and the ones in flight are still awaited, so the report is exact.
pub async fn seed(
    broker: &Broker,
    plan: &SeedPlan,
    mut progress: impl FnMut(u64),
    stop: impl Future<Output = ()>,
) -> Result<SeedReport, QueueError> {
    assert!(
        !plan.templates.is_empty(),
        "a seed plan has at least one template"
    );
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
    // Each in-flight entry publishes one message and then awaits its confirm. Keeping many of
    // them in flight lets lapin's I/O loop write frames in batches instead of one hand-off per
    // message, and overlaps the broker's confirms with further publishing.
    let mut in_flight = FuturesUnordered::new();
    let (mut published, mut confirmed, mut nacked) = (0u64, 0u64, 0u64);
    let mut error = None;
    let mut interrupted = false;
    tokio::pin!(stop);

    let tally = |r: Published,
                 published: &mut u64,
                 confirmed: &mut u64,
                 nacked: &mut u64,
                 error: &mut Option<String>| {
        match r {
            Published::Acked => {
                *published += 1;
                *confirmed += 1;
            }
            Published::Nacked => {
                *published += 1;
                *nacked += 1;
            }
            Published::Unconfirmed(e) => {
                *published += 1;
                error.get_or_insert_with(|| broker.target().scrub(&e.to_string()));
            }
            Published::NotSent(e) => {
                error.get_or_insert_with(|| broker.target().scrub(&e.to_string()));
            }
        }
    };

    for n in 1..=plan.count {
        if in_flight.len() >= plan.window
            && let Some(r) = in_flight.next().await
        {
            tally(r, &mut published, &mut confirmed, &mut nacked, &mut error);
            progress(confirmed);
        }
        if error.is_some() {
            break;
        }
        // A stop request ends publishing; what is in flight is still awaited below.
        if futures::poll!(&mut stop).is_ready() {
            interrupted = true;
            break;
        }
        let template = &plan.templates[((n - 1) % plan.templates.len() as u64) as usize];
        let task = template.task(Uuid::new_v4(), n, now);
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
        ));
    }
    while let Some(r) = in_flight.next().await {
        tally(r, &mut published, &mut confirmed, &mut nacked, &mut error);
        progress(confirmed);
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = channel.close(200, "done".into()).await;
    Ok(SeedReport {
        queue: plan.topology.queue.clone(),
        broker: broker.masked_url().to_string(),
        requested: plan.count,
        published,
        confirmed,
        nacked,
        seconds,
        msgs_per_sec: if seconds > 0.0 {
            confirmed as f64 / seconds
        } else {
            0.0
        },
        interrupted,
        error,
    })
}
