//! Readers: the list, the live event stream (reader events and job progress as
//! Server-Sent Events), and in demo mode the hands that insert and eject cards.

use super::error::ApiError;
use super::session::{need, Granted};
use super::{ApiJson, AppState};
use crate::readers::sim::SimReaders;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::stream::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::wrappers::BroadcastStream;

pub async fn list(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
) -> Result<Json<Value>, ApiError> {
    let readers = &state.station.readers;
    Ok(Json(
        json!({ "service_up": readers.service_up(), "readers": readers.list() }),
    ))
}

pub async fn events(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // A lagging client skips what it missed (it re-reads the lists); it never
    // blocks the readers or the writers.
    let readers =
        BroadcastStream::new(state.station.readers.subscribe()).filter_map(|e| async move {
            let e = e.ok()?;
            Event::default().event("reader").json_data(e).ok().map(Ok)
        });
    let jobs = BroadcastStream::new(state.station.jobs.subscribe()).filter_map(|e| async move {
        let e = e.ok()?;
        Event::default().event("job").json_data(e).ok().map(Ok)
    });
    let stream = futures_util::stream::select(readers, jobs);
    Ok(Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("ping"),
    ))
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
) -> Result<Json<Value>, ApiError> {
    let serial = demo(&state)?
        .insert_blank(&name)
        .map_err(|e| ApiError::from(crate::ops::OpError::Reader(e)))?;
    Ok(Json(json!({ "serial": serial })))
}

pub async fn eject(
    State(state): State<AppState>,
    _session: Granted<need::ReadReaders>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let serial = demo(&state)?
        .eject(&name)
        .map_err(|e| ApiError::from(crate::ops::OpError::Reader(e)))?;
    Ok(Json(json!({ "serial": serial })))
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
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(demo(&state)?.tray())))
}
