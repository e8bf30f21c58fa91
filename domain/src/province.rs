//! Per-province configuration: the rules that differ between provinces (DOMAIN.md:
//! "Where a rule differs by province, make it configuration"), loaded once at start
//! by `ecardd` and `ecard-registry` from a file the deployment edits, checked here
//! with a Chinese error naming the field, and passed to every rule that needs it.
//!
//! The shipped default is Sichuan (`config/province-sichuan.json`, embedded);
//! `config/province-guangxi.json` is the other example.
//!
//! File format (JSON):
//! ```json
//! { "province": "四川省",
//!   "numbering": "builtin:sichuan" or { ...as numbering::NumberingRule::from_json takes it... },
//!   "photo": { "min_bytes": 0, "max_bytes": 102400, "min_width": 402, "min_height": 461 },
//!   "review_deadline": { "deadline_month": 3, "deadline_day": 31 },
//!   "retirement": "builtin:default" or { ...as validity::RetirementRule::from_json takes it... },
//!   "holidays": ["2026-10-01", "..."],
//!   "workdays": ["2026-09-27", "..."],
//!   "units_prefill_numbers": false }
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::deadlines::Holidays;
use crate::numbering::NumberingRule;
use crate::photo::{PhotoRules, MAX_PHOTO_SIDE};
use crate::validity::{RetirementRule, ReviewPolicy};

/// The shipped Sichuan configuration, embedded at build time.
pub const SICHUAN_JSON: &str = include_str!("../config/province-sichuan.json");
/// The Guangxi example (photos 100 KB–1 MB).
pub const GUANGXI_JSON: &str = include_str!("../config/province-guangxi.json");

/// Largest photo any configuration may allow (bytes): what a station or the
/// registry reads from outside is bounded whatever a file says.
pub const HARD_MAX_PHOTO_BYTES: usize = 4 * 1024 * 1024;
/// Most holidays a file may list (a few years of State Council notices).
pub const MAX_HOLIDAYS: usize = 400;

/// A loaded, checked province configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvinceConfig {
    /// Display name, e.g. 四川省.
    pub province: String,
    /// Certificate numbering (region and department tables, serial rule).
    pub numbering: NumberingRule,
    /// Upload limits for holder photos.
    pub photo: PhotoRules,
    /// The annual review deadline (day in the year after the review year).
    pub review: ReviewPolicy,
    /// Statutory retirement ages: they end a certificate's validity.
    pub retirement: RetirementRule,
    /// The working-day calendar of the 3- and 10-working-day deadlines: weekday
    /// public holidays (`holidays` in the file) and the weekend days worked in
    /// exchange (调休, `workdays`).
    pub holidays: Holidays,
    /// Whether units number their own certificates before upload (Fujian:
    /// 「按各执法单位证照编号规则生成编号后上传取证」); otherwise numbers are
    /// allocated centrally and a number typed into a roster is refused.
    pub units_prefill_numbers: bool,
}

/// The file as written; every part is checked by [`ProvinceConfig::from_json`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvinceFile {
    province: String,
    /// Notes for the people who edit the file; not used.
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    numbering: serde_json::Value,
    photo: PhotoRules,
    review_deadline: ReviewPolicy,
    retirement: serde_json::Value,
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    /// 调休上班日: Saturdays and Sundays that are working days.
    #[serde(default)]
    workdays: Vec<NaiveDate>,
    #[serde(default)]
    units_prefill_numbers: bool,
}

/// Why a configuration file cannot be used. `Display` is the Chinese message; it
/// names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvinceConfigError {
    #[error("省份配置文件格式错误：{0}")]
    Syntax(String),
    #[error("省份配置“{field}”无效：{reason}")]
    Field { field: &'static str, reason: String },
}

impl ProvinceConfigError {
    /// Stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            ProvinceConfigError::Syntax(_) => "province_config_syntax",
            ProvinceConfigError::Field { .. } => "province_config_invalid",
        }
    }

    fn field(field: &'static str, reason: impl Into<String>) -> Self {
        ProvinceConfigError::Field {
            field,
            reason: reason.into(),
        }
    }
}

impl ProvinceConfig {
    /// The shipped Sichuan configuration.
    pub fn sichuan() -> ProvinceConfig {
        Self::from_json(SICHUAN_JSON).expect("the shipped province-sichuan.json is valid (tested)")
    }

    /// Parses and checks a configuration file's text.
    pub fn from_json(json: &str) -> Result<ProvinceConfig, ProvinceConfigError> {
        let file: ProvinceFile =
            serde_json::from_str(json).map_err(|e| ProvinceConfigError::Syntax(e.to_string()))?;
        if file.province.trim().is_empty() {
            return Err(ProvinceConfigError::field("province", "省份名称不能为空"));
        }
        // A string names a shipped table (one copy of the Sichuan sample tables);
        // an object is the deployment's own.
        let numbering = match &file.numbering {
            serde_json::Value::String(s) if s == "builtin:sichuan" => {
                NumberingRule::sichuan_default()
            }
            serde_json::Value::String(s) => {
                return Err(ProvinceConfigError::field(
                    "numbering",
                    format!("“{s}”不是内置编号规则（可用“builtin:sichuan”或直接写出规则）"),
                ))
            }
            v => NumberingRule::from_json(&v.to_string()),
        }
        .map_err(|e| ProvinceConfigError::field("numbering", e.to_string()))?;
        let retirement = match &file.retirement {
            serde_json::Value::String(s) if s == "builtin:default" => {
                RetirementRule::default_rule()
            }
            serde_json::Value::String(s) => {
                return Err(ProvinceConfigError::field(
                    "retirement",
                    format!("“{s}”不是内置退休规则（可用“builtin:default”或直接写出规则）"),
                ))
            }
            v => RetirementRule::from_json(&v.to_string()),
        }
        .map_err(|e| ProvinceConfigError::field("retirement", e.to_string()))?;
        check_photo(&file.photo)?;
        let r = file.review_deadline;
        if !(1..=12).contains(&r.deadline_month) || !(1..=31).contains(&r.deadline_day) {
            return Err(ProvinceConfigError::field(
                "review_deadline",
                format!(
                    "年审截止日{}月{}日不存在（月份1–12，日期1–31）",
                    r.deadline_month, r.deadline_day
                ),
            ));
        }
        if file.holidays.len() > MAX_HOLIDAYS {
            return Err(ProvinceConfigError::field(
                "holidays",
                format!("节假日最多{MAX_HOLIDAYS}天"),
            ));
        }
        if file.workdays.len() > MAX_HOLIDAYS {
            return Err(ProvinceConfigError::field(
                "workdays",
                format!("调休上班日最多{MAX_HOLIDAYS}天"),
            ));
        }
        let holidays = Holidays::new(&file.holidays, &file.workdays)
            .map_err(|e| ProvinceConfigError::field("workdays", e.to_string()))?;
        Ok(ProvinceConfig {
            province: file.province.trim().to_owned(),
            numbering,
            photo: file.photo,
            review: file.review_deadline,
            retirement,
            holidays,
            units_prefill_numbers: file.units_prefill_numbers,
        })
    }
}

fn check_photo(p: &PhotoRules) -> Result<(), ProvinceConfigError> {
    if p.max_bytes == 0 || p.max_bytes > HARD_MAX_PHOTO_BYTES {
        return Err(ProvinceConfigError::field(
            "photo.max_bytes",
            format!("照片大小上限应在1到{HARD_MAX_PHOTO_BYTES}字节之间"),
        ));
    }
    if p.min_bytes > p.max_bytes {
        return Err(ProvinceConfigError::field(
            "photo.min_bytes",
            "照片大小下限不能大于上限",
        ));
    }
    for (field, v) in [
        ("photo.min_width", p.min_width),
        ("photo.min_height", p.min_height),
    ] {
        if v > MAX_PHOTO_SIDE {
            return Err(ProvinceConfigError::field(
                field,
                format!("照片像素下限不能超过{MAX_PHOTO_SIDE}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_configurations_load() {
        let s = ProvinceConfig::sichuan();
        assert_eq!(s.province, "四川省");
        assert_eq!(s.photo.max_bytes, 100 * 1024);
        assert_eq!(s.numbering, NumberingRule::sichuan_default().expect("rule"));
        assert!(!s.units_prefill_numbers);
        let g = ProvinceConfig::from_json(GUANGXI_JSON).expect("guangxi");
        assert_eq!(g.photo.min_bytes, 100 * 1024);
        assert_eq!(g.photo.max_bytes, 1024 * 1024);
    }

    fn with(field: &str, value: serde_json::Value) -> String {
        let mut v: serde_json::Value = serde_json::from_str(SICHUAN_JSON).expect("json");
        let mut at = &mut v;
        let parts: Vec<&str> = field.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            at = &mut at[*p];
        }
        at[parts[parts.len() - 1]] = value;
        v.to_string()
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            ("photo.max_bytes", serde_json::json!(0), "photo.max_bytes"),
            (
                "photo.min_bytes",
                serde_json::json!(200_000),
                "photo.min_bytes",
            ),
            (
                "photo.min_width",
                serde_json::json!(100_000),
                "photo.min_width",
            ),
            (
                "review_deadline.deadline_month",
                serde_json::json!(13),
                "review_deadline",
            ),
            (
                "numbering",
                serde_json::json!("builtin:fujian"),
                "numbering",
            ),
            (
                "numbering",
                serde_json::json!({"province": "x", "department_digits": 0,
                "serial_digits": 4, "regions": [], "departments": []}),
                "numbering",
            ),
            (
                "retirement",
                serde_json::json!({"male": {"base_years": 60, "months_per_step": 0},
                "female": {"base_years": 55}}),
                "retirement",
            ),
            ("province", serde_json::json!(" "), "province"),
        ];
        for (path, value, field) in cases {
            let err = ProvinceConfig::from_json(&with(path, value)).expect_err(path);
            assert_eq!(err.code(), "province_config_invalid", "{path}");
            assert!(
                err.to_string().contains(&format!("“{field}”")),
                "{path}: {err}"
            );
        }
        let err =
            ProvinceConfig::from_json(&with("colour", serde_json::json!(1))).expect_err("unknown");
        assert_eq!(err.code(), "province_config_syntax");
        assert!(err.to_string().contains("colour"), "{err}");
        assert!(ProvinceConfig::from_json("not json").is_err());
    }

    #[test]
    fn holidays_are_sorted_and_bounded() {
        let c = ProvinceConfig::from_json(&with(
            "holidays",
            serde_json::json!(["2026-10-02", "2026-10-01", "2026-10-01"]),
        ))
        .expect("ok");
        assert_eq!(
            c.holidays.off,
            [
                NaiveDate::from_ymd_opt(2026, 10, 1).expect("d"),
                NaiveDate::from_ymd_opt(2026, 10, 2).expect("d")
            ]
        );
        let many: Vec<String> = (0..=MAX_HOLIDAYS)
            .map(|i| {
                (NaiveDate::from_ymd_opt(2020, 1, 1).expect("d") + chrono::Days::new(i as u64))
                    .to_string()
            })
            .collect();
        let err = ProvinceConfig::from_json(&with("holidays", serde_json::json!(many)))
            .expect_err("too many");
        assert!(err.to_string().contains("“holidays”"), "{err}");
        let err = ProvinceConfig::from_json(&with("holidays", serde_json::json!(["2026-02-30"])))
            .expect_err("bad date");
        assert_eq!(err.code(), "province_config_syntax");
    }

    /// 调休: the weekend days worked in exchange are read from `workdays`; a weekday
    /// there, or a day both off and worked, is refused naming the field.
    #[test]
    fn workdays_are_weekend_days_worked_in_exchange() {
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).expect("d");
        let mut v: serde_json::Value = serde_json::from_str(SICHUAN_JSON).expect("json");
        v["holidays"] = serde_json::json!([
            "2025-10-01",
            "2025-10-02",
            "2025-10-03",
            "2025-10-06",
            "2025-10-07",
            "2025-10-08"
        ]);
        v["workdays"] = serde_json::json!(["2025-10-11", "2025-09-28"]);
        let c = ProvinceConfig::from_json(&v.to_string()).expect("ok");
        assert_eq!(c.holidays.worked, [d(9, 28), d(10, 11)]);
        assert!(c.holidays.is_working_day(d(10, 11)));
        assert_eq!(
            crate::deadlines::add_working_days(d(9, 30), 3, &c.holidays),
            d(10, 11)
        );
        for bad in [
            serde_json::json!(["2025-09-29"]),
            serde_json::json!(["2025-10-01"]),
        ] {
            v["workdays"] = bad.clone();
            let err = ProvinceConfig::from_json(&v.to_string()).expect_err("refused");
            assert_eq!(err.code(), "province_config_invalid", "{bad}");
            assert!(err.to_string().contains("“workdays”"), "{err}");
        }
    }
}
