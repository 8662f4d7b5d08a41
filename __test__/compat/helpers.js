'use strict';

// Shared plumbing for the compat suite: unique addresses, bounded waits, event recorders and a
// Harness that starts node-ipc-API servers/clients of any implementation and always tears them
// down again.

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const WAIT_MS = 4000; // default bound for any single wait

let pathSeq = 0;

/** A fresh Unix socket path under os.tmpdir(). */
function tmpSocketPath(tag = 'sock') {
  const name = `nipc-compat-${tag}-${process.pid}-${Date.now().toString(36)}-${++pathSeq}.sock`;
  return path.join(os.tmpdir(), name);
}

/** A TCP port that was free a moment ago (bind port 0, read it, close). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Reject with `message` if `promise` has not settled within `ms`. */
function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${message}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Poll `predicate` every few ms; resolve when it returns truthy, reject after `ms` with the message
 * (a function is called at failure time so it can describe the current state).
 */
function waitFor(predicate, ms, message) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      let value;
      try {
        value = predicate();
      } catch (err) {
        clearInterval(timer);
        reject(err);
        return;
      }
      if (value) {
        clearInterval(timer);
        resolve(value);
      } else if (Date.now() - started >= ms) {
        clearInterval(timer);
        const text = typeof message === 'function' ? message() : message;
        reject(new Error(`timeout after ${ms} ms: ${text}`));
      }
    };
    const timer = setInterval(tick, 5);
    tick();
  });
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records events of one node-ipc emitter (client or server) in arrival order. */
class Recorder {
  constructor(label) {
    this.label = label;
    this.events = [];
  }

  push(type, args) {
    this.events.push({ type, args });
  }

  all(type) {
    return this.events.filter((e) => e.type === type);
  }

  data(type) {
    return this.all(type).map((e) => e.args[0]);
  }

  count(type) {
    return this.all(type).length;
  }

  has(type) {
    return this.count(type) > 0;
  }

  types() {
    return this.events.map((e) => e.type);
  }

  summary() {
    const types = this.types();
    const shown = types.slice(-30).join(', ');
    return `[${types.length > 30 ? `…(${types.length - 30} earlier), ` : ''}${shown}]`;
  }

  waitCount(type, n, ms = WAIT_MS) {
    return waitFor(
      () => this.count(type) >= n,
      ms,
      () => `${this.label}: expected ${n} '${type}' event(s), got ${this.count(type)}; ` + `events so far: ${this.summary()}`,
    );
  }

  async next(type, ms = WAIT_MS) {
    const n = this.count(type) + 1;
    await this.waitCount(type, n, ms);
    return this.all(type)[n - 1].args;
  }
}

// Event types every test client records (node-ipc 9's wildcard handler is broken, so each type is
// registered explicitly).
const CLIENT_LIFECYCLE = ['connect', 'disconnect', 'destroy', 'error'];
const CLIENT_APP_TYPES = ['pong', 'bigEcho', 'seq', 'news', 'private', 'sentinel'];
const SERVER_LIFECYCLE = ['start', 'connect', 'socket.disconnected', 'close', 'error'];
const SERVER_APP_TYPES = ['hello', 'ping', 'big', 'seq'];

/**
 * Starts servers and clients for one test and cleans all of them up in `cleanup()` (call it from
 * `finally`).
 */
class Harness {
  constructor(transport) {
    if (transport !== 'unix' && transport !== 'tcp') throw new Error(`bad transport ${transport}`);
    this.transport = transport;
    this.servers = [];
    this.clients = [];
    this.paths = [];
    this.children = [];
  }

  /** A fresh address for this harness' transport. */
  async address(tag) {
    if (this.transport === 'unix') {
      const p = tmpSocketPath(tag);
      this.paths.push(p);
      return { path: p };
    }
    return { host: '127.0.0.1', port: await freePort() };
  }

  /**
   * Start a server of `impl`. `setup(server, rec)` runs before `start()` to add handlers.
   * Returns { impl, ipc, server, id, addr, rec, socketOf(clientId) }.
   */
  async server(impl, { setup, addr } = {}) {
    const ipc = impl.make();
    const label = `${impl.name} server (${this.transport})`;
    const rec = new Recorder(label);
    const entry = { impl, ipc, server: null, id: ipc.config.id, addr: null, rec, label };
    this.servers.push(entry);
    entry.addr = addr || (await this.address(impl.key));
    if (this.transport === 'unix') ipc.serve(entry.addr.path);
    else ipc.serveNet(entry.addr.host, entry.addr.port);
    const server = ipc.server;
    entry.server = server;
    for (const type of SERVER_LIFECYCLE.concat(SERVER_APP_TYPES)) {
      server.on(type, (...args) => rec.push(type, args));
    }
    // which socket said hello as which client id
    entry.sockets = new Map();
    server.on('hello', (data, socket) => entry.sockets.set(data.id, socket));
    entry.socketOf = (clientId) => {
      const s = entry.sockets.get(clientId);
      if (!s) throw new Error(`${label}: no socket has said hello as ${clientId}`);
      return s;
    };
    if (setup) setup(server, rec, entry);
    server.start();
    await rec.waitCount('start', 1);
    if (rec.has('error')) {
      throw new Error(`${label} reported error while starting: ${rec.data('error')[0]}`);
    }
    return entry;
  }

  /**
   * Connect a client of `impl` to `srv` (an entry returned by server(), or { id, addr }).
   * Unless `hello === false` it emits `hello {id}` after `connect` and waits until the server has
   * seen it (so the server has learnt `socket.id`).
   * With `waitConnect === false` it returns at once (no wait, no hello).
   * Returns { impl, ipc, client, id, serverId, rec }.
   */
  async client(impl, srv, { hello = true, waitConnect = true } = {}) {
    const ipc = impl.make();
    const label = `${impl.name} client ${ipc.config.id} (${this.transport})`;
    const rec = new Recorder(label);
    const entry = { impl, ipc, client: null, id: ipc.config.id, serverId: srv.id, rec, label };
    this.clients.push(entry);
    const register = () => {
      const client = ipc.of[srv.id];
      entry.client = client;
      for (const type of CLIENT_LIFECYCLE.concat(CLIENT_APP_TYPES)) {
        client.on(type, (...args) => rec.push(type, args));
      }
    };
    if (this.transport === 'unix') ipc.connectTo(srv.id, srv.addr.path, register);
    else ipc.connectToNet(srv.id, srv.addr.host, srv.addr.port, register);
    if (!entry.client) throw new Error(`${label}: connect callback was not called synchronously`);
    if (!waitConnect) return entry;
    await rec.waitCount('connect', 1);
    if (hello) {
      entry.client.emit('hello', { id: entry.id });
      if (srv.sockets) {
        await waitFor(
          () => srv.sockets.has(entry.id),
          WAIT_MS,
          () => `${srv.label} did not receive hello from ${label}; server events: ${srv.rec.summary()}`,
        );
      }
    }
    return entry;
  }

  track(child) {
    this.children.push(child);
    return child;
  }

  /** Disconnect clients, close server sockets and listeners, kill children, remove socket files. */
  async cleanup() {
    for (const c of this.clients) {
      try {
        c.ipc.disconnect(c.serverId);
      } catch (_err) {
        // cleanup must go on; the test has already reported what matters
      }
    }
    for (const s of this.servers) {
      try {
        const sockets = (s.server && s.server.sockets) || [];
        for (const sock of Array.from(sockets)) {
          try {
            sock.destroy();
          } catch (_err) {
            /* ignore */
          }
        }
      } catch (_err) {
        /* ignore */
      }
      try {
        s.server.stop();
      } catch (_err) {
        /* ignore: 9/12 throw if never started */
      }
    }
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    // let close callbacks run before the next test starts
    await delay(10);
    for (const p of this.paths) {
      try {
        fs.rmSync(p, { force: true });
      } catch (_err) {
        /* ignore */
      }
    }
  }
}

/**
 * Guard against leaked handles: once all tests of a file are done, if the process is still alive
 * after `ms` (something keeps the event loop busy), report the live handles and exit non-zero
 * instead of hanging `node --test`.
 */
function exitGuard(ms = 3000) {
  const timer = setTimeout(() => {
    const handles = process
      ._getActiveHandles()
      .filter((h) => h !== timer)
      .map((h) => (h && h.constructor ? h.constructor.name : typeof h));
    process.stderr.write(
      `compat: process still alive ${ms} ms after the last test; live handles: ` + `${JSON.stringify(handles)}. Forcing exit 1.\n`,
    );
    process.exit(1);
  }, ms);
  timer.unref();
}

module.exports = {
  WAIT_MS,
  tmpSocketPath,
  freePort,
  withTimeout,
  waitFor,
  delay,
  Recorder,
  Harness,
  exitGuard,
};
