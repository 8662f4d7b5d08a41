'use strict';

const os = require('node:os');

// node-ipc 14's error class for protocol violations; `code` is one of the ERR_IPC_* names.
class IPCProtocolError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'IPCProtocolError';
    this.code = code;
    if (details) Object.assign(this, details);
  }
}

// A system error shaped like Node's (`connect ECONNREFUSED 127.0.0.1:8000`, with errno, code,
// syscall, address, port).
function systemError(code, syscall, address, port, message) {
  if (typeof code === 'string' && code.includes('|')) {
    // "CODE|message" from the addon (configuration errors).
    const i = code.indexOf('|');
    message = code.slice(i + 1);
    code = code.slice(0, i);
  }
  if (typeof code === 'string' && code.startsWith('ERR_IPC_')) {
    return new IPCProtocolError(code, message || code);
  }
  if (typeof code === 'string' && (code.startsWith('ERR_') || (/^[A-Z_]+$/.test(code) && !os.constants.errno[code]))) {
    // TLS and other non-system failures: Node-style code, readable message.
    const err = new Error(message || code);
    err.code = code;
    if (syscall) err.syscall = syscall;
    return err;
  }
  const where = address === undefined ? '' : port === undefined ? ` ${address}` : ` ${address}:${port}`;
  const err = new Error(`${syscall} ${code}${where}`);
  const errno = os.constants.errno[code];
  err.errno = errno === undefined ? undefined : -errno;
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

module.exports = { IPCProtocolError, systemError };
