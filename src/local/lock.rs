//! One stack per state directory: an advisory lock (`flock`) on `<dir>/lock`, held for the life
//! of the process that started the stack and released by the kernel when it dies, even on
//! `kill -9`. The holder's pid is written into the file for messages.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::fsutil::FILE_MODE;

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Takes the lock of `dir`, or `None` when another process holds it.
    pub fn try_acquire(dir: &Path) -> io::Result<Option<StateLock>> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(dir.join("lock"))?;
        // SAFETY: flock on a descriptor this function owns; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EWOULDBLOCK) => Ok(None),
                _ => Err(e),
            };
        }
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "{}", std::process::id())?;
        Ok(Some(StateLock { _file: file }))
    }
}

/// The pid written by the lock's holder, when readable.
pub fn holder(dir: &Path) -> Option<u32> {
    let mut s = String::new();
    File::open(dir.join("lock"))
        .ok()?
        .read_to_string(&mut s)
        .ok()?;
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("fleetctl-lock-{}", uuid::Uuid::new_v4()));
        crate::fsutil::create_dir_private(&dir).unwrap();
        let first = StateLock::try_acquire(&dir).unwrap().expect("free");
        assert!(StateLock::try_acquire(&dir).unwrap().is_none());
        assert_eq!(holder(&dir), Some(std::process::id()));
        drop(first);
        assert!(StateLock::try_acquire(&dir).unwrap().is_some());
        let _ = std::fs::remove_dir_all(dir);
    }
}
