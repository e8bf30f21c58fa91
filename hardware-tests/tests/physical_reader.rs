//! Opt-in runs against a physical reader and card (hardware-tests/README.md): built
//! with the `physical-reader` feature and `ECARD_HW_READER` set. Without the
//! feature they are reported as ignored (skipped), never as passed; with it, a
//! missing reader or key is a failure, not a quiet pass.
//!
//! Which card is in the reader decides which tests run: a blank ecard card by
//! default; a PIV token (YubiKey 5 or any SP 800-73-4 card) with `ECARD_HW_PIV=1`,
//! and the one test that writes to it only with `ECARD_HW_PIV_WRITE=1` too. build.rs
//! turns those variables into the cfgs `ecard_hw_piv` and `ecard_hw_piv_write`, so
//! the tests for the other kind of card are reported as ignored, never as passed.

use card_profile::apdu::{Command, Ins, Response};
use card_profile::profile::AID;
use card_profile::status::Status;
use hardware_tests::PcscHarness;

#[test]
#[cfg_attr(
    not(feature = "physical-reader"),
    ignore = "needs a physical reader: --features physical-reader and ECARD_HW_READER"
)]
#[cfg_attr(
    all(feature = "physical-reader", ecard_hw_piv),
    ignore = "skipped: the card in ECARD_HW_READER is a PIV token (ECARD_HW_PIV=1)"
)]
fn physical_card_selects_the_ecard_application() {
    let mut card = PcscHarness::physical()
        .expect("physical reader usable")
        .expect("ECARD_HW_READER names the physical reader");
    let select = Command::new(Ins::Select)
        .p1(0x04)
        .p2(0x00)
        .data(AID.to_vec())
        .ne(256)
        .encode(false)
        .expect("SELECT encodes short");
    let raw = card
        .channel
        .transaction(|ch| ch.transmit(&select))
        .expect("transaction begins")
        .expect("SELECT transmits");
    let response = Response::parse(&raw).expect("response has a status word");
    assert_eq!(
        response.status,
        Status::Success,
        "{}: SELECT of the ecard AID answered {raw:02X?}; is the application installed?",
        card.reader
    );
}

/// The round trip of the pcscd suite on a physical blank card: personalize with the
/// bureau master key from ECARD_HW_MASTER_KEY, then verify. This consumes the blank
/// card (activation is final); tear and clone cases need the software card and run
/// only through vpcd.
#[test]
#[cfg_attr(
    not(feature = "physical-reader"),
    ignore = "needs a physical reader: --features physical-reader and ECARD_HW_READER"
)]
#[cfg_attr(
    all(feature = "physical-reader", ecard_hw_piv),
    ignore = "skipped: the card in ECARD_HW_READER is a PIV token (ECARD_HW_PIV=1)"
)]
fn physical_blank_card_personalizes_and_verifies() {
    use card_profile::channel::Link;
    use card_profile::keys::MasterKey;
    use card_profile::revocation::RevocationSet;
    use card_profile::sequences::{self, VerifyContext};
    use card_profile::verdict::Standing;

    let mut card = PcscHarness::physical()
        .expect("physical reader usable")
        .expect("ECARD_HW_READER names the physical reader");
    let master = card
        .master_key
        .clone()
        .expect("ECARD_HW_MASTER_KEY holds the bureau master key (needed to write a blank card)");
    let master = MasterKey::from_bytes(&master).expect("master key is 16 or 32 bytes");
    // A physical card lives in real time: the process's clock (ECARD_TODAY moves it).
    let today = ecard_clock::Clock::from_env().expect("ECARD_TODAY").today();
    let pki = card_profile::demo::pki(today).expect("keys");
    let data = card_profile::demo::officers(today).swap_remove(0);
    let verdict = card
        .channel
        .transaction(|ch| {
            let mut link = Link::new(ch);
            sequences::personalize(&mut link, &data, &master, &pki.signer, today)?;
            let none = RevocationSet::new();
            let ctx = VerifyContext::new(&pki.trust, today, &none);
            sequences::verify(&mut link, &ctx).map(|(v, _)| v)
        })
        .expect("transaction begins")
        .expect("personalize and verify");
    assert_eq!(verdict.standing, Standing::Valid, "{:#?}", verdict.checks);
}

/// The PIV token in `ECARD_HW_READER` (ECARD_HW_PIV=1): what the tests below share.
mod piv_token {
    use card_profile::channel::Link;
    use card_profile::demo::DemoPki;
    use card_profile::revocation::RevocationSet;
    use card_profile::sequences::{self, CardError, VerifyContext};
    use card_profile::transport::CardChannel;
    use card_profile::verdict::Verdict;
    use chrono::NaiveDate;
    use hardware_tests::PcscHarness;
    use hardware_tests::PhysicalCard;

    /// The reader must be named: with the cfgs set, a missing reader is a failure.
    pub fn card() -> PhysicalCard {
        PcscHarness::physical()
            .expect("physical reader usable")
            .expect("ECARD_HW_READER names the reader holding the PIV token")
    }

    /// A physical token lives in real time: the process's clock (ECARD_TODAY moves it).
    pub fn today() -> NaiveDate {
        ecard_clock::Clock::from_env().expect("ECARD_TODAY").today()
    }

    pub fn pki(today: NaiveDate) -> DemoPki {
        card_profile::demo::pki(today).expect("demo keys")
    }

    /// Runs `f` over a link inside one PC/SC transaction on the token.
    pub fn with_link<R>(
        card: &mut PhysicalCard,
        f: impl FnOnce(&mut Link<&mut dyn CardChannel>) -> R,
    ) -> R {
        card.channel
            .transaction(|ch| {
                let mut link = Link::new(ch);
                f(&mut link)
            })
            .expect("transaction begins")
    }

    /// The verdict on the token against the demo trust list, nothing revoked.
    pub fn verify(
        link: &mut Link<&mut dyn CardChannel>,
        pki: &DemoPki,
        today: NaiveDate,
    ) -> Result<Verdict, CardError> {
        let none = RevocationSet::new();
        let ctx = VerifyContext::new(&pki.trust, today, &none);
        sequences::verify(link, &ctx).map(|(v, _)| v)
    }
}

/// Any PIV token is found as a PIV card: the native SELECT fails (6A82) and the
/// PIV application answers (docs/PROFILE-PIV.md §1). Reads only.
#[test]
#[cfg_attr(
    not(all(feature = "physical-reader", ecard_hw_piv)),
    ignore = "skipped: needs a PIV token: --features physical-reader, ECARD_HW_READER and ECARD_HW_PIV=1"
)]
fn physical_piv_token_selects_as_a_piv_card() {
    use card_profile::sequences::{Family, Selected};

    let mut card = piv_token::card();
    let reader = card.reader.clone();
    let (family, serial, life_cycle) = piv_token::with_link(&mut card, |link| {
        Selected::select(link).map(|s| (s.family(), s.serial(), s.info().life_cycle))
    })
    .expect("SELECT through either family");
    eprintln!("{reader}: {family:?} card, serial {serial:?}, {life_cycle:?}");
    assert_eq!(family, Family::Piv, "{reader}: not selected as a PIV card");
}

/// ecard verifies whatever the token holds (factory blank, set up by another tool,
/// or issued by ecard) without an error: a verdict, whichever it is. Reads only.
#[test]
#[cfg_attr(
    not(all(feature = "physical-reader", ecard_hw_piv)),
    ignore = "skipped: needs a PIV token: --features physical-reader, ECARD_HW_READER and ECARD_HW_PIV=1"
)]
fn physical_piv_token_gets_a_verdict() {
    use card_profile::sequences::Family;

    let today = piv_token::today();
    let pki = piv_token::pki(today);
    let mut card = piv_token::card();
    let verdict = piv_token::with_link(&mut card, |link| piv_token::verify(link, &pki, today))
        .expect("verification of a PIV token ends in a verdict");
    eprintln!(
        "{}: {:?}, {:?}\n{:#?}",
        card.reader, verdict.standing, verdict.life_cycle, verdict.checks
    );
    assert_eq!(verdict.family, Family::Piv);
}

/// ecard issues onto the token with the demo keys, the written token verifies
/// valid, and termination leaves it terminated. This changes the token's 9B key to
/// one derived from the demo master key and fills its 9E slot and objects: reset a
/// YubiKey afterwards with `ykman piv reset` (hardware-tests/README.md).
#[test]
#[cfg_attr(
    not(all(feature = "physical-reader", ecard_hw_piv, ecard_hw_piv_write)),
    ignore = "skipped: writes a PIV token: --features physical-reader, ECARD_HW_READER, ECARD_HW_PIV=1 and ECARD_HW_PIV_WRITE=1"
)]
fn physical_piv_token_is_issued_valid_and_terminated() {
    use card_profile::profile::LifeCycle;
    use card_profile::sequences::{self, Family, IssueJob};
    use card_profile::verdict::Standing;

    let today = piv_token::today();
    let pki = piv_token::pki(today);
    let data = card_profile::demo::officers(today).swap_remove(0);
    let mut card = piv_token::card();

    let issued = piv_token::with_link(&mut card, |link| {
        let none = card_profile::revocation::RevocationSet::new();
        let ctx = sequences::VerifyContext::new(&pki.trust, today, &none);
        let job = IssueJob {
            data: &data,
            master: &pki.master,
            signer: &pki.signer,
            today,
            previous_serial: None,
            verify: &ctx,
        };
        sequences::issue(link, &job, |_| Ok::<(), ()>(()))
    })
    .expect("issue onto the PIV token (a token issued before must be reset first)");
    assert_eq!(issued.verdict.family, Family::Piv);
    assert_eq!(
        issued.verdict.standing,
        Standing::Valid,
        "{:#?}",
        issued.verdict.checks
    );

    piv_token::with_link(&mut card, |link| sequences::terminate(link, &pki.master))
        .expect("terminate the issued token");
    let after = piv_token::with_link(&mut card, |link| piv_token::verify(link, &pki, today))
        .expect("verify the terminated token");
    assert_eq!(after.family, Family::Piv);
    assert_eq!(
        after.life_cycle,
        LifeCycle::Terminated,
        "{:#?}",
        after.checks
    );
    assert_ne!(after.standing, Standing::Valid, "{:#?}", after.checks);
}
