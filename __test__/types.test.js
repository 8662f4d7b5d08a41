'use strict';

// Type tests: the programs in __test__/types/programs/ are compiled with `tsc --strict` in every
// way a TypeScript user imports the package — CommonJS (`import ipc = require(...)`, and a default
// import with esModuleInterop), ESM (`module: NodeNext`), a bundler, and TypeScript 5's node10
// resolution. The programs written for @types/node-ipc 9.2.3 (server, client, net, instances) are
// compiled twice, changing only the import line: once against @types/node-ipc (proof that they
// are @types programs) and once against node-ipc-rs. ours.ts, misuse.ts (deliberate misuses,
// `@ts-expect-error`) and esm-named.mts are compiled against node-ipc-rs only. TypeScript 7 (what
// `npm install typescript` gives) and 5.9 (the JavaScript compiler most projects still pin) both run.

const nodeTest = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
// Nothing here depends on the transport: the stream pass (scripts/run-suites.js --stream) skips it.
const onStreamPass = process.env.NODE_IPC_RS_TRANSPORT === 'stream';
const test = onStreamPass
  ? Object.assign((name) => nodeTest(name, { skip: 'transport-independent: runs in the native pass' }), nodeTest)
  : nodeTest;
const PROGRAMS = path.join(__dirname, 'types', 'programs');
const TYPES_PROGRAMS = ['server.ts', 'client.ts', 'net.ts', 'instances.ts'];
const OURS_PROGRAMS = ['ours.ts', 'misuse.ts'];
const IMPORT_LINE = /^import ipc = require\('node-ipc(?:-rs)?'\);$/m;

const COMPILERS = [
  { name: 'TypeScript 7', tsc: path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc') },
  { name: 'TypeScript 5.9', tsc: path.join(ROOT, 'node_modules', 'typescript-5', 'bin', 'tsc'), legacy: true },
];

const requireLine = (mod) => `import ipc = require('${mod}');`;
const defaultLine = (mod) => `import ipc from '${mod}';`;

const MODES = [
  { name: 'CommonJS, import = require', ext: '.cts', line: requireLine, options: { module: 'nodenext' } },
  {
    name: 'CommonJS, esModuleInterop default import',
    ext: '.cts',
    line: defaultLine,
    options: { module: 'nodenext', esModuleInterop: true },
  },
  { name: 'ESM, module NodeNext', ext: '.mts', line: defaultLine, options: { module: 'nodenext' }, extra: ['esm-named.mts'] },
  { name: 'bundler resolution', ext: '.ts', line: defaultLine, options: { module: 'preserve', moduleResolution: 'bundler' } },
  {
    name: 'node10 resolution, module commonjs',
    ext: '.ts',
    line: requireLine,
    options: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
    legacyOnly: true,
  },
];

let workDir;

test.before(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nirs-types-'));
  const modules = path.join(workDir, 'node_modules');
  fs.mkdirSync(modules);
  // The package as installed (resolved through its package.json `exports`), and the @types.
  const type = process.platform === 'win32' ? 'junction' : 'dir'; // junctions need no privilege
  fs.symlinkSync(ROOT, path.join(modules, 'node-ipc-rs'), type);
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(modules, '@types'), type);
});

test.after(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

function tsc(compiler, project) {
  return new Promise((resolve) => {
    execFile(process.execPath, [compiler.tsc, '-p', project], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Writes the programs for one (compiler, mode, module) into a project dir and compiles it. */
async function compile(compiler, mode, mod, programs) {
  const dir = fs.mkdtempSync(path.join(workDir, 'p-'));
  const files = [];
  for (const program of programs) {
    let text = fs.readFileSync(path.join(PROGRAMS, program), 'utf8');
    let name = program;
    if (program.endsWith('.ts')) {
      assert.match(text, IMPORT_LINE, `${program} must import ipc on one line`);
      text = text.replace(IMPORT_LINE, mode.line(mod));
      name = program.replace(/\.ts$/, mode.ext);
    }
    fs.writeFileSync(path.join(dir, name), text);
    files.push(name);
  }
  const tsconfig = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'es2022',
      lib: ['es2022'],
      types: ['node'],
      skipLibCheck: false,
      ...mode.options,
    },
    files,
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  return tsc(compiler, dir);
}

for (const compiler of COMPILERS) {
  for (const mode of MODES) {
    if (mode.legacyOnly && !compiler.legacy) continue;
    // That the programs are @types programs needs showing once per mode (TypeScript 7 does it,
    // except for node10, which it no longer supports).
    if (!compiler.legacy || mode.legacyOnly) {
      test(`${compiler.name}, ${mode.name}: the @types/node-ipc programs compile against @types/node-ipc`, async () => {
        const r = await compile(compiler, mode, 'node-ipc', TYPES_PROGRAMS);
        assert.strictEqual(r.code, 0, r.output);
      });
    }
    test(`${compiler.name}, ${mode.name}: the same programs and node-ipc-rs's own compile against node-ipc-rs`, async () => {
      const programs = [...TYPES_PROGRAMS, ...OURS_PROGRAMS, ...(mode.extra || [])];
      const r = await compile(compiler, mode, 'node-ipc-rs', programs);
      assert.strictEqual(r.code, 0, r.output);
    });
  }
}

test('a misuse is reported when it is not expected (the misuse file can fail)', async () => {
  const compiler = COMPILERS[0];
  const dir = fs.mkdtempSync(path.join(workDir, 'neg-'));
  const text = fs.readFileSync(path.join(PROGRAMS, 'misuse.ts'), 'utf8').replace(IMPORT_LINE, requireLine('node-ipc-rs'));
  // Drop the directives: every misuse must now be reported.
  const bare = text.replace(/^\s*\/\/ @ts-expect-error.*\n/gm, '');
  fs.writeFileSync(path.join(dir, 'misuse.cts'), bare);
  const expected = (text.match(/^\s*\/\/ @ts-expect-error/gm) || []).length;
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', types: ['node'] }, files: ['misuse.cts'] }),
  );
  const r = await tsc(compiler, dir);
  assert.notStrictEqual(r.code, 0);
  const errors = r.output.split('\n').filter((l) => /misuse\.cts\(\d+,\d+\): error TS/.test(l));
  const lines = new Set(errors.map((l) => l.match(/\((\d+),/)[1]));
  assert.strictEqual(lines.size, expected, r.output);
});

test('the declarations name what the modules export at run time', async () => {
  const dmts = fs.readFileSync(path.join(ROOT, 'index.d.mts'), 'utf8');
  const declared = [...dmts.matchAll(/^export declare const (\w+)/gm)].map((m) => m[1]).sort();
  const esm = await import(require('node:url').pathToFileURL(path.join(ROOT, 'index.mjs')).href);
  assert.deepStrictEqual(
    declared,
    Object.keys(esm)
      .filter((k) => k !== 'default')
      .sort(),
  );

  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8');
  const root = dts.match(/interface RootIPC extends IPC \{([\s\S]*?)\n {2}\}/)[1];
  const rootProps = [...root.matchAll(/^ {4}readonly (\w+):/gm)].map((m) => m[1]).sort();
  const ipc = require(ROOT);
  const hidden = Object.getOwnPropertyNames(ipc).filter((k) => !Object.keys(ipc).includes(k));
  const methods = ['log', 'connectTo', 'connectToNet', 'connectToStream', 'disconnect', 'serve', 'serveNet', 'serveStream'];
  assert.deepStrictEqual(rootProps, hidden.filter((k) => k !== '__esModule' && !methods.includes(k)).sort());
});
