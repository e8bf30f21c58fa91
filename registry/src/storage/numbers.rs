//! The SQL adapter for central certificate numbering: the highest serial ever seen
//! per (region, department) prefix (allocated here or reported by a station). The
//! rule that makes a number from it is `ecard_domain::numbering`, applied by
//! `crate::workflow::service` inside the same IMMEDIATE transaction;
//! `certificates.number UNIQUE` is the last line of defence.

use super::{Result, Tx};
use rusqlite::{params, OptionalExtension};

impl Tx<'_> {
    /// The highest serial recorded for `prefix`.
    pub(crate) fn last_serial(&self, prefix: &str) -> Result<Option<u32>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT last_serial FROM number_serials WHERE prefix = ?1",
                [prefix],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records `serial` as the last one allocated under `prefix`.
    pub(crate) fn set_last_serial(&self, prefix: &str, serial: u32) -> Result<()> {
        self.conn().execute(
            "INSERT INTO number_serials (prefix, last_serial) VALUES (?1, ?2)
             ON CONFLICT(prefix) DO UPDATE SET last_serial = excluded.last_serial",
            params![prefix, serial],
        )?;
        Ok(())
    }

    /// Raises the last serial under `prefix` to at least `serial` (a number seen
    /// elsewhere, so central allocation continues after it).
    pub(crate) fn raise_last_serial(&self, prefix: &str, serial: u32) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO number_serials (prefix, last_serial) VALUES (?1, ?2)
                 ON CONFLICT(prefix) DO UPDATE SET last_serial = MAX(last_serial, excluded.last_serial)",
            )?
            .execute(params![prefix, serial])?;
        Ok(())
    }
}
