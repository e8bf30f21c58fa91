//! The annual-review schedule by unit: the filter (JSON and xlsx) and marking a whole
//! unit's schedule at once (records only, one audit row each, refused when nothing
//! of the unit is due), through the real router over the demo station.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use support::*;

const MARKET: &str = "演示市市场监督管理局";
const FARMING: &str = "演示县农业农村局";

/// Issues a card for each of `certs` through the API (a blank in R1, issue, eject).
async fn issue(a: &Api, issuer: &str, certs: &[i64]) {
    for &cert in certs {
        a.insert_blank(issuer, R1).await;
        let (s, v) = a
            .call(
                Method::POST,
                "/issue",
                Some(issuer),
                Some(json!({ "certificate_id": cert, "reader": R1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, _) = a
            .call(
                Method::POST,
                &format!("/demo/readers/{}/eject", enc(R1)),
                Some(issuer),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
}

fn numbers(schedule: &Value) -> Vec<String> {
    schedule["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect()
}

fn reviews_of(a: &Api, cert: i64) -> i64 {
    a.count(&format!(
        "SELECT COUNT(*) FROM reviews WHERE certificate_id = {cert}"
    ))
}

fn recorded_audit(a: &Api, number: &str) -> i64 {
    a.count(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'review.recorded' AND subject = '{number}'"
    ))
}

#[tokio::test]
async fn the_schedule_filtered_by_unit_lists_only_that_unit() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let [m1, m2, f1, z1, _] = a.demo.approved[..] else {
        panic!("five demo certificates")
    };
    issue(&a, &issuer, &[m1, m2, f1, z1]).await;

    let (s, all) = a
        .call(Method::GET, "/reviews/schedule", Some(&issuer), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(numbers(&all).len(), 4, "{all}");
    let mut units = vec![MARKET, FARMING, "演示县综合行政执法大队"];
    units.sort();
    assert_eq!(all["units"], json!(units));

    let (s, market) = a
        .call(
            Method::GET,
            &format!("/reviews/schedule?unit={}", enc(MARKET)),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{market}");
    assert_eq!(numbers(&market), ["川X010001", "川X010002"]);
    assert!(market["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["unit"] == MARKET));
    // The choices stay the whole year's units while one is shown.
    assert_eq!(market["units"], all["units"]);

    // The xlsx takes the same filter.
    let req = Request::get(format!(
        "/api/v1/reviews/schedule.xlsx?unit={}",
        enc(MARKET)
    ))
    .header(header::COOKIE, &issuer)
    .body(Body::empty())
    .unwrap();
    let (s, _, xlsx) = a.raw(req).await;
    assert_eq!(s, StatusCode::OK);
    let text = sheet_text(&xlsx);
    assert!(
        text.contains("川X010001") && text.contains("川X010002"),
        "{text}"
    );
    assert!(
        !text.contains("川X06210001"),
        "another unit in the sheet: {text}"
    );

    // A unit not on the schedule lists nothing.
    let (s, none) = a
        .call(
            Method::GET,
            &format!("/reviews/schedule?unit={}", enc("没有这个单位")),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(numbers(&none).is_empty(), "{none}");
}

#[tokio::test]
async fn marking_a_unit_records_exactly_its_due_certificates_once() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let reviewer = a.login("nianshen").await;
    let inspector = a.login("jiancha").await;
    let [m1, m2, f1, _, _] = a.demo.approved[..] else {
        panic!("five demo certificates")
    };
    // Approved, no card yet: not on the schedule, never marked.
    let unissued = a.demo.approved[4];
    issue(&a, &issuer, &[m1, m2, f1]).await;

    // m2 already reviewed for the year, by hand, without a card.
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": m2, "result": "passed", "remark": "单独年审" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let m2_review: String = a
        .demo
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT review_date || reviewer || remark FROM reviews WHERE certificate_id = ?1",
                [m2],
                |r| r.get(0),
            )?)
        })
        .unwrap();

    // The role check is the single review's: an inspector may not.
    let before = a.snapshot();
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews/unit",
            Some(&inspector),
            Some(json!({ "unit": MARKET })),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(a.snapshot(), before);

    let outbox_before = a.count("SELECT COUNT(*) FROM outbox");
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews/unit",
            Some(&reviewer),
            Some(json!({ "unit": MARKET })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["unit"], MARKET);
    assert_eq!(v["year"], 2026);
    assert_eq!(v["date"], today().to_string());
    assert_eq!(v["reviewer"], "演示市司法局");
    let recorded: Vec<i64> = v["recorded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["certificate_id"].as_i64().unwrap())
        .collect();
    assert_eq!(recorded, [m1], "only the due one of the unit: {v}");

    // m1: one passed review of 2026, dated today, by the bureau, not on a card yet.
    let row: (i64, String, String, String, Option<String>) = a
        .demo
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT year, review_date, result, reviewer, card_serial FROM reviews WHERE certificate_id = ?1",
                [m1],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?)
        })
        .unwrap();
    assert_eq!(
        row,
        (
            2026,
            today().to_string(),
            "passed".into(),
            "演示市司法局".into(),
            None
        )
    );
    assert_eq!(recorded_audit(&a, "川X010001"), 1);
    assert_eq!(a.count("SELECT COUNT(*) FROM outbox"), outbox_before + 1);
    // m2 untouched (one review, as recorded by hand), the other unit untouched,
    // the unissued one not reviewed.
    assert_eq!(reviews_of(&a, m2), 1);
    let m2_after: String = a
        .demo
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT review_date || reviewer || remark FROM reviews WHERE certificate_id = ?1",
                [m2],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(m2_after, m2_review);
    assert_eq!(recorded_audit(&a, "川X010002"), 1);
    assert_eq!(reviews_of(&a, f1), 0);
    assert_eq!(recorded_audit(&a, "川X06210001"), 0);
    assert_eq!(reviews_of(&a, unissued), 0);

    // The schedule shows the unit done.
    let (_, market) = a
        .call(
            Method::GET,
            &format!("/reviews/schedule?unit={}", enc(MARKET)),
            Some(&reviewer),
            None,
        )
        .await;
    let items = market["items"].as_array().unwrap();
    assert!(
        !items.is_empty(),
        "the unit's certificates are listed: {market}"
    );
    assert!(
        items.iter().all(|i| i["status"]["status"] == "done"),
        "{market}"
    );

    // A second mark finds nothing due: refused, nothing changed.
    let before = a.snapshot();
    let audit_before = a.count("SELECT COUNT(*) FROM audit_log");
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews/unit",
            Some(&reviewer),
            Some(json!({ "unit": MARKET })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "conflict");
    assert_eq!(v["conflict"], "nothing_due");
    assert!(v["message"].as_str().unwrap().contains(MARKET), "{v}");
    assert_eq!(a.snapshot(), before);
    assert_eq!(a.count("SELECT COUNT(*) FROM audit_log"), audit_before);

    // An empty unit is a bad request, not a mark of everything.
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews/unit",
            Some(&reviewer),
            Some(json!({ "unit": "  " })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    assert_eq!(a.snapshot(), before);
}

#[tokio::test]
async fn a_failed_review_is_not_overwritten_by_marking_its_unit() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let reviewer = a.login("nianshen").await;
    let f1 = a.demo.approved[2];
    issue(&a, &issuer, &[f1]).await;
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": f1, "result": "failed" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let before = a.snapshot();
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews/unit",
            Some(&reviewer),
            Some(json!({ "unit": FARMING, "year": 2026 })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["conflict"], "nothing_due");
    assert_eq!(a.snapshot(), before);
    let result: String = a
        .demo
        .station
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT result FROM reviews WHERE certificate_id = ?1",
                [f1],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(result, "failed");
}
