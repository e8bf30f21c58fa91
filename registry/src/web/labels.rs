//! The Chinese words of the pages: one edge module makes them from the enums
//! (STYLE: one label table), the JavaScript shows what it is given.

use crate::storage::{AppState, Role};

pub fn role_zh(role: Role) -> &'static str {
    match role {
        Role::Unit => "单位管理员",
        Role::County => "县级司法局",
        Role::City => "市级司法局",
        Role::Province => "省司法厅",
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
