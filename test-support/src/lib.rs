//! What the station's tests share (daemon, hardware and browser tests): a station
//! store seeded as a bureau's would be after its first sync — approved certificates
//! waiting for their cards, a revocation list of the day. One place, so a rule that
//! changes what a fresh station needs (a list of today, since a field check without
//! one is 无法确认) changes every fixture at once.
#![allow(clippy::expect_used)]

use card_profile::sequences::IssueData;
use chrono::NaiveDate;
use ecardd::store::{self, Store};

/// Records each officer with an approved certificate; returns the certificate ids
/// in the officers' order.
pub fn approve(store: &Store, officers: &[IssueData]) -> Vec<i64> {
    officers
        .iter()
        .map(|o| {
            store
                .write("fixture", |tx| store::record_approved(tx, o))
                .expect("record an approved certificate")
        })
        .collect()
}

/// The station holds a revocation list dated `day`, as its first sync leaves it
/// (without one every field check is 无法确认, ecard_domain::field_check).
pub fn revocation_list_of(store: &Store, day: NaiveDate) {
    store
        .write("fixture", |tx| {
            tx.set_setting(ecardd::ops::REVOCATION_LIST_DATE, &day.to_string())
        })
        .expect("date the revocation list");
}
