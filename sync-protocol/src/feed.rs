//! Registry → station: the feed (`GET /sync/v1/feed?after=<cursor>&limit=N`).
//!
//! Every item has a global cursor, strictly increasing. A station stores the cursor
//! of the last item it applied *in the same transaction* as the item's effect, and
//! asks for `after=<that cursor>`; items are therefore applied exactly once even
//! when a page is fetched twice.

use crate::events::{check_number, StatusChanged};
use crate::{check_version, ProtocolError, PROTOCOL_VERSION};
use card_profile::pki::TrustList;
use card_profile::records::{Certificate, Holder};
use serde::{Deserialize, Serialize};

/// Largest page the registry serves.
pub const MAX_FEED_LIMIT: u32 = 500;
/// Page size when the request does not say.
pub const DEFAULT_FEED_LIMIT: u32 = 100;

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPage {
    pub version: u32,
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderWithdrawn {
    pub order_id: String,
    pub number: String,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustListUpdate {
    pub trust_list: TrustList,
}

impl FeedPage {
    pub fn new(items: Vec<FeedItem>, next_cursor: u64, has_more: bool) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            items,
            next_cursor,
            has_more,
        }
    }

    /// Decodes a page and checks what a client relies on: cursors strictly increase
    /// and none is past `next_cursor`; numbers are well-formed.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let page: FeedPage = serde_json::from_slice(bytes)?;
        check_version(page.version)?;
        let mut last = 0u64;
        for item in &page.items {
            if item.cursor <= last {
                return Err(ProtocolError::field("cursor", "cursors must increase"));
            }
            last = item.cursor;
            match &item.body {
                FeedBody::IssuanceOrder(o) => check_number(&o.certificate.number)?,
                FeedBody::OrderWithdrawn(w) => check_number(&w.number)?,
                FeedBody::StatusChange(s) => check_number(&s.change.number)?,
                FeedBody::TrustListUpdate(_) => {}
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
                number: "川X010001".into(),
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
        }))
    }

    #[test]
    fn page_round_trip_with_type_tags() {
        let page = FeedPage::new(
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
                            number: "川X010001".into(),
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
                        trust_list: TrustList::default(),
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

    #[test]
    fn decreasing_cursors_refused() {
        let page = FeedPage::new(
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

    proptest! {
        #[test]
        fn feed_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = FeedPage::decode(&bytes);
        }

        #[test]
        fn decoded_pages_have_increasing_cursors(cursors in proptest::collection::vec(0u64..20, 0..5), next in 0u64..25) {
            let items = cursors.iter().map(|c| FeedItem { cursor: *c, created_at: "t".into(), body: order() }).collect();
            let bytes = serde_json::to_vec(&FeedPage::new(items, next, false)).expect("encode");
            if let Ok(p) = FeedPage::decode(&bytes) {
                for w in p.items.windows(2) { prop_assert!(w[0].cursor < w[1].cursor); }
                prop_assert!(p.items.iter().all(|i| i.cursor <= p.next_cursor && i.cursor > 0));
            }
        }
    }
}
