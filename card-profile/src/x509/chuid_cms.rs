//! The CHUID's issuer signature (element 3E of container 5FC102): a detached CMS
//! SignedData (RFC 5652) as SP 800-73-4 Part 1 §3.1.2 and FIPS 201 ask:
//!
//! ```text
//! ContentInfo { id-signedData, SignedData {
//!   version 3, digestAlgorithms { sha256 },
//!   encapContentInfo { id-PIV-CHUIDSecurityObject }            -- no eContent
//!   certificates [0] { the document signer's X.509 },
//!   signerInfos { SignerInfo { version 1,
//!     sid issuerAndSerialNumber (of that certificate), sha256,
//!     signedAttrs [0] { contentType, messageDigest = SHA-256(content),
//!                       pivSigner-DN = the certificate's subject },
//!     ecdsa-with-SHA256, signature over DER(SET OF signedAttrs) } } } }
//! ```
//!
//! The signed content is the CHUID's elements without 3E and FE (the caller cuts it).

use super::oids::{
    ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SHA_256, ID_SIGNED_DATA, PIV_CHUID_SECURITY_OBJECT,
    PIV_SIGNER_DN,
};
use super::parse::Parsed;
use super::{build, ec, names, raw, X509Error};
use crate::pki::{self, DocumentSigner, PublicKey};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Header, Tag, TagNumber};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

fn sha256_id() -> AlgorithmIdentifierOwned {
    // Parameters absent, as RFC 5754 §2 says a sender should.
    AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    }
}

fn attribute(oid: der::asn1::ObjectIdentifier, value: Any) -> Result<Attribute, X509Error> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}

/// The detached CMS signature of the CHUID content `signed_content`, by the document
/// signer, carrying `signer_x509` (which must certify the signer's key).
pub fn chuid_signature(
    signer: &DocumentSigner,
    signer_x509: &[u8],
    signed_content: &[u8],
) -> Result<Vec<u8>, X509Error> {
    let cert = build::signer_x509_for(signer, signer_x509)?;
    let digest = pki::sha256(signed_content);
    let attrs: SignedAttributes = SetOfVec::try_from(vec![
        attribute(
            ID_CONTENT_TYPE,
            Any::encode_from(&PIV_CHUID_SECURITY_OBJECT)?,
        )?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec())?)?,
        )?,
        attribute(
            PIV_SIGNER_DN,
            Any::encode_from(&cert.tbs_certificate.subject)?,
        )?,
    ])?;
    // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF
    // (tag 31), not the [0] IMPLICIT form they are carried in.
    let signature = ec::sign_der(&signer.key, &attrs.to_der()?)?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_id(),
        signed_attrs: Some(attrs),
        signature_algorithm: ec::ecdsa_with_sha256(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let signed_data = SignedData {
        // 3: the eContentType is not id-data (RFC 5652 §5.1).
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![sha256_id()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: PIV_CHUID_SECURITY_OBJECT,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(vec![
            CertificateChoices::Certificate(cert),
        ])?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    Ok(ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    }
    .to_der()?)
}

/// Who signed a CHUID: the caller checks `public_key` (or the certificate, with
/// [`super::certificate_issued_by`]) against its own trust list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChuidSigner {
    pub public_key: PublicKey,
    /// The signer's certificate as the CMS carried it.
    pub certificate_der: Vec<u8>,
    pub subject_cn: Option<String>,
}

/// Checking a CHUID signature.
pub struct ChuidSignature;

/// At most this many certificates in the set: PIV carries one; a few more (a
/// chain) are tolerated, a card that sends hundreds is refused.
const MAX_CERTIFICATES: usize = 4;

impl ChuidSignature {
    /// Checks the CMS `cms_der` (the 3E value) over `signed_content`: a SignedData
    /// with eContentType id-PIV-CHUIDSecurityObject and no eContent, exactly one
    /// SignerInfo with SHA-256 and ecdsa-with-SHA256, signed attributes whose
    /// contentType matches and whose messageDigest is SHA-256(`signed_content`)
    /// ([`X509Error::DigestMismatch`] otherwise), signed by the key of the
    /// certificate its sid names, which the SignedData carries.
    pub fn verify(cms_der: &[u8], signed_content: &[u8]) -> Result<ChuidSigner, X509Error> {
        let whole = raw::single(cms_der)?;
        let info = ContentInfo::from_der(whole.raw)?;
        if info.content_type != ID_SIGNED_DATA {
            return Err(X509Error::Malformed("not a CMS SignedData"));
        }
        let signed_data: SignedData = info.content.decode_as()?;
        if signed_data.encap_content_info.econtent_type != PIV_CHUID_SECURITY_OBJECT {
            return Err(X509Error::Malformed(
                "eContentType is not id-PIV-CHUIDSecurityObject",
            ));
        }
        if signed_data.encap_content_info.econtent.is_some() {
            return Err(X509Error::Malformed("the CHUID signature must be detached"));
        }
        let signer_info = match signed_data.signer_infos.0.as_slice() {
            [one] => one,
            _ => return Err(X509Error::Malformed("exactly one SignerInfo expected")),
        };
        if signer_info.digest_alg.oid != ID_SHA_256 {
            return Err(X509Error::Malformed("digest algorithm is not SHA-256"));
        }
        if signer_info.signature_algorithm != ec::ecdsa_with_sha256() {
            return Err(X509Error::Malformed(
                "signature algorithm is not ecdsa-with-SHA256",
            ));
        }
        let attrs = signer_info
            .signed_attrs
            .as_ref()
            .ok_or(X509Error::Malformed("no signed attributes"))?;
        let content_type: der::asn1::ObjectIdentifier =
            single_value(attrs, ID_CONTENT_TYPE)?.decode_as()?;
        if content_type != PIV_CHUID_SECURITY_OBJECT {
            return Err(X509Error::Malformed(
                "contentType attribute differs from eContentType",
            ));
        }
        let digest: OctetString = single_value(attrs, ID_MESSAGE_DIGEST)?.decode_as()?;
        if digest.as_bytes() != pki::sha256(signed_content) {
            return Err(X509Error::DigestMismatch);
        }
        let certificate = signer_certificate(whole.raw, &signer_info.sid)?;
        let public_key = ec::point_of(&certificate.cert.tbs_certificate.subject_public_key_info)?;
        let signed_attrs = signed_attrs_as_received(whole.raw)?;
        if !ec::verify_der(&public_key, &signed_attrs, signer_info.signature.as_bytes()) {
            return Err(X509Error::BadSignature);
        }
        Ok(ChuidSigner {
            public_key,
            subject_cn: names::common_name(&certificate.cert.tbs_certificate.subject),
            certificate_der: certificate.der,
        })
    }
}

/// The one value of the one attribute `oid` (RFC 5652 §11: contentType and
/// messageDigest are single-valued and must not repeat).
fn single_value(
    attrs: &SignedAttributes,
    oid: der::asn1::ObjectIdentifier,
) -> Result<&Any, X509Error> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    match (found.next(), found.next()) {
        (Some(a), None) => match a.values.as_slice() {
            [v] => Ok(v),
            _ => Err(X509Error::Malformed(
                "a signed attribute must have one value",
            )),
        },
        (None, _) => Err(X509Error::Malformed(
            "a required signed attribute is missing",
        )),
        (Some(_), Some(_)) => Err(X509Error::Malformed("a signed attribute repeats")),
    }
}

/// The SignedData's parts as received: ContentInfo → [0] → SignedData's elements.
fn signed_data_parts(content_info: &[u8]) -> Result<Vec<raw::RawTlv<'_>>, X509Error> {
    let parts = raw::sequence(content_info, 2)?;
    let explicit = parts
        .get(1)
        .ok_or(X509Error::Malformed("ContentInfo has no content"))?;
    // version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls,
    // signerInfos: at most six.
    raw::sequence(explicit.value, 6)
}

/// The certificate the sid names, from the SignedData's certificate set, with its
/// bytes as received.
fn signer_certificate(content_info: &[u8], sid: &SignerIdentifier) -> Result<Parsed, X509Error> {
    let parts = signed_data_parts(content_info)?;
    let set = parts
        .iter()
        .find(|p| p.tag == context_0())
        .ok_or(X509Error::Malformed(
            "the SignedData carries no certificate",
        ))?;
    for item in raw::tlvs(set.value, MAX_CERTIFICATES)? {
        if item.tag != Tag::Sequence {
            continue; // another CertificateChoices (attribute certificates, other)
        }
        let parsed = Parsed::decode(item.raw)?;
        let tbs = &parsed.cert.tbs_certificate;
        let matches = match sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                ias.issuer == tbs.issuer && ias.serial_number == tbs.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
                .get::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                .ok()
                .flatten()
                .is_some_and(|(_, own)| own == *ski),
        };
        if matches {
            return Ok(parsed);
        }
    }
    Err(X509Error::Malformed("no certificate for the signer"))
}

fn context_0() -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    }
}

/// The signed attributes exactly as received, re-tagged as the SET OF the signature
/// covers (RFC 5652 §5.4).
fn signed_attrs_as_received(content_info: &[u8]) -> Result<Vec<u8>, X509Error> {
    let parts = signed_data_parts(content_info)?;
    let infos = parts
        .last()
        .filter(|p| p.tag == Tag::Set)
        .ok_or(X509Error::Malformed("no SignerInfos"))?;
    let info = match raw::tlvs(infos.value, 1)?.as_slice() {
        [one] => *one,
        _ => return Err(X509Error::Malformed("exactly one SignerInfo expected")),
    };
    // version, sid, digestAlgorithm, [0] signedAttrs, …: the first [0].
    let attrs = raw::sequence(info.raw, 7)?
        .into_iter()
        .find(|p| p.tag == context_0())
        .ok_or(X509Error::Malformed("no signed attributes"))?;
    let mut out = Header::new(Tag::Set, attrs.value.len())?.to_der()?;
    out.extend_from_slice(attrs.value);
    Ok(out)
}
