//! The one notion of "now" and "today" in an ecard process.
//!
//! Production builds a [`Clock`] once at start ([`Clock::from_env`]: the system clock)
//! and hands it to everything that needs a date — the station, the store's timestamps,
//! the registry's storage and its signed lists. Nothing below that reads the wall clock
//! itself, so a test can state the date it means, and a test that starts another
//! process (a registry, `ecardd sync`, `ecardd serve`) hands it the same date through
//! the one seam: the `ECARD_TODAY` environment variable ([`TODAY_ENV`]).
//!
//! Three kinds:
//! - [`Clock::system`]: the machine's clock.
//! - [`Clock::starting_on`]: the machine's clock moved by whole days so that today is
//!   the stated date; time still flows (sessions expire, request timestamps advance,
//!   nonces differ), which is what a process serving requests needs.
//! - [`Clock::frozen`]: one instant that never moves, for unit tests.
//!
//! "Today" is the date on the station's local calendar (China Standard Time on a
//! deployed station; whatever `TZ` says in tests), as the guides' dates are.

use chrono::{DateTime, Local, NaiveDate, NaiveTime, SecondsFormat, TimeDelta, TimeZone, Utc};
use thiserror::Error;

/// The environment variable that moves the clock of an ecard process to a stated
/// date (`YYYY-MM-DD`). Read once, at start, by [`Clock::from_env`].
pub const TODAY_ENV: &str = "ECARD_TODAY";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClockError {
    #[error("{TODAY_ENV}={value:?} is not a date YYYY-MM-DD")]
    BadDate { value: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    System,
    /// The system clock moved by a whole number of days.
    Shifted(TimeDelta),
    Frozen(DateTime<Utc>),
}

/// The process's clock. `Copy`: hand it by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    source: Source,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The machine's clock.
    pub const fn system() -> Self {
        Self {
            source: Source::System,
        }
    }

    /// The machine's clock moved by whole days so that today (local) is `date`; the
    /// time of day and the passing of time are the machine's.
    pub fn starting_on(date: NaiveDate) -> Self {
        let real_today = Local::now().date_naive();
        let days = date.signed_duration_since(real_today).num_days();
        if days == 0 {
            return Self::system();
        }
        Self {
            source: Source::Shifted(TimeDelta::days(days)),
        }
    }

    /// One instant that never moves: noon (local) of `date`.
    pub fn frozen_on(date: NaiveDate) -> Self {
        let noon = date.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN));
        let at = Local
            .from_local_datetime(&noon)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&noon));
        Self::frozen(at)
    }

    /// One instant that never moves.
    pub const fn frozen(at: DateTime<Utc>) -> Self {
        Self {
            source: Source::Frozen(at),
        }
    }

    /// The clock a process starts with: the system clock, or — when [`TODAY_ENV`] is
    /// set, as tests do for the processes they start — the system clock moved to that
    /// date. A deployed station never sets it; a process whose clock was moved says
    /// so in its log ([`Clock::is_moved`]).
    pub fn from_env() -> Result<Self, ClockError> {
        match std::env::var(TODAY_ENV) {
            Ok(v) if !v.trim().is_empty() => Ok(Self::starting_on(parse_date(&v)?)),
            _ => Ok(Self::system()),
        }
    }

    /// True when this clock is not the machine's.
    pub fn is_moved(&self) -> bool {
        self.source != Source::System
    }

    /// This clock stopped at its current instant: one moment whose date and stamp
    /// agree (a transaction's time).
    pub fn frozen_now(&self) -> Self {
        Self::frozen(self.now())
    }

    /// Now, in UTC.
    pub fn now(&self) -> DateTime<Utc> {
        match self.source {
            Source::System => Utc::now(),
            Source::Shifted(by) => Utc::now() + by,
            Source::Frozen(at) => at,
        }
    }

    /// Today on the local calendar.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&Local).date_naive()
    }

    /// Seconds since the Unix epoch (signed request timestamps).
    pub fn unix_seconds(&self) -> i64 {
        self.now().timestamp()
    }

    /// RFC 3339 UTC with milliseconds: the timestamp written into records.
    pub fn stamp(&self) -> String {
        self.now().to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// The value of [`TODAY_ENV`] that gives a child process this clock's date.
    pub fn env_value(&self) -> String {
        self.today().format("%Y-%m-%d").to_string()
    }
}

fn parse_date(v: &str) -> Result<NaiveDate, ClockError> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| ClockError::BadDate {
        value: v.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn a_clock_started_on_a_date_says_that_date_and_keeps_running() {
        for d in [
            date(2029, 4, 1),
            date(2028, 2, 29),
            date(2026, 12, 31),
            date(2001, 1, 1),
        ] {
            let c = Clock::starting_on(d);
            assert_eq!(c.today(), d);
            let a = c.now();
            std::thread::sleep(std::time::Duration::from_millis(5));
            assert!(c.now() > a, "time flows on a moved clock");
        }
    }

    #[test]
    fn a_frozen_clock_never_moves() {
        let c = Clock::frozen_on(date(2028, 2, 29));
        assert_eq!(c.today(), date(2028, 2, 29));
        let a = c.stamp();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(c.stamp(), a);
        assert!(c.is_moved());
    }

    #[test]
    fn frozen_now_keeps_one_moment_on_the_same_day() {
        let moment = Clock::starting_on(date(2026, 12, 31)).frozen_now();
        let a = moment.stamp();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(moment.stamp(), a);
        assert_eq!(moment.today(), date(2026, 12, 31));
    }

    #[test]
    fn the_env_date_is_parsed_or_refused() {
        assert_eq!(parse_date("2029-04-01"), Ok(date(2029, 4, 1)));
        assert_eq!(parse_date(" 2029-04-01\n"), Ok(date(2029, 4, 1)));
        for bad in ["2029-02-30", "20290401", "yesterday", "2029-4-1x"] {
            assert!(
                matches!(parse_date(bad), Err(ClockError::BadDate { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn env_value_round_trips_through_starting_on() {
        let c = Clock::starting_on(date(2030, 3, 31));
        assert_eq!(
            Clock::starting_on(parse_date(&c.env_value()).expect("date")).today(),
            c.today()
        );
    }

    #[test]
    fn the_system_clock_is_not_moved() {
        assert!(!Clock::system().is_moved());
        assert!(!Clock::default().is_moved());
    }

    proptest::proptest! {
        #[test]
        fn starting_on_any_day_gives_that_day(days in -20_000i64..20_000) {
            let d = Local::now().date_naive() + TimeDelta::days(days);
            proptest::prop_assert_eq!(Clock::starting_on(d).today(), d);
        }
    }
}
