//! Local sockets for the async API, through the `interprocess` crate: Unix domain sockets on Unix,
//! named pipes on Windows, where a path gets node-ipc's pipe name ([`crate::config::pipe_path`]:
//! `/tmp/app.world` is `\\.\pipe\tmp-app.world`), so Rust and Node processes meet on Windows as
//! they do elsewhere.
//!
//! On Unix the socket file follows node-ipc-rs's rules, as before: `unlink` removes only a stale
//! *socket* at the path, `readable_all`/`writable_all` widen its mode, and the server removes its
//! own file (checked by inode) when it shuts down, never one that replaced it
//! ([`crate::socket_file`], shared with the binding's listener).

use std::io;
use std::path::Path;

use interprocess::local_socket::tokio::{Listener, Stream};
use interprocess::local_socket::traits::tokio::{Listener as _, Stream as _};
use interprocess::local_socket::{GenericFilePath, ListenerOptions, Name, ToFsName};

use super::Config;
use crate::socket_file;

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
        if config.unlink {
            socket_file::remove_stale(path);
        }
        // Name reclamation off: the server removes its own file itself, checking the inode.
        let inner = ListenerOptions::new().name(name(path)?).reclaim_name(false).create_tokio()?;
        socket_file::widen_mode(path, config.readable_all, config.writable_all)?;
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
