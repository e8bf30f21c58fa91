//! The Card Holder Unique Identifier (SP 800-73-4 Part 1, Table 9): the card's
//! identity on a PIV card. ecard takes the card serial of its records from the GUID
//! (its first 8 bytes), writes an expiry equal to the certificate's, and signs the
//! CHUID with the document signer (a detached CMS SignedData in tag 3E, made by
//! [`crate::x509::chuid_signature`]).

use crate::tlv::{self, Builder, Tag, TlvError};
use chrono::NaiveDate;

const FASC_N: Tag = Tag(0x30);
const GUID: Tag = Tag(0x34);
const EXPIRY: Tag = Tag(0x35);
const SIGNATURE: Tag = Tag(0x3E);
const ERROR_DETECTION: Tag = Tag(0xFE);

/// The FASC-N with every field 9 ("no agency", SP 800-73-4 allows it when the GUID
/// identifies the card), as yubico-piv-tool's `set-chuid` writes it.
pub const NO_AGENCY_FASC_N: [u8; 25] = [
    0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D, 0x83, 0x68, 0x58, 0x21, 0x08,
    0x42, 0x10, 0x84, 0x21, 0xC8, 0x42, 0x10, 0xC3, 0xEB,
];

/// A parsed CHUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chuid {
    pub guid: [u8; 16],
    /// `YYYYMMDD`; `None` when absent or not a date.
    pub expiry: Option<NaiveDate>,
    /// The CMS SignedData of tag 3E (empty when the card's CHUID is unsigned, as
    /// yubico-piv-tool leaves it).
    pub signature: Vec<u8>,
    /// What the signature covers: every element before the signature.
    pub signed_content: Vec<u8>,
}

impl Chuid {
    /// The elements the signature covers, for a new card.
    pub fn signed_content(guid: &[u8; 16], expiry: NaiveDate) -> Vec<u8> {
        Builder::new()
            .field(FASC_N, &NO_AGENCY_FASC_N)
            .field(GUID, guid)
            .field(EXPIRY, expiry.format("%Y%m%d").to_string().as_bytes())
            .into_bytes()
    }

    /// The whole data object value: signed content, signature, error detection code.
    pub fn encode(signed_content: &[u8], signature: &[u8]) -> Vec<u8> {
        Builder::new()
            .raw(signed_content)
            .field(SIGNATURE, signature)
            .field(ERROR_DETECTION, &[])
            .into_bytes()
    }

    /// The first 8 bytes of the GUID: the serial ecard records the card under.
    pub fn serial(&self) -> [u8; 8] {
        let mut s = [0u8; 8];
        s.copy_from_slice(&self.guid[..8]);
        s
    }

    /// Parses a CHUID from any issuer: unknown elements (the 73-4 optional ones,
    /// vendor additions) are skipped, the GUID is required.
    pub fn parse(value: &[u8]) -> Result<Self, TlvError> {
        let mut guid = None;
        let mut expiry = None;
        let mut signature = None;
        let mut signed_end = None;
        let mut rest = value;
        while !rest.is_empty() {
            let (t, after) = tlv::parse_one(rest)?;
            let offset = value.len() - rest.len();
            match t.tag {
                GUID if guid.is_none() => {
                    guid = Some(
                        <[u8; 16]>::try_from(t.value).map_err(|_| TlvError::BadValue {
                            tag: GUID,
                            reason: "GUID is not 16 bytes",
                        })?,
                    )
                }
                EXPIRY if expiry.is_none() => {
                    expiry = std::str::from_utf8(t.value)
                        .ok()
                        .and_then(|s| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
                }
                SIGNATURE if signature.is_none() => {
                    signed_end = Some(offset);
                    signature = Some(t.value.to_vec());
                }
                GUID | EXPIRY | SIGNATURE => {
                    return Err(TlvError::Duplicate {
                        parent: Tag(0x53),
                        tag: t.tag,
                    })
                }
                _ => {}
            }
            rest = after;
        }
        let guid = guid.ok_or(TlvError::Missing {
            parent: Tag(0x53),
            tag: GUID,
        })?;
        Ok(Self {
            guid,
            expiry,
            signature: signature.unwrap_or_default(),
            signed_content: value[..signed_end.unwrap_or(value.len())].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2031, 6, 30).unwrap()
    }

    #[test]
    fn round_trips_and_names_what_is_signed() {
        let guid = [0xAB; 16];
        let signed = Chuid::signed_content(&guid, day());
        let value = Chuid::encode(&signed, &[1, 2, 3]);
        let chuid = Chuid::parse(&value).unwrap();
        assert_eq!(chuid.guid, guid);
        assert_eq!(chuid.expiry, Some(day()));
        assert_eq!(chuid.signature, [1, 2, 3]);
        assert_eq!(chuid.signed_content, signed);
        assert_eq!(chuid.serial(), [0xAB; 8]);
        // 30 19 FASC-N | 34 10 GUID | 35 08 "20310630" | 3E 03 .. | FE 00
        assert_eq!(&value[..2], &[0x30, 0x19]);
        assert_eq!(&value[27..29], &[0x34, 0x10]);
        assert_eq!(&value[45..55], b"\x35\x0820310630");
    }

    #[test]
    fn yubico_piv_tool_chuid_parses_unsigned() {
        // set-chuid's template: FASC-N, GUID, expiry 20300101, empty 3E, FE.
        let mut value = vec![0x30, 0x19];
        value.extend_from_slice(&NO_AGENCY_FASC_N);
        value.extend_from_slice(&[0x34, 0x10]);
        value.extend_from_slice(&[0x11; 16]);
        value.extend_from_slice(b"\x35\x0820300101\x3E\x00\xFE\x00");
        let chuid = Chuid::parse(&value).unwrap();
        assert!(chuid.signature.is_empty());
        assert_eq!(chuid.serial(), [0x11; 8]);
    }

    #[test]
    fn missing_or_short_guid_is_refused() {
        assert!(Chuid::parse(&[0x35, 0x01, 0x30]).is_err());
        assert!(Chuid::parse(&[0x34, 0x02, 1, 2]).is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Chuid::parse(&bytes);
        }
    }
}
