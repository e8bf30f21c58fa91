//! Applications as rows: their states, the decisions log, the certificates and
//! officers an approval records. Only persistence: who may do what, and which
//! state follows, is decided in `crate::workflow`.

use super::accounts::{unit_row, UNIT_COLUMNS};
use super::db::{params, OptionalExtension};
use super::{Result, StorageError, Tx, Unit};
use crate::form::{ApplicationForm, CheckedForm};
use card_profile::records::{Certificate, Holder};
use ecard_domain::numbering::CertificateNumber;
use serde::{Deserialize, Serialize};

/// Where an application stands (the transitions are `crate::workflow::rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Waiting for the first (or only) review.
    Submitted,
    /// County approved; waiting for the city's decision.
    CountyApproved,
    Approved,
    /// Back with the unit with a reason; editable.
    Rejected,
    /// Sent back after approval at the unit's request; editable.
    Returned,
}

impl AppState {
    pub fn as_str(self) -> &'static str {
        match self {
            AppState::Submitted => "submitted",
            AppState::CountyApproved => "county_approved",
            AppState::Approved => "approved",
            AppState::Rejected => "rejected",
            AppState::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            AppState::Submitted,
            AppState::CountyApproved,
            AppState::Approved,
            AppState::Rejected,
            AppState::Returned,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// The level of a reviewing account, as logged with its decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    County,
    City,
    Province,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::City => "city",
            Level::Province => "province",
        }
    }
}

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
    pub number: Option<CertificateNumber>,
    pub form: ApplicationForm,
    pub has_photo: bool,
    pub created_at: String,
    pub updated_at: String,
    /// While waiting for a bureau (submitted, county-approved): the last day of its
    /// 3 working days to decide (`deadlines::add_working_days` from the day it
    /// entered that state, the province's holidays left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decide_by: Option<chrono::NaiveDate>,
    /// `decide_by` has passed.
    #[serde(default)]
    pub overdue: bool,
    /// The unit asked (from its station) that this approved application be sent
    /// back, with this reason, and the reviewing bureau has not done it yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_back_requested: Option<String>,
}

/// The day a bureau has to decide an application in `state` by, when it waits for
/// one: 3 working days (`deadlines::add_working_days`, the province's holidays left
/// out) from the day it entered the state, its last change `updated_at` (a pending
/// application is not edited). The one place the registry applies the rule.
pub fn decide_by(
    state: AppState,
    updated_at: &str,
    holidays: &ecard_domain::deadlines::Holidays,
) -> Option<chrono::NaiveDate> {
    if !matches!(state, AppState::Submitted | AppState::CountyApproved) {
        return None;
    }
    let since = chrono::NaiveDate::parse_from_str(updated_at.get(..10)?, "%Y-%m-%d").ok()?;
    Some(ecard_domain::deadlines::add_working_days(
        since,
        ecard_domain::deadlines::DECISION_WORKING_DAYS,
        holidays,
    ))
}

/// An application with its unit and its approval round (the issuance order's id).
pub struct ApplicationRecord {
    pub row: ApplicationRow,
    pub unit: Unit,
    pub round: i64,
}

impl Tx<'_> {
    pub(crate) fn application(&self, id: i64) -> Result<ApplicationRecord> {
        let found = self
            .conn()
            .query_row(
                "SELECT a.id, a.state, a.reason, a.sent_back, a.number, a.form_json, a.photo_jpeg IS NOT NULL,
                        a.created_at, a.updated_at, a.round, a.unit_id
                 FROM applications a WHERE a.id = ?1",
                params![id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, Option<CertificateNumber>>(4)?,
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
        let unit = self.conn().query_row(
            &format!("SELECT {UNIT_COLUMNS} FROM units WHERE id = ?1"),
            params![unit_id],
            unit_row,
        )?;
        let state = AppState::parse(&state).unwrap_or(AppState::Submitted);
        let decide_by = decide_by(state, &updated_at, &self.province().holidays);
        let send_back_requested = self.pending_send_back_request(id)?;
        Ok(ApplicationRecord {
            row: ApplicationRow {
                send_back_requested,
                id,
                unit: unit.name.clone(),
                state,
                reason,
                sent_back,
                number,
                form: serde_json::from_str(&form)?,
                has_photo,
                created_at,
                updated_at,
                overdue: decide_by.is_some_and(|d| self.today() > d),
                decide_by,
            },
            unit,
            round,
        })
    }

    /// The reason of a send-back the unit requested that no send-back has answered
    /// since (a request after the last send-back or approval).
    fn pending_send_back_request(&self, id: i64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT reason FROM decisions WHERE application_id = ?1 AND action = 'send_back_requested'
                   AND id > COALESCE((SELECT MAX(id) FROM decisions WHERE application_id = ?1
                                       AND action IN ('send_back', 'approve')), 0)
                 ORDER BY id DESC LIMIT 1",
                params![id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Does a certificate or an application (a number the unit filled in, or one
    /// given at approval) hold `number` already?
    pub(crate) fn number_held(&self, number: &CertificateNumber) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM certificates WHERE number = ?1)
                 OR EXISTS (SELECT 1 FROM applications WHERE number = ?1)",
            params![number],
            |r| r.get(0),
        )?)
    }

    /// The photo of application `id` (a photo added before approval).
    pub(crate) fn set_application_photo(&self, id: i64, photo: &[u8]) -> Result<()> {
        self.conn().execute(
            "UPDATE applications SET photo_jpeg = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, photo, self.now()],
        )?;
        Ok(())
    }

    /// Every unit.
    pub(crate) fn all_units(&self) -> Result<Vec<Unit>> {
        Ok(self
            .conn()
            .prepare(&format!("SELECT {UNIT_COLUMNS} FROM units"))?
            .query_map(params![], unit_row)?
            .collect::<Result<_, _>>()?)
    }

    /// The ids of the applications of `units`, newest first (one indexed lookup
    /// per unit: a reviewer's list reads its own units' applications, not the
    /// whole registry's).
    pub(crate) fn application_ids_of_units(&self, units: &[i64]) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        for unit in units {
            let of_unit = self
                .conn()
                .query_map(
                    "SELECT id FROM applications WHERE unit_id = ?1",
                    params![unit],
                    |r| r.get::<_, i64>(0),
                )?
                .collect::<Result<Vec<_>, _>>()?;
            ids.extend(of_unit);
        }
        ids.sort_unstable_by(|a, b| b.cmp(a));
        Ok(ids)
    }

    /// Logs a decision on application `app` by `actor` (an operator's username, or
    /// `station:<id>` for a station's roster import).
    pub(crate) fn log_decision(
        &self,
        app: i64,
        actor: &str,
        action: &str,
        level: Option<Level>,
        reason: Option<&str>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO decisions (application_id, actor, action, level, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![app, actor, action, level.map(Level::as_str), reason, self.now()],
        )?;
        Ok(())
    }

    /// Inserts one application in state `submitted` for `unit_id`.
    pub(crate) fn insert_submitted(&self, unit_id: i64, form: &CheckedForm) -> Result<i64> {
        let at = self.now().to_owned();
        Ok(self.conn().query_row(
            "INSERT INTO applications (unit_id, form_json, photo_jpeg, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'submitted', ?4, ?4) RETURNING id",
            params![unit_id, serde_json::to_string(&form.form)?, form.photo, at],
            |r| r.get(0),
        )?)
    }

    /// A new form; a new photo replaces the old, no photo keeps it.
    pub(crate) fn update_application_form(&self, id: i64, form: &CheckedForm) -> Result<()> {
        self.conn().execute(
            "UPDATE applications SET form_json = ?2, photo_jpeg = COALESCE(?3, photo_jpeg), updated_at = ?4 WHERE id = ?1",
            params![id, serde_json::to_string(&form.form)?, form.photo, self.now()],
        )?;
        Ok(())
    }

    /// Sets the state; a `reason` replaces the last one, `None` keeps it.
    pub(crate) fn set_application_state(
        &self,
        id: i64,
        state: AppState,
        reason: Option<&str>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE applications SET state = ?2, reason = COALESCE(?3, reason), updated_at = ?4 WHERE id = ?1",
            params![id, state.as_str(), reason, self.now()],
        )?;
        Ok(())
    }

    pub(crate) fn count_send_back(&self, id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE applications SET sent_back = sent_back + 1 WHERE id = ?1",
            params![id],
        )?;
        Ok(())
    }

    pub(crate) fn application_photo(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self.conn().query_row(
            "SELECT photo_jpeg FROM applications WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )?)
    }

    pub(crate) fn set_application_number(
        &self,
        id: i64,
        number: &CertificateNumber,
        round: i64,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE applications SET number = ?2, round = ?3 WHERE id = ?1",
            params![id, number, round],
        )?;
        Ok(())
    }

    /// The recorded holder and photo of `id_number` when that officer holds a
    /// certificate other than `number` that is approved, issued or suspended: then an
    /// approval that changes the record is a correction (logged with old and new).
    pub(crate) fn certified_officer(
        &self,
        id_number: &str,
        number: &CertificateNumber,
    ) -> Result<Option<(Holder, Option<Vec<u8>>)>> {
        let found: Option<(Option<String>, Option<Vec<u8>>)> = self
            .conn()
            .query_row(
                "SELECT o.holder_json, o.photo_jpeg FROM officers o
                 WHERE o.id_number = ?1 AND EXISTS (
                     SELECT 1 FROM certificates c WHERE c.id_number = o.id_number
                         AND c.number <> ?2 AND c.state IN ('approved', 'issued', 'suspended'))",
                params![id_number, number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((Some(holder), photo)) = found else {
            return Ok(None);
        };
        Ok(Some((serde_json::from_str(&holder)?, photo)))
    }

    /// Records the holder (a photo replaces the kept one, none keeps it).
    pub(crate) fn upsert_officer(&self, holder: &Holder, photo: Option<&[u8]>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO officers (id_number, holder_json, photo_jpeg, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id_number) DO UPDATE SET holder_json = excluded.holder_json,
                 photo_jpeg = COALESCE(excluded.photo_jpeg, officers.photo_jpeg), updated_at = excluded.updated_at",
            params![holder.id_number, serde_json::to_string(holder)?, photo, self.now()],
        )?;
        Ok(())
    }

    /// Records the certificate of an approved application (state `approved`, origin
    /// `registry`); a re-approval updates its data.
    pub(crate) fn upsert_approved_certificate(
        &self,
        number: &CertificateNumber,
        id_number: &str,
        application: i64,
        certificate: &Certificate,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO certificates (number, id_number, application_id, data_json, state, origin, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'approved', 'registry', ?5, ?5)
             ON CONFLICT (number) DO UPDATE SET data_json = excluded.data_json, updated_at = excluded.updated_at",
            params![number, id_number, application, serde_json::to_string(certificate)?, self.now()],
        )?;
        Ok(())
    }

    /// Has the certificate `number` left the `approved` state (its card written)?
    pub(crate) fn certificate_past_approval(&self, number: &CertificateNumber) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT state <> 'approved' FROM certificates WHERE number = ?1",
                params![number],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    /// Numbers of the live (approved, issued or suspended) certificates of the
    /// person `id_number`, leaving out `except`.
    pub(crate) fn other_live_certificates(
        &self,
        id_number: &str,
        except: &[&str],
    ) -> Result<Vec<String>> {
        let mut stmt = self.conn().prepare(
            "SELECT number FROM certificates WHERE id_number = ?1
             AND state IN ('approved', 'issued', 'suspended') ORDER BY number",
        )?;
        let numbers = stmt
            .query_map(params![id_number], |r| r.get::<_, String>(0))?
            .collect::<super::db::DbResult<Vec<_>>>()?;
        Ok(numbers
            .into_iter()
            .filter(|n| !except.contains(&n.as_str()))
            .collect())
    }

    /// Has certificate `number` ended (cancelled, void, replaced)? An unknown
    /// number has not.
    pub(crate) fn certificate_ended(&self, number: &CertificateNumber) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT state IN ('cancelled','void','replaced') FROM certificates WHERE number = ?1",
                params![number],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }
}
