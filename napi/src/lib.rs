//! The napi binding: node-ipc-rs's core sockets, polled from the calling environment's libuv loop.
//!
//! JS sees integer handle ids and one dispatch function, called once per socket event:
//! `dispatch(kind, id, a, b)`. A read hands over *all* complete frames it found as one string, so a
//! burst of messages crosses the boundary once, not once per message. Writes are batched by the JS
//! shim (one call per connection per tick) and go straight to the kernel from the JS thread.
//!
//! Handle ids are unique across servers and connections for the life of the environment.
//!
//! Layout: [`state`] (per-environment handle table, the remainder-age timer, dispatch to JS),
//! [`stream`] (the stream transport: framing and TLS for bytes that move through a Node stream),
//! [`datagram`] (UDP datagrams, from either transport), [`options`] (what JS passes in),
//! [`profile`] (node-ipc 14's setup checks), `uv` (the libuv timer), and, on Unix only,
//! `native` (the native transport: connections, listeners and UDP sockets of our own, polled
//! by libuv). Windows builds everything but `native`: there the JS shim uses the stream
//! transport for every socket and Node's `dgram` for UDP.

#![deny(clippy::all)]

pub mod datagram;
#[cfg(unix)]
pub mod native;
pub mod options;
pub mod profile;
pub mod state;
pub mod stream;
mod uv;
