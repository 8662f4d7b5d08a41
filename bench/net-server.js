'use strict';

// node:net echo server, '\f' framing. Each frame is parsed as JSON and the echo re-serialised,
// as an application on top of node-ipc would do.
//   node bench/net-server.js naive|batched server unix <path> | server tcp <host:port>

const net = require('node:net');
const { parseArgs, fail, exitOnStdinEnd } = require('./common.js');
const { makeWriter, makeReader } = require('./net-common.js');

const args = parseArgs(process.argv.slice(2));
if (args.role !== 'server') fail('net-server.js runs the server role only');
if (!['naive', 'batched'].includes(args.variant)) fail(`unknown variant ${args.variant}`);
exitOnStdinEnd();

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  const write = makeWriter(socket, args.variant);
  makeReader(socket, (frame) => {
    const msg = JSON.parse(frame);
    if (msg.type === 'echo') write(JSON.stringify({ type: 'echo', data: msg.data }));
  });
  socket.on('error', () => {});
});
server.on('error', (err) => fail(`server error: ${err.stack}`));
const ready = () => process.stdout.write('READY\n');
if (args.transport === 'unix') server.listen(args.address, ready);
else server.listen(args.port, args.host, ready);
