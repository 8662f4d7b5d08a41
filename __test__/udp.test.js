'use strict';

// UDP servers (serveNet(..., 'udp4'|'udp6')): one frame per datagram, emit to {address, port},
// broadcast to every peer that has sent to us, exact raw bytes (NODE_IPC_CONTRACT §5.6).

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const { newIpc, freeUdpPort, nodeIpc12, nextEvent, cleanup, until, within, delay, NO_NATIVE } = require('./helpers.js');

const T = { timeout: 10000 };

async function udpServer(ipc, host, port, type) {
  ipc.serveNet(host, port, type);
  const started = nextEvent(ipc.server, 'start');
  const connected = nextEvent(ipc.server, 'connect');
  ipc.server.start();
  const [startArg] = await started;
  await connected;
  return startArg;
}

for (const [type, host] of [
  ['udp4', '127.0.0.1'],
  ['udp6', '::1'],
]) {
  test(`${type}: request/reply between two node-ipc-rs UDP servers, 100-message burst in order`, T, async () => {
    const world = newIpc('world');
    const hello = newIpc('hello');
    try {
      const pw = await freeUdpPort(type);
      const ph = await freeUdpPort(type);
      const startArg = await udpServer(world, host, pw, type);
      assert.deepEqual(startArg, { address: host, port: pw });
      world.server.on('app.message', (data, socket) => {
        assert.equal(typeof socket.address, 'string');
        assert.equal(socket.family, type === 'udp4' ? 'IPv4' : 'IPv6');
        world.server.emit(socket, 'app.message', { id: 'world', message: `${data.message} world!` });
      });
      await udpServer(hello, host, ph, type);
      const got = [];
      hello.server.on('app.message', (d) => got.push(d.message));
      for (let i = 0; i < 100; i++) hello.server.emit({ address: host, port: pw }, 'app.message', { id: 'hello', message: `m${i}` });
      await until(() => got.length === 100, '100 replies');
      assert.deepEqual(
        got,
        Array.from({ length: 100 }, (_, i) => `m${i} world!`),
      );
    } finally {
      cleanup(world, hello);
    }
  });
}

test('udp4: broadcast reaches every peer that has sent to the server', T, async () => {
  const hub = newIpc('hub');
  const a = newIpc('a');
  const b = newIpc('b');
  try {
    const ports = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
    await udpServer(hub, '127.0.0.1', ports[0], 'udp4');
    await udpServer(a, '127.0.0.1', ports[1], 'udp4');
    await udpServer(b, '127.0.0.1', ports[2], 'udp4');
    let seen = 0;
    hub.server.on('hi', () => seen++);
    a.server.emit({ address: '127.0.0.1', port: ports[0] }, 'hi', { id: 'a' });
    b.server.emit({ address: 'localhost', port: ports[0] }, 'hi', { id: 'b' });
    await until(() => seen === 2, 'both greetings');
    const got = [];
    a.server.on('news', (d) => got.push(['a', d]));
    b.server.on('news', (d) => got.push(['b', d]));
    hub.server.broadcast('news', 1);
    hub.server.emit({}, 'news', 2); // no address: a broadcast, as in node-ipc
    await until(() => got.length === 4, 'four deliveries');
    assert.deepEqual(got.sort(), [
      ['a', 1],
      ['a', 2],
      ['b', 1],
      ['b', 2],
    ]);
  } finally {
    cleanup(hub, a, b);
  }
});

test('udp4 raw mode: hex and binary payloads arrive byte-exact', T, async () => {
  const s1 = newIpc('s1');
  const s2 = newIpc('s2');
  for (const i of [s1, s2]) {
    i.config.rawBuffer = true;
    i.config.encoding = 'hex';
  }
  try {
    const p1 = await freeUdpPort();
    const p2 = await freeUdpPort();
    await udpServer(s1, '127.0.0.1', p1, 'udp4');
    await udpServer(s2, '127.0.0.1', p2, 'udp4');
    const got = [];
    s1.server.on('data', (buf, rinfo) => got.push([buf, rinfo.size]));
    s2.server.emit({ address: '127.0.0.1', port: p1 }, 'dead41ff00');
    s2.server.emit({ address: '127.0.0.1', port: p1 }, Buffer.from([0xc3, 0x28]));
    await until(() => got.length === 2, 'two datagrams');
    assert.deepEqual(got[0][0], Buffer.from([0xde, 0xad, 0x41, 0xff, 0x00]));
    assert.equal(got[0][1], 5);
    assert.deepEqual(got[1][0], Buffer.from([0xc3, 0x28]));
  } finally {
    cleanup(s1, s2);
  }
});

test('udp4: plain dgram peers, bad datagrams give error events, oversize sends report an error', T, async () => {
  const srv = newIpc('s');
  const peer = dgram.createSocket('udp4');
  try {
    const port = await freeUdpPort();
    await udpServer(srv, '127.0.0.1', port, 'udp4');
    const errors = [];
    const good = [];
    srv.server.on('error', (e) => errors.push(e.code));
    srv.server.on('ok', (d) => good.push(d));
    await new Promise((r) => peer.bind(0, '127.0.0.1', r));
    const replies = [];
    peer.on('message', (m) => replies.push(m.toString()));
    srv.server.on('ping', (d, rinfo) => srv.server.emit(rinfo, 'pong', d));
    for (const m of [
      '{"type":"ok","data":1}\f{"type":"ok","data":2}\f',
      '{bad\f',
      '{"type":"ok","data":3}',
      '{"type":"ping","data":"x"}\f',
    ]) {
      peer.send(m, port, '127.0.0.1');
    }
    await until(() => replies.length === 1 && errors.length === 2, 'reply and errors');
    assert.deepEqual(good, [1, 2]);
    assert.deepEqual(errors, ['ERR_IPC_INVALID_JSON', 'ERR_IPC_INCOMPLETE_FRAME']);
    assert.equal(replies[0], '{"type":"pong","data":"x"}\f');
    const big = nextEvent(srv.server, 'error');
    srv.server.emit({ address: '127.0.0.1', port: peer.address().port }, 'big', 'x'.repeat(70000));
    const [e] = await within(3000, 'EMSGSIZE', big);
    assert.equal(e.code, 'EMSGSIZE');
    assert.throws(() => srv.server.emit({ address: '127.0.0.1', port: 70000 }, 'x'), RangeError);
  } finally {
    peer.close();
    cleanup(srv);
  }
});

test('udp: bind errors arrive as server error events', T, async () => {
  const a = newIpc('a');
  const b = newIpc('b');
  try {
    const port = await freeUdpPort();
    await udpServer(a, '127.0.0.1', port, 'udp4');
    b.serveNet('127.0.0.1', port, 'udp4');
    const err = nextEvent(b.server, 'error');
    b.server.start();
    assert.equal((await err)[0].code, 'EADDRINUSE');
  } finally {
    cleanup(a, b);
  }
});

for (const [type, host] of [
  ['udp4', '127.0.0.1'],
  ['udp6', '::1'],
])
  test(`${type} interop with node-ipc 12: both directions, 100-message burst`, T, async () => {
    const ours = newIpc('ours');
    const theirs = nodeIpc12('theirs');
    try {
      const po = await freeUdpPort(type);
      const pt = await freeUdpPort(type);
      await udpServer(ours, host, po, type);
      theirs.serveNet(host, pt, type);
      const up = new Promise((r) => theirs.server.on('connect', r));
      theirs.server.start();
      await within(3000, 'node-ipc 12 bound', up);
      // theirs -> ours, ours replies to the sender
      ours.server.on('q', (d, rinfo) => ours.server.emit(rinfo, 'a', { n: d.n, s: 'é✓' }));
      const answers = [];
      theirs.server.on('a', (d) => answers.push(d.n));
      for (let n = 0; n < 100; n++) theirs.server.emit({ address: host, port: po }, 'q', { n });
      await until(() => answers.length === 100, '100 answers from ours');
      assert.deepEqual(answers, [...Array(100).keys()]);
      // ours -> theirs, theirs replies
      theirs.server.on('q2', (d, rinfo) => theirs.server.emit(rinfo, 'a2', d));
      const back = [];
      ours.server.on('a2', (d) => back.push(d));
      ours.server.emit({ address: host, port: pt }, 'q2', { nested: [1, { x: 'y' }] });
      await until(() => back.length === 1, 'answer from theirs');
      assert.deepEqual(back[0], { nested: [1, { x: 'y' }] });
    } finally {
      cleanup(ours);
      try {
        theirs.server.stop();
      } catch {
        // already stopped
      }
    }
  });

test('udp4 raw hex: node-ipc 12 sends, node-ipc-rs receives the exact bytes', T, async () => {
  const ours = newIpc('ours');
  const theirs = nodeIpc12('theirs');
  for (const i of [ours, theirs]) {
    i.config.rawBuffer = true;
    i.config.encoding = 'hex';
  }
  try {
    const po = await freeUdpPort();
    const pt = await freeUdpPort();
    await udpServer(ours, '127.0.0.1', po, 'udp4');
    theirs.serveNet('127.0.0.1', pt, 'udp4');
    const up = new Promise((r) => theirs.server.on('connect', r));
    theirs.server.start();
    await within(3000, 'node-ipc 12 bound', up);
    const got = [];
    ours.server.on('data', (b) => got.push(b));
    theirs.server.emit({ address: '127.0.0.1', port: po }, 'dead41');
    await until(() => got.length === 1, 'datagram');
    assert.deepEqual(got[0], Buffer.from([0xde, 0xad, 0x41]));
  } finally {
    cleanup(ours);
    try {
      theirs.server.stop();
    } catch {
      // already stopped
    }
  }
});

// Each way a UDP server can receive: the addon's own socket, and Node's dgram socket (the stream
// transport's UDP, the only one on Windows). Both decode a datagram by the core's rule and report
// the same events in the same order.
for (const transport of ['native', 'stream']) {
  const skip = transport === 'native' && NO_NATIVE && 'no native transport in this pass';
  test(`udp4 (${transport} socket): frame limit and unfinished frames per datagram, events in order, the server stays`, {
    ...T,
    skip,
  }, async () => {
    const srv = newIpc('lim');
    srv.config.transport = transport;
    srv.config.maxMessageSize = 32;
    const peer = dgram.createSocket('udp4');
    try {
      const port = await freeUdpPort();
      await udpServer(srv, '127.0.0.1', port, 'udp4');
      assert.equal(srv.server._udp.constructor.name, transport === 'native' ? 'NativeUdp' : 'DgramUdp');
      assert.deepEqual(srv.server.server.address(), { address: '127.0.0.1', port, family: 'IPv4' });
      const seen = [];
      srv.server.on('m', (d, rinfo) => seen.push(['m', d, rinfo.port === peer.address().port]));
      srv.server.on('error', (e) => seen.push(['error', e.code]));
      await new Promise((r) => peer.bind(0, '127.0.0.1', r));
      const send = (text) => new Promise((r) => peer.send(text, port, '127.0.0.1', r));
      await send('{"type":"m","data":1}\f{"type":"m","data":"this one is far too long"}\f');
      await until(() => seen.length === 2, 'the frame before the oversize one, then the error');
      await send('{"type":"m","data":2}\f{"type":"m","da');
      await until(() => seen.length === 4, 'the complete frame, then the unfinished one');
      await send('{"type":"m","data":3}\f');
      await until(() => seen.length === 5, 'a later datagram');
      assert.deepEqual(seen, [
        ['m', 1, true],
        ['error', 'ERR_IPC_FRAME_TOO_LARGE'],
        ['m', 2, true],
        ['error', 'ERR_IPC_INCOMPLETE_FRAME'],
        ['m', 3, true],
      ]);
    } finally {
      peer.close();
      cleanup(srv);
    }
  });
}

const mixed = 'udp6: a server on Node dgram (stream transport) and one on the addon socket talk both ways; stop frees the port';
test(mixed, { ...T, skip: NO_NATIVE && 'no native transport in this pass' }, async () => {
  const a = newIpc('a');
  const b = newIpc('b');
  a.config.transport = 'stream';
  b.config.transport = 'native';
  try {
    const pa = await freeUdpPort('udp6');
    const pb = await freeUdpPort('udp6');
    await udpServer(a, '::1', pa, 'udp6');
    await udpServer(b, '::1', pb, 'udp6');
    assert.equal(a.server.server.address().family, 'IPv6');
    b.server.on('q', (d, rinfo) => b.server.emit(rinfo, 'a', { n: d.n, s: 'é✓' }));
    const got = [];
    a.server.on('a', (d) => got.push(d));
    for (let n = 0; n < 50; n++) a.server.emit({ address: '::1', port: pb }, 'q', { n });
    await until(() => got.length === 50, '50 answers');
    assert.deepEqual(
      got.map((d) => d.n),
      [...Array(50).keys()],
    );
    assert.equal(got[0].s, 'é✓');
    a.server.stop();
    await delay(20);
    const again = newIpc('again');
    again.config.transport = 'stream';
    try {
      await udpServer(again, '::1', pa, 'udp6');
    } finally {
      cleanup(again);
    }
  } finally {
    cleanup(a, b);
  }
});
