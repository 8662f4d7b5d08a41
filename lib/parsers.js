'use strict';

// node-ipc 14's parser classes (`node-ipc-rs/parsers`): what `config.parser` selects.
//
// A parser turns an emit into bytes (`encode`) and received text into messages
// (`read(remainder, chunk, receive)`, returning the new remainder). Clients and servers that use
// one of these classes unmodified do not call `read` at all: framing, the frame-size limit and the
// remainder timeout run in the Rust core, and the message rules (lib/profile.js) run once per
// batch in lib/frames.js. `read` is what a subclass or a custom parser object runs in JS, and
// what UDP servers use; it applies the same rules.

const { Defaults } = require('./config.js');
const { IPCProtocolError } = require('./errors.js');
const { formatFrame14, checkDelimiter } = require('./frames.js');
const { RESERVED_EVENTS, limit, allowList, eventNameError, invalidJson, frameTooLarge } = require('./profile.js');

/** No framing: bytes in, bytes out. */
class RawParser {
  constructor(config = new Defaults()) {
    this.profile = 'raw';
    this.raw = true;
    this.encoding = config.encoding;
  }

  /** A Buffer as it is; anything else through `Buffer.from(value, encoding)`. */
  encode(value) {
    return Buffer.isBuffer(value) ? value : Buffer.from(value, this.encoding);
  }

  format(value) {
    return this.encode(value);
  }

  read(remainder, chunk, receive) {
    receive(chunk);
    return remainder;
  }

  parse(chunk) {
    return [chunk];
  }

  decode(chunk) {
    return chunk;
  }
}

/** node-ipc 14's `fast` profile: JSON envelopes and delimiter framing; malformed JSON is a protocol error. */
class Parser {
  constructor(config = new Defaults()) {
    this.profile = 'fast';
    this.raw = false;
    this.encoding = 'utf8';
    this.delimiter = checkDelimiter(config.delimiter);
  }

  /** The frame for `{type, data}` (`data` omitted → `{}`), delimiter included. */
  encode(type, data) {
    return formatFrame14(type, data, this.delimiter);
  }

  format(message) {
    return this.encode(message.type, message.data);
  }

  /** Splits `remainder + chunk` into frames, calls `receive(this.decode(frame))` for each, returns the rest. */
  read(remainder, chunk, receive) {
    const text = remainder ? remainder + chunk : chunk;
    const delimiter = this.delimiter;
    let start = 0;
    let end = text.indexOf(delimiter);
    while (end !== -1) {
      receive(this.decode(text.slice(start, end)));
      start = end + delimiter.length;
      end = text.indexOf(delimiter, start);
    }
    return start === 0 ? text : text.slice(start);
  }

  /** The frames of `remainder + chunk` (not decoded) and the rest. */
  push(remainder = '', chunk = '') {
    const text = remainder ? remainder + chunk : chunk;
    const events = [];
    const delimiter = this.delimiter;
    let start = 0;
    let end = text.indexOf(delimiter);
    while (end !== -1) {
      events.push(text.slice(start, end));
      start = end + delimiter.length;
      end = text.indexOf(delimiter, start);
    }
    return { events, remainder: start === 0 ? text : text.slice(start) };
  }

  parse(chunk) {
    return this.push('', chunk).events;
  }

  decode(frame) {
    try {
      return JSON.parse(frame);
    } catch {
      throw invalidJson();
    }
  }
}

/** node-ipc 14's `guarded` profile: fast plus size, name, reserved-name, timeout and pending-write limits. */
class GuardedParser extends Parser {
  constructor(config = new Defaults()) {
    super(config);
    this.profile = 'guarded';
    this.maxMessageSize = limit(config, 'maxMessageSize');
    this.maxPendingBytes = limit(config, 'maxPendingBytes');
    this.maxEventNameLength = limit(config, 'maxEventNameLength');
    this.messageTimeout = limit(config, 'messageTimeout');
    this.allowReservedEvents = !!config.allowReservedEvents;
    this.delimiterBytes = Buffer.byteLength(this.delimiter);
  }

  encode(type, data) {
    this.validateType(type);
    const frame = super.encode(type, data);
    const units = frame.length - this.delimiter.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: count bytes only near the limit.
    if (units * 3 > this.maxMessageSize) this.assertFrameSize(units, Buffer.byteLength(frame) - this.delimiterBytes);
    return frame;
  }

  /** As fast's, each frame through `decode` (size checked first); then the rest's size. */
  read(remainder, chunk, receive) {
    const rest = super.read(remainder, chunk, receive);
    this.assertFrameSize(rest.length, Buffer.byteLength(rest));
    return rest;
  }

  push(remainder = '', chunk = '') {
    const parsed = super.push(remainder, chunk);
    for (const frame of parsed.events) this.assertFrameSize(frame.length, Buffer.byteLength(frame));
    this.assertFrameSize(parsed.remainder.length, Buffer.byteLength(parsed.remainder));
    return parsed;
  }

  decode(frame) {
    this.assertFrameSize(frame.length, Buffer.byteLength(frame));
    return this.decodeMessage(frame);
  }

  /** JSON, then the envelope and name rules. */
  decodeMessage(frame) {
    const message = super.decode(frame);
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      throw new IPCProtocolError('ERR_IPC_INVALID_MESSAGE', 'a message must be a JSON object');
    }
    this.validateType(message.type);
    return message;
  }

  /** Throws the IPCProtocolError for an event name these rules refuse (lib/profile.js). */
  validateType(type) {
    const err = eventNameError(this, type);
    if (err !== null) throw err;
  }

  /** Throws ERR_IPC_FRAME_TOO_LARGE when `bytes` (UTF-8, delimiter excluded) is over maxMessageSize. */
  assertFrameSize(_characters, bytes) {
    if (bytes > this.maxMessageSize) throw frameTooLarge(bytes, this.maxMessageSize);
  }
}

/** node-ipc 14's `assured` profile: guarded, lifecycle names always refused, and an allow-list both ways. */
class AssuredParser extends GuardedParser {
  constructor(config = new Defaults()) {
    super(config);
    this.profile = 'assured';
    this.allowedEvents = allowList(config.allowedEvents);
    this.allowReservedEvents = false;
  }
}

/** js-message's envelope: a malformed frame becomes an `error` message instead of closing. */
class Message {
  constructor(...frame) {
    this.type = '';
    this.data = {};
    if (frame.length > 0) this.load(frame[0]);
  }

  load(frame) {
    try {
      const parsed = typeof frame === 'string' ? JSON.parse(frame) : frame;
      this.type = parsed.type;
      this.data = parsed.data;
    } catch (err) {
      this.type = 'error';
      this.data = { message: 'Invalid JSON response format', err: serializable(err), response: frame };
    }
  }

  toJSON() {
    return { type: this.type, data: this.data };
  }

  get JSON() {
    return JSON.stringify(this.toJSON());
  }
}

function serializable(err) {
  const name = err && typeof err.name === 'string' ? err.name : 'Error';
  const message = err && typeof err.message === 'string' ? err.message : String(err);
  const out = err instanceof Error ? err : new Error(message);
  Object.defineProperty(out, 'toJSON', { value: () => ({ name, message }), configurable: true });
  return out;
}

/** `node-ipc-rs/parsers/message`: fast framing, js-message decoding (malformed frames → `error` messages). */
class MessageParser extends Parser {
  decode(frame) {
    return new Message(frame);
  }
}

/**
 * The parser `config` selects (node-ipc 14's rules): `rawBuffer` → raw; `parser` 'raw', 'fast'
 * (also any falsy value), 'guarded', 'assured', a class (constructed with `config`) or an object.
 * @throws TypeError for anything without `encode()` and `read()`, or invalid limits
 */
function createParser(config) {
  const selected = config.rawBuffer ? 'raw' : config.parser;
  let parser;
  if (selected === 'raw') parser = new RawParser(config);
  else if (!selected || selected === 'fast') parser = new Parser(config);
  else if (selected === 'guarded') parser = new GuardedParser(config);
  else if (selected === 'assured') parser = new AssuredParser(config);
  else if (typeof selected === 'function') parser = new selected(config);
  else parser = selected;
  if (!parser || typeof parser.encode !== 'function' || typeof parser.read !== 'function') {
    throw new TypeError(
      'ipc.config.parser must be "raw", "fast", "guarded", "assured", a parser class or an object with encode() and read()',
    );
  }
  return parser;
}

const BUILTIN = [RawParser, Parser, GuardedParser, AssuredParser];
const METHODS = ['encode', 'read', 'decode', 'decodeMessage', 'validateType', 'assertFrameSize'];

/**
 * The built-in class `parser` is an unmodified instance of (its rules can then run natively), or
 * null for anything else (a subclass, an overridden method, a plain object: run in JS).
 */
function builtinClass(parser) {
  const proto = Object.getPrototypeOf(parser);
  const cls = BUILTIN.find((c) => c.prototype === proto);
  if (!cls) return null;
  for (const m of METHODS) if (parser[m] !== proto[m]) return null;
  return cls;
}

module.exports = {
  RawParser,
  Parser,
  FastParser: Parser,
  GuardedParser,
  AssuredParser,
  MessageParser,
  Message,
  IPCProtocolError,
  createParser,
  builtinClass,
  reservedEventTypes: RESERVED_EVENTS,
};
