//! The reviewers' pages' JSON (`/web/v1`, docs/REGISTRY.md) against the real
//! binary on loopback: logins and their guards, the whole review through the
//! pages down to the issuance order in a station's feed, one county kept out of
//! another's applications (pages and bearer API). Idle sessions and overdue
//! marking run in-process, where the idle limit and the days can be set.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use common::{feed_of, Registry};
use ecard_registry::api::{router_with_pages, AppState};
use ecard_registry::storage::Storage;
use ecard_registry::web::WebGuards;
use ecard_sync_protocol::client::http_client;
use ecard_sync_protocol::feed::FeedBody;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

const PASSWORD: &str = "correct horse 7";

/// A browser's side of one login: the session cookie.
struct Page<'a> {
    reg: &'a Registry,
    cookie: String,
}

async fn raw(
    reg: &Registry,
    cookie: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = http_client(&reg.url, reg.tls)
        .unwrap()
        .request(method.clone(), format!("{}{path}", reg.url));
    if method != Method::GET {
        req = req.header("x-requested-with", "ecard");
    }
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn parse(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn login<'a>(reg: &'a Registry, username: &str) -> Page<'a> {
    let resp = raw(
        reg,
        None,
        Method::POST,
        "/web/v1/session",
        Some(json!({"username": username, "password": PASSWORD})),
        &[],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200, "login {username}");
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    Page { reg, cookie }
}

impl Page<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        parse(
            raw(
                self.reg,
                Some(&self.cookie),
                method,
                &format!("/web/v1/{path}"),
                body,
                &[],
            )
            .await,
        )
        .await
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
}

async fn account(reg: &Registry, body: Value) -> String {
    let (status, created) = reg
        .admin(Method::POST, "/api/v1/admin/accounts", body.clone())
        .await;
    assert_eq!(status, 201, "{created}");
    let username = body["username"].as_str().unwrap();
    let pw = reg.dir.path().join("pw");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let out = reg.cli(&[
        "admin",
        "set-password",
        "--username",
        username,
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    created["token"].as_str().unwrap().to_owned()
}

struct Tokens {
    other_county: String,
}

/// 岳池县教育局 (county-level unit in 川X04) with its county and city bureaus, a
/// second county (广安区, 川X01), the province.
async fn world(reg: &Registry) -> Tokens {
    for unit in [
        json!({"name": "岳池县教育局", "region": "川X04", "department": "02"}),
        json!({"name": "广安区交通局", "region": "川X01", "department": "02"}),
    ] {
        let (status, body) = reg.admin(Method::POST, "/api/v1/admin/units", unit).await;
        assert_eq!(status, 201, "{body}");
    }
    account(reg, json!({"username": "yc-edu", "role": "unit", "unit": "岳池县教育局", "org_name": "岳池县教育局"})).await;
    account(reg, json!({"username": "ga-jt", "role": "unit", "unit": "广安区交通局", "org_name": "广安区交通局"})).await;
    account(reg, json!({"username": "yc-justice", "role": "county", "region": "川X04", "org_name": "岳池县司法局"})).await;
    let other_county = account(reg, json!({"username": "ga-justice", "role": "county", "region": "川X01", "org_name": "广安区司法局"})).await;
    account(reg, json!({"username": "gac-justice", "role": "city", "region": "川X", "org_name": "广安市司法局"})).await;
    account(
        reg,
        json!({"username": "sc-justice", "role": "province", "org_name": "四川省司法厅"}),
    )
    .await;
    account(
        reg,
        json!({"username": "sc-admin", "role": "admin", "org_name": "四川省司法厅"}),
    )
    .await;
    Tokens { other_county }
}

/// One person per name (eligibility refuses a second certificate to one person),
/// each born in 1985, far from retirement.
fn id_for(name: &str) -> &'static str {
    match name {
        "李四" => "110105198506020041",
        "王五" => "110105198506030127",
        "赵六" => "110105198506040229",
        "钱七" => "110105198506050320",
        _ => "11010519850601002X",
    }
}

fn form(name: &str, category: &str) -> Value {
    // The photo the chip photo is made from: an application without one is refused.
    let photo = base64::engine::general_purpose::STANDARD
        .encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F']);
    json!({
        "name": name, "id_number": id_for(name), "ethnicity": "汉族",
        "certificate_kind": "enforcement", "posts": "01", "category": category, "area": "岳池县",
        "photo_jpeg": photo,
    })
}

#[tokio::test]
async fn a_unit_files_the_county_rejects_the_unit_resubmits_both_bureaus_approve_and_the_station_gets_the_order(
) {
    let reg = Registry::start();
    world(&reg).await;
    let (station, _) = reg.enroll("yuechi", Some("川X04"));
    let unit = login(&reg, "yc-edu").await;
    let county = login(&reg, "yc-justice").await;
    let city = login(&reg, "gac-justice").await;

    let (s, filed) = unit.post("applications", form("张三", "教育")).await;
    assert_eq!(s, 201, "{filed}");
    let id = filed["id"].as_i64().unwrap();
    assert_eq!(filed["state_label"], "待审核");
    assert_eq!(filed["kind_label"], "新申领");

    // The county's queue has it with three working days left (filed today).
    let (s, q) = county.get("queue").await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["items"][0]["id"], id);
    assert_eq!(q["items"][0]["deadline"]["working_days_left"], 3);
    // The filters: unit, kind, submission date; a filter that is not one is refused.
    let unit_id = q["items"][0]["unit_id"].as_i64().unwrap();
    let count = |v: &Value| v["items"].as_array().unwrap().len();
    for (filter, want) in [
        (format!("unit={unit_id}"), 1),
        (format!("unit={}", unit_id + 100), 0),
        ("kind=new".to_owned(), 1),
        ("kind=replacement".to_owned(), 0),
        ("from=2026-11-23&to=2026-11-23".to_owned(), 1),
        ("from=2026-11-24".to_owned(), 0),
    ] {
        let (s, v) = county.get(&format!("queue?{filter}")).await;
        assert_eq!((s, count(&v)), (200, want), "{filter}: {v}");
    }
    let (s, e) = county.get("queue?kind=card&from=yesterday").await;
    assert_eq!((s, e["code"].as_str()), (400, Some("bad_filter")), "{e}");
    // The city does not: not its turn yet.
    let (_, q) = city.get("queue").await;
    assert_eq!(q["items"].as_array().unwrap().len(), 0, "{q}");

    // A rejection needs its reason; with it, it goes back to the unit.
    let (s, e) = county
        .post(
            &format!("applications/{id}/reject"),
            json!({"reason": "  "}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("reason_required")),
        "{e}"
    );
    let (s, r) = county
        .post(
            &format!("applications/{id}/reject"),
            json!({"reason": "执法类别填写有误"}),
        )
        .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("rejected")), "{r}");
    let (_, mine) = unit.get("applications").await;
    assert_eq!(mine["items"][0]["reason"], "执法类别填写有误");
    assert_eq!(mine["items"][0]["state_label"], "退回（审核未通过）");
    let (_, d) = unit.get(&format!("applications/{id}/detail")).await;
    assert_eq!(d["can_edit"], true, "{d}");

    // The unit edits and resubmits.
    let (s, e) = unit
        .call(
            Method::PUT,
            &format!("applications/{id}"),
            Some(form("张三", "教育行政执法")),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    let (s, r) = unit
        .post(&format!("applications/{id}/resubmit"), json!({}))
        .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("submitted")), "{r}");

    // County, then city (several at once: the city selects it in its queue).
    let (s, r) = county
        .post(&format!("applications/{id}/approve"), json!({}))
        .await;
    assert_eq!(
        (s, r["state"].as_str()),
        (200, Some("county_approved")),
        "{r}"
    );
    let (_, q) = city.get("queue").await;
    assert_eq!(q["items"][0]["id"], id, "{q}");
    let (s, out) = city.post("approve", json!({"ids": [id, 999]})).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out[0]["ok"], true, "{out}");
    assert_eq!(out[1]["ok"], false, "{out}");
    assert!(
        out[1]["message"].as_str().unwrap().contains("未找到"),
        "{out}"
    );

    // The history tells who decided what, when, why.
    let (_, d) = county.get(&format!("applications/{id}/detail")).await;
    let actions: Vec<&str> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["submit", "reject", "edit", "resubmit", "approve", "approve"]
    );
    assert_eq!(d["history"][1]["reason"], "执法类别填写有误");
    assert_eq!(d["history"][1]["actor"], "yc-justice");
    assert_eq!(d["state_label"], "已通过");
    assert!(
        d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["label"] == "执法类别" && f["value"] == "教育行政执法"),
        "{d}"
    );

    // The order reaches the unit's station through the sync channel.
    let key = station.registry_key().await.unwrap().public_key().unwrap();
    let items = station.feed(0, 100, &key).await.unwrap().items;
    let order = items.iter().find_map(|i| match &i.body {
        FeedBody::IssuanceOrder(o) if o.application_id == id => Some(o),
        _ => None,
    });
    let order = order.expect("the issuance order in the station's feed");
    assert_eq!(order.holder.name, "张三");

    // Send-back on the unit's request: once, and only before the card is written.
    let (s, r) = unit
        .post(
            &format!("applications/{id}/send-back"),
            json!({"reason": "岗位填错"}),
        )
        .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("returned")), "{r}");
    let (s, r) = unit
        .post(&format!("applications/{id}/resubmit"), json!({}))
        .await;
    assert_eq!(s, 200, "{r}");
    county
        .post(&format!("applications/{id}/approve"), json!({}))
        .await;
    let (_, r) = city
        .post(&format!("applications/{id}/approve"), json!({}))
        .await;
    assert_eq!(r["state"], "approved", "{r}");
    let (s, e) = unit
        .post(
            &format!("applications/{id}/send-back"),
            json!({"reason": "再改"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("already_sent_back")),
        "{e}"
    );

    // The station writes the card and reports it: the statistics count it.
    let payload = json!({
        "number": order.certificate.number, "serial": "00000000000000A1", "chip_key": "04".repeat(65),
        "sod": "30".repeat(200), "issued_on": "2026-11-23", "id_number": "11010519850601002X",
    });
    let body = ecard_sync_protocol::events::EventBody::decode("card_issued", &payload).unwrap();
    let event = ecard_sync_protocol::events::StationEvent::new(
        "yuechi-00000001",
        1,
        &body,
        "2026-11-23T10:00:00.000Z",
    );
    station.push_events(vec![event]).await.unwrap();
    let province = login(&reg, "sc-justice").await;
    let (s, stats) = province.get("stats").await;
    assert_eq!(s, 200, "{stats}");
    let row = &stats["per_unit_month"][0];
    assert_eq!(
        (
            row["unit"].as_str(),
            row["month"].as_str(),
            row["issued"].as_u64()
        ),
        (Some("岳池县教育局"), Some("2026-11"), Some(1)),
        "{stats}"
    );
    let svg = raw(
        &reg,
        Some(&province.cookie),
        Method::GET,
        "/web/v1/stats/chart.svg",
        None,
        &[],
    )
    .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("2026-11"));
    let _ = feed_of(&station, 0, 10).await.unwrap();
}

#[tokio::test]
async fn a_county_reviewer_neither_sees_nor_decides_another_countys_applications() {
    let reg = Registry::start();
    let t = world(&reg).await;
    let unit = login(&reg, "yc-edu").await;
    let (_, filed) = unit.post("applications", form("李四", "教育")).await;
    let id = filed["id"].as_i64().unwrap();
    let other = login(&reg, "ga-justice").await;

    let (_, q) = other.get("queue").await;
    assert_eq!(q["items"].as_array().unwrap().len(), 0, "{q}");
    let (_, all) = other.get("applications").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 0, "{all}");
    for path in [
        format!("applications/{id}/detail"),
        format!("applications/{id}/photo"),
    ] {
        let (s, e) = other.get(&path).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (404, Some("not_found")),
            "{path}: {e}"
        );
    }
    let (s, _) = other
        .post(&format!("applications/{id}/approve"), json!({}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .post(&format!("applications/{id}/reject"), json!({"reason": "x"}))
        .await;
    assert_eq!(s, 404);
    let (_, out) = other.post("approve", json!({"ids": [id]})).await;
    assert_eq!(out[0]["ok"], false, "{out}");
    // The bearer-token API says the same.
    let (s, _) = common::call(
        &reg,
        &t.other_county,
        Method::GET,
        &format!("/api/v1/applications/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = common::call(
        &reg,
        &t.other_county,
        Method::POST,
        &format!("/api/v1/applications/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, 404);
    // Still waiting for its own county.
    let own = login(&reg, "yc-justice").await;
    let (_, q) = own.get("queue").await;
    assert_eq!(q["items"][0]["id"], id);
    assert_eq!(q["items"][0]["state"], "submitted");
}

#[tokio::test]
async fn the_pages_guards_refuse_before_anything_is_read_or_changed() {
    let reg = Registry::start();
    world(&reg).await;
    // A wrong password and an unknown user get the same answer.
    for (user, pw) in [("yc-edu", "wrong password"), ("nobody", PASSWORD)] {
        let (s, e) = parse(
            raw(
                &reg,
                None,
                Method::POST,
                "/web/v1/session",
                Some(json!({"username": user, "password": pw})),
                &[],
            )
            .await,
        )
        .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (401, Some("bad_credentials")),
            "{e}"
        );
    }
    // No session: 401 on every page call.
    let (s, _) = parse(raw(&reg, None, Method::GET, "/web/v1/queue", None, &[]).await).await;
    assert_eq!(s, 401);
    let unit = login(&reg, "yc-edu").await;
    // The role is checked before the body is read: a unit's garbage to a reviewer's route is 403.
    let resp = reqwest_raw_body(&reg, &unit.cookie, "/web/v1/approve", "not json").await;
    assert_eq!(parse(resp).await.1["code"], "forbidden");
    let (s, e) = unit.get("queue").await;
    assert_eq!((s, e["code"].as_str()), (403, Some("forbidden")));
    let (s, _) = unit.get("admin/overview").await;
    assert_eq!(s, 403);
    // A change without X-Requested-With is refused, nothing filed.
    let resp = http_client(&reg.url, reg.tls)
        .unwrap()
        .post(format!("{}/web/v1/applications", reg.url))
        .header("cookie", &unit.cookie)
        .json(&form("王五", "教育"))
        .send()
        .await
        .unwrap();
    assert_eq!(parse(resp).await.1["code"], "csrf_refused");
    let (_, mine) = unit.get("applications").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    // A page asked for under another host name (DNS rebinding) is refused.
    let (s, e) = parse(
        raw(
            &reg,
            None,
            Method::GET,
            "/web/",
            None,
            &[("host", "attacker.example")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (403, Some("host_not_allowed")),
        "{e}"
    );
    // The page itself, with its headers; the bearer API is untouched by all this.
    let page = raw(&reg, None, Method::GET, "/web/", None, &[]).await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    let (s, _) = reg
        .admin(Method::GET, "/api/v1/admin/stations", Value::Null)
        .await;
    assert_eq!(s, 200);
    // Logout ends the session.
    let (s, _) = unit.call(Method::DELETE, "session", None).await;
    assert_eq!(s, 204);
    let (s, _) = unit.get("session").await;
    assert_eq!(s, 401);
}

async fn reqwest_raw_body(
    reg: &Registry,
    cookie: &str,
    path: &str,
    body: &str,
) -> reqwest::Response {
    http_client(&reg.url, reg.tls)
        .unwrap()
        .post(format!("{}{path}", reg.url))
        .header("cookie", cookie)
        .header("x-requested-with", "ecard")
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

// ---- in-process: the idle limit and the days ----

/// Serves the pages over `storage` on a loopback port; returns the base URL.
async fn serve_in_process(storage: Storage, idle: chrono::TimeDelta) -> String {
    let mut guards = WebGuards::new(None, false).unwrap();
    guards.idle = idle;
    let state = AppState {
        storage: Arc::new(storage),
        key: Arc::new(card_profile::pki::SigningKey::generate().unwrap()),
        admin_digest: "".into(),
    };
    let app = router_with_pages(state, Arc::new(guards));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    url
}

fn seed(storage: &Storage) {
    use ecard_registry::storage::{NewUnit, Role};
    let unit = ecard_registry::workflow::service::add_unit(
        storage,
        &NewUnit {
            name: "岳池县教育局".into(),
            region: "川X04".into(),
            department: "02".into(),
            province_level: false,
        },
    )
    .unwrap();
    let phc = ecard_registry::web::password::hash_password(PASSWORD).unwrap();
    for (name, role, unit_id, region) in [
        ("yc-edu", Role::Unit, Some(unit.id), None),
        ("yc-justice", Role::County, None, Some("川X04")),
    ] {
        storage
            .add_account(
                name,
                role,
                unit_id,
                region,
                "机关",
                &format!("digest-{name}"),
            )
            .unwrap();
        assert!(storage.set_account_password(name, &phc).unwrap());
    }
}

async fn login_at(url: &str, user: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{url}/web/v1/session"))
        .header("x-requested-with", "ecard")
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn get_at(url: &str, cookie: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{url}/web/v1/{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    parse(resp).await
}

/// The database an in-process registry of this test uses: its own PostgreSQL
/// database on a PostgreSQL run (kept while the second value lives), a SQLite file
/// in `dir` otherwise.
fn test_database(
    dir: &tempfile::TempDir,
) -> (
    ecard_registry::storage::db::DatabaseUrl,
    Option<ecard_test_support::postgres::TestDatabase>,
) {
    use ecard_registry::storage::db::DatabaseUrl;
    match ecard_test_support::postgres::fresh_database() {
        Some(pg) => (DatabaseUrl::Postgres(pg.url.clone()), Some(pg)),
        None => (DatabaseUrl::Sqlite(dir.path().join("r.db")), None),
    }
}

#[tokio::test]
async fn an_idle_session_ends() {
    let day = common::test_day();
    let dir = tempfile::tempdir().unwrap();
    let (db, _pg) = test_database(&dir);
    let storage = common::off_runtime(|| {
        let storage = Storage::open_url(&db, ecard_clock::Clock::starting_on(day)).unwrap();
        seed(&storage);
        storage
    });
    let url = serve_in_process(storage, chrono::TimeDelta::milliseconds(1500)).await;
    let cookie = login_at(&url, "yc-justice").await;
    assert_eq!(get_at(&url, &cookie, "session").await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    let (s, e) = get_at(&url, &cookie, "session").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (401, Some("unauthenticated")),
        "{e}"
    );
}

#[tokio::test]
async fn an_application_past_three_working_days_is_marked_overdue() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _pg) = test_database(&dir);
    // Filed on Thursday 2026-11-19 ...
    common::off_runtime(|| {
        let storage = Storage::open_url(
            &db,
            ecard_clock::Clock::frozen_on(chrono::NaiveDate::from_ymd_opt(2026, 11, 19).unwrap()),
        )
        .unwrap();
        seed(&storage);
        let acc = storage
            .account_by_token_digest("digest-yc-edu")
            .unwrap()
            .unwrap();
        let form: ecard_registry::form::ApplicationForm =
            serde_json::from_value(form("赵六", "教育")).unwrap();
        let checked = form
            .check(storage.clock().today(), storage.province())
            .unwrap();
        ecard_registry::workflow::service::submit_applications(&storage, &acc, vec![checked])
            .unwrap();
    });
    // ... seen on Tuesday 24th (due: Fri, Mon, Tue) and Wednesday 25th (overdue).
    for (day, left, overdue) in [(24, 0, false), (25, -1, true)] {
        let storage = common::off_runtime(|| {
            Storage::open_url(
                &db,
                ecard_clock::Clock::starting_on(
                    chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
                ),
            )
            .unwrap()
        });
        let url = serve_in_process(storage, chrono::TimeDelta::minutes(30)).await;
        let cookie = login_at(&url, "yc-justice").await;
        let (s, q) = get_at(&url, &cookie, "queue").await;
        assert_eq!(s, 200, "{q}");
        let item = &q["items"][0];
        assert_eq!(item["deadline"]["since"], "2026-11-19", "{q}");
        assert_eq!(item["deadline"]["due_on"], "2026-11-24");
        assert_eq!(
            item["deadline"]["working_days_left"], left,
            "on the {day}th"
        );
        assert_eq!(item["deadline"]["overdue"], overdue, "on the {day}th");
        let (_, stats) = get_at(&url, &cookie, "stats").await;
        assert_eq!(stats["overdue"], if overdue { 1 } else { 0 }, "{stats}");
    }
}

/// An upload of `bytes` under `name` to `path`, with the session `cookie` or the
/// bearer `token`.
async fn upload(
    reg: &Registry,
    auth: (&str, &str),
    path: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let req = http_client(&reg.url, reg.tls)
        .unwrap()
        .post(format!("{}{path}", reg.url))
        .query(&[("name", name)])
        .header("x-requested-with", "ecard")
        // The client's word for the type is never used.
        .header("content-type", "application/pdf")
        .header(auth.0, auth.1)
        .body(bytes);
    parse(req.send().await.unwrap()).await
}

fn pdf(len: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n".to_vec();
    b.resize(len, b' ');
    b
}

#[tokio::test]
async fn proof_materials_are_checked_by_content_bounded_and_shown_only_to_who_oversees_them() {
    let reg = Registry::start();
    let t = world(&reg).await;
    let unit = login(&reg, "yc-edu").await;
    let county = login(&reg, "yc-justice").await;
    let other = login(&reg, "ga-justice").await;
    let (_, filed) = unit.post("applications", form("李四", "教育")).await;
    let id = filed["id"].as_i64().unwrap();
    let path = format!("/web/v1/applications/{id}/materials");
    let cookie = ("cookie", unit.cookie.as_str());

    // A PDF by its bytes, under a name with a path and a quote: filed, name cleaned.
    let (s, m) = upload(&reg, cookie, &path, "..\\scans/任职\"文件.pdf", pdf(2000)).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["media_type"], "application/pdf");
    assert_eq!(m["file_name"], "任职文件.pdf");
    assert_eq!(m["size"], 2000);
    let mid = m["id"].as_i64().unwrap();
    // HTML named .pdf and sent as application/pdf: refused by its content.
    let (s, e) = upload(
        &reg,
        cookie,
        &path,
        "x.pdf",
        b"<html><script>alert(1)</script>".to_vec(),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (415, Some("material_type")), "{e}");
    // Over 5 MB: refused without being filed.
    let (s, e) = upload(&reg, cookie, &path, "big.pdf", pdf(5 * 1024 * 1024 + 1)).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (413, Some("material_too_large")),
        "{e}"
    );
    // A PNG by its bytes, named .txt: filed as a PNG.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let (s, m2) = upload(&reg, cookie, &path, "scan.txt", png.clone()).await;
    assert_eq!(
        (s, m2["media_type"].as_str()),
        (201, Some("image/png")),
        "{m2}"
    );
    // Up to ten per application.
    for n in 2..10 {
        let (s, e) = upload(&reg, cookie, &path, &format!("p{n}.pdf"), pdf(100)).await;
        assert_eq!(s, 201, "{n}: {e}");
    }
    let (s, e) = upload(&reg, cookie, &path, "p11.pdf", pdf(100)).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("too_many_materials")),
        "{e}"
    );
    // A reviewer may not upload (role before body).
    let (s, _) = upload(
        &reg,
        ("cookie", county.cookie.as_str()),
        &path,
        "r.pdf",
        pdf(100),
    )
    .await;
    assert_eq!(s, 403);

    // The county sees them on the application's page and opens them with safe headers.
    let (_, d) = county.get(&format!("applications/{id}/detail")).await;
    let listed = d["materials"].as_array().unwrap();
    assert_eq!(listed.len(), 10, "{d}");
    assert_eq!(listed[0]["file_name"], "任职文件.pdf");
    assert_eq!(listed[0]["type_label"], "PDF 文件");
    let resp = raw(
        &reg,
        Some(&county.cookie),
        Method::GET,
        &format!("{path}/{mid}"),
        None,
        &[],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let disposition = h["content-disposition"].to_str().unwrap();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"material-{mid}.pdf\"; filename*=UTF-8''%E4%BB%BB%E8%81%8C%E6%96%87%E4%BB%B6.pdf")
    );
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(resp.bytes().await.unwrap().to_vec(), pdf(2000));
    let resp = raw(
        &reg,
        Some(&county.cookie),
        Method::GET,
        &format!("{path}/{}", m2["id"]),
        None,
        &[],
    )
    .await;
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline;"));

    // Another county: 404 for the material, as for the application, in the pages and the API.
    let (s, e) = parse(
        raw(
            &reg,
            Some(&other.cookie),
            Method::GET,
            &format!("{path}/{mid}"),
            None,
            &[],
        )
        .await,
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (404, Some("not_found")), "{e}");
    let (s, _) = common::call(
        &reg,
        &t.other_county,
        Method::GET,
        &format!("/api/v1/applications/{id}/materials"),
        Value::Null,
    )
    .await;
    assert_eq!(s, 404);
    // A material id of another application is not found under this one.
    let (_, second) = unit.post("applications", form("王五", "教育")).await;
    let (s, _) = parse(
        raw(
            &reg,
            Some(&county.cookie),
            Method::GET,
            &format!("/web/v1/applications/{}/materials/{mid}", second["id"]),
            None,
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);

    // Programs: the unit's bearer token files one, and lists them.
    let token = account(&reg, json!({"username": "yc-edu-prog", "role": "unit", "unit": "岳池县教育局", "org_name": "岳池县教育局"})).await;
    let bearer = format!("Bearer {token}");
    let sid = second["id"].as_i64().unwrap();
    let (s, m) = upload(
        &reg,
        ("authorization", &bearer),
        &format!("/api/v1/applications/{sid}/materials"),
        "photo.jpg",
        vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16],
    )
    .await;
    assert_eq!(
        (s, m["media_type"].as_str()),
        (201, Some("image/jpeg")),
        "{m}"
    );
    let (s, list) = common::call(
        &reg,
        &token,
        Method::GET,
        &format!("/api/v1/applications/{sid}/materials"),
        Value::Null,
    )
    .await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)), "{list}");

    // Once approved by the county, nothing more is added.
    let (s, _) = county
        .post(&format!("applications/{id}/approve"), json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, e) = upload(
        &reg,
        cookie,
        &format!("/web/v1/applications/{sid}/materials"),
        "late.pdf",
        pdf(10),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    let (s, e) = upload(&reg, cookie, &path, "late.pdf", pdf(10)).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("wrong_state")), "{e}");
}

#[tokio::test]
async fn the_administrator_keeps_the_lists_and_the_reviewers_cannot_while_it_decides_nothing() {
    let reg = Registry::start();
    world(&reg).await;
    reg.enroll("yuechi", Some("川X04"));
    let unit = login(&reg, "yc-edu").await;
    let (_, filed) = unit.post("applications", form("李四", "教育")).await;
    let id = filed["id"].as_i64().unwrap();
    let admin = login(&reg, "sc-admin").await;
    let (s, me) = admin.get("session").await;
    assert_eq!(
        (s, me["role_label"].as_str()),
        (200, Some("系统管理员")),
        "{me}"
    );

    // The administrator: the lists, and a station disabled and enabled again.
    let (s, o) = admin.get("admin/overview").await;
    assert_eq!(s, 200, "{o}");
    assert!(o["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["role"] == "admin"));
    let (s, st) = admin
        .post("admin/stations/yuechi/enabled", json!({"enabled": false}))
        .await;
    assert_eq!((s, st["disabled"].as_bool()), (200, Some(true)), "{st}");
    let (s, _) = admin
        .post("admin/stations/yuechi/enabled", json!({"enabled": true}))
        .await;
    assert_eq!(s, 200);

    // Every reviewer, the province department included, and the unit: refused
    // before the body is read, the station left as it is.
    for who in ["sc-justice", "gac-justice", "yc-justice", "yc-edu"] {
        let page = login(&reg, who).await;
        let (s, e) = page.get("admin/overview").await;
        assert_eq!(
            (s, e["code"].as_str()),
            (403, Some("forbidden")),
            "{who}: {e}"
        );
        let resp = reqwest_raw_body(
            &reg,
            &page.cookie,
            "/web/v1/admin/stations/yuechi/enabled",
            "not json",
        )
        .await;
        assert_eq!(parse(resp).await.0, 403, "{who}");
    }
    let (_, o) = admin.get("admin/overview").await;
    assert_eq!(o["stations"][0]["disabled"], false, "{o}");

    // The administrator decides nothing and sees no application.
    let (s, e) = admin
        .post(&format!("applications/{id}/approve"), json!({}))
        .await;
    assert_eq!((s, e["code"].as_str()), (403, Some("forbidden")), "{e}");
    let (s, _) = admin.post("approve", json!({"ids": [id]})).await;
    assert_eq!(s, 403);
    let (s, _) = admin.get("queue").await;
    assert_eq!(s, 403);
    let (s, e) = admin.get(&format!("applications/{id}/detail")).await;
    assert_eq!((s, e["code"].as_str()), (404, Some("not_found")), "{e}");
    let (_, all) = admin.get("applications").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 0, "{all}");
    // Still waiting for its county.
    let county = login(&reg, "yc-justice").await;
    let (_, q) = county.get("queue").await;
    assert_eq!(q["items"][0]["id"], id);
}

/// The unit's own form at the registry takes a prefilled 证编号 where the province's
/// units number their own (Fujian: 「按各执法单位证照编号规则生成编号后上传取证」), with
/// the station path's refusals: `number_prefilled` where the registry numbers, or for
/// a number not under the unit's own codes; `number_claimed` for a number another
/// application holds. The unit's number becomes the certificate's at approval.
#[tokio::test]
async fn the_units_form_takes_a_prefilled_number_only_where_units_number_with_the_station_paths_refusals(
) {
    let with_number = |name: &str, number: &str| {
        let mut f = form(name, "教育");
        f["number"] = json!(number);
        f
    };
    // Sichuan: the registry numbers.
    let reg = Registry::start();
    world(&reg).await;
    let unit = login(&reg, "yc-edu").await;
    let (_, me) = unit.get("session").await;
    assert_eq!(me["units_prefill_numbers"], false, "{me}");
    let (s, e) = unit
        .post("applications", with_number("张三", "川X04020033"))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("number_prefilled")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("登记中心统一分配"),
        "{e}"
    );

    // Units number their own.
    let json = ecard_domain::province::SICHUAN_JSON.replace(
        "\"units_prefill_numbers\": false",
        "\"units_prefill_numbers\": true",
    );
    let reg = Registry::start_with_province(&json);
    world(&reg).await;
    let unit = login(&reg, "yc-edu").await;
    let county = login(&reg, "yc-justice").await;
    let city = login(&reg, "gac-justice").await;
    let (_, me) = unit.get("session").await;
    assert_eq!(me["units_prefill_numbers"], true, "{me}");
    // Another unit's codes (广安区, 川X01): not this unit's to give.
    let (s, e) = unit
        .post("applications", with_number("张三", "川X01020001"))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("number_prefilled")),
        "{e}"
    );
    // Not a number of the rule.
    let (s, e) = unit.post("applications", with_number("张三", "X-1")).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("number_prefilled")),
        "{e}"
    );
    let (s, filed) = unit
        .post("applications", with_number("张三", "川X04020033"))
        .await;
    assert_eq!(s, 201, "{filed}");
    let id = filed["id"].as_i64().unwrap();
    // The same number for another person: refused loudly.
    let (s, e) = unit
        .post("applications", with_number("李四", "川X04020033"))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("number_claimed")),
        "{e}"
    );
    // Returned and edited: the number stays (a new number is a new application).
    let (s, r) = county
        .post(
            &format!("applications/{id}/reject"),
            json!({"reason": "执法类别填写有误"}),
        )
        .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("rejected")), "{r}");
    let (s, e) = unit
        .call(
            Method::PUT,
            &format!("applications/{id}"),
            Some(with_number("张三", "川X04020034")),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("number_prefilled")),
        "{e}"
    );
    let (s, e) = unit
        .call(
            Method::PUT,
            &format!("applications/{id}"),
            Some(with_number("张三", "川X04020033")),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    let (s, r) = unit
        .post(&format!("applications/{id}/resubmit"), json!({}))
        .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("submitted")), "{r}");
    county
        .post(&format!("applications/{id}/approve"), json!({}))
        .await;
    let (s, r) = city
        .post(&format!("applications/{id}/approve"), json!({}))
        .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("approved")), "{r}");
    let (_, detail) = unit.get(&format!("applications/{id}/detail")).await;
    assert_eq!(
        detail["number"], "川X04020033",
        "the unit's number, not an allocated one: {detail}"
    );
}
