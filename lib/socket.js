'use strict';

// IpcSocket: what node-ipc users get where node-ipc gave them a net.Socket (`ipc.of[id].socket`,
// the `socket` argument of server handlers). An EventEmitter with the parts of net.Socket that
// programs use, over one native connection.
//
// Writes are coalesced: everything written during one tick goes to the kernel in one native call
// at the end of the tick, or at once when it reaches the high-water mark, which is what makes
// bursts cheap. Flow control follows Node's streams (see README "Backpressure and limits"):
// - unsent bytes = this tick's coalesced writes + what the kernel refused (queued in Rust);
// - write() returns false once they reach the high-water mark (64 KiB, node_ipc_rs::flow), and
//   'drain' follows when they are all flushed. Because the coalesced writes are flushed whenever
//   they reach the mark, false always means the kernel pushed back, never merely a burst;
// - a write that would take them past maxPendingBytes (framing.maxPending) is not written,
//   returns false, and the connection is closed with ERR_IPC_BACKPRESSURE (error, then close).
// Every call into the addon's fd connection goes through the `_io*` methods at the end of the
// class (a second backend, bytes through a Node stream, can replace them).

const EventEmitter = require('node:events');
const { binding, handles, flowDefaults } = require('./native.js');
const { systemError, IPCProtocolError } = require('./errors.js');
const { addTypes } = require('./frames.js');

const HWM = flowDefaults.highWaterMark;
// A tick's writes go to the native side once they reach this many units, not only at the end of
// the tick. An echo server's replies to one 64 KiB read are a chain of concatenated strings until
// they are flushed; a scavenge in the middle of the dispatch kept that chain alive, and V8 grew its
// young generation from such survivors. With 16 KiB the 1M-message echo's peak RSS fell from 66-67
// to 58-63 MB per process over Unix sockets in alternating rounds, at the same throughput
// (bench/results/flush-size-2026-11-30.txt); full runs since put the server at 59-67 MB: the
// young generation still grows, less often.
const FLUSH_AT = 16 * 1024;
// A raw-mode emit of at least this many bytes is written at once instead of being copied into
// the per-tick batch (see _writeBytes).
const DIRECT_MIN = 32 * 1024;

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

function emitDrain(sock) {
  if (sock.destroyed || !sock._needDrain || sock._queuedLen !== 0 || sock._nativeQueued !== 0) return;
  sock._needDrain = false;
  sock.emit('drain');
}

function onIdleTimer(sock) {
  sock._timer = null;
  if (sock.destroyed || sock._timeoutMs === 0) return;
  const idle = Date.now() - sock._lastActive;
  if (idle + 1 < sock._timeoutMs) {
    sock._armTimer(sock._timeoutMs - idle);
    return;
  }
  sock.emit('timeout');
}

class IpcSocket extends EventEmitter {
  /**
   * @param {object} framing {delimiter, raw, maxFrame, maxPending} for the native connection
   * @param {object} owner receives frames: owner._socketFrames(sock, text, count) / _socketData(sock, buf)
   */
  constructor(framing, owner) {
    super();
    this._nid = 0; // native handle id, 0 until there is one
    this._framing = framing;
    this._owner = owner;
    this._pending = ''; // string writes not yet flushed
    this._pendingBufs = null; // Buffer writes not yet flushed (raw mode)
    this._queuedLen = 0; // their size (UTF-16 units for strings, bytes for Buffers)
    this._nativeQueued = 0; // bytes the kernel refused, as of the last write (0 once drained)
    this._needDrain = false;
    this._maxPending = framing && framing.maxPending !== undefined ? framing.maxPending : flowDefaults.maxPendingBytes;
    this._dirty = false;
    this._peer = null;
    this._ending = false;
    // Socket controls set before there is a native handle, applied once there is one.
    this._refed = true;
    this._paused = false;
    this._keepAlive = null; // [enable, initialDelay]
    this._noDelay = null;
    // setTimeout(): idle time in ms (0 = off), last activity, the timer.
    this._timeoutMs = 0;
    this._lastActive = 0;
    this._timer = null;
    this._bytesRead = 0; // final counts, once closed
    this._bytesWritten = 0;
    this.connecting = false;
    this.destroyed = false;
    this.readable = false;
    this.writable = false;
    this.ipcBuffer = '';
    this.encoding = null;
    // The event names of the connection's split frames, as the addon numbered them
    // (node_ipc_rs::batch::TypeTable), whether the owner accepts each, and whether it accepts
    // them all (lib/frames.js acceptedPairs).
    this._types = [];
    this._typeOk = [];
    this._namesOk = true;
  }

  _attach(nid) {
    this._nid = nid;
    this._types = [];
    this._typeOk = [];
    this._namesOk = true;
    handles.set(nid, this);
    if (!this._refed) this._ioSetRef(false);
    if (this._paused) this._ioPause(true);
    if (this._keepAlive !== null) this._ioKeepAlive(this._keepAlive[0], this._keepAlive[1]);
    if (this._noDelay !== null) this._ioNoDelay(this._noDelay);
  }

  // Outgoing connection: to the local socket `path` when `port` is undefined, else to TCP
  // `path`:`port`, trying each address a host name resolves to (IPv4 first) until one answers.
  _connect(path, port, interfaceOptions) {
    this.connecting = true;
    this.writable = true;
    this._address = path;
    this._port = port;
    if (this._timeoutMs) this._touch();
    if (port === undefined) {
      this._tryConnect([path], -1);
      return;
    }
    const { isIP, isIPv4 } = require('node:net'); // (loaded on first use, as in server.js)
    if (isIP(path)) {
      this._tryConnect([path], port);
      return;
    }
    const lookup = (interfaceOptions && interfaceOptions.lookup) || require('node:dns').lookup;
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
        .sort((x, y) => (isIPv4(y.address) ? 1 : 0) - (isIPv4(x.address) ? 1 : 0))
        .map((a) => a.address);
      this._tryConnect(list, port);
    });
  }

  _tryConnect(addresses, port) {
    const address = addresses[0];
    // TLS verifies (and sends as SNI) the host the user gave, not the address it resolved to.
    const r = binding.connect(address, port, this._framing, port < 0 ? undefined : this._address);
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
    if (this._queuedLen !== 0) markDirty(this);
  }

  _nativeConnect() {
    this.connecting = false;
    this.readable = true;
    this._remaining = null;
    if (this._timeoutMs) this._touch();
    this.emit('connect');
    if (this._ending) this._ioEnd();
  }

  _nativeFrames(text, count, whole, added) {
    if (this._timeoutMs) this._touch();
    if (added !== undefined) addTypes(this._types, added);
    this._owner._socketFrames(this, text, count, whole);
  }

  // Raw-mode bytes: the first `len` bytes of `buf` (a native read hands over the Buffer it read
  // into when it is at least half full).
  _nativeData(buf, len) {
    if (len < buf.length) buf = buf.subarray(0, len);
    if (this._timeoutMs) this._touch();
    this._owner._socketData(this, buf);
  }

  _nativeDrain() {
    this._nativeQueued = 0;
    if (this._needDrain && this._queuedLen === 0) process.nextTick(emitDrain, this);
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

  _nativeClose(hadError, bytesRead, bytesWritten) {
    this._nid = 0;
    if (this._retryNext) {
      this._retryNext = false;
      const rest = this._remaining;
      this._remaining = null;
      this._tryConnect(rest, this._port);
      return;
    }
    this._bytesRead = bytesRead || 0;
    this._bytesWritten = bytesWritten || 0;
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
    this._queuedLen = 0;
    this._nativeQueued = 0;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
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
    if (this._owner._bcast) this._owner._flush(); // the server's pending broadcasts go first
    if (typeof data === 'string' && encoding && encoding !== 'utf8' && encoding !== 'utf-8') data = Buffer.from(data, encoding);
    const isString = typeof data === 'string';
    if (!isString && !(data instanceof Uint8Array)) {
      throw new TypeError('The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
    }
    const len = data.length;
    // The pending-bytes cap. A string of n UTF-16 units is at most 3n UTF-8 bytes: only a write
    // that might reach the cap pays for exact byte counts.
    if (this._queuedLen + this._nativeQueued + (isString ? 3 * len : len) > this._maxPending && this._overCap(data)) {
      return false;
    }
    if (isString && this._pendingBufs === null) {
      this._pending += data;
    } else {
      if (this._pendingBufs === null) {
        this._pendingBufs = this._pending ? [Buffer.from(this._pending)] : [];
        this._pending = '';
      }
      this._pendingBufs.push(isString ? Buffer.from(data) : data);
    }
    this._queuedLen += len;
    if (this._timeoutMs) this._touch();
    if (this._queuedLen >= FLUSH_AT) {
      this._flush();
      if (this.destroyed) return false;
    } else markDirty(this);
    if (cb) process.nextTick(cb);
    if (this._queuedLen + this._nativeQueued < HWM) return true;
    if (this._needDrain) return false; // until 'drain', as in Node
    // The cached count only falls when the queue empties: ask for the exact one (once per wait).
    if (this._nid !== 0 && this._nativeQueued !== 0) this._nativeQueued = this._ioPending();
    if (this._queuedLen + this._nativeQueued < HWM) return true;
    this._needDrain = true;
    return false;
  }

  // A raw-mode emit's bytes, which the caller may change once emit returns (node-ipc copies
  // them). From DIRECT_MIN bytes on they go to the native side at once, which sends them or copies
  // them into its queue, so no copy is made here and the caller's buffer is not kept; smaller ones
  // are copied into this tick's batch.
  _writeBytes(buf) {
    if (buf.length < DIRECT_MIN || this._nid === 0) return this.write(Buffer.from(buf));
    const ok = this.write(buf);
    if (this._queuedLen !== 0) this._flush();
    return ok;
  }

  // Whether a write of `len` more units leaves the unsent bytes under the high-water mark, as
  // write() would return (for a server's broadcast, written later in the tick). When not, the
  // socket will emit 'drain', as after a write that returned false.
  _canTake(len) {
    if (this.destroyed || this._ending) return false;
    if (this._queuedLen + this._nativeQueued + len < HWM) return true;
    this._needDrain = true;
    return false;
  }

  // Exact check of the cap for a write of `data`; over it, the write is refused and the connection
  // closed with ERR_IPC_BACKPRESSURE. Returns true when refused.
  _overCap(data) {
    const native = this._nid !== 0 ? this._ioPending() : 0;
    let js = 0;
    if (this._pendingBufs !== null) for (const b of this._pendingBufs) js += b.length;
    else js = Buffer.byteLength(this._pending);
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (native + js + bytes <= this._maxPending) return false;
    this._abort(new IPCProtocolError('ERR_IPC_BACKPRESSURE', 'pending socket writes exceed maxPendingBytes'));
    return true;
  }

  // Drops the connection and everything unsent, then reports `err` and `close`.
  _abort(err) {
    this._pending = '';
    this._pendingBufs = null;
    this._queuedLen = 0;
    if (this._nid !== 0) this._ioDestroy();
    this._markClosed();
    process.nextTick(() => {
      this.emit('error', err);
      this.emit('close', true);
    });
  }

  _flush() {
    this._dirty = false;
    if (this._owner._bcast) this._owner._flush(); // (then this socket's pending bytes include them)
    if (this._nid === 0 || this.destroyed || this._queuedLen === 0) return; // still resolving: flushed once attached
    let r;
    if (this._pendingBufs !== null) {
      const bufs = this._pendingBufs;
      this._pendingBufs = null;
      this._queuedLen = 0;
      r = this._ioWriteBuf(bufs.length === 1 ? bufs[0] : Buffer.concat(bufs));
    } else {
      const data = this._pending;
      this._pending = '';
      this._queuedLen = 0;
      r = this._ioWriteStr(data);
    }
    if (typeof r === 'number') {
      this._nativeQueued = r;
      if (r === 0 && this._needDrain) process.nextTick(emitDrain, this);
      return;
    }
    // The native side closed the connection: report it like a Node socket write failure.
    handles.delete(this._nid);
    this._nid = 0;
    this._markClosed();
    const e = systemError(r, 'write');
    process.nextTick(() => {
      this.emit('error', e);
      this.emit('close', true);
    });
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
    if (this._nid !== 0 && !this.connecting) this._ioEnd();
    if (cb) this.once('close', cb);
    return this;
  }

  destroy(err) {
    if (this.destroyed) return this;
    // What was written before destroy() still goes out, as far as the kernel takes it at once.
    if (this._nid !== 0) {
      this._flush();
      if (this._nid !== 0 && handles.get(this._nid) === this) this._ioDestroy();
      this._nid = 0;
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

  // ---- Socket controls (Node's semantics) ----

  // TCP_NODELAY (on by default). Local sockets have no such option (as in Node).
  setNoDelay(noDelay = true) {
    this._noDelay = !!noDelay;
    if (this._nid !== 0) this._ioNoDelay(this._noDelay);
    return this;
  }

  // TCP keepalive: SO_KEEPALIVE, idle time initialDelay ms (whole seconds; 0 keeps the current
  // one), 1 s between probes, 10 probes. Local sockets have no keepalive (as in Node).
  setKeepAlive(enable = false, initialDelay = 0) {
    this._keepAlive = [!!enable, Number(initialDelay) || 0];
    if (this._nid !== 0) this._ioKeepAlive(this._keepAlive[0], this._keepAlive[1]);
    return this;
  }

  // Emits 'timeout' after `ms` without reads or writes (once per idle period); 0 turns it off.
  // The timer never keeps the process alive. The socket stays open: call end()/destroy() yourself.
  setTimeout(ms, cb) {
    if (typeof ms !== 'number' || !(ms >= 0) || ms > 2 ** 31 - 1) {
      const err = new RangeError(`The value of "msecs" is out of range. It must be a non-negative finite number. Received ${String(ms)}`);
      err.code = typeof ms === 'number' ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_TYPE';
      throw err;
    }
    if (cb !== undefined && typeof cb !== 'function') {
      const err = new TypeError('The "callback" argument must be of type function');
      err.code = 'ERR_INVALID_ARG_TYPE';
      throw err;
    }
    this._timeoutMs = Math.floor(ms);
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (this._timeoutMs === 0) {
      if (cb) this.removeListener('timeout', cb);
      return this;
    }
    if (cb) this.once('timeout', cb);
    if (!this.destroyed) this._touch();
    return this;
  }

  get timeout() {
    return this._timeoutMs || undefined;
  }

  // Activity: the idle timer restarts.
  _touch() {
    this._lastActive = Date.now();
    if (this._timer === null && !this.destroyed) this._armTimer(this._timeoutMs);
  }

  _armTimer(ms) {
    this._timer = setTimeout(onIdleTimer, ms, this);
    this._timer.unref();
  }

  // An unref'd socket does not keep the process alive (libuv's uv_unref on its poll handle).
  ref() {
    this._refed = true;
    if (this._nid !== 0) this._ioSetRef(true);
    return this;
  }

  unref() {
    this._refed = false;
    if (this._nid !== 0) this._ioSetRef(false);
    return this;
  }

  // Stops reading: nothing more is delivered (beyond the reads being dispatched), the kernel's
  // buffers fill and the peer's writes back up. resume() delivers what waited, in order.
  pause() {
    this._paused = true;
    if (this._nid !== 0) this._ioPause(true);
    return this;
  }

  resume() {
    this._paused = false;
    if (this._nid !== 0) this._ioPause(false);
    return this;
  }

  isPaused() {
    return this._paused;
  }

  get readableFlowing() {
    return !this._paused;
  }

  get pending() {
    return this.connecting;
  }

  get readyState() {
    if (this.connecting) return 'opening';
    if (this.destroyed) return 'closed';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  // ---- Flow control state ----

  get writableHighWaterMark() {
    return HWM;
  }

  // Unsent: this tick's writes (UTF-16 units for strings, as Node counts them) plus the bytes
  // the kernel has not taken yet.
  get writableLength() {
    if (this._nid !== 0) this._nativeQueued = this._ioPending();
    return this._queuedLen + this._nativeQueued;
  }

  get bufferSize() {
    return this.writableLength;
  }

  get writableNeedDrain() {
    return this._needDrain;
  }

  get bytesRead() {
    return this._nid !== 0 ? this._ioStats()[0] : this._bytesRead;
  }

  // Bytes written so far, including those not sent yet (as Node counts them).
  get bytesWritten() {
    let js = 0;
    if (this._pendingBufs !== null) for (const b of this._pendingBufs) js += b.length;
    else if (this._pending) js = Buffer.byteLength(this._pending);
    return js + (this._nid !== 0 ? this._ioStats()[1] : this._bytesWritten);
  }

  // ---- Addresses ----

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

  // {address, family, port} of the local end of a TCP connection; {} for local sockets (as Node).
  address() {
    if (this._local === undefined && this._nid !== 0) this._local = binding.localAddress(this._nid) || null;
    const a = this._local;
    return a ? { address: a.address, family: a.family, port: a.port } : {};
  }

  get localAddress() {
    return this.address().address;
  }

  get localPort() {
    return this.address().port;
  }

  get localFamily() {
    return this.address().family;
  }

  // ---- Backend: the addon's fd connection `this._nid` ----

  _ioWriteStr(str) {
    return binding.writeStr(this._nid, str); // bytes still queued, or an error code
  }

  _ioWriteBuf(buf) {
    return binding.writeBuf(this._nid, buf);
  }

  _ioPending() {
    return binding.pendingBytes(this._nid);
  }

  _ioEnd() {
    binding.end(this._nid);
  }

  _ioDestroy() {
    const nid = this._nid;
    const stats = binding.connStats(nid);
    this._bytesRead = stats[0];
    this._bytesWritten = stats[1];
    handles.delete(nid);
    this._nid = 0;
    binding.destroy(nid);
  }

  _ioStats() {
    return binding.connStats(this._nid);
  }

  _ioSetRef(on) {
    binding.setRef(this._nid, on);
  }

  _ioPause(on) {
    binding.pauseReading(this._nid, on);
  }

  _ioKeepAlive(enable, initialDelay) {
    binding.setKeepAlive(this._nid, enable, initialDelay);
  }

  _ioNoDelay(on) {
    binding.setNoDelay(this._nid, on);
  }
}

module.exports = { IpcSocket, markDirty, HWM };
