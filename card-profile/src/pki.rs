//! Keys and certificates for passive authentication: a province root key signs
//! document-signer certificates (compact CV-style TLV, docs/PROFILE.md §4); the
//! document signer signs each card's security object, status and reviews; a verifier
//! holds only the trust list of root public keys.

use crate::date;
use crate::profile::tags;
pub use crate::suite::Suite;
use crate::suite::{SuiteError, SuiteKey};
use crate::tlv::{self, Builder, Fields, TlvError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

/// An uncompressed point `04‖X‖Y` on P-256 or, in the SM suite, the SM2 curve.
pub type PublicKey = [u8; 65];
/// A fixed-size signature r ‖ s (ECDSA P-256 or SM2).
pub type Signature = [u8; 64];
/// First 8 bytes of SHA-256 over a public key, in both suites: an identifier for
/// finding a key, never a security function (docs/SUITES.md).
pub type KeyId = [u8; 8];

const SIGNER_CERT_VERSION: u8 = 1;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PkiError {
    #[error("key material is not a valid PKCS#8 key of the suite")]
    BadPrivateKey,
    #[error("a key of one algorithm suite was paired with a certificate of another")]
    SuiteMismatch,
    #[error("public key is not an uncompressed P-256 point")]
    BadPublicKey,
    #[error("random generator failed")]
    Random,
    #[error("signing failed")]
    Signing,
    #[error("malformed certificate: {0}")]
    Format(#[from] TlvError),
}

/// SHA-256, as used for file hashes and key ids.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub fn key_id(public_key: &PublicKey) -> KeyId {
    let h = sha256(public_key);
    let mut id = [0u8; 8];
    id.copy_from_slice(&h[..8]);
    id
}

/// Checks a raw r‖s signature in the suite the public key belongs to
/// ([`Suite::of_point`]): ECDSA P-256 / SHA-256, or SM2 / SM3. Sync's envelopes and
/// request signatures go through here, so a registry and its stations run in the
/// suite of their keys.
pub fn verify_signature(public_key: &[u8], message: &[u8], sig: &[u8]) -> bool {
    Suite::of_point(public_key).verify(public_key, message, sig)
}

/// A signing key of one suite, kept as PKCS#8 (zeroized on drop) plus the parsed key.
pub struct SigningKey {
    pkcs8: Zeroizing<Vec<u8>>,
    key: SuiteKey,
}

impl From<SuiteError> for PkiError {
    fn from(e: SuiteError) -> Self {
        match e {
            SuiteError::BadPrivateKey | SuiteError::Unknown(_) => PkiError::BadPrivateKey,
            SuiteError::Random => PkiError::Random,
            SuiteError::Signing => PkiError::Signing,
        }
    }
}

impl SigningKey {
    /// A fresh P-256 key.
    pub fn generate() -> Result<Self, PkiError> {
        Self::generate_in(Suite::P256)
    }

    pub fn generate_in(suite: Suite) -> Result<Self, PkiError> {
        let pkcs8 = suite.generate_pkcs8()?;
        Self::from_pkcs8_in(suite, &pkcs8)
    }

    /// A P-256 key from PKCS#8.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, PkiError> {
        Self::from_pkcs8_in(Suite::P256, pkcs8)
    }

    /// A key of either suite from PKCS#8 (its curve OID says which).
    pub fn from_pkcs8_any(pkcs8: &[u8]) -> Result<Self, PkiError> {
        Ok(Self {
            key: SuiteKey::from_pkcs8_any(pkcs8)?,
            pkcs8: Zeroizing::new(pkcs8.to_vec()),
        })
    }

    pub fn from_pkcs8_in(suite: Suite, pkcs8: &[u8]) -> Result<Self, PkiError> {
        Ok(Self {
            key: SuiteKey::from_pkcs8(suite, pkcs8)?,
            pkcs8: Zeroizing::new(pkcs8.to_vec()),
        })
    }

    /// The PKCS#8 document, for encrypted storage by the caller.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn suite(&self) -> Suite {
        self.key.suite()
    }

    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    pub fn sign(&self, message: &[u8]) -> Result<Signature, PkiError> {
        Ok(self.key.sign(message)?)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", hex::encode(key_id(&self.public_key())))
    }
}

/// A province root key (kept offline by the province; generated locally for demo and tests).
#[derive(Debug)]
pub struct RootKey {
    pub name: String,
    pub key: SigningKey,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

impl RootKey {
    pub fn anchor(&self) -> TrustAnchor {
        let public_key = self.key.public_key();
        TrustAnchor {
            name: self.name.clone(),
            key_id: key_id(&public_key),
            public_key,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            suite: self.key.suite(),
        }
    }

    /// Issues a document-signer certificate for `subject`'s public key, in the
    /// root's suite (a chain never mixes suites).
    pub fn issue_signer(
        &self,
        subject: &str,
        signer_key: &PublicKey,
        valid_from: NaiveDate,
        valid_until: NaiveDate,
    ) -> Result<SignerCertificate, PkiError> {
        let body = Builder::new()
            .field(tags::SIGNER_CERT_VERSION, &[SIGNER_CERT_VERSION])
            .field(tags::SIGNER_CERT_ISSUER, &key_id(&self.key.public_key()))
            .field(tags::SIGNER_CERT_SUBJECT, subject.as_bytes())
            .field(tags::SIGNER_CERT_KEY, signer_key)
            .field(tags::SIGNER_CERT_VALID_FROM, &date::encode(valid_from))
            .field(tags::SIGNER_CERT_VALID_UNTIL, &date::encode(valid_until))
            .field_opt(
                tags::SIGNER_CERT_SUITE,
                suite_field(self.key.suite()).as_ref().map(|b| b.as_slice()),
            )
            .wrap(tags::SIGNER_CERT_BODY);
        let sig = self.key.sign(&body)?;
        let raw = Builder::new()
            .raw(&body)
            .field(tags::SIGNATURE, &sig)
            .wrap(tags::SIGNER_CERT);
        SignerCertificate::from_tlv(&raw).map_err(PkiError::Format)
    }
}

/// A document-signer certificate as carried on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerCertificate {
    /// The whole encoding (7F21 …).
    pub raw: Vec<u8>,
    /// The signed body (7F4E …).
    pub body: Vec<u8>,
    pub issuer: KeyId,
    pub subject: String,
    pub public_key: PublicKey,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// The suite of the chain: the root signed this body in it, and the subject's
    /// key signs, and hashes files, in it.
    pub suite: Suite,
    pub signature: Signature,
}

/// The certificate's suite field: absent for P-256, so its certificates keep the
/// bytes they had before suites existed.
fn suite_field(suite: Suite) -> Option<[u8; 1]> {
    (suite != Suite::P256).then(|| [suite.tag_byte()])
}

impl SignerCertificate {
    pub fn from_tlv(bytes: &[u8]) -> Result<Self, TlvError> {
        Self::from_object(tlv::parse_exact(bytes)?)
    }

    pub fn from_object(obj: tlv::Tlv<'_>) -> Result<Self, TlvError> {
        let outer = Fields::of(
            obj,
            tags::SIGNER_CERT,
            &[tags::SIGNER_CERT_BODY, tags::SIGNATURE],
        )?;
        let body_tlv = outer.required(tags::SIGNER_CERT_BODY)?;
        let f = Fields::of(
            body_tlv,
            tags::SIGNER_CERT_BODY,
            &[
                tags::SIGNER_CERT_VERSION,
                tags::SIGNER_CERT_ISSUER,
                tags::SIGNER_CERT_SUBJECT,
                tags::SIGNER_CERT_KEY,
                tags::SIGNER_CERT_VALID_FROM,
                tags::SIGNER_CERT_VALID_UNTIL,
                tags::SIGNER_CERT_SUITE,
            ],
        )?;
        let suite = match f.optional(tags::SIGNER_CERT_SUITE) {
            None => Suite::P256,
            Some(t) => match t.value {
                // P-256 is written by leaving the field out; an explicit 1 would
                // give one certificate two encodings.
                [b] if *b != Suite::P256.tag_byte() => {
                    Suite::from_tag_byte(*b).ok_or(TlvError::BadValue {
                        tag: tags::SIGNER_CERT_SUITE,
                        reason: "unknown algorithm suite",
                    })?
                }
                _ => {
                    return Err(TlvError::BadValue {
                        tag: tags::SIGNER_CERT_SUITE,
                        reason: "unknown algorithm suite",
                    })
                }
            },
        };
        if f.byte(tags::SIGNER_CERT_VERSION)? != SIGNER_CERT_VERSION {
            return Err(TlvError::BadValue {
                tag: tags::SIGNER_CERT_VERSION,
                reason: "unsupported certificate version",
            });
        }
        Ok(Self {
            raw: obj.raw.to_vec(),
            body: body_tlv.raw.to_vec(),
            issuer: f.fixed(tags::SIGNER_CERT_ISSUER)?,
            subject: f.text(tags::SIGNER_CERT_SUBJECT)?,
            public_key: f.fixed(tags::SIGNER_CERT_KEY)?,
            valid_from: f.date(tags::SIGNER_CERT_VALID_FROM)?,
            valid_until: f.date(tags::SIGNER_CERT_VALID_UNTIL)?,
            suite,
            signature: outer.fixed(tags::SIGNATURE)?,
        })
    }
}

/// A document signer: the bureau's signing key with its certificate.
#[derive(Debug)]
pub struct DocumentSigner {
    pub key: SigningKey,
    pub certificate: SignerCertificate,
    /// The same key's X.509 certificate from the root (DER), which PIV cards need:
    /// it signs their 9E certificate and CHUID, and travels in the CHUID's
    /// signature so that outside tools can check the chain (docs/PROFILE-PIV.md §3).
    pub x509: Option<Vec<u8>>,
}

impl DocumentSigner {
    /// Pairs a key with its certificate; refuses a certificate for another key.
    pub fn new(key: SigningKey, certificate: SignerCertificate) -> Result<Self, PkiError> {
        if key.public_key() != certificate.public_key {
            return Err(PkiError::BadPublicKey);
        }
        if key.suite() != certificate.suite {
            return Err(PkiError::SuiteMismatch);
        }
        Ok(Self {
            key,
            certificate,
            x509: None,
        })
    }

    /// The signer with its X.509 certificate (see [`Self::x509`]).
    pub fn with_x509(mut self, der: Vec<u8>) -> Self {
        self.x509 = Some(der);
        self
    }

    /// Signs a content template and wraps it as `template { content, 7F21 cert, 5F37 sig }`.
    pub fn sign_object(&self, template: tlv::Tag, content: &[u8]) -> Result<Vec<u8>, PkiError> {
        let sig = self.key.sign(content)?;
        Ok(Builder::new()
            .raw(content)
            .raw(&self.certificate.raw)
            .field(tags::SIGNATURE, &sig)
            .wrap(template))
    }
}

/// One trusted root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustAnchor {
    pub name: String,
    #[serde(with = "hex::serde")]
    pub key_id: KeyId,
    #[serde(with = "hex_key")]
    pub public_key: PublicKey,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// The root's suite; absent in JSON means P-256 (trust lists from before #17).
    #[serde(default, skip_serializing_if = "is_p256")]
    pub suite: Suite,
}

fn is_p256(s: &Suite) -> bool {
    *s == Suite::P256
}

mod hex_key {
    use super::PublicKey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(key))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        let bytes = hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("public key must be 65 bytes"))
    }
}

/// Why a signer certificate does not chain to the trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainError {
    #[error("signer certificate issued by an unknown root")]
    UnknownIssuer,
    #[error("signer certificate signature is invalid")]
    BadSignature,
    /// The certificate says one suite and its root is in another.
    #[error("signer certificate suite differs from its root's")]
    SuiteMismatch,
    #[error("signer certificate not valid on {on} (valid {from} to {until})")]
    SignerOutOfValidity {
        on: NaiveDate,
        from: NaiveDate,
        until: NaiveDate,
    },
    #[error("root {name} not valid on {on}")]
    RootOutOfValidity { name: String, on: NaiveDate },
    /// The province revoked this document signer (its key leaked, the bureau was
    /// dissolved): what it signed from `revoked_on` on is not genuine.
    #[error("document signer revoked on {revoked_on}, used on {on}")]
    SignerRevoked {
        revoked_on: NaiveDate,
        on: NaiveDate,
    },
}

/// A document signer the province has revoked, named by the key id of its public
/// key: objects it signed on or after `revoked_on` fail the chain; what it signed
/// before stays genuine (cards already in officers' hands are not voided by it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSigner {
    #[serde(with = "hex::serde")]
    pub key_id: KeyId,
    pub revoked_on: NaiveDate,
    #[serde(default)]
    pub reason: String,
}

/// The roots a verifier trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustList {
    pub anchors: Vec<TrustAnchor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_signers: Vec<RevokedSigner>,
}

impl TrustList {
    pub fn new(anchors: Vec<TrustAnchor>) -> Self {
        Self {
            anchors,
            revoked_signers: Vec::new(),
        }
    }

    /// The revocation of the signer with this public key, if any.
    pub fn signer_revocation(&self, signer_key: &PublicKey) -> Option<&RevokedSigner> {
        let id = key_id(signer_key);
        self.revoked_signers.iter().find(|r| r.key_id == id)
    }

    /// Checks that `cert` was signed by a trusted root and that both were valid on
    /// `signed_on` (the day the signer used it: a card signed while the signer was
    /// valid stays genuine after the signer's own period ends, as in ICAO 9303).
    pub fn check_signer(
        &self,
        cert: &SignerCertificate,
        signed_on: NaiveDate,
    ) -> Result<&TrustAnchor, ChainError> {
        let anchor = self
            .anchors
            .iter()
            .find(|a| a.key_id == cert.issuer && key_id(&a.public_key) == a.key_id)
            .ok_or(ChainError::UnknownIssuer)?;
        if cert.suite != anchor.suite {
            return Err(ChainError::SuiteMismatch);
        }
        if !anchor
            .suite
            .verify(&anchor.public_key, &cert.body, &cert.signature)
        {
            return Err(ChainError::BadSignature);
        }
        if signed_on < cert.valid_from || signed_on > cert.valid_until {
            return Err(ChainError::SignerOutOfValidity {
                on: signed_on,
                from: cert.valid_from,
                until: cert.valid_until,
            });
        }
        if signed_on < anchor.valid_from || signed_on > anchor.valid_until {
            return Err(ChainError::RootOutOfValidity {
                name: anchor.name.clone(),
                on: signed_on,
            });
        }
        if let Some(r) = self.signer_revocation(&cert.public_key) {
            if signed_on >= r.revoked_on {
                return Err(ChainError::SignerRevoked {
                    revoked_on: r.revoked_on,
                    on: signed_on,
                });
            }
        }
        Ok(anchor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn root(name: &str) -> RootKey {
        RootKey {
            name: name.into(),
            key: SigningKey::generate().unwrap(),
            valid_from: d(2020, 1, 1),
            valid_until: d(2040, 1, 1),
        }
    }

    #[test]
    fn signer_chains_to_its_root_only() {
        let r = root("四川省司法厅");
        let other = root("其他省");
        let signer = SigningKey::generate().unwrap();
        let cert = r
            .issue_signer(
                "某市司法局",
                &signer.public_key(),
                d(2025, 1, 1),
                d(2030, 1, 1),
            )
            .unwrap();
        let trust = TrustList::new(vec![r.anchor()]);
        assert_eq!(
            trust.check_signer(&cert, d(2026, 1, 1)).unwrap().name,
            "四川省司法厅"
        );
        assert_eq!(
            TrustList::new(vec![other.anchor()]).check_signer(&cert, d(2026, 1, 1)),
            Err(ChainError::UnknownIssuer)
        );
        assert!(matches!(
            trust.check_signer(&cert, d(2031, 1, 1)),
            Err(ChainError::SignerOutOfValidity { .. })
        ));
    }

    #[test]
    fn a_forged_anchor_with_the_right_key_id_but_another_key_is_refused() {
        let r = root("真");
        let signer = SigningKey::generate().unwrap();
        let cert = r
            .issue_signer("局", &signer.public_key(), d(2025, 1, 1), d(2030, 1, 1))
            .unwrap();
        let mut fake = root("假").anchor();
        fake.key_id = r.anchor().key_id;
        assert_eq!(
            TrustList::new(vec![fake]).check_signer(&cert, d(2026, 1, 1)),
            Err(ChainError::UnknownIssuer)
        );
    }

    #[test]
    fn tampered_certificate_fails_the_signature() {
        let r = root("根");
        let signer = SigningKey::generate().unwrap();
        let mut cert = r
            .issue_signer(
                "某市司法局",
                &signer.public_key(),
                d(2025, 1, 1),
                d(2030, 1, 1),
            )
            .unwrap();
        let pos = cert.body.len() - 3;
        cert.body[pos] ^= 1;
        let trust = TrustList::new(vec![r.anchor()]);
        assert_eq!(
            trust.check_signer(&cert, d(2026, 1, 1)),
            Err(ChainError::BadSignature)
        );
    }

    #[test]
    fn a_revoked_signer_fails_from_its_revocation_date_on() {
        let r = root("根");
        let signer = SigningKey::generate().unwrap();
        let cert = r
            .issue_signer(
                "某市司法局",
                &signer.public_key(),
                d(2025, 1, 1),
                d(2030, 1, 1),
            )
            .unwrap();
        let mut trust = TrustList::new(vec![r.anchor()]);
        trust.revoked_signers.push(RevokedSigner {
            key_id: key_id(&signer.public_key()),
            revoked_on: d(2026, 6, 1),
            reason: "密钥泄露".into(),
        });
        assert!(trust.check_signer(&cert, d(2026, 5, 31)).is_ok());
        assert_eq!(
            trust.check_signer(&cert, d(2026, 6, 1)),
            Err(ChainError::SignerRevoked {
                revoked_on: d(2026, 6, 1),
                on: d(2026, 6, 1)
            })
        );
        assert!(matches!(
            trust.check_signer(&cert, d(2027, 1, 1)),
            Err(ChainError::SignerRevoked { .. })
        ));
        // Another signer of the same root is not touched.
        let other = SigningKey::generate().unwrap();
        let other_cert = r
            .issue_signer("另一局", &other.public_key(), d(2025, 1, 1), d(2030, 1, 1))
            .unwrap();
        assert!(trust.check_signer(&other_cert, d(2027, 1, 1)).is_ok());
    }

    #[test]
    fn a_trust_list_without_revoked_signers_still_decodes() {
        let t: TrustList = serde_json::from_str(r#"{"anchors": []}"#).unwrap();
        assert!(t.revoked_signers.is_empty());
    }

    #[test]
    fn trust_list_round_trips_as_json() {
        let mut t = TrustList::new(vec![root("根").anchor()]);
        t.revoked_signers.push(RevokedSigner {
            key_id: [1; 8],
            revoked_on: d(2026, 1, 1),
            reason: String::new(),
        });
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<TrustList>(&json).unwrap(), t);
    }
}
