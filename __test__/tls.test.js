'use strict';

// TLS (rustls in the addon) configured through node-ipc's config.tls: server-authenticated TLS,
// mutual TLS, refusals with codes, and interop with node-ipc 12 (Node's own tls) both ways.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { newIpc, nodeIpc12, freePort, nextEvent, cleanup, until, delay, within, fixture: fx } = require('./helpers.js');

const T = { timeout: 15000 };

async function tlsServer(ipc, port, tls) {
  ipc.config.tls = tls;
  ipc.serveNet('127.0.0.1', port);
  const started = nextEvent(ipc.server, 'start');
  ipc.server.start();
  await started;
  ipc.server.on('echo', (d, socket) => ipc.server.emit(socket, 'echo', d));
  return ipc.server;
}

/** Connects with config.tls; resolves with the events seen until connect or give-up. */
function tlsClient(ipc, port, tls, host = '127.0.0.1') {
  ipc.config.tls = tls;
  ipc.config.maxRetries = 0;
  const events = [];
  return new Promise((resolve) => {
    ipc.connectToNet('srv', host, port, () => {
      const c = ipc.of.srv;
      c.on('connect', () => {
        events.push('connect');
        resolve({ client: c, events });
      });
      c.on('error', (e) => events.push(`error:${e.code}`));
      c.on('destroy', () => {
        events.push('destroy');
        resolve({ client: c, events });
      });
    });
  });
}

test('server-authenticated TLS: round trip; config.tls is not modified', T, async () => {
  const srv = newIpc('srv');
  const cli = newIpc('cli');
  try {
    const port = await freePort();
    const serverTls = { private: fx('server.key'), public: fx('server.pem') };
    await tlsServer(srv, port, serverTls);
    const clientTls = { trustedConnections: fx('ca.pem') };
    const { client, events } = await within(5000, 'TLS connect', tlsClient(cli, port, clientTls));
    assert.deepEqual(events, ['connect']);
    const got = nextEvent(client, 'echo');
    client.emit('echo', { secret: 'é✓', n: 1 });
    assert.deepEqual((await got)[0], { secret: 'é✓', n: 1 });
    assert.deepEqual(Object.keys(serverTls), ['private', 'public']);
    assert.deepEqual(Object.keys(clientTls), ['trustedConnections']);
  } finally {
    cleanup(cli, srv);
  }
});

test('host names are verified: localhost matches, a wrong servername is refused', T, async () => {
  const srv = newIpc('srv');
  const a = newIpc('a');
  const b = newIpc('b');
  try {
    const port = await freePort();
    await tlsServer(srv, port, { private: fx('server.key'), public: fx('server.pem') });
    const ok = await within(5000, 'localhost', tlsClient(a, port, { trustedConnections: fx('ca.pem') }, 'localhost'));
    assert.deepEqual(ok.events, ['connect']);
    const bad = await within(5000, 'mismatch', tlsClient(b, port, { ca: fs.readFileSync(fx('ca.pem')), servername: 'other.example' }));
    assert.deepEqual(bad.events, ['error:ERR_TLS_CERT_ALTNAME_INVALID', 'destroy']);
  } finally {
    cleanup(a, b, srv);
  }
});

test('a certificate naming only DNS:localhost: the host given is verified, not the address it resolved to', T, async () => {
  const srv = newIpc('srv');
  const clients = [newIpc('a'), newIpc('b'), newIpc('c')];
  try {
    const port = await freePort();
    await tlsServer(srv, port, { private: fx('server-dns.key'), public: fx('server-dns.pem') });
    const ca = { trustedConnections: fx('ca.pem') };
    // 'localhost' resolves to 127.0.0.1, which the certificate does not name: the name is verified.
    const byName = await within(5000, 'localhost', tlsClient(clients[0], port, ca, 'localhost'));
    assert.deepEqual(byName.events, ['connect']);
    const got = nextEvent(byName.client, 'echo');
    byName.client.emit('echo', 'over a name-only certificate');
    assert.equal((await got)[0], 'over a name-only certificate');
    // An IP host verifies the IP...
    const byIp = await within(5000, '127.0.0.1', tlsClient(clients[1], port, ca, '127.0.0.1'));
    assert.deepEqual(byIp.events, ['error:ERR_TLS_CERT_ALTNAME_INVALID', 'destroy']);
    // ...unless tls.servername names what to verify.
    const named = await within(5000, 'servername', tlsClient(clients[2], port, { ...ca, servername: 'localhost' }, '127.0.0.1'));
    assert.deepEqual(named.events, ['connect']);
  } finally {
    cleanup(...clients, srv);
  }
});

test('SNI: a client sends the host name it was given (or tls.servername), none for an IP host (Node tls server)', T, async () => {
  const tls = require('node:tls');
  const seen = [];
  const server = tls.createServer({ key: fs.readFileSync(fx('server.key')), cert: fs.readFileSync(fx('server.pem')) }, (sock) => {
    seen.push(sock.servername);
    sock.end();
  });
  const clients = [newIpc('a'), newIpc('b'), newIpc('c')];
  try {
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address();
    const ca = { trustedConnections: fx('ca.pem') };
    for (const [ipc, host, extra] of [
      [clients[0], 'localhost', {}],
      [clients[1], '127.0.0.1', {}],
      [clients[2], '127.0.0.1', { servername: 'localhost' }],
    ]) {
      const r = await within(5000, `TLS to ${host}`, tlsClient(ipc, port, { ...ca, ...extra }, host));
      assert.equal(r.events[0], 'connect');
      await until(() => seen.length === clients.indexOf(ipc) + 1, 'the server saw the handshake');
    }
    assert.deepEqual(seen, ['localhost', false, 'localhost']);
  } finally {
    cleanup(...clients);
    server.close();
  }
});

test('an untrusted server is refused by default, accepted only with rejectUnauthorized:false', T, async () => {
  const srv = newIpc('srv');
  const a = newIpc('a');
  const b = newIpc('b');
  try {
    const port = await freePort();
    const server = await tlsServer(srv, port, {
      key: fs.readFileSync(fx('rogue.key'), 'utf8'),
      cert: fs.readFileSync(fx('rogue.pem'), 'utf8'),
    });
    let received = 0;
    server.on('echo', () => received++);
    const refused = await within(5000, 'refusal', tlsClient(a, port, { trustedConnections: [fx('ca.pem')] }));
    assert.deepEqual(refused.events, ['error:UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'destroy']);
    refused.client.emit('echo', 'must not cross');
    const accepted = await within(5000, 'insecure connect', tlsClient(b, port, { rejectUnauthorized: false }));
    assert.deepEqual(accepted.events, ['connect']);
    const got = nextEvent(accepted.client, 'echo');
    accepted.client.emit('echo', 'ok');
    await got;
    assert.equal(received, 1, 'only the accepted client got through');
  } finally {
    cleanup(a, b, srv);
  }
});

test('mutual TLS: a client certificate is required and verified', T, async () => {
  const srv = newIpc('srv');
  const good = newIpc('good');
  const none = newIpc('none');
  const rogue = newIpc('rogue');
  try {
    const port = await freePort();
    const server = await tlsServer(srv, port, {
      private: fx('server.key'),
      public: fx('server.pem'),
      trustedConnections: [fx('ca.pem')],
      requestCert: true,
      rejectUnauthorized: true,
    });
    const serverErrors = [];
    const connects = [];
    server.on('error', (e) => serverErrors.push(e.code));
    server.on('connect', () => connects.push('connect'));
    const ok = await within(
      5000,
      'mTLS connect',
      tlsClient(good, port, { private: fx('client.key'), public: fx('client.pem'), trustedConnections: fx('ca.pem') }),
    );
    assert.deepEqual(ok.events, ['connect']);
    const got = nextEvent(ok.client, 'echo');
    ok.client.emit('echo', 'mutual');
    assert.deepEqual(await got, ['mutual']);
    // With TLS 1.3 the client finishes its side of the handshake before the server has checked its
    // certificate (Node behaves the same): it may see `connect`, then the server's alert ends it.
    let messages = 0;
    server.on('sneak', () => messages++);
    for (const [ipc, tls, alert] of [
      [none, { trustedConnections: fx('ca.pem') }, 'error:ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'],
      [
        rogue,
        { private: fx('rogue.key'), public: fx('rogue.pem'), trustedConnections: fx('ca.pem') },
        'error:ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      ],
    ]) {
      const r = await within(5000, 'refusal', tlsClient(ipc, port, tls));
      r.client.emit('sneak', 'must not cross');
      if (!r.events.includes('destroy')) await nextEvent(r.client, 'destroy');
      assert.ok(r.events.includes(alert), JSON.stringify(r.events));
    }
    await until(() => serverErrors.length === 2, 'server errors');
    assert.deepEqual(serverErrors, ['ERR_TLS_PEER_CERTIFICATE_REQUIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
    assert.deepEqual(connects, ['connect'], 'refused clients never reach the server');
    assert.equal(messages, 0, 'nothing crossed');
  } finally {
    cleanup(good, none, rogue, srv);
  }
});

// Node's requestCert with rejectUnauthorized: false (node-ipc's TLSSocket examples): the server
// asks for a certificate and takes any, from an unknown CA, or none.
test('requestCert with rejectUnauthorized false: clients with any certificate, or none, are served', T, async () => {
  const srv = newIpc('srv');
  const clients = { good: newIpc('good'), rogue: newIpc('rogue'), none: newIpc('none') };
  try {
    const port = await freePort();
    const server = await tlsServer(srv, port, {
      private: fx('server.key'),
      public: fx('server.pem'),
      trustedConnections: [fx('ca.pem')],
      requestCert: true,
      rejectUnauthorized: false,
    });
    const serverErrors = [];
    server.on('error', (e) => serverErrors.push(e.code));
    server.on('hello', (d, socket) => server.emit(socket, 'echo', d));
    const settings = {
      good: { private: fx('client.key'), public: fx('client.pem'), trustedConnections: fx('ca.pem') },
      rogue: { private: fx('rogue.key'), public: fx('rogue.pem'), trustedConnections: fx('ca.pem') },
      none: { trustedConnections: fx('ca.pem') },
    };
    for (const [name, ipc] of Object.entries(clients)) {
      const r = await within(5000, `${name} connects`, tlsClient(ipc, port, settings[name]));
      assert.deepEqual(r.events, ['connect'], name);
      const echoed = nextEvent(r.client, 'echo');
      r.client.emit('hello', name);
      assert.deepEqual(await within(5000, `${name} echo`, echoed), [name]);
    }
    assert.deepEqual(serverErrors, []);
  } finally {
    cleanup(...Object.values(clients), srv);
  }
});

test('configuration errors are error events with codes', T, async () => {
  const srv = newIpc('srv');
  const cli = newIpc('cli');
  try {
    const port = await freePort();
    srv.config.tls = { rejectUnauthorized: false }; // no key/cert: no bundled fallback
    srv.serveNet('127.0.0.1', port);
    const err = nextEvent(srv.server, 'error');
    srv.server.start();
    assert.equal((await err)[0].code, 'ERR_IPC_TLS_CONFIGURATION');
    const missing = await within(5000, 'missing file', tlsClient(cli, port, { trustedConnections: fx('nope.pem') }));
    assert.deepEqual(missing.events, ['error:ENOENT', 'destroy']);
  } finally {
    cleanup(cli, srv);
  }
});

test('interop: node-ipc 12 TLS server (Node tls) <-> node-ipc-rs client, server-auth and mTLS', T, async () => {
  for (const mutual of [false, true]) {
    const theirs = nodeIpc12('srv');
    const ours = newIpc('cli');
    try {
      const port = await freePort();
      theirs.config.tls = mutual
        ? {
            private: fx('server.key'),
            public: fx('server.pem'),
            trustedConnections: [fx('ca.pem')],
            requestCert: true,
            rejectUnauthorized: true,
          }
        : { private: fx('server.key'), public: fx('server.pem') };
      theirs.serveNet('127.0.0.1', port, () => {
        theirs.server.on('echo', (d, socket) => theirs.server.emit(socket, 'echo', d));
      });
      theirs.server.start();
      await delay(100);
      const tls = mutual
        ? { private: fx('client.key'), public: fx('client.pem'), trustedConnections: fx('ca.pem') }
        : { trustedConnections: fx('ca.pem') };
      const { client, events } = await within(5000, 'connect to node-ipc 12', tlsClient(ours, port, tls));
      assert.deepEqual(events, ['connect']);
      const got = [];
      client.on('echo', (d) => got.push(d));
      for (let i = 0; i < 100; i++) client.emit('echo', { i, s: 'ü'.repeat(i) });
      await until(() => got.length === 100, '100 echoes over TLS');
      assert.deepEqual(
        got.map((d) => d.i),
        [...Array(100).keys()],
      );
    } finally {
      cleanup(ours);
      for (const s of theirs.server.sockets || []) s.destroy();
      theirs.server.stop();
    }
  }
});

test('interop: node-ipc-rs TLS server <-> node-ipc 12 client; a certificate-less client is refused under mTLS', T, async () => {
  const ours = newIpc('srv');
  const good = nodeIpc12('good');
  const bare = nodeIpc12('bare');
  try {
    const port = await freePort();
    const server = await tlsServer(ours, port, {
      private: fx('server.key'),
      public: fx('server.pem'),
      trustedConnections: fx('ca.pem'),
      requestCert: true,
    });
    const messages = [];
    server.on('hello', (d) => messages.push(d));
    const serverErrors = [];
    server.on('error', (e) => serverErrors.push(e.code));
    good.config.tls = { private: fx('client.key'), public: fx('client.pem'), trustedConnections: [fx('ca.pem')], rejectUnauthorized: true };
    good.config.maxRetries = 0;
    const reply = new Promise((resolve) => {
      good.connectToNet('srv', '127.0.0.1', port, () => {
        good.of.srv.on('connect', () => good.of.srv.emit('hello', { from: 'node-ipc 12' }));
        good.of.srv.on('echo', resolve);
      });
    });
    server.on('hello', (d, socket) => server.emit(socket, 'echo', d));
    assert.deepEqual(await within(5000, 'reply to node-ipc 12', reply), { from: 'node-ipc 12' });
    bare.config.tls = { trustedConnections: [fx('ca.pem')], rejectUnauthorized: true };
    bare.config.maxRetries = 0;
    const bareEvents = [];
    await within(
      5000,
      'bare client gives up',
      new Promise((resolve) => {
        bare.connectToNet('srv', '127.0.0.1', port, () => {
          bare.of.srv.on('connect', () => bare.of.srv.emit('hello', { from: 'bare' }));
          bare.of.srv.on('error', (e) => bareEvents.push(e.code));
          bare.of.srv.on('destroy', resolve);
        });
      }),
    );
    await until(() => serverErrors.length === 1, 'server error for the bare client');
    assert.deepEqual(serverErrors, ['ERR_TLS_PEER_CERTIFICATE_REQUIRED']);
    assert.deepEqual(messages, [{ from: 'node-ipc 12' }], 'nothing from the bare client crossed');
    assert.ok(bareEvents.length >= 1, 'the bare client saw an error');
  } finally {
    try {
      good.disconnect('srv');
      bare.disconnect('srv');
    } catch {
      // gone
    }
    cleanup(ours);
  }
});
