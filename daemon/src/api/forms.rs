//! The four filing forms of the guides (附件1–4), filled from the station's records
//! for a date range and downloaded as xlsx: 人员数据录入归集、注销、修改备案表, 证件注销表,
//! 证件换证表, 证件补发表. One per 填报单位: `?unit=` keeps that unit's rows and
//! names it in the header (the 换证 rows of a holder who moved belong to both the
//! old and the new unit). `GET /forms` lists the units; `GET /forms/applicants`
//! is the 申领人员名单 a unit prints, stamps and hands to its justice bureau
//! (Sichuan: without it review does not start).

use super::error::ApiError;
use super::session::{need, Granted};
use super::{xlsx_response, AppState};
use crate::labels;
use crate::store::{self, StatusChangeRow};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use card_profile::records::Holder;
use chrono::NaiveDate;
use ecard_domain::citizen_id::CitizenId;
use ecard_domain::forms::{self, FilingAction, FilingRecord, FormHeader};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    phone: Option<String>,
    /// The 填报单位: only its rows, and its name in the header.
    unit: Option<String>,
}

fn text(detail: &serde_json::Value, key: &str) -> String {
    detail
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// What a 修改 changed, in words for the 备注 column.
fn changes(old: &Holder, new: &Holder, photo: bool) -> String {
    let mut out = Vec::new();
    if old.name != new.name {
        out.push(format!("姓名：{}→{}", old.name, new.name));
    }
    if old.ethnicity != new.ethnicity {
        out.push(format!("民族：{}→{}", old.ethnicity, new.ethnicity));
    }
    if old.birth_date != new.birth_date {
        out.push(format!("出生日期：{}→{}", old.birth_date, new.birth_date));
    }
    if photo {
        out.push("照片".to_owned());
    }
    out.join("；")
}

/// The units the station holds certificates of: the 填报单位 a form can be for.
pub async fn units(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
) -> Result<Json<Value>, ApiError> {
    let units = state.station.store.read(store::certificate_units)?;
    Ok(Json(json!({ "items": units })))
}

/// The 申领人员名单 of `unit`: its applications still with the bureaus (待审核),
/// to print, stamp and hand over.
pub async fn applicants(
    State(state): State<AppState>,
    _session: Granted<need::ViewRecords>,
    Query(range): Query<Range>,
) -> Result<Json<Value>, ApiError> {
    let unit = range
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::invalid("请选择填报单位"))?
        .to_owned();
    let today = state.station.today();
    let items: Vec<Value> = state
        .station
        .store
        .read(|c| store::application_entries(c, 5000))?
        .into_iter()
        .rev()
        .filter(|a| a.state == "submitted" && a.unit == unit)
        .map(|a| {
            let gender = CitizenId::parse(&a.id_number, today)
                .map(|id| id.gender().label_zh())
                .unwrap_or("");
            json!({
                "id": a.id,
                "name": a.name,
                "id_number": a.id_number,
                "gender": gender,
                "kind": a.kind,
                "kind_label": labels::application_word(labels::APPLICATION_KINDS, &a.kind),
                "follows_number": a.follows_number,
                "submitted_on": a.created_at.get(..10).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(json!({
        "unit": unit,
        "bureau": state.station.config.bureau_name,
        "date": today,
        "items": items,
    })))
}

pub async fn form(
    State(state): State<AppState>,
    session: Granted<need::ViewRecords>,
    Path(file): Path<String>,
    Query(range): Query<Range>,
) -> Result<Response, ApiError> {
    let today = state.station.today();
    let to = range.to.unwrap_or(today);
    let from = range.from.unwrap_or(to - chrono::Days::new(31));
    if from > to {
        return Err(ApiError::invalid("起始日期晚于结束日期"));
    }
    let unit = range
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    let mine = |u: &str| unit.as_deref().is_none_or(|x| x == u);
    let (f, t) = (from.to_string(), to.to_string());
    let header = FormHeader {
        unit: unit
            .clone()
            .unwrap_or_else(|| state.station.config.bureau_name.clone()),
        filled_by: session.operator.display_name.clone(),
        phone: range.phone.unwrap_or_default(),
        date: Some(today),
    };
    let store = &state.station.store;
    // Records hold only IDs checked on entry; one that no longer parses is skipped.
    let id = |s: &str| CitizenId::parse(s, today).ok();
    let day = |s: &str| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok();
    let failed = |e: ecard_domain::roster::XlsxWriteError| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "xlsx_failed",
            e.to_string(),
        )
    };
    let changes_of = |kind: &str| -> Result<Vec<StatusChangeRow>, ApiError> {
        Ok(store
            .read(|c| store::status_change_rows(c, kind, &f, &t))?
            .into_iter()
            .filter(|r| {
                let moved_to = text(&r.detail, "unit");
                mine(&r.certificate.unit) || (!moved_to.is_empty() && mine(&moved_to))
            })
            .collect())
    };
    let (name, bytes) = match file.as_str() {
        "filing.xlsx" => {
            let mut records: Vec<FilingRecord> = store
                .read(|c| store::issued_rows(c, &f, &t))?
                .into_iter()
                .filter(|(_, _, cert, _)| mine(&cert.unit))
                .filter_map(|(name, idn, cert, on)| {
                    Some(FilingRecord {
                        name,
                        unit: cert.unit,
                        citizen_id: id(&idn)?,
                        certificate_number: cert.number.to_string(),
                        action: FilingAction::Entered,
                        entered_on: day(&on)?,
                        remark: String::new(),
                    })
                })
                .collect();
            for (kind, action) in [
                ("cancel", FilingAction::Cancelled),
                ("replace", FilingAction::Replaced),
                ("reissue", FilingAction::Reissued),
            ] {
                for row in changes_of(kind)? {
                    let remark = match (action, &row.successor) {
                        (FilingAction::Cancelled, _) => row.reason.clone(),
                        (_, Some(n)) => format!("{}；新证号 {}", row.reason, n.number),
                        (_, None) => format!("{}；新证待审批", row.reason),
                    };
                    if let (Some(citizen_id), Some(on)) =
                        (id(&row.id_number), day(&row.effective_on))
                    {
                        records.push(FilingRecord {
                            name: row.name,
                            unit: row.certificate.unit,
                            citizen_id,
                            certificate_number: row.certificate.number.to_string(),
                            action,
                            entered_on: on,
                            remark,
                        });
                    }
                }
            }
            // 修改: approved corrections of a holder's record.
            for c in store.read(|c| store::approved_corrections(c, &f, &t))? {
                let Some((number, cert_unit)) = c.certificate else {
                    continue;
                };
                if !mine(&cert_unit) {
                    continue;
                }
                if let (Some(citizen_id), Some(on)) = (
                    id(&c.row.new.id_number),
                    c.row.decided_at.as_deref().and_then(day),
                ) {
                    records.push(FilingRecord {
                        name: c.row.new.name.clone(),
                        unit: cert_unit,
                        citizen_id,
                        certificate_number: number,
                        action: FilingAction::Modified,
                        entered_on: on,
                        remark: changes(&c.row.old, &c.row.new, c.row.photo_changed),
                    });
                }
            }
            records.sort_by_key(|r| r.entered_on);
            (
                "人员数据录入归集备案表.xlsx",
                forms::filing_form(&header, &records).map_err(failed)?,
            )
        }
        "cancellation.xlsx" => {
            let records: Vec<_> = changes_of("cancel")?
                .into_iter()
                .filter_map(|r| {
                    Some(forms::CancellationRecord {
                        name: r.name,
                        unit: r.certificate.unit,
                        citizen_id: id(&r.id_number)?,
                        original_number: r.certificate.number.to_string(),
                        destination: text(&r.detail, "destination"),
                        reason: r.reason,
                        remark: String::new(),
                    })
                })
                .collect();
            (
                "证件注销表.xlsx",
                forms::cancellation_form(&header, &records).map_err(failed)?,
            )
        }
        "replacement.xlsx" => {
            let records: Vec<_> = changes_of("replace")?
                .into_iter()
                .filter_map(|r| {
                    // Before the registry's approval arrives, the new certificate is
                    // what the 换证 asked for (its detail); the number comes later.
                    let (new, remark) = match r.successor.clone() {
                        Some(n) => {
                            let remark = format!("新证号 {}", n.number);
                            (n, remark)
                        }
                        None => {
                            let mut asked = r.certificate.clone();
                            for (field, key) in [
                                (&mut asked.unit, "unit"),
                                (&mut asked.posts, "posts"),
                                (&mut asked.category, "category"),
                            ] {
                                let v = text(&r.detail, key);
                                if !v.is_empty() {
                                    *field = v;
                                }
                            }
                            (asked, "新证待登记中心审批编号".to_owned())
                        }
                    };
                    Some(forms::ReplacementRecord {
                        name: r.name,
                        citizen_id: id(&r.id_number)?,
                        original_unit: r.certificate.unit,
                        original_number: r.certificate.number.to_string(),
                        reason: r.reason,
                        current_unit: new.unit,
                        // 工作岗位及职务: the 职务 given with the 换证, never the post
                        // codes (those are 执法岗位, not a position).
                        post_and_title: text(&r.detail, "position"),
                        enforcement_kind: new.category,
                        remark,
                    })
                })
                .collect();
            (
                "证件换证表.xlsx",
                forms::replacement_form(&header, &records).map_err(failed)?,
            )
        }
        "reissue.xlsx" => {
            let records: Vec<_> = changes_of("reissue")?
                .into_iter()
                .filter_map(|r| {
                    Some(forms::ReissueRecord {
                        name: r.name,
                        unit: r.certificate.unit,
                        citizen_id: id(&r.id_number)?,
                        certificate_number: r.certificate.number.to_string(),
                        lost_on: NaiveDate::parse_from_str(&text(&r.detail, "lost_on"), "%Y-%m-%d")
                            .ok()?,
                        void_declaration: format!(
                            "{}（{}）{}",
                            text(&r.detail, "void_declared_how"),
                            text(&r.detail, "void_declared_on"),
                            text(&r.detail, "void_reference")
                        ),
                        remark: r
                            .successor
                            .map(|s| format!("新证号 {}", s.number))
                            .unwrap_or_default(),
                    })
                })
                .collect();
            (
                "证件补发表.xlsx",
                forms::reissue_form(&header, &records).map_err(failed)?,
            )
        }
        other => return Err(ApiError::not_found(format!("没有表格 {other}"))),
    };
    Ok(xlsx_response(name, bytes))
}
