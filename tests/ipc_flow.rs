//! The async Rust API enforces the same write limit as the Node shim (`node_ipc_rs::flow`): a send
//! that would take a connection's unsent bytes past `max_pending` fails with
//! `ERR_IPC_BACKPRESSURE` and the connection is dropped (an `Error` event, then `Disconnect`).

use std::path::{Path, PathBuf};

use node_ipc_rs::ipc::{Client, ClientEvent, Config, ErrorCode, Server, ServerEvent};
use serde_json::json;

mod common;
use common::*;

const CAP: usize = 256 * 1024;

fn sock(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("nirs-flow-{}-{tag}.sock", std::process::id()))
}

/// A peer that connects to the local socket at `path` and never reads (a Unix socket, or on
/// Windows the named pipe node-ipc names after `path`).
#[cfg(unix)]
async fn stalled_peer(path: &Path) -> impl Sized {
    tokio::net::UnixStream::connect(path).await.unwrap()
}

#[cfg(windows)]
async fn stalled_peer(path: &Path) -> impl Sized {
    let pipe = node_ipc_rs::config::pipe_path(&path.to_string_lossy());
    tokio::net::windows::named_pipe::ClientOptions::new().open(pipe).unwrap()
}

/// A server at `path` that accepts one connection and never reads from it.
#[cfg(unix)]
fn silent_server(path: &Path) -> tokio::task::JoinHandle<()> {
    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(path).unwrap();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        tokio::time::sleep(LIMIT).await; // never reads
        drop(s);
    })
}

#[cfg(windows)]
fn silent_server(path: &Path) -> tokio::task::JoinHandle<()> {
    let pipe = node_ipc_rs::config::pipe_path(&path.to_string_lossy());
    let server = tokio::net::windows::named_pipe::ServerOptions::new().first_pipe_instance(true).create(pipe).unwrap();
    tokio::spawn(async move {
        server.connect().await.unwrap();
        tokio::time::sleep(LIMIT).await; // never reads
        drop(server);
    })
}

#[tokio::test(flavor = "current_thread")]
async fn server_drops_a_peer_that_stops_reading() {
    let path = sock("srv");
    let config = Config { max_pending: Some(CAP), ..Config::default() };
    let mut server = Server::serve_path(&path, &config).await.unwrap();
    // A peer that connects and never reads.
    let _stalled = stalled_peer(&path).await;
    let peer = match bounded("connect", server.recv()).await.unwrap() {
        ServerEvent::Connect(p) => p,
        other => panic!("{other:?}"),
    };
    let pad = "x".repeat(16 * 1024);
    let mut refused = None;
    for i in 0..100_000 {
        match peer.emit("big", &json!({ "i": i, "pad": pad })) {
            Ok(()) => assert!(peer.pending_bytes() <= CAP, "pending {} over the cap", peer.pending_bytes()),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
        if i % 8 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let e = refused.expect("a send was refused");
    assert_eq!(e.error_code(), Some(ErrorCode::Backpressure));
    assert_eq!(e.code(), Some("ERR_IPC_BACKPRESSURE"));
    match bounded("error", server.recv()).await.unwrap() {
        ServerEvent::Error { error, peer: Some(p) } => {
            assert_eq!(error.code(), Some("ERR_IPC_BACKPRESSURE"));
            assert_eq!(p, peer);
        }
        other => panic!("{other:?}"),
    }
    match bounded("disconnect", server.recv()).await.unwrap() {
        ServerEvent::Disconnect { peer: p, .. } => assert_eq!(p, peer),
        other => panic!("{other:?}"),
    }
    assert!(peer.emit("late", &1).is_err());
    server.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn client_to_a_server_that_stops_reading() {
    let path = sock("cli");
    let accept = silent_server(&path);
    let config = Config { max_pending: Some(CAP), max_retries: Some(0), ..Config::default() };
    let mut client = Client::connect_path(&path, &config);
    match bounded("connect", client.recv()).await.unwrap() {
        ClientEvent::Connect => {}
        other => panic!("{other:?}"),
    }
    let pad = "y".repeat(16 * 1024);
    let mut refused = None;
    for i in 0..100_000 {
        match client.emit("big", &json!({ "i": i, "pad": pad })) {
            Ok(()) => assert!(client.pending_bytes() <= CAP),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
        if i % 8 == 0 {
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(refused.expect("refused").code(), Some("ERR_IPC_BACKPRESSURE"));
    let mut seen = Vec::new();
    while let Some(ev) = bounded("events", client.recv()).await {
        match ev {
            ClientEvent::Error(e) => seen.push(e.code().unwrap_or("?").to_string()),
            ClientEvent::Disconnect => seen.push("disconnect".into()),
            ClientEvent::Destroy => {
                seen.push("destroy".into());
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, ["ERR_IPC_BACKPRESSURE", "disconnect", "destroy"]);
    accept.abort();
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "current_thread")]
async fn unbounded_when_none() {
    let path = sock("inf");
    let config = Config { max_pending: None, ..Config::default() };
    let mut server = Server::serve_path(&path, &config).await.unwrap();
    let _stalled = stalled_peer(&path).await;
    let peer = match bounded("connect", server.recv()).await.unwrap() {
        ServerEvent::Connect(p) => p,
        other => panic!("{other:?}"),
    };
    let pad = "z".repeat(64 * 1024);
    for i in 0..200 {
        peer.emit("big", &json!({ "i": i, "pad": pad })).unwrap();
    }
    assert!(peer.pending_bytes() > CAP);
    peer.destroy();
    server.shutdown().await;
}

/// `Peer::drained` waits while the peer does not read and returns once everything went out; on a
/// peer that is destroyed with bytes unsent it fails with `Closed`; with nothing pending it
/// returns at once.
#[cfg(unix)]
#[tokio::test(flavor = "current_thread")]
async fn peer_drained_follows_the_reader() {
    use tokio::io::AsyncReadExt;
    let path = sock("drain");
    let config = Config { max_pending: None, ..Config::default() };
    let mut server = Server::serve_path(&path, &config).await.unwrap();
    let mut reader = tokio::net::UnixStream::connect(&path).await.unwrap();
    let peer = match bounded("connect", server.recv()).await.unwrap() {
        ServerEvent::Connect(p) => p,
        other => panic!("{other:?}"),
    };
    bounded("drained with nothing queued", peer.drained()).await.unwrap();
    let pad = "d".repeat(64 * 1024);
    for i in 0..32 {
        peer.emit("big", &json!({ "i": i, "pad": pad })).unwrap();
    }
    let total = peer.pending_bytes();
    assert!(total > 2 << 20);
    let waiting = tokio::spawn({
        let peer = peer.clone();
        async move { peer.drained().await }
    });
    // Nobody reads: the socket buffers fill and the rest stays queued.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "drained() returned while the peer was not reading");
    assert!(peer.pending_bytes() > 0);
    // Now read everything: drained() returns, and nothing is pending.
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    while got < total {
        got += bounded("read", reader.read(&mut buf)).await.unwrap();
    }
    bounded("drained", waiting).await.unwrap().unwrap();
    assert_eq!(peer.pending_bytes(), 0);

    // Destroyed with bytes unsent: Closed.
    for i in 0..32 {
        peer.emit("big", &json!({ "i": i, "pad": pad })).unwrap();
    }
    let waiting = tokio::spawn({
        let peer = peer.clone();
        async move { peer.drained().await }
    });
    tokio::task::yield_now().await;
    peer.destroy();
    let r = bounded("drained after destroy", waiting).await.unwrap();
    assert!(matches!(r, Err(node_ipc_rs::ipc::Error::Closed)), "{r:?}");
    server.shutdown().await;
}

/// `ClientHandle::drained` waits while the server does not read, and fails with `Closed` when the
/// connection is lost for good (no retries) with bytes unsent.
#[tokio::test(flavor = "current_thread")]
async fn client_drained_waits_for_the_server_and_fails_when_lost() {
    let path = sock("cdrain");
    let accept = silent_server(&path);
    let config = Config { max_pending: None, max_retries: Some(0), ..Config::default() };
    let mut client = Client::connect_path(&path, &config);
    match bounded("connect", client.recv()).await.unwrap() {
        ClientEvent::Connect => {}
        other => panic!("{other:?}"),
    }
    let pad = "c".repeat(64 * 1024);
    for i in 0..64 {
        client.emit("big", &json!({ "i": i, "pad": pad })).unwrap();
    }
    let handle = client.handle();
    let waiting = tokio::spawn(async move { handle.drained().await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "drained() returned while the server was not reading");
    accept.abort(); // the server side closes without reading: the client gives up (max_retries 0)
    let r = bounded("drained after the connection is lost", waiting).await.unwrap();
    assert!(matches!(r, Err(node_ipc_rs::ipc::Error::Closed)), "{r:?}");
    drop(client);
    let _ = std::fs::remove_file(&path);
}
