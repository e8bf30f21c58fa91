//! Verdict first: the verdict is answered before the photo is read, and a photo that fails (read error, tampering) never holds back or fakes the verdict.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::{Method, StatusCode};
use card_profile::profile::FileId;
use serde_json::{json, Value};
use support::*;

/// The photo check of a verdict view (`check` = file_hash, `file` = Photo).
fn photo_check(v: &Value) -> Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "file_hash" && c["file"] == "Photo")
        .cloned()
        .unwrap_or_else(|| panic!("no photo check in {v}"))
}

#[tokio::test]
async fn the_verdict_arrives_without_the_photo_and_the_photo_after_it() {
    let a = api();
    let inspector = a.login("jiancha").await;
    let master = a.demo.station.keys().unwrap().master.clone();
    let card = written_card(&a, [0xC1; 8], &master, |_| {});
    let photo_file = card.file(FileId::Photo).to_vec();
    a.demo.sim.insert_card(R1, card).unwrap();

    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["standing"], "valid", "{v}");
    assert!(v["photo"].is_null(), "the verdict carries no photo: {v}");
    assert_eq!(photo_check(&v)["outcome"], "pending", "{v}");
    let id = v["photo_id"].as_str().unwrap().to_owned();
    assert_eq!(v["photo_url"], format!("/api/v1/verify/{id}/photo"));

    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{id}/photo"),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["check"]["outcome"], "passed", "{p}");
    assert_eq!(p["standing"], "valid");
    let jpeg = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        p["photo"]
            .as_str()
            .unwrap()
            .strip_prefix("data:image/jpeg;base64,")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        jpeg,
        card_profile::records::photo_from_tlv(&photo_file).unwrap(),
        "the card's own photo"
    );
    // Asked again, the same answer; an unknown id is not found.
    let (s, again) = a
        .call(
            Method::GET,
            &format!("/verify/{id}/photo"),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!((s, &again), (StatusCode::OK, &p));
    let (s, _) = a
        .call(
            Method::GET,
            "/verify/00000000000000000000000000000000/photo",
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// The verdict does not wait for the photo: a card pulled while its photo is read
/// (the 9th APDU; the verdict takes 8) still gets its verdict, and the photo's
/// route reports the removal.
#[tokio::test]
async fn a_photo_read_that_fails_does_not_hold_back_the_verdict() {
    let a = api();
    let inspector = a.login("jiancha").await;
    let master = a.demo.station.keys().unwrap().master.clone();
    a.demo
        .sim
        .insert_card(R1, written_card(&a, [0xC2; 8], &master, |_| {}))
        .unwrap();
    a.demo.sim.tear_next(R1, 8).unwrap();
    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["standing"], "valid", "{v}");
    assert_eq!(v["apdus"], 8, "{v}");
    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{}/photo", v["photo_id"].as_str().unwrap()),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("card_removed")),
        "{p}"
    );
}

/// A photo whose bytes do not match the security object's hash is reported and
/// never shown: the verdict said valid with the photo pending; the photo's answer
/// has no photo, a failed check naming the photo, and the standing invalid.
#[tokio::test]
async fn a_tampered_photo_is_reported_and_never_shown() {
    let a = api();
    let inspector = a.login("jiancha").await;
    let master = a.demo.station.keys().unwrap().master.clone();
    let card = written_card(&a, [0xC3; 8], &master, |s| {
        let photo = s.files.get_mut(&FileId::Photo).unwrap();
        let last = photo.len() - 1;
        photo[last] ^= 0xFF;
    });
    a.demo.sim.insert_card(R1, card).unwrap();
    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(photo_check(&v)["outcome"], "pending", "{v}");
    assert!(v["photo"].is_null());
    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{}/photo", v["photo_id"].as_str().unwrap()),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert!(
        p["photo"].is_null(),
        "a tampered photo is never handed out: {p}"
    );
    assert_eq!(p["check"]["outcome"], "failed", "{p}");
    assert_eq!(p["check"]["findings"][0]["kind"], "hash_mismatch", "{p}");
    assert_eq!(p["standing"], "invalid", "{p}");
}
