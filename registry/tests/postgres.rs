//! What PostgreSQL adds (issue #15): two registry processes on one database, as
//! behind a load balancer, serving the same stations. Runs when the run has a
//! PostgreSQL server (`ECARD_TEST_POSTGRES`, scripts/test-registry-postgres.sh);
//! says "skipped" otherwise. The rest of the registry's tests run on both back
//! ends unchanged.
#![allow(clippy::unwrap_used)]

mod common;

use common::{clock, test_number, Registry};
use ecard_registry::storage::db::params;
use ecard_sync_protocol::client::RegistryClient;
use ecard_sync_protocol::events::{EventBody, StationEvent};
use serde_json::json;

const STATIONS: u64 = 4;
const EVENTS_PER_STATION: u64 = 60;
const BATCH: u64 = 6;

/// Station `k`'s event `seq`: a card issued under a number of its own, and every
/// tenth event the cancellation of the card issued just before it (which adds
/// to the revocation list, so takes a list number).
fn station_event(k: u64, seq: u64) -> StationEvent {
    let id = format!("s{k}-{seq:06}");
    let own = |s: u64| test_number(k * 1000 + s);
    let body = if seq.is_multiple_of(10) {
        EventBody::decode(
            "status_changed",
            &json!({"number": own(seq - 1), "kind": "cancel", "reason": "调离",
                    "detail": {"destination": "成都"}, "effective_on": "2026-11-24", "new_number": null}),
        )
        .unwrap()
    } else {
        EventBody::decode(
            "card_issued",
            &json!({"number": own(seq), "serial": format!("{:08X}{:08X}", k, seq),
                    "chip_key": "04".repeat(65), "sod": "30".repeat(200), "issued_on": "2026-11-23",
                    "id_number": "11010519850601002X"}),
        )
        .unwrap()
    };
    StationEvent::new(id, seq, &body, "2026-11-23T10:00:00.000Z")
}

fn skipped() -> bool {
    if ecard_test_support::postgres::enabled() {
        return false;
    }
    eprintln!(
        "skipped: no PostgreSQL for this run ({} not set)",
        ecard_test_support::postgres::ENV
    );
    true
}

/// Every station sends every batch to both processes at the same moment (a
/// client retrying through a load balancer that picked the other one): each
/// event is applied exactly once, the other answer counts it a duplicate; the
/// revocation list has one gapless numbering and both processes serve the same
/// list; feed cursors are unique.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_registries_on_one_database_apply_each_event_once_and_number_one_sequence() {
    if skipped() {
        return;
    }
    let a = Registry::start();
    let b = Registry::start_beside(&a);
    let mut tasks = Vec::new();
    for k in 1..=STATIONS {
        let id = format!("station-{k}");
        let (via_a, key) = a.enroll(&id, Some("川X"));
        let via_b = RegistryClient::new(&b.url, &id, key, clock(), b.tls).unwrap();
        tasks.push(tokio::spawn(async move {
            let (mut applied, mut duplicates) = (0u64, 0u64);
            let mut seq = 1;
            while seq <= EVENTS_PER_STATION {
                let batch: Vec<StationEvent> =
                    (seq..seq + BATCH).map(|s| station_event(k, s)).collect();
                let (ra, rb) =
                    tokio::join!(via_a.push_events(batch.clone()), via_b.push_events(batch));
                for ack in [ra.unwrap(), rb.unwrap()] {
                    assert_eq!(ack.last_applied_seq, seq + BATCH - 1, "{ack:?}");
                    assert!(ack.refused.is_empty(), "{ack:?}");
                    applied += ack.applied;
                    duplicates += ack.duplicates;
                }
                seq += BATCH;
            }
            (applied, duplicates)
        }));
    }
    let (mut applied, mut duplicates) = (0, 0);
    for t in tasks {
        let (ap, du) = t.await.unwrap();
        applied += ap;
        duplicates += du;
    }
    let total = STATIONS * EVENTS_PER_STATION;
    assert_eq!(
        applied, total,
        "each event applied once, by one process or the other"
    );
    assert_eq!(duplicates, total, "and counted a duplicate by the other");

    let db = a.open_db();
    let count = |sql: &str| -> i64 { db.query_row(sql, params![], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM events"), total as i64);
    assert_eq!(
        count("SELECT COUNT(DISTINCT event_id) FROM events"),
        total as i64
    );
    let cancels = (STATIONS * (EVENTS_PER_STATION / 10)) as i64;
    assert_eq!(count("SELECT COUNT(*) FROM cards"), total as i64 - cancels);
    assert_eq!(
        count("SELECT COUNT(*) FROM revocations WHERE kind = 'number'"),
        cancels
    );
    // One numbering: 1..=n without a gap or a repeat, whichever process numbered.
    let lists = count("SELECT COUNT(*) FROM revocation_lists");
    assert!(lists >= 1);
    assert_eq!(count("SELECT MAX(number) FROM revocation_lists"), lists);
    assert_eq!(
        count("SELECT COUNT(DISTINCT number) FROM revocation_lists"),
        lists
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM revocations WHERE added_in IS NULL"),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM feed"),
        count("SELECT COUNT(DISTINCT cursor) FROM feed")
    );

    // Both processes serve the same list (signed by the one key they share).
    let (via_a, key) = a.enroll("station-check", Some("川X"));
    let via_b = RegistryClient::new(&b.url, "station-check", key, clock(), b.tls).unwrap();
    let registry_key = via_a.registry_key().await.unwrap().public_key().unwrap();
    let from_a = via_a
        .revocations_verified(None, &registry_key)
        .await
        .unwrap();
    let from_b = via_b
        .revocations_verified(None, &registry_key)
        .await
        .unwrap();
    assert_eq!(from_a.number, lists as u64);
    assert_eq!(
        (from_a.number, &from_a.entries),
        (from_b.number, &from_b.entries)
    );
    // A cancellation revokes the number and its card's serial.
    assert_eq!(
        from_a.entries.len() as i64,
        count("SELECT COUNT(*) FROM revocations")
    );
    assert_eq!(from_a.entries.len() as i64, 2 * cancels);
}
