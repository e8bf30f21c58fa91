//! Calendar days ↔ X.509 `Time` (RFC 5280 §4.1.2.5): UTCTime for years up to 2049,
//! GeneralizedTime from 2050 on. A validity period of days runs from 00:00:00Z of
//! the first day to 23:59:59Z of the last, as ecard's own certificates count a day
//! as valid through its end. Times are UTC: the days are the certificate's dates,
//! not a local clock's.

use super::X509Error;
use chrono::{Datelike, NaiveDate};
use der::asn1::{GeneralizedTime, UtcTime};
use der::DateTime;
use x509_cert::time::{Time, Validity};

fn time(day: NaiveDate, hour: u8, minute: u8, second: u8) -> Result<Time, X509Error> {
    let year = u16::try_from(day.year()).map_err(|_| X509Error::Malformed("year out of range"))?;
    // chrono's month and day are 1..=12 and 1..=31, so the casts cannot truncate.
    let dt = DateTime::new(
        year,
        day.month() as u8,
        day.day() as u8,
        hour,
        minute,
        second,
    )?;
    if year <= UtcTime::MAX_YEAR {
        // UTCTime starts in 1950 (RFC 5280), `der` in 1970; both are before any card.
        Ok(Time::UtcTime(UtcTime::from_date_time(dt)?))
    } else {
        Ok(Time::GeneralTime(GeneralizedTime::from_date_time(dt)))
    }
}

/// `from 00:00:00Z ..= until 23:59:59Z`.
pub(super) fn validity(from: NaiveDate, until: NaiveDate) -> Result<Validity, X509Error> {
    if until < from {
        return Err(X509Error::Malformed("validity ends before it starts"));
    }
    Ok(Validity {
        not_before: time(from, 0, 0, 0)?,
        not_after: time(until, 23, 59, 59)?,
    })
}

/// The calendar day (UTC) of a `Time`.
pub(super) fn day(t: &Time) -> Result<NaiveDate, X509Error> {
    let dt = t.to_date_time();
    NaiveDate::from_ymd_opt(
        i32::from(dt.year()),
        u32::from(dt.month()),
        u32::from(dt.day()),
    )
    .ok_or(X509Error::Malformed("date out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn dates_to_2049_are_utc_time_and_later_ones_generalized_time() {
        let v = validity(d(2026, 3, 1), d(2049, 12, 31)).expect("validity");
        assert_eq!(
            v.not_before.to_der().expect("der"),
            b"\x17\x0d260301000000Z"
        );
        assert_eq!(v.not_after.to_der().expect("der"), b"\x17\x0d491231235959Z");
        let v = validity(d(2026, 3, 1), d(2050, 1, 1)).expect("validity");
        assert_eq!(
            v.not_after.to_der().expect("der"),
            b"\x18\x0f20500101235959Z"
        );
        assert_eq!(day(&v.not_after), Ok(d(2050, 1, 1)));
        assert_eq!(day(&v.not_before), Ok(d(2026, 3, 1)));
    }

    #[test]
    fn a_period_that_ends_before_it_starts_is_refused() {
        assert!(validity(d(2026, 3, 2), d(2026, 3, 1)).is_err());
        assert!(validity(d(2026, 3, 1), d(2026, 3, 1)).is_ok());
    }
}
