//! The native transport (Unix only): sockets of the core's own (`node_ipc_rs::net`) whose file
//! descriptors are polled from the environment's libuv loop, read and written from the JS thread.
//!
//! Windows has no such path: libuv cannot poll named pipes, so there every connection goes through
//! the stream transport (`crate::stream`) and UDP through Node's `dgram` (`crate::datagram`), and
//! the JS shim never calls the functions exported from here (lib/stream.js `useStream`).
//!
//! [`conn`] (stream connections), [`server`] (listeners), [`udp`], [`poll`] (libuv poll handles).

pub mod conn;
mod poll;
pub mod server;
pub mod udp;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::raw::c_int;
use std::path::PathBuf;

use napi_derive::napi;

use node_ipc_rs::net::{self, Connection, Endpoint};
use node_ipc_rs::tls;

use crate::options::ConnOpts;
use crate::state::{collect_and_dispatch, no_state, with_state, Entry, State};
use poll::{Poll, UvPoll, UV_READABLE};

/// Most bytes read from one socket per loop iteration before other sockets get their turn (and
/// before JS gets the batch). Smaller batches let the peer work while we do: on this 2-core
/// machine a Node<->Node echo ran ~1.3x faster with 64 KiB than with 256 KiB (NIRS_READ_BUDGET
/// overrides it, for experiments).
pub(crate) const READ_BUDGET: usize = 64 * 1024;

/// The native transport's per-environment read settings and buffers.
pub(crate) struct Scratch {
    /// Bytes read per socket per loop iteration.
    pub(crate) read_budget: usize,
    /// Receive buffer for datagrams (reused).
    pub(crate) dgram_buf: Vec<u8>,
    /// The Node Buffer the next raw-mode read goes into (see `conn::RawSpare`).
    pub(crate) raw_spare: conn::RawSpare,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        let read_budget = std::env::var("NIRS_READ_BUDGET").ok().and_then(|v| v.parse().ok()).unwrap_or(READ_BUDGET);
        Scratch {
            read_budget,
            dgram_buf: Vec::new(),
            // (at least 4 KiB: an empty read would look like the peer's end)
            raw_spare: conn::RawSpare::new(
                read_budget.max(4096),
                std::env::var_os("NIRS_NO_EXTERNAL_BUFFERS").is_some_and(|v| v == "1"),
            ),
        }
    }
}

/// A system error's code as Node names it (`ECONNREFUSED`, ...), or the TLS failure's code.
pub(crate) fn io_code(e: &io::Error) -> String {
    if let Some(t) = net::tls_error(e) {
        return tls::error_code(t);
    }
    match e.raw_os_error() {
        Some(errno) => poll::err_name(-errno),
        None => match e.kind() {
            io::ErrorKind::InvalidInput => "EINVAL".into(),
            _ => "EIO".into(),
        },
    }
}

impl ConnOpts {
    /// Applies the receive-side limits that live outside the decoder to a new connection.
    pub(crate) fn configure(&self, conn: &mut Connection) {
        conn.inbound_mut().set_message_timeout(self.message_timeout);
    }
}

/// A local path (`port` < 0) or an IP address and port.
pub(crate) fn endpoint(host_or_path: &str, port: i32) -> std::result::Result<Endpoint, String> {
    if port < 0 {
        return Ok(Endpoint::Local(PathBuf::from(host_or_path)));
    }
    let ip: IpAddr = host_or_path.parse().map_err(|_| "EINVAL".to_string())?;
    Ok(Endpoint::Tcp(SocketAddr::new(ip, port as u16)))
}

impl State {
    /// Frees a native handle taken out of the table: its poll handle is closed before its socket,
    /// and an accepted connection gives its place in its server's count back.
    pub(crate) fn release(&mut self, entry: Entry) {
        match entry {
            Entry::Conn(c) => {
                c.poll.close();
                if c.server != 0 {
                    if let Some(Entry::Server(s)) = self.entries.get_mut(&c.server) {
                        s.active = s.active.saturating_sub(1);
                    }
                }
                drop(c.conn);
            }
            Entry::Server(s) => s.poll.close(),
            Entry::Udp(u) => u.poll.close(),
            Entry::Stream(_) | Entry::StreamSettings(_) => {}
        }
    }
}

pub(crate) unsafe extern "C" fn on_poll(handle: *mut UvPoll, status: c_int, events: c_int) {
    let id = poll::handle_id(handle);
    collect_and_dispatch(true, |s, evs| match s.entries.get(&id) {
        Some(Entry::Server(_)) => s.server_ready(id, evs),
        Some(Entry::Conn(_)) => s.conn_ready(id, status, events, evs),
        Some(Entry::Udp(_)) => s.udp_ready(id, evs),
        Some(Entry::Stream(_) | Entry::StreamSettings(_)) | None => {}
    });
}

/// Polls `fd` for readability and stores the entry `make` builds around the poll handle.
pub(crate) fn register(fd: c_int, make: impl FnOnce(Poll) -> Entry) -> std::result::Result<u32, String> {
    with_state(|st| {
        let id = st.alloc_id();
        let mut poll = Poll::new(st.lp, fd, id).map_err(poll::err_name)?;
        if let Err(rc) = poll.set(UV_READABLE, on_poll) {
            poll.close();
            return Err(poll::err_name(rc));
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
