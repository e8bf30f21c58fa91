//! The application workflow through the registry's API (real binary, loopback):
//! unit → county → city → issuance order in the right stations' feeds.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use chrono::NaiveDate;
use common::{feed_of, Registry};
use ecard_domain::citizen_id::CitizenId;
use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
use ecard_domain::roster::{ApplicationKind, RosterRow};
use ecard_registry::storage::db::params;
use ecard_sync_protocol::client::RegistryClient;
use ecard_sync_protocol::feed::{FeedBody, FeedItem};
use reqwest::Method;
use serde_json::{json, Value};

struct World {
    reg: Registry,
    unit: String,
    county: String,
    other_county: String,
    city: String,
    province: String,
    province_unit: String,
    county_station: RegistryClient,
    other_station: RegistryClient,
    city_station: RegistryClient,
}

async fn account(reg: &Registry, body: Value) -> String {
    let (status, created) = reg
        .admin(Method::POST, "/api/v1/admin/accounts", body)
        .await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().unwrap().to_owned()
}

async fn world() -> World {
    let reg = Registry::start();
    for unit in [
        json!({"name": "岳池县教育局", "region": "川X04", "department": "02"}),
        json!({"name": "四川省司法厅执法监督局", "region": "川X", "department": "05", "province_level": true}),
    ] {
        let (status, body) = reg.admin(Method::POST, "/api/v1/admin/units", unit).await;
        assert_eq!(status, 201, "{body}");
    }
    let unit = account(&reg, json!({"username": "yc-edu", "role": "unit", "unit": "岳池县教育局", "org_name": "岳池县教育局"})).await;
    let county = account(&reg, json!({"username": "yc-justice", "role": "county", "region": "川X04", "org_name": "岳池县司法局"})).await;
    let other_county = account(&reg, json!({"username": "ga-justice", "role": "county", "region": "川X01", "org_name": "广安区司法局"})).await;
    let city = account(&reg, json!({"username": "gac-justice", "role": "city", "region": "川X", "org_name": "广安市司法局"})).await;
    let province = account(
        &reg,
        json!({"username": "sc-justice", "role": "province", "org_name": "四川省司法厅"}),
    )
    .await;
    let province_unit = account(&reg, json!({"username": "sc-unit", "role": "unit", "unit": "四川省司法厅执法监督局", "org_name": "四川省司法厅执法监督局"})).await;
    let (county_station, _) = reg.enroll("yuechi", Some("川X04"));
    let (other_station, _) = reg.enroll("guangan-qu", Some("川X01"));
    let (city_station, _) = reg.enroll("guangan-shi", Some("川X"));
    World {
        reg,
        unit,
        county,
        other_county,
        city,
        province,
        province_unit,
        county_station,
        other_station,
        city_station,
    }
}

/// One person per name (one live certificate per person); 冒名者 claims 张三's ID.
/// All born in 1985: nobody retires within five years.
fn id_for(name: &str) -> &'static str {
    match name {
        "李四" => "110105198506020041",
        "王五" => "110105198506030127",
        "赵六" => "110105198506040229",
        "钱七" => "110105198506050320",
        _ => "11010519850601002X",
    }
}

/// Born 1968-09-15, male: retires on 2029-09-15 (the 2025 reform adds 12 months).
const RETIRING_ID: &str = "110105196809150012";

fn form(name: &str) -> Value {
    let photo = base64::engine::general_purpose::STANDARD
        .encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F']);
    json!({
        "name": name, "id_number": id_for(name), "ethnicity": "汉族",
        "certificate_kind": "enforcement", "posts": "01", "category": "教育", "area": "岳池县",
        "announced_on": "2025-09-01", "exam_category": "综合法律知识考试",
        "law_exam_on": "2025-07-20", "law_exam_score": 81,
        "org_nature": "行政机关", "staffing": "civil_servant", "position": "科员",
        "photo_jpeg": photo,
    })
}

impl World {
    async fn call(&self, token: &str, method: Method, path: &str, body: Value) -> (u16, Value) {
        common::call(&self.reg, token, method, path, body).await
    }

    async fn submit(&self, name: &str) -> i64 {
        let (status, app) = self
            .call(&self.unit, Method::POST, "/api/v1/applications", form(name))
            .await;
        assert_eq!(status, 201, "{app}");
        assert_eq!(app["state"], "submitted");
        app["id"].as_i64().unwrap()
    }

    async fn act(&self, token: &str, id: i64, action: &str, body: Value) -> (u16, Value) {
        self.call(
            token,
            Method::POST,
            &format!("/api/v1/applications/{id}/{action}"),
            body,
        )
        .await
    }

    async fn approve_both(&self, id: i64) -> Value {
        let (s, app) = self.act(&self.county, id, "approve", json!({})).await;
        assert_eq!(
            (s, app["state"].as_str()),
            (200, Some("county_approved")),
            "{app}"
        );
        let (s, app) = self.act(&self.city, id, "approve", json!({})).await;
        assert_eq!((s, app["state"].as_str()), (200, Some("approved")), "{app}");
        app
    }
}

impl World {
    async fn number_of(&self, id: i64) -> String {
        let (s, app) = self
            .call(
                &self.unit,
                Method::GET,
                &format!("/api/v1/applications/{id}"),
                Value::Null,
            )
            .await;
        assert_eq!(s, 200, "{app}");
        app["number"].as_str().unwrap().to_owned()
    }
}

async fn feed(station: &RegistryClient) -> Vec<FeedItem> {
    feed_of(station, 0, 500).await.unwrap().items
}

#[tokio::test]
async fn county_then_city_approval_orders_the_card_at_the_right_stations() {
    let w = world().await;
    let id = w.submit("张三").await;

    // Out of turn or out of area: refused, nothing changes.
    let (s, e) = w.act(&w.city, id, "approve", json!({})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("not_your_turn")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("层级"));
    let (s, _) = w.act(&w.other_county, id, "approve", json!({})).await;
    assert_eq!(s, 404);
    let (s, _) = w.act(&w.unit, id, "approve", json!({})).await;
    assert_eq!(s, 409);
    let (s, _) = w.act("no-such-token", id, "approve", json!({})).await;
    assert_eq!(s, 401);

    let app = w.approve_both(id).await;
    let number = app["number"].as_str().unwrap().to_owned();
    assert_eq!(
        number, "川X04020001",
        "first serial for 岳池县 + 教育局 under the Sichuan rule"
    );

    let items = feed(&w.county_station).await;
    assert_eq!(items.len(), 1);
    let FeedBody::IssuanceOrder(order) = &items[0].body else {
        panic!("{:?}", items[0])
    };
    assert_eq!(order.certificate.number, number);
    assert_eq!(order.certificate.unit, "岳池县教育局");
    assert_eq!(order.certificate.issuer, "广安市司法局");
    assert_eq!(order.holder.name, "张三");
    assert_eq!(
        order.holder.birth_date,
        NaiveDate::from_ymd_opt(1985, 6, 1).unwrap()
    );
    assert!(order.photo_jpeg.is_some());
    assert_eq!(
        feed(&w.city_station).await.len(),
        1,
        "the city station serves its counties"
    );
    assert!(
        feed(&w.other_station).await.is_empty(),
        "another county's station gets no order"
    );

    // The next approval gets the next number.
    let id2 = w.submit("李四").await;
    let app2 = w.approve_both(id2).await;
    assert_eq!(app2["number"], "川X04020002");
}

#[tokio::test]
async fn rejection_with_reason_goes_back_for_editing_and_resubmission() {
    let w = world().await;
    let id = w.submit("王五").await;
    let (s, e) = w.act(&w.county, id, "reject", json!({"reason": " "})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("reason_required")));
    let (s, app) = w
        .act(&w.county, id, "reject", json!({"reason": "照片不符合要求"}))
        .await;
    assert_eq!(
        (s, app["state"].as_str(), app["reason"].as_str()),
        (200, Some("rejected"), Some("照片不符合要求"))
    );

    // Not editable by anyone but the unit; the unit fixes and resubmits.
    let (s, _) = w
        .call(
            &w.county,
            Method::PUT,
            &format!("/api/v1/applications/{id}"),
            form("王五"),
        )
        .await;
    assert_eq!(s, 404);
    let mut fixed = form("王五");
    fixed["category"] = json!("教育执法");
    let (s, app) = w
        .call(
            &w.unit,
            Method::PUT,
            &format!("/api/v1/applications/{id}"),
            fixed,
        )
        .await;
    assert_eq!((s, app["state"].as_str()), (200, Some("rejected")), "{app}");
    assert_eq!(app["form"]["category"], "教育执法");
    let (s, app) = w.act(&w.unit, id, "resubmit", json!({})).await;
    assert_eq!((s, app["state"].as_str()), (200, Some("submitted")));
    // A city rejection returns it to the unit as well.
    let (s, _) = w.act(&w.county, id, "approve", json!({})).await;
    assert_eq!(s, 200);
    let (s, app) = w
        .act(&w.city, id, "reject", json!({"reason": "执法类别填写有误"}))
        .await;
    assert_eq!((s, app["state"].as_str()), (200, Some("rejected")));
    let (s, _) = w.act(&w.unit, id, "resubmit", json!({})).await;
    assert_eq!(s, 200);
    let app = w.approve_both(id).await;
    assert_eq!(app["form"]["category"], "教育执法");
    assert!(feed(&w.county_station).await.len() == 1);
}

#[tokio::test]
async fn an_approved_record_can_be_sent_back_once() {
    let w = world().await;
    let id = w.submit("赵六").await;
    let first = w.approve_both(id).await;
    let number = first["number"].as_str().unwrap().to_owned();

    let (s, e) = w.act(&w.unit, id, "send-back", json!({"reason": ""})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("reason_required")));
    let (s, app) = w
        .act(
            &w.unit,
            id,
            "send-back",
            json!({"reason": "身份证号录入错误"}),
        )
        .await;
    assert_eq!((s, app["state"].as_str()), (200, Some("returned")), "{app}");
    let items = feed(&w.county_station).await;
    assert!(
        matches!(&items[1].body, FeedBody::OrderWithdrawn(wd) if wd.order_id == format!("{id}-1") && wd.number == number)
    );

    let (s, _) = w.act(&w.unit, id, "resubmit", json!({})).await;
    assert_eq!(s, 200);
    let again = w.approve_both(id).await;
    assert_eq!(
        again["number"],
        number.as_str(),
        "the number is kept, never reallocated"
    );
    let items = feed(&w.county_station).await;
    assert!(
        matches!(&items[2].body, FeedBody::IssuanceOrder(o) if o.order_id == format!("{id}-2"))
    );

    let (s, e) = w
        .act(&w.unit, id, "send-back", json!({"reason": "再次修改"}))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("already_sent_back")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("只能")
            || e["message"].as_str().unwrap().contains("不能再次")
    );
    let (_, app) = w
        .call(
            &w.unit,
            Method::GET,
            &format!("/api/v1/applications/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(app["state"], "approved");
}

#[tokio::test]
async fn province_level_units_have_one_level_and_rosters_submit_in_bulk() {
    let w = world().await;
    let (s, app) = w
        .call(
            &w.province_unit,
            Method::POST,
            "/api/v1/applications",
            form("钱七"),
        )
        .await;
    assert_eq!(s, 201, "{app}");
    let id = app["id"].as_i64().unwrap();
    let (s, _) = w.act(&w.county, id, "approve", json!({})).await;
    assert_eq!(s, 404, "a county bureau does not see province-level units");
    let (s, app) = w.act(&w.province, id, "approve", json!({})).await;
    assert_eq!((s, app["state"].as_str()), (200, Some("approved")), "{app}");

    // Bulk: rows as the roster import returns them.
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let row = |excel_row: u32, unit: &str| RosterRow {
        kind: ApplicationKind::New,
        excel_row,
        county: "岳池县".into(),
        name: format!("批量{excel_row}"),
        unit: unit.into(),
        certificate_number: None,
        valid_until: None,
        citizen_id: CitizenId::parse("11010519850601002X", today).unwrap(),
        gender: ecard_domain::citizen_id::Gender::Female,
        ethnicity: Ethnicity::parse("汉族").unwrap(),
        birth_date: NaiveDate::from_ymd_opt(1985, 6, 1).unwrap(),
        political_status: PoliticalStatus::ALL[0],
        valid_from: None,
        education: "本科".into(),
        major: "法学".into(),
        rank_code: "020201".into(),
        law_major: true,
        legal_qualification: false,
        posts: vec![PostCode::ByAuthority],
        exam_category: "综合".into(),
        law_exam_on: None,
        law_exam_score: None,
        staffing: None,
        org_nature: None,
        position: None,
        photo: None,
    };
    let defaults = json!({"certificate_kind": "enforcement", "category": "教育", "area": "岳池县"});
    let bad = json!({"defaults": defaults, "rows": [row(3, "岳池县教育局"), row(4, "别的单位")]});
    let (s, e) = w
        .call(&w.unit, Method::POST, "/api/v1/applications/bulk", bad)
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("第4行"));
    let (_, list) = w
        .call(&w.unit, Method::GET, "/api/v1/applications", Value::Null)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 0, "all or nothing");
    // Without the holders' photos the roster is refused, row by row.
    let no_photos =
        json!({"defaults": defaults, "rows": [row(3, "岳池县教育局"), row(4, "岳池县教育局")]});
    let (s, e) = w
        .call(
            &w.unit,
            Method::POST,
            "/api/v1/applications/bulk",
            no_photos,
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("缺少本人照片"),
        "{e}"
    );
    let photo = base64::engine::general_purpose::STANDARD
        .encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F']);
    let photos = json!({ "11010519850601002X": photo });
    let good = json!({"defaults": defaults, "rows": [row(3, "岳池县教育局"), row(4, "岳池县教育局")], "photos": photos});
    let (s, r) = w
        .call(&w.unit, Method::POST, "/api/v1/applications/bulk", good)
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["ids"].as_array().unwrap().len(), 2);
    let (_, list) = w
        .call(&w.county, Method::GET, "/api/v1/applications", Value::Null)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

/// A second application for an officer who already holds a certificate, with another
/// name and photo: the bureaus' approval is the review of that correction, and the
/// decision log keeps the old and the new values; the first certificate's order is
/// not rewritten.
#[tokio::test]
async fn approving_a_changed_record_of_a_certified_officer_logs_old_and_new() {
    let w = world().await;
    let first = w.submit("张三").await;
    w.approve_both(first).await;

    let mut changed = form("冒名者");
    // One live certificate per person: a changed record comes as 换证.
    changed["replaces"] = json!(w.number_of(first).await);
    changed["photo_jpeg"] = json!(base64::engine::general_purpose::STANDARD
        .encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 1, 2, 3]));
    let (status, app) = w
        .call(&w.unit, Method::POST, "/api/v1/applications", changed)
        .await;
    assert_eq!(status, 201, "{app}");
    let second = app["id"].as_i64().unwrap();
    let (s, _) = w.act(&w.county, second, "approve", json!({})).await;
    assert_eq!(s, 200);
    let logged = |action: &str| -> Vec<(String, Option<String>)> {
        let db = w.reg.open_db();
        let mut stmt = db
            .prepare(
                "SELECT actor, reason FROM decisions WHERE application_id = ?1 AND action = ?2",
            )
            .unwrap();
        stmt.query_map(params![second, action], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(
        logged("officer_corrected").is_empty(),
        "nothing changes before the final approval"
    );
    let (s, app) = w.act(&w.city, second, "approve", json!({})).await;
    assert_eq!((s, app["state"].as_str()), (200, Some("approved")), "{app}");

    let rows = logged("officer_corrected");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "gac-justice", "the deciding bureau");
    let change: Value = serde_json::from_str(rows[0].1.as_deref().unwrap()).unwrap();
    assert_eq!(change["old"]["name"], "张三");
    assert_eq!(change["new"]["name"], "冒名者");
    assert!(change["old"]["photo_sha256"].is_string());
    assert_ne!(change["old"]["photo_sha256"], change["new"]["photo_sha256"]);
}

/// 换证: an application replacing an approved certificate is approved with a new
/// number, and the old one is reported replaced by it (the registry recorded the
/// successor itself before reporting the change — not a second claim).
#[tokio::test]
async fn a_replacement_application_is_approved_and_replaces_the_old_number() {
    let w = world().await;
    let first = w.submit("张三").await;
    let old = w.approve_both(first).await["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = form("张三");
    body["replaces"] = json!(old);
    let (status, app) = w
        .call(&w.unit, Method::POST, "/api/v1/applications", body)
        .await;
    assert_eq!(status, 201, "{app}");
    let app = w.approve_both(app["id"].as_i64().unwrap()).await;
    let new = app["number"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let replaced = feed(&w.county_station).await.into_iter().any(|i| {
        matches!(&i.body, FeedBody::StatusChange(n)
            if n.change.number == old && n.change.new_number.as_deref() == Some(new.as_str()))
    });
    assert!(replaced, "the old number is reported replaced by {new}");
}

/// The one validity rule at the registry's approval: five years from the
/// announcement date, ended by the statutory retirement date when earlier.
#[tokio::test]
async fn approval_dates_the_certificate_by_the_validity_rule() {
    let w = world().await;
    let id = w.submit("张三").await;
    w.approve_both(id).await;
    let mut body = form("李四");
    body["id_number"] = json!(RETIRING_ID);
    let (status, app) = w
        .call(&w.unit, Method::POST, "/api/v1/applications", body)
        .await;
    assert_eq!(status, 201, "{app}");
    w.approve_both(app["id"].as_i64().unwrap()).await;
    let orders: Vec<_> = feed(&w.county_station)
        .await
        .into_iter()
        .filter_map(|i| match i.body {
            FeedBody::IssuanceOrder(o) => Some(o),
            _ => None,
        })
        .collect();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert_eq!(orders.len(), 2);
    // Five years, same month and day (not "60 months - 1 day" from the approval).
    assert_eq!(orders[0].certificate.valid_from, d(2025, 9, 1));
    assert_eq!(orders[0].certificate.valid_until, d(2030, 9, 1));
    // Retiring within the five years: the retirement date ends it.
    assert_eq!(orders[1].certificate.valid_from, d(2025, 9, 1));
    assert_eq!(orders[1].certificate.valid_until, d(2029, 9, 15));

    // An end date that is not the rule's is refused when filed, with the right date.
    let mut body = form("王五");
    body["valid_until"] = json!("2030-08-31");
    let (status, e) = w
        .call(&w.unit, Method::POST, "/api/v1/applications", body)
        .await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("应为2030-09-01"),
        "{e}"
    );
}

/// Eligibility where the application is decided: a second live certificate for one
/// person is refused at approval (its own code); an exam that failed is refused at
/// filing; missing facts are shown to the reviewer.
#[tokio::test]
async fn approval_refuses_an_ineligible_person_with_the_reason() {
    let w = world().await;
    let first = w.submit("张三").await;
    w.approve_both(first).await;

    // The same person again, not as 换证: refused at the first approving level.
    let second = w.submit("张三").await;
    let (s, e) = w.act(&w.county, second, "approve", json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("ineligible_already_certified")),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("一人只能持有一个证件"),
        "{e}"
    );
    let (_, findings) = w
        .call(
            &w.county,
            Method::GET,
            &format!("/api/v1/applications/{second}/eligibility"),
            Value::Null,
        )
        .await;
    assert_eq!(
        findings["ineligible"][0]["code"], "ineligible_already_certified",
        "{findings}"
    );
    // Nothing changed: still waiting for the county.
    let (_, app) = w
        .call(
            &w.unit,
            Method::GET,
            &format!("/api/v1/applications/{second}"),
            Value::Null,
        )
        .await;
    assert_eq!(app["state"], "submitted");

    // Data already wrong at filing: refused there.
    for (field, value, words) in [
        ("law_exam_score", json!(59), "未达到60分"),
        ("staffing", json!("worker"), "机关工勤人员"),
        ("law_exam_on", json!("2023-07-20"), "超过三年"),
        ("holds_national_certificate", json!(true), "国家部委"),
    ] {
        let mut body = form("王五");
        body[field] = value;
        let (status, e) = w
            .call(&w.unit, Method::POST, "/api/v1/applications", body)
            .await;
        assert_eq!(status, 422, "{field}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(words),
            "{field}: {e}"
        );
    }

    // Facts missing (as from a station's roster): filed, and the reviewer sees them.
    let mut body = form("赵六");
    for k in ["law_exam_on", "law_exam_score", "staffing"] {
        body.as_object_mut().unwrap().remove(k);
    }
    let (status, app) = w
        .call(&w.unit, Method::POST, "/api/v1/applications", body)
        .await;
    assert_eq!(status, 201, "{app}");
    // Each level decides within 3 working days: filed Monday 2026-11-23, due Thursday.
    assert_eq!(app["decide_by"], "2026-11-26", "{app}");
    assert_eq!(app["overdue"], false);
    let id = app["id"].as_i64().unwrap();
    let (_, findings) = w
        .call(
            &w.county,
            Method::GET,
            &format!("/api/v1/applications/{id}/eligibility"),
            Value::Null,
        )
        .await;
    assert_eq!(findings["ineligible"], json!([]), "{findings}");
    let codes: Vec<&str> = findings["unverified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["unverified_law_exam", "unverified_staffing"]);
}

/// 换证 after a move: the new number is made from the region and department codes of
/// the holder's NEW unit (「地区代码和部门代码是固定的」: the codes are the unit's),
/// reviewed by the new unit's county and the city; and central numbering skips
/// nothing by default (the 4th number of a pair ends in 0004).
#[tokio::test]
async fn a_replacement_for_a_new_unit_is_numbered_under_the_new_units_codes() {
    let w = world().await;
    let mut numbers = Vec::new();
    // Four people (one certificate each: eligibility refuses a second).
    for name in ["张三", "李四", "王五", "赵六"] {
        let id = w.submit(name).await;
        numbers.push(
            w.approve_both(id).await["number"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        numbers,
        ["川X04020001", "川X04020002", "川X04020003", "川X04020004"]
    );
    let (status, body) = w
        .reg
        .admin(
            Method::POST,
            "/api/v1/admin/units",
            json!({"name": "广安区卫生健康局", "region": "川X01", "department": "21"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let new_unit = account(&w.reg, json!({"username": "ga-health", "role": "unit", "unit": "广安区卫生健康局", "org_name": "广安区卫生健康局"})).await;

    let mut body = form("王五");
    body["replaces"] = json!(numbers[2]);
    let (status, app) = w
        .call(&new_unit, Method::POST, "/api/v1/applications", body)
        .await;
    assert_eq!(status, 201, "{app}");
    let id = app["id"].as_i64().unwrap();
    // The old unit's county does not review it; the new unit's county does.
    let (s, _) = w.act(&w.county, id, "approve", json!({})).await;
    assert_eq!(s, 404, "another county's application is not even seen");
    let (s, app) = w.act(&w.other_county, id, "approve", json!({})).await;
    assert_eq!(
        (s, app["state"].as_str()),
        (200, Some("county_approved")),
        "{app}"
    );
    let (s, app) = w.act(&w.city, id, "approve", json!({})).await;
    assert_eq!((s, app["state"].as_str()), (200, Some("approved")), "{app}");
    assert_eq!(app["number"], "川X01210001", "{app}");
}

/// An application without the holder's photo is refused when the unit files it, and
/// one that has none by the time it is approved (filed before photos were required)
/// is refused at approval with nothing recorded — not when a station writes the card.
#[tokio::test]
async fn an_application_without_a_photo_is_refused_when_filed_and_when_approved() {
    let w = world().await;
    let mut no_photo = form("赵六");
    no_photo.as_object_mut().unwrap().remove("photo_jpeg");
    let (s, e) = w
        .call(&w.unit, Method::POST, "/api/v1/applications", no_photo)
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("photo_missing")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("照片"), "{e}");
    let (_, list) = w
        .call(&w.unit, Method::GET, "/api/v1/applications", Value::Null)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");

    // Filed with a photo, which is then gone (an application from before the rule).
    let id = w.submit("赵六").await;
    w.reg
        .open_db_rw()
        .execute(
            "UPDATE applications SET photo_jpeg = NULL WHERE id = ?1",
            params![id],
        )
        .unwrap();
    let (s, e) = w.act(&w.county, id, "approve", json!({})).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("photo_missing")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("退回"), "{e}");
    let (_, app) = w
        .call(
            &w.county,
            Method::GET,
            &format!("/api/v1/applications/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(app["state"], "submitted", "{app}");
    assert!(app["number"].is_null(), "{app}");
}

/// A roster row with the template's eligibility columns (通用法律知识考试时间/成绩,
/// 编制情况) carries them into the application: the reviewer sees nothing unverified,
/// and a row whose facts fail is refused at filing with the rule's reason.
#[tokio::test]
async fn a_roster_row_with_the_eligibility_columns_arrives_verified() {
    let w = world().await;
    let row = |score: u16| {
        let mut r: RosterRow = serde_json::from_value(json!({
            "kind": "new", "excel_row": 3, "county": "岳池县", "name": "孙八",
            "unit": "岳池县教育局", "certificate_number": null, "valid_until": null,
            "citizen_id": "11010519850601002X", "gender": "female", "ethnicity": "汉族",
            "birth_date": "1985-06-01", "political_status": PoliticalStatus::ALL[0],
            "valid_from": null, "education": "本科", "major": "法学", "rank_code": "020201",
            "law_major": true, "legal_qualification": false, "posts": [PostCode::ByAuthority],
            "exam_category": "综合",
        }))
        .unwrap();
        r.law_exam_on = Some(NaiveDate::from_ymd_opt(2025, 7, 20).unwrap());
        r.law_exam_score = Some(score);
        r.staffing = Some(ecard_domain::eligibility::Staffing::CivilServant);
        r.org_nature = Some("法律法规授权组织".into());
        r.position = Some("大队长".into());
        r
    };
    let photo = base64::engine::general_purpose::STANDARD
        .encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F']);
    let defaults = json!({"certificate_kind": "enforcement", "category": "教育", "area": "岳池县"});
    let bulk = |score: u16| {
        json!({"defaults": defaults, "rows": [row(score)],
               "photos": { "11010519850601002X": photo }})
    };
    let (s, e) = w
        .call(&w.unit, Method::POST, "/api/v1/applications/bulk", bulk(59))
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("未达到60分"), "{e}");
    let (s, r) = w
        .call(&w.unit, Method::POST, "/api/v1/applications/bulk", bulk(78))
        .await;
    assert_eq!(s, 201, "{r}");
    let id = r["ids"][0].as_i64().unwrap();
    let (_, findings) = w
        .call(
            &w.county,
            Method::GET,
            &format!("/api/v1/applications/{id}/eligibility"),
            Value::Null,
        )
        .await;
    assert_eq!(findings["ineligible"], json!([]), "{findings}");
    assert_eq!(findings["unverified"], json!([]), "{findings}");
    // The 信息收集表's free-text facts arrive on the reviewer's form too.
    let (s, app) = w
        .call(
            &w.county,
            Method::GET,
            &format!("/api/v1/applications/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(s, 200, "{app}");
    let text = app.to_string();
    assert!(
        text.contains("法律法规授权组织") && text.contains("大队长"),
        "{app}"
    );
}
