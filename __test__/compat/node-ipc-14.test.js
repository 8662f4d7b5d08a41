'use strict';

// Interop with real node-ipc@14.0.0 under its parser profiles (NODE_IPC_CONTRACT §7): its
// guarded/assured servers with our clients and the reverse, over Unix sockets and TCP, and assured
// over mutual TLS. Where one side is made to break a rule (a `fast` sender, which does not check
// names), the other side's checker must refuse exactly as node-ipc 14 does.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { after } = require('node:test');
const { ROOT } = require('./impls.js');
const { tmpSocketPath, freePort, waitFor, delay, exitGuard } = require('./helpers.js');

const T = { timeout: 20000 };
const WAIT = 5000;
const FIX = path.join(ROOT, '__test__', 'fixtures');
const pem = (name) => path.join(FIX, name);
const SERVER_TLS = { private: pem('server.key'), public: pem('server.pem'), trustedConnections: pem('ca.pem') };
const CLIENT_TLS = { private: pem('client.key'), public: pem('client.pem'), trustedConnections: pem('ca.pem') };

let seq = 0;
const live = [];

function configure(ipc, config) {
  Object.assign(ipc.config, { silent: true, retry: 50, maxRetries: 3, id: `n14-${process.pid}-${++seq}` }, config);
  live.push(ipc);
  return ipc;
}

async function theirs(config) {
  const { IPCModule } = await import('node-ipc-14');
  return configure(new IPCModule(), config);
}

function ours(config) {
  const { IPCModule } = require(ROOT);
  return configure(new IPCModule(), config);
}

function record(emitter, types) {
  const log = [];
  for (const t of types) emitter.on(t, (...args) => log.push([t, ...args]));
  return log;
}

const has = (log, type) => log.some((e) => e[0] === type);
const wait = (fn, what) => waitFor(fn, WAIT, what);

/** Starts `ipc`'s server on a fresh address of `transport` (or `addr`) and resolves with the address. */
async function serve(ipc, transport, addr) {
  if (transport === 'unix') {
    addr = addr || { path: tmpSocketPath('n14') };
    ipc.serve(addr.path);
  } else {
    addr = addr || { host: '127.0.0.1', port: await freePort() };
    ipc.serveNet(addr.host, addr.port);
  }
  let started = false;
  ipc.server.on('start', () => (started = true));
  ipc.server.start();
  await wait(() => started, 'server start');
  return addr;
}

function connect(ipc, transport, addr, host) {
  if (transport === 'unix') ipc.connectTo('srv', addr.path);
  else ipc.connectToNet('srv', host || addr.host, addr.port);
  return ipc.of.srv;
}

function stop(...list) {
  for (const ipc of list) {
    try {
      for (const id of Object.keys(ipc.of)) {
        ipc.of[id].config.stopRetrying = true;
        ipc.disconnect(id);
      }
      if (ipc.server && ipc.server.server) {
        for (const s of ipc.server.sockets.slice()) if (s.destroy) s.destroy();
        ipc.server.stop();
      }
    } catch {
      // best effort
    }
  }
}

for (const transport of ['unix', 'tcp']) {
  test(`${transport}: node-ipc 14 guarded server, our guarded client: both ways, and our checks on its bytes`, T, async () => {
    const srv = await theirs({ parser: 'guarded' });
    const cli = ours({ parser: 'guarded' });
    const bad = await theirs({ parser: 'fast' });
    const cli2 = ours({ parser: 'guarded' });
    try {
      const addr = await serve(srv, transport);
      srv.server.on('ping', (d, s) => srv.server.emit(s, 'pong', { echo: d }));
      const client = connect(cli, transport, addr);
      const log = record(client, ['connect', 'pong', 'error', 'disconnect', 'destroy']);
      await wait(() => has(log, 'connect'), 'connect');
      client.emit('ping', { n: 1, s: 'é\n\f' });
      await wait(() => has(log, 'pong'), 'pong');
      assert.deepEqual(log.find((e) => e[0] === 'pong')[1], { echo: { n: 1, s: 'é\n\f' } });
      assert.throws(() => client.emit('connect'), { code: 'ERR_IPC_RESERVED_EVENT' });
      // A fast node-ipc 14 server sends what guarded refuses: our client closes for good.
      const badAddr = await serve(bad, transport);
      const badLog = record(bad.server, ['socket.disconnected']);
      bad.server.on('connect', (s) => bad.server.emit(s, 'error', { spoofed: true }));
      const c2 = connect(cli2, transport, badAddr);
      const log2 = record(c2, ['connect', 'error', 'disconnect', 'destroy']);
      await wait(() => has(log2, 'destroy'), 'our client gives up');
      assert.deepEqual(
        log2.map((e) => e[0]),
        ['connect', 'error', 'disconnect', 'destroy'],
      );
      assert.equal(log2[1][1].code, 'ERR_IPC_RESERVED_EVENT');
      await wait(() => badLog.length === 1, 'node-ipc 14 sees the connection close');
      await delay(200);
      assert.equal(badLog.length, 1, 'no reconnect');
    } finally {
      stop(cli, cli2, srv, bad);
    }
  });

  test(`${transport}: our guarded server, node-ipc 14 guarded client: both ways, and our checks on its bytes`, T, async () => {
    const srv = ours({ parser: 'guarded', maxMessageSize: 4096 });
    const cli = await theirs({ parser: 'guarded' });
    const fast = await theirs({ parser: 'fast' });
    try {
      const addr = await serve(srv, transport);
      const slog = record(srv.server, ['error', 'socket.disconnected', 'close']);
      srv.server.on('ping', (d, s) => srv.server.emit(s, 'pong', { echo: d }));
      const client = connect(cli, transport, addr);
      const log = record(client, ['connect', 'pong', 'error', 'disconnect']);
      await wait(() => has(log, 'connect'), 'connect');
      client.emit('ping', [1, 'two', null]);
      await wait(() => has(log, 'pong'), 'pong');
      assert.deepEqual(log.find((e) => e[0] === 'pong')[1], { echo: [1, 'two', null] });
      // node-ipc 14 fast clients send what guarded refuses: a reserved name, then an oversize frame.
      const f = connect(fast, transport, addr);
      let connects = 0;
      f.on('connect', () => {
        connects++;
        if (connects === 1) f.emit('disconnect', {});
        else if (connects === 2) f.emit('ping', 'x'.repeat(5000));
      });
      await wait(() => slog.filter((e) => e[0] === 'close').length === 2, 'two connections closed');
      assert.deepEqual(
        slog.map((e) => (e[0] === 'error' ? e[1].code : e[0])),
        ['ERR_IPC_RESERVED_EVENT', 'socket.disconnected', 'close', 'ERR_IPC_FRAME_TOO_LARGE', 'socket.disconnected', 'close'],
      );
      // The guarded client was not disturbed.
      client.emit('ping', 2);
      await wait(() => log.filter((e) => e[0] === 'pong').length === 2, 'second pong');
    } finally {
      stop(cli, fast, srv);
    }
  });

  test(`${transport}: our fast server breaks guarded rules; node-ipc 14's guarded client refuses exactly`, T, async () => {
    const srv = ours({ parser: 'fast' });
    const cli = await theirs({ parser: 'guarded', maxMessageSize: 100 });
    try {
      const addr = await serve(srv, transport);
      let n = 0;
      srv.server.on('connect', (s) => {
        n++;
        // {"type":"ok","data":"…"} + 77 ASCII = 100 bytes: accepted; then a reserved name.
        srv.server.emit(s, 'ok', 'x'.repeat(77));
        srv.server.emit(s, 'socket.disconnected', n);
      });
      const client = connect(cli, transport, addr);
      const log = record(client, ['connect', 'ok', 'error', 'disconnect', 'destroy']);
      await wait(() => has(log, 'destroy'), 'their client gives up');
      assert.deepEqual(
        log.map((e) => e[0]),
        ['connect', 'ok', 'error', 'disconnect', 'destroy'],
      );
      assert.equal(log[2][1].code, 'ERR_IPC_RESERVED_EVENT');
      assert.equal(n, 1);
    } finally {
      stop(cli, srv);
    }
  });
}

test('assured over mutual TLS: node-ipc 14 server with our client, our server with its client', T, async () => {
  const pairs = [
    [
      await theirs({ parser: 'assured', allowedEvents: ['ping', 'pong'], tls: SERVER_TLS }),
      ours({ parser: 'assured', allowedEvents: new Set(['ping', 'pong']), tls: CLIENT_TLS }),
    ],
    [
      ours({ parser: 'assured', allowedEvents: ['ping', 'pong'], tls: SERVER_TLS }),
      await theirs({ parser: 'assured', allowedEvents: new Set(['ping', 'pong']), tls: CLIENT_TLS }),
    ],
  ];
  for (const [srv, cli] of pairs) {
    try {
      const addr = await serve(srv, 'tcp');
      srv.server.on('ping', (d, s) => srv.server.emit(s, 'pong', d));
      const client = connect(cli, 'tcp', addr, 'localhost');
      const log = record(client, ['connect', 'pong', 'error']);
      await wait(() => has(log, 'connect'), 'TLS connect');
      client.emit('ping', { secret: 42 });
      await wait(() => has(log, 'pong'), 'pong');
      assert.deepEqual(log.find((e) => e[0] === 'pong')[1], { secret: 42 });
      assert.throws(() => client.emit('other'), { code: 'ERR_IPC_EVENT_NOT_ALLOWED' });
      assert.equal(has(log, 'error'), false);
    } finally {
      stop(cli, srv);
    }
  }
  // A client certificate from an untrusted CA is refused by either server.
  for (const make of [
    () => theirs({ parser: 'assured', allowedEvents: ['ping'], tls: SERVER_TLS }),
    async () => ours({ parser: 'assured', allowedEvents: ['ping'], tls: SERVER_TLS }),
  ]) {
    const srv = await make();
    const rogue = ours({
      parser: 'guarded',
      maxRetries: 0,
      tls: { private: pem('rogue.key'), public: pem('rogue.pem'), trustedConnections: pem('ca.pem') },
    });
    try {
      const addr = await serve(srv, 'tcp');
      const got = [];
      srv.server.on('ping', (d) => got.push(d));
      const c = connect(rogue, 'tcp', addr, 'localhost');
      c.on('connect', () => c.emit('ping', 'rogue'));
      const log = record(c, ['error', 'destroy']);
      await wait(() => has(log, 'destroy'), 'rogue refused');
      // (Node's TLS server drops an unauthorized TLS 1.3 client without an alert, so the client
      // may see only the close; a rustls server sends one.)
      assert.deepEqual(got, [], 'nothing from the rogue client is delivered');
    } finally {
      stop(rogue, srv);
    }
  }
});

// (Windows: the assured profile serves no named pipe, in node-ipc 14 as here)
const assuredLocal = process.platform === 'win32' && 'assured local sockets: Unix only';
test('assured local sockets at the default socket root: node-ipc 14 and node-ipc-rs meet both ways', {
  ...T,
  skip: assuredLocal,
}, async () => {
  for (const [srvMake, cliMake] of [
    [theirs, async (c) => ours(c)],
    [async (c) => ours(c), theirs],
  ]) {
    const srv = await srvMake({ parser: 'assured', allowedEvents: ['ping', 'pong'] });
    const cli = await cliMake({ parser: 'assured', allowedEvents: ['ping', 'pong'] });
    try {
      srv.serve();
      let started = false;
      srv.server.on('start', () => (started = true));
      srv.server.start();
      await wait(() => started, 'start');
      srv.server.on('ping', (d, s) => srv.server.emit(s, 'pong', d));
      cli.connectTo(srv.config.id);
      const client = cli.of[srv.config.id];
      assert.equal(client.path, srv.server.path, 'the same default path');
      const log = record(client, ['connect', 'pong']);
      await wait(() => has(log, 'connect'), 'connect');
      client.emit('ping', 'local');
      await wait(() => has(log, 'pong'), 'pong');
    } finally {
      stop(cli, srv);
    }
  }
});

after(() => exitGuard());
