//! The per-connection machinery shared by servers and clients: a coalescing outbox drained by a
//! writer task, and a read loop that frames with [`FrameDecoder`] in one pass per read.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};

use super::{Config, Error, Result};
use crate::codec::FrameDecoder;
use crate::error::ErrorCode;
use crate::flow::{Admit, WriteLimits, BACKPRESSURE_MESSAGE};
use crate::inbound::Inbound;
use crate::message::{self, Message};
use crate::profile::{self, Profile, Rules, SetupError};

/// The profile checks of one endpoint ([`Config::profile`] and its limits), shared by its
/// connections: the name rules for sends and receives, the send-side frame limit, the remainder
/// timeout, and whether a received violation ends the connection.
#[derive(Debug)]
pub(crate) struct Checks {
    pub(crate) rules: Rules,
    /// The frame limit sends are held to (guarded/assured; `None` otherwise).
    send_max: Option<usize>,
    pub(crate) max_frame: Option<usize>,
    pub(crate) message_timeout: Option<Duration>,
    pub(crate) raw: bool,
    /// Keep received `data` as JSON text ([`Config::lazy_data`]).
    pub(crate) lazy: bool,
    pub(crate) identify: bool,
}

impl Checks {
    pub(crate) fn new(config: &Config) -> Result<Checks> {
        let p = config.profile;
        if p.is_limited() {
            let zero = [("maxMessageSize", config.max_frame), ("maxPendingBytes", config.max_pending)]
                .into_iter()
                .find(|(_, v)| *v == Some(0));
            if let Some((name, _)) = zero {
                return Err(
                    SetupError::new("ERR_INVALID_ARG_VALUE", format!("{name} must be a positive integer")).into()
                );
            }
        }
        let rules = Rules::new(
            p,
            config.max_event_name_length,
            config.allow_reserved_events,
            config.allowed_events.as_deref(),
        )?;
        Ok(Checks {
            rules,
            send_max: if p.is_limited() { config.max_frame } else { None },
            max_frame: config.max_frame,
            message_timeout: if p.is_limited() { config.message_timeout.filter(|d| !d.is_zero()) } else { None },
            raw: config.raw || p == Profile::Raw,
            lazy: config.lazy_data,
            identify: config.identify_peer.unwrap_or(p == Profile::Default),
        })
    }

    /// Decodes one received frame (delimiter excluded) under the profile's rules, `data` lazily
    /// when asked.
    pub(crate) fn decode(&self, frame: &[u8]) -> std::result::Result<Message, profile::Violation> {
        if self.lazy {
            self.rules.decode_lazy(frame)
        } else {
            self.rules.decode(frame)
        }
    }

    /// A received violation ends the connection (fast, guarded, assured).
    pub(crate) fn closes(&self) -> bool {
        self.rules.profile().closes_on_violation()
    }

    /// Encodes `{ty, data}` into `buf` under the send rules; on a refusal `buf` is left as it was.
    pub(crate) fn encode_into<T: Serialize + ?Sized>(
        &self,
        buf: &mut Vec<u8>,
        ty: &str,
        data: &T,
        delimiter: &[u8],
    ) -> Result<()> {
        self.rules.check_event(ty)?;
        let start = buf.len();
        message::encode_into(buf, ty, data, delimiter)?;
        if let Err(v) = profile::check_frame_size(buf.len() - start - delimiter.len(), self.send_max) {
            buf.truncate(start);
            return Err(v.into());
        }
        Ok(())
    }
}

/// A one-shot, level-triggered signal: once fired, every present and future `wait` returns.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    flag: AtomicBool,
    notify: Notify,
}

impl Signal {
    pub(crate) fn fire(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    pub(crate) async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

#[derive(Debug, Default)]
struct OutState {
    /// Encoded frames not yet taken by the writer.
    buf: Vec<u8>,
    /// Bytes the writer took and has not finished writing.
    in_flight: usize,
    /// Flush what is queued, then shut the socket down; no more sends.
    closing: bool,
    /// No more sends at all.
    closed: bool,
    /// A send went over `max_pending`: the writer drops the connection (`ERR_IPC_BACKPRESSURE`).
    overflowed: bool,
    /// Closed with bytes still unsent (they are dropped).
    lost: bool,
}

/// Frames waiting to be written. `emit` appends under a short lock; the writer task swaps the whole
/// buffer out and writes it with one syscall (as far as the kernel takes it). Unsent bytes are
/// bounded by [`WriteLimits`] (the rule of [`crate::flow`]).
#[derive(Debug)]
pub(crate) struct Outbox {
    state: Mutex<OutState>,
    notify: Notify,
    /// Wakes a writer that is blocked in a write when a send overflows.
    abort: Notify,
    /// Wakes [`drained`](Self::drained) waiters: the queue emptied, or the connection closed.
    drained: Notify,
    delimiter: Box<[u8]>,
    limits: WriteLimits,
    /// The profile's send rules.
    checks: Arc<Checks>,
}

impl Outbox {
    pub(crate) fn new(delimiter: &[u8], max_pending: Option<usize>, checks: Arc<Checks>) -> Outbox {
        Outbox {
            state: Mutex::new(OutState::default()),
            notify: Notify::new(),
            abort: Notify::new(),
            drained: Notify::new(),
            delimiter: delimiter.into(),
            limits: WriteLimits { max_pending, ..WriteLimits::default() },
            checks,
        }
    }

    fn lock(&self) -> MutexGuard<'_, OutState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    /// Queues one frame (refused, with nothing queued, when the profile's send rules say so).
    pub(crate) fn emit<T: Serialize + ?Sized>(&self, ty: &str, data: &T) -> Result<()> {
        self.push(|buf, delimiter| self.checks.encode_into(buf, ty, data, delimiter))
    }

    /// Queues bytes as they are (raw mode, or a frame encoded once for a broadcast).
    pub(crate) fn send_raw(&self, bytes: &[u8]) -> Result<()> {
        self.push(|buf, _| {
            buf.extend_from_slice(bytes);
            Ok(())
        })
    }

    /// Appends with `write`, then applies the pending-bytes cap: over it, the send is taken back,
    /// the queue dropped and the connection closed (`ERR_IPC_BACKPRESSURE`, also returned here).
    fn push(&self, write: impl FnOnce(&mut Vec<u8>, &[u8]) -> Result<()>) -> Result<()> {
        let mut st = self.lock();
        if st.closing || st.closed {
            return Err(Error::Closed);
        }
        if st.overflowed {
            return Err(Error::protocol(ErrorCode::Backpressure, BACKPRESSURE_MESSAGE));
        }
        let before = st.buf.len();
        write(&mut st.buf, &self.delimiter)?;
        let added = st.buf.len() - before;
        if added == 0 {
            return Ok(());
        }
        if self.limits.admit(before + st.in_flight, added) == Admit::OverLimit {
            st.buf = Vec::new();
            st.overflowed = true;
            drop(st);
            self.abort.notify_one();
            self.notify.notify_one();
            return Err(Error::protocol(ErrorCode::Backpressure, BACKPRESSURE_MESSAGE));
        }
        drop(st);
        if before == 0 {
            self.notify.notify_one();
        }
        Ok(())
    }

    /// Graceful close: the writer flushes, then shuts the socket down.
    pub(crate) fn close(&self) {
        self.lock().closing = true;
        self.notify.notify_one();
    }

    /// The connection is gone: refuse further sends and drop what is queued.
    pub(crate) fn mark_closed(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.lost |= !st.buf.is_empty() || st.in_flight > 0;
        st.buf = Vec::new();
        drop(st);
        self.notify.notify_one();
        self.drained.notify_waiters();
    }

    /// Waits until nothing is pending (Node's `'drain'`): `Ok` once every byte queued so far is
    /// with the kernel, [`Error::Closed`] if the connection closed with bytes still unsent.
    pub(crate) async fn drained(&self) -> Result<()> {
        loop {
            let notified = self.drained.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let st = self.lock();
                if st.lost {
                    return Err(Error::Closed);
                }
                if st.buf.is_empty() && st.in_flight == 0 {
                    return Ok(());
                }
                if st.closed {
                    return Err(Error::Closed);
                }
            }
            notified.await;
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        let st = self.lock();
        st.closed || st.closing
    }

    /// Unsent bytes: queued, or taken by the writer and not yet written.
    pub(crate) fn pending(&self) -> usize {
        let st = self.lock();
        st.buf.len() + st.in_flight
    }
}

/// How the writer loop ended.
#[derive(Debug)]
pub(crate) enum WriteEnd {
    /// A graceful close finished: everything queued was written and the socket shut down.
    Flushed,
    /// The connection was torn down from elsewhere.
    Killed,
    /// A write failed.
    Io(io::Error),
    /// A send went over the pending-bytes cap: the connection must be dropped.
    Backpressure,
}

/// Drains the outbox into `w` until a graceful close completes, `kill` fires or a write fails.
/// Fires `kill` when it ends so the read side stops too.
pub(crate) async fn write_loop<W: AsyncWrite + Unpin>(out: &Outbox, mut w: W, kill: &Signal) -> WriteEnd {
    let end = write_loop_inner(out, &mut w, kill).await;
    kill.fire();
    end
}

async fn write_loop_inner<W: AsyncWrite + Unpin>(out: &Outbox, w: &mut W, kill: &Signal) -> WriteEnd {
    let mut chunk: Vec<u8> = Vec::new();
    // An overflow from before this connection (a client between connections) does not end it.
    out.lock().overflowed = false;
    loop {
        let notified = out.notify.notified();
        let closing = {
            let mut st = out.lock();
            if st.overflowed {
                st.overflowed = false;
                st.in_flight = 0;
                return WriteEnd::Backpressure;
            }
            if st.closed {
                return WriteEnd::Killed;
            }
            std::mem::swap(&mut st.buf, &mut chunk);
            st.in_flight = chunk.len();
            st.closing
        };
        if chunk.is_empty() {
            // (also after a connection lost mid-write: the next one starts with nothing in flight)
            out.drained.notify_waiters();
            if closing {
                let _ = w.shutdown().await;
                return WriteEnd::Flushed;
            }
            tokio::select! {
                _ = notified => {}
                _ = kill.wait() => return WriteEnd::Killed,
            }
            continue;
        }
        let aborted = async {
            loop {
                out.abort.notified().await;
                if out.lock().overflowed {
                    return;
                }
            }
        };
        tokio::select! {
            r = w.write_all(&chunk) => {
                if let Err(e) = r {
                    return WriteEnd::Io(e);
                }
            }
            _ = kill.wait() => return WriteEnd::Killed,
            _ = aborted => continue, // the overflow is handled at the top of the loop
        }
        let empty = {
            let mut st = out.lock();
            st.in_flight = 0;
            st.buf.is_empty()
        };
        if empty {
            out.drained.notify_waiters();
        }
        chunk.clear();
        if chunk.capacity() > 4 << 20 {
            chunk = Vec::new();
        }
    }
}

/// One received item, before the server or client wraps it in its event type.
#[derive(Debug)]
pub(crate) enum Incoming {
    Message(Message),
    Data(Vec<u8>),
    Error(Error),
}

/// How the read loop ended.
#[derive(Debug)]
pub(crate) enum ReadEnd {
    /// The peer closed the connection.
    Eof,
    /// A read failed.
    Io(io::Error),
    /// An oversize frame: the error was delivered, the connection must be dropped.
    TooLarge,
    /// A violation under fast, guarded or assured (a bad frame, an oversize or timed-out one):
    /// the error was delivered, the connection must be dropped, a client must not reconnect.
    Violation,
    /// `kill` fired.
    Killed,
    /// Nobody listens to events any more.
    Gone,
}

const READ_CHUNK: usize = 64 * 1024;
const MIN_SPARE: usize = 16 * 1024;

/// Reads until EOF, error, a violation that ends the connection, or `kill`, delivering one batch
/// of items per read. Frames are decoded under `checks` (the profile's rules); under fast, guarded
/// and assured the first violation is delivered and ends the connection (frames after it are
/// not), and so does an unfinished frame older than `messageTimeout` (node-ipc 14's rule, kept by
/// [`Inbound`]).
pub(crate) async fn read_loop<R, E, F>(
    rd: &mut R,
    delimiter: &[u8],
    checks: &Checks,
    kill: &Signal,
    tx: &EventSender<E>,
    mut map: F,
) -> ReadEnd
where
    R: AsyncRead + Unpin,
    F: FnMut(Incoming) -> E,
{
    let raw = checks.raw;
    let mut inbound = Inbound::new((!raw).then(|| FrameDecoder::new(delimiter, checks.max_frame)));
    inbound.set_message_timeout(checks.message_timeout);
    // The batch's frame ends are found again here: a searcher built once, not per frame.
    let finder = memchr::memmem::Finder::new(delimiter);
    loop {
        let deadline = inbound.deadline();
        let buf = inbound.buffer_mut();
        if buf.capacity() - buf.len() < MIN_SPARE {
            buf.reserve(READ_CHUNK.max(buf.len()));
        }
        let r = tokio::select! {
            biased;
            _ = kill.wait() => return ReadEnd::Killed,
            r = rd.read_buf(buf) => Some(r),
            _ = sleep_until_some(deadline) => None,
        };
        let Some(r) = r else {
            if let Err(e) = inbound.check_timeout(Instant::now()) {
                let item = map(Incoming::Error(Error::protocol(ErrorCode::MessageTimeout, e.to_string())));
                tx.send_one(item).await;
                return ReadEnd::Violation;
            }
            continue;
        };
        let eof = match r {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return ReadEnd::Io(e),
        };
        let mut batch = tx.batch();
        let mut end = None;
        if raw || !eof {
            let d = inbound.decode();
            // One item per frame, an error item at most.
            batch.reserve(d.frames + 1);
            let bytes = inbound.batch(&d);
            if raw {
                if !bytes.is_empty() {
                    batch.push_back(map(Incoming::Data(bytes.to_vec())));
                }
            } else {
                if decode_frames(checks, &finder, bytes, d.frames, &mut batch, &mut map) {
                    end = Some(ReadEnd::Violation);
                }
                if let (Some(e), None) = (&d.error, &end) {
                    batch.push_back(map(Incoming::Error(Error::protocol(ErrorCode::FrameTooLarge, e.to_string()))));
                    end = Some(if checks.closes() { ReadEnd::Violation } else { ReadEnd::TooLarge });
                }
            }
            inbound.consume(&d);
            inbound.note_remainder(Instant::now());
        }
        // (node-ipc 14's profiles report nothing for a peer that closes mid-frame)
        if let Some((code, msg)) = inbound.end_error().filter(|_| eof && !checks.closes()) {
            batch.push_back(map(Incoming::Error(Error::protocol(code, msg))));
        }
        if !batch.is_empty() {
            tokio::select! {
                biased;
                _ = kill.wait() => return ReadEnd::Killed,
                r = tx.send(batch) => if r.is_err() { return ReadEnd::Gone },
            }
        } else {
            tx.recycle(batch);
        }
        if let Some(end) = end {
            return end;
        }
        if eof {
            return ReadEnd::Eof;
        }
    }
}

/// Decodes the first `frames` frames of `bytes` (each followed by the delimiter `finder` looks
/// for) under `checks`, one item each, in order. Returns `true` when a violation ends the
/// connection (fast, guarded, assured): the frames after it are not decoded.
pub(crate) fn decode_frames<E>(
    checks: &Checks,
    finder: &memchr::memmem::Finder<'_>,
    bytes: &[u8],
    frames: usize,
    batch: &mut VecDeque<E>,
    map: &mut impl FnMut(Incoming) -> E,
) -> bool {
    let dlen = finder.needle().len();
    let mut start = 0;
    for _ in 0..frames {
        let len = finder.find(&bytes[start..]).expect("a complete frame");
        match checks.decode(&bytes[start..start + len]) {
            Ok(m) => batch.push_back(map(Incoming::Message(m))),
            Err(v) => {
                batch.push_back(map(Incoming::Error(v.into())));
                if checks.closes() {
                    return true;
                }
            }
        }
        start += len + dlen;
    }
    false
}

/// Sleeps until `deadline`, or forever when there is none.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Sends one event unless `kill` fires first or nobody listens.
pub(crate) async fn send_event<E>(tx: &EventSender<E>, ev: E) {
    tx.send_one(ev).await;
}

/// Emptied batches kept for reuse: at most this many ...
const POOL_KEEP: usize = 2;
/// ... each with room for at least and at most this many events (others are freed).
const POOL_MIN_CAPACITY: usize = 16;
const POOL_MAX_CAPACITY: usize = 2048;

/// Event batches (the events of one read, in order) on their way from the connections' read loops
/// to the one consumer ([`EventReceiver`]), which hands each emptied batch back for reuse. A busy
/// connection thus fills the same few buffers instead of allocating one per read and freeing it
/// after: with glibc's allocator, every allocation of that size (tens of KiB) first consolidates
/// the free lists that the previous batch's small frees (its messages' strings) filled, and that
/// cost several hundred instructions per message.
#[derive(Debug)]
struct Pool<E> {
    free: Mutex<Vec<VecDeque<E>>>,
}

impl<E> Pool<E> {
    fn take(&self) -> VecDeque<E> {
        self.free.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default()
    }

    fn give(&self, batch: VecDeque<E>) {
        // (single events are sent in batches of one: not worth keeping in place of a read's batch)
        if batch.capacity() < POOL_MIN_CAPACITY || batch.capacity() > POOL_MAX_CAPACITY {
            return;
        }
        debug_assert!(batch.is_empty());
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        if free.len() < POOL_KEEP {
            free.push(batch);
        }
    }
}

/// The sending side of an event queue: one per connection (cloned), bounded (a full queue pauses
/// the reader, which pushes back on the peer).
#[derive(Debug)]
pub(crate) struct EventSender<E> {
    tx: mpsc::Sender<VecDeque<E>>,
    pool: Arc<Pool<E>>,
}

impl<E> Clone for EventSender<E> {
    fn clone(&self) -> Self {
        EventSender { tx: self.tx.clone(), pool: self.pool.clone() }
    }
}

impl<E> EventSender<E> {
    /// An empty batch to fill (a reused one when there is one).
    pub(crate) fn batch(&self) -> VecDeque<E> {
        self.pool.take()
    }

    /// Hands back a batch that was not sent.
    pub(crate) fn recycle(&self, batch: VecDeque<E>) {
        self.pool.give(batch);
    }

    /// Sends a batch; `Err` when the receiver is gone.
    pub(crate) async fn send(&self, batch: VecDeque<E>) -> std::result::Result<(), ()> {
        self.tx.send(batch).await.map_err(|_| ())
    }

    /// Sends one event (ignored when the receiver is gone).
    pub(crate) async fn send_one(&self, ev: E) {
        let mut batch = VecDeque::with_capacity(1);
        batch.push_back(ev);
        let _ = self.tx.send(batch).await;
    }
}

/// The receiving side of an event queue: one event at a time, batches handed back when emptied.
#[derive(Debug)]
pub(crate) struct EventReceiver<E> {
    rx: mpsc::Receiver<VecDeque<E>>,
    pending: VecDeque<E>,
    pool: Arc<Pool<E>>,
}

impl<E> EventReceiver<E> {
    /// The next event; `None` once every sender is gone and everything was received.
    pub(crate) async fn recv(&mut self) -> Option<E> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Some(ev);
            }
            let next = self.rx.recv().await?;
            self.pool.give(std::mem::replace(&mut self.pending, next));
        }
    }

    /// The next event if one is ready now.
    pub(crate) fn try_recv(&mut self) -> Option<E> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Some(ev);
            }
            let next = self.rx.try_recv().ok()?;
            self.pool.give(std::mem::replace(&mut self.pending, next));
        }
    }
}

/// A bounded event queue of `capacity` batches.
pub(crate) fn event_queue<E>(capacity: usize) -> (EventSender<E>, EventReceiver<E>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let pool = Arc::new(Pool { free: Mutex::new(Vec::new()) });
    (EventSender { tx, pool: pool.clone() }, EventReceiver { rx, pending: VecDeque::new(), pool })
}
