//! The station's operations end to end in-process: store + simulated readers +
//! card-sim cards, through the same `Station` the CLI and API call. (The same
//! operations through pcscd belong in hardware-tests; see the issue #3 notes.)
#![allow(clippy::unwrap_used)]

use card_profile::keys::MasterKey;
use card_profile::records::ReviewResult;
use card_profile::verdict::Standing;
use card_sim::{SimCard, SimOptions};
use ecardd::ops::{ReviewRequest, Station, StationConfig};
use ecardd::readers::sim::SimReaders;
use ecardd::readers::Readers;
use ecardd::store::{self, CertificateState, JobState};
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
        &[R, "读卡器 2"],
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

#[tokio::test]
async fn issue_records_card_audit_and_outbox_and_the_card_verifies() {
    let f = fixture();
    f.sim.insert_blank(R).unwrap();
    let out = f.station.issue("issuer", f.certs[0], R).await.unwrap();
    assert_eq!(out.verdict.standing, Standing::Valid);
    let cert = f
        .station
        .store
        .read(|c| store::certificate(c, f.certs[0]))
        .unwrap();
    assert_eq!(cert.state, CertificateState::Issued);
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM cards"), 1);
    assert_eq!(
        count(
            &f.station,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'card_issued'"
        ),
        1
    );
    assert_eq!(
        f.station.store.verify_audit_chain().unwrap().first_broken,
        None
    );

    let verified = f.station.verify(R).await.unwrap();
    assert_eq!(verified.verdict.standing, Standing::Valid);
    assert_eq!(verified.record.map(|r| r.serial), Some(out.serial));
    assert!(verified.photo.is_some());
}

#[tokio::test]
async fn the_same_certificate_is_never_written_to_two_live_cards() {
    let f = fixture();
    f.sim.insert_blank(R).unwrap();
    f.station.issue("issuer", f.certs[0], R).await.unwrap();
    f.sim.eject(R).unwrap();
    f.sim.insert_blank(R).unwrap();
    let err = f.station.issue("issuer", f.certs[0], R).await.unwrap_err();
    assert_eq!(err.code(), "conflict", "{err}");
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM cards"), 1);
}

#[tokio::test]
async fn card_pulled_mid_write_interrupts_the_job_and_resume_completes_it() {
    let f = fixture();
    f.sim.insert_blank(R).unwrap();
    f.sim.tear_next(R, 7).unwrap();
    let err = f.station.issue("issuer", f.certs[1], R).await.unwrap_err();
    assert_eq!(err.code(), "card_removed");
    let jobs = f.station.store.read(|c| store::jobs(c, None, &[])).unwrap();
    assert_eq!(jobs[0].state, JobState::Interrupted);
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM cards"), 0);
    let cert = f
        .station
        .store
        .read(|c| store::certificate(c, f.certs[1]))
        .unwrap();
    assert_eq!(cert.state, CertificateState::Approved);

    // The same card, put back: wiped and rewritten by the same job.
    let out = f.station.issue("issuer", f.certs[1], R).await.unwrap();
    assert_eq!(out.job_id, jobs[0].id);
    assert_eq!(out.verdict.standing, Standing::Valid);
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM cards"), 1);
    // Nothing was voided: the card that was torn is the one now recorded.
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM revocations"), 0);
}

/// Issues `cert` on a blank card torn mid-write, then on a second blank card; returns
/// the first (half-written) card's serial.
async fn torn_then_written_on_another_card(f: &Fixture, cert: i64) -> String {
    let first = f.sim.insert_blank(R).unwrap();
    f.sim.tear_next(R, 9).unwrap();
    f.station.issue("issuer", cert, R).await.unwrap_err();
    f.sim.eject(R).unwrap();
    f.sim.insert_blank(R).unwrap();
    f.station.issue("issuer", cert, R).await.unwrap();
    first
}

#[tokio::test]
async fn resuming_on_another_card_voids_the_first_serial() {
    let f = fixture();
    let first = torn_then_written_on_another_card(&f, f.certs[2]).await;
    let voided: String = f
        .station
        .store
        .read(|c| Ok(c.query_row("SELECT serial FROM revocations", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(voided, first);
}

/// The voided first card turns up again (still half written): no job may write it,
/// since it is on the revocation list and would fail every field check.
/// A verify-only station (keys locked) refuses to issue before touching the card:
/// no serial is recorded, so no blank card is voided on the next try.
#[tokio::test]
async fn a_station_without_keys_refuses_to_issue_and_voids_no_card() {
    let f = fixture();
    let locked = Station::without_keys(
        f.station.store.clone(),
        Readers::new(f.sim.clone()),
        f.station.trust_list(),
        StationConfig::default(),
    );
    f.sim.insert_blank(R).unwrap();
    for _ in 0..2 {
        let err = locked.issue("issuer", f.certs[0], R).await.unwrap_err();
        assert_eq!(err.code(), "keys_locked");
    }
    assert!(locked
        .start_batch("issuer", "b", &[f.certs[1]], &[R.to_owned()])
        .is_err_and(|e| e.code() == "keys_locked"));
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM revocations"), 0);
    assert_eq!(
        count(
            &f.station,
            "SELECT COUNT(*) FROM jobs WHERE card_serial IS NOT NULL"
        ),
        0
    );
    // The same card is still blank and is written once the keys are there.
    let out = f.station.issue("issuer", f.certs[0], R).await.unwrap();
    assert_eq!(out.verdict.standing, Standing::Valid);
}

/// A job being written at one reader (a batch worker holds it) is not written a
/// second time at another: the claim is one conditional UPDATE.
#[tokio::test]
async fn a_job_being_written_elsewhere_is_refused() {
    let f = fixture();
    let job = f.station.open_job("issuer", f.certs[0], None).unwrap();
    f.station
        .store
        .write("test", |tx| {
            tx.conn().execute(
                "UPDATE jobs SET state = 'writing', reader = '读卡器 2' WHERE id = ?1",
                [job],
            )?;
            Ok(())
        })
        .unwrap();
    f.sim.insert_blank(R).unwrap();
    let err = f.station.issue("issuer", f.certs[0], R).await.unwrap_err();
    assert_eq!(err.code(), "conflict");
    let err = f.station.write_job("issuer", job, R).await.unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM cards"), 0);
    assert_eq!(
        count(
            &f.station,
            "SELECT COUNT(*) FROM jobs WHERE card_serial IS NOT NULL"
        ),
        0
    );
}

#[tokio::test]
async fn a_voided_card_is_never_written_again() {
    let f = fixture();
    let first = torn_then_written_on_another_card(&f, f.certs[2]).await;
    f.sim.eject(R).unwrap();
    f.sim.insert_from_tray(R, &first).unwrap();
    let before = count(&f.station, "SELECT COUNT(*) FROM cards");
    let err = f.station.issue("issuer", f.certs[3], R).await.unwrap_err();
    assert_eq!(err.code(), "card_voided");
    assert!(err.message_zh().contains("已作废"));
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM cards"), before);
    let jobs = f.station.store.read(|c| store::jobs(c, None, &[])).unwrap();
    let job = jobs
        .iter()
        .find(|j| j.certificate_id == f.certs[3])
        .unwrap();
    assert_eq!(
        job.state,
        JobState::Queued,
        "the job waits for a usable card"
    );
}

#[tokio::test]
async fn wrong_management_key_changes_nothing_and_keeps_the_job_queued() {
    let f = fixture();
    let other = MasterKey::from_bytes(&[0x42; 32]).unwrap();
    f.sim
        .insert_card(
            R,
            SimCard::from_master_key([7; 8], &other, SimOptions::default()),
        )
        .unwrap();
    let before = count(&f.station, "SELECT COUNT(*) FROM cards");
    let err = f.station.issue("issuer", f.certs[0], R).await.unwrap_err();
    assert_eq!(err.code(), "wrong_management_key");
    assert!(err.message_zh().contains("管理密钥"));
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM cards"), before);
    let jobs = f.station.store.read(|c| store::jobs(c, None, &[])).unwrap();
    assert_eq!(jobs[0].state, JobState::Queued);
}

#[tokio::test]
async fn review_is_recorded_and_written_and_not_twice_a_year() {
    let f = fixture();
    f.sim.insert_blank(R).unwrap();
    f.station.issue("issuer", f.certs[0], R).await.unwrap();
    let req = ReviewRequest {
        certificate_id: f.certs[0],
        year: None,
        result: ReviewResult::Passed,
        remark: None,
        reader: Some(R.into()),
    };
    let review = f.station.review("reviewer", &req).await.unwrap();
    assert_eq!(review.year, 2026);
    let verified = f.station.verify(R).await.unwrap();
    assert_eq!(verified.verdict.reviews, vec![review]);
    assert_eq!(
        count(
            &f.station,
            "SELECT COUNT(*) FROM reviews WHERE card_serial IS NOT NULL"
        ),
        1
    );
    let err = f.station.review("reviewer", &req).await.unwrap_err();
    assert_eq!(err.code(), "conflict");
}

/// Reviews are recorded first: a card pulled while the review is appended leaves it
/// recorded, and asking again with the card writes that recorded review (not a
/// second one, and not a refusal). A wrong card is refused before recording.
#[tokio::test]
async fn a_review_whose_card_write_failed_is_written_on_the_next_try() {
    let f = fixture();
    f.sim.insert_blank(R).unwrap();
    f.station.issue("issuer", f.certs[0], R).await.unwrap();
    f.sim.eject(R).unwrap();
    f.sim.insert_blank(R).unwrap();
    f.station.issue("issuer", f.certs[1], R).await.unwrap();
    let req = ReviewRequest {
        certificate_id: f.certs[0],
        year: None,
        result: ReviewResult::Passed,
        remark: Some("按期年审".into()),
        reader: Some(R.into()),
    };
    // Another certificate's card in the reader: nothing recorded.
    let err = f.station.review("reviewer", &req).await.unwrap_err();
    assert_eq!(err.code(), "wrong_card");
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM reviews"), 0);

    let other = f.sim.eject(R).unwrap().unwrap();
    let ours = f
        .station
        .store
        .read(|c| store::cards_of_certificate(c, f.certs[0]))
        .unwrap()[0]
        .serial
        .clone();
    assert_ne!(other, ours);
    f.sim.insert_from_tray(R, &ours).unwrap();
    f.sim.tear_next(R, 4).unwrap();
    let err = f.station.review("reviewer", &req).await.unwrap_err();
    assert_eq!(err.code(), "card_removed");
    let unwritten = "SELECT COUNT(*) FROM reviews WHERE card_serial IS NULL";
    assert_eq!(count(&f.station, unwritten), 1);

    let review = f.station.review("reviewer", &req).await.unwrap();
    assert_eq!(review.remark.as_deref(), Some("按期年审"));
    assert_eq!(count(&f.station, "SELECT COUNT(*) FROM reviews"), 1);
    assert_eq!(count(&f.station, unwritten), 0);
    let verified = f.station.verify(R).await.unwrap();
    assert_eq!(verified.verdict.reviews, vec![review]);
    assert_eq!(
        count(
            &f.station,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'review_recorded'"
        ),
        1
    );
}

#[tokio::test]
async fn restart_turns_writing_jobs_into_interrupted() {
    let f = fixture();
    let job = f.station.open_job("issuer", f.certs[3], None).unwrap();
    f.station
        .store
        .write("issuer", |tx| {
            store::update_job(tx, job, JobState::Writing, Some(R), None, None)
        })
        .unwrap();
    assert_eq!(f.station.recover_after_restart().unwrap(), 1);
    let row = f.station.store.read(|c| store::job(c, job)).unwrap();
    assert_eq!(row.state, JobState::Interrupted);
    // The record keeps a code; the words are made at the edge.
    assert_eq!(
        row.error.as_deref(),
        Some(ecardd::labels::PROCESS_RESTARTED)
    );
    assert_eq!(
        ecardd::labels::reason_zh(row.error.as_deref().unwrap_or_default()),
        "进程重启时写卡未完成"
    );
}

#[tokio::test]
async fn a_failed_review_reads_review_failed_not_overdue() {
    let f = fixture();
    f.sim.insert_blank(R).unwrap();
    f.station.issue("issuer", f.certs[0], R).await.unwrap();
    let req = ReviewRequest {
        certificate_id: f.certs[0],
        year: None,
        result: ReviewResult::Failed,
        remark: Some("考核不合格".into()),
        reader: Some(R.into()),
    };
    f.station.review("reviewer", &req).await.unwrap();
    let out = f.station.verify(R).await.unwrap();
    assert_eq!(out.verdict.standing, Standing::ReviewFailed);
    let view = ecardd::api::views::VerdictView::from(&out);
    assert_eq!(view.standing_label, "年审不合格");
    assert_eq!(ecardd::ops::verify_exit_status(out.verdict.standing), 16);
}

/// Words a person reads never carry the programs' state names.
fn assert_no_english(words: &str) {
    assert!(
        !words.chars().any(|c| c.is_ascii_alphabetic()),
        "English inside Chinese: {words}"
    );
}

/// The operator at a batch: each empty reader gets a blank card from `insert`, a
/// reader whose card was written is emptied, until the batch is done or `rounds`
/// passes of 20 ms are over.
async fn feed_batch(
    f: &Fixture,
    batch: i64,
    readers: &[String],
    rounds: usize,
    insert: impl Fn(&str),
) {
    for _ in 0..rounds {
        let p = f.station.batch_progress(batch).unwrap();
        if p.done == f.certs.len() {
            break;
        }
        for r in readers {
            let info = f
                .station
                .readers
                .list()
                .into_iter()
                .find(|i| &i.name == r)
                .unwrap();
            if !info.card_present && !info.busy {
                insert(r);
            } else if !info.busy {
                let written = f
                    .station
                    .store
                    .read(|c| {
                        Ok(c.query_row(
                            "SELECT COUNT(*) FROM jobs WHERE reader = ?1 AND state = 'verified'",
                            [r],
                            |row| row.get::<_, i64>(0),
                        )?)
                    })
                    .unwrap();
                if written > 0 {
                    let _ = f.sim.eject(r);
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn batch_writes_every_certificate_as_blank_cards_arrive_at_two_readers() {
    let f = fixture();
    let readers = vec![R.to_string(), "读卡器 2".to_string()];
    let batch = f
        .station
        .start_batch("issuer", "第一批", &f.certs, &readers)
        .unwrap();
    // The operator keeps feeding blank cards and taking written ones out.
    feed_batch(&f, batch, &readers, 200, |r| {
        let _ = f.sim.insert_blank(r);
    })
    .await;
    let p = f.station.batch_progress(batch).unwrap();
    assert_eq!(p.done, f.certs.len(), "{p:?}");
    assert_eq!(
        count(&f.station, "SELECT COUNT(*) FROM cards"),
        f.certs.len() as i64
    );
    assert_eq!(
        count(&f.station, "SELECT COUNT(DISTINCT reader) FROM jobs"),
        2
    );
    assert_eq!(
        f.station.store.verify_audit_chain().unwrap().first_broken,
        None
    );
}

/// A batch does not care which family a blank card is (docs/PROFILE-PIV.md): one
/// reader is fed native blanks, the other PIV cards as sold, and every certificate
/// is written and verifies 有效 in its family.
#[tokio::test]
async fn a_batch_writes_native_and_piv_blanks_alike() {
    use card_profile::profile::Family;
    let f = fixture();
    let piv_reader = "读卡器 2";
    let readers = vec![R.to_string(), piv_reader.to_string()];
    let batch = f
        .station
        .start_batch("issuer", "混合批次", &f.certs, &readers)
        .unwrap();
    feed_batch(&f, batch, &readers, 300, |r| {
        let _ = if r == piv_reader {
            f.sim.insert_blank_piv(r)
        } else {
            f.sim.insert_blank(r).map(drop)
        };
    })
    .await;
    let p = f.station.batch_progress(batch).unwrap();
    assert_eq!(p.done, f.certs.len(), "{p:?}");
    let _ = f.sim.eject(R);
    let _ = f.sim.eject(piv_reader);
    let mut families = Vec::new();
    for card in f.sim.tray() {
        f.sim.insert_from_tray(R, &card.serial).unwrap();
        let out = f.station.verify(R).await.unwrap();
        // A blank card left in a reader when the batch ended is not a written one.
        if out.verdict.life_cycle != card_profile::profile::LifeCycle::Blank {
            assert_eq!(out.verdict.standing, Standing::Valid, "{}", card.serial);
            families.push(out.verdict.family);
        }
        f.sim.eject(R).unwrap();
    }
    assert_eq!(families.len(), f.certs.len(), "{families:?}");
    assert!(families.contains(&Family::Native), "{families:?}");
    assert!(families.contains(&Family::Piv), "{families:?}");
}

mod status_changes {
    use super::*;
    use ecard_sync_protocol::events::StatusKind;
    use ecardd::ops::StatusRequest;
    use ecardd::store::Conflict;

    #[tokio::test]
    async fn a_refused_change_names_states_in_words_and_carries_them_as_data() {
        let f = fixture();
        issued(&f, 0).await;
        let lift = StatusRequest::Lift {
            reason: "恢复执法".into(),
        };
        let err = f
            .station
            .change_status("issuer", f.certs[0], &lift, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "conflict");
        assert_eq!(
            err.conflict(),
            Some(&Conflict::StatusChangeNotAllowed {
                state: CertificateState::Issued,
                kind: StatusKind::Lift,
            })
        );
        let words = err.message_zh();
        assert!(
            words.contains("已制证") && words.contains("恢复"),
            "{words}"
        );
        assert_no_english(&words);

        // Cancelled: neither a review nor another issue, and no English either.
        let cancel = StatusRequest::Cancel {
            occurred_on: None,
            reason: "调离".into(),
            destination: "某县".into(),
        };
        f.station
            .change_status("issuer", f.certs[0], &cancel, None)
            .await
            .unwrap();
        let review = ReviewRequest {
            certificate_id: f.certs[0],
            year: None,
            result: ReviewResult::Passed,
            remark: None,
            reader: None,
        };
        let err = f.station.review("reviewer", &review).await.unwrap_err();
        assert!(matches!(
            err.conflict(),
            Some(Conflict::NotReviewable {
                state: CertificateState::Cancelled,
                ..
            })
        ));
        let words = err.message_zh();
        assert!(words.contains("已注销"), "{words}");
        // The certificate number (川X…) is data, not a state name.
        let number = f
            .station
            .store
            .read(|c| store::certificate(c, f.certs[0]))
            .unwrap()
            .certificate
            .number;
        assert!(words.contains(number.as_str()), "{words}");
        assert_no_english(&words.replace(number.as_str(), ""));
        let err = f
            .station
            .change_status("issuer", f.certs[0], &lift, None)
            .await
            .unwrap_err();
        assert_no_english(&err.message_zh());
    }

    #[tokio::test]
    async fn a_cancelled_card_reads_revoked_and_never_a_suspected_copy() {
        let f = fixture();
        issued(&f, 1).await;
        let cancel = StatusRequest::Cancel {
            occurred_on: None,
            reason: "调离执法岗位".into(),
            destination: "调往某县档案馆".into(),
        };
        f.station
            .change_status("issuer", f.certs[1], &cancel, Some(R))
            .await
            .unwrap();
        let out = f.station.verify(R).await.unwrap();
        let view = ecardd::api::views::VerdictView::from(&out);
        assert_eq!(view.standing_label, "已注销");
        let text = ecardd::labels::verdict_text(&out.verdict);
        assert!(!text.contains("复制"), "{text}");
        assert!(text.contains("卡片已注销"), "{text}");
        assert_eq!(ecardd::ops::verify_exit_status(out.verdict.standing), 11);
    }

    async fn issued(f: &Fixture, i: usize) -> String {
        f.sim.insert_blank(R).unwrap();
        f.station
            .issue("issuer", f.certs[i], R)
            .await
            .unwrap()
            .serial
    }

    #[tokio::test]
    async fn suspend_and_lift_are_written_to_the_card_and_the_verdict_follows() {
        let f = fixture();
        issued(&f, 0).await;
        let suspend = StatusRequest::Suspend {
            reason: "暂停执法".into(),
        };
        let out = f
            .station
            .change_status("issuer", f.certs[0], &suspend, Some(R))
            .await
            .unwrap();
        assert_eq!(out.state, CertificateState::Suspended);
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Suspended
        );
        let lift = StatusRequest::Lift {
            reason: "恢复执法".into(),
        };
        f.station
            .change_status("issuer", f.certs[0], &lift, Some(R))
            .await
            .unwrap();
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Valid
        );
        // Lifting what is not suspended is refused and changes nothing.
        let err = f
            .station
            .change_status("issuer", f.certs[0], &lift, Some(R))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "conflict");
        assert_eq!(count(&f.station, "SELECT COUNT(*) FROM status_changes"), 2);
    }

    #[tokio::test]
    async fn cancel_with_card_terminates_it_and_lists_number_and_serial() {
        let f = fixture();
        let serial = issued(&f, 1).await;
        let cancel = StatusRequest::Cancel {
            occurred_on: None,
            reason: "调离执法岗位".into(),
            destination: "调往某县档案馆".into(),
        };
        let out = f
            .station
            .change_status("issuer", f.certs[1], &cancel, Some(R))
            .await
            .unwrap();
        assert_eq!(out.written_to, Some(serial.clone()));
        let v = f.station.verify(R).await.unwrap().verdict;
        assert_eq!(v.standing, Standing::Revoked);
        assert_eq!(v.life_cycle, card_profile::profile::LifeCycle::Terminated);
        assert_eq!(count(&f.station, "SELECT COUNT(*) FROM revocations"), 2);
        assert_eq!(
            count(
                &f.station,
                "SELECT COUNT(*) FROM outbox WHERE kind = 'status_changed'"
            ),
            1
        );
    }

    #[tokio::test]
    async fn cancel_without_the_card_still_fails_the_next_field_check() {
        let f = fixture();
        issued(&f, 2).await;
        let cancel = StatusRequest::Cancel {
            occurred_on: None,
            reason: "退休".into(),
            destination: "退休".into(),
        };
        f.station
            .change_status("issuer", f.certs[2], &cancel, None)
            .await
            .unwrap();
        // The card itself still says active; the revocation list decides.
        let v = f.station.verify(R).await.unwrap().verdict;
        assert_eq!(v.standing, Standing::Revoked);
        assert!(v.failed(card_profile::verdict::CheckKind::RevocationList));
    }

    #[tokio::test]
    async fn suspend_without_the_card_still_suspends_the_next_field_check() {
        use card_profile::verdict::{CheckKind, Finding, Outcome};
        let f = fixture();
        issued(&f, 2).await;
        // A first field check fills the station's in-memory lists; the suspension
        // below must still reach the next one.
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Valid
        );
        let suspend = StatusRequest::Suspend {
            reason: "立案调查".into(),
        };
        let out = f
            .station
            .change_status("issuer", f.certs[2], &suspend, None)
            .await
            .unwrap();
        assert_eq!(out.written_to, None);
        // The card itself still says active; the station's suspension list decides.
        let v = f.station.verify(R).await.unwrap().verdict;
        assert_eq!(v.standing, Standing::Suspended);
        assert_eq!(v.check(CheckKind::CardStatus), Some(&Outcome::Passed));
        match v.check(CheckKind::RevocationList) {
            Some(Outcome::Failed { findings }) => assert!(
                matches!(&findings[..], [Finding::SuspensionListed { reason, .. }] if reason == "立案调查"),
                "{findings:?}"
            ),
            other => panic!("revocation-list check: {other:?}"),
        }
        // Lifted, again without the card: valid again.
        let lift = StatusRequest::Lift {
            reason: "调查结束".into(),
        };
        f.station
            .change_status("issuer", f.certs[2], &lift, None)
            .await
            .unwrap();
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Valid
        );
        assert_eq!(count(&f.station, "SELECT COUNT(*) FROM suspensions"), 0);
    }

    /// Records first: a card pulled while the cancellation is written leaves the
    /// cancellation recorded (and the field check refusing the card by the list);
    /// writing the card later terminates it and the record learns its serial.
    #[tokio::test]
    async fn a_failed_card_write_leaves_the_change_recorded_and_write_card_finishes_it() {
        let f = fixture();
        let serial = issued(&f, 1).await;
        let cancel = StatusRequest::Cancel {
            occurred_on: None,
            reason: "调离执法岗位".into(),
            destination: "调往某县档案馆".into(),
        };
        // Past the check that the card is this certificate's, inside the write.
        f.sim.tear_next(R, 4).unwrap();
        let out = f
            .station
            .change_status("issuer", f.certs[1], &cancel, Some(R))
            .await
            .unwrap();
        assert_eq!(out.state, CertificateState::Cancelled);
        assert_eq!(out.written_to, None);
        assert_eq!(out.card_write_failed.as_ref().unwrap().code, "card_removed");
        let unwritten = "SELECT COUNT(*) FROM status_changes WHERE card_serial IS NULL";
        assert_eq!(count(&f.station, unwritten), 1);
        assert_eq!(count(&f.station, "SELECT COUNT(*) FROM revocations"), 2);
        let v = f.station.verify(R).await.unwrap().verdict;
        assert_eq!(v.standing, Standing::Revoked);
        assert_ne!(v.life_cycle, card_profile::profile::LifeCycle::Terminated);

        let out = f
            .station
            .write_status_to_card("issuer", f.certs[1], R)
            .await
            .unwrap();
        assert_eq!(out.written_to.as_deref(), Some(serial.as_str()));
        assert_eq!(count(&f.station, unwritten), 0);
        let v = f.station.verify(R).await.unwrap().verdict;
        assert_eq!(v.standing, Standing::Revoked);
        assert_eq!(v.life_cycle, card_profile::profile::LifeCycle::Terminated);
        assert_eq!(
            count(
                &f.station,
                "SELECT COUNT(*) FROM cards WHERE terminated = 1"
            ),
            1
        );
        // Nothing left to write.
        let err = f
            .station
            .write_status_to_card("issuer", f.certs[1], R)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "conflict");
        assert!(f
            .station
            .store
            .verify_audit_chain()
            .unwrap()
            .first_broken
            .is_none());
    }

    /// A lift recorded while the card could not be written: the card still says
    /// suspended (and a field check believes the card); writing it makes it valid.
    #[tokio::test]
    async fn a_lift_recorded_without_the_card_is_written_later() {
        let f = fixture();
        issued(&f, 0).await;
        let suspend = StatusRequest::Suspend {
            reason: "立案调查".into(),
        };
        let out = f
            .station
            .change_status("issuer", f.certs[0], &suspend, Some(R))
            .await
            .unwrap();
        assert!(out.written_to.is_some());
        let lift = StatusRequest::Lift {
            reason: "调查结束".into(),
        };
        f.station
            .change_status("issuer", f.certs[0], &lift, None)
            .await
            .unwrap();
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Suspended
        );
        f.station
            .write_status_to_card("issuer", f.certs[0], R)
            .await
            .unwrap();
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Valid
        );
    }

    /// Two re-issues of the same certificate at once (a double click): one is
    /// recorded, the other refused; one application to the registry.
    #[tokio::test]
    async fn two_status_changes_at_once_record_one() {
        let f = fixture();
        issued(&f, 0).await;
        let reissue = StatusRequest::Reissue {
            lost_on: chrono::NaiveDate::from_ymd_opt(2026, 5, 20).unwrap(),
            void_declared_how: "遗失声明".into(),
            void_declared_on: chrono::NaiveDate::from_ymd_opt(2026, 5, 25).unwrap(),
            void_reference: "声明编号 2026-17".into(),
            card_returned: false,
        };
        // The first waits for its card check (select and chip authentication on a
        // blocking thread) while the second (no card) runs; which one records first
        // depends on that thread, and exactly one may.
        let (first, second) = tokio::join!(
            f.station
                .change_status("issuer", f.certs[0], &reissue, Some(R)),
            f.station
                .change_status("issuer", f.certs[0], &reissue, None),
        );
        let refused = match (first, second) {
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
            other => panic!("exactly one must be recorded: {other:?}"),
        };
        assert_eq!(refused.code(), "conflict");
        assert_eq!(count(&f.station, "SELECT COUNT(*) FROM status_changes"), 1);
        assert_eq!(
            count(
                &f.station,
                "SELECT COUNT(*) FROM applications WHERE kind = 'reissue'"
            ),
            1
        );
        assert_eq!(
            count(
                &f.station,
                "SELECT COUNT(*) FROM outbox WHERE kind = 'succession_submitted'"
            ),
            1
        );
    }

    /// Another certificate's card in the reader: refused before anything is recorded.
    #[tokio::test]
    async fn a_wrong_card_in_the_reader_changes_nothing() {
        let f = fixture();
        issued(&f, 0).await;
        f.sim.eject(R).unwrap();
        issued(&f, 1).await;
        let audit_before = f.station.store.verify_audit_chain().unwrap().rows;
        let suspend = StatusRequest::Suspend {
            reason: "立案调查".into(),
        };
        let err = f
            .station
            .change_status("issuer", f.certs[0], &suspend, Some(R))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "wrong_card");
        assert_eq!(count(&f.station, "SELECT COUNT(*) FROM status_changes"), 0);
        assert_eq!(count(&f.station, "SELECT COUNT(*) FROM suspensions"), 0);
        assert_eq!(
            f.station.store.verify_audit_chain().unwrap().rows,
            audit_before
        );
    }

    #[tokio::test]
    async fn missing_destination_is_refused_and_changes_nothing() {
        let f = fixture();
        issued(&f, 0).await;
        let audit_before = f.station.store.verify_audit_chain().unwrap().rows;
        let cancel = StatusRequest::Cancel {
            occurred_on: None,
            reason: "调离".into(),
            destination: " ".into(),
        };
        let err = f
            .station
            .change_status("issuer", f.certs[0], &cancel, Some(R))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_request");
        assert!(err.message_zh().contains("去向"));
        assert_eq!(
            f.station.store.verify_audit_chain().unwrap().rows,
            audit_before
        );
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Valid
        );
    }

    /// 补证: the old number is void at once (with how, when and the 凭证), the lost
    /// card fails a field check, and the new certificate is an application to the
    /// registry: the station numbers nothing and approves nothing itself.
    #[tokio::test]
    async fn reissue_voids_the_old_number_and_files_an_application_without_a_number() {
        let f = fixture();
        issued(&f, 0).await;
        f.sim.eject(R).unwrap();
        let certificates_before = count(&f.station, "SELECT COUNT(*) FROM certificates");
        let mut reissue = StatusRequest::Reissue {
            lost_on: chrono::NaiveDate::from_ymd_opt(2026, 5, 20).unwrap(),
            void_declared_how: "《某市日报》遗失声明".into(),
            void_declared_on: chrono::NaiveDate::from_ymd_opt(2026, 5, 25).unwrap(),
            void_reference: String::new(),
            card_returned: false,
        };
        let err = f
            .station
            .change_status("issuer", f.certs[0], &reissue, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_request");
        assert!(err.message_zh().contains("凭证"), "{}", err.message_zh());
        if let StatusRequest::Reissue { void_reference, .. } = &mut reissue {
            *void_reference = "《某市日报》2026-05-25 第4版".into();
        }
        let out = f
            .station
            .change_status("issuer", f.certs[0], &reissue, None)
            .await
            .unwrap();
        assert_eq!(out.state, CertificateState::Void);
        let application = out.application_id.expect("an application to the registry");
        assert_eq!(
            count(&f.station, "SELECT COUNT(*) FROM certificates"),
            certificates_before,
            "no certificate is made here before the registry approves"
        );
        let (kind, state, follows): (String, String, i64) = f
            .station
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT kind, state, follows_id FROM applications WHERE id = ?1",
                    [application],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .unwrap();
        assert_eq!(
            (kind.as_str(), state.as_str(), follows),
            ("reissue", "submitted", f.certs[0])
        );
        // The outbox: the void (no number of the station's own), then the application.
        let events: Vec<(String, serde_json::Value)> = f
            .station
            .store
            .read(|c| {
                let mut st = c.prepare("SELECT kind, payload FROM outbox ORDER BY seq")?;
                let rows = st
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows
                    .into_iter()
                    .map(|(k, p)| (k, serde_json::from_str(&p).unwrap()))
                    .collect())
            })
            .unwrap();
        let n = events.len();
        assert_eq!(events[n - 2].0, "status_changed");
        assert_eq!(events[n - 2].1["kind"], "reissue");
        assert_eq!(events[n - 2].1["new_number"], serde_json::Value::Null);
        assert_eq!(
            events[n - 2].1["detail"]["void_reference"],
            "《某市日报》2026-05-25 第4版"
        );
        assert_eq!(events[n - 2].1["detail"]["card_returned"], false);
        assert_eq!(events[n - 1].0, "succession_submitted");
        assert_eq!(events[n - 1].1["kind"], "reissue");
        assert_eq!(events[n - 1].1["old_number"], "川X010001");
        // The lost card fails a field check.
        let old = f.sim.tray().into_iter().next().unwrap();
        f.sim.insert_from_tray(R, &old.serial).unwrap();
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Revoked
        );
    }

    /// 换证 for a holder who moved: the old certificate is cancelled first, the
    /// application names the new unit and the changed fields.
    #[tokio::test]
    async fn replacement_cancels_first_and_files_for_the_new_unit() {
        let f = fixture();
        issued(&f, 0).await;
        let replace = StatusRequest::Replace {
            position: None,
            occurred_on: None,
            reason: "调入新单位".into(),
            unit: Some("岳池县卫生健康局".into()),
            posts: Some("01".into()),
            category: Some("卫生".into()),
            area: None,
            card_returned: true,
        };
        let out = f
            .station
            .change_status("issuer", f.certs[0], &replace, Some(R))
            .await
            .unwrap();
        assert_eq!(out.state, CertificateState::Replaced);
        assert!(
            out.written_to.is_some(),
            "the handed-back card is terminated"
        );
        let row: String = f
            .station
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT row_json FROM applications WHERE id = ?1 AND kind = 'replacement'",
                    [out.application_id.unwrap()],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        let row: serde_json::Value = serde_json::from_str(&row).unwrap();
        assert_eq!(row["unit"], "岳池县卫生健康局");
        assert_eq!(row["category"], "卫生");
        assert_eq!(row["old_number"], "川X010001");
        assert_eq!(
            f.station.verify(R).await.unwrap().verdict.standing,
            Standing::Revoked
        );
    }
}

/// Issuing and verifying a card that never changed status writes no sequence row
/// and leaves the cached revocation lists valid (the list generation does not move),
/// so an inspector's verifications do not rebuild the lists one after another.
#[tokio::test]
async fn verifying_an_unchanged_card_leaves_the_cached_lists_valid() {
    let f = fixture();
    f.sim.insert_blank(R).unwrap();
    f.station.issue("issuer", f.certs[0], R).await.unwrap();
    let generation = || f.station.store.read(store::list_generation).unwrap();
    let before = generation();
    for _ in 0..2 {
        let out = f.station.verify(R).await.unwrap();
        assert_eq!(out.verdict.standing, Standing::Valid);
    }
    assert_eq!(generation(), before);
    assert_eq!(
        count(&f.station, "SELECT COUNT(*) FROM status_sequences"),
        0
    );
}
