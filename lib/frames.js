'use strict';

// Encoding and decoding node-ipc's JSON envelope on the JS side. Framing itself happens in Rust:
// the addon hands over one string holding every complete frame of a read, delimiters included.

const { PROTOTYPE_NAMES, messageOk, messageError, invalidJson: invalidJson14 } = require('./profile.js');

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

function typePrefix(type) {
  let p = prefixes.get(type);
  if (p === undefined) {
    p = `{"type":${JSON.stringify(type)},"data":`;
    if (prefixes.size >= 1024) prefixes.clear();
    prefixes.set(type, p);
  }
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
 * Dispatches one read's frames, which the addon hands over as the text of a JSON array
 * (`[f1,f2,...]`): one JSON.parse for the whole read, which V8 does much faster than one parse per
 * frame. That is exact only when every frame is structurally one JSON value, which the addon
 * checks while building the array (`exact`, node_ipc_rs::jsonscan): otherwise a frame ending
 * inside a string could merge with its neighbour into messages nobody sent. When `exact` is not
 * true, or the array is not `count` well-formed messages, the frames are fetched one by one and
 * decoded separately, so every bad frame gets its own error and every good one is still delivered.
 */
function dispatchBatch(text, count, target, extra, fetchFrames, exact) {
  if (exact !== true) {
    dispatchFrameList(fetchFrames(), target, extra);
    return;
  }
  let list;
  try {
    list = JSON.parse(text);
  } catch {
    list = null;
  }
  if (list !== null && list.length === count) {
    let ok = true;
    for (let i = 0; i < count; i++) {
      const msg = list[i];
      if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string' || Array.isArray(msg) || PROTOTYPE_NAMES.has(msg.type)) {
        ok = false;
        break;
      }
    }
    if (ok) {
      for (let i = 0; i < count; i++) {
        const msg = list[i];
        target._message(msg.type, msg.data, extra);
      }
      return;
    }
  }
  dispatchFrameList(fetchFrames(), target, extra);
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
 * The batch path of the node-ipc 14 profiles: like dispatchBatch (the array is trusted only when
 * the core found every frame to be exactly one JSON value), but every message must pass
 * `rules` (lib/profile.js; null = fast's envelope check) and the first frame that does not ends
 * the batch with `target._protocolFailure(extra, error)`. The frames before it are dispatched,
 * the ones after it are not (node-ipc 14's order).
 */
function dispatchChecked(text, count, target, extra, fetchFrames, exact, rules) {
  let list = null;
  if (exact === true) {
    try {
      list = JSON.parse(text);
    } catch {
      list = null;
    }
  }
  if (list !== null && list.length === count) {
    let i = 0;
    while (i < count && messageOk(rules, list[i])) i++;
    if (i === count) {
      for (let j = 0; j < count; j++) {
        const msg = list[j];
        target._message(msg.type, msg.data, extra);
      }
      return;
    }
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

module.exports = { formatFrame, formatFrame14, dispatchFrames, dispatchBatch, dispatchChecked, checkDelimiter, PROTOTYPE_NAMES };
