//! The card face as PDF and the check of a scanned seal (issue #16).

use super::error::ApiError;
use super::session::{need, Granted};
use super::{ApiJson, AppState};
use crate::ops::{PrintedFace, SealCheckView};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// `GET /certificates/{id}/face.pdf`: front and back, with a seal signed now. Who
/// writes cards prints their faces.
pub async fn face_pdf(
    State(state): State<AppState>,
    _session: Granted<need::Issue>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let station = state.station.clone();
    let pdf = tokio::task::spawn_blocking(move || station.card_face(id))
        .await
        .map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "face_render_failed",
                "卡面生成中止",
            )
        })??;
    Ok((
        [
            (CONTENT_TYPE, "application/pdf".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("inline; filename=\"face-{id}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// `POST /certificates/{id}/print`: the face on the card printer's queue chosen in
/// 设置; answers CUPS's job id once CUPS has accepted the job.
pub async fn print_face(
    State(state): State<AppState>,
    session: Granted<need::Issue>,
    Path(id): Path<i64>,
) -> Result<Json<PrintedFace>, ApiError> {
    let station = state.station.clone();
    let actor = session.actor().to_owned();
    Ok(Json(
        tokio::task::spawn_blocking(move || station.print_face(&actor, id))
            .await
            .map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "print_refused",
                    "打印中止",
                )
            })??,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealBody {
    pub text: String,
}

/// `POST /seal/check` `{text}`: what a USB 2D scanner typed into the 验证 page.
pub async fn check_seal(
    State(state): State<AppState>,
    _session: Granted<need::Verify>,
    ApiJson(body): ApiJson<SealBody>,
) -> Result<Json<SealCheckView>, ApiError> {
    if body.text.len() > 2048 {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "seal_too_long",
            "扫描内容过长，不是执法证二维码",
        ));
    }
    Ok(Json(state.station.check_seal(&body.text)))
}
