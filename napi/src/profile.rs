//! node-ipc 14's setup checks, run by the JS shim before a server listens or a client connects:
//! the core's rules ([`node_ipc_rs::socket_root`], [`node_ipc_rs::profile`]), so the addon and the
//! Rust API refuse the same configurations.

use napi_derive::napi;

use node_ipc_rs::profile;
use node_ipc_rs::socket_root::{self, LocalRules};

use crate::options::{tls_options, TlsSettings};

/// What a local server's start checks (see `socket_root::LocalRules`).
#[napi(object)]
pub struct LocalServerRules {
    pub assured: bool,
    pub secure: bool,
    pub create: bool,
    pub refuse_non_socket: bool,
}

/// Checks (and, when missing, creates) the socket root of a local server at `path`. Returns
/// `"CODE|message"` when the server must not start.
#[napi]
pub fn check_local_server(root: String, path: String, rules: LocalServerRules) -> Option<String> {
    let rules = LocalRules {
        assured: rules.assured,
        secure: rules.secure,
        create: rules.create,
        refuse_non_socket: rules.refuse_non_socket,
    };
    socket_root::check_local_server(&root, &path, rules).err().map(|e| format!("{}|{}", e.code, e.message))
}

/// The assured profile's TLS rule for a client or server. Returns `"CODE|message"` when refused.
#[napi]
pub fn check_assured_tls(settings: TlsSettings, server: bool) -> Option<String> {
    profile::check_assured_tls(&tls_options(&settings), server).err().map(|e| format!("{}|{}", e.code, e.message))
}

/// The assured profile's transport rule for a network client or server: TLS only, never UDP.
/// Returns `"CODE|message"` when refused.
#[napi]
pub fn check_assured_network(tls: bool, udp: bool) -> Option<String> {
    profile::check_assured_network(tls, udp).err().map(|e| format!("{}|{}", e.code, e.message))
}

/// node-ipc 14's defaults for the guarded/assured limits (the core's numbers, so JS uses the same).
#[napi(object)]
pub struct ProfileDefaults {
    pub max_message_size: f64,
    pub max_pending_bytes: f64,
    pub max_event_name_length: f64,
    pub message_timeout: f64,
}

#[napi]
pub fn profile_defaults() -> ProfileDefaults {
    ProfileDefaults {
        max_message_size: profile::DEFAULT_MAX_MESSAGE_SIZE as f64,
        max_pending_bytes: profile::DEFAULT_MAX_PENDING_BYTES as f64,
        max_event_name_length: profile::DEFAULT_MAX_EVENT_NAME_LENGTH as f64,
        message_timeout: profile::DEFAULT_MESSAGE_TIMEOUT_MS as f64,
    }
}
