//! The HTTP API, in process (tower oneshot against the real router and the demo
//! station's simulated readers): every operation, every role that must be refused,
//! and bad input that must change nothing. The same routes through a real process
//! and browser are exercised by ui-tests/.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use card_profile::channel::Link;
use card_profile::keys::MasterKey;
use card_profile::profile::FileId;
use card_sim::{SimCard, SimChannel, SimOptions};
use chrono::NaiveDate;
use ecardd::api::{self, AppState};
use ecardd::auth::{Permission, Role};
use ecardd::demo::{self, DemoStation, READERS};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const R1: &str = READERS[0];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

struct Api {
    app: Router,
    demo: DemoStation,
}

fn api() -> Api {
    let demo = demo::build(ecard_clock::Clock::starting_on(today())).unwrap();
    let state = AppState::new(demo.station.clone(), Some(demo.sim.clone())).unwrap();
    Api {
        app: api::router(state),
        demo,
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Api {
    async fn raw(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
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
        let (status, _, body) = self.raw(req).await;
        let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
        (status, v)
    }

    async fn login(&self, username: &str) -> String {
        let req = Request::post("/api/v1/session")
            .header("x-requested-with", "ecard")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({ "username": username, "password": demo::demo_password(username) })
                    .to_string(),
            ))
            .unwrap();
        let (status, headers, _) = self.raw(req).await;
        assert_eq!(status, StatusCode::OK, "login {username}");
        let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn insert_blank(&self, cookie: &str, reader: &str) {
        let (s, _) = self
            .call(
                Method::POST,
                &format!("/demo/readers/{}/insert-blank", enc(reader)),
                Some(cookie),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }

    fn count(&self, sql: &str) -> i64 {
        self.demo
            .station
            .store
            .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }

    /// Everything that an operation may change, to prove a refusal changed nothing.
    fn snapshot(&self) -> Vec<i64> {
        [
            "SELECT COUNT(*) FROM cards",
            "SELECT COUNT(*) FROM jobs",
            "SELECT COUNT(*) FROM reviews",
            "SELECT COUNT(*) FROM status_changes",
            "SELECT COUNT(*) FROM revocations",
            "SELECT COUNT(*) FROM outbox",
            "SELECT COUNT(*) FROM certificates WHERE state <> 'approved'",
            "SELECT COUNT(*) FROM applications",
        ]
        .iter()
        .map(|q| self.count(q))
        .collect()
    }
}

fn username(role: Role) -> &'static str {
    demo::LOGINS.iter().find(|(_, _, r)| *r == role).unwrap().0
}

/// A well-formed trust anchor whose key id does not match its key (refused as invalid).
fn bogus_anchor() -> Value {
    let mut anchor = json!(card_profile::demo::pki(today()).unwrap().root.anchor());
    anchor["key_id"] = json!("0000000000000000");
    anchor
}

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

#[tokio::test]
async fn issue_verify_review_cancel_through_the_api() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let reviewer = a.login("nianshen").await;
    let inspector = a.login("jiancha").await;
    let cert = a.demo.approved[0];

    a.insert_blank(&issuer, R1).await;
    let (s, issued) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": cert, "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    assert_eq!(issued["standing"], "valid");
    let serial = issued["serial"].as_str().unwrap().to_owned();

    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["standing_label"], "有效");
    assert_eq!(v["serial"], serial.as_str());
    // The verdict comes first; the photo follows from its own route.
    assert!(v["photo"].is_null(), "{v}");
    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{}/photo", v["photo_id"].as_str().unwrap()),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert!(p["photo"]
        .as_str()
        .unwrap()
        .starts_with("data:image/jpeg;base64,"));
    assert!(v["checks"].as_array().unwrap().len() >= 10);
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["label"].as_str().is_some_and(|l| !l.is_empty())));
    assert_eq!(v["record"]["certificate_id"], cert);

    // Written once: the same certificate cannot go onto a second card.
    a.call(
        Method::POST,
        &format!("/demo/readers/{}/insert-blank", enc(READERS[1])),
        Some(&issuer),
        None,
    )
    .await;
    let (s, v) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": cert, "reader": READERS[1] })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    let (s, v) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": cert, "result": "passed", "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["written_to"], serial.as_str());
    let (s, v) = a
        .call(
            Method::POST,
            "/reviews",
            Some(&reviewer),
            Some(json!({ "certificate_id": cert, "result": "passed" })),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a second review for the same year: {v}"
    );

    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{cert}/status"),
            Some(&issuer),
            Some(json!({ "kind": "cancel", "reason": "调离执法岗位", "destination": "调往档案馆", "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state_label"], "已注销");
    assert_eq!(v["written_to"], serial.as_str());

    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing_label"], "已注销", "{v}");

    let (_, detail) = a
        .call(
            Method::GET,
            &format!("/certificates/{cert}"),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(detail["state"], "cancelled");
    assert_eq!(detail["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(
        detail["status_changes"][0]["detail"]["destination"],
        "调往档案馆"
    );
    let (_, rev) = a
        .call(Method::GET, "/revocations", Some(&issuer), None)
        .await;
    let number = detail["certificate"]["number"].as_str().unwrap();
    assert!(rev["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["number"] == number));

    let admin = a.login("guanli").await;
    let (_, chain) = a
        .call(Method::GET, "/audit/verify", Some(&admin), None)
        .await;
    assert!(
        chain["first_broken"].is_null() && chain["rows"].as_i64().unwrap() > 5,
        "{chain}"
    );
    let (_, log) = a
        .call(Method::GET, "/audit?limit=500", Some(&admin), None)
        .await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "card.issued",
        "review.recorded",
        "certificate.cancel",
        "session.login",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    // Paging back with `before`: the next page continues where the first ended.
    let seqs = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect()
    };
    let all = seqs(&log);
    let (_, first) = a
        .call(Method::GET, "/audit?limit=3", Some(&admin), None)
        .await;
    let first = seqs(&first);
    let (_, next) = a
        .call(
            Method::GET,
            &format!("/audit?limit=3&before={}", first[2]),
            Some(&admin),
            None,
        )
        .await;
    let next = seqs(&next);
    assert_eq!([first, next].concat(), all[..6].to_vec());
}

#[tokio::test]
async fn suspension_lift_replacement_and_reissue_through_the_api() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let inspector = a.login("jiancha").await;
    let (c1, c2) = (a.demo.approved[0], a.demo.approved[1]);
    for (cert, reader) in [(c1, READERS[0]), (c2, READERS[1])] {
        a.insert_blank(&issuer, reader).await;
        let (s, v) = a
            .call(
                Method::POST,
                "/issue",
                Some(&issuer),
                Some(json!({ "certificate_id": cert, "reader": reader })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let status = |cert: i64, body: Value| {
        let issuer = issuer.clone();
        let a = &a;
        async move {
            a.call(
                Method::POST,
                &format!("/certificates/{cert}/status"),
                Some(&issuer),
                Some(body),
            )
            .await
        }
    };
    let (s, v) = status(
        c1,
        json!({ "kind": "suspend", "reason": "涉嫌违纪", "reader": R1 }),
    )
    .await;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("suspended"))
    );
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing_label"], "已暂停");
    // Lifted without the card: recorded; the card still says suspended until the
    // recorded status is written to it.
    let (s, v) = status(c1, json!({ "kind": "lift", "reason": "调查结束" })).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("issued")));
    assert!(
        v["written_to"].is_null() && v["card_write_failed"].is_null(),
        "{v}"
    );
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing_label"], "已暂停");
    let (s, v) = a
        .call(
            Method::POST,
            &format!("/certificates/{c1}/status/write"),
            Some(&issuer),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["written_to"].is_string(), "{v}");
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(v["standing_label"], "有效");

    // 换证: a new certificate with the new unit, under a new number; the old one revoked.
    let (s, v) = status(c1, json!({ "kind": "replace", "reason": "单位名称变更", "unit": "演示市市场监管综合执法支队", "reader": R1 })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "replaced");
    let new_id = v["new_certificate_id"].as_i64().unwrap();
    let (_, new) = a
        .call(
            Method::GET,
            &format!("/certificates/{new_id}"),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(new["certificate"]["unit"], "演示市市场监管综合执法支队");
    assert_eq!(new["state"], "approved");
    assert_eq!(new["replaces_id"], c1);
    assert_ne!(new["certificate"]["number"], v["certificate_id"]);

    // 补证 without the card: recorded, old number declared void, a new one allocated.
    let (s, v) = status(c2, json!({ "kind": "reissue", "lost_on": "2026-11-01", "void_declared_how": "四川日报遗失声明", "void_declared_on": "2026-11-05" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "void");
    assert!(v["written_to"].is_null());
    let (_, rev) = a
        .call(Method::GET, "/revocations", Some(&issuer), None)
        .await;
    let (_, old) = a
        .call(
            Method::GET,
            &format!("/certificates/{c2}"),
            Some(&issuer),
            None,
        )
        .await;
    let old_number = old["certificate"]["number"].as_str().unwrap();
    assert!(rev["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["number"] == old_number));
    // The lost card, if it turns up, fails the field check.
    let (_, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": READERS[1] })),
        )
        .await;
    assert_ne!(v["standing"], "valid", "{v}");

    // The filing forms, filled from these records: read back with calamine.
    for (file, expected) in [
        (
            "replacement.xlsx",
            vec!["单位名称变更", "演示市市场监管综合执法支队"],
        ),
        ("reissue.xlsx", vec![old_number, "四川日报遗失声明"]),
        ("filing.xlsx", vec!["录入归集"]),
    ] {
        let req = Request::get(format!(
            "/api/v1/forms/{file}?from=2026-11-01&to=2026-11-30"
        ))
        .header(header::COOKIE, &issuer)
        .body(Body::empty())
        .unwrap();
        let (s, _, bytes) = a.raw(req).await;
        assert_eq!(s, StatusCode::OK, "{file}");
        let text = sheet_text(&bytes);
        for e in expected {
            assert!(text.contains(e), "{file} lacks {e}: {text}");
        }
    }

    // A cancelled certificate cannot be suspended: refused, nothing changed.
    let before = a.snapshot();
    let (s, v) = status(c2, json!({ "kind": "suspend", "reason": "x" })).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(a.snapshot(), before);
    // A cancel without the destination is refused.
    let (s, v) = status(
        new_id,
        json!({ "kind": "cancel", "reason": "离职", "destination": " " }),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    assert_eq!(a.snapshot(), before);
}

/// Every cell of the first sheet, joined.
fn sheet_text(xlsx: &[u8]) -> String {
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    range
        .rows()
        .flatten()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("|")
}

/// A card personalized with the demo keys, then changed by `tamper` before it goes
/// into the reader.
fn written_card(
    a: &Api,
    serial: [u8; 8],
    master: &MasterKey,
    tamper: impl FnOnce(&mut card_sim::Persistent),
) -> SimCard {
    let keys = a.demo.station.keys().unwrap();
    let data = a
        .demo
        .station
        .store
        .read(|c| ecardd::store::issue_data(c, a.demo.approved[3]))
        .unwrap();
    let mut chan = SimChannel::new(SimCard::from_master_key(
        serial,
        master,
        SimOptions::default(),
    ));
    {
        let mut link = Link::new(&mut chan);
        card_profile::sequences::personalize(&mut link, &data, master, &keys.signer, today())
            .unwrap();
    }
    let card = chan.into_card();
    let mut state = card.persistent().clone();
    tamper(&mut state);
    SimCard::from_state(state, SimOptions::default())
}

#[tokio::test]
async fn bad_cards_and_readers_get_their_own_errors_and_change_nothing() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let inspector = a.login("jiancha").await;
    let master = a.demo.station.keys().unwrap().master.clone();
    let verify = |reader: &'static str| {
        let a = &a;
        let c = inspector.clone();
        async move {
            a.call(
                Method::POST,
                "/verify",
                Some(&c),
                Some(json!({ "reader": reader })),
            )
            .await
        }
    };
    let before = a.snapshot();

    // Missing reader, and a reader without a card.
    let (s, v) = verify("没有这个读卡器").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_reader"))
    );
    let (s, v) = verify(R1).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_card"))
    );
    assert!(v["message"].as_str().unwrap().contains("请插卡"));

    // Malformed card: random bytes in the holder file → invalid, with the file named.
    let bad = written_card(&a, [0xBA; 8], &master, |s| {
        s.files
            .insert(FileId::Holder, vec![0x5A, 0x01, 0xFF, 0x00, 0x13, 0x37]);
    });
    a.demo.sim.insert_card(R1, bad).unwrap();
    let (s, v) = verify(R1).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["standing"], "invalid", "{v}");
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert!(
        failed.contains(&"file_format") || failed.contains(&"file_hash"),
        "{failed:?}"
    );
    a.demo.sim.eject(R1).unwrap();

    // A blank card from another bureau (other master key): issuing refuses before writing.
    let other = MasterKey::from_bytes(&[0x42; 32]).unwrap();
    a.demo
        .sim
        .insert_card(
            R1,
            SimCard::from_master_key([0xAB; 8], &other, SimOptions::default()),
        )
        .unwrap();
    let (s, v) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": a.demo.approved[4], "reader": R1 })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("wrong_management_key")
        ),
        "{v}"
    );
    a.demo.sim.eject(R1).unwrap();

    // Unknown signer: a card signed by a document signer from a root this station does not trust.
    let foreign = card_profile::demo::pki(today()).unwrap();
    let data = a
        .demo
        .station
        .store
        .read(|c| ecardd::store::issue_data(c, a.demo.approved[2]))
        .unwrap();
    let mut chan = SimChannel::new(SimCard::from_master_key(
        [0xCD; 8],
        &master,
        SimOptions::default(),
    ));
    card_profile::sequences::personalize(
        &mut Link::new(&mut chan),
        &data,
        &master,
        &foreign.signer,
        today(),
    )
    .unwrap();
    a.demo.sim.insert_card(R1, chan.into_card()).unwrap();
    let (_, v) = verify(R1).await;
    assert_eq!(v["standing"], "invalid");
    let chain = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "signer_chain")
        .unwrap();
    assert_eq!(chain["outcome"], "failed");
    assert!(
        chain["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("未知签发者"),
        "{chain}"
    );
    a.demo.sim.eject(R1).unwrap();

    // A genuine card whose serial is on the revocation list.
    let genuine = written_card(&a, [0xEE; 8], &master, |_| {});
    a.demo
        .station
        .store
        .write("test", |tx| {
            ecardd::store::insert_revocation(
                tx,
                Some("EEEEEEEEEEEEEEEE"),
                None,
                "测试吊销",
                today(),
                "registry",
            )?;
            Ok(())
        })
        .unwrap();
    let before_revoked = a.snapshot();
    a.demo.sim.insert_card(R1, genuine).unwrap();
    let (_, v) = verify(R1).await;
    assert_eq!(v["standing_label"], "已注销", "{v}");
    // The photo of that verification is read after the verdict: wait for it, so that
    // the tear below lands in the next verification, not in this photo read.
    let photo_url = v["photo_url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/api/v1");
    let (s, p) = a.call(Method::GET, photo_url, Some(&inspector), None).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(a.snapshot(), before_revoked);

    // Card pulled during verification: an error, not a verdict.
    a.demo.sim.tear_next(R1, 3).unwrap();
    let (s, v) = verify(R1).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("card_removed")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("拔出"));

    // Malformed requests.
    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": 5 })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (s, v) = a
        .call(
            Method::POST,
            "/issue",
            Some(&issuer),
            Some(json!({ "certificate_id": "x" })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (s, v) = a
        .call(Method::GET, "/no-such-route", Some(&issuer), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // Only the revocation row the test itself added.
    // Besides that, only the issuance job refused at the wrong card: it stays queued,
    // waiting for a blank card of this bureau (no card, no certificate changed).
    let mut expected = before;
    expected[1] += 1;
    expected[4] += 1;
    assert_eq!(a.snapshot(), expected);
}

#[tokio::test]
async fn a_batch_writes_each_blank_card_inserted_and_reports_progress() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let ids = &a.demo.approved[..3];
    let (s, v) = a
        .call(
            Method::POST,
            "/batches",
            Some(&issuer),
            Some(json!({ "name": "测试批次", "certificate_ids": ids, "readers": [R1] })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let batch = v["batch_id"].as_i64().unwrap();
    for done in 1..=3 {
        a.insert_blank(&issuer, R1).await;
        let mut progress = Value::Null;
        for _ in 0..200 {
            progress = a
                .call(
                    Method::GET,
                    &format!("/batches/{batch}"),
                    Some(&issuer),
                    None,
                )
                .await
                .1;
            if progress["done"] == done {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(progress["done"], done, "{progress}");
        a.call(
            Method::POST,
            &format!("/demo/readers/{}/eject", enc(R1)),
            Some(&issuer),
            None,
        )
        .await;
    }
    let (_, v) = a
        .call(
            Method::GET,
            &format!("/batches/{batch}"),
            Some(&issuer),
            None,
        )
        .await;
    assert_eq!(v["total"], 3);
    assert!(v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["state"] == "verified" && j["card_serial"].is_string()));
    assert_eq!(a.count("SELECT COUNT(DISTINCT serial) FROM cards"), 3);
}

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

#[tokio::test]
async fn a_refused_import_changes_nothing_and_offers_its_report() {
    let a = api();
    let issuer = a.login("zhizheng").await;
    let before = a.snapshot();
    let boundary = "XBOUNDARY";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"r.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\nthis is not a spreadsheet\r\n--{boundary}--\r\n"
    );
    let req = Request::post("/api/v1/import")
        .header("x-requested-with", "ecard")
        .header(header::COOKIE, &issuer)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    let (s, _, body) = a.raw(req).await;
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

/// The photo check of a verdict view (`check` = file_hash, `file` = Photo).
fn photo_check(v: &Value) -> Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "file_hash" && c["file"] == "Photo")
        .cloned()
        .unwrap_or_else(|| panic!("no photo check in {v}"))
}

#[tokio::test]
async fn the_verdict_arrives_without_the_photo_and_the_photo_after_it() {
    let a = api();
    let inspector = a.login("jiancha").await;
    let master = a.demo.station.keys().unwrap().master.clone();
    let card = written_card(&a, [0xC1; 8], &master, |_| {});
    let photo_file = card.file(FileId::Photo).to_vec();
    a.demo.sim.insert_card(R1, card).unwrap();

    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["standing"], "valid", "{v}");
    assert!(v["photo"].is_null(), "the verdict carries no photo: {v}");
    assert_eq!(photo_check(&v)["outcome"], "pending", "{v}");
    let id = v["photo_id"].as_str().unwrap().to_owned();
    assert_eq!(v["photo_url"], format!("/api/v1/verify/{id}/photo"));

    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{id}/photo"),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["check"]["outcome"], "passed", "{p}");
    assert_eq!(p["standing"], "valid");
    let jpeg = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        p["photo"]
            .as_str()
            .unwrap()
            .strip_prefix("data:image/jpeg;base64,")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        jpeg,
        card_profile::records::photo_from_tlv(&photo_file).unwrap(),
        "the card's own photo"
    );
    // Asked again, the same answer; an unknown id is not found.
    let (s, again) = a
        .call(
            Method::GET,
            &format!("/verify/{id}/photo"),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!((s, &again), (StatusCode::OK, &p));
    let (s, _) = a
        .call(
            Method::GET,
            "/verify/00000000000000000000000000000000/photo",
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// The verdict does not wait for the photo: a card pulled while its photo is read
/// (the 9th APDU; the verdict takes 8) still gets its verdict, and the photo's
/// route reports the removal.
#[tokio::test]
async fn a_photo_read_that_fails_does_not_hold_back_the_verdict() {
    let a = api();
    let inspector = a.login("jiancha").await;
    let master = a.demo.station.keys().unwrap().master.clone();
    a.demo
        .sim
        .insert_card(R1, written_card(&a, [0xC2; 8], &master, |_| {}))
        .unwrap();
    a.demo.sim.tear_next(R1, 8).unwrap();
    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["standing"], "valid", "{v}");
    assert_eq!(v["apdus"], 8, "{v}");
    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{}/photo", v["photo_id"].as_str().unwrap()),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("card_removed")),
        "{p}"
    );
}

/// A photo whose bytes do not match the security object's hash is reported and
/// never shown: the verdict said valid with the photo pending; the photo's answer
/// has no photo, a failed check naming the photo, and the standing invalid.
#[tokio::test]
async fn a_tampered_photo_is_reported_and_never_shown() {
    let a = api();
    let inspector = a.login("jiancha").await;
    let master = a.demo.station.keys().unwrap().master.clone();
    let card = written_card(&a, [0xC3; 8], &master, |s| {
        let photo = s.files.get_mut(&FileId::Photo).unwrap();
        let last = photo.len() - 1;
        photo[last] ^= 0xFF;
    });
    a.demo.sim.insert_card(R1, card).unwrap();
    let (s, v) = a
        .call(
            Method::POST,
            "/verify",
            Some(&inspector),
            Some(json!({ "reader": R1 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(photo_check(&v)["outcome"], "pending", "{v}");
    assert!(v["photo"].is_null());
    let (s, p) = a
        .call(
            Method::GET,
            &format!("/verify/{}/photo", v["photo_id"].as_str().unwrap()),
            Some(&inspector),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert!(
        p["photo"].is_null(),
        "a tampered photo is never handed out: {p}"
    );
    assert_eq!(p["check"]["outcome"], "failed", "{p}");
    assert_eq!(p["check"]["findings"][0]["kind"], "hash_mismatch", "{p}");
    assert_eq!(p["standing"], "invalid", "{p}");
}
