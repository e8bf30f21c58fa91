//! Applications imported at a station (`application_submitted` events, docs/SYNC.md).
//!
//! Every such event is kept in `station_applications`. When the row's unit
//! (所属执法主体, matched by exact name) is registered, a workflow application is
//! filed for it at once, exactly as if the unit had submitted it: state `submitted`,
//! the county reviews first, the city decides; the photo is kept for the issuance
//! order. Otherwise the event is still accepted (a station's outbox must never stall
//! on the registry's bookkeeping) and waits, with the reason, for the admin:
//! creating a unit with that name files all its waiting applications, or the admin
//! attaches one to a registered unit (`POST /api/v1/admin/station-applications/{id}/attach`).

use super::accounts::{unit_row, UNIT_COLUMNS};
use super::workflow::insert_submitted;
use super::{Result, Storage, StorageError, Tx, Unit};
use crate::form::{ApplicationForm, RosterDefaults};
use card_profile::records::CertificateKind;
use ecard_domain::roster::RosterRow;
use ecard_sync_protocol::events::{ApplicationDefaults, ApplicationSubmitted};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

/// Category (执法类别) given to a station's row when the station sent no defaults:
/// the roster template has no such column. Reviewers see it and may reject the
/// application for the unit to correct.
pub const FALLBACK_CATEGORY: &str = "行政执法";

/// One application imported at a station, as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationApplication {
    pub id: i64,
    pub station: String,
    pub event_id: String,
    /// `new` or `replacement`.
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
            [name],
            unit_row,
        )
        .optional()?)
}

/// Applies one `application_submitted` event. Never fails for the event's content:
/// what cannot be filed now is kept for the admin.
pub(super) fn record(
    tx: &mut Tx<'_>,
    station: &str,
    event_id: &str,
    p: &ApplicationSubmitted,
) -> Result<()> {
    let kind = p.kind.as_str();
    let defaults = p.defaults.as_ref().map(serde_json::to_string).transpose()?;
    tx.conn().execute(
        "INSERT INTO station_applications (station_id, event_id, kind, unit_name, row_json, defaults_json,
             photo_base64, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            station,
            event_id,
            kind,
            p.unit(),
            serde_json::to_string(&p.row)?,
            defaults,
            p.photo_jpeg.as_deref().map(str::trim),
            tx.now()
        ],
    )?;
    let id = tx.conn().last_insert_rowid();
    match unit_named(tx, p.unit())? {
        Some(unit) => {
            // A row that cannot be filed keeps its problem and waits for the admin.
            let _filed_or_waiting = attach(tx, id, &unit)?;
        }
        None => {
            let problem = format!(
                "单位“{}”未在中心登记：请登记该单位（同名，登记后自动转入审核）或将申请指派给已登记的单位",
                p.unit()
            );
            tx.conn().execute(
                "UPDATE station_applications SET problem = ?2 WHERE id = ?1",
                params![id, problem],
            )?;
        }
    }
    Ok(())
}

/// Files the waiting station application `id` for `unit`. `Ok(Err(message))` when
/// its row cannot be made into a valid form (the message is kept as the problem).
fn attach(tx: &Tx<'_>, id: i64, unit: &Unit) -> Result<Result<i64, String>> {
    let (station, row_json, defaults_json, photo): (String, String, Option<String>, Option<String>) =
        tx.conn().query_row(
            "SELECT station_id, row_json, defaults_json, photo_base64 FROM station_applications WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
    let form = serde_json::from_str::<RosterRow>(&row_json)
        .map_err(|e| format!("站点提交的花名册行无法识别：{e}"))
        .and_then(|row| {
            let defaults = match defaults_json {
                Some(d) => serde_json::from_str::<ApplicationDefaults>(&d)
                    .map(|d| RosterDefaults {
                        certificate_kind: d.certificate_kind,
                        category: d.category,
                        area: d.area,
                    })
                    .map_err(|e| format!("站点提交的默认值无法识别：{e}"))?,
                None => RosterDefaults {
                    certificate_kind: CertificateKind::Enforcement,
                    category: FALLBACK_CATEGORY.to_owned(),
                    area: row.county.trim().to_owned(),
                },
            };
            let mut form = ApplicationForm::from_roster(&row, &defaults);
            form.photo_jpeg = photo;
            form.check(tx.today())
        });
    let checked = match form {
        Ok(f) => f,
        Err(message) => {
            tx.conn().execute(
                "UPDATE station_applications SET problem = ?2 WHERE id = ?1",
                params![id, message],
            )?;
            return Ok(Err(message));
        }
    };
    let app = insert_submitted(tx, unit.id, &checked, &format!("station:{station}"))?;
    tx.conn().execute(
        "UPDATE station_applications SET application_id = ?2, problem = NULL, attached_at = ?3 WHERE id = ?1",
        params![id, app, tx.now()],
    )?;
    Ok(Ok(app))
}

/// Files every waiting station application that names `unit` (called when the unit
/// is created). Rows that still cannot be filed keep waiting with their problem.
pub(super) fn attach_waiting_for(tx: &Tx<'_>, unit: &Unit) -> Result<()> {
    let ids: Vec<i64> = tx
        .conn()
        .prepare(
            "SELECT id FROM station_applications WHERE application_id IS NULL AND unit_name = ?1 ORDER BY id",
        )?
        .query_map([&unit.name], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        let _filed_or_waiting = attach(tx, id, unit)?;
    }
    Ok(())
}

fn station_application_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StationApplication> {
    let row_json: String = r.get(5)?;
    let row: serde_json::Value = serde_json::from_str(&row_json).unwrap_or_default();
    let text = |k: &str| row.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    Ok(StationApplication {
        id: r.get(0)?,
        station: r.get(1)?,
        event_id: r.get(2)?,
        kind: r.get(3)?,
        unit: r.get(4)?,
        name: text("name"),
        id_number: text("citizen_id"),
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
                .query_map([], station_application_row)?
                .collect::<Result<_, _>>()?)
        })
    }

    /// The admin files a waiting station application for a registered unit (e.g.
    /// the row spelled the unit's name differently).
    pub fn attach_station_application(
        &self,
        id: i64,
        unit_name: &str,
    ) -> Result<StationApplication> {
        self.write(|tx| {
            let attached: Option<Option<i64>> = tx
                .conn()
                .query_row(
                    "SELECT application_id FROM station_applications WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            match attached {
                None => {
                    return Err(StorageError::NotFound {
                        what: "station application",
                        id: id.to_string(),
                    })
                }
                Some(Some(app)) => {
                    return Err(StorageError::Exists {
                        what: "application",
                        id: app.to_string(),
                    })
                }
                Some(None) => {}
            }
            let unit = unit_named(tx, unit_name.trim())?.ok_or_else(|| StorageError::NotFound {
                what: "unit",
                id: unit_name.trim().to_owned(),
            })?;
            attach(tx, id, &unit)?.map_err(StorageError::Invalid)?;
            Ok(tx.conn().query_row(
                &format!("SELECT {COLUMNS} FROM station_applications WHERE id = ?1"),
                [id],
                station_application_row,
            )?)
        })
    }
}
