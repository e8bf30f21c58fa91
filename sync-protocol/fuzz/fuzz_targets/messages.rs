//! Every decoder of bytes a registry or a station receives: event batches (and each
//! event's payload), acknowledgements, feed pages, signed-list envelopes, the
//! request-authentication headers. None may panic; what decodes must hold the
//! invariants the other side relies on.
#![no_main]

use ecard_sync_protocol::events::{EventAck, EventBatch};
use ecard_sync_protocol::feed::{FeedPage, SignedFeedPage};
use ecard_sync_protocol::revocation::SignedRevocationList;
use ecard_sync_protocol::signing::RequestAuth;
use ecard_sync_protocol::trust::{NumberedTrustList, SignedTrustList};
use libfuzzer_sys::fuzz_target;

/// The uncompressed P-256 base point.
const P256_G: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4,
    0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8,
    0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a,
    0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40,
    0x68, 0x37, 0xbf, 0x51, 0xf5,
];

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = EventBatch::decode(data) {
        for w in batch.events.windows(2) {
            assert_eq!(w[1].seq, w[0].seq + 1);
        }
        for e in &batch.events {
            assert!(e.seq >= 1);
            if let Ok(body) = e.body() {
                // A decoded payload re-encodes to one that decodes the same.
                let again =
                    ecard_sync_protocol::events::EventBody::decode(body.kind(), &body.payload());
                assert_eq!(again.ok(), Some(body));
            }
        }
    }
    let _ = EventAck::decode(data);
    if let Ok(page) = FeedPage::decode(data) {
        for w in page.items.windows(2) {
            assert!(w[0].cursor < w[1].cursor);
        }
        assert!(page.items.iter().all(|i| i.cursor <= page.next_cursor));
    }
    // A signed page from the wire never verifies under a key it was not signed
    // with (the fixed point below is the P-256 generator: nobody's registry key).
    if let Ok(signed) = SignedFeedPage::decode(data) {
        assert!(signed.verify(&P256_G, "s", 0).is_err());
    }
    let _ = SignedRevocationList::decode(data);
    let _ = SignedTrustList::decode(data);
    let _ = NumberedTrustList::decode_verified_body(data);
    // Headers: split the input on newlines into the four header values.
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let vals: Vec<&str> = (0..4).map(|_| parts.next().unwrap_or("")).collect();
    let names = [
        "x-ecard-station",
        "x-ecard-timestamp",
        "x-ecard-nonce",
        "x-ecard-signature",
    ];
    if let Ok(auth) =
        RequestAuth::from_headers(|n| names.iter().position(|x| *x == n).map(|i| vals[i]))
    {
        assert!(auth.timestamp >= 0);
        assert_eq!(auth.nonce.len(), 32);
    }
});
