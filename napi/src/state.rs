//! Per-environment state: the handle table, the libuv poll callback, and the one JS dispatch
//! function every socket event goes through.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::raw::c_int;
use std::ptr;
use std::time::Instant;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use node_ipc_rs::inbound::FrameArray;
use node_ipc_rs::net;
use node_ipc_rs::tls;

use crate::conn::Conn;
use crate::options::ConnOpts;
use crate::server::Server;
use crate::stream::StreamConn;
use crate::udp::Udp;
use crate::uv::{self, Poll, UvPoll, UvTimer, UV_READABLE};

/// Event kinds passed as the first argument of the dispatch function.
pub(crate) const EV_FRAMES: u32 = 1; // (id, text, count, exact): the frames of a read as one JSON array text
pub(crate) const EV_DATA: u32 = 2; // (id, Buffer): raw-mode bytes
pub(crate) const EV_CONNECT: u32 = 3; // (id): an outgoing connection is established
pub(crate) const EV_ACCEPT: u32 = 4; // (serverId, connId)
pub(crate) const EV_ERROR: u32 = 5; // (id, code, message)
pub(crate) const EV_CLOSE: u32 = 6; // (id, hadError, bytesRead, bytesWritten): the connection is gone (not sent after destroy())
pub(crate) const EV_DATAGRAM: u32 = 7; // (id, text|Buffer, address, port, size): one UDP datagram
pub(crate) const EV_DRAIN: u32 = 8; // (id): the connection's write queue is empty again
pub(crate) const EV_OUTPUT: u32 = 9; // (id, Buffer): stream transport, TLS bytes to write to the stream

/// Most bytes read from one socket per loop iteration before other sockets get their turn (and
/// before JS gets the batch). Smaller batches let the peer work while we do: on this 2-core
/// machine a Node<->Node echo ran ~1.3x faster with 64 KiB than with 256 KiB (NIRS_READ_BUDGET
/// overrides it, for experiments).
pub(crate) const READ_BUDGET: usize = 64 * 1024;

thread_local! {
    /// One state per environment: the main thread and every worker load the addon separately.
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

pub(crate) struct State {
    /// The environment that owns this thread's sockets.
    pub(crate) env: sys::napi_env,
    /// Its libuv loop.
    pub(crate) lp: *mut uv::UvLoop,
    /// The JS dispatch function.
    pub(crate) dispatch: sys::napi_ref,
    /// Receiver for dispatch calls (the global object).
    pub(crate) recv: sys::napi_ref,
    /// Async context so callbacks run ticks and microtasks like any Node I/O callback.
    pub(crate) async_ctx: sys::napi_async_context,
    /// Next handle id.
    pub(crate) next_id: u32,
    /// Live servers, connections and UDP sockets.
    pub(crate) entries: HashMap<u32, Entry>,
    /// Receive buffer for datagrams (reused).
    pub(crate) dgram_buf: Vec<u8>,
    /// Read buffer lent to whichever connection is being read (see `Connection::read_shared`).
    pub(crate) read_buf: Vec<u8>,
    /// Bytes read per socket per loop iteration.
    pub(crate) read_budget: usize,
    /// The frames of the read being dispatched, as a JSON array.
    pub(crate) batch: FrameArray,
    /// node-ipc 14's remainder-age rule (`messageTimeout`): connections whose unfinished frame has
    /// a deadline (see `Inbound::note_remainder`)...
    pub(crate) deadlines: HashMap<u32, Instant>,
    /// ...and one unref'd timer for the earliest of them (created when first needed).
    pub(crate) timer: Option<uv::Timer>,
    /// When the timer is due, if it runs.
    pub(crate) timer_at: Option<Instant>,
}

pub(crate) enum Entry {
    Server(Server),
    Conn(Box<Conn>),
    Udp(Udp),
    /// A stream-transport connection: framing state only, the bytes move through a Node stream.
    Stream(Box<StreamConn>),
    /// Settings shared by the stream connections of one server or client connect.
    StreamSettings(Box<ConnOpts>),
}

/// An event collected while the state is borrowed, dispatched after the borrow ends.
pub(crate) enum Ev {
    Frames(u32, sys::napi_value, usize, bool),
    Data(u32, sys::napi_value),
    Connect(u32),
    Accept(u32, u32),
    Error(u32, String, String),
    Close(u32, bool, u64, u64),
    Datagram(u32, sys::napi_value, SocketAddr, usize),
    Drain(u32),
    Output(u32, sys::napi_value),
}

pub(crate) fn io_code(e: &io::Error) -> String {
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

pub(crate) fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

pub(crate) fn check(status: sys::napi_status) {
    debug_assert_eq!(status, sys::Status::napi_ok);
}

impl State {
    pub(crate) fn alloc_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.next_id
    }

    pub(crate) fn close_all(&mut self) {
        self.deadlines.clear();
        if let Some(t) = self.timer.take() {
            t.close();
        }
        for (_, entry) in self.entries.drain() {
            match entry {
                Entry::Conn(c) => c.poll.close(),
                Entry::Server(s) => s.poll.close(),
                Entry::Udp(u) => u.poll.close(),
                Entry::Stream(_) | Entry::StreamSettings(_) => {}
            }
        }
    }
}

impl State {
    /// Makes the timer due at the earliest deadline (stops it when there is none). A deadline
    /// that moved later only makes the timer fire early: it then looks again and re-arms.
    pub(crate) fn schedule_timer(&mut self) {
        let Some(earliest) = self.deadlines.values().min().copied() else {
            if let (Some(t), Some(_)) = (self.timer.as_mut(), self.timer_at.take()) {
                t.stop();
            }
            return;
        };
        if self.timer_at.is_some_and(|at| at <= earliest) {
            return;
        }
        if self.timer.is_none() {
            match uv::Timer::new(self.lp) {
                Ok(t) => self.timer = Some(t),
                Err(_) => return, // (only if libuv is out of memory: the rule then waits for the next read)
            }
        }
        let wait = earliest.saturating_duration_since(Instant::now());
        // Whole milliseconds, rounded up, at least one: never early by more than the loop's clock.
        let ms = (wait.as_micros().div_ceil(1000) as u64).max(1);
        if let Some(t) = self.timer.as_mut() {
            if t.start(ms, on_timer).is_ok() {
                self.timer_at = Some(earliest);
            }
        }
    }

    /// The timer fired: drop the connections whose unfinished frame has waited too long
    /// (`ERR_IPC_MESSAGE_TIMEOUT`, then `close`), re-arm for the rest.
    fn timer_fired(&mut self, evs: &mut Vec<Ev>) {
        self.timer_at = None;
        let now = Instant::now();
        let due: Vec<u32> = self.deadlines.iter().filter(|(_, at)| **at <= now).map(|(id, _)| *id).collect();
        for id in due {
            self.deadlines.remove(&id);
            // (stream-transport connections follow the same rule: see `stream::StreamConn`)
            let (inbound, stream) = match self.entries.get(&id) {
                Some(Entry::Conn(c)) => (c.conn.inbound(), false),
                Some(Entry::Stream(c)) => (c.inbound(), true),
                _ => continue,
            };
            match inbound.check_timeout(now) {
                Err(e) => {
                    evs.push(Ev::Error(id, e.code().into(), e.to_string()));
                    self.push_close(id, true, evs);
                    if stream {
                        self.entries.remove(&id);
                    } else {
                        self.remove_conn(id);
                    }
                }
                Ok(()) => {
                    if let Some(at) = inbound.deadline() {
                        self.deadlines.insert(id, at);
                    }
                }
            }
        }
        self.schedule_timer();
    }
}

unsafe extern "C" fn on_timer(_handle: *mut UvTimer) {
    let Some((env, dispatch, recv, ctx)) = with_state(|s| (s.env, s.dispatch, s.recv, s.async_ctx)) else {
        return;
    };
    let mut scope = ptr::null_mut();
    check(sys::napi_open_handle_scope(env, &mut scope));
    let mut evs = Vec::new();
    with_state(|s| s.timer_fired(&mut evs));
    for ev in evs {
        if !dispatch_event(env, dispatch, recv, ctx, ev) {
            break;
        }
    }
    check(sys::napi_close_handle_scope(env, scope));
}

pub(crate) unsafe extern "C" fn on_poll(handle: *mut UvPoll, status: c_int, events: c_int) {
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
        Some(Entry::Stream(_) | Entry::StreamSettings(_)) | None => {}
    });
    for ev in evs {
        if !dispatch_event(env, dispatch, recv, ctx, ev) {
            break;
        }
    }
    check(sys::napi_close_handle_scope(env, scope));
}

pub(crate) unsafe fn num(env: sys::napi_env, n: f64) -> sys::napi_value {
    let mut v = ptr::null_mut();
    check(sys::napi_create_double(env, n, &mut v));
    v
}

pub(crate) unsafe fn string(env: sys::napi_env, s: &str) -> sys::napi_value {
    let mut v = ptr::null_mut();
    check(sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v));
    v
}

pub(crate) unsafe fn boolean(env: sys::napi_env, b: bool) -> sys::napi_value {
    let mut v = ptr::null_mut();
    check(sys::napi_get_boolean(env, b, &mut v));
    v
}

/// Calls the JS dispatcher. Returns false if JS threw (the exception is reported as uncaught, as
/// an exception thrown from a Node socket callback would be; the rest of this read is dropped).
pub(crate) unsafe fn dispatch_event(
    env: sys::napi_env,
    dispatch: sys::napi_ref,
    recv: sys::napi_ref,
    ctx: sys::napi_async_context,
    ev: Ev,
) -> bool {
    let null = ptr::null_mut();
    let args: [sys::napi_value; 6] = match ev {
        Ev::Frames(id, text, n, exact) => {
            [num(env, EV_FRAMES as f64), num(env, id as f64), text, num(env, n as f64), boolean(env, exact), null]
        }
        Ev::Data(id, buf) => [num(env, EV_DATA as f64), num(env, id as f64), buf, null, null, null],
        Ev::Connect(id) => [num(env, EV_CONNECT as f64), num(env, id as f64), null, null, null, null],
        Ev::Accept(sid, cid) => {
            [num(env, EV_ACCEPT as f64), num(env, sid as f64), num(env, cid as f64), null, null, null]
        }
        Ev::Error(id, code, msg) => {
            [num(env, EV_ERROR as f64), num(env, id as f64), string(env, &code), string(env, &msg), null, null]
        }
        Ev::Close(id, had_error, read, written) => [
            num(env, EV_CLOSE as f64),
            num(env, id as f64),
            boolean(env, had_error),
            num(env, read as f64),
            num(env, written as f64),
            null,
        ],
        Ev::Drain(id) => [num(env, EV_DRAIN as f64), num(env, id as f64), null, null, null, null],
        Ev::Datagram(id, payload, from, size) => [
            num(env, EV_DATAGRAM as f64),
            num(env, id as f64),
            payload,
            string(env, &from.ip().to_string()),
            num(env, from.port() as f64),
            num(env, size as f64),
        ],
        Ev::Output(id, buf) => [num(env, EV_OUTPUT as f64), num(env, id as f64), buf, null, null, null],
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

pub(crate) fn no_state() -> String {
    "ERR_IPC_NOT_INITIALISED".into()
}

/// Polls `fd` for readability and stores the entry `make` builds around the poll handle.
pub(crate) fn register(fd: c_int, make: impl FnOnce(Poll) -> Entry) -> std::result::Result<u32, String> {
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

/// `ref()`/`unref()` of a connection, a listener or a UDP socket: whether its poll handle keeps
/// the process alive.
#[napi]
pub fn set_ref(id: u32, keep_alive: bool) {
    with_state(|st| match st.entries.get_mut(&id) {
        Some(Entry::Conn(c)) => c.poll.set_ref(keep_alive),
        Some(Entry::Server(s)) => s.poll.set_ref(keep_alive),
        Some(Entry::Udp(u)) => u.poll.set_ref(keep_alive),
        // (a stream connection's Node stream has its own ref/unref)
        Some(Entry::Stream(_) | Entry::StreamSettings(_)) | None => {}
    });
}

/// The core's write limits (`node_ipc_rs::flow`), so JS applies the same numbers.
#[napi(object)]
pub struct FlowDefaults {
    pub high_water_mark: f64,
    pub max_pending_bytes: f64,
    pub profile_max_pending_bytes: f64,
}

#[napi]
pub fn flow_defaults() -> FlowDefaults {
    use node_ipc_rs::flow;
    FlowDefaults {
        high_water_mark: flow::DEFAULT_HIGH_WATER_MARK as f64,
        max_pending_bytes: flow::DEFAULT_MAX_PENDING as f64,
        profile_max_pending_bytes: flow::PROFILE_MAX_PENDING as f64,
    }
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
            deadlines: HashMap::new(),
            timer: None,
            timer_at: None,
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
