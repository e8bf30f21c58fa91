//! EF.SOD, the security object (docs/PROFILE.md §3): SHA-256 of every file that never
//! changes after activation, the chip public key and the card serial, signed by the
//! document signer. Also the common shape of the other signed objects (EF.STATUS and
//! review records): `template { content, 7F21 signer certificate, 5F37 signature }`.

use crate::date;
use crate::keys::Serial;
use crate::pki::{DocumentSigner, PkiError, PublicKey, Signature, SignerCertificate};
use crate::profile::{tags, FileId};
use crate::tlv::{self, Builder, Fields, Tag, TlvError};
use chrono::NaiveDate;

const SOD_VERSION: u8 = 1;

/// A signed object split into the parts a verifier checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedObject {
    /// The content template's whole encoding: what the signature covers.
    pub content: Vec<u8>,
    pub signer: SignerCertificate,
    pub signature: Signature,
}

impl SignedObject {
    pub fn parse(bytes: &[u8], template: Tag, content_tag: Tag) -> Result<Self, TlvError> {
        let f = Fields::of(
            tlv::parse_exact(bytes)?,
            template,
            &[content_tag, tags::SIGNER_CERT, tags::SIGNATURE],
        )?;
        Ok(Self {
            content: f.required(content_tag)?.raw.to_vec(),
            signer: SignerCertificate::from_object(f.required(tags::SIGNER_CERT)?)?,
            signature: f.fixed(tags::SIGNATURE)?,
        })
    }

    /// The signature checks against the embedded signer certificate's key. Whether that
    /// certificate is trusted is the trust list's question.
    pub fn signature_valid(&self) -> bool {
        self.signer
            .suite
            .verify(&self.signer.public_key, &self.content, &self.signature)
    }

    pub fn content_tlv(&self) -> Result<tlv::Tlv<'_>, TlvError> {
        tlv::parse_exact(&self.content)
    }
}

/// The decoded security object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityObject {
    pub signed: SignedObject,
    pub serial: Serial,
    pub chip_key: PublicKey,
    pub signed_on: NaiveDate,
    pub hashes: Vec<(FileId, [u8; 32])>,
}

impl SecurityObject {
    /// Builds and signs EF.SOD over the exact file contents given.
    pub fn build(
        serial: &Serial,
        chip_key: &PublicKey,
        signed_on: NaiveDate,
        files: &[(FileId, &[u8])],
        signer: &DocumentSigner,
    ) -> Result<Vec<u8>, PkiError> {
        // Files are hashed in the signer's suite: SHA-256 or SM3.
        let suite = signer.certificate.suite;
        let mut hashes = Builder::new();
        for (file, content) in files {
            hashes = hashes.raw(
                &Builder::new()
                    .field(tags::SOD_HASH_FID, &file.fid().to_be_bytes())
                    .field(tags::SOD_HASH_VALUE, &suite.hash(content))
                    .wrap(tags::SOD_HASH_ENTRY),
            );
        }
        let content = Builder::new()
            .field(tags::SOD_VERSION, &[SOD_VERSION])
            .field(tags::SOD_SERIAL, serial)
            .field(tags::SOD_CHIP_KEY, chip_key)
            .field(tags::SOD_SIGNED_ON, &date::encode(signed_on))
            .raw(&hashes.wrap(tags::SOD_HASHES))
            .wrap(tags::SOD_CONTENT);
        signer.sign_object(tags::SOD, &content)
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, TlvError> {
        let signed = SignedObject::parse(bytes, tags::SOD, tags::SOD_CONTENT)?;
        let content = tlv::parse_exact(&signed.content)?;
        let f = Fields::of(
            content,
            tags::SOD_CONTENT,
            &[
                tags::SOD_VERSION,
                tags::SOD_SERIAL,
                tags::SOD_CHIP_KEY,
                tags::SOD_SIGNED_ON,
                tags::SOD_HASHES,
            ],
        )?;
        if f.byte(tags::SOD_VERSION)? != SOD_VERSION {
            return Err(TlvError::BadValue {
                tag: tags::SOD_VERSION,
                reason: "unsupported security object version",
            });
        }
        let list = f.required(tags::SOD_HASHES)?;
        let mut hashes = Vec::new();
        for entry in tlv::parse_all(list.value)? {
            let e = Fields::of(
                entry,
                tags::SOD_HASH_ENTRY,
                &[tags::SOD_HASH_FID, tags::SOD_HASH_VALUE],
            )?;
            let fid = u16::from_be_bytes(e.fixed(tags::SOD_HASH_FID)?);
            let file = FileId::from_fid(fid).ok_or(TlvError::BadValue {
                tag: tags::SOD_HASH_FID,
                reason: "unknown file id",
            })?;
            if hashes.iter().any(|(f, _)| *f == file) {
                return Err(TlvError::Duplicate {
                    parent: tags::SOD_HASHES,
                    tag: tags::SOD_HASH_FID,
                });
            }
            hashes.push((file, e.fixed(tags::SOD_HASH_VALUE)?));
        }
        let serial = f.fixed(tags::SOD_SERIAL)?;
        let chip_key = f.fixed(tags::SOD_CHIP_KEY)?;
        let signed_on = f.date(tags::SOD_SIGNED_ON)?;
        Ok(Self {
            signed,
            serial,
            chip_key,
            signed_on,
            hashes,
        })
    }

    pub fn hash_of(&self, file: FileId) -> Option<&[u8; 32]> {
        self.hashes.iter().find(|(f, _)| *f == file).map(|(_, h)| h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{RootKey, SigningKey};

    pub(crate) fn signer() -> DocumentSigner {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let root = RootKey {
            name: "根".into(),
            key: SigningKey::generate().unwrap(),
            valid_from: d(2020, 1, 1),
            valid_until: d(2040, 1, 1),
        };
        let key = SigningKey::generate().unwrap();
        let cert = root
            .issue_signer(
                "某市司法局",
                &key.public_key(),
                d(2025, 1, 1),
                d(2030, 1, 1),
            )
            .unwrap();
        DocumentSigner::new(key, cert).unwrap()
    }

    #[test]
    fn security_object_round_trips_and_signature_checks() {
        let s = signer();
        let chip = SigningKey::generate().unwrap().public_key();
        let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let bytes = SecurityObject::build(
            &[1; 8],
            &chip,
            day,
            &[(FileId::Holder, b"abc"), (FileId::Cert, b"def")],
            &s,
        )
        .unwrap();
        let sod = SecurityObject::parse(&bytes).unwrap();
        assert!(sod.signed.signature_valid());
        assert_eq!(sod.serial, [1; 8]);
        assert_eq!(sod.chip_key, chip);
        assert_eq!(sod.signed_on, day);
        assert_eq!(sod.hash_of(FileId::Cert), Some(&crate::pki::sha256(b"def")));
        assert_eq!(sod.hash_of(FileId::Photo), None);

        // One flipped bit in the signed content breaks the signature.
        let mut tampered = bytes.clone();
        let pos = tampered.windows(8).position(|w| w == [1; 8]).unwrap();
        tampered[pos] = 2;
        let sod = SecurityObject::parse(&tampered).unwrap();
        assert!(!sod.signed.signature_valid());
    }

    #[test]
    fn garbage_is_a_format_error() {
        assert!(SecurityObject::parse(&[0x77, 0x02, 0x80, 0x00]).is_err());
        assert!(SecurityObject::parse(&[]).is_err());
    }
}
