//! The registry's HTTP API (axum): station sync routes, the application workflow
//! for registry operators, and admin routes.

mod admin;
pub use admin::cli as admin_cli;
pub use admin::{CreatedAccount, NewAccount, NewStation};
mod error;
mod sync;
mod workflow;

pub use error::ApiError;

use crate::storage::Storage;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use card_profile::pki::SigningKey;
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
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(sync::routes())
        .merge(workflow::routes())
        .merge(admin::routes())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
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
