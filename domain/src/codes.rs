//! Code tables of the official templates: political status, enforcement post,
//! ethnicity, certificate kind, and the YYYY-MM-DD date format.
//!
//! Codes keep their leading zeros. Spreadsheets often hold them as numbers
//! (Excel turns `02` into `2`), so every code parser accepts `2`, `02` and the
//! float text `2.0` and returns the canonical zero-padded code.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why a code or date was refused. `Display` is the Chinese message for users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("政治面貌代码“{0}”无效，应为01至13（如02表示中共预备党员）")]
    PoliticalStatus(String),
    #[error("执法岗位代码“{0}”无效，应为01（依职权）或02（依申请），多个用逗号或顿号分隔")]
    Post(String),
    #[error("执法岗位不能为空")]
    PostEmpty,
    #[error("民族“{0}”无效，应填写完整的民族名称，如“汉族”“蒙古族”")]
    Ethnicity(String),
    #[error("证件类型“{0}”无效，应为行政执法证、委托行政执法证或行政执法监督证")]
    CertificateKind(String),
    #[error("日期“{0}”无效，应为YYYY-MM-DD格式的真实日期，如2001-01-22")]
    Date(String),
    #[error("“{0}”应填写“是”或“否”")]
    YesNo(String),
}

/// Normalises a numeric code to `width` digits: `2`, `02`, `2.0` → `02`.
/// Returns `None` for anything that is not a non-negative whole number that fits.
pub fn normalize_code(input: &str, width: usize) -> Option<String> {
    let s = input.trim();
    let s = s.strip_suffix(".0").unwrap_or(s);
    if s.is_empty() || s.len() > width || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{s:0>width$}"))
}

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident, $err:ident, width $w:expr, { $($var:ident = $code:expr, $zh:expr;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $($var),+ }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// The zero-padded code, e.g. `"02"`.
            pub fn code(self) -> &'static str {
                match self { $($name::$var => $code),+ }
            }

            /// The official Chinese name.
            pub fn name_zh(self) -> &'static str {
                match self { $($name::$var => $zh),+ }
            }

            /// Parses a code (`2`, `02`, `2.0`) or the exact Chinese name.
            pub fn parse(input: &str) -> Result<$name, CodeError> {
                let t = input.trim();
                if let Some(c) = normalize_code(t, $w) {
                    if let Some(v) = $name::ALL.iter().find(|v| v.code() == c) {
                        return Ok(*v);
                    }
                }
                $name::ALL
                    .iter()
                    .find(|v| v.name_zh() == t)
                    .copied()
                    .ok_or_else(|| CodeError::$err(t.to_string()))
            }
        }
    };
}

code_enum!(
    /// 政治面貌 (codes 01–13 from the Fujian template, seed 003).
    PoliticalStatus, PoliticalStatus, width 2, {
    CpcMember = "01", "中共党员";
    CpcProbationary = "02", "中共预备党员";
    YouthLeague = "03", "共青团员";
    Rcck = "04", "民革党员";
    Cndca = "05", "民建党员";
    Cdl = "06", "民盟党员";
    Capd = "07", "民进党员";
    Cpwdp = "08", "农工党党员";
    Czgp = "09", "致公党党员";
    JiusanSociety = "10", "九三学社社员";
    Tdsgl = "11", "台盟盟员";
    NonPartisan = "12", "无党派民主人士";
    Masses = "13", "群众";
});

code_enum!(
    /// 执法岗位 (several may apply to one person).
    PostCode, Post, width 2, {
    ByAuthority = "01", "依职权";
    OnApplication = "02", "依申请";
});

/// Parses one or more post codes: `01`, `1`, `01,02`, `01、02`, `01，02`, `01;02`, `01 02`.
/// The result is sorted and free of duplicates; an empty list is an error.
pub fn parse_posts(input: &str) -> Result<Vec<PostCode>, CodeError> {
    let mut out = Vec::new();
    for part in input
        .split([',', '，', '、', ';', '；', ' ', '\u{3000}', '/'])
        .filter(|p| !p.trim().is_empty())
    {
        out.push(PostCode::parse(part)?);
    }
    if out.is_empty() {
        return Err(CodeError::PostEmpty);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Formats post codes the way the template shows them: `01、02`.
pub fn format_posts(posts: &[PostCode]) -> String {
    posts
        .iter()
        .map(|p| p.code())
        .collect::<Vec<_>>()
        .join("、")
}

/// The 56 officially recognised ethnic groups (GB/T 3304 names).
pub const ETHNICITIES: [&str; 56] = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
];

/// 民族: one of the 56 names, written in full (`汉族`, not `汉`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ethnicity(u8);

impl Ethnicity {
    pub fn parse(input: &str) -> Result<Ethnicity, CodeError> {
        let t = input.trim();
        ETHNICITIES
            .iter()
            .position(|e| *e == t)
            .map(|i| Ethnicity(i as u8))
            .ok_or_else(|| CodeError::Ethnicity(t.to_string()))
    }

    pub fn as_str(self) -> &'static str {
        ETHNICITIES.get(usize::from(self.0)).copied().unwrap_or("")
    }
}

impl TryFrom<String> for Ethnicity {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, CodeError> {
        Ethnicity::parse(&s)
    }
}

impl From<Ethnicity> for String {
    fn from(e: Ethnicity) -> String {
        e.as_str().to_string()
    }
}

/// 证件类型.
/// One type for the forms, the card (EF.CERT) and the protocol; the capitalised
/// spellings are what forms stored before this was unified say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// 行政执法证
    #[serde(alias = "Enforcement")]
    Enforcement,
    /// 委托行政执法证 (records the entrusting authority and its nature)
    #[serde(alias = "Entrusted")]
    Entrusted,
    /// 行政执法监督证
    #[serde(alias = "Supervision")]
    Supervision,
}

impl CertificateKind {
    /// The code written on the card (EF.CERT, docs/PROFILE.md).
    pub const fn code(self) -> u8 {
        match self {
            CertificateKind::Enforcement => 1,
            CertificateKind::Entrusted => 2,
            CertificateKind::Supervision => 3,
        }
    }

    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(CertificateKind::Enforcement),
            2 => Some(CertificateKind::Entrusted),
            3 => Some(CertificateKind::Supervision),
            _ => None,
        }
    }

    pub const ALL: [CertificateKind; 3] = [
        CertificateKind::Enforcement,
        CertificateKind::Entrusted,
        CertificateKind::Supervision,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            CertificateKind::Enforcement => "行政执法证",
            CertificateKind::Entrusted => "委托行政执法证",
            CertificateKind::Supervision => "行政执法监督证",
        }
    }

    pub fn parse(input: &str) -> Result<CertificateKind, CodeError> {
        let t = input.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.name_zh() == t)
            .ok_or_else(|| CodeError::CertificateKind(t.to_string()))
    }
}

/// Parses a date written as `YYYY-MM-DD` (zero-padded, a real calendar date).
pub fn parse_date(input: &str) -> Result<NaiveDate, CodeError> {
    let t = input.trim();
    let b = t.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(CodeError::Date(t.to_string()));
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| CodeError::Date(t.to_string()))
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Parses 是 / 否.
pub fn parse_yes_no(input: &str) -> Result<bool, CodeError> {
    match input.trim() {
        "是" => Ok(true),
        "否" => Ok(false),
        other => Err(CodeError::YesNo(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn political_status_keeps_leading_zero_from_numbers() {
        assert_eq!(
            PoliticalStatus::parse("2"),
            Ok(PoliticalStatus::CpcProbationary)
        );
        assert_eq!(
            PoliticalStatus::parse("2.0"),
            Ok(PoliticalStatus::CpcProbationary)
        );
        assert_eq!(
            PoliticalStatus::parse(" 02 "),
            Ok(PoliticalStatus::CpcProbationary)
        );
        assert_eq!(PoliticalStatus::parse("2").map(|p| p.code()), Ok("02"));
        assert_eq!(
            PoliticalStatus::parse("13").map(|p| p.name_zh()),
            Ok("群众")
        );
        assert_eq!(PoliticalStatus::parse("群众"), Ok(PoliticalStatus::Masses));
    }

    #[test]
    fn political_status_out_of_range_rejected() {
        for bad in ["0", "00", "14", "001", "2.5", "-1", "", "党员", "1e1"] {
            assert!(PoliticalStatus::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PoliticalStatus::ALL.len(), 13);
        assert!(PoliticalStatus::ALL
            .iter()
            .enumerate()
            .all(|(i, p)| p.code() == format!("{:02}", i + 1)));
    }

    #[test]
    fn posts_accept_several_with_any_separator() {
        use PostCode::*;
        assert_eq!(parse_posts("01,02"), Ok(vec![ByAuthority, OnApplication]));
        assert_eq!(parse_posts("02、01"), Ok(vec![ByAuthority, OnApplication]));
        assert_eq!(parse_posts("1，2"), Ok(vec![ByAuthority, OnApplication]));
        assert_eq!(parse_posts("2"), Ok(vec![OnApplication]));
        assert_eq!(parse_posts("2.0"), Ok(vec![OnApplication]));
        assert_eq!(parse_posts("01、01"), Ok(vec![ByAuthority]));
        assert_eq!(parse_posts(" "), Err(CodeError::PostEmpty));
        assert_eq!(parse_posts("01,03"), Err(CodeError::Post("03".into())));
        assert_eq!(format_posts(&[ByAuthority, OnApplication]), "01、02");
    }

    #[test]
    fn ethnicity_table_is_exact() {
        assert_eq!(ETHNICITIES.len(), 56);
        let mut sorted = ETHNICITIES.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 56, "no duplicates");
        assert!(ETHNICITIES
            .iter()
            .all(|e| e.ends_with('族') && e.chars().count() >= 2));
        assert_eq!(Ethnicity::parse("汉族").map(|e| e.as_str()), Ok("汉族"));
        assert!(Ethnicity::parse("蒙古族").is_ok());
        assert!(Ethnicity::parse("基诺族").is_ok());
        for bad in ["汉", "族", "蒙古", "火星族", "", "Han"] {
            assert!(Ethnicity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn certificate_kinds() {
        assert_eq!(
            CertificateKind::parse("委托行政执法证"),
            Ok(CertificateKind::Entrusted)
        );
        assert!(CertificateKind::parse("执法证").is_err());
    }

    #[test]
    fn dates_strict_yyyy_mm_dd() {
        assert_eq!(
            parse_date("2001-01-22"),
            Ok(NaiveDate::from_ymd_opt(2001, 1, 22).expect("d"))
        );
        assert!(parse_date("2024-02-29").is_ok());
        for bad in [
            "2023-02-29",
            "2001-1-22",
            "2001/01/22",
            "20010122",
            "2001-13-01",
            "x",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        let d = NaiveDate::from_ymd_opt(2001, 1, 2).expect("d");
        assert_eq!(parse_date(&format_date(d)), Ok(d));
    }

    #[test]
    fn yes_no() {
        assert_eq!(parse_yes_no("是"), Ok(true));
        assert_eq!(parse_yes_no(" 否"), Ok(false));
        assert!(parse_yes_no("Y").is_err());
    }
}
