//! ecardd's operations through the real PC/SC stack: its PC/SC reader backend
//! (monitor thread, hotplug, reconnect) with pcscd, vpcd and ecard-sim cards.

mod common;

use card_profile::verdict::Standing;
use common::*;
use ecardd::store::{self, JobState};
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::{PcscHarness, SimProcess};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_of_five_at_two_readers_through_pcscd() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (station, certs) = station(&dir);
    let readers: Vec<String> = VPCD_READERS.iter().map(|r| r.to_string()).collect();
    let mut next_serial = 0xD000u64;
    let mut cards: Vec<Option<SimProcess>> = vec![None, None];
    let mut serials = [0u64; 2];
    for slot in 0..2u8 {
        cards[slot as usize] = Some(
            harness
                .start_card(slot, blank(&dir, &format!("b{next_serial}"), next_serial))
                .expect("card"),
        );
        serials[slot as usize] = next_serial;
        next_serial += 1;
    }
    let batch = station
        .start_batch("issuer", "批次", &certs, &readers)
        .expect("batch");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let p = station.batch_progress(batch).expect("progress");
        if p.done == certs.len() {
            break;
        }
        assert!(Instant::now() < deadline, "batch stuck: {p:?}");
        // The operator takes each written card out and puts a blank one in.
        for slot in 0..2usize {
            let reader = &readers[slot];
            let written = station
                .store
                .read(|c| store::jobs(c, Some(batch), &[JobState::Verified]))
                .expect("jobs")
                .iter()
                .any(|j| {
                    j.reader.as_deref() == Some(reader.as_str())
                        && j.card_serial == Some(format!("{:016X}", serials[slot]))
                });
            if written {
                if let Some(card) = cards[slot].take() {
                    card.remove().expect("remove");
                }
                let spec = blank(&dir, &format!("b{next_serial}"), next_serial);
                cards[slot] = Some(harness.start_card(slot as u8, spec).expect("blank card"));
                serials[slot] = next_serial;
                next_serial += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cards_recorded: i64 = station
        .store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM cards", [], |r| r.get(0))?))
        .expect("count");
    assert_eq!(cards_recorded, certs.len() as i64);
    let used: i64 = station
        .store
        .read(|c| Ok(c.query_row("SELECT COUNT(DISTINCT reader) FROM jobs", [], |r| r.get(0))?))
        .expect("count");
    assert_eq!(used, 2, "both readers wrote cards");
    assert_eq!(
        station
            .store
            .verify_audit_chain()
            .expect("audit")
            .first_broken,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tear_mid_write_interrupts_then_resume_verifies_and_pcscd_restart_is_survived() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (station, certs) = station(&dir);
    let reader = VPCD_READERS[0];

    // The card vanishes in the middle of the 8th APDU.
    let spec = blank(&dir, "torn", 0xE001);
    let torn = harness
        .start_card(0, spec.clone().tear_at(7))
        .expect("card");
    wait_reader(&station, reader, true);
    let err = station
        .issue("issuer", certs[0], reader)
        .await
        .expect_err("card vanished");
    assert_eq!(err.code(), "card_removed", "{err}");
    let _ = torn.wait_exit(Duration::from_secs(5));
    drop(torn);
    let job = station
        .store
        .read(|c| store::jobs(c, None, &[]))
        .expect("jobs")
        .remove(0);
    assert_eq!(job.state, JobState::Interrupted);

    // The same card goes back in: the job resumes and the card verifies.
    let _back = harness.start_card(0, spec).expect("card back");
    wait_reader(&station, reader, true);
    let out = station
        .issue("issuer", certs[0], reader)
        .await
        .expect("resume");
    assert_eq!(out.job_id, job.id);
    assert_eq!(
        station
            .verify(reader)
            .await
            .expect("verify")
            .verdict
            .standing,
        Standing::Valid
    );

    // pcscd is killed and started again: the station reconnects on its own.
    drop(_back);
    harness.restart_pcscd().expect("pcscd restart");
    let _next = harness
        .start_card(1, blank(&dir, "after", 0xE002))
        .expect("card after restart");
    wait_reader(&station, VPCD_READERS[1], true);
    let out = station
        .issue("issuer", certs[1], VPCD_READERS[1])
        .await
        .expect("issue after restart");
    assert_eq!(out.verdict.standing, Standing::Valid);
}
