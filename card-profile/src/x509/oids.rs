//! Object identifiers of the chain: the PIV ones from SP 800-73-4 / FIPS 201 (not in
//! `const-oid`'s database), and the standard ones re-exported under one name each.

use const_oid::ObjectIdentifier;

/// id-PIV-CHUIDSecurityObject: the eContentType of the CHUID's signature
/// (SP 800-73-4 Part 1, 3.1.2).
pub const PIV_CHUID_SECURITY_OBJECT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.6.1");
/// pivSigner-DN: a signed attribute naming the CHUID signer's subject (FIPS 201).
pub const PIV_SIGNER_DN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.6.5");
/// id-PIV-cardAuth: extended key usage of the Card Authentication certificate.
pub const PIV_CARD_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.6.8");

pub use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME, ORGANIZATION_NAME, SERIAL_NUMBER};
pub use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
pub use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, ID_SHA_256, SECP_256_R_1};
