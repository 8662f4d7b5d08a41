// A local-socket server written against @types/node-ipc 9.2.3 (node-ipc's hello/world example).
// __test__/types.test.js compiles it with @types/node-ipc and with node-ipc-rs, changing only
// the import line.
import ipc = require('node-ipc');

import type { Socket } from 'node:net';

ipc.config.id = 'world';
ipc.config.retry = 1500;
ipc.config.silent = true;
ipc.config.maxConnections = 10;
ipc.config.logger = (msg: string) => process.stdout.write(`${msg}\n`);

const seen = new Set<string>();

function onMessage(data: any, socket: Socket): void {
  ipc.log('got a message : ', data);
  ipc.server.emit(socket, 'message', `${data} world!`);
}

ipc.serve(() => {
  ipc.server.on('message', (data, socket) => {
    seen.add(String(data));
    ipc.server.emit(socket, 'message', { reply: data, count: seen.size });
  });
  ipc.server.on('app.message', onMessage);
  ipc.server.on('socket.disconnected', (socket: Socket, destroyedSocketID: string) => {
    ipc.log(`client ${destroyedSocketID} has disconnected!`, socket.remoteAddress);
  });
  ipc.server.on('error', (err) => ipc.log('error', err));
  ipc.server.broadcast('hello', { from: ipc.config.id });
});

ipc.server.on('start', () => ipc.log('started'));
ipc.server.start();

export function stop(): void {
  ipc.server.off('message', '*');
  ipc.server.stop();
}

export function serveAt(path: string): void {
  ipc.serve(path, () => ipc.log('serving', path));
  ipc.serve(null);
  ipc.server.start();
}
