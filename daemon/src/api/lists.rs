//! The lists people act on (待办提醒): `GET /lists/filings` (注销/换证/补证 not yet
//! filed, with the 3-working-day deadline), `/lists/overdue`, `/lists/expiring?days=N`
//! (default 90), `/lists/retiring`. Each answers `{items: [...]}` with `…_label`
//! words beside codes; errors are `{code, message}`.

use super::error::ApiError;
use super::session::{need, Granted};
use super::AppState;
use crate::labels;
use crate::ops::{FilingDue, Overdue, DEFAULT_EXPIRING_DAYS};
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

fn filing(f: &FilingDue) -> Value {
    let mut v = json!(f);
    v["kind_label"] = labels::status_kind_zh(f.kind).into();
    v
}

pub async fn filings(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = state.station.filings_due()?.iter().map(filing).collect();
    Ok(Json(json!({ "items": items })))
}

pub async fn overdue(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
) -> Result<Json<Value>, ApiError> {
    let items: Vec<Value> = state
        .station
        .overdue()?
        .iter()
        .map(|o| match o {
            Overdue::Filing(f) => {
                let mut v = filing(f);
                v["what"] = "filing".into();
                v
            }
            Overdue::Review { .. } => {
                let mut v = json!(o);
                v["what"] = "review".into();
                v["kind_label"] = "年审".into();
                v
            }
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
pub struct Window {
    /// Kept as text so that a bad value is answered `{code, message}` here.
    days: Option<String>,
}

pub async fn expiring(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
    Query(window): Query<Window>,
) -> Result<Json<Value>, ApiError> {
    let days = match window
        .days
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => DEFAULT_EXPIRING_DAYS,
        Some(d) => d
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(format!("天数“{d}”不是整数")))?,
    };
    let items = state.station.expiring(days)?;
    Ok(Json(json!({ "days": days, "items": items })))
}

pub async fn retiring(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
) -> Result<Json<Value>, ApiError> {
    let (until, items) = state.station.retiring()?;
    Ok(Json(json!({ "until": until, "items": items })))
}
