'use strict';

// The IPC object: ipc.config, ipc.of, ipc.server and the methods, with node-ipc's argument
// omission rules (NODE_IPC_CONTRACT §3). Methods are bound to their instance, so destructured
// calls work (they threw in node-ipc).

const { Defaults } = require('./config.js');
const { makeLog } = require('./log.js');
const { Client } = require('./client.js');
const { Server } = require('./server.js');
const { socketRoot } = require('./secure.js');
const { toDuplex } = require('./stream.js');

const hasOwn = (obj, key) => Object.hasOwn(obj, key);
const noop = () => {};

function storeClient(of, id, client) {
  // defineProperty: an id such as `__proto__` is stored as a plain key.
  Object.defineProperty(of, id, { value: client, writable: true, enumerable: true, configurable: true });
}

// Stops a client for good: no more retries, socket destroyed (its close still reports
// `disconnect`/`destroy`, as in node-ipc 9/12).
function stopClient(client) {
  client.explicitlyDisconnected = true;
  if (client.retryTimer) {
    clearTimeout(client.retryTimer);
    client.retryTimer = null;
  }
  if (client.socket && client.socket.destroy) client.socket.destroy();
}

class IPC {
  constructor() {
    this.config = new Defaults();
    this.of = {};
    this.server = false;
    const methods = {
      log: makeLog(this.config),
      connectTo: connectTo.bind(this),
      connectToNet: connectToNet.bind(this),
      disconnect: disconnect.bind(this),
      serve: serve.bind(this),
      serveNet: serveNet.bind(this),
      connectToStream: connectToStream.bind(this),
      serveStream: serveStream.bind(this),
    };
    for (const [name, fn] of Object.entries(methods)) {
      Object.defineProperty(this, name, { value: fn, enumerable: false, writable: false, configurable: false });
    }
  }
}

function connectTo(id, path, callback) {
  if (typeof path === 'function') {
    callback = path;
    path = false;
  }
  if (typeof callback !== 'function') callback = noop;
  if (!id) {
    this.log('Service id required', 'Requested service connection without specifying service id. Aborting connection attempt');
    return;
  }
  // No path: openClient builds the default one once the client's parser profile is known.
  return openClient(this, id, path || null, undefined, callback);
}

function connectToNet(id, host, port, callback) {
  if (!id) {
    this.log('Service id required', 'Requested service connection without specifying service id. Aborting connection attempt');
    return;
  }
  if (typeof host === 'number') {
    callback = port;
    port = host;
    host = false;
  }
  if (typeof host === 'function') {
    callback = host;
    host = false;
    port = false;
  }
  if (!host) {
    this.log('Server host not specified, so defaulting to', 'ipc.config.networkHost', this.config.networkHost);
    host = this.config.networkHost;
  }
  if (typeof port === 'function') {
    callback = port;
    port = false;
  }
  if (!port) {
    this.log('Server port not specified, so defaulting to', 'ipc.config.networkPort', this.config.networkPort);
    port = this.config.networkPort;
  }
  // node-ipc threw or leaked a global for a non-function callback; it is ignored here.
  if (typeof callback !== 'function') callback = noop;
  return openClient(this, id, host, port, callback);
}

// node-ipc-rs: a client over a stream the program already has (a Duplex, or {readable, writable}
// such as a child process's stdout/stdin). Same events as connectTo; `connect` on the next tick;
// no retries (the stream cannot be reopened): its close is `disconnect` then `destroy`.
function connectToStream(id, stream, callback) {
  if (!id) {
    this.log('Service id required', 'Requested service connection without specifying service id. Aborting connection attempt');
    return;
  }
  const duplex = toDuplex(stream);
  if (typeof callback !== 'function') callback = noop;
  return openClient(this, id, 'stream', undefined, callback, duplex);
}

// node-ipc-rs: a server over existing streams: each one is a connection (`connect`(socket), then
// messages), announced when `ipc.server.start()` runs; `ipc.server.attach(stream)` adds more.
function serveStream(stream, callback) {
  if (typeof stream === 'function') {
    callback = stream;
    stream = undefined;
  }
  if (typeof callback !== 'function') callback = noop;
  this.server = new Server(undefined, this.config, this.log);
  this.server._streamOnly = true;
  if (stream !== undefined && stream !== null) this.server._streams.push(toDuplex(stream));
  this.server.on('start', callback);
}

function openClient(ipc, id, path, port, callback, stream) {
  if (hasOwn(ipc.of, id)) {
    const existing = ipc.of[id];
    if (existing.socket && !existing.socket.destroyed) {
      ipc.log('Already Connected to', id, '- So executing success without connection');
      callback();
      return;
    }
    // Re-connecting an id that is waiting to retry: node-ipc 9/12 left the old client
    // reconnecting in the background.
    stopClient(existing);
  }
  const client = new Client(ipc.config, ipc.log);
  if (path === null && port === undefined) {
    // (socketRoot(): the configured root, or node-ipc 14's per-user one where a secure root is
    // wanted, which depends on the constructed parser's profile)
    path = socketRoot(ipc.config, client._profile) + ipc.config.appspace + id;
    ipc.log('Service path not specified, so defaulting to', 'ipc.config.socketRoot + ipc.config.appspace + id', path);
  }
  client.id = id;
  client.path = path;
  if (port !== undefined) client.port = port;
  if (stream !== undefined) Object.defineProperty(client, 'stream', { value: stream, enumerable: false });
  storeClient(ipc.of, id, client);
  client.connect();
  callback(ipc);
}

function disconnect(id) {
  if (!hasOwn(this.of, id)) return;
  const client = this.of[id];
  // node-ipc 9/12 remove only wildcard handlers: the client's own disconnect/destroy handlers
  // still fire when the socket closes (examples rely on it).
  client.off('*', '*');
  stopClient(client);
  delete this.of[id];
}

function serve(path, callback) {
  if (typeof path === 'function') {
    callback = path;
    path = false;
  }
  if (typeof callback !== 'function') callback = noop;
  this.server = new Server(path, this.config, this.log);
  if (!path) {
    // The server's root depends on its constructed parser's profile (lib/secure.js socketRoot).
    this.server.path = this.server._socketRoot + this.config.appspace + this.config.id;
    this.log(
      'Server path not specified, so defaulting to',
      'ipc.config.socketRoot + ipc.config.appspace + ipc.config.id',
      this.server.path,
    );
  }
  this.server.on('start', callback);
}

function serveNet(host, port, UDPType, callback) {
  if (typeof host === 'number') {
    callback = UDPType;
    UDPType = port;
    port = host;
    host = false;
  }
  if (typeof host === 'function') {
    callback = host;
    UDPType = false;
    host = false;
    port = false;
  }
  if (!host) {
    this.log('Server host not specified, so defaulting to', 'ipc.config.networkHost', this.config.networkHost);
    host = this.config.networkHost;
  }
  if (typeof host === 'string' && (host.toLowerCase() === 'udp4' || host.toLowerCase() === 'udp6')) {
    callback = port;
    UDPType = host.toLowerCase();
    port = false;
    host = this.config.networkHost;
  }
  if (typeof port === 'string') {
    callback = UDPType;
    UDPType = port;
    port = false;
  }
  if (typeof port === 'function') {
    callback = port;
    UDPType = false;
    port = false;
  }
  if (!port) {
    this.log('Server port not specified, so defaulting to', 'ipc.config.networkPort', this.config.networkPort);
    port = this.config.networkPort;
  }
  if (typeof UDPType === 'function') {
    callback = UDPType;
    UDPType = false;
  }
  if (typeof callback !== 'function') callback = noop;
  this.server = new Server(host, this.config, this.log, port);
  if (UDPType) {
    this.server[UDPType] = true;
    if (UDPType === 'udp4' && host === '::1') this.server.path = '127.0.0.1';
  }
  this.server.on('start', callback);
}

class IPCModule extends IPC {}

module.exports = { IPC, IPCModule };
