//! The ecardd binary as a script sees it: exit statuses and a closed stdout.

use card_profile::verdict::Standing;
use ecardd::labels;
use ecardd::ops::verify_exit_status;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ecardd");

/// Runs ecardd with its stdout a pipe whose reading end is already closed, as in
/// `ecardd labels | head -0`: every write meets EPIPE.
fn run_into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Command::new(BIN)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run ecardd")
}

#[test]
fn a_closed_stdout_ends_the_output_quietly_without_a_panic() {
    for args in [&["labels"][..], &["labels", "--json"][..]] {
        let out = run_into_closed_pipe(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: not quiet: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn labels_prints_the_same_vocabulary_the_api_serves() {
    let out = Command::new(BIN)
        .args(["labels", "--json"])
        .output()
        .expect("run ecardd");
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(printed, labels::table());
    assert_eq!(printed["standing"]["review_failed"], "年审不合格");
}

#[test]
fn verify_exit_status_follows_the_standing_and_clears_the_failure_statuses() {
    let all = [
        Standing::Valid,
        Standing::Invalid,
        Standing::Revoked,
        Standing::Suspended,
        Standing::Expired,
        Standing::NotYetValid,
        Standing::ReviewOverdue,
        Standing::ReviewFailed,
        Standing::Unconfirmed,
    ];
    assert_eq!(all.len(), labels::STANDINGS.len());
    assert_eq!(verify_exit_status(Standing::Valid), 0);
    let mut seen = std::collections::BTreeSet::new();
    for s in all.into_iter().filter(|s| *s != Standing::Valid) {
        let code = verify_exit_status(s);
        // 1–6 are the CLI's failures (docs/OPERATIONS.md); a standing never says them.
        assert!(code >= 10, "{s:?} → {code}");
        assert!(seen.insert(code), "{s:?} shares exit status {code}");
    }
    assert_eq!(verify_exit_status(Standing::Invalid), 10);
    assert_eq!(verify_exit_status(Standing::Revoked), 11);
    assert_eq!(verify_exit_status(Standing::Suspended), 12);
    assert_eq!(verify_exit_status(Standing::ReviewFailed), 16);
}

/// `ecardd operator add` goes through the station's checks, as the admin page does:
/// a bad user name, an unknown role and a short password are refused with their
/// codes, and nothing is created; a good account is created with its audit row.
#[test]
fn operator_add_checks_what_the_admin_page_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecard.db");
    let good = dir.path().join("good");
    std::fs::write(&good, "a-long-enough-passphrase\n").expect("write");
    let short = dir.path().join("short");
    std::fs::write(&short, "abc\n").expect("write");
    let add = |username: &str, role: &str, password: &std::path::Path| {
        Command::new(BIN)
            .args(["operator", "add", "--username", username])
            .args(["--display-name", "张三", "--role", role])
            .arg("--db")
            .arg(&db)
            .arg("--password-file")
            .arg(password)
            .output()
            .expect("run ecardd")
    };
    for (username, role, password, code) in [
        ("a b", "issuer", &good, "invalid_request"),
        ("x", "issuer", &good, "invalid_request"),
        ("zhangsan", "boss", &good, "invalid_request"),
        ("zhangsan", "issuer", &short, "password_too_short"),
    ] {
        let out = add(username, role, password);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{username} {role}: {stderr}");
        assert!(stderr.contains(&format!("（{code}）")), "{stderr}");
    }
    let out = add("zhangsan", "issuer", &good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = ecardd::store::Store::open(
        &db,
        ecard_clock::Clock::frozen_on(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date")),
    )
    .expect("open");
    let ops = store.read(ecardd::store::list_operators).expect("list");
    assert_eq!(ops.len(), 1, "only the good account: {ops:?}");
    let audit = store
        .read(|c| ecardd::store::recent_audit(c, 10, None))
        .expect("audit");
    assert!(
        audit.iter().any(|a| a.action == "operator.created"),
        "{audit:?}"
    );
}

/// A key is never sealed under a short passphrase: `keys root init` with an
/// eleven-character passphrase is refused with its code and writes no file.
#[test]
fn a_short_passphrase_seals_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pass = dir.path().join("root.pass");
    std::fs::write(&pass, "elevenchars\n").expect("write");
    let out_file = dir.path().join("root.json");
    let out = Command::new(BIN)
        .args(["keys", "root", "init", "--name", "测试省根"])
        .arg("--out")
        .arg(&out_file)
        .arg("--passphrase-file")
        .arg(&pass)
        .output()
        .expect("run ecardd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("（passphrase_too_short）"), "{stderr}");
    assert!(stderr.contains("至少 12 个字符"), "{stderr}");
    assert!(!out_file.exists());
}

/// The key passphrase comes from `--passphrase-file`, from standard input with `-`
/// (an operator typing it), or from the systemd credential `ecardd-passphrase`
/// (`LoadCredentialEncrypted=`): `ecardd sync` on a station not yet enrolled gets
/// past the passphrase in the last two cases (and then says it is not enrolled),
/// and asks for one when none is given.
#[test]
fn the_passphrase_comes_from_stdin_or_the_systemd_credential() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecard.db");
    let creds = dir.path().join("credentials");
    std::fs::create_dir(&creds).expect("mkdir");
    let sync = |credentials: Option<&std::path::Path>, stdin: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["sync", "--db"])
            .arg(&db)
            .env_remove("CREDENTIALS_DIRECTORY");
        if let Some(c) = credentials {
            cmd.env("CREDENTIALS_DIRECTORY", c);
        }
        if stdin.is_some() {
            cmd.args(["--passphrase-file", "-"]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ecardd");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // No passphrase anywhere: asked for.
    let none = sync(None, None);
    assert!(none.contains("（invalid_request）"), "{none}");
    // The credential directory without the credential: still none.
    let empty = sync(Some(&creds), None);
    assert!(empty.contains("（invalid_request）"), "{empty}");
    // The credential, or a line on stdin: past the passphrase.
    std::fs::write(creds.join("ecardd-passphrase"), "a-long-passphrase\n").expect("write");
    let from_credential = sync(Some(&creds), None);
    assert!(
        from_credential.contains("（sync_not_enrolled）"),
        "{from_credential}"
    );
    let from_stdin = sync(None, Some("a-long-passphrase\n"));
    assert!(from_stdin.contains("（sync_not_enrolled）"), "{from_stdin}");
    // An empty line on stdin is no passphrase.
    let blank = sync(None, Some("\n"));
    assert!(blank.contains("为空"), "{blank}");
}

/// A province configuration that cannot be used stops the start, naming the file
/// and the field; a good one is taken.
#[test]
fn a_bad_province_configuration_stops_the_start_naming_the_field() {
    let dir = tempfile::tempdir().expect("dir");
    let mut cfg: serde_json::Value =
        serde_json::from_str(ecard_domain::province::SICHUAN_JSON).expect("json");
    cfg["photo"]["min_bytes"] = serde_json::json!(500_000);
    let bad = dir.path().join("province.json");
    std::fs::write(&bad, cfg.to_string()).expect("write");
    let out = Command::new(BIN)
        .args(["serve", "--db"])
        .arg(dir.path().join("station.db"))
        .arg("--province-config")
        .arg(&bad)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("ECARD_PROVINCE_CONFIG")
        .output()
        .expect("run ecardd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("photo.min_bytes"), "{stderr}");
    assert!(stderr.contains("province.json"), "{stderr}");
}

/// The reviewing body written to cards is the bureau the station's keys were made
/// for (`keys init --bureau`), not a command-line default: the station opened with
/// its keys, and without them (for 设置), names that bureau.
#[test]
fn the_bureau_on_cards_is_the_one_keys_init_was_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |name: &str| dir.path().join(name);
    std::fs::write(p("root.pass"), "root-passphrase-long\n").expect("write");
    std::fs::write(p("station.pass"), "station-passphrase-long\n").expect("write");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(BIN)
            .args(args)
            .env("ECARD_TODAY", "2026-06-01")
            .output()
            .expect("run ecardd");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    run(&[
        &os("keys"),
        &os("root"),
        &os("init"),
        &os("--name"),
        &os("测试省根"),
        &os("--out"),
        p("root.json").as_os_str(),
        &os("--passphrase-file"),
        p("root.pass").as_os_str(),
    ]);
    run(&[
        &os("keys"),
        &os("init"),
        &os("--db"),
        p("ecard.db").as_os_str(),
        &os("--bureau"),
        &os("某市司法局"),
        &os("--root"),
        p("root.json").as_os_str(),
        &os("--root-passphrase-file"),
        p("root.pass").as_os_str(),
        &os("--passphrase-file"),
        p("station.pass").as_os_str(),
    ]);
    let config = || ecardd::ops::StationConfig {
        bureau_name: "司法局".into(),
        ..Default::default()
    };
    let clock =
        ecard_clock::Clock::frozen_on(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date"));
    let unlocked = ecardd::server::open_station(
        &p("ecard.db"),
        Some("station-passphrase-long"),
        config(),
        clock,
    )
    .expect("open with keys");
    assert_eq!(unlocked.config.bureau_name, "某市司法局");
    let locked = ecardd::server::open_station(&p("ecard.db"), None, config(), clock)
        .expect("open without keys");
    assert_eq!(locked.config.bureau_name, "某市司法局");
}
