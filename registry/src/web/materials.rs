//! Proof materials on the pages: the unit uploads them from its filing and edit
//! pages (the file's bytes as the body, its name in `?name=`), everyone who
//! oversees the application opens them from its page. The checks and the answer's
//! headers are the bearer API's (`crate::api::materials`).

use super::session::{who, As};
use super::{WebError, WebState};
use crate::api::materials::{read_upload, serve, UploadName};
use crate::storage::MaterialInfo;
use crate::workflow::materials;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/applications/{id}/materials", post(upload))
        .route("/applications/{id}/materials/{material}", get(one))
}

async fn upload(
    State(state): State<WebState>,
    who: As<who::Unit>,
    Path(id): Path<i64>,
    Query(name): Query<UploadName>,
    body: Body,
) -> Result<(StatusCode, Json<MaterialInfo>), WebError> {
    let bytes = read_upload(body).await?;
    let account = who.account;
    let info = state
        .api
        .db(move |s| materials::add(s, &account, id, &name.name, &bytes))
        .await?;
    Ok((StatusCode::CREATED, Json(info)))
}

async fn one(
    State(state): State<WebState>,
    who: As<who::Anyone>,
    Path((id, material)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let account = who.account;
    let (info, kind, bytes) = state
        .api
        .db(move |s| materials::get(s, &account, id, material))
        .await?;
    serve(&info, kind, bytes)
}
