//! TLS with rustls (no OpenSSL), configured the way node-ipc users configure Node's `tls`.
//!
//! Certificates and keys are PEM. Verification is on by default: the server's certificate must
//! chain to the given CAs (or, with none given, to the Mozilla roots Node also ships) and match the
//! host name or IP address connected to. `reject_unauthorized: false` turns verification off, and
//! only when the user asks for it. A server asked to `request_cert` with `reject_unauthorized`
//! requires a client certificate signed by one of its CAs (mutual TLS); without
//! `reject_unauthorized` it asks for one and takes any (or none), as Node does.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::DistinguishedName;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

/// TLS settings for one endpoint (PEM contents, not paths).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Trusted CA certificates (each may hold several PEM certificates).
    pub ca: Vec<Vec<u8>>,
    /// This endpoint's certificate chain.
    pub cert: Option<Vec<u8>>,
    /// This endpoint's private key.
    pub key: Option<Vec<u8>>,
    /// Verify the peer (default true, as in Node).
    pub reject_unauthorized: bool,
    /// Server: ask clients for a certificate.
    pub request_cert: bool,
    /// Client: the name to verify (defaults to the host connected to).
    pub servername: Option<String>,
}

/// A configuration problem, reported before any connection is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfigError(pub String);

impl std::fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsConfigError {}

impl TlsConfigError {
    /// node-ipc 14's code for TLS configuration errors.
    pub fn code(&self) -> &'static str {
        "ERR_IPC_TLS_CONFIGURATION"
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let list: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsConfigError(format!("{what}: not a PEM certificate ({e})")))?;
    if list.is_empty() {
        return Err(TlsConfigError(format!("{what}: no PEM certificate found")));
    }
    Ok(list)
}

fn key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsConfigError(format!("key: not a PEM private key ({e})")))
}

fn roots(opts: &TlsOptions) -> Result<RootCertStore, TlsConfigError> {
    let mut store = RootCertStore::empty();
    if opts.ca.is_empty() {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(store);
    }
    for pem in &opts.ca {
        for cert in certs(pem, "ca")? {
            store.add(cert).map_err(|e| TlsConfigError(format!("ca: {e}")))?;
        }
    }
    Ok(store)
}

/// Client configuration.
pub fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError(e.to_string()))?;
    let builder = if opts.reject_unauthorized {
        builder.with_root_certificates(roots(opts)?)
    } else {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider())))
    };
    let config = match (&opts.cert, &opts.key) {
        (Some(c), Some(k)) => builder
            .with_client_auth_cert(certs(c, "cert")?, key(k)?)
            .map_err(|e| TlsConfigError(format!("cert/key: {e}")))?,
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsConfigError("a client certificate needs both cert and key".into())),
    };
    Ok(Arc::new(config))
}

/// Server configuration. Requires a certificate and key (no bundled fallback).
pub fn server_config(opts: &TlsOptions) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let (Some(cert), Some(k)) = (&opts.cert, &opts.key) else {
        return Err(TlsConfigError(
            "a TLS server needs a certificate and a private key (tls.public/tls.private or tls.cert/tls.key)".into(),
        ));
    };
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError(e.to_string()))?;
    let builder = if opts.request_cert && !opts.reject_unauthorized {
        // Node: the certificate is asked for, and any certificate (or none) is accepted.
        builder.with_client_cert_verifier(Arc::new(AcceptAnyClient(provider())))
    } else if opts.request_cert {
        if opts.ca.is_empty() {
            return Err(TlsConfigError(
                "requestCert needs the CAs that sign client certificates (tls.ca or tls.trustedConnections)".into(),
            ));
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(opts)?), provider());
        builder.with_client_cert_verifier(verifier.build().map_err(|e| TlsConfigError(format!("ca: {e}")))?)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(certs(cert, "cert")?, key(k)?)
        .map_err(|e| TlsConfigError(format!("cert/key: {e}")))?;
    Ok(Arc::new(config))
}

/// The name to verify for a connection to `host`.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsConfigError> {
    ServerName::try_from(host.to_string()).map_err(|_| TlsConfigError(format!("invalid server name {host:?}")))
}

/// Node's code for a TLS failure (OpenSSL's names where Node uses them).
pub fn error_code(e: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match e {
        E::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => "CERT_HAS_EXPIRED".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "CERT_NOT_YET_VALID".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => "ERR_TLS_CERT_ALTNAME_INVALID".into(),
            C::UnknownIssuer => "UNABLE_TO_VERIFY_LEAF_SIGNATURE".into(),
            C::BadSignature => "CERT_SIGNATURE_FAILURE".into(),
            C::Revoked => "CERT_REVOKED".into(),
            _ => "ERR_TLS_CERT_INVALID".into(),
        },
        E::NoCertificatesPresented => "ERR_TLS_PEER_CERTIFICATE_REQUIRED".into(),
        E::AlertReceived(a) => match a {
            A::CertificateRequired => "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED".into(),
            A::BadCertificate => "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE".into(),
            A::UnknownCA => "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA".into(),
            A::HandshakeFailure => "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE".into(),
            A::DecryptError => "ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR".into(),
            other => format!("ERR_SSL_ALERT_{}", format!("{other:?}").to_uppercase()),
        },
        _ => "ERR_TLS_HANDSHAKE".into(),
    }
}

/// The handshake-signature methods both verifiers share: whatever the certificate, the peer must
/// prove it holds its key, checked with the provider's algorithms (`self.0`).
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    };
}

/// `rejectUnauthorized: false`: any server certificate is accepted (signatures are still checked
/// so the handshake is well-formed).
#[derive(Debug)]
struct AcceptAnyServer(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    handshake_signatures!();
}

/// A server's `requestCert` with `rejectUnauthorized: false`: a client certificate is asked for and
/// any certificate, or none, is accepted, as in Node (the client must still prove it holds the
/// key of the certificate it sends).
#[derive(Debug)]
struct AcceptAnyClient(Arc<rustls::crypto::CryptoProvider>);

impl ClientCertVerifier for AcceptAnyClient {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    handshake_signatures!();
}
