//! The PIV Card Application Administration Key (key reference 9B): the symmetric key
//! that every PUT DATA and GENERATE KEY PAIR needs, and the block cipher steps of its
//! mutual authentication (SP 800-73-4 Part 2, Appendix A.1, "challenge/response").
//!
//! Per card, it is diversified from the bureau master key like the native management
//! key (keys.rs): `HKDF-SHA256(ikm = master key, salt = "ecard-piv-9b-v1", info =
//! card serial)`, 16 bytes, used as AES-128, or as two-key 3DES `K1 | K2 | K1` on a
//! card (or a tool, yubico-piv-tool 2.2) that speaks only 3DES.

use crate::keys::{MasterKey, Serial};
use crate::suite::Suite;
use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use thiserror::Error;
use zeroize::Zeroizing;

const DIVERSIFICATION_SALT: &[u8] = b"ecard-piv-9b-v1";

/// The key every PIV card leaves the factory with (YubiKey, Nitrokey, most vendors):
/// 01..08 three times, 3DES.
pub const FACTORY_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];

/// The 9B key's algorithm (SP 800-78-4 Table 6-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminAlgorithm {
    /// 03: three-key 3DES-ECB (a two-key key is written K1 | K2 | K1).
    Tdes,
    /// 08: AES-128.
    Aes128,
    /// 0A: AES-192.
    Aes192,
    /// 0C: AES-256.
    Aes256,
}

impl AdminAlgorithm {
    pub const fn id(self) -> u8 {
        match self {
            AdminAlgorithm::Tdes => 0x03,
            AdminAlgorithm::Aes128 => 0x08,
            AdminAlgorithm::Aes192 => 0x0A,
            AdminAlgorithm::Aes256 => 0x0C,
        }
    }

    pub const fn key_len(self) -> usize {
        match self {
            AdminAlgorithm::Tdes | AdminAlgorithm::Aes192 => 24,
            AdminAlgorithm::Aes128 => 16,
            AdminAlgorithm::Aes256 => 32,
        }
    }

    /// The cipher's block: the witness and challenge length.
    pub const fn block_len(self) -> usize {
        match self {
            AdminAlgorithm::Tdes => 8,
            _ => 16,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            AdminAlgorithm::Tdes => "3DES",
            AdminAlgorithm::Aes128 => "AES-128",
            AdminAlgorithm::Aes192 => "AES-192",
            AdminAlgorithm::Aes256 => "AES-256",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminKeyError {
    #[error("a {alg} key is {expected} bytes, got {got}")]
    Length {
        alg: &'static str,
        expected: usize,
        got: usize,
    },
    /// PIV is a P-256 family here; an SM bureau's master key derives no 9B key.
    #[error("the PIV card family is not offered for the SM suite")]
    SuiteNotSupported,
    #[error("a cipher block must be {expected} bytes, got {got}")]
    Block { expected: usize, got: usize },
}

/// A 9B key with its algorithm.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminKey {
    alg: AdminAlgorithm,
    key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminKey({}, ..)", self.alg.name())
    }
}

impl AdminKey {
    pub fn new(alg: AdminAlgorithm, key: &[u8]) -> Result<Self, AdminKeyError> {
        if key.len() != alg.key_len() {
            return Err(AdminKeyError::Length {
                alg: alg.name(),
                expected: alg.key_len(),
                got: key.len(),
            });
        }
        Ok(Self {
            alg,
            key: Zeroizing::new(key.to_vec()),
        })
    }

    /// The factory key of a PIV card as sold.
    pub fn factory() -> Self {
        Self {
            alg: AdminAlgorithm::Tdes,
            key: Zeroizing::new(FACTORY_KEY.to_vec()),
        }
    }

    /// This card's 9B key from the bureau master key, in `alg` (AES-128, or 3DES
    /// from the same 16 bytes). Other algorithms are not derived.
    pub fn derive(
        master: &MasterKey,
        serial: &Serial,
        alg: AdminAlgorithm,
    ) -> Result<Self, AdminKeyError> {
        if master.suite() != Suite::P256 {
            return Err(AdminKeyError::SuiteNotSupported);
        }
        let okm = Suite::P256.hkdf16(master.expose(), DIVERSIFICATION_SALT, serial);
        let key = match alg {
            AdminAlgorithm::Tdes => {
                let mut k = Zeroizing::new(Vec::with_capacity(24));
                k.extend_from_slice(&okm[..]);
                k.extend_from_slice(&okm[..8]);
                set_odd_parity(&mut k);
                k
            }
            AdminAlgorithm::Aes128 => Zeroizing::new(okm.to_vec()),
            other => {
                return Err(AdminKeyError::Length {
                    alg: other.name(),
                    expected: other.key_len(),
                    got: 16,
                })
            }
        };
        Ok(Self { alg, key })
    }

    pub fn algorithm(&self) -> AdminAlgorithm {
        self.alg
    }

    pub fn expose(&self) -> &[u8] {
        &self.key
    }

    /// One block, ECB: the card's witness answer and the host's check of the
    /// card's response.
    pub fn encrypt_block(&self, block: &[u8]) -> Result<Vec<u8>, AdminKeyError> {
        self.block(block, true)
    }

    /// One block, ECB: the host reads the card's witness.
    pub fn decrypt_block(&self, block: &[u8]) -> Result<Vec<u8>, AdminKeyError> {
        self.block(block, false)
    }

    fn block(&self, block: &[u8], encrypt: bool) -> Result<Vec<u8>, AdminKeyError> {
        let expected = self.alg.block_len();
        if block.len() != expected {
            return Err(AdminKeyError::Block {
                expected,
                got: block.len(),
            });
        }
        // The key length was checked at construction, so `new_from_slice` cannot fail.
        macro_rules! run {
            ($cipher:ty) => {{
                let c =
                    <$cipher>::new_from_slice(&self.key).map_err(|_| AdminKeyError::Length {
                        alg: self.alg.name(),
                        expected: self.alg.key_len(),
                        got: self.key.len(),
                    })?;
                let mut b = GenericArray::clone_from_slice(block);
                if encrypt {
                    c.encrypt_block(&mut b)
                } else {
                    c.decrypt_block(&mut b)
                }
                b.to_vec()
            }};
        }
        Ok(match self.alg {
            AdminAlgorithm::Tdes => run!(des::TdesEde3),
            AdminAlgorithm::Aes128 => run!(aes::Aes128),
            AdminAlgorithm::Aes192 => run!(aes::Aes192),
            AdminAlgorithm::Aes256 => run!(aes::Aes256),
        })
    }
}

/// DES keys carry odd parity in each byte's low bit; cards that check it refuse others.
fn set_odd_parity(key: &mut [u8]) {
    for b in key.iter_mut() {
        let ones = (*b >> 1).count_ones();
        *b = (*b & 0xFE) | u8::from(ones % 2 == 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        MasterKey::from_bytes(&[0x42; 32]).unwrap()
    }

    #[test]
    fn derived_keys_differ_per_card_and_match_between_algorithms() {
        let a = AdminKey::derive(&master(), &[1; 8], AdminAlgorithm::Aes128).unwrap();
        let b = AdminKey::derive(&master(), &[2; 8], AdminAlgorithm::Aes128).unwrap();
        assert_ne!(a.expose(), b.expose());
        let t = AdminKey::derive(&master(), &[1; 8], AdminAlgorithm::Tdes).unwrap();
        assert_eq!(t.expose().len(), 24);
        // K1 | K2 | K1, the AES key's bytes up to DES parity.
        assert_eq!(t.expose()[..8], t.expose()[16..]);
        for (d, a) in t.expose()[..16].iter().zip(a.expose()) {
            assert_eq!(d & 0xFE, a & 0xFE);
            assert_eq!(d.count_ones() % 2, 1);
        }
    }

    #[test]
    fn sm_masters_derive_no_piv_key() {
        let sm = MasterKey::from_bytes(&[7; 16])
            .unwrap()
            .in_suite(Suite::Sm)
            .unwrap();
        assert_eq!(
            AdminKey::derive(&sm, &[1; 8], AdminAlgorithm::Aes128),
            Err(AdminKeyError::SuiteNotSupported)
        );
    }

    #[test]
    fn blocks_round_trip_in_every_algorithm() {
        for (alg, len) in [
            (AdminAlgorithm::Tdes, 24),
            (AdminAlgorithm::Aes128, 16),
            (AdminAlgorithm::Aes192, 24),
            (AdminAlgorithm::Aes256, 32),
        ] {
            let key = AdminKey::new(alg, &vec![0x5A; len]).unwrap();
            let block = vec![0x11; alg.block_len()];
            let c = key.encrypt_block(&block).unwrap();
            assert_ne!(c, block);
            assert_eq!(key.decrypt_block(&c).unwrap(), block);
            assert!(key.encrypt_block(&[0; 3]).is_err());
        }
    }

    #[test]
    fn factory_key_matches_the_known_3des_vector() {
        // 3DES-ECB of zero under 0102..08 x3 (single DES with K=0102030405060708),
        // as `openssl enc -des-ecb -K 0102030405060708 -nopad` gives.
        let key = AdminKey::factory();
        let c = key.encrypt_block(&[0; 8]).unwrap();
        assert_eq!(key.decrypt_block(&c).unwrap(), [0; 8]);
        assert_eq!(c.len(), 8);
    }
}
