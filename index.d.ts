// Types for node-ipc-rs: a superset of @types/node-ipc 9.2 (node-ipc's API, which this package keeps).

import { EventEmitter } from 'node:events';

declare namespace NodeIPC {
  type Handler = (...args: any[]) => void;

  /** node-ipc's event emitter (event-pubsub): `emit` on clients and servers is the network send. */
  interface PubSub {
    on(type: string, handler: Handler): this;
    once(type: string, handler: Handler): this;
    /** `off(type)` removes every handler of `type`; `off('*', '*')` the wildcard handlers. */
    off(type?: string, handler?: Handler | '*'): this;
    /** Local dispatch to handlers. */
    publish(type: string, ...args: any[]): this;
    reset(type?: string): this;
    /** node-ipc 9 aliases. */
    trigger(type: string, ...args: any[]): this;
    subscribe(type: string, handler: Handler): this;
    unSubscribe(type: string, handler?: Handler | '*'): this;
  }

  /** What node-ipc exposed as a net.Socket: the socket of a client or of an accepted connection. */
  interface Socket extends EventEmitter {
    /** The peer's id, learnt from any received `data.id` (server side). */
    id?: any;
    ipcBuffer: string;
    readonly destroyed: boolean;
    readonly connecting: boolean;
    readable: boolean;
    writable: boolean;
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    readonly remoteFamily: string | undefined;
    /** False once the unsent bytes reach `writableHighWaterMark`: wait for `'drain'`. */
    write(data: string | Uint8Array, encoding?: BufferEncoding, cb?: () => void): boolean;
    end(data?: string | Uint8Array, encoding?: BufferEncoding, cb?: () => void): this;
    destroy(err?: Error): this;
    setEncoding(encoding: BufferEncoding): this;
    /** Unsent bytes (this tick's writes plus what the kernel has not taken). */
    readonly writableLength: number;
    readonly bufferSize: number;
    readonly writableHighWaterMark: number;
    readonly writableNeedDrain: boolean;
    readonly bytesRead: number;
    readonly bytesWritten: number;
    readonly readyState: 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed';
    readonly pending: boolean;
    /** The idle timeout set by `setTimeout`, if any. */
    readonly timeout?: number;
    readonly localAddress: string | undefined;
    readonly localPort: number | undefined;
    readonly localFamily: string | undefined;
    /** `{address, family, port}` of the local end of a TCP connection; `{}` for local sockets. */
    address(): { address?: string; family?: string; port?: number };
    /** Whether this connection keeps the process alive. */
    ref(): this;
    unref(): this;
    /** TCP keepalive (no effect on local sockets, as in Node). */
    setKeepAlive(enable?: boolean, initialDelay?: number): this;
    /** TCP_NODELAY (on by default; no effect on local sockets). */
    setNoDelay(noDelay?: boolean): this;
    /** Emits `'timeout'` after `ms` without reads or writes; 0 turns it off. */
    setTimeout(ms: number, callback?: () => void): this;
    /** Stop/restart reading: while paused nothing is delivered and the peer's writes back up. */
    pause(): this;
    resume(): this;
    isPaused(): boolean;
    on(event: 'drain' | 'timeout' | 'connect', listener: () => void): this;
    on(event: 'close', listener: (hadError: boolean) => void): this;
    on(event: 'error', listener: (err: Error & { code?: string }) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }

  /** `ipc.server.server`: the listener. */
  interface Listener extends EventEmitter {
    listening: boolean;
    maxConnections: number;
    /** The TCP address, the socket path for local servers, `null` when not listening. */
    address(): { address: string; family: string; port: number } | string | null;
    close(cb?: (err?: Error) => void): this;
    /** Open accepted connections. */
    getConnections(cb: (err: Error | null, count: number) => void): this;
    /** Whether the listener keeps the process alive. */
    ref(): this;
    unref(): this;
  }

  interface Client extends PubSub {
    id: string;
    /** Socket path, or host for TCP. */
    path: string;
    port?: number;
    config: Config;
    socket: Socket | false;
    retriesRemaining: number;
    explicitlyDisconnected: boolean;
    queue: { contents: Array<string | Buffer>; busy: boolean };
    connect(): void;
    /**
     * Sends `{type, data}`; in raw mode `emit(payload)` sends bytes. Returns false when nothing was
     * written (no connection, or over `maxPendingBytes`) or the unsent bytes reached the
     * high-water mark: wait for `'drain'` before sending more.
     */
    emit(type: string | Buffer | number[], data?: any): boolean;
    on(event: 'connect' | 'disconnect' | 'destroy' | 'drain', handler: () => void): this;
    on(event: 'error', handler: (err: any) => void): this;
    on(event: 'data', handler: (data: Buffer) => void): this;
    on(event: string, handler: (data: any) => void): this;
    log(...args: any[]): void;
  }

  interface UDPTarget {
    address?: string;
    port?: number;
  }

  interface Server extends PubSub {
    path: string;
    port?: number;
    udp4: boolean;
    udp6: boolean;
    config: Config;
    /** The listener, `false` before start(). */
    server: Listener | false;
    sockets: Socket[];
    start(): void;
    /** Closes the listener; accepted sockets stay open (node-ipc 9/12). */
    stop(): void;
    onStart(arg?: any): void;
    /** The socket's `write()` result (true for UDP). */
    emit(socket: Socket | UDPTarget, type: string | Buffer | number[], data?: any): boolean;
    /** False if any connection's write was; a stalled connection past `maxPendingBytes` is dropped alone. */
    broadcast(type: string | Buffer | number[], data?: any): boolean;
    on(event: 'start', handler: (arg?: any) => void): this;
    on(event: 'connect', handler: (socket: Socket) => void): this;
    on(event: 'socket.disconnected', handler: (socket: Socket, destroyedSocketID: any) => void): this;
    on(event: 'close', handler: (hadError: boolean) => void): this;
    on(event: 'error', handler: (err: any, socket?: Socket) => void): this;
    on(event: 'data', handler: (data: Buffer, socket: Socket) => void): this;
    on(event: string, handler: (data: any, socket: Socket) => void): this;
    log(...args: any[]): void;
  }

  interface Config {
    appspace: string;
    socketRoot: string;
    id: string;
    encoding: 'ascii' | 'utf8' | 'utf-8' | 'utf16le' | 'ucs2' | 'base64' | 'base64url' | 'hex' | 'latin1' | 'binary';
    rawBuffer: boolean;
    sync: boolean;
    unlink: boolean;
    delimiter: string;
    silent: boolean;
    logDepth: number;
    logInColor: boolean;
    logger: (msg: string) => void;
    maxConnections: number;
    retry: number;
    maxRetries: boolean | number;
    stopRetrying: boolean;
    IPType: string;
    tls: false | TLSConfig;
    networkHost: string;
    networkPort: number;
    readableAll: boolean;
    writableAll: boolean;
    interface: {
      localAddress: string | false;
      localPort: number | false;
      family: number | false;
      hints: number | false;
      lookup: ((...args: any[]) => void) | false;
    };
    /** @types/node-ipc's misspelling of `interface`; never read. */
    interfaces?: any;
    /** Largest frame in bytes (delimiter excluded); default 64 MiB; `Infinity` for none. */
    maxMessageSize?: number;
    /**
     * Unsent bytes one connection may hold; a send that would pass it is not written, returns
     * false, and closes that connection with `ERR_IPC_BACKPRESSURE`. Default 64 MiB; `Infinity`
     * for none.
     */
    maxPendingBytes?: number;
  }

  interface TLSConfig {
    rejectUnauthorized?: boolean;
    public?: string;
    private?: string;
    trustedConnections?: string | string[];
    requestCert?: boolean;
    dhparam?: string;
    [key: string]: any;
  }

  class IPC {
    constructor();
    config: Config;
    of: Record<string, Client>;
    server: Server | false;
    log(...args: any[]): void;
    connectTo(id: string, path?: string, callback?: (ipc?: IPC) => void): void;
    connectTo(id: string, callback?: (ipc?: IPC) => void): void;
    connectToNet(id: string, host?: string, port?: number, callback?: (ipc?: IPC) => void): void;
    connectToNet(id: string, callback?: (ipc?: IPC) => void): void;
    connectToNet(id: string, hostOrPort: string | number, callback?: (ipc?: IPC) => void): void;
    disconnect(id: string): void;
    serve(path: string, callback?: () => void): void;
    serve(callback?: () => void): void;
    serve(path: null): void;
    serveNet(host?: string, port?: number, UDPType?: 'udp4' | 'udp6', callback?: () => void): void;
    serveNet(UDPType: 'udp4' | 'udp6', callback?: () => void): void;
    serveNet(callbackOrPort: (() => void) | number): void;
    serveNet(host: string, port: number, callback?: () => void): void;
  }

  class IPCModule extends IPC {}

  class IPCProtocolError extends Error {
    code: string;
  }
}

declare const ipc: NodeIPC.IPC & {
  readonly IPC: typeof NodeIPC.IPC;
  readonly IPCModule: typeof NodeIPC.IPCModule;
  readonly IPCProtocolError: typeof NodeIPC.IPCProtocolError;
  readonly default: NodeIPC.IPC;
};

export = ipc;
