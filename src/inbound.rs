//! The receive side of one stream connection, sans-IO: bytes go in — read from a socket straight
//! into the buffer ([`Inbound::buffer_mut`]) or pushed as a chunk ([`Inbound::push`]) — and
//! complete frames come out in batches ([`Inbound::decode`]). Every transport uses it: the Node
//! binding's file-descriptor path and its stream transport, and the async Rust API, so framing
//! rules and limits are enforced the same way everywhere.
//!
//! A batch is handed on as one piece: [`crate::batch::FrameArray`] turns it into the text of one
//! JSON array, which JS decodes with a single `JSON.parse`.
//!
//! The remainder-age rule (node-ipc 14's `messageTimeout`, guarded and assured profiles) lives here
//! too, sans-IO: after each received chunk the transport calls [`Inbound::note_remainder`] with the
//! current time; a clock starts when the chunk leaves an unfinished frame and none is running, is
//! not restarted by later chunks that still leave one (so a stream whose chunks never line up with
//! frames is eventually refused), and stops when the remainder empties. The transport arms a timer
//! for [`Inbound::deadline`] and, when it fires, asks [`Inbound::check_timeout`]. Time is always a
//! parameter, so tests drive the rule with any clock.

use std::time::{Duration, Instant};

use crate::codec::{FrameDecoder, FrameError};
use crate::error::ErrorCode;

/// What one [`Inbound::decode`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Bytes available through [`Inbound::batch`]: complete frames with their delimiters (framed
    /// mode) or everything received (raw mode).
    pub len: usize,
    /// Complete frames in the batch (0 in raw mode).
    pub frames: usize,
    /// A frame broke the size limit: deliver the batch, then drop the connection.
    pub error: Option<FrameError>,
}

/// Capacity kept by an idle connection's buffer at most (a larger one is released when empty).
const KEEP_CAPACITY: usize = 64 * 1024;

/// Received bytes and the decoder that frames them.
#[derive(Debug)]
pub struct Inbound {
    /// Bytes received and not yet handed on; always starts at a frame boundary.
    buf: Vec<u8>,
    /// `None` in raw mode: no framing, everything received is one batch.
    decoder: Option<FrameDecoder>,
    /// `buf` is a caller's shared buffer lent by [`lend`](Self::lend).
    borrowed: bool,
    /// How long an unfinished frame may wait (`messageTimeout`); `None`: forever.
    message_timeout: Option<Duration>,
    /// When the current unfinished frame's clock started.
    pending_since: Option<Instant>,
}

impl Inbound {
    /// A receive side framing with `decoder`, or raw (`None`).
    pub fn new(decoder: Option<FrameDecoder>) -> Inbound {
        Inbound { buf: Vec::new(), decoder, borrowed: false, message_timeout: None, pending_since: None }
    }

    /// Sets how long an unfinished frame may wait (`None` or zero: no limit; raw mode has none).
    pub fn set_message_timeout(&mut self, limit: Option<Duration>) {
        self.message_timeout = limit.filter(|d| !d.is_zero() && self.decoder.is_some());
        if self.message_timeout.is_none() {
            self.pending_since = None;
        }
    }

    /// The `messageTimeout` in force, if any.
    pub fn message_timeout(&self) -> Option<Duration> {
        self.message_timeout
    }

    /// The remainder-age rule, after a received chunk was decoded and consumed: starts the clock at
    /// `now` when an unfinished frame is left and no clock runs, keeps a running clock, stops it
    /// when nothing is left. Returns the [`deadline`](Self::deadline).
    pub fn note_remainder(&mut self, now: Instant) -> Option<Instant> {
        self.message_timeout?;
        if self.buf.is_empty() {
            self.pending_since = None;
        } else if self.pending_since.is_none() {
            self.pending_since = Some(now);
        }
        self.deadline()
    }

    /// When the unfinished frame's time is up (`None` when no clock runs).
    pub fn deadline(&self) -> Option<Instant> {
        Some(self.pending_since? + self.message_timeout?)
    }

    /// `Err(FrameError::Timeout)` once an unfinished frame has waited `messageTimeout` or longer
    /// by `now`: the connection must be dropped.
    pub fn check_timeout(&self, now: Instant) -> Result<(), FrameError> {
        match (self.pending_since, self.message_timeout) {
            (Some(since), Some(limit)) if now.saturating_duration_since(since) >= limit => {
                Err(FrameError::Timeout { pending: self.buf.len(), limit })
            }
            _ => Ok(()),
        }
    }

    /// The buffer to append received bytes to. Only append: bytes already in it are pending frames.
    pub fn buffer_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Appends a received chunk.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Frames what has been received since the last [`consume`](Self::consume). Bytes already
    /// searched are not searched again.
    pub fn decode(&mut self) -> Decoded {
        match &mut self.decoder {
            None => Decoded { len: self.buf.len(), frames: 0, error: None },
            Some(dec) => {
                let b = dec.decode_batch(&self.buf);
                Decoded { len: b.end, frames: b.frames, error: b.error }
            }
        }
    }

    /// The bytes announced by `d` (the last [`decode`](Self::decode)).
    pub fn batch(&self, d: &Decoded) -> &[u8] {
        &self.buf[..d.len]
    }

    /// Drops the batch, keeping any unfinished frame. A shared buffer lent by
    /// [`lend`](Self::lend) must be returned with [`give_back`](Self::give_back) instead.
    pub fn consume(&mut self, d: &Decoded) {
        self.buf.drain(..d.len);
        // Idle connections should not pin a large buffer.
        if self.buf.is_empty() && self.buf.capacity() > KEEP_CAPACITY && !self.borrowed {
            self.buf = Vec::new();
        }
    }

    /// Lends `scratch` (a buffer shared by many connections on one thread) as the receive buffer
    /// when nothing is pending, so connections between bursts hold no buffer and bursts reuse one
    /// warm allocation. Always follow with [`give_back`](Self::give_back).
    pub fn lend(&mut self, scratch: &mut Vec<u8>) {
        if self.buf.is_empty() && !self.borrowed {
            std::mem::swap(&mut self.buf, scratch);
            self.buf.clear();
            self.borrowed = true;
        }
    }

    /// Returns the buffer lent by [`lend`](Self::lend) to `scratch`, keeping only the unfinished
    /// frame (copied into a buffer of its own). No-op if nothing was lent.
    pub fn give_back(&mut self, scratch: &mut Vec<u8>) {
        if !self.borrowed {
            return;
        }
        self.borrowed = false;
        let tail = if self.buf.is_empty() { Vec::new() } else { self.buf.clone() };
        std::mem::swap(&mut self.buf, scratch);
        scratch.clear();
        self.buf = tail;
    }

    /// Drops everything received and forgets partial searches (the buffer is released).
    pub fn clear(&mut self) {
        self.buf = Vec::new();
        self.borrowed = false;
        self.pending_since = None;
        if let Some(dec) = &mut self.decoder {
            dec.reset();
        }
    }

    /// Bytes of an unfinished frame still buffered (non-zero at EOF means the peer stopped mid-frame).
    pub fn partial_len(&self) -> usize {
        self.buf.len()
    }

    /// At the peer's end: `ERR_IPC_INCOMPLETE_FRAME` and its message when an unfinished frame is
    /// buffered (framed mode only; raw mode has no frames).
    pub fn end_error(&self) -> Option<(ErrorCode, String)> {
        let partial = self.partial_len();
        (partial > 0 && !self.is_raw()).then(|| {
            (ErrorCode::IncompleteFrame, format!("the peer closed the connection {partial} bytes into a frame"))
        })
    }

    /// The frame delimiter (`None` in raw mode).
    pub fn delimiter(&self) -> Option<&[u8]> {
        self.decoder.as_ref().map(|d| d.delimiter())
    }

    /// True in raw mode (no framing).
    pub fn is_raw(&self) -> bool {
        self.decoder.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(delim: &[u8], max: Option<usize>) -> Inbound {
        Inbound::new(Some(FrameDecoder::new(delim, max)))
    }

    #[test]
    fn end_error_only_for_an_unfinished_frame() {
        let mut inb = framed(b"\x0c", None);
        assert_eq!(inb.end_error(), None);
        inb.push(b"{\"type\":\"a\"}\x0c{\"ty");
        let d = inb.decode();
        inb.consume(&d);
        let (code, msg) = inb.end_error().expect("4 bytes of a frame are left");
        assert_eq!(code, ErrorCode::IncompleteFrame);
        assert_eq!(msg, "the peer closed the connection 4 bytes into a frame");
        let mut raw = Inbound::new(None);
        raw.push(b"{\"ty");
        assert_eq!(raw.end_error(), None);
    }

    #[test]
    fn pushed_chunks_come_out_as_batches() {
        let mut inb = framed(b"\x0c", None);
        inb.push(b"{\"type\":\"a\"}\x0c{\"ty");
        let d = inb.decode();
        assert_eq!((d.len, d.frames), (13, 1));
        assert_eq!(inb.batch(&d), b"{\"type\":\"a\"}\x0c");
        inb.consume(&d);
        assert_eq!(inb.partial_len(), 4);
        inb.push(b"pe\":\"b\"}\x0c");
        let d = inb.decode();
        assert_eq!(inb.batch(&d), b"{\"type\":\"b\"}\x0c");
        inb.consume(&d);
        assert_eq!(inb.partial_len(), 0);
    }

    #[test]
    fn raw_mode_hands_on_everything() {
        let mut inb = Inbound::new(None);
        inb.push(b"ab\x0ccd");
        let d = inb.decode();
        assert_eq!((d.len, d.frames), (5, 0));
        assert!(inb.is_raw());
        inb.consume(&d);
        assert_eq!(inb.partial_len(), 0);
    }

    #[test]
    fn oversize_frame_after_good_ones() {
        let mut inb = framed(b"\n", Some(3));
        inb.push(b"a\nbb\ncccc\n");
        let d = inb.decode();
        assert_eq!((d.len, d.frames), (5, 2));
        assert!(d.error.is_some());
    }

    #[test]
    fn lent_buffer_keeps_only_the_tail() {
        let mut scratch = Vec::with_capacity(1 << 16);
        let ptr = scratch.as_ptr();
        let mut inb = framed(b"\x0c", None);
        inb.lend(&mut scratch);
        inb.buffer_mut().extend_from_slice(b"x\x0cpartial");
        let d = inb.decode();
        assert_eq!(d.frames, 1);
        inb.consume(&d);
        inb.give_back(&mut scratch);
        assert_eq!(scratch.as_ptr(), ptr, "the warm buffer goes back");
        assert!(scratch.is_empty());
        assert_eq!(inb.partial_len(), 7);
        // With a remainder pending, nothing is lent: the remainder stays in place.
        inb.lend(&mut scratch);
        inb.push(b"\x0c");
        let d = inb.decode();
        assert_eq!(inb.batch(&d), b"partial\x0c");
    }

    /// Feeds one chunk at `at` the way a transport does: decode, consume, note the remainder.
    fn chunk(inb: &mut Inbound, bytes: &[u8], at: Instant) -> (usize, Option<Instant>) {
        inb.push(bytes);
        let d = inb.decode();
        inb.consume(&d);
        (d.frames, inb.note_remainder(at))
    }

    #[test]
    fn remainder_clock_starts_with_a_remainder_and_is_not_restarted_by_progress() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut inb = framed(b"\x0c", None);
        inb.set_message_timeout(Some(ms(100)));
        // Complete frames only: no clock.
        assert_eq!(chunk(&mut inb, b"{}\x0c", t0), (1, None));
        assert!(inb.check_timeout(t0 + ms(1000)).is_ok());
        // A chunk that leaves a remainder starts it...
        assert_eq!(chunk(&mut inb, b"{\"a\"", t0 + ms(10)), (0, Some(t0 + ms(110))));
        // ...later partial chunks do not restart it, even one that completes a frame and leaves
        // the start of the next...
        assert_eq!(chunk(&mut inb, b":1", t0 + ms(50)).1, Some(t0 + ms(110)));
        assert_eq!(chunk(&mut inb, b"}\x0c{", t0 + ms(90)), (1, Some(t0 + ms(110))));
        assert!(inb.check_timeout(t0 + ms(109)).is_ok());
        let e = inb.check_timeout(t0 + ms(110)).unwrap_err();
        assert_eq!(e.code(), "ERR_IPC_MESSAGE_TIMEOUT");
        assert_eq!(e, FrameError::Timeout { pending: 1, limit: ms(100) });
        // ...and emptying the remainder stops it; the next remainder starts a new one.
        assert_eq!(chunk(&mut inb, b"}\x0c", t0 + ms(100)), (1, None));
        assert!(inb.check_timeout(t0 + ms(500)).is_ok());
        assert_eq!(chunk(&mut inb, b"{", t0 + ms(600)).1, Some(t0 + ms(700)));
    }

    #[test]
    fn remainder_clock_off_by_default_for_zero_and_in_raw_mode() {
        let t0 = Instant::now();
        let mut inb = framed(b"\x0c", None);
        assert_eq!(chunk(&mut inb, b"{", t0).1, None);
        inb.set_message_timeout(Some(Duration::ZERO));
        assert_eq!(chunk(&mut inb, b"{", t0).1, None);
        assert!(inb.check_timeout(t0 + Duration::from_secs(3600)).is_ok());
        let mut raw = Inbound::new(None);
        raw.set_message_timeout(Some(Duration::from_millis(5)));
        assert_eq!(raw.message_timeout(), None);
        assert_eq!(chunk(&mut raw, b"{", t0).1, None);
    }
}
