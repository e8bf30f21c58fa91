//! What the end-to-end tests against a real `ecard-registry` process share: the
//! registry process (spawn, kill, restart, enrol a station, read its database),
//! stations of the demo bureau on one simulated desk, a sync round as a real
//! `ecardd sync` process. Used by sync_e2e.rs and registry_channel.rs.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::NaiveDate;
use ecard_clock::Clock;
use ecard_test_support::registry::{RegistryOptions, RegistryProcess};
use ecardd::ops::{Station, StationConfig, StationKeys};
use ecardd::readers::sim::SimReaders;
use ecardd::readers::Readers;
use ecardd::store::{self, CertificateState, Store};
use ecardd::sync;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

pub const R: &str = "同步测试读卡器";
pub const PASS: &str = "station-passphrase";

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// The one clock of this test: the stations in this process, and every registry and
/// `ecardd sync` process it starts (through ECARD_TODAY), run on `today()`.
pub fn clock() -> Clock {
    Clock::starting_on(today())
}

pub fn cheap() -> ecardd::keystore::KdfParams {
    ecardd::keystore::KdfParams::new(256, 1, 1).unwrap()
}

/// `ecard-registry`, built beside this test by `cargo build --workspace --bins`.
pub fn registry_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("ecard-registry");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// The registry process (ecard_test_support::registry) with what these tests ask of
/// it: enrolling stations of the demo bureau, its key id, reads of its database.
pub struct Registry(RegistryProcess);

impl std::ops::Deref for Registry {
    type Target = RegistryProcess;
    fn deref(&self) -> &RegistryProcess {
        &self.0
    }
}

impl std::ops::DerefMut for Registry {
    fn deref_mut(&mut self) -> &mut RegistryProcess {
        &mut self.0
    }
}

impl Registry {
    /// A registry serving TLS with the certificate it makes on first start.
    pub fn start() -> Self {
        Self(RegistryProcess::start(
            &registry_bin(),
            clock(),
            RegistryOptions::default(),
        ))
    }

    /// A registry serving plain HTTP on loopback (`--insecure-loopback-http`): for
    /// tests that put a plain HTTP proxy between it and a station.
    pub fn start_plain() -> Self {
        Self(RegistryProcess::start(
            &registry_bin(),
            clock(),
            RegistryOptions {
                plain_http: true,
                ..RegistryOptions::default()
            },
        ))
    }

    /// A registry whose key is SM2 (a 国密 deployment, docs/SUITES.md).
    pub fn start_sm() -> Self {
        Self(RegistryProcess::start(
            &registry_bin(),
            clock(),
            RegistryOptions {
                suite: card_profile::suite::Suite::Sm,
                ..RegistryOptions::default()
            },
        ))
    }

    /// A client for the registry's operator APIs under the station's transport rules.
    pub fn http(&self) -> reqwest::Client {
        ecard_sync_protocol::client::http_client(&self.url, self.tls).unwrap()
    }

    pub fn add_station(&self, name: &str, public_key: &str) {
        let out = self.cli(&[
            "station",
            "add",
            "--name",
            name,
            "--public-key",
            public_key,
            "--region",
            "川X",
        ]);
        assert!(
            out.status.success(),
            "station add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The registry key id as its operator reads it off the registry's own key
    /// file (out of band: what a station is given to enrol with).
    pub fn key_id(&self) -> String {
        let pkcs8 = std::fs::read(self.dir.path().join("registry-key.p8")).unwrap();
        let key = card_profile::pki::SigningKey::from_pkcs8_any(&pkcs8).unwrap();
        hex::encode(card_profile::pki::key_id(&key.public_key()))
    }

    pub fn query_i64(&self, sql: &str) -> i64 {
        let c = rusqlite::Connection::open(self.db()).unwrap();
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    pub fn event_ids(&self, station: &str) -> Vec<(i64, String, String)> {
        let c = rusqlite::Connection::open(self.db()).unwrap();
        let mut s = c
            .prepare("SELECT seq, event_id, payload FROM events WHERE station_id = ?1 ORDER BY seq")
            .unwrap();
        let rows = s
            .query_map([station], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }
}

pub struct StationUnderTest {
    pub station: Station,
    pub db: PathBuf,
    pub id: String,
    pub _dir: tempfile::TempDir,
}

pub fn outbox(s: &StationUnderTest) -> Vec<(i64, String, String)> {
    s.station
        .store
        .read(|c| {
            let mut st = c.prepare("SELECT seq, event_id, payload FROM outbox ORDER BY seq")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap()
}

/// A station of the demo bureau on the shared desk, enrolled with `registry`.
pub async fn station(
    id: &str,
    pki: &card_profile::demo::DemoPki,
    desk: &Arc<SimReaders>,
    registry: &Registry,
    with_officers: bool,
) -> StationUnderTest {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.db");
    let store = Arc::new(Store::open(&db, clock()).unwrap());
    if with_officers {
        ecard_test_support::approve(&store, &card_profile::demo::officers(today()));
    }
    let signer = card_profile::pki::DocumentSigner::new(
        card_profile::pki::SigningKey::from_pkcs8_any(pki.signer.key.pkcs8()).unwrap(),
        pki.signer.certificate.clone(),
    )
    .unwrap();
    let station = Station::new(
        store.clone(),
        Readers::new(desk.clone()),
        StationKeys {
            master: pki.master.clone(),
            signer,
        },
        pki.trust.clone(),
        StationConfig::default(),
    );
    let probe = ecard_sync_protocol::client::RegistryClient::new(
        &registry.url,
        id,
        Arc::new(card_profile::pki::SigningKey::generate().unwrap()),
        clock(),
        registry.tls,
    )
    .unwrap();
    let registry_key = probe.registry_key().await.unwrap();
    let public = sync::enroll(
        &store,
        &sync::Enrolment {
            registry_url: &registry.url,
            station_id: id,
            registry_key: &registry_key,
            expected_key_id: &registry.key_id(),
            tls: registry.tls,
        },
        PASS,
        cheap(),
    )
    .unwrap();
    registry.add_station(id, &public);
    std::fs::write(dir.path().join("pass"), PASS).unwrap();
    StationUnderTest {
        station,
        db,
        id: id.to_owned(),
        _dir: dir,
    }
}

/// One round as a real `ecardd sync --json` process on the station's database:
/// the report as JSON, or (exit status, stderr).
pub fn round_process(s: &StationUnderTest) -> Result<serde_json::Value, (i32, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_ecardd"))
        .env(ecard_clock::TODAY_ENV, clock().env_value())
        .args(["sync", "--json", "--db"])
        .arg(&s.db)
        .arg("--passphrase-file")
        .arg(s.db.with_file_name("pass"))
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

pub async fn round(s: &StationUnderTest) -> Result<sync::RoundReport, sync::SyncError> {
    let (client, key) = sync::open(&s.station.store, PASS).unwrap();
    sync::round(&s.station, &client, &key).await
}

pub fn cert_ids(s: &StationUnderTest) -> Vec<i64> {
    s.station
        .store
        .read(|c| store::list_certificates(c, Some(CertificateState::Approved), 100))
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .rev()
        .collect()
}

/// A registry process (TLS), the demo bureau keys and a desk reader (shared by the
/// test's stations) with 10 blank cards whose serials start at `first_serial`.
pub fn setup(first_serial: u64) -> (Registry, card_profile::demo::DemoPki, Arc<SimReaders>) {
    setup_with(Registry::start(), first_serial)
}

/// [`setup`] with a plain-HTTP loopback registry (for a proxy in between).
pub fn setup_plain(first_serial: u64) -> (Registry, card_profile::demo::DemoPki, Arc<SimReaders>) {
    setup_with(Registry::start_plain(), first_serial)
}

/// [`setup`] in the SM suite: an SM2 registry key, SM demo keys and cards.
pub fn setup_sm(first_serial: u64) -> (Registry, card_profile::demo::DemoPki, Arc<SimReaders>) {
    let registry = Registry::start_sm();
    let pki = card_profile::demo::pki_in(card_profile::suite::Suite::Sm, today()).unwrap();
    let desk = Arc::new(SimReaders::new(&[R], 10, pki.master.clone(), first_serial));
    (registry, pki, desk)
}

fn setup_with(
    registry: Registry,
    first_serial: u64,
) -> (Registry, card_profile::demo::DemoPki, Arc<SimReaders>) {
    let pki = card_profile::demo::pki(today()).unwrap();
    let desk = Arc::new(SimReaders::new(&[R], 10, pki.master.clone(), first_serial));
    (registry, pki, desk)
}

/// Carries the card with `serial` from the tray to the reader, verifies it at
/// `station` and takes it out again: the standing's label.
pub async fn standing_at(station: &Station, desk: &SimReaders, serial: &str) -> &'static str {
    desk.insert_from_tray(R, serial).unwrap();
    let standing = station.verify(R).await.unwrap().verdict.standing;
    desk.eject(R).unwrap();
    ecardd::labels::standing_zh(standing)
}

pub async fn issue_one(s: &StationUnderTest, desk: &SimReaders, cert: i64) -> String {
    desk.insert_blank(R).unwrap();
    let out = s.station.issue("issuer", cert, R).await.unwrap();
    desk.eject(R).unwrap();
    out.serial
}
