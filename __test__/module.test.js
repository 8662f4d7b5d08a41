'use strict';

// Module shape, config defaults, ipc.log, argument omission (NODE_IPC_CONTRACT §1-§3).

const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const { ROOT, newIpc, tmpSock, STREAM_MODE, NO_NATIVE } = require('./helpers.js');

const ipc = require(ROOT);

test('require gives the singleton, with default, IPC and IPCModule', () => {
  assert.equal(require(ROOT).default, ipc);
  assert.equal(typeof ipc.IPC, 'function');
  assert.equal(typeof ipc.IPCModule, 'function');
  assert.ok(ipc instanceof ipc.IPC);
  assert.deepEqual(Object.keys(ipc), ['config', 'of', 'server']);
  assert.equal(ipc.server, false);
  assert.deepEqual(ipc.of, {});
});

test('import gives the same singleton as require, with named exports', async () => {
  const mod = await import('node-ipc-rs');
  assert.equal(mod.default, ipc);
  assert.equal(mod.IPCModule, ipc.IPCModule);
  assert.equal(mod.IPC, ipc.IPC);
  const viaPath = await import(`${ROOT}/index.mjs`);
  assert.equal(viaPath.default, ipc);
});

test('independent instances do not share config, of or server', () => {
  const a = new ipc.IPC();
  const b = new ipc.IPCModule();
  a.config.id = 'a';
  assert.notEqual(a.config, b.config);
  assert.notEqual(b.config.id, 'a');
  assert.notEqual(a.of, b.of);
});

test('config has node-ipc 9/12 keys, order and defaults', () => {
  const c = new ipc.IPC().config;
  assert.deepEqual(Object.keys(c), [
    'appspace',
    'socketRoot',
    'id',
    'encoding',
    'rawBuffer',
    'sync',
    'unlink',
    'delimiter',
    'silent',
    'logDepth',
    'logInColor',
    'logger',
    'maxConnections',
    'retry',
    'maxRetries',
    'stopRetrying',
    'IPType',
    'tls',
    'networkHost',
    'networkPort',
    'readableAll',
    'writableAll',
    'interface',
  ]);
  assert.equal(c.appspace, 'app.');
  assert.equal(c.socketRoot, '/tmp/');
  assert.equal(c.id, os.hostname());
  assert.equal(c.encoding, 'utf8');
  assert.equal(c.rawBuffer, false);
  assert.equal(c.sync, false);
  assert.equal(c.unlink, true);
  assert.equal(c.delimiter, '\f');
  assert.equal(c.silent, false);
  assert.equal(c.logDepth, 5);
  assert.equal(c.logInColor, true);
  assert.equal(typeof c.logger, 'function');
  assert.equal(c.maxConnections, 100);
  assert.equal(c.retry, 500);
  assert.equal(c.maxRetries, Infinity);
  assert.equal(c.stopRetrying, false);
  assert.equal(c.IPType, '');
  assert.equal(c.tls, false);
  assert.equal(c.networkHost, '127.0.0.1');
  assert.equal(c.networkPort, 8000);
  assert.equal(c.readableAll, false);
  assert.equal(c.writableAll, false);
  assert.deepEqual(c.interface, { localAddress: false, localPort: false, family: false, hints: false, lookup: false });
});

test('methods are bound: destructured calls work', () => {
  const x = newIpc();
  const { serve, connectTo, disconnect } = x;
  serve('/tmp/never-started.sock');
  assert.equal(x.server.path, '/tmp/never-started.sock');
  connectTo(''); // falsy id: ignored
  disconnect('nobody');
  assert.deepEqual(x.of, {});
});

test('ipc.log inspects objects, joins with spaces, honours silent and the live settings', () => {
  const x = new ipc.IPC();
  const lines = [];
  x.config.logger = (s) => lines.push(s);
  x.config.logInColor = false;
  x.log('a', { b: { c: { d: 1 } } }, undefined, null, 3);
  assert.deepEqual(lines, ['a { b: { c: { d: 1 } } }  null 3']);
  x.config.logDepth = 0;
  x.log({ b: { c: 1 } });
  assert.equal(lines[1], '{ b: [Object] }');
  x.config.silent = true;
  x.log('nothing');
  assert.equal(lines.length, 2);
});

test('the library logs through config.logger unless silent', () => {
  const x = new ipc.IPC();
  const lines = [];
  x.config.logger = (s) => lines.push(s);
  x.connectTo('');
  assert.ok(lines.some((l) => l.includes('Service id required')));
});

test('serve: argument omission and default path', () => {
  const x = newIpc('world');
  let called = 0;
  x.serve(() => called++);
  assert.equal(x.server.path, '/tmp/app.world');
  assert.equal(x.server.port, undefined);
  x.server.publish('start');
  assert.equal(called, 1);
  x.serve('/tmp/other.sock');
  assert.equal(x.server.path, '/tmp/other.sock');
  x.config.socketRoot = '/var/run/';
  x.config.appspace = 'my.';
  x.serve();
  assert.equal(x.server.path, '/var/run/my.world');
});

test('serveNet: argument resolution table', () => {
  const x = newIpc();
  const host = x.config.networkHost;
  const port = x.config.networkPort;
  const cases = [
    [[], host, port, null],
    [[() => {}], host, port, null],
    [[3000], host, 3000, null],
    [[3000, () => {}], host, 3000, null],
    [['udp4'], host, port, 'udp4'],
    [['UDP6', () => {}], host, port, 'udp6'],
    [[3000, 'udp4', () => {}], host, 3000, 'udp4'],
    [['h'], 'h', port, null],
    [['h', () => {}], 'h', port, null],
    [['h', 3000], 'h', 3000, null],
    [['h', 3000, () => {}], 'h', 3000, null],
    [['h', 'udp4', () => {}], 'h', port, 'udp4'],
    [['h', 3000, 'udp6', () => {}], 'h', 3000, 'udp6'],
    [['::1', 3000, 'udp4'], '127.0.0.1', 3000, 'udp4'],
    [[0], host, 8000, null],
  ];
  for (const [args, wantHost, wantPort, udp] of cases) {
    x.serveNet(...args);
    const s = x.server;
    assert.equal(s.path, wantHost, `host for ${JSON.stringify(args)}`);
    assert.equal(s.port, wantPort, `port for ${JSON.stringify(args)}`);
    assert.equal(s.udp4, udp === 'udp4', `udp4 for ${JSON.stringify(args)}`);
    assert.equal(s.udp6, udp === 'udp6', `udp6 for ${JSON.stringify(args)}`);
  }
  x.serveNet('h', '3000');
  assert.equal(x.server.port, port);
  assert.equal(x.server['3000'], true);
});

test('serveNet registers the callback as a start handler', () => {
  const x = newIpc();
  let calls = 0;
  x.serveNet(3000, () => calls++);
  x.server.publish('start');
  x.server.publish('start');
  assert.equal(calls, 2);
});

test('connectTo: falsy id is ignored, callback not called', () => {
  const x = newIpc();
  for (const id of [undefined, '', 0, null]) {
    let called = false;
    x.connectTo(id, () => {
      called = true;
    });
    assert.equal(called, false);
  }
  assert.deepEqual(x.of, {});
});

test('connectTo: default path, synchronous callback with the instance, numeric ids', () => {
  const x = newIpc();
  x.config.maxRetries = 0;
  let arg;
  x.connectTo('world', (i) => {
    arg = i;
  });
  assert.equal(arg, x);
  assert.equal(x.of.world.path, '/tmp/app.world');
  assert.equal(x.of.world.id, 'world');
  assert.ok(x.of.world.socket, 'socket exists on return');
  x.connectTo(5, '/tmp/five.sock');
  assert.equal(x.of['5'].path, '/tmp/five.sock');
  x.connectTo('constructor', '/tmp/c.sock');
  x.connectTo('__proto__', '/tmp/p.sock');
  assert.equal(x.of.constructor.path, '/tmp/c.sock');
  assert.equal(Object.getPrototypeOf(x.of), Object.prototype);
  for (const id of Object.keys(x.of)) x.disconnect(id);
  assert.deepEqual(Object.keys(x.of), []);
});

test('connectToNet: argument resolution table', () => {
  const x = newIpc();
  x.config.maxRetries = 0;
  const host = x.config.networkHost;
  const port = x.config.networkPort;
  const fn = () => {};
  const cases = [
    [['id'], host, port],
    [['id', fn], host, port],
    [['id', 3000], host, 3000],
    [['id', 3000, fn], host, 3000],
    [['id', 'h'], 'h', port],
    [['id', 'h', fn], 'h', port],
    [['id', 'h', 3000, fn], 'h', 3000],
    [['id', 0], host, 8000],
  ];
  for (const [args, wantHost, wantPort] of cases) {
    x.connectToNet(...args);
    assert.equal(x.of.id.path, wantHost, JSON.stringify(args));
    assert.equal(x.of.id.port, wantPort, JSON.stringify(args));
    x.disconnect('id');
  }
  // A string where the callback goes is ignored (node-ipc threw or leaked a global).
  assert.doesNotThrow(() => x.connectToNet('id', 'h', 3000, 'udp4'));
  x.disconnect('id');
  let called = false;
  x.connectToNet('', () => {
    called = true;
  });
  assert.equal(called, false);
});

test('emitter API: on/once/off/publish, wildcard first, 9.x aliases, this = emitter', () => {
  const x = newIpc();
  x.serve('/tmp/unused.sock');
  const s = x.server;
  const seen = [];
  function typed(a, b) {
    seen.push(['typed', a, b, this === s]);
  }
  s.on('*', (type, ...args) => seen.push(['*', type, ...args]));
  s.on('ev', typed);
  s.once('ev', () => seen.push(['once']));
  s.publish('ev', 1, 2);
  s.publish('ev', 3);
  assert.deepEqual(seen, [['*', 'ev', 1, 2], ['typed', 1, 2, true], ['once'], ['*', 'ev', 3], ['typed', 3, undefined, true]]);
  seen.length = 0;
  s.off('ev', typed);
  s.publish('ev', 4);
  assert.deepEqual(seen, [['*', 'ev', 4]]);
  s.off('*', '*');
  s.subscribe('x', () => seen.push('sub'));
  s.trigger('x');
  s.unSubscribe('x', '*');
  s.trigger('x');
  assert.deepEqual(seen, [['*', 'ev', 4], 'sub']);
  assert.throws(() => s.on('y', 'not a function'), TypeError);
  // A handler added during a dispatch runs in that dispatch (event-pubsub 5).
  const order = [];
  s.on('z', () => {
    order.push(1);
    s.on('z', () => order.push(2));
  });
  s.publish('z');
  assert.deepEqual(order, [1, 2]);
});

test('wildcard handlers: added, removed one by one, by once, by reset and by off(), added again', () => {
  const x = newIpc();
  x.serve('/tmp/unused.sock');
  const s = x.server;
  const seen = [];
  const w = (type) => seen.push(type);
  s.on('*', w);
  s.publish('a');
  s.off('*', w);
  s.publish('b');
  s.once('*', w);
  s.publish('c');
  s.publish('d');
  s.on('*', w);
  s.reset();
  s.publish('e');
  s.on('*', w);
  s.reset('other');
  s.publish('f');
  s.on('*', w);
  s.reset('*');
  s.publish('g');
  s.on('*', w);
  s.off();
  s.publish('h');
  s.on('*', w);
  s.publish('i');
  assert.deepEqual(seen, ['a', 'c', 'f', 'i']);
});

test('invalid delimiter throws at construction', () => {
  const x = newIpc();
  x.config.delimiter = '';
  assert.throws(() => x.serve('/tmp/x.sock'), TypeError);
  x.config.maxRetries = 0;
  assert.throws(() => x.connectTo('a', '/tmp/x.sock'), TypeError);
});

// (The stream transport's local sockets are node:net's, whose servers load node:dgram with
// node:cluster.)
const NET_ONLY = (STREAM_MODE || NO_NATIVE) && 'the local socket goes through node:net in this pass';
test('node:net, node:dns and node:dgram load only when TCP or UDP is used', { skip: NET_ONLY }, () => {
  const { execFileSync } = require('node:child_process');
  // A child process: this one has loaded them already (the tests use TCP).
  const script = (tcp) => `
    const ipc = require(${JSON.stringify(ROOT)});
    ipc.config.silent = true;
    ipc.config.maxRetries = 0;
    const loaded = () => process.moduleLoadList.filter((m) => /^NativeModule (net|dns|dgram)$/.test(m)).map((m) => m.slice(13));
    const atRequire = loaded();
    const done = () => { console.log(JSON.stringify({ atRequire, after: loaded() })); process.exit(0); };
    ipc.serve${tcp ? 'Net' : ''}(${tcp ? "'127.0.0.1', 0" : JSON.stringify(tmpSock('lazy'))}, () => {
      ${tcp ? '' : "ipc.connectTo('me', ipc.server.path, () => ipc.of.me.on('connect', () => { ipc.server.stop(); done(); }));"}
    });
    ${tcp ? "ipc.server.on('start', () => setImmediate(() => { ipc.server.stop(); done(); }));" : ''}
    ipc.server.start();
    setTimeout(() => { console.log('timeout'); process.exit(1); }, 5000).unref();
  `;
  const run = (tcp) => JSON.parse(execFileSync(process.execPath, ['-e', script(tcp)], { timeout: 10000 }));
  const unix = run(false);
  assert.deepEqual(unix, { atRequire: [], after: [] });
  const tcp = run(true);
  assert.deepEqual(tcp.atRequire, []);
  assert.ok(tcp.after.includes('net'), `TCP loaded ${tcp.after}`);
});
