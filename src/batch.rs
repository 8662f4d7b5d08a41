//! A batch of frames as one piece of JSON text, for callers that decode a whole read with a single
//! parse (the Node binding hands JS one string per read; `JSON.parse` of one array is much faster
//! than one parse per frame).
//!
//! [`FrameArray::build`] turns complete frames into the text of one JSON array of pairs:
//!
//! - a frame in node-ipc's own layout, `{"type":"<name>","data":<data>}` (what `JSON.stringify`
//!   writes for every emit), becomes `<n>,<data>`, where `n` numbers the event name in the
//!   connection's [`TypeTable`]: the envelope is not parsed again and the name is not created again
//!   for every message;
//! - any other frame becomes `-1,<frame>`, to be decoded as a whole.
//!
//! So `[{"type":"a","data":1}, {"data":2,"type":"b"}]` arrives as `[0,1,-1,{"data":2,"type":"b"}]`
//! plus the new name `a`. Parsing the array yields, for each frame, what `JSON.parse` of that frame
//! alone would give, provided no frame can move the array's element boundaries: every piece must be
//! structurally one JSON value ([`crate::jsonscan`]). [`FrameArray::exact`] says whether that holds;
//! when it does not (or the array does not parse), decode the frames one by one
//! ([`FrameArray::frame`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::jsonscan::is_single_value;

/// Event names kept per connection at most; frames with further new names are sent whole.
pub const MAX_TYPES: usize = 256;
/// Longest event name kept in a table (bytes); longer names are sent whole.
pub const MAX_TYPE_LEN: usize = 64;

/// FNV-1a: event names are short, and the table is bounded, so hash flooding cannot hurt.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The event names one connection has sent in node-ipc's layout, numbered in order of first use.
/// The receiving side keeps the same list (it gets each name once, with the batch that first
/// uses it), so a frame's name travels as its number.
#[derive(Debug, Default)]
pub struct TypeTable {
    /// Name -> number.
    index: HashMap<Box<[u8]>, u32, BuildHasherDefault<Fnv>>,
    /// Number -> name.
    names: Vec<Box<[u8]>>,
    /// The number looked up last: the frames of a batch usually share one.
    last: Option<u32>,
}

impl TypeTable {
    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no name has been added.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The number of `name`, adding it (and appending it, `\n`-separated, to `added`) if it is new
    /// and the table has room. `None`: the table is full. Allocates only for a new name.
    fn number(&mut self, name: &[u8], added: &mut Vec<u8>) -> Option<u32> {
        if let Some(n) = self.last {
            if *self.names[n as usize] == *name {
                return Some(n);
            }
        }
        let n = match self.index.get(name) {
            Some(&n) => n,
            None if self.names.len() < MAX_TYPES => {
                let n = self.names.len() as u32;
                self.index.insert(name.into(), n);
                self.names.push(name.into());
                if !added.is_empty() {
                    added.push(b'\n');
                }
                added.extend_from_slice(name);
                n
            }
            None => return None,
        };
        self.last = Some(n);
        Some(n)
    }
}

/// Splits a frame in node-ipc's layout `{"type":"<name>","data":<data>}` into its name and data.
/// The name must be printable ASCII without `"` or `\` (so its bytes are the string's characters)
/// and at most [`MAX_TYPE_LEN`] bytes; the data must be structurally one JSON value, so the frame
/// has no other member. Anything else: `None`.
fn split_envelope(frame: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = frame.strip_prefix(b"{\"type\":\"")?;
    let end =
        rest.iter().take(MAX_TYPE_LEN + 1).position(|&b| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\')?;
    if rest[end] != b'"' || end == 0 {
        return None;
    }
    let data = rest[end..].strip_prefix(b"\",\"data\":")?.strip_suffix(b"}")?;
    is_single_value(data).then_some((&rest[..end], data))
}

/// Where one frame is in the array text.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// Sent whole: `text[start..end]` is the frame.
    Whole { start: usize, end: usize },
    /// Sent as its name's number and its data, `text[start..end]`; the name is `names[name]` of
    /// this batch.
    Split { name: usize, start: usize, end: usize },
}

/// One batch as the text of a JSON array of pairs (see the module docs), with what is needed to
/// give the frames back one by one.
#[derive(Debug, Default)]
pub struct FrameArray {
    /// `[` + pairs joined by `,` + `]`.
    text: Vec<u8>,
    /// Each frame's place in `text`.
    pieces: Vec<Piece>,
    /// Every piece is structurally one JSON value.
    exact: bool,
    /// How many frames are sent whole (`-1,<frame>`).
    whole: usize,
    /// Names added to the table by this batch, `\n`-separated.
    added: Vec<u8>,
    /// The names this batch's split frames use (to rebuild them in [`frame`](Self::frame)).
    names: Vec<(u32, Box<[u8]>)>,
}

impl FrameArray {
    /// Replaces the contents with the frames of `batch` (complete frames, each followed by
    /// `delimiter`). With a type table, frames in node-ipc's layout are split (`<n>,<data>`);
    /// without one, every frame is sent whole (`-1,<frame>`).
    pub fn build(&mut self, batch: &[u8], delimiter: &[u8], mut types: Option<&mut TypeTable>) {
        self.text.clear();
        self.pieces.clear();
        self.added.clear();
        self.names.clear();
        self.exact = true;
        self.whole = 0;
        self.text.reserve(batch.len() + batch.len() / 16 + 2);
        self.text.push(b'[');
        let mut start = 0;
        for pos in memchr::memmem::find_iter(batch, delimiter) {
            if pos < start {
                continue; // overlapping match inside the previous delimiter
            }
            let frame = &batch[start..pos];
            start = pos + delimiter.len();
            if !self.pieces.is_empty() {
                self.text.push(b',');
            }
            if let Some(table) = types.as_deref_mut() {
                if let Some((name, data)) = split_envelope(frame) {
                    if let Some(n) = table.number(name, &mut self.added) {
                        let name = self.name_slot(n, name);
                        self.text.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                        self.text.push(b',');
                        let start = self.text.len();
                        self.text.extend_from_slice(data);
                        self.pieces.push(Piece::Split { name, start, end: self.text.len() });
                        continue;
                    }
                }
            }
            // Once one frame fails, the batch is decoded frame by frame: no need to look further.
            self.exact = self.exact && is_single_value(frame);
            self.whole += 1;
            self.text.extend_from_slice(b"-1,");
            let start = self.text.len();
            self.text.extend_from_slice(frame);
            self.pieces.push(Piece::Whole { start, end: self.text.len() });
        }
        self.text.push(b']');
    }

    /// This batch's slot for name number `n` (the frames of a batch use few names).
    fn name_slot(&mut self, n: u32, name: &[u8]) -> usize {
        match self.names.iter().rposition(|(m, _)| *m == n) {
            Some(i) => i,
            None => {
                self.names.push((n, name.into()));
                self.names.len() - 1
            }
        }
    }

    /// The JSON array text: two elements per frame.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// Names this batch added to the type table, `\n`-separated (empty: none). The receiving
    /// side appends them to its list before reading the array.
    pub fn added_types(&self) -> &[u8] {
        &self.added
    }

    /// True when every piece is structurally one JSON value, so that parsing
    /// [`text`](Self::text) as one array yields exactly the frames' pairs (or fails). False:
    /// decode frame by frame.
    pub fn exact(&self) -> bool {
        self.exact
    }

    /// How many frames the array holds whole (`-1,<frame>`) rather than split into a name
    /// number and data. When none is, a reader that has accepted every name of the table
    /// need not look at the messages one by one.
    pub fn whole(&self) -> usize {
        self.whole
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// True when there are no frames.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Frame `i`'s bytes, as received.
    pub fn frame(&self, i: usize) -> Cow<'_, [u8]> {
        match self.pieces[i] {
            Piece::Whole { start, end } => Cow::Borrowed(&self.text[start..end]),
            Piece::Split { name, start, end } => {
                let name = &self.names[name].1;
                let data = &self.text[start..end];
                let mut f = Vec::with_capacity(name.len() + data.len() + 20);
                f.extend_from_slice(b"{\"type\":\"");
                f.extend_from_slice(name);
                f.extend_from_slice(b"\",\"data\":");
                f.extend_from_slice(data);
                f.push(b'}');
                Cow::Owned(f)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(a: &FrameArray) -> Vec<Vec<u8>> {
        (0..a.len()).map(|i| a.frame(i).into_owned()).collect()
    }

    #[test]
    fn whole_frames_without_a_table() {
        let mut a = FrameArray::default();
        a.build(b"{\"a\":1}\x0c2\x0c\x0c", b"\x0c", None);
        assert_eq!(a.text(), b"[-1,{\"a\":1},-1,2,-1,]");
        assert_eq!(a.len(), 3);
        assert_eq!(a.whole(), 3);
        assert!(!a.exact(), "an empty frame is not a value");
        assert_eq!(frames(&a), [&b"{\"a\":1}"[..], b"2", b""]);
        a.build(b"x<>y<>", b"<>", None);
        assert_eq!(a.text(), b"[-1,x,-1,y]");
        a.build(b"", b"\x0c", None);
        assert_eq!(a.text(), b"[]");
        assert!(a.is_empty() && a.exact());
        assert_eq!(a.whole(), 0, "a build starts the count again");
    }

    #[test]
    fn node_ipc_frames_are_split_and_names_numbered() {
        let mut t = TypeTable::default();
        let mut a = FrameArray::default();
        let batch = b"{\"type\":\"a\",\"data\":{\"x\":[1]}}\x0c{\"data\":2,\"type\":\"b\"}\x0c{\"type\":\"c\",\"data\":\"}\"}\x0c{\"type\":\"a\",\"data\":null}\x0c";
        a.build(batch, b"\x0c", Some(&mut t));
        assert_eq!(a.text(), b"[0,{\"x\":[1]},-1,{\"data\":2,\"type\":\"b\"},1,\"}\",0,null]");
        assert_eq!(a.added_types(), b"a\nc");
        assert!(a.exact());
        assert_eq!(a.whole(), 1, "one frame is not in node-ipc's layout");
        let back: Vec<u8> = (0..a.len()).flat_map(|i| [a.frame(i).into_owned(), vec![0x0c]].concat()).collect();
        assert_eq!(back, batch, "the frames come back as received");
        // The next batch reuses the numbers and adds nothing.
        a.build(b"{\"type\":\"c\",\"data\":1}\x0c", b"\x0c", Some(&mut t));
        assert_eq!(a.text(), b"[1,1]");
        assert_eq!(a.whole(), 0);
        assert_eq!(a.added_types(), b"");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn frames_that_only_look_like_node_ipc_are_whole() {
        let mut t = TypeTable::default();
        let mut a = FrameArray::default();
        for f in [
            &br#"{"type":"a","data":1,"type":"b"}"#[..], // a second member: data is not one value
            br#"{"type":"a","data":1,2}"#,
            br#"{"type":"a\"b","data":1}"#, // escapes in the name
            br#"{"type":"","data":1}"#,
            "{\"type\":\"é\",\"data\":1}".as_bytes(),
            br#"{"type":"a","data":}"#,
            br#"{"type":"a","data":1} "#,
            br#"{"type": "a","data":1}"#,
        ] {
            let mut batch = f.to_vec();
            batch.push(0x0c);
            a.build(&batch, b"\x0c", Some(&mut t));
            assert!(a.text().starts_with(b"[-1,"), "{}", String::from_utf8_lossy(f));
            assert_eq!(a.whole(), 1);
            assert_eq!(a.frame(0), f);
        }
        let long = format!("{{\"type\":\"{}\",\"data\":1}}\x0c", "n".repeat(MAX_TYPE_LEN + 1));
        a.build(long.as_bytes(), b"\x0c", Some(&mut t));
        assert!(a.text().starts_with(b"[-1,"));
        assert!(t.is_empty());
    }

    #[test]
    fn a_full_table_sends_new_names_whole() {
        let mut t = TypeTable::default();
        let mut a = FrameArray::default();
        let mut batch = Vec::new();
        for i in 0..MAX_TYPES + 3 {
            batch.extend_from_slice(format!("{{\"type\":\"t{i}\",\"data\":{i}}}\x0c").as_bytes());
        }
        a.build(&batch, b"\x0c", Some(&mut t));
        assert_eq!(t.len(), MAX_TYPES);
        let text = String::from_utf8(a.text().to_vec()).unwrap();
        assert!(text.ends_with(&format!("-1,{{\"type\":\"t{}\",\"data\":{}}}]", MAX_TYPES + 2, MAX_TYPES + 2)));
        assert_eq!(a.added_types().split(|&b| b == b'\n').count(), MAX_TYPES);
        // Known names still travel as numbers.
        a.build(b"{\"type\":\"t0\",\"data\":0}\x0c", b"\x0c", Some(&mut t));
        assert_eq!(a.text(), b"[0,0]");
    }

    #[test]
    fn a_split_frame_with_unbalanced_data_is_not_split() {
        // The adversarial pair of issue #11: neither frame may be split or passed as exact.
        let mut t = TypeTable::default();
        let mut a = FrameArray::default();
        a.build(
            b"{\"type\":\"ping\",\"data\":\"\x0c\"},{\"type\":\"ping\",\"data\":{\"phantom\":1}}\x0c",
            b"\x0c",
            Some(&mut t),
        );
        assert!(!a.exact());
        assert!(t.is_empty());
    }
}
