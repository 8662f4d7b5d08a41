'use strict';

// Running the crate's Rust examples from node:test suites: build them once, spawn them, read their
// stdout line by line, and make sure none outlives the test file.

const test = require('node:test');
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { within, until } = require('./helpers.js');

const ROOT = path.join(__dirname, '..');
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const children = new Set();

/** Registers before/after hooks: build `cargoArgs` examples (debug) once; kill leftovers. */
function useExamples(cargoArgs) {
  test.before(
    () => {
      const r = spawnSync('cargo', ['build', '--quiet', '-p', 'node-ipc-rs', ...cargoArgs], {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 300000,
      });
      if (r.status !== 0) throw new Error(`cargo build ${cargoArgs.join(' ')} failed: ${r.error || r.status || r.signal}`);
    },
    { timeout: 310000 },
  );
  test.after(() => {
    for (const c of children) c.kill('SIGKILL');
  });
}

/** Spawns example `name`; collects its stdout lines; `waitFor(re)` resolves with the first match. */
function runExample(name, args) {
  const child = spawn(path.join(TARGET_DIR, 'debug', 'examples', name), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const lines = [];
  const waiters = [];
  let buf = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of waiters.slice()) {
        const m = line.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    waitFor(re, ms = 10000) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen.match(re));
      return within(
        ms,
        `${name} output ${re} (got ${JSON.stringify(lines)}; stderr ${stderr})`,
        new Promise((resolve) => waiters.push({ re, resolve })),
      );
    },
    /** Sends a command line (rust_tls_udp's UDP mode) and waits for its SENT/SENDERR answer. */
    async command(line) {
      const answers = () => lines.filter((l) => /^SEN(T|DERR)/.test(l));
      const before = answers().length;
      child.stdin.write(`${line}\n`);
      await until(() => answers().length > before, `answer to ${line}`, 5000);
      return answers()[before];
    },
    /** Graceful stop: the examples stop when stdin closes. */
    async stop() {
      child.stdin.end();
      return within(10000, `${name} to exit`, exited);
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}

module.exports = { ROOT, useExamples, runExample };
