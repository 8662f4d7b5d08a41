//! Helpers shared by the async API's integration tests (`mod common;` in each test file).

#![allow(dead_code)] // each test file uses its own subset

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use node_ipc_rs::ipc::{Client, ClientEvent, Server, ServerEvent, UdpEvent, UdpServer};

/// How long any one awaited step of a test may take.
pub const LIMIT: Duration = Duration::from_secs(10);

/// A unique socket path under the temp dir, removed on drop.
pub struct TmpSock(pub PathBuf);

impl TmpSock {
    pub fn new(tag: &str) -> TmpSock {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        TmpSock(std::env::temp_dir().join(format!("nirs-{}-{tag}-{n}.sock", std::process::id())))
    }
}

impl Drop for TmpSock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `f`, or a panic naming `what` after [`LIMIT`].
pub async fn bounded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

pub async fn sev(s: &mut Server) -> ServerEvent {
    bounded("server event", s.recv()).await.expect("server event stream ended")
}

pub async fn cev(c: &mut Client) -> ClientEvent {
    bounded("client event", c.recv()).await.expect("client event stream ended")
}

pub async fn uev(s: &mut UdpServer) -> UdpEvent {
    bounded("udp event", s.recv()).await.expect("udp event stream ended")
}
