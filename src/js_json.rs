//! JSON text exactly as JavaScript's `JSON.stringify` writes it.
//!
//! serde_json and JS agree on strings, `null`, booleans, arrays and the layout of objects, but not
//! on numbers or on the order of object keys:
//!
//! | value | serde_json | `JSON.stringify` |
//! |---|---|---|
//! | `1.0_f64` | `1.0` | `1` |
//! | `1e21` | `1e21` | `1e+21` |
//! | `1.5e-7` | `1.5e-7` | `1.5e-7` |
//! | `123456789012345680000.0` | `1.2345678901234568e20` | `123456789012345680000` |
//! | `-0.0` | `-0.0` | `0` |
//! | `9007199254740993_u64` | `9007199254740993` | `9007199254740992` (a JS number is a double) |
//! | `{"b":1,"1":2}` | as ordered in the map | `{"1":2,"b":1}` (array-index keys first, ascending) |
//!
//! [`JsFormatter`] fixes the numbers; [`to_writer`] / [`to_vec`] also fix the key order (in the
//! rare case an object has an array-index key such as `"0"` or `"42"`, the text is re-parsed and
//! written again with JS's order). With serde_json's `preserve_order` feature (enabled by this
//! crate) other keys keep their insertion order, as in JS.
//!
//! ```
//! use node_ipc_rs::js_json;
//! use serde_json::json;
//!
//! let v = json!({"b": 1.0, "1": [1e21, 1e-7, 0.1, -0.0]});
//! assert_eq!(js_json::to_string(&v).unwrap(), r#"{"1":[1e+21,1e-7,0.1,0],"b":1}"#);
//! ```

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;
use serde_json::Value;

/// Largest integer a JS number holds exactly (2^53 - 1).
const MAX_SAFE: u64 = (1 << 53) - 1;

/// A serde_json [`Formatter`] that writes numbers like JavaScript (`Number.prototype.toString`,
/// which `JSON.stringify` uses), compact like serde_json's default. It does not reorder keys: use
/// [`to_writer`] for byte-exact output with any keys.
///
/// ```
/// use node_ipc_rs::js_json::JsFormatter;
/// use serde::Serialize;
///
/// let mut out = Vec::new();
/// let mut ser = serde_json::Serializer::with_formatter(&mut out, JsFormatter);
/// (1.0_f64, 1e21_f64, 2.5e-7_f64).serialize(&mut ser).unwrap();
/// assert_eq!(out, b"[1,1e+21,2.5e-7]");
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct JsFormatter;

/// [`JsFormatter`] that also notes whether an object key may be an array index.
struct Tracking<'a> {
    in_key: bool,
    key_all_digits: bool,
    key_empty: bool,
    reorder: &'a std::cell::Cell<bool>,
}

/// Appends `value` to `out` the way JS's `Number.prototype.toString` writes it (`NaN` and the
/// infinities as `null`, as `JSON.stringify` does).
///
/// ```
/// let mut s = Vec::new();
/// node_ipc_rs::js_json::write_f64(&mut s, 1e21);
/// s.push(b' ');
/// node_ipc_rs::js_json::write_f64(&mut s, 0.000001);
/// assert_eq!(s, b"1e+21 0.000001");
/// ```
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if value == 0.0 {
        out.push(b'0');
        return;
    }
    // Integers below 2^53 are exact and print as integers (the common case: no digit search).
    if value.fract() == 0.0 && value.abs() <= MAX_SAFE as f64 {
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(value as i64).as_bytes());
        return;
    }
    let mut b = zmij::Buffer::new();
    layout(out, b.format_finite(value));
}

/// Like [`write_f64`] for an `f32`: its shortest decimal digits, laid out like JS.
pub fn write_f32(out: &mut Vec<u8>, value: f32) {
    if !value.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if value == 0.0 {
        out.push(b'0');
        return;
    }
    let mut b = zmij::Buffer::new();
    layout(out, b.format_finite(value));
}

/// Lays out a finite, non-zero number given in any shortest-digits notation (`1.5e-7`, `1e21`,
/// `123.25`) with ECMAScript's Number::toString rules.
fn layout(out: &mut Vec<u8>, repr: &str) {
    let bytes = repr.as_bytes();
    let (neg, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    let (mant, exp) = match rest.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => {
            let e = std::str::from_utf8(&rest[i + 1..]).ok().and_then(|s| s.parse::<i32>().ok()).unwrap_or(0);
            (&rest[..i], e)
        }
        None => (rest, 0),
    };
    // Digits without the point; `point` = digits before the point.
    let mut digits: Vec<u8> = Vec::with_capacity(24);
    let mut point = None;
    for &c in mant {
        if c == b'.' {
            point = Some(digits.len());
        } else {
            digits.push(c);
        }
    }
    let mut point = point.unwrap_or(digits.len()) as i32;
    // Strip leading zeros (moving the point) and trailing zeros.
    let lead = digits.iter().take_while(|&&c| c == b'0').count();
    digits.drain(..lead);
    point -= lead as i32;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        out.push(b'0');
        return;
    }
    // value = 0.d1d2…dk × 10^n, i.e. s × 10^(n−k) in the spec's terms.
    let k = digits.len() as i32;
    let n = point + exp;
    if neg {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.extend_from_slice(&digits);
        out.resize(out.len() + (n - k) as usize, b'0');
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&digits[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-n) as usize, b'0');
        out.extend_from_slice(&digits);
    } else {
        let e = n - 1;
        out.push(digits[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if e < 0 { b'-' } else { b'+' });
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(e.unsigned_abs()).as_bytes());
    }
}

fn write_buf<W: ?Sized + Write>(writer: &mut W, f: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
    let mut tmp = Vec::with_capacity(32);
    f(&mut tmp);
    writer.write_all(&tmp)
}

trait KeyInt {
    fn key_int(&mut self);
}

impl KeyInt for JsFormatter {
    fn key_int(&mut self) {}
}

impl KeyInt for Tracking<'_> {
    fn key_int(&mut self) {
        if self.in_key {
            // An integer map key (e.g. a HashMap<u32, _>): let the slow path decide.
            self.key_empty = false;
        }
    }
}

macro_rules! number_methods {
    () => {
        fn write_i64<W: ?Sized + Write>(&mut self, writer: &mut W, value: i64) -> io::Result<()> {
            self.key_int();
            if value.unsigned_abs() <= MAX_SAFE {
                let mut b = itoa::Buffer::new();
                writer.write_all(b.format(value).as_bytes())
            } else {
                write_buf(writer, |v| write_f64(v, value as f64))
            }
        }

        fn write_u64<W: ?Sized + Write>(&mut self, writer: &mut W, value: u64) -> io::Result<()> {
            self.key_int();
            if value <= MAX_SAFE {
                let mut b = itoa::Buffer::new();
                writer.write_all(b.format(value).as_bytes())
            } else {
                write_buf(writer, |v| write_f64(v, value as f64))
            }
        }

        fn write_i128<W: ?Sized + Write>(&mut self, writer: &mut W, value: i128) -> io::Result<()> {
            self.key_int();
            write_buf(writer, |v| write_f64(v, value as f64))
        }

        fn write_u128<W: ?Sized + Write>(&mut self, writer: &mut W, value: u128) -> io::Result<()> {
            self.key_int();
            write_buf(writer, |v| write_f64(v, value as f64))
        }

        fn write_i8<W: ?Sized + Write>(&mut self, writer: &mut W, value: i8) -> io::Result<()> {
            self.write_i64(writer, value as i64)
        }
        fn write_i16<W: ?Sized + Write>(&mut self, writer: &mut W, value: i16) -> io::Result<()> {
            self.write_i64(writer, value as i64)
        }
        fn write_i32<W: ?Sized + Write>(&mut self, writer: &mut W, value: i32) -> io::Result<()> {
            self.write_i64(writer, value as i64)
        }
        fn write_u8<W: ?Sized + Write>(&mut self, writer: &mut W, value: u8) -> io::Result<()> {
            self.write_u64(writer, value as u64)
        }
        fn write_u16<W: ?Sized + Write>(&mut self, writer: &mut W, value: u16) -> io::Result<()> {
            self.write_u64(writer, value as u64)
        }
        fn write_u32<W: ?Sized + Write>(&mut self, writer: &mut W, value: u32) -> io::Result<()> {
            self.write_u64(writer, value as u64)
        }

        fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
            self.key_int();
            write_buf(writer, |v| write_f32(v, value))
        }

        fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
            self.key_int();
            write_buf(writer, |v| write_f64(v, value))
        }

        fn write_number_str<W: ?Sized + Write>(&mut self, writer: &mut W, value: &str) -> io::Result<()> {
            // Only reachable with serde_json's arbitrary_precision: go through a double like JS would.
            self.key_int();
            match value.parse::<f64>() {
                Ok(f) => write_buf(writer, |v| write_f64(v, f)),
                Err(_) => writer.write_all(value.as_bytes()),
            }
        }
    };
}

impl Formatter for JsFormatter {
    number_methods!();
}

impl Formatter for Tracking<'_> {
    number_methods!();

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.in_key = true;
        self.key_all_digits = true;
        self.key_empty = true;
        if first {
            Ok(())
        } else {
            writer.write_all(b",")
        }
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        if self.in_key && !fragment.is_empty() {
            self.key_empty = false;
            if !fragment.bytes().all(|c| c.is_ascii_digit()) {
                self.key_all_digits = false;
            }
        }
        writer.write_all(fragment.as_bytes())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        char_escape: serde_json::ser::CharEscape,
    ) -> io::Result<()> {
        if self.in_key {
            self.key_empty = false;
            self.key_all_digits = false;
        }
        serde_json::ser::CompactFormatter.write_char_escape(writer, char_escape)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        if self.in_key && self.key_all_digits && !self.key_empty {
            self.reorder.set(true);
        }
        self.in_key = false;
        Ok(())
    }
}

/// True for keys JS treats as array indices (canonical decimal below 2^32 − 1); objects list
/// them first, in ascending numeric order.
pub fn is_array_index(key: &str) -> bool {
    if key.is_empty() || key.len() > 10 || !key.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    if key.len() > 1 && key.starts_with('0') {
        return false;
    }
    key.parse::<u64>().map(|n| n < u32::MAX as u64).unwrap_or(false)
}

/// Writes a [`Value`] with JS's number format and key order.
fn write_value_js(out: &mut Vec<u8>, v: &Value) -> serde_json::Result<()> {
    match v {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value_js(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut idx: Vec<(u32, &String, &Value)> = Vec::new();
            let mut rest: Vec<(&String, &Value)> = Vec::new();
            for (k, val) in map {
                if is_array_index(k) {
                    idx.push((k.parse().unwrap_or(0), k, val));
                } else {
                    rest.push((k, val));
                }
            }
            idx.sort_by_key(|e| e.0);
            out.push(b'{');
            let mut first = true;
            for (k, val) in idx.into_iter().map(|(_, k, v)| (k, v)).chain(rest) {
                if !first {
                    out.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut *out, k)?;
                out.push(b':');
                write_value_js(out, val)?;
            }
            out.push(b'}');
        }
        other => {
            let mut ser = serde_json::Serializer::with_formatter(&mut *out, JsFormatter);
            other.serialize(&mut ser)?;
        }
    }
    Ok(())
}

/// Appends the JSON text JS's `JSON.stringify` would produce for `value` to `out`.
///
/// On error `out` may hold a partial write; callers that care truncate it back.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Reading { celsius: f64, at: u64 }
/// let mut out = Vec::new();
/// node_ipc_rs::js_json::to_writer(&mut out, &Reading { celsius: 20.0, at: 1700000000000 }).unwrap();
/// assert_eq!(out, br#"{"celsius":20,"at":1700000000000}"#);
/// ```
pub fn to_writer<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> serde_json::Result<()> {
    let start = out.len();
    let reorder = std::cell::Cell::new(false);
    let fmt = Tracking { in_key: false, key_all_digits: false, key_empty: true, reorder: &reorder };
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, fmt);
    value.serialize(&mut ser)?;
    if reorder.get() {
        // Rare: an object has an array-index key. Re-read and write with JS's key order.
        let v: Value = serde_json::from_slice(&out[start..])?;
        out.truncate(start);
        write_value_js(out, &v)?;
    }
    Ok(())
}

/// [`to_writer`] into a new `Vec`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    to_writer(&mut out, value)?;
    Ok(out)
}

/// [`to_writer`] into a new `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let v = to_vec(value)?;
    // serde_json only writes UTF-8.
    Ok(String::from_utf8(v).expect("JSON text is UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(x: f64) -> String {
        let mut v = Vec::new();
        write_f64(&mut v, x);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn numbers_like_js() {
        assert_eq!(f(1.0), "1");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(123456789012345680000.0), "123456789012345680000");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(0.000001), "0.000001");
        assert_eq!(f(1.2345e-6), "0.0000012345");
        assert_eq!(f(-1.5), "-1.5");
        assert_eq!(f(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(f(5e-324), "5e-324");
        assert_eq!(f(f64::NAN), "null");
        assert_eq!(f(9007199254740993.0), "9007199254740992");
        assert_eq!(f(1.7976931348623157e300), "1.7976931348623156e+300"); // as node prints it
    }

    #[test]
    fn keys_like_js() {
        let v: Value = serde_json::from_str(r#"{"b":1,"10":2,"2":3,"02":4,"a":{"x":1,"0":2}}"#).unwrap();
        assert_eq!(to_string(&v).unwrap(), r#"{"2":3,"10":2,"b":1,"02":4,"a":{"0":2,"x":1}}"#);
        assert_eq!(to_string(&json!({"z":1,"a":2})).unwrap(), r#"{"z":1,"a":2}"#);
    }
}
