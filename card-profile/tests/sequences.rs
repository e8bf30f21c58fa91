#![allow(clippy::unwrap_used)]
//! Every command sequence against the software card in-process, in its three
//! transport personalities (extended length; short APDUs with chaining; T=0-style
//! 61xx/6Cxx). The same sequences run through pcscd in hardware-tests.

use card_profile::channel::Link;
use card_profile::demo;
use card_profile::keys::MasterKey;
use card_profile::profile::{FileId, LifeCycle};
use card_profile::records::{CardState, Review, ReviewResult};
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, CardError, StatusChange, VerifyContext};
use card_profile::verdict::{CheckKind, Finding, Outcome, ReviewPolicy, Standing};
use card_sim::{SimCard, SimChannel, SimOptions};
use chrono::NaiveDate;
use proptest::prelude::*;

mod common;
use common::*;

#[test]
fn personalize_then_verify_in_every_transport_mode() {
    let pki = demo::pki(today()).unwrap();
    for (name, options) in modes() {
        let mut link = blank_card(&pki, 1, options);
        let data = officer();
        let issued =
            sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(link.channel_mut().card().life_cycle(), LifeCycle::Activated);
        let none = RevocationSet::new();
        let ctx = VerifyContext::new(&pki.trust, today(), &none);
        let (verdict, photo) = sequences::verify(&mut link, &ctx).unwrap();
        assert_eq!(
            verdict.standing,
            Standing::Valid,
            "{name}: {:#?}",
            verdict.checks
        );
        assert_eq!(photo.as_deref(), Some(data.photo_jpeg.as_slice()), "{name}");
        assert_eq!(verdict.holder, Some(data.holder.clone()));
        eprintln!("{name}: personalization {:?}", issued.traffic);
    }
}

#[test]
fn extended_length_writes_each_file_in_one_apdu() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 1, SimOptions::default());
    let issued = sequences::personalize(
        &mut link,
        &officer(),
        &pki.master,
        &pki.signer,
        d(2026, 1, 5),
    )
    .unwrap();
    // SELECT, READ VER, GET CHALLENGE, EXT AUTH, GENERATE, 5 × UPDATE, ACTIVATE.
    assert_eq!(issued.traffic.apdus, 11);
}

#[test]
fn torn_card_never_verifies_and_wipe_then_rewrite_succeeds_in_every_mode() {
    let pki = demo::pki(today()).unwrap();
    let data = officer();
    for (name, options) in modes() {
        let total = {
            let mut link = blank_card(&pki, 7, options);
            sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5))
                .unwrap()
                .traffic
                .apdus
        };
        for k in 0..total {
            let mut link = blank_card(&pki, 7, options);
            link.channel_mut().tear_at(k as u64);
            let err =
                sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5))
                    .unwrap_err();
            assert!(err.is_card_removed(), "{name} k={k}: {err:?}");
            link.channel_mut().reinsert();
            let verdict = verify_on(&mut link, &pki, today());
            assert_ne!(verdict.standing, Standing::Valid, "{name} k={k}");
            assert!(verdict.failed(CheckKind::LifeCycle), "{name} k={k}");
            sequences::wipe(&mut link, &pki.master).unwrap_or_else(|e| panic!("{name} k={k}: {e}"));
            sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5))
                .unwrap();
            assert_eq!(
                verify_on(&mut link, &pki, today()).standing,
                Standing::Valid,
                "{name} k={k}"
            );
        }
    }
}

#[test]
fn wrong_management_key_is_refused_and_changes_nothing() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 3, SimOptions::default());
    let wrong = MasterKey::from_bytes(&[0x55; 32]).unwrap();
    let err = sequences::personalize(&mut link, &officer(), &wrong, &pki.signer, d(2026, 1, 5))
        .unwrap_err();
    assert_eq!(err, CardError::WrongManagementKey { tries_left: 9 });
    let card = link.channel_mut().card();
    assert_eq!(card.life_cycle(), LifeCycle::Blank);
    assert!(card.file(FileId::Holder).is_empty());
    assert!(!card.has_chip_key());
}

#[test]
fn oversized_photo_is_refused_before_any_apdu() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 3, SimOptions::default());
    let mut data = officer();
    data.photo_jpeg = vec![0xFF; 21 * 1024];
    let err = sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5))
        .unwrap_err();
    assert!(
        matches!(
            err,
            CardError::FileTooLarge {
                file: FileId::Photo,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(link.traffic().apdus, 0);
}

#[test]
fn activated_card_cannot_be_wiped() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 3, SimOptions::default());
    sequences::personalize(
        &mut link,
        &officer(),
        &pki.master,
        &pki.signer,
        d(2026, 1, 5),
    )
    .unwrap();
    let err = sequences::wipe(&mut link, &pki.master).unwrap_err();
    assert!(
        matches!(
            err,
            CardError::WrongLifeCycle {
                found: LifeCycle::Activated,
                ..
            }
        ),
        "{err:?}"
    );
    // And the card itself refuses, whatever the host believes.
    let card = sequences::Card::select(&mut link).unwrap();
    let serial = card.serial();
    let mut admin = card.authenticate(&pki.master.derive(&serial)).unwrap();
    assert!(matches!(
        admin.wipe(),
        Err(CardError::Refused {
            command: "WIPE",
            ..
        })
    ));
    assert!(matches!(
        admin.write_file(FileId::Holder, b"\x61\x00"),
        Err(CardError::Refused {
            command: "UPDATE BINARY",
            ..
        })
    ));
}

#[test]
fn annual_review_turns_overdue_into_valid() {
    // Keys that were already valid when the card was issued in March 2025.
    let pki = demo::pki(d(2025, 3, 1)).unwrap();
    let mut link = blank_card(&pki, 4, SimOptions::default());
    let mut data = officer();
    // Issued in 2025: the 2025 review (named by the year it covers) was due by
    // 31 March 2026.
    data.certificate.issue_date = d(2025, 3, 1);
    data.certificate.valid_from = d(2025, 3, 1);
    let issued =
        sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2025, 3, 1)).unwrap();
    let verdict = verify_on(&mut link, &pki, today());
    assert_eq!(verdict.standing, Standing::ReviewOverdue);
    assert_eq!(
        verdict.check(CheckKind::AnnualReview),
        Some(&Outcome::Failed {
            findings: vec![Finding::ReviewOverdue { year: 2025 }]
        })
    );
    let review = Review {
        year: 2025,
        date: today(),
        result: ReviewResult::Passed,
        reviewer: "演示市司法局".into(),
        serial: issued.serial,
        remark: None,
    };
    sequences::append_review(&mut link, &review, &pki.master, &pki.signer).unwrap();
    let verdict = verify_on(&mut link, &pki, today());
    assert_eq!(verdict.standing, Standing::Valid, "{:#?}", verdict.checks);
    assert_eq!(verdict.reviews, vec![review]);
}

#[test]
fn suspension_lift_and_revocation_with_termination() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 5, SimOptions::default());
    sequences::personalize(
        &mut link,
        &officer(),
        &pki.master,
        &pki.signer,
        d(2026, 1, 5),
    )
    .unwrap();
    let change = |state, reason: &str| StatusChange {
        state,
        reason: reason.into(),
        date: today(),
    };
    let rec = sequences::set_status(
        &mut link,
        &change(CardState::Suspended, "暂停执法"),
        &pki.master,
        &pki.signer,
    )
    .unwrap();
    assert_eq!(rec.sequence, 2);
    assert_eq!(
        verify_on(&mut link, &pki, today()).standing,
        Standing::Suspended
    );
    sequences::set_status(
        &mut link,
        &change(CardState::Active, "恢复执法"),
        &pki.master,
        &pki.signer,
    )
    .unwrap();
    assert_eq!(
        verify_on(&mut link, &pki, today()).standing,
        Standing::Valid
    );
    let rec = sequences::set_status(
        &mut link,
        &change(CardState::Revoked, "调离执法岗位"),
        &pki.master,
        &pki.signer,
    )
    .unwrap();
    assert_eq!(rec.sequence, 4);
    sequences::terminate(&mut link, &pki.master).unwrap();
    let verdict = verify_on(&mut link, &pki, today());
    assert_eq!(verdict.standing, Standing::Revoked);
    assert_eq!(verdict.life_cycle, LifeCycle::Terminated);
    assert!(verdict.failed(CheckKind::ChipAuthentication));
    // A terminated card takes no more writes.
    let err = sequences::set_status(
        &mut link,
        &change(CardState::Active, "x"),
        &pki.master,
        &pki.signer,
    )
    .unwrap_err();
    assert!(matches!(err, CardError::WrongLifeCycle { .. }));
}

/// Review records of years that cannot exist (after this year, before the issue
/// year) count neither way: a "2027" pass does not cover 2025, a "2024" failure on a
/// card issued in 2025 does not fail it.
#[test]
fn reviews_of_impossible_years_are_not_counted() {
    let pki = demo::pki(d(2025, 3, 1)).unwrap();
    let mut link = blank_card(&pki, 9, SimOptions::default());
    let mut data = officer();
    data.certificate.issue_date = d(2025, 3, 1);
    data.certificate.valid_from = d(2025, 3, 1);
    let issued =
        sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2025, 3, 1)).unwrap();
    for (year, result) in [(2027, ReviewResult::Passed), (2024, ReviewResult::Failed)] {
        let review = Review {
            year,
            date: d(2026, 3, 10),
            result,
            reviewer: "演示市司法局".into(),
            serial: issued.serial,
            remark: None,
        };
        sequences::append_review(&mut link, &review, &pki.master, &pki.signer).unwrap();
    }
    let verdict = verify_on(&mut link, &pki, today());
    assert_eq!(
        verdict.standing,
        Standing::ReviewOverdue,
        "{:#?}",
        verdict.checks
    );
    assert_eq!(
        verdict.check(CheckKind::AnnualReview),
        Some(&Outcome::Failed {
            findings: vec![Finding::ReviewOverdue { year: 2025 }]
        })
    );
}

#[test]
fn a_failed_review_is_review_failed_not_overdue() {
    let pki = demo::pki(d(2025, 3, 1)).unwrap();
    let mut link = blank_card(&pki, 8, SimOptions::default());
    let mut data = officer();
    data.certificate.issue_date = d(2025, 3, 1);
    data.certificate.valid_from = d(2025, 3, 1);
    let issued =
        sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2025, 3, 1)).unwrap();
    let review = Review {
        year: 2025,
        date: d(2026, 3, 10),
        result: ReviewResult::Failed,
        reviewer: "演示市司法局".into(),
        serial: issued.serial,
        remark: None,
    };
    sequences::append_review(&mut link, &review, &pki.master, &pki.signer).unwrap();
    // Before and after the deadline alike: failed, never "overdue".
    for day in [d(2026, 3, 20), today()] {
        let verdict = verify_on(&mut link, &pki, day);
        assert_eq!(verdict.standing, Standing::ReviewFailed, "{day}");
        assert_eq!(
            verdict.check(CheckKind::AnnualReview),
            Some(&Outcome::Failed {
                findings: vec![Finding::ReviewFailed { year: 2025 }]
            })
        );
    }
}

#[test]
fn a_terminated_card_is_revoked_and_never_a_suspected_copy() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 9, SimOptions::default());
    sequences::personalize(
        &mut link,
        &officer(),
        &pki.master,
        &pki.signer,
        d(2026, 1, 5),
    )
    .unwrap();
    sequences::set_status(
        &mut link,
        &StatusChange {
            state: CardState::Revoked,
            reason: "调离执法岗位".into(),
            date: today(),
        },
        &pki.master,
        &pki.signer,
    )
    .unwrap();
    sequences::terminate(&mut link, &pki.master).unwrap();
    let verdict = verify_on(&mut link, &pki, today());
    assert_eq!(verdict.standing, Standing::Revoked);
    let copy_findings: Vec<_> = verdict
        .checks
        .iter()
        .flat_map(|c| match &c.outcome {
            Outcome::Failed { findings } | Outcome::Warning { findings } => findings.clone(),
            _ => Vec::new(),
        })
        .filter(|f| {
            matches!(
                f,
                Finding::ChipAuthenticationFailed | Finding::ChipAuthenticationRefused { .. }
            )
        })
        .collect();
    assert!(copy_findings.is_empty(), "{copy_findings:?}");
    assert_eq!(
        verdict.check(CheckKind::ChipAuthentication),
        Some(&Outcome::Failed {
            findings: vec![Finding::Terminated]
        })
    );
}

#[test]
fn validity_ends_at_the_end_of_its_last_day_across_a_year_end() {
    // Written on a leap day; valid to the last day of 2031: valid on 31 December,
    // expired on 1 January, whatever day the test runs.
    let pki = demo::pki(d(2028, 2, 29)).unwrap();
    let mut link = blank_card(&pki, 7, SimOptions::default());
    let mut data = demo::officers(d(2028, 2, 29)).swap_remove(0);
    data.certificate.valid_from = d(2028, 2, 29);
    data.certificate.valid_until = d(2031, 12, 31);
    sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2028, 2, 29)).unwrap();
    let on = |day: NaiveDate, link: &mut Link<SimChannel>| {
        verify_on(link, &pki, day)
            .check(CheckKind::ValidityDates)
            .cloned()
    };
    assert_eq!(on(d(2028, 2, 29), &mut link), Some(Outcome::Passed));
    assert_eq!(on(d(2031, 12, 31), &mut link), Some(Outcome::Passed));
    match on(d(2032, 1, 1), &mut link) {
        Some(Outcome::Failed { findings }) => assert!(
            findings.contains(&Finding::Expired {
                until: d(2031, 12, 31)
            }),
            "{findings:?}"
        ),
        other => panic!("1 January 2032: {other:?}"),
    }
    match on(d(2028, 2, 28), &mut link) {
        Some(Outcome::Failed { findings }) => assert!(
            findings.contains(&Finding::NotYetValid {
                from: d(2028, 2, 29)
            }),
            "{findings:?}"
        ),
        other => panic!("the day before: {other:?}"),
    }
}

#[test]
fn card_pulled_during_verification_is_an_error_not_a_verdict() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 6, SimOptions::default());
    sequences::personalize(
        &mut link,
        &officer(),
        &pki.master,
        &pki.signer,
        d(2026, 1, 5),
    )
    .unwrap();
    for k in [0u64, 2, 5, 8] {
        link.channel_mut().reinsert();
        // The channel counts APDUs from its creation.
        let seen = link.channel_mut().counters().apdus;
        link.channel_mut().tear_at(seen + k);
        let none = RevocationSet::new();
        let ctx = VerifyContext {
            trust: &pki.trust,
            today: today(),
            revocations: &none,
            revocation_list_date: None,
            max_revocation_age_days: 7,
            review_policy: ReviewPolicy::default(),
        };
        match sequences::verify(&mut link, &ctx) {
            Ok((verdict, _)) => panic!(
                "k={k}: a verdict ({:?}) from a card that left",
                verdict.standing
            ),
            Err(err) => assert!(err.is_card_removed(), "k={k}: {err:?}"),
        }
    }
}

/// A stale or missing revocation list: everything on the card passes, yet the
/// standing is 无法确认 (a cancelled card that still reads fine would pass too),
/// with the reason. A definite answer (here: the number revoked) still wins.
#[test]
fn a_stale_or_missing_revocation_list_leaves_the_standing_unconfirmed() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 6, SimOptions::default());
    let data = officer();
    sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5)).unwrap();
    let none = RevocationSet::new();
    let verdict_with =
        |link: &mut Link<SimChannel>, lists: &RevocationSet, date: Option<NaiveDate>, max: i64| {
            let ctx = VerifyContext {
                trust: &pki.trust,
                today: today(),
                revocations: lists,
                revocation_list_date: date,
                max_revocation_age_days: max,
                review_policy: ReviewPolicy::default(),
            };
            sequences::verify(link, &ctx).unwrap().0
        };
    // 31 days old, limit 7.
    let verdict = verdict_with(&mut link, &none, Some(d(2026, 5, 1)), 7);
    assert_eq!(verdict.standing, Standing::Unconfirmed);
    assert_eq!(
        verdict.check(CheckKind::RevocationList),
        Some(&Outcome::Failed {
            findings: vec![Finding::RevocationListStale {
                age_days: 31,
                max_days: 7
            }]
        })
    );
    // No list at all.
    let verdict = verdict_with(&mut link, &none, None, 7);
    assert_eq!(verdict.standing, Standing::Unconfirmed);
    assert_eq!(
        verdict.check(CheckKind::RevocationList),
        Some(&Outcome::Failed {
            findings: vec![Finding::RevocationListMissing]
        })
    );
    // A limit above the hard maximum is held to it: 31 days is still too old.
    let verdict = verdict_with(&mut link, &none, Some(d(2026, 5, 1)), 365);
    assert_eq!(verdict.standing, Standing::Unconfirmed);
    // Within the limit: valid.
    let verdict = verdict_with(&mut link, &none, Some(d(2026, 5, 28)), 7);
    assert_eq!(verdict.standing, Standing::Valid);
    // On a stale list that names the number: revoked, not "unconfirmed".
    let mut lists = RevocationSet::new();
    lists.revoke_number(
        data.certificate.number.as_str(),
        card_profile::revocation::Revocation {
            reason: "注销".into(),
            since: d(2026, 5, 1),
        },
    );
    let verdict = verdict_with(&mut link, &lists, Some(d(2026, 5, 1)), 7);
    assert_eq!(verdict.standing, Standing::Revoked);
}

/// A suspension the verifier's records hold, decided without the card at hand: the
/// card still says active, the verdict says 已暂停; revocation still wins; a card that
/// says suspended itself is reported once, by CardStatus.
#[test]
fn a_suspension_in_the_records_suspends_an_active_card() {
    use card_profile::revocation::Revocation;
    let pki = demo::pki(today()).unwrap();
    let mut link = blank_card(&pki, 7, SimOptions::default());
    let data = officer();
    sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5)).unwrap();
    let number = data.certificate.number.clone();
    let suspension = Revocation {
        reason: "立案调查".into(),
        since: d(2026, 5, 20),
    };
    let mut lists = RevocationSet::new();
    lists.suspend_number(number.clone(), suspension.clone());
    assert_eq!(lists.len(), 0, "a suspension is not a revocation");
    let verdict_with = |link: &mut Link<SimChannel>, lists: &RevocationSet| {
        let ctx = VerifyContext::new(&pki.trust, today(), lists);
        sequences::verify(link, &ctx).unwrap().0
    };

    let v = verdict_with(&mut link, &lists);
    assert_eq!(v.standing, Standing::Suspended);
    assert_eq!(
        v.check(CheckKind::RevocationList),
        Some(&Outcome::Failed {
            findings: vec![Finding::SuspensionListed {
                reason: suspension.reason.clone(),
                since: suspension.since
            }]
        })
    );
    assert_eq!(v.check(CheckKind::CardStatus), Some(&Outcome::Passed));
    // Another certificate's suspension changes nothing.
    let mut other = RevocationSet::new();
    other.suspend_number("川A019999", suspension.clone());
    assert_eq!(verdict_with(&mut link, &other).standing, Standing::Valid);

    // Revoked by number as well: 已注销 wins over 已暂停.
    let mut both = lists.clone();
    both.revoke_number(number.clone(), suspension.clone());
    assert_eq!(verdict_with(&mut link, &both).standing, Standing::Revoked);

    // Once the card says suspended, the list does not report it a second time.
    sequences::set_status(
        &mut link,
        &StatusChange {
            state: CardState::Suspended,
            reason: "立案调查".into(),
            date: today(),
        },
        &pki.master,
        &pki.signer,
    )
    .unwrap();
    let v = verdict_with(&mut link, &lists);
    assert_eq!(v.standing, Standing::Suspended);
    assert_eq!(v.check(CheckKind::RevocationList), Some(&Outcome::Passed));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// A card whose files hold random bytes gives a verdict (never a panic), and the
    /// verdict is never "valid".
    #[test]
    fn random_file_contents_never_verify(
        holder in prop::collection::vec(any::<u8>(), 0..300),
        cert in prop::collection::vec(any::<u8>(), 0..300),
        sod in prop::collection::vec(any::<u8>(), 0..600),
        status in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let pki = demo::pki(today()).unwrap();
        let mut state = SimCard::from_master_key([9; 8], &pki.master, SimOptions::default()).persistent().clone();
        state.life_cycle = LifeCycle::Activated;
        state.files.insert(FileId::Holder, holder);
        state.files.insert(FileId::Cert, cert);
        state.files.insert(FileId::Sod, sod);
        state.files.insert(FileId::Status, status);
        let mut link = Link::new(SimChannel::new(SimCard::from_state(state, SimOptions::default())));
        let none = RevocationSet::new();
        let ctx = VerifyContext::new(&pki.trust, today(), &none);
        let (verdict, _) = sequences::verify(&mut link, &ctx).unwrap();
        prop_assert_ne!(verdict.standing, Standing::Valid);
    }
}

/// The verifier's records of reviews the card does not carry yet (recorded at the
/// station without the card): the annual-review check counts them beside the card's
/// own, a year on the card stays the card's, and the verdict says which source
/// each counted review came from.
#[test]
fn reviews_in_the_verifiers_records_count_and_say_their_source() {
    use card_profile::keys::Serial;
    use card_profile::revocation::{Revocation, RevocationLookup};
    use card_profile::verdict::{RecordedReview, ReviewSource};
    struct Records(Vec<RecordedReview>, String);
    impl RevocationLookup for Records {
        fn lookup(&self, _serial: &Serial, _number: &str) -> Option<Revocation> {
            None
        }
        fn recorded_reviews(&self, number: &str) -> Vec<RecordedReview> {
            if number == self.1 {
                self.0.clone()
            } else {
                Vec::new()
            }
        }
    }
    let pki = demo::pki(d(2025, 3, 1)).unwrap();
    let mut link = blank_card(&pki, 9, SimOptions::default());
    let mut data = officer();
    // Issued in 2025: the 2025 review was due by 31 March 2026 (overdue on 1 June).
    data.certificate.issue_date = d(2025, 3, 1);
    data.certificate.valid_from = d(2025, 3, 1);
    let number = data.certificate.number.clone();
    let issued =
        sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2025, 3, 1)).unwrap();
    let recorded = |result| RecordedReview {
        year: 2025,
        date: d(2026, 3, 20),
        result,
        source: ReviewSource::Station,
    };
    let verdict_with = |link: &mut Link<SimChannel>, records: &Records| {
        let ctx = VerifyContext::new(&pki.trust, today(), records);
        sequences::verify(link, &ctx).unwrap().0
    };

    // Nothing anywhere: overdue.
    let none = Records(Vec::new(), number.to_string());
    let v = verdict_with(&mut link, &none);
    assert_eq!(v.standing, Standing::ReviewOverdue);
    assert!(v.counted_reviews.is_empty());

    // Recorded at the station, not on the card: counted, and said to be the station's.
    let station = Records(vec![recorded(ReviewResult::Passed)], number.to_string());
    let v = verdict_with(&mut link, &station);
    assert_eq!(v.standing, Standing::Valid, "{:#?}", v.checks);
    assert_eq!(v.counted_reviews, vec![recorded(ReviewResult::Passed)]);
    // Another certificate's record changes nothing.
    let other = Records(vec![recorded(ReviewResult::Passed)], "川A019999".into());
    assert_eq!(
        verdict_with(&mut link, &other).standing,
        Standing::ReviewOverdue
    );
    // A failed review in the records is a failed review.
    let failed = Records(vec![recorded(ReviewResult::Failed)], number.to_string());
    assert_eq!(
        verdict_with(&mut link, &failed).standing,
        Standing::ReviewFailed
    );

    // On the card: the card's review counts, with the card as its source, and the
    // records do not count a second review of that year.
    let review = Review {
        year: 2025,
        date: d(2026, 3, 25),
        result: ReviewResult::Passed,
        reviewer: "演示市司法局".into(),
        serial: issued.serial,
        remark: None,
    };
    sequences::append_review(&mut link, &review, &pki.master, &pki.signer).unwrap();
    let v = verdict_with(&mut link, &failed);
    assert_eq!(v.standing, Standing::Valid, "{:#?}", v.checks);
    assert_eq!(
        v.counted_reviews,
        vec![RecordedReview {
            year: 2025,
            date: d(2026, 3, 25),
            result: ReviewResult::Passed,
            source: ReviewSource::Card,
        }]
    );
}
