'use strict';

// Memory cost of an idle connection on the server side: a server process accepts N connections
// (opened by a second process), then reports its RSS and JS heap growth per connection.
//
//   node --expose-gc bench/idle-connections.js [node-ipc-rs|node-ipc-12] [N]
//
// (raise `ulimit -n` for N above ~1000.)

const { fork } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const which = process.argv[2] || 'node-ipc-rs';
const N = Number(process.argv[3] || 1000);
const sock = path.join(os.tmpdir(), `nirs-idle-${process.pid}.sock`);

function load(name) {
  if (name === 'node-ipc-rs') return require('..');
  const m = require(name);
  return m.default || m;
}

if (process.argv[4] === 'clients') {
  const ipc = load(which);
  let up = 0;
  for (let i = 0; i < N; i++) {
    const c = new ipc.IPC();
    c.config.silent = true;
    c.connectTo('s', process.argv[5], () =>
      c.of.s.on('connect', () => {
        if (++up === N) process.send('up');
      }),
    );
  }
  process.on('message', () => process.exit(0));
} else {
  const ipc = load(which);
  ipc.config.silent = true;
  ipc.config.maxConnections = N + 10;
  ipc.serve(sock, () => {
    if (global.gc) global.gc();
    const before = process.memoryUsage();
    const child = fork(__filename, [which, String(N), 'clients', sock]);
    const timer = setTimeout(() => {
      console.error('timed out');
      child.kill('SIGKILL');
      process.exit(1);
    }, 60000);
    child.on('message', () =>
      setTimeout(() => {
        clearTimeout(timer);
        if (global.gc) global.gc();
        const after = process.memoryUsage();
        const kib = (b) => (b / N / 1024).toFixed(1);
        console.log(
          `${which}: ${ipc.server.sockets.length} idle connections; per connection: RSS ${kib(after.rss - before.rss)} KiB, JS heap ${kib(after.heapUsed - before.heapUsed)} KiB`,
        );
        child.send('bye');
        for (const s of ipc.server.sockets.slice()) s.destroy();
        ipc.server.stop();
      }, 500),
    );
  });
  ipc.server.start();
}
