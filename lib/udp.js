'use strict';

// The socket under a UDP server (serveNet(..., 'udp4'|'udp6')), in one of two backends with the
// same interface, so lib/server.js sees the same events in the same order from either:
// - NativeUdp: the addon's own UDP socket, read from libuv's loop (Unix; the native transport).
// - DgramUdp: a Node dgram socket (Windows, and wherever the stream transport is chosen). Each
//   datagram is pushed to the addon (binding.datagramPush), which decodes it by the same rule as
//   a native read — whole frames per datagram, the frame limit, ERR_IPC_INCOMPLETE_FRAME for an
//   unfinished remainder (node_ipc_rs::codec) — and reports through the same dispatch function,
//   synchronously: the server's `_nativeDatagram`, then `_nativeError`. Raw mode hands the bytes
//   over as they arrived.
//
// Interface: bind(address, port, done(err)), send(message, ip, port, failed(code)), address(),
// close(), setRef(on).

const { binding, handles } = require('./native.js');
const { systemError } = require('./errors.js');

class NativeUdp {
  constructor(server, type) {
    this._server = server;
    this._type = type;
    this._id = 0;
  }

  bind(address, port, done) {
    const r = binding.udpBind(address, port, this._server._framing);
    if (typeof r === 'string') {
      done(systemError(r, 'bind', address, port));
      return;
    }
    this._id = r;
    handles.set(r, this._server);
    done(null);
  }

  send(message, ip, port, failed) {
    if (this._id === 0) return;
    const err =
      typeof message === 'string' ? binding.udpSendStr(this._id, message, ip, port) : binding.udpSendBuf(this._id, message, ip, port);
    if (err) failed(err);
  }

  address() {
    return this._id ? binding.address(this._id) : null;
  }

  close() {
    if (this._id === 0) return;
    handles.delete(this._id);
    binding.closeServer(this._id);
    this._id = 0;
  }

  setRef(on) {
    if (this._id) binding.setRef(this._id, on);
  }
}

class DgramUdp {
  constructor(server, type) {
    this._server = server;
    this._type = type;
    this._id = 0; // the addon's framing settings, and the server's id for dispatch
    this._sock = null;
    this._refed = true;
  }

  bind(address, port, done) {
    const server = this._server;
    const framing = server._framing;
    let id = 0;
    if (!framing.raw) {
      id = binding.streamSettings(framing, undefined);
      if (typeof id === 'string') {
        done(systemError(id, 'bind', address, port));
        return;
      }
      handles.set(id, server);
    }
    this._id = id;
    // (udp6: IPv6 only, as the native socket binds it)
    const sock = require('node:dgram').createSocket({ type: this._type, ipv6Only: this._type === 'udp6' });
    this._sock = sock;
    if (!this._refed) sock.unref();
    let bound = false;
    sock.on('error', (err) => {
      if (!bound) {
        this.close();
        done(err);
        return;
      }
      server.server.emit('error', err);
    });
    sock.on('message', (msg, rinfo) => {
      if (this._sock !== sock) return;
      if (id === 0) server._nativeDatagram(msg, rinfo.address, rinfo.port, msg.length);
      else binding.datagramPush(id, msg, rinfo.address, rinfo.port);
    });
    sock.bind({ address, port }, () => {
      if (this._sock !== sock) return; // closed meanwhile
      bound = true;
      done(null);
    });
  }

  send(message, ip, port, failed) {
    if (this._sock === null) return;
    this._sock.send(message, port, ip, (err) => {
      if (err) failed(err.code || 'EIO');
    });
  }

  address() {
    if (this._sock === null) return null;
    try {
      const a = this._sock.address();
      return { address: a.address, port: a.port, family: a.family };
    } catch {
      return null; // not bound (yet)
    }
  }

  close() {
    if (this._id !== 0) {
      handles.delete(this._id);
      binding.streamFree(this._id);
      this._id = 0;
    }
    const sock = this._sock;
    this._sock = null;
    if (sock !== null) {
      try {
        sock.close();
      } catch {
        // closed already (a failed bind closes it)
      }
    }
  }

  setRef(on) {
    this._refed = on;
    if (this._sock !== null) {
      if (on) this._sock.ref();
      else this._sock.unref();
    }
  }
}

module.exports = { NativeUdp, DgramUdp };
