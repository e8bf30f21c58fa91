//! The card operations: issue (one card, batches, resuming jobs), verify, annual
//! review and status changes. Each route checks its permission and calls the one
//! operation in crate::ops that the CLI calls too.

use super::error::ApiError;
use super::session::{need, Granted};
use super::views::{
    job_rows, BatchRef, BatchView, IssueView, JobRowView, PhotoView, ReviewView, StatusView,
    VerdictView,
};
use super::{ApiJson, AppState};
use crate::ops::{BulkReplaceRequest, ReviewRequest, StatusRequest};
use crate::store;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct IssueBody {
    certificate_id: i64,
    reader: String,
}

pub async fn issue(
    State(state): State<AppState>,
    session: Granted<need::Issue>,
    ApiJson(req): ApiJson<IssueBody>,
) -> Result<Json<IssueView>, ApiError> {
    let out = state
        .station
        .issue(session.actor(), req.certificate_id, &req.reader)
        .await?;
    Ok(Json(IssueView::from(&out)))
}

#[derive(Deserialize)]
pub struct BatchBody {
    name: Option<String>,
    certificate_ids: Vec<i64>,
    readers: Vec<String>,
    /// Print each card's face at the paired card printer as it is encoded.
    #[serde(default)]
    print_encode: bool,
}

pub async fn start_batch(
    State(state): State<AppState>,
    session: Granted<need::Issue>,
    ApiJson(req): ApiJson<BatchBody>,
) -> Result<(StatusCode, Json<BatchRef>), ApiError> {
    let name = req
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("{} 批次", state.station.today()));
    let id = if req.print_encode {
        state.station.start_print_encode_batch(
            session.actor(),
            &name,
            &req.certificate_ids,
            &req.readers,
        )?
    } else {
        state
            .station
            .start_batch(session.actor(), &name, &req.certificate_ids, &req.readers)?
    };
    Ok((StatusCode::CREATED, Json(BatchRef { batch_id: id })))
}

pub async fn batch(
    State(state): State<AppState>,
    _session: Granted<need::Issue>,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    let progress = state.station.batch_progress(id)?;
    if progress.total == 0 {
        return Err(ApiError::not_found(format!("找不到批次 {id}")));
    }
    let jobs = state
        .station
        .store
        .read(|c| store::job_views(c, Some(id), None, None))?;
    Ok(Json(BatchView {
        progress,
        jobs: job_rows(&jobs),
    }))
}

pub async fn batches(
    State(state): State<AppState>,
    _session: Granted<need::Issue>,
) -> Result<Json<Vec<store::BatchSummary>>, ApiError> {
    let list = state
        .station
        .store
        .read(|c| store::batch_summaries(c, 100))?;
    Ok(Json(list))
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
) -> Result<(StatusCode, Json<BatchRef>), ApiError> {
    state
        .station
        .resume_batch(session.actor(), id, &req.readers)?;
    Ok((StatusCode::ACCEPTED, Json(BatchRef { batch_id: id })))
}

#[derive(Deserialize)]
pub struct JobsQuery {
    state: Option<String>,
}

pub async fn jobs(
    State(state): State<AppState>,
    _session: Granted<need::Issue>,
    Query(q): Query<JobsQuery>,
) -> Result<Json<Vec<JobRowView>>, ApiError> {
    if let Some(s) = q.state.as_deref() {
        store::JobState::parse(s).map_err(|_| ApiError::invalid(format!("未知的任务状态：{s}")))?;
    }
    let jobs = state
        .station
        .store
        .read(|c| store::job_views(c, None, None, q.state.as_deref()))?;
    Ok(Json(job_rows(&jobs)))
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
) -> Result<Json<IssueView>, ApiError> {
    let out = state
        .station
        .write_job(session.actor(), id, &req.reader)
        .await?;
    Ok(Json(IssueView::from(&out)))
}

/// The verdict as soon as it is decided (`photo` is `null`, the photo's check
/// `pending`); the photo is read meanwhile and served by `GET /verify/{id}/photo`.
pub async fn verify(
    State(state): State<AppState>,
    _session: Granted<need::Verify>,
    ApiJson(req): ApiJson<ReaderBody>,
) -> Result<Json<VerdictView>, ApiError> {
    let first = state.station.verify_first(&req.reader).await?;
    let id = state.photos.expect(first.photo)?;
    let mut view = VerdictView::from(&first.outcome);
    view.photo_url = Some(format!("/api/v1/verify/{id}/photo"));
    view.photo_id = Some(id);
    Ok(Json(view))
}

/// Waits for the photo of an earlier `POST /verify` and answers it.
pub async fn verify_photo(
    State(state): State<AppState>,
    _session: Granted<need::Verify>,
    Path(id): Path<String>,
) -> Result<Json<PhotoView>, ApiError> {
    state.photos.wait(&id).await.map(Json)
}

pub async fn review(
    State(state): State<AppState>,
    session: Granted<need::Review>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> Result<Json<ReviewView>, ApiError> {
    let review = state.station.review(session.actor(), &req).await?;
    Ok(Json(ReviewView::new(&review, req.reader.is_some())))
}

/// Marks a whole unit's schedule at once: a passed review, records only, for every
/// certificate of the unit still due (`ops::review`).
pub async fn review_unit(
    State(state): State<AppState>,
    session: Granted<need::Review>,
    ApiJson(req): ApiJson<crate::ops::UnitReviewRequest>,
) -> Result<Json<crate::ops::UnitReview>, ApiError> {
    Ok(Json(state.station.review_unit(session.actor(), &req)?))
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
) -> Result<Json<StatusView>, ApiError> {
    let reader = req.reader.as_deref().filter(|r| !r.is_empty());
    let out = state
        .station
        .change_status(session.actor(), id, &req.request, reader)
        .await?;
    Ok(Json(StatusView::from(&out)))
}

/// Bulk 换证 for a renamed or merged unit: one application per holder.
pub async fn bulk_replace(
    State(state): State<AppState>,
    session: Granted<need::ChangeStatus>,
    ApiJson(req): ApiJson<BulkReplaceRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items = state.station.bulk_replace(session.actor(), &req).await?;
    let filed = items.iter().filter(|i| i.application_id.is_some()).count();
    Ok(Json(serde_json::json!({ "filed": filed, "items": items })))
}

/// Writes the recorded status to the certificate's card (after a change recorded
/// without the card, or whose card write failed).
pub async fn write_status_to_card(
    State(state): State<AppState>,
    session: Granted<need::ChangeStatus>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ReaderBody>,
) -> Result<Json<StatusView>, ApiError> {
    let out = state
        .station
        .write_status_to_card(session.actor(), id, &req.reader)
        .await?;
    Ok(Json(StatusView::from(&out)))
}
