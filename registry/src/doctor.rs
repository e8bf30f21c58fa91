//! `ecard-registry doctor`: is this registry set up to work? The database (integrity
//! check), the list-signing key every station pinned, the TLS certificate and its
//! pin, the trust list stations take, the clock, and whether it answers on its
//! address. Each line ok / warning / fault in Chinese and English with what to do;
//! the same JSON shape as `ecardd doctor`. The checks are plain functions of facts.

use crate::storage::db::DatabaseUrl;
use chrono::{Datelike, NaiveDate};
use std::path::Path;

// The report's shape is `ecardd doctor`'s (one crate, one JSON for both).
pub use ecard_doctor_report::{Finding, Level, Report, EXIT_FAULT, EXIT_WARNING};

fn ok(check: &'static str, code: &'static str, zh: String, en: String) -> Finding {
    Finding::ok(check, code, zh, en)
}

fn bad(
    check: &'static str,
    level: Level,
    code: &'static str,
    zh: String,
    en: String,
    fix: (&str, &str),
) -> Finding {
    Finding::bad(check, level, code, (zh, en), fix)
}

const RESTORE: (&str, &str) = (
    "停止服务，从最近的备份恢复数据库",
    "stop the service and restore the database from the latest backup",
);

/// What the database gave: missing, unreadable, or its integrity-check lines and
/// the trust list's number (`None`: none published).
#[derive(Debug, Clone)]
pub enum DatabaseFacts {
    Missing,
    Unreadable(String),
    Opened {
        integrity: Vec<String>,
        trust_list: Option<u64>,
    },
}

pub fn database(d: &DatabaseFacts, path: &str) -> Vec<Finding> {
    match d {
        DatabaseFacts::Missing => vec![bad(
            "database",
            Level::Warning,
            "database_missing",
            format!("数据库 {path} 尚不存在"),
            format!("the database {path} does not exist yet"),
            (
                "启动服务（首次启动时创建），或检查 --db",
                "start the service (the first start creates it), or check --db",
            ),
        )],
        DatabaseFacts::Unreadable(why) => vec![bad(
            "database",
            Level::Fault,
            "database_unreadable",
            format!("无法打开数据库 {path}：{why}"),
            format!("cannot open the database {path}: {why}"),
            RESTORE,
        )],
        DatabaseFacts::Opened {
            integrity,
            trust_list,
        } => {
            let mut out = vec![if integrity.len() == 1 && integrity[0] == "ok" {
                ok(
                    "database",
                    "database_ok",
                    format!("数据库完整：{path}"),
                    format!("database integrity ok: {path}"),
                )
            } else {
                let first = integrity.first().cloned().unwrap_or_default();
                bad(
                    "database",
                    Level::Fault,
                    "database_corrupt",
                    format!("数据库损坏：{first}"),
                    format!("the database is corrupt: {first}"),
                    RESTORE,
                )
            }];
            out.push(match trust_list {
                Some(n) => ok(
                    "trust_list",
                    "trust_list_ok",
                    format!("已发布第 {n} 号信任列表"),
                    format!("trust list number {n} is published"),
                ),
                None => bad(
                    "trust_list",
                    Level::Warning,
                    "trust_list_missing",
                    "尚未发布信任列表：新站点无法取得根证书".into(),
                    "no trust list is published: stations cannot take the province's roots".into(),
                    (
                        "ecard-registry trust-list publish --file 签名的列表",
                        "ecard-registry trust-list publish --file <signed list>",
                    ),
                ),
            });
            out
        }
    }
}

/// The list-signing key file: `Ok(Some(id))` loads, `Ok(None)` missing.
pub fn signing_key(k: &Result<Option<String>, String>) -> Finding {
    match k {
        Ok(Some(id)) => ok("signing_key", "signing_key_ok", format!("名单签名密钥可用，编号 {id}"), format!("list-signing key usable, key id {id}")),
        Ok(None) => bad(
            "signing_key",
            Level::Warning,
            "signing_key_missing",
            "名单签名密钥尚不存在".into(),
            "the list-signing key does not exist yet".into(),
            ("首次启动时生成；把 ecard-registry key 打印的编号交给各站", "the first start makes it; give the key id ecard-registry key prints to every station"),
        ),
        Err(why) => bad(
            "signing_key",
            Level::Fault,
            "signing_key_unreadable",
            format!("名单签名密钥无法读取：{why}"),
            format!("the list-signing key cannot be read: {why}"),
            ("从备份恢复密钥文件：各站固定的是这把密钥", "restore the key file from a backup: it is the key every station pinned"),
        ),
    }
}

/// The TLS certificate: `Ok(Some(pin))`, `Ok(None)` missing (plain loopback HTTP,
/// or generated at first start).
pub fn tls(t: &Result<Option<String>, String>) -> Finding {
    match t {
        Ok(Some(pin)) => ok(
            "tls",
            "tls_ok",
            format!("TLS 证书指纹 sha256:{pin}"),
            format!("TLS certificate pin sha256:{pin}"),
        ),
        Ok(None) => bad(
            "tls",
            Level::Warning,
            "tls_missing",
            "没有 TLS 证书（首次以 TLS 启动时生成）".into(),
            "no TLS certificate (made at the first start with TLS)".into(),
            (
                "启动服务；把 ecard-registry tls-pin 打印的指纹交给各站",
                "start the service; give the pin ecard-registry tls-pin prints to every station",
            ),
        ),
        Err(why) => bad(
            "tls",
            Level::Fault,
            "tls_unreadable",
            format!("TLS 证书无法读取：{why}"),
            format!("the TLS certificate cannot be read: {why}"),
            (
                "从备份恢复证书和私钥",
                "restore the certificate and its key from a backup",
            ),
        ),
    }
}

pub fn clock(today: NaiveDate, moved: bool) -> Finding {
    if today.year_ce().1 < 2025 {
        return bad(
            "clock",
            Level::Fault,
            "clock_implausible",
            format!("系统日期 {today} 不可信"),
            format!("the system date {today} is implausible"),
            (
                "校准系统时间（timedatectl set-ntp true）",
                "set the system time (timedatectl set-ntp true)",
            ),
        );
    }
    if moved {
        return bad(
            "clock",
            Level::Warning,
            "clock_moved",
            format!("日期被 ECARD_TODAY 设为 {today}"),
            format!("the date is moved to {today} by ECARD_TODAY"),
            (
                "生产环境去掉 ECARD_TODAY",
                "unset ECARD_TODAY in production",
            ),
        );
    }
    ok(
        "clock",
        "clock_ok",
        format!("日期 {today}"),
        format!("date {today}"),
    )
}

/// Whether something accepts connections on the listen address (`None`: not asked).
pub fn listening(addr: &str, answer: Option<Result<(), String>>) -> Option<Finding> {
    Some(match answer? {
        Ok(()) => ok(
            "listening",
            "listening_ok",
            format!("{addr} 有服务在监听"),
            format!("something listens on {addr}"),
        ),
        Err(why) => bad(
            "listening",
            Level::Fault,
            "not_listening",
            format!("{addr} 无人监听：{why}"),
            format!("nothing listens on {addr}: {why}"),
            (
                "systemctl start ecard-registry；journalctl -u ecard-registry 查看原因",
                "systemctl start ecard-registry; see journalctl -u ecard-registry",
            ),
        ),
    })
}

/// Reads the key file without generating one.
pub fn key_facts(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read(path) {
        Ok(bytes) => card_profile::pki::SigningKey::from_pkcs8_any(&bytes)
            .map(|k| Some(hex::encode(card_profile::pki::key_id(&k.public_key()))))
            .map_err(|e| e.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

pub fn tls_facts(cert: &Path) -> Result<Option<String>, String> {
    if !cert.exists() {
        return Ok(None);
    }
    crate::tls::pin_of(cert)
        .map(|p| Some(hex::encode(p)))
        .map_err(|e| e.to_string())
}

/// Opens the database without creating it: integrity first, then the trust list.
pub fn database_facts(db: &DatabaseUrl) -> DatabaseFacts {
    let path = match db {
        DatabaseUrl::Sqlite(path) => path,
        DatabaseUrl::Postgres(url) => {
            return match crate::storage::inspect::inspect_postgres(url) {
                Ok(None) => DatabaseFacts::Missing,
                Ok(Some(i)) => DatabaseFacts::Opened {
                    integrity: i.integrity,
                    trust_list: i.trust_list,
                },
                Err(e) => DatabaseFacts::Unreadable(e),
            }
        }
    };
    if !path.exists() {
        return DatabaseFacts::Missing;
    }
    match crate::storage::inspect::inspect(path) {
        Ok(i) => DatabaseFacts::Opened {
            integrity: i.integrity,
            trust_list: i.trust_list,
        },
        Err(e) => DatabaseFacts::Unreadable(e),
    }
}

/// The whole report.
pub struct Situation<'a> {
    pub db: &'a DatabaseUrl,
    pub key_file: &'a Path,
    pub tls_cert: &'a Path,
    pub today: NaiveDate,
    pub clock_moved: bool,
    pub listen: Option<(String, Result<(), String>)>,
}

pub fn report(s: Situation<'_>) -> Report {
    let mut findings = database(&database_facts(s.db), &s.db.display());
    findings.push(signing_key(&key_facts(s.key_file)));
    findings.push(tls(&tls_facts(s.tls_cert)));
    findings.push(clock(s.today, s.clock_moved));
    if let Some((addr, answer)) = s.listen {
        findings.extend(listening(&addr, Some(answer)));
    }
    Report::new(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn c(f: &Finding) -> (&'static str, Level) {
        (f.code, f.level)
    }

    #[test]
    fn each_finding_kind() {
        let opened = |i: &[&str], t| DatabaseFacts::Opened {
            integrity: i.iter().map(|s| s.to_string()).collect(),
            trust_list: t,
        };
        let db = |f: DatabaseFacts| database(&f, "/x").iter().map(c).collect::<Vec<_>>();
        assert_eq!(
            db(DatabaseFacts::Missing),
            [("database_missing", Level::Warning)]
        );
        assert_eq!(
            db(DatabaseFacts::Unreadable("file is not a database".into())),
            [("database_unreadable", Level::Fault)]
        );
        assert_eq!(
            db(opened(&["ok"], Some(3))),
            [("database_ok", Level::Ok), ("trust_list_ok", Level::Ok)]
        );
        assert_eq!(
            db(opened(&["row 1 missing from index"], None)),
            [
                ("database_corrupt", Level::Fault),
                ("trust_list_missing", Level::Warning)
            ]
        );
        assert_eq!(
            c(&signing_key(&Ok(Some("ab".into())))),
            ("signing_key_ok", Level::Ok)
        );
        assert_eq!(
            c(&signing_key(&Ok(None))),
            ("signing_key_missing", Level::Warning)
        );
        assert_eq!(
            c(&signing_key(&Err("bad".into()))),
            ("signing_key_unreadable", Level::Fault)
        );
        assert_eq!(c(&tls(&Ok(Some("ab".into())))), ("tls_ok", Level::Ok));
        assert_eq!(c(&tls(&Ok(None))), ("tls_missing", Level::Warning));
        assert_eq!(
            c(&tls(&Err("bad".into()))),
            ("tls_unreadable", Level::Fault)
        );
        assert_eq!(c(&clock(d("2026-01-01"), false)), ("clock_ok", Level::Ok));
        assert_eq!(
            c(&clock(d("2026-01-01"), true)),
            ("clock_moved", Level::Warning)
        );
        assert_eq!(
            c(&clock(d("2000-01-01"), false)),
            ("clock_implausible", Level::Fault)
        );
        assert!(listening("a", None).is_none());
        assert_eq!(
            listening("a", Some(Ok(()))).map(|f| c(&f)),
            Some(("listening_ok", Level::Ok))
        );
        assert_eq!(
            listening("a", Some(Err("refused".into()))).map(|f| c(&f)),
            Some(("not_listening", Level::Fault))
        );
    }

    #[test]
    fn the_worst_finding_sets_the_exit_status() {
        assert_eq!(
            Report::new(vec![clock(d("2026-01-01"), false)]).exit_status(),
            0
        );
        assert_eq!(
            Report::new(vec![clock(d("2026-01-01"), true)]).exit_status(),
            EXIT_WARNING
        );
        assert_eq!(
            Report::new(vec![clock(d("2026-01-01"), true), tls(&Err("x".into()))]).exit_status(),
            EXIT_FAULT
        );
    }

    #[test]
    fn a_corrupt_file_and_a_missing_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("registry.db");
        let url = DatabaseUrl::Sqlite(db.clone());
        assert!(matches!(database_facts(&url), DatabaseFacts::Missing));
        std::fs::write(&db, b"this is not a database, only forty bytes.").expect("write");
        assert!(matches!(database_facts(&url), DatabaseFacts::Unreadable(_)));
        let key = dir.path().join("list-key.p8");
        assert_eq!(key_facts(&key), Ok(None));
        std::fs::write(&key, b"garbage").expect("write");
        assert!(key_facts(&key).is_err());
    }
}
