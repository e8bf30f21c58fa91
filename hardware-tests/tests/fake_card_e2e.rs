//! A fake card at a write, through the real PC/SC stack (pcscd + vpcd + ecard-sim) and
//! ecardd's PC/SC readers: a card carrying an issued card's serial, files and even
//! its management key, but a chip key of its own, gets no review and no status, and
//! the station records nothing as written; the genuine card is written afterwards.

mod common;

use card_profile::records::ReviewResult;
use card_profile::verdict::{Finding, Standing};
use card_sim::{Persistent, SimCard, SimOptions};
use common::*;
use ecardd::ops::{ReviewRequest, Station, StationConfig, StatusRequest};
use ecardd::readers::pcsc::PcscReaders;
use ecardd::readers::Readers;
use ecardd::store::Store;
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::{PcscHarness, SimSpec};
use std::sync::Arc;

fn count(station: &Station, sql: &str) -> i64 {
    station
        .store
        .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_card_gets_nothing_written_through_pcscd() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (station, certs) = station(&dir);
    let reader = VPCD_READERS[0];

    let genuine = harness
        .start_card(0, blank(&dir, "genuine", 0xF001))
        .expect("card");
    wait_reader(&station, reader, true);
    let issued = station
        .issue("issuer", certs[0], reader)
        .await
        .expect("issue");
    genuine.remove().expect("remove");
    wait_reader(&station, reader, false);

    // The fake: the genuine card's state file (serial, files, management key) with
    // a chip key of its own.
    let state = Persistent::load(&state_path(&dir, "genuine")).expect("state");
    let mut fake =
        SimCard::counterfeit_of(&SimCard::from_state(state, SimOptions::default()), true);
    fake.attach_state_file(&state_path(&dir, "fake"))
        .expect("fake state");
    let fake = harness
        .start_card(0, SimSpec::new(state_path(&dir, "fake")))
        .expect("fake card");
    wait_reader(&station, reader, true);

    let review = ReviewRequest {
        certificate_id: certs[0],
        year: Some(2026),
        result: ReviewResult::Passed,
        remark: None,
        reader: Some(reader.into()),
    };
    let err = station.review("issuer", &review).await.unwrap_err();
    assert_eq!(err.code(), "card_not_authentic");
    let suspend = StatusRequest::Suspend {
        reason: "立案调查".into(),
    };
    let err = station
        .change_status("issuer", certs[0], &suspend, Some(reader))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "card_not_authentic");
    assert_eq!(count(&station, "SELECT COUNT(*) FROM reviews"), 0);
    assert_eq!(count(&station, "SELECT COUNT(*) FROM status_changes"), 0);
    // The fake's EF.STATUS and records are as they were.
    fake.remove().expect("remove fake");
    wait_reader(&station, reader, false);
    let after = Persistent::load(&state_path(&dir, "fake")).expect("fake state");
    assert!(after.records.is_empty());

    // The genuine card is reviewed as usual.
    let _genuine = harness
        .start_card(0, SimSpec::new(state_path(&dir, "genuine")))
        .expect("genuine again");
    wait_reader(&station, reader, true);
    station.review("issuer", &review).await.expect("review");
    assert_eq!(
        count(
            &station,
            &format!(
                "SELECT COUNT(*) FROM reviews WHERE card_serial = '{}'",
                issued.serial
            )
        ),
        1
    );
}

/// Nothing recorded of a card at issuance: jobs' serials, cards, revocations.
fn issuance_records(station: &Station) -> (i64, i64, i64) {
    (
        count(
            station,
            "SELECT COUNT(*) FROM jobs WHERE card_serial IS NOT NULL",
        ),
        count(station, "SELECT COUNT(*) FROM cards"),
        count(station, "SELECT COUNT(*) FROM revocations"),
    )
}

/// Blank fakes at issuance through pcscd: one that says 9000 to any EXTERNAL
/// AUTHENTICATE (mutual authentication refuses it), and one presenting the serial of
/// a card the station issued (refused as known). Neither serial is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blank_fakes_are_refused_at_issuance_through_pcscd() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (station, certs) = station(&dir);
    let reader = VPCD_READERS[0];

    let fake = harness
        .start_card(
            0,
            SimSpec::new(state_path(&dir, "fake"))
                .serial(0xF101u64.to_be_bytes())
                .master_key(vec![0x42; 16])
                .fake_authentication(),
        )
        .expect("fake");
    wait_reader(&station, reader, true);
    let err = station.issue("issuer", certs[0], reader).await.unwrap_err();
    assert_eq!(err.code(), "card_not_authentic");
    assert_eq!(issuance_records(&station), (0, 0, 0));
    fake.remove().expect("remove");
    wait_reader(&station, reader, false);

    let genuine = harness
        .start_card(0, blank(&dir, "genuine", 0xF102))
        .expect("card");
    wait_reader(&station, reader, true);
    station
        .issue("issuer", certs[0], reader)
        .await
        .expect("issue");
    genuine.remove().expect("remove");
    wait_reader(&station, reader, false);
    let before = issuance_records(&station);

    let _copy = harness
        .start_card(0, blank(&dir, "copy", 0xF102))
        .expect("blank copy");
    wait_reader(&station, reader, true);
    let err = station.issue("issuer", certs[1], reader).await.unwrap_err();
    assert_eq!(err.code(), "card_serial_known");
    assert_eq!(issuance_records(&station), before);
}

/// An older signed EF.STATUS put back on the genuine chip (its state file restored),
/// through pcscd: an inspector's station that saw the newer record refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_status_fails_at_a_station_that_saw_a_newer_one_through_pcscd() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let inspector_dir = tempfile::tempdir().expect("tempdir");
    let (station, certs) = station(&dir);
    let inspector = Station::without_keys(
        Arc::new(Store::open(&inspector_dir.path().join("i.db"), clock()).expect("store")),
        Readers::new(PcscReaders::start(ecardd::ops::DEFAULT_CARD_DEADLINE)),
        station.trust_list(),
        StationConfig::default(),
    );
    let reader = VPCD_READERS[0];

    let card = harness
        .start_card(0, blank(&dir, "card", 0xF201))
        .expect("card");
    wait_reader(&station, reader, true);
    station
        .issue("issuer", certs[0], reader)
        .await
        .expect("issue");
    card.remove().expect("remove");
    let active = std::fs::read(state_path(&dir, "card")).expect("state at sequence 1");
    let _card = harness
        .start_card(0, SimSpec::new(state_path(&dir, "card")))
        .expect("card again");
    wait_reader(&station, reader, true);
    let suspend = StatusRequest::Suspend {
        reason: "立案调查".into(),
    };
    station
        .change_status("issuer", certs[0], &suspend, Some(reader))
        .await
        .expect("suspend");
    wait_reader(&inspector, reader, true);
    let seen = inspector.verify(reader).await.expect("verify").verdict;
    assert_eq!(seen.standing, Standing::Suspended);

    drop(_card);
    wait_reader(&inspector, reader, false);
    std::fs::write(state_path(&dir, "card"), active).expect("roll back");
    let _rolled = harness
        .start_card(0, SimSpec::new(state_path(&dir, "card")))
        .expect("rolled back card");
    wait_reader(&inspector, reader, true);
    let verdict = inspector.verify(reader).await.expect("verify").verdict;
    assert_eq!(verdict.standing, Standing::Invalid, "{:#?}", verdict.checks);
    assert!(verdict
        .failures()
        .any(|(_, f)| *f == Finding::StatusRolledBack { seen: 2, found: 1 }));
}
