//! Applications through the review levels, central number allocation on approval,
//! and the issuance order that approval puts in the feed.

use super::accounts::UNIT_COLUMNS;
use super::{feed, ingest, numbers, Account, Result, Role, Storage, StorageError, Tx, Unit};
use crate::form::{ApplicationForm, CheckedForm};
use crate::workflow::{self as rules, AppState, Level, TransitionError};
use base64::Engine;
use chrono::NaiveDate;
use ecard_sync_protocol::events::{StatusChanged, StatusKind};
use ecard_sync_protocol::feed::{FeedBody, IssuanceOrder, OrderWithdrawn};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUnit {
    pub name: String,
    pub region: String,
    pub department: String,
    #[serde(default)]
    pub province_level: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRow {
    pub id: i64,
    pub unit: String,
    pub state: AppState,
    /// Last rejection or send-back reason.
    pub reason: Option<String>,
    pub sent_back: u32,
    pub number: Option<String>,
    pub form: ApplicationForm,
    pub has_photo: bool,
    pub created_at: String,
    pub updated_at: String,
}

struct AppRecord {
    row: ApplicationRow,
    unit: Unit,
    round: i64,
}

fn load(tx: &Tx<'_>, id: i64) -> Result<AppRecord> {
    let found = tx
        .conn()
        .query_row(
            "SELECT a.id, a.state, a.reason, a.sent_back, a.number, a.form_json, a.photo_jpeg IS NOT NULL,
                    a.created_at, a.updated_at, a.round, a.unit_id
             FROM applications a WHERE a.id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, i64>(10)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| StorageError::NotFound { what: "application", id: id.to_string() })?;
    let (
        id,
        state,
        reason,
        sent_back,
        number,
        form,
        has_photo,
        created_at,
        updated_at,
        round,
        unit_id,
    ) = found;
    let unit = tx.conn().query_row(
        &format!("SELECT {UNIT_COLUMNS} FROM units WHERE id = ?1"),
        [unit_id],
        |r| {
            Ok(Unit {
                id: r.get(0)?,
                name: r.get(1)?,
                region: r.get(2)?,
                department: r.get(3)?,
                province_level: r.get(4)?,
            })
        },
    )?;
    Ok(AppRecord {
        row: ApplicationRow {
            id,
            unit: unit.name.clone(),
            state: AppState::parse(&state).unwrap_or(AppState::Submitted),
            reason,
            sent_back,
            number,
            form: serde_json::from_str(&form)?,
            has_photo,
            created_at,
            updated_at,
        },
        unit,
        round,
    })
}

/// May `account` see (and, for bureaus, review) applications of `unit`?
pub(crate) fn oversees(account: &Account, unit: &Unit) -> bool {
    let region = account.region.as_deref().unwrap_or("");
    match account.role {
        Role::Unit => account.unit_id == Some(unit.id),
        Role::County => !unit.province_level && unit.region == region,
        Role::City => !unit.province_level && unit.region.starts_with(region),
        Role::Province => unit.province_level,
    }
}

fn forbidden() -> StorageError {
    StorageError::NotFound {
        what: "application",
        id: "(not visible to this account)".into(),
    }
}

fn log(
    tx: &Tx<'_>,
    app: i64,
    actor: &Account,
    action: &str,
    level: Option<Level>,
    reason: Option<&str>,
) -> Result<()> {
    log_as(tx, app, &actor.username, action, level, reason)
}

fn log_as(
    tx: &Tx<'_>,
    app: i64,
    actor: &str,
    action: &str,
    level: Option<Level>,
    reason: Option<&str>,
) -> Result<()> {
    tx.conn().execute(
        "INSERT INTO decisions (application_id, actor, action, level, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![app, actor, action, level.map(Level::as_str), reason, tx.now()],
    )?;
    Ok(())
}

/// Files one submitted application for `unit_id`; `actor` is logged as the submitter
/// (an operator's username, or `station:<id>` for a station's roster import).
pub(super) fn insert_submitted(
    tx: &Tx<'_>,
    unit_id: i64,
    form: &CheckedForm,
    actor: &str,
) -> Result<i64> {
    let at = tx.now().to_owned();
    tx.conn().execute(
        "INSERT INTO applications (unit_id, form_json, photo_jpeg, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'submitted', ?4, ?4)",
        params![unit_id, serde_json::to_string(&form.form)?, form.photo, at],
    )?;
    let id = tx.conn().last_insert_rowid();
    log_as(tx, id, actor, "submit", None, None)?;
    Ok(id)
}

fn set_state(tx: &Tx<'_>, id: i64, state: AppState, reason: Option<&str>) -> Result<()> {
    tx.conn().execute(
        "UPDATE applications SET state = ?2, reason = COALESCE(?3, reason), updated_at = ?4 WHERE id = ?1",
        params![id, state.as_str(), reason, tx.now()],
    )?;
    Ok(())
}

impl Storage {
    fn unit_of(&self, account: &Account) -> Result<Unit> {
        match (account.role, account.unit_id) {
            (Role::Unit, Some(id)) => self.unit(id),
            _ => Err(StorageError::Transition(TransitionError::NotYourTurn)),
        }
    }

    /// A unit files applications (one or a whole roster): all or none.
    pub fn submit_applications(
        &self,
        account: &Account,
        forms: Vec<CheckedForm>,
    ) -> Result<Vec<i64>> {
        let unit = self.unit_of(account)?;
        self.write(|tx| {
            let mut ids = Vec::with_capacity(forms.len());
            for f in forms {
                ids.push(insert_submitted(tx, unit.id, &f, &account.username)?);
            }
            Ok(ids)
        })
    }

    pub fn application(&self, account: &Account, id: i64) -> Result<ApplicationRow> {
        self.write(|tx| {
            let rec = load(tx, id)?;
            if !oversees(account, &rec.unit) {
                return Err(forbidden());
            }
            Ok(rec.row)
        })
    }

    /// The applications `account` may see, newest first.
    pub fn applications(&self, account: &Account) -> Result<Vec<ApplicationRow>> {
        self.write(|tx| {
            let ids: Vec<i64> = tx
                .conn()
                .prepare("SELECT id FROM applications ORDER BY id DESC")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for id in ids {
                let rec = load(tx, id)?;
                if oversees(account, &rec.unit) {
                    out.push(rec.row);
                }
            }
            Ok(out)
        })
    }

    /// The unit edits a rejected or returned application (it stays with the unit
    /// until resubmitted). A new photo replaces the old; no photo keeps it.
    pub fn edit_application(
        &self,
        account: &Account,
        id: i64,
        form: CheckedForm,
    ) -> Result<ApplicationRow> {
        self.write(|tx| {
            let rec = load(tx, id)?;
            if account.role != Role::Unit || !oversees(account, &rec.unit) {
                return Err(forbidden());
            }
            if !rec.row.state.editable() {
                return Err(TransitionError::WrongState(rec.row.state).into());
            }
            tx.conn().execute(
                "UPDATE applications SET form_json = ?2, photo_jpeg = COALESCE(?3, photo_jpeg), updated_at = ?4 WHERE id = ?1",
                params![id, serde_json::to_string(&form.form)?, form.photo, tx.now()],
            )?;
            log(tx, id, account, "edit", None, None)?;
            Ok(load(tx, id)?.row)
        })
    }

    pub fn resubmit_application(&self, account: &Account, id: i64) -> Result<ApplicationRow> {
        self.write(|tx| {
            let rec = load(tx, id)?;
            if account.role != Role::Unit || !oversees(account, &rec.unit) {
                return Err(forbidden());
            }
            let next = rules::resubmit(rec.row.state)?;
            set_state(tx, id, next, None)?;
            log(tx, id, account, "resubmit", None, None)?;
            Ok(load(tx, id)?.row)
        })
    }

    /// A bureau approves or rejects. The final approval allocates the number (once:
    /// a re-approval after a send-back keeps it), records the certificate and puts
    /// the issuance order in the feed for the stations serving the unit's region.
    pub fn decide_application(
        &self,
        account: &Account,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        today: NaiveDate,
    ) -> Result<ApplicationRow> {
        let rule = &self.rule;
        let path_of = |u: &Unit| self.review_path(u);
        self.write(|tx| {
            let rec = load(tx, id)?;
            let level = account.role.level().ok_or(TransitionError::NotYourTurn)?;
            if !oversees(account, &rec.unit) {
                return Err(forbidden());
            }
            let next = rules::decide(rec.row.state, path_of(&rec.unit), level, approve, reason)?;
            set_state(tx, id, next, if approve { None } else { reason.map(str::trim) })?;
            log(tx, id, account, if approve { "approve" } else { "reject" }, Some(level), reason)?;
            if next != AppState::Approved {
                return Ok(load(tx, id)?.row);
            }
            let checked = rec
                .row
                .form
                .clone()
                .check(today)
                .map_err(StorageError::Invalid)?;
            let number = match &rec.row.number {
                Some(n) => n.clone(),
                None => numbers::allocate(tx, rule, &rec.unit.region, &rec.unit.department)?,
            };
            let holder = checked.holder();
            let certificate = checked.certificate(&number, &rec.unit.name, &account.org_name, today);
            let photo: Option<Vec<u8>> = tx.conn().query_row(
                "SELECT photo_jpeg FROM applications WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            let at = tx.now().to_owned();
            tx.conn().execute(
                "INSERT INTO officers (id_number, holder_json, photo_jpeg, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id_number) DO UPDATE SET holder_json = excluded.holder_json,
                     photo_jpeg = COALESCE(excluded.photo_jpeg, photo_jpeg), updated_at = excluded.updated_at",
                params![holder.id_number, serde_json::to_string(&holder)?, photo, at],
            )?;
            tx.conn().execute(
                "INSERT INTO certificates (number, id_number, application_id, data_json, state, origin, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'approved', 'registry', ?5, ?5)
                 ON CONFLICT (number) DO UPDATE SET data_json = excluded.data_json, updated_at = excluded.updated_at",
                params![number, holder.id_number, id, serde_json::to_string(&certificate)?, at],
            )?;
            let round = rec.round + 1;
            tx.conn().execute(
                "UPDATE applications SET number = ?2, round = ?3 WHERE id = ?1",
                params![id, number, round],
            )?;
            // 换证: the old certificate is cancelled before the new one is issued.
            if let Some(old) = &checked.form.replaces {
                let change = StatusChanged {
                    number: old.clone(),
                    kind: StatusKind::Replace,
                    reason: "换证".into(),
                    detail: serde_json::json!({ "new_number": number, "application": id }),
                    effective_on: today,
                    new_number: Some(number.clone()),
                };
                ingest::apply_status(tx, rule, "registry", &change)?;
            }
            let order = FeedBody::IssuanceOrder(Box::new(IssuanceOrder {
                order_id: format!("{id}-{round}"),
                application_id: id,
                holder,
                certificate,
                photo_jpeg: photo.map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
            }));
            feed::push(tx, &order, Some(&rec.unit.region), None)?;
            Ok(load(tx, id)?.row)
        })
    }

    /// Sends an approved application back for editing, at the unit's request: once,
    /// before its card is written. Stations are told to drop the order.
    pub fn send_back_application(
        &self,
        account: &Account,
        id: i64,
        reason: &str,
    ) -> Result<ApplicationRow> {
        self.write(|tx| {
            let rec = load(tx, id)?;
            let allowed = match account.role {
                Role::Unit => oversees(account, &rec.unit),
                _ => oversees(account, &rec.unit) && account.role.level().is_some(),
            };
            if !allowed {
                return Err(forbidden());
            }
            if reason.trim().is_empty() {
                return Err(TransitionError::ReasonRequired.into());
            }
            let issued = match &rec.row.number {
                Some(n) => tx
                    .conn()
                    .query_row(
                        "SELECT state <> 'approved' FROM certificates WHERE number = ?1",
                        [n],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(false),
                None => false,
            };
            let next = rules::send_back(rec.row.state, rec.row.sent_back, issued)?;
            tx.conn().execute(
                "UPDATE applications SET sent_back = sent_back + 1 WHERE id = ?1",
                [id],
            )?;
            set_state(tx, id, next, Some(reason.trim()))?;
            log(
                tx,
                id,
                account,
                "send_back",
                account.role.level(),
                Some(reason),
            )?;
            let withdrawn = FeedBody::OrderWithdrawn(OrderWithdrawn {
                order_id: format!("{id}-{}", rec.round),
                number: rec.row.number.clone().unwrap_or_default(),
                reason: reason.trim().to_owned(),
            });
            feed::push(tx, &withdrawn, Some(&rec.unit.region), None)?;
            Ok(load(tx, id)?.row)
        })
    }
}
