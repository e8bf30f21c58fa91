//! A PostgreSQL crash and restart (`pg_ctl stop -m immediate`: no shutdown
//! checkpoint, as a crash or a failover looks to the registry; WAL recovery at
//! start) in the middle of a station's push (issue #15): the push fails, the station sends the batch again
//! as its outbox does, the registry connects again; nothing is lost or doubled.
//! Its own test binary: the restart would disturb other tests on the cluster.
//! Runs when scripts/test-registry-postgres.sh gives it the cluster
//! (`ECARD_TEST_POSTGRES_CLUSTER`); says "skipped" otherwise.
#![allow(clippy::unwrap_used)]

mod common;

use common::Registry;
use ecard_registry::storage::db::params;
use std::time::{Duration, Instant};

const EVENTS: u64 = 400;
const BATCH: u64 = 20;

#[tokio::test]
async fn a_database_restart_in_the_middle_of_a_push_loses_and_doubles_nothing() {
    let Some(cluster) = std::env::var_os("ECARD_TEST_POSTGRES_CLUSTER")
        .filter(|_| ecard_test_support::postgres::enabled())
    else {
        eprintln!(
            "skipped: no PostgreSQL cluster to restart (ECARD_TEST_POSTGRES_CLUSTER not set)"
        );
        return;
    };
    let reg = Registry::start();
    let (station, _) = reg.enroll("station-a", Some("川X"));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/postgres-cluster.sh"
    );
    let mut restart = None;
    let (mut applied, mut failures) = (0u64, 0u32);
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut seq = 1;
    while seq <= EVENTS {
        // Once: a batch that failed is sent again with the same `seq`.
        if seq == 5 * BATCH + 1 && restart.is_none() {
            // While this batch is on its way.
            let cluster = cluster.clone();
            restart = Some(std::thread::spawn(move || {
                std::process::Command::new(script)
                    .arg("crash-restart")
                    .arg(&cluster)
                    .status()
                    .unwrap()
            }));
        }
        let batch = common::events(seq, seq + BATCH - 1, "a");
        match station.push_events(batch).await {
            Ok(ack) => {
                assert_eq!(ack.last_applied_seq, seq + BATCH - 1, "{ack:?}");
                applied += ack.applied;
                seq += BATCH;
            }
            Err(e) => {
                // The station's outbox keeps the batch and tries again.
                failures += 1;
                eprintln!("push of {seq}.. failed ({e}); sending it again");
                assert!(
                    Instant::now() < deadline,
                    "the registry did not recover: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    assert!(restart.unwrap().join().unwrap().success(), "pg_ctl restart");
    eprintln!("{failures} pushes failed around the restart and were sent again");
    assert_eq!(applied, EVENTS, "every event applied once");
    let db = reg.open_db();
    let count = |sql: &str| -> i64 { db.query_row(sql, params![], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM events"), EVENTS as i64);
    assert_eq!(
        count("SELECT COUNT(DISTINCT event_id) FROM events"),
        EVENTS as i64
    );
    assert_eq!(count("SELECT COUNT(*) FROM cards"), EVENTS as i64);
    assert_eq!(reg.last_applied("station-a").await, EVENTS);
}
