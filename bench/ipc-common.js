'use strict';

// Loads one of the node-ipc style contenders; they share one API, so one pair of scripts
// (ipc-server.js, ipc-client.js) serves them all.

const path = require('node:path');

const MODULES = {
  // The repo root module (the shim over the Rust addon).
  'node-ipc-rs': async () => require(path.join(__dirname, '..')),
  // The same shim on its stream transport (bytes through Node's net, framing in Rust).
  'node-ipc-rs-stream': async () => {
    const ipc = require(path.join(__dirname, '..'));
    ipc.config.transport = 'stream';
    return ipc;
  },
  // node-ipc@12.0.0, CommonJS build.
  'node-ipc-12': async () => require('node-ipc-12').default,
  // node-ipc@14.0.0 is ESM only.
  'node-ipc-14': async () => (await import('node-ipc-14')).default,
};

// node-ipc 14 parser profiles: <module>-<profile> sets config.parser on both sides (with the
// profile's defaults: guarded checks every name and frame size, times unfinished frames and caps
// pending writes).
const PROFILES = { 'node-ipc-rs-fast': 'fast', 'node-ipc-rs-guarded': 'guarded', 'node-ipc-14-guarded': 'guarded' };
for (const [name, profile] of Object.entries(PROFILES)) MODULES[name] = MODULES[name.slice(0, -profile.length - 1)];

async function loadIpc(name, id) {
  const load = MODULES[name];
  if (!load) throw new Error(`unknown node-ipc variant ${name} (known: ${Object.keys(MODULES).join(', ')})`);
  const ipc = await load();
  if (!ipc || typeof ipc.serve !== 'function') throw new Error(`${name} did not export a node-ipc instance`);
  if (PROFILES[name]) ipc.config.parser = PROFILES[name];
  ipc.config.silent = true;
  ipc.config.id = id;
  ipc.config.retry = 100;
  ipc.config.maxRetries = 20;
  return ipc;
}

module.exports = { loadIpc, MODULES };
