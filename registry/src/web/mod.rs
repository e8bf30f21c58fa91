//! The reviewers' web pages (issue 20; docs/REGISTRY.md lists pages and routes):
//! 单位管理员 file and correct applications, 县级/市级司法局 and 省司法厅 review them,
//! the province department sees the registry's lists and statistics.
//!
//! Shaped as the station's web UI (daemon/src/api, web-ui/): static pages
//! (registry/web-pages/, embedded in the binary, no script from the internet)
//! talk JSON to `/web/v1/*` with a session cookie. In front of them, as there:
//! the Host check (DNS rebinding), `X-Requested-With: ecard` on every change (with
//! SameSite=Strict, against cross-site requests), a CSP that admits the registry's
//! own files only, the login throttle and hash gate of `ecard_web_guard`. The
//! bearer-token API (`/api/v1/*`) stays as it is for programs.
//!
//! - [`session`]: logins, the `As<who::…>` extractor (role before body);
//! - [`review`]: the queue, one application, decisions (bureaus);
//! - [`unit`]: a unit's applications, filing, editing, resubmitting, send-back;
//! - [`admin`]: the province's view of units, accounts, stations, trust and
//!   revocation lists;
//! - [`stats`]: counts and the SVG chart;
//! - [`views`]: what an application looks like on a page (labels, kind, deadline).

mod admin;
pub mod deadline;
pub mod labels;
mod materials;
pub mod password;
mod review;
pub mod session;
mod static_files;
mod stats;
mod unit;
pub mod views;

use crate::api::{ApiError, AppState};
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ecard_web_guard::hosts::AllowedHosts;
use ecard_web_guard::login_guard::{GateError, HashGate, LoginThrottle};
use std::sync::Arc;

/// The pages' errors are the API's: `{code, message}`, the message in Chinese.
pub type WebError = ApiError;

impl ApiError {
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "请先登录")
    }
}

impl From<GateError> for ApiError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "正在处理的登录过多，请稍后重试",
            ),
            GateError::Failed => Self::internal("password hashing task failed"),
        }
    }
}

/// What stands in front of the pages, made once per process.
pub struct WebGuards {
    pub throttle: LoginThrottle,
    pub hashes: HashGate,
    /// A valid argon2id hash checked when a login names an unknown user, so the
    /// answer takes as long as for a known one.
    pub dummy_hash: String,
    /// A session unused this long ends (at most `SESSION_HOURS` after login).
    pub idle: chrono::TimeDelta,
    /// The names the pages answer to; `None` in-process (tests naming no host).
    pub hosts: Option<AllowedHosts>,
    /// Served over TLS: the cookie is `Secure`.
    pub secure_cookie: bool,
}

impl WebGuards {
    pub fn new(
        hosts: Option<AllowedHosts>,
        secure_cookie: bool,
    ) -> Result<Self, password::PasswordError> {
        Ok(Self {
            throttle: LoginThrottle::default(),
            hashes: HashGate::default(),
            dummy_hash: password::hash_password("not-a-real-password")?,
            idle: chrono::TimeDelta::minutes(session::DEFAULT_IDLE_MINUTES),
            hosts,
            secure_cookie,
        })
    }
}

#[derive(Clone)]
pub struct WebState {
    pub api: AppState,
    pub guards: Arc<WebGuards>,
}

/// Requests that change something must say `X-Requested-With: ecard`: a cross-site
/// form cannot set that header, and a cross-site script cannot without a CORS
/// preflight this server never grants.
async fn require_ajax_header(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let marked = req
        .headers()
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes() == b"ecard");
    if safe || marked {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_refused",
            "请求缺少 X-Requested-With 标头，已拒绝",
        )
        .into_response()
    }
}

async fn check_host(hosts: AllowedHosts, req: Request, next: Next) -> Response {
    match hosts.check(&req) {
        Ok(()) => next.run(req).await,
        Err(host) => {
            tracing::warn!(host = ?host, path = %req.uri().path(), "page request for a host not served here refused");
            ApiError::new(
                StatusCode::FORBIDDEN,
                "host_not_allowed",
                "请求的主机名不是本中心的地址，已拒绝（如需用其他名称访问，请以 --allowed-host 配置）",
            )
            .into_response()
        }
    }
}

/// Headers every page answer carries: only the registry's own files, never framed,
/// no type guessing (a photo is never run as a script), no URL in a Referer. The
/// pages have no inline script or style, so `default-src 'self'` costs nothing.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    // A stricter policy an answer set itself (a proof material's sandbox) stays.
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(name)
            .or_insert(axum::http::HeaderValue::from_static(value));
    }
    resp
}

/// The pages and their JSON, with their guards; merged into the registry's router.
pub fn routes(api: AppState, guards: Arc<WebGuards>) -> Router {
    let hosts = guards.hosts.clone();
    let state = WebState { api, guards };
    let json = Router::new()
        .route(
            "/session",
            post(session::login)
                .get(session::me)
                .delete(session::logout),
        )
        .merge(review::routes())
        .merge(unit::routes())
        .merge(materials::routes())
        .merge(admin::routes())
        .merge(stats::routes())
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "没有这个接口")
        });
    let app = Router::new()
        .nest("/web/v1", json)
        .route("/", get(|| async { axum::response::Redirect::to("/web/") }))
        .route(
            "/web",
            get(|| async { axum::response::Redirect::to("/web/") }),
        )
        .route("/web/", get(static_files::index))
        .route("/web/{file}", get(static_files::serve))
        .layer(middleware::from_fn(require_ajax_header));
    let app = match hosts {
        Some(hosts) => app.layer(middleware::from_fn(move |req, next| {
            check_host(hosts.clone(), req, next)
        })),
        None => app,
    };
    app.layer(middleware::from_fn(security_headers))
        .with_state(state)
}
