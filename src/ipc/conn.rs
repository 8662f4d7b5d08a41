//! The per-connection machinery shared by servers and clients: a coalescing outbox drained by a
//! writer task, and a read loop that frames with [`FrameDecoder`] in one pass per read.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};

use super::{Error, Result};
use crate::codec::FrameDecoder;
use crate::error::ErrorCode;
use crate::flow::{Admit, WriteLimits, BACKPRESSURE_MESSAGE};
use crate::inbound::Inbound;
use crate::message::{self, Message};

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
    delimiter: Box<[u8]>,
    limits: WriteLimits,
}

impl Outbox {
    pub(crate) fn new(delimiter: &[u8], max_pending: Option<usize>) -> Outbox {
        Outbox {
            state: Mutex::new(OutState::default()),
            notify: Notify::new(),
            abort: Notify::new(),
            delimiter: delimiter.into(),
            limits: WriteLimits { max_pending, ..WriteLimits::default() },
        }
    }

    fn lock(&self) -> MutexGuard<'_, OutState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    /// Queues one frame.
    pub(crate) fn emit<T: Serialize + ?Sized>(&self, ty: &str, data: &T) -> Result<()> {
        self.push(|buf, delimiter| message::encode_into(buf, ty, data, delimiter).map_err(Error::from))
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
        st.buf = Vec::new();
        drop(st);
        self.notify.notify_one();
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
        out.lock().in_flight = 0;
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
    /// `kill` fired.
    Killed,
    /// Nobody listens to events any more.
    Gone,
}

const READ_CHUNK: usize = 64 * 1024;
const MIN_SPARE: usize = 16 * 1024;

/// Reads until EOF, error, oversize frame or `kill`, delivering one batch of items per read.
pub(crate) async fn read_loop<R, E, F>(
    rd: &mut R,
    delimiter: &[u8],
    max_frame: Option<usize>,
    raw: bool,
    kill: &Signal,
    tx: &mpsc::Sender<Vec<E>>,
    mut map: F,
) -> ReadEnd
where
    R: AsyncRead + Unpin,
    F: FnMut(Incoming) -> E,
{
    let mut inbound = Inbound::new((!raw).then(|| FrameDecoder::new(delimiter, max_frame)));
    let dlen = delimiter.len();
    loop {
        let buf = inbound.buffer_mut();
        if buf.capacity() - buf.len() < MIN_SPARE {
            buf.reserve(READ_CHUNK.max(buf.len()));
        }
        let r = tokio::select! {
            biased;
            _ = kill.wait() => return ReadEnd::Killed,
            r = rd.read_buf(buf) => r,
        };
        let eof = match r {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return ReadEnd::Io(e),
        };
        let mut batch: Vec<E> = Vec::new();
        let mut too_large = false;
        if raw || !eof {
            let d = inbound.decode();
            let bytes = inbound.batch(&d);
            if raw {
                if !bytes.is_empty() {
                    batch.push(map(Incoming::Data(bytes.to_vec())));
                }
            } else {
                let mut start = 0;
                for _ in 0..d.frames {
                    let len = memchr::memmem::find(&bytes[start..], delimiter).expect("a complete frame");
                    let item = match message::decode(&bytes[start..start + len]) {
                        Ok(m) => Incoming::Message(m),
                        Err((code, msg)) => Incoming::Error(Error::protocol(code, msg)),
                    };
                    batch.push(map(item));
                    start += len + dlen;
                }
                if let Some(e) = &d.error {
                    batch.push(map(Incoming::Error(Error::protocol(ErrorCode::FrameTooLarge, e.to_string()))));
                    too_large = true;
                }
            }
            inbound.consume(&d);
        }
        if eof && !raw && inbound.partial_len() > 0 {
            let msg = format!("connection closed with {} bytes of an unfinished frame", inbound.partial_len());
            batch.push(map(Incoming::Error(Error::protocol(ErrorCode::IncompleteFrame, msg))));
        }
        if !batch.is_empty() {
            tokio::select! {
                biased;
                _ = kill.wait() => return ReadEnd::Killed,
                r = tx.send(batch) => if r.is_err() { return ReadEnd::Gone },
            }
        }
        if too_large {
            return ReadEnd::TooLarge;
        }
        if eof {
            return ReadEnd::Eof;
        }
    }
}

/// Sends one event unless `kill` fires first or nobody listens.
pub(crate) async fn send_event<E>(tx: &mpsc::Sender<Vec<E>>, ev: E) {
    let _ = tx.send(vec![ev]).await;
}
