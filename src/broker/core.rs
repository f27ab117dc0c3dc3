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
        for (_, u) in ch.unacked {
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
        for name in touched {
            self.auto_delete_check(&name);
            self.dispatch(&name, 0);
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

    fn exchange_declare(&mut self, key: ChanKey, d: &exch::Declare) -> Result<(), AmqpError> {
        let name = d.exchange.as_str();
        if name.is_empty() {
            return Err(default_exchange_refused());
        }
        if d.passive {
            if !self.exchanges.contains_key(name) {
                return Err(not_found_exchange(name));
            }
        } else {
            let Some(kind) = Kind::parse(d.kind.as_str()) else {
                return Err(AmqpError::new(
                    503,
                    format!(
                        "COMMAND_INVALID - unknown exchange type '{}'",
                        d.kind.as_str()
                    ),
                ));
            };
            if let Some(x) = self.exchanges.get(name) {
                let diff = if x.kind != kind {
                    Some(("type", kind.as_str(), x.kind.as_str()))
                } else if x.durable != d.durable {
                    Some(("durable", tf(d.durable), tf(x.durable)))
                } else if x.auto_delete != d.auto_delete {
                    Some(("auto_delete", tf(d.auto_delete), tf(x.auto_delete)))
                } else if x.internal != d.internal {
                    Some(("internal", tf(d.internal), tf(x.internal)))
                } else {
                    None
                };
                if let Some((arg, got, cur)) = diff {
                    return Err(AmqpError::new(
                        406,
                        format!(
                            "PRECONDITION_FAILED - inequivalent arg '{arg}' for exchange '{name}' \
                             in vhost '/': received '{got}' but current is '{cur}'"
                        ),
                    ));
                }
            } else {
                if name.starts_with("amq.") {
                    return Err(AmqpError::new(
                        403,
                        format!(
                            "ACCESS_REFUSED - exchange name '{name}' contains reserved prefix 'amq.*'"
                        ),
                    ));
                }
                let mut x = Exchange::new(name, kind, d.durable);
                x.auto_delete = d.auto_delete;
                x.internal = d.internal;
                x.arguments = d.arguments.clone();
                self.exchanges.insert(name.to_string(), x);
            }
        }
        if !d.nowait {
            self.send(
                key,
                AMQPClass::Exchange(exch::AMQPMethod::DeclareOk(exch::DeclareOk {})),
            );
        }
        Ok(())
    }

    fn exchange_delete(&mut self, key: ChanKey, d: &exch::Delete) -> Result<(), AmqpError> {
        let name = d.exchange.as_str();
        if name.is_empty() {
            return Err(default_exchange_refused());
        }
        if name.starts_with("amq.") {
            return Err(AmqpError::new(
                403,
                format!(
                    "ACCESS_REFUSED - deletion of system exchange '{name}' in vhost '/' refused"
                ),
            ));
        }
        if let Some(x) = self.exchanges.get(name) {
            if d.if_unused && !x.bindings.is_empty() {
                return Err(AmqpError::new(
                    406,
                    format!("PRECONDITION_FAILED - exchange '{name}' in vhost '/' in use"),
                ));
            }
            self.exchanges.remove(name);
        }
        if !d.nowait {
            self.send(
                key,
                AMQPClass::Exchange(exch::AMQPMethod::DeleteOk(exch::DeleteOk {})),
            );
        }
        Ok(())
    }

    /// The queue `name` as the connection of `key` may use it.
    fn usable_queue(&mut self, key: ChanKey, name: &str) -> Result<&mut Queue, AmqpError> {
        let q = self
            .queues
            .get_mut(name)
            .ok_or_else(|| not_found_queue(name))?;
        if q.exclusive.is_some_and(|c| c != key.0) {
            return Err(locked(name));
        }
        Ok(q)
    }

    fn declare_ok(&mut self, key: ChanKey, name: &str, nowait: bool) {
        let now = self.now_ms;
        let mut dead = Vec::new();
        let (ready, consumers) = match self.queues.get_mut(name) {
            Some(q) => {
                q.take_expired(now, &mut dead);
                (q.ready.len() as u32, q.consumers.len() as u32)
            }
            None => (0, 0),
        };
        self.dead_letter(name, dead, DeathReason::Expired, 0);
        if !nowait {
            self.send(
                key,
                AMQPClass::Queue(q::AMQPMethod::DeclareOk(q::DeclareOk {
                    queue: name.into(),
                    message_count: ready,
                    consumer_count: consumers,
                })),
            );
        }
    }

    fn queue_declare(&mut self, key: ChanKey, d: &q::Declare) -> Result<(), AmqpError> {
        let mut name = d.queue.to_string();
        if d.passive {
            self.usable_queue(key, &name)?;
            self.declare_ok(key, &name, d.nowait);
            return Ok(());
        }
        if name.is_empty() {
            name = format!("amq.gen-{}", uuid::Uuid::new_v4().simple());
        } else if name.starts_with("amq.") && !self.queues.contains_key(&name) {
            return Err(AmqpError::new(
                403,
                format!("ACCESS_REFUSED - queue name '{name}' contains reserved prefix 'amq.*'"),
            ));
        }
        if let Some(existing) = self.queues.get(&name) {
            if existing.exclusive.is_some_and(|c| c != key.0)
                || existing.exclusive.is_some() != d.exclusive
            {
                return Err(locked(&name));
            }
            let diff = if existing.durable != d.durable {
                Some(format!(
                    "'durable' for queue '{name}' in vhost '/': received '{}' but current is '{}'",
                    tf(d.durable),
                    tf(existing.durable)
                ))
            } else if existing.auto_delete != d.auto_delete {
                Some(format!(
                    "'auto_delete' for queue '{name}' in vhost '/': received '{}' but current is '{}'",
                    tf(d.auto_delete),
                    tf(existing.auto_delete)
                ))
            } else {
                inequivalent_arg(&existing.arguments, &d.arguments).map(|k| {
                    format!(
                        "'{k}' for queue '{name}' in vhost '/': received {} but current is {}",
                        describe(d.arguments.inner().get(k)),
                        describe(existing.arguments.inner().get(k))
                    )
                })
            };
            if let Some(diff) = diff {
                return Err(AmqpError::new(
                    406,
                    format!("PRECONDITION_FAILED - inequivalent arg {diff}"),
                ));
            }
        } else {
            let args: QueueArgs = parse_args(&d.arguments).map_err(|k| {
                AmqpError::new(
                    406,
                    format!(
                        "PRECONDITION_FAILED - invalid arg '{k}' for queue '{name}' in vhost '/'"
                    ),
                )
            })?;
            let uid = self.new_uid();
            let exclusive = d.exclusive.then_some(key.0);
            self.queues.insert(
                name.clone(),
                Queue::new(
                    &name,
                    uid,
                    d.durable,
                    exclusive,
                    d.auto_delete,
                    d.arguments.clone(),
                    args,
                ),
            );
            if self.persist && d.durable && !d.exclusive {
                self.store_ops.push(StoreOp::DeclareQueue {
                    name: name.clone(),
                    auto_delete: d.auto_delete,
                    arguments: d.arguments.clone(),
                });
            }
        }
        self.declare_ok(key, &name, d.nowait);
        Ok(())
    }

    fn bind_target(&mut self, key: ChanKey, queue: &str, exchange: &str) -> Result<(), AmqpError> {
        self.usable_queue(key, queue)?;
        if exchange.is_empty() {
            return Err(default_exchange_refused());
        }
        if !self.exchanges.contains_key(exchange) {
            return Err(not_found_exchange(exchange));
        }
        Ok(())
    }

    fn queue_bind(&mut self, key: ChanKey, b: &q::Bind) -> Result<(), AmqpError> {
        self.bind_target(key, b.queue.as_str(), b.exchange.as_str())?;
        if let Some(x) = self.exchanges.get_mut(b.exchange.as_str()) {
            x.bind(b.queue.as_str(), b.routing_key.as_str());
        }
        if !b.nowait {
            self.send(key, AMQPClass::Queue(q::AMQPMethod::BindOk(q::BindOk {})));
        }
        Ok(())
    }

    fn queue_unbind(&mut self, key: ChanKey, u: &q::Unbind) -> Result<(), AmqpError> {
        self.bind_target(key, u.queue.as_str(), u.exchange.as_str())?;
        if let Some(x) = self.exchanges.get_mut(u.exchange.as_str()) {
            x.unbind(u.queue.as_str(), u.routing_key.as_str());
        }
        self.send(
            key,
            AMQPClass::Queue(q::AMQPMethod::UnbindOk(q::UnbindOk {})),
        );
        Ok(())
    }

    fn queue_purge(&mut self, key: ChanKey, p: &q::Purge) -> Result<(), AmqpError> {
        let persist = self.persist;
        let q = self.usable_queue(key, p.queue.as_str())?;
        let count = q.ready.len() as u32;
        q.ready.clear();
        let durable = q.durable;
        if persist && durable {
            self.store_ops
                .push(StoreOp::PurgeQueue(p.queue.as_str().to_string()));
        }
        if !p.nowait {
            self.send(
                key,
                AMQPClass::Queue(q::AMQPMethod::PurgeOk(q::PurgeOk {
                    message_count: count,
                })),
            );
        }
        Ok(())
    }

    fn queue_delete_method(&mut self, key: ChanKey, d: &q::Delete) -> Result<(), AmqpError> {
        let name = d.queue.as_str();
        let count = match self.queues.get(name) {
            None => 0,
            Some(_) => {
                let q = self.usable_queue(key, name)?;
                if d.if_unused && !q.consumers.is_empty() {
                    return Err(AmqpError::new(
                        406,
                        format!("PRECONDITION_FAILED - queue '{name}' in vhost '/' in use"),
                    ));
                }
                if d.if_empty && !q.ready.is_empty() {
                    return Err(AmqpError::new(
                        406,
                        format!("PRECONDITION_FAILED - queue '{name}' in vhost '/' is not empty"),
                    ));
                }
                self.delete_queue(name)
            }
        };
        if !d.nowait {
            self.send(
                key,
                AMQPClass::Queue(q::AMQPMethod::DeleteOk(q::DeleteOk {
                    message_count: count,
                })),
            );
        }
        Ok(())
    }

    /// Removes a queue, its bindings and its consumers (who are told with basic.cancel).
    /// Returns the ready messages it held.
    fn delete_queue(&mut self, name: &str) -> u32 {
        let Some(q) = self.queues.remove(name) else {
            return 0;
        };
        for x in self.exchanges.values_mut() {
            x.forget_queue(name);
        }
        for c in &q.consumers {
            if let Some(ch) = self.channels.get_mut(&c.chan) {
                ch.consumers.remove(&c.tag);
            }
            self.send(
                c.chan,
                AMQPClass::Basic(basic::AMQPMethod::Cancel(basic::Cancel {
                    consumer_tag: c.tag.as_ref().into(),
                    nowait: true,
                })),
            );
        }
        if self.persist && q.durable {
            self.store_ops.push(StoreOp::DeleteQueue(name.to_string()));
        }
        q.ready.len() as u32
    }

    fn qos(&mut self, key: ChanKey, qos: &basic::Qos) -> Result<(), AmqpError> {
        let ch = self.channels.get_mut(&key).expect("open channel");
        if qos.global {
            ch.global_prefetch = qos.prefetch_count;
        } else {
            ch.prefetch = qos.prefetch_count;
        }
        self.send(
            key,
            AMQPClass::Basic(basic::AMQPMethod::QosOk(basic::QosOk {})),
        );
        let queues: Vec<Arc<str>> = self.channels[&key]
            .consumers
            .values()
            .map(|c| c.queue.clone())
            .collect();
        for name in queues {
            self.dispatch(&name, 0);
        }
        Ok(())
    }

    fn consume(&mut self, key: ChanKey, c: &basic::Consume) -> Result<(), AmqpError> {
        let name = c.queue.as_str();
        let q = self.usable_queue(key, name)?;
        if c.exclusive && !q.consumers.is_empty() {
            return Err(AmqpError::new(
                403,
                format!("ACCESS_REFUSED - queue '{name}' in vhost '/' in exclusive use"),
            ));
        }
        let tag: Arc<str> = if c.consumer_tag.as_str().is_empty() {
            format!("amq.ctag-{}", uuid::Uuid::new_v4().simple()).into()
        } else {
            c.consumer_tag.as_str().into()
        };
        let ch = self.channels.get_mut(&key).expect("open channel");
        if ch.consumers.contains_key(&tag) {
            return Err(AmqpError::new(
                530,
                format!("NOT_ALLOWED - attempt to reuse consumer tag '{tag}'"),
            ));
        }
        ch.consumers.insert(
            tag.clone(),
            Consumer {
                queue: name.into(),
                no_ack: c.no_ack,
                prefetch: ch.prefetch,
                unacked: 0,
            },
        );
        let q = self.queues.get_mut(name).expect("checked above");
        q.consumers.push(ConsumerRef {
            chan: key,
            tag: tag.clone(),
        });
        q.had_consumers = true;
        if !c.nowait {
            self.send(
                key,
                AMQPClass::Basic(basic::AMQPMethod::ConsumeOk(basic::ConsumeOk {
                    consumer_tag: tag.as_ref().into(),
                })),
            );
        }
        self.dispatch(name, 0);
        Ok(())
    }

    fn detach_consumer(&mut self, queue: &str, key: ChanKey, tag: &str) {
        if let Some(q) = self.queues.get_mut(queue) {
            q.consumers.retain(|c| !(c.chan == key && &*c.tag == tag));
            if q.next_consumer >= q.consumers.len() {
                q.next_consumer = 0;
            }
        }
    }

    fn auto_delete_check(&mut self, queue: &str) {
        if let Some(q) = self.queues.get(queue)
            && q.auto_delete
            && q.had_consumers
            && q.consumers.is_empty()
        {
            self.delete_queue(queue);
        }
    }

    /// Cancels a consumer; its unacked deliveries stay with the channel.
    fn cancel(&mut self, key: ChanKey, tag: &str) {
        let Some(c) = self
            .channels
            .get_mut(&key)
            .and_then(|ch| ch.consumers.remove(tag))
        else {
            return;
        };
        self.detach_consumer(&c.queue, key, tag);
        self.auto_delete_check(&c.queue);
    }

    fn get(&mut self, key: ChanKey, g: &basic::Get) -> Result<(), AmqpError> {
        let name = g.queue.as_str();
        let now = self.now_ms;
        let persist = self.persist;
        let q = self.usable_queue(key, name)?;
        let mut dead = Vec::new();
        let mut found = None;
        while let Some((seq, e)) = q.ready.pop_first() {
            if e.expires_at.is_some_and(|t| t < now) {
                dead.push(e);
                continue;
            }
            found = Some((seq, e));
            break;
        }
        let (uid, durable, remaining) = (q.uid, q.durable, q.ready.len() as u32);
        let qname = q.name.clone();
        match found {
            None => self.send(
                key,
                AMQPClass::Basic(basic::AMQPMethod::GetEmpty(basic::GetEmpty {})),
            ),
            Some((seq, e)) => {
                q.delivered += 1;
                if !g.no_ack {
                    q.unacked += 1;
                }
                self.totals.delivered += 1;
                let ch = self.channels.get_mut(&key).expect("open channel");
                ch.next_tag += 1;
                let tag = ch.next_tag;
                let class = AMQPClass::Basic(basic::AMQPMethod::GetOk(basic::GetOk {
                    delivery_tag: tag,
                    redelivered: e.redelivered,
                    exchange: short(&e.msg.exchange),
                    routing_key: short(&e.msg.routing_key),
                    message_count: remaining,
                }));
                self.outbox
                    .push((key.0, Out::Content(key.1, class, e.msg.clone())));
                if g.no_ack {
                    if persist && durable && e.msg.persistent() {
                        self.store_ops
                            .push(StoreOp::Remove(name.to_string(), e.msg.id));
                    }
                } else {
                    ch.unacked.insert(
                        tag,
                        Unacked {
                            queue: qname,
                            uid,
                            seq,
                            entry: e,
                            consumer: None,
                        },
                    );
                }
            }
        }
        self.dead_letter(name, dead, DeathReason::Expired, 0);
        Ok(())
    }

    fn settle(
        &mut self,
        key: ChanKey,
        tag: u64,
        multiple: bool,
        how: Settle,
    ) -> Result<(), AmqpError> {
        let ch = self.channels.get_mut(&key).expect("open channel");
        let taken: Vec<Unacked> = if multiple {
            let keep = if tag == 0 {
                BTreeMap::new()
            } else {
                ch.unacked.split_off(&(tag + 1))
            };
            let taken = std::mem::replace(&mut ch.unacked, keep);
            if taken.is_empty() && tag != 0 {
                return Err(unknown_tag(tag));
            }
            taken.into_values().collect()
        } else {
            match ch.unacked.remove(&tag) {
                Some(u) => vec![u],
                None => return Err(unknown_tag(tag)),
            }
        };
        let mut touched: Vec<Arc<str>> = Vec::new();
        for u in &taken {
            if let Some(c) = u.consumer.as_ref().and_then(|t| ch.consumers.get_mut(t)) {
                c.unacked = c.unacked.saturating_sub(1);
            }
        }
        if ch.global_prefetch > 0 {
            touched.extend(ch.consumers.values().map(|c| c.queue.clone()));
        }
        let mut rejected: Vec<(Arc<str>, Entry)> = Vec::new();
        for u in taken {
            let Some(q) = self.queues.get_mut(&*u.queue).filter(|q| q.uid == u.uid) else {
                continue;
            };
            q.unacked -= 1;
            let persisted = self.persist && q.durable && u.entry.msg.persistent();
            match how {
                Settle::Ack => {
                    if persisted {
                        self.store_ops
                            .push(StoreOp::Remove(u.queue.to_string(), u.entry.msg.id));
                    }
                }
                Settle::Requeue => q.requeue(u.seq, u.entry),
                Settle::Reject => rejected.push((u.queue.clone(), u.entry)),
            }
            if !touched.contains(&u.queue) {
                touched.push(u.queue);
            }
        }
        for (queue, entry) in rejected {
            self.dead_letter(&queue, vec![entry], DeathReason::Rejected, 0);
        }
        for name in touched {
            self.dispatch(&name, 0);
        }
        Ok(())
    }

    fn recover(&mut self, key: ChanKey) {
        let Some(ch) = self.channels.get_mut(&key) else {
            return;
        };
        let unacked = std::mem::take(&mut ch.unacked);
        for c in ch.consumers.values_mut() {
            c.unacked = 0;
        }
        let mut touched: Vec<Arc<str>> = Vec::new();
        for (_, u) in unacked {
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
        for name in touched {
            self.dispatch(&name, 0);
        }
    }

    /// Publishes one message. Returns the publisher-confirm sequence number when the channel is
    /// in confirm mode; the caller sends the confirm (after the disk, when there is one).
    pub fn publish(
        &mut self,
        key: ChanKey,
        p: &basic::Publish,
        header: ContentHeader,
        body: Bytes,
    ) -> Result<Option<u64>, AmqpError> {
        let class = || AMQPClass::Basic(basic::AMQPMethod::Publish(p.clone()));
        if p.immediate {
            return Err(AmqpError::new(540, "NOT_IMPLEMENTED - immediate=true").on(&class()));
        }
        let exchange = p.exchange.as_str();
        let rk = p.routing_key.as_str();
        let mut targets = Vec::new();
        if exchange.is_empty() {
            if self.queues.contains_key(rk) {
                targets.push(rk.to_string());
            }
        } else {
            let x = self
                .exchanges
                .get(exchange)
                .ok_or_else(|| not_found_exchange(exchange).on(&class()))?;
            if x.internal {
                return Err(AmqpError::new(
                    403,
                    format!(
                        "ACCESS_REFUSED - cannot publish to internal exchange '{exchange}' in vhost '/'"
                    ),
                )
                .on(&class()));
            }
            x.route(rk, &mut targets);
        }
        let ch = self.channels.get_mut(&key).expect("open channel");
        let confirm = ch.confirm.then(|| {
            ch.publish_seq += 1;
            ch.publish_seq
        });
        let id = self.new_msg_id();
        let msg = Arc::new(Message {
            id,
            exchange: exchange.to_string(),
            routing_key: rk.to_string(),
            properties: header.properties,
            raw_properties: header.raw_properties,
            body,
        });
        self.totals.published += 1;
        if targets.is_empty() && p.mandatory {
            let ret = AMQPClass::Basic(basic::AMQPMethod::Return(basic::Return {
                reply_code: 312,
                reply_text: "NO_ROUTE".into(),
                exchange: p.exchange.clone(),
                routing_key: p.routing_key.clone(),
            }));
            self.outbox.push((key.0, Out::Content(key.1, ret, msg)));
            return Ok(confirm);
        }
        self.enqueue(&targets, msg, 0);
        Ok(confirm)
    }

    /// Appends `msg` to each queue, hands it to a consumer if one is free, and applies
    /// `x-max-length`.
    fn enqueue(&mut self, targets: &[String], msg: Arc<Message>, depth: u32) {
        let now = self.now_ms;
        for name in targets {
            let Some(q) = self.queues.get_mut(name) else {
                continue;
            };
            q.push(msg.clone(), now);
            if self.persist && q.durable && msg.persistent() {
                self.store_ops
                    .push(StoreOp::Enqueue(name.clone(), msg.clone()));
            }
            self.dispatch(name, depth);
            let mut dropped = Vec::new();
            if let Some(q) = self.queues.get_mut(name) {
                q.take_overflow(&mut dropped);
            }
            self.dead_letter(name, dropped, DeathReason::MaxLen, depth);
        }
    }

    /// Hands ready messages of `name` to its consumers, round robin, within their prefetch.
    fn dispatch(&mut self, name: &str, depth: u32) {
        let mut dead = Vec::new();
        {
            let Core {
                queues,
                channels,
                outbox,
                store_ops,
                totals,
                now_ms,
                persist,
                ..
            } = self;
            let Some(q) = queues.get_mut(name) else {
                return;
            };
            q.take_expired(*now_ms, &mut dead);
            while !q.ready.is_empty() && !q.consumers.is_empty() {
                let n = q.consumers.len();
                let pick = (0..n).map(|i| (q.next_consumer + i) % n).find(|&i| {
                    let c = &q.consumers[i];
                    channels
                        .get(&c.chan)
                        .is_some_and(|ch| ch.can_deliver(&c.tag))
                });
                let Some(i) = pick else { break };
                q.next_consumer = (i + 1) % n;
                let Some((seq, entry)) = q.ready.pop_first() else {
                    break;
                };
                if entry.expires_at.is_some_and(|t| t < *now_ms) {
                    dead.push(entry);
                    continue;
                }
                let c = q.consumers[i].clone();
                let ch = channels.get_mut(&c.chan).expect("checked in pick");
                let consumer = ch.consumers.get_mut(&c.tag).expect("checked in pick");
                ch.next_tag += 1;
                let tag = ch.next_tag;
                q.delivered += 1;
                totals.delivered += 1;
                let class = AMQPClass::Basic(basic::AMQPMethod::Deliver(basic::Deliver {
                    consumer_tag: c.tag.as_ref().into(),
                    delivery_tag: tag,
                    redelivered: entry.redelivered,
                    exchange: short(&entry.msg.exchange),
                    routing_key: short(&entry.msg.routing_key),
                }));
                outbox.push((c.chan.0, Out::Content(c.chan.1, class, entry.msg.clone())));
                if consumer.no_ack {
                    if *persist && q.durable && entry.msg.persistent() {
                        store_ops.push(StoreOp::Remove(name.to_string(), entry.msg.id));
                    }
                } else {
                    consumer.unacked += 1;
                    q.unacked += 1;
                    ch.unacked.insert(
                        tag,
                        Unacked {
                            queue: q.name.clone(),
                            uid: q.uid,
                            seq,
                            entry,
                            consumer: Some(c.tag.clone()),
                        },
                    );
                }
            }
        }
        self.dead_letter(name, dead, DeathReason::Expired, depth);
    }

    /// Messages leaving queue `from` for `reason`: to its dead-letter exchange when it has one,
    /// otherwise dropped.
    fn dead_letter(&mut self, from: &str, entries: Vec<Entry>, reason: DeathReason, depth: u32) {
        if entries.is_empty() {
            return;
        }
        let (args, durable) = match self.queues.get(from) {
            Some(q) => (q.args.clone(), q.durable),
            None => (QueueArgs::default(), false),
        };
        let now_s = self.now_ms / 1000;
        for e in entries {
            if self.persist && durable && e.msg.persistent() {
                self.store_ops
                    .push(StoreOp::Remove(from.to_string(), e.msg.id));
            }
            let Some(dlx) = args.dead_letter_exchange.as_deref() else {
                continue;
            };
            if depth >= MAX_DEAD_LETTER_DEPTH {
                continue;
            }
            let rk = args
                .dead_letter_routing_key
                .clone()
                .unwrap_or_else(|| e.msg.routing_key.clone());
            let mut targets = Vec::new();
            if dlx.is_empty() {
                if self.queues.contains_key(&rk) {
                    targets.push(rk.clone());
                }
            } else if let Some(x) = self.exchanges.get(dlx) {
                x.route(&rk, &mut targets);
            }
            // A message expiring or overflowing back into the queue it left would cycle for
            // ever; RabbitMQ drops it, and so does this.
            if reason != DeathReason::Rejected {
                targets.retain(|t| t != from);
            }
            if targets.is_empty() {
                continue;
            }
            let id = self.new_msg_id();
            let msg = dead_lettered(&e.msg, id, from, reason, dlx, &rk, now_s);
            self.enqueue(&targets, Arc::new(msg), depth + 1);
        }
    }

    /// Expires messages at the head of every queue (called on a timer).
    pub fn expire_all(&mut self) {
        let now = self.now_ms;
        let names: Vec<String> = self
            .queues
            .values()
            .filter(|q| {
                q.ready
                    .first_key_value()
                    .is_some_and(|(_, e)| e.expires_at.is_some_and(|t| t < now))
            })
            .map(|q| q.name.to_string())
            .collect();
        for name in names {
            let mut dead = Vec::new();
            if let Some(q) = self.queues.get_mut(&name) {
                q.take_expired(now, &mut dead);
            }
            self.dead_letter(&name, dead, DeathReason::Expired, 0);
        }
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

#[cfg(test)]
mod tests;
