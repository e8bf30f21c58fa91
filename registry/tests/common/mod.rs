//! Test harness: the real `ecard-registry` binary on loopback, enrolled stations
//! with real keys, and a tiny JSON helper for the admin and workflow APIs.
#![allow(clippy::unwrap_used, dead_code)]

use card_profile::pki::SigningKey;
pub use ecard_registry::storage::db::Conn;
use ecard_registry::storage::db::{DbResult, Row, ToValue, Value as DbValue};
use ecard_sync_protocol::client::{http_client, RegistryClient};
use ecard_sync_protocol::events::{EventBody, StationEvent};
use ecard_test_support::registry::{RegistryOptions, RegistryProcess};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

pub const BIN: &str = env!("CARGO_BIN_EXE_ecard-registry");

/// The date these tests mean: the registry processes they start run on it
/// (ECARD_TODAY), and so do the clients.
pub fn test_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// The clock of this test process's side (the stations): the same day as the registry.
pub fn clock() -> ecard_clock::Clock {
    ecard_clock::Clock::starting_on(test_day())
}

/// A registry process (ecard_test_support::registry) with its admin token.
pub struct Registry {
    process: RegistryProcess,
    pub admin_token: String,
}

impl std::ops::Deref for Registry {
    type Target = RegistryProcess;
    fn deref(&self) -> &RegistryProcess {
        &self.process
    }
}

impl std::ops::DerefMut for Registry {
    fn deref_mut(&mut self) -> &mut RegistryProcess {
        &mut self.process
    }
}

impl Registry {
    pub fn start() -> Self {
        let process = RegistryProcess::start(
            Path::new(BIN),
            clock(),
            RegistryOptions {
                admin_token: true,
                ..RegistryOptions::default()
            },
        );
        assert!(process.url.starts_with("https://"), "{}", process.url);
        Self {
            admin_token: process.admin_token(),
            process,
        }
    }

    /// [`Registry::start`] with the province configuration `json`.
    pub fn start_with_province(json: &str) -> Self {
        let process = RegistryProcess::start_with_province(
            Path::new(BIN),
            clock(),
            RegistryOptions {
                admin_token: true,
                ..RegistryOptions::default()
            },
            json,
        );
        Self {
            admin_token: process.admin_token(),
            process,
        }
    }

    /// A second registry process on this one's PostgreSQL database, with its key
    /// (two processes behind a load balancer).
    pub fn start_beside(first: &Registry) -> Self {
        let process = RegistryProcess::start_beside(&first.process);
        Self {
            admin_token: process.admin_token(),
            process,
        }
    }

    /// Starts the binary again (after `kill`), on a new port, with the same files.
    pub fn spawn(&mut self) {
        self.process.spawn_on("127.0.0.1:0");
    }

    /// Enrolls a station through the CLI; returns a client signing with its key.
    pub fn enroll(&self, id: &str, region: Option<&str>) -> (RegistryClient, Arc<SigningKey>) {
        let key = Arc::new(SigningKey::generate().unwrap());
        let pk = hex::encode(key.public_key());
        let mut args = vec!["station", "add", "--name", id, "--public-key", &pk];
        if let Some(r) = region {
            args.extend(["--region", r]);
        }
        let out = self.cli(&args);
        assert!(
            out.status.success(),
            "station add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            RegistryClient::new(&self.url, id, key.clone(), clock(), self.tls).unwrap(),
            key,
        )
    }

    /// Opens its database, SQLite or PostgreSQL (for content checks; read-only on
    /// SQLite), through the registry's own storage layer.
    pub fn open_db(&self) -> TestDb {
        TestDb::new(match self.postgres() {
            Some(pg) => off_runtime(|| Conn::postgres(&pg.url)).unwrap(),
            None => Conn::sqlite(
                rusqlite::Connection::open_with_flags(
                    self.db(),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap(),
            ),
        })
    }

    /// Opens its database for a test's own change (an old row, a lost photo).
    pub fn open_db_rw(&self) -> TestDb {
        TestDb::new(match self.postgres() {
            Some(pg) => off_runtime(|| Conn::postgres(&pg.url)).unwrap(),
            None => Conn::sqlite(rusqlite::Connection::open(self.db()).unwrap()),
        })
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        call(self, &self.admin_token, method, path, body).await
    }

    pub async fn last_applied(&self, station: &str) -> u64 {
        let (status, list) = self
            .admin(reqwest::Method::GET, "/api/v1/admin/stations", Value::Null)
            .await;
        assert_eq!(status, 200);
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == station)
            .map(|s| s["last_applied_seq"].as_u64().unwrap())
            .unwrap()
    }
}

/// One JSON call with a bearer token; returns (status, body).
pub async fn call(
    reg: &Registry,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut req = http_client(&reg.url, reg.tls)
        .unwrap()
        .request(method, format!("{}{path}", reg.url))
        .bearer_auth(token);
    if !body.is_null() {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The `n`th (from 1) valid number of the shipped rule in region 川X01,
/// department 02: a number the registry can place in a region, as a station may
/// only report numbers of its own region (storage/authority.rs).
pub fn test_number(n: u64) -> String {
    static NUMBERS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = NUMBERS.get_or_init(|| {
        let rule = ecard_domain::numbering::NumberingRule::sichuan_default().unwrap();
        let mut out = Vec::new();
        let mut last = None;
        while let Ok(number) = rule.next_number("川X01", "02", last) {
            last = Some(rule.parse(&number).unwrap().serial);
            out.push(number);
        }
        out
    });
    all[(n - 1) as usize].clone()
}

/// A `card_issued` event as ecardd's outbox would hold it (a number of 川X01).
pub fn issued_event(seq: u64, station: &str) -> StationEvent {
    let payload = serde_json::json!({
        "number": test_number(seq), "serial": format!("{:016X}", seq),
        "chip_key": "04".repeat(65), "sod": "30".repeat(200), "issued_on": "2026-11-23",
        "id_number": "11010519850601002X",
    });
    let body = EventBody::decode("card_issued", &payload).unwrap();
    StationEvent::new(
        format!("{station}-{seq:08}"),
        seq,
        &body,
        "2026-11-23T10:00:00.000Z",
    )
}

pub fn events(from: u64, to: u64, station: &str) -> Vec<StationEvent> {
    (from..=to).map(|s| issued_event(s, station)).collect()
}

pub fn path_exists(p: &Path) -> bool {
    p.exists()
}

/// One feed page, verified with the registry key fetched from the registry itself
/// (as a station pins it at enrolment).
pub async fn feed_of(
    client: &RegistryClient,
    after: u64,
    limit: u32,
) -> Result<ecard_sync_protocol::feed::FeedPage, ecard_sync_protocol::client::ClientError> {
    let key = client.registry_key().await?.public_key()?;
    client.feed(after, limit, &key).await
}

/// Runs `f` on a thread of its own: PostgreSQL's synchronous client may not block
/// inside the tests' async runtime (the registry itself calls it on blocking
/// threads only).
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// The registry's database opened by a test, SQLite or PostgreSQL, with the calls
/// of [`Conn`] run off the async runtime.
pub struct TestDb(std::sync::Mutex<Option<Conn>>);

impl TestDb {
    fn new(conn: Conn) -> Self {
        Self(std::sync::Mutex::new(Some(conn)))
    }

    fn run<T: Send>(&self, f: impl FnOnce(&Conn) -> T + Send) -> T {
        let mut slot = self.0.lock().unwrap();
        let conn = slot.take().unwrap();
        let (conn, out) = off_runtime(move || {
            let out = f(&conn);
            (conn, out)
        });
        *slot = Some(conn);
        out
    }

    fn values(params: &[&dyn ToValue]) -> Vec<DbValue> {
        params.iter().map(|p| p.to_value()).collect()
    }

    pub fn query_row<T: Send>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> DbResult<T> + Send,
    ) -> DbResult<T> {
        let values = Self::values(params);
        self.run(move |c| {
            let refs: Vec<&dyn ToValue> = values.iter().map(|v| v as &dyn ToValue).collect();
            c.query_row(sql, &refs, f)
        })
    }

    pub fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> DbResult<usize> {
        let values = Self::values(params);
        self.run(move |c| {
            let refs: Vec<&dyn ToValue> = values.iter().map(|v| v as &dyn ToValue).collect();
            c.execute(sql, &refs)
        })
    }

    pub fn prepare<'a>(&'a self, sql: &'a str) -> DbResult<TestStmt<'a>> {
        Ok(TestStmt { db: self, sql })
    }
}

impl Drop for TestDb {
    /// Closing a PostgreSQL client blocks too.
    fn drop(&mut self) {
        if let Some(conn) = self.0.get_mut().ok().and_then(Option::take) {
            off_runtime(move || drop(conn));
        }
    }
}

pub struct TestStmt<'a> {
    db: &'a TestDb,
    sql: &'a str,
}

impl TestStmt<'_> {
    pub fn query_map<T: Send>(
        &mut self,
        params: &[&dyn ToValue],
        f: impl FnMut(&Row) -> DbResult<T> + Send,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>> {
        let values = TestDb::values(params);
        let sql = self.sql;
        self.db.run(move |c| {
            let refs: Vec<&dyn ToValue> = values.iter().map(|v| v as &dyn ToValue).collect();
            c.query_map(sql, &refs, f)
                .map(|rows| rows.collect::<Vec<_>>().into_iter())
        })
    }
}
