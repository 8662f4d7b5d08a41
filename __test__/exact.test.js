'use strict';

// The one-parse-per-read fast path is exact (issue #11): the events of a connection are exactly
// those of decoding each frame on its own. Frames whose text straddles the joining comma of the
// batch array must give errors, never messages, on servers and clients; and a seeded,
// time-bounded differential test feeds random frame sequences (valid, invalid, adversarial around
// commas, brackets, quotes and escapes) in random chunks and compares the events with per-frame
// decoding. Seed: NIRS_DIFF_SEED=<n>; duration: NIRS_DIFF_MS=<ms> (default 3000).

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { newIpc, tmpSock, startLocalServer, connectLocal, cleanup, until, rawPeer, delay } = require('./helpers.js');
const { PROTOTYPE_NAMES } = require('../lib/frames.js');

const T = { timeout: 30000 };

// Pairs (or triples) of frames that, joined as `[f1,f2,...]`, parse as as many well-formed messages
// as there are frames, though each frame on its own is invalid.
const ADVERSARIAL = [
  // the example: a string left open swallows the joining comma
  ['{"type":"ping","data":"', '"},{"type":"ping","data":{"phantom":1}}'],
  // an escaped quote keeps the string open across the comma
  ['{"type":"ping","data":"x\\"', '"},{"type":"ping","data":2}'],
  // an array left open takes the comma as its separator
  ['{"type":"ping","data":[0', '0]},{"type":"ping","data":1}'],
  // an object left open
  ['{"type":"ping","data":{"a":0', '"b":1}},{"type":"ping","data":3}'],
  // a top-level comma adds an element, a merge takes one away
  ['{"type":"ping","data":1},{"type":"ping","data":2}', '{"type":"ping","data":"', '"}'],
];

function collect(emitter) {
  const events = [];
  emitter.on('ping', (d) => events.push(['ping', d]));
  emitter.on('error', (e) => events.push(['error', e.code]));
  return events;
}

test('adversarial frame groups: errors, never messages (server side)', T, async () => {
  const srv = newIpc('s');
  const sock = tmpSock();
  let peer;
  try {
    const server = await startLocalServer(srv, sock);
    const events = collect(server);
    peer = await rawPeer(sock);
    for (const group of ADVERSARIAL) {
      events.length = 0;
      // One write: the frames arrive in one read and are batched together.
      peer.write(`${group.join('\f')}\f{"type":"end"}\f`);
      const ended = new Promise((r) => server.once('end', r));
      await ended;
      assert.deepEqual(
        events.map((e) => e[0]),
        group.map(() => 'error'),
        `group ${JSON.stringify(group)}`,
      );
      for (const e of events) assert.equal(e[1], 'ERR_IPC_INVALID_JSON');
    }
  } finally {
    if (peer) peer.destroy();
    cleanup(srv);
  }
});

test('adversarial frame groups: errors, never messages (client side)', T, async () => {
  const sock = tmpSock();
  const cli = newIpc('c');
  let conn;
  const srv = net.createServer((c) => {
    conn = c;
  });
  await new Promise((r) => srv.listen(sock, r));
  try {
    const client = await connectLocal(cli, 'w', sock);
    await until(() => conn, 'accept');
    const events = collect(client);
    for (const group of ADVERSARIAL) {
      events.length = 0;
      conn.write(`${group.join('\f')}\f{"type":"end"}\f`);
      await new Promise((r) => client.once('end', r));
      assert.deepEqual(
        events.map((e) => e[0]),
        group.map(() => 'error'),
        `group ${JSON.stringify(group)}`,
      );
    }
  } finally {
    cleanup(cli);
    if (conn) conn.destroy();
    srv.close();
  }
});

// ---- Differential test ----

// xorshift32: reproducible from the seed.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

// Pieces around the characters that move array boundaries.
const PIECES = [
  '"',
  '\\',
  '\\"',
  ',',
  '[',
  ']',
  '{',
  '}',
  ':',
  ' ',
  '0',
  '1',
  'x',
  'null',
  'true',
  '"type"',
  '"ping"',
  '"data"',
  'é',
  '\n',
];

// Two frames that join (with the batch's comma) into two valid messages: `m1,m2` cut at a comma
// inside a string, an array or an object instead of at the one between them.
function straddle(r) {
  const datas = [[1, 2, 3], 'a,b,c', { a: 1, b: [2, 3] }, ['x,y', 'z']];
  const m1 = JSON.stringify({ type: 'ping', data: datas[Math.floor(r() * datas.length)] });
  const m2 = JSON.stringify({ type: 'ping', data: datas[Math.floor(r() * datas.length)] });
  const t = `${m1},${m2}`;
  const commas = [];
  for (let i = 0; i < t.length; i++) if (t[i] === ',' && i !== m1.length) commas.push(i);
  const p = commas[Math.floor(r() * commas.length)];
  return [t.slice(0, p), t.slice(p + 1)];
}

// Invalid UTF-8 next to the characters that matter: decoded with U+FFFD on both paths.
const BAD_UTF8 = [[0xe2], [0xff, 0xfe], [0xc3], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80]];
function badUtf8(r) {
  const bytes = BAD_UTF8[Math.floor(r() * BAD_UTF8.length)];
  const [a, b] = [
    ['{"type":"ping","data":"a', '"}'],
    ['{"type":"ping","data":["', '",1]}'],
    ['{"type":"ping","data":"\\', '"}'],
    ['{"type":"ping","data":"', ''],
  ][Math.floor(r() * 4)];
  return Buffer.concat([Buffer.from(a), Buffer.from(bytes), Buffer.from(b)]);
}

function randomFrames(r) {
  const k = r();
  if (k < 0.05) return [badUtf8(r)];
  if (k < 0.08) return ADVERSARIAL[Math.floor(r() * ADVERSARIAL.length)];
  if (k < 0.16) return straddle(r);
  return [randomFrame(r)];
}

function randomFrame(r) {
  const k = r();
  if (k < 0.35) {
    // a good message
    const data = [1, 'a,b', 'q"x', [1, [2]], { a: '}' }, null, 'é\\', '', { id: 'x' }][Math.floor(r() * 9)];
    return JSON.stringify({ type: r() < 0.9 ? 'ping' : 'other', data });
  }
  if (k < 0.45) return ADVERSARIAL[Math.floor(r() * ADVERSARIAL.length)][Math.floor(r() * 2)];
  if (k < 0.55)
    return ['', 'null', '[1]', '123', '"s"', '{"data":7}', '{"type":5}', '{"type":"constructor"}', '1,2', '{}'][Math.floor(r() * 10)];
  // a message with random pieces spliced in somewhere
  let s = JSON.stringify({ type: 'ping', data: { v: 'abc', n: [1, 2] } });
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1));
    const cut = r() < 0.3 ? Math.floor(r() * 4) : 0;
    s = s.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)] + s.slice(at + cut);
  }
  return s;
}

// What decoding each frame on its own gives (node-ipc 9/12 semantics, lib/frames.js's rules).
function reference(frames) {
  const out = [];
  for (const frame of frames) {
    const f = typeof frame === 'string' ? frame : new TextDecoder().decode(frame);
    let msg;
    try {
      msg = JSON.parse(f);
    } catch {
      out.push(['error', 'ERR_IPC_INVALID_JSON', f]);
      continue;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) out.push(['error', 'ERR_IPC_INVALID_MESSAGE', f]);
    else if (typeof msg.type !== 'string' || PROTOTYPE_NAMES.has(msg.type)) out.push(['error', 'ERR_IPC_INVALID_EVENT', f]);
    else out.push(['msg', msg.type, JSON.stringify(msg.data)]);
  }
  return out;
}

test('differential: batch path == per-frame decoding on random frame sequences in random chunks', T, async () => {
  const seed = Number(process.env.NIRS_DIFF_SEED) || Date.now() % 1000000;
  const budget = Number(process.env.NIRS_DIFF_MS) || 3000;
  const r = rng(seed);
  const srv = newIpc('s');
  const sock = tmpSock();
  let peer;
  try {
    const server = await startLocalServer(srv, sock);
    peer = await rawPeer(sock);
    await until(() => server.sockets.length === 1, 'connect');
    const got = [];
    // Every event, whatever its type ('*' handlers get the type first).
    server.on('*', (type, d) => {
      if (type === 'error') got.push(['error', d.code, d.response]);
      else if (type === 'done') got.push(['done']);
      else got.push(['msg', type, JSON.stringify(d)]);
    });
    const t0 = Date.now();
    let rounds = 0;
    let frames = 0;
    while (Date.now() - t0 < budget) {
      rounds++;
      got.length = 0;
      const list = Array.from({ length: 1 + Math.floor(r() * 8) }, () => randomFrames(r)).flat();
      frames += list.length;
      const bytes = Buffer.concat([...list.flatMap((f) => [Buffer.from(f), Buffer.from('\f')]), Buffer.from('{"type":"done"}\f')]);
      // Random chunks, some written together, some a moment apart (separate reads).
      let at = 0;
      while (at < bytes.length) {
        const n = 1 + Math.floor(r() * (r() < 0.5 ? 8 : bytes.length));
        peer.write(bytes.subarray(at, at + n));
        at += n;
        if (r() < 0.2) await delay(1);
      }
      await until(() => got.length && got[got.length - 1][0] === 'done', `round ${rounds} (seed ${seed})`, 5000);
      got.pop();
      assert.deepEqual(got, reference(list), `seed ${seed}, round ${rounds}: ${JSON.stringify(list)}`);
    }
    assert.ok(rounds > 10, `${rounds} rounds, ${frames} frames`);
  } finally {
    if (peer) peer.destroy();
    cleanup(srv);
  }
});
