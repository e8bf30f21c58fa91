//! Proof materials over HTTP, for programs (`/api/v1/applications/{id}/materials`,
//! bearer token) and, through [`read_upload`] and [`serve`], for the pages. The
//! rules (type by content, size, count, who) are `workflow::materials`'.

use super::workflow::account;
use super::{ApiError, AppState};
use crate::storage::{MaterialInfo, Role};
use crate::workflow::materials::{self, MaterialError, MaterialType, MAX_MATERIAL_BYTES};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/applications/{id}/materials",
            get(list).post(upload),
        )
        .route("/api/v1/applications/{id}/materials/{material}", get(one))
}

/// `?name=` of an upload: the file's name as the user chose it (display only).
#[derive(Debug, Default, Deserialize)]
pub struct UploadName {
    #[serde(default)]
    pub name: String,
}

/// The upload's bytes, read up to one byte past the limit: a larger body is
/// refused as too large without being held in memory.
pub async fn read_upload(body: Body) -> Result<Vec<u8>, ApiError> {
    axum::body::to_bytes(body, MAX_MATERIAL_BYTES + 1)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| crate::workflow::service::WorkflowError::from(MaterialError::TooLarge).into())
}

/// A material as an answer: its checked type, never sniffed by the browser
/// (`nosniff`), a safe `Content-Disposition`, and a sandbox CSP so that nothing in
/// it runs with the registry's origin.
pub fn serve(
    info: &MaterialInfo,
    kind: MaterialType,
    bytes: Vec<u8>,
) -> Result<Response, ApiError> {
    let disposition = HeaderValue::from_str(&materials::content_disposition(info, kind))
        .map_err(ApiError::internal)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(kind.media_type()));
    h.insert(CONTENT_DISPOSITION, disposition);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("sandbox; default-src 'none'; img-src 'self'"),
    );
    Ok(resp)
}

async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(name): Query<UploadName>,
    body: Body,
) -> Result<(StatusCode, Json<MaterialInfo>), ApiError> {
    let acc = account(&state, &headers).await?;
    if acc.role != Role::Unit {
        return Err(ApiError::forbidden());
    }
    let bytes = read_upload(body).await?;
    let info = state
        .db(move |s| materials::add(s, &acc, id, &name.name, &bytes))
        .await?;
    Ok((StatusCode::CREATED, Json(info)))
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MaterialInfo>>, ApiError> {
    let acc = account(&state, &headers).await?;
    Ok(Json(state.db(move |s| materials::list(s, &acc, id)).await?))
}

async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, material)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let acc = account(&state, &headers).await?;
    let (info, kind, bytes) = state
        .db(move |s| materials::get(s, &acc, id, material))
        .await?;
    serve(&info, kind, bytes)
}
