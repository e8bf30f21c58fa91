//! Working-day deadlines from the guides: records reach the provincial system within
//! 10 working days of issue, recall or replacement [004]; each review level decides
//! within 3 working days [000] (「各级司法行政机关在申请信息提交之日起3个工作日内完成审核工作」); 注销/换发/补发 within 3 working days [004]
//! (「在 3 个工作日内向市司法局办理注销、换发、补发手续」).
//!
//! Working days are Monday to Friday, less the weekday public holidays and plus the
//! weekend days worked in exchange (调休上班日). The State Council sets both every
//! year; the guides do not give them, so they are the province configuration's
//! (`holidays` and `workdays`, [`Holidays`]). Without them the count treats every
//! weekday as working and every weekend day as off.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

/// Records must reach the provincial system within this many working days.
pub const RECORDS_WORKING_DAYS: i64 = 10;

/// Each review level decides, and 注销/换发/补发 are done, within this many working days.
pub const DECISION_WORKING_DAYS: u32 = 3;

/// The year's exceptions to Monday–Friday: weekday days off (法定节假日) and weekend
/// days worked in exchange (调休上班日, e.g. Sunday 2025-09-28 before National Day).
/// Built by [`Holidays::new`], which keeps both lists sorted, without duplicates,
/// apart from each other, and every worked day on a weekend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Holidays {
    /// Days off that fall Monday–Friday (a weekend day listed here changes nothing).
    pub off: Vec<NaiveDate>,
    /// Saturdays and Sundays that are working days.
    pub worked: Vec<NaiveDate>,
}

/// Why a holiday calendar cannot be used. `Display` is the Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolidaysError {
    #[error("调休上班日{0}不是周六或周日（周一至周五本来就是工作日）")]
    WorkedDayNotWeekend(NaiveDate),
    #[error("{0}同时列为放假日和调休上班日")]
    BothOffAndWorked(NaiveDate),
}

impl Holidays {
    /// Monday–Friday, no exceptions.
    pub fn none() -> Holidays {
        Holidays::default()
    }

    /// Weekday days off only (no 调休).
    pub fn off_only(off: &[NaiveDate]) -> Holidays {
        let mut off = off.to_vec();
        off.sort();
        off.dedup();
        Holidays {
            off,
            worked: Vec::new(),
        }
    }

    /// Checks and orders a calendar: every worked day is a Saturday or Sunday, no
    /// day is both off and worked.
    pub fn new(off: &[NaiveDate], worked: &[NaiveDate]) -> Result<Holidays, HolidaysError> {
        let mut h = Holidays::off_only(off);
        let mut worked = worked.to_vec();
        worked.sort();
        worked.dedup();
        for w in &worked {
            if is_weekday(*w) {
                return Err(HolidaysError::WorkedDayNotWeekend(*w));
            }
            if h.off.binary_search(w).is_ok() {
                return Err(HolidaysError::BothOffAndWorked(*w));
            }
        }
        h.worked = worked;
        Ok(h)
    }

    /// Whether `day` is a working day under this calendar.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if is_weekday(day) {
            !self.off.contains(&day)
        } else {
            self.worked.contains(&day)
        }
    }
}

/// The `n`-th working day after `from` (the last day of an `n`-working-day
/// deadline that starts on `from`): weekends and the weekday days off do not count,
/// the 调休 weekend days do.
pub fn add_working_days(from: NaiveDate, n: u32, holidays: &Holidays) -> NaiveDate {
    let mut day = from;
    let mut left = n;
    while left > 0 {
        let Some(next) = day.succ_opt() else {
            return day;
        };
        day = next;
        if holidays.is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// Working days after `from` up to and including `to` (0 when `to` ≤ `from`): a
/// record made on Friday is 1 working day old on Monday (2 if that Saturday was a
/// 调休 working day).
pub fn working_days_between(from: NaiveDate, to: NaiveDate, holidays: &Holidays) -> i64 {
    if to <= from {
        return 0;
    }
    let span = (to - from).num_days();
    // Whole weeks have 5 weekdays each; the remainder is counted day by day.
    let weeks = span / 7;
    let mut count = weeks * 5;
    let mut day = from + chrono::Duration::days(weeks * 7);
    while day < to {
        let Some(next) = day.succ_opt() else { break };
        day = next;
        if is_weekday(day) {
            count += 1;
        }
    }
    let within = |d: &&NaiveDate| **d > from && **d <= to;
    let off = holidays
        .off
        .iter()
        .filter(within)
        .filter(|h| is_weekday(**h))
        .count() as i64;
    let worked = holidays
        .worked
        .iter()
        .filter(within)
        .filter(|w| !is_weekday(**w))
        .count() as i64;
    count - off + worked
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn none() -> Holidays {
        Holidays::none()
    }

    /// The State Council's 2025 National Day and Mid-Autumn arrangement: 1–8 October
    /// off, Sunday 28 September and Saturday 11 October worked.
    fn national_day_2025() -> Holidays {
        let off: Vec<NaiveDate> = (1..=8).map(|day| d(2025, 10, day)).collect();
        Holidays::new(&off, &[d(2025, 9, 28), d(2025, 10, 11)]).unwrap()
    }

    #[test]
    fn weekends_do_not_count() {
        // 2026-11-20 is a Friday.
        let friday = d(2026, 11, 20);
        assert_eq!(working_days_between(friday, friday, &none()), 0);
        assert_eq!(working_days_between(friday, d(2026, 11, 21), &none()), 0);
        assert_eq!(working_days_between(friday, d(2026, 11, 22), &none()), 0);
        assert_eq!(working_days_between(friday, d(2026, 11, 23), &none()), 1);
        assert_eq!(working_days_between(friday, d(2026, 12, 4), &none()), 10);
        assert_eq!(working_days_between(d(2026, 12, 4), friday, &none()), 0);
    }

    #[test]
    fn listed_weekday_holidays_do_not_count() {
        // National Day week 2026: 1–7 October (Thursday to Wednesday).
        let holidays: Vec<NaiveDate> = (1..=7).map(|day| d(2026, 10, day)).collect();
        let holidays = Holidays::off_only(&holidays);
        let before = d(2026, 9, 30);
        assert_eq!(working_days_between(before, d(2026, 10, 7), &none()), 5);
        assert_eq!(working_days_between(before, d(2026, 10, 7), &holidays), 0);
        assert_eq!(working_days_between(before, d(2026, 10, 8), &holidays), 1);
    }

    #[test]
    fn three_working_days_skip_weekends_and_holidays() {
        // Friday 2026-11-20 + 3 working days = Wednesday 2026-11-25.
        assert_eq!(
            add_working_days(d(2026, 11, 20), 3, &none()),
            d(2026, 11, 25)
        );
        // Filed 2026-09-30 before National Day: the days off do not count.
        let holidays: Vec<NaiveDate> = (1..=7).map(|day| d(2026, 10, day)).collect();
        assert_eq!(
            add_working_days(d(2026, 9, 30), 3, &Holidays::off_only(&holidays)),
            d(2026, 10, 12)
        );
    }

    /// 调休: a weekend day worked in exchange counts. Filed Tuesday 30 September 2025,
    /// the third working day is Saturday 11 October (9th, 10th, 11th), not Monday 13th;
    /// filed Friday 26 September, Sunday 28th is the first working day.
    #[test]
    fn a_weekend_day_worked_in_exchange_counts() {
        let cal = national_day_2025();
        assert_eq!(add_working_days(d(2025, 9, 30), 3, &cal), d(2025, 10, 11));
        assert_eq!(
            add_working_days(d(2025, 9, 30), 3, &Holidays::off_only(&cal.off)),
            d(2025, 10, 13)
        );
        assert_eq!(add_working_days(d(2025, 9, 26), 1, &cal), d(2025, 9, 28));
        assert_eq!(
            working_days_between(d(2025, 9, 26), d(2025, 9, 28), &cal),
            1
        );
        // 28 Sep, 29, 30, 9 Oct, 10, 11.
        assert_eq!(
            working_days_between(d(2025, 9, 26), d(2025, 10, 11), &cal),
            6
        );
        assert!(cal.is_working_day(d(2025, 10, 11)));
        assert!(!cal.is_working_day(d(2025, 10, 8)));
        assert!(!cal.is_working_day(d(2025, 10, 12)));
    }

    #[test]
    fn a_worked_day_must_be_a_weekend_day_and_not_also_off() {
        assert_eq!(
            Holidays::new(&[], &[d(2025, 9, 29)]),
            Err(HolidaysError::WorkedDayNotWeekend(d(2025, 9, 29)))
        );
        assert_eq!(
            Holidays::new(&[d(2025, 9, 28)], &[d(2025, 9, 28)]),
            Err(HolidaysError::BothOffAndWorked(d(2025, 9, 28)))
        );
        let h = Holidays::new(&[d(2025, 10, 2), d(2025, 10, 1), d(2025, 10, 1)], &[]).unwrap();
        assert_eq!(h.off, [d(2025, 10, 1), d(2025, 10, 2)]);
    }

    /// Any checked calendar within 60 days of `from`: some weekday days off, some
    /// weekend days worked.
    fn calendar(from: NaiveDate, off: &[i64], worked: &[i64]) -> Holidays {
        let off: Vec<NaiveDate> = off
            .iter()
            .map(|h| from + chrono::Duration::days(*h))
            .collect();
        let worked: Vec<NaiveDate> = worked
            .iter()
            .map(|h| from + chrono::Duration::days(*h))
            .filter(|w| !is_weekday(*w) && !off.contains(w))
            .collect();
        Holidays::new(&off, &worked).unwrap()
    }

    proptest! {
        /// `add_working_days` lands on a working day exactly `n` working days on,
        /// with days off and 调休 working days anywhere.
        #[test]
        fn adding_agrees_with_counting(
            start in 0i64..3000,
            n in 0u32..40,
            off in proptest::collection::vec(0i64..60, 0..8),
            worked in proptest::collection::vec(0i64..60, 0..8),
        ) {
            let from = d(2020, 1, 1) + chrono::Duration::days(start);
            let cal = calendar(from, &off, &worked);
            let due = add_working_days(from, n, &cal);
            prop_assert_eq!(working_days_between(from, due, &cal), i64::from(n));
            if n > 0 {
                prop_assert!(cal.is_working_day(due));
                // The day before the deadline is still short of it.
                prop_assert_eq!(working_days_between(from, due.pred_opt().unwrap(), &cal), i64::from(n) - 1);
            }
        }

        /// The whole-week shortcut agrees with asking every day whether it works.
        #[test]
        fn agrees_with_counting_each_day(
            start in 0i64..3000,
            len in 0i64..400,
            off in proptest::collection::vec(-10i64..420, 0..12),
            worked in proptest::collection::vec(-10i64..420, 0..12),
        ) {
            let from = d(2020, 1, 1) + chrono::Duration::days(start);
            let to = from + chrono::Duration::days(len);
            let cal = calendar(from, &off, &worked);
            let slow = (1..=len)
                .map(|i| from + chrono::Duration::days(i))
                .filter(|x| cal.is_working_day(*x))
                .count() as i64;
            prop_assert_eq!(working_days_between(from, to, &cal), slow);
        }

        /// A 调休 working day never makes a deadline later; a day off never earlier.
        #[test]
        fn worked_days_bring_deadlines_forward_days_off_push_them_back(
            start in 0i64..3000,
            n in 1u32..20,
            off in proptest::collection::vec(0i64..40, 0..6),
            worked in proptest::collection::vec(0i64..40, 0..6),
        ) {
            let from = d(2020, 1, 1) + chrono::Duration::days(start);
            let cal = calendar(from, &off, &worked);
            let plain = add_working_days(from, n, &none());
            prop_assert!(add_working_days(from, n, &Holidays::off_only(&cal.off)) >= plain);
            let only_worked = Holidays::new(&[], &cal.worked).unwrap();
            prop_assert!(add_working_days(from, n, &only_worked) <= plain);
        }
    }
}
