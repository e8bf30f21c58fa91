//! The rows that record a change to a certificate: reviews, status changes and
//! roster applications, and the note that a change reached the card. A change that
//! reached a card carries its audit row here, so no caller can forget it.

use super::{
    on_conflict, review_result_text, set_card_state, CardStateOf, CertificateState, Conflict,
    Result, Tx,
};
use card_profile::records::Review;
use chrono::NaiveDate;
use ecard_sync_protocol::events::StatusKind;
use rusqlite::params;
use serde_json::json;

/// A review of `certificate_id`, not yet on its card; refused when the year's
/// review is already on record.
pub fn insert_review(tx: &mut Tx<'_>, certificate_id: i64, review: &Review) -> Result<i64> {
    let now = tx.now().to_owned();
    tx.conn()
        .query_row(
            "INSERT INTO reviews (certificate_id, year, review_date, result, reviewer, remark, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![
                certificate_id,
                review.year,
                review.date.to_string(),
                review_result_text(review.result),
                review.reviewer,
                review.remark,
                now
            ],
            |r| r.get(0),
        )
        .map_err(on_conflict(|| Conflict::ReviewExists {
            year: i32::from(review.year),
        }))
}

/// Review `review_id` (of `year`) is on the card `serial`.
pub fn review_written(tx: &mut Tx<'_>, review_id: i64, year: u16, serial: &str) -> Result<()> {
    tx.conn().execute(
        "UPDATE reviews SET card_serial = ?1 WHERE id = ?2",
        params![serial, review_id],
    )?;
    tx.audit(
        "review.written",
        serial,
        json!({ "review": review_id, "year": year }),
    )?;
    Ok(())
}

/// A status change of `certificate_id`, effective `on`, not yet on a card; `origin`
/// is the station or registry that made it when it came from the feed (None: this
/// station, stored as `local`).
pub fn insert_status_change(
    tx: &mut Tx<'_>,
    certificate_id: i64,
    kind: StatusKind,
    reason: &str,
    detail: &serde_json::Value,
    on: NaiveDate,
    origin: Option<&str>,
) -> Result<i64> {
    let now = tx.now().to_owned();
    Ok(tx.conn().query_row(
        "INSERT INTO status_changes (certificate_id, kind, reason, detail_json, effective_on, card_serial, created_at, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7) RETURNING id",
        params![
            certificate_id,
            kind.as_str(),
            reason,
            detail.to_string(),
            on.to_string(),
            now,
            origin.unwrap_or("local")
        ],
        |r| r.get(0),
    )?)
}

/// The registry approved what this station submitted for `officer_id` (its
/// issuance order arrived).
pub fn applications_approved(tx: &mut Tx<'_>, officer_id: i64) -> Result<usize> {
    Ok(tx.conn().execute(
        "UPDATE applications SET state = 'approved', reason = NULL
         WHERE officer_id = ?1 AND state IN ('submitted','rejected','returned')",
        [officer_id],
    )?)
}

/// The registry's decision on the application carried by this station's outbox
/// event `event_id` (退回 with the reason, or resubmitted); `false` when the event
/// is not this station's (the item was for another station of the region).
pub fn application_decided(
    tx: &mut Tx<'_>,
    event_id: &str,
    state: &str,
    reason: Option<&str>,
) -> Result<bool> {
    let changed = tx.conn().execute(
        // A send-back the unit asked for is answered by any decision that follows.
        "UPDATE applications SET state = ?2, reason = ?3, send_back_request = NULL, note = NULL,
             resubmitted_from = NULL
         WHERE event_id = ?1",
        params![event_id, state, reason],
    )?;
    if changed > 0 {
        tx.audit(
            "application.decided",
            event_id,
            json!({ "state": state, "reason": reason }),
        )?;
    }
    Ok(changed > 0)
}

/// An annual review recorded at another station or the registry, received through
/// the feed (`review_recorded`): kept by number (this station need not hold the
/// certificate) for the field check. The same year again replaces it (the registry
/// keeps one review per number and year, and tells again when it changes).
pub fn review_received(tx: &mut Tx<'_>, n: &ecard_sync_protocol::feed::ReviewNotice) -> Result<()> {
    use card_profile::records::ReviewResult;
    let r = &n.review;
    let result = match r.result {
        ReviewResult::Passed => "passed",
        ReviewResult::Failed => "failed",
    };
    let at = tx.now();
    tx.conn().execute(
        "INSERT INTO registry_reviews (number, year, review_date, result, remark, origin, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (number, year) DO UPDATE SET review_date = excluded.review_date,
             result = excluded.result, remark = excluded.remark, origin = excluded.origin,
             received_at = excluded.received_at",
        params![
            r.number,
            r.year,
            r.date.to_string(),
            result,
            r.remark,
            n.origin,
            at
        ],
    )?;
    tx.audit(
        "review.received",
        &r.number,
        json!({ "year": r.year, "result": result, "origin": n.origin }),
    )?;
    Ok(())
}

/// Status change `change_id` is on the card `serial` (terminated when it revoked),
/// which now stands as the certificate's `state` says.
pub fn status_change_written(
    tx: &mut Tx<'_>,
    change_id: i64,
    serial: &str,
    state: CertificateState,
    terminated: bool,
) -> Result<()> {
    tx.conn().execute(
        "UPDATE status_changes SET card_serial = ?1 WHERE id = ?2",
        params![serial, change_id],
    )?;
    set_card_state(tx, serial, state.card_state(), terminated)?;
    tx.audit(
        "certificate.status_written",
        serial,
        json!({ "status_change": change_id, "state": state.as_str() }),
    )?;
    Ok(())
}

/// A submitted application from a roster row; `event_id` is its outbox event.
pub fn insert_application(
    tx: &mut Tx<'_>,
    officer_id: i64,
    row: &ecard_domain::roster::RosterRow,
    event_id: &str,
) -> Result<i64> {
    let now = tx.now().to_owned();
    Ok(tx.conn().query_row(
        "INSERT INTO applications (officer_id, kind, row_json, state, event_id, created_at)
         VALUES (?1, ?2, ?3, 'submitted', ?4, ?5) RETURNING id",
        params![
            officer_id,
            row.kind.as_str(),
            serde_json::to_string(row)?,
            event_id,
            now
        ],
        |r| r.get(0),
    )?)
}

/// A submitted 换证/补证 application for the certificate `old` (its payload is the
/// outbox event `event_id`).
pub fn insert_succession(
    tx: &mut Tx<'_>,
    old: &super::CertificateRow,
    application: &ecard_sync_protocol::events::SuccessionSubmitted,
    event_id: &str,
) -> Result<i64> {
    let now = tx.now().to_owned();
    let mut row = application.clone();
    // The photo is the officer's, kept once in `officers`.
    row.photo_jpeg = None;
    Ok(tx.conn().query_row(
        "INSERT INTO applications (officer_id, kind, row_json, state, event_id, created_at, follows_id)
         VALUES (?1, ?2, ?3, 'submitted', ?4, ?5, ?6) RETURNING id",
        params![
            old.officer_id,
            application.kind.as_str(),
            serde_json::to_string(&row)?,
            event_id,
            now,
            old.id
        ],
        |r| r.get(0),
    )?)
}
