//! What the station's tests share (daemon, hardware and browser tests): a station
//! store seeded as a bureau's would be after its first sync — approved certificates
//! waiting for their cards, a revocation list of the day. One place, so a rule that
//! changes what a fresh station needs (a list of today, since a field check without
//! one is 无法确认) changes every fixture at once.
#![allow(clippy::expect_used)]

pub mod cups;
pub mod postgres;
pub mod registry;

use card_profile::demo;
use card_profile::sequences::IssueData;
use chrono::NaiveDate;
use ecard_clock::Clock;
use ecardd::ops::{Station, StationConfig, StationKeys};
use ecardd::readers::sim::SimReaders;
use ecardd::readers::Readers;
use ecardd::store::{self, Store};
use std::sync::Arc;

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

/// A station of the demo bureau over simulated readers: its keys, the demo officers
/// approved, a revocation list of the day; its database in a temporary directory.
pub struct SimStation {
    pub station: Station,
    pub sim: Arc<SimReaders>,
    /// The demo officers' certificates, in their order.
    pub certs: Vec<i64>,
    pub dir: tempfile::TempDir,
}

/// The day the demo officers' certificates were issued in these fixtures.
pub fn issued_on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).expect("date")
}

/// [`SimStation`] on `today` (a frozen clock), with `readers` holding blank cards
/// whose serials start at `first_serial`.
pub fn sim_station(readers: &[&str], today: NaiveDate, first_serial: u64) -> SimStation {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(
        Store::open(&dir.path().join("t.db"), Clock::frozen_on(today)).expect("open the store"),
    );
    revocation_list_of(&store, today);
    let pki = demo::pki(today).expect("demo keys");
    let sim = Arc::new(SimReaders::new(
        readers,
        10,
        pki.master.clone(),
        first_serial,
    ));
    let certs = approve(&store, &demo::officers(issued_on()));
    let station = Station::new(
        store,
        Readers::new(sim.clone()),
        StationKeys {
            master: pki.master,
            signer: pki.signer,
        },
        pki.trust.clone(),
        StationConfig::default(),
    );
    SimStation {
        station,
        sim,
        certs,
        dir,
    }
}
