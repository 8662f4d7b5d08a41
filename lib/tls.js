'use strict';

// node-ipc's config.tls -> the PEM contents the addon's rustls layer takes. node-ipc reads file
// paths (`private`, `public`, `trustedConnections`, `dhparam`); node-ipc 14 also takes inline
// `key`/`cert`/`ca`. config.tls is never modified (node-ipc 9/12 wrote key/cert/ca/host/port into it).

const fs = require('node:fs');

function pem(value) {
  if (value === undefined || value === null || value === false) return undefined;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  return Buffer.from(String(value));
}

function list(value) {
  if (value === undefined || value === null || value === false) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * @param {object} tls config.tls
 * @param {'client'|'server'} side
 * @returns {object} settings for the addon
 * @throws Error with code (ENOENT, ...) if a file cannot be read
 */
function tlsSettings(tls, side) {
  const ca = [];
  for (const c of list(tls.ca)) ca.push(pem(c));
  for (const p of list(tls.trustedConnections)) ca.push(fs.readFileSync(p));
  const key = tls.private ? fs.readFileSync(tls.private) : pem(tls.key);
  const cert = tls.public ? fs.readFileSync(tls.public) : pem(tls.cert);
  return {
    ca,
    key,
    cert,
    // Node's default: verify, unless explicitly turned off.
    rejectUnauthorized: tls.rejectUnauthorized !== false,
    requestCert: side === 'server' && !!tls.requestCert,
    servername: side === 'client' && typeof tls.servername === 'string' ? tls.servername : undefined,
  };
}

module.exports = { tlsSettings };
