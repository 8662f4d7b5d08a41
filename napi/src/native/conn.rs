//! Stream connections (client and accepted): reading, framing into one JSON array per read,
//! writing, closing.

use std::ffi::c_void;
use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::os::raw::c_int;
use std::ptr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use node_ipc_rs::batch::TypeTable;
use node_ipc_rs::net::{self, Connection, Endpoint, Readable};
use node_ipc_rs::{sockopt, tls};

use super::poll::{self, Poll, UV_READABLE, UV_WRITABLE};
use super::server::addr_info;
use super::{endpoint, io_code, on_poll};
use crate::options::{conn_opts, AddressInfo, SocketOptions};
use crate::state::{check, frames_event, no_state, track_remainder, with_state, Entry, Ev, State};

/// A stream connection (outgoing or accepted) and its poll registration.
pub(crate) struct Conn {
    /// Socket, buffers and decoder.
    pub(crate) conn: Connection,
    /// Its poll handle.
    pub(crate) poll: Poll,
    /// A connect is in progress: wait for writability.
    pub(crate) connecting: bool,
    /// `end()` was called: shut down the write side once the queue drains.
    pub(crate) ending: bool,
    /// A TLS handshake is under way: `connect` (client) or the accept (server) waits for it.
    pub(crate) handshaking: bool,
    /// The accepting server's id (0 for client connections).
    pub(crate) server: u32,
    /// `pause()`: not reading, so the kernel pushes back on the peer.
    pub(crate) paused: bool,
    /// Bytes received (plaintext), for `socket.bytesRead`.
    pub(crate) bytes_read: u64,
    /// Bytes accepted for sending (plaintext), for `socket.bytesWritten`.
    pub(crate) bytes_written: u64,
    /// Event names this connection's peer has sent, numbered (JS keeps the same list).
    pub(crate) types: TypeTable,
    /// A TCP connection (not a local socket).
    pub(crate) tcp: bool,
}

/// Raw reads from one TCP connection per readiness event, while each fills its block: draining
/// up to 256 KiB (with the default 64 KiB reads) instead of 64 KiB keeps the receiver's TCP window
/// open (in a 1 GiB raw echo here the kernel advertised a zero window 1,727 times instead of
/// 3,608). Five alternating single rounds of `npm run bench -- --kinds raw` against one read per
/// event: TCP 2,142 against 1,851 MB/s by medians (bench/results/raw-tcp-reads-2026-11-30.txt;
/// an earlier set, 1,794-2,361 against 1,396-1,581). Over Unix sockets, which have no window, it
/// made no difference there and was slower in another set (median pair ratio 0.93 of 8): they
/// keep one read.
const RAW_TCP_READS: usize = 4;

/// Where raw-mode reads (without TLS) go, so that received bytes reach JS without a copy.
///
/// A read goes into a block of our own; a read that fills at least half of it is handed to JS
/// as an external Buffer over the block (its length the bytes read: at most half of the block is
/// idle memory), and when V8 frees that Buffer the block comes back to a pool for a later read.
/// A shorter read is copied into a Buffer of its own and the block is kept.
///
/// Measured in a 1 GiB raw echo (64 KiB chunks): with a Node Buffer per read each process took
/// 12.6k-72k page faults, varying run to run as glibc handed freed Buffers back to the kernel and
/// took them again; with blocks, 9.9k-27.7k (bench/results/raw-cpu-2026-11-30.txt). V8 frees
/// Buffers in batches of hundreds (a scavenge once ~32 MiB of them accumulate; see `nudge_gc`),
/// so the pool, bounded at 4 MiB, takes back about one block in eight and the rest return to the
/// allocator; a 64 MiB pool took back nearly all of them but was no faster.
///
/// Where Node-API refuses external Buffers (Electron, whose V8 sandbox forbids them) reads go
/// into a Node Buffer instead (`spare`), handed over in the same way.
pub(crate) struct RawSpare {
    /// The block the next read goes into.
    block: Option<Block>,
    /// Blocks JS has let go of.
    pool: Arc<Pool>,
    /// Node-API refused an external Buffer: use `spare`.
    no_external: bool,
    /// External Buffers made since the last [`nudge_gc`](Self::nudge_gc).
    since_nudge: u32,
    /// The fallback's Node Buffer (a reference that keeps it alive; null: none yet) and its
    /// bytes (the block size of them).
    spare: sys::napi_ref,
    data: *mut u8,
}

type Block = Box<[MaybeUninit<u8>]>;

/// Free read blocks of one size, kept up to a bound.
struct Pool {
    size: usize,
    free: Mutex<Vec<Block>>,
}

/// Most bytes of free blocks a pool keeps (per JS thread that reads raw): 64 blocks of the
/// default 64 KiB, memory a thread keeps after a raw burst.
const POOL_BYTES: usize = 4 << 20;

impl Pool {
    fn take(&self) -> Block {
        if let Some(b) = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return b;
        }
        Box::new_uninit_slice(self.size)
    }

    fn give(&self, b: Block) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if (free.len() + 1) * self.size <= POOL_BYTES {
            free.push(b);
        }
    }
}

/// External raw Buffers per 1-byte Node Buffer (see `RawSpare::nudge_gc`): every 512 KiB with
/// the default 64 KiB reads.
const NUDGE_EVERY: u32 = 8;

/// A raw Buffer's finalizer: its block goes back to the pool.
unsafe extern "C" fn give_back(_env: sys::napi_env, data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the `Arc::into_raw` and `data` the `Box::into_raw` of `RawSpare::read`;
    // Node-API calls this once per Buffer.
    let pool = Arc::from_raw(hint as *const Pool);
    let block = Box::from_raw(ptr::slice_from_raw_parts_mut(data as *mut MaybeUninit<u8>, pool.size));
    pool.give(block);
}

impl RawSpare {
    /// Reads of `size` bytes; `no_external`: use Node Buffers from the start (tests of that path
    /// set NIRS_NO_EXTERNAL_BUFFERS).
    pub(crate) fn new(size: usize, no_external: bool) -> RawSpare {
        RawSpare {
            block: None,
            pool: Arc::new(Pool { size, free: Mutex::new(Vec::new()) }),
            no_external,
            since_nudge: 0,
            spare: ptr::null_mut(),
            data: ptr::null_mut(),
        }
    }

    /// Bytes per read.
    pub(crate) fn block_size(&self) -> usize {
        self.pool.size
    }

    /// Reads what `conn` has, up to the block size. Returns the Buffer (null when nothing
    /// arrived), how many bytes were read (the Buffer may be longer: JS trims it), and whether
    /// the peer ended.
    ///
    /// # Safety
    /// `env` is this thread's environment, inside a handle scope.
    pub(crate) unsafe fn read(
        &mut self,
        env: sys::napi_env,
        conn: &mut Connection,
    ) -> io::Result<(sys::napi_value, usize, bool)> {
        if self.no_external {
            return self.read_spare(env, conn);
        }
        let mut block = self.block.take().unwrap_or_else(|| self.pool.take());
        let (n, eof) = match conn.read_into(&mut block) {
            Ok(r) => r,
            Err(e) => {
                self.block = Some(block);
                return Err(e);
            }
        };
        let mut value = ptr::null_mut();
        if n == 0 {
            self.block = Some(block);
            return Ok((value, 0, eof));
        }
        if 2 * n >= block.len() {
            let hint = Arc::into_raw(self.pool.clone());
            let data = Box::into_raw(block);
            let status =
                sys::napi_create_external_buffer(env, n, data.cast(), Some(give_back), hint as *mut c_void, &mut value);
            if status == sys::Status::napi_ok {
                self.nudge_gc(env);
                return Ok((value, n, eof));
            }
            // Refused: take the block back, copy this read and use Node Buffers from now on.
            drop(Arc::from_raw(hint));
            let block = Box::from_raw(data);
            self.no_external = true;
            check(sys::napi_create_buffer_copy(env, n, block.as_ptr().cast(), ptr::null_mut(), &mut value));
            return Ok((value, n, eof));
        }
        check(sys::napi_create_buffer_copy(env, n, block.as_ptr().cast(), ptr::null_mut(), &mut value));
        self.block = Some(block);
        Ok((value, n, eof))
    }

    /// Allocates a 1-byte Node Buffer every [`NUDGE_EVERY`] external Buffers. V8 checks, when it
    /// allocates an ArrayBuffer's memory itself, whether the young generation's Buffers hold
    /// enough memory to be worth a scavenge, and external Buffers never pass that check. In a raw
    /// echo whose process allocates nothing else (the benchmark's client sends slices of one
    /// Buffer), collections then came only from the external-memory limit, less often and as
    /// full mark-compacts: 19-29 scavenges and 1-6 mark-compacts per GiB instead of 33 and 0,
    /// and 116-118 MB of peak RSS instead of 85-89. With this allocation every 8 reads both
    /// returned to what Node Buffers give, at the same throughput.
    unsafe fn nudge_gc(&mut self, env: sys::napi_env) {
        self.since_nudge += 1;
        if self.since_nudge >= NUDGE_EVERY {
            self.since_nudge = 0;
            let mut data = ptr::null_mut();
            let mut value = ptr::null_mut();
            check(sys::napi_create_buffer(env, 1, &mut data, &mut value));
        }
    }

    /// [`read`](Self::read) into a Node Buffer: a read that fills at least half of it hands JS
    /// the Buffer itself and the next read allocates a new one.
    unsafe fn read_spare(
        &mut self,
        env: sys::napi_env,
        conn: &mut Connection,
    ) -> io::Result<(sys::napi_value, usize, bool)> {
        if self.spare.is_null() {
            let mut data = ptr::null_mut();
            let mut value = ptr::null_mut();
            check(sys::napi_create_buffer(env, self.pool.size, &mut data, &mut value));
            check(sys::napi_create_reference(env, value, 1, &mut self.spare));
            self.data = data.cast();
        }
        // SAFETY: the Buffer's backing store is the block size in bytes, which never move while it
        // lives, and JS cannot reach it while only this reference holds it.
        let dst = std::slice::from_raw_parts_mut(self.data.cast::<MaybeUninit<u8>>(), self.pool.size);
        let (n, eof) = conn.read_into(dst)?;
        let mut value = ptr::null_mut();
        if n == 0 {
            return Ok((value, 0, eof));
        }
        if 2 * n >= self.pool.size {
            check(sys::napi_get_reference_value(env, self.spare, &mut value));
            check(sys::napi_delete_reference(env, self.spare));
            self.spare = ptr::null_mut();
        } else {
            check(sys::napi_create_buffer_copy(env, n, self.data.cast(), ptr::null_mut(), &mut value));
        }
        Ok((value, n, eof))
    }
}

impl State {
    pub(crate) fn desired_events(c: &Conn) -> c_int {
        // (a TLS handshake needs both directions; pending ciphertext shows up in pending_writes)
        if c.connecting {
            return UV_WRITABLE;
        }
        let read = if c.paused && !c.handshaking { 0 } else { UV_READABLE };
        if c.conn.pending_writes() > 0 {
            read | UV_WRITABLE
        } else {
            read
        }
    }

    /// Closes a connection's poll handle and socket; returns whether it existed.
    pub(crate) fn remove_conn(&mut self, id: u32) -> bool {
        if !matches!(self.entries.get(&id), Some(Entry::Conn(_))) {
            return false;
        }
        self.remove(id);
        true
    }

    pub(crate) fn fail_conn(&mut self, id: u32, e: &io::Error, evs: &mut Vec<Ev>) {
        if let Some(Entry::Conn(c)) = self.entries.get(&id) {
            if c.server != 0 && c.handshaking {
                // JS never heard of this connection: the failed handshake is the server's error.
                evs.push(Ev::Error(c.server, io_code(e), format!("TLS handshake with a client failed: {e}")));
                self.remove_conn(id);
                return;
            }
        }
        evs.push(Ev::Error(id, io_code(e), e.to_string()));
        self.push_close(id, true, evs);
        self.remove_conn(id);
    }

    pub(crate) fn add_conn(&mut self, conn: Connection, connecting: bool, server: u32) -> io::Result<u32> {
        let id = self.alloc_id();
        let fd = conn.socket().as_raw_fd();
        let poll = Poll::new(self.lp, fd, id).map_err(|rc| io::Error::from_raw_os_error(-rc))?;
        let handshaking = conn.is_handshaking();
        let tcp = sockopt::is_tcp(conn.socket());
        let mut c = Conn {
            conn,
            poll,
            connecting,
            ending: false,
            handshaking,
            server,
            paused: false,
            bytes_read: 0,
            bytes_written: 0,
            types: TypeTable::default(),
            tcp,
        };
        c.poll.set(State::desired_events(&c), on_poll).map_err(|rc| io::Error::from_raw_os_error(-rc))?;
        self.entries.insert(id, Entry::Conn(Box::new(c)));
        Ok(id)
    }

    pub(crate) fn conn_ready(&mut self, id: u32, status: c_int, events: c_int, evs: &mut Vec<Ev>) {
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
        // The write queue empties here or inside a TLS read: JS hears of it (`drain`).
        let had_pending = c.conn.pending_writes() > 0;
        // A connection's remainder clock started: the timer may need to be due sooner.
        let mut arm = false;
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
        if events & UV_READABLE != 0 && !c.connecting && c.conn.reads_direct() {
            // Raw mode without TLS: the bytes go straight into the Buffer JS gets (RawSpare).
            // Over TCP, up to RAW_TCP_READS blocks while each read fills its block (see there).
            for _ in 0..if c.tcp { RAW_TCP_READS } else { 1 } {
                // SAFETY: env is this thread's environment; we are inside a handle scope.
                let (value, n, eof) = match unsafe { self.native.raw_spare.read(env, &mut c.conn) } {
                    Ok(r) => r,
                    Err(e) => return self.fail_conn(id, &e, evs),
                };
                c.bytes_read += n as u64;
                if n > 0 {
                    evs.push(Ev::Data(id, value, n));
                }
                if eof {
                    self.push_close(id, false, evs);
                    self.remove_conn(id);
                    return;
                }
                if n < self.native.raw_spare.block_size() {
                    break;
                }
            }
        } else if events & UV_READABLE != 0 && !c.connecting {
            let before = c.conn.partial_len();
            let r: Readable = match c.conn.read_shared(&mut self.read_buf, self.native.read_budget) {
                Ok(r) => r,
                Err(e) => return self.fail_conn(id, &e, evs),
            };
            c.bytes_read += (c.conn.partial_len() - before) as u64;
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
                        evs.push(Ev::Data(id, value, bytes.len()));
                    } else if r.frames > 0 {
                        // Hand JS one JSON array of all the frames: one JSON.parse per read.
                        let delimiter = c.conn.delimiter().unwrap_or(b"\x0c");
                        self.batch.build(bytes, delimiter, Some(&mut c.types));
                        evs.push(frames_event(env, id, &self.batch));
                    }
                }
            }
            c.conn.consume_shared(&r, &mut self.read_buf);
            // node-ipc 14's remainder-age rule: a clock per unfinished frame, one timer for all.
            arm = track_remainder(&mut self.deadlines, id, c.conn.inbound_mut());
            if let Some(err) = r.error {
                evs.push(Ev::Error(id, err.code().into(), err.to_string()));
                self.push_close(id, true, evs);
                self.remove_conn(id);
                return;
            }
            if r.eof && c.handshaking && c.server != 0 {
                let server = c.server;
                evs.push(Ev::Error(
                    server,
                    "ECONNRESET".into(),
                    "a client closed the connection during the TLS handshake".into(),
                ));
                self.remove_conn(id);
                return;
            }
            if r.eof {
                let partial = c.conn.partial_len();
                if let Some((code, message)) = c.conn.inbound().end_error() {
                    evs.push(Ev::Error(id, code.as_str().into(), message));
                }
                self.push_close(id, partial > 0, evs);
                self.remove_conn(id);
                return;
            }
        }
        if had_pending && c.conn.pending_writes() == 0 && !c.connecting {
            evs.push(Ev::Drain(id));
        }
        let want = State::desired_events(c);
        let set = c.poll.set(want, on_poll);
        if arm {
            self.schedule_timer();
        }
        if let Err(rc) = set {
            let e = io::Error::from_raw_os_error(-rc);
            self.fail_conn(id, &e, evs);
        }
    }
}

/// Starts connecting to a local path (`port` < 0) or an IP address and port. Returns the
/// connection id (a `connect` or `error`+`close` event follows), or an error code when the attempt
/// failed at once (`ENOENT`, `ECONNREFUSED` for local sockets). `tls_host`: with TLS, the host the
/// user gave (a name, before it was resolved to `host_or_path`), verified and sent as SNI unless
/// `tls.servername` is set, as the stream transport and Node do; absent, the address is verified.
#[napi]
pub fn connect(host_or_path: String, port: i32, opts: SocketOptions, tls_host: Option<String>) -> Either<u32, String> {
    let result = (|| {
        let ep = endpoint(&host_or_path, port)?;
        let copts = conn_opts(&opts, Some(tls_host.as_deref().unwrap_or(&host_or_path)))?;
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
        copts.configure(&mut conn);
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

/// Writes `data` (what the kernel does not take is queued) and returns the bytes still queued.
pub(crate) fn write_bytes(id: u32, data: &[u8]) -> std::result::Result<usize, String> {
    with_state(|st| {
        let Some(Entry::Conn(c)) = st.entries.get_mut(&id) else {
            return Err("EPIPE".to_string());
        };
        c.bytes_written += data.len() as u64;
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
                    Ok(()) => Ok(c.conn.pending_writes()),
                    Err(rc) => {
                        st.remove_conn(id);
                        Err(poll::err_name(rc))
                    }
                }
            }
            Err(e) => {
                st.remove_conn(id);
                Err(io_code(&e))
            }
        }
    })
    .unwrap_or_else(|| Err(no_state()))
}

fn written(r: std::result::Result<usize, String>) -> Either<f64, String> {
    match r {
        Ok(n) => Either::A(n as f64),
        Err(code) => Either::B(code),
    }
}

/// Writes a string (UTF-8). Returns the bytes still queued (the kernel did not take them yet; a
/// `drain` event follows once the queue is empty), or an error code if the connection failed: it
/// is then closed and no further events come for it.
///
/// The string's UTF-8 goes straight into a reused per-thread buffer sized from its length (at
/// most 3 bytes per UTF-16 unit), then to the kernel: no length pass and no allocation per call.
#[napi]
pub fn write_str(env: Env, id: u32, data: napi::JsString) -> Either<f64, String> {
    let (env, value) = (env.raw(), data.raw());
    let mut units = 0;
    // SAFETY: plain N-API calls on a string of the calling environment; with a null buffer
    // napi_get_value_string_utf16 only reports the length.
    unsafe { check(sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut units)) };
    let cap = units * 3 + 1; // + the terminating NUL napi writes
    WRITE_SCRATCH.with(|scratch| {
        let mut buf = scratch.borrow_mut();
        buf.clear();
        buf.reserve(cap);
        let mut len = 0;
        // SAFETY: `buf` has room for `cap` bytes; napi writes at most `cap` (the UTF-8 and a NUL)
        // and reports the UTF-8 length, which fits since no UTF-16 unit takes more than 3 bytes.
        unsafe {
            check(sys::napi_get_value_string_utf8(env, value, buf.as_mut_ptr().cast(), cap, &mut len));
            buf.set_len(len);
        }
        let r = write_bytes(id, &buf);
        if len > KEEP_SCRATCH {
            *buf = Vec::new(); // a rare huge write should not pin its buffer
        }
        written(r)
    })
}

/// Longest write whose buffer is kept for the next call (a per-tick batch is usually a few dozen
/// KiB; the buffer is sized for the worst case, 3 bytes per UTF-16 unit).
const KEEP_SCRATCH: usize = 1 << 20;

thread_local! {
    /// The UTF-8 of the string being written (see `write_str`).
    static WRITE_SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Writes bytes. Same contract as `writeStr`.
#[napi]
pub fn write_buf(id: u32, data: BufferSlice) -> Either<f64, String> {
    written(write_bytes(id, &data))
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

/// Bytes queued on a connection that the kernel has not taken yet.
#[napi]
pub fn pending_bytes(id: u32) -> f64 {
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Conn(c)) => c.conn.pending_writes() as f64,
        _ => 0.0,
    })
    .unwrap_or(0.0)
}

/// Stops (`true`) or restarts reading a connection. While paused nothing is read, so the kernel's
/// buffers fill and the peer's writes back up; a paused connection with nothing to write does not
/// keep the process alive (as in Node).
#[napi]
pub fn pause_reading(id: u32, paused: bool) {
    with_state(|st| {
        if let Some(Entry::Conn(c)) = st.entries.get_mut(&id) {
            c.paused = paused;
            let want = State::desired_events(c);
            let _ = c.poll.set(want, on_poll);
        }
    });
}

fn with_conn(id: u32, f: impl FnOnce(&Connection) -> io::Result<bool>) -> Option<String> {
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Conn(c)) => f(&c.conn).err().map(|e| io_code(&e)),
        _ => None,
    })
    .flatten()
}

/// `socket.setKeepAlive(enable, initialDelay ms)` on a TCP connection (see
/// `node_ipc_rs::sockopt::set_keepalive`); nothing on local sockets. Returns an error code on failure.
#[napi]
pub fn set_keep_alive(id: u32, enable: bool, initial_delay_ms: f64) -> Option<String> {
    let ms = if initial_delay_ms.is_finite() && initial_delay_ms > 0.0 { initial_delay_ms as u64 } else { 0 };
    with_conn(id, |c| sockopt::set_keepalive(c.socket(), enable, Duration::from_millis(ms)))
}

/// `socket.setNoDelay(noDelay)` on a TCP connection; nothing on local sockets.
#[napi]
pub fn set_no_delay(id: u32, no_delay: bool) -> Option<String> {
    with_conn(id, |c| sockopt::set_nodelay(c.socket(), no_delay))
}

/// The local address of a TCP connection (`None` for local sockets, as Node's `address()` is `{}`).
#[napi]
pub fn local_address(id: u32) -> Option<AddressInfo> {
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Conn(c)) => c.conn.socket().local_addr().ok().and_then(|a| a.as_socket()).map(addr_info),
        _ => None,
    })
    .flatten()
}

/// `[bytesRead, bytesWritten]` of a connection (plaintext bytes; written = accepted for sending).
#[napi]
pub fn conn_stats(id: u32) -> Vec<f64> {
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Conn(c)) => vec![c.bytes_read as f64, c.bytes_written as f64],
        _ => vec![0.0, 0.0],
    })
    .unwrap_or_else(|| vec![0.0, 0.0])
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
