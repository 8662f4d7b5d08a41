#!/usr/bin/env node
'use strict';

// Runs the node:test suites in __test__/ (every *.test.js, subdirectories included) one file at a
// time: `npm test` and `npm run test:js`. The files are listed here rather than given to
// `node --test` as a directory, which Node 22 and later take as a file name. With --no-rust it
// leaves out the suites that build the crate's Rust examples with cargo (__test__/rust-*.test.js),
// for testing a prebuilt binary on a machine without a Rust toolchain (the release workflow's test
// jobs; the workflow's `rust` job runs those suites). With --stream (`npm test`'s second pass,
// `npm run test:stream`) every server and client uses the stream transport (NODE_IPC_RS_TRANSPORT=
// stream; see lib/stream.js) with the addon as a Windows build has it: the native transport's
// functions removed (scripts/without-native.js, preloaded into every Node process of the pass). A
// script rather than inline variables so that it also runs under Windows' shell.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const noRust = process.argv.includes('--no-rust');
// --stream: stream transport, native functions removed.
const preload = path.join(__dirname, 'without-native.js');
const env = process.argv.includes('--stream')
  ? {
      ...process.env,
      NODE_IPC_RS_TRANSPORT: 'stream',
      NODE_IPC_RS_NO_NATIVE: '1',
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${/\s/.test(preload) ? JSON.stringify(preload) : preload}`]
        .filter(Boolean)
        .join(' '),
    }
  : process.env;

function suites(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...suites(file));
    else if (entry.name.endsWith('.test.js') && !(noRust && entry.name.startsWith('rust-'))) out.push(file);
  }
  return out;
}

const files = suites(path.join(ROOT, '__test__'))
  .map((f) => path.relative(ROOT, f))
  .sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { cwd: ROOT, stdio: 'inherit', env });
process.exit(r.status ?? 1);
