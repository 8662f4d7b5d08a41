'use strict';

// Raw mode echo (kind `raw` of bench/run.js): bytes, no framing, in fixed-size chunks.
//
//   node bench/raw.js <impl> server unix|tcp <address>
//   node bench/raw.js <impl> client unix|tcp <address> raw <totalBytes> <chunkBytes> <windowBytes>
//
// impl: node-ipc-rs, node-ipc-12, node-ipc-14 (the node-ipc API with config.rawBuffer = true and
// encoding 'latin1', the encoding in which node-ipc 12 delivers bytes unchanged: the client emits
// each chunk with ipc.of[id].emit(buffer), the server echoes every 'data' event with
// ipc.server.emit(socket, buffer)), or net-naive (node:net: socket.write(chunk) per chunk, the
// server writes back every chunk it reads). examples/bench_tokio_echo.rs (variant `raw`) is the
// same echo in plain tokio.
//
// The client sends totalBytes in chunks of chunkBytes (one emit each), keeping at most
// windowBytes sent but not yet echoed, and checks every echoed byte against what it sent (a
// pattern of period 65537, so that a lost, repeated or reordered chunk is caught; the echo may
// arrive in other pieces than it was sent). RESULT: MB/s = totalBytes / 1e6 / seconds from the
// first send to the last echoed byte. Then a 100 ms grace period in which nothing more may
// arrive, and the same stdout/stdin protocol as the other bench children.

const net = require('node:net');
const { performance } = require('node:perf_hooks');
const { fail, exitOnStdinEnd } = require('./common.js');

const GRACE_MS = 100;
const STALL_MS = 10000;
const SERVER_ID = 'bench-raw';
// The byte at stream offset i is PATTERN[i % PERIOD]; PERIOD is prime, so no chunk size is a
// multiple of it. examples/bench_tokio_echo.rs uses the same formula.
const PERIOD = 65537;
const patternByte = (j) => (j * 31 + (j >>> 7)) & 0xff;

function parse(argv) {
  const [impl, role, transport, address, kind, a, b, c] = argv;
  const usage =
    'usage: raw.js <impl> server unix|tcp <address> | <impl> client unix|tcp <address> raw <totalBytes> <chunkBytes> <windowBytes>';
  if (!impl || !['server', 'client'].includes(role) || !['unix', 'tcp'].includes(transport) || !address) fail(usage);
  const out = { impl, role, transport, address };
  if (transport === 'tcp') {
    const i = address.lastIndexOf(':');
    out.host = address.slice(0, i);
    out.port = Number(address.slice(i + 1));
  }
  if (role === 'client') {
    out.total = Number(a);
    out.chunk = Number(b);
    out.window = Number(c);
    if (kind !== 'raw' || !(out.total > 0) || !(out.chunk > 0) || !(out.window >= out.chunk)) fail(usage);
  }
  return out;
}

// PERIOD bytes of the pattern followed by its first `extra` bytes again, so that the bytes from
// any stream offset o (at o % PERIOD) up to `extra` long are one subarray.
function patternBuffer(extra) {
  const buf = Buffer.allocUnsafe(PERIOD + extra);
  for (let j = 0; j < buf.length; j++) buf[j] = patternByte(j % PERIOD);
  return buf;
}

function runClient(args, send) {
  const pattern = patternBuffer(Math.max(args.chunk, 65536));
  let sent = 0;
  let recv = 0;
  let t0 = 0;
  let finished = false;
  let extra = 0;
  let lastActivity = 0;

  const pump = () => {
    while (sent < args.total && sent - recv + args.chunk <= args.window) {
      const len = Math.min(args.chunk, args.total - sent);
      const o = sent % PERIOD;
      send(pattern.subarray(o, o + len));
      sent += len;
    }
  };
  const onData = (buf) => {
    if (finished) {
      extra += buf.length;
      return;
    }
    lastActivity = performance.now();
    if (recv + buf.length > sent) fail(`echo of ${recv + buf.length} bytes, only ${sent} sent`);
    // Compare with what was sent, in pieces no longer than the pattern's spare tail.
    let at = 0;
    while (at < buf.length) {
      const o = (recv + at) % PERIOD;
      const len = Math.min(buf.length - at, pattern.length - o);
      if (!buf.subarray(at, at + len).equals(pattern.subarray(o, o + len))) {
        fail(`echoed bytes differ from the sent ones near offset ${recv + at}`);
      }
      at += len;
    }
    recv += buf.length;
    if (recv === args.total) {
      const elapsedMs = performance.now() - t0;
      finished = true;
      setTimeout(() => {
        if (extra > 0) fail(`received ${extra} unexpected byte(s) after the last one`);
        const result = {
          kind: 'raw',
          bytes: args.total,
          chunk: args.chunk,
          window: args.window,
          received: recv,
          elapsedMs,
          mbPerSec: args.total / 1000 / elapsedMs,
        };
        process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
      }, GRACE_MS);
      return;
    }
    pump();
  };
  const stall = setInterval(() => {
    if (!finished && lastActivity && performance.now() - lastActivity > STALL_MS) {
      fail(`stalled: no echo for ${STALL_MS / 1000}s (received ${recv} of ${args.total} bytes, sent ${sent})`);
    }
  }, 1000);
  stall.unref();
  return {
    start() {
      t0 = performance.now();
      lastActivity = t0;
      pump();
    },
    onData,
    isDone: () => finished,
  };
}

async function ipc(args) {
  const { loadIpc } = require('./ipc-common.js');
  const ipc = await loadIpc(args.impl, args.role === 'server' ? SERVER_ID : 'bench-raw-client');
  ipc.config.rawBuffer = true;
  ipc.config.encoding = 'latin1';
  if (args.role === 'server') {
    const ready = () => process.stdout.write('READY\n');
    if (args.transport === 'unix') ipc.serve(args.address, ready);
    else ipc.serveNet(args.host, args.port, ready);
    ipc.server.on('data', (buf, socket) => ipc.server.emit(socket, buf));
    ipc.server.on('error', (err) => fail(`server error: ${err && err.stack ? err.stack : err}`));
    ipc.server.start();
    return;
  }
  const setup = () => {
    const conn = ipc.of[SERVER_ID];
    const client = runClient(args, (chunk) => conn.emit(chunk));
    let connected = false;
    conn.on('connect', () => {
      if (connected) fail('reconnected during the run (the connection dropped)');
      connected = true;
      client.start();
    });
    conn.on('data', (buf) => client.onData(buf));
    conn.on('destroy', () => {
      if (!client.isDone()) fail('connection destroyed (server unreachable, retries exhausted)');
    });
    conn.on('error', (err) => {
      if (!client.isDone() && err && err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT') {
        process.stderr.write(`client error: ${err && err.stack ? err.stack : err}\n`);
      }
    });
  };
  if (args.transport === 'unix') ipc.connectTo(SERVER_ID, args.address, setup);
  else ipc.connectToNet(SERVER_ID, args.host, args.port, setup);
}

function netRaw(args) {
  if (args.role === 'server') {
    const srv = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (buf) => socket.write(buf));
      socket.on('error', () => {});
    });
    srv.on('error', (err) => fail(`server error: ${err.stack}`));
    const ready = () => process.stdout.write('READY\n');
    if (args.transport === 'unix') srv.listen(args.address, ready);
    else srv.listen(args.port, args.host, ready);
    return;
  }
  const socket = args.transport === 'unix' ? net.createConnection(args.address) : net.createConnection(args.port, args.host);
  socket.setNoDelay(true);
  const client = runClient(args, (chunk) => socket.write(chunk));
  socket.on('connect', () => client.start());
  socket.on('data', (buf) => client.onData(buf));
  socket.on('error', (err) => fail(`client error: ${err.message}`));
  socket.on('close', () => {
    if (!client.isDone()) fail('connection closed before the run finished');
  });
}

async function main() {
  const args = parse(process.argv.slice(2));
  exitOnStdinEnd();
  if (args.impl === 'net-naive') netRaw(args);
  else await ipc(args);
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
