#![allow(clippy::unwrap_used)]
//! The PIV family end to end against the software PIV card in-process
//! (docs/PROFILE-PIV.md): issue onto a card as sold, verify, review, suspend, cancel
//! and terminate; the copies, the foreign cards and the torn issues it refuses.

use card_profile::channel::Link;
use card_profile::demo::{self, DemoPki};
use card_profile::piv::{AdminKey, Container};
use card_profile::profile::{Family, FileId, LifeCycle};
use card_profile::records::{CardState, Review, ReviewResult};
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{
    self, CardError, IssueData, IssueError, IssueJob, IssuedCard, PivCard, Selected, StatusChange,
    VerifyContext,
};
use card_profile::verdict::{CheckKind, Finding, Outcome, Standing};
use card_sim::{PivSetup, SimCard, SimChannel, SimOptions};
use chrono::NaiveDate;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

fn officer(i: usize) -> IssueData {
    demo::officers(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()).swap_remove(i)
}

fn piv_card(options: SimOptions) -> Link<SimChannel> {
    Link::new(SimChannel::new(SimCard::blank_piv(
        PivSetup::factory([0x50, 0x49, 0x56, 0, 0, 0, 0, 1]),
        options,
    )))
}

fn issue(
    link: &mut Link<SimChannel>,
    pki: &DemoPki,
    data: &IssueData,
    previous: Option<[u8; 8]>,
) -> Result<IssuedCard, IssueError<()>> {
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&pki.trust, today(), &none);
    let job = IssueJob {
        data,
        master: &pki.master,
        signer: &pki.signer,
        today: today(),
        previous_serial: previous,
        verify: &ctx,
    };
    sequences::issue(link, &job, |_| Ok(()))
}

fn verify(link: &mut Link<SimChannel>, pki: &DemoPki) -> card_profile::verdict::Verdict {
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&pki.trust, today(), &none);
    sequences::verify(link, &ctx).unwrap().0
}

/// Short APDUs only (what every PIV card takes) and extended length.
fn modes() -> [(&'static str, SimOptions); 2] {
    [
        ("extended", SimOptions::default()),
        (
            "short",
            SimOptions {
                extended_length: false,
                ..SimOptions::default()
            },
        ),
    ]
}

#[test]
fn a_card_as_sold_is_issued_and_verifies_valid_without_a_pin() {
    let pki = demo::pki(today()).unwrap();
    for (name, options) in modes() {
        let mut link = piv_card(options);
        let data = officer(0);
        let issued =
            issue(&mut link, &pki, &data, None).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(issued.verdict.family, Family::Piv, "{name}");
        assert_eq!(
            issued.verdict.standing,
            Standing::Valid,
            "{name}: {:#?}",
            issued.verdict.checks
        );
        let (verdict, photo) = {
            let none = RevocationSet::new();
            let ctx = VerifyContext::new(&pki.trust, today(), &none);
            sequences::verify(&mut link, &ctx).unwrap()
        };
        assert_eq!(verdict.standing, Standing::Valid, "{name}");
        assert_eq!(verdict.serial, issued.serial);
        assert_eq!(verdict.holder, Some(data.holder.clone()));
        // The standard keeps the facial image behind the holder's PIN.
        assert_eq!(photo, None);
        assert_eq!(
            verdict.check(CheckKind::FileHash(FileId::Photo)),
            Some(&Outcome::Warning {
                findings: vec![Finding::PhotoNeedsPin]
            })
        );
        for kind in [
            CheckKind::SignerChain,
            CheckKind::SodSignature,
            CheckKind::SerialBinding,
            CheckKind::ChipAuthentication,
        ] {
            assert_eq!(
                verdict.check(kind),
                Some(&Outcome::Passed),
                "{name} {kind:?}"
            );
        }
    }
}

#[test]
fn the_verdict_takes_at_most_twelve_apdus_before_any_pin_object() {
    let pki = demo::pki(today()).unwrap();
    let mut link = piv_card(SimOptions::default());
    issue(&mut link, &pki, &officer(0), None).unwrap();
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&pki.trust, today(), &none);
    let before = link.traffic();
    let (_card, pending) = sequences::verify_without_photo(&mut link, &ctx).unwrap();
    assert_eq!(pending.verdict.standing, Standing::Valid);
    let used = link.traffic().since(before);
    eprintln!("PIV verdict (extended length): {used:?}");
    assert!(used.apdus <= 12, "{used:?}");
}

#[test]
fn issuing_replaces_the_factory_key_with_the_bureaus() {
    let pki = demo::pki(today()).unwrap();
    let mut link = piv_card(SimOptions::default());
    let issued = issue(&mut link, &pki, &officer(0), None).unwrap();
    // The factory key opens nothing any more; the bureau's key for this serial does.
    let card = PivCard::select(&mut link).unwrap();
    assert_eq!(
        card.authenticate(&AdminKey::factory()).err(),
        Some(CardError::AdminKeyRejected)
    );
    let card = PivCard::select(&mut link).unwrap();
    let keys = sequences::piv::bureau_keys(&pki.master, &issued.serial).unwrap();
    assert!(card.authenticate_any(&keys).is_ok());
    // A second issue onto the same card is refused: not blank.
    assert!(matches!(
        issue(&mut link, &pki, &officer(1), None),
        Err(IssueError::NotBlank)
    ));
}

#[test]
fn review_suspend_lift_cancel_and_terminate() {
    let pki = demo::pki(today()).unwrap();
    let mut link = piv_card(SimOptions::default());
    let issued = issue(&mut link, &pki, &officer(0), None).unwrap();
    let review = Review {
        year: 2026,
        date: today(),
        result: ReviewResult::Passed,
        reviewer: "审核员".into(),
        serial: issued.serial,
        remark: None,
    };
    sequences::append_review(&mut link, &review, &pki.master, &pki.signer).unwrap();
    let v = verify(&mut link, &pki);
    assert_eq!(v.reviews, vec![review.clone()]);
    assert_eq!(v.standing, Standing::Valid);

    let change = |state| StatusChange {
        state,
        reason: "测试".into(),
        date: today(),
    };
    let s = sequences::set_status(
        &mut link,
        &change(CardState::Suspended),
        &pki.master,
        &pki.signer,
    )
    .unwrap();
    assert_eq!(s.sequence, 2);
    assert_eq!(verify(&mut link, &pki).standing, Standing::Suspended);
    sequences::set_status(
        &mut link,
        &change(CardState::Active),
        &pki.master,
        &pki.signer,
    )
    .unwrap();
    let v = verify(&mut link, &pki);
    assert_eq!(v.standing, Standing::Valid);
    // The review survived the status rewrites.
    assert_eq!(v.reviews.len(), 1);

    sequences::set_status(
        &mut link,
        &change(CardState::Revoked),
        &pki.master,
        &pki.signer,
    )
    .unwrap();
    sequences::terminate(&mut link, &pki.master).unwrap();
    let v = verify(&mut link, &pki);
    assert_eq!(v.life_cycle, LifeCycle::Terminated);
    assert_eq!(v.standing, Standing::Revoked, "{:#?}", v.checks);
    // The old chip key is gone: the card cannot prove it any more.
    let mut card = Selected::select(&mut link).unwrap();
    assert_eq!(
        card.prove_chip(card_profile::suite::Suite::P256, &issued.chip_key),
        Err(CardError::NotAuthentic)
    );
    // Nothing more is written to a terminated card.
    assert!(sequences::append_review(&mut link, &review, &pki.master, &pki.signer).is_err());
}

/// Writes `value` into a card as sold, with its factory key.
fn put_with_factory_key(link: &mut Link<SimChannel>, container: Container, value: &[u8]) {
    let card = PivCard::select(link).unwrap();
    let mut admin = card.authenticate(&AdminKey::factory()).unwrap();
    admin.put(container, value).unwrap();
}

#[test]
fn a_copy_of_every_object_on_another_piv_card_is_invalid() {
    let pki = demo::pki(today()).unwrap();
    let mut genuine = piv_card(SimOptions::default());
    issue(&mut genuine, &pki, &officer(0), None).unwrap();
    let mut objects = Vec::new();
    {
        let mut card = PivCard::select(&mut genuine).unwrap();
        for c in [
            Container::Chuid,
            Container::CardAuthCertificate,
            Container::EcardData,
            Container::EcardState,
            Container::EcardSecurityObject,
        ] {
            objects.push((c, card.load(c).unwrap().to_vec()));
        }
    }
    let mut copy = piv_card(SimOptions::default());
    for (c, value) in &objects {
        put_with_factory_key(&mut copy, *c, value);
    }
    let v = verify(&mut copy, &pki);
    assert_eq!(v.standing, Standing::Invalid);
    assert!(v.failed(CheckKind::ChipAuthentication), "{:#?}", v.checks);
}

#[test]
fn a_card_someone_else_set_up_says_whose_it_is() {
    // Another issuer's 9E certificate (its own root and signer) on a card as sold.
    let ours = demo::pki(today()).unwrap();
    let theirs = demo::pki(today()).unwrap();
    let mut link = piv_card(SimOptions::default());
    let issued_by_them = issue(&mut link, &theirs, &officer(0), None).unwrap();
    assert_eq!(issued_by_them.verdict.standing, Standing::Valid);
    let v = verify(&mut link, &ours);
    assert_eq!(v.standing, Standing::Invalid);
    assert!(v.failed(CheckKind::SignerChain));

    // Only a certificate and an unsigned CHUID, as yubico-piv-tool leaves a card.
    let mut bare = piv_card(SimOptions::default());
    let cert = {
        let mut card = PivCard::select(&mut link).unwrap();
        card.load(Container::CardAuthCertificate).unwrap().to_vec()
    };
    put_with_factory_key(&mut bare, Container::CardAuthCertificate, &cert);
    let mut chuid = card_profile::piv::Chuid::signed_content(&[7; 16], today());
    chuid = card_profile::piv::Chuid::encode(&chuid, &[]);
    put_with_factory_key(&mut bare, Container::Chuid, &chuid);
    let v = verify(&mut bare, &ours);
    assert_eq!(v.family, Family::Piv);
    assert_eq!(v.standing, Standing::Invalid);
    assert_eq!(v.life_cycle, LifeCycle::Blank);
    match v.check(CheckKind::SignerChain) {
        Some(Outcome::Failed { findings }) => assert!(
            matches!(&findings[..], [Finding::UnknownIssuer { issuer }] if issuer.contains("演示市司法局")),
            "{findings:?}"
        ),
        other => panic!("{other:?}"),
    }
    // And it is not issued over: its 9B key is still the factory's, so ecard could,
    // but a card with a foreign key is refused as another system's.
}

#[test]
fn a_card_with_a_foreign_admin_key_is_refused_before_anything_is_recorded() {
    let pki = demo::pki(today()).unwrap();
    let mut link = Link::new(SimChannel::new(SimCard::blank_piv(
        PivSetup {
            admin_key: card_sim::AdminKey::new(card_sim::AdminAlg::TripleDes, &[0x11; 24]).unwrap(),
            ..PivSetup::factory([9; 8])
        },
        SimOptions::default(),
    )));
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&pki.trust, today(), &none);
    let data = officer(0);
    let job = IssueJob {
        data: &data,
        master: &pki.master,
        signer: &pki.signer,
        today: today(),
        previous_serial: None,
        verify: &ctx,
    };
    let mut claimed = false;
    let out = sequences::issue(&mut link, &job, |_| {
        claimed = true;
        Ok::<(), ()>(())
    });
    assert!(matches!(
        out,
        Err(IssueError::Card(CardError::AdminKeyRejected))
    ));
    assert!(!claimed);
}

#[test]
fn a_torn_issue_is_finished_on_the_next_attempt_at_every_apdu() {
    let pki = demo::pki(today()).unwrap();
    // Count the APDUs of a whole issue, then tear at each one of them.
    let mut probe = piv_card(SimOptions::default());
    let before = probe.traffic();
    issue(&mut probe, &pki, &officer(0), None).unwrap();
    let total = probe.traffic().since(before).apdus as u64;
    for k in 0..total {
        let mut link = piv_card(SimOptions::default());
        link.channel_mut().tear_at(k);
        let first = issue(&mut link, &pki, &officer(0), None);
        link.channel_mut().clear_fault();
        link.channel_mut().reinsert();
        let Err(IssueError::Card(e)) = first else {
            // The tear fell after the last write (the read-back): the card is done.
            continue;
        };
        assert!(e.is_card_removed(), "tear at {k}: {e:?}");
        let serial = Selected::select(&mut link).map(|c| c.serial()).ok();
        let again = issue(&mut link, &pki, &officer(0), serial)
            .unwrap_or_else(|e| panic!("tear at {k}: resume failed: {e:?}"));
        assert_eq!(again.verdict.standing, Standing::Valid, "tear at {k}");
    }
}

#[test]
fn an_sm_bureau_cannot_issue_piv_cards() {
    let pki = demo::pki_in(card_profile::suite::Suite::Sm, today()).unwrap();
    let mut link = piv_card(SimOptions::default());
    assert!(matches!(
        issue(&mut link, &pki, &officer(0), None),
        Err(IssueError::Card(
            CardError::PivSuite | CardError::NoX509Signer
        ))
    ));
}

#[test]
fn a_card_the_vendor_keyed_for_the_bureau_is_issued_under_its_own_guid() {
    // The vendor wrote a CHUID (GUID) and set 9B to the bureau's key for it
    // (docs/PROFILE-PIV.md §4): ecard keeps the GUID and never needs the factory key.
    let pki = demo::pki(today()).unwrap();
    let guid = [0x42, 0x17, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
    let serial: [u8; 8] = guid[..8].try_into().unwrap();
    let key = card_profile::piv::AdminKey::derive(
        &pki.master,
        &serial,
        card_profile::piv::AdminAlgorithm::Aes128,
    )
    .unwrap();
    let mut link = Link::new(SimChannel::new(SimCard::blank_piv(
        PivSetup {
            admin_key: card_sim::AdminKey::new(card_sim::AdminAlg::Aes128, key.expose()).unwrap(),
            ..PivSetup::factory([3; 8])
        },
        SimOptions::default(),
    )));
    {
        let card = PivCard::select(&mut link).unwrap();
        let mut admin = card.authenticate(&key).unwrap();
        let content = card_profile::piv::Chuid::signed_content(&guid, today());
        admin
            .put(
                Container::Chuid,
                &card_profile::piv::Chuid::encode(&content, &[]),
            )
            .unwrap();
    }
    let issued = issue(&mut link, &pki, &officer(0), None).unwrap();
    assert_eq!(issued.serial, serial);
    assert_eq!(issued.verdict.standing, Standing::Valid);
    // The factory key was never set, and is still refused.
    let card = PivCard::select(&mut link).unwrap();
    assert_eq!(
        card.authenticate(&AdminKey::factory()).err(),
        Some(CardError::AdminKeyRejected)
    );
}
