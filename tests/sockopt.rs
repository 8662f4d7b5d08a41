//! Socket controls (`node_ipc_rs::sockopt`, what `socket.setKeepAlive`/`setNoDelay` call in the
//! Node binding's native transport), checked with getsockopt. Unix only: on Windows the binding
//! has no native transport (Node's own sockets carry the bytes), and socket2 reads back fewer
//! keepalive options there.
#![cfg(unix)]

use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use node_ipc_rs::sockopt::{set_keepalive, set_nodelay};
use socket2::Socket;

fn tcp_pair() -> (Socket, Socket) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    (Socket::from(c), Socket::from(s))
}

#[test]
fn keepalive_as_node_sets_it() {
    let (c, _s) = tcp_pair();
    assert!(!c.keepalive().unwrap());
    assert!(set_keepalive(&c, true, Duration::from_millis(5500)).unwrap());
    assert!(c.keepalive().unwrap());
    assert_eq!(c.tcp_keepalive_time().unwrap(), Duration::from_secs(5)); // whole seconds
    assert_eq!(c.tcp_keepalive_interval().unwrap(), Duration::from_secs(1));
    assert_eq!(c.tcp_keepalive_retries().unwrap(), 10);
    // initialDelay 0: enabled, idle time unchanged.
    assert!(set_keepalive(&c, true, Duration::ZERO).unwrap());
    assert_eq!(c.tcp_keepalive_time().unwrap(), Duration::from_secs(5));
    assert!(set_keepalive(&c, false, Duration::ZERO).unwrap());
    assert!(!c.keepalive().unwrap());
}

#[test]
fn keepalive_with_zero_delay_on_a_fresh_socket() {
    let (c, _s) = tcp_pair();
    let idle = c.tcp_keepalive_time().unwrap();
    assert!(set_keepalive(&c, true, Duration::from_millis(999)).unwrap());
    assert!(c.keepalive().unwrap());
    assert_eq!(c.tcp_keepalive_time().unwrap(), idle, "under a second keeps the system's idle time");
}

#[test]
fn nodelay() {
    let (c, _s) = tcp_pair();
    assert!(set_nodelay(&c, true).unwrap());
    assert!(c.tcp_nodelay().unwrap());
    assert!(set_nodelay(&c, false).unwrap());
    assert!(!c.tcp_nodelay().unwrap());
}

#[test]
fn unix_sockets_have_no_tcp_options() {
    let (a, _b) = UnixStream::pair().unwrap();
    let a = Socket::from(std::os::fd::OwnedFd::from(a));
    assert!(!set_keepalive(&a, true, Duration::from_secs(5)).unwrap());
    assert!(!set_nodelay(&a, true).unwrap());
}
