//! Profile constants: the application identifier, the file system, life-cycle
//! states, capability flags and the TLV tags of every file. docs/PROFILE.md is the
//! byte-level description of the same table; change both together.

use crate::tlv::Tag;

/// Profile version written in EF.VER and the FCI.
pub const PROFILE_VERSION: u8 = 1;

/// Application identifier: proprietary category F0, then "ECARD", then 01.
pub const AID: [u8; 7] = [0xF0, 0x45, 0x43, 0x41, 0x52, 0x44, 0x01];

/// Card serial length (bytes) in EF.VER, the FCI and every signed object.
pub const SERIAL_LEN: usize = 8;

/// An elementary file of the application.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum FileId {
    Ver,
    Holder,
    Photo,
    Cert,
    Sod,
    Reviews,
    Status,
}

impl FileId {
    pub const ALL: [FileId; 7] = [
        FileId::Ver,
        FileId::Holder,
        FileId::Photo,
        FileId::Cert,
        FileId::Sod,
        FileId::Reviews,
        FileId::Status,
    ];

    /// The files whose SHA-256 the security object carries: everything that never
    /// changes after activation.
    pub const HASHED: [FileId; 4] = [FileId::Ver, FileId::Holder, FileId::Cert, FileId::Photo];

    /// Two-byte file identifier (SELECT P1=02).
    pub const fn fid(self) -> u16 {
        match self {
            FileId::Ver => 0x0101,
            FileId::Holder => 0x0102,
            FileId::Photo => 0x0103,
            FileId::Cert => 0x0104,
            FileId::Sod => 0x0105,
            FileId::Reviews => 0x0106,
            FileId::Status => 0x0107,
        }
    }

    /// Short EF identifier (READ BINARY / UPDATE BINARY P1 = 80 | SFI, records P2 = SFI << 3).
    pub const fn sfi(self) -> u8 {
        (self.fid() & 0x1F) as u8
    }

    pub fn from_fid(fid: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.fid() == fid)
    }

    pub fn from_sfi(sfi: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.sfi() == sfi)
    }

    /// Capacity the card reserves for the file, in bytes (for EF.REVIEWS: per record).
    pub const fn capacity(self) -> usize {
        match self {
            FileId::Ver => 64,
            FileId::Holder => 512,
            FileId::Photo => 20 * 1024,
            FileId::Cert => 1024,
            FileId::Sod => 1024,
            FileId::Reviews => MAX_RECORD_LEN,
            FileId::Status => 640,
        }
    }

    /// The top-level tag of the file's content.
    pub const fn template(self) -> Tag {
        match self {
            FileId::Ver => tags::VER,
            FileId::Holder => tags::HOLDER,
            FileId::Photo => tags::PHOTO,
            FileId::Cert => tags::CERT,
            FileId::Sod => tags::SOD,
            FileId::Reviews => tags::REVIEW,
            FileId::Status => tags::STATUS,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            FileId::Ver => "EF.VER",
            FileId::Holder => "EF.HOLDER",
            FileId::Photo => "EF.PHOTO",
            FileId::Cert => "EF.CERT",
            FileId::Sod => "EF.SOD",
            FileId::Reviews => "EF.REVIEWS",
            FileId::Status => "EF.STATUS",
        }
    }

    pub const fn is_record_file(self) -> bool {
        matches!(self, FileId::Reviews)
    }
}

/// Most annual-review records a card holds (one a year for far longer than the
/// five-year validity, with room for corrections).
pub const MAX_RECORDS: usize = 16;
/// Largest record in EF.REVIEWS.
pub const MAX_RECORD_LEN: usize = 640;

/// Life-cycle status byte of the application (ISO 7816-4 §5.3.3.2, tag 8A in the FCI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LifeCycle {
    /// 01: blank as delivered: no chip key, no data.
    Blank,
    /// 03: personalization under way (key generated or a file written); never valid.
    Personalizing,
    /// 05: activated: HOLDER, PHOTO, CERT and SOD are read-only forever.
    Activated,
    /// 0C: terminated (revoked for good): readable, no chip authentication, no writes.
    Terminated,
}

impl LifeCycle {
    pub const fn to_u8(self) -> u8 {
        match self {
            LifeCycle::Blank => 0x01,
            LifeCycle::Personalizing => 0x03,
            LifeCycle::Activated => 0x05,
            LifeCycle::Terminated => 0x0C,
        }
    }

    pub const fn from_u8(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(LifeCycle::Blank),
            0x03 => Some(LifeCycle::Personalizing),
            0x05 => Some(LifeCycle::Activated),
            0x0C => Some(LifeCycle::Terminated),
            _ => None,
        }
    }
}

/// Bits of the capability byte (FCI tag 81 inside A5, and EF.VER tag 82).
pub mod capability {
    /// The card accepts extended Lc/Le.
    pub const EXTENDED_LENGTH: u8 = 0x01;
    /// The card accepts command chaining (CLA bit 10).
    pub const COMMAND_CHAINING: u8 = 0x02;
}

/// Length of the GET CHALLENGE nonce.
pub const CHALLENGE_LEN: usize = 16;
/// Length of the EXTERNAL AUTHENTICATE cryptogram (a full AES-CMAC).
pub const CRYPTOGRAM_LEN: usize = 16;
/// The host's challenge in a mutual EXTERNAL AUTHENTICATE (PROFILE.md §5): the card
/// answers it with its own cryptogram, so the host knows the card holds the key too.
pub const HOST_CHALLENGE_LEN: usize = 16;
/// Accepted INTERNAL AUTHENTICATE challenge lengths.
pub const MIN_INTERNAL_CHALLENGE: usize = 16;
pub const MAX_INTERNAL_CHALLENGE: usize = 64;
/// Wrong management-key attempts before EXTERNAL AUTHENTICATE is blocked.
pub const MANAGEMENT_KEY_TRIES: u8 = 10;
/// Key reference of the management key (EXTERNAL AUTHENTICATE P2).
pub const MANAGEMENT_KEY_REF: u8 = 0x01;
/// Key reference of the chip authentication key (GENERATE / INTERNAL AUTHENTICATE P2).
pub const CHIP_KEY_REF: u8 = 0x81;

/// Every TLV tag of the profile.
pub mod tags {
    use crate::tlv::Tag;

    // FCI returned by SELECT.
    pub const FCI: Tag = Tag(0x6F);
    pub const FCI_AID: Tag = Tag(0x84);
    pub const FCI_LIFE_CYCLE: Tag = Tag(0x8A);
    pub const FCI_PROPRIETARY: Tag = Tag(0xA5);
    // Inside FCI_PROPRIETARY and EF.VER.
    pub const PROFILE_VERSION: Tag = Tag(0x80);
    pub const CAPABILITIES: Tag = Tag(0x81);
    pub const SERIAL: Tag = Tag(0x82);
    pub const MAX_APDU_DATA: Tag = Tag(0x83);

    /// EF.VER template: 80 version, 81 capabilities, 82 serial.
    pub const VER: Tag = Tag(0x60);

    /// EF.HOLDER template.
    pub const HOLDER: Tag = Tag(0x61);
    pub const HOLDER_NAME: Tag = Tag(0x80);
    pub const HOLDER_GENDER: Tag = Tag(0x81);
    pub const HOLDER_ETHNICITY: Tag = Tag(0x82);
    pub const HOLDER_BIRTH_DATE: Tag = Tag(0x83);
    pub const HOLDER_ID_NUMBER: Tag = Tag(0x84);

    /// EF.PHOTO template: 80 JPEG bytes.
    pub const PHOTO: Tag = Tag(0x62);
    pub const PHOTO_JPEG: Tag = Tag(0x80);

    /// EF.CERT template.
    pub const CERT: Tag = Tag(0x63);
    pub const CERT_NUMBER: Tag = Tag(0x80);
    pub const CERT_KIND: Tag = Tag(0x81);
    pub const CERT_UNIT: Tag = Tag(0x82);
    pub const CERT_ENTRUSTING_AUTHORITY: Tag = Tag(0x83);
    pub const CERT_ENTRUSTING_NATURE: Tag = Tag(0x84);
    pub const CERT_POST: Tag = Tag(0x85);
    pub const CERT_CATEGORY: Tag = Tag(0x86);
    pub const CERT_AREA: Tag = Tag(0x87);
    pub const CERT_ISSUER: Tag = Tag(0x88);
    pub const CERT_ISSUE_DATE: Tag = Tag(0x89);
    pub const CERT_VALID_FROM: Tag = Tag(0x8A);
    pub const CERT_VALID_UNTIL: Tag = Tag(0x8B);

    /// EF.SOD: 78 to-be-signed, 7F21 signer certificate, 5F37 signature.
    pub const SOD: Tag = Tag(0x77);
    pub const SOD_CONTENT: Tag = Tag(0x78);
    pub const SOD_VERSION: Tag = Tag(0x80);
    pub const SOD_SERIAL: Tag = Tag(0x81);
    pub const SOD_CHIP_KEY: Tag = Tag(0x82);
    pub const SOD_SIGNED_ON: Tag = Tag(0x83);
    pub const SOD_HASHES: Tag = Tag(0xA0);
    pub const SOD_HASH_ENTRY: Tag = Tag(0x30);
    pub const SOD_HASH_FID: Tag = Tag(0x80);
    pub const SOD_HASH_VALUE: Tag = Tag(0x81);

    /// Signed records (EF.STATUS and each EF.REVIEWS record) share one layout:
    /// template { content template, 7F21 signer certificate, 5F37 signature }.
    pub const REVIEW: Tag = Tag(0x64);
    pub const REVIEW_CONTENT: Tag = Tag(0x79);
    pub const REVIEW_YEAR: Tag = Tag(0x80);
    pub const REVIEW_DATE: Tag = Tag(0x81);
    pub const REVIEW_RESULT: Tag = Tag(0x82);
    pub const REVIEW_REVIEWER: Tag = Tag(0x83);
    pub const REVIEW_SERIAL: Tag = Tag(0x84);
    pub const REVIEW_REMARK: Tag = Tag(0x85);

    pub const STATUS: Tag = Tag(0x65);
    pub const STATUS_CONTENT: Tag = Tag(0x7A);
    pub const STATUS_STATE: Tag = Tag(0x80);
    pub const STATUS_REASON: Tag = Tag(0x81);
    pub const STATUS_DATE: Tag = Tag(0x82);
    pub const STATUS_SEQUENCE: Tag = Tag(0x83);
    pub const STATUS_SERIAL: Tag = Tag(0x84);

    /// Compact document-signer certificate (tags after BSI TR-03110 CV certificates).
    pub const SIGNER_CERT: Tag = Tag(0x7F21);
    pub const SIGNER_CERT_BODY: Tag = Tag(0x7F4E);
    pub const SIGNER_CERT_VERSION: Tag = Tag(0x5F29);
    pub const SIGNER_CERT_ISSUER: Tag = Tag(0x42);
    pub const SIGNER_CERT_SUBJECT: Tag = Tag(0x5F20);
    pub const SIGNER_CERT_KEY: Tag = Tag(0x86);
    pub const SIGNER_CERT_VALID_FROM: Tag = Tag(0x5F25);
    pub const SIGNER_CERT_VALID_UNTIL: Tag = Tag(0x5F24);
    /// The chain's algorithm suite (#17, docs/SUITES.md): one byte, 2 = SM;
    /// absent = P-256, so P-256 certificates keep their bytes.
    pub const SIGNER_CERT_SUITE: Tag = Tag(0x87);
    pub const SIGNATURE: Tag = Tag(0x5F37);

    /// GENERATE ASYMMETRIC KEY PAIR response: 7F49 { 86 uncompressed point }.
    pub const PUBLIC_KEY: Tag = Tag(0x7F49);
    pub const PUBLIC_KEY_POINT: Tag = Tag(0x86);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_and_short_ids_are_distinct_and_round_trip() {
        for f in FileId::ALL {
            assert_eq!(FileId::from_fid(f.fid()), Some(f));
            assert_eq!(FileId::from_sfi(f.sfi()), Some(f));
            assert!(f.sfi() >= 1 && f.sfi() <= 30);
        }
    }
}

/// Which kind of card carries the certificate (docs/PROFILE-PIV.md §1): the
/// application of docs/PROFILE.md, or a standard PIV card (SP 800-73-4). The host
/// tells them apart by what answers SELECT; the verdict and the operations are the
/// same for both.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    #[default]
    Native,
    Piv,
}

impl Family {
    /// The stable code (API, records).
    pub const fn code(self) -> &'static str {
        match self {
            Family::Native => "native",
            Family::Piv => "piv",
        }
    }
}
