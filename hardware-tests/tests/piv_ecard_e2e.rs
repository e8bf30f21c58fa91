//! ecard on a PIV card through the real PC/SC stack (pcscd + vpcd + `ecard-sim
//! --piv`), #13's "done when": a card as a bureau buys it is issued by the station,
//! verified 有效, reviewed, cancelled with the card at hand and verified 已注销; the
//! card ecard wrote is checked by programs that are not ours (OpenSC reads and signs
//! with its 9E key without a PIN, openssl verifies that signature and the 9E
//! certificate up to the province root, yubico-piv-tool reads its status); and a
//! card set up by yubico-piv-tool is read by ecard as a PIV card of an unknown issuer.

mod common;

use card_profile::profile::{Family, LifeCycle};
use card_profile::records::ReviewResult;
use card_profile::verdict::{CheckKind, Finding, Outcome, Standing};
use common::*;
use ecardd::ops::{ReviewRequest, StatusRequest};
use hardware_tests::harness::VPCD_READERS;
use hardware_tests::piv_tools::{self, setup_with_yubico_piv_tool, yubico_piv_tool, Tool, YkSetup};
use hardware_tests::{PcscHarness, SimSpec};
use std::path::Path;

const READER: &str = VPCD_READERS[0];

/// A PIV card as sold (factory 9B key, nothing on it) in slot 0.
fn piv_spec(dir: &Path, name: &str) -> SimSpec {
    SimSpec::piv(
        dir.join(format!("{name}.json")),
        [0, 0, 0, 0, 0, 0x12, 0xD6, 0x87],
    )
}

/// `sequences::issue` onto the card in slot 0 through pcscd, read back against the
/// demo trust list (no claim step: there are no records here).
fn issue_in_slot_0(
    harness: &PcscHarness,
    pki: &card_profile::demo::DemoPki,
    data: &card_profile::sequences::IssueData,
) -> Result<card_profile::sequences::IssuedCard, card_profile::sequences::IssueError<()>> {
    with_link(harness, 0, |link| {
        let none = card_profile::revocation::RevocationSet::new();
        let ctx = card_profile::sequences::VerifyContext::new(&pki.trust, today(), &none);
        let job = card_profile::sequences::IssueJob {
            data,
            master: &pki.master,
            signer: &pki.signer,
            today: today(),
            previous_serial: None,
            verify: &ctx,
        };
        card_profile::sequences::issue(link, &job, |_| Ok(()))
    })
}

fn pem(der: &[u8]) -> String {
    card_profile::x509::to_pem(der).expect("PEM")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piv_card_is_issued_verified_reviewed_cancelled_and_verified_cancelled() {
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let (station, certs) = station(&dir);
    let _card = harness
        .start_card(0, piv_spec(dir.path(), "piv"))
        .expect("PIV card");
    wait_reader(&station, READER, true);

    let issued = station
        .issue("issuer", certs[0], READER)
        .await
        .expect("issue onto a PIV card");
    assert_eq!(issued.verdict.family, Family::Piv);
    assert_eq!(issued.verdict.standing, Standing::Valid);

    let checked = station.verify(READER).await.expect("verify");
    assert_eq!(checked.verdict.family, Family::Piv);
    assert_eq!(
        checked.verdict.standing,
        Standing::Valid,
        "{:#?}",
        checked.verdict.checks
    );
    assert_eq!(hex::encode_upper(checked.verdict.serial), issued.serial);
    assert_eq!(
        ecardd::labels::family_zh(checked.verdict.family),
        "PIV 标准卡"
    );

    let review = ReviewRequest {
        certificate_id: certs[0],
        year: Some(2026),
        result: ReviewResult::Passed,
        remark: None,
        reader: Some(READER.into()),
    };
    station.review("issuer", &review).await.expect("review");
    let reviewed = station.verify(READER).await.expect("verify after review");
    assert_eq!(reviewed.verdict.reviews.len(), 1);
    assert_eq!(reviewed.verdict.standing, Standing::Valid);

    let cancel = StatusRequest::Cancel {
        reason: "调离执法岗位".into(),
        destination: "市司法局办公室".into(),
        occurred_on: None,
    };
    let out = station
        .change_status("issuer", certs[0], &cancel, Some(READER))
        .await
        .expect("cancel with the card at hand");
    assert_eq!(out.written_to.as_deref(), Some(issued.serial.as_str()));
    assert!(
        out.card_write_failed.is_none(),
        "{:?}",
        out.card_write_failed
    );

    let after = station.verify(READER).await.expect("verify after cancel");
    assert_eq!(after.verdict.life_cycle, LifeCycle::Terminated);
    assert_eq!(
        after.verdict.standing,
        Standing::Revoked,
        "{:#?}",
        after.verdict.checks
    );
    assert_eq!(
        ecardd::labels::standing_zh(after.verdict.standing),
        "已注销"
    );
}

#[test]
fn outside_tools_check_the_card_ecard_wrote() {
    if !["pkcs15-tool", "pkcs15-crypt", "openssl", "yubico-piv-tool"]
        .iter()
        .all(|t| piv_tools::installed(t))
    {
        panic!("the PIV tools are not installed (scripts/install-test-deps.sh)");
    }
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let _card = harness
        .start_card(0, piv_spec(dir.path(), "ours"))
        .expect("PIV card");
    let pki = pki();
    let data = officer(0);
    let issued = issue_in_slot_0(&harness, &pki, &data).expect("issue");
    assert_eq!(issued.verdict.standing, Standing::Valid);

    let work = dir.path();
    let root = card_profile::x509::root_certificate(&pki.root).expect("root X.509");
    std::fs::write(work.join("root.pem"), pem(&root)).expect("root.pem");
    let signer = pki.signer.x509.clone().expect("signer X.509");
    std::fs::write(work.join("signer.pem"), pem(&signer)).expect("signer.pem");

    // OpenSC lists the 9E certificate ("CARD AUTH", id 04) and reads it back.
    let list = Tool::new("pkcs15-tool", work)
        .args(["--list-certificates"])
        .ok()
        .expect("pkcs15-tool --list-certificates");
    assert!(
        list.text().contains("Certificate for Card Authentication")
            && list.text().contains("ID             : 04"),
        "{}",
        list.text()
    );
    // ecard's objects in the retired-key containers are no certificates to OpenSC:
    // without a key history object it lists the 9E certificate alone.
    assert_eq!(
        list.text().matches("X.509 Certificate [").count(),
        1,
        "{}",
        list.text()
    );
    Tool::new("pkcs15-tool", work)
        .args(["--read-certificate", "04", "-o", "card.pem"])
        .ok()
        .expect("pkcs15-tool --read-certificate 04");
    // It is the certificate of this officer's number, for this card's GUID.
    let subject = Tool::new("openssl", work)
        .args([
            "x509", "-in", "card.pem", "-noout", "-subject", "-nameopt", "utf8",
        ])
        .ok()
        .expect("openssl x509 -subject");
    let number = data.certificate.number.to_string();
    assert!(subject.text().contains(&number), "{}", subject.text());

    // openssl: the certificate OpenSC read chains to the province root.
    let verify = Tool::new("openssl", work)
        .args([
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "signer.pem",
            "card.pem",
        ])
        .ok()
        .expect("openssl verify");
    assert!(verify.text().contains("card.pem: OK"), "{}", verify.text());

    // OpenSC signs with the card authentication key, no PIN; openssl checks it.
    std::fs::write(
        work.join("challenge"),
        b"a fresh challenge from an inspector",
    )
    .expect("challenge");
    Tool::new("openssl", work)
        .args([
            "dgst",
            "-sha256",
            "-binary",
            "-out",
            "challenge.sha256",
            "challenge",
        ])
        .ok()
        .expect("digest");
    Tool::new("pkcs15-crypt", work)
        .args([
            "--sign",
            "--key",
            "04",
            "-i",
            "challenge.sha256",
            "-o",
            "sig.der",
            "-f",
            "openssl",
        ])
        .ok()
        .expect("pkcs15-crypt --sign --key 04 without a PIN");
    Tool::new("openssl", work)
        .args([
            "x509", "-in", "card.pem", "-pubkey", "-noout", "-out", "card.pub",
        ])
        .ok()
        .expect("public key");
    let checked = Tool::new("openssl", work)
        .args([
            "dgst",
            "-sha256",
            "-verify",
            "card.pub",
            "-signature",
            "sig.der",
            "challenge",
        ])
        .ok()
        .expect("openssl dgst -verify");
    assert!(checked.text().contains("Verified OK"), "{}", checked.text());

    // yubico-piv-tool sees the CHUID and the 9E certificate.
    let status = yubico_piv_tool(work, "Virtual", None)
        .args(["-a", "status"])
        .ok()
        .expect("yubico-piv-tool status");
    let text = status.text();
    assert!(text.contains("CHUID"), "{text}");
    assert!(text.contains("Slot 9e"), "{text}");
}

#[test]
fn a_card_set_up_by_yubico_piv_tool_is_a_piv_card_of_an_unknown_issuer() {
    if !["yubico-piv-tool", "openssl"]
        .iter()
        .all(|t| piv_tools::installed(t))
    {
        panic!("yubico-piv-tool or openssl is not installed (scripts/install-test-deps.sh)");
    }
    let mut harness = PcscHarness::start().expect("harness");
    let dir = tempfile::tempdir().expect("tempdir");
    let _card = harness
        .start_card(0, piv_spec(dir.path(), "theirs"))
        .expect("PIV card");
    let mut setup = YkSetup::new(READER);
    setup.new_mgm_key_hex = Some("0F0E0D0C0B0A09080706050403020100F0E1D2C3B4A59687".into());
    setup_with_yubico_piv_tool(&setup, dir.path()).expect("yubico-piv-tool sets the card up");

    let pki = pki();
    let (verdict, photo) = verify(&harness, 0, &pki).expect("a verdict, not an error");
    assert_eq!(verdict.family, Family::Piv);
    assert_eq!(verdict.standing, Standing::Invalid);
    assert_eq!(photo, None);
    match verdict.check(CheckKind::SignerChain) {
        Some(Outcome::Failed { findings }) => assert!(
            findings
                .iter()
                .any(|f| matches!(f, Finding::UnknownIssuer { issuer } if issuer.contains("ecard test root"))),
            "{findings:?}"
        ),
        other => panic!("{other:?}"),
    }

    // And ecard does not write to it: its 9B key is neither the bureau's nor the
    // factory's.
    let data = officer(0);
    let out = issue_in_slot_0(&harness, &pki, &data);
    assert!(
        matches!(
            out,
            Err(card_profile::sequences::IssueError::Card(
                card_profile::sequences::CardError::AdminKeyRejected
            ))
        ),
        "{out:?}"
    );
}
