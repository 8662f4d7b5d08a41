//! node-ipc 14's profiles in the async Rust API: the same rules as the Node shim (receive and send
//! checks, the remainder timeout, assured transports, the secure socket root), with raw
//! `UnixStream` peers that write exact bytes. Every test is bounded in time.
//!
//! Unix only (the peers are Unix sockets, the socket root has Unix permissions): the rules are
//! the same on every platform and are checked here; Windows runs the rest of the suite.
#![cfg(unix)]

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use node_ipc_rs::ipc::{Client, ClientEvent, Config, Error, Server, ServerEvent, TlsConfig, UdpServer};
use node_ipc_rs::Profile;
use serde_json::json;

mod common;
use common::*;

fn scratch(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("nirs-prof-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    d
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cfg(profile: Profile) -> Config {
    Config {
        retry: Duration::from_millis(20),
        allowed_events: Some(vec!["ok".into(), "ping".into()]),
        ..Config::default()
    }
    .with_profile(profile)
}

fn code(e: &Error) -> String {
    e.code().unwrap_or("?").to_string()
}

fn skind(e: &ServerEvent) -> String {
    match e {
        ServerEvent::Connect(_) => "connect".into(),
        ServerEvent::Disconnect { .. } => "disconnect".into(),
        ServerEvent::Error { error, .. } => format!("error:{}", code(error)),
        ServerEvent::Message { message, .. } => format!("message:{}", message.ty()),
        _ => "other".into(),
    }
}

fn ckind(e: &ClientEvent) -> String {
    match e {
        ClientEvent::Connect => "connect".into(),
        ClientEvent::Disconnect => "disconnect".into(),
        ClientEvent::Destroy => "destroy".into(),
        ClientEvent::Error(e) => format!("error:{}", code(e)),
        ClientEvent::Message(m) => format!("message:{}", m.ty()),
        _ => "other".into(),
    }
}

/// Server events until `n` disconnects were seen.
async fn server_until_disconnects(s: &mut Server, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.iter().filter(|k: &&String| k.as_str() == "disconnect").count() < n {
        let ev = bounded("server event", s.recv()).await.expect("server stream ended");
        out.push(skind(&ev));
    }
    out
}

async fn client_until_destroy(c: &mut Client) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let ev = bounded("client event", c.recv()).await.expect("client stream ended");
        let k = ckind(&ev);
        out.push(k.clone());
        if k == "destroy" {
            return out;
        }
    }
}

/// A guarded server at `dir/app.srv` (a secure root) and a raw peer.
async fn server_and_peer(profile: Profile, dir: &Dir, tweak: impl FnOnce(&mut Config)) -> (Server, UnixStream) {
    let mut config = Config { socket_root: format!("{}/", dir.0.display()), ..cfg(profile) };
    tweak(&mut config);
    let path = dir.0.join("app.srv");
    let mut server = Server::serve_path(&path, &config).await.unwrap();
    let peer = UnixStream::connect(&path).unwrap();
    assert_eq!(skind(&bounded("connect", server.recv()).await.unwrap()), "connect");
    (server, peer)
}

#[tokio::test]
async fn receive_violations_close_the_connection_under_fast_guarded_assured() {
    let cases: &[(Profile, &[u8], &[&str])] = &[
        (
            Profile::Fast,
            b"{\"type\":\"ok\",\"data\":1}\x0c{bad\x0c{\"type\":\"ok\"}\x0c",
            &["message:ok", "error:ERR_IPC_INVALID_JSON"],
        ),
        (Profile::Fast, b"null\x0c", &["error:ERR_IPC_INVALID_MESSAGE"]),
        (Profile::Fast, b"{\"type\":\"connect\"}\x0c", &["message:connect"]),
        (Profile::Guarded, b"{\"type\":\"connect\"}\x0c", &["error:ERR_IPC_RESERVED_EVENT"]),
        (Profile::Guarded, b"{\"type\":\"toString\"}\x0c", &["error:ERR_IPC_INVALID_EVENT"]),
        (
            Profile::Assured,
            b"{\"type\":\"ok\"}\x0c{\"type\":\"nope\"}\x0c",
            &["message:ok", "error:ERR_IPC_EVENT_NOT_ALLOWED"],
        ),
    ];
    for (profile, bytes, want) in cases {
        let dir = Dir(scratch("recv"));
        let (mut server, mut peer) = server_and_peer(*profile, &dir, |_| {}).await;
        peer.write_all(bytes).unwrap();
        let closes = want.iter().any(|w| w.starts_with("error"));
        if closes {
            let mut got = server_until_disconnects(&mut server, 1).await;
            assert_eq!(got.pop().as_deref(), Some("disconnect"), "{profile} {bytes:?}");
            assert_eq!(got, *want, "{profile} {bytes:?}");
            // The peer sees the close.
            let mut rest = Vec::new();
            peer.set_read_timeout(Some(LIMIT)).unwrap();
            assert_eq!(peer.read_to_end(&mut rest).unwrap_or(0), 0);
        } else {
            for w in *want {
                assert_eq!(skind(&bounded("msg", server.recv()).await.unwrap()), *w);
            }
            assert_eq!(server.connection_count(), 1);
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn default_profile_keeps_the_connection_on_a_bad_frame() {
    let dir = Dir(scratch("default"));
    let (mut server, mut peer) = server_and_peer(Profile::Default, &dir, |_| {}).await;
    peer.write_all(b"{bad\x0c{\"type\":\"ok\",\"data\":{\"id\":\"p1\"}}\x0c").unwrap();
    assert_eq!(skind(&bounded("e", server.recv()).await.unwrap()), "error:ERR_IPC_INVALID_JSON");
    match bounded("m", server.recv()).await.unwrap() {
        ServerEvent::Message { peer, .. } => assert_eq!(peer.id().as_deref(), Some("p1"), "9/12 learn the id"),
        other => panic!("{other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn identify_peer_is_off_under_14_profiles_unless_asked() {
    for (identify, want) in [(None, None), (Some(true), Some("p1"))] {
        let dir = Dir(scratch("ident"));
        let (mut server, mut peer) = server_and_peer(Profile::Guarded, &dir, |c| c.identify_peer = identify).await;
        peer.write_all(b"{\"type\":\"ok\",\"data\":{\"id\":\"p1\"}}\x0c").unwrap();
        match bounded("m", server.recv()).await.unwrap() {
            ServerEvent::Message { peer, .. } => assert_eq!(peer.id().as_deref(), want),
            other => panic!("{other:?}"),
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn client_violation_ends_the_client_without_reconnecting() {
    let dir = Dir(scratch("client"));
    let path = dir.0.join("raw.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let accepts = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepts.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = s.write_all(b"{\"type\":\"ok\",\"data\":1}\x0c{\"type\":\"error\"}\x0c");
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let mut client = Client::connect_path(&path, &cfg(Profile::Guarded));
    let events = client_until_destroy(&mut client).await;
    assert_eq!(events, ["connect", "message:ok", "error:ERR_IPC_RESERVED_EVENT", "disconnect", "destroy"]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(accepts.load(Ordering::SeqCst), 1, "no reconnect");
}

#[tokio::test]
async fn send_side_refuses_without_closing() {
    let dir = Dir(scratch("send"));
    let config = Config { socket_root: format!("{}/", dir.0.display()), max_frame: Some(64), ..cfg(Profile::Assured) };
    let mut server = Server::serve_path(dir.0.join("app.srv"), &config).await.unwrap();
    let mut client = Client::connect_path(dir.0.join("app.srv"), &config);
    assert_eq!(ckind(&bounded("c", client.recv()).await.unwrap()), "connect");
    let err = |r: Result<(), Error>| code(&r.unwrap_err());
    assert_eq!(err(client.emit("nope", &1)), "ERR_IPC_EVENT_NOT_ALLOWED");
    assert_eq!(err(client.emit("connect", &1)), "ERR_IPC_RESERVED_EVENT");
    assert_eq!(err(client.emit("", &1)), "ERR_IPC_INVALID_EVENT");
    // {"type":"ok","data":"…"}: 23 bytes + the string; 41 bytes fill 64 exactly.
    assert_eq!(err(client.emit("ok", &"x".repeat(42))), "ERR_IPC_FRAME_TOO_LARGE");
    client.emit("ok", &"x".repeat(41)).unwrap();
    assert_eq!(skind(&bounded("connect", server.recv()).await.unwrap()), "connect");
    match bounded("m", server.recv()).await.unwrap() {
        ServerEvent::Message { message, .. } => assert_eq!(message.data, json!("x".repeat(41))),
        other => panic!("{other:?}"),
    }
    assert_eq!(err(server.broadcast("error", &1)), "ERR_IPC_RESERVED_EVENT");
    server.broadcast("ok", &2).unwrap();
    match bounded("m", client.recv()).await.unwrap() {
        ClientEvent::Message(m) => assert_eq!(m.data, json!(2)),
        other => panic!("{other:?}"),
    }
    client.disconnect();
    server.shutdown().await;
}

#[tokio::test]
async fn message_timeout_is_not_restarted_by_progress() {
    let dir = Dir(scratch("timeout"));
    let (mut server, mut peer) =
        server_and_peer(Profile::Guarded, &dir, |c| c.message_timeout = Some(Duration::from_millis(200))).await;
    let t0 = Instant::now();
    peer.write_all(b"{\"type\":\"ok\",").unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..60 {
            std::thread::sleep(Duration::from_millis(40));
            if peer.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let got = server_until_disconnects(&mut server, 1).await;
    assert_eq!(got, ["error:ERR_IPC_MESSAGE_TIMEOUT", "disconnect"]);
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(190) && waited < Duration::from_secs(2), "{waited:?}");
    writer.join().unwrap();
    // A remainder completed in time: no timeout.
    let (mut server2, mut peer2) =
        server_and_peer(Profile::Guarded, &dir, |c| c.message_timeout = Some(Duration::from_millis(150))).await;
    for i in 0..6 {
        peer2.write_all(b"{\"type\":\"ok\",").unwrap();
        // (an async sleep: the server task reads the first half meanwhile, starting the clock)
        tokio::time::sleep(Duration::from_millis(60)).await;
        peer2.write_all(format!("\"data\":{i}}}\x0c").as_bytes()).unwrap();
        assert_eq!(skind(&bounded("m", server2.recv()).await.unwrap()), "message:ok");
    }
    server.shutdown().await;
    server2.shutdown().await;
}

#[tokio::test]
async fn settings_are_validated() {
    let no_list = Config { allowed_events: None, ..cfg(Profile::Assured) };
    let e = Server::serve_net("127.0.0.1", 0, &no_list).await.unwrap_err();
    assert_eq!(code(&e), "ERR_INVALID_ARG_VALUE");
    let zero = Config { max_frame: Some(0), ..cfg(Profile::Guarded) };
    assert_eq!(code(&Server::serve_net("127.0.0.1", 0, &zero).await.unwrap_err()), "ERR_INVALID_ARG_VALUE");
    let mut c = Client::connect_net("127.0.0.1", 1, &no_list);
    assert_eq!(client_until_destroy(&mut c).await, ["error:ERR_INVALID_ARG_VALUE", "destroy"]);
}

fn fixtures(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/__test__/fixtures")).join(name)
}

fn server_tls() -> TlsConfig {
    TlsConfig {
        private: Some(fixtures("server.key")),
        public: Some(fixtures("server.pem")),
        trusted_connections: vec![fixtures("ca.pem")],
        request_cert: true,
        ..TlsConfig::default()
    }
}

fn client_tls() -> TlsConfig {
    TlsConfig {
        private: Some(fixtures("client.key")),
        public: Some(fixtures("client.pem")),
        trusted_connections: vec![fixtures("ca.pem")],
        ..TlsConfig::default()
    }
}

#[tokio::test]
async fn assured_transports() {
    let assured = cfg(Profile::Assured);
    // TCP without TLS, UDP: refused.
    assert_eq!(code(&Server::serve_net("127.0.0.1", 0, &assured).await.unwrap_err()), "ERR_IPC_ASSURED_TRANSPORT");
    let udp = UdpServer::bind("127.0.0.1:0".parse().unwrap(), &assured).await.unwrap_err();
    assert_eq!(code(&udp), "ERR_IPC_ASSURED_TRANSPORT");
    let mut c = Client::connect_net("127.0.0.1", 1, &assured);
    assert_eq!(client_until_destroy(&mut c).await, ["error:ERR_IPC_ASSURED_TRANSPORT", "destroy"]);
    // TLS that does not verify client certificates, or a client without one: refused.
    let lax = Config { tls: Some(TlsConfig { request_cert: false, ..server_tls() }), ..assured.clone() };
    assert_eq!(code(&Server::serve_net("127.0.0.1", 0, &lax).await.unwrap_err()), "ERR_IPC_ASSURED_TLS");
    let anon = Config { tls: Some(TlsConfig { private: None, public: None, ..client_tls() }), ..assured.clone() };
    let mut c = Client::connect_net("127.0.0.1", 1, &anon);
    assert_eq!(client_until_destroy(&mut c).await, ["error:ERR_IPC_ASSURED_TLS", "destroy"]);
    // Mutual TLS: works, allow-list enforced both ways.
    let srv_cfg = Config { tls: Some(server_tls()), ..assured.clone() };
    let mut server = Server::serve_net("127.0.0.1", 0, &srv_cfg).await.unwrap();
    let port = server.local_addr().unwrap().port();
    let mut client = Client::connect_net("localhost", port, &Config { tls: Some(client_tls()), ..assured.clone() });
    assert_eq!(ckind(&bounded("c", client.recv()).await.unwrap()), "connect");
    client.emit("ping", &"hi").unwrap();
    assert!(client.emit("other", &1).is_err());
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        kinds.push(skind(&bounded("s", server.recv()).await.unwrap()));
    }
    assert_eq!(kinds, ["connect", "message:ping"]);
    client.disconnect();
    server.shutdown().await;
}

#[tokio::test]
async fn assured_local_sockets_and_the_secure_root() {
    // Directly inside a secure root: fine; a missing root is created owner-only.
    let dir = Dir(scratch("root"));
    let root = dir.0.join("made");
    let assured = Config { socket_root: format!("{}/", root.display()), ..cfg(Profile::Assured) };
    let server = Server::serve_path(root.join("app.x"), &assured).await.unwrap();
    assert_eq!(std::fs::metadata(&root).unwrap().permissions().mode() & 0o777, 0o700);
    server.shutdown().await;
    // Not directly inside: refused.
    let e = Server::serve_path(root.join("sub").join("app.x"), &assured).await.unwrap_err();
    assert_eq!(code(&e), "ERR_IPC_ASSURED_TRANSPORT");
    // An open root is refused and left as it is (never chmod'ed).
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = Server::serve_path(root.join("app.x"), &assured).await.unwrap_err();
    assert_eq!(code(&e), "ERR_IPC_SOCKET_ROOT");
    assert_eq!(std::fs::metadata(&root).unwrap().permissions().mode() & 0o777, 0o777);
    // Under guarded without secure_socket_root the open root is accepted; with it, refused.
    let guarded = Config { socket_root: format!("{}/", root.display()), ..cfg(Profile::Guarded) };
    Server::serve_path(root.join("app.g"), &guarded).await.unwrap().shutdown().await;
    let secure = Config { secure_socket_root: Some(true), ..guarded.clone() };
    assert_eq!(code(&Server::serve_path(root.join("app.g"), &secure).await.unwrap_err()), "ERR_IPC_SOCKET_ROOT");
    // unlink refuses a regular file under 14's profiles.
    std::fs::write(root.join("file"), b"keep").unwrap();
    let e = Server::serve_path(root.join("file"), &guarded).await.unwrap_err();
    assert_eq!(code(&e), "ERR_IPC_UNLINK_NOT_SOCKET");
    assert_eq!(std::fs::read(root.join("file")).unwrap(), b"keep");
    // The default '/tmp/' root under assured means node-ipc 14's per-user root.
    let c = cfg(Profile::Assured);
    assert_eq!(c.socket_path("w"), format!("{}app.w", node_ipc_rs::socket_root::v14_default()));
    assert_eq!(cfg(Profile::Guarded).socket_path("w"), "/tmp/app.w");
}

/// A FIFO that hands `contents` to its first reader only: it counts the readers it served, and a
/// second reader (one that would block for ever on an unused FIFO) is let through with nothing
/// after a grace period, so code that reads the file twice fails the test instead of hanging it.
struct OneReadFile {
    path: PathBuf,
    served: std::sync::Arc<AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OneReadFile {
    fn new(dir: &Dir, name: &str, contents: Vec<u8>) -> OneReadFile {
        use std::os::unix::fs::OpenOptionsExt;
        let path = dir.0.join(name);
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string; mkfifo has no other preconditions.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        let served = std::sync::Arc::new(AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (p, n, s) = (path.clone(), served.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut last = None::<Instant>;
            while !s.load(Ordering::SeqCst) {
                // After the first reader, wait before answering another: the first may still be
                // reading (a writer can open while it holds the FIFO).
                if last.is_some_and(|t| t.elapsed() < Duration::from_secs(3)) {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                // Opens only while a reader waits (ENXIO otherwise).
                let w = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&p);
                let Ok(mut w) = w else {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                };
                if n.fetch_add(1, Ordering::SeqCst) == 0 {
                    w.write_all(&contents).unwrap(); // a PEM file fits in the pipe's buffer
                }
                last = Some(Instant::now());
            }
        });
        OneReadFile { path, served, stop, thread: Some(thread) }
    }

    /// Stops serving; how many readers opened the file.
    fn reads(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap();
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for OneReadFile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

#[tokio::test]
async fn assured_tls_files_are_read_once() {
    let dir = Dir(scratch("tls-once"));
    let key = OneReadFile::new(&dir, "server.key", std::fs::read(fixtures("server.key")).unwrap());
    let srv_tls = TlsConfig { private: Some(key.path.clone()), ..server_tls() };
    let mut server =
        Server::serve_net("127.0.0.1", 0, &Config { tls: Some(srv_tls), ..cfg(Profile::Assured) }).await.unwrap();
    assert_eq!(key.reads(), 1, "the server reads its key file once");

    let key = OneReadFile::new(&dir, "client.key", std::fs::read(fixtures("client.key")).unwrap());
    let cli_tls = TlsConfig { private: Some(key.path.clone()), ..client_tls() };
    let port = server.local_addr().unwrap().port();
    let mut client = Client::connect_net("localhost", port, &Config { tls: Some(cli_tls), ..cfg(Profile::Assured) });
    assert_eq!(key.reads(), 1, "the client reads its key file once");
    // The key read once is the one in use: mutual TLS works.
    assert_eq!(ckind(&bounded("c", client.recv()).await.unwrap()), "connect");
    assert_eq!(skind(&bounded("s", server.recv()).await.unwrap()), "connect");
    client.disconnect();
    server.shutdown().await;
}

/// UDP frames go through the stream rules: under fast and guarded a violation drops the rest of
/// its datagram (node-ipc 14 resets that peer's buffer), under the default profile every frame
/// and the datagram's own error (an unfinished or oversize frame) are reported.
#[tokio::test]
async fn udp_violation_drops_the_rest_of_its_datagram_under_closing_profiles() {
    let big = format!("\"{}\"", "x".repeat(200));
    let datagrams = [
        "{\"type\":\"ok\",\"data\":1}\x0c{bad\x0c{\"type\":\"ok\",\"data\":2}\x0c{\"type\":\"ok\"".to_string(),
        "{\"type\":\"ok\",\"data\":3}\x0c{\"type\":\"ok\"".to_string(),
        format!("{{\"type\":\"ok\",\"data\":4}}\x0c{big}\x0c{{\"type\":\"ok\",\"data\":5}}\x0c"),
        format!("{{bad\x0c{big}\x0c"),
        "{\"type\":\"ping\",\"data\":0}\x0c".to_string(),
    ];
    // fast and guarded: nothing after the violation in datagrams 1 and 4
    let closing = &[
        "ok:1",
        "error:ERR_IPC_INVALID_JSON",
        "ok:3",
        "error:ERR_IPC_INCOMPLETE_FRAME",
        "ok:4",
        "error:ERR_IPC_FRAME_TOO_LARGE",
        "error:ERR_IPC_INVALID_JSON",
    ][..];
    for (profile, expected) in [
        (
            Profile::Default,
            &[
                "ok:1",
                "error:ERR_IPC_INVALID_JSON",
                "ok:2",
                "error:ERR_IPC_INCOMPLETE_FRAME",
                "ok:3",
                "error:ERR_IPC_INCOMPLETE_FRAME",
                "ok:4",
                "error:ERR_IPC_FRAME_TOO_LARGE",
                "error:ERR_IPC_INVALID_JSON",
                "error:ERR_IPC_FRAME_TOO_LARGE",
            ][..],
        ),
        (Profile::Fast, closing),
        (Profile::Guarded, closing),
    ] {
        let config = Config { max_frame: Some(100), ..cfg(profile) };
        let mut srv = UdpServer::bind("127.0.0.1:0".parse().unwrap(), &config).await.unwrap();
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let me = peer.local_addr().unwrap();
        for d in &datagrams {
            peer.send_to(d.as_bytes(), srv.local_addr()).unwrap();
        }
        let mut seen = Vec::new();
        loop {
            match uev(&mut srv).await {
                node_ipc_rs::ipc::UdpEvent::Message { message, from } => {
                    assert_eq!(from, me);
                    if message.ty() == "ping" {
                        break;
                    }
                    seen.push(format!("{}:{}", message.ty(), message.data));
                }
                node_ipc_rs::ipc::UdpEvent::Error { error, from } => {
                    assert_eq!(from, Some(me));
                    let text = error.to_string();
                    if code(&error) == "ERR_IPC_INCOMPLETE_FRAME" {
                        assert!(
                            text.contains(&format!("datagram from {me} ends with 12 bytes of an unfinished frame")),
                            "{text}"
                        );
                    }
                    if code(&error) == "ERR_IPC_FRAME_TOO_LARGE" {
                        assert!(
                            text.contains(&format!("datagram from {me}: frame of 202 bytes exceeds the limit")),
                            "{text}"
                        );
                    }
                    seen.push(format!("error:{}", code(&error)));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(seen, expected, "{profile:?}");
    }
}
