// A client written against @types/node-ipc 9.2.3 (node-ipc's hello/world example).
import ipc = require('node-ipc');

ipc.config.id = 'hello';
ipc.config.retry = 1000;
ipc.config.maxRetries = 5;
ipc.config.stopRetrying = false;
ipc.config.silent = true;

ipc.connectTo('world', () => {
  ipc.of.world.on('connect', () => {
    ipc.log('## connected to world ##');
    ipc.of.world.emit('message', 'hello');
  });
  ipc.of.world.on('disconnect', () => ipc.log('disconnected from world'));
  ipc.of.world.on('destroy', () => ipc.log('gave up on world'));
  ipc.of.world.on('error', (err: any) => ipc.log('error', err.code));
  ipc.of.world.on('message', (data: { reply: string; count: number }) => {
    ipc.log('got a message from world : ', data.reply, data.count);
    ipc.disconnect('world');
  });
});

ipc.connectTo('other', '/tmp/app.other');
ipc.connectTo('third', '/tmp/app.third', () => ipc.of.third.emit('ping'));

const handler = (data: any) => ipc.log(data);
ipc.of.world.on('news', handler);
ipc.of.world.off('news', handler);

for (const id of Object.keys(ipc.of)) {
  ipc.of[id].emit('shutdown', { id: ipc.config.id });
}
