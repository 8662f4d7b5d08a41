'use strict';

// Preloaded (NODE_OPTIONS=--require) by npm test's stream pass (scripts/run-suites.js --stream): the
// addon as a Windows build has it. The native transport (napi/src/native/, compiled on Unix
// only) does not exist there, so every function it exports is replaced, in this repository's
// binding.js, with one that throws: the pass fails if the shim calls any of them while the
// stream transport is chosen, as it always is on Windows. The names are read from the Rust
// sources (`#[napi]` functions in napi/src/native/), so a new Unix-only function is covered
// without a list to keep. Tests that ask for the native transport themselves skip in this pass
// (helpers.js NO_NATIVE).

const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const ROOT = path.join(__dirname, '..');
const BINDING = path.join(ROOT, 'binding.js');
const NATIVE_SRC = path.join(ROOT, 'napi', 'src', 'native');

/** The JS names of the `#[napi]` functions defined under napi/src/native/. */
function unixOnlyExports() {
  const names = [];
  for (const file of fs.readdirSync(NATIVE_SRC)) {
    if (!file.endsWith('.rs')) continue;
    const src = fs.readFileSync(path.join(NATIVE_SRC, file), 'utf8');
    for (const m of src.matchAll(/#\[napi\]\s*pub fn (\w+)/g)) names.push(m[1].replace(/_([a-z])/g, (_, c) => c.toUpperCase()));
  }
  return names;
}

function strip(binding) {
  const names = unixOnlyExports();
  for (const name of names) {
    if (typeof binding[name] !== 'function') {
      if (process.platform === 'win32') continue; // a Windows build has none of them: nothing to strip
      throw new Error(`without-native: binding.${name} not found (napi/src/native changed?)`);
    }
    binding[name] = function unixOnly() {
      throw new Error(
        `binding.${name} is Unix-only (napi/src/native/) and does not exist on Windows: the shim called it under the stream transport`,
      );
    };
  }
  return names;
}

const load = Module._load;
Module._load = function loadWithoutNative(...args) {
  const exports = load.apply(this, args);
  const cached = require.cache[BINDING];
  if (cached !== undefined && cached.loaded) {
    Module._load = load;
    strip(cached.exports);
  }
  return exports;
};

module.exports = { unixOnlyExports };
