//! `GET /api/v1/health` (is the daemon answering; for monitoring and the package
//! test, no login) and `GET /api/v1/doctor` (the same report as `ecardd doctor`,
//! for 设置, from the running station's own store and readers).

use super::error::ApiError;
use super::session::{need, Granted};
use super::AppState;
use crate::doctor::{probe, DatabaseFacts, Report};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::path::Path;

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn doctor(
    State(state): State<AppState>,
    _session: Granted<need::ManageKeys>,
) -> Result<Json<Report>, ApiError> {
    let station = state.station.clone();
    // The integrity check and the audit walk read the whole database: off the runtime.
    let db = tokio::task::spawn_blocking(move || {
        match station.store.read(crate::store::integrity_check) {
            Ok(lines) => probe::database_facts(&station.store, lines, false),
            Err(e) => DatabaseFacts::Unreadable(e.to_string()),
        }
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let station = &state.station;
    let situation = probe::Situation {
        pcscd_up: station.readers.service_up(),
        reader_names: station.readers.list().into_iter().map(|r| r.name).collect(),
        drivers: probe::installed_drivers(
            Path::new(probe::DRIVER_DIR),
            Path::new(probe::READER_CONF_DIR),
        ),
        db_path: "",
        clock: station.store.clock(),
        max_revocation_age_days: station.max_revocation_age_days(),
        ask_registry: true,
        open_signer_until: station
            .keys
            .as_ref()
            .map(|k| k.signer.certificate.valid_until),
    };
    let unlocked = station.keys.is_some().then_some(true);
    Ok(Json(
        probe::report(situation, db, Some(&station.store), unlocked).await,
    ))
}
