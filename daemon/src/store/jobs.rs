//! Card-writing jobs changing hands: claimed by a reader, opened for a certificate,
//! interrupted by a restart. Each change is one statement (two readers never claim
//! the same job) and carries its audit row. States are `JobState`'s, never literals.

use super::{certificate, insert_job, CertificateState, Conflict, JobState, Result, Tx};
use rusqlite::{params, OptionalExtension};
use serde_json::json;

const QUEUED: &str = JobState::Queued.as_str();
const WRITING: &str = JobState::Writing.as_str();
const INTERRUPTED: &str = JobState::Interrupted.as_str();

/// Moves one job from queued or interrupted to writing at `reader`; false when it
/// is in any other state (being written, done, failed).
pub fn claim_job(tx: &mut Tx<'_>, job_id: i64, reader: &str) -> Result<bool> {
    let now = tx.now().to_owned();
    let n = tx.conn().execute(
        "UPDATE jobs SET state = ?4, reader = ?2, updated_at = ?3
         WHERE id = ?1 AND state IN (?5, ?6)",
        params![job_id, reader, now, WRITING, QUEUED, INTERRUPTED],
    )?;
    if n == 1 {
        tx.audit(
            "job.claimed",
            &job_id.to_string(),
            json!({ "reader": reader }),
        )?;
    }
    Ok(n == 1)
}

/// Claims the batch's next job for `reader`: queued ones, and interrupted ones that
/// have no card yet or were interrupted at this reader (their card is in it), those
/// first.
pub fn claim_next_in_batch(tx: &mut Tx<'_>, batch_id: i64, reader: &str) -> Result<Option<i64>> {
    let now = tx.now().to_owned();
    let id: Option<i64> = tx
        .conn()
        .query_row(
            "UPDATE jobs SET state = ?4, reader = ?2, updated_at = ?3
             WHERE id = (SELECT id FROM jobs WHERE batch_id = ?1
                           AND (state = ?5
                                OR (state = ?6 AND (card_serial IS NULL OR reader IS ?2)))
                         ORDER BY (reader IS ?2) DESC, id LIMIT 1)
             RETURNING id",
            params![batch_id, reader, now, WRITING, QUEUED, INTERRUPTED],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        tx.audit(
            "job.claimed",
            &id.to_string(),
            json!({ "batch": batch_id, "reader": reader }),
        )?;
    }
    Ok(id)
}

/// The certificate's open job (moved into `batch_id` when given), or a new queued
/// one. Only an approved certificate gets a job.
pub fn open_job(tx: &mut Tx<'_>, certificate_id: i64, batch_id: Option<i64>) -> Result<i64> {
    let cert = certificate(tx.conn(), certificate_id)?;
    if cert.state != CertificateState::Approved {
        return Err(Conflict::NotIssuable {
            number: cert.certificate.number,
            state: cert.state,
        }
        .into());
    }
    let open: Option<i64> = tx
        .conn()
        .query_row(
            "SELECT id FROM jobs WHERE certificate_id = ?1 AND state IN (?2, ?3, ?4)",
            params![certificate_id, QUEUED, WRITING, INTERRUPTED],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = open {
        if let Some(batch) = batch_id {
            tx.conn().execute(
                "UPDATE jobs SET batch_id = ?1 WHERE id = ?2",
                params![batch, id],
            )?;
            tx.audit("job.batched", &id.to_string(), json!({ "batch": batch }))?;
        }
        return Ok(id);
    }
    let id = insert_job(tx, certificate_id, batch_id)?;
    tx.audit(
        "job.queued",
        &id.to_string(),
        json!({ "certificate": certificate_id, "batch": batch_id }),
    )?;
    Ok(id)
}

/// Jobs left writing by a process that died become interrupted (their card may be
/// half written), with `why` as their error code. Returns how many.
pub fn interrupt_writing_jobs(tx: &mut Tx<'_>, why: &str) -> Result<usize> {
    let now = tx.now().to_owned();
    let n = tx.conn().execute(
        "UPDATE jobs SET state = ?3, error = ?2, updated_at = ?1 WHERE state = ?4",
        params![now, why, INTERRUPTED, WRITING],
    )?;
    if n > 0 {
        tx.audit("jobs.recovered", "jobs", json!({ "interrupted": n }))?;
    }
    Ok(n)
}

/// The registry withdrew its order for an approved certificate: unless a card is
/// being or was written for it, the certificate is void and its waiting jobs are
/// cancelled. Returns whether it was withdrawn.
pub fn withdraw_order(tx: &mut Tx<'_>, certificate_id: i64, reason: &str) -> Result<bool> {
    let cert = certificate(tx.conn(), certificate_id)?;
    let writing: i64 = tx.conn().query_row(
        "SELECT COUNT(*) FROM jobs WHERE certificate_id = ?1 AND state IN (?2, ?3, ?4)",
        params![
            certificate_id,
            WRITING,
            JobState::Written.as_str(),
            JobState::Verified.as_str()
        ],
        |r| r.get(0),
    )?;
    if cert.state != CertificateState::Approved || writing > 0 {
        return Ok(false);
    }
    super::set_certificate_state(tx, certificate_id, CertificateState::Void)?;
    let now = tx.now().to_owned();
    tx.conn().execute(
        "UPDATE jobs SET state = ?3, updated_at = ?2 WHERE certificate_id = ?1 AND state IN (?4, ?5)",
        params![
            certificate_id,
            now,
            JobState::Cancelled.as_str(),
            QUEUED,
            INTERRUPTED
        ],
    )?;
    tx.audit(
        "order.withdrawn",
        &cert.certificate.number,
        json!({ "reason": reason }),
    )?;
    Ok(true)
}
