'use strict';

// The socket facade's controls do what Node's do (issue #11): ref/unref decide whether a
// connection or listener keeps the process alive, setTimeout reports idleness, pause/resume stop
// and restart reading (the peer backs up), plus address(), local*, bytesRead/bytesWritten and
// ipc.server.server.getConnections(). Keepalive: the kernel's keepalive timer is checked here
// (/proc/net/tcp), the socket options themselves in Rust (tests/sockopt.rs, getsockopt).

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  runScript,
  newIpc,
  tmpSock,
  freePort,
  nextEvent,
  startLocalServer,
  startTcpServer,
  connectLocal,
  connectTcp,
  cleanup,
  within,
  until,
  delay,
} = require('./helpers.js');

const T = { timeout: 20000 };

const run = runScript;

/** Waits until the child printed `word`. */
function printed(child, word) {
  return within(
    8000,
    `the child to print ${word}`,
    new Promise((resolve) => {
      let seen = '';
      child.stdout.on('data', (d) => {
        seen += d;
        if (seen.includes(word)) resolve();
      });
    }),
  );
}

test('a connected client whose socket is unref()d lets its process exit by itself', T, async () => {
  const srv = newIpc('s');
  const sock = tmpSock();
  const { child, exited } = run(`
    ipc.connectTo('w', ${JSON.stringify(sock)}, () => {
      ipc.of.w.on('connect', () => { ipc.of.w.socket.unref(); console.log('connected'); });
    });`);
  try {
    await startLocalServer(srv, sock);
    const r = await within(8000, 'the client process to exit', exited);
    assert.equal(r.code, 0);
    assert.match(r.out, /connected/);
  } finally {
    child.kill('SIGKILL');
    cleanup(srv);
  }
});

test('ref() after unref() keeps the client process alive again', T, async () => {
  const srv = newIpc('s');
  const sock = tmpSock();
  const { child, exited } = run(`
    ipc.connectTo('w', ${JSON.stringify(sock)}, () => {
      ipc.of.w.on('connect', () => { ipc.of.w.socket.unref(); ipc.of.w.socket.ref(); console.log('connected'); });
    });`);
  try {
    await startLocalServer(srv, sock);
    await printed(child, 'connected');
    await delay(700);
    assert.equal(child.exitCode, null, 'still running');
  } finally {
    child.kill('SIGTERM');
    await exited;
    cleanup(srv);
  }
});

test('unref() before the connection exists applies once it does', T, async () => {
  const srv = newIpc('s');
  const sock = tmpSock();
  const { child, exited } = run(`
    ipc.connectTo('w', ${JSON.stringify(sock)}, () => {
      ipc.of.w.socket.unref();
      ipc.of.w.on('connect', () => console.log('connected'));
    });`);
  try {
    await startLocalServer(srv, sock);
    const r = await within(8000, 'the client process to exit', exited);
    assert.equal(r.code, 0);
  } finally {
    child.kill('SIGKILL');
    cleanup(srv);
  }
});

test('an unref()d listener and its unref()d connections do not keep the server process alive', T, async () => {
  const sock = tmpSock();
  const { child, exited } = run(`
    ipc.serve(${JSON.stringify(sock)}, () => console.log('listening'));
    ipc.server.on('connect', (s) => { s.unref(); console.log('accepted'); });
    ipc.server.start();
    ipc.server.server.unref();
    // a client in this process, unref'd too
    const c = new ipc.IPC(); c.config.silent = true;
    c.connectTo('w', ${JSON.stringify(sock)}, () => c.of.w.on('connect', () => c.of.w.socket.unref()));`);
  try {
    const r = await within(8000, 'the server process to exit', exited);
    assert.equal(r.code, 0);
    assert.match(r.out, /accepted/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('setTimeout: timeout after idleness, not while active; 0 turns it off', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    const connected = nextEvent(server, 'connect');
    const client = await connectLocal(cli, 'w', sock);
    const [serverSide] = await connected;
    let timeouts = 0;
    const t0 = Date.now();
    let firstAt = 0;
    let cbCalls = 0;
    client.socket.on('timeout', () => {
      timeouts++;
      if (!firstAt) firstAt = Date.now() - t0;
    });
    client.socket.setTimeout(400, () => cbCalls++); // the callback is a once('timeout') listener
    assert.equal(client.socket.timeout, 400);
    // Activity every 40 ms for 800 ms (twice the timeout): no timeout.
    for (let i = 0; i < 20; i++) {
      serverSide.write('{"type":"x","data":1}\f');
      await delay(40);
    }
    assert.equal(timeouts, 0, 'no timeout while data flows');
    await until(() => timeouts === 1, 'timeout after idleness');
    assert.ok(firstAt >= 1100, `fired at ${firstAt} ms, after the activity`);
    await delay(600);
    assert.equal(timeouts, 1, 'once per idle period');
    // Activity re-arms it.
    serverSide.write('{"type":"x","data":1}\f');
    await until(() => timeouts === 2, 'timeout after the next idle period');
    assert.equal(cbCalls, 1);
    client.socket.setTimeout(0);
    serverSide.write('{"type":"x","data":1}\f');
    await delay(600);
    assert.equal(timeouts, 2, 'off after setTimeout(0)');
    assert.equal(client.socket.destroyed, false, 'a timeout does not close the socket');
    assert.throws(() => client.socket.setTimeout(-1), { code: 'ERR_OUT_OF_RANGE' });
  } finally {
    cleanup(srv, cli);
  }
});

test('pause() stops delivery and the peer backs up; resume() delivers everything in order', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    const got = [];
    server.on('big', (d) => got.push(d.i));
    const connected = nextEvent(server, 'connect');
    const client = await connectLocal(cli, 'w', sock);
    const [serverSide] = await connected;
    serverSide.pause();
    assert.equal(serverSide.isPaused(), true);
    const pad = 'p'.repeat(16 * 1024);
    let sent = 0;
    let ok = true;
    while (ok && sent < 20000) {
      ok = client.emit('big', { i: sent++, pad });
      if (sent % 8 === 0) await delay(1);
    }
    assert.equal(ok, false, "the client's writes backed up");
    await delay(100);
    assert.equal(got.length, 0, 'nothing delivered while paused');
    serverSide.resume();
    await until(() => got.length === sent, 'everything after resume', 10000);
    assert.deepEqual(
      got,
      Array.from({ length: sent }, (_, i) => i),
    );
  } finally {
    cleanup(srv, cli);
  }
});

test('TCP: address(), localAddress/localPort, remote*, bytesRead/bytesWritten, getConnections()', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const port = await freePort();
  try {
    const server = await startTcpServer(srv, port);
    assert.deepEqual(server.server.address(), { address: '127.0.0.1', family: 'IPv4', port });
    const connected = nextEvent(server, 'connect');
    const client = await connectTcp(cli, 'w', port);
    const [serverSide] = await connected;
    const a = client.socket.address();
    assert.equal(a.address, '127.0.0.1');
    assert.equal(a.family, 'IPv4');
    assert.equal(client.socket.localAddress, '127.0.0.1');
    assert.equal(client.socket.localPort, a.port);
    assert.equal(serverSide.remotePort, a.port);
    assert.equal(serverSide.localPort, port);
    assert.equal(client.socket.remotePort, port);
    const got = nextEvent(server, 'hello');
    client.emit('hello', { n: 1 });
    await got;
    const frame = Buffer.byteLength('{"type":"hello","data":{"n":1}}\f');
    assert.equal(client.socket.bytesWritten, frame);
    assert.equal(serverSide.bytesRead, frame);
    // setKeepAlive/setNoDelay apply to TCP sockets (their effect is checked in tests/sockopt.rs).
    assert.equal(client.socket.setKeepAlive(true, 1000), client.socket);
    assert.equal(client.socket.setNoDelay(false), client.socket);
    const n = await new Promise((resolve, reject) => server.server.getConnections((err, count) => (err ? reject(err) : resolve(count))));
    assert.equal(n, 1);
    // Counts stay readable after close, as in Node.
    const closed = nextEvent(serverSide, 'close');
    cli.disconnect('w');
    await closed;
    assert.equal(serverSide.bytesRead, frame);
    const n2 = await new Promise((resolve) => server.server.getConnections((_e, count) => resolve(count)));
    assert.equal(n2, 0);
  } finally {
    cleanup(srv, cli);
  }
});

test('local sockets: address() is {} (as in Node), keepalive/no-delay are accepted and change nothing', T, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    assert.equal(server.server.address(), sock);
    const client = await connectLocal(cli, 'w', sock);
    assert.deepEqual(client.socket.address(), {});
    assert.equal(client.socket.localPort, undefined);
    assert.equal(client.socket.setKeepAlive(true, 1000), client.socket);
    assert.equal(client.socket.setNoDelay(true), client.socket);
    const got = nextEvent(server, 'after');
    client.emit('after', 1);
    await got;
  } finally {
    cleanup(srv, cli);
  }
});

// /proc/net/tcp's `tr:tm->when` column: timer 02 is the keepalive timer of an idle connection.
function tcpTimer(localPort) {
  const hex = `:${localPort.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of require('node:fs').readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] && f[1].endsWith(hex)) return f[5];
  }
  return undefined;
}

test('setKeepAlive arms the kernel keepalive timer of an idle TCP connection (Linux)', {
  ...T,
  skip: process.platform !== 'linux',
}, async () => {
  const srv = newIpc('s');
  const cli = newIpc('c');
  const port = await freePort();
  try {
    await startTcpServer(srv, port);
    const client = await connectTcp(cli, 'w', port);
    const s = client.socket;
    await delay(50);
    assert.match(tcpTimer(s.localPort), /^00:/, 'no timer before');
    s.setKeepAlive(true, 5000);
    await delay(50);
    const t = tcpTimer(s.localPort);
    assert.match(t, /^02:/, `keepalive timer armed (${t})`);
    // jiffies until the first probe: about 5 s (HZ between 100 and 1000)
    const when = Number.parseInt(t.slice(3), 16);
    assert.ok(when > 0, t);
    s.setKeepAlive(false);
    await delay(50);
    assert.match(tcpTimer(s.localPort), /^00:/, 'off again');
  } finally {
    cleanup(srv, cli);
  }
});
