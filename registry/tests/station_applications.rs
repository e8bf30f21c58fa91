//! `application_submitted` events (a roster imported at a station) through the real
//! registry binary: filed for the unit named in the row, reviewed county → city, the
//! issuance order carries the photo; an unknown unit never stalls the station's
//! outbox and waits for the admin.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use chrono::NaiveDate;
use common::{feed_of, Registry};
use ecard_domain::citizen_id::CitizenId;
use ecard_domain::codes::{Ethnicity, PoliticalStatus, PostCode};
use ecard_domain::roster::{ApplicationKind, RosterRow};
use ecard_registry::storage::db::params;
use ecard_sync_protocol::events::{EventBody, StationEvent};
use ecard_sync_protocol::feed::FeedBody;
use reqwest::Method;
use serde_json::{json, Value};

fn row(name: &str, unit: &str, id: &str) -> RosterRow {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let citizen_id = CitizenId::parse(id, today).unwrap();
    RosterRow {
        kind: ApplicationKind::New,
        excel_row: 3,
        county: "岳池县".into(),
        name: name.into(),
        unit: unit.into(),
        certificate_number: None,
        valid_until: None,
        gender: citizen_id.gender(),
        birth_date: citizen_id.birth_date(),
        citizen_id,
        ethnicity: Ethnicity::parse("汉族").unwrap(),
        political_status: PoliticalStatus::ALL[0],
        valid_from: None,
        education: "本科".into(),
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
    }
}

/// The event exactly as `Station::import_roster` (daemon/src/ops/import.rs) writes it.
fn submitted(seq: u64, row: &RosterRow, photo: Option<&[u8]>) -> StationEvent {
    let payload = json!({
        "kind": "new",
        "row": serde_json::to_value(row).unwrap(),
        "photo_jpeg": photo.map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
    });
    let body = EventBody::decode("application_submitted", &payload).unwrap();
    StationEvent::new(
        format!("import-{seq:04}"),
        seq,
        &body,
        "2026-11-23T10:00:00.000Z",
    )
}

async fn account(reg: &Registry, body: Value) -> String {
    let (status, created) = reg
        .admin(Method::POST, "/api/v1/admin/accounts", body)
        .await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().unwrap().to_owned()
}

async fn apps(reg: &Registry, token: &str) -> Vec<Value> {
    let (s, list) =
        common::call(reg, token, Method::GET, "/api/v1/applications", Value::Null).await;
    assert_eq!(s, 200, "{list}");
    list.as_array().unwrap().clone()
}

async fn act(reg: &Registry, token: &str, id: i64, action: &str) -> Value {
    let (s, app) = common::call(
        reg,
        token,
        Method::POST,
        &format!("/api/v1/applications/{id}/{action}"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{app}");
    app
}

#[tokio::test]
async fn a_roster_imported_at_a_station_is_reviewed_and_ordered_with_its_photo() {
    let reg = Registry::start();
    let (s, b) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/units",
            json!({"name": "岳池县教育局", "region": "川X04", "department": "02"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let county = account(&reg, json!({"username": "yc-justice", "role": "county", "region": "川X04", "org_name": "岳池县司法局"})).await;
    let city = account(&reg, json!({"username": "gac-justice", "role": "city", "region": "川X", "org_name": "广安市司法局"})).await;
    let unit = account(&reg, json!({"username": "yc-edu", "role": "unit", "unit": "岳池县教育局", "org_name": "岳池县教育局"})).await;
    let (station, _) = reg.enroll("yuechi", Some("川X04"));
    let (other, _) = reg.enroll("wusheng", Some("川X06"));

    let photo = ecard_domain::photo::synthetic::portrait_jpeg(120, 160, 8, 60, 7);
    let zhang = row("张三", "岳池县教育局", "11010519850601002X");
    let unknown = row("李四", " 华蓥市教育局 ", "110105198001010016");
    let batch = vec![
        submitted(1, &zhang, Some(&photo)),
        submitted(2, &unknown, Some(&photo)),
    ];
    let ack = station.push_events(batch.clone()).await.unwrap();
    assert_eq!(
        (ack.last_applied_seq, ack.applied, ack.duplicates),
        (2, 2, 0)
    );
    // Sent again (the station lost the answer): acknowledged, nothing doubled.
    let again = station.push_events(batch).await.unwrap();
    assert_eq!((again.last_applied_seq, again.duplicates), (2, 2));

    // The known unit's row is a submitted application, for the county first.
    let list = apps(&reg, &county).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let app = &list[0];
    assert_eq!(app["state"], "submitted");
    assert_eq!(app["unit"], "岳池县教育局");
    assert_eq!(app["form"]["name"], "张三");
    assert_eq!(app["form"]["area"], "岳池县");
    assert_eq!(app["has_photo"], true);
    assert_eq!(apps(&reg, &unit).await.len(), 1, "the unit sees it too");
    let id = app["id"].as_i64().unwrap();
    let (s, e) = common::call(
        &reg,
        &city,
        Method::POST,
        &format!("/api/v1/applications/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (409, Some("not_your_turn")), "{e}");

    // The unknown unit's row waits for the admin, with the reason.
    let (s, waiting) = reg
        .admin(
            Method::GET,
            "/api/v1/admin/station-applications",
            Value::Null,
        )
        .await;
    assert_eq!(s, 200, "{waiting}");
    let waiting = waiting.as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["unit"], "华蓥市教育局");
    assert_eq!(waiting[0]["name"], "李四");
    assert_eq!(waiting[0]["station"], "yuechi");
    assert!(waiting[0]["problem"]
        .as_str()
        .unwrap()
        .contains("未在中心登记"));
    assert!(waiting[0]["application_id"].is_null());

    // County, then city: the issuance order reaches the station with the photo.
    assert_eq!(
        act(&reg, &county, id, "approve").await["state"],
        "county_approved"
    );
    let approved = act(&reg, &city, id, "approve").await;
    assert_eq!(approved["state"], "approved");
    let number = approved["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("川X0402"), "{number}");
    let page = feed_of(&station, 0, 100).await.unwrap();
    let orders: Vec<_> = page
        .items
        .iter()
        .filter_map(|i| match &i.body {
            FeedBody::IssuanceOrder(o) => Some(o),
            _ => None,
        })
        .collect();
    assert_eq!(orders.len(), 1);
    let order = orders[0];
    assert_eq!(order.application_id, id);
    assert_eq!(order.holder.name, "张三");
    assert_eq!(order.holder.id_number, "11010519850601002X");
    assert_eq!(order.certificate.number, number);
    assert_eq!(order.certificate.unit, "岳池县教育局");
    assert_eq!(order.certificate.issuer, "广安市司法局");
    let sent = base64::engine::general_purpose::STANDARD
        .decode(order.photo_jpeg.as_deref().unwrap())
        .unwrap();
    assert_eq!(sent, photo, "the photo imported at the station");
    assert!(feed_of(&other, 0, 100).await.unwrap().items.is_empty());

    // The admin registers the unit: its waiting row is filed at once.
    let (s, b) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/units",
            json!({"name": "华蓥市教育局", "region": "川X03", "department": "02"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (_, waiting) = reg
        .admin(
            Method::GET,
            "/api/v1/admin/station-applications",
            Value::Null,
        )
        .await;
    assert_eq!(waiting.as_array().unwrap().len(), 0, "{waiting}");
    let (_, all) = reg
        .admin(
            Method::GET,
            "/api/v1/admin/station-applications?all=true",
            Value::Null,
        )
        .await;
    let filed = all.as_array().unwrap()[1]["application_id"]
        .as_i64()
        .unwrap();
    let hy_county = account(&reg, json!({"username": "hy-justice", "role": "county", "region": "川X03", "org_name": "华蓥市司法局"})).await;
    let list = apps(&reg, &hy_county).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"].as_i64(), Some(filed));
    assert_eq!(list[0]["state"], "submitted");
    assert_eq!(list[0]["has_photo"], true);
}

#[tokio::test]
async fn the_admin_attaches_a_row_whose_unit_is_spelled_differently() {
    let reg = Registry::start();
    let (s, b) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/units",
            json!({"name": "岳池县教育局", "region": "川X04", "department": "02"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let county = account(&reg, json!({"username": "yc-justice", "role": "county", "region": "川X04", "org_name": "岳池县司法局"})).await;
    let (station, _) = reg.enroll("yuechi", Some("川X04"));
    let ack = station
        .push_events(vec![submitted(
            1,
            &row("张三", "岳池教育局", "11010519850601002X"),
            Some(&ecard_domain::photo::synthetic::portrait_jpeg(
                120, 160, 8, 60, 7,
            )),
        )])
        .await
        .unwrap();
    assert_eq!(
        ack.last_applied_seq, 1,
        "accepted although the unit is unknown"
    );
    assert!(apps(&reg, &county).await.is_empty());
    let (_, waiting) = reg
        .admin(
            Method::GET,
            "/api/v1/admin/station-applications",
            Value::Null,
        )
        .await;
    let sid = waiting[0]["id"].as_i64().unwrap();
    let attach = |unit: &'static str| {
        let reg = &reg;
        async move {
            reg.admin(
                Method::POST,
                &format!("/api/v1/admin/station-applications/{sid}/attach"),
                json!({ "unit": unit }),
            )
            .await
        }
    };
    let (s, e) = attach("没有这个单位").await;
    assert_eq!(s, 404, "{e}");
    let (s, filed) = attach("岳池县教育局").await;
    assert_eq!(s, 200, "{filed}");
    let app_id = filed["application_id"].as_i64().unwrap();
    let list = apps(&reg, &county).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"].as_i64(), Some(app_id));
    assert_eq!(list[0]["unit"], "岳池县教育局");
    let (s, e) = attach("岳池县教育局").await;
    assert_eq!(s, 409, "attached once: {e}");
}

fn event(seq: u64, kind: &str, payload: Value) -> StationEvent {
    let body = EventBody::decode(kind, &payload).unwrap();
    StationEvent::new(
        format!("ev-{seq:04}"),
        seq,
        &body,
        "2026-11-23T10:00:00.000Z",
    )
}

/// A 补证 made at a station: the station voids the old number at once
/// (`status_changed`, no new number of its own) and files the application
/// (`succession_submitted`); the registry reviews it county → city like a new one,
/// numbers it, and the issuance order says which certificate it follows.
#[tokio::test]
async fn a_reissue_made_at_a_station_is_reviewed_and_numbered_by_the_registry() {
    let reg = Registry::start();
    let (s, b) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/units",
            json!({"name": "岳池县教育局", "region": "川X04", "department": "02"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let county = account(&reg, json!({"username": "yc-justice", "role": "county", "region": "川X04", "org_name": "岳池县司法局"})).await;
    let city = account(&reg, json!({"username": "gac-justice", "role": "city", "region": "川X", "org_name": "广安市司法局"})).await;
    let (station, _) = reg.enroll("yuechi", Some("川X04"));
    let old = "川X04020007";
    // A 补证 carries the holder's photo: an application without one is not filed.
    let photo = base64::engine::general_purpose::STANDARD.encode(
        ecard_domain::photo::synthetic::portrait_jpeg(120, 160, 8, 60, 7),
    );
    let ack = station
        .push_events(vec![
            event(1, "card_issued", json!({"number": old, "serial": "00000000000000A1", "chip_key": "04", "sod": "30",
                "issued_on": "2026-11-23", "id_number": "11010519850601002X"})),
            event(2, "status_changed", json!({"number": old, "kind": "reissue", "reason": "证件遗失，声明作废",
                "detail": {"lost_on": "2026-11-01", "void_declared_how": "报纸声明", "void_declared_on": "2026-11-03",
                           "void_reference": "广安日报2026-11-03第4版", "card_returned": false},
                "effective_on": "2026-11-23", "new_number": null})),
            event(3, "succession_submitted", json!({"kind": "reissue", "old_number": old, "unit": "岳池县教育局",
                "holder": {"name": "张三", "gender": "female", "ethnicity": "汉族", "birth_date": "1985-06-01",
                           "id_number": "11010519850601002X"},
                "certificate_kind": "enforcement", "posts": "01", "category": "教育", "area": "岳池县",
                "reason": "证件遗失，声明作废", "photo_jpeg": photo})),
        ])
        .await
        .unwrap();
    assert_eq!((ack.applied, ack.refused.len()), (3, 0), "{ack:?}");
    let state: String = reg
        .open_db()
        .query_row(
            "SELECT state FROM certificates WHERE number = ?1",
            params![old],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(state, "void", "voided at once, before any review");

    let list = apps(&reg, &county).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["form"]["reissues"], old);
    let id = list[0]["id"].as_i64().unwrap();
    // The city cannot decide before the county has reviewed it.
    let (s, _) = common::call(
        &reg,
        &city,
        Method::POST,
        &format!("/api/v1/applications/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, 409, "the city decides after the county, not before");
    assert_eq!(
        act(&reg, &county, id, "approve").await["state"],
        "county_approved"
    );
    let app = act(&reg, &city, id, "approve").await;
    assert_eq!(app["state"], "approved");
    let new = app["number"].as_str().unwrap();
    assert_eq!(
        new, "川X04020008",
        "the registry numbers it, after the old one"
    );

    let order = feed_of(&station, 0, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .find_map(|i| match i.body {
            FeedBody::IssuanceOrder(o) => Some(o),
            _ => None,
        })
        .expect("an issuance order for the station");
    assert_eq!(order.certificate.number, new);
    assert_eq!(order.follows.as_deref(), Some(old));
    let state: String = reg
        .open_db()
        .query_row(
            "SELECT state FROM certificates WHERE number = ?1",
            params![old],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(state, "void", "left as the station recorded it");
}

/// A station's roster row without the holder's photo is not filed (the chip photo is
/// made from it, so it could never become a card): it waits with the reason, for the
/// station to send it again with a photo.
#[tokio::test]
async fn a_station_row_without_a_photo_is_not_filed_and_says_why() {
    let reg = Registry::start();
    let (s, b) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/units",
            json!({"name": "岳池县教育局", "region": "川X04", "department": "02"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let county = account(&reg, json!({"username": "yc-justice", "role": "county", "region": "川X04", "org_name": "岳池县司法局"})).await;
    let (station, _) = reg.enroll("yuechi", Some("川X04"));
    let ack = station
        .push_events(vec![submitted(
            1,
            &row("张三", "岳池县教育局", "11010519850601002X"),
            None,
        )])
        .await
        .unwrap();
    assert_eq!(
        ack.last_applied_seq, 1,
        "the event is taken, the row is not filed"
    );
    assert!(apps(&reg, &county).await.is_empty());
    let (_, waiting) = reg
        .admin(
            Method::GET,
            "/api/v1/admin/station-applications",
            Value::Null,
        )
        .await;
    let waiting = waiting.as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(
        waiting[0]["problem"]
            .as_str()
            .unwrap()
            .contains("缺少本人照片"),
        "{waiting:?}"
    );
    assert!(waiting[0]["application_id"].is_null());
}

/// A unit (岳池县教育局) with its county and city reviewers and a station of its
/// county: what the follow-up tests share.
struct Desk {
    reg: Registry,
    county: String,
    city: String,
    station: ecard_sync_protocol::client::RegistryClient,
}

async fn desk(reg: Registry) -> Desk {
    let (s, b) = reg
        .admin(
            Method::POST,
            "/api/v1/admin/units",
            json!({"name": "岳池县教育局", "region": "川X04", "department": "02"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let county = account(&reg, json!({"username": "yc-justice", "role": "county", "region": "川X04", "org_name": "岳池县司法局"})).await;
    let city = account(&reg, json!({"username": "gac-justice", "role": "city", "region": "川X", "org_name": "广安市司法局"})).await;
    let (station, _) = reg.enroll("yuechi", Some("川X04"));
    Desk {
        reg,
        county,
        city,
        station,
    }
}

fn photo_b64(seed: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(ecard_domain::photo::synthetic::portrait_jpeg(
        120, 160, 8, 60, seed,
    ))
}

async fn push(d: &Desk, events: Vec<StationEvent>) -> ecard_sync_protocol::events::EventAck {
    d.station.push_events(events).await.unwrap()
}

async fn decisions(d: &Desk) -> Vec<(String, Option<String>)> {
    feed_of(&d.station, 0, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|i| match i.body {
            FeedBody::ApplicationDecision(x) => Some((x.state, x.reason)),
            _ => None,
        })
        .collect()
}

/// 退回 by the county, the unit edits the row at its station and resubmits it
/// (`application_amended`): the registry keeps the application (same id), takes the
/// new row, puts it back in the county's queue (待审核) and tells the station.
/// Before the 退回 the same edit is refused, and changes nothing.
#[tokio::test]
async fn a_returned_application_edited_at_the_station_goes_back_to_the_county() {
    let d = desk(Registry::start()).await;
    let photo = ecard_domain::photo::synthetic::portrait_jpeg(120, 160, 8, 60, 7);
    let mut zhang = row("张三", "岳池县教育局", "11010519850601002X");
    let ack = push(&d, vec![submitted(1, &zhang, Some(&photo))]).await;
    assert_eq!((ack.applied, ack.refused.len()), (1, 0));
    let id = apps(&d.reg, &d.county).await[0]["id"].as_i64().unwrap();

    zhang.posts = vec![PostCode::ByAuthority, PostCode::ALL[1]];
    zhang.education = "研究生".into();
    let amended = json!({"application_event": "import-0001", "row": serde_json::to_value(&zhang).unwrap(),
                         "photo_jpeg": null, "resubmit": true});
    // Still 待审核: only a returned application may be edited.
    let ack = push(&d, vec![event(2, "application_amended", amended.clone())]).await;
    assert_eq!(ack.refused.len(), 1, "{ack:?}");
    assert_eq!(ack.refused[0].code, "application_state");
    assert!(ack.refused[0].message.contains("退回"), "{ack:?}");

    let (s, r) = common::call(
        &d.reg,
        &d.county,
        Method::POST,
        &format!("/api/v1/applications/{id}/reject"),
        json!({"reason": "执法岗位填写不全"}),
    )
    .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("rejected")), "{r}");
    let ack = push(&d, vec![event(3, "application_amended", amended)]).await;
    assert_eq!((ack.applied, ack.refused.len()), (1, 0), "{ack:?}");
    let list = apps(&d.reg, &d.county).await;
    assert_eq!(list.len(), 1, "the same application, not a second one");
    assert_eq!(list[0]["id"].as_i64(), Some(id));
    assert_eq!(list[0]["state"], "submitted");
    assert_eq!(list[0]["form"]["posts"], "01,02");
    assert_eq!(list[0]["has_photo"], true, "the photo filed first is kept");
    assert_eq!(
        decisions(&d).await,
        [
            ("rejected".to_owned(), Some("执法岗位填写不全".to_owned())),
            ("submitted".to_owned(), None)
        ]
    );
    // The county decides again, then the city: approved with the edited posts.
    assert_eq!(
        act(&d.reg, &d.county, id, "approve").await["state"],
        "county_approved"
    );
    let approved = act(&d.reg, &d.city, id, "approve").await;
    assert_eq!(approved["state"], "approved");

    // Another station's follow-up to this application is not found.
    let (other, _) = d.reg.enroll("wusheng", Some("川X06"));
    let ack = other
        .push_events(vec![event(
            1,
            "send_back_requested",
            json!({"application_event": "import-0001", "reason": "我要退回"}),
        )])
        .await
        .unwrap();
    assert_eq!(ack.refused[0].code, "not_your_application", "{ack:?}");
}

/// A row filed without a photo waits at the registry (an application without one
/// could never become a card); the photo added later at the station files it.
#[tokio::test]
async fn a_photo_added_later_files_the_application_that_waited_for_it() {
    let d = desk(Registry::start()).await;
    let ack = push(
        &d,
        vec![submitted(
            1,
            &row("张三", "岳池县教育局", "11010519850601002X"),
            None,
        )],
    )
    .await;
    assert_eq!(ack.applied, 1);
    assert!(
        apps(&d.reg, &d.county).await.is_empty(),
        "waits for its photo"
    );
    let ack = push(&d, vec![event(2, "application_amended", json!({"application_event": "import-0001", "photo_jpeg": photo_b64(3), "resubmit": false}))]).await;
    assert_eq!((ack.applied, ack.refused.len()), (1, 0), "{ack:?}");
    let list = apps(&d.reg, &d.county).await;
    assert_eq!(list.len(), 1, "filed once the photo came");
    assert_eq!(
        (list[0]["state"].as_str(), list[0]["has_photo"].as_bool()),
        (Some("submitted"), Some(true))
    );
    // After approval a photo is no longer the station's to change.
    let id = list[0]["id"].as_i64().unwrap();
    act(&d.reg, &d.county, id, "approve").await;
    act(&d.reg, &d.city, id, "approve").await;
    let ack = push(&d, vec![event(3, "application_amended", json!({"application_event": "import-0001", "photo_jpeg": photo_b64(4), "resubmit": false}))]).await;
    assert_eq!(ack.refused[0].code, "application_state", "{ack:?}");
}

/// The unit asks from its station that an approved application be sent back; the
/// bureau sees the request with its reason and does it, once; the station is told
/// (退回 with the reason, the order withdrawn). A second request is refused.
#[tokio::test]
async fn a_send_back_requested_at_the_station_is_done_by_the_bureau_once() {
    let d = desk(Registry::start()).await;
    let photo = ecard_domain::photo::synthetic::portrait_jpeg(120, 160, 8, 60, 7);
    push(
        &d,
        vec![submitted(
            1,
            &row("张三", "岳池县教育局", "11010519850601002X"),
            Some(&photo),
        )],
    )
    .await;
    let id = apps(&d.reg, &d.county).await[0]["id"].as_i64().unwrap();
    let request = |seq| {
        event(
            seq,
            "send_back_requested",
            json!({"application_event": "import-0001", "reason": "职务填写错误"}),
        )
    };
    // Not approved yet: nothing to send back.
    let ack = push(&d, vec![request(2)]).await;
    assert_eq!(ack.refused[0].code, "application_state", "{ack:?}");
    act(&d.reg, &d.county, id, "approve").await;
    let approved = act(&d.reg, &d.city, id, "approve").await;
    assert!(approved.get("send_back_requested").is_none(), "{approved}");

    let ack = push(&d, vec![request(3)]).await;
    assert_eq!((ack.applied, ack.refused.len()), (1, 0), "{ack:?}");
    let listed = apps(&d.reg, &d.city).await;
    assert_eq!(
        listed[0]["state"], "approved",
        "a request, not the send-back itself"
    );
    assert_eq!(listed[0]["send_back_requested"], "职务填写错误");
    let ack = push(&d, vec![request(4)]).await;
    assert!(
        ack.refused[0].message.contains("等待"),
        "asked once: {ack:?}"
    );

    let (s, r) = common::call(
        &d.reg,
        &d.city,
        Method::POST,
        &format!("/api/v1/applications/{id}/send-back"),
        json!({"reason": "职务填写错误"}),
    )
    .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("returned")), "{r}");
    assert!(r.get("send_back_requested").is_none(), "answered: {r}");
    let page = feed_of(&d.station, 0, 100).await.unwrap();
    assert!(page.items.iter().any(|i| matches!(&i.body, FeedBody::OrderWithdrawn(w) if w.number == approved["number"].as_str().unwrap())));
    assert_eq!(
        decisions(&d).await.last(),
        Some(&("returned".to_owned(), Some("职务填写错误".to_owned())))
    );
    // Once: after the resubmission and a new approval, no second send-back.
    let mut zhang = row("张三", "岳池县教育局", "11010519850601002X");
    zhang.education = "研究生".into();
    push(
        &d,
        vec![event(
            5,
            "application_amended",
            json!({"application_event": "import-0001", "row": zhang, "resubmit": true}),
        )],
    )
    .await;
    act(&d.reg, &d.county, id, "approve").await;
    let again = act(&d.reg, &d.city, id, "approve").await;
    assert_eq!(again["number"], approved["number"], "the number is kept");
    let ack = push(&d, vec![request(6)]).await;
    assert!(ack.refused[0].message.contains("一次"), "{ack:?}");
}

/// Where the registry numbers (Sichuan), a number the unit filled in is refused;
/// where the units number (`units_prefill_numbers`, the Fujian way), it is the
/// certificate's number at approval, and a second claim to it is refused.
#[tokio::test]
async fn a_prefilled_number_counts_only_where_units_number_and_only_once() {
    let photo = ecard_domain::photo::synthetic::portrait_jpeg(120, 160, 8, 60, 7);
    let mut zhang = row("张三", "岳池县教育局", "11010519850601002X");
    zhang.certificate_number = Some("川X04020033".parse().unwrap());

    let sichuan = desk(Registry::start()).await;
    let ack = push(&sichuan, vec![submitted(1, &zhang, Some(&photo))]).await;
    assert_eq!(ack.refused[0].code, "number_prefilled", "{ack:?}");
    assert!(apps(&sichuan.reg, &sichuan.county).await.is_empty());

    let json = ecard_domain::province::SICHUAN_JSON.replace(
        "\"units_prefill_numbers\": false",
        "\"units_prefill_numbers\": true",
    );
    let d = desk(Registry::start_with_province(&json)).await;
    let mut li = row("李四", "岳池县教育局", "110105198001010016");
    li.certificate_number = zhang.certificate_number.clone();
    let ack = push(
        &d,
        vec![
            submitted(1, &zhang, Some(&photo)),
            submitted(2, &li, Some(&photo)),
        ],
    )
    .await;
    assert_eq!(ack.applied, 1, "{ack:?}");
    assert_eq!(ack.refused.len(), 1, "{ack:?}");
    assert_eq!(
        (ack.refused[0].seq, ack.refused[0].code.as_str()),
        (2, "number_claimed")
    );
    let list = apps(&d.reg, &d.county).await;
    assert_eq!(list.len(), 1);
    let id = list[0]["id"].as_i64().unwrap();
    act(&d.reg, &d.county, id, "approve").await;
    let approved = act(&d.reg, &d.city, id, "approve").await;
    assert_eq!(
        approved["number"], "川X04020033",
        "the unit's number, not an allocated one"
    );
}
