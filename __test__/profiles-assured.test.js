'use strict';

// node-ipc 14's transport rules (NODE_IPC_CONTRACT §2.3, §7.3): the assured profile's
// ERR_IPC_ASSURED_TRANSPORT / ERR_IPC_ASSURED_TLS, the secure socket root (never chmod'ed:
// refused with ERR_IPC_SOCKET_ROOT), ERR_IPC_UNLINK_NOT_SOCKET, ERR_IPC_TLS_CONFIGURATION, and
// assured over mutual TLS.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  ipcModule,
  newIpc,
  freePort,
  nextEvent,
  cleanup,
  within,
  rmSock,
  record,
  throwsCode,
  fixture: pem,
  UNIX_SOCKETS_ONLY,
} = require('./helpers.js');
const { secureRoot, rmRoot } = require('./profile-helpers.js');
const { v14SocketRoot } = require('../lib/secure.js');

const T = { timeout: 15000 };
const ALLOWED = ['ping', 'pong'];

function assured(extra = {}) {
  const ipc = newIpc('a');
  Object.assign(ipc.config, { parser: 'assured', allowedEvents: ALLOWED }, extra);
  return ipc;
}

const modeOf = (dir) => fs.statSync(dir).mode & 0o7777;

test('assured local server at the default socketRoot: node-ipc 14 per-user root (0700), clients meet it', {
  ...T,
  skip: UNIX_SOCKETS_ONLY,
}, async () => {
  const srv = assured();
  srv.config.id = `world-${process.pid}`;
  const cli = assured();
  try {
    srv.serve();
    const root = v14SocketRoot();
    assert.equal(srv.server.path, `${root}app.${srv.config.id}`);
    assert.equal(srv.config.socketRoot, '/tmp/', 'ipc.config.socketRoot itself is not changed');
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    assert.equal(modeOf(root) & 0o077, 0, 'the root is owner-only');
    srv.server.on('ping', (d, s) => srv.server.emit(s, 'pong', d));
    cli.connectTo(srv.config.id);
    assert.equal(cli.of[srv.config.id].path, srv.server.path);
    const client = cli.of[srv.config.id];
    await nextEvent(client, 'connect');
    const pong = nextEvent(client, 'pong');
    client.emit('ping', 'hi');
    assert.deepEqual(await pong, ['hi']);
  } finally {
    cleanup(cli, srv);
  }
  // A missing root is created owner-only.
  const fresh = path.join(secureRoot('parent'), 'a', 'b');
  const s2 = assured({ socketRoot: `${fresh}/` });
  try {
    s2.serve(`${fresh}/app.x`);
    const started = nextEvent(s2.server, 'start');
    s2.server.start();
    await started;
    assert.equal(modeOf(fresh), 0o700);
  } finally {
    cleanup(s2);
    rmRoot(path.dirname(path.dirname(fresh)));
  }
});

test('secure socket root: an existing open directory is refused (ERR_IPC_SOCKET_ROOT) and never chmod-ed', {
  skip: UNIX_SOCKETS_ONLY,
}, () => {
  const root = secureRoot('open');
  fs.chmodSync(root, 0o777);
  try {
    const guarded = newIpc('g');
    Object.assign(guarded.config, { parser: 'guarded', socketRoot: root, secureSocketRoot: true });
    const legacy = newIpc('d');
    Object.assign(legacy.config, { socketRoot: root, secureSocketRoot: true });
    for (const ipc of [assured({ socketRoot: root }), guarded, legacy]) {
      ipc.serve(`${root}app.x`);
      const err = throwsCode(() => ipc.server.start(), 'ERR_IPC_SOCKET_ROOT', ipc.config.parser || 'default profile');
      assert.ok(err instanceof Error);
      assert.equal(modeOf(root), 0o777, 'mode unchanged');
      assert.equal(ipc.server.server, false, 'nothing listens');
    }
    // /tmp itself (spelled without the trailing slash, so it is not the 9/12 default): refused, untouched.
    const before = modeOf('/tmp');
    const t = newIpc('t');
    Object.assign(t.config, { parser: 'guarded', secureSocketRoot: true, socketRoot: '/tmp' });
    t.serve(`/tmp/app.nirs-${process.pid}`);
    throwsCode(() => t.server.start(), 'ERR_IPC_SOCKET_ROOT', '/tmp');
    assert.equal(modeOf('/tmp'), before);
  } finally {
    rmRoot(root);
  }
});

test('secure socket root: a symlink, or a directory owned by someone else, is refused', {
  ...T,
  skip: process.platform === 'win32',
}, () => {
  const base = secureRoot('link');
  try {
    fs.mkdirSync(path.join(base, 'real'), { mode: 0o700 });
    fs.symlinkSync(path.join(base, 'real'), path.join(base, 'link'));
    const ipc = assured({ socketRoot: path.join(base, 'link/') });
    ipc.serve(path.join(base, 'link', 'app.x'));
    throwsCode(() => ipc.server.start(), 'ERR_IPC_SOCKET_ROOT', 'symlink');
    if (process.getuid() === 0) {
      const other = path.join(base, 'other');
      fs.mkdirSync(other, { mode: 0o700 });
      fs.chownSync(other, 65534, 65534);
      const o = assured({ socketRoot: `${other}/` });
      o.serve(`${other}/app.x`);
      throwsCode(() => o.server.start(), 'ERR_IPC_SOCKET_ROOT', 'owned by another user');
    }
  } finally {
    rmRoot(base);
  }
});

test('without a secure root, 14 profiles accept an open socketRoot (secureSocketRoot unset/false)', {
  ...T,
  skip: UNIX_SOCKETS_ONLY,
}, async () => {
  const root = secureRoot('plain');
  fs.chmodSync(root, 0o755);
  const ipc = newIpc('p');
  Object.assign(ipc.config, { parser: 'guarded', socketRoot: root });
  try {
    ipc.serve(`${root}app.x`);
    const started = nextEvent(ipc.server, 'start');
    ipc.server.start();
    await started;
    assert.equal(modeOf(root), 0o755);
  } finally {
    cleanup(ipc);
    rmRoot(root);
  }
});

test('assured local server: only directly inside a secure root (ERR_IPC_ASSURED_TRANSPORT)', () => {
  const root = secureRoot('place');
  try {
    const cases = [
      [`${root}sub/app.x`, {}],
      [path.join(path.dirname(root), 'elsewhere.sock'), {}],
      [`${root}app.x`, { secureSocketRoot: false }],
    ];
    for (const [where, extra] of cases) {
      const ipc = assured({ socketRoot: root, ...extra });
      ipc.serve(where);
      const err = throwsCode(() => ipc.server.start(), 'ERR_IPC_ASSURED_TRANSPORT', where);
      assert.ok(err instanceof ipcModule.IPCProtocolError);
    }
  } finally {
    rmRoot(root);
  }
});

test('14 profiles: unlink refuses to replace a non-socket (ERR_IPC_UNLINK_NOT_SOCKET); the file stays', { skip: UNIX_SOCKETS_ONLY }, () => {
  const root = secureRoot('unlink');
  try {
    const file = `${root}app.x`;
    fs.writeFileSync(file, 'keep');
    const ipc = newIpc('u');
    Object.assign(ipc.config, { parser: 'fast', socketRoot: root });
    ipc.serve(file);
    throwsCode(() => ipc.server.start(), 'ERR_IPC_UNLINK_NOT_SOCKET', 'regular file');
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep');
  } finally {
    rmRoot(root);
  }
});

test('assured network servers: TCP without TLS and UDP are refused (ERR_IPC_ASSURED_TRANSPORT)', async () => {
  const port = await freePort();
  for (const args of [
    ['127.0.0.1', port],
    ['127.0.0.1', port, 'udp4'],
  ]) {
    const ipc = assured();
    ipc.serveNet(...args);
    const err = throwsCode(() => ipc.server.start(), 'ERR_IPC_ASSURED_TRANSPORT', args.join(' '));
    assert.ok(err instanceof ipcModule.IPCProtocolError);
  }
});

const SERVER_TLS = { private: pem('server.key'), public: pem('server.pem'), trustedConnections: pem('ca.pem') };
const CLIENT_TLS = { private: pem('client.key'), public: pem('client.pem'), trustedConnections: pem('ca.pem') };

test('assured TLS servers need a client CA, requestCert and rejectUnauthorized (ERR_IPC_ASSURED_TLS)', async () => {
  const port = await freePort();
  const bad = [
    { private: pem('server.key'), public: pem('server.pem') },
    { ...SERVER_TLS, requestCert: false },
    { ...SERVER_TLS, rejectUnauthorized: false },
  ];
  for (const tls of bad) {
    const ipc = assured({ tls });
    ipc.serveNet('127.0.0.1', port);
    throwsCode(() => ipc.server.start(), 'ERR_IPC_ASSURED_TLS', JSON.stringify(tls));
  }
  for (const [tls, what] of [
    [{ trustedConnections: pem('ca.pem') }, 'no key/cert'],
    ['yes', 'not an object'],
  ]) {
    const ipc = newIpc('g');
    Object.assign(ipc.config, { parser: 'guarded', tls });
    ipc.serveNet('127.0.0.1', port);
    throwsCode(() => ipc.server.start(), 'ERR_IPC_TLS_CONFIGURATION', what);
  }
});

test('assured TLS over existing streams (serveStream) follows the same TLS rules: an error event, nothing served', async () => {
  for (const tls of [
    { ...SERVER_TLS, requestCert: false },
    { ...SERVER_TLS, rejectUnauthorized: false },
  ]) {
    const ipc = assured({ tls });
    ipc.serveStream();
    const failed = nextEvent(ipc.server, 'error');
    let started = false;
    ipc.server.on('start', () => {
      started = true;
    });
    ipc.server.start();
    const [err] = await failed;
    assert.equal(err.code, 'ERR_IPC_ASSURED_TLS', JSON.stringify(tls));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(started, false);
    cleanup(ipc);
  }
  // The same settings with a complete mutual-TLS configuration start.
  const ok = assured({ tls: SERVER_TLS });
  ok.serveStream();
  const started = nextEvent(ok.server, 'start');
  ok.server.start();
  await started;
  cleanup(ok);
});

test('assured network clients need TLS with key, cert, CA and verification; thrown after ipc.of[id] is stored', async () => {
  const port = await freePort();
  const cases = [
    [false, 'ERR_IPC_ASSURED_TRANSPORT'],
    [{ trustedConnections: pem('ca.pem') }, 'ERR_IPC_ASSURED_TLS'],
    [{ ...CLIENT_TLS, rejectUnauthorized: false }, 'ERR_IPC_ASSURED_TLS'],
    [{ private: pem('client.key'), public: pem('client.pem') }, 'ERR_IPC_ASSURED_TLS'],
  ];
  for (const [tls, code] of cases) {
    const ipc = assured({ tls, maxRetries: 0 });
    throwsCode(() => ipc.connectToNet('srv', '127.0.0.1', port), code, JSON.stringify(tls));
    assert.ok(ipc.of.srv, 'stored before the check, as in node-ipc 14');
    cleanup(ipc);
  }
});

test('assured over mutual TLS: messages both ways, allow-list enforced, clients without a trusted certificate refused', T, async () => {
  const port = await freePort();
  const srv = assured({ tls: SERVER_TLS });
  const cli = assured({ tls: CLIENT_TLS });
  const anon = assured({ tls: { trustedConnections: pem('ca.pem') }, maxRetries: 0 });
  const rogue = newIpc('r');
  Object.assign(rogue.config, {
    parser: 'guarded',
    maxRetries: 0,
    tls: { private: pem('rogue.key'), public: pem('rogue.pem'), trustedConnections: pem('ca.pem') },
  });
  try {
    srv.serveNet('127.0.0.1', port);
    const slog = record(srv.server, ['error']);
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    srv.server.on('ping', (d, s) => srv.server.emit(s, 'pong', d));
    cli.connectToNet('srv', 'localhost', port);
    const client = cli.of.srv;
    await nextEvent(client, 'connect');
    const pong = nextEvent(client, 'pong');
    client.emit('ping', { n: 1 });
    assert.deepEqual(await pong, [{ n: 1 }]);
    assert.throws(() => client.emit('other'), { code: 'ERR_IPC_EVENT_NOT_ALLOWED' });
    // A client without a certificate, and one with a certificate the server's CA did not sign.
    throwsCode(() => anon.connectToNet('srv', 'localhost', port), 'ERR_IPC_ASSURED_TLS', 'no client certificate');
    rogue.connectToNet('srv', 'localhost', port);
    const rlog = record(rogue.of.srv, ['connect', 'error', 'destroy']);
    const pinged = [];
    srv.server.on('ping', (d) => pinged.push(d));
    rogue.of.srv.on('connect', () => rogue.of.srv.emit('ping', 'rogue'));
    await within(5000, 'rogue refused', new Promise((r) => rogue.of.srv.on('destroy', r)));
    // (with TLS 1.3 the client may see its side of the handshake finish before the server's alert)
    const err = rlog.find((e) => e[0] === 'error');
    assert.ok(err, 'the rogue client gets an error');
    assert.match(String(err[1].code), /CERT|ALERT|TLS|ECONNRESET/);
    assert.deepEqual(pinged, [], 'nothing from the rogue client is delivered');
    assert.ok(slog.length >= 1, 'the server reports the failed handshake');
  } finally {
    cleanup(rogue, anon, cli, srv);
  }
});

test('secureSocketRoot: true with the default profile and socketRoot "/tmp/" uses the per-user root', T, async () => {
  const ipc = newIpc('dflt');
  ipc.config.secureSocketRoot = true;
  ipc.config.id = `sec-${process.pid}`;
  try {
    ipc.serve();
    assert.equal(ipc.server.path, `${v14SocketRoot()}app.${ipc.config.id}`);
    const started = nextEvent(ipc.server, 'start');
    ipc.server.start();
    await started;
  } finally {
    cleanup(ipc);
    rmSock(`${v14SocketRoot()}app.${ipc.config.id}`);
  }
});

test("a custom parser whose profile is 'assured' gets the assured transport rules (node-ipc 14)", async () => {
  const port = await freePort();
  const custom = { profile: 'assured', encode: (t) => `${t}\n`, read: (r, c) => r + c };
  const ipc = newIpc('c');
  ipc.config.parser = custom;
  ipc.serveNet('127.0.0.1', port);
  throwsCode(() => ipc.server.start(), 'ERR_IPC_ASSURED_TRANSPORT', 'TCP without TLS');
  const cli = newIpc('cc');
  Object.assign(cli.config, { parser: custom, maxRetries: 0 });
  throwsCode(() => cli.connectToNet('srv', '127.0.0.1', port), 'ERR_IPC_ASSURED_TRANSPORT', 'client without TLS');
  cleanup(cli);
});

test("a custom parser class whose instances say profile 'assured' gets node-ipc 14's per-user root", {
  ...T,
  skip: UNIX_SOCKETS_ONLY,
}, async () => {
  // node-ipc 14 asks the constructed parser (`this.parser.profile`), not the class: a class that
  // does not extend AssuredParser but sets `profile = 'assured'` on its instances is assured.
  const { Parser } = ipcModule;
  class Custom extends Parser {
    profile = 'assured';
  }
  const srv = newIpc('cls');
  srv.config.parser = Custom;
  srv.config.id = `cls-${process.pid}`;
  const cli = newIpc('clsc');
  cli.config.parser = Custom;
  const expected = `${v14SocketRoot()}app.${srv.config.id}`;
  try {
    srv.serve();
    assert.equal(srv.server.path, expected);
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await within(3000, 'server start', started);
    cli.connectTo(srv.config.id);
    assert.equal(cli.of[srv.config.id].path, expected, 'a client meets the server at the same path');
    await within(3000, 'client connect', nextEvent(cli.of[srv.config.id], 'connect'));
  } finally {
    cleanup(cli, srv);
    rmSock(expected);
  }
  // Only the instance counts, as in node-ipc 14: a static `profile` alone does not make it assured.
  class StaticOnly extends Parser {
    static profile = 'assured';
  }
  const plain = newIpc('st');
  plain.config.parser = StaticOnly;
  plain.config.id = `st-${process.pid}`;
  try {
    plain.serve();
    assert.equal(plain.server.path, `/tmp/app.${plain.config.id}`);
  } finally {
    cleanup(plain);
  }
});
