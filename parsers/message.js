'use strict';

// node-ipc-rs/parsers/message: node-ipc 14's `node-ipc/parsers/message`. MessageParser frames like
// the fast profile but decodes like js-message: a malformed frame becomes an `error` message
// ({message: 'Invalid JSON response format', err, response}) instead of closing the connection.

const { MessageParser } = require('../lib/parsers.js');

module.exports = { MessageParser };
Object.defineProperty(module.exports, 'default', { value: MessageParser, enumerable: false });
Object.defineProperty(module.exports, '__esModule', { value: true, enumerable: false });
