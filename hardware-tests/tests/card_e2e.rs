//! The card profile end to end through the real PC/SC stack: pcscd, the vpcd virtual
//! reader, and `ecard-sim` processes as cards. Every card operation here crosses
//! pcsc-lite exactly as it would with a physical reader.

mod common;

use card_profile::pki::ChainError;
use card_profile::pki::TrustList;
use card_profile::profile::{FileId, LifeCycle};
use card_profile::revocation::{Revocation, RevocationSet};
use card_profile::sequences::{self, Card, CardError};
use card_profile::verdict::{CheckKind, Finding, Outcome, Standing};
use common::*;
use hardware_tests::PcscHarness;

#[test]
fn personalize_then_verify_round_trip_through_pcscd() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let data = officer(0);
    let _card = harness
        .start_card(0, blank(&dir, "a", 0x1001))
        .expect("card");

    let issued = personalize(&harness, 0, &pki, &data).expect("personalize");
    assert_eq!(issued.serial, 0x1001u64.to_be_bytes());

    let (verdict, photo) = verify(&harness, 0, &pki).expect("verify");
    assert_eq!(verdict.standing, Standing::Valid, "{:#?}", verdict.checks);
    assert_eq!(verdict.life_cycle, LifeCycle::Activated);
    assert_eq!(verdict.holder.as_ref(), Some(&data.holder));
    assert_eq!(verdict.certificate.as_ref(), Some(&data.certificate));
    assert_eq!(photo.as_deref(), Some(data.photo_jpeg.as_slice()));
    for check in &verdict.checks {
        assert!(
            matches!(check.outcome, Outcome::Passed | Outcome::Warning { .. }),
            "{check:?}"
        );
    }
}

#[test]
fn short_only_and_t0_cards_work_through_pcscd() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let data = officer(1);
    let _short = harness
        .start_card(0, blank(&dir, "short", 0x2001).short_only())
        .expect("short card");
    let _t0 = harness
        .start_card(1, blank(&dir, "t0", 0x2002).short_only().t0())
        .expect("t0 card");
    for slot in [0, 1] {
        let issued = personalize(&harness, slot, &pki, &data).expect("personalize");
        // Without extended length the photo alone needs dozens of APDUs.
        assert!(issued.traffic.apdus > 20, "{:?}", issued.traffic);
        let (verdict, photo) = verify(&harness, slot, &pki).expect("verify");
        assert_eq!(
            verdict.standing,
            Standing::Valid,
            "slot {slot}: {:#?}",
            verdict.checks
        );
        assert_eq!(photo.as_deref(), Some(data.photo_jpeg.as_slice()));
    }
}

#[test]
fn two_readers_personalize_at_the_same_time() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let _a = harness
        .start_card(0, blank(&dir, "a", 0x3001))
        .expect("card a");
    let _b = harness
        .start_card(1, blank(&dir, "b", 0x3002))
        .expect("card b");
    let (a, b) = (officer(2), officer(3));
    std::thread::scope(|s| {
        let ta = s.spawn(|| personalize(&harness, 0, &pki, &a));
        let tb = s.spawn(|| personalize(&harness, 1, &pki, &b));
        ta.join().expect("thread a").expect("personalize a");
        tb.join().expect("thread b").expect("personalize b");
    });
    let (va, _) = verify(&harness, 0, &pki).expect("verify a");
    let (vb, _) = verify(&harness, 1, &pki).expect("verify b");
    assert_eq!(va.standing, Standing::Valid);
    assert_eq!(vb.standing, Standing::Valid);
    assert_eq!(va.holder.map(|h| h.name), Some(a.holder.name.clone()));
    assert_eq!(vb.holder.map(|h| h.name), Some(b.holder.name.clone()));
}

#[test]
fn torn_card_never_verifies_and_wipe_then_rewrite_succeeds() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let data = officer(0);

    // How many APDUs a clean personalization takes on this card.
    let clean = harness
        .start_card(0, blank(&dir, "clean", 0x4000))
        .expect("card");
    let apdus = personalize(&harness, 0, &pki, &data)
        .expect("clean run")
        .traffic
        .apdus;
    drop(clean);
    assert!(apdus >= 10, "personalization took {apdus} APDUs");

    for k in 0..apdus {
        let name = format!("torn-{k}");
        let spec = blank(&dir, &name, 0x4100 + k as u64);
        let torn = harness
            .start_card(0, spec.clone().tear_at(k as u32))
            .expect("card");
        let err = personalize(&harness, 0, &pki, &data).expect_err("the card vanished");
        assert!(err.is_card_removed(), "k={k}: {err:?}");
        let status = torn
            .wait_exit(std::time::Duration::from_secs(5))
            .expect("sim exits");
        assert_eq!(status.code(), Some(3), "k={k}");
        drop(torn);

        // Put the same card back: it must not verify as valid.
        let _back = harness
            .start_card(0, spec)
            .unwrap_or_else(|e| panic!("k={k}: card back: {e}"));
        let (verdict, _) = verify(&harness, 0, &pki).expect("verify torn card");
        assert_ne!(verdict.standing, Standing::Valid, "k={k}");
        assert!(
            verdict.failed(CheckKind::LifeCycle),
            "k={k}: {:?}",
            verdict.checks
        );

        with_link(&harness, 0, |link| sequences::wipe(link, &pki.master)).expect("wipe");
        personalize(&harness, 0, &pki, &data).expect("rewrite");
        let (verdict, _) = verify(&harness, 0, &pki).expect("verify rewritten");
        assert_eq!(
            verdict.standing,
            Standing::Valid,
            "k={k}: {:#?}",
            verdict.checks
        );
    }
}

#[test]
fn changed_data_file_fails_its_hash_check_and_names_the_file() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let spec = blank(&dir, "tamper", 0x5001);
    let card = harness.start_card(0, spec.clone()).expect("card");
    personalize(&harness, 0, &pki, &officer(0)).expect("personalize");
    drop(card);

    // Change the holder's name in the card's stored EEPROM image: 李 → 季.
    let path = state_path(&dir, "tamper");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state")).expect("json");
    let holder = state["files"]["Holder"]
        .as_str()
        .expect("holder hex")
        .to_lowercase();
    let li = hex::encode("李".as_bytes());
    let ji = hex::encode("季".as_bytes());
    assert!(holder.contains(&li));
    state["files"]["Holder"] = serde_json::Value::String(holder.replacen(&li, &ji, 1));
    std::fs::write(&path, state.to_string()).expect("write state");

    let _card = harness.start_card(0, spec).expect("tampered card");
    let (verdict, _) = verify(&harness, 0, &pki).expect("verify");
    assert_eq!(verdict.standing, Standing::Invalid);
    assert_eq!(
        verdict.check(CheckKind::FileHash(FileId::Holder)),
        Some(&Outcome::Failed {
            findings: vec![Finding::HashMismatch {
                file: FileId::Holder
            }]
        })
    );
    // The other files still check out, so the verdict points at the one that changed.
    assert_eq!(
        verdict.check(CheckKind::FileHash(FileId::Cert)),
        Some(&Outcome::Passed)
    );
    assert_eq!(
        verdict.check(CheckKind::ChipAuthentication),
        Some(&Outcome::Passed)
    );
}

#[test]
fn clone_with_every_readable_file_fails_chip_authentication() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    // The clone even has the original's serial and the management key: the worst case.
    let _original = harness
        .start_card(0, blank(&dir, "orig", 0x6001))
        .expect("original");
    let _blank = harness
        .start_card(1, blank(&dir, "clone", 0x6001))
        .expect("blank");
    personalize(&harness, 0, &pki, &officer(4)).expect("personalize");

    let copied: Vec<(FileId, Vec<u8>)> = with_link(&harness, 0, |link| {
        let mut card = Card::select(link)?;
        [
            FileId::Holder,
            FileId::Cert,
            FileId::Photo,
            FileId::Status,
            FileId::Sod,
        ]
        .into_iter()
        .map(|f| card.read_file(f).map(|bytes| (f, bytes)))
        .collect::<Result<Vec<_>, CardError>>()
    })
    .expect("read original");

    with_link(&harness, 1, |link| {
        let card = Card::select(link)?;
        let serial = card.serial();
        let mut admin = card.authenticate(&pki.master.derive(&serial))?;
        admin.generate_chip_key()?;
        for (file, bytes) in &copied {
            admin.write_file(*file, bytes)?;
        }
        admin.activate()
    })
    .expect("write clone");

    let (verdict, _) = verify(&harness, 1, &pki).expect("verify clone");
    assert_eq!(verdict.standing, Standing::Invalid);
    assert_eq!(
        verdict.check(CheckKind::ChipAuthentication),
        Some(&Outcome::Failed {
            findings: vec![Finding::ChipAuthenticationFailed]
        })
    );
    // Everything else on the clone is the genuine data.
    assert_eq!(
        verdict.check(CheckKind::SodSignature),
        Some(&Outcome::Passed)
    );
    assert_eq!(
        verdict.check(CheckKind::FileHash(FileId::Holder)),
        Some(&Outcome::Passed)
    );
}

#[test]
fn expired_certificate_and_unknown_signer_each_fail_with_their_own_reason() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let data = officer(0);
    let _card = harness
        .start_card(0, blank(&dir, "exp", 0x7001))
        .expect("card");
    personalize(&harness, 0, &pki, &data).expect("personalize");

    // The day after valid-until.
    let later = data.certificate.valid_until.succ_opt().expect("date");
    let (verdict, _) =
        verify_with(&harness, 0, &pki, &RevocationSet::new(), later).expect("verify");
    assert_eq!(verdict.standing, Standing::Expired);
    assert_eq!(
        verdict.check(CheckKind::ValidityDates),
        Some(&Outcome::Failed {
            findings: vec![Finding::Expired {
                until: data.certificate.valid_until
            }]
        })
    );
    assert_eq!(
        verdict.check(CheckKind::SignerChain),
        Some(&Outcome::Passed)
    );

    // A verifier whose trust list holds another province's root only.
    let mut other = common::pki();
    other.trust = TrustList::new(vec![card_profile::demo::pki(today())
        .expect("keys")
        .root
        .anchor()]);
    let (verdict, _) = verify(&harness, 0, &other).expect("verify");
    assert_eq!(verdict.standing, Standing::Invalid);
    assert_eq!(
        verdict.check(CheckKind::SignerChain),
        Some(&Outcome::Failed {
            findings: vec![Finding::Signer {
                error: ChainError::UnknownIssuer
            }]
        })
    );
    assert_eq!(
        verdict.check(CheckKind::ValidityDates),
        Some(&Outcome::Passed)
    );
}

#[test]
fn revocation_list_entry_turns_the_verdict_to_revoked() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki();
    let data = officer(1);
    let _card = harness
        .start_card(0, blank(&dir, "rev", 0x8001))
        .expect("card");
    personalize(&harness, 0, &pki, &data).expect("personalize");
    let mut list = RevocationSet::new();
    list.revoke_number(
        data.certificate.number.clone(),
        Revocation {
            reason: "声明作废".into(),
            since: today(),
        },
    );
    let (verdict, _) = verify_with(&harness, 0, &pki, &list, today()).expect("verify");
    assert_eq!(verdict.standing, Standing::Revoked);
    assert!(verdict.failed(CheckKind::RevocationList));
}
