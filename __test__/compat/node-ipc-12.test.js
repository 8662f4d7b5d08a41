'use strict';

// Interop with real node-ipc@12.0.0: its server with our clients and our server with its
// clients, over Unix sockets and TCP. The tests are in interop.js; implementations in impls.js.

const { after } = require('node:test');
const { NODE_IPC_12 } = require('./impls.js');
const { defineInteropSuite } = require('./interop.js');
const { exitGuard } = require('./helpers.js');

defineInteropSuite(NODE_IPC_12);

after(() => exitGuard());
