//! node-ipc's defaults (9.2.1 / 12.0.0 baseline) and how it derives socket paths.

/// Default frame delimiter (form feed).
pub const DEFAULT_DELIMITER: &str = "\x0c";
/// Default `socketRoot`.
pub const DEFAULT_SOCKET_ROOT: &str = "/tmp/";
/// Default `appspace`.
pub const DEFAULT_APPSPACE: &str = "app.";
/// Default `networkHost`.
pub const DEFAULT_NETWORK_HOST: &str = "127.0.0.1";
/// Default `networkPort`.
pub const DEFAULT_NETWORK_PORT: u16 = 8000;
/// Default `retry` in milliseconds.
pub const DEFAULT_RETRY_MS: u64 = 500;
/// Default `maxConnections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;
/// node-ipc 14's `maxMessageSize` default (enforced by the guarded and assured profiles).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1024 * 1024;
/// The frame limit applied by the default profile, where node-ipc had none: large enough for any
/// reasonable message, small enough that a peer that never sends a delimiter cannot exhaust memory.
pub const DEFAULT_FRAME_CAP: usize = 64 * 1024 * 1024;

/// The local socket path node-ipc uses for `id`: plain concatenation, no separator added.
pub fn socket_path(socket_root: &str, appspace: &str, id: &str) -> String {
    format!("{socket_root}{appspace}{id}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_path() {
        assert_eq!(super::socket_path("/tmp/", "app.", "world"), "/tmp/app.world");
    }
}
