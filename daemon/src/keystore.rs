//! Private keys encrypted at rest.
//!
//! The bureau master key (AES-128/256 bytes) and the document-signer private key
//! (PKCS#8 bytes) are never stored in the clear. Each secret is sealed on its own:
//!
//! - key-encryption key (KEK): argon2id over the operator passphrase and a random
//!   16-byte salt, 32 bytes out. The parameters are stored beside the ciphertext, so
//!   they can be raised later without breaking old files. Default m = 19 456 KiB,
//!   t = 2, p = 1 (the OWASP minimum for argon2id); [`KdfParams::new`] allows cheaper
//!   parameters for tests.
//! - AES-256-GCM (ring) with a random 96-bit nonce. Every secret gets a fresh salt and
//!   nonce, so a (key, nonce) pair is never reused.
//! - The key's name is the additional authenticated data (prefixed with a format
//!   label), so a sealed signer key cannot be swapped in where the master key is
//!   expected: opening it under the wrong name fails like a wrong passphrase.
//!
//! Everything that goes into the KEK or the AEAD (params, salt, nonce, ciphertext,
//! name) is authenticated: a change to any of them makes [`SealedKey::open`] fail
//! with [`KeystoreError::WrongPassphrase`]. A GCM tag mismatch cannot tell a wrong
//! passphrase from tampering, and this module does not pretend to.
//!
//! Secrets: the passphrase-derived key and every plaintext buffer are zeroized on
//! drop; plaintext is returned as `Zeroizing<Vec<u8>>`. `SealedKey`'s `Debug` shows
//! only lengths and parameters. Nothing here logs. (ring's internal AES key schedule
//! is not zeroized by ring; it lives only for the duration of one call.)
//!
//! In the SM suite (#17, docs/SUITES.md) the AEAD is SM4-GCM (RFC 8998; RustCrypto's
//! generic GCM over `sm4`) under the first 16 bytes of the KEK, and the sealed key
//! says so (`"cipher": "sm4-gcm"`; absent = AES-256-GCM, so older files read as
//! before). The cipher's name is in the AAD: a file whose `cipher` was changed does
//! not open.
//!
//! On-disk form (serde, e.g. JSON):
//! ```json
//! { "version": 1,
//!   "kdf": { "algorithm": "argon2id", "m_cost_kib": 19456, "t_cost": 2, "p_cost": 1 },
//!   "cipher": "sm4-gcm",   (SM suite only)
//!   "salt": "<32 hex>", "nonce": "<24 hex>", "ciphertext": "<hex: ciphertext || 16-byte tag>" }
//! ```

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Name under which the bureau master key is sealed.
pub const MASTER_KEY: &str = "bureau-master-key";
/// Name under which the document-signer private key (PKCS#8) is sealed.
pub const SIGNER_KEY: &str = "document-signer-key";

/// Format version written by this code.
pub const FORMAT_VERSION: u32 = 1;
/// Salt length in bytes.
pub const SALT_LEN: usize = 16;
const KEK_LEN: usize = 32;
const TAG_LEN: usize = 16;
const AAD_PREFIX: &[u8] = b"ecard-keystore-v1\0";
const KDF_ALGORITHM: &str = "argon2id";

/// Upper bounds accepted when *opening* a file, so a corrupted or hostile file cannot
/// make the daemon allocate gigabytes or spin for hours before failing.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024; // 4 GiB
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 64;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The GCM tag did not verify: wrong passphrase, wrong key name, or a modified file.
    #[error("wrong passphrase, wrong key name, or the sealed key was modified")]
    WrongPassphrase,
    /// The sealed key is structurally invalid (bad hex, wrong lengths, unknown KDF,
    /// parameters out of range).
    #[error("sealed key is malformed: {0}")]
    Malformed(&'static str),
    #[error("unsupported sealed key format version {0}")]
    UnsupportedVersion(u32),
    /// argon2 rejected the parameters or failed.
    #[error("key derivation failed: {0}")]
    Kdf(String),
    /// The system random number generator failed.
    #[error("system random number generator failed")]
    Random,
    /// Refused to seal under an empty passphrase.
    #[error("refusing to seal a key under an empty passphrase")]
    EmptyPassphrase,
    /// Refused to seal under a passphrase shorter than [`MIN_PASSPHRASE_CHARS`].
    #[error("refusing to seal a key under a passphrase shorter than {min} characters")]
    PassphraseTooShort { min: usize },
}

/// The shortest passphrase a key is sealed under: whoever copies the database (or
/// the root key file) can try passphrases offline, each costing one argon2id run.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

impl KeystoreError {
    /// Stable machine code for the API's `{code, message}`.
    pub fn code(&self) -> &'static str {
        match self {
            KeystoreError::WrongPassphrase => "keystore_wrong_passphrase",
            KeystoreError::Malformed(_) => "keystore_malformed",
            KeystoreError::UnsupportedVersion(_) => "keystore_unsupported_version",
            KeystoreError::Kdf(_) => "keystore_kdf",
            KeystoreError::Random => "keystore_random",
            KeystoreError::EmptyPassphrase => "keystore_empty_passphrase",
            KeystoreError::PassphraseTooShort { .. } => "passphrase_too_short",
        }
    }

    /// User-facing message (zh-CN).
    pub fn message_zh(&self) -> &'static str {
        match self {
            KeystoreError::WrongPassphrase => "密钥口令错误，或密钥文件已被篡改",
            KeystoreError::Malformed(_) => "密钥文件格式错误",
            KeystoreError::UnsupportedVersion(_) => "密钥文件版本不受支持",
            KeystoreError::Kdf(_) => "密钥派生失败",
            KeystoreError::Random => "系统随机数生成失败",
            KeystoreError::EmptyPassphrase => "密钥口令不能为空",
            KeystoreError::PassphraseTooShort { .. } => "密钥口令至少 12 个字符",
        }
    }
}

/// argon2id parameters, stored with each sealed key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Always `"argon2id"` in version 1; kept explicit so a reader sees what it is.
    #[serde(with = "kdf_algorithm")]
    pub algorithm: Argon2id,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

/// Marker for the only KDF this format knows; (de)serializes as `"argon2id"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Argon2id;

mod kdf_algorithm {
    use super::{Argon2id, KDF_ALGORITHM};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(_: &Argon2id, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(KDF_ALGORITHM)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Argon2id, D::Error> {
        let name = String::deserialize(d)?;
        if name == KDF_ALGORITHM {
            Ok(Argon2id)
        } else {
            Err(D::Error::custom(format!("unsupported kdf {name:?}")))
        }
    }
}

impl Default for KdfParams {
    /// OWASP minimum for argon2id: m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        KdfParams {
            algorithm: Argon2id,
            m_cost_kib: Params::DEFAULT_M_COST,
            t_cost: Params::DEFAULT_T_COST,
            p_cost: Params::DEFAULT_P_COST,
        }
    }
}

impl KdfParams {
    /// Custom parameters (e.g. cheap ones for tests). Validated by argon2 and against
    /// the bounds [`SealedKey::open`] accepts, so whatever is sealed can be opened.
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, KeystoreError> {
        let params = KdfParams {
            algorithm: Argon2id,
            m_cost_kib,
            t_cost,
            p_cost,
        };
        params.check_bounds()?;
        params.argon2()?;
        Ok(params)
    }

    fn check_bounds(&self) -> Result<(), KeystoreError> {
        if self.m_cost_kib > MAX_M_COST_KIB || self.t_cost > MAX_T_COST || self.p_cost > MAX_P_COST
        {
            return Err(KeystoreError::Malformed("kdf parameters out of range"));
        }
        Ok(())
    }

    fn argon2(&self) -> Result<Argon2<'static>, KeystoreError> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(KEK_LEN))
            .map_err(|e| KeystoreError::Kdf(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    fn derive_kek(
        &self,
        passphrase: &str,
        salt: &[u8],
    ) -> Result<Zeroizing<[u8; KEK_LEN]>, KeystoreError> {
        let mut kek = Zeroizing::new([0u8; KEK_LEN]);
        self.argon2()?
            .hash_password_into(passphrase.as_bytes(), salt, &mut *kek)
            .map_err(|e| KeystoreError::Kdf(e.to_string()))?;
        Ok(kek)
    }
}

/// The AEAD a key is sealed with: the suite's block cipher in GCM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Cipher {
    #[default]
    #[serde(rename = "aes-256-gcm")]
    Aes256Gcm,
    #[serde(rename = "sm4-gcm")]
    Sm4Gcm,
}

impl Cipher {
    /// The cipher of a suite's keys at rest.
    pub fn of(suite: card_profile::suite::Suite) -> Self {
        match suite {
            card_profile::suite::Suite::P256 => Cipher::Aes256Gcm,
            card_profile::suite::Suite::Sm => Cipher::Sm4Gcm,
        }
    }

    fn is_default(&self) -> bool {
        *self == Cipher::Aes256Gcm
    }

    /// The AAD: the format label, the cipher for SM4 (AES files keep their AAD), and
    /// the key's name.
    fn aad(self, name: &str) -> Vec<u8> {
        let mut a = AAD_PREFIX.to_vec();
        if self == Cipher::Sm4Gcm {
            a.extend_from_slice(b"sm4-gcm\0");
        }
        a.extend_from_slice(name.as_bytes());
        a
    }

    /// Encrypts `buf` in place and appends the tag.
    fn seal(
        self,
        kek: &[u8; KEK_LEN],
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<(), KeystoreError> {
        match self {
            Cipher::Aes256Gcm => aead_key(kek)?
                .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
                .map_err(|_| KeystoreError::Kdf("AES-GCM seal failed".into())),
            Cipher::Sm4Gcm => {
                use aes_gcm::aead::AeadInPlace;
                sm4_gcm(kek)
                    .encrypt_in_place(&nonce.into(), aad, buf)
                    .map_err(|_| KeystoreError::Kdf("SM4-GCM seal failed".into()))
            }
        }
    }

    /// Decrypts `buf` (ciphertext ‖ tag) in place; the plaintext's length.
    fn open(
        self,
        kek: &[u8; KEK_LEN],
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<usize, KeystoreError> {
        match self {
            Cipher::Aes256Gcm => Ok(aead_key(kek)?
                .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
                .map_err(|_| KeystoreError::WrongPassphrase)?
                .len()),
            Cipher::Sm4Gcm => {
                use aes_gcm::aead::AeadInPlace;
                sm4_gcm(kek)
                    .decrypt_in_place(&nonce.into(), aad, buf)
                    .map_err(|_| KeystoreError::WrongPassphrase)?;
                Ok(buf.len())
            }
        }
    }
}

type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// SM4-GCM under the KEK's first 16 bytes (SM4 has one key size; argon2's output is
/// uniform, so a prefix is as strong as a separate 16-byte output).
fn sm4_gcm(kek: &[u8; KEK_LEN]) -> Sm4Gcm {
    use aes_gcm::KeyInit;
    // The first 16 of the KEK's 32 bytes, by index (no fallible slice conversion,
    // so no fallback key can ever be used).
    let key: Zeroizing<[u8; 16]> = Zeroizing::new(std::array::from_fn(|i| kek[i]));
    Sm4Gcm::new((&*key).into())
}

/// A secret sealed under a passphrase. Safe to store and to print with `{:?}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    version: u32,
    kdf: KdfParams,
    #[serde(default, skip_serializing_if = "Cipher::is_default")]
    cipher: Cipher,
    #[serde(with = "hex")]
    salt: Vec<u8>,
    #[serde(with = "hex")]
    nonce: Vec<u8>,
    /// AES-256-GCM ciphertext followed by the 16-byte tag.
    #[serde(with = "hex")]
    ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedKey")
            .field("version", &self.version)
            .field("kdf", &self.kdf)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// Seal `secret` under `passphrase` with the default (OWASP) argon2id parameters.
pub fn seal(name: &str, secret: &[u8], passphrase: &str) -> Result<SealedKey, KeystoreError> {
    seal_with(name, secret, passphrase, KdfParams::default())
}

/// Seal `secret` under `passphrase` with explicit argon2id parameters (AES-256-GCM).
pub fn seal_with(
    name: &str,
    secret: &[u8],
    passphrase: &str,
    params: KdfParams,
) -> Result<SealedKey, KeystoreError> {
    seal_in(Cipher::Aes256Gcm, name, secret, passphrase, params)
}

/// Seal `secret` with `cipher` (the suite's: [`Cipher::of`]).
pub fn seal_in(
    cipher: Cipher,
    name: &str,
    secret: &[u8],
    passphrase: &str,
    params: KdfParams,
) -> Result<SealedKey, KeystoreError> {
    if passphrase.is_empty() {
        return Err(KeystoreError::EmptyPassphrase);
    }
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(KeystoreError::PassphraseTooShort {
            min: MIN_PASSPHRASE_CHARS,
        });
    }
    params.check_bounds()?;
    let rng = SystemRandom::new();
    let mut salt = [0u8; SALT_LEN];
    rng.fill(&mut salt).map_err(|_| KeystoreError::Random)?;
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).map_err(|_| KeystoreError::Random)?;

    let kek = params.derive_kek(passphrase, &salt)?;

    // Room for the tag up front: growing the Vec would leave a plaintext copy in the
    // freed allocation.
    let mut buf = Zeroizing::new(Vec::with_capacity(secret.len() + TAG_LEN));
    buf.extend_from_slice(secret);
    cipher.seal(&kek, nonce, &cipher.aad(name), &mut buf)?;

    Ok(SealedKey {
        version: FORMAT_VERSION,
        kdf: params,
        cipher,
        salt: salt.to_vec(),
        nonce: nonce.to_vec(),
        ciphertext: buf.to_vec(),
    })
}

impl SealedKey {
    /// Decrypt. Fails with [`KeystoreError::WrongPassphrase`] for a wrong passphrase,
    /// a wrong `name`, or any modification of the sealed data.
    pub fn open(&self, name: &str, passphrase: &str) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
        if self.version != FORMAT_VERSION {
            return Err(KeystoreError::UnsupportedVersion(self.version));
        }
        self.kdf.check_bounds()?;
        if self.salt.len() != SALT_LEN {
            return Err(KeystoreError::Malformed("salt length"));
        }
        let nonce: [u8; NONCE_LEN] = self
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| KeystoreError::Malformed("nonce length"))?;
        if self.ciphertext.len() < TAG_LEN {
            return Err(KeystoreError::Malformed("ciphertext shorter than the tag"));
        }

        let kek = self.kdf.derive_kek(passphrase, &self.salt)?;
        let mut buf = Zeroizing::new(self.ciphertext.clone());
        let len = self
            .cipher
            .open(&kek, nonce, &self.cipher.aad(name), &mut buf)?;
        buf.truncate(len);
        Ok(buf)
    }

    /// Parse the JSON form; any parse error is [`KeystoreError::Malformed`].
    pub fn from_json(json: &str) -> Result<Self, KeystoreError> {
        serde_json::from_str(json).map_err(|_| KeystoreError::Malformed("not a sealed key"))
    }

    /// The JSON form (contains no secret in the clear).
    pub fn to_json(&self) -> Result<String, KeystoreError> {
        serde_json::to_string_pretty(self).map_err(|_| KeystoreError::Malformed("serialize"))
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }
}

fn aead_key(kek: &[u8; KEK_LEN]) -> Result<LessSafeKey, KeystoreError> {
    let unbound = UnboundKey::new(&AES_256_GCM, kek)
        .map_err(|_| KeystoreError::Kdf("AES-256-GCM key setup failed".into()))?;
    Ok(LessSafeKey::new(unbound))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8998 appendix A.1, the SM4-GCM example: the generic GCM over `sm4`
    /// is SM4-GCM as the TLS 1.3 ShangMi suite defines it.
    #[test]
    fn sm4_gcm_matches_rfc_8998() {
        use aes_gcm::aead::AeadInPlace;
        use aes_gcm::KeyInit;
        let h = |s: &str| hex::decode(s).unwrap();
        let key = h("0123456789ABCDEFFEDCBA9876543210");
        let nonce = h("00001234567800000000ABCD");
        let aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let mut buf = h(concat!(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
        ));
        let cipher = Sm4Gcm::new_from_slice(&key).unwrap();
        cipher
            .encrypt_in_place(nonce.as_slice().into(), &aad, &mut buf)
            .unwrap();
        assert_eq!(
            hex::encode_upper(&buf),
            concat!(
                "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
                "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
                "83DE3541E4C2B58177E065A9BF7B62EC"
            )
        );
    }

    #[test]
    fn an_sm4_sealed_key_opens_and_says_its_cipher_and_a_changed_cipher_does_not() {
        let params = KdfParams::new(256, 1, 1).unwrap();
        let sealed = seal_in(
            Cipher::Sm4Gcm,
            SIGNER_KEY,
            b"pkcs8 bytes",
            "a-long-passphrase",
            params,
        )
        .unwrap();
        let json = sealed.to_json().unwrap();
        assert!(json.contains("\"cipher\": \"sm4-gcm\""), "{json}");
        let back = SealedKey::from_json(&json).unwrap();
        assert_eq!(
            &*back.open(SIGNER_KEY, "a-long-passphrase").unwrap(),
            b"pkcs8 bytes"
        );
        assert!(matches!(
            back.open(SIGNER_KEY, "another-passphrase"),
            Err(KeystoreError::WrongPassphrase)
        ));
        // Claiming AES for SM4 ciphertext (or the reverse) opens nothing.
        let mut downgraded = back.clone();
        downgraded.cipher = Cipher::Aes256Gcm;
        assert!(matches!(
            downgraded.open(SIGNER_KEY, "a-long-passphrase"),
            Err(KeystoreError::WrongPassphrase)
        ));
        // AES-sealed keys keep their JSON: no cipher field.
        let aes = seal_with(SIGNER_KEY, b"x", "a-long-passphrase", params).unwrap();
        assert!(!aes.to_json().unwrap().contains("\"cipher\""));
    }

    const SECRET: &[u8] = &[
        0x5e, 0xc2, 0xe7, 0x01, 0x99, 0xaa, 0x42, 0x13, 0x37, 0xc0, 0xff, 0xee, 0x10, 0x20, 0x30,
        0x40,
    ];
    const PASS: &str = "正确的口令 correct horse";

    fn cheap() -> KdfParams {
        KdfParams::new(64, 1, 1).unwrap()
    }

    fn sealed() -> SealedKey {
        seal_with(MASTER_KEY, SECRET, PASS, cheap()).unwrap()
    }

    #[test]
    fn round_trip_with_default_params() {
        let s = seal(SIGNER_KEY, SECRET, PASS).unwrap();
        assert_eq!(s.kdf(), KdfParams::default());
        assert_eq!(s.kdf().m_cost_kib, 19456);
        assert_eq!(s.open(SIGNER_KEY, PASS).unwrap().as_slice(), SECRET);
    }

    #[test]
    fn round_trip_with_cheap_params_and_empty_secret() {
        assert_eq!(sealed().open(MASTER_KEY, PASS).unwrap().as_slice(), SECRET);
        let empty = seal_with(MASTER_KEY, b"", PASS, cheap()).unwrap();
        assert!(empty.open(MASTER_KEY, PASS).unwrap().is_empty());
    }

    #[test]
    fn each_seal_uses_fresh_salt_and_nonce() {
        let (a, b) = (sealed(), sealed());
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn wrong_passphrase_is_refused() {
        let err = sealed().open(MASTER_KEY, "wrong passphrase").unwrap_err();
        assert!(matches!(err, KeystoreError::WrongPassphrase), "{err:?}");
    }

    #[test]
    fn signer_key_cannot_be_opened_as_master_key() {
        let s = seal_with(SIGNER_KEY, SECRET, PASS, cheap()).unwrap();
        let err = s.open(MASTER_KEY, PASS).unwrap_err();
        assert!(matches!(err, KeystoreError::WrongPassphrase), "{err:?}");
    }

    #[test]
    fn any_flipped_ciphertext_or_tag_bit_is_refused() {
        let s = sealed();
        for i in 0..s.ciphertext.len() {
            for bit in [0x01u8, 0x80] {
                let mut t = s.clone();
                t.ciphertext[i] ^= bit;
                assert!(
                    matches!(
                        t.open(MASTER_KEY, PASS),
                        Err(KeystoreError::WrongPassphrase)
                    ),
                    "byte {i} bit {bit:#x}"
                );
            }
        }
    }

    #[test]
    fn modified_nonce_salt_or_params_are_refused() {
        let s = sealed();
        let mut t = s.clone();
        t.nonce[0] ^= 1;
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::WrongPassphrase)
        ));
        let mut t = s.clone();
        t.salt[15] ^= 1;
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::WrongPassphrase)
        ));
        let mut t = s.clone();
        t.kdf.t_cost = 2;
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::WrongPassphrase)
        ));
    }

    #[test]
    fn malformed_and_unsupported_inputs_have_their_own_errors() {
        let s = sealed();
        let mut t = s.clone();
        t.version = 2;
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::UnsupportedVersion(2))
        ));
        let mut t = s.clone();
        t.nonce.pop();
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::Malformed(_))
        ));
        let mut t = s.clone();
        t.salt.truncate(8);
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::Malformed(_))
        ));
        let mut t = s.clone();
        t.ciphertext.truncate(TAG_LEN - 1);
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::Malformed(_))
        ));
        let mut t = s.clone();
        t.kdf.m_cost_kib = u32::MAX;
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::Malformed(_))
        ));
        let mut t = s;
        t.kdf.m_cost_kib = 1; // below argon2's minimum
        assert!(matches!(
            t.open(MASTER_KEY, PASS),
            Err(KeystoreError::Kdf(_))
        ));
        assert!(matches!(
            KdfParams::new(1, 1, 1),
            Err(KeystoreError::Kdf(_))
        ));
        assert!(matches!(
            seal_with(MASTER_KEY, SECRET, "", cheap()),
            Err(KeystoreError::EmptyPassphrase)
        ));
        // Eleven characters (Chinese ones count as one each) are too few; twelve do.
        assert!(matches!(
            seal_with(MASTER_KEY, SECRET, "十一个字符的口令abc", cheap()),
            Err(KeystoreError::PassphraseTooShort { min: 12 })
        ));
        assert!(seal_with(MASTER_KEY, SECRET, "十二个字符的口令abcd", cheap()).is_ok());
    }

    #[test]
    fn json_round_trip() {
        let s = sealed();
        let json = s.to_json().unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["kdf"]["algorithm"], "argon2id");
        assert_eq!(v["kdf"]["m_cost_kib"], 64);
        assert_eq!(v["salt"].as_str().unwrap().len(), 2 * SALT_LEN);
        assert_eq!(v["nonce"].as_str().unwrap().len(), 2 * NONCE_LEN);
        let back = SealedKey::from_json(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.open(MASTER_KEY, PASS).unwrap().as_slice(), SECRET);
    }

    #[test]
    fn bad_json_is_malformed() {
        assert!(matches!(
            SealedKey::from_json("{}"),
            Err(KeystoreError::Malformed(_))
        ));
        let json = sealed().to_json().unwrap().replace("argon2id", "scrypt");
        assert!(matches!(
            SealedKey::from_json(&json),
            Err(KeystoreError::Malformed(_))
        ));
        let json = sealed()
            .to_json()
            .unwrap()
            .replace("\"salt\": \"", "\"salt\": \"zz");
        assert!(matches!(
            SealedKey::from_json(&json),
            Err(KeystoreError::Malformed(_))
        ));
    }

    #[test]
    fn debug_shows_no_secret_or_ciphertext_bytes() {
        let s = sealed();
        let dbg = format!("{s:?} {:?}", s.kdf());
        assert!(!dbg.contains(&hex::encode(SECRET)), "{dbg}");
        assert!(!dbg.contains(&hex::encode(&s.ciphertext)), "{dbg}");
        assert!(!dbg.contains(&hex::encode(&s.ciphertext[..4])), "{dbg}");
        assert!(!dbg.contains(&hex::encode(&s.salt[..4])), "{dbg}");
        assert!(!dbg.contains(&format!("{:?}", &SECRET[..4])), "{dbg}");
        assert!(!dbg.contains(PASS), "{dbg}");
        assert!(dbg.contains("ciphertext_len"), "{dbg}");
    }
}
