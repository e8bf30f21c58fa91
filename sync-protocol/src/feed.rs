//! Registry → station: the feed (`GET /sync/v1/feed?after=<cursor>&limit=N`).
//!
//! Every item has a global cursor, strictly increasing. A station stores the cursor
//! of the last item it applied *in the same transaction* as the item's effect, and
//! asks for `after=<that cursor>`; items are therefore applied exactly once even
//! when a page is fetched twice.
//!
//! Every page travels signed with the registry key ([`SignedFeedPage`], context
//! [`FEED_SIGNING_CONTEXT`]) and names the station and the `after` it answers, so a
//! station verifies it with the pinned key *before* parsing the items, and a page
//! replayed from an earlier request, or meant for another station, is refused.

use crate::envelope::{self, Fault};
use crate::events::{CertificateNumber, ReviewRecorded, StatusChanged};
use crate::trust::SignedTrustList;
use crate::{check_version, ProtocolError, PublicKey, SigningKey, PROTOCOL_VERSION};
use card_profile::records::{Certificate, Holder};
use serde::{Deserialize, Serialize};

/// Largest page the registry serves.
pub const MAX_FEED_LIMIT: u32 = 500;
/// Page size when the request does not say.
pub const DEFAULT_FEED_LIMIT: u32 = 100;

/// Prefix of the signed bytes of a feed page (domain separation from the
/// revocation list the same registry key signs).
pub const FEED_SIGNING_CONTEXT: &[u8] = b"ecard-feed-page/v1\n";

/// What travels: the page as JSON text and the registry's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedFeedPage {
    /// The [`FeedPage`] as JSON text, signed exactly as it stands.
    pub body: String,
    pub key_id: String,
    /// ECDSA P-256 r‖s (hex) over `FEED_SIGNING_CONTEXT ‖ body`.
    pub signature: String,
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPage {
    pub version: u32,
    /// The station this page was made for.
    pub station: String,
    /// The `after` cursor of the request it answers.
    pub after: u64,
    /// The nonce of the signed request it answers (`x-ecard-nonce`): a page is
    /// valid for that one request only, so an earlier page cannot be played back
    /// in place of the current one (which would freeze the station's feed).
    pub nonce: String,
    pub items: Vec<FeedItem>,
    /// Ask for `after=next_cursor` next. It can be past the last item shown when
    /// the items in between were not for this station.
    pub next_cursor: u64,
    /// True when the page was full: fetch again at once.
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    pub cursor: u64,
    /// RFC 3339 time the registry recorded the item.
    pub created_at: String,
    #[serde(flatten)]
    pub body: FeedBody,
}

/// What an item says; `type` names it on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedBody {
    /// An approved application: write this certificate on a card.
    IssuanceOrder(Box<IssuanceOrder>),
    /// An order sent back for editing before it was written: do not write it.
    OrderWithdrawn(OrderWithdrawn),
    /// A status change made at another station or in the registry.
    StatusChange(StatusChangeNotice),
    /// The trust list (all roots) replaces the station's.
    TrustListUpdate(TrustListUpdate),
    /// What the bureaus decided on an application a station sent (added within v1):
    /// returned to the unit with the reason, or resubmitted.
    ApplicationDecision(ApplicationDecision),
    /// A bureau's document-signer certificate (added within v1, issue #16): so that
    /// a card face's seal signed by one bureau checks at every station.
    DocumentSigner(DocumentSignerNotice),
    /// An annual review (年审) recorded at another station or at the registry (added
    /// within v1): the field check at a station counts it, saying it came from the
    /// registry, for a card that does not carry it yet.
    ReviewRecorded(ReviewNotice),
}

/// A review as its station reported it, and where it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewNotice {
    /// The review (the same type and fields as the station's `review_recorded` event).
    #[serde(flatten)]
    pub review: ReviewRecorded,
    /// The station id that recorded it, or `registry`.
    pub origin: String,
}

/// Longest `origin` a feed item may name (a station id or `registry`).
pub const MAX_ORIGIN_LEN: usize = 128;

/// States of a station's application the station is told about (its approval
/// arrives as the issuance order itself).
pub const APPLICATION_DECISION_STATES: [&str; 3] = ["rejected", "returned", "submitted"];

/// A decision on an application that came from a station's outbox event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDecision {
    /// The station's event that carried the application (only that station holds it).
    pub event_id: String,
    /// The registry's application id.
    pub application_id: i64,
    /// `rejected` (退回 by a reviewer), `returned` (sent back after approval) or
    /// `submitted` (resubmitted by the unit).
    pub state: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuanceOrder {
    /// Stable id of this order (`<application id>-<approval round>`).
    pub order_id: String,
    pub application_id: i64,
    pub holder: Holder,
    pub certificate: Certificate,
    /// The registered photo, base64 (standard alphabet) JPEG; absent when none was filed.
    pub photo_jpeg: Option<String>,
    /// 换证/补证 (added within v1, optional): the number of the certificate this one
    /// follows, so that the station links the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<CertificateNumber>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderWithdrawn {
    pub order_id: String,
    pub number: CertificateNumber,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChangeNotice {
    /// The change as its station reported it (the same type, the same fields on the
    /// wire).
    #[serde(flatten)]
    pub change: StatusChanged,
    /// The station id that made the change, or `registry`.
    pub origin: String,
}

/// A new trust list, signed offline by a province root (see [`crate::trust`]); the
/// registry's signature on the page does not make it trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustListUpdate {
    pub signed: SignedTrustList,
}

/// Hex characters a signer certificate may take on the wire (one is ~250 bytes).
pub const MAX_SIGNER_CERT_HEX: usize = 2048;

/// A document-signer certificate the registry has seen: the one inside the EF.SOD of
/// the first card a station reported written with it. It needs no signature of the
/// registry to be believed — the province root signed it, and every checker (the
/// station's seal check, the /check page, the registry's public check) verifies that
/// chain and the trust list's revoked signers before it trusts a seal it signed. The
/// feed only spreads it, so a seal printed by one bureau is known at all the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSignerNotice {
    /// The certificate as on the card (`7F21 …`, docs/PROFILE.md §4), hex.
    pub certificate: String,
}

impl DocumentSignerNotice {
    /// The certificate, parsed (not yet checked against any root).
    pub fn parse(&self) -> Result<card_profile::pki::SignerCertificate, ProtocolError> {
        if self.certificate.len() > MAX_SIGNER_CERT_HEX {
            return Err(ProtocolError::field("certificate", "too long"));
        }
        let raw = hex::decode(&self.certificate)
            .map_err(|_| ProtocolError::field("certificate", "not hex"))?;
        card_profile::pki::SignerCertificate::from_tlv(&raw)
            .map_err(|_| ProtocolError::field("certificate", "not a signer certificate"))
    }
}

impl FeedPage {
    pub fn new(
        station: &str,
        after: u64,
        items: Vec<FeedItem>,
        next_cursor: u64,
        has_more: bool,
    ) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            station: station.to_owned(),
            after,
            // Set by the registry's handler to the nonce of the request it answers.
            nonce: String::new(),
            items,
            next_cursor,
            has_more,
        }
    }

    /// Decodes a page and checks what a client relies on: cursors strictly increase
    /// and none is past `next_cursor`; numbers are well-formed.
    /// Only for verified bytes ([`SignedFeedPage::verify`]), and for fuzzing.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let page: FeedPage = serde_json::from_slice(bytes)?;
        check_version(page.version)?;
        if page.next_cursor < page.after {
            return Err(ProtocolError::field(
                "next_cursor",
                "next_cursor is before the page's after",
            ));
        }
        let mut last = page.after;
        for item in &page.items {
            if item.cursor <= last {
                return Err(ProtocolError::field("cursor", "cursors must increase"));
            }
            last = item.cursor;
            match &item.body {
                // Their numbers (the order's certificate's too) are
                // `CertificateNumber`s, checked as they decoded.
                FeedBody::IssuanceOrder(_)
                | FeedBody::OrderWithdrawn(_)
                | FeedBody::StatusChange(_) => {}
                FeedBody::TrustListUpdate(_) => {}
                FeedBody::DocumentSigner(n) => {
                    n.parse()?;
                }
                FeedBody::ReviewRecorded(n) => {
                    if n.origin.is_empty() || n.origin.len() > MAX_ORIGIN_LEN {
                        return Err(ProtocolError::field("origin", "empty or too long"));
                    }
                    if n.review
                        .remark
                        .as_deref()
                        .is_some_and(|r| r.len() > crate::events::MAX_TEXT_LEN)
                    {
                        return Err(ProtocolError::field("remark", "too long"));
                    }
                }
                FeedBody::ApplicationDecision(d) => {
                    crate::events::check_event_id(&d.event_id)?;
                    if !APPLICATION_DECISION_STATES.contains(&d.state.as_str()) {
                        return Err(ProtocolError::field("state", "unknown application state"));
                    }
                    if d.reason
                        .as_deref()
                        .is_some_and(|r| r.len() > crate::events::MAX_TEXT_LEN)
                    {
                        return Err(ProtocolError::field("reason", "too long"));
                    }
                }
            }
        }
        if last > page.next_cursor {
            return Err(ProtocolError::field(
                "next_cursor",
                "next_cursor is behind the last item",
            ));
        }
        Ok(page)
    }

    /// Signs the page with the registry key.
    pub fn sign(&self, key: &SigningKey) -> Result<SignedFeedPage, ProtocolError> {
        let body = serde_json::to_string(self)?;
        let (key_id, signature) = envelope::sign(FEED_SIGNING_CONTEXT, &body, key)?;
        Ok(SignedFeedPage {
            body,
            key_id,
            signature,
        })
    }
}

impl SignedFeedPage {
    /// Decodes the envelope (nothing in it is trusted yet).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Verifies the signature with the pinned registry key, then parses the page and
    /// checks it answers this station's request (with `nonce`) for the items after
    /// `after`. Fails closed: on any doubt, no item is returned.
    pub fn verify(
        &self,
        registry_key: &PublicKey,
        station: &str,
        after: u64,
        nonce: &str,
    ) -> Result<FeedPage, ProtocolError> {
        envelope::verify(
            FEED_SIGNING_CONTEXT,
            &self.body,
            &self.key_id,
            &self.signature,
            registry_key,
        )
        .map_err(|f| {
            ProtocolError::FeedSignature(match f {
                Fault::WrongKey { expected, found } => {
                    format!("signed by key {found}, expected {expected}")
                }
                Fault::BadSignature => "signature does not verify".into(),
            })
        })?;
        let page = FeedPage::decode(self.body.as_bytes())?;
        if page.station != station {
            return Err(ProtocolError::FeedWrongStation(
                page.station.chars().take(64).collect(),
            ));
        }
        if page.after != after {
            return Err(ProtocolError::FeedReplayed {
                asked: after,
                page: page.after,
            });
        }
        if nonce.is_empty() || page.nonce != nonce {
            return Err(ProtocolError::FeedNotFresh);
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::StatusKind;
    use card_profile::records::{CertificateKind, Gender};
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    pub(crate) fn order() -> FeedBody {
        FeedBody::IssuanceOrder(Box::new(IssuanceOrder {
            order_id: "7-1".into(),
            application_id: 7,
            holder: Holder {
                name: "张三".into(),
                gender: Gender::Male,
                ethnicity: "汉族".into(),
                birth_date: d(1990, 1, 1),
                id_number: "510102199001011234".into(),
            },
            certificate: Certificate {
                number: "川X010001".parse().expect("number"),
                kind: CertificateKind::Enforcement,
                unit: "广安市教育局".into(),
                entrusting_authority: None,
                entrusting_nature: None,
                posts: "01".into(),
                category: "教育".into(),
                area: "广安市".into(),
                issuer: "广安市司法局".into(),
                issue_date: d(2026, 11, 23),
                valid_from: d(2026, 11, 23),
                valid_until: d(2031, 11, 22),
            },
            photo_jpeg: Some("/9j/4AAQ".into()),
            follows: None,
        }))
    }

    #[test]
    fn page_round_trip_with_type_tags() {
        let page = FeedPage::new(
            "station-b",
            0,
            vec![
                FeedItem {
                    cursor: 3,
                    created_at: "t".into(),
                    body: order(),
                },
                FeedItem {
                    cursor: 9,
                    created_at: "t".into(),
                    body: FeedBody::StatusChange(StatusChangeNotice {
                        change: StatusChanged {
                            number: "川X010001".parse().unwrap(),
                            kind: StatusKind::Cancel,
                            reason: "调离".into(),
                            detail: serde_json::json!({"destination": "成都"}),
                            effective_on: d(2026, 11, 24),
                            new_number: None,
                        },
                        origin: "station-a".into(),
                    }),
                },
                FeedItem {
                    cursor: 10,
                    created_at: "t".into(),
                    body: FeedBody::TrustListUpdate(TrustListUpdate {
                        signed: crate::trust::SignedTrustList {
                            body: "{}".into(),
                            key_id: "00".into(),
                            signature: "00".into(),
                        },
                    }),
                },
            ],
            12,
            false,
        );
        let bytes = serde_json::to_vec(&page).expect("encode");
        let text = String::from_utf8(bytes.clone()).expect("utf8");
        assert!(text.contains(r#""type":"issuance_order""#), "{text}");
        assert_eq!(FeedPage::decode(&bytes), Ok(page));
    }

    fn review_item(number: &str, origin: &str, remark: Option<String>) -> String {
        format!(
            r#"{{"version":1,"station":"station-b","after":0,"nonce":"","next_cursor":1,"has_more":false,
               "items":[{{"cursor":1,"created_at":"t","type":"review_recorded","number":"{number}",
               "year":2026,"date":"2027-02-01","result":"passed","remark":{},"origin":"{origin}"}}]}}"#,
            serde_json::to_string(&remark).expect("remark")
        )
    }

    #[test]
    fn a_review_item_is_typed_and_checked_as_it_is_decoded() {
        let page = FeedPage::decode(review_item("川X010001", "station-a", None).as_bytes())
            .expect("decode");
        let FeedBody::ReviewRecorded(n) = &page.items[0].body else {
            panic!("a review item: {page:?}")
        };
        assert_eq!(n.review.number.as_str(), "川X010001");
        assert_eq!(n.review.year, 2026);
        assert_eq!(n.review.result, card_profile::records::ReviewResult::Passed);
        assert_eq!(n.origin, "station-a");
        // Round trip with the same tag.
        let text = serde_json::to_string(&page).expect("encode");
        assert!(text.contains(r#""type":"review_recorded""#), "{text}");
        assert_eq!(FeedPage::decode(text.as_bytes()), Ok(page));
        // A malformed number, an empty origin, an oversized remark: refused.
        assert!(FeedPage::decode(review_item("川X 01", "station-a", None).as_bytes()).is_err());
        assert!(FeedPage::decode(review_item("川X010001", "", None).as_bytes()).is_err());
        let long = "长".repeat(crate::events::MAX_TEXT_LEN);
        assert!(
            FeedPage::decode(review_item("川X010001", "station-a", Some(long)).as_bytes()).is_err()
        );
    }

    #[test]
    fn decreasing_cursors_refused() {
        let page = FeedPage::new(
            "station-b",
            0,
            vec![
                FeedItem {
                    cursor: 5,
                    created_at: "t".into(),
                    body: order(),
                },
                FeedItem {
                    cursor: 5,
                    created_at: "t".into(),
                    body: order(),
                },
            ],
            5,
            false,
        );
        let bytes = serde_json::to_vec(&page).expect("encode");
        assert!(FeedPage::decode(&bytes).is_err());
    }

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn signed_page(key: &SigningKey, station: &str, after: u64) -> SignedFeedPage {
        let items = vec![FeedItem {
            cursor: after + 1,
            created_at: "t".into(),
            body: FeedBody::StatusChange(StatusChangeNotice {
                change: StatusChanged {
                    number: "川X010001".parse().unwrap(),
                    kind: StatusKind::Suspend,
                    reason: "调查".into(),
                    detail: serde_json::Value::Null,
                    effective_on: d(2026, 11, 24),
                    new_number: None,
                },
                origin: "registry".into(),
            }),
        }];
        let mut page = FeedPage::new(station, after, items, after + 1, false);
        page.nonce = NONCE.into();
        page.sign(key).expect("sign")
    }

    #[test]
    fn a_signed_page_verifies_for_its_station_and_request() {
        let key = SigningKey::generate().expect("key");
        let signed = signed_page(&key, "station-b", 4);
        let page = signed
            .verify(&key.public_key(), "station-b", 4, NONCE)
            .expect("verify");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next_cursor, 5);
    }

    #[test]
    fn a_page_changed_on_the_way_is_refused_before_it_is_parsed() {
        let key = SigningKey::generate().expect("key");
        let signed = signed_page(&key, "station-b", 4);
        // A suspension turned into a lift.
        let mut lifted = signed.clone();
        lifted.body = lifted
            .body
            .replace(r#""kind":"suspend""#, r#""kind":"lift""#);
        assert_ne!(lifted.body, signed.body);
        assert_eq!(
            lifted
                .verify(&key.public_key(), "station-b", 4, NONCE)
                .map_err(|e| e.code()),
            Err("bad_feed_signature")
        );
        // Not even JSON any more: still the signature error, the parser never ran.
        let mut junk = signed.clone();
        junk.body.push('}');
        assert_eq!(
            junk.verify(&key.public_key(), "station-b", 4, NONCE)
                .map_err(|e| e.code()),
            Err("bad_feed_signature")
        );
        // Re-signed by another key.
        let other = SigningKey::generate().expect("key");
        let forged = signed_page(&other, "station-b", 4);
        assert_eq!(
            forged
                .verify(&key.public_key(), "station-b", 4, NONCE)
                .map_err(|e| e.code()),
            Err("bad_feed_signature")
        );
        let mut forged_id = forged;
        forged_id.key_id = signed.key_id.clone();
        assert_eq!(
            forged_id
                .verify(&key.public_key(), "station-b", 4, NONCE)
                .map_err(|e| e.code()),
            Err("bad_feed_signature")
        );
        // A revocation-list signature by the same key over the same text is not a
        // feed page signature.
        let as_list = crate::revocation::SignedRevocationList {
            body: signed.body.clone(),
            key_id: signed.key_id.clone(),
            signature: signed.signature.clone(),
        };
        // Refused for its signature (the context differs), not merely because the
        // body is not a revocation list.
        assert!(matches!(
            as_list.verify(&key.public_key()),
            Err(ProtocolError::BadSignature)
        ));
    }

    #[test]
    fn a_replayed_or_misdirected_page_is_refused() {
        let key = SigningKey::generate().expect("key");
        let old = signed_page(&key, "station-b", 4);
        assert_eq!(
            old.verify(&key.public_key(), "station-b", 9, NONCE),
            Err(ProtocolError::FeedReplayed { asked: 9, page: 4 })
        );
        assert_eq!(
            old.verify(&key.public_key(), "station-b", 9, NONCE)
                .map_err(|e| e.code()),
            Err("feed_page_replayed")
        );
        assert_eq!(
            old.verify(&key.public_key(), "station-c", 4, NONCE)
                .map_err(|e| e.code()),
            Err("feed_wrong_station")
        );
    }

    #[test]
    fn items_at_or_before_after_are_refused() {
        let page = FeedPage::new(
            "s",
            5,
            vec![FeedItem {
                cursor: 5,
                created_at: "t".into(),
                body: order(),
            }],
            6,
            false,
        );
        let bytes = serde_json::to_vec(&page).expect("encode");
        assert!(FeedPage::decode(&bytes).is_err());
        let back = FeedPage::new("s", 5, vec![], 4, false);
        let bytes = serde_json::to_vec(&back).expect("encode");
        assert!(FeedPage::decode(&bytes).is_err());
    }

    proptest! {
        #[test]
        fn any_change_to_a_signed_page_is_refused(pos in 0usize..600, byte in any::<u8>()) {
            let key = SigningKey::generate().expect("key");
            let signed = signed_page(&key, "station-b", 4);
            let mut body = signed.body.clone().into_bytes();
            let i = pos % body.len();
            prop_assume!(body[i] != byte);
            body[i] = byte;
            let tampered = SignedFeedPage { body: String::from_utf8_lossy(&body).into_owned(), ..signed };
            prop_assert!(tampered.verify(&key.public_key(), "station-b", 4, NONCE).is_err());
        }

        #[test]
        fn signed_page_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(s) = SignedFeedPage::decode(&bytes) {
                let key = SigningKey::generate().expect("key");
                prop_assert!(s.verify(&key.public_key(), "s", 0, NONCE).is_err());
            }
        }

        #[test]
        fn feed_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = FeedPage::decode(&bytes);
        }

        #[test]
        fn decoded_pages_have_increasing_cursors(cursors in proptest::collection::vec(0u64..20, 0..5), next in 0u64..25) {
            let items = cursors.iter().map(|c| FeedItem { cursor: *c, created_at: "t".into(), body: order() }).collect();
            let bytes = serde_json::to_vec(&FeedPage::new("s", 0, items, next, false)).expect("encode");
            if let Ok(p) = FeedPage::decode(&bytes) {
                for w in p.items.windows(2) { prop_assert!(w[0].cursor < w[1].cursor); }
                prop_assert!(p.items.iter().all(|i| i.cursor <= p.next_cursor && i.cursor > 0));
            }
        }
    }
}
