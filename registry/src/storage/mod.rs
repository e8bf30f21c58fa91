//! All of the registry's storage, behind one type ([`Storage`]): SQLite in WAL mode
//! with `synchronous=FULL` (a committed batch survives a crash or power loss).
//! Nothing outside this module sees SQL, so a PostgreSQL back end would replace
//! this module only. It persists and queries; the decisions (who may file or
//! decide, which transition, when a number is allocated) are `crate::workflow`'s,
//! which calls in here ([`Storage::transaction`] and the `Tx` adapters) and which
//! this module never imports: ingest reaches it only through [`IngestHooks`].
//!
//! Every change runs in one IMMEDIATE transaction ([`Storage::write`]); the
//! revocation entries a change adds get their list number when it commits.

mod accounts;
mod applications;
mod authority;
pub mod db;
mod feed;
mod ingest;
pub mod inspect;
mod intake;
mod materials;
mod numbers;
mod public;
mod revocations;
mod schema;
mod signers;
mod stations;
mod trust;
mod web;

pub use accounts::{Account, Role, Unit};
pub use applications::{decide_by, AppState, ApplicationRecord, ApplicationRow, Level, NewUnit};
/// A station event refused for what it says (the workflow refuses follow-ups too).
pub use authority::{codes as refusal_codes, Refusal};
pub(crate) use authority::{prefilled_number, unit_codes};
pub use ingest::RefusedEvent;
pub use intake::{StationApplication, StationRow};
pub use materials::MaterialInfo;
pub use public::{PublicState, PublicStatus};
pub use stations::Station;
pub use web::{AccountListing, AppCount, Decision, MonthCount, WebSession};

use db::{Conn, DatabaseUrl, DbError, TxKind};
use ecard_clock::Clock;
use ecard_domain::province::ProvinceConfig;
use ecard_sync_protocol::feed::FeedBody;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sql(#[from] DbError),
    #[error("migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id} already exists")]
    Exists { what: &'static str, id: String },
    #[error("sequence gap: expected {expected}, got {got}")]
    SequenceGap { expected: u64, got: u64 },
    #[error("event {seq} was applied with another event id")]
    SeqConflict { seq: u64 },
    #[error("event id {0} already used by another event")]
    EventIdReused(String),
    #[error("nonce already used")]
    Replayed,
    /// A status change that does not apply to the certificate's state
    /// (`StatusKind::applies_to`, the one table).
    #[error("status change {kind:?} does not apply to certificate {number} in state {state:?}")]
    BadTransition {
        number: String,
        state: ecard_sync_protocol::state::CertificateState,
        kind: ecard_sync_protocol::events::StatusKind,
    },
    /// Bad input from a user; the text is the Chinese message.
    #[error("{0}")]
    Invalid(String),
    #[error("storage lock poisoned")]
    Poisoned,
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// True when `e` is a UNIQUE / PRIMARY KEY / CHECK violation.
fn is_constraint(e: &DbError) -> bool {
    e.is_constraint()
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(DbError::Sqlite(e))
    }
}

pub struct Storage {
    conn: Mutex<Conn>,
    /// The process's one clock: every date and timestamp the registry writes.
    clock: Clock,
    /// The province's rules (numbering, photos, retirement, review deadline),
    /// loaded at start (`--province-config`); the shipped Sichuan ones by default.
    province: Arc<ProvinceConfig>,
}

/// A write transaction. Revocation entries added through it are numbered on commit.
pub struct Tx<'c> {
    conn: &'c Conn,
    revocations_added: bool,
    /// This change's time (RFC 3339 UTC, ms) and date, taken once from the clock.
    now: String,
    today: chrono::NaiveDate,
    province: Arc<ProvinceConfig>,
}

impl Tx<'_> {
    fn conn(&self) -> &Conn {
        self.conn
    }

    fn now(&self) -> &str {
        &self.now
    }

    /// This change's date, from the registry's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.today
    }

    /// The province's rules this registry was started with.
    pub fn province(&self) -> &ProvinceConfig {
        &self.province
    }

    /// Puts `body` in the feed: for the stations serving `region` (all when
    /// `None`), except `except`.
    pub(crate) fn push_feed(
        &self,
        body: &FeedBody,
        region: Option<&str>,
        except: Option<&str>,
    ) -> Result<()> {
        feed::push(self, body, region, except).map(drop)
    }
}

/// What ingest leaves to the workflow, called inside the ingest's transaction:
/// the port through which storage reaches the rules without depending on them.
pub trait IngestHooks {
    /// A station's application was recorded as station application `id`, naming
    /// the unit `unit`: file it, or note why it waits.
    fn station_application(&self, tx: &mut Tx<'_>, id: i64, unit: &str) -> Result<()>;
    /// A certificate number allocated elsewhere (a station, a replacement) was seen.
    fn number_seen(
        &self,
        tx: &Tx<'_>,
        number: &ecard_sync_protocol::events::CertificateNumber,
    ) -> Result<()>;
    /// The region code a certificate number names under the numbering rule
    /// (`None`: not a number of the rule): what a station may introduce.
    fn number_region(&self, number: &str) -> Option<String>;
    /// A station's follow-up to an application it sent (`application_amended`,
    /// `send_back_requested`): applied, or the refusal, in which case nothing was
    /// changed (the workflow checks everything before it writes).
    fn station_follow_up(
        &self,
        tx: &mut Tx<'_>,
        station: &str,
        body: &ecard_sync_protocol::events::EventBody,
    ) -> Result<Option<Refusal>>;
}

impl Storage {
    /// A SQLite database file (made when missing).
    pub fn open(path: &Path, clock: Clock) -> Result<Self> {
        Self::init_sqlite(rusqlite::Connection::open(path)?, clock)
    }

    pub fn open_in_memory(clock: Clock) -> Result<Self> {
        Self::init_sqlite(rusqlite::Connection::open_in_memory()?, clock)
    }

    /// The database `url` names (`--database`): a SQLite file or a PostgreSQL
    /// database, migrated to the current schema.
    pub fn open_url(url: &DatabaseUrl, clock: Clock) -> Result<Self> {
        match url {
            DatabaseUrl::Sqlite(path) => Self::open(path, clock),
            DatabaseUrl::Postgres(url) => {
                let conn = Conn::postgres(url)?;
                schema::postgres::check_collation(&conn)?;
                db::migrate_postgres(&conn, schema::postgres::MIGRATIONS)?;
                Self::init(conn, clock)
            }
        }
    }

    /// True when the records are on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.lock().is_ok_and(|c| c.is_postgres())
    }

    /// The registry's one clock.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Uses `province`'s rules instead of the shipped Sichuan ones.
    pub fn with_province(mut self, province: Arc<ProvinceConfig>) -> Self {
        self.province = province;
        self
    }

    /// The province's rules this registry was started with.
    pub fn province(&self) -> &Arc<ProvinceConfig> {
        &self.province
    }

    fn init_sqlite(mut conn: rusqlite::Connection, clock: Clock) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrations().to_latest(&mut conn)?;
        Self::init(Conn::sqlite(conn), clock)
    }

    fn init(conn: Conn, clock: Clock) -> Result<Self> {
        let storage = Self {
            conn: Mutex::new(conn),
            clock,
            province: Arc::new(ProvinceConfig::sichuan()),
        };
        storage.learn_signers_of_earlier_cards()?;
        Ok(storage)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Conn>> {
        self.conn.lock().map_err(|_| StorageError::Poisoned)
    }

    /// Runs `f` in one IMMEDIATE transaction; nothing is kept if `f` fails.
    fn write<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        self.transaction(f)
    }

    /// Runs `f` in one IMMEDIATE transaction; nothing is kept if `f` fails. For the
    /// workflow's orchestrations, whose errors wrap [`StorageError`].
    pub fn transaction<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self.lock()?;
        conn.begin(TxKind::Write).map_err(StorageError::from)?;
        let moment = self.clock.frozen_now();
        let mut wrapped = Tx {
            conn: &conn,
            revocations_added: false,
            now: moment.stamp(),
            today: moment.today(),
            province: Arc::clone(&self.province),
        };
        let done = f(&mut wrapped).and_then(|out| {
            if wrapped.revocations_added {
                revocations::number_pending(&wrapped)?;
            }
            conn.commit().map_err(StorageError::from)?;
            Ok(out)
        });
        if done.is_err() {
            conn.rollback();
        }
        done
    }

    /// Read access inside one transaction (a consistent snapshot: SQLite's WAL,
    /// PostgreSQL's REPEATABLE READ).
    fn read<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        let conn = self.lock()?;
        conn.begin(TxKind::Read)?;
        let out = f(&conn).and_then(|out| {
            conn.commit()?;
            Ok(out)
        });
        if out.is_err() {
            conn.rollback();
        }
        out
    }
}

/// A fresh store for the storage's unit tests: a PostgreSQL database of its own on
/// a PostgreSQL run (`ECARD_TEST_POSTGRES`, scripts/test-registry-postgres.sh), an
/// in-memory SQLite one otherwise. The PostgreSQL database is left to the
/// throwaway cluster (dropping it would need the test to keep a guard alive).
#[cfg(test)]
pub(crate) fn test_storage(clock: Clock) -> Storage {
    match ecard_test_support::postgres::fresh_database() {
        Some(pg) => {
            let url = DatabaseUrl::Postgres(pg.url.clone());
            std::mem::forget(pg);
            Storage::open_url(&url, clock).expect("test database")
        }
        None => Storage::open_in_memory(clock).expect("db"),
    }
}
