//! Sessions, roles and request hygiene: every route wants a session, every role is refused what it may not do, login cookies, the X-Requested-With guard, and the demo's card-handling routes only in demo mode.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use ecardd::auth::{Permission, Role};
use serde_json::{json, Value};
use support::*;

/// Every protected route, with a well-formed request and the permission it needs.
fn routes() -> Vec<(Method, String, Option<Value>, Permission)> {
    let r = enc(R1);
    vec![
        (
            Method::GET,
            "/readers".into(),
            None,
            Permission::ReadReaders,
        ),
        (
            Method::GET,
            "/demo/tray".into(),
            None,
            Permission::ReadReaders,
        ),
        (
            Method::POST,
            format!("/demo/readers/{r}/eject"),
            None,
            Permission::ReadReaders,
        ),
        (
            Method::GET,
            "/certificates".into(),
            None,
            Permission::ViewRecords,
        ),
        (
            Method::GET,
            "/certificates/999999".into(),
            None,
            Permission::ViewRecords,
        ),
        (
            Method::GET,
            "/officers/999999/photo".into(),
            None,
            Permission::ViewRecords,
        ),
        (
            Method::GET,
            "/revocations".into(),
            None,
            Permission::ViewRecords,
        ),
        (
            Method::GET,
            "/reviews/schedule".into(),
            None,
            Permission::ViewRecords,
        ),
        (
            Method::GET,
            "/reviews/schedule.xlsx".into(),
            None,
            Permission::ViewRecords,
        ),
        (
            Method::POST,
            "/issue".into(),
            Some(json!({ "certificate_id": 999999, "reader": R1 })),
            Permission::Issue,
        ),
        (
            Method::POST,
            "/batches".into(),
            Some(json!({ "certificate_ids": [], "readers": [R1] })),
            Permission::Issue,
        ),
        (
            Method::GET,
            "/batches/999999".into(),
            None,
            Permission::Issue,
        ),
        (
            Method::POST,
            "/batches/999999/resume".into(),
            Some(json!({ "readers": [R1] })),
            Permission::Issue,
        ),
        (Method::GET, "/jobs".into(), None, Permission::Issue),
        (Method::GET, "/batches".into(), None, Permission::Issue),
        (Method::GET, "/trust".into(), None, Permission::ManageTrust),
        (
            Method::POST,
            "/trust".into(),
            Some(bogus_anchor()),
            Permission::ManageTrust,
        ),
        (
            Method::DELETE,
            "/trust/00".into(),
            None,
            Permission::ManageTrust,
        ),
        (
            Method::POST,
            "/jobs/999999/resume".into(),
            Some(json!({ "reader": R1 })),
            Permission::Issue,
        ),
        (
            Method::POST,
            "/verify".into(),
            Some(json!({ "reader": "没有这个读卡器" })),
            Permission::Verify,
        ),
        (
            Method::GET,
            "/verify/0123456789abcdef0123456789abcdef/photo".into(),
            None,
            Permission::Verify,
        ),
        (
            Method::POST,
            "/reviews".into(),
            Some(json!({ "certificate_id": 999999, "result": "passed" })),
            Permission::Review,
        ),
        (
            Method::POST,
            "/reviews/unit".into(),
            Some(json!({ "unit": "没有这个单位" })),
            Permission::Review,
        ),
        (
            Method::POST,
            "/certificates/999999/status".into(),
            Some(json!({ "kind": "suspend", "reason": "测试" })),
            Permission::ChangeStatus,
        ),
        (
            Method::POST,
            "/certificates/999999/status/write".into(),
            Some(json!({ "reader": R1 })),
            Permission::ChangeStatus,
        ),
        (
            Method::GET,
            "/templates/roster.xlsx".into(),
            None,
            Permission::Import,
        ),
        (
            Method::GET,
            "/import/reports/nothing.xlsx".into(),
            None,
            Permission::Import,
        ),
        (
            Method::GET,
            "/sync/status".into(),
            None,
            Permission::ViewRecords,
        ),
        (Method::GET, "/audit".into(), None, Permission::ViewAudit),
        (
            Method::GET,
            "/audit/verify".into(),
            None,
            Permission::ViewAudit,
        ),
        (
            Method::GET,
            "/settings".into(),
            None,
            Permission::ManageKeys,
        ),
        (
            Method::PUT,
            "/settings".into(),
            Some(json!({})),
            Permission::ManageKeys,
        ),
        (
            Method::GET,
            "/operators".into(),
            None,
            Permission::ManageOperators,
        ),
        (
            Method::POST,
            "/operators".into(),
            Some(json!({ "username": "x", "display_name": "", "role": "admin", "password": "" })),
            Permission::ManageOperators,
        ),
        (
            Method::PATCH,
            "/operators/999999".into(),
            Some(json!({})),
            Permission::ManageOperators,
        ),
    ]
}

#[tokio::test]
async fn every_route_wants_a_session() {
    let a = api();
    for (method, path, body, _) in routes() {
        let (s, v) = a.call(method.clone(), &path, None, body).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(v["code"], "unauthenticated");
    }
    let (s, _) = a.call(Method::GET, "/events", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = a
        .call(Method::GET, "/session", Some("ecard_session=00"), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
}

#[tokio::test]
async fn every_role_is_refused_exactly_what_it_may_not_do() {
    let a = api();
    for role in Role::ALL {
        let cookie = a.login(username(role)).await;
        for (method, path, body, perm) in routes() {
            let (s, v) = a.call(method.clone(), &path, Some(&cookie), body).await;
            if role.allows(perm) {
                assert_ne!(s, StatusCode::FORBIDDEN, "{role} {method} {path}: {v}");
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{role} {method} {path}: {v}");
                assert_eq!(v["code"], "forbidden");
                assert!(v["message"]
                    .as_str()
                    .unwrap()
                    .contains(ecardd::labels::role_zh(role)));
                // The permission is checked before the body is read: a refused
                // role learns nothing about what the route would accept.
                if method != Method::GET {
                    let req = Request::builder()
                        .method(method.clone())
                        .uri(format!("/api/v1{path}"))
                        .header("x-requested-with", "ecard")
                        .header(header::COOKIE, &cookie)
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from("{not json"))
                        .unwrap();
                    let (s, _, _) = a.raw(req).await;
                    assert_eq!(
                        s,
                        StatusCode::FORBIDDEN,
                        "{role} {method} {path} (bad body)"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_refuses_bad_passwords() {
    let a = api();
    let req = Request::post("/api/v1/session")
        .header("x-requested-with", "ecard")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": "guanli", "password": "demo-guanli" }).to_string(),
        ))
        .unwrap();
    let (s, h, body) = a.raw(req).await;
    assert_eq!(s, StatusCode::OK);
    let cookie = h.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let me: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["role_label"], "管理员");

    for (user, pass) in [("guanli", "wrong-password"), ("nobody", "demo-nobody")] {
        let (s, v) = a
            .call(
                Method::POST,
                "/session",
                None,
                Some(json!({ "username": user, "password": pass })),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(v["code"], "bad_credentials");
        assert_eq!(v["message"], "用户名或密码错误");
    }

    // An expired session opens nothing, and the next login clears it out.
    a.demo
        .station
        .store
        .write("test", |tx| {
            tx.conn().execute(
                "INSERT INTO sessions (token_digest, operator_id, created_at, expires_at)
                 SELECT 'expired', id, '2020-01-01T00:00:00.000Z', '2020-01-01T12:00:00.000Z'
                 FROM operators WHERE username = 'jiancha'",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let expired = || {
        a.demo
            .station
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM sessions WHERE expires_at < '2026-01-01'",
                    [],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .unwrap()
    };
    assert_eq!(expired(), 1);

    // Logging out ends the session on the server, not only in the browser.
    let c = a.login("jiancha").await;
    assert_eq!(expired(), 0, "login left an expired session behind");
    assert_eq!(
        a.call(Method::DELETE, "/session", Some(&c), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        a.call(Method::GET, "/session", Some(&c), None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn changes_without_the_ajax_header_are_refused() {
    let a = api();
    let c = a.login("zhizheng").await;
    let req = Request::post("/api/v1/issue")
        .header(header::COOKIE, &c)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "certificate_id": 1, "reader": R1 }).to_string(),
        ))
        .unwrap();
    let before = a.snapshot();
    let (s, _, body) = a.raw(req).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["code"],
        "csrf_refused"
    );
    assert_eq!(a.snapshot(), before);
}

/// The demo's hands (insert a blank card, eject, the tray) are routes of
/// `ecardd demo` only: a station serving real readers does not have them at all.
#[tokio::test]
async fn the_demo_routes_exist_only_in_demo_mode() {
    let with_demo = api();
    let admin = with_demo.login(username(Role::Admin)).await;
    let (s, v) = with_demo
        .call(Method::GET, "/demo/tray", Some(&admin), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let serving = Api {
        app: ecardd::api::router(
            ecardd::api::AppState::new(with_demo.demo.station.clone()).unwrap(),
        ),
        demo: ecardd::demo::build(ecard_clock::Clock::starting_on(today())).unwrap(),
    };
    let admin = serving.login(username(Role::Admin)).await;
    for (method, path) in [
        (Method::GET, "/demo/tray".to_owned()),
        (Method::POST, format!("/demo/readers/{}/eject", enc(R1))),
        (
            Method::POST,
            format!("/demo/readers/{}/insert-blank", enc(R1)),
        ),
    ] {
        let (s, v) = serving.call(method, &path, Some(&admin), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {v}");
        assert_eq!(v["code"], "not_found", "{path}: {v}");
        // Not a demo route refusing: no such route (the API's fallback).
        assert_eq!(v["message"], "没有这个接口", "{path}: {v}");
    }
}

/// A body that is not the JSON a route takes (wrong content type, not JSON, a field
/// missing), a path or query parameter that does not parse: each is answered
/// `{code: "bad_request", message}` with a Chinese message, not axum's plain text.
#[tokio::test]
async fn a_malformed_request_is_answered_with_code_and_a_chinese_message() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let post = |content_type: &str, body: &str| {
        Request::post("/api/v1/session")
            .header("x-requested-with", "ecard")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let get = |path: &str| {
        Request::get(format!("/api/v1{path}"))
            .header(header::COOKIE, &issuer)
            .body(Body::empty())
            .unwrap()
    };
    let cases = [
        (
            "wrong content type",
            post("text/plain", r#"{"username":"a"}"#),
            "Content-Type",
        ),
        (
            "not JSON",
            post("application/json", "{username"),
            "不是有效的 JSON",
        ),
        (
            "missing field",
            post("application/json", r#"{"username":"a"}"#),
            "缺少字段「password」",
        ),
        ("path parameter", get("/certificates/abc"), "地址"),
    ];
    for (what, req, words) in cases {
        let (s, h, body) = a.raw(req).await;
        assert!(s.is_client_error(), "{what}: {s}");
        assert!(
            h.get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json")),
            "{what}: not JSON: {}",
            String::from_utf8_lossy(&body)
        );
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], "bad_request", "{what}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(words), "{what}: {message}");
        for english in ["Failed", "deserialize", "Expected request", "Invalid URL"] {
            assert!(!message.contains(english), "{what}: {message}");
        }
    }
}
