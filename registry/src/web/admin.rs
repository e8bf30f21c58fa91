//! The province department's view of the registry: units and their codes,
//! accounts, stations (enable / disable), the trust list as it stands (read-only:
//! a change is signed offline by a province root and published by the admin,
//! `ecard-registry trust-list`), the revocation list's number and date.

use super::session::{who, As};
use super::{labels, WebError, WebState};
use crate::storage::{AccountListing, Station, StorageError, Unit};
use crate::workflow::rules::ReviewPath;
use crate::workflow::service;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use ecard_sync_protocol::trust::SignedTrustList;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/admin/overview", get(overview))
        .route("/admin/stations/{id}/enabled", post(set_enabled))
}

#[derive(Serialize)]
struct UnitView {
    #[serde(flatten)]
    unit: Unit,
    review_path: &'static str,
}

#[derive(Serialize)]
struct AccountView {
    #[serde(flatten)]
    account: AccountListing,
    role_label: &'static str,
}

#[derive(Serialize)]
struct AnchorView {
    name: String,
    key_id: String,
    valid_from: chrono::NaiveDate,
    valid_until: chrono::NaiveDate,
}

#[derive(Serialize)]
struct TrustView {
    number: u64,
    published_at: String,
    signed_by: String,
    anchors: Vec<AnchorView>,
    revoked_signers: usize,
}

#[derive(Serialize)]
struct RevocationView {
    number: u64,
    issued_at: Option<String>,
}

#[derive(Serialize)]
struct Overview {
    units: Vec<UnitView>,
    accounts: Vec<AccountView>,
    stations: Vec<Station>,
    /// `None` while no trust list was published.
    trust_list: Option<TrustView>,
    /// A list that cannot be read back (it was checked when published).
    trust_list_problem: Option<String>,
    revocation_list: RevocationView,
}

fn path_zh(p: ReviewPath) -> &'static str {
    match p {
        ReviewPath::CountyThenCity => "县级初审、市级复审",
        ReviewPath::City => "市级审核",
        ReviewPath::Province => "省级审核",
    }
}

async fn overview(
    State(state): State<WebState>,
    _who: As<who::Admin>,
) -> Result<Json<Overview>, WebError> {
    let o = state
        .api
        .db(|s| {
            let rule = &s.province().numbering;
            let units = s
                .units()?
                .into_iter()
                .map(|u| UnitView {
                    review_path: path_zh(service::review_path(rule, &u)),
                    unit: u,
                })
                .collect();
            let accounts = s
                .account_listing()?
                .into_iter()
                .map(|a| AccountView {
                    role_label: labels::role_zh(a.account.role),
                    account: a,
                })
                .collect();
            let (trust_list, trust_list_problem) = match s.trust_list_as_published()? {
                None => (None, None),
                Some((json, at)) => match serde_json::from_str::<SignedTrustList>(&json)
                    .map_err(|e| e.to_string())
                    .and_then(|signed| {
                        signed
                            .peek()
                            .map(|n| (signed, n))
                            .map_err(|e| e.to_string())
                    }) {
                    Ok((signed, n)) => (
                        Some(TrustView {
                            number: n.number,
                            published_at: at,
                            signed_by: signed.key_id,
                            anchors: n
                                .trust_list
                                .anchors
                                .iter()
                                .map(|a| AnchorView {
                                    name: a.name.clone(),
                                    key_id: hex::encode(a.key_id),
                                    valid_from: a.valid_from,
                                    valid_until: a.valid_until,
                                })
                                .collect(),
                            revoked_signers: n.trust_list.revoked_signers.len(),
                        }),
                        None,
                    ),
                    Err(e) => (None, Some(format!("信任列表无法读取：{e}"))),
                },
            };
            let revocation_list = match s.revocation_list_issued()? {
                Some((number, at)) => RevocationView {
                    number,
                    issued_at: Some(at),
                },
                None => RevocationView {
                    number: 0,
                    issued_at: None,
                },
            };
            Ok::<_, StorageError>(Overview {
                units,
                accounts,
                stations: s.stations()?,
                trust_list,
                trust_list_problem,
                revocation_list,
            })
        })
        .await?;
    Ok(Json(o))
}

#[derive(Deserialize)]
struct Enabled {
    enabled: bool,
}

/// Takes effect at the station's next request, as `ecard-registry station disable`.
async fn set_enabled(
    State(state): State<WebState>,
    who: As<who::Admin>,
    Path(id): Path<String>,
    Json(req): Json<Enabled>,
) -> Result<Json<Station>, WebError> {
    let actor = who.account.username;
    let station = state
        .api
        .db(move |s| {
            s.set_station_disabled(&id, !req.enabled)?;
            tracing::info!(station = %id, enabled = req.enabled, by = %actor, "station enabled state set from the pages");
            s.station(&id)?.ok_or(StorageError::NotFound { what: "station", id })
        })
        .await?;
    Ok(Json(station))
}
