//! Rows of the station's keys: sealed secrets (crate::keystore seals them; only
//! ciphertext is stored) and the trusted roots. crate::keyring decides what they
//! mean; each change here writes its audit row.

use super::{on_conflict, Conflict, Result, Tx};
use card_profile::pki::TrustAnchor;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

/// Stores a sealed key; refused when the station already has one by that name.
pub fn insert_sealed_key(
    tx: &mut Tx<'_>,
    name: &str,
    sealed_json: &str,
    public_json: Option<&str>,
) -> Result<()> {
    let now = tx.now().to_owned();
    tx.conn()
        .execute(
            "INSERT INTO sealed_keys (name, sealed_json, public_json, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, sealed_json, public_json, now],
        )
        .map_err(on_conflict(|| Conflict::KeysExist))?;
    tx.audit("keys.sealed_stored", name, json!({}))?;
    Ok(())
}

/// A sealed key's JSON and its public part, if stored.
pub fn sealed_key(conn: &Connection, name: &str) -> Result<Option<(String, Option<String>)>> {
    Ok(conn
        .query_row(
            "SELECT sealed_json, public_json FROM sealed_keys WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Adds (or replaces) a trusted root.
pub fn put_trust_anchor(tx: &mut Tx<'_>, anchor: &TrustAnchor) -> Result<()> {
    let key_id = hex::encode(anchor.key_id);
    tx.conn().execute(
        "INSERT INTO trust_anchors (key_id, anchor_json) VALUES (?1, ?2)
         ON CONFLICT(key_id) DO UPDATE SET anchor_json = excluded.anchor_json",
        params![key_id, serde_json::to_string(anchor)?],
    )?;
    tx.audit(
        "trust.anchor_added",
        &key_id,
        json!({ "name": anchor.name }),
    )?;
    Ok(())
}

/// Removes a root from the trust list; false when it was not on it.
pub fn delete_trust_anchor(tx: &mut Tx<'_>, key_id: &str) -> Result<bool> {
    let key_id = key_id.to_ascii_lowercase();
    let n = tx
        .conn()
        .execute("DELETE FROM trust_anchors WHERE key_id = ?1", [&key_id])?;
    if n > 0 {
        tx.audit("trust.anchor_removed", &key_id, json!({}))?;
    }
    Ok(n > 0)
}

/// Every trusted root as stored (JSON), by key id.
pub fn trust_anchor_texts(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT anchor_json FROM trust_anchors ORDER BY key_id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Replaces every trusted root with `anchors` (a root-signed trust list from the
/// feed): each root added has its audit row, and the replacement one more.
pub fn replace_trust_anchors(tx: &mut Tx<'_>, anchors: &[TrustAnchor]) -> Result<()> {
    let removed = tx.conn().execute("DELETE FROM trust_anchors", [])?;
    tx.audit(
        "trust.anchors_replaced",
        "trust_list",
        json!({ "removed": removed, "added": anchors.len() }),
    )?;
    for anchor in anchors {
        put_trust_anchor(tx, anchor)?;
    }
    Ok(())
}
