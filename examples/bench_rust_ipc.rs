//! node-ipc-rs's async Rust API as a benchmark child of `bench/run.js` (contenders `rust-json`,
//! `rust-json-value`, `rust-raw`, and the Rust halves of `node-rust` and `rust-node`).
//!
//! ```text
//! cargo build --release --example bench_rust_ipc
//! bench_rust_ipc json|json-value|raw server unix <path>            | server tcp <host:port>
//! bench_rust_ipc json|json-value|raw client unix|tcp <address> throughput <N> <window>
//! bench_rust_ipc json|json-value|raw client unix|tcp <address> latency <warmup> <samples>
//! ```
//!
//! Same command line tail and stdout protocol as every other child (see `bench/common.js`): the
//! server prints `READY` once it listens; the client prints `RESULT <json>` when done and then
//! waits for stdin to close (the parent reads its VmHWM, then kills it). Errors go to stderr with a
//! non-zero exit. Every process exits when its stdin reaches EOF.
//!
//! Every message on the wire is the node-ipc envelope `{"type":"echo","data":D}\f` with
//! `D = {"seq":N,"s":"xxx…"}` (64 bytes of JSON for a 6-digit seq), as for the other contenders.
//!
//! - `json`: both sides set [`Config::lazy_data`] (the opt-in that keeps `data` as JSON text).
//!   Each side decodes every frame's envelope with the library (the frame parsed as one JSON object,
//!   `type` read into a `String`, `data` checked to be well-formed JSON and kept as its text), and
//!   encodes every envelope it sends (the `type` string escaped, the frame assembled and queued by
//!   one `emit` per message). [`ipc::Server`] echoes each [`ServerEvent::Message`] of type `echo`
//!   with `peer.emit("echo", &message.raw_data())`: the data text it received, sent back as it is
//!   (not decoded into a value and not re-encoded; what an application that forwards payloads it
//!   does not need to look at would do). [`ipc::Client`] sends with `emit("echo", &Echo { seq, s })`
//!   (one call per message, `data` serialized from the struct) and decodes each echoed
//!   [`ClientEvent::Message`]'s data with `message.data_as::<EchoBack>()` (`seq` as a `u64`, `s`
//!   borrowed as a `&str`, checked to be the payload it sent).
//! - `json-value`: no opt-in (what the API does by default): the server decodes each message's
//!   data into a `serde_json::Value` and echoes it with `peer.emit("echo", &message.data)`
//!   (encoded again); the client sends like `json` and reads `data.seq` from the `Value` the
//!   library built.
//!
//!   Either server also serves Node clients (`node-rust`) and either client talks to Node servers
//!   (`rust-node`); those contenders use `json`.
//! - `raw` (`Config { raw: true, .. }`): the same bytes, but neither side runs a JSON codec, like
//!   `examples/bench_tokio_echo.rs` (the `tokio` contender, whose work this mirrors so that
//!   `rust-raw / tokio` measures the API's own cost): the server gets [`ServerEvent::Data`]
//!   chunks, keeps any unfinished frame, and sends every complete `\f`-delimited frame back with
//!   `peer.send_raw`; the client builds the frames itself, sends each refill of the window with one
//!   `send_raw`, splits the echoed [`ClientEvent::Data`] with memchr and reads the seq without a
//!   JSON parser.
//!
//! Both sides run on a current-thread tokio runtime (as the tokio contender does). The client
//! checks that it gets back exactly seq 0..total, in order, once each, then nothing during 100 ms;
//! a lost connection, a reconnection, an error event or 10 s without an echo fails the run.
//!
//! [`ipc::Server`]: node_ipc_rs::ipc::Server
//! [`ipc::Client`]: node_ipc_rs::ipc::Client
//! [`Config::lazy_data`]: node_ipc_rs::ipc::Config::lazy_data

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use node_ipc_rs::ipc::{Client, ClientEvent, Config, Server, ServerEvent};
use serde::{Deserialize, Serialize};

const DELIM: u8 = b'\x0c';
const PAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; // 43 bytes: data is 64 bytes for a 6-digit seq
const GRACE: Duration = Duration::from_millis(100);
/// A lost message fails the client after this long without an echo.
const STALL: Duration = Duration::from_secs(10);

#[derive(Serialize)]
struct Echo {
    seq: u64,
    s: &'static str,
}

/// An echoed payload, as the `json` client reads it.
#[derive(Deserialize)]
struct EchoBack<'a> {
    seq: u64,
    s: &'a str,
}

/// The three ways of running (the first argument).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// JSON, with `Config::lazy_data`.
    Json,
    /// JSON, `data` as a `serde_json::Value` (no opt-in).
    JsonValue,
    /// Raw mode, no JSON codec.
    Raw,
}

fn fail(msg: impl AsRef<str>) -> ! {
    eprintln!("ERROR {}", msg.as_ref());
    std::process::exit(1);
}

/// Exit when the parent closes our stdin (it is a pipe from bench/run.js).
fn exit_on_stdin_eof() {
    std::thread::spawn(|| {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 256];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => {}
            }
        }
    });
}

fn say(line: &str) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn config(mode: Mode) -> Config {
    Config {
        id: "bench-server".into(),
        raw: mode == Mode::Raw,
        lazy_data: mode == Mode::Json,
        // As bench/ipc-common.js sets for the Node contenders.
        retry: Duration::from_millis(100),
        max_retries: Some(20),
        ..Config::default()
    }
}

fn split_addr(address: &str) -> (String, u16) {
    let i = address.rfind(':').unwrap_or_else(|| fail(format!("bad tcp address {address}")));
    let port = address[i + 1..].parse().unwrap_or_else(|_| fail(format!("bad tcp address {address}")));
    (address[..i].to_string(), port)
}

// ---------------------------------------------------------------------------------------------
// Server

async fn server(mode: Mode, transport: &str, address: &str) {
    let config = config(mode);
    let mut server = if transport == "unix" {
        Server::serve_path(address, &config).await
    } else {
        let (host, port) = split_addr(address);
        Server::serve_net(&host, port, &config).await
    }
    .unwrap_or_else(|e| fail(format!("listen on {address}: {e}")));
    say("READY");
    // Raw mode: the unfinished frame at the end of each peer's last chunk.
    let mut partial: HashMap<u64, Vec<u8>> = HashMap::new();
    while let Some(event) = server.recv().await {
        match event {
            // Like bench/ipc-server.js, which listens for `echo` only.
            ServerEvent::Message { message, peer } if message.ty() == "echo" => {
                let _ = if mode == Mode::Json {
                    peer.emit("echo", &message.raw_data())
                } else {
                    peer.emit("echo", &message.data)
                };
            }
            ServerEvent::Data { data, peer } => {
                let buf = partial.entry(peer.key()).or_default();
                if buf.is_empty() {
                    match memchr::memrchr(DELIM, &data) {
                        Some(i) => {
                            let _ = peer.send_raw(&data[..=i]);
                            buf.extend_from_slice(&data[i + 1..]);
                        }
                        None => buf.extend_from_slice(&data),
                    }
                } else {
                    buf.extend_from_slice(&data);
                    if let Some(i) = memchr::memrchr(DELIM, buf) {
                        let _ = peer.send_raw(&buf[..=i]);
                        buf.drain(..=i);
                    }
                }
            }
            ServerEvent::Disconnect { peer, .. } => {
                partial.remove(&peer.key());
            }
            ServerEvent::Error { error, .. } => {
                // Protocol errors mean a broken frame: the run is wrong. Socket errors (a client
                // killed by the harness, ECONNRESET) are not.
                if error.error_code().is_some() {
                    fail(format!("server error: {error}"));
                }
                eprintln!("server: {error}");
            }
            _ => {}
        }
    }
    fail("server stopped");
}

// ---------------------------------------------------------------------------------------------
// Client

fn push_frame(out: &mut Vec<u8>, seq: u64) {
    node_ipc_rs::message::encode_into(out, "echo", &Echo { seq, s: PAD }, &[DELIM])
        .unwrap_or_else(|e| fail(format!("encode: {e}")));
}

/// The seq of an echoed frame, found without a JSON parser (the frame is ours).
fn frame_seq(frame: &[u8]) -> Option<u64> {
    let key = br#""seq":"#;
    let at = memchr::memmem::find(frame, key)? + key.len();
    let digits = frame[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    std::str::from_utf8(&frame[at..at + digits]).ok()?.parse().ok()
}

/// The client side of one run: sends, receives and checks echoes.
struct Run {
    client: Client,
    mode: Mode,
    /// Raw mode: bytes of an unfinished echoed frame.
    partial: Vec<u8>,
    out: Vec<u8>,
    sent: u64,
    recv: u64,
}

impl Run {
    /// Sends messages `sent..upto`.
    fn send_upto(&mut self, upto: u64) {
        if self.sent >= upto {
            return;
        }
        if self.mode == Mode::Raw {
            self.out.clear();
            while self.sent < upto {
                push_frame(&mut self.out, self.sent);
                self.sent += 1;
            }
            if let Err(e) = self.client.send_raw(&self.out) {
                fail(format!("send_raw: {e}"));
            }
        } else {
            while self.sent < upto {
                if let Err(e) = self.client.emit("echo", &Echo { seq: self.sent, s: PAD }) {
                    fail(format!("emit: {e}"));
                }
                self.sent += 1;
            }
        }
    }

    fn check(&mut self, seq: Option<u64>) {
        if seq != Some(self.recv) {
            fail(format!("echo out of order or lost: expected seq {}, got {:?}", self.recv, seq));
        }
        if self.recv >= self.sent {
            fail(format!("echo for a message not sent yet: seq {}", self.recv));
        }
        self.recv += 1;
    }

    /// Waits for the next event carrying echoes; returns how many echoes it held (raw mode: 0
    /// when the chunk ended inside a frame).
    async fn read_some(&mut self) -> u64 {
        // The stall timer is only set up when nothing is ready.
        let event = match self.client.try_recv() {
            Some(ev) => ev,
            None => match tokio::time::timeout(STALL, self.client.recv()).await {
                Err(_) => fail(format!(
                    "stalled: no echo for {}s (received {}, sent {})",
                    STALL.as_secs(),
                    self.recv,
                    self.sent
                )),
                Ok(None) => fail("client destroyed before the run finished"),
                Ok(Some(ev)) => ev,
            },
        };
        let before = self.recv;
        match event {
            ClientEvent::Message(m) => {
                if m.ty() != "echo" {
                    fail(format!("unexpected message type {:?}", m.ty()));
                }
                let seq = if self.mode == Mode::Json {
                    match m.data_as::<EchoBack>() {
                        Ok(EchoBack { seq, s }) if s == PAD => Some(seq),
                        Ok(_) => fail("echoed payload changed"),
                        Err(e) => fail(format!("echoed data: {e}")),
                    }
                } else {
                    m.data.get("seq").and_then(|s| s.as_u64())
                };
                self.check(seq);
            }
            ClientEvent::Data(d) => {
                self.partial.extend_from_slice(&d);
                let mut start = 0;
                while let Some(i) = memchr::memchr(DELIM, &self.partial[start..]) {
                    let seq = frame_seq(&self.partial[start..start + i]);
                    self.check(seq);
                    start += i + 1;
                }
                self.partial.drain(..start);
            }
            ClientEvent::Connect => fail("reconnected during the run (the connection dropped)"),
            ClientEvent::Disconnect => fail("disconnected before the run finished"),
            ClientEvent::Destroy => fail("connection destroyed before the run finished"),
            ClientEvent::Error(e) => fail(format!("client error: {e}")),
            other => fail(format!("unexpected event {other:?}")),
        }
        self.recv - before
    }

    /// Nothing may arrive during GRACE after the last echo.
    async fn grace_check(&mut self) {
        if !self.partial.is_empty() {
            fail("received unexpected bytes after the last echo");
        }
        if let Ok(ev) = tokio::time::timeout(GRACE, self.client.recv()).await {
            match ev {
                Some(ClientEvent::Message(_)) | Some(ClientEvent::Data(_)) => {
                    fail("received unexpected echo(es) after the last one (duplicates?)")
                }
                other => fail(format!("connection lost right after the run: {other:?}")),
            }
        }
    }
}

async fn client(mode: Mode, transport: &str, address: &str, kind: &str, a: u64, b: u64) {
    let config = config(mode);
    let mut client = if transport == "unix" {
        Client::connect_path(address, &config)
    } else {
        let addr: SocketAddr = address.parse().unwrap_or_else(|_| fail(format!("bad tcp address {address}")));
        Client::connect_addr(addr, &config)
    };
    if !client.connected().await {
        fail(format!("could not connect to {address} (retries exhausted)"));
    }
    let mut run = Run { client, mode, partial: Vec::new(), out: Vec::with_capacity(64 * 1024), sent: 0, recv: 0 };
    let result = if kind == "throughput" {
        let (n, window) = (a, b);
        let t0 = Instant::now();
        run.send_upto(n.min(window));
        while run.recv < n {
            run.read_some().await;
            run.send_upto(n.min(run.recv + window));
        }
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        run.grace_check().await;
        format!(
            r#"{{"kind":"throughput","n":{n},"window":{window},"received":{},"elapsedMs":{ms},"msgsPerSec":{}}}"#,
            run.recv,
            n as f64 * 1000.0 / ms
        )
    } else {
        let (warmup, samples) = (a, b);
        let mut lat: Vec<f64> = Vec::with_capacity(samples as usize);
        for seq in 0..warmup + samples {
            let t = Instant::now();
            run.send_upto(seq + 1);
            while run.recv == seq {
                run.read_some().await;
            }
            if seq >= warmup {
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        run.grace_check().await;
        lat.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let pct = |p: f64| {
            let i = ((p / 100.0) * lat.len() as f64).ceil() as usize;
            lat[i.clamp(1, lat.len()) - 1]
        };
        let mean = lat.iter().sum::<f64>() / lat.len() as f64;
        format!(
            r#"{{"kind":"latency","warmup":{warmup},"samples":{samples},"received":{},"p50Us":{},"p99Us":{},"meanUs":{mean},"maxUs":{}}}"#,
            run.recv,
            pct(50.0),
            pct(99.0),
            lat[lat.len() - 1]
        )
    };
    say(&format!("RESULT {result}"));
    // Keep the connection (and the memory) until the parent kills us or closes stdin.
    std::future::pending::<()>().await;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_rust_ipc json|json-value|raw server unix|tcp <address> | json|json-value|raw client unix|tcp <address> throughput <N> <window> | latency <warmup> <samples>";
    if args.len() < 4 {
        fail(usage);
    }
    let mode = match args[0].as_str() {
        "json" => Mode::Json,
        "json-value" => Mode::JsonValue,
        "raw" => Mode::Raw,
        _ => fail(usage),
    };
    let (role, transport, address) = (args[1].as_str(), args[2].as_str(), args[3].as_str());
    if transport != "unix" && transport != "tcp" {
        fail(usage);
    }
    exit_on_stdin_eof();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("runtime: {e}")));
    match role {
        "server" => rt.block_on(server(mode, transport, address)),
        "client" => {
            if args.len() < 7 {
                fail(usage);
            }
            let kind = args[4].as_str();
            if kind != "throughput" && kind != "latency" {
                fail(usage);
            }
            let a: u64 = args[5].parse().unwrap_or_else(|_| fail(usage));
            let b: u64 = args[6].parse().unwrap_or_else(|_| fail(usage));
            if b == 0 || (kind == "throughput" && a == 0) {
                fail(usage);
            }
            rt.block_on(client(mode, transport, address, kind, a, b))
        }
        _ => fail(usage),
    }
}
