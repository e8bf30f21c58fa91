//! Prints the APDU trace of personalization and verification against the software
//! card (extended length), for docs/PROFILE.md §8:
//!
//!     cargo run -p card-profile --example trace
//!
//! Long data fields are shortened to their first and last bytes.

use card_profile::channel::Link;
use card_profile::demo;
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, VerifyContext};
use card_sim::{SimCard, SimChannel, SimOptions};

fn short(bytes: &[u8]) -> String {
    let h = hex::encode_upper(bytes);
    if h.len() > 72 {
        format!(
            "{}…{} ({} bytes)",
            &h[..48],
            &h[h.len() - 12..],
            bytes.len()
        )
    } else {
        h
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).ok_or("date")?;
    let pki = demo::pki(today)?;
    let data = demo::officers(today).swap_remove(0);
    let card = SimCard::from_master_key(
        0x0102_0304_0506_0708u64.to_be_bytes(),
        &pki.master,
        SimOptions::default(),
    );
    let mut link = Link::new(SimChannel::new(card)).with_trace();
    sequences::personalize(&mut link, &data, &pki.master, &pki.signer, today)?;
    let none = RevocationSet::new();
    let ctx = VerifyContext::new(&pki.trust, today, &none);
    let split = link.trace().len();
    sequences::verify(&mut link, &ctx)?;
    for (i, (cmd, resp)) in link.trace().iter().enumerate() {
        if i == 0 {
            println!("personalize:");
        }
        if i == split {
            println!("verify:");
        }
        println!("  > {}\n  < {}", short(cmd), short(resp));
    }
    Ok(())
}
