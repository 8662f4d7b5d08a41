//! The stream transport's handle: the same framing (and TLS) as a polled connection, fed with the
//! chunks a Node stream delivers instead of reading a file descriptor.
//!
//! JS owns the bytes' transport (a `net.Socket`, a named pipe, a child process's stdio, any
//! Duplex) and pushes each chunk it receives with `streamData`. The handle frames it exactly as the
//! native transport (`native/conn.rs`, Unix only) frames a read and reports through the one
//! dispatch function, synchronously, inside the push: `EV_FRAMES` (one JSON array per chunk),
//! `EV_DATA` (raw mode with TLS), `EV_ERROR` + `EV_CLOSE` (a broken frame limit or a TLS failure:
//! the handle is then gone), and for TLS `EV_CONNECT` when the handshake completes and `EV_OUTPUT` with ciphertext to write. Without
//! TLS nothing is written through here: JS writes its coalesced strings to the stream itself.
//!
//! rustls runs sans-IO on the pushed bytes, so TLS needs no socket of ours: the same code serves
//! Node sockets, Windows named pipes and cluster workers' shared handles.

use std::io;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use node_ipc_rs::batch::{FrameArray, TypeTable};
use node_ipc_rs::codec::FrameError;
use node_ipc_rs::inbound::Inbound;
use node_ipc_rs::tls;

use crate::options::{conn_opts, SocketOptions};
use crate::state::{check, collect_and_dispatch, frames_event, no_state, track_remainder, with_state, Entry, Ev};

/// One stream connection's receive state.
pub(crate) struct StreamConn {
    /// The receive side (plaintext), shared with every other transport: framing and limits.
    inbound: Inbound,
    /// The TLS session, when encrypted.
    tls: Option<Box<rustls::Connection>>,
    /// The handshake has not completed yet (`connect` / the accept is reported when it does).
    handshaking: bool,
    /// Event names the peer has sent, numbered (JS keeps the same list).
    types: TypeTable,
}

/// Where a TLS failure inside a push ends up.
enum Failure {
    Frame(FrameError),
    Tls(rustls::Error),
    Io(io::Error),
}

/// What one push produced, before it is turned into JS values.
#[derive(Default)]
struct Pushed {
    /// Ciphertext to send back (handshake messages, alerts).
    output: Vec<u8>,
    /// The handshake completed during this push.
    connected: bool,
    /// Raw mode with TLS: the plaintext.
    data: Vec<u8>,
    /// Frames found (their bytes are in the state's `batch`).
    frames: usize,
    failure: Option<Failure>,
}

impl StreamConn {
    /// The receive side (for the remainder-age timer in `state`).
    pub(crate) fn inbound(&self) -> &Inbound {
        &self.inbound
    }

    /// Takes ciphertext into the TLS session and the plaintext out of it, into the inbound buffer
    /// (or `p.data` in raw mode).
    fn push_tls(&mut self, mut chunk: &[u8], p: &mut Pushed) -> std::result::Result<(), Failure> {
        let raw = self.inbound.is_raw();
        let Some(tls) = self.tls.as_mut() else { return Ok(()) };
        while !chunk.is_empty() {
            match tls.read_tls(&mut chunk) {
                Ok(_) => {}
                Err(e) => return Err(Failure::Io(e)),
            }
            if let Err(e) = tls.process_new_packets() {
                // Tell the peer why (an alert), then fail.
                let _ = tls.write_tls(&mut p.output);
                return Err(Failure::Tls(e));
            }
            let sink = if raw { &mut p.data } else { self.inbound.buffer_mut() };
            let _ = io::Read::read_to_end(&mut tls.reader(), sink);
        }
        while tls.wants_write() {
            if tls.write_tls(&mut p.output).is_err() {
                break;
            }
        }
        if self.handshaking && !tls.is_handshaking() {
            self.handshaking = false;
            p.connected = true;
        }
        Ok(())
    }

    /// Frames what `inbound` holds (with `chunk` appended, if any) into `batch`. Returns the number
    /// of complete frames (delivered even when a later one broke the limit) and that error.
    /// `scratch` is the environment's shared receive buffer, lent while nothing is pending.
    fn frame(
        &mut self,
        chunk: Option<&[u8]>,
        scratch: &mut Vec<u8>,
        batch: &mut FrameArray,
    ) -> (usize, Option<FrameError>) {
        if self.inbound.is_raw() {
            return (0, None);
        }
        self.inbound.lend(scratch);
        if let Some(c) = chunk {
            self.inbound.push(c);
        }
        let d = self.inbound.decode();
        if d.frames > 0 {
            let delimiter = self.inbound.delimiter().unwrap_or(b"\x0c");
            batch.build(self.inbound.batch(&d), delimiter, Some(&mut self.types));
        }
        self.inbound.consume(&d);
        self.inbound.give_back(scratch);
        (d.frames, d.error)
    }
}

/// Prepares the framing and TLS settings of stream connections once (a server's, or a client's
/// for one connect): PEM files are parsed and checked here, not per connection. Returns a
/// settings id for `streamOpen` (free it with `streamFree`), or an error code
/// (`ERR_IPC_TLS_CONFIGURATION|...`, `EINVAL`). `tls_host`: a TLS client verifying that host.
#[napi]
pub fn stream_settings(opts: SocketOptions, tls_host: Option<String>) -> Either<u32, String> {
    let result = conn_opts(&opts, tls_host.as_deref()).and_then(|copts| {
        with_state(|st| {
            let id = st.alloc_id();
            st.entries.insert(id, Entry::StreamSettings(Box::new(copts)));
            id
        })
        .ok_or_else(no_state)
    });
    match result {
        Ok(id) => Either::A(id),
        Err(code) => Either::B(code),
    }
}

/// Creates a stream connection handle from settings made by `streamSettings`. Returns its id
/// (events for it go through the dispatch function), or an error code.
#[napi]
pub fn stream_open(settings: u32) -> Either<u32, String> {
    let result = with_state(|st| {
        let Some(Entry::StreamSettings(copts)) = st.entries.get(&settings) else {
            return Err("EINVAL".to_string());
        };
        let tls = match &copts.tls {
            None => None,
            Some(mode) => {
                let mut session = mode.session().map_err(|e| tls::error_code(&e))?;
                session.set_buffer_limit(None);
                Some(Box::new(session))
            }
        };
        let handshaking = tls.is_some();
        let mut inbound = Inbound::new(copts.decoder());
        inbound.set_message_timeout(copts.message_timeout);
        let conn = StreamConn { inbound, tls, handshaking, types: TypeTable::default() };
        let id = st.alloc_id();
        st.entries.insert(id, Entry::Stream(Box::new(conn)));
        Ok(id)
    })
    .unwrap_or_else(|| Err(no_state()));
    match result {
        Ok(id) => Either::A(id),
        Err(code) => Either::B(code),
    }
}

/// Frames one received chunk of stream `id` and dispatches what it produced, synchronously.
#[napi]
pub fn stream_data(id: u32, chunk: BufferSlice) {
    collect_and_dispatch(false, |st, evs| {
        let env = st.env;
        let Some(Entry::Stream(c)) = st.entries.get_mut(&id) else { return };
        let mut p = Pushed::default();
        let (frames, error) = if c.tls.is_some() {
            match c.push_tls(&chunk, &mut p) {
                Ok(()) => c.frame(None, &mut st.read_buf, &mut st.batch),
                Err(f) => {
                    p.failure = Some(f);
                    (0, None)
                }
            }
        } else {
            c.frame(Some(&chunk), &mut st.read_buf, &mut st.batch)
        };
        // Frames before an oversize one are still delivered, then the error closes the stream.
        p.frames = frames;
        // node-ipc 14's remainder-age rule, with the native connections' clock and timer.
        let rearm = track_remainder(&mut st.deadlines, id, &mut c.inbound);
        if let Some(e) = error {
            p.failure = Some(Failure::Frame(e));
        }
        // SAFETY: env is this thread's environment and we are inside its call.
        unsafe {
            if !p.output.is_empty() {
                evs.push(Ev::Output(id, buffer(env, &p.output)));
            }
            if p.connected {
                evs.push(Ev::Connect(id));
            }
            if !p.data.is_empty() {
                evs.push(Ev::Data(id, buffer(env, &p.data), p.data.len()));
            }
            if p.frames > 0 {
                evs.push(frames_event(env, id, &st.batch));
            }
        }
        if let Some(f) = p.failure {
            let (code, msg) = match f {
                Failure::Frame(e) => (e.code().to_string(), e.to_string()),
                Failure::Tls(e) => (tls::error_code(&e), format!("TLS: {e}")),
                Failure::Io(e) => ("EPROTO".to_string(), e.to_string()),
            };
            evs.push(Ev::Error(id, code, msg));
            // (no byte counts: JS counts what moved through the Node stream itself)
            st.push_close(id, true, evs);
            st.remove(id);
        }
        if rearm {
            st.schedule_timer();
        }
    });
}

/// At the stream's end: `[code, message]` when stream `id` holds an unfinished frame (the
/// peer ended mid-frame), as the native transport reports it.
#[napi]
pub fn stream_end_error(id: u32) -> Option<Vec<String>> {
    with_state(|st| match st.entries.get(&id) {
        Some(Entry::Stream(c)) => c.inbound.end_error().map(|(code, message)| vec![code.as_str().to_string(), message]),
        _ => None,
    })
    .flatten()
}

/// TLS: encrypts `data` and returns the ciphertext to write (with any handshake bytes still
/// pending), or an error code if the session failed.
#[napi]
pub fn stream_encrypt(id: u32, data: Either<String, BufferSlice>) -> Either<Buffer, String> {
    let bytes: &[u8] = match &data {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    };
    with_state(|st| match st.entries.get_mut(&id) {
        Some(Entry::Stream(c)) => match c.tls.as_mut() {
            Some(tls) => {
                if !bytes.is_empty() {
                    if let Err(e) = io::Write::write_all(&mut tls.writer(), bytes) {
                        return Either::B(format!("EPROTO|{e}"));
                    }
                }
                let mut out = Vec::new();
                while tls.wants_write() {
                    if tls.write_tls(&mut out).is_err() {
                        break;
                    }
                }
                Either::A(out.into())
            }
            None => Either::A(bytes.to_vec().into()),
        },
        _ => Either::B("EPIPE".to_string()),
    })
    .unwrap_or_else(|| Either::B(no_state()))
}

/// TLS: the `close_notify` alert to send before ending the stream (empty without TLS).
#[napi]
pub fn stream_close_notify(id: u32) -> Buffer {
    with_state(|st| match st.entries.get_mut(&id) {
        Some(Entry::Stream(c)) => {
            let mut out = Vec::new();
            if let Some(tls) = c.tls.as_mut() {
                tls.send_close_notify();
                while tls.wants_write() {
                    if tls.write_tls(&mut out).is_err() {
                        break;
                    }
                }
            }
            out
        }
        _ => Vec::new(),
    })
    .unwrap_or_default()
    .into()
}

/// Forgets stream `id` (its Node stream closed or was destroyed; no event follows), or settings
/// made by `streamSettings`.
#[napi]
pub fn stream_free(id: u32) {
    with_state(|st| {
        if let Some(Entry::Stream(_) | Entry::StreamSettings(_)) = st.entries.get(&id) {
            st.remove(id);
        }
    });
}

unsafe fn buffer(env: sys::napi_env, bytes: &[u8]) -> sys::napi_value {
    let mut value = ptr::null_mut();
    check(sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), ptr::null_mut(), &mut value));
    value
}

/// node-ipc's Windows pipe name for a local socket path (the core's rule: see
/// `node_ipc_rs::config::pipe_path`); the shim uses it on Windows.
#[napi]
pub fn pipe_path(path: String) -> String {
    node_ipc_rs::config::pipe_path(&path)
}
