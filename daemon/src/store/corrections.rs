//! Corrections of a certified officer's record (issue 11, "a malicious issuer").
//!
//! A roster import may bring a name, gender, ethnicity, birth date or photo that
//! differs from the record of an officer who already holds a certificate (approved,
//! issued or suspended) or has an application pending. Writing it over the record
//! would let an issuer put an impostor's photo on a colleague's next card with no
//! review, so such a change is kept aside as a pending correction (old and new
//! values) and the record stays as it is. Another operator allowed to decide
//! corrections approves it (the record takes the new values) or rejects it (nothing
//! changes); either way the audit row carries the old and the new values (photos by
//! SHA-256).

use super::{Conflict, Result, StoreError, Tx};
use card_profile::records::Holder;
use ring::digest::{digest, SHA256};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{json, Value};

/// Where a correction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionState {
    Pending,
    Approved,
    Rejected,
}

impl CorrectionState {
    pub const ALL: [CorrectionState; 3] = [
        CorrectionState::Pending,
        CorrectionState::Approved,
        CorrectionState::Rejected,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CorrectionState::Pending => "pending",
            CorrectionState::Approved => "approved",
            CorrectionState::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> rusqlite::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                rusqlite::Error::InvalidColumnType(
                    0,
                    format!("CorrectionState: {text}"),
                    rusqlite::types::Type::Text,
                )
            })
    }
}

/// A correction as recorded. Photos are not carried here (they can be large);
/// `old_photo_sha256`/`new_photo_sha256` name them, `None` when absent or unchanged.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectionRow {
    pub id: i64,
    pub officer_id: i64,
    pub old: Holder,
    pub new: Holder,
    pub photo_changed: bool,
    pub old_photo_sha256: Option<String>,
    pub new_photo_sha256: Option<String>,
    pub state: CorrectionState,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub reason: Option<String>,
}

/// What an import did with one person's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedOfficer {
    pub officer_id: i64,
    /// Set when the record was left as it is and the change awaits a decision.
    pub correction: Option<i64>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest(&SHA256, bytes))
}

fn json_err(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, e.to_string(), rusqlite::types::Type::Text)
}

fn correction_from(r: &Row<'_>) -> rusqlite::Result<CorrectionRow> {
    let old: String = r.get("old_json")?;
    let new: String = r.get("new_json")?;
    let state: String = r.get("state")?;
    let old_photo: Option<Vec<u8>> = r.get("old_photo")?;
    let new_photo: Option<Vec<u8>> = r.get("new_photo")?;
    Ok(CorrectionRow {
        id: r.get("id")?,
        officer_id: r.get("officer_id")?,
        old: serde_json::from_str(&old).map_err(json_err)?,
        new: serde_json::from_str(&new).map_err(json_err)?,
        photo_changed: new_photo.is_some(),
        old_photo_sha256: old_photo.as_deref().map(sha256_hex),
        new_photo_sha256: new_photo.as_deref().map(sha256_hex),
        state: CorrectionState::parse(&state)?,
        requested_by: r.get("requested_by")?,
        requested_at: r.get("requested_at")?,
        decided_by: r.get("decided_by")?,
        decided_at: r.get("decided_at")?,
        reason: r.get("reason")?,
    })
}

/// An officer's record as it stands: id, holder, photo.
struct Recorded {
    id: i64,
    holder: Holder,
    photo: Option<Vec<u8>>,
}

/// The officer with `id_number` as recorded, with the photo.
fn recorded(conn: &Connection, id_number: &str) -> Result<Option<Recorded>> {
    let Some(id) = conn
        .query_row(
            "SELECT id FROM officers WHERE id_number = ?1",
            [id_number],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(Recorded {
        id,
        holder: super::officer(conn, id)?.holder,
        photo: super::officer_photo(conn, id)?,
    }))
}

/// Does the officer hold a certificate (approved, issued or suspended) or have an
/// application pending? Then the record is only changed through a correction.
fn is_certified(conn: &Connection, officer_id: i64) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM certificates WHERE officer_id = ?1
                            AND state IN ('approved', 'issued', 'suspended'))
             OR EXISTS (SELECT 1 FROM applications WHERE officer_id = ?1 AND state = 'submitted')",
        [officer_id],
        |r| r.get(0),
    )?)
}

/// The values an audit row carries for one side of a correction.
fn side(holder: &Holder, photo: Option<&[u8]>) -> Value {
    json!({
        "name": holder.name,
        "gender": holder.gender,
        "ethnicity": holder.ethnicity,
        "birth_date": holder.birth_date,
        "photo_sha256": photo.map(sha256_hex),
    })
}

/// Records a person from a roster import: a new person or an uncertified record is
/// written as before ([`super::upsert_officer`]); a certified officer's record with
/// different values is left as it is and a pending correction is recorded, with its
/// audit row (old and new values).
pub fn import_officer(
    tx: &mut Tx<'_>,
    holder: &Holder,
    photo_jpeg: Option<&[u8]>,
) -> Result<ImportedOfficer> {
    let Some(Recorded {
        id: officer_id,
        holder: old,
        photo: old_photo,
    }) = recorded(tx.conn(), &holder.id_number)?
    else {
        let officer_id = super::upsert_officer(tx, holder, photo_jpeg)?;
        return Ok(ImportedOfficer {
            officer_id,
            correction: None,
        });
    };
    if !is_certified(tx.conn(), officer_id)? {
        super::upsert_officer(tx, holder, photo_jpeg)?;
        return Ok(ImportedOfficer {
            officer_id,
            correction: None,
        });
    }
    // A photo that is not sent, or the same photo, changes nothing.
    let new_photo = photo_jpeg.filter(|p| old_photo.as_deref() != Some(*p));
    if *holder == old && new_photo.is_none() {
        return Ok(ImportedOfficer {
            officer_id,
            correction: None,
        });
    }
    let id: i64 = tx.conn().query_row(
        "INSERT INTO officer_corrections
             (officer_id, old_json, new_json, old_photo, new_photo, state, requested_by, requested_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7) RETURNING id",
        params![
            officer_id,
            serde_json::to_string(&old)?,
            serde_json::to_string(holder)?,
            old_photo,
            new_photo,
            tx.actor(),
            tx.now()
        ],
        |r| r.get(0),
    )?;
    tx.audit(
        "correction.requested",
        &holder.id_number,
        json!({
            "correction": id,
            "old": side(&old, old_photo.as_deref()),
            "new": side(holder, new_photo.or(old_photo.as_deref())),
        }),
    )?;
    Ok(ImportedOfficer {
        officer_id,
        correction: Some(id),
    })
}

pub fn correction(conn: &Connection, id: i64) -> Result<CorrectionRow> {
    conn.query_row(
        "SELECT * FROM officer_corrections WHERE id = ?1",
        [id],
        correction_from,
    )
    .optional()?
    .ok_or(StoreError::NotFound {
        what: "correction",
        id: id.to_string(),
    })
}

/// Corrections, newest first; only those in `state` when given.
pub fn corrections(
    conn: &Connection,
    state: Option<CorrectionState>,
) -> Result<Vec<CorrectionRow>> {
    let mut stmt = conn.prepare(
        "SELECT * FROM officer_corrections WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([state.map(CorrectionState::as_str)], correction_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Approves (the record takes the new values) or rejects (nothing changes) a pending
/// correction. The operator who imported it cannot decide it.
pub fn decide_correction(
    tx: &mut Tx<'_>,
    id: i64,
    approve: bool,
    reason: Option<&str>,
) -> Result<CorrectionRow> {
    let c = correction(tx.conn(), id)?;
    if c.state != CorrectionState::Pending {
        return Err(Conflict::CorrectionDecided { id, state: c.state }.into());
    }
    if c.requested_by == tx.actor() {
        return Err(Conflict::CorrectionOwnRequest { id }.into());
    }
    let (old_photo, new_photo): (Option<Vec<u8>>, Option<Vec<u8>>) = tx.conn().query_row(
        "SELECT old_photo, new_photo FROM officer_corrections WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let state = if approve {
        CorrectionState::Approved
    } else {
        CorrectionState::Rejected
    };
    if approve {
        // The record as it is now must still be the one the correction was made
        // against: a second correction approved in between would be overwritten.
        let current = recorded(tx.conn(), &c.old.id_number)?.ok_or(StoreError::NotFound {
            what: "officer",
            id: c.old.id_number.clone(),
        })?;
        if current.holder != c.old || current.photo != old_photo {
            return Err(Conflict::CorrectionStale { id }.into());
        }
        // The same officer (a correction keeps the ID number): the one write of an
        // officer's record, its gender mapping included.
        super::upsert_officer(tx, &c.new, new_photo.as_deref())?;
    }
    tx.conn().execute(
        "UPDATE officer_corrections SET state = ?2, decided_by = ?3, decided_at = ?4, reason = ?5
         WHERE id = ?1",
        params![id, state.as_str(), tx.actor(), tx.now(), reason],
    )?;
    tx.audit(
        if approve {
            "correction.approved"
        } else {
            "correction.rejected"
        },
        &c.old.id_number,
        json!({
            "correction": id,
            "old": side(&c.old, old_photo.as_deref()),
            "new": side(&c.new, new_photo.as_deref().or(old_photo.as_deref())),
            "reason": reason,
        }),
    )?;
    correction(tx.conn(), id)
}
