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
    write(data: string | Uint8Array, encoding?: BufferEncoding, cb?: () => void): boolean;
    end(data?: string | Uint8Array, encoding?: BufferEncoding, cb?: () => void): this;
    destroy(err?: Error): this;
    setEncoding(encoding: BufferEncoding): this;
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
    /** Sends `{type, data}`; in raw mode `emit(payload)` sends bytes. */
    emit(type: string | Buffer | number[], data?: any): void;
    on(event: 'connect' | 'disconnect' | 'destroy', handler: () => void): this;
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
    server: (EventEmitter & { address(): any; close(cb?: (err?: Error) => void): any; listening: boolean }) | false;
    sockets: Socket[];
    start(): void;
    /** Closes the listener; accepted sockets stay open (node-ipc 9/12). */
    stop(): void;
    onStart(arg?: any): void;
    emit(socket: Socket | UDPTarget, type: string | Buffer | number[], data?: any): void;
    broadcast(type: string | Buffer | number[], data?: any): void;
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
