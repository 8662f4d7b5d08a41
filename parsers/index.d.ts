// Types for node-ipc-rs/parsers (node-ipc 14's `node-ipc/parsers`).

/** The settings a parser is constructed with: `ipc.config` (only these members are read). */
export interface ParserConfig {
  delimiter?: string;
  encoding?: BufferEncoding;
  rawBuffer?: boolean;
  parser?: unknown;
  maxMessageSize?: number;
  maxPendingBytes?: number;
  maxEventNameLength?: number;
  messageTimeout?: number;
  allowReservedEvents?: boolean;
  allowedEvents?: false | string[] | Set<string>;
  [key: string]: any;
}

/** A decoded message. */
export interface IPCMessage {
  type: string;
  data?: any;
}

/**
 * What `config.parser` may be besides a profile name: an object with `encode` and `read` (a
 * custom parser runs in JS over the received bytes). Optional members as in node-ipc 14.
 */
export interface ParserLike {
  /** The bytes (or UTF-8 string) to write for an emit. */
  encode(type: any, data?: any): string | Uint8Array;
  /** Decodes `remainder + chunk`, calls `receive` per message and returns the new remainder. */
  read(remainder: any, chunk: any, receive: (message: any) => void): any;
  /** `true`: chunks go to `data` events as Buffers, `read` is not used. */
  raw?: boolean;
  /** How received bytes are decoded to strings for `read` (default utf8). */
  encoding?: BufferEncoding;
  /** `'assured'` applies the assured transport rules. */
  profile?: string;
  /** A finite positive value caps pending writes (ERR_IPC_BACKPRESSURE). */
  maxPendingBytes?: number;
  /** A positive value limits how long an unfinished remainder may wait (ERR_IPC_MESSAGE_TIMEOUT). */
  messageTimeout?: number;
}

/** A protocol violation; `code` is one of the ERR_IPC_* names. */
export declare class IPCProtocolError extends Error {
  constructor(code: string, message?: string);
  name: 'IPCProtocolError';
  code: string;
}

/** The raw profile: no framing; Buffers pass through. */
export declare class RawParser implements ParserLike {
  constructor(config?: ParserConfig);
  profile: 'raw';
  raw: true;
  encoding: BufferEncoding;
  encode(value: string | Uint8Array | number[]): Buffer;
  format(value: string | Uint8Array | number[]): Buffer;
  read<R>(remainder: R, chunk: Buffer, receive: (chunk: Buffer) => void): R;
  parse(chunk: Buffer): Buffer[];
  decode(chunk: Buffer): Buffer;
}

/** The fast profile: JSON envelopes with delimiter framing; malformed JSON is a protocol error. */
export declare class Parser implements ParserLike {
  constructor(config?: ParserConfig);
  profile: string;
  raw: false;
  encoding: 'utf8';
  delimiter: string;
  encode(type: string, data?: any): string;
  format(message: IPCMessage): string;
  read(remainder: string, chunk: string, receive: (message: any) => void): string;
  push(remainder?: string, chunk?: string): { events: string[]; remainder: string };
  parse(chunk: string): string[];
  decode(frame: string): any;
}

export { Parser as FastParser };

/** The guarded profile: fast plus size, name, reserved-name, timeout and pending-write limits. */
export declare class GuardedParser extends Parser {
  maxMessageSize: number;
  maxPendingBytes: number;
  maxEventNameLength: number;
  messageTimeout: number;
  allowReservedEvents: boolean;
  delimiterBytes: number;
  decodeMessage(frame: string): IPCMessage;
  validateType(type: unknown): void;
  assertFrameSize(characters: number, bytes: number): void;
}

/** The assured profile: guarded plus an allow-list both ways; lifecycle names always refused. */
export declare class AssuredParser extends GuardedParser {
  allowedEvents: Set<string>;
}

/** The parser `config` selects (`rawBuffer`, then `parser`). Throws TypeError for anything invalid. */
export declare function createParser(config: ParserConfig): ParserLike;

/** The lifecycle event names guarded (unless allowReservedEvents) and assured refuse on the wire. */
export declare const reservedEventTypes: Set<string>;

export default Parser;
