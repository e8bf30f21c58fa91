//! The station's side of the registry channel as rows: the enrolment (`sync_state`,
//! one row), the feed cursor and revocation list number, the outbox's delivery
//! marks, and the outcome of the last attempt. crate::sync decides; this writes,
//! each change with its audit row — except the attempt stamps, which are audited
//! only when the outcome changes (a failure, a recovery), so a station syncing every
//! minute does not fill its audit log with "still fine".

use super::{Result, Tx};
use ecard_sync_protocol::events::StationEvent;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

/// What enrolment stored: where the registry is and who this station is to it.
#[derive(Debug, Clone)]
pub struct SyncIdentity {
    pub registry_url: String,
    pub station_id: String,
    /// The station's request key, sealed (crate::keystore JSON).
    pub station_key_sealed: String,
    /// The pinned registry key (protocol `RegistryKey` JSON).
    pub registry_key: String,
}

/// Records the enrolment (replacing an earlier one) with its audit row.
pub fn enrol(
    tx: &mut Tx<'_>,
    id: &SyncIdentity,
    transport: &str,
    registry_key_id: &str,
) -> Result<()> {
    tx.conn().execute(
        "INSERT INTO sync_state (id, registry_url, station_id, station_key_sealed, registry_key)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET registry_url = excluded.registry_url, station_id = excluded.station_id,
           station_key_sealed = excluded.station_key_sealed, registry_key = excluded.registry_key",
        params![id.registry_url, id.station_id, id.station_key_sealed, id.registry_key],
    )?;
    tx.audit(
        "sync.enrolled",
        &id.station_id,
        json!({ "registry": id.registry_url, "registry_key_id": registry_key_id, "transport": transport }),
    )?;
    Ok(())
}

pub fn sync_identity(conn: &Connection) -> Result<Option<SyncIdentity>> {
    Ok(conn
        .query_row(
            "SELECT registry_url, station_id, station_key_sealed, registry_key FROM sync_state WHERE id = 1",
            [],
            |r| {
                Ok(SyncIdentity {
                    registry_url: r.get(0)?,
                    station_id: r.get(1)?,
                    station_key_sealed: r.get(2)?,
                    registry_key: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// The feed position applied so far (0 before the first page).
pub fn feed_cursor(conn: &Connection) -> Result<u64> {
    let c: Option<i64> = conn
        .query_row("SELECT feed_cursor FROM sync_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(c.unwrap_or(0).max(0) as u64)
}

/// Moves the feed cursor forward (never back) after a page was applied.
pub fn advance_feed_cursor(tx: &mut Tx<'_>, next: u64) -> Result<()> {
    tx.conn().execute(
        "UPDATE sync_state SET feed_cursor = MAX(feed_cursor, ?1) WHERE id = 1",
        [next as i64],
    )?;
    Ok(())
}

/// The number of the revocation list held, if any.
pub fn revocation_number(conn: &Connection) -> Result<Option<u64>> {
    let n: Option<Option<i64>> = conn
        .query_row(
            "SELECT revocation_number FROM sync_state WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(n.flatten().map(|n| n.max(0) as u64))
}

/// The list now held: its number and the registry's issue time.
pub fn set_revocation_number(tx: &mut Tx<'_>, number: u64, issued_at: &str) -> Result<()> {
    tx.conn().execute(
        "UPDATE sync_state SET revocation_number = ?1, revocation_issued_at = ?2 WHERE id = 1",
        params![number as i64, issued_at],
    )?;
    Ok(())
}

/// How many revocation entries the station holds.
pub fn count_revocations(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM revocations", [], |r| r.get(0))?)
}

/// Stamps an attempt; `error` is the failure's (code, words). The audit log gets a
/// row when the outcome changes: the first failure (or a different one), and the
/// first success after a failure.
pub fn record_attempt(tx: &mut Tx<'_>, error: Option<(&str, &str)>) -> Result<()> {
    let now = tx.now().to_owned();
    let before: Option<Option<String>> = tx
        .conn()
        .query_row("SELECT last_error FROM sync_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    let before = before.flatten();
    match error {
        None => {
            tx.conn().execute(
                "UPDATE sync_state SET last_attempt = ?1, last_success = ?1, last_error = NULL WHERE id = 1",
                [&now],
            )?;
            if let Some(was) = before {
                tx.audit("sync.recovered", "registry", json!({ "after": was }))?;
            }
        }
        Some((code, words)) => {
            tx.conn().execute(
                "UPDATE sync_state SET last_attempt = ?1, last_error = ?2 WHERE id = 1",
                params![now, words],
            )?;
            if before.as_deref() != Some(words) {
                tx.audit(
                    "sync.failed",
                    "registry",
                    json!({ "code": code, "message": words }),
                )?;
            }
        }
    }
    Ok(())
}

/// The sync row as the status page shows it.
#[derive(Debug, Clone)]
pub struct SyncStateRow {
    pub registry_url: String,
    pub station_id: String,
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub feed_cursor: u64,
    pub revocation_number: Option<u64>,
}

pub fn sync_state_row(conn: &Connection) -> Result<Option<SyncStateRow>> {
    Ok(conn
        .query_row(
            "SELECT registry_url, station_id, last_attempt, last_success, last_error, feed_cursor, revocation_number
             FROM sync_state WHERE id = 1",
            [],
            |r| {
                Ok(SyncStateRow {
                    registry_url: r.get(0)?,
                    station_id: r.get(1)?,
                    last_attempt: r.get(2)?,
                    last_success: r.get(3)?,
                    last_error: r.get(4)?,
                    feed_cursor: r.get::<_, i64>(5)?.max(0) as u64,
                    revocation_number: r.get::<_, Option<i64>>(6)?.map(|n| n.max(0) as u64),
                })
            },
        )
        .optional()?)
}

/// Events not yet acknowledged: how many, and when the oldest was made.
pub fn outbox_backlog(conn: &Connection) -> Result<(i64, Option<String>)> {
    Ok(conn.query_row(
        "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// The oldest unacknowledged events, in order, as the protocol sends them.
pub fn unsent_events(conn: &Connection, limit: usize) -> Result<Vec<StationEvent>> {
    let mut stmt = conn.prepare(
        "SELECT seq, event_id, kind, payload, created_at FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        let payload: String = r.get(3)?;
        Ok(StationEvent {
            seq: r.get::<_, i64>(0)?.max(0) as u64,
            event_id: r.get(1)?,
            kind: r.get(2)?,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
            created_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether outbox event `seq` still waits for its acknowledgement.
pub fn is_unsent(conn: &Connection, seq: u64) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT sent_at IS NULL FROM outbox WHERE seq = ?1",
            [seq as i64],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// Every event up to `seq` reached the registry.
pub fn mark_sent(tx: &mut Tx<'_>, up_to: u64) -> Result<usize> {
    let now = tx.now().to_owned();
    let n = tx.conn().execute(
        "UPDATE outbox SET sent_at = ?1 WHERE seq <= ?2 AND sent_at IS NULL",
        params![now, up_to as i64],
    )?;
    if n > 0 {
        tx.audit(
            "sync.pushed",
            "registry",
            json!({ "up_to": up_to, "events": n }),
        )?;
    }
    Ok(n)
}
