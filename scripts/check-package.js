#!/usr/bin/env node
'use strict';

// `npm run check:package`: packs what a release would publish for this machine (pack:local), then
// lints the tarballs as a registry user would get them: publint (strict) over both, and
// arethetypeswrong over the main package (the platform package holds only a .node file; publint's
// one suggestion for it, a "type" field that napi create-npm-dirs does not write and that has no
// effect there, is below the warning level checked).

const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { packLocal } = require('./pack-local.js');

const BIN = path.join(__dirname, '..', 'node_modules', '.bin');
const exe = (name) => path.join(BIN, process.platform === 'win32' ? `${name}.cmd` : name);

function run(name, args) {
  console.log(`\n$ ${name} ${args.join(' ')}`);
  execFileSync(exe(name), args, { stdio: 'inherit', shell: process.platform === 'win32' });
}

try {
  const [main, platform] = packLocal().map((t) => path.relative(process.cwd(), t));
  run('publint', ['run', main, '--strict']);
  run('publint', ['run', platform, '--strict', '--level', 'warning']);
  run('attw', [main, '--no-definitely-typed']);
} catch (err) {
  console.error(`check:package failed: ${err.message}`);
  process.exit(1);
}
