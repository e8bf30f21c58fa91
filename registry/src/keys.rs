//! Secrets on disk: the registry's revocation-list signing key (PKCS#8, generated
//! on first start) and the admin bearer token. Files are created 0600.

use card_profile::pki::{PkiError, SigningKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::io::Write;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a P-256 PKCS#8 key ({0})", .source)]
    Key { path: String, source: PkiError },
    #[error("{0}: the admin token file is empty")]
    EmptyToken(String),
    #[error("random generator failed")]
    Random,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes a new file readable by the owner only; refuses to overwrite.
fn create_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Loads the registry key (of either suite), generating a P-256 one when the file
/// does not exist.
pub fn load_or_generate_key(path: &Path) -> Result<SigningKey, KeyError> {
    load_or_generate_key_in(path, card_profile::suite::Suite::P256)
}

/// Loads the registry key, generating one in `suite` when the file does not exist.
/// The registry's key sets the deployment's suite: stations enrol in the suite of
/// the key they pin (docs/SUITES.md).
pub fn load_or_generate_key_in(
    path: &Path,
    suite: card_profile::suite::Suite,
) -> Result<SigningKey, KeyError> {
    let key_err = |source| KeyError::Key {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => SigningKey::from_pkcs8_any(&bytes).map_err(key_err),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate_in(suite).map_err(key_err)?;
            create_private(path, key.pkcs8())?;
            Ok(key)
        }
        Err(e) => Err(io(path)(e)),
    }
}

/// A fresh bearer token: 32 random bytes, hex.
pub fn new_token() -> Result<String, KeyError> {
    let mut b = [0u8; 32];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| KeyError::Random)?;
    Ok(hex::encode(b))
}

/// What is stored for a token: its SHA-256, hex.
pub fn token_digest(token: &str) -> String {
    hex::encode(card_profile::pki::sha256(token.trim().as_bytes()))
}

/// Loads the admin token, creating a random one when the file does not exist.
pub fn load_or_create_admin_token(path: &Path) -> Result<String, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(t) if t.trim().is_empty() => Err(KeyError::EmptyToken(path.display().to_string())),
        Ok(t) => Ok(t.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = new_token()?;
            create_private(path, format!("{token}\n").as_bytes())?;
            Ok(token)
        }
        Err(e) => Err(io(path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_generated_once_then_loaded() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("registry.key");
        let a = load_or_generate_key(&p).expect("generate");
        let b = load_or_generate_key(&p).expect("load");
        assert_eq!(a.public_key(), b.public_key());
        std::fs::write(&p, b"junk").expect("write");
        assert!(matches!(
            load_or_generate_key(&p),
            Err(KeyError::Key { .. })
        ));
    }

    #[test]
    fn admin_token_is_created_once() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("admin.token");
        let a = load_or_create_admin_token(&p).expect("create");
        assert_eq!(load_or_create_admin_token(&p).expect("load"), a);
        assert_eq!(token_digest(&a), token_digest(&format!("{a}\n")));
    }
}
