//! What the seal says: the printed facts of one certificate, as a CBOR map with
//! small integer keys (docs/SEAL.md §2). No citizen ID number: the card is shown to
//! the public.

use chrono::NaiveDate;
use ciborium::value::{Integer, Value};
use ecard_domain::codes::CertificateKind;
use thiserror::Error;

/// Bytes of SHA-256 over the chip photo kept in the seal: enough that a swapped
/// photo cannot be made to match (2^128 work), short enough for a small QR.
pub const PHOTO_HASH_LEN: usize = 16;

/// Keys 1..=9 in this order; the layout's version is the text's prefix (`EC1:`),
/// which costs no payload byte.
mod key {
    pub const NUMBER: u8 = 1;
    pub const NAME: u8 = 2;
    pub const UNIT: u8 = 3;
    pub const KIND: u8 = 4;
    pub const VALID_FROM: u8 = 5;
    pub const VALID_UNTIL: u8 = 6;
    pub const ISSUED_ON: u8 = 7;
    pub const CARD_SERIAL: u8 = 8;
    pub const PHOTO_HASH: u8 = 9;
    pub const COUNT: usize = 9;
}

/// The facts a seal carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealPayload {
    pub number: String,
    pub name: String,
    pub unit: String,
    pub kind: CertificateKind,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub issued_on: NaiveDate,
    pub card_serial: [u8; 8],
    pub photo_hash: [u8; PHOTO_HASH_LEN],
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayloadError {
    #[error("the payload is not one well-formed CBOR item")]
    NotCbor,
    #[error("the payload is not a map of the nine known keys in order")]
    Shape,
    #[error("field {0} has the wrong type or an impossible value")]
    Field(u8),
}

/// Days since 1970-01-01, the full-date of RFC 8943 (tag 100) without the tag:
/// three bytes in CBOR where "2026-12-02" takes eleven.
fn days(date: NaiveDate) -> u64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");
    u64::try_from((date - epoch).num_days()).unwrap_or(0)
}

fn from_days(n: u64) -> Option<NaiveDate> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    // Years after 2200 are no certificate's; the bound keeps the arithmetic finite.
    (n <= 84_000).then(|| epoch + chrono::Days::new(n))
}

/// Number, name and unit travel as GB 18030 bytes: two bytes per common Han character where
/// UTF-8 takes three, which is what lets a 25-character unit name fit a version-10
/// code. GB 18030 encodes every Unicode scalar, so encoding cannot fail.
fn gb18030(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    bytes.into_owned()
}

fn from_gb18030(bytes: &[u8]) -> Option<String> {
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    (!had_errors && !text.is_empty() && !text.chars().any(char::is_control))
        .then(|| text.into_owned())
}

impl SealPayload {
    pub fn to_cbor(&self) -> Vec<u8> {
        let entries = vec![
            (key::NUMBER, Value::Bytes(gb18030(&self.number))),
            (key::NAME, Value::Bytes(gb18030(&self.name))),
            (key::UNIT, Value::Bytes(gb18030(&self.unit))),
            (key::KIND, Value::from(self.kind.code())),
            (key::VALID_FROM, Value::from(days(self.valid_from))),
            (key::VALID_UNTIL, Value::from(days(self.valid_until))),
            (key::ISSUED_ON, Value::from(days(self.issued_on))),
            (key::CARD_SERIAL, Value::Bytes(self.card_serial.to_vec())),
            (key::PHOTO_HASH, Value::Bytes(self.photo_hash.to_vec())),
        ];
        let map = Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect(),
        );
        crate::cbor::to_vec(&map)
    }

    pub fn from_cbor(bytes: &[u8]) -> Result<Self, PayloadError> {
        let value = crate::cbor::from_slice(bytes).map_err(|_| PayloadError::NotCbor)?;
        let Value::Map(entries) = value else {
            return Err(PayloadError::Shape);
        };
        if entries.len() != key::COUNT {
            return Err(PayloadError::Shape);
        }
        // Keys in order 1..=9, each once: the issuer writes them so, and a checker
        // that accepted any order would accept two encodings of one seal.
        let mut fields = Vec::with_capacity(key::COUNT);
        for (expected, (k, v)) in entries.into_iter().enumerate() {
            match k {
                Value::Integer(i) if i == Integer::from(expected + 1) => fields.push(v),
                _ => return Err(PayloadError::Shape),
            }
        }
        let uint = |k: u8| -> Result<u64, PayloadError> {
            match &fields[usize::from(k) - 1] {
                Value::Integer(i) => u64::try_from(*i).map_err(|_| PayloadError::Field(k)),
                _ => Err(PayloadError::Field(k)),
            }
        };
        let bytes_of = |k: u8| -> Result<&[u8], PayloadError> {
            match &fields[usize::from(k) - 1] {
                Value::Bytes(b) => Ok(b),
                _ => Err(PayloadError::Field(k)),
            }
        };
        let date = |k: u8| uint(k).and_then(|n| from_days(n).ok_or(PayloadError::Field(k)));
        let text = |k: u8| bytes_of(k).and_then(|b| from_gb18030(b).ok_or(PayloadError::Field(k)));

        let kind = u8::try_from(uint(key::KIND)?)
            .ok()
            .and_then(CertificateKind::from_code)
            .ok_or(PayloadError::Field(key::KIND))?;
        let payload = SealPayload {
            number: text(key::NUMBER)?,
            name: text(key::NAME)?,
            unit: text(key::UNIT)?,
            kind,
            valid_from: date(key::VALID_FROM)?,
            valid_until: date(key::VALID_UNTIL)?,
            issued_on: date(key::ISSUED_ON)?,
            card_serial: bytes_of(key::CARD_SERIAL)?
                .try_into()
                .map_err(|_| PayloadError::Field(key::CARD_SERIAL))?,
            photo_hash: bytes_of(key::PHOTO_HASH)?
                .try_into()
                .map_err(|_| PayloadError::Field(key::PHOTO_HASH))?,
        };
        if payload.valid_until < payload.valid_from {
            return Err(PayloadError::Field(key::VALID_UNTIL));
        }
        Ok(payload)
    }

    /// The first bytes of SHA-256 over the chip photo's JPEG.
    pub fn photo_hash_of(jpeg: &[u8]) -> [u8; PHOTO_HASH_LEN] {
        let full = card_profile::pki::sha256(jpeg);
        let mut out = [0u8; PHOTO_HASH_LEN];
        out.copy_from_slice(&full[..PHOTO_HASH_LEN]);
        out
    }
}
