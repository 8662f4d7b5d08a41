'use strict';

// One raw echo (bench/raw.js: 1 GiB in 64 KiB chunks, 1 MiB window) with any server and any client,
// reporting where each side's time went: user and system CPU seconds and minor page faults (from
// /proc/<pid>/stat; the server's counted from when it is ready, the client's for its whole life).
//
//   node bench/raw-cpu.js unix|tcp <server impl> <client impl> [runs]
//
// impl: node-ipc-rs, node-ipc-12, node-ipc-14, net-naive (bench/raw.js) or tokio
// (examples/bench_tokio_echo.rs, built on demand as bench/run.js builds it).
// Linux only. The environment passes through, so NIRS_NO_EXTERNAL_BUFFERS=1 (raw reads into Node
// Buffers, the path used where external buffers are refused) can be compared with the default.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { ROOT, cargoExample } = require('./procs.js');

const TOKIO = cargoExample('bench_tokio_echo', () => [path.join(ROOT, 'examples', 'bench_tokio_echo.rs')]);
const [transport, serverImpl, clientImpl, runsArg] = process.argv.slice(2);
if (!['unix', 'tcp'].includes(transport) || !serverImpl || !clientImpl) {
  process.stderr.write('usage: node bench/raw-cpu.js unix|tcp <server impl> <client impl> [runs]\n');
  process.exit(2);
}
const runs = Number(runsArg) || 1;
const TICK = 100; // clock ticks per second in /proc/<pid>/stat (USER_HZ)

function stat(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) / TICK, sys: Number(fields[12]) / TICK, faults: Number(fields[7]) };
}

function command(impl, role, address, extra) {
  if (impl === 'tokio') return [TOKIO.bin, 'raw', role, transport, address, ...extra];
  return [process.execPath, path.join(__dirname, 'raw.js'), impl, role, transport, address, ...extra];
}

function once() {
  const address =
    transport === 'unix'
      ? path.join(os.tmpdir(), `nirs-raw-cpu-${process.pid}-${Date.now()}.sock`)
      : `127.0.0.1:${20000 + Math.floor(Math.random() * 20000)}`;
  return new Promise((resolve, reject) => {
    const s = command(serverImpl, 'server', address, []);
    const server = spawn(s[0], s.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    server.on('error', reject);
    let started = false;
    server.stdout.on('data', (d) => {
      if (started || !String(d).includes('READY')) return;
      started = true;
      const s0 = stat(server.pid);
      const c = command(clientImpl, 'client', address, ['raw', String(2 ** 30), '65536', String(2 ** 20)]);
      const client = spawn(c[0], c.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
      client.on('error', reject);
      client.stdout.on('data', (d2) => {
        const m = String(d2).match(/RESULT (.*)/);
        if (!m) return;
        const result = JSON.parse(m[1]);
        const c1 = stat(client.pid);
        const s1 = stat(server.pid);
        client.stdin.end();
        server.stdin.end();
        resolve({
          mbPerSec: Math.round(result.mbPerSec),
          server: { user: s1.user - s0.user, sys: s1.sys - s0.sys, faults: s1.faults - s0.faults },
          client: c1,
        });
      });
    });
  });
}

async function main() {
  if (serverImpl === 'tokio' || clientImpl === 'tokio') TOKIO.prepare({ build: true });
  const f = (x) => x.toFixed(2);
  for (let i = 0; i < runs; i++) {
    const r = await once();
    process.stdout.write(
      `${transport} ${serverImpl} <- ${clientImpl}: ${r.mbPerSec.toLocaleString('en-US')} MB/s; ` +
        `server user ${f(r.server.user)} s, system ${f(r.server.sys)} s, ${r.server.faults} faults; ` +
        `client user ${f(r.client.user)} s, system ${f(r.client.sys)} s, ${r.client.faults} faults\n`,
    );
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
