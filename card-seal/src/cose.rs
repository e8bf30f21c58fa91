//! COSE_Sign1 (RFC 9052 §4.2) with ES256: the one structure the seal is, and the
//! exact bytes its signature covers.
//!
//! ```text
//! 18([ protected: bstr .cbor {1: -7, 4: kid}, unprotected: {}, payload: bstr, signature: bstr(64) ])
//! Sig_structure = ["Signature1", protected, external_aad = "ecard-seal/1", payload]
//! ```
//! The external AAD binds the signature to this use: a document signer's signature
//! over the same payload bytes in any other COSE message does not verify as a seal.

use ciborium::value::{Integer, Value};
use thiserror::Error;

use crate::cbor;

/// COSE tag for COSE_Sign1.
const TAG_SIGN1: u64 = 18;
/// COSE header labels and the ES256 algorithm identifier.
const HEADER_ALG: i64 = 1;
const HEADER_KID: i64 = 4;
const ALG_ES256: i64 = -7;
/// Bound into every seal signature (docs/SEAL.md §3).
pub const EXTERNAL_AAD: &[u8] = b"ecard-seal/1";
/// Bytes of the signer's key id in the header: the first four of
/// `card_profile::pki::key_id` (SHA-256 of the public key). It only picks which
/// known signer to try; a forger choosing a known kid still fails the signature.
pub const KID_LEN: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoseError {
    #[error("not one well-formed CBOR item")]
    NotCbor,
    #[error("not a tagged COSE_Sign1 of four parts")]
    Shape,
    #[error("protected header is not {{1: -7 (ES256), 4: kid}}")]
    Header,
    #[error("signature is not 64 bytes")]
    SignatureLength,
}

/// A parsed COSE_Sign1, signature not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign1 {
    pub protected: Vec<u8>,
    pub kid: [u8; KID_LEN],
    pub payload: Vec<u8>,
    pub signature: [u8; 64],
}

pub fn protected_header(kid: [u8; KID_LEN]) -> Vec<u8> {
    cbor::to_vec(&Value::Map(vec![
        (Value::from(HEADER_ALG), Value::from(ALG_ES256)),
        (Value::from(HEADER_KID), Value::Bytes(kid.to_vec())),
    ]))
}

/// The bytes ES256 signs: `Sig_structure` for a COSE_Sign1.
pub fn to_be_signed(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor::to_vec(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(EXTERNAL_AAD.to_vec()),
        Value::Bytes(payload.to_vec()),
    ]))
}

impl Sign1 {
    pub fn to_cbor(&self) -> Vec<u8> {
        cbor::to_vec(&Value::Tag(
            TAG_SIGN1,
            Box::new(Value::Array(vec![
                Value::Bytes(self.protected.clone()),
                Value::Map(Vec::new()),
                Value::Bytes(self.payload.clone()),
                Value::Bytes(self.signature.to_vec()),
            ])),
        ))
    }

    pub fn from_cbor(bytes: &[u8]) -> Result<Self, CoseError> {
        let value = cbor::from_slice(bytes).map_err(|_| CoseError::NotCbor)?;
        let Value::Tag(TAG_SIGN1, inner) = value else {
            return Err(CoseError::Shape);
        };
        let Value::Array(parts) = *inner else {
            return Err(CoseError::Shape);
        };
        let [Value::Bytes(protected), Value::Map(unprotected), Value::Bytes(payload), Value::Bytes(signature)] =
            <[Value; 4]>::try_from(parts).map_err(|_| CoseError::Shape)?
        else {
            return Err(CoseError::Shape);
        };
        // Nothing unsigned may change what a checker does.
        if !unprotected.is_empty() {
            return Err(CoseError::Shape);
        }
        let kid = parse_protected(&protected)?;
        let signature = signature
            .try_into()
            .map_err(|_| CoseError::SignatureLength)?;
        Ok(Sign1 {
            protected,
            kid,
            payload,
            signature,
        })
    }
}

fn parse_protected(bytes: &[u8]) -> Result<[u8; KID_LEN], CoseError> {
    let Ok(Value::Map(entries)) = cbor::from_slice(bytes) else {
        return Err(CoseError::Header);
    };
    let [(Value::Integer(alg_label), Value::Integer(alg)), (Value::Integer(kid_label), Value::Bytes(kid))] =
        <[(Value, Value); 2]>::try_from(entries).map_err(|_| CoseError::Header)?
    else {
        return Err(CoseError::Header);
    };
    if alg_label != Integer::from(HEADER_ALG)
        || alg != Integer::from(ALG_ES256)
        || kid_label != Integer::from(HEADER_KID)
    {
        return Err(CoseError::Header);
    }
    kid.try_into().map_err(|_| CoseError::Header)
}
