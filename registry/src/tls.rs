//! The registry's TLS: a certificate and key in PEM files, made self-signed (rcgen,
//! ECDSA P-256) on first start when absent. Stations do not trust it through any
//! certificate authority: they pin its SHA-256 (printed at start-up, given to each
//! station's operator at enrolment), so a self-signed certificate is as good as any
//! and a replaced one is refused until stations are told the new pin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;
use tokio_rustls::rustls;

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Names and addresses written into a generated certificate (informational:
    /// stations check the pin, not the name).
    pub names: Vec<String>,
}

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Pem { path: String, reason: String },
    #[error("cannot make a certificate: {0}")]
    Generate(String),
    #[error("TLS configuration refused: {0}")]
    Config(String),
}

pub struct Loaded {
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the certificate's DER: what stations pin.
    pub fingerprint: [u8; 32],
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The one PEM block of `tag` in the file.
fn pem_block(path: &Path, tags: &[&str]) -> Result<Vec<u8>, TlsError> {
    let text = std::fs::read(path).map_err(io(path))?;
    let blocks = pem::parse_many(&text).map_err(|e| TlsError::Pem {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    blocks
        .into_iter()
        .find(|b| tags.contains(&b.tag()))
        .map(|b| b.into_contents())
        .ok_or_else(|| TlsError::Pem {
            path: path.display().to_string(),
            reason: format!("no {} block", tags.join(" or ")),
        })
}

fn write_private(path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// The SHA-256 of a PEM certificate file's DER: the pin stations enrol with.
pub fn pin_of(cert: &Path) -> Result<[u8; 32], TlsError> {
    Ok(card_profile::pki::sha256(&pem_block(
        cert,
        &["CERTIFICATE"],
    )?))
}

/// Loads the certificate and key, generating both when neither file exists.
pub fn load_or_generate(files: &TlsFiles) -> Result<Loaded, TlsError> {
    if !files.cert.exists() && !files.key.exists() {
        let made = rcgen::generate_simple_self_signed(files.names.clone())
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        write_private(&files.key, made.key_pair.serialize_pem().as_bytes(), true)?;
        write_private(&files.cert, made.cert.pem().as_bytes(), false)?;
    }
    let cert = pem_block(&files.cert, &["CERTIFICATE"])?;
    let key = pem_block(&files.key, &["PRIVATE KEY"])?;
    let fingerprint = card_profile::pki::sha256(&cert);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(cert)],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
        )
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Loaded {
        config: Arc::new(config),
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_made_once_then_loaded_with_the_same_pin() {
        let dir = tempfile::tempdir().expect("dir");
        let files = TlsFiles {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
            names: vec!["localhost".into(), "127.0.0.1".into()],
        };
        let a = load_or_generate(&files).expect("generate");
        let b = load_or_generate(&files).expect("load");
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(pin_of(&files.cert).expect("pin"), a.fingerprint);
        std::fs::write(&files.cert, b"junk").expect("write");
        assert!(matches!(
            load_or_generate(&files),
            Err(TlsError::Pem { .. })
        ));
    }
}
