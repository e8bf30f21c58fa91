//! The Chinese words of the pages: one edge module makes them from the enums
//! (STYLE: one label table), the JavaScript shows what it is given.

use super::views::Kind;
use crate::storage::{AppState, Role};

pub fn role_zh(role: Role) -> &'static str {
    match role {
        Role::Unit => "单位管理员",
        Role::County => "县级司法局",
        Role::City => "市级司法局",
        Role::Province => "省司法厅",
        Role::Admin => "系统管理员",
    }
}

/// The state as a unit reads it (the three states the guides name, and where in
/// the review an application waits).
pub fn state_zh(state: AppState) -> &'static str {
    match state {
        AppState::Submitted => "待审核",
        AppState::CountyApproved => "待审核（县级已初审，待市级复审）",
        AppState::Approved => "已通过",
        AppState::Rejected => "退回（审核未通过）",
        AppState::Returned => "退回（应单位申请退回修改）",
    }
}

/// A certificate's state (the protocol's one vocabulary) in words.
pub fn certificate_state_zh(state: ecard_sync_protocol::state::CertificateState) -> &'static str {
    use ecard_sync_protocol::state::CertificateState as S;
    match state {
        S::Approved => "已批准（未制卡）",
        S::Issued => "已发证",
        S::Suspended => "已暂停",
        S::Cancelled => "已注销",
        S::Void => "已作废",
        S::Replaced => "已换证",
    }
}

/// A status change in words (as the refusal of one names it).
pub fn status_kind_zh(kind: ecard_sync_protocol::events::StatusKind) -> &'static str {
    use ecard_sync_protocol::events::StatusKind as K;
    match kind {
        K::Suspend => "暂停",
        K::Lift => "恢复",
        K::Cancel => "注销",
        K::Replace => "换证",
        K::Reissue => "补证",
    }
}

/// Why status change `kind` does not apply to a certificate in `state`.
pub fn transition_refused_zh(
    number: &str,
    state: ecard_sync_protocol::state::CertificateState,
    kind: ecard_sync_protocol::events::StatusKind,
) -> String {
    format!(
        "证号{number}当前状态为{}，不能{}",
        certificate_state_zh(state),
        status_kind_zh(kind)
    )
}

pub fn kind_zh(kind: Kind) -> &'static str {
    match kind {
        Kind::New => "新申领",
        Kind::Replacement => "换证",
        Kind::Reissue => "补证",
        Kind::Review => "年审",
    }
}

/// A proof material's checked type (`workflow::materials::MaterialType`) in words.
pub fn material_type_zh(media_type: &str) -> &'static str {
    use crate::workflow::materials::MaterialType;
    match MaterialType::parse(media_type) {
        Some(MaterialType::Pdf) => "PDF 文件",
        Some(MaterialType::Jpeg) => "JPEG 图片",
        Some(MaterialType::Png) => "PNG 图片",
        None => "未知类型",
    }
}

/// Every kind with its words, for the kind filter.
pub fn kinds() -> Vec<Choice> {
    Kind::ALL
        .into_iter()
        .map(|k| Choice {
            value: k.as_str(),
            label: kind_zh(k),
        })
        .collect()
}

/// Every state with its words, in the order the filters offer them.
pub fn states() -> Vec<Choice> {
    [
        AppState::Submitted,
        AppState::CountyApproved,
        AppState::Approved,
        AppState::Rejected,
        AppState::Returned,
    ]
    .into_iter()
    .map(|s| Choice {
        value: s.as_str(),
        label: state_zh(s),
    })
    .collect()
}

/// A filter's option: the code a request sends and the words shown.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

pub fn action_zh(action: &str) -> &str {
    match action {
        "submit" => "提交申请",
        "resubmit" => "修改后重新提交",
        "edit" => "修改申请",
        "approve" => "审核通过",
        "reject" => "审核不通过，退回",
        "send_back" => "已通过的申请退回修改",
        "officer_corrected" => "更正人员信息",
        other => other,
    }
}

pub fn level_zh(level: &str) -> &str {
    match level {
        "county" => "县级初审",
        "city" => "市级复审",
        "province" => "省级审核",
        other => other,
    }
}

/// A correction logged on approval (`{old, new}` of name, gender, ethnicity, birth
/// date, photo digest) in words: 「姓名：钱七 → 张三；照片已更换」.
pub fn correction_zh(logged: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(logged) else {
        return logged.to_owned();
    };
    let word = |key: &str, x: &serde_json::Value| -> String {
        match (key, x.as_str()) {
            ("gender", Some("male")) => "男".into(),
            ("gender", Some("female")) => "女".into(),
            (_, Some(s)) => s.to_owned(),
            _ => "（无）".into(),
        }
    };
    let mut parts = Vec::new();
    for (key, label) in [
        ("name", "姓名"),
        ("gender", "性别"),
        ("ethnicity", "民族"),
        ("birth_date", "出生日期"),
    ] {
        let (old, new) = (&v["old"][key], &v["new"][key]);
        if old != new {
            parts.push(format!("{label}：{} → {}", word(key, old), word(key, new)));
        }
    }
    if v["old"]["photo_sha256"] != v["new"]["photo_sha256"] {
        parts.push("照片已更换".into());
    }
    if parts.is_empty() {
        "人员信息已更新".into()
    } else {
        parts.join("；")
    }
}

/// The public seal check's words for a certificate's state (`GET /public/v1/check`).
pub fn public_state_zh(state: crate::storage::PublicState) -> &'static str {
    use crate::storage::PublicState as S;
    match state {
        S::Valid => "有效",
        S::Suspended => "已暂停",
        S::Cancelled => "已注销",
        S::Replaced => "已换证（原证已注销）",
        S::Void => "已作废",
        S::CardVoid => "此卡已作废（证件已制发新卡）",
        S::NotYetRecorded => "登记中心尚未收到制证记录",
        S::NotFound => "不存在",
        S::Expired => "已过有效期",
    }
}

/// Where a certificate stands with its annual review, as the public check says it.
pub fn review_standing_zh(standing: &ecard_domain::validity::ReviewStanding) -> String {
    use ecard_domain::validity::ReviewStanding as R;
    match standing {
        R::Exempt => "本年度发证，尚无年审要求".into(),
        R::UpToDate { year } => format!("{year}年度已年审"),
        R::Due { year, deadline } => format!("{year}年度待年审（截止{deadline}）"),
        R::Overdue { year } => format!("{year}年度逾期未年审"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_correction_reads_as_words_not_json() {
        let logged = r#"{"new":{"birth_date":"1949-12-31","gender":"female","name":"张三","photo_sha256":"ab"},"old":{"birth_date":"1949-12-31","gender":"male","name":"钱七","photo_sha256":null}}"#;
        assert_eq!(
            correction_zh(logged),
            "姓名：钱七 → 张三；性别：男 → 女；照片已更换"
        );
        assert_eq!(correction_zh("not json"), "not json");
    }

    #[test]
    fn every_public_state_has_its_own_word_and_code() {
        use crate::storage::PublicState;
        let words: std::collections::BTreeSet<_> = PublicState::ALL
            .iter()
            .map(|s| public_state_zh(*s))
            .collect();
        let codes: std::collections::BTreeSet<_> =
            PublicState::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(words.len(), PublicState::ALL.len());
        assert_eq!(codes.len(), PublicState::ALL.len());
        assert_eq!(public_state_zh(PublicState::Cancelled), "已注销");
        assert_eq!(public_state_zh(PublicState::NotFound), "不存在");
    }
}
