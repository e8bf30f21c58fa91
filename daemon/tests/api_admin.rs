//! Administration through the API: operator accounts, roster imports refused whole, and the trust list.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn operators_are_managed_by_admins_and_disabled_accounts_lose_their_sessions() {
    let a = api();
    let admin = a.login("guanli").await;
    let (s, v) = a
        .call(Method::POST, "/operators", Some(&admin), Some(json!({ "username": "wang", "display_name": "王检查", "role": "inspector", "password": "short" })))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("password_too_short"))
    );
    let (s, v) = a
        .call(Method::POST, "/operators", Some(&admin), Some(json!({ "username": "wang", "display_name": "王检查", "role": "inspector", "password": "long-enough-1" })))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (s, _) = a
        .call(Method::POST, "/operators", Some(&admin), Some(json!({ "username": "wang", "display_name": "重复", "role": "admin", "password": "long-enough-1" })))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, me) = a
        .call(
            Method::POST,
            "/session",
            None,
            Some(json!({ "username": "wang", "password": "long-enough-1" })),
        )
        .await;
    assert_eq!(
        (s, me["role"].as_str()),
        (StatusCode::OK, Some("inspector"))
    );

    let (s, v) = a
        .call(
            Method::PATCH,
            &format!("/operators/{id}"),
            Some(&admin),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!((s, v["disabled"].as_bool()), (StatusCode::OK, Some(true)));
    let (s, v) = a
        .call(
            Method::POST,
            "/session",
            None,
            Some(json!({ "username": "wang", "password": "long-enough-1" })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("account_disabled"))
    );

    let (_, settings) = a.call(Method::GET, "/settings", Some(&admin), None).await;
    assert_eq!(settings["keys"]["unlocked"], true);
    assert!(settings.to_string().find("pkcs8").is_none());
    // The province rules the station was started with, shown read-only on 设置.
    assert_eq!(settings["province"]["province"], "四川省", "{settings}");
    assert_eq!(settings["province"]["photo"]["max_bytes"], 100 * 1024);
    assert_eq!(settings["province"]["review_deadline_month"], 3);
    let (s, v) = a
        .call(
            Method::PUT,
            "/settings",
            Some(&admin),
            Some(json!({ "max_revocation_age_days": 0 })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (_, v) = a
        .call(
            Method::PUT,
            "/settings",
            Some(&admin),
            Some(json!({ "max_revocation_age_days": 14 })),
        )
        .await;
    assert_eq!(v["max_revocation_age_days"], 14);
}

/// POST /import with `roster` as the uploaded roster file.
fn import_request(issuer: &str, roster: &[u8]) -> Request<Body> {
    let boundary = "XBOUNDARY";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(roster);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::post("/api/v1/import")
        .header("x-requested-with", "ecard")
        .header(header::COOKIE, issuer)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap()
}

/// A roster with the same person twice: a workbook the station reads and refuses.
fn roster_with_a_duplicate() -> Vec<u8> {
    use ecard_domain::citizen_id::CitizenId;
    use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
    use ecard_domain::roster::{ApplicationKind, RosterRow};
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let citizen_id = CitizenId::parse("110105198001010016", today).unwrap();
    let row = RosterRow {
        kind: ApplicationKind::New,
        excel_row: 0,
        county: "演示县".into(),
        name: "张重复".into(),
        unit: "演示县市场监督管理局".into(),
        certificate_number: None,
        valid_until: None,
        gender: citizen_id.gender(),
        birth_date: citizen_id.birth_date(),
        citizen_id,
        ethnicity: Ethnicity::parse("汉族").unwrap(),
        political_status: PoliticalStatus::ALL[0],
        valid_from: None,
        education: "大学本科".into(),
        major: "法学".into(),
        rank_code: "020201".into(),
        law_major: true,
        legal_qualification: false,
        posts: vec![PostCode::ByAuthority],
        exam_category: "综合法律知识考试".into(),
        law_exam_on: None,
        law_exam_score: None,
        staffing: None,
        org_nature: None,
        position: None,
        photo: None,
    };
    ecard_domain::forms::roster_xlsx(&[row.clone(), row]).unwrap()
}

#[tokio::test]
async fn a_roster_that_is_not_xlsx_is_refused_with_what_to_do_and_no_error_table() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let before = a.snapshot();
    let (s, _, body) = a
        .raw(import_request(&issuer, b"this is not a spreadsheet"))
        .await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("roster_not_xlsx")),
        "{v}"
    );
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains(".xlsx") && message.contains("模板"),
        "{message}"
    );
    // No library text (「Zip error: invalid Zip archive…」): the only Latin letters are
    // the file extension's and the names of the programs that save one.
    let rest = ["xlsx", "Excel", "WPS"]
        .iter()
        .fold(message.to_owned(), |m, word| m.replace(word, ""));
    assert!(!rest.chars().any(|c| c.is_ascii_alphabetic()), "{message}");
    assert!(
        v.get("errors").is_none() && v.get("report").is_none(),
        "{v}"
    );
    assert_eq!(a.snapshot(), before);
}

#[tokio::test]
async fn a_refused_import_changes_nothing_and_offers_its_report() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let before = a.snapshot();
    let (s, _, body) = a
        .raw(import_request(&issuer, &roster_with_a_duplicate()))
        .await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("import_rejected")),
        "{v}"
    );
    assert!(!v["errors"].as_array().unwrap().is_empty());
    assert_eq!(a.snapshot(), before);
    let report = v["report"].as_str().unwrap().trim_start_matches("/api/v1");
    let req = Request::get(format!("/api/v1{report}"))
        .header(header::COOKIE, &issuer)
        .body(Body::empty())
        .unwrap();
    let (s, h, xlsx) = a.raw(req).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    assert_eq!(&xlsx[..2], b"PK");

    // The template downloads, and the schedule lists nothing yet (issued this year are exempt).
    let req = Request::get("/api/v1/templates/roster.xlsx")
        .header(header::COOKIE, &issuer)
        .body(Body::empty())
        .unwrap();
    let (s, _, t) = a.raw(req).await;
    assert_eq!((s, &t[..2]), (StatusCode::OK, &b"PK"[..]));
}

#[tokio::test]
async fn removing_a_root_from_the_trust_list_makes_its_cards_fail_and_adding_it_back_restores_them()
{
    let a = api();
    let issuer = a.login("zhizheng").await;
    let admin = a.login("guanli").await;
    a.insert_blank(&issuer, R1).await;
    let (s, _) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": a.demo.approved[0], "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, trust) = a.call(Method::GET, "/trust", Some(&admin), None).await;
    let anchor = trust[0].clone();
    let key_id = anchor["key_id"].as_str().unwrap().to_owned();

    let (s, left) = a
        .call(
            Method::DELETE,
            &format!("/trust/{key_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(left.as_array().unwrap().len(), 0);
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&admin),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing"], "invalid");

    let (s, v) = a
        .call(Method::POST, "/trust", Some(&admin), Some(bogus_anchor()))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (s, _) = a
        .call(Method::POST, "/trust", Some(&admin), Some(anchor))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&admin),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing"], "valid");

    let (_, batches) = a.call(Method::GET, "/batches", Some(&issuer), None).await;
    assert_eq!(batches, json!([]));
}

#[tokio::test]
async fn health_needs_no_login_and_the_doctor_report_is_for_administrators() {
    let a = api();
    let (s, v) = a.call(Method::GET, "/health", None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, _) = a.call(Method::GET, "/doctor", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let inspector = a.login("jiancha").await;
    let (s, _) = a.call(Method::GET, "/doctor", Some(&inspector), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let admin = a.login("guanli").await;
    let (s, v) = a.call(Method::GET, "/doctor", Some(&admin), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let level = |code: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .map(|f| f["level"].as_str().unwrap().to_owned())
    };
    // The demo station: simulated readers answer, its keys are open, its store and
    // audit chain are sound, it is not enrolled with a registry.
    for code in ["pcscd_ok", "database_ok", "audit_ok", "keys_unlocked"] {
        assert_eq!(level(code).as_deref(), Some("ok"), "{code}: {v}");
    }
    assert_eq!(
        level("registry_not_enrolled").as_deref(),
        Some("warning"),
        "{v}"
    );
    let worst = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| match f["level"].as_str().unwrap() {
            "ok" => 0,
            "warning" => 1,
            _ => 2,
        })
        .max()
        .unwrap();
    assert_eq!(v["worst"], ["ok", "warning", "fault"][worst]);
}
