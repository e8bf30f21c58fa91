//! Admin routes (`/api/v1/admin`, the admin bearer token): enroll stations, create
//! units and operator accounts, publish the trust list, record a status change
//! decided in the registry.

use super::{bearer, ApiError, AppState};
use crate::keys::{new_token, token_digest};
use crate::storage::{
    Account, NewUnit, RefusedEvent, Role, Station, StationApplication, StorageError, Unit,
};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ecard_sync_protocol::events::StatusChanged;
use ecard_sync_protocol::signing::is_valid_station_id;
use ecard_sync_protocol::trust::SignedTrustList;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/stations",
            post(add_station).get(list_stations),
        )
        .route("/api/v1/admin/units", post(add_unit))
        .route("/api/v1/admin/accounts", post(add_account))
        .route("/api/v1/admin/trust-list", put(set_trust_list))
        .route("/api/v1/admin/status-changes", post(status_change))
        .route("/api/v1/admin/revocation-list", get(revocation_number))
        .route("/api/v1/admin/refused-events", get(list_refused_events))
        .route(
            "/api/v1/admin/station-applications",
            get(list_station_applications),
        )
        .route(
            "/api/v1/admin/station-applications/{id}/attach",
            post(attach_station_application),
        )
}

fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    // Digests of equal length compared in full: no early exit on the secret.
    let given = token_digest(token);
    let same = given
        .bytes()
        .zip(state.admin_digest.bytes())
        .fold(given.len() == state.admin_digest.len(), |ok, (a, b)| {
            ok & (a == b)
        });
    if same {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewStation {
    pub id: String,
    /// Uncompressed P-256 point (65 bytes), hex.
    pub public_key: String,
    #[serde(default)]
    pub region: Option<String>,
}

/// Checks a station id and key the same way for the API and the CLI.
pub fn check_new_station(s: &NewStation) -> Result<String, ApiError> {
    if !is_valid_station_id(&s.id) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "站点标识只能由1至64个英文字母、数字、“-”“_”“.”组成",
        ));
    }
    let pk = hex::decode(s.public_key.trim()).unwrap_or_default();
    // Form only: a point off the curve never verifies a signature, so it fails closed.
    let point_ok = pk.len() == 65 && pk.first() == Some(&0x04);
    if !point_ok {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "站点公钥应为65字节未压缩P-256公钥的十六进制",
        ));
    }
    Ok(hex::encode(pk))
}

async fn add_station(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<NewStation>,
) -> Result<(StatusCode, Json<Station>), ApiError> {
    require_admin(&state, &headers)?;
    let pk = check_new_station(&req)?;
    let st = state
        .db(move |s| s.add_station(&req.id, &pk, req.region.as_deref()))
        .await?;
    Ok((StatusCode::CREATED, Json(st)))
}

async fn list_stations(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Station>>, ApiError> {
    require_admin(&state, &headers)?;
    Ok(Json(state.db(|s| s.stations()).await?))
}

/// The events stations sent that they may not do, newest first (the last 500).
async fn list_refused_events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<RefusedEvent>>, ApiError> {
    require_admin(&state, &headers)?;
    Ok(Json(state.db(|s| s.refused_events(500)).await?))
}

async fn add_unit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<NewUnit>,
) -> Result<(StatusCode, Json<Unit>), ApiError> {
    require_admin(&state, &headers)?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .db(move |s| crate::workflow::service::add_unit(s, &req))
                .await?,
        ),
    ))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub role: Role,
    /// Unit accounts: the unit's name.
    #[serde(default)]
    pub unit: Option<String>,
    /// County/city accounts: the region code reviewed.
    #[serde(default)]
    pub region: Option<String>,
    /// The bureau's name (the issuer on approved certificates) or the unit's.
    pub org_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedAccount {
    pub account: Account,
    /// Shown once; only its digest is stored.
    pub token: String,
}

/// Creates an account and its token (shared by the API and the CLI).
pub fn create_account(
    storage: &crate::storage::Storage,
    req: &NewAccount,
) -> Result<CreatedAccount, StorageError> {
    let unit_id = match &req.unit {
        Some(name) => Some(
            storage
                .unit_by_name(name)?
                .ok_or_else(|| StorageError::NotFound {
                    what: "unit",
                    id: name.clone(),
                })?
                .id,
        ),
        None => None,
    };
    let token = new_token().map_err(|e| StorageError::Invalid(e.to_string()))?;
    let account = storage.add_account(
        &req.username,
        req.role,
        unit_id,
        req.region.as_deref(),
        &req.org_name,
        &token_digest(&token),
    )?;
    Ok(CreatedAccount { account, token })
}

async fn add_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<NewAccount>,
) -> Result<(StatusCode, Json<CreatedAccount>), ApiError> {
    require_admin(&state, &headers)?;
    Ok((
        StatusCode::CREATED,
        Json(state.db(move |s| create_account(s, &req)).await?),
    ))
}

#[derive(Debug, Serialize)]
struct Cursor {
    cursor: u64,
}

async fn set_trust_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(signed): Json<SignedTrustList>,
) -> Result<Json<Cursor>, ApiError> {
    require_admin(&state, &headers)?;
    let today = state.storage.clock().today();
    let cursor = state.db(move |s| s.set_trust_list(&signed, today)).await?;
    Ok(Json(Cursor { cursor }))
}

async fn status_change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(change): Json<StatusChanged>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &headers)?;
    // `change.number` is a `CertificateNumber`, checked as the body was decoded.
    if change.reason.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "请填写状态变更原因",
        ));
    }
    state
        .db(move |s| crate::workflow::service::record_status_change(s, &change))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
struct ListNumber {
    number: u64,
}

async fn revocation_number(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ListNumber>, ApiError> {
    require_admin(&state, &headers)?;
    Ok(Json(ListNumber {
        number: state.db(|s| s.revocation_list_number()).await?,
    }))
}

#[derive(Debug, Default, Deserialize)]
struct StationApplicationsQuery {
    /// `?all=true`: also those already filed.
    #[serde(default)]
    all: bool,
}

/// Applications imported at stations; by default only those waiting for the admin.
async fn list_station_applications(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<StationApplicationsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<StationApplication>>, ApiError> {
    require_admin(&state, &headers)?;
    let Query(q) = query.map_err(ApiError::bad_request)?;
    Ok(Json(
        state.db(move |s| s.station_applications(!q.all)).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct AttachRequest {
    /// The registered unit's name.
    unit: String,
}

/// Files a waiting station application for a registered unit.
async fn attach_station_application(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(req): Json<AttachRequest>,
) -> Result<Json<StationApplication>, ApiError> {
    require_admin(&state, &headers)?;
    Ok(Json(
        state
            .db(move |s| crate::workflow::service::attach_station_application(s, id, &req.unit))
            .await?,
    ))
}

/// The same checks and effects for the command line.
pub mod cli {
    use super::{check_new_station, create_account, CreatedAccount, NewAccount, NewStation};
    use crate::storage::{Role, Station, Storage};
    use std::path::Path;

    pub fn add_station(
        storage: &Storage,
        id: &str,
        public_key: &str,
        region: Option<&str>,
    ) -> Result<Station, String> {
        let req = NewStation {
            id: id.to_owned(),
            public_key: public_key.to_owned(),
            region: region.map(str::to_owned),
        };
        let pk = check_new_station(&req).map_err(|e| e.message)?;
        storage
            .add_station(id, &pk, region)
            .map_err(|e| e.to_string())
    }

    pub fn add_account(
        storage: &Storage,
        username: &str,
        role: Role,
        org_name: &str,
        unit: Option<String>,
        region: Option<String>,
    ) -> Result<CreatedAccount, String> {
        let req = NewAccount {
            username: username.to_owned(),
            role,
            unit,
            region,
            org_name: org_name.to_owned(),
        };
        create_account(storage, &req).map_err(|e| e.to_string())
    }

    /// Writes a new station key (PKCS#8, 0600) and returns its public key, hex.
    pub fn station_keygen(out: &Path) -> Result<String, String> {
        if out.exists() {
            return Err(format!("{} exists; not overwriting a key", out.display()));
        }
        let key = crate::keys::load_or_generate_key(out).map_err(|e| e.to_string())?;
        Ok(hex::encode(key.public_key()))
    }
}
