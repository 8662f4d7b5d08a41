'use strict';

// Raw-buffer mode: no framing, exact bytes in both directions, every encoding node-ipc accepts
// for sending (NODE_IPC_CONTRACT §5.5).

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  newIpc,
  tmpSock,
  freePort,
  startLocalServer,
  startTcpServer,
  connectLocal,
  connectTcp,
  cleanup,
  until,
  rawPeer,
  runScript,
  within,
} = require('./helpers.js');

const T = { timeout: 10000 };

function rawPair(encoding) {
  const srv = newIpc('s');
  const cli = newIpc('c');
  for (const i of [srv, cli]) {
    i.config.rawBuffer = true;
    i.config.encoding = encoding;
  }
  return [srv, cli];
}

test('client -> server: payload encodings as node-ipc converts them, received byte-exact', T, async () => {
  const cases = [
    ['utf8', 'héllo', Buffer.from('héllo', 'utf8')],
    ['hex', 'ffee00', Buffer.from([0xff, 0xee, 0x00])],
    ['hex', Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3])],
    ['base64', 'AQID', Buffer.from([1, 2, 3])],
    ['ascii', 'abc', Buffer.from('abc')],
    ['latin1', 'ÿþ', Buffer.from([0xff, 0xfe])],
    ['utf16le', 'ab', Buffer.from([0x61, 0, 0x62, 0])],
    ['utf8', [0xde, 0xad, 0xbe, 0xef, 0x80], Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x80])],
  ];
  for (const [encoding, payload, want] of cases) {
    const [srv, cli] = rawPair(encoding);
    const sock = tmpSock();
    try {
      const server = await startLocalServer(srv, sock);
      let got = Buffer.alloc(0);
      let sawSocket = false;
      server.on('data', (buf, socket) => {
        assert.ok(Buffer.isBuffer(buf));
        sawSocket = !!(socket && socket.write);
        got = Buffer.concat([got, buf]);
      });
      const client = await connectLocal(cli, 's', sock);
      client.emit(payload, 'ignored extra argument');
      await until(() => got.length >= want.length, `bytes for ${encoding}`);
      assert.deepEqual(got, want, `${encoding} ${JSON.stringify(payload)}`);
      assert.ok(sawSocket);
    } finally {
      cleanup(cli, srv);
    }
  }
});

test('raw: a number payload throws TypeError synchronously; hex text with no hex digits sends nothing', T, async () => {
  const [srv, cli] = rawPair('hex');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    let got = 0;
    server.on('data', (b) => (got += b.length));
    const client = await connectLocal(cli, 's', sock);
    assert.throws(() => client.emit(42), TypeError);
    client.emit('hello');
    client.emit('01');
    await until(() => got === 1, 'one byte');
  } finally {
    cleanup(cli, srv);
  }
});

test('server -> client: emit(socket, payload) and broadcast(payload), exact bytes including invalid UTF-8', T, async () => {
  const [srv, cli] = rawPair('utf8');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    const client = await connectLocal(cli, 's', sock);
    let got = Buffer.alloc(0);
    client.on('data', (buf) => (got = Buffer.concat([got, buf])));
    await until(() => server.sockets.length === 1, 'socket');
    server.emit(server.sockets[0], Buffer.from([0xc3, 0x28, 0xff]));
    server.broadcast([0x00, 0x80]);
    server.emit(server.sockets[0], 'ok');
    await until(() => got.length === 7, '7 bytes');
    assert.deepEqual(got, Buffer.from([0xc3, 0x28, 0xff, 0x00, 0x80, 0x6f, 0x6b]));
  } finally {
    cleanup(cli, srv);
  }
});

for (const transport of ['unix', 'tcp']) {
  // (over TCP a readiness event may read several blocks: see RAW_TCP_READS)
  test(`raw: a large payload arrives complete and in order (in transport-sized pieces; ${transport})`, T, async () => {
    const [srv, cli] = rawPair('utf8');
    const sock = tmpSock();
    try {
      const port = transport === 'tcp' ? await freePort() : 0;
      const server = transport === 'tcp' ? await startTcpServer(srv, port) : await startLocalServer(srv, sock);
      const chunks = [];
      server.on('data', (b) => chunks.push(b));
      const client = transport === 'tcp' ? await connectTcp(cli, 's', port) : await connectLocal(cli, 's', sock);
      const big = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >>> 12)) & 0xff;
      client.emit(big);
      await until(() => chunks.reduce((n, c) => n + c.length, 0) === big.length, 'all bytes');
      assert.ok(Buffer.concat(chunks).equals(big));
    } finally {
      cleanup(cli, srv);
    }
  });
}

test('raw: no framing — frames are not parsed, delimiters pass through', T, async () => {
  const [srv] = rawPair('utf8');
  const sock = tmpSock();
  let peer;
  try {
    const server = await startLocalServer(srv, sock);
    let got = '';
    server.on('data', (b) => (got += b.toString('latin1')));
    peer = await rawPeer(sock);
    const sent = '{"type":"x","data":1}\f{bad\f';
    peer.write(sent);
    await until(() => got.length === sent.length, 'bytes');
    assert.equal(got, sent);
  } finally {
    if (peer) peer.destroy();
    cleanup(srv);
  }
});

test('raw sync mode: each received chunk releases one queued message', T, async () => {
  const [srv, cli] = rawPair('utf8');
  cli.config.sync = true;
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    let received = '';
    server.on('data', (b, socket) => {
      received += b.toString();
      socket.write('k');
    });
    const client = await connectLocal(cli, 's', sock);
    client.emit('a');
    client.emit('b');
    client.emit('c');
    await until(() => received === 'abc', 'all three, one per reply');
  } finally {
    cleanup(cli, srv);
  }
});

// node-ipc copies a raw emit's bytes; node-ipc-rs writes large ones at once instead. Either way a
// buffer the caller changes right after emit must arrive as it was at the emit.
test('raw: a buffer changed right after emit arrives as it was (large and small, both directions, before connect)', T, async () => {
  const [srv, cli] = rawPair('utf8');
  const sock = tmpSock();
  const pattern = (n, seed) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
    return b;
  };
  try {
    const server = await startLocalServer(srv, sock);
    const atServer = [];
    server.on('data', (b) => atServer.push(b));
    // Before the connection is up, then after it, large (written at once) and small (batched).
    let early;
    cli.connectTo('s', sock, () => {
      early = pattern(100 * 1024, 1);
      const copy = Buffer.from(early);
      cli.of.s.emit(early);
      early.fill(0);
      early = copy;
    });
    const client = cli.of.s;
    await new Promise((resolve) => client.on('connect', resolve));
    const sent = [early];
    for (const n of [200 * 1024, 64 * 1024, 100]) {
      const b = pattern(n, n & 0xff);
      sent.push(Buffer.from(b));
      client.emit(b);
      b.fill(0);
    }
    const u8 = new Uint8Array(pattern(40 * 1024, 9));
    sent.push(Buffer.from(u8));
    client.emit(u8);
    u8.fill(0);
    const want = Buffer.concat(sent);
    await until(() => atServer.reduce((n, c) => n + c.length, 0) >= want.length, 'all bytes at the server');
    assert.ok(atServer.every((b) => Buffer.isBuffer(b)));
    assert.ok(Buffer.concat(atServer).equals(want), 'the server received the bytes as they were at emit');

    const atClient = [];
    client.on('data', (b) => atClient.push(b));
    const back = [];
    for (const n of [300 * 1024, 50]) {
      const b = pattern(n, 3);
      back.push(Buffer.from(b));
      server.emit(server.sockets[0], b);
      b.fill(0xaa);
    }
    const wantBack = Buffer.concat(back);
    await until(() => atClient.reduce((n, c) => n + c.length, 0) >= wantBack.length, 'all bytes at the client');
    assert.ok(Buffer.concat(atClient).equals(wantBack), 'the client received the bytes as they were at emit');
  } finally {
    cleanup(cli, srv);
  }
});

test('raw: each received Buffer holds only its own bytes, however the read filled it', T, async () => {
  const [srv] = rawPair('utf8');
  const sock = tmpSock();
  let peer;
  try {
    const server = await startLocalServer(srv, sock);
    const chunks = [];
    server.on('data', (b) => chunks.push(b));
    peer = await rawPeer(sock);
    // A short write (read into a Buffer of its own) and a long one (the read's Buffer is handed over).
    peer.write(Buffer.from('short'));
    await until(() => chunks.length === 1, 'the short chunk');
    assert.equal(chunks[0].toString(), 'short');
    assert.equal(chunks[0].length, 5);
    const long = Buffer.alloc(40 * 1024, 0x61);
    peer.write(long);
    await until(() => chunks.reduce((n, c) => n + c.length, 0) === 5 + long.length, 'the long chunk');
    assert.ok(Buffer.concat(chunks.slice(1)).equals(long));
    for (const c of chunks) assert.equal(c.toString('latin1').length, c.length);
    // Changing one received Buffer changes no other.
    chunks[1].fill(0x62);
    assert.equal(chunks[0].toString(), 'short');
  } finally {
    if (peer) peer.destroy();
    cleanup(srv);
  }
});

// A child process serves raw mode to a node:net peer that sends 8 MiB of known bytes in 64 KiB
// writes, then 8 MiB of 0xee, forcing garbage collections as it goes. The server keeps every
// other Buffer it receives. The native transport reads into blocks that come back for later
// reads once V8 frees the Buffer over them: a block reused while a kept Buffer still uses it
// would show the 0xee bytes (or later bytes of the pattern) in that Buffer.
const KEPT_BYTES_SCRIPT = (sock) => `
const net = require('node:net');
require('node:v8').setFlagsFromString('--expose-gc');
const gc = require('node:vm').runInNewContext('gc');
const CH = 65536, N = 128;
const pat = (off, len) => {
  const b = Buffer.allocUnsafe(len);
  for (let j = 0; j < len; j++) b[j] = ((off + j) * 31 + ((off + j) >>> 9)) & 0xff;
  return b;
};
ipc.config.rawBuffer = true;
ipc.config.id = 's';
const kept = [];
let got = 0, n = 0, big = 0;
const tick = () => new Promise((r) => setImmediate(r));
ipc.serve(${JSON.stringify(sock)}, () => {
  ipc.server.on('data', (b) => {
    if (b.length >= CH / 2) big++;
    if (n++ % 2 === 0) kept.push([got, b]);
    got += b.length;
  });
  const c = net.connect(${JSON.stringify(sock)}, async () => {
    let sent = 0;
    const send = async (buf) => {
      c.write(buf);
      sent += buf.length;
      while (got < sent) await tick();
    };
    const fill = Buffer.alloc(CH, 0xee);
    for (let i = 0; i < 2 * N; i++) {
      await send(i < N ? pat(sent, CH) : fill);
      if (i % 8 === 7) { gc(); await tick(); await tick(); }
    }
    const first = kept.filter(([off]) => off < N * CH);
    const bad = first.filter(([off, b]) => !b.equals(pat(off, b.length))).length;
    console.log(JSON.stringify({ kept: first.length, bad, big, got }));
    c.destroy();
    ipc.server.stop();
  });
});
ipc.server.start();
`;

for (const [name, env] of [
  ['', undefined],
  [' (Node Buffers: where Node-API refuses external ones, as in Electron)', { NIRS_NO_EXTERNAL_BUFFERS: '1' }],
]) {
  test(`raw: received Buffers keep their bytes while later reads reuse freed memory${name}`, T, async () => {
    const { child, exited } = runScript(KEPT_BYTES_SCRIPT(tmpSock()), env);
    try {
      const { code, out } = await within(9000, 'the child', exited);
      assert.equal(code, 0);
      const r = JSON.parse(out);
      assert.equal(r.got, 2 * 128 * 65536);
      assert.equal(r.bad, 0, `${r.bad} of ${r.kept} kept Buffers changed`);
      assert.ok(r.kept >= 32, `kept ${r.kept}`);
      assert.ok(r.big >= 32, `only ${r.big} reads of at least half a block`);
    } finally {
      child.kill();
    }
  });
}
