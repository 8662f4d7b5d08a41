'use strict';

// A connection to one server: ipc.of[id]. Lifecycle, retries and sync mode follow node-ipc 9/12
// (see NODE_IPC_CONTRACT §6): connect -> `connect`; every close -> `disconnect`, then a retry after
// config.retry ms until retriesRemaining runs out (reset on each successful connect), then `destroy`.

const { PubSub } = require('./pubsub.js');
const { IpcSocket } = require('./socket.js');
const { StreamSocket, useStream } = require('./stream.js');
const { formatFrame, dispatchBatch, dispatchChecked, checkDelimiter } = require('./frames.js');
const { binding } = require('./native.js');
const { tlsSettings } = require('./tls.js');
const { selectProfile, connectionFraming, isProtocolError, readBytes, clearTimer } = require('./endpoint.js');
const { checkAssuredClient, checkAssuredTls } = require('./secure.js');

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
    // node-ipc 14's parser profile, chosen once (throws TypeError for an invalid parser config).
    const profile = selectProfile(config);
    Object.defineProperty(this, '_profile', { value: profile });
    if (profile.legacy) {
      // Captured per client (node-ipc 9/12 shared one delimiter module-wide).
      Object.defineProperty(this, '_delimiter', { value: checkDelimiter(config.delimiter) });
    } else {
      // node-ipc 14's client members; sync is captured too.
      this.protocolViolation = false;
      this.parser = profile.parser;
      Object.defineProperty(this, '_delimiter', { value: profile.parser.delimiter || '\f' });
      Object.defineProperty(this, '_sync', { value: !!config.sync });
      if (this._sync) Object.defineProperty(this, '_message', { value: syncMessage });
    }
  }

  connect() {
    const client = this;
    client.log('requested connection to ', client.id, client.path);
    if (!client.path) {
      client.log('\n\n######\nerror: ', client.id, ' client has not specified socket path it wishes to connect to.');
      return;
    }
    const profile = client._profile;
    const framing = connectionFraming(profile, client.config, client._delimiter);
    // node-ipc 14's assured profile: network connections only over verified mutual TLS (thrown,
    // like a TLS file that cannot be read).
    let assuredTls = null;
    if (!profile.legacy && client.port && profile.parser.profile === 'assured') {
      checkAssuredClient(client.config.tls);
      assuredTls = tlsSettings(client.config.tls, 'client');
      checkAssuredTls(assuredTls, 'client');
    }
    const iface = client.config.interface || {};
    if (client.port) {
      // config.interface: each truthy member goes to the connect, as node-ipc passed them to net.connect.
      if (iface.localAddress) framing.localAddress = String(iface.localAddress);
      if (iface.localPort) framing.localPort = Number(iface.localPort);
    }
    let tlsFailure = null;
    if ((client.port || client.stream !== undefined) && client.config.tls) {
      // TLS for connectToNet (and existing streams, matching serveStream), as in node-ipc; local
      // sockets never speak TLS.
      try {
        framing.tls = assuredTls || tlsSettings(client.config.tls, 'client');
      } catch (err) {
        tlsFailure = err;
      }
    }
    const viaStream = client.stream !== undefined || useStream(client.config, 'client');
    const socket = viaStream ? new StreamSocket(framing, client, false) : new IpcSocket(framing, client);
    client.socket = socket;
    socket.setEncoding(client.config.encoding);
    socket.on('error', function onSocketError(err) {
      if (!profile.legacy) {
        // node-ipc 14 reports no error for a peer closing mid-frame; a protocol error from the
        // core (frame size, timeout, backpressure) ends the client: no reconnect.
        if (err.code === 'ERR_IPC_INCOMPLETE_FRAME') return;
        if (isProtocolError(err)) client.protocolViolation = true;
      }
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
    if (client.stream !== undefined) {
      client.log('Connecting client over an existing stream');
      socket._adoptOpen(client.stream);
    } else if (!client.port) {
      client.log('Connecting client on Unix Socket :', client.path);
      socket._connect(client.path, undefined);
    } else {
      client.log(framing.tls ? 'Connecting client via TLS to' : 'Connecting client via TCP to', client.path, client.port);
      socket._connect(client.path, client.port, client.config.interface);
    }
  }

  // Returns false when the message was not written, or when the connection's unsent bytes reached
  // the high-water mark: wait for 'drain' before emitting more (node-ipc 14's return value). In
  // sync mode the message is queued (true).
  emit(type, data) {
    const profile = this._profile;
    let message;
    let sync;
    if (profile.legacy) {
      sync = this.config.sync;
      if (this.config.rawBuffer) {
        // Bytes are written without the copy node-ipc makes, when the socket can take them now.
        if (type instanceof Uint8Array && this.socket && !sync) return this.socket._writeBytes(type);
        message = Buffer.from(type, this.config.encoding);
      } else message = formatFrame(type, data, this._delimiter);
    } else {
      // node-ipc 14: encode (throws for a name or size violation; nothing is sent), with the
      // sync setting captured at connect.
      message = profile.parser.encode(type, data);
      sync = this._sync;
    }
    if (sync) {
      this.queue.add(message);
      return true;
    }
    return this.socket ? this.socket.write(message) : false;
  }

  _socketFrames(socket, text, count, whole) {
    const profile = this._profile;
    if (profile.legacy) {
      dispatchBatch(text, count, this, socket, binding.batchFrames, whole);
      if (this.config.sync && count > 0) this.queue.next();
      return;
    }
    dispatchChecked(text, count, this, socket, binding.batchFrames, whole, profile.rules);
  }

  _socketData(socket, buf) {
    const profile = this._profile;
    if (profile.jsRead) {
      readBytes(this, socket, buf);
      return;
    }
    this.publish('data', buf);
    if (profile.legacy ? this.config.sync : this._sync) this.queue.next();
  }

  // A message from a custom parser's read() (lib/endpoint.js).
  _jsMessage(message) {
    this._message(message.type, message.data);
  }

  // node-ipc 14's receive-side violation: drop the buffer, close the socket, report; the close
  // then ends the client (`disconnect`, `destroy`, no reconnect).
  _protocolFailure(socket, err) {
    clearTimer(socket);
    socket.ipcBuffer = '';
    this.protocolViolation = true;
    this.log('IPC protocol error', err.code, err.message);
    socket.destroy();
    this.publish('error', err);
  }

  _badFrame(error) {
    this.publish('error', error);
  }
}

function onClientSocketClose(client, socket) {
  clearTimer(socket);
  client.log('connection closed', client.id, client.path, client.retriesRemaining, 'tries remaining of', client.config.maxRetries);
  // (an existing stream cannot be opened again: its close is final)
  if (
    client.config.stopRetrying ||
    client.retriesRemaining < 1 ||
    client.explicitlyDisconnected ||
    client.protocolViolation ||
    client.stream !== undefined
  ) {
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
    try {
      client.connect();
    } catch (err) {
      // A configuration check that failed on a retry (e.g. config.tls changed): report and give up.
      client.explicitlyDisconnected = true;
      client.publish('error', err);
      client.publish('destroy');
    }
  }, client.config.retry);
  client.publish('disconnect');
}

// A received message goes straight to its handlers: `_message` is PubSub's `_publish1`, one call
// less per message in the read's dispatch loop and, in a fresh process, one function less for V8
// to optimize on its own (a 50-process broadcast: about 4% more deliveries/s). Under node-ipc 14's
// sync mode the constructor gives the client `syncMessage` instead.
Object.defineProperty(Client.prototype, '_message', { value: PubSub.prototype._publish1, writable: true, configurable: true });

// node-ipc 14's sync mode releases the next queued message after each received one.
function syncMessage(type, data) {
  this._publish1(type, data);
  this.queue.next();
}

Client.prototype.Client = Client;

module.exports = { Client };
