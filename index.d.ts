// Types for node-ipc-rs, CommonJS entry (`require('node-ipc-rs')`; index.d.mts re-exports them for
// `import`). A superset of @types/node-ipc 9.2.3: a program written against that package compiles
// unchanged with only its import line changed. Where the two differ, this file describes what the
// objects really are; every deliberate difference is tested in __test__/types/.
//
// Layout (for whoever adds declarations): everything is an interface or type alias inside
// `namespace ipc` (types only, so it merges with the `ipc` value that is `export =`ed). A class
// is an instance interface plus a constructor interface (`IPC` / `IPCConstructor`), exposed as
// a property of `RootIPC` and, for ESM, as a named export in index.d.mts. New named value exports
// go in three places: `RootIPC` here, index.d.mts, and index.js/index.mjs.

/// <reference types="node" />

import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type * as Parsers from './parsers/index.js';

declare namespace ipc {
  /**
   * A handler's parameter list. Handlers are checked bivariantly, like methods: a handler written
   * for @types/node-ipc with a `net.Socket` parameter is accepted, because every member of
   * {@link Socket} is one that `net.Socket` has; a parameter of an unrelated type is still an error.
   */
  type Handler<A extends any[]> = { bivarianceHack(...args: A): void }['bivarianceHack'];

  /** node-ipc's event emitter (event-pubsub): on clients and servers `emit` is the network send. */
  interface PubSub {
    on(type: string, handler: (...args: any[]) => void): this;
    once(type: string, handler: (...args: any[]) => void): this;
    /** `off(type)` removes every handler of `type`; `off('*', '*')` the wildcard handlers. */
    off(type?: string, handler?: ((...args: any[]) => void) | '*'): this;
    /** Local dispatch to this emitter's handlers (nothing is sent). */
    publish(type: string, ...args: any[]): this;
    /** Removes the handlers of `type`, or all handlers. */
    reset(type?: string): this;
    /** The registered handlers by event type. */
    readonly list: Record<string, Array<(...args: any[]) => void>>;
    /** node-ipc 9 (event-pubsub 4) alias of `publish`. */
    trigger(type: string, ...args: any[]): this;
    /** node-ipc 9 alias of `on`. */
    subscribe(type: string, handler: (...args: any[]) => void): this;
    /** node-ipc 9 alias of `off`. */
    unSubscribe(type?: string, handler?: ((...args: any[]) => void) | '*'): this;
  }

  /**
   * A connection as node-ipc exposed it (there a `net.Socket`): the socket of a client
   * (`ipc.of[id].socket`) or a connection accepted by a server. It implements the members listed
   * here, each a member of `net.Socket` with the same signature, so a `net.Socket` is assignable
   * to it (code typed for @types/node-ipc passes one where a Socket is expected) — but it is not
   * a `net.Socket` and is not assignable to one.
   */
  interface Socket extends EventEmitter {
    /** The peer's id, learnt from any received message whose `data.id` is truthy (server side; under a node-ipc 14 profile only with `config.identifyPeer`). */
    id?: any;
    /**
     * '' (node-ipc kept undecoded input here; node-ipc-rs decodes in Rust), except under a custom
     * parser (`config.parser`), whose unfinished remainder is kept here as in node-ipc 14.
     */
    ipcBuffer?: string;
    readonly destroyed: boolean;
    readonly connecting: boolean;
    readonly pending: boolean;
    readable: boolean;
    writable: boolean;
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
    readonly remoteFamily?: string | undefined;
    readonly localAddress?: string | undefined;
    readonly localPort?: number | undefined;
    readonly localFamily?: string | undefined;
    /** Unsent bytes (this tick's writes plus what the kernel has not taken). */
    readonly writableLength: number;
    readonly bufferSize: number;
    readonly writableHighWaterMark: number;
    readonly writableNeedDrain: boolean;
    readonly bytesRead: number;
    readonly bytesWritten: number;
    readonly readyState: 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed';
    /** The idle timeout set by `setTimeout`, if any. */
    readonly timeout?: number | undefined;
    /** False once the unsent bytes reach `writableHighWaterMark`: wait for `'drain'`. */
    write(data: string | Uint8Array, cb?: (err?: Error | null) => void): boolean;
    write(data: string | Uint8Array, encoding?: BufferEncoding, cb?: (err?: Error | null) => void): boolean;
    end(cb?: () => void): this;
    end(data: string | Uint8Array, cb?: () => void): this;
    end(data: string | Uint8Array, encoding?: BufferEncoding, cb?: () => void): this;
    destroy(error?: Error): this;
    destroySoon(): void;
    setEncoding(encoding?: BufferEncoding): this;
    /** `{address, family, port}` of the local end of a TCP connection; `{}` for local sockets. */
    address(): { address?: string; family?: string; port?: number };
    /** Whether this connection keeps the process alive. */
    ref(): this;
    unref(): this;
    /** TCP keepalive (no effect on local sockets, as in Node). */
    setKeepAlive(enable?: boolean, initialDelay?: number): this;
    /** TCP_NODELAY (on by default; no effect on local sockets). */
    setNoDelay(noDelay?: boolean): this;
    /** Emits `'timeout'` after `timeout` ms without reads or writes; 0 turns it off. */
    setTimeout(timeout: number, callback?: () => void): this;
    /** Stop/restart reading: while paused nothing is delivered and the peer's writes back up. */
    pause(): this;
    resume(): this;
    isPaused(): boolean;
    on(event: 'drain' | 'timeout' | 'connect', listener: () => void): this;
    on(event: 'close', listener: (hadError: boolean) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  /** A UDP destination for `server.emit` (@types/node-ipc's `SocketConfig`). */
  interface UDPTarget {
    address?: string | undefined;
    port?: number | undefined;
  }
  type SocketConfig = UDPTarget;

  /**
   * What a UDP server passes where a stream server passes the Socket: the sender of the datagram.
   * Handlers are typed for stream servers (the common case); on a UDP server, read the second
   * argument as `peer as unknown as UDPPeer`.
   */
  interface UDPPeer {
    address: string;
    family: 'IPv4' | 'IPv6';
    port: number;
    size: number;
    ipcBuffer: string;
  }

  /** `ipc.of[id]`: a connection to one server, reconnecting per `config.retry` / `maxRetries`. */
  interface Client extends PubSub {
    id: string;
    /** The socket path, or the host for TCP/TLS. */
    path: string;
    /** TCP/TLS only. */
    port?: number;
    /** The shared `ipc.config`. */
    config: Config;
    /** The current connection; replaced on every reconnect. `false` before the first connect(). */
    socket: Socket | false;
    retriesRemaining: number;
    explicitlyDisconnected: boolean;
    /** Sync mode's queue of encoded messages (`config.sync`). */
    queue: { contents: Array<string | Buffer>; busy: boolean };
    /** Opens a new connection (connectTo/connectToNet already did). */
    connect(): void;
    /**
     * Sends `{type, data}` as one frame. In raw mode (`config.rawBuffer`) `emit(payload)` sends
     * the bytes of `payload` (a string in `config.encoding`, a Buffer or an array of bytes).
     * Returns false when nothing was written (no connection, or over `maxPendingBytes`) or the
     * unsent bytes reached the high-water mark: wait for `'drain'` before sending more.
     */
    emit(type: string | Buffer | number[], data?: any): boolean;
    /** node-ipc 14 profiles (`config.parser` set): the parser in use. */
    parser?: Parsers.ParserLike;
    /** node-ipc 14 profiles: a protocol violation ended this client; it does not reconnect. */
    protocolViolation?: boolean;
    on(event: 'connect' | 'disconnect' | 'destroy' | 'drain', handler: Handler<[]>): this;
    on(event: 'error', handler: Handler<[err: any]>): this;
    /** A message of type `event`; in raw mode, `data` (a Buffer per received chunk). */
    on(event: string, handler: Handler<[data: any]>): this;
    once(event: string, handler: Handler<[data: any]>): this;
    log(...args: any[]): void;
  }

  /** `ipc.server.server`: the listener. */
  interface Listener extends EventEmitter {
    readonly listening: boolean;
    maxConnections: number;
    /** `{address, family, port}` for TCP/TLS/UDP, the path for a local socket, `null` when closed. */
    address(): AddressInfo | string | null;
    close(callback?: (err?: Error) => void): this;
    /** Open accepted connections. */
    getConnections(callback: (err: Error | null, count: number) => void): this;
    /** Whether the listener keeps the process alive. */
    ref(): this;
    unref(): this;
  }

  /** `ipc.server`, made by `serve()` or `serveNet()`. */
  interface Server extends PubSub {
    /** The socket path, or the host for TCP/TLS/UDP. */
    path: string;
    /** TCP/TLS/UDP only. */
    port?: number;
    udp4: boolean;
    udp6: boolean;
    /** The shared `ipc.config`. */
    config: Config;
    /** The listener; `false` before start(). */
    server: Listener | false;
    /** The open connections (a UDP server holds its Listener here once bound). */
    sockets: Socket[];
    /** Listens; `start` is published once it is listening. */
    start(): void;
    /** Closes the listener; accepted connections stay open (node-ipc 9/12). */
    stop(): void;
    /** Publishes `start`. */
    onStart(arg?: any): void;
    /**
     * Sends `{type, data}` to one connection, or one datagram to `{address, port}` on a UDP server.
     * In raw mode `emit(socket, payload)` sends the bytes of `payload`. Returns the socket's
     * `write()` result (true for UDP).
     */
    emit(socket: Socket | UDPTarget, type: string | Buffer | number[], data?: any): boolean;
    /**
     * Sends `{type, data}` to every connection (UDP: to every peer heard from). False if any
     * connection's write was; a stalled connection past `maxPendingBytes` is dropped alone.
     */
    broadcast(type: string | Buffer | number[], data?: any): boolean;
    /** node-ipc 14 profiles (`config.parser` set): the parser in use. */
    parser?: Parsers.ParserLike;
    /**
     * node-ipc-rs: serves one more existing stream (a Duplex, or `{readable, writable}`) as a
     * connection of this server: `connect`(socket) at once, then its messages. Returns the socket
     * (undefined when the server has not started yet: it is announced at `start()`).
     */
    attach(stream: import('node:stream').Duplex | StreamPair): any;
    /** Listening; on a UDP server, with `{address, port}`. */
    on(event: 'start', handler: Handler<[info?: UDPTarget]>): this;
    /** An accepted connection. */
    on(event: 'connect', handler: Handler<[socket: Socket]>): this;
    /** A connection closed; `destroyedSocketID` is its learnt `socket.id`, or `false`. */
    on(event: 'socket.disconnected', handler: Handler<[socket: Socket, destroyedSocketID: any]>): this;
    /** A connection closed (after `socket.disconnected`). */
    on(event: 'close', handler: Handler<[hadError: boolean]>): this;
    /** Listener and connection errors; malformed input also passes the connection. */
    on(event: 'error', handler: Handler<[err: any, socket?: Socket]>): this;
    /** A message of type `event` from `socket`; in raw mode, `data` (a Buffer per chunk). */
    on(event: string, handler: Handler<[data: any, socket: Socket]>): this;
    once(event: string, handler: Handler<[data: any, socket: Socket]>): this;
    log(...args: any[]): void;
  }

  /** `ipc.config`: node-ipc's keys and defaults. */
  interface Config {
    /** Default 'app.'; prefix of local socket names. */
    appspace: string;
    /** Default '/tmp/'; directory of local sockets. */
    socketRoot: string;
    /** Default `os.hostname()`; this process's id. */
    id: string;
    /** Default 'utf8'; the encoding of raw-mode string payloads. */
    encoding: 'ascii' | 'utf8' | 'utf-8' | 'utf16le' | 'ucs2' | 'base64' | 'base64url' | 'hex' | 'latin1' | 'binary';
    /** Default false; send and receive bytes instead of JSON messages. */
    rawBuffer: boolean;
    /** Default false; one message in flight per client until something is received. */
    sync: boolean;
    /** Default true; remove a stale local socket before listening. */
    unlink: boolean;
    /** Default '\f'; the frame delimiter. */
    delimiter: string;
    /** Default false; true turns ipc.log off. */
    silent: boolean;
    /** Default 5. */
    logDepth: number;
    /** Default true. */
    logInColor: boolean;
    /** Default console.log; receives each ipc.log line. */
    logger: (msg: string) => void;
    /** Default 100. */
    maxConnections: number;
    /** Default 500; milliseconds between reconnection attempts. */
    retry: number;
    /** Default Infinity; reconnection attempts after each loss (false or 0: none). */
    maxRetries: boolean | number;
    /** Default false; true stops reconnecting. */
    stopRetrying: boolean;
    /** Default ''. */
    IPType: string;
    /** Default false; TLS settings for serveNet/connectToNet. */
    tls: false | TLSConfig;
    /** Default '127.0.0.1'. */
    networkHost: string;
    /** Default 8000. */
    networkPort: number;
    /** Default false; local socket readable by all users. */
    readableAll: boolean;
    /** Default false; local socket writable by all users. */
    writableAll: boolean;
    /** The local side of TCP connections (`localAddress`, `localPort`); false = unset. */
    interface: {
      localAddress: string | false;
      localPort: number | false;
      family: number | false;
      hints: number | false;
      lookup: ((...args: any[]) => void) | false;
    };
    /** @types/node-ipc's misspelling of `interface`; never read. */
    interfaces?: any;
    /**
     * Largest frame in bytes (UTF-8, delimiter excluded); larger frames and unfinished remainders
     * close the connection with `ERR_IPC_FRAME_TOO_LARGE`. Default 64 MiB without a profile, 1 MiB
     * under guarded/assured (node-ipc 14); `Infinity` for none. fast and raw do not read it.
     */
    maxMessageSize?: number;
    /**
     * node-ipc-rs: `'stream'` moves bytes through Node's own sockets (always so on Windows, and for
     * servers in cluster workers); `'native'` uses the addon's sockets where it has them. Unset:
     * the environment variable NODE_IPC_RS_TRANSPORT, then automatic.
     */
    transport?: 'stream' | 'native';
    /**
     * Unsent bytes one connection may hold; a send that would pass it is not written, returns
     * false, and closes that connection with `ERR_IPC_BACKPRESSURE`. Default 64 MiB without a
     * profile, 8 MiB under guarded/assured; `Infinity` for none. fast and raw do not read it.
     */
    maxPendingBytes?: number;
    /**
     * node-ipc 14's parser profile: 'raw', 'fast', 'guarded', 'assured', a parser object
     * (`encode`/`read`) or a parser class (constructed with `ipc.config`). Unset: node-ipc 9/12
     * behaviour. Chosen once when a client or server is created; an invalid value throws
     * TypeError from serve, serveNet, connectTo and connectToNet.
     */
    parser?: ParserOption;
    /** Server: take `socket.id` from received `data.id`. Default: true without a profile, false with one. */
    identifyPeer?: boolean;
    /** guarded/assured: longest event name in UTF-16 units (default 256). */
    maxEventNameLength?: number;
    /** guarded/assured: ms an unfinished frame may wait (default 30000; 0 disables). */
    messageTimeout?: number;
    /** guarded: let peers send lifecycle event names (`connect`, `error`, …). */
    allowReservedEvents?: boolean;
    /** assured (required): the event names that may be sent and received. */
    allowedEvents?: false | string[] | Set<string>;
    /**
     * Local servers: require an owner-only socket root (created 0700 if missing; an existing one
     * that is not owner-only is refused with ERR_IPC_SOCKET_ROOT, never chmod'ed). Default: on for
     * assured, off otherwise. With socketRoot '/tmp/' (the default), a secure root means node-ipc
     * 14's per-user root (`$XDG_RUNTIME_DIR/node-ipc/` or `<tmpdir>/node-ipc-<uid>/`).
     */
    secureSocketRoot?: boolean;
  }

  /** node-ipc 14's parser profiles. */
  type ParserProfile = 'raw' | 'fast' | 'guarded' | 'assured';

  /** What `config.parser` accepts. */
  type ParserOption = ParserProfile | Parsers.ParserLike | (new (config: Config) => Parsers.ParserLike);

  interface TLSConfig {
    /** Default true for clients. */
    rejectUnauthorized?: boolean;
    /** Path of this side's certificate (PEM). */
    public?: string;
    /** Path of this side's private key (PEM). */
    private?: string;
    /** Path(s) of the certificates to trust (CA or peer). */
    trustedConnections?: string | string[];
    /** Server: ask clients for a certificate. */
    requestCert?: boolean;
    /** Ignored (rustls negotiates ECDHE). */
    dhparam?: string;
    [key: string]: any;
  }

  /** Two one-way streams used as one connection (e.g. a child process's stdout and stdin). */
  interface StreamPair {
    readable: NodeJS.ReadableStream;
    writable: NodeJS.WritableStream;
  }

  type ConnectCallback = (ipc?: IPC) => void;
  type ServeCallback = () => void;
  type ServeNetCallback = (info?: UDPTarget) => void;

  /** An IPC instance: `ipc` itself, or `new ipc.IPC()`. Its methods are bound to it. */
  interface IPC {
    config: Config;
    /** The clients made by connectTo/connectToNet, by id. */
    of: Record<string, Client>;
    /**
     * The server made by serve()/serveNet(). **It is `false` until then** (test `if (ipc.server)`).
     * Declared as `Server`, as @types/node-ipc does, because TypeScript cannot express "false
     * until a method has run" for code in callbacks, and every program reads it after serve().
     */
    server: Server;
    readonly log: (...args: any[]) => void;
    readonly connectTo: {
      (id: string, path?: string, callback?: ConnectCallback): void;
      (id: string, callback?: ConnectCallback): void;
    };
    readonly connectToNet: {
      (id: string, host?: string, port?: number, callback?: ConnectCallback): void;
      (id: string, callback?: ConnectCallback): void;
      (id: string, hostOrPort: string | number, callback?: ConnectCallback): void;
    };
    /**
     * node-ipc-rs: a client over a stream the program already has (a Duplex, or
     * `{readable, writable}` such as a child's stdout/stdin); `connect` follows on the next tick, and
     * the stream closing is `disconnect` then `destroy` (no retries).
     */
    readonly connectToStream: (id: string, stream: import('node:stream').Duplex | StreamPair, callback?: ConnectCallback) => void;
    /** Stops the client `id` for good and removes it from `ipc.of`. */
    readonly disconnect: (id: string) => void;
    /** Creates `ipc.server` for a local socket (default path `socketRoot + appspace + id`). */
    readonly serve: {
      (path?: string | null, callback?: ServeCallback): void;
      (callback?: ServeCallback): void;
    };
    /**
     * node-ipc-rs: creates `ipc.server` over existing streams: each is one connection, announced
     * at `start()`; `ipc.server.attach(stream)` adds more.
     */
    readonly serveStream: {
      (stream?: import('node:stream').Duplex | StreamPair | null, callback?: ServeCallback): void;
      (callback?: ServeCallback): void;
    };
    /** Creates `ipc.server` for TCP (TLS when `config.tls`) or UDP. */
    readonly serveNet: {
      (host?: string, port?: number, UDPType?: 'udp4' | 'udp6', callback?: ServeNetCallback): void;
      (host: string, port: number, callback?: ServeNetCallback): void;
      (host: string, UDPType: 'udp4' | 'udp6', callback?: ServeNetCallback): void;
      (host: string, callback?: ServeNetCallback): void;
      (UDPType: 'udp4' | 'udp6', callback?: ServeNetCallback): void;
      (port: number, UDPType: 'udp4' | 'udp6', callback?: ServeNetCallback): void;
      (port: number, callback?: ServeNetCallback): void;
      (callback?: ServeNetCallback): void;
    };
  }

  interface IPCConstructor {
    new (): IPC;
    readonly prototype: IPC;
  }

  /** node-ipc 14's error for protocol violations; `code` is an `ERR_IPC_*` name. */
  interface IPCProtocolError extends Error {
    name: 'IPCProtocolError';
    code: string;
  }

  interface IPCProtocolErrorConstructor {
    new (code: string, message?: string, details?: Record<string, unknown>): IPCProtocolError;
    readonly prototype: IPCProtocolError;
  }

  /** The module: the singleton IPC instance, with the classes as (non-enumerable) properties. */
  interface RootIPC extends IPC {
    /** The base class (node-ipc 9's `ipc.IPC`): `new ipc.IPC()` is an independent instance. */
    readonly IPC: IPCConstructor;
    /** node-ipc 12/14's class name for the same thing. */
    readonly IPCModule: IPCConstructor;
    readonly IPCProtocolError: IPCProtocolErrorConstructor;
    /** node-ipc 14's parser classes (also in `node-ipc-rs/parsers`); `FastParser` is `Parser`. */
    readonly Parser: typeof Parsers.Parser;
    readonly FastParser: typeof Parsers.Parser;
    readonly RawParser: typeof Parsers.RawParser;
    readonly GuardedParser: typeof Parsers.GuardedParser;
    readonly AssuredParser: typeof Parsers.AssuredParser;
    /** The singleton itself (`require('node-ipc-rs').default`, node-ipc 10+ style). */
    readonly default: RootIPC;
  }

  /** The instance type of `IPCModule` (the same as `IPC`). */
  type IPCModule = IPC;
}

declare const ipc: ipc.RootIPC;

export = ipc;
