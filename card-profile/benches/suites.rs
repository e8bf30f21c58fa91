//! The two algorithm suites side by side (#17), in one run: the primitives a field
//! check uses (signature verify, a 6 kB photo hash) and a whole in-process
//! personalisation and verdict against the software card.
//!
//!     cargo bench -p card-profile --bench suites
//!
//! Figures go to docs/PERFORMANCE.md ("Algorithm suites").

use card_profile::channel::Link;
use card_profile::demo;
use card_profile::revocation::RevocationSet;
use card_profile::sequences::{self, VerifyContext};
use card_profile::suite::{Suite, SuiteKey};
use card_sim::{SimCard, SimChannel, SimOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn primitives(c: &mut Criterion) {
    let photo = demo::PORTRAIT_JPEG;
    for suite in Suite::ALL {
        let pkcs8 = suite.generate_pkcs8().expect("key");
        let key = SuiteKey::from_pkcs8(suite, &pkcs8).expect("key");
        let public = key.public_key();
        let msg = [0x5Au8; 200];
        let sig = key.sign(&msg).expect("sign");
        let name = suite.code();
        c.bench_function(&format!("{name}/sign 200 B"), |b| {
            b.iter(|| key.sign(black_box(&msg)).expect("sign"))
        });
        c.bench_function(&format!("{name}/verify 200 B"), |b| {
            b.iter(|| assert!(suite.verify(&public, black_box(&msg), &sig)))
        });
        c.bench_function(&format!("{name}/hash photo {} B", photo.len()), |b| {
            b.iter(|| suite.hash(black_box(photo)))
        });
        let k = [7u8; 16];
        c.bench_function(&format!("{name}/cmac 45 B"), |b| {
            b.iter(|| suite.cmac(&k, &[black_box(&[1u8; 45][..])]))
        });
    }
}

fn card(c: &mut Criterion) {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    let data = demo::officers(today).swap_remove(0);
    for suite in Suite::ALL {
        let pki = demo::pki_in(suite, today).expect("keys");
        let name = suite.code();
        c.bench_function(&format!("{name}/personalize in-process"), |b| {
            b.iter(|| {
                let mut link = Link::new(SimChannel::new(SimCard::from_master_key(
                    [1; 8],
                    &pki.master,
                    SimOptions::default(),
                )));
                sequences::personalize(&mut link, &data, &pki.master, &pki.signer, today)
                    .expect("personalize")
            })
        });
        let mut link = Link::new(SimChannel::new(SimCard::from_master_key(
            [1; 8],
            &pki.master,
            SimOptions::default(),
        )));
        sequences::personalize(&mut link, &data, &pki.master, &pki.signer, today)
            .expect("personalize");
        let none = RevocationSet::new();
        let ctx = VerifyContext::new(&pki.trust, today, &none);
        c.bench_function(&format!("{name}/verify with photo in-process"), |b| {
            b.iter(|| sequences::verify(&mut link, &ctx).expect("verify"))
        });
    }
}

criterion_group!(benches, primitives, card);
criterion_main!(benches);
