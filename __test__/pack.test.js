'use strict';

// The local release: `npm run pack:local` packs what a release would publish for this machine
// (the main package and this platform's package with its binary); the tarballs are installed,
// offline, into an empty project, where a Unix-socket hello/world runs with require(), with import
// and from TypeScript — under this Node and, on Linux x64, Node 22, 24 and 26 (scripts/test-nodes.js).

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFile, execFileSync } = require('node:child_process');
const { packLocal } = require('../scripts/pack-local.js');
const { testNodes } = require('../scripts/test-nodes.js');
const { hostAbi, supported } = require('../lib/platform.js');

const FIXTURES = path.join(__dirname, 'fixtures', 'install');
const pkg = require('../package.json');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let tarballs;
let work;
let project;

function npm(args, cwd) {
  // --offline: everything comes from the tarballs and npm's cache (filled by `npm ci`).
  return execFileSync(NPM, [...args, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    shell: process.platform === 'win32',
  });
}

function emptyProject(name) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true })}\n`);
  return dir;
}

/** The file names in a .tgz (ustar headers, read here so that no `tar` binary is needed). */
function listTarball(file) {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  const names = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from, len) => header.toString('utf8', from, from + len).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    if (field(156, 1) === '0' || field(156, 1) === '') names.push(name.replace(/^package\//, ''));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names.sort();
}

function run(node, args, cwd) {
  return new Promise((resolve) => {
    execFile(node, args, { cwd, timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr });
    });
  });
}

test.before(
  () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'nirs-install-'));
    tarballs = packLocal();
    project = emptyProject('app');
    for (const f of fs.readdirSync(FIXTURES)) fs.copyFileSync(path.join(FIXTURES, f), path.join(project, f));
    const dev = pkg.devDependencies;
    npm(['install', ...tarballs, `typescript@${dev.typescript}`, `@types/node@${dev['@types/node']}`], project);
  },
  { timeout: 180_000 },
);

test.after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('pack:local makes the main tarball and this platform package, nothing else', () => {
  const abi = hostAbi();
  assert.deepStrictEqual(
    tarballs.map((t) => path.basename(t)),
    [`${pkg.name}-${pkg.version}.tgz`, `${pkg.name}-${abi}-${pkg.version}.tgz`],
  );
});

test('the tarballs carry the package and the binary, no tests, fixtures or keys', () => {
  const [main, platform] = tarballs.map(listTarball);
  const allowed =
    /^(package\.json|README\.md|LICENSE|index\.(js|mjs|d\.ts|d\.mts)|binding\.(js|d\.ts)|lib\/[a-z-]+\.js|parsers\/(index|message)\.(js|mjs|d\.ts|d\.mts))$/;
  for (const file of main) assert.match(file, allowed, `unexpected file in the main tarball: ${file}`);
  for (const needed of [
    'LICENSE',
    'index.js',
    'index.mjs',
    'index.d.ts',
    'index.d.mts',
    'binding.js',
    'lib/ipc.js',
    'parsers/index.js',
    'parsers/message.mjs',
  ]) {
    assert.ok(main.includes(needed), `${needed} missing from the main tarball`);
  }
  assert.deepStrictEqual(platform, ['README.md', `${pkg.napi.binaryName}.${hostAbi()}.node`, 'package.json']);
});

test('the published manifest names every platform package at this version', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', pkg.name, 'package.json'), 'utf8'));
  const expected = Object.fromEntries(supported().map(([abi]) => [`${pkg.name}-${abi}`, pkg.version]));
  assert.deepStrictEqual(manifest.optionalDependencies, expected);
  const platform = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', `${pkg.name}-${hostAbi()}`, 'package.json'), 'utf8'));
  assert.strictEqual(platform.version, pkg.version);
  // Nothing is compiled or downloaded at install time.
  assert.deepStrictEqual(manifest.scripts?.install ?? manifest.scripts?.postinstall ?? null, null);
});

test('the TypeScript hello/world compiles with tsc --strict against the installed package', () => {
  fs.writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', outDir: 'out', types: ['node'] },
      files: ['hello.ts'],
    }),
  );
  const tsc = path.join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8', timeout: 120_000 });
  assert.ok(fs.existsSync(path.join(project, 'out', 'hello.js')));
});

const nodes = [{ major: Number(process.versions.node.split('.')[0]), bin: process.execPath }];
for (const extra of testNodes()) if (!nodes.some((n) => n.major === extra.major)) nodes.push(extra);

// 20, 22, 24 and 26 always (skipped when absent), and whichever Node runs the tests.
for (const major of [...new Set([20, 22, 24, 26, nodes[0].major])].sort((a, b) => a - b)) {
  const node = nodes.find((n) => n.major === major);
  const skip = node ? false : `Node ${major} is not here (scripts/test-nodes.js fetches it on Linux x64)`;
  for (const [via, file] of [
    ['require', 'hello.cjs'],
    ['import', 'hello.mjs'],
    ['typescript', 'out/hello.js'],
  ]) {
    test(`Node ${major}: hello/world over a Unix socket from the installed package, with ${via}`, { skip }, async () => {
      const sock = path.join(os.tmpdir(), `nirs-install-${process.pid}-${major}-${via}.sock`);
      try {
        const r = await run(node.bin, [file, sock], project);
        assert.strictEqual(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
        const out = JSON.parse(r.stdout.trim());
        assert.strictEqual(out.reply, 'hello world');
        assert.strictEqual(out.via, via);
        assert.strictEqual(out.node.split('.')[0], `v${major}`);
      } finally {
        fs.rmSync(sock, { force: true });
      }
    });
  }
}

test('without its platform package the error names the package to install', async () => {
  const bare = emptyProject('bare');
  npm(['install', tarballs[0], '--omit=optional'], bare);
  const r = await run(
    process.execPath,
    ['-e', "try { require('node-ipc-rs') } catch (e) { console.log(e.code); console.log(e.message) }"],
    bare,
  );
  const [code, message] = r.stdout.split('\n');
  assert.strictEqual(code, 'ERR_NODE_IPC_RS_BINARY_MISSING', r.stdout + r.stderr);
  assert.match(message, new RegExp(`npm install ${pkg.name}-${hostAbi()}@${pkg.version.replaceAll('.', '\\.')}`));
});

test('on a platform without a prebuilt binary the error says so and lists the supported ones', async () => {
  const script =
    "Object.defineProperty(process, 'platform', { value: 'aix' });" +
    "try { require('node-ipc-rs') } catch (e) { console.log(e.code); console.log(e.message) }";
  const r = await run(process.execPath, ['-e', script], project);
  const [code, message] = r.stdout.split('\n');
  assert.strictEqual(code, 'ERR_NODE_IPC_RS_UNSUPPORTED_PLATFORM', r.stdout + r.stderr);
  assert.match(message, /no prebuilt binary for this platform \(aix-/);
  for (const [abi] of supported()) assert.ok(message.includes(abi), `${abi} not listed`);
});
