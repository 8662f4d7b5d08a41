'use strict';

// Client for the node-ipc style contenders (node-ipc-rs, node-ipc-12, node-ipc-14).
//   node bench/ipc-client.js <module> client unix <path>      throughput <N> <window> [pad]
//   node bench/ipc-client.js <module> client tcp <host:port>  latency <warmup> <samples>

const { parseArgs, fail, exitOnStdinEnd, createDriver, payloadOf, PAD_BYTES } = require('./common.js');
const { loadIpc } = require('./ipc-common.js');

const SERVER_ID = 'bench-server';

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.role !== 'client') fail('ipc-client.js runs the client role only');
  exitOnStdinEnd();
  const ipc = await loadIpc(args.variant, 'bench-client');
  let driver = null;
  const setup = () => {
    const conn = ipc.of[SERVER_ID];
    const payload = payloadOf(args.pad ?? PAD_BYTES);
    driver = createDriver(args, (seq) => conn.emit('echo', payload(seq)));
    conn.on('connect', () => {
      if (driver.started) fail('reconnected during the run (the connection dropped)');
      driver.started = true;
      driver.start();
    });
    conn.on('echo', (data) => driver.onEcho(data && data.seq));
    conn.on('disconnect', () => {
      if (!driver.done) process.stderr.write('disconnected before the run finished\n');
    });
    conn.on('destroy', () => {
      if (!driver.done) fail('connection destroyed (server unreachable, retries exhausted)');
    });
    conn.on('error', (err) => {
      if (!driver.done && err && err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT') {
        process.stderr.write(`client error: ${err && err.stack ? err.stack : err}\n`);
      }
    });
  };
  if (args.transport === 'unix') ipc.connectTo(SERVER_ID, args.address, setup);
  else ipc.connectToNet(SERVER_ID, args.host, args.port, setup);
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
