//! The lists the station's people act on, through the real router over the demo
//! station: the 3-working-day deadline of 注销/换证/补证 (computed when recorded by
//! the one working-day rule, listed until its event reaches the registry), the
//! overdue list (filings and reviews), certificates expiring within N days (default
//! 90) and holders retiring within the year (the province's retirement rule).
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::{Method, StatusCode};
use card_profile::demo as card_demo;
use card_profile::sequences::IssueData;
use chrono::{Days, NaiveDate};
use ecard_domain::citizen_id::{first17, with_check_digit, CitizenId};
use ecard_domain::deadlines::Holidays;
use ecard_domain::province::ProvinceConfig;
use ecardd::ops::StatusRequest;
use serde_json::{json, Value};
use std::sync::Arc;
use support::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Issues a card for `cert` through the API (a blank in R1, issue, eject).
async fn issue(a: &Api, issuer: &str, cert: i64) {
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

/// One more approved certificate: a demo officer's data with another person
/// (`birth`, male), number and validity.
fn approve_another(
    a: &Api,
    serial: u16,
    birth: NaiveDate,
    from: NaiveDate,
    until: NaiveDate,
) -> i64 {
    let mut o: IssueData = card_demo::officers(from).remove(0);
    let id = with_check_digit(&first17("110105", birth, 11 + 2 * serial)).unwrap();
    o.holder.id_number = id;
    o.holder.birth_date = birth;
    o.holder.name = format!("测试{serial}");
    o.certificate.number = format!("川X01{:04}", 8000 + serial).parse().unwrap();
    o.certificate.issue_date = from;
    o.certificate.valid_from = from;
    o.certificate.valid_until = until;
    ecard_test_support::approve(&a.demo.station.store, &[o])[0]
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().unwrap().clone()
}

async fn get(a: &Api, cookie: &str, path: &str) -> Value {
    let (s, v) = a.call(Method::GET, path, Some(cookie), None).await;
    assert_eq!(s, StatusCode::OK, "{path}: {v}");
    v
}

/// Every outbox row so far reached the registry (what the sync round's ack does).
fn deliver_all(a: &Api) {
    let last = a.count("SELECT COALESCE(MAX(seq), 0) FROM outbox") as u64;
    a.demo
        .station
        .store
        .write("sync", |tx| ecardd::store::mark_sent(tx, last))
        .unwrap();
}

#[tokio::test]
async fn a_filing_is_due_three_working_days_after_the_situation_and_listed_until_delivered() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let [c1, c2, ..] = a.demo.approved[..] else {
        panic!("demo certificates")
    };
    issue(&a, &issuer, c2).await;

    // 注销 recorded on Monday 2026-11-23: due Thursday the 26th.
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{c1}/status"),
            Some(&issuer),
            Some(json!({ "kind": "cancel", "reason": "调离", "destination": "某局" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["due_on"], "2026-11-26");
    // 补证 of a card lost on Tuesday 10 November: due Friday the 13th, overdue now.
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{c2}/status"),
            Some(&issuer),
            Some(json!({ "kind": "reissue", "lost_on": "2026-11-10",
                "void_declared_how": "登报声明", "void_declared_on": "2026-11-12",
                "void_reference": "某日报 2026-11-12 第3版" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["due_on"], "2026-11-13");

    let filings = items(&get(&a, &issuer, "/lists/filings").await);
    assert_eq!(filings.len(), 2, "{filings:?}");
    assert_eq!(filings[0]["certificate_id"], c2);
    assert_eq!(filings[0]["kind"], "reissue");
    assert_eq!(filings[0]["kind_label"], "补证");
    assert_eq!(filings[0]["overdue"], true);
    // 16, 17, 18, 19, 20, 23 November are past the deadline.
    assert_eq!(filings[0]["working_days_left"], -6);
    assert_eq!(filings[1]["certificate_id"], c1);
    assert_eq!(filings[1]["overdue"], false);
    assert_eq!(filings[1]["working_days_left"], 3);

    let overdue = items(&get(&a, &issuer, "/lists/overdue").await);
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["what"], "filing");
    assert_eq!(overdue[0]["certificate_id"], c2);

    // The reviewer sees them too (not only the admin); the inspector is refused.
    let reviewer = a.login("nianshen").await;
    assert_eq!(items(&get(&a, &reviewer, "/lists/overdue").await).len(), 1);
    let inspector = a.login("jiancha").await;
    let (s, v) = a
        .call(Method::GET, "/lists/overdue", Some(&inspector), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(v["code"].is_string() && v["message"].is_string(), "{v}");

    // Filed: once the events reached the registry, nothing is left to do.
    deliver_all(&a);
    assert!(items(&get(&a, &issuer, "/lists/filings").await).is_empty());
    assert!(items(&get(&a, &issuer, "/lists/overdue").await).is_empty());
}

#[tokio::test]
async fn a_situation_dated_after_today_is_refused_and_changes_nothing() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let before = a.snapshot();
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{}/status", a.demo.approved[0]),
            Some(&issuer),
            Some(
                json!({ "kind": "cancel", "reason": "调离", "destination": "某局",
                "occurred_on": "2026-11-24" }),
            ),
        )
        .await;
    assert!(s.is_client_error(), "{s} {v}");
    assert_eq!(v["code"], "invalid_request", "{v}");
    assert_eq!(v["message"], "情形发生日期不能晚于今天");
    assert_eq!(a.snapshot(), before);
}

/// The station's province calendar decides the deadline: days off push it back, a
/// 调休 Saturday counts. (A calendar of this shape; the real one is the State
/// Council's notice of the year, in the province configuration.)
#[tokio::test]
async fn the_deadline_counts_the_provinces_holidays_and_weekend_working_days() {
    let sim = ecard_test_support::sim_station(&["R"], d(2026, 10, 20), 0xEC00_0000_0000_0100);
    let mut station = sim.station.clone();
    let mut province = ProvinceConfig::sichuan();
    let off: Vec<NaiveDate> = [1, 2, 5, 6, 7, 8].map(|day| d(2026, 10, day)).to_vec();
    province.holidays = Holidays::new(&off, &[d(2026, 9, 27), d(2026, 10, 10)]).unwrap();
    station.config = station.config.clone().with_province(Arc::new(province));
    let cancel = StatusRequest::Cancel {
        reason: "调离".into(),
        destination: "某局".into(),
        occurred_on: Some(d(2026, 9, 30)),
    };
    let out = station
        .change_status("t", sim.certs[0], &cancel, None)
        .await
        .unwrap();
    // 9 October, Saturday 10 October (worked), 12 October; without 调休 the 13th.
    assert_eq!(out.due_on, Some(d(2026, 10, 12)));
    let due = station.filings_due().unwrap();
    assert_eq!(due.len(), 1);
    assert!(due[0].overdue);
    assert_eq!(due[0].due_on, d(2026, 10, 12));
}

#[tokio::test]
async fn expiring_lists_certificates_ending_within_the_window_default_90_days() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let t = today();
    let soon = approve_another(&a, 1, d(1985, 3, 1), d(2022, 1, 1), t + Days::new(30));
    let later = approve_another(&a, 2, d(1985, 3, 2), d(2022, 1, 1), t + Days::new(120));

    let v = get(&a, &issuer, "/lists/expiring").await;
    assert_eq!(v["days"], 90);
    let list = items(&v);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["certificate_id"], soon);
    assert_eq!(list[0]["days_left"], 30);
    assert_eq!(list[0]["valid_until"], (t + Days::new(30)).to_string());

    let list = items(&get(&a, &issuer, "/lists/expiring?days=120").await);
    let ids: Vec<i64> = list
        .iter()
        .map(|i| i["certificate_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [soon, later]);
    assert!(items(&get(&a, &issuer, "/lists/expiring?days=29").await).is_empty());

    for bad in ["0", "3651", "abc"] {
        let (s, v) = a
            .call(
                Method::GET,
                &format!("/lists/expiring?days={bad}"),
                Some(&issuer),
                None,
            )
            .await;
        assert!(s.is_client_error(), "{bad}: {s}");
        assert_eq!(v["code"], "invalid_request", "{bad}: {v}");
        assert!(v["message"].as_str().unwrap().contains("天数"), "{v}");
    }
}

#[tokio::test]
async fn retiring_lists_holders_reaching_the_provinces_retirement_date_within_the_year() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let t = today();
    let rule = ProvinceConfig::sichuan().retirement;
    // Men born on the day whose retirement falls about 100 days and about 400 days on.
    let born_retiring_in = |days: u64| {
        let target = t + Days::new(days);
        (0..4000u64)
            .map(|i| d(1960, 1, 1) + Days::new(i))
            .find(|b| {
                let r = rule
                    .retirement_date(*b, ecard_domain::citizen_id::Gender::Male)
                    .unwrap();
                r >= target && r < target + Days::new(40)
            })
            .unwrap()
    };
    let (b1, b2) = (born_retiring_in(100), born_retiring_in(400));
    let soon = approve_another(&a, 3, b1, d(2024, 1, 1), d(2029, 1, 1));
    approve_another(&a, 4, b2, d(2024, 1, 1), d(2029, 1, 1));

    let v = get(&a, &issuer, "/lists/retiring").await;
    assert_eq!(v["until"], d(2027, 11, 23).to_string());
    let list = items(&v);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["certificate_id"], soon);
    let id = CitizenId::parse(&with_check_digit(&first17("110105", b1, 17)).unwrap(), t).unwrap();
    let expected = rule.retirement_date(id.birth_date(), id.gender()).unwrap();
    assert_eq!(list[0]["retires_on"], expected.to_string());
}

#[tokio::test]
async fn overdue_lists_certificates_without_the_review_whose_deadline_passed() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    // Issued in 2025: the 2025 review was due by 31 March 2026.
    // (Set issued in the store: a card written now would itself fail its field check
    // for the missing review.)
    let old = approve_another(&a, 5, d(1980, 5, 5), d(2025, 3, 1), d(2030, 3, 1));
    a.demo
        .station
        .store
        .write("fixture", |tx| {
            ecardd::store::set_certificate_state(tx, old, ecardd::store::CertificateState::Issued)
        })
        .unwrap();
    // Issued this year: its first review (2026) is not due before 31 March 2027.
    issue(&a, &issuer, a.demo.approved[0]).await;

    let overdue = items(&get(&a, &issuer, "/lists/overdue").await);
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["what"], "review");
    assert_eq!(overdue[0]["certificate_id"], old);
    assert_eq!(overdue[0]["year"], 2025);
    assert_eq!(overdue[0]["deadline"], "2026-03-31");
}

const MARKET: &str = "演示市市场监督管理局";
const FARMING: &str = "演示县农业农村局";

async fn sheet(a: &Api, cookie: &str, path: &str) -> String {
    let req = axum::http::Request::get(format!("/api/v1{path}"))
        .header(axum::http::header::COOKIE, cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, _, xlsx) = a.raw(req).await;
    assert_eq!(s, StatusCode::OK, "{path}");
    sheet_text(&xlsx)
}

/// 附件1–4 of one 填报单位: its rows only and its name in the header; 附件3's
/// 工作岗位及职务 is the 职务 given with the 换证 (not the post codes); 附件1 carries
/// 换证, 补证 and 修改 rows beside 录入归集 and 注销.
#[tokio::test]
async fn filing_forms_are_one_per_unit_with_every_kind_of_row() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let [m1, _, f1, ..] = a.demo.approved[..] else {
        panic!("demo certificates")
    };
    issue(&a, &issuer, m1).await;
    issue(&a, &issuer, f1).await;
    let number = |id: i64| {
        a.demo
            .station
            .store
            .read(|c| ecardd::store::certificate(c, id))
            .unwrap()
            .certificate
            .number
    };
    let (n_m1, n_f1) = (number(m1), number(f1));

    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{m1}/status"),
            Some(&issuer),
            Some(
                json!({ "kind": "replace", "reason": "岗位调整", "position": "执法科科长",
                "card_returned": true }),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{f1}/status"),
            Some(&issuer),
            Some(json!({ "kind": "reissue", "lost_on": "2026-11-20",
                "void_declared_how": "登报声明", "void_declared_on": "2026-11-21",
                "void_reference": "某日报 2026-11-21 第2版" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // 修改: a correction of the farming holder's record, approved by another operator.
    let store = &a.demo.station.store;
    let mut holder = store
        .read(|c| ecardd::store::issue_data(c, f1))
        .unwrap()
        .holder;
    let old_name = holder.name.clone();
    holder.name = format!("{old_name}改");
    let imported = store
        .write("zhizheng", |tx| {
            ecardd::store::import_officer(tx, &holder, None)
        })
        .unwrap();
    let correction = imported.correction.expect("a pending correction");
    store
        .write("nianshen", |tx| {
            ecardd::store::decide_correction(tx, correction, true, None)
        })
        .unwrap();

    let (s, units) = a.call(Method::GET, "/forms", Some(&issuer), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        units["items"].as_array().unwrap().contains(&json!(MARKET)),
        "{units}"
    );

    let replacement = sheet(
        &a,
        &issuer,
        &format!("/forms/replacement.xlsx?unit={}", enc(MARKET)),
    )
    .await;
    assert!(replacement.contains(MARKET), "{replacement}");
    assert!(replacement.contains("执法科科长"), "{replacement}");
    assert!(
        !replacement.contains("01,02") && !replacement.contains("依职权"),
        "{replacement}"
    );

    let market = sheet(
        &a,
        &issuer,
        &format!("/forms/filing.xlsx?unit={}", enc(MARKET)),
    )
    .await;
    assert!(
        market.contains("换证（原证注销）") && market.contains(n_m1.as_str()),
        "{market}"
    );
    assert!(
        !market.contains(n_f1.as_str()),
        "another unit's row: {market}"
    );

    let farming = sheet(
        &a,
        &issuer,
        &format!("/forms/filing.xlsx?unit={}", enc(FARMING)),
    )
    .await;
    assert!(farming.contains(FARMING), "{farming}");
    assert!(farming.contains("补证（原证作废）"), "{farming}");
    assert!(
        farming.contains("修改") && farming.contains(&format!("姓名：{old_name}→{old_name}改")),
        "{farming}"
    );
    assert!(
        !farming.contains(n_m1.as_str()),
        "another unit's row: {farming}"
    );

    let reissue = sheet(
        &a,
        &issuer,
        &format!("/forms/reissue.xlsx?unit={}", enc(MARKET)),
    )
    .await;
    assert!(!reissue.contains(n_f1.as_str()), "{reissue}");
}

/// The 申领人员名单 (Sichuan): a unit's applications still with the bureaus, to print.
#[tokio::test]
async fn the_applicants_list_holds_the_units_pending_applications() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let f1 = a.demo.approved[2];
    issue(&a, &issuer, f1).await;
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{f1}/status"),
            Some(&issuer),
            Some(json!({ "kind": "replace", "reason": "单位更名" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = a
        .call(
            Method::GET,
            &format!("/forms/applicants?unit={}", enc(FARMING)),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["unit"], FARMING);
    let list = items(&v);
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["kind"], "replacement");
    assert_eq!(list[0]["kind_label"], "换证");
    assert!(list[0]["gender"].is_string());
    let (s, v) = a
        .call(
            Method::GET,
            &format!("/forms/applicants?unit={}", enc(MARKET)),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(items(&v).is_empty(), "{v}");
    let (s, v) = a
        .call(Method::GET, "/forms/applicants", Some(&issuer), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], "invalid_request");
}

/// Inserts a blank in R1 and writes `cert` on it; the card stays in the reader.
async fn issue_and_keep(a: &Api, issuer: &str, cert: i64) {
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
}

/// The field check at the station counts a review recorded here without the card
/// (source: the station's records) and a review on the card (source: the card),
/// and the answer says which.
#[tokio::test]
async fn the_field_check_counts_a_review_recorded_here_and_says_its_source() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let reviewer = a.login("nianshen").await;
    let [m1, m2, ..] = a.demo.approved[..] else {
        panic!("demo certificates")
    };
    let verify = || async {
        let (s, v) = a
            .call(
                Method::POST,
                "/verify",
                Some(&reviewer),
                Some(json!({ "reader": R1 })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    };

    issue_and_keep(&a, &issuer, m1).await;
    assert_eq!(verify().await["counted_reviews"], json!([]));
    // Recorded without the card: the card does not carry it, the check counts it.
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": m1, "result": "passed", "year": 2026 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["written_to"].is_null(), "{v}");
    let v = verify().await;
    assert_eq!(v["reviews"], json!([]), "not on the card: {v}");
    let counted = v["counted_reviews"].as_array().unwrap();
    assert_eq!(counted.len(), 1, "{v}");
    assert_eq!(counted[0]["year"], 2026);
    assert_eq!(counted[0]["result"], "passed");
    assert_eq!(counted[0]["source"], "station");
    assert_eq!(counted[0]["source_label"], "本站记录（尚未写卡）");

    // Written to the card with the review: the card's own counts.
    let (s, _) = a
        .call(
            Method::POST,
            &format!("/demo/readers/{}/eject", enc(R1)),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    issue_and_keep(&a, &issuer, m2).await;
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": m2, "result": "passed", "year": 2026, "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = verify().await;
    let counted = v["counted_reviews"].as_array().unwrap();
    assert_eq!(counted.len(), 1, "{v}");
    assert_eq!(counted[0]["source"], "card");
    assert_eq!(counted[0]["source_label"], "卡内记录");
}
