// node-ipc-rs only, ESM: the named exports of index.mjs and the named types.
import ipc, { type Config, IPC, IPCModule, IPCProtocolError, type Server, type Socket } from 'node-ipc-rs';

const a: IPC = new IPC();
const b: IPCModule = new IPCModule();
const c: Config = a.config;
const e: IPCProtocolError = new IPCProtocolError('ERR_IPC_TEST', 'test');
ipc.serve(() => {
  const server: Server = ipc.server;
  server.on('connect', (socket: Socket) => socket.end());
});
ipc.log(b.config === c, e.code, ipc.default === ipc, ipc.IPC === IPC);

// @ts-expect-error there is no such export
import { Parserz } from 'node-ipc-rs';

ipc.log(Parserz);
