//! A fake card at a write (issue 11, "The card at a write"): a card that carries an
//! issued card's serial and data but not its chip key gets nothing written, and the
//! station records nothing as written to it.
#![allow(clippy::unwrap_used)]

use card_profile::records::ReviewResult;
use card_profile::verdict::Standing;
use card_sim::SimCard;
use ecardd::ops::{ReviewRequest, Station, StatusRequest};
use ecardd::readers::sim::SimReaders;
use ecardd::store::{self};
use std::sync::Arc;

const R: &str = "读卡器 1";

struct Fixture {
    station: Station,
    sim: Arc<SimReaders>,
    certs: Vec<i64>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let s = ecard_test_support::sim_station(
        &[R],
        chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        0x100,
    );
    Fixture {
        station: s.station,
        sim: s.sim,
        certs: s.certs,
        _dir: s.dir,
    }
}

fn count(station: &Station, sql: &str) -> i64 {
    station
        .store
        .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
        .unwrap()
}

/// Issues certificate `i` on a blank card, takes the card out and puts in its fake
/// (same serial and files, its own chip key; `knows_key`: the fake also holds the
/// genuine management key). Returns the genuine card.
async fn fake_in_reader(f: &Fixture, i: usize, knows_key: bool) -> SimCard {
    f.sim.insert_blank(R).unwrap();
    let serial = f
        .station
        .issue("issuer", f.certs[i], R)
        .await
        .unwrap()
        .serial;
    f.sim.eject(R).unwrap();
    let genuine = f.sim.take_from_tray(&serial).unwrap();
    f.sim
        .insert_card(R, SimCard::counterfeit_of(&genuine, knows_key))
        .unwrap();
    genuine
}

/// What the station has recorded as written to cards: reviews and status changes
/// that learnt a card serial, and terminated cards.
fn recorded_as_written(f: &Fixture) -> i64 {
    count(
        &f.station,
        "SELECT (SELECT COUNT(*) FROM reviews WHERE card_serial IS NOT NULL)
              + (SELECT COUNT(*) FROM status_changes WHERE card_serial IS NOT NULL)
              + (SELECT COUNT(*) FROM cards WHERE terminated)",
    )
}

#[tokio::test]
async fn a_fake_card_with_the_management_key_gets_no_review_and_nothing_is_recorded() {
    let f = fixture();
    fake_in_reader(&f, 0, true).await;
    let err = f
        .station
        .review(
            "issuer",
            &ReviewRequest {
                certificate_id: f.certs[0],
                year: Some(2026),
                result: ReviewResult::Passed,
                remark: None,
                reader: Some(R.into()),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "card_not_authentic");
    assert!(err.message_zh().contains("伪造"), "{}", err.message_zh());
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM reviews"), 0);
    assert_eq!(recorded_as_written(&f), 0);
}

#[tokio::test]
async fn a_fake_card_is_not_terminated_and_the_cancellation_is_not_recorded_as_written() {
    let f = fixture();
    let genuine = fake_in_reader(&f, 1, true).await;
    let serial = hex::encode_upper(genuine.serial());
    let cancel = StatusRequest::Cancel {
        occurred_on: None,
        reason: "调离".into(),
        destination: "其他单位".into(),
    };
    // A fake in the reader: refused before anything is recorded.
    let err = f
        .station
        .change_status("issuer", f.certs[1], &cancel, Some(R))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "card_not_authentic");
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM status_changes"), 0);
    // Recorded without a card, then "written" to the fake: refused, nothing marked
    // written or terminated, and the fake is still an active card.
    f.station
        .change_status("issuer", f.certs[1], &cancel, None)
        .await
        .unwrap();
    let err = f
        .station
        .write_status_to_card("issuer", f.certs[1], R)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "card_not_authentic");
    assert_eq!(recorded_as_written(&f), 0);
    assert_eq!(
        count(
            &f.station,
            &format!("SELECT COUNT(*) FROM cards WHERE serial = '{serial}' AND terminated")
        ),
        0
    );
    // The genuine card is then written as usual.
    f.sim.eject(R).unwrap();
    f.sim.insert_card(R, genuine).unwrap();
    let out = f
        .station
        .write_status_to_card("issuer", f.certs[1], R)
        .await
        .unwrap();
    assert_eq!(out.written_to.as_deref(), Some(serial.as_str()));
    assert_eq!(
        f.station.verify(R).await.unwrap().verdict.standing,
        Standing::Revoked
    );
}

/// Nothing the station records of a card at issuance: the job's serial, cards,
/// revocations.
fn issuance_records(f: &Fixture) -> (i64, i64, i64) {
    (
        count(
            &f.station,
            "SELECT COUNT(*) FROM jobs WHERE card_serial IS NOT NULL",
        ),
        count(&f.station, "SELECT COUNT(*) FROM cards"),
        count(&f.station, "SELECT COUNT(*) FROM revocations"),
    )
}

/// A blank fake presenting a serial of another bureau's card (or another station's)
/// and saying 9000 to any EXTERNAL AUTHENTICATE: it cannot answer the station's
/// challenge, so nothing is written and its serial is never recorded (it could not
/// be voided later, taking the genuine card with it).
#[tokio::test]
async fn a_blank_fake_without_the_management_key_is_never_recorded() {
    let f = fixture();
    let other = card_profile::keys::MasterKey::from_bytes(&[0x42; 16]).unwrap();
    let genuine = SimCard::from_master_key([0x77; 8], &other, card_sim::SimOptions::default());
    f.sim
        .insert_card(R, SimCard::counterfeit_of(&genuine, false))
        .unwrap();
    let err = f.station.issue("issuer", f.certs[0], R).await.unwrap_err();
    assert_eq!(err.code(), "card_not_authentic");
    assert!(
        err.message_zh().contains("管理密钥"),
        "{}",
        err.message_zh()
    );
    assert_eq!(issuance_records(&f), (0, 0, 0));
    let jobs = f.station.store.read(|c| store::jobs(c, None, &[])).unwrap();
    assert_eq!(
        jobs[0].state,
        store::JobState::Queued,
        "waits for a real card"
    );
}

/// A "blank" card presenting the serial of a card this station issued (a clone made
/// with a leaked key, or a supplier's duplicate): refused, nothing recorded.
#[tokio::test]
async fn a_blank_card_with_a_serial_the_station_knows_is_refused() {
    let f = fixture();
    let genuine = fake_in_reader(&f, 0, true).await;
    f.sim.eject(R).unwrap();
    let _ = f.sim.take_from_tray(&hex::encode_upper(genuine.serial()));
    let master = f.station.keys().unwrap().master.clone();
    f.sim
        .insert_card(
            R,
            SimCard::from_master_key(genuine.serial(), &master, card_sim::SimOptions::default()),
        )
        .unwrap();
    let before = issuance_records(&f);
    let err = f.station.issue("issuer", f.certs[1], R).await.unwrap_err();
    assert_eq!(err.code(), "card_serial_known");
    assert_eq!(issuance_records(&f), before);
}

/// A job that recorded a serial and was interrupted meets another job's card with
/// that serial half written: the second job refuses it, so the first job resuming on
/// a new card cannot void a card the second one wrote.
#[tokio::test]
async fn a_card_recorded_by_another_job_is_refused() {
    let f = fixture();
    f.sim.insert_blank(R).unwrap();
    f.sim.tear_next(R, 12).unwrap();
    let err = f.station.issue("issuer", f.certs[0], R).await.unwrap_err();
    assert_eq!(err.code(), "card_removed");
    let err = f.station.issue("issuer", f.certs[1], R).await.unwrap_err();
    assert_eq!(err.code(), "card_serial_known");
    // Its own job finishes it.
    let out = f.station.issue("issuer", f.certs[0], R).await.unwrap();
    assert_eq!(out.verdict.standing, Standing::Valid);
}
