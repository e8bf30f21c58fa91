//! The registry's revocation list: numbered, dated, signed (ECDSA P-256 / SHA-256
//! with the registry key), served full or as a delta since a list number.
//!
//! The signed envelope carries the list's JSON as a string (`body`) and the
//! signature over exactly those bytes (after a domain-separation prefix), so no
//! JSON canonicalisation is needed: verify the bytes, then parse them.
//!
//! The list only grows: a revoked serial or number never comes back (a suspension
//! is not a revocation; it reaches stations through the feed). Each registry
//! change that adds entries makes a new list number; an entry records the number
//! it was added in, so a delta since N is "every entry with `added_in` > N".

use crate::envelope::{self, Fault};
use crate::events::{check_number, normalize_serial, MAX_TEXT_LEN};
use crate::{check_version, ProtocolError, PublicKey, SigningKey, PROTOCOL_VERSION};
use card_profile::pki::key_id;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Prefix of the signed bytes: a list signature can never be mistaken for
/// another signature made with the same key.
pub const LIST_SIGNING_CONTEXT: &[u8] = b"ecard-revocation-list/v1\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A card serial (16 hex digits, upper-case).
    Serial,
    /// A certificate number.
    Number,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationEntry {
    pub kind: EntryKind,
    pub value: String,
    pub reason: String,
    pub since: NaiveDate,
    /// The list number this entry was added in.
    pub added_in: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Full,
    Delta,
}

/// The list (the signed content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationList {
    pub version: u32,
    pub kind: ListKind,
    /// This list's number: the registry's current one when it was signed.
    pub number: u64,
    /// Delta only: the list number the delta applies to.
    pub base: Option<u64>,
    /// When the registry signed it (RFC 3339, UTC): a verifier's "as of" date.
    pub issued_at: String,
    pub entries: Vec<RevocationEntry>,
    /// The `x-ecard-nonce` of the station request this answer was signed for (the
    /// registry signs each answer): a station takes a list only as the answer to its
    /// own request, so a recorded answer cannot be played back to hold it at an old
    /// list. Absent in a list signed for no request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// What travels: the list as JSON text plus the registry's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRevocationList {
    /// The [`RevocationList`] as JSON text (signed exactly as it stands).
    pub body: String,
    /// Key id (hex) of the registry key: first 8 bytes of SHA-256 of the public key.
    pub key_id: String,
    /// ECDSA P-256 fixed-size signature r‖s (hex) over `LIST_SIGNING_CONTEXT ‖ body`.
    pub signature: String,
}

/// `GET /sync/v1/registry-key`: the key that signs revocation lists. A station pins
/// it at enrollment after comparing `key_id` out of band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryKey {
    pub key_id: String,
    /// Uncompressed point, hex: P-256, or SM2 in a 国密 deployment.
    pub public_key: String,
}

impl RegistryKey {
    pub fn of(key: &PublicKey) -> Self {
        Self {
            key_id: hex::encode(key_id(key)),
            public_key: hex::encode(key),
        }
    }

    /// The public key, checked against its key id.
    pub fn public_key(&self) -> Result<PublicKey, ProtocolError> {
        let mut pk = [0u8; 65];
        hex::decode_to_slice(&self.public_key, &mut pk)
            .map_err(|_| ProtocolError::field("public_key", "not 65 bytes of hex"))?;
        if hex::encode(key_id(&pk)) != self.key_id.to_ascii_lowercase() {
            return Err(ProtocolError::field("key_id", "does not match the key"));
        }
        Ok(pk)
    }
}

impl RevocationEntry {
    /// Checks the entry; serials come back upper-case.
    pub fn checked(mut self) -> Result<Self, ProtocolError> {
        match self.kind {
            EntryKind::Serial => self.value = normalize_serial(&self.value)?,
            EntryKind::Number => check_number(&self.value)?,
        }
        if self.reason.len() > MAX_TEXT_LEN {
            return Err(ProtocolError::field("reason", "too long"));
        }
        Ok(self)
    }
}

impl RevocationList {
    pub fn full(number: u64, issued_at: impl Into<String>, entries: Vec<RevocationEntry>) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            kind: ListKind::Full,
            number,
            base: None,
            issued_at: issued_at.into(),
            entries,
            nonce: None,
        }
    }

    pub fn delta(
        base: u64,
        number: u64,
        issued_at: impl Into<String>,
        entries: Vec<RevocationEntry>,
    ) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            kind: ListKind::Delta,
            number,
            base: Some(base),
            issued_at: issued_at.into(),
            entries,
            nonce: None,
        }
    }

    /// Parses and checks list JSON. Only for bytes whose signature was verified
    /// ([`SignedRevocationList::verify`] calls it), and for fuzzing the parser.
    pub fn decode_verified_body(body: &[u8]) -> Result<Self, ProtocolError> {
        let list: RevocationList = serde_json::from_slice(body)?;
        check_version(list.version)?;
        match (list.kind, list.base) {
            (ListKind::Full, None) => {}
            (ListKind::Delta, Some(base)) if base <= list.number => {}
            _ => {
                return Err(ProtocolError::field(
                    "base",
                    "full lists have no base; a delta's base is at most its number",
                ))
            }
        }
        let entries = list
            .entries
            .into_iter()
            .map(|e| {
                let e = e.checked()?;
                if e.added_in > list.number || list.base.is_some_and(|b| e.added_in <= b) {
                    return Err(ProtocolError::field(
                        "added_in",
                        "entry outside the list's range",
                    ));
                }
                Ok(e)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RevocationList { entries, ..list })
    }

    /// Signs the list with the registry key.
    pub fn sign(&self, key: &SigningKey) -> Result<SignedRevocationList, ProtocolError> {
        let body = serde_json::to_string(self)?;
        let (key_id, signature) = envelope::sign(LIST_SIGNING_CONTEXT, &body, key)?;
        Ok(SignedRevocationList {
            body,
            key_id,
            signature,
        })
    }

    /// SYNC.md's rules for a station holding list `held` (None: no list yet): a list
    /// is taken only when its number is at least the held one (an older list would
    /// forget revocations), and a delta only when its base is exactly the held
    /// number (else entries in between would be missed).
    pub fn check_succeeds(&self, held: Option<u64>) -> Result<(), ProtocolError> {
        let have = held.unwrap_or(0);
        if held.is_some() && self.number < have {
            return Err(ProtocolError::ListOlder {
                number: self.number,
                held: have,
            });
        }
        match (self.kind, self.base) {
            (ListKind::Full, _) => Ok(()),
            (ListKind::Delta, Some(base)) if held == Some(base) => Ok(()),
            (ListKind::Delta, base) => Err(ProtocolError::DeltaBase {
                base: base.unwrap_or(0),
                have,
            }),
        }
    }
}

impl SignedRevocationList {
    /// Decodes the envelope from bytes (nothing is trusted yet: call [`verify`](Self::verify)).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Checks the signature with the registry's pinned public key, then parses the
    /// list. Fails closed: any doubt is an error, and no entry is returned.
    pub fn verify(&self, registry_key: &PublicKey) -> Result<RevocationList, ProtocolError> {
        envelope::verify(
            LIST_SIGNING_CONTEXT,
            &self.body,
            &self.key_id,
            &self.signature,
            registry_key,
        )
        .map_err(|f| match f {
            Fault::WrongKey { expected, found } => ProtocolError::WrongKey { expected, found },
            Fault::BadSignature => ProtocolError::BadSignature,
        })?;
        RevocationList::decode_verified_body(self.body.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(kind: EntryKind, value: &str, added_in: u64) -> RevocationEntry {
        RevocationEntry {
            kind,
            value: value.into(),
            reason: "注销".into(),
            since: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
            added_in,
        }
    }

    #[test]
    fn signed_list_verifies_and_tampering_is_caught() {
        let key = SigningKey::generate().expect("key");
        let list = RevocationList::full(
            2,
            "2026-11-23T00:00:00Z",
            vec![
                entry(EntryKind::Serial, "00112233AABBCCDD", 1),
                entry(EntryKind::Number, "川X010001", 2),
            ],
        );
        let signed = list.sign(&key).expect("sign");
        assert_eq!(signed.verify(&key.public_key()), Ok(list));

        let mut tampered = signed.clone();
        tampered.body = tampered.body.replace("川X010001", "川X010002");
        assert_eq!(
            tampered.verify(&key.public_key()),
            Err(ProtocolError::BadSignature)
        );

        let mut dropped = signed.clone();
        dropped.body = dropped.body.replace(r#""number":2"#, r#""number":3"#);
        assert_eq!(
            dropped.verify(&key.public_key()),
            Err(ProtocolError::BadSignature)
        );

        let other = SigningKey::generate().expect("key");
        assert!(matches!(
            signed.verify(&other.public_key()),
            Err(ProtocolError::WrongKey { .. })
        ));

        // Re-signed by another key but claiming the registry's key id.
        let mut forged = list_signed_by(&other);
        forged.key_id = signed.key_id.clone();
        assert_eq!(
            forged.verify(&key.public_key()),
            Err(ProtocolError::BadSignature)
        );
    }

    fn list_signed_by(key: &SigningKey) -> SignedRevocationList {
        RevocationList::full(9, "t", vec![])
            .sign(key)
            .expect("sign")
    }

    #[test]
    fn delta_entries_must_be_in_range() {
        let key = SigningKey::generate().expect("key");
        let bad = RevocationList::delta(5, 7, "t", vec![entry(EntryKind::Number, "A1", 5)]);
        assert!(bad
            .sign(&key)
            .expect("sign")
            .verify(&key.public_key())
            .is_err());
        let good = RevocationList::delta(5, 7, "t", vec![entry(EntryKind::Number, "A1", 6)]);
        assert!(good
            .sign(&key)
            .expect("sign")
            .verify(&key.public_key())
            .is_ok());
    }

    #[test]
    fn a_list_older_than_the_held_one_is_refused() {
        let full = |n| RevocationList::full(n, "t", vec![]);
        assert_eq!(full(5).check_succeeds(None), Ok(()));
        assert_eq!(full(5).check_succeeds(Some(5)), Ok(()));
        assert_eq!(full(6).check_succeeds(Some(5)), Ok(()));
        assert_eq!(
            full(4).check_succeeds(Some(5)),
            Err(ProtocolError::ListOlder { number: 4, held: 5 })
        );
        assert_eq!(
            full(0).check_succeeds(Some(1)).map_err(|e| e.code()),
            Err("revocation_list_older")
        );
    }

    #[test]
    fn a_delta_applies_only_to_its_base() {
        let delta = |base, n| RevocationList::delta(base, n, "t", vec![]);
        assert_eq!(delta(5, 7).check_succeeds(Some(5)), Ok(()));
        assert_eq!(delta(5, 5).check_succeeds(Some(5)), Ok(()));
        assert_eq!(
            delta(4, 7).check_succeeds(Some(5)),
            Err(ProtocolError::DeltaBase { base: 4, have: 5 })
        );
        assert_eq!(
            delta(6, 7).check_succeeds(Some(5)),
            Err(ProtocolError::DeltaBase { base: 6, have: 5 })
        );
        // No list held: only a full list will do.
        assert_eq!(
            delta(0, 3).check_succeeds(None),
            Err(ProtocolError::DeltaBase { base: 0, have: 0 })
        );
        // A delta from an older base than held is older news.
        assert!(delta(3, 4).check_succeeds(Some(5)).is_err());
    }

    proptest! {
        #[test]
        fn accepted_lists_never_go_backwards(held in proptest::option::of(0u64..20), base in 0u64..20, n in 0u64..25, full in any::<bool>()) {
            let list = if full { RevocationList::full(n, "t", vec![]) } else { RevocationList::delta(base, n.max(base), "t", vec![]) };
            if list.check_succeeds(held).is_ok() {
                prop_assert!(list.number >= held.unwrap_or(0));
                if !full { prop_assert_eq!(Some(base), held); }
            }
        }

        #[test]
        fn envelope_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SignedRevocationList::decode(&bytes);
            let _ = RevocationList::decode_verified_body(&bytes);
        }

        #[test]
        fn any_body_change_breaks_the_signature(pos in 0usize..200, byte in any::<u8>()) {
            let key = SigningKey::generate().expect("key");
            let signed = RevocationList::full(1, "t", vec![entry(EntryKind::Number, "A1", 1)]).sign(&key).expect("sign");
            let mut body = signed.body.clone().into_bytes();
            let i = pos % body.len();
            prop_assume!(body[i] != byte);
            body[i] = byte;
            let tampered = SignedRevocationList { body: String::from_utf8_lossy(&body).into_owned(), ..signed };
            prop_assert!(tampered.verify(&key.public_key()).is_err());
        }
    }
}
