'use strict';

// The interoperability matrix of issue #2, shared by node-ipc-12.test.js and node-ipc-9.test.js.
//
// For one real node-ipc version ("peer") it defines, for each transport (Unix socket, TCP) and each
// direction (peer server + our client, our server + peer client), the same set of tests.

const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { describe, test } = require('node:test');

const { OURS } = require('./impls.js');
const { Harness, WAIT_MS, waitFor, withTimeout } = require('./helpers.js');
const { bigPayload, overOneMiBPayload, unicodeString } = require('./payloads.js');

const TEST_TIMEOUT = 15000;
const CHILD_SERVER = path.join(__dirname, 'fixtures', 'server-child.js');

function echoPing(server) {
  server.on('ping', (data, socket) => server.emit(socket, 'pong', { echo: data }));
}

function echoBig(server) {
  server.on('big', (data, socket) => server.emit(socket, 'bigEcho', data));
}

/** Describe the first difference between two large values instead of dumping them. */
function assertSameLarge(actual, expected, what) {
  if (typeof actual === 'object' && actual !== null && typeof expected === 'object' && expected) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      const a = JSON.stringify(actual[key]);
      const e = JSON.stringify(expected[key]);
      if (a !== e) {
        let i = 0;
        while (a && e && i < a.length && a[i] === e[i]) i++;
        assert.fail(
          `${what}: member '${key}' differs (received ${a === undefined ? 'nothing' : `${a.length} JSON chars`}, ` +
            `expected ${e === undefined ? 'nothing' : `${e.length}`}); first difference at JSON offset ${i}: ` +
            `received …${JSON.stringify((a || '').slice(Math.max(0, i - 20), i + 40))}… ` +
            `expected …${JSON.stringify((e || '').slice(Math.max(0, i - 20), i + 40))}…`,
        );
      }
    }
  }
  assert.deepStrictEqual(actual, expected, `${what}: values differ`);
}

function startChildServer(h, implKey, transport, addr) {
  const child = h.track(
    spawn(process.execPath, [CHILD_SERVER, implKey, transport, JSON.stringify(addr)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    }),
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const ready = waitFor(
    () => {
      if (child.exitCode !== null) {
        throw new Error(`server child (${implKey}) exited with ${child.exitCode} before READY: ${err}`);
      }
      const m = /READY (\S+)/.exec(out);
      return m && m[1];
    },
    WAIT_MS * 2,
    () => `server child (${implKey}) did not print READY; stdout=${out} stderr=${err}`,
  );
  return { child, ready, stderr: () => err };
}

function defineInteropSuite(peer) {
  const directions = [
    { title: `${peer.name} server ↔ ${OURS.name} client`, server: peer, client: OURS },
    { title: `${OURS.name} server ↔ ${peer.name} client`, server: OURS, client: peer },
  ];

  for (const transport of ['unix', 'tcp']) {
    for (const dir of directions) {
      describe(`${dir.title} over ${transport}`, () => {
        test('round trip: client emits, server replies with server.emit(socket, …)', { timeout: TEST_TIMEOUT }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server, { setup: echoPing });
            const cli = await h.client(dir.client, srv);
            const samples = [{ id: cli.id, n: 1, text: 'hello' }, 'a plain string', 42, [1, 'two', { three: 3 }], true];
            for (const data of samples) {
              cli.client.emit('ping', data);
              const [reply] = await cli.rec.next('pong');
              const [received, socket] = srv.rec.all('ping').at(-1).args;
              assert.deepStrictEqual(received, data, `${srv.label} received different ping data`);
              assert.equal(socket, srv.socketOf(cli.id), 'ping handler got a different socket object than hello');
              assert.deepStrictEqual(reply, { echo: data }, `${cli.label} received different pong data`);
            }
          } finally {
            await h.cleanup();
          }
        });

        test('nested/unicode payload (~0.7 MB, 200 000-unit strings, \\f and \\n inside) survives the round trip', {
          timeout: TEST_TIMEOUT,
        }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server, { setup: echoBig });
            const cli = await h.client(dir.client, srv);
            const payload = bigPayload(cli.id);
            cli.client.emit('big', payload);
            const [echoed] = await cli.rec.next('bigEcho');
            assertSameLarge(srv.rec.data('big')[0], payload, `${srv.label} received`);
            assertSameLarge(echoed, payload, `${cli.label} received the echo`);
            assert.equal(srv.rec.count('error'), 0, `${srv.label} reported errors: ${srv.rec.data('error')}`);
            assert.equal(cli.rec.count('error'), 0, `${cli.label} reported errors: ${cli.rec.data('error')}`);
          } finally {
            await h.cleanup();
          }
        });

        test('payload over 1 MiB (no frame-size limit in node-ipc 9/12) survives the round trip', { timeout: TEST_TIMEOUT }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server, { setup: echoBig });
            const cli = await h.client(dir.client, srv);
            const payload = overOneMiBPayload(cli.id);
            cli.client.emit('big', payload);
            const [echoed] = await cli.rec.next('bigEcho', WAIT_MS * 2);
            assertSameLarge(srv.rec.data('big')[0], payload, `${srv.label} received`);
            assertSameLarge(echoed, payload, `${cli.label} received the echo`);
          } finally {
            await h.cleanup();
          }
        });

        test('100 pipelined messages arrive in order: client→server, server→client, then echoed concurrently', {
          timeout: TEST_TIMEOUT,
        }, async () => {
          const h = new Harness(transport);
          const N = 100;
          const msg = (from, i) => ({ from, i, pad: 'ü✓😀'.repeat((i * 97) % 700) });
          try {
            const srv = await h.server(dir.server);
            const cli = await h.client(dir.client, srv);
            for (let i = 0; i < N; i++) cli.client.emit('seq', msg(cli.id, i));
            await srv.rec.waitCount('seq', N);
            const atServer = srv.rec.data('seq');
            assert.deepStrictEqual(
              atServer.map((d) => d.i),
              Array.from({ length: N }, (_, i) => i),
              `${srv.label} received client→server messages out of order`,
            );
            atServer.forEach((d, i) => assert.deepStrictEqual(d, msg(cli.id, i), `client→server message ${i} differs`));

            const socket = srv.socketOf(cli.id);
            for (let i = 0; i < N; i++) srv.server.emit(socket, 'seq', msg('server', i));
            await cli.rec.waitCount('seq', N);
            const atClient = cli.rec.data('seq');
            assert.deepStrictEqual(
              atClient.map((d) => d.i),
              Array.from({ length: N }, (_, i) => i),
              `${cli.label} received server→client messages out of order`,
            );
            atClient.forEach((d, i) => assert.deepStrictEqual(d, msg('server', i), `server→client message ${i} differs`));

            // Both directions at once: the server echoes each of N pipelined pings as it arrives.
            srv.server.on('ping', (data, sock) => srv.server.emit(sock, 'pong', { echo: data }));
            for (let i = 0; i < N; i++) cli.client.emit('ping', msg(cli.id, i));
            await cli.rec.waitCount('pong', N);
            assert.deepStrictEqual(
              cli.rec.data('pong').map((d) => d.echo.i),
              Array.from({ length: N }, (_, i) => i),
              `${cli.label} received echoed pongs out of order`,
            );
            cli.rec.data('pong').forEach((d, i) => assert.deepStrictEqual(d, { echo: msg(cli.id, i) }, `echo ${i} differs`));
          } finally {
            await h.cleanup();
          }
        });

        test(`broadcast reaches a mix of ${peer.name} and ${OURS.name} clients`, { timeout: TEST_TIMEOUT }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server);
            const clients = [await h.client(OURS, srv), await h.client(peer, srv)];
            const news = [{ n: 1, text: '📣 广播 \f\n' }, { n: 2, text: unicodeString(100000) }, { n: 3 }];
            for (const data of news) srv.server.broadcast('news', data);
            for (const c of clients) {
              await c.rec.waitCount('news', news.length);
              const got = c.rec.data('news');
              assert.equal(got.length, news.length, `${c.label} got a different number of broadcasts`);
              got.forEach((d, i) => assertSameLarge(d, news[i], `${c.label} broadcast ${i}`));
            }
          } finally {
            await h.cleanup();
          }
        });

        test('server.emit(socket, …) reaches only the targeted client among several', { timeout: TEST_TIMEOUT }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server);
            const clients = [await h.client(OURS, srv), await h.client(peer, srv), await h.client(dir.client, srv)];
            // Round r: a private message to client r, then a broadcast sentinel. Streams are ordered,
            // so once a client has the sentinel of the last round it has everything sent to it.
            clients.forEach((target, r) => {
              srv.server.emit(srv.socketOf(target.id), 'private', { to: target.id, round: r });
              srv.server.broadcast('sentinel', { round: r });
            });
            for (const c of clients) await c.rec.waitCount('sentinel', clients.length);
            clients.forEach((c, k) => {
              const seen = c.rec.events
                .filter((e) => e.type === 'private' || e.type === 'sentinel')
                .map((e) => `${e.type}:${e.args[0].round}${e.type === 'private' ? `:${e.args[0].to === c.id ? 'me' : e.args[0].to}` : ''}`);
              const expected = [];
              clients.forEach((_, r) => {
                if (r === k) expected.push(`private:${r}:me`);
                expected.push(`sentinel:${r}`);
              });
              assert.deepStrictEqual(seen, expected, `${c.label} (client #${k}) saw the wrong messages`);
            });
          } finally {
            await h.cleanup();
          }
        });

        test('client started before the server retries and connects once it listens', { timeout: TEST_TIMEOUT }, async () => {
          const h = new Harness(transport);
          try {
            const addr = await h.address(`${dir.server.key}-late`);
            const serverImpl = dir.server;
            // the server id is only a key in the client's ipc.of; pick it before the server exists
            const placeholder = { id: `late-server-${process.pid}`, addr };
            const cli = await h.client(dir.client, placeholder, { waitConnect: false });
            await cli.rec.waitCount('disconnect', 2); // initial failure and at least one retry
            const errors = cli.rec.data('error');
            assert.equal(cli.rec.count('connect'), 0);
            const srv = await h.server(serverImpl, { addr, setup: echoPing });
            await cli.rec.waitCount('connect', 1);
            cli.client.emit('ping', { id: cli.id, late: true });
            assert.deepStrictEqual((await cli.rec.next('pong'))[0], { echo: { id: cli.id, late: true } });
            assert.equal(srv.rec.count('connect'), 1, `${srv.label} saw ${srv.rec.count('connect')} connections`);
            // the failed attempts were reported as Node reports them
            assert.ok(errors.length >= 1, `${cli.label}: no error event for the failed attempts`);
            const expectedCode = transport === 'unix' ? ['ENOENT', 'ECONNREFUSED'] : ['ECONNREFUSED'];
            for (const err of errors) {
              assert.ok(
                err instanceof Error && expectedCode.includes(err.code),
                `${cli.label}: failed attempt reported as ${err && err.code} (${err && err.message}), expected ${expectedCode.join(' or ')}`,
              );
            }
          } finally {
            await h.cleanup();
          }
        });

        test('client ipc.disconnect(id) → server socket.disconnected(socket, learnt id) then close(false)', {
          timeout: TEST_TIMEOUT,
        }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server);
            const other = await h.client(dir.server === OURS ? peer : OURS, srv); // stays connected
            const cli = await h.client(dir.client, srv); // said hello {id}: the server learnt its id
            const socket = srv.socketOf(cli.id);
            assert.equal(socket.id, cli.id, `${srv.label} did not set socket.id from data.id`);
            cli.ipc.disconnect(srv.id);
            assert.equal(cli.ipc.of[srv.id], undefined, `${cli.label}: ipc.of[id] still set after ipc.disconnect`);
            await srv.rec.waitCount('socket.disconnected', 1);
            await srv.rec.waitCount('close', 1);
            const types = srv.rec.types().filter((t) => t === 'socket.disconnected' || t === 'close');
            assert.deepStrictEqual(types, ['socket.disconnected', 'close'], `${srv.label}: wrong event order`);
            const [sdSocket, sdId] = srv.rec.all('socket.disconnected')[0].args;
            assert.equal(sdSocket, socket, 'socket.disconnected got a different socket object');
            assert.equal(sdId, cli.id, 'socket.disconnected did not report the learnt id');
            const [closeArg] = srv.rec.all('close')[0].args;
            assert.equal(closeArg, false, `close should get hadError=false (9/12), got ${closeArg}`);
            assert.ok(!Array.from(srv.server.sockets).includes(socket), 'closed socket still in server.sockets');
            assert.equal(srv.server.sockets.length, 1, 'server.sockets should hold only the other client');
            // the other client is unaffected
            assert.equal(other.rec.count('disconnect'), 0, `${other.label} was disconnected too`);
          } finally {
            await h.cleanup();
          }
        });

        test('server learns socket.id from any data.id, later frames overwrite it; socket.disconnected reports the last', {
          timeout: TEST_TIMEOUT,
        }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server, { setup: echoPing });
            const cli = await h.client(dir.client, srv);
            const socket = srv.socketOf(cli.id);
            cli.client.emit('ping', { text: 'no id here' });
            await cli.rec.next('pong');
            assert.equal(socket.id, cli.id, 'a frame without data.id must not change socket.id');
            const renamed = `${cli.id}-renamed`;
            cli.client.emit('ping', { id: renamed });
            await cli.rec.next('pong');
            assert.equal(socket.id, renamed, 'a later data.id must overwrite socket.id');
            cli.ipc.disconnect(srv.id);
            await srv.rec.waitCount('socket.disconnected', 1);
            assert.equal(srv.rec.all('socket.disconnected')[0].args[1], renamed);
          } finally {
            await h.cleanup();
          }
        });

        test('sync client: one message in flight, the next one leaves when a reply arrives', { timeout: TEST_TIMEOUT }, async () => {
          const h = new Harness(transport);
          const QUIET_MS = 80;
          try {
            const srv = await h.server(dir.server);
            const cli = await h.client(dir.client, srv);
            cli.ipc.config.sync = true;
            const socket = srv.socketOf(cli.id);
            for (let i = 0; i < 3; i++) cli.client.emit('seq', { i });
            for (let i = 0; i < 3; i++) {
              await srv.rec.waitCount('seq', i + 1);
              await new Promise((r) => setTimeout(r, QUIET_MS));
              assert.equal(srv.rec.count('seq'), i + 1, `${cli.label} (sync) sent message ${i + 1} before a reply`);
              srv.server.emit(socket, 'pong', { ack: i });
            }
            assert.deepStrictEqual(
              srv.rec.data('seq').map((d) => d.i),
              [0, 1, 2],
            );
            await cli.rec.waitCount('pong', 3);
          } finally {
            await h.cleanup();
          }
        });

        test('client that never sent data.id disconnects → socket.disconnected(socket, false)', { timeout: TEST_TIMEOUT }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server);
            const cli = await h.client(dir.client, srv, { hello: false });
            await srv.rec.waitCount('connect', 1);
            const [socket] = srv.rec.all('connect')[0].args;
            cli.ipc.disconnect(srv.id);
            await srv.rec.waitCount('close', 1);
            const types = srv.rec.types().filter((t) => t === 'socket.disconnected' || t === 'close');
            assert.deepStrictEqual(types, ['socket.disconnected', 'close'], `${srv.label}: wrong event order`);
            const [sdSocket, sdId] = srv.rec.all('socket.disconnected')[0].args;
            assert.equal(sdSocket, socket, 'socket.disconnected got a different socket than connect');
            assert.equal(sdId, false, 'destroyedSocketID should be false when no id was learnt');
          } finally {
            await h.cleanup();
          }
        });

        test('server destroys the connection → client sees disconnect, reconnects and round-trips again', {
          timeout: TEST_TIMEOUT,
        }, async () => {
          const h = new Harness(transport);
          try {
            const srv = await h.server(dir.server, { setup: echoPing });
            const cli = await h.client(dir.client, srv);
            srv.socketOf(cli.id).destroy();
            await cli.rec.waitCount('disconnect', 1);
            assert.equal(cli.rec.count('destroy'), 0, `${cli.label} gave up instead of retrying`);
            await cli.rec.waitCount('connect', 2);
            await srv.rec.waitCount('connect', 2);
            cli.client.emit('ping', { id: cli.id, again: true });
            const [reply] = await cli.rec.next('pong');
            assert.deepStrictEqual(reply, { echo: { id: cli.id, again: true } });
            const order = cli.rec.types().filter((t) => t === 'connect' || t === 'disconnect');
            assert.deepStrictEqual(order.slice(0, 3), ['connect', 'disconnect', 'connect'], `${cli.label}: wrong event order`);
          } finally {
            await h.cleanup();
          }
        });

        test('server process killed → client sees disconnect, then retries (errors with Node codes)', {
          timeout: TEST_TIMEOUT,
        }, async () => {
          const h = new Harness(transport);
          try {
            const addr = await h.address(`${dir.server.key}-child`);
            const { child, ready } = startChildServer(h, dir.server.key, transport, addr);
            const serverId = await ready;
            const cli = await h.client(dir.client, { id: serverId, addr });
            cli.client.emit('ping', { id: cli.id });
            assert.deepStrictEqual((await cli.rec.next('pong'))[0], { echo: { id: cli.id } });
            const exited = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGKILL');
            await withTimeout(exited, WAIT_MS, 'server child did not exit after SIGKILL');
            await cli.rec.waitCount('disconnect', 1);
            assert.equal(cli.rec.count('destroy'), 0, `${cli.label} gave up at once instead of retrying`);
            // one more disconnect = a failed reconnection attempt; its error must look like Node's
            await cli.rec.waitCount('disconnect', 2);
            const allowed = ['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ENOENT'];
            for (const err of cli.rec.data('error')) {
              assert.ok(
                err instanceof Error && allowed.includes(err.code),
                `${cli.label}: error after the server died reported as ${err && err.code} (${err && err.message}), expected one of ${allowed.join(', ')}`,
              );
            }
          } finally {
            await h.cleanup();
          }
        });
      });
    }
  }
}

module.exports = { defineInteropSuite };
