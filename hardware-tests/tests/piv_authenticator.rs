//! ecard's PIV host side against a PIV card it did not write: Nitrokey's
//! piv-authenticator (trussed-dev/piv-authenticator), run as a virtual card through
//! vsmartcard by its `vpicc` example, under the harness's pcscd. The station issues
//! onto the factory-fresh card (3DES 9B key 0102..08, as piv-authenticator ships it)
//! and the card verifies valid.
//!
//! The runner is not built by this workspace (its git-pinned trussed crates are not on
//! crates.io): `ECARD_PIV_AUTHENTICATOR_BIN` names a binary built as
//! hardware-tests/README.md says. Without it the test is compiled `#[ignore]`d (see
//! build.rs), so `cargo test` reports it skipped, never passed.

mod common;

use card_profile::profile::{Family, LifeCycle};
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, IssueJob, VerifyContext};
use card_profile::verdict::Standing;
use common::*;
use hardware_tests::PcscHarness;

/// piv-authenticator's vpicc example connects to vpcd's default port, 35963: slot 0.
const SLOT: u8 = 0;

/// The runner from `ECARD_PIV_AUTHENTICATOR_BIN`; its card state lives in RAM, so
/// every start is a factory-fresh card.
fn runner() -> std::process::Command {
    let bin = std::env::var_os("ECARD_PIV_AUTHENTICATOR_BIN")
        .filter(|v| !v.is_empty())
        .expect("ECARD_PIV_AUTHENTICATOR_BIN names the piv-authenticator vpicc runner");
    let mut cmd = std::process::Command::new(bin);
    // Its log (the commands it parsed) lands in the harness's log file; RUST_LOG
    // from the test's environment (e.g. `debug`) shows more.
    if std::env::var_os("RUST_LOG").is_none() {
        cmd.env("RUST_LOG", "info");
    }
    cmd
}

#[test]
#[cfg_attr(
    not(ecard_piv_authenticator),
    ignore = "skipped: needs Nitrokey's piv-authenticator runner: ECARD_PIV_AUTHENTICATOR_BIN (hardware-tests/README.md)"
)]
fn a_piv_authenticator_card_is_issued_and_verifies_valid() {
    let mut harness = PcscHarness::start().expect("harness");
    let card = harness
        .start_external_card(SLOT, runner())
        .expect("piv-authenticator plugged into vpcd");
    let pki = pki();
    let data = officer(0);

    let issued = with_link(&harness, SLOT, |link| {
        let none = RevocationSet::new();
        let ctx = VerifyContext::new(&pki.trust, today(), &none);
        let job = IssueJob {
            data: &data,
            master: &pki.master,
            signer: &pki.signer,
            today: today(),
            previous_serial: None,
            verify: &ctx,
        };
        sequences::issue(link, &job, |_| Ok::<(), ()>(()))
    })
    .unwrap_or_else(|e| {
        panic!(
            "issue onto piv-authenticator: {e:?} (log: {:?})",
            card.log()
        )
    });
    assert_eq!(issued.verdict.family, Family::Piv);
    assert_eq!(
        issued.verdict.standing,
        Standing::Valid,
        "{:#?}",
        issued.verdict.checks
    );

    // A second session reads the card from scratch, as a field check would.
    let (verdict, _) = verify(&harness, SLOT, &pki).expect("verify piv-authenticator");
    assert_eq!(verdict.family, Family::Piv);
    assert_eq!(verdict.serial, issued.serial);
    assert_eq!(verdict.life_cycle, LifeCycle::Activated);
    assert_eq!(verdict.standing, Standing::Valid, "{:#?}", verdict.checks);
    assert_eq!(
        verdict.certificate.as_ref().map(|c| &c.number),
        Some(&data.certificate.number)
    );
}
