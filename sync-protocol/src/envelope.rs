//! The one shape of every signed document a registry or a province root hands a
//! station: the document's JSON as text (`body`), the signer's key id, and a
//! signature (r‖s, hex) over `context ‖ body`: ECDSA P-256 / SHA-256, or SM2 / SM3
//! when the signing key is an SM2 one (a 国密 deployment; the pinned key's curve
//! says which, `Suite::of_point`).
//!
//! The context is a fixed per-document prefix (domain separation): a signature made
//! for one kind of document can never be presented as another made with the same
//! key (a revocation list as a feed page, a feed page as a trust list). Signing the
//! text rather than a re-encoding means no JSON canonicalisation: verify the bytes,
//! then parse them.

use crate::SigningKey;
use card_profile::pki::{key_id, verify_signature};

/// Why an envelope's signature was refused (each document maps it to its own error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Signed by another key than the one expected.
    WrongKey { expected: String, found: String },
    /// The signature does not verify over `context ‖ body`.
    BadSignature,
}

pub(crate) fn signed_bytes(context: &[u8], body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(context.len() + body.len());
    m.extend_from_slice(context);
    m.extend_from_slice(body);
    m
}

/// `(key_id, signature)` in hex for `body` under `context`.
pub(crate) fn sign(
    context: &[u8],
    body: &str,
    key: &SigningKey,
) -> Result<(String, String), crate::ProtocolError> {
    let signature = key
        .sign(&signed_bytes(context, body.as_bytes()))
        .map_err(|_| crate::ProtocolError::Signing)?;
    Ok((
        hex::encode(key_id(&key.public_key())),
        hex::encode(signature),
    ))
}

/// Checks the key id names `public_key` and the signature verifies with it.
pub(crate) fn verify(
    context: &[u8],
    body: &str,
    claimed_key_id: &str,
    signature: &str,
    public_key: &[u8; 65],
) -> Result<(), Fault> {
    let expected = hex::encode(key_id(public_key));
    if !claimed_key_id.eq_ignore_ascii_case(&expected) {
        return Err(Fault::WrongKey {
            expected,
            found: claimed_key_id.chars().take(32).collect(),
        });
    }
    let sig = hex::decode(signature).map_err(|_| Fault::BadSignature)?;
    if !verify_signature(public_key, &signed_bytes(context, body.as_bytes()), &sig) {
        return Err(Fault::BadSignature);
    }
    Ok(())
}
