//! Nonblocking sockets that any readiness loop can drive: the Node binding polls them from libuv's
//! loop (so no thread hop sits between the kernel and JS), the async Rust API from tokio.
//!
//! Everything here is plain `socket2`/std: no runtime, no Node.

use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
#[cfg(unix)]
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::codec::{FrameDecoder, FrameError};
use crate::inbound::{Decoded, Inbound};
use crate::{socket_file, sockopt};

/// Where a server listens or a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A Unix domain socket path.
    Local(PathBuf),
    /// A TCP address (already resolved).
    Tcp(SocketAddr),
}

impl Endpoint {
    fn sockaddr(&self) -> io::Result<SockAddr> {
        match self {
            Endpoint::Local(p) => SockAddr::unix(p),
            Endpoint::Tcp(a) => Ok(SockAddr::from(*a)),
        }
    }

    fn domain(&self) -> Domain {
        match self {
            Endpoint::Local(_) => Domain::UNIX,
            Endpoint::Tcp(a) => Domain::for_address(*a),
        }
    }
}

/// How to listen.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// Remove a stale socket file at a local path first (never a file of another kind).
    pub unlink: bool,
    /// Let every user read the socket file (`chmod` adds r for group and other).
    pub readable_all: bool,
    /// Let every user write (connect to) the socket file.
    pub writable_all: bool,
    /// `listen()` backlog.
    pub backlog: i32,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions { unlink: true, readable_all: false, writable_all: false, backlog: 511 }
    }
}

/// A bound, listening, nonblocking socket.
#[derive(Debug)]
pub struct Listener {
    /// The listening socket.
    sock: Socket,
    /// For local sockets: the path and inode we created, removed again on drop if still ours.
    owned_path: Option<(PathBuf, u64)>,
}

impl Listener {
    /// Binds and listens on `ep`.
    pub fn bind(ep: &Endpoint, opts: &ListenOptions) -> io::Result<Listener> {
        let sock = Socket::new(ep.domain(), Type::STREAM, None)?;
        sock.set_nonblocking(true)?;
        #[cfg(unix)]
        sock.set_cloexec(true)?;
        let mut owned_path = None;
        match ep {
            Endpoint::Local(path) => {
                if opts.unlink {
                    // node-ipc 9/12 unlinked whatever was there; only a stale socket goes here.
                    socket_file::remove_stale(path);
                }
                sock.bind(&ep.sockaddr()?)?;
                socket_file::widen_mode(path, opts.readable_all, opts.writable_all)?;
                // (0 matches no socket: the file is then left alone)
                owned_path = Some((path.clone(), socket_file::inode(path).unwrap_or(0)));
            }
            Endpoint::Tcp(_) => {
                sock.set_reuse_address(true)?;
                sock.bind(&ep.sockaddr()?)?;
            }
        }
        let listener = Listener { sock, owned_path };
        listener.sock.listen(opts.backlog)?;
        Ok(listener)
    }

    /// Accepts one pending connection, `Ok(None)` when there is none.
    pub fn accept(&self) -> io::Result<Option<Socket>> {
        loop {
            match self.sock.accept() {
                Ok((s, peer)) => {
                    s.set_nonblocking(true)?;
                    if let Some(peer) = peer.as_socket() {
                        let _ = s.set_tcp_nodelay(true);
                        sockopt::unpace_loopback((&s).into(), &peer);
                    }
                    return Ok(Some(s));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The peer gave up while queued: not the listener's fault, try the next one.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The bound TCP address (`None` for local sockets).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.sock.local_addr().ok().and_then(|a| a.as_socket())
    }

    /// The local socket path, if any.
    pub fn path(&self) -> Option<&Path> {
        self.owned_path.as_ref().map(|(p, _)| p.as_path())
    }
}

#[cfg(unix)]
impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Like libuv, remove our socket file on close, unless someone else's replaced it.
        if let Some((path, ino)) = &self.owned_path {
            socket_file::remove_own(path, *ino);
        }
    }
}

/// Starts a nonblocking connect. Returns the socket and whether it is already connected; if not,
/// wait until it is writable and call [`finish_connect`].
pub fn connect(ep: &Endpoint) -> io::Result<(Socket, bool)> {
    connect_from(ep, None)
}

/// [`connect`], binding the local end to `local` first (TCP only; node-ipc's
/// `config.interface.localAddress`/`localPort`).
pub fn connect_from(ep: &Endpoint, local: Option<SocketAddr>) -> io::Result<(Socket, bool)> {
    let sock = Socket::new(ep.domain(), Type::STREAM, None)?;
    if let (Some(local), Endpoint::Tcp(_)) = (local, ep) {
        sock.bind(&SockAddr::from(local))?;
    }
    sock.set_nonblocking(true)?;
    #[cfg(unix)]
    sock.set_cloexec(true)?;
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    sock.set_nosigpipe(true)?;
    if let Endpoint::Tcp(peer) = ep {
        sock.set_tcp_nodelay(true)?;
        sockopt::unpace_loopback((&sock).into(), peer);
    }
    match sock.connect(&ep.sockaddr()?) {
        Ok(()) => Ok((sock, true)),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok((sock, false)),
        Err(e) => Err(e),
    }
}

/// Completes a connect started by [`connect`] once the socket is writable.
pub fn finish_connect(sock: &Socket) -> io::Result<()> {
    match sock.take_error()? {
        Some(e) => Err(e),
        None => sock.peer_addr().map(|_| ()),
    }
}

/// What one [`Connection::read`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Readable {
    /// Bytes available through [`Connection::batch`]: complete frames with their delimiters
    /// (framed mode) or everything read (raw mode).
    pub len: usize,
    /// Complete frames in the batch (0 in raw mode).
    pub frames: usize,
    /// The peer closed its side.
    pub eof: bool,
    /// A frame broke the size limit: deliver the batch, then drop the connection.
    pub error: Option<FrameError>,
}

impl Readable {
    fn decoded(&self) -> Decoded {
        Decoded { len: self.len, frames: self.frames, error: None }
    }
}

const MIN_SPARE: usize = 16 * 1024;
const INITIAL_READ: usize = 64 * 1024;

/// One stream socket with its read buffer, frame decoder and unsent bytes.
#[derive(Debug)]
pub struct Connection {
    /// The nonblocking socket.
    sock: Socket,
    /// Received bytes (plaintext) and their framing.
    inbound: Inbound,
    /// Bytes the kernel would not take yet.
    wbuf: Vec<u8>,
    /// How much of `wbuf` has been written.
    wpos: usize,
    /// TLS session, when the connection is encrypted (`inbound` then holds plaintext and `wbuf`
    /// ciphertext).
    tls: Option<Box<rustls::Connection>>,
}

/// A TLS failure, carried inside an `io::Error` (see [`tls_error`]).
#[derive(Debug)]
pub struct TlsFailure(pub rustls::Error);

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS: {}", self.0)
    }
}

impl std::error::Error for TlsFailure {}

/// The TLS error inside an `io::Error` returned by a [`Connection`], if that is what it is.
pub fn tls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<TlsFailure>()).map(|t| &t.0)
}

/// `io::Read` over a socket (for rustls).
struct SockReader<'a>(&'a Socket);

impl io::Read for SockReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Connection {
    /// Wraps a connected nonblocking socket. `decoder` is `None` for raw mode.
    pub fn new(sock: Socket, decoder: Option<FrameDecoder>) -> Connection {
        Connection { sock, inbound: Inbound::new(decoder), wbuf: Vec::new(), wpos: 0, tls: None }
    }

    /// Encrypts the connection with `tls` (a fresh client or server session). Handshake bytes are
    /// queued at once; see [`is_handshaking`](Self::is_handshaking).
    pub fn with_tls(mut self, mut tls: rustls::Connection) -> Connection {
        tls.set_buffer_limit(None);
        self.tls = Some(Box::new(tls));
        let _ = self.tls_out();
        self
    }

    /// True while a TLS handshake is in progress.
    pub fn is_handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.is_handshaking())
    }

    /// Moves whatever rustls wants to send into the write queue.
    fn tls_out(&mut self) -> io::Result<()> {
        if self.tls.is_none() {
            return Ok(());
        }
        self.compact();
        let Some(tls) = self.tls.as_mut() else { return Ok(()) };
        while tls.wants_write() {
            tls.write_tls(&mut self.wbuf)?;
        }
        Ok(())
    }

    /// TLS read path: ciphertext from the socket, plaintext into `inbound`.
    fn read_tls(&mut self, budget: usize) -> io::Result<(usize, bool)> {
        let mut total = 0;
        let mut eof = false;
        let tls = self.tls.as_mut().expect("tls");
        loop {
            let got = match tls.read_tls(&mut SockReader(&self.sock)) {
                Ok(0) => {
                    eof = true;
                    0
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if let Err(e) = tls.process_new_packets() {
                // Tell the peer why (an alert), then fail.
                while tls.wants_write() && tls.write_tls(&mut self.wbuf).is_ok() {}
                let _ = self.flush();
                return Err(io::Error::new(io::ErrorKind::InvalidData, TlsFailure(e)));
            }
            loop {
                let buf = self.inbound.buffer_mut();
                let len = buf.len();
                buf.resize(len + MIN_SPARE, 0);
                let r = io::Read::read(&mut tls.reader(), &mut buf[len..]);
                buf.truncate(len + *r.as_ref().unwrap_or(&0));
                match r {
                    Ok(0) => {
                        eof = true; // close_notify
                        break;
                    }
                    Ok(n) => total += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        eof = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if eof || got == 0 || total >= budget {
                break;
            }
        }
        self.tls_out()?;
        if self.wpos < self.wbuf.len() {
            self.flush()?;
        }
        Ok((total, eof))
    }

    /// The socket.
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Reads what the socket has (up to about `budget` bytes) and frames it. Call
    /// [`batch`](Self::batch) for the bytes, then [`consume`](Self::consume).
    pub fn read(&mut self, budget: usize) -> io::Result<Readable> {
        let mut total = 0;
        let mut eof = false;
        if self.tls.is_some() {
            (total, eof) = self.read_tls(budget)?;
        }
        while self.tls.is_none() {
            let buf = self.inbound.buffer_mut();
            if buf.capacity() - buf.len() < MIN_SPARE {
                let want = if buf.capacity() == 0 { INITIAL_READ } else { buf.len().max(MIN_SPARE) };
                buf.reserve(want);
            }
            let spare: &mut [MaybeUninit<u8>] = buf.spare_capacity_mut();
            let room = spare.len();
            match self.sock.recv(spare) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    // SAFETY: the kernel initialised n bytes.
                    unsafe { buf.set_len(buf.len() + n) };
                    total += n;
                    if n < room || total >= budget {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let mut out = Readable { eof, ..Readable::default() };
        if total > 0 || self.inbound.is_raw() {
            let d = self.inbound.decode();
            out.len = d.len;
            out.frames = d.frames;
            out.error = d.error;
        }
        Ok(out)
    }

    /// True when [`read_into`](Self::read_into) may be used: raw mode without TLS, where received
    /// bytes need no framing or decryption.
    pub fn reads_direct(&self) -> bool {
        self.inbound.is_raw() && self.tls.is_none()
    }

    /// Raw mode without TLS ([`reads_direct`](Self::reads_direct)): one `recv` straight into
    /// `dst`, past the read buffer, so the caller can hand the bytes on without copying them.
    /// Returns how many bytes arrived (0 when none were waiting) and whether the peer ended.
    pub fn read_into(&mut self, dst: &mut [MaybeUninit<u8>]) -> io::Result<(usize, bool)> {
        debug_assert!(self.reads_direct() && !dst.is_empty());
        loop {
            match self.sock.recv(dst) {
                Ok(0) => return Ok((0, true)),
                Ok(n) => return Ok((n, false)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok((0, false)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The bytes announced by the last [`read`](Self::read).
    pub fn batch(&self, r: &Readable) -> &[u8] {
        self.inbound.batch(&r.decoded())
    }

    /// Drops the batch from the read buffer, keeping any unfinished frame.
    pub fn consume(&mut self, r: &Readable) {
        self.inbound.consume(&r.decoded());
    }

    /// Like [`read`](Self::read), but reads into `scratch` (a buffer shared by many connections
    /// on one thread) when no unfinished frame is pending, so connections between bursts hold no
    /// read buffer and bursts reuse one warm allocation. Call
    /// [`consume_shared`](Self::consume_shared) with the same `scratch` afterwards, always.
    pub fn read_shared(&mut self, scratch: &mut Vec<u8>, budget: usize) -> io::Result<Readable> {
        self.inbound.lend(scratch);
        let r = self.read(budget);
        if r.is_err() {
            self.inbound.give_back(scratch);
        }
        r
    }

    /// Drops the batch and returns the shared buffer lent by [`read_shared`](Self::read_shared),
    /// keeping only the unfinished frame (copied to a buffer of its own).
    pub fn consume_shared(&mut self, r: &Readable, scratch: &mut Vec<u8>) {
        self.inbound.consume(&r.decoded());
        self.inbound.give_back(scratch);
    }

    /// The receive side: buffered bytes and their framing.
    pub fn inbound(&self) -> &Inbound {
        &self.inbound
    }

    /// The receive side, to configure it (e.g. [`Inbound::set_message_timeout`]) or drive its
    /// remainder-age rule.
    pub fn inbound_mut(&mut self) -> &mut Inbound {
        &mut self.inbound
    }

    /// Bytes of an unfinished frame still buffered (non-zero at EOF means the peer stopped mid-frame).
    pub fn partial_len(&self) -> usize {
        self.inbound.partial_len()
    }

    /// Writes `data`, queueing what the kernel does not take. Returns `true` when nothing is left
    /// queued; otherwise wait for writability and call [`flush`](Self::flush).
    pub fn write(&mut self, data: &[u8]) -> io::Result<bool> {
        if let Some(tls) = self.tls.as_mut() {
            io::Write::write_all(&mut tls.writer(), data)?;
            self.tls_out()?;
            return self.flush();
        }
        if self.wpos < self.wbuf.len() {
            self.compact();
            self.wbuf.extend_from_slice(data);
            return Ok(false);
        }
        let n = send_some(&self.sock, data)?;
        if n < data.len() {
            self.wbuf.clear();
            self.wpos = 0;
            self.wbuf.extend_from_slice(&data[n..]);
            return Ok(false);
        }
        Ok(true)
    }

    /// Queues bytes without trying to send them (for a connection still being established).
    pub fn queue(&mut self, data: &[u8]) {
        if let Some(tls) = self.tls.as_mut() {
            // Plaintext waits inside rustls until the handshake is done.
            let _ = io::Write::write_all(&mut tls.writer(), data);
            let _ = self.tls_out();
            return;
        }
        self.compact();
        self.wbuf.extend_from_slice(data);
    }

    /// Drops the written front of the queue before more is appended, once it is at least as long
    /// as what is still unsent. The queue's memory then follows what is unsent even when it never
    /// empties (a peer that keeps reading, slower than we write): without this, every byte
    /// written since the queue last emptied stayed allocated. Each queued byte is moved at most
    /// once on average (a move of `r` bytes follows at least `r` bytes sent).
    fn compact(&mut self) {
        if self.wpos > 0 && self.wpos >= self.wbuf.len() - self.wpos {
            self.wbuf.drain(..self.wpos);
            self.wpos = 0;
        }
    }

    /// The frame delimiter (`None` in raw mode).
    pub fn delimiter(&self) -> Option<&[u8]> {
        self.inbound.delimiter()
    }

    /// True in raw mode (no framing).
    pub fn is_raw(&self) -> bool {
        self.inbound.is_raw()
    }

    /// Writes queued bytes. `true` once the queue is empty.
    pub fn flush(&mut self) -> io::Result<bool> {
        while self.wpos < self.wbuf.len() {
            let n = send_some(&self.sock, &self.wbuf[self.wpos..])?;
            if n == 0 {
                return Ok(false);
            }
            self.wpos += n;
        }
        self.wbuf = Vec::new();
        self.wpos = 0;
        Ok(true)
    }

    /// Starts an orderly close of the sending side: TLS `close_notify`, then (once the queue is
    /// written) a socket shutdown. Returns `true` when the shutdown happened.
    pub fn close_write(&mut self) -> io::Result<bool> {
        if let Some(tls) = self.tls.as_mut() {
            tls.send_close_notify();
            self.tls_out()?;
        }
        if self.flush()? {
            let _ = self.sock.shutdown(std::net::Shutdown::Write);
            return Ok(true);
        }
        Ok(false)
    }

    /// Bytes waiting to be written.
    pub fn pending_writes(&self) -> usize {
        self.wbuf.len() - self.wpos
    }
}

/// `send` as much as the kernel takes now; 0 on `WouldBlock`. Never raises SIGPIPE.
fn send_some(sock: &Socket, data: &[u8]) -> io::Result<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = libc::MSG_NOSIGNAL;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let flags = 0;
    loop {
        match sock.send_with_flags(data, flags) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A bound, nonblocking UDP socket (node-ipc's `udp4`/`udp6` servers).
#[derive(Debug)]
pub struct Datagram {
    /// The socket.
    sock: Socket,
}

/// Largest UDP payload; a receive buffer this size never truncates.
pub const MAX_DATAGRAM: usize = 65535;

impl Datagram {
    /// Binds to `addr`; `v6only` keeps an IPv6 socket from also taking IPv4 traffic.
    pub fn bind(addr: SocketAddr) -> io::Result<Datagram> {
        let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, None)?;
        sock.set_nonblocking(true)?;
        #[cfg(unix)]
        sock.set_cloexec(true)?;
        if addr.is_ipv6() {
            sock.set_only_v6(true)?;
        }
        sock.bind(&SockAddr::from(addr))?;
        Ok(Datagram { sock })
    }

    /// The bound socket, for a caller that drives it itself (the async Rust API's UDP server).
    pub fn into_std(self) -> std::net::UdpSocket {
        self.sock.into()
    }

    /// Receives one datagram into `buf` (which should hold [`MAX_DATAGRAM`] bytes).
    /// `Ok(None)` when nothing is waiting.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddr)>> {
        // SAFETY: an initialised &mut [u8] is a valid &mut [MaybeUninit<u8>].
        let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        loop {
            match self.sock.recv_from(uninit) {
                Ok((n, from)) => {
                    let from = from.as_socket().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
                    return Ok(Some((n, from)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends one datagram.
    pub fn send_to(&self, data: &[u8], to: SocketAddr) -> io::Result<usize> {
        loop {
            match self.sock.send_to(data, &SockAddr::from(to)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()?.as_socket().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))
    }
}

#[cfg(unix)]
impl AsRawFd for Datagram {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Read;

    /// A queue that never empties (the peer keeps reading, one write behind) keeps only its
    /// unsent bytes: 128 MiB pass through it while it holds about 1 MiB.
    #[test]
    fn queue_that_never_empties_holds_only_unsent_bytes() {
        let (a, mut peer) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut conn = Connection::new(Socket::from(a), None);
        let chunk = vec![7u8; 64 * 1024];
        let mut sink = vec![0u8; chunk.len()];
        for _ in 0..16 {
            conn.write(&chunk).unwrap(); // the kernel's buffer fills, then the queue
        }
        let backlog = conn.pending_writes();
        assert!(backlog > 0, "the socket buffer should have filled");
        let mut largest = 0;
        for _ in 0..2048 {
            assert!(!conn.write(&chunk).unwrap());
            peer.read_exact(&mut sink).unwrap();
            conn.flush().unwrap();
            largest = largest.max(conn.wbuf.capacity());
            assert!(conn.pending_writes() > 0, "the queue should never empty in this test");
        }
        assert!(largest <= 4 * (backlog + 2 * chunk.len()), "queue grew to {largest} bytes for {backlog} unsent");
    }

    /// Both ends of a loopback TCP connection the native transport opens and accepts leave BBR for
    /// cubic (`sockopt::unpace_loopback`); where the system default is something else, it stays.
    #[cfg(target_os = "linux")]
    #[test]
    fn loopback_tcp_leaves_bbr() {
        let ep = Endpoint::Tcp("127.0.0.1:0".parse().unwrap());
        let listener = Listener::bind(&ep, &ListenOptions::default()).unwrap();
        let (client, _) = connect(&Endpoint::Tcp(listener.local_addr().unwrap())).unwrap();
        let mut server = None;
        for _ in 0..500 {
            server = listener.accept().unwrap();
            if server.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let server = server.expect("the connection should have been accepted");
        let system = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control").unwrap_or_default();
        // (a system may forbid choosing cubic: then BBR stays)
        let may_choose_cubic =
            Socket::new(Domain::IPV4, Type::STREAM, None).unwrap().set_tcp_congestion(b"cubic").is_ok();
        let want = if system.trim().starts_with("bbr") && may_choose_cubic { "cubic" } else { system.trim() };
        for sock in [&client, &server] {
            let mut name = sock.tcp_congestion().unwrap();
            name.retain(|&b| b != 0);
            assert_eq!(String::from_utf8_lossy(&name), want, "system default {system:?}");
        }
    }

    /// Raw mode without TLS reads straight into the caller's buffer: what arrived, nothing when
    /// nothing is waiting, then the peer's end. Framed connections do not offer it.
    #[test]
    fn raw_reads_go_into_the_callers_buffer() {
        use std::io::Write;
        let (a, mut peer) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut conn = Connection::new(Socket::from(a), None);
        assert!(conn.reads_direct());
        let mut dst = vec![MaybeUninit::new(0u8); 16];
        assert_eq!(conn.read_into(&mut dst).unwrap(), (0, false));
        peer.write_all(b"hello").unwrap();
        assert_eq!(conn.read_into(&mut dst).unwrap(), (5, false));
        // SAFETY: initialised above.
        let got: Vec<u8> = dst[..5].iter().map(|b| unsafe { b.assume_init() }).collect();
        assert_eq!(got, b"hello");
        drop(peer);
        assert_eq!(conn.read_into(&mut dst).unwrap(), (0, true));

        let (b, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
        let framed = Connection::new(Socket::from(b), Some(crate::codec::FrameDecoder::new(b"\x0c", None)));
        assert!(!framed.reads_direct());
    }
}
