//! The four filing forms of the guides (附件1–4), filled from the station's records
//! for a date range and downloaded as xlsx: 人员数据录入归集备案表, 证件注销表,
//! 证件换证表, 证件补发表.

use super::error::ApiError;
use super::session::{need, Granted};
use super::{xlsx_response, AppState};
use crate::store;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use ecard_domain::citizen_id::CitizenId;
use ecard_domain::forms::{self, FilingAction, FilingRecord, FormHeader};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    phone: Option<String>,
}

fn text(detail: &serde_json::Value, key: &str) -> String {
    detail
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
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
    let (f, t) = (from.to_string(), to.to_string());
    let header = FormHeader {
        unit: state.station.config.bureau_name.clone(),
        filled_by: session.operator.display_name.clone(),
        phone: range.phone.unwrap_or_default(),
        date: Some(today),
    };
    let store = &state.station.store;
    // Records hold only IDs checked on entry; one that no longer parses is skipped.
    let id = |s: &str| CitizenId::parse(s, today).ok();
    let failed = |e: ecard_domain::roster::XlsxWriteError| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "xlsx_failed",
            e.to_string(),
        )
    };
    let (name, bytes) = match file.as_str() {
        "filing.xlsx" => {
            let mut records: Vec<FilingRecord> = store
                .read(|c| store::issued_rows(c, &f, &t))?
                .into_iter()
                .filter_map(|(name, idn, cert, on)| {
                    Some(FilingRecord {
                        name,
                        unit: cert.unit,
                        citizen_id: id(&idn)?,
                        certificate_number: cert.number,
                        action: FilingAction::Entered,
                        entered_on: NaiveDate::parse_from_str(&on, "%Y-%m-%d").ok()?,
                        remark: String::new(),
                    })
                })
                .collect();
            for row in store.read(|c| store::status_change_rows(c, "cancel", &f, &t))? {
                if let (Some(citizen_id), Ok(on)) = (
                    id(&row.id_number),
                    NaiveDate::parse_from_str(&row.effective_on, "%Y-%m-%d"),
                ) {
                    records.push(FilingRecord {
                        name: row.name,
                        unit: row.certificate.unit,
                        citizen_id,
                        certificate_number: row.certificate.number,
                        action: FilingAction::Cancelled,
                        entered_on: on,
                        remark: row.reason,
                    });
                }
            }
            (
                "人员数据录入归集备案表.xlsx",
                forms::filing_form(&header, &records).map_err(failed)?,
            )
        }
        "cancellation.xlsx" => {
            let records: Vec<_> = store
                .read(|c| store::status_change_rows(c, "cancel", &f, &t))?
                .into_iter()
                .filter_map(|r| {
                    Some(forms::CancellationRecord {
                        name: r.name,
                        unit: r.certificate.unit,
                        citizen_id: id(&r.id_number)?,
                        original_number: r.certificate.number,
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
            let records: Vec<_> = store
                .read(|c| store::status_change_rows(c, "replace", &f, &t))?
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
                                if !v.trim().is_empty() {
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
                        original_number: r.certificate.number,
                        reason: r.reason,
                        current_unit: new.unit,
                        post_and_title: new.posts,
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
            let records: Vec<_> = store
                .read(|c| store::status_change_rows(c, "reissue", &f, &t))?
                .into_iter()
                .filter_map(|r| {
                    Some(forms::ReissueRecord {
                        name: r.name,
                        unit: r.certificate.unit,
                        citizen_id: id(&r.id_number)?,
                        certificate_number: r.certificate.number,
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
