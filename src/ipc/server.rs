//! The server: listener, accept loop, peers, broadcast, shutdown.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::conn::{
    event_queue, read_loop, send_event, write_loop, Checks, EventReceiver, EventSender, Incoming, Outbox, ReadEnd,
    Signal, WriteEnd,
};
use super::local::{self, LocalListener};
use super::{Config, Error, ErrorCode, Message, Result};
use crate::flow::BACKPRESSURE_MESSAGE;
use crate::net::Endpoint;
use crate::profile::Profile;
use crate::socket_file;
use crate::socket_root::{self, LocalRules};

/// What a [`Server`] reports, in order per connection: `Connect`, then messages/data/errors, then
/// `Disconnect`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A connection was accepted (node-ipc's `connect`).
    Connect(Peer),
    /// A frame arrived (node-ipc dispatches it as event `message.type` with `(data, socket)`).
    Message {
        /// The decoded message.
        message: Message,
        /// Who sent it (its [`Peer::id`] is already updated from `data.id`).
        peer: Peer,
    },
    /// Raw mode ([`Config::raw`]): bytes as read (node-ipc's `data`).
    Data {
        /// The bytes.
        data: Vec<u8>,
        /// Who sent them.
        peer: Peer,
    },
    /// An invalid frame (the connection stays up, except for `ERR_IPC_FRAME_TOO_LARGE`), a socket
    /// error, or an accept error (`peer` is `None`).
    Error {
        /// What went wrong.
        error: Error,
        /// The connection it happened on.
        peer: Option<Peer>,
    },
    /// A connection closed (node-ipc's `socket.disconnected`, with the id learnt from `data.id`).
    Disconnect {
        /// The closed connection.
        peer: Peer,
        /// The last id the peer sent, if any.
        id: Option<String>,
    },
}

struct PeerInner {
    key: u64,
    id: Mutex<Option<String>>,
    out: Outbox,
    remote: Option<SocketAddr>,
    kill: Signal,
}

/// One connection accepted by a [`Server`]: cheap to clone, usable from any task.
///
/// `emit` queues the frame and returns at once; the connection's writer task sends everything
/// queued in as few syscalls as possible.
#[derive(Clone)]
pub struct Peer {
    inner: Arc<PeerInner>,
}

impl Peer {
    /// A number unique among this server's connections.
    pub fn key(&self) -> u64 {
        self.inner.key
    }

    /// The id this peer announced in its latest message with a string `data.id` (node-ipc's
    /// `socket.id`), if any.
    pub fn id(&self) -> Option<String> {
        self.inner.id.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The remote TCP address (`None` for Unix sockets).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote
    }

    /// Sends `{type, data}` to this peer (node-ipc's `server.emit(socket, type, data)`).
    pub fn emit<T: Serialize + ?Sized>(&self, ty: &str, data: &T) -> Result<()> {
        self.inner.out.emit(ty, data)
    }

    /// Sends bytes as they are (raw mode, or hand-made frames).
    pub fn send_raw(&self, bytes: &[u8]) -> Result<()> {
        self.inner.out.send_raw(bytes)
    }

    /// Closes the connection after writing what is queued (like `socket.end()`).
    pub fn close(&self) {
        self.inner.out.close();
    }

    /// Drops the connection now, discarding what is queued (like `socket.destroy()`).
    pub fn destroy(&self) {
        self.inner.out.mark_closed();
        self.inner.kill.fire();
    }

    /// True once the connection is closed or closing.
    pub fn is_closed(&self) -> bool {
        self.inner.kill.is_set() || self.inner.out.is_closed()
    }

    /// Bytes emitted and not yet handed to the kernel (bounded by [`Config::max_pending`]).
    pub fn pending_bytes(&self) -> usize {
        self.inner.out.pending()
    }

    /// Waits until [`pending_bytes`](Self::pending_bytes) is 0, like waiting for Node's `'drain'`:
    /// a producer emits while it is under its own mark, then awaits this. Fails with
    /// [`Error::Closed`](crate::ipc::Error::Closed) if the connection closes with bytes unsent.
    pub async fn drained(&self) -> Result<()> {
        self.inner.out.drained().await
    }

    fn learn_id(&self, message: &Message) {
        if let Some(id) = message.data_id() {
            if id.is_empty() {
                return;
            }
            let mut cur = self.inner.id.lock().unwrap_or_else(|p| p.into_inner());
            if cur.as_deref() != Some(&*id) {
                *cur = Some(id.into_owned());
            }
        }
    }
}

impl PartialEq for Peer {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Peer {}

impl std::hash::Hash for Peer {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.key.hash(state);
    }
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("key", &self.inner.key)
            .field("id", &self.id())
            .field("remote", &self.inner.remote)
            .finish()
    }
}

struct ServerShared {
    peers: Mutex<BTreeMap<u64, Peer>>,
    delimiter: Vec<u8>,
    max_pending: Option<usize>,
    /// The profile's rules, for every connection.
    checks: Arc<Checks>,
    stop: Signal,
    local_addr: Option<SocketAddr>,
    path: Option<PathBuf>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A cloneable handle to a [`Server`]: broadcast, list peers, shut down.
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<ServerShared>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("path", &self.shared.path)
            .field("local_addr", &self.shared.local_addr)
            .field("connections", &self.connection_count())
            .finish()
    }
}

impl ServerHandle {
    /// Sends `{type, data}` to every connection (node-ipc's `server.broadcast`); the frame is
    /// encoded once.
    pub fn broadcast<T: Serialize + ?Sized>(&self, ty: &str, data: &T) -> Result<()> {
        let mut frame = Vec::with_capacity(128);
        self.shared.checks.encode_into(&mut frame, ty, data, &self.shared.delimiter)?;
        self.broadcast_raw(&frame);
        Ok(())
    }

    /// Sends bytes as they are to every connection.
    pub fn broadcast_raw(&self, bytes: &[u8]) {
        for peer in self.lock_peers().values() {
            let _ = peer.send_raw(bytes);
        }
    }

    /// The open connections, oldest first.
    pub fn peers(&self) -> Vec<Peer> {
        self.lock_peers().values().cloned().collect()
    }

    /// The most recent connection that announced `id`.
    pub fn peer(&self, id: &str) -> Option<Peer> {
        self.lock_peers().values().rev().find(|p| p.id().as_deref() == Some(id)).cloned()
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.lock_peers().len()
    }

    /// The bound TCP address (useful after binding port 0); `None` for Unix sockets.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.shared.local_addr
    }

    /// The socket file path; `None` for TCP.
    pub fn path(&self) -> Option<&Path> {
        self.shared.path.as_deref()
    }

    /// Graceful shutdown: stops accepting, flushes and closes every connection (waiting at most
    /// 5 s for peers that do not read), removes the socket file. The event stream then ends after
    /// the last `Disconnect`.
    pub async fn shutdown(&self) {
        self.shared.stop.fire();
        let task = self.shared.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    fn lock_peers(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Peer>> {
        self.shared.peers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A node-ipc server: `ipc.serve()` / `ipc.serveNet()` in Rust.
///
/// Receive with [`recv`](Server::recv); everything else is on [`ServerHandle`] (which `Server`
/// derefs to; [`handle`](Server::handle) gives a clone to move into other tasks). Dropping the
/// `Server` stops it like [`shutdown`](ServerHandle::shutdown), without waiting.
///
/// ```
/// use node_ipc_rs::ipc::{Client, ClientEvent, Config, Server, ServerEvent};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), node_ipc_rs::ipc::Error> {
/// let config = Config::default();
/// let mut server = Server::serve_net("127.0.0.1", 0, &config).await?; // port 0: any free port
/// let addr = server.local_addr().unwrap();
/// let mut client = Client::connect_addr(addr, &config);
/// while !matches!(client.recv().await, Some(ClientEvent::Connect)) {}
///
/// let Some(ServerEvent::Connect(peer)) = server.recv().await else { panic!() };
/// server.broadcast("news", &serde_json::json!({"n": 1}))?;
/// let Some(ClientEvent::Message(m)) = client.recv().await else { panic!() };
/// assert_eq!((m.ty(), m.data["n"].as_u64()), ("news", Some(1)));
/// # drop(peer);
/// client.disconnect();
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub struct Server {
    handle: ServerHandle,
    events: EventReceiver<ServerEvent>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt(f)
    }
}

impl Deref for Server {
    type Target = ServerHandle;
    fn deref(&self) -> &ServerHandle {
        &self.handle
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.shared.stop.fire();
    }
}

enum Listener {
    /// Unix socket, or named pipe on Windows.
    Local(LocalListener),
    Tcp(TcpListener),
}

impl Server {
    /// Listens on node-ipc's default local path for `config.id`:
    /// `config.socket_root + config.appspace + config.id` (`/tmp/app.<id>` by default).
    pub async fn serve(config: &Config) -> Result<Server> {
        let path = config.socket_path(&config.id);
        Server::serve_path(path, config).await
    }

    /// Listens on a Unix socket at `path`.
    pub async fn serve_path(path: impl AsRef<Path>, config: &Config) -> Result<Server> {
        Server::bind(Endpoint::Local(path.as_ref().to_path_buf()), config).await
    }

    /// Listens on TCP `host:port` (port 0 picks a free port: see [`ServerHandle::local_addr`]).
    ///
    /// With [`Config::tls`] set, every connection runs over TLS: `Connect` is reported once the
    /// handshake is done, and a failed handshake (for example a client without a certificate under
    /// `request_cert`: `ERR_TLS_PEER_CERTIFICATE_REQUIRED`) is an [`ServerEvent::Error`] with
    /// Node's code and `peer: None`, with no `Connect` or `Disconnect`. Settings that cannot be used
    /// fail here (`ERR_IPC_TLS_CONFIGURATION`, `ENOENT`, …). See [`Client::connect_net`](super::Client::connect_net)
    /// for an example.
    pub async fn serve_net(host: &str, port: u16, config: &Config) -> Result<Server> {
        let addr = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}")))?;
        Server::bind(Endpoint::Tcp(addr), config).await
    }

    /// Listens on `endpoint` (TLS for TCP when [`Config::tls`] is set).
    ///
    /// Under node-ipc 14's profiles ([`Config::profile`]) the settings are checked first: assured
    /// listens on TCP only with TLS that verifies client certificates (`ERR_IPC_ASSURED_TRANSPORT`,
    /// `ERR_IPC_ASSURED_TLS`) and on a Unix socket only directly inside a secure socket root; any
    /// profile (or [`Config::secure_socket_root`]) creates a missing root, a secure root must be
    /// owner-only (`ERR_IPC_SOCKET_ROOT`, never `chmod`ed), and `unlink` refuses to replace a
    /// non-socket (`ERR_IPC_UNLINK_NOT_SOCKET`). See [`crate::socket_root`].
    pub async fn bind(endpoint: Endpoint, config: &Config) -> Result<Server> {
        let checks = config.checks()?;
        let assured = config.profile == Profile::Assured;
        // TLS only for TCP; the files are read once, here, then checked and used.
        let tls = match (&config.tls, &endpoint) {
            (Some(t), Endpoint::Tcp(_)) => Some(t.options()?),
            _ => None,
        };
        match &endpoint {
            Endpoint::Tcp(_) if assured => {
                crate::profile::check_assured_network(tls.is_some(), false)?;
                if let Some(t) = &tls {
                    crate::profile::check_assured_tls(t, true)?;
                }
            }
            Endpoint::Local(path) if config.profile != Profile::Default || config.wants_secure_root() => {
                let rules = LocalRules {
                    assured,
                    secure: config.wants_secure_root(),
                    create: true,
                    refuse_non_socket: config.profile != Profile::Default && config.unlink,
                };
                socket_root::check_local_server(&config.socket_root_in_use(), &path.to_string_lossy(), rules)?;
            }
            _ => {}
        }
        let tls = tls.as_ref().map(super::tls::acceptor).transpose()?;
        let (listener, local_addr, path) = match &endpoint {
            Endpoint::Local(path) => (Listener::Local(LocalListener::bind(path, config)?), None, Some(path.clone())),
            Endpoint::Tcp(addr) => {
                let l = TcpListener::bind(addr).await?;
                let a = l.local_addr()?;
                (Listener::Tcp(l), Some(a), None)
            }
        };
        let inode = path.as_deref().and_then(socket_file::inode);
        let (tx, rx) = event_queue(config.event_queue);
        let shared = Arc::new(ServerShared {
            peers: Mutex::new(BTreeMap::new()),
            delimiter: config.delimiter_checked(),
            max_pending: config.max_pending,
            checks,
            stop: Signal::default(),
            local_addr,
            path: path.clone(),
            task: Mutex::new(None),
        });
        // Cloned for every connection: without the TLS settings, already prepared in `tls`.
        let config = Config { tls: None, ..config.clone() };
        let task = tokio::spawn(accept_loop(listener, tls, shared.clone(), config, tx, path.zip(inode)));
        *shared.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        Ok(Server { handle: ServerHandle { shared }, events: rx })
    }

    /// The next event; `None` once the server has shut down and every connection has closed.
    pub async fn recv(&mut self) -> Option<ServerEvent> {
        self.events.recv().await
    }

    /// The next event if one is ready now.
    pub fn try_recv(&mut self) -> Option<ServerEvent> {
        self.events.try_recv()
    }

    /// A cloneable handle for other tasks.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }
}

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

async fn accept_loop(
    listener: Listener,
    tls: Option<TlsAcceptor>,
    shared: Arc<ServerShared>,
    config: Config,
    tx: EventSender<ServerEvent>,
    owned_path: Option<(PathBuf, u64)>,
) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shared.stop.wait() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            r = accept(&listener) => r,
        };
        match accepted {
            Ok(stream) => {
                let full = shared.peers.lock().unwrap_or_else(|p| p.into_inner()).len() >= config.max_connections;
                if full {
                    // Like Node's maxConnections: accepted, then closed at once, no event.
                    drop(stream);
                    continue;
                }
                let (shared, tx) = (shared.clone(), tx.clone());
                match (stream, &tls) {
                    (Accepted::Local(r, w), _) => {
                        let peer = new_peer(&shared, None);
                        conns.spawn(run_peer(r, w, peer, shared, tx));
                    }
                    (Accepted::Tcp(s, a), None) => {
                        let _ = s.set_nodelay(true);
                        crate::sockopt::unpace_loopback((&s).into(), &a);
                        let (r, w) = s.into_split();
                        let peer = new_peer(&shared, Some(a));
                        conns.spawn(run_peer(r, w, peer, shared, tx));
                    }
                    (Accepted::Tcp(s, a), Some(acceptor)) => {
                        let _ = s.set_nodelay(true);
                        crate::sockopt::unpace_loopback((&s).into(), &a);
                        // The handshake runs in the connection's task, so it never holds up accepts.
                        let acceptor = acceptor.clone();
                        conns.spawn(async move {
                            let handshake = tokio::select! {
                                _ = shared.stop.wait() => return,
                                r = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(s)) => r,
                            };
                            match handshake {
                                Ok(Ok(stream)) => {
                                    let (r, w) = tokio::io::split(stream);
                                    let peer = new_peer(&shared, Some(a));
                                    if shared.stop.is_set() {
                                        // Shutting down, possibly after the open connections
                                        // were told to close: close this one too.
                                        peer.close();
                                    }
                                    run_peer(r, w, peer, shared, tx).await;
                                }
                                Ok(Err(e)) => {
                                    let error = Error::from(e);
                                    send_event(&tx, ServerEvent::Error { error, peer: None }).await;
                                }
                                Err(_) => {
                                    let e = io::Error::new(
                                        io::ErrorKind::TimedOut,
                                        format!("TLS handshake with {a} timed out"),
                                    );
                                    send_event(&tx, ServerEvent::Error { error: Error::Io(e), peer: None }).await;
                                }
                            }
                        });
                    }
                }
            }
            Err(e) => {
                #[cfg(unix)]
                let again = matches!(
                    e.raw_os_error(),
                    Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS) | Some(libc::ENOMEM)
                );
                #[cfg(not(unix))]
                let again = e.kind() == io::ErrorKind::OutOfMemory;
                send_event(&tx, ServerEvent::Error { error: Error::Io(e), peer: None }).await;
                if again {
                    // Out of descriptors: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    // Stop listening first (and remove our socket file), then close connections gracefully.
    drop(listener);
    if let Some((path, ino)) = owned_path {
        socket_file::remove_own(&path, ino);
    }
    let peers: Vec<Peer> = shared.peers.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
    for p in &peers {
        p.close();
    }
    let drained =
        tokio::time::timeout(Duration::from_secs(5), async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        let peers: Vec<Peer> = shared.peers.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        for p in &peers {
            p.destroy();
        }
        while conns.join_next().await.is_some() {}
    }
}

enum Accepted {
    Local(local::RecvHalf, local::SendHalf),
    Tcp(tokio::net::TcpStream, SocketAddr),
}

/// A client that connects and never finishes the handshake is dropped after this long (Node's
/// `handshakeTimeout` default).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(120);

/// Registers a new connection.
fn new_peer(shared: &ServerShared, remote: Option<SocketAddr>) -> Peer {
    let peer = Peer {
        inner: Arc::new(PeerInner {
            key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
            id: Mutex::new(None),
            out: Outbox::new(&shared.delimiter, shared.max_pending, shared.checks.clone()),
            remote,
            kill: Signal::default(),
        }),
    };
    shared.peers.lock().unwrap_or_else(|p| p.into_inner()).insert(peer.key(), peer.clone());
    peer
}

async fn accept(l: &Listener) -> io::Result<Accepted> {
    match l {
        Listener::Local(l) => l.accept().await.map(|(r, w)| Accepted::Local(r, w)),
        Listener::Tcp(l) => l.accept().await.map(|(s, a)| Accepted::Tcp(s, a)),
    }
}

async fn run_peer<R, W>(mut rd: R, wr: W, peer: Peer, shared: Arc<ServerShared>, tx: EventSender<ServerEvent>)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    send_event(&tx, ServerEvent::Connect(peer.clone())).await;
    let wpeer = peer.clone();
    let writer = tokio::spawn(async move {
        let inner = &wpeer.inner;
        write_loop(&inner.out, wr, &inner.kill).await
    });
    let identify = shared.checks.identify;
    let map = |inc: Incoming| match inc {
        Incoming::Message(message) => {
            if identify {
                peer.learn_id(&message);
            }
            ServerEvent::Message { message, peer: peer.clone() }
        }
        Incoming::Data(data) => ServerEvent::Data { data, peer: peer.clone() },
        Incoming::Error(error) => ServerEvent::Error { error, peer: Some(peer.clone()) },
    };
    let end = read_loop(&mut rd, &shared.delimiter, &shared.checks, &peer.inner.kill, &tx, map).await;
    // A graceful close lets the writer finish; any other end tears the connection down.
    let wend = if matches!(end, ReadEnd::Killed) {
        writer.await.ok()
    } else {
        peer.inner.kill.fire();
        writer.await.ok()
    };
    peer.inner.out.mark_closed();
    shared.peers.lock().unwrap_or_else(|p| p.into_inner()).remove(&peer.key());
    let error = match (end, wend) {
        (_, Some(WriteEnd::Backpressure)) => Some(Error::protocol(ErrorCode::Backpressure, BACKPRESSURE_MESSAGE)),
        (ReadEnd::Io(e), _) => Some(Error::from(e)),
        (_, Some(WriteEnd::Io(e))) if !quiet_write_error(&e) => Some(Error::from(e)),
        _ => None,
    };
    if let Some(error) = error {
        send_event(&tx, ServerEvent::Error { error, peer: Some(peer.clone()) }).await;
    }
    let id = peer.id();
    send_event(&tx, ServerEvent::Disconnect { peer, id }).await;
}

/// Write errors that only say the peer went away (the read side reports the close).
pub(crate) fn quiet_write_error(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset)
}
