'use strict';

// The benchmark harness's plumbing (bench/run.js has the overview): child processes with their
// stdout lines, timeouts and kills, the temporary socket directory, peak RSS, free TCP ports, and
// the Rust examples built on demand.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

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

// A fresh socket directory for this harness run (removed at exit), after removing stale ones.
function makeTmpDir() {
  removeStaleTmpDirs();
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `node-ipc-bench-${process.pid}-`));
  return tmpDir;
}

function tmpPath(name) {
  if (!tmpDir) makeTmpDir();
  return path.join(tmpDir, name);
}

// Children are killed and the socket directory removed however the harness ends.
function installCleanup() {
  process.on('exit', () => {
    killAllSync();
    removeTmp();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping, killing children\n`);
      killAllSync();
      removeTmp();
      process.exit(130);
    });
  }
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

module.exports = {
  ROOT,
  log,
  cargoExample,
  rustFiles,
  spawnChild,
  describeExit,
  waitLine,
  killChild,
  killAllSync,
  makeTmpDir,
  tmpPath,
  removeTmp,
  installCleanup,
  peakRssKB,
  freePort,
  setTmpDir: (d) => {
    tmpDir = d;
  },
};
