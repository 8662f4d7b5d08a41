//! Error codes shared by the Rust API and the Node binding: node-ipc 14's `ERR_IPC_*` names where
//! one exists, plus a few for conditions node-ipc never reported.

use std::fmt;

/// A machine-readable error code, as JS sees it in `err.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A frame is not valid JSON (also an empty frame).
    InvalidJson,
    /// A frame parsed, but is not a JSON object.
    InvalidMessage,
    /// `type` is missing, not a non-empty string, or an `Object.prototype` member name.
    InvalidEvent,
    /// A frame, or an unfinished remainder, is larger than the limit.
    FrameTooLarge,
    /// The peer closed the connection in the middle of a frame.
    IncompleteFrame,
    /// A send would take the connection's unsent bytes past `maxPendingBytes` (see [`crate::flow`]).
    Backpressure,
    /// guarded/assured: an event name is longer than `maxEventNameLength` (UTF-16 units).
    EventTooLarge,
    /// guarded/assured: a lifecycle event name (`connect`, `error`, …) sent over the wire.
    ReservedEvent,
    /// assured: an event name that is not in `allowedEvents`.
    EventNotAllowed,
    /// guarded/assured: an unfinished frame waited longer than `messageTimeout`.
    MessageTimeout,
}

impl ErrorCode {
    /// The string form, e.g. `"ERR_IPC_INVALID_JSON"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "ERR_IPC_INVALID_JSON",
            ErrorCode::InvalidMessage => "ERR_IPC_INVALID_MESSAGE",
            ErrorCode::InvalidEvent => "ERR_IPC_INVALID_EVENT",
            ErrorCode::FrameTooLarge => "ERR_IPC_FRAME_TOO_LARGE",
            ErrorCode::IncompleteFrame => "ERR_IPC_INCOMPLETE_FRAME",
            ErrorCode::Backpressure => "ERR_IPC_BACKPRESSURE",
            ErrorCode::EventTooLarge => "ERR_IPC_EVENT_TOO_LARGE",
            ErrorCode::ReservedEvent => "ERR_IPC_RESERVED_EVENT",
            ErrorCode::EventNotAllowed => "ERR_IPC_EVENT_NOT_ALLOWED",
            ErrorCode::MessageTimeout => "ERR_IPC_MESSAGE_TIMEOUT",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
