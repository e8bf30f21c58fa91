//! What the in-process sequence tests share: the day, the demo officer, a blank
//! software card, a verdict, the three transport personalities.
#![allow(dead_code, clippy::unwrap_used)]

use card_profile::channel::Link;
use card_profile::demo::{self, DemoPki};
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, IssueData, VerifyContext};
use card_profile::verdict::Verdict;
use card_sim::{SimCard, SimChannel, SimOptions};
use chrono::NaiveDate;

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub const TODAY: (i32, u32, u32) = (2026, 6, 1);

pub fn today() -> NaiveDate {
    d(TODAY.0, TODAY.1, TODAY.2)
}

pub fn modes() -> [(&'static str, SimOptions); 3] {
    [
        ("extended", SimOptions::default()),
        (
            "short+chaining",
            SimOptions {
                extended_length: false,
                ..SimOptions::default()
            },
        ),
        (
            "t0",
            SimOptions {
                extended_length: false,
                t0_style: true,
                command_chaining: false,
            },
        ),
    ]
}

pub fn blank_card(pki: &DemoPki, serial: u64, options: SimOptions) -> Link<SimChannel> {
    Link::new(SimChannel::new(SimCard::from_master_key(
        serial.to_be_bytes(),
        &pki.master,
        options,
    )))
}

pub fn officer() -> IssueData {
    demo::officers(d(2026, 1, 5)).swap_remove(0)
}

pub fn verify_on(link: &mut Link<SimChannel>, pki: &DemoPki, day: NaiveDate) -> Verdict {
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&pki.trust, day, &none);
    sequences::verify(link, &ctx).expect("verify").0
}
