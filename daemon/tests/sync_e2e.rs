//! The sync client against a real `ecard-registry` process on loopback, with two
//! stations (A and B) that share one desk of simulated readers — a card written at
//! A can be carried to B. Card operations run in process; the rounds run both in
//! process and as real `ecardd sync` processes (the SIGKILL test).
#![allow(clippy::unwrap_used)]

use card_profile::records::ReviewResult;
use chrono::NaiveDate;
use ecardd::ops::{Clock, ReviewRequest, Station, StationConfig, StationKeys, StatusRequest};
use ecardd::readers::sim::SimReaders;
use ecardd::readers::Readers;
use ecardd::store::{self, CertificateState, Store};
use ecardd::sync;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const R: &str = "同步测试读卡器";
const PASS: &str = "station-passphrase";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn cheap() -> ecardd::keystore::KdfParams {
    ecardd::keystore::KdfParams::new(256, 1, 1).unwrap()
}

/// `ecard-registry`, built beside this test by `cargo build --workspace --bins`.
fn registry_bin() -> PathBuf {
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

struct Registry {
    dir: tempfile::TempDir,
    child: Option<Child>,
    url: String,
}

impl Registry {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry {
            dir,
            child: None,
            url: String::new(),
        };
        r.spawn("127.0.0.1:0");
        r
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("registry.db")
    }

    fn spawn(&mut self, listen: &str) {
        let mut child = Command::new(registry_bin())
            .args(["serve", "--db"])
            .arg(self.db())
            .args(["--listen", listen, "--key-file"])
            .arg(self.dir.path().join("registry-key.p8"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        loop {
            line.clear();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "registry exited before listening"
            );
            if let Some(url) = line.trim().strip_prefix("ecard-registry listening: ") {
                self.url = url.trim_end_matches('/').to_owned();
                break;
            }
        }
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same address (stations keep their URL).
    fn restart(&mut self) {
        let addr = self.url.trim_start_matches("http://").to_owned();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The port is free again once the old process is gone.
            if std::net::TcpListener::bind(&addr).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "port {addr} not released");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.spawn(&addr);
    }

    fn add_station(&self, name: &str, public_key: &str) {
        let out = Command::new(registry_bin())
            .args(["station", "add", "--db"])
            .arg(self.db())
            .args([
                "--name",
                name,
                "--public-key",
                public_key,
                "--region",
                "川X",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "station add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn query_i64(&self, sql: &str) -> i64 {
        let c = rusqlite::Connection::open(self.db()).unwrap();
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn event_ids(&self, station: &str) -> Vec<(i64, String, String)> {
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

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
    }
}

struct StationUnderTest {
    station: Station,
    db: PathBuf,
    id: String,
    _dir: tempfile::TempDir,
}

fn outbox(s: &StationUnderTest) -> Vec<(i64, String, String)> {
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
async fn station(
    id: &str,
    pki: &card_profile::demo::DemoPki,
    desk: &Arc<SimReaders>,
    registry: &Registry,
    with_officers: bool,
) -> StationUnderTest {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("station.db");
    let store = Arc::new(Store::open(&db).unwrap());
    if with_officers {
        for o in card_profile::demo::officers(today()) {
            store
                .write("test", |tx| {
                    let officer = store::upsert_officer(tx, &o.holder, Some(&o.photo_jpeg))?;
                    store::insert_certificate(
                        tx,
                        officer,
                        &o.certificate,
                        CertificateState::Approved,
                        None,
                    )
                })
                .unwrap();
        }
    }
    let signer = card_profile::pki::DocumentSigner::new(
        card_profile::pki::SigningKey::from_pkcs8(pki.signer.key.pkcs8()).unwrap(),
        pki.signer.certificate.clone(),
    )
    .unwrap();
    let mut station = Station::new(
        store.clone(),
        Readers::new(desk.clone()),
        StationKeys {
            master: pki.master.clone(),
            signer,
        },
        pki.trust.clone(),
        StationConfig::default(),
    );
    station.clock = Clock::Fixed(today());
    let probe = ecard_registry::client::RegistryClient::new(
        &registry.url,
        id,
        Arc::new(card_profile::pki::SigningKey::generate().unwrap()),
    )
    .unwrap();
    let registry_key = probe.registry_key().await.unwrap();
    let public = sync::enroll(&store, &registry.url, id, &registry_key, PASS, cheap()).unwrap();
    registry.add_station(id, &public);
    std::fs::write(dir.path().join("pass"), PASS).unwrap();
    StationUnderTest {
        station,
        db,
        id: id.to_owned(),
        _dir: dir,
    }
}

async fn round(s: &StationUnderTest) -> Result<sync::RoundReport, sync::SyncError> {
    let (client, key) = sync::open(&s.station.store, PASS).unwrap();
    sync::round(&s.station, &client, &key).await
}

fn cert_ids(s: &StationUnderTest) -> Vec<i64> {
    s.station
        .store
        .read(|c| store::list_certificates(c, Some(CertificateState::Approved), 100))
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .rev()
        .collect()
}

async fn issue_one(s: &StationUnderTest, desk: &SimReaders, cert: i64) -> String {
    desk.insert_blank(R).unwrap();
    let out = s.station.issue("issuer", cert, R).await.unwrap();
    desk.eject(R).unwrap();
    out.serial
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_cancelled_at_a_is_refused_at_b_after_b_syncs() {
    let registry = Registry::start();
    let pki = card_profile::demo::pki(today()).unwrap();
    let desk = Arc::new(SimReaders::new(
        &[R],
        10,
        pki.master.clone(),
        0x5A00_0000_0000_0001,
    ));
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let b = station("station-b", &pki, &desk, &registry, false).await;

    let cert = cert_ids(&a)[0];
    let serial = issue_one(&a, &desk, cert).await;
    round(&a).await.unwrap();
    round(&b).await.unwrap();

    // B sees the card as valid: same bureau keys, nothing revoked yet.
    desk.insert_from_tray(R, &serial).unwrap();
    assert_eq!(
        b.station
            .verify(R)
            .await
            .unwrap()
            .verdict
            .standing
            .label_zh(),
        "有效"
    );
    desk.eject(R).unwrap();

    // A cancels without the card at hand: only the records know.
    a.station
        .change_status(
            "issuer",
            cert,
            &StatusRequest::Cancel {
                reason: "调离执法岗位".into(),
                destination: "调往档案馆".into(),
            },
            None,
        )
        .await
        .unwrap();
    // Before B syncs, the card still passes B's field check (B cannot know yet).
    desk.insert_from_tray(R, &serial).unwrap();
    assert_eq!(
        b.station
            .verify(R)
            .await
            .unwrap()
            .verdict
            .standing
            .label_zh(),
        "有效"
    );
    desk.eject(R).unwrap();

    let pushed = round(&a).await.unwrap();
    assert!(pushed.pushed >= 1);
    let pulled = round(&b).await.unwrap();
    assert_eq!(pulled.status_changes, 1, "{pulled:?}");
    assert!(pulled.revocation_number.is_some());

    desk.insert_from_tray(R, &serial).unwrap();
    let v = b.station.verify(R).await.unwrap().verdict;
    assert_eq!(
        v.standing.label_zh(),
        "已注销",
        "{:?}",
        v.failures().collect::<Vec<_>>()
    );
    let status = sync::status(&b.station.store, today()).unwrap();
    assert!(status.configured && status.last_success.is_some() && status.backlog == 0);
    assert_eq!(status.revocation_list_age_days, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_down_station_works_on_and_every_record_arrives_exactly_once() {
    let mut registry = Registry::start();
    let pki = card_profile::demo::pki(today()).unwrap();
    let desk = Arc::new(SimReaders::new(
        &[R],
        10,
        pki.master.clone(),
        0x5B00_0000_0000_0001,
    ));
    let a = station("station-a", &pki, &desk, &registry, true).await;
    round(&a).await.unwrap();

    registry.kill();
    let certs = cert_ids(&a);
    let mut serials = Vec::new();
    for cert in &certs[..3] {
        serials.push(issue_one(&a, &desk, *cert).await);
    }
    desk.insert_from_tray(R, &serials[0]).unwrap();
    a.station
        .review(
            "reviewer",
            &ReviewRequest {
                certificate_id: certs[0],
                year: None,
                result: ReviewResult::Passed,
                remark: None,
                reader: Some(R.into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        a.station
            .verify(R)
            .await
            .unwrap()
            .verdict
            .standing
            .label_zh(),
        "有效"
    );
    desk.eject(R).unwrap();
    a.station
        .change_status(
            "issuer",
            certs[1],
            &StatusRequest::Suspend {
                reason: "调查".into(),
            },
            None,
        )
        .await
        .unwrap();

    let err = round(&a).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.code(), "registry_unreachable");
    let st = sync::status(&a.station.store, today()).unwrap();
    assert!(st.backlog >= 5 && st.last_error.is_some(), "{st:?}");

    registry.restart();
    round(&a).await.unwrap();
    // A second round sends nothing again.
    assert_eq!(round(&a).await.unwrap().pushed, 0);
    assert_eq!(
        outbox(&a),
        registry.event_ids("station-a"),
        "every event, once, in order, same content"
    );
    assert_eq!(registry.query_i64("SELECT COUNT(*) FROM cards"), 3);
    assert_eq!(registry.query_i64("SELECT COUNT(*) FROM reviews"), 1);
    assert_eq!(
        registry.query_i64("SELECT COUNT(*) FROM certificates WHERE state = 'suspended'"),
        1
    );
    assert_eq!(sync::status(&a.station.store, today()).unwrap().backlog, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecardd_sync_killed_mid_push_loses_and_doubles_nothing() {
    let registry = Registry::start();
    let pki = card_profile::demo::pki(today()).unwrap();
    let desk = Arc::new(SimReaders::new(
        &[R],
        10,
        pki.master.clone(),
        0x5C00_0000_0000_0001,
    ));
    let a = station("station-a", &pki, &desk, &registry, true).await;
    let cert = cert_ids(&a)[0];
    issue_one(&a, &desk, cert).await;
    // A large backlog of reviews (one per year), so the push takes several batches.
    a.station
        .store
        .write("test", |tx| {
            for year in 0..3000 {
                tx.outbox(
                    "review_recorded",
                    serde_json::json!({ "number": "川X010001", "year": 3000 + year, "date": today(), "result": "passed", "remark": null }),
                )?;
            }
            Ok(())
        })
        .unwrap();
    let total = outbox(&a).len();
    let sync_cmd = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ecardd"));
        c.args(["sync", "--db"])
            .arg(&a.db)
            .arg("--passphrase-file")
            .arg(a.db.with_file_name("pass"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let mut killed_mid = false;
    for delay_ms in [150u64, 300, 600] {
        let mut child = sync_cmd().spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let sent = registry.event_ids(&a.id).len();
        if sent > 0 && sent < total {
            killed_mid = true;
            break;
        }
    }
    let status = sync_cmd().status().unwrap();
    assert!(status.success(), "ecardd sync after the kill");
    assert_eq!(outbox(&a), registry.event_ids(&a.id));
    assert_eq!(sync::status(&a.station.store, today()).unwrap().backlog, 0);
    // Not an assertion of timing: say whether this run caught the process mid-push.
    eprintln!("killed mid-push: {killed_mid} ({total} events)");
}
