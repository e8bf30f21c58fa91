//! Printing a card face through a real CUPS (issue #16, docs/CARD-FACE.md
//! "Printing"): the test starts its own `cupsd` with a `cups-pdf` queue
//! (ecard_test_support::cups), the admin chooses that queue in 设置 through the API,
//! a clerk prints a written card's face, and the PDF that comes out of cups-pdf is
//! read back with poppler and zbar: the page is CR80, the text is there, the QR
//! decodes and the station's seal check says genuine.
//!
//! cups-pdf re-renders the job (pdftopdf → pdftops → ghostscript): the page comes
//! out as 153 × 243 pt rotated by 90°, i.e. the card's 242.65 × 153.07 pt as
//! displayed; with the queue's `pdftops-renderer-default=pdftocairo` the words stay
//! text, though split into pieces (the certificate number's characters come out
//! apart, so it is not asserted from the text — the seal carries it).
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::{Method, StatusCode};
use ecard_test_support::cups::{read_back, CupsServer};
use serde_json::json;
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_face_printed_through_cups_comes_out_as_the_card_with_a_genuine_seal() {
    let Some(cups) = CupsServer::start() else {
        return;
    };
    let address = cups.address();
    let a = api_with(|c| c.cups_server = Some(address.clone()));
    let admin = a.login("guanli").await;
    let issuer = a.login("zhizheng").await;
    let inspector = a.login("jiancha").await;
    let cert = a.demo.approved[0];

    // Only the admin sees and changes the printing settings.
    let (s, _) = a
        .call(Method::GET, "/settings/printing", Some(&issuer), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, view) = a
        .call(Method::GET, "/settings/printing", Some(&admin), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{view}");
    assert_eq!(view["queue"], json!(null));
    assert_eq!(view["queues"], json!([cups.queue()]), "{view}");
    assert_eq!(view["queues_error"], json!(null));

    // Written card, no queue chosen yet: a clear refusal.
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
    let print = format!("/certificates/{cert}/print");
    let (s, err) = a.call(Method::POST, &print, Some(&issuer), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["code"], "print_no_queue");

    // A name CUPS would not take, a reader paired twice: refused, nothing stored.
    for (body, code) in [
        (json!({ "queue": "-d evil" }), "print_bad_queue_name"),
        (
            json!({ "queue": cups.queue(), "pairings": [
                { "reader": R1, "queue": cups.queue(), "order": "encode_first" },
                { "reader": R1, "queue": cups.queue(), "order": "print_first" }] }),
            "invalid_request",
        ),
    ] {
        let (s, err) = a
            .call(Method::PUT, "/settings/printing", Some(&admin), Some(body))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["code"], code, "{err}");
    }
    assert_eq!(a.count("SELECT COUNT(*) FROM printer_pairings"), 0);

    let (s, view) = a
        .call(
            Method::PUT,
            "/settings/printing",
            Some(&admin),
            Some(json!({ "queue": cups.queue(), "pairings": [
                { "reader": R1, "queue": cups.queue(), "order": "encode_first" }] })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{view}");
    assert_eq!(view["queue"], cups.queue());
    assert_eq!(view["pairings"][0]["reader"], R1);
    assert_eq!(view["pairings"][0]["order"], "encode_first");
    assert_eq!(view["pairings"][0]["order_label"], "先写芯片后打印");
    assert_eq!(
        a.count("SELECT COUNT(*) FROM audit_log WHERE action = 'printing.changed'"),
        1
    );

    // The clerk prints; CUPS accepts and cups-pdf writes the page.
    let (s, printed) = a.call(Method::POST, &print, Some(&issuer), None).await;
    assert_eq!(s, StatusCode::OK, "{printed}");
    let job = printed["print_job"].as_str().unwrap();
    assert!(job.starts_with(&format!("{}-", cups.queue())), "{printed}");
    let files = cups.wait_printed(1, Duration::from_secs(60));
    let pdf = &files[0];

    let (pages, w, h) = read_back::pages_and_size(pdf);
    assert_eq!(pages, 2, "front and back");
    assert!(
        (w - 242.65).abs() < 1.0 && (h - 153.07).abs() < 1.0,
        "{w} x {h}"
    );
    let text = read_back::text(pdf);
    let number = issued["number"].as_str().unwrap();
    for words in ["行政执法证", "执法单位", "执法岗位", "扫码核验", "有效期"] {
        assert!(text.contains(words), "{words} not in {text}");
    }
    let seal = read_back::qr(pdf, 2).expect("the QR decodes from the printed page");
    let (s, check) = a
        .call(
            Method::POST,
            "/seal/check",
            Some(&inspector),
            Some(json!({ "text": seal })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{check}");
    assert_eq!(check["verdict"], "genuine", "{check}");
    assert_eq!(check["printed"]["number"], number);
    assert_eq!(check["printed"]["card_serial"], issued["serial"]);
    // The words on the page are the card's (the name and unit as the seal has them).
    for field in ["name", "unit"] {
        let words = check["printed"][field].as_str().unwrap();
        assert!(text.contains(words), "{words} not in {text}");
    }
    // Never the citizen ID number (an 18-character run of digits).
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        assert!(run < 17, "an ID-like number is printed: {text}");
    }
    assert_eq!(
        a.count("SELECT COUNT(*) FROM audit_log WHERE action = 'face.printed'"),
        1
    );

    // A queue that CUPS does not have: the clerk is told so.
    let (s, _) = a
        .call(
            Method::PUT,
            "/settings/printing",
            Some(&admin),
            Some(json!({ "queue": "no-such-printer" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, err) = a.call(Method::POST, &print, Some(&issuer), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["code"], "print_unknown_queue", "{err}");
}

#[tokio::test]
async fn a_cups_server_that_is_not_there_is_a_clear_error_not_a_hang() {
    let a = api_with(|c| c.cups_server = Some("/nonexistent/ecard-cups.sock".into()));
    let admin = a.login("guanli").await;
    let (s, view) = a
        .call(Method::GET, "/settings/printing", Some(&admin), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{view}");
    if ecard_test_support::cups::unavailable().is_none() {
        assert_eq!(
            view["queues_error"]["code"], "print_server_unreachable",
            "{view}"
        );
    }
    // A print-and-encode batch at a reader not paired with a printer is refused.
    let issuer = a.login("zhizheng").await;
    let (s, err) = a
        .call(
            Method::POST,
            "/batches",
            Some(&issuer),
            Some(
                json!({ "certificate_ids": [a.demo.approved[0]], "readers": [R1],
                         "print_encode": true }),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["code"], "reader_not_paired", "{err}");
}

/// Print-and-encode at the demo's simulated encoder, encode first: with the
/// station's own root taken off its trust list, the written card fails its
/// verification and is spoiled (serial voided, 废卡, nothing printed, the
/// certificate queued again); with the root back, the next blank card is issued
/// and only its face comes out of the printer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_failing_its_verification_at_the_encoder_is_spoiled_and_not_printed() {
    let Some(cups) = CupsServer::start() else {
        return;
    };
    let address = cups.address();
    let a = api_with(|c| c.cups_server = Some(address.clone()));
    let admin = a.login("guanli").await;
    let issuer = a.login("zhizheng").await;
    let cert = a.demo.approved[1];
    let (s, _) = a
        .call(
            Method::PUT,
            "/settings/printing",
            Some(&admin),
            Some(json!({ "pairings": [
                { "reader": R1, "queue": cups.queue(), "order": "encode_first" }] })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let station = &a.demo.station;
    // The demo's trust list is the process's (not stored): set it as a sync would.
    let trust = station.trust_list();
    let mut without_root = trust.clone();
    without_root.anchors.clear();
    station.set_trust_list(without_root);

    let (s, started) = a
        .call(
            Method::POST,
            "/batches",
            Some(&issuer),
            Some(json!({ "certificate_ids": [cert], "readers": [R1], "print_encode": true })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    let batch = started["batch_id"].as_i64().unwrap();
    let path = format!("/batches/{batch}");
    a.insert_blank(&issuer, R1).await;
    let view = wait_batch(&a, &issuer, &path, |b| b["spoiled"] == 1).await;
    assert_eq!(view["print_encode"], true);
    let spoiled = &view["jobs"][0];
    assert_eq!(spoiled["spoiled"], true, "{view}");
    assert_eq!(spoiled["state"], "failed");
    assert_eq!(spoiled["face_print"], json!(null), "never printed");
    assert!(
        spoiled["error"]
            .as_str()
            .unwrap()
            .starts_with("verification_failed."),
        "{spoiled}"
    );
    let serial = spoiled["card_serial"].as_str().unwrap().to_owned();
    assert_eq!(
        a.count(&format!(
            "SELECT COUNT(*) FROM revocations WHERE serial = '{serial}' \
             AND reason = 'card_voided.verification_failed'"
        )),
        1
    );
    assert_eq!(view["jobs"][1]["certificate_id"], cert, "queued again");
    assert_eq!(view["jobs"][1]["state"], "queued");

    // The spoiled card leaves the printer; the root is back; the next card.
    let (s, _) = a
        .call(
            Method::POST,
            &format!("/demo/readers/{}/eject", enc(R1)),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    station.set_trust_list(trust);
    a.insert_blank(&issuer, R1).await;
    let view = wait_batch(&a, &issuer, &path, |b| {
        b["done"] == 1 && !b["jobs"][1]["face_print"].is_null()
    })
    .await;
    assert_eq!(
        (view["spoiled"].clone(), view["failed"].clone()),
        (json!(1), json!(0))
    );
    let issued = &view["jobs"][1];
    assert_eq!(issued["state"], "verified", "{view}");
    let files = cups.wait_printed(1, Duration::from_secs(60));
    assert_eq!(files.len(), 1, "only the issued card's face: {files:?}");
    let seal = read_back::qr(&files[0], 2).expect("QR");
    let check = station.check_seal(&seal);
    assert_eq!(check.verdict, "genuine");
    assert_eq!(
        check.printed.unwrap().card_serial,
        issued["card_serial"].as_str().unwrap()
    );
    assert!(!check.card_voided);
}

async fn wait_batch(
    a: &Api,
    cookie: &str,
    path: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (s, view) = a.call(Method::GET, path, Some(cookie), None).await;
        assert_eq!(s, StatusCode::OK, "{view}");
        if done(&view) {
            return view;
        }
        assert!(std::time::Instant::now() < deadline, "batch stuck: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
