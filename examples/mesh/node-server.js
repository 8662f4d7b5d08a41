'use strict';

// node-ipc's basic world server, with any implementation:
//   node examples/mesh/node-server.js node-ipc-rs|node-ipc-12|node-ipc-9 [unix <path> | tcp <host> <port>]
// Listens as id `world` (default /tmp/app.world) and answers every app.message to its sender
// with {id: 'world', message: message + ' world!'}. Ctrl-C to stop.

const { loadIpc, parseArgs } = require('./common.js');

const args = parseArgs(process.argv.slice(2));
const ipc = loadIpc(args.impl);
ipc.config.id = 'world';
ipc.config.silent = true;

function setup() {
  ipc.server.on('app.message', (data, socket) => {
    console.log(`[${args.impl}] got app.message ${JSON.stringify(data)} from ${socket.id}`);
    ipc.server.emit(socket, 'app.message', { id: ipc.config.id, message: data.message + ' world!' });
  });
  ipc.server.on('socket.disconnected', (_socket, id) => console.log(`[${args.impl}] ${id} disconnected`));
}

if (args.host) ipc.serveNet(args.host, args.port, setup);
else ipc.serve(args.path, setup);
ipc.server.on('start', () => {
  console.log(`[${args.impl}] world server listening on ${args.host ? `${args.host}:${args.port}` : ipc.server.path}`);
});
ipc.server.start();
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    ipc.server.stop();
    process.exit(0);
  });
