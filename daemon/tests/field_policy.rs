//! Field-check policy at the station (ecard_domain::field_check, validity): a stale
//! or missing revocation list makes a verification 无法确认 with the reason, and a
//! review of a year that cannot exist is refused before anything is recorded.
//! In-process: store + simulated readers + card-sim cards.
#![allow(clippy::unwrap_used)]

use card_profile::demo;
use card_profile::records::ReviewResult;
use card_profile::verdict::{CheckKind, Finding, Outcome, Standing};
use ecard_clock::Clock;
use ecardd::labels;
use ecardd::ops::{ReviewRequest, Station, StationConfig, StationKeys, REVOCATION_LIST_DATE};
use ecardd::readers::sim::SimReaders;
use ecardd::readers::Readers;
use ecardd::store::{self, Store};
use std::sync::Arc;

const R: &str = "读卡器 1";

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

/// A station with the demo officers approved and one card issued; the list date
/// set to `list_date` afterwards.
async fn station_with_card(dir: &tempfile::TempDir) -> (Station, Arc<SimReaders>, i64) {
    let store = Arc::new(Store::open(&dir.path().join("t.db"), Clock::frozen_on(today())).unwrap());
    let pki = demo::pki(today()).unwrap();
    let sim = Arc::new(SimReaders::new(&[R], 4, pki.master.clone(), 0x300));
    let o = &demo::officers(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap())[0];
    let cert = ecard_test_support::approve(&store, std::slice::from_ref(o))[0];
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
    sim.insert_blank(R).unwrap();
    let issued = station.issue("issuer", cert, R).await.unwrap();
    // Issuance checks its own card against a list of today: valid.
    assert_eq!(issued.verdict.standing, Standing::Valid);
    (station, sim, cert)
}

fn set_list_date(station: &Station, date: Option<chrono::NaiveDate>) {
    station
        .store
        .write("sync", |tx| match date {
            Some(d) => tx.set_setting(REVOCATION_LIST_DATE, &d.to_string()),
            None => {
                tx.conn().execute(
                    "DELETE FROM settings WHERE key = ?1",
                    [REVOCATION_LIST_DATE],
                )?;
                Ok(())
            }
        })
        .unwrap();
}

#[tokio::test]
async fn a_stale_or_missing_list_makes_the_field_check_unconfirmed_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (station, _sim, _) = station_with_card(&dir).await;

    // Fresh list: 有效.
    set_list_date(&station, Some(today()));
    assert_eq!(
        station.verify(R).await.unwrap().verdict.standing,
        Standing::Valid
    );

    // Ten days old under the default limit of 7: 无法确认, and why.
    set_list_date(&station, Some(today() - chrono::Days::new(10)));
    let verdict = station.verify(R).await.unwrap().verdict;
    assert_eq!(verdict.standing, Standing::Unconfirmed);
    assert_eq!(labels::standing_zh(verdict.standing), "无法确认");
    let finding = Finding::RevocationListStale {
        age_days: 10,
        max_days: 7,
    };
    assert_eq!(
        verdict.check(CheckKind::RevocationList),
        Some(&Outcome::Failed {
            findings: vec![finding.clone()]
        })
    );
    assert!(labels::finding_zh(&finding).contains("10 天未更新"));

    // An admin setting above the hard maximum (written around the API's check)
    // does not make a 40-day-old list usable.
    station
        .store
        .write("admin", |tx| {
            tx.set_setting(ecardd::ops::MAX_REVOCATION_AGE_SETTING, "365")
        })
        .unwrap();
    set_list_date(&station, Some(today() - chrono::Days::new(40)));
    assert_eq!(
        station.verify(R).await.unwrap().verdict.standing,
        Standing::Unconfirmed
    );

    // No list at all: the same.
    set_list_date(&station, None);
    let verdict = station.verify(R).await.unwrap().verdict;
    assert_eq!(verdict.standing, Standing::Unconfirmed);
    assert_eq!(
        verdict.check(CheckKind::RevocationList),
        Some(&Outcome::Failed {
            findings: vec![Finding::RevocationListMissing]
        })
    );
}

#[tokio::test]
async fn a_review_of_a_future_year_or_one_before_issue_is_refused_and_nothing_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (station, _sim, cert) = station_with_card(&dir).await;
    let issue_year = {
        let c = station.store.read(|c| store::certificate(c, cert)).unwrap();
        chrono::Datelike::year(&c.certificate.issue_date) as u16
    };
    for year in [2027u16, issue_year - 1] {
        let req = ReviewRequest {
            certificate_id: cert,
            year: Some(year),
            result: ReviewResult::Passed,
            remark: None,
            reader: Some(R.into()),
        };
        let err = station.review("reviewer", &req).await.unwrap_err();
        assert_eq!(err.code(), "conflict", "{year}: {err}");
        let count: i64 = station
            .store
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM reviews", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(count, 0, "{year}: nothing recorded");
        let outbox: i64 = station
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM outbox WHERE kind = 'review_recorded'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(outbox, 0);
    }
}
