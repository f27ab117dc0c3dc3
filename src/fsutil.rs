//! Small file-system helpers shared by the agent and the local cluster: atomic replacement of a
//! file, with owner-only permissions on what they create (the files hold tokens, keys and
//! task state); the user's own directory for default state; the check that a directory
//! holding credentials is private.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// Mode of the files these helpers create.
pub const FILE_MODE: u32 = 0o600;
/// Mode of the directories these helpers create.
pub const DIR_MODE: u32 = 0o700;

/// Writes `bytes` to `path` atomically and durably: a temporary file in the same directory
/// (mode 0600), fsynced, renamed over `path`, then the directory fsynced. A reader sees the old
/// file or the new one, never a torn one. Missing parent directories are created (mode 0700).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_with(path, true, |f| f.write_all(bytes)).map(|_| ())
}

/// As [`write_atomic`], without the fsyncs: atomic, but a crash may lose the last write.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_with(path, false, |f| f.write_all(bytes)).map(|_| ())
}

/// As [`write_atomic`], with the content written by `fill` through a buffer (for files too
/// large to build in memory first); the number of bytes written.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<u64> {
    replace_with(path, true, |f| {
        let mut w = io::BufWriter::with_capacity(1 << 20, f);
        fill(&mut w)?;
        w.flush()
    })
}

/// Creates `dir` and its missing parents with mode 0700 (existing ones are left as they are).
pub fn create_dir_private(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Where fleetctl keeps `sub` (`local`, `sim`) by default: `$XDG_CACHE_HOME/fleetctl/<sub>`,
/// else `~/.cache/fleetctl/<sub>`, else a directory in the temporary directory named for the
/// user (`fleetctl-<sub>-<uid>`), never a name shared by all users.
pub fn user_dir(sub: &str) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        });
    match base {
        Some(b) => b.join("fleetctl").join(sub),
        None => std::env::temp_dir().join(format!("fleetctl-{sub}-{}", uid())),
    }
}

fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// Why a directory that holds credentials is not private; the message says the fix.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    #[error("{0}")]
    Unreadable(io::Error),
    #[error("it belongs to user {owner}, not to you ({uid})")]
    NotYours { owner: u32, uid: u32 },
    #[error("others may write to it (mode {mode:o}); chmod 700 it")]
    WritableByOthers { mode: u32 },
}

/// A directory that holds credentials must be this user's and not writable by others.
pub fn check_private_dir(dir: &Path) -> Result<(), PrivateDirError> {
    let meta = fs::metadata(dir).map_err(PrivateDirError::Unreadable)?;
    let uid = uid();
    if meta.uid() != uid {
        return Err(PrivateDirError::NotYours {
            owner: meta.uid(),
            uid,
        });
    }
    if meta.mode() & 0o022 != 0 {
        return Err(PrivateDirError::WritableByOthers {
            mode: meta.mode() & 0o777,
        });
    }
    Ok(())
}

/// A temporary file beside `path` (0600), filled by `fill`, renamed over `path`; with
/// `durable`, the file is fsynced before the rename and the directory after it. The temporary
/// file is removed on failure. The length of the new file.
fn replace_with(
    path: &Path,
    durable: bool,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<u64> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.exists() {
        create_dir_private(dir)?;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", Uuid::new_v4().simple()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        fill(&mut f)?;
        let len = f.metadata()?.len();
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        if durable {
            File::open(dir)?.sync_all()?;
        }
        Ok(len)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn replaces_atomically_with_private_modes() {
        let root = std::env::temp_dir().join(format!("fleetctl-fsutil-{}", Uuid::new_v4()));
        let path = root.join("a/b/file.json");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_atomic_unsynced(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(mode(&path), FILE_MODE);
        assert_eq!(mode(&root.join("a")), DIR_MODE);
        assert_eq!(mode(&root.join("a/b")), DIR_MODE);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(root.join("a/b")).unwrap().count(), 1);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_directory_others_may_write_is_not_private() {
        let root = std::env::temp_dir().join(format!("fleetctl-fsutil-{}", Uuid::new_v4()));
        create_dir_private(&root).unwrap();
        assert!(check_private_dir(&root).is_ok());
        fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
        let why = check_private_dir(&root).unwrap_err();
        assert!(
            matches!(why, PrivateDirError::WritableByOthers { mode: 0o777 }),
            "{why}"
        );
        assert_eq!(
            why.to_string(),
            "others may write to it (mode 777); chmod 700 it"
        );
        assert!(matches!(
            check_private_dir(&root.join("missing")),
            Err(PrivateDirError::Unreadable(_))
        ));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let root = std::env::temp_dir().join(format!("fleetctl-fsutil-{}", Uuid::new_v4()));
        fs::create_dir_all(root.join("target-is-a-dir")).unwrap();
        fs::write(root.join("target-is-a-dir/x"), b"x").unwrap();
        assert!(write_atomic(&root.join("target-is-a-dir"), b"y").is_err());
        assert_eq!(fs::read_dir(&root).unwrap().count(), 1);
        fs::remove_dir_all(&root).unwrap();
    }
}
