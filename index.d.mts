// Types for node-ipc-rs, ESM entry (`import ipc from 'node-ipc-rs'`): the declarations live in
// index.d.ts; this file gives them the shape of index.mjs (a default export and named exports).

import ipc from './index.js';
import type * as Parsers from './parsers/index.js';

export default ipc;

export declare const IPC: ipc.IPCConstructor;
export declare const IPCModule: ipc.IPCConstructor;
export declare const IPCProtocolError: ipc.IPCProtocolErrorConstructor;
export declare const Parser: typeof Parsers.Parser;
export declare const FastParser: typeof Parsers.Parser;
export declare const RawParser: typeof Parsers.RawParser;
export declare const GuardedParser: typeof Parsers.GuardedParser;
export declare const AssuredParser: typeof Parsers.AssuredParser;
export type Parser = Parsers.Parser;
export type FastParser = Parsers.Parser;
export type RawParser = Parsers.RawParser;
export type GuardedParser = Parsers.GuardedParser;
export type AssuredParser = Parsers.AssuredParser;

export type IPC = ipc.IPC;
export type IPCModule = ipc.IPC;
export type IPCProtocolError = ipc.IPCProtocolError;

export type {
  Client,
  Config,
  ConnectCallback,
  Handler,
  IPCConstructor,
  IPCProtocolErrorConstructor,
  Listener,
  ParserOption,
  ParserProfile,
  PubSub,
  RootIPC,
  ServeCallback,
  ServeNetCallback,
  Server,
  Socket,
  SocketConfig,
  TLSConfig,
  UDPPeer,
  UDPTarget,
} from './index.js';
