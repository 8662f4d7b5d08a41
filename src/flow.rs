//! Write-side flow control: how many unsent bytes a connection may hold.
//!
//! Two numbers, one rule, for every transport (the Node binding's sockets, the async Rust API):
//!
//! - the **high-water mark**: once a connection holds this many unsent bytes, a send reports
//!   "wait" (Node: `write()`/`emit()` return `false`, then `drain` when everything is flushed). It
//!   is only a signal; nothing is refused.
//! - the **pending-bytes cap** (`maxPendingBytes`): a send that would take the unsent bytes past it
//!   is refused and the connection is closed with `ERR_IPC_BACKPRESSURE`, node-ipc 14's semantics,
//!   in every profile (only the value differs). This protects the process from a peer that stopped
//!   reading when the program ignores the signal.
//!
//! "Unsent" means accepted by a send and not yet taken by the kernel: what the connection queues
//! itself (bytes the kernel refused, bytes coalesced for the next write). The kernel's own socket
//! buffer is not counted, as in Node.
//!
//! The Node shim applies the same rule in `lib/socket.js` (`IpcSocket.write`), with these defaults
//! read from the binding once, because it coalesces writes per tick in JS before they reach Rust.

/// Default pending-bytes cap when no profile sets one (node-ipc 9/12 semantics had none).
pub const DEFAULT_MAX_PENDING: usize = 64 * 1024 * 1024;

/// Pending-bytes cap of node-ipc 14's guarded and assured profiles.
pub const PROFILE_MAX_PENDING: usize = 8 * 1024 * 1024;

/// High-water mark of unsent bytes. Node 22's default for streams (Node 20's is 16 KiB); the Node
/// shim also flushes its per-tick write buffer to the kernel whenever it reaches this size, so a
/// `false` always means the kernel refused bytes, never that a burst merely coalesced.
pub const DEFAULT_HIGH_WATER_MARK: usize = 64 * 1024;

/// What a connection may hold unsent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimits {
    /// Unsent bytes from which sends report "wait".
    pub high_water_mark: usize,
    /// Unsent bytes a send may never take the connection past (`None`: unbounded).
    pub max_pending: Option<usize>,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits { high_water_mark: DEFAULT_HIGH_WATER_MARK, max_pending: Some(DEFAULT_MAX_PENDING) }
    }
}

/// The verdict on one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Queue it; `true` while the connection stays below the high-water mark afterwards.
    Accept(bool),
    /// Refuse it and close the connection with `ERR_IPC_BACKPRESSURE`.
    OverLimit,
}

impl WriteLimits {
    /// The rule: a send of `len` bytes onto a connection holding `unsent` bytes is refused when
    /// `unsent + len > max_pending` (equal is accepted, as in node-ipc 14); otherwise it reports
    /// whether `unsent + len` is still below the high-water mark.
    pub fn admit(&self, unsent: usize, len: usize) -> Admit {
        let after = unsent.saturating_add(len);
        match self.max_pending {
            Some(max) if after > max => Admit::OverLimit,
            _ => Admit::Accept(after < self.high_water_mark),
        }
    }
}

/// The message of an `ERR_IPC_BACKPRESSURE` error (the same text as node-ipc 14).
pub const BACKPRESSURE_MESSAGE: &str = "pending socket writes exceed maxPendingBytes";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_is_inclusive_and_hwm_exclusive() {
        let l = WriteLimits { high_water_mark: 10, max_pending: Some(100) };
        assert_eq!(l.admit(0, 9), Admit::Accept(true));
        assert_eq!(l.admit(0, 10), Admit::Accept(false));
        assert_eq!(l.admit(90, 10), Admit::Accept(false));
        assert_eq!(l.admit(91, 10), Admit::OverLimit);
        assert_eq!(l.admit(0, 101), Admit::OverLimit);
    }

    #[test]
    fn unbounded() {
        let l = WriteLimits { high_water_mark: 10, max_pending: None };
        assert_eq!(l.admit(usize::MAX, usize::MAX), Admit::Accept(false));
    }

    #[test]
    fn defaults() {
        let l = WriteLimits::default();
        assert_eq!(l.max_pending, Some(64 << 20));
        assert_eq!(l.admit(DEFAULT_MAX_PENDING, 1), Admit::OverLimit);
    }
}
