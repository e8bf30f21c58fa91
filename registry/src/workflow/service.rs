//! The workflow's orchestrations over storage, each one storage transaction: who may
//! file and decide, which transition applies ([`super::rules`]), when a number is
//! allocated (`ecard_domain::numbering`), how an approved form becomes a certificate
//! and an issuance order, and how a station's roster row is filed.

use super::rules::{self, ReviewPath, TransitionError};
use crate::form::{ApplicationForm, CheckedForm, RosterDefaults};
use crate::storage::{
    Account, AppState, ApplicationRow, IngestHooks, NewUnit, Role, StationApplication, StationRow,
    Storage, StorageError, Tx, Unit,
};
use base64::Engine;
use card_profile::records::CertificateKind;
use chrono::NaiveDate;
use ecard_domain::eligibility::{self, Ineligible};
use ecard_domain::numbering::{
    self, CertificateNumber, NumberParts, NumberingError, NumberingRule,
};
use ecard_domain::roster::RosterRow;
use ecard_domain::validity::ValidityError;
use ecard_sync_protocol::events::{
    kinds, ApplicationDefaults, EventAck, EventBody, StationEvent, StatusChanged, StatusKind,
    SuccessionSubmitted,
};
use ecard_sync_protocol::feed::{ApplicationDecision, FeedBody, IssuanceOrder, OrderWithdrawn};
use thiserror::Error;

/// Category (执法类别) given to a station's row when the station sent no defaults:
/// the roster template has no such column. Reviewers see it and may reject the
/// application for the unit to correct.
pub const FALLBACK_CATEGORY: &str = "行政执法";

#[derive(Debug, Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("{0}")]
    Numbering(#[from] NumberingError),
    /// The certificate's dates cannot be made by the validity rule.
    #[error("{0}")]
    Validity(#[from] ValidityError),
    /// The person may not hold a certificate (every reason, never empty).
    #[error("{}", .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("；"))]
    Ineligible(Vec<Ineligible>),
    /// An application without the holder's photo: the chip photo is made from it, so
    /// such an application could never become a card. Refused when it is filed and
    /// when it is approved, not when a station comes to write the card.
    #[error("{}", if *.approving { NO_PHOTO_APPROVING } else { NO_PHOTO_FILING })]
    NoPhoto { approving: bool },
    /// A proof material that may not be filed (type, size, count).
    #[error(transparent)]
    Material(#[from] super::materials::MaterialError),
    /// A number the unit filled in that may not be taken (`number_prefilled`,
    /// `number_claimed`: the station path's refusals, `storage::prefilled_number`).
    #[error("{}", .0.message)]
    Prefilled(crate::storage::Refusal),
}

/// Why a filing without a photo is refused (also a station row's problem).
pub const NO_PHOTO_FILING: &str =
    "申请缺少本人照片：卡片芯片中的照片由申请照片生成，请附上照片后再提交";
const NO_PHOTO_APPROVING: &str =
    "申请缺少本人照片，不能批准：请退回申请单位补交照片（卡片芯片中的照片由它生成）";

pub type Result<T, E = WorkflowError> = std::result::Result<T, E>;

/// The numbering rule for central allocation: the province configuration's.
fn rule(storage: &Storage) -> NumberingRule {
    storage.province().numbering.clone()
}

pub(super) fn forbidden() -> WorkflowError {
    StorageError::NotFound {
        what: "application",
        id: "(not visible to this account)".into(),
    }
    .into()
}

fn invalid(message: String) -> WorkflowError {
    StorageError::Invalid(message).into()
}

/// How a unit's applications are reviewed: by its level in the numbering table.
pub fn review_path(rule: &NumberingRule, unit: &Unit) -> ReviewPath {
    use ecard_domain::numbering::Level as RegionLevel;
    if unit.province_level {
        return ReviewPath::Province;
    }
    match rule
        .regions
        .iter()
        .find(|r| r.code == unit.region)
        .map(|r| r.level)
    {
        Some(RegionLevel::County) => ReviewPath::CountyThenCity,
        _ => ReviewPath::City,
    }
}

/// The next central number for `unit`, recorded as allocated: the domain's one
/// allocator, under the region and department codes of the unit the certificate is
/// for (for a 换证, the holder's new unit).
fn allocate_number(tx: &Tx<'_>, rule: &NumberingRule, unit: &Unit) -> Result<NumberParts> {
    let last = tx.last_serial(&unit.region, &unit.department)?;
    let number = numbering::allocate(rule, &unit.region, &unit.department, last)?;
    tx.note_allocated(&number)?;
    Ok(number)
}

/// What ingest leaves to the workflow: station rows are filed, numbers seen elsewhere
/// move central allocation past them.
struct Hooks {
    rule: NumberingRule,
}

impl IngestHooks for Hooks {
    fn station_application(
        &self,
        tx: &mut Tx<'_>,
        id: i64,
        unit: &str,
    ) -> Result<(), StorageError> {
        match tx.unit_named(unit)? {
            Some(unit) => {
                // A row that cannot be filed keeps its problem and waits for the admin.
                let _filed_or_waiting = file_station_row(tx, id, &unit)?;
            }
            None => tx.set_station_problem(
                id,
                &format!(
                    "单位“{unit}”未在中心登记：请登记该单位（同名，登记后自动转入审核）或将申请指派给已登记的单位"
                ),
            )?,
        }
        Ok(())
    }

    fn number_seen(&self, tx: &Tx<'_>, number: &CertificateNumber) -> Result<(), StorageError> {
        let Ok(parsed) = self.rule.parse(number) else {
            // Not a number of this rule (another province's, or free-form): nothing to avoid.
            return Ok(());
        };
        tx.note_allocated(&parsed)
    }

    fn number_region(&self, number: &str) -> Option<String> {
        self.rule.parse(number).ok().map(|p| p.region)
    }

    fn station_follow_up(
        &self,
        tx: &mut Tx<'_>,
        station: &str,
        body: &EventBody,
    ) -> Result<Option<crate::storage::Refusal>, StorageError> {
        super::follow_up::apply(tx, station, body)
    }
}

fn hooks(storage: &Storage) -> Hooks {
    Hooks {
        rule: rule(storage),
    }
}

/// Applies a decoded batch from `station` (`Storage::ingest`), filing its
/// applications and noting its numbers in the same transaction.
pub fn ingest(
    storage: &Storage,
    station: &str,
    events: &[(StationEvent, EventBody)],
) -> Result<EventAck> {
    Ok(storage.ingest(station, events, &hooks(storage))?)
}

/// A status change decided in the registry itself (origin `registry`).
pub fn record_status_change(storage: &Storage, change: &StatusChanged) -> Result<()> {
    Ok(storage.record_status_change(change, &hooks(storage))?)
}

/// The form of a roster row a station imported.
pub(super) fn roster_form(sent: &StationRow) -> Result<ApplicationForm, String> {
    let row = serde_json::from_str::<RosterRow>(&sent.row_json)
        .map_err(|e| format!("站点提交的花名册行无法识别：{e}"))?;
    let defaults = match &sent.defaults_json {
        Some(d) => serde_json::from_str::<ApplicationDefaults>(d)
            .map(|d| RosterDefaults {
                certificate_kind: d.certificate_kind,
                category: d.category,
                area: d.area,
            })
            .map_err(|e| format!("站点提交的默认值无法识别：{e}"))?,
        None => RosterDefaults {
            certificate_kind: CertificateKind::Enforcement,
            category: FALLBACK_CATEGORY.to_owned(),
            area: row.county.trim().to_owned(),
        },
    };
    let mut form = ApplicationForm::from_roster(&row, &defaults);
    form.photo_jpeg = sent.photo_base64.clone();
    Ok(form)
}

/// The number a unit filled in for a new applicant of a station's roster row.
fn prefilled_number(sent: &StationRow) -> Option<CertificateNumber> {
    if sent.event_kind != kinds::APPLICATION_SUBMITTED {
        return None;
    }
    let row = serde_json::from_str::<RosterRow>(&sent.row_json).ok()?;
    match row.kind {
        ecard_domain::roster::ApplicationKind::New => row.certificate_number,
        ecard_domain::roster::ApplicationKind::Replacement => None,
    }
}

/// The form of a 换证/补证 a station made.
fn succession_form(sent: &StationRow) -> Result<ApplicationForm, String> {
    let s = serde_json::from_str::<SuccessionSubmitted>(&sent.row_json)
        .map_err(|e| format!("站点提交的换证/补证申请无法识别：{e}"))?;
    let mut form = ApplicationForm::from_succession(&s);
    form.photo_jpeg = sent.photo_base64.clone();
    Ok(form)
}

/// Files station application `id` for `unit`, exactly as if the unit had submitted
/// it: state `submitted`, logged as `station:<id>`. `Ok(Err(message))` when its row
/// cannot be made into a valid form (the message is kept as the problem).
pub(super) fn file_station_row(
    tx: &Tx<'_>,
    id: i64,
    unit: &Unit,
) -> Result<Result<i64, String>, StorageError> {
    let sent = tx.station_row(id)?;
    let form = if sent.event_kind == kinds::SUCCESSION_SUBMITTED {
        succession_form(&sent)
    } else {
        roster_form(&sent)
    }
    .and_then(|form| form.check(tx.today(), tx.province()))
    .and_then(|checked| match checked.photo {
        Some(_) => Ok(checked),
        None => Err(NO_PHOTO_FILING.to_owned()),
    });
    let checked = match form {
        Ok(f) => f,
        Err(message) => {
            tx.set_station_problem(id, &message)?;
            return Ok(Err(message));
        }
    };
    let app = tx.insert_submitted(unit.id, &checked)?;
    // A number the unit gave (where the province's units number: authority
    // checked it at ingest) is the certificate's; approval allocates none.
    if let Some(number) = prefilled_number(&sent) {
        tx.set_application_number(app, &number, 0)?;
    }
    tx.log_decision(
        app,
        &format!("station:{}", sent.station),
        "submit",
        None,
        None,
    )?;
    tx.set_station_filed(id, app)?;
    Ok(Ok(app))
}

/// Tells the station an application came from what the bureaus did with it (the
/// approval itself reaches it as the issuance order): only that station holds the
/// event id, the others of the region skip the item.
pub(super) fn tell_station(
    tx: &Tx<'_>,
    id: i64,
    unit: &Unit,
    state: AppState,
    reason: Option<&str>,
) -> Result<(), StorageError> {
    let Some(event_id) = tx.station_event_of(id)? else {
        return Ok(());
    };
    let state = match state {
        AppState::Rejected => "rejected",
        AppState::Returned => "returned",
        AppState::Submitted => "submitted",
        AppState::CountyApproved | AppState::Approved => return Ok(()),
    };
    let notice = FeedBody::ApplicationDecision(ApplicationDecision {
        event_id,
        application_id: id,
        state: state.to_owned(),
        reason: reason.map(|r| r.trim().to_owned()),
    });
    tx.push_feed(&notice, Some(&unit.region), None)
}

/// Creates a unit. Its region and department must be in the numbering tables: the
/// unit's certificate numbers are made from them. Applications imported at stations
/// that named it before it was registered are filed at once.
pub fn add_unit(storage: &Storage, unit: &NewUnit) -> Result<Unit> {
    let rule = rule(storage);
    if !rule.regions.iter().any(|r| r.code == unit.region) {
        return Err(invalid(format!(
            "地区代码“{}”不在地区代码表中",
            unit.region
        )));
    }
    if !rule.departments.iter().any(|d| d.code == unit.department) {
        return Err(invalid(format!(
            "部门代码“{}”不在部门代码表中",
            unit.department
        )));
    }
    if unit.name.trim().is_empty() {
        return Err(invalid("单位名称不能为空".into()));
    }
    let id = storage.transaction(|tx| {
        let created = tx.insert_unit(unit)?;
        for waiting in tx.waiting_station_applications(&created.name)? {
            let _filed_or_waiting = file_station_row(tx, waiting, &created)?;
        }
        Ok::<_, StorageError>(created.id)
    })?;
    Ok(storage.unit(id)?)
}

/// The admin files a waiting station application for a registered unit (e.g. the
/// row spelled the unit's name differently).
pub fn attach_station_application(
    storage: &Storage,
    id: i64,
    unit_name: &str,
) -> Result<StationApplication> {
    Ok(storage.transaction(|tx| {
        match tx.station_application_filed(id)? {
            None => {
                return Err(StorageError::NotFound {
                    what: "station application",
                    id: id.to_string(),
                })
            }
            Some(Some(app)) => {
                return Err(StorageError::Exists {
                    what: "application",
                    id: app.to_string(),
                })
            }
            Some(None) => {}
        }
        let unit = tx
            .unit_named(unit_name.trim())?
            .ok_or_else(|| StorageError::NotFound {
                what: "unit",
                id: unit_name.trim().to_owned(),
            })?;
        file_station_row(tx, id, &unit)?.map_err(StorageError::Invalid)?;
        tx.station_application(id)
    })?)
}

fn unit_of(storage: &Storage, account: &Account) -> Result<Unit> {
    match (account.role, account.unit_id) {
        (Role::Unit, Some(id)) => Ok(storage.unit(id)?),
        _ => Err(TransitionError::NotYourTurn.into()),
    }
}

/// A unit files applications (one or a whole roster): all or none.
pub fn submit_applications(
    storage: &Storage,
    account: &Account,
    forms: Vec<CheckedForm>,
) -> Result<Vec<i64>> {
    let unit = unit_of(storage, account)?;
    if forms.iter().any(|f| f.photo.is_none()) {
        return Err(WorkflowError::NoPhoto { approving: false });
    }
    storage.transaction(|tx| {
        let mut ids = Vec::with_capacity(forms.len());
        for f in forms {
            // A number the unit gave: the station path's check, under the unit's
            // own codes; it becomes the certificate's at approval.
            let number = f.form.number.clone();
            if let Some(n) = &number {
                if f.form.replaces.is_some() || f.form.reissues.is_some() {
                    return Err(WorkflowError::Prefilled(crate::storage::Refusal {
                        code: crate::storage::refusal_codes::NUMBER_PREFILLED,
                        message: "换证、补证的新证号由登记中心在批准时分配，请不要预填".into(),
                    }));
                }
                if let Some(r) =
                    crate::storage::prefilled_number(tx, n, crate::storage::unit_codes(&unit))?
                {
                    return Err(WorkflowError::Prefilled(r));
                }
            }
            let id = tx.insert_submitted(unit.id, &f)?;
            if let Some(n) = &number {
                tx.set_application_number(id, n, 0)?;
            }
            tx.log_decision(id, &account.username, "submit", None, None)?;
            ids.push(id);
        }
        Ok(ids)
    })
}

pub fn application(storage: &Storage, account: &Account, id: i64) -> Result<ApplicationRow> {
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        if !rules::oversees(account, &rec.unit) {
            return Err(forbidden());
        }
        Ok(rec.row)
    })
}

/// The applications `account` may see, newest first.
pub fn applications(storage: &Storage, account: &Account) -> Result<Vec<ApplicationRow>> {
    Ok(storage.transaction(|tx| {
        // Only the units the account oversees (the rule decides, on each unit),
        // then only their applications: at national scale a city's list no longer
        // reads every application in the registry (docs/PERFORMANCE.md, #15).
        let units: Vec<i64> = tx
            .all_units()?
            .into_iter()
            .filter(|u| rules::oversees(account, u))
            .map(|u| u.id)
            .collect();
        let mut out = Vec::new();
        for id in tx.application_ids_of_units(&units)? {
            let rec = tx.application(id)?;
            if rules::oversees(account, &rec.unit) {
                out.push(rec.row);
            }
        }
        Ok::<_, StorageError>(out)
    })?)
}

/// The unit edits a rejected or returned application (it stays with the unit until
/// resubmitted). A new photo replaces the old; no photo keeps it.
pub fn edit_application(
    storage: &Storage,
    account: &Account,
    id: i64,
    form: CheckedForm,
) -> Result<ApplicationRow> {
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        if account.role != Role::Unit || !rules::oversees(account, &rec.unit) {
            return Err(forbidden());
        }
        if !rules::editable(rec.row.state) {
            return Err(TransitionError::WrongState(rec.row.state).into());
        }
        // A number the unit gave is kept (a new number is a new application), as
        // on the station path.
        if form.form.number.is_some() && form.form.number != rec.row.number {
            return Err(WorkflowError::Prefilled(crate::storage::Refusal {
                code: crate::storage::refusal_codes::NUMBER_PREFILLED,
                message: "修改不能改变预填的证件编号".into(),
            }));
        }
        tx.update_application_form(id, &form)?;
        tx.log_decision(id, &account.username, "edit", None, None)?;
        Ok(tx.application(id)?.row)
    })
}

pub fn resubmit_application(
    storage: &Storage,
    account: &Account,
    id: i64,
) -> Result<ApplicationRow> {
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        if account.role != Role::Unit || !rules::oversees(account, &rec.unit) {
            return Err(forbidden());
        }
        let next = rules::resubmit(rec.row.state)?;
        tx.set_application_state(id, next, None)?;
        tell_station(tx, id, &rec.unit, next, None)?;
        tx.log_decision(id, &account.username, "resubmit", None, None)?;
        Ok(tx.application(id)?.row)
    })
}

/// The eligibility check of application `row` today: the form's facts and the
/// registry's record of the person's other live certificates (the one a 换证 or 补证
/// replaces and the application's own do not count).
fn eligibility_of(tx: &Tx<'_>, row: &ApplicationRow) -> Result<eligibility::Verdict> {
    let mut except: Vec<&str> = Vec::new();
    except.extend(row.form.follows());
    except.extend(row.number.as_deref());
    let others = tx.other_live_certificates(&row.form.id_number, &except)?;
    Ok(eligibility::check(&row.form.facts(others), tx.today()))
}

/// What a reviewer should know about application `id` before deciding: the
/// definite eligibility failures and the facts it does not carry.
pub fn eligibility_findings(
    storage: &Storage,
    account: &Account,
    id: i64,
) -> Result<eligibility::Verdict> {
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        if !rules::oversees(account, &rec.unit) {
            return Err(forbidden());
        }
        eligibility_of(tx, &rec.row)
    })
}

/// A bureau approves or rejects. The final approval allocates the number (once: a
/// re-approval after a send-back keeps it), records the certificate and puts the
/// issuance order in the feed for the stations serving the unit's region.
pub fn decide_application(
    storage: &Storage,
    account: &Account,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    today: NaiveDate,
) -> Result<ApplicationRow> {
    let hooks = hooks(storage);
    let rule = &hooks.rule;
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        let level = rules::review_level(account.role).ok_or(TransitionError::NotYourTurn)?;
        if !rules::oversees(account, &rec.unit) {
            return Err(forbidden());
        }
        let path = review_path(rule, &rec.unit);
        let next = rules::decide(rec.row.state, path, level, approve, reason)?;
        // At every level's approval, before anything is recorded: the application may
        // have been filed before photos were required, or edited since.
        if approve && tx.application_photo(id)?.is_none() {
            return Err(WorkflowError::NoPhoto { approving: true });
        }
        // Eligibility is checked at every approving decision, on the day it is made
        // (an exam can age past three years while the application waits).
        if approve {
            let ineligible = eligibility_of(tx, &rec.row)?.ineligible;
            if !ineligible.is_empty() {
                return Err(WorkflowError::Ineligible(ineligible));
            }
        }
        tx.set_application_state(id, next, if approve { None } else { reason.map(str::trim) })?;
        tx.log_decision(
            id,
            &account.username,
            if approve { "approve" } else { "reject" },
            Some(level),
            reason,
        )?;
        if next != AppState::Approved {
            tell_station(tx, id, &rec.unit, next, reason)?;
            return Ok(tx.application(id)?.row);
        }
        let province = storage.province();
        let checked = rec
            .row
            .form
            .clone()
            .check(today, province)
            .map_err(invalid)?;
        // The one validity rule (before a number is taken: a refusal allocates nothing).
        let period = checked.validity(today, province)?;
        let number = match &rec.row.number {
            Some(n) => n.clone(),
            None => rule.number(&allocate_number(tx, rule, &rec.unit)?)?,
        };
        let holder = checked.holder();
        let certificate =
            checked.certificate(&number, &rec.unit.name, &account.org_name, today, period);
        let photo = tx.application_photo(id)?;
        // The bureaus' approval is the review of a change to a certified officer's
        // record: the decision log keeps what it replaced (old and new values).
        if let Some(change) = officer_change(tx, &holder, photo.as_deref(), &number)? {
            tx.log_decision(
                id,
                &account.username,
                "officer_corrected",
                Some(level),
                Some(&change.to_string()),
            )?;
        }
        tx.upsert_officer(&holder, photo.as_deref())?;
        tx.upsert_approved_certificate(&number, &holder.id_number, id, &certificate)?;
        let round = rec.round + 1;
        tx.set_application_number(id, &number, round)?;
        // 换证/补证: the old certificate ends before the new one is issued. A
        // station that made the 换证/补证 ended it already (cancel first, then
        // apply); one filed here ends now.
        let follows = checked
            .form
            .follows()
            .map(CertificateNumber::parse)
            .transpose()
            .map_err(|e| invalid(e.to_string()))?;
        if let Some(old) = &follows {
            let kind = if checked.form.replaces.is_some() {
                StatusKind::Replace
            } else {
                StatusKind::Reissue
            };
            if !tx.certificate_ended(old)? {
                let change = StatusChanged {
                    number: old.clone(),
                    kind,
                    reason: if kind == StatusKind::Replace {
                        "换证"
                    } else {
                        "补证"
                    }
                    .into(),
                    detail: serde_json::json!({ "new_number": number.as_str(), "application": id }),
                    effective_on: today,
                    new_number: Some(number.clone()),
                };
                tx.apply_status(&hooks, "registry", &change)?;
            }
        }
        let order = FeedBody::IssuanceOrder(Box::new(IssuanceOrder {
            order_id: format!("{id}-{round}"),
            application_id: id,
            holder,
            certificate,
            photo_jpeg: photo.map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
            follows,
        }));
        tx.push_feed(&order, Some(&rec.unit.region), None)?;
        Ok(tx.application(id)?.row)
    })
}

/// What an approval changes in the record of an officer who already holds another
/// certificate: `{old, new}` (name, gender, ethnicity, birth date, photo SHA-256),
/// `None` when nothing changes or the officer holds no other certificate.
fn officer_change(
    tx: &Tx<'_>,
    holder: &card_profile::records::Holder,
    photo: Option<&[u8]>,
    number: &CertificateNumber,
) -> Result<Option<serde_json::Value>, StorageError> {
    let Some((old, old_photo)) = tx.certified_officer(&holder.id_number, number)? else {
        return Ok(None);
    };
    let new_photo = photo.filter(|p| old_photo.as_deref() != Some(*p));
    if old == *holder && new_photo.is_none() {
        return Ok(None);
    }
    let side = |h: &card_profile::records::Holder, p: Option<&[u8]>| {
        serde_json::json!({
            "name": h.name,
            "gender": h.gender,
            "ethnicity": h.ethnicity,
            "birth_date": h.birth_date,
            "photo_sha256": p.map(|p| hex::encode(ring::digest::digest(&ring::digest::SHA256, p))),
        })
    };
    Ok(Some(serde_json::json!({
        "old": side(&old, old_photo.as_deref()),
        "new": side(holder, new_photo.or(old_photo.as_deref())),
    })))
}

/// Sends an approved application back for editing, at the unit's request: once,
/// before its card is written. Stations are told to drop the order.
pub fn send_back_application(
    storage: &Storage,
    account: &Account,
    id: i64,
    reason: &str,
) -> Result<ApplicationRow> {
    storage.transaction(|tx| {
        let rec = tx.application(id)?;
        let allowed = match account.role {
            Role::Unit => rules::oversees(account, &rec.unit),
            _ => rules::oversees(account, &rec.unit) && rules::review_level(account.role).is_some(),
        };
        if !allowed {
            return Err(forbidden());
        }
        if reason.trim().is_empty() {
            return Err(TransitionError::ReasonRequired.into());
        }
        let issued = match &rec.row.number {
            Some(n) => tx.certificate_past_approval(n)?,
            None => false,
        };
        let next = rules::send_back(rec.row.state, rec.row.sent_back, issued)?;
        tx.count_send_back(id)?;
        tx.set_application_state(id, next, Some(reason.trim()))?;
        tx.log_decision(
            id,
            &account.username,
            "send_back",
            rules::review_level(account.role),
            Some(reason),
        )?;
        // An approved application always has its number; the order to drop names it.
        if let Some(number) = rec.row.number.clone() {
            let withdrawn = FeedBody::OrderWithdrawn(OrderWithdrawn {
                order_id: format!("{id}-{}", rec.round),
                number,
                reason: reason.trim().to_owned(),
            });
            tx.push_feed(&withdrawn, Some(&rec.unit.region), None)?;
        }
        tell_station(tx, id, &rec.unit, next, Some(reason))?;
        Ok(tx.application(id)?.row)
    })
}
