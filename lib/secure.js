'use strict';

// node-ipc 14's transport rules: what the assured profile demands of TCP/TLS/UDP and local
// sockets, the TLS option rules of the 14 profiles, and the secure socket root (§2.3, §7.3).
//
// The socket root, decided for a drop-in (README "node-ipc 14 profiles"):
// - `config.socketRoot` keeps node-ipc 9/12's default '/tmp/', whatever the profile, so peers that
//   differ only in profile still meet at the same path.
// - A secure root is wanted when `config.secureSocketRoot` is true, or when it is unset and the
//   profile is assured (which requires one). Then, because '/tmp' is shared by every user and can
//   never be a secure root, the default '/tmp/' stands for node-ipc 14's per-user root
//   ($XDG_RUNTIME_DIR/node-ipc/ or <tmpdir>/node-ipc-<uid>/): the path node-ipc 14 peers use, for
//   servers and clients alike.
// - A local server inside a secure root creates it (mode 0700) if it is missing; an existing root
//   must be a real directory, owned by this user, with no group/other permissions. Anything else
//   is refused with ERR_IPC_SOCKET_ROOT. Unlike node-ipc 14, an existing directory is never
//   chmod'ed (with socketRoot '/tmp/' as root, node-ipc 14 made /tmp owner-only). Those checks
//   run in the Rust core (src/socket_root.rs), shared with the Rust API.

const os = require('node:os');
const path = require('node:path');
const { IPCProtocolError } = require('./errors.js');

const LEGACY_SOCKET_ROOT = '/tmp/';

function codeError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

/** node-ipc 14's default socket root. */
function v14SocketRoot() {
  let user;
  try {
    user = os.userInfo().username;
  } catch {
    user = 'user';
  }
  user = String(user).replace(/[^a-zA-Z0-9_.-]/g, '_');
  if (process.platform === 'win32') return `/node-ipc-${user}/`;
  if (process.env.XDG_RUNTIME_DIR) return path.join(process.env.XDG_RUNTIME_DIR, 'node-ipc') + path.sep;
  const uid = typeof process.getuid === 'function' ? process.getuid() : user;
  return path.join(os.tmpdir(), `node-ipc-${uid}`) + path.sep;
}

/**
 * Whether an endpoint's profile (lib/endpoint.js selectProfile) is assured. As in node-ipc 14, the
 * constructed parser's own `profile` decides (a class's static `profile` does not count), so a
 * custom parser class or object saying 'assured' is held to the assured rules like AssuredParser.
 */
function isAssured(profile) {
  return !profile.legacy && profile.parser.profile === 'assured';
}

/** A secure socket root is wanted: `secureSocketRoot` true, or unset under assured. */
function wantsSecureRoot(config, assured) {
  if (config.secureSocketRoot === undefined) return assured;
  return config.secureSocketRoot === true;
}

/**
 * The root default local paths are built from (see the note at the top), for an endpoint of
 * `profile` (its `_profile`).
 */
function socketRoot(config, profile) {
  const root = config.socketRoot;
  if (root === LEGACY_SOCKET_ROOT && wantsSecureRoot(config, isAssured(profile))) return v14SocketRoot();
  return root;
}

/** Throws the Error (with `code`) for a binding's "CODE|message" refusal. */
function refuse(result) {
  if (!result) return;
  const i = result.indexOf('|');
  const code = result.slice(0, i);
  const message = result.slice(i + 1);
  throw code === 'ERR_IPC_ASSURED_TRANSPORT' ? new IPCProtocolError(code, message) : codeError(code, message);
}

/**
 * Checks before a local server listens (node-ipc 14's order: assured placement, the secure root,
 * the unlink rule), in the Rust core (src/socket_root.rs). Throws IPCProtocolError
 * ERR_IPC_ASSURED_TRANSPORT, or an Error with code ERR_IPC_SOCKET_ROOT / ERR_IPC_UNLINK_NOT_SOCKET.
 * @param {object} server the Server (its `config`, `path`, `_profile`, `_socketRoot`)
 */
function checkLocalServer(server) {
  const config = server.config;
  const p = server._profile;
  const assured = isAssured(p);
  const secure = wantsSecureRoot(config, assured);
  if (p.legacy && !secure) return; // node-ipc 9/12: no checks
  const { binding } = require('./native.js');
  refuse(
    binding.checkLocalServer(String(server._socketRoot), String(server.path), {
      assured,
      secure,
      create: true,
      refuseNonSocket: !p.legacy && !!config.unlink,
    }),
  );
}

function present(value) {
  if (Array.isArray(value)) return value.length > 0;
  return value !== undefined && value !== null && value !== false && value !== '';
}

/**
 * node-ipc 14's TLS option rules for a server: `tls` must be an object with a key and a
 * certificate; a CA makes `requestCert` default to true; `rejectUnauthorized` defaults to true.
 * @returns {{requestCert: boolean, rejectUnauthorized: boolean}} overrides for lib/tls.js's settings
 */
function serverTls(tls) {
  if (!tls || typeof tls !== 'object' || Array.isArray(tls)) {
    throw codeError('ERR_IPC_TLS_CONFIGURATION', 'ipc.config.tls must be an options object');
  }
  if (!(present(tls.key) || present(tls.private)) || !(present(tls.cert) || present(tls.public))) {
    throw codeError('ERR_IPC_TLS_CONFIGURATION', 'a TLS server needs a key and a certificate (tls.key/tls.cert or tls.private/tls.public)');
  }
  const ca = present(tls.ca) || present(tls.trustedConnections);
  const requestCert = tls.requestCert === undefined ? ca : !!tls.requestCert;
  return { requestCert, rejectUnauthorized: tls.rejectUnauthorized !== false };
}

/**
 * The assured rules for TLS settings (lib/tls.js's output, files already read), checked in the
 * Rust core (src/profile.rs): key, certificate, trusted CA, verification on; a server also
 * requests client certificates. Throws ERR_IPC_ASSURED_TLS.
 */
function checkAssuredTls(settings, side) {
  const { binding } = require('./native.js');
  refuse(binding.checkAssuredTls(settings, side === 'server'));
}

/**
 * The assured transport rule for a network client or server (TLS only, never UDP), in the Rust
 * core (src/profile.rs check_assured_network, which the Rust API uses too). Throws
 * ERR_IPC_ASSURED_TRANSPORT.
 */
function checkAssuredNetwork(tls, udp) {
  const { binding } = require('./native.js');
  refuse(binding.checkAssuredNetwork(!!tls, !!udp));
}

/** The assured rule for a network client (TLS), then the shape of its TLS options. */
function checkAssuredClient(tls) {
  checkAssuredNetwork(tls, false);
  if (typeof tls !== 'object' || Array.isArray(tls))
    throw codeError('ERR_IPC_TLS_CONFIGURATION', 'ipc.config.tls must be an options object');
}

/** The assured rules for a network server (no UDP, TLS required). */
function checkAssuredNetServer(server) {
  checkAssuredNetwork(server.config.tls, server.udp4 || server.udp6);
}

module.exports = {
  LEGACY_SOCKET_ROOT,
  v14SocketRoot,
  socketRoot,
  isAssured,
  checkLocalServer,
  serverTls,
  checkAssuredTls,
  checkAssuredClient,
  checkAssuredNetServer,
};
