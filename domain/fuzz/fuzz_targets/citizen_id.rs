//! `cargo +nightly fuzz run citizen_id` (from domain/): any string either parses
//! into an ID whose normalised form re-parses identically, or is refused; never panics.
#![no_main]

use chrono::NaiveDate;
use ecard_domain::citizen_id::{with_check_digit, CitizenId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Some(today) = NaiveDate::from_ymd_opt(2026, 6, 1) else {
        return;
    };
    if let Ok(id) = CitizenId::parse(s, today) {
        let again = CitizenId::parse(id.as_str(), today);
        assert_eq!(again.as_ref(), Ok(&id));
        assert_eq!(with_check_digit(&id.as_str()[..17]).ok().as_deref(), Some(id.as_str()));
    }
    let _ = with_check_digit(s);
});
