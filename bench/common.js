'use strict';

// Shared pieces of the benchmark child processes (see bench/run.js for the overview).
//
// Child command lines (every contender, including the Rust example, takes the same tail):
//   server:  <script> <variant> server unix <path>
//            <script> <variant> server tcp  <host:port>
//   client:  <script> <variant> client unix|tcp <address> throughput <N> <window> [pad]
//            <script> <variant> client unix|tcp <address> latency <warmup> <samples>
// `pad` (default 43) is the length of data.s: 43 gives the 88-byte frame of the echo rows, about
// 1 MiB the frames of the `large` rows (the tokio and Rust examples take the default only).
// Protocol on stdout: the server prints `READY` once it listens; the client prints
// `RESULT <json>` once it is done and then waits to be killed (so that the parent can read its
// VmHWM). Any failure: a message on stderr and a non-zero exit. Every child exits when its stdin
// reaches EOF, so a killed parent never leaves children behind.

const { performance } = require('node:perf_hooks');

// D, the message data: {"seq":123456,"s":"xxx…"} is 64 bytes of JSON for a 6-digit seq.
const PAD_BYTES = 43;
const PAD = 'x'.repeat(PAD_BYTES);
function payload(seq) {
  return { seq, s: PAD };
}

// payload() with data.s of `pad` bytes (one string shared by every message).
function payloadOf(pad) {
  if (pad === PAD_BYTES) return payload;
  const s = 'x'.repeat(pad);
  return (seq) => ({ seq, s });
}

// Bytes on the wire of the echo frame for `seq`: {"type":"echo","data":{"seq":<seq>,"s":"<pad>"}}
// plus the '\f' delimiter (88 for a 6-digit seq and the default pad).
function frameBytes(seq, pad) {
  return 39 + String(seq).length + pad;
}

function fail(msg) {
  process.stderr.write(`ERROR ${msg}\n`);
  process.exit(1);
}

// Exit when the parent goes away (stdin is a pipe from bench/run.js).
function exitOnStdinEnd() {
  if (process.stdin.isTTY) return;
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}

function parseArgs(argv) {
  // argv: [variant, role, transport, address, kind?, a?, b?]
  const [variant, role, transport, address, kind, a, b, c] = argv;
  if (!variant || !['server', 'client'].includes(role) || !['unix', 'tcp'].includes(transport) || !address) {
    fail(
      `usage: <variant> server|client unix|tcp <path|host:port> [throughput N window [pad] | latency warmup samples]; got ${JSON.stringify(argv)}`,
    );
  }
  const out = { variant, role, transport, address };
  if (transport === 'tcp') {
    const i = address.lastIndexOf(':');
    out.host = address.slice(0, i);
    out.port = Number(address.slice(i + 1));
    if (!out.host || !(out.port > 0)) fail(`bad tcp address ${address}`);
  }
  if (role === 'client') {
    if (kind === 'throughput') {
      out.kind = kind;
      out.n = Number(a);
      out.window = Number(b);
      out.pad = c === undefined ? PAD_BYTES : Number(c);
      if (!(out.n > 0) || !(out.window > 0)) fail('throughput needs N and window');
      if (!Number.isInteger(out.pad) || out.pad < 0) fail(`bad pad ${c}`);
    } else if (kind === 'latency') {
      out.kind = kind;
      out.warmup = Number(a);
      out.samples = Number(b);
      if (!(out.warmup >= 0) || !(out.samples > 0)) fail('latency needs warmup and samples');
    } else {
      fail(`unknown client kind ${kind}`);
    }
  }
  return out;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

// The client-side measurement loop, independent of the transport library.
//   send(seq): emit one echo message whose data is payload(seq)
//   flush():   optional, called after a burst of sends (batched contenders write here)
// Feed every received echo's data.seq to onEcho(seq). Verifies that exactly the expected
// sequence numbers arrive, in order, once each; after the last one it waits GRACE_MS for
// stragglers (a duplicate or an unexpected message fails the run). No echo for STALL_MS fails too.
const GRACE_MS = 100;
const STALL_MS = 10000;

function createDriver(opts, send, flush = () => {}) {
  let sent = 0;
  let recv = 0;
  let extra = 0;
  let finished = false;
  let t0 = 0;
  let tSend = 0;
  const total = opts.kind === 'throughput' ? opts.n : opts.warmup + opts.samples;
  const lat = opts.kind === 'latency' ? new Float64Array(opts.samples) : null;

  function pump() {
    const limit = Math.min(total, recv + opts.window);
    if (sent >= limit) return;
    while (sent < limit) send(sent++);
    flush();
  }

  function sendOne() {
    tSend = performance.now();
    send(sent++);
    flush();
  }

  function finish() {
    const t1 = performance.now();
    finished = true;
    let result;
    if (opts.kind === 'throughput') {
      const elapsedMs = t1 - t0;
      let bytes = 0;
      for (let seq = 0; seq < opts.n; seq++) bytes += frameBytes(seq, opts.pad);
      result = {
        kind: 'throughput',
        n: opts.n,
        window: opts.window,
        pad: opts.pad,
        received: recv,
        elapsedMs,
        msgsPerSec: (opts.n * 1000) / elapsedMs,
        bytes, // frame bytes sent (and echoed)
        mbPerSec: bytes / 1000 / elapsedMs, // MB = 1e6 bytes, one way
      };
    } else {
      const sorted = Float64Array.from(lat).sort();
      let sum = 0;
      for (const v of sorted) sum += v;
      result = {
        kind: 'latency',
        warmup: opts.warmup,
        samples: opts.samples,
        received: recv,
        p50Us: percentile(sorted, 50) * 1000,
        p99Us: percentile(sorted, 99) * 1000,
        meanUs: (sum / sorted.length) * 1000,
        maxUs: sorted[sorted.length - 1] * 1000,
      };
    }
    setTimeout(() => {
      if (extra > 0) fail(`received ${extra} unexpected echo(es) after the last one (duplicates?)`);
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
      // Stay alive until the parent reads VmHWM and kills us (or stdin closes).
    }, GRACE_MS);
  }

  // A lost message would otherwise leave the client waiting until the parent's timeout. The timer
  // compares counts (no clock read per echo: at a million echoes a second that is measurable).
  let started = false;
  let seen = -1;
  let idleTicks = 0;
  const stallTimer = setInterval(() => {
    if (finished || !started) return;
    idleTicks = recv === seen ? idleTicks + 1 : 0;
    seen = recv;
    if (idleTicks * 1000 >= STALL_MS) {
      fail(`stalled: no echo for ${STALL_MS / 1000}s (received ${recv} of ${total}, sent ${sent})`);
    }
  }, 1000);
  stallTimer.unref();

  return {
    start() {
      t0 = performance.now();
      started = true;
      if (opts.kind === 'throughput') pump();
      else sendOne();
    },
    onEcho(seq) {
      if (finished) {
        extra++;
        return;
      }
      if (seq !== recv) fail(`echo out of order or lost: expected seq ${recv}, got ${JSON.stringify(seq)}`);
      if (recv >= sent) fail(`echo for a message not sent yet: seq ${seq}`);
      if (lat && recv >= opts.warmup) lat[recv - opts.warmup] = performance.now() - tSend;
      recv++;
      if (recv === total) finish();
      else if (opts.kind === 'throughput') pump();
      else sendOne();
    },
    get done() {
      return finished;
    },
  };
}

module.exports = { PAD, PAD_BYTES, payload, payloadOf, frameBytes, fail, exitOnStdinEnd, parseArgs, createDriver, percentile };
