'use strict';

// Rust processes in the mesh (issue #3): the async Rust API (examples/rust_server.rs,
// examples/rust_client.rs) against node-ipc-rs and the real node-ipc 12 (and 9), both directions,
// over Unix sockets and TCP; plus byte-level checks that the Rust encoder writes exactly what
// node-ipc writes.
//
// The before hook builds the examples once (`cargo build --quiet -p node-ipc-rs --examples`).

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');

const { ROOT, useExamples, runExample } = require('./rust-examples.js');
const { within, freePort, localPath } = require('./helpers.js');

const T = { timeout: 20000 };
const sockets = new Set();
let counter = 0;

useExamples(['--examples']);

test.after(() => {
  for (const p of sockets) fs.rmSync(p, { force: true });
});

function tmpSock(tag) {
  const p = path.join(os.tmpdir(), `nirs-mesh-${process.pid}-${tag}-${++counter}.sock`);
  sockets.add(p);
  return p;
}

const run = runExample;

function loadIpc(kind) {
  let ipc;
  if (kind === 'node-ipc-rs') ipc = new (require(ROOT).IPC)();
  else if (kind === 'node-ipc-12') ipc = new (require('node-ipc-12').IPCModule)();
  else if (kind === 'node-ipc-9') ipc = new (require('node-ipc-9').IPC)();
  else throw new Error(kind);
  ipc.config.silent = true;
  ipc.config.retry = 100;
  return ipc;
}

/** A Node client (any implementation) runs node-ipc's basic hello exchange against `target`. */
async function helloFromNode(kind, target) {
  const ipc = loadIpc(kind);
  ipc.config.id = 'hello';
  ipc.config.maxRetries = 20;
  try {
    return await within(
      10000,
      `${kind} client exchange`,
      new Promise((resolve, reject) => {
        const setup = () => {
          const c = ipc.of.world;
          c.on('connect', () => c.emit('app.message', { id: ipc.config.id, message: 'hello' }));
          c.on('app.message', (data) => resolve(data));
          c.on('error', (e) => {
            if (e && e.code !== 'ECONNREFUSED' && e.code !== 'ENOENT') reject(e);
          });
        };
        if (target.path) ipc.connectTo('world', target.path, setup);
        else ipc.connectToNet('world', '127.0.0.1', target.port, setup);
      }),
    );
  } finally {
    ipc.disconnect('world');
  }
}

/** A Node server (any implementation) that behaves like node-ipc's basic world server. */
function worldServer(kind, target) {
  const ipc = loadIpc(kind);
  ipc.config.id = 'world';
  const seen = [];
  return within(
    10000,
    `${kind} server start`,
    new Promise((resolve) => {
      const setup = () => {
        ipc.server.on('app.message', (data, socket) => {
          seen.push({ data, socketId: socket.id });
          ipc.server.emit(socket, 'app.message', { id: ipc.config.id, message: data.message + ' world!' });
        });
        ipc.server.on('socket.disconnected', (_socket, id) => seen.push({ disconnected: id }));
      };
      const started = () => resolve({ ipc, seen, stop: () => ipc.server.stop() });
      if (target.path) ipc.serve(target.path, setup);
      else ipc.serveNet('127.0.0.1', target.port, setup);
      ipc.server.on('start', started);
      ipc.server.start();
    }),
  );
}

async function startRustServer(transport, lazy = false) {
  const flags = lazy ? ['--lazy'] : [];
  if (transport === 'unix') {
    const p = tmpSock('rs');
    const srv = run('rust_server', [...flags, 'unix', p]);
    await srv.waitFor(/^READY /);
    return { srv, target: { path: p } };
  }
  const srv = run('rust_server', [...flags, 'tcp', '127.0.0.1', '0']);
  const m = await srv.waitFor(/^READY 127\.0\.0\.1:(\d+)$/);
  return { srv, target: { port: Number(m[1]) } };
}

// Rust server <- Node clients (and the same with Config::lazy_data)
for (const transport of ['unix', 'tcp']) {
  for (const [kind, lazy] of [
    ['node-ipc-rs', false],
    ['node-ipc-12', false],
    ['node-ipc-9', false],
    ['node-ipc-rs', true],
    ['node-ipc-12', true],
  ]) {
    test(`Rust server${lazy ? ' (lazy data)' : ''} <- ${kind} client over ${transport}: basic example`, T, async () => {
      const { srv, target } = await startRustServer(transport, lazy);
      try {
        const reply = await helloFromNode(kind, target);
        assert.deepEqual(reply, { id: 'world', message: 'hello world!' });
        // The Rust server learnt the client's id from data.id, and saw it leave.
        await srv.waitFor(/^MESSAGE hello app\.message \{"id":"hello","message":"hello"\}$/);
        await srv.waitFor(/^DISCONNECT hello$/);
        const { code } = await srv.stop();
        assert.equal(code, 0, srv.stderr());
        assert.ok(srv.lines.includes('CLOSED'));
        if (target.path) assert.equal(fs.existsSync(target.path), false, 'socket file removed');
      } finally {
        srv.kill();
      }
    });
  }
}

// Node servers <- Rust client
for (const transport of ['unix', 'tcp']) {
  for (const kind of ['node-ipc-rs', 'node-ipc-12']) {
    test(`${kind} server <- Rust client over ${transport}: basic example`, T, async () => {
      const target = transport === 'unix' ? { path: tmpSock('ns') } : { port: await freePort() };
      const world = await worldServer(kind, target);
      const cli = run(
        'rust_client',
        transport === 'unix' ? ['unix', target.path, '--count', '1'] : ['tcp', '127.0.0.1', String(target.port), '--count', '1'],
      );
      try {
        await cli.waitFor(/^CONNECT$/);
        await cli.waitFor(/^MESSAGE app\.message \{"id":"world","message":"hello world!"\}$/);
        const { code } = await within(10000, 'rust_client exit', cli.exited);
        assert.equal(code, 0, cli.stderr());
        assert.deepEqual(cli.lines, ['CONNECT', 'MESSAGE app.message {"id":"world","message":"hello world!"}', 'DISCONNECT', 'DESTROY']);
        assert.deepEqual(world.seen[0], { data: { id: 'hello', message: 'hello' }, socketId: 'hello' });
        await within(
          5000,
          'socket.disconnected',
          (async () => {
            while (!world.seen.some((s) => s.disconnected === 'hello')) await new Promise((r) => setTimeout(r, 10));
          })(),
        );
      } finally {
        cli.kill();
        world.stop();
      }
    });
  }
}

test('Rust client retries until a node-ipc-12 server appears, and reconnects after it restarts', T, async () => {
  const target = { path: tmpSock('late') };
  const cli = run('rust_client', ['unix', target.path]);
  let world;
  try {
    await cli.waitFor(/^ERROR ENOENT /);
    await cli.waitFor(/^DISCONNECT$/);
    world = await worldServer('node-ipc-12', target);
    await cli.waitFor(/^MESSAGE app\.message \{"id":"world","message":"hello world!"\}$/);
    // Server goes away and comes back: the client reconnects and greets again.
    for (const s of world.ipc.server.sockets.slice()) s.destroy();
    world.stop();
    world = await worldServer('node-ipc-12', target);
    await within(
      10000,
      'second greeting',
      (async () => {
        while (cli.lines.filter((l) => l.startsWith('MESSAGE')).length < 2) await new Promise((r) => setTimeout(r, 20));
      })(),
    );
    assert.ok(cli.lines.filter((l) => l === 'CONNECT').length >= 2);
  } finally {
    cli.kill();
    if (world) world.stop();
  }
});

// Byte-exact encoding: the Rust client and the real node-ipc 12 client emit the same messages to a
// plain node:net server that records the bytes.
const CASES = [
  ['app.message', { id: 'hello', message: 'hello' }],
  ['n', 1.0],
  ['n', 0.1 + 0.2],
  ['n', 1e21],
  ['n', 1e-7],
  ['n', 123456789012345680000],
  ['n', -0.000001],
  ['n', 2 ** 53 + 2],
  ['n', -1.5e-300],
  ['n', Number.MAX_VALUE],
  ['n', 5e-324],
  ['n', 0],
  ['b', true],
  ['s', 'é ü 中文 🎉 \u2028'],
  ['s', '\n\r\t\b\f\v\0\x01\x1f\x7f"\\/'],
  ['o', { b: 1, 10: 2, 2: 3, '02': 4, a: { x: 1.5, 0: [1e21, null, {}] }, '-1': [] }],
  ['o', { z: [1, 2.5, { y: null, x: true }], a: false, 'k\u00e9y': 'v', '': 'empty key' }],
  ['deep', { l1: { l2: { l3: { l4: [[[[1e-7]]]] } } } }],
  ['ünïcode.type', { ключ: 'значение' }],
];

function recordingServer(target) {
  const chunks = [];
  const srv = net.createServer((s) => s.on('data', (d) => chunks.push(d)));
  return new Promise((resolve) => {
    const done = () => resolve({ srv, bytes: () => Buffer.concat(chunks) });
    if (target.path) srv.listen(target.path, done);
    else
      srv.listen(0, '127.0.0.1', () => {
        target.port = srv.address().port;
        done();
      });
  });
}

async function recordNodeIpc12(transport) {
  const target = transport === 'unix' ? { path: tmpSock('rec12') } : {};
  const rec = await recordingServer(target);
  const ipc = loadIpc('node-ipc-12');
  ipc.config.id = 'recorder-client';
  try {
    await within(
      5000,
      'node-ipc-12 connect',
      new Promise((resolve) => {
        const setup = () => ipc.of.world.on('connect', resolve);
        if (target.path) ipc.connectTo('world', target.path, setup);
        else ipc.connectToNet('world', '127.0.0.1', target.port, setup);
      }),
    );
    for (const [type, data] of CASES) ipc.of.world.emit(type, data);
    const want = Buffer.concat(CASES.map(([type, data]) => Buffer.from(JSON.stringify({ type, data }) + '\f')));
    await within(
      5000,
      'node-ipc-12 bytes',
      (async () => {
        while (rec.bytes().length < want.length) await new Promise((r) => setTimeout(r, 10));
      })(),
    );
    return rec.bytes();
  } finally {
    ipc.disconnect('world');
    rec.srv.close();
  }
}

async function recordRustClient(transport) {
  const target = transport === 'unix' ? { path: tmpSock('recrs') } : {};
  const rec = await recordingServer(target);
  const closed = new Promise((resolve) => rec.srv.on('connection', (s) => s.on('close', resolve)));
  const cli = run(
    'rust_client',
    transport === 'unix' ? ['unix', target.path, '--stdin'] : ['tcp', '127.0.0.1', String(target.port), '--stdin'],
  );
  try {
    for (const [type, data] of CASES) cli.child.stdin.write(JSON.stringify([type, data]) + '\n');
    cli.child.stdin.end();
    await within(10000, 'rust_client to flush and close', closed);
    const { code } = await within(10000, 'rust_client exit', cli.exited);
    assert.equal(code, 0, cli.stderr());
    return rec.bytes();
  } finally {
    cli.kill();
    rec.srv.close();
  }
}

for (const transport of ['unix', 'tcp']) {
  test(`byte-exact over ${transport}: Rust client writes what node-ipc 12 writes`, T, async () => {
    const node = await recordNodeIpc12(transport);
    const rust = await recordRustClient(transport);
    const expected = Buffer.concat(CASES.map(([type, data]) => Buffer.from(JSON.stringify({ type, data }) + '\f')));
    assert.equal(node.toString('hex'), expected.toString('hex'), 'node-ipc 12 writes JSON.stringify({type, data}) + \\f');
    if (!rust.equals(node)) {
      const a = rust.toString('utf8').split('\f');
      const b = node.toString('utf8').split('\f');
      const i = a.findIndex((x, k) => x !== b[k]);
      assert.fail(`frame ${i} differs:\n rust ${JSON.stringify(a[i])}\n node ${JSON.stringify(b[i])}`);
    }
  });
}

test('byte-exact replies: Rust server answers with the bytes a node-ipc 12 server sends', T, async () => {
  const frame = Buffer.from(JSON.stringify({ type: 'app.message', data: { id: 'raw', message: 'héllo\n"\u2028' } }) + '\f');
  const exchange = (target) =>
    within(
      5000,
      'raw reply',
      new Promise((resolve, reject) => {
        const s = target.path ? net.connect(localPath(target.path)) : net.connect(target.port, '127.0.0.1');
        const got = [];
        s.on('error', reject);
        s.on('connect', () => s.write(frame));
        s.on('data', (d) => {
          got.push(d);
          const all = Buffer.concat(got);
          if (all.includes(0x0c)) {
            s.destroy();
            resolve(all);
          }
        });
      }),
    );
  const { srv, target } = await startRustServer('unix');
  const nodeTarget = { path: tmpSock('raw12') };
  const world = await worldServer('node-ipc-12', nodeTarget);
  try {
    const fromRust = await exchange(target);
    const fromNode = await exchange(nodeTarget);
    assert.equal(fromRust.toString('hex'), fromNode.toString('hex'));
    assert.equal(
      fromRust.toString(),
      JSON.stringify({ type: 'app.message', data: { id: 'world', message: 'héllo\n"\u2028 world!' } }) + '\f',
    );
  } finally {
    srv.kill();
    world.stop();
  }
});

test('Rust server reports invalid frames from a Node peer with ERR_IPC_* codes and keeps the connection', T, async () => {
  const { srv, target } = await startRustServer('unix');
  try {
    await within(
      5000,
      'raw exchange',
      new Promise((resolve, reject) => {
        const s = net.connect(localPath(target.path));
        s.on('error', reject);
        s.on('connect', () =>
          s.write('{bad\f[1]\f{"type":5}\f' + JSON.stringify({ type: 'app.message', data: { id: 'x', message: 'ok' } }) + '\f'),
        );
        s.on('data', (d) => {
          if (d.includes(0x0c)) {
            s.destroy();
            resolve();
          }
        });
      }),
    );
    await srv.waitFor(/^ERROR ERR_IPC_INVALID_JSON /);
    await srv.waitFor(/^ERROR ERR_IPC_INVALID_MESSAGE /);
    await srv.waitFor(/^ERROR ERR_IPC_INVALID_EVENT /);
    await srv.waitFor(/^MESSAGE x app\.message/);
  } finally {
    srv.kill();
  }
});

/** Writes `frames` on a plain socket and collects the reply until `count` delimiters arrived. */
function rawExchange(target, frames, count) {
  return within(
    5000,
    'raw exchange',
    new Promise((resolve, reject) => {
      const s = target.path ? net.connect(localPath(target.path)) : net.connect(target.port, '127.0.0.1');
      const got = [];
      s.on('error', reject);
      s.on('connect', () => s.write(frames));
      s.on('data', (d) => {
        got.push(d);
        const all = Buffer.concat(got);
        if (all.filter((b) => b === 0x0c).length >= count) {
          s.destroy();
          resolve(all);
        }
      });
    }),
  );
}

/** A node-ipc 12 server that answers every `echo` with the data it received. */
async function echoServer12(target) {
  const ipc = loadIpc('node-ipc-12');
  ipc.config.id = 'world';
  await within(
    5000,
    'node-ipc-12 echo server',
    new Promise((resolve) => {
      ipc.serve(target.path, () => ipc.server.on('echo', (data, socket) => ipc.server.emit(socket, 'echo', data)));
      ipc.server.on('start', resolve);
      ipc.server.start();
    }),
  );
  return { stop: () => ipc.server.stop() };
}

test('Rust server with lazy data forwards what it received: the bytes a node-ipc 12 echo server sends', T, async () => {
  // JSON.stringify's text (what every node-ipc peer writes) comes back byte for byte as node-ipc 12
  // answers it, from the lazy server (the received text) and from the eager one (decoded, encoded).
  const frames = Buffer.concat(CASES.map(([, data]) => Buffer.from(JSON.stringify({ type: 'echo', data }) + '\f')));
  const node = { path: tmpSock('echo12') };
  const world = await echoServer12(node);
  const lazy = await startRustServer('unix', true);
  const eager = await startRustServer('unix', false);
  try {
    const fromNode = await rawExchange(node, frames, CASES.length);
    assert.equal(fromNode.toString('hex'), frames.toString('hex'), 'node-ipc 12 echoes JSON.stringify text unchanged');
    assert.equal((await rawExchange(lazy.target, frames, CASES.length)).toString('hex'), fromNode.toString('hex'));
    assert.equal((await rawExchange(eager.target, frames, CASES.length)).toString('hex'), fromNode.toString('hex'));

    // Text node-ipc would not write: the lazy server sends it on as it is (documented), node-ipc 12
    // and the eager server send JSON.stringify's text for the value.
    const odd = Buffer.from('{"type":"echo","data":{ "b" : 1.0, "1" : [1E2] }}\f');
    const js = '{"type":"echo","data":{"1":[100],"b":1}}\f';
    assert.equal((await rawExchange(node, odd, 1)).toString(), js);
    assert.equal((await rawExchange(eager.target, odd, 1)).toString(), js);
    assert.equal((await rawExchange(lazy.target, odd, 1)).toString(), odd.toString());

    // Invalid JSON in data: the same error code as without the opt-in; the connection stays.
    const bad = Buffer.from('{"type":"echo","data":{bad}}\f{"type":"echo","data":[1,]}\f{"type":"echo","data":2}\f');
    assert.equal((await rawExchange(lazy.target, bad, 1)).toString(), '{"type":"echo","data":2}\f');
    await within(
      5000,
      'two ERR_IPC_INVALID_JSON lines',
      (async () => {
        while (lazy.srv.lines.filter((l) => l.startsWith('ERROR ERR_IPC_INVALID_JSON ')).length < 2)
          await new Promise((r) => setTimeout(r, 10));
      })(),
    );
  } finally {
    lazy.srv.kill();
    eager.srv.kill();
    world.stop();
  }
});
