//! Read-only views the API and the CLI list: joined rows shaped for people, not for
//! the operations (those use records.rs).

use super::{CertificateState, Result, StoreError};
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CertificateSummary {
    pub id: i64,
    pub number: String,
    pub state: CertificateState,
    pub officer_id: i64,
    pub name: String,
    pub id_number: String,
    pub unit: String,
    pub kind: String,
    pub issue_date: String,
    pub valid_until: String,
    /// The live (or suspended) card, if any.
    pub card_serial: Option<String>,
}

/// Certificates, newest first; `query` matches name, ID number or certificate number.
pub fn certificate_summaries(
    conn: &Connection,
    state: Option<CertificateState>,
    query: Option<&str>,
    limit: i64,
) -> Result<Vec<CertificateSummary>> {
    let like = query
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.replace(['%', '_'], "")));
    let mut stmt = conn.prepare(
        "SELECT c.id, c.number, c.state, c.officer_id, o.name, o.id_number,
                json_extract(c.data_json, '$.unit'), json_extract(c.data_json, '$.kind'),
                json_extract(c.data_json, '$.issue_date'), json_extract(c.data_json, '$.valid_until'),
                (SELECT serial FROM cards k WHERE k.certificate_id = c.id
                   AND k.state IN ('live','suspended') ORDER BY k.id DESC LIMIT 1)
         FROM certificates c JOIN officers o ON o.id = c.officer_id
         WHERE (?1 IS NULL OR c.state = ?1)
           AND (?2 IS NULL OR o.name LIKE ?2 OR o.id_number LIKE ?2 OR c.number LIKE ?2)
         ORDER BY c.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![state.map(|s| s.as_str()), like, limit], |r| {
        let state: String = r.get(2)?;
        Ok(CertificateSummary {
            id: r.get(0)?,
            number: r.get(1)?,
            state: super::parse_certificate_state(&state)?,
            officer_id: r.get(3)?,
            name: r.get(4)?,
            id_number: r.get(5)?,
            unit: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            kind: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
            issue_date: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
            valid_until: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
            card_serial: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewEntry {
    pub year: i64,
    pub date: String,
    pub result: String,
    pub reviewer: String,
    pub remark: Option<String>,
    pub card_serial: Option<String>,
}

pub fn reviews_of(conn: &Connection, certificate_id: i64) -> Result<Vec<ReviewEntry>> {
    let mut stmt = conn.prepare(
        "SELECT year, review_date, result, reviewer, remark, card_serial FROM reviews
         WHERE certificate_id = ?1 ORDER BY year",
    )?;
    let rows = stmt.query_map([certificate_id], |r| {
        Ok(ReviewEntry {
            year: r.get(0)?,
            date: r.get(1)?,
            result: r.get(2)?,
            reviewer: r.get(3)?,
            remark: r.get(4)?,
            card_serial: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusEntry {
    pub kind: String,
    pub reason: String,
    pub detail: serde_json::Value,
    pub effective_on: String,
    pub card_serial: Option<String>,
    pub created_at: String,
}

pub fn status_changes_of(conn: &Connection, certificate_id: i64) -> Result<Vec<StatusEntry>> {
    let mut stmt = conn.prepare(
        "SELECT kind, reason, detail_json, effective_on, card_serial, created_at FROM status_changes
         WHERE certificate_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([certificate_id], |r| {
        let detail: String = r.get(2)?;
        Ok(StatusEntry {
            kind: r.get(0)?,
            reason: r.get(1)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            effective_on: r.get(3)?,
            card_serial: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub id: i64,
    pub certificate_id: i64,
    pub batch_id: Option<i64>,
    pub number: String,
    pub name: String,
    pub state: String,
    pub reader: Option<String>,
    pub card_serial: Option<String>,
    pub error: Option<String>,
    pub updated_at: String,
    /// The CUPS job of the face printed for this job's card.
    pub face_print: Option<String>,
    /// 废卡: the card was spoiled and its serial voided.
    pub spoiled: bool,
}

/// Jobs filtered by batch, certificate and/or state, oldest first.
pub fn job_views(
    conn: &Connection,
    batch_id: Option<i64>,
    certificate_id: Option<i64>,
    state: Option<&str>,
) -> Result<Vec<JobView>> {
    let mut stmt = conn.prepare(
        "SELECT j.id, j.certificate_id, j.batch_id, c.number, o.name, j.state, j.reader,
                j.card_serial, j.error, j.updated_at, j.face_print, j.spoiled
         FROM jobs j JOIN certificates c ON c.id = j.certificate_id JOIN officers o ON o.id = c.officer_id
         WHERE (?1 IS NULL OR j.batch_id = ?1) AND (?2 IS NULL OR j.certificate_id = ?2)
           AND (?3 IS NULL OR j.state = ?3)
         ORDER BY j.id",
    )?;
    let rows = stmt.query_map(params![batch_id, certificate_id, state], |r| {
        Ok(JobView {
            id: r.get(0)?,
            certificate_id: r.get(1)?,
            batch_id: r.get(2)?,
            number: r.get(3)?,
            name: r.get(4)?,
            state: r.get(5)?,
            reader: r.get(6)?,
            card_serial: r.get(7)?,
            error: r.get(8)?,
            updated_at: r.get(9)?,
            face_print: r.get(10)?,
            spoiled: r.get::<_, i64>(11)? != 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct RevocationEntry {
    pub serial: Option<String>,
    pub number: Option<String>,
    pub reason: String,
    pub since: String,
    pub source: String,
}

pub fn revocation_entries(conn: &Connection, limit: i64) -> Result<Vec<RevocationEntry>> {
    let mut stmt = conn.prepare(
        "SELECT serial, number, reason, since, source FROM revocations ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(RevocationEntry {
            serial: r.get(0)?,
            number: r.get(1)?,
            reason: r.get(2)?,
            since: r.get(3)?,
            source: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A certificate the annual review concerns: issued (live) ones and the date
/// they were reviewed for `year`, if they were.
#[derive(Debug, Clone)]
pub struct ReviewSubject {
    pub certificate_id: i64,
    pub name: String,
    pub id_number: String,
    pub unit: String,
    pub number: String,
    pub issue_date: NaiveDate,
    pub valid_until: NaiveDate,
    pub reviewed_on: Option<NaiveDate>,
}

pub fn review_subjects(conn: &Connection, year: i32) -> Result<Vec<ReviewSubject>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, o.name, o.id_number, c.data_json,
                (SELECT review_date FROM reviews r WHERE r.certificate_id = c.id AND r.year = ?1 AND r.result = 'passed')
         FROM certificates c JOIN officers o ON o.id = c.officer_id
         WHERE c.state IN ('issued','suspended') ORDER BY c.id",
    )?;
    let rows = stmt.query_map([year], |r| {
        let json: String = r.get(3)?;
        let cert: card_profile::records::Certificate =
            serde_json::from_str(&json).map_err(|e| {
                rusqlite::Error::InvalidColumnType(3, e.to_string(), rusqlite::types::Type::Text)
            })?;
        let reviewed: Option<String> = r.get(4)?;
        Ok(ReviewSubject {
            certificate_id: r.get(0)?,
            name: r.get(1)?,
            id_number: r.get(2)?,
            unit: cert.unit,
            number: cert.number.to_string(),
            issue_date: cert.issue_date,
            valid_until: cert.valid_until,
            reviewed_on: reviewed.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    pub batch_id: i64,
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    pub total: i64,
    pub done: i64,
    pub open: i64,
    pub interrupted: i64,
    /// Failed or cancelled, spoiled cards not counted.
    pub failed: i64,
    /// 废卡 (print-and-encode batches).
    pub spoiled: i64,
    pub print_encode: bool,
}

/// Batches, newest first, with their job counts.
pub fn batch_summaries(conn: &Connection, limit: i64) -> Result<Vec<BatchSummary>> {
    let mut stmt = conn.prepare(
        "SELECT b.id, b.name, b.created_by, b.created_at, COUNT(j.id),
                SUM(j.state IN ('written','verified','synced')),
                SUM(j.state IN ('queued','writing','interrupted')),
                SUM(j.state = 'interrupted'),
                SUM(j.state IN ('failed','cancelled') AND j.spoiled = 0),
                SUM(j.spoiled), b.print_encode
         FROM batches b LEFT JOIN jobs j ON j.batch_id = b.id
         GROUP BY b.id ORDER BY b.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(BatchSummary {
            batch_id: r.get(0)?,
            name: r.get(1)?,
            created_by: r.get(2)?,
            created_at: r.get(3)?,
            total: r.get(4)?,
            done: r.get::<_, Option<i64>>(5)?.unwrap_or(0),
            open: r.get::<_, Option<i64>>(6)?.unwrap_or(0),
            interrupted: r.get::<_, Option<i64>>(7)?.unwrap_or(0),
            failed: r.get::<_, Option<i64>>(8)?.unwrap_or(0),
            spoiled: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
            print_encode: r.get::<_, i64>(10)? != 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A status change with what the filing forms need: the holder, the certificate
/// before the change, and (for 换证/补证) the certificate that followed it.
#[derive(Debug, Clone)]
pub struct StatusChangeRow {
    pub name: String,
    pub id_number: String,
    pub certificate: card_profile::records::Certificate,
    pub successor: Option<card_profile::records::Certificate>,
    pub reason: String,
    pub detail: serde_json::Value,
    pub effective_on: String,
}

fn cert_json(text: &str) -> rusqlite::Result<card_profile::records::Certificate> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::InvalidColumnType(0, e.to_string(), rusqlite::types::Type::Text)
    })
}

/// Status changes of `kind` effective within `from ..= to`, oldest first.
pub fn status_change_rows(
    conn: &Connection,
    kind: &str,
    from: &str,
    to: &str,
) -> Result<Vec<StatusChangeRow>> {
    let mut stmt = conn.prepare(
        "SELECT o.name, o.id_number, c.data_json,
                (SELECT n.data_json FROM certificates n WHERE n.replaces_id = c.id ORDER BY n.id DESC LIMIT 1),
                s.reason, s.detail_json, s.effective_on
         FROM status_changes s JOIN certificates c ON c.id = s.certificate_id JOIN officers o ON o.id = c.officer_id
         WHERE s.kind = ?1 AND s.origin = 'local' AND s.effective_on BETWEEN ?2 AND ?3 ORDER BY s.id",
    )?;
    let rows = stmt.query_map(params![kind, from, to], |r| {
        let successor: Option<String> = r.get(3)?;
        let detail: String = r.get(5)?;
        Ok(StatusChangeRow {
            name: r.get(0)?,
            id_number: r.get(1)?,
            certificate: cert_json(&r.get::<_, String>(2)?)?,
            successor: successor.as_deref().map(cert_json).transpose()?,
            reason: r.get(4)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            effective_on: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Cards written within `from ..= to` (by date of writing), with holder and certificate.
pub fn issued_rows(
    conn: &Connection,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String, card_profile::records::Certificate, String)>> {
    let mut stmt = conn.prepare(
        "SELECT o.name, o.id_number, c.data_json, substr(k.written_at, 1, 10)
         FROM cards k JOIN certificates c ON c.id = k.certificate_id JOIN officers o ON o.id = c.officer_id
         WHERE substr(k.written_at, 1, 10) BETWEEN ?1 AND ?2 ORDER BY k.id",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            cert_json(&r.get::<_, String>(2)?)?,
            r.get(3)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One of the station's applications to the registry (roster rows, 换证, 补证), as
/// the station knows it: `submitted` until the registry's approved order arrives.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationEntry {
    pub id: i64,
    /// `new`, `replacement` (换证) or `reissue` (补证).
    pub kind: String,
    pub state: String,
    pub name: String,
    pub id_number: String,
    /// The unit the application is for.
    pub unit: String,
    /// 换证/补证: the number of the certificate it follows.
    pub follows_number: Option<String>,
    /// The bureau's reason when it was 退回.
    pub reason: Option<String>,
    pub created_at: String,
    /// A send-back the unit asked for that the bureau has not answered yet.
    pub send_back_request: Option<String>,
    /// Why the registry did not take the last follow-up (its own words).
    pub note: Option<String>,
    /// The holder's photo is on record (one can be added while pending).
    pub has_photo: bool,
    /// A new applicant's number the unit filled in (where units number).
    pub prefilled_number: Option<String>,
}

/// The station's applications, newest first (at most `limit`).
pub fn application_entries(conn: &Connection, limit: i64) -> Result<Vec<ApplicationEntry>> {
    entries(conn, None, limit)
}

/// Application `id` as the list shows it.
pub fn application_entry(conn: &Connection, id: i64) -> Result<ApplicationEntry> {
    entries(conn, Some(id), 1)?
        .pop()
        .ok_or_else(|| StoreError::NotFound {
            what: "application",
            id: id.to_string(),
        })
}

fn entries(conn: &Connection, id: Option<i64>, limit: i64) -> Result<Vec<ApplicationEntry>> {
    let mut stmt = conn.prepare(
        "SELECT a.id, a.kind, a.state, o.name, o.id_number,
                COALESCE(json_extract(a.row_json, '$.unit'), ''),
                COALESCE(c.number, CASE WHEN a.kind = 'replacement'
                                        THEN json_extract(a.row_json, '$.certificate_number') END),
                a.created_at, a.reason, a.send_back_request, a.note, o.photo_jpeg IS NOT NULL,
                CASE WHEN a.kind = 'new' THEN json_extract(a.row_json, '$.certificate_number') END
         FROM applications a
         JOIN officers o ON o.id = a.officer_id
         LEFT JOIN certificates c ON c.id = a.follows_id
         WHERE ?2 IS NULL OR a.id = ?2
         ORDER BY a.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(rusqlite::params![limit, id], |r| {
        Ok(ApplicationEntry {
            id: r.get(0)?,
            kind: r.get(1)?,
            state: r.get(2)?,
            name: r.get(3)?,
            id_number: r.get(4)?,
            unit: r.get(5)?,
            follows_number: r.get(6)?,
            created_at: r.get(7)?,
            reason: r.get(8)?,
            send_back_request: r.get(9)?,
            note: r.get(10)?,
            has_photo: r.get(11)?,
            prefilled_number: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every unit the station holds a certificate of, sorted: the 填报单位 a filing form
/// can be for.
pub fn certificate_units(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT json_extract(data_json, '$.unit') AS u FROM certificates
         WHERE u IS NOT NULL AND u <> '' ORDER BY u",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An approved correction of a holder's record (附件1 修改) and the number and unit
/// of the holder's latest certificate, if any.
#[derive(Debug, Clone)]
pub struct ApprovedCorrection {
    pub row: super::CorrectionRow,
    pub certificate: Option<(String, String)>,
}

/// Corrections approved within `from ..= to` (by the day of the decision).
pub fn approved_corrections(
    conn: &Connection,
    from: &str,
    to: &str,
) -> Result<Vec<ApprovedCorrection>> {
    let mut out = Vec::new();
    for row in super::corrections(conn, Some(super::CorrectionState::Approved))? {
        let on = row.decided_at.as_deref().and_then(|d| d.get(..10));
        if !on.is_some_and(|d| d >= from && d <= to) {
            continue;
        }
        let certificate = conn
            .query_row(
                "SELECT number, COALESCE(json_extract(data_json, '$.unit'), '') FROM certificates
                 WHERE officer_id = ?1 ORDER BY id DESC LIMIT 1",
                [row.officer_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        out.push(ApprovedCorrection { row, certificate });
    }
    Ok(out)
}

/// The reviews the station knows for certificate `number` that a card may not carry
/// yet: first those recorded here (source `station`), then those recorded at another
/// station or the registry and received through the feed (source `registry`; a year
/// recorded here is not repeated). The field check counts the years its card lacks.
pub fn recorded_reviews(
    conn: &Connection,
    number: &ecard_sync_protocol::events::CertificateNumber,
) -> Result<Vec<card_profile::verdict::RecordedReview>> {
    use card_profile::verdict::ReviewSource;
    let mut out = reviews_from(
        conn,
        "SELECT r.year, r.review_date, r.result FROM reviews r
         JOIN certificates c ON c.id = r.certificate_id
         WHERE c.number = ?1 ORDER BY r.year",
        number,
        ReviewSource::Station,
    )?;
    for r in reviews_from(
        conn,
        "SELECT year, review_date, result FROM registry_reviews WHERE number = ?1 ORDER BY year",
        number,
        ReviewSource::Registry,
    )? {
        if !out.iter().any(|o| o.year == r.year) {
            out.push(r);
        }
    }
    Ok(out)
}

fn reviews_from(
    conn: &Connection,
    sql: &str,
    number: &str,
    source: card_profile::verdict::ReviewSource,
) -> Result<Vec<card_profile::verdict::RecordedReview>> {
    use card_profile::records::ReviewResult;
    use card_profile::verdict::RecordedReview;
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([number], |r| {
        let year: i64 = r.get(0)?;
        let date: String = r.get(1)?;
        let result: String = r.get(2)?;
        Ok((year, date, result))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (year, date, result) = row?;
        // Rows the schema's CHECK admits; anything else is not a review to count.
        let (Ok(year), Ok(date)) = (
            u16::try_from(year),
            NaiveDate::parse_from_str(&date, "%Y-%m-%d"),
        ) else {
            continue;
        };
        let result = match result.as_str() {
            "passed" => ReviewResult::Passed,
            "failed" => ReviewResult::Failed,
            _ => continue,
        };
        out.push(RecordedReview {
            year,
            date,
            result,
            source,
        });
    }
    Ok(out)
}
