//! Test harness: the real `ecard-registry` binary on loopback, enrolled stations
//! with real keys, and a tiny JSON helper for the admin and workflow APIs.
#![allow(clippy::unwrap_used, dead_code)]

use card_profile::pki::SigningKey;
use ecard_sync_protocol::client::{http_client, RegistryClient, RegistryTls};
use ecard_sync_protocol::events::{EventBody, StationEvent};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

/// A registry process with its files in a temporary directory.
pub struct Registry {
    child: Option<Child>,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub admin_token: String,
    /// The registry certificate's pin, read from its start-up output.
    pub tls: RegistryTls,
}

impl Registry {
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("registry.db")
    }

    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry {
            child: None,
            url: String::new(),
            dir,
            admin_token: String::new(),
            tls: RegistryTls::InsecureLoopbackHttp,
        };
        r.spawn();
        r.admin_token = std::fs::read_to_string(r.dir.path().join("admin.token"))
            .unwrap()
            .trim()
            .to_owned();
        r
    }

    /// Starts the binary and waits for its announcement line.
    pub fn spawn(&mut self) {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .arg("--db")
            .arg(self.db())
            .arg("--key-file")
            .arg(self.dir.path().join("registry.key"))
            .arg("--admin-token-file")
            .arg(self.dir.path().join("admin.token"))
            .env("RUST_LOG", "warn")
            .env(ecard_clock::TODAY_ENV, clock().env_value())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // TLS: the certificate pin comes first (what an operator hands to stations),
        // then the address.
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let pin = line
            .trim()
            .strip_prefix("ecard-registry tls certificate sha256: ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        self.tls = RegistryTls::from_setting(&pin).unwrap();
        line.clear();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("ecard-registry listening: ")
            .unwrap_or_else(|| panic!("unexpected second line {line:?}"))
            .to_owned();
        assert!(url.starts_with("https://"), "{url}");
        self.url = url;
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flush; only what SQLite committed survives.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// Runs the CLI against this registry's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .env(ecard_clock::TODAY_ENV, clock().env_value())
            .arg("--db")
            .arg(self.db())
            .output()
            .unwrap()
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

    /// Opens the database read-only (for content checks after the process stopped).
    pub fn open_db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(self.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap()
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

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
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
        "id_number": "11010519491231002X",
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
