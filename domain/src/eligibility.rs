//! Who may hold a certificate (DOMAIN.md "Who and what"; seed 002 Q4 and Q14,
//! seed 004): pure checks over the facts an application carries and the
//! registry's own records. Each failure is its own variant with a stable code and
//! a Chinese reason; [`check`] returns every failure, not only the first.
//!
//! - 「是行政执法部门的正式在编工作人员，包括公务员、参公管理人员、事业干部。不能是机关工勤人员、
//!   合同聘用人员、劳务派遣人员等」 → [`Staffing::is_formal`].
//! - 「通过行政执法资格考试」, 「通用法律知识考试时间填近三年的7月20日，成绩填60分以上」 →
//!   the 通用法律知识 exam, score ≥ [`PASS_SCORE`], taken within [`EXAM_VALID_YEARS`] years.
//! - 「所在工作岗位是执法岗位」 → at least one enforcement post code.
//! - 「领取国家部委行政执法证件的执法机关人员，不得同时领取《江苏省行政执法证》」 → no
//!   national-ministry certificate.
//! - One person, one live certificate (decision: the guides replace a card through
//!   换证, never issue a second; a 换证 application's old number does not count).
//!
//! Missing facts are reported apart ([`Unverified`]): the station's roster template
//! (fixed columns) cannot carry the exam or staffing data, so an application filed
//! from it arrives without them. The registry refuses an approval on any
//! [`Ineligible`] and shows the [`Unverified`] items to the reviewer
//! (docs/DOMAIN-RULES.md "eligibility").

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::codes::PostCode;

/// Lowest passing score of the 通用法律知识 exam.
pub const PASS_SCORE: u16 = 60;
/// An exam counts for this many years after it was taken.
pub const EXAM_VALID_YEARS: u32 = 3;

/// 编制情况 (Sichuan 信息收集表 「本人编制情况」).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Staffing {
    /// 公务员
    CivilServant,
    /// 参公管理人员
    ReferenceCivilServant,
    /// 事业干部
    InstitutionCadre,
    /// 机关工勤人员
    Worker,
    /// 合同聘用人员
    Contract,
    /// 劳务派遣人员
    Dispatched,
}

impl Staffing {
    pub const ALL: [Staffing; 6] = [
        Staffing::CivilServant,
        Staffing::ReferenceCivilServant,
        Staffing::InstitutionCadre,
        Staffing::Worker,
        Staffing::Contract,
        Staffing::Dispatched,
    ];

    /// Formal staff (正式在编): the only ones who may hold a certificate.
    pub fn is_formal(self) -> bool {
        matches!(
            self,
            Staffing::CivilServant | Staffing::ReferenceCivilServant | Staffing::InstitutionCadre
        )
    }

    /// By its name as a form or a spreadsheet cell gives it (surrounding whitespace
    /// ignored).
    pub fn parse_zh(text: &str) -> Option<Self> {
        let t = text.trim();
        Self::ALL.into_iter().find(|s| s.label_zh() == t)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Staffing::CivilServant => "公务员",
            Staffing::ReferenceCivilServant => "参公管理人员",
            Staffing::InstitutionCadre => "事业干部",
            Staffing::Worker => "机关工勤人员",
            Staffing::Contract => "合同聘用人员",
            Staffing::Dispatched => "劳务派遣人员",
        }
    }
}

/// One exam result (date taken, score in whole points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamResult {
    pub taken_on: NaiveDate,
    pub score: u16,
}

/// What an eligibility check looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub staffing: Option<Staffing>,
    /// Enforcement post codes (执法岗位).
    pub posts: Vec<PostCode>,
    /// The 通用法律知识 exam.
    pub law_exam: Option<ExamResult>,
    /// Holds a national-ministry enforcement certificate (国家部委行政执法证件).
    pub holds_national_certificate: bool,
    /// Numbers of the person's other live certificates (approved, issued or
    /// suspended), not counting the one a 换证 replaces.
    pub other_live_certificates: Vec<String>,
}

/// A definite reason the person may not hold a certificate. `Display` is the
/// Chinese reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ineligible {
    #[error("通用法律知识考试成绩{score}分，未达到{pass}分")]
    LawExamFailed { score: u16, pass: u16 },
    #[error("通用法律知识考试时间{taken_on}已超过三年（应不早于{earliest}）")]
    LawExamExpired {
        taken_on: NaiveDate,
        earliest: NaiveDate,
    },
    #[error("通用法律知识考试时间{taken_on}晚于今天")]
    LawExamInFuture { taken_on: NaiveDate },
    #[error("编制情况为{}，只有正式在编人员（公务员、参公管理人员、事业干部）可以申领", .0.label_zh())]
    NotFormalStaff(Staffing),
    #[error("未填写执法岗位，非执法岗位人员不能申领")]
    NoEnforcementPost,
    #[error("已领取国家部委行政执法证件，不得同时申领本省行政执法证")]
    NationalCertificateHeld,
    #[error("已持有有效证件{0}，一人只能持有一个证件（请走换证）")]
    AlreadyCertified(String),
}

impl Ineligible {
    /// Stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            Ineligible::LawExamFailed { .. } => "ineligible_law_exam_failed",
            Ineligible::LawExamExpired { .. } => "ineligible_law_exam_expired",
            Ineligible::LawExamInFuture { .. } => "ineligible_law_exam_in_future",
            Ineligible::NotFormalStaff(_) => "ineligible_not_formal_staff",
            Ineligible::NoEnforcementPost => "ineligible_no_enforcement_post",
            Ineligible::NationalCertificateHeld => "ineligible_national_certificate_held",
            Ineligible::AlreadyCertified(_) => "ineligible_already_certified",
        }
    }
}

/// A fact the check needs that the application does not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("未填写通用法律知识考试时间和成绩")]
    LawExamMissing,
    #[error("未填写编制情况")]
    StaffingMissing,
}

impl Unverified {
    pub fn code(&self) -> &'static str {
        match self {
            Unverified::LawExamMissing => "unverified_law_exam",
            Unverified::StaffingMissing => "unverified_staffing",
        }
    }
}

/// The outcome of [`check`]: every definite failure and every missing fact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub ineligible: Vec<Ineligible>,
    pub unverified: Vec<Unverified>,
}

/// The earliest exam date that still counts on `today` (three years back, same
/// month and day; 29 February → 28 February).
pub fn earliest_exam_date(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_months(Months::new(12 * EXAM_VALID_YEARS))
        .unwrap_or(NaiveDate::MIN)
}

/// The one eligibility rule, on `today`.
pub fn check(facts: &Facts, today: NaiveDate) -> Verdict {
    let mut v = Verdict::default();
    match facts.law_exam {
        None => v.unverified.push(Unverified::LawExamMissing),
        Some(exam) => {
            if exam.score < PASS_SCORE {
                v.ineligible.push(Ineligible::LawExamFailed {
                    score: exam.score,
                    pass: PASS_SCORE,
                });
            }
            let earliest = earliest_exam_date(today);
            if exam.taken_on > today {
                v.ineligible.push(Ineligible::LawExamInFuture {
                    taken_on: exam.taken_on,
                });
            } else if exam.taken_on < earliest {
                v.ineligible.push(Ineligible::LawExamExpired {
                    taken_on: exam.taken_on,
                    earliest,
                });
            }
        }
    }
    match facts.staffing {
        None => v.unverified.push(Unverified::StaffingMissing),
        Some(s) if !s.is_formal() => v.ineligible.push(Ineligible::NotFormalStaff(s)),
        Some(_) => {}
    }
    if facts.posts.is_empty() {
        v.ineligible.push(Ineligible::NoEnforcementPost);
    }
    if facts.holds_national_certificate {
        v.ineligible.push(Ineligible::NationalCertificateHeld);
    }
    for n in &facts.other_live_certificates {
        v.ineligible.push(Ineligible::AlreadyCertified(n.clone()));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn eligible() -> Facts {
        Facts {
            staffing: Some(Staffing::CivilServant),
            posts: vec![PostCode::ByAuthority],
            law_exam: Some(ExamResult {
                taken_on: d(2025, 7, 20),
                score: 75,
            }),
            holds_national_certificate: false,
            other_live_certificates: vec![],
        }
    }

    #[test]
    fn an_eligible_person_passes() {
        assert_eq!(check(&eligible(), d(2026, 11, 23)), Verdict::default());
    }

    #[test]
    fn each_failure_has_its_own_code() {
        let today = d(2026, 11, 23);
        type Change = Box<dyn Fn(&mut Facts)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|f| {
                    f.law_exam = Some(ExamResult {
                        taken_on: d(2025, 7, 20),
                        score: 59,
                    })
                }),
                "ineligible_law_exam_failed",
            ),
            (
                Box::new(|f| {
                    f.law_exam = Some(ExamResult {
                        taken_on: d(2023, 11, 22),
                        score: 80,
                    })
                }),
                "ineligible_law_exam_expired",
            ),
            (
                Box::new(|f| {
                    f.law_exam = Some(ExamResult {
                        taken_on: d(2026, 11, 24),
                        score: 80,
                    })
                }),
                "ineligible_law_exam_in_future",
            ),
            (
                Box::new(|f| f.staffing = Some(Staffing::Worker)),
                "ineligible_not_formal_staff",
            ),
            (
                Box::new(|f| f.staffing = Some(Staffing::Dispatched)),
                "ineligible_not_formal_staff",
            ),
            (
                Box::new(|f| f.posts.clear()),
                "ineligible_no_enforcement_post",
            ),
            (
                Box::new(|f| f.holds_national_certificate = true),
                "ineligible_national_certificate_held",
            ),
            (
                Box::new(|f| f.other_live_certificates = vec!["川X010001".into()]),
                "ineligible_already_certified",
            ),
        ];
        for (change, code) in cases {
            let mut f = eligible();
            change(&mut f);
            let v = check(&f, today);
            assert_eq!(v.ineligible.len(), 1, "{code}: {v:?}");
            assert_eq!(v.ineligible[0].code(), code);
            assert!(!v.ineligible[0].to_string().is_empty());
        }
        // Exactly three years back still counts.
        let mut f = eligible();
        f.law_exam = Some(ExamResult {
            taken_on: d(2023, 11, 23),
            score: 60,
        });
        assert!(check(&f, today).ineligible.is_empty());
    }

    #[test]
    fn missing_facts_are_unverified_not_ineligible() {
        let mut f = eligible();
        f.law_exam = None;
        f.staffing = None;
        let v = check(&f, d(2026, 11, 23));
        assert!(v.ineligible.is_empty());
        assert_eq!(
            v.unverified,
            [Unverified::LawExamMissing, Unverified::StaffingMissing]
        );
    }

    proptest! {
        /// The exam counts exactly when score ≥ 60 and it was taken within the
        /// three years up to today.
        #[test]
        fn exam_counts_iff_passed_and_recent(score in 0u16..=100, back in -30i64..2000) {
            let today = d(2026, 6, 15);
            let taken_on = today - chrono::Duration::days(back);
            let mut f = eligible();
            f.law_exam = Some(ExamResult { taken_on, score });
            let v = check(&f, today);
            let ok = score >= PASS_SCORE && taken_on <= today && taken_on >= d(2023, 6, 15);
            prop_assert_eq!(v.ineligible.is_empty(), ok);
        }

    }

    /// Only formal staff (公务员, 参公管理人员, 事业干部) pass the staffing check: a
    /// written table of all six, not the rule restated.
    #[test]
    fn only_formal_staff_pass() {
        let table = [
            (Staffing::CivilServant, None),
            (Staffing::ReferenceCivilServant, None),
            (Staffing::InstitutionCadre, None),
            (Staffing::Worker, Some("ineligible_not_formal_staff")),
            (Staffing::Contract, Some("ineligible_not_formal_staff")),
            (Staffing::Dispatched, Some("ineligible_not_formal_staff")),
        ];
        assert_eq!(table.len(), Staffing::ALL.len());
        for (staffing, expected) in table {
            let mut f = eligible();
            f.staffing = Some(staffing);
            let codes: Vec<&str> = check(&f, d(2026, 1, 1))
                .ineligible
                .iter()
                .map(|i| i.code())
                .collect();
            assert_eq!(
                codes,
                expected.into_iter().collect::<Vec<_>>(),
                "{staffing:?}"
            );
        }
    }
}
