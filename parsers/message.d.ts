// Types for node-ipc-rs/parsers/message (node-ipc 14's `node-ipc/parsers/message`).

import { Parser } from './index.js';

/** js-message's envelope: a malformed frame is an `error` message. */
export interface Message {
  type: any;
  data: any;
}

/** Fast framing with js-message decoding: malformed frames become `error` messages, the connection stays. */
export declare class MessageParser extends Parser {
  decode(frame: string): Message;
}

export default MessageParser;
