//! A photo that arrives in an issuance order from the registry is checked as a JPEG
//! before the station stores it (and so before the web UI serves it or a card
//! carries it): an order whose photo is not one is refused with an audit row, and
//! the feed goes on. A real registry process; the hostile orders are written into
//! its database and reach the station signed, as a registry admin with the
//! registry's machine could send them.
#![allow(clippy::unwrap_used)]

mod registry_support;

use base64::Engine;
use ecard_sync_protocol::feed::{FeedBody, IssuanceOrder};
use registry_support::*;

fn inject_order(registry: &Registry, order: IssuanceOrder) {
    let c = rusqlite::Connection::open(registry.db()).unwrap();
    c.execute(
        "INSERT INTO feed (kind, region, origin, body_json, created_at) VALUES ('issuance_order', NULL, NULL, ?1, '2026-11-23T00:00:00.000Z')",
        [serde_json::to_string(&FeedBody::IssuanceOrder(Box::new(order))).unwrap()],
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_photo_is_not_a_jpeg_is_refused_and_the_feed_goes_on() {
    let (registry, pki, desk) = setup(0x5B00_0000_0000_0301);
    let b = station("station-b", &pki, &desk, &registry, false).await;
    let officers = card_profile::demo::officers(today());
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let good = &officers[0].photo_jpeg;
    let mut truncated = good.clone();
    truncated.truncate(good.len() / 3);
    // A JPEG header declaring 60000×60000 pixels (a decoder would allocate 10 GiB).
    let mut huge = good.clone();
    let sof = huge
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline JPEG");
    huge[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    let photos = [
        Some(b64(
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        )),
        Some(b64(&truncated)),
        Some(b64(&huge)),
        Some("not base64 at all!".to_owned()),
        Some(b64(good)),
    ];
    for (i, (officer, photo)) in officers.iter().zip(photos).enumerate() {
        inject_order(
            &registry,
            IssuanceOrder {
                order_id: format!("hostile-{i}"),
                application_id: 9000 + i as i64,
                holder: officer.holder.clone(),
                certificate: officer.certificate.clone(),
                photo_jpeg: photo,
                follows: None,
            },
        );
    }
    let report = round_process(&b).unwrap();
    assert_eq!(report["orders"], 1, "{report}");
    assert_eq!(report["orders_refused"], 4, "{report}");
    let count = |sql: &str| -> i64 {
        b.station
            .store
            .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM certificates"),
        1,
        "only the good order"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM officers"),
        1,
        "no refused holder stored"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'order.photo_refused'"),
        4
    );
    let number: String = b
        .station
        .store
        .read(|c| Ok(c.query_row("SELECT number FROM certificates", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(number, officers[4].certificate.number.as_str());
    // The feed went on past the refused items.
    let again = round_process(&b).unwrap();
    assert_eq!(again["orders"], 0, "{again}");
}

/// An application filed at the registry's pages carries the filing photo (up to the
/// province's limit), far more than EF.PHOTO holds: the station makes it fit the
/// chip when the order arrives, as it does for an imported roster's photos, so that
/// its card can be written; a photo that already fits is kept byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filing_photo_too_large_for_the_chip_is_made_to_fit_when_the_order_arrives() {
    let (registry, pki, desk) = setup(0x5B00_0000_0000_0302);
    let b = station("station-b", &pki, &desk, &registry, false).await;
    let officers = card_profile::demo::officers(today());
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let filed = ecard_domain::photo::synthetic::portrait_jpeg(480, 560, 12, 80, 11);
    assert!(filed.len() > ecard_domain::photo::CHIP_PHOTO_MAX_BYTES);
    let small = officers[1].photo_jpeg.clone();
    assert!(small.len() <= ecard_domain::photo::CHIP_PHOTO_MAX_BYTES);
    for (i, photo) in [&filed, &small].into_iter().enumerate() {
        inject_order(
            &registry,
            IssuanceOrder {
                order_id: format!("filed-{i}"),
                application_id: 9100 + i as i64,
                holder: officers[i].holder.clone(),
                certificate: officers[i].certificate.clone(),
                photo_jpeg: Some(b64(photo)),
                follows: None,
            },
        );
    }
    let report = round_process(&b).unwrap();
    assert_eq!(report["orders"], 2, "{report}");
    let stored = |id_number: &str| -> Vec<u8> {
        let id_number = id_number.to_owned();
        b.station
            .store
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT photo_jpeg FROM officers WHERE id_number = ?1",
                    [id_number],
                    |r| r.get(0),
                )?)
            })
            .unwrap()
    };
    let chip = stored(officers[0].holder.id_number.as_str());
    assert!(
        chip.len() <= ecard_domain::photo::CHIP_PHOTO_MAX_BYTES
            && ecard_domain::photo::is_jpeg(&chip),
        "{} bytes",
        chip.len()
    );
    assert_eq!(stored(officers[1].holder.id_number.as_str()), small);
}
