//! Working-day deadlines from the guides: records reach the provincial system within
//! 10 working days of issue, recall or replacement [004]; each review level decides
//! within 3 working days [000] (「各级司法行政机关在申请信息提交之日起3个工作日内完成审核工作」); 注销/换发/补发 within 3 working days [004]
//! (「在 3 个工作日内向市司法局办理注销、换发、补发手续」).
//!
//! Working days are Monday to Friday. China's public holidays and the weekend days
//! worked in exchange (调休) are set each year by the State Council; a station that
//! must count them exactly passes that year's list as `holidays` (days off that fall
//! on weekdays). Without it the count can only be short of the official one (a
//! weekday holiday counted as working), so a warning comes early, never late.

use chrono::{Datelike, NaiveDate, Weekday};

/// Records must reach the provincial system within this many working days.
pub const RECORDS_WORKING_DAYS: i64 = 10;

/// Each review level decides, and 注销/换发/补发 are done, within this many working days.
pub const DECISION_WORKING_DAYS: u32 = 3;

/// The `n`-th working day after `from` (the last day of an `n`-working-day
/// deadline that starts on `from`): weekends and the listed weekday `holidays` do
/// not count.
pub fn add_working_days(from: NaiveDate, n: u32, holidays: &[NaiveDate]) -> NaiveDate {
    let mut day = from;
    let mut left = n;
    while left > 0 {
        let Some(next) = day.succ_opt() else {
            return day;
        };
        day = next;
        if is_weekday(day) && !holidays.contains(&day) {
            left -= 1;
        }
    }
    day
}

/// Working days after `from` up to and including `to` (0 when `to` ≤ `from`): a
/// record made on Friday is 1 working day old on Monday.
pub fn working_days_between(from: NaiveDate, to: NaiveDate, holidays: &[NaiveDate]) -> i64 {
    if to <= from {
        return 0;
    }
    let span = (to - from).num_days();
    // Whole weeks have 5 working days each; the remainder is counted day by day.
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
    let off = holidays
        .iter()
        .filter(|h| **h > from && **h <= to && is_weekday(**h))
        .count() as i64;
    count - off
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

    #[test]
    fn weekends_do_not_count() {
        // 2026-11-20 is a Friday.
        let friday = d(2026, 11, 20);
        assert_eq!(working_days_between(friday, friday, &[]), 0);
        assert_eq!(working_days_between(friday, d(2026, 11, 21), &[]), 0);
        assert_eq!(working_days_between(friday, d(2026, 11, 22), &[]), 0);
        assert_eq!(working_days_between(friday, d(2026, 11, 23), &[]), 1);
        assert_eq!(working_days_between(friday, d(2026, 12, 4), &[]), 10);
        assert_eq!(working_days_between(d(2026, 12, 4), friday, &[]), 0);
    }

    #[test]
    fn listed_weekday_holidays_do_not_count() {
        // National Day week 2026: 1–7 October (Thursday to Wednesday).
        let holidays: Vec<NaiveDate> = (1..=7).map(|day| d(2026, 10, day)).collect();
        let before = d(2026, 9, 30);
        assert_eq!(working_days_between(before, d(2026, 10, 7), &[]), 5);
        assert_eq!(working_days_between(before, d(2026, 10, 7), &holidays), 0);
        assert_eq!(working_days_between(before, d(2026, 10, 8), &holidays), 1);
    }

    #[test]
    fn three_working_days_skip_weekends_and_holidays() {
        // Friday 2026-11-20 + 3 working days = Wednesday 2026-11-25.
        assert_eq!(add_working_days(d(2026, 11, 20), 3, &[]), d(2026, 11, 25));
        // Filed 2026-09-30 before National Day: the days off do not count.
        let holidays: Vec<NaiveDate> = (1..=7).map(|day| d(2026, 10, day)).collect();
        assert_eq!(
            add_working_days(d(2026, 9, 30), 3, &holidays),
            d(2026, 10, 12)
        );
    }

    proptest! {
        /// `add_working_days` lands on a working day exactly `n` working days on.
        #[test]
        fn adding_agrees_with_counting(start in 0i64..3000, n in 0u32..40, hol in proptest::collection::vec(0i64..60, 0..8)) {
            let from = d(2020, 1, 1) + chrono::Duration::days(start);
            let mut holidays: Vec<NaiveDate> = hol.iter().map(|h| from + chrono::Duration::days(*h)).collect();
            // As the province configuration holds them: sorted, no duplicates.
            holidays.sort();
            holidays.dedup();
            let due = add_working_days(from, n, &holidays);
            prop_assert_eq!(working_days_between(from, due, &holidays), i64::from(n));
            if n > 0 {
                prop_assert!(is_weekday(due) && !holidays.contains(&due));
            }
        }

        /// The whole-week shortcut agrees with counting every day.
        #[test]
        fn agrees_with_counting_each_day(start in 0i64..3000, len in 0i64..400) {
            let from = d(2020, 1, 1) + chrono::Duration::days(start);
            let to = from + chrono::Duration::days(len);
            let slow = (1..=len)
                .map(|i| from + chrono::Duration::days(i))
                .filter(|x| is_weekday(*x))
                .count() as i64;
            prop_assert_eq!(working_days_between(from, to, &[]), slow);
        }
    }
}
