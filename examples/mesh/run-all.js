'use strict';

// Runs the whole mesh once, unattended, on a private socket path and a free TCP port:
//   Rust server  <- node-ipc-rs, node-ipc 12, node-ipc 9 clients
//   node-ipc-rs / node-ipc 12 / node-ipc 9 servers <- Rust client
//
//   cargo build --examples && node examples/mesh/run-all.js

const { spawn } = require('node:child_process');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const bin = (name) => path.join(TARGET, 'debug', 'examples', name);
const IMPLS = ['node-ipc-rs', 'node-ipc-12', 'node-ipc-9'];

function start(cmd, args, readyRe) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: no ${readyRe} in ${JSON.stringify(out)}`)),
      10000,
    );
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(readyRe);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
  const done = new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
  return { child, ready, done, output: () => out };
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function main() {
  let failures = 0;
  const check = (what, ok, detail) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok ? '' : `\n     ${detail}`}`);
    if (!ok) failures++;
  };
  const sock = path.join(os.tmpdir(), `node-ipc-rs-mesh-${process.pid}.sock`);
  const port = await freePort();
  for (const [transport, where] of [
    ['unix', [sock]],
    ['tcp', ['127.0.0.1', String(port)]],
  ]) {
    const server = start(bin('rust_server'), [transport, ...where], /READY/);
    await server.ready;
    for (const impl of IMPLS) {
      const client = start(process.execPath, [path.join(__dirname, 'node-client.js'), impl, transport, ...where], /got app\.message (.*)/);
      const m = await client.ready.catch((e) => [null, e.message]);
      check(`Rust server <- ${impl} client (${transport})`, m[1] === '{"id":"world","message":"hello world!"}', m[1]);
      client.child.kill();
    }
    server.child.stdin.end(); // the Rust server stops gracefully when stdin closes
    await server.done;
    for (const impl of IMPLS) {
      const nodeServer = start(process.execPath, [path.join(__dirname, 'node-server.js'), impl, transport, ...where], /listening/);
      await nodeServer.ready;
      const client = start(bin('rust_client'), [transport, ...where, '--count', '1'], /MESSAGE app\.message (.*)/);
      const m = await client.ready.catch((e) => [null, e.message]);
      check(`${impl} server <- Rust client (${transport})`, m[1] === '{"id":"world","message":"hello world!"}', m[1]);
      await client.done;
      nodeServer.child.kill('SIGINT');
      await nodeServer.done;
    }
  }
  console.log(failures ? `${failures} failed` : 'all good');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
