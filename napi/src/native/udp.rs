//! UDP sockets (node-ipc's `udp4`/`udp6` servers): one datagram holds whole frames (decoded in
//! `crate::datagram`, shared with the stream transport's UDP).

use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use node_ipc_rs::codec::FrameDecoder;
use node_ipc_rs::net::{self, Datagram};

use super::poll::Poll;
use super::{io_code, register};
use crate::datagram;
use crate::options::{conn_opts, SocketOptions};
use crate::state::{no_state, with_state, Entry, Ev, State};

pub(crate) struct Udp {
    /// The bound socket.
    pub(crate) sock: Datagram,
    /// Its poll handle.
    pub(crate) poll: Poll,
    /// Framing of each datagram (frames must be complete within one datagram); `None` in raw mode.
    pub(crate) decoder: Option<FrameDecoder>,
}

/// Datagrams read per loop iteration before other sockets get their turn.
pub(crate) const DATAGRAM_BUDGET: usize = 64;

impl State {
    pub(crate) fn udp_ready(&mut self, id: u32, evs: &mut Vec<Ev>) {
        let env = self.env;
        let Some(Entry::Udp(u)) = self.entries.get_mut(&id) else { return };
        let buf = &mut self.native.dgram_buf;
        if buf.len() < net::MAX_DATAGRAM {
            *buf = vec![0; net::MAX_DATAGRAM];
        }
        for _ in 0..DATAGRAM_BUDGET {
            let (n, from) = match u.sock.recv_from(buf) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    evs.push(Ev::Error(id, io_code(&e), format!("recvfrom {e}")));
                    return;
                }
            };
            // SAFETY: env is this thread's environment; we are inside a handle scope.
            unsafe {
                datagram::decode(env, id, u.decoder.as_mut(), &buf[..n], from.ip().to_string(), from.port(), evs)
            };
        }
    }
}

/// Binds a UDP socket to an IP address and port. Returns its id or an error code.
#[napi]
pub fn udp_bind(host: String, port: u32, opts: SocketOptions) -> Either<u32, String> {
    let result = (|| {
        let ip: IpAddr = host.parse().map_err(|_| "EINVAL".to_string())?;
        let copts = conn_opts(&opts, None)?;
        let sock = Datagram::bind(SocketAddr::new(ip, port as u16)).map_err(|e| io_code(&e))?;
        register(sock.as_raw_fd(), |poll| Entry::Udp(Udp { sock, poll, decoder: copts.decoder() }))
    })();
    match result {
        Ok(id) => Either::A(id),
        Err(code) => Either::B(code),
    }
}

pub(crate) fn udp_send(id: u32, data: &[u8], address: &str, port: u32) -> Option<String> {
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
