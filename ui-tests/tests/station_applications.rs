#![allow(clippy::unwrap_used)]
//! 本站申请 in headless chromium, with every part real: an `ecard-registry` process
//! on loopback, an `ecardd serve` process enrolled with it (its own sync loop
//! carries the events and the feed), the station's page driven like a clerk does.
//! The clerk adds one person by the form (the roster's columns and checks, with a
//! photo); the county returns it (退回) through the registry's API with a reason;
//! the page shows the reason, the clerk edits the form and resubmits it; the same
//! application is back in the county's queue with the edit; county and city
//! approve; the page shows 已批准. Each page state is screenshotted into
//! target/ui-screenshots/station-applications-*.png and checked for accessibility
//! (our checks and axe-core, ui_tests::A11yCheck). Run under the hardware lock
//! (`flock /tmp/ecard-hw.lock`), as every browser test.

use ecard_test_support::registry::{RegistryOptions, RegistryProcess};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use ui_tests::{ecardd_binary, profile_dir, Ecardd, Result, Ui};

const UNIT: &str = "岳池县教育局";
const STATION: &str = "yuechi";
const CLERK: &str = "clerk";
const CLERK_PASSWORD: &str = "clerk-password-1";
/// Long enough for a few sync rounds of a loaded machine.
const SYNCED: Duration = Duration::from_secs(60);

fn clock() -> ecard_clock::Clock {
    ecard_clock::Clock::starting_on(chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
}

fn ecardd(args: &[&str]) -> Vec<u8> {
    let out = Command::new(ecardd_binary().unwrap())
        .env(ecard_clock::TODAY_ENV, clock().env_value())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ecardd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn registry_cli(reg: &RegistryProcess, args: &[&str]) -> Value {
    let out = reg.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The registry key id as its operator reads it off the key file (out of band).
fn registry_key_id(reg: &RegistryProcess) -> String {
    let pkcs8 = std::fs::read(reg.dir.path().join("registry-key.p8")).unwrap();
    let key = card_profile::pki::SigningKey::from_pkcs8(&pkcs8).unwrap();
    hex::encode(card_profile::pki::key_id(&key.public_key()))
}

/// A station made by the CLI in `dir` (root, keys, one clerk), enrolled with the
/// registry for region 川X04: its database and passphrase file.
fn enrolled_station(dir: &Path, reg: &RegistryProcess) -> (PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    let s = |name: &str| p(name).display().to_string();
    std::fs::write(p("root.pass"), "root-passphrase-1\n").unwrap();
    std::fs::write(p("station.pass"), "station-passphrase-1\n").unwrap();
    std::fs::write(p("clerk.pass"), format!("{CLERK_PASSWORD}\n")).unwrap();
    ecardd(&[
        "keys",
        "root",
        "init",
        "--out",
        &s("root.json"),
        "--name",
        "测试省根",
        "--passphrase-file",
        &s("root.pass"),
    ]);
    ecardd(&[
        "keys",
        "init",
        "--db",
        &s("station.db"),
        "--bureau",
        "岳池县司法局",
        "--root",
        &s("root.json"),
        "--root-passphrase-file",
        &s("root.pass"),
        "--passphrase-file",
        &s("station.pass"),
    ]);
    ecardd(&[
        "operator",
        "add",
        "--db",
        &s("station.db"),
        "--username",
        CLERK,
        "--display-name",
        "录入员",
        "--role",
        "issuer",
        "--password-file",
        &s("clerk.pass"),
    ]);
    let enrolled: Value = serde_json::from_slice(&ecardd(&[
        "sync",
        "--json",
        "--db",
        &s("station.db"),
        "--passphrase-file",
        &s("station.pass"),
        "enroll",
        "--registry",
        &reg.url,
        "--station-id",
        STATION,
        "--registry-key-id",
        &registry_key_id(reg),
        "--insecure-loopback-http",
    ]))
    .unwrap();
    let public_key = enrolled["public_key"].as_str().unwrap();
    registry_cli(
        reg,
        &[
            "station",
            "add",
            "--name",
            STATION,
            "--public-key",
            public_key,
            "--region",
            "川X04",
        ],
    );
    (p("station.db"), p("station.pass"))
}

/// The county's and the city's tokens; the unit registered.
fn bureaus(reg: &RegistryProcess) -> (String, String) {
    registry_cli(
        reg,
        &[
            "admin",
            "add-unit",
            "--name",
            UNIT,
            "--region",
            "川X04",
            "--department",
            "02",
        ],
    );
    let token = |args: &[&str]| {
        let mut all = vec!["admin", "add-account"];
        all.extend_from_slice(args);
        registry_cli(reg, &all)["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    (
        token(&[
            "--username",
            "yc-justice",
            "--role",
            "county",
            "--region",
            "川X04",
            "--org-name",
            "岳池县司法局",
        ]),
        token(&[
            "--username",
            "gac-justice",
            "--role",
            "city",
            "--region",
            "川X",
            "--org-name",
            "广安市司法局",
        ]),
    )
}

/// One call to the registry's bureau API: (status, JSON).
async fn bureau(
    reg: &RegistryProcess,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let http = ecard_sync_protocol::client::http_client(&reg.url, reg.tls).unwrap();
    let url = format!("{}{path}", reg.url);
    let req = match body {
        Some(b) => http.post(url).json(&b),
        None => http.get(url),
    };
    let resp = req.bearer_auth(token).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Waits until the county's queue holds an application in `state` (the station's
/// sync loop pushes every second); returns it.
async fn in_queue(reg: &RegistryProcess, county: &str, state: &str) -> Value {
    let deadline = Instant::now() + SYNCED;
    loop {
        let (_, list) = bureau(reg, county, "/api/v1/applications", None).await;
        if let Some(app) = list
            .as_array()
            .and_then(|l| l.iter().find(|a| a["state"] == state))
        {
            return app.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {state} application reached the county: {list}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Reloads the list until the application's row reads `needle` (the feed reaches
/// the station on its own sync loop).
async fn row_reads(ui: &Ui, needle: &str) -> Result<String> {
    let deadline = Instant::now() + SYNCED;
    loop {
        ui.click("#applications-reload").await?;
        if let Ok(t) = ui
            .wait_text(
                "#applications-list tbody tr",
                needle,
                Duration::from_secs(2),
            )
            .await
        {
            return Ok(t);
        }
        if Instant::now() > deadline {
            return ui
                .wait_text(
                    "#applications-list tbody tr",
                    needle,
                    Duration::from_secs(1),
                )
                .await;
        }
    }
}

/// Screenshot and accessibility check of the page as it stands.
async fn checked(ui: &Ui, name: &str, problems: &mut Vec<String>) -> Result<()> {
    ui.screenshot(&format!("station-applications-{name}"))
        .await?;
    for p in ui.a11y_problems().await? {
        problems.push(format!("{name}: {p}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_files_by_form_edits_the_returned_application_and_sees_it_approved() -> Result<()> {
    let reg = RegistryProcess::start(
        &profile_dir()?.join("ecard-registry"),
        clock(),
        RegistryOptions {
            plain_http: true,
            admin_token: false,
            ..RegistryOptions::default()
        },
    );
    let (county, city) = bureaus(&reg);
    let dir = tempfile::tempdir()?;
    let (db, pass) = enrolled_station(dir.path(), &reg);
    let station = Ecardd::start_serve(
        &db,
        &pass,
        &["--sync-interval", "1"],
        &[(ecard_clock::TODAY_ENV, &clock().env_value())],
    )?;
    let ui = Ui::start_with(station).await?;
    let mut problems = Vec::new();
    let photo = dir.path().join("11010519850601002X.jpg");
    std::fs::write(
        &photo,
        ecard_domain::photo::synthetic::portrait_jpeg(410, 470, 8, 60, 3),
    )?;

    ui.login_with(CLERK, CLERK_PASSWORD).await?;
    ui.goto("applications").await?;
    ui.wait_text("#applications-list", "还没有", Duration::from_secs(20))
        .await?;
    ui.click("#application-add").await?;
    for (field, value) in [
        ("county", "岳池县"),
        ("name", "钱七"),
        ("unit", UNIT),
        ("citizen_id", "11010519850601002X"),
        ("ethnicity", "汉族"),
        ("political_status", "中共党员"),
        ("law_major", "是"),
        ("legal_qualification", "否"),
        ("posts", "99"),
    ] {
        ui.fill(&format!("#app-form-{field}"), value).await?;
    }
    ui.find("#app-form-photo")
        .await?
        .send_keys(&photo.display().to_string())
        .await?;
    // The roster's own check: a post code that does not exist marks its field.
    ui.click("#app-form-submit").await?;
    let alert = ui
        .wait_text("#alert", "执法岗位", Duration::from_secs(20))
        .await?;
    assert!(!alert.is_empty());
    assert_eq!(
        ui.find("#app-form-posts")
            .await?
            .attr("aria-invalid")
            .await?
            .as_deref(),
        Some("true")
    );
    checked(&ui, "form-refused", &mut problems).await?;
    ui.fill("#app-form-posts", "01").await?;
    ui.click("#app-form-submit").await?;
    ui.wait_text("#notice", "已提交申请", Duration::from_secs(20))
        .await?;
    ui.wait_text(
        "#applications-list tbody tr",
        "待审核",
        Duration::from_secs(20),
    )
    .await?;
    checked(&ui, "filed", &mut problems).await?;

    // 退回 by the county, through the registry's API.
    let app = in_queue(&reg, &county, "submitted").await;
    assert_eq!(app["form"]["name"], "钱七");
    assert_eq!(app["has_photo"], true, "the photo went with the form");
    let id = app["id"].as_i64().unwrap();
    let (s, r) = bureau(
        &reg,
        &county,
        &format!("/api/v1/applications/{id}/reject"),
        Some(json!({"reason": "执法岗位填写不全"})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    row_reads(&ui, "执法岗位填写不全").await?;
    checked(&ui, "returned", &mut problems).await?;

    // Edited at the station: the form comes back filled, the reason above it.
    ui.click("#applications-list button.app-edit").await?;
    ui.wait_text(
        "#app-edit-reason",
        "执法岗位填写不全",
        Duration::from_secs(20),
    )
    .await?;
    assert_eq!(
        ui.find("#app-form-name")
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("钱七")
    );
    ui.fill("#app-form-posts", "01,02").await?;
    checked(&ui, "editing", &mut problems).await?;
    ui.click("#app-edit-submit").await?;
    ui.wait_text("#notice", "重新提交", Duration::from_secs(20))
        .await?;
    ui.wait_text(
        "#applications-list tbody tr",
        "待审核",
        Duration::from_secs(20),
    )
    .await?;

    // The same application is back with the county, with the edit.
    let again = in_queue(&reg, &county, "submitted").await;
    assert_eq!(
        again["id"].as_i64(),
        Some(id),
        "the same application, not a new one"
    );
    assert_eq!(again["form"]["posts"], "01,02");
    for token in [&county, &city] {
        let (s, r) = bureau(
            &reg,
            token,
            &format!("/api/v1/applications/{id}/approve"),
            Some(json!({})),
        )
        .await;
        assert_eq!(s, 200, "{r}");
    }
    row_reads(&ui, "已批准").await?;
    assert!(
        ui.exists("#applications-list button.app-sendback").await?,
        "an approved one may be asked back"
    );
    checked(&ui, "approved", &mut problems).await?;
    assert!(problems.is_empty(), "accessibility: {problems:#?}");
    ui.close().await?;
    Ok(())
}
