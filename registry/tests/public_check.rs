//! `GET /public/v1/check` against the real registry process (issue #16): a card
//! face's seal is the question; the registry verifies it with the trust list it
//! carries and the document signers it learnt from the cards stations reported,
//! then says the certificate's state now — 有效 / 已暂停 / 已注销 / 不存在 — with
//! nothing personal. A forged or unknown seal gets a refusal, never a status; the
//! answers are readable by any page (CORS `*`, no cookies); a client asking too
//! fast gets 429 with Retry-After; an over-long query gets 400.
#![allow(clippy::unwrap_used)]

mod common;

use card_profile::pki::{DocumentSigner, RootKey, SigningKey};
use card_profile::sod::SecurityObject;
use card_seal::SealPayload;
use chrono::NaiveDate;
use common::{feed_of, test_day, test_number, Registry};
use ecard_domain::codes::CertificateKind;
use ecard_sync_protocol::client::{http_client, RegistryClient};
use ecard_sync_protocol::events::{EventBody, StationEvent};
use ecard_sync_protocol::feed::FeedBody;
use ecard_sync_protocol::trust::NumberedTrustList;
use reqwest::Method;
use serde_json::{json, Value};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn root(name: &str) -> RootKey {
    RootKey {
        name: name.into(),
        key: SigningKey::generate().unwrap(),
        valid_from: d(2020, 1, 1),
        valid_until: d(2040, 1, 1),
    }
}

fn signer(root: &RootKey, bureau: &str) -> DocumentSigner {
    let key = SigningKey::generate().unwrap();
    let cert = root
        .issue_signer(bureau, &key.public_key(), d(2020, 1, 1), d(2036, 1, 1))
        .unwrap();
    DocumentSigner::new(key, cert).unwrap()
}

/// The cards were written in 2024: the 2025 review is due (and overdue without one).
fn issued_on() -> NaiveDate {
    d(2024, 3, 1)
}

fn serial(n: u64) -> [u8; 8] {
    (0x5EA1_0000_0000_0000u64 + n).to_be_bytes()
}

/// A `card_issued` event whose EF.SOD is really signed by `signer` (the registry
/// learns the signer from it).
fn issued(n: u64, seq: u64, signer: &DocumentSigner) -> StationEvent {
    let chip = SigningKey::generate().unwrap().public_key();
    let sod = SecurityObject::build(&serial(n), &chip, issued_on(), &[], signer).unwrap();
    let body = EventBody::decode(
        "card_issued",
        &json!({
            "number": test_number(n), "serial": hex::encode_upper(serial(n)),
            "chip_key": hex::encode(chip), "sod": hex::encode(sod),
            "issued_on": issued_on(), "id_number": "11010519850601002X",
        }),
    )
    .unwrap();
    StationEvent::new(
        format!("a-{seq:08}"),
        seq,
        &body,
        "2026-11-23T10:00:00.000Z",
    )
}

fn event(seq: u64, kind: &str, payload: Value) -> StationEvent {
    let body = EventBody::decode(kind, &payload).unwrap();
    StationEvent::new(
        format!("a-{seq:08}"),
        seq,
        &body,
        "2026-11-23T10:00:00.000Z",
    )
}

fn seal(n: u64, signer: &DocumentSigner, from: NaiveDate, until: NaiveDate) -> String {
    card_seal::issue(
        &SealPayload {
            number: test_number(n),
            name: "张三".into(),
            unit: "甲市交通运输局".into(),
            kind: CertificateKind::Enforcement,
            valid_from: from,
            valid_until: until,
            issued_on: test_day(),
            card_serial: serial(n),
            photo_hash: [7; 16],
        },
        signer,
    )
    .unwrap()
}

fn valid_seal(n: u64, signer: &DocumentSigner) -> String {
    seal(n, signer, d(2024, 1, 1), d(2029, 1, 1))
}

/// One public check: (status, headers, body). No token, no cookie.
async fn ask(reg: &Registry, query: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = http_client(&reg.url, reg.tls)
        .unwrap()
        .get(format!("{}/public/v1/check?{query}", reg.url))
        .header("origin", "http://127.0.0.1:1")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn seal_query(text: &str) -> String {
    // As the page sends it: encodeURIComponent (space → %20, `+` → %2B, …).
    let mut q = String::from("seal=");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            q.push(char::from(b));
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
    q
}

async fn publish_trust(reg: &Registry, root: &RootKey) {
    let signed = NumberedTrustList::new(1, card_profile::pki::TrustList::new(vec![root.anchor()]))
        .sign(&root.key)
        .unwrap();
    let (status, body) = reg
        .admin(Method::PUT, "/api/v1/admin/trust-list", json!(signed))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn push(client: &RegistryClient, events: Vec<StationEvent>) {
    let ack = client.push_events(events).await.unwrap();
    assert!(ack.refused.is_empty(), "{:?}", ack.refused);
}

#[tokio::test]
async fn the_public_check_says_each_state_and_nothing_for_a_forged_seal() {
    let reg = Registry::start();
    let province = root("演示省司法厅根证书");
    publish_trust(&reg, &province).await;
    let (a, _) = reg.enroll("station-a", Some("川X"));
    let (b, _) = reg.enroll("station-b", Some("川X"));
    let bureau = signer(&province, "甲市司法局");

    let mut evs: Vec<StationEvent> = (1..=5).map(|n| issued(n, n, &bureau)).collect();
    evs.push(event(6, "status_changed", json!({"number": test_number(2), "kind": "suspend", "reason": "调查", "effective_on": "2026-11-23", "new_number": null})));
    evs.push(event(7, "status_changed", json!({"number": test_number(3), "kind": "cancel", "reason": "调离执法岗位", "effective_on": "2026-11-23", "new_number": null})));
    evs.push(event(8, "review_recorded", json!({"number": test_number(4), "year": 2025, "date": "2026-03-01", "result": "passed", "remark": null})));
    push(&a, evs).await;

    // The signer reached the other station through the feed (not back to A).
    let page = feed_of(&b, 0, 100).await.unwrap();
    let learnt: Vec<_> = page
        .items
        .iter()
        .filter_map(|i| match &i.body {
            FeedBody::DocumentSigner(n) => Some(n.parse().unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(learnt, vec![bureau.certificate.clone()]);
    let page_a = feed_of(&a, 0, 100).await.unwrap();
    assert!(!page_a
        .items
        .iter()
        .any(|i| matches!(i.body, FeedBody::DocumentSigner(_))));

    // 有效, with the review standing: never reviewed (2025 overdue on 2026-11-23),
    // and reviewed for 2025.
    let (s, h, v) = ask(&reg, &seal_query(&valid_seal(1, &bureau))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["code"].as_str(), v["status"].as_str(), v["word"].as_str()),
        (Some("ok"), Some("valid"), Some("有效")),
        "{v}"
    );
    assert_eq!(v["number"], test_number(1));
    assert_eq!(v["review"]["standing"], "overdue", "{v}");
    assert!(v["reviewed_through"].is_null());
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h.get("set-cookie").is_none());
    assert!(h.get("access-control-allow-credentials").is_none());
    // Nothing personal beyond the QR: no name, unit, ID number or reason.
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in &keys {
        assert!(
            [
                "code",
                "status",
                "word",
                "number",
                "reviewed_through",
                "review",
                "checked_on"
            ]
            .contains(k),
            "unexpected field {k} in {v}"
        );
    }
    assert!(!v.to_string().contains("张三") && !v.to_string().contains("1101051985"));

    let (_, _, v) = ask(&reg, &seal_query(&valid_seal(4, &bureau))).await;
    assert_eq!(
        (v["status"].as_str(), v["reviewed_through"].as_i64()),
        (Some("valid"), Some(2025)),
        "{v}"
    );
    assert_eq!(v["review"]["standing"], "up_to_date", "{v}");
    assert_eq!(v["review"]["word"], "2025年度已年审");

    let (_, _, v) = ask(&reg, &seal_query(&valid_seal(2, &bureau))).await;
    assert_eq!(
        (v["status"].as_str(), v["word"].as_str()),
        (Some("suspended"), Some("已暂停")),
        "{v}"
    );
    assert!(v["review"].is_null());
    let (_, _, v) = ask(&reg, &seal_query(&valid_seal(3, &bureau))).await;
    assert_eq!(
        (v["status"].as_str(), v["word"].as_str()),
        (Some("cancelled"), Some("已注销")),
        "{v}"
    );

    // A genuine seal for a number the registry has never heard of.
    let (s, _, v) = ask(&reg, &seal_query(&valid_seal(9, &bureau))).await;
    assert_eq!(
        (s, v["status"].as_str(), v["word"].as_str()),
        (200, Some("not_found"), Some("不存在")),
        "{v}"
    );

    // The printed period is over: in force at the registry, but expired.
    let (_, _, v) = ask(
        &reg,
        &seal_query(&seal(5, &bureau, d(2021, 1, 1), d(2026, 1, 1))),
    )
    .await;
    assert_eq!(
        (v["status"].as_str(), v["word"].as_str()),
        (Some("expired"), Some("已过有效期")),
        "{v}"
    );

    // One character changed: a refusal with its code, no status, CORS still set.
    let good = valid_seal(3, &bureau);
    let mut changed = good.clone();
    let last = changed.pop().unwrap();
    changed.push(if last == '0' { '1' } else { '0' });
    let (s, h, v) = ask(&reg, &seal_query(&changed)).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("seal_forged")), "{v}");
    assert!(v["status"].is_null() && v["message"].is_string(), "{v}");
    assert_eq!(h["access-control-allow-origin"], "*");

    // Signed by a signer the registry never saw on a card, or under another root:
    // it cannot say, and says so.
    let unseen = signer(&province, "乙市司法局");
    let (s, _, v) = ask(&reg, &seal_query(&valid_seal(1, &unseen))).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("seal_unconfirmed")),
        "{v}"
    );

    // Not a seal; no seal; a query longer than any seal.
    let (s, _, v) = ask(&reg, "seal=https%3A%2F%2Fexample.org").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("not_a_seal")), "{v}");
    let (s, _, v) = ask(&reg, "number=1").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("bad_request")), "{v}");
    let (s, h, v) = ask(&reg, &format!("seal=EC1:{}", "A".repeat(2000))).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("query_too_long")),
        "{v}"
    );
    assert_eq!(h["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn a_client_asking_too_fast_gets_429_with_retry_after() {
    let reg = Registry::start();
    // Within the burst every answer is a real one; then the bucket is empty. The
    // loop's bound is far above the burst (20), so only a refill of a token every
    // 3 s between each request could keep it from ending in 429.
    let mut limited = None;
    for i in 0..200 {
        let (s, h, v) = ask(&reg, "seal=EC1:XYZ").await;
        if s == 429 {
            limited = Some((i, h, v));
            break;
        }
        assert_eq!(s, 422, "{v}");
    }
    let (i, h, v) = limited.expect("no 429 within 200 requests");
    assert!(i >= 20, "limited after {i} requests, before the burst");
    assert_eq!(v["code"], "rate_limited", "{v}");
    assert!(v["message"].as_str().unwrap().contains("秒后再试"), "{v}");
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry), "{retry}");
    assert_eq!(h["access-control-allow-origin"], "*");
    // The station API is not behind this limit.
    let (s, _) = reg
        .admin(Method::GET, "/api/v1/admin/stations", Value::Null)
        .await;
    assert_eq!(s, 200);
}
