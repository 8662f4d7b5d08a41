'use strict';

// node-ipc's basic hello client, with any implementation:
//   node examples/mesh/node-client.js node-ipc-rs|node-ipc-12|node-ipc-9 [unix <path> | tcp <host> <port>]
// Connects to the server with id `world` (default /tmp/app.world), emits app.message
// {id: 'hello', message: 'hello'}, prints the answer, disconnects.

const { loadIpc, parseArgs } = require('./common.js');

const args = parseArgs(process.argv.slice(2));
const ipc = loadIpc(args.impl);
ipc.config.id = 'hello';
ipc.config.retry = 500;
ipc.config.maxRetries = 10;
ipc.config.silent = true;

function setup() {
  const world = ipc.of.world;
  world.on('connect', () => {
    console.log(`[${args.impl}] connected, emitting app.message`);
    world.emit('app.message', { id: ipc.config.id, message: 'hello' });
  });
  world.on('app.message', (data) => {
    console.log(`[${args.impl}] got app.message ${JSON.stringify(data)}`);
    ipc.disconnect('world');
  });
  world.on('error', (err) => console.log(`[${args.impl}] error ${err && err.code}`));
  world.on('destroy', () => console.log(`[${args.impl}] destroyed`));
}

if (args.path || !args.host) ipc.connectTo('world', args.path, setup);
else ipc.connectToNet('world', args.host, args.port, setup);
