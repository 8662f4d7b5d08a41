// ESM entry: the same singleton as require('node-ipc-rs').
import ipc from './index.js';

export default ipc;
export const IPC = ipc.IPC;
export const IPCModule = ipc.IPCModule;
export const IPCProtocolError = ipc.IPCProtocolError;
export const Parser = ipc.Parser;
export const FastParser = ipc.FastParser;
export const RawParser = ipc.RawParser;
export const GuardedParser = ipc.GuardedParser;
export const AssuredParser = ipc.AssuredParser;
