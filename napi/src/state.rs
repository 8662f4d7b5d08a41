//! Per-environment state: the handle table, the remainder-age timer, and the one JS dispatch
//! function every socket event goes through. Shared by every platform: the native transport's
//! handles (Unix only) are the table's `#[cfg(unix)]` entries, handled in `crate::native`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ptr;
use std::time::Instant;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use node_ipc_rs::batch::FrameArray;
use node_ipc_rs::inbound::Inbound;

#[cfg(unix)]
use crate::native::{conn::Conn, server::Server, udp::Udp, Scratch};
use crate::options::ConnOpts;
use crate::stream::StreamConn;
use crate::uv::{self, UvTimer};

/// Event kinds passed as the first argument of the dispatch function.
pub(crate) const EV_FRAMES: u32 = 1; // (id, text, count, whole, added?): a read's frames as one JSON array (node_ipc_rs::batch)
pub(crate) const EV_DATA: u32 = 2; // (id, Buffer, length): raw-mode bytes, the first `length` of the Buffer
pub(crate) const EV_CONNECT: u32 = 3; // (id): an outgoing connection is established
pub(crate) const EV_ACCEPT: u32 = 4; // (serverId, connId)
pub(crate) const EV_ERROR: u32 = 5; // (id, code, message)
pub(crate) const EV_CLOSE: u32 = 6; // (id, hadError, bytesRead, bytesWritten): the connection is gone (not sent after destroy())
pub(crate) const EV_DATAGRAM: u32 = 7; // (id, text|Buffer, address, port, size): one UDP datagram
pub(crate) const EV_DRAIN: u32 = 8; // (id): the connection's write queue is empty again
pub(crate) const EV_OUTPUT: u32 = 9; // (id, Buffer): stream transport, TLS bytes to write to the stream

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
    /// Read buffer lent to whichever connection is being read (see `Connection::read_shared`).
    pub(crate) read_buf: Vec<u8>,
    /// The native transport's read settings and datagram buffer.
    #[cfg(unix)]
    pub(crate) native: Scratch,
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
    /// The native transport (Unix file descriptors polled by libuv; see `crate::native`).
    #[cfg(unix)]
    Server(Server),
    #[cfg(unix)]
    Conn(Box<Conn>),
    #[cfg(unix)]
    Udp(Udp),
    /// A stream-transport connection: framing state only, the bytes move through a Node stream.
    Stream(Box<StreamConn>),
    /// Settings shared by the stream connections of one server or client connect.
    StreamSettings(Box<ConnOpts>),
}

/// An event collected while the state is borrowed, dispatched after the borrow ends.
#[cfg_attr(not(unix), allow(dead_code))] // (accept and drain come from the native transport only)
pub(crate) enum Ev {
    /// (id, array text, frame count, frames held whole or None when not exact, added names or null)
    Frames(u32, sys::napi_value, usize, Option<usize>, sys::napi_value),
    /// (id, Buffer, how many of its bytes were received: JS trims it when fewer)
    Data(u32, sys::napi_value, usize),
    Connect(u32),
    Accept(u32, u32),
    Error(u32, String, String),
    Close(u32, bool, u64, u64),
    /// (id, payload, sender's address, port, datagram size)
    Datagram(u32, sys::napi_value, String, u16, usize),
    Drain(u32),
    Output(u32, sys::napi_value),
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
        let ids: Vec<u32> = self.entries.keys().copied().collect();
        for id in ids {
            self.remove(id);
        }
    }

    /// Forgets handle `id` and frees what it holds (a native handle's poll handle and socket).
    pub(crate) fn remove(&mut self, id: u32) {
        self.deadlines.remove(&id);
        match self.entries.remove(&id) {
            #[cfg(unix)]
            Some(native @ (Entry::Server(_) | Entry::Conn(_) | Entry::Udp(_))) => self.release(native),
            Some(Entry::Stream(_) | Entry::StreamSettings(_)) | None => {}
        }
    }

    /// The receive side of connection `id`, native or stream.
    fn inbound(&self, id: u32) -> Option<&Inbound> {
        match self.entries.get(&id)? {
            #[cfg(unix)]
            Entry::Conn(c) => Some(c.conn.inbound()),
            Entry::Stream(c) => Some(c.inbound()),
            _ => None,
        }
    }

    /// The `close` event of connection `id`, with its final byte counts (Node keeps `bytesRead`
    /// and `bytesWritten` readable after close). Stream connections' bytes are counted in JS.
    pub(crate) fn push_close(&self, id: u32, had_error: bool, evs: &mut Vec<Ev>) {
        let (read, written) = match self.entries.get(&id) {
            #[cfg(unix)]
            Some(Entry::Conn(c)) => (c.bytes_read, c.bytes_written),
            _ => (0, 0),
        };
        evs.push(Ev::Close(id, had_error, read, written));
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
            // (native and stream-transport connections follow the same rule)
            let Some(inbound) = self.inbound(id) else { continue };
            match inbound.check_timeout(now) {
                Err(e) => {
                    evs.push(Ev::Error(id, e.code().into(), e.to_string()));
                    self.push_close(id, true, evs);
                    self.remove(id);
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
    collect_and_dispatch(true, |s, evs| s.timer_fired(evs));
}

/// Runs `f` on this thread's state, which collects events, then dispatches them in order once the
/// state is no longer borrowed (JS may call back in). `scope`: inside a handle scope of its own
/// (libuv callbacks; a call from JS already has one).
pub(crate) fn collect_and_dispatch(scope: bool, f: impl FnOnce(&mut State, &mut Vec<Ev>)) {
    let Some((env, dispatch, recv, ctx)) = with_state(|s| (s.env, s.dispatch, s.recv, s.async_ctx)) else {
        return;
    };
    let mut handle_scope = ptr::null_mut();
    if scope {
        // SAFETY: env is this thread's environment.
        unsafe { check(sys::napi_open_handle_scope(env, &mut handle_scope)) };
    }
    let mut evs = Vec::new();
    with_state(|s| f(s, &mut evs));
    for ev in evs {
        // SAFETY: plain N-API calls on this thread's environment.
        if !unsafe { dispatch_event(env, dispatch, recv, ctx, ev) } {
            break;
        }
    }
    if scope {
        // SAFETY: the scope opened above.
        unsafe { check(sys::napi_close_handle_scope(env, handle_scope)) };
    }
}

/// node-ipc 14's remainder-age rule after a read of connection `id`: its unfinished frame's
/// deadline joins (or leaves) `deadlines`. True when it joined, so the timer may need to be due
/// sooner (`State::schedule_timer`).
pub(crate) fn track_remainder(deadlines: &mut HashMap<u32, Instant>, id: u32, inbound: &mut Inbound) -> bool {
    if inbound.message_timeout().is_none() {
        return false;
    }
    match inbound.note_remainder(Instant::now()) {
        Some(at) => deadlines.insert(id, at).is_none(),
        None => {
            deadlines.remove(&id);
            false
        }
    }
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
        Ev::Frames(id, text, n, whole, added) => [
            num(env, EV_FRAMES as f64),
            num(env, id as f64),
            text,
            num(env, n as f64),
            num(env, whole.map_or(-1.0, |w| w as f64)),
            added,
        ],
        Ev::Data(id, buf, len) => {
            [num(env, EV_DATA as f64), num(env, id as f64), buf, num(env, len as f64), null, null]
        }
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
        Ev::Datagram(id, payload, address, port, size) => [
            num(env, EV_DATAGRAM as f64),
            num(env, id as f64),
            payload,
            string(env, &address),
            num(env, port as f64),
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

/// The frames of the read being dispatched, one string each (for the slow path in JS, when the
/// JSON array of a batch does not parse into one message per frame).
#[napi]
pub fn batch_frames() -> Vec<String> {
    with_state(|st| (0..st.batch.len()).map(|i| String::from_utf8_lossy(&st.batch.frame(i)).into_owned()).collect())
        .unwrap_or_default()
}

/// The `EV_FRAMES` event for a built batch: its JSON array text, the frame count, how many frames
/// it holds whole (-1 when the array is not exact: decode frame by frame), and the event names it
/// added to the connection's table (`\n`-separated), if any.
pub(crate) fn frames_event(env: sys::napi_env, id: u32, batch: &FrameArray) -> Ev {
    let str_value = |bytes: &[u8]| {
        let mut v = ptr::null_mut();
        // SAFETY: env is this thread's environment; callers are inside a handle scope.
        unsafe { check(sys::napi_create_string_utf8(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut v)) };
        v
    };
    let added = batch.added_types();
    let added = if added.is_empty() { ptr::null_mut() } else { str_value(added) };
    let whole = batch.exact().then(|| batch.whole());
    Ev::Frames(id, str_value(batch.text()), batch.len(), whole, added)
}

/// The core's write limits (`node_ipc_rs::flow`), so JS applies the same numbers (the profiles'
/// own cap comes with `profile_defaults`).
#[napi(object)]
pub struct FlowDefaults {
    pub high_water_mark: f64,
    pub max_pending_bytes: f64,
}

#[napi]
pub fn flow_defaults() -> FlowDefaults {
    use node_ipc_rs::flow;
    FlowDefaults {
        high_water_mark: flow::DEFAULT_HIGH_WATER_MARK as f64,
        max_pending_bytes: flow::DEFAULT_MAX_PENDING as f64,
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
            read_buf: Vec::new(),
            batch: FrameArray::default(),
            deadlines: HashMap::new(),
            timer: None,
            timer_at: None,
            #[cfg(unix)]
            native: Scratch::new(),
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
