//! UDP servers (node-ipc's `serveNet(host, port, 'udp4' | 'udp6')`): one datagram per `emit`,
//! whole frames per datagram, replies and broadcasts by address.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::net::UdpSocket;

use super::conn::{decode_frames, event_queue, Checks, EventReceiver, EventSender, Incoming, Signal};
use super::{Config, Error, Message, Result};
use crate::codec::{DatagramError, FrameDecoder};
use crate::error::ErrorCode;
use crate::net::MAX_DATAGRAM;

/// What a [`UdpServer`] reports: one batch of events per datagram, in arrival order.
#[derive(Debug)]
#[non_exhaustive]
pub enum UdpEvent {
    /// A frame arrived (node-ipc dispatches it as event `message.type` with `(data, rinfo)`).
    Message {
        /// The decoded message.
        message: Message,
        /// The sender: reply with [`UdpHandle::emit_to`].
        from: SocketAddr,
    },
    /// Raw mode ([`Config::raw`]): one datagram's bytes, exactly as received.
    Data {
        /// The bytes.
        data: Vec<u8>,
        /// The sender.
        from: SocketAddr,
    },
    /// An invalid frame in a datagram (`ERR_IPC_INVALID_JSON`, …), a datagram that ends with an
    /// unfinished frame (`ERR_IPC_INCOMPLETE_FRAME`: each datagram must hold whole frames), or a
    /// receive error (`from` is `None`).
    Error {
        /// What went wrong.
        error: Error,
        /// Who sent the datagram.
        from: Option<SocketAddr>,
    },
}

struct UdpShared {
    sock: UdpSocket,
    local_addr: SocketAddr,
    delimiter: Vec<u8>,
    /// The profile's rules (assured never gets here: it refuses UDP).
    checks: Arc<Checks>,
    /// Every address that has sent a datagram, in order of first contact.
    peers: Mutex<(Vec<SocketAddr>, HashSet<SocketAddr>)>,
    stop: Signal,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A cloneable handle to a [`UdpServer`]: send, broadcast, shut down.
#[derive(Clone)]
pub struct UdpHandle {
    shared: Arc<UdpShared>,
}

impl fmt::Debug for UdpHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpHandle").field("local_addr", &self.shared.local_addr).finish()
    }
}

impl UdpHandle {
    /// Sends `{type, data}` as one datagram to `to` (node-ipc's `server.emit({address, port},
    /// type, data)`). Send failures are returned: `EMSGSIZE` for a frame over the datagram limit,
    /// `EAFNOSUPPORT`/`EINVAL` for an address of the other family, …
    pub async fn emit_to<T: Serialize + ?Sized>(&self, to: SocketAddr, ty: &str, data: &T) -> Result<()> {
        let mut frame = Vec::with_capacity(128);
        self.shared.checks.encode_into(&mut frame, ty, data, &self.shared.delimiter)?;
        self.send_raw_to(to, &frame).await
    }

    /// Sends bytes as they are, as one datagram (raw mode).
    pub async fn send_raw_to(&self, to: SocketAddr, bytes: &[u8]) -> Result<()> {
        if self.shared.stop.is_set() {
            return Err(Error::Closed);
        }
        let n = self.shared.sock.send_to(bytes, to).await?;
        if n != bytes.len() {
            return Err(Error::Io(io::Error::new(io::ErrorKind::WriteZero, "datagram truncated")));
        }
        Ok(())
    }

    /// Sends `{type, data}` to every address that has sent a datagram to this server (node-ipc
    /// 14's UDP broadcast; 9/12 send nothing). The frame is encoded once. Every peer is tried; the
    /// first failure is returned.
    pub async fn broadcast<T: Serialize + ?Sized>(&self, ty: &str, data: &T) -> Result<()> {
        let mut frame = Vec::with_capacity(128);
        self.shared.checks.encode_into(&mut frame, ty, data, &self.shared.delimiter)?;
        self.broadcast_raw(&frame).await
    }

    /// Sends bytes as they are to every address that has sent a datagram to this server.
    pub async fn broadcast_raw(&self, bytes: &[u8]) -> Result<()> {
        let mut first = None;
        for to in self.peers() {
            if let Err(e) = self.send_raw_to(to, bytes).await {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// The addresses that have sent datagrams to this server, in order of first contact.
    pub fn peers(&self) -> Vec<SocketAddr> {
        self.lock_peers().0.clone()
    }

    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Stops receiving; the event stream ends. Sends fail with [`Error::Closed`] afterwards.
    pub async fn shutdown(&self) {
        self.shared.stop.fire();
        let task = self.shared.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    fn lock_peers(&self) -> MutexGuard<'_, (Vec<SocketAddr>, HashSet<SocketAddr>)> {
        self.shared.peers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A node-ipc UDP server (`ipc.serveNet(host, port, 'udp4' | 'udp6')`) in Rust.
///
/// UDP has no connections: every `emit_to` is one datagram holding one frame, and every received
/// datagram is decoded on its own (it must hold whole frames; several are fine). node-ipc (9, 12,
/// 14) and node-ipc-rs UDP servers talk to it. Receive with [`recv`](UdpServer::recv); sending is
/// on [`UdpHandle`], which `UdpServer` derefs to. Dropping the server stops it.
///
/// ```
/// use node_ipc_rs::ipc::{Config, UdpEvent, UdpServer};
/// use serde_json::json;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), node_ipc_rs::ipc::Error> {
/// let config = Config::default();
/// let mut world = UdpServer::bind("127.0.0.1:0".parse().unwrap(), &config).await?; // or "[::1]:0"
/// let mut hello = UdpServer::bind("127.0.0.1:0".parse().unwrap(), &config).await?;
///
/// hello.emit_to(world.local_addr(), "app.message", &json!({"id": "hello", "message": "hi"})).await?;
/// let Some(UdpEvent::Message { message, from }) = world.recv().await else { panic!() };
/// assert_eq!(from, hello.local_addr());
/// world.emit_to(from, "app.message", &json!({"id": "world", "message": "hi world!"})).await?;
/// world.broadcast("news", &1).await?; // every address that has sent to `world`: `hello`
///
/// let Some(UdpEvent::Message { message: reply, .. }) = hello.recv().await else { panic!() };
/// assert_eq!(reply.data["message"], "hi world!");
/// let Some(UdpEvent::Message { message: news, .. }) = hello.recv().await else { panic!() };
/// assert_eq!((news.ty(), &news.data), ("news", &json!(1)));
/// # drop(message);
/// # Ok(()) }
/// ```
pub struct UdpServer {
    handle: UdpHandle,
    events: EventReceiver<UdpEvent>,
}

impl fmt::Debug for UdpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt(f)
    }
}

impl Deref for UdpServer {
    type Target = UdpHandle;
    fn deref(&self) -> &UdpHandle {
        &self.handle
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.handle.shared.stop.fire();
    }
}

impl UdpServer {
    /// Binds a UDP socket to `addr`: IPv4 (`udp4`) or IPv6 (`udp6`, IPv6 only); port 0 picks a
    /// free port (see [`UdpHandle::local_addr`]). Uses `config.delimiter`, `config.max_frame`,
    /// `config.raw` and `config.event_queue`.
    ///
    /// The assured profile refuses UDP (`ERR_IPC_ASSURED_TRANSPORT`); under the other profiles each
    /// frame is checked like on a stream, and a violation is reported for that datagram (the
    /// sender stays known).
    pub async fn bind(addr: SocketAddr, config: &Config) -> Result<UdpServer> {
        let checks = config.checks()?;
        if config.profile == crate::profile::Profile::Assured {
            crate::profile::check_assured_network(false, true)?;
        }
        let sock = bind_socket(addr)?;
        let local_addr = sock.local_addr()?;
        let (tx, rx) = event_queue(config.event_queue);
        let shared = Arc::new(UdpShared {
            sock,
            local_addr,
            delimiter: config.delimiter_checked(),
            checks: checks.clone(),
            peers: Mutex::new((Vec::new(), HashSet::new())),
            stop: Signal::default(),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(recv_loop(shared.clone(), checks, tx));
        *shared.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        Ok(UdpServer { handle: UdpHandle { shared }, events: rx })
    }

    /// Resolves `host` and binds to its first address (`"::1"` for `udp6`, like node-ipc).
    pub async fn serve_net(host: &str, port: u16, config: &Config) -> Result<UdpServer> {
        let addr = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}")))?;
        UdpServer::bind(addr, config).await
    }

    /// The next event; `None` once the server has shut down.
    pub async fn recv(&mut self) -> Option<UdpEvent> {
        self.events.recv().await
    }

    /// The next event if one is ready now.
    pub fn try_recv(&mut self) -> Option<UdpEvent> {
        self.events.try_recv()
    }

    /// A cloneable handle for other tasks.
    pub fn handle(&self) -> UdpHandle {
        self.handle.clone()
    }
}

/// Binds as the addon's UDP servers do (`net::Datagram::bind`: nonblocking, IPv6 only for `udp6`).
fn bind_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    UdpSocket::from_std(crate::net::Datagram::bind(addr)?.into_std())
}

async fn recv_loop(shared: Arc<UdpShared>, checks: Arc<Checks>, tx: EventSender<UdpEvent>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let delimiter = shared.delimiter.clone();
    let mut dec = FrameDecoder::new(&delimiter, checks.max_frame);
    // Frame ends are found again when the frames are decoded: a searcher built once.
    let finder = memchr::memmem::Finder::new(&delimiter);
    loop {
        let r = tokio::select! {
            biased;
            _ = shared.stop.wait() => return,
            r = shared.sock.recv_from(&mut buf) => r,
        };
        let mut batch = tx.batch();
        match r {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                tx.recycle(batch);
                continue;
            }
            Err(e) => {
                batch.push_back(UdpEvent::Error { error: Error::from(e), from: None });
                if deliver(&shared, &tx, batch).await.is_err() {
                    return;
                }
                // Not a datagram error: avoid spinning if it persists.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Ok((n, from)) => {
                {
                    let mut peers = shared.peers.lock().unwrap_or_else(|p| p.into_inner());
                    if peers.1.insert(from) {
                        peers.0.push(from);
                    }
                }
                let bytes = &buf[..n];
                if checks.raw {
                    batch.push_back(UdpEvent::Data { data: bytes.to_vec(), from });
                } else {
                    decode_datagram(&mut dec, &finder, &checks, bytes, from, &mut batch);
                }
            }
        }
        if batch.is_empty() {
            tx.recycle(batch);
        } else if deliver(&shared, &tx, batch).await.is_err() {
            return;
        }
    }
}

/// Decodes one datagram by the core's rule ([`FrameDecoder::decode_datagram`]: whole frames only;
/// a remainder is an error, never kept for the next one), each frame under the profile's rules as
/// on a stream ([`decode_frames`]). Under fast and guarded the first violation drops the rest of
/// the datagram (node-ipc 14 resets that peer's buffer).
fn decode_datagram(
    dec: &mut FrameDecoder,
    finder: &memchr::memmem::Finder<'_>,
    checks: &Checks,
    bytes: &[u8],
    from: SocketAddr,
    batch: &mut VecDeque<UdpEvent>,
) {
    let d = dec.decode_datagram(bytes);
    let mut map = |item| match item {
        Incoming::Message(message) => UdpEvent::Message { message, from },
        Incoming::Data(data) => UdpEvent::Data { data, from },
        Incoming::Error(error) => UdpEvent::Error { error, from: Some(from) },
    };
    if decode_frames(checks, finder, &bytes[..d.end], d.frames, batch, &mut map) {
        return;
    }
    if let Some(e) = d.error {
        let code = match e {
            DatagramError::TooLarge(_) => ErrorCode::FrameTooLarge,
            DatagramError::Incomplete { .. } => ErrorCode::IncompleteFrame,
        };
        batch.push_back(UdpEvent::Error { error: Error::protocol(code, e.message_from(from)), from: Some(from) });
    }
}

async fn deliver(
    shared: &UdpShared,
    tx: &EventSender<UdpEvent>,
    batch: VecDeque<UdpEvent>,
) -> std::result::Result<(), ()> {
    tokio::select! {
        biased;
        _ = shared.stop.wait() => Err(()),
        r = tx.send(batch) => r,
    }
}
