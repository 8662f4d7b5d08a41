// node-ipc-rs/parsers/message (ESM).
import m from './message.js';

export default m.MessageParser;
export const MessageParser = m.MessageParser;
