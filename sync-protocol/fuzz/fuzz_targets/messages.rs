//! Every decoder of bytes a registry or a station receives: event batches (and each
//! event's payload), acknowledgements, feed pages, signed-list envelopes, the
//! request-authentication headers. None may panic; what decodes must hold the
//! invariants the other side relies on.
#![no_main]

use ecard_sync_protocol::events::{EventAck, EventBatch};
use ecard_sync_protocol::feed::FeedPage;
use ecard_sync_protocol::revocation::SignedRevocationList;
use ecard_sync_protocol::signing::RequestAuth;
use libfuzzer_sys::fuzz_target;

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
    let _ = SignedRevocationList::decode(data);
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
