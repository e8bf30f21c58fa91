#![allow(clippy::unwrap_used)]
//! A card reset by another host (`CardReset`): the link reconnects, selects the
//! application again and repeats the command once; a write session lost with the
//! reset is opened again; a second reset in the same operation goes to the caller.

use card_profile::channel::{ChannelError, Link};
use card_profile::demo::{self, DemoPki};
use card_profile::profile::LifeCycle;
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, CardError, IssueData, VerifyContext};
use card_profile::transport::TransportError;
use card_profile::verdict::Standing;
use card_sim::{SimCard, SimChannel, SimOptions};
use chrono::NaiveDate;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

fn officer() -> IssueData {
    demo::officers(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()).swap_remove(0)
}

fn blank(pki: &DemoPki, options: SimOptions) -> Link<SimChannel> {
    Link::new(SimChannel::new(SimCard::from_master_key(
        [5; 8],
        &pki.master,
        options,
    )))
}

fn short() -> SimOptions {
    SimOptions {
        extended_length: false,
        ..SimOptions::default()
    }
}

fn is_reset(e: &CardError) -> bool {
    matches!(
        e,
        CardError::Channel(ChannelError::Transport(TransportError::CardReset))
    )
}

#[test]
fn one_reset_anywhere_in_personalization_is_transparent() {
    let pki = demo::pki(today()).unwrap();
    // Count the APDUs of an undisturbed run, then reset before each one in turn:
    // before SELECT, inside the write session, between chained links.
    for options in [SimOptions::default(), short()] {
        let mut link = blank(&pki, options);
        sequences::personalize(&mut link, &officer(), &pki.master, &pki.signer, today()).unwrap();
        let apdus = link.traffic().apdus as u64;
        for k in 0..apdus {
            let mut link = blank(&pki, options);
            link.channel_mut().reset_at(k);
            sequences::personalize(&mut link, &officer(), &pki.master, &pki.signer, today())
                .unwrap_or_else(|e| panic!("reset before APDU {k}: {e}"));
            assert_eq!(link.resets(), 1, "APDU {k}");
            assert_eq!(link.channel_mut().card().life_cycle(), LifeCycle::Activated);
            let none = RevocationSet::new();
            let ctx = VerifyContext::new(&pki.trust, today(), &none);
            let (verdict, _) = sequences::verify(&mut link, &ctx).unwrap();
            assert_eq!(verdict.standing, Standing::Valid, "reset before APDU {k}");
        }
    }
}

#[test]
fn one_reset_during_verification_is_transparent_and_a_second_is_reported() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank(&pki, short());
    sequences::personalize(&mut link, &officer(), &pki.master, &pki.signer, today()).unwrap();
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&pki.trust, today(), &none);

    let mut once = Link::new(SimChannel::new(SimCard::from_state(
        link.channel_mut().card().persistent().clone(),
        short(),
    )));
    once.channel_mut().reset_at(3);
    let (verdict, photo) = sequences::verify(&mut once, &ctx).unwrap();
    assert_eq!(verdict.standing, Standing::Valid);
    assert!(photo.is_some());

    let mut twice = Link::new(SimChannel::new(SimCard::from_state(
        link.channel_mut().card().persistent().clone(),
        short(),
    )));
    twice.channel_mut().reset_at(3).reset_at(6);
    let err = sequences::verify(&mut twice, &ctx).unwrap_err();
    assert!(is_reset(&err), "{err}");
}

#[test]
fn a_backend_that_cannot_reconnect_reports_the_reset() {
    /// A channel that always reports a reset and keeps the trait's default reconnect.
    struct AlwaysReset;
    impl card_profile::transport::CardChannel for AlwaysReset {
        fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
            Err(TransportError::CardReset)
        }
    }
    let err = sequences::Card::select(&mut Link::new(AlwaysReset))
        .err()
        .unwrap();
    assert!(is_reset(&err));
}

#[test]
fn mutual_authentication_refuses_a_card_that_accepts_any_cryptogram() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank(&pki, SimOptions::default());
    sequences::personalize(&mut link, &officer(), &pki.master, &pki.signer, today()).unwrap();
    // A copy that accepts every cryptogram: the status write is refused before any
    // UPDATE BINARY, and the copy's EF.STATUS is unchanged.
    let fake = SimCard::counterfeit_of(link.channel_mut().card(), false);
    let mut fake = Link::new(SimChannel::new(fake));
    let before = fake.channel_mut().card().persistent().clone();
    let change = sequences::StatusChange {
        state: card_profile::records::CardState::Revoked,
        reason: "test".into(),
        date: today(),
    };
    let err = sequences::set_status(&mut fake, &change, &pki.master, &pki.signer).unwrap_err();
    assert_eq!(err, CardError::ManagementKeyNotProven);
    assert_eq!(&before, fake.channel_mut().card().persistent());
    // The genuine card answers the host's challenge and is written.
    sequences::set_status(&mut link, &change, &pki.master, &pki.signer).unwrap();
}
