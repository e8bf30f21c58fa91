#![allow(clippy::unwrap_used)]
//! The card's life in both algorithm suites (#17), against the software card
//! in-process: issue, verify, review, suspend, revoke and terminate; a torn write at
//! every APDU; one changed byte; a cloned chip; a card of the other suite. The same
//! sequence code runs for both: only the keys differ.

use card_profile::channel::Link;
use card_profile::demo::{self, DemoPki};
use card_profile::pki::{ChainError, PkiError, SigningKey};
use card_profile::profile::{FileId, LifeCycle};
use card_profile::records::{CardState, Review, ReviewResult};
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, CardError, StatusChange, VerifyContext};
use card_profile::suite::Suite;
use card_profile::verdict::{CheckKind, Finding, Outcome, Standing, Verdict};
use card_sim::{SimCard, SimChannel, SimOptions};

mod common;
use common::{blank_card, d, modes, officer, today};

fn issued(pki: &DemoPki, serial: u64) -> Link<SimChannel> {
    let mut link = blank_card(pki, serial, SimOptions::default());
    sequences::personalize(
        &mut link,
        &officer(),
        &pki.master,
        &pki.signer,
        d(2026, 1, 5),
    )
    .unwrap();
    link
}

fn verify(link: &mut Link<SimChannel>, pki: &DemoPki) -> Verdict {
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&pki.trust, today(), &none);
    sequences::verify(link, &ctx).unwrap().0
}

#[test]
fn a_card_is_issued_and_verified_valid_in_each_suite_and_transport() {
    for suite in Suite::ALL {
        let pki = demo::pki_in(suite, today()).unwrap();
        assert_eq!(pki.signer.certificate.suite, suite);
        assert_eq!(pki.master.suite(), suite);
        for (_, options) in modes() {
            let mut link = blank_card(&pki, 1, options);
            let data = officer();
            let issued =
                sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5))
                    .unwrap();
            let none = RevocationSet::new();
            let ctx = VerifyContext::new(&pki.trust, today(), &none);
            let (verdict, photo) = sequences::verify(&mut link, &ctx).unwrap();
            assert_eq!(
                verdict.standing,
                Standing::Valid,
                "{suite:?} {options:?}: {:#?}",
                verdict.checks
            );
            assert_eq!(photo.as_deref(), Some(data.photo_jpeg.as_slice()));
            // The same APDU count in both suites: SM2 keys and signatures have
            // P-256's sizes, so no file or command grows.
            if options == SimOptions::default() {
                assert_eq!(issued.traffic.apdus, 11, "{suite:?}");
            }
        }
    }
}

#[test]
fn the_files_are_hashed_in_the_suite() {
    use card_profile::sod::SecurityObject;
    for suite in Suite::ALL {
        let pki = demo::pki_in(suite, today()).unwrap();
        let mut link = issued(&pki, 2);
        let card = link.channel_mut().card();
        let sod = SecurityObject::parse(card.file(FileId::Sod)).unwrap();
        let holder = card.file(FileId::Holder);
        assert_eq!(sod.hash_of(FileId::Holder), Some(&suite.hash(holder)));
        let other = Suite::ALL.into_iter().find(|s| *s != suite).unwrap();
        assert_ne!(sod.hash_of(FileId::Holder), Some(&other.hash(holder)));
    }
}

#[test]
fn review_suspension_revocation_and_termination_in_each_suite() {
    for suite in Suite::ALL {
        let pki = demo::pki_in(suite, today()).unwrap();
        let mut link = issued(&pki, 3);
        let serial = link.channel_mut().card().serial();
        let review = Review {
            year: 2026,
            result: ReviewResult::Passed,
            date: d(2026, 3, 10),
            reviewer: "演示市司法局".into(),
            serial,
            remark: None,
        };
        sequences::append_review(&mut link, &review, &pki.master, &pki.signer).unwrap();
        let v = verify(&mut link, &pki);
        assert_eq!(v.standing, Standing::Valid, "{suite:?}: {:#?}", v.checks);
        assert_eq!(v.reviews, vec![review]);
        let change = |state, reason: &str| StatusChange {
            state,
            reason: reason.into(),
            date: today(),
        };
        sequences::set_status(
            &mut link,
            &change(CardState::Suspended, "暂停执法"),
            &pki.master,
            &pki.signer,
        )
        .unwrap();
        assert_eq!(
            verify(&mut link, &pki).standing,
            Standing::Suspended,
            "{suite:?}"
        );
        sequences::set_status(
            &mut link,
            &change(CardState::Revoked, "调离执法岗位"),
            &pki.master,
            &pki.signer,
        )
        .unwrap();
        sequences::terminate(&mut link, &pki.master).unwrap();
        let v = verify(&mut link, &pki);
        assert_eq!(v.standing, Standing::Revoked, "{suite:?}");
        assert_eq!(v.life_cycle, LifeCycle::Terminated);
    }
}

#[test]
fn a_torn_write_at_any_apdu_never_verifies_in_the_sm_suite() {
    let pki = demo::pki_in(Suite::Sm, today()).unwrap();
    let data = officer();
    let total = issued(&pki, 7).traffic().apdus;
    for k in 0..total {
        let mut link = blank_card(&pki, 7, SimOptions::default());
        link.channel_mut().tear_at(k as u64);
        let err = sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5))
            .unwrap_err();
        assert!(err.is_card_removed(), "k={k}: {err:?}");
        link.channel_mut().reinsert();
        let v = verify(&mut link, &pki);
        assert_ne!(v.standing, Standing::Valid, "k={k}");
        sequences::wipe(&mut link, &pki.master).unwrap();
        sequences::personalize(&mut link, &data, &pki.master, &pki.signer, d(2026, 1, 5)).unwrap();
        assert_eq!(verify(&mut link, &pki).standing, Standing::Valid, "k={k}");
    }
}

#[test]
fn one_changed_byte_fails_its_hash_in_each_suite() {
    for suite in Suite::ALL {
        let pki = demo::pki_in(suite, today()).unwrap();
        let mut link = issued(&pki, 4);
        let mut state = link.channel_mut().card().persistent().clone();
        let holder = state.files.get_mut(&FileId::Holder).unwrap();
        let last = holder.len() - 1;
        holder[last] ^= 0x01;
        let mut tampered = Link::new(SimChannel::new(SimCard::from_state(
            state,
            SimOptions::default(),
        )));
        let v = verify(&mut tampered, &pki);
        assert_ne!(v.standing, Standing::Valid, "{suite:?}");
        assert_eq!(
            v.check(CheckKind::FileHash(FileId::Holder)),
            Some(&Outcome::Failed {
                findings: vec![Finding::HashMismatch {
                    file: FileId::Holder
                }]
            }),
            "{suite:?}"
        );
    }
}

#[test]
fn a_cloned_chip_fails_chip_authentication_in_each_suite() {
    for suite in Suite::ALL {
        let pki = demo::pki_in(suite, today()).unwrap();
        let mut link = issued(&pki, 5);
        let clone = SimCard::counterfeit_of(link.channel_mut().card(), true);
        let mut clone = Link::new(SimChannel::new(clone));
        let v = verify(&mut clone, &pki);
        assert_ne!(v.standing, Standing::Valid, "{suite:?}");
        assert!(
            v.failed(CheckKind::ChipAuthentication),
            "{suite:?}: {:#?}",
            v.checks
        );
    }
}

#[test]
fn a_card_of_the_other_suite_is_of_an_unknown_root_and_keys_do_not_mix() {
    let p = demo::pki_in(Suite::P256, today()).unwrap();
    let s = demo::pki_in(Suite::Sm, today()).unwrap();
    // An SM card read by a P-256-only verifier: not genuine, and said why.
    let mut sm_card = issued(&s, 6);
    let v = verify(&mut sm_card, &p);
    assert_ne!(v.standing, Standing::Valid);
    assert!(v.failed(CheckKind::SignerChain), "{:#?}", v.checks);
    // An SM signer certificate presented under a P-256 root with the same key id
    // is a suite mismatch, never checked with the wrong algorithm.
    let mut trust = p.trust.clone();
    let mut anchor = s.root.anchor();
    anchor.suite = Suite::P256;
    trust.anchors.push(anchor);
    assert_eq!(
        trust.check_signer(&s.signer.certificate, today()).err(),
        Some(ChainError::SuiteMismatch)
    );
    // A station whose master key and signer are of different suites writes nothing.
    let mut card = blank_card(&p, 8, SimOptions::default());
    let err =
        sequences::personalize(&mut card, &officer(), &p.master, &s.signer, today()).unwrap_err();
    assert_eq!(err, CardError::Signing(PkiError::SuiteMismatch));
    assert_eq!(card.channel_mut().card().life_cycle(), LifeCycle::Blank);
    // A key of one suite cannot sign under a certificate of the other.
    let sm_key = SigningKey::generate_in(Suite::Sm).unwrap();
    let p_cert = p
        .root
        .issue_signer("局", &sm_key.public_key(), today(), d(2030, 1, 1))
        .unwrap();
    assert_eq!(
        card_profile::pki::DocumentSigner::new(sm_key, p_cert).err(),
        Some(PkiError::SuiteMismatch)
    );
}
