//! The demo's hands: insert a blank card, eject, put a card from the tray back.
//! Built only with the `demo` feature and routed only by `ecardd demo` (a server
//! with real readers has no such routes).

use super::error::ApiError;
use super::session::{need, Granted};
use super::views::DemoCardView;
use super::{ApiJson, AppState};
use crate::readers::sim::SimReaders;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

/// The routes, under /api/v1.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/demo/readers/{name}/insert-blank", post(insert_blank))
        .route(
            "/demo/readers/{name}/insert-blank-piv",
            post(insert_blank_piv),
        )
        .route("/demo/readers/{name}/eject", post(eject))
        .route("/demo/readers/{name}/insert", post(insert_from_tray))
        .route("/demo/tray", get(tray))
}

fn demo(state: &AppState) -> Result<&Arc<SimReaders>, ApiError> {
    state
        .demo
        .as_ref()
        .ok_or_else(|| ApiError::not_found("仅演示模式提供模拟插卡"))
}

pub async fn insert_blank(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
    Path(name): Path<String>,
) -> Result<Json<DemoCardView>, ApiError> {
    let serial = demo(&state)?
        .insert_blank(&name)
        .map_err(|e| ApiError::from(crate::ops::OpError::Reader(e)))?;
    Ok(Json(DemoCardView {
        serial: Some(serial),
    }))
}

/// A blank PIV card as a bureau buys one: factory 9B key, no CHUID yet, so it has
/// no serial until it is issued.
pub async fn insert_blank_piv(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
    Path(name): Path<String>,
) -> Result<Json<DemoCardView>, ApiError> {
    demo(&state)?
        .insert_blank_piv(&name)
        .map_err(|e| ApiError::from(crate::ops::OpError::Reader(e)))?;
    Ok(Json(DemoCardView { serial: None }))
}

pub async fn eject(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
    Path(name): Path<String>,
) -> Result<Json<DemoCardView>, ApiError> {
    let serial = demo(&state)?
        .eject(&name)
        .map_err(|e| ApiError::from(crate::ops::OpError::Reader(e)))?;
    Ok(Json(DemoCardView { serial }))
}

#[derive(Deserialize)]
pub struct FromTray {
    serial: String,
}

pub async fn insert_from_tray(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<FromTray>,
) -> Result<StatusCode, ApiError> {
    demo(&state)?
        .insert_from_tray(&name, &req.serial)
        .map_err(|e| ApiError::from(crate::ops::OpError::Reader(e)))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn tray(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
) -> Result<Json<Vec<crate::readers::sim::TrayCard>>, ApiError> {
    Ok(Json(demo(&state)?.tray()))
}
