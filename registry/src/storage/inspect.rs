//! Looking at a registry database without changing it, for `ecard-registry doctor`:
//! no migration, no file created.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// What an existing database holds for the doctor.
pub struct Inspection {
    /// `PRAGMA integrity_check`'s lines (at most 20; `["ok"]` when sound).
    pub integrity: Vec<String>,
    /// The published trust list's number, if one is.
    pub trust_list: Option<u64>,
}

/// Connects to the PostgreSQL database at `url` without changing it: `None` when
/// the registry's schema is not there yet. Its integrity is the server's (page
/// checksums, WAL); what is checked here is what the registry relies on: the
/// schema's version and byte-wise text ordering.
pub fn inspect_postgres(url: &str) -> Result<Option<Inspection>, String> {
    use super::db::{params, Conn, OptionalExtension};
    let conn = Conn::postgres(url).map_err(|e| e.to_string())?;
    let has_schema: bool = conn
        .query_row(
            "SELECT to_regclass('schema_migrations') IS NOT NULL",
            params![],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if !has_schema {
        return Ok(None);
    }
    let mut integrity = Vec::new();
    if let Err(e) = super::schema::postgres::check_collation(&conn) {
        integrity.push(e.to_string());
    }
    let version: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            params![],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    let known = super::schema::postgres::MIGRATIONS.len() as i64;
    if version > known {
        integrity.push(format!(
            "schema version {version} is newer than this program's {known}"
        ));
    }
    if integrity.is_empty() {
        integrity.push("ok".into());
    }
    let trust_list = conn
        .query_row(
            "SELECT list_json FROM trust_list WHERE id = 1",
            params![],
            |r| r.get::<_, String>(0),
        )
        .optional()
        .ok()
        .flatten()
        .and_then(|j| serde_json::from_str::<ecard_sync_protocol::trust::SignedTrustList>(&j).ok())
        .and_then(|s| s.peek().ok())
        .map(|l| l.number);
    Ok(Some(Inspection {
        integrity,
        trust_list,
    }))
}

/// Opens `path` (which must exist) read-write but without creating it.
pub fn inspect(path: &Path) -> Result<Inspection, String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| e.to_string())?;
    let integrity = conn
        .prepare("PRAGMA integrity_check(20)")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| e.to_string())?;
    let trust_list = conn
        .query_row("SELECT list_json FROM trust_list WHERE id = 1", [], |r| {
            r.get::<_, String>(0)
        })
        .ok()
        .and_then(|j| serde_json::from_str::<ecard_sync_protocol::trust::SignedTrustList>(&j).ok())
        .and_then(|s| s.peek().ok())
        .map(|l| l.number);
    Ok(Inspection {
        integrity,
        trust_list,
    })
}
