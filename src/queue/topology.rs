//! The queue layout, defined once. `seed` and the agent both declare it, and RabbitMQ refuses a
//! declaration whose arguments differ from the existing queue's (PRECONDITION_FAILED), so there is
//! exactly one place that says what the arguments are.
//!
//! `<queue>` is a durable classic queue whose dead letters go, through the default exchange, to
//! the durable `<queue>.dlq`. A message the agent rejects without requeue lands in the DLQ with
//! RabbitMQ's `x-death` header beside the agent's own reason header.

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

/// The queue the bundled manifests consume.
pub const DEFAULT_QUEUE: &str = "agent-tasks";

/// The longest queue name AMQP 0-9-1 can carry (a short string).
pub const MAX_QUEUE_NAME: usize = 255 - DLQ_SUFFIX.len();

/// Appended to a queue's name to name its dead-letter queue.
pub const DLQ_SUFFIX: &str = ".dlq";

/// The dead-letter queue of `queue`: `<queue>.dlq`.
pub fn dlq_name(queue: &str) -> String {
    format!("{queue}{DLQ_SUFFIX}")
}

/// Header the agent sets on a task it dead-letters, saying why.
pub const REASON_HEADER: &str = "x-fleetctl-reason";

/// Header counting delivery attempts of a task; the agent increments it on each retry.
pub const ATTEMPTS_HEADER: &str = "x-fleetctl-attempts";

/// Header counting how often a task was moved from the DLQ back to its queue (`fleetctl
/// redrive`), which also drops [`ATTEMPTS_HEADER`] so that the task gets fresh retries.
pub const REDRIVEN_HEADER: &str = "x-fleetctl-redriven";

/// One argument of a queue declaration, as plain data so that it can be compared and printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueArg {
    pub key: &'static str,
    pub value: String,
}

/// Why a queue name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueNameError {
    #[error("the queue name is empty; pass --queue NAME")]
    Empty,
    #[error(
        "the queue name is {0} bytes long; AMQP allows {MAX_QUEUE_NAME} here (the DLQ adds '{DLQ_SUFFIX}')"
    )]
    TooLong(usize),
    #[error("'{0}' starts with 'amq.', which RabbitMQ reserves; choose another --queue")]
    Reserved(String),
}

/// A task queue and its dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub queue: String,
    pub dlq: String,
}

impl Topology {
    /// The layout for `queue`, after checking that both names fit on the wire.
    pub fn new(queue: &str) -> Result<Self, QueueNameError> {
        if queue.is_empty() {
            return Err(QueueNameError::Empty);
        }
        if queue.len() > MAX_QUEUE_NAME {
            return Err(QueueNameError::TooLong(queue.len()));
        }
        if queue.starts_with("amq.") {
            return Err(QueueNameError::Reserved(queue.to_string()));
        }
        Ok(Self {
            queue: queue.to_string(),
            dlq: dlq_name(queue),
        })
    }

    /// The main queue's arguments: dead letters go through the default exchange to the DLQ.
    pub fn queue_args(&self) -> Vec<QueueArg> {
        vec![
            QueueArg {
                key: "x-dead-letter-exchange",
                value: String::new(),
            },
            QueueArg {
                key: "x-dead-letter-routing-key",
                value: self.dlq.clone(),
            },
        ]
    }

    /// The main queue's arguments as the AMQP table a declaration carries.
    pub fn queue_table(&self) -> FieldTable {
        to_table(&self.queue_args())
    }

    /// The DLQ takes no arguments: it is where messages stop.
    pub fn dlq_table(&self) -> FieldTable {
        FieldTable::default()
    }
}

fn to_table(args: &[QueueArg]) -> FieldTable {
    let mut table = FieldTable::default();
    for arg in args {
        table.insert(
            ShortString::from(arg.key),
            AMQPValue::LongString(LongString::from(arg.value.as_str())),
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letters_route_to_the_dlq() {
        let t = Topology::new("agent-tasks").unwrap();
        assert_eq!(t.dlq, "agent-tasks.dlq");
        assert_eq!(dlq_name("agent-tasks"), t.dlq);
        let args = t.queue_args();
        assert_eq!(args[0].key, "x-dead-letter-exchange");
        assert_eq!(args[0].value, "");
        assert_eq!(args[1].value, "agent-tasks.dlq");
        let table = t.queue_table();
        assert_eq!(table.inner().len(), 2);
    }

    #[test]
    fn rejects_names_that_cannot_be_declared() {
        assert!(Topology::new("").is_err());
        assert!(
            Topology::new("amq.x")
                .unwrap_err()
                .to_string()
                .contains("reserves")
        );
        assert!(Topology::new(&"q".repeat(MAX_QUEUE_NAME)).is_ok());
        assert!(Topology::new(&"q".repeat(MAX_QUEUE_NAME + 1)).is_err());
    }
}

/// Reads the attempt counter of a delivery: 0 when absent. Accepts any integer type, or a
/// numeric string, since other tools may have set it.
pub fn attempts(props: &lapin::BasicProperties) -> u32 {
    header_count(props, ATTEMPTS_HEADER)
}

/// Reads a counting header such as [`ATTEMPTS_HEADER`] or [`REDRIVEN_HEADER`]: 0 when absent,
/// negative or not a number; any integer type or a numeric string is accepted.
/// The value of an AMQP field of any integer type, as RabbitMQ reads `x-message-ttl` and
/// counts: None for a value of another type.
pub fn amqp_int(v: &AMQPValue) -> Option<i128> {
    Some(match v {
        AMQPValue::ShortShortInt(n) => *n as i128,
        AMQPValue::ShortShortUInt(n) => *n as i128,
        AMQPValue::ShortInt(n) => *n as i128,
        AMQPValue::ShortUInt(n) => *n as i128,
        AMQPValue::LongInt(n) => *n as i128,
        AMQPValue::LongUInt(n) => *n as i128,
        AMQPValue::LongLongInt(n) => *n as i128,
        _ => return None,
    })
}

pub fn header_count(props: &lapin::BasicProperties, key: &str) -> u32 {
    let Some(headers) = props.headers() else {
        return 0;
    };
    let Some(v) = headers.inner().get(key) else {
        return 0;
    };
    let n: i128 = match v {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes())
            .trim()
            .parse()
            .unwrap_or(0),
        AMQPValue::ShortString(s) => s.as_str().trim().parse().unwrap_or(0),
        v => amqp_int(v).unwrap_or(0),
    };
    n.clamp(0, u32::MAX as i128) as u32
}

/// `props` with `key` set in its headers (other headers kept) and delivery mode persistent.
pub fn with_header(
    props: lapin::BasicProperties,
    key: &str,
    value: AMQPValue,
) -> lapin::BasicProperties {
    let mut headers = props.headers().clone().unwrap_or_default();
    headers.insert(ShortString::from(key), value);
    props.with_headers(headers).with_delivery_mode(2)
}

/// `props` carrying attempt count `n`.
pub fn with_attempts(props: lapin::BasicProperties, n: u32) -> lapin::BasicProperties {
    with_header(props, ATTEMPTS_HEADER, AMQPValue::LongLongInt(n as i64))
}

/// `props` carrying the reason a task was dead-lettered.
pub fn with_reason(props: lapin::BasicProperties, reason: &str) -> lapin::BasicProperties {
    with_header(
        props,
        REASON_HEADER,
        AMQPValue::LongString(LongString::from(reason)),
    )
}

#[cfg(test)]
mod header_tests {
    use super::*;

    #[test]
    fn attempts_round_trip_and_tolerate_foreign_types() {
        let p = lapin::BasicProperties::default();
        assert_eq!(attempts(&p), 0);
        let p = with_attempts(p, 2);
        assert_eq!(attempts(&p), 2);
        assert_eq!(*p.delivery_mode(), Some(2));
        let p = with_reason(p, "boom");
        assert_eq!(attempts(&p), 2, "other headers are kept");
        let p = with_header(p, ATTEMPTS_HEADER, AMQPValue::LongString("5".into()));
        assert_eq!(attempts(&p), 5);
        let p = with_header(p, ATTEMPTS_HEADER, AMQPValue::LongInt(-3));
        assert_eq!(attempts(&p), 0);
    }
}
