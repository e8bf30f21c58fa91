//! The card face and its seal at the station (issue #16): a written card's face as
//! PDF, its QR read back from the rendered page by zbarimg (a decoder that is not
//! ours) and typed into `POST /seal/check` as a USB scanner would; what cannot be
//! printed is refused with its code.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use support::*;

async fn face(a: &Api, cookie: &str, cert: i64) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    let req = Request::get(format!("/api/v1/certificates/{cert}/face.pdf"))
        .header("x-requested-with", "ecard")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    a.raw(req).await
}

fn scan_back_page(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("face.pdf");
    std::fs::write(&path, pdf).unwrap();
    ecard_test_support::cups::read_back::qr(&path, 2).expect("zbarimg reads the back's QR")
}

#[tokio::test]
async fn a_written_cards_face_carries_a_seal_the_verify_page_confirms() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let inspector = a.login("jiancha").await;
    let cert = a.demo.approved[0];

    // No card yet: nothing to print.
    let (s, _, body) = face(&a, &issuer, cert).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let err: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(err["code"], "no_live_card", "{err}");

    a.insert_blank(&issuer, R1).await;
    let (s, issued) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": cert, "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let serial = issued["serial"].as_str().unwrap().to_owned();

    // An inspector does not print faces.
    let (s, _, _) = face(&a, &inspector, cert).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, headers, pdf) = face(&a, &issuer, cert).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = scan_back_page(&pdf);
    assert!(text.starts_with("EC1:"), "{text}");

    let (s, v) = a
        .call(
            Method::POST,
            "/seal/check",
            Some(&inspector),
            Some(json!({ "text": text })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["verdict"], "genuine", "{v}");
    assert_eq!(v["verdict_label"], "真实");
    assert_eq!(v["validity"], "valid");
    assert_eq!(v["printed"]["card_serial"], serial.as_str());
    assert!(v["note"].as_str().unwrap().contains("登记中心"), "{v}");

    // One character changed: forged. Another QR code: not a seal.
    let mut changed = text.clone();
    let last = changed.pop().unwrap();
    changed.push(if last == '0' { '1' } else { '0' });
    let (_, v) = a
        .call(
            Method::POST,
            "/seal/check",
            Some(&inspector),
            Some(json!({ "text": changed })),
        )
        .await;
    assert_eq!(v["verdict"], "forged", "{v}");
    assert_eq!(v["verdict_label"], "伪造");
    assert!(v["printed"].is_null());
    let (_, v) = a
        .call(
            Method::POST,
            "/seal/check",
            Some(&inspector),
            Some(json!({ "text": "https://example.org/" })),
        )
        .await;
    assert_eq!(v["verdict"], "not_a_seal", "{v}");

    // A body too long or of the wrong shape: {code, message}.
    let (s, v) = a
        .call(
            Method::POST,
            "/seal/check",
            Some(&inspector),
            Some(json!({ "text": "A".repeat(3000) })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("seal_too_long"))
    );
    let (s, v) = a
        .call(
            Method::POST,
            "/seal/check",
            Some(&inspector),
            Some(json!({ "txt": "x" })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
}
