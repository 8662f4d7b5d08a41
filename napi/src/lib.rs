//! The napi binding: node-ipc-rs's core sockets, polled from the calling environment's libuv loop.
//!
//! JS sees integer handle ids and one dispatch function, called once per socket event:
//! `dispatch(kind, id, a, b)`. A read hands over *all* complete frames it found as one string, so a
//! burst of messages crosses the boundary once, not once per message. Writes are batched by the JS
//! shim (one call per connection per tick) and go straight to the kernel from the JS thread.
//!
//! Handle ids are unique across servers and connections for the life of the environment.

#![deny(clippy::all)]

mod uv;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::os::raw::c_int;
use std::path::PathBuf;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use node_ipc_rs::codec::FrameDecoder;
use node_ipc_rs::net::{self, Connection, Datagram, Endpoint, Listener, Readable};
use node_ipc_rs::tls;
use std::sync::Arc;

use uv::{Poll, UvPoll, UV_READABLE, UV_WRITABLE};

/// Event kinds passed as the first argument of the dispatch function.
const EV_FRAMES: u32 = 1; // (id, text, count): complete frames, delimiters included
const EV_DATA: u32 = 2; // (id, Buffer): raw-mode bytes
const EV_CONNECT: u32 = 3; // (id): an outgoing connection is established
const EV_ACCEPT: u32 = 4; // (serverId, connId)
const EV_ERROR: u32 = 5; // (id, code, message)
const EV_CLOSE: u32 = 6; // (id, hadError): the connection is gone (not sent after destroy())
const EV_DATAGRAM: u32 = 7; // (id, text|Buffer, address, port, size): one UDP datagram

/// Most bytes read from one socket per loop iteration before other sockets get their turn (and
/// before JS gets the batch). Smaller batches let the peer work while we do: on this 2-core
/// machine a Node<->Node echo ran ~1.3x faster with 64 KiB than with 256 KiB (NIRS_READ_BUDGET
/// overrides it, for experiments).
const READ_BUDGET: usize = 64 * 1024;

thread_local! {
    /// One state per environment: the main thread and every worker load the addon separately.
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

struct State {
    /// The environment that owns this thread's sockets.
    env: sys::napi_env,
    /// Its libuv loop.
    lp: *mut uv::UvLoop,
    /// The JS dispatch function.
    dispatch: sys::napi_ref,
    /// Receiver for dispatch calls (the global object).
    recv: sys::napi_ref,
    /// Async context so callbacks run ticks and microtasks like any Node I/O callback.
    async_ctx: sys::napi_async_context,
    /// Next handle id.
    next_id: u32,
    /// Live servers, connections and UDP sockets.
    entries: HashMap<u32, Entry>,
    /// Receive buffer for datagrams (reused).
    dgram_buf: Vec<u8>,
    /// Read buffer lent to whichever connection is being read (see `Connection::read_shared`).
    read_buf: Vec<u8>,
    /// Bytes read per socket per loop iteration.
    read_budget: usize,
    /// The frames of the read being dispatched, as a JSON array.
    batch: FrameArray,
}

/// The frames of one read as the text of a JSON array (`[f1,f2,...]`), with where each frame
/// ends, so JS can get the frames one by one when the array does not parse as N messages.
#[derive(Default)]
struct FrameArray {
    /// `[` + frames joined by `,` + `]`.
    text: Vec<u8>,
    /// Offset in `text` of the byte after each frame (its `,` or the final `]`).
    ends: Vec<usize>,
}

impl FrameArray {
    fn build(&mut self, batch: &[u8], delimiter: &[u8]) {
        self.text.clear();
        self.ends.clear();
        self.text.reserve(batch.len() + 2);
        self.text.push(b'[');
        let mut start = 0;
        for pos in memchr::memmem::find_iter(batch, delimiter) {
            if pos < start {
                continue; // overlapping match inside the previous delimiter
            }
            self.text.extend_from_slice(&batch[start..pos]);
            self.ends.push(self.text.len());
            self.text.push(b',');
            start = pos + delimiter.len();
        }
        if let Some(last) = self.text.last_mut() {
            if *last == b',' {
                *last = b']';
            } else {
                self.text.push(b']');
            }
        }
    }

    /// Frame `i`'s bytes.
    fn frame(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 1 } else { self.ends[i - 1] + 1 };
        &self.text[start..self.ends[i]]
    }
}

enum Entry {
    Server(Server),
    Conn(Conn),
    Udp(Udp),
}

struct Udp {
    /// The bound socket.
    sock: Datagram,
    /// Its poll handle.
    poll: Poll,
    /// Framing of each datagram (frames must be complete within one datagram).
    opts: ConnOpts,
}

/// Datagrams read per loop iteration before other sockets get their turn.
const DATAGRAM_BUDGET: usize = 64;

/// TLS for a connection: a client session to verify `server_name`, or a server session.
#[derive(Clone)]
enum TlsMode {
    Client(Arc<rustls::ClientConfig>, rustls::pki_types::ServerName<'static>),
    Server(Arc<rustls::ServerConfig>),
}

impl TlsMode {
    fn session(&self) -> std::result::Result<rustls::Connection, rustls::Error> {
        Ok(match self {
            TlsMode::Client(cfg, name) => rustls::ClientConnection::new(cfg.clone(), name.clone())?.into(),
            TlsMode::Server(cfg) => rustls::ServerConnection::new(cfg.clone())?.into(),
        })
    }
}

#[derive(Clone)]
struct ConnOpts {
    /// Frame delimiter bytes.
    delimiter: Vec<u8>,
    /// Raw mode: no framing.
    raw: bool,
    /// Frame limit in bytes.
    max_frame: Option<usize>,
    /// TLS session settings, if encrypted.
    tls: Option<TlsMode>,
}

impl ConnOpts {
    fn decoder(&self) -> Option<FrameDecoder> {
        (!self.raw).then(|| FrameDecoder::new(&self.delimiter, self.max_frame))
    }
}

struct Server {
    /// The listening socket.
    listener: Listener,
    /// Its poll handle.
    poll: Poll,
    /// Connections above this count are accepted and closed at once (as Node does).
    max_connections: usize,
    /// Options for accepted connections.
    conn_opts: ConnOpts,
    /// Accepted connections still open.
    active: usize,
}

struct Conn {
    /// Socket, buffers and decoder.
    conn: Connection,
    /// Its poll handle.
    poll: Poll,
    /// A connect is in progress: wait for writability.
    connecting: bool,
    /// `end()` was called: shut down the write side once the queue drains.
    ending: bool,
    /// A TLS handshake is under way: `connect` (client) or the accept (server) waits for it.
    handshaking: bool,
    /// The accepting server's id (0 for client connections).
    server: u32,
}

/// An event collected while the state is borrowed, dispatched after the borrow ends.
enum Ev {
    Frames(u32, sys::napi_value, usize),
    Data(u32, sys::napi_value),
    Connect(u32),
    Accept(u32, u32),
    Error(u32, String, String),
    Close(u32, bool),
    Datagram(u32, sys::napi_value, SocketAddr, usize),
}

fn io_code(e: &io::Error) -> String {
    if let Some(t) = net::tls_error(e) {
        return tls::error_code(t);
    }
    match e.raw_os_error() {
        Some(errno) => uv::err_name(-errno),
        None => match e.kind() {
            io::ErrorKind::InvalidInput => "EINVAL".into(),
            _ => "EIO".into(),
        },
    }
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

fn check(status: sys::napi_status) {
    debug_assert_eq!(status, sys::Status::napi_ok);
}

impl State {
    fn alloc_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.next_id
    }

    fn desired_events(c: &Conn) -> c_int {
        // (a TLS handshake needs both directions; pending ciphertext shows up in pending_writes)
        if c.connecting {
            UV_WRITABLE
        } else if c.conn.pending_writes() > 0 {
            UV_READABLE | UV_WRITABLE
        } else {
            UV_READABLE
        }
    }

    /// Closes a connection's poll handle and socket; returns whether it existed.
    fn remove_conn(&mut self, id: u32) -> bool {
        match self.entries.remove(&id) {
            Some(Entry::Conn(c)) => {
                c.poll.close();
                if c.server != 0 {
                    if let Some(Entry::Server(s)) = self.entries.get_mut(&c.server) {
                        s.active = s.active.saturating_sub(1);
                    }
                }
                drop(c.conn);
                true
            }
            Some(other) => {
                self.entries.insert(id, other);
                false
            }
            None => false,
        }
    }

    fn fail_conn(&mut self, id: u32, e: &io::Error, evs: &mut Vec<Ev>) {
        if let Some(Entry::Conn(c)) = self.entries.get(&id) {
            if c.server != 0 && c.handshaking {
                // JS never heard of this connection: the failed handshake is the server's error.
                evs.push(Ev::Error(c.server, io_code(e), format!("TLS handshake with a client failed: {e}")));
                self.remove_conn(id);
                return;
            }
        }
        evs.push(Ev::Error(id, io_code(e), e.to_string()));
        evs.push(Ev::Close(id, true));
        self.remove_conn(id);
    }

    fn add_conn(&mut self, conn: Connection, connecting: bool, server: u32) -> io::Result<u32> {
        let id = self.alloc_id();
        let fd = conn.socket().as_raw_fd();
        let poll = Poll::new(self.lp, fd, id).map_err(|rc| io::Error::from_raw_os_error(-rc))?;
        let handshaking = conn.is_handshaking();
        let mut c = Conn { conn, poll, connecting, ending: false, handshaking, server };
        c.poll
            .set(State::desired_events(&c), on_poll)
            .map_err(|rc| io::Error::from_raw_os_error(-rc))?;
        self.entries.insert(id, Entry::Conn(c));
        Ok(id)
    }

    fn server_ready(&mut self, id: u32, evs: &mut Vec<Ev>) {
        loop {
            let Some(Entry::Server(s)) = self.entries.get_mut(&id) else { return };
            match s.listener.accept() {
                Ok(None) => return,
                Ok(Some(sock)) => {
                    if s.active >= s.max_connections {
                        drop(sock); // accepted and closed at once, as Node does over maxConnections
                        continue;
                    }
                    s.active += 1;
                    let mut conn = Connection::new(sock, s.conn_opts.decoder());
                    if let Some(mode) = &s.conn_opts.tls {
                        match mode.session() {
                            Ok(session) => conn = conn.with_tls(session),
                            Err(e) => {
                                s.active -= 1;
                                evs.push(Ev::Error(id, tls::error_code(&e), format!("TLS: {e}")));
                                continue;
                            }
                        }
                    }
                    let handshaking = conn.is_handshaking();
                    match self.add_conn(conn, false, id) {
                        // With TLS, JS hears of the connection once the handshake is done.
                        Ok(cid) if !handshaking => evs.push(Ev::Accept(id, cid)),
                        Ok(_) => {}
                        Err(e) => {
                            if let Some(Entry::Server(s)) = self.entries.get_mut(&id) {
                                s.active -= 1;
                            }
                            evs.push(Ev::Error(id, io_code(&e), e.to_string()));
                            return;
                        }
                    }
                }
                Err(e) => {
                    // Out of descriptors or memory: the listener stays readable, so stop polling
                    // it instead of spinning; JS resumes it a little later (`resumeListen`).
                    if let Some(Entry::Server(s)) = self.entries.get_mut(&id) {
                        let _ = s.poll.set(0, on_poll);
                    }
                    evs.push(Ev::Error(id, io_code(&e), format!("accept {e}")));
                    return;
                }
            }
        }
    }

    fn conn_ready(&mut self, id: u32, status: c_int, events: c_int, evs: &mut Vec<Ev>) {
        let env = self.env;
        let Some(Entry::Conn(c)) = self.entries.get_mut(&id) else { return };
        if status < 0 {
            // libuv reports POLLERR as UV_EBADF; the socket knows the real error.
            let e = match c.conn.socket().take_error() {
                Ok(Some(e)) => e,
                _ => io::Error::from_raw_os_error(-status),
            };
            return self.fail_conn(id, &e, evs);
        }
        if c.connecting {
            if events & UV_WRITABLE == 0 {
                return;
            }
            match net::finish_connect(c.conn.socket()) {
                Ok(()) => {
                    c.connecting = false;
                    if c.handshaking {
                        // Send the ClientHello; `connect` waits for the handshake.
                        if let Err(e) = c.conn.flush() {
                            return self.fail_conn(id, &e, evs);
                        }
                    } else {
                        evs.push(Ev::Connect(id));
                    }
                }
                Err(e) => return self.fail_conn(id, &e, evs),
            }
        } else if events & UV_WRITABLE != 0 {
            let flushed = if c.ending { c.conn.close_write() } else { c.conn.flush() };
            if let Err(e) = flushed {
                return self.fail_conn(id, &e, evs);
            }
        }
        if events & UV_READABLE != 0 && !c.connecting {
            let r: Readable = match c.conn.read_shared(&mut self.read_buf, self.read_budget) {
                Ok(r) => r,
                Err(e) => return self.fail_conn(id, &e, evs),
            };
            if c.handshaking && !c.conn.is_handshaking() {
                c.handshaking = false;
                evs.push(if c.server != 0 { Ev::Accept(c.server, id) } else { Ev::Connect(id) });
            }
            if r.len > 0 {
                let bytes = c.conn.batch(&r);
                let mut value = ptr::null_mut();
                // SAFETY: env is this thread's environment; we are inside a handle scope.
                unsafe {
                    if c.conn.is_raw() {
                        check(sys::napi_create_buffer_copy(
                            env,
                            bytes.len(),
                            bytes.as_ptr().cast(),
                            ptr::null_mut(),
                            &mut value,
                        ));
                        evs.push(Ev::Data(id, value));
                    } else if r.frames > 0 {
                        // Hand JS one JSON array of all the frames: one JSON.parse per read.
                        let delimiter = c.conn.delimiter().unwrap_or(b"\x0c");
                        self.batch.build(bytes, delimiter);
                        let text = &self.batch.text;
                        check(sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut value));
                        evs.push(Ev::Frames(id, value, r.frames));
                    }
                }
            }
            c.conn.consume_shared(&r, &mut self.read_buf);
            if let Some(err) = r.error {
                evs.push(Ev::Error(id, err.code().into(), err.to_string()));
                evs.push(Ev::Close(id, true));
                self.remove_conn(id);
                return;
            }
            if r.eof && c.handshaking && c.server != 0 {
                let server = c.server;
                evs.push(Ev::Error(server, "ECONNRESET".into(), "a client closed the connection during the TLS handshake".into()));
                self.remove_conn(id);
                return;
            }
            if r.eof {
                let partial = c.conn.partial_len();
                if partial > 0 && !c.conn.is_raw() {
                    evs.push(Ev::Error(
                        id,
                        "ERR_IPC_INCOMPLETE_FRAME".into(),
                        format!("the peer closed the connection {partial} bytes into a frame"),
                    ));
                }
                evs.push(Ev::Close(id, partial > 0));
                self.remove_conn(id);
                return;
            }
        }
        let want = State::desired_events(c);
        if let Err(rc) = c.poll.set(want, on_poll) {
            let e = io::Error::from_raw_os_error(-rc);
            self.fail_conn(id, &e, evs);
        }
    }

    fn udp_ready(&mut self, id: u32, evs: &mut Vec<Ev>) {
        let env = self.env;
        let Some(Entry::Udp(u)) = self.entries.get(&id) else { return };
        if self.dgram_buf.len() < net::MAX_DATAGRAM {
            self.dgram_buf = vec![0; net::MAX_DATAGRAM];
        }
        for _ in 0..DATAGRAM_BUDGET {
            let (n, from) = match u.sock.recv_from(&mut self.dgram_buf) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    evs.push(Ev::Error(id, io_code(&e), format!("recvfrom {e}")));
                    return;
                }
            };
            let bytes = &self.dgram_buf[..n];
            let mut value = ptr::null_mut();
            // SAFETY: env is this thread's environment; we are inside a handle scope.
            unsafe {
                if u.opts.raw {
                    check(sys::napi_create_buffer_copy(env, n, bytes.as_ptr().cast(), ptr::null_mut(), &mut value));
                    evs.push(Ev::Datagram(id, value, from, n));
                    continue;
                }
                // Each datagram holds whole frames; a remainder is not kept for the next one.
                let mut dec = FrameDecoder::new(&u.opts.delimiter, u.opts.max_frame);
                let b = dec.decode_batch(bytes);
                if b.end > 0 {
                    check(sys::napi_create_string_utf8(env, bytes.as_ptr().cast(), b.end as isize, &mut value));
                    evs.push(Ev::Datagram(id, value, from, n));
                }
                if let Some(err) = b.error {
                    evs.push(Ev::Error(id, err.code().into(), format!("datagram from {from}: {err}")));
                } else if b.end < n {
                    evs.push(Ev::Error(
                        id,
                        "ERR_IPC_INCOMPLETE_FRAME".into(),
                        format!("datagram from {from} ends with {} bytes of an unfinished frame", n - b.end),
                    ));
                }
            }
        }
    }

    fn close_all(&mut self) {
        for (_, entry) in self.entries.drain() {
            match entry {
                Entry::Conn(c) => c.poll.close(),
                Entry::Server(s) => s.poll.close(),
                Entry::Udp(u) => u.poll.close(),
            }
        }
    }
}

unsafe extern "C" fn on_poll(handle: *mut UvPoll, status: c_int, events: c_int) {
    let id = uv::handle_id(handle);
    let Some((env, dispatch, recv, ctx)) = with_state(|s| (s.env, s.dispatch, s.recv, s.async_ctx)) else {
        return;
    };
    let mut scope = ptr::null_mut();
    check(sys::napi_open_handle_scope(env, &mut scope));
    let mut evs = Vec::new();
    with_state(|s| match s.entries.get(&id) {
        Some(Entry::Server(_)) => s.server_ready(id, &mut evs),
        Some(Entry::Conn(_)) => s.conn_ready(id, status, events, &mut evs),
        Some(Entry::Udp(_)) => s.udp_ready(id, &mut evs),
        None => {}
    });
    for ev in evs {
        if !dispatch_event(env, dispatch, recv, ctx, ev) {
            break;
        }
    }
    check(sys::napi_close_handle_scope(env, scope));
}

unsafe fn num(env: sys::napi_env, n: f64) -> sys::napi_value {
    let mut v = ptr::null_mut();
    check(sys::napi_create_double(env, n, &mut v));
    v
}

unsafe fn string(env: sys::napi_env, s: &str) -> sys::napi_value {
    let mut v = ptr::null_mut();
    check(sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v));
    v
}

unsafe fn boolean(env: sys::napi_env, b: bool) -> sys::napi_value {
    let mut v = ptr::null_mut();
    check(sys::napi_get_boolean(env, b, &mut v));
    v
}

/// Calls the JS dispatcher. Returns false if JS threw (the exception is reported as uncaught, as
/// an exception thrown from a Node socket callback would be; the rest of this read is dropped).
unsafe fn dispatch_event(
    env: sys::napi_env,
    dispatch: sys::napi_ref,
    recv: sys::napi_ref,
    ctx: sys::napi_async_context,
    ev: Ev,
) -> bool {
    let null = ptr::null_mut();
    let args: [sys::napi_value; 6] = match ev {
        Ev::Frames(id, text, n) => [num(env, EV_FRAMES as f64), num(env, id as f64), text, num(env, n as f64), null, null],
        Ev::Data(id, buf) => [num(env, EV_DATA as f64), num(env, id as f64), buf, null, null, null],
        Ev::Connect(id) => [num(env, EV_CONNECT as f64), num(env, id as f64), null, null, null, null],
        Ev::Accept(sid, cid) => [num(env, EV_ACCEPT as f64), num(env, sid as f64), num(env, cid as f64), null, null, null],
        Ev::Error(id, code, msg) => {
            [num(env, EV_ERROR as f64), num(env, id as f64), string(env, &code), string(env, &msg), null, null]
        }
        Ev::Close(id, had_error) => {
            [num(env, EV_CLOSE as f64), num(env, id as f64), boolean(env, had_error), null, null, null]
        }
        Ev::Datagram(id, payload, from, size) => [
            num(env, EV_DATAGRAM as f64),
            num(env, id as f64),
            payload,
            string(env, &from.ip().to_string()),
            num(env, from.port() as f64),
            num(env, size as f64),
        ],
    };
    let argc = args.iter().take_while(|a| !a.is_null()).count();
    let mut func = ptr::null_mut();
    let mut this = ptr::null_mut();
    check(sys::napi_get_reference_value(env, dispatch, &mut func));
    check(sys::napi_get_reference_value(env, recv, &mut this));
    let mut result = ptr::null_mut();
    let status = sys::napi_make_callback(env, ctx, this, func, argc, args.as_ptr(), &mut result);
    if status == sys::Status::napi_pending_exception {
        let mut exc = ptr::null_mut();
        sys::napi_get_and_clear_last_exception(env, &mut exc);
        sys::napi_fatal_exception(env, exc);
        return false;
    }
    status == sys::Status::napi_ok
}

/// Registers the JS dispatch function for this environment. Call once, at load.
#[napi]
pub fn init(env: Env, dispatch: Unknown) -> Result<()> {
    let raw_env = env.raw();
    let lp = env.get_uv_event_loop()?;
    let mut dispatch_ref = ptr::null_mut();
    let mut recv_ref = ptr::null_mut();
    let mut ctx = ptr::null_mut();
    // SAFETY: plain N-API calls on the calling environment.
    unsafe {
        check(sys::napi_create_reference(raw_env, dispatch.raw(), 1, &mut dispatch_ref));
        let mut global = ptr::null_mut();
        check(sys::napi_get_global(raw_env, &mut global));
        check(sys::napi_create_reference(raw_env, global, 1, &mut recv_ref));
        let name = string(raw_env, "node-ipc-rs");
        check(sys::napi_async_init(raw_env, ptr::null_mut(), name, &mut ctx));
    }
    let previous = STATE.with(|s| {
        s.borrow_mut().replace(State {
            env: raw_env,
            lp,
            dispatch: dispatch_ref,
            recv: recv_ref,
            async_ctx: ctx,
            next_id: 0,
            entries: HashMap::new(),
            dgram_buf: Vec::new(),
            read_buf: Vec::new(),
            batch: FrameArray::default(),
            read_budget: std::env::var("NIRS_READ_BUDGET").ok().and_then(|v| v.parse().ok()).unwrap_or(READ_BUDGET),
        })
    });
    if let Some(mut old) = previous {
        old.close_all();
    } else {
        env.add_env_cleanup_hook((), |()| {
            // The environment is going away (process exit or worker termination): stop polling,
            // close every socket and remove our socket files.
            let state = STATE.with(|s| s.borrow_mut().take());
            if let Some(mut st) = state {
                st.close_all();
            }
        })?;
    }
    Ok(())
}

/// Options for a socket's framing.
#[napi(object)]
pub struct SocketOptions {
    /// Frame delimiter (non-empty).
    pub delimiter: String,
    /// Raw mode: no framing, bytes are delivered as read.
    pub raw: bool,
    /// Largest accepted frame in bytes (delimiter excluded); absent for no limit.
    pub max_frame: Option<f64>,
    /// TLS settings; absent for plain sockets.
    pub tls: Option<TlsSettings>,
    /// Client: local address to bind before connecting (TCP).
    pub local_address: Option<String>,
    /// Client: local port to bind before connecting (TCP).
    pub local_port: Option<u32>,
}

/// TLS settings as PEM contents (the JS layer reads node-ipc's file paths).
#[napi(object)]
pub struct TlsSettings {
    /// Trusted CA certificates.
    pub ca: Vec<Buffer>,
    /// Certificate chain of this endpoint.
    pub cert: Option<Buffer>,
    /// Private key of this endpoint.
    pub key: Option<Buffer>,
    /// Verify the peer.
    pub reject_unauthorized: bool,
    /// Server: ask clients for certificates.
    pub request_cert: bool,
    /// Client: name to verify (defaults to the host).
    pub servername: Option<String>,
}

fn tls_options(t: &TlsSettings) -> tls::TlsOptions {
    tls::TlsOptions {
        ca: t.ca.iter().map(|b| b.to_vec()).collect(),
        cert: t.cert.as_ref().map(|b| b.to_vec()),
        key: t.key.as_ref().map(|b| b.to_vec()),
        reject_unauthorized: t.reject_unauthorized,
        request_cert: t.request_cert,
        servername: t.servername.clone(),
    }
}

/// Options for a listening server.
#[napi(object)]
pub struct ServerOptions {
    /// Remove a stale socket file at the path first.
    pub unlink: bool,
    /// Make the socket file readable by all users.
    pub readable_all: bool,
    /// Make the socket file writable by all users.
    pub writable_all: bool,
    /// Connections above this are accepted and closed at once.
    pub max_connections: f64,
    /// Framing of accepted connections.
    pub socket: SocketOptions,
}

/// A TCP address.
#[napi(object)]
pub struct AddressInfo {
    pub address: String,
    pub port: u32,
    pub family: String,
}

/// Framing and, for TLS, the session settings. `host` is the peer's host for a client, `None` for
/// a server.
fn conn_opts(o: &SocketOptions, host: Option<&str>) -> std::result::Result<ConnOpts, String> {
    if o.delimiter.is_empty() {
        return Err("EINVAL".into());
    }
    let tls = match &o.tls {
        None => None,
        Some(t) => {
            let opts = tls_options(t);
            let cfg_err = |e: tls::TlsConfigError| format!("{}|{}", e.code(), e);
            Some(match host {
                Some(host) => {
                    let name = opts.servername.clone().unwrap_or_else(|| host.to_string());
                    TlsMode::Client(tls::client_config(&opts).map_err(cfg_err)?, tls::server_name(&name).map_err(cfg_err)?)
                }
                None => TlsMode::Server(tls::server_config(&opts).map_err(cfg_err)?),
            })
        }
    };
    Ok(ConnOpts {
        delimiter: o.delimiter.clone().into_bytes(),
        raw: o.raw,
        max_frame: o.max_frame.filter(|m| m.is_finite() && *m >= 0.0).map(|m| m as usize),
        tls,
    })
}

fn endpoint(host_or_path: &str, port: i32) -> std::result::Result<Endpoint, String> {
    if port < 0 {
        return Ok(Endpoint::Local(PathBuf::from(host_or_path)));
    }
    let ip: IpAddr = host_or_path.parse().map_err(|_| "EINVAL".to_string())?;
    Ok(Endpoint::Tcp(SocketAddr::new(ip, port as u16)))
}

fn no_state() -> String {
    "ERR_IPC_NOT_INITIALISED".into()
}

/// Polls `fd` for readability and stores the entry `make` builds around the poll handle.
fn register(fd: c_int, make: impl FnOnce(Poll) -> Entry) -> std::result::Result<u32, String> {
    with_state(|st| {
        let id = st.alloc_id();
        let mut poll = Poll::new(st.lp, fd, id).map_err(uv::err_name)?;
        if let Err(rc) = poll.set(UV_READABLE, on_poll) {
            poll.close();
            return Err(uv::err_name(rc));
        }
        st.entries.insert(id, make(poll));
        Ok(id)
    })
    .unwrap_or_else(|| Err(no_state()))
}

/// Listens on a local path (`port` < 0) or an IP address and port. Returns the server id, or an
/// error code (`EADDRINUSE`, `EACCES`, ...).
#[napi]
pub fn listen(host_or_path: String, port: i32, opts: ServerOptions) -> Either<u32, String> {
    let result = (|| {
        let ep = endpoint(&host_or_path, port)?;
        let copts = conn_opts(&opts.socket, None)?;
        let lopts = net::ListenOptions {
            unlink: opts.unlink,
            readable_all: opts.readable_all,
            writable_all: opts.writable_all,
            ..net::ListenOptions::default()
        };
        let listener = Listener::bind(&ep, &lopts).map_err(|e| io_code(&e))?;
        let max = if opts.max_connections.is_finite() && opts.max_connections >= 0.0 {
            opts.max_connections as usize
        } else {
            usize::MAX
        };
        register(listener.as_raw_fd(), |poll| {
            Entry::Server(Server { listener, poll, max_connections: max, conn_opts: copts, active: 0 })
        })
    })();
    match result {
        Ok(id) => Either::A(id),
        Err(code) => Either::B(code),
    }
}

fn addr_info(a: SocketAddr) -> AddressInfo {
    AddressInfo {
        address: a.ip().to_string(),
        port: a.port() as u32,
        family: if a.is_ipv4() { "IPv4".into() } else { "IPv6".into() },
    }
}

/// The bound address of a TCP server or a UDP socket.
#[napi]
pub fn address(id: u32) -> Option<AddressInfo> {
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Server(s)) => s.listener.local_addr().map(addr_info),
        Some(Entry::Udp(u)) => u.sock.local_addr().ok().map(addr_info),
        _ => None,
    })
    .flatten()
}

/// Stops listening (accepted connections stay open) and removes the socket file; also closes a
/// UDP socket.
#[napi]
pub fn close_server(id: u32) {
    with_state(|st| {
        if let Some(entry) = st.entries.remove(&id) {
            match entry {
                Entry::Server(s) => s.poll.close(),
                Entry::Udp(u) => u.poll.close(),
                other => {
                    st.entries.insert(id, other);
                }
            }
        }
    });
}

/// Binds a UDP socket to an IP address and port. Returns its id or an error code.
#[napi]
pub fn udp_bind(host: String, port: u32, opts: SocketOptions) -> Either<u32, String> {
    let result = (|| {
        let ip: IpAddr = host.parse().map_err(|_| "EINVAL".to_string())?;
        let copts = conn_opts(&opts, None)?;
        let sock = Datagram::bind(SocketAddr::new(ip, port as u16)).map_err(|e| io_code(&e))?;
        register(sock.as_raw_fd(), |poll| Entry::Udp(Udp { sock, poll, opts: copts }))
    })();
    match result {
        Ok(id) => Either::A(id),
        Err(code) => Either::B(code),
    }
}

fn udp_send(id: u32, data: &[u8], address: &str, port: u32) -> Option<String> {
    let ip: IpAddr = match address.parse() {
        Ok(ip) => ip,
        Err(_) => return Some("EINVAL".into()),
    };
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Udp(u)) => match u.sock.send_to(data, SocketAddr::new(ip, port as u16)) {
            Ok(_) => None,
            Err(e) => Some(io_code(&e)),
        },
        _ => Some("EBADF".into()),
    })
    .unwrap_or_else(|| Some(no_state()))
}

/// Sends one datagram holding a string (UTF-8). Returns an error code on failure.
#[napi]
pub fn udp_send_str(id: u32, data: String, address: String, port: u32) -> Option<String> {
    udp_send(id, data.as_bytes(), &address, port)
}

/// Sends one datagram holding bytes. Returns an error code on failure.
#[napi]
pub fn udp_send_buf(id: u32, data: BufferSlice, address: String, port: u32) -> Option<String> {
    udp_send(id, &data, &address, port)
}

/// Polls a listener again after an accept error paused it.
#[napi]
pub fn resume_listen(id: u32) {
    with_state(|st| {
        if let Some(Entry::Server(s)) = st.entries.get_mut(&id) {
            let _ = s.poll.set(UV_READABLE, on_poll);
        }
    });
}

/// Starts connecting to a local path (`port` < 0) or an IP address and port. Returns the
/// connection id (a `connect` or `error`+`close` event follows), or an error code when the attempt
/// failed at once (`ENOENT`, `ECONNREFUSED` for local sockets).
#[napi]
pub fn connect(host_or_path: String, port: i32, opts: SocketOptions) -> Either<u32, String> {
    let result = (|| {
        let ep = endpoint(&host_or_path, port)?;
        let copts = conn_opts(&opts, Some(&host_or_path))?;
        let local = match (&opts.local_address, opts.local_port, &ep) {
            (None, None, _) | (_, _, Endpoint::Local(_)) => None,
            (addr, port, Endpoint::Tcp(remote)) => {
                let ip = match addr {
                    Some(a) => a.parse::<IpAddr>().map_err(|_| "EINVAL".to_string())?,
                    None if remote.is_ipv4() => IpAddr::from([0, 0, 0, 0]),
                    None => IpAddr::from([0u16; 8]),
                };
                Some(SocketAddr::new(ip, port.unwrap_or(0) as u16))
            }
        };
        let (sock, _connected) = net::connect_from(&ep, local).map_err(|e| io_code(&e))?;
        // Even when already connected, report it from the loop (writability fires at once), so
        // `connect` is always asynchronous, as in Node.
        let mut conn = Connection::new(sock, copts.decoder());
        if let Some(mode) = &copts.tls {
            conn = conn.with_tls(mode.session().map_err(|e| tls::error_code(&e))?);
        }
        with_state(|st| st.add_conn(conn, true, 0).map_err(|e| io_code(&e))).unwrap_or_else(|| Err(no_state()))
    })();
    match result {
        Ok(id) => Either::A(id),
        Err(code) => Either::B(code),
    }
}

fn write_bytes(id: u32, data: &[u8]) -> Option<String> {
    with_state(|st| {
        let Some(Entry::Conn(c)) = st.entries.get_mut(&id) else {
            return Some("EPIPE".to_string());
        };
        let result = if c.connecting {
            c.conn.queue(data);
            Ok(false)
        } else {
            c.conn.write(data)
        };
        match result {
            Ok(_) => {
                let want = State::desired_events(c);
                match c.poll.set(want, on_poll) {
                    Ok(()) => None,
                    Err(rc) => {
                        st.remove_conn(id);
                        Some(uv::err_name(rc))
                    }
                }
            }
            Err(e) => {
                st.remove_conn(id);
                Some(io_code(&e))
            }
        }
    })
    .unwrap_or_else(|| Some(no_state()))
}

/// Writes a string (UTF-8). Returns an error code if the connection failed; it is then closed
/// and no further events come for it.
#[napi]
pub fn write_str(id: u32, data: String) -> Option<String> {
    write_bytes(id, data.as_bytes())
}

/// Writes bytes. Same contract as `writeStr`.
#[napi]
pub fn write_buf(id: u32, data: BufferSlice) -> Option<String> {
    write_bytes(id, &data)
}

/// Closes a connection at once; unsent bytes are dropped and no `close` event follows.
#[napi]
pub fn destroy(id: u32) {
    with_state(|st| st.remove_conn(id));
}

/// Half-closes a connection once its queued bytes are written.
#[napi]
pub fn end(id: u32) {
    with_state(|st| {
        if let Some(Entry::Conn(c)) = st.entries.get_mut(&id) {
            c.ending = true;
            if !c.connecting && !c.handshaking {
                let _ = c.conn.close_write();
                let want = State::desired_events(c);
                let _ = c.poll.set(want, on_poll);
            }
        }
    });
}

/// The frames of the read being dispatched, one string each (for the slow path in JS, when the
/// JSON array of a batch does not parse into one message per frame).
#[napi]
pub fn batch_frames() -> Vec<String> {
    with_state(|st| {
        (0..st.batch.ends.len()).map(|i| String::from_utf8_lossy(st.batch.frame(i)).into_owned()).collect()
    })
    .unwrap_or_default()
}

/// Bytes queued on a connection that the kernel has not taken yet.
#[napi]
pub fn pending_bytes(id: u32) -> f64 {
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Conn(c)) => c.conn.pending_writes() as f64,
        _ => 0.0,
    })
    .unwrap_or(0.0)
}

/// The remote address of a TCP connection.
#[napi]
pub fn peer(id: u32) -> Option<AddressInfo> {
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Conn(c)) => c.conn.socket().peer_addr().ok().and_then(|a| a.as_socket()).map(addr_info),
        _ => None,
    })
    .flatten()
}
