//! Roster upload (multipart: the xlsx and optionally a zip of photos), the
//! downloadable error report of a refused import, and the empty template.

use super::error::ApiError;
use super::session::{need, Granted};
use super::{xlsx_response, AppState};
use crate::ops::ImportError;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use ecard_domain::roster::{ImportReport, Photos};
use serde_json::json;

/// Reports kept for download, newest last; older ones are dropped.
const KEPT_REPORTS: usize = 32;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("处理失败：{e}"),
    )
}

pub async fn upload(
    State(state): State<AppState>,
    session: Granted<need::Import>,
    mut form: Multipart,
) -> Result<Json<crate::ops::ImportOutcome>, ApiError> {
    let mut roster = None;
    let mut photos = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::invalid(format!("上传内容无法解析：{e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::invalid(format!("上传中断：{e}")))?;
        match name.as_str() {
            "roster" => roster = Some(bytes),
            "photos" if !bytes.is_empty() => photos = Some(bytes),
            _ => {}
        }
    }
    let roster = roster
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::invalid("请选择人员名单（xlsx 文件）"))?;
    let station = state.station.clone();
    let actor = session.actor().to_owned();
    let result = tokio::task::spawn_blocking(move || {
        let photos = match &photos {
            Some(zip) => Photos::Zip(zip),
            None => Photos::None,
        };
        station.import_roster(&actor, &roster, photos)
    })
    .await
    .map_err(internal)?;
    match result {
        Ok(out) => Ok(Json(out)),
        Err(ImportError::Op(e)) => Err(e.into()),
        // A file refused unread (too large, too many cells…): its own code, no report.
        Err(ImportError::Rejected(ImportReport {
            refused: Some(limit),
            ..
        })) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            limit.code(),
            limit.to_string(),
        )),
        // Not a workbook at all: what to do, and no table of rows there are none of.
        Err(ImportError::Rejected(ImportReport { not_xlsx: true, .. })) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "roster_not_xlsx",
            ecard_domain::roster::NOT_XLSX,
        )),
        Err(ImportError::Rejected(report)) => {
            let xlsx = report.to_xlsx().map_err(internal)?;
            let id = crate::store::random_id()?;
            {
                let mut reports = state.import_reports.lock().map_err(internal)?;
                reports.push((id.clone(), xlsx));
                let excess = reports.len().saturating_sub(KEPT_REPORTS);
                reports.drain(..excess);
            }
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "import_rejected",
                format!(
                    "导入未完成：发现 {} 处问题，未导入任何数据",
                    report.issues.len()
                ),
            )
            .with("errors", json!(report.issues))
            .with("report", json!(format!("/api/v1/import/reports/{id}.xlsx"))))
        }
    }
}

pub async fn report(
    State(state): State<AppState>,
    _session: Granted<need::Import>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let id = file.strip_suffix(".xlsx").unwrap_or(&file);
    let bytes = state
        .import_reports
        .lock()
        .map_err(internal)?
        .iter()
        .find(|(k, _)| k == id)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| ApiError::not_found("错误报告已过期，请重新导入"))?;
    Ok(xlsx_response("导入错误报告.xlsx", bytes))
}

pub async fn template(_: Granted<need::Import>) -> Result<Response, ApiError> {
    let bytes = ecard_domain::forms::roster_template().map_err(internal)?;
    Ok(xlsx_response("人员数据录入模板.xlsx", bytes))
}
