'use strict';

// The one place where the implementations under test are chosen.
//
// Every factory returns a fresh, independent IPC instance (never a module singleton) with
// `silent` logging, a short `retry`, a bounded `maxRetries` (so a client leaked by a failing
// test gives up on its own) and a unique `config.id`.
//
// `ours()` is the real node-ipc-rs module at the repository root. To validate the suite itself
// against real node-ipc on both sides, point it elsewhere with an environment variable:
//
//   COMPAT_OURS=node-ipc-12 node --test --test-concurrency=1 __test__/compat/
//   COMPAT_OURS=node-ipc-9  node --test --test-concurrency=1 __test__/compat/

const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

const RETRY_MS = 50;
const MAX_RETRIES = 20;

let seq = 0;

function configure(ipc, tag) {
  ipc.config.silent = true;
  ipc.config.retry = RETRY_MS;
  ipc.config.maxRetries = MAX_RETRIES;
  ipc.config.id = `compat-${tag}-${process.pid}-${++seq}`;
  return ipc;
}

function nodeIpc9() {
  const mod = require('node-ipc-9');
  return configure(new mod.IPC(), 'nipc9');
}

function nodeIpc12() {
  const mod = require('node-ipc-12');
  return configure(new mod.IPCModule(), 'nipc12');
}

function nodeIpcRs() {
  const mod = require(ROOT);
  const Ctor = mod.IPCModule || mod.IPC;
  return configure(new Ctor(), 'ours');
}

const REAL = {
  'node-ipc-9': nodeIpc9,
  'node-ipc-12': nodeIpc12,
  'node-ipc-rs': nodeIpcRs,
};

const OURS_IMPL = process.env.COMPAT_OURS || 'node-ipc-rs';
if (!REAL[OURS_IMPL]) {
  throw new Error(`COMPAT_OURS=${OURS_IMPL} is not one of ${Object.keys(REAL).join(', ')}`);
}

function ours() {
  return REAL[OURS_IMPL]();
}

// Descriptors used by the tests: `name` for titles and messages, `make` the factory.
const OURS = {
  name: OURS_IMPL === 'node-ipc-rs' ? 'ours' : `ours(=${OURS_IMPL})`,
  key: 'ours',
  make: ours,
};
const NODE_IPC_12 = { name: 'node-ipc@12.0.0', key: 'node-ipc-12', make: nodeIpc12 };
const NODE_IPC_9 = { name: 'node-ipc@9.2.1', key: 'node-ipc-9', make: nodeIpc9 };

const BY_KEY = { ours: OURS, 'node-ipc-12': NODE_IPC_12, 'node-ipc-9': NODE_IPC_9 };

function byKey(key) {
  const impl = BY_KEY[key];
  if (!impl) throw new Error(`unknown implementation key ${key}`);
  return impl;
}

module.exports = {
  ROOT,
  OURS_IMPL,
  OURS,
  NODE_IPC_12,
  NODE_IPC_9,
  PEERS: [NODE_IPC_12, NODE_IPC_9],
  byKey,
  ours,
  nodeIpc9,
  nodeIpc12,
};
