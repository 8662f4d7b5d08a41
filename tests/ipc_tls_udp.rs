//! The async API over TLS (tokio-rustls, fixtures in `__test__/fixtures`) and UDP (udp4, udp6).
//! Every test is bounded in time.

use std::net::{SocketAddr, UdpSocket as StdUdp};
use std::path::PathBuf;
use std::time::Duration;

use node_ipc_rs::ipc::{Client, ClientEvent, Config, Server, ServerEvent, TlsConfig, UdpEvent, UdpServer};
use serde_json::{json, Value};

mod common;
use common::*;

fn fx(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("__test__/fixtures").join(name)
}

fn cfg() -> Config {
    Config { retry: Duration::from_millis(20), ..Config::default() }
}

fn with_tls(tls: TlsConfig) -> Config {
    Config { tls: Some(tls), max_retries: Some(0), ..cfg() }
}

fn server_tls(cert: &str, key: &str) -> TlsConfig {
    TlsConfig { public: Some(fx(cert)), private: Some(fx(key)), ..TlsConfig::default() }
}

fn trusting_ca() -> TlsConfig {
    TlsConfig { trusted_connections: vec![fx("ca.pem")], ..TlsConfig::default() }
}

fn mtls_server() -> TlsConfig {
    TlsConfig { trusted_connections: vec![fx("ca.pem")], request_cert: true, ..server_tls("server.pem", "server.key") }
}

fn client_cert(cert: &str, key: &str) -> TlsConfig {
    TlsConfig { public: Some(fx(cert)), private: Some(fx(key)), ..trusting_ca() }
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

/// All client events until the stream ends (after `Destroy`).
async fn until_destroyed(c: &mut Client) -> Vec<String> {
    let mut seen = Vec::new();
    while let Some(e) = bounded("client events", c.recv()).await {
        seen.push(kind(&e));
    }
    seen
}

/// A TLS echo: the client sends, the server answers with the same data, the client gets it.
async fn echo(server: &mut Server, client: &mut Client, data: Value) {
    client.emit("echo", &data).unwrap();
    let peer = loop {
        match sev(server).await {
            ServerEvent::Connect(_) => {}
            ServerEvent::Message { message, peer } => {
                assert_eq!((message.ty(), &message.data), ("echo", &data));
                peer.emit("echo", &message.data).unwrap();
                break peer;
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(peer.remote_addr().is_some());
    match cev(client).await {
        ClientEvent::Message(m) => assert_eq!(m.data, data),
        other => panic!("expected the echo, got {other:?}"),
    }
}

#[tokio::test]
async fn tls_server_auth_round_trip_by_ip_and_name() {
    let mut server =
        Server::serve_net("127.0.0.1", 0, &with_tls(server_tls("server.pem", "server.key"))).await.unwrap();
    let addr = server.local_addr().unwrap();

    // By IP address: the certificate's SAN holds 127.0.0.1.
    let mut client = Client::connect_addr(addr, &with_tls(trusting_ca()));
    assert_eq!(kind(&cev(&mut client).await), "connect");
    assert!(matches!(sev(&mut server).await, ServerEvent::Connect(_)));
    echo(&mut server, &mut client, json!({"secret": "é✓", "n": 1})).await;

    // A burst in order and a large frame, through the split TLS stream.
    for i in 0..100 {
        client.emit("n", &i).unwrap();
    }
    let big = "x".repeat(1 << 20);
    client.emit("big", &big).unwrap();
    let mut got = Vec::new();
    let peer = loop {
        let ServerEvent::Message { message, peer } = sev(&mut server).await else { panic!("message expected") };
        if message.ty() == "big" {
            assert_eq!(message.data.as_str().map(str::len), Some(1 << 20));
            break peer;
        }
        got.push(message.data.as_i64().unwrap());
    };
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    peer.emit("big", &big).unwrap();
    let ClientEvent::Message(m) = cev(&mut client).await else { panic!("big reply") };
    assert_eq!(m.data.as_str().map(str::len), Some(1 << 20));
    client.disconnect();
    assert_eq!(until_destroyed(&mut client).await, ["disconnect", "destroy"]);
    assert!(matches!(sev(&mut server).await, ServerEvent::Disconnect { .. }));

    // By host name: localhost is in the SAN too.
    let mut client = Client::connect_net("localhost", addr.port(), &with_tls(trusting_ca()));
    assert!(bounded("connect by name", client.connected()).await);
    echo(&mut server, &mut client, json!("by name")).await;
    client.disconnect();
    server.shutdown().await;
}

#[tokio::test]
async fn tls_untrusted_server_refused_unless_reject_unauthorized_false() {
    let mut server = Server::serve_net("127.0.0.1", 0, &with_tls(server_tls("rogue.pem", "rogue.key"))).await.unwrap();
    let addr = server.local_addr().unwrap();

    let mut refused = Client::connect_addr(addr, &with_tls(trusting_ca()));
    let _ = refused.emit("sneak", &"must not cross"); // queued; the connection never comes up
    assert_eq!(until_destroyed(&mut refused).await, ["error:UNABLE_TO_VERIFY_LEAF_SIGNATURE", "disconnect", "destroy"]);
    // The server saw the client's alert as a handshake error, with no Connect.
    match sev(&mut server).await {
        ServerEvent::Error { error, peer: None } => assert_eq!(error.code(), Some("ERR_SSL_TLSV1_ALERT_UNKNOWN_CA")),
        other => panic!("expected a handshake error, got {other:?}"),
    }

    let insecure = TlsConfig { reject_unauthorized: false, ..TlsConfig::default() };
    let mut client = Client::connect_addr(addr, &with_tls(insecure));
    assert!(bounded("insecure connect", client.connected()).await);
    echo(&mut server, &mut client, json!("ok")).await;
    assert_eq!(server.connection_count(), 1);
    client.disconnect();
    server.shutdown().await;
}

#[tokio::test]
async fn tls_wrong_name_refused_with_altname_invalid() {
    let mut server =
        Server::serve_net("127.0.0.1", 0, &with_tls(server_tls("server.pem", "server.key"))).await.unwrap();
    let port = server.local_addr().unwrap().port();
    let tls = TlsConfig { servername: Some("other.example".into()), ..trusting_ca() };
    let mut client = Client::connect_net("127.0.0.1", port, &with_tls(tls));
    assert_eq!(until_destroyed(&mut client).await, ["error:ERR_TLS_CERT_ALTNAME_INVALID", "disconnect", "destroy"]);
    assert!(matches!(sev(&mut server).await, ServerEvent::Error { peer: None, .. }));
    assert_eq!(server.connection_count(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn tls_mutual_required_and_verified() {
    let mut server = Server::serve_net("127.0.0.1", 0, &with_tls(mtls_server())).await.unwrap();
    let addr = server.local_addr().unwrap();

    let mut good = Client::connect_addr(addr, &with_tls(client_cert("client.pem", "client.key")));
    assert!(bounded("mTLS connect", good.connected()).await);
    echo(&mut server, &mut good, json!("mutual")).await;

    // Without a certificate, and with one from an unknown CA. With TLS 1.3 the client finishes its
    // side of the handshake before the server has checked it: it may report Connect, then the
    // server's alert ends the connection. Nothing it sent crosses.
    for (tls, client_code, server_code) in [
        (trusting_ca(), "error:ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "ERR_TLS_PEER_CERTIFICATE_REQUIRED"),
        (
            client_cert("rogue.pem", "rogue.key"),
            "error:ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        ),
    ] {
        let mut bad = Client::connect_addr(addr, &with_tls(tls));
        let mut seen = Vec::new();
        while let Some(e) = bounded("refused client", bad.recv()).await {
            if matches!(e, ClientEvent::Connect) {
                let _ = bad.emit("sneak", &"must not cross");
            }
            seen.push(kind(&e));
        }
        assert!(seen.iter().any(|k| k == client_code), "{seen:?}");
        assert!(seen.ends_with(&["disconnect".to_string(), "destroy".to_string()]), "{seen:?}");
        match sev(&mut server).await {
            ServerEvent::Error { error, peer: None } => assert_eq!(error.code(), Some(server_code)),
            other => panic!("expected a handshake error, got {other:?}"),
        }
    }
    // Only the good client ever got through.
    good.emit("last", &1).unwrap();
    match sev(&mut server).await {
        ServerEvent::Message { message, .. } => assert_eq!(message.ty(), "last"),
        other => panic!("expected the good client's message, got {other:?}"),
    }
    assert!(server.try_recv().is_none());
    assert_eq!(server.connection_count(), 1);
    good.disconnect();
    server.shutdown().await;
}

#[tokio::test]
async fn tls_configuration_errors_have_codes() {
    let no_cert = TlsConfig { reject_unauthorized: false, ..TlsConfig::default() };
    let err = Server::serve_net("127.0.0.1", 0, &with_tls(no_cert)).await.unwrap_err();
    assert_eq!(err.code(), Some("ERR_IPC_TLS_CONFIGURATION"));
    let missing = TlsConfig { private: Some(fx("nope.key")), ..server_tls("server.pem", "server.key") };
    let err = Server::serve_net("127.0.0.1", 0, &with_tls(missing)).await.unwrap_err();
    assert_eq!(err.code(), Some("ENOENT"));

    let bad = TlsConfig { trusted_connections: vec![fx("nope.pem")], ..TlsConfig::default() };
    let mut client = Client::connect_net("127.0.0.1", 1, &with_tls(bad));
    assert_eq!(until_destroyed(&mut client).await, ["error:ENOENT", "destroy"]);
    let bad = TlsConfig { ca: vec![b"not pem".to_vec()], ..TlsConfig::default() };
    let mut client = Client::connect_net("127.0.0.1", 1, &with_tls(bad));
    assert_eq!(until_destroyed(&mut client).await, ["error:ERR_IPC_TLS_CONFIGURATION", "destroy"]);
}

#[tokio::test]
async fn tls_client_retries_after_a_failed_handshake() {
    // The server is untrusted: each attempt fails the same way; maxRetries 2 gives three attempts.
    let server = Server::serve_net("127.0.0.1", 0, &with_tls(server_tls("rogue.pem", "rogue.key"))).await.unwrap();
    let config = Config { max_retries: Some(2), ..with_tls(trusting_ca()) };
    let mut client = Client::connect_addr(server.local_addr().unwrap(), &config);
    let seen = until_destroyed(&mut client).await;
    let attempt = ["error:UNABLE_TO_VERIFY_LEAF_SIGNATURE", "disconnect"];
    assert_eq!(seen, [&attempt[..], &attempt[..], &attempt[..], &["destroy"]].concat());
    drop(server);
}

async fn udp_pair(host: &str) -> Option<(UdpServer, UdpServer)> {
    let addr: SocketAddr = format!("{host}:0").parse().unwrap();
    let a = UdpServer::bind(addr, &cfg()).await;
    if host.contains(':') && a.is_err() {
        eprintln!("no IPv6 loopback here: skipped");
        return None;
    }
    Some((a.unwrap(), UdpServer::bind(addr, &cfg()).await.unwrap()))
}

async fn udp_request_reply_burst(host: &str) {
    let Some((mut world, mut hello)) = udp_pair(host).await else { return };
    for i in 0..100 {
        hello
            .emit_to(world.local_addr(), "app.message", &json!({"id": "hello", "message": format!("m{i}")}))
            .await
            .unwrap();
    }
    let hello_addr = hello.local_addr();
    let replier = async {
        for _ in 0..100 {
            match uev(&mut world).await {
                UdpEvent::Message { message, from } => {
                    assert_eq!(from, hello_addr);
                    let text = message.data["message"].as_str().unwrap().to_string();
                    world
                        .emit_to(from, "app.message", &json!({"id": "world", "message": text + " world!"}))
                        .await
                        .unwrap();
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    let mut got = Vec::new();
    let collector = async {
        while got.len() < 100 {
            match uev(&mut hello).await {
                UdpEvent::Message { message, .. } => got.push(message.data["message"].as_str().unwrap().to_string()),
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    tokio::join!(replier, collector);
    assert_eq!(got, (0..100).map(|i| format!("m{i} world!")).collect::<Vec<_>>());
    assert_eq!(world.peers(), [hello.local_addr()]);
    world.shutdown().await;
    assert!(bounded("udp end", world.recv()).await.is_none());
    assert!(matches!(world.emit_to(hello.local_addr(), "x", &1).await, Err(node_ipc_rs::ipc::Error::Closed)));
}

#[tokio::test]
async fn udp4_request_reply_and_100_message_burst_in_order() {
    udp_request_reply_burst("127.0.0.1").await;
}

#[tokio::test]
async fn udp6_request_reply_and_100_message_burst_in_order() {
    udp_request_reply_burst("[::1]").await;
}

#[tokio::test]
async fn udp_serve_net_resolves_hosts_of_both_families() {
    let v4 = UdpServer::serve_net("127.0.0.1", 0, &cfg()).await.unwrap();
    assert!(v4.local_addr().is_ipv4());
    if let Ok(v6) = UdpServer::serve_net("::1", 0, &cfg()).await {
        assert!(v6.local_addr().is_ipv6());
        // An IPv6-only socket cannot send to an IPv4 address: an error, not a panic.
        assert!(v6.emit_to(v4.local_addr(), "x", &1).await.is_err());
    }
}

#[tokio::test]
async fn udp4_broadcast_reaches_every_peer_that_has_sent() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut hub = UdpServer::bind(any, &cfg()).await.unwrap();
    let mut a = UdpServer::bind(any, &cfg()).await.unwrap();
    let mut b = UdpServer::bind(any, &cfg()).await.unwrap();
    let silent = UdpServer::bind(any, &cfg()).await.unwrap();
    a.emit_to(hub.local_addr(), "hi", &json!({"id": "a"})).await.unwrap();
    b.emit_to(hub.local_addr(), "hi", &json!({"id": "b"})).await.unwrap();
    for _ in 0..2 {
        assert!(matches!(uev(&mut hub).await, UdpEvent::Message { .. }));
    }
    let mut peers = hub.peers();
    peers.sort();
    let mut expected = vec![a.local_addr(), b.local_addr()];
    expected.sort();
    assert_eq!(peers, expected);
    hub.broadcast("news", &1).await.unwrap();
    hub.broadcast("news", &2).await.unwrap();
    for s in [&mut a, &mut b] {
        for n in [1, 2] {
            match uev(s).await {
                UdpEvent::Message { message, from } => {
                    assert_eq!((message.ty(), message.data.as_i64(), from), ("news", Some(n), hub.local_addr()))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    drop(silent);
}

#[tokio::test]
async fn udp4_raw_mode_bytes_arrive_exactly() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let raw = Config { raw: true, ..cfg() };
    let mut s1 = UdpServer::bind(any, &raw).await.unwrap();
    let s2 = UdpServer::bind(any, &raw).await.unwrap();
    let payloads: [&[u8]; 3] = [&[0xde, 0xad, 0x41, 0xff, 0x00], &[0xc3, 0x28], b"no delimiter needed"];
    for p in payloads {
        s2.send_raw_to(s1.local_addr(), p).await.unwrap();
    }
    for p in payloads {
        match uev(&mut s1).await {
            UdpEvent::Data { data, from } => {
                assert_eq!(data, p);
                assert_eq!(from, s2.local_addr());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn udp4_plain_peer_bad_datagrams_and_oversize_sends() {
    let config = Config { max_frame: Some(1000), ..cfg() };
    let mut srv = UdpServer::bind("127.0.0.1:0".parse().unwrap(), &config).await.unwrap();
    let peer = StdUdp::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(LIMIT)).unwrap();
    let to = srv.local_addr();
    let big_frame = format!("{{\"type\":\"x\",\"data\":\"{}\"}}\x0c", "y".repeat(2000));
    for m in [
        "{\"type\":\"ok\",\"data\":1}\x0c{\"type\":\"ok\",\"data\":2}\x0c",
        "{bad\x0c",
        "{\"type\":\"ok\",\"data\":3}",
        "{\"type\":\"ok\",\"data\":4}\x0c{\"type\":\"ok\",",
        big_frame.as_str(),
        "{\"type\":\"ping\",\"data\":\"x\"}\x0c",
    ] {
        peer.send_to(m.as_bytes(), to).unwrap();
    }
    let mut seen = Vec::new();
    loop {
        match uev(&mut srv).await {
            UdpEvent::Message { message, from } => {
                assert_eq!(from, peer.local_addr().unwrap());
                if message.ty() == "ping" {
                    srv.emit_to(from, "pong", &message.data).await.unwrap();
                    break;
                }
                seen.push(format!("{}:{}", message.ty(), message.data));
            }
            UdpEvent::Error { error, from } => {
                assert_eq!(from, Some(peer.local_addr().unwrap()));
                seen.push(error.code().unwrap().to_string());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            "ok:1",
            "ok:2",
            "ERR_IPC_INVALID_JSON",
            "ERR_IPC_INCOMPLETE_FRAME",
            "ok:4",
            "ERR_IPC_INCOMPLETE_FRAME",
            "ERR_IPC_FRAME_TOO_LARGE"
        ]
    );
    let mut buf = [0u8; 100];
    let n = peer.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"{\"type\":\"pong\",\"data\":\"x\"}\x0c");

    // Over the datagram limit: EMSGSIZE, returned to the caller.
    let err = srv.emit_to(peer.local_addr().unwrap(), "big", &"x".repeat(70000)).await.unwrap_err();
    assert_eq!(err.code(), Some("EMSGSIZE"));
    // The server still works.
    srv.emit_to(peer.local_addr().unwrap(), "after", &1).await.unwrap();
    let n = peer.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"{\"type\":\"after\",\"data\":1}\x0c");
}

#[tokio::test]
async fn udp_bind_errors_are_returned() {
    let a = UdpServer::bind("127.0.0.1:0".parse().unwrap(), &cfg()).await.unwrap();
    let err = UdpServer::bind(a.local_addr(), &cfg()).await.unwrap_err();
    assert_eq!(err.code(), Some("EADDRINUSE"));
}
