#!/usr/bin/env node
'use strict';

/*
 * Load and soak runs (issue #11): many clients, connection churn and stalled consumers against one
 * node-ipc-rs server, printing memory (RSS, V8 heap, external), open fds and round-trip latency
 * percentiles over time. Not a test: nothing is asserted except that the run itself works (the
 * exit status is 1 if a process died or a steady client lost its connection).
 *
 *   npm run load                          60 s, 200 clients (a short, heavy run)
 *   npm run soak                          600 s, 50 clients (the long run)
 *   npm run soak -- --duration 120 --clients 20 --payload 1024
 *   node bench/load.js --help
 *
 * Processes: this driver, the server (node-ipc-rs `serve` on a Unix socket, or `serveNet` with
 * --tcp), and one client process holding
 *   - `--clients` steady clients, each sending a `ping` {t, pad} every `--rate` ms and timing the
 *     `pong` the server sends back (the latency figures);
 *   - `--churn` clients per second that connect, send one ping, wait for its pong and disconnect;
 *   - `--stalled` raw sockets that connect and never read, while the server broadcasts a `tick`
 *     of `--tick` bytes to everyone every 50 ms: each stalled socket's unsent bytes grow until
 *     the server's maxPendingBytes (`--max-pending`, default 1 MiB here) drops it with
 *     ERR_IPC_BACKPRESSURE; it then reconnects and stalls again.
 * Every `--interval` seconds the driver prints one line per process: rss/heap/ext in MiB, fds,
 * connections, and for the clients: pongs/s, p50/p99/max latency in ms (of that interval), churn
 * cycles, backpressure drops seen by the server. At the end: the first and last lines, and the
 * growth in between.
 */

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

function parse(argv) {
  const o = {
    role: 'driver',
    duration: 60,
    clients: 200,
    rate: 100,
    payload: 256,
    churn: 20,
    stalled: 2,
    interval: 10,
    tick: 4096,
    maxPending: 1024 * 1024,
    tcp: false,
    address: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--help' || a === '-h') o.help = true;
    else if (a === '--role') o.role = next();
    else if (a === '--duration') o.duration = Number(next());
    else if (a === '--clients') o.clients = Number(next());
    else if (a === '--rate') o.rate = Number(next());
    else if (a === '--payload') o.payload = Number(next());
    else if (a === '--churn') o.churn = Number(next());
    else if (a === '--stalled') o.stalled = Number(next());
    else if (a === '--interval') o.interval = Number(next());
    else if (a === '--max-pending') o.maxPending = Number(next());
    else if (a === '--tick') o.tick = Number(next());
    else if (a === '--tcp') o.tcp = true;
    else if (a === '--address') o.address = next();
    else {
      process.stderr.write(`unknown flag ${a}\n`);
      process.exit(2);
    }
  }
  return o;
}

const USAGE = `usage: node bench/load.js [--duration S] [--clients N] [--rate MS] [--payload BYTES] [--churn N/s]
                         [--stalled N] [--interval S] [--max-pending BYTES] [--tcp]
  --duration S       run time (default 60; npm run soak: 600)
  --clients N        steady clients (default 200; soak: 50)
  --rate MS          each steady client pings every MS ms (default 100)
  --payload BYTES    size of each ping's pad and of the broadcast tick (default 256)
  --churn N          connect/ping/disconnect cycles started per second (default 20)
  --stalled N        sockets that never read (default 2)
  --interval S       report every S seconds (default 10)
  --tick BYTES       size of the tick broadcast to every connection every 50 ms (default 4096)
  --max-pending B    the server's config.maxPendingBytes (default 1 MiB)
  --tcp              TCP on 127.0.0.1 instead of a Unix socket`;

function mib(n) {
  return (n / 1048576).toFixed(1);
}

function fds() {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, ext: m.external + m.arrayBuffers, fds: fds() };
}

function report(obj) {
  process.stdout.write(`STAT ${JSON.stringify(obj)}\n`);
}

function loadIpc(id) {
  const ipc = require(ROOT);
  ipc.config.id = id;
  ipc.config.silent = true;
  ipc.config.retry = 200;
  return ipc;
}

function connectArgs(o) {
  if (!o.tcp) return { path: o.address };
  const i = o.address.lastIndexOf(':');
  return { host: o.address.slice(0, i), port: Number(o.address.slice(i + 1)) };
}

// ---- server ----

function server(o) {
  const ipc = loadIpc('load-server');
  ipc.config.maxPendingBytes = o.maxPending;
  ipc.config.maxConnections = 1e9;
  let drops = 0;
  let pings = 0;
  const onStart = () => process.stdout.write('READY\n');
  if (o.tcp) {
    const a = connectArgs(o);
    ipc.serveNet(a.host, a.port, onStart);
  } else ipc.serve(o.address, onStart);
  ipc.server.on('ping', (data, socket) => {
    pings++;
    ipc.server.emit(socket, 'pong', data);
  });
  ipc.server.on('error', (err) => {
    if (err && err.code === 'ERR_IPC_BACKPRESSURE') drops++;
  });
  ipc.server.start();
  const tick = { pad: 'b'.repeat(o.tick) };
  setInterval(() => ipc.server.broadcast('tick', tick), 50);
  setInterval(() => report({ who: 'server', ...memory(), conns: ipc.server.sockets.length, pings, drops }), o.interval * 1000);
}

// ---- clients ----

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function clients(o) {
  const { IPC } = require(ROOT);
  const a = connectArgs(o);
  const pad = 'p'.repeat(o.payload);
  let lat = [];
  let pongs = 0;
  let cycles = 0;
  let lost = 0;
  let stalledConns = 0;

  const connect = (ipc, id, cb) => {
    if (o.tcp) ipc.connectToNet(id, a.host, a.port, cb);
    else ipc.connectTo(id, a.path, cb);
  };
  const fresh = (id) => {
    const ipc = new IPC();
    ipc.config.silent = true;
    ipc.config.id = id;
    ipc.config.retry = 200;
    return ipc;
  };

  // Steady clients, started over the first second.
  for (let i = 0; i < o.clients; i++) {
    setTimeout(
      () => {
        const ipc = fresh(`steady-${i}`);
        connect(ipc, 'srv', () => {
          const c = ipc.of.srv;
          let up = false;
          c.on('connect', () => {
            up = true;
          });
          c.on('disconnect', () => {
            if (up) lost++;
            up = false;
          });
          c.on('pong', (d) => {
            pongs++;
            lat.push(performance.now() - d.t);
          });
          c.on('error', () => {});
          setInterval(() => {
            if (up) c.emit('ping', { t: performance.now(), pad });
          }, o.rate);
        });
      },
      (i * 1000) / Math.max(1, o.clients),
    );
  }

  // Churn: connect, one round trip, disconnect.
  let churnId = 0;
  if (o.churn > 0) {
    setInterval(() => {
      const id = `churn-${churnId++}`;
      const ipc = fresh(id);
      connect(ipc, 'srv', () => {
        const c = ipc.of.srv;
        const done = setTimeout(() => ipc.disconnect('srv'), 5000);
        c.on('connect', () => c.emit('ping', { t: performance.now(), pad: '' }));
        c.on('pong', () => {
          clearTimeout(done);
          cycles++;
          ipc.disconnect('srv');
        });
        c.on('error', () => {});
      });
    }, 1000 / o.churn);
  }

  // Stalled consumers: connect and never read (a paused socket does not even see the server
  // close it); each is replaced by a fresh one every 20 s.
  const stall = () => {
    const s = net.connect(o.tcp ? { host: a.host, port: a.port } : a.path);
    s.on('connect', () => {
      stalledConns++;
      s.pause();
    });
    s.on('error', () => {});
    setTimeout(() => {
      s.destroy();
      stall();
    }, 20000);
  };
  for (let i = 0; i < o.stalled; i++) stall();

  setInterval(() => {
    const sorted = Float64Array.from(lat).sort();
    report({
      who: 'clients',
      ...memory(),
      pongsPerSec: Math.round(pongs / o.interval),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
      cycles,
      lost,
      stalledConns,
    });
    lat = [];
    pongs = 0;
  }, o.interval * 1000);
}

// ---- driver ----

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function driver(o) {
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const address = o.tcp ? `127.0.0.1:${await freePort()}` : path.join(os.tmpdir(), `nirs-load-${process.pid}.sock`);
  const common = [
    '--duration',
    o.duration,
    '--clients',
    o.clients,
    '--rate',
    o.rate,
    '--payload',
    o.payload,
    '--churn',
    o.churn,
    '--stalled',
    o.stalled,
    '--interval',
    o.interval,
    '--max-pending',
    o.maxPending,
    '--tick',
    o.tick,
    '--address',
    address,
  ].map(String);
  if (o.tcp) common.push('--tcp');
  process.stdout.write(
    `node-ipc-rs load: ${o.duration} s, ${o.clients} steady clients (ping every ${o.rate} ms), ${o.churn} churn/s, ` +
      `${o.stalled} stalled, payload ${o.payload} B, tick ${o.tick} B/50 ms, maxPendingBytes ${o.maxPending}, ${o.tcp ? 'TCP' : 'Unix socket'}; ` +
      `Node ${process.version}, ${os.cpus().length} CPUs\n`,
  );
  process.stdout.write('    t  who       rss   heap    ext  fds  conns  pongs/s   p50ms   p99ms   maxms  churn  drops lost\n');
  const children = [];
  let failed = false;
  const spawnRole = (role) => {
    const child = spawn(process.execPath, [__filename, '--role', role, ...common], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        failed = true;
        process.stderr.write(`${role} exited (${code ?? signal}) during the run\n`);
        stop();
      }
    });
    return child;
  };
  const t0 = Date.now();
  const lines = { server: [], clients: [] };
  let lastServer = null;
  const onStat = (line) => {
    const s = JSON.parse(line.slice(5));
    const t = Math.round((Date.now() - t0) / 1000);
    lines[s.who].push({ t, ...s });
    if (s.who === 'server') lastServer = s;
    else {
      if (s.lost > 0) failed = true;
      const srv = lastServer || {};
      const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-').padStart(7);
      process.stdout.write(
        `${String(t).padStart(5)}  server ${mib(srv.rss || 0).padStart(6)} ${mib(srv.heap || 0).padStart(6)} ${mib(srv.ext || 0).padStart(6)} ${String(srv.fds).padStart(4)} ${String(srv.conns).padStart(6)}\n` +
          `${String(t).padStart(5)}  clients${mib(s.rss).padStart(6)} ${mib(s.heap).padStart(6)} ${mib(s.ext).padStart(6)} ${String(s.fds).padStart(4)} ${''.padStart(6)} ${String(s.pongsPerSec).padStart(8)} ${f(s.p50)} ${f(s.p99)} ${f(s.max)} ${String(s.cycles).padStart(6)} ${String(srv.drops).padStart(6)} ${String(s.lost).padStart(4)}\n`,
      );
    }
  };
  const lineReader = (child) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('STAT ')) onStat(line);
        else if (line === 'READY' && child === srv) startClients();
      }
    });
  };
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) c.kill('SIGKILL');
    if (!o.tcp) fs.rmSync(address, { force: true });
    summary();
    process.exitCode = failed ? 1 : 0;
  };
  const summary = () => {
    for (const who of ['server', 'clients']) {
      const l = lines[who];
      if (l.length < 2) continue;
      const a = l[0];
      const b = l[l.length - 1];
      process.stdout.write(
        `${who}: t=${a.t}s rss ${mib(a.rss)} heap ${mib(a.heap)} fds ${a.fds} -> t=${b.t}s rss ${mib(b.rss)} heap ${mib(b.heap)} fds ${b.fds}` +
          ` (rss ${b.rss >= a.rss ? '+' : ''}${mib(b.rss - a.rss)} MiB, max rss ${mib(Math.max(...l.map((x) => x.rss)))} MiB)\n`,
      );
    }
    const c = lines.clients;
    if (c.length) {
      const p99s = c.map((x) => x.p99).filter(Number.isFinite);
      process.stdout.write(
        `latency p99 per interval: min ${Math.min(...p99s).toFixed(2)} ms, median ${p99s.sort((x, y) => x - y)[p99s.length >> 1].toFixed(2)} ms, max ${Math.max(...p99s).toFixed(2)} ms; ` +
          `churn cycles ${c[c.length - 1].cycles}; stalled consumers dropped ${lastServer ? lastServer.drops : '?'} times; steady clients lost ${c[c.length - 1].lost}\n`,
      );
    }
  };
  const srv = spawnRole('server');
  lineReader(srv);
  let started = false;
  const startClients = () => {
    if (started) return;
    started = true;
    lineReader(spawnRole('clients'));
    setTimeout(stop, o.duration * 1000 + 200);
  };
  process.on('SIGINT', stop);
}

const o = parse(process.argv.slice(2));
if (o.role !== 'driver') {
  // Children leave with the driver.
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => process.exit(0));
}
if (o.role === 'server') server(o);
else if (o.role === 'clients') clients(o);
else driver(o);
