#![allow(clippy::unwrap_used)]
//! The issuance sequence (`sequences::issue`): a blank card, a torn one, the job's own
//! finished card, and the cards it refuses, against the software card in-process.

use card_profile::channel::Link;
use card_profile::demo::{self, DemoPki};
use card_profile::profile::LifeCycle;
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{
    self, CardError, IssueData, IssueError, IssueJob, IssuedCard, VerifyContext,
};
use card_profile::verdict::Standing;
use card_sim::{SimCard, SimChannel, SimOptions};
use chrono::NaiveDate;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

fn officer(i: usize) -> IssueData {
    demo::officers(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()).swap_remove(i)
}

fn blank(pki: &DemoPki, serial: [u8; 8]) -> Link<SimChannel> {
    Link::new(SimChannel::new(SimCard::from_master_key(
        serial,
        &pki.master,
        SimOptions::default(),
    )))
}

fn run(
    link: &mut Link<SimChannel>,
    pki: &DemoPki,
    data: &IssueData,
    previous: Option<[u8; 8]>,
    claims: &mut Vec<(LifeCycle, bool)>,
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
    sequences::issue(link, &job, |found| {
        claims.push((found.info.life_cycle, found.resumed));
        Ok(())
    })
}

#[test]
fn a_blank_card_is_claimed_before_the_first_write_then_written_and_checked() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank(&pki, [1; 8]);
    let mut claims = Vec::new();
    let out = run(&mut link, &pki, &officer(0), None, &mut claims).unwrap();
    assert_eq!(claims, [(LifeCycle::Blank, false)]);
    assert_eq!(out.serial, [1; 8]);
    assert!(!out.resumed);
    assert_eq!(out.verdict.standing, Standing::Valid);
    assert_eq!(link.channel_mut().card().life_cycle(), LifeCycle::Activated);
}

#[test]
fn a_refused_claim_leaves_the_card_untouched() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank(&pki, [2; 8]);
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
    let err = sequences::issue(&mut link, &job, |_| Err("no")).unwrap_err();
    assert!(matches!(err, IssueError::Claim("no")));
    assert_eq!(link.channel_mut().card().life_cycle(), LifeCycle::Blank);
}

#[test]
fn a_torn_card_is_wiped_and_rewritten_and_the_jobs_finished_card_is_not_written_twice() {
    let pki = demo::pki(today()).unwrap();
    let data = officer(0);
    let mut link = blank(&pki, [3; 8]);
    link.channel_mut().tear_at(9);
    let mut claims = Vec::new();
    assert!(run(&mut link, &pki, &data, None, &mut claims).is_err());
    link.channel_mut().reinsert();
    assert_eq!(
        link.channel_mut().card().life_cycle(),
        LifeCycle::Personalizing
    );
    let out = run(&mut link, &pki, &data, Some([3; 8]), &mut claims).unwrap();
    assert!(!out.resumed);
    assert_eq!(out.verdict.standing, Standing::Valid);
    // Interrupted after activation: finished by reading back, nothing written.
    let records_before = link.channel_mut().card().persistent().clone();
    let again = run(&mut link, &pki, &data, Some([3; 8]), &mut claims).unwrap();
    assert!(again.resumed);
    assert_eq!(again.sod, out.sod);
    assert_eq!(&records_before, link.channel_mut().card().persistent());
}

#[test]
fn an_activated_card_that_is_not_the_jobs_own_is_refused_unclaimed() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank(&pki, [4; 8]);
    let mut claims = Vec::new();
    run(&mut link, &pki, &officer(0), None, &mut claims).unwrap();
    claims.clear();
    let err = run(&mut link, &pki, &officer(0), None, &mut claims).unwrap_err();
    assert!(matches!(err, IssueError::NotBlank));
    assert!(claims.is_empty());
    // The job's own serial, but another certificate on it.
    let err = run(&mut link, &pki, &officer(1), Some([4; 8]), &mut claims).unwrap_err();
    assert!(matches!(err, IssueError::WrongCard));
}

#[test]
fn a_copy_of_the_jobs_finished_card_is_refused_as_not_authentic() {
    let pki = demo::pki(today()).unwrap();
    let mut link = blank(&pki, [6; 8]);
    let mut claims = Vec::new();
    run(&mut link, &pki, &officer(0), None, &mut claims).unwrap();
    let fake = SimCard::counterfeit_of(link.channel_mut().card(), true);
    let mut fake = Link::new(SimChannel::new(fake));
    let err = run(&mut fake, &pki, &officer(0), Some([6; 8]), &mut claims).unwrap_err();
    assert!(
        matches!(err, IssueError::Card(CardError::NotAuthentic)),
        "{err:?}"
    );
    assert_eq!(claims.len(), 1, "only the genuine card's claim: {claims:?}");
}

/// A fake blank card that says 9000 to any EXTERNAL AUTHENTICATE (it does not hold
/// the management key): mutual authentication refuses it before anything is claimed
/// or written.
#[test]
fn a_fake_that_accepts_any_cryptogram_is_refused_before_the_claim_and_any_write() {
    let pki = demo::pki(today()).unwrap();
    let other = card_profile::keys::MasterKey::from_bytes(&[0x42; 16]).unwrap();
    let genuine = SimCard::from_master_key([7; 8], &other, SimOptions::default());
    let mut fake = Link::new(SimChannel::new(SimCard::counterfeit_of(&genuine, false)));
    let mut claims = Vec::new();
    let err = run(&mut fake, &pki, &officer(0), None, &mut claims).unwrap_err();
    assert!(
        matches!(err, IssueError::Card(CardError::ManagementKeyNotProven)),
        "{err:?}"
    );
    assert!(claims.is_empty(), "a fake's serial must not be recorded");
    assert_eq!(fake.channel_mut().card().life_cycle(), LifeCycle::Blank);
    // Still blank, so terminate refuses it by its life cycle before any
    // authentication (an activated fake meeting mutual authentication at a
    // maintenance write: card_reset.rs).
    let err = sequences::terminate(&mut fake, &pki.master).unwrap_err();
    assert!(matches!(err, CardError::WrongLifeCycle { .. }), "{err:?}");
}
