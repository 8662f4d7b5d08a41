'use strict';

// Broadcast fan-out (kind `broadcast` of bench/run.js): one server, C client connections, the
// server broadcasting N messages to all of them.
//
//   node bench/bcast.js <impl> server unix|tcp <address> <clients> <N> <window>
//   node bench/bcast.js <impl> client unix|tcp <address> <connections> <N> <ackEvery>
//
// impl: node-ipc-rs, node-ipc-12, node-ipc-14 (the node-ipc API: ipc.server.broadcast('bcast', D)
// on the server, one ipc.connectTo/connectToNet per connection on the client; bench/ipc-common.js
// loads them), or hand-written node:net: net-naive (each message stringified once and written to
// every socket, a socket.write per message per socket) or net-batched (the frames of a tick are
// joined once into one Buffer, and that Buffer is written to every socket: one write per tick per
// socket, no per-socket copy in JS).
//
// Every message is {"type":"bcast","data":D} with the echo rows' 64-byte D = {"seq":n,"s":"x…"}.
// Each client connection sends `hello` once connected; when all C have, the server broadcasts
// seq 0..N-1, keeping at most `window` messages ahead of the slowest connection. Each connection
// checks that it gets every seq in order, exactly once, and sends `ack` {n: received} every
// `ackEvery` messages and after the last one. The server's RESULT (once every connection has
// acked N) gives deliveries/s = C * N / (time from the first broadcast to the last ack). A client
// process prints its RESULT (the messages its connections received) after a 100 ms grace period
// in which nothing more may arrive. Both then wait for stdin to close (bench/run.js reads VmHWM
// and kills them). Failures: a message on stderr and exit 1.

const net = require('node:net');
const { performance } = require('node:perf_hooks');
const { payload, fail, exitOnStdinEnd } = require('./common.js');
const { makeReader, DELIM } = require('./net-common.js');

const GRACE_MS = 100;
const STALL_MS = 10000;
const SERVER_ID = 'bench-bcast';

function parse(argv) {
  const [impl, role, transport, address, a, b, c] = argv;
  const usage =
    'usage: bcast.js <impl> server unix|tcp <address> <clients> <N> <window> | <impl> client unix|tcp <address> <connections> <N> <ackEvery>';
  if (!impl || !['server', 'client'].includes(role) || !['unix', 'tcp'].includes(transport) || !address) fail(usage);
  const out = { impl, role, transport, address, count: Number(a), n: Number(b), third: Number(c) };
  if (!(out.count > 0) || !(out.n > 0) || !(out.third > 0)) fail(usage);
  if (transport === 'tcp') {
    const i = address.lastIndexOf(':');
    out.host = address.slice(0, i);
    out.port = Number(address.slice(i + 1));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server: hello from every connection, then N broadcasts within the window, then RESULT.

function runServer(args, api) {
  const clients = args.count;
  const window = args.third;
  const acked = new Map(); // connection -> messages it has acknowledged
  let sent = 0;
  let minAcked = 0;
  let t0 = 0;
  let done = false;
  let lastProgress = 0;

  const pump = () => {
    const limit = Math.min(args.n, minAcked + window);
    if (sent >= limit) return;
    while (sent < limit) api.broadcast(sent++);
    api.flush();
  };
  const onHello = (conn) => {
    if (acked.has(conn)) fail('hello twice on one connection');
    if (t0) fail('a client connected after the broadcast started');
    acked.set(conn, 0);
    if (acked.size === clients) {
      t0 = performance.now();
      lastProgress = t0;
      pump();
    }
  };
  const onAck = (conn, n) => {
    if (!acked.has(conn)) fail('ack from a connection that never said hello');
    if (!(n <= sent)) fail(`ack for ${n} messages, only ${sent} sent`);
    const before = acked.get(conn);
    acked.set(conn, n);
    if (before !== minAcked) return;
    let min = Infinity;
    for (const v of acked.values()) if (v < min) min = v;
    if (min === minAcked) return;
    minAcked = min;
    lastProgress = performance.now();
    if (minAcked === args.n) {
      const elapsedMs = lastProgress - t0;
      done = true;
      const deliveries = clients * args.n;
      const result = {
        kind: 'broadcast',
        clients,
        n: args.n,
        window,
        deliveries,
        elapsedMs,
        deliveriesPerSec: (deliveries * 1000) / elapsedMs,
        msgsPerSec: (args.n * 1000) / elapsedMs,
      };
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
      return;
    }
    pump();
  };
  const stall = setInterval(() => {
    if (!done && t0 && performance.now() - lastProgress > STALL_MS) {
      fail(`stalled: no ack progress for ${STALL_MS / 1000}s (sent ${sent}, slowest connection acked ${minAcked})`);
    }
  }, 1000);
  stall.unref();
  return { onHello, onAck, isDone: () => done };
}

async function ipcServer(args) {
  const { loadIpc } = require('./ipc-common.js');
  const ipc = await loadIpc(args.impl, SERVER_ID);
  let server = null;
  const api = {
    broadcast: (seq) => ipc.server.broadcast('bcast', payload(seq)),
    flush: () => {},
  };
  const ready = () => {
    server = runServer(args, api);
    process.stdout.write('READY\n');
  };
  if (args.transport === 'unix') ipc.serve(args.address, ready);
  else ipc.serveNet(args.host, args.port, ready);
  ipc.server.on('hello', (_data, socket) => server.onHello(socket));
  ipc.server.on('ack', (data, socket) => server.onAck(socket, data && data.n));
  ipc.server.on('socket.disconnected', () => {
    if (server && !server.isDone()) fail('a client disconnected before the run finished');
  });
  ipc.server.on('error', (err) => fail(`server error: ${err && err.stack ? err.stack : err}`));
  ipc.server.start();
}

function netServer(args) {
  const sockets = [];
  let pending = [];
  let scheduled = false;
  const flushTick = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const out = Buffer.from(pending.join(DELIM) + DELIM);
    pending = [];
    for (let i = 0; i < sockets.length; i++) sockets[i].write(out);
  };
  const api =
    args.impl === 'net-naive'
      ? {
          broadcast: (seq) => {
            const frame = JSON.stringify({ type: 'bcast', data: payload(seq) }) + DELIM;
            for (let i = 0; i < sockets.length; i++) sockets[i].write(frame);
          },
          flush: () => {},
        }
      : {
          broadcast: (seq) => pending.push(JSON.stringify({ type: 'bcast', data: payload(seq) })),
          flush: () => {
            if (!scheduled) {
              scheduled = true;
              process.nextTick(flushTick);
            }
          },
        };
  const server = runServer(args, api);
  const srv = net.createServer((socket) => {
    socket.setNoDelay(true);
    makeReader(socket, (frame) => {
      const msg = JSON.parse(frame);
      if (msg.type === 'hello') {
        sockets.push(socket);
        server.onHello(socket);
      } else if (msg.type === 'ack') server.onAck(socket, msg.data && msg.data.n);
      else fail(`unexpected message type ${msg.type}`);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!server.isDone()) fail('a client disconnected before the run finished');
    });
  });
  srv.on('error', (err) => fail(`server error: ${err.stack}`));
  const ready = () => process.stdout.write('READY\n');
  if (args.transport === 'unix') srv.listen(args.address, ready);
  else srv.listen(args.port, args.host, ready);
}

// ---------------------------------------------------------------------------------------------
// Client: `connections` connections, each checking its sequence and acking.

function runClient(args, connect) {
  const ackEvery = args.third;
  let complete = 0;
  let finished = false;
  let extra = 0;
  let total = 0;
  // The stall check counts progress rather than timing each message: a clock read per message
  // was about a fifth of node-ipc-rs's client CPU here (broadcast-harness-2026-11-30.txt).
  let started = false;
  let seen = -1;
  let idleSince = 0;
  const connections = [];
  for (let i = 0; i < args.count; i++) {
    const state = { next: 0, send: null };
    connections.push(state);
    state.send = connect(i, {
      onConnect: () => {
        started = true;
        state.send('hello', {});
      },
      onMessage: (type, data) => {
        if (finished || state.next === args.n) {
          extra++;
          return;
        }
        if (type !== 'bcast') fail(`unexpected message type ${type}`);
        const seq = data && data.seq;
        if (seq !== state.next)
          fail(`connection ${i}: broadcast out of order or lost: expected seq ${state.next}, got ${JSON.stringify(seq)}`);
        state.next++;
        total++;
        if (state.next % ackEvery === 0 || state.next === args.n) state.send('ack', { n: state.next });
        if (state.next === args.n && ++complete === args.count) {
          finished = true;
          setTimeout(() => {
            if (extra > 0) fail(`received ${extra} unexpected message(s) after the last one (duplicates?)`);
            const result = { kind: 'broadcast-client', connections: args.count, n: args.n, received: total };
            process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
          }, GRACE_MS);
        }
      },
      isDone: () => finished,
    });
  }
  const stall = setInterval(() => {
    if (finished || !started) return;
    if (total !== seen) {
      seen = total;
      idleSince = performance.now();
    } else if (performance.now() - idleSince > STALL_MS) {
      const got = connections.map((s) => s.next).join(',');
      fail(`stalled: nothing for ${STALL_MS / 1000}s (received per connection: ${got})`);
    }
  }, 1000);
  stall.unref();
}

async function ipcClient(args) {
  const { loadIpc } = require('./ipc-common.js');
  const ipc = await loadIpc(args.impl, 'bench-bcast-client');
  runClient(args, (i, h) => {
    const id = `${SERVER_ID}-${i}`;
    let conn = null;
    const setup = () => {
      conn = ipc.of[id];
      let connected = false;
      conn.on('connect', () => {
        if (connected) fail('reconnected during the run (the connection dropped)');
        connected = true;
        h.onConnect();
      });
      conn.on('bcast', (data) => h.onMessage('bcast', data));
      conn.on('destroy', () => {
        if (!h.isDone()) fail('connection destroyed (server unreachable, retries exhausted)');
      });
      conn.on('error', (err) => {
        if (!h.isDone() && err && err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT') {
          process.stderr.write(`client error: ${err && err.stack ? err.stack : err}\n`);
        }
      });
    };
    // node-ipc's ipc.of is keyed by the id given here; the server sees C distinct connections.
    if (args.transport === 'unix') ipc.connectTo(id, args.address, setup);
    else ipc.connectToNet(id, args.host, args.port, setup);
    return (type, data) => conn.emit(type, data);
  });
}

function netClient(args) {
  runClient(args, (_i, h) => {
    const socket = args.transport === 'unix' ? net.createConnection(args.address) : net.createConnection(args.port, args.host);
    socket.setNoDelay(true);
    makeReader(socket, (frame) => {
      const msg = JSON.parse(frame);
      h.onMessage(msg.type, msg.data);
    });
    socket.on('connect', () => h.onConnect());
    socket.on('error', (err) => fail(`client error: ${err.message}`));
    socket.on('close', () => {
      if (!h.isDone()) fail('connection closed before the run finished');
    });
    return (type, data) => socket.write(JSON.stringify({ type, data }) + DELIM);
  });
}

async function main() {
  const args = parse(process.argv.slice(2));
  exitOnStdinEnd();
  const isNet = args.impl === 'net-naive' || args.impl === 'net-batched';
  if (args.role === 'server') await (isNet ? netServer(args) : ipcServer(args));
  else await (isNet ? netClient(args) : ipcClient(args));
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
