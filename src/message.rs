//! The JSON envelope node-ipc puts in every frame: `{"type":T,"data":D}`, `type` first, no spaces.
//!
//! A received message's `data` is either decoded into a [`serde_json::Value`] ([`decode`], the
//! default) or kept as the JSON text it arrived as ([`decode_lazy`], the Rust API's
//! [`Config::lazy_data`](crate::ipc::Config::lazy_data)): checked to be one well-formed JSON value,
//! then decoded only when asked ([`Message::data_as`]) or sent on as it is ([`Message::raw_data`]).

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::ErrorCode;

/// One decoded message.
///
/// Its payload is held one of two ways: as a [`Value`] in [`data`](Message::data) (the default),
/// or, for messages received with [`Config::lazy_data`](crate::ipc::Config::lazy_data), as the
/// JSON text it arrived as (then `data` is left `Null`). [`data_as`](Message::data_as),
/// [`into_data`](Message::into_data), [`raw_data`](Message::raw_data) and
/// [`encode`](Message::encode) work the same either way. Build one with [`Message::new`] or
/// [`Message::from_raw`].
#[derive(Debug, Clone)]
pub struct Message {
    /// The event name.
    pub r#type: String,
    /// The payload (`Value::Null` when the frame had no `data`). Always `Null` in a lazy message
    /// ([`is_lazy`](Message::is_lazy)): read its payload with [`data_as`](Message::data_as) (as a
    /// `Value` too: `data_as::<Value>()`) or [`raw_data`](Message::raw_data).
    pub data: Value,
    /// The payload's JSON text, for a lazy message.
    raw: Option<Box<RawValue>>,
}

/// Two messages are equal when their types and payloads are, compared as they are held: `data`,
/// and the JSON text of lazy messages (a lazy message never equals an eager one with a payload).
impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.r#type == other.r#type
            && self.data == other.data
            && self.raw.as_deref().map(RawValue::get) == other.raw.as_deref().map(RawValue::get)
    }
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
        Message { r#type: ty.into(), data, raw: None }
    }

    /// A lazy message: event name `ty` and a payload held as JSON text (sent as it is by
    /// [`encode`](Message::encode)).
    ///
    /// ```
    /// use node_ipc_rs::Message;
    /// use serde_json::value::RawValue;
    /// let m = Message::from_raw("t", RawValue::from_string(r#"{"n": 1.0}"#.into()).unwrap());
    /// assert!(m.is_lazy());
    /// assert_eq!(m.encode(b"\x0c").unwrap(), b"{\"type\":\"t\",\"data\":{\"n\": 1.0}}\x0c");
    /// ```
    pub fn from_raw(ty: impl Into<String>, data: Box<RawValue>) -> Message {
        Message { r#type: ty.into(), data: Value::Null, raw: Some(data) }
    }

    /// The event name (the `type` member).
    pub fn ty(&self) -> &str {
        &self.r#type
    }

    /// True when the payload is held as JSON text (received with
    /// [`Config::lazy_data`](crate::ipc::Config::lazy_data), or built with
    /// [`from_raw`](Message::from_raw)) rather than in [`data`](Message::data).
    pub fn is_lazy(&self) -> bool {
        self.raw.is_some()
    }

    /// The payload converted to any deserializable type, borrowing from the message where the
    /// type allows (`&str` fields borrow from a lazy message's text when the string has no
    /// escapes). For a lazy message this is where its JSON is decoded: a payload that is
    /// well-formed JSON but not a value serde_json accepts (a number out of `f64`'s range, a lone
    /// surrogate escape, nesting deeper than 128) fails here.
    ///
    /// ```
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Hello { id: String, message: String }
    /// let frame = br#"{"type":"app.message","data":{"id":"a","message":"hi"}}"#;
    /// for m in [node_ipc_rs::message::decode(frame).unwrap(), node_ipc_rs::message::decode_lazy(frame).unwrap()] {
    ///     let h: Hello = m.data_as().unwrap();
    ///     assert_eq!(h, Hello { id: "a".into(), message: "hi".into() });
    /// }
    /// ```
    pub fn data_as<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        match &self.raw {
            Some(raw) => serde_json::from_str(raw.get()),
            None => T::deserialize(&self.data),
        }
    }

    /// Takes the payload as any deserializable type, without cloning it.
    pub fn into_data<T: DeserializeOwned>(self) -> serde_json::Result<T> {
        match self.raw {
            Some(raw) => serde_json::from_str(raw.get()),
            None => serde_json::from_value(self.data),
        }
    }

    /// The payload as JSON text, to send on as it is: `peer.emit("echo", &message.raw_data())`.
    ///
    /// For a lazy message this is the text as received (borrowed, nothing is decoded or
    /// re-encoded): forwarding it sends the very bytes the peer sent. node-ipc and node-ipc-rs
    /// peers write `JSON.stringify`'s text, so what they receive back is what node-ipc would have
    /// written for the same value; text from another writer (spaces, `1.0`, escapes JS would not
    /// write) is passed on unchanged. For an eager message it is `data` encoded the way
    /// [`emit`](crate::ipc::Peer::emit) would encode it.
    ///
    /// ```
    /// let frame = br#"{"type":"t","data":{"n": 1.0}}"#;
    /// let lazy = node_ipc_rs::message::decode_lazy(frame).unwrap();
    /// assert_eq!(lazy.raw_data().get(), r#"{"n": 1.0}"#);
    /// let eager = node_ipc_rs::message::decode(frame).unwrap();
    /// assert_eq!(eager.raw_data().get(), r#"{"n":1}"#);
    /// ```
    pub fn raw_data(&self) -> Cow<'_, RawValue> {
        match &self.raw {
            Some(raw) => Cow::Borrowed(raw),
            None => {
                let text = crate::js_json::to_string(&self.data).expect("a Value always serializes");
                Cow::Owned(RawValue::from_string(text).expect("serde_json writes valid JSON"))
            }
        }
    }

    /// The frame node-ipc writes for this message, delimiter included (a lazy message's payload
    /// as it is).
    ///
    /// ```
    /// let m = node_ipc_rs::Message::new("t", serde_json::json!(1.0));
    /// assert_eq!(m.encode(b"\x0c").unwrap(), b"{\"type\":\"t\",\"data\":1}\x0c");
    /// ```
    pub fn encode(&self, delimiter: &[u8]) -> serde_json::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        match &self.raw {
            Some(raw) => encode_into(&mut out, &self.r#type, raw, delimiter)?,
            None => encode_into(&mut out, &self.r#type, &self.data, delimiter)?,
        }
        Ok(out)
    }

    /// The string `data.id` (node-ipc's rule for a server learning a socket's id), if any. A lazy
    /// payload is only parsed when its text could hold an `id` member.
    pub fn data_id(&self) -> Option<Cow<'_, str>> {
        match &self.raw {
            None => {
                let map = self.data.as_object()?;
                // A few members: comparing keys costs less than hashing "id" (SipHash).
                let id =
                    if map.len() <= 8 { map.iter().find(|(k, _)| *k == "id").map(|(_, v)| v) } else { map.get("id") };
                match id {
                    Some(Value::String(s)) => Some(Cow::Borrowed(s)),
                    _ => None,
                }
            }
            Some(raw) => {
                if !may_have_id(raw.get().as_bytes()) {
                    return None;
                }
                match serde_json::from_str::<IdProbe>(raw.get()) {
                    Ok(IdProbe(Some(TypeField::String(s)))) => Some(Cow::Owned(s)),
                    _ => None,
                }
            }
        }
    }

    pub(crate) fn from_parts(ty: String, data: Payload) -> Message {
        match data {
            Payload::Value(data) => Message { r#type: ty, data, raw: None },
            Payload::Raw(raw) => Message { r#type: ty, data: Value::Null, raw },
        }
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
        write_str(out, ty)?;
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

/// Appends `s` as a JSON string the way `JSON.stringify` (and serde_json) writes it: a string
/// with nothing to escape (no `"`, `\\` or control character, the common case for event names)
/// is copied as it is.
fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    if s.bytes().any(|c| c < 0x20 || c == b'"' || c == b'\\') {
        return serde_json::to_writer(&mut *out, s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
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

/// Parses one frame (delimiter excluded). The rules of the default profile: the frame must be a
/// JSON object whose `type` is a non-empty string other than an `Object.prototype` member name.
/// (node-ipc 14's profiles apply their own: [`crate::profile::Rules::decode`].)
pub fn decode(frame: &[u8]) -> Result<Message, (ErrorCode, String)> {
    decode_as(frame, false)
}

/// Whether the JSON text `text` could be an object with an `id` member: an object whose text holds
/// `"id"` or an escape (the name written with escapes). A cheap test before a parse.
fn may_have_id(text: &[u8]) -> bool {
    if text.first() != Some(&b'{') {
        return false;
    }
    memchr::memchr2_iter(b'i', b'\\', text)
        .any(|i| text[i] == b'\\' || (text[i - 1] == b'"' && text.get(i + 1..i + 3) == Some(b"d\"")))
}

/// [`decode`], keeping `data` as its JSON text (a lazy [`Message`]). The same frames are refused
/// with the same codes, except that `data` is only checked to be one well-formed JSON value in
/// UTF-8 (as `JSON.parse` would accept it): the checks of a full decode that go beyond that (a
/// number out of `f64`'s range, a lone surrogate escape, nesting deeper than 128) are left to
/// [`Message::data_as`].
///
/// ```
/// let m = node_ipc_rs::message::decode_lazy(br#"{"type":"a","data":{"x":[1, 2]}}"#).unwrap();
/// assert_eq!((m.ty(), m.raw_data().get()), ("a", r#"{"x":[1, 2]}"#));
/// assert_eq!(m.data_as::<serde_json::Value>().unwrap(), serde_json::json!({"x": [1, 2]}));
/// assert!(node_ipc_rs::message::decode_lazy(br#"{"type":"a","data":{"x":[1,]}}"#).is_err());
/// ```
pub fn decode_lazy(frame: &[u8]) -> Result<Message, (ErrorCode, String)> {
    decode_as(frame, true)
}

fn decode_as(frame: &[u8], lazy: bool) -> Result<Message, (ErrorCode, String)> {
    let (ty, data) = decode_payload(frame, lazy)?;
    let ty = match ty {
        EventType::String(s) if !s.is_empty() => s,
        _ => return Err((ErrorCode::InvalidEvent, "frame has no string `type`".into())),
    };
    if PROTOTYPE_NAMES.contains(&ty.as_str()) {
        return Err((ErrorCode::InvalidEvent, format!("event name {ty:?} is not allowed")));
    }
    Ok(Message::from_parts(ty, data))
}

/// A received payload: decoded, or kept as text (`None`: the frame had no `data`).
pub(crate) enum Payload {
    Value(Value),
    Raw(Option<Box<RawValue>>),
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
/// When `lazy`, `data` is kept as text.
///
/// Frames in node-ipc's own layout (what `JSON.stringify({type, data})` writes, with a type
/// free of escapes) take a shorter way: the envelope is split without a parser and only `data`
/// goes through serde_json. Any other frame, and any frame whose `data` does not parse that way,
/// goes through the full envelope parse, which gives the same result (or the error) for it.
pub(crate) fn decode_payload(frame: &[u8], lazy: bool) -> Result<(EventType, Payload), (ErrorCode, String)> {
    if let Some((ty, data)) = split_plain(frame) {
        let payload = if lazy {
            serde_json::from_str::<&RawValue>(data).ok().map(|raw| Payload::Raw(Some(raw.to_owned())))
        } else if nesting_may_exceed(data) {
            None
        } else {
            serde_json::from_str::<Value>(data).ok().map(Payload::Value)
        };
        if let Some(payload) = payload {
            return Ok((EventType::String(ty.to_owned()), payload));
        }
    }
    full_payload(frame, lazy)
}

/// [`decode_payload`] the long way, for every frame.
fn full_payload(frame: &[u8], lazy: bool) -> Result<(EventType, Payload), (ErrorCode, String)> {
    if lazy {
        let (ty, data) = envelope::<&RawValue>(frame)?;
        Ok((ty, Payload::Raw(data.map(RawValue::to_owned))))
    } else {
        let (ty, data) = envelope::<Value>(frame)?;
        Ok((ty, Payload::Value(data.unwrap_or(Value::Null))))
    }
}

/// A frame laid out as node-ipc writes it, `{"type":"T","data":D}` with no byte outside `T` and
/// `D`, `T` without escapes or control characters: `T` and the text of `D`, both valid UTF-8.
/// `None` for any other frame. Whether `D` is one JSON value is not checked.
fn split_plain(frame: &[u8]) -> Option<(&str, &str)> {
    let rest = frame.strip_prefix(b"{\"type\":\"")?.strip_suffix(b"}")?;
    // The type ends at its first quote; a backslash or a control character first: not plain.
    let end = rest.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
    let data = rest[end..].strip_prefix(b"\",\"data\":")?;
    let ty = std::str::from_utf8(&rest[..end]).ok()?;
    Some((ty, std::str::from_utf8(data).ok()?))
}

/// Whether `data` could nest deeper than serde_json allows inside an envelope (its limit of 128
/// counts the envelope's own level): parsed on its own, it would get one level more.
fn nesting_may_exceed(data: &str) -> bool {
    let b = data.as_bytes();
    b.len() >= 127 && memchr::memchr2_iter(b'[', b'{', b).count() >= 127
}

/// One pass straight into the envelope's parts (no map for the top level), `data` as `P`.
fn envelope<'de, P: Deserialize<'de>>(frame: &'de [u8]) -> Result<(EventType, Option<P>), (ErrorCode, String)> {
    let env: Envelope<P> =
        serde_json::from_slice(frame).map_err(|e| (ErrorCode::InvalidJson, format!("invalid JSON in frame: {e}")))?;
    let Envelope::Object { ty, data } = env else {
        return Err((ErrorCode::InvalidMessage, "frame is not a JSON object".into()));
    };
    let ty = match ty {
        None => EventType::Missing,
        Some(TypeField::String(s)) => EventType::String(s),
        Some(TypeField::Other) => EventType::Other,
    };
    Ok((ty, data))
}

/// A frame's top level: an object's `type` and `data` (last one wins, others skipped), or a note
/// that it was some other JSON value.
enum Envelope<P> {
    Object { ty: Option<TypeField>, data: Option<P> },
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
    Id,
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
                    "id" => Key::Id,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for TypeField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TypeField, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TypeField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<TypeField, E> {
                Ok(TypeField::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<TypeField, E> {
                Ok(TypeField::String(v))
            }
            fn visit_bool<E>(self, _: bool) -> Result<TypeField, E> {
                Ok(TypeField::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<TypeField, E> {
                Ok(TypeField::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<TypeField, E> {
                Ok(TypeField::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<TypeField, E> {
                Ok(TypeField::Other)
            }
            fn visit_unit<E>(self) -> Result<TypeField, E> {
                Ok(TypeField::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TypeField, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(TypeField::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TypeField, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(TypeField::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de, P: Deserialize<'de>> serde::Deserialize<'de> for Envelope<P> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Envelope<P>, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct V<P>(std::marker::PhantomData<P>);
        impl<'de, P: Deserialize<'de>> Visitor<'de> for V<P> {
            type Value = Envelope<P>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<P>, A::Error> {
                let (mut ty, mut data) = (None, None);
                while let Some(k) = map.next_key::<Key>()? {
                    match k {
                        Key::Type => ty = Some(map.next_value::<TypeField>()?),
                        Key::Data => data = Some(map.next_value::<P>()?),
                        Key::Id | Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Envelope::Object { ty, data })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Envelope<P>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Envelope::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Envelope<P>, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Envelope<P>, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Envelope<P>, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Envelope<P>, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<Envelope<P>, E> {
                Ok(Envelope::NotObject)
            }
            fn visit_unit<E>(self) -> Result<Envelope<P>, E> {
                Ok(Envelope::NotObject)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A payload's `id` member (last one wins), for [`Message::data_id`]; `None` for anything that is
/// not an object or has no `id`.
struct IdProbe(Option<TypeField>);

impl<'de> serde::Deserialize<'de> for IdProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<IdProbe, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IdProbe;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IdProbe, A::Error> {
                let mut id = None;
                while let Some(k) = map.next_key::<Key>()? {
                    match k {
                        Key::Id => id = Some(map.next_value::<TypeField>()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(IdProbe(id))
            }
        }
        // Only called on objects (see `data_id`).
        d.deserialize_map(V)
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
    fn event_names_are_written_like_json_stringify() {
        for ty in
            ["echo", "app.message", "", "é 🎉 \u{2028} \u{7f}", "a\"b", "a\\b", "a\nb", "\u{1}\u{1f}", "</script>"]
        {
            let mut out = Vec::new();
            write_str(&mut out, ty).unwrap();
            assert_eq!(out, serde_json::to_vec(ty).unwrap(), "{ty:?}");
        }
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

    /// A payload as comparable text.
    fn show(r: &Result<(EventType, Payload), (ErrorCode, String)>) -> String {
        match r {
            Err(e) => format!("{e:?}"),
            Ok((ty, Payload::Value(v))) => format!("{ty:?} value {v}"),
            Ok((ty, Payload::Raw(Some(raw)))) => format!("{ty:?} raw {}", raw.get()),
            Ok((ty, Payload::Raw(None))) => format!("{ty:?} no data"),
        }
    }

    #[test]
    fn the_short_way_gives_what_the_full_parse_gives() {
        let deep = |n: usize| format!("{{\"type\":\"a\",\"data\":{}{}}}", "[".repeat(n), "]".repeat(n)).into_bytes();
        let mut frames: Vec<Vec<u8>> = [
            &br#"{"type":"a","data":1}"#[..],
            br#"{"type":"a","data":1 }"#,
            br#"{"type":"a","data": {"x" : [1.0, "y"]} }"#,
            br#"{"type":"a","data":"x"},"data":{"y":1}"#,
            br#"{"type":"a","data":1,"x":2}"#,
            br#"{"type":"a","data":1,"type":"b"}"#,
            br#"{"type":"a\"b","data":1}"#,
            br#"{"type":"a\u0062","data":1}"#,
            b"{\"type\":\"a\tb\",\"data\":1}",
            br#"{"type":"a","data":{"type":"b","data":2}}"#,
            br#"{"type":"","data":1}"#,
            "{\"type\":\"é🎉\",\"data\":\"é\"}".as_bytes(),
            b"{\"type\":\"a\",\"data\":\"\xff\"}",
            b"{\"type\":\"a\xff\",\"data\":1}",
            br#"{"type":"a","data":}"#,
            br#"{"type":"a","data":1}}"#,
            br#"{"type":"a","data":[1]]}"#,
            br#"{"type":"a","data":[1,]}"#,
            br#"{"type":"a"}"#,
            br#"{"type":"a","data":1e400}"#,
            br#"{"type":"a","data":"\ud800"}"#,
            br#"{"type":"a","data":{"\ud800":1}}"#,
            br#"{"type":"a","data":null}"#,
            br#"{"type":"a","data":"}"#,
            br#"{"type":"}"#,
            br#"{"type":"a","data":1} "#,
            br#" {"type":"a","data":1}"#,
        ]
        .iter()
        .map(|f| f.to_vec())
        .collect();
        // serde_json's nesting limit counts the envelope: data may nest 126 deep, not 127.
        for n in [125, 126, 127, 128, 129, 200] {
            frames.push(deep(n));
        }
        frames.push(format!("{{\"type\":\"a\",\"data\":[{}]}}", "[1],".repeat(200) + "1").into_bytes());
        for f in &frames {
            for lazy in [false, true] {
                assert_eq!(
                    show(&decode_payload(f, lazy)),
                    show(&full_payload(f, lazy)),
                    "{} (lazy: {lazy})",
                    String::from_utf8_lossy(f)
                );
            }
        }
        assert!(decode(&deep(126)).is_ok());
        assert_eq!(decode(&deep(127)).unwrap_err().0, ErrorCode::InvalidJson);
        assert!(decode_lazy(&deep(127)).is_ok(), "lazy data has no nesting limit until it is decoded");
    }

    #[test]
    fn data_id_in_both_modes() {
        let many: String = (0..20).map(|i| format!("\"k{i}\":{i},")).collect();
        for data in [
            r#"{"id":"a"}"#.to_string(),
            r#"{"x":1,"id":"b","y":2}"#.to_string(),
            format!(r#"{{{many}"id":"c"}}"#),
            format!(r#"{{"id":"d",{many}"z":0}}"#),
            format!(r#"{{{many}"id":5}}"#),
            r#"{"ID":"e"}"#.to_string(),
            r#"["id"]"#.to_string(),
        ] {
            let frame = format!(r#"{{"type":"t","data":{data}}}"#);
            let eager = decode(frame.as_bytes()).unwrap();
            let lazy = decode_lazy(frame.as_bytes()).unwrap();
            let want = eager.data.get("id").and_then(Value::as_str);
            assert_eq!(eager.data_id().as_deref(), want, "{data}");
            assert_eq!(lazy.data_id().as_deref(), want, "{data}");
        }
    }

    #[test]
    fn id_probe() {
        for (text, may) in [
            (r#"{"id":"a"}"#, true),
            (r#"{"x":1,"id":2}"#, true),
            (r#"{"\u0069d":1}"#, true),
            (r#"{"i":1,"d":2,"idx":3}"#, false),
            (r#"{"seq":1,"s":"xxx"}"#, false),
            (r#"["id"]"#, false),
            (r#""id""#, false),
            (r#"{"ids":1}"#, false),
        ] {
            assert_eq!(may_have_id(text.as_bytes()), may, "{text}");
        }
    }

    #[test]
    fn lazy_messages() {
        let m = decode_lazy(br#"{"type":"a","data":{"id":"p","n":1.0}}"#).unwrap();
        assert!(m.is_lazy());
        assert_eq!((m.ty(), &m.data, m.raw_data().get()), ("a", &Value::Null, r#"{"id":"p","n":1.0}"#));
        assert_eq!(m.data_id().as_deref(), Some("p"));
        assert_eq!(m.encode(b"\x0c").unwrap(), b"{\"type\":\"a\",\"data\":{\"id\":\"p\",\"n\":1.0}}\x0c");
        assert_eq!(m.data_as::<Value>().unwrap(), json!({"id": "p", "n": 1.0}));
        assert_eq!(m.clone(), m);
        // Compared as held: the same payload decoded eagerly is another message.
        let eager = decode(br#"{"type":"a","data":{"id":"p","n":1.0}}"#).unwrap();
        assert_ne!(eager, m);
        assert_eq!(eager.data_as::<Value>().unwrap(), m.data_as::<Value>().unwrap());
        let none = decode_lazy(br#"{"type":"a"}"#).unwrap();
        assert!(!none.is_lazy());
        assert_eq!(none, decode(br#"{"type":"a"}"#).unwrap());
    }
}
