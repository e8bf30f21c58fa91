//! The algorithm suite a bureau runs (#17): today's `p256` (ECDSA P-256, SHA-256,
//! AES-128) or `sm`, the national algorithms a 密评 (GB/T 39786) assessment expects:
//! SM2 signatures (GM/T 0003), SM3 hashes (GM/T 0004), SM4 (GM/T 0002).
//!
//! Every primitive the profile uses is a method here that takes the suite, so a
//! sequence is written once and runs in either suite (docs/SUITES.md). The
//! implementations are RustCrypto's (`sm2`, `sm3`, `sm4`) and ring; no curve or
//! cipher code is written here.
//!
//! Shapes are the same in both suites on purpose: a public key is an uncompressed
//! point `04‖X‖Y` (65 bytes), a signature is raw `r‖s` (64 bytes), a hash is 32 bytes
//! and the block cipher is 128-bit, so the card's files and the wire keep their sizes.

use cmac::{Cmac, Mac};
use serde::{Deserialize, Serialize};
use sm2::dsa::signature::hazmat::PrehashVerifier;
use sm2::dsa::signature::{Signer, Verifier};
use sm3::{Digest, Sm3};
use thiserror::Error;
use zeroize::Zeroizing;

/// The SM2 distinguishing ID every ecard signature uses: GM/T 0009's default, the
/// one OpenSSL must be told with `distid:1234567812345678` (it defaults to empty).
pub const SM2_ID: &str = "1234567812345678";

/// The algorithm suite of a bureau, fixed by its trust anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// ECDSA P-256 with SHA-256; AES-128; HKDF-SHA256.
    #[default]
    P256,
    /// SM2 with SM3 (ID `1234567812345678`); SM4; HKDF over HMAC-SM3.
    Sm,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SuiteError {
    #[error("unknown algorithm suite {0:?} (p256 or sm)")]
    Unknown(String),
    #[error("private key is not valid for the suite")]
    BadPrivateKey,
    #[error("random generator failed")]
    Random,
    #[error("signing failed")]
    Signing,
}

impl std::str::FromStr for Suite {
    type Err = SuiteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "p256" => Ok(Suite::P256),
            "sm" => Ok(Suite::Sm),
            other => Err(SuiteError::Unknown(other.chars().take(32).collect())),
        }
    }
}

impl Suite {
    pub const ALL: [Suite; 2] = [Suite::P256, Suite::Sm];

    /// The stable code in configuration, trust lists and APIs.
    pub fn code(self) -> &'static str {
        match self {
            Suite::P256 => "p256",
            Suite::Sm => "sm",
        }
    }

    /// The one-byte identifier on the card and in signed TLV (docs/SUITES.md):
    /// absent or 1 is P-256, 2 is SM.
    pub fn tag_byte(self) -> u8 {
        match self {
            Suite::P256 => 1,
            Suite::Sm => 2,
        }
    }

    pub fn from_tag_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Suite::P256),
            2 => Some(Suite::Sm),
            _ => None,
        }
    }

    /// The suite a public point belongs to: `Sm` when it lies on the SM2 curve, else
    /// `P256` (whose verification then refuses a point that is on neither). A
    /// 65-byte point on both curves would have to satisfy two curve equations over
    /// two different primes at once (a chance of about 2⁻²⁵⁶), so a pinned or
    /// enrolled key names its suite by itself and no suite travels beside it.
    pub fn of_point(public_key: &[u8]) -> Suite {
        if public_key.len() == 65 && sm2::PublicKey::from_sec1_bytes(public_key).is_ok() {
            Suite::Sm
        } else {
            Suite::P256
        }
    }

    /// The suite's hash: SHA-256 or SM3.
    pub fn hash(self, data: &[u8]) -> [u8; 32] {
        match self {
            Suite::P256 => {
                let d = ring::digest::digest(&ring::digest::SHA256, data);
                let mut out = [0u8; 32];
                out.copy_from_slice(d.as_ref());
                out
            }
            Suite::Sm => Sm3::digest(data).into(),
        }
    }

    /// Checks a raw `r‖s` signature over `message` under an uncompressed public key.
    /// Any malformed input is simply "not valid".
    pub fn verify(self, public_key: &[u8], message: &[u8], sig: &[u8]) -> bool {
        match self {
            Suite::P256 => ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                public_key,
            )
            .verify(message, sig)
            .is_ok(),
            Suite::Sm => {
                let Ok(vk) = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_ID, public_key) else {
                    return false;
                };
                let Ok(sig) = sm2::dsa::Signature::from_slice(sig) else {
                    return false;
                };
                vk.verify(message, &sig).is_ok()
            }
        }
    }

    /// HKDF (RFC 5869) to 16 bytes: over HMAC-SHA256, or HMAC-SM3 in the SM suite.
    pub fn hkdf16(self, ikm: &[u8], salt: &[u8], info: &[u8]) -> Zeroizing<[u8; 16]> {
        let mut out = Zeroizing::new([0u8; 16]);
        // Expanding to 16 bytes cannot fail: the limit is 255 hash lengths.
        match self {
            Suite::P256 => {
                struct Len16;
                impl ring::hkdf::KeyType for Len16 {
                    fn len(&self) -> usize {
                        16
                    }
                }
                let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt).extract(ikm);
                if let Ok(okm) = prk.expand(&[info], Len16) {
                    let _ = okm.fill(out.as_mut_slice());
                }
            }
            Suite::Sm => {
                let _ = hkdf::Hkdf::<Sm3>::new(Some(salt), ikm).expand(info, out.as_mut_slice());
            }
        }
        out
    }

    /// CMAC (NIST SP 800-38B) over the concatenated parts, with AES-128 or SM4.
    pub fn cmac(self, key: &[u8; 16], parts: &[&[u8]]) -> [u8; 16] {
        fn run<M: Mac>(mut mac: M, parts: &[&[u8]]) -> [u8; 16] {
            for p in parts {
                mac.update(p);
            }
            let mut out = [0u8; 16];
            out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
            out
        }
        match self {
            Suite::P256 => run(<Cmac<aes::Aes128> as Mac>::new(key.into()), parts),
            Suite::Sm => run(<Cmac<sm4::Sm4> as Mac>::new(key.into()), parts),
        }
    }

    /// Constant-time check of a CMAC.
    pub fn cmac_check(self, key: &[u8; 16], parts: &[&[u8]], received: &[u8]) -> bool {
        fn run<M: Mac>(mut mac: M, parts: &[&[u8]], received: &[u8]) -> bool {
            for p in parts {
                mac.update(p);
            }
            mac.verify_slice(received).is_ok()
        }
        match self {
            Suite::P256 => run(<Cmac<aes::Aes128> as Mac>::new(key.into()), parts, received),
            Suite::Sm => run(<Cmac<sm4::Sm4> as Mac>::new(key.into()), parts, received),
        }
    }

    /// The key check value of a 16-byte key: the first 3 bytes of the encryption of
    /// the zero block (AES-128 or SM4), as HSMs show it.
    pub fn check_value16(self, key: &[u8; 16]) -> [u8; 3] {
        use aes::cipher::{BlockEncrypt, KeyInit};
        let mut block = aes::Block::default();
        match self {
            Suite::P256 => aes::Aes128::new(key.into()).encrypt_block(&mut block),
            Suite::Sm => sm4::Sm4::new(key.into()).encrypt_block(&mut block),
        }
        [block[0], block[1], block[2]]
    }

    /// A fresh private key in the suite, as PKCS#8 DER (which OpenSSL reads).
    pub fn generate_pkcs8(self) -> Result<Zeroizing<Vec<u8>>, SuiteError> {
        let rng = ring::rand::SystemRandom::new();
        match self {
            Suite::P256 => ring::signature::EcdsaKeyPair::generate_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &rng,
            )
            .map(|d| Zeroizing::new(d.as_ref().to_vec()))
            .map_err(|_| SuiteError::Random),
            Suite::Sm => {
                use ring::rand::SecureRandom;
                use sm2::pkcs8::EncodePrivateKey;
                // Rejection sampling: a uniformly random 32-byte string is a valid
                // scalar (0 < d < n−1) with overwhelming probability.
                for _ in 0..16 {
                    let mut d = Zeroizing::new([0u8; 32]);
                    rng.fill(d.as_mut_slice()).map_err(|_| SuiteError::Random)?;
                    if let Ok(sk) = sm2::SecretKey::from_slice(d.as_slice()) {
                        if sm2::dsa::SigningKey::new(SM2_ID, &sk).is_ok() {
                            let doc = sk.to_pkcs8_der().map_err(|_| SuiteError::Random)?;
                            return Ok(Zeroizing::new(doc.as_bytes().to_vec()));
                        }
                    }
                }
                Err(SuiteError::Random)
            }
        }
    }
}

/// A private signing key in one suite.
pub enum SuiteKey {
    P256(Box<ring::signature::EcdsaKeyPair>),
    Sm(Box<sm2::dsa::SigningKey>),
}

impl SuiteKey {
    /// Parses a PKCS#8 private key of either suite (the curve OID inside says which).
    pub fn from_pkcs8_any(pkcs8: &[u8]) -> Result<Self, SuiteError> {
        Self::from_pkcs8(Suite::P256, pkcs8).or_else(|_| Self::from_pkcs8(Suite::Sm, pkcs8))
    }

    /// Parses a PKCS#8 private key of the suite.
    pub fn from_pkcs8(suite: Suite, pkcs8: &[u8]) -> Result<Self, SuiteError> {
        match suite {
            Suite::P256 => ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                pkcs8,
                &ring::rand::SystemRandom::new(),
            )
            .map(|k| SuiteKey::P256(Box::new(k)))
            .map_err(|_| SuiteError::BadPrivateKey),
            Suite::Sm => {
                use sm2::pkcs8::DecodePrivateKey;
                let sk =
                    sm2::SecretKey::from_pkcs8_der(pkcs8).map_err(|_| SuiteError::BadPrivateKey)?;
                sm2::dsa::SigningKey::new(SM2_ID, &sk)
                    .map(|k| SuiteKey::Sm(Box::new(k)))
                    .map_err(|_| SuiteError::BadPrivateKey)
            }
        }
    }

    pub fn suite(&self) -> Suite {
        match self {
            SuiteKey::P256(_) => Suite::P256,
            SuiteKey::Sm(_) => Suite::Sm,
        }
    }

    /// The uncompressed public point `04‖X‖Y`.
    pub fn public_key(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        match self {
            SuiteKey::P256(pair) => {
                use ring::signature::KeyPair;
                out.copy_from_slice(pair.public_key().as_ref());
            }
            SuiteKey::Sm(k) => {
                let point = k.verifying_key().to_sec1_bytes();
                if point.len() == 65 {
                    out.copy_from_slice(&point);
                }
            }
        }
        out
    }

    /// A raw `r‖s` signature. P-256 signs with a random nonce (ring); SM2 with the
    /// deterministic nonce of RFC 6979 over SM3 (RustCrypto), so a weak random
    /// generator on a station cannot leak the key.
    pub fn sign(&self, message: &[u8]) -> Result<[u8; 64], SuiteError> {
        match self {
            SuiteKey::P256(pair) => pair
                .sign(&ring::rand::SystemRandom::new(), message)
                .map_err(|_| SuiteError::Signing)?
                .as_ref()
                .try_into()
                .map_err(|_| SuiteError::Signing),
            SuiteKey::Sm(k) => {
                let sig: sm2::dsa::Signature =
                    k.try_sign(message).map_err(|_| SuiteError::Signing)?;
                Ok(sig.to_bytes())
            }
        }
    }
}

/// SM2's Z value (GM/T 0003.2 §5.5): `SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)`,
/// ENTL the ID's length in bits as two bytes big-endian. The message signed is
/// `SM3(Z ‖ M)`. Computed here only to document it and to check the documentation
/// against GM/T 0003.5's example; signing and verifying use the `sm2` crate.
pub fn sm2_z(id: &[u8], public_key: &[u8; 65]) -> [u8; 32] {
    let bits = (id.len() * 8) as u16;
    let mut h = Sm3::new();
    h.update(bits.to_be_bytes());
    h.update(id);
    h.update(SM2_A);
    h.update(SM2_B);
    h.update(SM2_GX);
    h.update(SM2_GY);
    h.update(&public_key[1..]);
    h.finalize().into()
}

/// Verifies an SM2 signature given the prehash `e = SM3(Z ‖ M)`, as a card or HSM API
/// that takes the digest would.
pub fn sm2_verify_prehash(public_key: &[u8], e: &[u8; 32], sig: &[u8]) -> bool {
    let Ok(vk) = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_ID, public_key) else {
        return false;
    };
    let Ok(sig) = sm2::dsa::Signature::from_slice(sig) else {
        return false;
    };
    vk.verify_prehash(e, &sig).is_ok()
}

// The recommended curve's parameters (GM/T 0003.5, GB/T 32918.5).
const SM2_A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
const SM2_B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
const SM2_GX: [u8; 32] = hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
const SM2_GY: [u8; 32] = hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");

const fn hex32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not hex"),
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).expect("test hex")
    }

    /// GB/T 32905-2016 appendix A, examples 1 and 2.
    #[test]
    fn sm3_matches_the_standards_examples() {
        assert_eq!(
            hex::encode(Suite::Sm.hash(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            hex::encode(Suite::Sm.hash("abcd".repeat(16).as_bytes())),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        // And the P-256 suite is still SHA-256 (FIPS 180-2 "abc").
        assert_eq!(
            hex::encode(Suite::P256.hash(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// GB/T 32907-2016 appendix A, example 1 (one encryption; the million-fold
    /// example 2 is in tests/suite_vectors.rs, run optimised in CI's bench-free way).
    #[test]
    fn sm4_matches_the_standards_example() {
        use sm4::cipher::{BlockEncrypt, KeyInit};
        let key = h("0123456789abcdeffedcba9876543210");
        let mut block = sm4::cipher::generic_array::GenericArray::clone_from_slice(&key);
        sm4::Sm4::new_from_slice(&key)
            .expect("16-byte key")
            .encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    }

    /// GM/T 0003.5 example (recommended curve, ID 1234567812345678,
    /// M = "message digest"): Z_A, e = SM3(Z_A‖M), and the published (r, s) verifies.
    #[test]
    fn sm2_matches_the_standards_signature_example() {
        let mut public = [0u8; 65];
        public[0] = 4;
        public[1..33].copy_from_slice(&h(
            "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
        ));
        public[33..].copy_from_slice(&h(
            "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13",
        ));
        let z = sm2_z(SM2_ID.as_bytes(), &public);
        assert_eq!(
            hex::encode_upper(z),
            "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
        );
        let mut zm = z.to_vec();
        zm.extend_from_slice(b"message digest");
        let e = Suite::Sm.hash(&zm);
        assert_eq!(
            hex::encode_upper(e),
            "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
        );
        let mut sig = h("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3");
        sig.extend(h(
            "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA",
        ));
        assert!(Suite::Sm.verify(&public, b"message digest", &sig));
        assert!(sm2_verify_prehash(&public, &e, &sig));
        assert!(!Suite::Sm.verify(&public, b"message digesT", &sig));
        // The same bytes are not a P-256 signature under the same point.
        assert!(!Suite::P256.verify(&public, b"message digest", &sig));
        // The private key of the example gives the example's public key.
        let sk = sm2::dsa::SigningKey::from_slice(
            SM2_ID,
            &h("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"),
        )
        .expect("example key");
        assert_eq!(&sk.verifying_key().to_sec1_bytes()[..], &public[..]);
    }

    #[test]
    fn each_suite_signs_and_verifies_and_keys_round_trip_through_pkcs8() {
        for suite in Suite::ALL {
            let pkcs8 = suite.generate_pkcs8().expect("generate");
            let key = SuiteKey::from_pkcs8(suite, &pkcs8).expect("parse");
            assert_eq!(key.suite(), suite);
            let public = key.public_key();
            assert_eq!(public[0], 4);
            let sig = key.sign(b"ecard").expect("sign");
            assert!(suite.verify(&public, b"ecard", &sig));
            assert!(!suite.verify(&public, b"ecarD", &sig));
            let other = Suite::ALL.into_iter().find(|s| *s != suite).expect("two");
            assert!(!other.verify(&public, b"ecard", &sig));
            assert!(SuiteKey::from_pkcs8(other, &pkcs8).is_err());
        }
    }

    /// The SM4-CMAC value ../shared/GUOMI.md checked against `openssl mac ... CMAC`
    /// (not an official vector; the AES one is SP 800-38B's, in keys.rs).
    #[test]
    fn sm4_cmac_agrees_with_openssl() {
        let key: [u8; 16] = h("0123456789abcdeffedcba9876543210")
            .try_into()
            .expect("16");
        let mac = Suite::Sm.cmac(&key, &[b"a", b"bc"]);
        assert_eq!(hex::encode(mac), "8e75238ac2672a6aee408c1e251854d8");
        assert!(Suite::Sm.cmac_check(&key, &[b"abc"], &mac));
        assert!(!Suite::P256.cmac_check(&key, &[b"abc"], &mac));
    }

    #[test]
    fn hkdf_differs_by_suite_and_the_p256_one_is_unchanged() {
        let master = crate::keys::MasterKey::from_bytes(&[7; 32]).expect("key");
        let serial = [1, 2, 3, 4, 5, 6, 7, 8];
        let old = master.derive(&serial);
        let p = Suite::P256.hkdf16(&[7; 32], b"ecard-mgmt-v1", &serial);
        assert_eq!(&*p, old.expose());
        let s = Suite::Sm.hkdf16(&[7; 32], b"ecard-mgmt-v1", &serial);
        assert_ne!(*s, *p);
    }

    #[test]
    fn a_point_names_its_suite_and_any_pkcs8_key_is_read() {
        for suite in Suite::ALL {
            let pkcs8 = suite.generate_pkcs8().expect("gen");
            let key = SuiteKey::from_pkcs8_any(&pkcs8).expect("either");
            assert_eq!(key.suite(), suite);
            assert_eq!(Suite::of_point(&key.public_key()), suite);
        }
        assert_eq!(Suite::of_point(b"not a point"), Suite::P256);
        assert!(SuiteKey::from_pkcs8_any(b"junk").is_err());
    }

    #[test]
    fn the_suite_is_named_by_a_stable_code() {
        for s in Suite::ALL {
            assert_eq!(s.code().parse::<Suite>(), Ok(s));
            assert_eq!(Suite::from_tag_byte(s.tag_byte()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).expect("json"),
                format!("\"{}\"", s.code())
            );
        }
        assert!("sm2".parse::<Suite>().is_err());
        assert_eq!(Suite::from_tag_byte(0), None);
    }
}
