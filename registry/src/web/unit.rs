//! The unit's side (单位管理员): file an application, edit and resubmit one that came
//! back, request the send-back of an approved one (`review::send_back`, which the
//! unit may call). Its list is `review::list`, which shows a unit its own only.

use super::session::{who, As};
use super::views::Listed;
use super::{WebError, WebState};
use crate::form::ApplicationForm;
use crate::workflow::service;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, Router};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/applications/{id}", put(edit))
        .route("/applications/{id}/resubmit", post(resubmit))
}

fn invalid(message: String) -> WebError {
    WebError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

pub async fn file(
    State(state): State<WebState>,
    who: As<who::Unit>,
    Json(form): Json<ApplicationForm>,
) -> Result<(StatusCode, Json<Listed>), WebError> {
    let checked = form
        .check(state.api.today(), state.api.storage.province())
        .map_err(invalid)?;
    let account = who.account;
    let row = state
        .api
        .db(move |s| {
            let ids = service::submit_applications(s, &account, vec![checked])?;
            let id = ids.first().copied().unwrap_or_default();
            service::application(s, &account, id)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(super::review::listed_now(&state, row).await?),
    ))
}

async fn edit(
    State(state): State<WebState>,
    who: As<who::Unit>,
    Path(id): Path<i64>,
    Json(form): Json<ApplicationForm>,
) -> Result<Json<Listed>, WebError> {
    let checked = form
        .check(state.api.today(), state.api.storage.province())
        .map_err(invalid)?;
    let account = who.account;
    let row = state
        .api
        .db(move |s| service::edit_application(s, &account, id, checked))
        .await?;
    Ok(Json(super::review::listed_now(&state, row).await?))
}

async fn resubmit(
    State(state): State<WebState>,
    who: As<who::Unit>,
    Path(id): Path<i64>,
) -> Result<Json<Listed>, WebError> {
    let account = who.account;
    let row = state
        .api
        .db(move |s| service::resubmit_application(s, &account, id))
        .await?;
    Ok(Json(super::review::listed_now(&state, row).await?))
}
