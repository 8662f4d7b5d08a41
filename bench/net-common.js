'use strict';

// Hand-written node:net framing: frames are node-ipc envelopes ({"type":...,"data":...}) ended by
// '\f', exactly node-ipc's wire format. Two write strategies:
//   naive:   one socket.write per frame
//   batched: frames accumulate in an array and are written once per tick (process.nextTick)

const DELIM = '\f';

function makeWriter(socket, variant) {
  if (variant === 'naive') {
    return (frame) => socket.write(frame + DELIM);
  }
  if (variant !== 'batched') throw new Error(`unknown net variant ${variant} (naive, batched)`);
  let pending = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0 || socket.destroyed) return;
    const out = pending.join(DELIM) + DELIM;
    pending = [];
    socket.write(out);
  };
  return (frame) => {
    pending.push(frame);
    if (!scheduled) {
      scheduled = true;
      process.nextTick(flush);
    }
  };
}

// Calls onFrame(string) for each complete frame.
function makeReader(socket, onFrame) {
  socket.setEncoding('utf8');
  let buf = '';
  socket.on('data', (chunk) => {
    buf += chunk;
    let start = 0;
    let i;
    while ((i = buf.indexOf(DELIM, start)) !== -1) {
      onFrame(buf.slice(start, i));
      start = i + 1;
    }
    buf = start === 0 ? buf : buf.slice(start);
  });
}

module.exports = { makeWriter, makeReader, DELIM };
