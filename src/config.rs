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

/// The prefix of every Windows named pipe path.
pub const PIPE_PREFIX: &str = r"\\.\pipe\";

/// node-ipc's Windows name for a local socket path: drop one leading `/`, turn every other `/`
/// into `-`, prefix `\\.\pipe\` (`/tmp/app.world` -> `\\.\pipe\tmp-app.world`). A path already
/// under `\\.\pipe\` is kept as it is, for servers as for clients (node-ipc's servers prefixed it
/// a second time, so no client could reach them: contract Q36). Pure string work, so it is the same
/// on every platform; only Windows builds use it to open sockets.
///
/// ```
/// use node_ipc_rs::config::pipe_path;
/// assert_eq!(pipe_path("/tmp/app.world"), r"\\.\pipe\tmp-app.world");
/// assert_eq!(pipe_path(r"\\.\pipe\mine"), r"\\.\pipe\mine");
/// ```
pub fn pipe_path(path: &str) -> String {
    if path.starts_with(PIPE_PREFIX) {
        return path.to_string();
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    format!("{PIPE_PREFIX}{}", rest.replace('/', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path() {
        assert_eq!(socket_path("/tmp/", "app.", "world"), "/tmp/app.world");
    }

    #[test]
    fn pipe_path_rules() {
        // The default path (contract §2.2).
        assert_eq!(pipe_path("/tmp/app.world"), r"\\.\pipe\tmp-app.world");
        // Only one leading slash is dropped; every other slash becomes a dash.
        assert_eq!(pipe_path("//tmp//a/b"), r"\\.\pipe\-tmp--a-b");
        assert_eq!(pipe_path("/tmp/"), r"\\.\pipe\tmp-");
        // A relative path only gets its slashes replaced.
        assert_eq!(pipe_path("sockets/app.world"), r"\\.\pipe\sockets-app.world");
        assert_eq!(pipe_path("app.world"), r"\\.\pipe\app.world");
        // Backslashes are not touched (node-ipc only rewrites `/`).
        assert_eq!(pipe_path(r"C:\ipc\app.world"), r"\\.\pipe\C:\ipc\app.world");
        // Q36: an explicit pipe path is used as it is, never prefixed twice.
        assert_eq!(pipe_path(r"\\.\pipe\app.world"), r"\\.\pipe\app.world");
        assert_eq!(pipe_path(r"\\.\pipe\a/b"), r"\\.\pipe\a/b");
        // Idempotent.
        for p in ["/tmp/app.world", "x", "/a/b/c", r"\\.\pipe\z"] {
            assert_eq!(pipe_path(&pipe_path(p)), pipe_path(p));
        }
        // Not quite the prefix: converted.
        assert_eq!(pipe_path(r"\\.\PIPE\x"), r"\\.\pipe\\\.\PIPE\x");
        assert_eq!(pipe_path(""), r"\\.\pipe\");
    }
}
