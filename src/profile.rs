//! node-ipc 14's parser profiles: which checks a connection applies to the messages it sends and
//! receives, and what it demands of its transport.
//!
//! | profile | receive | send | on a violation |
//! |---|---|---|---|
//! | [`Profile::Default`] | node-ipc 9/12 (bad frames are reported, the connection stays) | — | error event |
//! | [`Profile::Raw`] | no framing | — | — |
//! | [`Profile::Fast`] | a JSON object with a string `type` | — | connection closed |
//! | [`Profile::Guarded`] | + name rules, frame size, remainder age | name rules, frame size | connection closed / send refused |
//! | [`Profile::Assured`] | + `allowed_events` | + `allowed_events` | same; and mutual TLS or a secure local socket |
//!
//! Name rules ([`Rules`]): `type` must be a non-empty string of at most `max_event_name_length`
//! UTF-16 units (JS string length), not an `Object.prototype` member name, not a lifecycle name
//! ([`RESERVED_EVENTS`], unless guarded's `allow_reserved_events`), and for assured one of
//! `allowed_events`. The same table (`tests/fixtures/profile_cases.json`) tests these rules and the
//! Node shim's (`lib/profile.js`), which applies them to each batch right after `JSON.parse`.
//!
//! Frame size and remainder age are enforced where bytes are framed ([`crate::codec`],
//! [`crate::inbound`]); the pending-write cap in [`crate::flow`].

use std::collections::HashSet;
use std::fmt;

use crate::error::ErrorCode;
use crate::message::{decode_payload, EventType, Message, PROTOTYPE_NAMES};

/// Lifecycle event names a peer may not send under guarded (unless allowed) and assured.
pub const RESERVED_EVENTS: [&str; 8] =
    ["start", "connect", "disconnect", "destroy", "close", "socket.disconnected", "error", "data"];

/// node-ipc 14's default `maxMessageSize` (guarded, assured).
pub use crate::config::DEFAULT_MAX_MESSAGE_SIZE;
/// node-ipc 14's default `maxPendingBytes` (guarded, assured).
pub const DEFAULT_MAX_PENDING_BYTES: usize = crate::flow::PROFILE_MAX_PENDING;
/// node-ipc 14's default `maxEventNameLength` (guarded, assured).
pub const DEFAULT_MAX_EVENT_NAME_LENGTH: usize = 256;
/// node-ipc 14's default `messageTimeout` in milliseconds (guarded, assured).
pub const DEFAULT_MESSAGE_TIMEOUT_MS: u64 = 30_000;

/// A parser profile (node-ipc 14's `config.parser`), or node-ipc 9/12 behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// node-ipc 9/12: malformed frames are reported and the connection stays.
    #[default]
    Default,
    /// No framing: bytes as they arrive.
    Raw,
    /// JSON envelopes; a malformed frame closes the connection.
    Fast,
    /// Fast plus name rules, frame size, remainder age and pending-write limits.
    Guarded,
    /// Guarded plus an event allow-list both ways and authenticated transports only.
    Assured,
}

impl Profile {
    /// node-ipc 14's name (`"default"` for [`Profile::Default`]).
    pub fn name(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Raw => "raw",
            Profile::Fast => "fast",
            Profile::Guarded => "guarded",
            Profile::Assured => "assured",
        }
    }

    /// The profile called `name` (`"raw"`, `"fast"`, `"guarded"`, `"assured"`, `"default"`).
    pub fn from_name(name: &str) -> Option<Profile> {
        Some(match name {
            "default" => Profile::Default,
            "raw" => Profile::Raw,
            "fast" => Profile::Fast,
            "guarded" => Profile::Guarded,
            "assured" => Profile::Assured,
            _ => return None,
        })
    }

    /// Guarded or assured: the limits apply.
    pub fn is_limited(self) -> bool {
        matches!(self, Profile::Guarded | Profile::Assured)
    }

    /// A receive-side violation closes the connection (fast, guarded, assured).
    pub fn closes_on_violation(self) -> bool {
        matches!(self, Profile::Fast | Profile::Guarded | Profile::Assured)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A message refused by a profile's rules: node-ipc 14's `IPCProtocolError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The code (`ERR_IPC_INVALID_EVENT`, …).
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
}

impl Violation {
    fn new(code: ErrorCode, message: impl Into<String>) -> Violation {
        Violation { code, message: message.into() }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Violation {}

/// A configuration refused before anything is opened (node-ipc 14 throws these): an invalid
/// limit (`ERR_INVALID_ARG_VALUE`, a `TypeError` in JS), or a transport the assured profile does
/// not accept (`ERR_IPC_ASSURED_TRANSPORT`, `ERR_IPC_ASSURED_TLS`), or an unsafe socket root
/// (`ERR_IPC_SOCKET_ROOT`, `ERR_IPC_UNLINK_NOT_SOCKET`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    /// The code.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

impl SetupError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> SetupError {
        SetupError { code, message: message.into() }
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for SetupError {}

/// The message rules of one endpoint.
#[derive(Debug, Clone)]
pub struct Rules {
    profile: Profile,
    max_event_name_length: usize,
    allow_reserved_events: bool,
    allowed_events: Option<HashSet<String>>,
}

impl Rules {
    /// The rules of `profile`. `allowed_events` is required (non-empty) for assured and ignored
    /// otherwise; assured never allows reserved names.
    pub fn new(
        profile: Profile,
        max_event_name_length: usize,
        allow_reserved_events: bool,
        allowed_events: Option<&[String]>,
    ) -> Result<Rules, SetupError> {
        if profile.is_limited() && max_event_name_length == 0 {
            return Err(SetupError::new("ERR_INVALID_ARG_VALUE", "maxEventNameLength must be a positive integer"));
        }
        let allowed_events = match (profile, allowed_events) {
            (Profile::Assured, Some(list)) if !list.is_empty() => Some(list.iter().cloned().collect()),
            (Profile::Assured, _) => {
                return Err(SetupError::new(
                    "ERR_INVALID_ARG_VALUE",
                    "the assured profile needs a non-empty allowedEvents",
                ))
            }
            _ => None,
        };
        Ok(Rules {
            profile,
            max_event_name_length,
            allow_reserved_events: allow_reserved_events && profile == Profile::Guarded,
            allowed_events,
        })
    }

    /// The profile these rules belong to.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Checks an event name, for sending or after receiving. Profiles without name rules
    /// (default, raw, fast) accept every name.
    pub fn check_event(&self, ty: &str) -> Result<(), Violation> {
        if !self.profile.is_limited() {
            return Ok(());
        }
        if ty.is_empty() {
            return Err(Violation::new(ErrorCode::InvalidEvent, "event type must be a non-empty string"));
        }
        // UTF-16 units never outnumber UTF-8 bytes: count them only when the bytes could be too many.
        if ty.len() > self.max_event_name_length {
            let units = ty.encode_utf16().count();
            if units > self.max_event_name_length {
                return Err(Violation::new(
                    ErrorCode::EventTooLarge,
                    format!(
                        "event type is {units} characters long, over maxEventNameLength ({})",
                        self.max_event_name_length
                    ),
                ));
            }
        }
        if PROTOTYPE_NAMES.contains(&ty) {
            return Err(Violation::new(
                ErrorCode::InvalidEvent,
                format!("event type {ty:?} is an Object.prototype member name"),
            ));
        }
        if !self.allow_reserved_events && RESERVED_EVENTS.contains(&ty) {
            return Err(Violation::new(
                ErrorCode::ReservedEvent,
                format!("event type {ty:?} is a lifecycle event name"),
            ));
        }
        if let Some(allowed) = &self.allowed_events {
            if !allowed.contains(ty) {
                return Err(Violation::new(
                    ErrorCode::EventNotAllowed,
                    format!("event type {ty:?} is not in allowedEvents"),
                ));
            }
        }
        Ok(())
    }

    /// Checks a received `type` member: it must be a string (fast, guarded, assured), then the
    /// name rules.
    pub fn check_type(&self, ty: &EventType) -> Result<(), Violation> {
        match ty {
            EventType::String(s) => self.check_event(s),
            _ if self.profile.is_limited() => {
                Err(Violation::new(ErrorCode::InvalidEvent, "event type must be a non-empty string"))
            }
            _ => Err(Violation::new(ErrorCode::InvalidEvent, "event type must be a string")),
        }
    }

    /// Decodes one received frame (delimiter excluded) under these rules. For
    /// [`Profile::Default`] these are node-ipc-rs's 9/12 rules ([`crate::message::decode`]).
    pub fn decode(&self, frame: &[u8]) -> Result<Message, Violation> {
        self.decode_as(frame, false)
    }

    /// [`decode`](Rules::decode), keeping `data` as JSON text ([`crate::message::decode_lazy`]).
    pub fn decode_lazy(&self, frame: &[u8]) -> Result<Message, Violation> {
        self.decode_as(frame, true)
    }

    fn decode_as(&self, frame: &[u8], lazy: bool) -> Result<Message, Violation> {
        let v = |(code, message)| Violation { code, message };
        if self.profile == Profile::Default {
            let r = if lazy { crate::message::decode_lazy(frame) } else { crate::message::decode(frame) };
            return r.map_err(v);
        }
        let (ty, data) = decode_payload(frame, lazy).map_err(v)?;
        self.check_type(&ty)?;
        let EventType::String(ty) = ty else { unreachable!("check_type accepts strings only") };
        Ok(Message::from_parts(ty, data))
    }
}

/// The size rule of guarded/assured: a frame (delimiter excluded) or an unfinished remainder may
/// be at most `max` bytes; equal is accepted.
pub fn check_frame_size(len: usize, max: Option<usize>) -> Result<(), Violation> {
    match max {
        Some(max) if len > max => Err(Violation::new(
            ErrorCode::FrameTooLarge,
            format!("message of {len} bytes exceeds maxMessageSize ({max})"),
        )),
        _ => Ok(()),
    }
}

/// The assured profile's TLS rule: a client needs a key, a certificate, a trusted CA and
/// verification on; a server also requests client certificates (mutual TLS).
pub fn check_assured_tls(opts: &crate::tls::TlsOptions, server: bool) -> Result<(), SetupError> {
    let ok = opts.reject_unauthorized
        && !opts.ca.is_empty()
        && opts.key.is_some()
        && opts.cert.is_some()
        && (!server || opts.request_cert);
    if ok {
        return Ok(());
    }
    Err(SetupError::new(
        "ERR_IPC_ASSURED_TLS",
        if server {
            "an assured TLS server needs a key, a certificate, a trusted client CA, requestCert and rejectUnauthorized"
        } else {
            "an assured TLS client needs a key, a certificate, a trusted CA and rejectUnauthorized"
        },
    ))
}

/// The assured profile's transport rule for a network endpoint: TLS only, never UDP.
pub fn check_assured_network(tls: bool, udp: bool) -> Result<(), SetupError> {
    if udp {
        return Err(SetupError::new("ERR_IPC_ASSURED_TRANSPORT", "the assured profile cannot use UDP"));
    }
    if !tls {
        return Err(SetupError::new(
            "ERR_IPC_ASSURED_TRANSPORT",
            "the assured profile needs TLS for network connections",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(max: usize) -> Rules {
        Rules::new(Profile::Guarded, max, false, None).unwrap()
    }

    #[test]
    fn names() {
        let r = guarded(4);
        assert_eq!(r.check_event("abcd"), Ok(()));
        assert_eq!(r.check_event("abcde").unwrap_err().code, ErrorCode::EventTooLarge);
        assert_eq!(r.check_event("😀😀").map_err(|e| e.code), Ok(()));
        assert_eq!(r.check_event("😀😀a").unwrap_err().code, ErrorCode::EventTooLarge);
        assert_eq!(r.check_event("data").unwrap_err().code, ErrorCode::ReservedEvent);
        assert_eq!(guarded(256).check_event("toString").unwrap_err().code, ErrorCode::InvalidEvent);
        let fast = Rules::new(Profile::Fast, 256, false, None).unwrap();
        assert_eq!(fast.check_event("connect"), Ok(()));
        assert!(fast.decode(br#"{"type":"constructor"}"#).is_ok());
        assert_eq!(fast.decode(br#"{"type":5}"#).unwrap_err().code, ErrorCode::InvalidEvent);
    }

    #[test]
    fn assured_needs_a_list_and_refuses_reserved_names() {
        assert!(Rules::new(Profile::Assured, 256, true, None).is_err());
        assert!(Rules::new(Profile::Assured, 256, true, Some(&[])).is_err());
        let list = ["connect".to_string(), "a".to_string()];
        let r = Rules::new(Profile::Assured, 256, true, Some(&list)).unwrap();
        assert_eq!(r.check_event("connect").unwrap_err().code, ErrorCode::ReservedEvent);
        assert_eq!(r.check_event("a"), Ok(()));
        assert_eq!(r.check_event("b").unwrap_err().code, ErrorCode::EventNotAllowed);
    }

    #[test]
    fn sizes() {
        assert!(check_frame_size(8, Some(8)).is_ok());
        assert_eq!(check_frame_size(9, Some(8)).unwrap_err().code, ErrorCode::FrameTooLarge);
        assert!(check_frame_size(usize::MAX, None).is_ok());
    }

    #[test]
    fn assured_tls() {
        let mut o = crate::tls::TlsOptions {
            ca: vec![b"ca".to_vec()],
            cert: Some(b"c".to_vec()),
            key: Some(b"k".to_vec()),
            reject_unauthorized: true,
            ..Default::default()
        };
        assert!(check_assured_tls(&o, false).is_ok());
        assert_eq!(check_assured_tls(&o, true).unwrap_err().code, "ERR_IPC_ASSURED_TLS");
        o.request_cert = true;
        assert!(check_assured_tls(&o, true).is_ok());
        o.reject_unauthorized = false;
        assert!(check_assured_tls(&o, false).is_err());
        assert_eq!(check_assured_network(false, false).unwrap_err().code, "ERR_IPC_ASSURED_TRANSPORT");
        assert!(check_assured_network(true, true).is_err());
    }
}
