//! The station's own deadlines and the rows of the lists people act on: the
//! 注销/换发/补发 changes this station recorded with their 3-working-day deadline
//! (V9), and the certificates in use (for the expiring and retiring lists).

use super::{Result, Tx};
use chrono::NaiveDate;
use ecard_sync_protocol::events::StatusKind;
use rusqlite::{params, Connection};

/// A recorded change keeps its deadline and the event that carries it.
pub fn track_deadline(
    tx: &mut Tx<'_>,
    change_id: i64,
    due_on: NaiveDate,
    event_id: &str,
) -> Result<()> {
    tx.conn().execute(
        "UPDATE status_changes SET due_on = ?2, event_id = ?3 WHERE id = ?1",
        params![change_id, due_on.to_string(), event_id],
    )?;
    Ok(())
}

/// A 注销/换证/补证 of this station not yet delivered to the registry.
#[derive(Debug, Clone)]
pub struct OpenFiling {
    pub change_id: i64,
    pub certificate_id: i64,
    pub kind: StatusKind,
    pub number: String,
    pub name: String,
    pub unit: String,
    pub recorded_on: String,
    pub due_on: NaiveDate,
}

/// The station's tracked 注销/换证/补证 whose event has not reached the registry,
/// oldest deadline first.
pub fn open_filings(conn: &Connection) -> Result<Vec<OpenFiling>> {
    let mut stmt = conn.prepare(
        "SELECT s.id, c.id, s.kind, c.number, o.name, json_extract(c.data_json, '$.unit'),
                substr(s.created_at, 1, 10), s.due_on
         FROM status_changes s
         JOIN certificates c ON c.id = s.certificate_id
         JOIN officers o ON o.id = c.officer_id
         LEFT JOIN outbox x ON x.event_id = s.event_id
         WHERE s.origin = 'local' AND s.due_on IS NOT NULL
           AND (x.seq IS NULL OR x.sent_at IS NULL)
         ORDER BY s.due_on, s.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let kind: String = r.get(2)?;
        let due: String = r.get(7)?;
        let bad = |e: String| rusqlite::Error::InvalidColumnType(0, e, rusqlite::types::Type::Text);
        Ok(OpenFiling {
            change_id: r.get(0)?,
            certificate_id: r.get(1)?,
            kind: StatusKind::parse(&kind).ok_or_else(|| bad(format!("status kind {kind}")))?,
            number: r.get(3)?,
            name: r.get(4)?,
            unit: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            recorded_on: r.get(6)?,
            due_on: NaiveDate::parse_from_str(&due, "%Y-%m-%d").map_err(|e| bad(e.to_string()))?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A certificate in use (approved, issued or suspended) with its holder.
#[derive(Debug, Clone)]
pub struct InUse {
    pub certificate_id: i64,
    pub number: String,
    pub name: String,
    pub id_number: String,
    pub unit: String,
    pub valid_until: String,
}

/// Every certificate in use, by number.
pub fn certificates_in_use(conn: &Connection) -> Result<Vec<InUse>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.number, o.name, o.id_number, json_extract(c.data_json, '$.unit'),
                json_extract(c.data_json, '$.valid_until')
         FROM certificates c JOIN officers o ON o.id = c.officer_id
         WHERE c.state IN ('approved','issued','suspended')
         ORDER BY c.number",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(InUse {
            certificate_id: r.get(0)?,
            number: r.get(1)?,
            name: r.get(2)?,
            id_number: r.get(3)?,
            unit: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            valid_until: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
