//! Handing the bureau master key to the card vendor, and taking it from one.
//!
//! The vendor who pre-personalises blank cards writes into each card the management
//! key derived from the bureau master key (card-profile `MasterKey::derive`), so the
//! vendor must hold that key — and a station that made a key nobody else ever sees
//! could never write a card the vendor made. The key travels as a **transfer file**:
//!
//! ```json
//! { "format": "ecard-master-key-transfer-v1",
//!   "check_value": "66E94B",
//!   "sealed": { "version": 1, "kdf": {…}, "salt": "…", "nonce": "…", "ciphertext": "…" } }
//! ```
//!
//! `sealed` is the keystore's format (argon2id + AES-256-GCM, crate::keystore) over
//! the raw key bytes, under a **transfer passphrase** of at least 12 characters that
//! is given to the other side by another channel (in person, by telephone), never
//! with the file; the AEAD's additional data is `"ecard-keystore-v1\0" ||
//! "bureau-master-key-transfer"`, so a station's own sealed keys cannot be passed off
//! as a transfer file nor the reverse. `check_value` is the key check value
//! (`MasterKey::check_value`: first 3 bytes of AES of the zero block under the key):
//! both sides compare it aloud after opening the file; opening refuses a file whose
//! key does not give the check value written in it.
//!
//! An SM-suite bureau's key (#17) travels with `"suite": "sm"`: its check value is
//! SM4's and the file is sealed with SM4-GCM (absent = P-256: AES, as before).

use crate::keystore::{self, KdfParams, KeystoreError, SealedKey};
use card_profile::keys::MasterKey;
use serde::{Deserialize, Serialize};

/// The `format` of a transfer file.
pub const FORMAT: &str = "ecard-master-key-transfer-v1";
/// The keystore name (AEAD additional data) of a transfer file's sealed key.
const TRANSFER_KEY: &str = "bureau-master-key-transfer";
/// A transfer file is a few hundred bytes; more is not one.
pub const MAX_FILE_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    #[error("not a master key transfer file: {0}")]
    NotATransferFile(String),
    #[error("the key does not give the check value written in the file")]
    CheckValueMismatch,
}

impl HandoverError {
    pub fn code(&self) -> &'static str {
        match self {
            HandoverError::Keystore(e) => e.code(),
            HandoverError::NotATransferFile(_) => "not_a_transfer_file",
            HandoverError::CheckValueMismatch => "check_value_mismatch",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            HandoverError::Keystore(KeystoreError::WrongPassphrase) => {
                "传递口令错误，或主密钥传递文件已被篡改".into()
            }
            HandoverError::Keystore(e) => e.message_zh().into(),
            HandoverError::NotATransferFile(_) => {
                "该文件不是主密钥传递文件（应由 ecardd keys export-master 或 seal-master 生成）"
                    .into()
            }
            HandoverError::CheckValueMismatch => {
                "主密钥与文件中的校验值不符，文件已损坏或被篡改".into()
            }
        }
    }
}

/// A master key sealed for the other side of a hand-over.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferFile {
    pub format: String,
    /// The key's suite: its check value is computed in it (AES or SM4).
    #[serde(default, skip_serializing_if = "is_p256")]
    pub suite: card_profile::suite::Suite,
    pub check_value: String,
    pub sealed: SealedKey,
}

fn is_p256(s: &card_profile::suite::Suite) -> bool {
    *s == card_profile::suite::Suite::P256
}

impl TransferFile {
    /// Seals `master` under the transfer passphrase.
    pub fn seal(
        master: &MasterKey,
        passphrase: &str,
        kdf: KdfParams,
    ) -> Result<Self, HandoverError> {
        Ok(Self {
            format: FORMAT.to_owned(),
            suite: master.suite(),
            check_value: master.check_value(),
            sealed: keystore::seal_in(
                keystore::Cipher::of(master.suite()),
                TRANSFER_KEY,
                master.expose(),
                passphrase,
                kdf,
            )?,
        })
    }

    /// Reads a transfer file's text (hostile: bounded, checked).
    pub fn parse(text: &[u8]) -> Result<Self, HandoverError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(HandoverError::NotATransferFile("too large".into()));
        }
        let file: Self = serde_json::from_slice(text)
            .map_err(|e| HandoverError::NotATransferFile(e.to_string()))?;
        if file.format != FORMAT {
            return Err(HandoverError::NotATransferFile(format!(
                "format {:?}",
                file.format
            )));
        }
        Ok(file)
    }

    /// The master key, when the passphrase opens it and it gives the check value.
    pub fn open(&self, passphrase: &str) -> Result<MasterKey, HandoverError> {
        let bytes = self.sealed.open(TRANSFER_KEY, passphrase)?;
        let master = MasterKey::from_bytes(&bytes)
            .and_then(|m| m.in_suite(self.suite))
            .map_err(|e| HandoverError::NotATransferFile(e.to_string()))?;
        if !master
            .check_value()
            .eq_ignore_ascii_case(self.check_value.trim())
        {
            return Err(HandoverError::CheckValueMismatch);
        }
        Ok(master)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> KdfParams {
        KdfParams::new(256, 1, 1).unwrap()
    }

    #[test]
    fn a_sealed_key_opens_with_its_passphrase_and_gives_its_check_value() {
        let master = MasterKey::from_bytes(&[7; 32]).unwrap();
        let file = TransferFile::seal(&master, "transfer-passphrase", cheap()).unwrap();
        let text = serde_json::to_vec(&file).unwrap();
        let back = TransferFile::parse(&text).unwrap();
        assert_eq!(back.check_value, master.check_value());
        let opened = back.open("transfer-passphrase").unwrap();
        assert_eq!(opened.expose(), master.expose());
        assert!(matches!(
            back.open("another-passphrase"),
            Err(HandoverError::Keystore(KeystoreError::WrongPassphrase))
        ));
    }

    /// An SM bureau's key (#17): SM4 check value, SM4-GCM sealing, and the suite
    /// comes back with the key.
    #[test]
    fn an_sm_key_travels_with_its_suite_and_sm4_check_value() {
        use card_profile::suite::Suite;
        let master = MasterKey::from_bytes(&[7; 16])
            .unwrap()
            .in_suite(Suite::Sm)
            .unwrap();
        let file = TransferFile::seal(&master, "transfer-passphrase", cheap()).unwrap();
        assert_eq!(file.suite, Suite::Sm);
        assert_ne!(
            file.check_value,
            MasterKey::from_bytes(&[7; 16]).unwrap().check_value()
        );
        let text = serde_json::to_string(&file).unwrap();
        assert!(
            text.contains("\"suite\":\"sm\"") && text.contains("sm4-gcm"),
            "{text}"
        );
        let back = TransferFile::parse(text.as_bytes()).unwrap();
        let opened = back.open("transfer-passphrase").unwrap();
        assert_eq!(opened.suite(), Suite::Sm);
        assert_eq!(opened.check_value(), master.check_value());
    }

    #[test]
    fn a_file_with_another_check_value_is_refused() {
        let master = MasterKey::from_bytes(&[7; 16]).unwrap();
        let mut file = TransferFile::seal(&master, "transfer-passphrase", cheap()).unwrap();
        file.check_value = "000000".into();
        assert!(matches!(
            file.open("transfer-passphrase"),
            Err(HandoverError::CheckValueMismatch)
        ));
    }

    #[test]
    fn a_station_sealed_key_is_not_a_transfer_file() {
        let sealed = keystore::seal_with(
            keystore::MASTER_KEY,
            &[7; 16],
            "transfer-passphrase",
            cheap(),
        )
        .unwrap();
        let file = TransferFile {
            format: FORMAT.into(),
            suite: Default::default(),
            check_value: MasterKey::from_bytes(&[7; 16]).unwrap().check_value(),
            sealed,
        };
        assert!(matches!(
            file.open("transfer-passphrase"),
            Err(HandoverError::Keystore(KeystoreError::WrongPassphrase))
        ));
        assert!(TransferFile::parse(b"{\"format\": \"other\"}").is_err());
        assert!(TransferFile::parse(&vec![b' '; MAX_FILE_BYTES + 1]).is_err());
    }
}
