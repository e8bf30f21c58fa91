//! Certificate-number allocation, safe under concurrency: the domain rule's pure
//! `next_serial` runs inside the caller's IMMEDIATE transaction, over the highest
//! serial ever allocated for the (region, department) prefix, and the certificates
//! table's UNIQUE(number) is the last line of defence. Two readers issuing at the
//! same moment are serialised by SQLite's write lock and never get the same number;
//! a number is never reused, also after cancellation.

use super::{Conflict, Result, Tx};
use ecard_domain::numbering::NumberingRule;
use rusqlite::{params, OptionalExtension};

/// Allocates the next number for `region` + `department` under `rule`.
pub fn allocate_number(
    tx: &mut Tx<'_>,
    rule: &NumberingRule,
    region: &str,
    department: &str,
) -> Result<String> {
    let prefix = format!("{region}{department}");
    let stored: Option<u32> = tx
        .conn()
        .query_row(
            "SELECT last_serial FROM number_serials WHERE prefix = ?1",
            [&prefix],
            |r| r.get(0),
        )
        .optional()?;
    // Numbers that entered as data (registry orders, imports) count too.
    let mut stmt = tx
        .conn()
        .prepare("SELECT number FROM certificates WHERE substr(number, 1, length(?1)) = ?1")?;
    let existing = stmt
        .query_map([&prefix], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    let seen = existing
        .iter()
        .filter_map(|n| rule.parse(n).ok())
        .filter(|p| p.region == region && p.department == department)
        .map(|p| p.serial)
        .max();
    let last = stored.max(seen);
    let number = rule
        .next_number(region, department, last)
        .map_err(|error| Conflict::Numbering { error })?;
    let serial = rule
        .parse(&number)
        .map_err(|error| Conflict::Numbering { error })?
        .serial;
    tx.conn().execute(
        "INSERT INTO number_serials (prefix, last_serial) VALUES (?1, ?2)
         ON CONFLICT(prefix) DO UPDATE SET last_serial = excluded.last_serial",
        params![prefix, serial],
    )?;
    tx.audit(
        "number.allocated",
        &number,
        serde_json::json!({ "prefix": prefix, "serial": serial }),
    )?;
    Ok(number)
}

/// Records a number that arrived from elsewhere (registry, import), so that local
/// allocation continues after it instead of colliding with it.
pub fn note_number(tx: &mut Tx<'_>, rule: &NumberingRule, number: &str) -> Result<()> {
    let Ok(parsed) = rule.parse(number) else {
        return Ok(());
    };
    let prefix = format!("{}{}", parsed.region, parsed.department);
    tx.conn().execute(
        "INSERT INTO number_serials (prefix, last_serial) VALUES (?1, ?2)
         ON CONFLICT(prefix) DO UPDATE SET last_serial = MAX(last_serial, excluded.last_serial)",
        params![prefix, parsed.serial],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::sync::Arc;

    #[test]
    fn concurrent_issuers_never_get_the_same_number() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(Store::open(&dir.path().join("n.db"), ecard_clock::Clock::system()).unwrap());
        let rule = Arc::new(NumberingRule::sichuan_default().unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (store, rule) = (Arc::clone(&store), Arc::clone(&rule));
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| {
                            store
                                .write("t", |tx| allocate_number(tx, &rule, "川X", "01"))
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<String> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a number was handed out twice");
        // Skipped serials (the shipped rule skips unlucky endings) never appear.
        for number in &all {
            let serial = rule.parse(number).unwrap().serial;
            assert!(!rule.skip.is_skipped(serial), "{number}");
        }
    }

    #[test]
    fn numbers_already_on_certificates_are_not_reallocated() {
        use card_profile::records::{Certificate, CertificateKind};
        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        let rule = NumberingRule::sichuan_default().unwrap();
        let holder =
            card_profile::demo::officers(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap())
                .swap_remove(0);
        let mut cert: Certificate = holder.certificate.clone();
        cert.kind = CertificateKind::Enforcement;
        cert.number = "川X010007".into();
        store
            .write("t", |tx| {
                let o = crate::store::upsert_officer(tx, &holder.holder, None)?;
                crate::store::insert_certificate(
                    tx,
                    o,
                    &cert,
                    crate::store::CertificateState::Issued,
                    None,
                )
            })
            .unwrap();
        let next = store
            .write("t", |tx| allocate_number(tx, &rule, "川X", "01"))
            .unwrap();
        assert!(rule.parse(&next).unwrap().serial > 7, "{next}");
    }

    #[test]
    fn numbers_noted_from_elsewhere_are_not_reallocated() {
        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        let rule = NumberingRule::sichuan_default().unwrap();
        store
            .write("t", |tx| note_number(tx, &rule, "川X010099"))
            .unwrap();
        let next = store
            .write("t", |tx| allocate_number(tx, &rule, "川X", "01"))
            .unwrap();
        assert!(rule.parse(&next).unwrap().serial > 99, "{next}");
    }
}
