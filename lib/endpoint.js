'use strict';

// How a client or server treats its connections, chosen once when it is constructed: node-ipc
// 9/12 behaviour when `config.parser` is unset (`legacy`), otherwise the node-ipc 14 parser that
// `config.parser` / `config.rawBuffer` select (lib/parsers.js).
//
// Built-in parsers used unmodified run natively: the Rust core frames, enforces the frame size
// and the remainder timeout, and lib/frames.js checks each batch against lib/profile.js. Any other
// parser (a subclass, a plain object with encode/read) gets the raw bytes and runs its own `read`
// in JS, here, with node-ipc 14's contract: strings decoded with `parser.encoding`, the remainder
// in `socket.ipcBuffer`, an IPCProtocolError thrown by `read` closing the connection, and
// `messageTimeout` timing an unfinished remainder.

const { StringDecoder } = require('node:string_decoder');
const { createParser, builtinClass, RawParser, Parser } = require('./parsers.js');
const { DEFAULT_FRAME_CAP, frameLimit, pendingLimit } = require('./config.js');
const { messageError } = require('./profile.js');
const { IPCProtocolError } = require('./errors.js');
const { flowDefaults } = require('./native.js');

/** The pending-write cap where a profile sets none (node-ipc 14's fast/raw had none): the core's default. */
const DEFAULT_PENDING_CAP = flowDefaults.maxPendingBytes;

function positive(value) {
  return typeof value === 'number' && value > 0 && Number.isFinite(value) ? value : 0;
}

/**
 * @typedef {object} Profile
 * @property {boolean} legacy    node-ipc 9/12 semantics (`config.parser` unset)
 * @property {string} name       'default', 'raw', 'fast', 'guarded', 'assured' or the custom parser's `profile`
 * @property {object|null} parser the parser object (null when legacy)
 * @property {boolean} raw       chunks are delivered as `data` events (raw profile)
 * @property {boolean} jsRead    a custom parser frames in JS (the addon delivers bytes)
 * @property {object|null} rules name rules for the batch check (null: fast's envelope check only)
 * @property {number|undefined} maxFrame frame limit in bytes for the addon
 * @property {number} messageTimeout remainder age limit in ms (0: none)
 * @property {number} maxPendingBytes pending-write cap in bytes (Infinity: none)
 */

/**
 * The profile `config` selects. Throws TypeError for an invalid parser or limit (from
 * `serve*`/`connectTo*`, before anything is created).
 * @returns {Profile}
 */
function selectProfile(config) {
  if (config.parser === undefined || config.parser === null) {
    return { legacy: true, name: 'default', parser: null, raw: false, jsRead: false, rules: null, maxFrame: undefined, messageTimeout: 0 };
  }
  const parser = createParser(config);
  const cls = builtinClass(parser);
  const p = {
    legacy: false,
    name: typeof parser.profile === 'string' ? parser.profile : 'custom',
    parser,
    raw: false,
    jsRead: false,
    rules: null,
    maxFrame: DEFAULT_FRAME_CAP,
    messageTimeout: 0,
    maxPendingBytes: DEFAULT_PENDING_CAP,
    encoding: 'utf8',
  };
  if ('maxPendingBytes' in parser && parser.maxPendingBytes !== undefined) {
    // node-ipc 14 guards writes only for a finite positive value.
    p.maxPendingBytes = positive(parser.maxPendingBytes) || Infinity;
  }
  if (cls === RawParser || (cls === null && parser.raw)) {
    p.raw = true;
    return p;
  }
  if (cls === null) {
    p.jsRead = true;
    p.encoding = parser.encoding || 'utf8';
    p.messageTimeout = positive(parser.messageTimeout);
    return p;
  }
  if (cls !== Parser) {
    p.rules = parser;
    p.maxFrame = parser.maxMessageSize === Infinity ? undefined : parser.maxMessageSize;
    p.messageTimeout = positive(parser.messageTimeout);
  }
  return p;
}

/** True for an error a parser raised for a protocol violation (ours or a look-alike class). */
function isProtocolError(err) {
  return (
    err instanceof IPCProtocolError ||
    (err !== null && typeof err === 'object' && err.name === 'IPCProtocolError' && typeof err.code === 'string')
  );
}

function timeoutError(ms) {
  return new IPCProtocolError('ERR_IPC_MESSAGE_TIMEOUT', `an unfinished message was pending for more than messageTimeout (${ms} ms)`);
}

/**
 * Runs the endpoint's parser over received `text` from `peer` (a socket, or a UDP peer object).
 * `owner` is the client or server: it provides `_profile`, `_jsMessage(message, peer)` and
 * `_protocolFailure(peer, error)`.
 */
function readText(owner, peer, text) {
  const p = owner._profile;
  if (peer._ipcReceive === undefined) {
    Object.defineProperty(peer, '_ipcReceive', { value: (message) => receiveMessage(owner, peer, message), writable: true });
  }
  let rest;
  try {
    rest = p.parser.read(peer.ipcBuffer || '', text, peer._ipcReceive);
  } catch (err) {
    if (isProtocolError(err)) {
      owner._protocolFailure(peer, err);
      return;
    }
    throw err;
  }
  if (peer.destroyed) return;
  peer.ipcBuffer = rest;
  if (p.messageTimeout === 0) return;
  if (rest) startTimer(owner, peer, p.messageTimeout);
  else clearTimer(peer);
}

// What a parser's `read` hands over: a {type, data} message. Anything else is refused (node-ipc
// 14 crashed on it) by throwing out of `read`, which ends that read as a protocol violation.
function receiveMessage(owner, peer, message) {
  if (peer.destroyed) return;
  const err = messageError(null, message);
  if (err !== null) throw err;
  owner._jsMessage(message, peer);
}

/** Bytes of a stream connection for a custom framed parser: decoded as node-ipc 14's setEncoding did. */
function readBytes(owner, socket, buf) {
  let decoder = socket._ipcDecoder;
  if (decoder === undefined) {
    decoder = new StringDecoder(owner._profile.encoding);
    Object.defineProperty(socket, '_ipcDecoder', { value: decoder, writable: true });
  }
  const text = decoder.write(buf);
  if (text !== '') readText(owner, socket, text);
}

// node-ipc 14's incomplete-message timer: started when a read leaves a remainder, not restarted
// by later reads, cleared when the remainder empties; unref'd so it never keeps a process alive.
function startTimer(owner, peer, ms) {
  if (peer._ipcTimer) return;
  const timer = setTimeout(() => {
    peer._ipcTimer = null;
    owner._protocolFailure(peer, timeoutError(ms));
  }, ms);
  timer.unref();
  if (!Object.hasOwn(peer, '_ipcTimer')) Object.defineProperty(peer, '_ipcTimer', { value: timer, writable: true });
  else peer._ipcTimer = timer;
}

function clearTimer(peer) {
  if (peer._ipcTimer) {
    clearTimeout(peer._ipcTimer);
    peer._ipcTimer = null;
  }
}

/**
 * The framing options for a connection's native side: under a node-ipc 14 profile, what the
 * profile chose at construction; without one (node-ipc 9/12), what `config` says when the
 * connection is made (`rawBuffer`, `maxMessageSize`, `maxPendingBytes` are read then).
 */
function connectionFraming(p, config, delimiter) {
  const legacy = p.legacy;
  return {
    delimiter,
    raw: legacy ? !!config.rawBuffer : p.raw || p.jsRead,
    maxFrame: legacy ? frameLimit(config) : p.maxFrame,
    // (a custom parser's timer runs in JS, in readText)
    messageTimeout: legacy || p.jsRead ? 0 : p.messageTimeout,
    maxPending: legacy ? pendingLimit(config) : p.maxPendingBytes,
    tls: undefined,
    localAddress: undefined,
    localPort: undefined,
  };
}

module.exports = { selectProfile, isProtocolError, timeoutError, readText, readBytes, clearTimer, connectionFraming, DEFAULT_PENDING_CAP };
