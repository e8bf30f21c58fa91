//! Enrolled stations and the nonces they have used.

use super::db::{params, OptionalExtension};
use super::{is_constraint, Result, Storage, StorageError};
use ecard_sync_protocol::signing::MAX_CLOCK_SKEW_SECS;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    pub id: String,
    /// Uncompressed P-256 point, hex.
    pub public_key: String,
    pub region: Option<String>,
    pub last_applied_seq: u64,
    pub disabled: bool,
    pub created_at: String,
}

fn row(r: &super::db::Row) -> super::db::DbResult<Station> {
    Ok(Station {
        id: r.get(0)?,
        public_key: r.get(1)?,
        region: r.get(2)?,
        last_applied_seq: r.get::<_, i64>(3)?.max(0) as u64,
        disabled: r.get(4)?,
        created_at: r.get(5)?,
    })
}

const COLUMNS: &str = "id, public_key, region, last_applied_seq, disabled, created_at";

impl Storage {
    /// Enrolls a station. The caller has checked the id and the key's form.
    pub fn add_station(
        &self,
        id: &str,
        public_key_hex: &str,
        region: Option<&str>,
    ) -> Result<Station> {
        // An empty region is no region: the feed's prefix match would otherwise
        // send such a station every region's orders, which it may not act on.
        let region = region.map(str::trim).filter(|r| !r.is_empty());
        self.write(|tx| {
            tx.conn()
                .execute(
                    "INSERT INTO stations (id, public_key, region, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, public_key_hex, region, tx.now()],
                )
                .map_err(|e| {
                    if is_constraint(&e) {
                        StorageError::Exists { what: "station", id: id.to_owned() }
                    } else {
                        e.into()
                    }
                })?;
            Ok(())
        })?;
        self.station(id)?.ok_or_else(|| StorageError::NotFound {
            what: "station",
            id: id.to_owned(),
        })
    }

    pub fn station(&self, id: &str) -> Result<Option<Station>> {
        self.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {COLUMNS} FROM stations WHERE id = ?1"),
                params![id],
                row,
            )
            .optional()?)
        })
    }

    pub fn stations(&self) -> Result<Vec<Station>> {
        self.read(|c| {
            let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM stations ORDER BY id"))?;
            let rows = st
                .query_map(params![], row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    pub fn set_station_disabled(&self, id: &str, disabled: bool) -> Result<()> {
        self.write(|tx| {
            let n = tx.conn().execute(
                "UPDATE stations SET disabled = ?2 WHERE id = ?1",
                params![id, disabled],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound {
                    what: "station",
                    id: id.to_owned(),
                });
            }
            Ok(())
        })
    }

    /// Records a request's nonce, durably, or refuses it as a replay. Nonces older
    /// than twice the clock window are forgotten: a request that old is refused
    /// by its timestamp anyway.
    pub fn remember_nonce(
        &self,
        station: &str,
        nonce: &str,
        timestamp: i64,
        now_unix: i64,
    ) -> Result<()> {
        self.write(|tx| {
            tx.conn().execute(
                "DELETE FROM nonces WHERE seen_at < ?1",
                params![now_unix - 2 * MAX_CLOCK_SKEW_SECS],
            )?;
            tx.conn()
                .execute(
                    "INSERT INTO nonces (station_id, nonce, seen_at) VALUES (?1, ?2, ?3)",
                    params![station, nonce, timestamp],
                )
                .map_err(|e| {
                    if is_constraint(&e) {
                        StorageError::Replayed
                    } else {
                        e.into()
                    }
                })?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_round_trip_and_duplicate_refused() {
        let s = super::super::test_storage(ecard_clock::Clock::system());
        let st = s.add_station("st-a", "04ab", Some("川X")).expect("add");
        assert_eq!(st.last_applied_seq, 0);
        assert!(matches!(
            s.add_station("st-a", "04cd", None),
            Err(StorageError::Exists { .. })
        ));
        assert_eq!(s.stations().expect("list").len(), 1);
    }

    #[test]
    fn a_nonce_is_accepted_once() {
        let s = super::super::test_storage(ecard_clock::Clock::system());
        s.add_station("st-a", "04ab", None).expect("add");
        s.remember_nonce("st-a", "n1", 1000, 1000).expect("first");
        assert!(matches!(
            s.remember_nonce("st-a", "n1", 1000, 1001),
            Err(StorageError::Replayed)
        ));
        // Another station may use the same nonce value.
        s.add_station("st-b", "04ab", None).expect("add");
        s.remember_nonce("st-b", "n1", 1000, 1001)
            .expect("other station");
    }
}
