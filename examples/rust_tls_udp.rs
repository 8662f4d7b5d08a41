//! TLS and UDP with the async Rust API, for meshes with Node processes (node-ipc 12 over Node's
//! `tls`/`dgram`, node-ipc-rs over the addon). Used by `__test__/rust-tls-udp.test.js`.
//!
//! ```text
//! # TLS echo server: answers every message with the same type and data
//! cargo run --example rust_tls_udp -- tls-server 127.0.0.1 0 --cert server.pem --key server.key [--ca ca.pem --request-cert]
//! # TLS client: sends --count `echo` messages {i, s}, waits for the echoes, disconnects
//! cargo run --example rust_tls_udp -- tls-client 127.0.0.1 8000 --ca ca.pem [--cert client.pem --key client.key] [--servername localhost] [--insecure] [--count 3]
//! # UDP server (udp4 or udp6 by the host): answers `q` {n} with `a` {n, s} to the sender
//! cargo run --example rust_tls_udp -- udp 127.0.0.1 0 [--raw]
//! ```
//!
//! Prints one line per event: `READY <addr>`, `CONNECT`, `MESSAGE [<from>] <type> <data>`,
//! `DATA <from> <hex>`, `ERROR <code>`, `DISCONNECT`, `DESTROY`, `CLOSED`. The servers stop when
//! stdin closes. The UDP server also reads commands on stdin, answering `SENT` or `SENDERR <code>`:
//! `emit <addr> <type> <json>`, `raw <addr> <hex>`, `broadcast <type> <json>`.

use std::io::{BufRead, Write};
use std::net::SocketAddr;

use node_ipc_rs::ipc::{Client, ClientEvent, Config, Error, Server, ServerEvent, TlsConfig, UdpEvent, UdpServer};
use serde_json::{json, Value};
use tokio::sync::mpsc;

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn code(e: &Error) -> String {
    e.code().unwrap_or("-").to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// Lines from stdin, then `None` when it closes (in a thread: stdin is blocking).
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

struct Args {
    positional: Vec<String>,
    tls: TlsConfig,
    count: usize,
    raw: bool,
}

fn parse(args: &[String]) -> Args {
    let mut a = Args { positional: Vec::new(), tls: TlsConfig::default(), count: 1, raw: false };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--cert" => a.tls.public = Some(val().into()),
            "--key" => a.tls.private = Some(val().into()),
            "--ca" => a.tls.trusted_connections.push(val().into()),
            "--servername" => a.tls.servername = Some(val()),
            "--request-cert" => a.tls.request_cert = true,
            "--insecure" => a.tls.reject_unauthorized = false,
            "--count" => a.count = val().parse().unwrap_or_else(|_| usage()),
            "--raw" => a.raw = true,
            _ => a.positional.push(arg.clone()),
        }
    }
    a
}

fn usage() -> ! {
    eprintln!("usage: rust_tls_udp (tls-server|tls-client|udp) <host> <port> [options]: see the source");
    std::process::exit(2);
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let mut a = parse(&all);
    let positional = std::mem::take(&mut a.positional);
    let [mode, host, port] = &positional[..] else { usage() };
    let port: u16 = port.parse().unwrap_or_else(|_| usage());
    match mode.as_str() {
        "tls-server" => tls_server(host, port, a).await,
        "tls-client" => tls_client(host, port, a).await,
        "udp" => udp(host, port, a).await,
        _ => usage(),
    }
}

async fn tls_server(host: &str, port: u16, a: Args) -> Result<(), Error> {
    let config = Config { tls: Some(a.tls), ..Config::default() };
    let mut server = Server::serve_net(host, port, &config).await?;
    say(format!("READY {}", server.local_addr().expect("tcp")));
    let handle = server.handle();
    let mut stdin = stdin_lines();
    tokio::spawn(async move {
        while stdin.recv().await.is_some() {}
        handle.shutdown().await;
    });
    while let Some(event) = server.recv().await {
        match event {
            ServerEvent::Connect(_) => say("CONNECT".into()),
            ServerEvent::Message { message, peer } => {
                say(format!("MESSAGE {} {}", message.ty(), message.data));
                peer.emit(message.ty(), &message.data)?;
            }
            ServerEvent::Error { error, .. } => say(format!("ERROR {}", code(&error))),
            ServerEvent::Disconnect { .. } => say("DISCONNECT".into()),
            _ => {}
        }
    }
    say("CLOSED".into());
    Ok(())
}

async fn tls_client(host: &str, port: u16, a: Args) -> Result<(), Error> {
    let config = Config { tls: Some(a.tls), max_retries: Some(0), ..Config::default() };
    let mut client = Client::connect_net(host, port, &config);
    let mut echoes = 0;
    while let Some(event) = client.recv().await {
        match event {
            ClientEvent::Connect => {
                say("CONNECT".into());
                for i in 0..a.count {
                    client.emit("echo", &json!({"i": i, "s": "é✓"}))?;
                }
            }
            ClientEvent::Message(m) => {
                say(format!("MESSAGE {} {}", m.ty(), m.data));
                echoes += 1;
                if echoes == a.count {
                    client.disconnect();
                }
            }
            ClientEvent::Error(e) => say(format!("ERROR {}", code(&e))),
            ClientEvent::Disconnect => say("DISCONNECT".into()),
            ClientEvent::Destroy => say("DESTROY".into()),
            _ => {}
        }
    }
    Ok(())
}

async fn udp(host: &str, port: u16, a: Args) -> Result<(), Error> {
    let config = Config { raw: a.raw, ..Config::default() };
    let mut server = UdpServer::serve_net(host, port, &config).await?;
    say(format!("READY {}", server.local_addr()));
    let mut stdin = stdin_lines();
    loop {
        tokio::select! {
            line = stdin.recv() => match line {
                None => break,
                Some(line) => {
                    let r = command(&server, &line).await;
                    say(match r {
                        Ok(()) => "SENT".into(),
                        Err(e) => format!("SENDERR {}", code(&e)),
                    });
                }
            },
            event = server.recv() => match event {
                None => break,
                Some(UdpEvent::Message { message, from }) => {
                    say(format!("MESSAGE {from} {} {}", message.ty(), message.data));
                    if message.ty() == "q" {
                        let reply = json!({"n": message.data["n"], "s": "é✓"});
                        if let Err(e) = server.emit_to(from, "a", &reply).await {
                            say(format!("SENDERR {}", code(&e)));
                        }
                    }
                }
                Some(UdpEvent::Data { data, from }) => say(format!("DATA {from} {}", hex(&data))),
                Some(UdpEvent::Error { error, .. }) => say(format!("ERROR {}", code(&error))),
                Some(_) => {}
            },
        }
    }
    server.shutdown().await;
    say("CLOSED".into());
    Ok(())
}

async fn command(server: &UdpServer, line: &str) -> Result<(), Error> {
    let bad = || Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad command {line:?}")));
    let mut parts = line.splitn(4, ' ');
    let verb = parts.next().unwrap_or_default();
    let a1 = parts.next().ok_or_else(bad)?;
    let a2 = parts.next();
    let a3 = parts.next();
    match (verb, a2, a3) {
        ("emit", Some(ty), Some(data)) => {
            let to: SocketAddr = a1.parse().map_err(|_| bad())?;
            let data: Value = serde_json::from_str(data)?;
            server.emit_to(to, ty, &data).await
        }
        ("raw", Some(bytes), None) => {
            let to: SocketAddr = a1.parse().map_err(|_| bad())?;
            server.send_raw_to(to, &unhex(bytes).ok_or_else(bad)?).await
        }
        ("broadcast", Some(data), None) => {
            let data: Value = serde_json::from_str(data)?;
            server.broadcast(a1, &data).await
        }
        _ => Err(bad()),
    }
}
