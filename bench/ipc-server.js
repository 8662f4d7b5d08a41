'use strict';

// Echo server for the node-ipc style contenders (node-ipc-rs, node-ipc-12, node-ipc-14).
//   node bench/ipc-server.js <module> server unix <path> | server tcp <host:port>

const { parseArgs, fail, exitOnStdinEnd } = require('./common.js');
const { loadIpc } = require('./ipc-common.js');

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.role !== 'server') fail('ipc-server.js runs the server role only');
  exitOnStdinEnd();
  const ipc = await loadIpc(args.variant, 'bench-server');
  const ready = () => process.stdout.write('READY\n');
  if (args.transport === 'unix') ipc.serve(args.address, ready);
  else ipc.serveNet(args.host, args.port, ready);
  ipc.server.on('echo', (data, socket) => {
    ipc.server.emit(socket, 'echo', data);
  });
  ipc.server.on('error', (err) => fail(`server error: ${err && err.stack ? err.stack : err}`));
  ipc.server.start();
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
