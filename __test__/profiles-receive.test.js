'use strict';

// node-ipc 14's receive-side checks (NODE_IPC_CONTRACT §7.2-§7.4) through the public API, for the
// server and the client, with raw `net` peers writing exact bytes. Each violation must give:
//   server: `error` (an IPCProtocolError, no socket argument) -> `socket.disconnected` -> `close`,
//           that connection closed, other connections untouched;
//   client: `error` -> `disconnect` -> `destroy`, no reconnect, ipc.of[id] kept.
// Frames before the bad one are delivered; frames after it are not.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ipcModule, within, until, delay, names, WINDOWS } = require('./helpers.js');
const { serverWithPeer, clientWithPeer, besideTimeoutControl } = require('./profile-helpers.js');

const T = { timeout: 15000 };
const ok = (n) => `{"type":"ok","data":${n}}\f`;

// [title, config, bytes, expected code, data of the `ok` messages delivered before the error]
const VIOLATIONS = [
  ['fast: malformed JSON', { parser: 'fast' }, `${ok(1)}{bad\f${ok(2)}`, 'ERR_IPC_INVALID_JSON', [1]],
  ['fast: empty frame', { parser: 'fast' }, `${ok(1)}\f${ok(2)}`, 'ERR_IPC_INVALID_JSON', [1]],
  ['fast: a leading delimiter', { parser: 'fast' }, `\f${ok(1)}`, 'ERR_IPC_INVALID_JSON', []],
  ['fast: two values in one frame', { parser: 'fast' }, '{"type":"ok","data":1},{"type":"ok","data":2}\f', 'ERR_IPC_INVALID_JSON', []],
  ['fast: null', { parser: 'fast' }, `${ok(1)}null\f`, 'ERR_IPC_INVALID_MESSAGE', [1]],
  ['fast: a number type', { parser: 'fast' }, '{"type":5}\f', 'ERR_IPC_INVALID_EVENT', []],
  ['guarded: an array', { parser: 'guarded' }, '[1,2]\f', 'ERR_IPC_INVALID_MESSAGE', []],
  ['guarded: no type', { parser: 'guarded' }, '{"data":7}\f', 'ERR_IPC_INVALID_EVENT', []],
  ['guarded: empty type', { parser: 'guarded' }, '{"type":""}\f', 'ERR_IPC_INVALID_EVENT', []],
  ['guarded: Object.prototype name', { parser: 'guarded' }, `${ok(1)}{"type":"constructor"}\f${ok(2)}`, 'ERR_IPC_INVALID_EVENT', [1]],
  ['guarded: __proto__', { parser: 'guarded' }, '{"type":"__proto__","data":{}}\f', 'ERR_IPC_INVALID_EVENT', []],
  ['guarded: long name', { parser: 'guarded', maxEventNameLength: 8 }, `${ok(1)}{"type":"ninechars"}\f`, 'ERR_IPC_EVENT_TOO_LARGE', [1]],
  ['guarded: long name in UTF-16 units', { parser: 'guarded', maxEventNameLength: 4 }, '{"type":"😀😀a"}\f', 'ERR_IPC_EVENT_TOO_LARGE', []],
  ['guarded: reserved name', { parser: 'guarded' }, `${ok(1)}{"type":"error","data":{}}\f`, 'ERR_IPC_RESERVED_EVENT', [1]],
  ['guarded: reserved socket.disconnected', { parser: 'guarded' }, '{"type":"socket.disconnected"}\f', 'ERR_IPC_RESERVED_EVENT', []],
  [
    'assured: not in allowedEvents',
    { parser: 'assured', allowedEvents: ['ok'] },
    `${ok(1)}{"type":"nope"}\f`,
    'ERR_IPC_EVENT_NOT_ALLOWED',
    [1],
  ],
  [
    'assured: reserved even when listed',
    { parser: 'assured', allowedEvents: new Set(['ok', 'connect']), allowReservedEvents: true },
    '{"type":"connect"}\f',
    'ERR_IPC_RESERVED_EVENT',
    [],
  ],
  [
    'guarded: frame over maxMessageSize',
    { parser: 'guarded', maxMessageSize: 64 },
    `${ok(1)}{"type":"ok","data":"${'x'.repeat(60)}"}\f`,
    'ERR_IPC_FRAME_TOO_LARGE',
    [1],
  ],
  [
    'guarded: multi-byte frame over maxMessageSize',
    { parser: 'guarded', maxMessageSize: 64 },
    `{"type":"ok","data":"${'é'.repeat(21)}"}\f`,
    'ERR_IPC_FRAME_TOO_LARGE',
    [],
  ],
  [
    'guarded: unfinished remainder over maxMessageSize',
    { parser: 'guarded', maxMessageSize: 64 },
    `${ok(1)}{"type":"ok","data":"${'x'.repeat(60)}`,
    'ERR_IPC_FRAME_TOO_LARGE',
    [1],
  ],
  [
    'assured: frame over the default 1 MiB',
    { parser: 'assured', allowedEvents: ['ok'] },
    `{"type":"ok","data":"${'x'.repeat(1024 * 1024)}"}\f`,
    'ERR_IPC_FRAME_TOO_LARGE',
    [],
  ],
];

// [title, config, bytes, events expected in order as [type, data]]
const ACCEPTED = [
  [
    'fast: names are not checked',
    { parser: 'fast' },
    '{"type":"constructor","data":1}\f{"type":"","data":2}\f',
    [
      ['constructor', 1],
      ['', 2],
    ],
  ],
  ['fast: frames far over 1 MiB', { parser: 'fast' }, `{"type":"ok","data":"${'x'.repeat(3 << 20)}"}\f`, [['ok', 'x'.repeat(3 << 20)]]],
  [
    'guarded: allowReservedEvents',
    { parser: 'guarded', allowReservedEvents: true },
    '{"type":"data","data":{"x":1}}\f',
    [['data', { x: 1 }]],
  ],
  [
    'guarded: a frame of exactly maxMessageSize bytes (UTF-8)',
    { parser: 'guarded', maxMessageSize: 64 },
    `{"type":"ok","data":"${'é'.repeat(20)}x"}\f`,
    [['ok', `${'é'.repeat(20)}x`]],
  ],
  [
    'guarded: a name of exactly maxEventNameLength',
    { parser: 'guarded', maxEventNameLength: 4 },
    '{"type":"😀😀","data":0}\f',
    [['😀😀', 0]],
  ],
  [
    'assured: an allowed name (Set)',
    { parser: 'assured', allowedEvents: new Set(['ok']) },
    `${ok(1)}${ok(2)}`,
    [
      ['ok', 1],
      ['ok', 2],
    ],
  ],
];

test('the accepted-size rows are what they say (frame bytes)', () => {
  assert.equal(Buffer.byteLength(`{"type":"ok","data":"${'é'.repeat(20)}x"}`), 64);
  assert.equal(Buffer.byteLength(`{"type":"ok","data":"${'é'.repeat(21)}"}`), 65);
  assert.equal(Buffer.byteLength(`{"type":"ok","data":"${'x'.repeat(60)}`), 81);
});

for (const [title, config, bytes, code, before] of VIOLATIONS) {
  const skip = WINDOWS && config.parser === 'assured' && 'assured cannot serve a Windows named pipe';
  test(`server, ${title}: ${code}, error -> socket.disconnected -> close, others untouched`, { ...T, skip }, async () => {
    const s = await serverWithPeer(config);
    try {
      const extra = [];
      s.server.on('error', (...args) => extra.push(args.length));
      s.peer.write(bytes);
      await within(
        5000,
        'socket.disconnected',
        until(() => names(s.log).includes('close'), 'close', 5000),
      );
      assert.deepEqual(
        s.log.filter((e) => e[0] === 'ok').map((e) => e[1]),
        before,
        'frames before the bad one',
      );
      assert.deepEqual(
        names(s.log).filter((n) => n !== 'ok'),
        ['error', 'socket.disconnected', 'close'],
      );
      const err = s.log.find((e) => e[0] === 'error')[1];
      assert.equal(err.name, 'IPCProtocolError');
      assert.ok(err instanceof ipcModule.IPCProtocolError);
      assert.equal(err.code, code);
      assert.deepEqual(extra, [1], 'no socket argument');
      await until(() => s.peer.closed, 'the peer sees the close');
      assert.equal(s.server.sockets.length, 1, 'the other connection stays');
      // The bystander is still served.
      const got = new Promise((r) => s.server.on('ok', (d) => d === 'still' && r()));
      s.bystander.write('{"type":"ok","data":"still"}\f');
      await within(3000, 'bystander message', got);
      assert.equal(s.bystander.closed, false);
    } finally {
      s.cleanup();
    }
  });

  test(`client, ${title}: ${code}, error -> disconnect -> destroy, no reconnect`, T, async () => {
    const c = await clientWithPeer(config, bytes);
    try {
      await within(
        5000,
        'destroy',
        until(() => names(c.log).includes('destroy'), 'destroy', 5000),
      );
      assert.deepEqual(
        c.log.filter((e) => e[0] === 'ok').map((e) => e[1]),
        before,
      );
      assert.deepEqual(
        names(c.log).filter((n) => n !== 'ok'),
        ['connect', 'error', 'disconnect', 'destroy'],
      );
      const err = c.log.find((e) => e[0] === 'error')[1];
      assert.equal(err.name, 'IPCProtocolError');
      assert.ok(err instanceof ipcModule.IPCProtocolError);
      assert.equal(err.code, code);
      assert.equal(c.client.protocolViolation, true);
      assert.equal(c.ipc.of.peer, c.client, 'ipc.of[id] stays');
      assert.equal(c.client.socket.destroyed, true);
      await delay(4 * c.ipc.config.retry);
      assert.equal(c.conns.length, 1, 'never reconnects');
    } finally {
      c.cleanup();
    }
  });
}

// Names are checked once, when a read first brings them (lib/frames.js acceptedPairs): a name
// the profile refuses in a later read still ends the connection, after the frames before it.
test('server, guarded: a refused name in a later read, after accepted ones', T, async () => {
  const s = await serverWithPeer({ parser: 'guarded' });
  try {
    s.peer.write(`${ok(1)}${ok(2)}`);
    await until(() => s.log.filter((e) => e[0] === 'ok').length === 2, 'the first read');
    s.peer.write(`${ok(3)}{"type":"error","data":{}}\f${ok(4)}`);
    await until(() => names(s.log).includes('close'), 'close', 5000);
    assert.deepEqual(
      s.log.filter((e) => e[0] === 'ok').map((e) => e[1]),
      [1, 2, 3],
    );
    assert.equal(s.log.find((e) => e[0] === 'error')[1].code, 'ERR_IPC_RESERVED_EVENT');
  } finally {
    s.cleanup();
  }
});

for (const [title, config, bytes, expected] of ACCEPTED) {
  const types = [...new Set(expected.map((e) => e[0]))];
  const skip = WINDOWS && config.parser === 'assured' && 'assured cannot serve a Windows named pipe';
  test(`server, ${title}: delivered, connection kept`, { ...T, skip }, async () => {
    const s = await serverWithPeer(config, types);
    try {
      s.peer.write(bytes);
      await until(() => s.log.filter((e) => types.includes(e[0])).length === expected.length, 'messages', 5000);
      await delay(20);
      assert.deepEqual(
        s.log.map((e) => [e[0], e[1]]),
        expected,
      );
      assert.equal(s.server.sockets.length, 2);
    } finally {
      s.cleanup();
    }
  });

  test(`client, ${title}: delivered, connection kept`, T, async () => {
    const c = await clientWithPeer(config, bytes, types);
    try {
      await until(() => c.log.filter((e) => types.includes(e[0]) && e[0] !== 'connect').length >= expected.length, 'messages', 5000);
      await delay(20);
      assert.deepEqual(
        c.log.filter((e) => !(e[0] === 'connect' && e[1] === undefined)).map((e) => [e[0], e[1]]),
        expected,
      );
      assert.equal(c.client.socket.destroyed, false);
    } finally {
      c.cleanup();
    }
  });
}

test('the default profile (parser unset) keeps node-ipc 9/12: bad frames are reported, the connection stays', T, async () => {
  const s = await serverWithPeer({});
  try {
    s.peer.write(`${ok(1)}{bad\f{"type":"error","data":{"x":1}}\f${ok(2)}`);
    await until(() => s.log.filter((e) => e[0] === 'ok').length === 2, 'both good frames');
    assert.deepEqual(names(s.log), ['ok', 'error', 'error', 'ok']);
    assert.equal(s.log[1][1].message, 'Invalid JSON response format');
    assert.deepEqual(s.log[2][1], { x: 1 }, 'a peer-sent `error` event is dispatched');
    assert.equal(s.server.sockets.length, 2);
  } finally {
    s.cleanup();
  }
});

test('a peer closing mid-frame under a profile: no error, the usual close (client retries)', T, async () => {
  const s = await serverWithPeer({ parser: 'guarded' });
  try {
    s.peer.end('{"type":"ok","da');
    await until(() => names(s.log).includes('close'), 'close');
    assert.deepEqual(names(s.log), ['socket.disconnected', 'close']);
  } finally {
    s.cleanup();
  }
  const c = await clientWithPeer({ parser: 'guarded' }, '{"type":"ok"');
  try {
    await until(() => c.conns.length === 1, 'connected');
    c.conns[0].end();
    await until(() => c.conns.length >= 2, 'a reconnect (not a protocol violation)');
    assert.equal(names(c.log).includes('error'), false);
    assert.equal(c.client.protocolViolation, false);
  } finally {
    c.cleanup();
  }
});

// messageTimeout (guarded/assured), enforced in the Rust core (src/inbound.rs) with one unref'd
// timer per thread. Tolerances are wide: each case tells "fires" from "never fires".
const steps = (first, every, n, what = ' ') => [[0, first], ...Array.from({ length: n }, () => [every, what])];

test('messageTimeout, server: an unfinished frame times out even while more partial bytes arrive', T, async () => {
  const s = await serverWithPeer({ parser: 'guarded', messageTimeout: 200 });
  try {
    const t0 = Date.now();
    s.peer.write('{"type":"ok","data":');
    const iv = setInterval(() => s.peer.writable && s.peer.write(' '), 40);
    try {
      await within(
        3000,
        'timeout',
        until(() => names(s.log).includes('close'), 'close', 3000),
      );
    } finally {
      clearInterval(iv);
    }
    assert.ok(Date.now() - t0 >= 190, 'not before messageTimeout');
    assert.deepEqual(names(s.log), ['error', 'socket.disconnected', 'close']);
    assert.equal(s.log[0][1].code, 'ERR_IPC_MESSAGE_TIMEOUT');
    assert.equal(s.server.sockets.length, 1, 'the other connection stays');
  } finally {
    s.cleanup();
  }
});

test('messageTimeout, client: times out with error -> disconnect -> destroy, no reconnect', T, async () => {
  const c = await clientWithPeer({ parser: 'assured', allowedEvents: ['ok'], messageTimeout: 150 }, steps('{"type":"ok"', 30, 40));
  try {
    await within(
      3000,
      'timeout',
      until(() => names(c.log).includes('destroy'), 'destroy', 3000),
    );
    assert.deepEqual(names(c.log), ['connect', 'error', 'disconnect', 'destroy']);
    assert.equal(c.log[1][1].code, 'ERR_IPC_MESSAGE_TIMEOUT');
    await delay(4 * c.ipc.config.retry);
    assert.equal(c.conns.length, 1);
  } finally {
    c.cleanup();
  }
});

test('messageTimeout: a remainder that empties in time clears the clock', T, async () => {
  // Each frame arrives in two halves 40 ms apart, then nothing is pending for 40 ms: a 500 ms
  // limit never fires over ~1.9 s (a clock that is not cleared would fire after 500 ms; the
  // margin keeps a loaded machine's delays from looking like a timeout).
  const halves = Array.from({ length: 24 }, (_, i) => [
    [40, '{"type":"ok","data":'],
    [40, `${i}}\f`],
  ]).flat();
  const c = await clientWithPeer({ parser: 'guarded', messageTimeout: 500 }, halves);
  try {
    await until(() => c.log.filter((e) => e[0] === 'ok').length === 24, 'all frames', 8000);
    await delay(200);
    assert.deepEqual(names(c.log), ['connect', ...Array(24).fill('ok')]);
  } finally {
    c.cleanup();
  }
});

test('messageTimeout: a stream that always leaves a remainder times out although frames keep completing', T, async () => {
  // node-ipc 14's rule: the clock only stops when the remainder is empty.
  const misaligned = Array.from({ length: 30 }, (_, i) => [40, `${i}}\f{"type":"ok","data":`]);
  const c = await clientWithPeer({ parser: 'guarded', messageTimeout: 200 }, [[0, '{"type":"ok","data":'], ...misaligned]);
  try {
    await within(
      3000,
      'timeout',
      until(() => names(c.log).includes('destroy'), 'destroy', 3000),
    );
    const oks = c.log.filter((e) => e[0] === 'ok').length;
    assert.ok(oks >= 2, `frames were delivered meanwhile (${oks})`);
    assert.deepEqual(
      names(c.log).filter((n) => n !== 'ok'),
      ['connect', 'error', 'disconnect', 'destroy'],
    );
    assert.equal(c.log.find((e) => e[0] === 'error')[1].code, 'ERR_IPC_MESSAGE_TIMEOUT');
  } finally {
    c.cleanup();
  }
});

test('messageTimeout: 0 disables it; fast and the default profile have none', T, async () => {
  // Beside a control with a 100 ms messageTimeout that does time out on the same unfinished frame.
  const configs = [{ parser: 'guarded', messageTimeout: 0 }, { parser: 'fast' }, {}];
  const { servers, cleanup } = await besideTimeoutControl(configs, { parser: 'guarded', messageTimeout: 100 }, '{"type":"ok"');
  try {
    // 0 is "off", not a fallback to node-ipc 14's 30 s default.
    assert.equal(servers[0].server._profile.messageTimeout, 0);
    for (const [i, s] of servers.entries()) {
      assert.deepEqual(names(s.log), [], JSON.stringify(configs[i]));
      s.peer.write('}\f');
    }
    for (const s of servers) await until(() => names(s.log).includes('ok'), 'the frame completes');
  } finally {
    cleanup();
  }
});

test('messageTimeout timers do not keep the process alive (node-ipc 14 unrefs them)', T, async () => {
  const { spawn } = require('node:child_process');
  const { ROOT, tmpSock, rmSock } = require('./helpers.js');
  const path = tmpSock('unref');
  const script = `
    const net = require('node:net');
    const ipc = new (require(${JSON.stringify(ROOT)}).IPC)();
    Object.assign(ipc.config, { silent: true, parser: 'guarded', messageTimeout: 60000 });
    const path = ${JSON.stringify(path)};
    ipc.serve(path);
    ipc.server.on('connect', (socket) => { socket.unref(); ipc.server.server.unref(); });
    ipc.server.on('start', () => {
      const c = net.connect(path, () => { c.write('{"type":"ok"'); c.unref(); });
    });
    ipc.server.start();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
  try {
    const code = await within(10000, 'child exit', new Promise((r) => child.on('exit', r)));
    assert.equal(code, 0);
  } finally {
    child.kill();
    rmSock(path); // the child exits with its server still listening
  }
});
