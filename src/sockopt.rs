//! Socket controls with Node's semantics, on any connected stream socket (`socket2`).
//!
//! Local (Unix) sockets have no TCP options: as in Node, where `setKeepAlive`/`setNoDelay` on a
//! pipe do nothing, these return `Ok(false)` for them.

use std::io;
use std::time::Duration;

use socket2::{Socket, TcpKeepalive};

/// True for a TCP socket (IPv4 or IPv6), false for a Unix socket.
pub fn is_tcp(sock: &Socket) -> bool {
    sock.local_addr().map(|a| a.is_ipv4() || a.is_ipv6()).unwrap_or(false)
}

/// Node's `socket.setKeepAlive(enable, initialDelay)`: `SO_KEEPALIVE`, and when enabling,
/// `TCP_KEEPCNT=10`, `TCP_KEEPINTVL=1` s and, unless `initial_delay` is under one second (then the
/// current idle time is kept), `TCP_KEEPIDLE=initial_delay` in whole seconds. Returns whether the
/// options apply (false for Unix sockets, which have none).
pub fn set_keepalive(sock: &Socket, enable: bool, initial_delay: Duration) -> io::Result<bool> {
    if !is_tcp(sock) {
        return Ok(false);
    }
    if !enable {
        sock.set_keepalive(false)?;
        return Ok(true);
    }
    let mut ka = TcpKeepalive::new();
    if initial_delay.as_secs() >= 1 {
        ka = ka.with_time(Duration::from_secs(initial_delay.as_secs()));
    } else {
        sock.set_keepalive(true)?;
    }
    #[cfg(not(any(target_os = "openbsd", target_os = "haiku", target_os = "windows")))]
    {
        ka = ka.with_interval(Duration::from_secs(1));
    }
    #[cfg(not(any(target_os = "openbsd", target_os = "haiku", target_os = "windows")))]
    {
        ka = ka.with_retries(10);
    }
    sock.set_tcp_keepalive(&ka)?;
    Ok(true)
}

/// Node's `socket.setNoDelay(noDelay)`: `TCP_NODELAY` (on by default for node-ipc-rs's TCP
/// sockets, as in Node). Returns whether the option applies (false for Unix sockets).
pub fn set_nodelay(sock: &Socket, nodelay: bool) -> io::Result<bool> {
    if !is_tcp(sock) {
        return Ok(false);
    }
    sock.set_tcp_nodelay(nodelay)?;
    Ok(true)
}
