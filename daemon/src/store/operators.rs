//! Operator accounts and their login sessions. Passwords are argon2id PHC strings
//! (crate::auth); sessions are stored as the SHA-256 of the token, so a copy of the
//! database does not hand out live sessions.

use super::{on_conflict, Conflict, Result, StoreError, Tx};
use crate::auth::Role;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
}

fn operator_from(r: &Row<'_>) -> rusqlite::Result<OperatorRow> {
    let role: String = r.get("role")?;
    Ok(OperatorRow {
        id: r.get("id")?,
        username: r.get("username")?,
        display_name: r.get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(
                0,
                format!("role {role}"),
                rusqlite::types::Type::Text,
            )
        })?,
        disabled: r.get("disabled")?,
    })
}

pub fn create_operator(
    tx: &mut Tx<'_>,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
) -> Result<i64> {
    tx.conn()
        .execute(
            "INSERT INTO operators (username, display_name, role, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                username,
                display_name,
                role.as_str(),
                password_hash,
                tx.now()
            ],
        )
        .map_err(on_conflict(|| Conflict::UsernameTaken {
            username: username.to_owned(),
        }))?;
    let id = tx.conn().last_insert_rowid();
    tx.audit(
        "operator.created",
        username,
        serde_json::json!({ "role": role.as_str(), "display_name": display_name }),
    )?;
    Ok(id)
}

/// The account and its password hash, for a login attempt.
pub fn operator_for_login(
    conn: &Connection,
    username: &str,
) -> Result<Option<(OperatorRow, String)>> {
    Ok(conn
        .query_row(
            "SELECT * FROM operators WHERE username = ?1",
            [username],
            |r| Ok((operator_from(r)?, r.get::<_, String>("password_hash")?)),
        )
        .optional()?)
}

pub fn operator(conn: &Connection, id: i64) -> Result<OperatorRow> {
    conn.query_row("SELECT * FROM operators WHERE id = ?1", [id], operator_from)
        .optional()?
        .ok_or(StoreError::NotFound {
            what: "operator",
            id: id.to_string(),
        })
}

pub fn list_operators(conn: &Connection) -> Result<Vec<OperatorRow>> {
    let mut stmt = conn.prepare("SELECT * FROM operators ORDER BY id")?;
    let rows = stmt.query_map([], operator_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn count_operators(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM operators", [], |r| r.get(0))?)
}

pub fn set_operator_disabled(tx: &mut Tx<'_>, id: i64, disabled: bool) -> Result<()> {
    let op = operator(tx.conn(), id)?;
    tx.conn().execute(
        "UPDATE operators SET disabled = ?2 WHERE id = ?1",
        params![id, disabled],
    )?;
    if disabled {
        // A disabled account loses its open sessions at once.
        tx.conn()
            .execute("DELETE FROM sessions WHERE operator_id = ?1", [id])?;
    }
    tx.audit(
        if disabled {
            "operator.disabled"
        } else {
            "operator.enabled"
        },
        &op.username,
        serde_json::json!({}),
    )?;
    Ok(())
}

pub fn set_operator_password(tx: &mut Tx<'_>, id: i64, password_hash: &str) -> Result<()> {
    let op = operator(tx.conn(), id)?;
    tx.conn().execute(
        "UPDATE operators SET password_hash = ?2 WHERE id = ?1",
        params![id, password_hash],
    )?;
    tx.conn()
        .execute("DELETE FROM sessions WHERE operator_id = ?1", [id])?;
    tx.audit("operator.password_set", &op.username, serde_json::json!({}))?;
    Ok(())
}

pub fn insert_session(
    tx: &mut Tx<'_>,
    digest_hex: &str,
    operator_id: i64,
    expires_at: &str,
) -> Result<()> {
    // Expired sessions open nothing (see session_operator); each login clears them
    // out so the table holds only live ones.
    tx.conn()
        .execute("DELETE FROM sessions WHERE expires_at <= ?1", [tx.now()])?;
    tx.conn().execute(
        "INSERT INTO sessions (token_digest, operator_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![digest_hex, operator_id, tx.now(), expires_at],
    )?;
    Ok(())
}

/// The operator behind a live session (not expired, account not disabled).
pub fn session_operator(
    conn: &Connection,
    digest_hex: &str,
    now_text: &str,
) -> Result<Option<OperatorRow>> {
    Ok(conn
        .query_row(
            "SELECT o.* FROM sessions s JOIN operators o ON o.id = s.operator_id
             WHERE s.token_digest = ?1 AND s.expires_at > ?2 AND o.disabled = 0",
            params![digest_hex, now_text],
            operator_from,
        )
        .optional()?)
}

/// A live session's end as stored, and the latest end it may ever have (its
/// creation + `max_hours`): whether a request has anything to move.
pub fn session_ends(
    conn: &Connection,
    digest_hex: &str,
    max_hours: i64,
) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT expires_at, strftime('%Y-%m-%dT%H:%M:%fZ', created_at, ?2) FROM sessions
             WHERE token_digest = ?1",
            params![digest_hex, format!("+{max_hours} hours")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Moves a live session's end to `idle_until` (the idle limit from now), never past
/// its creation + `max_hours` (the absolute limit). Rows whose end is already at or
/// after `unless_after` are left alone, so a busy session is written about once a
/// minute, not at every request.
pub fn touch_session(
    tx: &mut Tx<'_>,
    digest_hex: &str,
    idle_until: &str,
    unless_after: &str,
    max_hours: i64,
) -> Result<()> {
    tx.conn().execute(
        "UPDATE sessions
         SET expires_at = MIN(?2, strftime('%Y-%m-%dT%H:%M:%fZ', created_at, ?4))
         WHERE token_digest = ?1 AND expires_at > ?5 AND expires_at < ?3",
        params![
            digest_hex,
            idle_until,
            unless_after,
            format!("+{max_hours} hours"),
            tx.now()
        ],
    )?;
    Ok(())
}

pub fn delete_session(tx: &mut Tx<'_>, digest_hex: &str) -> Result<()> {
    tx.conn()
        .execute("DELETE FROM sessions WHERE token_digest = ?1", [digest_hex])?;
    Ok(())
}
