//! A card in the 国密 suite (#17) through the real PC/SC stack: pcscd, vpcd and an
//! `ecard-sim` process pre-personalised for an SM bureau (SM4 management key). It is
//! issued (SM2 chip key generated on the card, SM3 file hashes, SM2 signatures),
//! verified 有效, reviewed, cancelled and terminated, and verified 已注销 — the same
//! sequence code as the P-256 card, with the SM keys.

mod common;

use card_profile::demo;
use card_profile::profile::{FileId, LifeCycle};
use card_profile::records::{CardState, Review, ReviewResult};
use card_profile::sequences::{self, StatusChange};
use card_profile::sod::SecurityObject;
use card_profile::suite::Suite;
use card_profile::verdict::{CheckKind, Standing};
use common::*;
use hardware_tests::PcscHarness;

#[test]
fn an_sm_card_is_issued_verified_reviewed_and_cancelled_through_pcscd() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = demo::pki_in(Suite::Sm, today()).expect("SM demo keys");
    let data = officer(0);
    let spec = blank(&dir, "sm", 0x5301)
        .master_key(hex::decode(demo::DEMO_SM_MASTER_KEY_HEX).expect("hex"))
        .suite(Suite::Sm);
    let _card = harness.start_card(0, spec).expect("card");

    let issued = personalize(&harness, 0, &pki, &data).expect("personalize");
    // EF.SOD as written: SM2-signed, SM3 hashes.
    let sod = SecurityObject::parse(&issued.sod).expect("sod");
    assert_eq!(sod.signed.signer.suite, Suite::Sm);
    assert!(sod.signed.signature_valid());
    let (verdict, photo) = verify(&harness, 0, &pki).expect("verify");
    assert_eq!(verdict.standing, Standing::Valid, "{:#?}", verdict.checks);
    assert!(!verdict.failed(CheckKind::ChipAuthentication));
    assert_eq!(photo.as_deref(), Some(data.photo_jpeg.as_slice()));
    assert!(sod.hash_of(FileId::Photo).is_some());

    let review = Review {
        year: 2026,
        result: ReviewResult::Passed,
        date: today(),
        reviewer: "演示市司法局".into(),
        serial: issued.serial,
        remark: None,
    };
    with_link(&harness, 0, |link| {
        sequences::append_review(link, &review, &pki.master, &pki.signer)
    })
    .expect("review");
    let (verdict, _) = verify(&harness, 0, &pki).expect("verify");
    assert_eq!(verdict.standing, Standing::Valid);
    assert_eq!(verdict.reviews, vec![review]);

    with_link(&harness, 0, |link| {
        sequences::set_status(
            link,
            &StatusChange {
                state: CardState::Revoked,
                reason: "调离执法岗位".into(),
                date: today(),
            },
            &pki.master,
            &pki.signer,
        )?;
        sequences::terminate(link, &pki.master)
    })
    .expect("cancel");
    let (verdict, _) = verify(&harness, 0, &pki).expect("verify");
    assert_eq!(verdict.standing, Standing::Revoked);
    assert_eq!(verdict.life_cycle, LifeCycle::Terminated);

    // A P-256 station's trust list does not take the SM card for its own.
    let p256 = pki_for_other_suite();
    let (verdict, _) = verify(&harness, 0, &p256).expect("verify");
    assert!(verdict.failed(CheckKind::SignerChain));
}

fn pki_for_other_suite() -> card_profile::demo::DemoPki {
    demo::pki_in(Suite::P256, today()).expect("P-256 demo keys")
}
