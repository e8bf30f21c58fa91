//! The PIV card family (FIPS 201, NIST SP 800-73-4; docs/PROFILE-PIV.md): what ecard
//! keeps in which PIV data object, the card management key (9B), the CHUID, and the
//! certificate container. Bytes only: the command sequences are in
//! `sequences::piv`, the X.509 and CMS encodings in [`crate::x509`].

pub mod admin_key;
pub mod chuid;
pub mod objects;

pub use admin_key::{AdminAlgorithm, AdminKey};
pub use chuid::Chuid;
pub use objects::Container;

/// The PIV application identifier (SP 800-73-4 Part 1 §2.2), with its version.
pub const AID: [u8; 11] = [
    0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
];

/// Key references (SP 800-78-4 Table 6-1).
pub mod key_ref {
    /// PIV Card Application Administration Key.
    pub const ADMIN: u8 = 0x9B;
    /// Card Authentication Key: usable without a PIN (the anti-clone key).
    pub const CARD_AUTH: u8 = 0x9E;
}

/// Cryptographic algorithm identifiers (SP 800-78-4 Table 6-2).
pub mod alg {
    pub const ECC_P256: u8 = 0x11;
}

/// GENERAL AUTHENTICATE's dynamic authentication template and its parts.
pub mod auth_tags {
    use crate::tlv::Tag;
    pub const TEMPLATE: Tag = Tag(0x7C);
    pub const WITNESS: Tag = Tag(0x80);
    pub const CHALLENGE: Tag = Tag(0x81);
    pub const RESPONSE: Tag = Tag(0x82);
}

/// Tags of GET DATA / PUT DATA.
pub mod data_tags {
    use crate::tlv::Tag;
    /// The tag list of GET DATA and PUT DATA.
    pub const TAG_LIST: Tag = Tag(0x5C);
    /// The data object's value in a GET DATA answer and a PUT DATA command.
    pub const DATA: Tag = Tag(0x53);
    /// The control reference template of GENERATE ASYMMETRIC KEY PAIR.
    pub const KEY_TEMPLATE: Tag = Tag(0xAC);
    pub const KEY_ALGORITHM: Tag = Tag(0x80);
}
