#![allow(clippy::unwrap_used)]
//! The station in the 国密 suite (#17): `ecardd demo --suite sm`'s station issues a
//! card through the real operations (SM2 signatures, SM3 hashes, SM4 management
//! key on the simulated reader's card), verifies it 有效, records an annual review
//! on it, cancels it, and verifies it 已注销.

use card_profile::records::ReviewResult;
use card_profile::suite::Suite;
use card_profile::verdict::Standing;
use chrono::NaiveDate;
use ecardd::demo::{self, READERS};
use ecardd::ops::{ReviewRequest, StatusRequest};

#[tokio::test]
async fn an_sm_station_issues_verifies_reviews_and_cancels() {
    let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let demo = demo::build_in(ecard_clock::Clock::starting_on(today), Suite::Sm).unwrap();
    let station = &demo.station;
    assert_eq!(station.suite(), Suite::Sm);
    let reader = READERS[0];
    let id = demo.approved[0];

    demo.sim.insert_blank(reader).unwrap();
    let issued = station.issue("demo", id, reader).await.unwrap();
    assert_eq!(
        issued.verdict.standing,
        Standing::Valid,
        "{:#?}",
        issued.verdict.checks
    );

    let verified = station.verify(reader).await.unwrap();
    assert_eq!(verified.verdict.standing, Standing::Valid);

    // The printed seal is ES256 only: an SM station says so, with its own code,
    // rather than printing a QR no checker could read.
    let err = station.card_face(id).unwrap_err();
    assert_eq!(err.code(), "seal_suite_unsupported");
    assert!(err.message_zh().contains("国密"), "{}", err.message_zh());

    let review = station
        .review(
            "demo",
            &ReviewRequest {
                certificate_id: id,
                year: None,
                result: ReviewResult::Passed,
                remark: None,
                reader: Some(reader.into()),
            },
        )
        .await
        .unwrap();
    let verified = station.verify(reader).await.unwrap();
    assert_eq!(verified.verdict.standing, Standing::Valid);
    assert!(verified
        .verdict
        .reviews
        .iter()
        .any(|r| r.year == review.year));

    station
        .change_status(
            "demo",
            id,
            &StatusRequest::Cancel {
                reason: "调离执法岗位".into(),
                destination: "调往其他单位".into(),
                occurred_on: None,
            },
            Some(reader),
        )
        .await
        .unwrap();
    let verified = station.verify(reader).await.unwrap();
    assert_eq!(verified.verdict.standing, Standing::Revoked);
}

/// A card written by a P-256 station is not of the SM station's root, and the SM
/// station says why rather than passing it or crashing.
#[tokio::test]
async fn an_sm_station_does_not_take_a_p256_card_for_its_own() {
    let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let p = demo::build_in(ecard_clock::Clock::starting_on(today), Suite::P256).unwrap();
    let s = demo::build_in(ecard_clock::Clock::starting_on(today), Suite::Sm).unwrap();
    let reader = READERS[0];
    p.sim.insert_blank(reader).unwrap();
    p.station
        .issue("demo", p.approved[0], reader)
        .await
        .unwrap();
    p.sim.eject(reader).unwrap();
    let serial = p.sim.tray().into_iter().next().unwrap().serial;
    // Carry the written card over to the SM station's reader.
    let card = p.sim.take_from_tray(&serial).unwrap();
    s.sim.insert_card(reader, card).unwrap();
    let verified = s.station.verify(reader).await.unwrap();
    assert_ne!(verified.verdict.standing, Standing::Valid);
}
