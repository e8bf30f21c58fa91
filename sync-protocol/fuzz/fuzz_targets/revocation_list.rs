//! The revocation-list body parser (behind the signature check) and the index built
//! from what it accepts: a full list from the first half of the input, a delta from
//! the second. Nothing may panic, and every accepted key must be found afterwards.
#![no_main]

use ecard_sync_protocol::index::RevocationIndex;
use ecard_sync_protocol::revocation::{EntryKind, ListKind, RevocationList};
use libfuzzer_sys::fuzz_target;

fn check(index: &RevocationIndex, list: &RevocationList) {
    for e in &list.entries {
        match e.kind {
            EntryKind::Serial => {
                let mut s = [0u8; 8];
                if hex::decode_to_slice(&e.value, &mut s).is_ok() {
                    assert!(index.is_serial_revoked(&s));
                }
            }
            EntryKind::Number => assert!(index.is_number_revoked(&e.value)),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mid = data.len() / 2;
    let (a, b) = data.split_at(mid);
    let Ok(full) = RevocationList::decode_verified_body(a) else {
        let _ = RevocationList::decode_verified_body(data);
        return;
    };
    if full.kind != ListKind::Full {
        assert!(RevocationIndex::from_full(&full).is_err());
        return;
    }
    let Ok(mut index) = RevocationIndex::from_full(&full) else {
        return;
    };
    check(&index, &full);
    if let Ok(delta) = RevocationList::decode_verified_body(b) {
        if index.apply_delta(&delta).is_ok() {
            check(&index, &full);
            check(&index, &delta);
            assert_eq!(index.number(), delta.number);
        }
    }
});
