//! A station's follow-ups to an application it sent (docs/SYNC.md): the unit, at
//! its station, edits one that came back (退回) and resubmits it, adds the photo it
//! was filed without while it is still pending, or asks that an approved one be
//! sent back (「可由单位管理员在系统上申请退回，待复审的司法行政机关退回后…」).
//!
//! Each is checked whole before anything is written: a refusal (a stable code, a
//! Chinese message) changes nothing and reaches the station in the batch's answer.
//! The same rules as the unit's own pages apply (`super::rules`): edit only after
//! 退回, a photo only before approval, a send-back only of an approved application,
//! once, before its card is written — and the send-back is the reviewing bureau's
//! act (`service::send_back_application`); the station only asks.

use super::rules;
use super::service::{file_station_row, roster_form, tell_station};
use crate::form::CheckedForm;
use crate::storage::{refusal_codes as codes, AppState, Refusal, StorageError, Tx};
use ecard_domain::roster::{ApplicationKind, RosterRow};
use ecard_sync_protocol::events::{kinds, ApplicationAmended, EventBody, SendBackRequested};

type Outcome = Result<Option<Refusal>, StorageError>;

fn refuse(code: &'static str, message: impl Into<String>) -> Outcome {
    Ok(Some(Refusal {
        code,
        message: message.into(),
    }))
}

/// Applies a follow-up from `station`, or refuses it.
pub(super) fn apply(tx: &mut Tx<'_>, station: &str, body: &EventBody) -> Outcome {
    let event = match body {
        EventBody::ApplicationAmended(a) => &a.application_event,
        EventBody::SendBackRequested(r) => &r.application_event,
        _ => return Ok(None),
    };
    let Some((sent, filed, kind)) = tx.station_application_by_event(station, event)? else {
        return refuse(
            codes::NOT_YOUR_APPLICATION,
            "登记中心没有本站提交的这份申请，不能修改或申请退回",
        );
    };
    match body {
        EventBody::ApplicationAmended(a) => amend(tx, station, sent, filed, &kind, a),
        EventBody::SendBackRequested(r) => request_send_back(tx, station, filed, r),
        _ => Ok(None),
    }
}

fn actor(station: &str) -> String {
    format!("station:{station}")
}

fn amend(
    tx: &mut Tx<'_>,
    station: &str,
    sent: i64,
    filed: Option<i64>,
    kind: &str,
    a: &ApplicationAmended,
) -> Outcome {
    if a.row.is_some() && kind != kinds::APPLICATION_SUBMITTED {
        return refuse(
            codes::APPLICATION_INVALID,
            "换证、补证申请不能用花名册行修改，请重新办理",
        );
    }
    if let Some(row) = a.row.as_deref() {
        // A number the unit filled in was checked when the row came; it is not
        // changed by an edit (a new number is a new application).
        let before = serde_json::from_str::<RosterRow>(&tx.station_row(sent)?.row_json)
            .ok()
            .and_then(|r| r.certificate_number);
        if row.kind != ApplicationKind::New || row.certificate_number != before {
            return refuse(
                codes::APPLICATION_INVALID,
                "修改不能改变申请类型或预填的证件编号",
            );
        }
    }
    let row_json = a.row.as_deref().map(serde_json::to_string).transpose()?;
    let row = a.row.as_deref().zip(row_json.as_deref());
    let Some(app) = filed else {
        // Still waiting at the registry (an unregistered unit, a missing photo):
        // the amended row is what is filed, now if it can be.
        tx.amend_station_row(
            sent,
            row.map(|(r, j)| (r.unit.trim(), j)),
            a.photo_jpeg.as_deref(),
        )?;
        let unit = tx.station_row_unit(sent)?;
        if let Some(unit) = tx.unit_named(&unit)? {
            let _filed_or_waiting = file_station_row(tx, sent, &unit)?;
        }
        return Ok(None);
    };
    let rec = tx.application(app)?;
    let state = rec.row.state;
    if a.resubmit && !rules::editable(state) {
        return refuse(
            codes::APPLICATION_STATE,
            format!(
                "申请当前为“{}”，只有退回的申请可以修改后重新提交",
                crate::web::labels::state_zh(state)
            ),
        );
    }
    if !a.resubmit && !matches!(state, AppState::Submitted | AppState::CountyApproved) {
        return refuse(
            codes::APPLICATION_STATE,
            format!(
                "申请当前为“{}”，只有待审核的申请可以补交照片（退回的请修改后重新提交）",
                crate::web::labels::state_zh(state)
            ),
        );
    }
    let checked = match amended_form(tx, sent, &rec.row.form, a.row.as_deref(), a) {
        Ok(c) => c,
        Err(message) => return refuse(codes::APPLICATION_INVALID, message),
    };
    tx.amend_station_row(
        sent,
        row.map(|(r, j)| (r.unit.trim(), j)),
        a.photo_jpeg.as_deref(),
    )?;
    if !a.resubmit {
        if let Some(photo) = &checked.photo {
            tx.set_application_photo(app, photo)?;
        }
        tx.log_decision(app, &actor(station), "photo_added", None, None)?;
        return Ok(None);
    }
    tx.update_application_form(app, &checked)?;
    tx.log_decision(app, &actor(station), "edit", None, None)?;
    let next = rules::resubmit(state).map_err(|e| StorageError::Invalid(e.message_zh()))?;
    tx.set_application_state(app, next, None)?;
    tell_station(tx, app, &rec.unit, next, None)?;
    tx.log_decision(app, &actor(station), "resubmit", None, None)?;
    Ok(None)
}

/// The application's form after the amendment: the new row made into a form the
/// way a filed row is (with the defaults the station first sent), or the form as
/// it stands; the new photo, if any. Checked as a filing is.
fn amended_form(
    tx: &Tx<'_>,
    sent: i64,
    current: &crate::form::ApplicationForm,
    row: Option<&RosterRow>,
    a: &ApplicationAmended,
) -> Result<CheckedForm, String> {
    let mut form = match row {
        Some(row) => {
            let mut stored = tx.station_row(sent).map_err(|e| e.to_string())?;
            stored.row_json = serde_json::to_string(row).map_err(|e| e.to_string())?;
            roster_form(&stored)?
        }
        None => current.clone(),
    };
    // No new photo keeps the stored one (`update_application_form`).
    form.photo_jpeg = a.photo_jpeg.clone();
    form.check(tx.today(), tx.province())
}

fn request_send_back(
    tx: &mut Tx<'_>,
    station: &str,
    filed: Option<i64>,
    r: &SendBackRequested,
) -> Outcome {
    let Some(app) = filed else {
        return refuse(codes::APPLICATION_STATE, "该申请尚未进入审核，不能申请退回");
    };
    let rec = tx.application(app)?;
    let issued = match &rec.row.number {
        Some(n) => tx.certificate_past_approval(n)?,
        None => false,
    };
    if let Err(e) = rules::send_back(rec.row.state, rec.row.sent_back, issued) {
        return refuse(codes::APPLICATION_STATE, e.message_zh());
    }
    if rec.row.send_back_requested.is_some() {
        return refuse(codes::APPLICATION_STATE, "已申请退回，正在等待审核机关处理");
    }
    tx.log_decision(
        app,
        &actor(station),
        "send_back_requested",
        None,
        Some(r.reason.trim()),
    )?;
    Ok(None)
}
