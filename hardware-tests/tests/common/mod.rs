//! Shared pieces of the end-to-end tests: a fixed calendar, the demo PKI, and the
//! card operations run inside one PC/SC transaction.
#![allow(dead_code)]

use card_profile::channel::Link;
use card_profile::demo::{self, DemoPki};
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, CardError, IssueData, Issued, VerifyContext};
use card_profile::transport::CardChannel;
use card_profile::verdict::Verdict;
use chrono::NaiveDate;
use hardware_tests::{PcscChannel, PcscHarness, SimSpec};
use std::path::PathBuf;

/// Tests run on a fixed day so that dates in verdicts are deterministic.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).expect("valid date")
}

pub fn issued_on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid date")
}

pub fn pki() -> DemoPki {
    demo::pki(today()).expect("demo keys")
}

pub fn officer(i: usize) -> IssueData {
    demo::officers(issued_on()).swap_remove(i)
}

pub fn master_key_bytes() -> Vec<u8> {
    hex::decode(demo::DEMO_MASTER_KEY_HEX).expect("hex")
}

/// A blank card spec with its state file in `dir`.
pub fn blank(dir: &tempfile::TempDir, name: &str, serial: u64) -> SimSpec {
    SimSpec::new(state_path(dir, name))
        .serial(serial.to_be_bytes())
        .master_key(master_key_bytes())
}

pub fn state_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(format!("{name}.json"))
}

/// Runs `f` over a link inside one exclusive PC/SC transaction on `slot`.
pub fn with_link<R>(
    harness: &PcscHarness,
    slot: u8,
    f: impl FnOnce(&mut Link<&mut dyn CardChannel>) -> R,
) -> R {
    let mut channel: PcscChannel = harness.connect(slot).expect("connect");
    channel
        .transaction(|c| {
            let mut link = Link::new(c);
            f(&mut link)
        })
        .expect("transaction")
}

pub fn personalize(
    harness: &PcscHarness,
    slot: u8,
    pki: &DemoPki,
    data: &IssueData,
) -> Result<Issued, CardError> {
    with_link(harness, slot, |link| {
        sequences::personalize(link, data, &pki.master, &pki.signer, issued_on())
    })
}

pub fn verify_with(
    harness: &PcscHarness,
    slot: u8,
    pki: &DemoPki,
    revocations: &RevocationSet,
    day: NaiveDate,
) -> Result<(Verdict, Option<Vec<u8>>), CardError> {
    let ctx = VerifyContext::new(&pki.trust, day, revocations);
    with_link(harness, slot, |link| sequences::verify(link, &ctx))
}

pub fn verify(
    harness: &PcscHarness,
    slot: u8,
    pki: &DemoPki,
) -> Result<(Verdict, Option<Vec<u8>>), CardError> {
    verify_with(harness, slot, pki, &RevocationSet::new(), today())
}
