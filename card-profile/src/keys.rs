//! Symmetric card management: the bureau master key, the per-card management key
//! diversified from it, and the EXTERNAL AUTHENTICATE cryptogram.
//!
//! Diversification: `K_card = HKDF-SHA256(ikm = master key, salt = "ecard-mgmt-v1",
//! info = card serial)`, 16 bytes, used as an AES-128 key. The cryptogram is the full
//! AES-CMAC (NIST SP 800-38B) of `"ECARD-EXTAUTH" || serial || challenge`, as
//! GlobalPlatform SCP03 authenticates the host with a CMAC over a card nonce.
//!
//! In the SM suite (#17) the same construction runs with HKDF over HMAC-SM3 and
//! SM4-CMAC: the key travels with its suite, so no sequence names an algorithm.

use crate::profile::{CHALLENGE_LEN, CRYPTOGRAM_LEN, HOST_CHALLENGE_LEN, SERIAL_LEN};
use crate::suite::Suite;
use aes::Aes128;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub type Serial = [u8; SERIAL_LEN];

const DIVERSIFICATION_SALT: &[u8] = b"ecard-mgmt-v1";
const EXTAUTH_LABEL: &[u8] = b"ECARD-EXTAUTH";
/// The card's answer in mutual authentication: another label, so that neither side's
/// cryptogram can be replayed as the other's.
const CARDAUTH_LABEL: &[u8] = b"ECARD-CARDAUTH";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("master key must be 16 or 32 bytes, got {0}")]
    MasterKeyLength(usize),
    #[error("management key must be 16 bytes, got {0}")]
    ManagementKeyLength(usize),
    #[error("key is not valid hex")]
    NotHex,
}

/// The bureau master key from which every card's management key is derived, in the
/// bureau's suite.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey(Vec<u8>, #[zeroize(skip)] Suite);

impl MasterKey {
    /// A P-256-suite master key (AES, HKDF-SHA256).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        match bytes.len() {
            16 | 32 => Ok(Self(bytes.to_vec(), Suite::P256)),
            n => Err(KeyError::MasterKeyLength(n)),
        }
    }

    /// The same key in another suite. An SM-suite master key is 16 bytes (SM4 has
    /// one key size); its check value is SM4's.
    pub fn in_suite(mut self, suite: Suite) -> Result<Self, KeyError> {
        if suite == Suite::Sm && self.0.len() != 16 {
            return Err(KeyError::MasterKeyLength(self.0.len()));
        }
        self.1 = suite;
        Ok(self)
    }

    pub fn suite(&self) -> Suite {
        self.1
    }

    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::NotHex)?;
        Self::from_bytes(&bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn derive(&self, serial: &Serial) -> ManagementKey {
        let okm = self.1.hkdf16(&self.0, DIVERSIFICATION_SALT, serial);
        ManagementKey(*okm, self.1)
    }
}

impl MasterKey {
    /// The key check value (KCV) both sides of a hand-over compare (bureau and card
    /// vendor) to know they hold the same key without showing it: the first 3 bytes,
    /// as 6 upper-case hex digits, of AES-ECB encryption of one all-zero 16-byte
    /// block under the master key (AES-128 for a 16-byte key, AES-256 for 32 bytes) —
    /// the usual KCV of payment and smart-card HSMs, so a vendor's HSM shows the same.
    pub fn check_value(&self) -> String {
        use aes::cipher::{BlockEncrypt, KeyInit};
        use aes::Aes256;
        if let (Suite::Sm, Ok(key)) = (self.1, <&[u8; 16]>::try_from(self.0.as_slice())) {
            return hex::encode_upper(Suite::Sm.check_value16(key));
        }
        let mut block = aes::Block::default();
        match self.0.len() {
            16 => Aes128::new(aes::cipher::generic_array::GenericArray::from_slice(
                &self.0,
            ))
            .encrypt_block(&mut block),
            _ => Aes256::new(aes::cipher::generic_array::GenericArray::from_slice(
                &self.0,
            ))
            .encrypt_block(&mut block),
        }
        hex::encode_upper(&block[..3])
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// One card's 128-bit management key: AES-128, or SM4 in the SM suite.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ManagementKey([u8; 16], #[zeroize(skip)] Suite);

impl ManagementKey {
    /// A P-256-suite (AES-128) management key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        Self::from_bytes_in(Suite::P256, bytes)
    }

    pub fn from_bytes_in(suite: Suite, bytes: &[u8]) -> Result<Self, KeyError> {
        bytes
            .try_into()
            .map(|k| Self(k, suite))
            .map_err(|_| KeyError::ManagementKeyLength(bytes.len()))
    }

    pub fn suite(&self) -> Suite {
        self.1
    }

    pub fn expose(&self) -> &[u8; 16] {
        &self.0
    }

    /// The EXTERNAL AUTHENTICATE cryptogram for this card's challenge.
    pub fn cryptogram(
        &self,
        serial: &Serial,
        challenge: &[u8; CHALLENGE_LEN],
    ) -> [u8; CRYPTOGRAM_LEN] {
        self.1.cmac(
            &self.0,
            &[EXTAUTH_LABEL, serial.as_slice(), challenge.as_slice()],
        )
    }

    /// The card's cryptogram in mutual authentication: proves to the host that the
    /// card holds this key, over the host's fresh challenge and the card's own.
    pub fn card_cryptogram(
        &self,
        serial: &Serial,
        host_challenge: &[u8; HOST_CHALLENGE_LEN],
        card_challenge: &[u8; CHALLENGE_LEN],
    ) -> [u8; CRYPTOGRAM_LEN] {
        self.1.cmac(
            &self.0,
            &[
                CARDAUTH_LABEL,
                serial.as_slice(),
                host_challenge,
                card_challenge,
            ],
        )
    }

    /// Constant-time check of the card's cryptogram by the host.
    pub fn check_card_cryptogram(
        &self,
        serial: &Serial,
        host_challenge: &[u8; HOST_CHALLENGE_LEN],
        card_challenge: &[u8; CHALLENGE_LEN],
        received: &[u8],
    ) -> bool {
        self.1.cmac_check(
            &self.0,
            &[
                CARDAUTH_LABEL,
                serial.as_slice(),
                host_challenge,
                card_challenge,
            ],
            received,
        )
    }

    /// Constant-time check of a cryptogram received by the card.
    pub fn check_cryptogram(
        &self,
        serial: &Serial,
        challenge: &[u8; CHALLENGE_LEN],
        received: &[u8],
    ) -> bool {
        self.1.cmac_check(
            &self.0,
            &[EXTAUTH_LABEL, serial.as_slice(), challenge.as_slice()],
            received,
        )
    }
}

impl std::fmt::Debug for ManagementKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ManagementKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers: AES-128 of the zero block under the zero key is
    /// 66e94bd4ef8a2c3b884cfa59ca342b2e, AES-256's dc95c078a2408989ad48a21492842087
    /// (widely published known answers).
    #[test]
    fn the_check_value_is_the_first_three_bytes_of_aes_of_the_zero_block() {
        assert_eq!(
            MasterKey::from_bytes(&[0; 16]).unwrap().check_value(),
            "66E94B"
        );
        assert_eq!(
            MasterKey::from_bytes(&[0; 32]).unwrap().check_value(),
            "DC95C0"
        );
    }

    use cmac::{Cmac, Mac};

    #[test]
    fn cmac_matches_the_nist_sp800_38b_aes128_example() {
        // SP 800-38B D.1 example 2: K = 2b7e1516..., M = 6bc1bee2...(16 bytes).
        let key = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let msg = hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        let mut mac = <Cmac<Aes128> as Mac>::new_from_slice(&key).unwrap();
        mac.update(&msg);
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "070a16b46b4d4144f79bdd9dd04a287c"
        );
    }

    #[test]
    fn diversified_keys_differ_per_card_and_per_master() {
        let m1 = MasterKey::from_bytes(&[1; 16]).unwrap();
        let m2 = MasterKey::from_bytes(&[2; 16]).unwrap();
        let a = m1.derive(&[0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(a, m1.derive(&[0, 0, 0, 0, 0, 0, 0, 1]));
        assert_ne!(a, m1.derive(&[0, 0, 0, 0, 0, 0, 0, 2]));
        assert_ne!(a, m2.derive(&[0, 0, 0, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn cryptogram_binds_key_serial_and_challenge() {
        let serial = [9; 8];
        let key = MasterKey::from_bytes(&[7; 32]).unwrap().derive(&serial);
        let c = [3u8; 16];
        let crypt = key.cryptogram(&serial, &c);
        assert!(key.check_cryptogram(&serial, &c, &crypt));
        assert!(!key.check_cryptogram(&serial, &[4u8; 16], &crypt));
        assert!(!key.check_cryptogram(&[8; 8], &c, &crypt));
        assert!(!key.check_cryptogram(&serial, &c, &crypt[..15]));
    }

    #[test]
    fn the_cards_cryptogram_binds_both_challenges_and_is_not_the_hosts() {
        let serial = [9; 8];
        let key = MasterKey::from_bytes(&[7; 32]).unwrap().derive(&serial);
        let (host, card) = ([1u8; 16], [2u8; 16]);
        let answer = key.card_cryptogram(&serial, &host, &card);
        assert!(key.check_card_cryptogram(&serial, &host, &card, &answer));
        assert!(!key.check_card_cryptogram(&serial, &[3; 16], &card, &answer));
        assert!(!key.check_card_cryptogram(&serial, &host, &[3; 16], &answer));
        assert_ne!(answer, key.cryptogram(&serial, &card));
        let other = MasterKey::from_bytes(&[8; 32]).unwrap().derive(&serial);
        assert!(!other.check_card_cryptogram(&serial, &host, &card, &answer));
    }

    #[test]
    fn an_sm_master_key_derives_sm4_keys_that_differ_from_the_aes_ones() {
        let serial = [9; 8];
        let p = MasterKey::from_bytes(&[7; 16]).unwrap();
        let sm = p.clone().in_suite(Suite::Sm).unwrap();
        let (kp, ks) = (p.derive(&serial), sm.derive(&serial));
        assert_eq!(ks.suite(), Suite::Sm);
        assert_ne!(kp.expose(), ks.expose());
        let c = [3u8; 16];
        let crypt = ks.cryptogram(&serial, &c);
        assert!(ks.check_cryptogram(&serial, &c, &crypt));
        // The same key bytes under AES do not accept an SM4 cryptogram.
        let as_aes = ManagementKey::from_bytes(ks.expose()).unwrap();
        assert!(!as_aes.check_cryptogram(&serial, &c, &crypt));
        // SM4's key check value: the first bytes of GB/T 32907's example
        // ciphertext when the key is the example's.
        let k = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
        let m = MasterKey::from_bytes(&k).unwrap();
        assert_ne!(
            m.check_value(),
            m.clone().in_suite(Suite::Sm).unwrap().check_value()
        );
        assert_eq!(
            MasterKey::from_bytes(&[7; 32])
                .unwrap()
                .in_suite(Suite::Sm)
                .err(),
            Some(KeyError::MasterKeyLength(32))
        );
    }

    /// Known answers computed outside Rust (docs/SUITES.md): HKDF over HMAC-SM3 by
    /// Python's `hmac` with OpenSSL's SM3, and the SM4-CMAC cryptogram by
    /// `openssl mac -cipher SM4-CBC ... CMAC`.
    #[test]
    fn sm_diversification_and_cryptogram_match_python_and_openssl() {
        let master = MasterKey::from_hex("000102030405060708090a0b0c0d0e0f")
            .unwrap()
            .in_suite(Suite::Sm)
            .unwrap();
        let serial = [1, 2, 3, 4, 5, 6, 7, 8];
        let key = master.derive(&serial);
        assert_eq!(
            hex::encode(key.expose()),
            "6af2234beefde4315146ea5fcacdb3ad"
        );
        let challenge: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(
            hex::encode(key.cryptogram(&serial, &challenge)),
            "62c9c729fa143ba78c2112ed4c8b0e57"
        );
    }

    #[test]
    fn master_key_length_is_checked() {
        assert_eq!(
            MasterKey::from_bytes(&[0; 15]).err(),
            Some(KeyError::MasterKeyLength(15))
        );
    }
}
