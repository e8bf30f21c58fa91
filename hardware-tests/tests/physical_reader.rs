//! Opt-in runs against a physical reader and card (hardware-tests/README.md): built
//! with the `physical-reader` feature and `ECARD_HW_READER` set. Without the
//! feature they are reported as ignored (skipped), never as passed; with it, a
//! missing reader or key is a failure, not a quiet pass.

use card_profile::apdu::{Command, Ins, Response};
use card_profile::profile::AID;
use card_profile::status::Status;
use hardware_tests::PcscHarness;

#[test]
#[cfg_attr(
    not(feature = "physical-reader"),
    ignore = "needs a physical reader: --features physical-reader and ECARD_HW_READER"
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
