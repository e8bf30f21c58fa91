//! The review deadline: 「各级司法行政机关在申请信息提交之日起3个工作日内完成审核工作」.
//! Each level has 3 working days from the day the application reached it (its
//! submission, resubmission, or the county's approval for the city). Working days
//! are counted by `ecard_domain::deadlines::working_days_between` (weekends
//! and the province's weekday holidays skipped, its 调休 weekend working days counted).

use chrono::NaiveDate;
use ecard_domain::deadlines::{
    add_working_days, working_days_between, Holidays, DECISION_WORKING_DAYS,
};
use serde::Serialize;

/// Working days each review level has.
/// 「3个工作日内完成审核」: the domain's one constant, as a count to subtract from.
pub const REVIEW_WORKING_DAYS: i64 = DECISION_WORKING_DAYS as i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewDeadline {
    /// The day the application reached the level.
    pub since: NaiveDate,
    /// The last working day of the review.
    pub due_on: NaiveDate,
    /// Working days left after today (0: due today; negative: overdue by that many).
    pub working_days_left: i64,
    pub overdue: bool,
}

/// The deadline of an application that reached its level on `since`, seen on `today`.
pub fn review_deadline(since: NaiveDate, today: NaiveDate, holidays: &Holidays) -> ReviewDeadline {
    // The one working-day rule (ecard_domain::deadlines), with the province's holidays.
    let elapsed = working_days_between(since, today, holidays);
    let due_on = add_working_days(since, DECISION_WORKING_DAYS, holidays);
    let left = REVIEW_WORKING_DAYS - elapsed;
    ReviewDeadline {
        since,
        due_on,
        working_days_left: left,
        overdue: left < 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn three_working_days_skip_the_weekend_and_the_fourth_is_overdue() {
        // Filed on Thursday 2026-11-19: due Tuesday 24th (Fri, Mon, Tue).
        let since = d(2026, 11, 19);
        let on = |today| review_deadline(since, today, &Holidays::none());
        assert_eq!(on(since).working_days_left, 3);
        assert_eq!(on(since).due_on, d(2026, 11, 24));
        assert_eq!(
            on(d(2026, 11, 22)).working_days_left,
            2,
            "Sunday counts nothing"
        );
        assert_eq!(on(d(2026, 11, 24)).working_days_left, 0);
        assert!(!on(d(2026, 11, 24)).overdue);
        let late = on(d(2026, 11, 25));
        assert!(late.overdue);
        assert_eq!(late.working_days_left, -1);
    }

    #[test]
    fn a_holiday_moves_the_due_day() {
        let since = d(2026, 11, 19);
        let r = review_deadline(since, since, &Holidays::off_only(&[d(2026, 11, 23)]));
        assert_eq!(r.due_on, d(2026, 11, 25));
    }
}
