// node-ipc-rs only: deliberate misuses must still fail to compile. Every line after a
// `@ts-expect-error` is an error; if one stops being an error, tsc reports the directive as unused.
import ipc = require('node-ipc-rs');

import type * as net from 'node:net';

// @ts-expect-error retry is a number of milliseconds
ipc.config.retry = 'fast';
// @ts-expect-error not an encoding
ipc.config.encoding = 'klingon';
// @ts-expect-error silent is a boolean
ipc.config.silent = 'yes';
// @ts-expect-error tls is false until set: write `ipc.config.tls = {...}`
ipc.config.tls.public = 'cert.pem';
// @ts-expect-error the id is required
ipc.connectTo();
// @ts-expect-error not a path or a callback
ipc.connectTo('world', 42);
// @ts-expect-error the id is required
ipc.disconnect();
// @ts-expect-error not a path or a callback
ipc.serve(42);
// @ts-expect-error not a UDP type
ipc.serveNet(8000, 'udp5');
// @ts-expect-error methods cannot be replaced (they are read-only properties)
ipc.serve = () => {};
// @ts-expect-error the constructor takes no arguments
new ipc.IPC('world');
// @ts-expect-error a handler must be a function
ipc.server.on('message', 'handler');
// @ts-expect-error the server emits to a socket or a UDP target first (a string there throws)
ipc.server.emit('message', 'hello');
// @ts-expect-error the server emits to a socket first
ipc.server.emit();
// @ts-expect-error the socket argument is a socket, not a number
ipc.server.on('message', (_data: any, _socket: number) => {});
// @ts-expect-error the event type is required
ipc.of.world.emit();
// @ts-expect-error a handler must be a function
ipc.of.world.on('connect', 42);
// @ts-expect-error the client's socket is false before its first connect
ipc.of.world.socket.destroy();
// @ts-expect-error there is no server.of
ipc.server.of;
// @ts-expect-error a node-ipc-rs Socket is not a net.Socket
const asNode: net.Socket = ipc.server.sockets[0];
ipc.log(asNode);
// @ts-expect-error emit returns a boolean, not the client (chaining throws at run time)
ipc.of.world.emit('a').emit('b');
// @ts-expect-error not a parser profile
ipc.config.parser = 'guardd';
