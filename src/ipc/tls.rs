//! TLS for the async API: node-ipc's `config.tls` (file paths or inline PEM) turned into rustls
//! configurations by [`crate::tls`], and the tokio-rustls streams built on them.

use std::path::PathBuf;

use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::{Error, Result};
use crate::tls::{self as rtls, TlsOptions};

/// TLS settings, named like node-ipc's `config.tls` ([`Config::tls`](super::Config::tls)).
///
/// Certificates and keys come from files (`private`, `public`, `trusted_connections`, as in
/// node-ipc) and/or inline PEM (`key`, `cert`, `ca`, as in node-ipc 14 and Node's `tls`); a file
/// wins over inline PEM for the key and the certificate, and trusted files are added to `ca`.
/// Files are read when the server starts or the client is created.
///
/// Verification is on by default, as in Node: a client checks that the server's certificate chains
/// to `ca`/`trusted_connections` (the Mozilla roots when both are empty) and matches the host name
/// or IP address connected to (or `servername`). A server with `request_cert` requires a client
/// certificate signed by its CAs (mutual TLS). `reject_unauthorized: false` turns verification off.
///
/// ```
/// use node_ipc_rs::ipc::TlsConfig;
///
/// let server = TlsConfig {
///     private: Some("server.key".into()),
///     public: Some("server.pem".into()),
///     ..TlsConfig::default()
/// };
/// let client = TlsConfig { trusted_connections: vec!["ca.pem".into()], ..TlsConfig::default() };
/// assert!(server.reject_unauthorized && client.reject_unauthorized); // Node's default
/// assert!(client.options().is_err()); // the file does not exist here: ENOENT
/// let insecure = TlsConfig { reject_unauthorized: false, ..TlsConfig::default() };
/// assert!(insecure.options().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// `private`: path of this endpoint's private key (PEM).
    pub private: Option<PathBuf>,
    /// `public`: path of this endpoint's certificate chain (PEM).
    pub public: Option<PathBuf>,
    /// `trustedConnections`: paths of trusted CA certificates (PEM).
    pub trusted_connections: Vec<PathBuf>,
    /// `key`: inline private key (PEM), used when `private` is not set.
    pub key: Option<Vec<u8>>,
    /// `cert`: inline certificate chain (PEM), used when `public` is not set.
    pub cert: Option<Vec<u8>>,
    /// `ca`: inline trusted CA certificates (PEM).
    pub ca: Vec<Vec<u8>>,
    /// `rejectUnauthorized`: verify the peer (default `true`).
    pub reject_unauthorized: bool,
    /// `requestCert` (server): ask clients for a certificate; with `reject_unauthorized`, require
    /// one signed by `ca`/`trusted_connections`, without it take any certificate or none (Node).
    pub request_cert: bool,
    /// `servername` (client): the name to verify instead of the host connected to.
    pub servername: Option<String>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            private: None,
            public: None,
            trusted_connections: Vec::new(),
            key: None,
            cert: None,
            ca: Vec::new(),
            reject_unauthorized: true,
            request_cert: false,
            servername: None,
        }
    }
}

impl From<TlsOptions> for TlsConfig {
    fn from(o: TlsOptions) -> Self {
        TlsConfig {
            key: o.key,
            cert: o.cert,
            ca: o.ca,
            reject_unauthorized: o.reject_unauthorized,
            request_cert: o.request_cert,
            servername: o.servername,
            ..TlsConfig::default()
        }
    }
}

impl TlsConfig {
    /// Reads the files and returns the PEM contents as [`TlsOptions`] (what [`crate::tls`] takes).
    /// Fails with [`Error::Io`] (`ENOENT`, …) when a file cannot be read.
    pub fn options(&self) -> Result<TlsOptions> {
        // The error keeps its errno, so `code()` is `ENOENT` etc. as in JS.
        let read = |p: &PathBuf| std::fs::read(p).map_err(Error::Io);
        let mut ca = self.ca.clone();
        for p in &self.trusted_connections {
            ca.push(read(p)?);
        }
        let key = match &self.private {
            Some(p) => Some(read(p)?),
            None => self.key.clone(),
        };
        let cert = match &self.public {
            Some(p) => Some(read(p)?),
            None => self.cert.clone(),
        };
        Ok(TlsOptions {
            ca,
            cert,
            key,
            reject_unauthorized: self.reject_unauthorized,
            request_cert: self.request_cert,
            servername: self.servername.clone(),
        })
    }
}

/// A client's TLS side from settings already read ([`TlsConfig::options`]).
pub(crate) fn connector(opts: TlsOptions) -> Result<ClientTls> {
    let config = rtls::client_config(&opts).map_err(Error::TlsConfig)?;
    Ok(ClientTls { connector: TlsConnector::from(config), servername: opts.servername })
}

/// A server's TLS side from settings already read ([`TlsConfig::options`]).
pub(crate) fn acceptor(opts: &TlsOptions) -> Result<TlsAcceptor> {
    let config = rtls::server_config(opts).map_err(Error::TlsConfig)?;
    Ok(TlsAcceptor::from(config))
}

/// A client's prepared TLS side.
#[derive(Clone)]
pub(crate) struct ClientTls {
    connector: TlsConnector,
    servername: Option<String>,
}

impl ClientTls {
    /// The handshake over a connected socket; `host` is the name or address connected to.
    pub(crate) async fn connect(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let name = rtls::server_name(self.servername.as_deref().unwrap_or(host)).map_err(Error::TlsConfig)?;
        Ok(self.connector.connect(name, tcp).await?)
    }
}

/// Node's code for a rustls error: see [`crate::tls::error_code`].
pub(crate) fn from_rustls(error: rustls::Error) -> Error {
    Error::Tls { code: rtls::error_code(&error), error }
}

/// The rustls error inside an I/O error from tokio-rustls, if that is what it is.
pub(crate) fn take_rustls(e: std::io::Error) -> std::result::Result<rustls::Error, std::io::Error> {
    if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) {
        let inner = e.into_inner().expect("checked");
        return Ok(*inner.downcast::<rustls::Error>().expect("checked"));
    }
    Err(e)
}
