//! The station's applications to the registry (本站申请): one person filed by
//! form, the follow-ups (edit and resubmit one that came back, a photo added
//! later, the request that an approved one be sent back) and one application with
//! its form for editing. The list is `records::applications`.

use super::error::ApiError;
use super::session::{need, Granted};
use super::AppState;
use crate::labels;
use crate::ops::{ImportError, ImportOutcome};
use crate::store::{self, ApplicationEntry};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ecard_domain::roster::{RosterForm, RosterRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A refused form: every problem, by column, in the roster's words, so the page
/// marks the fields (422 `form_rejected`, `errors` as an import's).
fn rejected(e: ImportError) -> ApiError {
    match e {
        ImportError::Op(e) => e.into(),
        ImportError::Rejected(report) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_rejected",
            report
                .issues
                .iter()
                .map(|i| format!("{}：{}", i.column, i.reason))
                .collect::<Vec<_>>()
                .join("；"),
        )
        .with("errors", json!(report.issues)),
    }
}

fn photo_bytes(b64: Option<&str>) -> Result<Option<Vec<u8>>, ApiError> {
    use base64::Engine;
    b64.map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| base64::engine::general_purpose::STANDARD.decode(p))
        .transpose()
        .map_err(|_| ApiError::invalid("照片不是有效的 Base64 编码"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    /// The template's columns as typed.
    form: RosterForm,
    /// Base64 JPEG; may come later (`POST /applications/{id}/photo`).
    #[serde(default)]
    photo_jpeg: Option<String>,
}

/// Files one new applicant by form. 201 `{imported, application_ids, corrections}`.
pub async fn file(
    State(state): State<AppState>,
    session: Granted<need::Import>,
    super::ApiJson(body): super::ApiJson<FileBody>,
) -> Result<(StatusCode, Json<ImportOutcome>), ApiError> {
    let photo = photo_bytes(body.photo_jpeg.as_deref())?;
    let station = state.station.clone();
    let actor = session.actor().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        station.file_application(&actor, &body.form, photo.as_deref())
    })
    .await
    .map_err(|e| ApiError::invalid(format!("处理失败：{e}")))?
    .map_err(rejected)?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// One application as the list shows it, with its words, and (a roster
/// application) its form as the page edits it.
#[derive(Serialize)]
pub struct ApplicationView {
    #[serde(flatten)]
    entry: ApplicationEntry,
    kind_label: String,
    state_label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    form: Option<RosterForm>,
}

fn view(state: &AppState, id: i64) -> Result<ApplicationView, ApiError> {
    let (entry, app) = state.station.store.read(|c| {
        Ok((
            store::application_entry(c, id)?,
            store::station_application(c, id)?,
        ))
    })?;
    let form = (app.kind == "new")
        .then(|| serde_json::from_str::<RosterRow>(&app.row_json).ok())
        .flatten()
        .map(|row| RosterForm::from_row(&row));
    Ok(ApplicationView {
        kind_label: labels::application_word(labels::APPLICATION_KINDS, &entry.kind).to_owned(),
        state_label: labels::application_word(labels::APPLICATION_STATES, &entry.state).to_owned(),
        entry,
        form,
    })
}

pub async fn one(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
    Path(id): Path<i64>,
) -> Result<Json<ApplicationView>, ApiError> {
    Ok(Json(view(&state, id)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResubmitBody {
    /// The corrected form (a roster application); absent: resubmitted as it was.
    #[serde(default)]
    form: Option<RosterForm>,
    #[serde(default)]
    photo_jpeg: Option<String>,
}

/// Edits an application that came back (退回) and sends it for review again.
pub async fn resubmit(
    State(state): State<AppState>,
    session: Granted<need::Import>,
    Path(id): Path<i64>,
    super::ApiJson(body): super::ApiJson<ResubmitBody>,
) -> Result<Json<ApplicationView>, ApiError> {
    let photo = photo_bytes(body.photo_jpeg.as_deref())?;
    state
        .station
        .resubmit_application(session.actor(), id, body.form.as_ref(), photo.as_deref())
        .map_err(rejected)?;
    Ok(Json(view(&state, id)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoBody {
    photo_jpeg: String,
}

/// Adds the photo to a pending application.
pub async fn photo(
    State(state): State<AppState>,
    session: Granted<need::Import>,
    Path(id): Path<i64>,
    super::ApiJson(body): super::ApiJson<PhotoBody>,
) -> Result<Json<ApplicationView>, ApiError> {
    let photo =
        photo_bytes(Some(&body.photo_jpeg))?.ok_or_else(|| ApiError::invalid("请选择照片"))?;
    state
        .station
        .add_application_photo(session.actor(), id, &photo)
        .map_err(rejected)?;
    Ok(Json(view(&state, id)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendBackBody {
    reason: String,
}

/// Asks the reviewing bureau to send an approved application back.
pub async fn send_back(
    State(state): State<AppState>,
    session: Granted<need::Import>,
    Path(id): Path<i64>,
    super::ApiJson(body): super::ApiJson<SendBackBody>,
) -> Result<Json<ApplicationView>, ApiError> {
    state
        .station
        .request_send_back(session.actor(), id, &body.reason)?;
    Ok(Json(view(&state, id)?))
}
