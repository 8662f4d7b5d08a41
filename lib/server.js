'use strict';

// ipc.server: a listener on a local socket or TCP, the accepted sockets, emit/broadcast.
// Events follow node-ipc 9/12: `start`, `connect`(socket), each message type (data, socket),
// `error`, `socket.disconnected`(socket, id) then `close`(hadError) per closed connection.

const EventEmitter = require('node:events');
const dns = require('node:dns');
const net = require('node:net');
const { PubSub } = require('./pubsub.js');
const { IpcSocket } = require('./socket.js');
const { binding, handles } = require('./native.js');
const { formatFrame, dispatchFrames, checkDelimiter } = require('./frames.js');
const { frameLimit } = require('./config.js');
const { systemError, IPCProtocolError } = require('./errors.js');

// Stands where node-ipc exposes the net.Server (`ipc.server.server`).
class Listener extends EventEmitter {
  constructor(owner) {
    super();
    Object.defineProperty(this, '_owner', { value: owner });
    this.listening = false;
    this.maxConnections = owner.config.maxConnections;
  }

  address() {
    const o = this._owner;
    if (!this.listening) return null;
    if (!o.port) return o._boundPath;
    return binding.serverAddress(o._lid);
  }

  close(cb) {
    const o = this._owner;
    const wasListening = this.listening;
    if (o._lid) {
      handles.delete(o._lid);
      binding.closeServer(o._lid);
      o._lid = 0;
    }
    this.listening = false;
    process.nextTick(() => {
      if (cb) cb(wasListening ? undefined : Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' }));
      if (wasListening) this.emit('close');
    });
    return this;
  }

  ref() {
    return this;
  }

  unref() {
    return this;
  }
}

class Server extends PubSub {
  constructor(path, config, log, port) {
    super();
    this.config = config;
    this.path = path;
    this.port = port;
    this.log = log;
    this.udp4 = false;
    this.udp6 = false;
    this.server = false;
    this.sockets = [];
    Object.defineProperty(this, '_delimiter', { value: checkDelimiter(config.delimiter) });
    Object.defineProperty(this, '_lid', { value: 0, writable: true });
    Object.defineProperty(this, '_boundPath', { value: null, writable: true });
    Object.defineProperty(this, '_framing', { value: null, writable: true });
  }

  onStart(arg) {
    this.publish('start', arg);
  }

  start() {
    if (!this.path) {
      this.log('Socket Server Path not specified, refusing to start');
      return;
    }
    this._framing = {
      delimiter: this._delimiter,
      raw: !!this.config.rawBuffer,
      maxFrame: frameLimit(this.config),
    };
    this.server = new Listener(this);
    this.server.on('error', (err) => {
      this.log('server error', err);
      this.publish('error', err);
    });
    if (this.udp4 || this.udp6) {
      this._failStart(new IPCProtocolError('ERR_IPC_UDP_UNSUPPORTED', 'UDP is not available in this version of node-ipc-rs'));
      return;
    }
    if (this.config.tls) {
      this._failStart(new IPCProtocolError('ERR_IPC_TLS_UNSUPPORTED', 'TLS is not available in this version of node-ipc-rs'));
      return;
    }
    if (!this.port) {
      this.log('starting server on ', this.path);
      this.log('starting server as', 'Unix || Windows Socket');
      this._listen(this.path, -1);
      return;
    }
    this.log('starting server on ', this.path, `:${this.port}`);
    this.log('starting server as', 'TCP');
    if (net.isIP(this.path)) {
      this._listen(this.path, this.port);
      return;
    }
    dns.lookup(this.path, (err, address) => {
      if (err) {
        this._failStart(systemError(err.code || 'ENOTFOUND', 'getaddrinfo', this.path));
        return;
      }
      this._listen(address, this.port);
    });
  }

  _failStart(err) {
    process.nextTick(() => this.server.emit('error', err));
  }

  _listen(address, port) {
    const opts = {
      unlink: !!this.config.unlink,
      readableAll: !!this.config.readableAll,
      writableAll: !!this.config.writableAll,
      maxConnections: Number(this.config.maxConnections),
      socket: this._framing,
    };
    const r = binding.listen(address, port, opts);
    if (typeof r === 'string') {
      this._failStart(systemError(r, 'listen', port < 0 ? address : address, port < 0 ? undefined : port));
      return;
    }
    this._lid = r;
    handles.set(r, this);
    if (port < 0) this._boundPath = address;
    const listener = this.server;
    listener.listening = true;
    process.nextTick(() => {
      if (!listener.listening) return;
      listener.emit('listening');
      this.onStart();
    });
  }

  stop() {
    // node-ipc 9/12: closes the listener only; accepted sockets stay open.
    this.server.close();
  }

  _nativeAccept(cid) {
    const socket = new IpcSocket(this._framing, this);
    socket._attach(cid);
    socket.readable = true;
    socket.writable = true;
    socket.setEncoding(this.config.encoding);
    this.sockets.push(socket);
    this.log('## socket connection to server detected ##');
    socket.on('close', (hadError) => this._socketClosed(socket, hadError));
    socket.on('error', (err) => {
      this.log('server socket error', err);
      this.publish('error', err);
    });
    this.publish('connect', socket);
  }

  _nativeError(code, message) {
    this.server.emit('error', systemError(code, 'accept', undefined, undefined, message));
  }

  _socketClosed(socket, hadError) {
    const i = this.sockets.indexOf(socket);
    if (i !== -1) {
      this.sockets.splice(i, 1);
      const id = socket.id ? socket.id : false;
      this.log('socket disconnected', String(id));
      this.publish('socket.disconnected', socket, id);
    }
    this.publish('close', hadError);
  }

  _socketFrames(socket, text) {
    dispatchFrames(text, this._delimiter, this, socket);
  }

  _socketData(socket, buf) {
    this.publish('data', buf, socket);
  }

  _message(type, data, socket) {
    if (data && data.id) socket.id = data.id;
    this._publish2(type, data, socket);
  }

  _badFrame(error, socket) {
    this.publish('error', error, socket);
  }

  _encode(type, data) {
    if (this.config.rawBuffer) return Buffer.from(type, this.config.encoding);
    return formatFrame(type, data, this._delimiter);
  }

  emit(socket, type, data) {
    // Raw mode: emit(socket, payload).
    socket.write(this._encode(type, data));
  }

  broadcast(type, data) {
    const message = this._encode(type, data);
    const sockets = this.sockets;
    for (let i = 0; i < sockets.length; i++) sockets[i].write(message);
  }
}

module.exports = { Server };
