//! The napi binding: node-ipc-rs's core sockets, polled from the calling environment's libuv loop.
//!
//! JS sees integer handle ids and one dispatch function, called once per socket event:
//! `dispatch(kind, id, a, b)`. A read hands over *all* complete frames it found as one string, so a
//! burst of messages crosses the boundary once, not once per message. Writes are batched by the JS
//! shim (one call per connection per tick) and go straight to the kernel from the JS thread.
//!
//! Handle ids are unique across servers and connections for the life of the environment.
//!
//! Layout: [`state`] (per-environment handle table, the poll callback, dispatch to JS),
//! [`conn`] (stream connections), [`server`] (listeners), [`udp`], [`options`] (what JS passes in),
//! [`profile`] (node-ipc 14's setup checks), [`stream`] (the stream transport: framing and TLS for bytes that move
//! through a Node stream), `uv` (the few libuv calls).

#![deny(clippy::all)]

pub mod conn;
pub mod options;
pub mod profile;
pub mod server;
pub mod state;
pub mod stream;
pub mod udp;
mod uv;
