//! A card reset by another PC/SC client, through the real stack (pcscd + vpcd +
//! ecard-sim): pcsc-lite answers `SCARD_W_RESET_CARD` to our connection; the link
//! reconnects, selects the application again and repeats the command once. A second
//! reset in the same operation is reported, not hidden.

mod common;

use card_profile::channel::{ChannelError, Link};
use card_profile::profile::FileId;
use card_profile::sequences::{Card, CardError};
use card_profile::transport::TransportError;
use card_profile::verdict::Standing;
use common::*;
use hardware_tests::PcscHarness;

#[test]
fn one_reset_is_transparent_and_a_second_is_reported() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let data = officer(0);
    let _card = harness
        .start_card(0, blank(&dir, "a", 0x7001).short_only())
        .expect("card");
    personalize(&harness, 0, &pki, &data).expect("personalize");

    let mut link = Link::new(harness.connect(0).expect("connect"));
    let mut card = Card::select(&mut link).expect("select");
    let holder = card.read_file(FileId::Holder).expect("holder");

    // Another client resets the card: the selection is gone. The next read is
    // answered as if nothing happened (reconnect, SELECT again, read again).
    harness.reset_card(0).expect("reset");
    assert_eq!(
        card.read_file(FileId::Holder).expect("after one reset"),
        holder
    );
    assert_eq!(
        card.read_file(FileId::Cert).expect("cert"),
        data.certificate.to_tlv()
    );
    assert_eq!(link.resets(), 1);

    // A second reset in the same operation goes to the caller.
    harness.reset_card(0).expect("second reset");
    let err = Card::select(&mut link)
        .err()
        .expect("second reset reported");
    assert_eq!(
        err,
        CardError::Channel(ChannelError::Transport(TransportError::CardReset))
    );

    // A reset between connecting and the transaction: the transaction begins after
    // one reconnect, and a whole verification runs in it.
    let mut channel = harness.connect(0).expect("connect");
    harness.reset_card(0).expect("reset before the transaction");
    let verdict = channel
        .transaction(|chan| {
            let mut link = Link::new(chan);
            let none = card_profile::revocation::RevocationSet::new();
            let ctx = card_profile::sequences::VerifyContext::new(&pki.trust, today(), &none);
            card_profile::sequences::verify(&mut link, &ctx).map(|(v, _)| v)
        })
        .expect("transaction after a reset")
        .expect("verify");
    assert_eq!(verdict.standing, Standing::Valid);
}
