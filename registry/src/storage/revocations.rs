//! The revocation list: entries (card serials, certificate numbers) that only ever
//! grow, each stamped with the list number of the change that added it.

use super::db::{params, Conn};
use super::{Result, Storage, StorageError, Tx};
use chrono::NaiveDate;
use ecard_sync_protocol::revocation::{EntryKind, RevocationEntry, RevocationList};

fn kind_str(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Serial => "serial",
        EntryKind::Number => "number",
    }
}

/// Adds an entry (a key already on the list keeps its first reason and date).
pub(super) fn add(
    tx: &mut Tx<'_>,
    kind: EntryKind,
    value: &str,
    reason: &str,
    since: NaiveDate,
) -> Result<()> {
    let n = tx
        .conn()
        .prepare_cached(
            "INSERT INTO revocations (kind, value, reason, since) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, value) DO NOTHING",
        )?
        .execute(params![kind_str(kind), value, reason, since.to_string()])?;
    if n > 0 {
        tx.revocations_added = true;
    }
    Ok(())
}

/// Gives the entries added in this transaction the next list number.
pub(super) fn number_pending(tx: &Tx<'_>) -> Result<()> {
    // The next number after the highest, under the writer lock: one gapless
    // sequence (a rolled-back change takes no number), on either back end.
    let number: i64 = tx.conn().query_row(
        "INSERT INTO revocation_lists (number, issued_at)
         SELECT COALESCE(MAX(number), 0) + 1, ?1 FROM revocation_lists
         RETURNING number",
        params![tx.now()],
        |r| r.get(0),
    )?;
    tx.conn().execute(
        "UPDATE revocations SET added_in = ?1 WHERE added_in IS NULL",
        params![number],
    )?;
    Ok(())
}

fn current_number(c: &Conn) -> Result<u64> {
    let n: i64 = c.query_row(
        "SELECT COALESCE(MAX(number), 0) FROM revocation_lists",
        params![],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

fn entries_after(c: &Conn, after: u64) -> Result<Vec<RevocationEntry>> {
    let mut st = c.prepare(
        "SELECT kind, value, reason, since, added_in FROM revocations
         WHERE added_in > ?1 ORDER BY added_in, kind, value",
    )?;
    let rows = st.query_map(params![after as i64], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, value, reason, since, added_in) = row?;
        let kind = if kind == "serial" {
            EntryKind::Serial
        } else {
            EntryKind::Number
        };
        let since = since
            .parse::<NaiveDate>()
            .map_err(|e| StorageError::Invalid(format!("stored date {since}: {e}")))?;
        out.push(RevocationEntry {
            kind,
            value,
            reason,
            since,
            added_in: added_in.max(0) as u64,
        });
    }
    Ok(out)
}

impl Storage {
    /// The current list number (0 while the list is empty).
    pub fn revocation_list_number(&self) -> Result<u64> {
        self.read(current_number)
    }

    /// The whole list, unsigned (the API signs it).
    pub fn revocation_list_full(&self) -> Result<RevocationList> {
        self.read(|c| {
            let number = current_number(c)?;
            Ok(RevocationList::full(
                number,
                self.clock.stamp(),
                entries_after(c, 0)?,
            ))
        })
    }

    /// What was added after list `since`. A `since` beyond the current number is
    /// refused: the station's list is not one this registry issued.
    pub fn revocation_list_delta(&self, since: u64) -> Result<RevocationList> {
        self.read(|c| {
            let number = current_number(c)?;
            if since > number {
                return Err(StorageError::NotFound {
                    what: "revocation list",
                    id: since.to_string(),
                });
            }
            Ok(RevocationList::delta(
                since,
                number,
                self.clock.stamp(),
                entries_after(c, since)?,
            ))
        })
    }

    /// Adds entries directly (admin tooling and benchmarks); one new list number.
    pub fn revoke(&self, entries: &[(EntryKind, String, String, NaiveDate)]) -> Result<u64> {
        self.write(|tx| {
            for (kind, value, reason, since) in entries {
                add(tx, *kind, value, reason, *since)?;
            }
            Ok(())
        })?;
        self.revocation_list_number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
    }

    #[test]
    fn each_change_gets_a_number_and_deltas_follow() {
        let s = super::super::test_storage(ecard_clock::Clock::system());
        assert_eq!(s.revocation_list_number().expect("n"), 0);
        s.revoke(&[(EntryKind::Number, "川X010001".into(), "注销".into(), day())])
            .expect("1");
        s.revoke(&[
            (
                EntryKind::Serial,
                "00112233AABBCCDD".into(),
                "作废".into(),
                day(),
            ),
            (EntryKind::Number, "川X010001".into(), "again".into(), day()),
        ])
        .expect("2");
        // A change that adds nothing new makes no new number.
        s.revoke(&[(EntryKind::Number, "川X010001".into(), "again".into(), day())])
            .expect("3");
        assert_eq!(s.revocation_list_number().expect("n"), 2);
        let full = s.revocation_list_full().expect("full");
        assert_eq!(full.entries.len(), 2);
        assert_eq!(full.entries[0].reason, "注销");
        let delta = s.revocation_list_delta(1).expect("delta");
        assert_eq!(delta.entries.len(), 1);
        assert_eq!(delta.entries[0].value, "00112233AABBCCDD");
        assert!(s.revocation_list_delta(3).is_err());
    }
}
