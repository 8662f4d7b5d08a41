'use strict';

// The JSON floor of a Node<->Node echo: what each process must do per message even with free I/O.
// Each side of the echo stringifies every message once (its send) and parses it once (its
// receive), so with the two processes on two cores the echo cannot beat
//   1 / (stringify time + parse time) messages per second.
// Measured here in one process, with no I/O: JSON.stringify({type, data}) per message, and
// JSON.parse of one JSON array per read-sized batch (the shape node-ipc-rs hands JS: `[f1,f2,...]`).
//
//   node bench/floor.js [messages=1000000] [batchBytes=65536]
// prints `RESULT {"kind":"floor","msgsPerSec":...,"stringifyNs":...,"parseNs":...}`.

const { performance } = require('node:perf_hooks');
const { payload } = require('./common.js');

function measure(n, batchBytes) {
  // Stringify: one envelope per message, as a sender does.
  const frames = new Array(n);
  let t0 = performance.now();
  for (let i = 0; i < n; i++) frames[i] = JSON.stringify({ type: 'echo', data: payload(i) });
  const stringifyMs = performance.now() - t0;

  // Group into read-sized batches (frame + delimiter bytes per read), joined as JSON arrays.
  const batches = [];
  let cur = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    cur.push(frames[i]);
    bytes += frames[i].length + 1;
    if (bytes >= batchBytes) {
      batches.push(`[${cur.join(',')}]`);
      cur = [];
      bytes = 0;
    }
  }
  if (cur.length) batches.push(`[${cur.join(',')}]`);

  // Parse: one JSON.parse per batch, then touch each message the way a dispatcher does.
  let seen = 0;
  t0 = performance.now();
  for (let b = 0; b < batches.length; b++) {
    const list = JSON.parse(batches[b]);
    for (let i = 0; i < list.length; i++) if (list[i].data.seq === seen) seen++;
  }
  const parseMs = performance.now() - t0;
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
}

main();
