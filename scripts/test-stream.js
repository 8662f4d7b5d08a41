'use strict';

// `npm test`'s second pass: the whole __test__/ suite again with every server and client on the
// stream transport (NODE_IPC_RS_TRANSPORT=stream; see lib/stream.js), with the addon as a Windows
// build has it: the native transport's functions removed (scripts/without-native.js, preloaded
// into every Node process of the pass). A script rather than inline variables so that it also
// runs under Windows' shell.

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const preload = path.join(__dirname, 'without-native.js');
const require_ = /\s/.test(preload) ? `--require ${JSON.stringify(preload)}` : `--require ${preload}`;
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', path.join(root, '__test__')], {
  stdio: 'inherit',
  env: {
    ...process.env,
    NODE_IPC_RS_TRANSPORT: 'stream',
    NODE_IPC_RS_NO_NATIVE: '1',
    NODE_OPTIONS: [process.env.NODE_OPTIONS, require_].filter(Boolean).join(' '),
  },
});
process.exit(r.status === null ? 1 : r.status);
