//! The one shape of a self-check report, shared by `ecardd doctor` (and 设置's 自检)
//! and `ecard-registry doctor`: findings ok / warning / fault, each in Chinese and
//! English with what to do, the worst deciding the exit status. The checks
//! themselves stay with each program; only the report is common, so an operator's
//! script reads both the same way.

use serde::Serialize;

/// How bad a finding is. Ordered: the report's worst decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Ok,
    /// Works, but something needs attention (a reader missing, a list ageing).
    Warning,
    /// Something the program needs is broken (no pcscd, a corrupt database).
    Fault,
}

impl Level {
    pub fn zh(self) -> &'static str {
        match self {
            Level::Ok => "正常",
            Level::Warning => "注意",
            Level::Fault => "故障",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Which check (`pcscd`, `database`, `clock`, `signing_key`, …).
    pub check: &'static str,
    pub level: Level,
    /// Stable code of what was found, for programs (`pcscd_unreachable`).
    pub code: &'static str,
    pub zh: String,
    pub en: String,
    /// What to do (absent when all is well).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_zh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_en: Option<String>,
}

impl Finding {
    /// All is well.
    pub fn ok(
        check: &'static str,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            check,
            level: Level::Ok,
            code,
            zh: zh.into(),
            en: en.into(),
            fix_zh: None,
            fix_en: None,
        }
    }

    /// A warning or a fault, with what to do.
    pub fn bad(
        check: &'static str,
        level: Level,
        code: &'static str,
        (zh, en): (String, String),
        (fix_zh, fix_en): (&str, &str),
    ) -> Self {
        Self {
            check,
            level,
            code,
            zh,
            en,
            fix_zh: Some(fix_zh.to_owned()),
            fix_en: Some(fix_en.to_owned()),
        }
    }
}

/// All findings, in check order.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub worst: Level,
    pub findings: Vec<Finding>,
}

/// Exit status of a doctor whose worst finding is a warning.
pub const EXIT_WARNING: u8 = 7;
/// Exit status of a doctor when anything is a fault.
pub const EXIT_FAULT: u8 = 8;

impl Report {
    pub fn new(findings: Vec<Finding>) -> Self {
        let worst = findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok);
        Self { worst, findings }
    }

    /// 0 all ok, [`EXIT_WARNING`], [`EXIT_FAULT`].
    pub fn exit_status(&self) -> u8 {
        match self.worst {
            Level::Ok => 0,
            Level::Warning => EXIT_WARNING,
            Level::Fault => EXIT_FAULT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_finding_decides_the_exit_status_and_the_json_shape_is_stable() {
        let ok = Finding::ok("clock", "clock_ok", "时钟正常", "clock ok");
        assert_eq!(Report::new(vec![]).exit_status(), 0);
        assert_eq!(Report::new(vec![ok.clone()]).exit_status(), 0);
        let warn = Finding::bad(
            "readers",
            Level::Warning,
            "reader_missing",
            ("缺少读卡器".into(), "a reader is missing".into()),
            ("插入读卡器", "plug the reader in"),
        );
        let fault = Finding::bad(
            "database",
            Level::Fault,
            "database_corrupt",
            ("数据库损坏".into(), "database corrupt".into()),
            ("从备份恢复", "restore from backup"),
        );
        assert_eq!(
            Report::new(vec![ok.clone(), warn.clone()]).exit_status(),
            EXIT_WARNING
        );
        let all = Report::new(vec![ok, fault, warn]);
        assert_eq!(all.worst, Level::Fault);
        assert_eq!(all.exit_status(), EXIT_FAULT);
        let json = serde_json::to_value(&all).expect("json");
        assert_eq!(json["worst"], "fault");
        assert_eq!(json["findings"][0]["level"], "ok");
        assert!(json["findings"][0].get("fix_zh").is_none());
        assert_eq!(json["findings"][1]["fix_en"], "restore from backup");
    }
}
