//! The Rust encoder against text produced by node's `JSON.stringify` (fixture regenerated with
//! `node tests/fixtures/gen_js_json.js > tests/fixtures/js_json.json`).

use node_ipc_rs::js_json;
use serde_json::Value;

fn fixture() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/js_json.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn reencoding_node_output_gives_the_same_bytes() {
    let cases = fixture();
    assert!(cases.len() > 4000);
    let mut bad = Vec::new();
    for js in &cases {
        let v: Value = serde_json::from_str(js).unwrap();
        let rust = js_json::to_string(&v).unwrap();
        if &rust != js {
            bad.push(format!("node {js} rust {rust}"));
        }
    }
    assert!(bad.is_empty(), "{} mismatches, first: {:?}", bad.len(), &bad[..bad.len().min(10)]);
}

#[test]
fn f64_values_format_like_node() {
    for js in fixture() {
        if let Ok(x) = js.parse::<f64>() {
            let mut out = Vec::new();
            js_json::write_f64(&mut out, x);
            assert_eq!(String::from_utf8(out).unwrap(), js);
        }
    }
}

#[test]
fn envelope_matches_node_ipc_frame() {
    let mut out = Vec::new();
    let data = serde_json::json!({"id": "hello", "n": 1.0, "big": 1e21, "small": 1e-7});
    node_ipc_rs::message::encode_into(&mut out, "app.message", &data, b"\x0c").unwrap();
    assert_eq!(out, b"{\"type\":\"app.message\",\"data\":{\"id\":\"hello\",\"n\":1,\"big\":1e+21,\"small\":1e-7}}\x0c");
}

#[test]
fn raw_values_are_written_verbatim() {
    use serde_json::value::RawValue;
    // Text JS would write differently (spaces, `1.0`, `1E2`, an escape JS does not use, index keys
    // after others): a RawValue goes out exactly as it is, alone or inside other data.
    let text = r#"{ "b" : 1.0, "1": [1E2, -0.0, "\u00e9\/"] }"#;
    let raw = RawValue::from_string(text.to_string()).unwrap();
    assert_eq!(js_json::to_string(&raw).unwrap(), text);
    assert_eq!(js_json::to_string(&*raw).unwrap(), text);
    assert_eq!(js_json::to_string(&std::borrow::Cow::Borrowed(&*raw)).unwrap(), text);
    assert_eq!(js_json::to_string(&vec![&*raw, &*raw]).unwrap(), format!("[{text},{text}]"));
    #[derive(serde::Serialize)]
    struct Wrap<'a> {
        n: f64,
        inner: &'a RawValue,
    }
    assert_eq!(js_json::to_string(&Wrap { n: 2.0, inner: &raw }).unwrap(), format!(r#"{{"n":2,"inner":{text}}}"#));

    let mut out = Vec::new();
    node_ipc_rs::message::encode_into(&mut out, "echo", &raw, b"\x0c").unwrap();
    assert_eq!(out, format!("{{\"type\":\"echo\",\"data\":{text}}}\x0c").into_bytes());
    let m = node_ipc_rs::Message::from_raw("echo", raw.clone());
    assert_eq!(m.encode(b"\x0c").unwrap(), out);

    // What a node-ipc peer sends is JSON.stringify's text already: forwarding it unchanged is
    // what re-encoding the parsed value would give.
    for js in fixture().iter().take(500) {
        let raw = RawValue::from_string(js.clone()).unwrap();
        let v: Value = serde_json::from_str(js).unwrap();
        assert_eq!(js_json::to_string(&raw).unwrap(), js_json::to_string(&v).unwrap());
    }
}
