//! The trust list a station verifies cards with (province roots and revoked
//! document signers), signed by a province root key — offline, never held by the
//! registry. The registry only carries it in the feed (`TrustListUpdate`): its
//! admin token and its feed key alone cannot make a station trust a new root or
//! forget a revoked signer.
//!
//! A station accepts a list only when it is signed by a root the station already
//! trusts (valid on the day it checks), and only with a higher `number` than the
//! list it holds, so an older signed list (one that still trusted a retired root,
//! or did not yet revoke a signer) cannot be replayed.

use crate::envelope::{self, Fault};
use crate::{check_version, ProtocolError, SigningKey, PROTOCOL_VERSION};
use card_profile::pki::{TrustAnchor, TrustList};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Prefix of the signed bytes (domain separation from lists and feed pages).
pub const TRUST_LIST_SIGNING_CONTEXT: &[u8] = b"ecard-trust-list/v1\n";

/// The signed content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberedTrustList {
    pub version: u32,
    /// Strictly increasing per province: a station refuses a number not above its own.
    pub number: u64,
    pub trust_list: TrustList,
}

/// What travels: the list as JSON text and a province root's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTrustList {
    pub body: String,
    /// Key id (hex) of the root that signed.
    pub key_id: String,
    /// ECDSA P-256 r‖s (hex) over `TRUST_LIST_SIGNING_CONTEXT ‖ body`.
    pub signature: String,
}

impl NumberedTrustList {
    /// The one rule for taking a list, at the registry that publishes it and at the
    /// station that applies it: its number is above the one `held`.
    pub fn check_succeeds(&self, held: u64) -> Result<(), ProtocolError> {
        if self.number > held {
            Ok(())
        } else {
            Err(ProtocolError::TrustListOlder {
                number: self.number,
                held,
            })
        }
    }

    pub fn new(number: u64, trust_list: TrustList) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            number,
            trust_list,
        }
    }

    /// Signs with a province root key (the offline step, `ecard-registry trust-list sign`).
    pub fn sign(&self, root: &SigningKey) -> Result<SignedTrustList, ProtocolError> {
        let body = serde_json::to_string(self)?;
        let (key_id, signature) = envelope::sign(TRUST_LIST_SIGNING_CONTEXT, &body, root)?;
        Ok(SignedTrustList {
            body,
            key_id,
            signature,
        })
    }

    /// Parses list JSON. Only for verified bytes, and for fuzzing.
    pub fn decode_verified_body(body: &[u8]) -> Result<Self, ProtocolError> {
        let list: NumberedTrustList = serde_json::from_slice(body)?;
        check_version(list.version)?;
        for a in &list.trust_list.anchors {
            if card_profile::pki::key_id(&a.public_key) != a.key_id {
                return Err(ProtocolError::field(
                    "anchors",
                    "key id does not match its key",
                ));
            }
        }
        Ok(list)
    }
}

impl SignedTrustList {
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Verifies the signature with one of `trusted` (a root valid on `today` whose
    /// key id the envelope names), then parses. Returns the signing root too.
    pub fn verify(
        &self,
        trusted: &[TrustAnchor],
        today: NaiveDate,
    ) -> Result<(NumberedTrustList, TrustAnchor), ProtocolError> {
        let fault = |why: &str| ProtocolError::TrustListSignature(why.to_owned());
        let root = trusted
            .iter()
            .find(|a| {
                self.key_id.eq_ignore_ascii_case(&hex::encode(a.key_id))
                    && card_profile::pki::key_id(&a.public_key) == a.key_id
            })
            .ok_or_else(|| fault("not signed by a trusted province root"))?;
        if today < root.valid_from || today > root.valid_until {
            return Err(fault("the signing root is outside its validity"));
        }
        envelope::verify(
            TRUST_LIST_SIGNING_CONTEXT,
            &self.body,
            &self.key_id,
            &self.signature,
            &root.public_key,
        )
        .map_err(|f| match f {
            Fault::WrongKey { .. } => fault("not signed by a trusted province root"),
            Fault::BadSignature => fault("signature does not verify"),
        })?;
        Ok((
            NumberedTrustList::decode_verified_body(self.body.as_bytes())?,
            root.clone(),
        ))
    }

    /// The list's content without checking the signature: for the registry, which
    /// shows what it carries but never decides trust with it.
    pub fn peek(&self) -> Result<NumberedTrustList, ProtocolError> {
        NumberedTrustList::decode_verified_body(self.body.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use card_profile::pki::{RevokedSigner, RootKey};
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn root(name: &str) -> RootKey {
        RootKey {
            name: name.into(),
            key: SigningKey::generate().expect("key"),
            valid_from: d(2020, 1, 1),
            valid_until: d(2040, 1, 1),
        }
    }

    fn list_with(anchors: Vec<TrustAnchor>) -> TrustList {
        let mut t = TrustList::new(anchors);
        t.revoked_signers.push(RevokedSigner {
            key_id: [7; 8],
            revoked_on: d(2026, 6, 1),
            reason: "泄露".into(),
        });
        t
    }

    #[test]
    fn a_list_signed_by_a_held_root_verifies() {
        let old = root("旧根");
        let new = root("新根");
        let list = NumberedTrustList::new(2, list_with(vec![old.anchor(), new.anchor()]));
        let signed = list.sign(&old.key).expect("sign");
        let (got, by) = signed
            .verify(&[old.anchor()], d(2026, 11, 23))
            .expect("verify");
        assert_eq!(got, list);
        assert_eq!(by.name, "旧根");
    }

    #[test]
    fn a_list_signed_by_a_root_not_held_is_refused() {
        let held = root("省根");
        let stranger = root("自称的根");
        // Signed by the new root itself: a self-introduction proves nothing.
        let list = NumberedTrustList::new(2, list_with(vec![stranger.anchor()]));
        let signed = list.sign(&stranger.key).expect("sign");
        let err = signed
            .verify(&[held.anchor()], d(2026, 11, 23))
            .unwrap_err();
        assert_eq!(err.code(), "bad_trust_list_signature");
        // The stranger claims the held root's key id.
        let mut forged = signed.clone();
        forged.key_id = hex::encode(held.anchor().key_id);
        assert_eq!(
            forged
                .verify(&[held.anchor()], d(2026, 11, 23))
                .unwrap_err()
                .code(),
            "bad_trust_list_signature"
        );
        // No roots held: nothing can be accepted.
        assert!(signed.verify(&[], d(2026, 11, 23)).is_err());
    }

    #[test]
    fn an_expired_root_cannot_sign() {
        let mut r = root("旧根");
        r.valid_until = d(2025, 1, 1);
        let signed = NumberedTrustList::new(1, TrustList::new(vec![r.anchor()]))
            .sign(&r.key)
            .expect("sign");
        assert!(signed.verify(&[r.anchor()], d(2026, 11, 23)).is_err());
    }

    #[test]
    fn a_list_signature_is_not_a_revocation_list_signature() {
        // The same key signing a revocation list body does not make a trust list.
        let r = root("根");
        let rl = crate::revocation::RevocationList::full(1, "t", vec![])
            .sign(&r.key)
            .expect("sign");
        let as_trust = SignedTrustList {
            body: rl.body,
            key_id: rl.key_id,
            signature: rl.signature,
        };
        // Refused for its signature (the context differs), not merely because the
        // body is not a trust list.
        assert_eq!(
            as_trust
                .verify(&[r.anchor()], d(2026, 11, 23))
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("bad_trust_list_signature")
        );
    }

    proptest! {
        #[test]
        fn any_body_change_is_refused(pos in 0usize..400, byte in any::<u8>()) {
            let r = root("根");
            let signed = NumberedTrustList::new(3, list_with(vec![r.anchor()])).sign(&r.key).expect("sign");
            let mut body = signed.body.clone().into_bytes();
            let i = pos % body.len();
            prop_assume!(body[i] != byte);
            body[i] = byte;
            let tampered = SignedTrustList { body: String::from_utf8_lossy(&body).into_owned(), ..signed };
            prop_assert!(tampered.verify(&[r.anchor()], d(2026, 11, 23)).is_err());
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SignedTrustList::decode(&bytes);
            let _ = NumberedTrustList::decode_verified_body(&bytes);
        }
    }
}
