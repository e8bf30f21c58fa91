//! The PIV Card Application Administration Key (key reference 9B): its algorithm,
//! its bytes, and the one-block cipher the authentication flows use (SP 800-78-4
//! Table 6-1: 3DES with a 24-byte key, AES-128/192/256).

use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

/// Algorithm of the 9B key, by its SP 800-78 identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminAlg {
    /// `03`: three-key 3DES (ECB), 8-byte blocks. The only one yubico-piv-tool 2.2 speaks.
    #[serde(rename = "3des")]
    TripleDes,
    /// `08`
    Aes128,
    /// `0A`
    Aes192,
    /// `0C`
    Aes256,
}

impl AdminAlg {
    pub const ALL: [AdminAlg; 4] = [
        AdminAlg::TripleDes,
        AdminAlg::Aes128,
        AdminAlg::Aes192,
        AdminAlg::Aes256,
    ];

    /// The algorithm identifier in P1 of GENERAL AUTHENTICATE.
    pub const fn id(self) -> u8 {
        match self {
            AdminAlg::TripleDes => 0x03,
            AdminAlg::Aes128 => 0x08,
            AdminAlg::Aes192 => 0x0A,
            AdminAlg::Aes256 => 0x0C,
        }
    }

    pub const fn from_id(id: u8) -> Option<AdminAlg> {
        match id {
            0x03 => Some(AdminAlg::TripleDes),
            0x08 => Some(AdminAlg::Aes128),
            0x0A => Some(AdminAlg::Aes192),
            0x0C => Some(AdminAlg::Aes256),
            _ => None,
        }
    }

    /// Does P1 of a GENERAL AUTHENTICATE name this algorithm? `00` is the
    /// pre-800-73-3 name of 3DES, still sent by OpenSC for a random challenge.
    pub const fn answers_to(self, p1: u8) -> bool {
        p1 == self.id() || (p1 == 0x00 && matches!(self, AdminAlg::TripleDes))
    }

    pub const fn key_len(self) -> usize {
        self.host().key_len()
    }

    /// The witness and challenge length: one cipher block.
    pub const fn block_len(self) -> usize {
        self.host().block_len()
    }

    /// The host's name for the same algorithm.
    pub const fn host(self) -> card_profile::piv::AdminAlgorithm {
        use card_profile::piv::AdminAlgorithm as Host;
        match self {
            AdminAlg::TripleDes => Host::Tdes,
            AdminAlg::Aes128 => Host::Aes128,
            AdminAlg::Aes192 => Host::Aes192,
            AdminAlg::Aes256 => Host::Aes256,
        }
    }

    /// The name used on the `ecard-sim` command line and in the state file.
    pub const fn name(self) -> &'static str {
        match self {
            AdminAlg::TripleDes => "3des",
            AdminAlg::Aes128 => "aes128",
            AdminAlg::Aes192 => "aes192",
            AdminAlg::Aes256 => "aes256",
        }
    }
}

impl std::str::FromStr for AdminAlg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AdminAlg::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown 9B algorithm {s:?} (3des, aes128, aes192, aes256)"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdminKeyError {
    #[error("a {} key has {expected} bytes, not {actual}", .alg.name())]
    Length {
        alg: AdminAlg,
        expected: usize,
        actual: usize,
    },
}

/// The 9B key. Debug output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminKey {
    alg: AdminAlg,
    key: Zeroizing<Vec<u8>>,
}

/// The factory 9B key of YubiKeys and Nitrokeys: `01..08` three times (3DES).
pub const DEFAULT_ADMIN_KEY: [u8; 24] = card_profile::piv::admin_key::FACTORY_KEY;

impl AdminKey {
    pub fn new(alg: AdminAlg, key: &[u8]) -> Result<Self, AdminKeyError> {
        if key.len() != alg.key_len() {
            return Err(AdminKeyError::Length {
                alg,
                expected: alg.key_len(),
                actual: key.len(),
            });
        }
        Ok(Self {
            alg,
            key: Zeroizing::new(key.to_vec()),
        })
    }

    /// The factory default: 3DES, [`DEFAULT_ADMIN_KEY`].
    pub fn factory() -> Self {
        Self {
            alg: AdminAlg::TripleDes,
            key: Zeroizing::new(DEFAULT_ADMIN_KEY.to_vec()),
        }
    }

    pub fn alg(&self) -> AdminAlg {
        self.alg
    }

    /// The key bytes (for the state file and tests).
    pub fn expose(&self) -> &[u8] {
        &self.key
    }

    /// Encrypts one block; `None` when `block` is not one block long.
    pub fn encrypt_block(&self, block: &[u8]) -> Option<Vec<u8>> {
        self.cipher(block, true)
    }

    /// Decrypts one block; `None` when `block` is not one block long.
    pub fn decrypt_block(&self, block: &[u8]) -> Option<Vec<u8>> {
        self.cipher(block, false)
    }

    /// The one block cipher of the 9B flows is the host's
    /// (`card_profile::piv::AdminKey`): card and host cannot disagree on it.
    fn cipher(&self, block: &[u8], encrypt: bool) -> Option<Vec<u8>> {
        let host = card_profile::piv::AdminKey::new(self.alg.host(), &self.key).ok()?;
        if encrypt {
            host.encrypt_block(block).ok()
        } else {
            host.decrypt_block(block).ok()
        }
    }
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triple_des_matches_the_nist_sp800_67_vector() {
        // SP 800-67 Rev. 2 Appendix B: K1 K2 K3, first plaintext block.
        let key = hex::decode("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123").expect("hex");
        let key = AdminKey::new(AdminAlg::TripleDes, &key).expect("24 bytes");
        let plain = hex::decode("5468652071756663").expect("hex");
        let enc = key.encrypt_block(&plain).expect("one block");
        assert_eq!(hex::encode_upper(&enc), "A826FD8CE53B855F");
        assert_eq!(key.decrypt_block(&enc).expect("one block"), plain);
    }

    #[test]
    fn aes_128_matches_fips_197_appendix_c() {
        let key = AdminKey::new(
            AdminAlg::Aes128,
            &hex::decode("000102030405060708090a0b0c0d0e0f").expect("hex"),
        )
        .expect("16 bytes");
        let plain = hex::decode("00112233445566778899aabbccddeeff").expect("hex");
        let enc = key.encrypt_block(&plain).expect("one block");
        assert_eq!(hex::encode(&enc), "69c4e0d86a7b0430d8cdb78070b4c55a");
        assert_eq!(key.decrypt_block(&enc).expect("one block"), plain);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        assert!(AdminKey::new(AdminAlg::Aes256, &[0; 24]).is_err());
        assert!(AdminKey::factory().encrypt_block(&[0; 16]).is_none());
        assert_eq!("AES192".parse::<AdminAlg>(), Ok(AdminAlg::Aes192));
        assert!("des".parse::<AdminAlg>().is_err());
        for alg in AdminAlg::ALL {
            assert_eq!(AdminAlg::from_id(alg.id()), Some(alg));
        }
        assert!(AdminAlg::TripleDes.answers_to(0x00));
        assert!(!AdminAlg::Aes128.answers_to(0x00));
    }
}
