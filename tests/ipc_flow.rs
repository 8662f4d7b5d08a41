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
