'use strict';

// The async Rust API over TLS and UDP (issue #4) against Node processes: examples/rust_tls_udp.rs
// as TLS server, TLS client and UDP server, with node-ipc-rs (the addon) and the real node-ipc 12
// (Node's own tls and dgram) on the other side.
//
// The before hook builds the example once (`cargo build --quiet -p node-ipc-rs --example rust_tls_udp`).

const test = require('node:test');
const assert = require('node:assert/strict');
const { newIpc, nodeIpc12, freePort, freeUdpPort, nextEvent, cleanup, until, within, delay, fixture: fx } = require('./helpers.js');

const { useExamples, runExample } = require('./rust-examples.js');

const T = { timeout: 20000 };

useExamples(['--example', 'rust_tls_udp']);

const run = (args) => runExample('rust_tls_udp', args);

async function rustTlsServer(...extra) {
  const srv = run(['tls-server', '127.0.0.1', '0', ...extra]);
  const m = await srv.waitFor(/^READY 127\.0\.0\.1:(\d+)$/);
  return { srv, port: Number(m[1]) };
}

/** A Node TLS client (node-ipc-rs or node-ipc 12) sends `n` echoes and collects the replies. */
function echoFromNode(ipc, port, tls, n) {
  ipc.config.tls = tls;
  ipc.config.maxRetries = 0;
  const got = [];
  const errors = [];
  const done = new Promise((resolve, reject) => {
    ipc.connectToNet('srv', '127.0.0.1', port, () => {
      const c = ipc.of.srv;
      c.on('connect', () => {
        for (let i = 0; i < n; i++) c.emit('echo', { i, s: 'é✓'.repeat(i % 5) });
      });
      c.on('echo', (d) => {
        got.push(d);
        if (got.length === n) resolve(got);
      });
      c.on('error', (e) => errors.push(e.code));
      c.on('destroy', () => reject(new Error(`destroyed; errors ${errors}`)));
    });
  });
  return within(10000, 'echoes', done);
}

// --- Rust TLS server <- Node clients -------------------------------------------------------

for (const kind of ['node-ipc-rs', 'node-ipc-12']) {
  test(`Rust TLS server <- ${kind} TLS client: 100 echoes in order`, T, async () => {
    const { srv, port } = await rustTlsServer('--cert', fx('server.pem'), '--key', fx('server.key'));
    const ipc = kind === 'node-ipc-rs' ? newIpc('cli') : nodeIpc12('cli');
    try {
      const got = await echoFromNode(ipc, port, { trustedConnections: [fx('ca.pem')], rejectUnauthorized: true }, 100);
      assert.deepEqual(
        got.map((d) => d.i),
        [...Array(100).keys()],
      );
      assert.equal(got[3].s, 'é✓'.repeat(3));
      await srv.waitFor(/^MESSAGE echo \{"i":99,"s":"é✓é✓é✓é✓"\}$/);
      assert.equal(srv.lines.filter((l) => l === 'CONNECT').length, 1);
      ipc.disconnect('srv');
      await srv.waitFor(/^DISCONNECT$/);
      const { code } = await srv.stop();
      assert.equal(code, 0, srv.stderr());
      assert.ok(srv.lines.includes('CLOSED'));
    } finally {
      try {
        ipc.disconnect('srv');
      } catch {
        /* gone */
      }
      srv.kill();
    }
  });
}

test(
  'Rust mTLS server: node-ipc-rs and node-ipc 12 clients with certificates pass, a certificate-less node-ipc 12 client is refused',
  T,
  async () => {
    const { srv, port } = await rustTlsServer(
      '--cert',
      fx('server.pem'),
      '--key',
      fx('server.key'),
      '--ca',
      fx('ca.pem'),
      '--request-cert',
    );
    const ours = newIpc('ours');
    const good = nodeIpc12('good');
    const bare = nodeIpc12('bare');
    try {
      const withCert = {
        private: fx('client.key'),
        public: fx('client.pem'),
        trustedConnections: [fx('ca.pem')],
        rejectUnauthorized: true,
      };
      assert.equal((await echoFromNode(ours, port, withCert, 3)).length, 3);
      assert.equal((await echoFromNode(good, port, { ...withCert }, 3)).length, 3);
      // (the server's stdout may lag behind the echoes)
      await until(() => srv.lines.filter((l) => l.startsWith('MESSAGE echo')).length === 6, 'six echoes logged');
      assert.equal(srv.lines.filter((l) => l === 'CONNECT').length, 2);

      bare.config.tls = { trustedConnections: [fx('ca.pem')], rejectUnauthorized: true };
      bare.config.maxRetries = 0;
      const bareErrors = [];
      await within(
        5000,
        'bare client gives up',
        new Promise((resolve) => {
          bare.connectToNet('srv', '127.0.0.1', port, () => {
            bare.of.srv.on('connect', () => bare.of.srv.emit('sneak', 'must not cross'));
            bare.of.srv.on('error', (e) => bareErrors.push(e.code));
            bare.of.srv.on('destroy', resolve);
          });
        }),
      );
      await srv.waitFor(/^ERROR ERR_TLS_PEER_CERTIFICATE_REQUIRED$/);
      assert.ok(bareErrors.length >= 1, 'the bare client saw an error');
      await delay(100);
      assert.equal(srv.lines.filter((l) => l === 'CONNECT').length, 2, 'no connect for the refused client');
      assert.ok(!srv.lines.some((l) => l.startsWith('MESSAGE sneak')), 'nothing crossed');
    } finally {
      cleanup(ours);
      for (const i of [good, bare]) {
        try {
          i.disconnect('srv');
        } catch {
          /* gone */
        }
      }
      srv.kill();
    }
  },
);

// --- Node TLS servers <- Rust client -------------------------------------------------------

async function nodeTlsServer(ipc, port, tls, kind) {
  ipc.config.tls = tls;
  ipc.serveNet('127.0.0.1', port, () => {
    ipc.server.on('echo', (d, socket) => ipc.server.emit(socket, 'echo', d));
  });
  if (kind === 'node-ipc-rs') {
    const started = nextEvent(ipc.server, 'start');
    ipc.server.start();
    await started;
  } else {
    ipc.server.start();
    await delay(100);
  }
}

for (const kind of ['node-ipc-rs', 'node-ipc-12']) {
  for (const mutual of [false, true]) {
    test(`${kind} ${mutual ? 'mTLS' : 'TLS'} server <- Rust TLS client: echoes`, T, async () => {
      const ipc = kind === 'node-ipc-rs' ? newIpc('srv') : nodeIpc12('srv');
      let cli;
      try {
        const port = await freePort();
        const tls = { private: fx('server.key'), public: fx('server.pem') };
        if (mutual) Object.assign(tls, { trustedConnections: [fx('ca.pem')], requestCert: true, rejectUnauthorized: true });
        await nodeTlsServer(ipc, port, tls, kind);
        const args = ['tls-client', 'localhost', String(port), '--ca', fx('ca.pem'), '--count', '3'];
        if (mutual) args.push('--cert', fx('client.pem'), '--key', fx('client.key'));
        cli = run(args);
        const { code } = await within(10000, 'Rust client to finish', cli.exited);
        assert.equal(code, 0, cli.stderr());
        assert.deepEqual(cli.lines, [
          'CONNECT',
          'MESSAGE echo {"i":0,"s":"é✓"}',
          'MESSAGE echo {"i":1,"s":"é✓"}',
          'MESSAGE echo {"i":2,"s":"é✓"}',
          'DISCONNECT',
          'DESTROY',
        ]);
      } finally {
        if (cli) cli.kill();
        if (kind === 'node-ipc-rs') cleanup(ipc);
        else {
          for (const s of ipc.server.sockets || []) s.destroy();
          ipc.server.stop();
        }
      }
    });
  }
}

test('node-ipc-rs TLS server with an untrusted certificate: the Rust client refuses it; wrong name refused', T, async () => {
  const ipc = newIpc('srv');
  const clis = [];
  try {
    const port = await freePort();
    await nodeTlsServer(ipc, port, { private: fx('rogue.key'), public: fx('rogue.pem') }, 'node-ipc-rs');
    const errors = [];
    ipc.server.on('error', (e) => errors.push(e.code));
    const rogue = run(['tls-client', '127.0.0.1', String(port), '--ca', fx('ca.pem')]);
    clis.push(rogue);
    await within(10000, 'refusal', rogue.exited);
    assert.deepEqual(rogue.lines, ['ERROR UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DISCONNECT', 'DESTROY']);
    await until(() => errors.length === 1, 'server-side handshake error');
    // Verification off on request: it connects.
    const insecure = run(['tls-client', '127.0.0.1', String(port), '--insecure']);
    clis.push(insecure);
    await within(10000, 'insecure client', insecure.exited);
    assert.deepEqual(insecure.lines, ['CONNECT', 'MESSAGE echo {"i":0,"s":"é✓"}', 'DISCONNECT', 'DESTROY']);
  } finally {
    for (const c of clis) c.kill();
    cleanup(ipc);
  }
  const srv2 = newIpc('srv2');
  let cli;
  try {
    const port = await freePort();
    await nodeTlsServer(srv2, port, { private: fx('server.key'), public: fx('server.pem') }, 'node-ipc-rs');
    cli = run(['tls-client', '127.0.0.1', String(port), '--ca', fx('ca.pem'), '--servername', 'other.example']);
    await within(10000, 'refusal', cli.exited);
    assert.deepEqual(cli.lines, ['ERROR ERR_TLS_CERT_ALTNAME_INVALID', 'DISCONNECT', 'DESTROY']);
  } finally {
    if (cli) cli.kill();
    cleanup(srv2);
  }
});

// --- UDP -----------------------------------------------------------------------------------

async function rustUdp(host, ...extra) {
  const srv = run(['udp', host, '0', ...extra]);
  const m = await srv.waitFor(/^READY (\S+):(\d+)$/);
  return { srv, port: Number(m[2]) };
}

async function nodeUdpServer(ipc, host, port, type, kind) {
  ipc.serveNet(host, port, type);
  const up = nextEvent(ipc.server, kind === 'node-ipc-rs' ? 'start' : 'connect');
  ipc.server.start();
  await up;
}

function stopNodeUdp(ipc, kind) {
  if (kind === 'node-ipc-rs') cleanup(ipc);
  else {
    try {
      ipc.server.stop();
    } catch {
      // already stopped
    }
  }
}

const udpCases = [
  ['node-ipc-rs', 'udp4', '127.0.0.1'],
  ['node-ipc-12', 'udp4', '127.0.0.1'],
  ['node-ipc-rs', 'udp6', '::1'],
];

for (const [kind, type, host] of udpCases) {
  test(`${type}: Rust UdpServer <-> ${kind} UDP server: 100 requests answered in order, emit and broadcast from Rust`, T, async () => {
    const ipc = kind === 'node-ipc-rs' ? newIpc('node') : nodeIpc12('node');
    const { srv, port: rport } = await rustUdp(host);
    try {
      const nport = await freeUdpPort(type);
      await nodeUdpServer(ipc, host, nport, type, kind);
      // Node -> Rust: the Rust server answers each `q` to its sender.
      const answers = [];
      ipc.server.on('a', (d) => answers.push(d));
      for (let n = 0; n < 100; n++) ipc.server.emit({ address: host, port: rport }, 'q', { n });
      await until(() => answers.length === 100, '100 answers from Rust', 5000);
      assert.deepEqual(
        answers.map((d) => d.n),
        [...Array(100).keys()],
      );
      assert.equal(answers[0].s, 'é✓');
      const from = type === 'udp4' ? `127.0.0.1:${nport}` : `[::1]:${nport}`;
      await srv.waitFor(new RegExp(`^MESSAGE ${from.replace(/[[\].]/g, '\\$&')} q \\{"n":99\\}$`));
      // Rust -> Node: emit to an address, then broadcast (Node has sent to Rust: it is a peer).
      const got = [];
      ipc.server.on('hello', (d) => got.push(['hello', d]));
      ipc.server.on('news', (d) => got.push(['news', d]));
      assert.equal(await srv.command(`emit ${from} hello {"nested":[1,{"x":"é✓"}]}`), 'SENT');
      assert.equal(await srv.command('broadcast news {"n":1}'), 'SENT');
      await until(() => got.length === 2, 'emit and broadcast from Rust');
      assert.deepEqual(got, [
        ['hello', { nested: [1, { x: 'é✓' }] }],
        ['news', { n: 1 }],
      ]);
      // Oversize: the send error comes back to the Rust caller.
      assert.equal(await srv.command(`emit ${from} big "${'x'.repeat(70000)}"`), 'SENDERR EMSGSIZE');
      const { code } = await srv.stop();
      assert.equal(code, 0, srv.stderr());
      assert.ok(srv.lines.includes('CLOSED'));
    } finally {
      srv.kill();
      stopNodeUdp(ipc, kind);
    }
  });
}

for (const kind of ['node-ipc-rs', 'node-ipc-12']) {
  test(
    `udp4 raw: ${kind} sends hex, the Rust UdpServer (raw) gets the exact bytes${kind === 'node-ipc-rs' ? ', and back' : ''}`,
    T,
    async () => {
      const ipc = kind === 'node-ipc-rs' ? newIpc('node') : nodeIpc12('node');
      ipc.config.rawBuffer = true;
      ipc.config.encoding = 'hex';
      const { srv, port: rport } = await rustUdp('127.0.0.1', '--raw');
      try {
        const nport = await freeUdpPort();
        await nodeUdpServer(ipc, '127.0.0.1', nport, 'udp4', kind);
        ipc.server.emit({ address: '127.0.0.1', port: rport }, 'dead41ff00');
        await srv.waitFor(new RegExp(`^DATA 127\\.0\\.0\\.1:${nport} dead41ff00$`));
        if (kind === 'node-ipc-rs') {
          // Rust -> node-ipc-rs raw: exact bytes (node-ipc 12 would mangle non-UTF-8 data: §5.6).
          const got = [];
          ipc.server.on('data', (b) => got.push(b));
          assert.equal(await srv.command(`raw 127.0.0.1:${nport} c328ff00`), 'SENT');
          await until(() => got.length === 1, 'raw datagram from Rust');
          assert.deepEqual(got[0], Buffer.from([0xc3, 0x28, 0xff, 0x00]));
        }
      } finally {
        srv.kill();
        stopNodeUdp(ipc, kind);
      }
    },
  );
}
