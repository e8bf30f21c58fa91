//! The one vocabulary over HTTP: `GET /api/v1/labels` (any logged-in role), the
//! words beside codes in answers, and conflicts that carry states as data.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::NaiveDate;
use ecardd::api::{self, AppState};
use ecardd::demo::{self, DemoStation};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Api {
    app: Router,
    demo: DemoStation,
}

fn api() -> Api {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let demo = demo::build(ecard_clock::Clock::starting_on(today)).unwrap();
    let state = AppState::with_demo(demo.station.clone(), demo.sim.clone()).unwrap();
    Api {
        app: api::router(state),
        demo,
    }
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"))
            .header("x-requested-with", "ecard");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn login(&self, username: &str) -> String {
        let (status, headers, _) = self
            .call(
                Method::POST,
                "/session",
                None,
                Some(json!({ "username": username, "password": demo::demo_password(username) })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}");
        let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }
}

fn has_ascii_letters(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_alphabetic())
}

#[tokio::test]
async fn every_role_gets_the_vocabulary_and_strangers_do_not() {
    let a = api();
    let (status, _, body) = a.call(Method::GET, "/labels", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    for user in ["zhizheng", "nianshen", "jiancha", "guanli"] {
        let cookie = a.login(user).await;
        let (status, _, body) = a.call(Method::GET, "/labels", Some(&cookie), None).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert_eq!(body, ecardd::labels::table(), "{user}");
    }
}

#[tokio::test]
async fn the_vocabulary_names_every_value_once_in_chinese() {
    let a = api();
    let cookie = a.login("jiancha").await;
    let (_, _, body) = a.call(Method::GET, "/labels", Some(&cookie), None).await;
    let group = |g: &str| body[g].as_object().cloned().unwrap_or_default();
    let standing = group("standing");
    for s in ecardd::labels::STANDINGS {
        let code = serde_json::to_value(s).unwrap();
        let code = code.as_str().unwrap();
        assert!(standing.contains_key(code), "standing {code} missing");
    }
    assert_eq!(body["standing"]["review_failed"], "年审不合格");
    assert_eq!(body["certificate_state"]["void"], "已作废");
    assert_eq!(body["certificate_state"]["replaced"], "已换证");
    assert_eq!(body["outcome"]["warning"], "警告");
    assert_eq!(body["outcome"]["pending"], "待完成");
    assert_eq!(body["post"]["01"], "依职权");
    assert_eq!(body["post"]["02"], "依申请");
    assert_eq!(body["role"]["inspector"], "检查员");
    assert_eq!(body["audit_action"]["session.login"], "登录");
    assert_eq!(body["family"]["native"], "本系统卡");
    assert_eq!(body["family"]["piv"], "PIV 标准卡");
    for (g, entries) in body.as_object().unwrap() {
        for (code, word) in entries.as_object().unwrap() {
            let word = word.as_str().unwrap();
            assert!(!word.is_empty(), "{g}.{code}");
            // A card family names the PIV standard, as sold and printed on the card.
            if g != "error" && g != "family" {
                assert!(!has_ascii_letters(word), "{g}.{code} = {word}");
            }
        }
    }
}

#[tokio::test]
async fn a_refused_status_change_carries_its_states_as_data_and_words_without_codes() {
    let a = api();
    let cookie = a.login("guanli").await;
    let id = a.demo.approved[0];
    let (status, _, body) = a
        .call(
            Method::POST,
            &format!("/certificates/{id}/status"),
            Some(&cookie),
            Some(json!({ "kind": "lift", "reason": "恢复执法" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "conflict");
    assert_eq!(body["conflict"], "status_change_not_allowed");
    assert_eq!(body["state"], "approved");
    assert_eq!(body["kind"], "lift");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("待制证") && message.contains("恢复"),
        "{message}"
    );
    assert!(!has_ascii_letters(message), "{message}");
}

#[tokio::test]
async fn audit_rows_carry_their_action_and_detail_in_words() {
    let a = api();
    let cookie = a.login("guanli").await;
    let (status, _, rows) = a
        .call(Method::GET, "/audit?limit=1000", Some(&cookie), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = rows.as_array().unwrap();
    let login = rows
        .iter()
        .find(|r| r["action"] == "session.login")
        .expect("login row");
    assert_eq!(login["action_label"], "登录");
    let created = rows
        .iter()
        .find(|r| r["action"] == "operator.created")
        .expect("operator row");
    let detail = created["detail_label"].as_str().unwrap();
    assert!(detail.contains("角色："), "{detail}");
    assert!(!detail.contains("role"), "{detail}");
    for r in rows {
        let action = r["action_label"].as_str().unwrap();
        assert!(!has_ascii_letters(action), "unlabelled action {action}");
    }
}
