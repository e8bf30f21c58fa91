//! Central certificate-number allocation (ecard_domain::numbering): the pure
//! `next_number` runs inside the caller's IMMEDIATE transaction over the highest
//! serial ever seen for the (region, department) prefix (allocated here or reported
//! by a station); `certificates.number UNIQUE` is the last line of defence.

use super::{Result, Tx};
use ecard_domain::numbering::NumberingRule;
use rusqlite::{params, OptionalExtension};

pub(super) fn allocate(
    tx: &Tx<'_>,
    rule: &NumberingRule,
    region: &str,
    department: &str,
) -> Result<String> {
    let prefix = format!("{region}{department}");
    let last: Option<u32> = tx
        .conn()
        .query_row(
            "SELECT last_serial FROM number_serials WHERE prefix = ?1",
            [&prefix],
            |r| r.get(0),
        )
        .optional()?;
    let number = rule.next_number(region, department, last)?;
    let serial = rule.parse(&number)?.serial;
    tx.conn().execute(
        "INSERT INTO number_serials (prefix, last_serial) VALUES (?1, ?2)
         ON CONFLICT(prefix) DO UPDATE SET last_serial = excluded.last_serial",
        params![prefix, serial],
    )?;
    Ok(number)
}

/// Notes a number that a station allocated, so central allocation continues after it.
pub(super) fn note(tx: &Tx<'_>, rule: &NumberingRule, number: &str) -> Result<()> {
    let Ok(parsed) = rule.parse(number) else {
        // Not a number of this rule (another province's, or free-form): nothing to avoid.
        return Ok(());
    };
    tx.conn()
        .prepare_cached(
            "INSERT INTO number_serials (prefix, last_serial) VALUES (?1, ?2)
             ON CONFLICT(prefix) DO UPDATE SET last_serial = MAX(last_serial, excluded.last_serial)",
        )?
        .execute(params![format!("{}{}", parsed.region, parsed.department), parsed.serial])?;
    Ok(())
}
