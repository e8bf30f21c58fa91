//! Administration: station settings, key and trust-list status (never the keys
//! themselves), and operator accounts. The checks and the audit rows are the
//! station's (crate::ops::admin); these routes only check the session's permission.

use super::error::ApiError;
use super::session::OperatorView;
use super::session::{need, Granted};
use super::{ApiJson, AppState};
use crate::ops::{
    NewOperator, OpError, OperatorChange, PrintingChange, PrintingView, SettingsView,
};
use crate::store;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use card_profile::pki::TrustAnchor;
use serde::Deserialize;

pub async fn settings(
    State(state): State<AppState>,
    _session: Granted<need::ManageKeys>,
) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(state.station.settings()?))
}

#[derive(Deserialize)]
pub struct SettingsBody {
    max_revocation_age_days: Option<i64>,
}

pub async fn update_settings(
    State(state): State<AppState>,
    session: Granted<need::ManageKeys>,
    ApiJson(req): ApiJson<SettingsBody>,
) -> Result<Json<SettingsView>, ApiError> {
    if let Some(days) = req.max_revocation_age_days {
        state
            .station
            .set_max_revocation_age(session.actor(), days)?;
    }
    Ok(Json(state.station.settings()?))
}

/// `GET /settings/printing`: the queue, the reader–printer pairings and the queues
/// CUPS offers now (asking CUPS blocks: off the async workers).
pub async fn printing(
    State(state): State<AppState>,
    _session: Granted<need::ManageKeys>,
) -> Result<Json<PrintingView>, ApiError> {
    let station = state.station.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || station.printing_settings())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "print_refused",
                    "读取打印设置中止",
                )
            })??,
    ))
}

/// `PUT /settings/printing` `{queue, pairings: [{reader, queue, order}]}`.
pub async fn update_printing(
    State(state): State<AppState>,
    session: Granted<need::ManageKeys>,
    ApiJson(req): ApiJson<PrintingChange>,
) -> Result<Json<PrintingView>, ApiError> {
    state.station.set_printing(session.actor(), &req)?;
    printing(State(state), session).await
}

pub async fn operators(
    State(state): State<AppState>,
    _session: Granted<need::ManageOperators>,
) -> Result<Json<Vec<OperatorView>>, ApiError> {
    let list = state.station.store.read(store::list_operators)?;
    Ok(Json(list.iter().map(OperatorView::from).collect()))
}

/// Password hashing is slow by design (a second and 19 MiB): off the async workers,
/// and through the same gate as logins, so account changes cannot add to the hashes
/// running at once.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce() -> Result<T, OpError> + Send + 'static,
) -> Result<T, ApiError> {
    state
        .hashes
        .run(f)
        .await
        .map_err(ApiError::from)?
        .map_err(ApiError::from)
}

pub async fn create_operator(
    State(state): State<AppState>,
    session: Granted<need::ManageOperators>,
    ApiJson(req): ApiJson<NewOperator>,
) -> Result<(StatusCode, Json<OperatorView>), ApiError> {
    let actor = session.actor().to_owned();
    let station = state.station.clone();
    let op = blocking(&state, move || station.create_operator(&actor, &req)).await?;
    Ok((StatusCode::CREATED, Json(OperatorView::from(&op))))
}

pub async fn update_operator(
    State(state): State<AppState>,
    session: Granted<need::ManageOperators>,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<OperatorChange>,
) -> Result<Json<OperatorView>, ApiError> {
    let actor = session.actor().to_owned();
    let acting = session.operator.id;
    let station = state.station.clone();
    // Only a new password is hashed: enabling or disabling an account waits for no
    // hashing turn (and is never answered busy).
    let op = if req.password.is_some() {
        blocking(&state, move || {
            station.change_operator(&actor, acting, id, &req)
        })
        .await?
    } else {
        station.change_operator(&actor, acting, id, &req)?
    };
    // Disabling an account or setting its password ends its sessions: open event
    // streams look again.
    state.sessions_ended.send_replace(());
    Ok(Json(OperatorView::from(&op)))
}

pub async fn trust(
    State(state): State<AppState>,
    _session: Granted<need::ManageTrust>,
) -> Result<Json<Vec<TrustAnchor>>, ApiError> {
    Ok(Json(state.station.trust_list().anchors))
}

/// Adds a province root (its public key only) to the trust list.
pub async fn add_trust(
    State(state): State<AppState>,
    session: Granted<need::ManageTrust>,
    ApiJson(anchor): ApiJson<TrustAnchor>,
) -> Result<(StatusCode, Json<Vec<TrustAnchor>>), ApiError> {
    state.station.add_trust_anchor(session.actor(), &anchor)?;
    Ok((
        StatusCode::CREATED,
        Json(state.station.trust_list().anchors),
    ))
}

pub async fn remove_trust(
    State(state): State<AppState>,
    session: Granted<need::ManageTrust>,
    Path(key_id): Path<String>,
) -> Result<Json<Vec<TrustAnchor>>, ApiError> {
    state
        .station
        .remove_trust_anchor(session.actor(), &key_id)?;
    Ok(Json(state.station.trust_list().anchors))
}
