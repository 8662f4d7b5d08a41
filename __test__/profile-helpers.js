'use strict';

// Plumbing for the node-ipc 14 profile tests: run one connection of ours (server or client)
// against a raw `net` peer that writes exact bytes (events recorded with helpers.js `record`).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { newIpc, tmpSock, within, until, delay, rmSock, localPath, record, names } = require('./helpers.js');

/** A fresh owner-only directory (a valid secure socket root), removed by `rmRoot`. */
function secureRoot(tag = 'root') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nirs-${tag}-`));
  fs.chmodSync(dir, 0o700);
  return `${dir}/`;
}

function rmRoot(root) {
  try {
    fs.rmSync(root, { recursive: true, force: true });
  } catch {
    // gone
  }
}

/**
 * A server of ours under `config` on a fresh local path (inside a fresh secure root, so assured
 * works), plus a raw `net` peer connected to it and a second `bystander` peer that must not be
 * disturbed. `types` are the application events recorded besides the lifecycle ones.
 */
async function serverWithPeer(config, types = ['ok']) {
  const ipc = newIpc('srv');
  Object.assign(ipc.config, config);
  const root = secureRoot('srv');
  ipc.config.socketRoot = root;
  const sockPath = `${root}app.srv`;
  ipc.serve(sockPath);
  const server = ipc.server;
  const log = record(server, ['error', 'socket.disconnected', 'close', ...types]);
  const started = new Promise((r) => server.on('start', r));
  server.start();
  await within(3000, 'server start', started);
  const connect = (tag) =>
    new Promise((resolve, reject) => {
      const s = net.connect(localPath(sockPath), () => resolve(s));
      s.received = '';
      s.setEncoding('utf8');
      s.on('data', (d) => (s.received += d));
      s.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? null : reject(new Error(`${tag}: ${e.message}`))));
    });
  const peer = await connect('peer');
  const bystander = await connect('bystander');
  await until(() => server.sockets.length === 2, 'two connections');
  return {
    ipc,
    server,
    log,
    peer,
    bystander,
    root,
    cleanup() {
      peer.destroy();
      bystander.destroy();
      for (const s of server.sockets.slice()) s.destroy();
      if (server.server && server.server.listening) server.stop();
      rmRoot(root);
    },
  };
}

/**
 * A client of ours under `config` connected to a raw `net` server on a fresh local path; the
 * server writes `bytes` (a string or a list of [delayMs, string] steps) to each connection.
 */
async function clientWithPeer(config, bytes, types = ['ok']) {
  const sockPath = tmpSock('rawsrv');
  const conns = [];
  const rawServer = net.createServer((c) => {
    conns.push(c);
    c.bytes = Buffer.alloc(0);
    c.on('data', (d) => (c.bytes = Buffer.concat([c.bytes, d])));
    c.on('error', () => {});
    if (typeof bytes === 'string') c.write(bytes);
    else if (Array.isArray(bytes)) {
      (async () => {
        for (const [ms, chunk] of bytes) {
          if (ms) await delay(ms);
          if (c.destroyed) return;
          c.write(chunk);
        }
      })();
    }
  });
  await new Promise((r) => rawServer.listen(localPath(sockPath), r));
  const ipc = newIpc('cli');
  Object.assign(ipc.config, config);
  ipc.connectTo('peer', sockPath);
  const client = ipc.of.peer;
  const log = record(client, ['connect', 'error', 'disconnect', 'destroy', ...types]);
  return {
    ipc,
    client,
    log,
    conns,
    rawServer,
    cleanup() {
      for (const id of Object.keys(ipc.of)) {
        ipc.of[id].config.stopRetrying = true;
        ipc.disconnect(id);
      }
      for (const c of conns) c.destroy();
      rawServer.close();
      rmSock(sockPath);
    },
  };
}

/**
 * For "never times out" checks without long sleeps: servers under each of `configs` and a control
 * server under `control` (a small positive messageTimeout) get the unfinished frame `partial` at
 * the same moment. Waits (at most 5 s) until the control has timed out, then `margin` ms more, so
 * the others are watched at least as long as the control needed under the same load. Returns
 * `{ servers, control, cleanup }`: the control's serverWithPeer result and the others', still
 * open, for the caller to check that nothing happened and to finish the frame.
 */
async function besideTimeoutControl(configs, control, partial, types = ['ok'], margin = 200) {
  const all = [];
  const cleanup = () => {
    for (const s of all) s.cleanup();
  };
  try {
    for (const config of [control, ...configs]) all.push(await serverWithPeer(config, types));
    for (const s of all) s.peer.write(partial);
    const fired = () => names(all[0].log).includes('close');
    await within(5000, 'the control times out', until(fired, 'the control times out', 5000));
    await delay(margin);
  } catch (e) {
    cleanup();
    throw e;
  }
  const [ctl, ...servers] = all;
  assert.deepEqual(names(ctl.log), ['error', 'socket.disconnected', 'close'], 'the control timed out');
  assert.equal(ctl.log[0][1].code, 'ERR_IPC_MESSAGE_TIMEOUT');
  return { servers, control: ctl, cleanup };
}

module.exports = { secureRoot, rmRoot, serverWithPeer, clientWithPeer, besideTimeoutControl };
