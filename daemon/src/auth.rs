//! Operator passwords, session tokens and roles.
//!
//! Passwords are stored as argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`)
//! with the argon2 crate's defaults, which are the OWASP minimum. A new password must
//! have at least [`MIN_PASSWORD_CHARS`] characters (counted as Unicode scalar values,
//! so `执法证管理员口令` is 8). The policy is checked when a password is *set*
//! ([`hash_password`]); [`verify_password`] checks any stored hash.
//!
//! Sessions: a token is 32 random bytes from the system RNG, hex-encoded (64 chars),
//! handed to the browser in a cookie. The database stores only its SHA-256
//! ([`token_digest`]), so a leaked database does not yield live sessions. A
//! [`SessionToken`] is zeroized on drop and its `Debug` shows only a short prefix.
//!
//! Roles and what they may do (the only source of truth is [`Role::allows`]; the
//! tests hold this table verbatim):
//!
//! | Permission      | Issuer 制证员 | Reviewer 年审员 | Inspector 检查员 | Admin 管理员 |
//! |-----------------|:------------:|:--------------:|:---------------:|:-----------:|
//! | ReadReaders     | ✓ | ✓ | ✓ | ✓ |
//! | Issue           | ✓ |   |   | ✓ |
//! | Verify          | ✓ | ✓ | ✓ | ✓ |
//! | Review          |   | ✓ |   | ✓ |
//! | ChangeStatus    | ✓ |   |   | ✓ |
//! | Import          | ✓ |   |   | ✓ |
//! | ViewRecords     | ✓ | ✓ |   | ✓ |
//! | ManageKeys      |   |   |   | ✓ |
//! | ManageOperators |   |   |   | ✓ |
//! | ManageTrust     |   |   |   | ✓ |
//! | Sync            |   |   |   | ✓ |
//! | ViewAudit       |   |   |   | ✓ |
//! | DecideCorrections |   | ✓ |   | ✓ |
//!
//! ChangeStatus covers suspend / lift / cancel / replace / re-issue; Import is the
//! roster spreadsheet import; Sync is a manual push/pull with the registry;
//! DecideCorrections approves or rejects a correction of a certified officer's
//! record that an import brought (never the operator who imported it).

use std::fmt;

use ecard_web_guard::password::PasswordError;
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// Minimum length of a new operator password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Length of a session token in bytes before hex encoding.
pub const SESSION_TOKEN_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("password shorter than {min} characters")]
    PasswordTooShort { min: usize },
    /// The stored PHC string cannot be parsed or is not argon2id.
    #[error("stored password hash is malformed")]
    MalformedHash,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("system random number generator failed")]
    Random,
    #[error("malformed session token")]
    MalformedToken,
}

impl AuthError {
    /// Stable machine code for the API's `{code, message}`.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::PasswordTooShort { .. } => "password_too_short",
            AuthError::MalformedHash => "password_hash_malformed",
            AuthError::Hash(_) => "password_hash_failed",
            AuthError::Random => "random_failed",
            AuthError::MalformedToken => "session_invalid",
        }
    }

    /// User-facing message (zh-CN).
    pub fn message_zh(&self) -> String {
        match self {
            AuthError::PasswordTooShort { min } => format!("密码至少需要 {min} 个字符"),
            AuthError::MalformedHash => "账户密码数据已损坏，请联系管理员重置密码".into(),
            AuthError::Hash(_) => "密码处理失败".into(),
            AuthError::Random => "系统随机数生成失败".into(),
            AuthError::MalformedToken => "登录状态无效，请重新登录".into(),
        }
    }
}

/// Operator role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Issuer,
    Reviewer,
    Inspector,
    Admin,
}

/// Something an operator may be allowed to do; checked on every API route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ReadReaders,
    Issue,
    Verify,
    Review,
    ChangeStatus,
    Import,
    ViewRecords,
    ManageKeys,
    ManageOperators,
    ManageTrust,
    Sync,
    ViewAudit,
    DecideCorrections,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::ReadReaders,
        Permission::Issue,
        Permission::Verify,
        Permission::Review,
        Permission::ChangeStatus,
        Permission::Import,
        Permission::ViewRecords,
        Permission::ManageKeys,
        Permission::ManageOperators,
        Permission::ManageTrust,
        Permission::Sync,
        Permission::ViewAudit,
        Permission::DecideCorrections,
    ];
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Issuer, Role::Reviewer, Role::Inspector, Role::Admin];

    /// The snake_case name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Issuer => "issuer",
            Role::Reviewer => "reviewer",
            Role::Inspector => "inspector",
            Role::Admin => "admin",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role table in the module documentation.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Issuer => matches!(
                p,
                ReadReaders | Issue | Verify | ChangeStatus | Import | ViewRecords
            ),
            Role::Reviewer => matches!(
                p,
                ReadReaders | Verify | Review | ViewRecords | DecideCorrections
            ),
            Role::Inspector => matches!(p, ReadReaders | Verify),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Check the password policy for a new password.
pub fn check_password_policy(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooShort {
            min: MIN_PASSWORD_CHARS,
        });
    }
    Ok(())
}

impl From<PasswordError> for AuthError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::TooShort { min } => AuthError::PasswordTooShort { min },
            PasswordError::Random => AuthError::Random,
            PasswordError::Hash(why) => AuthError::Hash(why),
            PasswordError::MalformedHash => AuthError::MalformedHash,
        }
    }
}

/// Hash a new password (policy checked) into an argon2id PHC string (the one
/// implementation the registry's accounts use too: `ecard_web_guard::password`).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Ok(ecard_web_guard::password::hash_password(
        password,
        MIN_PASSWORD_CHARS,
    )?)
}

/// Check `password` against a stored argon2id PHC string. `Ok(false)` for a wrong
/// password; `Err` only when the stored hash itself is bad.
pub fn verify_password(phc: &str, password: &str) -> Result<bool, AuthError> {
    Ok(ecard_web_guard::password::verify_password(phc, password)?)
}

/// A session token as handed to the client: 64 lowercase hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// Accept a token presented by a client (cookie value). Only the exact format is
    /// accepted; the caller then looks up [`token_digest`] of it.
    pub fn parse(s: &str) -> Result<SessionToken, AuthError> {
        let ok = s.len() == 2 * SESSION_TOKEN_BYTES
            && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(SessionToken(s.to_owned()))
        } else {
            Err(AuthError::MalformedToken)
        }
    }

    /// The token text, for the Set-Cookie header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token, what the database stores.
    pub fn digest(&self) -> [u8; 32] {
        token_digest(&self.0)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = self.0.get(..4).unwrap_or("");
        write!(f, "SessionToken({prefix}…)")
    }
}

impl Drop for SessionToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A fresh random session token and the SHA-256 digest to store.
pub fn new_session_token() -> Result<(SessionToken, [u8; 32]), AuthError> {
    let mut raw = [0u8; SESSION_TOKEN_BYTES];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| AuthError::Random)?;
    let token = SessionToken(hex::encode(raw));
    raw.zeroize();
    let digest = token.digest();
    Ok((token, digest))
}

/// SHA-256 of a token's text (the 64 hex characters as sent by the client).
pub fn token_digest(token: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant, through an exhaustive match: adding a role or permission
    /// without extending `ALL` (and the table below) fails to compile here.
    fn exhaustive(r: Role, p: Permission) {
        match r {
            Role::Issuer | Role::Reviewer | Role::Inspector | Role::Admin => {}
        }
        match p {
            Permission::ReadReaders
            | Permission::Issue
            | Permission::Verify
            | Permission::Review
            | Permission::ChangeStatus
            | Permission::Import
            | Permission::ViewRecords
            | Permission::ManageKeys
            | Permission::ManageOperators
            | Permission::ManageTrust
            | Permission::Sync
            | Permission::ViewAudit
            | Permission::DecideCorrections => {}
        }
    }

    // The role table from the module docs, written out independently of `allows`.
    // Columns: Issuer, Reviewer, Inspector, Admin.
    const Y: bool = true;
    const N: bool = false;
    const TABLE: [(Permission, [bool; 4]); 13] = [
        (Permission::ReadReaders, [Y, Y, Y, Y]),
        (Permission::Issue, [Y, N, N, Y]),
        (Permission::Verify, [Y, Y, Y, Y]),
        (Permission::Review, [N, Y, N, Y]),
        (Permission::ChangeStatus, [Y, N, N, Y]),
        (Permission::Import, [Y, N, N, Y]),
        (Permission::ViewRecords, [Y, Y, N, Y]),
        (Permission::ManageKeys, [N, N, N, Y]),
        (Permission::ManageOperators, [N, N, N, Y]),
        (Permission::ManageTrust, [N, N, N, Y]),
        (Permission::Sync, [N, N, N, Y]),
        (Permission::ViewAudit, [N, N, N, Y]),
        (Permission::DecideCorrections, [N, Y, N, Y]),
    ];
    const COLUMNS: [Role; 4] = [Role::Issuer, Role::Reviewer, Role::Inspector, Role::Admin];

    #[test]
    fn every_role_and_permission_pair_matches_the_table() {
        let mut checked = 0;
        for (p, row) in TABLE {
            for (role, expected) in COLUMNS.into_iter().zip(row) {
                exhaustive(role, p);
                assert_eq!(role.allows(p), expected, "{role:?} × {p:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, Role::ALL.len() * Permission::ALL.len());
        // The table covers each permission exactly once, in `ALL` order.
        let perms: Vec<Permission> = TABLE.iter().map(|(p, _)| *p).collect();
        assert_eq!(perms, Permission::ALL.to_vec());
        assert_eq!(COLUMNS, Role::ALL);
    }

    #[test]
    fn admin_allows_everything_and_inspector_only_reads_and_verifies() {
        assert!(Permission::ALL.iter().all(|p| Role::Admin.allows(*p)));
        let inspector: Vec<_> = Permission::ALL
            .into_iter()
            .filter(|p| Role::Inspector.allows(*p))
            .collect();
        assert_eq!(inspector, [Permission::ReadReaders, Permission::Verify]);
    }

    #[test]
    fn roles_serialize_snake_case_with_chinese_labels() {
        let expect = [
            (Role::Issuer, "\"issuer\"", "制证员"),
            (Role::Reviewer, "\"reviewer\"", "年审员"),
            (Role::Inspector, "\"inspector\"", "检查员"),
            (Role::Admin, "\"admin\"", "管理员"),
        ];
        for (role, json, zh) in expect {
            assert_eq!(serde_json::to_string(&role).unwrap(), json);
            assert_eq!(serde_json::from_str::<Role>(json).unwrap(), role);
            assert_eq!(crate::labels::role_zh(role), zh);
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(serde_json::from_str::<Role>("\"Admin\"").is_err());
        assert_eq!(Role::parse("root"), None);
        assert_eq!(
            serde_json::to_string(&Permission::ChangeStatus).unwrap(),
            "\"change_status\""
        );
    }

    #[test]
    fn hash_and_verify_password() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&phc, "correct horse").unwrap());
        assert!(!verify_password(&phc, "correct horsE").unwrap());
        assert!(!verify_password(&phc, "").unwrap());
    }

    #[test]
    fn same_password_hashes_differently_each_time() {
        let (a, b) = (
            hash_password("执法证管理员口令").unwrap(),
            hash_password("执法证管理员口令").unwrap(),
        );
        assert_ne!(a, b);
        assert!(verify_password(&b, "执法证管理员口令").unwrap());
    }

    #[test]
    fn password_policy_requires_eight_characters() {
        let err = hash_password("1234567").unwrap_err();
        assert!(matches!(err, AuthError::PasswordTooShort { min: 8 }));
        assert_eq!(err.message_zh(), "密码至少需要 8 个字符");
        assert!(check_password_policy("12345678").is_ok());
        // Characters, not bytes: 7 Chinese characters are 21 bytes but too short.
        assert!(check_password_policy("执法证管理员口").is_err());
        assert!(check_password_policy("执法证管理员口令").is_ok());
    }

    #[test]
    fn malformed_or_foreign_hashes_are_errors_not_false() {
        assert!(matches!(
            verify_password("", "x"),
            Err(AuthError::MalformedHash)
        ));
        assert!(matches!(
            verify_password("not a hash", "x"),
            Err(AuthError::MalformedHash)
        ));
        let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$3Rmn0R7FaD+pL8JRN8Ok7A";
        assert!(matches!(
            verify_password(argon2i, "x"),
            Err(AuthError::MalformedHash)
        ));
    }

    #[test]
    fn session_tokens_are_random_hex_and_stored_as_digest() {
        let (t1, d1) = new_session_token().unwrap();
        let (t2, d2) = new_session_token().unwrap();
        assert_ne!(t1, t2);
        assert_ne!(d1, d2);
        assert_eq!(t1.expose().len(), 64);
        assert_eq!(d1, token_digest(t1.expose()));
        assert_eq!(d1, t1.digest());
        assert_eq!(SessionToken::parse(t1.expose()).unwrap(), t1);
        // SHA-256("abc"), FIPS 180-2 test vector.
        assert_eq!(
            hex::encode(token_digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn malformed_session_tokens_are_refused() {
        for bad in [
            "",
            "abc",
            &"A".repeat(64),
            &"0".repeat(63),
            &"0".repeat(65),
            &"g".repeat(64),
        ] {
            assert!(
                matches!(SessionToken::parse(bad), Err(AuthError::MalformedToken)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn session_token_debug_is_not_the_token() {
        let (t, _) = new_session_token().unwrap();
        let dbg = format!("{t:?}");
        assert!(!dbg.contains(t.expose()), "{dbg}");
        assert!(!dbg.contains(&t.expose()[..8]), "{dbg}");
        assert!(dbg.starts_with("SessionToken("), "{dbg}");
    }
}
