//! `Config::lazy_data`: received `data` kept as JSON text, decoded when asked, forwarded as it is.
//! End-to-end on temporary Unix sockets and UDP on 127.0.0.1; every test is bounded in time.

use std::time::Duration;

use node_ipc_rs::ipc::{Client, ClientEvent, Config, ErrorCode, Server, ServerEvent, UdpEvent, UdpServer};
use node_ipc_rs::{Message, Profile};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod common;
use common::*;

fn cfg(lazy: bool) -> Config {
    Config { retry: Duration::from_millis(20), lazy_data: lazy, ..Config::default() }
}

/// The next server event that is not `Connect`.
async fn snext(s: &mut Server) -> ServerEvent {
    loop {
        match sev(s).await {
            ServerEvent::Connect(_) => continue,
            other => return other,
        }
    }
}

async fn smsg(s: &mut Server) -> (Message, node_ipc_rs::ipc::Peer) {
    match snext(s).await {
        ServerEvent::Message { message, peer } => (message, peer),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Reads raw-mode chunks until `n` delimiters have arrived; returns the bytes.
async fn raw_frames(c: &mut Client, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.iter().filter(|&&b| b == b'\x0c').count() < n {
        match cev(c).await {
            ClientEvent::Data(d) => got.extend_from_slice(&d),
            ClientEvent::Connect => {}
            other => panic!("expected data, got {other:?}"),
        }
    }
    got
}

/// Frames as a peer might write them: node-ipc's own text, and text node-ipc would never write
/// (spaces, `1.0`, escapes JS does not use, array-index keys out of JS's order). A lazy server
/// sees each `data` text exactly, and forwarding it sends exactly those bytes back.
const DATA_TEXTS: &[&str] = &[
    r#"{"id":"hello","message":"hello"}"#,
    r#"{"seq":1,"s":"xxx"}"#,
    r#"{ "b" : 1.0 , "1" : [1e2, -0.0, 1E+21] }"#,
    r#""\u00e9\/\ud83c\udf89 é 🎉""#,
    r#"[]"#,
    r#"null"#,
    r#"12345678901234567890123"#,
    r#"{"nested":{"a":[{"b":[[[true,false,null]]]}]}}"#,
];

#[tokio::test]
async fn lazy_server_sees_data_as_sent_and_forwards_the_same_bytes() {
    let sock = TmpSock::new("fwd");
    let mut server = Server::serve_path(&sock.0, &cfg(true)).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &Config { raw: true, ..cfg(false) });
    let mut sent = Vec::new();
    for d in DATA_TEXTS {
        sent.extend_from_slice(format!("{{\"type\":\"echo\",\"data\":{d}}}\x0c").as_bytes());
    }
    // Another layout of the envelope (spaces, members in another order, an extra member): the
    // data text is still exactly what was sent, without the spaces around it.
    sent.extend_from_slice(b"{ \"data\" :  {\"k\": [1, 2]}  , \"x\":1, \"type\": \"echo\" }\x0c");
    client.send_raw(&sent).unwrap();

    let mut want = Vec::new();
    for d in DATA_TEXTS.iter().copied().chain([r#"{"k": [1, 2]}"#]) {
        let (m, peer) = smsg(&mut server).await;
        assert!(m.is_lazy());
        assert_eq!(m.ty(), "echo");
        assert_eq!(m.data, Value::Null, "data is left Null in a lazy message");
        assert_eq!(m.raw_data().get(), d);
        assert_eq!(m.data_as::<Value>().unwrap(), serde_json::from_str::<Value>(d).unwrap());
        peer.emit("echo", &m.raw_data()).unwrap();
        want.extend_from_slice(format!("{{\"type\":\"echo\",\"data\":{d}}}\x0c").as_bytes());
    }
    let got = raw_frames(&mut client, DATA_TEXTS.len() + 1).await;
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
    server.shutdown().await;
}

#[tokio::test]
async fn eager_raw_data_is_what_emit_writes() {
    // Without the opt-in, raw_data() encodes `data` like emit: JS's text, not the text received.
    let sock = TmpSock::new("eager");
    let mut server = Server::serve_path(&sock.0, &cfg(false)).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &Config { raw: true, ..cfg(false) });
    client.send_raw(b"{\"type\":\"echo\",\"data\":{ \"b\" : 1.0 , \"1\" : [1e2, -0.0, 1E+21] }}\x0c").unwrap();
    let (m, peer) = smsg(&mut server).await;
    assert!(!m.is_lazy());
    assert_eq!(m.raw_data().get(), r#"{"1":[100,0,1e+21],"b":1}"#);
    peer.emit("echo", &m.raw_data()).unwrap();
    peer.emit("echo", &m.data).unwrap();
    let got = raw_frames(&mut client, 2).await;
    let frame = "{\"type\":\"echo\",\"data\":{\"1\":[100,0,1e+21],\"b\":1}}\x0c";
    assert_eq!(String::from_utf8(got).unwrap(), frame.repeat(2));
    server.shutdown().await;
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
struct Reading {
    sensor: String,
    celsius: f64,
    at: u64,
    tags: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct ReadingRef<'a> {
    sensor: &'a str,
    at: u64,
}

#[tokio::test]
async fn data_as_reads_the_same_values_in_both_modes() {
    for lazy in [false, true] {
        let sock = TmpSock::new("as");
        let mut server = Server::serve_path(&sock.0, &cfg(lazy)).await.unwrap();
        let client = Client::connect_path(&sock.0, &cfg(false));
        let r =
            Reading { sensor: "t\u{e9}1 \"q\"".into(), celsius: 20.0, at: 1_700_000_000_000, tags: vec!["a".into()] };
        client.emit("reading", &r).unwrap();
        client.emit("plain", &json!({"sensor": "s1", "at": 5, "extra": [1, 2]})).unwrap();
        client.emit("none", &()).unwrap();
        client.send_raw(b"{\"type\":\"missing\"}\x0c").unwrap();

        let (m, _) = smsg(&mut server).await;
        assert_eq!(m.is_lazy(), lazy);
        assert_eq!(m.data_as::<Reading>().unwrap(), r, "lazy: {lazy}");
        let as_sent: Value = serde_json::from_str(&node_ipc_rs::js_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(m.data_as::<Value>().unwrap(), as_sent);
        assert!(m.data_as::<Vec<u8>>().is_err());
        assert_eq!(m.clone().into_data::<Reading>().unwrap(), r);

        let (m, _) = smsg(&mut server).await;
        assert_eq!(m.data_as::<ReadingRef>().unwrap(), ReadingRef { sensor: "s1", at: 5 }, "borrowed, lazy: {lazy}");

        let (m, _) = smsg(&mut server).await;
        assert_eq!((m.ty(), m.data_as::<Option<u8>>().unwrap()), ("none", None));
        assert_eq!(m.raw_data().get(), "null");

        // No `data` member at all: Null either way.
        let (m, _) = smsg(&mut server).await;
        assert_eq!((m.ty(), m.data_as::<Value>().unwrap()), ("missing", Value::Null));
        assert!(!m.is_lazy(), "nothing to keep: the payload is the Null in `data`");
        assert_eq!(m.raw_data().get(), "null");
        server.shutdown().await;
    }
}

/// Error codes for a run of bad frames followed by a good one, and the good one's type.
async fn codes_for(frames: &[u8], lazy: bool) -> (Vec<ErrorCode>, String) {
    let sock = TmpSock::new("bad");
    let mut server = Server::serve_path(&sock.0, &cfg(lazy)).await.unwrap();
    let client = Client::connect_path(&sock.0, &cfg(false));
    client.send_raw(frames).unwrap();
    client.send_raw(b"{\"type\":\"ok\",\"data\":{\"fine\":true}}\x0c").unwrap();
    let mut codes = Vec::new();
    loop {
        match snext(&mut server).await {
            ServerEvent::Error { error, peer } => {
                assert!(peer.is_some());
                codes.push(error.error_code().expect("a protocol error"));
            }
            ServerEvent::Message { message, .. } if message.ty() == "ok" => {
                assert_eq!(message.data_as::<Value>().unwrap(), json!({"fine": true}));
                server.shutdown().await;
                return (codes, message.ty().to_string());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn invalid_json_in_data_is_the_same_error_in_both_modes() {
    let frames: &[u8] = b"{\"type\":\"a\",\"data\":{bad}}\x0c\
        {\"type\":\"a\",\"data\":[1,]}\x0c\
        {\"type\":\"a\",\"data\":\"\xff\"}\x0c\
        {\"type\":\"a\",\"data\":\"tab\there\"}\x0c\
        {\"type\":\"a\",\"data\":\"\\x\"}\x0c\
        {\"type\":\"a\",\"data\":01}\x0c\
        {\"type\":\"a\",\"data\":1}x\x0c\
        {\"type\":\"a\",\"data\":}\x0c\
        {\"type\":\"a\",\"data\":[1]]}\x0c\
        [1]\x0c\
        {\"type\":5,\"data\":1}\x0c\
        {\"type\":\"constructor\",\"data\":1}\x0c";
    let eager = codes_for(frames, false).await;
    let lazy = codes_for(frames, true).await;
    use ErrorCode::*;
    let want = [
        InvalidJson,
        InvalidJson,
        InvalidJson,
        InvalidJson,
        InvalidJson,
        InvalidJson,
        InvalidJson,
        InvalidJson,
        InvalidJson,
        InvalidMessage,
        InvalidEvent,
        InvalidEvent,
    ];
    assert_eq!(eager.0, want);
    assert_eq!(lazy, eager);
}

#[tokio::test]
async fn lazy_checks_syntax_and_leaves_value_rules_to_data_as() {
    // Well-formed JSON that serde_json's Value refuses (JSON.parse accepts it: Infinity, a lone
    // surrogate): an eager decode reports ERR_IPC_INVALID_JSON; a lazy one delivers the message,
    // and reading it as a Value fails then. Forwarding it sends it on as it is.
    let frames: &[u8] = b"{\"type\":\"big\",\"data\":[1e400]}\x0c{\"type\":\"sur\",\"data\":\"\\ud800\"}\x0c";
    let (codes, _) = codes_for(frames, false).await;
    assert_eq!(codes, [ErrorCode::InvalidJson, ErrorCode::InvalidJson]);

    let sock = TmpSock::new("value");
    let mut server = Server::serve_path(&sock.0, &cfg(true)).await.unwrap();
    let client = Client::connect_path(&sock.0, &cfg(false));
    client.send_raw(frames).unwrap();
    let (m, _) = smsg(&mut server).await;
    assert_eq!((m.ty(), m.raw_data().get()), ("big", "[1e400]"));
    assert!(m.data_as::<Value>().is_err());
    let (m, _) = smsg(&mut server).await;
    assert_eq!((m.ty(), m.raw_data().get()), ("sur", r#""\ud800""#));
    assert!(m.data_as::<String>().is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn lazy_server_learns_peer_ids_like_node_ipc() {
    let sock = TmpSock::new("id");
    let mut server = Server::serve_path(&sock.0, &cfg(true)).await.unwrap();
    let client = Client::connect_path(&sock.0, &cfg(false));
    // (text sent, id known afterwards)
    let steps: &[(&str, Option<&str>)] = &[
        (r#"{"seq":1}"#, None),
        (r#"{"x":{"id":"nested"},"s":"id"}"#, None),
        (r#"{"id":"p1","message":"hi"}"#, Some("p1")),
        (r#"{"id":5}"#, Some("p1")),
        (r#"{"id":""}"#, Some("p1")),
        (r#"{"\u0069d":"p2"}"#, Some("p2")),
        (r#"{"id":"a","x":1,"id":"p3"}"#, Some("p3")),
        (r#"{"id":"p4","id":7}"#, Some("p3")),
        (r#"["id","p5"]"#, Some("p3")),
        (r#""id""#, Some("p3")),
        (r#"{ "id" : "p6" }"#, Some("p6")),
    ];
    // One at a time: the id is learnt when the frame is read.
    for (text, want) in steps {
        client.send_raw(format!("{{\"type\":\"t\",\"data\":{text}}}\x0c").as_bytes()).unwrap();
        let (m, peer) = smsg(&mut server).await;
        assert!(m.is_lazy());
        assert_eq!(peer.id().as_deref(), *want, "after {text}");
        // The same rule as for an eager message.
        let eager = node_ipc_rs::message::decode(format!("{{\"type\":\"t\",\"data\":{text}}}").as_bytes()).unwrap();
        assert_eq!(m.data_id(), eager.data_id(), "{text}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn lazy_client_and_profiles() {
    // A lazy client; a guarded server still applies the event-name rules to lazy messages.
    let sock = TmpSock::new("guarded");
    let guarded = Config { lazy_data: true, ..cfg(false).with_profile(Profile::Guarded) };
    let mut server = Server::serve_path(&sock.0, &guarded).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &cfg(true));
    client.emit("hello", &json!({"n": 1.5})).unwrap();
    let (m, peer) = smsg(&mut server).await;
    assert_eq!((m.ty(), m.raw_data().get()), ("hello", r#"{"n":1.5}"#));
    peer.emit("reply", &m.raw_data()).unwrap();
    loop {
        match cev(&mut client).await {
            ClientEvent::Connect => {}
            ClientEvent::Message(m) => {
                assert!(m.is_lazy());
                assert_eq!((m.ty(), m.data_as::<Value>().unwrap()), ("reply", json!({"n": 1.5})));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    client.send_raw(b"{\"type\":\"connect\",\"data\":1}\x0c").unwrap();
    match snext(&mut server).await {
        ServerEvent::Error { error, .. } => assert_eq!(error.error_code(), Some(ErrorCode::ReservedEvent)),
        other => panic!("unexpected {other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn lazy_udp_server() {
    let mut server = UdpServer::serve_net("127.0.0.1", 0, &cfg(true)).await.unwrap();
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(b"{\"type\":\"ping\",\"data\":{\"a\": [1.0]}}\x0c", server.local_addr()).unwrap();
    let ev = bounded("udp event", server.recv()).await.unwrap();
    let UdpEvent::Message { message, from } = ev else { panic!("unexpected {ev:?}") };
    assert_eq!((message.ty(), message.raw_data().get()), ("ping", r#"{"a": [1.0]}"#));
    server.emit_to(from, "pong", &message.raw_data()).await.unwrap();
    let mut buf = [0u8; 256];
    sock.set_read_timeout(Some(LIMIT)).unwrap();
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"{\"type\":\"pong\",\"data\":{\"a\": [1.0]}}\x0c");
    server.shutdown().await;
}

#[tokio::test]
async fn a_long_lazy_echo_keeps_order_across_reads() {
    // Many reads' worth of frames (the event batches are reused): every echo arrives, in order.
    let sock = TmpSock::new("burst");
    let mut server = Server::serve_path(&sock.0, &cfg(true)).await.unwrap();
    let mut client = Client::connect_path(&sock.0, &cfg(true));
    const N: u64 = 20_000;
    #[derive(Serialize, Deserialize)]
    struct Seq<'a> {
        seq: u64,
        s: &'a str,
    }
    for seq in 0..N {
        client.emit("echo", &Seq { seq, s: "padding padding padding" }).unwrap();
    }
    let echo = async {
        let mut n = 0;
        while n < N {
            let (m, peer) = smsg(&mut server).await;
            peer.emit("echo", &m.raw_data()).unwrap();
            n += 1;
        }
    };
    let check = async {
        let mut next = 0;
        while next < N {
            match cev(&mut client).await {
                ClientEvent::Connect => {}
                ClientEvent::Message(m) => {
                    let s: Seq = m.data_as().unwrap();
                    assert_eq!((s.seq, s.s), (next, "padding padding padding"));
                    next += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    tokio::join!(echo, check);
    server.shutdown().await;
}
