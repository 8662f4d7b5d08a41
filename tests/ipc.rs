//! End-to-end tests of the async API on temporary Unix sockets and TCP port 0. Every test is
//! bounded in time.

use std::time::Duration;

use node_ipc_rs::ipc::{Client, ClientEvent, Config, Error, ErrorCode, Server, ServerEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod common;
use common::*;

fn cfg() -> Config {
    Config { retry: Duration::from_millis(20), ..Config::default() }
}

/// The next server message, skipping nothing: anything else fails the test.
async fn smsg(s: &mut Server) -> (node_ipc_rs::Message, node_ipc_rs::ipc::Peer) {
    match sev(s).await {
        ServerEvent::Message { message, peer } => (message, peer),
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn cmsg(c: &mut Client) -> node_ipc_rs::Message {
    match cev(c).await {
        ClientEvent::Message(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn kind(e: &ClientEvent) -> String {
    match e {
        ClientEvent::Connect => "connect".into(),
        ClientEvent::Disconnect => "disconnect".into(),
        ClientEvent::Destroy => "destroy".into(),
        ClientEvent::Error(e) => format!("error:{}", e.code().unwrap_or("?")),
        ClientEvent::Message(m) => format!("message:{}", m.ty()),
        ClientEvent::Data(_) => "data".into(),
        _ => "?".into(),
    }
}

#[tokio::test]
async fn unix_basic_example_and_lifecycle() {
    let sock = TmpSock::new("basic");
    let config = cfg();
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    assert!(sock.0.exists());
    let mut client = Client::connect_path(&sock.0, &config);
    assert_eq!(kind(&cev(&mut client).await), "connect");
    let ServerEvent::Connect(peer) = sev(&mut server).await else { panic!("connect first") };
    assert_eq!(peer.id(), None);

    client.emit("app.message", &json!({"id": "hello", "message": "hello"})).unwrap();
    let (m, from) = smsg(&mut server).await;
    assert_eq!(from, peer);
    assert_eq!(m.ty(), "app.message");
    assert_eq!(peer.id().as_deref(), Some("hello"), "id learnt from data.id");
    assert_eq!(server.peer("hello"), Some(peer.clone()));
    let text = m.data["message"].as_str().unwrap().to_string();
    peer.emit("app.message", &json!({"id": "world", "message": text + " world!"})).unwrap();
    let reply = cmsg(&mut client).await;
    assert_eq!(reply.data, json!({"id": "world", "message": "hello world!"}));

    // Later messages with another id overwrite it; non-string ids are ignored.
    client.emit("x", &json!({"id": "renamed"})).unwrap();
    client.emit("x", &json!({"id": 5})).unwrap();
    smsg(&mut server).await;
    smsg(&mut server).await;
    assert_eq!(peer.id().as_deref(), Some("renamed"));

    client.disconnect();
    let rest: Vec<String> = vec![kind(&cev(&mut client).await), kind(&cev(&mut client).await)];
    assert_eq!(rest, ["disconnect", "destroy"]);
    assert!(bounded("client end", client.recv()).await.is_none());
    assert!(matches!(client.emit("x", &1), Err(Error::Closed)));
    match sev(&mut server).await {
        ServerEvent::Disconnect { peer: p, id } => {
            assert_eq!(p, peer);
            assert_eq!(id.as_deref(), Some("renamed"));
        }
        other => panic!("expected disconnect, got {other:?}"),
    }
    assert!(peer.emit("x", &1).is_err());
    assert_eq!(server.connection_count(), 0);
    server.shutdown().await;
    assert!(bounded("server end", server.recv()).await.is_none());
    assert!(!sock.0.exists(), "socket file removed on shutdown");
}

#[tokio::test]
async fn default_path_from_socket_root_appspace_id() {
    let dir = std::env::temp_dir();
    let config = Config {
        socket_root: format!("{}/", dir.display()),
        appspace: format!("nirs-rt-{}.", std::process::id()),
        id: "world".into(),
        ..cfg()
    };
    let expected = dir.join(format!("nirs-rt-{}.world", std::process::id()));
    let _cleanup = TmpSock(expected.clone());
    let mut server = Server::serve(&config).await.unwrap();
    assert_eq!(server.path(), Some(expected.as_path()));
    let mut client = Client::connect_to("world", &config);
    assert!(bounded("connect", client.connected()).await);
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    drop(client);
    assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_broadcast_reaches_every_client() {
    let config = cfg();
    let mut server = Server::serve_net("127.0.0.1", 0, &config).await.unwrap();
    let addr = server.local_addr().unwrap();
    assert_ne!(addr.port(), 0);
    let mut clients: Vec<Client> = (0..3).map(|_| Client::connect_addr(addr, &config)).collect();
    for c in clients.iter_mut() {
        assert!(bounded("connect", c.connected()).await);
    }
    for _ in 0..3 {
        let ServerEvent::Connect(p) = sev(&mut server).await else { panic!() };
        assert!(p.remote_addr().is_some());
    }
    server.broadcast("news", &json!({"n": 1.0, "big": 1e21})).unwrap();
    for c in clients.iter_mut() {
        let m = cmsg(c).await;
        assert_eq!(m.ty(), "news");
        assert_eq!(m.data, json!({"n": 1, "big": 1e21}));
    }
    // Hostname resolution path.
    let mut by_name = Client::connect_net("localhost", addr.port(), &config);
    assert!(bounded("connect by name", by_name.connected()).await);
    drop(by_name);
    drop(clients);
    server.shutdown().await;
}

#[tokio::test]
async fn typed_payloads_both_ways() {
    #[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
    struct Reading {
        id: String,
        celsius: f64,
        tags: Vec<String>,
        at: u64,
    }
    let sock = TmpSock::new("typed");
    let config = cfg();
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &config);
    let r = Reading { id: "sensor".into(), celsius: 21.0, tags: vec!["a".into()], at: 1_700_000_000_000 };
    client.emit("reading", &r).unwrap();
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    let (m, peer) = smsg(&mut server).await;
    assert_eq!(m.data_as::<Reading>().unwrap(), r);
    assert_eq!(peer.id().as_deref(), Some("sensor"));
    peer.emit("reading", &r).unwrap();
    while !matches!(cev(&mut client).await, ClientEvent::Connect) {}
    let back: Reading = cmsg(&mut client).await.into_data().unwrap();
    assert_eq!(back, r);
    drop(client);
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_frames_are_errors_and_the_connection_survives() {
    let sock = TmpSock::new("bad");
    let config = cfg();
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &config);
    client
        .send_raw(b"{bad\x0c\x0c[1]\x0c{\"type\":5}\x0c{\"type\":\"constructor\"}\x0c{\"type\":\"ok\",\"data\":7}\x0c")
        .unwrap();
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    let mut codes = Vec::new();
    for _ in 0..5 {
        match sev(&mut server).await {
            ServerEvent::Error { error, peer } => {
                assert!(peer.is_some());
                codes.push(error.error_code().unwrap());
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
    assert_eq!(
        codes,
        [
            ErrorCode::InvalidJson,
            ErrorCode::InvalidJson,
            ErrorCode::InvalidMessage,
            ErrorCode::InvalidEvent,
            ErrorCode::InvalidEvent
        ]
    );
    let (m, peer) = smsg(&mut server).await;
    assert_eq!((m.ty(), m.data.clone()), ("ok", json!(7)));

    // Same on the client side; then the client closes mid-frame.
    peer.send_raw(b"nul\x0c{\"type\":\"fine\"}\x0c").unwrap();
    assert!(matches!(cev(&mut client).await, ClientEvent::Connect));
    match cev(&mut client).await {
        ClientEvent::Error(e) => assert_eq!(e.code(), Some("ERR_IPC_INVALID_JSON")),
        other => panic!("{other:?}"),
    }
    let m = cmsg(&mut client).await;
    assert_eq!((m.ty(), &m.data), ("fine", &Value::Null));
    client.send_raw(b"{\"type\":\"unfinished\"").unwrap();
    client.disconnect();
    match sev(&mut server).await {
        ServerEvent::Error { error, .. } => assert_eq!(error.error_code(), Some(ErrorCode::IncompleteFrame)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));
    server.shutdown().await;
}

#[tokio::test]
async fn oversize_frame_drops_the_connection() {
    let sock = TmpSock::new("big");
    let config = Config { max_frame: Some(64), max_retries: Some(0), ..cfg() };
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &Config { max_retries: Some(0), ..cfg() });
    client.emit("small", &"x".repeat(10)).unwrap();
    client.emit("big", &"x".repeat(100)).unwrap();
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    assert_eq!(smsg(&mut server).await.0.ty(), "small");
    match sev(&mut server).await {
        ServerEvent::Error { error, .. } => assert_eq!(error.code(), Some("ERR_IPC_FRAME_TOO_LARGE")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));
    let seen: Vec<String> =
        vec![kind(&cev(&mut client).await), kind(&cev(&mut client).await), kind(&cev(&mut client).await)];
    assert_eq!(seen, ["connect", "disconnect", "destroy"]);

    // An endless frame (no delimiter at all) is bounded too.
    let mut client = Client::connect_path(&sock.0, &Config { max_retries: Some(0), ..cfg() });
    client.send_raw(&[b'y'; 1000]).unwrap();
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    match sev(&mut server).await {
        ServerEvent::Error { error, .. } => assert_eq!(error.error_code(), Some(ErrorCode::FrameTooLarge)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));
    assert!(bounded("connect", client.connected()).await);
    server.shutdown().await;
}

#[tokio::test]
async fn max_connections_accepts_and_closes_the_excess() {
    let sock = TmpSock::new("max");
    let config = Config { max_connections: 1, ..cfg() };
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    let mut first = Client::connect_path(&sock.0, &config);
    assert!(bounded("first", first.connected()).await);
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    // The second one connects, is dropped, retries (retries reset on each connect), forever.
    let mut second = Client::connect_path(&sock.0, &Config { max_retries: Some(1), ..config.clone() });
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(kind(&cev(&mut second).await));
    }
    assert_eq!(seen, ["connect", "disconnect", "connect", "disconnect", "connect", "disconnect"]);
    assert!(server.try_recv().is_none(), "the server reports nothing for rejected connections");
    assert_eq!(server.connection_count(), 1);
    second.set_stop_retrying(true);
    drop(second);
    drop(first);
    assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn retries_then_destroy_with_node_ipc_timing() {
    let sock = TmpSock::new("absent");
    let config = Config { retry: Duration::from_millis(100), max_retries: Some(2), ..Config::default() };
    let t0 = tokio::time::Instant::now();
    let mut client = Client::connect_path(&sock.0, &config);
    let mut seen = Vec::new();
    while let Some(ev) = bounded("retry cycle", client.recv()).await {
        seen.push(format!("{}@{}", kind(&ev), t0.elapsed().as_millis() / 100 * 100));
    }
    assert_eq!(
        seen,
        [
            "error:ENOENT@0",
            "disconnect@0",
            "error:ENOENT@100",
            "disconnect@100",
            "error:ENOENT@200",
            "disconnect@200",
            "destroy@200"
        ]
    );
    assert!(client.is_destroyed());

    // maxRetries 0 and stopRetrying give up at once.
    for config in
        [Config { max_retries: Some(0), ..Config::default() }, Config { stop_retrying: true, ..Config::default() }]
    {
        let mut c = Client::connect_path(&sock.0, &config);
        let mut seen = Vec::new();
        while let Some(ev) = bounded("give up", c.recv()).await {
            seen.push(kind(&ev));
        }
        assert_eq!(seen, ["error:ENOENT", "disconnect", "destroy"]);
    }

    // stopRetrying set while waiting: destroy when the timer fires.
    let mut c = Client::connect_path(&sock.0, &Config { retry: Duration::from_millis(100), ..Config::default() });
    assert_eq!(kind(&cev(&mut c).await), "error:ENOENT");
    assert_eq!(kind(&cev(&mut c).await), "disconnect");
    c.set_stop_retrying(true);
    assert_eq!(kind(&cev(&mut c).await), "destroy");
    assert!(c.recv().await.is_none());
}

#[tokio::test]
async fn retries_reset_on_each_successful_connect() {
    let sock = TmpSock::new("flap");
    let config = Config { retry: Duration::from_millis(20), max_retries: Some(1), ..Config::default() };
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &config);
    // Dropped three times by the server: each connect resets the budget of one retry.
    for _ in 0..3 {
        assert_eq!(kind(&cev(&mut client).await), "connect");
        assert_eq!(client.retries_remaining(), Some(1));
        let ServerEvent::Connect(peer) = sev(&mut server).await else { panic!() };
        peer.destroy();
        assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));
        assert_eq!(kind(&cev(&mut client).await), "disconnect");
    }
    assert_eq!(kind(&cev(&mut client).await), "connect");
    // The client's connect completes in the kernel's backlog; shutting down before the server has
    // accepted would reset that connection (ECONNRESET) instead of closing it.
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    // Messages emitted while disconnected go out on the next connection.
    server.shutdown().await;
    assert_eq!(kind(&cev(&mut client).await), "disconnect");
    client.emit("queued", &1).unwrap();
    let mut seen = Vec::new();
    while let Some(ev) = bounded("give up", client.recv()).await {
        seen.push(kind(&ev));
    }
    assert_eq!(seen, ["error:ENOENT", "disconnect", "destroy"]);
}

#[tokio::test]
async fn emits_before_connect_and_during_retry_are_delivered() {
    let sock = TmpSock::new("early");
    let config = cfg();
    let mut client = Client::connect_path(&sock.0, &config);
    client.emit("early", &1).unwrap();
    assert_eq!(kind(&cev(&mut client).await), "error:ENOENT");
    client.emit("during-retry", &2).unwrap();
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    assert!(bounded("connect", client.connected()).await);
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    assert_eq!(smsg(&mut server).await.0.ty(), "early");
    assert_eq!(smsg(&mut server).await.0.ty(), "during-retry");
    drop(client);
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_flushes_queued_frames_and_ends_streams() {
    let sock = TmpSock::new("flush");
    let config = Config { max_retries: Some(0), ..cfg() };
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &config);
    assert!(bounded("connect", client.connected()).await);
    let ServerEvent::Connect(peer) = sev(&mut server).await else { panic!() };
    let n = 20_000u64;
    for i in 0..n {
        peer.emit("seq", &json!({"i": i, "pad": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})).unwrap();
    }
    let handle = server.handle();
    let stopping = tokio::spawn(async move { handle.shutdown().await });
    for i in 0..n {
        let m = cmsg(&mut client).await;
        assert_eq!(m.data["i"].as_u64(), Some(i));
    }
    assert_eq!(kind(&cev(&mut client).await), "disconnect");
    assert_eq!(kind(&cev(&mut client).await), "destroy");
    bounded("shutdown", stopping).await.unwrap();
    assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));
    assert!(bounded("end", server.recv()).await.is_none());
    assert!(!sock.0.exists());
}

#[tokio::test]
async fn raw_mode_and_multi_byte_delimiter() {
    let sock = TmpSock::new("raw");
    let raw = Config { raw: true, ..cfg() };
    let mut server = Server::serve_path(&sock.0, &raw).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &raw);
    client.send_raw(b"hello").unwrap();
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    let mut got = Vec::new();
    let mut peer = None;
    while got.len() < 5 {
        match sev(&mut server).await {
            ServerEvent::Data { data, peer: p } => {
                got.extend(data);
                peer = Some(p);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, b"hello");
    peer.unwrap().send_raw(&[0xde, 0xad, 0x00, 0xff]).unwrap();
    assert!(bounded("connect", client.connected()).await);
    let mut got = Vec::new();
    while got.len() < 4 {
        match cev(&mut client).await {
            ClientEvent::Data(d) => got.extend(d),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, [0xde, 0xad, 0x00, 0xff]);
    drop(client);
    server.shutdown().await;

    let sock = TmpSock::new("delim");
    let config = Config { delimiter: b"<END>".to_vec(), ..cfg() };
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    let client = Client::connect_path(&sock.0, &config);
    client.emit("a", &"x<EN").unwrap();
    client.send_raw(b"{\"type\":\"b\",\"data\":1}<E").unwrap();
    client.send_raw(b"ND>").unwrap();
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    let (m, _) = smsg(&mut server).await;
    assert_eq!((m.ty(), m.data.as_str()), ("a", Some("x<EN")));
    let (m, _) = smsg(&mut server).await;
    assert_eq!(m.ty(), "b");
    drop(client);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_frames_arrive_in_order_across_threads() {
    let sock = TmpSock::new("order");
    let config = cfg();
    let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &config);
    let n = 50_000u64;
    let h = client.handle();
    let sender = tokio::spawn(async move {
        for i in 0..n {
            h.emit("seq", &i).unwrap();
            if i % 1000 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    for i in 0..n {
        let (m, peer) = smsg(&mut server).await;
        assert_eq!(m.data.as_u64(), Some(i));
        peer.emit("ack", &i).unwrap();
    }
    bounded("sender", sender).await.unwrap();
    assert!(bounded("connect", client.connected()).await);
    for i in 0..n {
        assert_eq!(cmsg(&mut client).await.data.as_u64(), Some(i));
    }
    drop(client);
    server.shutdown().await;
}

// (Unix: a stale socket file; named pipes leave nothing behind)
#[cfg(unix)]
#[tokio::test]
async fn bind_errors_and_stale_sockets() {
    let sock = TmpSock::new("stale");
    let config = cfg();
    // A stale socket file (server gone without cleanup) is replaced...
    let stale = std::os::unix::net::UnixListener::bind(&sock.0).unwrap();
    drop(stale);
    assert!(sock.0.exists());
    let server = Server::serve_path(&sock.0, &config).await.unwrap();
    server.shutdown().await;
    // ...but never a regular file, and unlink=false keeps a live path.
    std::fs::write(&sock.0, b"not a socket").unwrap();
    let err = Server::serve_path(&sock.0, &config).await.unwrap_err();
    assert_eq!(err.code(), Some("EADDRINUSE"));
    assert_eq!(std::fs::read(&sock.0).unwrap(), b"not a socket");
    std::fs::remove_file(&sock.0).unwrap();
    let live = Server::serve_path(&sock.0, &config).await.unwrap();
    let err = Server::serve_path(&sock.0, &Config { unlink: false, ..cfg() }).await.unwrap_err();
    assert_eq!(err.code(), Some("EADDRINUSE"));
    live.shutdown().await;
}

#[test]
fn works_on_a_current_thread_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let sock = TmpSock::new("ct");
        let config = cfg();
        let mut server = Server::serve_path(&sock.0, &config).await.unwrap();
        let mut client = Client::connect_path(&sock.0, &config);
        client.emit("ping", &json!({"id": "ct"})).unwrap();
        assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
        let (_, peer) = smsg(&mut server).await;
        peer.emit("pong", &Value::Null).unwrap();
        assert!(bounded("connect", client.connected()).await);
        assert_eq!(cmsg(&mut client).await.ty(), "pong");
        drop(client);
        server.shutdown().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_right_after_emit_still_delivers() {
    let config = cfg();
    let mut server = Server::serve_net("127.0.0.1", 0, &config).await.unwrap();
    let addr = server.local_addr().unwrap();
    for i in 0..20 {
        let mut client = Client::connect_addr(addr, &config);
        client.emit("last-words", &i).unwrap();
        client.disconnect();
        let mut seen = Vec::new();
        while let Some(ev) = bounded("client end", client.recv()).await {
            seen.push(kind(&ev));
        }
        assert_eq!(seen, ["connect", "disconnect", "destroy"]);
        assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
        assert_eq!(smsg(&mut server).await.0.data, json!(i));
        assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));
    }
    // Nothing queued: disconnect abandons the attempt at once.
    let mut idle = Client::connect_addr(addr, &config);
    idle.disconnect();
    while let Some(ev) = bounded("idle end", idle.recv()).await {
        assert!(!matches!(ev, ClientEvent::Message(_)));
    }
    server.shutdown().await;
}
