'use strict';

// IpcSocket: what node-ipc users get where node-ipc gave them a net.Socket (`ipc.of[id].socket`,
// the `socket` argument of server handlers). An EventEmitter with the parts of net.Socket that
// programs use, over one native connection.
//
// Writes are coalesced: everything written during one tick goes to the kernel in one native call
// at the end of the tick (or at once past FLUSH_AT bytes), which is what makes bursts cheap.

const EventEmitter = require('node:events');
const dns = require('node:dns');
const net = require('node:net');
const { binding, handles } = require('./native.js');
const { systemError } = require('./errors.js');

const FLUSH_AT = 1 << 20;

// Sockets with unflushed writes, flushed together once per tick.
let dirty = [];
let flushScheduled = false;

function flushDirty() {
  flushScheduled = false;
  const list = dirty;
  dirty = [];
  for (let i = 0; i < list.length; i++) list[i]._flush();
}

function markDirty(sock) {
  if (sock._dirty) return;
  sock._dirty = true;
  dirty.push(sock);
  if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(flushDirty);
  }
}

class IpcSocket extends EventEmitter {
  /**
   * @param {object} framing {delimiter, raw, maxFrame} for the native connection
   * @param {object} owner receives frames: owner._socketFrames(sock, text, count) / _socketData(sock, buf)
   */
  constructor(framing, owner) {
    super();
    this._nid = 0; // native handle id, 0 until there is one
    this._framing = framing;
    this._owner = owner;
    this._pending = ''; // string writes not yet flushed
    this._pendingBufs = null; // Buffer writes not yet flushed (raw mode)
    this._dirty = false;
    this._peer = null;
    this._ending = false;
    this.connecting = false;
    this.destroyed = false;
    this.readable = false;
    this.writable = false;
    this.ipcBuffer = '';
    this.encoding = null;
  }

  _attach(nid) {
    this._nid = nid;
    handles.set(nid, this);
  }

  // Outgoing connection: to the local socket `path` when `port` is undefined, else to TCP
  // `path`:`port`, trying each address a host name resolves to (IPv4 first) until one answers.
  _connect(path, port, interfaceOptions) {
    this.connecting = true;
    this.writable = true;
    this._address = path;
    this._port = port;
    if (port === undefined) {
      this._tryConnect([path], -1);
      return;
    }
    if (net.isIP(path)) {
      this._tryConnect([path], port);
      return;
    }
    const lookup = (interfaceOptions && interfaceOptions.lookup) || dns.lookup;
    const opts = { all: true };
    if (interfaceOptions && interfaceOptions.family) opts.family = interfaceOptions.family;
    if (interfaceOptions && interfaceOptions.hints) opts.hints = interfaceOptions.hints;
    lookup(path, opts, (err, addresses) => {
      if (this.destroyed) return;
      if (err) {
        this._failSoon(systemError(err.code || 'ENOTFOUND', 'getaddrinfo', path));
        return;
      }
      if (!Array.isArray(addresses)) addresses = [{ address: addresses }];
      // IPv4 first: node-ipc's default host is 127.0.0.1, and `localhost` often resolves to ::1 first.
      const list = addresses
        .slice()
        .sort((x, y) => (net.isIPv4(y.address) ? 1 : 0) - (net.isIPv4(x.address) ? 1 : 0))
        .map((a) => a.address);
      this._tryConnect(list, port);
    });
  }

  _tryConnect(addresses, port) {
    const address = addresses[0];
    const r = binding.connect(address, port, this._framing);
    if (typeof r === 'string') {
      if (addresses.length > 1) {
        this._tryConnect(addresses.slice(1), port);
        return;
      }
      this._failSoon(systemError(r, 'connect', address, port < 0 ? undefined : port));
      return;
    }
    this._remaining = addresses.slice(1);
    this._attach(r);
    if (this._pending || this._pendingBufs) markDirty(this);
  }

  _nativeConnect() {
    this.connecting = false;
    this.readable = true;
    this._remaining = null;
    this.emit('connect');
    if (this._ending) binding.end(this._nid);
  }

  _nativeFrames(text, count) {
    this._owner._socketFrames(this, text, count);
  }

  _nativeData(buf) {
    this._owner._socketData(this, buf);
  }

  _nativeError(code, message) {
    if (
      this.connecting &&
      this._remaining &&
      this._remaining.length &&
      (code === 'ECONNREFUSED' || code === 'EADDRNOTAVAIL' || code === 'ENETUNREACH' || code === 'EAFNOSUPPORT')
    ) {
      // Try the next address of the host; the close event for this attempt is not reported.
      this._retryNext = true;
      return;
    }
    const syscall = this.connecting ? 'connect' : code.startsWith('ERR_IPC_') ? undefined : 'read';
    const err = syscall
      ? systemError(
          code,
          syscall,
          this.connecting ? this._address : undefined,
          this.connecting && this._port !== undefined && this._port >= 0 ? this._port : undefined,
          message,
        )
      : systemError(code, undefined, undefined, undefined, message);
    this.emit('error', err);
  }

  _nativeClose(hadError) {
    this._nid = 0;
    if (this._retryNext) {
      this._retryNext = false;
      const rest = this._remaining;
      this._remaining = null;
      this._tryConnect(rest, this._port);
      return;
    }
    this._markClosed();
    this.emit('close', hadError);
  }

  _markClosed() {
    this.destroyed = true;
    this.connecting = false;
    this.readable = false;
    this.writable = false;
    this._pending = '';
    this._pendingBufs = null;
  }

  // Report a failure that happened before there was a native handle, asynchronously as Node does.
  _failSoon(err) {
    this._markClosed();
    process.nextTick(() => {
      this.emit('error', err);
      this.emit('close', true);
    });
  }

  write(data, encoding, cb) {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (this.destroyed || this._ending) return false; // node-ipc: writes to a closed socket are lost
    if (typeof data === 'string') {
      if (encoding && encoding !== 'utf8' && encoding !== 'utf-8') data = Buffer.from(data, encoding);
      else {
        if (this._pendingBufs !== null) this._pendingBufs.push(Buffer.from(data));
        else this._pending += data;
        if (this._pending.length > FLUSH_AT) this._flush();
        else markDirty(this);
        if (cb) process.nextTick(cb);
        return true;
      }
    }
    if (!(data instanceof Uint8Array)) {
      throw new TypeError('The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
    }
    if (this._pendingBufs === null) {
      this._pendingBufs = this._pending ? [Buffer.from(this._pending)] : [];
      this._pending = '';
    }
    this._pendingBufs.push(data);
    markDirty(this);
    if (cb) process.nextTick(cb);
    return true;
  }

  _flush() {
    this._dirty = false;
    if (this._nid === 0 || this.destroyed) return; // still resolving: flushed once attached
    let err = null;
    if (this._pendingBufs !== null) {
      const bufs = this._pendingBufs;
      this._pendingBufs = null;
      const data = bufs.length === 1 ? bufs[0] : Buffer.concat(bufs);
      if (data.length) err = binding.writeBuf(this._nid, data);
    } else if (this._pending) {
      const data = this._pending;
      this._pending = '';
      err = binding.writeStr(this._nid, data);
    }
    if (err) {
      // The native side closed the connection: report it like a Node socket write failure.
      handles.delete(this._nid);
      this._nid = 0;
      this._markClosed();
      const e = systemError(err, 'write');
      process.nextTick(() => {
        this.emit('error', e);
        this.emit('close', true);
      });
    }
  }

  end(data, encoding, cb) {
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
    }
    if (data !== undefined && data !== null) this.write(data, encoding);
    if (this.destroyed || this._ending) return this;
    this._flush();
    this._ending = true;
    this.writable = false;
    if (this._nid !== 0 && !this.connecting) binding.end(this._nid);
    if (cb) this.once('close', cb);
    return this;
  }

  destroy(err) {
    if (this.destroyed) return this;
    // What was written before destroy() still goes out, as it would from a Node socket.
    if (this._nid !== 0) {
      this._flush();
      const nid = this._nid;
      this._nid = 0;
      if (handles.get(nid) === this) {
        handles.delete(nid);
        binding.destroy(nid);
      }
    }
    this._markClosed();
    process.nextTick(() => {
      if (err) this.emit('error', err);
      this.emit('close', !!err);
    });
    return this;
  }

  destroySoon() {
    return this.end();
  }

  setEncoding(encoding) {
    this.encoding = encoding;
    return this;
  }

  setNoDelay() {
    return this;
  }

  setKeepAlive() {
    return this;
  }

  setTimeout(_ms, cb) {
    if (cb) this.once('timeout', cb);
    return this;
  }

  ref() {
    return this;
  }

  unref() {
    return this;
  }

  get pending() {
    return this.connecting;
  }

  get bufferSize() {
    return this._nid ? binding.pendingBytes(this._nid) : 0;
  }

  get writableLength() {
    return this.bufferSize + this._pending.length;
  }

  _peerInfo() {
    if (this._peer === null && this._nid !== 0) this._peer = binding.peer(this._nid) || false;
    return this._peer || undefined;
  }

  get remoteAddress() {
    const p = this._peerInfo();
    return p && p.address;
  }

  get remotePort() {
    const p = this._peerInfo();
    return p && p.port;
  }

  get remoteFamily() {
    const p = this._peerInfo();
    return p && p.family;
  }
}

module.exports = { IpcSocket };
