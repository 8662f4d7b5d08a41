//! Options JS passes in (framing, TLS, listen settings) and what the binding makes of them.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use node_ipc_rs::codec::FrameDecoder;
use node_ipc_rs::tls;

/// TLS for a connection: a client session to verify `server_name`, or a server session.
#[derive(Clone)]
pub(crate) enum TlsMode {
    Client(Arc<rustls::ClientConfig>, rustls::pki_types::ServerName<'static>),
    Server(Arc<rustls::ServerConfig>),
}

impl TlsMode {
    pub(crate) fn session(&self) -> std::result::Result<rustls::Connection, rustls::Error> {
        Ok(match self {
            TlsMode::Client(cfg, name) => rustls::ClientConnection::new(cfg.clone(), name.clone())?.into(),
            TlsMode::Server(cfg) => rustls::ServerConnection::new(cfg.clone())?.into(),
        })
    }
}

#[derive(Clone)]
pub(crate) struct ConnOpts {
    /// Frame delimiter bytes.
    pub(crate) delimiter: Vec<u8>,
    /// Raw mode: no framing.
    pub(crate) raw: bool,
    /// Frame limit in bytes.
    pub(crate) max_frame: Option<usize>,
    /// How long an unfinished frame may wait (node-ipc 14's `messageTimeout`).
    pub(crate) message_timeout: Option<Duration>,
    /// TLS session settings, if encrypted.
    pub(crate) tls: Option<TlsMode>,
}

impl ConnOpts {
    pub(crate) fn decoder(&self) -> Option<FrameDecoder> {
        (!self.raw).then(|| FrameDecoder::new(&self.delimiter, self.max_frame))
    }
}

/// Options for a socket's framing.
#[napi(object)]
pub struct SocketOptions {
    /// Frame delimiter (non-empty).
    pub delimiter: String,
    /// Raw mode: no framing, bytes are delivered as read.
    pub raw: bool,
    /// Largest accepted frame in bytes (delimiter excluded); absent for no limit.
    pub max_frame: Option<f64>,
    /// Milliseconds an unfinished frame may wait before the connection is dropped with
    /// `ERR_IPC_MESSAGE_TIMEOUT` (node-ipc 14's `messageTimeout`); absent or 0 for no limit.
    pub message_timeout: Option<f64>,
    /// TLS settings; absent for plain sockets.
    pub tls: Option<TlsSettings>,
    /// Client: local address to bind before connecting (TCP).
    pub local_address: Option<String>,
    /// Client: local port to bind before connecting (TCP).
    pub local_port: Option<u32>,
}

/// TLS settings as PEM contents (the JS layer reads node-ipc's file paths).
#[napi(object)]
pub struct TlsSettings {
    /// Trusted CA certificates.
    pub ca: Vec<Buffer>,
    /// Certificate chain of this endpoint.
    pub cert: Option<Buffer>,
    /// Private key of this endpoint.
    pub key: Option<Buffer>,
    /// Verify the peer.
    pub reject_unauthorized: bool,
    /// Server: ask clients for certificates.
    pub request_cert: bool,
    /// Client: name to verify (defaults to the host).
    pub servername: Option<String>,
}

pub(crate) fn tls_options(t: &TlsSettings) -> tls::TlsOptions {
    tls::TlsOptions {
        ca: t.ca.iter().map(|b| b.to_vec()).collect(),
        cert: t.cert.as_ref().map(|b| b.to_vec()),
        key: t.key.as_ref().map(|b| b.to_vec()),
        reject_unauthorized: t.reject_unauthorized,
        request_cert: t.request_cert,
        servername: t.servername.clone(),
    }
}

/// Options for a listening server.
#[napi(object)]
pub struct ServerOptions {
    /// Remove a stale socket file at the path first.
    pub unlink: bool,
    /// Make the socket file readable by all users.
    pub readable_all: bool,
    /// Make the socket file writable by all users.
    pub writable_all: bool,
    /// Connections above this are accepted and closed at once.
    pub max_connections: f64,
    /// Framing of accepted connections.
    pub socket: SocketOptions,
}

/// A TCP address.
#[napi(object)]
pub struct AddressInfo {
    pub address: String,
    pub port: u32,
    pub family: String,
}

/// Framing and, for TLS, the session settings. `host` is the peer's host for a client, as the user
/// gave it (a name is not replaced by the address it resolved to), `None` for a server. A client
/// verifies `tls.servername` when set, else `host`, and sends it as SNI when it is a name (for
/// either transport, as Node's tls.connect does).
pub(crate) fn conn_opts(o: &SocketOptions, host: Option<&str>) -> std::result::Result<ConnOpts, String> {
    if o.delimiter.is_empty() {
        return Err("EINVAL".into());
    }
    let tls = match &o.tls {
        None => None,
        Some(t) => {
            let opts = tls_options(t);
            let cfg_err = |e: tls::TlsConfigError| format!("{}|{}", e.code(), e);
            Some(match host {
                Some(host) => {
                    let name = opts.servername.clone().unwrap_or_else(|| host.to_string());
                    TlsMode::Client(
                        tls::client_config(&opts).map_err(cfg_err)?,
                        tls::server_name(&name).map_err(cfg_err)?,
                    )
                }
                None => TlsMode::Server(tls::server_config(&opts).map_err(cfg_err)?),
            })
        }
    };
    Ok(ConnOpts {
        delimiter: o.delimiter.clone().into_bytes(),
        raw: o.raw,
        max_frame: o.max_frame.filter(|m| m.is_finite() && *m >= 0.0).map(|m| m as usize),
        message_timeout: o
            .message_timeout
            .filter(|m| m.is_finite() && *m > 0.0)
            .map(|m| Duration::from_micros((m * 1000.0) as u64)),
        tls,
    })
}
