// node-ipc-rs/parsers (ESM): the same classes as require('node-ipc-rs/parsers').
import p from './index.js';

export default p.Parser;
export const AssuredParser = p.AssuredParser;
export const FastParser = p.FastParser;
export const GuardedParser = p.GuardedParser;
export const IPCProtocolError = p.IPCProtocolError;
export const Parser = p.Parser;
export const RawParser = p.RawParser;
export const createParser = p.createParser;
export const reservedEventTypes = p.reservedEventTypes;
