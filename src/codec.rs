//! Delimiter framing: node-ipc's wire unit is "bytes, then a delimiter" (default `\f`).
//!
//! [`FrameDecoder`] is sans-IO: callers own the buffer and hand it in after every read. It
//! remembers how far it has searched the current frame (`next_index`), so bytes are never scanned
//! twice however many small reads a large frame arrives in. The delimiter may be several bytes; it
//! is searched as a whole with `memchr::memmem`.
//!
//! Security: without a limit a peer that never sends a delimiter makes the buffer grow without
//! bound. `max_frame` caps both complete frames and the incomplete remainder. After an oversize
//! frame the decoder can either be abandoned (the Node binding drops the connection) or keep going:
//! it then discards bytes up to the next delimiter and resumes with the frame after it.

use memchr::memmem::Finder;
use std::fmt;

/// One step of decoding, relative to the start of the buffer passed to [`FrameDecoder::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `buf[..len]` is a complete frame; the delimiter follows it. Consume `len + delimiter_len`.
    Frame(usize),
    /// Drop `n` bytes from the front of the buffer (remains of an oversize frame).
    Discard(usize),
    /// No complete frame yet: read more.
    NeedMore,
}

/// A framing error. Each variant names the `ERR_IPC_*` code node-ipc 14 uses for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A frame (or the unfinished remainder of one) is longer than the limit.
    TooLarge { len: usize, max: usize, complete: bool },
    /// An unfinished frame (`pending` bytes so far) waited longer than `messageTimeout` (see
    /// [`crate::inbound::Inbound::check_timeout`]).
    Timeout { pending: usize, limit: std::time::Duration },
}

impl FrameError {
    /// The node-ipc 14 error code.
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::TooLarge { .. } => "ERR_IPC_FRAME_TOO_LARGE",
            FrameError::Timeout { .. } => "ERR_IPC_MESSAGE_TIMEOUT",
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { len, max, complete: true } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max} bytes")
            }
            FrameError::TooLarge { len, max, complete: false } => {
                write!(f, "{len} bytes received without a delimiter exceed the frame limit of {max} bytes")
            }
            FrameError::Timeout { pending, limit } => {
                write!(
                    f,
                    "an unfinished message ({pending} bytes) waited more than messageTimeout ({} ms)",
                    limit.as_millis()
                )
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// Splits a byte stream on a delimiter of one or more bytes.
#[derive(Clone)]
pub struct FrameDecoder {
    /// The delimiter searched for as a whole (never empty).
    finder: Finder<'static>,
    /// Largest accepted frame in bytes, delimiter excluded (`usize::MAX` = no limit).
    max_frame: usize,
    /// Bytes of the current frame already searched without finding a delimiter start.
    next_index: usize,
    /// True after an oversize frame until its delimiter has been skipped.
    discarding: bool,
}

impl fmt::Debug for FrameDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameDecoder")
            .field("delimiter", &self.finder.needle())
            .field("max_frame", &self.max_frame)
            .field("next_index", &self.next_index)
            .field("discarding", &self.discarding)
            .finish()
    }
}

/// Outcome of [`FrameDecoder::decode_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// `buf[..end]` holds `frames` complete frames, each followed by the delimiter.
    pub end: usize,
    /// Number of complete frames in `buf[..end]`.
    pub frames: usize,
    /// Set when a frame after the complete ones broke the limit.
    pub error: Option<FrameError>,
}

impl FrameDecoder {
    /// A decoder for `delimiter` (must not be empty) with an optional frame limit.
    pub fn new(delimiter: &[u8], max_frame: Option<usize>) -> FrameDecoder {
        assert!(!delimiter.is_empty(), "the delimiter must not be empty");
        FrameDecoder {
            finder: Finder::new(delimiter).into_owned(),
            max_frame: max_frame.unwrap_or(usize::MAX),
            next_index: 0,
            discarding: false,
        }
    }

    /// The delimiter bytes.
    pub fn delimiter(&self) -> &[u8] {
        self.finder.needle()
    }

    /// The frame limit, if any.
    pub fn max_frame(&self) -> Option<usize> {
        (self.max_frame != usize::MAX).then_some(self.max_frame)
    }

    /// True while the rest of an oversize frame is being skipped.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Looks for the next frame at the start of `buf`. `buf` must begin where the previous step
    /// left off (the caller consumed what earlier steps told it to) and may only have grown since.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Step, FrameError> {
        let dlen = self.finder.needle().len();
        let found = self.finder.find(&buf[self.next_index.min(buf.len())..]).map(|i| i + self.next_index);
        match found {
            Some(pos) => {
                self.next_index = 0;
                if self.discarding {
                    self.discarding = false;
                    return Ok(Step::Discard(pos + dlen));
                }
                if pos > self.max_frame {
                    // Report once, then skip this frame if the caller keeps going.
                    self.discarding = true;
                    return Err(FrameError::TooLarge { len: pos, max: self.max_frame, complete: true });
                }
                Ok(Step::Frame(pos))
            }
            None => {
                // A delimiter may straddle this read and the next: keep its first dlen-1 bytes.
                let keep = dlen - 1;
                if self.discarding {
                    // Drop all but the bytes that may begin a delimiter; those are searched again.
                    let drop = buf.len().saturating_sub(keep);
                    self.next_index = 0;
                    return Ok(if drop > 0 { Step::Discard(drop) } else { Step::NeedMore });
                }
                self.next_index = buf.len().saturating_sub(keep);
                // The last `keep` bytes may be the start of the delimiter: only what comes before
                // them is known to belong to the frame (found by fuzzing: a frame of exactly
                // `max_frame` bytes read up to the middle of a multi-byte delimiter was refused).
                if buf.len() - keep.min(buf.len()) > self.max_frame {
                    self.discarding = true;
                    return Err(FrameError::TooLarge { len: buf.len(), max: self.max_frame, complete: false });
                }
                Ok(Step::NeedMore)
            }
        }
    }

    /// Finds every complete frame at the start of `buf` in one pass, for callers that hand a whole
    /// batch on (the Node binding gives JS one string per read). Frames before an oversize one are
    /// still reported in `end`/`frames`.
    pub fn decode_batch(&mut self, buf: &[u8]) -> Batch {
        let dlen = self.finder.needle().len();
        let mut end = 0;
        let mut frames = 0;
        loop {
            match self.decode(&buf[end..]) {
                Ok(Step::Frame(len)) => {
                    end += len + dlen;
                    frames += 1;
                }
                Ok(Step::NeedMore) => return Batch { end, frames, error: None },
                // Only reachable after an error the caller chose to ignore.
                Ok(Step::Discard(_)) => return Batch { end, frames, error: None },
                Err(e) => return Batch { end, frames, error: Some(e) },
            }
        }
    }

    /// Forget any partial search (call when the buffer is cleared).
    pub fn reset(&mut self) {
        self.next_index = 0;
        self.discarding = false;
    }

    /// node-ipc's UDP rule: a datagram is decoded on its own and must hold whole frames (several
    /// are fine). Its complete frames are reported in `end`/`frames` even when what follows them
    /// breaks the rule; an unfinished remainder is an error, never kept for the next datagram.
    pub fn decode_datagram(&mut self, datagram: &[u8]) -> DatagramFrames {
        self.reset();
        let b = self.decode_batch(datagram);
        self.reset();
        let error = match b.error {
            Some(e) => Some(DatagramError::TooLarge(e)),
            None if b.end < datagram.len() => Some(DatagramError::Incomplete { len: datagram.len() - b.end }),
            None => None,
        };
        DatagramFrames { end: b.end, frames: b.frames, error }
    }
}

/// Outcome of [`FrameDecoder::decode_datagram`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatagramFrames {
    /// `datagram[..end]` holds `frames` complete frames, each followed by the delimiter.
    pub end: usize,
    /// Number of complete frames in `datagram[..end]`.
    pub frames: usize,
    /// What was wrong with the rest of the datagram, if anything.
    pub error: Option<DatagramError>,
}

/// Why (part of) a datagram was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatagramError {
    /// A frame broke the frame limit.
    TooLarge(FrameError),
    /// The datagram ends with `len` bytes of an unfinished frame.
    Incomplete { len: usize },
}

impl DatagramError {
    /// The node-ipc 14 error code.
    pub fn code(&self) -> &'static str {
        match self {
            DatagramError::TooLarge(e) => e.code(),
            DatagramError::Incomplete { .. } => "ERR_IPC_INCOMPLETE_FRAME",
        }
    }

    /// The error message for a datagram from `from` (an address and port, `[v6]:port` for IPv6),
    /// as the Node binding and the Rust API both report it.
    pub fn message_from(&self, from: impl fmt::Display) -> String {
        match self {
            DatagramError::TooLarge(e) => format!("datagram from {from}: {e}"),
            DatagramError::Incomplete { .. } => format!("datagram from {from} {self}"),
        }
    }
}

impl fmt::Display for DatagramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatagramError::TooLarge(e) => e.fmt(f),
            DatagramError::Incomplete { len } => write!(f, "ends with {len} bytes of an unfinished frame"),
        }
    }
}

impl std::error::Error for DatagramError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` one after another as reads, collecting frames the way a connection would.
    fn run(dec: &mut FrameDecoder, chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<FrameError>) {
        let mut buf = Vec::new();
        let mut frames = Vec::new();
        let mut errors = Vec::new();
        let dlen = dec.delimiter().len();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            loop {
                match dec.decode(&buf) {
                    Ok(Step::Frame(len)) => {
                        frames.push(buf[..len].to_vec());
                        buf.drain(..len + dlen);
                    }
                    Ok(Step::Discard(n)) => {
                        buf.drain(..n);
                    }
                    Ok(Step::NeedMore) => break,
                    Err(e) => errors.push(e),
                }
            }
        }
        (frames, errors)
    }

    #[test]
    fn datagrams_hold_whole_frames() {
        let mut d = FrameDecoder::new(b"\x0c", Some(4));
        let ok = d.decode_datagram(b"ab\x0ccd\x0c");
        assert_eq!(ok, DatagramFrames { end: 6, frames: 2, error: None });
        // An unfinished remainder is an error, and is not kept for the next datagram.
        let part = d.decode_datagram(b"ab\x0ccd");
        assert_eq!((part.end, part.frames), (3, 1));
        assert_eq!(part.error, Some(DatagramError::Incomplete { len: 2 }));
        let incomplete = part.error.unwrap();
        assert_eq!(incomplete.code(), "ERR_IPC_INCOMPLETE_FRAME");
        assert_eq!(
            incomplete.message_from("[::1]:9"),
            "datagram from [::1]:9 ends with 2 bytes of an unfinished frame"
        );
        assert_eq!(d.decode_datagram(b"x\x0c"), DatagramFrames { end: 2, frames: 1, error: None });
        // The frames before an oversize one still count; the decoder starts afresh afterwards.
        let big = d.decode_datagram(b"a\x0cabcdef\x0c");
        assert_eq!((big.end, big.frames), (2, 1));
        assert_eq!(big.error.as_ref().map(DatagramError::code), Some("ERR_IPC_FRAME_TOO_LARGE"));
        let message = big.error.unwrap().message_from("127.0.0.1:9");
        assert_eq!(message, "datagram from 127.0.0.1:9: frame of 6 bytes exceeds the limit of 4 bytes");
        assert_eq!(d.decode_datagram(b"ok\x0c"), DatagramFrames { end: 3, frames: 1, error: None });
        assert_eq!(d.decode_datagram(b""), DatagramFrames { end: 0, frames: 0, error: None });
    }

    #[test]
    fn single_frames_and_empty_frames() {
        let mut d = FrameDecoder::new(b"\x0c", None);
        let (f, e) = run(&mut d, &[b"{\"a\":1}\x0c\x0c{}\x0c"]);
        assert_eq!(f, vec![b"{\"a\":1}".to_vec(), b"".to_vec(), b"{}".to_vec()]);
        assert!(e.is_empty());
    }

    #[test]
    fn split_at_every_offset() {
        let stream = "{\"type\":\"a\",\"data\":\"héllo\"}\x0c{\"type\":\"b\",\"data\":[1,2]}\x0c";
        let bytes = stream.as_bytes();
        for delim in [&b"\x0c"[..]] {
            for cut in 0..=bytes.len() {
                let mut d = FrameDecoder::new(delim, None);
                let (f, e) = run(&mut d, &[&bytes[..cut], &bytes[cut..]]);
                assert!(e.is_empty());
                assert_eq!(f.len(), 2, "cut at {cut}");
                assert_eq!(f[0], "{\"type\":\"a\",\"data\":\"héllo\"}".as_bytes());
            }
        }
    }

    #[test]
    fn multi_byte_delimiter_split_everywhere() {
        let delim = b"<END>";
        let mut stream = Vec::new();
        for i in 0..5 {
            stream.extend_from_slice(format!("frame-{i}<E<EN").as_bytes());
            stream.extend_from_slice(delim);
        }
        for cut1 in 0..stream.len() {
            let cut2 = (cut1 + 7).min(stream.len());
            let mut d = FrameDecoder::new(delim, None);
            let (f, e) = run(&mut d, &[&stream[..cut1], &stream[cut1..cut2], &stream[cut2..]]);
            assert!(e.is_empty());
            let want: Vec<Vec<u8>> = (0..5).map(|i| format!("frame-{i}<E<EN").into_bytes()).collect();
            assert_eq!(f, want, "cuts {cut1} {cut2}");
        }
    }

    #[test]
    fn byte_by_byte_never_rescans() {
        // One byte per read: the search window must stay constant size (delimiter length),
        // which we check through next_index advancing with the buffer.
        let mut d = FrameDecoder::new(b"\r\n", None);
        let mut buf = Vec::new();
        for (i, b) in b"abcdef".iter().enumerate() {
            buf.push(*b);
            assert_eq!(d.decode(&buf), Ok(Step::NeedMore));
            assert_eq!(d.next_index, i); // everything but the last byte is known not to start "\r\n"
        }
        buf.extend_from_slice(b"\r\n");
        assert_eq!(d.decode(&buf), Ok(Step::Frame(6)));
    }

    #[test]
    fn thousand_frames_in_one_read() {
        let mut stream = Vec::new();
        for i in 0..1000 {
            stream.extend_from_slice(format!("{{\"type\":\"t\",\"data\":{i}}}\x0c").as_bytes());
        }
        let mut d = FrameDecoder::new(b"\x0c", Some(1 << 20));
        let batch = d.decode_batch(&stream);
        assert_eq!(batch.frames, 1000);
        assert_eq!(batch.end, stream.len());
        assert!(batch.error.is_none());
        let (f, _) = run(&mut FrameDecoder::new(b"\x0c", None), &[&stream]);
        assert_eq!(f.len(), 1000);
        assert_eq!(f[999], b"{\"type\":\"t\",\"data\":999}");
    }

    #[test]
    fn batch_stops_at_incomplete_tail() {
        let mut d = FrameDecoder::new(b"\x0c", None);
        let buf = b"a\x0cbb\x0ccc";
        let batch = d.decode_batch(buf);
        assert_eq!(batch, Batch { end: 5, frames: 2, error: None });
        // The caller drops buf[..5]; the tail "cc" is searched only once more bytes come.
        let mut rest = b"cc".to_vec();
        assert_eq!(d.decode_batch(&rest), Batch { end: 0, frames: 0, error: None });
        rest.extend_from_slice(b"d\x0c");
        assert_eq!(d.decode_batch(&rest), Batch { end: 4, frames: 1, error: None });
    }

    #[test]
    fn oversize_complete_frame_then_recover() {
        let mut d = FrameDecoder::new(b"\x0c", Some(4));
        let (f, e) = run(&mut d, &[b"ok\x0ctoolong\x0cfine\x0c"]);
        assert_eq!(f, vec![b"ok".to_vec(), b"fine".to_vec()]);
        assert_eq!(e, vec![FrameError::TooLarge { len: 7, max: 4, complete: true }]);
        assert_eq!(e[0].code(), "ERR_IPC_FRAME_TOO_LARGE");
    }

    #[test]
    fn equal_to_limit_is_accepted() {
        let mut d = FrameDecoder::new(b"\x0c", Some(4));
        let (f, e) = run(&mut d, &[b"abcd\x0c"]);
        assert_eq!(f, vec![b"abcd".to_vec()]);
        assert!(e.is_empty());
    }

    #[test]
    fn endless_frame_is_bounded_and_discarded() {
        // A peer that never sends a delimiter: reported once, then every byte is dropped as it comes,
        // so the buffer stays small. The frame after the eventual delimiter is delivered.
        let mut d = FrameDecoder::new(b"\x0c", Some(8));
        let mut buf: Vec<u8> = Vec::new();
        let mut errors = 0;
        let mut max_buf = 0;
        for _ in 0..1000 {
            buf.extend_from_slice(b"xxxxxx");
            max_buf = max_buf.max(buf.len());
            loop {
                match d.decode(&buf) {
                    Ok(Step::Discard(n)) => {
                        buf.drain(..n);
                    }
                    Ok(Step::NeedMore) => break,
                    Ok(Step::Frame(_)) => panic!("no frame expected"),
                    Err(e) => {
                        assert!(matches!(e, FrameError::TooLarge { complete: false, .. }));
                        errors += 1;
                    }
                }
            }
        }
        assert_eq!(errors, 1);
        assert!(max_buf <= 14, "buffer grew to {max_buf}");
        let (f, e) = run(&mut d, &[b"xx\x0cnext\x0c"]);
        assert!(e.is_empty());
        assert_eq!(f, vec![b"next".to_vec()]);
    }

    #[test]
    fn multi_byte_delimiter_discard_keeps_straddling_prefix() {
        let mut d = FrameDecoder::new(b"||", Some(3));
        let (f, e) = run(&mut d, &[b"aaaaa|", b"|b||"]);
        assert_eq!(e.len(), 1);
        assert_eq!(f, vec![b"b".to_vec()]);
    }

    #[test]
    fn frame_at_the_limit_with_a_split_multi_byte_delimiter() {
        // "abcd" is exactly the limit; the read ends inside the delimiter.
        let mut d = FrameDecoder::new(b"||", Some(4));
        let (f, e) = run(&mut d, &[b"abcd|", b"|"]);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(f, vec![b"abcd".to_vec()]);
    }

    #[test]
    fn batch_reports_frames_before_an_oversize_one() {
        let mut d = FrameDecoder::new(b"\n", Some(3));
        let b = d.decode_batch(b"a\nbb\ncccc\nd\n");
        assert_eq!(b.end, 5);
        assert_eq!(b.frames, 2);
        assert_eq!(b.error, Some(FrameError::TooLarge { len: 4, max: 3, complete: true }));
    }
}
