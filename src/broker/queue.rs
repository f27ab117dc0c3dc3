//! One queue: its ready messages in publish order (a requeued message goes back to the position
//! it was published at), its arguments, consumers and counters. Pure.

use std::collections::BTreeMap;
use std::sync::Arc;

use amq_protocol::types::{AMQPValue, FieldTable};

use super::message::Message;
use crate::queue::topology::amqp_int;

/// A connection, as the broker numbers them.
pub type ConnId = u64;
/// A channel of a connection.
pub type ChanKey = (ConnId, u16);

/// A message waiting in a queue.
#[derive(Debug, Clone)]
pub struct Entry {
    pub msg: Arc<Message>,
    pub redelivered: bool,
    /// Milliseconds since the epoch after which the message is dead.
    pub expires_at: Option<u64>,
}

/// The arguments the broker acts on, read from a declaration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueArgs {
    pub dead_letter_exchange: Option<String>,
    pub dead_letter_routing_key: Option<String>,
    pub message_ttl: Option<u64>,
    pub max_length: Option<u64>,
}

/// Arguments compared on redeclaration, as RabbitMQ compares them (others are ignored).
const EQUIVALENCE_KEYS: &[&str] = &[
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-message-ttl",
    "x-max-length",
    "x-max-length-bytes",
    "x-expires",
    "x-overflow",
    "x-max-priority",
    "x-queue-type",
    "x-queue-mode",
];

fn string(v: &AMQPValue) -> Option<String> {
    match v {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

/// A value as a declaration error names it.
pub fn describe(v: Option<&AMQPValue>) -> String {
    match v {
        None => "none".to_string(),
        Some(v) => match (amqp_int(v), string(v)) {
            (Some(n), _) => n.to_string(),
            (_, Some(s)) => format!("'{s}'"),
            _ => format!("{v:?}"),
        },
    }
}

fn same(a: Option<&AMQPValue>, b: Option<&AMQPValue>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => match (amqp_int(a), amqp_int(b)) {
            (Some(x), Some(y)) => x == y,
            _ => match (string(a), string(b)) {
                (Some(x), Some(y)) => x == y,
                _ => a == b,
            },
        },
        _ => false,
    }
}

/// The first argument whose value differs between two declarations, if any.
pub fn inequivalent_arg(old: &FieldTable, new: &FieldTable) -> Option<&'static str> {
    EQUIVALENCE_KEYS
        .iter()
        .find(|k| !same(old.inner().get(**k), new.inner().get(**k)))
        .copied()
}

/// Reads the arguments the broker acts on, or names the one that is invalid.
pub fn parse_args(table: &FieldTable) -> Result<QueueArgs, &'static str> {
    let t = table.inner();
    let mut args = QueueArgs::default();
    if let Some(v) = t.get("x-dead-letter-exchange") {
        args.dead_letter_exchange = Some(string(v).ok_or("x-dead-letter-exchange")?);
    }
    if let Some(v) = t.get("x-dead-letter-routing-key") {
        args.dead_letter_routing_key = Some(string(v).ok_or("x-dead-letter-routing-key")?);
    }
    if let Some(v) = t.get("x-message-ttl") {
        let n = amqp_int(v).filter(|n| *n >= 0).ok_or("x-message-ttl")?;
        args.message_ttl = Some(n.min(u64::MAX as i128) as u64);
    }
    if let Some(v) = t.get("x-max-length") {
        let n = amqp_int(v).filter(|n| *n >= 0).ok_or("x-max-length")?;
        args.max_length = Some(n.min(u64::MAX as i128) as u64);
    }
    if let Some(v) = t.get("x-overflow")
        && string(v).as_deref() != Some("drop-head")
    {
        // reject-publish and reject-publish-dlx are not implemented: refuse rather than
        // silently behave differently.
        return Err("x-overflow");
    }
    Ok(args)
}

/// A consumer as its queue sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRef {
    pub chan: ChanKey,
    pub tag: Arc<str>,
}

#[derive(Debug)]
pub struct Queue {
    pub name: Arc<str>,
    /// Tells a queue from an earlier one of the same name (deleted and declared again).
    pub uid: u64,
    pub durable: bool,
    pub exclusive: Option<ConnId>,
    pub auto_delete: bool,
    pub arguments: FieldTable,
    pub args: QueueArgs,
    pub ready: BTreeMap<u64, Entry>,
    pub next_seq: u64,
    pub consumers: Vec<ConsumerRef>,
    /// Where the next round-robin search for a consumer starts.
    pub next_consumer: usize,
    pub had_consumers: bool,
    pub unacked: u64,
    /// Messages enqueued, and delivered or got, since the queue was declared.
    pub published: u64,
    pub delivered: u64,
}

impl Queue {
    pub fn new(
        name: &str,
        uid: u64,
        durable: bool,
        exclusive: Option<ConnId>,
        auto_delete: bool,
        arguments: FieldTable,
        args: QueueArgs,
    ) -> Self {
        Self {
            name: name.into(),
            uid,
            durable,
            exclusive,
            auto_delete,
            arguments,
            args,
            ready: BTreeMap::new(),
            next_seq: 0,
            consumers: Vec::new(),
            next_consumer: 0,
            had_consumers: false,
            unacked: 0,
            published: 0,
            delivered: 0,
        }
    }

    /// Appends a message; returns its position.
    pub fn push(&mut self, msg: Arc<Message>, now_ms: u64) -> u64 {
        let ttl = match (self.args.message_ttl, msg.expiration_ms()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.published += 1;
        self.ready.insert(
            seq,
            Entry {
                msg,
                redelivered: false,
                expires_at: ttl.map(|t| now_ms.saturating_add(t)),
            },
        );
        seq
    }

    /// Puts a message back at its original position, marked redelivered.
    pub fn requeue(&mut self, seq: u64, mut entry: Entry) {
        entry.redelivered = true;
        self.ready.insert(seq, entry);
    }

    /// Removes expired messages from the head (RabbitMQ expires only from the head).
    pub fn take_expired(&mut self, now_ms: u64, out: &mut Vec<Entry>) {
        while let Some(e) = self.ready.first_entry() {
            match e.get().expires_at {
                Some(t) if t < now_ms => out.push(e.remove()),
                _ => break,
            }
        }
    }

    /// Removes messages from the head beyond `x-max-length`.
    pub fn take_overflow(&mut self, out: &mut Vec<Entry>) {
        if let Some(max) = self.args.max_length {
            while self.ready.len() as u64 > max {
                match self.ready.pop_first() {
                    Some((_, e)) => out.push(e),
                    None => break,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::frame::encode_properties;
    use amq_protocol::protocol::BasicProperties;
    use amq_protocol::types::LongString;
    use bytes::Bytes;

    fn m(id: u64) -> Arc<Message> {
        let p = BasicProperties::default();
        Arc::new(Message {
            id,
            exchange: String::new(),
            routing_key: "q".into(),
            raw_properties: encode_properties(&p),
            properties: p,
            body: Bytes::new(),
        })
    }

    #[test]
    fn a_requeued_message_keeps_its_position() {
        let mut q = Queue::new(
            "q",
            1,
            false,
            None,
            false,
            FieldTable::default(),
            QueueArgs::default(),
        );
        for i in 0..3 {
            q.push(m(i), 0);
        }
        let (seq, e) = q.ready.pop_first().unwrap();
        q.requeue(seq, e);
        let (_, first) = q.ready.pop_first().unwrap();
        assert_eq!(first.msg.id, 0);
        assert!(first.redelivered);
    }

    #[test]
    fn ttl_and_max_length_take_from_the_head() {
        let args = QueueArgs {
            message_ttl: Some(10),
            max_length: Some(2),
            ..QueueArgs::default()
        };
        let mut q = Queue::new("q", 1, false, None, false, FieldTable::default(), args);
        for i in 0..3 {
            q.push(m(i), i * 100);
        }
        let mut out = Vec::new();
        q.take_overflow(&mut out);
        assert_eq!(out.len(), 1);
        q.take_expired(110, &mut out);
        assert_eq!(out.len(), 1, "message 1 lives until 110 inclusive");
        q.take_expired(150, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].msg.id, 1);
    }

    #[test]
    fn arguments_are_validated_and_compared_by_value() {
        let mut a = FieldTable::default();
        a.insert("x-message-ttl".into(), AMQPValue::LongInt(5));
        let mut b = FieldTable::default();
        b.insert("x-message-ttl".into(), AMQPValue::LongLongInt(5));
        b.insert(
            "x-other".into(),
            AMQPValue::LongString(LongString::from("y")),
        );
        assert_eq!(inequivalent_arg(&a, &b), None);
        b.insert("x-max-length".into(), AMQPValue::LongInt(1));
        assert_eq!(inequivalent_arg(&a, &b), Some("x-max-length"));
        a.insert("x-message-ttl".into(), AMQPValue::LongInt(-1));
        assert_eq!(parse_args(&a), Err("x-message-ttl"));
    }
}
