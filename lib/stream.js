'use strict';

// The stream transport: node-ipc's protocol over bytes that move through a Node stream (a
// net.Socket or net.Server of Node's own, a Windows named pipe, a cluster worker's shared handle, or
// any Duplex the program already has), with framing, limits and TLS still done by the addon.
//
// A StreamSocket is the same IpcSocket facade the native transport hands out. Each chunk the Node
// stream delivers is pushed to the addon's stream handle (binding.streamData), which frames it
// exactly as a native read and reports through the same dispatch function, synchronously: the
// frames of a chunk arrive as one JSON array (`_nativeFrames`), an oversize frame as
// `_nativeError` + `_nativeClose`. Writes are coalesced per tick by IpcSocket and flushed here with
// one stream.write per tick. With TLS, rustls runs in the addon on the pushed bytes: ciphertext
// comes back through `_nativeOutput` (handshake) and binding.streamEncrypt (writes).
//
// When it is used (see `useStream`): always on Windows (named pipes cannot be polled by the native
// transport), for servers in cluster workers (so the primary shares one listening handle), for
// existing streams (connectToStream/serveStream), and wherever `config.transport === 'stream'` or
// the environment variable NODE_IPC_RS_TRANSPORT=stream asks for it.

const fs = require('node:fs');
const { Duplex } = require('node:stream');
const { IpcSocket } = require('./socket.js');
const { binding, handles } = require('./native.js');
const { systemError } = require('./errors.js');

const WINDOWS = process.platform === 'win32';

/**
 * Whether this process is a cluster worker. Only a process forked with an IPC channel can be one;
 * elsewhere node:cluster is not loaded (loading it added about 1 MB to `require('node-ipc-rs')`'s
 * RSS), and in a worker Node has loaded it already.
 */
function isClusterWorker() {
  return process.channel !== undefined && require('node:cluster').isWorker;
}

/**
 * Whether a client ('client') or a server ('server') of `config` goes through Node streams.
 * `config.transport`: 'stream' forces it, 'native' asks for the native transport where it exists;
 * unset (node-ipc has no such key) means NODE_IPC_RS_TRANSPORT, then automatic.
 */
function useStream(config, role) {
  if (WINDOWS) return true; // the native transport polls Unix file descriptors
  const choice = config.transport || process.env.NODE_IPC_RS_TRANSPORT;
  if (choice === 'stream') return true;
  if (choice === 'native') return false;
  return role === 'server' && isClusterWorker();
}

/** The path a local socket really has here: node-ipc's pipe name on Windows (core rule). */
function localPath(path) {
  return WINDOWS ? binding.pipePath(String(path)) : path;
}

/** A Duplex from what the program has: a Duplex, or `{readable, writable}` (e.g. child stdio). */
function toDuplex(stream) {
  if (stream && typeof stream.on === 'function' && typeof stream.write === 'function' && typeof stream.read === 'function') {
    return stream;
  }
  if (
    stream &&
    stream.readable &&
    stream.writable &&
    typeof stream.readable.on === 'function' &&
    typeof stream.writable.write === 'function'
  ) {
    return pairDuplex(stream.readable, stream.writable);
  }
  throw new TypeError('expected a Duplex stream or {readable, writable} streams');
}

// One Duplex over two one-way streams. It closes once the readable side has ended and the writable
// side is finished (whoever ended it: a child's stdin may be ended by the program itself).
function pairDuplex(readable, writable) {
  const d = new Duplex({
    read() {
      readable.resume();
    },
    write(chunk, encoding, cb) {
      if (writable.destroyed || writable.writableEnded) {
        cb();
        return;
      }
      if (writable.write(chunk, encoding)) cb();
      else writable.once('drain', () => cb());
    },
    final(cb) {
      if (writable.destroyed || writable.writableFinished) {
        cb();
        return;
      }
      let done = false;
      const finished = () => {
        if (done) return;
        done = true;
        cb();
      };
      writable.once('finish', finished);
      writable.once('close', finished);
      if (!writable.writableEnded) writable.end();
    },
    destroy(err, cb) {
      readable.destroy();
      writable.destroy();
      cb(err);
    },
  });
  readable.on('data', (chunk) => {
    if (!d.push(chunk)) readable.pause();
  });
  readable.on('end', () => d.push(null));
  readable.on('error', (err) => d.destroy(err));
  writable.on('error', (err) => d.destroy(err));
  return d;
}

class StreamSocket extends IpcSocket {
  /**
   * @param {object} framing as for IpcSocket (delimiter, raw, maxFrame, maxPending, tls settings)
   * @param {object} owner the Client or Server
   * @param {boolean} server true for a server-side (accepted) connection
   */
  constructor(framing, owner, server) {
    super(framing, owner);
    this._stream = null; // the Node stream carrying the bytes
    this._server = server;
    this._tls = !!framing.tls;
    this._announced = !server; // server side: the owner has been told (after a TLS handshake)
    this._hadError = false;
    this._count = [0, 0]; // bytes read/written, for streams that do not count them
    this._countWrites = true; // false when the stream counts its own (see _ioStats)
  }

  // Opens the addon's stream handle (`this._nid`, as for a native connection) and starts reading
  // `stream`. `connecting`: its `connect` event follows. `settings`: a server's prepared settings
  // (binding.streamSettings); made for this connection when absent.
  _adopt(stream, connecting, settings) {
    this._stream = stream;
    this._countWrites = typeof stream.bytesWritten !== 'number';
    let r;
    if (settings) r = binding.streamOpen(settings);
    else {
      const own = binding.streamSettings(this._framing, this._tls && !this._server ? this._tlsHost : undefined);
      r = typeof own === 'string' ? own : binding.streamOpen(own);
      if (typeof own !== 'string') binding.streamFree(own);
    }
    if (typeof r === 'string') {
      stream.destroy();
      if (!this._announced) {
        // (an accepted connection nobody has heard of: the server's error, as a failed handshake)
        this._markClosed();
        process.nextTick(() => this._owner._nativeError(r.split('|')[0], `TLS with a client failed: ${r}`));
        return;
      }
      this._failSoon(systemError(r, 'connect'));
      return;
    }
    this._attach(r);
    stream.on('data', (chunk) => this._onData(chunk));
    stream.on('end', () => this._onEnd());
    stream.on('error', (err) => this._onError(err));
    stream.on('close', (hadError) => this._onClose(hadError));
    stream.on('drain', () => this._nativeDrain());
    if (connecting) {
      this.connecting = true;
      this.writable = true;
      stream.once('connect', () => this._onConnect());
    } else {
      this.readable = true;
      this.writable = true;
      if (this._tls && !this._server) this._sendTls('');
    }
    if (this._queuedLen !== 0) this._flush();
  }

  // Outgoing connection through Node's net: a local socket (named pipe on Windows) when `port` is
  // undefined, else TCP with config.interface's options, as node-ipc passed them to net.connect.
  _connect(path, port, iface) {
    this._address = path;
    this._port = port;
    let opts;
    if (port === undefined) {
      opts = { path: localPath(path) };
    } else {
      opts = { host: path, port };
      for (const k of ['localAddress', 'localPort', 'family', 'hints', 'lookup']) if (iface && iface[k]) opts[k] = iface[k];
      this._tlsHost = path; // the addon verifies tls.servername when given, else this host
    }
    this._adopt(require('node:net').connect(opts), true);
  }

  // An existing stream (connectToStream): already open; `connect` follows on the next tick, or
  // with config.tls once the TLS handshake over it completed. The name verified is
  // tls.servername, else 'localhost' (Node's tls.connect over a socket does the same).
  _adoptOpen(stream) {
    if (this._tls) this._tlsHost = 'localhost';
    this._adopt(stream, false);
    this.connecting = true;
    this.readable = false;
    if (this._tls) return;
    process.nextTick(() => {
      if (!this.destroyed) this._nativeConnect();
    });
  }

  _onConnect() {
    if (this._tls) {
      this._sendTls(''); // ClientHello; `connect` waits for the handshake (_nativeConnect)
      return;
    }
    this._nativeConnect();
  }

  _nativeConnect() {
    if (this._server) {
      this._announced = true;
      this.readable = true;
      this._owner._streamAccepted(this);
      return;
    }
    super._nativeConnect();
  }

  _onData(chunk) {
    if (this.destroyed) return;
    if (typeof chunk === 'string') chunk = Buffer.from(chunk);
    this._count[0] += chunk.length;
    if (this._framing.raw && !this._tls) this._nativeData(chunk);
    else if (this._nid !== 0) binding.streamData(this._nid, chunk);
  }

  _nativeOutput(buf) {
    if (this._stream && !this._stream.destroyed) this._streamWrite(buf);
  }

  _nativeError(code, message) {
    if (!this._announced) {
      // A failed TLS handshake on an accepted connection is the server's error, as natively.
      this._owner._nativeError(code, `TLS handshake with a client failed: ${message}`);
      return;
    }
    this._hadError = true;
    super._nativeError(code, message);
  }

  // The addon dropped the handle (oversize frame, TLS failure): close the stream; its `close`
  // reports it.
  _nativeClose(hadError) {
    this._nid = 0;
    this._hadError = this._hadError || hadError;
    if (this._stream) this._stream.destroy();
  }

  _onEnd() {
    const incomplete = this._nid !== 0 ? binding.streamEndError(this._nid) : null;
    if (incomplete && this._announced) this._nativeError(incomplete[0], incomplete[1]);
    // The peer is done: so are we (a net.Socket does this itself unless allowHalfOpen).
    const s = this._stream;
    if (s && !s.destroyed && s.writable && !s.writableEnded) {
      this._flush();
      s.end();
    }
  }

  _onError(err) {
    this._hadError = true;
    if (this.destroyed) return;
    if (!this._announced) {
      this._owner._nativeError(err.code || 'ECONNRESET', `TLS handshake with a client failed: ${err.message}`);
      return;
    }
    this.emit('error', err);
  }

  _onClose(hadError) {
    const stats = this._ioStats();
    this._release();
    if (this.destroyed) return; // destroy()/abort reported the close already
    if (!this._announced) {
      this._markClosed();
      if (!this._hadError) this._owner._nativeError('ECONNRESET', 'a client closed the connection during the TLS handshake');
      return;
    }
    super._nativeClose(!!(hadError || this._hadError), stats[0], stats[1]);
  }

  _release() {
    if (this._nid !== 0) {
      handles.delete(this._nid);
      binding.streamFree(this._nid);
      this._nid = 0;
    }
  }

  // A Node stream keeps what it is given until written: a raw emit's bytes are always copied.
  _writeBytes(buf) {
    return this.write(Buffer.from(buf));
  }

  _streamWrite(data) {
    // A string's byte length is a pass over it: only for streams that do not count themselves.
    if (this._countWrites) this._count[1] += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this._stream.write(data);
  }

  // Encrypts and writes (TLS); '' sends whatever the session has queued (handshake bytes).
  _sendTls(data) {
    if (this._nid === 0) return 'EPIPE';
    const out = binding.streamEncrypt(this._nid, data);
    if (typeof out === 'string') return out;
    if (out.length) this._streamWrite(out);
    return undefined;
  }

  // ---- Backend: the Node stream (replaces IpcSocket's fd backend) ----

  _ioWriteStr(str) {
    return this._ioWriteBuf(str);
  }

  _ioWriteBuf(data) {
    const s = this._stream;
    if (!s || s.destroyed) return 'EPIPE';
    if (this._tls) {
      const err = this._sendTls(data);
      if (err) return err;
    } else this._streamWrite(data);
    return s.writableLength || 0;
  }

  _ioPending() {
    return this._stream ? this._stream.writableLength || 0 : 0;
  }

  _ioEnd() {
    const s = this._stream;
    if (!s || s.destroyed) return;
    if (this._tls && this._nid !== 0) {
      const notify = binding.streamCloseNotify(this._nid);
      if (notify.length) this._streamWrite(notify);
    }
    s.end();
  }

  _ioDestroy() {
    const stats = this._ioStats();
    this._bytesRead = stats[0];
    this._bytesWritten = stats[1];
    this._release();
    if (this._stream && !this._stream.destroyed) this._stream.destroy();
  }

  _ioStats() {
    const s = this._stream;
    const read = s && typeof s.bytesRead === 'number' ? s.bytesRead : this._count[0];
    const written = s && typeof s.bytesWritten === 'number' ? s.bytesWritten : this._count[1];
    return [read, written];
  }

  _ioSetRef(on) {
    const s = this._stream;
    if (s && typeof s.ref === 'function') {
      if (on) s.ref();
      else s.unref();
    }
  }

  _ioPause(on) {
    const s = this._stream;
    if (!s) return;
    if (on) s.pause();
    else s.resume();
  }

  _ioKeepAlive(enable, initialDelay) {
    const s = this._stream;
    if (s && typeof s.setKeepAlive === 'function') s.setKeepAlive(enable, initialDelay);
  }

  _ioNoDelay(on) {
    const s = this._stream;
    if (s && typeof s.setNoDelay === 'function') s.setNoDelay(on);
  }

  _peerInfo() {
    const s = this._stream;
    if (!s || s.remoteAddress === undefined) return undefined;
    return { address: s.remoteAddress, port: s.remotePort, family: s.remoteFamily };
  }

  address() {
    const s = this._stream;
    const a = s && typeof s.address === 'function' ? s.address() : null;
    return a && typeof a === 'object' && a.port !== undefined ? { address: a.address, family: a.family, port: a.port } : {};
  }
}

/**
 * Listens for `server` (a lib/server.js Server) through a net.Server, which becomes
 * `ipc.server.server` as in node-ipc. Local paths: node-ipc's pipe name on Windows; a stale socket
 * file is removed first when config.unlink is set, except in a cluster worker (the primary holds
 * the listening handle that every worker shares: removing the file would cut them all off).
 */
function listenStream(server, port) {
  const config = server.config;
  // Checked now (TLS files, PEM), as the native transport does when it listens.
  if (!server._prepareStreams()) return null;
  const srv = require('node:net').createServer({ allowHalfOpen: false, pauseOnConnect: false });
  srv.maxConnections = Number(config.maxConnections);
  srv.on('connection', function onStreamConnection(sock) {
    server.attach(sock);
  });
  srv.on('close', function onStreamServerClose() {
    if (server._streamSettings) binding.streamFree(server._streamSettings);
    server._streamSettings = 0;
  });
  srv.on('listening', function onStreamListening() {
    server.onStart();
  });
  server.server = srv;
  if (port === undefined) {
    const path = localPath(server.path);
    if (WINDOWS)
      server.path = path; // node-ipc shows the pipe name it listens on
    else if (config.unlink && !isClusterWorker()) removeStaleSocket(path);
    srv.listen({ path, readableAll: !!config.readableAll, writableAll: !!config.writableAll });
  } else {
    srv.listen(port, server.path);
  }
  return srv;
}

function removeStaleSocket(path) {
  try {
    if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
  } catch {
    // nothing there (or not ours to remove): listen reports what matters
  }
}

module.exports = { StreamSocket, listenStream, useStream, toDuplex, localPath };
