'use strict';

// node-ipc-rs/parsers: node-ipc 14's `node-ipc/parsers` (the parser classes, createParser and the
// reserved event names). The default export is Parser (the fast profile), as in node-ipc 14.

const p = require('../lib/parsers.js');

module.exports = {
  AssuredParser: p.AssuredParser,
  FastParser: p.Parser,
  GuardedParser: p.GuardedParser,
  IPCProtocolError: p.IPCProtocolError,
  Parser: p.Parser,
  RawParser: p.RawParser,
  createParser: p.createParser,
  reservedEventTypes: p.reservedEventTypes,
};
Object.defineProperty(module.exports, 'default', { value: p.Parser, enumerable: false });
Object.defineProperty(module.exports, '__esModule', { value: true, enumerable: false });
