//! Applications imported at a station (`application_submitted` events, docs/SYNC.md).
//!
//! Every such event is kept in `station_applications`, as it came. Whether and for
//! which unit it is filed is decided in `crate::workflow::service`: either a
//! workflow application, or the reason it waits for the admin.

use super::accounts::{unit_row, UNIT_COLUMNS};
use super::db::{params, OptionalExtension};
use super::{Result, Storage, Tx, Unit};
use ecard_sync_protocol::events::{ApplicationSubmitted, SuccessionSubmitted};
use serde::{Deserialize, Serialize};

/// One application imported at a station, as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationApplication {
    pub id: i64,
    pub station: String,
    pub event_id: String,
    /// `new`, `replacement` (换证) or `reissue` (补证).
    pub kind: String,
    /// The unit as named in the row.
    pub unit: String,
    pub name: Option<String>,
    pub id_number: Option<String>,
    /// The workflow application filed from it; `None` while it waits for the admin.
    pub application_id: Option<i64>,
    /// Why it waits (Chinese).
    pub problem: Option<String>,
    pub created_at: String,
}

fn unit_named(tx: &Tx<'_>, name: &str) -> Result<Option<Unit>> {
    Ok(tx
        .conn()
        .query_row(
            &format!("SELECT {UNIT_COLUMNS} FROM units WHERE name = ?1"),
            params![name],
            unit_row,
        )
        .optional()?)
}

/// Records one `application_submitted` event as it came; the workflow files it
/// (or notes why it waits) through `IngestHooks::station_application`.
pub(super) fn record(
    tx: &Tx<'_>,
    station: &str,
    event_id: &str,
    p: &ApplicationSubmitted,
) -> Result<i64> {
    let defaults = p.defaults.as_ref().map(serde_json::to_string).transpose()?;
    insert(
        tx,
        station,
        event_id,
        p.kind.as_str(),
        p.unit(),
        &serde_json::to_string(&p.row)?,
        defaults.as_deref(),
        p.photo_jpeg.as_deref(),
    )
}

/// Records one `succession_submitted` event (a 换证/补证 made at the station) the
/// same way: `row_json` is the event's payload without the photo.
pub(super) fn record_succession(
    tx: &Tx<'_>,
    station: &str,
    event_id: &str,
    p: &SuccessionSubmitted,
) -> Result<i64> {
    let mut row = p.clone();
    let photo = row.photo_jpeg.take();
    insert(
        tx,
        station,
        event_id,
        p.kind.as_str(),
        p.unit.trim(),
        &serde_json::to_string(&row)?,
        None,
        photo.as_deref(),
    )
}

/// The one INSERT of a station's application, whichever event brought it.
#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &Tx<'_>,
    station: &str,
    event_id: &str,
    kind: &str,
    unit: &str,
    row_json: &str,
    defaults_json: Option<&str>,
    photo_base64: Option<&str>,
) -> Result<i64> {
    Ok(tx.conn().query_row(
        "INSERT INTO station_applications (station_id, event_id, kind, unit_name, row_json, defaults_json,
             photo_base64, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        params![
            station,
            event_id,
            kind,
            unit,
            row_json,
            defaults_json,
            photo_base64.map(str::trim),
            tx.now()
        ],
        |r| r.get(0),
    )?)
}

/// What a station sent for one application, as recorded.
pub struct StationRow {
    pub station: String,
    /// The event kind it came as: `application_submitted` (`row_json` is a roster
    /// row) or `succession_submitted` (`row_json` is that payload).
    pub event_kind: String,
    pub row_json: String,
    pub defaults_json: Option<String>,
    pub photo_base64: Option<String>,
}

impl Tx<'_> {
    pub(crate) fn unit_named(&self, name: &str) -> Result<Option<Unit>> {
        unit_named(self, name)
    }

    pub(crate) fn station_row(&self, id: i64) -> Result<StationRow> {
        Ok(self.conn().query_row(
            "SELECT s.station_id, s.row_json, s.defaults_json, s.photo_base64, e.kind
             FROM station_applications s JOIN events e ON e.event_id = s.event_id
             WHERE s.id = ?1",
            params![id],
            |r| {
                Ok(StationRow {
                    station: r.get(0)?,
                    row_json: r.get(1)?,
                    defaults_json: r.get(2)?,
                    photo_base64: r.get(3)?,
                    event_kind: r.get(4)?,
                })
            },
        )?)
    }

    /// The station application `station` sent with event `event_id`: its id, the
    /// workflow application filed from it, and the event's kind. `None` when that
    /// station sent no such application (another station's is not found either).
    pub(crate) fn station_application_by_event(
        &self,
        station: &str,
        event_id: &str,
    ) -> Result<Option<(i64, Option<i64>, String)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT s.id, s.application_id, e.kind FROM station_applications s
                 JOIN events e ON e.event_id = s.event_id
                 WHERE s.station_id = ?1 AND s.event_id = ?2",
                params![station, event_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// The unit station application `id` names now.
    pub(crate) fn station_row_unit(&self, id: i64) -> Result<String> {
        Ok(self.conn().query_row(
            "SELECT unit_name FROM station_applications WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )?)
    }

    /// What the station sent, amended: a new row (and the unit it names) and/or a
    /// new photo; `None` keeps each.
    pub(crate) fn amend_station_row(
        &self,
        id: i64,
        row: Option<(&str, &str)>,
        photo_base64: Option<&str>,
    ) -> Result<()> {
        let (unit, row_json) = row.unzip();
        self.conn().execute(
            "UPDATE station_applications SET unit_name = COALESCE(?2, unit_name),
                 row_json = COALESCE(?3, row_json), photo_base64 = COALESCE(?4, photo_base64)
             WHERE id = ?1",
            params![id, unit, row_json, photo_base64.map(str::trim)],
        )?;
        Ok(())
    }

    /// Why station application `id` waits for the admin.
    pub(crate) fn set_station_problem(&self, id: i64, problem: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE station_applications SET problem = ?2 WHERE id = ?1",
            params![id, problem],
        )?;
        Ok(())
    }

    /// The station event that carried workflow application `app`, when a station
    /// sent it.
    pub(crate) fn station_event_of(&self, app: i64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT event_id FROM station_applications WHERE application_id = ?1",
                params![app],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Station application `id` was filed as workflow application `app`.
    pub(crate) fn set_station_filed(&self, id: i64, app: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE station_applications SET application_id = ?2, problem = NULL, attached_at = ?3 WHERE id = ?1",
            params![id, app, self.now()],
        )?;
        Ok(())
    }

    /// The waiting station applications that name `unit_name`, oldest first.
    pub(crate) fn waiting_station_applications(&self, unit_name: &str) -> Result<Vec<i64>> {
        Ok(self
            .conn()
            .prepare(
                "SELECT id FROM station_applications WHERE application_id IS NULL AND unit_name = ?1 ORDER BY id",
            )?
            .query_map(params![unit_name], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    /// `None`: no such station application; `Some(filed as)` otherwise.
    pub(crate) fn station_application_filed(&self, id: i64) -> Result<Option<Option<i64>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT application_id FROM station_applications WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub(crate) fn station_application(&self, id: i64) -> Result<StationApplication> {
        Ok(self.conn().query_row(
            &format!("SELECT {COLUMNS} FROM station_applications WHERE id = ?1"),
            params![id],
            station_application_row,
        )?)
    }
}

fn station_application_row(r: &super::db::Row) -> super::db::DbResult<StationApplication> {
    let row_json: String = r.get(5)?;
    let row: serde_json::Value = serde_json::from_str(&row_json).unwrap_or_default();
    // A roster row names the person at the top; a 换证/补证 in its `holder`.
    let text = |k: &str| {
        row.get(k)
            .or_else(|| row.get("holder").and_then(|h| h.get(k)))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    Ok(StationApplication {
        id: r.get(0)?,
        station: r.get(1)?,
        event_id: r.get(2)?,
        kind: r.get(3)?,
        unit: r.get(4)?,
        name: text("name"),
        id_number: text("citizen_id").or_else(|| text("id_number")),
        application_id: r.get(6)?,
        problem: r.get(7)?,
        created_at: r.get(8)?,
    })
}

const COLUMNS: &str =
    "id, station_id, event_id, kind, unit_name, row_json, application_id, problem, created_at";

impl Storage {
    /// Station applications, oldest first; `waiting_only`: those not yet filed.
    pub fn station_applications(&self, waiting_only: bool) -> Result<Vec<StationApplication>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {COLUMNS} FROM station_applications {} ORDER BY id",
                if waiting_only {
                    "WHERE application_id IS NULL"
                } else {
                    ""
                }
            );
            Ok(c.prepare(&sql)?
                .query_map(params![], station_application_row)?
                .collect::<Result<_, _>>()?)
        })
    }
}
