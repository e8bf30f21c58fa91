//! The review deadline as the pages show it: 「各级司法行政机关在申请信息提交之日起3个工作日内完成审核工作」.
//! Each level has 3 working days from the day the application reached it (its
//! submission, resubmission, or the county's approval for the city), working days
//! counted with the province's holidays and 调休 working weekend days. The day is
//! the storage's (`ApplicationRow::decide_by`, `storage::decide_by`, the one place
//! the rule is applied); this module only says how many working days are left.

use crate::storage::ApplicationRow;
use chrono::NaiveDate;
use ecard_domain::deadlines::{working_days_between, Holidays};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewDeadline {
    /// The day the application reached the level.
    pub since: NaiveDate,
    /// The last working day of the review.
    pub due_on: NaiveDate,
    /// Working days left after today (0: due today, or past it with no working day
    /// since; negative: overdue by that many).
    pub working_days_left: i64,
    pub overdue: bool,
}

/// The deadline of `row` while it waits for a review, seen on `today`.
pub fn review_deadline(
    row: &ApplicationRow,
    today: NaiveDate,
    holidays: &Holidays,
) -> Option<ReviewDeadline> {
    let due_on = row.decide_by?;
    let since = super::views::date_of(&row.updated_at)?;
    let left = if today <= due_on {
        working_days_between(today, due_on, holidays)
    } else {
        -working_days_between(due_on, today, holidays)
    };
    Some(ReviewDeadline {
        since,
        due_on,
        working_days_left: left,
        overdue: row.overdue,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{decide_by, AppState};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    /// A row that reached its level on `since`, as storage makes it on `today`.
    fn row(since: NaiveDate, today: NaiveDate, holidays: &Holidays) -> ApplicationRow {
        let updated_at = format!("{since}T09:00:00.000Z");
        let decide_by = decide_by(AppState::Submitted, &updated_at, holidays);
        serde_json::from_value(serde_json::json!({
            "id": 1, "unit": "u", "state": "submitted", "reason": null, "sent_back": 0,
            "number": null, "has_photo": false, "created_at": updated_at, "updated_at": updated_at,
            "form": {"name": "张三", "id_number": "11010519850601002X", "ethnicity": "汉族",
                     "certificate_kind": "enforcement", "posts": "01", "category": "教育", "area": "岳池县"},
            "decide_by": decide_by, "overdue": decide_by.is_some_and(|by| today > by),
        }))
        .expect("row")
    }

    #[test]
    fn three_working_days_skip_the_weekend_and_the_fourth_is_overdue() {
        // Filed on Thursday 2026-11-19: due Tuesday 24th (Fri, Mon, Tue).
        let since = d(2026, 11, 19);
        let on = |today| {
            review_deadline(
                &row(since, today, &Holidays::none()),
                today,
                &Holidays::none(),
            )
            .expect("waiting")
        };
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
        let holidays = Holidays::off_only(&[d(2026, 11, 23)]);
        let r = review_deadline(&row(since, since, &holidays), since, &holidays).expect("waiting");
        assert_eq!(r.due_on, d(2026, 11, 25));
    }

    #[test]
    fn a_decided_application_has_no_deadline() {
        let since = d(2026, 11, 19);
        let mut r = row(since, since, &Holidays::none());
        r.state = AppState::Approved;
        r.decide_by = None;
        assert_eq!(review_deadline(&r, since, &Holidays::none()), None);
    }
}
