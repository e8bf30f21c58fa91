#![allow(clippy::unwrap_used)]
//! The offline check page asks the registry (issue #16): a real `ecard-registry`
//! (plain HTTP on loopback) and a real `ecardd serve` station enrolled with it. The
//! station's keys, enrolment and trust list are made with the real CLIs
//! (`ecardd keys root init`, `keys init`, `sync enroll`, `keys root sign-trust-list`,
//! `ecard-registry trust-list publish`); a card is written in process on a
//! simulated reader (the same `Station::issue` the API calls) so that its outbox holds
//! a real EF.SOD, and `ecardd sync` carries it to the registry, which learns the
//! station's document signer from it. In headless chromium, the station's `/check`
//! page checks the card face's seal (真实) and then shows the registry's answer —
//! 「登记中心：有效」, and 「登记中心：已注销」 once the certificate was cancelled at
//! the station and synced. axe-core checks the page with the answer shown.
//! Run under the hardware lock (`flock /tmp/ecard-hw.lock`), as every browser test.

use ecard_test_support::registry::{RegistryOptions, RegistryProcess};
use ecardd::ops::{Station, StationConfig, StatusRequest};
use ecardd::readers::sim::SimReaders;
use ecardd::readers::Readers;
use ecardd::store::{self, CertificateState, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use ui_tests::{Ecardd, Result, Ui};

const READER: &str = "桌面读卡器";
const WAIT: Duration = Duration::from_secs(30);

fn day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn clock() -> ecard_clock::Clock {
    ecard_clock::Clock::starting_on(day())
}

fn registry_bin() -> PathBuf {
    ui_tests::profile_dir().unwrap().join("ecard-registry")
}

fn run(bin: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(bin)
        .env(ecard_clock::TODAY_ENV, clock().env_value())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        bin.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ecardd(args: &[&str]) -> String {
    run(&ui_tests::ecardd_binary().unwrap(), args)
}

struct StationFiles {
    db: PathBuf,
    pass: PathBuf,
    _dir: tempfile::TempDir,
}

impl StationFiles {
    fn sync(&self) -> serde_json::Value {
        let out = ecardd(&[
            "sync",
            "--json",
            "--db",
            &self.db.display().to_string(),
            "--passphrase-file",
            &self.pass.display().to_string(),
        ]);
        serde_json::from_str(&out).unwrap()
    }
}

/// A station of 甲市司法局 under a province root, enrolled with `reg`, and the
/// province's trust list (that root) published at the registry.
fn station(reg: &RegistryProcess) -> StationFiles {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let s = |name: &str| p(name).display().to_string();
    std::fs::write(p("root.pass"), "root-passphrase-1\n").unwrap();
    std::fs::write(p("station.pass"), "station-passphrase-1\n").unwrap();
    std::fs::write(p("master.hex"), card_profile::demo::DEMO_MASTER_KEY_HEX).unwrap();
    let db = s("station.db");
    ecardd(&[
        "keys",
        "root",
        "init",
        "--out",
        &s("root.json"),
        "--name",
        "演示省司法厅根证书",
        "--passphrase-file",
        &s("root.pass"),
    ]);
    ecardd(&[
        "keys",
        "init",
        "--db",
        &db,
        "--bureau",
        "甲市司法局",
        "--root",
        &s("root.json"),
        "--root-passphrase-file",
        &s("root.pass"),
        "--passphrase-file",
        &s("station.pass"),
        "--master-key-file",
        &s("master.hex"),
    ]);
    // The province signs its trust list offline; the registry publishes it.
    let root: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("root.json")).unwrap()).unwrap();
    std::fs::write(
        p("trust.json"),
        serde_json::json!({ "anchors": [root["anchor"]] }).to_string(),
    )
    .unwrap();
    ecardd(&[
        "keys",
        "root",
        "sign-trust-list",
        "--root",
        &s("root.json"),
        "--passphrase-file",
        &s("root.pass"),
        "--list",
        &s("trust.json"),
        "--number",
        "1",
        "--out",
        &s("signed.json"),
    ]);
    run(
        &registry_bin(),
        &[
            "trust-list",
            "publish",
            "--db",
            &reg.db().display().to_string(),
            "--file",
            &s("signed.json"),
        ],
    );
    let key: serde_json::Value = serde_json::from_str(&run(
        &registry_bin(),
        &[
            "key",
            "--key-file",
            &reg.dir.path().join("registry-key.p8").display().to_string(),
        ],
    ))
    .unwrap();
    let enrolled: serde_json::Value = serde_json::from_str(&ecardd(&[
        "sync",
        "enroll",
        "--db",
        &db,
        "--passphrase-file",
        &s("station.pass"),
        "--registry",
        &reg.url,
        "--station-id",
        "jia",
        "--registry-key-id",
        key["key_id"].as_str().unwrap(),
        "--insecure-loopback-http",
        "--json",
    ]))
    .unwrap();
    run(
        &registry_bin(),
        &[
            "station",
            "add",
            "--db",
            &reg.db().display().to_string(),
            "--name",
            "jia",
            "--public-key",
            enrolled["public_key"].as_str().unwrap(),
            "--region",
            "川X",
        ],
    );
    StationFiles {
        db: p("station.db"),
        pass: p("station.pass"),
        _dir: dir,
    }
}

/// The station in process, on a simulated reader with blank cards of its master key.
fn open_station(files: &StationFiles) -> (Station, Arc<SimReaders>) {
    let store = Arc::new(Store::open(&files.db, clock()).unwrap());
    let (keys, trust) = ecardd::keyring::unlock(&store, "station-passphrase-1").unwrap();
    let desk = Arc::new(SimReaders::new(
        &[READER],
        2,
        keys.master.clone(),
        0x5EA1_0000_0000_0001,
    ));
    let station = Station::new(
        store,
        Readers::new(desk.clone()),
        keys,
        trust,
        StationConfig::default(),
    );
    (station, desk)
}

/// Pastes `seal` into the page's text field: the verdict, then the registry's
/// answer (its `data-status` and the line shown).
async fn check_on_page(ui: &Ui, seal: &str) -> Result<(String, String, String)> {
    ui.client.goto(&format!("{}check", ui.base)).await?;
    ui.fill("#text", seal).await?;
    ui.find("#text").await?.send_keys("\n").await?;
    let verdict = ui.wait_attr("#verdict", "data-verdict", WAIT).await?;
    let status = ui
        .wait_attr("#registry-status", "data-status", WAIT)
        .await?;
    let shown = ui.find("#registry-status").await?.text().await?;
    Ok((verdict, status, shown))
}

async fn walk(ui: &Ui, files: &StationFiles, station: &Station, cert: i64) -> Result<()> {
    let seal = station.seal_text(cert).unwrap();
    let (verdict, status, shown) = check_on_page(ui, &seal).await?;
    assert_eq!(verdict, "genuine", "{shown}");
    assert_eq!(status, "valid", "{shown}");
    assert!(shown.contains("登记中心：有效"), "{shown}");
    let info = ui.find("#trust-info").await?.text().await?;
    assert!(info.contains("联网时向登记中心"), "{info}");
    ui.screenshot("check-registry-valid").await?;
    let problems = ui.a11y_problems().await?;
    assert!(
        problems.is_empty(),
        "/check with the registry's answer: {problems:?}"
    );

    // Cancelled at the station, synced: the same printed seal now reads 已注销.
    station
        .change_status(
            "issuer",
            cert,
            &StatusRequest::Cancel {
                occurred_on: None,
                reason: "调离执法岗位".into(),
                destination: "调往档案馆".into(),
            },
            None,
        )
        .await
        .unwrap();
    let pushed = files.sync();
    assert!(pushed["pushed"].as_u64().unwrap() >= 1, "{pushed}");
    let (verdict, status, shown) = check_on_page(ui, &seal).await?;
    assert_eq!(
        verdict, "genuine",
        "the print itself is still genuine: {shown}"
    );
    assert_eq!(status, "cancelled", "{shown}");
    assert!(shown.contains("登记中心：已注销"), "{shown}");
    let class = ui
        .find("#registry-status")
        .await?
        .attr("class")
        .await?
        .unwrap_or_default();
    assert!(class.contains("reg-bad"), "{class}");
    ui.screenshot("check-registry-cancelled").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_page_shows_the_registrys_answer_and_a_cancellation() {
    let reg = RegistryProcess::start(
        &registry_bin(),
        clock(),
        RegistryOptions {
            plain_http: true,
            admin_token: false,
            ..RegistryOptions::default()
        },
    );
    let files = station(&reg);
    let (station, desk) = open_station(&files);
    ecard_test_support::approve(&station.store, &card_profile::demo::officers(day()));
    let cert = station
        .store
        .read(|c| store::list_certificates(c, Some(CertificateState::Approved), 10))
        .unwrap()[0]
        .id;
    desk.insert_blank(READER).unwrap();
    station.issue("issuer", cert, READER).await.unwrap();
    // The card (and its EF.SOD) reaches the registry; the trust list reaches the station.
    let first = files.sync();
    assert!(first["pushed"].as_u64().unwrap() >= 1, "{first}");

    let today = clock().env_value();
    let served = Ecardd::start_serve(
        &files.db,
        &files.pass,
        &[],
        &[(ecard_clock::TODAY_ENV, today.as_str())],
    )
    .unwrap();
    let log = served.log.clone();
    let ui = match Ui::start_with(served).await {
        Ok(ui) => ui,
        Err(e) => panic!("cannot start the browser test: {e}"),
    };
    let outcome = walk(&ui, &files, &station, cert).await;
    if outcome.is_err() {
        let _ = ui.screenshot("check-registry-failure").await;
    }
    let _ = ui.close().await;
    if let Err(e) = outcome {
        panic!(
            "{e}\n(screenshot: target/ui-screenshots/check-registry-failure.png; ecardd log: {})",
            log.display()
        );
    }
}
