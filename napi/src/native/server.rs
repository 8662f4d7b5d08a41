//! Listening servers (local sockets and TCP, optionally TLS): accepting connections.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use node_ipc_rs::net::{self, Connection, Listener};
use node_ipc_rs::tls;

use super::poll::{Poll, UV_READABLE};
use super::{endpoint, io_code, on_poll, register};
use crate::options::{conn_opts, AddressInfo, ConnOpts, ServerOptions};
use crate::state::{with_state, Entry, Ev, State};

pub(crate) struct Server {
    /// The listening socket.
    pub(crate) listener: Listener,
    /// Its poll handle.
    pub(crate) poll: Poll,
    /// Connections above this count are accepted and closed at once (as Node does).
    pub(crate) max_connections: usize,
    /// Options for accepted connections.
    pub(crate) conn_opts: ConnOpts,
    /// Accepted connections still open.
    pub(crate) active: usize,
}

impl State {
    pub(crate) fn server_ready(&mut self, id: u32, evs: &mut Vec<Ev>) {
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
                    s.conn_opts.configure(&mut conn);
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

pub(crate) fn addr_info(a: SocketAddr) -> AddressInfo {
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

/// Polls a listener again after an accept error paused it.
#[napi]
pub fn resume_listen(id: u32) {
    with_state(|st| {
        if let Some(Entry::Server(s)) = st.entries.get_mut(&id) {
            let _ = s.poll.set(UV_READABLE, on_poll);
        }
    });
}
