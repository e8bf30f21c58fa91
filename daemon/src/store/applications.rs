//! The station's own applications after they were sent: the follow-ups a unit
//! makes here (edit and resubmit one that came back, a photo added later, the
//! request that an approved one be sent back) and what the registry answered to
//! them. Filing is `changes::insert_application` / `insert_succession`; the
//! bureaus' decisions arrive through `changes::application_decided`.

use super::{Result, StoreError, Tx};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

/// Where a station application stands, as the station knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationState {
    /// 待审核: with the bureaus.
    Submitted,
    /// 已批准: its issuance order arrived.
    Approved,
    /// 退回 by a reviewer, with the reason: the unit may edit and resubmit it.
    Rejected,
    /// Sent back after approval (at the unit's request): editable, like 退回.
    Returned,
}

impl ApplicationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::Submitted => "submitted",
            ApplicationState::Approved => "approved",
            ApplicationState::Rejected => "rejected",
            ApplicationState::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ApplicationState::Submitted,
            ApplicationState::Approved,
            ApplicationState::Rejected,
            ApplicationState::Returned,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// Back with the unit: it may edit and resubmit.
    pub fn editable(self) -> bool {
        matches!(
            self,
            ApplicationState::Rejected | ApplicationState::Returned
        )
    }
}

/// One application with what its follow-ups need.
#[derive(Debug, Clone)]
pub struct StationApplication {
    pub id: i64,
    pub officer_id: i64,
    /// `new`, `replacement` (换证) or `reissue` (补证).
    pub kind: String,
    pub state: ApplicationState,
    /// The roster row, or the `succession_submitted` payload.
    pub row_json: String,
    /// The outbox event that carried it (the registry knows it by this id).
    pub event_id: String,
    /// A send-back the unit asked for and the bureau has not answered.
    pub send_back_request: Option<String>,
}

pub fn station_application(conn: &Connection, id: i64) -> Result<StationApplication> {
    conn.query_row(
        "SELECT id, officer_id, kind, state, row_json, event_id, send_back_request
         FROM applications WHERE id = ?1",
        [id],
        |r| {
            let state: String = r.get(3)?;
            Ok(StationApplication {
                id: r.get(0)?,
                officer_id: r.get(1)?,
                kind: r.get(2)?,
                // The CHECK constraint allows only the four.
                state: ApplicationState::parse(&state).unwrap_or(ApplicationState::Submitted),
                row_json: r.get(4)?,
                event_id: r.get(5)?,
                send_back_request: r.get(6)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound {
        what: "application",
        id: id.to_string(),
    })
}

/// Records `holder` (and a photo) for the applicant of application `app`: as is
/// when nothing but this application makes the officer's record protected (a live
/// certificate, another pending application), else as a correction another
/// operator decides (`import_officer`, the import's rule).
pub fn record_applicant(
    tx: &mut Tx<'_>,
    app: i64,
    holder: &card_profile::records::Holder,
    photo: Option<&[u8]>,
) -> Result<Option<i64>> {
    let protected: bool = tx.conn().query_row(
        "SELECT EXISTS (SELECT 1 FROM certificates c JOIN officers o ON o.id = c.officer_id
                        WHERE o.id_number = ?1 AND c.state IN ('approved', 'issued', 'suspended'))
             OR EXISTS (SELECT 1 FROM applications a JOIN officers o ON o.id = a.officer_id
                        WHERE o.id_number = ?1 AND a.state = 'submitted' AND a.id <> ?2)",
        params![holder.id_number, app],
        |r| r.get(0),
    )?;
    if protected {
        return Ok(super::import_officer(tx, holder, photo)?.correction);
    }
    super::upsert_officer(tx, holder, photo)?;
    Ok(None)
}

/// An order the registry withdrew (a send-back before the card was written) is
/// approved again after the unit's edit: the certificate `number` that
/// `withdraw_order` left void — no card, no status change of its own — takes the
/// new approval's data and is approved again. `None`: no such withdrawn
/// certificate (an unknown number, or one that really ended).
pub fn reapprove_withdrawn(
    tx: &mut Tx<'_>,
    certificate: &card_profile::records::Certificate,
) -> Result<Option<i64>> {
    let id: Option<i64> = tx
        .conn()
        .query_row(
            "SELECT c.id FROM certificates c WHERE c.number = ?1 AND c.state = 'void'
               AND NOT EXISTS (SELECT 1 FROM cards k WHERE k.certificate_id = c.id)
               AND NOT EXISTS (SELECT 1 FROM status_changes s WHERE s.certificate_id = c.id)",
            [&certificate.number],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    tx.conn().execute(
        "UPDATE certificates SET data_json = ?2, state = 'approved', updated_at = ?3 WHERE id = ?1",
        params![id, serde_json::to_string(certificate)?, tx.now()],
    )?;
    Ok(Some(id))
}

/// The unit edited application `id` (a new row, or none: as it was) and sent it
/// for review again with outbox event `follow_up`: 待审核, the reason cleared.
pub fn application_resubmitted(
    tx: &mut Tx<'_>,
    id: i64,
    row: Option<&ecard_domain::roster::RosterRow>,
    follow_up: &str,
) -> Result<()> {
    let row_json = row.map(serde_json::to_string).transpose()?;
    tx.conn().execute(
        // The state and reason it had are kept with the event, for a refusal.
        "UPDATE applications SET state = 'submitted', reason = NULL, note = NULL,
             row_json = COALESCE(?2, row_json), follow_up_event = ?3,
             resubmitted_from = json_object('state', state, 'reason', reason, 'event', ?3)
         WHERE id = ?1",
        params![id, row_json, follow_up],
    )?;
    tx.audit(
        "application.resubmitted",
        &id.to_string(),
        json!({ "edited": row.is_some(), "event": follow_up }),
    )
    .map(drop)
}

/// A photo was added to pending application `id` (outbox event `follow_up`).
pub fn application_photo_added(tx: &mut Tx<'_>, id: i64, follow_up: &str) -> Result<()> {
    tx.conn().execute(
        "UPDATE applications SET note = NULL, follow_up_event = ?2 WHERE id = ?1",
        params![id, follow_up],
    )?;
    tx.audit(
        "application.photo_added",
        &id.to_string(),
        json!({ "event": follow_up }),
    )
    .map(drop)
}

/// The unit asked that approved application `id` be sent back (outbox event
/// `follow_up`); the reviewing bureau decides.
pub fn send_back_requested(tx: &mut Tx<'_>, id: i64, reason: &str, follow_up: &str) -> Result<()> {
    tx.conn().execute(
        "UPDATE applications SET send_back_request = ?2, note = NULL, follow_up_event = ?3
         WHERE id = ?1",
        params![id, reason, follow_up],
    )?;
    tx.audit(
        "application.send_back_requested",
        &id.to_string(),
        json!({ "reason": reason, "event": follow_up }),
    )
    .map(drop)
}

/// The registry refused event `event_id` (the batch's answer), an application or a
/// follow-up to one: the application keeps the registry's words as its note, and a
/// send-back request it made is no longer pending. `false` when the event was no
/// application's.
///
/// A refused **resubmission** rolls the application back: the registry still holds
/// it as 退回, so the station shows 退回 again with the reviewer's reason it had,
/// the registry's words as the note, and the unit may edit and resubmit it again.
/// (Before, it stayed 待审核 at the station while the registry held it 退回.) The
/// unit's edit stays as the row it works on.
pub fn follow_up_refused(tx: &mut Tx<'_>, event_id: &str, message: &str) -> Result<bool> {
    let rolled_back: Option<(i64, String)> = tx
        .conn()
        .query_row(
            "SELECT id, json_extract(resubmitted_from, '$.state') FROM applications
             WHERE follow_up_event = ?1 AND json_extract(resubmitted_from, '$.event') = ?1
               AND state = 'submitted'",
            [event_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, state)) = &rolled_back {
        tx.conn().execute(
            "UPDATE applications SET state = json_extract(resubmitted_from, '$.state'),
                 reason = json_extract(resubmitted_from, '$.reason'), resubmitted_from = NULL
             WHERE id = ?1 AND json_extract(resubmitted_from, '$.state') IN ('rejected', 'returned')",
            [id],
        )?;
        tx.audit(
            "application.resubmit_refused",
            &id.to_string(),
            json!({ "event": event_id, "state": state, "message": message }),
        )?;
    }
    let changed = tx.conn().execute(
        "UPDATE applications SET note = ?2, send_back_request = NULL
         WHERE follow_up_event = ?1 OR event_id = ?1",
        params![event_id, message],
    )?;
    Ok(changed > 0)
}
