//! node-ipc's basic example server (`world-server.js`) in Rust: id `world`, answers every
//! `app.message` to its sender with `{id: 'world', message: message + ' world!'}`.
//!
//! ```text
//! cargo run --example rust_server                       # /tmp/app.world, like node-ipc's serve()
//! cargo run --example rust_server -- unix /path/to.sock
//! cargo run --example rust_server -- tcp 127.0.0.1 8000  # like serveNet(); port 0 = any free port
//! cargo run --example rust_server -- --lazy unix /path/to.sock   # with Config::lazy_data
//! ```
//!
//! Also answers every `echo` with the data it received, sent back with
//! `peer.emit("echo", &message.raw_data())`: with `--lazy` (`Config::lazy_data`) the received
//! text as it is, without it the decoded value encoded again.
//!
//! Prints one line per event (`READY <where>`, `CONNECT`, `MESSAGE <peer id> <type> <data>`,
//! `DISCONNECT <peer id>`, `ERROR <code> <message>`) and stops gracefully when stdin closes.

use node_ipc_rs::ipc::{Config, Error, Server, ServerEvent};
use serde::{Deserialize, Serialize};
use std::io::Write;

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
    let lazy = args.first().map(String::as_str) == Some("--lazy");
    if lazy {
        args.remove(0);
    }
    let config = Config { id: "world".into(), lazy_data: lazy, ..Config::default() };
    let mut server = match args.first().map(String::as_str) {
        None => Server::serve(&config).await?,
        Some("unix") if args.len() == 2 => Server::serve_path(&args[1], &config).await?,
        Some("tcp") if args.len() == 3 => {
            let port = args[2].parse().expect("port");
            Server::serve_net(&args[1], port, &config).await?
        }
        _ => {
            eprintln!("usage: rust_server [--lazy] [unix <path> | tcp <host> <port>]");
            std::process::exit(2);
        }
    };
    match (server.path(), server.local_addr()) {
        (Some(p), _) => say(format!("READY {}", p.display())),
        (_, Some(a)) => say(format!("READY {a}")),
        _ => say("READY".into()),
    }

    // Stop gracefully when stdin closes (Ctrl-D, or the parent process going away).
    let handle = server.handle();
    let (stdin_done, mut stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = stdin_done.send(());
    });
    tokio::spawn(async move {
        let _ = (&mut stdin_closed).await;
        handle.shutdown().await;
    });

    while let Some(event) = server.recv().await {
        match event {
            ServerEvent::Connect(_) => say("CONNECT".into()),
            ServerEvent::Message { message, peer } => {
                // (a lazy message's data as received; an eager one's as serde_json writes it)
                let data =
                    if message.is_lazy() { message.raw_data().get().to_string() } else { message.data.to_string() };
                say(format!("MESSAGE {} {} {data}", peer.id().unwrap_or_default(), message.ty()));
                if message.ty() == "echo" {
                    peer.emit("echo", &message.raw_data())?;
                }
                if message.ty() == "app.message" {
                    match message.data_as::<Hello>() {
                        Ok(hello) => peer.emit(
                            "app.message",
                            &Hello { id: config.id.clone(), message: hello.message + " world!" },
                        )?,
                        Err(e) => say(format!("ERROR bad app.message: {e}")),
                    }
                }
            }
            ServerEvent::Data { data, .. } => say(format!("DATA {}", data.len())),
            ServerEvent::Error { error, .. } => say(format!("ERROR {} {error}", error.code().unwrap_or("-"))),
            ServerEvent::Disconnect { id, .. } => say(format!("DISCONNECT {}", id.unwrap_or_default())),
            _ => {}
        }
    }
    say("CLOSED".into());
    Ok(())
}
