//! Typed rows and the queries over them. Reads take a `&Connection`; writes take a
//! [`Tx`] so that they run inside [`Store::write`](super::Store::write) with their audit row.

use super::{Result, StoreError, Tx};
use card_profile::profile::Family;
use card_profile::records::{Certificate, Gender, Holder};
use card_profile::sequences::IssueData;
use chrono::NaiveDate;
use ecard_sync_protocol::events::CertificateNumber;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// Text-backed enums for state columns.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> rusqlite::Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(rusqlite::Error::InvalidColumnType(
                        0, format!("{}: {other}", stringify!($name)), rusqlite::types::Type::Text)),
                }
            }
        }
    };
}

/// Where a certificate stands: the protocol's one type (the registry stores the same).
pub use ecard_sync_protocol::state::CertificateState;

text_enum!(
    /// A physical card's state in the records.
    CardState {
        Live = "live",
        Suspended = "suspended",
        Cancelled = "cancelled",
        Void = "void",
        Replaced = "replaced",
    }
);

/// The state the certificate's live cards take with it. (An approved certificate has
/// no card; its mapping is never used.)
pub trait CardStateOf {
    fn card_state(self) -> CardState;
}

impl CardStateOf for CertificateState {
    fn card_state(self) -> CardState {
        match self {
            CertificateState::Suspended => CardState::Suspended,
            CertificateState::Issued | CertificateState::Approved => CardState::Live,
            CertificateState::Cancelled => CardState::Cancelled,
            CertificateState::Replaced => CardState::Replaced,
            CertificateState::Void => CardState::Void,
        }
    }
}

text_enum!(
    /// The issuance job state machine: queued → writing → written → verified → synced,
    /// with interrupted (torn or pulled; resumable) and failed (needs a person).
    JobState {
        Queued = "queued",
        Writing = "writing",
        Written = "written",
        Verified = "verified",
        Synced = "synced",
        Interrupted = "interrupted",
        Failed = "failed",
        Cancelled = "cancelled",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficerRow {
    pub id: i64,
    pub holder: Holder,
    pub has_photo: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateRow {
    pub id: i64,
    pub officer_id: i64,
    pub certificate: Certificate,
    pub state: CertificateState,
    pub replaces_id: Option<i64>,
    pub updated_at: String,
}

impl CertificateRow {
    /// The certificate's number as the checked type events and the registry take.
    pub fn number(&self) -> Result<ecard_domain::numbering::CertificateNumber> {
        Ok(ecard_domain::numbering::CertificateNumber::parse(
            &self.certificate.number,
        )?)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardRow {
    pub id: i64,
    pub serial: String,
    pub certificate_id: i64,
    pub chip_key: String,
    pub state: CardState,
    pub written_at: String,
    pub terminated: bool,
    /// Which kind of card it is (`native` | `piv`).
    pub family: Family,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub certificate_id: i64,
    pub batch_id: Option<i64>,
    pub state: JobState,
    pub reader: Option<String>,
    pub card_serial: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub updated_at: String,
    /// The CUPS job that printed this job's card face (print-and-encode batches).
    pub face_print: Option<String>,
    /// The card was spoiled (废卡): its serial is voided, the certificate queued again.
    pub spoiled: bool,
}

/// A stored certificate state code, or a column error.
pub fn parse_certificate_state(code: &str) -> rusqlite::Result<CertificateState> {
    CertificateState::parse(code).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(
            0,
            format!("CertificateState: {code}"),
            rusqlite::types::Type::Text,
        )
    })
}

fn gender_str(g: Gender) -> &'static str {
    match g {
        Gender::Male => "male",
        Gender::Female => "female",
    }
}

fn parse_date(text: &str) -> rusqlite::Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::InvalidColumnType(0, e.to_string(), rusqlite::types::Type::Text)
    })
}

fn officer_from(r: &Row<'_>) -> rusqlite::Result<OfficerRow> {
    let gender: String = r.get("gender")?;
    let birth: String = r.get("birth_date")?;
    Ok(OfficerRow {
        id: r.get("id")?,
        holder: Holder {
            name: r.get("name")?,
            gender: if gender == "male" {
                Gender::Male
            } else {
                Gender::Female
            },
            ethnicity: r.get("ethnicity")?,
            birth_date: parse_date(&birth)?,
            id_number: r.get("id_number")?,
        },
        has_photo: r.get::<_, Option<i64>>("has_photo")?.unwrap_or(0) != 0,
    })
}

fn certificate_from(r: &Row<'_>) -> rusqlite::Result<CertificateRow> {
    let json: String = r.get("data_json")?;
    let state: String = r.get("state")?;
    Ok(CertificateRow {
        id: r.get("id")?,
        officer_id: r.get("officer_id")?,
        certificate: serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::InvalidColumnType(0, e.to_string(), rusqlite::types::Type::Text)
        })?,
        state: parse_certificate_state(&state)?,
        replaces_id: r.get("replaces_id")?,
        updated_at: r.get("updated_at")?,
    })
}

fn card_from(r: &Row<'_>) -> rusqlite::Result<CardRow> {
    let state: String = r.get("state")?;
    Ok(CardRow {
        id: r.get("id")?,
        serial: r.get("serial")?,
        certificate_id: r.get("certificate_id")?,
        chip_key: r.get("chip_key")?,
        state: CardState::parse(&state)?,
        written_at: r.get("written_at")?,
        terminated: r.get::<_, i64>("terminated")? != 0,
        family: family_of(&r.get::<_, String>("family")?)?,
    })
}

/// The family column's code (the schema allows these two only).
fn family_of(code: &str) -> rusqlite::Result<Family> {
    match code {
        "native" => Ok(Family::Native),
        "piv" => Ok(Family::Piv),
        other => Err(rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown card family {other}").into(),
        )),
    }
}

fn job_from(r: &Row<'_>) -> rusqlite::Result<JobRow> {
    let state: String = r.get("state")?;
    Ok(JobRow {
        id: r.get("id")?,
        certificate_id: r.get("certificate_id")?,
        batch_id: r.get("batch_id")?,
        state: JobState::parse(&state)?,
        reader: r.get("reader")?,
        card_serial: r.get("card_serial")?,
        error: r.get("error")?,
        attempts: r.get("attempts")?,
        updated_at: r.get("updated_at")?,
        face_print: r.get("face_print")?,
        spoiled: r.get::<_, i64>("spoiled")? != 0,
    })
}

const OFFICER_COLS: &str =
    "id, id_number, name, gender, ethnicity, birth_date, photo_jpeg IS NOT NULL AS has_photo";

// ---- officers ----

/// Inserts the officer, or updates the record with the same ID number.
pub fn upsert_officer(tx: &mut Tx<'_>, holder: &Holder, photo_jpeg: Option<&[u8]>) -> Result<i64> {
    let id = tx.conn().query_row(
        "INSERT INTO officers (id_number, name, gender, ethnicity, birth_date, photo_jpeg, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id_number) DO UPDATE SET name = excluded.name, gender = excluded.gender,
             ethnicity = excluded.ethnicity, birth_date = excluded.birth_date,
             photo_jpeg = COALESCE(excluded.photo_jpeg, officers.photo_jpeg)
         RETURNING id",
        params![
            holder.id_number,
            holder.name,
            gender_str(holder.gender),
            holder.ethnicity,
            holder.birth_date.format("%Y-%m-%d").to_string(),
            photo_jpeg,
            tx.now()
        ],
        |r| r.get(0),
    )?;
    Ok(id)
}

pub fn officer(conn: &Connection, id: i64) -> Result<OfficerRow> {
    conn.query_row(
        &format!("SELECT {OFFICER_COLS} FROM officers WHERE id = ?1"),
        [id],
        officer_from,
    )
    .optional()?
    .ok_or(StoreError::NotFound {
        what: "officer",
        id: id.to_string(),
    })
}

pub fn officer_photo(conn: &Connection, id: i64) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row("SELECT photo_jpeg FROM officers WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .flatten())
}

pub fn search_officers(conn: &Connection, query: &str, limit: i64) -> Result<Vec<OfficerRow>> {
    let like = format!("%{}%", query.replace(['%', '_'], ""));
    let mut stmt = conn.prepare(&format!(
        "SELECT {OFFICER_COLS} FROM officers WHERE name LIKE ?1 OR id_number LIKE ?1 ORDER BY id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![like, limit], officer_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// ---- certificates ----

/// An officer with an approved certificate waiting for its card, recorded at once
/// with its audit row: the demo's sample officers and the tests' fixtures (a
/// station otherwise learns of approvals from the registry's issuance orders).
pub fn record_approved(tx: &mut Tx<'_>, data: &IssueData) -> Result<i64> {
    let officer = upsert_officer(tx, &data.holder, Some(&data.photo_jpeg))?;
    let id = insert_certificate(
        tx,
        officer,
        &data.certificate,
        CertificateState::Approved,
        None,
    )?;
    tx.audit(
        "certificate.approved",
        &data.certificate.number,
        serde_json::json!({ "certificate_id": id, "source": "local" }),
    )?;
    Ok(id)
}

pub fn insert_certificate(
    tx: &mut Tx<'_>,
    officer_id: i64,
    certificate: &Certificate,
    state: CertificateState,
    replaces_id: Option<i64>,
) -> Result<i64> {
    let at = tx.now().to_owned();
    let id = tx
        .conn()
        .query_row(
            "INSERT INTO certificates (number, officer_id, data_json, state, replaces_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
            params![
                certificate.number,
                officer_id,
                serde_json::to_string(certificate)?,
                state.as_str(),
                replaces_id,
                at
            ],
            |r| r.get(0),
        )
        .map_err(super::on_conflict(|| super::Conflict::NumberTaken {
            number: certificate.number.clone(),
        }))?;
    Ok(id)
}

pub fn set_certificate_state(tx: &mut Tx<'_>, id: i64, state: CertificateState) -> Result<()> {
    let n = tx.conn().execute(
        "UPDATE certificates SET state = ?1, updated_at = ?2 WHERE id = ?3",
        params![state.as_str(), tx.now(), id],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: "certificate",
            id: id.to_string(),
        });
    }
    Ok(())
}

pub fn certificate(conn: &Connection, id: i64) -> Result<CertificateRow> {
    conn.query_row(
        "SELECT * FROM certificates WHERE id = ?1",
        [id],
        certificate_from,
    )
    .optional()?
    .ok_or(StoreError::NotFound {
        what: "certificate",
        id: id.to_string(),
    })
}

pub fn certificate_by_number(
    conn: &Connection,
    number: &CertificateNumber,
) -> Result<Option<CertificateRow>> {
    Ok(conn
        .query_row(
            "SELECT * FROM certificates WHERE number = ?1",
            [number],
            certificate_from,
        )
        .optional()?)
}

pub fn list_certificates(
    conn: &Connection,
    state: Option<CertificateState>,
    limit: i64,
) -> Result<Vec<CertificateRow>> {
    let mut stmt = conn.prepare(
        "SELECT * FROM certificates WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![state.map(|s| s.as_str()), limit], certificate_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The certificates of `unit` (as printed on them) that a 换证 applies to (issued
/// or suspended), oldest first: the holders of a renamed or merged unit.
pub fn replaceable_certificates_of_unit(conn: &Connection, unit: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM certificates WHERE json_extract(data_json, '$.unit') = ?1
         AND state IN ('issued','suspended') ORDER BY id",
    )?;
    let rows = stmt.query_map([unit], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What personalization needs for a certificate: holder, certificate and chip photo.
pub fn issue_data(conn: &Connection, certificate_id: i64) -> Result<IssueData> {
    let cert = certificate(conn, certificate_id)?;
    let officer = officer(conn, cert.officer_id)?;
    let photo = officer_photo(conn, cert.officer_id)?.ok_or_else(|| {
        StoreError::Conflict(super::Conflict::NoChipPhoto {
            id_number: officer.holder.id_number.clone(),
        })
    })?;
    Ok(IssueData {
        holder: officer.holder,
        certificate: cert.certificate,
        photo_jpeg: photo,
    })
}

// ---- cards ----

pub fn insert_card(
    tx: &mut Tx<'_>,
    serial: &str,
    certificate_id: i64,
    chip_key: &str,
    sod: &str,
    family: Family,
) -> Result<i64> {
    tx.conn()
        .query_row(
            "INSERT INTO cards (serial, certificate_id, chip_key, sod, state, written_at, family)
             VALUES (?1, ?2, ?3, ?4, 'live', ?5, ?6) RETURNING id",
            params![
                serial,
                certificate_id,
                chip_key,
                sod,
                tx.now(),
                family.code()
            ],
            |r| r.get(0),
        )
        .map_err(super::on_conflict(|| {
            super::Conflict::CardAlreadyRecorded {
                certificate_id,
                serial: serial.to_owned(),
            }
        }))
}

pub fn set_card_state(
    tx: &mut Tx<'_>,
    serial: &str,
    state: CardState,
    terminated: bool,
) -> Result<()> {
    tx.conn().execute(
        "UPDATE cards SET state = ?1, terminated = terminated OR ?2 WHERE serial = ?3",
        params![state.as_str(), terminated, serial],
    )?;
    Ok(())
}

pub fn card_by_serial(conn: &Connection, serial: &str) -> Result<Option<CardRow>> {
    Ok(conn
        .query_row("SELECT * FROM cards WHERE serial = ?1", [serial], card_from)
        .optional()?)
}

pub fn cards_of_certificate(conn: &Connection, certificate_id: i64) -> Result<Vec<CardRow>> {
    let mut stmt = conn.prepare("SELECT * FROM cards WHERE certificate_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([certificate_id], card_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn count_cards(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM cards", [], |r| r.get(0))?)
}

// ---- jobs ----

pub fn insert_batch(tx: &mut Tx<'_>, name: &str) -> Result<i64> {
    let actor = tx.actor().to_owned();
    Ok(tx.conn().query_row(
        "INSERT INTO batches (name, created_by, created_at) VALUES (?1, ?2, ?3) RETURNING id",
        params![name, actor, tx.now()],
        |r| r.get(0),
    )?)
}

pub fn insert_job(tx: &mut Tx<'_>, certificate_id: i64, batch_id: Option<i64>) -> Result<i64> {
    let at = tx.now().to_owned();
    tx.conn()
        .query_row(
            "INSERT INTO jobs (certificate_id, batch_id, state, created_at, updated_at)
             VALUES (?1, ?2, 'queued', ?3, ?3) RETURNING id",
            params![certificate_id, batch_id, at],
            |r| r.get(0),
        )
        .map_err(super::on_conflict(|| super::Conflict::JobOpen {
            certificate_id,
        }))
}

pub fn update_job(
    tx: &mut Tx<'_>,
    id: i64,
    state: JobState,
    reader: Option<&str>,
    card_serial: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    let bump = matches!(state, JobState::Writing) as i64;
    let n = tx.conn().execute(
        "UPDATE jobs SET state = ?1, reader = COALESCE(?2, reader), card_serial = COALESCE(?3, card_serial),
                error = ?4, attempts = attempts + ?5, updated_at = ?6 WHERE id = ?7",
        params![state.as_str(), reader, card_serial, error, bump, tx.now(), id],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: "job",
            id: id.to_string(),
        });
    }
    Ok(())
}

pub fn job(conn: &Connection, id: i64) -> Result<JobRow> {
    conn.query_row("SELECT * FROM jobs WHERE id = ?1", [id], job_from)
        .optional()?
        .ok_or(StoreError::NotFound {
            what: "job",
            id: id.to_string(),
        })
}

pub fn jobs(conn: &Connection, batch_id: Option<i64>, states: &[JobState]) -> Result<Vec<JobRow>> {
    let mut stmt =
        conn.prepare("SELECT * FROM jobs WHERE (?1 IS NULL OR batch_id = ?1) ORDER BY id")?;
    let rows = stmt.query_map(params![batch_id], job_from)?;
    let all: Vec<JobRow> = rows.collect::<Result<_, _>>()?;
    Ok(all
        .into_iter()
        .filter(|j| states.is_empty() || states.contains(&j.state))
        .collect())
}

// ---- revocations ----

pub fn insert_revocation(
    tx: &mut Tx<'_>,
    serial: Option<&str>,
    number: Option<&CertificateNumber>,
    reason: &str,
    since: NaiveDate,
    source: &str,
) -> Result<()> {
    tx.conn().execute(
        "INSERT OR IGNORE INTO revocations (serial, number, reason, since, source) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![serial, number, reason, since.format("%Y-%m-%d").to_string(), source],
    )?;
    Ok(())
}

/// Records a suspension in force for `number` (`Some`), or ends it (`None`: lifted,
/// or superseded by a cancellation, replacement or re-issue).
pub fn set_suspension(
    tx: &mut Tx<'_>,
    number: &CertificateNumber,
    suspension: Option<(&str, NaiveDate)>,
    source: &str,
) -> Result<()> {
    match suspension {
        Some((reason, since)) => tx.conn().execute(
            "INSERT INTO suspensions (number, reason, since, source) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (number) DO UPDATE SET reason = ?2, since = ?3, source = ?4",
            params![number, reason, since.format("%Y-%m-%d").to_string(), source],
        )?,
        None => tx
            .conn()
            .execute("DELETE FROM suspensions WHERE number = ?1", [number])?,
    };
    Ok(())
}

/// The latest status change of a certificate: (id, reason, effective date).
pub fn latest_status_change(
    conn: &Connection,
    certificate_id: i64,
) -> Result<Option<(i64, String, NaiveDate)>> {
    let row: Option<(i64, String, String)> = conn
        .query_row(
            "SELECT id, reason, effective_on FROM status_changes WHERE certificate_id = ?1
             ORDER BY id DESC LIMIT 1",
            [certificate_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(id, reason, on)| Ok((id, reason, parse_date(&on)?)))
        .transpose()
}

/// How a review result is stored.
pub fn review_result_text(result: card_profile::records::ReviewResult) -> &'static str {
    match result {
        card_profile::records::ReviewResult::Passed => "passed",
        card_profile::records::ReviewResult::Failed => "failed",
    }
}

/// The certificate's review of `year` if it is recorded but not yet on a card, as
/// the record to append to the card with `serial`.
pub fn unwritten_review(
    conn: &Connection,
    certificate_id: i64,
    year: u16,
    serial: [u8; 8],
) -> Result<Option<(i64, card_profile::records::Review)>> {
    let row: Option<(i64, String, String, String, Option<String>)> = conn
        .query_row(
            "SELECT id, review_date, result, reviewer, remark FROM reviews
             WHERE certificate_id = ?1 AND year = ?2 AND card_serial IS NULL",
            params![certificate_id, year],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    row.map(|(id, date, result, reviewer, remark)| {
        let result = match result.as_str() {
            "passed" => card_profile::records::ReviewResult::Passed,
            _ => card_profile::records::ReviewResult::Failed,
        };
        Ok((
            id,
            card_profile::records::Review {
                year,
                date: parse_date(&date)?,
                result,
                reviewer,
                serial,
                remark,
            },
        ))
    })
    .transpose()
}

/// Moves whenever the revocation list or the suspensions change (schema V4 triggers).
pub fn list_generation(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT generation FROM list_generation WHERE id = 1",
        [],
        |r| r.get(0),
    )?)
}

pub fn serial_revoked(conn: &Connection, serial: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM revocations WHERE serial = ?1)",
        [serial],
        |r| r.get(0),
    )?)
}

/// Whether this station already knows `serial` from elsewhere than job `job_id`: a
/// card on record, or another job's card. A "blank" card presenting it is not new.
pub fn serial_known_elsewhere(conn: &Connection, serial: &str, job_id: i64) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM cards WHERE serial = ?1)
             OR EXISTS (SELECT 1 FROM jobs WHERE card_serial = ?1 AND id <> ?2)",
        rusqlite::params![serial, job_id],
        |r| r.get(0),
    )?)
}

/// The whole local revocation list, and the suspensions in force, as a lookup set.
/// The rows are counted first so the set's rows are allocated once at their size,
/// and read without a `String` per column (a list may hold a million entries).
pub fn revocation_set(conn: &Connection) -> Result<card_profile::revocation::RevocationSet> {
    let (serials, numbers): (i64, i64) = conn.query_row(
        "SELECT count(serial), count(number) FROM revocations",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut set = card_profile::revocation::RevocationSetBuilder::with_capacity(
        usize::try_from(serials).unwrap_or(0),
        usize::try_from(numbers).unwrap_or(0),
    );
    let mut stmt = conn.prepare("SELECT serial, number, reason, since FROM revocations")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let reason = text_at(r, 2)?.unwrap_or_default();
        let since = parse_date(text_at(r, 3)?.unwrap_or_default())?;
        let mut serial = [0u8; 8];
        if let Some(text) = text_at(r, 0)? {
            if hex::decode_to_slice(text, &mut serial).is_ok() {
                set.revoke_serial(serial, reason, since);
            }
        }
        if let Some(number) = text_at(r, 1)? {
            set.revoke_number(number, reason, since);
        }
    }
    let mut stmt = conn.prepare("SELECT number, reason, since FROM suspensions")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let since: String = r.get(2)?;
        let suspension = card_profile::revocation::Revocation {
            reason: r.get(1)?,
            since: parse_date(&since)?,
        };
        set.suspend_number(r.get::<_, String>(0)?, suspension);
    }
    let mut stmt = conn.prepare("SELECT serial, highest FROM status_sequences")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let serial: String = r.get(0)?;
        if let Some(bytes) = hex::decode(serial)
            .ok()
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
        {
            set.note_status_sequence(bytes, r.get(1)?);
        }
    }
    Ok(set.build())
}

/// Column `i` as text borrowed from the row (`None` for NULL), without a copy.
fn text_at<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    let value = r.get_ref(i)?;
    value
        .as_str_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(e)))
}

/// The highest EF.STATUS sequence this station has seen or written for `serial`.
pub fn status_sequence(conn: &Connection, serial: &str) -> Result<Option<u32>> {
    Ok(conn
        .query_row(
            "SELECT highest FROM status_sequences WHERE serial = ?1",
            [serial],
            |r| r.get(0),
        )
        .optional()?)
}

/// Remembers `sequence` for `serial` when it is higher than what is held (the row
/// and the list generation change only then). True when it was higher. The first
/// sequence is never kept (`status_sequence_worth_keeping`): issuing or verifying a
/// card that never changed writes nothing and leaves the cached lists as they are.
pub fn note_status_sequence(tx: &mut Tx<'_>, serial: &str, sequence: u32) -> Result<bool> {
    if !card_profile::records::status_sequence_worth_keeping(sequence) {
        return Ok(false);
    }
    let now = tx.now();
    let n = tx.conn().execute(
        "INSERT INTO status_sequences (serial, highest, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (serial) DO UPDATE SET highest = excluded.highest, updated_at = excluded.updated_at
         WHERE excluded.highest > status_sequences.highest",
        rusqlite::params![serial, sequence, now],
    )?;
    Ok(n == 1)
}
