//! The HTTP API (axum, under /api/v1) and the web UI on the same port. Routes are
//! thin: they check the session's permission and call the operation in crate::ops
//! that the CLI calls too. docs/API.md lists every route with an example.

mod admin;
mod applications;
mod cards;
mod check_page;
mod corrections;
#[cfg(feature = "demo")]
mod demo_hands;
mod doctor;
mod error;
mod face;
mod forms;
mod hosts;
mod import;
mod lists;
pub mod login_guard;
mod photos;
mod readers;
mod records;
mod session;
mod static_files;
pub mod views;

pub use error::ApiError;
pub use hosts::AllowedHosts;
pub use session::{COOKIE_NAME, DEFAULT_IDLE_MINUTES, SESSION_HOURS};

use crate::ops::Station;
#[cfg(feature = "demo")]
use crate::readers::sim::SimReaders;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use ecard_sync_protocol::refusal::{request_refusal_zh, BAD_REQUEST};
use std::sync::{Arc, Mutex};

/// A refused import's error report: (id, xlsx bytes).
pub type ImportReportFile = (String, Vec<u8>);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub station: Station,
    /// The simulated readers, in demo mode only (their insert/eject routes).
    #[cfg(feature = "demo")]
    pub demo: Option<Arc<SimReaders>>,
    /// Error reports of refused imports, kept for download: (id, xlsx).
    pub import_reports: Arc<Mutex<Vec<ImportReportFile>>>,
    /// Photos still being read after their verdict was answered (`POST /verify`).
    pub photos: Arc<photos::PhotoSlots>,
    /// A valid argon2id hash checked when a login names an unknown user, so the
    /// answer takes as long as for a known one.
    pub dummy_hash: String,
    /// Failed logins per account and client: the growing delay.
    pub login_throttle: login_guard::LoginThrottle,
    /// The password hashes allowed at once.
    pub hashes: login_guard::HashGate,
    /// A session unused this long ends (besides its absolute end, `SESSION_HOURS`).
    pub session_idle: chrono::TimeDelta,
    /// Bumped when sessions are ended (logout, an account disabled or its password
    /// changed): open event streams check theirs at once.
    pub sessions_ended: Arc<tokio::sync::watch::Sender<()>>,
}

impl AppState {
    pub fn new(station: Station) -> Result<Self, crate::auth::AuthError> {
        Ok(Self {
            station,
            #[cfg(feature = "demo")]
            demo: None,
            import_reports: Arc::default(),
            photos: Arc::default(),
            dummy_hash: crate::auth::hash_password("not-a-real-password")?,
            login_throttle: Default::default(),
            hashes: Default::default(),
            session_idle: chrono::TimeDelta::minutes(session::DEFAULT_IDLE_MINUTES),
            sessions_ended: Arc::new(tokio::sync::watch::channel(()).0),
        })
    }
}

#[cfg(feature = "demo")]
impl AppState {
    /// The demo's state: its simulated readers get their insert/eject routes.
    pub fn with_demo(
        station: Station,
        sim: Arc<SimReaders>,
    ) -> Result<Self, crate::auth::AuthError> {
        Ok(Self {
            demo: Some(sim),
            ..Self::new(station)?
        })
    }
}

/// `Json<T>` whose rejection is our `{code, message}` in Chinese.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        ApiError::new(e.status(), BAD_REQUEST, request_refusal_zh(&e.body_text()))
    }
}

/// Refusals axum makes before a handler runs on an API route (a malformed path or
/// query parameter, a wrong method, an unknown route) are plain English text; every
/// API answer is `{code, message}` with a Chinese message, so they are answered so.
async fn api_refusals_as_json(req: Request, next: Next) -> Response {
    use axum::http::header::CONTENT_TYPE;
    /// axum's rejection texts are one line; more than this is not one of them.
    const REASON_BYTES: usize = 1024;
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "没有这个接口".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "该接口不接受这种请求方法".to_owned())
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "请求体过大，未处理".to_owned()),
        _ => {
            let body = axum::body::to_bytes(response.into_body(), REASON_BYTES)
                .await
                .unwrap_or_default();
            (
                BAD_REQUEST,
                request_refusal_zh(String::from_utf8_lossy(&body).trim()),
            )
        }
    };
    ApiError::new(status, code, message).into_response()
}

pub(crate) fn xlsx_response(filename: &str, bytes: Vec<u8>) -> Response {
    // RFC 5987: the Chinese file name percent-encoded as UTF-8.
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (
                CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"export.xlsx\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Requests that change something must say `X-Requested-With: ecard`. A cross-site
/// form cannot set that header, and a cross-site script cannot without a CORS
/// preflight this server never grants: a guard beside SameSite=Strict cookies.
async fn require_ajax_header(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let marked = req
        .headers()
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes() == b"ecard");
    if safe || marked || !req.uri().path().starts_with("/api/") {
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

/// Headers every answer carries (API, web UI files, errors, the event stream):
/// the UI loads only its own files and is never framed, a browser never guesses a
/// type (an uploaded photo is not run as a script), and no URL leaks in a Referer.
/// The UI has no inline script or style (web-ui/static), so `default-src 'self'`
/// costs it nothing. Images may also be `data:` URLs: the verdict carries the chip
/// photo as one (`VerdictView::photo`), and without `img-src data:` the browser drew
/// its alt text instead (as the registry's pages allow, registry/src/web).
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
    for (name, value) in SECURITY_HEADERS {
        // A page with its own, narrower policy keeps it (`/check`: hashed inline
        // scripts and nothing else).
        if !headers.contains_key(name) {
            headers.insert(name, axum::http::HeaderValue::from_static(value));
        }
    }
    resp
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("没有这个接口")
}

/// The routes without the Host check: for in-process callers, which name no host.
pub fn router(state: AppState) -> Router {
    build_router(state, None)
}

/// The routes as served: a request naming a host other than `hosts` is refused
/// before anything else looks at it (docs/SECURITY.md "The web UI on localhost").
pub fn router_checking_hosts(state: AppState, hosts: AllowedHosts) -> Router {
    build_router(state, Some(hosts))
}

fn build_router(state: AppState, hosts: Option<AllowedHosts>) -> Router {
    let api = Router::new()
        .route(
            "/session",
            post(session::login)
                .get(session::me)
                .delete(session::logout),
        )
        .route("/labels", get(records::labels))
        .route("/health", get(doctor::health))
        .route("/doctor", get(doctor::doctor))
        .route("/readers", get(readers::list))
        .route("/events", get(readers::events))
        .route("/certificates", get(records::certificates))
        .route(
            "/applications",
            get(records::applications).post(applications::file),
        )
        .route(
            "/applications/{id}",
            get(applications::one).put(applications::resubmit),
        )
        .route("/applications/{id}/photo", post(applications::photo))
        .route(
            "/applications/{id}/send-back",
            post(applications::send_back),
        )
        .route("/certificates/{id}", get(records::certificate))
        .route("/certificates/{id}/status", post(cards::change_status))
        .route("/certificates/{id}/face.pdf", get(face::face_pdf))
        .route("/certificates/{id}/print", post(face::print_face))
        .route("/seal/check", post(face::check_seal))
        .route("/certificates/bulk-replace", post(cards::bulk_replace))
        .route(
            "/certificates/{id}/status/write",
            post(cards::write_status_to_card),
        )
        .route("/officers/{id}/photo", get(records::officer_photo))
        .route("/revocations", get(records::revocations))
        .route("/issue", post(cards::issue))
        .route("/batches", post(cards::start_batch).get(cards::batches))
        .route("/batches/{id}", get(cards::batch))
        .route("/batches/{id}/resume", post(cards::resume_batch))
        .route("/jobs", get(cards::jobs))
        .route("/jobs/{id}/resume", post(cards::resume_job))
        .route("/verify", post(cards::verify))
        .route("/verify/{id}/photo", get(cards::verify_photo))
        .route("/reviews", post(cards::review))
        .route("/reviews/unit", post(cards::review_unit))
        .route("/reviews/schedule", get(records::review_schedule))
        .route("/reviews/schedule.xlsx", get(records::review_schedule_xlsx))
        .route("/import", post(import::upload))
        .route("/corrections", get(corrections::list))
        .route("/corrections/{id}/approve", post(corrections::approve))
        .route("/corrections/{id}/reject", post(corrections::reject))
        .route("/import/reports/{file}", get(import::report))
        .route("/templates/roster.xlsx", get(import::template))
        .route("/forms", get(forms::units))
        .route("/forms/applicants", get(forms::applicants))
        .route("/forms/{file}", get(forms::form))
        .route("/lists/filings", get(lists::filings))
        .route("/lists/overdue", get(lists::overdue))
        .route("/lists/expiring", get(lists::expiring))
        .route("/lists/retiring", get(lists::retiring))
        .route("/sync/status", get(records::sync_status))
        .route("/audit", get(records::audit))
        .route("/audit/verify", get(records::audit_verify))
        .route(
            "/settings",
            get(admin::settings).put(admin::update_settings),
        )
        .route(
            "/settings/printing",
            get(admin::printing).put(admin::update_printing),
        )
        .route(
            "/operators",
            get(admin::operators).post(admin::create_operator),
        )
        .route("/operators/{id}", patch(admin::update_operator))
        .route("/trust", get(admin::trust).post(admin::add_trust))
        .route(
            "/trust/{key_id}",
            axum::routing::delete(admin::remove_trust),
        )
        .fallback(api_not_found);
    #[cfg(feature = "demo")]
    let api = if state.demo.is_some() {
        api.merge(demo_hands::routes())
    } else {
        api
    };
    let app = Router::new()
        .nest("/api/v1", api)
        .route("/check", get(check_page::check_page))
        .fallback(static_files::serve)
        .layer(middleware::from_fn(require_ajax_header))
        .layer(middleware::from_fn(api_refusals_as_json))
        // A roster with its photo archive; anything larger is refused before parsing.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024));
    let app = match hosts {
        Some(hosts) => app.layer(middleware::from_fn(move |req, next| {
            hosts::check(hosts.clone(), req, next)
        })),
        None => app,
    };
    // Outermost, so that refusals by the layers above carry the headers too.
    app.layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves until `shutdown` completes, to requests naming the listener's own address,
/// the loopback names on its port, or one of `allowed_hosts`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    allowed_hosts: &[String],
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hosts = AllowedHosts::new(listener.local_addr()?, allowed_hosts);
    // The client's address reaches the login throttle through ConnectInfo.
    axum::serve(
        listener,
        router_checking_hosts(state, hosts)
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
