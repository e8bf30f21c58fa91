//! The card operations: issue (one card, batches, resuming jobs), verify, annual
//! review and status changes. Each route checks its permission and calls the one
//! operation in crate::ops that the CLI calls too.

use super::error::ApiError;
use super::records::jobs_view;
use super::session::{need, Granted};
use super::{ApiJson, AppState};
use crate::labels;
use crate::ops::{
    IssueOutcome, PhotoOutcome, ReviewRequest, StatusOutcome, StatusRequest, VerifyOutcome,
};
use crate::store;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use card_profile::profile::FileId;
use card_profile::verdict::{Check, CheckKind, Outcome};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct IssueBody {
    certificate_id: i64,
    reader: String,
}

/// The issue outcome as the API and `ecardd issue --json` print it.
pub fn issue_view(out: &IssueOutcome) -> Value {
    json!({
        "job_id": out.job_id, "certificate_id": out.certificate_id, "number": out.number,
        "serial": out.serial, "standing": out.verdict.standing, "standing_label": labels::standing_zh(out.verdict.standing),
        "resumed_without_rewrite": out.resumed_without_rewrite, "apdus": out.apdus,
    })
}

pub async fn issue(
    State(state): State<AppState>,
    session: Granted<need::Issue>,
    ApiJson(req): ApiJson<IssueBody>,
) -> Result<Json<Value>, ApiError> {
    let out = state
        .station
        .issue(session.actor(), req.certificate_id, &req.reader)
        .await?;
    Ok(Json(issue_view(&out)))
}

#[derive(Deserialize)]
pub struct BatchBody {
    name: Option<String>,
    certificate_ids: Vec<i64>,
    readers: Vec<String>,
}

pub async fn start_batch(
    State(state): State<AppState>,
    session: Granted<need::Issue>,
    ApiJson(req): ApiJson<BatchBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = req
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("{} 批次", state.station.today()));
    let id =
        state
            .station
            .start_batch(session.actor(), &name, &req.certificate_ids, &req.readers)?;
    Ok((StatusCode::CREATED, Json(json!({ "batch_id": id }))))
}

pub async fn batch(
    State(state): State<AppState>,
    _session: Granted<need::Issue>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let progress = state.station.batch_progress(id)?;
    if progress.total == 0 {
        return Err(ApiError::not_found(format!("找不到批次 {id}")));
    }
    let jobs = state
        .station
        .store
        .read(|c| store::job_views(c, Some(id), None, None))?;
    let mut v = json!(progress);
    v["jobs"] = jobs_view(&jobs);
    Ok(Json(v))
}

pub async fn batches(
    State(state): State<AppState>,
    _session: Granted<need::Issue>,
) -> Result<Json<Value>, ApiError> {
    let list = state
        .station
        .store
        .read(|c| store::batch_summaries(c, 100))?;
    Ok(Json(json!(list)))
}

#[derive(Deserialize)]
pub struct ReadersBody {
    readers: Vec<String>,
}

pub async fn resume_batch(
    State(state): State<AppState>,
    session: Granted<need::Issue>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ReadersBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state
        .station
        .resume_batch(session.actor(), id, &req.readers)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "batch_id": id }))))
}

#[derive(Deserialize)]
pub struct JobsQuery {
    state: Option<String>,
}

pub async fn jobs(
    State(state): State<AppState>,
    _session: Granted<need::Issue>,
    Query(q): Query<JobsQuery>,
) -> Result<Json<Value>, ApiError> {
    if let Some(s) = q.state.as_deref() {
        store::JobState::parse(s).map_err(|_| ApiError::invalid(format!("未知的任务状态：{s}")))?;
    }
    let jobs = state
        .station
        .store
        .read(|c| store::job_views(c, None, None, q.state.as_deref()))?;
    Ok(Json(jobs_view(&jobs)))
}

#[derive(Deserialize)]
pub struct ReaderBody {
    reader: String,
}

pub async fn resume_job(
    State(state): State<AppState>,
    session: Granted<need::Issue>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ReaderBody>,
) -> Result<Json<Value>, ApiError> {
    let out = state
        .station
        .write_job(session.actor(), id, &req.reader)
        .await?;
    Ok(Json(issue_view(&out)))
}

/// One check as the inspector's screen shows it: its Chinese label and findings.
/// Warning messages are also gathered into `warnings`.
fn check_view(c: &Check, warnings: &mut Vec<String>) -> Value {
    let (key, file) = labels::check_key(c.check);
    let outcome = labels::outcome_key(&c.outcome);
    let findings = match &c.outcome {
        Outcome::Warning { findings } | Outcome::Failed { findings } => findings.as_slice(),
        Outcome::Passed | Outcome::Pending => &[][..],
    };
    let findings: Vec<Value> = findings
        .iter()
        .map(|f| {
            let message = labels::finding_zh(f);
            if outcome == "warning" {
                warnings.push(message.clone());
            }
            let kind = serde_json::to_value(f)
                .ok()
                .and_then(|j| j.get("kind").cloned())
                .unwrap_or(Value::Null);
            json!({ "kind": kind, "message": message })
        })
        .collect();
    json!({
        "check": key, "file": file, "label": labels::check_zh(c.check),
        "outcome": outcome, "outcome_label": labels::outcome_zh(&c.outcome), "findings": findings,
    })
}

fn photo_data_url(jpeg: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

/// The verdict as the inspector's screen shows it: every check with its Chinese
/// label and findings, and the warnings gathered in one list.
pub fn verdict_view(out: &VerifyOutcome) -> Value {
    let v = &out.verdict;
    let mut warnings = Vec::new();
    let checks: Vec<Value> = v
        .checks
        .iter()
        .map(|c| check_view(c, &mut warnings))
        .collect();
    json!({
        "standing": v.standing, "standing_label": labels::standing_zh(v.standing),
        "standing_note": labels::standing_note_zh(v.standing),
        "posts_label": v.certificate.as_ref().map(|c| labels::posts_zh(&c.posts)),
        "serial": hex::encode_upper(v.serial), "verified_on": v.verified_on,
        "holder": v.holder, "certificate": v.certificate, "reviews": v.reviews, "status": v.status,
        "checks": checks, "warnings": warnings, "photo": out.photo.as_deref().map(photo_data_url),
        "record": out.record.as_ref().map(|r| json!({ "certificate_id": r.certificate_id, "state": r.state })),
        "apdus": out.apdus,
    })
}

/// The photo's answer: the settled standing, the photo's hash check and the photo
/// itself — only when the hash matched (else `null`, and the check says why).
pub fn photo_view(out: &PhotoOutcome) -> Value {
    let v = &out.verdict;
    let check = v
        .checks
        .iter()
        .find(|c| c.check == CheckKind::FileHash(FileId::Photo))
        .map(|c| check_view(c, &mut Vec::new()));
    json!({
        "standing": v.standing, "standing_label": labels::standing_zh(v.standing),
        "serial": hex::encode_upper(v.serial),
        "check": check, "photo": out.photo.as_deref().map(photo_data_url), "apdus": out.apdus,
    })
}

/// The verdict as soon as it is decided (`photo` is `null`, the photo's check
/// `pending`); the photo is read meanwhile and served by `GET /verify/{id}/photo`.
pub async fn verify(
    State(state): State<AppState>,
    _session: Granted<need::Verify>,
    ApiJson(req): ApiJson<ReaderBody>,
) -> Result<Json<Value>, ApiError> {
    let first = state.station.verify_first(&req.reader).await?;
    let id = state.photos.expect(first.photo)?;
    let mut view = verdict_view(&first.outcome);
    view["photo_id"] = json!(id);
    view["photo_url"] = json!(format!("/api/v1/verify/{id}/photo"));
    Ok(Json(view))
}

/// Waits for the photo of an earlier `POST /verify` and answers it.
pub async fn verify_photo(
    State(state): State<AppState>,
    _session: Granted<need::Verify>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.photos.wait(&id).await.map(Json)
}

pub async fn review(
    State(state): State<AppState>,
    session: Granted<need::Review>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> Result<Json<Value>, ApiError> {
    let review = state.station.review(session.actor(), &req).await?;
    Ok(Json(json!({
        "year": review.year, "date": review.date, "result": review.result, "remark": review.remark,
        "written_to": req.reader.as_ref().map(|_| hex::encode_upper(review.serial)),
    })))
}

#[derive(Deserialize)]
pub struct StatusBody {
    #[serde(flatten)]
    request: StatusRequest,
    reader: Option<String>,
}

pub async fn change_status(
    State(state): State<AppState>,
    session: Granted<need::ChangeStatus>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<StatusBody>,
) -> Result<Json<Value>, ApiError> {
    let reader = req.reader.as_deref().filter(|r| !r.is_empty());
    let out = state
        .station
        .change_status(session.actor(), id, &req.request, reader)
        .await?;
    Ok(Json(status_view(&out)))
}

/// Writes the recorded status to the certificate's card (after a change recorded
/// without the card, or whose card write failed).
pub async fn write_status_to_card(
    State(state): State<AppState>,
    session: Granted<need::ChangeStatus>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ReaderBody>,
) -> Result<Json<Value>, ApiError> {
    let out = state
        .station
        .write_status_to_card(session.actor(), id, &req.reader)
        .await?;
    Ok(Json(status_view(&out)))
}

fn status_view(out: &StatusOutcome) -> Value {
    json!({
        "certificate_id": out.certificate_id, "state": out.state, "state_label": labels::certificate_state_zh(out.state),
        "written_to": out.written_to, "card_write_failed": out.card_write_failed,
        "new_certificate_id": out.new_certificate_id, "new_number": out.new_number,
    })
}
