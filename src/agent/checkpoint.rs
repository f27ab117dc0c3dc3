//! Durable state on the checkpoint volume, shared by every agent of a fleet (a ReadWriteMany
//! volume in a cluster), so that whichever agent receives a task resumes it:
//!
//! - `tasks/<task_id>.json`: the checkpoint of a task in progress, written after every step and
//!   on SIGTERM, removed after the ack. Keyed by task, not by agent: a requeued task usually
//!   lands on another agent.
//! - `results/<task_id>.json`: the result, written before the ack. Delivery is at least once, so
//!   a delivery whose successful result already exists is acked without running it again.
//! - `agent-<index>.json`: the agent's own state, for operators and the console.
//!
//! A checkpoint goes once its task's result exists; results are kept for a retention period
//! ([`Store::sweep`], run by every agent at start), so neither directory grows without bound.
//!
//! Every write is atomic: a temporary file in the same directory, renamed over the old one, so a
//! reader sees the old file or the new one, never a torn one. Checkpoints and results are also
//! durable (the file and the directory are fsynced before the write returns), but for the mark
//! written when a task starts ([`Store::mark_running`]), which only has to outlive the agent's
//! process; the agent's own file is for operators to read and is not fsynced either: a crash
//! may lose its last counters, never a task's progress.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::fsutil::{write_atomic, write_atomic_unsynced};

/// Progress of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub task_id: Uuid,
    /// Steps completed; the next run starts at this step.
    pub step: u32,
    /// Tokens used by the completed steps.
    pub tokens: u64,
    /// The delivery attempt that wrote it.
    pub attempt: u32,
    /// Starts of this task that ended with their agent dying, not counting the current one.
    #[serde(default)]
    pub deaths: u32,
    /// True from the start of a run until it stops on its own terms (a step failed, a signal,
    /// the last step): a checkpoint found with `running` set is a run whose agent died.
    #[serde(default)]
    pub running: bool,
    pub agent: String,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    Success,
    Failure,
}

/// The durable record of a finished task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    pub task_id: Uuid,
    pub status: ResultStatus,
    pub steps: u32,
    pub tokens: u64,
    pub attempts: u32,
    pub agent: String,
    pub completed_at: Timestamp,
    pub duration_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    Starting,
    Running,
    Draining,
    Stopped,
}

/// The agent's own state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub index: String,
    pub pid: u32,
    pub version: String,
    pub state: AgentState,
    pub started_at: Timestamp,
    pub updated_at: Timestamp,
    pub tasks_succeeded: u64,
    pub tasks_failed: u64,
    pub tasks_requeued: u64,
    pub current_tasks: Vec<Uuid>,
}

/// The checkpoint directory cannot be created or written by this process.
#[derive(Debug, thiserror::Error)]
#[error(
    "checkpoint dir '{}' is not writable: {source}; pass --checkpoint-dir with a writable directory (a shared volume in a cluster)",
    .dir.display()
)]
pub struct NotWritable {
    /// The directory given (not the subdirectory that failed).
    pub dir: PathBuf,
    pub source: io::Error,
}

/// The checkpoint directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens `root`, creating its subdirectories, and checks that this process may write there
    /// (permissions and a read-only mount, as `access(2)` sees them) without writing a probe
    /// file: thousands of agents starting on one shared volume would otherwise contend on its
    /// directory. The error names the directory.
    pub fn open(root: &Path) -> Result<Self, NotWritable> {
        let store = Self {
            root: root.to_path_buf(),
        };
        let fail = |source: io::Error| NotWritable {
            dir: root.to_path_buf(),
            source,
        };
        for dir in [store.tasks_dir(), store.results_dir()] {
            fs::create_dir_all(&dir).map_err(fail)?;
        }
        for dir in [root.to_path_buf(), store.tasks_dir(), store.results_dir()] {
            writable(&dir).map_err(fail)?;
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tasks_dir(&self) -> PathBuf {
        self.root.join("tasks")
    }

    fn results_dir(&self) -> PathBuf {
        self.root.join("results")
    }

    pub fn checkpoint_path(&self, id: Uuid) -> PathBuf {
        self.tasks_dir().join(format!("{id}.json"))
    }

    pub fn result_path(&self, id: Uuid) -> PathBuf {
        self.results_dir().join(format!("{id}.json"))
    }

    pub fn agent_path(&self, index: &str) -> PathBuf {
        self.root.join(format!("agent-{}.json", sanitize(index)))
    }

    pub fn load_checkpoint(&self, id: Uuid) -> io::Result<Option<Checkpoint>> {
        read_json(&self.checkpoint_path(id))
    }

    pub fn save_checkpoint(&self, c: &Checkpoint) -> io::Result<()> {
        write_json(&self.checkpoint_path(c.task_id), c)
    }

    /// Marks a task as started (a checkpoint with `running` set), atomically but without the
    /// fsyncs: the mark has to outlive the agent's process (an OOMKill, a crash), which the
    /// page cache does; a node that loses it in a power failure did not die of the task, and a
    /// node failure is not to count as a death. It saves two fsyncs per task.
    pub fn mark_running(&self, c: &Checkpoint) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(c).map_err(io::Error::other)?;
        write_atomic_unsynced(&self.checkpoint_path(c.task_id), &bytes)
    }

    pub fn remove_checkpoint(&self, id: Uuid) -> io::Result<()> {
        match fs::remove_file(self.checkpoint_path(id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn load_result(&self, id: Uuid) -> io::Result<Option<TaskResult>> {
        read_json(&self.result_path(id))
    }

    pub fn save_result(&self, r: &TaskResult) -> io::Result<()> {
        write_json(&self.result_path(r.task_id), r)
    }

    /// Atomic but not fsynced (see the module's doc).
    pub fn save_agent(&self, a: &AgentRecord) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(a).map_err(io::Error::other)?;
        write_atomic_unsynced(&self.agent_path(&a.index), &bytes)
    }
}

/// What [`Store::sweep`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Results older than the retention.
    pub results: u64,
    /// Checkpoints whose task has a result (a crash between the two writes left them).
    pub checkpoints: u64,
}

impl Store {
    /// Whether checkpoints and results can be written: a probe file in each directory,
    /// written durably and removed.
    pub fn probe(&self) -> io::Result<()> {
        for dir in [self.tasks_dir(), self.results_dir()] {
            let path = dir.join(format!(".probe-{}", Uuid::new_v4().simple()));
            write_atomic(&path, b"probe")?;
            fs::remove_file(&path)?;
        }
        Ok(())
    }

    /// Removes results last written more than `ttl` ago (none when `ttl` is zero) and
    /// checkpoints whose task already has a result. Files that vanish meanwhile (another agent
    /// sweeping the same volume) are not errors; temporary files of writes in progress are left.
    ///
    /// The volume is shared by the whole fleet: a sweep started less than `every` ago by any
    /// agent (the mtime of `.swept` at the root) makes this one a no-op (`None`), so that a
    /// thousand agents starting together scan the volume about once, not a thousand times.
    pub fn sweep(
        &self,
        ttl: std::time::Duration,
        every: std::time::Duration,
    ) -> io::Result<Option<Swept>> {
        let now = std::time::SystemTime::now();
        let marker = self.root.join(".swept");
        let recent = fs::metadata(&marker)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age < every);
        if recent {
            return Ok(None);
        }
        // Claimed before the scan, so agents starting meanwhile skip it.
        write_atomic_unsynced(&marker, b"")?;
        let mut swept = Swept::default();
        if !ttl.is_zero() {
            for (path, _) in json_entries(&self.results_dir())? {
                let old = fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|age| age > ttl);
                if old && remove_if_present(&path)? {
                    swept.results += 1;
                }
            }
        }
        for (path, id) in json_entries(&self.tasks_dir())? {
            if self.result_path(id).exists() && remove_if_present(&path)? {
                swept.checkpoints += 1;
            }
        }
        Ok(Some(swept))
    }
}

/// The `<uuid>.json` files of a directory.
fn json_entries(dir: &Path) -> io::Result<Vec<(PathBuf, Uuid)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<Uuid>().ok())
        else {
            continue;
        };
        out.push((entry.path(), id));
    }
    Ok(out)
}

/// Removes a file; false when it was already gone.
fn remove_if_present(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Agent indexes come from pod names and env; keep them to file-name-safe characters.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn read_json<T: DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    write_atomic(path, &bytes)
}

/// Whether this process may create files in `dir` (`access(2)` with `W_OK`: permissions and a
/// read-only mount).
fn writable(dir: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the path"))?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> PathBuf {
        let d = std::env::temp_dir().join(format!("fleetctl-ckpt-{}", Uuid::new_v4()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_sweep_is_skipped_when_any_agent_swept_the_volume_recently() {
        use std::time::Duration;
        let dir = tmp();
        let store = Store::open(&dir).unwrap();
        let id = Uuid::new_v4();
        store
            .save_result(&TaskResult {
                task_id: id,
                status: ResultStatus::Success,
                steps: 1,
                tokens: 0,
                attempts: 1,
                agent: "a-0".into(),
                completed_at: Timestamp::UNIX_EPOCH,
                duration_seconds: 0.0,
                reason: None,
            })
            .unwrap();
        let leftover = |id| Checkpoint {
            task_id: id,
            step: 1,
            tokens: 0,
            attempt: 1,
            deaths: 0,
            running: true,
            agent: "a-0".into(),
            updated_at: Timestamp::UNIX_EPOCH,
        };
        store.save_checkpoint(&leftover(id)).unwrap();
        let first = store
            .sweep(Duration::ZERO, Duration::from_secs(600))
            .unwrap();
        assert_eq!(first.map(|s| s.checkpoints), Some(1));
        // A second agent (another Store on the same volume) starting now does not scan again.
        store.save_checkpoint(&leftover(id)).unwrap();
        let other = Store::open(&dir).unwrap();
        assert_eq!(
            other
                .sweep(Duration::ZERO, Duration::from_secs(600))
                .unwrap(),
            None
        );
        assert!(other.load_checkpoint(id).unwrap().is_some());
        // Once `every` has passed, the next start sweeps.
        let swept = other.sweep(Duration::ZERO, Duration::ZERO).unwrap();
        assert_eq!(swept.map(|s| s.checkpoints), Some(1));
        assert_eq!(other.load_checkpoint(id).unwrap(), None);
    }

    #[test]
    fn checkpoints_round_trip_and_are_removed() {
        let dir = tmp();
        let store = Store::open(&dir).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(store.load_checkpoint(id).unwrap(), None);
        let c = Checkpoint {
            task_id: id,
            step: 3,
            tokens: 330,
            attempt: 1,
            deaths: 0,
            running: true,
            agent: "a-0".into(),
            updated_at: Timestamp::UNIX_EPOCH,
        };
        store.save_checkpoint(&c).unwrap();
        assert_eq!(store.load_checkpoint(id).unwrap(), Some(c.clone()));
        // Overwrite: the newest wins and no temp files stay behind.
        store.save_checkpoint(&Checkpoint { step: 4, ..c }).unwrap();
        assert_eq!(store.load_checkpoint(id).unwrap().unwrap().step, 4);
        let leftovers: Vec<_> = fs::read_dir(dir.join("tasks")).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
        store.remove_checkpoint(id).unwrap();
        store.remove_checkpoint(id).unwrap();
        assert_eq!(store.load_checkpoint(id).unwrap(), None);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn unwritable_dir_is_named() {
        let dir = tmp();
        let file = dir.join("plain-file");
        fs::write(&file, "x").unwrap();
        let err = Store::open(&file.join("sub")).unwrap_err();
        assert_eq!(err.dir, file.join("sub"));
        let err = err.to_string();
        assert!(
            err.contains("plain-file/sub") && err.contains("not writable"),
            "{err}"
        );
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn agent_file_names_are_safe() {
        let store = Store {
            root: PathBuf::from("/x"),
        };
        assert_eq!(
            store.agent_path("ai-agent-0/../x").to_str().unwrap(),
            "/x/agent-ai-agent-0_.._x.json"
        );
    }
}
