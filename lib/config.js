'use strict';

const os = require('node:os');
const { flowDefaults } = require('./native.js');

// ipc.config: node-ipc 9/12's keys, defaults and order. node-ipc 14's keys are opt-in: set
// `maxMessageSize` to choose the frame limit.
class Defaults {
  constructor() {
    this.appspace = 'app.';
    this.socketRoot = '/tmp/';
    this.id = os.hostname();

    this.encoding = 'utf8';
    this.rawBuffer = false;
    this.sync = false;
    this.unlink = true;

    this.delimiter = '\f';

    this.silent = false;
    this.logDepth = 5;
    this.logInColor = true;
    this.logger = console.log.bind(console);

    this.maxConnections = 100;
    this.retry = 500;
    this.maxRetries = Infinity;
    this.stopRetrying = false;

    // node-ipc 9/12 compute this with a check that is never true, so it is always '' and
    // networkHost always 127.0.0.1. Kept: programs rely on the IPv4 default.
    this.IPType = '';
    this.tls = false;
    this.networkHost = '127.0.0.1';
    this.networkPort = 8000;

    this.readableAll = false;
    this.writableAll = false;

    this.interface = {
      localAddress: false,
      localPort: false,
      family: false,
      hints: false,
      lookup: false,
    };
  }
}

// node-ipc 9/12 had no frame limit; one is still needed so that a peer that never sends a
// delimiter cannot exhaust memory. `config.maxMessageSize` (node-ipc 14's name) replaces it:
// frames (delimiter excluded) and unfinished remainders longer than that close the connection
// with ERR_IPC_FRAME_TOO_LARGE.
const DEFAULT_FRAME_CAP = 64 * 1024 * 1024;

function frameLimit(config) {
  const size = Number(config.maxMessageSize);
  if (config.maxMessageSize === Infinity) return undefined;
  return Number.isFinite(size) && size > 0 ? Math.floor(size) : DEFAULT_FRAME_CAP;
}

// Unsent bytes one connection may hold (`config.maxPendingBytes`, node-ipc 14's name): an emit that
// would go past it is not written, returns false, and closes that connection with
// ERR_IPC_BACKPRESSURE (lib/socket.js applies it). Unset: the core's default (64 MiB); Infinity:
// unbounded.
function pendingLimit(config) {
  const v = config.maxPendingBytes;
  if (v === Infinity) return Infinity;
  const n = Number(v);
  if (v === undefined || v === null || v === false || !Number.isFinite(n) || n <= 0) return flowDefaults.maxPendingBytes;
  return Math.floor(n);
}

module.exports = { Defaults, frameLimit, pendingLimit, DEFAULT_FRAME_CAP };
