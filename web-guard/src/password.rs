//! Login passwords as argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`)
//! with the argon2 crate's defaults, the OWASP minimum: one implementation for the
//! station's operators and the registry's accounts. Each caller states its own
//! minimum length (counted in Unicode scalar values) and maps the error to its
//! own codes and words.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use ring::rand::{SecureRandom, SystemRandom};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password shorter than {min} characters")]
    TooShort { min: usize },
    #[error("system random number generator failed")]
    Random,
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The stored PHC string cannot be parsed or is not argon2id.
    #[error("stored password hash is malformed")]
    MalformedHash,
}

/// Hashes a new password of at least `min_chars` characters.
pub fn hash_password(password: &str, min_chars: usize) -> Result<String, PasswordError> {
    if password.chars().count() < min_chars {
        return Err(PasswordError::TooShort { min: min_chars });
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

/// Checks `password` against a stored argon2id PHC string: `Ok(false)` for a
/// wrong password, `Err` only when the stored hash itself is bad (another
/// algorithm included: an argon2i hash is not accepted).
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
        let phc = hash_password("correct horse", 10).expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(verify_password(&phc, "correct horse"), Ok(true));
        assert_eq!(verify_password(&phc, "wrong horse!"), Ok(false));
        assert_eq!(
            hash_password("短口令", 8),
            Err(PasswordError::TooShort { min: 8 })
        );
        let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$3Rmn0R7FaD+pL8JRN8Ok7A";
        assert_eq!(
            verify_password(argon2i, "x"),
            Err(PasswordError::MalformedHash)
        );
        assert_eq!(
            verify_password("not a hash", "x"),
            Err(PasswordError::MalformedHash)
        );
    }
}
