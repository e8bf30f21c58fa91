//! The audit log: every change's row holds the SHA-256 of the previous row's hash and
//! its own content, so deleting, reordering or editing a row breaks the chain from
//! that row on. `ecardd audit verify` names the first broken row.

use super::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// The hash before the first row.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

fn row_hash(
    prev: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    // Length-prefixed fields: no two different rows serialise to the same bytes.
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for field in [prev, &seq.to_string(), at, actor, action, subject, detail] {
        ctx.update(&(field.len() as u64).to_be_bytes());
        ctx.update(field.as_bytes());
    }
    hex::encode(ctx.finish())
}

pub(super) fn append(
    conn: &Connection,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<i64> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let detail = detail.to_string();
    let hash = row_hash(&prev, seq, at, actor, action, subject, &detail);
    conn.execute(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![seq, at, actor, action, subject, detail, prev, hash],
    )?;
    Ok(seq)
}

fn entry_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        detail: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub rows: i64,
    /// The first row whose link or content does not check, with why.
    pub first_broken: Option<(i64, String)>,
}

pub fn verify_chain(conn: &Connection) -> Result<ChainReport> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut count = 0;
    while let Some(r) = rows.next()? {
        let e = entry_from(r)?;
        count += 1;
        let broken = if e.seq != expected_seq {
            Some(format!(
                "expected row {expected_seq}, found {} (a row was removed)",
                e.seq
            ))
        } else if e.prev_hash != expected_prev {
            Some("previous-hash link does not match the row before".to_owned())
        } else if row_hash(
            &e.prev_hash,
            e.seq,
            &e.at,
            &e.actor,
            &e.action,
            &e.subject,
            &e.detail,
        ) != e.hash
        {
            Some("content does not match its hash (row was edited)".to_owned())
        } else {
            None
        };
        if let Some(why) = broken {
            return Ok(ChainReport {
                rows: count,
                first_broken: Some((e.seq, why)),
            });
        }
        expected_prev = e.hash;
        expected_seq += 1;
    }
    Ok(ChainReport {
        rows: count,
        first_broken: None,
    })
}

/// The stamp of the newest audit row (`None` on an empty log): the doctor's check
/// that the clock was not set back behind what is recorded.
pub fn newest_at(conn: &Connection) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT MAX(at) FROM audit_log", [], |r| r.get(0))?)
}

/// `PRAGMA integrity_check`'s lines, at most 20 (a badly damaged file lists
/// thousands); `["ok"]` when the file is sound.
pub fn integrity_check(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA integrity_check(20)")?;
    let lines = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(lines.collect::<rusqlite::Result<_>>()?)
}

/// The newest `limit` rows, or the newest `limit` older than `before` (a page further
/// back), newest first.
pub fn recent(conn: &Connection, limit: i64, before: Option<i64>) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log
         WHERE ?2 IS NULL OR seq < ?2 ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(rusqlite::params![limit, before], entry_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use crate::store::Store;
    use serde_json::json;

    #[test]
    fn chain_verifies_and_names_the_first_edited_or_removed_row() {
        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        for i in 0..5 {
            store
                .write("admin", |tx| {
                    tx.audit("test", &format!("s{i}"), json!({ "i": i }))
                })
                .unwrap();
        }
        assert_eq!(store.verify_audit_chain().unwrap().first_broken, None);
        store
            .read(|c| {
                Ok(c.execute(
                    "UPDATE audit_log SET detail = '{\"i\":9}' WHERE seq = 3",
                    [],
                )?)
            })
            .unwrap();
        let report = store.verify_audit_chain().unwrap();
        assert_eq!(report.first_broken.map(|(seq, _)| seq), Some(3));

        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        for i in 0..4 {
            store
                .write("admin", |tx| tx.audit("test", "x", json!(i)))
                .unwrap();
        }
        store
            .read(|c| Ok(c.execute("DELETE FROM audit_log WHERE seq = 2", [])?))
            .unwrap();
        assert_eq!(
            store
                .verify_audit_chain()
                .unwrap()
                .first_broken
                .map(|(s, _)| s),
            Some(3)
        );
    }

    #[test]
    fn a_failed_change_leaves_no_audit_row() {
        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        let r: crate::store::Result<()> = store.write("admin", |tx| {
            tx.audit("test", "x", json!(1))?;
            Err(crate::store::StoreError::Conflict(
                crate::store::Conflict::ReviewExists { year: 2026 },
            ))
        });
        assert!(r.is_err());
        assert_eq!(store.verify_audit_chain().unwrap().rows, 0);
    }
}
