//! Properties checked by the fuzz targets (`cargo +nightly fuzz run <target>`, fuzz/fuzz_targets/)
//! and, on seeded random inputs plus every committed corpus file, by `cargo test --test
//! fuzz_smoke` on stable. Each takes raw fuzzer bytes and panics when the property fails.
//!
//! Only `node_ipc_rs` and `serde_json` are used, so the same file compiles in both places.

#![allow(dead_code)]

use node_ipc_rs::batch::{FrameArray, TypeTable};
use node_ipc_rs::codec::FrameDecoder;
use node_ipc_rs::inbound::Inbound;
use node_ipc_rs::message::{self, PROTOTYPE_NAMES};
use node_ipc_rs::{js_json, jsonscan, ErrorCode};
use serde_json::Value;

/// Reads fuzzer bytes as a few small choices, then the rest as payload.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from(self.byte()) | u16::from(self.byte()) << 8
    }

    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }

    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// The obvious splitter: non-overlapping delimiter matches, left to right, over the whole stream.
/// Returns the complete frames and the unfinished tail.
pub fn naive_split<'a>(stream: &'a [u8], delim: &[u8]) -> (Vec<&'a [u8]>, &'a [u8]) {
    let mut frames = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + delim.len() <= stream.len() {
        if &stream[i..i + delim.len()] == delim {
            frames.push(&stream[start..i]);
            i += delim.len();
            start = i;
        } else {
            i += 1;
        }
    }
    (frames, &stream[start..])
}

/// Frame decoder (through `Inbound`, as every transport uses it, and `FrameArray`) vs the naive
/// splitter, for any delimiter (1–4 bytes), any split points and any limit: the same frames in
/// order, an error exactly when the reference has a frame (or a tail) over the limit, and the
/// frames before it delivered.
pub fn frame_decoder(data: &[u8]) {
    let mut inp = Input::new(data);
    let dlen = 1 + (inp.byte() % 4) as usize;
    // Delimiters from a small alphabet, so that they occur (and overlap) often.
    let delim: Vec<u8> = (0..dlen).map(|_| b"\x0c|ab"[(inp.byte() % 4) as usize]).collect();
    let max = match inp.byte() % 3 {
        0 => None,
        _ => Some((inp.u16() % 64) as usize),
    };
    let nsplits = (inp.byte() % 8) as usize;
    let mut cuts: Vec<usize> = (0..nsplits).map(|_| inp.u16() as usize).collect();
    let stream = inp.rest();
    for c in &mut cuts {
        *c %= stream.len() + 1;
    }
    cuts.sort_unstable();
    cuts.push(stream.len());

    let (ref_frames, ref_tail) = naive_split(stream, &delim);
    let limit = max.unwrap_or(usize::MAX);
    let ref_bad = ref_frames.iter().position(|f| f.len() > limit);
    let ref_ok = &ref_frames[..ref_bad.unwrap_or(ref_frames.len())];
    // An unfinished tail is over the limit once more than `limit` bytes precede its last
    // `delim.len() - 1` (which may be the start of the delimiter).
    let ref_error = ref_bad.is_some() || ref_tail.len().saturating_sub(delim.len() - 1) > limit;

    let mut inb = Inbound::new(Some(FrameDecoder::new(&delim, max)));
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut error = false;
    let mut arr = FrameArray::default();
    // Frames in node-ipc's layout are split (event name numbers) and must come back as received.
    let mut types = TypeTable::default();
    let mut at = 0;
    'chunks: for &cut in &cuts {
        inb.push(&stream[at..cut]);
        at = cut;
        let d = inb.decode();
        let batch = inb.batch(&d).to_vec();
        arr.build(&batch, &delim, Some(&mut types));
        assert_eq!(arr.len(), d.frames, "FrameArray frame count");
        for i in 0..arr.len() {
            got.push(arr.frame(i).to_vec());
        }
        inb.consume(&d);
        if d.error.is_some() {
            error = true;
            break 'chunks;
        }
    }
    assert_eq!(error, ref_error, "error: decoder {error}, reference {ref_error} (delim {delim:?}, max {max:?})");
    if error {
        // Frames before the first bad one; with a tail over the limit, the decoder may stop at the
        // read where the tail first grew past it, having delivered every complete frame before.
        assert!(got.len() <= ref_ok.len(), "more frames than the reference before the error");
        for (g, r) in got.iter().zip(ref_ok) {
            assert_eq!(g.as_slice(), *r);
        }
        if ref_bad.is_some() {
            assert_eq!(got.len(), ref_ok.len(), "frames before the oversize one");
        }
    } else {
        let refs: Vec<&[u8]> = ref_frames.to_vec();
        assert_eq!(got.iter().map(|g| g.as_slice()).collect::<Vec<_>>(), refs);
        assert_eq!(inb.partial_len(), ref_tail.len(), "unfinished tail");
    }
}

/// The Rust API's envelope decoder vs serde_json's reader plus node-ipc's rules: invalid JSON,
/// not an object, no non-empty string `type` (or a prototype name) are the three errors; otherwise
/// the message is the last `type` and the last `data` of the object. The lazy decoder
/// (`Config::lazy_data`) agrees with it ([`lazy_envelope`]).
pub fn envelope(data: &[u8]) {
    lazy_envelope(data);
    let got = message::decode(data);
    let parsed: Result<Value, _> = serde_json::from_slice(data);
    match parsed {
        Err(e) => {
            // The envelope reader skips members other than type/data without building them, so it
            // accepts there what JSON.parse accepts and serde_json's Value reader does not (invalid
            // UTF-8, lone surrogate escapes, numbers out of f64's range, deep nesting). Never more
            // than JSON.parse accepts.
            if let Ok(m) = &got {
                assert!(js_accepts(data), "decoded {m:?} from text JSON.parse rejects: {e}");
            }
        }
        Ok(v) => match (&v, got) {
            (Value::Object(map), Ok(m)) => {
                let ty = map.get("type").and_then(Value::as_str).expect("a string type");
                assert_eq!(m.ty(), ty);
                assert!(!ty.is_empty() && !PROTOTYPE_NAMES.contains(&ty));
                assert_eq!(m.data, map.get("data").cloned().unwrap_or(Value::Null));
            }
            (Value::Object(map), Err((code, _))) => {
                let ty = map.get("type").and_then(Value::as_str);
                let bad = match ty {
                    None => true,
                    Some(t) => t.is_empty() || PROTOTYPE_NAMES.contains(&t),
                };
                assert!(bad && code == ErrorCode::InvalidEvent, "{code:?} for {v}");
            }
            (_, Ok(m)) => panic!("decoded {m:?} from a non-object {v}"),
            (_, Err((code, _))) => assert_eq!(code, ErrorCode::InvalidMessage, "for {v}"),
        },
    }
}

/// Whether `JSON.parse` accepts `text` (after the lossy UTF-8 decoding JS applies): RFC 8259
/// syntax, any byte >= 0x80 inside strings, lone surrogate escapes, numbers of any magnitude,
/// nesting of any depth.
pub fn js_accepts(text: &[u8]) -> bool {
    fn ws(t: &[u8], mut i: usize) -> usize {
        while i < t.len() && matches!(t[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }
    fn digits(t: &[u8], mut i: usize) -> (usize, usize) {
        let start = i;
        while i < t.len() && t[i].is_ascii_digit() {
            i += 1;
        }
        (i, i - start)
    }
    fn value(t: &[u8], i: usize) -> Option<usize> {
        let i = ws(t, i);
        match *t.get(i)? {
            b'{' => {
                let mut i = ws(t, i + 1);
                if t.get(i) == Some(&b'}') {
                    return Some(i + 1);
                }
                loop {
                    if t.get(i) != Some(&b'"') {
                        return None;
                    }
                    i = ws(t, string(t, i)?);
                    if t.get(i) != Some(&b':') {
                        return None;
                    }
                    i = ws(t, value(t, i + 1)?);
                    match t.get(i)? {
                        b',' => i = ws(t, i + 1),
                        b'}' => return Some(i + 1),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let mut i = ws(t, i + 1);
                if t.get(i) == Some(&b']') {
                    return Some(i + 1);
                }
                loop {
                    i = ws(t, value(t, i)?);
                    match t.get(i)? {
                        b',' => i += 1,
                        b']' => return Some(i + 1),
                        _ => return None,
                    }
                }
            }
            b'"' => string(t, i),
            b't' => t[i..].starts_with(b"true").then_some(i + 4),
            b'f' => t[i..].starts_with(b"false").then_some(i + 5),
            b'n' => t[i..].starts_with(b"null").then_some(i + 4),
            _ => number(t, i),
        }
    }
    fn string(t: &[u8], mut i: usize) -> Option<usize> {
        i += 1;
        loop {
            match *t.get(i)? {
                b'"' => return Some(i + 1),
                b'\\' => match *t.get(i + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                    b'u' => {
                        let hex = t.get(i + 2..i + 6)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        i += 6;
                    }
                    _ => return None,
                },
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
    }
    fn number(t: &[u8], mut i: usize) -> Option<usize> {
        if t.get(i) == Some(&b'-') {
            i += 1;
        }
        match t.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(t, i).0,
            _ => return None,
        }
        if t.get(i) == Some(&b'.') {
            let (j, n) = digits(t, i + 1);
            if n == 0 {
                return None;
            }
            i = j;
        }
        if matches!(t.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(t.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let (j, n) = digits(t, i);
            if n == 0 {
                return None;
            }
            i = j;
        }
        Some(i)
    }
    matches!(value(text, 0), Some(end) if ws(text, end) == text.len())
}

/// Errors of serde_json's `Value` reader for JSON text that is well-formed (JSON.parse accepts
/// it): the lazy decoder only checks syntax and leaves these to `data_as`.
fn value_level(msg: &str) -> bool {
    ["number out of range", "recursion limit exceeded", "lone leading surrogate", "unexpected end of hex escape"]
        .iter()
        .any(|m| msg.contains(m))
}

/// The lazy decoder vs the full one: the same frames are accepted with the same type and a payload
/// that decodes to the same value (and gives the same peer id), the same frames are refused with
/// the same code, except where the full decode refuses a `data` member for a reason beyond syntax
/// ([`value_level`]): then the lazy message is delivered, as `JSON.parse` would accept the frame
/// (found by the envelope fuzzer: a `data` member out of range and overwritten by a later one).
pub fn lazy_envelope(data: &[u8]) {
    let eager = message::decode(data);
    let lazy = message::decode_lazy(data);
    match (&eager, &lazy) {
        (Ok(m), Ok(l)) => {
            assert_eq!(l.ty(), m.ty());
            let v: Value = l.data_as().unwrap_or_else(|e| panic!("lazy data of {m:?} does not decode: {e}"));
            assert_eq!(v, m.data);
            assert_eq!(l.data_id(), m.data_id());
            assert_eq!(serde_json::from_str::<Value>(l.raw_data().get()).ok().as_ref(), Some(&m.data));
        }
        (Ok(m), Err(e)) => panic!("lazy decode refused {e:?} what the full decode accepted: {m:?}"),
        (Err((code, msg)), Ok(l)) => {
            assert!(*code == ErrorCode::InvalidJson && value_level(msg), "lazy accepted what failed with {msg}");
            assert!(js_accepts(data), "lazy accepted {l:?} from text JSON.parse rejects");
        }
        (Err((a, msg)), Err((b, _))) => {
            assert!(a == b || (*a == ErrorCode::InvalidJson && value_level(msg)), "{a:?} ({msg}) vs lazy {b:?}");
        }
    }
}

/// A JSON value built from fuzzer bytes (numbers of every serde_json kind, strings with any
/// character, keys that are and are not array indices).
pub fn arbitrary_value(inp: &mut Input, depth: u32) -> Value {
    let kind = inp.byte() % if depth > 4 { 6 } else { 8 };
    match kind {
        0 => Value::Null,
        1 => Value::Bool(inp.byte() & 1 == 1),
        2 => {
            let b = inp.take(8);
            let mut a = [0u8; 8];
            a[..b.len()].copy_from_slice(b);
            let f = f64::from_le_bytes(a);
            serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
        }
        3 => {
            let b = inp.take(8);
            let mut a = [0u8; 8];
            a[..b.len()].copy_from_slice(b);
            Value::from(i64::from_le_bytes(a) >> (inp.byte() % 64))
        }
        4 => {
            let b = inp.take(8);
            let mut a = [0u8; 8];
            a[..b.len()].copy_from_slice(b);
            Value::from(u64::from_le_bytes(a) >> (inp.byte() % 64))
        }
        5 => Value::String(arbitrary_string(inp)),
        6 => {
            let n = inp.byte() % 5;
            Value::Array((0..n).map(|_| arbitrary_value(inp, depth + 1)).collect())
        }
        _ => {
            let n = inp.byte() % 5;
            let mut m = serde_json::Map::new();
            for _ in 0..n {
                let k = match inp.byte() % 3 {
                    0 => (inp.u16() % 20).to_string(),
                    1 => format!("0{}", inp.byte() % 10),
                    _ => arbitrary_string(inp),
                };
                m.insert(k, arbitrary_value(inp, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn arbitrary_string(inp: &mut Input) -> String {
    let n = (inp.byte() % 12) as usize;
    String::from_utf8_lossy(inp.take(n)).into_owned()
}

/// The JS-compatible JSON writer vs serde_json's reader: the text parses back to the same value
/// (numbers as the JS double they become), keys come out in JS's order (array indices first,
/// ascending, then the others in insertion order), and writing the parsed value again gives the
/// same bytes.
pub fn js_json_writer(data: &[u8]) {
    let mut inp = Input::new(data);
    let v = arbitrary_value(&mut inp, 0);
    let text = js_json::to_vec(&v).expect("any Value serializes");
    let back: Value =
        serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&text)));
    assert_same_js(&v, &back);
    let again = js_json::to_vec(&back).unwrap();
    assert_eq!(again, text, "writing the parsed value again");
}

fn assert_same_js(a: &Value, b: &Value) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(x == y, "number {x} came back as {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len());
            for (p, q) in x.iter().zip(y) {
                assert_same_js(p, q);
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.len(), y.len());
            let keys: Vec<&String> = y.keys().collect();
            let idx: Vec<u64> =
                keys.iter().take_while(|k| js_json::is_array_index(k)).map(|k| k.parse().unwrap()).collect();
            assert!(idx.windows(2).all(|w| w[0] < w[1]), "array-index keys ascending first: {keys:?}");
            assert!(keys[idx.len()..].iter().all(|k| !js_json::is_array_index(k)), "{keys:?}");
            let others: Vec<&String> = x.keys().filter(|k| !js_json::is_array_index(k)).collect();
            assert_eq!(others, keys[idx.len()..].to_vec(), "other keys keep their order");
            for (k, p) in x {
                assert_same_js(p, &y[k]);
            }
        }
        _ => assert_eq!(a, b),
    }
}

/// Splits fuzzer bytes into frames at 0x0C (the default delimiter never occurs inside a frame).
pub fn frames_of(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == 0x0c).collect()
}

/// The exactness scan vs a real JSON parser. Completeness: every frame serde_json accepts passes
/// the scan (well-formed traffic keeps the fast path). Soundness: when the batch's pieces all pass
/// (`exact`) and its array parses, it holds two elements per frame, and pair i is what frame i
/// parses to on its own — `-1` and the frame's value, or the number of the frame's event name and
/// its `data` — so the batch path can never produce a message that per-frame decoding would not.
/// Checked with frames sent whole and with node-ipc envelopes split.
pub fn exact_scan(data: &[u8]) {
    let frames = frames_of(data);
    let mut all = true;
    for f in &frames {
        let one = jsonscan::is_single_value(f);
        if serde_json::from_slice::<serde::de::IgnoredAny>(f).is_ok() {
            assert!(one, "valid JSON failed the scan: {:?}", String::from_utf8_lossy(f));
        }
        all &= one;
    }
    let mut batch = Vec::new();
    for f in &frames {
        batch.extend_from_slice(f);
        batch.push(0x0c);
    }
    let mut arr = FrameArray::default();
    // Sent whole, the array is exact exactly when every frame passes the scan.
    arr.build(&batch, b"\x0c", None);
    assert_eq!(arr.exact(), all);
    check_pairs(&arr, &frames, &[]);
    // Split, a frame may be exact as data where it is not whole (never the other way round
    // for a frame that parses), and what parses must still match frame by frame.
    let mut types = TypeTable::default();
    arr.build(&batch, b"\x0c", Some(&mut types));
    let names: Vec<&[u8]> = arr.added_types().split(|&b| b == b'\n').collect();
    check_pairs(&arr, &frames, &names);
}

fn check_pairs(arr: &FrameArray, frames: &[&[u8]], names: &[&[u8]]) {
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(&*arr.frame(i), *f, "frame {i} comes back as received");
    }
    if !arr.exact() {
        return;
    }
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(arr.text()) else { return };
    assert_eq!(items.len(), 2 * frames.len(), "element count of {:?}", String::from_utf8_lossy(arr.text()));
    // JS skips its per-message look when no pair is whole: the count must be right.
    let whole = items.chunks(2).filter(|p| p[0].as_i64() == Some(-1)).count();
    assert_eq!(arr.whole(), whole, "whole frames in {:?}", String::from_utf8_lossy(arr.text()));
    for (pair, f) in items.chunks(2).zip(frames) {
        let alone: Value = serde_json::from_slice(f)
            .unwrap_or_else(|e| panic!("frame {:?} parses in the array, not alone: {e}", String::from_utf8_lossy(f)));
        match pair[0].as_i64() {
            Some(-1) => assert_eq!(pair[1], alone),
            Some(n) => {
                let name = std::str::from_utf8(names[n as usize]).unwrap();
                assert_eq!(alone["type"], Value::from(name), "split name of {:?}", String::from_utf8_lossy(f));
                assert_eq!(pair[1], alone["data"], "split data of {:?}", String::from_utf8_lossy(f));
                let members = alone.as_object().map(|o| o.len());
                assert_eq!(members, Some(2), "a split frame has exactly type and data");
            }
            None => panic!("pair without a number: {pair:?}"),
        }
    }
}

/// A property over raw fuzzer bytes.
pub type Property = fn(&[u8]);

/// All properties, by name (for the smoke test and the corpus replay).
pub const ALL: &[(&str, Property)] = &[
    ("frame_decoder", frame_decoder),
    ("envelope", envelope),
    ("js_json_writer", js_json_writer),
    ("exact_scan", exact_scan),
];
