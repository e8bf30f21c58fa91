//! The three certificates of the chain (docs/PROFILE-PIV.md §7): the province root
//! (self-signed), the document signer (by the root) and a card's Card
//! Authentication key (by the document signer). Each is the same key as in ecard's
//! own chain; only the wrapping is X.509, so outside tools can follow it.

use super::{ec, names, validity, X509Error};
use crate::pki::{self, DocumentSigner, PublicKey, RootKey, SignerCertificate, SigningKey};
use chrono::NaiveDate;
use const_oid::AssociatedOid;
use der::asn1::{BitString, Ia5String, OctetString};
use der::{Decode, Encode};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

/// What a Card Authentication certificate says about its card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAuthSubject {
    /// The ecard certificate number: the subject's CN.
    pub certificate_number: String,
    /// The CHUID's GUID: the subject's serialNumber (hex) and the SAN's `urn:uuid`.
    pub guid: [u8; 16],
}

fn extension<T: Encode + AssociatedOid>(value: &T, critical: bool) -> Result<Extension, X509Error> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn ski(key: &PublicKey) -> Result<Extension, X509Error> {
    extension(
        &SubjectKeyIdentifier(OctetString::new(pki::key_id(key).to_vec())?),
        false,
    )
}

fn aki(issuer_key: &PublicKey) -> Result<Extension, X509Error> {
    extension(
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(pki::key_id(issuer_key).to_vec())?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
        false,
    )
}

/// A serial number from up to 20 bytes, read as an unsigned integer (so always
/// positive; `der` adds the leading zero a high first bit needs).
fn serial(bytes: &[u8]) -> Result<SerialNumber, X509Error> {
    if bytes.iter().all(|b| *b == 0) {
        return Err(X509Error::Malformed("a serial number must be positive"));
    }
    Ok(SerialNumber::new(bytes)?)
}

/// Signs the TBSCertificate with `key` and wraps it.
fn issue(tbs: TbsCertificate, key: &SigningKey) -> Result<Vec<u8>, X509Error> {
    let sig = ec::sign_der(key, &tbs.to_der()?)?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: ec::ecdsa_with_sha256(),
        signature: BitString::from_bytes(&sig)?,
    };
    Ok(cert.to_der()?)
}

fn tbs(
    serial_number: SerialNumber,
    issuer: Name,
    subject: Name,
    from: NaiveDate,
    until: NaiveDate,
    subject_key: &PublicKey,
    extensions: Vec<Extension>,
) -> Result<TbsCertificate, X509Error> {
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number,
        signature: ec::ecdsa_with_sha256(),
        issuer,
        validity: validity::validity(from, until)?,
        subject,
        subject_public_key_info: ec::spki(subject_key)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    })
}

/// The province root's self-signed certificate: subject = issuer =
/// `C=CN, O=<name>, CN=<name>`, serial = the root's key id, validity = the root's
/// days; a CA (basicConstraints critical, no path length: the chain below it is
/// signer → card), keyUsage keyCertSign | cRLSign (critical), SKI = the key id.
pub fn root_certificate(root: &RootKey) -> Result<Vec<u8>, X509Error> {
    ec::p256_key(&root.key)?;
    let key = root.key.public_key();
    let name = names::authority(&root.name, &root.name)?;
    let extensions = vec![
        extension(
            &BasicConstraints {
                ca: true,
                path_len_constraint: None,
            },
            true,
        )?,
        extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true)?,
        ski(&key)?,
    ];
    let tbs = tbs(
        serial(&pki::key_id(&key))?,
        name.clone(),
        name,
        root.valid_from,
        root.valid_until,
        &key,
        extensions,
    )?;
    issue(tbs, &root.key)
}

/// The document signer's certificate, signed by the root: subject
/// `C=CN, O=<root name>, CN=<signer subject>`, serial = the signer's key id,
/// validity = its 7F21 certificate's; a CA with pathLen 0 (it issues only card
/// certificates), keyUsage keyCertSign | digitalSignature (critical; the second
/// for the CHUID's CMS signature), SKI = the signer's key id, AKI = the root's.
pub fn signer_certificate(
    root: &RootKey,
    signer: &SignerCertificate,
) -> Result<Vec<u8>, X509Error> {
    ec::p256_key(&root.key)?;
    if signer.suite != pki::Suite::P256 {
        return Err(X509Error::UnsupportedSuite);
    }
    let root_key = root.key.public_key();
    if signer.issuer != pki::key_id(&root_key) {
        return Err(X509Error::NotIssuedBy);
    }
    let extensions = vec![
        extension(
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
            true,
        )?,
        extension(
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::DigitalSignature),
            true,
        )?,
        ski(&signer.public_key)?,
        aki(&root_key)?,
    ];
    let tbs = tbs(
        serial(&pki::key_id(&signer.public_key))?,
        names::authority(&root.name, &root.name)?,
        names::authority(&root.name, &signer.subject)?,
        signer.valid_from,
        signer.valid_until,
        &signer.public_key,
        extensions,
    )?;
    issue(tbs, &root.key)
}

/// The serial of a card certificate: 16 bytes of SHA-256 over what the certificate
/// binds (label, chip key, GUID, number, days), the first byte forced into
/// 0x40..=0x7F so the integer is positive and always 16 bytes long. The same card,
/// key and period give the same serial (the same certificate, re-signed); any change
/// gives another.
fn card_serial(
    card: &CardAuthSubject,
    chip_key: &PublicKey,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<SerialNumber, X509Error> {
    let mut input = b"ecard piv 9E serial".to_vec();
    input.extend_from_slice(chip_key);
    input.extend_from_slice(&card.guid);
    input.extend_from_slice(&(card.certificate_number.len() as u32).to_be_bytes());
    input.extend_from_slice(card.certificate_number.as_bytes());
    input.extend_from_slice(&crate::date::encode(from));
    input.extend_from_slice(&crate::date::encode(until));
    let mut s = [0u8; 16];
    s.copy_from_slice(&pki::sha256(&input)[..16]);
    s[0] = (s[0] & 0x3F) | 0x40;
    serial(&s)
}

/// Reads the document signer's X.509 and checks it certifies `signer`'s key.
pub(super) fn signer_x509_for(
    signer: &DocumentSigner,
    signer_x509: &[u8],
) -> Result<Certificate, X509Error> {
    ec::p256_key(&signer.key)?;
    let cert = Certificate::from_der(super::raw::single(signer_x509)?.raw)?;
    let key = ec::point_of(&cert.tbs_certificate.subject_public_key_info)?;
    if key != signer.key.public_key() {
        return Err(X509Error::WrongKey);
    }
    Ok(cert)
}

/// The certificate of a card's Card Authentication key (PIV slot 9E, container
/// 5FC101), signed by the document signer: issuer = the subject of `signer_x509`,
/// subject `CN=<certificate number>, serialNumber=<GUID hex>`, the 65-byte chip key
/// as id-ecPublicKey / prime256v1; keyUsage digitalSignature (critical),
/// extendedKeyUsage id-PIV-cardAuth, subjectAltName `urn:uuid:<GUID>`, SKI = the
/// chip key's id, AKI = the signer's key id. Refuses a `signer_x509` for another
/// key ([`X509Error::WrongKey`]) and an SM-suite signer or chip key.
pub fn card_auth_certificate(
    signer: &DocumentSigner,
    signer_x509: &[u8],
    card: &CardAuthSubject,
    chip_key: &PublicKey,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
) -> Result<Vec<u8>, X509Error> {
    let issuer_cert = signer_x509_for(signer, signer_x509)?;
    let signer_key = signer.key.public_key();
    let uri = Ia5String::new(&names::uuid_urn(&card.guid))?;
    let extensions = vec![
        extension(&KeyUsage(KeyUsages::DigitalSignature.into()), true)?,
        extension(&ExtendedKeyUsage(vec![super::oids::PIV_CARD_AUTH]), false)?,
        extension(
            &SubjectAltName(vec![GeneralName::UniformResourceIdentifier(uri)]),
            false,
        )?,
        ski(chip_key)?,
        aki(&signer_key)?,
    ];
    let tbs = tbs(
        card_serial(card, chip_key, valid_from, valid_until)?,
        issuer_cert.tbs_certificate.subject,
        names::card(&card.certificate_number, &card.guid)?,
        valid_from,
        valid_until,
        chip_key,
        extensions,
    )?;
    issue(tbs, &signer.key)
}
