'use strict';

// ipc.server: a listener on a local socket or TCP, the accepted sockets, emit/broadcast.
// Events follow node-ipc 9/12: `start`, `connect`(socket), each message type (data, socket),
// `error`, `socket.disconnected`(socket, id) then `close`(hadError) per closed connection.

const EventEmitter = require('node:events');
const { PubSub } = require('./pubsub.js');
const { IpcSocket, markDirty, HWM } = require('./socket.js');
const { StreamSocket, listenStream, useStream, toDuplex } = require('./stream.js');
const { NativeUdp, DgramUdp } = require('./udp.js');
const { binding, handles } = require('./native.js');
const { formatFrame, dispatchFrames, dispatchBatch, dispatchChecked, checkDelimiter } = require('./frames.js');
const { systemError } = require('./errors.js');
const { tlsSettings } = require('./tls.js');
const { selectProfile, connectionFraming, readText, readBytes, clearTimer } = require('./endpoint.js');
const { socketRoot, checkLocalServer, serverTls, checkAssuredTls, checkAssuredNetServer } = require('./secure.js');

// node:net and node:dns are loaded on first use: only TCP and UDP need them, and loading them (with
// node:dgram, in lib/udp.js) took 1.1 ms of require('node-ipc-rs')'s 10.1 (bench/require-time.js).
let netModule;
const net = () => (netModule ??= require('node:net'));

// Stands where node-ipc exposes the net.Server (`ipc.server.server`).
class Listener extends EventEmitter {
  constructor(owner) {
    super();
    Object.defineProperty(this, '_owner', { value: owner });
    Object.defineProperty(this, '_refed', { value: true, writable: true });
    this.listening = false;
    this.maxConnections = owner.config.maxConnections;
  }

  address() {
    const o = this._owner;
    if (!this.listening) return null;
    if (o._udp) return o._udp.address();
    if (!o.port && !o.udp4 && !o.udp6) return o._boundPath;
    return binding.address(o._lid);
  }

  close(cb) {
    const o = this._owner;
    const wasListening = this.listening;
    if (o._udp) {
      o._udp.close();
      o._udp = null;
    }
    if (o._streamSettings) {
      binding.streamFree(o._streamSettings);
      o._streamSettings = 0;
    }
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

  // An unref'd listener does not keep the process alive (uv_unref on its poll handle).
  ref() {
    this._refed = true;
    if (this._owner._udp) this._owner._udp.setRef(true);
    if (this._owner._lid) binding.setRef(this._owner._lid, true);
    return this;
  }

  unref() {
    this._refed = false;
    if (this._owner._udp) this._owner._udp.setRef(false);
    if (this._owner._lid) binding.setRef(this._owner._lid, false);
    return this;
  }

  // Open accepted connections (stream servers), as net.Server#getConnections.
  getConnections(cb) {
    const n = this._owner._connections;
    if (typeof cb === 'function') process.nextTick(cb, null, n);
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
    // node-ipc 14's parser profile, chosen once (throws TypeError for an invalid parser config).
    const profile = selectProfile(config);
    Object.defineProperty(this, '_profile', { value: profile });
    if (profile.legacy) {
      Object.defineProperty(this, '_delimiter', { value: checkDelimiter(config.delimiter) });
    } else {
      this.parser = profile.parser;
      Object.defineProperty(this, '_delimiter', { value: profile.parser.delimiter || '\f' });
    }
    // `data.id` names the socket: always in node-ipc 9/12; in 14 only with identifyPeer.
    const identify = config.identifyPeer === undefined ? profile.legacy : !!config.identifyPeer;
    Object.defineProperty(this, '_identify', { value: identify });
    Object.defineProperty(this, '_socketRoot', { value: socketRoot(config, profile) });
    Object.defineProperty(this, '_lid', { value: 0, writable: true });
    Object.defineProperty(this, '_boundPath', { value: null, writable: true });
    Object.defineProperty(this, '_framing', { value: null, writable: true });
    Object.defineProperty(this, '_udpPeers', { value: null, writable: true });
    // A UDP server's socket (lib/udp.js): the addon's own, or Node's dgram under the stream transport.
    Object.defineProperty(this, '_udp', { value: null, writable: true });
    Object.defineProperty(this, '_connections', { value: 0, writable: true });
    // serveStream: a server of existing streams only (no listener at all). `_streams`: streams
    // attached before start, served once started (whatever the server listens on); their
    // framing/TLS settings prepared in the addon (binding.streamSettings; 0 when none).
    Object.defineProperty(this, '_streamOnly', { value: false, writable: true });
    Object.defineProperty(this, '_streams', { value: [], writable: true });
    Object.defineProperty(this, '_streamSettings', { value: 0, writable: true });
    // This tick's broadcast frames, written to every socket once per tick as one string (see
    // broadcast); `_dirty` while it waits in the per-tick flush list.
    Object.defineProperty(this, '_bcast', { value: '', writable: true });
    Object.defineProperty(this, '_dirty', { value: false, writable: true });
  }

  onStart(arg) {
    this.publish('start', arg);
    const streams = this._streams;
    if (streams.length === 0) return;
    this._streams = [];
    for (const s of streams) this.attach(s);
  }

  start() {
    if (this._streamOnly) {
      this._startStreams();
      return;
    }
    if (!this.path) {
      this.log('Socket Server Path not specified, refusing to start');
      return;
    }
    const profile = this._profile;
    const udp = this.udp4 || this.udp6;
    // node-ipc 14's checks come first and throw: assured transport rules, the secure socket root,
    // the unlink rule, the TLS options.
    let tls14 = null;
    if (!profile.legacy) {
      const assured = profile.parser.profile === 'assured';
      if (assured && (udp || this.port)) checkAssuredNetServer(this);
      if (!udp && this.config.tls) {
        const rules = serverTls(this.config.tls);
        tls14 = Object.assign(tlsSettings(this.config.tls, 'server'), rules);
        if (assured) checkAssuredTls(tls14, 'server');
      }
    }
    if (!udp && !this.port) checkLocalServer(this);
    this._framing = connectionFraming(profile, this.config, this._delimiter);
    // UDP under a profile: every datagram goes through the parser in JS, which keeps a remainder per peer.
    if (udp && !profile.legacy) this._framing.raw = true;
    this.server = new Listener(this);
    this.server.on('error', (err) => this._serverError(err));
    if (this.udp4 || this.udp6) {
      this.log('starting server as', this.udp4 ? 'udp4' : 'udp6');
      this._resolve(this.udp6 ? 6 : 4, (address) => this._bindUdp(address));
      return;
    }
    if (this.config.tls) {
      if (!this.port) this.log('warning: a local socket server with config.tls speaks TLS, but local clients (connectTo) never do');
      if (this.config.tls.dhparam) this.log('note: tls.dhparam is ignored; rustls uses ECDHE key exchange');
      try {
        this._framing.tls = tls14 || tlsSettings(this.config.tls, 'server');
      } catch (err) {
        this._failStart(err);
        return;
      }
    }
    if (useStream(this.config, 'server') && !this.udp4 && !this.udp6) {
      this.log('starting server on ', this.path, this.port ? `:${this.port}` : '', 'through Node streams');
      const srv = listenStream(this, this.port || undefined);
      if (srv === null) return;
      srv.on('error', (err) => this._serverError(err));
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
    this._resolve(0, (address) => this._listen(address, this.port));
  }

  // Host name -> IP address (as Node's listen/bind would), then `then(address)`.
  _resolve(family, then) {
    if (net().isIP(this.path)) {
      then(this.path);
      return;
    }
    require('node:dns').lookup(this.path, family ? { family } : {}, (err, address) => {
      if (err) {
        this._failStart(systemError(err.code || 'ENOTFOUND', 'getaddrinfo', this.path));
        return;
      }
      then(address);
    });
  }

  _bindUdp(address) {
    const type = this.udp6 ? 'udp6' : 'udp4';
    const udp = useStream(this.config, 'server') ? new DgramUdp(this, type) : new NativeUdp(this, type);
    this._udp = udp;
    udp.bind(address, this.port, (err) => {
      if (this._udp !== udp) return; // stopped meanwhile
      if (err) {
        this._udp = null;
        this._failStart(err);
        return;
      }
      if (this.server._refed === false) udp.setRef(false);
      this._udpPeers = new Map();
      const listener = this.server;
      listener.listening = true;
      // node-ipc 9/12: `start` with {address, port}, then `connect` with the socket once bound.
      process.nextTick(() => {
        if (!listener.listening) return;
        this.onStart({ address: this.path, port: this.port });
        listener.emit('listening');
        this.sockets.push(listener);
        this.publish('connect', listener);
      });
    });
  }

  _nativeDatagram(payload, address, port, size) {
    const family = net().isIPv6(address) ? 'IPv6' : 'IPv4';
    const key = `${address}|${port}`;
    let peer = this._udpPeers.get(key);
    if (peer === undefined) {
      // (node-ipc 14 hands handlers this one object per peer, with the peer's frame remainder)
      peer = { address, family, port, size, ipcBuffer: '' };
      this._udpPeers.set(key, peer);
    }
    const profile = this._profile;
    if (!profile.legacy) {
      if (profile.raw) this.publish('data', payload, peer);
      else readText(this, peer, payload.toString(profile.encoding));
      return;
    }
    const rinfo = { address, family, port, size, ipcBuffer: '' };
    if (this._framing.raw) {
      this.publish('data', payload, rinfo);
      return;
    }
    dispatchFrames(payload, this._delimiter, this, rinfo);
  }

  _udpSend(message, address, port) {
    if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new RangeError(`Port should be > 0 and < 65536. Received ${port}.`);
    }
    const send = (ip) => {
      if (this._udp) this._udp.send(message, ip, port, (code) => this.publish('error', systemError(code, 'send', address, port)));
    };
    if (net().isIP(address)) {
      send(address);
      return;
    }
    require('node:dns').lookup(address, { family: this.udp6 ? 6 : 4 }, (err, ip) => {
      if (err) this.publish('error', systemError(err.code || 'ENOTFOUND', 'getaddrinfo', address));
      else send(ip);
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
    if (this.server._refed === false) binding.setRef(r, false);
    if (port < 0) this._boundPath = address;
    this._announceListening(null);
  }

  // The listener is up: on the next tick, unless it was stopped meanwhile, `listening`, `start`
  // and then `after()`.
  _announceListening(after) {
    const listener = this.server;
    listener.listening = true;
    process.nextTick(() => {
      if (!listener.listening) return;
      listener.emit('listening');
      this.onStart();
      if (after) after();
    });
  }

  _serverError(err) {
    this.log('server error', err);
    this.publish('error', err);
  }

  stop() {
    // node-ipc 9/12: closes the listener only; accepted sockets stay open.
    this.server.close();
    if (this._udpPeers) {
      for (const peer of this._udpPeers.values()) clearTimer(peer);
      this._udpPeers.clear();
      const i = this.sockets.indexOf(this.server);
      if (i !== -1) this.sockets.splice(i, 1);
    }
  }

  // serveStream: no listener; each stream is one connection, announced once the server started
  // (with config.tls: once its TLS handshake completed, as on a TLS listener).
  _startStreams() {
    this.server = new Listener(this);
    this.server.on('error', (err) => this._serverError(err));
    const profile = this._profile;
    const framing = connectionFraming(profile, this.config, this._delimiter);
    try {
      if (this.config.tls) {
        const tls = tlsSettings(this.config.tls, 'server');
        framing.tls = profile.legacy ? tls : Object.assign(tls, serverTls(this.config.tls));
        // assured's TLS rules hold for TLS over existing streams as on a TLS listener.
        if (!profile.legacy && profile.parser.profile === 'assured') checkAssuredTls(framing.tls, 'server');
      }
    } catch (err) {
      this._failStart(err);
      return;
    }
    this._framing = framing;
    if (!this._prepareStreams()) return;
    this._announceListening(null);
  }

  /**
   * Serves node-ipc's protocol over an existing stream (a Duplex, or {readable, writable}) as
   * one more connection of this server: `connect`(socket) now, messages, `socket.disconnected`
   * and `close` when the stream closes. Returns the socket.
   */
  attach(stream) {
    const duplex = toDuplex(stream);
    if (!this._framing) {
      this._streams.push(duplex); // served once started
      return undefined;
    }
    if (!this._streamSettings && !this._prepareStreams()) {
      duplex.destroy();
      return undefined;
    }
    const socket = new StreamSocket(this._framing, this, true);
    // With TLS, `connect` once the handshake completed (a failed one is the server's error).
    socket._announced = !this._framing.tls;
    socket._adopt(duplex, false, this._streamSettings);
    if (socket._announced) this._streamAccepted(socket);
    return socket;
  }

  // The addon's settings for this server's streams (PEM files parsed and checked once); false
  // (and an error event) when they are refused.
  _prepareStreams() {
    const settings = binding.streamSettings(this._framing, undefined);
    if (typeof settings === 'string') {
      this._failStart(systemError(settings, 'listen'));
      return false;
    }
    this._streamSettings = settings;
    return true;
  }

  _nativeAccept(cid) {
    const socket = new IpcSocket(this._framing, this);
    socket._attach(cid);
    socket.readable = true;
    socket.writable = true;
    this._streamAccepted(socket);
  }

  // An accepted connection, native or through a stream: track it and announce it.
  _streamAccepted(socket) {
    if (this._bcast) this._flush(); // earlier broadcasts are not for this socket
    socket.setEncoding(this.config.encoding);
    this.sockets.push(socket);
    this._connections++;
    this.log('## socket connection to server detected ##');
    socket.on('close', (hadError) => this._socketClosed(socket, hadError));
    socket.on('error', (err) => {
      // node-ipc 14 reports no error for a peer closing mid-frame.
      if (!this._profile.legacy && err.code === 'ERR_IPC_INCOMPLETE_FRAME') return;
      this.log('server socket error', err);
      this.publish('error', err);
    });
    this.publish('connect', socket);
  }

  _nativeError(code, message) {
    // Accept failures (EMFILE, ENFILE, ENOMEM...) pause the listener; try again shortly.
    if (message.startsWith('accept')) {
      const lid = this._lid;
      setTimeout(() => {
        if (this._lid === lid) binding.resumeListen(lid);
      }, 100);
    }
    this.server.emit('error', systemError(code, 'accept', undefined, undefined, message));
  }

  _socketClosed(socket, hadError) {
    this._connections--;
    clearTimer(socket);
    const i = this.sockets.indexOf(socket);
    if (i !== -1) {
      this.sockets.splice(i, 1);
      const id = socket.id ? socket.id : false;
      this.log('socket disconnected', String(id));
      this.publish('socket.disconnected', socket, id);
    }
    this.publish('close', hadError);
  }

  _socketFrames(socket, text, count, whole) {
    const profile = this._profile;
    if (profile.legacy) dispatchBatch(text, count, this, socket, binding.batchFrames, whole);
    else dispatchChecked(text, count, this, socket, binding.batchFrames, whole, profile.rules);
  }

  _socketData(socket, buf) {
    if (this._profile.jsRead) readBytes(this, socket, buf);
    else this.publish('data', buf, socket);
  }

  _message(type, data, socket) {
    if (this._identify && data && data.id) socket.id = data.id;
    this._publish2(type, data, socket);
  }

  // A message from a custom parser's read() (lib/endpoint.js).
  _jsMessage(message, socket) {
    this._message(message.type, message.data, socket);
  }

  // node-ipc 14's receive-side violation: drop the buffer, close that connection (UDP: keep the
  // peer), report the error without a socket argument; the close then publishes
  // `socket.disconnected` and `close` as usual.
  _protocolFailure(socket, err) {
    clearTimer(socket);
    socket.ipcBuffer = '';
    this.log('IPC protocol error', err.code, err.message);
    if (typeof socket.destroy === 'function') socket.destroy();
    this.publish('error', err);
  }

  _badFrame(error, socket) {
    this.publish('error', error, socket);
  }

  _encode(type, data) {
    const profile = this._profile;
    if (!profile.legacy) return profile.parser.encode(type, data);
    if (this.config.rawBuffer) return Buffer.from(type, this.config.encoding);
    return formatFrame(type, data, this._delimiter);
  }

  emit(socket, type, data) {
    // Raw mode: emit(socket, payload).
    if (this.udp4 || this.udp6) {
      if (!socket || !socket.address || !socket.port) {
        this.log(
          'Attempting to emit to a single UDP socket without supplying socket address or port. Redispatching event as broadcast to all connected sockets',
        );
        return this.broadcast(type, data);
      }
      this._udpSend(this._encode(type, data), socket.address, socket.port);
      return true;
    }
    // Raw bytes are written without the copy node-ipc makes, when the socket can take them now.
    if (type instanceof Uint8Array && this.config.rawBuffer && this._profile.legacy) return socket._writeBytes(type);
    return socket.write(this._encode(type, data));
  }

  broadcast(type, data) {
    const message = this._encode(type, data);
    if (this.udp4 || this.udp6) {
      // Every peer that has sent us a datagram (node-ipc 9/12 sent nothing here).
      if (this._udpPeers) for (const peer of this._udpPeers.values()) this._udpSend(message, peer.address, peer.port);
      return true;
    }
    const sockets = this.sockets;
    let ok = true;
    if (typeof message !== 'string') {
      for (let i = 0; i < sockets.length; i++) if (sockets[i].write(message) === false) ok = false;
      return ok;
    }
    // A tick's frames are joined here and written to every socket as one string when the tick
    // ends (or once they reach the high-water mark), so that the string is flattened and read
    // once, not once per socket. A socket's own write flushes them first (order is kept). The
    // result is what the sockets' writes will say: false where the unsent bytes reach the mark.
    this._bcast += message;
    const pending = this._bcast.length;
    if (pending >= HWM) return this._flush();
    markDirty(this);
    for (let i = 0; i < sockets.length; i++) if (!sockets[i]._canTake(pending)) ok = false;
    return ok;
  }

  // Writes this tick's broadcasts to every socket; false if any write was. Each socket applies
  // its own limits: a stalled one is dropped (ERR_IPC_BACKPRESSURE) without holding up the others.
  _flush() {
    this._dirty = false;
    const text = this._bcast;
    if (text === '') return true;
    this._bcast = '';
    let ok = true;
    const sockets = this.sockets;
    for (let i = 0; i < sockets.length; i++) if (sockets[i].write(text) === false) ok = false;
    return ok;
  }
}

module.exports = { Server };
