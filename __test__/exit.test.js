'use strict';

// Process lifetime: a listening server or a connected/retrying client keeps the process alive;
// once everything is closed the process exits by itself (NODE_IPC_CONTRACT §6.5).

const test = require('node:test');
const assert = require('node:assert/strict');
const { runScript, tmpSock, within, delay } = require('./helpers.js');

const run = runScript;
const removeSock = (p) => {
  if (process.platform !== 'win32') require('node:fs').rmSync(p, { force: true });
};

test('a round trip then disconnect + stop: the script exits by itself', { timeout: 15000 }, async () => {
  const sock = tmpSock();
  const { child, exited } = run(`
    ipc.serve(${JSON.stringify(sock)}, () => {
      ipc.server.on('ping', (d, s) => ipc.server.emit(s, 'pong', d));
      const c = new ipc.IPC(); c.config.silent = true;
      c.connectTo('s', ${JSON.stringify(sock)}, () => {
        c.of.s.on('connect', () => c.of.s.emit('ping', 1));
        c.of.s.on('pong', () => { console.log('pong'); c.disconnect('s'); ipc.server.stop(); });
      });
    });
    ipc.server.start();`);
  try {
    const r = await within(8000, 'the script to exit', exited);
    assert.equal(r.code, 0);
    assert.match(r.out, /pong/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a listening server keeps the process alive', { timeout: 15000 }, async () => {
  const sock = tmpSock();
  const { child, exited } = run(`ipc.serve(${JSON.stringify(sock)}, () => console.log('listening')); ipc.server.start();`);
  try {
    await within(5000, 'listening', new Promise((r) => child.stdout.once('data', r)));
    await delay(500);
    assert.equal(child.exitCode, null, 'still running');
  } finally {
    child.kill('SIGTERM');
    await exited;
    removeSock(sock); // a killed server leaves its socket file, as node-ipc's does
  }
});

test('a retrying client stays alive until it gives up, then exits', { timeout: 15000 }, async () => {
  const sock = tmpSock();
  const { child, exited } = run(`
    ipc.config.retry = 100; ipc.config.maxRetries = 3;
    ipc.connectTo('ghost', ${JSON.stringify(sock)}, () => ipc.of.ghost.on('destroy', () => console.log('destroyed')));`);
  try {
    const t0 = Date.now();
    const r = await within(8000, 'the script to exit', exited);
    assert.equal(r.code, 0);
    assert.match(r.out, /destroyed/);
    assert.ok(Date.now() - t0 >= 300, 'it waited for the retries');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a connected client keeps the process alive', { timeout: 15000 }, async () => {
  const sock = tmpSock();
  const server = run(`ipc.serve(${JSON.stringify(sock)}, () => console.log('up')); ipc.server.start();`);
  let client;
  try {
    await within(5000, 'server up', new Promise((r) => server.child.stdout.once('data', r)));
    client = run(`ipc.connectTo('s', ${JSON.stringify(sock)}, () => ipc.of.s.on('connect', () => console.log('connected')));`);
    await within(5000, 'client connected', new Promise((r) => client.child.stdout.once('data', r)));
    await delay(400);
    assert.equal(client.child.exitCode, null, 'client still running');
  } finally {
    if (client) client.child.kill('SIGKILL');
    server.child.kill('SIGKILL');
    await server.exited;
    removeSock(sock);
  }
});
