//! node-ipc's basic example client (`hello-client.js`) in Rust: connects to `world`, emits
//! `app.message` `{id: 'hello', message: 'hello'}` on every connect and prints the answers.
//!
//! ```text
//! cargo run --example rust_client                        # /tmp/app.world, like connectTo('world')
//! cargo run --example rust_client -- unix /path/to.sock
//! cargo run --example rust_client -- tcp 127.0.0.1 8000   # like connectToNet('world', ...)
//! ```
//!
//! Options after the address: `--count N` disconnects after N answers; `--stdin` emits one message
//! per stdin line, each a JSON array `[type, data]`, instead of the greeting, and disconnects at
//! EOF once everything is written. Prints `CONNECT`, `MESSAGE <type> <data>`, `DISCONNECT`,
//! `DESTROY`, `ERROR <code> <message>` lines.

use node_ipc_rs::ipc::{Client, ClientEvent, Config, Error};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::time::Duration;

/// The payload of the basic example, both ways.
#[derive(Debug, Serialize, Deserialize)]
struct Hello {
    id: String,
    message: String,
}

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut count: Option<usize> = None;
    let mut from_stdin = false;
    if let Some(i) = args.iter().position(|a| a == "--count") {
        count = args.get(i + 1).and_then(|n| n.parse().ok());
        args.drain(i..(i + 2).min(args.len()));
    }
    if let Some(i) = args.iter().position(|a| a == "--stdin") {
        from_stdin = true;
        args.remove(i);
    }
    let config = Config { id: "hello".into(), retry: Duration::from_millis(200), ..Config::default() };
    let mut client = match args.first().map(String::as_str) {
        None => Client::connect_to("world", &config),
        Some("unix") if args.len() == 2 => Client::connect_path(&args[1], &config),
        Some("tcp") if args.len() == 3 => Client::connect_net(&args[1], args[2].parse().expect("port"), &config),
        _ => {
            eprintln!("usage: rust_client [unix <path> | tcp <host> <port>] [--count N] [--stdin]");
            std::process::exit(2);
        }
    };

    if from_stdin {
        // Emit each line as it comes; queued frames go out once connected.
        let handle = client.handle();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<(String, serde_json::Value)>(&line) {
                    Ok((ty, data)) => {
                        if let Err(e) = handle.emit(&ty, &data) {
                            eprintln!("emit: {e}");
                        }
                    }
                    Err(e) => eprintln!("bad input line: {e}"),
                }
            }
            handle.disconnect(); // flushes what is queued, then closes
        });
    }

    let mut answers = 0;
    while let Some(event) = client.recv().await {
        match event {
            ClientEvent::Connect => {
                say("CONNECT".into());
                if !from_stdin {
                    client.emit("app.message", &Hello { id: config.id.clone(), message: "hello".into() })?;
                }
            }
            ClientEvent::Message(m) => {
                say(format!("MESSAGE {} {}", m.ty(), m.data));
                answers += 1;
                if count == Some(answers) {
                    client.disconnect();
                }
            }
            ClientEvent::Data(d) => say(format!("DATA {}", d.len())),
            ClientEvent::Disconnect => say("DISCONNECT".into()),
            ClientEvent::Destroy => say("DESTROY".into()),
            ClientEvent::Error(e) => say(format!("ERROR {} {e}", e.code().unwrap_or("-"))),
            _ => {}
        }
    }
    Ok(())
}
