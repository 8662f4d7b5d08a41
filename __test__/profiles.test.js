'use strict';

// node-ipc 14's parser profiles through the public API (NODE_IPC_CONTRACT §1, §7): selection and
// TypeErrors, exports, the send side, identifyPeer, raw, custom parsers and MessageParser, UDP.
// The receive side is in profiles-receive.test.js, transports in profiles-assured.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const {
  ROOT,
  ipcModule,
  newIpc,
  tmpSock,
  within,
  until,
  delay,
  nextEvent,
  cleanup,
  freeUdpPort,
  record,
  names,
  protocolCode: codeOf,
} = require('./helpers.js');
const { serverWithPeer, clientWithPeer, besideTimeoutControl } = require('./profile-helpers.js');

const T = { timeout: 15000 };
const { IPCProtocolError, Parser, FastParser, RawParser, GuardedParser, AssuredParser } = ipcModule;

test('exports: require and import give the parser classes, IPCProtocolError and the subpaths', async () => {
  assert.equal(FastParser, Parser);
  for (const C of [Parser, RawParser, GuardedParser, AssuredParser, IPCProtocolError]) assert.equal(typeof C, 'function');
  assert.deepEqual(Object.keys(ipcModule), ['config', 'of', 'server'], 'the singleton keeps its own keys');
  const esm = await import('node-ipc-rs');
  for (const k of ['Parser', 'FastParser', 'RawParser', 'GuardedParser', 'AssuredParser', 'IPCProtocolError']) {
    assert.equal(esm[k], ipcModule[k], k);
  }
  const parsers = require('node-ipc-rs/parsers');
  const parsersEsm = await import('node-ipc-rs/parsers');
  for (const p of [parsers, parsersEsm]) {
    assert.equal(p.default, Parser);
    assert.equal(p.Parser, Parser);
    assert.equal(p.FastParser, Parser);
    assert.equal(p.GuardedParser, GuardedParser);
    assert.equal(p.AssuredParser, AssuredParser);
    assert.equal(p.RawParser, RawParser);
    assert.equal(p.IPCProtocolError, IPCProtocolError);
    assert.equal(typeof p.createParser, 'function');
    assert.deepEqual([...p.reservedEventTypes].sort(), [
      'close',
      'connect',
      'data',
      'destroy',
      'disconnect',
      'error',
      'socket.disconnected',
      'start',
    ]);
  }
  const message = require('node-ipc-rs/parsers/message');
  const messageEsm = await import('node-ipc-rs/parsers/message');
  assert.equal(message.MessageParser, messageEsm.MessageParser);
  assert.equal(messageEsm.default, message.MessageParser);
  assert.ok(new message.MessageParser() instanceof Parser);
  const e = new IPCProtocolError('ERR_IPC_X', 'why');
  assert.ok(e instanceof Error);
  assert.deepEqual([e.name, e.code, e.message], ['IPCProtocolError', 'ERR_IPC_X', 'why']);
  assert.equal(require(`${ROOT}/package.json`).exports['./parsers'].require.default, './parsers/index.js');
});

test('createParser: selection rules (rawBuffer, names, falsy, class, object) and TypeErrors', () => {
  const { createParser } = require('node-ipc-rs/parsers');
  const base = { delimiter: '\f', encoding: 'utf8' };
  assert.ok(createParser({ ...base, parser: 'raw' }) instanceof RawParser);
  assert.ok(createParser({ ...base, rawBuffer: true, parser: 'guarded' }) instanceof RawParser);
  assert.equal(Object.getPrototypeOf(createParser({ ...base, parser: 'fast' })), Parser.prototype);
  assert.equal(Object.getPrototypeOf(createParser({ ...base, parser: false })), Parser.prototype);
  assert.equal(Object.getPrototypeOf(createParser({ ...base, parser: 'guarded' })), GuardedParser.prototype);
  assert.ok(createParser({ ...base, parser: 'assured', allowedEvents: ['a'] }) instanceof AssuredParser);
  let seen;
  class Mine {
    constructor(config) {
      seen = config;
    }
    encode() {
      return '';
    }
    read(r) {
      return r;
    }
  }
  const cfg = { ...base, parser: Mine };
  assert.ok(createParser(cfg) instanceof Mine);
  assert.equal(seen, cfg, 'a class is constructed with the config');
  const obj = { encode: () => '', read: (r) => r };
  assert.equal(createParser({ ...base, parser: obj }), obj);
  for (const parser of ['bogus', {}, { encode() {} }, 5, () => ({})]) {
    assert.throws(() => createParser({ ...base, parser }), TypeError, String(parser));
  }
  assert.throws(() => createParser({ delimiter: '', parser: 'fast' }), TypeError);
  assert.throws(() => createParser({ delimiter: 5, parser: 'guarded' }), TypeError);
  assert.ok(createParser({ delimiter: '', parser: 'raw' }), 'raw ignores the delimiter');
  assert.throws(() => createParser({ ...base, parser: 'assured', allowedEvents: new Set() }), TypeError);
  assert.throws(() => createParser({ ...base, parser: 'guarded', maxPendingBytes: 2.5 }), TypeError);
  assert.equal(createParser({ ...base, parser: 'guarded', messageTimeout: 0 }).messageTimeout, 0);
  const g = createParser({ ...base, parser: 'guarded' });
  assert.deepEqual([g.maxMessageSize, g.maxPendingBytes, g.maxEventNameLength, g.messageTimeout], [1048576, 8388608, 256, 30000]);
});

test('serve/connectTo: an invalid parser config throws TypeError before anything is stored', () => {
  const ipc = newIpc('bad');
  for (const [key, value] of [
    ['parser', 'bogus'],
    ['parser', {}],
    ['delimiter', ''],
  ]) {
    const config = { parser: 'guarded', [key]: value };
    Object.assign(ipc.config, config);
    assert.throws(() => ipc.serve(tmpSock()), TypeError);
    assert.equal(ipc.server, false);
    assert.throws(() => ipc.serveNet(8123), TypeError);
    assert.throws(() => ipc.connectTo('x', tmpSock()), TypeError);
    assert.throws(() => ipc.connectToNet('y', 8123), TypeError);
    assert.deepEqual(Object.keys(ipc.of), []);
  }
  ipc.config.delimiter = '\f';
  ipc.config.parser = 'guarded';
  ipc.config.maxMessageSize = 0;
  assert.throws(() => ipc.serve(tmpSock()), /maxMessageSize/);
  ipc.config.maxMessageSize = Infinity;
  ipc.config.messageTimeout = -1;
  assert.throws(() => ipc.connectTo('z', tmpSock()), /messageTimeout/);
  ipc.config.messageTimeout = 0;
  ipc.config.parser = 'assured';
  assert.throws(() => ipc.serve(tmpSock()), /allowedEvents/);
  ipc.config.allowedEvents = 'ok';
  assert.throws(() => ipc.serve(tmpSock()), TypeError);
  assert.equal(ipc.server, false);
});

test('default config keys stay node-ipc 9/12; node-ipc 14 keys are read when set', () => {
  const ipc = newIpc();
  for (const k of [
    'parser',
    'identifyPeer',
    'maxMessageSize',
    'maxPendingBytes',
    'maxEventNameLength',
    'messageTimeout',
    'allowedEvents',
    'secureSocketRoot',
  ]) {
    assert.equal(k in ipc.config, false, k);
  }
});

test('send side (guarded/assured): violations throw synchronously, nothing is sent, the connection stays', T, async () => {
  const s = await serverWithPeer({ parser: 'guarded', maxMessageSize: 64, maxEventNameLength: 8 }, ['ok']);
  const cli = newIpc('c');
  Object.assign(cli.config, { parser: 'assured', allowedEvents: ['ok', 'connect'], maxMessageSize: 64 });
  try {
    cli.connectTo('srv', s.ipc.server.path);
    const client = cli.of.srv;
    await nextEvent(client, 'connect');
    const got = [];
    s.server.on('ok', (d) => got.push(d));
    // Client (assured).
    assert.equal(
      codeOf(() => client.emit('nope', 1)),
      'ERR_IPC_EVENT_NOT_ALLOWED',
    );
    assert.equal(
      codeOf(() => client.emit('connect')),
      'ERR_IPC_RESERVED_EVENT',
    );
    assert.equal(
      codeOf(() => client.emit('', 1)),
      'ERR_IPC_INVALID_EVENT',
    );
    assert.equal(
      codeOf(() => client.emit(5, 1)),
      'ERR_IPC_INVALID_EVENT',
    );
    // {"type":"ok","data":"…"} is 23 bytes plus the string: 41 bytes of content fill 64 exactly.
    assert.equal(
      codeOf(() => client.emit('ok', `${'é'.repeat(20)}xx`)),
      'ERR_IPC_FRAME_TOO_LARGE',
    );
    assert.equal(client.emit('ok', `${'é'.repeat(20)}x`), true, 'equal is accepted; emit returns the write result');
    // Server (guarded) to that client and to all.
    await until(() => got.length === 1, 'the accepted message');
    const clientSocket = s.server.sockets[2];
    assert.equal(
      codeOf(() => s.server.emit(clientSocket, 'toString', 1)),
      'ERR_IPC_INVALID_EVENT',
    );
    assert.equal(
      codeOf(() => s.server.emit(clientSocket, 'ninechars', 1)),
      'ERR_IPC_EVENT_TOO_LARGE',
    );
    assert.equal(
      codeOf(() => s.server.broadcast('error', { x: 1 })),
      'ERR_IPC_RESERVED_EVENT',
    );
    assert.equal(
      codeOf(() => s.server.broadcast('ok', 'x'.repeat(42))),
      'ERR_IPC_FRAME_TOO_LARGE',
    );
    const echoed = nextEvent(client, 'ok');
    assert.equal(s.server.emit(clientSocket, 'ok', 'back'), true);
    assert.deepEqual(await echoed, ['back']);
    assert.equal(s.server.broadcast('ok', 'all'), true);
    await until(() => s.peer.received.includes('"all"'), 'broadcast reached the raw peer');
    // Nothing of the refused emits reached anyone; every connection is still open.
    assert.equal(s.peer.received, '{"type":"ok","data":"all"}\f');
    assert.deepEqual(got, [`${'é'.repeat(20)}x`]);
    assert.equal(client.socket.destroyed, false);
    assert.equal(s.server.sockets.length, 3);
  } finally {
    cleanup(cli);
    s.cleanup();
  }
});

test('fast and raw: no send-side name checks; 14 encodes data as given (null, "", omitted → {})', T, async () => {
  const s = await serverWithPeer({});
  const cli = newIpc('c');
  cli.config.parser = 'fast';
  try {
    cli.connectTo('srv', s.ipc.server.path);
    await nextEvent(cli.of.srv, 'connect');
    await until(() => s.server.sockets.length === 3, 'connected');
    const frames = [];
    for (const t of ['connect', 'a', 'b', 'c', 'd']) s.server.on(t, (d) => frames.push([t, d]));
    cli.of.srv.emit('connect', 1);
    cli.of.srv.emit('a', null);
    cli.of.srv.emit('b', '');
    cli.of.srv.emit('c');
    cli.of.srv.emit('d', { _maxListeners: 5, x: 1 });
    await until(() => frames.length === 5, 'five messages');
    assert.deepEqual(frames, [
      ['connect', 1],
      ['a', null],
      ['b', ''],
      ['c', {}],
      ['d', { _maxListeners: 5, x: 1 }],
    ]);
  } finally {
    cleanup(cli);
    s.cleanup();
  }
});

test('identifyPeer: default profile learns socket.id; 14 profiles only with identifyPeer: true', T, async () => {
  for (const [config, learns] of [
    [{}, true],
    [{ identifyPeer: false }, false],
    [{ parser: 'fast' }, false],
    [{ parser: 'guarded' }, false],
    [{ parser: 'guarded', identifyPeer: true }, true],
  ]) {
    const s = await serverWithPeer(config, ['hello']);
    try {
      s.peer.write('{"type":"hello","data":{"id":"peer-1"}}\f');
      await until(() => names(s.log).includes('hello'), 'hello');
      const sock = s.log.find((e) => e[0] === 'hello')[2];
      assert.equal(sock.id, learns ? 'peer-1' : undefined, JSON.stringify(config));
      s.peer.destroy();
      await until(() => names(s.log).includes('socket.disconnected'), 'socket.disconnected');
      assert.equal(s.log.find((e) => e[0] === 'socket.disconnected')[2], learns ? 'peer-1' : false);
    } finally {
      s.cleanup();
    }
  }
});

test('the profile is chosen once: changing config afterwards does not affect existing endpoints', T, async () => {
  const s = await serverWithPeer({ parser: 'guarded' });
  try {
    s.ipc.config.parser = 'fast';
    s.ipc.config.allowReservedEvents = true;
    s.peer.write('{"type":"connect"}\f');
    await until(() => names(s.log).includes('close'), 'close');
    assert.equal(s.log[0][1].code, 'ERR_IPC_RESERVED_EVENT');
  } finally {
    s.cleanup();
  }
});

test('raw profile: exact bytes both ways as data events; emit(payload) writes Buffers as they are', T, async () => {
  const s = await serverWithPeer({ parser: 'raw', delimiter: '' }, ['data']);
  const c = await clientWithPeer({ parser: 'raw', encoding: 'hex' }, 'héllo', ['data']);
  try {
    s.peer.write(Buffer.from([0xff, 0x00, 0x0c, 0xfe]));
    await until(() => names(s.log).includes('data'), 'server data');
    assert.deepEqual([...s.log.find((e) => e[0] === 'data')[1]], [0xff, 0x00, 0x0c, 0xfe]);
    await until(() => names(c.log).includes('data'), 'client data');
    assert.deepEqual(c.log.find((e) => e[0] === 'data')[1], Buffer.from('héllo'));
    assert.equal(c.client.emit('ffee'), true, 'a string goes through config.encoding (hex)');
    c.client.emit(Buffer.from([0x0c, 0x80]));
    await until(() => c.conns[0].bytes.length === 4, 'raw bytes at the peer');
    assert.deepEqual([...c.conns[0].bytes], [0xff, 0xee, 0x0c, 0x80]);
    assert.throws(() => c.client.emit(5), TypeError);
  } finally {
    s.cleanup();
    c.cleanup();
  }
});

test('custom parser object: encode/read in JS over the raw bytes, remainder in socket.ipcBuffer', T, async () => {
  // A line protocol: "type data\n".
  const lines = {
    encoding: 'latin1',
    encode: (type, data) => `${type} ${JSON.stringify(data)}\n`,
    read(remainder, chunk, receive) {
      assert.equal(typeof chunk, 'string');
      const parts = (remainder + chunk).split('\n');
      const rest = parts.pop();
      for (const p of parts) {
        const i = p.indexOf(' ');
        receive({ type: p.slice(0, i), data: JSON.parse(p.slice(i + 1)) });
      }
      return rest;
    },
  };
  const s = await serverWithPeer({ parser: lines }, ['hi', 'bye']);
  const cli = newIpc('c');
  cli.config.parser = lines;
  try {
    s.peer.write('hi {"n":1}\nhi {"n"');
    await until(() => names(s.log).includes('hi'), 'first message');
    const sock = s.log[0][2];
    assert.equal(sock.ipcBuffer, 'hi {"n"', 'the remainder');
    s.peer.write(':2}\n');
    await until(() => s.log.filter((e) => e[0] === 'hi').length === 2, 'second message');
    assert.deepEqual(
      s.log.map((e) => e[1]),
      [{ n: 1 }, { n: 2 }],
    );
    assert.equal(sock.ipcBuffer, '');
    cli.connectTo('srv', s.ipc.server.path);
    await nextEvent(cli.of.srv, 'connect');
    const back = nextEvent(cli.of.srv, 'bye');
    s.server.on('hi', (d, so) => so !== sock && s.server.emit(so, 'bye', d));
    cli.of.srv.emit('hi', { n: 3 });
    assert.deepEqual(await back, [{ n: 3 }]);
  } finally {
    cleanup(cli);
    s.cleanup();
  }
});

test('custom parser: an IPCProtocolError from read() closes the connection as §7.4; other errors propagate', T, async () => {
  const strict = {
    encode: (t) => `${t}\n`,
    read(remainder, chunk, receive) {
      const text = remainder + chunk;
      if (text.includes('!')) throw new IPCProtocolError('ERR_IPC_CUSTOM', 'bang');
      const parts = text.split('\n');
      const rest = parts.pop();
      for (const p of parts) receive({ type: p, data: p.length });
      return rest;
    },
  };
  const s = await serverWithPeer({ parser: strict }, ['ok']);
  try {
    s.peer.write('ok\n!\n');
    await until(() => names(s.log).includes('close'), 'close');
    assert.deepEqual(names(s.log), ['error', 'socket.disconnected', 'close']);
    assert.equal(s.log[0][1].code, 'ERR_IPC_CUSTOM');
  } finally {
    s.cleanup();
  }
  const c = await clientWithPeer({ parser: strict }, 'ok\n!');
  try {
    await until(() => names(c.log).includes('destroy'), 'destroy');
    assert.deepEqual(names(c.log), ['connect', 'error', 'disconnect', 'destroy']);
    assert.equal(c.client.protocolViolation, true);
  } finally {
    c.cleanup();
  }
  // A message that is not {type: string} from a custom read() is refused, not dispatched.
  const loose = {
    encode: (t) => t,
    read(_remainder, chunk, receive) {
      receive(chunk === 'n' ? null : { type: 5 });
      return '';
    },
  };
  const s2 = await serverWithPeer({ parser: loose });
  try {
    s2.peer.write('n');
    await until(() => names(s2.log).includes('close'), 'close');
    assert.equal(s2.log[0][1].code, 'ERR_IPC_INVALID_MESSAGE');
  } finally {
    s2.cleanup();
  }
});

test('custom raw parser: chunks go to data events, read() is not used', T, async () => {
  const rawish = { raw: true, encode: (v) => Buffer.from(String(v)), read: () => assert.fail('read must not run') };
  const s = await serverWithPeer({ parser: rawish }, ['data']);
  try {
    s.peer.write('abc');
    await until(() => names(s.log).includes('data'), 'data');
    assert.equal(s.log[0][1].toString(), 'abc');
  } finally {
    s.cleanup();
  }
});

test(
  'custom parser messageTimeout (JS): starts with a remainder, not restarted by progress, cleared when empty, 0 disables',
  T,
  async () => {
    const mk = (messageTimeout) => ({
      messageTimeout,
      encode: (t) => `${t}\n`,
      read(remainder, chunk, receive) {
        const parts = (remainder + chunk).split('\n');
        const rest = parts.pop();
        for (const p of parts) receive({ type: p });
        return rest;
      },
    });
    // Progress every 40 ms never completes a message: a restarting timer would never fire.
    const c = await clientWithPeer({ parser: mk(200) }, [[0, 'o'], ...Array.from({ length: 60 }, () => [40, 'k'])], ['ok']);
    try {
      await within(
        2000,
        'the timeout despite progress',
        until(() => names(c.log).includes('destroy'), 'destroy', 2000),
      );
      assert.deepEqual(names(c.log), ['connect', 'error', 'disconnect', 'destroy']);
      assert.equal(c.log[1][1].code, 'ERR_IPC_MESSAGE_TIMEOUT');
    } finally {
      c.cleanup();
    }
    // A remainder that empties in time: no timeout.
    const s = await serverWithPeer({ parser: mk(1000) }, ['ok']);
    try {
      s.peer.write('o');
      await delay(50);
      s.peer.write('k\n');
      await until(() => names(s.log).includes('ok'), 'ok');
      await delay(1100); // past the timeout the remainder would have had
      assert.deepEqual(names(s.log), ['ok']);
    } finally {
      s.cleanup();
    }
    // 0 disables it: quiet beside a control (100 ms) that times out on the same remainder.
    const { servers, cleanup } = await besideTimeoutControl([{ parser: mk(0) }], { parser: mk(100) }, 'o');
    try {
      assert.deepEqual(names(servers[0].log), []);
      servers[0].peer.write('k\n');
      await until(() => names(servers[0].log).includes('ok'), 'ok');
    } finally {
      cleanup();
    }
  },
);

test('a subclass of GuardedParser runs in JS with its own rule added', T, async () => {
  class NoSecrets extends GuardedParser {
    validateType(type) {
      super.validateType(type);
      if (type.startsWith('secret')) throw new IPCProtocolError('ERR_IPC_SECRET', 'no secrets');
    }
  }
  const s = await serverWithPeer({ parser: NoSecrets }, ['ok']);
  try {
    s.peer.write('{"type":"ok","data":1}\f{"type":"secret.x"}\f');
    await until(() => names(s.log).includes('close'), 'close');
    assert.deepEqual(names(s.log), ['ok', 'error', 'socket.disconnected', 'close']);
    assert.equal(s.log[1][1].code, 'ERR_IPC_SECRET');
    assert.equal(
      codeOf(() => s.server.broadcast('connect')),
      'ERR_IPC_RESERVED_EVENT',
    );
  } finally {
    s.cleanup();
  }
});

test('MessageParser: malformed frames become `error` messages shaped like js-message; the connection stays', T, async () => {
  const { MessageParser } = require('node-ipc-rs/parsers/message');
  const s = await serverWithPeer({ parser: MessageParser }, ['ok']);
  try {
    s.peer.write('{"type":"ok","data":1}\f{bad\fnull\f{"type":"ok","data":2}\f');
    await until(() => s.log.filter((e) => e[0] === 'ok').length === 2, 'both good frames');
    assert.deepEqual(names(s.log), ['ok', 'error', 'error', 'ok']);
    const err = s.log[1][1];
    assert.equal(err.message, 'Invalid JSON response format');
    assert.equal(err.response, '{bad');
    assert.deepEqual(JSON.parse(JSON.stringify(err.err)), { name: 'SyntaxError', message: err.err.message });
    assert.equal(s.log[2][1].response, 'null');
    assert.equal(s.server.sockets.length, 2);
  } finally {
    s.cleanup();
  }
});

test('sync mode under a profile releases one queued message per received message (node-ipc 14)', T, async () => {
  const s = await serverWithPeer({ parser: 'guarded' }, ['q']);
  const cli = newIpc('c');
  Object.assign(cli.config, { parser: 'guarded', sync: true });
  try {
    cli.connectTo('srv', s.ipc.server.path);
    const client = cli.of.srv;
    await nextEvent(client, 'connect');
    const seen = [];
    s.server.on('q', (d) => seen.push(d));
    for (let i = 0; i < 4; i++) assert.equal(client.emit('q', i), true);
    await until(() => seen.length === 1, 'the first message');
    await delay(50);
    assert.deepEqual(seen, [0]);
    // Two replies in one chunk release two messages.
    const sock = s.server.sockets[2];
    sock.write('{"type":"r","data":1}\f{"type":"r","data":2}\f');
    await until(() => seen.length === 3, 'two released');
    await delay(50);
    assert.deepEqual(seen, [0, 1, 2]);
  } finally {
    cleanup(cli);
    s.cleanup();
  }
});

test('UDP under guarded: frames reassembled per peer, violations reset that peer and report, the peer stays', T, async () => {
  const srv = newIpc('udp');
  Object.assign(srv.config, { parser: 'guarded', maxMessageSize: 64 });
  const port = await freeUdpPort();
  const peer = dgram.createSocket('udp4');
  try {
    srv.serveNet('127.0.0.1', port, 'udp4');
    const log = record(srv.server, ['ok', 'error']);
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    await new Promise((r) => peer.bind(0, '127.0.0.1', r));
    const send = (text) => new Promise((r) => peer.send(text, port, '127.0.0.1', r));
    await send('{"type":"ok","da');
    await send('ta":1}\f');
    await until(() => log.length === 1, 'reassembled frame');
    await send('{"type":"connect"}\f{"type":"ok","data":"dropped"}\f');
    await until(() => log.length === 2, 'error');
    assert.equal(log[1][1].code, 'ERR_IPC_RESERVED_EVENT');
    await send('{"type":"ok","data":2}\f');
    await until(() => log.length === 3, 'the peer is still served');
    assert.deepEqual(
      log.map((e) => [e[0], e[0] === 'ok' ? e[1] : e[1].code]),
      [
        ['ok', 1],
        ['error', 'ERR_IPC_RESERVED_EVENT'],
        ['ok', 2],
      ],
    );
    // Replies go to the peer object handlers got.
    const reply = new Promise((r) => peer.once('message', (m) => r(String(m))));
    srv.server.emit(log[2][2], 'ok', 'back');
    assert.equal(await within(3000, 'reply', reply), '{"type":"ok","data":"back"}\f');
    assert.throws(() => srv.server.emit(log[2][2], 'error', 1), IPCProtocolError);
  } finally {
    peer.close();
    cleanup(srv);
  }
});

test(
  'maxPendingBytes per profile: guarded/assured 8 MiB by default, fast unaffected; over it ERR_IPC_BACKPRESSURE ends the connection',
  T,
  async () => {
    const payload = 'x'.repeat(1000000); // a frame just under guarded's 1 MiB maxMessageSize
    // guarded client, defaults: 8 frames (≈8.0 MB) fit in 8 MiB of unsent bytes, the 9th does not.
    const c = await clientWithPeer({ parser: 'guarded' }, '');
    try {
      await until(() => names(c.log).includes('connect'), 'connect');
      assert.equal(c.client.parser.maxPendingBytes, 8 * 1024 * 1024);
      const results = [];
      for (let i = 0; i < 9; i++) results.push(c.client.emit('ok', payload));
      assert.equal(c.client.socket.destroyed, true);
      assert.equal(results[8], false, 'the emit over the cap is refused');
      await until(() => names(c.log).includes('destroy'), 'destroy');
      assert.deepEqual(names(c.log), ['connect', 'error', 'disconnect', 'destroy']);
      assert.equal(c.log[1][1].code, 'ERR_IPC_BACKPRESSURE');
      assert.equal(c.client.protocolViolation, true);
      await delay(4 * c.ipc.config.retry);
      assert.equal(c.conns.length, 1, 'no reconnect');
    } finally {
      c.cleanup();
    }
    // fast: the same burst is within the 64 MiB default.
    const f = await clientWithPeer({ parser: 'fast' }, '');
    try {
      await until(() => names(f.log).includes('connect'), 'connect');
      for (let i = 0; i < 9; i++) f.client.emit('ok', payload);
      await until(() => f.conns[0] && f.conns[0].bytes.length >= 9 * 1000000, 'all nine frames arrive', 10000);
      assert.deepEqual(names(f.log), ['connect']);
    } finally {
      f.cleanup();
    }
    // guarded server with a smaller config.maxPendingBytes: that connection closes (error without a
    // socket argument, socket.disconnected, close), the other stays.
    const s = await serverWithPeer({ parser: 'guarded', maxPendingBytes: 100000 });
    try {
      const [first] = s.server.sockets;
      const extra = [];
      s.server.on('error', (...args) => extra.push(args.length));
      // The peer does not read: the kernel takes a few hundred KiB, the rest stays unsent.
      s.peer.pause();
      let sent = 0;
      while (!first.destroyed && sent < 200) {
        s.server.emit(first, 'ok', 'y'.repeat(30000));
        sent++;
      }
      assert.ok(first.destroyed && sent < 200, `closed after ${sent} emits`);
      await until(() => names(s.log).includes('close'), 'close');
      assert.deepEqual(names(s.log), ['error', 'socket.disconnected', 'close']);
      assert.equal(s.log[0][1].code, 'ERR_IPC_BACKPRESSURE');
      assert.deepEqual(extra, [1]);
      assert.equal(s.server.sockets.length, 1);
    } finally {
      s.cleanup();
    }
  },
);

test("a custom parser's maxPendingBytes caps unsent bytes (ERR_IPC_BACKPRESSURE); without one the default cap applies", T, async () => {
  const lines = (extra) => ({
    ...extra,
    encode: (type, data) => `${type} ${data}\n`,
    read: (remainder, chunk) => remainder + chunk,
  });
  const c = await clientWithPeer({ parser: lines({ maxPendingBytes: 50000 }) }, '');
  try {
    await until(() => names(c.log).includes('connect'), 'connect');
    // One tick of emits, far more than the kernel's socket buffer takes (the peer, in this
    // process, reads only between ticks): the unsent bytes pass the cap and that emit is refused.
    const results = [];
    for (let i = 0; i < 100; i++) results.push(c.client.emit('big', 'z'.repeat(20000)));
    assert.equal(results.at(-1), false);
    await until(() => names(c.log).includes('destroy'), 'destroy');
    assert.deepEqual(names(c.log), ['connect', 'error', 'disconnect', 'destroy']);
    assert.equal(c.log[1][1].code, 'ERR_IPC_BACKPRESSURE');
  } finally {
    c.cleanup();
  }
  const d = await clientWithPeer({ parser: lines({}) }, '');
  try {
    await until(() => names(d.log).includes('connect'), 'connect');
    for (let i = 0; i < 3; i++) d.client.emit('big', 'z'.repeat(20000));
    await until(() => d.conns[0] && d.conns[0].bytes.length >= 3 * 20005, 'all three arrive');
    assert.deepEqual(names(d.log), ['connect']);
  } finally {
    d.cleanup();
  }
});
