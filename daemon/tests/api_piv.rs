//! A PIV card through the API of the demo station, the operator never choosing the
//! family: a factory-blank PIV card put in a simulated reader is issued, verified
//! (有效, family `piv`, the photo not read because the standard keeps it behind the
//! holder's PIN — a warning, never a failure), taken out to the tray and put back by
//! the serial its CHUID carries, reviewed, cancelled and verified 已注销; a native
//! card verified in the same reader afterwards reads as `native`.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

/// The photo check of a verdict or photo view (`check` = file_hash, `file` = Photo).
fn photo_check(v: &Value) -> Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "file_hash" && c["file"] == "Photo")
        .cloned()
        .unwrap_or_else(|| panic!("no photo check in {v}"))
}

async fn verify(a: &Api, cookie: &str) -> Value {
    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(cookie),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn photo_of(a: &Api, cookie: &str, v: &Value) -> Value {
    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{}/photo", v["photo_id"].as_str().unwrap()),
            Some(cookie),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    p
}

async fn tray(a: &Api, cookie: &str) -> Vec<Value> {
    let (s, t) = a.call(Method::GET, "/demo/tray", Some(cookie), None).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t.as_array().unwrap().clone()
}

async fn eject(a: &Api, cookie: &str) -> Value {
    let (s, out) = a
        .call(
            Method::POST,
            &format!("/demo/readers/{}/eject", enc(R1)),
            Some(cookie),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{out}");
    out["serial"].clone()
}

#[tokio::test]
async fn a_blank_piv_card_is_issued_verified_reviewed_and_cancelled_through_the_api() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let reviewer = a.login("nianshen").await;
    let inspector = a.login("jiancha").await;
    let cert = a.demo.approved[0];

    // A blank PIV card as a bureau buys it: it has no ecard serial yet.
    let (s, put) = a
        .call(
            Method::POST,
            &format!("/demo/readers/{}/insert-blank-piv", enc(R1)),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{put}");
    assert!(put["serial"].is_null(), "{put}");

    // The same request as for a native blank: the station finds the family itself.
    let (s, issued) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": cert, "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    assert_eq!(issued["family"], "piv", "{issued}");
    assert_eq!(issued["family_label"], "PIV 标准卡", "{issued}");
    assert_eq!(issued["standing"], "valid", "{issued}");
    let serial = issued["serial"].as_str().unwrap().to_owned();
    assert_eq!(serial.len(), 16, "{issued}");

    // The records keep which kind of card it is (schema V13).
    let (s, record) = a
        .call(
            Method::GET,
            &format!("/certificates/{cert}"),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{record}");
    assert_eq!(record["cards"][0]["serial"], serial.as_str(), "{record}");
    assert_eq!(record["cards"][0]["family"], "piv", "{record}");

    let v = verify(&a, &inspector).await;
    assert_eq!(v["family"], "piv", "{v}");
    assert_eq!(v["family_label"], "PIV 标准卡", "{v}");
    assert_eq!(v["standing"], "valid", "{v}");
    assert_eq!(v["standing_label"], "有效", "{v}");
    assert_eq!(v["serial"], serial.as_str(), "{v}");
    assert_eq!(v["record"]["certificate_id"], cert, "{v}");
    assert_eq!(photo_check(&v)["outcome"], "pending", "{v}");
    // Every check but the photo's passed: the family changes where the data lives,
    // not what is checked.
    for c in v["checks"].as_array().unwrap() {
        if c["file"] != "Photo" {
            assert_eq!(c["outcome"], "passed", "{c} in {v}");
        }
    }

    // The photo: not read (the holder's PIN guards it), a warning and no photo; the
    // standing stays 有效.
    let p = photo_of(&a, &inspector, &v).await;
    assert!(p["photo"].is_null(), "{p}");
    assert_eq!(p["standing"], "valid", "{p}");
    let check = &p["check"];
    assert_eq!(
        (check["check"].as_str(), check["file"].as_str()),
        (Some("file_hash"), Some("Photo")),
        "{p}"
    );
    assert_eq!(check["outcome"], "warning", "{p}");
    assert_ne!(check["outcome"], "failed", "{p}");
    assert_eq!(check["findings"][0]["kind"], "photo_needs_pin", "{p}");
    assert_eq!(
        check["findings"][0]["message"], "PIV 标准卡的照片须持证人输入 PIN 后读取，本次未核对照片",
        "{p}"
    );

    // Out to the tray, listed by the serial its CHUID carries and as a PIV card
    // written; put back by that serial, it verifies as before.
    assert_eq!(eject(&a, &issuer).await, serial.as_str());
    let on_tray = tray(&a, &issuer).await;
    let listed = on_tray
        .iter()
        .find(|t| t["serial"] == serial.as_str())
        .unwrap_or_else(|| panic!("{serial} not on the tray: {on_tray:?}"));
    assert_eq!(listed["family"], "piv", "{listed}");
    assert_eq!(listed["family_label"], "PIV 标准卡", "{listed}");
    assert_eq!(listed["life_cycle"], "已制证", "{listed}");
    let (s, back) = a
        .call(
            Method::POST,
            &format!("/demo/readers/{}/insert", enc(R1)),
            Some(&issuer),
            Some(json!({ "serial": serial })),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{back}");
    assert!(tray(&a, &issuer).await.is_empty());
    let v = verify(&a, &inspector).await;
    assert_eq!(
        (v["family"].as_str(), v["standing"].as_str()),
        (Some("piv"), Some("valid")),
        "{v}"
    );
    assert_eq!(v["serial"], serial.as_str());

    // The annual review is written onto the PIV card, and the verdict counts it
    // from the card.
    let (s, r) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": cert, "result": "passed", "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["written_to"], serial.as_str(), "{r}");
    let v = verify(&a, &inspector).await;
    assert_eq!(v["reviews"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["standing"], "valid", "{v}");

    // Cancelled with the card in the reader: the PIV card says so to a verifier.
    let (s, c) = a
        .call(
            Method::POST,
            &format!("/certificates/{cert}/status"),
            Some(&issuer),
            Some(json!({ "kind": "cancel", "reason": "调离执法岗位", "destination": "调往档案馆", "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["written_to"], serial.as_str(), "{c}");
    let v = verify(&a, &inspector).await;
    assert_eq!(v["family"], "piv", "{v}");
    assert_eq!(v["standing_label"], "已注销", "{v}");

    // The next card in the same reader is a native one, and reads as such.
    eject(&a, &issuer).await;
    a.insert_blank(&issuer, R1).await;
    let (s, issued) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": a.demo.approved[1], "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    assert_eq!(issued["family"], "native", "{issued}");
    let v = verify(&a, &inspector).await;
    assert_eq!(v["family"], "native", "{v}");
    assert_eq!(v["family_label"], "本系统卡", "{v}");
    assert_eq!(v["standing"], "valid", "{v}");
    let p = photo_of(&a, &inspector, &v).await;
    assert_eq!(p["check"]["outcome"], "passed", "{p}");
    assert!(p["photo"].is_string(), "{p}");
}

/// Two blank PIV cards on the tray stay two (before issue a PIV card has no ecard
/// serial; the tray keys it by its vendor serial), each listed as a blank PIV card,
/// and each goes back into a reader.
#[tokio::test]
async fn blank_piv_cards_on_the_tray_are_listed_and_put_back() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let mut serials = Vec::new();
    for _ in 0..2 {
        let (s, _) = a
            .call(
                Method::POST,
                &format!("/demo/readers/{}/insert-blank-piv", enc(R1)),
                Some(&issuer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let serial = eject(&a, &issuer).await;
        serials.push(serial.as_str().unwrap().to_owned());
    }
    assert_ne!(serials[0], serials[1]);
    let on_tray = tray(&a, &issuer).await;
    assert_eq!(on_tray.len(), 2, "{on_tray:?}");
    for t in &on_tray {
        assert_eq!(t["family"], "piv", "{t}");
        assert_eq!(t["family_label"], "PIV 标准卡", "{t}");
        assert_eq!(t["life_cycle"], "空白卡", "{t}");
    }
    let (s, _) = a
        .call(
            Method::POST,
            &format!("/demo/readers/{}/insert", enc(R1)),
            Some(&issuer),
            Some(json!({ "serial": serials[1] })),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let left = tray(&a, &issuer).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["serial"], serials[0].as_str());
    // The blank put back is written like any other.
    let (s, issued) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": a.demo.approved[0], "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    assert_eq!(issued["family"], "piv", "{issued}");
}
