// node-ipc-rs only, ESM: the named exports of index.mjs and the named types.
import ipc, {
  AssuredParser,
  type Config,
  GuardedParser,
  IPC,
  IPCModule,
  IPCProtocolError,
  Parser,
  type Server,
  type Socket,
} from 'node-ipc-rs';
import FastParser, { createParser } from 'node-ipc-rs/parsers';
import MessageParser from 'node-ipc-rs/parsers/message';

const a: IPC = new IPC();
const b: IPCModule = new IPCModule();
const c: Config = a.config;
const e: IPCProtocolError = new IPCProtocolError('ERR_IPC_TEST', 'test');
ipc.serve(() => {
  const server: Server = ipc.server;
  server.on('connect', (socket: Socket) => socket.end());
});
ipc.log(b.config === c, e.code, ipc.default === ipc, ipc.IPC === IPC);
const g: GuardedParser = new GuardedParser({ maxMessageSize: 1024 });
c.parser = AssuredParser;
c.parser = MessageParser;
ipc.log(g.maxMessageSize, FastParser === Parser, createParser(c).encode('x', 1));

// @ts-expect-error there is no such export
import { Parserz } from 'node-ipc-rs';

ipc.log(Parserz);
