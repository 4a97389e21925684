//! TLS for the TCP_DATA port of ISO 13400-2:2019 (3496): a rustls server configuration from
//! PEM files, or from a self-signed certificate generated at start (rcgen) when none is given.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// A server configuration and the certificate it presents (clients of a self-signed
/// simulator trust exactly this certificate).
pub struct TlsServer {
    pub config: Arc<ServerConfig>,
    pub certificate: CertificateDer<'static>,
}

/// Errors preparing TLS, naming the file or step.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read TLS certificate `{path}`: {source}")]
    Certificate { path: String, source: rustls::pki_types::pem::Error },
    #[error("cannot read TLS private key `{path}`: {source}")]
    PrivateKey { path: String, source: rustls::pki_types::pem::Error },
    #[error("TLS certificate `{0}` holds no certificate")]
    EmptyChain(String),
    #[error("generating a self-signed certificate failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server for the given PEM certificate chain and key, or a self-signed one for
/// `localhost` / `127.0.0.1` / `::1` when both are `None`.
pub fn server(certificate: Option<&str>, private_key: Option<&str>) -> Result<TlsServer, TlsError> {
    let (chain, key) = match (certificate, private_key) {
        (Some(cert_path), Some(key_path)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|source| TlsError::Certificate { path: cert_path.into(), source })?;
            if chain.is_empty() {
                return Err(TlsError::EmptyChain(cert_path.into()));
            }
            let key = PrivateKeyDer::from_pem_file(key_path)
                .map_err(|source| TlsError::PrivateKey { path: key_path.into(), source })?;
            (chain, key)
        }
        _ => {
            let names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
            let generated = rcgen::generate_simple_self_signed(names)?;
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                generated.signing_key.serialize_der(),
            ));
            (vec![generated.cert.der().clone()], key)
        }
    };
    let certificate = chain[0].clone();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(TlsServer { config: Arc::new(config), certificate })
}
