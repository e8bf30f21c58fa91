//! Gathering the facts the checks judge: the driver directories, the database
//! (opened without creating anything), the keys, the registry (asked for its key),
//! the revocation list's age. The CLI and the API both come here; the API passes
//! the running station's store and readers instead of opening its own.

use super::{DatabaseFacts, Finding, KeyFacts, ProbeAnswer, RegistryFacts, Report};
use crate::keyring;
use crate::store::{self, Store};
use ecard_clock::Clock;
use ecard_sync_protocol::client::{http_client, RegistryTls};
use ecard_sync_protocol::revocation::RegistryKey;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Where pcscd finds reader drivers: bundles, and serial drivers' configuration.
pub const DRIVER_DIR: &str = "/usr/lib/pcsc/drivers";
pub const READER_CONF_DIR: &str = "/etc/reader.conf.d";

/// The bundles (`ifd-ccid.bundle`) and serial driver entries (`reader.conf.d/vpcd`)
/// installed, sorted.
pub fn installed_drivers(driver_dir: &Path, conf_dir: &Path) -> Vec<String> {
    let names = |dir: &Path, keep: &dyn Fn(&str) -> bool| -> Vec<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| keep(n))
            .collect()
    };
    let mut out = names(driver_dir, &|n| n.ends_with(".bundle"));
    out.extend(names(conf_dir, &|n| !n.starts_with('.')));
    out.sort();
    out
}

/// Opens the database for the doctor: never creates it, and never as another user
/// than its owner (root opening a WAL database leaves `-wal`/`-shm` files the
/// service then cannot open). Returns the facts and, when it opened, the store.
pub fn open_database(path: &Path, clock: Clock) -> (DatabaseFacts, Option<Store>) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (DatabaseFacts::Missing, None)
        }
        Err(e) => return (DatabaseFacts::Unreadable(e.to_string()), None),
    };
    if let Some(me) = effective_uid() {
        if me != meta.uid() {
            return (
                DatabaseFacts::Unreadable(format!(
                    "属于用户 {}，请以该用户运行（runuser -u ecard -- ecardd doctor） / owned by uid {}, run as that user",
                    meta.uid(),
                    meta.uid()
                )),
                None,
            );
        }
    }
    let integrity = match integrity_check(path) {
        Ok(lines) => lines,
        Err(e) => return (DatabaseFacts::Unreadable(e), None),
    };
    let readable_by_others = meta.mode() & 0o077 != 0;
    if integrity != ["ok"] {
        return (
            DatabaseFacts::Opened {
                integrity,
                audit_rows: 0,
                audit_broken: None,
                readable_by_others,
            },
            None,
        );
    }
    let store = match Store::open(path, clock) {
        Ok(s) => s,
        Err(e) => return (DatabaseFacts::Unreadable(e.to_string()), None),
    };
    let facts = database_facts(&store, integrity, readable_by_others);
    (facts, Some(store))
}

/// The facts of an open store (the running station's, for the API).
pub fn database_facts(
    store: &Store,
    integrity: Vec<String>,
    readable_by_others: bool,
) -> DatabaseFacts {
    match store.verify_audit_chain() {
        Ok(chain) => DatabaseFacts::Opened {
            integrity,
            audit_rows: chain.rows.max(0) as u64,
            audit_broken: chain.first_broken,
            readable_by_others,
        },
        Err(e) => DatabaseFacts::Unreadable(e.to_string()),
    }
}

/// `PRAGMA integrity_check` on an existing file, before anything else touches it.
pub fn integrity_check(path: &Path) -> Result<Vec<String>, String> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    store::integrity_check(&conn).map_err(|e| e.to_string())
}

/// This process's effective user: the owner of `/proc/self`.
fn effective_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The keys' facts; `unlocked` as the caller knows it, `open_signer_until` the end
/// of the signer the process holds open (keys not sealed in the store: demo mode).
pub fn key_facts(
    store: &Store,
    unlocked: Option<bool>,
    open_signer_until: Option<chrono::NaiveDate>,
) -> Result<KeyFacts, String> {
    let status = keyring::status(store).map_err(|e| e.message_zh())?;
    Ok(KeyFacts {
        initialised: status.master || open_signer_until.is_some(),
        signer_valid_until: status
            .signer
            .as_ref()
            .map(|s| s.valid_until)
            .or(open_signer_until),
        trust_anchors: status.trust.len(),
        unlocked,
    })
}

/// The day of the newest audit row (the clock must not be behind it).
pub fn newest_record(store: &Store) -> Option<chrono::NaiveDate> {
    let at = store.read(store::newest_at).ok().flatten();
    at.as_deref()
        .and_then(|t| t.get(..10))
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// The registry: enrolled? pinned? and, with `ask`, what it answers for its key.
pub async fn registry_facts(store: &Store, ask: bool) -> RegistryFacts {
    let Ok(Some(id)) = store.read(store::sync_identity) else {
        return RegistryFacts::NotEnrolled;
    };
    let pinned_key: Option<RegistryKey> = serde_json::from_str(&id.registry_key).ok();
    let tls = store
        .setting(crate::sync::REGISTRY_TLS)
        .ok()
        .flatten()
        .as_deref()
        .and_then(RegistryTls::from_setting);
    let (Some(pinned_key), Some(tls)) = (pinned_key, tls) else {
        return RegistryFacts::Enrolled {
            url: id.registry_url,
            pinned: false,
            probe: None,
        };
    };
    let probe = if ask {
        Some(ask_key(&id.registry_url, tls, &pinned_key).await)
    } else {
        None
    };
    RegistryFacts::Enrolled {
        url: id.registry_url,
        pinned: true,
        probe,
    }
}

/// How long the doctor waits for the registry.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn ask_key(url: &str, tls: RegistryTls, pinned: &RegistryKey) -> Result<ProbeAnswer, String> {
    let http = http_client(url, tls).map_err(|e| e.to_string())?;
    let base = url.trim_end_matches('/');
    let resp = http
        .get(format!(
            "{base}{}",
            ecard_sync_protocol::paths::REGISTRY_KEY
        ))
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    // The key is a few hundred bytes; a longer answer is not a registry's.
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    if bytes.len() > 4096 {
        return Err("answer too long".into());
    }
    let key: RegistryKey = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    Ok(if key.public_key == pinned.public_key {
        ProbeAnswer::SameKey
    } else {
        ProbeAnswer::OtherKey(key.key_id)
    })
}

/// The revocation list's age in days, from the date the last list was applied.
pub fn revocation_age(store: &Store, today: chrono::NaiveDate) -> Option<i64> {
    store
        .setting(crate::ops::REVOCATION_LIST_DATE)
        .ok()
        .flatten()
        .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .map(|d| (today - d).num_days())
}

/// Everything the doctor needs besides the database.
pub struct Situation<'a> {
    pub pcscd_up: bool,
    pub reader_names: Vec<String>,
    pub drivers: Vec<String>,
    pub db_path: &'a str,
    pub clock: Clock,
    pub max_revocation_age_days: i64,
    /// Ask the registry over the network.
    pub ask_registry: bool,
    /// The end of the document signer this process holds open, if it does.
    pub open_signer_until: Option<chrono::NaiveDate>,
}

/// The whole report. `keys_unlocked`: see [`KeyFacts::unlocked`].
pub async fn report(
    s: Situation<'_>,
    db: DatabaseFacts,
    store: Option<&Store>,
    keys_unlocked: Option<bool>,
) -> Report {
    let today = s.clock.today();
    let mut findings: Vec<Finding> = vec![super::pcscd(s.pcscd_up)];
    if s.pcscd_up {
        findings.extend(super::readers(&s.reader_names));
    }
    findings.push(super::drivers(&s.drivers));
    findings.extend(super::database(&db, s.db_path));
    let Some(store) = store else {
        findings.push(super::clock(today, None, s.clock.is_moved()));
        return Report::new(findings);
    };
    match key_facts(store, keys_unlocked, s.open_signer_until) {
        Ok(k) => findings.extend(super::keys(&k, today)),
        Err(why) => findings.extend(super::database(&DatabaseFacts::Unreadable(why), s.db_path)),
    }
    findings.push(super::clock(
        today,
        newest_record(store),
        s.clock.is_moved(),
    ));
    findings.push(super::registry(
        &registry_facts(store, s.ask_registry).await,
    ));
    findings.push(super::revocation_list(
        revocation_age(store, today),
        s.max_revocation_age_days,
    ));
    Report::new(findings)
}
