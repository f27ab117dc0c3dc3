//! The process runtime: `<fleetctl> agent ...` as a child in its own process group, with only
//! the pod's environment, stdout and stderr appended to the container's log file. Signals go to
//! the whole group; the child is killed if its owner is dropped, and by the kernel
//! (`PR_SET_PDEATHSIG`) when the sim itself dies, even by SIGKILL, so the sim never leaves an
//! agent behind to consume its queue. The kubelet starts children from the runtime's worker
//! threads, which live as long as the sim (the signal follows the thread that forked).

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::oneshot;

use super::{Exit, Launch, StartError, Started};

pub struct Ctl {
    pid: i32,
    alive: Arc<AtomicBool>,
}

impl Ctl {
    /// Sends `sig` to the container's process group while it runs.
    pub fn signal(&self, sig: i32) {
        if self.alive.load(Ordering::Acquire) && self.pid > 0 {
            // SAFETY: kill(2) with a negative pid signals a process group; no memory is shared.
            unsafe {
                libc::kill(-self.pid, sig);
            }
        }
    }

    /// The process id and whether it still runs, for the usage sampler.
    pub fn pid_and_alive(&self) -> (i32, Arc<AtomicBool>) {
        (self.pid, self.alive.clone())
    }

    /// Resident memory from /proc/<pid>/statm.
    pub fn rss_bytes(&self) -> Option<u64> {
        if !self.alive.load(Ordering::Acquire) {
            return None;
        }
        rss_of(self.pid)
    }
}

/// Resident bytes of `pid`.
pub fn rss_of(pid: i32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * if page > 0 { page as u64 } else { 4096 })
}

pub fn start(exe: &Path, l: Launch) -> Result<Started, StartError> {
    let err = |what: &str, e: std::io::Error| StartError(format!("{what}: {e}"));
    let log = crate::agent::output::append_to(&l.log)
        .map_err(|e| err("cannot open the container log", e))?;
    let log2 = log
        .try_clone()
        .map_err(|e| err("cannot open the container log", e))?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args(&l.argv)
        .env_clear()
        .envs(l.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: getpid has no preconditions.
    let sim = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe
    // functions (prctl, getppid); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The sim died between fork and prctl: the signal would never come.
            if libc::getppid() != sim {
                return Err(std::io::Error::other("the sim exited while starting"));
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        StartError(format!(
            "failed to start container process '{}': {e}",
            exe.display()
        ))
    })?;
    let pid = child.id().map(|p| p as i32).unwrap_or(0);
    let alive = Arc::new(AtomicBool::new(true));
    let (tx, rx) = oneshot::channel();
    let flag = alive.clone();
    tokio::spawn(async move {
        let exit = match child.wait().await {
            Ok(st) => match (st.code(), st.signal()) {
                (Some(c), _) => Exit {
                    code: c,
                    signal: None,
                },
                (None, Some(s)) => Exit {
                    code: 128 + s,
                    signal: Some(s),
                },
                _ => Exit {
                    code: 1,
                    signal: None,
                },
            },
            Err(_) => Exit {
                code: 1,
                signal: None,
            },
        };
        flag.store(false, Ordering::Release);
        let _ = tx.send(exit);
    });
    Ok(Started {
        exit: rx,
        ctl: super::Ctl::Process(Ctl { pid, alive }),
        container_id: format!("fleetctl-process://{pid}"),
    })
}
