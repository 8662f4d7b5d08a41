'use strict';

// Events and their arguments, in order, over Unix sockets and TCP (NODE_IPC_CONTRACT §4, §6).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  newIpc,
  tmpSock,
  freePort,
  nextEvent,
  startLocalServer,
  startTcpServer,
  connectLocal,
  connectTcp,
  cleanup,
  delay,
  until,
  rmSock,
  WINDOWS,
  UNIX_SOCKETS_ONLY,
} = require('./helpers.js');

const T = { timeout: 10000 };

for (const transport of ['unix', 'tcp']) {
  test(`${transport}: connect, message with socket.id learnt, reply, disconnect sequence`, T, async () => {
    const srv = newIpc('world');
    const cli = newIpc('hello');
    const sock = tmpSock();
    try {
      const port = transport === 'tcp' ? await freePort() : 0;
      const server = transport === 'tcp' ? await startTcpServer(srv, port) : await startLocalServer(srv, sock);
      const events = [];
      server.on('connect', (socket) => events.push(['connect', typeof socket.write]));
      server.on('app.message', (data, socket) => {
        events.push(['app.message', data, socket.id]);
        server.emit(socket, 'app.reply', { id: srv.config.id, message: `${data.message} world!` });
      });
      server.on('socket.disconnected', (socket, id) => events.push(['socket.disconnected', id, socket.destroyed]));
      server.on('close', (hadError) => events.push(['close', hadError]));
      const client = transport === 'tcp' ? await connectTcp(cli, 'world', port) : await connectLocal(cli, 'world', sock);
      const clientEvents = [];
      client.on('disconnect', () => clientEvents.push('disconnect'));
      client.on('destroy', () => clientEvents.push('destroy'));
      const reply = nextEvent(client, 'app.reply');
      client.emit('app.message', { id: 'hello', message: 'hello' });
      assert.deepEqual((await reply)[0], { id: 'world', message: 'hello world!' });
      const closed = nextEvent(server, 'close');
      const destroyed = nextEvent(client, 'destroy');
      cli.disconnect('world');
      assert.equal(cli.of.world, undefined, 'ipc.of entry removed synchronously');
      await closed;
      await destroyed;
      assert.deepEqual(events, [
        ['connect', 'function'],
        ['app.message', { id: 'hello', message: 'hello' }, 'hello'],
        ['socket.disconnected', 'hello', true],
        ['close', false],
      ]);
      // node-ipc 9/12 keep the client's own disconnect/destroy handlers after ipc.disconnect.
      assert.deepEqual(clientEvents, ['disconnect', 'destroy']);
      assert.equal(server.sockets.length, 0);
    } finally {
      cleanup(cli, srv);
    }
  });

  test(`${transport}: broadcast reaches every client; emit(socket) only one`, T, async () => {
    const srv = newIpc('hub');
    const a = newIpc('a');
    const b = newIpc('b');
    const sock = tmpSock();
    try {
      const port = transport === 'tcp' ? await freePort() : 0;
      const server = transport === 'tcp' ? await startTcpServer(srv, port) : await startLocalServer(srv, sock);
      const connect = (ipc) => (transport === 'tcp' ? connectTcp(ipc, 'hub', port) : connectLocal(ipc, 'hub', sock));
      const ca = await connect(a);
      const cb = await connect(b);
      await until(() => server.sockets.length === 2, 'two sockets');
      const got = { a: [], b: [] };
      ca.on('news', (d) => got.a.push(d));
      cb.on('news', (d) => got.b.push(d));
      ca.emit('hello', { id: 'a' });
      await until(() => server.sockets.some((s) => s.id === 'a'), 'id learnt');
      server.broadcast('news', 'all');
      server.emit(
        server.sockets.find((s) => s.id === 'a'),
        'news',
        'only-a',
      );
      server.broadcast('news', 'end');
      await until(() => got.a.length === 3 && got.b.length === 2, 'deliveries');
      await delay(30);
      assert.deepEqual(got.a, ['all', 'only-a', 'end']);
      assert.deepEqual(got.b, ['all', 'end']);
    } finally {
      cleanup(a, b, srv);
    }
  });
}

test('100 pipelined messages arrive in order, both directions', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    server.on('n', (d, socket) => server.emit(socket, 'n', d));
    const client = await connectLocal(cli, 's', sock);
    const got = [];
    client.on('n', (d) => got.push(d));
    for (let i = 0; i < 100; i++) client.emit('n', i);
    await until(() => got.length === 100, '100 echoes');
    assert.deepEqual(got, [...Array(100).keys()]);
  } finally {
    cleanup(cli, srv);
  }
});

test('payloads: unicode, control characters, nesting, 1 MB strings split across reads', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    server.on('echo', (d, socket) => server.emit(socket, 'echo', d));
    const client = await connectLocal(cli, 's', sock);
    const payloads = [
      { text: 'héllo wörld ✓ 日本語 🎉', ctl: 'a\nb\fc\u0000d\u2028' },
      { deep: { a: [1, { b: [2, { c: [3, { d: 'x'.repeat(10) }] }] }] } },
      { big: '🎉é'.repeat(350000) },
      [1, 'two', null, true, 3.5],
      'a string',
      0,
      false,
    ];
    const got = [];
    client.on('echo', (d) => got.push(d));
    for (const p of payloads) client.emit('echo', p);
    await until(() => got.length === payloads.length, 'all echoes', 8000);
    assert.deepEqual(got, payloads);
  } finally {
    cleanup(cli, srv);
  }
});

test('data normalisation matches node-ipc 9/12: falsy -> {}, 0 and false kept', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    const got = [];
    server.on('v', (d) => got.push(d));
    const client = await connectLocal(cli, 's', sock);
    for (const v of [undefined, null, '', NaN, 0, false, true]) client.emit('v', v);
    client.emit('v');
    await until(() => got.length === 8, 'all values');
    assert.deepEqual(got, [{}, {}, {}, {}, 0, false, true, {}]);
  } finally {
    cleanup(cli, srv);
  }
});

test('maxRetries: error+disconnect per attempt, then destroy; ipc.of entry stays', T, async () => {
  const cli = newIpc('c');
  cli.config.maxRetries = 2;
  cli.config.retry = 40;
  const sock = tmpSock();
  const events = [];
  const t0 = Date.now();
  cli.connectTo('ghost', sock, () => {
    const c = cli.of.ghost;
    c.on('error', (e) => events.push(['error', e.code, e.syscall]));
    c.on('disconnect', () => events.push(['disconnect', Date.now() - t0]));
    c.on('destroy', () => events.push(['destroy']));
    c.on('connect', () => events.push(['connect']));
  });
  await nextEvent(cli.of.ghost, 'destroy', 5000);
  await delay(100);
  const kinds = events.map((e) => e[0]);
  assert.deepEqual(kinds, ['error', 'disconnect', 'error', 'disconnect', 'error', 'disconnect', 'destroy']);
  assert.equal(events[0][1], 'ENOENT');
  assert.equal(events[0][2], 'connect');
  assert.ok(events[3][1] >= 40, 'retry waited');
  assert.ok(cli.of.ghost, 'entry remains after give-up');
  assert.equal(cli.of.ghost.socket.destroyed, true);
});

test('maxRetries 0 and stopRetrying end at once', T, async () => {
  for (const setup of [(c) => (c.maxRetries = 0), (c) => (c.stopRetrying = true)]) {
    const cli = newIpc('c');
    setup(cli.config);
    const events = [];
    cli.connectTo('ghost', tmpSock(), () => {
      for (const ev of ['error', 'disconnect', 'destroy']) cli.of.ghost.on(ev, () => events.push(ev));
    });
    await nextEvent(cli.of.ghost, 'destroy');
    assert.deepEqual(events, ['error', 'disconnect', 'destroy']);
  }
});

test('TCP connection refused is reported with code and address', T, async () => {
  const cli = newIpc('c');
  cli.config.maxRetries = 0;
  const port = await freePort();
  let err;
  cli.connectToNet('ghost', '127.0.0.1', port, () => {
    cli.of.ghost.on('error', (e) => {
      err = e;
    });
  });
  await nextEvent(cli.of.ghost, 'destroy');
  assert.equal(err.code, 'ECONNREFUSED');
  assert.equal(err.address, '127.0.0.1');
  assert.equal(err.port, port);
});

test('reconnects after a server restart; handlers persist', T, async () => {
  const sock = tmpSock();
  let srv = newIpc('s');
  const cli = newIpc('c');
  try {
    let server = await startLocalServer(srv, sock);
    const client = await connectLocal(cli, 's', sock);
    const got = [];
    client.on('ping', (d) => got.push(d));
    server.broadcast('ping', 1);
    await until(() => got.length === 1, 'first ping');
    const disconnected = nextEvent(client, 'disconnect');
    for (const s of server.sockets.slice()) s.destroy();
    server.stop();
    await disconnected;
    srv = newIpc('s');
    server = await startLocalServer(srv, sock);
    await nextEvent(client, 'connect', 3000);
    await until(() => server.sockets.length === 1, 'reconnected socket');
    server.broadcast('ping', 2);
    await until(() => got.length === 2, 'second ping');
    assert.deepEqual(got, [1, 2]);
  } finally {
    cleanup(cli, srv);
  }
});

test('connectTo on a live id only calls back; on a retrying id replaces the client', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    await startLocalServer(srv, sock);
    const first = await connectLocal(cli, 's', sock);
    let args;
    cli.connectTo('s', sock, (...a) => {
      args = a;
    });
    assert.deepEqual(args, []);
    assert.equal(cli.of.s, first);
    // A client waiting to retry is replaced, and the old one stops for good.
    const ghostPath = tmpSock();
    cli.connectTo('g', ghostPath);
    const old = cli.of.g;
    await nextEvent(old, 'disconnect');
    cli.connectTo('g', sock);
    assert.notEqual(cli.of.g, old);
    assert.equal(old.explicitlyDisconnected, true);
    await nextEvent(cli.of.g, 'connect');
    let oldAttempts = 0;
    old.on('error', () => oldAttempts++);
    await delay(150);
    assert.equal(oldAttempts, 0, 'old client keeps quiet');
  } finally {
    cleanup(cli, srv);
  }
});

test('server.stop() closes the listener only (node-ipc 9/12); the socket file is removed', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    if (!WINDOWS) assert.ok(fs.existsSync(sock));
    const client = await connectLocal(cli, 's', sock);
    await until(() => server.sockets.length === 1, 'socket');
    server.stop();
    if (!WINDOWS) assert.equal(fs.existsSync(sock), false);
    const got = nextEvent(client, 'still');
    server.broadcast('still', 'here');
    assert.deepEqual(await got, ['here']);
  } finally {
    cleanup(cli, srv);
  }
});

test('stop() before start() throws TypeError as in node-ipc 9/12', () => {
  const srv = newIpc('s');
  srv.serve(tmpSock());
  assert.throws(() => srv.server.stop(), TypeError);
});

test('listen errors arrive as server error events (EADDRINUSE with unlink:false)', T, async () => {
  const a = newIpc('a');
  const b = newIpc('b');
  const sock = tmpSock();
  try {
    await startLocalServer(a, sock);
    b.config.unlink = false;
    b.serve(sock);
    const err = nextEvent(b.server, 'error');
    b.server.start();
    const [e] = await err;
    assert.equal(e.code, 'EADDRINUSE');
  } finally {
    cleanup(a, b);
  }
});

test('unlink removes a stale socket but never a regular file', { ...T, skip: UNIX_SOCKETS_ONLY }, async () => {
  const path = tmpSock();
  fs.writeFileSync(path, 'precious');
  const srv = newIpc('s');
  try {
    srv.serve(path);
    const err = nextEvent(srv.server, 'error');
    srv.server.start();
    const [e] = await err;
    assert.equal(e.code, 'EADDRINUSE');
    assert.equal(fs.readFileSync(path, 'utf8'), 'precious');
  } finally {
    rmSock(path);
  }
});

test('TCP server: start event, address(), remoteAddress on sockets', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  try {
    const port = await freePort();
    srv.serveNet('127.0.0.1', port);
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    assert.deepEqual(await started, [undefined]);
    assert.equal(srv.server.server.address().port, port);
    const conn = nextEvent(srv.server, 'connect');
    await connectTcp(cli, 's', port);
    const [socket] = await conn;
    assert.equal(socket.remoteAddress, '127.0.0.1');
    assert.equal(typeof socket.remotePort, 'number');
  } finally {
    cleanup(cli, srv);
  }
});

test('connectToNet resolves host names (localhost)', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  try {
    const port = await freePort();
    await startTcpServer(srv, port);
    let client;
    cli.connectToNet('s', 'localhost', port, () => {
      client = cli.of.s;
    });
    await nextEvent(client, 'connect');
    const got = nextEvent(srv.server, 'hi');
    client.emit('hi', 1);
    assert.equal((await got)[0], 1);
  } finally {
    cleanup(cli, srv);
  }
});

test('maxConnections: extra connections are closed at once, the rest are served', T, async () => {
  const srv = newIpc('s');
  srv.config.maxConnections = 1;
  const a = newIpc('a');
  const b = newIpc('b');
  b.config.maxRetries = 0;
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    await connectLocal(a, 's', sock);
    let bDisconnected = false;
    b.connectTo('s', sock, () => b.of.s.on('disconnect', () => (bDisconnected = true)));
    await until(() => bDisconnected, 'b dropped');
    assert.equal(server.sockets.length, 1);
  } finally {
    cleanup(a, b, srv);
  }
});

test('sync mode: one message in flight, each received batch releases the next', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  cli.config.sync = true;
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    const received = [];
    let pendingSocket;
    server.on('req', (d, socket) => {
      received.push(d);
      pendingSocket = socket;
    });
    const client = await connectLocal(cli, 's', sock);
    const replies = [];
    client.on('rep', (d) => replies.push(d));
    for (let i = 0; i < 3; i++) client.emit('req', i);
    await until(() => received.length === 1, 'first request');
    await delay(50);
    assert.deepEqual(received, [0], 'only the first goes out before a reply');
    server.emit(pendingSocket, 'rep', 'r0');
    await until(() => received.length === 2, 'second request');
    await delay(50);
    assert.deepEqual(received, [0, 1]);
    server.emit(pendingSocket, 'rep', 'r1');
    await until(() => received.length === 3, 'third request');
    server.emit(pendingSocket, 'rep', 'r2');
    await until(() => replies.length === 3, 'replies');
    // Queue idle again: the next emit goes out at once.
    client.emit('req', 3);
    await until(() => received.length === 4, 'fourth request');
    assert.deepEqual(received, [0, 1, 2, 3]);
  } finally {
    cleanup(cli, srv);
  }
});

test('custom and multi-character delimiters (per instance)', T, async () => {
  for (const delimiter of ['\n', '<<END>>']) {
    const srv = newIpc('s');
    const cli = newIpc('c');
    srv.config.delimiter = delimiter;
    cli.config.delimiter = delimiter;
    const other = newIpc('o'); // default delimiter in the same process
    const sock = tmpSock();
    const sock2 = tmpSock();
    try {
      const server = await startLocalServer(srv, sock);
      await startLocalServer(other, sock2);
      server.on('echo', (d, socket) => server.emit(socket, 'echo', d));
      const client = await connectLocal(cli, 's', sock);
      const got = [];
      client.on('echo', (d) => got.push(d));
      client.emit('echo', 'a');
      client.emit('echo', { b: 'x<<EN' });
      await until(() => got.length === 2, `echoes with ${JSON.stringify(delimiter)}`);
      assert.deepEqual(got, ['a', { b: 'x<<EN' }]);
    } finally {
      cleanup(cli, srv, other);
    }
  }
});

test('config.interface.localAddress/localPort bind the client end of a TCP connection', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  try {
    const port = await freePort();
    const localPort = await freePort();
    const server = await startTcpServer(srv, port);
    cli.config.interface.localAddress = '127.0.0.1';
    cli.config.interface.localPort = localPort;
    const conn = nextEvent(server, 'connect');
    await connectTcp(cli, 's', port);
    const [socket] = await conn;
    assert.equal(socket.remotePort, localPort);
  } finally {
    cleanup(cli, srv);
  }
});
