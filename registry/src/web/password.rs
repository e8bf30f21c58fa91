//! Page passwords of registry accounts: argon2id PHC strings with the argon2
//! crate's defaults (the OWASP minimum), as the station stores its operators'.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;

/// A new password must have at least this many characters (as at the station).
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, Error)]
pub enum PasswordError {
    #[error("password shorter than {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("random generator failed")]
    Random,
    #[error("hashing failed: {0}")]
    Hash(String),
    #[error("stored password hash is not argon2id")]
    MalformedHash,
}

impl PasswordError {
    pub fn message_zh(&self) -> String {
        match self {
            PasswordError::TooShort => format!("口令至少需要{MIN_PASSWORD_CHARS}个字符"),
            PasswordError::Random => "随机数生成失败".into(),
            PasswordError::Hash(_) | PasswordError::MalformedHash => "口令处理失败".into(),
        }
    }
}

pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| PasswordError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?
        .to_string())
}

/// `Ok(false)` for a wrong password; `Err` only when the stored hash is bad.
pub fn verify_password(phc: &str, password: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(PasswordError::MalformedHash);
    }
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(_) => Err(PasswordError::MalformedHash),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_short_ones_are_refused() {
        let phc = hash_password("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password(&phc, "correct horse").expect("verify"));
        assert!(!verify_password(&phc, "wrong horse!").expect("verify"));
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
    }
}
