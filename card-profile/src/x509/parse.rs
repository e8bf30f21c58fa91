//! Reading certificates that come from a card: the Card Authentication certificate
//! (5FC101) and, through [`certificate_issued_by`], any certificate of the chain.
//! A card is hostile input: the size is bounded, nothing panics, and a signature is
//! checked over the TBSCertificate bytes exactly as they came.

use super::oids::PIV_CARD_AUTH;
use super::{ec, names, raw, validity, X509Error};
use crate::pki::PublicKey;
use chrono::NaiveDate;
use der::{Decode, Encode, Tag};
use x509_cert::certificate::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, ExtendedKeyUsage, SubjectAltName};

/// A decoded certificate with the bytes its signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parsed {
    pub cert: Certificate,
    /// The TBSCertificate as it was in the input.
    pub tbs: Vec<u8>,
    /// The whole certificate as it was in the input.
    pub der: Vec<u8>,
}

impl Parsed {
    pub(super) fn decode(der: &[u8]) -> Result<Self, X509Error> {
        let whole = raw::single(der)?;
        let parts = raw::sequence(whole.raw, 3)?;
        let tbs = match parts.as_slice() {
            [tbs, _, _] if tbs.tag == Tag::Sequence => tbs.raw.to_vec(),
            _ => return Err(X509Error::Malformed("a certificate has three parts")),
        };
        Ok(Self {
            cert: Certificate::from_der(whole.raw)?,
            tbs,
            der: whole.raw.to_vec(),
        })
    }

    /// ecdsa-with-SHA256 under `issuer_key`, over the TBSCertificate as received;
    /// the outer and inner algorithm identifiers must both say so.
    pub(super) fn issued_by(&self, issuer_key: &PublicKey) -> bool {
        let expected = ec::ecdsa_with_sha256();
        self.cert.signature_algorithm == expected
            && self.cert.tbs_certificate.signature == expected
            && self
                .cert
                .signature
                .as_bytes()
                .is_some_and(|sig| ec::verify_der(issuer_key, &self.tbs, sig))
    }
}

/// Whether the certificate `der` was signed (ECDSA P-256 / SHA-256) by the holder of
/// `issuer_key`: the check of each link of the chain, e.g. the document signer's
/// X.509 (from the CHUID's CMS) against a trust-list root. Any malformed input is
/// simply `false`.
pub fn certificate_issued_by(der: &[u8], issuer_key: &PublicKey) -> bool {
    Parsed::decode(der).is_ok_and(|p| p.issued_by(issuer_key))
}

/// What the verifier needs from a Card Authentication certificate (5FC101).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAuthCertificate {
    /// The 9E public key, `04‖X‖Y` on P-256.
    pub chip_key: PublicKey,
    /// The subject's CN: the ecard certificate number on an ecard card.
    pub certificate_number: Option<String>,
    /// The subject's serialNumber read as 32 hex digits: the card's GUID.
    pub guid: Option<[u8; 16]>,
    /// The subjectAltName `urn:uuid:` URI read as a GUID (FIPS 201 puts the card
    /// UUID there; other issuers' PIV cards may have only this one).
    pub san_uuid: Option<[u8; 16]>,
    /// The authority key identifier as it is: 8 bytes (an ecard key id) on ecard's
    /// cards, often 20 (SHA-1) on others.
    pub issuer_key_id: Option<Vec<u8>>,
    /// Whether extendedKeyUsage lists id-PIV-cardAuth.
    pub card_auth_usage: bool,
    /// The UTC day of notBefore.
    pub valid_from: NaiveDate,
    /// The UTC day of notAfter.
    pub valid_until: NaiveDate,
    /// The issuer and subject names, DER (re-encoded after decoding), for display.
    pub issuer_der: Vec<u8>,
    pub subject_der: Vec<u8>,
    /// The same names as text, in certificate order (`CN=…, serialNumber=…`).
    pub issuer: String,
    pub subject: String,
    /// The certificate as read: its bytes and what its signature covers.
    parsed: Parsed,
}

impl CardAuthCertificate {
    /// Parses the DER certificate (the `70` value of container 5FC101). Refuses
    /// input over [`super::MAX_DER_LEN`], trailing bytes, and a key that is not
    /// P-256 ([`X509Error::NotP256Key`]: an RSA 9E key is not an ecard card).
    pub fn parse(der: &[u8]) -> Result<Self, X509Error> {
        let parsed = Parsed::decode(der)?;
        let tbs = &parsed.cert.tbs_certificate;
        let chip_key = ec::point_of(&tbs.subject_public_key_info)?;
        let issuer_key_id = tbs
            .get::<AuthorityKeyIdentifier>()?
            .and_then(|(_, aki)| aki.key_identifier)
            .map(|id| id.as_bytes().to_vec());
        let card_auth_usage = tbs
            .get::<ExtendedKeyUsage>()?
            .is_some_and(|(_, eku)| eku.0.contains(&PIV_CARD_AUTH));
        let san_uuid = tbs.get::<SubjectAltName>()?.and_then(|(_, san)| {
            san.0.iter().find_map(|n| match n {
                GeneralName::UniformResourceIdentifier(uri) => names::guid_of_urn(uri.as_str()),
                _ => None,
            })
        });
        Ok(Self {
            chip_key,
            certificate_number: names::common_name(&tbs.subject),
            guid: names::guid(&tbs.subject),
            san_uuid,
            issuer_key_id,
            card_auth_usage,
            valid_from: validity::day(&tbs.validity.not_before)?,
            valid_until: validity::day(&tbs.validity.not_after)?,
            issuer_der: tbs.issuer.to_der()?,
            subject_der: tbs.subject.to_der()?,
            issuer: names::display(&tbs.issuer),
            subject: names::display(&tbs.subject),
            parsed,
        })
    }

    /// Whether the holder of `issuer_public_key` (the document signer) signed this
    /// certificate: ECDSA P-256 / SHA-256 over the TBSCertificate as it was read.
    pub fn verify_issued_by(&self, issuer_public_key: &PublicKey) -> bool {
        self.parsed.issued_by(issuer_public_key)
    }

    /// The whole certificate as it was read.
    pub fn der(&self) -> &[u8] {
        &self.parsed.der
    }

    /// Whether the certificate is valid on the day `on` (both end days included).
    pub fn check_validity(&self, on: NaiveDate) -> Result<(), X509Error> {
        if on < self.valid_from {
            return Err(X509Error::NotYetValid {
                from: self.valid_from,
                on,
            });
        }
        if on > self.valid_until {
            return Err(X509Error::Expired {
                until: self.valid_until,
                on,
            });
        }
        Ok(())
    }
}
