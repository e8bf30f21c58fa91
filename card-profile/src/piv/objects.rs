//! Which PIV data object holds what (docs/PROFILE-PIV.md §2), and the certificate
//! container's encoding (SP 800-73-4 Part 1, Table 10: `70 cert | 71 CertInfo | FE`).

use crate::profile::{tags as ecard_tags, FileId, LifeCycle};
use crate::tlv::{self, Builder, Tag, TlvError};

/// A PIV data object ecard reads or writes, by its BER-TLV tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Container {
    /// 5FC102 Card Holder Unique Identifier: GUID (the card's identity), expiry, signature.
    Chuid,
    /// 5FC101 X.509 certificate for Card Authentication (key 9E).
    CardAuthCertificate,
    /// 5FC108 Cardholder Facial Image: PIN-protected by the standard.
    FacialImage,
    /// 5FC10D (retired key certificate 1) ecard's fixed data: EF.VER, EF.HOLDER and
    /// EF.CERT as the native profile encodes them, one after the other. Written once,
    /// at issue.
    EcardData,
    /// 5FC10E (retired key certificate 2) ecard's security object (the native
    /// EF.SOD): the signed hash list.
    EcardSecurityObject,
    /// 5FC10F (retired key certificate 3) ecard's changing data: EF.STATUS, the
    /// review records, and the life-cycle marker of a terminated card.
    EcardState,
}

impl Container {
    pub const fn tag(self) -> u32 {
        match self {
            Container::Chuid => 0x5FC102,
            Container::CardAuthCertificate => 0x5FC101,
            Container::FacialImage => 0x5FC108,
            // Standard containers, always readable on contact, that every PIV card
            // has: a card that knows only SP 800-73-4's tags (Nitrokey's
            // piv-authenticator answered 6A80 to the vendor range 5FFFxx) takes
            // them. ecard generates no retired keys, so they are free.
            Container::EcardData => 0x5FC10D,
            Container::EcardSecurityObject => 0x5FC10E,
            Container::EcardState => 0x5FC10F,
        }
    }

    /// The three bytes GET DATA and PUT DATA name the object by.
    pub fn tag_bytes(self) -> [u8; 3] {
        let [_, a, b, c] = self.tag().to_be_bytes();
        [a, b, c]
    }

    /// The most bytes ecard accepts from the card for this object: the standard's
    /// capacities (SP 800-73-4 Part 1, Table 8) for its own objects, and ecard's own
    /// bounds for the vendor-range ones.
    pub const fn max_len(self) -> usize {
        match self {
            Container::Chuid => 4000,
            Container::CardAuthCertificate => 2000,
            Container::FacialImage => 24 * 1024,
            Container::EcardData => 4 * 1024,
            Container::EcardSecurityObject => 2 * 1024,
            // Status plus the review records; a card holds 1,905 bytes or more here
            // (SP 800-73-4's minimum capacity for the container) and refuses more.
            Container::EcardState => 12 * 1024,
        }
    }

    /// Where ecard's native file lives on a PIV card.
    pub const fn of_file(file: FileId) -> Container {
        match file {
            FileId::Ver | FileId::Holder | FileId::Cert => Container::EcardData,
            FileId::Sod => Container::EcardSecurityObject,
            FileId::Status | FileId::Reviews => Container::EcardState,
            FileId::Photo => Container::FacialImage,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Container::Chuid => "CHUID",
            Container::CardAuthCertificate => "Card Authentication certificate",
            Container::FacialImage => "Facial Image",
            Container::EcardData => "ecard data object",
            Container::EcardSecurityObject => "ecard security object",
            Container::EcardState => "ecard state object",
        }
    }
}

/// Tag of the life-cycle marker in [`Container::EcardState`] (the native FCI's tag).
pub const LIFE_CYCLE_MARKER: Tag = ecard_tags::FCI_LIFE_CYCLE;
/// The marker's value on a terminated card (ISO 7816-4 LCS "terminated").
pub const TERMINATED: u8 = 0x0C;

/// A PIV card's life cycle as ecard reads it from its own objects
/// (docs/PROFILE-PIV.md §3), `value` giving each object's value (empty: absent):
/// the terminated marker in the state object → terminated; a security object →
/// activated; ecard data or state without one → personalizing (an interrupted
/// issue); none → blank.
pub fn life_cycle<'a>(value: impl Fn(Container) -> &'a [u8]) -> LifeCycle {
    let terminated = split(value(Container::EcardState)).is_ok_and(|all| {
        all.iter()
            .any(|t| t.tag == LIFE_CYCLE_MARKER && t.value == [TERMINATED])
    });
    if terminated {
        LifeCycle::Terminated
    } else if !value(Container::EcardSecurityObject).is_empty() {
        LifeCycle::Activated
    } else if [Container::EcardData, Container::EcardState]
        .iter()
        .any(|c| !value(*c).is_empty())
    {
        LifeCycle::Personalizing
    } else {
        LifeCycle::Blank
    }
}

const CERTIFICATE: Tag = Tag(0x70);
const CERT_INFO: Tag = Tag(0x71);
const ERROR_DETECTION: Tag = Tag(0xFE);

/// A certificate container's value: `70 DER | 71 01 00 (not compressed) | FE 00`.
pub fn certificate_container(der: &[u8]) -> Vec<u8> {
    Builder::new()
        .field(CERTIFICATE, der)
        .field(CERT_INFO, &[0x00])
        .field(ERROR_DETECTION, &[])
        .into_bytes()
}

/// The DER certificate in a certificate container. A compressed certificate
/// (CertInfo 01, gzip) is refused: ecard writes none, and inflating a hostile card's
/// data is not worth its risk.
pub fn certificate_from_container(value: &[u8]) -> Result<&[u8], TlvError> {
    let mut der = None;
    for t in tlv::parse_all(value)? {
        match t.tag {
            CERTIFICATE if der.is_none() => der = Some(t.value),
            CERT_INFO if t.value.first().is_some_and(|b| *b != 0) => {
                return Err(TlvError::BadValue {
                    tag: CERT_INFO,
                    reason: "compressed certificate",
                })
            }
            CERTIFICATE => {
                return Err(TlvError::Duplicate {
                    parent: Tag(0x53),
                    tag: CERTIFICATE,
                })
            }
            _ => {}
        }
    }
    der.ok_or(TlvError::Missing {
        parent: Tag(0x53),
        tag: CERTIFICATE,
    })
}

/// The objects of a container that holds concatenated ecard TLVs, by template tag.
pub fn split(value: &[u8]) -> Result<Vec<tlv::Tlv<'_>>, TlvError> {
    tlv::parse_all(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_container_round_trips() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let value = certificate_container(&der);
        assert_eq!(
            value,
            [0x70, 0x05, 0x30, 0x03, 0x02, 0x01, 0x05, 0x71, 0x01, 0x00, 0xFE, 0x00]
        );
        assert_eq!(certificate_from_container(&value).unwrap(), der);
    }

    #[test]
    fn compressed_or_missing_certificates_are_refused() {
        let gz = [0x70, 0x01, 0x00, 0x71, 0x01, 0x01, 0xFE, 0x00];
        assert!(certificate_from_container(&gz).is_err());
        assert!(certificate_from_container(&[0x71, 0x01, 0x00]).is_err());
        assert!(certificate_from_container(&[0x70, 0x05]).is_err());
    }

    #[test]
    fn every_file_has_one_container() {
        assert_eq!(Container::of_file(FileId::Holder), Container::EcardData);
        assert_eq!(Container::of_file(FileId::Reviews), Container::EcardState);
        assert_eq!(Container::EcardData.tag_bytes(), [0x5F, 0xC1, 0x0D]);
    }
}
