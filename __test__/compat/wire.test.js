'use strict';

// Byte-level check: what our client and our server write on the wire must be exactly what real
// node-ipc writes for the same emits, i.e. `{"type":T,"data":D}\f` per emit (UTF-8, no whitespace,
// `type` before `data`). The peer is a plain node:net server/client that records every byte.

const assert = require('node:assert/strict');
const net = require('node:net');
const { EventEmitter } = require('node:events');
const { after, describe, test } = require('node:test');

const { OURS, PEERS } = require('./impls.js');
const { Harness, WAIT_MS, delay, exitGuard, waitFor, withTimeout } = require('./helpers.js');
// (where a raw peer finds a local socket: node-ipc's pipe name on Windows)
const { localPath } = require('../../lib/stream.js');
const { PIECES, unicodeString } = require('./payloads.js');

const TEST_TIMEOUT = 15000;
const SETTLE_MS = 40; // after the expected frames, wait this long for unexpected extra bytes

// [type, data] pairs; a pair of length 1 means "emit(type)" with data omitted.
// CANONICAL: plain JSON values, where the expected bytes are also JSON.stringify({type,data})+'\f'.
const CANONICAL = [
  ['app.message', { id: 'hello', message: 'hi' }],
  ['unicode', { s: PIECES.join(''), nested: { a: { b: { c: [{}, [], 'é'] } } }, n: [0, -1, 2.5, 1e21] }],
  ['string', 'plain string with 😀 and \f and \n'],
  ['number', 42],
  ['array', [1, 'two', null, true, { three: 3 }]],
  ['big', unicodeString(100000)],
  ['type.with-odd:chars ✓', { ok: true }],
];

const emitter = new EventEmitter();
emitter.setMaxListeners(5);

// EDGE: data values node-ipc 9/12 rewrite or JSON drops; compared against real node-ipc only.
const EDGE = [
  ['omitted'],
  ['undefined', undefined],
  ['null', null],
  ['emptyString', ''],
  ['zero', 0],
  ['false', false],
  ['NaN', NaN],
  ['date', new Date(0)],
  ['droppedMembers', { a: undefined, f() {}, b: 1, nested: [undefined, () => 1] }],
  ['loneSurrogate', '\ud800x\udfff'],
  ['eventEmitterWithMaxListeners', emitter],
];

function formula(messages) {
  return Buffer.from(messages.map(([type, data]) => `${JSON.stringify({ type, data })}\f`).join(''), 'utf8');
}

function countDelims(chunks) {
  let n = 0;
  for (const c of chunks) for (const b of c) if (b === 0x0c) n++;
  return n;
}

function listenRaw(server, addr) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (addr.path) server.listen(addr.path, resolve);
    else server.listen(addr.port, addr.host, resolve);
  });
}

function doEmit(target, [type, ...rest]) {
  if (rest.length === 0) target.emit(type);
  else target.emit(type, rest[0]);
}

/** Bytes written by a client of `impl` for `messages`, captured by a plain node:net server. */
async function captureClient(impl, transport, messages) {
  const h = new Harness(transport);
  const chunks = [];
  const sockets = [];
  const raw = net.createServer((s) => {
    sockets.push(s);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => {});
  });
  try {
    const addr = await h.address(`wire-${impl.key}`);
    await listenRaw(raw, addr);
    if (!addr.path) addr.port = raw.address().port;
    const cli = await h.client(impl, { id: 'wire-peer', addr }, { hello: false });
    for (const m of messages) doEmit(cli.client, m);
    await waitFor(
      () => countDelims(chunks) >= messages.length,
      WAIT_MS,
      () =>
        `${cli.label}: expected ${messages.length} frames, saw ${countDelims(chunks)} delimiters in ${Buffer.concat(chunks).length} bytes`,
    );
    await delay(SETTLE_MS);
    assert.equal(sockets.length, 1, `${cli.label} opened ${sockets.length} connections`);
    return Buffer.concat(chunks);
  } finally {
    await h.cleanup();
    for (const s of sockets) s.destroy();
    await withTimeout(new Promise((r) => raw.close(r)), WAIT_MS, 'raw server did not close');
  }
}

/**
 * Bytes written by a server of `impl`: on connect it sends every message with
 * server.emit(socket, …), then the same messages with server.broadcast(…).
 */
async function captureServer(impl, transport, messages) {
  const h = new Harness(transport);
  const chunks = [];
  let sock;
  try {
    const srv = await h.server(impl, {
      setup(server) {
        server.on('connect', (socket) => {
          for (const m of messages) doEmit({ emit: (...a) => server.emit(socket, ...a) }, m);
          for (const m of messages) doEmit({ emit: (...a) => server.broadcast(...a) }, m);
        });
      },
    });
    sock = srv.addr.path ? net.connect(localPath(srv.addr.path)) : net.connect(srv.addr.port, srv.addr.host);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => {});
    await waitFor(
      () => countDelims(chunks) >= 2 * messages.length,
      WAIT_MS,
      () =>
        `${srv.label}: expected ${2 * messages.length} frames, saw ${countDelims(chunks)} delimiters; server events: ${srv.rec.summary()}`,
    );
    await delay(SETTLE_MS);
    return Buffer.concat(chunks);
  } finally {
    if (sock) sock.destroy();
    await h.cleanup();
  }
}

/** Compare frame by frame with a readable message, then byte for byte. */
function assertSameBytes(actual, expected, what) {
  const a = actual.toString('utf8').split('\f');
  const e = expected.toString('utf8').split('\f');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      const x = a[i] === undefined ? '(missing)' : a[i];
      const y = e[i] === undefined ? '(missing)' : e[i];
      let k = 0;
      while (k < x.length && x[k] === y[k]) k++;
      assert.fail(
        `${what}: frame #${i} differs at char ${k}:\n` +
          `  written : ${JSON.stringify(x.slice(Math.max(0, k - 30), k + 60))}${x.length > k + 60 ? '…' : ''}\n` +
          `  expected: ${JSON.stringify(y.slice(Math.max(0, k - 30), k + 60))}${y.length > k + 60 ? '…' : ''}`,
      );
    }
  }
  assert.ok(actual.equals(expected), `${what}: bytes differ (${actual.length} vs ${expected.length} bytes)`);
}

// ---- receive side: node-ipc frames arriving in awkward pieces --------------------------------

const SPLIT_FRAMES = [
  { i: 0, s: 'x😀中文\f\n' },
  { i: 1, big: unicodeString(5000) },
  { i: 2 },
  { i: 3, e: '🧪' },
  { i: 4, last: true },
].map((data) => ({ type: 'seq', data }));

/**
 * The bytes of SPLIT_FRAMES and the pieces to write them in: cuts inside a 4-byte UTF-8 character
 * (after each of its first three bytes), just before and just after a delimiter, inside a 3-byte
 * character, and one piece holding the tail of a frame, two whole frames and the head of the next.
 * The last piece ends with the delimiter (node-ipc 9/12 only deliver then).
 */
function splitPieces() {
  const frames = SPLIT_FRAMES.map((f) => Buffer.from(`${JSON.stringify(f)}\f`));
  const all = Buffer.concat(frames);
  const end0 = frames[0].length;
  const emoji = all.indexOf(Buffer.from('😀'));
  let mid1 = end0 + Math.floor(frames[1].length / 2);
  while ((all[mid1] & 0xc0) !== 0x80) mid1++; // a UTF-8 continuation byte
  const start4 = all.length - frames[4].length;
  const cuts = [emoji + 1, emoji + 2, emoji + 3, end0 - 1, end0, mid1, start4 + 5];
  const pieces = [];
  let prev = 0;
  for (const c of cuts) {
    pieces.push(all.subarray(prev, c));
    prev = c;
  }
  pieces.push(all.subarray(prev));
  return pieces;
}

async function writePieces(sock, pieces) {
  if (sock.setNoDelay) sock.setNoDelay(true);
  for (const p of pieces) {
    sock.write(p);
    await delay(10);
  }
}

/** What a client of `impl` receives when a plain node:net server writes splitPieces(). */
async function receiveAsClient(impl, transport) {
  const h = new Harness(transport);
  const sockets = [];
  const raw = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  try {
    const addr = await h.address(`split-${impl.key}`);
    await listenRaw(raw, addr);
    if (!addr.path) addr.port = raw.address().port;
    const cli = await h.client(impl, { id: 'split-peer', addr }, { hello: false });
    await waitFor(() => sockets.length === 1, WAIT_MS, 'raw server did not accept the client');
    await writePieces(sockets[0], splitPieces());
    await cli.rec.waitCount('seq', SPLIT_FRAMES.length);
    await delay(SETTLE_MS);
    return { data: cli.rec.data('seq'), errors: cli.rec.data('error'), label: cli.label };
  } finally {
    await h.cleanup();
    for (const s of sockets) s.destroy();
    await withTimeout(new Promise((r) => raw.close(r)), WAIT_MS, 'raw server did not close');
  }
}

/** What a server of `impl` receives when a plain node:net client writes splitPieces(). */
async function receiveAsServer(impl, transport) {
  const h = new Harness(transport);
  let sock;
  try {
    const srv = await h.server(impl);
    sock = srv.addr.path ? net.connect(localPath(srv.addr.path)) : net.connect(srv.addr.port, srv.addr.host);
    sock.on('error', () => {});
    await srv.rec.waitCount('connect', 1);
    await writePieces(sock, splitPieces());
    await srv.rec.waitCount('seq', SPLIT_FRAMES.length);
    await delay(SETTLE_MS);
    return { data: srv.rec.data('seq'), errors: srv.rec.data('error'), label: srv.label };
  } finally {
    if (sock) sock.destroy();
    await h.cleanup();
  }
}

function assertReceived(got, expected) {
  assert.deepStrictEqual(got.errors, [], `${got.label} reported errors`);
  assert.deepStrictEqual(
    got.data.map((d) => d && d.i),
    expected.map((d) => d.i),
    `${got.label}: frames missing or out of order`,
  );
  got.data.forEach((d, k) => assert.deepStrictEqual(d, expected[k], `${got.label}: frame ${k} differs`));
}

for (const transport of ['unix', 'tcp']) {
  describe(`receiving frames split at awkward places over ${transport}`, () => {
    const expected = SPLIT_FRAMES.map((f) => f.data);
    for (const peer of PEERS) {
      test(`${OURS.name} client decodes them like ${peer.name}`, { timeout: TEST_TIMEOUT }, async () => {
        assertReceived(await receiveAsClient(peer, transport), expected);
        assertReceived(await receiveAsClient(OURS, transport), expected);
      });
      test(`${OURS.name} server decodes them like ${peer.name}`, { timeout: TEST_TIMEOUT }, async () => {
        assertReceived(await receiveAsServer(peer, transport), expected);
        assertReceived(await receiveAsServer(OURS, transport), expected);
      });
    }
  });
}

// ---- send side -------------------------------------------------------------------------------

for (const transport of ['unix', 'tcp']) {
  describe(`wire bytes over ${transport}`, () => {
    for (const peer of PEERS) {
      test(`${OURS.name} client writes the same bytes as ${peer.name}: canonical frames`, { timeout: TEST_TIMEOUT }, async () => {
        const ref = await captureClient(peer, transport, CANONICAL);
        assertSameBytes(ref, formula(CANONICAL), `${peer.name} client vs {"type":T,"data":D}\\f (suite sanity)`);
        const ours = await captureClient(OURS, transport, CANONICAL);
        assertSameBytes(ours, ref, `${OURS.name} client vs ${peer.name} client`);
      });

      test(`${OURS.name} client writes the same bytes as ${peer.name}: edge data values (omitted/undefined/null/''/NaN/…)`, {
        timeout: TEST_TIMEOUT,
      }, async () => {
        const ref = await captureClient(peer, transport, EDGE);
        const ours = await captureClient(OURS, transport, EDGE);
        assertSameBytes(ours, ref, `${OURS.name} client vs ${peer.name} client`);
      });

      test(`${OURS.name} server writes the same bytes as ${peer.name}: server.emit(socket, …) and broadcast, canonical frames`, {
        timeout: TEST_TIMEOUT,
      }, async () => {
        const ref = await captureServer(peer, transport, CANONICAL);
        assertSameBytes(ref, formula(CANONICAL.concat(CANONICAL)), `${peer.name} server vs {"type":T,"data":D}\\f (suite sanity)`);
        const ours = await captureServer(OURS, transport, CANONICAL);
        assertSameBytes(ours, ref, `${OURS.name} server vs ${peer.name} server`);
      });

      test(`${OURS.name} server writes the same bytes as ${peer.name}: edge data values`, { timeout: TEST_TIMEOUT }, async () => {
        const ref = await captureServer(peer, transport, EDGE);
        const ours = await captureServer(OURS, transport, EDGE);
        assertSameBytes(ours, ref, `${OURS.name} server vs ${peer.name} server`);
      });
    }
  });
}

after(() => exitGuard());
