//! Setting a station's keys up with the real ecardd binary, as docs/OPERATIONS.md
//! tells an operator: the bureau master key handed to the card vendor and taken from
//! one, its check value on both sides, `keys init` refused a second time with the
//! documented status, flags after the subcommand, and `ECARDD_DB`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ecardd");
/// Every child runs on this day (the certificates' dates).
const TODAY: &str = "2026-06-01";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        let dir = Self(tempfile::tempdir().expect("tempdir"));
        dir.write("root.pass", "root-passphrase-long\n");
        dir.write("station.pass", "station-passphrase-long\n");
        dir.write("transfer.pass", "transfer-passphrase-long\n");
        dir
    }

    fn p(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.p(name), text).expect("write");
    }

    fn root(&self) {
        let out = run(&[
            "keys",
            "root",
            "init",
            "--name",
            "测试省根",
            "--out",
            &s(&self.p("root.json")),
            "--passphrase-file",
            &s(&self.p("root.pass")),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// `keys init` for database `db`, with extra arguments.
    fn init(&self, db: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "keys".to_owned(),
            "init".into(),
            "--db".into(),
            s(&self.p(db)),
            "--bureau".into(),
            "某市司法局".into(),
            "--root".into(),
            s(&self.p("root.json")),
            "--root-passphrase-file".into(),
            s(&self.p("root.pass")),
            "--passphrase-file".into(),
            s(&self.p("station.pass")),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("ECARD_TODAY", TODAY)
        .env_remove("ECARDD_DB")
        .env_remove("ECARDD_PASSPHRASE_FILE")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .expect("run ecardd")
}

/// The check value printed after 「主密钥校验值（KCV）：」.
fn kcv(out: &Output) -> String {
    let stdout = text(&out.stdout);
    let at = stdout
        .find("KCV）：")
        .unwrap_or_else(|| panic!("no check value printed: {stdout}"));
    stdout[at + "KCV）：".len()..].chars().take(6).collect()
}

#[test]
fn init_prints_the_check_value_and_what_to_do_next_and_a_second_init_exits_2() {
    let d = Dir::new();
    d.root();
    let first = d.init("a.db", &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    let check = kcv(&first);
    assert!(
        check.len() == 6 && check.chars().all(|c| c.is_ascii_hexdigit()),
        "{stdout}"
    );
    assert!(
        stdout.contains("下一步") && stdout.contains("export-master"),
        "{stdout}"
    );
    // `keys status` shows the same check value, without the passphrase.
    let status = run(&["keys", "status", "--db", &s(&d.p("a.db"))]);
    assert!(
        text(&status.stdout).contains(&check),
        "{}",
        text(&status.stdout)
    );

    let again = d.init("a.db", &[]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("（keys_exist）"),
        "{}",
        text(&again.stderr)
    );
}

/// The bureau's station generates the master key and exports it for the vendor; the
/// vendor opens it (same check value, the key in hex for its personalisation
/// system), seals it again, and a second station imports that file: one key, one
/// check value everywhere. A wrong transfer passphrase opens nothing.
#[test]
fn the_master_key_goes_to_the_vendor_and_back_with_one_check_value() {
    let d = Dir::new();
    d.root();
    let made = d.init("a.db", &[]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let check = kcv(&made);

    let export = run(&[
        "keys",
        "export-master",
        "--db",
        &s(&d.p("a.db")),
        "--passphrase-file",
        &s(&d.p("station.pass")),
        "--transfer-passphrase-file",
        &s(&d.p("transfer.pass")),
        "--out",
        &s(&d.p("for-vendor.json")),
    ]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    assert_eq!(kcv(&export), check);
    let file = std::fs::read_to_string(d.p("for-vendor.json")).expect("transfer file");
    assert!(file.contains(&check) && file.contains("ecard-master-key-transfer-v1"));

    // The vendor, with a wrong passphrase: refused, nothing written.
    d.write("wrong.pass", "not-the-transfer-passphrase\n");
    let wrong = run(&[
        "keys",
        "open-master",
        "--in",
        &s(&d.p("for-vendor.json")),
        "--transfer-passphrase-file",
        &s(&d.p("wrong.pass")),
        "--out",
        &s(&d.p("master.hex")),
    ]);
    assert!(!wrong.status.success());
    assert!(
        text(&wrong.stderr).contains("传递口令错误"),
        "{}",
        text(&wrong.stderr)
    );
    assert!(!d.p("master.hex").exists());
    // With the right one: the key in hex, owner-only, and the same check value.
    let opened = run(&[
        "keys",
        "open-master",
        "--in",
        &s(&d.p("for-vendor.json")),
        "--transfer-passphrase-file",
        &s(&d.p("transfer.pass")),
        "--out",
        &s(&d.p("master.hex")),
    ]);
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    assert_eq!(kcv(&opened), check);
    let hex = std::fs::read_to_string(d.p("master.hex")).expect("master.hex");
    assert!(hex.len() == 32 || hex.len() == 64, "{hex}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.p("master.hex"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "master.hex readable by others: {mode:o}");

    // The vendor seals it for the bureau; a second station imports it.
    let sealed = run(&[
        "keys",
        "seal-master",
        "--master-key-file",
        &s(&d.p("master.hex")),
        "--transfer-passphrase-file",
        &s(&d.p("transfer.pass")),
        "--out",
        &s(&d.p("from-vendor.json")),
    ]);
    assert!(sealed.status.success(), "{}", text(&sealed.stderr));
    assert_eq!(kcv(&sealed), check);
    let second = d.init(
        "b.db",
        &[
            "--master-key-sealed",
            &s(&d.p("from-vendor.json")),
            "--master-key-passphrase-file",
            &s(&d.p("transfer.pass")),
        ],
    );
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(kcv(&second), check);
    assert!(!text(&second.stdout).contains("export-master"));
}

/// Flags go where a user puts them: the station's options after a subcommand
/// (`sync enroll --passphrase-file F` was refused as an unexpected argument), and
/// `ECARDD_DB` names the database of every command that opens one.
#[test]
fn station_flags_work_after_the_subcommand_and_every_command_honours_ecardd_db() {
    let d = Dir::new();
    let enroll = run(&[
        "sync",
        "enroll",
        "--registry",
        "http://127.0.0.1:9/",
        "--station-id",
        "test-station",
        "--insecure-loopback-http",
        "--db",
        &s(&d.p("enroll.db")),
        "--passphrase-file",
        &s(&d.p("station.pass")),
    ]);
    let stderr = text(&enroll.stderr);
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
    assert!(
        d.p("enroll.db").exists(),
        "the --db after the subcommand was not used: {stderr}"
    );

    // Each command that opens the database, with ECARDD_DB and no --db.
    d.write("junk.xlsx", "not a roster");
    let junk = s(&d.p("junk.xlsx"));
    // (The card commands take the same StationArgs as `sync`; they are left out here
    // because they would talk to the machine's pcscd.)
    let commands: [&[&str]; 4] = [
        &["keys", "status"],
        &["audit", "verify"],
        &["sync", "--status"],
        &["import", &junk],
    ];
    for (i, args) in commands.iter().enumerate() {
        let db = d.p(&format!("env-{i}.db"));
        let out = Command::new(BIN)
            .args(*args)
            .env("ECARD_TODAY", TODAY)
            .env("ECARDD_DB", &db)
            .output()
            .expect("run ecardd");
        assert!(
            db.exists(),
            "`ecardd {}` did not open $ECARDD_DB: {}",
            args.join(" "),
            text(&out.stderr)
        );
    }
}

/// A 国密 province (#17): `keys root init --suite sm`, then `keys init` under it
/// gives an SM station: its check value is SM4's (the same at `keys status` and in
/// the vendor's transfer file, which says its suite), and the vendor's `open-master`
/// gives the 16-byte key with that check value.
#[test]
fn an_sm_root_makes_an_sm_station_whose_key_goes_to_the_vendor_with_an_sm4_check_value() {
    let d = Dir::new();
    let out = run(&[
        "keys",
        "root",
        "init",
        "--suite",
        "sm",
        "--name",
        "国密省根",
        "--out",
        &s(&d.p("root.json")),
        "--passphrase-file",
        &s(&d.p("root.pass")),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let root = std::fs::read_to_string(d.p("root.json")).expect("root file");
    assert!(
        root.contains("\"suite\": \"sm\"") && root.contains("sm4-gcm"),
        "{root}"
    );

    let made = d.init("a.db", &[]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let check = kcv(&made);
    let export = run(&[
        "keys",
        "export-master",
        "--db",
        &s(&d.p("a.db")),
        "--passphrase-file",
        &s(&d.p("station.pass")),
        "--transfer-passphrase-file",
        &s(&d.p("transfer.pass")),
        "--out",
        &s(&d.p("for-vendor.json")),
    ]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    assert_eq!(kcv(&export), check);
    let file = std::fs::read_to_string(d.p("for-vendor.json")).expect("transfer file");
    assert!(file.contains("\"suite\": \"sm\""), "{file}");
    let opened = run(&[
        "keys",
        "open-master",
        "--in",
        &s(&d.p("for-vendor.json")),
        "--transfer-passphrase-file",
        &s(&d.p("transfer.pass")),
        "--out",
        &s(&d.p("master.hex")),
    ]);
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    assert_eq!(kcv(&opened), check);
    let hex = std::fs::read_to_string(d.p("master.hex")).expect("master.hex");
    assert_eq!(hex.trim().len(), 32, "{hex}");
    // The same bytes as an AES key have another check value: the SM4 one was shown.
    let aes = card_profile::keys::MasterKey::from_hex(hex.trim())
        .expect("hex")
        .check_value();
    assert_ne!(aes, check);
}

/// `keys init` keeps the signer's X.509 certificate (PIV cards need it); `keys root
/// x509` and `keys signer-x509 --out` give the PEM files openssl checks a PIV card's
/// chain with; `keys signer-x509` refuses a root that did not certify the signer.
#[test]
fn the_x509_chain_for_piv_cards_comes_from_keys_init_and_checks_with_openssl() {
    let dir = Dir::new();
    dir.root();
    let out = dir.init("a.db", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let conn = rusqlite::Connection::open(dir.p("a.db")).expect("db");
    let stored: String = conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'signer_x509'",
            [],
            |r| r.get(0),
        )
        .expect("keys init stored the signer's X.509 certificate");
    assert!(hex::decode(&stored).is_ok_and(|d| d.first() == Some(&0x30)));

    let out = run(&[
        "keys",
        "root",
        "x509",
        "--root",
        &s(&dir.p("root.json")),
        "--passphrase-file",
        &s(&dir.p("root.pass")),
        "--out",
        &s(&dir.p("root.pem")),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&[
        "keys",
        "signer-x509",
        "--db",
        &s(&dir.p("a.db")),
        "--root",
        &s(&dir.p("root.json")),
        "--root-passphrase-file",
        &s(&dir.p("root.pass")),
        "--out",
        &s(&dir.p("signer.pem")),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(dir.p("root.pem"))
        .arg(dir.p("signer.pem"))
        .output()
        .expect("openssl");
    assert!(
        text(&verify.stdout).contains("signer.pem: OK"),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );

    // Another province's root did not certify this station's signer.
    let other = run(&[
        "keys",
        "root",
        "init",
        "--name",
        "别省根",
        "--out",
        &s(&dir.p("other.json")),
        "--passphrase-file",
        &s(&dir.p("root.pass")),
    ]);
    assert!(other.status.success());
    let out = run(&[
        "keys",
        "signer-x509",
        "--db",
        &s(&dir.p("a.db")),
        "--root",
        &s(&dir.p("other.json")),
        "--root-passphrase-file",
        &s(&dir.p("root.pass")),
    ]);
    assert!(!out.status.success());
}
