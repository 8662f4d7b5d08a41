//! Socket controls with Node's semantics, on any connected stream socket (`socket2`).
//!
//! Local (Unix) sockets have no TCP options: as in Node, where `setKeepAlive`/`setNoDelay` on a
//! pipe do nothing, these return `Ok(false)` for them.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use socket2::{SockRef, Socket, TcpKeepalive};

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

/// A TCP connection to this same machine whose congestion control is BBR is moved to cubic (Linux;
/// node-ipc-rs calls this for every TCP connection it opens or accepts, natively and in the Rust
/// API). BBR paces every flow with timers, which between two processes on one machine, where
/// nothing is ever congested, is only work (timer interrupts and softirqs in both processes): a
/// raw 1 GiB echo over 127.0.0.1 ran at 2,832 against 2,150 MB/s by medians of six alternating
/// pairs, and the JSON echo did not change (bench/results/loopback-cc-2026-11-30.txt). Connections
/// to other machines, other algorithms and other systems are left as they are, and a system that
/// does not let a process choose cubic keeps BBR. Returns whether the socket was switched.
pub fn unpace_loopback(sock: SockRef<'_>, peer: &SocketAddr) -> bool {
    if !is_loopback(peer.ip()) {
        return false;
    }
    #[cfg(target_os = "linux")]
    if sock.tcp_congestion().is_ok_and(|name| name.starts_with(b"bbr")) {
        return sock.set_tcp_congestion(b"cubic").is_ok();
    }
    let _ = sock;
    false
}

/// 127.0.0.0/8, ::1, or an IPv4-mapped loopback address.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::{Ipv6Addr, TcpListener, TcpStream};

    fn congestion(s: &TcpStream) -> Vec<u8> {
        let mut name = SockRef::from(s).tcp_congestion().unwrap();
        name.retain(|&b| b != 0);
        name
    }

    /// A loopback connection on BBR moves to cubic; the same socket, asked as if its peer were
    /// elsewhere, keeps BBR. Skipped where this process may not choose BBR for a socket.
    #[test]
    fn loopback_connections_leave_bbr_for_cubic() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        if SockRef::from(&s).set_tcp_congestion(b"bbr").is_err()
            || SockRef::from(&s).set_tcp_congestion(b"cubic").is_err()
        {
            eprintln!("skipped: this system does not let a socket choose bbr and cubic");
            return;
        }
        SockRef::from(&s).set_tcp_congestion(b"bbr").unwrap();
        let remote: SocketAddr = "192.0.2.1:9".parse().unwrap();
        assert!(!unpace_loopback(SockRef::from(&s), &remote));
        assert_eq!(congestion(&s), b"bbr");
        assert!(unpace_loopback(SockRef::from(&s), &s.peer_addr().unwrap()));
        assert_eq!(congestion(&s), b"cubic");
        // Not BBR: left alone.
        SockRef::from(&s).set_tcp_congestion(b"reno").unwrap();
        assert!(!unpace_loopback(SockRef::from(&s), &s.peer_addr().unwrap()));
        assert_eq!(congestion(&s), b"reno");
    }

    #[test]
    fn loopback_addresses() {
        assert!(is_loopback("127.3.2.1".parse().unwrap()));
        assert!(is_loopback(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("10.0.0.1".parse().unwrap()));
        assert!(!is_loopback("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!is_loopback("fe80::1".parse().unwrap()));
    }
}
