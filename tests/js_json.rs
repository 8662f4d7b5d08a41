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
