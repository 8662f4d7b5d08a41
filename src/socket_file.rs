//! The file of a Unix domain socket server: the rules both local listeners follow (the binding's
//! [`crate::net::Listener`] and the async API's `ipc::local`). `unlink` removes only a stale
//! *socket* at the path, `readable_all`/`writable_all` widen its mode, and a server removes its own
//! file (known by its inode) when it stops, never one that replaced it.
//!
//! Elsewhere (Windows: named pipes leave no file) these do nothing.

use std::io;
use std::path::Path;

/// Removes a socket file left at `path` by a dead server; never a file of another kind.
pub(crate) fn remove_stale(path: &Path) {
    if inode(path).is_some() {
        let _ = std::fs::remove_file(path);
    }
}

/// The inode of the socket file at `path`; `None` when there is none (or it is not a socket).
#[cfg(unix)]
pub(crate) fn inode(path: &Path) -> Option<u64> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.file_type().is_socket().then(|| meta.ino())
}

#[cfg(not(unix))]
pub(crate) fn inode(_path: &Path) -> Option<u64> {
    None
}

/// Removes the socket file at `path` if it is still the one with inode `ino` (ours).
pub(crate) fn remove_own(path: &Path, ino: u64) {
    if inode(path) == Some(ino) {
        let _ = std::fs::remove_file(path);
    }
}

/// Adds read (`readable_all`) and write (`writable_all`) permission for everyone to the file at
/// `path`.
#[cfg(unix)]
pub(crate) fn widen_mode(path: &Path, readable_all: bool, writable_all: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if readable_all || writable_all {
        let mut mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if readable_all {
            mode |= 0o444;
        }
        if writable_all {
            mode |= 0o222;
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn widen_mode(_path: &Path, _readable_all: bool, _writable_all: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(tag: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("nipc-sockfile-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn only_sockets_count_and_only_our_own_is_removed() {
        let path = scratch("own");
        std::fs::write(&path, b"x").unwrap();
        assert_eq!(inode(&path), None, "a regular file is not a socket");
        remove_stale(&path);
        assert!(path.exists(), "a regular file is never removed");
        std::fs::remove_file(&path).unwrap();

        // Our socket file, moved aside (it keeps its inode), and another server's at our path.
        let moved = scratch("moved");
        let ours = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let ino = inode(&path).expect("a socket");
        std::fs::rename(&path, &moved).unwrap();
        let theirs = std::os::unix::net::UnixListener::bind(&path).unwrap();
        remove_own(&path, ino);
        assert!(path.exists(), "a socket that replaced ours is not removed");
        remove_own(&moved, ino);
        assert!(!moved.exists(), "our own socket file is removed");
        drop((ours, theirs));

        remove_stale(&path);
        assert!(!path.exists(), "a stale socket is removed");
    }

    #[test]
    fn widen_mode_adds_read_and_write_for_all() {
        let path = scratch("mode");
        std::fs::write(&path, b"x").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        widen_mode(&path, false, false).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        widen_mode(&path, true, false).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        widen_mode(&path, false, true).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o666);
        std::fs::remove_file(&path).unwrap();
    }
}
