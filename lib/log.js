'use strict';

const util = require('node:util');

// ipc.log: objects are util.inspect-ed with the live logDepth/logInColor, everything is joined with
// spaces and handed to config.logger as one string; nothing at all when config.silent.
function makeLog(config) {
  return function log(...args) {
    if (config.silent) return;
    const parts = new Array(args.length);
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg === 'object') {
        parts[i] = util.inspect(arg, { depth: config.logDepth, colors: config.logInColor });
      } else {
        parts[i] = arg === undefined ? '' : String(arg);
      }
    }
    config.logger(parts.join(' '));
  };
}

module.exports = { makeLog };
