//! The JSON envelope node-ipc puts in every frame: `{"type":T,"data":D}`, `type` first, no spaces.

use serde::Serialize;
use serde_json::Value;

use crate::error::ErrorCode;

/// One decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The event name.
    pub r#type: String,
    /// The payload (`Value::Null` when the frame had no `data`).
    pub data: Value,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize + ?Sized> {
    r#type: &'a str,
    data: &'a T,
}

/// Appends the frame for `(ty, data)` and the delimiter to `out`, byte for byte what node-ipc writes
/// for the same JSON value.
pub fn encode_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    ty: &str,
    data: &T,
    delimiter: &[u8],
) -> serde_json::Result<()> {
    serde_json::to_writer(&mut *out, &Envelope { r#type: ty, data })?;
    out.extend_from_slice(delimiter);
    Ok(())
}

/// Names that would reach `Object.prototype` if used as event keys in JS.
pub const PROTOTYPE_NAMES: &[&str] = &[
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
];

/// Parses one frame (delimiter excluded).
pub fn decode(frame: &[u8]) -> Result<Message, (ErrorCode, String)> {
    let value: Value = serde_json::from_slice(frame)
        .map_err(|e| (ErrorCode::InvalidJson, format!("invalid JSON in frame: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err((ErrorCode::InvalidMessage, "frame is not a JSON object".into()));
    };
    let ty = match obj.remove("type") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err((ErrorCode::InvalidEvent, "frame has no string `type`".into())),
    };
    if PROTOTYPE_NAMES.contains(&ty.as_str()) {
        return Err((ErrorCode::InvalidEvent, format!("event name {ty:?} is not allowed")));
    }
    let data = obj.remove("data").unwrap_or(Value::Null);
    Ok(Message { r#type: ty, data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_like_node_ipc() {
        let mut out = Vec::new();
        encode_into(&mut out, "app.message", &json!({"id":"hello","message":"hi\n\u{c}é"}), b"\x0c").unwrap();
        assert_eq!(
            out,
            "{\"type\":\"app.message\",\"data\":{\"id\":\"hello\",\"message\":\"hi\\n\\fé\"}}\x0c".as_bytes()
        );
    }

    #[test]
    fn decodes_and_rejects() {
        let m = decode(br#"{"type":"a","data":{"x":1},"extra":true}"#).unwrap();
        assert_eq!(m.r#type, "a");
        assert_eq!(m.data, json!({"x":1}));
        assert_eq!(decode(br#"{"type":"a"}"#).unwrap().data, Value::Null);
        assert_eq!(decode(b"{bad").unwrap_err().0, ErrorCode::InvalidJson);
        assert_eq!(decode(b"").unwrap_err().0, ErrorCode::InvalidJson);
        assert_eq!(decode(b"[1]").unwrap_err().0, ErrorCode::InvalidMessage);
        assert_eq!(decode(br#"{"type":5}"#).unwrap_err().0, ErrorCode::InvalidEvent);
        assert_eq!(decode(br#"{"type":"constructor"}"#).unwrap_err().0, ErrorCode::InvalidEvent);
    }
}
