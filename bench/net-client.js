'use strict';

// node:net client, '\f' framing (see net-server.js).
//   node bench/net-client.js naive|batched client unix|tcp <address> throughput <N> <window> [pad]
//   node bench/net-client.js naive|batched client unix|tcp <address> latency <warmup> <samples>

const net = require('node:net');
const { parseArgs, fail, exitOnStdinEnd, createDriver, payloadOf, PAD_BYTES } = require('./common.js');
const { makeWriter, makeReader } = require('./net-common.js');

const args = parseArgs(process.argv.slice(2));
if (args.role !== 'client') fail('net-client.js runs the client role only');
if (!['naive', 'batched'].includes(args.variant)) fail(`unknown variant ${args.variant}`);
exitOnStdinEnd();

const socket = args.transport === 'unix' ? net.createConnection(args.address) : net.createConnection(args.port, args.host);
socket.setNoDelay(true);
const write = makeWriter(socket, args.variant);
const payload = payloadOf(args.pad ?? PAD_BYTES);
const driver = createDriver(args, (seq) => write(JSON.stringify({ type: 'echo', data: payload(seq) })));
makeReader(socket, (frame) => {
  const msg = JSON.parse(frame);
  if (msg.type !== 'echo') fail(`unexpected message type ${msg.type}`);
  driver.onEcho(msg.data && msg.data.seq);
});
socket.on('connect', () => driver.start());
socket.on('error', (err) => fail(`client error: ${err.message}`));
socket.on('close', () => {
  if (!driver.done) fail('connection closed before the run finished');
});
