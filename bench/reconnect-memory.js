'use strict';

// Memory over reconnects: a client that connects, does one round trip and disconnects, again and
// again, against a node-ipc-rs server in a child process. Every `every` cycles (and before the
// first) it runs gc() and prints its own RSS (with its anonymous and file-backed parts), V8 heap
// used and open fds, so a leak per connection shows as a trend.
//
//   node --expose-gc bench/reconnect-memory.js [cycles=3000] [every=500]

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

if (typeof gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(1);
}
const cycles = Number(process.argv[2] || 3000);
const every = Number(process.argv[3] || 500);
const root = path.join(__dirname, '..');
const sock = path.join(os.tmpdir(), `nirs-reconnect-${process.pid}.sock`);

const serverCode = `
  const { IPC } = require(${JSON.stringify(root)});
  const ipc = new IPC();
  ipc.config.silent = true;
  ipc.serve(${JSON.stringify(sock)}, () => {
    ipc.server.on('ping', (d, s) => ipc.server.emit(s, 'pong', d));
    console.log('READY');
  });
  ipc.server.start();
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => process.exit(0));
`;

function status() {
  const text = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (name) => Number((text.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm')) || [])[1] || 0) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

function report(n) {
  gc();
  const s = status();
  const heap = process.memoryUsage().heapUsed / 1048576;
  const fds = fs.readdirSync('/proc/self/fd').length;
  console.log(
    `${String(n).padStart(6)}  rss ${s.rss.toFixed(1)} MiB (anon ${s.anon.toFixed(1)}, file ${s.file.toFixed(1)})  heap used ${heap.toFixed(1)} MiB  fds ${fds}`,
  );
}

function roundTrip(ipc, i) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cycle ${i}: no pong within 5 s`)), 5000);
    ipc.connectTo('s', sock, () => {
      const c = ipc.of.s;
      c.on('connect', () => c.emit('ping', { i }));
      c.on('pong', (d) => {
        if (d.i !== i) return;
        clearTimeout(timer);
        ipc.disconnect('s');
        setImmediate(resolve);
      });
    });
  });
}

async function main() {
  const server = spawn(process.execPath, ['-e', serverCode], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    server.stdout.on('data', (d) => String(d).includes('READY') && resolve());
    server.on('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const { IPC } = require(root);
  const ipc = new IPC();
  ipc.config.silent = true;
  ipc.config.maxRetries = 0;
  console.log(`node-ipc-rs: ${cycles} connect / round trip / disconnect cycles (Unix socket), Node ${process.version}`);
  report(0);
  for (let i = 1; i <= cycles; i++) {
    await roundTrip(ipc, i);
    if (i % every === 0) report(i);
  }
  server.stdin.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
