//! The broker's state and what each AMQP method does to it, with RabbitMQ's replies and reply
//! codes: exchanges, queues, channels with their consumers and unacked deliveries. Pure: a method
//! goes in, and what must be sent to which connection comes out in [`Core::take_outbox`]; what
//! must reach the disk comes out in [`Core::take_store_ops`]. Time is an argument.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use amq_protocol::protocol::{
    AMQPClass, access, basic, channel as chan, confirm, exchange as exch, queue as q, tx,
};
use amq_protocol::types::FieldTable;
use bytes::Bytes;

use super::exchange::{Exchange, Kind};
use super::frame::{ContentHeader, short};
use super::message::{DeathReason, Message, dead_lettered};
use super::queue::{
    ChanKey, ConnId, ConsumerRef, Entry, Queue, QueueArgs, describe, inequivalent_arg, parse_args,
};

/// Something to send on a connection.
#[derive(Debug, Clone)]
pub enum Out {
    Method(u16, AMQPClass),
    /// A method followed by a message's content header and body.
    Content(u16, AMQPClass, Arc<Message>),
    /// A publisher confirm; consecutive ones are sent as one with `multiple`.
    Confirm {
        channel: u16,
        tag: u64,
        ack: bool,
    },
    /// Send everything before, then close the socket.
    Close,
}

/// A change the state directory must record.
#[derive(Debug, Clone)]
pub enum StoreOp {
    DeclareQueue {
        name: String,
        auto_delete: bool,
        arguments: FieldTable,
    },
    DeleteQueue(String),
    PurgeQueue(String),
    Enqueue(String, Arc<Message>),
    Remove(String, u64),
}

/// An error a method ends in: the reply code and text, and the method it answers. Codes below
/// 500 (and 320) close the channel, the others the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpError {
    pub code: u16,
    pub text: String,
    pub class_id: u16,
    pub method_id: u16,
}

impl AmqpError {
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Self {
            code,
            text: text.into(),
            class_id: 0,
            method_id: 0,
        }
    }

    fn on(mut self, class: &AMQPClass) -> Self {
        self.class_id = class.get_amqp_class_id();
        self.method_id = class.get_amqp_method_id();
        self
    }

    /// Whether the whole connection closes.
    pub fn is_hard(&self) -> bool {
        !matches!(self.code, 311..=313 | 403..=406)
    }
}

fn not_found_queue(name: &str) -> AmqpError {
    AmqpError::new(404, format!("NOT_FOUND - no queue '{name}' in vhost '/'"))
}

fn not_found_exchange(name: &str) -> AmqpError {
    AmqpError::new(
        404,
        format!("NOT_FOUND - no exchange '{name}' in vhost '/'"),
    )
}

fn locked(name: &str) -> AmqpError {
    AmqpError::new(
        405,
        format!(
            "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{name}' in vhost '/'. \
             It could be originally declared on another connection or the exclusive property \
             value does not match that of the original declaration."
        ),
    )
}

fn default_exchange_refused() -> AmqpError {
    AmqpError::new(
        403,
        "ACCESS_REFUSED - operation not permitted on the default exchange",
    )
}

/// A consumer as its channel sees it.
#[derive(Debug)]
struct Consumer {
    queue: Arc<str>,
    no_ack: bool,
    prefetch: u16,
    unacked: u32,
}

/// A delivery awaiting its ack.
#[derive(Debug)]
struct Unacked {
    queue: Arc<str>,
    uid: u64,
    seq: u64,
    entry: Entry,
    consumer: Option<Arc<str>>,
}

#[derive(Debug, Default)]
struct Chan {
    prefetch: u16,
    global_prefetch: u16,
    next_tag: u64,
    unacked: BTreeMap<u64, Unacked>,
    consumers: HashMap<Arc<str>, Consumer>,
    confirm: bool,
    publish_seq: u64,
}

impl Chan {
    fn can_deliver(&self, tag: &str) -> bool {
        let Some(c) = self.consumers.get(tag) else {
            return false;
        };
        if c.no_ack {
            return true;
        }
        (c.prefetch == 0 || c.unacked < c.prefetch as u32)
            && (self.global_prefetch == 0 || self.unacked.len() < self.global_prefetch as usize)
    }
}

/// Totals over the broker's life, for the management API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub published: u64,
    pub delivered: u64,
}

/// What the management API shows of a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueInfo {
    pub name: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub exclusive: bool,
    pub arguments: FieldTable,
    pub ready: u64,
    pub unacked: u64,
    pub consumers: u64,
    pub published: u64,
    pub delivered: u64,
}

/// How a settled delivery ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    Ack,
    Requeue,
    Reject,
}

/// Dead-letter chains longer than this are cut (a cycle RabbitMQ would also stop).
const MAX_DEAD_LETTER_DEPTH: u32 = 16;

#[derive(Debug)]
pub struct Core {
    exchanges: HashMap<String, Exchange>,
    queues: HashMap<String, Queue>,
    channels: HashMap<ChanKey, Chan>,
    outbox: Vec<(ConnId, Out)>,
    store_ops: Vec<StoreOp>,
    persist: bool,
    now_ms: u64,
    next_uid: u64,
    next_msg_id: u64,
    totals: Totals,
}

impl Core {
    /// An empty broker with RabbitMQ's predeclared exchanges. With `persist`, changes to
    /// durable queues and their persistent messages are reported as [`StoreOp`]s.
    pub fn new(persist: bool) -> Self {
        let mut exchanges = HashMap::new();
        for (name, kind) in [
            ("amq.direct", Kind::Direct),
            ("amq.fanout", Kind::Fanout),
            ("amq.topic", Kind::Topic),
        ] {
            exchanges.insert(name.to_string(), Exchange::new(name, kind, true));
        }
        Self {
            exchanges,
            queues: HashMap::new(),
            channels: HashMap::new(),
            outbox: Vec::new(),
            store_ops: Vec::new(),
            persist,
            now_ms: 0,
            next_uid: 0,
            next_msg_id: 0,
            totals: Totals::default(),
        }
    }

    /// Sets the clock for what follows (milliseconds since the epoch).
    pub fn set_now(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
    }

    pub fn take_outbox(&mut self) -> Vec<(ConnId, Out)> {
        std::mem::take(&mut self.outbox)
    }

    pub fn take_store_ops(&mut self) -> Vec<StoreOp> {
        std::mem::take(&mut self.store_ops)
    }

    pub fn totals(&self) -> Totals {
        self.totals
    }

    pub fn queue_infos(&self) -> Vec<QueueInfo> {
        let mut out: Vec<QueueInfo> = self.queues.values().map(info).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub fn queue_info(&self, name: &str) -> Option<QueueInfo> {
        self.queues.get(name).map(info)
    }

    pub fn exchange_count(&self) -> usize {
        self.exchanges.len() + 1
    }

    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    fn send(&mut self, key: ChanKey, class: AMQPClass) {
        self.outbox.push((key.0, Out::Method(key.1, class)));
    }

    fn new_uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid
    }

    /// A message id above every id seen so far (restored messages included).
    pub fn new_msg_id(&mut self) -> u64 {
        self.next_msg_id += 1;
        self.next_msg_id
    }

    // ---- recovery from the state directory ----

    /// A durable queue read back from disk.
    pub fn restore_queue(&mut self, name: &str, auto_delete: bool, arguments: FieldTable) {
        let args = parse_args(&arguments).unwrap_or_default();
        let uid = self.new_uid();
        self.queues.insert(
            name.to_string(),
            Queue::new(name, uid, true, None, auto_delete, arguments, args),
        );
    }

    /// A persistent message read back from disk, appended to its queue.
    pub fn restore_message(&mut self, queue: &str, msg: Message) {
        self.next_msg_id = self.next_msg_id.max(msg.id);
        let now = self.now_ms;
        if let Some(q) = self.queues.get_mut(queue) {
            q.push(Arc::new(msg), now);
            q.published -= 1;
        }
    }

    // ---- channels and connections ----

    pub fn open_channel(&mut self, key: ChanKey) {
        self.channels.insert(key, Chan::default());
        self.send(
            key,
            AMQPClass::Channel(chan::AMQPMethod::OpenOk(chan::OpenOk {})),
        );
    }

    /// Forgets a channel: its consumers go, its unacked deliveries return to their queues (at
    /// their positions, redelivered).
    pub fn close_channel(&mut self, key: ChanKey) {
        let Some(ch) = self.channels.remove(&key) else {
            return;
        };
        let mut touched: Vec<Arc<str>> = Vec::new();
        for (tag, c) in ch.consumers {
            self.detach_consumer(&c.queue, key, &tag);
            touched.push(c.queue);
        }
        self.requeue_unacked(ch.unacked.into_values(), &mut touched);
        for name in touched {
            self.auto_delete_check(&name);
            self.dispatch(&name, 0);
        }
    }

    /// Returns unacked deliveries to their queues (at their positions, to be marked
    /// redelivered), skipping those whose queue was deleted since; adds each queue touched to
    /// `touched` once.
    fn requeue_unacked(
        &mut self,
        unacked: impl IntoIterator<Item = Unacked>,
        touched: &mut Vec<Arc<str>>,
    ) {
        for u in unacked {
            if let Some(q) = self.queues.get_mut(&*u.queue)
                && q.uid == u.uid
            {
                q.unacked -= 1;
                q.requeue(u.seq, u.entry);
                if !touched.contains(&u.queue) {
                    touched.push(u.queue);
                }
            }
        }
    }

    /// Forgets a connection: its channels, and the exclusive queues it owns.
    pub fn close_connection(&mut self, conn: ConnId) {
        let keys: Vec<ChanKey> = self
            .channels
            .keys()
            .filter(|k| k.0 == conn)
            .copied()
            .collect();
        for k in keys {
            self.close_channel(k);
        }
        let owned: Vec<String> = self
            .queues
            .values()
            .filter(|q| q.exclusive == Some(conn))
            .map(|q| q.name.to_string())
            .collect();
        for name in owned {
            self.delete_queue(&name);
        }
        self.outbox.retain(|(c, _)| *c != conn);
    }

    // ---- methods ----

    /// Runs one method (other than channel open/close and publishing) on an open channel.
    pub fn handle(&mut self, key: ChanKey, class: AMQPClass) -> Result<(), AmqpError> {
        let result = match &class {
            AMQPClass::Exchange(exch::AMQPMethod::Declare(d)) => self.exchange_declare(key, d),
            AMQPClass::Exchange(exch::AMQPMethod::Delete(d)) => self.exchange_delete(key, d),
            AMQPClass::Exchange(_) => Err(AmqpError::new(
                540,
                "NOT_IMPLEMENTED - exchange-to-exchange bindings",
            )),
            AMQPClass::Queue(q::AMQPMethod::Declare(d)) => self.queue_declare(key, d),
            AMQPClass::Queue(q::AMQPMethod::Bind(b)) => self.queue_bind(key, b),
            AMQPClass::Queue(q::AMQPMethod::Unbind(u)) => self.queue_unbind(key, u),
            AMQPClass::Queue(q::AMQPMethod::Purge(p)) => self.queue_purge(key, p),
            AMQPClass::Queue(q::AMQPMethod::Delete(d)) => self.queue_delete_method(key, d),
            AMQPClass::Basic(basic::AMQPMethod::Qos(qos)) => self.qos(key, qos),
            AMQPClass::Basic(basic::AMQPMethod::Consume(c)) => self.consume(key, c),
            AMQPClass::Basic(basic::AMQPMethod::Cancel(c)) => {
                self.cancel(key, c.consumer_tag.as_str());
                if !c.nowait {
                    self.send(
                        key,
                        AMQPClass::Basic(basic::AMQPMethod::CancelOk(basic::CancelOk {
                            consumer_tag: c.consumer_tag.clone(),
                        })),
                    );
                }
                Ok(())
            }
            AMQPClass::Basic(basic::AMQPMethod::Get(g)) => self.get(key, g),
            AMQPClass::Basic(basic::AMQPMethod::Ack(a)) => {
                self.settle(key, a.delivery_tag, a.multiple, Settle::Ack)
            }
            AMQPClass::Basic(basic::AMQPMethod::Nack(n)) => self.settle(
                key,
                n.delivery_tag,
                n.multiple,
                if n.requeue {
                    Settle::Requeue
                } else {
                    Settle::Reject
                },
            ),
            AMQPClass::Basic(basic::AMQPMethod::Reject(r)) => self.settle(
                key,
                r.delivery_tag,
                false,
                if r.requeue {
                    Settle::Requeue
                } else {
                    Settle::Reject
                },
            ),
            AMQPClass::Basic(basic::AMQPMethod::Recover(_)) => {
                self.recover(key);
                self.send(
                    key,
                    AMQPClass::Basic(basic::AMQPMethod::RecoverOk(basic::RecoverOk {})),
                );
                Ok(())
            }
            AMQPClass::Basic(basic::AMQPMethod::RecoverAsync(_)) => {
                self.recover(key);
                Ok(())
            }
            AMQPClass::Confirm(confirm::AMQPMethod::Select(s)) => {
                if let Some(ch) = self.channels.get_mut(&key) {
                    ch.confirm = true;
                }
                if !s.nowait {
                    self.send(
                        key,
                        AMQPClass::Confirm(confirm::AMQPMethod::SelectOk(confirm::SelectOk {})),
                    );
                }
                Ok(())
            }
            AMQPClass::Access(access::AMQPMethod::Request(_)) => {
                self.send(
                    key,
                    AMQPClass::Access(access::AMQPMethod::RequestOk(access::RequestOk {})),
                );
                Ok(())
            }
            AMQPClass::Tx(tx::AMQPMethod::Select(_)) => {
                Err(AmqpError::new(540, "NOT_IMPLEMENTED - transactions"))
            }
            _ => Err(AmqpError::new(
                503,
                format!(
                    "COMMAND_INVALID - method {}.{} is not valid here",
                    class.get_amqp_class_id(),
                    class.get_amqp_method_id()
                ),
            )),
        };
        result.map_err(|e| e.on(&class))
    }
}

fn unknown_tag(tag: u64) -> AmqpError {
    AmqpError::new(
        406,
        format!("PRECONDITION_FAILED - unknown delivery tag {tag}"),
    )
}

fn tf(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn info(q: &Queue) -> QueueInfo {
    QueueInfo {
        name: q.name.to_string(),
        durable: q.durable,
        auto_delete: q.auto_delete,
        exclusive: q.exclusive.is_some(),
        arguments: q.arguments.clone(),
        ready: q.ready.len() as u64,
        unacked: q.unacked,
        consumers: q.consumers.len() as u64,
        published: q.published,
        delivered: q.delivered,
    }
}

mod delivery;
#[cfg(test)]
mod tests;
mod topology;
