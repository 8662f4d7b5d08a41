'use strict';

// A connection to one server: ipc.of[id]. Lifecycle, retries and sync mode follow node-ipc 9/12
// (see NODE_IPC_CONTRACT §6): connect -> `connect`; every close -> `disconnect`, then a retry after
// config.retry ms until retriesRemaining runs out (reset on each successful connect), then `destroy`.

const { PubSub } = require('./pubsub.js');
const { IpcSocket } = require('./socket.js');
const { formatFrame, dispatchBatch, checkDelimiter } = require('./frames.js');
const { binding } = require('./native.js');
const { frameLimit, pendingLimit } = require('./config.js');
const { tlsSettings } = require('./tls.js');

// node-ipc's sync queue: one message in flight; each received batch releases the next.
class SyncQueue {
  constructor(client) {
    Object.defineProperty(this, '_client', { value: client });
    this.contents = [];
    this.busy = false;
  }

  add(message) {
    this.contents.push(message);
    if (!this.busy) this.next();
  }

  next() {
    if (this.contents.length === 0) {
      this.busy = false;
      return;
    }
    this.busy = true;
    const message = this.contents.shift();
    const socket = this._client.socket;
    if (socket) socket.write(message);
  }

  clear() {
    this.contents = [];
    this.busy = false;
  }
}

class Client extends PubSub {
  constructor(config, log) {
    super();
    this.config = config;
    this.log = log;
    this.queue = new SyncQueue(this);
    this.socket = false;
    this.retriesRemaining = config.maxRetries || 0;
    this.explicitlyDisconnected = false;
    this.retryTimer = null;
    // Captured per client (node-ipc 9/12 shared one delimiter module-wide).
    Object.defineProperty(this, '_delimiter', { value: checkDelimiter(config.delimiter) });
  }

  connect() {
    const client = this;
    client.log('requested connection to ', client.id, client.path);
    if (!client.path) {
      client.log('\n\n######\nerror: ', client.id, ' client has not specified socket path it wishes to connect to.');
      return;
    }
    const framing = {
      delimiter: client._delimiter,
      raw: !!client.config.rawBuffer,
      maxFrame: frameLimit(client.config),
      maxPending: pendingLimit(client.config),
      tls: undefined,
      localAddress: undefined,
      localPort: undefined,
    };
    const iface = client.config.interface || {};
    if (client.port) {
      // config.interface: each truthy member goes to the connect, as node-ipc passed them to net.connect.
      if (iface.localAddress) framing.localAddress = String(iface.localAddress);
      if (iface.localPort) framing.localPort = Number(iface.localPort);
    }
    let tlsFailure = null;
    if (client.port && client.config.tls) {
      // TLS for connectToNet only, as in node-ipc; local sockets never speak TLS.
      try {
        framing.tls = tlsSettings(client.config.tls, 'client');
      } catch (err) {
        tlsFailure = err;
      }
    }
    const socket = new IpcSocket(framing, client);
    client.socket = socket;
    socket.setEncoding(client.config.encoding);
    socket.on('error', function onSocketError(err) {
      client.log('\n\n######\nerror: ', err);
      client.publish('error', err);
    });
    socket.on('connect', function onSocketConnect() {
      client.publish('connect');
      client.retriesRemaining = client.config.maxRetries;
      client.log('retrying reset');
    });
    socket.on('close', function onSocketClose() {
      onClientSocketClose(client, socket);
    });
    socket.on('drain', function onSocketDrain() {
      client.publish('drain');
    });
    if (tlsFailure) {
      socket._failSoon(tlsFailure);
      return;
    }
    if (!client.port) {
      client.log('Connecting client on Unix Socket :', client.path);
      socket._connect(client.path, undefined);
    } else {
      client.log(framing.tls ? 'Connecting client via TLS to' : 'Connecting client via TCP to', client.path, client.port);
      socket._connect(client.path, client.port, client.config.interface);
    }
  }

  // Returns false when the message was not written, or when the connection's unsent bytes reached
  // the high-water mark: wait for 'drain' before emitting more (node-ipc 14's return value).
  emit(type, data) {
    let message;
    if (this.config.rawBuffer) message = Buffer.from(type, this.config.encoding);
    else message = formatFrame(type, data, this._delimiter);
    if (!this.config.sync) return this.socket ? this.socket.write(message) : false;
    this.queue.add(message);
    return true;
  }

  _socketFrames(socket, text, count, exact) {
    dispatchBatch(text, count, this, socket, binding.batchFrames, exact);
    if (this.config.sync && count > 0) this.queue.next();
  }

  _socketData(_socket, buf) {
    this.publish('data', buf);
    if (this.config.sync) this.queue.next();
  }

  _message(type, data) {
    this._publish1(type, data);
  }

  _badFrame(error) {
    this.publish('error', error);
  }
}

function onClientSocketClose(client, socket) {
  client.log('connection closed', client.id, client.path, client.retriesRemaining, 'tries remaining of', client.config.maxRetries);
  if (client.config.stopRetrying || client.retriesRemaining < 1 || client.explicitlyDisconnected) {
    client.publish('disconnect');
    client.log(client.config.id, 'exceeded connection rety amount of', ' or stopRetrying flag set.');
    socket.destroy();
    client.publish('destroy');
    return;
  }
  client.retryTimer = setTimeout(function retryTimeout() {
    client.retryTimer = null;
    if (client.explicitlyDisconnected) return;
    client.retriesRemaining--;
    client.connect();
  }, client.config.retry);
  client.publish('disconnect');
}

Client.prototype.Client = Client;

module.exports = { Client };
