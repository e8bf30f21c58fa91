//! The registry's two database back ends behind one small API: SQLite (embedded,
//! the default) and PostgreSQL (a central department's server, issue #15).
//!
//! The storage modules write one SQL text for both. It is SQLite's (`?1` markers);
//! for PostgreSQL the markers become `$1` ([`to_postgres_markers`]) and each text
//! is prepared once per connection. Values cross as [`Value`]: integers are 64-bit
//! everywhere (the PostgreSQL schema has BIGINT where SQLite has INTEGER), booleans
//! are integers, text is text and bytes are bytes; a PostgreSQL parameter is encoded
//! for the type the server inferred for it. Rows are read whole, before the caller's
//! closure runs, so a closure may query again.
//!
//! Transactions are begun and ended here ([`Conn::begin`]). A write transaction
//! holds the database's one writer lock for its duration: SQLite's `BEGIN
//! IMMEDIATE`, PostgreSQL's transaction-scoped advisory lock [`WRITER_LOCK`]. So
//! two registry processes on one PostgreSQL database apply changes one at a time,
//! as one SQLite process does, and every sequence (feed cursors, list numbers,
//! certificate serials) is allocated in commit order.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// The PostgreSQL advisory lock key every write transaction takes (ASCII "ecard"
/// as a number): one writer at a time across every registry process.
pub const WRITER_LOCK: i64 = 0x0065_6361_7264;
/// Held (session-scoped) while migrations run, so two processes starting at once
/// do not both create the schema.
const MIGRATION_LOCK: i64 = WRITER_LOCK + 1;

#[derive(Debug, Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("the query returned no row")]
    NoRow,
    #[error("column {index}: {problem}")]
    Column { index: usize, problem: String },
    #[error("PostgreSQL column type {0} is not one the registry reads")]
    ColumnType(String),
    #[error("the database connection is in use by an unfinished call")]
    Busy,
}

pub type DbResult<T> = std::result::Result<T, DbError>;

/// The server's own words (SQLSTATE, message, detail): `postgres::Error`'s Display
/// says only "db error".
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!(
            "PostgreSQL {}: {}{}",
            d.code().code(),
            d.message(),
            d.detail().map(|x| format!(" ({x})")).unwrap_or_default()
        ),
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

impl DbError {
    /// A UNIQUE / PRIMARY KEY / CHECK / foreign key violation: what the input
    /// asked for cannot be stored, as opposed to the database failing.
    pub fn is_constraint(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::ConstraintViolation
            }
            // SQLSTATE class 23: integrity constraint violation.
            DbError::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }
}

/// Where the registry's records live (`--database`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite:PATH` (or a bare path): one file, WAL, `synchronous=FULL`.
    Sqlite(PathBuf),
    /// `postgres://…` / `postgresql://…` (libpq's URL form; `host=… dbname=…`
    /// key-value strings are accepted too).
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            s.parse::<postgres::Config>()
                .map_err(|e| format!("PostgreSQL URL: {e}"))?;
            return Ok(Self::Postgres(s.to_owned()));
        }
        let path = s.strip_prefix("sqlite:").unwrap_or(s);
        if path.is_empty() {
            return Err("empty database path".into());
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// Where files that go with the database are put by default (the admin token,
    /// the TLS certificate and key, beside it with their own extensions): the
    /// SQLite file, or the packages' state directory for PostgreSQL.
    pub fn file_base(&self) -> PathBuf {
        match self {
            Self::Sqlite(p) => p.clone(),
            Self::Postgres(_) => PathBuf::from("/var/lib/ecard-registry/registry.db"),
        }
    }

    /// For messages: the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, tail) = match rest.split_once('@') {
        Some((auth, tail)) => (auth, tail),
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{tail}"),
        None => url.to_owned(),
    }
}

/// One value crossing to or from the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A Rust value as a statement parameter.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

/// A column read back into a Rust value.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self, String>;
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }
        }
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self, String> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).map_err(|e| format!("{i}: {e}")),
                    other => Err(format!("expected an integer, found {other:?}")),
                }
            }
        }
    )*};
}
int_to_value!(i64, i32, i16, u32, u16, u8);

/// Cursors, sequence numbers and counts: far below 2^63 in any registry; a larger
/// one is stored as the largest, never as a negative.
macro_rules! wide_int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self, String> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).map_err(|e| format!("{i}: {e}")),
                    other => Err(format!("expected an integer, found {other:?}")),
                }
            }
        }
    )*};
}
wide_int_to_value!(u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i != 0),
            other => Err(format!("expected a boolean, found {other:?}")),
        }
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Real(f) => Ok(*f),
            // Integer-valued aggregates come back as integers from SQLite.
            Value::Int(i) => Ok(*i as f64),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(format!("expected bytes, found {other:?}")),
        }
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl FromValue for Value {
    fn from_value(v: &Value) -> Result<Self, String> {
        Ok(v.clone())
    }
}
impl ToValue for ecard_domain::numbering::CertificateNumber {
    fn to_value(&self) -> Value {
        Value::Text(self.as_str().to_owned())
    }
}
/// A stored number is checked as it is read, like one from the wire.
impl FromValue for ecard_domain::numbering::CertificateNumber {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Self::parse(s).map_err(|e| e.to_string()),
            other => Err(format!("expected a certificate number, found {other:?}")),
        }
    }
}

/// Statement parameters: `params![a, b]`.
#[macro_export]
macro_rules! db_params {
    () => { &[] as &[&dyn $crate::storage::db::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::storage::db::ToValue),+] as &[&dyn $crate::storage::db::ToValue] };
}
pub use crate::db_params as params;

/// A result row, read whole.
#[derive(Debug, Clone)]
pub struct Row {
    values: Vec<Value>,
}

/// A column position (SQLite-style `r.get::<_, T>(0)` keeps compiling).
pub trait ColumnIndex {
    fn index(self) -> usize;
}
impl ColumnIndex for usize {
    fn index(self) -> usize {
        self
    }
}

impl Row {
    pub fn get<I: ColumnIndex, T: FromValue>(&self, idx: I) -> DbResult<T> {
        let index = idx.index();
        let v = self.values.get(index).ok_or_else(|| DbError::Column {
            index,
            problem: "no such column".into(),
        })?;
        T::from_value(v).map_err(|problem| DbError::Column { index, problem })
    }
}

/// `.optional()` on a single-row query: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> DbResult<Option<T>>;
}
impl<T> OptionalExtension<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRow) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What kind of transaction [`Conn::begin`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    /// Changes: the one writer lock, statements see every earlier commit.
    Write,
    /// Reads: one consistent snapshot, no lock.
    Read,
}

/// One connection to either back end. Methods take `&self` (PostgreSQL's client
/// needs `&mut`, kept in a `RefCell`: the connection is used by one thread at a
/// time, behind `Storage`'s mutex).
pub struct Conn {
    inner: Inner,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    // Boxed: the client and its statement cache are large beside SQLite's handle.
    Postgres(Box<RefCell<Pg>>),
}

struct Pg {
    config: postgres::Config,
    client: postgres::Client,
    /// Each SQL text prepared once per connection (PostgreSQL's parse and plan).
    statements: HashMap<String, postgres::Statement>,
}

/// How long a connection attempt may take when the URL does not say.
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Pg {
    fn connect(config: &postgres::Config) -> DbResult<postgres::Client> {
        Ok(config.connect(postgres::NoTls)?)
    }

    fn statement(&mut self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self
            .client
            .prepare(&to_postgres_markers(sql))
            .inspect_err(|e| {
                // Which statement the server could not take: said once, where it fails.
                tracing::error!(sql, error = %postgres_message(e), "PostgreSQL refused a statement");
            })?;
        self.statements.insert(sql.to_owned(), st.clone());
        Ok(st)
    }
}

impl Conn {
    pub fn sqlite(conn: rusqlite::Connection) -> Self {
        Self {
            inner: Inner::Sqlite(conn),
        }
    }

    /// Connects to PostgreSQL at `url` (a 10 s connect timeout unless it says).
    pub fn postgres(url: &str) -> DbResult<Self> {
        let mut config: postgres::Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(PG_CONNECT_TIMEOUT);
        }
        config.application_name("ecard-registry");
        let client = Pg::connect(&config)?;
        Ok(Self {
            inner: Inner::Postgres(Box::new(RefCell::new(Pg {
                config,
                client,
                statements: HashMap::new(),
            }))),
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.inner, Inner::Postgres(_))
    }

    /// The SQLite connection, for SQLite-only work (its migrations, pragmas).
    pub fn as_sqlite_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        match &mut self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    fn pg(cell: &RefCell<Pg>) -> DbResult<std::cell::RefMut<'_, Pg>> {
        cell.try_borrow_mut().map_err(|_| DbError::Busy)
    }

    /// Starts a transaction. PostgreSQL: a connection the server closed (a restart,
    /// a failover) is opened anew first, so the request after an outage works.
    pub fn begin(&self, kind: TxKind) -> DbResult<()> {
        match &self.inner {
            Inner::Sqlite(c) => c.execute_batch(match kind {
                TxKind::Write => "BEGIN IMMEDIATE",
                TxKind::Read => "BEGIN DEFERRED",
            })?,
            Inner::Postgres(cell) => {
                let mut pg = Self::pg(cell)?;
                if pg.client.is_closed() {
                    tracing::warn!("PostgreSQL connection lost; connecting again");
                    pg.statements.clear();
                    pg.client = Pg::connect(&pg.config)?;
                }
                match kind {
                    // READ COMMITTED: each statement sees what committed before it,
                    // so everything after the lock sees the previous writer's work.
                    TxKind::Write => pg.client.batch_execute(&format!(
                        "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITER_LOCK})"
                    ))?,
                    TxKind::Read => pg
                        .client
                        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")?,
                }
            }
        }
        Ok(())
    }

    pub fn commit(&self) -> DbResult<()> {
        self.execute_batch("COMMIT")
    }

    /// Best effort: a failed rollback leaves nothing committed either (SQLite
    /// rolls back on the next BEGIN's failure; PostgreSQL drops the connection).
    pub fn rollback(&self) {
        if let Err(e) = self.execute_batch("ROLLBACK") {
            tracing::warn!(error = %e, "rollback failed");
        }
    }

    pub fn execute_batch(&self, sql: &str) -> DbResult<()> {
        match &self.inner {
            Inner::Sqlite(c) => c.execute_batch(sql)?,
            Inner::Postgres(cell) => Self::pg(cell)?.client.batch_execute(sql)?,
        }
        Ok(())
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> DbResult<usize> {
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        match &self.inner {
            Inner::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(values.iter()))?)
            }
            Inner::Postgres(cell) => {
                let mut pg = Self::pg(cell)?;
                let st = pg.statement(sql)?;
                let wrapped: Vec<PgParam<'_>> = values.iter().map(PgParam).collect();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = wrapped
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let n = pg.client.execute(&st, &refs)?;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        }
    }

    /// Every row of a query, read whole.
    pub fn rows(&self, sql: &str, params: &[&dyn ToValue]) -> DbResult<Vec<Row>> {
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        match &self.inner {
            Inner::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(values.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut vals = Vec::with_capacity(n);
                    for i in 0..n {
                        vals.push(from_sqlite(r.get_ref(i)?));
                    }
                    out.push(Row { values: vals });
                }
                Ok(out)
            }
            Inner::Postgres(cell) => {
                let mut pg = Self::pg(cell)?;
                let st = pg.statement(sql)?;
                let wrapped: Vec<PgParam<'_>> = values.iter().map(PgParam).collect();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = wrapped
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let rows = pg.client.query(&st, &refs)?;
                drop(pg);
                rows.iter().map(from_postgres).collect()
            }
        }
    }

    /// The first row through `f`; [`DbError::NoRow`] when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> DbResult<T>,
    ) -> DbResult<T> {
        let rows = self.rows(sql, params)?;
        let first = rows.first().ok_or(DbError::NoRow)?;
        f(first)
    }

    /// Every row through `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnMut(&Row) -> DbResult<T>,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>> {
        let rows = self.rows(sql, params)?;
        Ok(rows.iter().map(f).collect::<Vec<_>>().into_iter())
    }

    /// A statement to run, SQLite-style (`prepare`/`prepare_cached` are the same
    /// here: both back ends keep each text prepared).
    pub fn prepare(&self, sql: &str) -> DbResult<Stmt<'_>> {
        Ok(Stmt {
            conn: self,
            sql: sql.to_owned(),
        })
    }

    pub fn prepare_cached(&self, sql: &str) -> DbResult<Stmt<'_>> {
        self.prepare(sql)
    }
}

/// A statement bound to its connection (see [`Conn::prepare`]).
pub struct Stmt<'c> {
    conn: &'c Conn,
    sql: String,
}

impl Stmt<'_> {
    pub fn execute(&mut self, params: &[&dyn ToValue]) -> DbResult<usize> {
        self.conn.execute(&self.sql, params)
    }

    pub fn query_row<T>(
        &mut self,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> DbResult<T>,
    ) -> DbResult<T> {
        self.conn.query_row(&self.sql, params, f)
    }

    pub fn query_map<T>(
        &mut self,
        params: &[&dyn ToValue],
        f: impl FnMut(&Row) -> DbResult<T>,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>> {
        self.conn.query_map(&self.sql, params, f)
    }

    pub fn exists(&mut self, params: &[&dyn ToValue]) -> DbResult<bool> {
        Ok(!self.conn.rows(&self.sql, params)?.is_empty())
    }
}

fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl rusqlite::types::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn from_postgres(row: &postgres::Row) -> DbResult<Row> {
    use postgres::types::Type;
    let mut values = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?
                .map_or(Value::Null, Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map_or(Value::Null, |v| Value::Int(v.into()))
        } else if *ty == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)?
                .map_or(Value::Null, Value::Real)
        } else if *ty == Type::FLOAT4 {
            row.try_get::<_, Option<f32>>(i)?
                .map_or(Value::Null, |v| Value::Real(v.into()))
        } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
            row.try_get::<_, Option<String>>(i)?
                .map_or(Value::Null, Value::Text)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Value::Null, Value::Blob)
        } else {
            return Err(DbError::ColumnType(ty.name().to_owned()));
        };
        values.push(v);
    }
    Ok(Row { values })
}

/// A [`Value`] encoded for the type PostgreSQL inferred for its parameter.
#[derive(Debug)]
struct PgParam<'a>(&'a Value);

impl postgres::types::ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        let text_like = [
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::NAME,
            Type::UNKNOWN,
        ];
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => {
                if *ty == Type::INT8 {
                    i.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*i != 0).to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (*i as f64).to_sql(ty, out)
                } else if text_like.contains(ty) {
                    // SQLite stores an integer given for a TEXT column as its digits.
                    i.to_string().as_str().to_sql(ty, out)
                } else {
                    Err(format!("an integer for a parameter of type {ty}").into())
                }
            }
            Value::Real(f) => {
                if *ty == Type::FLOAT8 {
                    f.to_sql(ty, out)
                } else if *ty == Type::FLOAT4 {
                    (*f as f32).to_sql(ty, out)
                } else {
                    Err(format!("a real for a parameter of type {ty}").into())
                }
            }
            Value::Text(s) => {
                if text_like.contains(ty) {
                    s.as_str().to_sql(ty, out)
                } else {
                    Err(format!("text for a parameter of type {ty}").into())
                }
            }
            Value::Blob(b) => {
                if *ty == Type::BYTEA {
                    b.as_slice().to_sql(ty, out)
                } else {
                    Err(format!("bytes for a parameter of type {ty}").into())
                }
            }
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// SQLite's parameter markers as PostgreSQL's: `?N` → `$N`, a bare `?` → the next
/// number (SQLite numbers it one past the largest so far). Quoted text and
/// identifiers are left alone.
pub fn to_postgres_markers(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut largest = 0u32;
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                let n = match digits.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => largest + 1,
                };
                largest = largest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            c => out.push(c),
        }
    }
    out
}

/// Runs `migrations` (in order, version = position + 1) that this PostgreSQL
/// database has not had, each in its own transaction, recorded in
/// `schema_migrations`; under a session advisory lock so that two processes
/// starting together migrate once.
pub fn migrate_postgres(conn: &Conn, migrations: &[&str]) -> DbResult<()> {
    conn.execute_batch(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let result = (|| {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )?;
        let done: i64 = conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            params![],
            |r| r.get(0),
        )?;
        for (i, sql) in migrations.iter().enumerate() {
            let version = i64::try_from(i + 1).unwrap_or(i64::MAX);
            if version <= done {
                continue;
            }
            conn.execute_batch("BEGIN")?;
            let step = conn.execute_batch(sql).and_then(|()| {
                conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES (?1)",
                    params![version],
                )
                .map(drop)
            });
            match step {
                Ok(()) => conn.commit()?,
                Err(e) => {
                    conn.rollback();
                    return Err(e);
                }
            }
        }
        Ok(())
    })();
    let unlock = conn.execute_batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    result.and(unlock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_numbered_dollars_outside_quotes() {
        assert_eq!(
            to_postgres_markers("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = '?3'"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 AND d = '?3'"
        );
        assert_eq!(
            to_postgres_markers("VALUES (?, ?, ?2, ?)"),
            "VALUES ($1, $2, $2, $3)"
        );
        assert_eq!(
            to_postgres_markers("x = \"?\" OR y = ?"),
            "x = \"?\" OR y = $1"
        );
    }

    #[test]
    fn database_urls_name_their_back_end() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:/var/lib/r.db"),
            Ok(DatabaseUrl::Sqlite("/var/lib/r.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("/tmp/r.db"),
            Ok(DatabaseUrl::Sqlite("/tmp/r.db".into()))
        );
        let pg =
            DatabaseUrl::parse("postgres://ecard:s3cret@db.example:5432/registry").expect("url");
        assert!(matches!(pg, DatabaseUrl::Postgres(_)));
        assert_eq!(
            pg.display(),
            "postgres://ecard:***@db.example:5432/registry"
        );
        assert!(DatabaseUrl::parse("sqlite:").is_err());
        assert!(DatabaseUrl::parse("postgres://host:notaport/db").is_err());
    }

    #[test]
    fn values_round_trip_through_sqlite() {
        let conn = Conn::sqlite(rusqlite::Connection::open_in_memory().expect("db"));
        conn.execute_batch("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n TEXT)")
            .expect("table");
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
            params![42u32, "川", vec![1u8, 2], None::<String>],
        )
        .expect("insert");
        let (i, s, b, n): (u32, String, Vec<u8>, Option<String>) = conn
            .query_row("SELECT i, s, b, n FROM t", params![], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .expect("row");
        assert_eq!((i, s.as_str(), b, n), (42, "川", vec![1, 2], None));
        let none = conn
            .query_row("SELECT i FROM t WHERE i = 7", params![], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .expect("query");
        assert_eq!(none, None);
        // A negative stored where a u32 is read is an error, not a wrap.
        conn.execute("UPDATE t SET i = -1", params![])
            .expect("update");
        assert!(conn
            .query_row("SELECT i FROM t", params![], |r| r.get::<_, u32>(0))
            .is_err());
    }
}
