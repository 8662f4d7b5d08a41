'use strict';

const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const fs = require('node:fs');
const assert = require('node:assert/strict');

const ROOT = path.join(__dirname, '..');
const ipcModule = require(ROOT);

/** Windows: local sockets are named pipes (no socket files, permissions or stale files). */
const WINDOWS = process.platform === 'win32';

/** The `skip` reason of a test about what only Unix local sockets have (files, modes). */
const UNIX_SOCKETS_ONLY = WINDOWS && 'Windows local sockets are named pipes, not files';

/** True when the suite runs over the stream transport (`npm test`'s second pass). */
const STREAM_MODE = process.env.NODE_IPC_RS_TRANSPORT === 'stream';

/**
 * True when the addon has no native transport: on Windows, and in the stream pass, which removes
 * it as on Windows (scripts/without-native.js). Tests that ask for `config.transport = 'native'`
 * skip.
 */
const NO_NATIVE = WINDOWS || process.env.NODE_IPC_RS_NO_NATIVE === '1';

let counter = 0;

/**
 * A unique local socket path: under the temp dir (removed by cleanup()); on Windows a pipe name,
 * which node-ipc-rs, the Rust API and raw node:net peers all use as it is.
 */
// (a random part per process: a file left by a killed process whose pid is reused is no clash)
const RUN = require('node:crypto').randomBytes(3).toString('hex');
function tmpSock(tag = 's') {
  const name = `nirs-${process.pid}${RUN}-${tag}-${++counter}.sock`;
  return WINDOWS ? `\\\\.\\pipe\\${name}` : path.join(os.tmpdir(), name);
}

/** Where a raw node:net peer finds the local socket node-ipc-rs serves at `p` (a pipe on Windows). */
const localPath = (p) => require('../lib/stream.js').localPath(p);

/** A TCP port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A UDP port that was free a moment ago. */
async function freeUdpPort(type = 'udp4') {
  const s = require('node:dgram').createSocket(type);
  await new Promise((r) => s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** An independent, silent instance of the real node-ipc 12 with fast retries. */
function nodeIpc12(id) {
  const { IPCModule } = require('node-ipc-12');
  const ipc = new IPCModule();
  ipc.config.silent = true;
  ipc.config.id = id;
  ipc.config.retry = 50;
  return ipc;
}

/** An independent, silent instance with fast retries. */
function newIpc(id = `t${++counter}`) {
  const ipc = new ipcModule.IPC();
  ipc.config.silent = true;
  ipc.config.id = id;
  ipc.config.retry = 50;
  return ipc;
}

/** Rejects with `what` if `promise` has not settled within `ms`. */
function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves with the arguments of the next `event` on a node-ipc emitter (client or server). */
function nextEvent(emitter, event, ms = 3000) {
  return within(
    ms,
    `event ${event}`,
    new Promise((resolve) => {
      emitter.once(event, (...args) => resolve(args));
    }),
  );
}

/** Starts `ipc.serve(path)` and resolves once it listens. */
async function startLocalServer(ipc, sockPath) {
  ipc.serve(sockPath);
  const started = nextEvent(ipc.server, 'start');
  ipc.server.start();
  await started;
  return ipc.server;
}

async function startTcpServer(ipc, port) {
  ipc.serveNet('127.0.0.1', port);
  const started = nextEvent(ipc.server, 'start');
  ipc.server.start();
  await started;
  return ipc.server;
}

/** Connects `ipc` to `id` at `sockPath` and resolves with the client once `connect` fired. */
async function connectLocal(ipc, id, sockPath) {
  let client;
  ipc.connectTo(id, sockPath, () => {
    client = ipc.of[id];
  });
  await nextEvent(client, 'connect');
  return client;
}

async function connectTcp(ipc, id, port) {
  let client;
  ipc.connectToNet(id, '127.0.0.1', port, () => {
    client = ipc.of[id];
  });
  await nextEvent(client, 'connect');
  return client;
}

/** Stops servers, disconnects clients and removes socket files; never throws. */
function cleanup(...instances) {
  for (const ipc of instances) {
    try {
      for (const id of Object.keys(ipc.of)) {
        ipc.of[id].config.stopRetrying = true;
        ipc.disconnect(id);
      }
      if (ipc.server && ipc.server.server) {
        for (const s of ipc.server.sockets.slice()) if (typeof s.destroy === 'function') s.destroy();
        if (ipc.server.server.listening) ipc.server.stop();
      }
    } catch {
      // best effort
    }
  }
}

function rmSock(p) {
  try {
    fs.unlinkSync(p);
  } catch {
    // not there
  }
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** A plain node:net connection to a local path or TCP port, collecting what it receives. */
function rawPeer(target) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(target, () => resolve(sock));
    sock.received = Buffer.alloc(0);
    sock.on('data', (d) => {
      sock.received = Buffer.concat([sock.received, d]);
    });
    sock.on('error', reject);
  });
}

/** Waits until `fn()` is truthy (polling), or fails after `ms`. */
async function until(fn, what, ms = 3000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

/** Records `types` on a node-ipc emitter as [type, ...args] in arrival order. */
function record(emitter, types) {
  const log = [];
  for (const t of types) emitter.on(t, (...args) => log.push([t, ...args]));
  return log;
}

/** The event names of a `record` log. */
const names = (log) => log.map((e) => e[0]);

/** The code of the IPCProtocolError `fn` throws, or null when it throws nothing. */
function protocolCode(fn) {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ipcModule.IPCProtocolError, `expected an IPCProtocolError, got ${err}`);
    return err.code;
  }
  return null;
}

/** Asserts that `fn` throws an error with `code` (`what` names the case) and returns it. */
function throwsCode(fn, code, what) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected ${code}, nothing was thrown`);
  assert.equal(err.code, code, `${what}: ${err}`);
  return err;
}

/** The path of a file in __test__/fixtures. */
const fixture = (name) => path.join(__dirname, 'fixtures', name);

/**
 * Runs `body` in a child Node process after `const ipc = require(<node-ipc-rs>)` (silent); its
 * stdout is collected (`env`: variables to add to its environment). `exited` resolves with
 * { code, signal, out }; the caller kills `child`.
 */
function runScript(body, env) {
  const { spawn } = require('node:child_process');
  const script = `const ipc = require(${JSON.stringify(ROOT)}); ipc.config.silent = true;\n${body}`;
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: env ? { ...process.env, ...env } : process.env,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, out })));
  return { child, exited };
}

module.exports = {
  ROOT,
  STREAM_MODE,
  NO_NATIVE,
  WINDOWS,
  UNIX_SOCKETS_ONLY,
  localPath,
  ipcModule,
  tmpSock,
  freePort,
  freeUdpPort,
  nodeIpc12,
  newIpc,
  within,
  nextEvent,
  startLocalServer,
  startTcpServer,
  connectLocal,
  connectTcp,
  cleanup,
  rmSock,
  delay,
  rawPeer,
  until,
  record,
  names,
  protocolCode,
  throwsCode,
  fixture,
  runScript,
};
