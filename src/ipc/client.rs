//! The client: connect, reconnect with node-ipc's rules, emit, receive.

use std::fmt;
use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::{
    event_queue, read_loop, send_event, write_loop, Checks, EventReceiver, EventSender, Incoming, Outbox, ReadEnd,
    Signal, WriteEnd,
};
use super::server::quiet_write_error;
use super::tls::ClientTls;
use super::{Config, Error, ErrorCode, Message, Result};
use crate::flow::BACKPRESSURE_MESSAGE;
use crate::net::Endpoint;
use crate::profile::Profile;

/// What a [`Client`] reports (node-ipc's client events).
///
/// A failed attempt reports `Error` then `Disconnect`; a lost connection `Disconnect` (an `Error`
/// such as `ECONNRESET` may come first); giving up adds `Destroy`, after which the stream ends.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Connected (again). The retry budget is reset to `max_retries`.
    Connect,
    /// A connection or an attempt closed.
    Disconnect,
    /// The client gave up (retries exhausted, `stop_retrying`, or [`ClientHandle::disconnect`]).
    Destroy,
    /// A socket error or an invalid frame.
    Error(Error),
    /// A frame arrived.
    Message(Message),
    /// Raw mode ([`Config::raw`]): bytes as read.
    Data(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Target {
    Path(PathBuf),
    Net(String, u16),
    Addr(SocketAddr),
}

const INFINITE: u64 = u64::MAX;

/// How long a connection attempt in progress may still take after `disconnect()` when frames are
/// queued.
const FLUSH_GRACE: Duration = Duration::from_secs(5);

fn retries_to_u64(r: Option<u32>) -> u64 {
    r.map(u64::from).unwrap_or(INFINITE)
}

struct ClientShared {
    out: Outbox,
    /// The profile's rules.
    checks: Arc<Checks>,
    retry_ms: AtomicU64,
    max_retries: AtomicU64,
    retries_remaining: AtomicU64,
    stop_retrying: AtomicBool,
    connected: AtomicBool,
    /// Set by `disconnect()`.
    explicit: Signal,
    /// Set when the supervisor has finished (destroyed).
    destroyed: Signal,
}

/// A cloneable handle to a [`Client`]: emit, change retry settings live, disconnect.
#[derive(Clone)]
pub struct ClientHandle {
    shared: Arc<ClientShared>,
}

impl fmt::Debug for ClientHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandle")
            .field("connected", &self.is_connected())
            .field("destroyed", &self.is_destroyed())
            .finish()
    }
}

impl ClientHandle {
    /// Sends `{type, data}` (node-ipc's `ipc.of[id].emit(type, data)`).
    ///
    /// The frame is queued and written by the connection's writer task. Frames emitted before the
    /// first connect, or while waiting to reconnect, are sent once a connection is up (node-ipc
    /// loses the latter). Fails with [`Error::Closed`] after `Destroy`, and with [`Error::Json`]
    /// if `data` cannot be serialized.
    pub fn emit<T: Serialize + ?Sized>(&self, ty: &str, data: &T) -> Result<()> {
        self.shared.out.emit(ty, data)
    }

    /// Sends bytes as they are (raw mode, or hand-made frames).
    pub fn send_raw(&self, bytes: &[u8]) -> Result<()> {
        self.shared.out.send_raw(bytes)
    }

    /// Closes for good (node-ipc's `ipc.disconnect(id)`): writes what is queued, closes, then
    /// reports `Disconnect` (if connected) and `Destroy`. No reconnection follows. Called while a
    /// connection attempt is in progress with frames queued, the attempt may finish (within 5 s)
    /// so that they are delivered; a failed attempt is not retried.
    pub fn disconnect(&self) {
        self.shared.out.close();
        self.shared.explicit.fire();
    }

    /// node-ipc's `stopRetrying`, live: when set, the next loss (or a pending retry) gives up.
    pub fn set_stop_retrying(&self, stop: bool) {
        self.shared.stop_retrying.store(stop, Ordering::SeqCst);
    }

    /// node-ipc's `maxRetries`, live: read at each successful connect. `None` = `Infinity`.
    pub fn set_max_retries(&self, max: Option<u32>) {
        self.shared.max_retries.store(retries_to_u64(max), Ordering::SeqCst);
    }

    /// node-ipc's `retry`, live: the wait before the next attempt.
    pub fn set_retry(&self, retry: Duration) {
        self.shared.retry_ms.store(retry.as_millis().min(u64::MAX as u128) as u64, Ordering::SeqCst);
    }

    /// Attempts left before giving up (`None` = unlimited).
    pub fn retries_remaining(&self) -> Option<u64> {
        let r = self.shared.retries_remaining.load(Ordering::SeqCst);
        (r != INFINITE).then_some(r)
    }

    /// True while a connection is up.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }

    /// True once the client gave up or was disconnected.
    pub fn is_destroyed(&self) -> bool {
        self.shared.destroyed.is_set()
    }

    /// Bytes emitted and not yet handed to the kernel (bounded by [`Config::max_pending`]).
    pub fn pending_bytes(&self) -> usize {
        self.shared.out.pending()
    }

    /// Waits until [`pending_bytes`](Self::pending_bytes) is 0, like waiting for Node's `'drain'`
    /// (frames queued between connections wait for the next one). Fails with
    /// [`Error::Closed`](crate::ipc::Error::Closed) if the client is destroyed with bytes unsent.
    pub async fn drained(&self) -> Result<()> {
        self.shared.out.drained().await
    }
}

/// A node-ipc client: `ipc.connectTo()` / `ipc.connectToNet()` in Rust.
///
/// Constructors return at once and connect in a background task (they must be called inside a
/// tokio runtime; a current-thread runtime is fine). Read events with [`recv`](Client::recv);
/// sending and settings are on [`ClientHandle`], which `Client` derefs to. Dropping the `Client`
/// disconnects it.
///
/// ```
/// use node_ipc_rs::ipc::{Client, ClientEvent, Config};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // No server there: node-ipc's retry cycle, then give up.
/// let config = Config { retry: Duration::from_millis(10), max_retries: Some(1), ..Config::default() };
/// let path = std::env::temp_dir().join(format!("nobody-{}.sock", std::process::id()));
/// let mut client = Client::connect_path(&path, &config);
/// let mut seen = Vec::new();
/// while let Some(ev) = client.recv().await {
///     seen.push(match ev {
///         ClientEvent::Error(e) => e.code().unwrap_or("?").to_string(),
///         ClientEvent::Disconnect => "disconnect".into(),
///         ClientEvent::Destroy => "destroy".into(),
///         other => format!("{other:?}"),
///     });
/// }
/// assert_eq!(seen, ["ENOENT", "disconnect", "ENOENT", "disconnect", "destroy"]);
/// # }
/// ```
pub struct Client {
    handle: ClientHandle,
    events: EventReceiver<ClientEvent>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt(f)
    }
}

impl Deref for Client {
    type Target = ClientHandle;
    fn deref(&self) -> &ClientHandle {
        &self.handle
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.handle.disconnect();
    }
}

impl Client {
    /// Connects to the server with id `id` at node-ipc's default local path
    /// (`config.socket_root + config.appspace + id`).
    pub fn connect_to(id: &str, config: &Config) -> Client {
        Client::start(Target::Path(config.socket_path(id).into()), config)
    }

    /// Connects to a Unix socket at `path`.
    pub fn connect_path(path: impl AsRef<Path>, config: &Config) -> Client {
        Client::start(Target::Path(path.as_ref().to_path_buf()), config)
    }

    /// Connects over TCP to `host:port` (resolved at every attempt); over TLS when
    /// [`Config::tls`] is set, verifying the certificate against `host` (or `servername`).
    /// `Connect` is reported once the handshake is done; a failed handshake is an `Error` with
    /// Node's code (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`), then `Disconnect` and the usual
    /// retry rules. TLS settings that cannot be used (unreadable file, bad PEM) give an `Error`
    /// (`ENOENT`, `ERR_IPC_TLS_CONFIGURATION`, …) and `Destroy` at once.
    ///
    /// ```
    /// use node_ipc_rs::ipc::{Client, ClientEvent, Config, Server, ServerEvent, TlsConfig};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), node_ipc_rs::ipc::Error> {
    /// let fx = concat!(env!("CARGO_MANIFEST_DIR"), "/__test__/fixtures/");
    /// let server_tls = TlsConfig {
    ///     private: Some(format!("{fx}server.key").into()),
    ///     public: Some(format!("{fx}server.pem").into()),
    ///     ..TlsConfig::default()
    /// };
    /// let client_tls = TlsConfig { trusted_connections: vec![format!("{fx}ca.pem").into()], ..TlsConfig::default() };
    ///
    /// let mut server = Server::serve_net("127.0.0.1", 0, &Config { tls: Some(server_tls), ..Config::default() }).await?;
    /// let port = server.local_addr().unwrap().port();
    /// let mut client = Client::connect_net("localhost", port, &Config { tls: Some(client_tls), ..Config::default() });
    /// assert!(client.connected().await); // after the handshake: the certificate is valid for "localhost"
    /// client.emit("secret", &"over TLS")?;
    /// loop {
    ///     if let Some(ServerEvent::Message { message, .. }) = server.recv().await {
    ///         assert_eq!(message.data, "over TLS");
    ///         break;
    ///     }
    /// }
    /// client.disconnect();
    /// server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn connect_net(host: &str, port: u16, config: &Config) -> Client {
        Client::start(Target::Net(host.to_string(), port), config)
    }

    /// Connects over TCP to `addr`; over TLS when [`Config::tls`] is set, verifying the
    /// certificate against the IP address (or `servername`), as [`connect_net`](Client::connect_net).
    pub fn connect_addr(addr: SocketAddr, config: &Config) -> Client {
        Client::start(Target::Addr(addr), config)
    }

    /// Connects to `endpoint`.
    pub fn connect(endpoint: Endpoint, config: &Config) -> Client {
        match endpoint {
            Endpoint::Local(p) => Client::start(Target::Path(p), config),
            Endpoint::Tcp(a) => Client::start(Target::Addr(a), config),
        }
    }

    fn start(target: Target, config: &Config) -> Client {
        let max = retries_to_u64(config.max_retries);
        // Settings refused up front (a profile setting, assured without mutual TLS) end the client
        // at once with an `Error` and `Destroy`, like unusable TLS settings.
        let net = matches!(target, Target::Net(..) | Target::Addr(_));
        let (checks, refused) = match config.checks() {
            Ok(c) => (c, None),
            Err(e) => (Config::default().checks().expect("the default settings are valid"), Some(e)),
        };
        let setup = (|| -> Result<Option<ClientTls>> {
            if let Some(e) = refused {
                return Err(e);
            }
            // TLS only for TCP targets; the files are read once, here, then checked and used.
            let tls = match &config.tls {
                Some(t) if net => Some(t.options()?),
                _ => None,
            };
            if net && config.profile == Profile::Assured {
                crate::profile::check_assured_network(tls.is_some(), false)?;
                if let Some(t) = &tls {
                    crate::profile::check_assured_tls(t, false)?;
                }
            }
            tls.map(super::tls::connector).transpose()
        })();
        let shared = Arc::new(ClientShared {
            out: Outbox::new(&config.delimiter_checked(), config.max_pending, checks.clone()),
            checks,
            retry_ms: AtomicU64::new(config.retry.as_millis().min(u64::MAX as u128) as u64),
            max_retries: AtomicU64::new(max),
            retries_remaining: AtomicU64::new(max),
            stop_retrying: AtomicBool::new(config.stop_retrying),
            connected: AtomicBool::new(false),
            explicit: Signal::default(),
            destroyed: Signal::default(),
        });
        let (tx, rx) = event_queue(config.event_queue);
        tokio::spawn(supervise(target, setup, shared.clone(), tx));
        Client { handle: ClientHandle { shared }, events: rx }
    }

    /// The next event; `None` after `Destroy`.
    pub async fn recv(&mut self) -> Option<ClientEvent> {
        self.events.recv().await
    }

    /// The next event if one is ready now.
    pub fn try_recv(&mut self) -> Option<ClientEvent> {
        self.events.try_recv()
    }

    /// Waits for the next `Connect` (discarding other events until then). Returns `false` if the
    /// client gave up first.
    pub async fn connected(&mut self) -> bool {
        loop {
            match self.recv().await {
                Some(ClientEvent::Connect) => return true,
                None | Some(ClientEvent::Destroy) => return false,
                Some(_) => {}
            }
        }
    }

    /// A cloneable handle for other tasks.
    pub fn handle(&self) -> ClientHandle {
        self.handle.clone()
    }
}

enum Conn {
    /// Unix socket, or named pipe on Windows.
    Local(super::local::RecvHalf, super::local::SendHalf),
    Tcp(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

/// Connects, and with TLS also completes the handshake.
async fn open(target: &Target, tls: Option<&ClientTls>) -> Result<Conn> {
    let (s, host) = match target {
        Target::Path(p) => return Ok(super::local::connect(p).await.map(|(r, w)| Conn::Local(r, w))?),
        Target::Net(host, port) => (tokio::net::TcpStream::connect((host.as_str(), *port)).await?, None),
        Target::Addr(a) => (tokio::net::TcpStream::connect(a).await?, Some(a.ip().to_string())),
    };
    let _ = s.set_nodelay(true);
    if let Ok(peer) = s.peer_addr() {
        crate::sockopt::unpace_loopback((&s).into(), &peer);
    }
    match tls {
        None => Ok(Conn::Tcp(s)),
        Some(tls) => {
            let host = match (target, &host) {
                (Target::Net(h, _), _) => h.as_str(),
                (_, Some(h)) => h.as_str(),
                _ => "",
            };
            Ok(Conn::Tls(Box::new(tls.connect(host, s).await?)))
        }
    }
}

async fn supervise(
    target: Target,
    setup: Result<Option<ClientTls>>,
    shared: Arc<ClientShared>,
    tx: EventSender<ClientEvent>,
) {
    let tls = match setup {
        Ok(t) => t,
        Err(e) => {
            // Unusable settings: no attempt can succeed.
            send_event(&tx, ClientEvent::Error(e)).await;
            shared.out.mark_closed();
            shared.destroyed.fire();
            send_event(&tx, ClientEvent::Destroy).await;
            return;
        }
    };
    loop {
        // disconnect() during an attempt abandons it, unless frames are queued: then the attempt
        // gets up to FLUSH_GRACE to connect and deliver them (disconnect writes what is queued).
        let abandon = async {
            shared.explicit.wait().await;
            if shared.out.pending() > 0 {
                tokio::time::sleep(FLUSH_GRACE).await;
            }
        };
        let attempt = tokio::select! {
            _ = abandon => None,
            r = open(&target, tls.as_ref()) => Some(r),
        };
        let mut violation = false;
        match attempt {
            None => break, // disconnect() before connecting: just destroy
            Some(Err(e)) => send_event(&tx, ClientEvent::Error(e)).await,
            Some(Ok(conn)) => {
                shared.connected.store(true, Ordering::SeqCst);
                send_event(&tx, ClientEvent::Connect).await;
                let max = shared.max_retries.load(Ordering::SeqCst);
                shared.retries_remaining.store(max, Ordering::SeqCst);
                let (error, violated) = match conn {
                    Conn::Local(r, w) => run_conn(r, w, &shared, &tx).await,
                    Conn::Tcp(s) => {
                        let (r, w) = s.into_split();
                        run_conn(r, w, &shared, &tx).await
                    }
                    Conn::Tls(s) => {
                        let (r, w) = tokio::io::split(*s);
                        run_conn(r, w, &shared, &tx).await
                    }
                };
                shared.connected.store(false, Ordering::SeqCst);
                if let Some(e) = error {
                    send_event(&tx, ClientEvent::Error(e)).await;
                }
                violation = violated;
            }
        }
        // The socket closed (or the attempt failed): give up, or wait and try again. Under fast,
        // guarded and assured a protocol violation ends the client (node-ipc 14).
        send_event(&tx, ClientEvent::Disconnect).await;
        let remaining = shared.retries_remaining.load(Ordering::SeqCst);
        if violation || shared.explicit.is_set() || shared.stop_retrying.load(Ordering::SeqCst) || remaining < 1 {
            break;
        }
        let wait = Duration::from_millis(shared.retry_ms.load(Ordering::SeqCst));
        tokio::select! {
            _ = shared.explicit.wait() => break,
            _ = tokio::time::sleep(wait) => {}
        }
        if shared.stop_retrying.load(Ordering::SeqCst) {
            break;
        }
        if remaining != INFINITE {
            shared.retries_remaining.store(remaining - 1, Ordering::SeqCst);
        }
    }
    shared.out.mark_closed();
    shared.destroyed.fire();
    send_event(&tx, ClientEvent::Destroy).await;
}

/// Runs one established connection; returns the error to report, if any, and whether a protocol
/// violation ended it under a profile that then stops reconnecting.
async fn run_conn<R, W>(
    mut rd: R,
    wr: W,
    shared: &Arc<ClientShared>,
    tx: &EventSender<ClientEvent>,
) -> (Option<Error>, bool)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let kill = Arc::new(Signal::default());
    let writer = {
        let (shared, kill) = (shared.clone(), kill.clone());
        tokio::spawn(async move { write_loop(&shared.out, wr, &kill).await })
    };
    let map = |inc: Incoming| match inc {
        Incoming::Message(m) => ClientEvent::Message(m),
        Incoming::Data(d) => ClientEvent::Data(d),
        Incoming::Error(e) => ClientEvent::Error(e),
    };
    let delimiter = shared.out.delimiter().to_vec();
    let end = read_loop(&mut rd, &delimiter, &shared.checks, &kill, tx, map).await;
    kill.fire();
    let wend = writer.await.ok();
    let closes = shared.checks.closes();
    match (end, wend) {
        (_, Some(WriteEnd::Backpressure)) => {
            (Some(Error::protocol(ErrorCode::Backpressure, BACKPRESSURE_MESSAGE)), closes)
        }
        (ReadEnd::Violation, _) => (None, true),
        (ReadEnd::Io(e), _) => (Some(Error::from(e)), false),
        (_, Some(WriteEnd::Io(e))) if !quiet_write_error(&e) => (Some(Error::from(e)), false),
        _ => (None, false),
    }
}
