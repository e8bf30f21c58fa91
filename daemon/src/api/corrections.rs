//! Corrections of a certified officer's record that a roster import brought: the
//! list, and the decision (another operator than the importer; store::corrections).

use super::error::ApiError;
use super::session::{need, Granted};
use super::{ApiJson, AppState};
use crate::store::{CorrectionRow, CorrectionState};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<CorrectionState>,
}

pub async fn list(
    State(state): State<AppState>,
    _session: Granted<need::DecideCorrections>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<CorrectionRow>>, ApiError> {
    Ok(Json(state.station.corrections(query.state)?))
}

#[derive(Deserialize, Default)]
pub struct Decision {
    reason: Option<String>,
}

pub async fn approve(
    State(state): State<AppState>,
    session: Granted<need::DecideCorrections>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<Json<CorrectionRow>, ApiError> {
    let row = state
        .station
        .decide_correction(session.actor(), id, true, body.reason.as_deref())?;
    Ok(Json(row))
}

pub async fn reject(
    State(state): State<AppState>,
    session: Granted<need::DecideCorrections>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<Json<CorrectionRow>, ApiError> {
    let row =
        state
            .station
            .decide_correction(session.actor(), id, false, body.reason.as_deref())?;
    Ok(Json(row))
}
