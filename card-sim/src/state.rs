//! The card's persistent state (its "EEPROM") and the JSON file that keeps it
//! between runs of `ecard-sim`.
//!
//! # File layout
//!
//! One JSON object; every byte string is lower- or upper-case hex. `"family"` says
//! which application the card runs: absent or `"native"` = the ecard profile below,
//! `"piv"` = a PIV card ([`crate::piv::PivState`] documents its fields).
//!
//! ```json
//! {
//!   "format": 1,
//!   "family": "native", (optional)
//!   "serial": "0102030405060708",
//!   "suite": "sm",   (absent = "p256"; the bureau's algorithm suite, #17)
//!   "management_key": "<32 hex digits: the card's diversified AES-128 or SM4 key>",
//!   "life_cycle": "Blank" | "Personalizing" | "Activated" | "Terminated",
//!   "tries_left": 10,
//!   "chip_key_pkcs8": null | "<hex of the chip key's PKCS#8 document>",
//!   "files": { "Ver": "60..", "Holder": "61..", "Photo": "", "Cert": "", "Sod": "", "Status": "" },
//!   "records": ["64..", "64.."]
//! }
//! ```
//!
//! `files` holds the transparent files by their `FileId` name; a file's length is its
//! length here (absent or `""` = never written). `records` holds EF.REVIEWS, record 1
//! first. Tests tamper with a card by editing this file (say, one byte of `Holder`),
//! so loading checks the shape (lengths, capacities, the key parses) but never the
//! content: a tampered card must load and be caught by the verifier.
//!
//! The file is a simulator artefact and holds key material in clear; it stands for
//! the inside of a chip and must never hold a production key.

use crate::piv::state::PivStateFile;
use crate::piv::PivState;
use card_profile::keys::{ManagementKey, Serial};
use card_profile::profile::{
    FileId, LifeCycle, MANAGEMENT_KEY_TRIES, MAX_RECORDS, MAX_RECORD_LEN, SERIAL_LEN,
};
use card_profile::suite::{Suite, SuiteKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Version of the JSON layout above.
pub(crate) const FORMAT: u32 = 1;

/// Which application a card runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// The ecard profile (docs/PROFILE.md).
    #[default]
    Native,
    /// A PIV card (SP 800-73-4, docs/PROFILE-PIV.md).
    Piv,
}

#[derive(Debug, Error)]
pub enum StateError {
    #[error("cannot read card state {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write card state {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("card state {path} is not the expected JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("card state format {0} is not supported (expected {FORMAT})")]
    Format(u32),
    #[error("card state field {0} is not valid hex")]
    Hex(String),
    #[error("card state field {field} has {actual} bytes, expected {expected}")]
    Length {
        field: String,
        expected: usize,
        actual: usize,
    },
    #[error("card state file {file:?} holds {len} bytes, more than its capacity {capacity}")]
    OverCapacity {
        file: FileId,
        len: usize,
        capacity: usize,
    },
    #[error("EF.REVIEWS is a record file: it belongs in \"records\", not \"files\"")]
    RecordFileInFiles,
    #[error("card state holds {0} records, more than {MAX_RECORDS}")]
    TooManyRecords(usize),
    #[error("card state record {index} has {len} bytes (allowed 1..={MAX_RECORD_LEN})")]
    BadRecord { index: usize, len: usize },
    #[error("card state tries_left {0} exceeds {MANAGEMENT_KEY_TRIES}")]
    BadTries(u8),
    #[error("card state chip key is not a PKCS#8 key of the card's suite")]
    BadChipKey,
    #[error("card state is of a {found:?} card, expected a {expected:?} one")]
    Family { expected: Family, found: Family },
    #[error("PIV card state: {0}")]
    Piv(String),
}

/// The chip key's PKCS#8 document, in the card's suite (the suite of its
/// management key: a vendor pre-personalises a card for one bureau's suite).
/// Debug output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ChipKey(pub(crate) Vec<u8>, pub(crate) Suite);

impl ChipKey {
    /// A fresh key generated "on the card".
    pub(crate) fn generate(suite: Suite) -> Result<Self, StateError> {
        let pkcs8 = suite.generate_pkcs8().map_err(|_| StateError::BadChipKey)?;
        Ok(Self(pkcs8.to_vec(), suite))
    }

    pub(crate) fn key_pair(&self) -> Result<SuiteKey, StateError> {
        SuiteKey::from_pkcs8(self.1, &self.0).map_err(|_| StateError::BadChipKey)
    }
}

impl std::fmt::Debug for ChipKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChipKey(..)")
    }
}

/// Everything the card keeps across power loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persistent {
    pub serial: Serial,
    pub management_key: ManagementKey,
    pub life_cycle: LifeCycle,
    pub tries_left: u8,
    /// Transparent files only; a missing entry is an empty (never written) file.
    pub files: BTreeMap<FileId, Vec<u8>>,
    /// EF.REVIEWS, record 1 first.
    pub records: Vec<Vec<u8>>,
    pub chip_key: Option<ChipKey>,
}

/// The JSON shape of [`Persistent`]: strings where the card has bytes.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    family: Option<Family>,
    serial: String,
    #[serde(default, skip_serializing_if = "is_p256")]
    suite: Suite,
    management_key: String,
    life_cycle: LifeCycle,
    tries_left: u8,
    chip_key_pkcs8: Option<String>,
    files: BTreeMap<FileId, String>,
    records: Vec<String>,
}

fn is_p256(s: &Suite) -> bool {
    *s == Suite::P256
}

fn unhex(field: &str, text: &str) -> Result<Vec<u8>, StateError> {
    hex::decode(text.trim()).map_err(|_| StateError::Hex(field.to_owned()))
}

impl Persistent {
    /// Saves atomically: the new file replaces the old one by rename, so a crash
    /// leaves either the old or the new state, like the card's own atomic updates.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        write_atomically(path, &self.to_json())
    }

    /// Loads a native card's state; a PIV card's file is [`StateError::Family`].
    pub fn load(path: &Path) -> Result<Self, StateError> {
        match CardState::load(path)? {
            CardState::Native(state) => Ok(state),
            CardState::Piv(_) => Err(StateError::Family {
                expected: Family::Native,
                found: Family::Piv,
            }),
        }
    }

    /// The JSON text of the state (what [`Persistent::save`] writes).
    pub fn to_json(&self) -> String {
        // Serializing strings, numbers and unit enum variants cannot fail.
        serde_json::to_string_pretty(&self.to_file()).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, StateError> {
        match CardState::from_json(text)? {
            CardState::Native(state) => Ok(state),
            CardState::Piv(_) => Err(StateError::Family {
                expected: Family::Native,
                found: Family::Piv,
            }),
        }
    }

    fn to_file(&self) -> StateFile {
        let files = FileId::ALL
            .into_iter()
            .filter(|f| !f.is_record_file())
            .map(|f| {
                let bytes = self.files.get(&f).map(Vec::as_slice).unwrap_or_default();
                (f, hex::encode_upper(bytes))
            })
            .collect();
        StateFile {
            format: FORMAT,
            family: None,
            serial: hex::encode_upper(self.serial),
            suite: self.management_key.suite(),
            management_key: hex::encode_upper(self.management_key.expose()),
            life_cycle: self.life_cycle,
            tries_left: self.tries_left,
            chip_key_pkcs8: self.chip_key.as_ref().map(|k| hex::encode_upper(&k.0)),
            files,
            records: self.records.iter().map(hex::encode_upper).collect(),
        }
    }

    fn from_file(file: StateFile) -> Result<Self, StateError> {
        if file.format != FORMAT {
            return Err(StateError::Format(file.format));
        }
        if let Some(found @ Family::Piv) = file.family {
            return Err(StateError::Family {
                expected: Family::Native,
                found,
            });
        }
        let serial_bytes = unhex("serial", &file.serial)?;
        let serial: Serial =
            serial_bytes
                .as_slice()
                .try_into()
                .map_err(|_| StateError::Length {
                    field: "serial".into(),
                    expected: SERIAL_LEN,
                    actual: serial_bytes.len(),
                })?;
        let key_bytes = unhex("management_key", &file.management_key)?;
        let management_key =
            ManagementKey::from_bytes_in(file.suite, &key_bytes).map_err(|_| {
                StateError::Length {
                    field: "management_key".into(),
                    expected: 16,
                    actual: key_bytes.len(),
                }
            })?;
        if file.tries_left > MANAGEMENT_KEY_TRIES {
            return Err(StateError::BadTries(file.tries_left));
        }
        let mut files = BTreeMap::new();
        for (id, text) in &file.files {
            if id.is_record_file() {
                return Err(StateError::RecordFileInFiles);
            }
            let bytes = unhex(&format!("files.{id:?}"), text)?;
            if bytes.len() > id.capacity() {
                return Err(StateError::OverCapacity {
                    file: *id,
                    len: bytes.len(),
                    capacity: id.capacity(),
                });
            }
            if !bytes.is_empty() {
                files.insert(*id, bytes);
            }
        }
        if file.records.len() > MAX_RECORDS {
            return Err(StateError::TooManyRecords(file.records.len()));
        }
        let mut records = Vec::with_capacity(file.records.len());
        for (index, text) in file.records.iter().enumerate() {
            let bytes = unhex(&format!("records[{index}]"), text)?;
            if bytes.is_empty() || bytes.len() > MAX_RECORD_LEN {
                return Err(StateError::BadRecord {
                    index,
                    len: bytes.len(),
                });
            }
            records.push(bytes);
        }
        let chip_key = match &file.chip_key_pkcs8 {
            None => None,
            Some(text) => {
                let key = ChipKey(unhex("chip_key_pkcs8", text)?, file.suite);
                key.key_pair()?;
                Some(key)
            }
        };
        Ok(Self {
            serial,
            management_key,
            life_cycle: file.life_cycle,
            tries_left: file.tries_left,
            files,
            records,
            chip_key,
        })
    }
}

/// The persistent state of either kind of card: what a state file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardState {
    Native(Persistent),
    Piv(PivState),
}

/// Just the `family` field, read before the rest decides the layout.
#[derive(Deserialize)]
struct FamilyProbe {
    #[serde(default)]
    family: Family,
}

impl CardState {
    pub fn family(&self) -> Family {
        match self {
            CardState::Native(_) => Family::Native,
            CardState::Piv(_) => Family::Piv,
        }
    }

    pub fn load(path: &Path) -> Result<Self, StateError> {
        let text = std::fs::read_to_string(path).map_err(|source| StateError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    pub fn from_json(text: &str) -> Result<Self, StateError> {
        Self::parse(text, Path::new(""))
    }

    fn parse(text: &str, path: &Path) -> Result<Self, StateError> {
        let json = |source| StateError::Json {
            path: path.to_owned(),
            source,
        };
        let probe: FamilyProbe = serde_json::from_str(text).map_err(json)?;
        match probe.family {
            Family::Native => {
                let file: StateFile = serde_json::from_str(text).map_err(json)?;
                Persistent::from_file(file).map(CardState::Native)
            }
            Family::Piv => {
                let file: PivStateFile = serde_json::from_str(text).map_err(json)?;
                PivState::from_file(file).map(CardState::Piv)
            }
        }
    }

    /// The JSON text of the state (what [`CardState::save`] writes).
    pub fn to_json(&self) -> String {
        // Serializing strings, numbers, maps and unit enum variants cannot fail.
        match self {
            CardState::Native(state) => state.to_json(),
            CardState::Piv(state) => {
                serde_json::to_string_pretty(&state.to_file()).unwrap_or_default()
            }
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        write_atomically(path, &self.to_json())
    }
}

/// Writes `text` (and a newline) so that the new file replaces the old one by
/// rename: a crash leaves either the old or the new state, like the card's own
/// atomic updates.
fn write_atomically(path: &Path, text: &str) -> Result<(), StateError> {
    let write_err = |source| StateError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "card".to_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(write_err)
}
