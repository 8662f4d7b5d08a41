// TCP, TLS and UDP written against @types/node-ipc 9.2.3.
import ipc = require('node-ipc');

ipc.config.networkHost = '127.0.0.1';
ipc.config.networkPort = 8000;
ipc.config.tls = {
  public: '/etc/ssl/server.pem',
  private: '/etc/ssl/server.key',
  rejectUnauthorized: false,
};

let received = 0;

ipc.serveNet(() => {
  ipc.server.on('message', (data, socket) => {
    received++;
    ipc.server.emit(socket, 'message', data);
  });
});
ipc.serveNet(8001);
ipc.serveNet('localhost', 8002, () => ipc.log('tcp up'));
ipc.serveNet('127.0.0.1', 8003, 'udp4', () => {
  ipc.server.on('message', (data, socket) => ipc.server.emit(socket, 'message', data));
  ipc.server.emit({ address: '127.0.0.1', port: 8004 }, 'hello', { received });
});
ipc.serveNet('udp6', () => ipc.log('udp6 up'));
ipc.server.start();

ipc.connectToNet('world');
ipc.connectToNet('world', () => ipc.of.world.emit('hi'));
ipc.connectToNet('world', 8000, () => ipc.log('up'));
ipc.connectToNet('world', 'localhost', () => ipc.log('up'));
ipc.connectToNet('world', '127.0.0.1', 8000, () => {
  ipc.of.world.on('message', (data) => ipc.log(data));
});
