//! The profile rules against the shared fixture (`tests/fixtures/profile_cases.json`), which
//! `node --test __test__/profile-rules.test.js` runs against the Node shim's `lib/profile.js` too:
//! one table, two implementations.

use node_ipc_rs::codec::{FrameDecoder, Step};
use node_ipc_rs::message::EventType;
use node_ipc_rs::profile::{check_frame_size, Profile, Rules, DEFAULT_MAX_EVENT_NAME_LENGTH};
use serde_json::Value;

fn fixture() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/profile_cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `{"repeat": s, "times": n}` stands for `s` repeated `n` times.
fn expand(v: &Value) -> Value {
    match v.get("repeat") {
        Some(Value::String(s)) => Value::String(s.repeat(v["times"].as_u64().unwrap() as usize)),
        _ => v.clone(),
    }
}

fn rules(config: &Value) -> Rules {
    let profile = Profile::from_name(config["parser"].as_str().unwrap()).unwrap();
    let max =
        config.get("maxEventNameLength").and_then(Value::as_u64).map_or(DEFAULT_MAX_EVENT_NAME_LENGTH, |m| m as usize);
    let allow_reserved = config.get("allowReservedEvents").and_then(Value::as_bool).unwrap_or(false);
    let allowed: Option<Vec<String>> = config
        .get("allowedEvents")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect());
    Rules::new(profile, max, allow_reserved, allowed.as_deref()).unwrap()
}

fn code<T>(r: Result<T, node_ipc_rs::profile::Violation>) -> Value {
    match r {
        Ok(_) => Value::Null,
        Err(v) => Value::String(v.code.as_str().to_string()),
    }
}

#[test]
fn event_names() {
    let fx = fixture();
    let mut checked = 0;
    for c in fx["names"].as_array().unwrap() {
        let r = rules(&fx["configs"][c["config"].as_str().unwrap()]);
        let ty = match expand(&c["type"]) {
            Value::String(s) => EventType::String(s),
            _ => EventType::Other,
        };
        assert_eq!(code(r.check_type(&ty)), c["code"], "{c}");
        checked += 1;
    }
    assert!(checked > 50);
}

#[test]
fn frames() {
    let fx = fixture();
    for c in fx["frames"].as_array().unwrap() {
        let r = rules(&fx["configs"][c["config"].as_str().unwrap()]);
        let frame = c["frame"].as_str().unwrap();
        assert_eq!(code(r.decode(frame.as_bytes())), c["code"], "{c}");
    }
}

#[test]
fn sizes_complete_frames_and_remainders() {
    let fx = fixture();
    for c in fx["sizes"].as_array().unwrap() {
        let max = c["maxMessageSize"].as_u64().unwrap() as usize;
        let text = expand(&c["text"]);
        let text = text.as_str().unwrap().as_bytes();
        let want = &c["code"];
        assert_eq!(code(check_frame_size(text.len(), Some(max))), *want, "rule, {} bytes", text.len());
        // The decoder enforces the same rule on a complete frame...
        let mut dec = FrameDecoder::new(b"\x0c", Some(max));
        let mut framed = text.to_vec();
        framed.push(b'\x0c');
        let got = match dec.decode(&framed) {
            Ok(Step::Frame(n)) => {
                assert_eq!(n, text.len());
                Value::Null
            }
            Err(e) => Value::String(e.code().into()),
            other => panic!("{other:?}"),
        };
        assert_eq!(got, *want, "complete frame of {} bytes", text.len());
        // ...and on an unfinished remainder.
        let mut dec = FrameDecoder::new(b"\x0c", Some(max));
        let got = match dec.decode(text) {
            Ok(Step::NeedMore) => Value::Null,
            Err(e) => Value::String(e.code().into()),
            other => panic!("{other:?}"),
        };
        assert_eq!(got, *want, "remainder of {} bytes", text.len());
    }
}

#[test]
fn limits() {
    let fx = fixture();
    for c in fx["limits"].as_array().unwrap() {
        let cfg = &c["config"];
        let profile = Profile::from_name(cfg["parser"].as_str().unwrap()).unwrap();
        // Typed Rust settings cannot hold "1024" or 1.5: what is left to refuse is 0, a negative
        // value, and a missing or empty allow-list.
        let positive = |k: &str| match cfg.get(k) {
            None => true,
            Some(Value::String(s)) => s == "Infinity",
            Some(v) => v.as_u64().is_some_and(|n| n > 0) || (k == "messageTimeout" && v.as_u64() == Some(0)),
        };
        let typed_ok =
            ["maxMessageSize", "maxPendingBytes", "maxEventNameLength", "messageTimeout"].iter().all(|k| positive(k));
        let allowed: Option<Vec<String>> = cfg
            .get("allowedEvents")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect());
        let max_len = cfg.get("maxEventNameLength").and_then(Value::as_u64).unwrap_or(256) as usize;
        let rules_ok = Rules::new(profile, max_len, false, allowed.as_deref()).is_ok();
        let list_ok = cfg.get("allowedEvents").map_or(true, Value::is_array);
        assert_eq!(typed_ok && rules_ok && list_ok, c["ok"].as_bool().unwrap(), "{c}");
    }
}
