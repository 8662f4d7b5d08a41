'use strict';

// The profile rules against the shared fixture (tests/fixtures/profile_cases.json), which
// `cargo test --test profile` runs against src/profile.rs too: one table, two implementations.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, protocolCode: codeOf } = require('./helpers.js');
const { eventNameError, messageError, messageOk, checkSize } = require('../lib/profile.js');
const { createParser } = require('../lib/parsers.js');
const { Defaults } = require('../lib/config.js');

const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'profile_cases.json'), 'utf8'));

const value = (v) => (v !== null && typeof v === 'object' && 'repeat' in v ? v.repeat.repeat(v.times) : v);
const infinities = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === 'Infinity' ? Infinity : v]));

function parserFor(config) {
  return createParser(Object.assign(new Defaults(), infinities(config)));
}

test('event names: lib/profile.js and the parsers agree with the fixture', () => {
  for (const c of fixture.names) {
    const parser = parserFor(fixture.configs[c.config]);
    const type = value(c.type);
    const err = eventNameError(parser, type);
    assert.equal(err && err.code, c.code, `${c.config} ${JSON.stringify(c.type)}`);
    // The send side: encode throws the same code (and nothing else is checked first).
    assert.equal(
      codeOf(() => parser.encode(type, 1)),
      c.code,
      `encode ${c.config} ${JSON.stringify(c.type)}`,
    );
    assert.equal(messageOk(parser, { type, data: 1 }), c.code === null);
  }
});

test('frames: JSON, envelope and names, batch check and per-frame check agree', () => {
  for (const c of fixture.frames) {
    const config = fixture.configs[c.config];
    const parser = parserFor(config);
    const rules = config.parser === 'fast' ? null : parser;
    let code;
    let msg;
    try {
      msg = JSON.parse(c.frame);
      const err = messageError(rules, msg);
      code = err && err.code;
    } catch {
      code = 'ERR_IPC_INVALID_JSON';
    }
    assert.equal(code, c.code, `${c.config} ${c.frame}`);
    if (code !== 'ERR_IPC_INVALID_JSON') assert.equal(messageOk(rules, msg), c.code === null, `messageOk ${c.frame}`);
    // The parser's own read() (used by custom subclasses and UDP) decides the same.
    const got = [];
    const readCode = codeOf(() => parser.read('', `${c.frame}\f`, (m) => got.push(m)));
    if (config.parser === 'fast') {
      // fast's read only parses; the envelope check happens where the message is dispatched.
      const expect = c.code === 'ERR_IPC_INVALID_JSON' ? c.code : null;
      assert.equal(readCode, expect, `fast read ${c.frame}`);
      if (readCode === null) assert.equal(messageError(null, got[0])?.code ?? null, c.code);
    } else {
      assert.equal(readCode, c.code, `read ${c.config} ${c.frame}`);
    }
  }
});

test('sizes: UTF-8 bytes against maxMessageSize, equal accepted, frames and remainders', () => {
  for (const c of fixture.sizes) {
    const text = value(c.text);
    const parser = parserFor({ parser: 'guarded', maxMessageSize: c.maxMessageSize });
    assert.equal(
      codeOf(() => checkSize(text, c.maxMessageSize)),
      c.code,
      `${text.length} units, max ${c.maxMessageSize}`,
    );
    assert.equal(
      codeOf(() => parser.push('', `${text}\f`)),
      c.code,
      'complete frame',
    );
    assert.equal(
      codeOf(() => parser.push('', text)),
      c.code,
      'remainder',
    );
  }
});

test('limits: positive integers or Infinity, messageTimeout may be 0, assured needs allowedEvents', () => {
  for (const c of fixture.limits) {
    let ok = true;
    try {
      parserFor(c.config);
    } catch (err) {
      assert.ok(err instanceof TypeError, String(err));
      ok = false;
    }
    assert.equal(ok, c.ok, JSON.stringify(c.config));
  }
});
