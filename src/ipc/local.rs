//! Local sockets for the async API, through the `interprocess` crate: Unix domain sockets on Unix,
//! named pipes on Windows, where a path gets node-ipc's pipe name ([`crate::config::pipe_path`]:
//! `/tmp/app.world` is `\\.\pipe\tmp-app.world`), so Rust and Node processes meet on Windows as
//! they do elsewhere.
//!
//! On Unix the socket file follows node-ipc-rs's rules, as before: `unlink` removes only a stale
//! *socket* at the path, `readable_all`/`writable_all` widen its mode, and the server removes its
//! own file (checked by inode) when it shuts down, never one that replaced it.

use std::io;
use std::path::Path;

use interprocess::local_socket::tokio::{Listener, Stream};
use interprocess::local_socket::traits::tokio::{Listener as _, Stream as _};
use interprocess::local_socket::{GenericFilePath, ListenerOptions, Name, ToFsName};

use super::Config;

/// The halves of a local connection. Unix: tokio's own (a graceful close shuts the write side down,
/// as before). Windows: the pipe behind a lock. A pipe has no half-close (interprocess's shutdown
/// is a no-op), but a graceful close still ends the connection: the writer task stops the reader
/// once it has flushed (`conn::write_loop`), and dropping both halves closes the pipe.
#[cfg(unix)]
pub(crate) type RecvHalf = tokio::net::unix::OwnedReadHalf;
#[cfg(unix)]
pub(crate) type SendHalf = tokio::net::unix::OwnedWriteHalf;
#[cfg(not(unix))]
pub(crate) type RecvHalf = tokio::io::ReadHalf<Stream>;
#[cfg(not(unix))]
pub(crate) type SendHalf = tokio::io::WriteHalf<Stream>;

fn halves(s: Stream) -> io::Result<(RecvHalf, SendHalf)> {
    #[cfg(unix)]
    {
        // interprocess's stream wraps tokio's UnixStream; take it back for a real shutdown(SHUT_WR).
        #[allow(unreachable_patterns)]
        let fd: std::os::fd::OwnedFd = match s {
            Stream::UdSocket(s) => s.try_into()?,
            _ => return Err(io::Error::new(io::ErrorKind::Unsupported, "not a Unix socket")),
        };
        let std = std::os::unix::net::UnixStream::from(fd);
        std.set_nonblocking(true)?;
        Ok(tokio::net::UnixStream::from_std(std)?.into_split())
    }
    #[cfg(not(unix))]
    {
        Ok(tokio::io::split(s))
    }
}

/// The name `path` has on this platform.
fn name(path: &Path) -> io::Result<Name<'static>> {
    #[cfg(windows)]
    {
        let pipe = crate::config::pipe_path(&path.to_string_lossy());
        pipe.to_fs_name::<GenericFilePath>().map(|n| n.into_owned())
    }
    #[cfg(not(windows))]
    {
        path.to_path_buf().to_fs_name::<GenericFilePath>().map(|n| n.into_owned())
    }
}

/// A listening local socket.
pub(crate) struct LocalListener {
    inner: Listener,
}

impl LocalListener {
    /// Listens at `path` with `config`'s `unlink`, `readable_all` and `writable_all`.
    pub(crate) fn bind(path: &Path, config: &Config) -> io::Result<LocalListener> {
        #[cfg(unix)]
        if config.unlink {
            remove_stale_socket(path);
        }
        // Name reclamation off: the server removes its own file itself, checking the inode.
        let inner = ListenerOptions::new().name(name(path)?).reclaim_name(false).create_tokio()?;
        #[cfg(unix)]
        widen_mode(path, config)?;
        #[cfg(not(unix))]
        let _ = config;
        Ok(LocalListener { inner })
    }

    /// The next connection, split into its halves.
    pub(crate) async fn accept(&self) -> io::Result<(RecvHalf, SendHalf)> {
        halves(self.inner.accept().await?)
    }
}

/// Connects to the local socket at `path`.
pub(crate) async fn connect(path: &Path) -> io::Result<(RecvHalf, SendHalf)> {
    halves(Stream::connect(name(path)?).await?)
}

/// Removes a socket file left at `path` by a dead server; never a file of another kind.
#[cfg(unix)]
fn remove_stale_socket(path: &Path) {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(unix)]
fn widen_mode(path: &Path, config: &Config) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if config.readable_all || config.writable_all {
        let mut mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if config.readable_all {
            mode |= 0o444;
        }
        if config.writable_all {
            mode |= 0o222;
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// The inode of the file at `path` (Unix), to remove only our own socket file on shutdown.
pub(crate) fn inode_of(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(path).ok().map(|m| m.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
