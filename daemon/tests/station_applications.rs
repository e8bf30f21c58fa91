//! 本站申请 through the station's API, against a real `ecard-registry` process:
//! one person filed by form reaches the county's queue; the county returns it (退回)
//! with a reason the station shows; the unit edits it at the station and resubmits
//! it, and the SAME application is back in the county's queue with the edit; county
//! and city approve; the unit asks from the station that it be sent back, the
//! bureau sees the request and does it, and the station sees the outcome.
#![allow(clippy::unwrap_used)]

mod registry_support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::Engine;
use http_body_util::BodyExt;
use registry_support::*;
use serde_json::{json, Value};
use tower::ServiceExt;

const UNIT: &str = "岳池县教育局";
const PASSWORD: &str = "station-issuer-pass-1";

fn registry_cli(registry: &Registry, args: &[&str]) -> Value {
    let out = registry.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The county and city bureaus' tokens, the unit registered.
fn bureaus(registry: &Registry) -> (String, String) {
    registry_cli(
        registry,
        &[
            "admin",
            "add-unit",
            "--name",
            UNIT,
            "--region",
            "川X04",
            "--department",
            "02",
        ],
    );
    let token = |args: &[&str]| {
        let mut all = vec!["admin", "add-account"];
        all.extend_from_slice(args);
        registry_cli(registry, &all)["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    (
        token(&[
            "--username",
            "yc-justice",
            "--role",
            "county",
            "--region",
            "川X04",
            "--org-name",
            "岳池县司法局",
        ]),
        token(&[
            "--username",
            "gac-justice",
            "--role",
            "city",
            "--region",
            "川X",
            "--org-name",
            "广安市司法局",
        ]),
    )
}

async fn bureau(
    registry: &Registry,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = registry
        .http()
        .request(method, format!("{}{path}", registry.url))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// The station's API in process (the router the server serves), logged in.
struct Api {
    app: axum::Router,
    cookie: String,
}

impl Api {
    async fn open(s: &StationUnderTest) -> Api {
        let hash = ecardd::auth::hash_password(PASSWORD).unwrap();
        s.station
            .store
            .write("setup", |tx| {
                ecardd::store::create_operator(
                    tx,
                    "clerk",
                    "录入员",
                    ecardd::auth::Role::Issuer,
                    &hash,
                )
            })
            .unwrap();
        let app = ecardd::api::router(ecardd::api::AppState::new(s.station.clone()).unwrap());
        let mut api = Api {
            app,
            cookie: String::new(),
        };
        let req = Request::post("/api/v1/session")
            .header("x-requested-with", "ecard")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": "clerk", "password": PASSWORD}).to_string(),
            ))
            .unwrap();
        let resp = api.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let cookie = resp
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        api.cookie = cookie.split(';').next().unwrap().to_owned();
        api
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"))
            .header("x-requested-with", "ecard")
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

fn form() -> Value {
    json!({
        "county": "岳池县", "name": "钱七", "unit": UNIT,
        "citizen_id": "11010519850601002X", "ethnicity": "汉族", "political_status": "中共党员",
        "education": "大学本科", "major": "法学", "law_major": "是",
        "legal_qualification": "否", "posts": "01", "exam_category": "综合法律知识考试",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_filed_at_the_station_is_returned_edited_resubmitted_approved_and_sent_back_on_request(
) {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0901);
    let (county, city) = bureaus(&registry);
    let a = station("station-a", &pki, &desk, &registry, false).await;
    let api = Api::open(&a).await;
    let photo = ecard_domain::photo::synthetic::portrait_jpeg(410, 470, 8, 60, 3);

    let (s, filed) = api
        .call(
            Method::POST,
            "/applications",
            Some(json!({
                "form": form(),
                "photo_jpeg": base64::engine::general_purpose::STANDARD.encode(&photo),
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{filed}");
    let id = filed["application_ids"][0].as_i64().unwrap();
    round(&a).await.unwrap();
    let (_, queue) = bureau(
        &registry,
        &county,
        reqwest::Method::GET,
        "/api/v1/applications",
        None,
    )
    .await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    let reg_id = queue[0]["id"].as_i64().unwrap();
    assert_eq!(queue[0]["form"]["name"], "钱七");

    // 退回 by the county: the station shows it with the reason.
    let (s, r) = bureau(
        &registry,
        &county,
        reqwest::Method::POST,
        &format!("/api/v1/applications/{reg_id}/reject"),
        Some(json!({"reason": "执法岗位填写不全"})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    round(&a).await.unwrap();
    let (_, one) = api
        .call(Method::GET, &format!("/applications/{id}"), None)
        .await;
    assert_eq!(
        (one["state"].as_str(), one["state_label"].as_str()),
        (Some("rejected"), Some("退回")),
        "{one}"
    );
    assert_eq!(one["reason"], "执法岗位填写不全");

    // Edited at the station: the roster's checks, the same person only.
    let mut edited = one["form"].clone();
    edited["posts"] = json!("01,02");
    let mut other = edited.clone();
    other["citizen_id"] = json!("110105198001010016");
    other["gender"] = json!("");
    other["birth_date"] = json!("");
    let (s, v) = api
        .call(
            Method::PUT,
            &format!("/applications/{id}"),
            Some(json!({"form": other})),
        )
        .await;
    assert_eq!(
        (s, v["conflict"].as_str()),
        (StatusCode::CONFLICT, Some("application_field_fixed")),
        "{v}"
    );
    let mut bad = edited.clone();
    bad["posts"] = json!("99");
    let (s, v) = api
        .call(
            Method::PUT,
            &format!("/applications/{id}"),
            Some(json!({"form": bad})),
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["column"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("执法岗位")),
        "{v}"
    );
    let (s, v) = api
        .call(
            Method::PUT,
            &format!("/applications/{id}"),
            Some(json!({"form": edited})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("submitted"), None),
        "{v}"
    );
    let pushed = round(&a).await.unwrap();
    assert_eq!(pushed.refused, 0, "{pushed:?}");
    let (_, queue) = bureau(
        &registry,
        &county,
        reqwest::Method::GET,
        "/api/v1/applications",
        None,
    )
    .await;
    assert_eq!(
        queue.as_array().unwrap().len(),
        1,
        "the same application: {queue}"
    );
    assert_eq!(queue[0]["id"].as_i64(), Some(reg_id));
    assert_eq!(queue[0]["state"], "submitted");
    assert_eq!(queue[0]["form"]["posts"], "01,02");

    // County, then city: approved at the station when the order arrives.
    let mut approved_number = String::new();
    for token in [&county, &city] {
        let (s, r) = bureau(
            &registry,
            token,
            reqwest::Method::POST,
            &format!("/api/v1/applications/{reg_id}/approve"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{r}");
        approved_number = r["number"].as_str().unwrap_or_default().to_owned();
    }
    assert_eq!(round(&a).await.unwrap().orders, 1);
    let (_, one) = api
        .call(Method::GET, &format!("/applications/{id}"), None)
        .await;
    assert_eq!(one["state"], "approved", "{one}");

    // The send-back, asked for at the station, done by the bureau.
    let (s, v) = api
        .call(
            Method::POST,
            &format!("/applications/{id}/send-back"),
            Some(json!({"reason": "  "})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a reason is needed: {v}");
    let (s, v) = api
        .call(
            Method::POST,
            &format!("/applications/{id}/send-back"),
            Some(json!({"reason": "学历填写有误"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["send_back_request"], "学历填写有误");
    let (s, v) = api
        .call(
            Method::POST,
            &format!("/applications/{id}/send-back"),
            Some(json!({"reason": "再次"})),
        )
        .await;
    assert_eq!(
        (s, v["conflict"].as_str()),
        (StatusCode::CONFLICT, Some("send_back_pending")),
        "{v}"
    );
    round(&a).await.unwrap();
    let (_, queue) = bureau(
        &registry,
        &city,
        reqwest::Method::GET,
        "/api/v1/applications",
        None,
    )
    .await;
    assert_eq!(queue[0]["send_back_requested"], "学历填写有误", "{queue}");
    let (s, r) = bureau(
        &registry,
        &city,
        reqwest::Method::POST,
        &format!("/api/v1/applications/{reg_id}/send-back"),
        Some(json!({"reason": "学历填写有误"})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    round(&a).await.unwrap();
    let (_, one) = api
        .call(Method::GET, &format!("/applications/{id}"), None)
        .await;
    assert_eq!(
        (
            one["state"].as_str(),
            one["reason"].as_str(),
            one["send_back_request"].as_str()
        ),
        (Some("returned"), Some("学历填写有误"), None),
        "{one}"
    );
    let cert = a
        .station
        .store
        .read(|c| ecardd::store::certificate_by_number(c, &approved_number.parse().unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(
        cert.state,
        ecardd::store::CertificateState::Void,
        "the order was withdrawn"
    );

    // Edited again, approved again: the same number is approved again here.
    let mut edited = one["form"].clone();
    edited["education"] = json!("研究生");
    let (s, v) = api
        .call(
            Method::PUT,
            &format!("/applications/{id}"),
            Some(json!({"form": edited})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    round(&a).await.unwrap();
    for token in [&county, &city] {
        let (s, r) = bureau(
            &registry,
            token,
            reqwest::Method::POST,
            &format!("/api/v1/applications/{reg_id}/approve"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["number"], approved_number.as_str(), "the number is kept");
    }
    assert_eq!(
        round(&a).await.unwrap().orders,
        1,
        "the new order is applied, not skipped as known"
    );
    let (_, one) = api
        .call(Method::GET, &format!("/applications/{id}"), None)
        .await;
    assert_eq!(one["state"], "approved", "{one}");
    let cert = a
        .station
        .store
        .read(|c| ecardd::store::certificate_by_number(c, &approved_number.parse().unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(cert.state, ecardd::store::CertificateState::Approved);
}

/// When the registry refuses a resubmission, the station does not stay 待审核 while
/// the registry holds the application 退回: it rolls back to 退回 with the reviewer's
/// reason, shows the registry's words, and the unit may edit and resubmit again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resubmission_the_registry_refuses_rolls_the_station_back_to_returned() {
    let (registry, pki, desk) = setup(0x5A00_0000_0000_0A01);
    let (county, _city) = bureaus(&registry);
    let a = station("station-a", &pki, &desk, &registry, false).await;
    let api = Api::open(&a).await;
    let photo = ecard_domain::photo::synthetic::portrait_jpeg(410, 470, 8, 60, 3);
    let (s, filed) = api
        .call(
            Method::POST,
            "/applications",
            Some(json!({
                "form": form(),
                "photo_jpeg": base64::engine::general_purpose::STANDARD.encode(&photo),
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{filed}");
    let id = filed["application_ids"][0].as_i64().unwrap();
    round(&a).await.unwrap();
    let (_, queue) = bureau(
        &registry,
        &county,
        reqwest::Method::GET,
        "/api/v1/applications",
        None,
    )
    .await;
    let reg_id = queue[0]["id"].as_i64().unwrap();
    let (s, r) = bureau(
        &registry,
        &county,
        reqwest::Method::POST,
        &format!("/api/v1/applications/{reg_id}/reject"),
        Some(json!({"reason": "执法岗位填写不全"})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    round(&a).await.unwrap();

    let (_, one) = api
        .call(Method::GET, &format!("/applications/{id}"), None)
        .await;
    let mut edited = one["form"].clone();
    edited["posts"] = json!("01,02");
    let (s, v) = api
        .call(
            Method::PUT,
            &format!("/applications/{id}"),
            Some(json!({"form": edited})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "submitted", "{v}");
    // Meanwhile the application moved on at the registry in a way this station has
    // not heard of (say the unit resubmitted it there, and its notice is not in the
    // feed yet): the registry refuses the station's resubmission as not 退回.
    rusqlite::Connection::open(registry.db())
        .unwrap()
        .execute(
            "UPDATE applications SET state = 'county_approved' WHERE id = ?1",
            [reg_id],
        )
        .unwrap();
    let report = round(&a).await.unwrap();
    assert_eq!(report.refused, 1, "{report:?}");
    let (_, one) = api
        .call(Method::GET, &format!("/applications/{id}"), None)
        .await;
    assert_eq!(
        (one["state"].as_str(), one["reason"].as_str()),
        (Some("rejected"), Some("执法岗位填写不全")),
        "back to 退回 with the reviewer's reason: {one}"
    );
    let note = one["note"].as_str().unwrap_or_default();
    assert!(note.contains("只有退回的申请可以修改后重新提交"), "{one}");
    assert_eq!(
        one["form"]["posts"], "01,02",
        "the unit's edit is kept to work on"
    );
    // It may be edited and resubmitted again.
    let (s, v) = api
        .call(
            Method::PUT,
            &format!("/applications/{id}"),
            Some(json!({"form": one["form"].clone()})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "submitted", "{v}");
}
