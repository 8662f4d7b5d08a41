'use strict';

// The emitter behind clients and servers: event-pubsub 5/6 semantics as node-ipc 12/14 expose
// them, plus node-ipc 9's aliases (trigger/subscribe/unSubscribe) and `this` bound to the emitter.
// On clients and servers `emit` is the network send, so local dispatch is `publish`.

const WILDCARD = '*';

function checkHandler(handler) {
  if (typeof handler !== 'function') {
    throw new TypeError(`expected type of handler to be function but got ${typeof handler}`);
  }
}

class PubSub {
  constructor() {
    // type -> array of handlers; a Map so names like `constructor` are ordinary keys.
    Object.defineProperty(this, '_handlers', { value: new Map(), writable: true });
    // Whether a wildcard handler may be registered: spares the dispatch of every message a second
    // Map lookup when there is none.
    Object.defineProperty(this, '_wild', { value: false, writable: true });
  }

  on(type, handler, once = false) {
    checkHandler(handler);
    type = String(type);
    if (once) handler._ipcOnce = true;
    const list = this._handlers.get(type);
    if (list === undefined) this._handlers.set(type, [handler]);
    else list.push(handler);
    if (type === WILDCARD) this._wild = true;
    return this;
  }

  once(type, handler) {
    return this.on(type, handler, true);
  }

  off(type = WILDCARD, handler = WILDCARD) {
    type = String(type);
    if (handler === WILDCARD) {
      this._handlers.delete(type);
      if (type === WILDCARD) this._wild = false;
      return this;
    }
    const list = this._handlers.get(type);
    if (list === undefined) return this;
    // Copy on write, so a dispatch in progress is not disturbed.
    const rest = list.filter((h) => h !== handler);
    if (rest.length) this._handlers.set(type, rest);
    else this._handlers.delete(type);
    if (type === WILDCARD) this._wild = rest.length > 0;
    return this;
  }

  publish(type, ...args) {
    type = String(type);
    const wild = this._wild ? this._handlers.get(WILDCARD) : undefined;
    if (wild !== undefined && type !== WILDCARD) runList(this, WILDCARD, wild, [type, ...args]);
    const list = this._handlers.get(type);
    if (list !== undefined) runList(this, type, list, args);
    return this;
  }

  reset(type) {
    if (type === undefined) this._handlers = new Map();
    else this._handlers.delete(String(type));
    this._wild = this._handlers.has(WILDCARD);
    return this;
  }

  get list() {
    return Object.fromEntries(this._handlers);
  }
}

function runList(emitter, type, list, args) {
  // Handlers added during the dispatch run in it (event-pubsub 5 semantics).
  for (let i = 0; i < list.length; i++) {
    const handler = list[i];
    if (handler._ipcOnce) emitter.off(type, handler);
    handler.apply(emitter, args);
  }
}

// Fast paths used per received message: no rest arguments, no array allocation.
PubSub.prototype._publish1 = function publish1(type, a) {
  const wild = this._wild ? this._handlers.get(WILDCARD) : undefined;
  if (wild !== undefined) runList(this, WILDCARD, wild, [type, a]);
  const list = this._handlers.get(type);
  if (list === undefined) return;
  if (list.length === 1 && !list[0]._ipcOnce) list[0].call(this, a);
  else runList(this, type, list, [a]);
};

PubSub.prototype._publish2 = function publish2(type, a, b) {
  const wild = this._wild ? this._handlers.get(WILDCARD) : undefined;
  if (wild !== undefined) runList(this, WILDCARD, wild, [type, a, b]);
  const list = this._handlers.get(type);
  if (list === undefined) return;
  if (list.length === 1 && !list[0]._ipcOnce) list[0].call(this, a, b);
  else runList(this, type, list, [a, b]);
};

// node-ipc 9 (event-pubsub 4) names.
PubSub.prototype.trigger = PubSub.prototype.publish;
PubSub.prototype.subscribe = PubSub.prototype.on;
PubSub.prototype.unSubscribe = PubSub.prototype.off;

module.exports = { PubSub };
