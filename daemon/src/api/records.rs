//! Records: certificates and their history, officer photos, the revocation list,
//! the annual-review schedule, the audit log.

use super::error::ApiError;
use super::session::{need, Granted};
use super::views::{
    job_rows, AuditRow, CertificateListRow, CertificateView, RevocationRow, RevocationsView,
    ScheduleRow, ScheduleView,
};
use super::{xlsx_response, AppState};
use crate::labels;
use crate::ops::REVOCATION_LIST_DATE;
use crate::store::{self, CertificateState};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ecard_domain::validity::review_deadline;
use serde::Deserialize;
use serde_json::Value;

/// The whole vocabulary (crate::labels): every enum value a person sees, by its
/// stable code. Any logged-in role may read it; the web UI loads it after login.
pub async fn labels(_session: super::session::Session) -> Json<Value> {
    Json(labels::table())
}

/// Job rows with their state's and error's words beside the codes.
#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
}

/// The station's applications to the registry, newest first, with their kind and
/// state in words (待审核 until the registry's approved order arrives, then 已批准).
pub async fn applications(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let limit = query.limit.unwrap_or(500).clamp(1, 5000);
    let rows = state
        .station
        .store
        .read(|c| store::application_entries(c, limit))?;
    Ok(Json(
        rows.into_iter()
            .map(|row| {
                let mut v = serde_json::json!(row);
                v["kind_label"] =
                    labels::application_word(labels::APPLICATION_KINDS, &row.kind).into();
                v["state_label"] =
                    labels::application_word(labels::APPLICATION_STATES, &row.state).into();
                v
            })
            .collect(),
    ))
}

pub async fn certificates(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<CertificateListRow>>, ApiError> {
    let filter = match query.state.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            CertificateState::parse(s)
                .ok_or_else(|| ApiError::invalid(format!("未知的证件状态：{s}")))?,
        ),
        None => None,
    };
    let limit = query.limit.unwrap_or(500).clamp(1, 5000);
    let rows = state
        .station
        .store
        .read(|c| store::certificate_summaries(c, filter, query.q.as_deref(), limit))?;
    Ok(Json(
        rows.into_iter()
            .map(|row| CertificateListRow {
                state_label: labels::certificate_state_zh(row.state),
                row,
            })
            .collect(),
    ))
}

pub async fn certificate(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
    Path(id): Path<i64>,
) -> Result<Json<CertificateView>, ApiError> {
    let v = state.station.store.read(|c| {
        let cert = store::certificate(c, id)?;
        let officer = store::officer(c, cert.officer_id)?;
        Ok(CertificateView {
            id: cert.id,
            state: cert.state,
            state_label: labels::certificate_state_zh(cert.state),
            posts_label: labels::posts_zh(&cert.certificate.posts),
            holder: officer.holder,
            has_photo: officer.has_photo,
            certificate: cert.certificate,
            officer_id: cert.officer_id,
            replaces_id: cert.replaces_id,
            cards: store::cards_of_certificate(c, id)?,
            reviews: store::reviews_of(c, id)?,
            status_changes: store::status_changes_of(c, id)?,
            jobs: job_rows(&store::job_views(c, None, Some(id), None)?),
        })
    })?;
    Ok(Json(v))
}

pub async fn officer_photo(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let photo = state
        .station
        .store
        .read(|c| store::officer_photo(c, id))?
        .ok_or_else(|| ApiError::not_found("该人员没有照片"))?;
    Ok(([(CONTENT_TYPE, "image/jpeg")], photo).into_response())
}

pub async fn revocations(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
) -> Result<Json<RevocationsView>, ApiError> {
    let list_date = state.station.store.setting(REVOCATION_LIST_DATE)?;
    let entries = state
        .station
        .store
        .read(|c| store::revocation_entries(c, 10_000))?;
    let entries = entries
        .into_iter()
        .map(|entry| RevocationRow {
            reason_label: labels::reason_zh(&entry.reason).into_owned(),
            entry,
        })
        .collect();
    Ok(Json(RevocationsView { list_date, entries }))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<i64>,
    /// A page further back: rows older than this seq.
    before: Option<i64>,
}

pub async fn audit(
    State(state): State<AppState>,
    _session: Granted<need::ViewAudit>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    let rows = state
        .station
        .store
        .read(|c| store::recent_audit(c, q.limit.unwrap_or(100).clamp(1, 1000), q.before))?;
    Ok(Json(rows.into_iter().map(AuditRow::from).collect()))
}

pub async fn audit_verify(
    State(state): State<AppState>,
    _session: Granted<need::ViewAudit>,
) -> Result<Json<store::ChainReport>, ApiError> {
    Ok(Json(state.station.store.verify_audit_chain()?))
}

#[derive(Deserialize)]
pub struct ScheduleQuery {
    year: Option<i32>,
    /// One unit's certificates only (exactly as in the schedule's `units`).
    unit: Option<String>,
}

pub async fn review_schedule(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
    Query(q): Query<ScheduleQuery>,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state.station.review_schedule(q.year, q.unit.as_deref())?;
    let year = schedule.year;
    let deadline = Some(review_deadline(&state.station.config.review_policy, year));
    let items = schedule
        .items
        .into_iter()
        .map(|i| {
            let s = i.subject;
            ScheduleRow {
                certificate_id: s.certificate_id,
                number: s.number,
                name: s.name,
                unit: s.unit,
                issue_date: s.issue_date,
                reviewed_on: s.reviewed_on,
                status_label: labels::review_status_zh(&i.status),
                status: i.status,
            }
        })
        .collect();
    Ok(Json(ScheduleView {
        year,
        deadline,
        units: schedule.units,
        items,
    }))
}

pub async fn review_schedule_xlsx(
    State(state): State<AppState>,
    session: Granted<need::ViewRecords>,
    Query(q): Query<ScheduleQuery>,
) -> Result<Response, ApiError> {
    let schedule = state.station.review_schedule(q.year, q.unit.as_deref())?;
    let year = schedule.year;
    let today = state.station.today();
    let list: Vec<_> = schedule
        .items
        .into_iter()
        .filter_map(|i| {
            let s = i.subject;
            // Records hold only IDs that passed the check at entry; one that no
            // longer parses is left out of the sheet rather than failing it.
            let citizen_id =
                ecard_domain::citizen_id::CitizenId::parse(&s.id_number, today).ok()?;
            Some((
                ecard_domain::forms::ReviewCandidate {
                    name: s.name,
                    unit: s.unit,
                    citizen_id,
                    certificate_number: s.number,
                    issued_on: s.issue_date,
                    valid_until: s.valid_until,
                    reviewed_on: s.reviewed_on,
                },
                i.status,
            ))
        })
        .collect();
    let header = ecard_domain::forms::FormHeader {
        unit: state.station.config.bureau_name.clone(),
        filled_by: session.operator.display_name.clone(),
        phone: String::new(),
        date: Some(today),
    };
    let bytes = ecard_domain::forms::review_list_xlsx(&header, year, &list).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "xlsx_failed",
            e.to_string(),
        )
    })?;
    Ok(xlsx_response(&format!("{year}年度年审名单.xlsx"), bytes))
}

pub async fn sync_status(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
) -> Result<Json<crate::sync::SyncStatus>, ApiError> {
    let s = crate::sync::status(
        &state.station.store,
        state.station.today(),
        &state.station.config.province.holidays,
    )
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            e.code(),
            e.message_zh(),
        )
    })?;
    Ok(Json(s))
}
