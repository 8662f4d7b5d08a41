'use strict';

// Which prebuilt binary serves this machine, and a clear error when the addon cannot be loaded:
// an unsupported platform, or a supported one whose per-platform package was not installed.
// The list of platforms is package.json's `napi.targets` (the release workflow builds exactly
// those); `abiOf` names each the way napi-rs names the per-platform packages (npm/<abi>/).

const pkg = require('../package.json');

const ARCH = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' };

/** 'x86_64-unknown-linux-gnu' -> 'linux-x64-gnu', 'aarch64-apple-darwin' -> 'darwin-arm64', ... */
function abiOf(triple) {
  const [cpu, , os, env] = triple.split('-');
  const arch = ARCH[cpu] || cpu;
  if (os === 'darwin') return `darwin-${arch}`;
  if (os === 'windows') return `win32-${arch}-${env}`;
  if (os === 'linux') return `linux-${arch}-${env}`;
  return `${os}-${arch}`;
}

function isMusl() {
  if (process.platform !== 'linux') return false;
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null;
  return !report?.header?.glibcVersionRuntime;
}

/** This machine's platform name in napi-rs's spelling ('linux-x64-gnu', 'darwin-arm64', ...). */
function hostAbi() {
  if (process.platform === 'linux') return `linux-${process.arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (process.platform === 'win32') return `win32-${process.arch}-msvc`;
  return `${process.platform}-${process.arch}`;
}

/** The platforms with a prebuilt binary, as [abi, triple] pairs. */
function supported() {
  return pkg.napi.targets.map((triple) => [abiOf(triple), triple]);
}

/** The error to throw when `../binding.js` failed with `cause`. */
function loadError(cause) {
  const abi = hostAbi();
  const platforms = supported().map(([a]) => a);
  const binaryPackage = `${pkg.name}-${abi}`;
  let err;
  if (!platforms.includes(abi)) {
    err = new Error(
      `${pkg.name} has no prebuilt binary for this platform (${abi}, Node ${process.version}). ` +
        `Prebuilt binaries exist for: ${platforms.join(', ')}. ` +
        `To use it here, build the addon from a clone of the repository (npm ci && npm run build, needs Rust).`,
    );
    err.code = 'ERR_NODE_IPC_RS_UNSUPPORTED_PLATFORM';
  } else if (/version mismatch/.test(String(cause?.message))) {
    err = new Error(`${pkg.name} ${pkg.version}: ${cause.message}`);
    err.code = 'ERR_NODE_IPC_RS_BINARY_MISMATCH';
  } else {
    err = new Error(
      `${pkg.name} could not load its prebuilt binary for ${abi}: the package ${binaryPackage} ` +
        `(an optional dependency of ${pkg.name}) is missing or unreadable. It is skipped by ` +
        `npm install --omit=optional, and by a package-lock.json made on another platform without it ` +
        `(npm/cli#4828). Install it: npm install ${binaryPackage}@${pkg.version}`,
    );
    err.code = 'ERR_NODE_IPC_RS_BINARY_MISSING';
  }
  err.cause = cause;
  return err;
}

module.exports = { abiOf, hostAbi, supported, loadError };
