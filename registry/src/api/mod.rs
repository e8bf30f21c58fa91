//! The registry's HTTP API (axum): station sync routes, the application workflow
//! for registry operators, and admin routes.

mod admin;
pub use admin::cli as admin_cli;
pub use admin::{CreatedAccount, NewAccount, NewStation};
mod error;
pub mod materials;
mod public;
pub mod rate_limit;
mod sync;
mod workflow;

pub use error::ApiError;

use crate::storage::Storage;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use card_profile::pki::SigningKey;
use ecard_sync_protocol::refusal::{request_refusal_zh, BAD_REQUEST};
use std::sync::Arc;

/// Big enough for a full batch of 1000 events with their security objects, and a
/// roster of a few thousand rows.
const BODY_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<Storage>,
    /// Signs revocation lists.
    pub key: Arc<SigningKey>,
    /// SHA-256 (hex) of the admin bearer token.
    pub admin_digest: Arc<str>,
}

impl AppState {
    /// Today, from the registry's one clock (the storage's).
    pub fn today(&self) -> chrono::NaiveDate {
        self.storage.clock().today()
    }

    /// Runs a storage call off the async threads (SQLite blocks, fsync included).
    pub async fn db<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
        &self,
        f: impl FnOnce(&Storage) -> Result<T, E> + Send + 'static,
    ) -> Result<T, ApiError> {
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || f(&storage))
            .await
            .map_err(ApiError::internal)?
            .map_err(Into::into)
    }
}

pub fn router(state: AppState) -> Router {
    build_router(state, None)
}

/// The API and the reviewers' pages (`crate::web`) behind their guards.
pub fn router_with_pages(state: AppState, guards: Arc<crate::web::WebGuards>) -> Router {
    build_router(state, Some(guards))
}

fn build_router(state: AppState, pages: Option<Arc<crate::web::WebGuards>>) -> Router {
    let pages = match pages {
        Some(guards) => crate::web::routes(state.clone(), guards),
        None => Router::new(),
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(sync::routes())
        .merge(workflow::routes())
        .merge(materials::routes())
        .merge(admin::routes())
        .merge(public::routes())
        .with_state(state)
        .merge(pages)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(refuse_announced_oversize))
        .layer(axum::middleware::map_response(refusals_as_json))
}

/// A request that announces a body over the limit (`Content-Length`) is refused at
/// once, before a byte of it is read: the sender learns it from the answer rather
/// than after uploading 32 MiB (and a client still writing cannot miss the answer
/// for a broken pipe). A body without a length is still cut at the limit as read.
async fn refuse_announced_oversize(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > BODY_LIMIT as u64) {
        // Plain 413: `refusals_as_json` answers it as `body_too_large`.
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    next.run(request).await
}

/// Refusals made before a handler runs (axum's extractors: a body over the limit,
/// a body that is not the JSON a route takes, a wrong content type, a malformed path
/// or query) are plain English text; every answer of this API is `{code, message}`
/// with a Chinese message, so they are answered as such (`bad_request`, or their own
/// code for an unknown route, a wrong method, a body over the limit).
async fn refusals_as_json(response: axum::response::Response) -> axum::response::Response {
    use axum::http::{header::CONTENT_TYPE, StatusCode};
    use axum::response::IntoResponse;
    /// axum's rejection texts are one line ("missing field `region` at line 1
    /// column 20"); more than this is not one of them.
    const REASON_BYTES: usize = 1024;
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
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            format!("请求体超过 {} MiB 上限，未处理", BODY_LIMIT / (1024 * 1024)),
        ),
        StatusCode::NOT_FOUND => ("not_found", "没有这个接口".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "该接口不接受这种请求方法".to_owned())
        }
        _ => {
            // What was wrong (a wrong content type, not JSON, a missing field…), in
            // Chinese: the extractor's reason is an English sentence.
            let body = axum::body::to_bytes(response.into_body(), REASON_BYTES)
                .await
                .unwrap_or_default();
            let reason = String::from_utf8_lossy(&body);
            (BAD_REQUEST, request_refusal_zh(reason.trim()))
        }
    };
    ApiError::new(status, code, message).into_response()
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}
