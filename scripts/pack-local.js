#!/usr/bin/env node
'use strict';

// `npm run pack:local`: the tarballs a release would publish, for this machine — the main package
// and this platform's package carrying the binary that `npm run build` made — in pack/.
//
// A release (.github/workflows/CI.yml, job `publish`) moves each target's binary into npm/<abi>/
// and runs `npm publish`, whose prepublishOnly script is `napi prepublish`: it sets every
// npm/<abi> package's version, writes the main package's optionalDependencies and publishes the
// npm/<abi> packages. Here the same `napi prepublish` runs on a staged copy of the package with
// --skip-optional-publish (the other targets' binaries are empty stand-ins that are never packed),
// then `npm pack` packs the main package and npm/<abi>, as `npm publish` would.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { hostAbi, supported } = require('../lib/platform.js');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'pack');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' });
}

function packLocal() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const binaryName = pkg.napi.binaryName;
  const abi = hostAbi();
  const targets = supported();
  if (!targets.some(([a]) => a === abi)) throw new Error(`no target in napi.targets for this machine (${abi})`);
  const binary = path.join(ROOT, `${binaryName}.${abi}.node`);
  if (!fs.existsSync(binary)) throw new Error(`${path.basename(binary)} is missing: run npm run build first`);

  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'nirs-pack-'));
  try {
    // The main package's files, as npm pack would pick them, and the npm/ packages.
    const [listing] = JSON.parse(run(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT));
    for (const { path: file } of listing.files) {
      fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(stage, file));
    }
    for (const [a] of targets) {
      const dir = path.join(stage, 'npm', a);
      fs.mkdirSync(dir, { recursive: true });
      for (const file of fs.readdirSync(path.join(ROOT, 'npm', a))) {
        if (!file.endsWith('.node')) fs.copyFileSync(path.join(ROOT, 'npm', a, file), path.join(dir, file));
      }
      const artifact = path.join(dir, `${binaryName}.${a}.node`);
      if (a === abi) fs.copyFileSync(binary, artifact);
      else fs.writeFileSync(artifact, ''); // stands in for another target's binary; never packed
    }
    const napi = path.join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');
    run(process.execPath, [napi, 'prepublish', '-t', 'npm', '--skip-optional-publish', '--no-gh-release'], stage);

    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT);
    const tarballs = [];
    for (const dir of [stage, path.join(stage, 'npm', abi)]) {
      const [packed] = JSON.parse(run(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', OUT], dir));
      tarballs.push(path.join(OUT, packed.filename));
    }
    return tarballs;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    for (const tarball of packLocal()) console.log(path.relative(process.cwd(), tarball));
  } catch (err) {
    console.error(`pack:local: ${err.message}`);
    process.exit(1);
  }
}

module.exports = { packLocal, OUT };
