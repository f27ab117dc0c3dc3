//! One conformance suite, run twice with the same assertions: against RabbitMQ and against the
//! embedded broker (`fleetctl::broker`), both through lapin. RabbitMQ is the reference: a check
//! here passes on it first.

mod common;

use std::time::Duration;

use fleetctl::broker::{Broker, BrokerConfig};
use fleetctl::queue::mgmt::{MgmtClient, MgmtError};
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions,
    BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions, QueuePurgeOptions,
};
use lapin::types::{AMQPValue, FieldArray, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

/// A broker under test: RabbitMQ at the usual URL, or an embedded one on a free port.
struct Target {
    url: String,
    /// The management API's base URL; None for RabbitMQ's default (derived from the AMQP URL).
    mgmt: Option<String>,
    broker: Option<Broker>,
}

impl Target {
    fn rabbitmq(test: &str) -> Option<Target> {
        common::require(common::broker_up(), test, "RabbitMQ on 127.0.0.1:5672").then(|| Target {
            url: common::amqp_url(),
            mgmt: None,
            broker: None,
        })
    }

    async fn embedded() -> Target {
        let broker = Broker::start(BrokerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            http: Some("127.0.0.1:0".parse().unwrap()),
            ..BrokerConfig::default()
        })
        .await
        .expect("the embedded broker starts");
        Target {
            url: broker.amqp_url(),
            mgmt: broker.http_url(),
            broker: Some(broker),
        }
    }

    async fn stop(self) {
        if let Some(b) = self.broker {
            b.shutdown().await.expect("clean shutdown");
        }
    }

    async fn conn(&self) -> Connection {
        Connection::connect(&self.url, ConnectionProperties::default())
            .await
            .expect("connects")
    }

    async fn chan(&self) -> (Connection, Channel) {
        let c = self.conn().await;
        let ch = c.create_channel().await.expect("channel opens");
        (c, ch)
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(t) = super::Target::rabbitmq(concat!("rabbitmq::", stringify!($name))) {
                        super::$name(&t).await;
                    }
                }
            )*
        }
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let t = super::Target::embedded().await;
                    super::$name(&t).await;
                    t.stop().await;
                }
            )*
        }
    };
}

conformance!(
    topology_and_precondition_failed,
    publisher_confirms_and_mandatory_returns,
    prefetch_limits_deliveries,
    ack_nack_reject_with_and_without_requeue,
    requeue_keeps_order_and_sets_redelivered,
    dead_letters_carry_x_death,
    ttl_expires_into_the_dead_letter_queue,
    max_length_drops_the_head,
    closing_requeues_unacked,
    passive_declare_counts,
    a_one_mib_message_crosses_frames_intact,
    a_hundred_connections_at_once,
    bad_credentials_are_refused,
    the_management_api_reads_the_same,
    exclusive_auto_delete_and_server_named_queues,
    heartbeats_keep_an_idle_connection_and_frame_max_is_negotiated,
    a_client_that_misses_heartbeats_is_dropped,
    garbage_after_the_handshake_is_a_frame_error,
    a_wrong_protocol_header_is_answered_with_amqp_0_9_1,
    a_frame_over_frame_max_is_a_frame_error,
    a_method_on_an_unopened_channel_is_a_channel_error,
);

fn reply_code(e: &lapin::Error) -> Option<u16> {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(a) => Some(a.get_id()),
        _ => None,
    }
}

fn s(v: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(v))
}

fn dlx_args(dlq: &str) -> FieldTable {
    let mut t = FieldTable::default();
    t.insert("x-dead-letter-exchange".into(), s(""));
    t.insert("x-dead-letter-routing-key".into(), s(dlq));
    t
}

async fn declare(ch: &Channel, name: &str, args: FieldTable) {
    ch.queue_declare(name.into(), QueueDeclareOptions::default(), args)
        .await
        .unwrap_or_else(|e| panic!("declare {name}: {e}"));
}

async fn publish(ch: &Channel, exchange: &str, rk: &str, body: &[u8], props: BasicProperties) {
    let confirm = ch
        .basic_publish(
            exchange.into(),
            rk.into(),
            BasicPublishOptions::default(),
            body,
            props,
        )
        .await
        .expect("publish");
    confirm.await.expect("confirm");
}

async fn get(ch: &Channel, queue: &str) -> Option<lapin::message::BasicGetMessage> {
    ch.basic_get(queue.into(), BasicGetOptions { no_ack: false })
        .await
        .expect("basic.get")
}

async fn ready(ch: &Channel, queue: &str) -> u32 {
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("passive declare")
    .message_count()
}

/// Waits until `queue` holds `n` ready messages (the broker may count asynchronously).
async fn wait_ready(ch: &Channel, queue: &str, n: u32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = ready(ch, queue).await;
        if got == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{queue}: {got} ready, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn delete(ch: &Channel, names: &[&str]) {
    for n in names {
        let _ = ch
            .queue_delete((*n).into(), QueueDeleteOptions::default())
            .await;
    }
}

fn q(prefix: &str) -> String {
    common::unique_queue(&format!("conf-{prefix}"))
}

async fn topology_and_precondition_failed(t: &Target) {
    let (conn, ch) = t.chan().await;
    let (a, b) = (q("topo-a"), q("topo-b"));
    let ex = format!("{a}.fanout");
    let direct = format!("{a}.direct");
    declare(&ch, &a, dlx_args("x")).await;
    declare(&ch, &a, dlx_args("x")).await; // same arguments: fine
    declare(&ch, &b, FieldTable::default()).await;
    ch.exchange_declare(
        ex.as_str().into(),
        ExchangeKind::Fanout,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.exchange_declare(
        direct.as_str().into(),
        ExchangeKind::Direct,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    for name in [&a, &b] {
        ch.queue_bind(
            name.as_str().into(),
            ex.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    }
    ch.queue_bind(
        b.as_str().into(),
        direct.as_str().into(),
        "only-b".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    publish(&ch, &ex, "ignored", b"fan", BasicProperties::default()).await;
    publish(
        &ch,
        &direct,
        "only-b",
        b"direct",
        BasicProperties::default(),
    )
    .await;
    publish(&ch, &direct, "nobody", b"lost", BasicProperties::default()).await;
    wait_ready(&ch, &a, 1).await;
    wait_ready(&ch, &b, 2).await;

    // Other arguments: 406 closes the channel, not the connection.
    let err = ch
        .queue_declare(
            a.as_str().into(),
            QueueDeclareOptions::default(),
            dlx_args("y"),
        )
        .await
        .unwrap_err();
    assert_eq!(reply_code(&err), Some(406), "{err}");
    assert!(!ch.status().connected(), "the channel is closed");
    assert!(conn.status().connected(), "the connection stays");
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_declare(
            a.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            dlx_args("x"),
        )
        .await
        .unwrap_err();
    assert_eq!(reply_code(&err), Some(406), "durable differs: {err}");
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .exchange_declare(
            ex.as_str().into(),
            ExchangeKind::Direct,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(reply_code(&err), Some(406), "type differs: {err}");
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_declare(
            q("missing").as_str().into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(reply_code(&err), Some(404), "{err}");
    let ch = conn.create_channel().await.unwrap();
    let err = ch
        .queue_bind(
            a.as_str().into(),
            format!("{a}.no-such-exchange").as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(reply_code(&err), Some(404), "{err}");
    let ch = conn.create_channel().await.unwrap();
    let purged = ch
        .queue_purge(b.as_str().into(), QueuePurgeOptions::default())
        .await
        .unwrap();
    assert_eq!(purged, 2);
    let deleted = ch
        .queue_delete(a.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    delete(&ch, &[&b]).await;
    let _ = ch
        .exchange_delete(ex.as_str().into(), Default::default())
        .await;
    let _ = ch
        .exchange_delete(direct.as_str().into(), Default::default())
        .await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn publisher_confirms_and_mandatory_returns(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("confirms");
    declare(&ch, &name, FieldTable::default()).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut pending = Vec::new();
    for i in 0..200u32 {
        pending.push(
            ch.basic_publish(
                "".into(),
                name.as_str().into(),
                BasicPublishOptions::default(),
                &i.to_be_bytes(),
                BasicProperties::default(),
            )
            .await
            .unwrap(),
        );
    }
    for p in pending {
        let c = p.await.unwrap();
        assert!(c.is_ack(), "{c:?}");
        assert!(c.take_message().is_none());
    }
    wait_ready(&ch, &name, 200).await;
    let returned = ch
        .basic_publish(
            "".into(),
            q("nowhere").as_str().into(),
            BasicPublishOptions {
                mandatory: true,
                ..BasicPublishOptions::default()
            },
            b"unroutable",
            BasicProperties::default().with_message_id("m-1".into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(returned.is_ack(), "an unroutable message is still acked");
    let msg = returned
        .take_message()
        .expect("basic.return before the ack");
    assert_eq!(msg.reply_code, 312);
    assert_eq!(msg.reply_text.as_str(), "NO_ROUTE");
    assert_eq!(msg.delivery.data, b"unroutable");
    assert_eq!(
        msg.delivery
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str()),
        Some("m-1")
    );
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn prefetch_limits_deliveries(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("prefetch");
    declare(&ch, &name, FieldTable::default()).await;
    for i in 0..5u8 {
        publish(&ch, "", &name, &[i], BasicProperties::default()).await;
    }
    wait_ready(&ch, &name, 5).await;
    let cch = conn.create_channel().await.unwrap();
    cch.basic_qos(2, BasicQosOptions::default()).await.unwrap();
    let mut consumer = cch
        .basic_consume(
            name.as_str().into(),
            "prefetch-test".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let first = consumer.next().await.unwrap().unwrap();
    let _second = consumer.next().await.unwrap().unwrap();
    let third = tokio::time::timeout(Duration::from_millis(500), consumer.next()).await;
    assert!(third.is_err(), "a third delivery beyond prefetch 2");
    first.acker.ack(BasicAckOptions::default()).await.unwrap();
    let third = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("an ack frees one slot")
        .unwrap()
        .unwrap();
    assert_eq!(third.data, vec![2]);
    wait_ready(&ch, &name, 2).await;
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn ack_nack_reject_with_and_without_requeue(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("settle");
    declare(&ch, &name, FieldTable::default()).await;
    for b in [b"a", b"b", b"c", b"d"] {
        publish(&ch, "", &name, b, BasicProperties::default()).await;
    }
    wait_ready(&ch, &name, 4).await;
    let a = get(&ch, &name).await.unwrap();
    assert_eq!(a.message_count, 3);
    let b = get(&ch, &name).await.unwrap();
    let c = get(&ch, &name).await.unwrap();
    let d = get(&ch, &name).await.unwrap();
    a.delivery
        .acker
        .ack(BasicAckOptions::default())
        .await
        .unwrap();
    b.delivery
        .acker
        .reject(BasicRejectOptions { requeue: false })
        .await
        .unwrap();
    c.delivery
        .acker
        .nack(BasicNackOptions {
            requeue: false,
            multiple: false,
        })
        .await
        .unwrap();
    d.delivery
        .acker
        .reject(BasicRejectOptions { requeue: true })
        .await
        .unwrap();
    wait_ready(&ch, &name, 1).await;
    let again = get(&ch, &name).await.unwrap();
    assert_eq!(again.delivery.data, b"d");
    assert!(again.delivery.redelivered);
    again
        .delivery
        .acker
        .nack(BasicNackOptions {
            requeue: true,
            multiple: false,
        })
        .await
        .unwrap();
    wait_ready(&ch, &name, 1).await;
    // Acking a tag twice is 406 PRECONDITION_FAILED on the channel.
    let e = get(&ch, &name).await.unwrap();
    ch.basic_ack(e.delivery.delivery_tag, BasicAckOptions::default())
        .await
        .unwrap();
    let _ = ch
        .basic_ack(e.delivery.delivery_tag, BasicAckOptions::default())
        .await;
    let ch2 = conn.create_channel().await.unwrap();
    let probe = ch2
        .queue_declare(
            name.as_str().into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    assert_eq!(probe.message_count(), 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while ch.status().connected() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!ch.status().connected(), "a double ack closes the channel");
    delete(&ch2, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn requeue_keeps_order_and_sets_redelivered(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("order");
    declare(&ch, &name, FieldTable::default()).await;
    for i in 0..6u8 {
        publish(&ch, "", &name, &[i], BasicProperties::default()).await;
    }
    wait_ready(&ch, &name, 6).await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(get(&ch, &name).await.unwrap().delivery);
    }
    // Give back the second and third only, then all the rest: they return to their places.
    ch.basic_nack(
        got[2].delivery_tag,
        BasicNackOptions {
            multiple: false,
            requeue: true,
        },
    )
    .await
    .unwrap();
    ch.basic_nack(
        got[1].delivery_tag,
        BasicNackOptions {
            multiple: false,
            requeue: true,
        },
    )
    .await
    .unwrap();
    ch.basic_nack(
        got[3].delivery_tag,
        BasicNackOptions {
            multiple: true,
            requeue: true,
        },
    )
    .await
    .unwrap();
    wait_ready(&ch, &name, 6).await;
    let mut order = Vec::new();
    for _ in 0..6 {
        let d = get(&ch, &name).await.unwrap().delivery;
        order.push((d.data[0], d.redelivered));
    }
    assert_eq!(
        order,
        vec![
            (0, true),
            (1, true),
            (2, true),
            (3, true),
            (4, false),
            (5, false)
        ]
    );
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

fn x_death(props: &BasicProperties) -> Vec<FieldTable> {
    let headers = props.headers().clone().expect("headers");
    match headers.inner().get("x-death") {
        Some(AMQPValue::FieldArray(a)) => a
            .as_slice()
            .iter()
            .map(|v| match v {
                AMQPValue::FieldTable(t) => t.clone(),
                other => panic!("x-death entry {other:?}"),
            })
            .collect(),
        other => panic!("x-death is {other:?}"),
    }
}

async fn dead_letters_carry_x_death(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("dlx");
    let dlq = format!("{name}.dlq");
    declare(&ch, &dlq, FieldTable::default()).await;
    declare(&ch, &name, dlx_args(&dlq)).await;
    let mut headers = FieldTable::default();
    headers.insert("x-fleetctl-attempts".into(), AMQPValue::LongLongInt(2));
    let props = BasicProperties::default()
        .with_headers(headers)
        .with_message_id("task-1".into())
        .with_delivery_mode(2);
    publish(&ch, "", &name, b"payload", props).await;
    wait_ready(&ch, &name, 1).await;
    let m = get(&ch, &name).await.unwrap();
    m.delivery
        .acker
        .reject(BasicRejectOptions { requeue: false })
        .await
        .unwrap();
    wait_ready(&ch, &dlq, 1).await;
    let d = get(&ch, &dlq).await.unwrap().delivery;
    assert_eq!(d.data, b"payload");
    assert_eq!(d.routing_key.as_str(), dlq);
    assert_eq!(d.exchange.as_str(), "");
    let p = &d.properties;
    assert_eq!(p.message_id().as_ref().map(|s| s.as_str()), Some("task-1"));
    assert_eq!(*p.delivery_mode(), Some(2));
    let h = p.headers().clone().unwrap();
    assert_eq!(h.inner()["x-fleetctl-attempts"], AMQPValue::LongLongInt(2));
    assert_eq!(h.inner()["x-first-death-reason"], s("rejected"));
    assert_eq!(h.inner()["x-first-death-queue"], s(&name));
    assert_eq!(h.inner()["x-first-death-exchange"], s(""));
    let deaths = x_death(p);
    assert_eq!(deaths.len(), 1);
    let e = deaths[0].inner();
    assert_eq!(e["count"], AMQPValue::LongLongInt(1));
    assert_eq!(e["reason"], s("rejected"));
    assert_eq!(e["queue"], s(&name));
    assert_eq!(e["exchange"], s(""));
    let keys: FieldArray = vec![s(&name)].into();
    assert_eq!(e["routing-keys"], AMQPValue::FieldArray(keys));
    assert!(
        matches!(e["time"], AMQPValue::Timestamp(_)),
        "{:?}",
        e["time"]
    );
    delete(&ch, &[&name, &dlq]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn ttl_expires_into_the_dead_letter_queue(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("ttl");
    let dlq = format!("{name}.dlq");
    declare(&ch, &dlq, FieldTable::default()).await;
    let mut args = dlx_args(&dlq);
    args.insert("x-message-ttl".into(), AMQPValue::LongInt(200));
    declare(&ch, &name, args).await;
    for i in 0..3u8 {
        publish(&ch, "", &name, &[i], BasicProperties::default()).await;
    }
    // A per-message TTL shorter than the queue's wins.
    publish(
        &ch,
        "",
        &name,
        &[9],
        BasicProperties::default().with_expiration("50".into()),
    )
    .await;
    wait_ready(&ch, &dlq, 4).await;
    wait_ready(&ch, &name, 0).await;
    let mut reasons = Vec::new();
    let mut original = Vec::new();
    for _ in 0..4 {
        let d = get(&ch, &dlq).await.unwrap().delivery;
        let e = x_death(&d.properties)[0].clone();
        reasons.push(e.inner()["reason"].clone());
        if let Some(v) = e.inner().get("original-expiration") {
            original.push(v.clone());
            assert!(d.properties.expiration().is_none());
        }
    }
    assert!(reasons.iter().all(|r| *r == s("expired")), "{reasons:?}");
    assert_eq!(original, vec![s("50")]);
    delete(&ch, &[&name, &dlq]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn max_length_drops_the_head(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("maxlen");
    let dlq = format!("{name}.dlq");
    declare(&ch, &dlq, FieldTable::default()).await;
    let mut args = dlx_args(&dlq);
    args.insert("x-max-length".into(), AMQPValue::LongInt(2));
    declare(&ch, &name, args).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for i in 0..5u8 {
        publish(&ch, "", &name, &[i], BasicProperties::default()).await;
    }
    wait_ready(&ch, &name, 2).await;
    wait_ready(&ch, &dlq, 3).await;
    let kept: Vec<u8> = vec![
        get(&ch, &name).await.unwrap().delivery.data[0],
        get(&ch, &name).await.unwrap().delivery.data[0],
    ];
    assert_eq!(kept, vec![3, 4]);
    let first = get(&ch, &dlq).await.unwrap().delivery;
    assert_eq!(first.data, vec![0]);
    assert_eq!(x_death(&first.properties)[0].inner()["reason"], s("maxlen"));
    delete(&ch, &[&name, &dlq]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn closing_requeues_unacked(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("close");
    declare(&ch, &name, FieldTable::default()).await;
    for i in 0..3u8 {
        publish(&ch, "", &name, &[i], BasicProperties::default()).await;
    }
    wait_ready(&ch, &name, 3).await;
    // A consumer on another connection takes two and its connection goes away.
    let (other, och) = t.chan().await;
    och.basic_qos(2, BasicQosOptions::default()).await.unwrap();
    let mut consumer = och
        .basic_consume(
            name.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    consumer.next().await.unwrap().unwrap();
    consumer.next().await.unwrap().unwrap();
    wait_ready(&ch, &name, 1).await;
    other.close(200, "bye".into()).await.unwrap();
    wait_ready(&ch, &name, 3).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let d = get(&ch, &name).await.unwrap().delivery;
        seen.push((d.data[0], d.redelivered));
    }
    assert_eq!(seen, vec![(0, true), (1, true), (2, false)]);
    // The same for a channel closed on a live connection.
    ch.close(200, "bye".into()).await.unwrap();
    let ch = conn.create_channel().await.unwrap();
    wait_ready(&ch, &name, 3).await;
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn passive_declare_counts(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("passive");
    declare(&ch, &name, FieldTable::default()).await;
    for i in 0..4u8 {
        publish(&ch, "", &name, &[i], BasicProperties::default()).await;
    }
    wait_ready(&ch, &name, 4).await;
    let cch = conn.create_channel().await.unwrap();
    cch.basic_qos(1, BasicQosOptions::default()).await.unwrap();
    let mut consumer = cch
        .basic_consume(
            name.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    consumer.next().await.unwrap().unwrap();
    wait_ready(&ch, &name, 3).await;
    let probe = ch
        .queue_declare(
            name.as_str().into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    assert_eq!(probe.message_count(), 3, "ready only, not the unacked one");
    assert_eq!(probe.consumer_count(), 1);
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn a_one_mib_message_crosses_frames_intact(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("big");
    declare(&ch, &name, FieldTable::default()).await;
    let body: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let mut headers = FieldTable::default();
    headers.insert("s".into(), s("text"));
    headers.insert("n".into(), AMQPValue::LongLongInt(-5));
    headers.insert("b".into(), AMQPValue::Boolean(true));
    let mut inner = FieldTable::default();
    inner.insert("k".into(), AMQPValue::LongInt(1));
    headers.insert("t".into(), AMQPValue::FieldTable(inner));
    let props = BasicProperties::default()
        .with_headers(headers)
        .with_content_type("application/octet-stream".into())
        .with_correlation_id("c-1".into())
        .with_priority(3)
        .with_timestamp(1_700_000_000)
        .with_type(ShortString::from("big"))
        .with_app_id("conformance".into());
    publish(&ch, "", &name, &body, props.clone()).await;
    wait_ready(&ch, &name, 1).await;
    let d = get(&ch, &name).await.unwrap().delivery;
    assert_eq!(d.data.len(), body.len());
    assert!(d.data == body, "the body comes back byte for byte");
    assert_eq!(d.properties, props);
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn a_hundred_connections_at_once(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("many");
    declare(&ch, &name, FieldTable::default()).await;
    let tasks = (0..100u32).map(|i| {
        let url = t.url.clone();
        let name = name.clone();
        tokio::spawn(async move {
            let c = Connection::connect(&url, ConnectionProperties::default())
                .await
                .expect("connects");
            let ch = c.create_channel().await.unwrap();
            ch.confirm_select(ConfirmSelectOptions::default())
                .await
                .unwrap();
            publish(&ch, "", &name, &i.to_be_bytes(), BasicProperties::default()).await;
            c
        })
    });
    let conns = futures::future::join_all(tasks).await;
    wait_ready(&ch, &name, 100).await;
    for c in conns {
        let _ = c.unwrap().close(200, "bye".into()).await;
    }
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn bad_credentials_are_refused(t: &Target) {
    let url = t.url.replacen("guest:guest", "guest:not-the-password", 1);
    let err = Connection::connect(&url, ConnectionProperties::default())
        .await
        .expect_err("refused");
    assert_eq!(reply_code(&err), Some(403), "{err}");
    // Others are unaffected.
    let (conn, ch) = t.chan().await;
    let name = q("after-refusal");
    declare(&ch, &name, FieldTable::default()).await;
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn the_management_api_reads_the_same(t: &Target) {
    common::install_crypto();
    let (conn, ch) = t.chan().await;
    let name = q("mgmt");
    declare(&ch, &name, FieldTable::default()).await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for i in 0..10u8 {
        publish(&ch, "", &name, &[i], BasicProperties::default()).await;
    }
    let cch = conn.create_channel().await.unwrap();
    cch.basic_qos(3, BasicQosOptions::default()).await.unwrap();
    let mut consumer = cch
        .basic_consume(
            name.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    for _ in 0..3 {
        consumer.next().await.unwrap().unwrap();
    }
    let mgmt = MgmtClient::new(t.mgmt.as_deref(), &t.url).unwrap();
    // Statistics arrive in samples: the publish rate can be in one before the deliver rate.
    let got = common::settle(&mgmt, &name, |q| {
        q.ready == 7
            && q.unacked == 3
            && q.consumers == 1
            && q.publish_rate.is_some()
            && q.deliver_rate.is_some()
    })
    .await;
    assert_eq!(got.messages(), 10);
    assert!(got.deliver_rate.is_some(), "{got:?}");
    let all = mgmt.queues(std::slice::from_ref(&name)).await;
    assert_eq!(all[&name].as_ref().unwrap().ready, 7);
    let missing = mgmt.queue(&q("no-such")).await.unwrap_err();
    assert!(matches!(missing, MgmtError::NotFound { .. }), "{missing}");

    let wrong = t.url.replacen("guest:guest", "guest:Wrong-pw-4a7Qz", 1);
    let refused = MgmtClient::new(t.mgmt.as_deref(), &wrong)
        .unwrap()
        .queue(&name)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, MgmtError::Unauthorized { .. }),
        "{refused}"
    );
    assert!(!refused.to_string().contains("Wrong-pw-4a7Qz"));
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

// ---- malformed input, on a raw socket: the reply code, and other connections unaffected ----

use amq_protocol::protocol::{AMQPClass, basic, connection as amqp_conn};
use bytes::BytesMut;
use fleetctl::broker::frame::{Frame, next_frame, write_method};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(t: &Target) -> String {
    let rest = t.url.split('@').nth(1).expect("URL with credentials");
    rest.split('/').next().unwrap().to_string()
}

/// Reads frames until connection.close; returns its reply code (None when the socket closes
/// first).
async fn close_code(s: &mut TcpStream, buf: &mut BytesMut) -> Option<u16> {
    let read = async {
        loop {
            while let Ok(Some(f)) = next_frame(buf, 1 << 20) {
                if let Frame::Method(0, AMQPClass::Connection(amqp_conn::AMQPMethod::Close(c))) = f
                {
                    return Some(c.reply_code);
                }
            }
            if s.read_buf(buf).await.ok()? == 0 {
                return None;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer within 10 s")
}

async fn next_method(s: &mut TcpStream, buf: &mut BytesMut) -> AMQPClass {
    loop {
        if let Some(Frame::Method(_, m)) = next_frame(buf, 1 << 20).expect("valid frames") {
            return m;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), s.read_buf(buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(n > 0, "the broker closed the socket during the handshake");
    }
}

async fn send(s: &mut TcpStream, channel: u16, m: AMQPClass) {
    let mut out = Vec::new();
    write_method(&mut out, channel, &m);
    s.write_all(&out).await.unwrap();
}

/// A raw connection through the handshake, with `frame_max` negotiated.
async fn raw_open(t: &Target, frame_max: u32) -> (TcpStream, BytesMut) {
    raw_open_beating(t, frame_max, 0).await
}

/// As [`raw_open`], with a heartbeat interval in seconds.
async fn raw_open_beating(t: &Target, frame_max: u32, heartbeat: u16) -> (TcpStream, BytesMut) {
    let mut s = TcpStream::connect(addr(t)).await.unwrap();
    let mut buf = BytesMut::new();
    s.write_all(b"AMQP\x00\x00\x09\x01").await.unwrap();
    assert!(matches!(
        next_method(&mut s, &mut buf).await,
        AMQPClass::Connection(amqp_conn::AMQPMethod::Start(_))
    ));
    send(
        &mut s,
        0,
        AMQPClass::Connection(amqp_conn::AMQPMethod::StartOk(amqp_conn::StartOk {
            client_properties: FieldTable::default(),
            mechanism: "PLAIN".into(),
            response: "\0guest\0guest".into(),
            locale: "en_US".into(),
        })),
    )
    .await;
    let tune = match next_method(&mut s, &mut buf).await {
        AMQPClass::Connection(amqp_conn::AMQPMethod::Tune(t)) => t,
        other => panic!("expected tune, got {other:?}"),
    };
    send(
        &mut s,
        0,
        AMQPClass::Connection(amqp_conn::AMQPMethod::TuneOk(amqp_conn::TuneOk {
            channel_max: tune.channel_max,
            frame_max,
            heartbeat,
        })),
    )
    .await;
    send(
        &mut s,
        0,
        AMQPClass::Connection(amqp_conn::AMQPMethod::Open(amqp_conn::Open {
            virtual_host: "/".into(),
        })),
    )
    .await;
    assert!(matches!(
        next_method(&mut s, &mut buf).await,
        AMQPClass::Connection(amqp_conn::AMQPMethod::OpenOk(_))
    ));
    (s, buf)
}

/// Another client still gets its work done.
async fn others_unaffected(t: &Target) {
    let (conn, ch) = t.chan().await;
    let name = q("bystander");
    declare(&ch, &name, FieldTable::default()).await;
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn garbage_after_the_handshake_is_a_frame_error(t: &Target) {
    let (bystander, _bch) = t.chan().await;
    let (mut s, mut buf) = raw_open(t, 131_072).await;
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(close_code(&mut s, &mut buf).await, Some(501));
    assert!(bystander.status().connected());
    others_unaffected(t).await;
}

async fn a_wrong_protocol_header_is_answered_with_amqp_0_9_1(t: &Target) {
    let mut s = TcpStream::connect(addr(t)).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // The answer, then the end of the connection (RabbitMQ may reset it: the request it did not
    // read is still in its buffer).
    let mut got = Vec::new();
    let read = async {
        let mut chunk = [0u8; 64];
        while let Ok(n) = s.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the broker answers and closes");
    assert_eq!(got, b"AMQP\x00\x00\x09\x01");
    others_unaffected(t).await;
}

async fn a_frame_over_frame_max_is_a_frame_error(t: &Target) {
    let (mut s, mut buf) = raw_open(t, 4096).await;
    // A body frame announcing 10,000 bytes on a connection tuned to 4096.
    let mut frame = vec![3u8, 0, 1];
    frame.extend_from_slice(&10_000u32.to_be_bytes());
    frame.extend(std::iter::repeat_n(0u8, 10_000));
    frame.push(0xCE);
    let _ = s.write_all(&frame).await;
    assert_eq!(close_code(&mut s, &mut buf).await, Some(501));
    others_unaffected(t).await;
}

async fn a_method_on_an_unopened_channel_is_a_channel_error(t: &Target) {
    let (mut s, mut buf) = raw_open(t, 131_072).await;
    send(
        &mut s,
        5,
        AMQPClass::Basic(basic::AMQPMethod::Qos(basic::Qos {
            prefetch_count: 1,
            global: false,
        })),
    )
    .await;
    assert_eq!(close_code(&mut s, &mut buf).await, Some(504));
    others_unaffected(t).await;
}

async fn exclusive_auto_delete_and_server_named_queues(t: &Target) {
    let (owner, och) = t.chan().await;
    let (other, xch) = t.chan().await;
    // A server-named exclusive queue: amq.gen-..., locked to its connection (405 elsewhere).
    let named = och
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let name = named.name().as_str().to_string();
    assert!(name.starts_with("amq.gen-"), "{name}");
    let err = xch
        .basic_consume(
            name.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(reply_code(&err), Some(405), "{err}");
    owner.close(200, "bye".into()).await.unwrap();
    let xch = other.create_channel().await.unwrap();
    let err = xch
        .queue_declare(
            name.as_str().into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        reply_code(&err),
        Some(404),
        "gone with its connection: {err}"
    );

    // An auto-delete queue goes when its last consumer is cancelled.
    let xch = other.create_channel().await.unwrap();
    let auto = q("auto");
    xch.queue_declare(
        auto.as_str().into(),
        QueueDeclareOptions {
            auto_delete: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
    xch.basic_consume(
        auto.as_str().into(),
        "auto-consumer".into(),
        BasicConsumeOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    xch.basic_cancel("auto-consumer".into(), Default::default())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ch = other.create_channel().await.unwrap();
        let r = ch
            .queue_declare(
                auto.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await;
        match r {
            Err(e) => {
                assert_eq!(reply_code(&e), Some(404), "{e}");
                break;
            }
            Ok(_) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{auto} was not deleted"
                );
                let _ = ch.close(200, "bye".into()).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    // Deleting a queue under a consumer cancels it (consumer_cancel_notify): its stream ends.
    let ch = other.create_channel().await.unwrap();
    let doomed = q("doomed");
    declare(&ch, &doomed, FieldTable::default()).await;
    let cch = other.create_channel().await.unwrap();
    let mut consumer = cch
        .basic_consume(
            doomed.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    ch.queue_delete(doomed.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("the consumer hears of the deletion");
    assert!(end.is_none(), "the stream ends: {end:?}");
    let _ = other.close(200, "bye".into()).await;
}

async fn heartbeats_keep_an_idle_connection_and_frame_max_is_negotiated(t: &Target) {
    // A 1 s heartbeat: the broker closes a silent client after 2 s, so staying open across
    // 3.5 idle seconds means both sides beat. A 4096-byte frame_max splits the body finely.
    let url = format!("{}?heartbeat=1&frame_max=4096", t.url);
    let conn = Connection::connect(&url, ConnectionProperties::default())
        .await
        .expect("connects");
    assert_eq!(conn.configuration().frame_max(), 4096);
    assert_eq!(conn.configuration().heartbeat(), 1);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(conn.status().connected(), "idle but alive");
    let ch = conn.create_channel().await.unwrap();
    let name = q("small-frames");
    declare(&ch, &name, FieldTable::default()).await;
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    publish(&ch, "", &name, &body, BasicProperties::default()).await;
    wait_ready(&ch, &name, 1).await;
    assert!(get(&ch, &name).await.unwrap().delivery.data == body);
    delete(&ch, &[&name]).await;
    let _ = conn.close(200, "bye".into()).await;
}

async fn a_client_that_misses_heartbeats_is_dropped(t: &Target) {
    let (mut s, _buf) = raw_open_beating(t, 131_072, 1).await;
    // The broker beats, the client stays silent: the socket ends within a few intervals.
    let read = async {
        let mut chunk = [0u8; 256];
        while let Ok(n) = s.read(&mut chunk).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), read)
        .await
        .expect("the broker drops a client that sends nothing");
    others_unaffected(t).await;
}
