//! The application workflow for registry operators (`/api/v1/applications`, bearer
//! tokens of unit / county / city / province accounts).

use super::{bearer, ApiError, AppState};
use crate::form::{ApplicationForm, RosterDefaults};
use crate::keys::token_digest;
use crate::storage::{Account, ApplicationRow, Role};
use crate::workflow::service;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use ecard_domain::roster::RosterRow;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/applications", post(submit).get(list))
        .route("/api/v1/applications/bulk", post(submit_bulk))
        .route("/api/v1/applications/{id}", get(show).put(edit))
        .route("/api/v1/applications/{id}/eligibility", get(eligibility))
        .route("/api/v1/applications/{id}/resubmit", post(resubmit))
        .route("/api/v1/applications/{id}/approve", post(approve))
        .route("/api/v1/applications/{id}/reject", post(reject))
        .route("/api/v1/applications/{id}/send-back", post(send_back))
}

pub(super) async fn account(state: &AppState, headers: &HeaderMap) -> Result<Account, ApiError> {
    let digest = token_digest(bearer(headers).ok_or_else(ApiError::unauthorized)?);
    state
        .db(move |s| s.account_by_token_digest(&digest))
        .await?
        .ok_or_else(ApiError::unauthorized)
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(form): Json<ApplicationForm>,
) -> Result<(StatusCode, Json<ApplicationRow>), ApiError> {
    let acc = account(&state, &headers).await?;
    if acc.role != Role::Unit {
        return Err(ApiError::forbidden());
    }
    let checked = form
        .check(state.today(), state.storage.province())
        .map_err(invalid)?;
    let row = state
        .db(move |s| {
            let ids = service::submit_applications(s, &acc, vec![checked])?;
            let id = ids.first().copied().unwrap_or_default();
            service::application(s, &acc, id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Debug, Deserialize)]
struct BulkRequest {
    defaults: RosterDefaults,
    rows: Vec<RosterRow>,
    /// Each holder's photo (base64 JPEG) by 公民身份号码: a row's photo does not
    /// travel inside the row. A row without one is refused (`NO_PHOTO_FILING`).
    #[serde(default)]
    photos: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct BulkIssue {
    excel_row: u32,
    message: String,
}

#[derive(Debug, Serialize)]
struct BulkResult {
    ids: Vec<i64>,
}

/// A whole roster (rows as `ecard_domain::roster::import` returns them): every row
/// is checked first; one bad row refuses the batch with every problem listed.
async fn submit_bulk(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<BulkRequest>,
) -> Result<(StatusCode, Json<BulkResult>), ApiError> {
    let acc = account(&state, &headers).await?;
    if acc.role != Role::Unit {
        return Err(ApiError::forbidden());
    }
    let unit_id = acc.unit_id.unwrap_or_default();
    let unit = state.db(move |s| s.unit(unit_id)).await?;
    let today = state.today();
    let mut forms = Vec::with_capacity(req.rows.len());
    let mut issues = Vec::new();
    for row in &req.rows {
        if row.unit.trim() != unit.name {
            issues.push(BulkIssue {
                excel_row: row.excel_row,
                message: format!("所属单位“{}”与本账号单位“{}”不一致", row.unit, unit.name),
            });
            continue;
        }
        let mut form = ApplicationForm::from_roster(row, &req.defaults);
        form.photo_jpeg = req.photos.get(row.citizen_id.as_str()).cloned();
        match form.check(today, state.storage.province()) {
            Ok(f) if f.photo.is_none() => issues.push(BulkIssue {
                excel_row: row.excel_row,
                message: service::NO_PHOTO_FILING.to_owned(),
            }),
            Ok(f) => forms.push(f),
            Err(message) => issues.push(BulkIssue {
                excel_row: row.excel_row,
                message,
            }),
        }
    }
    if !issues.is_empty() {
        let list = issues
            .iter()
            .map(|i| format!("第{}行：{}", i.excel_row, i.message))
            .collect::<Vec<_>>()
            .join("；");
        return Err(invalid(format!(
            "共{}行有问题，未提交任何申请：{list}",
            issues.len()
        )));
    }
    let ids = state
        .db(move |s| service::submit_applications(s, &acc, forms))
        .await?;
    Ok((StatusCode::CREATED, Json(BulkResult { ids })))
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApplicationRow>>, ApiError> {
    let acc = account(&state, &headers).await?;
    Ok(Json(
        state.db(move |s| service::applications(s, &acc)).await?,
    ))
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationRow>, ApiError> {
    let acc = account(&state, &headers).await?;
    Ok(Json(
        state.db(move |s| service::application(s, &acc, id)).await?,
    ))
}

/// One finding of the eligibility check, as programs and people read it.
#[derive(Debug, Serialize)]
struct Finding {
    code: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
struct EligibilityView {
    /// Definite reasons the person may not hold a certificate: approval is refused.
    ineligible: Vec<Finding>,
    /// Facts the application does not carry: for the reviewer to check.
    unverified: Vec<Finding>,
}

/// The eligibility check of application `id` as of today (DOMAIN.md "Who and what").
async fn eligibility(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<EligibilityView>, ApiError> {
    let acc = account(&state, &headers).await?;
    let v = state
        .db(move |s| service::eligibility_findings(s, &acc, id))
        .await?;
    Ok(Json(EligibilityView {
        ineligible: v
            .ineligible
            .iter()
            .map(|i| Finding {
                code: i.code(),
                message: i.to_string(),
            })
            .collect(),
        unverified: v
            .unverified
            .iter()
            .map(|i| Finding {
                code: i.code(),
                message: i.to_string(),
            })
            .collect(),
    }))
}

async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(form): Json<ApplicationForm>,
) -> Result<Json<ApplicationRow>, ApiError> {
    let acc = account(&state, &headers).await?;
    let checked = form
        .check(state.today(), state.storage.province())
        .map_err(invalid)?;
    Ok(Json(
        state
            .db(move |s| service::edit_application(s, &acc, id, checked))
            .await?,
    ))
}

async fn resubmit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationRow>, ApiError> {
    let acc = account(&state, &headers).await?;
    Ok(Json(
        state
            .db(move |s| service::resubmit_application(s, &acc, id))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
struct Reason {
    #[serde(default)]
    reason: String,
}

async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationRow>, ApiError> {
    let acc = account(&state, &headers).await?;
    let day = state.today();
    Ok(Json(
        state
            .db(move |s| service::decide_application(s, &acc, id, true, None, day))
            .await?,
    ))
}

async fn reject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> Result<Json<ApplicationRow>, ApiError> {
    let acc = account(&state, &headers).await?;
    let day = state.today();
    Ok(Json(
        state
            .db(move |s| service::decide_application(s, &acc, id, false, Some(&r.reason), day))
            .await?,
    ))
}

async fn send_back(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> Result<Json<ApplicationRow>, ApiError> {
    let acc = account(&state, &headers).await?;
    Ok(Json(
        state
            .db(move |s| service::send_back_application(s, &acc, id, &r.reason))
            .await?,
    ))
}
