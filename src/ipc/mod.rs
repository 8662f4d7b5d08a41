//! The async Rust API (feature `tokio`, on by default): node-ipc servers and clients in Rust, on
//! the same wire format as the npm packages `node-ipc` (9, 12) and `node-ipc-rs`, so Rust and Node
//! processes can sit in one mesh.
//!
//! - [`Server`]: listens on a Unix socket path or a TCP address; hands out a [`Peer`] per
//!   connection (emit to one peer) and broadcasts to all; learns each peer's id from any received
//!   `data.id` string, as node-ipc does; enforces `maxConnections` like Node (connections over the
//!   limit are accepted and closed at once).
//! - [`Client`]: connects by path or address and reconnects with node-ipc's `retry` /
//!   `maxRetries` / `stopRetrying` rules, reporting `Connect`, `Disconnect`, `Destroy` and
//!   `Error` events.
//! - TLS ([`Config::tls`], a [`TlsConfig`] named like node-ipc's `config.tls`): TCP servers and
//!   clients run over rustls (tokio-rustls), verifying certificates by default, with mutual TLS
//!   on request; failures carry Node's codes (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …). Plain
//!   connections are unaffected.
//! - [`UdpServer`]: node-ipc's `udp4`/`udp6` servers: one datagram per `emit_to`, replies by
//!   address, broadcast to every address that has sent to it.
//! - Events arrive as an async stream: call [`Server::recv`] / [`Client::recv`] in a loop.
//! - Messages are `{type, data}` with `data` as [`serde_json::Value`] or any `Serialize` type
//!   ([`Message::data_as`] reads it back as any `Deserialize` type), written byte for byte like
//!   node-ipc writes them ([`crate::js_json`]); or raw bytes ([`Config::raw`]). With
//!   [`Config::lazy_data`] received `data` stays JSON text until read, and can be sent on as it is.
//! - Each connection has a writer task that drains every queued frame into one buffer per write
//!   syscall, so `emit` never blocks and never waits for the socket.
//!
//! A server and a client in one process:
//!
//! ```
//! use node_ipc_rs::ipc::{Client, ClientEvent, Config, Server, ServerEvent};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), node_ipc_rs::ipc::Error> {
//! let config = Config {
//!     socket_root: format!("{}/", std::env::temp_dir().display()),
//!     appspace: format!("doc-{}.", std::process::id()),
//!     id: "world".into(),
//!     ..Config::default()
//! };
//! let mut server = Server::serve(&config).await?; // listens on socket_root + appspace + id
//! let mut client = Client::connect_to("world", &config);
//! client.emit("app.message", &json!({"id": "hello", "message": "hi"}))?;
//!
//! loop {
//!     match server.recv().await.unwrap() {
//!         ServerEvent::Message { message, peer } => {
//!             assert_eq!(peer.id().as_deref(), Some("hello"));
//!             let text = message.data["message"].as_str().unwrap_or_default().to_owned();
//!             peer.emit("app.message", &json!({"id": "world", "message": text + " world!"}))?;
//!             break;
//!         }
//!         _ => {}
//!     }
//! }
//! loop {
//!     if let ClientEvent::Message(m) = client.recv().await.unwrap() {
//!         assert_eq!(m.data["message"], "hi world!");
//!         break;
//!     }
//! }
//! client.disconnect();
//! server.shutdown().await;
//! # Ok(()) }
//! ```

//!
//! node-ipc's basic `world` server, the way the README shows it (listens on `/tmp/app.world`):
//!
//! ```no_run
//! use node_ipc_rs::ipc::{Config, Server, ServerEvent};
//! use serde_json::json;
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), node_ipc_rs::ipc::Error> {
//!     let config = Config { id: "world".into(), ..Config::default() };
//!     let mut server = Server::serve(&config).await?;          // /tmp/app.world, like ipc.serve()
//!     while let Some(event) = server.recv().await {
//!         if let ServerEvent::Message { message, peer } = event {
//!             let text = message.data["message"].as_str().unwrap_or_default();
//!             peer.emit("app.message", &json!({ "id": "world", "message": format!("{text} world!") }))?;
//!         }
//!     }
//!     Ok(())
//! }
//! ```

mod client;
mod conn;
mod local;
mod server;
mod tls;
mod udp;

use std::fmt;
use std::io;
use std::time::Duration;

pub use crate::error::ErrorCode;
pub use crate::message::Message;
pub use crate::profile::Profile;
pub use client::{Client, ClientEvent, ClientHandle};
pub use server::{Peer, Server, ServerEvent, ServerHandle};
pub use tls::TlsConfig;
pub use udp::{UdpEvent, UdpHandle, UdpServer};

/// Settings, named and defaulted like node-ipc's `ipc.config` (9/12).
///
/// ```
/// use node_ipc_rs::ipc::Config;
/// use std::time::Duration;
///
/// let c = Config { id: "world".into(), retry: Duration::from_millis(100), max_retries: Some(3), ..Config::default() };
/// assert_eq!(c.socket_path("world"), "/tmp/app.world");
/// assert_eq!(c.delimiter, b"\x0c");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// `socketRoot`: directory part of local socket paths, with its trailing `/` (default `/tmp/`).
    pub socket_root: String,
    /// `appspace`: prefix of the socket file name (default `app.`).
    pub appspace: String,
    /// `id`: this process's service id; [`Server::serve`] listens on
    /// `socket_root + appspace + id`. Default: the host name, as in node-ipc.
    pub id: String,
    /// `networkHost` (default `127.0.0.1`).
    pub network_host: String,
    /// `networkPort` (default 8000).
    pub network_port: u16,
    /// `delimiter`: frame terminator, one or more bytes (default `\f`). Must match the peer's.
    pub delimiter: Vec<u8>,
    /// Largest accepted frame in bytes, delimiter excluded; a bigger frame (or an unfinished one
    /// that grows past it) produces an `ERR_IPC_FRAME_TOO_LARGE` error and drops the connection.
    /// Default [`crate::config::DEFAULT_FRAME_CAP`] (64 MiB), as on the JS side; `None`: no limit.
    pub max_frame: Option<usize>,
    /// `maxPendingBytes`: unsent bytes one connection may hold. A send that would go past it fails
    /// with `ERR_IPC_BACKPRESSURE`, and the connection is dropped (an `Error` event with that code,
    /// then the usual `Disconnect`), so a peer that stops reading cannot make this process grow
    /// without bound. Default [`crate::flow::DEFAULT_MAX_PENDING`] (64 MiB), as on the JS side;
    /// `None`: unbounded. Watch [`Peer::pending_bytes`] / [`ClientHandle::pending_bytes`] to slow
    /// down before that.
    pub max_pending: Option<usize>,
    /// `rawBuffer`: receive raw byte chunks ([`ServerEvent::Data`], [`ClientEvent::Data`]) instead
    /// of decoded messages. Sending is unaffected: `emit` writes frames, `send_raw` raw bytes.
    pub raw: bool,
    /// Keep each received message's `data` as the JSON text it arrived as (a
    /// [`serde_json::value::RawValue`]) instead of building a [`serde_json::Value`]: the frame is
    /// still checked in full (the envelope decoded, `data` checked to be one well-formed JSON
    /// value, the same errors for the same bad frames), but `data` is only decoded when read.
    /// [`Message::data`] is then `Null`: read the payload with [`Message::data_as`] (straight into
    /// your type, or `data_as::<Value>()`) and send it on unchanged with
    /// `emit(ty, &message.raw_data())` ([`Message::raw_data`]: the bytes received, sent as they
    /// are). What you send is unaffected. Default `false`; ignored in raw mode.
    ///
    /// ```
    /// use node_ipc_rs::ipc::{Client, ClientEvent, Config, Server, ServerEvent};
    /// use serde_json::value::RawValue;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), node_ipc_rs::ipc::Error> {
    /// let config = Config { lazy_data: true, ..Config::default() };
    /// let mut server = Server::serve_net("127.0.0.1", 0, &config).await?;
    /// let mut client = Client::connect_addr(server.local_addr().unwrap(), &config);
    /// // A payload as some other writer might send it (spaces, 1.0).
    /// client.emit("echo", &RawValue::from_string(r#"{"n": 1.0, "s": "hi"}"#.into())?)?;
    /// let peer = loop {
    ///     if let Some(ServerEvent::Message { message, peer }) = server.recv().await {
    ///         #[derive(serde::Deserialize)]
    ///         struct Hi<'a> { n: f64, s: &'a str }
    ///         let hi: Hi = message.data_as()?;
    ///         assert_eq!((hi.n, hi.s), (1.0, "hi"));
    ///         peer.emit("echo", &message.raw_data())?; // sent back exactly as received
    ///         break peer;
    ///     }
    /// };
    /// loop {
    ///     if let Some(ClientEvent::Message(m)) = client.recv().await {
    ///         assert_eq!(m.raw_data().get(), r#"{"n": 1.0, "s": "hi"}"#);
    ///         break;
    ///     }
    /// }
    /// # drop(peer);
    /// client.disconnect();
    /// server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub lazy_data: bool,
    /// `maxConnections` (default 100).
    pub max_connections: usize,
    /// `unlink`: remove a stale socket file before listening (default `true`; only ever a socket,
    /// never a file of another kind).
    pub unlink: bool,
    /// `readableAll`: make the socket file readable by every user.
    pub readable_all: bool,
    /// `writableAll`: let every user connect to the socket file.
    pub writable_all: bool,
    /// `retry`: wait between reconnection attempts (default 500 ms).
    pub retry: Duration,
    /// `maxRetries`: attempts after each loss; `None` = `Infinity` (the default), `Some(0)` = never.
    pub max_retries: Option<u32>,
    /// `stopRetrying`: give up at the next loss (also settable live: [`ClientHandle::set_stop_retrying`]).
    pub stop_retrying: bool,
    /// Capacity of the event queue in batches (one batch per socket read). When the application
    /// does not keep up, reading pauses, which pushes back on the peer. Default 256.
    pub event_queue: usize,
    /// `tls`: run TCP servers ([`Server::serve_net`]) and TCP clients ([`Client::connect_net`],
    /// [`Client::connect_addr`]) over TLS (rustls). `None` (the default): plain TCP. Unix sockets
    /// and UDP never use TLS (node-ipc's local clients never do either).
    pub tls: Option<TlsConfig>,
    /// `parser`: node-ipc 14's profile ([`Profile`]). [`Profile::Default`] (the default) keeps
    /// node-ipc 9/12 behaviour. Build the config with [`Config::with_profile`] to get node-ipc
    /// 14's limits for guarded and assured as well. Under fast, guarded and assured a received
    /// violation ends the connection (a client does not reconnect) and a send violation is
    /// refused with the error; assured also refuses unauthenticated transports.
    pub profile: Profile,
    /// `maxEventNameLength` (guarded, assured): longest event name in UTF-16 units (default 256).
    pub max_event_name_length: usize,
    /// `messageTimeout` (guarded, assured): how long an unfinished frame may wait before the
    /// connection is dropped with `ERR_IPC_MESSAGE_TIMEOUT`. `None`: no limit (the default;
    /// [`Config::with_profile`] sets node-ipc 14's 30 s for guarded and assured).
    pub message_timeout: Option<Duration>,
    /// `allowReservedEvents` (guarded): let peers send lifecycle names (`connect`, `error`, …).
    pub allow_reserved_events: bool,
    /// `allowedEvents` (assured, required): the event names that may be sent and received.
    pub allowed_events: Option<Vec<String>>,
    /// `secureSocketRoot`: a local server needs an owner-only socket root (created 0700 when
    /// missing, refused with `ERR_IPC_SOCKET_ROOT` otherwise, never `chmod`ed). `None` (the
    /// default): required by assured only. With the default `socket_root` `/tmp/`, a secure root
    /// means node-ipc 14's per-user one ([`crate::socket_root::v14_default`]).
    pub secure_socket_root: Option<bool>,
    /// `identifyPeer`: a server learns each [`Peer::id`] from received `data.id`. `None` (the
    /// default): yes under [`Profile::Default`] (node-ipc 9/12), no under node-ipc 14's profiles.
    pub identify_peer: Option<bool>,
}

impl Default for Config {
    fn default() -> Self {
        use crate::config::*;
        Config {
            socket_root: DEFAULT_SOCKET_ROOT.into(),
            appspace: DEFAULT_APPSPACE.into(),
            id: hostname(),
            network_host: DEFAULT_NETWORK_HOST.into(),
            network_port: DEFAULT_NETWORK_PORT,
            delimiter: DEFAULT_DELIMITER.as_bytes().to_vec(),
            max_frame: Some(DEFAULT_FRAME_CAP),
            max_pending: Some(crate::flow::DEFAULT_MAX_PENDING),
            raw: false,
            lazy_data: false,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            unlink: true,
            readable_all: false,
            writable_all: false,
            retry: Duration::from_millis(DEFAULT_RETRY_MS),
            max_retries: None,
            stop_retrying: false,
            event_queue: 256,
            tls: None,
            profile: Profile::Default,
            max_event_name_length: crate::profile::DEFAULT_MAX_EVENT_NAME_LENGTH,
            message_timeout: None,
            allow_reserved_events: false,
            allowed_events: None,
            secure_socket_root: None,
            identify_peer: None,
        }
    }
}

impl Config {
    /// This config under node-ipc 14's `profile`, with that profile's defaults: guarded and
    /// assured get `maxMessageSize` 1 MiB ([`max_frame`](Config::max_frame)), `maxPendingBytes`
    /// 8 MiB ([`max_pending`](Config::max_pending)) and `messageTimeout` 30 s; raw sets
    /// [`raw`](Config::raw). Change any of them afterwards.
    ///
    /// ```
    /// use node_ipc_rs::ipc::Config;
    /// use node_ipc_rs::Profile;
    ///
    /// let c = Config { allowed_events: Some(vec!["ping".into()]), ..Config::default() }.with_profile(Profile::Assured);
    /// assert_eq!(c.max_frame, Some(1024 * 1024));
    /// assert_eq!(c.message_timeout, Some(std::time::Duration::from_secs(30)));
    /// ```
    pub fn with_profile(mut self, profile: Profile) -> Config {
        use crate::profile::*;
        self.profile = profile;
        if profile.is_limited() {
            self.max_frame = Some(DEFAULT_MAX_MESSAGE_SIZE);
            self.max_pending = Some(DEFAULT_MAX_PENDING_BYTES);
            self.message_timeout = Some(Duration::from_millis(DEFAULT_MESSAGE_TIMEOUT_MS));
        }
        if profile == Profile::Raw {
            self.raw = true;
        }
        self
    }

    /// node-ipc's local socket path for `id`: `socket_root + appspace + id` (with the socket root
    /// [`socket_root_in_use`](Config::socket_root_in_use)).
    pub fn socket_path(&self, id: &str) -> String {
        crate::config::socket_path(&self.socket_root_in_use(), &self.appspace, id)
    }

    /// Whether local servers need a secure socket root: `secure_socket_root`, or assured.
    pub fn wants_secure_root(&self) -> bool {
        self.secure_socket_root.unwrap_or(self.profile == Profile::Assured)
    }

    /// The socket root local paths are built from: `socket_root`, except that node-ipc 9/12's
    /// default `/tmp/` (shared by every user, never a secure root) stands for node-ipc 14's
    /// per-user root when a secure root is wanted — where node-ipc 14 peers put their sockets.
    pub fn socket_root_in_use(&self) -> String {
        if self.socket_root == crate::config::DEFAULT_SOCKET_ROOT && self.wants_secure_root() {
            crate::socket_root::v14_default()
        } else {
            self.socket_root.clone()
        }
    }

    /// The profile checks these settings describe, validated (`ERR_INVALID_ARG_VALUE` for an
    /// assured config without `allowed_events`, a zero limit, …).
    pub(crate) fn checks(&self) -> Result<std::sync::Arc<conn::Checks>> {
        conn::Checks::new(self).map(std::sync::Arc::new)
    }

    fn delimiter_checked(&self) -> Vec<u8> {
        if self.delimiter.is_empty() {
            crate::config::DEFAULT_DELIMITER.as_bytes().to_vec()
        } else {
            self.delimiter.clone()
        }
    }
}

#[cfg(windows)]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".into())
}

#[cfg(not(windows))]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Everything that can go wrong, with the same codes JS sees in `err.code`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A received frame was rejected (`ERR_IPC_INVALID_JSON`, `ERR_IPC_INVALID_MESSAGE`,
    /// `ERR_IPC_INVALID_EVENT`, `ERR_IPC_FRAME_TOO_LARGE`, `ERR_IPC_INCOMPLETE_FRAME`; under
    /// node-ipc 14's profiles also `ERR_IPC_EVENT_TOO_LARGE`, `ERR_IPC_RESERVED_EVENT`,
    /// `ERR_IPC_EVENT_NOT_ALLOWED`, `ERR_IPC_MESSAGE_TIMEOUT`), or a send refused by the
    /// pending-bytes cap (`ERR_IPC_BACKPRESSURE`) or a profile's send rules. Under
    /// [`Profile::Default`] only `FrameTooLarge` and `Backpressure` end the connection; under fast,
    /// guarded and assured every received violation does.
    Protocol {
        /// The code.
        code: ErrorCode,
        /// What happened.
        message: String,
    },
    /// A socket error (`ECONNREFUSED`, `ENOENT`, `ECONNRESET`, …).
    Io(io::Error),
    /// `data` could not be serialized (or deserialized by [`Message::data_as`]).
    Json(serde_json::Error),
    /// The connection or client is closed: nothing can be sent any more.
    Closed,
    /// A TLS handshake or session failed. `code` is the code Node reports for the same failure
    /// (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ERR_TLS_CERT_ALTNAME_INVALID`,
    /// `ERR_TLS_PEER_CERTIFICATE_REQUIRED`, `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`, …; see
    /// [`crate::tls::error_code`]).
    Tls {
        /// Node's code.
        code: String,
        /// The rustls error.
        error: rustls::Error,
    },
    /// Invalid TLS settings (`ERR_IPC_TLS_CONFIGURATION`), e.g. a server without a certificate.
    TlsConfig(crate::tls::TlsConfigError),
    /// Settings refused before anything is opened: an invalid profile setting
    /// (`ERR_INVALID_ARG_VALUE`), a transport the assured profile does not accept
    /// (`ERR_IPC_ASSURED_TRANSPORT`, `ERR_IPC_ASSURED_TLS`), an unsafe socket root
    /// (`ERR_IPC_SOCKET_ROOT`) or a non-socket at the path (`ERR_IPC_UNLINK_NOT_SOCKET`).
    Setup(crate::profile::SetupError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The code JS would show as `err.code`: `ERR_IPC_*` for protocol errors, the errno name
    /// (`ECONNREFUSED`, …) for common socket errors, Node's TLS codes for TLS failures
    /// ([`Error::Tls`], [`Error::TlsConfig`]), `None` otherwise.
    ///
    /// ```
    /// use node_ipc_rs::ipc::{Error, ErrorCode};
    /// let e = Error::Protocol { code: ErrorCode::InvalidJson, message: "bad".into() };
    /// assert_eq!(e.code(), Some("ERR_IPC_INVALID_JSON"));
    /// let e = Error::Io(std::io::Error::from_raw_os_error(libc::ECONNREFUSED));
    /// assert_eq!(e.code(), Some("ECONNREFUSED"));
    /// ```
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Protocol { code, .. } => Some(code.as_str()),
            Error::Io(e) => errno_name(e),
            Error::Tls { code, .. } => Some(code),
            Error::TlsConfig(e) => Some(e.code()),
            Error::Setup(e) => Some(e.code),
            _ => None,
        }
    }

    /// The protocol error code, if this is one.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            Error::Protocol { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn protocol(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::Protocol { code, message: message.into() }
    }
}

fn errno_name(e: &io::Error) -> Option<&'static str> {
    Some(match e.raw_os_error()? {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ENOENT => "ENOENT",
        libc::ECONNRESET => "ECONNRESET",
        libc::EPIPE => "EPIPE",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EMFILE => "EMFILE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ENOBUFS => "ENOBUFS",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EINVAL => "EINVAL",
        _ => return None,
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol { code, message } => write!(f, "{code}: {message}"),
            Error::Io(e) => match errno_name(e) {
                Some(name) => write!(f, "{name}: {e}"),
                None => write!(f, "{e}"),
            },
            Error::Json(e) => write!(f, "JSON: {e}"),
            Error::Closed => f.write_str("the connection is closed"),
            Error::Tls { code, error } => write!(f, "{code}: {error}"),
            Error::TlsConfig(e) => write!(f, "{}: {e}", e.code()),
            Error::Setup(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Json(e) => Some(e),
            Error::Tls { error, .. } => Some(error),
            Error::TlsConfig(e) => Some(e),
            Error::Setup(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::profile::SetupError> for Error {
    fn from(e: crate::profile::SetupError) -> Self {
        Error::Setup(e)
    }
}

impl From<crate::profile::Violation> for Error {
    fn from(v: crate::profile::Violation) -> Self {
        Error::Protocol { code: v.code, message: v.message }
    }
}

impl From<io::Error> for Error {
    /// An I/O error, or the TLS error tokio-rustls wrapped in one ([`Error::Tls`]).
    fn from(e: io::Error) -> Self {
        match tls::take_rustls(e) {
            Ok(tls_error) => tls::from_rustls(tls_error),
            Err(e) => Error::Io(e),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}
