//! The benchmark's upper limit: a plain tokio echo with `\f` delimiter framing (node-ipc's wire
//! format), no JSON handling on the server. Used by `bench/run.js` (contender `tokio`).
//!
//! ```text
//! cargo build --release --example bench_tokio_echo
//! bench_tokio_echo tokio server unix <path>            | server tcp <host:port>
//! bench_tokio_echo tokio client unix|tcp <address> throughput <N> <window>
//! bench_tokio_echo tokio client unix|tcp <address> latency <warmup> <samples>
//! bench_tokio_echo raw server unix|tcp <address>
//! bench_tokio_echo raw client unix|tcp <address> raw <totalBytes> <chunkBytes> <windowBytes>
//! ```
//!
//! The first argument (the variant) is `raw` for the raw echo (the `raw` rows); anything else
//! (`tokio`) is the framed echo, and keeps the command line the same as the Node contenders'. Protocol on stdout: the server prints `READY` once it listens; the client prints
//! `RESULT <json>` when done, then waits for stdin to close (the parent reads its VmHWM, then kills
//! it). Errors go to stderr with a non-zero exit. Every process exits when its stdin reaches EOF.
//!
//! Messages are node-ipc envelopes `{"type":"echo","data":{"seq":N,"s":"xxx…"}}\f`; the server
//! splits frames with memchr and writes each complete frame back; the client checks that the echoes
//! carry sequence numbers 0..N in order, exactly once.
//!
//! Raw echo (`bench/raw.js` is the same in Node): no framing; the server writes back every read
//! as it is. The client writes `totalBytes` in `chunkBytes` writes with at most `windowBytes`
//! not yet echoed, checks every echoed byte against what it sent (the pattern of `bench/raw.js`:
//! the byte at offset i is `pattern_byte(i % 65537)`), and reports MB/s (1e6 bytes, one way).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;

const DELIM: u8 = b'\x0c';
const PAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; // 43 bytes: data is 64 bytes for a 6-digit seq
const GRACE: Duration = Duration::from_millis(100);
/// A lost message fails the client after this long without an echo.
const STALL: Duration = Duration::from_secs(10);

fn fail(msg: impl AsRef<str>) -> ! {
    eprintln!("ERROR {}", msg.as_ref());
    std::process::exit(1);
}

/// Exit when the parent closes our stdin (it is a pipe from bench/run.js).
fn exit_on_stdin_eof() {
    std::thread::spawn(|| {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 256];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => {}
            }
        }
    });
}

fn push_frame(out: &mut Vec<u8>, seq: u64) {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(96);
    let _ = write!(s, r#"{{"type":"echo","data":{{"seq":{seq},"s":"{PAD}"}}}}"#);
    out.extend_from_slice(s.as_bytes());
    out.push(DELIM);
}

/// The seq of an echoed frame, found without a JSON parser (the frame is ours).
fn frame_seq(frame: &[u8]) -> Option<u64> {
    let key = br#""seq":"#;
    let at = memchr::memmem::find(frame, key)? + key.len();
    let digits = frame[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    std::str::from_utf8(&frame[at..at + digits]).ok()?.parse().ok()
}

async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut out: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        while let Some(i) = memchr::memchr(DELIM, &buf[start..]) {
            out.extend_from_slice(&buf[start..=start + i]);
            start += i + 1;
        }
        buf.drain(..start);
        if !out.is_empty() {
            if wr.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}

/// The raw echo: every read written back as it is.
async fn serve_raw<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if wr.write_all(&chunk[..n]).await.is_err() {
            return;
        }
    }
}

async fn serve_any<S: AsyncRead + AsyncWrite + Unpin>(stream: S, raw: bool) {
    if raw {
        serve_raw(stream).await
    } else {
        serve_conn(stream).await
    }
}

/// Unix sockets, where there are any (the benchmark runs on Linux).
#[cfg(unix)]
async fn unix_server(address: &str, raw: bool) {
    let _ = std::fs::remove_file(address);
    let listener = tokio::net::UnixListener::bind(address).unwrap_or_else(|e| fail(format!("bind {address}: {e}")));
    ready();
    loop {
        let (s, _) = listener.accept().await.unwrap_or_else(|e| fail(format!("accept: {e}")));
        tokio::spawn(serve_any(s, raw));
    }
}

#[cfg(unix)]
async fn unix_raw_client(address: &str, total: u64, chunk: u64, window: u64) {
    let s = tokio::net::UnixStream::connect(address).await.unwrap_or_else(|e| fail(format!("connect {address}: {e}")));
    raw_client(s, total, chunk, window).await
}

#[cfg(unix)]
async fn unix_client(address: &str, kind: &str, a: u64, b: u64) {
    let s = tokio::net::UnixStream::connect(address).await.unwrap_or_else(|e| fail(format!("connect {address}: {e}")));
    client(s, kind, a, b).await
}

#[cfg(not(unix))]
async fn unix_server(_: &str, _: bool) {
    fail("unix sockets: not on this platform")
}

#[cfg(not(unix))]
async fn unix_client(_: &str, _: &str, _: u64, _: u64) {
    fail("unix sockets: not on this platform")
}

#[cfg(not(unix))]
async fn unix_raw_client(_: &str, _: u64, _: u64, _: u64) {
    fail("unix sockets: not on this platform")
}

async fn server(transport: &str, address: &str, raw: bool) {
    match transport {
        "unix" => unix_server(address, raw).await,
        _ => {
            let listener =
                tokio::net::TcpListener::bind(address).await.unwrap_or_else(|e| fail(format!("bind {address}: {e}")));
            ready();
            loop {
                let (s, _) = listener.accept().await.unwrap_or_else(|e| fail(format!("accept: {e}")));
                let _ = s.set_nodelay(true);
                tokio::spawn(serve_any(s, raw));
            }
        }
    }
}

fn ready() {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "READY");
    let _ = out.flush();
}

/// Reads frames, checking sequence numbers; calls `on_echo()` after each one. Returns after
/// `total` echoes, keeping any extra bytes in `buf`.
struct Reader<R> {
    rd: R,
    buf: Vec<u8>,
    chunk: Vec<u8>,
    next: u64,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    fn new(rd: R) -> Self {
        Reader { rd, buf: Vec::with_capacity(64 * 1024), chunk: vec![0u8; 64 * 1024], next: 0 }
    }

    /// Waits for at least one frame; returns how many complete frames were consumed.
    async fn read_some(&mut self) -> u64 {
        loop {
            let mut start = 0;
            let mut count = 0;
            while let Some(i) = memchr::memchr(DELIM, &self.buf[start..]) {
                let frame = &self.buf[start..start + i];
                match frame_seq(frame) {
                    Some(seq) if seq == self.next => {}
                    other => fail(format!("echo out of order or lost: expected seq {}, got {:?}", self.next, other)),
                }
                self.next += 1;
                count += 1;
                start += i + 1;
            }
            self.buf.drain(..start);
            if count > 0 {
                return count;
            }
            let n = match tokio::time::timeout(STALL, self.rd.read(&mut self.chunk)).await {
                Err(_) => fail(format!("stalled: no echo for {}s (received {})", STALL.as_secs(), self.next)),
                Ok(Ok(0)) => fail("connection closed before the run finished"),
                Ok(Err(e)) => fail(format!("read: {e}")),
                Ok(Ok(n)) => n,
            };
            self.buf.extend_from_slice(&self.chunk[..n]);
        }
    }
}

async fn grace_check<R: AsyncRead + Unpin>(reader: &mut Reader<R>) {
    if !reader.buf.is_empty() {
        fail("received unexpected bytes after the last echo");
    }
    let mut byte = [0u8; 1];
    if let Ok(r) = tokio::time::timeout(GRACE, reader.rd.read(&mut byte)).await {
        match r {
            Ok(0) => fail("connection closed right after the run"),
            Ok(_) => fail("received unexpected echo(es) after the last one (duplicates?)"),
            Err(e) => fail(format!("read: {e}")),
        }
    }
}

/// The period of the raw echo's byte pattern (prime: no chunk size is a multiple of it).
const PERIOD: usize = 65537;

fn pattern_byte(j: usize) -> u8 {
    ((j * 31 + (j >> 7)) & 0xff) as u8
}

async fn raw_client<S: AsyncRead + AsyncWrite + Send + 'static>(stream: S, total: u64, chunk: u64, window: u64) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    // PERIOD bytes of the pattern, then its first `spare` bytes again: the bytes from any offset
    // o (at o % PERIOD) up to `spare` long are one slice.
    let spare = (chunk as usize).max(64 * 1024);
    let pattern: Arc<Vec<u8>> = Arc::new((0..PERIOD + spare).map(|j| pattern_byte(j % PERIOD)).collect());
    let sem = Arc::new(Semaphore::new(window as usize));
    let wsem = sem.clone();
    let wpattern = pattern.clone();
    let t0 = Instant::now();
    let writer = tokio::spawn(async move {
        let mut sent = 0u64;
        while sent < total {
            let len = chunk.min(total - sent);
            wsem.acquire_many(len as u32).await.expect("semaphore").forget();
            let o = (sent % PERIOD as u64) as usize;
            if let Err(e) = wr.write_all(&wpattern[o..o + len as usize]).await {
                fail(format!("write: {e}"));
            }
            sent += len;
        }
        wr
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut recv = 0u64;
    while recv < total {
        let n = match tokio::time::timeout(STALL, rd.read(&mut buf)).await {
            Err(_) => fail(format!("stalled: no echo for {}s (received {recv} bytes)", STALL.as_secs())),
            Ok(Ok(0)) => fail("connection closed before the run finished"),
            Ok(Err(e)) => fail(format!("read: {e}")),
            Ok(Ok(n)) => n,
        };
        if recv + n as u64 > total {
            fail("received more bytes than sent");
        }
        let mut at = 0;
        while at < n {
            let o = ((recv + at as u64) % PERIOD as u64) as usize;
            let len = (n - at).min(pattern.len() - o);
            if buf[at..at + len] != pattern[o..o + len] {
                fail(format!("echoed bytes differ from the sent ones near offset {}", recv + at as u64));
            }
            at += len;
        }
        recv += n as u64;
        sem.add_permits(n);
    }
    let elapsed = t0.elapsed();
    let _wr = writer.await.expect("writer task");
    let mut byte = [0u8; 1];
    if let Ok(r) = tokio::time::timeout(GRACE, rd.read(&mut byte)).await {
        match r {
            Ok(0) => fail("connection closed right after the run"),
            Ok(_) => fail("received unexpected bytes after the last one"),
            Err(e) => fail(format!("read: {e}")),
        }
    }
    let ms = elapsed.as_secs_f64() * 1000.0;
    let mut so = std::io::stdout();
    let _ = writeln!(
        so,
        r#"RESULT {{"kind":"raw","bytes":{total},"chunk":{chunk},"window":{window},"received":{recv},"elapsedMs":{ms},"mbPerSec":{}}}"#,
        total as f64 / 1000.0 / ms
    );
    let _ = so.flush();
    std::future::pending::<()>().await;
}

async fn client<S: AsyncRead + AsyncWrite + Send + 'static>(stream: S, kind: &str, a: u64, b: u64) {
    let (rd, mut wr) = tokio::io::split(stream);
    let mut reader = Reader::new(rd);
    let result = if kind == "throughput" {
        let (n, window) = (a, b);
        let sem = Arc::new(Semaphore::new(window as usize));
        let wsem = sem.clone();
        let t0 = Instant::now();
        let writer = tokio::spawn(async move {
            let mut sent = 0u64;
            let mut out = Vec::with_capacity(128 * 1024);
            while sent < n {
                wsem.acquire().await.expect("semaphore").forget();
                let mut k = 1u64;
                let extra = (wsem.available_permits() as u64).min(n - sent - 1).min(2048);
                if extra > 0 {
                    wsem.try_acquire_many(extra as u32).expect("permits").forget();
                    k += extra;
                }
                for _ in 0..k {
                    push_frame(&mut out, sent);
                    sent += 1;
                }
                if let Err(e) = wr.write_all(&out).await {
                    fail(format!("write: {e}"));
                }
                out.clear();
            }
            wr
        });
        let mut recv = 0u64;
        while recv < n {
            let k = reader.read_some().await;
            recv += k;
            if recv > n {
                fail("received more echoes than sent");
            }
            sem.add_permits(k as usize);
        }
        let elapsed = t0.elapsed();
        let _wr = writer.await.expect("writer task");
        grace_check(&mut reader).await;
        let ms = elapsed.as_secs_f64() * 1000.0;
        format!(
            r#"{{"kind":"throughput","n":{n},"window":{window},"received":{recv},"elapsedMs":{ms},"msgsPerSec":{}}}"#,
            n as f64 * 1000.0 / ms
        )
    } else {
        let (warmup, samples) = (a, b);
        let mut lat: Vec<f64> = Vec::with_capacity(samples as usize);
        let mut out = Vec::with_capacity(256);
        for seq in 0..warmup + samples {
            out.clear();
            push_frame(&mut out, seq);
            let t = Instant::now();
            if let Err(e) = wr.write_all(&out).await {
                fail(format!("write: {e}"));
            }
            if reader.read_some().await != 1 {
                fail("more than one echo for one message");
            }
            if seq >= warmup {
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        grace_check(&mut reader).await;
        lat.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let pct = |p: f64| {
            let i = ((p / 100.0) * lat.len() as f64).ceil() as usize;
            lat[i.clamp(1, lat.len()) - 1]
        };
        let mean = lat.iter().sum::<f64>() / lat.len() as f64;
        format!(
            r#"{{"kind":"latency","warmup":{warmup},"samples":{samples},"received":{},"p50Us":{},"p99Us":{},"meanUs":{mean},"maxUs":{}}}"#,
            warmup + samples,
            pct(50.0),
            pct(99.0),
            lat[lat.len() - 1]
        )
    };
    let mut so = std::io::stdout();
    let _ = writeln!(so, "RESULT {result}");
    let _ = so.flush();
    // Wait to be killed, or for stdin to close.
    std::future::pending::<()>().await;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_tokio_echo <variant> server unix|tcp <address> | <variant> client unix|tcp <address> throughput <N> <window> | latency <warmup> <samples> | raw <totalBytes> <chunkBytes> <windowBytes>";
    if args.len() < 4 {
        fail(usage);
    }
    let raw = args[0] == "raw";
    let (role, transport, address) = (args[1].as_str(), args[2].as_str(), args[3].clone());
    if transport != "unix" && transport != "tcp" {
        fail(usage);
    }
    exit_on_stdin_eof();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("runtime: {e}")));
    match role {
        "server" => rt.block_on(server(transport, &address, raw)),
        "client" => {
            if args.len() < 7 {
                fail(usage);
            }
            let kind = args[4].clone();
            if raw {
                let num = |i: usize| args.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| fail(usage));
                let (total, chunk, window) = (num(5), num(6), num(7));
                if kind != "raw" || total == 0 || chunk == 0 || chunk > u32::MAX as u64 || window < chunk {
                    fail(usage);
                }
                rt.block_on(async move {
                    if transport == "unix" {
                        unix_raw_client(&address, total, chunk, window).await
                    } else {
                        let s = tokio::net::TcpStream::connect(&address)
                            .await
                            .unwrap_or_else(|e| fail(format!("connect {address}: {e}")));
                        let _ = s.set_nodelay(true);
                        raw_client(s, total, chunk, window).await
                    }
                });
                return;
            }
            if kind != "throughput" && kind != "latency" {
                fail(usage);
            }
            let a: u64 = args[5].parse().unwrap_or_else(|_| fail(usage));
            let b: u64 = args[6].parse().unwrap_or_else(|_| fail(usage));
            if b == 0 || (kind == "throughput" && a == 0) {
                fail(usage);
            }
            rt.block_on(async move {
                if transport == "unix" {
                    unix_client(&address, &kind, a, b).await
                } else {
                    let s = tokio::net::TcpStream::connect(&address)
                        .await
                        .unwrap_or_else(|e| fail(format!("connect {address}: {e}")));
                    let _ = s.set_nodelay(true);
                    client(s, &kind, a, b).await
                }
            })
        }
        _ => fail(usage),
    }
}
