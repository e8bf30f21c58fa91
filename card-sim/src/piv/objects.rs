//! The data objects of the card: which tags exist, who may read them, how big they
//! may be (SP 800-73-4 Part 1 Table 3, plus the vendor range ecard's host uses).
//!
//! Limits, so that what fits here fits a real token:
//! - one object holds at most [`YUBIKEY_OBJECT_MAX`] bytes (the value inside `53`),
//!   or its 73-4 minimum capacity where that is larger (fingerprints, facial image,
//!   iris);
//! - all objects together hold at most [`TOTAL_BUDGET`] bytes.

/// Who may read an object on the contact interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRule {
    Always,
    /// The PIV PIN verified in this session (6982 otherwise).
    Pin,
}

/// What the card knows about one object tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectSpec {
    pub tag: u32,
    pub read: ReadRule,
    /// Largest value accepted by PUT DATA.
    pub max_len: usize,
}

/// The largest object a YubiKey 5 stores; ykpiv 2.2 cannot write more either
/// (`CB_OBJ_MAX` 3063 counts the `5C` and `53` headers too).
pub const YUBIKEY_OBJECT_MAX: usize = 3052;
/// All objects together (YubiKey 5: about 51 KB for PIV data objects).
pub const TOTAL_BUDGET: usize = 51_200;

/// The Discovery Object (GET DATA `5C 01 7E` answers `7E L v`, not `53`).
pub const DISCOVERY: u32 = 0x7E;
/// The Biometric Information Templates Group Template (answers `7F61 L v`).
pub const BIT_GROUP: u32 = 0x7F61;
/// The vendor range; ecard's host keeps its own objects here. Always readable.
pub const VENDOR_FIRST: u32 = 0x5F_FF00;
pub const VENDOR_LAST: u32 = 0x5F_FFFF;

pub const CHUID: u32 = 0x5F_C102;
pub const CCC: u32 = 0x5F_C107;
pub const CERT_9A: u32 = 0x5F_C105;
pub const CERT_9C: u32 = 0x5F_C10A;
pub const CERT_9D: u32 = 0x5F_C10B;
pub const CERT_9E: u32 = 0x5F_C101;
pub const SECURITY_OBJECT: u32 = 0x5F_C106;
pub const FINGERPRINTS: u32 = 0x5F_C103;
pub const FACIAL_IMAGE: u32 = 0x5F_C108;
pub const PRINTED_INFO: u32 = 0x5F_C109;
pub const KEY_HISTORY: u32 = 0x5F_C10C;
pub const IRIS: u32 = 0x5F_C121;
pub const SM_CERT_SIGNER: u32 = 0x5F_C122;
pub const PAIRING_CODE: u32 = 0x5F_C123;

/// Retired key management certificates 1–20 (keys 82–95).
const RETIRED_FIRST: u32 = 0x5F_C10D;
const RETIRED_LAST: u32 = 0x5F_C120;

/// The discovery object of a card whose only PIN is the PIV PIN: the AID, and PIN
/// usage policy `40 00` (PIV PIN, no Global PIN, no OCC) [73-4 Part 1 §3.3.2].
pub const DEFAULT_DISCOVERY: [u8; 18] = [
    0x4F, 0x0B, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x5F, 0x2F, 0x02,
    0x40, 0x00,
];

/// 73-4 minimum capacities where they exceed the YubiKey limit.
fn capacity(tag: u32) -> usize {
    match tag {
        FINGERPRINTS => 4006,
        FACIAL_IMAGE => 12_710,
        IRIS => 7106,
        _ => YUBIKEY_OBJECT_MAX,
    }
}

/// The object named by `tag`, when the card has such an object.
pub fn spec(tag: u32) -> Option<ObjectSpec> {
    let read = match tag {
        FINGERPRINTS | FACIAL_IMAGE | PRINTED_INFO | IRIS | PAIRING_CODE => ReadRule::Pin,
        CHUID | CCC | CERT_9A | CERT_9C | CERT_9D | CERT_9E | SECURITY_OBJECT | KEY_HISTORY
        | SM_CERT_SIGNER | DISCOVERY | BIT_GROUP => ReadRule::Always,
        RETIRED_FIRST..=RETIRED_LAST | VENDOR_FIRST..=VENDOR_LAST => ReadRule::Always,
        _ => return None,
    };
    Some(ObjectSpec {
        tag,
        read,
        max_len: capacity(tag),
    })
}

/// The tag named in a GET DATA / PUT DATA tag list `5C L tag`: one, two or three
/// bytes, big-endian.
pub fn tag_from_bytes(bytes: &[u8]) -> Option<u32> {
    match bytes.len() {
        1..=3 => Some(bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))),
        _ => None,
    }
}

/// The encoded form of `tag` (for the reply of GET DATA and the state file).
pub fn tag_bytes(tag: u32) -> Vec<u8> {
    let bytes = tag.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(3);
    bytes[skip..].to_vec()
}

/// The tag that wraps the value in GET DATA's answer and PUT DATA's data.
pub fn wrapper(tag: u32) -> u32 {
    match tag {
        DISCOVERY | BIT_GROUP => tag,
        _ => 0x53,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_rules_follow_sp800_73_4() {
        for tag in [FINGERPRINTS, FACIAL_IMAGE, PRINTED_INFO, IRIS] {
            assert_eq!(spec(tag).map(|s| s.read), Some(ReadRule::Pin), "{tag:X}");
        }
        for tag in [
            CHUID,
            CCC,
            CERT_9A,
            CERT_9E,
            SECURITY_OBJECT,
            0x5F_C110,
            0x5F_FF00,
            0x5F_FFFF,
            DISCOVERY,
        ] {
            assert_eq!(spec(tag).map(|s| s.read), Some(ReadRule::Always), "{tag:X}");
        }
        for tag in [0x5F_C104, 0x5F_C124, 0x5F_C100, 0x5F_FE00, 0x7F, 0x5C] {
            assert_eq!(spec(tag), None, "{tag:X}");
        }
    }

    #[test]
    fn facial_image_may_exceed_the_yubikey_limit() {
        assert_eq!(spec(FACIAL_IMAGE).map(|s| s.max_len), Some(12_710));
        assert_eq!(spec(CERT_9E).map(|s| s.max_len), Some(YUBIKEY_OBJECT_MAX));
    }

    #[test]
    fn tags_round_trip() {
        for tag in [0x7E, 0x7F61, 0x5F_C102] {
            assert_eq!(tag_from_bytes(&tag_bytes(tag)), Some(tag));
        }
        assert_eq!(tag_from_bytes(&[]), None);
        assert_eq!(tag_from_bytes(&[1, 2, 3, 4]), None);
    }
}
