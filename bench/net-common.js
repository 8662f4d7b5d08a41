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

// Calls onFrame(string) for each complete frame. The delimiter is looked for in each new chunk
// only, and the pieces of an unfinished frame are joined once it is complete, so a 1 MiB frame
// arriving in 64 KiB reads is not searched (and flattened) again at every read.
function makeReader(socket, onFrame) {
  socket.setEncoding('utf8');
  let rest = '';
  socket.on('data', (chunk) => {
    let i = chunk.indexOf(DELIM);
    if (i === -1) {
      rest += chunk;
      return;
    }
    onFrame(rest === '' ? chunk.slice(0, i) : rest + chunk.slice(0, i));
    let start = i + 1;
    while ((i = chunk.indexOf(DELIM, start)) !== -1) {
      onFrame(chunk.slice(start, i));
      start = i + 1;
    }
    rest = start === chunk.length ? '' : chunk.slice(start);
  });
}

module.exports = { makeWriter, makeReader, DELIM };
