'use strict';

// `npm test`'s second pass: the whole __test__/ suite again with every server and client on the
// stream transport (NODE_IPC_RS_TRANSPORT=stream; see lib/stream.js). A script rather than an
// inline variable so that it also runs under Windows' shell.

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', path.join(root, '__test__')], {
  stdio: 'inherit',
  env: { ...process.env, NODE_IPC_RS_TRANSPORT: 'stream' },
});
process.exit(r.status === null ? 1 : r.status);
