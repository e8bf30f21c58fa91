//! Any text a QR code or a keyboard-wedge scanner hands over: a verdict, never a
//! panic, and never "genuine" without a known signer.
#![no_main]

use card_profile::pki::TrustList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let today = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default();
        let verdict = card_seal::check(text, &TrustList::default(), &[], today);
        assert!(!matches!(verdict, card_seal::Verdict::Genuine { .. }));
        // What the registry's public check looks signers up by (GET /public/v1/check).
        let _ = card_seal::named_kid(text);
        if let Some(body) = text.strip_prefix(card_seal::PREFIX) {
            let _ = card_seal::cose::Sign1::from_cbor(body.as_bytes());
            let _ = card_seal::SealPayload::from_cbor(body.as_bytes());
        }
    }
});
