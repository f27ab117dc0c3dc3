//! The store on disk, kept the way an API server keeps etcd: every committed change appended
//! to a log (`state.log`) by a writer thread, batched (what arrives within 20 ms of the last
//! write, unless someone waits for it), one fsync per batch; now and then the
//! whole store is written as a snapshot (`state.snapshot.json`) and the log starts afresh.
//!
//! - The store hands each change to the writer through a bounded channel without waiting
//!   (under its lock it only pushes an `Arc`): nothing is serialised or written under the
//!   store's lock. A full channel (a disk slower than the writes) marks the log as behind; the
//!   writer then writes a snapshot, which covers every change it skipped. So memory stays
//!   bounded and no change is lost.
//! - A record is `len (u32 LE) | FNV-1a of the payload (u32 LE) | payload` (JSON). A crash
//!   leaves at most a torn last record, which loading detects and cuts off: at most the last
//!   batch is missing.
//! - A failed write is retried (with back-off) by writing a snapshot, and reported by
//!   [`Persist::flush`] until a write succeeds.
//! - Loading reads the snapshot (or an older sim's `state.json`), then replays the log.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::super::registry::TypeKey;
use super::{Change, EventType, Store};

/// The log of changes since the snapshot.
pub const LOG_FILE: &str = "state.log";
/// The whole store at one resourceVersion.
pub const SNAPSHOT_FILE: &str = "state.snapshot.json";
/// What sims before the log wrote (read once, then replaced by a snapshot).
pub const LEGACY_FILE: &str = "state.json";

/// Changes waiting for the writer before the log counts as behind.
const QUEUE: usize = 16_384;
/// Changes written with one fsync at most.
const BATCH: usize = 4_096;
/// The shortest time between two fsyncs: a batch gathers the changes that arrive until then
/// (group commit). A write of a few changes per fsync cost the sim 4% of its CPU in the
/// kernel while 10,000 pods start; a crash still loses at most the last batch.
const GATHER: Duration = Duration::from_millis(20);
/// The log is compacted into a snapshot when it is larger than this and than twice the
/// last snapshot.
const COMPACT_AT: u64 = 64 << 20;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read '{path}': {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("'{path}' is not a state file of this sim: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("the cluster state was not written to '{dir}': {reason}")]
    NotSaved { dir: PathBuf, reason: String },
}

/// One change as it goes to the log.
pub enum Record {
    Put {
        key: TypeKey,
        object: Value,
    },
    Delete {
        key: TypeKey,
        ns: String,
        name: String,
    },
}

/// FNV-1a, 32 bits: enough to tell a torn record from a whole one.
fn checksum(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn json_str(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Appends the record of `c` to `out`.
fn encode(c: &Change, out: &mut Vec<u8>) {
    let mut payload = format!(
        "{{\"rv\":{},\"group\":{},\"plural\":{},",
        c.rv,
        json_str(&c.key.group),
        json_str(&c.key.plural)
    )
    .into_bytes();
    if c.kind == EventType::Deleted {
        payload.extend_from_slice(
            format!(
                "\"op\":\"del\",\"ns\":{},\"name\":{}}}",
                json_str(&c.namespace),
                json_str(&c.name)
            )
            .as_bytes(),
        );
    } else {
        payload.extend_from_slice(b"\"op\":\"put\",\"object\":");
        payload.extend_from_slice(c.object_json());
        payload.push(b'}');
    }
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
}

/// The records of a log after resourceVersion `after`, in order, and the length of its whole
/// records (a torn tail is cut off there).
pub fn read_log(bytes: &[u8], after: u64) -> (Vec<(u64, Record)>, usize) {
    let mut out = vec![];
    let mut at = 0;
    while bytes.len() - at >= 8 {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let sum = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes"));
        let Some(payload) = bytes.get(at + 8..at + 8 + len) else {
            break;
        };
        if checksum(payload) != sum {
            break;
        }
        let Ok(v) = serde_json::from_slice::<Value>(payload) else {
            break;
        };
        at += 8 + len;
        let rv = v["rv"].as_u64().unwrap_or(0);
        if rv <= after {
            continue;
        }
        let key = TypeKey {
            group: v["group"].as_str().unwrap_or_default().to_string(),
            plural: v["plural"].as_str().unwrap_or_default().to_string(),
        };
        let rec = if v["op"] == "del" {
            Record::Delete {
                key,
                ns: v["ns"].as_str().unwrap_or_default().to_string(),
                name: v["name"].as_str().unwrap_or_default().to_string(),
            }
        } else {
            let mut v = v;
            Record::Put {
                key,
                object: v["object"].take(),
            }
        };
        out.push((rv, rec));
    }
    (out, at)
}

/// What loading found: the snapshot's resourceVersion and objects, then the log's records.
pub struct Loaded {
    pub rv: u64,
    pub objects: Vec<(TypeKey, Value)>,
    pub records: Vec<(u64, Record)>,
}

fn read_file(path: &Path) -> Result<Option<Vec<u8>>, PersistError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PersistError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads the state of `dir`: the snapshot (or a legacy `state.json`), then the log, whose torn
/// tail, if any, is cut off. None when the directory holds no state yet.
pub fn load(dir: &Path) -> Result<Option<Loaded>, PersistError> {
    let snap_path = dir.join(SNAPSHOT_FILE);
    let legacy = dir.join(LEGACY_FILE);
    let (path, bytes) = match read_file(&snap_path)? {
        Some(b) => (snap_path, Some(b)),
        None => {
            let b = read_file(&legacy)?;
            (legacy, b)
        }
    };
    let log_path = dir.join(LOG_FILE);
    let log = read_file(&log_path)?;
    if bytes.is_none() && log.is_none() {
        return Ok(None);
    }
    let mut loaded = Loaded {
        rv: 0,
        objects: vec![],
        records: vec![],
    };
    if let Some(bytes) = bytes {
        let mut snap: Value =
            serde_json::from_slice(&bytes).map_err(|e| PersistError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        loaded.rv = snap["rv"].as_u64().unwrap_or(1);
        if let Some(Value::Array(objects)) = snap.get_mut("objects").map(Value::take) {
            for mut entry in objects {
                let key = TypeKey {
                    group: entry["group"].as_str().unwrap_or_default().to_string(),
                    plural: entry["plural"].as_str().unwrap_or_default().to_string(),
                };
                loaded.objects.push((key, entry["object"].take()));
            }
        }
    }
    if let Some(log) = log {
        let (records, good) = read_log(&log, loaded.rv);
        if good < log.len() {
            // A torn last batch: cut it off so that new records follow whole ones.
            let f = OpenOptions::new()
                .write(true)
                .open(&log_path)
                .map_err(|source| PersistError::Read {
                    path: log_path.clone(),
                    source,
                })?;
            f.set_len(good as u64)
                .and_then(|()| f.sync_all())
                .map_err(|source| PersistError::Read {
                    path: log_path.clone(),
                    source,
                })?;
        }
        loaded.records = records;
    }
    Ok(Some(loaded))
}

/// Writes the snapshot of `objects` at `rv` atomically (temporary file, fsync, rename,
/// directory fsync); its size in bytes.
fn write_snapshot(dir: &Path, rv: u64, objects: &[(TypeKey, Arc<Value>)]) -> io::Result<u64> {
    let path = dir.join(SNAPSHOT_FILE);
    crate::fsutil::write_atomic_with(&path, |w| {
        write!(w, "{{\"rv\":{rv},\"objects\":[")?;
        for (i, (k, o)) in objects.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write!(
                w,
                "{{\"group\":{},\"plural\":{},\"object\":",
                json_str(&k.group),
                json_str(&k.plural)
            )?;
            serde_json::to_writer(&mut *w, &**o).map_err(io::Error::other)?;
            w.write_all(b"}")?;
        }
        w.write_all(b"]}")
    })
}

fn open_log(dir: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(crate::fsutil::FILE_MODE)
        .open(dir.join(LOG_FILE))
}

/// Where the writer stands, for [`Persist::flush`].
#[derive(Default)]
struct Progress {
    /// Every change up to here is on disk.
    persisted: u64,
    /// The last write's failure, until a write succeeds.
    error: Option<String>,
    /// Set by [`Persist::flush`]: write a snapshot now (a stopping sim restarts faster).
    compact: bool,
    /// Callers of [`Persist::flush`] waiting now.
    waiting: usize,
}

struct Shared {
    progress: Mutex<Progress>,
    changed: Condvar,
    behind: AtomicBool,
}

/// The store's side of the writer.
pub struct Persist {
    tx: Mutex<Option<SyncSender<Arc<Change>>>>,
    shared: Arc<Shared>,
    dir: PathBuf,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Persist {
    /// Starts the writer of `store` into `dir`, whose state is at `rv` already.
    pub fn start(store: Weak<Store>, dir: PathBuf, rv: u64) -> io::Result<Self> {
        let file = open_log(&dir)?;
        let (tx, rx) = sync_channel(QUEUE);
        let shared = Arc::new(Shared {
            progress: Mutex::new(Progress {
                persisted: rv,
                ..Default::default()
            }),
            changed: Condvar::new(),
            behind: AtomicBool::new(false),
        });
        let log_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut writer = Writer {
            store,
            dir: dir.clone(),
            file: Some(file),
            shared: shared.clone(),
            covered: rv,
            log_bytes,
            snapshot_bytes: 0,
            needs_snapshot: dir.join(LEGACY_FILE).exists(),
        };
        let thread = std::thread::Builder::new()
            .name("sim-state-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok(Persist {
            tx: Mutex::new(Some(tx)),
            shared,
            dir,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Hands a committed change to the writer; never waits.
    pub fn record(&self, c: Arc<Change>) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = tx.as_ref()
            && let Err(TrySendError::Full(_)) = tx.try_send(c)
        {
            self.shared.behind.store(true, Ordering::SeqCst);
        }
    }

    /// Waits (up to `within`) until every change up to `rv` is on disk, asking for a snapshot
    /// when `compact`; the write's failure if it is not.
    pub fn flush(&self, rv: u64, compact: bool, within: Duration) -> Result<(), PersistError> {
        let deadline = Instant::now() + within;
        let mut p = self
            .shared
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if compact {
            p.compact = true;
            self.shared.behind.store(true, Ordering::SeqCst);
        }
        p.waiting += 1;
        let result = loop {
            if p.persisted >= rv && !p.compact && p.error.is_none() {
                break Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                let reason = p.error.clone().unwrap_or_else(|| {
                    format!(
                        "the writer is behind (at resourceVersion {} of {rv})",
                        p.persisted
                    )
                });
                break Err(PersistError::NotSaved {
                    dir: self.dir.clone(),
                    reason,
                });
            }
            p = self
                .shared
                .changed
                .wait_timeout(p, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        p.waiting -= 1;
        result
    }

    /// Stops the writer once it has written what it holds.
    pub fn close(&self) {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

struct Writer {
    store: Weak<Store>,
    dir: PathBuf,
    file: Option<File>,
    shared: Arc<Shared>,
    /// Every change up to here is in the snapshot or the log.
    covered: u64,
    log_bytes: u64,
    snapshot_bytes: u64,
    /// A write failed (or a legacy state file is still there): the next write is a snapshot.
    needs_snapshot: bool,
}

impl Writer {
    fn run(&mut self, rx: Receiver<Arc<Change>>) {
        let mut backoff = Duration::from_millis(100);
        let mut warned: Option<Instant> = None;
        let mut failures = 0u64;
        let mut last_write = Instant::now() - GATHER;
        loop {
            let mut batch = Vec::new();
            let mut disconnected = match rx.recv_timeout(Duration::from_millis(500)) {
                Ok(c) => {
                    batch.push(c);
                    false
                }
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => true,
            };
            // Gather until GATHER after the last write (or a full batch), unless asked to
            // flush: a flush waits for nothing but the disk.
            let until = last_write + GATHER;
            while !disconnected && batch.len() < BATCH {
                let now = Instant::now();
                let wait = if now >= until || self.flush_asked() {
                    Duration::ZERO
                } else {
                    until - now
                };
                match rx.recv_timeout(wait) {
                    Ok(c) => batch.push(c),
                    Err(RecvTimeoutError::Timeout) if wait.is_zero() => break,
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => disconnected = true,
                }
            }
            last_write = Instant::now();
            let result = self.write(&batch);
            match result {
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    if failures > 0 {
                        tracing::info!(failures, "state_saved_again");
                        failures = 0;
                    }
                    let mut p = self
                        .shared
                        .progress
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    p.persisted = p.persisted.max(self.covered);
                    p.error = None;
                    drop(p);
                    self.shared.changed.notify_all();
                }
                Err(e) => {
                    failures += 1;
                    self.needs_snapshot = true;
                    self.file = None;
                    // One line per 10 s at most, with the count.
                    if warned.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                        tracing::warn!(dir = %self.dir.display(), error = %e, failures, "state_not_saved");
                        warned = Some(Instant::now());
                    }
                    self.shared
                        .progress
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .error = Some(e.to_string());
                    self.shared.changed.notify_all();
                    if disconnected {
                        return;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
            if disconnected {
                return;
            }
        }
    }

    /// Someone waits in [`Persist::flush`].
    fn flush_asked(&self) -> bool {
        self.shared
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .waiting
            > 0
    }

    /// Writes `batch` (what it holds beyond the snapshot), or a snapshot when one is due.
    fn write(&mut self, batch: &[Arc<Change>]) -> io::Result<()> {
        let compact = self
            .shared
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .compact;
        let behind = self.shared.behind.swap(false, Ordering::SeqCst);
        let big = self.log_bytes > COMPACT_AT.max(2 * self.snapshot_bytes);
        if behind || big || compact || self.needs_snapshot {
            if let Err(e) = self.snapshot() {
                // Try again next time.
                if behind {
                    self.shared.behind.store(true, Ordering::SeqCst);
                }
                return Err(e);
            }
            if compact {
                self.shared
                    .progress
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .compact = false;
            }
        }
        let mut buf = Vec::new();
        let mut last = self.covered;
        for c in batch.iter().filter(|c| c.rv > self.covered) {
            encode(c, &mut buf);
            last = c.rv;
        }
        if buf.is_empty() {
            return Ok(());
        }
        let file = match self.file.as_mut() {
            Some(f) => f,
            None => self.file.insert(open_log(&self.dir)?),
        };
        file.write_all(&buf)?;
        file.sync_data()?;
        self.log_bytes += buf.len() as u64;
        self.covered = last;
        Ok(())
    }

    /// The whole store as a snapshot, then an empty log.
    fn snapshot(&mut self) -> io::Result<()> {
        let Some(store) = self.store.upgrade() else {
            return Ok(());
        };
        let (rv, objects) = store.objects_at();
        drop(store);
        self.snapshot_bytes = write_snapshot(&self.dir, rv, &objects)?;
        drop(objects);
        // The log starts afresh: everything in it is in the snapshot.
        let log = self.dir.join(LOG_FILE);
        crate::fsutil::write_atomic(&log, b"")?;
        let mut f = open_log(&self.dir)?;
        f.seek(SeekFrom::End(0))?;
        self.file = Some(f);
        self.log_bytes = 0;
        self.covered = self.covered.max(rv);
        self.needs_snapshot = false;
        let legacy = self.dir.join(LEGACY_FILE);
        if legacy.exists() {
            let _ = std::fs::remove_file(legacy);
        }
        Ok(())
    }
}
