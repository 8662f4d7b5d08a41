'use strict';

// Encoding and decoding node-ipc's JSON envelope on the JS side. Framing itself happens in Rust:
// the addon hands over one string holding every complete frame of a read, delimiters included.

const { PROTOTYPE_NAMES, messageOk, nameOk, messageError, invalidJson: invalidJson14 } = require('./profile.js');

// js-message's rules for `data`, byte for byte: falsy values other than 0 and false become {},
// and so does an EventEmitter that had setMaxListeners called (a truthy _maxListeners).
function formatFrame(type, data, delimiter) {
  if (!data && data !== false && data !== 0) data = {};
  if (data._maxListeners) data = {};
  if (typeof type === 'string' && typeof data.toJSON !== 'function') {
    // Same bytes as JSON.stringify({type, data}), without re-escaping the type every time.
    const body = JSON.stringify(data);
    if (body !== undefined) return typePrefix(type) + body + '}' + delimiter;
  }
  return JSON.stringify({ type, data }) + delimiter;
}

// node-ipc 14's encoding (the parser profiles): JSON.stringify({type, data}) + delimiter, with only
// an omitted `data` replaced by {} (null, '' and EventEmitters are sent as they are).
function formatFrame14(type, data, delimiter) {
  if (data === undefined) data = {};
  if (typeof type === 'string' && (data === null || typeof data.toJSON !== 'function')) {
    const body = JSON.stringify(data);
    if (body !== undefined) return typePrefix(type) + body + '}' + delimiter;
  }
  return JSON.stringify({ type, data }) + delimiter;
}

// '{"type":<type>,"data":' for recently used event names.
const prefixes = new Map();

// The last one used, checked first: a stream of messages usually repeats one name.
let lastType = null;
let lastPrefix = '';

function typePrefix(type) {
  if (type === lastType) return lastPrefix;
  let p = prefixes.get(type);
  if (p === undefined) {
    p = `{"type":${JSON.stringify(type)},"data":`;
    if (prefixes.size >= 1024) prefixes.clear();
    prefixes.set(type, p);
  }
  lastType = type;
  lastPrefix = p;
  return p;
}

function invalidJson(err, frame) {
  return { message: 'Invalid JSON response format', err, response: frame, code: 'ERR_IPC_INVALID_JSON' };
}

function invalidEvent(msg, frame) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    return { message: 'Invalid message: not a JSON object', response: frame, code: 'ERR_IPC_INVALID_MESSAGE' };
  }
  const what = typeof msg.type === 'string' ? `event name ${JSON.stringify(msg.type)} is not allowed` : 'message has no string type';
  return { message: `Invalid message: ${what}`, response: frame, code: 'ERR_IPC_INVALID_EVENT' };
}

/**
 * Decodes the frames in `text` (each followed by `delimiter`) and calls
 * `target._message(type, data, extra)` for each good one and `target._badFrame(errorObject, extra)`
 * for each bad one, in order. Bad frames never throw and never stop the batch.
 */
function dispatchFrames(text, delimiter, target, extra) {
  const frames = text.split(delimiter);
  frames.pop(); // the text ends with a delimiter: the last piece is empty
  dispatchFrameList(frames, target, extra);
}

/**
 * Appends the event names a batch introduced (`added`: `\n`-separated, in the addon's numbering)
 * to a connection's list.
 */
function addTypes(types, added) {
  const names = added.split('\n');
  for (let i = 0; i < names.length; i++) types.push(names[i]);
}

/**
 * One read's frames as the addon hands them over (node_ipc_rs::batch): the text of one JSON array
 * of pairs, `n,data` for a frame in node-ipc's own layout `{"type":T,"data":D}` whose event name
 * T is `socket._types[n]` (the envelope was checked and split in Rust, so V8 parses only the
 * data, and the name is not created again per message), `-1,frame` for any other frame. One
 * JSON.parse decodes the whole read.
 *
 * The array stands for the frames only when the addon found every piece to be structurally one
 * JSON value (`whole` is then how many frames it holds whole, otherwise -1), otherwise a frame
 * ending inside a string could merge with its neighbour into messages nobody sent; and it must
 * parse into `count` pairs. Then every message must pass `msgOk` (whole frames) or `nameOk`
 * (split frames). Names are checked once each, when a batch first brings them
 * (`socket._typeOk[n]`; `socket._namesOk` stays true while every name has passed), so a batch
 * with no whole frame on a connection whose names all passed needs no look at its messages.
 * Returns the parsed list, or null: decode the frames one by one.
 */
function acceptedPairs(text, count, whole, socket, msgOk, nameOk, rules) {
  if (whole < 0) return null;
  let list;
  try {
    list = JSON.parse(text);
  } catch {
    return null;
  }
  if (list.length !== 2 * count) return null;
  const ok = socket._typeOk;
  if (ok.length < socket._types.length) checkNames(socket, nameOk, rules);
  if (whole === 0 && socket._namesOk) return list;
  for (let i = 0; i < list.length; i += 2) {
    const n = list[i];
    if (n >= 0 ? ok[n] !== true : !msgOk(rules, list[i + 1])) return null;
  }
  return list;
}

// Checks the names added to a connection's table since the last batch (the table only grows).
function checkNames(socket, nameOk, rules) {
  const types = socket._types;
  const ok = socket._typeOk;
  for (let n = ok.length; n < types.length; n++) {
    const v = nameOk(rules, types[n]);
    ok.push(v);
    if (!v) socket._namesOk = false;
  }
}

function dispatchPairs(list, types, target, extra) {
  for (let i = 0; i < list.length; i += 2) {
    const n = list[i];
    if (n >= 0) {
      target._message(types[n], list[i + 1], extra);
    } else {
      const msg = list[i + 1];
      target._message(msg.type, msg.data, extra);
    }
  }
}

// node-ipc 9/12 (no profile): any object with a string type that is not an Object.prototype name.
function legacyMessageOk(_rules, msg) {
  return msg !== null && typeof msg === 'object' && typeof msg.type === 'string' && !Array.isArray(msg) && !PROTOTYPE_NAMES.has(msg.type);
}

function legacyNameOk(_rules, type) {
  return !PROTOTYPE_NAMES.has(type);
}

/**
 * Dispatches one read's frames (see acceptedPairs) with node-ipc 9/12 semantics: when the batch
 * path does not apply, the frames are fetched one by one and decoded separately, so every bad
 * frame gets its own error and every good one is still delivered. `extra` is the connection.
 */
function dispatchBatch(text, count, target, extra, fetchFrames, whole) {
  const list = acceptedPairs(text, count, whole, extra, legacyMessageOk, legacyNameOk, null);
  if (list !== null) dispatchPairs(list, extra._types, target, extra);
  else dispatchFrameList(fetchFrames(), target, extra);
}

function dispatchFrameList(frames, target, extra) {
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    let msg;
    try {
      msg = JSON.parse(frame);
    } catch (err) {
      target._badFrame(invalidJson(err, frame), extra);
      continue;
    }
    if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string' || PROTOTYPE_NAMES.has(msg.type)) {
      target._badFrame(invalidEvent(msg, frame), extra);
      continue;
    }
    target._message(msg.type, msg.data, extra);
  }
}

/**
 * The batch path of the node-ipc 14 profiles: like dispatchBatch, but every message must pass
 * `rules` (lib/profile.js; null = fast's envelope check) and the first frame that does not ends
 * the batch with `target._protocolFailure(extra, error)`. The frames before it are dispatched,
 * the ones after it are not (node-ipc 14's order).
 */
function dispatchChecked(text, count, target, extra, fetchFrames, whole, rules) {
  const list = acceptedPairs(text, count, whole, extra, messageOk, nameOk, rules);
  if (list !== null) {
    dispatchPairs(list, extra._types, target, extra);
    return;
  }
  const frames = fetchFrames();
  for (let i = 0; i < frames.length; i++) {
    let msg;
    try {
      msg = JSON.parse(frames[i]);
    } catch {
      target._protocolFailure(extra, invalidJson14());
      return;
    }
    const err = messageError(rules, msg);
    if (err !== null) {
      target._protocolFailure(extra, err);
      return;
    }
    target._message(msg.type, msg.data, extra);
  }
}

function checkDelimiter(delimiter) {
  if (typeof delimiter !== 'string' || delimiter.length === 0) {
    throw new TypeError('ipc.config.delimiter must be a non-empty string');
  }
  return delimiter;
}

module.exports = { formatFrame, formatFrame14, dispatchFrames, dispatchBatch, dispatchChecked, addTypes, checkDelimiter, PROTOTYPE_NAMES };
