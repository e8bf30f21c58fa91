//! Page passwords of registry accounts: argon2id PHC strings, hashed and checked by
//! the one implementation the station's operators use too
//! (`ecard_web_guard::password`); the registry's minimum length and words are here.

pub use ecard_web_guard::password::PasswordError;

/// A new password must have at least this many characters.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The Chinese message of a password error.
pub fn message_zh(e: &PasswordError) -> String {
    match e {
        PasswordError::TooShort { min } => format!("口令至少需要{min}个字符"),
        PasswordError::Random => "随机数生成失败".into(),
        PasswordError::Hash(_) | PasswordError::MalformedHash => "口令处理失败".into(),
    }
}

pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    ecard_web_guard::password::hash_password(password, MIN_PASSWORD_CHARS)
}

/// `Ok(false)` for a wrong password; `Err` only when the stored hash is bad.
pub fn verify_password(phc: &str, password: &str) -> Result<bool, PasswordError> {
    ecard_web_guard::password::verify_password(phc, password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_asks_for_ten_characters() {
        assert!(hash_password("correct horse").is_ok());
        assert_eq!(
            hash_password("nine char"),
            Err(PasswordError::TooShort { min: 10 })
        );
        assert_eq!(
            message_zh(&PasswordError::TooShort { min: 10 }),
            "口令至少需要10个字符"
        );
    }
}
