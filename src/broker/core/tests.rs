//! The core without sockets: methods in, frames out.

use amq_protocol::protocol::{AMQPClass, BasicProperties, basic, channel as chan, queue as q};
use amq_protocol::types::{AMQPValue, FieldTable, LongString};
use bytes::Bytes;

use super::{Core, Out, StoreOp};
use crate::broker::frame::{ContentHeader, encode_properties};

const CH: (u64, u16) = (1, 1);

fn core() -> Core {
    let mut c = Core::new(false);
    c.set_now(1_000_000);
    c.open_channel(CH);
    c.take_outbox();
    c
}

fn declare(c: &mut Core, name: &str, args: FieldTable) -> Result<(), super::AmqpError> {
    c.handle(
        CH,
        AMQPClass::Queue(q::AMQPMethod::Declare(q::Declare {
            queue: name.into(),
            durable: true,
            arguments: args,
            ..q::Declare::default()
        })),
    )
}

fn publish(c: &mut Core, rk: &str, body: &str, props: BasicProperties) {
    let p = basic::Publish {
        exchange: "".into(),
        routing_key: rk.into(),
        ..basic::Publish::default()
    };
    let header = ContentHeader {
        class_id: 60,
        body_size: body.len() as u64,
        raw_properties: encode_properties(&props),
        properties: props,
    };
    c.publish(CH, &p, header, Bytes::from(body.to_string()))
        .unwrap();
}

fn consume(c: &mut Core, queue: &str, prefetch: u16) {
    c.handle(
        CH,
        AMQPClass::Basic(basic::AMQPMethod::Qos(basic::Qos {
            prefetch_count: prefetch,
            global: false,
        })),
    )
    .unwrap();
    c.handle(
        CH,
        AMQPClass::Basic(basic::AMQPMethod::Consume(basic::Consume {
            queue: queue.into(),
            consumer_tag: "c".into(),
            ..basic::Consume::default()
        })),
    )
    .unwrap();
}

/// (delivery tag, redelivered, body) of each delivery in the outbox.
fn deliveries(c: &mut Core) -> Vec<(u64, bool, String)> {
    c.take_outbox()
        .into_iter()
        .filter_map(|(_, o)| match o {
            Out::Content(_, AMQPClass::Basic(basic::AMQPMethod::Deliver(d)), m) => Some((
                d.delivery_tag,
                d.redelivered,
                String::from_utf8_lossy(&m.body).into_owned(),
            )),
            _ => None,
        })
        .collect()
}

fn nack(c: &mut Core, tag: u64, multiple: bool, requeue: bool) {
    c.handle(
        CH,
        AMQPClass::Basic(basic::AMQPMethod::Nack(basic::Nack {
            delivery_tag: tag,
            multiple,
            requeue,
        })),
    )
    .unwrap();
}

#[test]
fn prefetch_limits_deliveries_and_requeued_messages_keep_their_place() {
    let mut c = core();
    declare(&mut c, "q", FieldTable::default()).unwrap();
    for b in ["a", "b", "c"] {
        publish(&mut c, "q", b, BasicProperties::default());
    }
    consume(&mut c, "q", 2);
    let d = deliveries(&mut c);
    assert_eq!(d, vec![(1, false, "a".into()), (2, false, "b".into())]);
    nack(&mut c, 2, true, true);
    // Both come back in their places, ahead of "c", marked redelivered.
    let d = deliveries(&mut c);
    assert_eq!(d, vec![(3, true, "a".into()), (4, true, "b".into())]);
    assert_eq!(c.queue_info("q").unwrap().ready, 1);
}

#[test]
fn closing_a_channel_requeues_its_unacked_deliveries() {
    let mut c = core();
    declare(&mut c, "q", FieldTable::default()).unwrap();
    publish(&mut c, "q", "a", BasicProperties::default());
    consume(&mut c, "q", 0);
    assert_eq!(deliveries(&mut c).len(), 1);
    assert_eq!(c.queue_info("q").unwrap().unacked, 1);
    c.close_channel(CH);
    let q = c.queue_info("q").unwrap();
    assert_eq!((q.ready, q.unacked, q.consumers), (1, 0, 0));
}

#[test]
fn a_redeclare_with_other_arguments_is_precondition_failed() {
    let mut c = core();
    declare(&mut c, "q", FieldTable::default()).unwrap();
    let mut args = FieldTable::default();
    args.insert("x-message-ttl".into(), AMQPValue::LongInt(10));
    let e = declare(&mut c, "q", args).unwrap_err();
    assert_eq!(e.code, 406, "{}", e.text);
    assert!(!e.is_hard());
    assert_eq!((e.class_id, e.method_id), (50, 10));
    let e = c
        .handle(
            CH,
            AMQPClass::Queue(q::AMQPMethod::Declare(q::Declare {
                queue: "missing".into(),
                passive: true,
                ..q::Declare::default()
            })),
        )
        .unwrap_err();
    assert_eq!(e.code, 404);
}

#[test]
fn rejected_messages_are_dead_lettered_with_x_death() {
    let mut c = core();
    let mut args = FieldTable::default();
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(LongString::from("")),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(LongString::from("dlq")),
    );
    declare(&mut c, "q", args).unwrap();
    declare(&mut c, "dlq", FieldTable::default()).unwrap();
    publish(&mut c, "q", "a", BasicProperties::default());
    consume(&mut c, "q", 1);
    assert_eq!(deliveries(&mut c).len(), 1);
    nack(&mut c, 1, false, false);
    assert_eq!(c.queue_info("dlq").unwrap().ready, 1);
    assert_eq!(c.queue_info("q").unwrap().unacked, 0);
    let e = c
        .handle(
            CH,
            AMQPClass::Basic(basic::AMQPMethod::Ack(basic::Ack {
                delivery_tag: 1,
                multiple: false,
            })),
        )
        .unwrap_err();
    assert_eq!(e.code, 406, "a settled tag is unknown: {}", e.text);
}

#[test]
fn ttl_and_max_length_dead_letter_from_the_head() {
    let mut c = core();
    let mut args = FieldTable::default();
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(LongString::from("")),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(LongString::from("dlq")),
    );
    args.insert("x-max-length".into(), AMQPValue::LongInt(2));
    args.insert("x-message-ttl".into(), AMQPValue::LongInt(100));
    declare(&mut c, "q", args).unwrap();
    declare(&mut c, "dlq", FieldTable::default()).unwrap();
    for b in ["a", "b", "c"] {
        publish(&mut c, "q", b, BasicProperties::default());
    }
    assert_eq!(c.queue_info("q").unwrap().ready, 2);
    assert_eq!(c.queue_info("dlq").unwrap().ready, 1);
    c.set_now(1_000_000 + 101);
    c.expire_all();
    assert_eq!(c.queue_info("q").unwrap().ready, 0);
    assert_eq!(c.queue_info("dlq").unwrap().ready, 3);
}

#[test]
fn persistent_messages_on_durable_queues_reach_the_store() {
    let mut c = Core::new(true);
    c.open_channel(CH);
    declare(&mut c, "q", FieldTable::default()).unwrap();
    publish(
        &mut c,
        "q",
        "a",
        BasicProperties::default().with_delivery_mode(2),
    );
    publish(&mut c, "q", "b", BasicProperties::default());
    let ops = c.take_store_ops();
    assert!(matches!(ops[0], StoreOp::DeclareQueue { .. }));
    assert_eq!(ops.len(), 2, "the transient message is not written");
    c.handle(
        CH,
        AMQPClass::Channel(chan::AMQPMethod::Flow(chan::Flow { active: true })),
    )
    .unwrap_err();
}
