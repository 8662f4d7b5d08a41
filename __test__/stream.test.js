'use strict';

// The stream transport (issue #9): choosing it, node-ipc's clusterUnixSocket scenario, and the
// existing-stream API (connectToStream / serveStream) over a child process's stdio. The rest of
// the suite runs over it a second time in `npm test` (NODE_IPC_RS_TRANSPORT=stream).

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Duplex } = require('node:stream');
const { binding } = require('../lib/native.js');
const {
  newIpc,
  tmpSock,
  freePort,
  within,
  nextEvent,
  cleanup,
  rawPeer,
  until,
  delay,
  fixture: fx,
  record,
  names,
  NO_NATIVE,
} = require('./helpers.js');

const T = { timeout: 60000 };
const FIXTURES = path.join(__dirname, 'fixtures', 'stream');

test('config.transport = "stream": local and TCP servers listen through net.Server, clients through net.Socket', T, async () => {
  for (const tcp of [false, true]) {
    const srv = newIpc('srv');
    const cli = newIpc('cli');
    srv.config.transport = 'stream';
    cli.config.transport = 'stream';
    try {
      const port = tcp ? await freePort() : undefined;
      const where = tcp ? port : tmpSock();
      if (tcp) srv.serveNet('127.0.0.1', port);
      else srv.serve(where);
      const started = nextEvent(srv.server, 'start');
      srv.server.start();
      await started;
      assert.ok(srv.server.server instanceof net.Server, 'ipc.server.server is a net.Server');
      srv.server.on('ping', (d, socket) => srv.server.emit(socket, 'pong', { n: d.n, id: socket.id }));
      const connected = new Promise((r) => {
        if (tcp) cli.connectToNet('srv', '127.0.0.1', port, r);
        else cli.connectTo('srv', where, r);
      });
      await connected;
      const client = cli.of.srv;
      await nextEvent(client, 'connect');
      assert.equal(client.socket.constructor.name, 'StreamSocket');
      if (tcp) {
        assert.equal(client.socket.remoteAddress, '127.0.0.1');
        assert.equal(client.socket.remotePort, port);
      }
      const pongs = [];
      client.on('pong', (d) => pongs.push(d));
      for (let n = 0; n < 100; n++) client.emit('ping', { n, id: 'cli' });
      await until(() => pongs.length === 100, '100 pongs');
      assert.deepEqual(
        pongs.map((p) => p.n),
        [...Array(100).keys()],
      );
      assert.equal(pongs[99].id, 'cli');
    } finally {
      cleanup(cli, srv);
    }
  }
});

test('config.transport = "native" overrides NODE_IPC_RS_TRANSPORT', {
  ...T,
  skip: NO_NATIVE && 'no native transport in this pass',
}, async () => {
  const srv = newIpc('srv');
  srv.config.transport = 'native';
  const before = process.env.NODE_IPC_RS_TRANSPORT;
  process.env.NODE_IPC_RS_TRANSPORT = 'stream'; // read at each serve/connect
  try {
    srv.serve(tmpSock());
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    assert.ok(!(srv.server.server instanceof net.Server));
  } finally {
    if (before === undefined) delete process.env.NODE_IPC_RS_TRANSPORT;
    else process.env.NODE_IPC_RS_TRANSPORT = before;
    cleanup(srv);
  }
});

test('stream transport: the same bytes on the wire, oversize frames close the connection with ERR_IPC_FRAME_TOO_LARGE', T, async () => {
  const srv = newIpc('srv');
  srv.config.transport = 'stream';
  srv.config.maxMessageSize = 64;
  const sock = tmpSock();
  try {
    srv.serve(sock);
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    const got = [];
    srv.server.on('a', (d, socket) => {
      got.push(d);
      srv.server.emit(socket, 'b', { x: 'é' });
    });
    const peer = await rawPeer(sock);
    // One frame split across writes, two frames in one write.
    peer.write('{"type":"a","da');
    await delay(20);
    peer.write('ta":1}\f{"type":"a","data":2}\f');
    await until(() => got.length === 2 && peer.received.length > 0, 'frames');
    assert.deepEqual(got, [1, 2]);
    await until(() => peer.received.toString().split('\f').length === 3, 'two replies');
    assert.equal(peer.received.toString(), '{"type":"b","data":{"x":"é"}}\f{"type":"b","data":{"x":"é"}}\f');
    const errors = [];
    srv.server.on('error', (e) => errors.push(e.code));
    const closed = nextEvent(srv.server, 'socket.disconnected');
    peer.write(`{"type":"a","data":"${'y'.repeat(100)}"}\f`);
    await closed;
    assert.deepEqual(errors, ['ERR_IPC_FRAME_TOO_LARGE']);
    peer.destroy();
  } finally {
    cleanup(srv);
  }
});

test('node-ipc pipe names come from the core rule (contract §2.2, Q36)', () => {
  assert.equal(binding.pipePath('/tmp/app.world'), '\\\\.\\pipe\\tmp-app.world');
  assert.equal(binding.pipePath('/a/b/c'), '\\\\.\\pipe\\a-b-c');
  assert.equal(binding.pipePath('\\\\.\\pipe\\mine'), '\\\\.\\pipe\\mine');
});

test("node-ipc's clusterUnixSocket: two workers serve one path, a reconnecting client reaches both", T, async () => {
  const sock = tmpSock('cluster');
  const primary = spawn(process.execPath, [path.join(FIXTURES, 'cluster-server.js')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, SOCK: sock },
  });
  const lines = [];
  let buffered = '';
  primary.stdout.on('data', (d) => {
    buffered += d;
    let i = buffered.indexOf('\n');
    while (i !== -1) {
      lines.push(JSON.parse(buffered.slice(0, i)));
      buffered = buffered.slice(i + 1);
      i = buffered.indexOf('\n');
    }
  });
  // 'close', not 'exit': the primary's last stdout lines may still be in flight at 'exit'.
  const exited = new Promise((r) => primary.on('close', (code) => r(code)));
  const cli = newIpc('client');
  try {
    await within(
      15000,
      'both workers listening',
      until(() => lines.some((l) => l.event === 'ready'), 'ready', 15000),
    );
    assert.deepEqual(
      lines.filter((l) => l.event === 'start').map((l) => l.transport),
      ['Server', 'Server'],
    );
    // The example's client: connect, emit currentDate, disconnect; again every few hundred ms.
    const seen = new Set();
    for (let attempt = 0; attempt < 40 && seen.size < 2; attempt++) {
      const reply = await within(
        5000,
        'hello from a worker',
        new Promise((resolve) => {
          cli.connectTo('world', sock, () => {
            cli.of.world.on('connect', () => cli.of.world.emit('currentDate', { message: new Date().toISOString() }));
            cli.of.world.on('hello', (data) => resolve(data));
          });
        }),
      );
      seen.add(reply.pid);
      cli.disconnect('world');
      await delay(200);
    }
    const workers = new Set(lines.filter((l) => l.event === 'start').map((l) => l.worker));
    assert.equal(seen.size, 2, `replies came from ${[...seen]}`);
    assert.deepEqual([...seen].sort(), [...workers].sort());
    assert.deepEqual(
      lines.filter((l) => l.event === 'error'),
      [],
    );
    primary.stdin.end();
    assert.equal(await within(10000, 'primary exit', exited), 0);
    assert.ok(lines.some((l) => l.event === 'stopped'));
  } finally {
    cleanup(cli);
    primary.kill('SIGKILL');
  }
});

/** Runs the stdio child; resolves with its ipc.server-side socket and collected events. */
async function startStdioChild(srv, extraConfig) {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'stdio-child.js')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  Object.assign(srv.config, extraConfig);
  srv.serveStream({ readable: child.stdout, writable: child.stdin });
  const connected = nextEvent(srv.server, 'connect');
  const hello = nextEvent(srv.server, 'hello', 5000);
  srv.server.start();
  const [socket] = await connected;
  const [data, from] = await hello;
  assert.equal(from, socket);
  assert.equal(data.pid, child.pid);
  return { child, socket, stderr: () => stderr };
}

test('existing streams: a child process speaks node-ipc over its stdio, both ways', T, async () => {
  const srv = newIpc('parent');
  let child;
  try {
    const started = await startStdioChild(srv);
    child = started.child;
    const { socket } = started;
    assert.deepEqual(srv.server.sockets, [socket]);
    const pongs = [];
    srv.server.on('pong', (n) => pongs.push(n));
    for (let n = 0; n < 500; n++) srv.server.emit(socket, 'ping', n);
    await until(() => pongs.length === 500, '500 pongs', 10000);
    assert.deepEqual(pongs, [...Array(500).keys()]);
    // A malformed frame from the child: an error event (node-ipc 9/12 shape), connection kept.
    const errors = [];
    srv.server.on('error', (e, s) => errors.push([e.code, e.message, s === socket]));
    const after = nextEvent(srv.server, 'after');
    srv.server.emit(socket, 'bad');
    assert.deepEqual(await after, ['still here', socket]);
    assert.deepEqual(errors, [['ERR_IPC_INVALID_JSON', 'Invalid JSON response format', true]]);
    // Large messages both ways.
    const blob = nextEvent(srv.server, 'blob', 10000);
    srv.server.emit(socket, 'huge', 3 << 20);
    assert.equal((await blob)[0].length, 3 << 20);
    // The child exits when its stdin ends: the server sees the connection close.
    const gone = nextEvent(srv.server, 'socket.disconnected', 5000);
    child.stdin.end();
    await gone;
    assert.deepEqual(srv.server.sockets, []);
    const code = await new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', r)));
    assert.equal(code, 0);
    assert.match(started.stderr(), /child: disconnect/);
  } finally {
    if (child) child.kill('SIGKILL');
    cleanup(srv);
  }
});

test('existing streams: an oversize frame from the child closes that stream with ERR_IPC_FRAME_TOO_LARGE', T, async () => {
  const srv = newIpc('parent');
  let child;
  try {
    const started = await startStdioChild(srv, { maxMessageSize: 1024 });
    child = started.child;
    const errors = [];
    srv.server.on('error', (e) => errors.push(e.code));
    const gone = nextEvent(srv.server, 'socket.disconnected', 5000);
    srv.server.emit(started.socket, 'huge', 4096);
    await gone;
    assert.deepEqual(errors, ['ERR_IPC_FRAME_TOO_LARGE']);
    await within(5000, 'child exit', new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r))));
  } finally {
    if (child) child.kill('SIGKILL');
    cleanup(srv);
  }
});

/** Two Duplexes wired back to back; `wire`, if given, sees every chunk either side writes. */
function pair(wire) {
  const a = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      if (wire) wire.push(Buffer.from(chunk));
      b.push(chunk);
      cb();
    },
    final(cb) {
      b.push(null);
      cb();
    },
  });
  const b = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      if (wire) wire.push(Buffer.from(chunk));
      a.push(chunk);
      cb();
    },
    final(cb) {
      a.push(null);
      cb();
    },
  });
  return [a, b];
}

test('existing streams in one process: connectToStream and server.attach over a Duplex pair', T, async () => {
  const srv = newIpc('srv');
  const cli = newIpc('cli');
  try {
    srv.serveStream();
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    const [left, right] = pair();
    const connected = nextEvent(srv.server, 'connect');
    const socket = srv.server.attach(left);
    assert.equal((await connected)[0], socket);
    srv.server.on('q', (d, s) => srv.server.emit(s, 'a', d * 2));
    cli.connectToStream('srv', right);
    const client = cli.of.srv;
    const events = record(client, ['connect', 'disconnect', 'destroy']);
    await nextEvent(client, 'connect');
    const answers = [];
    client.on('a', (d) => answers.push(d));
    for (let i = 0; i < 10; i++) client.emit('q', i);
    await until(() => answers.length === 10, 'answers');
    assert.deepEqual(answers, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    // Closing the server's side ends the client: disconnect, then destroy (no retry).
    const destroyed = nextEvent(client, 'destroy');
    socket.end();
    await destroyed;
    assert.deepEqual(names(events), ['connect', 'disconnect', 'destroy']);
  } finally {
    cleanup(cli, srv);
  }
});

test('server.attach before start on a socket server: the server still listens, and the stream is served once started', T, async () => {
  const srv = newIpc('srv');
  const cli = newIpc('cli');
  const sockPath = tmpSock('attach-early');
  try {
    srv.serve(sockPath);
    const [left, right] = pair();
    assert.equal(srv.server.attach(left), undefined); // queued: the server has not started
    srv.server.on('q', (d, s) => srv.server.emit(s, 'a', d + 1));
    const connects = [];
    srv.server.on('connect', (s) => connects.push(s));
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    await until(() => connects.length === 1, 'the attached stream announced');
    // Over the socket path (the listener exists) ...
    cli.connectTo('srv', sockPath);
    await nextEvent(cli.of.srv, 'connect');
    const viaPath = nextEvent(cli.of.srv, 'a');
    cli.of.srv.emit('q', 1);
    assert.equal((await viaPath)[0], 2);
    // ... and over the attached stream.
    cli.connectToStream('str', right);
    await nextEvent(cli.of.str, 'connect');
    const viaStream = nextEvent(cli.of.str, 'a');
    cli.of.str.emit('q', 10);
    assert.equal((await viaStream)[0], 11);
  } finally {
    cleanup(cli, srv);
  }
});

test('existing streams with config.tls: serveStream/attach and connectToStream speak TLS (rustls on the pushed bytes)', T, async () => {
  const wire = [];
  const srv = newIpc('srv');
  const cli = newIpc('cli');
  const rogue = newIpc('rogue');
  srv.config.tls = { private: fx('server.key'), public: fx('server.pem') };
  cli.config.tls = { trustedConnections: fx('ca.pem') }; // verifies 'localhost' (no host to name)
  rogue.config.tls = { trustedConnections: fx('rogue-ca.pem') };
  try {
    srv.serveStream();
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    const [left, right] = pair(wire);
    const connected = nextEvent(srv.server, 'connect', 5000);
    const socket = srv.server.attach(left);
    cli.connectToStream('srv', right);
    const client = cli.of.srv;
    const clientConnected = nextEvent(client, 'connect', 5000);
    // `connect` on both sides once the handshake is done.
    assert.equal((await connected)[0], socket);
    await clientConnected;
    srv.server.on('q', (d, s) => srv.server.emit(s, 'a', `${d} secret-reply`));
    const answer = nextEvent(client, 'a');
    client.emit('q', 'secret-question');
    assert.deepEqual(await answer, ['secret-question secret-reply']);
    const bytes = Buffer.concat(wire);
    assert.equal(bytes[0], 0x16, 'a TLS handshake record first');
    assert.ok(!bytes.includes('secret'), 'no plaintext on the stream');
    // A client that does not trust the server: its error, then destroy; the server reports the
    // failed handshake and never announces the connection.
    const [l2, r2] = pair();
    const serverErr = nextEvent(srv.server, 'error', 5000);
    srv.server.attach(l2);
    const events = [];
    rogue.connectToStream('srv', r2);
    rogue.of.srv.on('error', (e) => events.push(`error:${e.code}`));
    rogue.of.srv.on('connect', () => events.push('connect'));
    await nextEvent(rogue.of.srv, 'destroy', 5000);
    assert.deepEqual(events, ['error:UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
    assert.match((await serverErr)[0].message, /TLS handshake with a client failed/);
    assert.deepEqual(srv.server.sockets, [socket]);
  } finally {
    cleanup(cli, rogue, srv);
  }
});

test('server.attach with config.tls: TLS clients of ours reach a net.Server whose sockets are attached', T, async () => {
  const srv = newIpc('srv');
  const cli = newIpc('cli');
  srv.config.tls = { private: fx('server-dns.key'), public: fx('server-dns.pem') };
  cli.config.tls = { trustedConnections: fx('ca.pem') };
  cli.config.maxRetries = 0;
  const plain = net.createServer((sock) => srv.server.attach(sock));
  try {
    srv.serveStream();
    const started = nextEvent(srv.server, 'start');
    srv.server.start();
    await started;
    await new Promise((r) => plain.listen(0, '127.0.0.1', r));
    srv.server.on('q', (d, s) => srv.server.emit(s, 'a', d));
    cli.connectToNet('srv', 'localhost', plain.address().port);
    const client = cli.of.srv;
    await nextEvent(client, 'connect', 5000);
    const answer = nextEvent(client, 'a');
    client.emit('q', { over: 'tls' });
    assert.deepEqual(await answer, [{ over: 'tls' }]);
  } finally {
    cleanup(cli, srv);
    plain.close();
  }
});

test('serveStream with a config.tls that cannot be used: an error event, no plaintext', T, async () => {
  const srv = newIpc('srv');
  srv.config.tls = { private: fx('missing.key'), public: fx('server.pem') };
  try {
    const [left] = pair();
    srv.serveStream(left);
    const err = nextEvent(srv.server, 'error');
    let connected = false;
    srv.server.on('connect', () => (connected = true));
    srv.server.start();
    assert.equal((await err)[0].code, 'ENOENT');
    await delay(20);
    assert.equal(connected, false);
  } finally {
    cleanup(srv);
  }
});

test('connectToStream / serveStream reject what is not a stream', () => {
  const x = newIpc('x');
  assert.throws(() => x.connectToStream('a', {}), TypeError);
  assert.throws(() => x.serveStream(42), TypeError);
});
