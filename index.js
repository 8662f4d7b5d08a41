'use strict';

// node-ipc-rs: node-ipc's API over a Rust core.
//
//   const ipc = require('node-ipc-rs');          // the singleton (node-ipc 9 style)
//   const ipc = require('node-ipc-rs').default;  // the same object (node-ipc 10+ style)
//   import ipc from 'node-ipc-rs';               // the same object again
//   const other = new ipc.IPC();                 // an independent instance

const { IPC, IPCModule } = require('./lib/ipc.js');
const { IPCProtocolError } = require('./lib/errors.js');
const { Parser, RawParser, GuardedParser, AssuredParser } = require('./lib/parsers.js');

const ipc = new IPCModule();

Object.defineProperties(ipc, {
  default: { value: ipc, enumerable: false },
  IPC: { value: IPC, enumerable: false },
  IPCModule: { value: IPCModule, enumerable: false },
  IPCProtocolError: { value: IPCProtocolError, enumerable: false },
  // node-ipc 14's parser classes (config.parser); also in node-ipc-rs/parsers.
  Parser: { value: Parser, enumerable: false },
  FastParser: { value: Parser, enumerable: false },
  RawParser: { value: RawParser, enumerable: false },
  GuardedParser: { value: GuardedParser, enumerable: false },
  AssuredParser: { value: AssuredParser, enumerable: false },
  __esModule: { value: true, enumerable: false },
});

module.exports = ipc;
