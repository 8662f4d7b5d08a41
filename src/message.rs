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

/// Parses one frame (delimiter excluded). The rules of the default profile: the frame must be a
/// JSON object whose `type` is a non-empty string other than an `Object.prototype` member name.
/// (node-ipc 14's profiles apply their own: [`crate::profile::Rules::decode`].)
pub fn decode(frame: &[u8]) -> Result<Message, (ErrorCode, String)> {
    let (ty, data) = decode_envelope(frame)?;
    let ty = match ty {
        EventType::String(s) if !s.is_empty() => s,
        _ => return Err((ErrorCode::InvalidEvent, "frame has no string `type`".into())),
    };
    if PROTOTYPE_NAMES.contains(&ty.as_str()) {
        return Err((ErrorCode::InvalidEvent, format!("event name {ty:?} is not allowed")));
    }
    Ok(Message { r#type: ty, data })
}

/// A frame's `type` member as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventType {
    /// No `type` member.
    Missing,
    /// A string (possibly empty).
    String(String),
    /// Some other JSON value.
    Other,
}

/// Parses one frame (delimiter excluded) into its `type` and `data` (`Null` when absent), with no
/// rule about the event name: `InvalidJson` for text that is not one JSON value, `InvalidMessage`
/// for a value that is not an object. Duplicate members: the last one wins, as with `JSON.parse`.
pub fn decode_envelope(frame: &[u8]) -> Result<(EventType, Value), (ErrorCode, String)> {
    // One pass straight into the envelope's parts: no map for the top level.
    let env: Envelope =
        serde_json::from_slice(frame).map_err(|e| (ErrorCode::InvalidJson, format!("invalid JSON in frame: {e}")))?;
    let Envelope::Object { ty, data } = env else {
        return Err((ErrorCode::InvalidMessage, "frame is not a JSON object".into()));
    };
    let ty = match ty {
        None => EventType::Missing,
        Some(TypeField::String(s)) => EventType::String(s),
        Some(TypeField::Other) => EventType::Other,
    };
    Ok((ty, data.unwrap_or(Value::Null)))
}

/// A frame's top level: an object's `type` and `data` (last one wins, others skipped), or a note
/// that it was some other JSON value.
enum Envelope {
    Object { ty: Option<TypeField>, data: Option<Value> },
    NotObject,
}

/// The `type` member: a string, or something else (kept only as "not a string").
enum TypeField {
    String(String),
    Other,
}

enum Key {
    Type,
    Data,
    Other,
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "type" => Key::Type,
                    "data" => Key::Data,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for TypeField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TypeField, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(TypeField::String(s)),
            _ => Ok(TypeField::Other),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Envelope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Envelope, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Envelope;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let (mut ty, mut data) = (None, None);
                while let Some(k) = map.next_key::<Key>()? {
                    match k {
                        Key::Type => ty = Some(map.next_value::<TypeField>()?),
                        Key::Data => data = Some(map.next_value::<Value>()?),
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Envelope::Object { ty, data })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Envelope, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Envelope::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Envelope, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Envelope, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Envelope, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Envelope, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<Envelope, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_unit<E>(self) -> Result<Envelope, E> {
                Ok(Envelope::NotObject)
            }
        }
        d.deserialize_any(V)
    }
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
        assert_eq!(decode(b"null").unwrap_err().0, ErrorCode::InvalidMessage);
        assert_eq!(decode(b"\"s\"").unwrap_err().0, ErrorCode::InvalidMessage);
        assert_eq!(decode(br#"{"type":""}"#).unwrap_err().0, ErrorCode::InvalidEvent);
        assert_eq!(decode(br#"{"data":1}"#).unwrap_err().0, ErrorCode::InvalidEvent);
        assert_eq!(decode(br#"{"type":"a"} x"#).unwrap_err().0, ErrorCode::InvalidJson);
        // Duplicates: the last one wins, as with JSON.parse.
        let m = decode(br#"{"data":1,"type":5,"x":{"type":"no"},"type":"b","data":{"z":[1,{"a":null}]}}"#).unwrap();
        assert_eq!((m.r#type.as_str(), m.data), ("b", json!({"z":[1,{"a":null}]})));
    }
}
