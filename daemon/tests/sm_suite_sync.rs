#![allow(clippy::unwrap_used)]
//! A 国密 deployment syncing (#17): a registry whose key is SM2 and two SM stations.
//! Each station's request key is made in the registry's suite at enrolment; the
//! registry checks their SM2 request signatures (SM3 body digests), and its feed
//! and revocation list, signed with SM2, are checked by the stations. A card cancelled
//! at A is refused at B after B syncs — the same walk as sync_e2e.rs's first test.

mod registry_support;

use card_profile::suite::Suite;
use ecardd::ops::StatusRequest;
use registry_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sm_registry_and_sm_stations_sync_a_cancellation() {
    let (registry, pki, desk) = setup_sm(0x5300_0000_0000_0001);
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;

    // The registry's key and the stations' request keys are SM2 points.
    let key = std::fs::read(registry.dir.path().join("registry-key.p8")).unwrap();
    let key = card_profile::pki::SigningKey::from_pkcs8_any(&key).unwrap();
    assert_eq!(key.suite(), Suite::Sm);
    let enrolled =
        registry.query_i64("SELECT COUNT(*) FROM stations WHERE id IN ('station-a', 'station-b')");
    assert_eq!(enrolled, 2);
    let c = rusqlite::Connection::open(registry.db()).unwrap();
    let public: String = c
        .query_row(
            "SELECT public_key FROM stations WHERE id = 'station-a'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(Suite::of_point(&hex::decode(public).unwrap()), Suite::Sm);

    let cert = cert_ids(&a)[0];
    let serial = issue_one(&a, &desk, cert).await;
    round_process(&a).unwrap();
    round_process(&b).unwrap();
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "有效");

    a.station
        .change_status(
            "issuer",
            cert,
            &StatusRequest::Cancel {
                occurred_on: None,
                reason: "调离执法岗位".into(),
                destination: "调往档案馆".into(),
            },
            None,
        )
        .await
        .unwrap();
    let pushed = round_process(&a).unwrap();
    assert!(pushed["pushed"].as_u64().unwrap() >= 1, "{pushed}");
    let pulled = round_process(&b).unwrap();
    assert_eq!(pulled["status_changes"], 1, "{pulled}");
    assert!(pulled["revocation_number"].is_u64(), "{pulled}");
    assert_eq!(standing_at(&b.station, &desk, &serial).await, "已注销");
}
