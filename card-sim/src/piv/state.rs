//! The PIV card's persistent state and its JSON form in the card's state file.
//!
//! ```json
//! {
//!   "format": 1,
//!   "family": "piv",
//!   "serial": "0102030405060708",
//!   "admin_alg": "3des" | "aes128" | "aes192" | "aes256",
//!   "admin_key": "<hex: the 9B key>",
//!   "pin": "313233343536FFFF", "pin_tries_left": 3,
//!   "puk": "3132333435363738", "puk_tries_left": 3,
//!   "objects": { "5FC102": "<hex: the value inside 53>", "7E": "<hex: inside 7E>" },
//!   "keys": { "9E": { "alg": "11", "scalar": "<hex: the P-256 private scalar>" } }
//! }
//! ```
//!
//! Loading checks the shape (lengths, known tags, limits, keys that parse) but not
//! the content, so a test can tamper with an object and see the verifier catch it.

use super::admin_key::{AdminAlg, AdminKey};
use super::keys::{self, SlotKey, ALG_P256};
use super::objects::{self, TOTAL_BUDGET};
use super::pin::{self, Kind, Reference, PIN_TRIES, PUK_TRIES, REF_LEN};
use crate::state::StateError;
use card_profile::keys::Serial;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a blank PIV card is made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivSetup {
    /// The card's serial: F8 answers its last four bytes, as a YubiKey's serial.
    pub serial: Serial,
    pub admin_key: AdminKey,
}

impl PivSetup {
    /// A card as a shop sells it: the factory 9B key (3DES `0102…08` ×3).
    pub fn factory(serial: Serial) -> Self {
        Self {
            serial,
            admin_key: AdminKey::factory(),
        }
    }
}

/// Everything a PIV card keeps across power loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivState {
    pub serial: Serial,
    pub admin_key: AdminKey,
    pub pin: Reference,
    pub puk: Reference,
    /// Object tag → its value (inside `53`, or inside `7E` / `7F61`). Absent = empty.
    pub objects: BTreeMap<u32, Vec<u8>>,
    /// Key reference → private key.
    pub keys: BTreeMap<u8, SlotKey>,
}

impl PivState {
    /// Factory blank: PIN 123456, PUK 12345678, no objects, no keys.
    pub fn blank(setup: PivSetup) -> Self {
        let mut pin = [0xFF; REF_LEN];
        pin[..pin::DEFAULT_PIN.len()].copy_from_slice(pin::DEFAULT_PIN);
        let mut puk = [0xFF; REF_LEN];
        puk[..pin::DEFAULT_PUK.len()].copy_from_slice(pin::DEFAULT_PUK);
        Self {
            serial: setup.serial,
            admin_key: setup.admin_key,
            pin: Reference {
                value: pin,
                tries_left: PIN_TRIES,
                max_tries: PIN_TRIES,
            },
            puk: Reference {
                value: puk,
                tries_left: PUK_TRIES,
                max_tries: PUK_TRIES,
            },
            objects: BTreeMap::new(),
            keys: BTreeMap::new(),
        }
    }

    /// Bytes held by all objects (what [`TOTAL_BUDGET`] limits).
    pub fn used(&self) -> usize {
        self.objects.values().map(Vec::len).sum()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PivStateFile {
    format: u32,
    family: crate::state::Family,
    serial: String,
    admin_alg: AdminAlg,
    admin_key: String,
    pin: String,
    pin_tries_left: u8,
    puk: String,
    puk_tries_left: u8,
    objects: BTreeMap<String, String>,
    keys: BTreeMap<String, KeyFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    alg: String,
    scalar: String,
}

fn unhex(field: &str, text: &str) -> Result<Vec<u8>, StateError> {
    hex::decode(text.trim()).map_err(|_| StateError::Hex(field.to_owned()))
}

fn length(field: &str, expected: usize, actual: usize) -> StateError {
    StateError::Length {
        field: field.to_owned(),
        expected,
        actual,
    }
}

fn reference(
    field: &str,
    kind: Kind,
    text: &str,
    tries_left: u8,
    max_tries: u8,
) -> Result<Reference, StateError> {
    let bytes = unhex(field, text)?;
    if !pin::well_formed(kind, &bytes) {
        return Err(StateError::Piv(format!("{field} is not a padded {kind:?}")));
    }
    if tries_left > max_tries {
        return Err(StateError::Piv(format!(
            "{field}_tries_left {tries_left} exceeds {max_tries}"
        )));
    }
    let mut value = [0; REF_LEN];
    value.copy_from_slice(&bytes);
    Ok(Reference {
        value,
        tries_left,
        max_tries,
    })
}

impl PivState {
    pub(crate) fn to_file(&self) -> PivStateFile {
        PivStateFile {
            format: crate::state::FORMAT,
            family: crate::state::Family::Piv,
            serial: hex::encode_upper(self.serial),
            admin_alg: self.admin_key.alg(),
            admin_key: hex::encode_upper(self.admin_key.expose()),
            pin: hex::encode_upper(self.pin.value),
            pin_tries_left: self.pin.tries_left,
            puk: hex::encode_upper(self.puk.value),
            puk_tries_left: self.puk.tries_left,
            objects: self
                .objects
                .iter()
                .map(|(tag, v)| {
                    (
                        hex::encode_upper(objects::tag_bytes(*tag)),
                        hex::encode_upper(v),
                    )
                })
                .collect(),
            keys: self
                .keys
                .iter()
                .map(|(slot, key)| {
                    (
                        format!("{slot:02X}"),
                        KeyFile {
                            alg: format!("{ALG_P256:02X}"),
                            scalar: hex::encode_upper(key.scalar()),
                        },
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn from_file(file: PivStateFile) -> Result<Self, StateError> {
        if file.format != crate::state::FORMAT {
            return Err(StateError::Format(file.format));
        }
        let serial_bytes = unhex("serial", &file.serial)?;
        let serial: Serial = serial_bytes
            .as_slice()
            .try_into()
            .map_err(|_| length("serial", 8, serial_bytes.len()))?;
        let key_bytes = unhex("admin_key", &file.admin_key)?;
        let admin_key = AdminKey::new(file.admin_alg, &key_bytes)
            .map_err(|_| length("admin_key", file.admin_alg.key_len(), key_bytes.len()))?;
        let pin = reference("pin", Kind::Pin, &file.pin, file.pin_tries_left, PIN_TRIES)?;
        let puk = reference("puk", Kind::Puk, &file.puk, file.puk_tries_left, PUK_TRIES)?;
        let mut objects = BTreeMap::new();
        for (tag_hex, text) in &file.objects {
            let field = format!("objects.{tag_hex}");
            let tag = objects::tag_from_bytes(&unhex(&field, tag_hex)?)
                .ok_or_else(|| StateError::Piv(format!("{field}: not a tag")))?;
            let spec = objects::spec(tag)
                .ok_or_else(|| StateError::Piv(format!("{field}: no such object")))?;
            let value = unhex(&field, text)?;
            if value.len() > spec.max_len {
                return Err(StateError::Piv(format!(
                    "{field} holds {} bytes, more than {}",
                    value.len(),
                    spec.max_len
                )));
            }
            if !value.is_empty() {
                objects.insert(tag, value);
            }
        }
        let mut keys = BTreeMap::new();
        for (slot_hex, key) in &file.keys {
            let field = format!("keys.{slot_hex}");
            let slot = match unhex(&field, slot_hex)?.as_slice() {
                [slot] if keys::use_rule(*slot).is_some() => *slot,
                _ => return Err(StateError::Piv(format!("{field}: not a key slot"))),
            };
            if !key.alg.eq_ignore_ascii_case(&format!("{ALG_P256:02X}")) {
                return Err(StateError::Piv(format!(
                    "{field}: algorithm {} (only 11)",
                    key.alg
                )));
            }
            let scalar = zeroize::Zeroizing::new(unhex(&field, &key.scalar)?);
            let key = SlotKey::from_scalar(&scalar)
                .map_err(|_| StateError::Piv(format!("{field}: not a P-256 key")))?;
            keys.insert(slot, key);
        }
        let state = Self {
            serial,
            admin_key,
            pin,
            puk,
            objects,
            keys,
        };
        if state.used() > TOTAL_BUDGET {
            return Err(StateError::Piv(format!(
                "objects hold {} bytes, more than the card's {TOTAL_BUDGET}",
                state.used()
            )));
        }
        Ok(state)
    }
}
