#!/usr/bin/env node
'use strict';

// How long loading each node-ipc takes in a fresh process: the time of the `require` (node-ipc 14:
// the dynamic `import`, it is ESM only) measured inside the child, which then exits. The
// contenders alternate, --runs times each (default 21); prints the median, min and max in ms.
//
//   node bench/require-time.js [--runs N]
//
// node-ipc-rs: the repository root (build it first). Nothing else is done in the child, so this
// is what an application that only requires node-ipc pays at startup, before any connection.

const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const CONTENDERS = {
  'node-ipc-rs': `require(${JSON.stringify(ROOT)})`,
  'node-ipc-12': "require('node-ipc-12')",
  'node-ipc-14': "await import('node-ipc-14')",
};

const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 21;
if (!(runs > 0)) {
  process.stderr.write('usage: node bench/require-time.js [--runs N]\n');
  process.exit(2);
}

function once(load) {
  const script = `(async () => {
    const t = process.hrtime.bigint();
    ${load};
    process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));
    process.exit(0);
  })();`;
  return Number(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30000 }));
}

const times = Object.fromEntries(Object.keys(CONTENDERS).map((name) => [name, []]));
for (let r = 0; r < runs; r++) {
  for (const [name, load] of Object.entries(CONTENDERS)) times[name].push(once(load));
}
process.stdout.write(`load time in a fresh process, ${runs} runs each (Node ${process.version}), ms\n`);
process.stdout.write('contender     median    min    max\n');
for (const [name, xs] of Object.entries(times)) {
  xs.sort((a, b) => a - b);
  const f = (x) => x.toFixed(2).padStart(6);
  process.stdout.write(`${name.padEnd(12)} ${f(xs[Math.floor(xs.length / 2)])} ${f(xs[0])} ${f(xs[xs.length - 1])}\n`);
}
