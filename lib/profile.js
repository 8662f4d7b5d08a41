'use strict';

// node-ipc 14's message rules, in one place. The receive path (frames.js, right after a batch is
// parsed), the send path (the parsers' encode) and the shared fixture test
// (tests/fixtures/profile_cases.json, also run by `cargo test` against src/profile.rs) all call
// these functions.
//
//   fast      a frame must be a JSON object with a string `type`
//   guarded   + `type` non-empty, at most maxEventNameLength UTF-16 units, not an
//               Object.prototype member name, not a lifecycle name (unless allowReservedEvents)
//   assured   + lifecycle names always refused, `type` must be in allowedEvents

const { IPCProtocolError } = require('./errors.js');
const { binding } = require('./native.js');

/** Lifecycle event names a peer may not send in guarded (unless allowed) and assured. */
const RESERVED_EVENTS = new Set(['start', 'connect', 'disconnect', 'destroy', 'close', 'socket.disconnected', 'error', 'data']);

/** Names that would reach Object.prototype if used as handler keys. */
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** node-ipc 14's defaults for the guarded and assured limits (src/profile.rs holds the numbers). */
const LIMIT_DEFAULTS = Object.freeze({ ...binding.profileDefaults() });

/**
 * A limit from the config: a positive integer or Infinity (`messageTimeout` may also be 0, which
 * disables it). Missing (undefined) means node-ipc 14's default.
 * @throws TypeError for anything else
 */
function limit(config, name) {
  const value = config[name] === undefined ? LIMIT_DEFAULTS[name] : config[name];
  if (value === Infinity || (name === 'messageTimeout' && value === 0)) return value;
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(
      `ipc.config.${name} must be a positive integer or Infinity${name === 'messageTimeout' ? ' (or 0 to disable)' : ''}`,
    );
  }
  return value;
}

/**
 * The allow-list of the assured profile as a Set.
 * @throws TypeError unless `allowed` is a non-empty Array or Set
 */
function allowList(allowed) {
  const ok = (Array.isArray(allowed) && allowed.length > 0) || (allowed instanceof Set && allowed.size > 0);
  if (!ok) throw new TypeError('ipc.config.allowedEvents must be a non-empty Array or Set for the assured parser');
  return new Set(allowed);
}

function fail(code, message) {
  return new IPCProtocolError(code, message);
}

/**
 * Checks an event name against guarded/assured rules; `rules` has `maxEventNameLength`,
 * `allowReservedEvents` and, for assured, `allowedEvents` (a Set; false/undefined otherwise).
 * @returns {IPCProtocolError|null} the violation, or null when `type` may be sent and received
 */
function eventNameError(rules, type) {
  if (typeof type !== 'string' || type.length === 0) {
    return fail('ERR_IPC_INVALID_EVENT', 'event type must be a non-empty string');
  }
  if (type.length > rules.maxEventNameLength) {
    return fail(
      'ERR_IPC_EVENT_TOO_LARGE',
      `event type is ${type.length} characters long, over maxEventNameLength (${rules.maxEventNameLength})`,
    );
  }
  if (PROTOTYPE_NAMES.has(type)) {
    return fail('ERR_IPC_INVALID_EVENT', `event type ${JSON.stringify(type)} is an Object.prototype member name`);
  }
  if (RESERVED_EVENTS.has(type) && !rules.allowReservedEvents) {
    return fail('ERR_IPC_RESERVED_EVENT', `event type ${JSON.stringify(type)} is a lifecycle event name`);
  }
  const allowed = rules.allowedEvents;
  if (allowed && !allowed.has(type)) {
    return fail('ERR_IPC_EVENT_NOT_ALLOWED', `event type ${JSON.stringify(type)} is not in allowedEvents`);
  }
  return null;
}

/**
 * Checks one parsed frame. `rules` null means the fast profile: only the envelope is checked
 * (an object with a string `type`), names are not.
 * @returns {IPCProtocolError|null}
 */
function messageError(rules, msg) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    return fail('ERR_IPC_INVALID_MESSAGE', 'a message must be a JSON object');
  }
  if (rules === null) {
    return typeof msg.type === 'string' ? null : fail('ERR_IPC_INVALID_EVENT', 'event type must be a string');
  }
  return eventNameError(rules, msg.type);
}

/** True when `msg` passes `messageError(rules, msg)`; the per-message test of the batch path. */
function messageOk(rules, msg) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return false;
  const type = msg.type;
  return typeof type === 'string' && nameOk(rules, type);
}

/** True when a message of event name `type` (a string) passes `rules` (null: fast's check). */
function nameOk(rules, type) {
  if (rules === null) return true;
  if (type.length === 0 || type.length > rules.maxEventNameLength || PROTOTYPE_NAMES.has(type)) return false;
  if (RESERVED_EVENTS.has(type) && !rules.allowReservedEvents) return false;
  const allowed = rules.allowedEvents;
  return !allowed || allowed.has(type);
}

function invalidJson() {
  return fail('ERR_IPC_INVALID_JSON', 'received a frame that is not valid JSON');
}

function frameTooLarge(bytes, max) {
  return fail('ERR_IPC_FRAME_TOO_LARGE', `message of ${bytes} bytes exceeds maxMessageSize (${max})`);
}

/**
 * Throws ERR_IPC_FRAME_TOO_LARGE when `text` (a frame without its delimiter, or an unfinished
 * remainder) is longer than `max` bytes in UTF-8. Equal is accepted.
 */
function checkSize(text, max) {
  // UTF-8 never takes more than 3 bytes per UTF-16 unit: count bytes only near the limit.
  if (text.length * 3 <= max) return;
  const bytes = Buffer.byteLength(text);
  if (bytes > max) throw frameTooLarge(bytes, max);
}

module.exports = {
  RESERVED_EVENTS,
  PROTOTYPE_NAMES,
  LIMIT_DEFAULTS,
  limit,
  allowList,
  eventNameError,
  messageError,
  messageOk,
  nameOk,
  invalidJson,
  frameTooLarge,
  checkSize,
};
