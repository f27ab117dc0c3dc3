//! Topology methods: exchange and queue declare (and passive), bind, unbind, purge and delete,
//! with RabbitMQ's 404/405/406 replies.

use super::*;

impl Core {
    pub(super) fn exchange_declare(
        &mut self,
        key: ChanKey,
        d: &exch::Declare,
    ) -> Result<(), AmqpError> {
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

    pub(super) fn exchange_delete(
        &mut self,
        key: ChanKey,
        d: &exch::Delete,
    ) -> Result<(), AmqpError> {
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
    pub(super) fn usable_queue(
        &mut self,
        key: ChanKey,
        name: &str,
    ) -> Result<&mut Queue, AmqpError> {
        let q = self
            .queues
            .get_mut(name)
            .ok_or_else(|| not_found_queue(name))?;
        if q.exclusive.is_some_and(|c| c != key.0) {
            return Err(locked(name));
        }
        Ok(q)
    }

    pub(super) fn declare_ok(&mut self, key: ChanKey, name: &str, nowait: bool) {
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

    pub(super) fn queue_declare(&mut self, key: ChanKey, d: &q::Declare) -> Result<(), AmqpError> {
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

    pub(super) fn bind_target(
        &mut self,
        key: ChanKey,
        queue: &str,
        exchange: &str,
    ) -> Result<(), AmqpError> {
        self.usable_queue(key, queue)?;
        if exchange.is_empty() {
            return Err(default_exchange_refused());
        }
        if !self.exchanges.contains_key(exchange) {
            return Err(not_found_exchange(exchange));
        }
        Ok(())
    }

    pub(super) fn queue_bind(&mut self, key: ChanKey, b: &q::Bind) -> Result<(), AmqpError> {
        self.bind_target(key, b.queue.as_str(), b.exchange.as_str())?;
        if let Some(x) = self.exchanges.get_mut(b.exchange.as_str()) {
            x.bind(b.queue.as_str(), b.routing_key.as_str());
        }
        if !b.nowait {
            self.send(key, AMQPClass::Queue(q::AMQPMethod::BindOk(q::BindOk {})));
        }
        Ok(())
    }

    pub(super) fn queue_unbind(&mut self, key: ChanKey, u: &q::Unbind) -> Result<(), AmqpError> {
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

    pub(super) fn queue_purge(&mut self, key: ChanKey, p: &q::Purge) -> Result<(), AmqpError> {
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

    pub(super) fn queue_delete_method(
        &mut self,
        key: ChanKey,
        d: &q::Delete,
    ) -> Result<(), AmqpError> {
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
    pub(super) fn delete_queue(&mut self, name: &str) -> u32 {
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
}
