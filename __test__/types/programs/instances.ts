// More of @types/node-ipc 9.2.3's surface: extra instances, raw mode, config as a type.
import ipc = require('node-ipc');

type IPCConfig = typeof ipc.config;
type IPCServer = InstanceType<typeof ipc.IPC>['server'];

export function configure(config: Partial<IPCConfig>): void {
  Object.assign(ipc.config, config);
}

const other = new ipc.IPC();
other.config.id = 'other';
other.config.rawBuffer = true;
other.config.encoding = 'hex';
other.config.sync = true;
other.config.unlink = false;
other.config.appspace = 'myapp.';
other.config.socketRoot = '/tmp/';
other.config.logInColor = false;
other.config.logDepth = 2;
other.config.readableAll = true;
other.config.writableAll = true;

other.serve(() => {
  const server: IPCServer = other.server;
  server.on('data', (buffer: Buffer) => {
    other.log('raw', buffer.toString('hex'));
  });
  server.on('connect', () => other.log('connected'));
});
other.server.start();

other.connectTo('peer', () => {
  other.of.peer.on('data', (data: Buffer) => other.log(data.length));
  other.of.peer.emit('00ff');
});

export const server: IPCServer = ipc.server;
