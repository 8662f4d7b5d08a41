'use strict';

// Payloads that must survive a node-ipc round trip unchanged.

// Every piece is something a framing layer can get wrong: multi-byte UTF-8 (2, 3 and 4 bytes,
// surrogate pairs, a skin-tone modifier), the delimiter `\f` and `\n` inside strings, JSON escapes,
// U+2028/2029 and NUL.
const PIECES = [
  'ascii text ',
  'café ñ ü ',
  '中文字符 日本語 한국어 ',
  '😀🎉👍🏽🧪 ',
  'line\nbreak ',
  'form\ffeed ',
  'tab\there ',
  '"quoted" \\backslash\\ ',
  '\u2028\u2029 ',
  'nul\u0000byte ',
  '{"type":"fake","data":1}\f ',
];
const PATTERN = PIECES.join('');

/** A string of at least `minLength` UTF-16 units built from PIECES. */
function unicodeString(minLength) {
  return PATTERN.repeat(Math.ceil(minLength / PATTERN.length));
}

function deepObject(depth) {
  let node = { leaf: true, text: '🍃 葉 \f\n end' };
  for (let i = depth; i > 0; i--) {
    node = { level: i, name: `节点-${i}-🌲`, list: [i, -i, i / 3, true, false, null, 'x'], child: node };
  }
  return node;
}

/** A nested, unicode-heavy object of roughly 0.7 MB of UTF-8 (under 1 MiB) (strings of 200 000+ units). */
function bigPayload(id) {
  return {
    id,
    text: unicodeString(200000),
    cjk: '汉字'.repeat(50000),
    emoji: '😀'.repeat(25000),
    delims: '\f\n'.repeat(10000),
    deep: deepObject(60),
    list: Array.from({ length: 500 }, (_, i) => ({ i, s: `item ${i} ✓`, odd: i % 2 === 1 })),
    numbers: [0, 1, -1, 1.5, 1e-7, 1e300, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
    empty: { obj: {}, arr: [], str: '' },
    bools: [true, false],
    nil: null,
  };
}

/** A payload whose frame exceeds 1 MiB (node-ipc 9/12 have no frame-size limit). */
function overOneMiBPayload(id) {
  return { id, blob: unicodeString(1000000) }; // ~1.4 MB of UTF-8
}

module.exports = { PIECES, unicodeString, deepObject, bigPayload, overOneMiBPayload };
