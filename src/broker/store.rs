//! The optional state directory: durable queues and their persistent messages in an append-only
//! log (`broker.log`, mode 0600, in a 0700 directory). One writer thread takes batches of
//! changes, writes them, calls fsync once for the whole batch (group commit) and only then sends
//! the publisher confirms that waited on them. At start the log is read back (a torn last record
//! from a crash is cut off) and rewritten compactly.
//!
//! Record: `u32 length | u32 checksum | u8 kind | fields`; strings and byte strings are
//! length-prefixed.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use amq_protocol::frame::WriteContext;
use amq_protocol::protocol::basic::parse_properties;
use amq_protocol::types::FieldTable;
use amq_protocol::types::generation::gen_field_table;
use amq_protocol::types::parsing::parse_field_table;
use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;

use super::core::{Core, Out, StoreOp};
use super::error::{BrokerError, StoreError};
use super::message::Message;
use crate::fsutil::{DIR_MODE, FILE_MODE, create_dir_private};

const LOG: &str = "broker.log";

const DECLARE: u8 = 1;
const DELETE: u8 = 2;
const PURGE: u8 = 3;
const ENQUEUE: u8 = 4;
const REMOVE: u8 = 5;

/// A confirm that waits for the disk: where to send it once the batch is synced.
pub struct PendingConfirm {
    pub tx: UnboundedSender<Out>,
    pub channel: u16,
    pub tag: u64,
}

/// Changes to write, and the confirm that waits on them.
pub struct Batch {
    pub ops: Vec<StoreOp>,
    pub confirm: Option<PendingConfirm>,
}

/// The handle to the writer thread; dropping every sender ends it after a last flush.
pub struct Store {
    tx: mpsc::Sender<Batch>,
    thread: Option<std::thread::JoinHandle<Result<(), StoreError>>>,
}

/// What the log held: durable queues in declaration order, each with its messages.
#[derive(Debug, Default)]
pub struct Recovered {
    pub queues: Vec<(String, bool, FieldTable)>,
    pub messages: HashMap<String, BTreeMap<u64, Message>>,
}

impl Recovered {
    /// Puts the recovered queues and messages into `core`.
    pub fn apply(self, core: &mut Core) {
        let mut messages = self.messages;
        for (name, auto_delete, args) in self.queues {
            core.restore_queue(&name, auto_delete, args);
            for (_, m) in messages.remove(&name).unwrap_or_default() {
                core.restore_message(&name, m);
            }
        }
    }

    fn queue_index(&self, name: &str) -> Option<usize> {
        self.queues.iter().position(|(n, _, _)| n == name)
    }

    fn replay(&mut self, kind: u8, mut r: Reader<'_>) -> Option<()> {
        match kind {
            DECLARE => {
                let name = r.string()?;
                let auto_delete = r.u8()? == 1;
                let args = r.table()?;
                if self.queue_index(&name).is_none() {
                    self.queues.push((name, auto_delete, args));
                }
            }
            DELETE => {
                let name = r.string()?;
                if let Some(i) = self.queue_index(&name) {
                    self.queues.remove(i);
                }
                self.messages.remove(&name);
            }
            PURGE => {
                let name = r.string()?;
                self.messages.remove(&name);
            }
            ENQUEUE => {
                let queue = r.string()?;
                let id = r.u64()?;
                let exchange = r.string()?;
                let routing_key = r.string()?;
                let raw = Bytes::from(r.bytes()?.to_vec());
                let body = Bytes::from(r.bytes()?.to_vec());
                let (_, properties) = parse_properties(&raw[..]).ok()?;
                self.messages.entry(queue).or_default().insert(
                    id,
                    Message {
                        id,
                        exchange,
                        routing_key,
                        properties,
                        raw_properties: raw,
                        body,
                    },
                );
            }
            REMOVE => {
                let queue = r.string()?;
                let id = r.u64()?;
                if let Some(m) = self.messages.get_mut(&queue) {
                    m.remove(&id);
                }
            }
            _ => return None,
        }
        Some(())
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn table(&mut self) -> Option<FieldTable> {
        let b = self.bytes()?;
        parse_field_table(b).ok().map(|(_, t)| t)
    }
}

/// FNV-1a over a record's payload: catches a torn or garbled tail.
fn checksum(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in data {
        h ^= *b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

fn record(out: &mut Vec<u8>, kind: u8, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    out.push(kind);
    fill(out);
    let payload_len = out.len() - start - 8;
    let sum = checksum(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&(payload_len as u32).to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&sum.to_be_bytes());
}

fn encode_table(t: &FieldTable) -> Vec<u8> {
    match gen_field_table(t)(WriteContext::from(Vec::new())) {
        Ok(ctx) => ctx.into_inner().0,
        Err(_) => vec![0, 0, 0, 0],
    }
}

fn encode_message(out: &mut Vec<u8>, queue: &str, m: &Message) {
    record(out, ENQUEUE, |o| {
        put_bytes(o, queue.as_bytes());
        o.extend_from_slice(&m.id.to_be_bytes());
        put_bytes(o, m.exchange.as_bytes());
        put_bytes(o, m.routing_key.as_bytes());
        put_bytes(o, &m.raw_properties);
        put_bytes(o, &m.body);
    });
}

fn encode_declare(out: &mut Vec<u8>, name: &str, auto_delete: bool, args: &FieldTable) {
    record(out, DECLARE, |o| {
        put_bytes(o, name.as_bytes());
        o.push(auto_delete as u8);
        put_bytes(o, &encode_table(args));
    });
}

/// Appends the records of `op` to `out`.
pub fn encode_op(out: &mut Vec<u8>, op: &StoreOp) {
    match op {
        StoreOp::DeclareQueue {
            name,
            auto_delete,
            arguments,
        } => encode_declare(out, name, *auto_delete, arguments),
        StoreOp::DeleteQueue(name) => record(out, DELETE, |o| put_bytes(o, name.as_bytes())),
        StoreOp::PurgeQueue(name) => record(out, PURGE, |o| put_bytes(o, name.as_bytes())),
        StoreOp::Enqueue(queue, m) => encode_message(out, queue, m),
        StoreOp::Remove(queue, id) => record(out, REMOVE, |o| {
            put_bytes(o, queue.as_bytes());
            o.extend_from_slice(&id.to_be_bytes());
        }),
    }
}

/// Reads records from `data` until the end or the first torn or damaged one.
pub fn replay(data: &[u8]) -> Recovered {
    let mut rec = Recovered::default();
    let mut r = Reader(data);
    while let Some(len) = r.u32() {
        let Some(sum) = r.u32() else { break };
        let Some(payload) = r.take(len as usize) else {
            break;
        };
        if payload.is_empty() || checksum(payload) != sum {
            break;
        }
        if rec.replay(payload[0], Reader(&payload[1..])).is_none() {
            break;
        }
    }
    rec
}

/// The whole recovered state as a fresh log.
fn compact(rec: &Recovered) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, auto_delete, args) in &rec.queues {
        encode_declare(&mut out, name, *auto_delete, args);
        if let Some(msgs) = rec.messages.get(name) {
            for m in msgs.values() {
                encode_message(&mut out, name, m);
            }
        }
    }
    out
}

fn state_err(path: &Path, e: impl std::fmt::Display) -> BrokerError {
    BrokerError::StateDir {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

impl Store {
    /// Opens (or creates) the state directory, reads it back and starts the writer thread.
    pub fn open(dir: &Path) -> Result<(Store, Recovered), BrokerError> {
        create_dir_private(dir).map_err(|e| state_err(dir, e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
            .map_err(|e| state_err(dir, e))?;
        let path = dir.join(LOG);
        let mut data = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut data).map_err(|e| state_err(&path, e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(state_err(&path, e)),
        }
        let rec = replay(&data);
        crate::fsutil::write_atomic(&path, &compact(&rec)).map_err(|e| state_err(&path, e))?;
        let file = OpenOptions::new()
            .append(true)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(|e| state_err(&path, e))?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("broker-store".into())
            .spawn(move || write_loop(file, path, rx))
            .map_err(|e| state_err(dir, e))?;
        Ok((
            Store {
                tx,
                thread: Some(thread),
            },
            rec,
        ))
    }

    /// Queues a batch for the writer thread.
    pub fn send(&self, batch: Batch) {
        let _ = self.tx.send(batch);
    }

    /// Flushes what is queued and stops the writer thread.
    pub fn close(mut self) -> Result<(), BrokerError> {
        let (tx, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.tx, tx));
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(Err(e))) => Err(BrokerError::Store(e)),
            Some(Err(_)) => Err(BrokerError::Store(StoreError::Panicked)),
            _ => Ok(()),
        }
    }
}

/// Group commit: take every batch waiting, write them in one go, fsync once, then confirm.
fn write_loop(mut file: File, path: PathBuf, rx: mpsc::Receiver<Batch>) -> Result<(), StoreError> {
    let mut buf = Vec::with_capacity(1 << 20);
    let mut confirms: Vec<PendingConfirm> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(batch) = next {
            for op in &batch.ops {
                encode_op(&mut buf, op);
            }
            confirms.extend(batch.confirm);
            next = if buf.len() < 8 << 20 {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if !buf.is_empty() {
            let written = file.write_all(&buf).and_then(|_| file.sync_data());
            buf.clear();
            if let Err(source) = written {
                let failed = StoreError::Write { path, source };
                tracing::error!(error = %failed, "store_write_failed");
                for c in confirms.drain(..) {
                    let _ = c.tx.send(Out::Confirm {
                        channel: c.channel,
                        tag: c.tag,
                        ack: false,
                    });
                }
                return Err(failed);
            }
        }
        for c in confirms.drain(..) {
            let _ = c.tx.send(Out::Confirm {
                channel: c.channel,
                tag: c.tag,
                ack: true,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::frame::encode_properties;
    use amq_protocol::protocol::BasicProperties;
    use std::sync::Arc;

    fn m(id: u64) -> Arc<Message> {
        let p = BasicProperties::default().with_delivery_mode(2);
        Arc::new(Message {
            id,
            exchange: String::new(),
            routing_key: "q".into(),
            raw_properties: encode_properties(&p),
            properties: p,
            body: Bytes::from(format!("body {id}")),
        })
    }

    #[test]
    fn the_log_replays_and_a_torn_tail_is_cut() {
        let mut out = Vec::new();
        let ops = [
            StoreOp::DeclareQueue {
                name: "q".into(),
                auto_delete: false,
                arguments: FieldTable::default(),
            },
            StoreOp::Enqueue("q".into(), m(1)),
            StoreOp::Enqueue("q".into(), m(2)),
            StoreOp::Enqueue("q".into(), m(3)),
            StoreOp::Remove("q".into(), 2),
        ];
        for op in &ops {
            encode_op(&mut out, op);
        }
        let rec = replay(&out);
        assert_eq!(rec.queues.len(), 1);
        let ids: Vec<u64> = rec.messages["q"].keys().copied().collect();
        assert_eq!(ids, vec![1, 3]);
        assert_eq!(rec.messages["q"][&3].body, Bytes::from("body 3"));
        // A crash in the middle of the last record loses that record only.
        let torn = &out[..out.len() - 3];
        let ids: Vec<u64> = replay(torn).messages["q"].keys().copied().collect();
        assert_eq!(ids, vec![1, 2, 3]);
        let mut garbled = out.clone();
        let n = garbled.len();
        garbled[n - 1] ^= 0xff;
        assert_eq!(replay(&garbled).messages["q"].len(), 3);
        assert_eq!(replay(&compact(&rec)).messages["q"].len(), 2);
    }
}
