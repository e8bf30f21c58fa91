//! What the chip signs in INTERNAL AUTHENTICATE: a domain-separated message over the
//! verifier's challenge, so the chip key can never be made to sign anything else.

/// Prefix of every chip-authentication message.
pub const CHIP_AUTH_LABEL: &[u8] = b"ECARD-CHIPAUTH";

/// The bytes the chip signs with ECDSA P-256 / SHA-256 (signature: 64 bytes r || s).
pub fn message(challenge: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHIP_AUTH_LABEL.len() + challenge.len());
    m.extend_from_slice(CHIP_AUTH_LABEL);
    m.extend_from_slice(challenge);
    m
}
