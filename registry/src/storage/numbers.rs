//! The SQL adapter for central certificate numbering: the highest serial ever seen
//! per (region, department) pair (allocated here, or on a number that entered as
//! data). The registry is the only owner of numbers: the rule that makes the next
//! one is `ecard_domain::numbering::allocate`, applied by `crate::workflow::service`
//! inside the same IMMEDIATE transaction; `certificates.number UNIQUE` is the last
//! line of defence.

use super::db::{params, OptionalExtension};
use super::{Result, Tx};
use ecard_domain::numbering::NumberParts;

impl Tx<'_> {
    /// The highest serial recorded for `region` + `department`.
    pub(crate) fn last_serial(&self, region: &str, department: &str) -> Result<Option<u32>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT last_serial FROM number_serials WHERE prefix = ?1",
                params![format!("{region}{department}")],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records `number` as allocated: its serial is the last one used under its
    /// region and department (never lowered).
    pub(crate) fn note_allocated(&self, number: &NumberParts) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO number_serials (prefix, last_serial) VALUES (?1, ?2)
                 ON CONFLICT(prefix) DO UPDATE SET last_serial = CASE
                     WHEN excluded.last_serial > number_serials.last_serial THEN excluded.last_serial
                     ELSE number_serials.last_serial END",
            )?
            .execute(params![number.prefix(), number.serial])?;
        Ok(())
    }
}
