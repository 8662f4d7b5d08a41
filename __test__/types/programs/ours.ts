// node-ipc-rs only: what the types say beyond @types/node-ipc, and that they say the truth.
import ipc = require('node-ipc-rs');

import type * as net from 'node:net';
import * as parsers from 'node-ipc-rs/parsers';
import { MessageParser } from 'node-ipc-rs/parsers/message';

// Named types through the module (a types-only namespace merged with the value).
const instance: ipc.IPC = new ipc.IPC();
const other: ipc.IPCModule = new ipc.IPCModule();
const root: ipc.RootIPC = ipc.default;
const config: ipc.Config = root.config;
config.maxMessageSize = Infinity;
config.interface.localAddress = '127.0.0.1';
config.tls = { public: 'cert.pem', private: 'key.pem', trustedConnections: ['ca.pem'], requestCert: true };
instance.config.delimiter = '\n';
other.config.IPType = 'IPv4';

// `ipc.server` is false until serve(): a truthiness test is the honest guard and type-checks.
if (ipc.server) ipc.server.stop();

ipc.serve('/tmp/app.world', () => {
  const server: ipc.Server = ipc.server;
  const listener: ipc.Listener | false = server.server;
  if (listener) {
    const where: net.AddressInfo | string | null = listener.address();
    ipc.log(where, listener.listening);
  }
  const sockets: ipc.Socket[] = server.sockets;
  server.on('connect', (socket) => {
    socket.setEncoding('utf8');
    const written: boolean = socket.write('{"type":"hi"}\f');
    ipc.log(written, socket.destroyed, socket.remoteAddress, sockets.length);
  });
  server.on('message', (data: { id: string }, socket) => {
    ipc.log(socket.id, data.id);
    socket.end();
  });
  server.on('close', (hadError: boolean) => ipc.log(hadError));
  server.on('error', (err: Error, socket?: ipc.Socket) => socket?.destroy(err));
  server.on('socket.disconnected', (socket, id) => ipc.log(socket.destroyed, id));
});

ipc.connectTo('world', (self) => {
  const client: ipc.Client = ipc.of.world;
  // The client's socket is false before its first connect: the type says so.
  const socket: ipc.Socket | false = client.socket;
  if (socket) socket.unref();
  client.on('connect', () => client.emit('hello', { id: 'me' }));
  client.publish('local-only', 1);
  ipc.log(self === undefined || self.config === ipc.config);
});

// A net.Socket goes wherever node-ipc-rs takes a Socket (code typed for @types/node-ipc)...
declare const nodeSocket: net.Socket;
const asOurs: ipc.Socket = nodeSocket;
ipc.server.emit(asOurs, 'message', 'x');
// ...but a node-ipc-rs Socket is not a net.Socket, and the types do not pretend it is.
declare const ourSocket: ipc.Socket;
// @ts-expect-error not a net.Socket
const asNode: net.Socket = ourSocket;
ipc.log(asNode);

// UDP servers pass the sender where stream servers pass the socket.
ipc.serveNet('udp4', () => {
  ipc.server.on('message', (data, socket) => {
    const peer = socket as unknown as ipc.UDPPeer;
    ipc.server.emit({ address: peer.address, port: peer.port }, 'echo', data);
  });
});

try {
  ipc.connectTo('x');
} catch (err) {
  if (err instanceof ipc.IPCProtocolError) {
    const code: string = err.code;
    const name: 'IPCProtocolError' = err.name;
    ipc.log(code, name);
  }
}
const made: ipc.IPCProtocolError = new ipc.IPCProtocolError('ERR_IPC_FRAME_TOO_LARGE', 'too large');
ipc.log(made.message);

// Flow control: emit returns the write's result; 'drain' says when to go on.
const client = ipc.of.world;
if (!client.emit('bulk', 'x'.repeat(1 << 20))) client.on('drain', () => ipc.log('drained'));
const sent: boolean = ipc.server.broadcast('news', { n: 1 });
ipc.log(sent, ipc.config.maxPendingBytes);

// node-ipc 14's parser profiles (config.parser), the parser classes and the subpaths.
config.parser = 'guarded';
config.parser = ipc.GuardedParser;
config.parser = MessageParser;
config.parser = new parsers.AssuredParser({ allowedEvents: ['ping'] });
config.parser = {
  encode: (type: string, data?: unknown) => `${type} ${JSON.stringify(data)}\n`,
  read: (remainder: string, chunk: string, receive: (m: { type: string; data?: unknown }) => void) => {
    receive({ type: 'line', data: remainder + chunk });
    return '';
  },
  messageTimeout: 1000,
};
config.allowedEvents = new Set(['ping']);
config.identifyPeer = true;
config.messageTimeout = 0;
config.maxEventNameLength = 64;
config.secureSocketRoot = true;
const reserved: Set<string> = parsers.reservedEventTypes;
const fast: typeof ipc.Parser = parsers.default;
const guarded = parsers.createParser(config);
const refused = new ipc.IPCProtocolError('ERR_IPC_RESERVED_EVENT', 'no');
ipc.log(reserved.has('connect'), fast === ipc.FastParser, guarded.encode('ping', 1), refused.code);
if (ipc.of.world?.protocolViolation) ipc.log(ipc.of.world.parser);
