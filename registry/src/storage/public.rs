//! What the public seal check may learn about a certificate (issue #16,
//! `GET /public/v1/check`): its state now and the years of its passed annual
//! reviews — nothing about the holder. Asked only after the seal verified, with
//! the number and card serial the seal itself carries.

use super::db::{params, OptionalExtension};
use super::{Result, Storage};

/// A certificate's state as the public check says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicState {
    /// Issued and in force (what a suspension or cancellation has not changed).
    Valid,
    /// 暂停执法: may be lifted.
    Suspended,
    /// 注销.
    Cancelled,
    /// 换证: cancelled for a new certificate.
    Replaced,
    /// 作废: declared void (补证 after a loss), or withdrawn before it was written.
    Void,
    /// The certificate is in force, but the card this face was printed for was
    /// given up (written again on another card): this face's card is not the one.
    CardVoid,
    /// Approved, and no card reported written yet (the station has not synced).
    NotYetRecorded,
    /// The registry holds no certificate of this number.
    NotFound,
    /// In force at the registry, but the seal's signed valid-until date has passed
    /// (the API decides this from the seal; storage never answers it).
    Expired,
}

impl PublicState {
    /// Stable code for programs.
    pub fn code(self) -> &'static str {
        match self {
            PublicState::Valid => "valid",
            PublicState::Suspended => "suspended",
            PublicState::Cancelled => "cancelled",
            PublicState::Replaced => "replaced",
            PublicState::Void => "void",
            PublicState::CardVoid => "card_void",
            PublicState::NotYetRecorded => "not_yet_recorded",
            PublicState::NotFound => "not_found",
            PublicState::Expired => "expired",
        }
    }

    pub const ALL: [PublicState; 9] = [
        PublicState::Valid,
        PublicState::Suspended,
        PublicState::Cancelled,
        PublicState::Replaced,
        PublicState::Void,
        PublicState::CardVoid,
        PublicState::NotYetRecorded,
        PublicState::NotFound,
        PublicState::Expired,
    ];
}

/// The answer's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicStatus {
    pub state: PublicState,
    /// Years of passed annual reviews on record (the year a review covers).
    pub reviewed_years: Vec<i32>,
    /// The first card's issue date: the date the review rule counts from (the same
    /// the registry checks a reported review's year against).
    pub issued_on: Option<chrono::NaiveDate>,
}

impl Storage {
    /// The state of certificate `number` and of its card `serial` (16 hex digits).
    pub fn public_status(&self, number: &str, serial: &str) -> Result<PublicStatus> {
        self.read(|c| {
            let cert: Option<String> = c
                .prepare_cached("SELECT state FROM certificates WHERE number = ?1")?
                .query_row(params![number], |r| r.get(0))
                .optional()?;
            let card: Option<(String, String)> = c
                .prepare_cached("SELECT number, state FROM cards WHERE serial = ?1")?
                .query_row(params![serial], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let card_given_up = card.is_some_and(|(n, s)| {
                (n == number || n.is_empty()) && (s == "void" || s == "revoked")
            });
            let state = match cert.as_deref() {
                None => PublicState::NotFound,
                Some("issued") if card_given_up => PublicState::CardVoid,
                Some("issued") => PublicState::Valid,
                Some("suspended") => PublicState::Suspended,
                Some("cancelled") => PublicState::Cancelled,
                Some("replaced") => PublicState::Replaced,
                Some("void") => PublicState::Void,
                Some("approved") => PublicState::NotYetRecorded,
                // The schema's CHECK allows no other; fail towards "not in force".
                Some(_) => PublicState::Void,
            };
            let reviewed_years = c
                .prepare_cached(
                    "SELECT year FROM reviews WHERE number = ?1 AND result = 'passed' ORDER BY year",
                )?
                .query_map(params![number], |r| r.get::<_, i32>(0))?
                .collect::<super::db::DbResult<Vec<_>>>()?;
            let issued_on: Option<String> = c
                .prepare_cached(
                    "SELECT MIN(issued_on) FROM cards WHERE number = ?1 AND issued_on <> ''",
                )?
                .query_row(params![number], |r| r.get(0))?;
            Ok(PublicStatus {
                state,
                reviewed_years,
                issued_on: issued_on.and_then(|d| d.parse().ok()),
            })
        })
    }
}
