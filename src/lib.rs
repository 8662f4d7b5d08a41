//! # node-ipc-rs
//!
//! node-ipc's wire protocol in Rust. Node processes using the npm package `node-ipc` (or its
//! drop-in replacement `node-ipc-rs`, which loads this crate as a native addon) and Rust processes
//! using this crate talk to each other over one format: UTF-8 JSON `{"type":T,"data":D}` followed by
//! a delimiter (default `\f`), or raw bytes.
//!
//! ## Layout
//! - [`codec`]: delimiter framing (sans-IO, multi-byte delimiters, frame-size limit).
//! - [`inbound`]: the receive side of a connection, sans-IO: bytes in (read or pushed), batches of
//!   frames out.
//! - [`batch`]: a batch as one JSON array text for a single parse ([`batch::FrameArray`]), event
//!   names numbered per connection ([`batch::TypeTable`]).
//! - [`message`]: the JSON envelope.
//! - [`jsonscan`]: whether a frame is structurally one JSON value (keeps the batch decode exact).
//! - [`error`]: the `ERR_IPC_*` codes.
//! - [`flow`]: write-side flow control (high-water mark, `maxPendingBytes`).
//! - [`sockopt`]: socket controls (keepalive, no-delay).
//! - [`profile`]: node-ipc 14's parser profiles (name rules, assured transport rules).
//! - `socket_file`: a local server's socket file (stale-socket unlink, mode, removal of its own).
//! - [`socket_root`]: node-ipc 14's socket root and the checks before a local server listens.
//! - [`config`]: node-ipc's defaults and socket-path rules.
//! - [`tls`]: rustls configuration from node-ipc's `config.tls` settings.
//! - [`net`]: nonblocking Unix/TCP/UDP sockets and a per-connection read/write state machine that any
//!   readiness loop can drive (libuv in the Node binding, tokio here).
//!
//! Nothing in this crate depends on Node or napi.

#![deny(clippy::all)]

pub mod batch;
pub mod codec;
pub mod config;
pub mod error;
pub mod flow;
pub mod inbound;
#[cfg(feature = "tokio")]
pub mod ipc;
pub mod js_json;
pub mod jsonscan;
pub mod message;
pub mod net;
pub mod profile;
mod socket_file;
pub mod socket_root;
pub mod sockopt;
pub mod tls;

pub use codec::{FrameDecoder, FrameError, Step};
pub use error::ErrorCode;
#[cfg(feature = "tokio")]
pub use ipc::{Client, ClientEvent, Server, ServerEvent};
pub use message::Message;
pub use profile::Profile;
