#!/usr/bin/env node
'use strict';

/*
 * node-ipc-rs benchmark harness (issue #5)
 * ========================================
 *
 *   npm run bench                      full run: 3 rounds, 1,000,000 messages per throughput run
 *   npm run bench -- --quick           CI smoke run: 3 rounds of 50,000 messages (about 2 minutes)
 *   node bench/run.js --only node-ipc-rs,node-ipc-14 --rounds 5
 *   node bench/run.js --help           all flags
 *
 * What is measured
 * ----------------
 * Every contender is an echo server and a client, each its own child process. For each transport
 * (Unix socket, TCP on 127.0.0.1) three client runs are made, each against a fresh server:
 *
 *   msgs/s       throughput: N messages pipelined (at most --window, default 10,000, in flight),
 *                each echoed by the server; N / (time from the first send to the N-th echo).
 *   p50/p99 µs   latency: one message in flight, round trip measured by the client, after a
 *                warm-up; client and server unpinned ...
 *   pin p50/p99  ... and both pinned to CPU 0 with `taskset -c 0` (no cross-CPU wake-ups, but the
 *                two processes share one core).
 *   RSS MB       peak resident set (VmHWM from /proc/<pid>/status) of the client and of the
 *                server, read at the end of the throughput run, in MiB.
 *
 * Every message is a node-ipc envelope {"type":"echo","data":D} followed by the '\f' delimiter,
 * where D = {"seq":<n>,"s":"xxx…"} is 64 bytes of JSON (for a 6-digit seq). The client checks that
 * it gets back exactly the sequence numbers it sent, in order, once each (and nothing in the
 * 100 ms after the last one, and no 10 s without an echo), or the run fails. Speed is never
 * asserted.
 *
 * Contenders (names for --only)
 *   node-ipc-rs   this repository (require('../')), Node <-> Node, node-ipc API
 *   node-ipc-12   node-ipc@12.0.0 (devDependency alias node-ipc-12), same scripts
 *   node-ipc-14   node-ipc@14.0.0 (alias node-ipc-14, ESM), same scripts; its default profile is fast
 *                 (the three run bench/ipc-server.js + bench/ipc-client.js <module>)
 *   node-ipc-rs-fast, node-ipc-rs-guarded, node-ipc-14-guarded
 *                 the same with ipc.config.parser set on both sides (node-ipc 14 profiles, their
 *                 default limits); the last table gives guarded / fast for each implementation.
 *   net-naive     hand-written node:net, '\f' framing, JSON parse/stringify, one write per frame
 *   net-batched   the same, frames written once per tick
 *   tokio         examples/bench_tokio_echo.rs: plain tokio, memchr framing, the server echoes
 *                 frames without parsing them; the upper limit.
 *   rust-json     node-ipc-rs's Rust API (src/ipc), Rust <-> Rust: examples/bench_rust_ipc.rs json;
 *                 ipc::Server echoes each ServerEvent::Message with peer.emit("echo", &message.data),
 *                 ipc::Client sends with emit("echo", &Echo { seq, s }) and reads data.seq from
 *                 each ClientEvent::Message (both sides decode and encode JSON).
 *   rust-raw      the same API in raw mode (Config { raw: true, .. }): bench_rust_ipc raw.
 *                 The payloads are '\f'-delimited, and are the very same bytes as every other
 *                 contender's (the node-ipc envelope above), handled the way the tokio contender
 *                 handles them: no JSON on either side; the server keeps any unfinished frame of
 *                 each ServerEvent::Data chunk and echoes the complete frames with peer.send_raw;
 *                 the client builds the frames itself, sends each refill of the window with one
 *                 send_raw, splits the ClientEvent::Data chunks with memchr and reads seq without
 *                 a parser. Same bytes, same work, same current-thread runtime: rust-raw / tokio
 *                 (printed as its own table, with rust-json / tokio) is what the API itself costs
 *                 (event channel, one Vec per read, the writer task), the figure behind the
 *                 "raw mode >= 50% of plain tokio" target. (Fixed-size payloads would have needed
 *                 a different tokio contender and made the figures incomparable with the rest.)
 *   node-rust     mixed: the node-ipc-rs Node client (bench/ipc-client.js node-ipc-rs) against the
 *                 Rust API server (bench_rust_ipc json).
 *   rust-node     mixed, the other way: the Rust API client (bench_rust_ipc json) against the
 *                 node-ipc-rs Node server (bench/ipc-server.js node-ipc-rs).
 *                 The Rust examples are built on demand, in release mode, when the binary is
 *                 missing or older than its source (for bench_rust_ipc: also src/**, Cargo.toml,
 *                 Cargo.lock, since it measures the library): `cargo build --release --example
 *                 bench_tokio_echo` / `--example bench_rust_ipc`. --no-build uses the binaries
 *                 as they are. A failed build fails those contenders only.
 *
 * Rounds: the contenders alternate within each round (for each transport and kind of run, each
 * contender in turn, the order rotated every round), so that drift in machine load hits them
 * alike. The table shows the median over rounds of each figure.
 *
 * How to read the output
 * ----------------------
 * A legend (contender names and what they are), then one table per transport, one line per
 * contender. Then the ratios node-ipc-rs / contender: for each round the ratio of node-ipc-rs's
 * figure to the contender's figure in that same round, then the median of those per-round ratios.
 * msgs/s: above 1 means node-ipc-rs is faster. µs and MB: below 1 means node-ipc-rs is better
 * (lower latency, less memory). Then the same for rust-raw / tokio and rust-json / tokio (when
 * tokio ran): msgs/s 0.50x means half of plain tokio's throughput. Last, guarded / fast for
 * node-ipc-rs and for node-ipc 14: msgs/s 0.95x means guarded costs 5% of fast's throughput.
 * The full results (every round, every run, both RSS, mean and max latency) are written to
 * bench/results/<date>[-quick].json (git-ignored).
 *
 * Exit status: 0 if every selected contender ran; 1 if any failed (its error is printed, the
 * others still run); 2 on bad flags. Contenders marked `skip` in CONTENDERS (none at present) are
 * listed as skipped and do not count as failures.
 * Children are bounded by timeouts and always killed; sockets live in a temporary directory
 * under os.tmpdir() that is removed at the end; TCP ports are picked free for every run.
 * On a 2-core machine the pinned and unpinned figures differ a lot; compare contenders with each
 * other, not across machines. p99 is sensitive to anything else running (a cargo build next door
 * shows up there first); quick mode's 2,000 samples make its p99 the 20th-worst round trip.
 *
 * Files
 *   bench/run.js                   this harness: spawns the children, collects their results; the
 *                                  clients do the timing themselves
 *   bench/common.js                child side: argv, payload, the client loop and its checks
 *   bench/ipc-server.js, ipc-client.js, ipc-common.js
 *                                  node-ipc API contenders, parameterised by module
 *   bench/net-server.js, net-client.js, net-common.js
 *                                  node:net contenders, parameterised by naive|batched
 *   examples/bench_tokio_echo.rs   the tokio contender
 *   examples/bench_rust_ipc.rs     the Rust API contenders (json|raw, server|client, unix|tcp)
 * Each child can be run by hand, e.g.
 *   node bench/ipc-server.js node-ipc-14 server unix /tmp/x.sock
 *   node bench/ipc-client.js node-ipc-14 client unix /tmp/x.sock throughput 50000 10000
 *   target/release/examples/bench_rust_ipc raw server tcp 127.0.0.1:9000
 *   target/release/examples/bench_rust_ipc raw client tcp 127.0.0.1:9000 latency 2000 2000
 * (children exit when their stdin closes; from a terminal, stop them with Ctrl-C).
 */

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const NODE = process.execPath;

// ---------------------------------------------------------------------------------------------
// Flags

function usage(code) {
  const text = `usage: node bench/run.js [--quick] [--rounds N] [--only a,b,...] [--n N] [--window W]
                        [--samples S] [--warmup W] [--transports unix,tcp] [--no-build] [--no-json]
  --quick        small CI smoke run (3 rounds, N=50,000, 2,000 latency samples)
  --rounds N     rounds (default 3, also in quick mode)
  --only list    contenders to run: ${CONTENDERS.map((c) => c.name).join(', ')}
  --n N          messages per throughput run (default 1,000,000; quick: 50,000)
  --window W     max messages in flight in the throughput run (default 10,000)
  --samples S    latency samples per run (default 20,000; quick: 2,000)
  --warmup W     untimed round trips before them (default 5,000; quick: 2,000; V8 needs them)
  --transports   unix,tcp (default both)
  --no-build     do not run cargo for the Rust contenders (use the binaries as they are)
  --no-json      do not write bench/results/*.json`;
  (code ? process.stderr : process.stdout).write(text + '\n');
  process.exit(code);
}

function parseFlags(argv) {
  const o = {
    quick: false,
    rounds: null,
    only: null,
    n: null,
    window: 10000,
    samples: null,
    warmup: null,
    transports: ['unix', 'tcp'],
    build: true,
    json: true,
  };
  const num = (v, name) => {
    const x = Number(String(v).replace(/_/g, ''));
    if (!Number.isInteger(x) || x <= 0) {
      process.stderr.write(`bad value for ${name}: ${v}\n`);
      usage(2);
    }
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq !== -1) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const val = () => (v !== undefined ? v : argv[++i]);
    switch (a) {
      case '--quick':
        o.quick = true;
        break;
      case '--rounds':
        o.rounds = num(val(), a);
        break;
      case '--only':
        o.only = String(val() || '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--n':
        o.n = num(val(), a);
        break;
      case '--window':
        o.window = num(val(), a);
        break;
      case '--samples':
        o.samples = num(val(), a);
        break;
      case '--warmup':
        o.warmup = Number(val());
        break;
      case '--transports':
        o.transports = String(val() || '')
          .split(',')
          .filter(Boolean);
        break;
      case '--no-build':
        o.build = false;
        break;
      case '--no-json':
        o.json = false;
        break;
      case '-h':
      case '--help':
        usage(0);
        break;
      default:
        process.stderr.write(`unknown flag ${argv[i]}\n`);
        usage(2);
    }
  }
  o.rounds = o.rounds ?? 3;
  o.n = o.n ?? (o.quick ? 50000 : 1000000);
  o.samples = o.samples ?? (o.quick ? 2000 : 20000);
  o.warmup = o.warmup ?? (o.quick ? 2000 : 5000);
  if (!(o.warmup >= 0)) usage(2);
  for (const t of o.transports)
    if (t !== 'unix' && t !== 'tcp') {
      process.stderr.write(`unknown transport ${t}\n`);
      usage(2);
    }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Contenders

const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');

// A cargo example built in release mode on demand: when its binary is missing or older than any
// of its sources. Built at most once per harness run, however many contenders use it.
function cargoExample(name, sources) {
  const bin = path.join(TARGET_DIR, 'release', 'examples', name);
  let outcome = null; // null: not tried yet; true: ready; Error: failed
  const newestSource = () => Math.max(...sources().map((f) => fs.statSync(f).mtimeMs));
  function prepare(flags) {
    if (outcome === null) {
      try {
        build(flags);
        outcome = true;
      } catch (err) {
        outcome = err;
      }
    }
    if (outcome !== true) throw outcome;
  }
  function build(flags) {
    let stale = true;
    try {
      stale = fs.statSync(bin).mtimeMs < newestSource();
    } catch {
      stale = true;
    }
    if (!stale) return;
    if (!flags.build) {
      if (fs.existsSync(bin)) return; // use what is there
      throw new Error(`${bin} is missing (run: cargo build --release --example ${name})`);
    }
    log(`building ${name}: cargo build --release --example ${name}`);
    const r = spawnSync('cargo', ['build', '--release', '--example', name], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 15 * 60 * 1000,
    });
    if (r.error) throw new Error(`cargo build failed: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`cargo build --release --example ${name} exited with ${r.status ?? r.signal}`);
    if (!fs.existsSync(bin)) throw new Error(`cargo build succeeded but ${bin} is missing`);
  }
  return { bin, prepare };
}

// Every .rs file under dir.
function rustFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...rustFiles(f));
    else if (e.name.endsWith('.rs')) out.push(f);
  }
  return out;
}

// The tokio contender does not use the library: its own source is enough.
const TOKIO = cargoExample('bench_tokio_echo', () => [path.join(ROOT, 'examples', 'bench_tokio_echo.rs')]);
// The Rust API contenders measure the library: rebuild when it changes too.
const RUST_IPC = cargoExample('bench_rust_ipc', () => [
  path.join(ROOT, 'examples', 'bench_rust_ipc.rs'),
  ...rustFiles(path.join(ROOT, 'src')),
  path.join(ROOT, 'Cargo.toml'),
  ...(fs.existsSync(path.join(ROOT, 'Cargo.lock')) ? [path.join(ROOT, 'Cargo.lock')] : []),
]);

const ipcContender = (name, label) => ({
  name,
  label,
  server: [NODE, path.join(__dirname, 'ipc-server.js'), name],
  client: [NODE, path.join(__dirname, 'ipc-client.js'), name],
});
const netContender = (variant, label) => ({
  name: `net-${variant}`,
  label,
  server: [NODE, path.join(__dirname, 'net-server.js'), variant],
  client: [NODE, path.join(__dirname, 'net-client.js'), variant],
});
// The node-ipc-rs shim's side of the mixed contenders (bench/ipc-server.js, ipc-client.js).
const NODE_IPC_RS = ipcContender('node-ipc-rs', '');

const CONTENDERS = [
  ipcContender('node-ipc-rs', 'node-ipc-rs Node<->Node'),
  ipcContender('node-ipc-rs-stream', 'node-ipc-rs Node<->Node, stream transport'),
  ipcContender('node-ipc-rs-fast', "node-ipc-rs, parser: 'fast' (node-ipc 14 profile)"),
  ipcContender('node-ipc-rs-guarded', "node-ipc-rs, parser: 'guarded' (node-ipc 14 profile)"),
  ipcContender('node-ipc-12', 'node-ipc@12.0.0'),
  ipcContender('node-ipc-14', 'node-ipc@14.0.0 (its default: fast)'),
  ipcContender('node-ipc-14-guarded', "node-ipc@14.0.0, parser: 'guarded'"),
  netContender('naive', 'node:net, write per frame'),
  netContender('batched', 'node:net, write per tick'),
  {
    name: 'tokio',
    label: 'tokio echo (Rust, upper limit)',
    server: [TOKIO.bin, 'tokio'],
    client: [TOKIO.bin, 'tokio'],
    prepare: TOKIO.prepare,
  },
  {
    name: 'rust-json',
    label: 'node-ipc-rs Rust API, Rust<->Rust, JSON',
    server: [RUST_IPC.bin, 'json'],
    client: [RUST_IPC.bin, 'json'],
    prepare: RUST_IPC.prepare,
  },
  {
    name: 'rust-raw',
    label: 'node-ipc-rs Rust API, Rust<->Rust, raw mode',
    server: [RUST_IPC.bin, 'raw'],
    client: [RUST_IPC.bin, 'raw'],
    prepare: RUST_IPC.prepare,
  },
  {
    name: 'node-rust',
    label: 'node-ipc-rs Node client -> Rust API server',
    server: [RUST_IPC.bin, 'json'],
    client: NODE_IPC_RS.client,
    prepare: RUST_IPC.prepare,
  },
  {
    name: 'rust-node',
    label: 'Rust API client -> node-ipc-rs Node server',
    server: NODE_IPC_RS.server,
    client: [RUST_IPC.bin, 'json'],
    prepare: RUST_IPC.prepare,
  },
];
const BASELINE = 'node-ipc-rs';
// Second ratio table: the Rust API against plain tokio (contender / tokio).
const RUST_BASELINE = 'tokio';
const VS_RUST_BASELINE = ['rust-raw', 'rust-json'];
// Third ratio table: what the guarded profile costs (guarded / fast, same implementation).
const PROFILE_PAIRS = [
  ['node-ipc-rs-guarded', 'node-ipc-rs-fast'],
  ['node-ipc-14-guarded', 'node-ipc-14'],
];

// ---------------------------------------------------------------------------------------------
// Child processes

const live = new Set();
let tmpDir = null;

function log(s) {
  process.stdout.write(s + '\n');
}

function spawnChild(argv, pinned) {
  const cmd = pinned ? ['taskset', '-c', '0', ...argv] : argv;
  const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.lines = [];
  child.stderrText = '';
  child.exited = false;
  child.waiters = [];
  child.on('error', (err) => {
    child.spawnError = err;
    child.exited = true;
    live.delete(child);
    child.waiters.forEach((w) => w());
  });
  child.stdin.on('error', () => {});
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) !== -1) {
      child.lines.push(out.slice(0, i));
      out = out.slice(i + 1);
      child.waiters.forEach((w) => w());
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    child.stderrText = (child.stderrText + d).slice(-4000);
  });
  child.on('exit', (code, signal) => {
    child.exited = true;
    child.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
    live.delete(child);
    child.waiters.forEach((w) => w());
  });
  return child;
}

function describeExit(child, what) {
  const err = child.spawnError ? `could not start (${child.spawnError.message})` : `exited (${child.exitInfo})`;
  const tail = child.stderrText.trim().split('\n').slice(-8).join('\n    ');
  return `${what} ${err}${tail ? `:\n    ${tail}` : ''}`;
}

// Resolves with the first stdout line starting with `prefix`; rejects on exit or timeout.
function waitLine(child, prefix, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let timer = null;
    const check = () => {
      const line = child.lines.find((l) => l.startsWith(prefix));
      if (line !== undefined) return done(null, line);
      if (child.exited) return done(new Error(describeExit(child, what)));
    };
    const done = (err, line) => {
      clearTimeout(timer);
      child.waiters = child.waiters.filter((w) => w !== check);
      if (err) reject(err);
      else resolve(line);
    };
    timer = setTimeout(() => {
      const tail = child.stderrText.trim().split('\n').slice(-8).join('\n    ');
      done(new Error(`${what} timed out after ${timeoutMs / 1000}s waiting for ${prefix.trim()}${tail ? `:\n    ${tail}` : ''}`));
    }, timeoutMs);
    child.waiters.push(check);
    check();
  });
}

async function killChild(child) {
  if (!child || child.exited) return;
  const exited = new Promise((resolve) => child.waiters.push(() => child.exited && resolve()));
  try {
    child.kill('SIGTERM');
  } catch {}
  const t = setTimeout(() => {
    try {
      child.kill('SIGKILL');
    } catch {}
  }, 1000);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  clearTimeout(t);
  if (!child.exited) {
    try {
      child.kill('SIGKILL');
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
  }
}

function killAllSync() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
  live.clear();
}

function removeTmp() {
  if (tmpDir) {
    try {
      fs.rmSync(tmpDir, { recursive: true, force: true });
    } catch {}
    tmpDir = null;
  }
}

// Socket directories left by a harness that was SIGKILLed (its pid is in the name).
function removeStaleTmpDirs() {
  let names = [];
  try {
    names = fs.readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^node-ipc-bench-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      if (err.code === 'ESRCH') {
        try {
          fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
        } catch {}
      }
    }
  }
}

process.on('exit', () => {
  killAllSync();
  removeTmp();
});
for (const sig of require.main === module ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : []) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping, killing children\n`);
    killAllSync();
    removeTmp();
    process.exit(130);
  });
}

// VmHWM in KiB, or null.
function peakRssKB(pid) {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// One run: a fresh server, one client, the client's RESULT, both peak RSS.

const SCENARIOS = [
  { key: 'throughput', kind: 'throughput', pinned: false },
  { key: 'latency', kind: 'latency', pinned: false },
  { key: 'latency-pinned', kind: 'latency', pinned: true },
];

let runCounter = 0;

async function runOne(contender, transport, scenario, flags) {
  const id = ++runCounter;
  let address;
  let sockPath = null;
  if (transport === 'unix') {
    sockPath = path.join(tmpDir, `${contender.name}-${id}.sock`);
    address = sockPath;
  } else {
    address = `127.0.0.1:${await freePort()}`;
  }
  const clientArgs =
    scenario.kind === 'throughput'
      ? ['throughput', String(flags.n), String(flags.window)]
      : ['latency', String(flags.warmup), String(flags.samples)];
  const expected = scenario.kind === 'throughput' ? flags.n : flags.warmup + flags.samples;
  // Bounds: generous enough for ~2,000 msgs/s or ~1 ms per round trip.
  const clientTimeout = 30000 + (scenario.kind === 'throughput' ? flags.n * 0.5 : expected * 1);

  let server = null;
  let client = null;
  try {
    server = spawnChild([...contender.server, 'server', transport, address], scenario.pinned);
    await waitLine(server, 'READY', 20000, 'server');
    client = spawnChild([...contender.client, 'client', transport, address, ...clientArgs], scenario.pinned);
    const line = await waitLine(client, 'RESULT ', clientTimeout, 'client');
    const result = JSON.parse(line.slice('RESULT '.length));
    const rssClientKB = peakRssKB(client.pid);
    const rssServerKB = peakRssKB(server.pid);
    if (server.exited) throw new Error(describeExit(server, 'server'));
    if (result.received !== expected) throw new Error(`client reported ${result.received} echoes, expected ${expected}`);
    return { result, rssClientKB, rssServerKB };
  } finally {
    await Promise.all([killChild(client), killChild(server)]);
    if (sockPath) {
      try {
        fs.rmSync(sockPath, { force: true });
      } catch {}
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and output

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// metric -> how to read it from a round's runs of one contender and transport.
const METRICS = [
  { key: 'msgsPerSec', head: 'msgs/s', get: (r) => r.throughput?.result.msgsPerSec, fmt: fmtInt },
  { key: 'p50Us', head: 'p50 µs', get: (r) => r.latency?.result.p50Us, fmt: fmtUs },
  { key: 'p99Us', head: 'p99 µs', get: (r) => r.latency?.result.p99Us, fmt: fmtUs },
  { key: 'pinnedP50Us', head: 'pin p50', get: (r) => r['latency-pinned']?.result.p50Us, fmt: fmtUs },
  { key: 'pinnedP99Us', head: 'pin p99', get: (r) => r['latency-pinned']?.result.p99Us, fmt: fmtUs },
  { key: 'rssClientMB', head: 'cli RSS MB', get: (r) => mb(r.throughput?.rssClientKB), fmt: fmtMB },
  { key: 'rssServerMB', head: 'srv RSS MB', get: (r) => mb(r.throughput?.rssServerKB), fmt: fmtMB },
];

function mb(kb) {
  return typeof kb === 'number' ? kb / 1024 : undefined;
}
function fmtInt(x) {
  return x == null ? '-' : Math.round(x).toLocaleString('en-US');
}
function fmtUs(x) {
  return x == null ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
function fmtMB(x) {
  return x == null ? '-' : x.toFixed(1);
}
function fmtRatio(x) {
  return x == null ? '-' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
}

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  '))
    .join('\n');
}

function progressLine(round, transport, scenario, contender, run) {
  const r = run.result;
  const fig = r.kind === 'throughput' ? `${fmtInt(r.msgsPerSec)} msgs/s` : `p50 ${fmtUs(r.p50Us)} µs  p99 ${fmtUs(r.p99Us)} µs`;
  return (
    `  [round ${round + 1}] ${transport.padEnd(4)} ${scenario.key.padEnd(14)} ${contender.name.padEnd(12)} ${fig}` +
    `  (RSS client ${fmtMB(mb(run.rssClientKB))} MB, server ${fmtMB(mb(run.rssServerKB))} MB)`
  );
}

function gitCommit() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const started = Date.now();
  const known = new Set(CONTENDERS.map((c) => c.name));
  if (flags.only) {
    const bad = flags.only.filter((n) => !known.has(n));
    if (bad.length) {
      process.stderr.write(`unknown contender(s): ${bad.join(', ')} (known: ${[...known].join(', ')})\n`);
      process.exit(2);
    }
  }
  const selected = CONTENDERS.filter((c) => !flags.only || flags.only.includes(c.name));
  const failures = []; // { contender, transport?, scenario?, round?, error }
  const skipped = [];
  const failed = new Set();

  log(
    `node-ipc-rs benchmark: ${flags.quick ? 'quick' : 'full'} mode, ${flags.rounds} round(s), ` +
      `throughput N=${fmtInt(flags.n)} (window ${fmtInt(flags.window)}), ` +
      `latency ${fmtInt(flags.samples)} samples after ${fmtInt(flags.warmup)} warm-up, transports ${flags.transports.join('+')}`,
  );
  log(`node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model || '?'}), ${os.platform()} ${os.release()}`);

  for (const c of selected) {
    if (c.skip) {
      skipped.push({ contender: c.name, reason: c.skip });
      log(`SKIP ${c.name} (${c.label}): ${c.skip}`);
    }
  }
  const active = selected.filter((c) => !c.skip);
  for (const c of active) {
    if (!c.prepare) continue;
    try {
      c.prepare(flags);
    } catch (err) {
      failed.add(c.name);
      failures.push({ contender: c.name, error: err.message });
      log(`FAIL ${c.name}: ${err.message}`);
    }
  }

  removeStaleTmpDirs();
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `node-ipc-bench-${process.pid}-`));
  // rounds[r][contender][transport][scenarioKey] = { result, rssClientKB, rssServerKB }
  const rounds = [];
  for (let r = 0; r < flags.rounds; r++) {
    const round = {};
    rounds.push(round);
    log(`round ${r + 1}/${flags.rounds}`);
    const order = active.map((_, i) => active[(i + r) % active.length]);
    for (const transport of flags.transports) {
      for (const scenario of SCENARIOS) {
        for (const c of order) {
          if (failed.has(c.name)) continue;
          try {
            const run = await runOne(c, transport, scenario, flags);
            ((round[c.name] ??= {})[transport] ??= {})[scenario.key] = run;
            log(progressLine(r, transport, scenario, c, run));
          } catch (err) {
            failed.add(c.name);
            failures.push({ contender: c.name, transport, scenario: scenario.key, round: r + 1, error: err.message });
            log(`FAIL ${c.name} (${transport} ${scenario.key}, round ${r + 1}); skipping it from now on:\n    ${err.message}`);
          }
        }
      }
    }
  }

  // Medians per contender and transport.
  const medians = {};
  for (const c of active) {
    for (const t of flags.transports) {
      const per = {};
      for (const m of METRICS) per[m.key] = median(rounds.map((rd) => m.get(rd[c.name]?.[t] ?? {})));
      (medians[c.name] ??= {})[t] = per;
    }
  }
  // Ratios a / b, per round (both figures from the same round), then the median.
  const ratioOf = (a, b, t) => {
    const per = {};
    for (const m of METRICS) {
      per[m.key] = median(
        rounds.map((rd) => {
          const x = m.get(rd[a]?.[t] ?? {});
          const y = m.get(rd[b]?.[t] ?? {});
          return x != null && y != null && y !== 0 ? x / y : null;
        }),
      );
    }
    return per;
  };
  const ran = (name) => active.some((c) => c.name === name);
  // node-ipc-rs / contender.
  const ratios = {};
  if (ran(BASELINE)) {
    for (const c of active) {
      if (c.name === BASELINE) continue;
      for (const t of flags.transports) (ratios[c.name] ??= {})[t] = ratioOf(BASELINE, c.name, t);
    }
  }
  // Rust API / plain tokio (issue #5 asks for raw mode >= 50% of tokio's msgs/s).
  const rustRatios = {};
  if (ran(RUST_BASELINE)) {
    for (const name of VS_RUST_BASELINE) {
      if (!ran(name)) continue;
      for (const t of flags.transports) (rustRatios[name] ??= {})[t] = ratioOf(name, RUST_BASELINE, t);
    }
  }

  // guarded / fast (issue #8: guarded should cost at most 10% of fast's throughput).
  const profileRatios = {};
  for (const [a, b] of PROFILE_PAIRS) {
    if (!ran(a) || !ran(b)) continue;
    for (const t of flags.transports) (profileRatios[`${a} / ${b}`] ??= {})[t] = ratioOf(a, b, t);
  }

  log('');
  log(`Results (median of ${flags.rounds} round(s)); RSS = peak (VmHWM) during the throughput run`);
  const nameWidth = Math.max(...active.map((c) => c.name.length));
  for (const c of active) log(`  ${c.name.padEnd(nameWidth)}  ${c.label}`);
  for (const t of flags.transports) {
    log('');
    log(t === 'unix' ? 'Unix socket' : 'TCP 127.0.0.1');
    const rows = [['contender', ...METRICS.map((m) => m.head), 'status']];
    for (const c of active) {
      const med = medians[c.name][t];
      rows.push([c.name, ...METRICS.map((m) => m.fmt(med[m.key])), failed.has(c.name) ? 'FAILED' : 'ok']);
    }
    for (const s of skipped) rows.push([s.contender, ...METRICS.map(() => ''), 'skipped']);
    log(table(rows));
  }

  const ratioTables = (title, per) => {
    log('');
    log(title);
    for (const t of flags.transports) {
      log('');
      log(t === 'unix' ? 'Unix socket' : 'TCP 127.0.0.1');
      const rows = [['vs', ...METRICS.map((m) => m.head)]];
      for (const [name, r] of Object.entries(per)) rows.push([name, ...METRICS.map((m) => fmtRatio(r[t][m.key]))]);
      log(table(rows));
    }
  };
  if (Object.keys(ratios).length) {
    ratioTables(
      `${BASELINE} / contender, median of per-round ratios ` + `(msgs/s: >1 = ${BASELINE} faster; µs, MB: <1 = ${BASELINE} better)`,
      ratios,
    );
  } else {
    log('');
    log(`no ratios: ${BASELINE} is not among the contenders that ran`);
  }
  if (Object.keys(rustRatios).length) {
    ratioTables(
      `Rust API / ${RUST_BASELINE}, median of per-round ratios ` +
        `(msgs/s: share of plain ${RUST_BASELINE}'s throughput; µs, MB: >1 = more than ${RUST_BASELINE})`,
      rustRatios,
    );
  }

  if (Object.keys(profileRatios).length) {
    ratioTables(
      "guarded / fast, median of per-round ratios (msgs/s: share of fast's throughput; µs, MB: >1 = more than fast)",
      profileRatios,
    );
  }

  const elapsedS = (Date.now() - started) / 1000;
  if (flags.json) {
    const outDir = path.join(__dirname, 'results');
    fs.mkdirSync(outDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(outDir, `${stamp}${flags.quick ? '-quick' : ''}.json`);
    const doc = {
      meta: {
        date: new Date().toISOString(),
        mode: flags.quick ? 'quick' : 'full',
        rounds: flags.rounds,
        n: flags.n,
        window: flags.window,
        warmup: flags.warmup,
        samples: flags.samples,
        transports: flags.transports,
        node: process.version,
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        commit: gitCommit(),
        elapsedS,
        units: { msgsPerSec: 'messages/s', latency: 'µs', rss: 'MiB (VmHWM, throughput run)' },
      },
      contenders: selected.map((c) => ({ name: c.name, label: c.label, skipped: !!c.skip, failed: failed.has(c.name) })),
      skipped,
      failures,
      medians,
      ratios: { baseline: BASELINE, ...ratios },
      rustRatios: { baseline: RUST_BASELINE, ...rustRatios },
      profileRatios,
      rounds,
    };
    fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
    log('');
    log(`results written to ${path.relative(process.cwd(), file)}`);
  }

  log('');
  log(`done in ${elapsedS.toFixed(1)} s`);
  if (failures.length) {
    log(`${failures.length} failure(s):`);
    for (const f of failures)
      log(`  ${f.contender}${f.transport ? ` (${f.transport} ${f.scenario}, round ${f.round})` : ''}: ${f.error.split('\n')[0]}`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main()
    .catch((err) => {
      process.stderr.write(`bench failed: ${err && err.stack ? err.stack : err}\n`);
      process.exitCode = 1;
    })
    .finally(() => {
      killAllSync();
      removeTmp();
    });
}

module.exports = {
  CONTENDERS,
  SCENARIOS,
  runOne,
  median,
  parseFlags,
  setTmpDir: (d) => {
    tmpDir = d;
  },
};
