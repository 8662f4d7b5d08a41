//! The nonblocking socket layer the Node binding drives: framing across reads, write queueing,
//! TLS handshakes and refusals, limits, UDP — on temporary sockets, polled by hand.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use node_ipc_rs::codec::FrameDecoder;
use node_ipc_rs::net::{self, Connection, Datagram, Endpoint, ListenOptions, Listener};
use node_ipc_rs::tls::{self, TlsOptions};

fn tmp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("nirs-net-{}-{tag}.sock", std::process::id()))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures").join(name)).unwrap()
}

/// Accepts one connection, waiting up to a second.
fn accept(l: &Listener) -> socket2::Socket {
    let end = Instant::now() + Duration::from_secs(1);
    loop {
        if let Some(s) = l.accept().unwrap() {
            return s;
        }
        assert!(Instant::now() < end, "no connection");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reads from `c` until `want` frames arrived (or fails after a second); returns them.
fn frames(c: &mut Connection, want: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let end = Instant::now() + Duration::from_secs(2);
    while out.len() < want {
        let r = c.read(64 * 1024).unwrap();
        let batch = c.batch(&r);
        for f in batch.split(|b| *b == b'\x0c').take(r.frames) {
            out.push(f.to_vec());
        }
        c.consume(&r);
        assert!(!r.eof, "peer closed");
        assert!(Instant::now() < end, "only {} of {want} frames", out.len());
        if r.len == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    out
}

fn pump_until(mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(2);
    while !f() {
        assert!(Instant::now() < end, "timed out");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn local_socket_frames_in_both_directions_and_file_removed() {
    let path = tmp_path("local");
    let l = Listener::bind(&Endpoint::Local(path.clone()), &ListenOptions::default()).unwrap();
    assert!(path.exists());
    let (sock, _) = net::connect(&Endpoint::Local(path.clone())).unwrap();
    let mut client = Connection::new(sock, Some(FrameDecoder::new(b"\x0c", None)));
    let mut server = Connection::new(accept(&l), Some(FrameDecoder::new(b"\x0c", None)));
    // A large message written in one go is queued, then flushed as the peer reads.
    let big = format!("{{\"type\":\"big\",\"data\":\"{}\"}}\x0c", "x".repeat(3 << 20));
    let mut done = client.write(big.as_bytes()).unwrap();
    let mut got = Vec::new();
    pump_until(|| {
        if !done {
            done = client.flush().unwrap();
        }
        let r = server.read(1 << 20).unwrap();
        if r.frames > 0 {
            got.push(server.batch(&r).len());
        }
        server.consume(&r);
        !got.is_empty()
    });
    assert_eq!(got, vec![big.len()]);
    assert!(server.write(b"{\"type\":\"a\",\"data\":1}\x0c{\"type\":\"b\"}\x0c").unwrap());
    assert_eq!(frames(&mut client, 2), vec![b"{\"type\":\"a\",\"data\":1}".to_vec(), b"{\"type\":\"b\"}".to_vec()]);
    drop(l);
    assert!(!path.exists(), "the listener removes its socket file");
}

#[cfg(unix)]
#[test]
fn unlink_replaces_a_stale_socket_but_not_a_file() {
    let path = tmp_path("stale");
    drop(std::os::unix::net::UnixListener::bind(&path)); // leaves a stale socket file behind
    assert!(path.exists());
    let l = Listener::bind(&Endpoint::Local(path.clone()), &ListenOptions::default()).unwrap();
    drop(l);
    std::fs::write(&path, b"precious").unwrap();
    let err = Listener::bind(&Endpoint::Local(path.clone()), &ListenOptions::default()).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EADDRINUSE));
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn oversize_frame_is_reported_with_the_frames_before_it() {
    let l = Listener::bind(&Endpoint::Tcp("127.0.0.1:0".parse().unwrap()), &ListenOptions::default()).unwrap();
    let (sock, _) = net::connect(&Endpoint::Tcp(l.local_addr().unwrap())).unwrap();
    let mut client = Connection::new(sock, None);
    let mut server = Connection::new(accept(&l), Some(FrameDecoder::new(b"\x0c", Some(8))));
    pump_until(|| net::finish_connect(client.socket()).is_ok());
    assert!(client.write(b"ok\x0cthis-is-too-long\x0c").unwrap());
    let mut seen = None;
    pump_until(|| {
        let r = server.read(4096).unwrap();
        if r.error.is_some() {
            seen = Some((r.frames, r.error.clone().unwrap().code()));
        }
        server.consume(&r);
        seen.is_some()
    });
    assert_eq!(seen, Some((1, "ERR_IPC_FRAME_TOO_LARGE")));
}

fn tls_pair(server_opts: TlsOptions, client_opts: TlsOptions, name: &str) -> (Connection, Connection, Listener) {
    let l = Listener::bind(&Endpoint::Tcp("127.0.0.1:0".parse().unwrap()), &ListenOptions::default()).unwrap();
    let (sock, _) = net::connect(&Endpoint::Tcp(l.local_addr().unwrap())).unwrap();
    let ccfg = tls::client_config(&client_opts).unwrap();
    let scfg = tls::server_config(&server_opts).unwrap();
    let client = Connection::new(sock, Some(FrameDecoder::new(b"\x0c", None)))
        .with_tls(rustls::ClientConnection::new(ccfg, tls::server_name(name).unwrap()).unwrap().into());
    let server = Connection::new(accept(&l), Some(FrameDecoder::new(b"\x0c", None)))
        .with_tls(rustls::ServerConnection::new(scfg).unwrap().into());
    (client, server, l)
}

/// Drives both ends until neither handshakes any more (or one fails); returns the failures.
fn handshake(a: &mut Connection, b: &mut Connection) -> (Option<String>, Option<String>) {
    let mut errs = (None, None);
    let end = Instant::now() + Duration::from_secs(2);
    while (a.is_handshaking() || b.is_handshaking()) && errs.0.is_none() && errs.1.is_none() {
        assert!(Instant::now() < end, "handshake stuck");
        let _ = a.flush();
        let _ = b.flush();
        match a.read(65536) {
            Ok(r) => a.consume(&r),
            Err(e) => errs.0 = net::tls_error(&e).map(tls::error_code),
        }
        match b.read(65536) {
            Ok(r) => b.consume(&r),
            Err(e) => errs.1 = net::tls_error(&e).map(tls::error_code),
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    errs
}

fn server_tls() -> TlsOptions {
    TlsOptions {
        cert: Some(fixture("server.pem")),
        key: Some(fixture("server.key")),
        reject_unauthorized: true,
        ..Default::default()
    }
}

#[test]
fn tls_round_trip_with_verification() {
    let client_opts = TlsOptions { ca: vec![fixture("ca.pem")], reject_unauthorized: true, ..Default::default() };
    let (mut c, mut s, _l) = tls_pair(server_tls(), client_opts, "localhost");
    assert_eq!(handshake(&mut c, &mut s), (None, None));
    c.write(b"{\"type\":\"secret\",\"data\":1}\x0c").unwrap();
    assert_eq!(frames(&mut s, 1), vec![b"{\"type\":\"secret\",\"data\":1}".to_vec()]);
    s.write(b"{\"type\":\"back\"}\x0c").unwrap();
    assert_eq!(frames(&mut c, 1), vec![b"{\"type\":\"back\"}".to_vec()]);
}

#[test]
fn tls_refuses_an_untrusted_server_and_a_wrong_name() {
    let rogue = TlsOptions { cert: Some(fixture("rogue.pem")), key: Some(fixture("rogue.key")), ..Default::default() };
    let trusting_ca = TlsOptions { ca: vec![fixture("ca.pem")], reject_unauthorized: true, ..Default::default() };
    let (mut c, mut s, _l) = tls_pair(rogue, trusting_ca.clone(), "localhost");
    assert_eq!(handshake(&mut c, &mut s).0.as_deref(), Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE"));
    let (mut c, mut s, _l) = tls_pair(server_tls(), trusting_ca, "other.example");
    assert_eq!(handshake(&mut c, &mut s).0.as_deref(), Some("ERR_TLS_CERT_ALTNAME_INVALID"));
}

#[test]
fn mutual_tls_requires_a_client_certificate() {
    let mtls = TlsOptions { ca: vec![fixture("ca.pem")], request_cert: true, ..server_tls() };
    let bare = TlsOptions { ca: vec![fixture("ca.pem")], reject_unauthorized: true, ..Default::default() };
    let (mut c, mut s, _l) = tls_pair(mtls.clone(), bare.clone(), "localhost");
    assert_eq!(handshake(&mut c, &mut s).1.as_deref(), Some("ERR_TLS_PEER_CERTIFICATE_REQUIRED"));
    let with_cert = TlsOptions { cert: Some(fixture("client.pem")), key: Some(fixture("client.key")), ..bare };
    let (mut c, mut s, _l) = tls_pair(mtls, with_cert, "localhost");
    assert_eq!(handshake(&mut c, &mut s), (None, None));
}

/// Node's `requestCert` with `rejectUnauthorized: false`: a certificate is asked for and any is
/// taken (one from an unknown CA), or none; no CA is needed.
#[test]
fn request_cert_without_verification_takes_any_client_certificate() {
    let lax = TlsOptions { request_cert: true, reject_unauthorized: false, ..server_tls() };
    let bare = TlsOptions { ca: vec![fixture("ca.pem")], reject_unauthorized: true, ..Default::default() };
    let rogue = TlsOptions { cert: Some(fixture("rogue.pem")), key: Some(fixture("rogue.key")), ..bare.clone() };
    let (mut c, mut s, _l) = tls_pair(lax.clone(), rogue, "localhost");
    assert_eq!(handshake(&mut c, &mut s), (None, None));
    let (mut c, mut s, _l) = tls_pair(lax, bare, "localhost");
    assert_eq!(handshake(&mut c, &mut s), (None, None));
}

#[test]
fn tls_server_without_key_is_a_configuration_error() {
    let e = tls::server_config(&TlsOptions::default()).unwrap_err();
    assert_eq!(e.code(), "ERR_IPC_TLS_CONFIGURATION");
}

#[test]
fn udp_datagrams_round_trip() {
    let a = Datagram::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let b = Datagram::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    a.send_to(b"{\"type\":\"x\"}\x0c", b.local_addr().unwrap()).unwrap();
    let mut buf = vec![0; net::MAX_DATAGRAM];
    let mut got = None;
    pump_until(|| {
        got = b.recv_from(&mut buf).unwrap();
        got.is_some()
    });
    let (n, from) = got.unwrap();
    assert_eq!(&buf[..n], b"{\"type\":\"x\"}\x0c");
    assert_eq!(from, a.local_addr().unwrap());
}
