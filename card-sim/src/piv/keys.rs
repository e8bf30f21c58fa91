//! The asymmetric key slots and what their keys do: ECC P-256 (algorithm `11`)
//! only. Keys are generated on the card and never leave it; the card signs a digest
//! the host sends (ECDSA over a prehash, which ring cannot do, hence the p256 crate)
//! and derives an ECDH secret.

use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use ring::rand::SecureRandom;

/// SP 800-78 algorithm identifier of ECC P-256.
pub const ALG_P256: u8 = 0x11;
/// Length of an uncompressed P-256 point `04 X Y`.
pub const POINT_LEN: usize = 65;
/// Length of the digest GENERAL AUTHENTICATE signs with a P-256 key.
pub const DIGEST_LEN: usize = 32;

/// Who may use the key in a slot (SP 800-73-4 Part 1 Table 4b, contact interface).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UseRule {
    /// 9E, card authentication: no PIN.
    Always,
    /// 9A, 9D and the retired keys: PIN verified in this session.
    Pin,
    /// 9C, digital signature: PIN verified by the command just before ("PIN Always").
    PinAlways,
}

/// The use rule of key reference `slot`, or `None` when it is not an asymmetric slot.
pub fn use_rule(slot: u8) -> Option<UseRule> {
    match slot {
        0x9E => Some(UseRule::Always),
        0x9C => Some(UseRule::PinAlways),
        0x9A | 0x9D | 0x82..=0x95 => Some(UseRule::Pin),
        _ => None,
    }
}

/// A P-256 private key in a slot. Debug output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SlotKey(SecretKey);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the random number generator failed")]
    Random,
    #[error("not a P-256 private key")]
    BadKey,
    #[error("not a P-256 public point")]
    BadPoint,
    #[error("digest of {0} bytes (a P-256 key signs {DIGEST_LEN})")]
    BadDigest(usize),
    #[error("signing failed")]
    Sign,
}

impl SlotKey {
    /// A fresh key "generated on the card".
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, KeyError> {
        // A random 32-byte string is a valid scalar except with probability ~2^-32;
        // a few attempts make failure practically impossible.
        for _ in 0..8 {
            let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
            rng.fill(bytes.as_mut()).map_err(|_| KeyError::Random)?;
            if let Ok(key) = SecretKey::from_slice(bytes.as_ref()) {
                return Ok(Self(key));
            }
        }
        Err(KeyError::Random)
    }

    /// From the 32-byte scalar (the state file's form).
    pub fn from_scalar(bytes: &[u8]) -> Result<Self, KeyError> {
        SecretKey::from_slice(bytes)
            .map(Self)
            .map_err(|_| KeyError::BadKey)
    }

    pub fn scalar(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(self.0.to_bytes().to_vec())
    }

    /// The public key as an uncompressed point `04 X Y`.
    pub fn public_point(&self) -> Vec<u8> {
        self.0
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    /// ECDSA over `digest` (exactly [`DIGEST_LEN`] bytes): the DER `Ecdsa-Sig-Value`.
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        if digest.len() != DIGEST_LEN {
            return Err(KeyError::BadDigest(digest.len()));
        }
        let signer = SigningKey::from(&self.0);
        let sig: DerSignature = signer.sign_prehash(digest).map_err(|_| KeyError::Sign)?;
        Ok(sig.as_bytes().to_vec())
    }

    /// ECDH with the peer's uncompressed point: the shared X coordinate.
    pub fn agree(&self, peer_point: &[u8]) -> Result<Vec<u8>, KeyError> {
        if peer_point.len() != POINT_LEN {
            return Err(KeyError::BadPoint);
        }
        let peer = PublicKey::from_sec1_bytes(peer_point).map_err(|_| KeyError::BadPoint)?;
        let shared = p256::ecdh::diffie_hellman(self.0.to_nonzero_scalar(), peer.as_affine());
        Ok(shared.raw_secret_bytes().to_vec())
    }
}

impl std::fmt::Debug for SlotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlotKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};

    #[test]
    fn a_signature_over_a_digest_verifies_with_ring_over_the_message() {
        let key = SlotKey::generate(&ring::rand::SystemRandom::new()).expect("key");
        let message = b"challenge from a verifier";
        let digest = ring::digest::digest(&ring::digest::SHA256, message);
        let sig = key.sign_digest(digest.as_ref()).expect("sign");
        let public = key.public_point();
        assert_eq!(public.len(), POINT_LEN);
        assert_eq!(public[0], 0x04);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public)
            .verify(message, &sig)
            .expect("ring verifies the card's signature");
        assert_eq!(key.sign_digest(&[0; 20]), Err(KeyError::BadDigest(20)));
    }

    #[test]
    fn both_sides_of_ecdh_agree() {
        let rng = ring::rand::SystemRandom::new();
        let a = SlotKey::generate(&rng).expect("key");
        let b = SlotKey::generate(&rng).expect("key");
        assert_eq!(
            a.agree(&b.public_point()).expect("a"),
            b.agree(&a.public_point()).expect("b")
        );
        assert_eq!(a.agree(&[4; 65]), Err(KeyError::BadPoint));
    }

    #[test]
    fn scalar_round_trips() {
        let key = SlotKey::generate(&ring::rand::SystemRandom::new()).expect("key");
        assert_eq!(SlotKey::from_scalar(&key.scalar()).expect("scalar"), key);
        assert_eq!(SlotKey::from_scalar(&[0; 32]), Err(KeyError::BadKey));
    }

    #[test]
    fn slots_and_their_rules() {
        assert_eq!(use_rule(0x9E), Some(UseRule::Always));
        assert_eq!(use_rule(0x9C), Some(UseRule::PinAlways));
        assert_eq!(use_rule(0x9A), Some(UseRule::Pin));
        assert_eq!(use_rule(0x95), Some(UseRule::Pin));
        assert_eq!(use_rule(0x9B), None);
        assert_eq!(use_rule(0x96), None);
    }
}
