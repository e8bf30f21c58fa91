//! Certificate validity (有效期) and the annual review (年审) schedule.
//!
//! - Valid until = exam-pass announcement date + 5 years (same month and day;
//!   an announcement on 29 February ends on 28 February, chrono's month
//!   arithmetic clamps to the last day of the month), or the retirement date if
//!   that comes first (seed 003, note ⑥).
//! - The retirement date is either given or computed from birth date and gender
//!   by a [`RetirementRule`]; the statutory ages are province/national policy, so
//!   they are configuration (`config/retirement.json`), not code.
//! - Annual review (seed 002: 「每年3月31日前，要把去年12月31日之前办理的所有行政执法证
//!   （当年办的证不用年审），在证件管理系统内发起年审请求」). Naming, one convention
//!   everywhere (engine, card, UI, forms; DOMAIN.md): a review is named by the
//!   year it covers. The review of year R is due by 31 March (configurable) of
//!   R + 1 and is required of every certificate issued in R or before; one issued
//!   after R is exempt from it. The review done by 31 March 2027 is the 2026
//!   review. [`review_deadline`] is the one deadline; [`review_status`] (the
//!   schedule) and [`ReviewPolicy::standing`] (the field-check verdict) both use it.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::citizen_id::Gender;

/// Years of validity from the announcement date.
pub const VALIDITY_YEARS: u32 = 5;

/// The shipped retirement rule, embedded at build time.
pub const RETIREMENT_DEFAULT_JSON: &str = include_str!("../config/retirement.json");

/// `Display` is the Chinese message for users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidityError {
    #[error("退休日期{retirement}不晚于考试合格公告日期{announced}，不能发证")]
    RetiredBeforeStart {
        announced: NaiveDate,
        retirement: NaiveDate,
    },
    #[error("日期超出可计算范围")]
    OutOfRange,
    #[error("退休年龄配置无效：{0}")]
    Config(String),
    /// The dates given with an application or a roster row are not the rule's.
    #[error("证有效期截止日{given}与规定不符：应为{expected}（自考试合格公告日{announced}起5年，5年内退休的以退休日期为止）")]
    Disagrees {
        announced: NaiveDate,
        given: NaiveDate,
        expected: NaiveDate,
    },
}

impl ValidityError {
    /// Stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            ValidityError::RetiredBeforeStart { .. } => "validity_retired_before_start",
            ValidityError::OutOfRange => "validity_out_of_range",
            ValidityError::Config(_) => "validity_config_invalid",
            ValidityError::Disagrees { .. } => "validity_dates_disagree",
        }
    }
}

/// A certificate's dates by the one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidityPeriod {
    /// The exam-pass announcement date (公告日): validity counts from it.
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

/// The one source of certificate dates (seed 003 note ⑥): from the announcement
/// date `announced` for five years, ended by the holder's statutory retirement date
/// (from `birth` and `gender` under `rule`) when that comes first. Every path that
/// makes or takes certificate dates calls this: the registry's approval and the
/// station's roster import.
pub fn period_for(
    announced: NaiveDate,
    birth: NaiveDate,
    gender: Gender,
    rule: &RetirementRule,
) -> Result<ValidityPeriod, ValidityError> {
    let retirement = rule.retirement_date(birth, gender)?;
    Ok(ValidityPeriod {
        valid_from: announced,
        valid_until: valid_until(announced, Some(retirement))?,
    })
}

/// [`period_for`], and a `given` end date (typed into a form or a roster) must be
/// the rule's: a date that disagrees is refused with the date it should be, never
/// silently replaced (the unit must see its record was wrong).
pub fn check_period(
    announced: NaiveDate,
    given: Option<NaiveDate>,
    birth: NaiveDate,
    gender: Gender,
    rule: &RetirementRule,
) -> Result<ValidityPeriod, ValidityError> {
    let period = period_for(announced, birth, gender, rule)?;
    match given {
        Some(given) if given != period.valid_until => Err(ValidityError::Disagrees {
            announced,
            given,
            expected: period.valid_until,
        }),
        _ => Ok(period),
    }
}

/// Valid-until date: `announced` + 5 years, or `retirement` if earlier.
pub fn valid_until(
    announced: NaiveDate,
    retirement: Option<NaiveDate>,
) -> Result<NaiveDate, ValidityError> {
    let full = announced
        .checked_add_months(Months::new(12 * VALIDITY_YEARS))
        .ok_or(ValidityError::OutOfRange)?;
    match retirement {
        Some(r) if r <= announced => Err(ValidityError::RetiredBeforeStart {
            announced,
            retirement: r,
        }),
        Some(r) if r < full => Ok(r),
        _ => Ok(full),
    }
}

/// Retirement age for one gender: `base_years`, plus (for people born in or after
/// `reform_from_birth_month`) one extra month per `months_per_step` birth months,
/// capped at `max_extra_months`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRule {
    pub base_years: u32,
    /// `YYYY-MM`; absent = no gradual increase.
    #[serde(default)]
    pub reform_from_birth_month: Option<String>,
    #[serde(default = "one")]
    pub months_per_step: u32,
    #[serde(default)]
    pub max_extra_months: u32,
}

fn one() -> u32 {
    1
}

/// Configurable retirement rule (policy, not law of nature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetirementRule {
    #[serde(default)]
    pub description: String,
    pub male: AgeRule,
    pub female: AgeRule,
}

fn parse_month(s: &str) -> Option<(i32, u32)> {
    let (y, m) = s.trim().split_once('-')?;
    let y: i32 = y.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (1..=12).contains(&m).then_some((y, m))
}

impl RetirementRule {
    /// The shipped rule (`config/retirement.json`, embedded and tested).
    pub fn shipped() -> RetirementRule {
        Self::default_rule().expect("the shipped retirement.json is valid (tested)")
    }

    pub fn default_rule() -> Result<RetirementRule, ValidityError> {
        Self::from_json(RETIREMENT_DEFAULT_JSON)
    }

    pub fn from_json(json: &str) -> Result<RetirementRule, ValidityError> {
        let rule: RetirementRule =
            serde_json::from_str(json).map_err(|e| ValidityError::Config(e.to_string()))?;
        for r in [&rule.male, &rule.female] {
            if r.months_per_step == 0 {
                return Err(ValidityError::Config("months_per_step 不能为0".into()));
            }
            if let Some(m) = &r.reform_from_birth_month {
                if parse_month(m).is_none() {
                    return Err(ValidityError::Config(format!("月份“{m}”应为YYYY-MM")));
                }
            }
        }
        Ok(rule)
    }

    /// Extra months over the base age for someone born on `birth`.
    pub fn extra_months(&self, birth: NaiveDate, gender: Gender) -> u32 {
        let r = match gender {
            Gender::Male => &self.male,
            Gender::Female => &self.female,
        };
        let Some((fy, fm)) = r.reform_from_birth_month.as_deref().and_then(parse_month) else {
            return 0;
        };
        let since = (birth.year() - fy) * 12 + birth.month() as i32 - fm as i32;
        if since < 0 {
            return 0;
        }
        (1 + since as u32 / r.months_per_step).min(r.max_extra_months)
    }

    /// The statutory retirement date (birthday at the retirement age, clamped
    /// to the month's last day).
    pub fn retirement_date(
        &self,
        birth: NaiveDate,
        gender: Gender,
    ) -> Result<NaiveDate, ValidityError> {
        let base = match gender {
            Gender::Male => self.male.base_years,
            Gender::Female => self.female.base_years,
        };
        let months = base * 12 + self.extra_months(birth, gender);
        birth
            .checked_add_months(Months::new(months))
            .ok_or(ValidityError::OutOfRange)
    }
}

/// When the annual review is due each year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPolicy {
    pub deadline_month: u32,
    pub deadline_day: u32,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            deadline_month: 3,
            deadline_day: 31,
        }
    }
}

impl ReviewPolicy {
    /// The deadline in `year` (an impossible configured day is clamped to the
    /// month's last day).
    pub fn deadline(&self, year: i32) -> Option<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(year, self.deadline_month, 1)?;
        let last_day = first.checked_add_months(Months::new(1))?.pred_opt()?.day();
        NaiveDate::from_ymd_opt(year, self.deadline_month, self.deadline_day.min(last_day))
    }
}

/// The one deadline of the review of `year` (the year it covers): the configured
/// day in `year + 1`. A configured day that cannot exist is clamped to the month's
/// end by [`ReviewPolicy::deadline`]; a date out of chrono's range (years beyond
/// ±262,000) falls back to the default 31 March, then to the last representable day.
pub fn review_deadline(policy: &ReviewPolicy, year: i32) -> NaiveDate {
    let next = year.saturating_add(1);
    policy
        .deadline(next)
        .or_else(|| ReviewPolicy::default().deadline(next))
        .unwrap_or(NaiveDate::MAX)
}

impl ReviewPolicy {
    /// The review year being worked on `today`: the one whose deadline is the next
    /// not yet passed (on 1 February 2027 the 2026 review, due 31 March 2027; on
    /// 1 May 2027 the 2027 review, due 31 March 2028). The schedule's and the
    /// review form's default year.
    pub fn campaign_year(&self, today: NaiveDate) -> i32 {
        let last = today.year() - 1;
        if today <= review_deadline(self, last) {
            last
        } else {
            today.year()
        }
    }
}

/// Why a review year can be neither recorded nor counted.
/// `Display` is the Chinese message for users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReviewYearError {
    /// A review of a year that has not begun: nobody can have reviewed it yet.
    #[error("年审年度{year}晚于当前年度{current}，不能登记")]
    InFuture { year: i32, current: i32 },
    /// A review of a year before the certificate existed.
    #[error("年审年度{year}早于发证年度{issued}，不能登记")]
    BeforeIssue { year: i32, issued: i32 },
}

/// The one rule for which review years exist (seed 002): from the issue year (a
/// certificate issued in R is reviewed for R by 31 March of R + 1) to the current
/// year (a review of the year under way may be done early, none of a later one). A station refuses to record any other year, the registry
/// refuses to take one, and the verifier does not count one found on a card.
/// `issue_date` is `None` when the issue date is not known (then only the upper
/// bound applies).
pub fn check_review_year(
    issue_date: Option<NaiveDate>,
    year: i32,
    today: NaiveDate,
) -> Result<(), ReviewYearError> {
    if year > today.year() {
        return Err(ReviewYearError::InFuture {
            year,
            current: today.year(),
        });
    }
    if let Some(issued) = issue_date.map(|d| d.year()) {
        if year < issued {
            return Err(ReviewYearError::BeforeIssue { year, issued });
        }
    }
    Ok(())
}

/// Where a certificate stands with its annual review on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReviewStanding {
    /// Issued this year: nothing due.
    Exempt,
    /// Last year's review (due this year) is on record.
    UpToDate { year: i32 },
    /// The review of `year` is not done yet but its deadline has not passed.
    Due { year: i32, deadline: NaiveDate },
    /// A required review is missing past its deadline.
    Overdue { year: i32 },
}

impl ReviewPolicy {
    /// Where a certificate stands on `today` (the field check). `reviewed_years`
    /// are the years of passed reviews on record. The schedule's rule
    /// ([`review_status`]: the review of year R, deadline [`review_deadline`],
    /// required when issued in R or before) applied to last year's review (due
    /// this year) and, while that one is not yet due, to the one before it.
    pub fn standing(
        &self,
        issue_date: NaiveDate,
        reviewed_years: &[i32],
        today: NaiveDate,
    ) -> ReviewStanding {
        // Years outside the issue year ..= this year do not count, whatever a card says.
        let counted: Vec<i32> = reviewed_years
            .iter()
            .copied()
            .filter(|y| check_review_year(Some(issue_date), *y, today).is_ok())
            .collect();
        let status = |year: i32| {
            let on_record = counted.contains(&year).then_some(today);
            review_status(issue_date, year, on_record, today, self)
        };
        // The review whose deadline falls in this calendar year (last year's): the
        // latest one a card can be held to. The review of this year is not due
        // before next year's deadline.
        let year = today.year() - 1;
        match status(year) {
            // Issued this year: nothing due yet.
            ReviewStatus::Exempt => ReviewStanding::Exempt,
            ReviewStatus::Done { .. } => ReviewStanding::UpToDate { year },
            ReviewStatus::Overdue { .. } => ReviewStanding::Overdue { year },
            ReviewStatus::Due { deadline } => match status(year - 1) {
                ReviewStatus::Overdue { .. } => ReviewStanding::Overdue { year: year - 1 },
                _ => ReviewStanding::Due { year, deadline },
            },
        }
    }
}

/// Annual review status of one certificate for one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Issued after the review year: not covered by it.
    Exempt,
    /// Must be reviewed, deadline not passed yet.
    Due { deadline: NaiveDate },
    /// Reviewed for this year.
    Done { reviewed_on: NaiveDate },
    /// Not reviewed and the deadline has passed.
    Overdue { deadline: NaiveDate },
}

impl ReviewStatus {
    pub fn label_zh(&self) -> &'static str {
        match self {
            ReviewStatus::Exempt => "该年度后发证免审",
            ReviewStatus::Due { .. } => "待年审",
            ReviewStatus::Done { .. } => "已年审",
            ReviewStatus::Overdue { .. } => "逾期未年审",
        }
    }
}

/// True when a certificate issued on `issued_on` must have the review of `year`:
/// issued in that year or before (「去年12月31日之前办理的所有行政执法证」).
pub fn must_review(issued_on: NaiveDate, year: i32) -> bool {
    issued_on.year() <= year
}

/// Review status of the review of `year` (the year it covers), as of `today`: the
/// schedule's rule, and the field check's ([`ReviewPolicy::standing`]).
/// `reviewed_on` is the date the review of `year` was completed, if it was.
pub fn review_status(
    issued_on: NaiveDate,
    year: i32,
    reviewed_on: Option<NaiveDate>,
    today: NaiveDate,
    policy: &ReviewPolicy,
) -> ReviewStatus {
    if !must_review(issued_on, year) {
        return ReviewStatus::Exempt;
    }
    if let Some(d) = reviewed_on {
        return ReviewStatus::Done { reviewed_on: d };
    }
    let deadline = review_deadline(policy, year);
    if today > deadline {
        ReviewStatus::Overdue { deadline }
    } else {
        ReviewStatus::Due { deadline }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn five_years_from_announcement() {
        assert_eq!(valid_until(d(2024, 7, 20), None), Ok(d(2029, 7, 20)));
    }

    #[test]
    fn a_year_end_announcement_ends_on_a_year_end() {
        assert_eq!(valid_until(d(2026, 12, 31), None), Ok(d(2031, 12, 31)));
        assert_eq!(
            valid_until(d(2026, 12, 31), Some(d(2031, 12, 30))),
            Ok(d(2031, 12, 30))
        );
    }

    #[test]
    fn feb_29_announcement_ends_feb_28() {
        assert_eq!(valid_until(d(2024, 2, 29), None), Ok(d(2029, 2, 28)));
    }

    #[test]
    fn retirement_within_five_years_ends_earlier() {
        assert_eq!(
            valid_until(d(2024, 7, 20), Some(d(2027, 3, 1))),
            Ok(d(2027, 3, 1))
        );
        assert_eq!(
            valid_until(d(2024, 7, 20), Some(d(2035, 1, 1))),
            Ok(d(2029, 7, 20))
        );
        assert!(matches!(
            valid_until(d(2024, 7, 20), Some(d(2024, 7, 20))),
            Err(ValidityError::RetiredBeforeStart { .. })
        ));
    }

    #[test]
    fn default_retirement_rule_matches_2025_reform() {
        let r = RetirementRule::default_rule().expect("shipped config");
        // Born before the reform: 60 / 55 exactly.
        assert_eq!(
            r.retirement_date(d(1964, 12, 15), Gender::Male),
            Ok(d(2024, 12, 15))
        );
        // First affected men (born Jan-Apr 1965): one month later.
        assert_eq!(
            r.retirement_date(d(1965, 1, 10), Gender::Male),
            Ok(d(2025, 2, 10))
        );
        assert_eq!(r.extra_months(d(1965, 4, 30), Gender::Male), 1);
        assert_eq!(r.extra_months(d(1965, 5, 1), Gender::Male), 2);
        // Capped at 3 years.
        assert_eq!(
            r.retirement_date(d(1980, 6, 1), Gender::Male),
            Ok(d(2043, 6, 1))
        );
        assert_eq!(r.extra_months(d(1969, 12, 1), Gender::Female), 0);
        assert_eq!(r.extra_months(d(1970, 1, 1), Gender::Female), 1);
        assert_eq!(
            r.retirement_date(d(1990, 1, 1), Gender::Female),
            Ok(d(2048, 1, 1))
        );
    }

    #[test]
    fn leap_day_birthday_retires_feb_28() {
        let r = RetirementRule::default_rule().expect("shipped config");
        // Born 29 Feb 1960 (pre-reform), retires at 60 in 2020 (leap): 29 Feb.
        assert_eq!(
            r.retirement_date(d(1960, 2, 29), Gender::Male),
            Ok(d(2020, 2, 29))
        );
        // Born 29 Feb 1964, female 55 -> 2019 (not leap): 28 Feb.
        assert_eq!(
            r.retirement_date(d(1964, 2, 29), Gender::Female),
            Ok(d(2019, 2, 28))
        );
    }

    #[test]
    fn bad_retirement_config_refused() {
        assert!(RetirementRule::from_json("{}").is_err());
        let bad = r#"{"male":{"base_years":60,"months_per_step":0},"female":{"base_years":55}}"#;
        assert!(RetirementRule::from_json(bad).is_err());
        let bad = r#"{"male":{"base_years":60,"reform_from_birth_month":"1965/01"},"female":{"base_years":55}}"#;
        assert!(RetirementRule::from_json(bad).is_err());
    }

    #[test]
    fn a_review_is_named_by_the_year_it_covers() {
        // DOMAIN.md: the review done by 31 March 2027 covers 2026.
        let p = ReviewPolicy::default();
        assert_eq!(review_deadline(&p, 2026), d(2027, 3, 31));
        assert_eq!(p.campaign_year(d(2027, 3, 31)), 2026);
        assert_eq!(p.campaign_year(d(2027, 4, 1)), 2027);
        assert_eq!(p.campaign_year(d(2026, 11, 23)), 2026);
    }

    #[test]
    fn review_schedule() {
        let p = ReviewPolicy::default();
        // Issued in 2025 (even on 31 December): the 2025 review, due 31 March 2026.
        assert_eq!(
            review_status(d(2025, 12, 31), 2025, None, d(2026, 3, 31), &p),
            ReviewStatus::Due {
                deadline: d(2026, 3, 31)
            }
        );
        assert_eq!(
            review_status(d(2025, 12, 31), 2025, None, d(2026, 4, 1), &p),
            ReviewStatus::Overdue {
                deadline: d(2026, 3, 31)
            }
        );
        // Issued in 2026: exempt from the 2025 review.
        assert_eq!(
            review_status(d(2026, 1, 1), 2025, None, d(2026, 3, 1), &p),
            ReviewStatus::Exempt
        );
        assert_eq!(
            review_status(d(2020, 5, 5), 2025, Some(d(2026, 2, 1)), d(2026, 5, 1), &p),
            ReviewStatus::Done {
                reviewed_on: d(2026, 2, 1)
            }
        );
    }

    #[test]
    fn review_deadline_configurable_and_clamped() {
        let p = ReviewPolicy {
            deadline_month: 2,
            deadline_day: 30,
        };
        assert_eq!(p.deadline(2027), Some(d(2027, 2, 28)));
        assert_eq!(p.deadline(2028), Some(d(2028, 2, 29)));
        assert_eq!(review_deadline(&p, 2026), d(2027, 2, 28));
        assert_eq!(
            review_status(d(2020, 1, 1), 2026, None, d(2027, 3, 1), &p),
            ReviewStatus::Overdue {
                deadline: d(2027, 2, 28)
            }
        );
        // The field check uses the same configured deadline.
        assert_eq!(
            p.standing(d(2020, 1, 1), &[2025], d(2027, 3, 1)),
            ReviewStanding::Overdue { year: 2026 }
        );
        assert_eq!(
            p.standing(d(2020, 1, 1), &[2025], d(2027, 2, 28)),
            ReviewStanding::Due {
                year: 2026,
                deadline: d(2027, 2, 28)
            }
        );
    }

    #[test]
    fn field_check_standing_follows_the_31_march_rule() {
        let p = ReviewPolicy::default();
        // Issued this year: exempt.
        assert_eq!(
            p.standing(d(2026, 2, 1), &[], d(2026, 11, 1)),
            ReviewStanding::Exempt
        );
        // Issued last year, before the deadline: last year's review is due.
        assert_eq!(
            p.standing(d(2025, 6, 1), &[], d(2026, 3, 31)),
            ReviewStanding::Due {
                year: 2025,
                deadline: d(2026, 3, 31)
            }
        );
        // The day after the deadline without it: overdue.
        assert_eq!(
            p.standing(d(2025, 6, 1), &[], d(2026, 4, 1)),
            ReviewStanding::Overdue { year: 2025 }
        );
        // A reviewer who followed the hint ("the 2025 review by 31 March 2026").
        assert_eq!(
            p.standing(d(2025, 6, 1), &[2025], d(2026, 4, 1)),
            ReviewStanding::UpToDate { year: 2025 }
        );
        // Issued two years ago, the review of the year before missing: overdue even
        // in January.
        assert_eq!(
            p.standing(d(2023, 6, 1), &[], d(2026, 1, 10)),
            ReviewStanding::Overdue { year: 2024 }
        );
        assert_eq!(
            p.standing(d(2023, 6, 1), &[2024], d(2026, 1, 10)),
            ReviewStanding::Due {
                year: 2025,
                deadline: d(2026, 3, 31)
            }
        );
        // Issued in 2024: the 2024 review (by 31 March 2025) was required too.
        assert_eq!(
            p.standing(d(2024, 6, 1), &[], d(2026, 1, 10)),
            ReviewStanding::Overdue { year: 2024 }
        );
    }

    #[test]
    fn review_years_run_from_the_issue_year_to_this_year() {
        let today = d(2026, 11, 23);
        let issued = Some(d(2024, 6, 1));
        assert_eq!(check_review_year(issued, 2024, today), Ok(()));
        assert_eq!(check_review_year(issued, 2026, today), Ok(()));
        assert_eq!(
            check_review_year(issued, 2027, today),
            Err(ReviewYearError::InFuture {
                year: 2027,
                current: 2026
            })
        );
        assert_eq!(
            check_review_year(issued, 2023, today),
            Err(ReviewYearError::BeforeIssue {
                year: 2023,
                issued: 2024
            })
        );
        assert_eq!(check_review_year(None, 1990, today), Ok(()));
        assert!(check_review_year(None, 2027, today).is_err());
    }

    #[test]
    fn a_review_year_out_of_range_is_not_counted() {
        let p = ReviewPolicy::default();
        // Issued 2024; on 1 May 2026 the 2025 review (due 31 March 2026) is
        // overdue. A "2027" review (recorded ahead, or forged) does not make it up
        // to date, nor does a review of a year before issue cover anything.
        let today = d(2026, 5, 1);
        assert_eq!(
            p.standing(d(2024, 6, 1), &[2024, 2027, 2023], today),
            ReviewStanding::Overdue { year: 2025 }
        );
        assert_eq!(
            p.standing(d(2024, 6, 1), &[2024, 2025], today),
            ReviewStanding::UpToDate { year: 2025 }
        );
    }

    #[test]
    fn period_is_capped_by_the_statutory_retirement_date() {
        let r = RetirementRule::shipped();
        // A man born 1968-09-15 (reform: +12 months) retires 2029-09-15: a
        // 2025-07-20 announcement ends there, not on 2030-07-20.
        let p = period_for(d(2025, 7, 20), d(1968, 9, 15), Gender::Male, &r).expect("period");
        assert_eq!(
            r.retirement_date(d(1968, 9, 15), Gender::Male),
            Ok(d(2029, 9, 15))
        );
        assert_eq!(p.valid_from, d(2025, 7, 20));
        assert_eq!(p.valid_until, d(2029, 9, 15));
        // Young holder: the full five years.
        let p = period_for(d(2025, 7, 20), d(1990, 1, 1), Gender::Female, &r).expect("period");
        assert_eq!(p.valid_until, d(2030, 7, 20));
        // Already retired: no certificate.
        assert!(matches!(
            period_for(d(2025, 7, 20), d(1949, 12, 31), Gender::Female, &r),
            Err(ValidityError::RetiredBeforeStart { .. })
        ));
    }

    #[test]
    fn a_given_end_date_must_be_the_rules() {
        let r = RetirementRule::shipped();
        let birth = d(1990, 1, 1);
        assert!(check_period(
            d(2025, 7, 20),
            Some(d(2030, 7, 20)),
            birth,
            Gender::Male,
            &r
        )
        .is_ok());
        assert!(check_period(d(2025, 7, 20), None, birth, Gender::Male, &r).is_ok());
        let e = check_period(
            d(2025, 7, 20),
            Some(d(2030, 7, 19)),
            birth,
            Gender::Male,
            &r,
        )
        .expect_err("the old 60 months - 1 day");
        assert_eq!(e.code(), "validity_dates_disagree");
        assert!(e.to_string().contains("应为2030-07-20"), "{e}");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Never past five years, never past retirement, never before the start.
            #[test]
            fn period_never_outlasts_five_years_or_retirement(
                ann in 0i64..15000, birth in 0i64..25000, male in any::<bool>()
            ) {
                let r = RetirementRule::shipped();
                let announced = d(2000, 1, 1) + chrono::Duration::days(ann);
                let birth = d(1940, 1, 1) + chrono::Duration::days(birth);
                let gender = if male { Gender::Male } else { Gender::Female };
                let retire = r.retirement_date(birth, gender).expect("in range");
                match period_for(announced, birth, gender, &r) {
                    Ok(p) => {
                        prop_assert_eq!(p.valid_from, announced);
                        prop_assert!(p.valid_until > announced);
                        prop_assert!(p.valid_until <= retire);
                        prop_assert!(p.valid_until <= announced.checked_add_months(Months::new(60)).expect("range"));
                        prop_assert!(p.valid_until == retire
                            || p.valid_until == announced.checked_add_months(Months::new(60)).expect("range"));
                    }
                    Err(e) => {
                        prop_assert!(retire <= announced, "{}", e);
                    }
                }
            }
        }

        proptest! {
            /// One review rule: whatever the field check says about a year, the
            /// schedule says the same of that year.
            #[test]
            fn standing_agrees_with_the_schedule(
                issue in 0i64..4000, now in 0i64..4000,
                years in proptest::collection::vec(2015i32..2030, 0..6),
                month in 1u32..=12, day in 1u32..=31,
            ) {
                let p = ReviewPolicy { deadline_month: month, deadline_day: day };
                let issued = d(2016, 1, 1) + chrono::Duration::days(issue);
                let today = d(2016, 1, 1) + chrono::Duration::days(now);
                let on = |y: i32| years.contains(&y).then_some(today);
                let sched = |y: i32| review_status(issued, y, on(y), today, &p);
                match p.standing(issued, &years, today) {
                    ReviewStanding::Exempt => prop_assert_eq!(sched(today.year() - 1), ReviewStatus::Exempt),
                    // The card is held to last year's review ...
                    ReviewStanding::UpToDate { year } => {
                        prop_assert_eq!(year, today.year() - 1);
                        let done = matches!(sched(year), ReviewStatus::Done { .. });
                        prop_assert!(done);
                    }
                    ReviewStanding::Due { year, deadline } => {
                        prop_assert_eq!(year, today.year() - 1);
                        prop_assert_eq!(sched(year), ReviewStatus::Due { deadline });
                        prop_assert_eq!(deadline, review_deadline(&p, year));
                        // ... unless the one before is still overdue: that one wins.
                        let older_overdue = matches!(sched(year - 1), ReviewStatus::Overdue { .. });
                        prop_assert!(!older_overdue);
                    }
                    ReviewStanding::Overdue { year } => {
                        let overdue = matches!(sched(year), ReviewStatus::Overdue { .. });
                        prop_assert!(overdue);
                        let last = today.year() - 1;
                        let older_while_last_due = year == last - 1
                            && matches!(sched(last), ReviewStatus::Due { .. });
                        prop_assert!(year == last || older_while_last_due);
                    }
                }
            }

            /// Allowed exactly when issue year <= year <= this year.
            #[test]
            fn allowed_iff_between_issue_and_now(issue in 1990i32..2040, year in 1980i32..2050, now in 1990i32..2040) {
                let today = d(now, 6, 15);
                let ok = check_review_year(Some(d(issue, 3, 1)), year, today).is_ok();
                prop_assert_eq!(ok, issue <= year && year <= now);
            }

            /// Years outside the range never change the standing.
            #[test]
            fn out_of_range_years_never_count(issue in 2000i32..2030, now in 2000i32..2035,
                                              years in proptest::collection::vec(1990i32..2045, 0..6)) {
                let p = ReviewPolicy::default();
                let today = d(now, 4, 10);
                let issued = d(issue, 2, 1);
                let kept: Vec<i32> = years.iter().copied().filter(|y| *y >= issue && *y <= now).collect();
                prop_assert_eq!(p.standing(issued, &years, today), p.standing(issued, &kept, today));
            }
        }
    }
}
