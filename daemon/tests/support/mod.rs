//! What the API tests share: the real router over the demo station (simulated
//! readers), in process (tower oneshot), with login, calls and a snapshot of
//! everything an operation may change. The same routes through a real process and
//! browser are exercised by ui-tests/.
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use card_profile::channel::Link;
use card_profile::keys::MasterKey;
use card_sim::{SimCard, SimChannel, SimOptions};
use chrono::NaiveDate;
use ecardd::api::{self, AppState};
use ecardd::auth::Role;
use ecardd::demo::{self, DemoStation, READERS};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const R1: &str = READERS[0];

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

pub struct Api {
    pub app: Router,
    pub demo: DemoStation,
}

pub fn api() -> Api {
    api_with(|_| {})
}

/// The demo station with its configuration changed by `f` (e.g. the CUPS server).
pub fn api_with(f: impl FnOnce(&mut ecardd::ops::StationConfig)) -> Api {
    let mut demo = demo::build(ecard_clock::Clock::starting_on(today())).unwrap();
    f(&mut demo.station.config);
    let state = AppState::with_demo(demo.station.clone(), demo.sim.clone()).unwrap();
    Api {
        app: api::router(state),
        demo,
    }
}

pub fn enc(s: &str) -> String {
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
    pub async fn raw(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
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

    pub async fn call(
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

    pub async fn login(&self, username: &str) -> String {
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

    pub async fn insert_blank(&self, cookie: &str, reader: &str) {
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

    pub fn count(&self, sql: &str) -> i64 {
        self.demo
            .station
            .store
            .read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }

    /// Everything that an operation may change, to prove a refusal changed nothing.
    pub fn snapshot(&self) -> Vec<i64> {
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

pub fn username(role: Role) -> &'static str {
    demo::LOGINS.iter().find(|(_, _, r)| *r == role).unwrap().0
}

/// A well-formed trust anchor whose key id does not match its key (refused as invalid).
pub fn bogus_anchor() -> Value {
    let mut anchor = json!(card_profile::demo::pki(today()).unwrap().root.anchor());
    anchor["key_id"] = json!("0000000000000000");
    anchor
}

/// Every cell of the first sheet, joined.
pub fn sheet_text(xlsx: &[u8]) -> String {
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
pub fn written_card(
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
