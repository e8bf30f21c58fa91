//! The bureaus' side: the queue of applications waiting for this reviewer's level
//! in its region (oldest first, with the 3-working-day deadline), all applications
//! it oversees, one application with its history and photo checks, and the
//! decisions. Every decision goes through `workflow::service`, as the bearer API's.

use super::session::{who, As};
use super::views::{self, Kind, Listed, PhotoCheck};
use super::{labels, WebError, WebState};
use crate::storage::{Account, ApplicationRow, Decision, Storage, StorageError, Unit};
use crate::workflow::rules;
use crate::workflow::service::{self, WorkflowError};
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/queue", get(queue))
        .route("/applications/{id}/approve", post(approve))
        .route("/applications/{id}/reject", post(reject))
        .route("/applications/{id}/send-back", post(send_back))
        .route("/approve", post(approve_several))
        .route("/applications/{id}/photo", get(photo))
        .route("/applications/{id}/detail", get(detail))
        .route("/applications", get(list).post(super::unit::file))
}

/// The list filters, as a page's form sends them (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    state: String,
    /// Submitted on or after / on or before (YYYY-MM-DD).
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

struct Checked {
    unit: Option<i64>,
    kind: Option<Kind>,
    state: Option<crate::storage::AppState>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

fn bad_filter(what: &str) -> WebError {
    WebError::new(
        StatusCode::BAD_REQUEST,
        "bad_filter",
        format!("筛选条件“{what}”无效"),
    )
}

impl Filter {
    fn check(&self) -> Result<Checked, WebError> {
        fn opt(s: &str) -> Option<&str> {
            Some(s.trim()).filter(|s| !s.is_empty())
        }
        let date = |s: &str, what| {
            opt(s)
                .map(|d| d.parse::<NaiveDate>().map_err(|_| bad_filter(what)))
                .transpose()
        };
        Ok(Checked {
            unit: opt(&self.unit)
                .map(|u| u.parse::<i64>().map_err(|_| bad_filter("单位")))
                .transpose()?,
            kind: opt(&self.kind)
                .map(|k| {
                    serde_json::from_value(serde_json::Value::String(k.to_owned()))
                        .map_err(|_| bad_filter("类型"))
                })
                .transpose()?,
            state: opt(&self.state)
                .map(|s| crate::storage::AppState::parse(s).ok_or_else(|| bad_filter("状态")))
                .transpose()?,
            from: date(&self.from, "起始日期")?,
            to: date(&self.to, "截止日期")?,
        })
    }
}

impl Checked {
    fn keeps(&self, l: &Listed) -> bool {
        let filed = views::date_of(&l.row.created_at);
        self.unit.is_none_or(|u| u == l.unit_id)
            && self.kind.is_none_or(|k| k == l.kind)
            && self.state.is_none_or(|s| s == l.row.state)
            && self.from.is_none_or(|f| filed.is_some_and(|d| d >= f))
            && self.to.is_none_or(|t| filed.is_some_and(|d| d <= t))
    }
}

/// Is it `account`'s level's turn on this application now? `rule` is the province
/// configuration's numbering rule, the one `decide_application` enforces.
pub fn my_turn(
    account: &Account,
    unit: &Unit,
    row: &ApplicationRow,
    rule: &ecard_domain::numbering::NumberingRule,
) -> bool {
    let Some(level) = rules::review_level(account.role) else {
        return false;
    };
    rules::oversees(account, unit)
        && rules::decide(
            row.state,
            service::review_path(rule, unit),
            level,
            true,
            None,
        )
        .is_ok()
}

/// Every application `account` oversees, as listed, with its unit.
pub fn visible(
    storage: &Storage,
    account: &Account,
    today: NaiveDate,
) -> Result<Vec<(Listed, Unit)>, WorkflowError> {
    let units: HashMap<String, Unit> = storage
        .units()?
        .into_iter()
        .map(|u| (u.name.clone(), u))
        .collect();
    let mut out = Vec::new();
    for row in service::applications(storage, account)? {
        let Some(unit) = units.get(&row.unit) else {
            continue;
        };
        out.push((
            views::listed(row, unit, today, &storage.province().holidays),
            unit.clone(),
        ));
    }
    Ok(out)
}

#[derive(Serialize)]
struct Page {
    items: Vec<Listed>,
    /// The units in the list's reach, for the unit filter.
    units: Vec<UnitChoice>,
    /// The kind and state filters' options with their words (the one label table,
    /// `labels`; the pages keep no copy).
    kinds: Vec<labels::Choice>,
    states: Vec<labels::Choice>,
}

#[derive(Serialize)]
struct UnitChoice {
    id: i64,
    name: String,
}

fn page(all: Vec<(Listed, Unit)>, keep: impl Fn(&Listed, &Unit) -> bool, filter: &Checked) -> Page {
    let mut units: Vec<UnitChoice> = Vec::new();
    for (_, u) in &all {
        if !units.iter().any(|c| c.id == u.id) {
            units.push(UnitChoice {
                id: u.id,
                name: u.name.clone(),
            });
        }
    }
    units.sort_by(|a, b| a.name.cmp(&b.name));
    let items = all
        .into_iter()
        .filter(|(l, u)| keep(l, u) && filter.keeps(l))
        .map(|(l, _)| l)
        .collect();
    Page {
        items,
        units,
        kinds: labels::kinds(),
        states: labels::states(),
    }
}

/// Waiting for this reviewer's level, oldest first (by the day it reached the level).
async fn queue(
    State(state): State<WebState>,
    who: As<who::Reviewer>,
    Query(filter): Query<Filter>,
) -> Result<Json<Page>, WebError> {
    let filter = filter.check()?;
    let today = state.api.today();
    let account = who.account;
    let acc = account.clone();
    let all = state.api.db(move |s| visible(s, &acc, today)).await?;
    let rule = &state.api.storage.province().numbering;
    let mut p = page(all, |l, u| my_turn(&account, u, &l.row, rule), &filter);
    p.items.sort_by(|a, b| {
        let since = |l: &Listed| l.deadline.map(|d| d.since);
        since(a).cmp(&since(b)).then(a.row.id.cmp(&b.row.id))
    });
    Ok(Json(p))
}

/// Everything the account oversees (a unit: its own), newest first.
async fn list(
    State(state): State<WebState>,
    who: As<who::Anyone>,
    Query(filter): Query<Filter>,
) -> Result<Json<Page>, WebError> {
    let filter = filter.check()?;
    let today = state.api.today();
    let acc = who.account;
    let all = state.api.db(move |s| visible(s, &acc, today)).await?;
    Ok(Json(page(all, |_, _| true, &filter)))
}

#[derive(Serialize)]
struct HistoryEntry {
    #[serde(flatten)]
    decision: Decision,
    action_label: String,
    level_label: Option<String>,
    /// The reason as a person reads it (a correction's old and new values in words).
    reason_text: Option<String>,
}

/// A proof material as the application's page lists it.
#[derive(Serialize)]
struct MaterialView {
    #[serde(flatten)]
    info: crate::storage::MaterialInfo,
    type_label: &'static str,
}

/// One application as its page shows it.
#[derive(Serialize)]
struct Detail {
    #[serde(flatten)]
    listed: Listed,
    unit_name: String,
    /// The form's fields as filed (eligibility data included, whatever the form
    /// holds): shown by the page, unknown fields too.
    fields: Vec<views::Field>,
    history: Vec<HistoryEntry>,
    photo: Option<PhotoCheck>,
    /// The proof materials filed with it (`…/materials/{id}` opens one).
    materials: Vec<MaterialView>,
    /// What this account may do with it now.
    can_decide: bool,
    can_edit: bool,
    can_send_back: bool,
}

async fn detail(
    State(state): State<WebState>,
    who: As<who::Anyone>,
    Path(id): Path<i64>,
) -> Result<Json<Detail>, WebError> {
    let today = state.api.today();
    let account = who.account;
    let d = state
        .api
        .db(move |s| {
            let row = service::application(s, &account, id)?;
            let unit = s
                .unit_by_name(&row.unit)?
                .ok_or_else(|| StorageError::NotFound {
                    what: "unit",
                    id: row.unit.clone(),
                })?;
            let history = s
                .decisions(id)?
                .into_iter()
                .map(|d| HistoryEntry {
                    reason_text: d.reason.as_deref().map(|r| {
                        if d.action == "officer_corrected" {
                            labels::correction_zh(r)
                        } else {
                            r.to_owned()
                        }
                    }),
                    action_label: labels::action_zh(&d.action).to_owned(),
                    level_label: d.level.as_deref().map(|l| labels::level_zh(l).to_owned()),
                    decision: d,
                })
                .collect();
            let photo = s
                .photo_of_application(id)?
                .map(|p| views::photo_check(&p, &s.province().photo));
            let materials = crate::workflow::materials::list(s, &account, id)?
                .into_iter()
                .map(|info| MaterialView {
                    type_label: labels::material_type_zh(&info.media_type),
                    info,
                })
                .collect();
            let can_decide = my_turn(&account, &unit, &row, &s.province().numbering);
            let can_edit = account.role == crate::storage::Role::Unit && rules::editable(row.state);
            let can_send_back = rules::send_back(row.state, row.sent_back, false).is_ok();
            Ok::<_, WorkflowError>(Detail {
                unit_name: unit.name.clone(),
                fields: views::form_fields(&row.form),
                listed: views::listed(row, &unit, today, &s.province().holidays),
                history,
                photo,
                materials,
                can_decide,
                can_edit,
                can_send_back,
            })
        })
        .await?;
    Ok(Json(d))
}

async fn photo(
    State(state): State<WebState>,
    who: As<who::Anyone>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let account = who.account;
    let bytes = state
        .api
        .db(move |s| {
            service::application(s, &account, id)?;
            Ok::<_, WorkflowError>(s.photo_of_application(id)?)
        })
        .await?;
    // Only what is a JPEG by its bytes is served, and as one (nosniff is set).
    match bytes.filter(|b| ecard_domain::photo::is_jpeg(b)) {
        Some(b) => Ok((
            [
                (CONTENT_TYPE, "image/jpeg"),
                (CACHE_CONTROL, "private, no-cache"),
            ],
            b,
        )
            .into_response()),
        None => Err(WebError::new(
            StatusCode::NOT_FOUND,
            "no_photo",
            "该申请没有照片",
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Reason {
    #[serde(default)]
    pub reason: String,
}

async fn decide(
    state: &WebState,
    account: Account,
    id: i64,
    approve: bool,
    reason: Option<String>,
) -> Result<Listed, WebError> {
    let today = state.api.today();
    let row = state
        .api
        .db(move |s| {
            let row =
                service::decide_application(s, &account, id, approve, reason.as_deref(), today)?;
            Ok::<_, WorkflowError>(row)
        })
        .await?;
    listed_now(state, row).await
}

pub(super) async fn listed_now(state: &WebState, row: ApplicationRow) -> Result<Listed, WebError> {
    let today = state.api.today();
    let name = row.unit.clone();
    let unit = state
        .api
        .db(move |s| s.unit_by_name(&name))
        .await?
        .ok_or_else(|| WebError::internal("application without its unit"))?;
    Ok(views::listed(
        row,
        &unit,
        today,
        &state.api.storage.province().holidays,
    ))
}

async fn approve(
    State(state): State<WebState>,
    who: As<who::Reviewer>,
    Path(id): Path<i64>,
) -> Result<Json<Listed>, WebError> {
    Ok(Json(decide(&state, who.account, id, true, None).await?))
}

async fn reject(
    State(state): State<WebState>,
    who: As<who::Reviewer>,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> Result<Json<Listed>, WebError> {
    Ok(Json(
        decide(&state, who.account, id, false, Some(r.reason)).await?,
    ))
}

#[derive(Deserialize)]
struct Several {
    ids: Vec<i64>,
}

#[derive(Serialize)]
struct Outcome {
    id: i64,
    ok: bool,
    /// Why it was not approved (Chinese), when not.
    message: Option<String>,
}

/// The most approved at once: a page's selection, not a bulk channel.
const MAX_AT_ONCE: usize = 200;

/// Approves each of `ids` on its own: one that may not be approved is reported and
/// does not stop the others.
async fn approve_several(
    State(state): State<WebState>,
    who: As<who::Reviewer>,
    Json(req): Json<Several>,
) -> Result<Json<Vec<Outcome>>, WebError> {
    if req.ids.is_empty() || req.ids.len() > MAX_AT_ONCE {
        return Err(WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("请选择1至{MAX_AT_ONCE}件申请"),
        ));
    }
    let mut out = Vec::with_capacity(req.ids.len());
    for id in req.ids {
        let r = decide(&state, who.account.clone(), id, true, None).await;
        out.push(Outcome {
            id,
            ok: r.is_ok(),
            message: r.err().map(|e| e.message),
        });
    }
    Ok(Json(out))
}

/// The send-back of an approved application, once, before its card is written: by
/// the unit (its request) or by its reviewing bureau on the unit's request.
async fn send_back(
    State(state): State<WebState>,
    who: As<who::Anyone>,
    Path(id): Path<i64>,
    Json(r): Json<Reason>,
) -> Result<Json<Listed>, WebError> {
    let account = who.account;
    let row = state
        .api
        .db(move |s| service::send_back_application(s, &account, id, &r.reason))
        .await?;
    Ok(Json(listed_now(&state, row).await?))
}
