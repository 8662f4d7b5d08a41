'use strict';

// The addon and the one function through which it reports socket events. Every handle id maps to
// the IpcSocket or server facade that owns it.

let binding;
try {
  binding = require('../binding.js');
} catch (err) {
  // Say which platform package is missing, or that this platform has none.
  throw require('./platform.js').loadError(err);
}

const EV_FRAMES = 1;
const EV_DATA = 2;
const EV_CONNECT = 3;
const EV_ACCEPT = 4;
const EV_ERROR = 5;
const EV_CLOSE = 6;
const EV_DATAGRAM = 7;
const EV_DRAIN = 8;
const EV_OUTPUT = 9; // stream transport: TLS bytes to write to the Node stream

const handles = new Map();

function dispatch(kind, id, a, b, c, d) {
  const owner = handles.get(id);
  if (owner === undefined) return; // closed from JS already
  switch (kind) {
    case EV_FRAMES:
      owner._nativeFrames(a, b, c, d);
      break;
    case EV_DATA:
      owner._nativeData(a, b);
      break;
    case EV_CONNECT:
      owner._nativeConnect();
      break;
    case EV_ACCEPT:
      owner._nativeAccept(a);
      break;
    case EV_ERROR:
      owner._nativeError(a, b);
      break;
    case EV_CLOSE:
      handles.delete(id);
      owner._nativeClose(a, b, c);
      break;
    case EV_DRAIN:
      owner._nativeDrain();
      break;
    case EV_DATAGRAM:
      owner._nativeDatagram(a, b, c, d);
      break;
    case EV_OUTPUT:
      owner._nativeOutput(a);
      break;
    default:
      break;
  }
}

binding.init(dispatch);

// The core's write limits (node_ipc_rs::flow): high-water mark and default maxPendingBytes.
const flowDefaults = binding.flowDefaults();

module.exports = { binding, handles, flowDefaults };
