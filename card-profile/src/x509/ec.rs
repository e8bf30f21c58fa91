//! P-256 keys and signatures in their X.509 shapes: the SubjectPublicKeyInfo of a
//! 65-byte point, and raw r‖s (what [`SigningKey`] makes) ↔ DER `Ecdsa-Sig-Value`.

use super::oids::{ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, SECP_256_R_1};
use super::X509Error;
use crate::pki::{PublicKey, SigningKey};
use crate::suite::Suite;
use der::asn1::{BitString, UintRef};
use der::{Any, Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3).
#[derive(Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// ecdsa-with-SHA256 with its parameters absent, as RFC 5758 §3.2 requires.
pub(super) fn ecdsa_with_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA_256,
        parameters: None,
    }
}

/// Refuses a key of the SM suite (and so every signature it would make here).
pub(super) fn p256_key(key: &SigningKey) -> Result<&SigningKey, X509Error> {
    match key.suite() {
        Suite::P256 => Ok(key),
        Suite::Sm => Err(X509Error::UnsupportedSuite),
    }
}

/// A point that can go into a P-256 certificate: uncompressed form, not on SM2's
/// curve (a point of the SM suite must not be certified as P-256).
pub(super) fn check_p256_point(point: &PublicKey) -> Result<(), X509Error> {
    if point[0] != 0x04 {
        return Err(X509Error::NotP256Key);
    }
    if Suite::of_point(point) == Suite::Sm {
        return Err(X509Error::UnsupportedSuite);
    }
    Ok(())
}

/// id-ecPublicKey with namedCurve prime256v1 and the uncompressed point.
pub(super) fn spki(point: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, X509Error> {
    check_p256_point(point)?;
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&SECP_256_R_1)?),
        },
        subject_public_key: BitString::from_bytes(point)?,
    })
}

/// The 65-byte point of a P-256 SubjectPublicKeyInfo; anything else (RSA, another
/// curve, a compressed point) is [`X509Error::NotP256Key`].
pub(super) fn point_of(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey, X509Error> {
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(X509Error::NotP256Key);
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or(X509Error::NotP256Key)?
        .decode_as::<const_oid::ObjectIdentifier>()
        .map_err(|_| X509Error::NotP256Key)?;
    if curve != SECP_256_R_1 {
        return Err(X509Error::NotP256Key);
    }
    let bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or(X509Error::NotP256Key)?;
    let point: PublicKey = bytes.try_into().map_err(|_| X509Error::NotP256Key)?;
    if point[0] != 0x04 {
        return Err(X509Error::NotP256Key);
    }
    Ok(point)
}

/// Signs `message` (SHA-256 inside) and returns the DER `Ecdsa-Sig-Value`.
pub(super) fn sign_der(key: &SigningKey, message: &[u8]) -> Result<Vec<u8>, X509Error> {
    let rs = p256_key(key)?
        .sign(message)
        .map_err(|_| X509Error::Malformed("signing failed"))?;
    let value = EcdsaSigValue {
        r: UintRef::new(&rs[..32])?,
        s: UintRef::new(&rs[32..])?,
    };
    Ok(value.to_der()?)
}

/// ECDSA P-256 / SHA-256 with a DER signature, as X.509 and CMS carry it. Any
/// malformed key or signature is simply "not valid". The signature must be exactly
/// one DER `Ecdsa-Sig-Value` (ring checks that, and der re-checks it here so both
/// agree on what a signature is).
pub(crate) fn verify_der(public_key: &PublicKey, message: &[u8], sig: &[u8]) -> bool {
    if EcdsaSigValue::from_der(sig).is_err() {
        return false;
    }
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, public_key)
        .verify(message, sig)
        .is_ok()
}
