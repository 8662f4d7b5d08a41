'use strict';

// Loads one of the three interchangeable node-ipc implementations by name.
//   node-ipc-rs  this repository (npm: node-ipc-rs), Rust core
//   node-ipc-12  the real node-ipc 12.0.0 (devDependency alias: npm:node-ipc@12.0.0)
//   node-ipc-9   the real node-ipc 9.2.1  (devDependency alias: npm:node-ipc@9.2.1)
function loadIpc(impl) {
  switch (impl) {
    case 'node-ipc-rs':
      return require('../..'); // in your project: require('node-ipc-rs')
    case 'node-ipc-12':
      return require('node-ipc-12').default;
    case 'node-ipc-9':
      return require('node-ipc-9');
    default:
      throw new Error(`unknown implementation ${impl} (node-ipc-rs, node-ipc-12 or node-ipc-9)`);
  }
}

// [impl] [unix <path> | tcp <host> <port>] -> { impl, path } | { impl, host, port } | { impl }
function parseArgs(argv) {
  const [impl = 'node-ipc-rs', transport, a, b] = argv;
  if (transport === 'unix') return { impl, path: a };
  if (transport === 'tcp') return { impl, host: a, port: Number(b) };
  if (transport) throw new Error('usage: <impl> [unix <path> | tcp <host> <port>]');
  return { impl };
}

module.exports = { loadIpc, parseArgs };
