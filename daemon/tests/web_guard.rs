//! The web server's guards in front of every handler: security headers on every
//! answer, the Host check against DNS rebinding, login throttling and the bound on
//! concurrent password hashes, idle sessions and event streams that end with their
//! session (docs/SECURITY.md "The web UI on localhost").
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use serde_json::json;
use support::*;

/// One request to `app` (a router other than the support's own).
async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    let resp = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, body)
}

fn assert_security_headers(what: &str, h: &HeaderMap) {
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(
            h.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what}: {name}"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let a = api();
    let c = a.login("guanli").await;
    let get = |path: &str, cookie: Option<&str>| {
        let mut r = Request::get(path);
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        r.body(Body::empty()).unwrap()
    };
    let cases = [
        (
            "an API route",
            get("/api/v1/certificates", Some(&c)),
            StatusCode::OK,
        ),
        ("the UI's page", get("/", None), StatusCode::OK),
        ("a UI file", get("/app.js", None), StatusCode::OK),
        (
            "a missing file",
            get("/nope.js", None),
            StatusCode::NOT_FOUND,
        ),
        (
            "an API error",
            get("/api/v1/certificates", None),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "a refusal before any handler",
            Request::post("/api/v1/issue")
                .header(header::COOKIE, &c)
                .body(Body::empty())
                .unwrap(),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (what, req, status) in cases {
        let (s, h, _) = a.raw(req).await;
        assert_eq!(s, status, "{what}");
        assert_security_headers(what, &h);
    }
    // The event stream: its headers are sent before the first event.
    let resp = tower::ServiceExt::oneshot(a.app.clone(), get("/api/v1/events", Some(&c)))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_security_headers("the event stream", resp.headers());
    let _ = (Method::GET, json!(null));
}

/// DNS rebinding: a page of `attacker.example`, its name now resolving to
/// 127.0.0.1, sends requests naming its own host. They are refused before any
/// handler runs (no login is even tried); the station's own names pass.
#[tokio::test]
async fn a_request_for_another_host_name_is_refused_before_any_handler() {
    let a = api();
    let hosts = ecardd::api::AllowedHosts::new(
        "127.0.0.1:8080".parse().unwrap(),
        &["station-7.local".to_owned()],
    );
    let app = ecardd::api::router_checking_hosts(
        ecardd::api::AppState::with_demo(a.demo.station.clone(), a.demo.sim.clone()).unwrap(),
        hosts,
    );
    let login = |host: Option<&str>| {
        let mut r = Request::post("/api/v1/session")
            .header("x-requested-with", "ecard")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(h) = host {
            r = r.header(header::HOST, h);
        }
        r.body(Body::from(
            json!({ "username": "guanli", "password": "demo-guanli" }).to_string(),
        ))
        .unwrap()
    };
    let logins = || a.count("SELECT COUNT(*) FROM audit_log WHERE action = 'session.login'");
    let before = logins();
    for host in [
        Some("attacker.example:8080"),
        Some("attacker.example"),
        Some("127.0.0.1:9999"),
        Some("localhost"),
        None,
    ] {
        let (s, h, body) = send(&app, login(host)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{host:?}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], "host_not_allowed", "{host:?}");
        assert!(v["message"].as_str().unwrap().contains("主机名"), "{v}");
        assert_security_headers("a refused host", &h);
    }
    assert_eq!(logins(), before, "a refused host reached the login handler");
    for host in [
        "127.0.0.1:8080",
        "localhost:8080",
        "[::1]:8080",
        "STATION-7.local:8080",
    ] {
        let (s, _, _) = send(&app, login(Some(host))).await;
        assert_eq!(s, StatusCode::OK, "{host}");
    }
}

fn login_from(client: &str, username: &str, password: &str) -> Request<Body> {
    let mut req = Request::post("/api/v1/session")
        .header("x-requested-with", "ecard")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": username, "password": password }).to_string(),
        ))
        .unwrap();
    let addr: std::net::SocketAddr = format!("{client}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

/// Five wrong passwords hold the account back (from any client) and the client
/// (for any account): even the right password is then answered 429 without a
/// login. Other accounts from other clients are not held back. The growth of the
/// delay and its reset are unit tests of `api::login_guard` (instants given).
#[tokio::test]
async fn failed_logins_hold_back_the_account_and_the_client() {
    let a = api();
    let logins = || a.count("SELECT COUNT(*) FROM audit_log WHERE action = 'session.login'");
    for _ in 0..5 {
        let (s, _, _) = a
            .raw(login_from("10.0.0.1", "guanli", "wrong-password"))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let before = logins();
    for (client, user, why) in [
        ("10.0.0.1", "guanli", "the account from the guessing client"),
        ("10.0.0.2", "guanli", "the account from another client"),
        ("10.0.0.2", "GUANLI ", "the account spelt otherwise"),
        (
            "10.0.0.1",
            "jiancha",
            "another account from the guessing client",
        ),
    ] {
        let (s, _, body) = a
            .raw(login_from(
                client,
                user,
                &ecardd::demo::demo_password(user.trim().to_lowercase().as_str()),
            ))
            .await;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{why}: {v}");
        assert_eq!(v["code"], "login_throttled", "{why}");
        assert_eq!(v["message"], "登录失败次数过多，请在 1 秒后重试", "{why}");
        assert_eq!(v["retry_after_secs"], 1, "{why}");
    }
    assert_eq!(logins(), before, "a throttled login was let in");
    let (s, _, _) = a
        .raw(login_from(
            "10.0.0.2",
            "jiancha",
            &ecardd::demo::demo_password("jiancha"),
        ))
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "an innocent account from an innocent client"
    );
}

/// Password hashes run through a bounded gate: with no turn free, a login is
/// answered 503 `busy` instead of queueing another 19 MiB argon2 run.
#[tokio::test]
async fn a_login_without_a_free_hashing_turn_is_answered_busy() {
    let a = api();
    let mut state =
        ecardd::api::AppState::with_demo(a.demo.station.clone(), a.demo.sim.clone()).unwrap();
    state.hashes = ecardd::api::login_guard::HashGate::new(0, std::time::Duration::ZERO);
    let app = ecardd::api::router(state);
    let (s, _, body) = send(&app, login_from("10.0.0.1", "guanli", "demo-guanli")).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["code"], "busy");
}

/// Creating an account or setting a password hashes too: through the same gate as
/// logins, so an admin cannot add to the hashes running at once.
#[tokio::test]
async fn an_account_change_without_a_free_hashing_turn_is_answered_busy() {
    let a = api();
    let admin = login_at(&a.app, "guanli").await;
    let mut state =
        ecardd::api::AppState::with_demo(a.demo.station.clone(), a.demo.sim.clone()).unwrap();
    state.hashes = ecardd::api::login_guard::HashGate::new(0, std::time::Duration::ZERO);
    let app = ecardd::api::router(state);
    let req = Request::post("/api/v1/operators")
        .header(header::COOKIE, &admin)
        .header("x-requested-with", "ecard")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({
                "username": "xinren", "display_name": "新人", "role": "inspector",
                "password": "a-long-enough-password"
            })
            .to_string(),
        ))
        .unwrap();
    let (s, _, body) = send(&app, req).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["code"], "busy");
    let operators = a
        .demo
        .station
        .store
        .read(ecardd::store::list_operators)
        .unwrap();
    assert!(operators.iter().all(|o| o.username != "xinren"));
}

/// The demo station's routes as they answer at instant `at`: the same database,
/// opened with a clock stopped at `at` (the injected clock; nothing sleeps).
fn station_at(demo: &ecardd::demo::DemoStation, at: chrono::DateTime<chrono::Utc>) -> axum::Router {
    let store = std::sync::Arc::new(
        ecardd::store::Store::open(&demo.db, ecard_clock::Clock::frozen(at)).unwrap(),
    );
    let trust = ecardd::keyring::trust_list(&store).unwrap();
    let station = ecardd::ops::Station::without_keys(
        store,
        demo.station.readers.clone(),
        trust,
        demo.station.config.clone(),
    );
    ecardd::api::router(ecardd::api::AppState::with_demo(station, demo.sim.clone()).unwrap())
}

async fn me(app: &axum::Router, cookie: &str) -> StatusCode {
    let req = Request::get("/api/v1/session")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    send(app, req).await.0
}

async fn login_at(app: &axum::Router, user: &str) -> String {
    let (s, h, _) = send(
        app,
        login_from("10.0.0.1", user, &ecardd::demo::demo_password(user)),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let cookie = h.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// A session ends after 30 minutes without a request; every request counts the
/// 30 minutes again; and however busy, it ends 12 hours after login.
#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes_and_twelve_hours_at_most() {
    use chrono::TimeDelta;
    let t0 = ecard_clock::Clock::frozen_on(today()).now();
    let demo = ecardd::demo::build(ecard_clock::Clock::frozen(t0)).unwrap();
    let at = |minutes: i64| station_at(&demo, t0 + TimeDelta::minutes(minutes));

    let idle = login_at(&at(0), "jiancha").await;
    assert_eq!(me(&at(29), &idle).await, StatusCode::OK);
    // 29 + 30 minutes after the last request: still 29 idle minutes.
    assert_eq!(me(&at(58), &idle).await, StatusCode::OK);
    assert_eq!(me(&at(58 + 31), &idle).await, StatusCode::UNAUTHORIZED);

    let busy = login_at(&at(0), "guanli").await;
    let mut minute = 0;
    while minute < 12 * 60 - 20 {
        minute += 20;
        assert_eq!(
            me(&at(minute), &busy).await,
            StatusCode::OK,
            "minute {minute}"
        );
    }
    assert_eq!(
        me(&at(12 * 60 + 1), &busy).await,
        StatusCode::UNAUTHORIZED,
        "a busy session outlived its 12 hours"
    );
}

/// Reads the event stream until it ends, or gives up after `limit`.
async fn stream_ends_within(body: Body, limit: std::time::Duration) -> bool {
    use http_body_util::BodyExt;
    let mut body = body;
    tokio::time::timeout(limit, async {
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                break;
            }
        }
    })
    .await
    .is_ok()
}

fn events_request(cookie: &str) -> Request<Body> {
    Request::get("/api/v1/events")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// An open event stream ends when its session is logged out, or when an admin
/// disables its account; a stream of another session stays open.
#[tokio::test]
async fn an_event_stream_ends_with_its_session() {
    let a = api();
    let mine = a.login("jiancha").await;
    let other = a.login("zhizheng").await;
    let open = |c: String| {
        let app = a.app.clone();
        async move {
            tower::ServiceExt::oneshot(app, events_request(&c))
                .await
                .unwrap()
        }
    };
    let mine_stream = open(mine.clone()).await;
    let other_stream = open(other.clone()).await;
    assert_eq!(mine_stream.status(), StatusCode::OK);

    assert_eq!(
        a.call(Method::DELETE, "/session", Some(&mine), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert!(
        stream_ends_within(mine_stream.into_body(), std::time::Duration::from_secs(5)).await,
        "the stream outlived its logged-out session"
    );
    let other_body = other_stream.into_body();
    let (still_open, other_body) = {
        let mut b = other_body;
        let ended = tokio::time::timeout(std::time::Duration::from_millis(300), async {
            use http_body_util::BodyExt;
            loop {
                match b.frame().await {
                    None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
        .is_ok();
        (!ended, b)
    };
    assert!(still_open, "another session's stream ended too");

    // An admin disables the account behind the other stream: it ends.
    let admin = a.login("guanli").await;
    let id = a
        .demo
        .station
        .store
        .read(|c| {
            Ok(ecardd::store::operator_for_login(c, "zhizheng")?
                .unwrap()
                .0
                .id)
        })
        .unwrap();
    let (s, v) = a
        .call(
            Method::PATCH,
            &format!("/operators/{id}"),
            Some(&admin),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        stream_ends_within(other_body, std::time::Duration::from_secs(5)).await,
        "the stream outlived its disabled account"
    );
}
