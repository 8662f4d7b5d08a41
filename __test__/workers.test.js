'use strict';

// worker_threads load the addon again: each environment has its own sockets, and terminating a
// worker closes them (and removes its socket files) without disturbing the main thread.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const { ROOT, newIpc, tmpSock, startLocalServer, cleanup, within, nextEvent, WINDOWS } = require('./helpers.js');

test('a worker thread talks to a server on the main thread', { timeout: 15000 }, async () => {
  const srv = newIpc('main');
  const sock = tmpSock();
  try {
    const server = await startLocalServer(srv, sock);
    server.on('hi', (d, s) => server.emit(s, 'bye', `${d} back`));
    const worker = new Worker(
      `const { parentPort } = require('worker_threads');
       const ipc = require(${JSON.stringify(ROOT)}); ipc.config.silent = true;
       ipc.connectTo('main', ${JSON.stringify(sock)}, () => {
         ipc.of.main.on('connect', () => ipc.of.main.emit('hi', 'from worker'));
         ipc.of.main.on('bye', (d) => { parentPort.postMessage(d); ipc.disconnect('main'); });
       });`,
      { eval: true },
    );
    // Listen for the exit before awaiting the reply: a worker that exits at once has its last
    // message and its exit delivered in the same tick.
    const exited = new Promise((r) => worker.once('exit', r));
    const [reply] = await within(5000, 'worker reply', new Promise((r) => worker.once('message', (m) => r([m]))));
    assert.equal(reply, 'from worker back');
    const code = await within(5000, 'worker exit', exited);
    assert.equal(code, 0, 'the worker exits by itself once disconnected');
  } finally {
    cleanup(srv);
  }
});

test('terminating a worker closes its server and removes the socket file', { timeout: 15000 }, async () => {
  const sock = tmpSock();
  const worker = new Worker(
    `const { parentPort } = require('worker_threads');
     const ipc = require(${JSON.stringify(ROOT)}); ipc.config.silent = true;
     ipc.serve(${JSON.stringify(sock)}, () => parentPort.postMessage('up'));
     ipc.server.start();`,
    { eval: true },
  );
  await within(5000, 'worker server up', new Promise((r) => worker.once('message', r)));
  if (!WINDOWS) assert.ok(fs.existsSync(sock));
  // The main thread can connect to it meanwhile.
  const cli = newIpc('c');
  cli.config.maxRetries = 0;
  cli.connectTo('w', sock);
  await nextEvent(cli.of.w, 'connect');
  const disconnected = nextEvent(cli.of.w, 'disconnect');
  await worker.terminate();
  await disconnected;
  if (!WINDOWS) assert.equal(fs.existsSync(sock), false);
  cleanup(cli);
});
