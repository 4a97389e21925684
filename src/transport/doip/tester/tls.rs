//! TLS for DoIP on port 3496 (ISO 13400-2:2019 §9.1.1). A conformance tester talks to
//! entities whose certificates are self-signed or from an OEM PKI it does not hold, so the
//! harness checks that the handshake works but does not judge the certificate chain.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// Accepts any server certificate but still verifies the handshake signatures with it.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
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

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The client configuration every TLS connection of a run uses; `key_log` receives each
/// session's secrets (`--tls-keylog`, [`KeyLogFile`]).
pub fn client_config(
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    if let Some(key_log) = key_log {
        config.key_log = key_log;
    }
    Ok(Arc::new(config))
}

/// `--tls-keylog FILE`: every TLS session's secrets appended to FILE in the NSS key-log format
/// (one `LABEL CLIENT_RANDOM SECRET` line each, as `SSLKEYLOGFILE` writers do), for Wireshark to
/// decrypt the user's own recordings. The file is named on the command line, never taken from
/// the environment.
#[derive(Debug)]
pub struct KeyLogFile {
    path: std::path::PathBuf,
    file: std::sync::Mutex<std::fs::File>,
    /// The first write that failed (rustls's `KeyLog` cannot return it): said after the run.
    error: std::sync::Mutex<Option<String>>,
}

impl KeyLogFile {
    /// Opens `path` for appending (creating it): a failure is the command's usage error.
    pub fn open(path: &std::path::Path) -> Result<KeyLogFile, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("--tls-keylog `{}`: {e}", path.display()))?;
        Ok(KeyLogFile {
            path: path.to_owned(),
            file: std::sync::Mutex::new(file),
            error: std::sync::Mutex::new(None),
        })
    }

    /// The first write that failed, with the file's name.
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        use std::io::Write;
        let line = format!("{}\n", super::tap::nss_key_log_line(label, client_random, secret));
        // One write per line, so lines of connections in parallel never interleave.
        let written = match self.file.lock() {
            Ok(mut f) => f.write_all(line.as_bytes()).map_err(|e| e.to_string()),
            Err(_) => Err("a writer panicked".to_owned()),
        };
        if let (Err(e), Ok(mut first)) = (written, self.error.lock()) {
            first.get_or_insert(format!("--tls-keylog `{}`: {e}", self.path.display()));
        }
    }
}
