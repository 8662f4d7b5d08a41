//! UDP datagrams, decoded by the core's rule (`FrameDecoder::decode_datagram`: whole frames per
//! datagram) for both ways a datagram arrives: read from the native UDP socket (Unix,
//! `native::udp`), or received by a Node `dgram` socket and pushed here (`datagramPush`: UDP for
//! the stream transport, and so on Windows).

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use node_ipc_rs::codec::FrameDecoder;

use crate::state::{check, collect_and_dispatch, Entry, Ev};

/// Collects the events of one datagram from `address`:`port`, in the native UDP socket's order:
/// `EV_DATAGRAM` with its complete frames as one string (raw mode, `decoder` `None`: all its
/// bytes), then `EV_ERROR` if the rest broke the rule (an unfinished frame, a frame over the limit).
///
/// # Safety
/// `env` is this thread's environment, inside a handle scope or a call from JS.
pub(crate) unsafe fn decode(
    env: sys::napi_env,
    id: u32,
    decoder: Option<&mut FrameDecoder>,
    bytes: &[u8],
    address: String,
    port: u16,
    evs: &mut Vec<Ev>,
) {
    let n = bytes.len();
    let mut value = ptr::null_mut();
    let Some(dec) = decoder else {
        check(sys::napi_create_buffer_copy(env, n, bytes.as_ptr().cast(), ptr::null_mut(), &mut value));
        evs.push(Ev::Datagram(id, value, address, port, n));
        return;
    };
    let d = dec.decode_datagram(bytes);
    let error = d.error.map(|err| {
        let from = if address.contains(':') { format!("[{address}]:{port}") } else { format!("{address}:{port}") };
        Ev::Error(id, err.code().into(), err.message_from(from))
    });
    if d.end > 0 {
        check(sys::napi_create_string_utf8(env, bytes.as_ptr().cast(), d.end as isize, &mut value));
        evs.push(Ev::Datagram(id, value, address, port, n));
    }
    evs.extend(error);
}

/// Decodes one datagram that a Node `dgram` socket received from `address`:`port`, with the
/// framing of `settings` (made by `streamSettings`; its id is the UDP server's handle id), and
/// dispatches its events synchronously, as the native UDP socket does after a read.
#[napi]
pub fn datagram_push(settings: u32, datagram: BufferSlice, address: String, port: u32) {
    collect_and_dispatch(false, |st, evs| {
        if let Some(Entry::StreamSettings(opts)) = st.entries.get(&settings) {
            // (a datagram pushed from JS costs a decoder; the native UDP socket keeps one)
            let mut dec = opts.decoder();
            // SAFETY: env is this thread's environment and we are inside its call.
            unsafe { decode(st.env, settings, dec.as_mut(), &datagram, address, port as u16, evs) };
        }
    });
}
