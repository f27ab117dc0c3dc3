//! Where an agent's log lines go. A `fleetctl agent` process writes them to stdout, which the
//! kubelet (or the sim's process runtime) captures as the container's log. An agent running
//! as a task inside the sim has no stdout of its own: [`in_container_log`] runs it with its
//! container's log file as its output, and [`Stdout`] (the writer the JSON log layer uses)
//! sends the lines of that task there instead of to the sim's stdout, so `kubectl logs` shows
//! an in-process agent's lines as it shows a process's.
//!
//! A task-local scope does not pass to spawned tasks by itself: the agent spawns its per-task
//! work and its state writer through [`inherit`], so their lines reach the container log too.
//! The metrics server's lines (accept warnings, rate-limited process-wide) stay on the sim's
//! stdout.

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing_subscriber::fmt::MakeWriter;

tokio::task_local! {
    static CONTAINER_LOG: PathBuf;
}

/// Runs `fut` with `log` as its output (see the module's doc).
pub fn in_container_log<F: Future>(log: PathBuf, fut: F) -> impl Future<Output = F::Output> {
    CONTAINER_LOG.scope(log, fut)
}

/// `fut`, to be spawned by the task running now: in the same container log when there is one
/// (an in-process agent's delivery tasks log where the agent does).
pub fn inherit<F: Future>(fut: F) -> futures::future::Either<impl Future<Output = F::Output>, F> {
    match current() {
        Some(log) => futures::future::Either::Left(CONTAINER_LOG.scope(log, fut)),
        None => futures::future::Either::Right(fut),
    }
}

/// Opens a container log for appending, creating its directory the first time.
pub fn append_to(path: &Path) -> io::Result<File> {
    let open = || OpenOptions::new().create(true).append(true).open(path);
    match open() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            open()
        }
        other => other,
    }
}

/// The container log of the task running now, if it runs in one.
fn current() -> Option<PathBuf> {
    CONTAINER_LOG.try_with(|p| p.clone()).ok()
}

/// stdout, or the container log of the in-process agent writing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

/// One log line's destination.
pub enum Line {
    Stdout(io::Stdout),
    /// Opened for this line (appending), so thousands of agents hold no descriptors.
    File(File),
    /// The container log could not be opened: the line is dropped rather than mixed into
    /// the sim's own output.
    Sink,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Line::Stdout(s) => s.write(buf),
            Line::File(f) => f.write(buf),
            Line::Sink => Ok(buf.len()),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Line::Stdout(s) => s.write_all(buf),
            Line::File(f) => f.write_all(buf),
            Line::Sink => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Line::Stdout(s) => s.flush(),
            Line::File(f) => f.flush(),
            Line::Sink => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for Stdout {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        match current() {
            None => Line::Stdout(io::stdout()),
            Some(path) => append_to(&path).map_or(Line::Sink, Line::File),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_of_a_scoped_task_go_to_its_file_others_to_stdout() {
        let dir = std::env::temp_dir().join(format!("fleetctl-output-{}", uuid::Uuid::new_v4()));
        let log = dir.join("c").join("0.log");
        in_container_log(log.clone(), async {
            let mut w = Stdout.make_writer();
            assert!(matches!(w, Line::File(_)));
            w.write_all(b"one\n").unwrap();
            Stdout.make_writer().write_all(b"two\n").unwrap();
        })
        .await;
        assert!(matches!(Stdout.make_writer(), Line::Stdout(_)));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\ntwo\n");
        // A task spawned from the scope through `inherit` writes to the same file.
        in_container_log(log.clone(), async {
            tokio::spawn(inherit(async {
                Stdout.make_writer().write_all(b"three\n").unwrap();
            }))
            .await
            .unwrap();
        })
        .await;
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\ntwo\nthree\n");
        let _ = std::fs::remove_dir_all(dir);
    }
}
