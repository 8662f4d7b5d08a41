'use strict';

// Write-side flow control (issue #11): emit/socket.write return false at the high-water mark,
// 'drain' follows once flushed, and past config.maxPendingBytes the connection is closed with
// ERR_IPC_BACKPRESSURE, on servers, clients and broadcasts. No speed or memory thresholds here:
// the bound checked is the structural one (unsent bytes never pass the cap).

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { newIpc, tmpSock, nextEvent, startLocalServer, connectLocal, cleanup, within, until, delay, rawPeer } = require('./helpers.js');

const T = { timeout: 20000 };
const HWM = 64 * 1024;
const MSG = 16 * 1024;

const pad = 'x'.repeat(MSG);

/** Splits what a raw peer received into parsed messages. */
function framesOf(buf) {
  const parts = buf.toString('utf8').split('\f');
  parts.pop();
  return parts.map((p) => JSON.parse(p));
}

test('server -> raw client that stops reading: false at the high-water mark, drain after resume', T, async () => {
  const srv = newIpc('s');
  const sock = tmpSock();
  let peer;
  try {
    const server = await startLocalServer(srv, sock);
    const connected = nextEvent(server, 'connect');
    peer = await rawPeer(sock);
    peer.pause();
    const [socket] = await connected;
    assert.equal(socket.writableHighWaterMark, HWM);
    let sent = 0;
    // The kernel's buffers take a few hundred KiB first; then the write queue reaches the mark.
    while (sent < 10000) {
      const ok = server.emit(socket, 'big', { i: sent, pad });
      sent++;
      if (!ok) break;
      if (sent % 8 === 0) await delay(1); // let flushes happen between bursts
    }
    assert.ok(sent < 10000, 'emit returned false');
    assert.ok(socket.writableLength >= HWM, `writableLength ${socket.writableLength} >= HWM`);
    assert.ok(socket.writableLength < 2 * HWM + 2 * MSG + 1024, `writableLength ${socket.writableLength} near the HWM`);
    assert.equal(socket.bufferSize, socket.writableLength);
    assert.equal(socket.writableNeedDrain, true);
    const drained = nextEvent(socket, 'drain', 5000);
    peer.resume();
    await drained;
    assert.equal(socket.writableLength, 0);
    await until(() => framesOf(peer.received).length === sent, 'every message', 5000);
    const got = framesOf(peer.received);
    assert.deepEqual(
      got.map((m) => m.data.i),
      Array.from({ length: sent }, (_, i) => i),
    );
    assert.equal(socket.bytesWritten, peer.received.length);
  } finally {
    if (peer) peer.destroy();
    cleanup(srv);
  }
});

test('server ignoring false: closed at maxPendingBytes with ERR_IPC_BACKPRESSURE, unsent bytes stay bounded', T, async () => {
  const srv = newIpc('s');
  srv.config.maxPendingBytes = 1024 * 1024;
  const sock = tmpSock();
  let peer;
  try {
    const server = await startLocalServer(srv, sock);
    const connected = nextEvent(server, 'connect');
    peer = await rawPeer(sock);
    peer.pause();
    const [socket] = await connected;
    const events = [];
    server.on('error', (err) => events.push(['error', err.code, err.name]));
    server.on('socket.disconnected', () => events.push(['socket.disconnected']));
    server.on('close', () => events.push(['close']));
    let maxUnsent = 0;
    let refusedAt = -1;
    for (let i = 0; i < 100000 && !socket.destroyed; i++) {
      const before = socket.writableLength;
      const ok = server.emit(socket, 'big', { i, pad });
      if (socket.destroyed) {
        assert.equal(ok, false, 'the emit that would pass the cap returns false');
        assert.ok(before + MSG > srv.config.maxPendingBytes, `refused at ${before} unsent`);
        refusedAt = i;
        break;
      }
      maxUnsent = Math.max(maxUnsent, socket.writableLength);
      if (i % 16 === 0) await delay(1);
    }
    assert.ok(refusedAt > 0, 'the connection was closed at the cap');
    assert.ok(maxUnsent <= srv.config.maxPendingBytes, `unsent bytes peaked at ${maxUnsent}`);
    assert.equal(server.emit(socket, 'big', { pad }), false, 'writes after the close are lost');
    await until(() => events.length === 3, 'error, socket.disconnected, close');
    assert.deepEqual(events, [['error', 'ERR_IPC_BACKPRESSURE', 'IPCProtocolError'], ['socket.disconnected'], ['close']]);
    assert.equal(server.sockets.length, 0);
  } finally {
    if (peer) peer.destroy();
    cleanup(srv);
  }
});

test('maxPendingBytes: Infinity buffers without a cap', T, async () => {
  const srv = newIpc('s');
  srv.config.maxPendingBytes = Infinity;
  const sock = tmpSock();
  let peer;
  try {
    const server = await startLocalServer(srv, sock);
    const connected = nextEvent(server, 'connect');
    peer = await rawPeer(sock);
    peer.pause();
    const [socket] = await connected;
    const big = 'y'.repeat(1024 * 1024);
    for (let i = 0; i < 80; i++) server.emit(socket, 'huge', big); // 80 MiB, past the 64 MiB default
    await delay(20);
    assert.equal(socket.destroyed, false);
    assert.ok(socket.writableLength > 64 * 1024 * 1024);
  } finally {
    if (peer) peer.destroy();
    cleanup(srv);
  }
});

/** A plain server whose accepted socket is paused at once (a peer that stops reading). */
function stalledServer(path) {
  return new Promise((resolve) => {
    const state = { conn: null };
    const srv = net.createServer((c) => {
      c.pause();
      state.conn = c;
      state.received = Buffer.alloc(0);
      c.on('data', (d) => {
        state.received = Buffer.concat([state.received, d]);
      });
    });
    srv.listen(path, () => resolve({ srv, state }));
  });
}

test('client -> server that stops reading: false, then drain on the socket and on ipc.of[id]', T, async () => {
  const sock = tmpSock();
  const cli = newIpc('c');
  const { srv, state } = await stalledServer(sock);
  try {
    const client = await connectLocal(cli, 'w', sock);
    await until(() => state.conn, 'accept');
    let sent = 0;
    while (sent < 10000) {
      const ok = client.emit('big', { i: sent, pad });
      sent++;
      if (!ok) break;
      if (sent % 8 === 0) await delay(1);
    }
    assert.ok(sent < 10000, 'emit returned false');
    assert.ok(client.socket.writableLength >= HWM);
    const drainedClient = nextEvent(client, 'drain', 5000);
    const drainedSocket = nextEvent(client.socket, 'drain', 5000);
    state.conn.resume();
    await drainedSocket;
    await drainedClient;
    await until(() => framesOf(state.received).length === sent, 'every message', 5000);
    assert.deepEqual(
      framesOf(state.received).map((m) => m.data.i),
      Array.from({ length: sent }, (_, i) => i),
    );
  } finally {
    cleanup(cli);
    if (state.conn) state.conn.destroy();
    srv.close();
  }
});

test('client ignoring false: ERR_IPC_BACKPRESSURE, then disconnect', T, async () => {
  const sock = tmpSock();
  const cli = newIpc('c');
  cli.config.maxPendingBytes = 512 * 1024;
  cli.config.maxRetries = 0;
  const { srv, state } = await stalledServer(sock);
  try {
    const client = await connectLocal(cli, 'w', sock);
    await until(() => state.conn, 'accept');
    const events = [];
    client.on('error', (err) => events.push(['error', err.code]));
    client.on('disconnect', () => events.push(['disconnect']));
    client.on('destroy', () => events.push(['destroy']));
    const socket = client.socket;
    let maxUnsent = 0;
    let lastOk = true;
    for (let i = 0; i < 100000 && !socket.destroyed; i++) {
      lastOk = client.emit('big', { i, pad });
      if (!socket.destroyed) maxUnsent = Math.max(maxUnsent, socket.writableLength);
      if (i % 16 === 0) await delay(1);
    }
    assert.equal(lastOk, false);
    assert.ok(maxUnsent <= cli.config.maxPendingBytes, `unsent peaked at ${maxUnsent}`);
    await until(() => events.length === 3, 'error, disconnect, destroy');
    assert.deepEqual(events, [['error', 'ERR_IPC_BACKPRESSURE'], ['disconnect'], ['destroy']]);
  } finally {
    cleanup(cli);
    if (state.conn) state.conn.destroy();
    srv.close();
  }
});

test('broadcast with one stalled peer: only it is dropped, the readers get every message in order', T, async () => {
  const srv = newIpc('s');
  srv.config.maxPendingBytes = 256 * 1024;
  const sock = tmpSock();
  const readers = [newIpc('r1'), newIpc('r2'), newIpc('r3')];
  let stalled;
  try {
    const server = await startLocalServer(srv, sock);
    const got = [[], [], []];
    for (let k = 0; k < readers.length; k++) {
      const c = await connectLocal(readers[k], 'w', sock);
      c.on('tick', (d) => got[k].push(d.n));
    }
    stalled = await rawPeer(sock);
    stalled.pause();
    await until(() => server.sockets.length === 4, 'four connections');
    const errors = [];
    server.on('error', (err) => errors.push(err.code));
    const N = 400;
    for (let n = 0; n < N; n++) {
      server.broadcast('tick', { n, pad: pad.slice(0, 4096) });
      if (n % 4 === 0) await delay(1);
    }
    await until(() => got.every((g) => g.length === N), 'every reader got every message', 10000);
    for (const g of got)
      assert.deepEqual(
        g,
        Array.from({ length: N }, (_, i) => i),
      );
    assert.deepEqual(errors, ['ERR_IPC_BACKPRESSURE']);
    assert.equal(server.sockets.length, 3);
  } finally {
    if (stalled) stalled.destroy();
    cleanup(srv, ...readers);
  }
});

// A tick's broadcasts reach the sockets as one write per socket at the end of the tick; what a
// program sees must not change: the return value, 'drain', order with the socket's own writes, an
// end() in the same tick, and a stream attached after the broadcast.
test(
  'broadcast within a tick: false at the mark then drain, order kept with own writes and end(), not sent to later sockets',
  T,
  async () => {
    const srv = newIpc('s');
    const sock = tmpSock();
    let stalled;
    let reader;
    let ender;
    try {
      const server = await startLocalServer(srv, sock);
      stalled = await rawPeer(sock);
      stalled.pause();
      reader = await rawPeer(sock);
      ender = await rawPeer(sock);
      await until(() => server.sockets.length === 3, 'three connections');
      const [sStalled, sReader, sEnder] = server.sockets;
      // Below the mark: true; a socket's own write in between keeps its place.
      assert.equal(server.broadcast('a', 1), true);
      server.emit(sReader, 'own', 2);
      assert.equal(server.broadcast('b', 3), true);
      sEnder.end(); // the broadcasts so far still go out, then the end
      const { PassThrough } = require('node:stream');
      const late = new PassThrough();
      let lateBytes = '';
      const lateOut = new PassThrough();
      lateOut.on('data', (d) => (lateBytes += d));
      server.attach({ readable: late, writable: lateOut });
      server.broadcast('c', 4);
      const frames = (buf) =>
        buf
          .toString()
          .split('\f')
          .filter(Boolean)
          .map((f) => JSON.parse(f).type);
      await until(() => frames(reader.received).length === 4, 'the reader got four frames');
      assert.deepEqual(frames(reader.received), ['a', 'own', 'b', 'c']);
      await until(() => ender.readableEnded || frames(ender.received).length === 2, 'the ender');
      await new Promise((r) => (ender.readableEnded ? r() : ender.once('end', r)));
      assert.deepEqual(frames(ender.received), ['a', 'b']);
      await until(() => lateBytes.length > 0, 'the attached stream');
      assert.deepEqual(frames(Buffer.from(lateBytes)), ['c'], 'a stream attached after a broadcast does not get it');
      // Up to the mark: false once the stalled socket's unsent bytes would reach it, then 'drain'
      // on that socket when its peer reads again.
      let sent = 0;
      let ok = true;
      while (ok && sent < 10000) {
        ok = server.broadcast('big', { pad });
        sent++;
        if (sent % 4 === 0) await delay(1);
      }
      assert.equal(ok, false, 'broadcast returned false');
      assert.ok(sent < 10000);
      const drained = nextEvent(sStalled, 'drain', 10000);
      stalled.resume();
      await drained;
      await until(() => frames(stalled.received).filter((t) => t === 'big').length === sent, 'every broadcast', 10000);
    } finally {
      for (const p of [stalled, reader, ender]) if (p) p.destroy();
      cleanup(srv);
    }
  },
);

test('emit return values: true below the mark, false without a connection; broadcast true', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    const connected = nextEvent(server, 'connect');
    const client = await connectLocal(cli, 'w', sock);
    const [socket] = await connected;
    assert.equal(client.emit('a', 1), true);
    assert.equal(server.emit(socket, 'a', 1), true);
    assert.equal(server.broadcast('a', 1), true);
    cli.disconnect('w');
    assert.equal(client.emit('a', 1), false);
  } finally {
    cleanup(srv, cli);
  }
});

test('sync mode: emit returns true (queued)', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  cli.config.sync = true;
  const sock = tmpSock();
  try {
    await startLocalServer(srv, sock);
    const client = await connectLocal(cli, 'w', sock);
    assert.equal(client.emit('a', 1), true);
    assert.equal(client.emit('a', 2), true);
  } finally {
    cleanup(srv, cli);
  }
});

test('a write queued while connecting counts, and drains once connected', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    const got = [];
    server.on('big', (d) => got.push(d.i));
    let client;
    cli.connectTo('w', sock, () => {
      client = cli.of.w;
    });
    // Before `connect`: the writes wait in the connection's queue.
    let sent = 0;
    let ok = true;
    while (ok && sent < 1000) ok = client.emit('big', { i: sent++, pad });
    assert.equal(ok, false);
    assert.ok(sent <= HWM / MSG + 2, `false after ${sent} messages`);
    await within(5000, 'drain', new Promise((r) => client.on('drain', r)));
    await until(() => got.length === sent, 'all delivered');
  } finally {
    cleanup(srv, cli);
  }
});
