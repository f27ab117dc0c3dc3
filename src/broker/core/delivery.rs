//! Delivery methods: qos, consume, cancel, get, ack/nack/reject, recover and publish, and what
//! follows from them: dispatch to consumers within prefetch, dead-lettering with `x-death`, TTL
//! expiry.

use super::*;

impl Core {
    pub(super) fn qos(&mut self, key: ChanKey, qos: &basic::Qos) -> Result<(), AmqpError> {
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

    pub(super) fn consume(&mut self, key: ChanKey, c: &basic::Consume) -> Result<(), AmqpError> {
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

    pub(super) fn detach_consumer(&mut self, queue: &str, key: ChanKey, tag: &str) {
        if let Some(q) = self.queues.get_mut(queue) {
            q.consumers.retain(|c| !(c.chan == key && &*c.tag == tag));
            if q.next_consumer >= q.consumers.len() {
                q.next_consumer = 0;
            }
        }
    }

    pub(super) fn auto_delete_check(&mut self, queue: &str) {
        if let Some(q) = self.queues.get(queue)
            && q.auto_delete
            && q.had_consumers
            && q.consumers.is_empty()
        {
            self.delete_queue(queue);
        }
    }

    /// Cancels a consumer; its unacked deliveries stay with the channel.
    pub(super) fn cancel(&mut self, key: ChanKey, tag: &str) {
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

    pub(super) fn get(&mut self, key: ChanKey, g: &basic::Get) -> Result<(), AmqpError> {
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

    pub(super) fn settle(
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

    pub(super) fn recover(&mut self, key: ChanKey) {
        let Some(ch) = self.channels.get_mut(&key) else {
            return;
        };
        let unacked = std::mem::take(&mut ch.unacked);
        for c in ch.consumers.values_mut() {
            c.unacked = 0;
        }
        let mut touched: Vec<Arc<str>> = Vec::new();
        self.requeue_unacked(unacked.into_values(), &mut touched);
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
    pub(super) fn enqueue(&mut self, targets: &[String], msg: Arc<Message>, depth: u32) {
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
    pub(super) fn dispatch(&mut self, name: &str, depth: u32) {
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
    pub(super) fn dead_letter(
        &mut self,
        from: &str,
        entries: Vec<Entry>,
        reason: DeathReason,
        depth: u32,
    ) {
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
