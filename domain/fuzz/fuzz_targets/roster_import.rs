//! `cargo +nightly fuzz run roster_import` (from domain/): arbitrary bytes as
//! the roster xlsx and as a photo zip must give rows or a report, never a panic;
//! a refusal always carries at least one issue.
#![no_main]

use chrono::NaiveDate;
use ecard_domain::roster::{import, ImportOptions, Photos};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(today) = NaiveDate::from_ymd_opt(2026, 6, 1) else {
        return;
    };
    let opts = ImportOptions::new(today);
    let split = data.first().map(|b| usize::from(*b) * data.len() / 256).unwrap_or(0);
    let (xlsx, zip) = data.split_at(split.min(data.len()));
    for photos in [Photos::None, Photos::Zip(zip)] {
        if let Err(report) = import(xlsx, photos, &opts) {
            assert!(!report.issues.is_empty());
        }
    }
});
