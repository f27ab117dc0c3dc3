//! A published message as the broker keeps it, and what dead-lettering does to it: the
//! `x-death` header RabbitMQ writes (one entry per queue and reason, newest first, with a count)
//! and the `x-first-death-*` headers. Pure.

use amq_protocol::protocol::BasicProperties;
use amq_protocol::types::{AMQPValue, FieldArray, FieldTable, LongString, ShortString};
use bytes::Bytes;

use super::frame::encode_properties;

/// One message: where it was published, its properties (parsed, and as sent) and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Unique within one broker run (and across runs with a state directory).
    pub id: u64,
    pub exchange: String,
    pub routing_key: String,
    pub properties: BasicProperties,
    pub raw_properties: Bytes,
    pub body: Bytes,
}

impl Message {
    /// Delivery mode 2.
    pub fn persistent(&self) -> bool {
        *self.properties.delivery_mode() == Some(2)
    }

    /// The per-message TTL from the `expiration` property, in milliseconds. A value that is not
    /// a non-negative integer is ignored.
    pub fn expiration_ms(&self) -> Option<u64> {
        self.properties
            .expiration()
            .as_ref()
            .and_then(|e| e.as_str().parse().ok())
    }
}

/// Why a message was dead-lettered, as `x-death` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeathReason {
    Rejected,
    Expired,
    MaxLen,
}

impl DeathReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeathReason::Rejected => "rejected",
            DeathReason::Expired => "expired",
            DeathReason::MaxLen => "maxlen",
        }
    }
}

fn long(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

fn text(v: &AMQPValue) -> Option<String> {
    match v {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

/// The properties of `msg` once dead-lettered from `queue` for `reason` at `now_s` (seconds):
/// the matching `x-death` entry counted up and moved first, or a new one added first;
/// `x-first-death-*` set once; a per-message `expiration` moved to `original-expiration`.
pub fn dead_letter_properties(
    msg: &Message,
    queue: &str,
    reason: DeathReason,
    now_s: u64,
) -> BasicProperties {
    let mut props = msg.properties.clone();
    let mut headers = props.headers().clone().unwrap_or_default();
    let mut deaths: Vec<AMQPValue> = match headers.inner().get("x-death") {
        Some(AMQPValue::FieldArray(a)) => a.as_slice().to_vec(),
        _ => Vec::new(),
    };
    let matches = |t: &FieldTable| {
        t.inner().get("queue").and_then(text).as_deref() == Some(queue)
            && t.inner().get("reason").and_then(text).as_deref() == Some(reason.as_str())
    };
    let found = deaths
        .iter()
        .position(|d| matches!(d, AMQPValue::FieldTable(t) if matches(t)));
    let entry = match found {
        Some(i) => {
            let AMQPValue::FieldTable(mut t) = deaths.remove(i) else {
                unreachable!("position matched a table")
            };
            let count = match t.inner().get("count") {
                Some(AMQPValue::LongLongInt(n)) => *n,
                _ => 0,
            };
            t.insert("count".into(), AMQPValue::LongLongInt(count + 1));
            t.insert("time".into(), AMQPValue::Timestamp(now_s));
            t
        }
        None => {
            let mut t = FieldTable::default();
            t.insert("count".into(), AMQPValue::LongLongInt(1));
            t.insert("reason".into(), long(reason.as_str()));
            t.insert("queue".into(), long(queue));
            t.insert("time".into(), AMQPValue::Timestamp(now_s));
            t.insert("exchange".into(), long(&msg.exchange));
            let keys: FieldArray = vec![long(&msg.routing_key)].into();
            t.insert("routing-keys".into(), AMQPValue::FieldArray(keys));
            if let Some(exp) = props.expiration() {
                t.insert("original-expiration".into(), long(exp.as_str()));
            }
            t
        }
    };
    deaths.insert(0, AMQPValue::FieldTable(entry));
    headers.insert("x-death".into(), AMQPValue::FieldArray(deaths.into()));
    for (key, value) in [
        ("x-first-death-reason", reason.as_str()),
        ("x-first-death-queue", queue),
        ("x-first-death-exchange", msg.exchange.as_str()),
    ] {
        if !headers.inner().contains_key(key) {
            headers.insert(ShortString::from(key), long(value));
        }
    }
    props = props.with_headers(headers);
    if props.expiration().is_some() {
        props = without_expiration(props);
    }
    props
}

/// `props` without its `expiration` (amq-protocol has setters only, so the rest is copied).
fn without_expiration(p: BasicProperties) -> BasicProperties {
    let mut out = BasicProperties::default();
    if let Some(v) = p.content_type() {
        out = out.with_content_type(v.clone());
    }
    if let Some(v) = p.content_encoding() {
        out = out.with_content_encoding(v.clone());
    }
    if let Some(v) = p.headers() {
        out = out.with_headers(v.clone());
    }
    if let Some(v) = p.delivery_mode() {
        out = out.with_delivery_mode(*v);
    }
    if let Some(v) = p.priority() {
        out = out.with_priority(*v);
    }
    if let Some(v) = p.correlation_id() {
        out = out.with_correlation_id(v.clone());
    }
    if let Some(v) = p.reply_to() {
        out = out.with_reply_to(v.clone());
    }
    if let Some(v) = p.message_id() {
        out = out.with_message_id(v.clone());
    }
    if let Some(v) = p.timestamp() {
        out = out.with_timestamp(*v);
    }
    if let Some(v) = p.kind() {
        out = out.with_type(v.clone());
    }
    if let Some(v) = p.user_id() {
        out = out.with_user_id(v.clone());
    }
    if let Some(v) = p.app_id() {
        out = out.with_app_id(v.clone());
    }
    if let Some(v) = p.cluster_id() {
        out = out.with_cluster_id(v.clone());
    }
    out
}

/// The message `msg` becomes when dead-lettered into `exchange` with `routing_key`.
pub fn dead_lettered(
    msg: &Message,
    id: u64,
    queue: &str,
    reason: DeathReason,
    exchange: &str,
    routing_key: &str,
    now_s: u64,
) -> Message {
    let properties = dead_letter_properties(msg, queue, reason, now_s);
    Message {
        id,
        exchange: exchange.to_string(),
        routing_key: routing_key.to_string(),
        raw_properties: encode_properties(&properties),
        properties,
        body: msg.body.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(props: BasicProperties) -> Message {
        Message {
            id: 1,
            exchange: "".into(),
            routing_key: "q".into(),
            raw_properties: encode_properties(&props),
            properties: props,
            body: Bytes::from_static(b"x"),
        }
    }

    fn deaths(p: &BasicProperties) -> Vec<FieldTable> {
        match p.headers().as_ref().unwrap().inner().get("x-death") {
            Some(AMQPValue::FieldArray(a)) => a
                .as_slice()
                .iter()
                .map(|v| match v {
                    AMQPValue::FieldTable(t) => t.clone(),
                    _ => panic!(),
                })
                .collect(),
            _ => panic!("no x-death"),
        }
    }

    #[test]
    fn a_second_death_in_the_same_queue_counts_up() {
        let m = msg(BasicProperties::default().with_expiration("50".into()));
        let once = dead_lettered(&m, 2, "q", DeathReason::Expired, "", "q.dlq", 10);
        assert!(once.properties.expiration().is_none());
        let d = deaths(&once.properties);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].inner()["count"], AMQPValue::LongLongInt(1));
        assert_eq!(d[0].inner()["original-expiration"], long("50"));
        let twice = dead_lettered(&once, 3, "q", DeathReason::Expired, "", "q.dlq", 11);
        let d = deaths(&twice.properties);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].inner()["count"], AMQPValue::LongLongInt(2));
        let other = dead_lettered(&twice, 4, "r", DeathReason::Rejected, "", "x", 12);
        let d = deaths(&other.properties);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].inner()["queue"], long("r"));
        let h = other.properties.headers().clone().unwrap();
        assert_eq!(h.inner()["x-first-death-reason"], long("expired"));
    }
}
