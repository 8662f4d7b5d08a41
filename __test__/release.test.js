'use strict';

// The release plumbing agrees with itself: the workflow passes actionlint and builds exactly
// package.json's napi.targets, each of which has its npm/<platform> package as napi-rs generates
// it, tested on the Node versions package.json's engines claims.

const nodeTest = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { abiOf, supported } = require('../lib/platform.js');

const ROOT = path.join(__dirname, '..');
// Nothing here depends on the transport: the stream pass (scripts/run-suites.js --stream) skips it.
const onStreamPass = process.env.NODE_IPC_RS_TRANSPORT === 'stream';
const test = onStreamPass
  ? Object.assign((name) => nodeTest(name, { skip: 'transport-independent: runs in the native pass' }), nodeTest)
  : nodeTest;
const WORKFLOW = path.join(ROOT, '.github', 'workflows', 'CI.yml');
const pkg = require('../package.json');
const ACTIONLINT = path.join(ROOT, 'node_modules', '@tktco', 'node-actionlint', 'bin', 'node-actionlint.js');
const NAPI = path.join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');

function node(args, cwd) {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

/** The lines of one job of the workflow (from `  name:` to the next job). */
function job(name) {
  const text = fs.readFileSync(WORKFLOW, 'utf8');
  const m = text.match(new RegExp(`^ {2}${name}:\\n([\\s\\S]*?)(?=^ {2}[a-z-]+:\\n|(?![\\s\\S]))`, 'm'));
  assert.ok(m, `job ${name} not found`);
  return m[1];
}

const listed = (text, key) => [...text.matchAll(new RegExp(`^\\s+(?:- )?${key}: (\\S+)$`, 'gm'))].map((m) => m[1]);

test('actionlint passes the workflows', async () => {
  const r = await node([ACTIONLINT], ROOT);
  assert.strictEqual(r.code, 0, r.output);
  assert.match(r.output, /Checking [1-9]\d* workflow file/);
});

test('actionlint fails a broken workflow (the check can fail)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nirs-actionlint-'));
  try {
    const file = path.join(dir, 'broken.yml');
    const broken = ['on: push', 'jobs:', '  a:', '    runs-on: ubuntu-24.04', '    steps:', `      - run: echo $${'{{'} matrix.nope }}`];
    fs.writeFileSync(file, `${broken.join('\n')}\n`);
    const r = await node([ACTIONLINT, file], ROOT);
    assert.notStrictEqual(r.code, 0, r.output);
    assert.match(r.output, /matrix/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every action the workflow uses is pinned to a full commit SHA, its tag in a comment', () => {
  const uses = fs
    .readFileSync(WORKFLOW, 'utf8')
    .split('\n')
    .filter((l) => /^\s*(- )?uses:/.test(l));
  assert.ok(uses.length > 0);
  for (const line of uses) assert.match(line, /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/, line);
});

test('the build job builds exactly napi.targets, and every target is tested', () => {
  const built = listed(job('build'), 'target');
  assert.deepStrictEqual([...built].sort(), [...pkg.napi.targets].sort());
  const tested = new Set([...listed(job('test'), 'target'), ...listed(job('test-musl'), 'target')]);
  const musl = job('test-musl')
    .match(/target: \[([^\]]+)\]/)[1]
    .split(',')
    .map((s) => s.trim());
  for (const t of musl) tested.add(t);
  for (const target of pkg.napi.targets) assert.ok(tested.has(target), `${target} is built but not tested`);
});

test("each build entry's command builds its own target", () => {
  const entries = [...job('build').matchAll(/- target: (\S+)\n\s+host: \S+\n\s+build: (.+)\n/g)];
  assert.strictEqual(entries.length, pkg.napi.targets.length);
  for (const [, target, build] of entries) assert.match(build, new RegExp(`--target ${target}(\\.[0-9.]+)?( |$)`), target);
});

test('the test matrices run the Node versions that engines claims', () => {
  const min = Number(pkg.engines.node.match(/^>=(\d+)$/)[1]);
  for (const name of ['test', 'test-musl']) {
    const versions = job(name)
      .match(/node: \[([^\]]+)\]/)[1]
      .split(',')
      .map((s) => Number(s.trim().replace(/'/g, '')));
    assert.strictEqual(Math.min(...versions), min, `${name}: lowest Node tested vs engines ${pkg.engines.node}`);
    for (const lts of [20, 22, 24]) assert.ok(versions.includes(lts), `${name} misses Node ${lts}`);
  }
});

test('npm/ holds one package per target, as napi create-npm-dirs makes them from package.json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nirs-npmdirs-'));
  try {
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    const r = await node([NAPI, 'create-npm-dirs', '--cwd', dir], ROOT);
    assert.strictEqual(r.code, 0, r.output);
    const expected = fs.readdirSync(path.join(dir, 'npm')).sort();
    const actual = fs.readdirSync(path.join(ROOT, 'npm')).sort();
    assert.deepStrictEqual(actual, expected);
    assert.deepStrictEqual(
      actual,
      supported()
        .map(([abi]) => abi)
        .sort(),
    );
    for (const abi of expected) {
      for (const file of fs.readdirSync(path.join(dir, 'npm', abi))) {
        const want = fs.readFileSync(path.join(dir, 'npm', abi, file), 'utf8');
        const have = fs.readFileSync(path.join(ROOT, 'npm', abi, file), 'utf8');
        assert.strictEqual(have, want, `npm/${abi}/${file} differs from napi create-npm-dirs (run it)`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('lib/platform.js names each target as napi-rs does', async () => {
  const { parseTriple } = require('@napi-rs/cli');
  const triples = [...pkg.napi.targets, 'x86_64-pc-windows-msvc', 'aarch64-pc-windows-msvc', 'armv7-unknown-linux-gnueabihf'];
  for (const triple of triples) assert.strictEqual(abiOf(triple), parseTriple(triple).platformArchABI, triple);
});
