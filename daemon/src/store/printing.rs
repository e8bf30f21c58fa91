//! Printing's rows (schema V11): the queue faces are printed on, which card
//! printer's built-in encoder each reader is and in which order that printer works,
//! batches that print as they encode, and per job the face printed and whether its
//! card was spoiled. Each change carries its audit row.

use super::{setting_in, JobState, Result, StoreError, Tx};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Setting key of the CUPS queue single faces are printed on (设置).
pub const PRINT_QUEUE_SETTING: &str = "print_queue";

/// In which order a card printer with a built-in encoder handles a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintOrder {
    /// Write and verify the chip, then print the face (a spoiled card is never
    /// printed).
    EncodeFirst,
    /// Read the card's serial at the encoder, print the face (its seal names that
    /// serial), then write the chip; a card spoiled after printing has its printed
    /// face voided with it.
    PrintFirst,
}

impl PrintOrder {
    pub const ALL: [PrintOrder; 2] = [PrintOrder::EncodeFirst, PrintOrder::PrintFirst];

    pub const fn as_str(self) -> &'static str {
        match self {
            PrintOrder::EncodeFirst => "encode_first",
            PrintOrder::PrintFirst => "print_first",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == code)
    }
}

/// One reader that is a card printer's encoder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterPairing {
    pub reader: String,
    pub queue: String,
    pub order: PrintOrder,
}

/// The queue single faces go to, if chosen.
pub fn print_queue(conn: &Connection) -> Result<Option<String>> {
    Ok(setting_in(conn, PRINT_QUEUE_SETTING)?.filter(|q| !q.is_empty()))
}

pub fn printer_pairings(conn: &Connection) -> Result<Vec<PrinterPairing>> {
    let mut stmt =
        conn.prepare("SELECT reader, queue, print_order FROM printer_pairings ORDER BY reader")?;
    let rows = stmt.query_map([], pairing_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn printer_pairing(conn: &Connection, reader: &str) -> Result<Option<PrinterPairing>> {
    Ok(conn
        .query_row(
            "SELECT reader, queue, print_order FROM printer_pairings WHERE reader = ?1",
            [reader],
            pairing_from,
        )
        .optional()?)
}

fn pairing_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<PrinterPairing> {
    let order: String = r.get(2)?;
    Ok(PrinterPairing {
        reader: r.get(0)?,
        queue: r.get(1)?,
        order: PrintOrder::parse(&order).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown print order {order:?}").into(),
            )
        })?,
    })
}

/// The admin's printing settings, replacing the previous ones: the queue for
/// single faces and the whole list of pairings. One audit row with all of it.
pub fn set_printing(
    tx: &mut Tx<'_>,
    queue: Option<&str>,
    pairings: &[PrinterPairing],
) -> Result<()> {
    tx.set_setting(PRINT_QUEUE_SETTING, queue.unwrap_or(""))?;
    tx.conn().execute("DELETE FROM printer_pairings", [])?;
    let now = tx.now().to_owned();
    for p in pairings {
        tx.conn().execute(
            "INSERT INTO printer_pairings (reader, queue, print_order, updated_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![p.reader, p.queue, p.order.as_str(), now],
        )?;
    }
    tx.audit(
        "printing.changed",
        "printing",
        json!({ "queue": queue, "pairings": pairings }),
    )?;
    Ok(())
}

/// Marks a batch as print-and-encode (at creation).
pub fn set_batch_print_encode(tx: &mut Tx<'_>, batch_id: i64) -> Result<()> {
    tx.conn().execute(
        "UPDATE batches SET print_encode = 1 WHERE id = ?1",
        [batch_id],
    )?;
    Ok(())
}

pub fn batch_print_encode(conn: &Connection, batch_id: i64) -> Result<bool> {
    conn.query_row(
        "SELECT print_encode FROM batches WHERE id = ?1",
        [batch_id],
        |r| r.get::<_, i64>(0),
    )
    .optional()?
    .map(|v| v != 0)
    .ok_or_else(|| StoreError::NotFound {
        what: "batch",
        id: batch_id.to_string(),
    })
}

/// The CUPS job that printed the face of the job's card.
pub fn note_face_print(tx: &mut Tx<'_>, job_id: i64, cups_job: &str) -> Result<()> {
    tx.conn().execute(
        "UPDATE jobs SET face_print = ?1 WHERE id = ?2",
        params![cups_job, job_id],
    )?;
    tx.audit(
        "face.printed",
        &job_id.to_string(),
        json!({ "job": job_id, "print_job": cups_job }),
    )?;
    Ok(())
}

pub fn face_print_of(conn: &Connection, job_id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT face_print FROM jobs WHERE id = ?1", [job_id], |r| {
            r.get(0)
        })
        .optional()?
        .flatten())
}

/// A job whose card is spoiled (废卡): failed, with `why` as its error code; the
/// caller voids the serial and queues the certificate again.
pub fn spoil_job(tx: &mut Tx<'_>, job_id: i64, why: &str) -> Result<()> {
    let now = tx.now().to_owned();
    tx.conn().execute(
        "UPDATE jobs SET state = ?1, spoiled = 1, error = ?2, updated_at = ?3 WHERE id = ?4",
        params![JobState::Failed.as_str(), why, now, job_id],
    )?;
    Ok(())
}
