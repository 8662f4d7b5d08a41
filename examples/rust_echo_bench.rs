//! Quick echo throughput of the async Rust API, Rust ↔ Rust (server and client each on its own
//! thread with a current-thread runtime, like two processes on two cores).
//!
//! ```text
//! cargo run --release --example rust_echo_bench -- json  unix 1000000 1000   # ipc::Server/Client, JSON data
//! cargo run --release --example rust_echo_bench -- raw   unix 1000000 1000   # ipc raw mode
//! ```
//!
//! The baseline (plain tokio, memchr framing) is `examples/bench_tokio_echo.rs`, run by
//! `node bench/run.js --only tokio`.
//!
//! Messages are `{"type":"echo","data":{"seq":N,"s":"xxx…"}}\f` (as in `bench/`); the client keeps
//! at most `window` in flight and checks every echo's sequence number. Prints one line of JSON.

use std::time::Instant;

use node_ipc_rs::ipc::{Client, ClientEvent, Config, Server, ServerEvent};
use serde::Serialize;

const PAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

#[derive(Serialize)]
struct Echo {
    seq: u64,
    s: &'static str,
}

fn frame(out: &mut Vec<u8>, seq: u64) {
    node_ipc_rs::message::encode_into(out, "echo", &Echo { seq, s: PAD }, b"\x0c").unwrap();
}

fn seq_of(frame: &[u8]) -> u64 {
    let key = br#""seq":"#;
    let at = memchr::memmem::find(frame, key).expect("seq") + key.len();
    frame[at..].iter().take_while(|b| b.is_ascii_digit()).fold(0, |n, d| n * 10 + (d - b'0') as u64)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 4 {
        eprintln!("usage: rust_echo_bench json|raw unix|tcp N window");
        std::process::exit(2);
    }
    let (mode, transport) = (args[0].clone(), args[1].clone());
    let n: u64 = args[2].parse().unwrap();
    let window: u64 = args[3].parse().unwrap();
    let path = std::env::temp_dir().join(format!("nirs-bench-{}.sock", std::process::id()));
    let raw = mode != "json";
    let config = Config { raw, ..Config::default() };

    // Server thread.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<String>();
    let (spath, stransport, sconfig) = (path.clone(), transport.clone(), config.clone());
    std::thread::spawn(move || {
        rt().block_on(async move {
            let mut server = if stransport == "unix" {
                Server::serve_path(&spath, &sconfig).await.unwrap()
            } else {
                Server::serve_net("127.0.0.1", 0, &sconfig).await.unwrap()
            };
            let addr = server.local_addr().map(|a| a.to_string()).unwrap_or_default();
            ready_tx.send(addr).unwrap();
            while let Some(ev) = server.recv().await {
                match ev {
                    ServerEvent::Message { message, peer } => {
                        let _ = peer.emit(message.ty(), &message.data);
                    }
                    ServerEvent::Data { data, peer } => {
                        let _ = peer.send_raw(&data);
                    }
                    _ => {}
                }
            }
        })
    });
    let addr = ready_rx.recv().unwrap();

    let cpath = path.clone();
    let elapsed = rt().block_on(async move {
        let path = cpath;
        let mut client = if transport == "unix" {
            Client::connect_path(&path, &config)
        } else {
            Client::connect_addr(addr.parse().unwrap(), &config)
        };
        assert!(client.connected().await);
        let t0 = Instant::now();
        let (mut sent, mut recv) = (0u64, 0u64);
        let mut out = Vec::with_capacity(64 * 1024);
        let mut partial: Vec<u8> = Vec::new();
        while recv < n {
            if raw {
                out.clear();
                while sent < n && sent - recv < window {
                    frame(&mut out, sent);
                    sent += 1;
                }
                if !out.is_empty() {
                    client.send_raw(&out).unwrap();
                }
            } else {
                while sent < n && sent - recv < window {
                    client.emit("echo", &Echo { seq: sent, s: PAD }).unwrap();
                    sent += 1;
                }
            }
            match client.recv().await.expect("client ended") {
                ClientEvent::Message(m) => {
                    assert_eq!(m.data["seq"].as_u64(), Some(recv), "echo out of order");
                    recv += 1;
                }
                ClientEvent::Data(d) => {
                    partial.extend_from_slice(&d);
                    let mut start = 0;
                    while let Some(i) = memchr::memchr(b'\x0c', &partial[start..]) {
                        assert_eq!(seq_of(&partial[start..start + i]), recv, "echo out of order");
                        recv += 1;
                        start += i + 1;
                    }
                    partial.drain(..start);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        t0.elapsed()
    });
    let _ = std::fs::remove_file(&path);
    let secs = elapsed.as_secs_f64();
    println!(
        r#"{{"mode":"{}","transport":"{}","n":{n},"window":{window},"elapsedMs":{:.1},"msgsPerSec":{:.0}}}"#,
        args[0],
        args[1],
        secs * 1000.0,
        n as f64 / secs
    );
}
