//! Certificate numbering (证件编号): a configurable rule per province, with the
//! Sichuan rule (seed 002) shipped as the default (`config/numbering-sichuan.json`).
//!
//! A number is `region code + department code + serial`:
//! - city level, 8 chars: `川X010099` = region `川X`, department `01`, serial `0099`;
//! - county level, 10 chars: `川X06210010` = region `川X06`, department `21`, serial `0010`.
//!
//! Region and department codes come from fixed tables in the config; a code not in
//! the table is refused. Serials start at 0001 and run in order; the configured
//! list of whole serials to skip (empty by default) is skipped; nobody picks a
//! number by hand: [`allocate`] chooses it, at the registry only.
//!
//! # Allocation and concurrency
//! [`allocate`] is a pure function of the last serial ever allocated for a
//! (region, department) pair. The registry makes it safe under concurrency: it
//! calls it inside one SQLite write transaction (`BEGIN IMMEDIATE`) over the
//! highest serial ever recorded for the pair (cancelled and voided numbers
//! included, so a number is never reused), records the new serial, and relies on
//! `certificates.number UNIQUE` as the last line of defence. Stations never
//! allocate: a 换证 or 补证 is an application the registry numbers on approval.

use serde::{Deserialize, Serialize};

/// The Sichuan default rule, embedded at build time.
pub const SICHUAN_DEFAULT_JSON: &str = include_str!("../config/numbering-sichuan.json");

/// Why a rule, number or allocation was refused. `Display` is the Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberingError {
    #[error("证件编号规则配置无效：{0}")]
    Config(String),
    #[error("证件编号“{0}”的地区代码不在地区代码表中")]
    UnknownRegion(String),
    #[error("部门代码“{0}”不在部门代码表中")]
    UnknownDepartment(String),
    #[error("证件编号“{number}”长度不对：市级应为{city_len}位，县级应为{county_len}位")]
    Length {
        number: String,
        city_len: usize,
        county_len: usize,
    },
    #[error("证件编号“{0}”的人员编码应为数字且不能为0000")]
    BadSerial(String),
    #[error("人员编码{0}属于跳过的号码，系统不会分配该编号")]
    SkippedSerial(u32),
    #[error("人员编码超出范围（最大{max}）")]
    SerialOutOfRange { max: u32 },
    #[error("人员编码已用尽：{max}以内已无可分配的号码")]
    Exhausted { max: u32 },
}

/// Administrative level of a region code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    City,
    County,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name: String,
}

/// Serials that are never allocated: a configured list of whole serials, empty by
/// default. The guide allows skipping serials "such as 4, 14, 250"
/// (「可以跳过“4”“14”“250”之类的号码」): those serials themselves, not every serial
/// that ends in 4. A config that still names the old `suffixes` is refused, not
/// silently read with a different meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipRules {
    /// Whole serials to skip, e.g. `[4, 14, 250]`.
    #[serde(default)]
    pub numbers: Vec<u32>,
    /// "No large gaps" (seed 002): a config that skips more consecutive serials
    /// than this is refused.
    #[serde(default = "default_max_consecutive_skips")]
    pub max_consecutive_skips: u32,
    /// Largest serial (9999 for 4 digits); set from the rule's `serial_digits`.
    #[serde(default = "default_max_serial")]
    pub max_serial: u32,
}

fn default_max_consecutive_skips() -> u32 {
    10
}
fn default_max_serial() -> u32 {
    9999
}

impl Default for SkipRules {
    fn default() -> Self {
        SkipRules {
            numbers: Vec::new(),
            max_consecutive_skips: default_max_consecutive_skips(),
            max_serial: default_max_serial(),
        }
    }
}

impl SkipRules {
    /// True when `serial` must never be allocated.
    pub fn is_skipped(&self, serial: u32) -> bool {
        self.numbers.contains(&serial)
    }

    fn validate(&self) -> Result<(), NumberingError> {
        if let Some(bad) = self
            .numbers
            .iter()
            .find(|n| **n == 0 || **n > self.max_serial)
        {
            return Err(NumberingError::Config(format!(
                "跳过的号码{bad}超出人员编码范围（1–{}）",
                self.max_serial
            )));
        }
        let mut skipped: Vec<u32> = self.numbers.clone();
        skipped.sort_unstable();
        skipped.dedup();
        let mut run = 0u32;
        let mut prev = None;
        for n in skipped {
            run = if prev.is_some_and(|p: u32| p + 1 == n) {
                run + 1
            } else {
                1
            };
            if run > self.max_consecutive_skips {
                return Err(NumberingError::Config(format!(
                    "跳号规则连续跳过超过{}个号码，编号间隔过大",
                    self.max_consecutive_skips
                )));
            }
            prev = Some(n);
        }
        Ok(())
    }
}

/// Returns the serial to allocate after `last_used` (`None`: nothing allocated yet).
///
/// Strictly greater than `last_used`, never a skipped serial, and
/// [`NumberingError::Exhausted`] when no serial up to `skip.max_serial` is left.
pub fn next_serial(last_used: Option<u32>, skip: &SkipRules) -> Result<u32, NumberingError> {
    let start = match last_used {
        None => 1,
        Some(n) => n.checked_add(1).ok_or(NumberingError::Exhausted {
            max: skip.max_serial,
        })?,
    };
    (start..=skip.max_serial)
        .find(|s| !skip.is_skipped(*s))
        .ok_or(NumberingError::Exhausted {
            max: skip.max_serial,
        })
}

/// The one allocator of certificate numbers (the registry is its only caller:
/// numbers have one owner). Pure: given the rule (its tables and skip list), the
/// region and department codes of the unit the certificate is for, and the last
/// serial ever used under them, the next number. For a 换证 the unit is the
/// holder's new unit: 「地区代码和部门代码是固定的」, the codes belong to the unit,
/// not to the person.
pub fn allocate(
    rule: &NumberingRule,
    region: &str,
    department: &str,
    last_used: Option<u32>,
) -> Result<NumberParts, NumberingError> {
    let number = NumberParts {
        region: region.to_string(),
        department: department.to_string(),
        serial: next_serial(last_used, &rule.skip)?,
    };
    // Refuses codes outside the tables (and checks the serial once more).
    rule.format(&number)?;
    Ok(number)
}

/// A province's numbering rule (deserialised from JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberingRule {
    pub province: String,
    #[serde(default)]
    pub description: String,
    pub department_digits: usize,
    pub serial_digits: usize,
    pub regions: Vec<Region>,
    pub departments: Vec<Department>,
    #[serde(default)]
    pub skip: SkipRules,
}

/// A certificate number as it travels between station and registry and as the
/// stores take it: never a bare string. Checked when parsed (and when decoded from
/// JSON, so a malformed number from the wire is refused as the message is read):
/// 1–[`MAX_NUMBER_LEN`] bytes, no whitespace or control characters. Whether it is a
/// number of a province's rule is [`NumberingRule::parse`]'s question (the tables
/// are a deployment's), asked where that rule is known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertificateNumber(String);

/// Longest certificate number accepted anywhere (bytes).
pub const MAX_NUMBER_LEN: usize = 64;

/// Why a text is not a certificate number. `Display` is the Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadNumber {
    #[error("证件编号为空")]
    Empty,
    #[error("证件编号超过{MAX_NUMBER_LEN}字节")]
    TooLong,
    #[error("证件编号“{0}”含有空白或控制字符")]
    BadCharacter(String),
}

impl CertificateNumber {
    /// Checks `text` (surrounding whitespace is dropped first: a cell or a form
    /// field often carries it).
    pub fn parse(text: &str) -> Result<Self, BadNumber> {
        let t = text.trim();
        if t.is_empty() {
            return Err(BadNumber::Empty);
        }
        if t.len() > MAX_NUMBER_LEN {
            return Err(BadNumber::TooLong);
        }
        if t.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(BadNumber::BadCharacter(
                t.chars().filter(|c| !c.is_control()).take(64).collect(),
            ));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for CertificateNumber {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for CertificateNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CertificateNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for CertificateNumber {
    type Err = BadNumber;
    fn from_str(s: &str) -> Result<Self, BadNumber> {
        Self::parse(s)
    }
}

impl TryFrom<String> for CertificateNumber {
    type Error = BadNumber;
    fn try_from(s: String) -> Result<Self, BadNumber> {
        Self::parse(&s)
    }
}

impl From<CertificateNumber> for String {
    fn from(n: CertificateNumber) -> String {
        n.0
    }
}

impl PartialEq<str> for CertificateNumber {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for CertificateNumber {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<&str> for CertificateNumber {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(feature = "sql")]
impl rusqlite::types::ToSql for CertificateNumber {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

/// A stored number is checked as it is read, like one from the wire.
#[cfg(feature = "sql")]
impl rusqlite::types::FromSql for CertificateNumber {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Self::parse(text).map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}

/// A certificate number split into its parts (under a province's rule).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NumberParts {
    pub region: String,
    pub department: String,
    pub serial: u32,
}

impl NumberParts {
    /// Region code + department code: the pair a serial counts under.
    pub fn prefix(&self) -> String {
        format!("{}{}", self.region, self.department)
    }
}

impl NumberingRule {
    /// The shipped Sichuan rule.
    pub fn sichuan_default() -> Result<NumberingRule, NumberingError> {
        Self::from_json(SICHUAN_DEFAULT_JSON)
    }

    /// Parses and validates a rule from JSON.
    pub fn from_json(json: &str) -> Result<NumberingRule, NumberingError> {
        let mut rule: NumberingRule =
            serde_json::from_str(json).map_err(|e| NumberingError::Config(e.to_string()))?;
        if !(1..=9).contains(&rule.serial_digits) || !(1..=6).contains(&rule.department_digits) {
            return Err(NumberingError::Config("位数设置超出范围".into()));
        }
        rule.skip.max_serial = 10u32.pow(rule.serial_digits as u32) - 1;
        rule.validate()?;
        Ok(rule)
    }

    fn validate(&self) -> Result<(), NumberingError> {
        if self.regions.is_empty() || self.departments.is_empty() {
            return Err(NumberingError::Config(
                "地区代码表和部门代码表不能为空".into(),
            ));
        }
        for d in &self.departments {
            if d.code.len() != self.department_digits || !d.code.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(NumberingError::Config(format!(
                    "部门代码“{}”应为{}位数字",
                    d.code, self.department_digits
                )));
            }
        }
        let mut codes: Vec<&str> = self.regions.iter().map(|r| r.code.as_str()).collect();
        codes.sort();
        if codes.windows(2).any(|w| w[0] == w[1]) {
            return Err(NumberingError::Config("地区代码重复".into()));
        }
        if self.regions.iter().any(|r| r.code.trim().is_empty()) {
            return Err(NumberingError::Config("地区代码不能为空".into()));
        }
        self.skip.validate()
    }

    fn region(&self, code: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.code == code)
    }

    fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }

    fn expected_len(&self, level: Level) -> usize {
        self.regions
            .iter()
            .find(|r| r.level == level)
            .map(|r| r.code.chars().count())
            .unwrap_or(0)
            + self.department_digits
            + self.serial_digits
    }

    /// Formats a number; the codes must be in the tables and the serial allowed.
    pub fn format(&self, n: &NumberParts) -> Result<String, NumberingError> {
        if self.region(&n.region).is_none() {
            return Err(NumberingError::UnknownRegion(n.region.clone()));
        }
        if self.department(&n.department).is_none() {
            return Err(NumberingError::UnknownDepartment(n.department.clone()));
        }
        if n.serial == 0 || n.serial > self.skip.max_serial {
            return Err(NumberingError::SerialOutOfRange {
                max: self.skip.max_serial,
            });
        }
        if self.skip.is_skipped(n.serial) {
            return Err(NumberingError::SkippedSerial(n.serial));
        }
        Ok(format!(
            "{}{}{:0width$}",
            n.region,
            n.department,
            n.serial,
            width = self.serial_digits
        ))
    }

    /// Parses and validates a number against the rule.
    pub fn parse(&self, input: &str) -> Result<NumberParts, NumberingError> {
        let s = input.trim();
        let tail_len = self.department_digits + self.serial_digits;
        let total = s.chars().count();
        // The region is the only variable-length part: try the codes that are a
        // prefix of the number and leave exactly department + serial behind.
        let region = self
            .regions
            .iter()
            .filter(|r| s.starts_with(r.code.as_str()))
            .find(|r| r.code.chars().count() + tail_len == total);
        let Some(region) = region else {
            let any_prefix = self.regions.iter().any(|r| s.starts_with(r.code.as_str()));
            return Err(if any_prefix {
                NumberingError::Length {
                    number: s.to_string(),
                    city_len: self.expected_len(Level::City),
                    county_len: self.expected_len(Level::County),
                }
            } else {
                NumberingError::UnknownRegion(s.to_string())
            });
        };
        let rest = &s[region.code.len()..];
        if !rest.is_ascii() {
            return Err(NumberingError::BadSerial(s.to_string()));
        }
        let (dept, serial_str) = rest.split_at(self.department_digits.min(rest.len()));
        if self.department(dept).is_none() {
            return Err(NumberingError::UnknownDepartment(dept.to_string()));
        }
        if !serial_str.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NumberingError::BadSerial(s.to_string()));
        }
        let serial: u32 = serial_str
            .parse()
            .map_err(|_| NumberingError::BadSerial(s.to_string()))?;
        if serial == 0 {
            return Err(NumberingError::BadSerial(s.to_string()));
        }
        if self.skip.is_skipped(serial) {
            return Err(NumberingError::SkippedSerial(serial));
        }
        Ok(NumberParts {
            region: region.code.clone(),
            department: dept.to_string(),
            serial,
        })
    }

    /// [`NumberingRule::format`] as the checked text type.
    pub fn number(&self, n: &NumberParts) -> Result<CertificateNumber, NumberingError> {
        let text = self.format(n)?;
        CertificateNumber::parse(&text).map_err(|e| NumberingError::Config(e.to_string()))
    }

    /// The text of the next number for a (region, department) pair; see [`allocate`].
    pub fn next_number(
        &self,
        region: &str,
        department: &str,
        last_used: Option<u32>,
    ) -> Result<String, NumberingError> {
        self.format(&allocate(self, region, department, last_used)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> NumberingRule {
        NumberingRule::sichuan_default().expect("shipped config is valid")
    }

    #[test]
    fn a_number_from_json_is_checked_as_it_is_decoded() {
        let n: CertificateNumber = serde_json::from_str("\"川X010099\"").expect("valid");
        assert_eq!(n.as_str(), "川X010099");
        assert_eq!(serde_json::to_string(&n).expect("encode"), "\"川X010099\"");
        for bad in ["\"\"", "\"川X 0100\"", "\"川X\\u00000001\"", "42", "null"] {
            assert!(
                serde_json::from_str::<CertificateNumber>(bad).is_err(),
                "{bad} must be refused"
            );
        }
        let long = format!("\"{}\"", "1".repeat(MAX_NUMBER_LEN + 1));
        let e = serde_json::from_str::<CertificateNumber>(&long).expect_err("too long");
        assert!(e.to_string().contains("超过"), "{e}");
        assert_eq!(
            CertificateNumber::parse(" 川X010099 ").expect("trimmed"),
            "川X010099"
        );
    }

    #[test]
    fn guide_examples_parse() {
        let r = rule();
        assert_eq!(
            r.parse("川X010099"),
            Ok(NumberParts {
                region: "川X".into(),
                department: "01".into(),
                serial: 99
            })
        );
        assert_eq!(
            r.parse("川X06210010"),
            Ok(NumberParts {
                region: "川X06".into(),
                department: "21".into(),
                serial: 10
            })
        );
    }

    #[test]
    fn wrong_codes_and_lengths_refused() {
        let r = rule();
        assert!(matches!(
            r.parse("川Y010099"),
            Err(NumberingError::UnknownRegion(_))
        ));
        assert!(matches!(
            r.parse("川X990099"),
            Err(NumberingError::UnknownDepartment(_))
        ));
        assert!(matches!(
            r.parse("川X01009"),
            Err(NumberingError::Length { .. })
        ));
        assert!(matches!(
            r.parse("川X0621001"),
            Err(NumberingError::Length { .. })
        ));
        assert!(matches!(
            r.parse("川X010000"),
            Err(NumberingError::BadSerial(_))
        ));
        assert!(matches!(
            r.parse("川X0100a9"),
            Err(NumberingError::BadSerial(_))
        ));
        // Nothing is skipped by default: serials ending in 4 are ordinary numbers.
        assert_eq!(r.parse("川X010014").map(|n| n.serial), Ok(14));
        assert_eq!(r.parse("川X011250").map(|n| n.serial), Ok(1250));
        // County 川X05 is not in the sample table.
        assert!(r.parse("川X05210010").is_err());
        // Non-ASCII in the tail must not panic.
        assert!(r.parse("川X0川0099").is_err());
        assert!(r.parse("川X01é099").is_err());
    }

    #[test]
    fn nothing_is_skipped_by_default() {
        let r = rule();
        assert!(r.skip.numbers.is_empty());
        let mut last = None;
        let mut got = Vec::new();
        for _ in 0..15 {
            let n = allocate(&r, "川X", "01", last).expect("number");
            got.push(n.serial);
            last = Some(n.serial);
        }
        assert_eq!(got, (1..=15).collect::<Vec<_>>());
        assert_eq!(
            r.next_number("川X06", "21", Some(9)).as_deref(),
            Ok("川X06210010")
        );
    }

    #[test]
    fn configured_whole_serials_are_skipped_and_nothing_else() {
        let mut r = rule();
        r.skip.numbers = vec![4, 14, 250];
        assert_eq!(next_serial(Some(3), &r.skip), Ok(5));
        assert_eq!(next_serial(Some(13), &r.skip), Ok(15));
        assert_eq!(next_serial(Some(249), &r.skip), Ok(251));
        // 24, 34, 1250: not in the list, so allocated like any other serial.
        assert_eq!(next_serial(Some(23), &r.skip), Ok(24));
        assert_eq!(next_serial(Some(1249), &r.skip), Ok(1250));
        assert_eq!(r.parse("川X010014"), Err(NumberingError::SkippedSerial(14)));
        assert_eq!(r.parse("川X010024").map(|n| n.serial), Ok(24));
    }

    #[test]
    fn allocate_refuses_codes_outside_the_tables() {
        let r = rule();
        assert!(matches!(
            allocate(&r, "川Z", "01", None),
            Err(NumberingError::UnknownRegion(_))
        ));
        assert!(matches!(
            allocate(&r, "川X", "99", None),
            Err(NumberingError::UnknownDepartment(_))
        ));
        assert_eq!(
            allocate(&r, "川X", "01", Some(9999)),
            Err(NumberingError::Exhausted { max: 9999 })
        );
    }

    #[test]
    fn a_config_with_the_old_suffix_rule_is_refused() {
        let mut v: serde_json::Value = serde_json::from_str(SICHUAN_DEFAULT_JSON).expect("json");
        v["skip"] = serde_json::json!({ "suffixes": ["4"] });
        assert!(matches!(
            NumberingRule::from_json(&v.to_string()),
            Err(NumberingError::Config(_))
        ));
        v["skip"] = serde_json::json!({ "numbers": [0] });
        assert!(NumberingRule::from_json(&v.to_string()).is_err());
        v["skip"] = serde_json::json!({ "numbers": [10000] });
        assert!(NumberingRule::from_json(&v.to_string()).is_err());
    }

    #[test]
    fn exhaustion_reported() {
        let r = rule();
        assert_eq!(
            next_serial(Some(9999), &r.skip),
            Err(NumberingError::Exhausted { max: 9999 })
        );
        // 9999 itself is fine, 9998 is the last before it; after 9998 comes 9999.
        assert_eq!(next_serial(Some(9998), &r.skip), Ok(9999));
        let mut two_digits = r.skip.clone();
        two_digits.max_serial = 99;
        assert_eq!(
            next_serial(Some(u32::MAX), &two_digits),
            Err(NumberingError::Exhausted { max: 99 })
        );
    }

    #[test]
    fn config_with_large_gaps_or_bad_codes_refused() {
        let base: serde_json::Value = serde_json::from_str(SICHUAN_DEFAULT_JSON).expect("json");
        let mut v = base.clone();
        v["skip"]["numbers"] = serde_json::json!([7, 8, 9, 10, 12]);
        v["skip"]["max_consecutive_skips"] = serde_json::json!(3);
        assert!(NumberingRule::from_json(&v.to_string()).is_err());
        v["skip"]["numbers"] = serde_json::json!([7, 8, 9, 11, 12]);
        assert!(NumberingRule::from_json(&v.to_string()).is_ok());
        let mut v = base.clone();
        v["departments"][0]["code"] = serde_json::json!("1");
        assert!(NumberingRule::from_json(&v.to_string()).is_err());
        let mut v = base;
        v["skip"]["numbers"] = serde_json::json!(["x"]);
        assert!(NumberingRule::from_json(&v.to_string()).is_err());
        assert!(NumberingRule::from_json("{").is_err());
    }

    #[test]
    fn format_refuses_unknown_codes_and_skipped_serials() {
        let r = rule();
        let n = |reg: &str, d: &str, s| NumberParts {
            region: reg.into(),
            department: d.into(),
            serial: s,
        };
        assert!(matches!(
            r.format(&n("川Z", "01", 1)),
            Err(NumberingError::UnknownRegion(_))
        ));
        assert!(matches!(
            r.format(&n("川X", "99", 1)),
            Err(NumberingError::UnknownDepartment(_))
        ));
        assert_eq!(r.format(&n("川X", "01", 4)).as_deref(), Ok("川X010004"));
        let mut skipping = r.clone();
        skipping.skip.numbers = vec![4];
        assert_eq!(
            skipping.format(&n("川X", "01", 4)),
            Err(NumberingError::SkippedSerial(4))
        );
        assert!(r.format(&n("川X", "01", 10000)).is_err());
        assert!(r.format(&n("川X", "01", 0)).is_err());
    }

    #[test]
    fn concurrent_issuers_behind_one_lock_never_share_a_number() {
        // Models the daemon: the store's write transaction is the mutex.
        use std::sync::{Arc, Mutex};
        let r = Arc::new(rule());
        let store: Arc<Mutex<(Option<u32>, Vec<String>)>> = Arc::new(Mutex::new((None, vec![])));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let r = Arc::clone(&r);
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        let mut tx = store.lock().expect("lock");
                        let n = next_serial(tx.0, &r.skip).expect("serial");
                        tx.0 = Some(n);
                        let num = r
                            .format(&NumberParts {
                                region: "川X".into(),
                                department: "01".into(),
                                serial: n,
                            })
                            .expect("format");
                        tx.1.push(num);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        let mut all = store.lock().expect("lock").1.clone();
        let len = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), len);
        assert_eq!(len, 800);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn next_serial_strictly_increasing_and_never_skipped(
                last in proptest::option::of(0u32..9999),
                numbers in proptest::collection::vec(1u32..9999, 0..8),
            ) {
                let skip = SkipRules { numbers, ..SkipRules::default() };
                match next_serial(last, &skip) {
                    Ok(n) => {
                        prop_assert!(n > last.unwrap_or(0));
                        prop_assert!(!skip.is_skipped(n));
                        prop_assert!(n <= skip.max_serial);
                        // Nothing allowed was jumped over.
                        for m in last.unwrap_or(0) + 1..n {
                            prop_assert!(skip.is_skipped(m));
                        }
                    }
                    Err(NumberingError::Exhausted { .. }) => {
                        for m in last.unwrap_or(0) + 1..=skip.max_serial {
                            prop_assert!(skip.is_skipped(m));
                        }
                    }
                    Err(e) => prop_assert!(false, "unexpected {e:?}"),
                }
            }

            #[test]
            fn allocate_is_the_next_allowed_serial_under_the_given_codes(
                region_i in 0usize..7, dept_i in 0usize..17,
                last in proptest::option::of(0u32..9999),
                numbers in proptest::collection::vec(1u32..9999, 0..8),
            ) {
                let mut r = rule();
                r.skip.numbers = numbers;
                let (region, dept) = (r.regions[region_i].code.clone(), r.departments[dept_i].code.clone());
                match allocate(&r, &region, &dept, last) {
                    Ok(n) => {
                        prop_assert_eq!(&n.region, &region);
                        prop_assert_eq!(&n.department, &dept);
                        prop_assert_eq!(Ok(n.serial), next_serial(last, &r.skip));
                        let text = r.format(&n).expect("allocated numbers format");
                        prop_assert_eq!(r.parse(&text), Ok(n));
                    }
                    Err(e) => prop_assert_eq!(Err(e), next_serial(last, &r.skip)),
                }
            }

            #[test]
            fn allocation_sequence_has_no_repeats(steps in 1usize..300) {
                let r = rule();
                let mut last = None;
                let mut seen = std::collections::HashSet::new();
                for _ in 0..steps {
                    let n = next_serial(last, &r.skip).expect("serial");
                    prop_assert!(seen.insert(n));
                    last = Some(n);
                }
            }

            #[test]
            fn format_parse_round_trip(
                region_i in 0usize..7, dept_i in 0usize..17, serial in 1u32..=9999
            ) {
                let r = rule();
                let n = NumberParts {
                    region: r.regions[region_i].code.clone(),
                    department: r.departments[dept_i].code.clone(),
                    serial,
                };
                match r.format(&n) {
                    Ok(s) => {
                        let len = s.chars().count();
                        let expected = if r.regions[region_i].level == Level::City { 8 } else { 10 };
                        prop_assert_eq!(len, expected);
                        prop_assert_eq!(r.parse(&s), Ok(n));
                    }
                    Err(NumberingError::SkippedSerial(x)) => prop_assert!(r.skip.is_skipped(x)),
                    Err(e) => prop_assert!(false, "unexpected {e:?}"),
                }
            }
        }
    }
}
