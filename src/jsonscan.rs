//! A structural scan that tells whether a frame is one JSON value, without parsing it.
//!
//! The Node binding hands JS all frames of a read as one JSON array (`[f1,f2,...]`) so that one
//! `JSON.parse` decodes them all. That is only the same as decoding each frame on its own when no
//! frame can move the array's element boundaries: a frame that ends inside a string, closes more
//! brackets than it opens, leaves one open, or holds a comma at its top level would merge with its
//! neighbours or split in two (`{"type":"a","data":"` + `"},{"type":"b"}` parse together as two
//! messages nobody sent). [`is_single_value`] rules that out: it tracks strings (with their
//! escapes) and nesting, and accepts a frame only if it is, structurally, exactly one value —
//! optional whitespace, one string, one bracketed value or one scalar token, optional whitespace.
//!
//! It does not validate: `{"a" 1}` passes, and the array parse then fails and the frames are
//! decoded one by one. What it guarantees is the converse: when every frame passes and the array
//! parses, element `i` of the array is exactly frame `i`'s text, so each message is what
//! `JSON.parse(frame_i)` gives. Every valid JSON text (RFC 8259) passes, so well-formed traffic
//! keeps the one-parse fast path.

/// Byte classes outside strings.
const WS: u8 = 1; // JSON whitespace
const OPEN: u8 = 2; // { [
const CLOSE: u8 = 3; // } ]
const QUOTE: u8 = 4; // "
const SEP: u8 = 5; // , :
const SCALAR: u8 = 0; // anything else: part of a number, literal or garbage token

const CLASS: [u8; 256] = {
    let mut t = [SCALAR; 256];
    t[b' ' as usize] = WS;
    t[b'\t' as usize] = WS;
    t[b'\n' as usize] = WS;
    t[b'\r' as usize] = WS;
    t[b'{' as usize] = OPEN;
    t[b'[' as usize] = OPEN;
    t[b'}' as usize] = CLOSE;
    t[b']' as usize] = CLOSE;
    t[b'"' as usize] = QUOTE;
    t[b',' as usize] = SEP;
    t[b':' as usize] = SEP;
    t
};

/// The index after the string whose opening quote is at `start`, or `None` if it never closes.
#[inline]
fn skip_string(frame: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    // Most strings in messages are short (keys, event names): look at the first bytes directly,
    // then let memchr take the long ones.
    let short = frame.len().min(i + 16);
    while i < short {
        match frame[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                i += 2;
                if i > frame.len() {
                    return None;
                }
                return skip_rest(frame, i);
            }
            _ => i += 1,
        }
    }
    skip_rest(frame, i)
}

/// [`skip_string`] from `i`, inside the string.
#[inline]
fn skip_rest(frame: &[u8], mut i: usize) -> Option<usize> {
    if i > frame.len() {
        return None;
    }
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', &frame[i..])?;
        if frame[j] == b'"' {
            return Some(j + 1);
        }
        // A backslash escapes the next byte, whatever it is (a parser rejects invalid escapes).
        i = j + 2;
        if i > frame.len() {
            return None;
        }
    }
}

/// True when `frame` is structurally exactly one JSON value (see the module docs). Empty and
/// whitespace-only frames are not.
pub fn is_single_value(frame: &[u8]) -> bool {
    let n = frame.len();
    let mut i = 0;
    let mut depth: usize = 0;
    let mut done = false; // a complete top-level value has been seen
    while i < n {
        let b = frame[i];
        match CLASS[b as usize] {
            WS => i += 1,
            QUOTE => {
                if depth == 0 && done {
                    return false;
                }
                match skip_string(frame, i) {
                    Some(next) => i = next,
                    None => return false,
                }
                if depth == 0 {
                    done = true;
                }
            }
            OPEN => {
                if depth == 0 && done {
                    return false;
                }
                depth += 1;
                i += 1;
            }
            CLOSE => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
                if depth == 0 {
                    done = true;
                }
                i += 1;
            }
            SEP => {
                if depth == 0 {
                    return false;
                }
                i += 1;
            }
            _ => {
                if depth == 0 {
                    if done {
                        return false;
                    }
                    // One scalar token: up to the next whitespace or structural byte.
                    while i < n && CLASS[frame[i] as usize] == SCALAR {
                        i += 1;
                    }
                    done = true;
                } else {
                    i += 1;
                }
            }
        }
    }
    depth == 0 && done
}

#[cfg(test)]
mod tests {
    use super::is_single_value as one;

    #[test]
    fn valid_values_pass() {
        for f in [
            r#"{"type":"a","data":1}"#,
            r#" {"type":"a","data":"x,y]}\"\\"} "#,
            r#"[1,[2,{"a":[]}],"]"]"#,
            "123",
            "-1.5e+3",
            "true",
            "null",
            r#""str""#,
            "\t\r\n{}\n",
            r#"{"a":"\u0041\"}"}"#,
            "{\"é\":\"日本\"}",
        ] {
            assert!(one(f.as_bytes()), "{f}");
        }
    }

    #[test]
    fn frames_that_would_move_boundaries_fail() {
        for f in [
            "",
            "   ",
            r#"{"type":"ping","data":""#,
            r#""},{"type":"ping","data":{"phantom":1}}"#,
            r#"{"type":"a"},{"type":"b"}"#,
            "1,2",
            "{}]",
            "]",
            "[",
            "{",
            r#"{"a":"\"}"#,
            r#""\"#,
            "1 2",
            "{} {}",
            r#""a" "b""#,
            r#""a"1"#,
            "{}1",
            "1{}",
            r#""a":1"#,
            "}{",
        ] {
            assert!(!one(f.as_bytes()), "{f:?}");
        }
    }

    #[test]
    fn not_a_validator() {
        // Structurally one value, invalid JSON: the array parse rejects it, per-frame decoding follows.
        assert!(one(br#"{"a" 1}"#));
        assert!(one(b"[}"));
        assert!(one(b"nul"));
    }
}
