//! `ecardd doctor` against deliberately broken setups, through the real binary:
//! no pcscd (its socket pointed at a path where nothing listens), a file that is
//! not a database, an edited audit row. Each must be a fault, and the exit status 8.

use ecardd::store::Store;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs `ecardd doctor --json --offline` on `db` with no pcscd reachable.
fn doctor(db: &Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecardd"))
        .args(["doctor", "--offline", "--json", "--db"])
        .arg(db)
        // libpcsclite's client connects to this socket instead of pcscd's.
        .env("PCSCLITE_CSOCK_NAME", db.with_extension("no-pcscd.comm"))
        .env("ECARD_TODAY", "2026-06-01")
        .env_remove("ECARDD_PASSPHRASE_FILE")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .expect("run ecardd doctor");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn level_of(report: &Value, code: &str) -> Option<String> {
    report["findings"]
        .as_array()?
        .iter()
        .find(|f| f["code"] == code)
        .and_then(|f| f["level"].as_str())
        .map(str::to_owned)
}

#[test]
fn no_pcscd_and_a_corrupt_database_are_faults_with_exit_status_8() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecard.db");
    std::fs::write(&db, vec![0x5a; 8192]).expect("write garbage");
    let (status, report) = doctor(&db);
    assert_eq!(status, 8, "{report}");
    assert_eq!(report["worst"], "fault");
    assert_eq!(
        level_of(&report, "pcscd_unreachable").as_deref(),
        Some("fault"),
        "{report}"
    );
    assert_eq!(
        level_of(&report, "database_unreadable").as_deref(),
        Some("fault"),
        "{report}"
    );
    // Every line says what to do in both languages.
    for f in report["findings"].as_array().expect("findings") {
        if f["level"] != "ok" {
            assert!(f["fix_zh"].is_string() && f["fix_en"].is_string(), "{f}");
        }
    }
    // The garbage is left as it was: the doctor repairs nothing.
    assert_eq!(std::fs::read(&db).expect("read"), vec![0x5a; 8192]);
}

#[test]
fn an_edited_audit_row_is_a_fault() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecard.db");
    let clock =
        ecard_clock::Clock::frozen_on(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date"));
    {
        let store = Store::open(&db, clock).expect("open");
        for n in 0..3 {
            store
                .write("test", |tx| {
                    tx.audit("test.row", &n.to_string(), serde_json::json!({ "n": n }))?;
                    Ok(())
                })
                .expect("write");
        }
    }
    let (status, report) = doctor(&db);
    assert_eq!(
        level_of(&report, "audit_ok").as_deref(),
        Some("ok"),
        "{report}"
    );
    assert_eq!(
        level_of(&report, "database_ok").as_deref(),
        Some("ok"),
        "{report}"
    );
    assert_eq!(status, 8, "no pcscd is still a fault: {report}");

    let conn = rusqlite::Connection::open(&db).expect("open raw");
    conn.execute(
        "UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 2",
        [],
    )
    .expect("edit a row");
    drop(conn);
    let (status, report) = doctor(&db);
    assert_eq!(status, 8);
    assert_eq!(
        level_of(&report, "audit_broken").as_deref(),
        Some("fault"),
        "{report}"
    );
}

#[test]
fn a_missing_database_is_a_warning_and_is_not_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecard.db");
    let (_, report) = doctor(&db);
    assert_eq!(
        level_of(&report, "database_missing").as_deref(),
        Some("warning"),
        "{report}"
    );
    assert!(!db.exists(), "the doctor created the database");
}
