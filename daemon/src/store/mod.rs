//! The station's SQLite store. WAL mode, versioned migrations, and one rule: every
//! change is one transaction together with its audit row and, where the registry
//! must hear of it, its outbox row ([`Store::write`]).

mod applications;
mod audit;
mod changes;
mod corrections;
mod deadlines;
mod jobs;
mod keys;
mod operators;
mod printing;
mod records;
mod schema;
mod sync_state;
mod views;

pub use applications::{
    application_photo_added, application_resubmitted, follow_up_refused, reapprove_withdrawn,
    record_applicant, send_back_requested, station_application, ApplicationState,
    StationApplication,
};
pub use audit::{
    integrity_check, newest_at, recent as recent_audit, verify_chain, AuditEntry, ChainReport,
};
pub use changes::{
    application_decided, applications_approved, insert_application, insert_review,
    insert_status_change, insert_succession, review_received, review_written,
    status_change_written,
};
pub use corrections::{
    correction, corrections, decide_correction, import_officer, CorrectionRow, CorrectionState,
    ImportedOfficer,
};
pub use deadlines::{certificates_in_use, open_filings, track_deadline, InUse, OpenFiling};
pub use jobs::{claim_job, claim_next_in_batch, interrupt_writing_jobs, open_job, withdraw_order};
pub use keys::{
    delete_trust_anchor, insert_sealed_key, put_trust_anchor, replace_trust_anchors, sealed_key,
    trust_anchor_texts,
};
pub use operators::*;
pub use printing::*;
pub use records::*;
pub use sync_state::{
    advance_feed_cursor, count_revocations, enrol, feed_cursor, is_unsent, mark_sent,
    outbox_backlog, record_attempt, revocation_number, set_revocation_number, sync_identity,
    sync_state_row, unsent_events, SyncIdentity, SyncStateRow,
};
pub use views::*;

use ecard_clock::Clock;
use ecard_sync_protocol::events::CertificateNumber;
use ecard_sync_protocol::events::EventBody;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("random generator failed")]
    Random,
    #[error("store lock poisoned")]
    Poisoned,
    /// A certificate number in the records that is not one (what goes out on the
    /// wire is a `CertificateNumber`, checked).
    #[error("stored certificate number is invalid: {0}")]
    BadNumber(#[from] ecard_domain::numbering::BadNumber),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What a refused change clashed with, as data: states are enums, numbers and names
/// are values. The words a person reads are made at the edge
/// (`crate::labels::conflict_zh`); `code()` is the stable name a program reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "conflict", rename_all = "snake_case")]
pub enum Conflict {
    /// Only an approved certificate without a card can be issued.
    NotIssuable {
        number: CertificateNumber,
        state: CertificateState,
    },
    /// The job is being written by another reader or is finished.
    JobNotResumable { job_id: i64 },
    /// Only a certificate in use (issued) can be reviewed.
    NotReviewable {
        number: CertificateNumber,
        state: CertificateState,
    },
    /// The certificate has no card in use.
    NoLiveCard { number: CertificateNumber },
    /// The year's review is already on record.
    ReviewExists { year: i32 },
    /// A unit's review marked at once found no certificate of the unit due.
    NothingDue { unit: String, year: i32 },
    /// A review year outside issue year ..= this year (the domain's rule).
    ReviewYear {
        #[serde(skip)]
        error: ecard_domain::validity::ReviewYearError,
    },
    /// The status change does not apply to the certificate's state.
    StatusChangeNotAllowed {
        state: CertificateState,
        kind: ecard_sync_protocol::events::StatusKind,
    },
    /// The certificate's state changed while the change was prepared.
    StateChanged { state: CertificateState },
    /// No status change is on record to write to the card.
    NoStatusChange { number: CertificateNumber },
    /// None of the certificate's cards can take its status.
    NoCardToWrite { number: CertificateNumber },
    /// The officer has no photo for the chip.
    NoChipPhoto { id_number: String },
    /// The user name is taken.
    UsernameTaken { username: String },
    /// The certificate number is already on record.
    NumberTaken { number: CertificateNumber },
    /// The certificate already has a live card, or the card is already recorded.
    CardAlreadyRecorded { certificate_id: i64, serial: String },
    /// The certificate already has an open job.
    JobOpen { certificate_id: i64 },
    /// The station's keys are already initialised.
    KeysExist,
    /// The correction was already approved or rejected.
    CorrectionDecided { id: i64, state: CorrectionState },
    /// The operator who imported a correction cannot decide it.
    CorrectionOwnRequest { id: i64 },
    /// The officer's record changed since the correction was made.
    CorrectionStale { id: i64 },
    /// The application is not in a state that allows this follow-up (edit and
    /// resubmit only after 退回, a photo only while pending, a send-back request
    /// only once approved).
    ApplicationState {
        id: i64,
        state: ApplicationState,
        follow_up: FollowUp,
    },
    /// A send-back was asked for already and the bureau has not answered.
    SendBackPending { id: i64 },
    /// An edit may not change this of the application (the person, the kind, a
    /// number the unit filled in): that is another application.
    ApplicationFieldFixed { id: i64, field: FixedField },
}

/// What the unit does to an application it sent (for the words of a refusal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    Resubmit,
    AddPhoto,
    RequestSendBack,
}

/// What an edit of an application may not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixedField {
    CitizenId,
    PrefilledNumber,
    /// A 换证/补证 is resubmitted as it was (a photo may be added).
    SuccessionForm,
}

impl Conflict {
    /// The stable snake_case name (the `conflict` field of an API error).
    pub fn code(&self) -> &'static str {
        match self {
            Conflict::NotIssuable { .. } => "not_issuable",
            Conflict::JobNotResumable { .. } => "job_not_resumable",
            Conflict::NotReviewable { .. } => "not_reviewable",
            Conflict::NoLiveCard { .. } => "no_live_card",
            Conflict::ReviewExists { .. } => "review_exists",
            Conflict::NothingDue { .. } => "nothing_due",
            Conflict::ReviewYear { .. } => "review_year_out_of_range",
            Conflict::StatusChangeNotAllowed { .. } => "status_change_not_allowed",
            Conflict::StateChanged { .. } => "state_changed",
            Conflict::NoStatusChange { .. } => "no_status_change",
            Conflict::NoCardToWrite { .. } => "no_card_to_write",
            Conflict::NoChipPhoto { .. } => "no_chip_photo",
            Conflict::UsernameTaken { .. } => "username_taken",
            Conflict::NumberTaken { .. } => "number_taken",
            Conflict::CardAlreadyRecorded { .. } => "card_already_recorded",
            Conflict::JobOpen { .. } => "job_open",
            Conflict::KeysExist => "keys_exist",
            Conflict::CorrectionDecided { .. } => "correction_decided",
            Conflict::CorrectionOwnRequest { .. } => "correction_own_request",
            Conflict::CorrectionStale { .. } => "correction_stale",
            Conflict::ApplicationState { .. } => "application_state",
            Conflict::SendBackPending { .. } => "send_back_pending",
            Conflict::ApplicationFieldFixed { .. } => "application_field_fixed",
        }
    }
}

impl From<Conflict> for StoreError {
    fn from(c: Conflict) -> Self {
        StoreError::Conflict(c)
    }
}

/// Maps a constraint violation (UNIQUE, CHECK) to [`StoreError::Conflict`] saying
/// what clashed; other errors pass through.
pub fn on_conflict(what: impl FnOnce() -> Conflict) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(what())
        }
        e => e.into(),
    }
}

pub fn random_id() -> Result<String> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| StoreError::Random)?;
    Ok(hex::encode(b))
}

pub struct Store {
    conn: Mutex<Connection>,
    /// The process's clock: every timestamp the store writes comes from it.
    clock: Clock,
}

impl Store {
    pub fn open(path: &Path, clock: Clock) -> Result<Self> {
        Self::init(Connection::open(path)?, clock)
    }

    pub fn open_in_memory(clock: Clock) -> Result<Self> {
        Self::init(Connection::open_in_memory()?, clock)
    }

    /// The clock this store stamps its rows with: the process's one clock.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    fn init(mut conn: Connection, clock: Clock) -> Result<Self> {
        // WAL: readers never block the writer; synchronous=FULL: a committed
        // transaction survives power loss, which is what "nothing lost" needs.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrations().to_latest(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            clock,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Runs `f` in one IMMEDIATE transaction; `f` records its audit (and outbox) rows
    /// through the [`Tx`]. Nothing is committed if `f` fails.
    pub fn write<T>(&self, actor: &str, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut wrapped = Tx {
            tx,
            actor: actor.to_owned(),
            now: self.clock.stamp(),
        };
        let out = f(&mut wrapped)?;
        wrapped.tx.commit()?;
        Ok(out)
    }

    /// Read-only access.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.lock()?;
        f(&conn)
    }

    pub fn verify_audit_chain(&self) -> Result<ChainReport> {
        self.read(audit::verify_chain)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| setting_in(c, key))
    }
}

/// A setting's value, read inside a transaction or read.
pub fn setting_in(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

/// A write transaction that knows who acts, so audit rows cannot be forgotten.
pub struct Tx<'c> {
    pub(crate) tx: rusqlite::Transaction<'c>,
    actor: String,
    /// The transaction's time (RFC 3339 UTC, ms), taken once from the store's clock:
    /// every row of one change carries the same timestamp.
    now: String,
}

impl Tx<'_> {
    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// This change's timestamp (see the field).
    pub fn now(&self) -> &str {
        &self.now
    }

    /// Appends the hash-chained audit row of this change.
    pub fn audit(&mut self, action: &str, subject: &str, detail: serde_json::Value) -> Result<i64> {
        audit::append(&self.tx, &self.now, &self.actor, action, subject, &detail)
    }

    /// Queues an event for the registry (delivered by the sync client): the
    /// protocol's own type, encoded as the registry decodes it.
    pub fn outbox(&mut self, body: &EventBody) -> Result<String> {
        let event_id = random_id()?;
        self.tx.execute(
            "INSERT INTO outbox (event_id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![event_id, body.kind(), body.payload().to_string(), self.now],
        )?;
        Ok(event_id)
    }

    /// An admin's change of a setting, with its audit row.
    pub fn change_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.set_setting(key, value)?;
        self.audit(
            "settings.changed",
            key,
            serde_json::json!({ "value": value }),
        )?;
        Ok(())
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}
