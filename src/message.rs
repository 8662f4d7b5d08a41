//! The JSON envelope node-ipc puts in every frame: `{"type":T,"data":D}`, `type` first, no spaces.

use serde::de::DeserializeOwned;
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

impl Message {
    /// A message with event name `ty` and payload `data`.
    ///
    /// ```
    /// use node_ipc_rs::Message;
    /// let m = Message::new("app.message", serde_json::json!({"id": "hello"}));
    /// assert_eq!(m.ty(), "app.message");
    /// ```
    pub fn new(ty: impl Into<String>, data: Value) -> Message {
        Message { r#type: ty.into(), data }
    }

    /// The event name (the `type` member).
    pub fn ty(&self) -> &str {
        &self.r#type
    }

    /// The payload converted to any deserializable type.
    ///
    /// ```
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Hello { id: String, message: String }
    /// let m = node_ipc_rs::message::decode(br#"{"type":"app.message","data":{"id":"a","message":"hi"}}"#).unwrap();
    /// let h: Hello = m.data_as().unwrap();
    /// assert_eq!(h, Hello { id: "a".into(), message: "hi".into() });
    /// ```
    pub fn data_as<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        T::deserialize(&self.data)
    }

    /// Takes the payload as any deserializable type, without cloning it.
    pub fn into_data<T: DeserializeOwned>(self) -> serde_json::Result<T> {
        serde_json::from_value(self.data)
    }

    /// The frame node-ipc writes for this message, delimiter included.
    ///
    /// ```
    /// let m = node_ipc_rs::Message::new("t", serde_json::json!(1.0));
    /// assert_eq!(m.encode(b"\x0c").unwrap(), b"{\"type\":\"t\",\"data\":1}\x0c");
    /// ```
    pub fn encode(&self, delimiter: &[u8]) -> serde_json::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        encode_into(&mut out, &self.r#type, &self.data, delimiter)?;
        Ok(out)
    }
}

/// Appends the frame for `(ty, data)` and the delimiter to `out`, byte for byte what node-ipc
/// (`JSON.stringify({type, data})` + delimiter) writes for the same JSON value: numbers and key
/// order follow JS (see [`crate::js_json`]). On error `out` is left as it was.
///
/// ```
/// let mut out = Vec::new();
/// node_ipc_rs::message::encode_into(&mut out, "app.message", &serde_json::json!({"id": "hello", "n": 2.0}), b"\x0c").unwrap();
/// assert_eq!(out, b"{\"type\":\"app.message\",\"data\":{\"id\":\"hello\",\"n\":2}}\x0c");
/// ```
pub fn encode_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    ty: &str,
    data: &T,
    delimiter: &[u8],
) -> serde_json::Result<()> {
    let start = out.len();
    let r = (|| {
        out.extend_from_slice(b"{\"type\":");
        serde_json::to_writer(&mut *out, ty)?;
        out.extend_from_slice(b",\"data\":");
        crate::js_json::to_writer(out, data)?;
        out.push(b'}');
        out.extend_from_slice(delimiter);
        Ok(())
    })();
    if r.is_err() {
        out.truncate(start);
    }
    r
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
