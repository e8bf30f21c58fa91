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
