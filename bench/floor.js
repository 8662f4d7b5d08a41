'use strict';

// The JSON floor of a Node<->Node echo: what each process must do per message even with free I/O.
// Each side of the echo stringifies every message once (its send) and parses it once (its
// receive), so with the two processes on two cores the echo cannot beat
//   1 / (stringify time + parse time) messages per second.
// Measured here in one process, with no I/O, on the benchmark's exact message (bench/common.js:
// {"type":"echo","data":{"seq":<n>,"s":"x…"}}, 88 bytes with the delimiter for a 6-digit seq, seq
// running from 0 to messages-1 as in the echo), one read-sized batch at a time, as a process of
// the echo handles them:
//   stringify  JSON.stringify({type, data}) per message, for a batch's worth of messages
//              (frame + delimiter bytes >= batchBytes);
//   parse      JSON.parse of that batch as one JSON array (`[f1,f2,...]`, the shape node-ipc-rs
//              hands JS, as a flat one-byte string like the addon's napi_create_string_utf8),
//              then reading each message's data.seq as a dispatcher would.
// Only those two steps are timed (joining the array is the addon's work, not JS's). The frames
// of one batch are garbage once it is parsed, as in the echo: keeping a million strings alive
// (as a first version did) made every stringify pay for old-generation GC and understated the
// floor by 15-30%.
//
//   node bench/floor.js [messages=1000000] [batchBytes=65536]
// prints `RESULT {"kind":"floor","msgsPerSec":...,"stringifyNs":...,"parseNs":...}` (the median of
// three measurements after a warm-up; msgsPerSec = 1e9 / (stringifyNs + parseNs)), then, like the
// other bench children, waits for its stdin to close when run by bench/run.js.

const { performance } = require('node:perf_hooks');
const { payload, exitOnStdinEnd } = require('./common.js');

function measure(n, batchBytes) {
  let stringifyMs = 0;
  let parseMs = 0;
  let seen = 0;
  let seq = 0;
  const frames = [];
  while (seq < n) {
    // Stringify: one envelope per message, as a sender does, until a read's worth of bytes.
    frames.length = 0;
    let bytes = 0;
    let t0 = performance.now();
    while (seq < n && bytes < batchBytes) {
      const frame = JSON.stringify({ type: 'echo', data: payload(seq++) });
      frames.push(frame);
      bytes += frame.length + 1;
    }
    stringifyMs += performance.now() - t0;

    // The batch text as the addon hands it over: one flat one-byte string.
    const text = Buffer.from(`[${frames.join(',')}]`, 'latin1').toString('latin1');

    // Parse: one JSON.parse per batch, then touch each message the way a dispatcher does.
    t0 = performance.now();
    const list = JSON.parse(text);
    for (let i = 0; i < list.length; i++) {
      const msg = list[i];
      if (msg.type === 'echo' && msg.data.seq === seen) seen++;
    }
    parseMs += performance.now() - t0;
  }
  if (seen !== n) throw new Error(`floor: parsed ${seen} of ${n} messages`);
  return { stringifyNs: (stringifyMs * 1e6) / n, parseNs: (parseMs * 1e6) / n };
}

function main() {
  const n = Number(process.argv[2]) || 1000000;
  const batchBytes = Number(process.argv[3]) || 65536;
  measure(Math.min(n, 100000), batchBytes); // warm-up: let V8 optimise both loops
  const runs = [measure(n, batchBytes), measure(n, batchBytes), measure(n, batchBytes)];
  const med = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[1];
  const stringifyNs = med('stringifyNs');
  const parseNs = med('parseNs');
  const result = { kind: 'floor', n, batchBytes, stringifyNs, parseNs, msgsPerSec: 1e9 / (stringifyNs + parseNs) };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  exitOnStdinEnd();
}

main();
