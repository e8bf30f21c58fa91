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

fn assert_security_headers(what: &str, h: &HeaderMap) {
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'",
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
        ("an API route", get("/api/v1/certificates", Some(&c)), StatusCode::OK),
        ("the UI's page", get("/", None), StatusCode::OK),
        ("a UI file", get("/app.js", None), StatusCode::OK),
        ("a missing file", get("/nope.js", None), StatusCode::NOT_FOUND),
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
